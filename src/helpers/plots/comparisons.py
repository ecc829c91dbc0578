"""Figures that set one number against another: imitation accuracy against the ceiling the real works give,
accuracy against caption exposure, and configurations side by side (a forest plot)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from .. import significance
from ..errors import AuditError
from ..exposure import ThresholdFit, accuracy_curve
from ._base import _LEGEND_OUTSIDE, _columns, _figure

_MAX_POINT_LABELS = 40  # beyond this many artists, names next to points overlap into noise
_POINT = "#4c72b0"
_UNVERIFIED = "Caption counts were not verified (no caption metadata was read):\nnothing to plot."


def accuracy_vs_ceiling(table: pd.DataFrame, *, title: str, weights: str, note: str | None = None) -> Figure:
    """Imitation accuracy (y) against the ceiling (x) per artist, with the diagonal ``y = x``.

    The ceiling is how often CLIP names the artist from the artist's *real* works; a point below the
    diagonal is an artist whose imitations are named less often than its real works. ``table`` has
    columns ``artist, accuracy, ceiling``; artists without a ceiling (no real works: NaN) are left out
    and counted in the legend. Names are written next to the points for up to 40 artists.
    """
    data = _columns(table, ("artist", "accuracy", "ceiling"), "accuracy_vs_ceiling", "the accuracy tables")
    accuracy, ceiling = data["accuracy"].astype(float).to_numpy(), data["ceiling"].astype(float).to_numpy()
    shown = np.isfinite(accuracy) & np.isfinite(ceiling)
    if not shown.any():
        raise AuditError(
            "no artist has both an accuracy and a ceiling",
            where="accuracy_vs_ceiling",
            fix="pass the ceiling of the artists with real works",
        )
    fig, ax = _figure(7.0, 6.5, title=title, weights=weights, note=note)
    ax.plot([0, 1], [0, 1], color="grey", linestyle="--", linewidth=1, label="y = x: as recognisable as the real works")
    below = int((accuracy[shown] < ceiling[shown]).sum())
    ax.scatter(
        ceiling[shown],
        accuracy[shown],
        s=24,
        color=_POINT,
        zorder=3,
        label=f"artists ({shown.sum()}; {below} below the diagonal)",
    )
    if shown.sum() <= _MAX_POINT_LABELS:
        for name, x, y in zip(data["artist"].to_numpy()[shown], ceiling[shown], accuracy[shown], strict=True):
            ax.annotate(str(name), (x, y), xytext=(3, 3), textcoords="offset points", fontsize=7)
    if (~shown).any():
        ax.plot([], [], linestyle="none", label=f"{(~shown).sum()} artist(s) without a ceiling, not shown")
    ax.set_xlim(-0.02, 1.02)
    ax.set_ylim(-0.02, 1.02)
    ax.set_aspect("equal")
    ax.set_xlabel("ceiling: top-1 accuracy on the artist's real works")
    ax.set_ylabel("top-1 accuracy on the imitations")
    ax.legend(**_LEGEND_OUTSIDE)
    return fig


def accuracy_vs_captions(
    table: pd.DataFrame,
    *,
    min_images: int,
    verified: bool,
    title: str,
    weights: str,
    note: str | None = None,
    fit: dict | None = None,
) -> Figure:
    """Per-artist accuracy (y) against the number of captions that mention the artist (x, log scale).

    With ``fit`` (:meth:`helpers.exposure.ThresholdFit.as_dict`), the fitted curve of accuracy against
    exposure is drawn, with the threshold where it reaches the level and the threshold's interval shaded.

    A dashed vertical line marks the selection threshold (an artist is selected with ``> min_images``
    captions); the legend gives Spearman's ``ρ`` and its p-value (:func:`helpers.significance.spearman`),
    or why it is undefined. ``table`` has columns ``artist, caption_count, accuracy``. When ``verified``
    is False the counts were never read from caption metadata, so no point is drawn and the axes says so.
    """
    where = "accuracy_vs_captions"
    needed = ("artist", "caption_count", "accuracy")
    data = _columns(table, needed, where, "the selection and accuracy tables")
    fig, ax = _figure(8.0, 5.0, title=title, weights=weights, note=note)
    ax.set_xlabel("captions mentioning the artist (log scale)")
    ax.set_ylabel("top-1 accuracy on the imitations")
    if not verified:
        ax.text(0.5, 0.5, _UNVERIFIED, transform=ax.transAxes, ha="center", va="center", fontsize=11, color="#444444")
        ax.set_xticks([])
        ax.set_yticks([])
        return fig
    counts, accuracy = data["caption_count"].astype(float).to_numpy(), data["accuracy"].astype(float).to_numpy()
    if not (np.isfinite(counts).all() and (counts > 0).all() and np.isfinite(accuracy).all()):
        raise AuditError(
            "caption_count must be a positive number and accuracy a number for every artist",
            where=where,
            fix="pass verified=False when the counts were not read from caption metadata",
        )
    ax.set_xscale("log")
    ax.scatter(counts, accuracy, s=24, color=_POINT, zorder=3, label=f"artists ({len(counts)})")
    ax.axvline(min_images, color="black", linestyle="--", linewidth=1.2, label=f"selection: > {min_images} captions")
    try:
        rho, p = significance.spearman(counts, accuracy)
        summary = f"Spearman ρ = {rho:.2f}, p = {p:.2g} (n = {len(counts)})"
    except AuditError as err:  # too few artists, or constant counts or accuracies: say so on the figure
        summary = f"Spearman ρ undefined: {err.what}"
    ax.plot([], [], linestyle="none", label=summary)
    if fit and fit.get("slope") is not None:
        grid = np.logspace(np.log10(max(counts.min(), 1.0)), np.log10(counts.max()), 200)
        ax.plot(
            grid,
            accuracy_curve(grid, fit["intercept"], fit["slope"], fit["chance"]),
            color="#7570b3",
            linewidth=1.6,
            label=f"fitted curve (chance {fit['chance']:.0%} → 1)",
        )
        if fit.get("threshold") is not None:
            low = fit["ci_low"] if fit["ci_low"] is not None else counts.min()
            high = fit["ci_high"] if fit["ci_high"] is not None else counts.max()
            ax.axvspan(
                max(low, counts.min() / 2),
                min(high, counts.max() * 2),
                color="#7570b3",
                alpha=0.12,
                label=f"{fit['confidence']:.0%} interval: {_count(fit, 'ci_low')} – {_count(fit, 'ci_high')}",
            )
            ax.axvline(
                fit["threshold"],
                color="#7570b3",
                linestyle=":",
                linewidth=1.4,
                label=f"threshold: {fit['level']:.0%} accuracy at {fit['threshold']:.0f} captions"
                + (" (extrapolated)" if fit["extrapolated"] else ""),
            )
        else:
            ax.plot([], [], linestyle="none", label=fit["note"] or "no threshold")
    ax.set_ylim(-0.02, 1.02)
    ax.legend(**_LEGEND_OUTSIDE)
    return fig


def _count(fit: dict, key: str) -> str:
    return ThresholdFit.from_dict(fit).shown(fit[key])


def forest(
    table: pd.DataFrame,
    *,
    paper: float | None = None,
    title: str,
    weights: str,
    note: str | None = None,
) -> Figure:
    """One row per configuration, highest accuracy on top: its interval ``[ci_low, ci_high]`` and a marker
    at ``accuracy``.

    ``table`` has columns ``config, accuracy, ci_low, ci_high``, and optionally ``accuracy_random_names``
    (an orange cross per row) and ``chance`` (a grey bar per row, as chance depends on the number of
    names). ``paper`` draws a vertical line at the paper's value, labelled e.g. ``paper: 81.0%``.
    """
    needed = ("config", "accuracy", "ci_low", "ci_high")
    data = _columns(table, needed, "forest", "the configurations' summaries")
    data = data.sort_values(["accuracy", "config"], ascending=[False, True], kind="stable")
    n = len(data)
    fig, ax = _figure(8.0, min(max(3.0, 0.28 * n + 1.5), 40.0), title=title, weights=weights, note=note)
    y = np.arange(n)
    acc = data["accuracy"].to_numpy(float)
    err = np.vstack([acc - data["ci_low"].to_numpy(float), data["ci_high"].to_numpy(float) - acc])
    ax.errorbar(
        acc,
        y,
        xerr=np.clip(err, 0, None),
        fmt="o",
        color=_POINT,
        ecolor=_POINT,
        markersize=5,
        elinewidth=1.5,
        capsize=3,
        label="mean accuracy and interval",
    )
    if "accuracy_random_names" in data:
        ax.scatter(
            data["accuracy_random_names"].to_numpy(float),
            y,
            marker="x",
            color="#dd8452",
            s=30,
            zorder=3,
            label="random names",
        )
    if "chance" in data:
        ax.scatter(data["chance"].to_numpy(float), y, marker="|", color="black", s=120, zorder=3, label="chance (1/K)")
    if paper is not None:
        ax.axvline(paper, color="#c44e52", linestyle="--", linewidth=1.5, label=f"paper: {paper:.1%}")
    ax.set_yticks(y, [str(c) for c in data["config"]], fontsize=8 if n <= 30 else 6)
    ax.set_ylim(n - 0.5, -0.5)  # the first (highest) configuration on top
    ax.set_xlim(0, 1)
    ax.set_xlabel("mean top-1 accuracy over artists")
    ax.grid(axis="x", color="#dddddd", linewidth=0.8)
    ax.set_axisbelow(True)
    ax.legend(**_LEGEND_OUTSIDE)
    return fig


_STRONGER_LEFT = {"jpeg", "resize", "crop"}  # a lower quality, size or fraction is stronger processing
_SIGNALS = (
    ("accuracy", "mean accuracy (imitations)", _POINT),
    ("fraction_significant_artist_level", "artists validated (artist-level test)", "#55a868"),
)


def transform_curves(
    table: pd.DataFrame, reference: pd.Series, *, title: str, weights: str, note: str | None = None
) -> Figure:
    """The signal against the strength of each kind of processing: one panel per step (``jpeg``, ``resize``,
    ``noise``, …) with the mean accuracy (and its interval) and the artist-level validation fraction at each
    strength, beside the untransformed configuration's values (dashed) and chance (dotted); stronger to the
    right. ``table`` has columns ``step, strength, accuracy, accuracy_ci_low, accuracy_ci_high,
    fraction_significant_artist_level``, one row per chain of one step; ``reference`` the same numbers untransformed."""
    data = _columns(
        table,
        ("step", "strength", "accuracy", "accuracy_ci_low", "accuracy_ci_high", "fraction_significant_artist_level"),
        "transform_curves",
        "the comparison table",
    )
    steps = list(dict.fromkeys(data["step"]))
    fig, axes = _figure(4.2 * len(steps), 4.2, title=title, weights=weights, note=note, ncols=len(steps))
    for ax, step in zip(np.atleast_1d(axes), steps, strict=True):
        rows = data[data["step"] == step].sort_values("strength", ascending=step not in _STRONGER_LEFT)
        x = np.arange(len(rows))
        for column, label, colour in _SIGNALS:
            values = rows[column].to_numpy(float)
            ax.plot(x, values, marker="o", color=colour, label=label)
            ax.axhline(
                float(reference[column]), color=colour, linestyle="--", linewidth=1, label=f"{label}, untransformed"
            )
        ax.fill_between(
            x,
            rows["accuracy_ci_low"].to_numpy(float),
            rows["accuracy_ci_high"].to_numpy(float),
            color=_POINT,
            alpha=0.15,
            linewidth=0,
        )
        if "chance" in reference:
            ax.axhline(float(reference["chance"]), color="black", linestyle=":", linewidth=1, label="chance (1/K)")
        ax.set_xticks(x, [f"{v:g}" for v in rows["strength"]])
        ax.set_xlabel(f"{step}: {_STRENGTH_NAME.get(step, 'strength')} (stronger →)")
        ax.set_ylim(-0.02, 1.02)
        ax.grid(axis="y", color="#dddddd", linewidth=0.8)
    np.atleast_1d(axes)[-1].legend(**_LEGEND_OUTSIDE)
    return fig


_STRENGTH_NAME = {
    "jpeg": "quality",
    "resize": "size (px)",
    "crop": "fraction kept",
    "noise": "sigma (0-255)",
    "blur": "radius (px)",
}
