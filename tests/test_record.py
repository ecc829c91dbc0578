"""The run record (helpers.record): stage status, the order of stages, params that changed under a run;
and stage 03's reader refusing half-written embeddings."""

import pytest
import yaml

from helpers import paths as paths_mod
from helpers import record, schema
from helpers.errors import AuditError
from helpers.paths import PARAMS_DIR


@pytest.fixture
def cfg(tmp_path, monkeypatch):
    monkeypatch.setattr(paths_mod, "OUTPUTS_DIR", tmp_path)
    data = yaml.safe_load((PARAMS_DIR / "smoke.yaml").read_text())
    data["run"] = "record"
    return schema.load(data)


def test_stages_record_status_and_refuse_out_of_order(cfg):
    with pytest.raises(AuditError, match="needs stage 01_selection.*'not run'"):
        with record.stage(cfg, "02_generation"):
            pass
    with record.stage(cfg, "01_selection"):
        assert record.read_run(cfg.paths)["stages"]["01_selection"]["status"] == "running"
    assert record.read_run(cfg.paths)["stages"]["01_selection"]["status"] == "done"
    with pytest.raises(ZeroDivisionError):
        with record.stage(cfg, "02_generation"):
            raise ZeroDivisionError("boom")
    entry = record.read_run(cfg.paths)["stages"]["02_generation"]
    assert entry["status"] == "failed" and "ZeroDivisionError" in entry["error"]
    with pytest.raises(AuditError, match="needs stage 02_generation.*'failed'"):
        record.require(cfg, "03_encoding")
    saved = record.read_run(cfg.paths)
    assert saved["weights"] == "random" and saved["params_digest"] == cfg.digest()
    assert yaml.safe_load(cfg.paths.params_copy.read_text())["run"] == "record"


def _all_done(cfg):
    from helpers.pipeline import STAGES

    for name in STAGES:
        with record.stage(cfg, name):
            pass


def _changed(cfg, section, key, value):
    data = cfg.model_dump()
    data[section][key] = value
    return schema.load(data)


def test_params_that_change_names_or_images_are_refused(cfg):
    _all_done(cfg)
    for section, key, value in (
        ("generation", "steps", 3),
        ("selection", "min_images", 5),
        ("validation", "standin_per_artist", 4),
    ):
        with pytest.raises(AuditError, match=f"{section}.{key}: .* there, .* now.*new 'run:' name"):
            with record.stage(_changed(cfg, section, key, value), "05_validation"):
                pass
    assert record.read_run(cfg.paths)["params_digest"] == cfg.digest()


def test_later_params_make_their_stages_stale_and_rerunnable(cfg):
    _all_done(cfg)
    changed = _changed(cfg, "validation", "alpha", 0.01)
    with record.stage(changed, "05_validation"):
        pass
    saved = record.read_run(cfg.paths)
    assert saved["params_digest"] == changed.digest()
    assert saved["params_changes"][-1]["changed"] == ["validation.alpha"]
    assert saved["stages"]["05_validation"]["status"] == "done"
    assert yaml.safe_load(cfg.paths.params_copy.read_text())["validation"]["alpha"] == 0.01

    encoder = _changed(changed, "encoding", "batch_size", 7)
    with pytest.raises(AuditError, match="needs stage 03_encoding.*'stale'"):
        with record.stage(encoder, "04_classification"):
            pass
    stages = record.read_run(cfg.paths)["stages"]
    assert [stages[s]["status"] for s in ("02_generation", "03_encoding", "05_validation")] == [
        "done",
        "stale",
        "stale",
    ]


def test_corrupt_run_json_is_reported(cfg):
    cfg.paths.root.mkdir(parents=True)
    cfg.paths.run_json.write_text("{half")
    with pytest.raises(AuditError, match="run.json is not valid JSON"):
        record.read_run(cfg.paths)


def test_an_interrupted_stage_is_recorded_as_interrupted_with_its_process(cfg):
    import os
    import socket

    with pytest.raises(KeyboardInterrupt):
        with record.stage(cfg, "01_selection"):
            entry = record.read_run(cfg.paths)["stages"]["01_selection"]
            assert (entry["pid"], entry["host"]) == (os.getpid(), socket.gethostname())
            raise KeyboardInterrupt
    assert record.read_run(cfg.paths)["stages"]["01_selection"]["status"] == "interrupted"


def test_a_stage_left_running_by_a_dead_process_is_settled_as_interrupted(cfg):
    _all_done(cfg)
    run = record.read_run(cfg.paths)
    run["stages"]["03_encoding"].update(status="running", pid=2**22 + 7, host="elsewhere")
    cfg.paths.run_json.write_text(__import__("json").dumps(run))
    with pytest.raises(AuditError, match="'interrupted'"):  # a hand-run stage 04 settles it, then refuses
        with record.stage(cfg, "04_classification"):
            pass
    entry = record.read_run(cfg.paths)["stages"]["03_encoding"]
    assert entry["status"] == "interrupted" and "4194311 on elsewhere" in entry["error"]
    assert record.settle(cfg) == []


def test_a_failure_the_record_cannot_be_written_for_keeps_its_own_error(cfg, monkeypatch):
    import errno

    with record.stage(cfg, "01_selection"):
        pass

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(ZeroDivisionError), monkeypatch.context() as patch:  # not the OSError of the record
        with record.stage(cfg, "02_generation"):
            patch.setattr(record, "write_json", full)
            raise ZeroDivisionError
    assert record.read_run(cfg.paths)["stages"]["02_generation"]["status"] == "running"  # settled on next start


def test_a_stage_run_again_makes_the_later_ones_stale(cfg):
    _all_done(cfg)
    record.stale_after(cfg, "02_generation")
    stages = record.read_run(cfg.paths)["stages"]
    assert [stages[s]["status"] for s in sorted(stages)] == ["done", "done", "stale", "stale", "stale"]


def test_summary_json_is_there_only_while_stage_05_is_done(cfg):
    """It quotes stage 04's headline: stage 04 run again (by the runner or by hand, as from JupyterLab), a stage
    before it, or a params change that reaches 05 makes 05 stale and removes it, so no report pairs a new
    accuracy table with an old headline."""
    _all_done(cfg)
    summary = cfg.paths.summary_json
    summary.write_text("{}")
    with record.stage(cfg, "04_classification"):
        assert not summary.exists()
    assert record.read_run(cfg.paths)["stages"]["05_validation"]["status"] == "stale"
    with record.stage(cfg, "05_validation"):
        summary.write_text("{}")
    record.stale_after(cfg, "02_generation")
    assert not summary.exists()
    for name in ("03_encoding", "04_classification", "05_validation"):
        with record.stage(cfg, name):
            pass
    summary.write_text("{}")
    with record.stage(_changed(cfg, "validation", "alpha", 0.01), "05_validation"):
        assert not summary.exists()


def test_a_stage_by_hand_refuses_while_a_runner_holds_the_folder(cfg):
    import subprocess
    import sys

    with record.stage(cfg, "01_selection"):
        pass
    hold = (
        "import sys, time; from pathlib import Path; from helpers import lock\n"
        "with lock.hold(Path(sys.argv[1])):\n    print('held', flush=True); time.sleep(60)"
    )
    proc = subprocess.Popen([sys.executable, "-c", hold, str(cfg.paths.lock_file)], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "held"
        with pytest.raises(AuditError, match=f"in use by process {proc.pid}"):
            with record.stage(cfg, "02_generation"):
                pass
    finally:
        proc.kill()
        proc.wait()
