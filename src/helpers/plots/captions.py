"""What each figure shows, by figure name (the PNG file's stem) — said once: the report prints it under the
figure, and a notebook shows it under the figure when the figure is a cell's value
(:class:`helpers.plots.SavedFigure`). A notebook's own text says why the figure is there, not what it shows."""

from __future__ import annotations

import base64
import html
from pathlib import Path

__all__ = ["CAPTIONS", "figure_html"]

CAPTIONS = {
    "selection_counts": "How many captions name each candidate artist (log scale). Green bars were selected; "
    "the dashed line is the threshold (strictly more captions than selection.min_images).",
    "generated_examples": "A few generated images per name, for the artists and for the random-names baseline.",
    "embedding_map": "The imitations' CLIP embeddings on their first two principal components, one colour per "
    "artist. Tight, separate clusters mean the model gives each artist a recognisable style.",
    "accuracy_per_artist": "Top-1 accuracy per artist: how often CLIP names the artist whose name was in the "
    "prompt, with a 95% interval per artist. Lines: the mean over artists, chance (1/K) and the random-names "
    "baseline.",
    "confusion": "Who is mistaken for whom: row = prompted artist, column = predicted artist, each row's shares "
    "summing to 1; ordered by accuracy.",
    "sample_size": "Mean accuracy had each artist only n images (seeded subsamples, with their spread): how "
    "stable the headline is for the number of images generated.",
    "accuracy_vs_ceiling": "Each artist's imitation accuracy against the ceiling: how often CLIP names the artist "
    "from their real works with the same label prompts. On the diagonal, imitations are as recognisable as "
    "the originals.",
    "accuracy_vs_captions": "Per-artist accuracy against the number of captions naming the artist (log scale), "
    "with the selection threshold and Spearman's rank correlation: does exposure in the training captions "
    "make imitation work better? The purple curve is accuracy fitted against exposure (from chance towards 1), "
    "the dotted line the exposure threshold where it reaches classification.exposure_level, shaded its "
    "bootstrap interval over artists.",
    "own_vs_other": "Validation: for each artist, the similarity of their real works to their own imitations "
    "(green) and to every other artist's (grey). Own above other means the imitations resemble the real work.",
    "pvalues": "The paper's test (imitations as independent): its one-sided rank-sum p-value per artist (log "
    "scale), against the corrected threshold; filled points are significant. These p-values are too small: see "
    "the calibration figure.",
    "calibration": "Are the validation tests calibrated? Left: on the negative controls (each artist given another "
    "artist's works; random-name imitations standing in for the artists'), where no artist is imitated, the share "
    "of p-values at or below each level α — a calibrated test lies on or below the diagonal. Right: the share of "
    "artists each test calls significant on the true pairing beside its false-positive rate on the controls, with "
    "Wilson intervals.",
    "forest": "Mean top-1 accuracy over artists per configuration, with its bootstrap interval over artists; "
    "the dashed line is the paper's 81.0%.",
    "transforms": "The signal against post-processing (params transforms): per kind of processing, the mean accuracy "
    "(with its interval over artists) and the share of artists the artist-level test validates at each strength, "
    "stronger to the right, beside the untransformed images (dashed) and chance (dotted). The paired differences "
    "say artist by artist which moves are more than luck.",
}


def figure_html(path: Path, caption: str, *, inline_style: bool = False) -> str:
    """A saved figure as HTML: the PNG inline (base64), its name and ``caption`` under it. ``inline_style`` for
    pages without the report's stylesheet (a notebook's output)."""
    data = base64.b64encode(Path(path).read_bytes()).decode()
    name = html.escape(Path(path).stem)
    figure, below = (
        ('<figure style="margin:0">', '<figcaption style="max-width:900px;color:#444">')
        if inline_style
        else ("<figure>", "<figcaption>")
    )
    return (
        f'{figure}<img alt="{name}" src="data:image/png;base64,{data}">'
        f"{below}<b>{name}</b> — {html.escape(caption)}</figcaption></figure>"
    )
