"""The run record: stage status, the order of stages, params that changed under a run, half-written files."""

import json

import numpy as np
import pandas as pd
import pytest
import yaml

from helpers import params as P
from helpers import paths as paths_mod
from helpers import run
from helpers.classification import read_embeddings
from helpers.errors import AuditError
from helpers.paths import PARAMS_DIR


@pytest.fixture
def cfg(tmp_path, monkeypatch):
    monkeypatch.setattr(paths_mod, "OUTPUTS_DIR", tmp_path)
    data = yaml.safe_load((PARAMS_DIR / "smoke.yaml").read_text())
    data["run"] = "record"
    return P.load(data)


def test_stages_record_status_and_refuse_out_of_order(cfg):
    with pytest.raises(AuditError, match="needs stage 01_selection.*'not run'"):
        with run.stage(cfg, "02_generation"):
            pass
    with run.stage(cfg, "01_selection"):
        assert run.read_run(cfg.paths)["stages"]["01_selection"]["status"] == "running"
    assert run.read_run(cfg.paths)["stages"]["01_selection"]["status"] == "done"
    with pytest.raises(ZeroDivisionError):
        with run.stage(cfg, "02_generation"):
            raise ZeroDivisionError("boom")
    entry = run.read_run(cfg.paths)["stages"]["02_generation"]
    assert entry["status"] == "failed" and "ZeroDivisionError" in entry["error"]
    with pytest.raises(AuditError, match="needs stage 02_generation.*'failed'"):
        run.require(cfg, "03_encoding")
    record = run.read_run(cfg.paths)
    assert record["weights"] == "random" and record["params_digest"] == cfg.digest()
    assert yaml.safe_load(cfg.paths.params_copy.read_text())["run"] == "record"


def test_changed_params_are_refused_for_an_existing_run(cfg):
    with run.stage(cfg, "01_selection"):
        pass
    data = cfg.model_dump()
    data["validation"]["alpha"] = 0.01
    changed = P.load(data)
    with pytest.raises(AuditError, match="different params.*new 'run:' name"):
        with run.stage(changed, "01_selection"):
            pass


def test_corrupt_run_json_is_reported(cfg):
    cfg.paths.root.mkdir(parents=True)
    cfg.paths.run_json.write_text("{half")
    with pytest.raises(AuditError, match="run.json is not valid JSON"):
        run.read_run(cfg.paths)


def test_tables_keep_names_that_look_like_missing_values(tmp_path):
    df = pd.DataFrame({"artist": ["NA", "None", "nan", "null", ""]})
    run.write_table(df, tmp_path / "t.csv")
    assert run.read_table(tmp_path / "t.csv")["artist"].tolist() == ["NA", "None", "nan", "null", ""]


def test_atomic_write_leaves_no_temporary_files(tmp_path):
    run.write_json(tmp_path / "a" / "x.json", {"k": 1})
    assert json.loads((tmp_path / "a" / "x.json").read_text()) == {"k": 1}
    assert [p.name for p in (tmp_path / "a").iterdir()] == ["x.json"]


def _embeddings(folder, n=4, d=8):
    folder.mkdir(parents=True)
    np.save(folder / "images.npy", np.eye(n, d, dtype=np.float32))
    np.save(folder / "labels.npy", np.eye(2, d, dtype=np.float32))
    pd.DataFrame({"row": range(n), "kind": "imitation", "group": "artists", "name": ["a", "a", "b", "b"],
                  "index": [0, 1, 0, 1], "path": list("wxyz"), "sha256": "0"}).to_csv(folder / "images.csv", index=False)  # fmt: skip
    pd.DataFrame({"row": [0, 1], "group": "artists", "name": ["a", "b"], "text": ["A", "B"]}).to_csv(folder / "labels.csv", index=False)
    (folder / "encoder.json").write_text("{}")


def test_half_written_or_mismatched_embeddings_are_refused(tmp_path):
    folder = tmp_path / "embeddings"
    _embeddings(folder)
    assert read_embeddings(folder).image_vectors.shape == (4, 8)
    data = (folder / "images.npy").read_bytes()
    (folder / "images.npy").write_bytes(data[: len(data) // 2])
    with pytest.raises(AuditError, match="rerun 03_encoding"):
        read_embeddings(folder)
    np.save(folder / "images.npy", np.eye(3, 8, dtype=np.float32))
    with pytest.raises(AuditError, match=r"shape \(3, 8\) but images.csv has 4 rows"):
        read_embeddings(folder)
