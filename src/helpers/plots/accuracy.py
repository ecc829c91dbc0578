"""Figures of classification: per-name accuracy, the confusion matrix, the sample-size curve."""

from __future__ import annotations

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure

from .. import stats
from ..errors import AuditError
from ._base import _LEGEND_OUTSIDE, _MAX_TICK_LABELS, _columns, _figure


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
        baseline = stats.mean_accuracy(random_names) if isinstance(random_names, pd.DataFrame) else float(random_names)
        ax.axhline(baseline, color="#dd8452", linestyle=":", linewidth=2, label=f"random names = {baseline:.3f}")
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
    ax.fill_between(
        n,
        curve["ci_low"].to_numpy(float),
        curve["ci_high"].to_numpy(float),
        color="#4c72b0",
        alpha=0.25,
        label="interval over subsamples",
    )
    ax.plot(
        n,
        curve["mean_accuracy"].to_numpy(float),
        color="#4c72b0",
        marker="o",
        markersize=3,
        label="mean accuracy over names",
    )
    if chance is not None:
        ax.axhline(chance, color="black", linestyle="--", linewidth=1.2, label=f"chance = {chance:.3f}")
    ax.set_ylim(0, 1.05)
    ax.set_xlabel("images per name")
    ax.set_ylabel("mean top-1 accuracy")
    ax.legend(**_LEGEND_OUTSIDE)
    return fig
