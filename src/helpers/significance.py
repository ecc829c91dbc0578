"""The statistics of validation: are an artist's real works closer to that artist's imitations than to
other artists'? One-sided Mann–Whitney tests, corrected across artists.

Pure functions over numpy arrays and pandas frames (no file I/O, no torch); inputs are checked once, at
each public function, by :mod:`helpers.arrays`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats as _sps
from statsmodels.stats.multitest import multipletests

from . import arrays
from .errors import AuditError
from .schema import Aggregate, Correction

__all__ = [
    "mann_whitney_greater",
    "adjust_pvalues",
    "validation_table",
    "own_other_similarities",
    "VALIDATION_COLUMNS",
]

VALIDATION_COLUMNS = (
    "artist",
    "n_real",
    "n_own",
    "n_other",
    "statistic",
    "p_value",
    "p_adjusted",
    "significant",
    "auc",
    "mean_own",
    "mean_other",
)
_AGGREGATES = {"mean": np.mean, "max": np.max, "median": np.median}
_CORRECTIONS = {"bonferroni": "bonferroni", "holm": "holm", "fdr_bh": "fdr_bh"}  # statsmodels' names


def mann_whitney_greater(own: np.ndarray, other: np.ndarray) -> tuple[float, float, float]:
    """One-sided Mann–Whitney test that ``own`` tends to exceed ``other``: ``(U, p_value, auc)``.

    ``U = Σ_{x ∈ own} Σ_{y ∈ other} ([x > y] + ½[x = y])``; ``p`` is scipy's
    ``mannwhitneyu(own, other, alternative="greater")`` (exact for small samples without ties,
    else normal with tie and continuity corrections); ``auc = U / (n_own · n_other)`` = P(own > other).
    """
    where = "mann_whitney_greater"
    x, y = arrays.vector(own, "own", where), arrays.vector(other, "other", where)
    result = _sps.mannwhitneyu(x, y, alternative="greater")
    u = float(result.statistic)
    return u, float(result.pvalue), u / (x.size * y.size)


def adjust_pvalues(
    p: np.ndarray, method: Correction = "bonferroni", alpha: float = 0.05
) -> tuple[np.ndarray, np.ndarray]:
    """Multiple-testing adjusted p-values and rejections ``(p_adjusted, reject)`` over a family of ``m`` tests.

    ``"bonferroni"``: ``min(1, m·p)``; ``"holm"``: step-down ``max_{j≤i} min(1, (m-j+1)·p_(j))``;
    ``"fdr_bh"``: Benjamini–Hochberg ``min_{j≥i} min(1, m·p_(j)/j)``; ``reject = p_adjusted ≤ alpha``
    (statsmodels ``multipletests``). An empty family gives empty arrays.
    """
    where = "adjust_pvalues"
    arrays.choice(_CORRECTIONS, method, "correction", where)
    alpha = arrays.probability(alpha, "alpha", where)
    values = np.asarray(p, dtype=np.float64)
    if values.ndim != 1:
        raise AuditError(
            f"p must be 1-D, got shape {values.shape}", where=where, fix="pass one p-value per test"
        )
    if values.size == 0:
        return np.empty(0), np.empty(0, dtype=bool)
    if not np.isfinite(values).all() or (values < 0).any() or (values > 1).any():
        raise AuditError("p-values must lie in [0, 1]", where=where, fix="check the tests that produced them")
    reject, adjusted, _, _ = multipletests(values, alpha=alpha, method=method)
    return np.asarray(adjusted, dtype=np.float64), np.asarray(reject, dtype=bool)


def validation_table(
    real_emb: np.ndarray,
    real_artist: Sequence,
    imitation_emb: np.ndarray,
    imitation_artist: Sequence,
    artists: Sequence,
    *,
    aggregate: Aggregate = "mean",
    correction: Correction = "bonferroni",
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Are an artist's real works closer to its own imitations than to other artists' imitations?

    For artist ``a`` with real works ``R_a`` and each imitation ``i`` (of any artist),
    ``s_a(i) = aggregate_{r ∈ R_a} cos(r, i)``; ``own`` = ``s_a(i)`` over ``a``'s imitations, ``other``
    over every other artist's. Each row is :func:`mann_whitney_greater` (own, other), with
    ``p_adjusted``/``significant`` from :func:`adjust_pvalues` across the rows. One row per artist
    that has real works, in ``artists`` order (artists without real works are absent).
    ``real_artist``/``imitation_artist`` give each row's artist as an entry of ``artists``.
    Columns: ``artist, n_real, n_own, n_other, statistic, p_value, p_adjusted, significant, auc,
    mean_own, mean_other``.
    """
    where = "validation_table"
    arrays.choice(_CORRECTIONS, correction, "correction", where)
    alpha = arrays.probability(alpha, "alpha", where)
    rows = []
    for artist, n_real, own, other in _own_other(
        real_emb, real_artist, imitation_emb, imitation_artist, artists, aggregate, where
    ):
        u, p, auc = mann_whitney_greater(own, other)
        rows.append((artist, n_real, own.size, other.size, u, p, auc, float(own.mean()), float(other.mean())))
    table = pd.DataFrame(
        rows,
        columns=[
            "artist",
            "n_real",
            "n_own",
            "n_other",
            "statistic",
            "p_value",
            "auc",
            "mean_own",
            "mean_other",
        ],
    )
    table["p_adjusted"], table["significant"] = adjust_pvalues(table["p_value"].to_numpy(), correction, alpha)
    return table[list(VALIDATION_COLUMNS)]


def own_other_similarities(
    real_emb: np.ndarray,
    real_artist: Sequence,
    imitation_emb: np.ndarray,
    imitation_artist: Sequence,
    artists: Sequence,
    *,
    aggregate: Aggregate = "mean",
) -> pd.DataFrame:
    """Every ``s_a(i)`` behind :func:`validation_table`, long form: columns ``artist, kind, similarity``.

    ``kind`` is ``"own"`` when imitation ``i`` is of artist ``a``, else ``"other"``; one block per
    artist with real works, own rows first, imitations in input order.
    """
    frames = [
        pd.DataFrame(
            {
                "artist": artist,
                "kind": np.repeat(np.array(["own", "other"]), [own.size, other.size]),
                "similarity": np.concatenate([own, other]),
            }
        )
        for artist, _, own, other in _own_other(
            real_emb,
            real_artist,
            imitation_emb,
            imitation_artist,
            artists,
            aggregate,
            "own_other_similarities",
        )
    ]
    return pd.concat(frames, ignore_index=True)[["artist", "kind", "similarity"]]


def _own_other(real_emb, real_artist, imitation_emb, imitation_artist, artists, aggregate, where):
    """``(artist, n_real, own, other)`` per artist with real works, in ``artists`` order."""
    names = arrays.distinct(artists, where, what="artist", minimum=1)
    combine = arrays.choice(_AGGREGATES, aggregate, "aggregate", where)
    real = arrays.matrix(real_emb, "real_emb", where)
    imitations = arrays.matrix(imitation_emb, "imitation_emb", where)
    arrays.same_dim(real, imitations, "real_emb", "imitation_emb", where)
    real_of = arrays.positions(real_artist, names, real.shape[0], "real_artist", where)
    imitation_of = arrays.positions(imitation_artist, names, imitations.shape[0], "imitation_artist", where)
    unit_real = arrays.unit_rows(real, what="real_emb", where=where)
    unit_imitations = arrays.unit_rows(imitations, what="imitation_emb", where=where)
    n_imitations = np.bincount(imitation_of, minlength=len(names))
    if np.count_nonzero(n_imitations) < 2:
        raise AuditError(
            "imitations come from fewer than two artists, so no artist has 'other' imitations to compare with",
            where=where,
            fix="generate imitations for at least two artists",
        )
    out = []
    for a, artist in enumerate(names):
        rows = np.flatnonzero(real_of == a)
        if rows.size == 0:
            continue
        if n_imitations[a] == 0:
            raise AuditError(
                f"artist {artist!r} has {rows.size} real work(s) but no imitations",
                where=where,
                fix="generate imitations for this artist or drop its real works",
            )
        s = combine(arrays.cosine(unit_real[rows], unit_imitations), axis=0)
        own = imitation_of == a
        out.append((artist, int(rows.size), s[own], s[~own]))
    if not out:
        raise AuditError("no artist has real works", where=where, fix="pass the real works' embeddings")
    return out
