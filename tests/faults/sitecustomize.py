"""Test-only fault injection, loaded by every Python process a fault test starts (``PYTHONPATH`` names this
folder). With ``AUDIT_TEST_NO_SPACE`` set to a glob, creating or truncating a matching file raises the
``OSError(ENOSPC)`` a full disk raises. With ``AUDIT_TEST_FULL_FLAG`` set to a path as well, the first such
refusal creates that file, and from then on every process refuses every new write under
``IMITATION_AUDIT_OUTPUTS``: the disk is full for everyone, run.json included. Kernels started by the runner
inherit the environment, so the fault reaches the stage's own writes as well as the runner's."""

import builtins
import errno
import fnmatch
import io
import os

_PATTERN = os.environ.get("AUDIT_TEST_NO_SPACE")
_FLAG = os.environ.get("AUDIT_TEST_FULL_FLAG")
_OUTPUTS = os.environ.get("IMITATION_AUDIT_OUTPUTS", "/nonexistent")

if _PATTERN:
    _open, _os_open, _exists = builtins.open, os.open, os.path.exists

    def _full(path) -> bool:
        if not isinstance(path, (str, os.PathLike)):
            return False
        path = os.path.abspath(os.fspath(path))
        if _FLAG and _exists(_FLAG):
            return path.startswith(_OUTPUTS)
        if fnmatch.fnmatch(path, _PATTERN):
            if _FLAG:
                _open(_FLAG, "w").close()
            return True
        return False

    def _refuse(path):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), os.fspath(path))

    def open(file, mode="r", *args, **kwargs):  # noqa: A001 - the builtin, replaced
        if any(c in mode for c in "wax") and _full(file):
            _refuse(file)
        return _open(file, mode, *args, **kwargs)

    def os_open(path, flags, *args, **kwargs):
        new = flags & os.O_CREAT and not _exists(path)
        if (new or flags & os.O_TRUNC) and _full(path):
            _refuse(path)
        return _os_open(path, flags, *args, **kwargs)

    builtins.open = io.open = open
    os.open = os_open
