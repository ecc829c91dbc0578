"""Figures of the audit's inputs: the selected candidates and a grid of generated images."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from ..errors import AuditError
from ._base import _LEGEND_OUTSIDE, _MAX_TICK_LABELS, _columns, _figure


def selection_counts(
    table: pd.DataFrame, *, min_images: int, title: str, weights: str, note: str | None = None
) -> Figure:
    """Caption mentions per candidate (log scale), selected ones coloured, with the ``> min_images`` line.

    ``table`` is the selection table (``artist, caption_count, selected``); candidates without a count
    (no metadata) are drawn at zero and the note should say so.
    """
    table = _columns(table, ("artist", "caption_count", "selected"), "selection_counts", "selection.select")
    counts = table["caption_count"].astype(float).fillna(0).to_numpy()
    order = np.argsort(-counts, kind="stable")
    n = len(order)
    fig, ax = _figure(min(max(6.0, 0.18 * n + 2), 30.0), 5.0, title=title, weights=weights, note=note)
    chosen = table["selected"].astype(bool).to_numpy()[order]
    colours = np.where(chosen, "#1b9e77", "#bbbbbb")
    ax.bar(np.arange(n), counts[order] + 1, color=colours)
    ax.set_yscale("log")
    ax.axhline(min_images + 1, color="black", linestyle="--", linewidth=1.2, label=f"> {min_images} captions")
    if n <= _MAX_TICK_LABELS:
        ax.set_xticks(np.arange(n), table["artist"].to_numpy()[order], rotation=90, fontsize=7)
    else:
        ax.set_xticks([])
    ax.set_ylabel("captions mentioning the name (+1, log scale)")
    from matplotlib.patches import Patch

    handles = ax.get_legend_handles_labels()[0]
    handles += [Patch(color="#1b9e77", label="selected"), Patch(color="#bbbbbb", label="excluded")]
    ax.legend(handles=handles, **_LEGEND_OUTSIDE)
    return fig


def captioned_grid(
    items: list[tuple[str | Path, str, bool | None]],
    *,
    columns: int = 5,
    title: str,
    weights: str,
    note: str | None = None,
) -> Figure:
    """Images with a caption under each: ``items`` are ``(path, caption, ok)``; ``ok`` colours the caption
    green (True), red (False) or grey (None)."""
    from PIL import Image

    if not items:
        raise AuditError("no images to show", where="captioned_grid", fix="pass at least one image")
    rows = -(-len(items) // columns)
    fig, single = _figure(2.0 * columns, 2.2 * rows, title=title, weights=weights, note=note)
    single.remove()
    axes = fig.subplots(rows, columns, squeeze=False)
    colours = {True: "#1b7a3a", False: "#b00020", None: "#444444"}
    for k, ax in enumerate(axes.flat):
        ax.set_axis_off()
        if k < len(items):
            path, caption, ok = items[k]
            with Image.open(path) as img:
                ax.imshow(np.asarray(img.convert("RGB")))
            ax.set_title(caption, fontsize=7, color=colours[ok])
    return fig


def image_grid(
    manifest: pd.DataFrame,
    root: str | Path,
    *,
    names_per_group: int = 4,
    per_name: int = 3,
    title: str,
    weights: str,
    note: str | None = None,
) -> Figure:
    """A grid of generated images: the first ``names_per_group`` names of each group, ``per_name`` each.

    ``manifest`` is ``images/manifest.csv`` (``group, name, index, path``); paths are relative to ``root``.
    """
    from PIL import Image

    m = _columns(manifest, ("group", "name", "index", "path"), "image_grid", "images/manifest.csv").copy()
    rows = []
    for group, g in m.groupby("group", sort=True):
        for name in list(dict.fromkeys(g["name"]))[:names_per_group]:
            label = f"{group}:\n{name if len(name) <= 24 else name[:23] + '…'}"
            rows.append((label, g[g["name"] == name].sort_values("index")["path"].tolist()[:per_name]))
    fig, single = _figure(1.6 * per_name + 2.5, 1.6 * len(rows), title=title, weights=weights, note=note)
    single.remove()  # the grid replaces the single axes; the header texts stay
    axes = fig.subplots(len(rows), per_name, squeeze=False)
    for r, (name, paths) in enumerate(rows):
        for c in range(per_name):
            ax = axes[r, c]
            ax.set_axis_off()
            if c < len(paths):
                with Image.open(Path(root) / paths[c]) as img:
                    ax.imshow(np.asarray(img.convert("RGB")))
        axes[r, 0].set_axis_on()
        axes[r, 0].set_xticks([])
        axes[r, 0].set_yticks([])
        axes[r, 0].set_ylabel(name, rotation=0, ha="right", va="center", fontsize=8)
    return fig
