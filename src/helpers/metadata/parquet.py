"""The parquet files behind a ``metadata`` argument: which files, whether they hold the needed columns, and
how their rows split into row groups (from the footers, without reading data)."""

from __future__ import annotations

import glob as _glob
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from ..errors import AuditError

__all__ = ["metadata_files", "ParquetFile", "check_files"]


def metadata_files(metadata) -> list[str]:
    """The parquet files of a file, a folder (searched recursively), a glob, or a list of them: absolute
    paths, each once, in the order given (a folder's or a glob's files sorted)."""
    items = [metadata] if isinstance(metadata, (str, os.PathLike)) else list(metadata)
    if not items:
        raise AuditError("no metadata given", where="metadata", fix="pass a parquet file, a folder or a glob")
    files: list[str] = []
    for item in items:
        path = Path(item).expanduser()
        if path.is_dir():
            found = sorted(str(p) for p in path.rglob("*.parquet") if p.is_file())
        elif path.is_file():
            found = [str(path)]
        else:
            found = sorted(p for p in _glob.glob(str(path), recursive=True) if Path(p).is_file())
        if not found:
            raise AuditError(
                f"metadata {str(item)!r} matches no parquet file",
                where="metadata",
                fix="pass an existing parquet file, a folder of them or a glob such as 'laion/*.parquet'",
            )
        files.extend(os.path.abspath(f) for f in found)
    return list(dict.fromkeys(files))


@dataclass(frozen=True)
class ParquetFile:
    path: str
    row_groups: tuple[int, ...]  # rows in each row group, in file order
    columns: tuple[str, ...]

    @property
    def num_rows(self) -> int:
        return sum(self.row_groups)


def check_files(files: list[str], text: Iterable[str], numeric: Iterable[str | None] = ()) -> list[ParquetFile]:
    """Refuse files that are not parquet, lack a needed column or hold it with the wrong type."""
    text, numeric = list(text), [c for c in numeric if c is not None]
    out = []
    for f in files:
        try:
            meta = pq.read_metadata(f)
        except (OSError, pa.ArrowException) as exc:
            raise AuditError(
                f"not a readable parquet file ({' '.join(str(exc).split())})",
                where=f,
                fix="remove or re-download the file",
            ) from None
        schema = meta.schema.to_arrow_schema()
        for col in [*text, *numeric]:
            if col not in schema.names:
                raise AuditError(
                    f"no column {col!r}; the columns are {schema.names}",
                    where=f,
                    fix="pass the right column name (--caption-column / caption_column, score_column, url_column)",
                )
            kind = schema.field(col).type
            ok = _is_text(kind) if col in text else (pa.types.is_integer(kind) or pa.types.is_floating(kind))
            if not ok:
                raise AuditError(
                    f"column {col!r} holds {kind}, not {'text' if col in text else 'numbers'}",
                    where=f,
                    fix="pass the right column name",
                )
        groups = tuple(meta.row_group(i).num_rows for i in range(meta.num_row_groups))
        out.append(ParquetFile(f, groups, tuple(schema.names)))
    return out


def _is_text(kind: pa.DataType) -> bool:
    return pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_string_view(kind)
