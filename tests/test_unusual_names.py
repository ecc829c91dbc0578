"""Unusual but legitimate names go through every stage and every file stays inside the run folder."""

import builtins
import os
import subprocess

import pandas as pd
import pytest

from helpers import classification, encoding, generation, record, selection, summary, validation
from helpers.names import clean_name

pytestmark = pytest.mark.slow

INJECTION = '"); import os; os.system("touch {target}") #'
"""A name that, were it ever formatted into code and run, would create ``target`` (an absolute path)."""

NAMES = [
    "AC/DC",
    "..",
    "  Padded   Name  ",
    "Very Long " + "x" * 300,
    "Simon Stålenhag",
    "Ilya 🎨 Kuvshinov",
    "محمد الفنان",
    "שרה כהן",
]


@pytest.fixture
def code_spy(monkeypatch):
    """Every string handed to exec, eval, compile, os.system or a subprocess while the stages run."""
    seen = []
    for owner, name in (
        (builtins, "exec"),
        (builtins, "eval"),
        (builtins, "compile"),
        (os, "system"),
        (subprocess, "Popen"),
    ):
        real = getattr(owner, name)

        def spy(*args, _real=real, **kwargs):
            seen.extend(str(a) for a in args if isinstance(a, (str, bytes, list, tuple)))
            return _real(*args, **kwargs)

        monkeypatch.setattr(owner, name, spy)
    return seen


def test_unusual_names_end_to_end(tmp_path, tiny_params, outputs_dir, code_spy):
    target = tmp_path / "pwned"
    injection = INJECTION.format(target=target)
    names = [*NAMES, injection]
    csv = tmp_path / "artists.csv"
    pd.DataFrame({"artist": names, "alive": "true", "online_presence": "true"}).to_csv(csv, index=False)
    cfg = tiny_params(
        "unusual",
        artists__file=str(csv),
        artists__limit=None,
        generation__images_per_name=1,
        generation__batch_size=10,
        validation__standin_per_artist=1,
        classification__bootstrap=200,
        classification__permutations=200,
        classification__subsample_repeats=5,
    )
    with record.stage(cfg, "01_selection"):
        result = selection.run_stage(cfg)
    cleaned = [clean_name(n) for n in names]
    assert result.artists == cleaned
    found = selection.read_names(cfg.paths)
    with record.stage(cfg, "02_generation"):
        generated = generation.run_stage(cfg, found, progress=False)
    with record.stage(cfg, "03_encoding"):
        embedded = encoding.run_stage(
            cfg, found, generated.manifests, selection.read_real_works(cfg.paths), generated.standins, progress=False
        )
    with record.stage(cfg, "04_classification"):
        res = classification.run_stage(cfg, embedded.embeddings, selection.read_artists(cfg.paths))
    with record.stage(cfg, "05_validation"):
        checked = validation.run_stage(cfg, embedded.embeddings, selection.read_excluded(cfg.paths))
        summary.write_summary(cfg)

    manifest = generated.manifests[None]
    art = manifest[manifest["group"] == "artists"]
    assert sorted(art["name"]) == sorted(cleaned)
    assert set(art["prompt"]) == {f"Artwork from {n}" for n in cleaned}  # the name, verbatim, in the prompt
    accuracy = res.first.accuracy
    assert set(accuracy.loc[accuracy["group"] == "artists", "name"]) == set(cleaned)
    assert set(checked.first.table["artist"]) == set(cleaned)
    assert selection.read_artists(cfg.paths)["artist"].tolist() == cleaned
    root = cfg.paths.root.resolve()
    files = [p for p in outputs_dir.rglob("*") if p.is_file()]
    assert files and all(p.resolve().is_relative_to(root) for p in files), [
        p for p in files if not p.resolve().is_relative_to(root)
    ]
    for rel in manifest["path"]:
        assert (cfg.paths.root / rel).resolve().is_relative_to(root / "images")
    # the injection never reached code: nothing ran it, and the file it would create does not exist
    eval("'spy is live'")
    assert "'spy is live'" in code_spy
    assert not [s for s in code_spy if str(target) in s]
    assert not target.exists()
