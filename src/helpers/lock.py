"""One runner per run folder: an advisory lock (``flock``) on ``outputs/<run>/.lock``.

The operating system releases a ``flock`` when its holder dies, however it dies (SIGKILL included), so a lock
left by a dead process is never "stale" in the dangerous sense: the next runner simply takes it. The file
also says who holds it (process id, host, since when, the command), so a refusal can name the holder.

A runner passes the lock on to the notebooks it executes through ``IMITATION_AUDIT_LOCK`` (their kernels
are its children); a notebook run by hand in JupyterLab takes the lock itself for the length of its stage,
so it cannot interleave with a runner on the same folder either.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import fcntl
import json
import os
import socket
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from .errors import AuditError

__all__ = ["LOCK_ENV", "hold", "holder", "held_by_parent"]

LOCK_ENV = "IMITATION_AUDIT_LOCK"
_POLL = 0.5  # seconds between tries while waiting


def holder(lock_file: Path) -> dict:
    """Who holds (or last held) the lock: ``{"pid", "host", "since", "command"}``; empty when unknown."""
    try:
        return json.loads(Path(lock_file).read_text(encoding="utf-8") or "{}")
    except (OSError, ValueError):
        return {}


def held_by_parent(lock_file: Path) -> bool:
    """Whether a runner that started this process holds ``lock_file`` for it."""
    return os.environ.get(LOCK_ENV) == str(Path(lock_file).resolve())


def _describe(info: dict) -> str:
    if not info:
        return "another process"
    return f"process {info.get('pid')} on {info.get('host')} (since {info.get('since')}: {info.get('command')})"


@contextlib.contextmanager
def hold(lock_file: Path, *, wait: float = 0.0, what: str = "this run folder") -> Iterator[Path]:
    """Hold the lock on ``lock_file`` for the block. Busy: wait up to ``wait`` seconds (printing once who
    holds it), then refuse with an :class:`AuditError` naming the holder. Inside a runner's notebook (see
    :func:`held_by_parent`) the block runs under the runner's lock."""
    lock_file = Path(lock_file)
    if held_by_parent(lock_file):
        yield lock_file
        return
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock_file, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        _acquire(fd, lock_file, wait, what)
        info = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "since": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
            "command": " ".join(os.path.basename(a) if i == 0 else a for i, a in enumerate(sys.argv))[:200],
        }
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(info).encode(), 0)
        previous = os.environ.get(LOCK_ENV)
        os.environ[LOCK_ENV] = str(lock_file.resolve())  # the kernels this process starts inherit it
        try:
            yield lock_file
        finally:
            if previous is None:
                os.environ.pop(LOCK_ENV, None)
            else:
                os.environ[LOCK_ENV] = previous
    finally:
        os.close(fd)  # closing the descriptor releases the lock


def _acquire(fd: int, lock_file: Path, wait: float, what: str) -> None:
    deadline = time.monotonic() + max(wait, 0.0)
    told = False
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            pass
        info = holder(lock_file)
        if time.monotonic() >= deadline:
            waited = f" after waiting {wait:g} s" if wait > 0 else ""
            raise AuditError(
                f"{what} is in use by {_describe(info)}{waited}",
                where=str(lock_file.parent),
                fix="wait for that run to finish (or stop it), or pass --wait SECONDS to queue behind it; two "
                "runs on one folder would interleave their writes",
            )
        if not told:
            print(f"waiting up to {wait:g} s for {_describe(info)} to release {lock_file.parent}", flush=True)
            told = True
        time.sleep(_POLL)
