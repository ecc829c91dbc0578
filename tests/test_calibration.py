"""Every test the audit reports is calibrated: simulated under a true null with clustered images
(:mod:`helpers.simulation`), it rejects at most a share α, within the stated margin — and the tests it
replaced, which count images as independent, are shown not to be (their error rates are reported, not
hidden). The same rates over more worlds are printed by ``bench/calibration.py`` (numbers in
``bench/RESULTS.md``).

Margins: a rejection rate measured on ``n`` null tests is allowed 3 binomial standard errors above α,
``α + 3·√(α(1 − α)/n)`` (tests of one world share their reference set, so the spread is a little wider than
binomial; 3 standard errors keeps a calibrated test from failing by luck). Every simulation is seeded.
"""

import math

import numpy as np
import pytest

from helpers import significance, simulation, stats

ALPHA = 0.05


def _bound(n: int) -> float:
    return ALPHA + 3 * math.sqrt(ALPHA * (1 - ALPHA) / n)


@pytest.mark.parametrize(
    "scenario, worlds",
    [
        ("null", 100),
        ("null, families + hubs + spreads", 100),
        ("null, one real work each", 60),
        ("null, 70 artists", 20),
    ],
)
def test_the_artist_level_test_holds_its_level_under_a_clustered_null(scenario, worlds):
    rates = simulation.rejection_rates(simulation.SCENARIOS[scenario], worlds, seed=1).set_index("test")
    level, paper = rates.loc["artist_level"], rates.loc["paper_test"]
    assert level["size"] <= _bound(level["n_null"]), level.to_dict()
    assert level["familywise_error"] <= _bound(worlds), level.to_dict()  # BH under the complete null: FWE ≤ α
    # the paper's test on the same worlds, reported: it counts each artist's imitations as independent
    assert paper["size"] > 2 * ALPHA, paper.to_dict()


def test_the_artist_level_test_finds_imitation_where_there_is_some():
    rates = simulation.rejection_rates(simulation.SCENARIOS["half imitated"], 40, seed=2).set_index("test")
    level = rates.loc["artist_level"]
    assert level["power"] >= 0.9, level.to_dict()
    # Benjamini–Hochberg: false discoveries at most α of the discoveries, on average
    discoveries = level["power"] * level["n_imitated"] + level["false_positive_rate"] * level["n_null"]
    assert level["false_positive_rate"] * level["n_null"] / discoveries <= ALPHA, level.to_dict()


def test_the_permutation_test_against_chance_holds_its_level_with_clustered_images():
    """Each name's images are mistaken alike (they share the prompt's style) but have nothing to do with the
    name: the name-level test rejects at most α; shuffling image by image rejects far more often."""
    rng = np.random.default_rng(3)
    names, n = 10, 400
    rejected = shuffled = 0
    for i in range(n):
        true, predicted = simulation.classification_world(rng, names=names)
        rejected += stats.permutation_test_vs_chance(true, predicted, names, n_perm=999, seed=i) <= ALPHA
        shuffled += simulation.shuffle_images_p(true, predicted, names, n_perm=499, seed=i) <= ALPHA
    assert rejected / n <= _bound(n), rejected / n
    assert shuffled / n > 3 * ALPHA, shuffled / n  # the image-level shuffle: reported, not hidden


def test_the_permutation_test_is_not_blind_to_a_real_signal():
    rng = np.random.default_rng(4)
    true, predicted = simulation.classification_world(rng, names=12)
    predicted[true < 6] = true[true < 6]  # half of the names recognised
    assert stats.permutation_test_vs_chance(true, predicted, 12, n_perm=2000) <= 0.01


def test_paired_comparisons_over_artists_hold_their_level():
    """Two configurations equally good over artists, the same images classified by both: the signed-rank test
    over artists rejects at most α; McNemar over images, which counts an artist's images as independent,
    rejects far more often."""
    rng = np.random.default_rng(5)
    n = 300
    artist_level = image_level = 0
    for _ in range(n):
        of, right_a, right_b = simulation.paired_world(rng)
        a, b = simulation.per_artist_accuracy(of, right_a), simulation.per_artist_accuracy(of, right_b)
        artist_level += significance.signed_rank(a, b) <= ALPHA
        image_level += significance.mcnemar_exact(right_a, right_b)[2] <= ALPHA
    assert artist_level / n <= _bound(n), artist_level / n
    assert image_level / n > 3 * ALPHA, image_level / n
