"""Every way out of a command line ends in one line: a user's mistake, a full disk, a read-only folder,
Ctrl-C and SIGTERM — each with its exit status, and the traceback only when asked for."""

import errno
import os
import signal
import subprocess
import sys
import textwrap

import pytest

from helpers.errors import DEBUG_ENV, AuditError, Interrupted, exit_on_error, fault_kind, from_os_error


def _main(exc):
    @exit_on_error
    def main():
        raise exc

    return main


@pytest.mark.parametrize(
    "exc, status, words",
    [
        (
            AuditError("bad key", where="params.yaml", fix="spell it right"),
            2,
            "params.yaml: bad key. Fix: spell it right.",
        ),
        (OSError(errno.ENOSPC, "No space left on device", "/runs/x/images/a.png"), 2, "out of disk space"),
        (OSError(errno.EDQUOT, "Disk quota exceeded", "/runs/x"), 2, "out of disk space"),
        (OSError(errno.EROFS, "Read-only file system", "/runs/x"), 2, "cannot write here: Read-only file system"),
        (FileNotFoundError(errno.ENOENT, "No such file or directory", "/runs/x"), 2, "disappeared during the run"),
        (KeyboardInterrupt(), 130, "interrupted (Ctrl-C). Fix: run the same command again to resume"),
        (Interrupted("stage 03_encoding interrupted", signum=signal.SIGTERM), 143, "stage 03_encoding interrupted"),
    ],
    ids=["audit", "no-space", "quota", "read-only", "vanished", "sigint", "sigterm"],
)
def test_each_fault_is_one_line_with_its_exit_status(capsys, monkeypatch, exc, status, words):
    monkeypatch.delenv(DEBUG_ENV, raising=False)
    with pytest.raises(SystemExit) as ended:
        _main(exc)()
    assert ended.value.code == status
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: ") and words in err, err


def test_other_errors_keep_their_traceback_and_debug_shows_every_one(monkeypatch):
    with pytest.raises(ZeroDivisionError):  # a bug is not dressed up as a user's fault
        _main(ZeroDivisionError("bug"))()
    with pytest.raises(OSError, match="Errno 5"):
        _main(OSError(errno.EIO, "Input/output error"))()
    monkeypatch.setenv(DEBUG_ENV, "1")
    with pytest.raises(OSError, match="No space"):
        _main(OSError(errno.ENOSPC, "No space left on device"))()


def test_fault_kinds_and_their_fix():
    assert fault_kind(OSError(errno.ENOSPC, "x")) == "no-space"
    assert fault_kind(PermissionError(errno.EACCES, "x")) == "read-only"
    assert fault_kind(ValueError("x")) is None and from_os_error(OSError(errno.EIO, "x")) is None
    err = from_os_error(
        OSError(errno.ENOSPC, "No space left on device", "/r/tables/a.csv"), doing="stage 04_classification"
    )
    assert str(err).startswith("/r/tables/a.csv: out of disk space (stage 04_classification). Fix: free space")


def test_sigterm_to_a_command_line_is_one_line_and_status_143():
    code = textwrap.dedent("""
        import os, signal, time
        from helpers.errors import exit_on_error
        @exit_on_error
        def main():
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(30)
        main()
    """)
    env = {k: v for k, v in os.environ.items() if k != DEBUG_ENV}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
    assert (
        out.returncode == 143
        and out.stderr.strip()
        == "error: stopped by SIGTERM. Fix: run the same command again to resume (finished work is reused)."
    )
