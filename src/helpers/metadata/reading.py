"""DuckDB reads the caption column (and any extra column) of one piece of one parquet file: a *unit*, one
row group or a whole file, with the optional score threshold applied in SQL."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import pyarrow as pa

from ..errors import AuditError
from .parquet import ParquetFile

__all__ = ["Unit", "units", "Reader", "count_rows", "read_error"]

_ROW_NUMBER = "file_row_number"


@dataclass(frozen=True)
class Unit:
    """Rows ``start`` (inclusive) to ``stop`` of one file; ``whole`` when that is every row of the file."""

    path: str
    start: int
    stop: int
    whole: bool

    @property
    def where(self) -> str:
        return self.path if self.whole else f"{self.path} (rows {self.start:,} to {self.stop - 1:,})"


def units(files: Sequence[ParquetFile], rows: int = 1) -> list[Unit]:
    """Consecutive row groups of one file, at least ``rows`` rows each where the file allows, in file order;
    a whole file as one unit when it fits (or has a column that DuckDB's row numbers would shadow)."""
    out = []
    for f in files:
        if f.num_rows <= rows or len(f.row_groups) <= 1 or _ROW_NUMBER in f.columns:
            out.append(Unit(f.path, 0, f.num_rows, True))
            continue
        start = stop = 0
        for n in f.row_groups:
            stop += n
            if stop - start >= rows:
                out.append(Unit(f.path, start, stop, False))
                start = stop
        if stop > start:
            out.append(Unit(f.path, start, stop, False))
    return out


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _score_filter(score_column: str, parameter: str) -> str:
    """SQL: the score is at least the threshold; null and NaN fail (DuckDB orders NaN above every number).
    Needs :data:`_EXACT_NAN` on the connection."""
    col = _quote(score_column)
    return f"({col} >= {parameter} AND NOT isnan(CAST({col} AS DOUBLE)))"


# DuckDB 2.0 folds isnan() to false from one parquet file's min/max statistics, which leave NaN out, so a
# NaN score passed the threshold when one file was read on its own; without that optimiser it is checked.
_EXACT_NAN = "SET disabled_optimizers = 'statistics_propagation'"


def read_error(exc: Exception, where: str) -> AuditError:
    return AuditError(
        f"DuckDB could not read the metadata ({' '.join(str(exc).split())[:300]})",
        where=where,
        fix="check the files and the column names and types (the caption column must be text, the score numeric)",
    )


class Reader:
    """One DuckDB connection (for one worker thread) that reads units as Arrow record batches."""

    def __init__(self, threads: int = 1):
        import duckdb

        self._con = duckdb.connect()
        self._con.execute(f"SET threads = {int(threads)}")

    def close(self) -> None:
        self._con.close()

    def batches(
        self,
        unit: Unit,
        caption_column: str,
        *,
        extra: Sequence[str] = (),
        score_column: str | None,
        min_score: float | None,
        batch_size: int,
    ) -> Iterator[pa.RecordBatch]:
        """Record batches of ``caption`` (never null) plus ``extra_<i>`` columns (never null), in file order."""
        import duckdb

        where = [f"{_quote(c)} IS NOT NULL" for c in [caption_column, *extra]]
        params: dict[str, object] = {"file": unit.path}
        source = "read_parquet($file)"
        if not unit.whole:
            source = f"read_parquet($file, {_ROW_NUMBER} = true)"
            where.append(f"{_ROW_NUMBER} >= $start AND {_ROW_NUMBER} < $stop")
            params.update(start=unit.start, stop=unit.stop)
        if min_score is not None:
            where.append(_score_filter(score_column, "$min_score"))
            params["min_score"] = float(min_score)
            self._con.execute(_EXACT_NAN)
        select = [f"{_quote(caption_column)} AS caption"]
        select += [f"{_quote(c)} AS extra_{i}" for i, c in enumerate(extra)]
        query = f"SELECT {', '.join(select)} FROM {source} WHERE {' AND '.join(where)}"
        try:
            reader = self._con.sql(query, params=params).to_arrow_reader(batch_size=batch_size)
            with reader:
                yield from reader
        except (duckdb.Error, pa.ArrowException, OSError) as exc:  # met while streaming: Arrow's or OSError
            raise read_error(exc, unit.where) from None


def count_rows(files: list[str], score_column: str | None, min_score: float | None, total: int) -> int:
    """Rows that pass the score threshold (``total`` without one), for the progress bar."""
    if min_score is None:
        return total
    import duckdb

    with duckdb.connect() as con:
        con.execute(_EXACT_NAN)
        try:
            return con.sql(
                f"SELECT count(*) FROM read_parquet($files) WHERE {_score_filter(score_column, '$m')}",
                params={"files": files, "m": float(min_score)},
            ).fetchall()[0][0]
        except duckdb.Error as exc:
            raise read_error(exc, files[0] if len(files) == 1 else f"{len(files)} metadata files") from None
