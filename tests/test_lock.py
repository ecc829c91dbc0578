"""The run folder's lock: refused with the holder named, waited for with a timeout, taken over from a dead
holder, and passed on to the notebooks a runner starts."""

import os
import subprocess
import sys
import textwrap
import time

import pytest

from helpers import lock
from helpers.errors import AuditError

HOLD = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from helpers import lock
    with lock.hold(Path(sys.argv[1])):
        print("held", flush=True)
        time.sleep(float(sys.argv[2]))
""")


def _holder(path, seconds):
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(path), str(seconds)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "held"
    return proc


def test_a_held_lock_is_refused_naming_its_holder(tmp_path):
    path = tmp_path / "run" / ".lock"
    proc = _holder(path, 60)
    try:
        with pytest.raises(AuditError, match=rf"in use by process {proc.pid} on .*Fix: .*--wait"):
            with lock.hold(path):
                pass
        assert lock.holder(path)["pid"] == proc.pid
    finally:
        proc.kill()
        proc.wait()


def test_waiting_gives_up_after_its_timeout_and_succeeds_once_released(tmp_path, capsys):
    path = tmp_path / ".lock"
    proc = _holder(path, 60)
    try:
        started = time.monotonic()
        with pytest.raises(AuditError, match="after waiting 1 s"):
            with lock.hold(path, wait=1):
                pass
        assert time.monotonic() - started >= 1
        assert f"waiting up to 1 s for process {proc.pid}" in capsys.readouterr().out
    finally:
        proc.kill()
        proc.wait()
    short = _holder(path, 1.5)
    with lock.hold(path, wait=60):  # released when the holder exits
        assert lock.holder(path)["pid"] == os.getpid()
    short.wait()


def test_a_lock_left_by_a_killed_process_is_taken_over(tmp_path):
    path = tmp_path / ".lock"
    proc = _holder(path, 60)
    proc.kill()  # SIGKILL: no cleanup ran, the file still names the dead holder
    proc.wait()
    assert lock.holder(path)["pid"] == proc.pid
    with lock.hold(path):
        assert lock.holder(path)["pid"] == os.getpid()


def test_the_lock_passes_to_child_processes_through_the_environment(tmp_path):
    path = tmp_path / ".lock"
    with lock.hold(path):
        assert lock.held_by_parent(path)
        child = subprocess.run([sys.executable, "-c", HOLD, str(path), "0"], capture_output=True, text=True)
        assert child.returncode == 0 and "held" in child.stdout  # a kernel of this runner works under its lock
    assert not lock.held_by_parent(path)
    other = subprocess.run(
        [sys.executable, "-c", HOLD, str(path), "0"],
        capture_output=True,
        text=True,
        env={k: v for k, v in os.environ.items() if k != lock.LOCK_ENV},
    )
    assert other.returncode == 0
