"""The artist-level validation test and the negative controls, against hand cases and a second, cell-by-cell
computation from the definitions (``_reference.artist_level_p``)."""

import math

import _reference as reference
import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from helpers import artist_level, controls, significance
from helpers.errors import AuditError


def _scores(m: np.ndarray, per: int = 1) -> significance.Scores:
    """Scores whose pair matrix is ``m``: artist k's works score ``m[k, j]`` on each of artist j's ``per``
    imitations."""
    k = m.shape[0]
    names = [f"a{i}" for i in range(m.shape[1])]
    values = np.repeat(m, per, axis=1)
    return significance.Scores(
        names[:k], np.ones(k, dtype=int), values, names, np.repeat(np.arange(m.shape[1]), per), np.arange(k)
    )


def _world(rng, k=8, n_img=5, n_works=3, d=16, signal=1.0):
    """Embeddings of a small world: each artist's works around its style; its imitations around
    ``signal`` × its style plus a cluster offset of their own."""
    style = rng.normal(size=(k, d))
    works = np.repeat(style, n_works, axis=0) + 0.5 * rng.normal(size=(k * n_works, d))
    centres = signal * style + rng.normal(size=(k, d))
    imitations = np.repeat(centres, n_img, axis=0) + 0.5 * rng.normal(size=(k * n_img, d))
    names = [f"artist {i}" for i in range(k)]
    return works, np.repeat(names, n_works), imitations, np.repeat(names, n_img), names


def test_pair_matrix_is_the_mean_score_per_pair_of_artists():
    s = significance.Scores(
        ["A", "B"],
        np.array([1, 1]),
        np.array([[1.0, 3.0, 5.0], [2.0, 4.0, 0.0]]),
        ["A", "B"],
        np.array([0, 0, 1]),
        np.array([0, 1]),
    )
    m, diagonal, columns = artist_level.pair_matrix(s)
    np.testing.assert_allclose(m, [[2.0, 5.0], [3.0, 0.0]])
    assert diagonal.tolist() == [0, 1] and columns == ["A", "B"]


def test_p_values_equal_a_cell_by_cell_computation():
    rng = np.random.default_rng(3)
    for shape in ((5, 5), (6, 8), (9, 9)):
        m = rng.normal(size=shape)
        m[np.arange(shape[0]), np.arange(shape[0])] += rng.uniform(0, 3, shape[0])
        table = artist_level.artist_level_test(_scores(m))
        np.testing.assert_allclose(
            table["p_artist_level"], reference.artist_level_p(m, np.arange(shape[0])), atol=1e-12
        )


def test_a_dominant_pairing_reaches_the_floor_and_passes_bonferroni():
    k = 22  # the floor 1/(1 + K(K - 1)) passes Bonferroni's α/K from 21 artists on
    m = np.random.default_rng(0).normal(size=(k, k)) + np.diag(np.full(k, 50.0))
    table = artist_level.artist_level_test(_scores(m), correction="bonferroni")
    floor = 1 / (1 + k * (k - 1))
    np.testing.assert_allclose(table["p_artist_level"], floor)
    assert floor * k <= 0.05 and table["significant_artist_level"].all() and table["identified"].all()


def test_row_and_column_levels_do_not_matter():
    """Adding any constant to a row of M (an artist whose works are close to every imitation) or to a column
    (a hub of imitations, close to every artist's works), or scaling all of M, leaves every p-value as it is."""
    rng = np.random.default_rng(5)
    m = rng.normal(size=(7, 9)) + np.pad(np.diag(rng.uniform(0, 2, 7)), ((0, 0), (0, 2)))
    base = artist_level.artist_level_test(_scores(m))["p_artist_level"].to_numpy()
    moved = m + rng.normal(size=(7, 1)) * 50 + rng.normal(size=(1, 9)) * 50
    np.testing.assert_allclose(artist_level.artist_level_test(_scores(moved))["p_artist_level"], base)
    np.testing.assert_allclose(artist_level.artist_level_test(_scores(3.7 * m))["p_artist_level"], base)


def test_the_order_of_the_artists_does_not_matter():
    rng = np.random.default_rng(7)
    m = rng.normal(size=(6, 6)) + np.diag(rng.uniform(0, 2, 6))
    order = rng.permutation(6)
    base = artist_level.artist_level_test(_scores(m))
    moved = artist_level.artist_level_test(_scores(m[np.ix_(order, order)]))
    np.testing.assert_allclose(moved["p_artist_level"], base["p_artist_level"].to_numpy()[order])


def test_too_few_artists_leave_the_test_uncomputed():
    table = artist_level.artist_level_test(_scores(np.eye(3) + 0.1))
    assert table["p_artist_level"].isna().all() and table["significant_artist_level"].isna().all()
    assert table["identified"].all()  # identification needs no reference set


def test_identification_and_its_exact_binomial_test():
    m = np.array([[3.0, 1.0, 0.0, 0.0], [1.0, 0.0, 2.0, 0.0], [0.0, 0.0, 5.0, 5.0], [0.0, 0.0, 0.0, 1.0]])
    assert artist_level.identification(m, np.arange(4)).tolist() == [True, False, False, True]  # a tie is no hit
    rate, chance, p = artist_level.identification_test([True, True, True, False], 4)
    assert (rate, chance) == (0.75, 0.25)
    assert p == pytest.approx(4 * 0.25**3 * 0.75 + 0.25**4, abs=1e-12)  # P(X ≥ 3), X ~ Binomial(4, 1/4)
    with pytest.raises(AuditError, match="no artist"):
        artist_level.identification_test([], 4)


def test_effect_is_own_minus_mean_other_with_a_seeded_interval():
    works, works_of, imitations, imitation_of, names = _world(np.random.default_rng(1))
    s = significance.scores(works, works_of, imitations, imitation_of, names)
    m, diagonal, _ = artist_level.pair_matrix(s)
    effects = artist_level.effect_intervals(works, works_of, imitations, imitation_of, names, n_boot=300, seed=4)
    expected = [m[k, diagonal[k]] - np.delete(m[k], diagonal[k]).mean() for k in range(len(names))]
    np.testing.assert_allclose(effects["effect_artist_level"], expected, atol=1e-12)
    assert (effects["effect_ci_low"] <= effects["effect_artist_level"]).all()
    assert (effects["effect_artist_level"] <= effects["effect_ci_high"]).all()
    again = artist_level.effect_intervals(works, works_of, imitations, imitation_of, names, n_boot=300, seed=4)
    pd.testing.assert_frame_equal(effects, again)
    other = artist_level.effect_intervals(works, works_of, imitations, imitation_of, names, n_boot=300, seed=5)
    assert not other["effect_ci_low"].equals(effects["effect_ci_low"])
    one = artist_level.effect_intervals(works[::3], works_of[::3], imitations[::5], imitation_of[::5], names, n_boot=50)
    assert (one["effect_ci_low"] == one["effect_ci_high"]).all()  # one work, one imitation: nothing to redraw


def test_deranged_shifts_are_every_shift_or_a_seeded_sample():
    assert controls.deranged_shifts(5) == [1, 2, 3, 4] and controls.deranged_shifts(1) == []
    sample = controls.deranged_shifts(30, 6, seed=2)
    assert len(sample) == 6 and sample == sorted(set(sample)) and 0 not in sample
    assert sample == controls.deranged_shifts(30, 6, seed=2) != controls.deranged_shifts(30, 6, seed=3)


def _settings(**kw):
    return controls.ControlSettings(
        **{"correction": "bonferroni", "artist_level_correction": "fdr_bh", "alpha": 0.05, **kw}
    )


def test_a_derangement_is_the_same_as_relabelled_real_works():
    """Replicate k of the deranged control equals validating a folder in which artist j holds artist (j+k)'s
    works — what a user with a mixed-up real-works folder would run."""
    works, works_of, imitations, imitation_of, names = _world(np.random.default_rng(2), k=6)
    s = significance.scores(works, works_of, imitations, imitation_of, names)
    pvalues = controls.run_controls(s, None, _settings())
    for k in (1, 4):
        relabel = {names[(j + k) % 6]: names[j] for j in range(6)}  # artist j is given artist j+k's works
        table = significance.validation_table(works, [relabel[a] for a in works_of], imitations, imitation_of, names)
        mine = pvalues[(pvalues["replicate"] == k) & (pvalues["test"] == "paper_test")].set_index("artist")
        np.testing.assert_allclose(mine.loc[table["artist"], "p_value"], table["p_value"], atol=1e-12)
        level = artist_level.artist_level_test(
            significance.scores(works, [relabel[a] for a in works_of], imitations, imitation_of, names)
        )
        mine = pvalues[(pvalues["replicate"] == k) & (pvalues["test"] == "artist_level")].set_index("artist")
        np.testing.assert_allclose(mine.loc[level["artist"], "p_value"], level["p_artist_level"], atol=1e-12)
    assert sorted(pvalues["replicate"].unique()) == [1, 2, 3, 4, 5]


def test_random_names_stand_in_for_the_imitations():
    rng = np.random.default_rng(8)
    works, works_of, _, _, names = _world(rng, k=5)
    rn = rng.normal(size=(4 * 3, works.shape[1]))
    rn_names = np.repeat([f"random {j}" for j in range(4)], 3)
    stand_in = controls.random_name_scores(works, works_of, rn, rn_names, names)
    s = significance.scores(works, works_of, rng.normal(size=(10, works.shape[1])), np.repeat(names, 2), names)
    pvalues = controls.run_controls(s, stand_in, _settings())
    mine = pvalues[pvalues["control"] == "random_names"]
    assert sorted(mine["replicate"].unique()) == [0, 1, 2, 3]  # m = min(5 artists, 4 random names)
    k = 2
    plays = {f"random {j}": names[(j + k) % 4] for j in range(4)}
    keep = np.isin(works_of, names[:4])
    table = significance.validation_table(works[keep], works_of[keep], rn, [plays[n] for n in rn_names], names[:4])
    got = mine[(mine["replicate"] == k) & (mine["test"] == "paper_test")].set_index("artist")
    np.testing.assert_allclose(got.loc[table["artist"], "p_value"], table["p_value"], atol=1e-12)
    assert controls.random_name_scores(works, works_of, rn[:3], rn_names[:3], names) is None  # one name: no control


def test_summarise_counts_false_positives_and_familywise_errors():
    rows = [
        ("deranged_works", rep, "paper_test", f"a{i}", p, p, sig)
        for rep, flags in ((1, [True, False, False]), (2, [False, False, False]), (3, [True, True, False]))
        for i, (sig, p) in enumerate(zip(flags, (0.01, 0.2, 0.9), strict=True))
    ]
    table = controls.summarise(pd.DataFrame(rows, columns=list(controls.PVALUE_COLUMNS)), _settings())
    row = table.iloc[0]
    assert (row.replicates, row.tests, row.false_positives, row.replicates_with_any) == (3, 9, 3, 2)
    assert row.false_positive_rate == pytest.approx(1 / 3) and row.familywise_error == pytest.approx(2 / 3)
    assert row.size_at_alpha == pytest.approx(3 / 9)  # the three p = 0.01
    z = sps.norm.isf(0.025)
    centre = (1 / 3 + z**2 / 18) / (1 + z**2 / 9)
    half = z * math.sqrt(1 / 3 * 2 / 3 / 9 + z**2 / (4 * 81)) / (1 + z**2 / 9)
    assert (row.fpr_ci_low, row.fpr_ci_high) == pytest.approx((centre - half, centre + half), abs=1e-12)


@pytest.mark.parametrize(
    "k, columns, correction, named",
    [
        (17, 17, "fdr_bh", 2),  # 17 / 273 = 0.062 > 0.05: one artist alone never passes, two together do
        (17, 17, "bonferroni", None),
        (17, 17, "holm", None),
        (17, 20, "bonferroni", None),  # three more imitated artists: 17 / 324 = 0.052, still above
        (17, 22, "bonferroni", 1),  # five more: 17 / 358 = 0.047
        (23, 23, "bonferroni", 1),  # 23 / 507 = 0.045
        (23, 23, "fdr_bh", 1),
        (8, 8, "fdr_bh", 3),  # 8 / 57 = 0.140: ceil(2.81)
    ],
)
def test_resolution_is_the_smallest_p_value_and_the_fewest_artists_named(k, columns, correction, named):
    """Known answers, whatever the scores: the smallest p-value is 1 / (1 + K·C − K) for K artists with real
    works and C imitated ones; under Benjamini–Hochberg the test names none or at least ⌈K·min_p/α⌉ artists,
    under Bonferroni and Holm one artist passes exactly when K·min_p ≤ α."""
    m = np.random.default_rng(k).normal(size=(k, columns))
    got = artist_level.resolution(_scores(m), correction=correction, alpha=0.05)
    min_p = 1 / (1 + k * columns - k)
    assert got["min_p"] == pytest.approx(min_p)
    if correction == "fdr_bh":
        expected = math.ceil(k * min_p / 0.05)
    else:
        expected = 1 if k * min_p <= 0.05 else None
    assert got["min_named"] == expected == named


def test_resolution_is_what_the_test_does_with_its_smallest_p_values():
    """The bound holds for the test itself: with 17 artists under Benjamini–Hochberg, one artist with a
    matched pair far closer than any mismatched one gets the smallest p-value and is not named; two are."""
    rng = np.random.default_rng(0)
    m = rng.normal(scale=0.1, size=(17, 17))
    one = m.copy()
    one[0, 0] = 10.0
    table = artist_level.artist_level_test(_scores(one), correction="fdr_bh", alpha=0.05).set_index("artist")
    first = table.index[0]
    assert table.at[first, "p_artist_level"] == pytest.approx(1 / 273)
    assert not table["significant_artist_level"].any()
    two = one.copy()
    two[1, 1] = 10.0
    table = artist_level.artist_level_test(_scores(two), correction="fdr_bh", alpha=0.05)
    assert table["significant_artist_level"].sum() == 2


def test_resolution_is_missing_below_the_minimum_number_of_artists():
    m = np.eye(artist_level.MIN_ARTISTS - 1)
    assert artist_level.resolution(_scores(m)) == {"min_p": None, "min_named": None}


def test_the_report_states_the_bound_in_words():
    from helpers.report.page import _resolution

    numbers = {"artist_level_correction": "holm"}
    assert _resolution(numbers) == "—"  # too few artists, or a summary from before the bound was recorded
    numbers["artist_level_min_p"] = 1 / 273
    assert "it can name no artist under holm" in _resolution({**numbers, "artist_level_min_named": None})
    assert _resolution({**numbers, "artist_level_min_named": 1}).endswith("a lone artist can be named")
    two = _resolution({**numbers, "artist_level_min_named": 2})
    assert two.startswith("smallest p-value 0.004") and "at least 2 together" in two
