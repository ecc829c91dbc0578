"""Stage 04's context numbers with known answers: the ceiling (real works among the artists' labels) and the
exposure (accuracy against caption counts)."""

import numpy as np
import pandas as pd
import pytest

from helpers import classification
from helpers.embeddings import Embeddings


def _embeddings() -> Embeddings:
    # labels A, B, C point along x, y, z; A's two real works point at A and at B, B's one at B, C has none
    labels = pd.DataFrame({"row": [0, 1, 2], "group": "artists", "name": ["A", "B", "C"], "text": ["a", "b", "c"]})
    images = pd.DataFrame(
        {
            "row": range(5),
            "kind": ["imitation", "imitation", "real", "real", "real"],
            "group": ["artists", "artists", "real", "real", "real"],
            "name": ["A", "B", "A", "A", "B"],
            "index": [0, 0, 0, 1, 0],
            "path": list("vwxyz"),
            "sha256": "",
        }
    )
    vectors = np.array([[1, 0, 0], [0, 1, 0], [0.9, 0.1, 0], [0.2, 0.8, 0], [0, 1, 0.1]], dtype=float)
    return Embeddings(images, vectors, labels, np.eye(3), {})


def test_ceiling_classifies_the_real_works_among_the_artists_labels():
    table = classification.ceiling(_embeddings())
    assert table.to_dict("list") == {
        "artist": ["A", "B"],
        "n_real": [2, 1],
        "n_correct": [1, 1],
        "accuracy": [0.5, 1.0],
    }
    accuracy = pd.DataFrame({"group": "artists", "name": ["A", "B", "C"], "accuracy": [0.25, 0.5, 1.0]})
    numbers = classification._ceiling_numbers(accuracy, table)
    # mean ceiling over A and B = 0.75; imitation accuracy over the same artists = 0.375 (C has no ceiling)
    assert numbers == {"ceiling_accuracy": 0.75, "accuracy_vs_ceiling": 0.5, "n_ceiling": 2}


def test_exposure_is_spearman_of_accuracy_and_counts_or_says_why_not():
    accuracy = pd.DataFrame({"group": "artists", "name": ["A", "B", "C", "D"], "accuracy": [0.1, 0.4, 0.3, 0.9]})
    counts = lambda *c: pd.array(c, dtype="Int64")  # noqa: E731 - artists.csv's caption_count, as its reader types it
    artists = pd.DataFrame({"artist": ["A", "B", "C", "D"], "caption_count": counts(120, 300, 150, 900)})
    table, numbers = classification.exposure(accuracy, artists)
    assert table["caption_count"].tolist() == [120, 300, 150, 900]
    # ranks of counts 1 3 2 4 and of accuracies 1 3 2 4: the same order, rho = 1
    assert numbers["spearman_caption_count"] == pytest.approx(1.0) and numbers["counts_verified"]
    # the paper's rule: every artist here has more than 100 captions
    assert numbers["accuracy_over_100_captions"] == pytest.approx((0.1 + 0.4 + 0.3 + 0.9) / 4)
    assert numbers["accuracy_at_most_100_captions"] is None
    artists["caption_count"] = counts(20, 300, 100, 150)  # ranks 1 4 2 3 against 1 3 2 4: d² = 0+1+0+1
    _, numbers = classification.exposure(accuracy, artists)
    assert numbers["spearman_caption_count"] == pytest.approx(1 - 6 * 2 / (4 * 15))
    assert numbers["accuracy_over_100_captions"] == pytest.approx((0.4 + 0.9) / 2)
    assert numbers["accuracy_at_most_100_captions"] == pytest.approx((0.1 + 0.3) / 2)
    artists["caption_count"] = counts(120, 300, 900, 150)  # ranks 1 3 4 2 against 1 3 2 4: d² = 0+0+4+4
    _, numbers = classification.exposure(accuracy, artists)
    assert numbers["spearman_caption_count"] == pytest.approx(1 - 6 * 8 / (4 * 15))
    artists["caption_count"] = counts(*[pd.NA] * 4)  # no metadata: counts not verified
    _, numbers = classification.exposure(accuracy, artists)
    assert numbers["spearman_caption_count"] is None and numbers["counts_verified"] is False
    assert "not verified" in numbers["note"]
    artists["caption_count"] = counts(120, 120, 120, 120)
    _, numbers = classification.exposure(accuracy, artists)
    assert numbers["spearman_caption_count"] is None and numbers["counts_verified"] and "undefined" in numbers["note"]
