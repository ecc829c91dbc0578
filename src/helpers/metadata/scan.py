"""Every unit of the metadata through one function, in worker threads: each thread has its own DuckDB
connection and reads whole row groups, and the matching (Hyperscan, numpy, Arrow) runs without the GIL, so the
threads use the cores. Results come back per unit, in unit order or as they finish; a worker's failure stops
the others and is raised as an :class:`AuditError` naming the file and rows."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed, wait
from typing import TypeVar

from ..errors import AuditError
from .reading import Reader, Unit

__all__ = ["run_units", "Stopped"]

R = TypeVar("R")


class Stopped(Exception):
    """Raised inside a worker (between batches) once another worker has failed."""


def run_units(
    units: Sequence[Unit],
    work: Callable[[Reader, Unit, threading.Event], R],
    *,
    workers: int,
    threads: int,
    ordered: bool,
) -> Iterator[R]:
    """``work(reader, unit, stop)`` for every unit, on ``workers`` threads (one: in this thread), each with a
    :class:`Reader` of ``threads`` DuckDB threads. Yields the results in unit order when ``ordered``, else as
    they finish. ``work`` should return early (raise :class:`Stopped`) once ``stop`` is set."""
    stop = threading.Event()
    workers = max(1, min(int(workers), len(units)))
    if workers == 1:
        reader = Reader(threads)
        try:
            for unit in units:
                yield _guarded(work, reader, unit, stop)
        finally:
            reader.close()
        return

    local = threading.local()
    readers: list[Reader] = []
    lock = threading.Lock()

    def run(unit: Unit) -> R:
        if stop.is_set():
            raise Stopped
        reader = getattr(local, "reader", None)
        if reader is None:
            reader = local.reader = Reader(threads)
            with lock:
                readers.append(reader)
        try:
            return _guarded(work, reader, unit, stop)
        except Exception:
            stop.set()  # the other workers stop at their next batch
            raise

    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="caption-scan")
    try:
        futures = [pool.submit(run, unit) for unit in units]
        for future in futures if ordered else as_completed(futures):
            try:
                result = future.result()
            except Stopped:
                raise _first_failure(futures) from None
            yield result
    finally:
        stop.set()
        pool.shutdown(wait=True, cancel_futures=True)
        for reader in readers:
            reader.close()


def _first_failure(futures) -> BaseException:
    """The error that stopped the scan: the first failed unit's."""
    wait(futures)
    for future in futures:
        if not future.cancelled() and not isinstance(future.exception(), (Stopped, type(None))):
            return future.exception()
    return AuditError("the scan was stopped", where="metadata")


def _guarded(work, reader: Reader, unit: Unit, stop: threading.Event):
    try:
        return work(reader, unit, stop)
    except (AuditError, Stopped):
        raise
    except Exception as exc:  # a bug or a resource problem: say where it happened
        raise AuditError(
            f"scanning failed ({type(exc).__name__}: {' '.join(str(exc).split())[:300]})",
            where=unit.where,
            fix="check that the file reads (e.g. with DuckDB) and that memory suffices; else report this",
        ) from exc
