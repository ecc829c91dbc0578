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
real works' ceiling and against caption exposure, configurations side by side, the signal against the strength
of post-processing), ``controls`` (the calibration of the validation tests under their negative controls).

The submodules load on first use (:func:`__getattr__`): matplotlib and seaborn cost about two seconds to
import, which every stage module, the selection and scoring CLIs and each generation process would
otherwise pay just to import a stage that draws nothing until its run ends.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "RANDOM_BANNER": "_base",
    "TOY_BANNER": "_base",
    "SavedFigure": "_base",
    "CAPTIONS": "captions",
    "InlineFigure": "_base",
    "inline": "_base",
    "save": "_base",
    "accuracy_bars": "accuracy",
    "confusion_heatmap": "accuracy",
    "sample_size_curve": "accuracy",
    "calibration": "controls",
    "accuracy_vs_captions": "comparisons",
    "accuracy_vs_ceiling": "comparisons",
    "forest": "comparisons",
    "transform_curves": "comparisons",
    "captioned_grid": "inputs",
    "image_grid": "inputs",
    "selection_counts": "inputs",
    "embedding_map": "similarity",
    "own_other_distributions": "similarity",
    "sorted_pvalues": "similarity",
}
"""Each public name and the submodule that defines it."""

__all__ = list(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
