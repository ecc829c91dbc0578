"""The two questions asked of the metadata: how many captions mention each name, and a seeded sample of the
image URLs whose captions mention an artist."""

from __future__ import annotations

import heapq
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager

import numpy as np
import pandas as pd
import pyarrow as pa

from ..captions import Matcher
from ..cores import usable_cores
from ..errors import AuditError
from ..files import sha256_bytes
from ..names import validate_names
from .parquet import check_files, metadata_files
from .reading import Reader, Unit, count_rows, units
from .scan import Stopped, run_units

__all__ = ["count_mentions", "sample_real_work_urls"]


class _Scan:
    """What both questions share: checked files, the matcher, the units, the options, a progress bar."""

    def __init__(self, metadata, names, *, caption_column, extra=(), score_column=None, min_score=None,
                 threads, workers, batch_size):  # fmt: skip
        if min_score is not None and score_column is None:
            raise AuditError(
                "min_score needs score_column", where="selection", fix="name the aesthetic-score column"
            )
        for label, value in (("threads", threads), ("workers", workers), ("batch_size", batch_size)):
            if value is not None and int(value) < 1:
                raise AuditError(f"{label} must be at least 1 (got {value})", where="selection")
        files = metadata_files(metadata)
        checked = check_files(files, [caption_column, *extra], [score_column])
        self.matcher = Matcher(names)
        self.total = count_rows(files, score_column, min_score, sum(f.num_rows for f in checked))
        self.workers = usable_cores() if workers is None else int(workers)
        # a few units per worker balance the load; fewer, larger ones save DuckDB's start of each query
        self.units = units(checked, -(-sum(f.num_rows for f in checked) // (4 * self.workers)))
        self.threads = 1 if threads is None else int(threads)
        self.options = dict(caption_column=caption_column, extra=list(extra), score_column=score_column,
                            min_score=min_score, batch_size=int(batch_size))  # fmt: skip
        self._lock = threading.Lock()

    def batches(self, reader: Reader, unit: Unit, stop: threading.Event, bar) -> Iterator[pa.RecordBatch]:
        for batch in reader.batches(unit, **self.options):
            if stop.is_set():
                raise Stopped
            yield batch
            with self._lock:
                bar.update(batch.num_rows)

    @contextmanager
    def progress(self, progress: bool):
        from tqdm.auto import tqdm

        with tqdm(total=self.total, unit="captions", unit_scale=True, disable=not progress,
                  desc="scanning captions") as bar:  # fmt: skip
            yield bar
            bar.update(max(0, self.total - bar.n))  # rows with a null caption never reach a batch

    def run(self, work, *, ordered: bool):
        return run_units(self.units, work, workers=self.workers, threads=self.threads, ordered=ordered)


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
    workers: int | None = None,
) -> pd.DataFrame:
    """How many captions mention each name: columns ``artist`` (the names, cleaned, in the given order) and
    ``caption_count`` (rows whose caption mentions the name at least once; see :mod:`helpers.captions`).

    ``metadata`` is a parquet file, a folder (searched recursively), a glob, or a list of them. Rows with a
    null caption are skipped; with ``min_score``, so are rows whose ``score_column`` is below ``min_score``,
    null or NaN (the threshold is inclusive). ``workers`` threads scan row groups at once (default: every
    core), each reading with ``threads`` DuckDB threads (default 1); the counts do not depend on either.
    ``attrs["captions_scanned"]`` holds the number of captions read.
    """
    names = validate_names(list(names), where="names")
    scan = _Scan(metadata, names, caption_column=caption_column, score_column=score_column,
                 min_score=min_score, threads=threads, workers=workers, batch_size=batch_size)  # fmt: skip
    n_patterns = len(scan.matcher.patterns)

    with scan.progress(progress) as bar:

        def work(reader: Reader, unit: Unit, stop: threading.Event) -> tuple[np.ndarray, int]:
            counts, scanned = np.zeros(n_patterns, dtype=np.int64), 0
            for batch in scan.batches(reader, unit, stop, bar):
                _rows, pids = scan.matcher.find(batch.column(0))
                counts += np.bincount(pids, minlength=n_patterns)
                scanned += batch.num_rows
            return counts, scanned

        counts, scanned = np.zeros(n_patterns, dtype=np.int64), 0
        for unit_counts, unit_scanned in scan.run(work, ordered=False):
            counts += unit_counts
            scanned += unit_scanned
    out = pd.DataFrame({"artist": names, "caption_count": counts[scan.matcher.pattern_of_name]})
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
    workers: int | None = None,
) -> pd.DataFrame:
    """A seeded sample of up to ``per_artist`` distinct image URLs per artist, among the rows whose caption
    mentions the artist (same matching rule as :func:`count_mentions`); columns ``artist, url, caption``.

    The sample keeps, per artist, the URLs with the smallest SHA-256 of ``"<seed>:<url>"``: it does not
    depend on the order of files or rows, and a larger ``per_artist`` extends a smaller one. A URL that
    appears in several rows shows the caption of its first row (files in the order given, rows in file
    order), whatever the number of ``workers``.
    """
    if not isinstance(per_artist, (int, np.integer)) or per_artist < 1:
        raise AuditError(f"per_artist must be at least 1 (got {per_artist!r})", where="sample_real_work_urls")
    names = validate_names(list(artists), where="artists")
    scan = _Scan(metadata, names, caption_column=caption_column, extra=[url_column], threads=threads,
                 workers=workers, batch_size=131_072)  # fmt: skip

    with scan.progress(progress) as bar:

        def work(reader: Reader, unit: Unit, stop: threading.Event) -> list[tuple[str, str, int]]:
            hits: list[tuple[str, str, int]] = []
            for batch in scan.batches(reader, unit, stop, bar):
                rows, pids = scan.matcher.find(batch.column(0))
                if len(rows):
                    take = pa.array(rows)
                    urls = batch.column(1).take(take).to_pylist()
                    captions = batch.column(0).take(take).to_pylist()
                    hits.extend(zip(urls, captions, pids.tolist(), strict=True))
            return hits

        heaps = _Heaps(len(names), per_artist, seed, scan.matcher.names_of_pattern)
        for hits in scan.run(work, ordered=True):  # in row order, so a repeated URL keeps its first caption
            heaps.add(hits)
    records = [(name, url, caption) for name, kept in zip(names, heaps.sorted(), strict=True)
               for url, caption in kept]  # fmt: skip
    return pd.DataFrame(records, columns=["artist", "url", "caption"])


class _Heaps:
    """Per artist, the ``per_artist`` URLs with the smallest keys seen so far, each with its first caption."""

    def __init__(self, n: int, per_artist: int, seed: int, names_of_pattern: Sequence[Sequence[int]]):
        self.heaps: list[list[tuple[int, str, str]]] = [[] for _ in range(n)]
        self.kept: list[set[str]] = [set() for _ in range(n)]
        self.per_artist, self.seed, self.names_of_pattern = per_artist, seed, names_of_pattern

    def add(self, hits: Iterable[tuple[str, str, int]]) -> None:
        for url, caption, pid in hits:
            key = int(sha256_bytes(f"{self.seed}:{url}".encode())[:16], 16)
            for i in self.names_of_pattern[pid]:
                if url in self.kept[i]:
                    continue
                heap = self.heaps[i]
                if len(heap) < self.per_artist:
                    heapq.heappush(heap, (-key, url, caption))
                    self.kept[i].add(url)
                elif -heap[0][0] > key:
                    _, dropped, _ = heapq.heapreplace(heap, (-key, url, caption))
                    self.kept[i].discard(dropped)
                    self.kept[i].add(url)

    def sorted(self) -> list[list[tuple[str, str]]]:
        return [
            [(url, caption) for _neg, url, caption in sorted(heap, key=lambda x: -x[0])]
            for heap in self.heaps
        ]
