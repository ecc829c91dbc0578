"""Unusual but legitimate names go through every stage and every file stays inside the run folder."""

import pandas as pd
import pytest

from helpers import classification, encoding, generation, report, run, selection, validation
from helpers.names import clean_name

pytestmark = pytest.mark.slow

NAMES = [
    "AC/DC",
    "..",
    "  Padded   Name  ",
    "Very Long " + "x" * 300,
    "Simon Stålenhag",
    "Ilya 🎨 Kuvshinov",
    "محمد الفنان",
    "שרה כהן",
    '"); import os; os.system("touch pwned") #',
]


def test_unusual_names_end_to_end(tmp_path, tiny_params, outputs_dir):
    csv = tmp_path / "artists.csv"
    pd.DataFrame({"artist": NAMES, "alive": "true", "online_presence": "true"}).to_csv(csv, index=False)
    cfg = tiny_params(
        "unusual",
        artists__file=str(csv),
        artists__limit=None,
        generation__images_per_name=1,
        generation__batch_size=9,
        validation__standin_per_artist=1,
        classification__bootstrap=200,
        classification__permutations=200,
        classification__subsample_repeats=5,
    )
    with run.stage(cfg, "01_selection"):
        result = selection.run_stage(cfg)
    cleaned = [clean_name(n) for n in NAMES]
    assert result.artists == cleaned
    with run.stage(cfg, "02_generation"):
        manifest = generation.run_stage(cfg, progress=False)
    with run.stage(cfg, "03_encoding"):
        encoding.run_stage(cfg, progress=False)
    with run.stage(cfg, "04_classification"):
        res = classification.run_stage(cfg)
    with run.stage(cfg, "05_validation"):
        table, _, excluded = validation.run_stage(cfg)
        report.write_summary(cfg, validation.numbers(cfg, table, excluded))

    art = manifest[manifest["group"] == "artists"]
    assert sorted(art["name"]) == sorted(cleaned)
    assert set(res.accuracy.loc[res.accuracy["group"] == "artists", "name"]) == set(cleaned)
    assert set(table["artist"]) == set(cleaned)
    assert run.read_table(cfg.paths.artists_csv)["artist"].tolist() == cleaned
    root = cfg.paths.root.resolve()
    files = [p for p in outputs_dir.rglob("*") if p.is_file()]
    assert files and all(p.resolve().is_relative_to(root) for p in files), [p for p in files if not p.resolve().is_relative_to(root)]
    assert not (tmp_path / "pwned").exists()
    for rel in manifest["path"]:
        assert (cfg.paths.root / rel).resolve().is_relative_to(root / "images")
