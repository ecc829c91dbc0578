"""Failing well: a full disk in each stage, Ctrl-C and SIGTERM at random moments, a SIGKILL, two runners on one
folder. After each: one line naming the stage, the cause and the fix, a non-zero exit, no traceback, a true
``run.json`` (nothing left ``running``), and a rerun whose numbers equal a clean run's.

The full disk is simulated: ``tests/faults/sitecustomize.py`` (on ``PYTHONPATH`` of the runner and so of its
kernels) makes opening a path that matches ``AUDIT_TEST_NO_SPACE`` for writing raise ``OSError(ENOSPC)``.
"""

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time

import pytest
import yaml
from conftest import _tiny_dict, module_env, run_module

from helpers.files import sha256_file
from helpers.paths import PROJECT_ROOT

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("faults")]
RUN = "faults"
FAULTS = PROJECT_ROOT / "tests" / "faults"
RESUMED = ("02_generation", "05_validation")  # a full resume after these; the others rerun alone (time)


def _runner(params_file, *args) -> list[str]:
    return ["helpers.runner", "--params", str(params_file), *args]


def _run(params_file, outputs, *args, timeout=600, **extra):
    return run_module(_runner(params_file, *args), outputs, timeout=timeout, **extra)


def _start(params_file, outputs, *args):
    return subprocess.Popen(
        [sys.executable, "-m", *_runner(params_file, *args)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=PROJECT_ROOT,
        env=module_env(outputs),
        start_new_session=True,
    )


def _wait_until(found, seconds: float = 300) -> None:
    """Poll ``found()`` until it is true (a run reached a given point) or ``seconds`` pass."""
    deadline = time.monotonic() + seconds
    while not found() and time.monotonic() < deadline:
        time.sleep(0.05)


def _numbers(root, headline: bool = True) -> dict:
    """Every table and (unless not asked for) the headline of a run, by content."""
    found = {p.relative_to(root).as_posix(): sha256_file(p) for p in sorted((root / "tables").glob("*.csv"))}
    if headline:
        found["summary.json"] = json.loads((root / "summary.json").read_text())
    return found


def _stages(root) -> dict:
    return json.loads((root / "run.json").read_text())["stages"]


def _one_line(out) -> str:
    """The run ended on exactly one error line, and nobody printed a traceback."""
    text = out.stdout + out.stderr
    assert "Traceback" not in text, text[-3000:]
    lines = [line for line in out.stderr.splitlines() if line.strip()]
    assert lines and lines[-1].startswith("error: ") and sum(x.startswith("error: ") for x in lines) == 1, out.stderr
    return lines[-1]


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    """A clean run of the tiny profile: its params file, run folder, numbers and duration."""
    base = tmp_path_factory.mktemp("faults")
    params_file = base / "faults.yaml"
    params_file.write_text(yaml.safe_dump(_tiny_dict(RUN)))
    started = time.monotonic()
    out = _run(params_file, base / "outputs")
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    root = base / "outputs" / RUN
    return params_file, root, _numbers(root), time.monotonic() - started


def _copy(clean, tmp_path):
    outputs = tmp_path / "outputs"
    shutil.copytree(clean[1], outputs / RUN)
    return outputs, outputs / RUN


@pytest.mark.parametrize(
    "stage, pattern, remove",
    [
        ("01_selection", f"*/{RUN}/*artists.csv*", None),
        ("02_generation", f"*/{RUN}/images/*", "images"),
        ("03_encoding", f"*/{RUN}/embeddings/*", "embeddings"),
        ("04_classification", f"*/{RUN}/tables/*predictions*", None),
        ("05_validation", f"*/{RUN}/tables/*validation*", None),
        ("05_validation", f"*/{RUN}/notebooks/*05_validation*", None),  # the runner's own write: the notebook
        ("02_generation", f"*/{RUN}/images/*", "images"),  # then the disk is full for all: run.json too
    ],
    ids=["selection", "generation", "encoding", "classification", "validation", "notebook", "everything"],
)
def test_a_full_disk_in_any_stage_ends_in_one_line_and_a_rerun_resumes(
    clean, tmp_path, request, stage, pattern, remove
):
    params_file, _, numbers, _ = clean
    outputs, root = _copy(clean, tmp_path)
    if remove:
        shutil.rmtree(root / remove)
    everything = request.node.callspec.id == "everything"
    flag = {"AUDIT_TEST_FULL_FLAG": str(tmp_path / "full")} if everything else {}
    out = _run(params_file, outputs, "--stage", stage, AUDIT_TEST_NO_SPACE=pattern, PYTHONPATH=str(FAULTS), **flag)
    assert out.returncode == 2, out.stdout[-2000:] + out.stderr[-2000:]
    line = _one_line(out)
    assert "out of disk space" in line and f"stage {stage}" in line and "Fix: free space" in line, line
    assert "resume" in line
    assert not list((root / "notebooks").glob(".*partial*")), "a half-written notebook was left behind"
    status = _stages(root)[stage]
    if everything:  # nothing could be recorded: the next start settles the stage
        assert status["status"] == "running"
    else:
        assert status["status"] == "failed" and "No space left" in status["error"], status
    if stage in RESUMED:  # the whole run resumed: every number as in a clean run
        again = _run(params_file, outputs)
        assert again.returncode == 0, again.stdout[-2000:] + again.stderr[-2000:]
        assert _numbers(root) == numbers
        assert all(e["status"] == "done" for e in _stages(root).values())
    else:  # the stage alone again (the later ones are now stale): its tables as in a clean run
        again = _run(params_file, outputs, "--stage", stage)
        assert again.returncode == 0, again.stdout[-2000:] + again.stderr[-2000:]
        assert _stages(root)[stage]["status"] == "done"
        assert _numbers(root, headline=False) == {k: v for k, v in numbers.items() if k != "summary.json"}
    if everything:
        assert f"[{stage}] note: an earlier run stopped without finishing it" in again.stdout, again.stdout[-2000:]


@pytest.mark.parametrize("signum, seed", [(signal.SIGINT, 1), (signal.SIGTERM, 3)], ids=["sigint", "sigterm"])
def test_an_interrupt_at_a_random_moment_is_recorded_and_a_rerun_resumes(clean, tmp_path, signum, seed):
    params_file, _, numbers, seconds = clean
    outputs = tmp_path / "outputs"
    proc = _start(params_file, outputs)
    run_json = outputs / RUN / "run.json"
    _wait_until(run_json.is_file)  # past start-up: a stage has begun
    time.sleep(random.Random(seed).uniform(0, 0.6 * seconds))
    if signum == signal.SIGINT:
        os.killpg(proc.pid, signum)  # Ctrl-C reaches the runner and its kernel, as in a terminal
    else:
        proc.send_signal(signum)  # `kill PID` reaches the runner alone
    stdout, stderr = proc.communicate(timeout=120)
    out = subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr)
    if proc.returncode == 0:
        pytest.skip("the run finished before the signal arrived")  # pragma: no cover - a very fast machine
    assert proc.returncode == 128 + signum, stderr[-2000:]
    line = _one_line(out)
    assert "interrupted" in line and "Fix: run the same command again to resume" in line, line
    stages = _stages(outputs / RUN)
    assert "running" not in {e["status"] for e in stages.values()}, stages
    assert any(e["status"] == "interrupted" for e in stages.values()) or "stage" not in line, stages
    again = _run(params_file, outputs)
    assert again.returncode == 0, again.stdout[-2000:] + again.stderr[-2000:]
    assert _numbers(outputs / RUN) == numbers


def test_a_killed_run_is_recorded_as_interrupted_on_the_next_start(clean, tmp_path):
    params_file, _, numbers, _ = clean
    outputs = tmp_path / "outputs"
    proc = _start(params_file, outputs)
    run_json = outputs / RUN / "run.json"
    _wait_until(
        lambda: (
            run_json.is_file()
            and any(e["status"] == "running" and e.get("pid") != proc.pid for e in _stages(outputs / RUN).values())
        )
    )  # a kernel at work
    os.killpg(proc.pid, signal.SIGKILL)  # the runner and its kernel, with no chance to record anything
    proc.communicate(timeout=60)
    left = [n for n, e in _stages(outputs / RUN).items() if e["status"] == "running"]
    assert left, "the kill came after the run"
    again = _run(params_file, outputs)
    assert again.returncode == 0, again.stdout[-2000:] + again.stderr[-2000:]
    assert f"[{left[0]}] note: an earlier run stopped without finishing it" in again.stdout
    history = json.loads(run_json.read_text())["stages"]
    assert all(e["status"] == "done" for e in history.values())
    assert _numbers(outputs / RUN) == numbers


def test_a_second_runner_on_a_folder_in_use_refuses_or_waits(clean, tmp_path):
    params_file, _, numbers, _ = clean
    outputs = tmp_path / "outputs"
    first = _start(params_file, outputs)
    lock = outputs / RUN / ".lock"
    _wait_until(lambda: lock.is_file() and lock.read_text())  # the first runner holds the folder
    refused = _run(params_file, outputs)
    assert refused.returncode == 2
    line = _one_line(refused)
    assert f"in use by process {first.pid}" in line and "--wait" in line, line
    waiting = _run(params_file, outputs, "--wait", "600")
    first.communicate(timeout=600)
    assert first.returncode == 0
    assert waiting.returncode == 0, waiting.stderr[-2000:]
    assert f"waiting up to 600 s for process {first.pid}" in waiting.stdout
    assert _numbers(outputs / RUN) == numbers
