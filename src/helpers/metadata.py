"""LAION-like caption metadata: stream the caption column out of parquet files and find the names in it.

**Engine.** DuckDB reads the caption column (with the optional score threshold and a whitespace collapse)
from parquet, multi-threaded, in bounded record batches; one Aho-Corasick automaton over all normalised
names (:class:`helpers.captions.Matcher`) finds every candidate occurrence in one pass over a batch,
whatever the number of names; boundary checks and per-caption de-duplication are vectorised with numpy.
"""

from __future__ import annotations

import glob as _glob
import heapq
import os
import threading
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from .captions import SQL_SPACES, Matcher
from .errors import AuditError
from .files import sha256_bytes
from .names import validate_names

__all__ = ["count_mentions", "sample_real_work_urls", "metadata_files"]


def metadata_files(metadata) -> list[str]:
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


def _check_columns(files: list[str], text: Iterable[str], numeric: Iterable[str | None] = ()) -> int:
    """Refuse files that lack a needed column or hold it with the wrong type; return their total number of
    rows (from the footers, without reading data)."""
    text, numeric = list(text), [c for c in numeric if c is not None]
    total = 0
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
        total += meta.num_rows
    return total


def _is_text(kind: pa.DataType) -> bool:
    return pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_string_view(kind)


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _batches(
    files: list[str],
    caption_column: str,
    *,
    extra: Sequence[str] = (),
    score_column: str | None,
    min_score: float | None,
    threads: int | None,
    batch_size: int,
) -> Iterator[pa.RecordBatch]:
    """Record batches of ``caption`` (whitespace-collapsed, never null) plus ``extra`` columns, streamed by
    DuckDB; a background thread keeps the next batch ready while Python matches the current one."""
    import duckdb

    con = duckdb.connect()
    if threads is not None:
        con.execute(f"SET threads = {int(threads)}")
    where = [f"{_quote(caption_column)} IS NOT NULL"]
    where += [f"{_quote(c)} IS NOT NULL" for c in extra]
    params: dict[str, object] = {"files": files}
    if min_score is not None:
        where.append(_score_filter(score_column, "$min_score"))
        params["min_score"] = float(min_score)
    col = _quote(caption_column)
    # regexp_replace on every caption is slow; most captions need no change
    select = [
        f"CASE WHEN regexp_matches({col}, '[\\x00-\\x1f\\x7f]|  ') "
        f"THEN regexp_replace({col}, '{SQL_SPACES}', ' ', 'g') ELSE {col} END AS caption"
    ]
    select += [f"{_quote(c)} AS extra_{i}" for i, c in enumerate(extra)]
    query = f"SELECT {', '.join(select)} FROM read_parquet($files) WHERE {' AND '.join(where)}"
    try:
        reader = con.sql(query, params=params).to_arrow_reader(batch_size=batch_size)
    except duckdb.Error as exc:
        con.close()
        raise _read_error(exc, files) from None
    queue: list = []
    ready = threading.Condition()
    stop = threading.Event()

    def produce():
        try:
            for batch in reader:
                with ready:
                    while len(queue) >= 2 and not stop.is_set():
                        ready.wait()
                    if stop.is_set():
                        return
                    queue.append(batch)
                    ready.notify_all()
        except BaseException as exc:  # handed to the consumer, which re-raises it
            with ready:
                queue.append(exc)
                ready.notify_all()
            return
        with ready:
            queue.append(None)
            ready.notify_all()

    worker = threading.Thread(target=produce, name="duckdb-batches", daemon=True)
    worker.start()
    try:
        while True:
            with ready:
                while not queue:
                    ready.wait()
                item = queue.pop(0)
                ready.notify_all()
            if item is None:
                return
            if isinstance(item, duckdb.Error):
                raise _read_error(item, files) from None
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        with ready:
            ready.notify_all()
        worker.join()
        reader.close()
        con.close()


def _score_filter(score_column: str, parameter: str) -> str:
    """SQL: the score is at least the threshold; null and NaN fail (DuckDB orders NaN above every number)."""
    col = _quote(score_column)
    return f"({col} >= {parameter} AND NOT isnan(CAST({col} AS DOUBLE)))"


def _read_error(exc: Exception, files: list[str]) -> AuditError:
    where = files[0] if len(files) == 1 else f"{len(files)} metadata files"
    return AuditError(
        f"DuckDB could not read the metadata ({' '.join(str(exc).split())[:300]})",
        where=where,
        fix="check the files and the column names and types (the caption column must be text, the score numeric)",
    )


def _count_rows(files: list[str], score_column: str | None, min_score: float | None, total: int) -> int:
    if min_score is None:
        return total
    import duckdb

    with duckdb.connect() as con:
        return con.sql(
            f"SELECT count(*) FROM read_parquet($files) WHERE {_score_filter(score_column, '$m')}",
            params={"files": files, "m": float(min_score)},
        ).fetchall()[0][0]


def _scan(
    metadata,
    names: Sequence[str],
    *,
    caption_column: str,
    extra: Sequence[str] = (),
    score_column: str | None,
    min_score: float | None,
    threads: int | None,
    progress: bool,
    batch_size: int,
) -> Iterator[tuple[pa.RecordBatch, np.ndarray, np.ndarray, Matcher]]:
    from tqdm.auto import tqdm

    if min_score is not None and score_column is None:
        raise AuditError(
            "min_score needs score_column", where="selection", fix="name the aesthetic-score column"
        )
    if threads is not None and int(threads) < 1:
        raise AuditError(f"threads must be at least 1 (got {threads})", where="selection")
    if int(batch_size) < 1:
        raise AuditError(f"batch_size must be at least 1 (got {batch_size})", where="selection")
    files = metadata_files(metadata)
    total = _check_columns(files, [caption_column, *extra], [score_column])
    matcher = Matcher(names)
    total = _count_rows(files, score_column, min_score, total)
    with tqdm(
        total=total, unit="captions", unit_scale=True, disable=not progress, desc="scanning captions"
    ) as bar:
        for batch in _batches(
            files,
            caption_column,
            extra=extra,
            score_column=score_column,
            min_score=min_score,
            threads=threads,
            batch_size=batch_size,
        ):
            rows, pids = matcher.find(batch.column(0))
            bar.update(batch.num_rows)
            yield batch, rows, pids, matcher
        bar.update(max(0, total - bar.n))  # rows with a null caption never reach a batch



def count_mentions(
    metadata,
    names: Iterable[str],
    *,
    caption_column: str = "TEXT",
    score_column: str | None = None,
    min_score: float | None = None,
    threads: int | None = None,
    progress: bool = True,
    batch_size: int = 131_072,
) -> pd.DataFrame:
    """How many captions mention each name: columns ``artist`` (the names, cleaned, in the given order) and
    ``caption_count`` (rows whose caption mentions the name at least once; see the module's matching rule).

    ``metadata`` is a parquet file, a folder (searched recursively), a glob, or a list of them. Rows with a
    null caption are skipped; with ``min_score``, so are rows whose ``score_column`` is below ``min_score``,
    null or NaN (the threshold is inclusive). ``threads`` caps DuckDB's threads (default: all cores).
    ``attrs["captions_scanned"]`` holds the number of captions read.
    """
    names = validate_names(list(names), where="names")
    counts = None
    scanned = 0
    for batch, _rows, pids, matcher in _scan(
        metadata,
        names,
        caption_column=caption_column,
        score_column=score_column,
        min_score=min_score,
        threads=threads,
        progress=progress,
        batch_size=batch_size,
    ):
        if counts is None:
            counts = np.zeros(len(matcher.patterns), dtype=np.int64)
            pattern_of_name = matcher.pattern_of_name
        counts += np.bincount(pids, minlength=len(counts))
        scanned += batch.num_rows
    if counts is None:  # no rows at all
        result = np.zeros(len(names), dtype=np.int64)
    else:
        result = counts[pattern_of_name]
    out = pd.DataFrame({"artist": names, "caption_count": result.astype(np.int64)})
    out.attrs["captions_scanned"] = scanned
    return out



def sample_real_work_urls(
    metadata,
    artists: Iterable[str],
    *,
    per_artist: int = 20,
    seed: int = 0,
    caption_column: str = "TEXT",
    url_column: str = "URL",
    threads: int | None = None,
    progress: bool = True,
) -> pd.DataFrame:
    """A seeded sample of up to ``per_artist`` distinct image URLs per artist, among the rows whose caption
    mentions the artist (same matching rule as :func:`count_mentions`); columns ``artist, url, caption``.

    The sample keeps, per artist, the URLs with the smallest SHA-256 of ``"<seed>:<url>"``: it does not
    depend on the order of files or rows, and a larger ``per_artist`` extends a smaller one.
    """
    if not isinstance(per_artist, (int, np.integer)) or per_artist < 1:
        raise AuditError(f"per_artist must be at least 1 (got {per_artist!r})", where="sample_real_work_urls")
    names = validate_names(list(artists), where="artists")
    heaps: list[list[tuple[int, str, str]]] = [[] for _ in names]
    kept: list[set[str]] = [set() for _ in names]
    for batch, rows, pids, matcher in _scan(
        metadata,
        names,
        caption_column=caption_column,
        extra=[url_column],
        score_column=None,
        min_score=None,
        threads=threads,
        progress=progress,
        batch_size=131_072,
    ):
        if len(rows) == 0:
            continue
        urls = batch.column(1).take(pa.array(rows)).to_pylist()
        captions = batch.column(0).take(pa.array(rows)).to_pylist()
        for url, caption, pid in zip(urls, captions, pids.tolist(), strict=True):
            key = int(sha256_bytes(f"{seed}:{url}".encode())[:16], 16)
            for i in matcher.names_of_pattern[pid]:
                if url in kept[i]:
                    continue
                heap = heaps[i]
                if len(heap) < per_artist:
                    heapq.heappush(heap, (-key, url, caption))
                    kept[i].add(url)
                elif -heap[0][0] > key:
                    _, dropped, _ = heapq.heapreplace(heap, (-key, url, caption))
                    kept[i].discard(dropped)
                    kept[i].add(url)
    records = []
    for name, heap in zip(names, heaps, strict=True):
        for _neg, url, caption in sorted(heap, key=lambda x: -x[0]):
            records.append((name, url, caption))
    return pd.DataFrame(records, columns=["artist", "url", "caption"])
