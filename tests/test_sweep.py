"""Sweeps end to end on tiny models: configurations expanded, images shared by the encoders that read them,
the comparison equal to each configuration's summary, the pairing recomputed, a rerun that computes
nothing, and the report's tables holding the run's numbers."""

import json
import os
import subprocess
import sys

import _reference as reference
import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import _tiny_dict

from helpers import schema
from helpers.paths import PROJECT_ROOT, RunPaths

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("sweep")]


def _sweep_params():
    data = _tiny_dict(
        "sweep",
        **{
            "artists__limit": 4,
            "generation__images_per_name": 3,
            "generation__seeds": [0, 1],
            "generation__batch_size": 6,
            "classification__bootstrap": 500,
            "classification__permutations": 200,
            "classification__subsample_repeats": 10,
        },
    )
    first = data["encoding"]["encoders"][0]
    data["encoding"]["encoders"] = [first, {**first, "name": "tiny-clip-b", "model": "tiny-clip-b"}]
    data["selection"] = {"synthetic": True}
    return data


def _runner(params_file, outputs, *args):
    env = {**os.environ, "IMITATION_AUDIT_OUTPUTS": str(outputs), "HF_HUB_OFFLINE": "1"}
    return subprocess.run(
        [sys.executable, "-m", "helpers.runner", "--params", str(params_file), *args],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        env=env,
        timeout=900,
    )


@pytest.fixture(scope="module")
def sweep(tmp_path_factory):
    outputs = tmp_path_factory.mktemp("outputs")
    data = _sweep_params()
    params_file = tmp_path_factory.mktemp("params") / "sweep.yaml"
    params_file.write_text(yaml.safe_dump(data))
    out = _runner(params_file, outputs)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    return schema.load(data), RunPaths(outputs / "sweep"), params_file, out


def read(path):
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def test_every_configuration_has_the_output_contract(sweep):
    params, paths, _, _ = sweep
    names = [c.name for c in params.configurations]
    assert names == ["s0_tiny-clip", "s0_tiny-clip-b", "s1_tiny-clip", "s1_tiny-clip-b"]
    for name in names:
        config = paths.config(name)
        for rel in [
            "summary.json",
            "embeddings/images.npy",
            "tables/predictions.csv",
            "tables/accuracy.csv",
            "tables/validation.csv",
            "tables/validation_centered.csv",
            "tables/ceiling.csv",
            "figures/accuracy_per_artist.png",
            "figures/own_vs_other.png",
        ]:
            assert (config.root / rel).is_file(), (name, rel)
        assert json.loads(config.summary_json.read_text())["config"] == name
    for rel in [
        "tables/comparison.csv",
        "tables/paired_differences.csv",
        "tables/seed_spread.csv",
        "figures/forest.png",
        "notebooks/06_comparison.ipynb",
        "report.html",
    ]:
        assert (paths.root / rel).is_file(), rel
    assert not paths.summary_json.exists()  # results live per configuration


def test_images_are_made_once_per_generation_setting_and_shared(sweep):
    params, paths, _, _ = sweep
    assert sorted(p.name for p in (paths.root / "images").iterdir()) == ["s0", "s1"]
    for key in ("s0", "s1"):
        manifest = read(paths.images(key).manifest)
        assert len(manifest) == 2 * 4 * 3 and all(p.startswith(f"images/{key}/") for p in manifest["path"])
    by_key = {}
    for config in params.configurations:
        images = read(paths.config(config.name).embedding_file("images.csv"))
        imitations = images[images["kind"] == "imitation"][["path", "sha256"]]
        by_key.setdefault(config.generation_key, []).append(imitations)
    for frames in by_key.values():  # the two encoders read the very same files
        assert frames[0].equals(frames[1])
    s0, s1 = (read(paths.images(k).manifest)["sha256"] for k in ("s0", "s1"))
    assert not set(s0) & set(s1)  # another generation seed, other images


def test_comparison_rows_equal_each_configurations_summary(sweep):
    params, paths, _, _ = sweep
    table = pd.read_csv(paths.table("comparison.csv"))
    assert list(table.columns[:14]) == [
        "config",
        "generator",
        "encoder",
        "template",
        "label_template",
        "seed",
        "n_artists",
        "accuracy",
        "accuracy_ci_low",
        "accuracy_ci_high",
        "accuracy_random_names",
        "chance",
        "fraction_significant",
        "n_validated",
    ]
    assert table["config"].tolist() == [c.name for c in params.configurations]
    for row in table.to_dict("records"):
        summary = json.loads(paths.config(row["config"]).summary_json.read_text())
        for key in (
            "n_artists",
            "accuracy",
            "accuracy_ci_low",
            "accuracy_ci_high",
            "accuracy_random_names",
            "chance",
            "fraction_significant",
            "n_validated",
        ):
            assert row[key] == pytest.approx(summary[key], abs=1e-12), (row["config"], key)
        assert (row["encoder"], row["seed"]) == (summary["encoder"]["name"], summary["seed"])


def _per_artist(config, metric):
    if metric == "accuracy":
        table = read(config.table("accuracy.csv"))
        return table[table["group"] == "artists"].set_index("name")["accuracy"].astype(float)
    if metric == "ceiling_accuracy":
        return read(config.table("ceiling.csv")).set_index("artist")["accuracy"].astype(float)
    column = {"validation_auc": "auc", "significant_artist_level": "significant_artist_level"}[metric]
    values = read(config.table("validation.csv")).set_index("artist")[column]
    return values.map({"True": 1.0, "False": 0.0}) if metric == "significant_artist_level" else values.astype(float)


def test_pairs_differ_in_one_axis_and_compare_artists(sweep):
    """Each pair is compared artist by artist in what its axis can change; the tests recompute from the
    per-artist tables, Holm runs across every row, and McNemar over images sits beside, named image-level."""
    from helpers import significance

    params, paths, _, _ = sweep
    paired = read(paths.table("paired_differences.csv"))
    expected = {
        "encoder": {"accuracy", "validation_auc", "significant_artist_level", "ceiling_accuracy"},
        "seed": {"accuracy", "validation_auc", "significant_artist_level"},
    }  # a seed leaves the ceiling as it is
    for (a, b, axis), rows in paired.groupby(["config_a", "config_b", "differs_in"]):
        assert set(rows["metric"]) == expected[axis], (a, b, axis)
    assert len(paired) == 2 * 4 + 2 * 3
    for row in paired.itertuples():
        a, b = (paths.config(n) for n in (row.config_a, row.config_b))
        x, y = _per_artist(a, row.metric), _per_artist(b, row.metric)
        y = y.loc[x.index]
        assert int(row.n_artists) == len(x) == 4
        assert float(row.difference) == pytest.approx((x - y).mean(), abs=1e-12)
        assert float(row.ci_low) <= float(row.difference) <= float(row.ci_high)
        if row.metric == "significant_artist_level":
            assert row.method.endswith("exact McNemar over artists")
            b_only, c_only = int(((x == 1) & (y == 0)).sum()), int(((x == 0) & (y == 1)).sum())
            assert float(row.p_value) == pytest.approx(reference.mcnemar(b_only, c_only), abs=1e-12)
        else:
            assert row.method.endswith("Wilcoxon signed-rank over artists")
            assert float(row.p_value) == pytest.approx(significance.signed_rank(x.to_numpy(), y.to_numpy()), abs=1e-12)
        if row.metric == "accuracy" and row.differs_in == "encoder":  # the same images, classified two ways
            pa, pb = (read(p.table("predictions.csv")) for p in (a, b))
            pa, pb = (p[p["group"] == "artists"].set_index("image")["correct"] == "True" for p in (pa, pb))
            right_a, right_b = pa.to_numpy(), pb.loc[pa.index].to_numpy()
            b_only, c_only = int((right_a & ~right_b).sum()), int((~right_a & right_b).sum())
            assert float(row.p_image_level) == pytest.approx(reference.mcnemar(b_only, c_only), abs=1e-12)
        else:
            assert row.p_image_level == ""  # other images: no image-level pairing
    np.testing.assert_allclose(
        paired["p_holm"].astype(float), reference.adjust(paired["p_value"].astype(float), "holm"), atol=1e-12
    )
    spread = read(paths.table("seed_spread.csv"))
    assert len(spread) == 2 and set(spread["n_seeds"]) == {"2"}
    table = pd.read_csv(paths.table("comparison.csv"))
    for row in spread.itertuples():
        values = table.set_index("config").loc[row.configs.split(" | "), "accuracy"].to_numpy()
        assert float(row.sd) == pytest.approx(np.std(values, ddof=1), abs=1e-12)


def test_configurations_that_differ_only_in_real_works_are_one_member_of_a_seed_group():
    """seed_spread counts each group of seeds once: two configurations that differ only in max_works classify
    the same images, so they add one accuracy to the spread, not two."""
    from helpers import comparison

    rows = [
        {
            "config": f"s{s}_w{w}",
            "generator": "g",
            "template": "t",
            "encoder": "e",
            "label_template": "l",
            "seed": s,
            "max_works": w,
            "accuracy": acc,
            "accuracy_ci_low": acc - 0.1,
            "accuracy_ci_high": acc + 0.1,
        }
        for s, acc in ((0, 0.5), (1, 0.7))
        for w in (1, 20)
    ]
    spread = comparison.seed_spread(pd.DataFrame(rows))
    assert len(spread) == 1 and spread.loc[0, "n_seeds"] == 2
    assert spread.loc[0, "sd"] == pytest.approx(np.std([0.5, 0.7], ddof=1))


def test_a_rerun_with_nothing_changed_computes_nothing(sweep):
    params, paths, params_file, _ = sweep
    watched = [*paths.root.rglob("*.png"), *paths.root.rglob("*.npy"), *paths.root.rglob("*.csv")]
    before = {p: p.stat().st_mtime_ns for p in watched}
    out = _runner(params_file, paths.root.parent)
    assert out.returncode == 0, out.stderr[-3000:]
    skipped = [line for line in out.stdout.splitlines() if "up to date, skipped" in line]
    assert len(skipped) == 6 and "running" not in out.stdout
    assert {p: p.stat().st_mtime_ns for p in watched} == before


def test_the_report_leads_with_the_comparison_of_the_run(sweep):
    params, paths, _, _ = sweep
    page = paths.report_html.read_text()
    table = pd.read_csv(paths.table("comparison.csv"))
    assert page.index("Configurations compared") < page.index("Each configuration")
    for row in table.itertuples():
        shown = f"{100 * row.accuracy:.1f}% [{100 * row.accuracy_ci_low:.1f}%, {100 * row.accuracy_ci_high:.1f}%]"
        assert shown in page, shown
    body = page.split("<body>")[1]
    assert "RANDOM WEIGHTS" in body and "{'" not in body and '{"' not in body  # no raw dictionaries
