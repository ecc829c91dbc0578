"""One Hyperscan database over the normalised names: every (caption, name) mention in a batch of captions.

A batch is scanned in up to four passes, each over one UTF-8 buffer:

1. the ASCII captions as they are (where they are most of the batch, every caption, the mentions found in
   the others dropped): the database is caseless, so of the rule only control characters, backticks and
   runs of spaces are left, and a flag pattern in the same database marks the captions that hold any;
2. the non-ASCII captions after :func:`.fold.fold` has replaced their non-ASCII characters (flagged alike);
3. the flagged captions, folded entirely;
4. the captions with a character the fold cannot take, through :func:`.rule.normalize_texts`.

Hyperscan reports every occurrence of every name (overlapping ones included) without holding the GIL;
numpy keeps those that lie inside one caption with no word character beside them, and de-duplicates.
A database of :data:`_CACHED` names or more is compiled once and then read from ``CACHE_DIR/hyperscan/``.
"""

from __future__ import annotations

import contextlib
import hashlib
import platform
import threading
from collections.abc import Sequence

import numpy as np
import pyarrow as pa

from .. import paths as _paths
from ..errors import AuditError
from .fold import _decode, fold
from .rule import is_word, normalize_texts

__all__ = ["Matcher"]

_EMPTY = np.empty(0, dtype=np.int64)
_SLICE = 131_072  # captions per pass (about 8 MB of LAION-like text)


class Matcher:
    """Finds, in batches of captions, which caption mentions which name. One instance serves any number of
    threads at once (each gets its own Hyperscan scratch space)."""

    def __init__(self, names: Sequence[str]):
        self.names = list(names)
        patterns: dict[str, int] = {}
        self.pattern_of_name = np.empty(len(self.names), dtype=np.int64)
        for i, (name, pattern) in enumerate(zip(self.names, normalize_texts(self.names), strict=True)):
            if not pattern:
                raise AuditError(
                    f"name {name!r} is empty after normalisation (only marks or spaces)",
                    where="names",
                    fix="write the name with letters",
                )
            self.pattern_of_name[i] = patterns.setdefault(pattern, len(patterns))
        self.patterns = list(patterns)
        self.names_of_pattern: list[list[int]] = [[] for _ in self.patterns]
        for i, p in enumerate(self.pattern_of_name.tolist()):
            self.names_of_pattern[p].append(i)
        encoded = [p.encode("utf-8") for p in self.patterns]
        self.byte_lengths = np.array([len(p) for p in encoded], dtype=np.int64)
        self._database = _compile(encoded) if encoded else None
        self._local = threading.local()  # Hyperscan scratch space: one per thread

    def find(self, captions: pa.Array) -> tuple[np.ndarray, np.ndarray]:
        """Distinct (row, pattern id) pairs, sorted: row ``r`` of ``captions`` (text, no nulls) mentions
        pattern ``p``."""
        if len(captions) == 0 or self._database is None:
            return _EMPTY, _EMPTY
        captions = _text_array(captions)
        if len(captions) > _SLICE:  # a few MB at a time: every pass over the bytes finds them in the cache
            found = [self.find(captions.slice(i, _SLICE)) for i in range(0, len(captions), _SLICE)]
            rows = np.concatenate([r + i * _SLICE for i, (r, _) in enumerate(found)])
            return rows, np.concatenate([p for _, p in found])
        return self._find(captions)

    def _find(self, captions: pa.Array) -> tuple[np.ndarray, np.ndarray]:
        data, offsets = _utf8(captions)
        other = _non_ascii(data, offsets)
        redo: list[np.ndarray] = []
        # the ASCII captions as they are (the scan is caseless); it flags the few that need more. Where they
        # are most of the batch, every caption is scanned in place and the mentions in the others dropped
        if 4 * other.size <= len(captions):
            found = [self._scan(data, offsets, redo, skip=other)]
        else:  # mostly non-ASCII: the ASCII captions alone, rather than most bytes twice
            ascii_ = np.ones(len(captions), dtype=bool)
            ascii_[other] = False
            plain = np.flatnonzero(ascii_)
            found = [self._scan(*_utf8(captions.take(pa.array(plain))), redo, rows=plain)]
        slow: list[np.ndarray] = []
        if other.size:
            text, offsets, unfolded = fold(*_utf8(captions.take(pa.array(other))), full=False)
            found.append(self._scan(text, offsets, redo, rows=other, skip=unfolded))
            slow.append(other[unfolded])
        again = _distinct(np.concatenate(redo)) if redo else _EMPTY
        if again.size:  # control characters, backticks, runs of spaces: the whole rule, in numpy
            text, offsets, unfolded = fold(*_utf8(captions.take(pa.array(again))), full=True)
            found.append(self._scan(text, offsets, None, rows=again, skip=unfolded))
            slow.append(again[unfolded])
        rows = _distinct(np.concatenate(slow)) if slow else _EMPTY
        if rows.size:  # characters whose normalisation depends on their neighbours: the rule itself
            encoded = [c.encode("utf-8") for c in normalize_texts(captions.take(pa.array(rows)).to_pylist())]
            offsets = np.concatenate([[0], np.cumsum([len(e) for e in encoded])]).astype(np.int64)
            found.append(self._scan(np.frombuffer(b"".join(encoded), dtype=np.uint8), offsets, None, rows=rows))
        # each scan left out the captions it flagged or could not fold, which a later scan covered
        keys = _distinct(np.concatenate([r * len(self.patterns) + p for r, p in found]))
        return keys // len(self.patterns), keys % len(self.patterns)

    def _scan(self, text: np.ndarray, offsets: np.ndarray, flagged: list | None, *, rows=None, skip=None):
        """Mentions in folded UTF-8 ``text`` whose captions are ``text[offsets[i]:offsets[i + 1]]``: (row,
        pattern id) pairs, rows renumbered through ``rows``, captions ``skip`` left out. With a list
        ``flagged``, captions with a control character, a backtick or two spaces in a row are left out too
        and appended to it (renumbered); without one, ``text`` is fully normalised and nothing is flagged."""
        if len(text) == 0:
            return _EMPTY, _EMPTY
        import hyperscan

        scratch = getattr(self._local, "scratch", None)
        if scratch is None:
            scratch = self._local.scratch = hyperscan.Scratch(self._database)
        hits: list[int] = []
        add = hits.append
        n = len(self.patterns) + 1  # the last id is the flag
        self._database.scan(text, match_event_handler=lambda pid, _s, end, _f, _c: add(end * n + pid), scratch=scratch)
        code = np.array(hits, dtype=np.int64)
        end, pid = code // n, code % n  # end is exclusive
        flag = pid == n - 1
        left_out = np.zeros(len(offsets) - 1, dtype=bool)
        if skip is not None:
            left_out[skip] = True
        if flagged is not None and flag.any():
            marked = np.searchsorted(offsets, end[flag] - 1, side="right") - 1
            marked = _distinct(marked[~left_out[marked]])
            flagged.append(marked if rows is None else rows[marked])
            left_out[marked] = True
        end, pid = end[~flag], pid[~flag]
        start = end - self.byte_lengths[pid]
        row = np.searchsorted(offsets, start, side="right") - 1
        ok = (end <= offsets[row + 1]) & ~left_out[row]
        check_before = ok & (start > offsets[row])
        check_after = ok & (end < offsets[row + 1])
        ok[check_before] &= ~_words(text, _char_before(text, start[check_before]))
        ok[check_after] &= ~_words(text, end[check_after])
        keys = _distinct(row[ok] * n + pid[ok])
        found_rows, pids = keys // n, keys % n
        return (found_rows if rows is None else rows[found_rows]), pids


_FLAG = rb"[\x00-\x1f\x7f`]|\x20\x20"  # what a caseless scan of unfolded text cannot take as it is
_ESCAPED = [bytes([c]) if chr(c).isascii() and chr(c).isalnum() else b"\\x%02x" % c for c in range(256)]


_CACHED = 256
"""From this many patterns the compiled database is kept under ``CACHE_DIR/hyperscan/``, keyed by its patterns
and Hyperscan's version: compiling 3,000 names takes about 0.1 s, loading them 0.1 ms."""


def _compile(patterns: list[bytes]):
    """Every pattern as a caseless expression (every byte but letters and digits escaped), then the flag."""
    import hyperscan

    expressions = [*(b"".join(map(_ESCAPED.__getitem__, p)) for p in patterns), _FLAG]
    if len(patterns) < _CACHED:
        return _build(expressions)
    key = hashlib.sha256(repr((hyperscan.__version__, platform.machine(), expressions)).encode()).hexdigest()
    path = _paths.CACHE_DIR / "hyperscan" / f"{key[:32]}.db"
    try:
        return hyperscan.loadb(path.read_bytes(), hyperscan.HS_MODE_BLOCK)
    except (OSError, hyperscan.error):  # not cached yet, or unusable here (another processor): compile
        pass
    database = _build(expressions)
    from ..files import atomic_write_bytes

    with contextlib.suppress(OSError):  # a read-only cache only costs the compile next time
        atomic_write_bytes(path, hyperscan.dumpb(database))
    return database


def _build(expressions: list[bytes]):
    import hyperscan

    database = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
    database.compile(
        expressions=expressions,
        ids=list(range(len(expressions))),
        elements=len(expressions),
        flags=hyperscan.HS_FLAG_CASELESS,
    )
    return database


def _text_array(arr) -> pa.Array:
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
        arr = arr.cast(pa.large_string())
    return arr


def _utf8(arr: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """The UTF-8 bytes of a text array and its offsets from 0, without copying the bytes."""
    width = np.int64 if pa.types.is_large_string(arr.type) else np.int32
    _, offsets_buf, data_buf = arr.buffers()
    offsets = np.frombuffer(offsets_buf, dtype=width)[arr.offset : arr.offset + len(arr) + 1].astype(np.int64)
    if data_buf is None:
        return np.empty(0, dtype=np.uint8), offsets - offsets[0]
    data = np.frombuffer(data_buf, dtype=np.uint8)[offsets[0] : offsets[-1]]
    return data, offsets - offsets[0]


_HIGH = np.uint64(0x8080808080808080)


def _non_ascii(data: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """The sorted indices of the captions ``data[offsets[i]:offsets[i + 1]]`` that hold a byte above 127, and
    of some of their neighbours (the non-ASCII passes take those as well as the ASCII pass does): every
    caption that shares an 8-byte word with such a byte, read a word at a time."""
    whole = len(data) // 8 * 8
    words = np.flatnonzero((data[:whole].view(np.uint64) & _HIGH) != 0)
    if (data[whole:] >= 0x80).any():  # the last bytes, as one more word
        words = np.append(words, whole // 8)
    first = np.searchsorted(offsets, 8 * words, side="right") - 1
    last = np.minimum(np.searchsorted(offsets, 8 * words + 7, side="right") - 1, len(offsets) - 2)
    marked = np.zeros(len(offsets) - 1, dtype=bool)
    for k in range(int((last - first).max(initial=0)) + 1):  # a word can hold the end of one caption and more
        marked[(first + k)[first + k <= last]] = True
    return np.flatnonzero(marked)


def _distinct(values: np.ndarray) -> np.ndarray:
    """The distinct values, sorted (``np.unique`` without its overhead on the small arrays met here)."""
    values = np.sort(values)
    return values[np.concatenate([[True], values[1:] != values[:-1]])] if values.size else values


def _char_before(text: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """The start of the UTF-8 character that ends just before each position."""
    at = positions - 1
    for _ in range(3):
        cont = (text[at] & 0xC0) == 0x80
        at[cont] -= 1
    return at


_WORD = np.zeros(0x110000, dtype=np.uint8)  # 0 unknown, 1 word character, 2 not; filled as characters are met


def _words(text: np.ndarray, at: np.ndarray) -> np.ndarray:
    """Whether the UTF-8 character starting at each position is a word character."""
    if not at.size:
        return np.zeros(0, dtype=bool)
    b0 = text[at].astype(np.int32)
    cps = b0.copy()
    multi = b0 >= 0xC0
    if multi.any():
        cps[multi] = _decode(text, at[multi])[0]
    flags = _WORD[cps]
    unknown = flags == 0
    if unknown.any():
        for cp in np.unique(cps[unknown]).tolist():
            _WORD[cp] = 1 if is_word(chr(cp)) else 2
        flags = _WORD[cps]
    return flags == 1
