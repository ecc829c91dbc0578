"""How much exposure does recognisable imitation need? A dose–response curve of per-artist accuracy against
the number of captions naming the artist, and the exposure at which it crosses a level, with an interval —
in the spirit of the "imitation threshold" literature (how many training images of a concept a model needs
before it imitates it).

**The curve.** With x = log10(1 + c) for an artist named in c captions, and K candidate labels (chance
1/K), the probability that an imitation is named right is

    p(x) = g + (1 − g) · σ(β0 + β1 · x),   g = chance, σ the logistic function,

so accuracy starts at chance for an unexposed artist and rises towards 1. (β0, β1) maximise the binomial
likelihood of every artist's ``n_correct`` of ``n_images`` (Fisher scoring, every bootstrap resample fitted
at once; β1 is bounded to ±:data:`MAX_SLOPE` per decade so that perfectly separated data still give a
finite fit).

**The threshold** at level L (``classification.exposure_level``, default 0.5 — the report's "named" share)
is the c* where p reaches L: log10(1 + c*) = (logit((L − g)/(1 − g)) − β0) / β1, defined only when the
curve rises (β1 > 0) and L lies between chance and 1. Outside the observed counts it is an extrapolation,
and said so.

**The interval** is a percentile bootstrap over artists (artists resampled with replacement, the curve
refitted): a resample whose curve does not rise has no threshold and counts as an infinite one (the level is
never reached), so when more than (1 − confidence)/2 of resamples do not rise the upper bound is unbounded
(``None``). Its coverage on simulated worlds with a known threshold is measured by
``bench/exposure_threshold.py`` and checked by ``tests/test_exposure.py``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from scipy.special import expit, logit

from .errors import AuditError

__all__ = ["MAX_SLOPE", "ThresholdFit", "accuracy_curve", "fit_curve", "fit_curves", "threshold_fit"]

MAX_SLOPE = 50.0
"""The largest |β1| (logits per decade of captions) a fit may take."""
MIN_ARTISTS = 5
"""Fewer artists than this (or fewer than 3 distinct counts) give no fit."""


@dataclass(frozen=True)
class ThresholdFit:
    """The fitted curve and the exposure threshold (see the module docstring); ``None`` where undefined."""

    level: float
    chance: float
    intercept: float | None
    slope: float | None
    threshold: float | None
    """Captions at which the fitted accuracy reaches ``level``."""
    ci_low: float | None
    ci_high: float | None
    """``None`` when unbounded (too many resamples whose curve does not rise)."""
    confidence: float
    n_boot: int
    share_rising: float | None
    """The share of bootstrap resamples whose curve rises to the level (a finite threshold)."""
    extrapolated: bool
    n_artists: int
    observed: tuple[float, float] | None
    """The smallest and largest caption count of the artists fitted."""
    note: str

    def shown(self, value: float | None) -> str:
        """A count of this fit for a reader: ``unbounded``, ``> 10× the largest count`` beyond that, else
        the rounded count."""
        if value is None:
            return "unbounded"
        if self.observed and value > 10 * self.observed[1]:
            return f"> {10 * self.observed[1]:.0f} (10× the largest count)"
        return f"{value:.0f}"

    def as_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> ThresholdFit:
        """The fit as :meth:`as_dict` wrote it (e.g. read back from ``classification.json``)."""
        return cls(**{**data, "observed": tuple(data["observed"]) if data.get("observed") else None})


def accuracy_curve(counts, intercept: float, slope: float, chance: float) -> np.ndarray:
    """p(c) of the module docstring at caption counts ``counts``."""
    x = np.log10(1.0 + np.asarray(counts, dtype=float))
    return chance + (1 - chance) * expit(intercept + slope * x)


def fit_curves(x: np.ndarray, k: np.ndarray, n: np.ndarray, chance: float, *, iterations: int = 100) -> np.ndarray:
    """The maximum-likelihood ``(β0, β1)`` of the curve for each row of ``x`` (log10(1 + c)), ``k`` and ``n``
    (arrays ``[B, N]``: B data sets of N artists, fitted together): Fisher scoring with the step bounded,
    on x centred per row; ``[B, 2]``."""
    x, k, n = (np.atleast_2d(np.asarray(a, dtype=float)) for a in (x, k, n))
    centre = x.mean(axis=1, keepdims=True)
    xc = x - centre
    beta = np.zeros((len(x), 2))
    beta[:, 1] = 1.0
    for _ in range(iterations):
        s = expit(beta[:, :1] + beta[:, 1:] * xc)
        p = np.clip(chance + (1 - chance) * s, 1e-12, 1 - 1e-12)
        dp = (1 - chance) * s * (1 - s)
        resid = (k - n * p) * dp / (p * (1 - p))
        w = n * dp**2 / (p * (1 - p))
        score = np.stack([resid.sum(1), (resid * xc).sum(1)], axis=1)
        i00, i01, i11 = w.sum(1) + 1e-9, (w * xc).sum(1), (w * xc**2).sum(1) + 1e-9
        det = i00 * i11 - i01**2
        step = (
            np.stack([i11 * score[:, 0] - i01 * score[:, 1], i00 * score[:, 1] - i01 * score[:, 0]], axis=1)
            / det[:, None]
        )
        step = np.nan_to_num(step, nan=0.0, posinf=0.0, neginf=0.0)
        size = np.abs(step).max(axis=1, keepdims=True)
        step *= np.minimum(1.0, 5.0 / np.maximum(size, 1e-300))  # at most 5 logits at a time
        beta = beta + step
        beta[:, 0] = np.clip(beta[:, 0], -60.0, 60.0)
        beta[:, 1] = np.clip(beta[:, 1], -MAX_SLOPE, MAX_SLOPE)
        if size.max() < 1e-10:
            break
    beta[:, 0] -= beta[:, 1] * centre[:, 0]
    return beta


def fit_curve(counts, n_correct, n_images, chance: float) -> tuple[float, float]:
    """The maximum-likelihood ``(β0, β1)`` of the curve for one set of artists."""
    ((b0, b1),) = fit_curves(np.log10(1.0 + np.asarray(counts, dtype=float)), n_correct, n_images, chance)
    return float(b0), float(b1)


def _thresholds(intercept, slope, chance: float, level: float) -> np.ndarray:
    """c* for each (β0, β1): ``inf`` where the curve does not rise, 0 where it is at the level already with no
    captions (log10(1 + c) = x < 0 would be a negative count)."""
    intercept, slope = np.atleast_1d(np.asarray(intercept, float)), np.atleast_1d(np.asarray(slope, float))
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        x = (logit((level - chance) / (1 - chance)) - intercept) / slope
        out = np.where((slope > 0) & (x < 300), 10.0 ** np.clip(x, 0.0, 300) - 1.0, np.inf)
    return out


def threshold_fit(
    counts,
    n_correct,
    n_images,
    *,
    chance: float,
    level: float = 0.5,
    n_boot: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
) -> ThresholdFit:
    """Fit the curve to per-artist ``counts`` (captions), ``n_correct`` of ``n_images``, and estimate the
    threshold at ``level`` with a percentile bootstrap over artists (module docstring)."""
    counts = np.asarray(counts, dtype=float)
    k, n = np.asarray(n_correct, dtype=float), np.asarray(n_images, dtype=float)
    if not (len(counts) == len(k) == len(n)) or (counts < 0).any() or (k > n).any() or (n <= 0).any():
        raise AuditError(
            "exposure threshold: counts, n_correct and n_images must align, counts ≥ 0 and "
            "0 ≤ n_correct ≤ n_images > 0",
            where="exposure.threshold_fit",
        )
    if not 0 < chance < level < 1:
        raise AuditError(
            f"exposure level {level} must lie between chance {chance:.3g} and 1",
            where="classification.exposure_level",
            fix="use e.g. 0.5",
        )
    empty = dict(
        level=level,
        chance=chance,
        intercept=None,
        slope=None,
        threshold=None,
        ci_low=None,
        ci_high=None,
        confidence=confidence,
        n_boot=0,
        share_rising=None,
        extrapolated=False,
        n_artists=len(counts),
        observed=(float(counts.min()), float(counts.max())) if len(counts) else None,
    )
    if len(counts) < MIN_ARTISTS or len(np.unique(counts)) < 3:
        return ThresholdFit(**empty, note=f"fewer than {MIN_ARTISTS} artists or 3 distinct caption counts: no curve")
    b0, b1 = fit_curve(counts, k, n, chance)
    point = float(_thresholds(b0, b1, chance, level)[0])
    idx = np.random.default_rng(seed).integers(0, len(counts), (n_boot, len(counts)))
    x = np.log10(1.0 + counts)
    boots = np.empty(n_boot)
    for rows in np.array_split(np.arange(n_boot), max(1, n_boot // 500)):  # resamples fitted 500 at a time
        beta = fit_curves(x[idx[rows]], k[idx[rows]], n[idx[rows]], chance)
        boots[rows] = _thresholds(beta[:, 0], beta[:, 1], chance, level)
        flat = np.ptp(x[idx[rows]], axis=1) == 0  # a resample of one count says nothing about the slope: keep the fit
        boots[rows[flat]] = point
    alpha = (1 - confidence) / 2
    low, high = np.quantile(boots, [alpha, 1 - alpha]) if n_boot else (np.nan, np.nan)
    finite = np.isfinite(point)
    extrapolated = bool(finite and not (counts.min() <= point <= counts.max()))
    note = ("" if finite else "the fitted accuracy does not rise with exposure: no threshold") + (
        f"the threshold lies outside the observed counts ({counts.min():g}–{counts.max():g}): an extrapolation"
        if extrapolated
        else ""
    )
    return ThresholdFit(
        level=level,
        chance=chance,
        intercept=b0,
        slope=b1,
        threshold=float(point) if finite else None,
        ci_low=float(low) if np.isfinite(low) else None,
        ci_high=float(high) if np.isfinite(high) else None,
        confidence=confidence,
        n_boot=n_boot,
        share_rising=float(np.isfinite(boots).mean()) if n_boot else None,
        extrapolated=extrapolated,
        n_artists=len(counts),
        observed=(float(counts.min()), float(counts.max())),
        note=note,
    )
