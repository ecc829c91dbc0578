"""The generation loop: seeds, resuming, refusing changed settings, surviving SIGKILL, and sharding
across processes — always the same bytes as one uninterrupted run."""

import hashlib
import os
import random
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml
from conftest import _tiny_dict

from helpers import generation, models, schema
from helpers.errors import AuditError
from helpers.paths import PROJECT_ROOT, RunPaths

ARTISTS = ["Claude Monet", "NA", "Zdzisław Beksiński"]
RANDOM = ["John Smith", "Zoë Ünïcode", "Mary Jones"]


def digests(root: Path) -> dict[str, str]:
    """sha256 of every file under the image folders of a run, by relative path."""
    out = {}
    for sub in ("images", "real_standin"):
        for p in sorted((root / sub).rglob("*")) if (root / sub).is_dir() else []:
            if p.is_file() and p.name != "generation.json":
                out[str(p.relative_to(root))] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def plan(cfg, names, *, namespace="imitation", count=None):
    """The jobs of the run's only generation setting (stand-ins go under real_standin/)."""
    if namespace == "standin":
        return generation.standin_jobs(
            cfg.model_copy(
                update={
                    "validation": cfg.validation.model_copy(
                        update={"standin_per_artist": count or cfg.validation.standin_per_artist}
                    )
                }
            ),
            names["real"],
        )
    return generation.imitation_jobs(cfg, cfg.configurations[0], names)


def generate(cfg, jobs, root, **kw):
    """Make ``jobs`` under ``root`` with the settings recorded beside the images they belong to."""
    images = (
        RunPaths(Path(root)).standins if jobs[0].path.startswith("real_standin/") else RunPaths(Path(root)).images()
    )
    return generation.generate(cfg.generation, cfg.configurations[0], jobs, root, images, **kw)


def temp_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.name.endswith(".tmp") or p.name.startswith(".tmp")]


@pytest.fixture(scope="module")
def cfg_dict():
    """conftest's tiny params mapping (seed 7 here), ``kw`` overriding generation settings."""

    def make(run="gen", **kw):
        return _tiny_dict(run, seed=7, **{f"generation__{key}": value for key, value in kw.items()})

    return make


@pytest.fixture(scope="module")
def pipeline(cfg_dict):
    cfg = schema.load(cfg_dict())
    return models.load_pipeline(cfg.configurations[0].generator, cfg.generation)


@pytest.fixture(scope="module")
def reference(pipeline, tmp_path_factory):
    """Images made in this process in one uninterrupted pass, by params: the bytes every other way must give."""
    made = {}

    def make(cfg, names):
        key = cfg.digest()
        if key not in made:
            root = tmp_path_factory.mktemp("reference")
            generate(cfg, plan(cfg, names), root, pipeline=pipeline, progress=False)
            generate(
                cfg, plan(cfg, {"real": names["artists"]}, namespace="standin"), root, pipeline=pipeline, progress=False
            )
            made[key] = (root, digests(root))
        return made[key]

    return make


NAMES = {"artists": ARTISTS[:2], "random_names": RANDOM[:2]}


# -- seeds and plans -----------------------------------------------------------------------------------------


def test_seeds_are_deterministic_and_namespaces_disjoint():
    s = generation.image_seed(0, "imitation", "artists", "Claude Monet", "Artwork from {artist}", 3)
    assert s == generation.image_seed(0, "imitation", "artists", "Claude Monet", "Artwork from {artist}", 3)
    assert 0 <= s < 2**63
    varied = {
        generation.image_seed(*args)
        for args in [
            (1, "imitation", "artists", "Claude Monet", "Artwork from {artist}", 3),
            (0, "imitation", "random_names", "Claude Monet", "Artwork from {artist}", 3),
            (0, "imitation", "artists", "Claude Monet ", "Artwork from {artist}", 3),
            (0, "imitation", "artists", "Claude Monet", "Art by {artist}", 3),
            (0, "imitation", "artists", "Claude Monet", "Artwork from {artist}", 4),
        ]
    }
    assert len(varied | {s}) == 6
    imitation = {
        generation.image_seed(0, "imitation", "artists", n, "t {artist}", i) for n in ARTISTS for i in range(50)
    }
    standin = {generation.image_seed(0, "standin", "real", n, "t {artist}", i) for n in ARTISTS for i in range(50)}
    assert not imitation & standin
    assert all(x >> 62 == 0 for x in imitation) and all(x >> 62 == 1 for x in standin)
    with pytest.raises(ValueError):
        generation.image_seed(0, "other", "artists", "x", "t", 0)


def test_plan_order_paths_and_prompts(cfg_dict):
    cfg = schema.load(cfg_dict())
    jobs = plan(cfg, NAMES)
    assert len(jobs) == 4 * 2
    assert [(j.group, j.name, j.index) for j in jobs[:3]] == [
        ("artists", "Claude Monet", 0),
        ("artists", "Claude Monet", 1),
        ("artists", "NA", 0),
    ]
    j = jobs[0]
    assert j.prompt == "Artwork from Claude Monet" and j.template == "Artwork from {artist}"
    assert j.path.startswith("images/artists/claude-monet-") and j.path.endswith("/000.png")
    assert j.seed == generation.image_seed(7, "imitation", "artists", "Claude Monet", "Artwork from {artist}", 0)
    stand = plan(cfg, {"real": ["NA"]}, namespace="standin", count=3)
    assert [s.path.split("/")[0] for s in stand] == ["real_standin"] * 3 and stand[2].path.endswith("/002.png")
    assert not {s.seed for s in stand} & {j.seed for j in jobs}


# -- resume, repair, refuse ----------------------------------------------------------------------------------


def test_rerun_skips_and_damaged_images_are_remade_byte_identically(cfg_dict, pipeline, reference, tmp_path):
    cfg = schema.load(cfg_dict())
    ref_root, ref = reference(cfg, NAMES)
    root = tmp_path / "run"
    jobs = plan(cfg, NAMES)
    first = generate(cfg, jobs, root, pipeline=pipeline, progress=False)
    assert first["generated"] == len(jobs)
    assert {k: v for k, v in digests(root).items() if k.startswith("images/")} == {
        k: v for k, v in ref.items() if k.startswith("images/")
    }
    assert generate(cfg, jobs, root, pipeline=pipeline, progress=False)["generated"] == 0

    deleted, truncated = root / jobs[0].path, root / jobs[7].path
    deleted.unlink()
    truncated.write_bytes(truncated.read_bytes()[:-40])
    stale = root / Path(jobs[4].path).with_name(".001.png.tmp")
    stale.write_bytes(b"half an image")
    again = generate(cfg, jobs, root, pipeline=pipeline, progress=False)
    assert again == {"generated": 3 + 2, "skipped": 3, "seconds": again["seconds"]}  # batches 0 and 2 remade
    assert {k: v for k, v in digests(root).items() if k.startswith("images/")} == {
        k: v for k, v in ref.items() if k.startswith("images/")
    }
    assert temp_files(root) == []
    from PIL import Image

    with Image.open(root / jobs[0].path) as img:
        assert img.text["prompt"] == jobs[0].prompt and img.text["seed"] == str(jobs[0].seed)
        assert len(img.text["fingerprint"]) == 16


def test_image_from_other_settings_is_not_taken_as_done(cfg_dict, pipeline, tmp_path):
    cfg = schema.load(cfg_dict())
    jobs = plan(cfg, {"artists": ["NA"]})
    root = tmp_path / "run"
    generate(cfg, jobs, root, pipeline=pipeline, progress=False)
    from PIL import Image

    with Image.open(root / jobs[0].path) as img:
        img.save(root / jobs[0].path)  # same pixels, no fingerprint
    assert generate(cfg, jobs, root, pipeline=pipeline, progress=False)["generated"] == len(jobs)


@pytest.mark.parametrize(
    ("allowed", "world_size", "threads"), [({0}, 1, 1), ({0, 1, 2, 3}, 1, 4), ({0, 1, 2, 3}, 2, 2), ({5, 6, 7}, 4, 1)]
)
def test_all_cores_means_the_cores_this_process_may_use(cfg_dict, monkeypatch, allowed, world_size, threads):
    """``cpu_threads: all`` counts the cores the process may run on (its affinity: a container or taskset can
    allow fewer than the machine has), shared out among the processes, at least one each."""
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(allowed), raising=False)
    gen = schema.load(cfg_dict(cpu_threads="all")).generation
    assert generation.cpu_threads(gen, world_size) == threads
    assert generation.cpu_threads(schema.load(cfg_dict()).generation, world_size) == 1  # a fixed count stays as given


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("steps", 3),
        ("guidance_scale", 5.0),
        ("scheduler", "ddim"),
        ("height", 72),
        ("negative_prompt", "blurry"),
        ("batch_size", 2),
        ("cpu_threads", 2),
    ],
)
def test_changed_setting_is_refused_naming_it(cfg_dict, pipeline, tmp_path, key, value):
    root = tmp_path / "run"
    cfg = schema.load(cfg_dict())
    generate(cfg, plan(cfg, {"artists": ["NA"]}), root, pipeline=pipeline, progress=False)
    changed = schema.load(cfg_dict(**{key: value}))
    with pytest.raises(AuditError) as err:
        generate(changed, plan(changed, {"artists": ["NA"]}), root, pipeline=pipeline)
    line = str(err.value)
    assert key in line and "new 'run:' name" in line and "delete" in line and "\n" not in line


def test_changed_seed_or_template_is_refused(cfg_dict, pipeline, tmp_path):
    root = tmp_path / "run"
    cfg = schema.load(cfg_dict())
    generate(cfg, plan(cfg, {"artists": ["NA"]}), root, pipeline=pipeline, progress=False)
    for change, word in (
        ({"seed": 8}, "run_seed"),
        ({"generation": {**cfg_dict()["generation"], "templates": ["Art by {artist}"]}}, "template"),
    ):
        other = schema.load({**cfg_dict(), **change})
        with pytest.raises(AuditError, match=word):
            generate(other, plan(other, {"artists": ["NA"]}), root, pipeline=pipeline)


def test_shards_together_make_the_same_bytes(cfg_dict, pipeline, reference, tmp_path):
    cfg = schema.load(cfg_dict())
    _, ref = reference(cfg, NAMES)
    root = tmp_path / "run"
    jobs = plan(cfg, NAMES)
    counts = [
        generate(cfg, jobs, root, pipeline=pipeline, rank=r, world_size=2, progress=False)["generated"] for r in (1, 0)
    ]
    assert counts == [3, 5]  # batches 1 | 0, 2
    assert {k: v for k, v in digests(root).items()} == {k: v for k, v in ref.items() if k.startswith("images/")}


def test_manifest_needs_every_image(cfg_dict, pipeline, tmp_path):
    cfg = schema.load(cfg_dict())
    jobs = plan(cfg, {"artists": ["NA"], "random_names": ["John Smith"]})
    root = tmp_path / "run"
    generate(cfg, jobs, root, pipeline=pipeline, progress=False)
    (root / jobs[1].path).unlink()
    with pytest.raises(AuditError, match=jobs[1].path):
        generation.write_manifest(jobs, root, RunPaths(root).images())
    assert not (root / "images" / "manifest.csv").exists()
    generate(cfg, jobs, root, pipeline=pipeline, progress=False)
    df = generation.write_manifest(jobs, root, RunPaths(root).images())
    assert list(df.columns) == ["name", "group", "template", "prompt", "index", "seed", "path", "sha256"]
    back = pd.read_csv(root / "images" / "manifest.csv", dtype=str, keep_default_na=False)
    assert back["name"].tolist() == ["NA", "NA", "John Smith", "John Smith"]
    assert back["sha256"][0] == hashlib.sha256((root / jobs[0].path).read_bytes()).hexdigest()
    assert back["seed"][0] == str(jobs[0].seed)


def test_run_stage_writes_manifest_and_standins(cfg_dict, outputs_dir, write_names, reference):
    cfg = schema.load(cfg_dict("stage"))
    write_names(cfg.paths, NAMES["artists"], NAMES["random_names"])
    result = generation.run_stage(cfg, NAMES, progress=False)
    manifest = result.manifests[None]
    assert len(manifest) == 8 and set(manifest["group"]) == {"artists", "random_names"}
    assert manifest.equals(generation.read_manifest(cfg.paths))  # the reader gives back what was written
    real = generation.read_standins(cfg.paths)
    assert real.equals(result.standins)
    assert list(real.columns) == ["artist", "path", "sha256", "source", "rank"]
    assert real["artist"].tolist() == ["Claude Monet", "Claude Monet", "NA", "NA"] and real["rank"].tolist() == [
        0,
        1,
        0,
        1,
    ]
    assert set(real["source"]) == {"standin"} and all(p.startswith("real_standin/") for p in real["path"])
    assert result.counts()["images"].tolist() == [4, 4, 4]
    got = digests(cfg.paths.root)
    got.pop("images/manifest.csv"), got.pop("real_standin/manifest.csv")
    assert got == reference(cfg, NAMES)[1]
    assert cfg.paths.images().settings.is_file() and cfg.paths.standins.settings.is_file()
    assert result.figures["generated_examples"].path == cfg.paths.figure("generated_examples")


# -- processes: SIGKILL and accelerate -----------------------------------------------------------------------


def _params_file(tmp_path, data) -> Path:
    path = tmp_path / f"{data['run']}.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    return path


def _cli(params_file, *launcher):
    return [*launcher, "-m", "helpers.generation", "--params", str(params_file), "--no-progress"]


@pytest.mark.slow
def test_killed_runs_resume_to_the_same_bytes(cfg_dict, outputs_dir, write_names, reference, tmp_path):
    data = cfg_dict("fault", images_per_name=3, batch_size=2)
    cfg = schema.load(data)
    names = {"artists": ARTISTS, "random_names": RANDOM}
    write_names(cfg.paths, ARTISTS, RANDOM)
    ref_root, ref = reference(cfg, names)
    params_file = _params_file(tmp_path, data)
    root = cfg.paths.root
    rng = random.Random(20230708)
    cmd = _cli(params_file, sys.executable)
    at_kill = []
    for trial in range(4):
        before = len(list(root.rglob("*.png")))
        proc = subprocess.Popen(cmd, cwd=PROJECT_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if trial == 0:
            time.sleep(rng.uniform(0.5, 5.0))  # somewhere in start-up and model loading
        else:
            deadline = time.monotonic() + 120
            while proc.poll() is None and len(list(root.rglob("*.png"))) == before and time.monotonic() < deadline:
                time.sleep(0.01)
            time.sleep(rng.uniform(0.0, 0.6))  # somewhere in the loop, the writes, or the manifests
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        at_kill.append(len(list(root.rglob("*.png"))))
    assert any(0 < n < len(ref) for n in at_kill), at_kill  # some kill landed mid-run
    done = subprocess.run(cmd, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    got = digests(root)
    manifest, standins = got.pop("images/manifest.csv"), got.pop("real_standin/manifest.csv")
    assert got == ref
    assert temp_files(root) == []
    table = pd.read_csv(root / "images" / "manifest.csv", dtype=str, keep_default_na=False)
    assert len(table) == 2 * 3 * 3 and table["sha256"].tolist() == [ref[p] for p in table["path"]]
    assert manifest and standins


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_two_processes_under_accelerate_make_the_same_bytes(cfg_dict, outputs_dir, write_names, reference, tmp_path):
    data = cfg_dict("sharded")
    cfg = schema.load(data)
    write_names(cfg.paths, NAMES["artists"], NAMES["random_names"])
    _, ref = reference(cfg, NAMES)
    launcher = [
        sys.executable,
        "-m",
        "accelerate.commands.launch",
        "--cpu",
        "--num_processes",
        "2",
        "--num_machines",
        "1",
        "--mixed_precision",
        "no",
        "--dynamo_backend",
        "no",
        "--main_process_port",
        str(_free_port()),
    ]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    out = subprocess.run(
        _cli(_params_file(tmp_path, data), *launcher),
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-3000:]
    got = digests(cfg.paths.root)
    got.pop("images/manifest.csv"), got.pop("real_standin/manifest.csv")
    assert got == ref
    jobs = plan(cfg, NAMES)
    table = pd.read_csv(cfg.paths.images().manifest, dtype=str, keep_default_na=False)
    assert table["path"].tolist() == [j.path for j in jobs]
    assert temp_files(cfg.paths.root) == []


# -- other families: SDXL and a one-step distilled model -------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "own", "pipeline", "scheduler"),
    [
        (
            "tiny-sdxl",
            {"scheduler": "default", "height": 32, "width": 32},
            "StableDiffusionXLPipeline",
            "EulerDiscreteScheduler",
        ),
        (
            "tiny-sd-turbo",
            {"steps": 1, "guidance_scale": 0.0, "scheduler": "default"},
            "StableDiffusionPipeline",
            "EulerAncestralDiscreteScheduler",
        ),
    ],
)
def test_other_families_load_through_the_auto_pipeline_with_their_own_call_settings(
    model, own, pipeline, scheduler, tmp_path
):
    """Each family's tiny build loads through the same call as SD v1.5, with the scheduler it was saved with,
    and is called with its own size, steps and guidance: the images have that size, carry those settings in
    their fingerprint, and come out the same twice."""
    from PIL import Image

    data = {
        "run": "family",
        "seed": 3,
        "artists": {"limit": 1},
        "generation": {
            "generators": [{"name": model, "source": "tiny", "model": model, **own}],
            "images_per_name": 2,
            "height": 64,
            "width": 64,
            "steps": 2,
            "batch_size": 2,
            "device": "cpu",
            "dtype": "float32",
            "channels_last": False,
        },
        "encoding": {"encoders": [{"name": "tiny-clip", "source": "tiny", "model": "tiny-clip", "pretrained": None}]},
        "validation": {"real_works_dir": None, "standin": True},
    }
    cfg = schema.load(data)
    config = cfg.configurations[0]
    pipe = models.load_pipeline(config.generator, cfg.generation)
    assert type(pipe).__name__ == pipeline and type(pipe.scheduler).__name__ == scheduler
    jobs = generation.imitation_jobs(cfg, config, {"artists": ["NA"]})
    call = cfg.generation.call_settings(config.generator)
    made = []
    for run in ("a", "b"):
        root = tmp_path / run
        stats = generation.generate(
            cfg.generation, config, jobs, root, RunPaths(root).images(), pipeline=pipe, progress=False
        )
        assert stats["generated"] == 2
        made.append(digests(root))
        with Image.open(root / jobs[0].path) as img:
            assert img.size == (call["width"], call["height"])
        recorded = yaml.safe_load((root / "images" / "generation.json").read_text())["settings"]
        assert {k: recorded[k] for k in ("steps", "guidance_scale", "height", "width", "scheduler")} == call
    assert made[0] == made[1]
