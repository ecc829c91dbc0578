"""Figures of the audit, drawn from the tables :mod:`helpers.stats` and :mod:`helpers.significance` produce.

Every function returns a :class:`matplotlib.figure.Figure` built without pyplot (so no GUI backend is
touched) and takes ``title``, ``weights`` and ``note``. The header above the plot holds, top to bottom:
a banner when the numbers are not a real measurement — red ``RANDOM WEIGHTS`` for random weights,
amber ``TOY WORLD`` for the toy world — the title, and the note (e.g. "real works are stand-ins made by
the generator"). :func:`save` writes the PNG and returns a :class:`SavedFigure`, which a notebook shows
as an image (inline PNG under papermill and in JupyterLab) when it is a cell's last value.

One module per concern, all re-exported here (``from helpers import plots; plots.accuracy_bars(...)``):
``_base`` (the header, the table check, saving), ``accuracy`` (classification), ``similarity``
(validation, embeddings), ``inputs`` (selection, generated images), ``comparisons`` (accuracy against the
real works' ceiling and against caption exposure, configurations side by side).
"""

from __future__ import annotations

from ._base import RANDOM_BANNER, TOY_BANNER, InlineFigure, SavedFigure, inline, save
from .accuracy import accuracy_bars, confusion_heatmap, sample_size_curve
from .comparisons import accuracy_vs_captions, accuracy_vs_ceiling, forest
from .inputs import captioned_grid, image_grid, selection_counts
from .similarity import embedding_map, own_other_distributions, sorted_pvalues

__all__ = [
    "RANDOM_BANNER",
    "TOY_BANNER",
    "SavedFigure",
    "InlineFigure",
    "inline",
    "captioned_grid",
    "accuracy_bars",
    "confusion_heatmap",
    "own_other_distributions",
    "sorted_pvalues",
    "sample_size_curve",
    "embedding_map",
    "selection_counts",
    "image_grid",
    "accuracy_vs_ceiling",
    "accuracy_vs_captions",
    "forest",
    "save",
]
