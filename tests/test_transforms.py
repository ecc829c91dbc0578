"""Post-processing as a sweep axis: the params refuse what cannot run with one line naming the key, each step
does what it says and the same image through the same chain gives the same bytes, transformed images and their
embeddings are computed once, and the comparison pairs each chain with the untransformed configuration."""

import io

import numpy as np
import pytest
import yaml
from PIL import Image

from helpers import schema, transforms
from helpers.errors import AuditError
from helpers.files import sha256_bytes


def _png(pixels: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(pixels.astype(np.uint8)).save(buf, format="PNG")
    return buf.getvalue()


@pytest.fixture(scope="module")
def picture() -> bytes:
    rng = np.random.default_rng(1)
    smooth = np.kron(rng.integers(0, 256, (8, 8, 3)), np.ones((8, 8, 1)))  # 64 x 64 blocks: JPEG keeps them
    return _png(smooth)


def _chain(*steps: dict, name: str = "c", applies_to: str = "imitations") -> schema.TransformSpec:
    return schema.TransformSpec(name=name, applies_to=applies_to, steps=list(steps))


def _pixels(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as img:
        return np.asarray(img.convert("RGB"), dtype=float)


def _run(picture, *steps, counterparts=()):
    return transforms.apply(picture, _chain(*steps), sha256_bytes(picture), counterparts)


def test_the_same_image_through_the_same_chain_gives_the_same_bytes(picture):
    chain = _chain({"step": "noise", "sigma": 20}, {"step": "crop", "fraction": 0.5, "mode": "random"})
    key = sha256_bytes(picture)
    assert transforms.apply(picture, chain, key) == transforms.apply(picture, chain, key)
    other = _png(_pixels(picture)[::-1])  # another image draws other noise
    assert not np.array_equal(
        _pixels(transforms.apply(other, chain, sha256_bytes(other)))[::-1],
        _pixels(transforms.apply(picture, chain, key)),
    )


def test_each_step_does_what_it_says(picture):
    original = _pixels(picture)
    error = {q: np.abs(_pixels(_run(picture, {"step": "jpeg", "quality": q})) - original).mean() for q in (95, 10)}
    assert 0 < error[95] < error[10]
    resized = _pixels(_run(picture, {"step": "resize", "size": 8}))
    assert resized.shape == original.shape and np.abs(resized - original).mean() > 1
    assert _run(picture, {"step": "resize", "size": 64}) == _png(original)  # not smaller: nothing to do
    noisy = _pixels(_run(picture, {"step": "noise", "sigma": 10})) - original
    assert 7 < noisy.std() < 11  # the 0-255 scale (clipping trims a little)
    assert _run(picture, {"step": "noise", "sigma": 0}) == _png(original)
    blurred = _pixels(_run(picture, {"step": "blur", "radius": 2}))
    assert np.abs(np.diff(blurred, axis=1)).mean() < np.abs(np.diff(original, axis=1)).mean()
    centre = _pixels(_run(picture, {"step": "crop", "fraction": 0.5}))
    assert centre.shape == original.shape
    np.testing.assert_array_equal(centre[::4, ::4][:2, :2], original[16:48:2, 16:48:2][:2, :2])  # a 4x block
    assert _run(picture, {"step": "crop", "fraction": 1.0}) == _png(original)
    elsewhere = _png(np.full((64, 64, 3), 7))
    assert _run(picture, {"step": "folder", "path": "x"}, counterparts=[elsewhere]) == elsewhere


def test_cache_keys_follow_the_source_the_chain_and_the_folder_images():
    a, b = _chain({"step": "jpeg", "quality": 30}, name="a"), _chain({"step": "jpeg", "quality": 30}, name="b")
    assert a.digest() == b.digest()  # the name is a label; the steps are the chain
    assert transforms.derived_key("s1", a) == transforms.derived_key("s1", b)
    assert transforms.derived_key("s1", a) != transforms.derived_key("s2", a)
    assert transforms.derived_key("s1", a) != transforms.derived_key("s1", _chain({"step": "jpeg", "quality": 31}))
    assert transforms.derived_key("s1", a, ["f1"]) != transforms.derived_key("s1", a, ["f2"])


def test_strength_and_applies_to():
    assert transforms.strength(_chain({"step": "jpeg", "quality": 30})) == ("jpeg", 30.0)
    assert transforms.strength(_chain({"step": "jpeg", "quality": 30}, {"step": "blur", "radius": 1})) is None
    assert transforms.strength(_chain({"step": "folder", "path": "p"})) is None
    both = _chain({"step": "blur", "radius": 1}, applies_to="both")
    assert transforms.applies(both, "real") and transforms.applies(both, "imitation")
    assert not transforms.applies(_chain({"step": "blur", "radius": 1}), "real")
    assert not transforms.applies(None, "imitation")


def _demo_with(transform_list) -> dict:
    data = yaml.safe_load(open("params/demo.yaml"))
    return {**data, "transforms": transform_list}


@pytest.mark.parametrize(
    "entries, expect",
    [
        ([{"name": "a", "steps": [{"step": "sharpen"}]}], r"'transforms\[0\]\.steps\[0\]': Input tag 'sharpen'"),
        ([{"name": "a", "steps": [{"step": "jpeg", "quality": 0}]}], r"'transforms\[0\]\.steps\[0\]\.quality'"),
        (
            [
                {"name": "a", "steps": [{"step": "blur", "radius": 1}]},
                {"name": "b", "steps": [{"step": "jpeg", "quality": 90}, {"step": "jpeg", "quality": 101}]},
            ],
            r"'transforms\[1\]\.steps\[1\]\.quality'",
        ),
        ([{"name": "a", "steps": [{"step": "noise", "sigma": -1}]}], r"'transforms\[0\]\.steps\[0\]\.sigma'"),
        ([{"name": "a", "steps": [{"step": "crop", "fraction": 1.5}]}], r"'transforms\[0\]\.steps\[0\]\.fraction'"),
        ([{"name": "a", "steps": [{"step": "crop", "fraction": 0}]}], r"'transforms\[0\]\.steps\[0\]\.fraction'"),
        ([{"name": "a", "steps": [{"step": "resize", "size": 0}]}], r"'transforms\[0\]\.steps\[0\]\.size'"),
        (
            [{"name": "a", "applies_to": "prompts", "steps": [{"step": "blur", "radius": 1}]}],
            r"'transforms\[0\]\.applies_to'",
        ),
        ([{"name": "a", "steps": []}], r"'transforms\[0\]\.steps'"),
        (
            [{"name": "none", "steps": [{"step": "blur", "radius": 1}]}],
            r"'transforms\[0\]\.name': 'none' names the untransformed",
        ),
        ([{"name": "a", "steps": [{"step": "blur", "radius": 1}]}] * 2, "transform names repeat 'a'"),
    ],
)
def test_bad_transforms_are_refused_with_one_line_naming_the_key(entries, expect):
    with pytest.raises(AuditError, match=expect) as err:
        schema.load(_demo_with(entries), check_files=False)
    assert "\n" not in str(err.value) and "Fix:" in str(err.value)


def test_the_axis_adds_the_untransformed_configuration_first_and_names_by_transform():
    assert [c.name for c in schema.load("params/demo.yaml", check_files=False).configurations] == [None]
    configs = schema.load(
        _demo_with([{"name": "jpeg-q30", "steps": [{"step": "jpeg", "quality": 30}]}]), check_files=False
    ).configurations
    assert [c.name for c in configs] == ["none", "jpeg-q30"]
    assert [c.axes["transform"] for c in configs] == ["none", "jpeg-q30"] and configs[0].transform is None
    assert configs[0].generation_key == configs[1].generation_key is None  # one set of images for every chain


CHAINS = [{"name": f"jpeg-q{q}", "steps": [{"step": "jpeg", "quality": q}]} for q in (90, 50, 10)]


def _encode(cfg, names):
    import pandas as pd

    from helpers import encoding, generation
    from helpers.selection import REAL_WORKS_COLUMNS

    return encoding.run_stage(
        cfg,
        names,
        generation.read_manifests(cfg),
        pd.DataFrame(columns=list(REAL_WORKS_COLUMNS)),
        generation.read_standins(cfg.paths),
        progress=False,
    )


@pytest.fixture
def generated(tiny_params, write_names):
    from helpers import generation

    def make(chains, run="transformed"):
        cfg = tiny_params(run, transforms=chains)
        names = {"artists": ["Claude Monet", "NA"], "random_names": ["John Smith"]}
        write_names(cfg.paths, names["artists"], names["random_names"])
        generation.run_stage(cfg, names, progress=False)
        return cfg, names

    return make


def test_four_chains_generate_once_encode_each_once_and_a_rerun_computes_nothing(generated, monkeypatch, tmp_path):
    from helpers import encoding, models
    from helpers import paths as _paths

    monkeypatch.setattr(_paths, "CACHE_DIR", tmp_path / "cache")  # a cold cache: other tests encode these images too
    monkeypatch.setattr(_paths, "EMBEDDING_CACHE", tmp_path / "cache" / "embeddings")

    cfg, names = generated(CHAINS)
    assert [c.name for c in cfg.configurations] == ["none", "jpeg-q90", "jpeg-q50", "jpeg-q10"]
    assert len({c.generation_key for c in cfg.configurations}) == 1  # one set of images
    made, encoded, real_apply = [], [], transforms.apply
    monkeypatch.setattr(transforms, "apply", lambda *a, **k: made.append(1) or real_apply(*a, **k))
    real_load = models.load_encoder

    def counting_load(*a, **k):
        enc = real_load(*a, **k)
        forward = enc.encode_pixels
        monkeypatch.setattr(enc, "encode_pixels", lambda px: encoded.append(len(px)) or forward(px))
        return enc

    monkeypatch.setattr(encoding, "load_encoder", counting_load)
    first = _encode(cfg, names)
    n_imitations = 6  # 3 names x 2 images; the chains apply to imitations, the 4 stand-ins stay as they are
    assert len(made) == 3 * n_imitations and sum(encoded) == n_imitations + 4 + 3 * n_imitations
    vectors = {name: e.image_vectors for name, e in first.embeddings.items()}
    kinds = first.embeddings["none"].images["kind"].to_numpy()
    for name in ("jpeg-q90", "jpeg-q10"):
        np.testing.assert_array_equal(vectors[name][kinds == "real"], vectors["none"][kinds == "real"])
        assert not np.array_equal(vectors[name][kinds == "imitation"], vectors["none"][kinds == "imitation"])
    info = first.embeddings["jpeg-q10"].encoder["transform"]
    assert info["name"] == "jpeg-q10" and info["steps"] == [{"step": "jpeg", "quality": 10}]
    made.clear(), encoded.clear()
    again = _encode(cfg, names)  # a rerun: every transformed image and every embedding is in the cache
    assert made == [] and encoded == []
    for name, e in again.embeddings.items():
        np.testing.assert_array_equal(e.image_vectors, vectors[name])


def test_a_folder_step_reads_the_parallel_folder_and_refuses_a_missing_image(generated, tmp_path):
    from helpers import generation

    folder = tmp_path / "protected"
    chain = [{"name": "protected", "applies_to": "real_works", "steps": [{"step": "folder", "path": str(folder)}]}]
    cfg, names = generated(chain, run="folder")
    standins = generation.read_standins(cfg.paths)
    with pytest.raises(AuditError, match=r"transforms\[0\]\.steps\[0\]\.path.*has no image") as err:
        _encode(cfg, names)
    assert "\n" not in str(err.value)
    for path in standins["path"]:  # real_standin/<folder>/<index>.png: the same relative paths, other pixels
        target = folder / cfg.paths.in_run(path).relative_to(cfg.paths.standins.root)
        target.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(np.full((64, 64, 3), 200, dtype=np.uint8)).save(target)
    result = _encode(cfg, names)
    kinds = result.embeddings["none"].images["kind"].to_numpy()
    moved = result.embeddings["protected"].image_vectors[kinds == "real"]
    np.testing.assert_allclose(moved, moved[0:1].repeat(len(moved), 0), atol=1e-6)  # every stand-in replaced
    np.testing.assert_array_equal(
        result.embeddings["protected"].image_vectors[kinds == "imitation"],
        result.embeddings["none"].image_vectors[kinds == "imitation"],
    )


def test_the_comparison_pairs_each_chain_only_in_the_measures_it_can_change():
    from helpers import comparison

    entries = [
        {"name": "jpeg", "steps": [{"step": "jpeg", "quality": 30}]},
        {"name": "protected", "applies_to": "real_works", "steps": [{"step": "blur", "radius": 1}]},
        {"name": "all", "applies_to": "both", "steps": [{"step": "blur", "radius": 1}]},
    ]
    none, jpeg, protected, both = schema.load(_demo_with(entries), check_files=False).configurations
    assert comparison._differs(none, jpeg) == ["transform"]
    assert all("transform" in axes for axes in comparison.METRICS.values())
    reaches = {
        c.name: [m for m in comparison.METRICS if comparison._transform_reaches(none, c, m)]
        for c in (jpeg, protected, both)
    }
    assert reaches == {
        "jpeg": ["accuracy", "validation_auc", "significant_artist_level"],
        "protected": ["validation_auc", "significant_artist_level", "ceiling_accuracy"],
        "all": list(comparison.METRICS),
    }
    assert "transform" in comparison.COMPARISON_COLUMNS


def test_the_transform_figure_has_a_panel_per_step_stronger_to_the_right():
    import pandas as pd

    from helpers import plots

    rows = pd.DataFrame(
        {
            "step": ["jpeg", "jpeg", "noise", "noise"],
            "strength": [90, 10, 8, 128],
            "accuracy": [0.9, 0.6, 0.9, 0.1],
            "accuracy_ci_low": [0.8, 0.5, 0.8, 0.05],
            "accuracy_ci_high": [0.95, 0.7, 0.95, 0.2],
            "fraction_significant_artist_level": [1.0, 0.8, 1.0, 0.1],
        }
    )
    reference = pd.Series({"accuracy": 0.95, "fraction_significant_artist_level": 1.0, "chance": 0.05})
    fig = plots.transform_curves(rows, reference, title="t", weights="toy")
    panels = [ax for ax in fig.axes if ax.get_xlabel()]
    assert [ax.get_xlabel().split(":")[0] for ax in panels] == ["jpeg", "noise"]
    assert [t.get_text() for t in panels[0].get_xticklabels()] == ["90", "10"]  # lower quality is stronger
    assert [t.get_text() for t in panels[1].get_xticklabels()] == ["8", "128"]
    np.testing.assert_allclose(panels[1].get_lines()[0].get_ydata(), [0.9, 0.1])


def test_the_runner_refuses_a_missing_folder_before_any_stage(tmp_path):
    from helpers import runner

    chain = [
        {"name": "a", "steps": [{"step": "blur", "radius": 1}]},
        {"name": "glazed", "applies_to": "real_works", "steps": [{"step": "folder", "path": str(tmp_path / "no")}]},
    ]
    params = schema.load(_demo_with(chain), check_files=False)
    with pytest.raises(AuditError, match=r"transforms\[1\]\.steps\[0\]\.path.*does not exist"):
        runner.preflight(params, ["01_selection"])


# -- the toy world's known answer (params/sweep-transforms.yaml) ---------------------------------------------

MILD = ("jpeg-q90", "resize-24", "noise-8")
MILD_WITHIN = 0.05  # mild processing moves the mean accuracy by at most this much
STRONG_NOISE = "noise-512"
STRONG_ABOVE_CHANCE = 0.10  # strong noise leaves at most this much accuracy above chance


def _runner(outputs, *args):
    import os
    import subprocess
    import sys

    from helpers.paths import PROJECT_ROOT

    env = {**os.environ, "IMITATION_AUDIT_OUTPUTS": str(outputs), "HF_HUB_OFFLINE": "1"}
    return subprocess.run(
        [sys.executable, "-m", *args], capture_output=True, text=True, cwd=PROJECT_ROOT, env=env, timeout=1200
    )


@pytest.fixture(scope="module")
def swept(tmp_path_factory):
    outputs = tmp_path_factory.mktemp("outputs")
    out = _runner(outputs, "helpers.toyworld", "corpus")
    assert out.returncode == 0, out.stderr[-2000:]
    out = _runner(outputs, "helpers.runner", "--params", "params/sweep-transforms.yaml")
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    from helpers import comparison
    from helpers.paths import RunPaths

    paths = RunPaths(outputs / "sweep-transforms")
    return outputs, paths, comparison.read_tables(paths)


@pytest.mark.slow
@pytest.mark.xdist_group("toyworld")
def test_mild_processing_keeps_the_signal_and_strong_noise_brings_it_to_chance(swept):
    _, paths, (table, paired, _) = swept
    acc = table.set_index("transform")["accuracy"]
    chance = table.set_index("transform")["chance"]
    assert list(table["transform"]) == [
        "none",
        "jpeg-q90",
        "jpeg-q50",
        "jpeg-q10",
        "resize-24",
        "resize-16",
        "resize-8",
        "noise-8",
        "noise-64",
        "noise-512",
    ]
    assert acc["none"] >= 0.80  # the demo's own signal (docs/TOY_WORLDS.md)
    for name in MILD:
        assert abs(acc[name] - acc["none"]) <= MILD_WITHIN, name
    assert acc[STRONG_NOISE] - chance[STRONG_NOISE] <= STRONG_ABOVE_CHANCE
    assert acc["noise-8"] >= acc["noise-64"] >= acc["noise-512"]
    against_none = paired[(paired["differs_in"] == "transform") & (paired["config_a"] == "none")]
    assert set(against_none["config_b"]) == set(table["config"]) - {"none"}
    assert set(against_none["metric"]) == {"accuracy", "validation_auc", "significant_artist_level"}  # not the ceiling
    from helpers.report import FIGURE_CAPTIONS

    assert paths.figure("transforms").is_file()
    assert FIGURE_CAPTIONS["transforms"][:60] in paths.report_html.read_text()  # the figure, inline, with its caption


@pytest.mark.slow
@pytest.mark.xdist_group("toyworld")
def test_a_rerun_of_the_transform_sweep_computes_nothing(swept):
    from helpers import paths as _paths

    outputs, paths, _ = swept
    cache = _paths.CACHE_DIR

    def files():
        return sorted(
            (str(p.relative_to(cache)), p.stat().st_mtime_ns)
            for folder in ("transformed", "embeddings")
            for p in (cache / folder).rglob("*")
            if p.is_file()
        )

    before = files()
    assert any(name.startswith("transformed") for name, _ in before)
    out = _runner(outputs, "helpers.runner", "--params", "params/sweep-transforms.yaml")
    assert out.returncode == 0 and out.stdout.count("up to date, skipped") == 6, out.stdout[-2000:]
    out = _runner(outputs, "helpers.runner", "--params", "params/sweep-transforms.yaml", "--stage", "03_encoding")
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    assert files() == before  # stage 03 run again: no image transformed, no vector computed
