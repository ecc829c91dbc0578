"""The two questions asked of the metadata: how many captions mention each name, and a seeded sample of the
image URLs whose captions credit an artist as author."""

from __future__ import annotations

import heapq
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa

from ..captions import Matcher, credit, parse_form
from ..cores import usable_cores
from ..errors import AuditError
from ..files import Columns, sha256_bytes
from ..names import name_key, validate_names
from .parquet import check_files, metadata_files
from .reading import Reader, Unit, count_rows, units
from .scan import Stopped, run_units

__all__ = ["count_mentions", "sample_real_work_urls", "RealWorkSample", "DROP_COLUMNS"]


class _Scan:
    """What both questions share: checked files, the matcher, the units, the options, a progress bar."""

    def __init__(
        self,
        metadata,
        names,
        *,
        caption_column,
        extra=(),
        score_column=None,
        min_score=None,
        threads,
        workers,
        batch_size,
    ):
        if min_score is not None and score_column is None:
            raise AuditError("min_score needs score_column", where="selection", fix="name the aesthetic-score column")
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
        self.options = dict(
            caption_column=caption_column,
            extra=list(extra),
            score_column=score_column,
            min_score=min_score,
            batch_size=int(batch_size),
        )
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
        if not progress:  # no bar, and no import of tqdm.auto (15 ms of the command line's start)
            yield _NoBar()
            return
        from tqdm.auto import tqdm

        with tqdm(total=self.total, unit="captions", unit_scale=True, desc="scanning captions") as bar:
            yield bar
            bar.update(max(0, self.total - bar.n))  # rows with a null caption never reach a batch

    def run(self, work, *, ordered: bool):
        return run_units(self.units, work, workers=self.workers, threads=self.threads, ordered=ordered)


class _NoBar:
    def update(self, n: int) -> None:
        pass


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
    scan = _Scan(
        metadata,
        names,
        caption_column=caption_column,
        score_column=score_column,
        min_score=min_score,
        threads=threads,
        workers=workers,
        batch_size=batch_size,
    )
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


@dataclass(frozen=True)
class RealWorkSample:
    """What :func:`sample_real_work_urls` found: ``works`` (``artist, url, caption, form``: the sample, each
    with the caption that credits the artist and the credit form it matched) and ``dropped`` (one row per
    artist: :data:`DROP_COLUMNS`, how many captions mentioning the artist were dropped for each reason)."""

    works: pd.DataFrame
    dropped: pd.DataFrame


DROP_COLUMNS = Columns(
    artist="text",
    mentions="int",
    several_candidates="int",
    style_reference="int",
    no_credit_form="int",
    credited="int",
    urls_of_several_artists="int",
    sampled="int",
)
"""``mentions``: captions that mention the artist; of those, ``several_candidates`` name another candidate
too, ``style_reference`` match a style form, ``no_credit_form`` match no credit form, and ``credited`` are
left; ``urls_of_several_artists``: distinct URLs credited to this artist and, by another caption, to
another (dropped for both); ``sampled``: URLs kept."""
_REASON = {"style reference": "style_reference", "no credit form": "no_credit_form"}


def sample_real_work_urls(
    metadata,
    artists: Iterable[str],
    *,
    per_artist: int = 20,
    seed: int = 0,
    others: Iterable[str] = (),
    credit_forms: Sequence[str] | None = None,
    style_forms: Sequence[str] | None = None,
    caption_column: str = "TEXT",
    url_column: str = "URL",
    threads: int | None = None,
    progress: bool = True,
    workers: int | None = None,
) -> RealWorkSample:
    """A seeded sample of up to ``per_artist`` distinct image URLs per artist, among the rows whose caption
    credits the artist as author (:mod:`helpers.captions.authorship`): it mentions the artist (the rule of
    :func:`count_mentions`) in one of ``credit_forms``, in none of ``style_forms`` (defaults:
    :data:`helpers.schema.CREDIT_FORMS`, :data:`~helpers.schema.STYLE_FORMS`), and mentions no other of
    ``artists`` or ``others`` (the other candidates). A URL credited to two artists is dropped for both.

    The sample keeps, per artist, the URLs with the smallest SHA-256 of ``"<seed>:<url>"``: it does not
    depend on the order of files or rows, and a larger ``per_artist`` extends a smaller one. A URL that
    appears in several crediting rows shows the caption of its first (files in the order given, rows in file
    order), whatever the number of ``workers``.
    """
    if not isinstance(per_artist, (int, np.integer)) or per_artist < 1:
        raise AuditError(f"per_artist must be at least 1 (got {per_artist!r})", where="sample_real_work_urls")
    names = validate_names(list(artists), where="artists")
    keys = {name_key(n) for n in names}
    extra = [n for n in validate_names(list(others), where="others") if name_key(n) not in keys] if others else []
    from ..schema import ValidationParams  # here, not above: the selection command line never needs pydantic

    defaults = ValidationParams()
    credits = [parse_form(f) for f in (defaults.credit_forms if credit_forms is None else credit_forms)]
    styles = [parse_form(f) for f in (defaults.style_forms if style_forms is None else style_forms)]
    scan = _Scan(
        metadata,
        names + extra,
        caption_column=caption_column,
        extra=[url_column],
        threads=threads,
        workers=workers,
        batch_size=131_072,
    )
    of_pattern = scan.matcher.names_of_pattern

    def work(reader: Reader, unit: Unit, stop: threading.Event, bar) -> list[tuple[str, str, tuple[int, ...]]]:
        hits: list[tuple[str, str, tuple[int, ...]]] = []
        for batch in scan.batches(reader, unit, stop, bar):
            rows, pids = scan.matcher.find(batch.column(0))
            if not len(rows):
                continue
            starts = np.flatnonzero(np.r_[True, rows[1:] != rows[:-1]])
            take = pa.array(rows[starts])
            urls, captions = batch.column(1).take(take).to_pylist(), batch.column(0).take(take).to_pylist()
            for url, caption, group in zip(urls, captions, np.split(pids, starts[1:]), strict=True):
                hits.append((url, caption, tuple(sorted({i for p in group.tolist() for i in of_pattern[p]}))))
        return hits

    def scan_once(exclude: set[int]) -> _Sampler:
        sampler = _Sampler(names, per_artist, seed, credits, styles, exclude)
        with scan.progress(progress) as bar:
            for hits in scan.run(lambda r, u, s: work(r, u, s, bar), ordered=True):  # row order: first captions
                sampler.add(hits)
        return sampler

    sampler = scan_once(set())
    if sampler.lost_to_conflicts():  # a kept URL turned out to be another artist's too: sample again without them
        sampler = scan_once(sampler.conflicts()).with_counts(sampler)
    return sampler.result()


class _Sampler:
    """Sorts each mentioning row into a drop reason or a credited work; keeps per artist the ``per_artist``
    credited URLs with the smallest keys (skipping the URLs in ``exclude``), and which artists credit each URL."""

    def __init__(self, names, per_artist, seed, credits, styles, exclude: set[int]):
        self.names, self.credits, self.styles, self.exclude = names, credits, styles, exclude
        self.counts = np.zeros((len(names), len(DROP_COLUMNS) - 2), dtype=np.int64)
        self.owners: dict[int, int | set[int]] = {}
        self.heaps = _Heaps(len(names), per_artist, seed, [[i] for i in range(len(names))])
        self._column = {c: j for j, c in enumerate(DROP_COLUMNS[1:-1])}

    def _count(self, artist: int, column: str) -> None:
        self.counts[artist, self._column[column]] += 1

    def add(self, hits) -> None:
        for url, caption, found in hits:
            mine = [i for i in found if i < len(self.names)]
            for i in mine:
                self._count(i, "mentions")
            if len(found) > 1:
                for i in mine:
                    self._count(i, "several_candidates")
                continue
            if not mine:
                continue
            artist = mine[0]
            verdict = credit(caption, self.names[artist], self.credits, self.styles)
            if verdict.form is None:
                self._count(artist, _REASON[verdict.reason])
                continue
            self._count(artist, "credited")
            key = _url_key(url)
            owner = self.owners.setdefault(key, artist)
            if owner != artist:
                self.owners[key] = (owner if isinstance(owner, set) else {owner}) | {artist}
            if key not in self.exclude:
                self.heaps.add([(url, (caption, verdict.form), artist)])

    def conflicts(self) -> set[int]:
        return {key for key, owner in self.owners.items() if isinstance(owner, set)}

    def lost_to_conflicts(self) -> bool:
        conflicts = self.conflicts()
        return any(_url_key(url) in conflicts for kept in self.heaps.sorted() for url, _ in kept)

    def with_counts(self, first: _Sampler) -> _Sampler:
        self.counts, self.owners = first.counts, first.owners
        return self

    def result(self) -> RealWorkSample:
        kept = self.heaps.sorted()
        several = np.zeros(len(self.names), dtype=np.int64)
        for owner in self.owners.values():
            if isinstance(owner, set):
                several[list(owner)] += 1
        conflicts = self.conflicts()
        records = [
            (name, url, caption, form)
            for name, works in zip(self.names, kept, strict=True)
            for url, (caption, form) in works
            if _url_key(url) not in conflicts
        ]
        works = pd.DataFrame(records, columns=["artist", "url", "caption", "form"])
        dropped = pd.DataFrame(self.counts, columns=list(DROP_COLUMNS[1:-1]))
        dropped.insert(0, "artist", self.names)
        dropped["urls_of_several_artists"] = several
        dropped["sampled"] = works.groupby("artist").size().reindex(self.names, fill_value=0).to_numpy()
        return RealWorkSample(works, dropped[list(DROP_COLUMNS)])


def _url_key(url: str) -> int:
    return int(sha256_bytes(url.encode())[:16], 16)


class _Heaps:
    """Per artist, the ``per_artist`` URLs with the smallest keys seen so far, each with its first payload."""

    def __init__(self, n: int, per_artist: int, seed: int, names_of_pattern: Sequence[Sequence[int]]):
        self.heaps: list[list[tuple[int, str, object]]] = [[] for _ in range(n)]
        self.kept: list[set[str]] = [set() for _ in range(n)]
        self.per_artist, self.seed, self.names_of_pattern = per_artist, seed, names_of_pattern

    def add(self, hits: Iterable[tuple[str, object, int]]) -> None:
        for url, payload, pid in hits:
            key = int(sha256_bytes(f"{self.seed}:{url}".encode())[:16], 16)
            for i in self.names_of_pattern[pid]:
                if url in self.kept[i]:
                    continue
                heap = self.heaps[i]
                if len(heap) < self.per_artist:
                    heapq.heappush(heap, (-key, url, payload))
                    self.kept[i].add(url)
                elif -heap[0][0] > key:
                    _, dropped, _ = heapq.heapreplace(heap, (-key, url, payload))
                    self.kept[i].discard(dropped)
                    self.kept[i].add(url)

    def sorted(self) -> list[list[tuple[str, object]]]:
        return [[(url, payload) for _neg, url, payload in sorted(heap, key=lambda x: -x[0])] for heap in self.heaps]
