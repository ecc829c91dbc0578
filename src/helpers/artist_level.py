"""The artist-level validation test: the artists, not the images, are the units.

The paper's test compares an artist's own imitations with every other artist's as if the ten imitations of
one prompt were ten independent observations. They are not: they share the prompt and the style the model
learnt for it, so they form a cluster, and a test that counts images calls unrelated artists significant (on
the toy world's own embeddings, a fifth of the artists when each is given another artist's works). Here the
units are pairs of an artist's real works and an artist's imitations:

* ``M[a, b]`` — the mean validation score of ``a``'s real works over ``b``'s imitations (one number per
  pair of artists; :class:`helpers.significance.Scores` holds the scores ``s_a(i)``);
* ``u[a, b]`` — how far ``M[a, b]`` lies from what the *mismatched* pairs other than ``(a, b)`` predict
  for it under the additive model ``M[r, c] ≈ row_r + col_c`` (least squares), divided by its standard
  error factor: what is particular to this pairing once how close ``a``'s works are to imitations in general
  (the row) and how close ``b``'s imitations are to real works in general (the column: hubness) are
  removed — exactly, whatever those row and column levels are;
* ``z[a, b] = u[a, b] / √(w_row · w_col)`` — ``w_row``, ``w_col`` the mean of ``u²`` over the same
  mismatched pairs of its row and of its column: artists whose similarities vary more weigh the same;
* the matched pair's p-value ``p_a = (1 + #{mismatched (r, c): z[r, c] ≥ z[a, a]}) / (1 + n_mismatched)``.

**Null hypothesis** for artist ``a``: the pairing of ``a``'s works with ``a``'s imitations is no closer
than the pairing of some artist's works with another artist's imitations — the matched pair is
exchangeable with the ``K(K − 1)`` mismatched pairs (as a randomisation test, the p-value is then valid:
``P(p_a ≤ α) ≤ α``). Its smallest value is ``1 / (1 + K(K − 1))`` (0.002 for 23 artists, 0.0002 for 70):
small enough for Benjamini–Hochberg from 5 artists on, and for Bonferroni or Holm from 21. Every statistic
of a pair is computed from mismatched pairs other than itself, so the matched pair and the mismatched pairs
it is compared with are computed alike; that this makes them exchangeable closely enough is not assumed but
measured: by simulation with clustered imitations, hubs, style families and unequal spreads
(``tests/test_calibration.py``, ``bench/calibration.py``) and in every run by the negative controls of
:mod:`helpers.controls`.

The effect size is the difference ``Δ_a = M[a, a] − mean_{b ≠ a} M[a, b]`` (how much closer, in the
score's units, ``a``'s works are to ``a``'s own imitations than to the average other artist's), with a
percentile bootstrap interval that resamples ``a``'s imitations and ``a``'s real works. An artist is
*identified* when its works' closest imitations, on average, are its own: ``argmax_b M[a, b] = a``.

Pure functions over arrays (no file I/O, no torch).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats as _sps

from . import arrays, significance
from .errors import AuditError
from .schema import Aggregate, Correction

__all__ = [
    "ARTIST_LEVEL_COLUMNS",
    "MIN_ARTISTS",
    "pair_matrix",
    "interaction_z",
    "artist_level_test",
    "effect_intervals",
    "identification",
    "identification_test",
    "resolution",
]

ARTIST_LEVEL_COLUMNS = (
    "artist",
    "statistic_artist_level",
    "p_artist_level",
    "p_adjusted_artist_level",
    "significant_artist_level",
    "identified",
)
MIN_ARTISTS = 4
"""Fewer artists with real works than this leave too few mismatched pairs per row and column to estimate
their spread: the artist-level test is then not computed (its columns are empty)."""
_CHUNK = 256  # bootstrap replicates drawn at once


def pair_matrix(s: significance.Scores) -> tuple[np.ndarray, np.ndarray, list]:
    """``(M, diagonal, columns)``: ``M[k, j]`` the mean score of row ``k``'s real works over the imitations of
    ``columns[j]`` (the artists that have imitations, in ``s.names`` order), and ``diagonal[k]`` the column
    of row ``k``'s own imitations."""
    present = np.flatnonzero(np.bincount(s.imitation_of, minlength=len(s.names)))
    column_of = {int(a): j for j, a in enumerate(present)}
    means = np.zeros((len(s.artists), present.size))
    for j, a in enumerate(present):
        means[:, j] = s.values[:, s.imitation_of == a].mean(axis=1)
    diagonal = np.array([column_of[int(a)] for a in s.row_of])
    return means, diagonal, [s.names[a] for a in present]


def _leave_out_mean(values: np.ndarray, off: np.ndarray, axis: int) -> np.ndarray:
    """Per cell, the mean over the mismatched cells of its row (``axis=1``) or column (``axis=0``) other
    than itself (a matched cell is not among them, so it gets the mean of them all)."""
    kept = np.where(off, values, 0.0)
    total = kept.sum(axis=axis, keepdims=True)
    count = off.sum(axis=axis, keepdims=True)
    return np.where(off, (total - values) / np.maximum(count - 1, 1), total / np.maximum(count, 1))


def _additive_fit(m: np.ndarray, off: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Least squares of the additive model ``m[r, c] ≈ row_r + col_c`` on the mismatched cells:
    ``(fitted, leverage)`` for every cell, ``leverage[r, c] = x_rcᵀ (XᵀX)⁻¹ x_rc`` with ``x_rc`` the cell's row
    and column indicators (the last column's dropped: the design has full rank). Built from counts, never
    from the ``cells × parameters`` design matrix."""
    n_rows, n_cols = m.shape
    gram = np.zeros((n_rows + n_cols - 1, n_rows + n_cols - 1))
    gram[:n_rows, :n_rows] = np.diag(off.sum(axis=1))
    gram[n_rows:, n_rows:] = np.diag(off.sum(axis=0)[:-1])
    gram[:n_rows, n_rows:] = off[:, :-1]
    gram[n_rows:, :n_rows] = off[:, :-1].T
    kept = np.where(off, m, 0.0)
    inverse = np.linalg.inv(gram)
    theta = inverse @ np.concatenate([kept.sum(axis=1), kept.sum(axis=0)[:-1]])
    fitted = theta[:n_rows, None] + np.append(theta[n_rows:], 0.0)[None, :]
    diag = np.diag(inverse)
    cross = np.concatenate([inverse[:n_rows, n_rows:], np.zeros((n_rows, 1))], axis=1)
    leverage = diag[:n_rows, None] + np.append(diag[n_rows:], 0.0)[None, :] + 2 * cross
    return fitted, leverage


def interaction_z(m: np.ndarray, diagonal: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(z, off)``: the standardised interaction ``z`` of every pair (module docstring) and the mask of the
    mismatched pairs. ``m`` is ``[rows, columns]``; ``diagonal[k]`` is row ``k``'s matched column.

    One least-squares fit of the additive model on the mismatched pairs gives every pair's prediction from
    the pairs other than itself: a mismatched pair's deleted residual ``e / (1 − h)`` (``h`` its leverage),
    a matched pair's residual ``e`` (it was never in the fit); each divided by its standard error factor
    (``1/√(1 − h)``, ``√(1 + h)``) is ``u``. Then ``z = u / √(w_row · w_col)``, ``w`` the mean of ``u²``
    over the mismatched pairs of the row and of the column other than the pair itself."""
    rows = np.arange(m.shape[0])
    off = np.ones(m.shape, dtype=bool)
    off[rows, diagonal] = False
    fitted, leverage = _additive_fit(m, off)
    residual = m - fitted
    u = np.where(off, residual / np.sqrt(np.clip(1 - leverage, 1e-12, None)), residual / np.sqrt(1 + leverage))
    scale = np.sqrt(_leave_out_mean(u**2, off, 1) * _leave_out_mean(u**2, off, 0))
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(scale > 0, u / scale, 0.0)
    return z, off


def resolution(s: significance.Scores, *, correction: Correction = "fdr_bh", alpha: float = 0.05) -> dict:
    """What the artist-level test can say with these artists and imitations, whatever their embeddings:
    ``min_p``, its smallest p-value ``1 / (1 + n_mismatched)``, and ``min_named``, the fewest artists it
    names whenever it names any under ``correction`` at ``alpha`` — 1 when a lone artist at ``min_p`` passes;
    more under Benjamini–Hochberg when ``K · min_p > α`` (it then names none or at least ``⌈K · min_p / α⌉``
    together, so one imitated artist among unimitated ones goes unnamed); ``None`` when no artist can ever
    pass (Bonferroni or Holm with ``K · min_p > α``). Both ``None`` below :data:`MIN_ARTISTS` artists.

    ``min_named`` is found with the correction itself: the smallest ``j`` for which ``j`` artists at
    ``min_p`` and the rest at 1 are rejected."""
    alpha = arrays.probability(alpha, "alpha", "artist-level resolution")
    m, _, _ = pair_matrix(s)
    k = m.shape[0]
    if k < MIN_ARTISTS:
        return {"min_p": None, "min_named": None}
    min_p = 1.0 / (1.0 + m.size - k)
    for j in range(1, k + 1):
        if significance.adjust_pvalues(np.r_[np.full(j, min_p), np.ones(k - j)], correction, alpha)[1].any():
            return {"min_p": min_p, "min_named": j}
    return {"min_p": min_p, "min_named": None}


def identification(m: np.ndarray, diagonal: np.ndarray) -> np.ndarray:
    """Whether each row's real works are, on average, closest to its own imitations: ``M[k, diagonal[k]]``
    strictly above every other entry of row ``k`` (a tie is not an identification)."""
    rows = np.arange(m.shape[0])
    own = m[rows, diagonal]
    others = m.copy()
    others[rows, diagonal] = -np.inf
    return own > others.max(axis=1)


def artist_level_test(
    s: significance.Scores, *, correction: Correction = "fdr_bh", alpha: float = 0.05
) -> pd.DataFrame:
    """The artist-level test of every artist with real works (module docstring), corrected across artists
    by ``correction`` (:func:`helpers.significance.adjust_pvalues`). Columns :data:`ARTIST_LEVEL_COLUMNS`:
    ``statistic_artist_level`` is ``z[a, a]``. With fewer than :data:`MIN_ARTISTS` artists with real works
    (or fewer imitated artists) the statistic, p-values and significance are missing (NaN / ``None``)."""
    where = "artist-level test"
    alpha = arrays.probability(alpha, "alpha", where)
    m, diagonal, _ = pair_matrix(s)
    table = pd.DataFrame({"artist": list(s.artists)})
    table["identified"] = identification(m, diagonal)
    if m.shape[0] < MIN_ARTISTS:
        table["statistic_artist_level"] = table["p_artist_level"] = table["p_adjusted_artist_level"] = np.nan
        table["significant_artist_level"] = None
        return table[list(ARTIST_LEVEL_COLUMNS)]
    z, off = interaction_z(m, diagonal)
    matched = z[np.arange(m.shape[0]), diagonal]
    reference = np.sort(z[off])
    at_least = reference.size - np.searchsorted(reference, matched, side="left")
    p = (1.0 + at_least) / (1.0 + reference.size)
    table["statistic_artist_level"], table["p_artist_level"] = matched, p
    table["p_adjusted_artist_level"], table["significant_artist_level"] = significance.adjust_pvalues(
        p, correction, alpha
    )
    return table[list(ARTIST_LEVEL_COLUMNS)]


def effect_intervals(
    real_emb: np.ndarray,
    real_artist: Sequence,
    imitation_emb: np.ndarray,
    imitation_artist: Sequence,
    artists: Sequence,
    *,
    aggregate: Aggregate = "mean",
    n_boot: int = 2000,
    confidence: float = 0.95,
    seed: int = 0,
) -> pd.DataFrame:
    """Each validated artist's effect ``Δ_a = M[a, a] − mean_{b ≠ a} M[a, b]`` with a percentile bootstrap
    interval: each of ``n_boot`` replicates (``default_rng(seed)``) redraws ``a``'s real works and ``a``'s
    imitations with replacement, recomputes ``a``'s scores ``s_a(i)`` (``aggregate`` over the redrawn works)
    and ``Δ_a`` (the other artists' imitations as they are). Columns ``artist, effect_artist_level,
    effect_ci_low, effect_ci_high``; one artist's interval has width 0 when it has one work and one
    imitation."""
    where = "effect_intervals"
    n_boot = arrays.positive_int(n_boot, "n_boot", where)
    alpha = 1.0 - arrays.probability(confidence, "confidence", where)
    s = significance.scores(real_emb, real_artist, imitation_emb, imitation_artist, artists, aggregate=aggregate)
    m, diagonal, _ = pair_matrix(s)
    combine = significance.aggregate_function(aggregate)
    names = list(s.names)
    real_of = arrays.positions(real_artist, names, np.asarray(real_emb).shape[0], "real_artist", where)
    unit_real = arrays.unit_rows(arrays.matrix(real_emb, "real_emb", where), what="real_emb", where=where)
    unit_imitations = arrays.unit_rows(
        arrays.matrix(imitation_emb, "imitation_emb", where), what="imitation_emb", where=where
    )
    columns = np.unique(s.imitation_of)
    rng = np.random.default_rng(seed)
    rows = []
    for k, artist in enumerate(s.artists):
        own_column = diagonal[k]
        effect = float(m[k, own_column] - np.delete(m[k], own_column).mean())
        cos = arrays.cosine(unit_real[real_of == s.row_of[k]], unit_imitations)  # [works, imitations]
        own = np.flatnonzero(s.imitation_of == s.row_of[k])
        draws = []
        for start in range(0, n_boot, _CHUNK):
            size = min(_CHUNK, n_boot - start)
            works = rng.integers(0, cos.shape[0], size=(size, cos.shape[0]))
            mine = own[rng.integers(0, own.size, size=(size, own.size))]
            score = combine(cos[works], axis=1)  # [size, imitations]
            own_mean = np.take_along_axis(score, mine, axis=1).mean(axis=1)
            other = np.stack([score[:, s.imitation_of == c].mean(axis=1) for c in columns if c != s.row_of[k]], axis=1)
            draws.append(own_mean - other.mean(axis=1))
        low, high = np.quantile(np.concatenate(draws), [alpha / 2, 1 - alpha / 2])
        rows.append((artist, effect, float(low), float(high)))
    return pd.DataFrame(rows, columns=["artist", "effect_artist_level", "effect_ci_low", "effect_ci_high"])


def identification_test(identified: np.ndarray, n_choices: int) -> tuple[float, float, float]:
    """``(rate, chance, p_value)``: the share of artists identified, chance ``1/n_choices`` (the artists whose
    imitations each artist's works could be closest to) and the exact one-sided binomial p-value of at least
    that many identifications by chance."""
    flags = np.asarray(identified, dtype=bool)
    if flags.size == 0:
        raise AuditError("no artist to identify", where="identification_test", fix="validate at least one artist")
    chance = 1.0 / arrays.label_count(n_choices, "identification_test")
    hits = int(flags.sum())
    return hits / flags.size, chance, float(_sps.binomtest(hits, flags.size, chance, alternative="greater").pvalue)
