"""The tests of the audit. Validation: are an artist's real works closer to that artist's imitations than to
other artists'? One-sided Mann–Whitney tests, corrected across artists, on raw or centred similarities.
Association: Spearman's rank correlation (accuracy against caption exposure). Paired comparisons of two
configurations: McNemar's exact test per image, a bootstrap over artists.

Pure functions over numpy arrays and pandas frames (no file I/O, no torch); inputs are checked once, at
each public function, by :mod:`helpers.arrays`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
from scipy import stats as _sps
from statsmodels.stats.multitest import multipletests

from . import arrays, stats
from .errors import AuditError
from .schema import Aggregate, Correction

__all__ = [
    "Scores",
    "scores",
    "score_matrix",
    "paper_test",
    "long_form",
    "aggregate_function",
    "mann_whitney_greater",
    "adjust_pvalues",
    "validation_table",
    "own_other_similarities",
    "spearman",
    "mcnemar_exact",
    "paired_bootstrap",
    "signed_rank",
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


def aggregate_function(aggregate: Aggregate):
    """The numpy function that turns an artist's several real works' similarities into one score."""
    return arrays.choice(_AGGREGATES, aggregate, "aggregate", "validation scores")


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
        raise AuditError(f"p must be 1-D, got shape {values.shape}", where=where, fix="pass one p-value per test")
    if values.size == 0:
        return np.empty(0), np.empty(0, dtype=bool)
    if not np.isfinite(values).all() or (values < 0).any() or (values > 1).any():
        raise AuditError("p-values must lie in [0, 1]", where=where, fix="check the tests that produced them")
    reject, adjusted, _, _ = multipletests(values, alpha=alpha, method=method)
    return np.asarray(adjusted, dtype=np.float64), np.asarray(reject, dtype=bool)


@dataclass(frozen=True)
class Scores:
    """Every validation score ``s_a(i)``: one row per artist ``a`` with real works, one column per imitation ``i``.

    ``values[k, i] = s_{artists[k]}(i)``; ``names`` are all the artists whose imitations are columns, and
    ``imitation_of[i]`` is the index in ``names`` of the artist imitation ``i`` imitates; ``row_of[k]`` is
    the index in ``names`` of ``artists[k]``; ``n_real[k]`` counts that artist's real works. The paper's
    test (:func:`paper_test`), the artist-level test (:mod:`helpers.artist_level`) and the negative
    controls (:mod:`helpers.controls`) all start from these scores.
    """

    artists: list
    n_real: np.ndarray
    values: np.ndarray
    names: list
    imitation_of: np.ndarray
    row_of: np.ndarray

    def with_works_of(self, source: np.ndarray) -> Scores:
        """The scores had row ``k``'s artist been given the real works of ``artists[source[k]]`` (a
        derangement of the works, for a negative control)."""
        return replace(self, n_real=self.n_real[source], values=self.values[source])

    def own_other(self) -> list[tuple[str, int, np.ndarray, np.ndarray]]:
        """``(artist, n_real, own, other)`` per row: ``own`` the scores of the artist's own imitations,
        ``other`` those of every other artist's."""
        return [
            (
                artist,
                int(self.n_real[k]),
                self.values[k, self.imitation_of == self.row_of[k]],
                self.values[k, self.imitation_of != self.row_of[k]],
            )
            for k, artist in enumerate(self.artists)
        ]


def score_matrix(
    real_emb: np.ndarray,
    real_artist: Sequence,
    imitation_emb: np.ndarray,
    artists: Sequence,
    *,
    aggregate: Aggregate = "mean",
    where: str = "validation scores",
) -> tuple[list, np.ndarray, np.ndarray]:
    """``(validated, n_real, values)``: the artists of ``artists`` that have real works (in that order), how
    many each has, and ``values[k, i] = aggregate_{r ∈ R_k} cos(r, i)`` for every row ``i`` of
    ``imitation_emb``."""
    names = arrays.distinct(artists, where, what="artist", minimum=1)
    combine = aggregate_function(aggregate)
    real = arrays.matrix(real_emb, "real_emb", where)
    imitations = arrays.matrix(imitation_emb, "imitation_emb", where)
    arrays.same_dim(real, imitations, "real_emb", "imitation_emb", where)
    real_of = arrays.positions(real_artist, names, real.shape[0], "real_artist", where)
    unit_real = arrays.unit_rows(real, what="real_emb", where=where)
    unit_imitations = arrays.unit_rows(imitations, what="imitation_emb", where=where)
    validated, counts, values = [], [], []
    for a, artist in enumerate(names):
        mine = np.flatnonzero(real_of == a)
        if mine.size:
            validated.append(artist)
            counts.append(mine.size)
            values.append(combine(arrays.cosine(unit_real[mine], unit_imitations), axis=0))
    if not validated:
        raise AuditError("no artist has real works", where=where, fix="pass the real works' embeddings")
    return validated, np.asarray(counts), np.vstack(values)


def scores(
    real_emb: np.ndarray,
    real_artist: Sequence,
    imitation_emb: np.ndarray,
    imitation_artist: Sequence,
    artists: Sequence,
    *,
    aggregate: Aggregate = "mean",
    centered: bool = False,
) -> Scores:
    """The validation scores :class:`Scores`: for artist ``a`` with real works ``R_a`` and each imitation
    ``i`` (of any artist), ``s_a(i) = aggregate_{r ∈ R_a} cos(r, i)`` (:func:`score_matrix`). With
    ``centered`` (a correction for hubs, imitations close to every artist's real works) each score is
    replaced by ``s'_a(i) = s_a(i) − (1/|V|) Σ_{b ∈ V} s_b(i)``, ``V`` the artists with real works. Rows
    follow ``artists`` order, skipping artists without real works; ``real_artist``/``imitation_artist`` give
    each embedding's artist as an entry of ``artists``.
    """
    where = "validation scores"
    names = arrays.distinct(artists, where, what="artist", minimum=1)
    imitation_of = arrays.positions(
        imitation_artist, names, np.asarray(imitation_emb).shape[0], "imitation_artist", where
    )
    n_imitations = np.bincount(imitation_of, minlength=len(names))
    if np.count_nonzero(n_imitations) < 2:
        raise AuditError(
            "imitations come from fewer than two artists, so no artist has 'other' imitations to compare with",
            where=where,
            fix="generate imitations for at least two artists",
        )
    validated, counts, s = score_matrix(real_emb, real_artist, imitation_emb, names, aggregate=aggregate, where=where)
    rows = np.array([names.index(a) for a in validated])
    lacking = [(a, n) for a, n, r in zip(validated, counts, rows, strict=True) if n_imitations[r] == 0]
    if lacking:
        raise AuditError(
            f"artist {lacking[0][0]!r} has {lacking[0][1]} real work(s) but no imitations",
            where=where,
            fix="generate imitations for this artist or drop its real works",
        )
    if centered:
        s = s - s.mean(axis=0)
    return Scores(validated, counts, s, names, imitation_of, rows)


def long_form(s: Scores) -> pd.DataFrame:
    """Every score of ``s`` in long form: ``artist, kind, similarity`` (``kind`` ``own`` or ``other``), one
    block per artist with real works, own rows first, imitations in input order."""
    frames = [
        pd.DataFrame(
            {
                "artist": artist,
                "kind": np.repeat(np.array(["own", "other"]), [own.size, other.size]),
                "similarity": np.concatenate([own, other]),
            }
        )
        for artist, _, own, other in s.own_other()
    ]
    return pd.concat(frames, ignore_index=True)[["artist", "kind", "similarity"]]


def paper_test(s: Scores, *, correction: Correction = "bonferroni", alpha: float = 0.05) -> pd.DataFrame:
    """The paper's test (imitations as independent): per artist, :func:`mann_whitney_greater` of the scores
    of its own imitations against every other artist's, then :func:`adjust_pvalues` across artists.
    Columns :data:`VALIDATION_COLUMNS`. Its p-values treat the imitations of one prompt as independent
    observations; they are not (they share the prompt), which is why the artist-level test exists."""
    where = "paper's test"
    arrays.choice(_CORRECTIONS, correction, "correction", where)
    alpha = arrays.probability(alpha, "alpha", where)
    rows = []
    for artist, n_real, own, other in s.own_other():
        u, p, auc = mann_whitney_greater(own, other)
        rows.append((artist, n_real, own.size, other.size, u, p, auc, float(own.mean()), float(other.mean())))
    columns = ["artist", "n_real", "n_own", "n_other", "statistic", "p_value", "auc", "mean_own", "mean_other"]
    table = pd.DataFrame(rows, columns=columns)
    table["p_adjusted"], table["significant"] = adjust_pvalues(table["p_value"].to_numpy(), correction, alpha)
    return table[list(VALIDATION_COLUMNS)]


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
    centered: bool = False,
) -> pd.DataFrame:
    """The paper's test from embeddings: are an artist's real works closer to its own imitations than to
    other artists' imitations?

    For artist ``a`` with real works ``R_a`` and each imitation ``i`` (of any artist),
    ``s_a(i) = aggregate_{r ∈ R_a} cos(r, i)``; ``own`` = ``s_a(i)`` over ``a``'s imitations, ``other``
    over every other artist's. With ``centered`` (a correction for hubs, imitations close to every
    artist's real works) ``s_a(i)`` is replaced by ``s'_a(i) = s_a(i) − (1/|V|) Σ_{b ∈ V} s_b(i)``, ``V`` the
    artists with real works; the test, the correction and the columns stay the same (``mean_own`` and
    ``mean_other`` are then means of ``s'``). Each row is :func:`mann_whitney_greater` (own, other), with
    ``p_adjusted``/``significant`` from :func:`adjust_pvalues` across the rows. One row per artist
    that has real works, in ``artists`` order (artists without real works are absent).
    ``real_artist``/``imitation_artist`` give each row's artist as an entry of ``artists``.
    Columns: ``artist, n_real, n_own, n_other, statistic, p_value, p_adjusted, significant, auc,
    mean_own, mean_other``. (:func:`scores` then :func:`paper_test`.)
    """
    s = scores(real_emb, real_artist, imitation_emb, imitation_artist, artists, aggregate=aggregate, centered=centered)
    return paper_test(s, correction=correction, alpha=alpha)


def own_other_similarities(
    real_emb: np.ndarray,
    real_artist: Sequence,
    imitation_emb: np.ndarray,
    imitation_artist: Sequence,
    artists: Sequence,
    *,
    aggregate: Aggregate = "mean",
    centered: bool = False,
) -> pd.DataFrame:
    """Every ``s_a(i)`` behind :func:`validation_table`, long form: columns ``artist, kind, similarity``.

    ``kind`` is ``"own"`` when imitation ``i`` is of artist ``a``, else ``"other"``; one block per
    artist with real works, own rows first, imitations in input order. With ``centered`` the
    similarities are the centred ``s'_a(i)`` of :func:`validation_table`.
    """
    return long_form(
        scores(real_emb, real_artist, imitation_emb, imitation_artist, artists, aggregate=aggregate, centered=centered)
    )


# ------------------------------------------------------------------------- association and paired comparisons


def spearman(x, y) -> tuple[float, float]:
    """Spearman's rank correlation of paired values and its two-sided p-value: ``(rho, p_value)``.

    ``rho`` is Pearson's correlation of the ranks (ties get the average of the ranks they span):
    ``rho = Σ (r_j − r̄)(q_j − q̄) / √(Σ (r_j − r̄)² · Σ (q_j − q̄)²)``, ``r = rank(x)``, ``q = rank(y)``.
    ``p = 2·P(T_{n−2} ≥ |t|)`` with ``t = rho·√((n − 2) / ((1 + rho)(1 − rho)))`` and ``T_{n−2}`` Student's t
    with ``n − 2`` degrees of freedom — the approximation scipy's ``spearmanr`` uses; ``p = 0`` when
    ``|rho| = 1``. Raises :class:`AuditError` for fewer than 3 pairs, NaN or inf, unequal lengths, or a
    constant ``x`` or ``y`` (its ranks are all equal and ``rho`` is undefined).
    """
    where = "spearman"
    xs, ys = arrays.vector(x, "x", where, minimum=3), arrays.vector(y, "y", where, minimum=3)
    arrays.same_length(xs, ys, "x", "y", where)
    arrays.varying(xs, "x", where)
    arrays.varying(ys, "y", where)
    r, q = _sps.rankdata(xs), _sps.rankdata(ys)
    r, q = r - r.mean(), q - q.mean()  # multiples of ½, so the sums below are exact
    rho = float(np.clip((r @ q) / np.sqrt((r @ r) * (q @ q)), -1.0, 1.0))
    dof = xs.size - 2
    if abs(rho) == 1.0:
        return rho, 0.0
    t = rho * np.sqrt(dof / ((1.0 + rho) * (1.0 - rho)))
    return rho, float(min(1.0, 2.0 * _sps.t.sf(abs(t), dof)))


def mcnemar_exact(correct_a, correct_b) -> tuple[int, int, float]:
    """McNemar's exact test of two classifiers on the same images: ``(n_a_only, n_b_only, p_value)``.

    ``b = n_a_only = #{j : a right, b wrong}``, ``c = n_b_only = #{j : a wrong, b right}``; under the null
    each discordant image is ``a``'s or ``b``'s with probability ½, so ``b ~ Binomial(b + c, ½)`` and the
    two-sided ``p = min(1, 2 · Σ_{k ≤ min(b, c)} C(b + c, k) · 2^−(b+c))`` (1 when ``b + c = 0``).
    ``correct_a[j]``, ``correct_b[j]`` say whether each classifier got image ``j`` right (booleans).
    """
    where = "mcnemar_exact"
    a, b = arrays.flags(correct_a, "correct_a", where), arrays.flags(correct_b, "correct_b", where)
    arrays.same_length(a, b, "correct_a", "correct_b", where)
    a_only, b_only = int(np.count_nonzero(a & ~b)), int(np.count_nonzero(~a & b))
    if a_only + b_only == 0:
        return a_only, b_only, 1.0
    tail = _sps.binom.cdf(min(a_only, b_only), a_only + b_only, 0.5)
    return a_only, b_only, float(min(1.0, 2.0 * tail))


def paired_bootstrap(
    a, b, *, n_boot: int = 10000, confidence: float = 0.95, seed: int = 0
) -> tuple[float, float, float, float]:
    """Difference of two configurations' per-artist values, paired by artist: ``(difference, ci_low,
    ci_high, p_value)``.

    ``difference = (1/K) Σ_k (a_k − b_k)``. Each of ``B = n_boot`` replicates draws ``K`` artists with
    replacement and takes ``d* = mean(a* − b*)`` (:func:`helpers.stats.bootstrap_means` of ``a − b``, so
    ``np.random.default_rng(seed)``); the interval is the ``α/2`` and ``1 − α/2`` quantiles of the ``d*``
    (numpy's linear rule), ``α = 1 − confidence``;
    the two-sided ``p = min(1, 2 · min(1 + #{d* ≤ 0}, 1 + #{d* ≥ 0}) / (B + 1))``. Needs at least two
    artists.
    """
    where = "paired_bootstrap"
    x, y = arrays.vector(a, "a", where, minimum=2), arrays.vector(b, "b", where, minimum=2)
    arrays.same_length(x, y, "a", "b", where)
    n_boot = arrays.positive_int(n_boot, "n_boot", where)
    alpha = 1.0 - arrays.probability(confidence, "confidence", where)
    d = x - y
    means = stats.bootstrap_means(d, n_boot=n_boot, seed=seed)
    low, high = np.quantile(means, [alpha / 2, 1 - alpha / 2])
    tails = min(1 + int((means <= 0).sum()), 1 + int((means >= 0).sum()))
    return float(d.mean()), float(low), float(high), min(1.0, 2.0 * tails / (n_boot + 1))


def signed_rank(a, b) -> float:
    """Wilcoxon's signed-rank test of paired values ``a`` against ``b`` (e.g. one configuration's per-artist
    accuracies against another's, paired by artist): the two-sided p-value. Pairs with ``a_k = b_k`` are
    dropped (``zero_method="wilcox"``); scipy chooses the exact distribution for few pairs without ties, the
    normal approximation with tie correction otherwise. ``p = 1`` when no pair differs."""
    where = "signed_rank"
    x, y = arrays.vector(a, "a", where), arrays.vector(b, "b", where)
    arrays.same_length(x, y, "a", "b", where)
    d = x - y
    if not np.any(d != 0):
        return 1.0
    return float(_sps.wilcoxon(d, zero_method="wilcox", alternative="two-sided").pvalue)
