"""End to end: the five notebooks executed by papermill on the smoke profile, the output contract, and
every headline number recomputed from the saved embeddings with the documented functions."""

import json
import os
import shutil
import subprocess
import sys

import _reference as reference
import numpy as np
import pandas as pd
import pytest
import yaml

from helpers import stats
from helpers.paths import PARAMS_DIR, PROJECT_ROOT
from helpers.pipeline import PIPELINE, STAGES

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("pipeline")]


def runner(params_file, outputs, *args, timeout=600):
    env = {**os.environ, "IMITATION_AUDIT_OUTPUTS": str(outputs), "HF_HUB_OFFLINE": "1"}
    return subprocess.run(
        [sys.executable, "-m", "helpers.runner", "--params", str(params_file), *args],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        env=env,
        timeout=timeout,
    )


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory):
    outputs = tmp_path_factory.mktemp("outputs")
    out = runner(PARAMS_DIR / "smoke.yaml", outputs)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    return outputs / "smoke", out


def read(path):
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def test_output_contract(smoke_run):
    root, _ = smoke_run
    for rel in [
        "run.json",
        "params.yaml",
        "artists.csv",
        "random_names.csv",
        "images/manifest.csv",
        "real_works.csv",
        "real_standin/manifest.csv",
        "embeddings/images.npy",
        "embeddings/images.csv",
        "embeddings/labels.npy",
        "embeddings/labels.csv",
        "embeddings/encoder.json",
        "tables/predictions.csv",
        "tables/accuracy.csv",
        "tables/validation.csv",
        "tables/selection.csv",
        "summary.json",
        "report.html",
    ]:
        assert (root / rel).is_file(), rel
    for stage in STAGES:
        assert (root / "notebooks" / f"{stage}.ipynb").is_file()
        assert "injected-parameters" in (root / "notebooks" / f"{stage}.html").read_text()  # papermill ran it
    record = json.loads((root / "run.json").read_text())
    assert record["weights"] == "random"
    assert {s: record["stages"][s]["status"] for s in STAGES} == dict.fromkeys(STAGES, "done")
    assert record["versions"]["torch"] and "git_commit" in record
    cols = {
        "tables/predictions.csv": {"group", "name", "image", "predicted", "correct"},
        "tables/accuracy.csv": {"group", "name", "n_images", "accuracy", "ci_low", "ci_high"},
        "tables/validation.csv": {
            "artist",
            "n_real",
            "n_own",
            "n_other",
            "statistic_paper_test",
            "p_paper_test",
            "p_adjusted_paper_test",
            "significant_paper_test",
            "p_artist_level",
            "p_adjusted_artist_level",
            "significant_artist_level",
            "effect_artist_level",
        },
        "tables/negative_controls.csv": {"control", "test", "false_positive_rate", "familywise_error"},
        "images/manifest.csv": {"name", "group", "prompt", "seed", "path"},
    }
    for rel, need in cols.items():
        assert need <= set(read(root / rel).columns), rel
    summary = json.loads((root / "summary.json").read_text())
    for key in [
        "run",
        "weights",
        "n_artists",
        "images_per_artist",
        "accuracy",
        "accuracy_random_names",
        "chance",
        "fraction_significant",
        "alpha",
        "correction",
        "n_validated",
        "fraction_significant_artist_level",
        "false_positive_rate_paper_test",
        "false_positive_rate_artist_level",
        "negative_control",
        "tests",
    ]:
        assert key in summary, key
    assert summary["weights"] == "random" and any("RANDOM WEIGHTS" in c for c in summary["caveats"])
    assert any("STAND-IN" in c for c in summary["caveats"])
    figures = sorted(p.name for p in (root / "figures").glob("*.png"))
    assert set(figures) == {
        "selection_counts.png",
        "generated_examples.png",
        "embedding_map.png",
        "accuracy_per_artist.png",
        "confusion.png",
        "sample_size.png",
        "accuracy_vs_ceiling.png",
        "accuracy_vs_captions.png",
        "own_vs_other.png",
        "pvalues.png",
        "calibration.png",
    }
    assert "RANDOM WEIGHTS" in (root / "report.html").read_text()


def test_executed_notebooks_show_their_figures_as_images(smoke_run):
    """Each figure a stage makes is displayed in its executed notebook as an inline PNG (the saved file's
    bytes), never as the text '<Figure size ...>'."""
    import base64

    root, _ = smoke_run
    expected = {"01_selection": 1, "02_generation": 1, "03_encoding": 1, "04_classification": 5, "05_validation": 3}
    saved = {base64.b64encode(p.read_bytes()).decode() for p in (root / "figures").glob("*.png")}
    for stage in STAGES:
        text = (root / "notebooks" / f"{stage}.ipynb").read_text()
        assert "<Figure size" not in text, stage
        cells = json.loads(text)["cells"]
        images = [
            o["data"]["image/png"].replace("\n", "")
            for c in cells
            for o in c.get("outputs", [])
            if "image/png" in o.get("data", {})
        ]
        assert len(images) == expected[stage], stage
        assert set(images) <= saved, stage


def test_every_image_in_the_manifest_exists_with_its_hash(smoke_run):
    import hashlib

    root, _ = smoke_run
    manifest = read(root / "images" / "manifest.csv")
    cfg = yaml.safe_load((PARAMS_DIR / "smoke.yaml").read_text())
    n_art = len(read(root / "artists.csv"))
    assert len(manifest) == 2 * n_art * cfg["generation"]["images_per_name"]
    for row in manifest.itertuples():
        assert hashlib.sha256((root / row.path).read_bytes()).hexdigest() == row.sha256


def test_numbers_recomputed_from_embeddings(smoke_run):
    root, _ = smoke_run
    summary = json.loads((root / "summary.json").read_text())
    images = read(root / "embeddings" / "images.csv")
    labels = read(root / "embeddings" / "labels.csv")
    iv, lv = np.load(root / "embeddings" / "images.npy"), np.load(root / "embeddings" / "labels.npy")
    acc = {}
    for group in ("artists", "random_names"):
        rows = images[(images["kind"] == "imitation") & (images["group"] == group)]
        lab = labels[labels["group"] == group]
        names = lab["name"].tolist()
        sim = stats.cosine_similarity(iv[rows.index], lv[lab.index])
        pred = sim.argmax(axis=1)
        true = rows["name"].map({n: i for i, n in enumerate(names)}).to_numpy()
        per_name = pd.Series(pred == true).groupby(true).mean()
        acc[group] = per_name.mean()
        table = read(root / "tables" / "accuracy.csv")
        saved = table[table["group"] == group].set_index("name")["accuracy"].astype(float)
        np.testing.assert_allclose(saved.loc[names].to_numpy(), per_name.sort_index().to_numpy(), atol=1e-12)
    assert summary["accuracy"] == pytest.approx(acc["artists"], abs=1e-12)
    assert summary["accuracy_random_names"] == pytest.approx(acc["random_names"], abs=1e-12)
    assert summary["chance"] == pytest.approx(1 / summary["n_artists"])

    # validation, the paper's test: one-sided Mann-Whitney per artist on mean similarity to the artist's real works
    real = images[images["kind"] == "real"]
    imit = images[(images["kind"] == "imitation") & (images["group"] == "artists")]
    validation = read(root / "tables" / "validation.csv").set_index("artist")
    raw = {}
    for artist in validation.index:
        r = iv[real[real["name"] == artist].index]
        s = (iv[imit.index] @ r.T).mean(axis=1)
        own = imit["name"].to_numpy() == artist
        raw[artist] = reference.mann_whitney_greater(s[own], s[~own])[1]
        assert float(validation.loc[artist, "p_paper_test"]) == pytest.approx(raw[artist], abs=1e-12)
    m = len(raw)
    adjusted = {a: min(1.0, p * m) for a, p in raw.items()}
    for artist, p in adjusted.items():
        assert float(validation.loc[artist, "p_adjusted_paper_test"]) == pytest.approx(p, abs=1e-12)
    frac = np.mean([p < summary["alpha"] for p in adjusted.values()])
    assert summary["fraction_significant"] == pytest.approx(frac)
    assert summary["n_validated"] == m

    # validation, the artist-level test: the matched pair against every mismatched pair, cell by cell
    artists = list(validation.index)
    imitated = list(dict.fromkeys(imit["name"]))
    pair = np.array(
        [
            [(iv[imit[imit["name"] == b].index] @ iv[real[real["name"] == a].index].T).mean() for b in imitated]
            for a in artists
        ]
    )
    p_level = reference.artist_level_p(pair, [imitated.index(a) for a in artists])
    np.testing.assert_allclose(validation["p_artist_level"].astype(float), p_level, atol=1e-12)
    level_adjusted = reference.adjust(p_level, "fdr_bh")
    np.testing.assert_allclose(validation["p_adjusted_artist_level"].astype(float), level_adjusted, atol=1e-12)
    assert summary["fraction_significant_artist_level"] == pytest.approx(np.mean(level_adjusted <= summary["alpha"]))

    # the negative control: artist j given artist j+1's works (shift 1), the paper's test recomputed
    controls = read(root / "tables" / "negative_control_pvalues.csv")
    shift = controls[
        (controls["control"] == "deranged_works") & (controls["replicate"] == "1") & (controls["test"] == "paper_test")
    ].set_index("artist")
    for j, artist in enumerate(artists):
        works = iv[real[real["name"] == artists[(j + 1) % m]].index]
        s = (iv[imit.index] @ works.T).mean(axis=1)
        own = imit["name"].to_numpy() == artist
        assert float(shift.loc[artist, "p_value"]) == pytest.approx(
            reference.mann_whitney_greater(s[own], s[~own])[1], abs=1e-12
        )

    # centred validation: each imitation's scores minus their mean over the artists with real works
    scores = np.stack([(iv[imit.index] @ iv[real[real["name"] == a].index].T).mean(axis=1) for a in artists])
    centred = scores - scores.mean(axis=0)
    table = read(root / "tables" / "validation_centered.csv").set_index("artist")
    p_centred = []
    for k, artist in enumerate(artists):
        own = imit["name"].to_numpy() == artist
        p_centred.append(reference.mann_whitney_greater(centred[k][own], centred[k][~own])[1])
        assert float(table.loc[artist, "p_paper_test"]) == pytest.approx(p_centred[-1], abs=1e-12)
    centred_frac = np.mean(reference.adjust(p_centred, "bonferroni") <= summary["alpha"])
    assert summary["fraction_significant_centered"] == pytest.approx(centred_frac)

    # ceiling: the real works classified among the artists' label prompts
    lab = labels[labels["group"] == "artists"]
    names = lab["name"].tolist()
    guess = np.asarray(names)[(iv[real.index] @ lv[lab.index].T).argmax(axis=1)]
    right = pd.Series(guess == real["name"].to_numpy()).groupby(real["name"].to_numpy()).mean()
    ceiling = read(root / "tables" / "ceiling.csv").set_index("artist")
    np.testing.assert_allclose(
        ceiling["accuracy"].astype(float).to_numpy(), right.loc[ceiling.index].to_numpy(), atol=1e-12
    )
    assert summary["ceiling_accuracy"] == pytest.approx(right.mean(), abs=1e-12)
    per_artist = read(root / "tables" / "accuracy.csv")
    per_artist = per_artist[per_artist["group"] == "artists"].set_index("name")["accuracy"].astype(float)
    assert summary["accuracy_vs_ceiling"] == pytest.approx(per_artist.loc[right.index].mean() / right.mean(), abs=1e-12)

    # exposure: Spearman's rho of per-artist accuracy and stage 01's caption counts
    counts = read(root / "artists.csv").set_index("artist")["caption_count"].astype(float)
    rho, p = reference.spearman(counts.loc[per_artist.index].to_numpy(), per_artist.to_numpy())
    assert summary["spearman_caption_count"] == pytest.approx(rho, abs=1e-9)
    assert summary["spearman_caption_count_p"] == pytest.approx(p, rel=1e-6)


def test_rerun_reuses_everything_and_gives_the_same_numbers(smoke_run):
    root, _ = smoke_run
    before = (root / "summary.json").read_text()
    manifest = (root / "images" / "manifest.csv").read_text()
    out = runner(PARAMS_DIR / "smoke.yaml", root.parent)
    assert out.returncode == 0, out.stderr[-3000:]
    assert (root / "images" / "manifest.csv").read_text() == manifest
    strip = lambda s: {k: v for k, v in json.loads(s).items() if k not in ("generator", "encoder")}  # noqa: E731
    assert strip((root / "summary.json").read_text()) == strip(before)


def test_every_product_in_the_run_folder_is_declared_by_its_stage(smoke_run):
    """helpers.pipeline declares each stage's products: the run made no other (besides the record, its params
    and the report), and the stages of each configuration's results made all of theirs."""
    root, _ = smoke_run
    declared = {p for s in PIPELINE for p in s.writes}
    made = {
        p.relative_to(root).as_posix() + ("/" if p.is_dir() else "")
        for p in root.iterdir()
        if not p.name.startswith(".") and p.name not in ("tables", "figures", "notebooks", "metadata")
    }
    made |= {f"tables/{p.name}" for p in (root / "tables").iterdir()}
    assert made - declared == {"run.json", "params.yaml", "report.html"}
    assert {p for s in PIPELINE if s.per_config for p in s.writes} <= made


def test_a_stage_run_again_leaves_no_stale_headline(smoke_run, tmp_path):
    """summary.json quotes stage 04's headline. Stage 04 run alone with another top_k: the summary is gone and
    the report says why, rather than pair the new accuracy table with the old headline; stage 05 then writes it
    again from the new classification.json."""
    root, _ = smoke_run
    outputs = tmp_path / "outputs"
    copy = outputs / root.name
    shutil.copytree(root, copy)
    data = yaml.safe_load((PARAMS_DIR / "smoke.yaml").read_text())
    data["classification"]["top_k"] = 3
    params_file = tmp_path / "smoke.yaml"
    params_file.write_text(yaml.safe_dump(data))
    assert "top2_accuracy" in json.loads((copy / "summary.json").read_text())

    out = runner(params_file, outputs, "--stage", "04_classification")
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    stages = json.loads((copy / "run.json").read_text())["stages"]
    assert (stages["04_classification"]["status"], stages["05_validation"]["status"]) == ("done", "stale")
    assert not (copy / "summary.json").exists()
    assert "No headline: 05_validation, which writes summary.json, is stale" in (copy / "report.html").read_text()
    assert "[05_validation] note: stale" in out.stdout

    out = runner(params_file, outputs, "--stage", "05_validation")
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    summary = json.loads((copy / "summary.json").read_text())
    headline = json.loads((copy / "tables" / "classification.json").read_text())["artists"]
    assert "top2_accuracy" not in summary and summary["top3_accuracy"] == headline["top3_accuracy"]
    assert summary["accuracy"] == headline["accuracy"]
    assert "No headline" not in (copy / "report.html").read_text()


def test_stage_refuses_to_run_before_its_input_stage(tmp_path):
    out = runner(PARAMS_DIR / "smoke.yaml", tmp_path, "--stage", "04_classification")
    assert out.returncode == 2
    line = out.stderr.strip().splitlines()[-1]
    assert "04_classification" in line and "03_encoding" in line
    record = json.loads((tmp_path / "smoke" / "run.json").read_text())
    assert record["stages"]["04_classification"]["status"] == "failed"
    assert (tmp_path / "smoke" / "notebooks" / "04_classification.ipynb").is_file()


def test_reproduce_offline_fails_fast_naming_the_model(tmp_path):
    out = runner(PARAMS_DIR / "paper.yaml", tmp_path, timeout=120)
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1, out.stderr
    assert "stable-diffusion-v1-5/stable-diffusion-v1-5" in lines[0]
    assert "make smoke" in lines[0]
    assert not (tmp_path / "paper" / "summary.json").exists()
    assert not (tmp_path / "paper" / "report.html").exists()


def test_selection_cli_agrees_with_the_notebook(smoke_run, tmp_path):
    root, _ = smoke_run
    out = tmp_path / "counts.csv"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "helpers.selection",
            "--metadata",
            str(root / "metadata" / "synthetic.parquet"),
            "--artists",
            "params/artists.csv",
            "--out",
            str(out),
            "--min-images",
            "100",
            "--no-progress",
        ],
        check=True,
        cwd=PROJECT_ROOT,
        timeout=120,
    )
    cols = ["caption_count", "selected", "reason"]
    cli = read(out).set_index("artist")[cols]
    notebook = read(root / "tables" / "selection.csv").set_index("artist")[cols]
    assert len(cli) == 80 and cli.equals(notebook)
