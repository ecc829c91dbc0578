"""The calibration of the validation tests, drawn from the negative controls (:mod:`helpers.controls`): how
often each test rejects a true null at every nominal level, and how many artists it calls significant on
the true pairing against on the controls."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from ._base import _columns, _figure

_COLOURS = {"paper_test": "#c44e52", "artist_level": "#4c72b0"}
_DASHES = {"deranged_works": "-", "random_names": "--"}
_LABELS = {"paper_test": "paper's test (imitations as independent)", "artist_level": "artist-level test"}
_CONTROL_LABELS = {"deranged_works": "deranged works", "random_names": "random names as imitations"}


def calibration(
    pvalues: pd.DataFrame,
    controls: pd.DataFrame,
    observed: dict[str, float],
    *,
    alpha: float,
    title: str,
    weights: str,
    note: str | None = None,
) -> Figure:
    """Left: for each test and control, the share of null p-values at or below each nominal level (log–log);
    a calibrated test lies on or below the diagonal. Right: the share of artists significant after each
    test's correction on the true pairing (``observed``, by test) beside the false-positive rate under
    each control, with its Wilson interval.

    ``pvalues`` has :data:`helpers.controls.PVALUE_COLUMNS`, ``controls`` :data:`helpers.controls.CONTROL_COLUMNS`.
    """
    _columns(pvalues, ("control", "test", "p_value"), "calibration", "helpers.controls.run_controls")
    _columns(
        controls,
        ("control", "test", "false_positive_rate", "fpr_ci_low", "fpr_ci_high"),
        "calibration",
        "helpers.controls.summarise",
    )
    fig, (left, right) = _figure(12.0, 4.8, title=title, weights=weights, note=note, ncols=2)
    levels = np.logspace(-4, 0, 200)
    left.plot(levels, levels, color="grey", linewidth=1, label="calibrated (rejects a share α at level α)")
    for (control, test), group in pvalues.groupby(["control", "test"], sort=False):
        p = np.sort(group["p_value"].to_numpy(float))
        share = np.searchsorted(p, levels, side="right") / p.size
        left.step(
            levels,
            np.maximum(share, 1e-4),
            where="post",
            color=_COLOURS[test],
            linestyle=_DASHES[control],
            linewidth=1.6,
            label=f"{_LABELS[test]}, {_CONTROL_LABELS[control]}",
        )
    left.axvline(alpha, color="#888888", linestyle=":", linewidth=1)
    left.set_xscale("log")
    left.set_yscale("log")
    left.set_xlim(1e-4, 1)
    left.set_ylim(1e-4, 1.05)
    left.set_xlabel("nominal level α")
    left.set_ylabel("share of null p-values ≤ α")
    left.set_title("null p-values against uniform", fontsize=10)
    left.legend(fontsize=7, loc="lower right")
    bars, labels, colours, lows, highs = [], [], [], [], []
    for test in ("paper_test", "artist_level"):
        if observed.get(test) is None or np.isnan(observed[test]):
            continue
        short = "paper's test" if test == "paper_test" else "artist-level"
        bars.append(observed[test])
        labels.append(f"{short}: true pairing")
        colours.append(_COLOURS[test])
        lows.append(np.nan)
        highs.append(np.nan)
        for row in controls[controls["test"] == test].itertuples():
            bars.append(row.false_positive_rate)
            labels.append(f"{short}: {_CONTROL_LABELS[row.control]}")
            colours.append(_COLOURS[test] + "88")
            lows.append(row.fpr_ci_low)
            highs.append(row.fpr_ci_high)
    y = np.arange(len(bars))[::-1]
    values, lows, highs = np.asarray(bars, float), np.asarray(lows, float), np.asarray(highs, float)
    right.barh(y, values, color=colours, height=0.7)
    shown = ~np.isnan(lows)
    below, above = np.clip(values - lows, 0, None), np.clip(highs - values, 0, None)  # rounding: never negative
    right.errorbar(
        values[shown], y[shown], xerr=[below[shown], above[shown]], fmt="none", ecolor="black", capsize=3, linewidth=1
    )
    for yi, value, high in zip(y, values, highs, strict=True):
        right.text(
            (value if np.isnan(high) else max(value, high)) + 0.02, yi, f"{100 * value:.1f}%", va="center", fontsize=8
        )
    right.axvline(alpha, color="#888888", linestyle=":", linewidth=1, label=f"α = {alpha:g}")
    right.set_yticks(y, labels, fontsize=8)
    right.set_xlim(0, 1.15)
    right.set_xlabel("share of artists significant (after each test's correction)")
    right.set_title("true pairing vs. negative controls (every one a false positive)", fontsize=10)
    right.legend(fontsize=7, loc="lower right")
    return fig
