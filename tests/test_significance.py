"""helpers.significance beyond the raw validation: centred validation (planted hubs), Spearman's rank
correlation, McNemar's exact test, the paired bootstrap over artists; and stats.spread. Hand-computed cases,
independent computations (tests/_reference.py), planted structure, errors."""

from __future__ import annotations

import math

import _reference as reference
import numpy as np
import pytest
from scipy.spatial.distance import cdist

from helpers import significance, stats
from helpers.errors import AuditError

# ----------------------------------------------------------------------------- centred validation


def _hand_validation():
    # A's real work points along x, B's along y. Imitations of A: (1,0), (2,1); of B: (0,1), (1,2).
    real = np.array([[1.0, 0.0], [0.0, 3.0]])
    imitations = np.array([[1.0, 0.0], [2.0, 1.0], [0.0, 1.0], [1.0, 2.0]])
    return real, ["A", "B"], imitations, ["A", "A", "B", "B"], ["A", "B", "C"]


def test_centred_validation_hand_case():
    # s_A = (1, 2/√5, 0, 1/√5), s_B = (0, 1/√5, 1, 2/√5); C has no real works, so the mean is over A and B:
    # (1/2, 3/(2√5), 1/2, 3/(2√5)). s'_A = (1/2, 1/(2√5), −1/2, −1/(2√5)) and s'_B = −s'_A.
    # Own still beats other in all 4 pairs: U = 4, p = 1/6 as before; the means are of s'.
    table = significance.validation_table(*_hand_validation(), centered=True)
    raw = significance.validation_table(*_hand_validation())
    assert list(table.columns) == list(raw.columns)
    assert table["statistic"].tolist() == [4.0, 4.0]
    np.testing.assert_allclose(table["p_value"], [1 / 6, 1 / 6], atol=1e-12)
    half = (0.5 + 1 / (2 * math.sqrt(5))) / 2
    np.testing.assert_allclose(table["mean_own"], [half, half], atol=1e-15)
    np.testing.assert_allclose(table["mean_other"], [-half, -half], atol=1e-15)
    long = significance.own_other_similarities(*_hand_validation(), centered=True)
    r5 = 1 / (2 * math.sqrt(5))
    np.testing.assert_allclose(long["similarity"], [0.5, r5, -0.5, -r5, 0.5, r5, -0.5, -r5], atol=1e-15)
    assert long["kind"].tolist() == ["own", "own", "other", "other"] * 2


def test_centred_validation_equals_a_direct_computation():
    rng = np.random.default_rng(21)
    names = [f"artist {k}" for k in range(5)]
    real_of = [names[k] for k in (1, 1, 2, 3, 3, 3, 4)]  # artist 0 has imitations but no real works
    imit_of = [names[k] for k in np.repeat(np.arange(5), 6)]
    real, imit = rng.standard_normal((7, 12)), rng.standard_normal((30, 12))
    table = significance.validation_table(real, real_of, imit, imit_of, names, centered=True, aggregate="max")
    validated = names[1:]

    def s(artist, i):
        mine = [r for r, a in zip(real, real_of, strict=True) if a == artist]
        return max(1 - cdist([r], [i], "cosine")[0, 0] for r in mine)

    centred = {a: [s(a, i) - np.mean([s(b, i) for b in validated]) for i in imit] for a in validated}
    p_values = []
    for row in table.itertuples():
        own = [v for v, a in zip(centred[row.artist], imit_of, strict=True) if a == row.artist]
        other = [v for v, a in zip(centred[row.artist], imit_of, strict=True) if a != row.artist]
        ref_u, ref_p = reference.mann_whitney_greater(own, other)
        assert row.statistic == ref_u and row.p_value == pytest.approx(ref_p, abs=1e-12)
        assert row.mean_own == pytest.approx(np.mean(own), abs=1e-12)
        assert row.mean_other == pytest.approx(np.mean(other), abs=1e-12)
        p_values.append(ref_p)
    np.testing.assert_allclose(table["p_adjusted"], reference.adjust(p_values, "bonferroni"), atol=1e-12)


def _hub_audit(seed: int, n_failed: int = 8, dim: int = 64, per_artist: int = 10, beta: float = 0.5):
    """A planted audit over orthonormal directions. Every artist's real works are ``e_a + β·g`` (plus a
    little noise): they share a common direction g. The *hub*'s imitations are ``g`` + noise — equally close
    to every artist's real works (cos ≈ β/√(1+β²)), so also to the hub's own. The *genuine* artist's
    imitations are ``e_G`` + noise: close to its real works only. Each *failed* artist's imitations point
    along a direction unrelated to any real work."""
    rng = np.random.default_rng(seed)
    names = ["hub", "genuine"] + [f"failed {k}" for k in range(n_failed)]
    k = len(names)
    basis = np.linalg.qr(rng.standard_normal((dim, 2 * k + 1)))[0].T
    e, g, unrelated = basis[:k], basis[k], basis[k + 1 :]
    real_of = np.repeat(np.arange(k), 5)
    real = e[real_of] + beta * g + 0.05 * rng.standard_normal((real_of.size, dim)) / math.sqrt(dim)
    imit_of = np.repeat(np.arange(k), per_artist)
    target = np.vstack([g, e[1], unrelated[2:]])
    imit = target[imit_of] + 0.3 * rng.standard_normal((imit_of.size, dim)) / math.sqrt(dim)
    return real, [names[i] for i in real_of], imit, [names[i] for i in imit_of], names


@pytest.mark.parametrize("seed", range(10))
def test_centring_removes_a_hub_and_keeps_a_genuine_imitation(seed):
    args = _hub_audit(seed)
    raw = significance.validation_table(*args).set_index("artist")
    centred = significance.validation_table(*args, centered=True).set_index("artist")
    # raw: the hub's imitations score ≈ 0.45 with its real works, other imitations ≈ 0 → "significant"
    assert raw.loc["hub", "significant"] and raw.loc["hub", "auc"] == 1.0
    assert raw.loc["hub", "mean_own"] == pytest.approx(0.5 / math.sqrt(1.25), abs=0.05)
    # centred: the hub's imitations are as close to every artist, so s' ≈ 0 and the verdict goes
    assert not centred.loc["hub", "significant"]
    assert abs(centred.loc["hub", "mean_own"]) < 0.02
    # the genuine imitation is significant either way
    assert raw.loc["genuine", "significant"] and centred.loc["genuine", "significant"]
    assert raw.loc["genuine", "auc"] == centred.loc["genuine", "auc"] == 1.0


def test_centred_validation_refuses_what_the_raw_one_refuses():
    real, real_of, imit, imit_of, names = _hand_validation()
    with pytest.raises(AuditError, match="fewer than two artists"):
        significance.validation_table(real, real_of, imit[:2], ["A", "A"], names, centered=True)
    with pytest.raises(AuditError, match="no artist has real works"):
        significance.own_other_similarities(np.empty((0, 2)), [], imit, imit_of, names, centered=True)


# ----------------------------------------------------------------------------- Spearman


def test_spearman_hand_cases():
    # ranks (1,2,3) and (1,3,2): Σd² = 2, ρ = 1 − 6·2/(3·8) = 1/2; t = ½·√(1/(3/2·1/2)) = 1/√3 with 1 dof
    # (Cauchy): p = 1 − (2/π)·atan(1/√3) = 1 − 1/3 = 2/3
    rho, p = significance.spearman([1, 2, 3], [10, 30, 20])
    assert rho == pytest.approx(0.5, abs=1e-15) and p == pytest.approx(2 / 3, abs=1e-12)
    # ties: ranks (1, 2.5, 2.5, 4) and (1,2,3,4): ρ = 4.5/√(4.5·5) = 3/√10; t = 3√2 with 2 dof, whose
    # two-sided p is 1 − |t|/√(2 + t²) = 1 − 3/√10
    rho, p = significance.spearman([1, 2, 2, 3], [1, 2, 3, 4])
    assert rho == pytest.approx(3 / math.sqrt(10), abs=1e-15)
    assert p == pytest.approx(1 - 3 / math.sqrt(10), abs=1e-12)


def test_spearman_on_planted_exposure():
    counts = np.array([101, 150, 400, 2_000, 35_000, 120_000])
    accuracy = np.log(counts) / 20  # strictly increasing in exposure, not linearly
    assert significance.spearman(counts, accuracy) == (1.0, 0.0)
    assert significance.spearman(counts, -accuracy) == (-1.0, 0.0)
    # ties in accuracy: its ranks (1.5, 1.5, 3, 4.5, 4.5, 6) less 3.5 are (−2, −2, −½, 1, 1, 5/2), the counts'
    # (1 … 6) less 3.5 are (−5/2, −3/2, −½, ½, 3/2, 5/2): Σ rq = 5 + 3 + ¼ + ½ + 3/2 + 25/4 = 16.5,
    # Σ r² = 16.5, Σ q² = 17.5 → ρ = 16.5/√(16.5·17.5) = √(16.5/17.5)
    tied = np.array([0.2, 0.2, 0.4, 0.6, 0.6, 0.9])
    rho, p = significance.spearman(counts, tied)
    assert rho == pytest.approx(math.sqrt(16.5 / 17.5), abs=1e-15)
    t = rho * math.sqrt(4 / (1 - rho**2))
    assert p == pytest.approx(reference.student_t_two_sided(t, 4), abs=1e-12)


@pytest.mark.parametrize("n", [3, 4, 5, 8, 13, 40])
def test_spearman_equals_an_independent_computation(n):
    rng = np.random.default_rng(n)
    x = rng.integers(0, 6, size=n).astype(float)  # many ties
    y = x + rng.normal(0, 2, size=n)
    if len(set(x)) == 1:
        x[0] += 1
    rho, p = significance.spearman(x, y)
    ref_rho, ref_p = reference.spearman(x, y)
    assert rho == pytest.approx(ref_rho, abs=1e-12)
    assert p == pytest.approx(ref_p, rel=1e-6, abs=1e-12)


@pytest.mark.parametrize(
    "x, y, message",
    [
        ([1, 2], [1, 2], "x has 2 value\\(s\\), fewer than the 3"),
        ([1, 2, np.nan], [1, 2, 3], "x holds NaN or inf"),
        ([1, 2, 3], [1, 2, np.inf], "y holds NaN or inf"),
        ([1, 2, 3], [1, 2, 3, 4], "x has 3 entries but y has 4"),
        ([5, 5, 5], [1, 2, 3], "x is constant"),
        ([1, 2, 3], [0.4, 0.4, 0.4], "y is constant"),
        ([[1, 2, 3]], [1, 2, 3], "1-D"),
    ],
)
def test_spearman_refuses(x, y, message):
    with pytest.raises(AuditError, match=message):
        significance.spearman(x, y)


# ----------------------------------------------------------------------------- McNemar


def _pairs(b: int, c: int, both: int = 3, neither: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """Paired correctness with ``b`` images only a gets right, ``c`` only b, and some concordant ones."""
    a = [True] * b + [False] * c + [True] * both + [False] * neither
    other = [False] * b + [True] * c + [True] * both + [False] * neither
    order = np.random.default_rng(b * 100 + c).permutation(len(a))
    return np.array(a)[order], np.array(other)[order]


def test_mcnemar_known_values():
    assert significance.mcnemar_exact(*_pairs(0, 5)) == (0, 5, pytest.approx(2 / 32, abs=1e-15))
    assert significance.mcnemar_exact(*_pairs(5, 0)) == (5, 0, pytest.approx(2 / 32, abs=1e-15))
    assert significance.mcnemar_exact(*_pairs(4, 4)) == (4, 4, 1.0)
    assert significance.mcnemar_exact(*_pairs(0, 0)) == (0, 0, 1.0)
    # b = 1, c = 4: 2·(C(5,0) + C(5,1))/32 = 12/32
    assert significance.mcnemar_exact(*_pairs(1, 4))[2] == pytest.approx(12 / 32, abs=1e-15)
    # concordant images change nothing
    more = significance.mcnemar_exact(*_pairs(1, 4, both=50, neither=70))
    assert more == (1, 4, pytest.approx(12 / 32, abs=1e-15))


@pytest.mark.parametrize("b, c", [(0, 1), (2, 9), (10, 11), (37, 60), (300, 251), (1000, 1100)])
def test_mcnemar_equals_integer_arithmetic(b, c):
    n_a_only, n_b_only, p = significance.mcnemar_exact(*_pairs(b, c))
    assert (n_a_only, n_b_only) == (b, c)
    assert p == pytest.approx(reference.mcnemar(b, c), rel=1e-9, abs=1e-300)


def test_mcnemar_refuses():
    yes = np.array([True, False, True])
    with pytest.raises(AuditError, match="correct_a has 3 entries but correct_b has 2"):
        significance.mcnemar_exact(yes, yes[:2])
    with pytest.raises(AuditError, match="dtype int64, not bool"):
        significance.mcnemar_exact(np.array([1, 0, 1]), yes)
    with pytest.raises(AuditError, match="correct_b is empty"):
        significance.mcnemar_exact(yes, np.array([], dtype=bool))
    with pytest.raises(AuditError, match="1-D"):
        significance.mcnemar_exact(yes[None, :], yes)


# ----------------------------------------------------------------------------- paired bootstrap


def test_paired_bootstrap_identical_inputs():
    a = np.random.default_rng(30).random(12)
    assert significance.paired_bootstrap(a, a.copy(), n_boot=500) == (0.0, 0.0, 0.0, 1.0)


def test_paired_bootstrap_constant_shift():
    b = np.random.default_rng(31).random(9)
    diff, low, high, p = significance.paired_bootstrap(b + 0.1, b, n_boot=999)
    assert (diff, low, high) == pytest.approx((0.1, 0.1, 0.1), abs=1e-12)
    # every replicate is > 0 and none ≤ 0: p = 2·(1 + 0)/(999 + 1)
    assert p == pytest.approx(2 / 1000, abs=1e-15)
    assert significance.paired_bootstrap(b, b + 0.1, n_boot=999)[3] == pytest.approx(2 / 1000, abs=1e-15)


def test_paired_bootstrap_follows_its_definition_and_seed():
    rng = np.random.default_rng(32)
    a, b = rng.random(15), rng.random(15)
    draws = np.random.default_rng(7).integers(0, 15, size=(3000, 15))
    replicates = np.array([np.mean(a[row] - b[row]) for row in draws])
    low, high = np.quantile(replicates, [0.05, 0.95])
    tails = min(1 + (replicates <= 0).sum(), 1 + (replicates >= 0).sum())
    result = significance.paired_bootstrap(a, b, n_boot=3000, confidence=0.9, seed=7)
    assert result == pytest.approx((np.mean(a - b), low, high, min(1, 2 * tails / 3001)), abs=1e-12)
    assert significance.paired_bootstrap(a, b, seed=3) == significance.paired_bootstrap(a, b, seed=3)
    assert significance.paired_bootstrap(a, b, seed=3) != significance.paired_bootstrap(a, b, seed=4)
    # the interval is the one-sample bootstrap of the differences, with the same draws
    assert result[1:3] == stats.bootstrap_mean_ci(a - b, n_boot=3000, confidence=0.9, seed=7)


def test_bootstrap_means_hand_case_and_refusal():
    # values {0, 1} resampled in pairs: every replicate mean is 0, 1/2 or 1
    means = stats.bootstrap_means([0.0, 1.0], n_boot=400, seed=5)
    assert means.shape == (400,) and set(means) == {0.0, 0.5, 1.0}
    assert (means == stats.bootstrap_means([0.0, 1.0], n_boot=400, seed=5)).all()
    with pytest.raises(AuditError, match="n_boot must be"):
        stats.bootstrap_means([0.1, 0.2], n_boot=-1)


def test_paired_bootstrap_sees_a_planted_difference_and_not_a_null():
    rng = np.random.default_rng(33)
    base = rng.random(40)
    better = np.clip(base + 0.1 + 0.02 * rng.standard_normal(40), 0, 1)
    diff, low, high, p = significance.paired_bootstrap(better, base, n_boot=2000)
    assert low > 0.05 and high < 0.15 and p == pytest.approx(2 / 2001)
    noisy = base + 0.05 * rng.standard_normal(40)
    diff, low, high, p = significance.paired_bootstrap(noisy, base, n_boot=2000)
    assert low < 0 < high and p > 0.05


@pytest.mark.parametrize(
    "a, b, kwargs, message",
    [
        ([0.5], [0.4], {}, "a has 1 value\\(s\\), fewer than the 2"),
        ([0.5, 0.6], [0.4, 0.3, 0.2], {}, "a has 2 entries but b has 3"),
        ([0.5, np.nan], [0.4, 0.3], {}, "a holds NaN"),
        ([0.5, 0.6], [0.4, 0.3], {"n_boot": 0}, "n_boot must be"),
        ([0.5, 0.6], [0.4, 0.3], {"confidence": 95}, "confidence"),
    ],
)
def test_paired_bootstrap_refuses(a, b, kwargs, message):
    with pytest.raises(AuditError, match=message):
        significance.paired_bootstrap(a, b, **kwargs)


# ----------------------------------------------------------------------------- spread over seeds


def test_spread_hand_cases():
    # 0.2, 0.4, 0.9: mean 0.5; squared deviations 0.09, 0.01, 0.16 sum to 0.26; sd = √(0.26/2) = √0.13
    out = stats.spread([0.4, 0.2, 0.9])
    assert list(out) == ["n", "mean", "sd", "min", "max"]
    expected = {"n": 3, "mean": 0.5, "sd": math.sqrt(0.13), "min": 0.2, "max": 0.9}
    assert out == pytest.approx(expected, abs=1e-15)
    one = stats.spread([0.7])
    assert one["n"] == 1 and one["mean"] == one["min"] == one["max"] == 0.7 and math.isnan(one["sd"])
    assert stats.spread([0.3, 0.3])["sd"] == 0.0


def test_spread_refuses():
    with pytest.raises(AuditError, match="values is empty"):
        stats.spread([])
    with pytest.raises(AuditError, match="NaN or inf"):
        stats.spread([0.1, np.nan])


@pytest.mark.parametrize("seed", range(4))
def test_signed_rank_equals_the_exact_enumeration(seed):
    rng = np.random.default_rng(seed)
    a = rng.normal(size=9)
    b = a - rng.normal(0.3, 1.0, size=9)  # differences without zeros or ties
    assert significance.signed_rank(a, b) == pytest.approx(reference.signed_rank_exact(a - b), abs=1e-12)


def test_signed_rank_of_identical_configurations_is_one_and_zero_pairs_drop():
    a = np.array([0.5, 0.7, 0.9, 0.2])
    assert significance.signed_rank(a, a.copy()) == 1.0
    b = a.copy()
    b[:2] -= [0.1, 0.3]  # two artists differ, two do not: the equal pairs are dropped
    assert significance.signed_rank(a, b) == pytest.approx(reference.signed_rank_exact([0.1, 0.3]), abs=1e-12)
