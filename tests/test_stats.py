"""helpers.stats and helpers.significance: hand-computed cases, agreement with independent computations
(tests/_reference.py, statsmodels' intervals), planted structure, invariances, errors."""

from __future__ import annotations

import math
import tracemalloc

import _reference as reference
import numpy as np
import pandas as pd
import pytest
from scipy.spatial.distance import cdist
from statsmodels.stats.proportion import proportion_confint

from helpers import schema, significance, stats
from helpers.errors import AuditError

Z95 = 1.9599639845400545  # the 0.975 quantile of the standard normal


# ----------------------------------------------------------------------------- helpers


def _planted(rng, n_artists: int, per_artist: int, dim: int, noise: float):
    """Unit artist directions, and per artist ``per_artist`` points = direction + noise · N(0, I/dim)."""
    directions = stats.normalize(rng.standard_normal((n_artists, dim)))
    artist = np.repeat(np.arange(n_artists), per_artist)
    points = directions[artist] + noise * rng.standard_normal((artist.size, dim)) / math.sqrt(dim)
    return directions, artist, points


def _planted_accuracy(noise: float, seed: int = 0, n_artists: int = 5, per_artist: int = 40) -> float:
    rng = np.random.default_rng(seed)
    directions, artist, images = _planted(rng, n_artists, per_artist, 32, noise)
    idx, _ = stats.top_k(images, directions)
    table = stats.accuracy_table(artist, idx[:, 0], [f"a{i}" for i in range(n_artists)], group="artists")
    return stats.mean_accuracy(table)


def _validation_inputs(rng, n_artists=4, n_real=5, n_imitations=10, dim=32, noise=0.3, signal=True):
    names = [f"artist {i}" for i in range(n_artists)]
    directions = stats.normalize(rng.standard_normal((n_artists, dim)))
    scale = 1.0 if signal else 0.0
    real_of = np.repeat(np.arange(n_artists), n_real)
    imit_of = np.repeat(np.arange(n_artists), n_imitations)
    real = scale * directions[real_of] + noise * rng.standard_normal((real_of.size, dim))
    imit = scale * directions[imit_of] + noise * rng.standard_normal((imit_of.size, dim))
    return real, [names[i] for i in real_of], imit, [names[i] for i in imit_of], names


# ----------------------------------------------------------------------------- normalize and cosine


def test_normalize_hand_case():
    # ‖(3, 4)‖ = 5, ‖(0, -2)‖ = 2
    x = np.array([[3, 4], [0, -2]], dtype=np.float32)
    out = stats.normalize(x)
    assert out.dtype == np.float64
    np.testing.assert_allclose(out, [[0.6, 0.8], [0.0, -1.0]], rtol=0, atol=1e-15)
    np.testing.assert_array_equal(x, [[3, 4], [0, -2]])  # the input is untouched


def test_normalize_handles_huge_and_tiny_values():
    out = stats.normalize(np.array([[3e200, 4e200], [3e-200, 4e-200]]))
    np.testing.assert_allclose(out, [[0.6, 0.8], [0.6, 0.8]], rtol=1e-15)


@pytest.mark.parametrize(
    "x, message",
    [
        (np.array([[1.0, np.nan]]), "row 0 holds NaN or inf"),
        (np.array([[1.0, 1.0], [np.inf, 0.0]]), "row 1 holds NaN or inf"),
        (np.array([[1.0, 1.0], [0.0, 0.0]]), "row 1 is all zeros"),
        (np.array([1.0, 2.0]), "2-D"),
        (np.zeros((2, 2, 2)), "2-D"),
        (np.zeros((2, 0)), "no columns"),
    ],
)
def test_normalize_refuses(x, message):
    with pytest.raises(AuditError, match=message):
        stats.normalize(x)


def test_cosine_similarity_hand_case():
    # cos((1,0),(0,2)) = 0; cos((1,1),(0,2)) = 2/(√2·2) = 1/√2; cos((1,1),(5,5)) = 1
    a = np.array([[1.0, 0.0], [1.0, 1.0]])
    b = np.array([[0.0, 2.0], [5.0, 5.0]])
    np.testing.assert_allclose(stats.cosine_similarity(a, b), [[0.0, 1 / math.sqrt(2)], [1 / math.sqrt(2), 1.0]])


def test_cosine_similarity_equals_scipy():
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal((7, 5)), rng.standard_normal((4, 5))
    np.testing.assert_allclose(stats.cosine_similarity(a, b), 1 - cdist(a, b, "cosine"), rtol=0, atol=1e-12)


def test_cosine_similarity_refuses_mismatched_dims():
    with pytest.raises(AuditError, match="a has dimension 3 but b has 4"):
        stats.cosine_similarity(np.ones((2, 3)), np.ones((2, 4)))


# ----------------------------------------------------------------------------- top_k


def test_top_k_hand_case_with_ties():
    # cosines of images (1,0), (0,1), (1,1) with labels (1,0), (0,1), (-1,0):
    #   (1,0): [1, 0, -1]       → order 0, 1, 2
    #   (0,1): [0, 1, 0]        → 1, then the tie 0 = 2 broken to 0
    #   (1,1): [.707, .707, -.707] → the tie 0 = 1 broken to 0, then 2
    images = np.array([[1, 0], [0, 1], [1, 1]], dtype=np.float32)
    labels = np.array([[1, 0], [0, 1], [-1, 0]], dtype=np.float32)
    r = 1 / math.sqrt(2)
    idx, scores = stats.top_k(images, labels, k=3)
    assert idx.dtype == np.int64 and scores.dtype == np.float32
    np.testing.assert_array_equal(idx, [[0, 1, 2], [1, 0, 2], [0, 1, 2]])
    np.testing.assert_allclose(scores, [[1, 0, -1], [1, 0, 0], [r, r, -r]], atol=1e-7)
    idx1, scores1 = stats.top_k(images, labels)
    np.testing.assert_array_equal(idx1, [[0], [1], [0]])
    np.testing.assert_allclose(scores1, [[1], [1], [r]], atol=1e-7)


def _sign_matrix(rng, rows: int, dim: int = 16) -> np.ndarray:
    """Entries ±1, some rows doubled: every norm is a power of two, so float32 cosines are exact (multiples of 1/8)."""
    x = rng.choice(np.array([-1.0, 1.0], dtype=np.float32), size=(rows, dim))
    x[::3] *= 2
    return x


@pytest.mark.parametrize("k", [1, 2, 5, 12])
@pytest.mark.parametrize("chunk_size", [1, 2, 7, 16, 49, 50, 51, 8192])
def test_top_k_chunked_equals_full_argsort_exactly(k, chunk_size):
    # Many exact ties: a stable argsort of the exact cosines is the reference for "lowest index first".
    rng = np.random.default_rng(k * 100 + chunk_size)
    images, labels = _sign_matrix(rng, 50), _sign_matrix(rng, 12)
    exact = (np.sign(images).astype(np.float64) @ np.sign(labels).T) / 16
    ref = np.argsort(-exact, axis=1, kind="stable")[:, :k]
    idx, scores = stats.top_k(images, labels, k=k, chunk_size=chunk_size)
    np.testing.assert_array_equal(idx, ref)
    np.testing.assert_array_equal(scores, np.take_along_axis(exact, ref, axis=1).astype(np.float32))


@pytest.mark.parametrize("chunk_size", [1, 33, 64, 65, 1000])
def test_top_k_matches_float64_reference_on_random_data(chunk_size):
    rng = np.random.default_rng(chunk_size)
    images = rng.standard_normal((130, 24)).astype(np.float32)
    labels = rng.standard_normal((40, 24)).astype(np.float32)
    exact = 1 - cdist(images.astype(np.float64), labels.astype(np.float64), "cosine")
    ref_scores = -np.sort(-exact, axis=1)[:, :7]
    idx, scores = stats.top_k(images, labels, k=7, chunk_size=chunk_size)
    np.testing.assert_allclose(scores, ref_scores, atol=1e-6)
    # the chosen labels really have those scores (robust to float32 rounding among near-ties)
    np.testing.assert_allclose(np.take_along_axis(exact, idx, axis=1), ref_scores, atol=1e-6)
    assert (np.sort(idx, axis=1)[:, 1:] != np.sort(idx, axis=1)[:, :-1]).all()  # k distinct labels per row


def test_top_k_memory_is_bounded_by_the_chunk():
    # One full score matrix would be 20000 x 2000 x 4 B = 160 MB; chunks of 200 rows need about 6 MB.
    rng = np.random.default_rng(0)
    images = rng.standard_normal((20000, 16), dtype=np.float32)
    labels = rng.standard_normal((2000, 16), dtype=np.float32)
    for k in (1, 3):
        tracemalloc.start()
        stats.top_k(images, labels, k=k, chunk_size=200)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert peak < 20e6, f"k={k}: peak {peak / 1e6:.0f} MB"


def test_top_k_is_invariant_to_positive_scaling_and_label_order():
    rng = np.random.default_rng(3)
    images = rng.standard_normal((60, 8)).astype(np.float32)
    labels = rng.standard_normal((9, 8)).astype(np.float32)
    idx, scores = stats.top_k(images, labels, k=3)
    idx_s, scores_s = stats.top_k(images * 3.7, labels * 1e-3, k=3)
    np.testing.assert_array_equal(idx, idx_s)
    np.testing.assert_allclose(scores, scores_s, atol=1e-6)
    perm = rng.permutation(9)  # label j of the permuted list is label perm[j] of the original
    idx_p, scores_p = stats.top_k(images, labels[perm], k=3)
    np.testing.assert_array_equal(perm[idx_p], idx)
    np.testing.assert_allclose(scores_p, scores, atol=1e-6)


def test_top_k_accepts_float64_and_no_images():
    rng = np.random.default_rng(4)
    images, labels = rng.standard_normal((5, 3)), rng.standard_normal((4, 3))
    idx, scores = stats.top_k(images, labels, k=2)
    assert scores.dtype == np.float32 and idx.shape == (5, 2)
    idx0, scores0 = stats.top_k(np.empty((0, 3), np.float32), labels, k=2)
    assert idx0.shape == (0, 2) and scores0.shape == (0, 2)


@pytest.mark.parametrize(
    "images, labels, kwargs, message",
    [
        (np.ones((3, 4)), np.ones((2, 5)), {}, "image_emb has dimension 4 but label_emb has 5"),
        (np.ones((3, 4)), np.ones((1, 4)), {}, "a single label"),
        (np.ones((3, 4)), np.eye(4), {"k": 5}, "k=5 is more than the 4 labels"),
        (np.ones((3, 4)), np.eye(4), {"k": 0}, "k must be a whole number"),
        (np.ones((3, 4)), np.eye(4), {"chunk_size": 0}, "chunk_size must be"),
        (np.ones((3, 4)), np.vstack([np.eye(4), [[0, np.nan, 0, 0]]]), {}, "label_emb row 4 holds NaN"),
        (
            np.vstack([np.ones((5, 4)), [[0, 0, 0, np.inf]]]),
            np.eye(4),
            {"chunk_size": 2},
            "image_emb row 5 holds NaN",
        ),
        (
            np.vstack([np.ones((5, 4)), np.zeros((1, 4))]),
            np.eye(4),
            {"chunk_size": 4},
            "image_emb row 5 is all zeros",
        ),
    ],
)
def test_top_k_refuses(images, labels, kwargs, message):
    with pytest.raises(AuditError, match=message):
        stats.top_k(images, labels, **kwargs)


# ----------------------------------------------------------------------------- confusion and accuracy


def test_confusion_matrix_hand_case():
    # images: (true 0, pred 0), (0, 1), (1, 1), (2, 0)
    m = stats.confusion_matrix(np.array([0, 0, 1, 2]), np.array([0, 1, 1, 0]), 3)
    np.testing.assert_array_equal(m, [[1, 1, 0], [0, 1, 0], [1, 0, 0]])


@pytest.mark.parametrize(
    "true, pred, n_labels, message",
    [
        ([0, 1], [0, 3], 3, "pred_idx holds index 3, outside 0..2"),
        ([0, -1], [0, 1], 3, "true_idx holds index -1"),
        ([0, 1], [0], 3, "true_idx has 2 entries but pred_idx has 1"),
        ([0.0, 1.0], [0, 1], 3, "not integer label indices"),
        ([0, 1], [[0], [1]], 3, "pass the top-1 column"),
        ([0, 0], [0, 0], 1, "a single label"),
    ],
)
def test_confusion_matrix_refuses(true, pred, n_labels, message):
    with pytest.raises(AuditError, match=message):
        stats.confusion_matrix(np.array(true), np.array(pred), n_labels)


def test_proportion_interval_hand_cases():
    # Wilson, x = 0: centre ± half = (z²/2n ± z²/2n)/(1 + z²/n), so (0, z²/(n + z²)) = (0, 3.8415/13.8415)
    assert stats.proportion_interval(0, 10) == pytest.approx((0.0, 0.2775327998628893), abs=1e-12)
    # Wilson, x = 5, n = 10: 0.5 ± z·√(0.025 + z²/400)/(1 + z²/10)
    assert stats.proportion_interval(5, 10) == pytest.approx((0.23659309051256394, 0.7634069094874361), abs=1e-12)
    # Clopper–Pearson, x = 0: high solves (1 - p)^n = α/2, so 1 - 0.025^(1/10); x = n mirrors it
    assert stats.proportion_interval(0, 10, method="exact") == pytest.approx((0.0, 0.30849710781876083), abs=1e-12)
    assert stats.proportion_interval(10, 10, method="exact") == pytest.approx((0.6915028921812392, 1.0), abs=1e-12)


@pytest.mark.parametrize("method, sm_method", [("wilson", "wilson"), ("exact", "beta")])
@pytest.mark.parametrize("confidence", [0.9, 0.95, 0.99])
def test_proportion_interval_equals_statsmodels(method, sm_method, confidence):
    rng = np.random.default_rng(7)
    n = rng.integers(1, 200, size=300)
    x = rng.integers(0, n + 1)
    x[:5], n[:5] = 0, 7  # the edges x = 0 and x = n
    x[5:10] = n[5:10]
    low, high = stats.proportion_interval(x, n, confidence, method)
    ref_low, ref_high = proportion_confint(x, n, alpha=1 - confidence, method=sm_method)
    np.testing.assert_allclose(low, ref_low, rtol=0, atol=1e-12)
    np.testing.assert_allclose(high, ref_high, rtol=0, atol=1e-12)
    assert isinstance(stats.proportion_interval(3, 9, confidence, method)[0], float)


@pytest.mark.parametrize(
    "args, message",
    [
        ((3, 0), "n = 0 trials"),
        ((4, 3), "between 0 and n"),
        ((-1, 3), "between 0 and n"),
        ((1.5, 3), "between 0 and n"),
        ((1, 3, 1.5), "confidence must lie strictly between 0 and 1"),
        ((1, 3, 0.95, "normal"), "unknown interval method"),
    ],
)
def test_proportion_interval_refuses(args, message):
    with pytest.raises(AuditError, match=message):
        stats.proportion_interval(*args)


def test_accuracy_table_hand_case():
    # a: 2 images, both right; b: 3 images, 1 right; c: 1 image, wrong (matched to a)
    true = np.array([0, 0, 1, 1, 1, 2])
    pred = np.array([0, 0, 1, 0, 2, 0])
    table = stats.accuracy_table(true, pred, ["a", "b", "c"], group="artists")
    assert list(table.columns) == ["group", "name", "n_images", "n_correct", "accuracy", "ci_low", "ci_high"]
    assert table["group"].tolist() == ["artists"] * 3
    assert table["name"].tolist() == ["a", "b", "c"]
    assert table["n_images"].tolist() == [2, 3, 1]
    assert table["n_correct"].tolist() == [2, 1, 0]
    np.testing.assert_allclose(table["accuracy"], [1.0, 1 / 3, 0.0])
    low, high = stats.proportion_interval([2, 1, 0], [2, 3, 1])
    np.testing.assert_allclose(table["ci_low"], low)
    np.testing.assert_allclose(table["ci_high"], high)
    # mean over names = (1 + 1/3 + 0)/3 = 4/9; pooled = 3 correct / 6 images = 1/2; chance = 1/3
    assert stats.mean_accuracy(table) == pytest.approx(4 / 9, abs=1e-15)
    assert stats.pooled_accuracy(table) == pytest.approx(0.5, abs=1e-15)
    assert stats.chance(3) == pytest.approx(1 / 3, abs=1e-15)
    exact = stats.accuracy_table(true, pred, ["a", "b", "c"], group="artists", interval="exact", confidence=0.9)
    low, high = stats.proportion_interval([2, 1, 0], [2, 3, 1], 0.9, "exact")
    np.testing.assert_allclose(exact["ci_low"], low)


def test_accuracy_table_is_invariant_to_name_order():
    rng = np.random.default_rng(5)
    names = ["a", "b", "c", "d"]
    true = rng.integers(0, 4, size=80)
    pred = np.where(rng.random(80) < 0.6, true, rng.integers(0, 4, size=80))
    perm = np.array([2, 0, 3, 1])  # new label j is old label perm[j]
    new_of_old = np.argsort(perm)
    table = stats.accuracy_table(true, pred, names, group="g").set_index("name")
    permuted = stats.accuracy_table(new_of_old[true], new_of_old[pred], [names[i] for i in perm], group="g")
    pd.testing.assert_frame_equal(permuted.set_index("name").loc[names], table)
    assert stats.mean_accuracy(permuted) == pytest.approx(stats.mean_accuracy(table.reset_index()), abs=1e-15)


def test_accuracy_table_refuses():
    with pytest.raises(AuditError, match="1 name\\(s\\) have no images: 'c'"):
        stats.accuracy_table(np.array([0, 1]), np.array([0, 1]), ["a", "b", "c"], group="artists")
    with pytest.raises(AuditError, match="name 'a' appears twice"):
        stats.accuracy_table(np.array([0, 1]), np.array([0, 1]), ["a", "a"], group="artists")
    with pytest.raises(AuditError, match="a single label"):
        stats.accuracy_table(np.array([0]), np.array([0]), ["a"], group="artists")


def test_headline_numbers_refuse_bad_tables():
    t = stats.accuracy_table(np.array([0, 1]), np.array([0, 1]), ["a", "b"], group="x")
    both = pd.concat([t, t.assign(group="y")])
    with pytest.raises(AuditError, match="mixes groups"):
        stats.mean_accuracy(both)
    with pytest.raises(AuditError, match="empty"):
        stats.pooled_accuracy(t.iloc[:0])
    with pytest.raises(AuditError, match="lacks columns"):
        stats.mean_accuracy(t.drop(columns="n_images"))
    with pytest.raises(AuditError, match="a single label"):
        stats.chance(1)


# ----------------------------------------------------------------------------- bootstrap and permutation


def test_bootstrap_hand_cases():
    # constant values: every resample has the same mean
    assert stats.bootstrap_mean_ci(np.full(5, 0.3)) == pytest.approx((0.3, 0.3), abs=1e-15)
    # values {0, 1}: a resample of 2 has mean 0, 1/2, 1 with probability 1/4, 1/2, 1/4, so the 2.5% and
    # 97.5% quantiles are 0 and 1, and the 30% and 70% quantiles both fall on 1/2
    assert stats.bootstrap_mean_ci(np.array([0.0, 1.0])) == (0.0, 1.0)
    assert stats.bootstrap_mean_ci(np.array([0.0, 1.0]), confidence=0.4) == (0.5, 0.5)


def test_bootstrap_follows_its_definition_and_seed():
    values = np.random.default_rng(8).random(23)
    rng = np.random.default_rng(11)
    means = values[rng.integers(0, 23, size=(2000, 23))].mean(axis=1)
    expected = tuple(np.quantile(means, [0.05, 0.95]))
    assert stats.bootstrap_mean_ci(values, n_boot=2000, confidence=0.9, seed=11) == pytest.approx(expected, abs=1e-15)
    assert stats.bootstrap_mean_ci(values, seed=1) != stats.bootstrap_mean_ci(values, seed=2)


def test_bootstrap_agrees_with_normal_theory_for_many_values():
    values = np.random.default_rng(9).random(2000)
    half = Z95 * values.std(ddof=0) / math.sqrt(values.size)
    low, high = stats.bootstrap_mean_ci(values, n_boot=4000)
    assert low == pytest.approx(values.mean() - half, abs=0.1 * half)
    assert high == pytest.approx(values.mean() + half, abs=0.1 * half)


@pytest.mark.parametrize(
    "values, kwargs, message",
    [
        ([], {}, "values is empty"),
        ([0.1, np.nan], {}, "NaN or inf"),
        ([0.1, 0.2], {"n_boot": 0}, "n_boot must be"),
        ([0.1, 0.2], {"confidence": 1.0}, "confidence"),
    ],
)
def test_bootstrap_refuses(values, kwargs, message):
    with pytest.raises(AuditError, match=message):
        stats.bootstrap_mean_ci(np.array(values), **kwargs)


def test_permutation_hand_cases():
    # names are the units: true (0,0,1,1) all predicted right; of the 2! = 2 assignments of the two image
    # groups to the two names only the observed one reaches accuracy 1, so p = 1/2 exactly (enumerated)
    true = np.array([0, 0, 1, 1])
    assert stats.permutation_test_vs_chance(true, true, 2, n_perm=20000, seed=1) == 0.5
    # everything predicted 0: every assignment gives accuracy (1 + 0)/2 = observed, so p = 1 exactly
    assert stats.permutation_test_vs_chance(true, np.zeros(4, dtype=int), 2, n_perm=500) == 1.0
    # three names: name 0 right, names 1 and 2 mistaken for each other, T = 1/3. Over the 3! assignments
    # σ, T_σ = mean_a C[a, σ(a)] is 1/3 (identity), 1 (σ = 0,2,1), 0 (1,0,2), 1/3 (1,2,0), 1/3 (2,0,1), 0 (2,1,0):
    # four of six reach 1/3, p = 4/6
    true, pred = np.repeat([0, 1, 2], 2), np.repeat([0, 2, 1], 2)
    assert stats.permutation_test_vs_chance(true, pred, 3, n_perm=100) == pytest.approx(4 / 6, abs=1e-15)


def test_permutation_planted_signal_and_null():
    rng = np.random.default_rng(10)
    true = np.repeat(np.arange(6), 15)
    assert stats.permutation_test_vs_chance(true, true, 6, n_perm=999) == pytest.approx(1 / 720)  # 6! enumerated
    true = np.repeat(np.arange(9), 15)  # 9! > n_perm: sampled permutations, p = (1 + hits) / (1 + n_perm)
    assert stats.permutation_test_vs_chance(true, true, 9, n_perm=999) == pytest.approx(1 / 1000)
    # null: predictions independent of the truth; p-values must not be systematically small
    hits = sum(
        stats.permutation_test_vs_chance(true, rng.integers(0, 9, size=true.size), 9, n_perm=99, seed=s) <= 0.05
        for s in range(200)
    )
    # P(p ≤ 0.05) ≤ 0.05 under the null; allow 2.33 binomial standard errors (one-sided 1%)
    assert hits <= 200 * 0.05 + 2.33 * math.sqrt(200 * 0.05 * 0.95)
    assert hits >= 1  # and the test is not degenerate (always p = 1)


def test_permutation_is_invariant_to_relabelling():
    rng = np.random.default_rng(12)
    true = rng.integers(0, 5, size=60)
    pred = np.where(rng.random(60) < 0.4, true, rng.integers(0, 5, size=60))
    relabel = np.array([3, 0, 4, 1, 2])
    p = stats.permutation_test_vs_chance(true, pred, 5, n_perm=500, seed=3)
    assert stats.permutation_test_vs_chance(relabel[true], relabel[pred], 5, n_perm=500, seed=3) == p


def test_permutation_refuses():
    with pytest.raises(AuditError, match="no images"):
        stats.permutation_test_vs_chance(np.array([], dtype=int), np.array([], dtype=int), 3)
    with pytest.raises(AuditError, match="n_perm must be"):
        stats.permutation_test_vs_chance(np.array([0, 1]), np.array([0, 1]), 2, n_perm=0)


# ----------------------------------------------------------------------------- planted accuracy


def test_accuracy_goes_to_one_without_noise_and_to_chance_with_much_noise():
    accuracies = [_planted_accuracy(noise) for noise in (1e-3, 0.5, 2.0, 1e4)]
    assert accuracies[0] == 1.0
    assert accuracies[0] >= accuracies[1] >= accuracies[2] >= accuracies[3] - 0.05
    # 200 images among 5 labels: chance 0.2, binomial SE √(0.2·0.8/200) = 0.028; allow 4 SE
    assert abs(accuracies[3] - stats.chance(5)) < 4 * math.sqrt(0.2 * 0.8 / 200)


# ----------------------------------------------------------------------------- Mann–Whitney and corrections


def test_mann_whitney_hand_cases():
    # own (3, 4) above other (1, 2): U = 4 of 4 pairs; exact p = 1/C(4,2) = 1/6
    u, p, auc = significance.mann_whitney_greater([3.0, 4.0], [1.0, 2.0])
    assert (u, auc) == (4.0, 1.0) and p == pytest.approx(1 / 6, abs=1e-12)
    # own (1, 3), other (2): U = [1>2] + [3>2] = 1; U ∈ {0, 1, 2} equally likely, P(U ≥ 1) = 2/3
    u, p, auc = significance.mann_whitney_greater([1.0, 3.0], [2.0])
    assert (u, auc) == (1.0, 0.5) and p == pytest.approx(2 / 3, abs=1e-12)
    # a tie counts one half: own (1, 2), other (2, 0) gives 0 + 1 + ½ + 1 = 2.5 of 4
    u, _, auc = significance.mann_whitney_greater([1.0, 2.0], [2.0, 0.0])
    assert (u, auc) == (2.5, 0.625)


@pytest.mark.parametrize("sizes", [(3, 5), (8, 30), (9, 9), (25, 40), (60, 200)])
@pytest.mark.parametrize("ties", [False, True])
def test_mann_whitney_equals_an_independent_computation(sizes, ties):
    """Exact null distribution counted by recursion for small samples, else the normal approximation with
    tie and continuity corrections written out (tests/_reference.py)."""
    rng = np.random.default_rng(sizes[0] * 7 + ties)
    own, other = rng.standard_normal(sizes[0]) + 0.3, rng.standard_normal(sizes[1])
    if ties:
        own, other = np.round(own, 1), np.round(other, 1)
    u, p, auc = significance.mann_whitney_greater(own, other)
    ref_u, ref_p = reference.mann_whitney_greater(own, other)
    assert u == ref_u
    assert p == pytest.approx(ref_p, abs=1e-12)
    pairs = (own[:, None] > other[None, :]).sum() + 0.5 * (own[:, None] == other[None, :]).sum()
    assert u == pairs and auc == pytest.approx(pairs / (sizes[0] * sizes[1]), abs=1e-15)


@pytest.mark.parametrize(
    "own, other, message",
    [
        ([], [1.0], "own is empty"),
        ([1.0], [], "other is empty"),
        ([np.nan], [1.0], "NaN"),
        ([[1.0]], [1.0], "1-D"),
    ],
)
def test_mann_whitney_refuses(own, other, message):
    with pytest.raises(AuditError, match=message):
        significance.mann_whitney_greater(own, other)


def test_adjust_pvalues_hand_cases():
    p = np.array([0.01, 0.04, 0.5])
    # Bonferroni: 3p capped at 1
    adj, rej = significance.adjust_pvalues(p, "bonferroni")
    np.testing.assert_allclose(adj, [0.03, 0.12, 1.0])
    np.testing.assert_array_equal(rej, [True, False, False])
    # Holm: 3·0.01, max(0.03, 2·0.04), max(0.08, 1·0.5)
    adj, rej = significance.adjust_pvalues(p, "holm")
    np.testing.assert_allclose(adj, [0.03, 0.08, 0.5])
    np.testing.assert_array_equal(rej, [True, False, False])
    # BH: from the top, 0.5·3/3 = 0.5, min(0.5, 0.04·3/2) = 0.06, min(0.06, 0.01·3/1) = 0.03
    adj, rej = significance.adjust_pvalues(p, "fdr_bh")
    np.testing.assert_allclose(adj, [0.03, 0.06, 0.5])
    np.testing.assert_array_equal(rej, [True, False, False])


@pytest.mark.parametrize("method", ["bonferroni", "holm", "fdr_bh"])
def test_adjust_pvalues_equals_the_definitions(method):
    p = np.random.default_rng(13).random(40) ** 3
    adj, rej = significance.adjust_pvalues(p, method, alpha=0.1)
    ref_adj = reference.adjust(p, method)
    np.testing.assert_allclose(adj, ref_adj, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(rej, ref_adj <= 0.1)


def test_adjust_pvalues_edges_and_refusals():
    adj, rej = significance.adjust_pvalues([])
    assert adj.size == 0 and rej.size == 0
    with pytest.raises(AuditError, match="unknown correction"):
        significance.adjust_pvalues([0.1], "sidak")
    with pytest.raises(AuditError, match=r"lie in \[0, 1\]"):
        significance.adjust_pvalues([0.1, 1.2])
    with pytest.raises(AuditError, match=r"lie in \[0, 1\]"):
        significance.adjust_pvalues([np.nan])
    with pytest.raises(AuditError, match="alpha"):
        significance.adjust_pvalues([0.1], alpha=0)


# ----------------------------------------------------------------------------- validation


def _hand_validation():
    # A's real work points along x, B's along y. Imitations of A: (1,0), (2,1); of B: (0,1), (1,2).
    real = np.array([[1.0, 0.0], [0.0, 3.0]])
    imitations = np.array([[1.0, 0.0], [2.0, 1.0], [0.0, 1.0], [1.0, 2.0]])
    return real, ["A", "B"], imitations, ["A", "A", "B", "B"], ["A", "B", "C"]


def test_validation_table_hand_case():
    # s_A(i) = cos((1,0), i) = 1, 2/√5 (own) and 0, 1/√5 (other): own beat other in all 4 pairs, U = 4,
    # exact p = 1/C(4,2) = 1/6. B is the mirror image. Bonferroni over m = 2 rows: 2/6 = 1/3.
    # C has no real works, so it has no row (and its lack of imitations is no error).
    table = significance.validation_table(*_hand_validation())
    assert list(table.columns) == [
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
    ]
    assert table["artist"].tolist() == ["A", "B"]
    assert table["n_real"].tolist() == [1, 1]
    assert table["n_own"].tolist() == [2, 2] and table["n_other"].tolist() == [2, 2]
    assert table["statistic"].tolist() == [4.0, 4.0] and table["auc"].tolist() == [1.0, 1.0]
    np.testing.assert_allclose(table["p_value"], [1 / 6, 1 / 6], atol=1e-12)
    np.testing.assert_allclose(table["p_adjusted"], [1 / 3, 1 / 3], atol=1e-12)
    assert table["significant"].tolist() == [False, False]
    np.testing.assert_allclose(table["mean_own"], [(1 + 2 / math.sqrt(5)) / 2] * 2)
    np.testing.assert_allclose(table["mean_other"], [(1 / math.sqrt(5)) / 2] * 2)


def test_own_other_similarities_hand_case_and_aggregates():
    long = significance.own_other_similarities(*_hand_validation())
    assert list(long.columns) == ["artist", "kind", "similarity"]
    a = long[long["artist"] == "A"]
    assert a["kind"].tolist() == ["own", "own", "other", "other"]
    np.testing.assert_allclose(a["similarity"], [1, 2 / math.sqrt(5), 0, 1 / math.sqrt(5)], atol=1e-15)
    # three real works of A: (1,0), (0,1), (1,1); imitation (1,0) has cosines 1, 0, 1/√2 with them
    real = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    imitations = np.array([[1.0, 0.0], [0.0, 1.0]])
    r = 1 / math.sqrt(2)
    for aggregate, expected in (("mean", (1 + r) / 3), ("max", 1.0), ("median", r)):
        long = significance.own_other_similarities(
            real, ["A"] * 3, imitations, ["A", "B"], ["A", "B"], aggregate=aggregate
        )
        assert long["similarity"].iloc[0] == pytest.approx(expected, abs=1e-15)


def test_validation_table_equals_a_direct_computation():
    rng = np.random.default_rng(14)
    real, real_of, imit, imit_of, names = _validation_inputs(rng, n_artists=5, noise=2.0)
    real_of[:5] = ["artist 4"] * 5  # artist 0 has no real works; artist 4 has ten
    for aggregate, fn in (("mean", np.mean), ("max", np.max), ("median", np.median)):
        table = significance.validation_table(
            real, real_of, imit, imit_of, names, aggregate=aggregate, correction="holm"
        )
        assert table["artist"].tolist() == names[1:]
        p_values = []
        for row in table.itertuples():
            mine = [r for r, a in zip(real, real_of, strict=True) if a == row.artist]
            s = [fn([1 - cdist([r], [i], "cosine")[0, 0] for r in mine]) for i in imit]
            own = [v for v, a in zip(s, imit_of, strict=True) if a == row.artist]
            other = [v for v, a in zip(s, imit_of, strict=True) if a != row.artist]
            ref_u, ref_p = reference.mann_whitney_greater(own, other)
            assert row.n_real == len(mine) and row.statistic == ref_u
            assert row.p_value == pytest.approx(ref_p, abs=1e-12)
            assert row.mean_own == pytest.approx(np.mean(own), abs=1e-12)
            p_values.append(ref_p)
        ref_adj = reference.adjust(p_values, "holm")
        np.testing.assert_allclose(table["p_adjusted"], ref_adj, atol=1e-12)
        np.testing.assert_array_equal(table["significant"], ref_adj <= 0.05)


def test_validation_planted_signal_gives_tiny_pvalues():
    real, real_of, imit, imit_of, names = _validation_inputs(np.random.default_rng(15))
    table = significance.validation_table(real, real_of, imit, imit_of, names)
    # perfect separation with 10 own and 30 other: z = (300 - 150)/√(10·30·41/12) ≈ 4.7, p ≈ 1e-6
    assert (table["p_value"] < 1e-4).all() and table["significant"].all()
    assert (table["auc"] > 0.95).all()


def test_validation_null_keeps_family_wise_error_at_alpha():
    # 300 simulated audits with no artist signal at all: 5 artists, 3 real works, 6 imitations each.
    rng = np.random.default_rng(16)
    any_rejected, raw_hits, tests = 0, 0, 0
    for _ in range(300):
        real, real_of, imit, imit_of, names = _validation_inputs(
            rng, n_artists=5, n_real=3, n_imitations=6, dim=16, noise=1.0, signal=False
        )
        table = significance.validation_table(real, real_of, imit, imit_of, names, alpha=0.05)
        any_rejected += bool(table["significant"].any())
        raw_hits += int((table["p_value"] <= 0.05).sum())
        tests += len(table)
    # Bonferroni: P(any rejection) ≤ 0.05; allow 2.33 binomial SE (one-sided 1%) over 300 runs
    assert any_rejected / 300 <= 0.05 + 2.33 * math.sqrt(0.05 * 0.95 / 300)
    # each raw p-value is uniform under the null, so about 5% of the 1500 fall below 0.05 (the 5 tests
    # of one run share its imitations, so the spread is wider than binomial: allow ±0.025)
    assert 0.025 <= raw_hits / tests <= 0.075


def test_validation_is_invariant_to_artist_order_row_order_and_scale():
    rng = np.random.default_rng(17)
    real, real_of, imit, imit_of, names = _validation_inputs(rng, n_artists=5, noise=1.5)
    table = significance.validation_table(real, real_of, imit, imit_of, names).set_index("artist")
    rows_r, rows_i = rng.permutation(len(real)), rng.permutation(len(imit))
    shuffled = significance.validation_table(
        real[rows_r] * 3.7,
        [real_of[i] for i in rows_r],
        imit[rows_i] * 1e-3,
        [imit_of[i] for i in rows_i],
        [names[i] for i in rng.permutation(len(names))],
    ).set_index("artist")
    shuffled = shuffled.loc[table.index]
    pd.testing.assert_frame_equal(
        shuffled[["n_real", "n_own", "n_other", "statistic", "significant"]],
        table[["n_real", "n_own", "n_other", "statistic", "significant"]],
    )
    for column in ("p_value", "p_adjusted", "auc", "mean_own", "mean_other"):
        np.testing.assert_allclose(shuffled[column], table[column], rtol=1e-9, atol=1e-12)


def test_validation_refuses():
    real, real_of, imit, imit_of, names = _hand_validation()
    with pytest.raises(AuditError, match="real_emb has dimension 2 but imitation_emb has 3"):
        significance.validation_table(real, real_of, np.ones((4, 3)), imit_of, names)
    with pytest.raises(AuditError, match="imitation_emb row 2 holds NaN"):
        significance.validation_table(real, real_of, np.where(np.arange(4)[:, None] == 2, np.nan, imit), imit_of, names)
    with pytest.raises(AuditError, match="artist 'B' has 1 real work\\(s\\) but no imitations"):
        significance.validation_table(real, real_of, imit[[0, 1]], ["A", "C"], names)
    with pytest.raises(AuditError, match="fewer than two artists"):
        significance.validation_table(real, real_of, imit[:2], ["A", "A"], names)
    with pytest.raises(AuditError, match="'D', which is not in artists"):
        significance.validation_table(real, ["A", "D"], imit, imit_of, names)
    with pytest.raises(AuditError, match="real_artist has shape"):
        significance.validation_table(real, ["A"], imit, imit_of, names)
    with pytest.raises(AuditError, match="artist 'A' appears twice"):
        significance.validation_table(real, real_of, imit, imit_of, ["A", "B", "A"])
    with pytest.raises(AuditError, match="no artist has real works"):
        significance.validation_table(np.empty((0, 2)), [], imit, imit_of, names)
    with pytest.raises(AuditError, match="unknown aggregate"):
        significance.own_other_similarities(real, real_of, imit, imit_of, names, aggregate="sum")
    with pytest.raises(AuditError, match="unknown correction"):
        significance.validation_table(real, real_of, imit, imit_of, names, correction="sidak")


# ----------------------------------------------------------------------------- sample-size curve and PCA


def test_sample_size_curve_hand_cases():
    # label 0: 2 of 2 right; label 1: 1 of 2 right. Mean accuracy with all images: (1 + 1/2)/2 = 3/4.
    true, pred = np.array([0, 0, 1, 1]), np.array([0, 0, 1, 0])
    curve = stats.sample_size_curve(true, pred, 2, repeats=2000)
    assert list(curve.columns) == ["n_images", "mean_accuracy", "ci_low", "ci_high"]
    assert curve["n_images"].tolist() == [1, 2]
    # n = 2 keeps every image: no spread at all
    assert tuple(curve.iloc[1, 1:]) == pytest.approx((0.75, 0.75, 0.75), abs=1e-15)
    # n = 1: label 0 scores 1, label 1 scores 0 or 1 with probability 1/2, so the mean is 1/2 or 1
    assert (curve.loc[0, "ci_low"], curve.loc[0, "ci_high"]) == (0.5, 1.0)
    assert curve.loc[0, "mean_accuracy"] == pytest.approx(0.75, abs=0.03)
    # with replacement, n = 2 still varies: label 1 scores 0, 1/2 or 1
    replaced = stats.sample_size_curve(true, pred, 2, sizes=[2], repeats=2000, replace=True)
    assert (replaced.loc[0, "ci_low"], replaced.loc[0, "ci_high"]) == (0.5, 1.0)


def test_sample_size_curve_caps_at_each_labels_count_and_narrows():
    rng = np.random.default_rng(18)
    true = np.repeat(np.arange(4), [30, 30, 30, 10])
    pred = np.where(rng.random(true.size) < 0.7, true, (true + 1) % 4)
    curve = stats.sample_size_curve(true, pred, 4, repeats=500, seed=2)
    assert curve["n_images"].tolist() == list(range(1, 31))
    table = stats.accuracy_table(true, pred, list("abcd"), group="g")
    last = curve.iloc[-1]
    assert last["ci_low"] == last["ci_high"] == pytest.approx(stats.mean_accuracy(table), abs=1e-12)
    width = (curve["ci_high"] - curve["ci_low"]).to_numpy()
    assert width[0] > width[9] > width[-1]


def test_sample_size_curve_refuses():
    with pytest.raises(AuditError, match="no images"):
        stats.sample_size_curve(np.array([], dtype=int), np.array([], dtype=int), 2)
    with pytest.raises(AuditError, match="sizes must be"):
        stats.sample_size_curve(np.array([0, 1]), np.array([0, 1]), 2, sizes=[0])
    with pytest.raises(AuditError, match="sizes is empty"):
        stats.sample_size_curve(np.array([0, 1]), np.array([0, 1]), 2, sizes=[])


def test_principal_components_hand_case():
    # points on the line y = 2x, centred at the origin: all spread is on the axis (1, 2)/√5
    x = np.array([[-1.0, -2.0], [0.0, 0.0], [1.0, 2.0]])
    coords = stats.principal_components(x, 2)
    np.testing.assert_allclose(coords[:, 0], [-math.sqrt(5), 0, math.sqrt(5)], atol=1e-12)
    np.testing.assert_allclose(coords[:, 1], 0, atol=1e-12)
    np.testing.assert_allclose(stats.principal_components(-x, 1)[:, 0], -coords[:, 0], atol=1e-12)
    with pytest.raises(AuditError, match="3 components"):
        stats.principal_components(x, 3)


def test_the_choices_of_the_statistics_are_the_schemas():
    """One definition of each choice: what the params accept is exactly what the functions implement."""
    assert set(stats._INTERVALS) == set(schema.INTERVALS)
    assert set(significance._CORRECTIONS) == set(schema.CORRECTIONS)
    assert set(significance._AGGREGATES) == set(schema.AGGREGATES)
