"""Images from any model: a folder of images made elsewhere as a generator (helpers.generation.folder), and
the one-call score (helpers.score)."""

import shutil
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from helpers import (
    classification,
    encoding,
    generation,
    record,
    report,
    schema,
    score,
    selection,
    summary,
    validation,
)
from helpers.errors import AuditError
from helpers.paths import PROJECT_ROOT

pytestmark = pytest.mark.slow

NUMBERS = (
    "n_artists",
    "accuracy",
    "accuracy_ci_low",
    "accuracy_ci_high",
    "accuracy_pooled",
    "permutation_p",
    "accuracy_random_names",
    "chance",
    "ceiling_accuracy",
    "fraction_significant",
    "fraction_significant_centered",
    "n_validated",
)


def _real_works(root, artists):
    """Two noise images per artist; the first artist's as if downloaded from the caption metadata."""
    rng = np.random.default_rng(1)
    for artist in artists:
        for i in range(2):
            path = root / artist / f"{i}.png"
            path.parent.mkdir(parents=True, exist_ok=True)
            Image.fromarray(rng.integers(0, 256, (40, 40, 3), dtype=np.uint8)).save(path)
    pd.DataFrame(
        {
            "artist": artists[0],
            "url": ["http://x/0.jpg", "http://x/1.jpg"],
            "file": [f"{artists[0]}/0.png", f"{artists[0]}/1.png"],
            "caption": f"art by {artists[0]}",
            "form": "art by {artist}",
        }
    ).to_csv(root / "manifest.csv", index=False)
    pd.DataFrame({"artist": artists, "mentions": [5, 0, 0], "style_reference": [3, 0, 0]}).to_csv(
        root / "caption_drops.csv", index=False
    )  # the sampler's drops, as the downloader records them
    return root


def _run_all(cfg):
    """The five stages in this process, as the notebooks run them."""
    with record.stage(cfg, "01_selection"):
        selection.run_stage(cfg)
    names = selection.read_names(cfg.paths)
    with record.stage(cfg, "02_generation"):
        made = generation.run_stage(cfg, names, progress=False)
    with record.stage(cfg, "03_encoding"):
        emb = encoding.run_stage(
            cfg, names, made.manifests, selection.read_real_works(cfg.paths), made.standins, progress=False
        ).embeddings
    with record.stage(cfg, "04_classification"):
        classification.run_stage(cfg, emb, selection.read_artists(cfg.paths))
    with record.stage(cfg, "05_validation"):
        validation.run_stage(cfg, emb, selection.read_excluded(cfg.paths), selection.read_real_works(cfg.paths))
        return made, summary.write_summary(cfg)


def _export(root, manifest, out):
    """A run's imitations in the folder layout an external model's images would come in."""
    for row in manifest.itertuples():
        target = out / row.group / row.name / f"{int(row.index):03d}.png"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(root / row.path, target)
    return out


@pytest.fixture(scope="module")
def original(tmp_path_factory):
    """A tiny run with real works, and its images laid out as a folder of images made elsewhere."""
    from conftest import _tiny_dict

    from helpers import paths

    tmp = tmp_path_factory.mktemp("folder")
    patch = pytest.MonkeyPatch()
    patch.setattr(paths, "OUTPUTS_DIR", tmp / "outputs")
    patch.setenv("IMITATION_AUDIT_OUTPUTS", str(tmp / "outputs"))
    data = _tiny_dict(
        "original",
        **{
            "artists__limit": 3,
            "classification__bootstrap": 300,
            "classification__permutations": 200,
            "classification__subsample_repeats": 5,
        },
    )
    first = _tiny_dict("x")["artists"]
    artists = selection.read_candidates(PROJECT_ROOT / first["file"])["artist"].tolist()[:3]
    data["validation"] = {"real_works_dir": str(_real_works(tmp / "real", artists)), "max_works": 2}
    cfg = schema.load(data)
    made, numbers = _run_all(cfg)
    folder = _export(cfg.paths.root, made.manifests[None], tmp / "external")
    yield data, cfg, numbers, folder, tmp
    patch.undo()


def _folder_params(data, folder, run="external", **spec):
    external = {**data, "run": run}
    external["generation"] = {
        **data["generation"],
        "generators": [{"name": "external", "source": "folder", "path": str(folder), **spec}],
    }
    return schema.load(external)


def test_a_runs_own_images_fed_back_as_a_folder_reproduce_its_numbers_exactly(original):
    data, cfg, numbers, folder, _ = original
    external = _folder_params(data, folder)
    made, again = _run_all(external)
    for key in NUMBERS:
        assert again[key] == numbers[key], key
    for table in ("accuracy.csv", "validation.csv", "validation_centered.csv", "ceiling.csv"):
        a, b = (pd.read_csv(p.paths.table(table)) for p in (cfg, external))
        pd.testing.assert_frame_equal(a, b, check_exact=True)
    manifest = made.manifests[None]
    assert set(manifest["seed"]) == {""} and all(p.startswith("images/") for p in manifest["path"])
    assert (external.paths.root / manifest["path"][0]).read_bytes() == (
        folder / "artists" / manifest["name"][0] / "000.png"
    ).read_bytes()
    assert again["seed"] is None and again["external_images"]["seeds"] == "unknown"
    assert any("EXTERNAL IMAGES" in c for c in again["caveats"])


def test_the_headline_is_broken_down_by_the_origin_of_the_real_works(original):
    """One artist's works sampled from the metadata, the others' from a user's folder: each validated artist
    says its origin, both tests' shares are given per origin, and the run warns that metadata-sampled works may
    be training images."""
    _, cfg, numbers, _, _ = original
    artists = selection.read_names(cfg.paths)["artists"]
    table = validation.read_validation(cfg.paths.config(None)).set_index("artist")
    assert table.loc[artists[0], "origin"] == "metadata" and set(table.loc[artists[1:], "origin"]) == {"folder"}
    assert numbers["real_work_origins"] == {"folder": 2, "metadata": 1}
    assert set(numbers["by_origin"]) == {"folder", "metadata"} and numbers["by_origin"]["metadata"]["n_validated"] == 1
    assert any(c.startswith("METADATA-SAMPLED REAL WORKS") for c in numbers["caveats"])
    real = selection.read_real_works(cfg.paths)
    assert set(real.loc[real["origin"] == "metadata", "caption"]) == {f"art by {artists[0]}"}
    drops = pd.read_csv(cfg.paths.real_captions_csv)
    assert drops["artist"].tolist() == artists and drops["style_reference"].tolist() == [3, 0, 0]
    assert pd.read_csv(cfg.paths.real_duplicates_csv).empty
    report.write_report(cfg)
    page = cfg.paths.report_html.read_text(encoding="utf-8")
    assert "METADATA-SAMPLED REAL WORKS" in page and "sampled from the caption metadata" in page


def _copy(folder, tmp, name):
    target = tmp / name
    shutil.copytree(folder, target)
    return target


def test_bad_folders_get_clear_errors_or_are_listed(original):
    data, cfg, _, folder, tmp = original
    artist = selection.read_names(cfg.paths)["artists"][0]
    names = selection.read_names(cfg.paths)

    def stage(path, run, **spec):
        params = _folder_params(data, path, run=run, **spec)
        return generation.run_stage(params, names, progress=False)

    missing = _copy(folder, tmp, "missing")
    shutil.rmtree(missing / "artists" / artist)
    with pytest.raises(AuditError, match=f"no image folder for artist {artist!r}"):
        stage(missing, "missing")

    stray = _copy(folder, tmp, "stray")
    shutil.copytree(stray / "artists" / artist, stray / "artists" / "Somebody Unknown")
    result = stage(stray, "stray")
    notes = result.folder_notes()
    assert notes[notes["kind"] == "unknown folder"]["folder"].tolist() == ["Somebody Unknown"]

    corrupt = _copy(folder, tmp, "corrupt")
    bad = corrupt / "artists" / artist / "000.png"
    bad.write_bytes(bad.read_bytes()[:60])
    with pytest.raises(AuditError, match="000.png.*truncated or corrupt"):
        stage(corrupt, "corrupt")
    with pytest.raises(AuditError, match="fewer than 2 images.*on_shortfall: measure"):
        stage(corrupt, "corrupt-skip", skip_bad_files=True)  # skipping it leaves the artist one image short
    result = stage(corrupt, "corrupt-measure", skip_bad_files=True, on_shortfall="measure")
    notes = result.folder_notes()
    assert notes[notes["kind"] == "skipped file"]["path"].tolist() == [str(bad)]
    assert notes[notes["kind"] == "shortfall"][["name", "found", "wanted"]].values.tolist() == [[artist, 1, 2]]

    link = _copy(folder, tmp, "link")
    outside = tmp / "outside.png"
    shutil.copyfile(folder / "artists" / artist / "001.png", outside)
    (link / "artists" / artist / "002.png").symlink_to(outside)
    with pytest.raises(AuditError, match="symbolic link.*outside"):
        stage(link, "link")


def test_missing_random_names_leave_the_baseline_missing_with_the_reason(original):
    data, _, _, folder, tmp = original
    artists_only = _copy(folder, tmp, "artists-only")
    shutil.rmtree(artists_only / "random_names")
    params = _folder_params(data, artists_only, run="no-baseline")
    _, numbers = _run_all(params)
    assert numbers["accuracy_random_names"] is None and "baseline missing" in numbers["baseline_missing"]
    assert numbers["accuracy"] is not None
    assert (
        "random_names/"
        in generation.run_stage(params, selection.read_names(params.paths), progress=False)
        .folders[None]
        .baseline_missing
    )


def test_score_names_the_artist_of_a_correctly_classified_imitation(original):
    _, cfg, _, _, _ = original
    pred = pd.read_csv(cfg.paths.table("predictions.csv"))
    right = pred[(pred["group"] == "artists") & pred["correct"]].iloc[0]
    image = cfg.paths.root / right["image"]
    out = subprocess.run(
        [sys.executable, "-m", "helpers.score", str(image), "--run", str(cfg.paths.root), "--top-k", "2"],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    first_line = out.stdout.splitlines()[1]
    assert right["name"] in first_line and score.CAVEAT in out.stdout
    table = score.score([image], cfg.paths.root, top_k=2)
    assert set(table["method"]) <= {"zero-shot", "reference"}
    table = table[table["method"] == "zero-shot"].reset_index(drop=True)
    assert table["artist"].iloc[0] == right["name"] and table["rank"].tolist() == [1, 2]
    # the image is one of the artist's own imitations: its validation score is in the own distribution
    own = pd.read_csv(cfg.paths.table("own_other.csv"))
    own = own[(own["artist"] == right["name"]) & (own["kind"] == "own")]["similarity"].to_numpy()
    assert np.isclose(own, table["s_real"].iloc[0], atol=1e-6).any()
    assert 0 < table["own_percentile"].iloc[0] < 100


def test_score_refuses_what_it_cannot_score(original, tmp_path):
    _, cfg, _, _, _ = original
    with pytest.raises(AuditError, match="not a run folder"):
        score.score([cfg.paths.root], tmp_path)
    (tmp_path / "x.png").write_bytes(b"not an image")
    with pytest.raises(AuditError, match="x.png"):
        score.score([tmp_path / "x.png"], cfg.paths.root)


def test_a_folder_is_one_more_generator_in_a_sweep(original):
    """The original generator and a folder of its own images, in one sweep: two configurations on the same
    artists, compared pair-wise over artists — identical images, so a difference of exactly zero."""
    from helpers import comparison

    data, _, numbers, folder, _ = original
    both = {**data, "run": "with-folder"}
    both["generation"] = {
        **data["generation"],
        "generators": [
            data["generation"]["generators"][0],
            {"name": "external", "source": "folder", "path": str(folder)},
        ],
    }
    params = schema.load(both)
    assert [c.name for c in params.configurations] == ["tiny-sd", "external"]
    _run_all(params)
    with record.stage(params, "06_comparison"):
        result = comparison.run_stage(params)
    assert result.comparison["accuracy"].tolist() == [numbers["accuracy"]] * 2
    # the folder holds the very images tiny-sd made: every per-artist measure a generator can change is equal
    assert set(result.paired["metric"]) >= {"accuracy", "validation_auc"}
    for pair in result.paired.itertuples():
        assert (pair.config_a, pair.config_b, pair.differs_in) == ("tiny-sd", "external", "generator")
        assert pair.method.startswith("paired bootstrap interval")
        assert (pair.difference, pair.ci_low, pair.ci_high, pair.p_value) == (0.0, 0.0, 0.0, 1.0)
