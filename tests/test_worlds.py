"""Toy worlds as data: each world file validates into a typed world, the easy world's file is the corpus its
shipped weights were trained on, the hard world's ground truth (families, cases, exposure, caption forms) is
what its file says, and every world's shipped files and corpus match its manifest (a changed byte fails)."""

from __future__ import annotations

import shutil
from functools import lru_cache

import numpy as np
import pytest

from helpers.errors import AuditError
from helpers.paths import PROJECT_ROOT
from helpers.toyworld import artists as A
from helpers.toyworld.corpus import _rng, build_corpus, corpus_digest, read_corpus
from helpers.toyworld.manifest import read_manifest, verify_files
from helpers.toyworld.styles import render
from helpers.toyworld.world import STYLE_KEYS, World, load_world, world_names

HARD = load_world("hard")
LABEL = "Artwork from {name}"  # stage 03's label template (params: classification.label_templates)


@lru_cache(maxsize=1)
def _faker_tokens() -> frozenset[int]:
    import open_clip
    from faker.providers.person.en_US import Provider

    bpe = open_clip.tokenizer.SimpleTokenizer()
    words = {
        w.lower()
        for attr in dir(Provider)
        if attr.startswith(("first_names", "last_names"))
        for w in getattr(Provider, attr)
    }
    return frozenset(t for w in words for t in bpe.encode(w))


def test_the_shipped_worlds_validate():
    assert world_names() == ["hard", "toy"]
    for name in world_names():
        world = load_world(name)
        assert isinstance(world, World) and world.name == name
    with pytest.raises(AuditError, match="no toy world"):
        load_world("nowhere")


def test_a_world_file_with_a_typo_is_refused():
    data = load_world("toy").model_dump()
    with pytest.raises(ValueError, match="extra"):
        World(**{**data, "n_generics": 3})
    impostor = {**data["artists"][0], "case": "impostor"}  # an impostor must name a ghost style
    with pytest.raises(ValueError, match="ghost"):
        World(**{**data, "artists": [impostor, *data["artists"][1:]]})


def test_the_easy_world_is_its_file():
    world = load_world("toy")
    assert tuple(world.all_artists) == A.ARTISTS and len(A.ARTISTS) == 36
    assert world.digest_header == "toy-world corpus recipe 1\n"
    assert world.train_command == "python -m helpers.toyworld train"
    assert read_manifest(world.path("models_dir"))["command"] == "python -m helpers.toyworld train --seed 0 --threads 2"


def test_an_encoder_may_differ_in_model_and_training_and_the_easy_ones_do_not():
    """A world's ``encoders`` entry is a seed offset (the easy world's two CLIPs: the world's architecture and
    plan) or a mapping that also changes the architecture (key by key) and the clip_* plan."""
    import json

    from helpers.toyworld.configs import CLIP, encoder_configs, plan_for

    easy = encoder_configs(load_world("toy"))
    assert {name: (seed, config == CLIP) for name, (seed, config, _) in easy.items()} == {
        "toy-clip": (0, True),
        "toy-clip-b": (1, True),
    }
    hard = encoder_configs(HARD)
    (_, full, full_plan), (seed, lite, lite_plan) = hard["toy-clip"], hard["toy-clip-lite"]
    assert seed == 1 and full_plan == lite_plan == plan_for(HARD)
    assert lite["vision_cfg"]["layers"] < full["vision_cfg"]["layers"] and lite["embed_dim"] < full["embed_dim"]
    assert lite["vision_cfg"]["image_size"] == full["vision_cfg"]["image_size"] == 32  # only the named keys change
    data = HARD.model_dump()
    with pytest.raises(ValueError, match="clip_"):
        World(**{**data, "encoders": {"toy-clip": {"seed": 0, "plan": {"sd_steps": 3}}}})
    if _trained(HARD):  # the shipped folders are what the world file says
        for name, (_, config, _) in hard.items():
            saved = json.loads((HARD.path("models_dir") / name / "open_clip_config.json").read_text())
            assert saved["model_cfg"] == config, name


# -- the hard world's ground truth ------------------------------------------------------------------------


def test_hard_families_share_a_style_and_differ_inside():
    by_family: dict[str, list] = {}
    for a in HARD.all_artists:
        by_family.setdefault(a.family, []).append(a)
    assert len(by_family) == 8 and all(len(m) == 4 for m in by_family.values())
    for members in by_family.values():
        assert len({(a.bg, a.fg, a.pattern, a.composition) for a in members}) == 1  # confusable neighbours
        assert len({tuple(getattr(a, k) for k in STYLE_KEYS) for a in members}) == 4  # yet four styles
    assert HARD.variation > load_world("toy").variation


def test_hard_cases_are_in_its_artists_csv():
    import pandas as pd

    table = pd.read_csv(PROJECT_ROOT / "params" / "hard_artists.csv", keep_default_na=False)
    assert (PROJECT_ROOT / "params" / "hard_artists.csv").read_text() == A.candidates_csv(HARD)
    counts = table.groupby(["case", "seen_by"]).size().to_dict()
    assert counts == {
        ("normal", "both"): 24,
        ("impostor", "both"): 3,
        ("unseen", "encoder"): 3,
        ("unseen", "generator"): 2,
    }
    ghosts = {g.name for g in HARD.ghosts}
    assert set(table.loc[table["case"] == "impostor", "trained_as"]) == ghosts


def test_no_hard_caption_form_is_the_label_template():
    forms = [f.lower() for f in HARD.artist_forms + HARD.generic_forms]
    assert LABEL.lower() not in forms and not any(f.startswith("artwork from") for f in forms)


def test_hard_names_share_no_token_with_a_baseline_name_or_another_toy_name():
    import open_clip

    bpe, faker = open_clip.tokenizer.SimpleTokenizer(), _faker_tokens()
    seen: dict[int, str] = {t: a.name for a in A.ARTISTS for t in bpe.encode(a.name)}
    for a in HARD.all_artists:
        tokens = set(bpe.encode(a.name))
        assert not tokens & faker, a.name
        assert not [seen[t] for t in tokens if t in seen], a.name
        seen |= dict.fromkeys(tokens, a.name)


@pytest.fixture(scope="module")
def hard_corpus(tmp_path_factory):
    out = tmp_path_factory.mktemp("hard") / "corpus"
    record = build_corpus(out, seed=0, world=HARD)
    return out, record, *read_corpus(out, HARD)


def test_hard_exposure_follows_the_world_file(hard_corpus):
    """Unseen artists are named only in the other model's rows; a normal artist's rows are all the
    generator's and three in four the encoder's; stage 01 counts every row of the parquet."""
    from helpers.metadata import count_mentions

    out, record, corpus, _ = hard_corpus
    gen, enc = set(corpus.rows("generator")), set(corpus.rows("encoder"))
    for a in HARD.all_artists:
        rows = {i for i, name in enumerate(corpus.artists) if name == a.name}
        assert len(rows) == a.caption_count
        if a.seen_by == "encoder":
            assert not rows & gen and rows <= enc, a.name
        elif a.seen_by == "generator":
            assert not rows & enc and rows <= gen, a.name
        else:
            assert rows <= gen and len(rows & enc) == round(HARD.encoder_share * a.caption_count), a.name
    counts = count_mentions(out / "captions.parquet", [a.name for a in HARD.all_artists], progress=False)
    assert dict(zip(counts["artist"], counts["caption_count"], strict=True)) == record["caption_counts"]


def test_an_impostors_training_works_are_the_ghosts_and_its_real_works_its_own(hard_corpus):
    out, record, corpus, real = hard_corpus
    ghosts = {g.name: g for g in HARD.ghosts}
    for a_index, a in enumerate(HARD.all_artists):
        if a.case != "impostor":
            continue
        trained = {corpus.images[i].tobytes() for i, name in enumerate(corpus.artists) if name == a.name}
        ghost = render(ghosts[a.trained_as], _rng(0, "train", a_index, 0), HARD.variation)
        own = render(a, _rng(0, "train", a_index, 0), HARD.variation)
        assert ghost.tobytes() in trained and own.tobytes() not in trained
        assert np.array_equal(real[a.name][0], render(a, _rng(0, "real", a_index, 0), HARD.variation))


# -- every world against its manifest -----------------------------------------------------------------------


def _trained(world: World) -> bool:
    return (world.path("models_dir") / "MANIFEST.json").is_file()


@pytest.mark.parametrize("name", world_names())
def test_every_world_matches_its_manifest_and_the_budget(name, tmp_path):
    world = load_world(name)
    if not _trained(world):
        pytest.skip(f"world {name} is not trained (no {world.models_dir}/MANIFEST.json)")
    manifest = read_manifest(world.path("models_dir"))
    assert verify_files(world.path("models_dir")) == []
    assert (
        manifest["command"] == f"{world.train_command} --seed {manifest['seed']} --threads {manifest['torch_threads']}"
    )
    build_corpus(tmp_path / "corpus", seed=manifest["seed"], world=world)
    assert corpus_digest(tmp_path / "corpus", world) == manifest["corpus"]["digest"]
    total = sum(
        read_manifest(load_world(n).path("models_dir"))["weights_bytes"]
        for n in world_names()
        if _trained(load_world(n))
    )
    assert total <= 30_000_000


@pytest.mark.parametrize("name", world_names())
def test_every_file_of_a_manifest_is_committed_not_ignored(name):
    """A weights file the manifest lists but .gitignore hides (``*.safetensors`` is ignored outside a list of
    exceptions) exists in the checkout that trained it and is missing from every clone."""
    import subprocess

    world = load_world(name)
    if not _trained(world) or not (PROJECT_ROOT / ".git").exists():
        pytest.skip(f"world {name} is not trained, or this is not a git checkout")
    folder = world.path("models_dir").relative_to(PROJECT_ROOT)
    files = [(folder / f).as_posix() for f in read_manifest(world.path("models_dir"))["files"]]
    ignored = subprocess.run(
        ["git", "check-ignore", "--no-index", *files], cwd=PROJECT_ROOT, capture_output=True, text=True
    ).stdout.split()
    assert ignored == [], f"ignored by .gitignore (add an exception): {ignored}"


@pytest.mark.parametrize("name", world_names())
def test_no_shipped_file_names_the_checkout_it_was_trained_in(name):
    """A config that records an absolute path (diffusers keeps the folder a model was loaded from) makes the
    shipped bytes, and so the manifest, depend on where the repository lay when the world was trained."""
    world = load_world(name)
    if not _trained(world):
        pytest.skip(f"world {name} is not trained")
    import json

    for path in world.path("models_dir").rglob("*.json"):
        text = path.read_text(encoding="utf-8")
        assert str(PROJECT_ROOT) not in text, path
        assert not str(json.loads(text).get("_name_or_path", "")).startswith("/"), path


@pytest.mark.parametrize("name", world_names())
def test_a_changed_or_extra_file_fails_the_manifest(name, tmp_path):
    world = load_world(name)
    if not _trained(world):
        pytest.skip(f"world {name} is not trained")
    copy = tmp_path / "models"
    shutil.copytree(world.path("models_dir"), copy)
    target = next(p for p in sorted(copy.rglob("*.safetensors")))
    data = bytearray(target.read_bytes())
    data[-1] ^= 1
    target.write_bytes(bytes(data))
    (copy / "stray.txt").write_text("x")
    problems = verify_files(copy)
    assert f"{target.relative_to(copy).as_posix()}: sha256 differs" in problems
    assert "stray.txt: not in the manifest" in problems


# -- the report's disagreement rule ----------------------------------------------------------------------------


def test_the_report_flags_named_but_not_validated_and_the_reverse():
    import pandas as pd

    from helpers.report import NAMED_AT, disagreements

    accuracy = pd.DataFrame(
        {
            "group": ["artists"] * 4 + ["random_names"],
            "name": ["a", "b", "c", "d", "r"],
            "accuracy": [0.9, NAMED_AT, 0.1, 0.2, 0.9],
        }
    )
    validated = pd.DataFrame(
        {
            "artist": ["a", "b", "c", "d"],
            "significant_artist_level": [True, False, True, False],
            "p_adjusted_artist_level": [0.01, 0.4, 0.02, 0.9],
            "significant_paper_test": [True, True, True, False],
        }
    )
    table = disagreements(accuracy, validated, {"b": "impostor"})
    assert table[["artist", "case", "disagreement"]].values.tolist() == [
        ["b", "impostor", "named, not validated"],
        ["c", "", "validated, not named"],
    ]
    assert disagreements(accuracy, validated.iloc[[0, 3]]).empty  # a agrees (yes, yes), d agrees (no, no)
    # too few artists for the artist-level test (its columns empty, as validation.read_validation gives them):
    # no verdict, so no disagreement — and no crash on pandas' NA
    untested = validated.assign(significant_artist_level=pd.array([pd.NA] * 4, dtype="boolean"))
    assert disagreements(accuracy, untested).empty
