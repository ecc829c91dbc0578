"""Figures of similarity: own against other imitations per artist, the corrected p-values, and the
embedding map."""

from __future__ import annotations

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure

from .. import stats
from ..errors import AuditError
from ._base import _LEGEND_OUTSIDE, _MAX_TICK_LABELS, _columns, _figure

_OWN_OTHER = {"own": "#1b9e77", "other": "#bbbbbb"}


def own_other_distributions(long_df: pd.DataFrame, *, title: str, weights: str, note: str | None = None) -> Figure:
    """Per artist, box plots of ``s_a(i)`` for its own imitations against every other artist's.

    Artists are sorted by the gap between the median own and median other score, largest first.
    """
    data = _columns(long_df, ("artist", "kind", "similarity"), "own_other_distributions", "own_other_similarities")
    medians = data.groupby(["artist", "kind"], sort=False)["similarity"].median().unstack()
    gap = medians.get("own", pd.Series(dtype=float)) - medians.get("other", pd.Series(dtype=float))
    order = gap.sort_values(ascending=False, kind="stable").index.tolist()
    fig, ax = _figure(8.0, min(max(3.0, 0.3 * len(order) + 1.5), 40.0), title=title, weights=weights, note=note)
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
    ax.step(
        rank,
        thresholds[correction],
        where="mid",
        color="#c44e52",
        linewidth=1.5,
        label=f"{correction} threshold (alpha = {alpha:g}, m = {m})",
    )
    ax.axhline(alpha, color="grey", linestyle=":", linewidth=1, label=f"uncorrected alpha = {alpha:g}")
    ax.scatter(
        rank[significant],
        p[significant],
        color="#4c72b0",
        s=22,
        zorder=3,
        label=f"significant ({significant.sum()} of {m})",
    )
    ax.scatter(
        rank[~significant],
        p[~significant],
        facecolors="none",
        edgecolors="#4c72b0",
        s=22,
        zorder=3,
        label="not significant",
    )
    ax.set_xlabel("artists, by raw p-value")
    ax.set_ylabel("raw one-sided p-value")
    ax.legend(**_LEGEND_OUTSIDE)
    return fig


def embedding_map(vectors: np.ndarray, names: list, *, title: str, weights: str, note: str | None = None) -> Figure:
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
