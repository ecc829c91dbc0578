"""The descriptors sweep on the toy world (params/sweep-descriptors.yaml): one toy CLIP measured zero-shot and
by reference works, end to end through the runner; every number of the reference attribution recomputed
from the saved embeddings and reference list by code that shares nothing with helpers.references."""

import json

import numpy as np
import pandas as pd
import pytest
from conftest import run_module

from helpers.paths import PARAMS_DIR

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("toyworld")]


@pytest.fixture(scope="module")
def sweep(tmp_path_factory):
    outputs = tmp_path_factory.mktemp("outputs")
    for args in (
        ["helpers.toyworld", "corpus"],
        ["helpers.runner", "--params", str(PARAMS_DIR / "sweep-descriptors.yaml")],
    ):
        out = run_module(args, outputs, timeout=1800)
        assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    return outputs / "sweep-descriptors"


def _csv(path):
    return pd.read_csv(path, keep_default_na=False, dtype=str)


def test_the_comparison_shows_both_methods(sweep):
    table = _csv(sweep / "tables" / "comparison.csv").set_index("config")
    assert table.loc["toy-clip", "method"] == "zero-shot" and table.loc["toy-clip-image", "method"] == "reference"
    paired = _csv(sweep / "tables" / "paired_differences.csv")
    assert set(paired["methods"]) == {"zero-shot vs reference"}
    reference = json.loads((sweep / "configs" / "toy-clip-image" / "summary.json").read_text())
    assert reference["method"] == "reference" and reference["accuracy_random_names"] is None
    assert "no works to serve as references" in reference["baseline_missing"]
    assert reference["random_names_attraction"]["n_images"] == 230 and reference["validation_works"] == "held_out"
    assert json.loads((sweep / "configs" / "toy-clip" / "summary.json").read_text())["method"] == "zero-shot"
    page = (sweep / "report.html").read_text()
    assert "reference" in page and "zero-shot" in page


def _unit(x):
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_the_attribution_is_recomputed_from_the_saved_embeddings(sweep):
    config = sweep / "configs" / "toy-clip-image"
    images = _csv(config / "embeddings" / "images.csv")
    vectors = np.load(config / "embeddings" / "images.npy")
    refs = _csv(config / "tables" / "reference_works.csv")
    real = images[images["kind"] == "real"]
    by_path = dict(zip(real["path"], real.index.astype(int), strict=True))
    assert set(refs["path"]) <= set(by_path)  # the paths are images.csv's
    artists = list(dict.fromkeys(images[(images["kind"] == "imitation") & (images["group"] == "artists")]["name"]))
    centroids = np.stack(
        [
            _unit(vectors[[by_path[p] for p in refs[refs["artist"] == a]["path"]]].mean(0, keepdims=True))[0]
            for a in artists
        ]
    )
    imitations = images[(images["kind"] == "imitation") & (images["group"] == "artists")]
    scores = vectors[imitations.index.astype(int)] @ centroids.T
    predicted = np.asarray(artists)[scores.argmax(axis=1)]
    pred = _csv(config / "tables" / "predictions.csv")
    assert (pred["method"] == "reference").all()
    assert pred["predicted"].tolist() == predicted.tolist()
    assert pred["correct"].tolist() == [str(p == t) for p, t in zip(predicted, imitations["name"], strict=True)]

    numbers = json.loads((config / "tables" / "classification.json").read_text())["reference"]
    gallery = vectors[[by_path[p] for p in refs["path"]]]
    recall, ap = {1: [], 5: [], 10: []}, {1: [], 5: [], 10: []}
    for row, name in zip(vectors[imitations.index.astype(int)], imitations["name"], strict=True):
        order = np.argsort(-(gallery @ row), kind="stable")
        rel = (refs["artist"].to_numpy()[order] == name).astype(float)
        n_rel = rel.sum()
        for k in recall:
            recall[k].append(float(rel[:k].any()))
            precision_at = [rel[: i + 1].mean() for i in range(k)]
            ap[k].append(sum(p * r for p, r in zip(precision_at, rel[:k], strict=True)) / min(k, n_rel))
    for k in recall:
        assert numbers[f"recall_at_{k}"] == pytest.approx(np.mean(recall[k]))
        assert numbers[f"map_at_{k}"] == pytest.approx(np.mean(ap[k]))
    own = scores[np.arange(len(scores)), [artists.index(n) for n in imitations["name"]]]
    mask = np.ones_like(scores, dtype=bool)
    mask[np.arange(len(scores)), [artists.index(n) for n in imitations["name"]]] = False
    other = scores[mask]
    auc = (own[:, None] > other[None, :]).mean() + 0.5 * (own[:, None] == other[None, :]).mean()
    assert numbers["roc_auc"] == pytest.approx(auc, abs=1e-6)
    assert numbers["n_references"] == len(refs) and numbers["n_references"] + numbers["n_held_out"] == len(real)


def test_references_and_validation_works_never_overlap(sweep):
    config = sweep / "configs" / "toy-clip-image"
    refs = set(_csv(config / "tables" / "reference_works.csv")["path"])
    validation = json.loads((config / "tables" / "validation.json").read_text())
    ceiling = _csv(config / "tables" / "ceiling.csv")
    per_artist = _csv(config / "tables" / "reference_works.csv").groupby("artist").size()
    # each artist of the toy world has 20 real works: 10 references, 10 held out, which validate and set the ceiling
    assert (per_artist == 10).all() and (ceiling["n_real"].astype(int) == 10).all()
    assert validation["validation_works"] == "held_out" and len(refs) == 10 * len(per_artist)
    assert (_csv(config / "tables" / "validation.csv")["n_real"] == "10").all()  # stage 05 read the held-out ten
    zero_shot = _csv(sweep / "configs" / "toy-clip" / "tables" / "reference_works.csv")
    assert zero_shot.empty and (_csv(sweep / "configs" / "toy-clip" / "tables" / "ceiling.csv")["n_real"] == "20").all()


def _one_imitation(config):
    pred = _csv(config / "tables" / "predictions.csv")
    return pred[(pred["group"] == "artists") & (pred["correct"] == "True")].iloc[0]


def test_score_reports_both_methods_where_both_apply(sweep):
    from helpers import score

    row = _one_imitation(sweep / "configs" / "toy-clip-image")
    image = sweep / row["image"]
    both = score.score([image], sweep, config="toy-clip", top_k=3)
    assert both["method"].tolist() == ["zero-shot"] * 3 + ["reference"] * 3
    only = score.score([image], sweep, config="toy-clip-image", top_k=3)
    assert set(only["method"]) == {"reference"} and only["rank"].tolist() == [1, 2, 3]
    # the reference ranking is stage 04's attribution of the same image: same artist, same centroid cosine
    assert only["artist"].iloc[0] == row["predicted"] == row["name"]
    assert only["similarity"].iloc[0] == pytest.approx(float(row["score"]), abs=1e-5)
    # the toy CLIP's image tower is the same network under both names: the two reference rankings agree
    reference = both[both["method"] == "reference"].reset_index(drop=True)
    assert reference["artist"].tolist() == only["artist"].tolist()
    # a reference configuration validated with the held-out works: s_real is over those 10, and it is the
    # image's own validation score (the image is one of the artist's imitations)
    assert only["n_real"].iloc[0] == 10 and reference["n_real"].iloc[0] == 20
    own = _csv(sweep / "configs" / "toy-clip-image" / "tables" / "own_other.csv")
    own = own[(own["artist"] == row["name"]) & (own["kind"] == "own")]["similarity"].astype(float).to_numpy()
    assert np.isclose(own, only["s_real"].iloc[0], atol=1e-5).any()


def test_the_explorer_ranks_artists_by_their_reference_works(sweep, monkeypatch):
    from helpers import explore, paths, schema

    monkeypatch.setattr(paths, "OUTPUTS_DIR", sweep.parent)  # the run folder is the fixture's
    params = schema.load(sweep / "params.yaml", check_files=False)
    row = _one_imitation(sweep / "configs" / "toy-clip-image")
    view = explore.artist_view(params, row["name"], "toy-clip-image")
    config = sweep / "configs" / "toy-clip-image"
    images = _csv(config / "embeddings" / "images.csv")
    vectors = np.load(config / "embeddings" / "images.npy")
    refs = _csv(config / "tables" / "reference_works.csv")
    index = dict(zip(images["path"], images.index.astype(int), strict=True))
    centroid = _unit(vectors[[index[p] for p in refs[refs["artist"] == row["name"]]["path"]]].mean(0, keepdims=True))[0]
    mine = images[(images["kind"] == "imitation") & (images["name"] == row["name"])].index.astype(int)
    own = view.nearest.set_index("artist")["similarity"]
    assert own[row["name"]] == pytest.approx(float((vectors[mine] @ centroid).mean()), abs=1e-5)
    assert len(view.nearest) == refs["artist"].nunique()
    summary = explore.show(params, view)["summary"]
    assert "rank of the own reference works among all artists'" in summary.index
