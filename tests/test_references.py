"""Attribution by reference works (helpers.references): each number against a known answer worked out by
hand, or against a direct recomputation that shares no code with the module."""

import numpy as np
import pandas as pd
import pytest

from helpers import references, schema
from helpers.errors import AuditError


def _names(counts: dict[str, int]) -> tuple[pd.Series, pd.Series]:
    names = [a for a, n in counts.items() for _ in range(n)]
    hashes = [f"{a}-{i:03d}" for a, n in counts.items() for i in range(n)]
    return pd.Series(names), pd.Series(hashes)


def test_the_split_follows_its_rule_and_depends_on_the_works_not_their_order():
    names, hashes = _names({"a": 10, "b": 3, "c": 2, "d": 1})
    ref = references.split(names, hashes, share=0.5, seed=0)
    counts = pd.Series(ref).groupby(names).sum()
    assert counts.to_dict() == {"a": 5, "b": 1, "c": 1, "d": 1}  # min(n-1, max(1, floor(n/2))); one work: reference
    shuffled = np.random.default_rng(1).permutation(len(names))
    again = references.split(
        names[shuffled].reset_index(drop=True), hashes[shuffled].reset_index(drop=True), share=0.5, seed=0
    )
    assert set(hashes[ref]) == set(hashes[shuffled][again])
    other_seed = references.split(names, hashes, share=0.5, seed=7)
    assert set(hashes[ref]) != set(hashes[other_seed])  # the draw is seeded
    assert references.split(names, hashes, share=0.9, seed=0)[names == "a"].sum() == 9
    with pytest.raises(AuditError, match="reference_share"):
        references.split(names, hashes, share=1.0, seed=0)


def test_centroid_and_knn_scores_are_the_formulas():
    refs = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0], [0.6, -0.8]])
    names = np.array(["a", "a", "b", "b"])
    q = np.array([[1.0, 1.0]])
    centroid = references.artist_scores(q, refs, names, ["a", "b"])
    # centroid of a = (0.5, 0.5): cosine 1 with (1, 1); of b = (-0.2, -0.4): cosine -0.6/(√2·√0.2)
    assert centroid[0] == pytest.approx([1.0, -0.6 / (np.sqrt(2) * np.sqrt(0.2))])
    knn = references.artist_scores(q, refs, names, ["a", "b"], scoring="knn", knn=1)
    # the nearest reference of each: a (0.707, 0.707) → 0.707; b (-0.707, -0.141) → -0.141
    assert knn[0] == pytest.approx([np.sqrt(0.5), -0.2 / np.sqrt(2)])
    with pytest.raises(AuditError, match="no reference works"):
        references.artist_scores(q, refs, names, ["a", "b", "c"])


def test_recall_and_map_at_k_on_a_worked_example():
    # one query of artist a; the gallery ranked by cosine: a, b, a, b (two relevant works, R = 2)
    gallery = np.array([[1.0, 0.0], [0.9, 0.1], [0.8, 0.2], [0.0, 1.0]])
    names = np.array(["a", "b", "a", "b"])
    overall, per_artist = references.retrieval(np.array([[1.0, 0.0]]), ["a"], gallery, names, [1, 2, 3])
    assert overall["recall_at_1"] == 1 and overall["map_at_1"] == 1
    assert overall["map_at_2"] == pytest.approx(1 / 2 * (1 / 1))  # hits at rank 1 only; / min(2, R)
    assert overall["map_at_3"] == pytest.approx(1 / 2 * (1 / 1 + 2 / 3))
    # a query of b: ranks b at 2 and 4 (cosines of (0.6, 0.8): 0.6, 0.62, 0.64, 0.8 → order 3, 2, 1, 0)
    overall, per_artist = references.retrieval(np.array([[0.6, 0.8]]), ["b"], gallery, names, [1, 2])
    assert overall["recall_at_1"] == 1 and overall["map_at_2"] == pytest.approx(1 / 2 * (1 / 1))
    assert per_artist.columns.tolist() == ["artist", "n_queries", "recall_at_1", "map_at_1", "recall_at_2", "map_at_2"]


def test_roc_auc_is_the_share_of_own_other_pairs_won():
    scores = np.array([[0.9, 0.1], [0.2, 0.3], [0.5, 0.5]])
    true = np.array([0, 0, 1])
    own, other = [0.9, 0.2, 0.5], [0.1, 0.3, 0.5]
    wins = sum((o > x) + 0.5 * (o == x) for o in own for x in other)
    assert references.roc_auc(scores, true) == pytest.approx(wins / 9)


def test_deranged_references_give_no_claim_where_imitations_match_their_artists():
    """Imitations that sit on their own artist's works: with the true references every artist is
    significant; given another artist's references, none is, and the accuracy falls below chance."""
    k, per = 6, 10
    true = np.repeat(np.arange(k), per)
    rng = np.random.default_rng(0)
    scores = rng.normal(0, 0.01, (len(true), k))
    scores[np.arange(len(true)), true] += 1
    flags = references.binomial_significance(np.full(k, per), np.full(k, per), 1 / k, alpha=0.05, correction="fdr_bh")
    assert flags.all()
    control = references.deranged_control(scores, true, alpha=0.05, correction="fdr_bh")
    assert control["n_shifts"] == k - 1 and control["accuracy"] == 0 and control["false_positive_rate"] == 0


def test_under_a_true_null_the_per_artist_test_rejects_at_most_about_alpha():
    """Scores that carry no signal: the binomial test per artist (BH across artists) calls few significant."""
    k, per, rejections, cells = 8, 20, 0, 0
    for seed in range(200):
        scores = np.random.default_rng(seed).normal(size=(k * per, k))
        true = np.repeat(np.arange(k), per)
        pred = scores.argmax(axis=1)
        correct = np.bincount(true[pred == true], minlength=k)
        flags = references.binomial_significance(correct, np.full(k, per), 1 / k, alpha=0.05, correction="fdr_bh")
        rejections, cells = rejections + flags.sum(), cells + k
    assert rejections / cells <= 0.05


def test_attraction_counts_where_the_random_names_land():
    numbers, table = references.attraction(np.array([0, 0, 0, 1]), ["a", "b", "c"])
    assert numbers["max_share"] == 0.75 and numbers["max_share_artist"] == "a" and numbers["chance"] == 1 / 3
    assert table["n_images"].tolist() == [3, 1, 0]
    empty, _ = references.attraction(np.empty(0, dtype=int), ["a", "b"])
    assert empty["n_images"] == 0 and empty["max_share"] is None


def test_an_image_only_encoder_is_refused_for_zero_shot_naming_the_key(tiny_dict):
    data = tiny_dict()
    data["encoding"]["encoders"] = [
        {
            "name": "dino",
            "source": "transformers",
            "model": "facebook/dinov2-base",
            "pretrained": None,
            "method": "zero-shot",
        }
    ]
    with pytest.raises(AuditError, match=r"encoding.encoders\[0\].*method: reference"):
        schema.load(data)
    data["encoding"]["encoders"][0]["method"] = None
    assert schema.load(data).configurations[0].method == "reference"


def test_a_reference_encoder_without_real_works_is_refused(tiny_dict):
    data = tiny_dict(validation__standin=False)
    data["encoding"]["encoders"][0]["method"] = "reference"
    with pytest.raises(AuditError, match="real_works_dir"):
        schema.load(data)


def test_a_transformers_encoder_offline_is_refused_at_preflight_naming_it(tiny_dict):
    from helpers.models import preflight

    data = tiny_dict()
    data["encoding"]["encoders"] = [
        {"name": "dino", "source": "transformers", "model": "facebook/dinov2-base", "pretrained": None}
    ]
    with pytest.raises(AuditError, match=r"encoding.encoders\[0\].*'facebook/dinov2-base'.*HF_HUB_OFFLINE is set"):
        preflight(schema.load(data))
