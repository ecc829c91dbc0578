"""File I/O shared by every layer: atomic writes, CSV and JSON tables, content hashes, package versions.

One implementation of each: a reader never sees half a file, a table written here reads back with its text
intact, and every hash in the project (image bytes, files, canonical JSON digests) comes from here.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd

from .errors import AuditError

__all__ = [
    "atomic_write_bytes",
    "write_text",
    "write_json",
    "read_json",
    "write_table",
    "read_table",
    "Columns",
    "sha256_bytes",
    "sha256_file",
    "json_digest",
    "package_versions",
    "fsync_dir",
    "file_identity",
    "folder_identity",
]

_EDGE = 1 << 20  # file_identity reads this many bytes at each end of a file


def atomic_write_bytes(path: Path, data: bytes, *, fixed_temp: bool = False) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder, fsync, and a rename.

    The temporary file is uniquely named, so several writers of one path never clash; with ``fixed_temp``
    it is ``.<name>.tmp``, so a file left by a killed writer is overwritten by the next one (one writer per
    path: generated images, where a resume cleans up by name)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if fixed_temp:
        tmp = str(path.with_name(f".{path.name}.tmp"))
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    else:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def fsync_dir(folder: Path) -> None:
    """Make the renames inside ``folder`` durable (a no-op where folders cannot be opened)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory handles
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def write_json(path: Path, obj: Any) -> None:
    write_text(path, json.dumps(obj, indent=2, ensure_ascii=False, default=str) + "\n")


def read_json(path: Path, *, needs: str = "") -> Any:
    """A JSON file the pipeline wrote; a missing or unreadable one says which stage writes it."""
    path = Path(path)
    if not path.is_file():
        raise AuditError(
            f"{path} does not exist", fix=f"run the stage that writes it first{f' ({needs})' if needs else ''}"
        )
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise AuditError(
            f"{path} is not valid JSON ({exc})", fix=f"rerun {needs or 'the stage that writes it'}"
        ) from None


def write_table(df: pd.DataFrame, path: Path) -> None:
    """Write a table as CSV (UTF-8, no index), atomically."""
    write_text(path, df.to_csv(index=False, lineterminator="\n"))


class Columns(tuple):
    """A product's columns, in order, each with its kind — declared once, beside the product's writer; its
    reader (:func:`read_table`) returns the table typed by them.

    Kinds: ``text`` (as written, whatever it looks like: an artist called "1984" or "NA" stays text), ``int``,
    ``int?`` (empty: missing, pandas ``Int64``), ``float`` (empty: NaN), ``bool`` (``True``/``False``) and
    ``bool?`` (empty: missing, pandas ``boolean``). It is a tuple of the names, so ``list(COLUMNS)`` orders
    a table for writing.
    """

    kinds: dict[str, str]

    def __new__(cls, **kinds: str) -> Columns:
        unknown = {k: v for k, v in kinds.items() if v not in _CONVERT}
        if unknown:
            raise ValueError(f"unknown column kind(s) {unknown}: use {sorted(_CONVERT)}")
        out = super().__new__(cls, kinds)
        out.kinds = dict(kinds)
        return out

    def __reduce__(self):  # a tuple subclass with an attribute: pickled by its kinds
        return (_columns, (self.kinds,))

    def typed(self, df: pd.DataFrame, where: str = "table") -> pd.DataFrame:
        """``df`` (text, as :func:`read_table` reads it) with each declared column converted to its kind."""
        df = df.copy()
        for name, kind in self.kinds.items():
            if name in df.columns and kind != "text":
                try:
                    df[name] = _CONVERT[kind](df[name].astype(str))
                except (ValueError, TypeError) as exc:
                    raise AuditError(
                        f"{where}: column {name!r} is not {kind} ({exc})",
                        fix="rerun the stage that writes it; do not edit products by hand",
                    ) from None
        return df


def _columns(kinds: dict[str, str]) -> Columns:
    return Columns(**kinds)


def _number(col: pd.Series) -> pd.Series:
    return pd.to_numeric(col.mask(col == ""), errors="raise").astype(float)


def _flag(col: pd.Series, missing: bool) -> pd.Series:
    allowed = {"True": True, "False": False, **({"": pd.NA} if missing else {})}
    bad = sorted(set(col) - set(allowed))
    if bad:
        raise ValueError(f"values {bad[:3]} are not {' or '.join(repr(k) for k in allowed)}")
    out = col.map(allowed)
    return out.astype("boolean") if missing else out.astype(bool)


def _integer(col: pd.Series, missing: bool) -> pd.Series:
    if missing:
        return pd.to_numeric(col.mask(col == ""), errors="raise").astype("Int64")
    return col.astype(int)


_CONVERT = {
    "text": lambda col: col,
    "int": lambda col: _integer(col, False),
    "int?": lambda col: _integer(col, True),
    "float": _number,
    "bool": lambda col: _flag(col, False),
    "bool?": lambda col: _flag(col, True),
}


def read_table(path: Path, *, needs: str = "", columns: tuple[str, ...] = ()) -> pd.DataFrame:
    """Read a CSV the pipeline wrote. Text stays text: a person called "NA" is not a missing value.

    ``needs`` names the stage that writes it (for the error when it is missing); ``columns`` must be present,
    and when they are :class:`Columns`, each is returned as its kind (the columns not declared stay text).
    """
    path = Path(path)
    if not path.is_file():
        raise AuditError(
            f"{path} does not exist", fix=f"run the stage that writes it first{f' ({needs})' if needs else ''}"
        )
    df = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[])
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise AuditError(f"{path} lacks the column(s) {missing}", fix=f"rerun {needs or 'the stage that writes it'}")
    return columns.typed(df, str(path)) if isinstance(columns, Columns) else df


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path) -> str:
    """SHA-256 of a file's bytes, read in blocks (weights files are large)."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 22), b""):
            h.update(block)
    return h.hexdigest()


def file_identity(path: Path) -> str:
    """A cheap identity of a file's content: SHA-256 of its size, its first and its last MiB. Weights files
    of gigabytes are identified in milliseconds; a retrained or replaced file changes it."""
    path = Path(path)
    size = path.stat().st_size
    h = hashlib.sha256(str(size).encode())
    with open(path, "rb") as fh:
        h.update(fh.read(_EDGE))
        if size > _EDGE:
            fh.seek(max(_EDGE, size - _EDGE))
            h.update(fh.read(_EDGE))
    return h.hexdigest()


def folder_identity(folder: Path, n: int = 16) -> str:
    """:func:`file_identity` of every file under ``folder`` (hidden files aside), with its relative path,
    digested; ``""`` for a folder that does not exist."""
    folder = Path(folder)
    if not folder.is_dir():
        return ""
    files = sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.startswith("."))
    return json_digest([(str(p.relative_to(folder)), file_identity(p)) for p in files], n)


def json_digest(obj: Any, n: int | None = None) -> str:
    """SHA-256 of the canonical JSON of ``obj`` (sorted keys), optionally its first ``n`` hex digits."""
    digest = hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode("utf-8")).hexdigest()
    return digest[:n] if n else digest


def package_versions(names: tuple[str, ...]) -> dict[str, str | None]:
    """Installed versions of ``names`` (``None`` for a package that is not installed)."""
    out: dict[str, str | None] = {}
    for name in names:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out
