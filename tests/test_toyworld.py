"""The toy world: fictional artists, a deterministic corpus, and the shipped models with known answers.

Known answers: the names are invented and share nothing with the random-names baseline; styles are
distinct (a nearest-centroid rule on crude features tells them apart); caption counts span 10–500 with
23 of 36 artists over stage 01's threshold; regenerating the corpus gives the data the shipped weights
were trained on; the shipped files are the ones the manifest lists; and both models load through the
pipeline's own ``source: local`` code and work.
"""

from __future__ import annotations

import math
import subprocess
from functools import lru_cache

import numpy as np
import pytest

from helpers.paths import PROJECT_ROOT
from helpers.toyworld import artists as A
from helpers.toyworld import captions as C
from helpers.toyworld.corpus import N_GENERIC, REAL_PER_ARTIST, build_corpus, corpus_digest
from helpers.toyworld.manifest import MODELS_DIR, read_manifest, verify_files
from helpers.toyworld.styles import SIZE, render, render_generic

NAMES = [a.name for a in A.ARTISTS]


@lru_cache(maxsize=1)
def _bpe():
    import open_clip

    return open_clip.tokenizer.SimpleTokenizer()


@lru_cache(maxsize=1)
def _faker_tokens() -> frozenset[int]:
    bpe = _bpe()
    return frozenset(t for w in _faker_words() for t in bpe.encode(w))


@lru_cache(maxsize=1)
def _faker_words() -> frozenset[str]:
    from faker.providers.person.en_US import Provider

    words: set[str] = set()
    for attr in dir(Provider):
        if attr.startswith(("first_names", "last_names")):
            words |= {w.lower() for w in getattr(Provider, attr)}
    return frozenset(words)


# -- names ----------------------------------------------------------------------------------------------


def test_there_are_at_least_30_artists_with_distinct_names():
    from helpers.names import validate_names

    assert len(NAMES) >= 30
    assert validate_names(NAMES, where="toy artists") == NAMES  # clean, no duplicates after normalisation


def test_no_word_of_a_toy_name_is_a_faker_name_or_in_the_candidate_artists():
    import pandas as pd

    from helpers.names import name_key

    faker = _faker_words()
    assert len(faker) > 1000  # the lists were found
    clashes = [n for n in NAMES if any(w.lower() in faker for w in n.split())]
    assert clashes == []
    real = pd.read_csv(PROJECT_ROOT / "params" / "artists.csv")["artist"]
    real_words = {w for r in real for w in name_key(r).split()}
    assert [n for n in NAMES if any(w in real_words for w in name_key(n).split())] == []


def test_toy_name_tokens_are_never_seen_elsewhere():
    """No BPE token of a toy name occurs in a Faker en_US name (so a random name shares nothing the models
    learnt for an artist), in another toy name, or among the caption words."""
    bpe, faker_tokens = _bpe(), _faker_tokens()
    caption_tokens = {t for w in C.caption_words() for t in bpe.encode(w)}
    seen: dict[int, str] = {}
    for name in NAMES:
        tokens = set(bpe.encode(name))
        assert not tokens & faker_tokens, name
        assert not tokens & caption_tokens, name
        assert not [seen[t] for t in tokens if t in seen], name
        seen |= dict.fromkeys(tokens, name)


def test_filler_words_hold_no_faker_token():
    bpe, faker_tokens = _bpe(), _faker_tokens()
    fillers = C._SUBJECTS + C._ADJECTIVES + C._MEDIA + C._PLACES + C._TIMES
    assert [w for w in fillers if set(bpe.encode(w)) & faker_tokens] == []


# -- styles ---------------------------------------------------------------------------------------------


def _features(images: np.ndarray) -> np.ndarray:
    x = images.astype(np.float64) / 255
    small = x.reshape(len(x), 8, 4, 8, 4, 3).mean(axis=(2, 4)).reshape(len(x), -1)
    hist = np.stack([np.histogramdd(i.reshape(-1, 3), bins=4, range=[(0, 1)] * 3)[0].ravel() / 1024 for i in x])
    return np.concatenate([small, 3 * hist], axis=1)


def test_styles_are_deterministic_and_vary_inside_a_style():
    artist = A.ARTISTS[0]
    one = render(artist, np.random.default_rng(7))
    assert one.shape == (SIZE, SIZE, 3) and one.dtype == np.uint8
    assert np.array_equal(one, render(artist, np.random.default_rng(7)))
    assert not np.array_equal(one, render(artist, np.random.default_rng(8)))
    assert np.array_equal(render_generic(np.random.default_rng(3)), render_generic(np.random.default_rng(3)))


def test_styles_are_distinct():
    """A nearest-centroid rule on an 8×8 thumbnail and a colour histogram, fitted on 10 works per artist,
    names the artist of 10 fresh works each almost always (chance is 1/36)."""
    fit = np.stack([[render(a, np.random.default_rng([1, i, j])) for j in range(10)] for i, a in enumerate(A.ARTISTS)])
    new = np.stack([[render(a, np.random.default_rng([2, i, j])) for j in range(10)] for i, a in enumerate(A.ARTISTS)])
    centroids = np.stack([_features(f).mean(0) for f in fit])
    feats = _features(new.reshape(-1, SIZE, SIZE, 3))
    pred = np.argmin(((feats[:, None] - centroids[None]) ** 2).sum(-1), axis=1)
    truth = np.repeat(np.arange(len(A.ARTISTS)), 10)
    assert (pred == truth).mean() >= 0.95
    palettes = {(a.bg, a.fg) for a in A.ARTISTS}
    assert len(palettes) == len(A.ARTISTS)


def test_style_attributes_come_from_the_known_sets():
    for a in A.ARTISTS:
        assert a.pattern in A.PATTERNS and a.composition in A.COMPOSITIONS and a.motif in A.MOTIFS
        assert a.edge in ("soft", "hard")
    assert len({a.pattern for a in A.ARTISTS}) == len(A.PATTERNS)


# -- counts and captions ----------------------------------------------------------------------------------


def test_caption_counts_span_10_to_500_log_spaced_and_a_third_fall_under_the_threshold():
    counts = sorted(a.caption_count for a in A.ARTISTS)
    assert counts[0] == 10 and counts[-1] == 500
    assert counts == [round(10 * 50 ** math.sqrt(k / 35)) for k in range(36)]
    over = sum(c > 100 for c in counts)
    assert over == 23 and 0.3 <= 1 - over / len(counts) <= 0.4


def test_every_artist_caption_names_its_artist_once_and_generic_ones_name_nobody():
    from helpers.captions import normalize_text

    rng = np.random.default_rng(0)
    keys = [normalize_text(n) for n in NAMES]
    for name in NAMES:
        for _ in range(20):
            text = normalize_text(C.artist_caption(name, rng))
            assert [k for k in keys if k in text] == [normalize_text(name)]
    for _ in range(200):
        text = normalize_text(C.generic_caption(rng))
        assert not any(k in text for k in keys)
    forms = {C.artist_caption("Vexira Vornath", rng).replace("vexira vornath", "§") for _ in range(400)}
    assert len(forms) > 100 and any(f.startswith("Artwork from Vexira Vornath") for f in forms)


# -- corpus ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def corpus_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("toy") / "toy_world"
    record = build_corpus(out, seed=read_manifest()["seed"])
    return out, record


def test_a_corpus_missing_a_part_is_built_again(tmp_path, monkeypatch):
    """A corpus folder whose record matches but whose captions, images or real works were deleted is rebuilt
    (the fix that a missing ``selection.metadata`` suggests, ``helpers.toyworld for-params``, relies on it)."""
    import json

    from helpers.toyworld import corpus
    from helpers.toyworld.world import load_world

    world = load_world("toy")
    built = []
    monkeypatch.setattr(corpus, "build_corpus", lambda out, seed, world: built.append(out) or {"rebuilt": True})
    record = {"world": world.name, "recipe": world.recipe, "seed": 0}
    (tmp_path / "corpus.json").write_text(json.dumps(record), encoding="utf-8")
    for part in ("images", "real_works"):
        (tmp_path / part).mkdir()
    assert corpus.ensure_corpus(tmp_path, seed=0, world=world) == {"rebuilt": True}  # no captions.parquet
    (tmp_path / "captions.parquet").write_bytes(b"")
    assert corpus.ensure_corpus(tmp_path, seed=0, world=world) == record
    (tmp_path / "images").rmdir()
    assert corpus.ensure_corpus(tmp_path, seed=0, world=world) == {"rebuilt": True}
    assert built == [tmp_path, tmp_path]


def test_regenerated_corpus_is_the_data_the_weights_were_trained_on(corpus_dir):
    out, record = corpus_dir
    manifest = read_manifest()
    assert record["digest"] == manifest["corpus"]["digest"]
    assert corpus_digest(out) == record["digest"]  # recomputed from the written files


def test_corpus_counts_as_stage_01_counts_them(corpus_dir):
    from helpers.metadata import count_mentions

    out, record = corpus_dir
    counts = count_mentions(out / "captions.parquet", NAMES, progress=False)
    assert dict(zip(counts["artist"], counts["caption_count"], strict=True)) == {
        a.name: a.caption_count for a in A.ARTISTS
    }
    assert counts.attrs["captions_scanned"] == sum(a.caption_count for a in A.ARTISTS) + N_GENERIC


def test_real_works_are_held_out_in_stage_05_layout(corpus_dir):
    from PIL import Image

    from helpers.works import folder_origin

    out, _ = corpus_dir
    train = {np.asarray(Image.open(p)).tobytes() for p in (out / "images").glob("*.png")}
    for name in NAMES:
        files = sorted((out / "real_works" / name).iterdir())
        assert [f.name for f in files] == [f"{j:04d}.png" for j in range(REAL_PER_ARTIST)]
        assert not any(np.asarray(Image.open(f)).tobytes() in train for f in files)
    assert folder_origin(out / "real_works") == "toyworld"  # every real work of the toy world says what it is


# -- shipped weights ------------------------------------------------------------------------------------


def test_shipped_files_match_the_manifest_and_fit_the_budget():
    assert verify_files(MODELS_DIR) == []
    manifest = read_manifest()
    weights = [n for n in manifest["files"] if n.endswith(".safetensors")]
    assert sum(manifest["files"][n]["bytes"] for n in weights) <= 20_000_000
    assert manifest["command"].startswith("python -m helpers.toyworld train --seed ")
    assert manifest["training_seconds"]["total"] > 0
    ignored = subprocess.run(
        ["git", "check-ignore", *(str(MODELS_DIR / n) for n in weights)],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
    )
    assert ignored.stdout.strip() == ""  # .gitignore lets exactly these weights into git


@pytest.mark.parametrize("scheduler", ["pndm", "ddim", "euler", "dpm"])
def test_generator_loads_through_the_local_source_and_makes_32px_images(scheduler):
    import torch

    from helpers.models import load_pipeline
    from helpers.schema import GenerationParams, GeneratorSpec

    gen = GenerationParams(height=32, width=32, steps=3, scheduler=scheduler, device="cpu", dtype="float32")
    pipe = load_pipeline(GeneratorSpec(name="toy-sd", source="local", model="models/toy-world/toy-sd"), gen)
    for part in (pipe.unet, pipe.vae, pipe.text_encoder):
        assert {p.dtype for p in part.parameters()} == {torch.float32}  # float16 on disk, upcast on load
    out = pipe(
        ["Artwork from Vexira Vornath"] * 2,
        height=32,
        width=32,
        num_inference_steps=3,
        guidance_scale=3.0,
        generator=[torch.Generator().manual_seed(i) for i in range(2)],
        output_type="np",
    )
    assert out.images.shape == (2, 32, 32, 3) and np.isfinite(out.images).all()


@pytest.mark.parametrize("folder", ["toy-clip", "toy-clip-b"])
def test_encoder_loads_through_the_local_source_and_knows_the_popular_artists(folder, corpus_dir):
    """Zero-shot, the toy CLIP names the artist of held-out real works of the selected artists."""
    import torch
    from PIL import Image

    from helpers.models import load_encoder
    from helpers.schema import EncoderSpec

    if not (MODELS_DIR / folder).is_dir():
        pytest.skip(f"{folder} was not trained")
    enc = load_encoder(
        EncoderSpec(name=folder, source="local", model=f"models/toy-world/{folder}"), device="cpu", dtype="float32"
    )
    assert {p.dtype for p in enc.model.parameters()} == {torch.float32}
    out, _ = corpus_dir
    popular = [a.name for a in A.ARTISTS if a.caption_count > 100]
    pixels = torch.stack(
        [enc.preprocess(Image.open(out / "real_works" / n / f"{j:04d}.png")) for n in popular for j in range(5)]
    )
    images = enc.encode_pixels(pixels)
    labels = enc.encode_tokens(enc.tokenizer([f"Artwork from {n}" for n in popular]))
    assert images.shape == (len(pixels), enc.dim) and labels.shape == (len(popular), enc.dim)
    accuracy = ((images @ labels.T).argmax(1) == torch.arange(len(popular)).repeat_interleave(5)).float().mean()
    assert accuracy >= 0.8


# -- params ---------------------------------------------------------------------------------------------


def test_toy_artists_csv_is_the_table():
    assert (PROJECT_ROOT / "params" / "toy_artists.csv").read_text(encoding="utf-8") == A.candidates_csv()


def test_demo_profiles_point_at_the_toy_world():
    import yaml

    for profile, min_images in (("demo", 100), ("demo-all", 0)):
        data = yaml.safe_load((PROJECT_ROOT / "params" / f"{profile}.yaml").read_text())
        assert data["run"] == profile and data["selection"]["min_images"] == min_images
        assert data["generation"]["generators"][0] == {
            "name": "toy-sd",
            "source": "local",
            "model": "models/toy-world/toy-sd",
        }
        assert data["encoding"]["encoders"][0]["model"] == "models/toy-world/toy-clip"
        assert data["validation"]["real_works_dir"] == "data/toy_world/real_works"


def test_training_is_deterministic_from_its_seed(tmp_path):
    """The documented command's promise, on a few steps of each model: the same seed and thread count give
    the same bytes in every weight file; another seed gives other weights."""
    from helpers.toyworld.configs import Plan
    from helpers.toyworld.corpus import DEFAULT_DIR
    from helpers.toyworld.train import train_world

    plan = Plan(vae_steps=2, vae_batch=8, sd_steps=2, sd_batch=8, clip_steps=2, clip_batch=16, warmup=1)

    def weights(out, seed=0, corpus_dir=DEFAULT_DIR):
        record = train_world(
            seed=seed, threads=1, out=tmp_path / out, corpus_dir=corpus_dir, plan=plan, log=lambda _: None
        )
        return {name: f["sha256"] for name, f in record["files"].items()}

    first, again = weights("a"), weights("b")
    assert sum(name.endswith(".safetensors") for name in first) == 5 and first == again
    assert set(first) == set(read_manifest()["files"]), "the trained folder's files differ from the shipped ones"
    other = weights("c", seed=1, corpus_dir=tmp_path / "corpus-1")
    trained = [name for name in first if name.endswith(".safetensors")]
    assert all(other[name] != first[name] for name in trained), "seed 1 trained the same weights as seed 0"


@pytest.mark.parametrize(
    "profile, worlds",
    [("sweep-demo.yaml", ["toy"]), ("demo-hard-all.yaml", ["hard"]), ("smoke.yaml", []), ("paper.yaml", [])],
)
def test_for_params_builds_the_corpus_of_each_world_the_params_read(profile, worlds, monkeypatch):
    """What make reproduce, stage and explore run first: a corpus for each world whose folder the params name
    (the sweep's metadata lies in the toy world's folder), none for params outside the toy worlds."""
    from helpers.toyworld import __main__ as cli
    from helpers.toyworld import corpus
    from helpers.toyworld.world import load_world

    built = []

    def ensure_corpus(folder, world):
        built.append((folder, world.name))
        return {"digest": "0" * 64}

    monkeypatch.setattr(corpus, "ensure_corpus", ensure_corpus)
    cli.main(["for-params", str(PROJECT_ROOT / "params" / profile)])
    assert built == [(load_world(name).path("corpus_dir"), name) for name in worlds]


def test_for_params_refuses_bad_params_in_one_line_as_the_runner_does(tmp_path):
    from conftest import run_module

    bad = tmp_path / "bad.yaml"
    bad.write_text("run: x\ngeneration: {stepz: 3}\n")
    for path, said in ((tmp_path / "missing.yaml", "does not exist"), (bad, "stepz")):
        out = run_module(["helpers.toyworld", "for-params", str(path)], tmp_path)
        assert out.returncode == 2 and said in out.stderr, out.stderr
        assert len(out.stderr.strip().splitlines()) == 1 and "Traceback" not in out.stderr
