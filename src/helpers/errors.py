"""One error type for everything a user can get wrong, and the one place it becomes an exit code.

Faults of the machine rather than of the input — a full disk, a read-only or vanished folder, Ctrl-C, a
``kill`` — end the same way: one line naming what happened and what to do, a non-zero exit status, and no
traceback unless asked for (``--debug`` on the command lines that have it, or ``IMITATION_AUDIT_DEBUG=1``).
"""

from __future__ import annotations

import errno
import functools
import os
import signal
import sys
from collections.abc import Callable
from typing import TypeVar

__all__ = ["AuditError", "Interrupted", "exit_on_error", "from_os_error", "fault_kind", "debugging", "DEBUG_ENV"]

F = TypeVar("F", bound=Callable)
DEBUG_ENV = "IMITATION_AUDIT_DEBUG"

# errno → (what happened, how to fix it); the fix ends with what a rerun does.
_NO_SPACE = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)}
_READ_ONLY = {errno.EROFS, errno.EACCES, errno.EPERM}
_VANISHED = {errno.ENOENT, errno.ESTALE if hasattr(errno, "ESTALE") else errno.ENOENT}


class AuditError(Exception):
    """A problem the user can fix: says what is wrong, where, and how to fix it.

    ``str(err)`` is one line: ``<where>: <what>. Fix: <fix>`` (parts that are empty are left out).
    ``exit_code`` is the status the command line exits with (2; an interrupt exits 128 + its signal).
    """

    exit_code = 2

    def __init__(self, what: str, *, where: str = "", fix: str = ""):
        self.what, self.where, self.fix = what.rstrip("."), where, fix
        super().__init__(self._line())

    def _line(self) -> str:
        text = f"{self.where}: {self.what}" if self.where else self.what
        text += "."
        if self.fix:
            text += f" Fix: {self.fix.rstrip('.')}."
        return " ".join(text.split())


class Interrupted(AuditError):
    """The user (SIGINT, Ctrl-C) or the system (SIGTERM) stopped the work; a rerun resumes it."""

    def __init__(self, what: str, *, signum: int = signal.SIGINT, where: str = "", fix: str = ""):
        self.signum = int(signum)
        self.exit_code = 128 + self.signum
        super().__init__(what, where=where, fix=fix or "run the same command again to resume (finished work is reused)")


def fault_kind(exc: BaseException) -> str | None:
    """``"no-space"``, ``"read-only"``, ``"vanished"`` or ``"interrupt"`` for a fault of the machine; None
    for anything else (a bug or a bad input, which keeps its own message)."""
    if isinstance(exc, (KeyboardInterrupt, Interrupted)):
        return "interrupt"
    if isinstance(exc, OSError):
        if exc.errno in _NO_SPACE:
            return "no-space"
        if exc.errno in _READ_ONLY:
            return "read-only"
        if exc.errno in _VANISHED:
            return "vanished"
    return None


def from_os_error(exc: OSError, *, doing: str = "") -> AuditError | None:
    """The one-line :class:`AuditError` for a full disk, a read-only or a vanished path; None for another
    OSError. ``doing`` names the work that hit it (e.g. ``"stage 02_generation"``)."""
    kind = fault_kind(exc)
    at = f" ({doing})" if doing else ""
    path = exc.filename or ""
    if kind == "no-space":
        return AuditError(
            f"out of disk space{at}",
            where=str(path),
            fix="free space on that filesystem (or point IMITATION_AUDIT_OUTPUTS elsewhere) and run "
            "the same command again to resume",
        )
    if kind == "read-only":
        return AuditError(
            f"cannot write here: {exc.strerror}{at}",
            where=str(path),
            fix="make the run folder writable (or point IMITATION_AUDIT_OUTPUTS elsewhere) and run "
            "the same command again to resume",
        )
    if kind == "vanished":
        return AuditError(
            f"a file or folder disappeared during the run: {exc.strerror}{at}",
            where=str(path),
            fix="restore the folder (or check that its disk is mounted) and run the same command again to resume",
        )
    return None


def debugging() -> bool:
    """Whether tracebacks are wanted (``IMITATION_AUDIT_DEBUG`` set to anything but ``0`` or empty)."""
    return os.environ.get(DEBUG_ENV, "") not in ("", "0")


def _terminate(signum, frame):  # a SIGTERM becomes an exception, so cleanup and the run record happen
    raise Interrupted("stopped by SIGTERM", signum=signum)


def exit_on_error(main: F) -> F:
    """Wrap a command-line ``main``: an :class:`AuditError`, a full disk or read-only folder, Ctrl-C and
    SIGTERM each print one line to stderr and exit non-zero (2; 130 for SIGINT, 143 for SIGTERM). With
    ``IMITATION_AUDIT_DEBUG=1`` the traceback is shown as well."""

    @functools.wraps(main)
    def wrapper(*args, **kwargs):
        try:
            previous = signal.signal(signal.SIGTERM, _terminate)
        except ValueError:  # not the main thread: signals stay as they are
            previous = None
        try:
            return main(*args, **kwargs)
        except BaseException as exc:  # noqa: BLE001 - every way out ends in one line
            err = _as_audit_error(exc)
            if err is None or debugging():
                raise
            print(f"error: {err}", file=sys.stderr, flush=True)
            raise SystemExit(err.exit_code) from None
        finally:
            if previous is not None:
                signal.signal(signal.SIGTERM, previous)

    return wrapper  # type: ignore[return-value]


def _as_audit_error(exc: BaseException) -> AuditError | None:
    if isinstance(exc, AuditError):
        return exc
    if isinstance(exc, KeyboardInterrupt):
        return Interrupted("interrupted (Ctrl-C)", signum=signal.SIGINT)
    if isinstance(exc, OSError):
        return from_os_error(exc)
    return None
