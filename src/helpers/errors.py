"""One error type for everything a user can get wrong, and the one place it becomes an exit code."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import TypeVar

__all__ = ["AuditError", "exit_on_error"]

F = TypeVar("F", bound=Callable)


class AuditError(Exception):
    """A problem the user can fix: says what is wrong, where, and how to fix it.

    ``str(err)`` is one line: ``<where>: <what>. Fix: <fix>`` (parts that are empty are left out).
    """

    def __init__(self, what: str, *, where: str = "", fix: str = ""):
        self.what, self.where, self.fix = what.rstrip("."), where, fix
        super().__init__(self._line())

    def _line(self) -> str:
        text = f"{self.where}: {self.what}" if self.where else self.what
        text += "."
        if self.fix:
            text += f" Fix: {self.fix.rstrip('.')}."
        return " ".join(text.split())


def exit_on_error(main: F) -> F:
    """Wrap a command-line ``main``: an :class:`AuditError` prints one line to stderr and exits 2."""

    @functools.wraps(main)
    def wrapper(*args, **kwargs):
        try:
            return main(*args, **kwargs)
        except AuditError as err:
            print(f"error: {err}", file=sys.stderr)
            raise SystemExit(2) from None

    return wrapper  # type: ignore[return-value]
