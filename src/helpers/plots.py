"""Figures of the audit, drawn from the tables :mod:`helpers.stats` produces.

Every function returns a :class:`matplotlib.figure.Figure` built without pyplot (so no GUI backend is
touched) and takes ``title``, ``weights`` and ``note``. The header above the plot holds, top to bottom:
a banner when the numbers are not a real measurement — red ``RANDOM WEIGHTS`` for random weights,
amber ``TOY WORLD`` for the toy world — the title, and the note (e.g. "real works are stand-ins made by
the generator"). :func:`save` writes the PNG and returns a :class:`SavedFigure`, which a notebook shows
as an image (inline PNG under papermill and in JupyterLab) when it is a cell's last value.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure

from . import stats
from .errors import AuditError

__all__ = [
    "RANDOM_BANNER",
    "TOY_BANNER",
    "SavedFigure",
    "accuracy_bars",
    "confusion_heatmap",
    "own_other_distributions",
    "sorted_pvalues",
    "sample_size_curve",
    "embedding_map",
    "selection_counts",
    "image_grid",
    "save",
]

RANDOM_BANNER = "RANDOM WEIGHTS — not a measurement of any real model"
TOY_BANNER = "TOY WORLD — fictional artists, models trained here"

_WEIGHTS = ("pretrained", "random", "toy")
_BANNERS = {"random": (RANDOM_BANNER, "#d62728"), "toy": (TOY_BANNER, "#b8860b")}
_LINE_IN = 0.34  # height of one header line, inches
_MAX_TICK_LABELS = 80  # beyond this many names, tick labels are unreadable and are left out
_LEGEND_OUTSIDE = {"loc": "upper left", "bbox_to_anchor": (1.01, 1.0), "fontsize": 8}
_OWN_OTHER = {"own": "#1b9e77", "other": "#bbbbbb"}


def accuracy_bars(
    acc_table: pd.DataFrame,
    *,
    chance: float,
    random_names: float | pd.DataFrame | None = None,
    title: str,
    weights: str,
    note: str | None = None,
) -> Figure:
    """Per-name accuracy as bars, highest first, with each name's interval as an error bar.

    Horizontal lines mark ``chance`` (1/K), the mean over names of ``acc_table``, and, if given, the
    random-names baseline (a mean accuracy, or its accuracy table, whose mean is taken).
    """
    table = _columns(acc_table, ("name", "accuracy", "ci_low", "ci_high"), "accuracy_bars", "accuracy_table")
    table = table.sort_values(["accuracy", "name"], ascending=[False, True], kind="stable")
    n = len(table)
    fig, ax = _figure(min(max(6.0, 0.2 * n + 2), 30.0), 5.0, title=title, weights=weights, note=note)
    x = np.arange(n)
    acc = table["accuracy"].to_numpy(float)
    err = np.vstack([acc - table["ci_low"].to_numpy(float), table["ci_high"].to_numpy(float) - acc])
    ax.bar(x, acc, color="#4c72b0", width=0.8, label="accuracy (bar) and interval")
    ax.errorbar(x, acc, yerr=np.clip(err, 0, None), fmt="none", ecolor="black", elinewidth=0.8, capsize=2)
    mean = stats.mean_accuracy(table)
    ax.axhline(mean, color="#4c72b0", linestyle="-", linewidth=1.2, label=f"mean over names = {mean:.3f}")
    ax.axhline(chance, color="black", linestyle="--", linewidth=1.2, label=f"chance = {chance:.3f}")
    if random_names is not None:
        baseline = (
            stats.mean_accuracy(random_names)
            if isinstance(random_names, pd.DataFrame)
            else float(random_names)
        )
        ax.axhline(
            baseline, color="#dd8452", linestyle=":", linewidth=2, label=f"random names = {baseline:.3f}"
        )
    if n <= _MAX_TICK_LABELS:
        ax.set_xticks(x, [str(name) for name in table["name"]], rotation=90, fontsize=7)
    else:
        ax.set_xticks([])
    ax.set_xlim(-0.6, n - 0.4)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("top-1 accuracy")
    ax.legend(**_LEGEND_OUTSIDE)
    return fig


def confusion_heatmap(
    matrix: np.ndarray,
    names: list,
    order_by_accuracy: bool = True,
    *,
    title: str,
    weights: str,
    note: str | None = None,
) -> Figure:
    """Row-normalised confusion matrix: cell (t, p) = share of name t's images matched to name p.

    With ``order_by_accuracy`` rows and columns are sorted by the diagonal share, highest first.
    """
    counts = np.asarray(matrix, dtype=float)
    names = list(names)
    if counts.ndim != 2 or counts.shape != (len(names), len(names)):
        raise AuditError(
            f"the matrix has shape {counts.shape} but there are {len(names)} names",
            where="confusion_heatmap",
            fix="pass the [K, K] matrix from stats.confusion_matrix with its K names",
        )
    totals = counts.sum(axis=1, keepdims=True)
    share = np.divide(counts, totals, out=np.zeros_like(counts), where=totals > 0)
    order = np.argsort(-np.diag(share), kind="stable") if order_by_accuracy else np.arange(len(names))
    share = share[np.ix_(order, order)]
    side = min(max(5.0, 0.16 * len(names) + 3), 30.0)
    fig, ax = _figure(side + 1.2, side, title=title, weights=weights, note=note)
    labels = [str(names[i]) for i in order] if len(names) <= _MAX_TICK_LABELS else False
    sns.heatmap(
        share,
        ax=ax,
        vmin=0,
        vmax=1,
        cmap="viridis",
        square=True,
        xticklabels=labels,
        yticklabels=labels,
        cbar_kws={"label": "share of the row's images"},
    )
    ax.set_xlabel("matched name (prediction)")
    ax.set_ylabel("prompted name (truth)")
    return fig


def own_other_distributions(
    long_df: pd.DataFrame, *, title: str, weights: str, note: str | None = None
) -> Figure:
    """Per artist, box plots of ``s_a(i)`` for its own imitations against every other artist's.

    Artists are sorted by the gap between the median own and median other score, largest first.
    """
    data = _columns(
        long_df, ("artist", "kind", "similarity"), "own_other_distributions", "own_other_similarities"
    )
    medians = data.groupby(["artist", "kind"], sort=False)["similarity"].median().unstack()
    gap = medians.get("own", pd.Series(dtype=float)) - medians.get("other", pd.Series(dtype=float))
    order = gap.sort_values(ascending=False, kind="stable").index.tolist()
    fig, ax = _figure(
        8.0, min(max(3.0, 0.3 * len(order) + 1.5), 40.0), title=title, weights=weights, note=note
    )
    sns.boxplot(
        data=data,
        x="similarity",
        y="artist",
        hue="kind",
        order=order,
        hue_order=["own", "other"],
        palette=_OWN_OTHER,
        orient="h",
        fliersize=1.5,
        linewidth=0.8,
        ax=ax,
    )
    ax.set_xlabel("s(i): similarity of the artist's real works to imitation i")
    ax.set_ylabel("")
    if len(order) > _MAX_TICK_LABELS:
        ax.set_yticks([])
    ax.legend(title="imitations", loc="lower right", fontsize=8)
    return fig


def sorted_pvalues(
    validation_table: pd.DataFrame,
    alpha: float,
    correction: str,
    *,
    title: str,
    weights: str,
    note: str | None = None,
) -> Figure:
    """Raw p-values in ascending order (log scale) against the corrected rejection threshold.

    The threshold for the i-th smallest of m p-values is ``alpha/m`` (Bonferroni),
    ``alpha/(m - i + 1)`` (Holm) or ``alpha·i/m`` (Benjamini–Hochberg); points are filled when the
    table marks the artist significant.
    """
    table = _columns(validation_table, ("p_value", "significant"), "sorted_pvalues", "validation_table")
    table = table.sort_values("p_value", kind="stable")
    p = np.clip(table["p_value"].to_numpy(float), 1e-300, 1)
    significant = table["significant"].to_numpy(bool)
    m = len(p)
    rank = np.arange(1, m + 1)
    thresholds = {
        "bonferroni": np.full(m, alpha / m) if m else np.empty(0),
        "holm": alpha / (m - rank + 1),
        "fdr_bh": alpha * rank / max(m, 1),
    }
    if correction not in thresholds:
        raise AuditError(
            f"unknown correction {correction!r}", where="sorted_pvalues", fix=f"use one of {list(thresholds)}"
        )
    fig, ax = _figure(9.0, 4.5, title=title, weights=weights, note=note)
    ax.set_yscale("log")
    ax.step(rank, thresholds[correction], where="mid", color="#c44e52", linewidth=1.5,
            label=f"{correction} threshold (alpha = {alpha:g}, m = {m})")  # fmt: skip
    ax.axhline(alpha, color="grey", linestyle=":", linewidth=1, label=f"uncorrected alpha = {alpha:g}")
    ax.scatter(rank[significant], p[significant], color="#4c72b0", s=22, zorder=3,
               label=f"significant ({significant.sum()} of {m})")  # fmt: skip
    ax.scatter(rank[~significant], p[~significant], facecolors="none", edgecolors="#4c72b0", s=22, zorder=3,
               label="not significant")  # fmt: skip
    ax.set_xlabel("artists, by raw p-value")
    ax.set_ylabel("raw one-sided p-value")
    ax.legend(**_LEGEND_OUTSIDE)
    return fig


def sample_size_curve(
    curve_df: pd.DataFrame,
    *,
    title: str,
    weights: str,
    note: str | None = None,
    chance: float | None = None,
) -> Figure:
    """Mean accuracy over names against images per name, with the band between ``ci_low`` and ``ci_high``."""
    curve = _columns(curve_df, stats.CURVE_COLUMNS, "sample_size_curve", "stats.sample_size_curve")
    curve = curve.sort_values("n_images")
    fig, ax = _figure(9.0, 4.5, title=title, weights=weights, note=note)
    n = curve["n_images"].to_numpy(float)
    ax.fill_between(n, curve["ci_low"].to_numpy(float), curve["ci_high"].to_numpy(float),
                    color="#4c72b0", alpha=0.25, label="interval over subsamples")  # fmt: skip
    ax.plot(n, curve["mean_accuracy"].to_numpy(float), color="#4c72b0", marker="o", markersize=3,
            label="mean accuracy over names")  # fmt: skip
    if chance is not None:
        ax.axhline(chance, color="black", linestyle="--", linewidth=1.2, label=f"chance = {chance:.3f}")
    ax.set_ylim(0, 1.05)
    ax.set_xlabel("images per name")
    ax.set_ylabel("mean top-1 accuracy")
    ax.legend(**_LEGEND_OUTSIDE)
    return fig


def embedding_map(
    vectors: np.ndarray, names: list, *, title: str, weights: str, note: str | None = None
) -> Figure:
    """Rows of ``vectors`` on their first two principal components (:func:`stats.principal_components`).

    One colour per entry of ``names`` (one name per row); a legend is drawn for up to 20 names.
    """
    labels = np.asarray(list(names), dtype=object)
    coords = stats.principal_components(vectors, 2)
    if labels.size != coords.shape[0]:
        raise AuditError(
            f"{labels.size} names for {coords.shape[0]} vectors",
            where="embedding_map",
            fix="give one name per row of vectors",
        )
    fig, ax = _figure(7.0, 6.0, title=title, weights=weights, note=note)
    distinct = list(dict.fromkeys(labels.tolist()))
    palette = sns.color_palette("husl", len(distinct))
    for colour, name in zip(palette, distinct, strict=True):
        rows = labels == name
        ax.scatter(coords[rows, 0], coords[rows, 1], s=12, color=colour, label=str(name), alpha=0.8)
    ax.set_xlabel("principal component 1")
    ax.set_ylabel("principal component 2")
    if len(distinct) <= 20:
        ax.legend(fontsize=7, markerscale=1.5, loc="best")
    return fig


def selection_counts(
    table: pd.DataFrame, *, min_images: int, title: str, weights: str, note: str | None = None
) -> Figure:
    """Caption mentions per candidate (log scale), selected ones coloured, with the ``> min_images`` line.

    ``table`` is the selection table (``artist, caption_count, selected``); candidates without a count
    (no metadata) are drawn at zero and the note should say so.
    """
    table = _columns(table, ("artist", "caption_count", "selected"), "selection_counts", "selection.select")
    counts = pd.to_numeric(table["caption_count"], errors="coerce").fillna(0).to_numpy(float)
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
    m["index"] = pd.to_numeric(m["index"])
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


class SavedFigure:
    """A figure written as a PNG file: shown as that image when it is a notebook cell's last value."""

    def __init__(self, path: Path):
        self.path = Path(path)

    def _repr_png_(self) -> bytes:
        return self.path.read_bytes()

    def __repr__(self) -> str:
        return f"SavedFigure({str(self.path)!r})"


def save(fig: Figure, path: str | Path) -> SavedFigure:
    """Write ``fig`` as a PNG at 120 dpi to ``path`` (parent folders created) and close it; the result shows
    the PNG in a notebook."""
    path = Path(path)
    if path.suffix.lower() != ".png":
        raise AuditError(f"{path} does not end in .png", where="plots.save", fix="save figures as .png files")
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120, format="png")
    if fig.canvas.manager is not None:  # a pyplot-managed figure: drop pyplot's reference too
        import matplotlib.pyplot as plt

        plt.close(fig)
    return SavedFigure(path)


def _figure(width: float, height: float, *, title: str, weights: str, note: str | None):
    """A figure whose top holds the header lines (banner, title, note) and whose rest holds one axes."""
    if weights not in _WEIGHTS:
        raise AuditError(
            f"weights must be one of {list(_WEIGHTS)}, got {weights!r}",
            where="plots",
            fix="pass helpers.provenance.weights(params)",
        )
    banner = _BANNERS.get(weights)
    lines = [(banner[0], "banner")] if banner else []
    lines.append((str(title), "title"))
    if note:
        lines.append((str(note), "note"))
    header = 0.12 + _LINE_IN * len(lines)
    width = max(width, 8.5)  # room for the banner's full text
    fig = Figure(figsize=(width, height + header), layout="constrained")
    fig.get_layout_engine().set(rect=(0, 0, 1, height / (height + header)))
    style = {
        "banner": {"color": "white", "fontsize": 13, "fontweight": "bold",
                   "bbox": {"facecolor": banner and banner[1], "edgecolor": banner and banner[1],
                            "boxstyle": "square,pad=0.3"}},
        "title": {"fontsize": 12, "fontweight": "bold"},
        "note": {"fontsize": 10, "fontstyle": "italic", "color": "#444444"},
    }  # fmt: skip
    for i, (text, kind) in enumerate(lines):
        y = 1 - (0.08 + _LINE_IN * (i + 0.5)) / (height + header)
        fig.text(0.5, y, text, ha="center", va="center", **style[kind])
    if banner:
        fig.patch.set_edgecolor(banner[1])
        fig.patch.set_linewidth(6)
    return fig, fig.add_subplot()


def _columns(table: pd.DataFrame, needed, where: str, source: str) -> pd.DataFrame:
    missing = [c for c in needed if c not in getattr(table, "columns", ())]
    if missing:
        raise AuditError(f"the table lacks columns {missing}", where=where, fix=f"pass a table from {source}")
    if len(table) == 0:
        raise AuditError("the table is empty", where=where, fix=f"pass a non-empty table from {source}")
    return table
