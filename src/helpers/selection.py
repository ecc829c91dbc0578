"""Stage 1, artist selection: count how many captions mention each candidate, apply the paper's criteria.

The paper (Casper et al. 2023) kept living professional digital artists with an online presence whose
names appear in more than 100 LAION-aesthetics captions, then compared imitations with real works.

**Matching rule.** A caption *mentions* a name when the name's normalised text occurs in the caption's
normalised text (:func:`normalize_text`) with no *word character* immediately before or after it. A word
character is a Unicode letter, mark or number (general category L*, M*, N*) or ``_`` — except characters of
scripts written without spaces between words (CJK ideographs, kana, Hangul, Bopomofo, Thai, Lao, Khmer,
Myanmar), which never block a match, since a name there is followed by text with no space. So "Sam Yang"
does not match "Samyang" or "Sam Yangson", "Loish" does not match "Loishes", and "Loish风格" matches.
A caption counts once per name, however often it repeats the name. A name inside another name counts
only at word boundaries: "Ross Tran" is not found in "Ross Tranquility", "Rutkowski" is found in
"Greg Rutkowski" (so a caption can count for both).

**Engine.** DuckDB reads the caption column (with the optional score threshold and a whitespace collapse)
from parquet, multi-threaded, in bounded record batches; one Aho-Corasick automaton over all normalised
names finds every candidate occurrence in one pass over a batch, whatever the number of names; boundary
checks and per-caption de-duplication are vectorised with numpy.
"""

from __future__ import annotations

import argparse
import bisect
import glob as _glob
import hashlib
import heapq
import os
import re
import shutil
import signal
import sys
import tempfile
import threading
import unicodedata
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from .errors import AuditError, exit_on_error
from .names import clean_name, name_key, slug, validate_names
from .run import write_table

__all__ = [
    "normalize_text",
    "read_candidates",
    "count_mentions",
    "select",
    "make_synthetic_metadata",
    "sample_real_work_urls",
    "download_real_works",
    "StageResult",
    "run_stage",
    "main",
]

# -- normalisation --------------------------------------------------------------------------------------

_TYPOGRAPHIC = {
    **dict.fromkeys("\u2018\u2019\u201a\u201b\u2032\u02bc\u0060\u00b4", "'"),
    **dict.fromkeys("\u201c\u201d\u201e\u201f\u2033", '"'),
    **dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2212", "-"),
}
_LETTERS = {"ø": "o", "ł": "l", "đ": "d", "ð": "d", "þ": "th", "æ": "ae", "œ": "oe", "ı": "i"}
# str.translate is slow on long non-ASCII text; a character-class regex calls back only where it matches.
_TYPOGRAPHIC_RE = re.compile("[" + "".join(_TYPOGRAPHIC) + "]")
_LETTERS_RE = re.compile("[" + "".join(_LETTERS) + "]")
_BEFORE_NFKC = {"\u00b4": "'", "\u2033": '"'}
_COMBINING = re.compile("[\u0300-\u036f]+")
# Control characters that str.split() does not count as whitespace (NUL excepted: it separates captions).
_CONTROL_RE = re.compile("[\x01-\x08\x0e-\x1b\x7f-\x84\x86-\x9f]")
# The same rule on ASCII-only text, as DuckDB applies it before the captions reach Python.
_SQL_SPACES = r"[\x00-\x20\x7f]+"
# ASCII text: normalisation is lower-casing and the backtick as an apostrophe.
_ASCII_TABLE = bytes.maketrans(
    bytes(range(65, 91)) + b"`",
    bytes(range(97, 123)) + b"'",
)
_SEP = "\x00"


def normalize_text(text: str) -> str:
    """The text names are matched in, for captions and names alike. In order:

    1. typographic quotes, primes, the backtick and the acute accent become ``'`` or ``"``; hyphen and
       dash characters (U+2010–U+2015, U+2212) become ``-`` (before and after step 2, so compatibility
       forms such as the full-width grave accent are caught too);
    2. Unicode NFKC (full-width letters, ligatures, compatibility forms; no-break spaces become spaces);
    3. case folding (``str.casefold``: "ß" becomes "ss");
    4. accents removed: NFKD, then every combining mark U+0300–U+036F dropped, so "Stålenhag" reads
       "stalenhag" (marks of other blocks, such as the kana voicing marks, are kept);
    5. the letters ø ł đ ð þ æ œ ı, which have no decomposition, become o l d d th ae oe i; then NFC;
    6. control characters become spaces, runs of whitespace one space, and outer whitespace is removed.
    """
    return " ".join(_CONTROL_RE.sub(" ", _normalize_core(text.replace(_SEP, " "))).split())


def _normalize_core(text: str) -> str:
    """Steps 1–5 of :func:`normalize_text`. Every step maps NUL to itself, and no step joins characters
    across a NUL, so captions joined with NUL can be normalised in one call."""
    for char, plain in _BEFORE_NFKC.items():  # NFKC would split these; the others it leaves alone
        if char in text:
            text = text.replace(char, plain)
    text = _sub(_TYPOGRAPHIC_RE, _TYPOGRAPHIC, unicodedata.normalize("NFKC", text)).casefold()
    text = _sub(_LETTERS_RE, _LETTERS, _COMBINING.sub("", unicodedata.normalize("NFKD", text)))
    return unicodedata.normalize("NFC", text)


def _sub(pattern: re.Pattern, table: dict[str, str], text: str) -> str:
    return pattern.sub(lambda m: table[m.group()], text)


_UNSPACED = (  # inclusive code-point ranges of scripts written without spaces between words
    (0x0E00, 0x0EFF),  # Thai, Lao
    (0x1000, 0x109F),  # Myanmar
    (0x1100, 0x11FF),  # Hangul Jamo
    (0x1780, 0x17FF),  # Khmer
    (0x19E0, 0x19FF),  # Khmer symbols
    (0x2E80, 0x2FDF),  # CJK and Kangxi radicals
    (0x3000, 0x303F),  # CJK symbols (々 〆 〇)
    (0x3040, 0x31FF),  # Hiragana, Katakana, Bopomofo, Hangul compatibility Jamo, Kanbun, strokes
    (0x3400, 0x4DBF),  # CJK extension A
    (0x4E00, 0x9FFF),  # CJK unified ideographs
    (0xA960, 0xA97F),  # Hangul Jamo extended A
    (0xAC00, 0xD7FF),  # Hangul syllables, Jamo extended B
    (0xF900, 0xFAFF),  # CJK compatibility ideographs
    (0xFF65, 0xFFDC),  # half-width Katakana and Hangul
    (0x1B000, 0x1B16F),  # Kana supplement and extensions
    (0x20000, 0x3FFFF),  # CJK extensions B and later
)
_UNSPACED_STARTS = [lo for lo, _ in _UNSPACED]


@lru_cache(maxsize=65536)
def _is_word(char: str) -> bool:
    """True for a character that, next to a name, makes the occurrence part of a longer word."""
    if char == "_":
        return True
    if unicodedata.category(char)[0] not in "LMN":
        return False
    code = ord(char)
    i = bisect.bisect_right(_UNSPACED_STARTS, code) - 1
    return not (i >= 0 and code <= _UNSPACED[i][1])


# -- matching -------------------------------------------------------------------------------------------


class _Matcher:
    """One Aho-Corasick automaton over the normalised names; finds (caption, name) mentions in batches."""

    def __init__(self, names: Sequence[str]):
        import ahocorasick

        self.names = list(names)
        patterns: dict[str, int] = {}
        self.pattern_of_name = np.empty(len(self.names), dtype=np.int64)
        for i, name in enumerate(self.names):
            pattern = normalize_text(name)
            if not pattern:
                raise AuditError(
                    f"name {name!r} is empty after normalisation (only marks or spaces)",
                    where="names",
                    fix="write the name with letters",
                )
            self.pattern_of_name[i] = patterns.setdefault(pattern, len(patterns))
        self.patterns = list(patterns)
        self.lengths = np.array([len(p) for p in self.patterns], dtype=np.int64)
        self.names_of_pattern: list[list[int]] = [[] for _ in self.patterns]
        for i, p in enumerate(self.pattern_of_name.tolist()):
            self.names_of_pattern[p].append(i)
        self._automaton = ahocorasick.Automaton()
        for pid, pattern in enumerate(self.patterns):
            self._automaton.add_word(pattern, pid)
        self._automaton.make_automaton()

    def find(self, captions: pa.Array) -> tuple[np.ndarray, np.ndarray]:
        """Distinct (row, pattern id) pairs: row ``r`` of ``captions`` mentions pattern ``p``.

        ``captions`` holds no nulls, and its runs of ASCII whitespace and control characters have been
        collapsed to one space (the query in :func:`_batches` does both).
        """
        if len(captions) == 0:
            return _EMPTY, _EMPTY
        ascii_mask = pc.string_is_ascii(captions).to_numpy(zero_copy_only=False)
        rows, pids = [], []
        for mask, to_text in ((ascii_mask, self._ascii_text), (~ascii_mask, self._unicode_text)):
            if not mask.any():
                continue
            whole = bool(mask.all())
            r, p = self._scan(*to_text(captions if whole else captions.filter(pa.array(mask))))
            rows.append(r if whole else np.flatnonzero(mask)[r])
            pids.append(p)
        return np.concatenate(rows), np.concatenate(pids)

    @staticmethod
    def _ascii_text(arr: pa.Array) -> tuple[str, np.ndarray, np.ndarray]:
        if pa.types.is_large_string(arr.type):
            width = np.int64
        else:
            arr, width = arr.cast(pa.string()) if not pa.types.is_string(arr.type) else arr, np.int32
        _, offsets_buf, data_buf = arr.buffers()
        offsets = np.frombuffer(offsets_buf, dtype=width)[arr.offset : arr.offset + len(arr) + 1].astype(
            np.int64
        )
        first, last = int(offsets[0]), int(offsets[-1])
        raw = data_buf.slice(first, last - first).to_pybytes() if data_buf is not None else b""
        text = raw.translate(_ASCII_TABLE).decode("ascii")
        return text, offsets[:-1] - first, offsets[1:] - first

    @staticmethod
    def _unicode_text(arr: pa.Array) -> tuple[str, np.ndarray, np.ndarray]:
        # one string for the batch: every step is a single C-level pass (whitespace runs at the edge of
        # a caption survive as one space beside the NUL, which changes no match)
        text = " ".join(_CONTROL_RE.sub(" ", _normalize_core(_SEP.join(arr.to_pylist()))).split())
        lengths = np.fromiter((len(part) for part in text.split(_SEP)), dtype=np.int64, count=len(arr))
        ends = np.cumsum(lengths + 1) - 1
        return text, ends - lengths, ends

    def _scan(self, text: str, starts: np.ndarray, ends: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        hits = np.fromiter(
            (v for end, pid in self._automaton.iter(text) for v in (end, pid)), dtype=np.int64
        ).reshape(-1, 2)
        if len(hits) == 0:
            return _EMPTY, _EMPTY
        end, pid = hits[:, 0], hits[:, 1]
        start = end - self.lengths[pid] + 1
        row = np.searchsorted(starts, start, side="right") - 1
        inside = end < ends[row]
        before, after = start - 1, end + 1
        check_before = inside & (start > starts[row])
        check_after = inside & (after < ends[row])
        ok = inside.copy()
        ok[check_before] &= ~_word_flags(text, before[check_before])
        ok[check_after] &= ~_word_flags(text, after[check_after])
        keys = np.unique(row[ok] * len(self.patterns) + pid[ok])
        return keys // len(self.patterns), keys % len(self.patterns)


_EMPTY = np.empty(0, dtype=np.int64)


def _word_flags(text: str, positions: np.ndarray) -> np.ndarray:
    return np.fromiter((_is_word(text[i]) for i in positions.tolist()), dtype=bool, count=len(positions))


# -- reading metadata -----------------------------------------------------------------------------------


def _metadata_files(metadata) -> list[str]:
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
        f"THEN regexp_replace({col}, '{_SQL_SPACES}', ' ', 'g') ELSE {col} END AS caption"
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
) -> Iterator[tuple[pa.RecordBatch, np.ndarray, np.ndarray, _Matcher]]:
    from tqdm.auto import tqdm

    if min_score is not None and score_column is None:
        raise AuditError(
            "min_score needs score_column", where="selection", fix="name the aesthetic-score column"
        )
    if threads is not None and int(threads) < 1:
        raise AuditError(f"threads must be at least 1 (got {threads})", where="selection")
    if int(batch_size) < 1:
        raise AuditError(f"batch_size must be at least 1 (got {batch_size})", where="selection")
    files = _metadata_files(metadata)
    total = _check_columns(files, [caption_column, *extra], [score_column])
    matcher = _Matcher(names)
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


# -- public API -----------------------------------------------------------------------------------------

_TRUE, _FALSE = {"true", "yes", "1"}, {"false", "no", "0"}
_CURATION = ("alive", "online_presence")


def read_candidates(path: str | os.PathLike) -> pd.DataFrame:
    """The candidate artists of a CSV: column ``artist`` (required) and the curation columns ``alive`` and
    ``online_presence`` (optional), other columns kept as they are.

    Curation cells read true/false/yes/no/1/0 (any case); an empty cell or a missing column is ``<NA>``,
    meaning "not curated". Names are cleaned and checked with :func:`helpers.names.validate_names`.
    """
    path = Path(path)
    where = str(path)
    if not path.is_file():
        raise AuditError(
            "candidate artists file does not exist", where=where, fix="pass a CSV with an 'artist' column"
        )
    try:
        table = pd.read_csv(
            path, dtype=str, keep_default_na=False, encoding="utf-8-sig", skipinitialspace=True
        )
    except pd.errors.EmptyDataError:
        raise AuditError(
            "the file is empty",
            where=where,
            fix="write a header line 'artist,alive,online_presence' and one row per artist",
        ) from None
    except (OSError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise AuditError(
            f"cannot read it as UTF-8 CSV ({' '.join(str(exc).split())})",
            where=where,
            fix="save it as UTF-8 CSV",
        ) from None
    table.columns = [str(c).strip() for c in table.columns]
    rename = {c: c.lower() for c in table.columns if c.lower() in ("artist", *_CURATION)}
    table = table.rename(columns=rename)
    if "artist" not in table.columns:
        raise AuditError(
            f"no 'artist' column; the columns are {list(table.columns)}",
            where=where,
            fix="name the column of artist names 'artist'",
        )
    table["artist"] = validate_names(table["artist"].tolist(), where=where)
    for col in _CURATION:
        if col not in table.columns:
            table[col] = pd.array([pd.NA] * len(table), dtype="boolean")
            continue
        values = []
        for row, raw in enumerate(table[col].tolist(), start=1):
            text = str(raw).strip().lower()
            if text in _TRUE or text in _FALSE:
                values.append(text in _TRUE)
            elif text == "":
                values.append(pd.NA)
            else:
                raise AuditError(
                    f"column {col!r}, row {row}: {raw!r} is not true/false/yes/no/1/0",
                    where=where,
                    fix="write true or false, or leave the cell empty when not curated",
                )
        table[col] = pd.array(values, dtype="boolean")
    front = ["artist", *_CURATION]
    return table[front + [c for c in table.columns if c not in front]].reset_index(drop=True)


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


def select(
    candidates: pd.DataFrame,
    counts: pd.DataFrame | None,
    *,
    min_images: int = 100,
    require_alive: bool = True,
    require_online_presence: bool = True,
) -> pd.DataFrame:
    """The selection table: one row per candidate, in candidate order, with columns ``artist``,
    ``caption_count``, ``alive``, ``online_presence``, ``selected``, ``reason``, ``count_verified`` (then any
    other candidate columns).

    ``selected``: ``caption_count > min_images`` (strictly more, as the paper), and ``alive`` /
    ``online_presence`` true where required (``<NA>``, not curated, does not pass). ``reason`` lists every
    failed criterion, "; "-separated, and is "" for a selected artist. With ``counts=None`` (no metadata)
    the count criterion is skipped, ``caption_count`` is ``<NA>``, ``count_verified`` is false and every
    reason notes "count not verified".
    """
    if not isinstance(min_images, (int, np.integer)) or isinstance(min_images, bool) or min_images < 0:
        raise AuditError(f"min_images must be a whole number >= 0 (got {min_images!r})", where="select")
    if "artist" not in candidates.columns:
        raise AuditError(
            f"candidates have no 'artist' column (columns: {list(candidates.columns)})", where="select"
        )
    table = candidates.copy().reset_index(drop=True)
    table["artist"] = validate_names(table["artist"].tolist(), where="candidates")
    for col in _CURATION:
        table[col] = (
            table[col].astype("boolean")
            if col in table.columns
            else pd.array([pd.NA] * len(table), dtype="boolean")
        )
    keys = [name_key(a) for a in table["artist"]]
    if counts is None:
        caption_count = pd.array([pd.NA] * len(table), dtype="Int64")
    else:
        missing = [c for c in ("artist", "caption_count") if c not in counts.columns]
        if missing:
            raise AuditError(
                f"counts lack the column(s) {missing}",
                where="select",
                fix="pass the table count_mentions returns",
            )
        by_key = {
            name_key(clean_name(a)): int(c)
            for a, c in zip(counts["artist"], counts["caption_count"], strict=True)
        }
        absent = [a for a, k in zip(table["artist"], keys, strict=True) if k not in by_key]
        if absent:
            raise AuditError(
                f"counts have no row for {len(absent)} candidate(s), e.g. {absent[0]!r}",
                where="select",
                fix="count mentions for the same artist list",
            )
        caption_count = pd.array([by_key[k] for k in keys], dtype="Int64")
    selected, reasons = [], []
    for i in range(len(table)):
        why = []
        if counts is not None and not caption_count[i] > min_images:
            n = int(caption_count[i])
            why.append(f"only {n} caption{'' if n == 1 else 's'} (needs > {min_images})")
        for col, required, no, unknown in (
            ("alive", require_alive, "not alive", "alive not curated"),
            ("online_presence", require_online_presence, "no online presence", "online presence not curated"),
        ):
            value = table[col].iloc[i]
            if required and value is pd.NA:
                why.append(unknown)
            elif required and not value:
                why.append(no)
        selected.append(not why)
        if counts is None:
            why.append("count not verified")
        reasons.append("; ".join(why))
    table["caption_count"] = caption_count
    table["selected"] = np.array(selected, dtype=bool)
    table["reason"] = reasons
    table["count_verified"] = counts is not None
    front = ["artist", "caption_count", "alive", "online_presence", "selected", "reason", "count_verified"]
    return table[front + [c for c in table.columns if c not in front]]


# -- synthetic metadata (smoke profile, tests) ----------------------------------------------------------

_VOCAB = (
    "portrait landscape castle forest river mountain city night sunset ocean dragon knight warrior princess "
    "robot spaceship flower garden village street market temple ruins desert snow storm cloud sky moon star "
    "cat dog horse bird fox wolf owl tree lake bridge tower ship train car house room window door lamp "
    "painting illustration drawing sketch concept art poster photo render cover study character environment "
    "red blue green golden dark bright soft vivid misty ancient futuristic cozy epic quiet detailed minimal "
    "風景 城 森林 пейзаж замок лес منظر قلعة غابة"
).split()
_TEMPLATES = (
    "{subject}, digital painting by {name}, trending on artstation",
    "{name} - {subject}",
    "art by {name}: {subject}",
    "{subject} in the style of {name}",
    "\u201c{subject}\u201d by {name}, 4k",
    "{subject} | {name} | illustration",
    "{name}风格的{subject}",
    "{subject} ({name})",
)
_PLANTED_MIN_SCORE = 6.5


def make_synthetic_metadata(
    path: str | os.PathLike,
    names: Iterable[str],
    *,
    seed: int = 0,
    counts: dict[str, int] | None = None,
    n_noise: int = 2000,
) -> dict[str, int]:
    """Write a small LAION-like parquet (``TEXT, URL, AESTHETIC_SCORE, WIDTH, HEIGHT``) with planted
    mentions, and return ``{name: captions mentioning it}``.

    ``counts`` gives the planted captions per name; by default every third name gets 5–59 (below the paper's
    threshold of 100) and the others 110–199. Each planted caption names one artist once, in a varied case
    and with or without accents, inside a template; a name that contains another name at word boundaries
    (e.g. "Ross Tran" and "Tran") adds its captions to the inner name's count. ``n_noise`` captions name
    nobody (about 1% of them are null). Planted rows have ``AESTHETIC_SCORE >= 6.5``, so a threshold up to
    6.5 keeps every planted count; noise scores lie in [4.5, 8). URLs point at ``http://127.0.0.1/``.
    Deterministic given ``seed``.
    """
    names = validate_names(list(names), where="make_synthetic_metadata")
    rng = np.random.default_rng(seed)
    if counts is None:
        planted = [
            int(rng.integers(5, 60)) if i % 3 == 2 else int(rng.integers(110, 200)) for i in range(len(names))
        ]
    else:
        by_key = {name_key(clean_name(k)): v for k, v in counts.items()}
        planted = []
        for n in names:
            v = by_key.get(name_key(n), 0)
            if not isinstance(v, (int, np.integer)) or isinstance(v, bool) or v < 0:
                raise AuditError(
                    f"planted count for {n!r} must be a whole number >= 0 (got {v!r})",
                    where="make_synthetic_metadata",
                )
            planted.append(int(v))
    patterns = [normalize_text(n) for n in names]
    fixed = normalize_text(" | ".join([*_VOCAB, *_TEMPLATES]))
    for n, p in zip(names, patterns, strict=True):
        if _occurs(p, fixed):
            raise AuditError(
                f"name {n!r} occurs in the synthetic vocabulary",
                where="make_synthetic_metadata",
                fix="plant counts with your own metadata",
            )

    def subject() -> str:
        return " ".join(rng.choice(_VOCAB, size=int(rng.integers(2, 6))).tolist())

    texts: list[str | None] = []
    scores: list[float] = []
    for n, k in zip(names, planted, strict=True):
        variants = [
            v for v in (n, n.lower(), n.upper(), _strip_accents(n)) if normalize_text(v) == normalize_text(n)
        ]
        for _ in range(k):
            template = _TEMPLATES[int(rng.integers(len(_TEMPLATES)))]
            texts.append(template.format(name=variants[int(rng.integers(len(variants)))], subject=subject()))
            scores.append(float(rng.uniform(_PLANTED_MIN_SCORE, 8.0)))
    for _ in range(n_noise):
        texts.append(None if rng.random() < 0.01 else subject())
        scores.append(float(rng.uniform(4.5, 8.0)))
    order = rng.permutation(len(texts))
    n_rows = len(texts)
    table = pa.table(
        {
            "TEXT": pa.array([texts[i] for i in order], type=pa.string()),
            "URL": pa.array([f"http://127.0.0.1/laion/{i:07d}.jpg" for i in range(n_rows)], type=pa.string()),
            "AESTHETIC_SCORE": pa.array([scores[i] for i in order], type=pa.float64()),
            "WIDTH": pa.array(rng.choice([512, 640, 768, 1024], size=n_rows), type=pa.int64()),
            "HEIGHT": pa.array(rng.choice([512, 640, 768, 1024], size=n_rows), type=pa.int64()),
        }
    )
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path)
    result = {}
    for n, p in zip(names, patterns, strict=True):
        result[n] = sum(k for q, k in zip(patterns, planted, strict=True) if q == p or _occurs(p, q))
    return result


def _strip_accents(text: str) -> str:
    return unicodedata.normalize("NFC", _COMBINING.sub("", unicodedata.normalize("NFD", text)))


def _occurs(pattern: str, text: str) -> bool:
    """Whether ``pattern`` occurs in ``text`` (both normalised) with no word character beside it."""
    start = text.find(pattern)
    while start >= 0:
        end = start + len(pattern)
        if (start == 0 or not _is_word(text[start - 1])) and (end == len(text) or not _is_word(text[end])):
            return True
        start = text.find(pattern, start + 1)
    return False


# -- real works -----------------------------------------------------------------------------------------


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
            key = int.from_bytes(hashlib.sha256(f"{seed}:{url}".encode()).digest()[:8], "big")
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


_MANIFEST = "manifest.csv"
_FILE = re.compile(r"^(\d{6})\.jpg$")


def download_real_works(
    urls: pd.DataFrame,
    out_dir: str | os.PathLike,
    *,
    image_size: int = 512,
    processes: int = 1,
    threads: int = 8,
    timeout: int = 10,
) -> pd.DataFrame:
    """Download real works with img2dataset into ``out_dir/<slug(artist)>/<NNNNNN>.jpg``.

    ``urls`` has columns ``artist`` and ``url`` (as :func:`sample_real_work_urls` returns). Images are
    re-encoded as JPEG, the shorter side resized down to ``image_size`` (never up). ``out_dir/manifest.csv``
    records which file each URL got, so a later call skips URLs whose file is present and retries the
    others. Hosts that forbid AI use (``X-Robots-Tag: noai`` and kin) are respected: those URLs fail.

    Returns one row per artist: ``requested`` (distinct URLs), ``already_present``, ``downloaded`` (new
    this call), ``failed`` and ``errors`` (the failure messages with their counts). Failures are never fatal.
    """
    for col in ("artist", "url"):
        if col not in urls.columns:
            raise AuditError(
                f"the URL table has no {col!r} column (columns: {list(urls.columns)})",
                where="download_real_works",
            )
    for key, value in (
        ("image_size", image_size),
        ("processes", processes),
        ("threads", threads),
        ("timeout", timeout),
    ):
        if not isinstance(value, (int, np.integer)) or value < 1:
            raise AuditError(
                f"{key} must be a whole number >= 1 (got {value!r})", where="download_real_works"
            )
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    wanted = urls[["artist", "url"]].dropna().astype(str)
    wanted = wanted.assign(artist=[clean_name(a, where="download_real_works") for a in wanted["artist"]])
    wanted = wanted.drop_duplicates().reset_index(drop=True)
    manifest = _read_manifest(out_dir)
    files = dict(zip(zip(manifest["artist"], manifest["url"], strict=True), manifest["file"], strict=True))
    next_number: dict[str, int] = {}
    todo, present = [], set()
    new_rows = []
    for artist, url in zip(wanted["artist"], wanted["url"], strict=True):
        rel = files.get((artist, url))
        if rel is None:
            folder = slug(artist)
            if folder not in next_number:
                next_number[folder] = _next_number(out_dir / folder, manifest, folder)
            rel = f"{folder}/{next_number[folder]:06d}.jpg"
            next_number[folder] += 1
            files[(artist, url)] = rel
            new_rows.append((artist, url, rel))
        if (out_dir / rel).is_file():
            present.add((artist, url))
        else:
            todo.append((artist, url, rel))
    if new_rows:
        manifest = pd.concat(
            [manifest, pd.DataFrame(new_rows, columns=["artist", "url", "file"])], ignore_index=True
        )
        write_table(manifest, out_dir / _MANIFEST)
    outcome = (
        _fetch(todo, out_dir, image_size=image_size, processes=processes, threads=threads, timeout=timeout)
        if todo
        else {}
    )
    records = []
    for artist, group in wanted.groupby("artist", sort=False):
        pairs = list(zip(group["artist"], group["url"], strict=True))
        already = sum(p in present for p in pairs)
        errors = Counter(outcome[p] for p in pairs if p not in present and outcome.get(p) is not None)
        downloaded = sum(p not in present and p in outcome and outcome[p] is None for p in pairs)
        records.append(
            {
                "artist": artist,
                "requested": len(pairs),
                "already_present": already,
                "downloaded": downloaded,
                "failed": len(pairs) - already - downloaded,
                "errors": "; ".join(f"{msg} ({n})" for msg, n in errors.most_common()),
            }
        )
    return pd.DataFrame(
        records, columns=["artist", "requested", "already_present", "downloaded", "failed", "errors"]
    )


def _read_manifest(out_dir: Path) -> pd.DataFrame:
    path = out_dir / _MANIFEST
    if not path.is_file():
        return pd.DataFrame(columns=["artist", "url", "file"], dtype=str)
    try:
        manifest = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise AuditError(
            f"cannot read the download manifest ({exc})",
            where=str(path),
            fix="delete it (images are then downloaded again)",
        ) from None
    if list(manifest.columns[:3]) != ["artist", "url", "file"]:
        raise AuditError(
            "the download manifest lacks the columns artist,url,file",
            where=str(path),
            fix="delete it (images are then downloaded again)",
        )
    return manifest


def _next_number(folder: Path, manifest: pd.DataFrame, folder_name: str) -> int:
    used = [-1]
    for rel in manifest["file"]:
        head, _, tail = rel.partition("/")
        m = _FILE.match(tail)
        if head == folder_name and m:
            used.append(int(m.group(1)))
    if folder.is_dir():
        used += [int(m.group(1)) for p in folder.iterdir() if (m := _FILE.match(p.name))]
    return max(used) + 1


def _fetch(
    todo, out_dir: Path, *, image_size, processes, threads, timeout
) -> dict[tuple[str, str], str | None]:
    """Run img2dataset on ``todo`` = [(artist, url, relative file)]; move successes into place.

    Returns ``{(artist, url): None}`` for a success, else the error message.
    """
    os.environ.setdefault(
        "NO_ALBUMENTATIONS_UPDATE", "1"
    )  # albumentations, imported by img2dataset, phones home
    try:
        from img2dataset import download
    except ImportError as exc:
        raise AuditError(
            f"img2dataset is not installed ({exc})",
            where="download_real_works",
            fix="pip install -e '.[download]'",
        ) from None
    if threading.current_thread() is not threading.main_thread():
        raise AuditError(
            "img2dataset must run in the main thread (it installs a signal handler)",
            where="download_real_works",
            fix="call download_real_works from the main thread",
        )
    work = Path(tempfile.mkdtemp(prefix=".img2dataset-", dir=out_dir))
    try:
        pq.write_table(
            pa.table({"url": [u for _, u, _ in todo], "target": [f for _, _, f in todo]}),
            work / "urls.parquet",
        )
        previous = signal.getsignal(signal.SIGINT)
        try:
            download(
                url_list=str(work / "urls.parquet"),
                output_folder=str(work / "out"),
                input_format="parquet",
                url_col="url",
                save_additional_columns=["target"],
                output_format="files",
                encode_format="jpg",
                image_size=int(image_size),
                resize_mode="keep_ratio",
                resize_only_if_bigger=True,
                processes_count=int(processes),
                thread_count=int(threads),
                timeout=int(timeout),
                retries=0,
                extract_exif=False,
                compute_hash=None,
                enable_wandb=False,
                # "overwrite" deletes the _tmp folder img2dataset has just made (1.47.0); the folder is new anyway
                incremental_mode="incremental",
                user_agent_token="imitation-audit",
            )
        finally:  # img2dataset's handler exits the interpreter on Ctrl-C; put the caller's back
            if previous is not None:  # None: a handler not installed from Python, which cannot be restored
                signal.signal(signal.SIGINT, previous)
        status: dict[str, str | None] = {}
        for shard in sorted((work / "out").glob("*.parquet")):
            meta = pq.read_table(shard, columns=["key", "status", "error_message", "target"]).to_pylist()
            for row in meta:
                image = shard.with_suffix("") / f"{row['key']}.jpg"
                if row["status"] == "success" and image.is_file():
                    dest = out_dir / row["target"]
                    dest.parent.mkdir(parents=True, exist_ok=True)
                    os.replace(image, dest)
                    status[row["target"]] = None
                else:
                    status[row["target"]] = row["error_message"] or row["status"] or "unknown error"
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return {(a, u): status.get(f, "not attempted (img2dataset shard failed)") for a, u, f in todo}


# -- stage 01 -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class StageResult:
    """What stage 01 produced, for the notebook."""

    table: pd.DataFrame
    artists: list[str]
    random_names: pd.DataFrame
    real_works: pd.DataFrame
    excluded_validation: pd.DataFrame
    note: str | None


def run_stage(params) -> StageResult:
    """Count, select, draw the random names and find the real works; write the run's name tables.

    Writes ``tables/selection.csv`` (every candidate, with the reason for each exclusion),
    ``artists.csv`` (the selected artists, at most ``artists.limit`` in file order), ``random_names.csv``
    and, unless stand-ins are used, ``real_works.csv``.
    """
    from . import validation
    from .names import random_names
    from .params import resolve_path

    paths, s = params.paths, params.selection
    candidates = read_candidates(resolve_path(params.artists.file))
    names = candidates["artist"].tolist()
    note = None
    if s.synthetic:
        metadata = paths.root / "metadata" / "synthetic.parquet"
        make_synthetic_metadata(metadata, names, seed=params.seed)
        note = "synthetic caption metadata with planted counts (smoke profile)"
    elif s.metadata is not None:
        metadata = resolve_path(s.metadata)
    else:
        metadata = None
        note = "no caption metadata: counts not verified"
    counts = None
    if metadata is not None:
        counts = count_mentions(
            str(metadata), names, caption_column=s.caption_column, score_column=s.score_column, min_score=s.min_score
        )
    table = select(
        candidates, counts, min_images=s.min_images, require_alive=s.require_alive,
        require_online_presence=s.require_online_presence,
    )  # fmt: skip
    chosen = table[table["selected"]]
    if params.artists.limit is not None:
        chosen = chosen.head(params.artists.limit)
    if chosen.empty:
        raise AuditError(
            f"no candidate of {len(table)} meets the selection criteria",
            where=str(params.artists.file),
            fix="lower selection.min_images, check the curation columns, or point selection.metadata at more captions",
        )
    artists = chosen["artist"].tolist()
    write_table(table, paths.selection_csv)
    write_table(
        pd.DataFrame({"artist": artists, "slug": [slug(a) for a in artists], "caption_count": chosen["caption_count"].tolist()}),
        paths.artists_csv,
    )
    rn = random_names(params.random_names.count or len(artists), seed=params.random_names.seed,
                      locales=params.random_names.locales, exclude=names)  # fmt: skip
    baseline = pd.DataFrame({"name": rn, "slug": [slug(n) for n in rn]})
    write_table(baseline, paths.random_names_csv)
    works, excluded = validation.prepare_real_works(params, artists)
    return StageResult(table, artists, baseline, works, excluded, note)


# -- command line ---------------------------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m helpers.selection",
        description="Count caption mentions of candidate artists in parquet metadata and select artists.",
    )
    p.add_argument(
        "--metadata", help="parquet file, folder or glob of caption metadata (omit: counts not verified)"
    )
    p.add_argument("--artists", required=True, help="CSV of candidates: artist[,alive,online_presence]")
    p.add_argument("--out", required=True, help="selection CSV to write")
    p.add_argument(
        "--min-images", type=int, default=100, help="selected when strictly more captions (default 100)"
    )
    p.add_argument("--caption-column", default="TEXT")
    p.add_argument("--score-column")
    p.add_argument("--min-score", type=float)
    p.add_argument("--threads", type=int, help="DuckDB threads (default: all cores)")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    return p


@exit_on_error
def main(argv: Sequence[str] | None = None) -> None:
    """Command line: ``python -m helpers.selection --metadata GLOB --artists CSV --out CSV``."""
    args = _parser().parse_args(argv)
    candidates = read_candidates(args.artists)
    counts = None
    if args.metadata is not None:
        counts = count_mentions(
            args.metadata,
            candidates["artist"],
            caption_column=args.caption_column,
            score_column=args.score_column,
            min_score=args.min_score,
            threads=args.threads,
            progress=not args.no_progress,
        )
    table = select(candidates, counts, min_images=args.min_images)
    write_table(table, Path(args.out))
    print(
        f"{int(table['selected'].sum())} of {len(table)} candidates selected -> {args.out}", file=sys.stderr
    )


if __name__ == "__main__":
    main()
