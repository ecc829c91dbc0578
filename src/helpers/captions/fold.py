""":func:`.rule.normalize_text` for a whole batch of UTF-8 captions at once, with numpy and lookup tables.

For most characters the rule's normalisation is a fixed replacement that does not depend on the neighbours:
lower-casing, accents dropped, curly quotes straightened, full-width forms narrowed, whitespace made a
space. Unicode normalisation is context-free across a boundary where the next character decomposes to a
*starter* (canonical combining class 0) that never composes with what precedes it, so a caption made only
of such characters normalises to the concatenation of its characters' normalisations. :func:`fold`
applies that per-character replacement to the bytes of a batch, in place where the replacement is not
longer than the character, then collapses runs of spaces. Captions holding any other character (a
combining mark, a Hangul vowel jamo, a replacement longer than its character such as "½" → "1⁄2") are
returned as *slow* rows, for :func:`.rule.normalize_text` itself.

The tables are filled lazily, per process, for the characters met; ASCII needs none.
"""

from __future__ import annotations

import threading
import unicodedata

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .rule import (
    _BEFORE_NFKC,
    _COMBINING,
    _CONTROL_RE,
    _LETTERS,
    _LETTERS_RE,
    _TYPOGRAPHIC,
    _TYPOGRAPHIC_RE,
    _normalize_core,
    _sub,
)

__all__ = ["fold", "ASCII_TABLE", "char_kind"]

# Every ASCII byte on its own: letters lower-cased, the backtick an apostrophe, control characters and NUL a
# space (they are whitespace or become spaces in the rule); bytes of non-ASCII characters are left alone.
ASCII_TABLE = np.arange(256, dtype=np.uint8)
ASCII_TABLE[65:91] += 32
ASCII_TABLE[[*range(32), 127]] = 32
ASCII_TABLE[ord("`")] = ord("'")

_UNKNOWN, _KEPT, _REPLACED, _SLOW = 0, 1, 2, 3
_SPACE = 32
_N = 0x110000


class _Tables:
    """Per code point: its kind, and for a replaced one its UTF-8 replacement (little-endian in a uint32)."""

    def __init__(self):
        self.kind = np.zeros(_N, dtype=np.uint8)  # calloc'd: pages are touched only for characters met
        self.rep = np.zeros(_N, dtype=np.uint32)
        self.rep_len = np.zeros(_N, dtype=np.uint8)
        self.kind[:128] = _KEPT  # ASCII goes through ASCII_TABLE
        self.kind[0xD800:0xE000] = _SLOW  # surrogates cannot occur in valid UTF-8

    def learn(self, cps: np.ndarray) -> None:
        with _LOCK:  # threads share the tables: a kind is written only after its replacement
            for cp in np.unique(cps).tolist():
                kind, rep = char_kind(cp)
                if kind == _REPLACED:
                    self.rep[cp] = int.from_bytes(rep.ljust(4, b"\0"), "little")
                    self.rep_len[cp] = len(rep)
                self.kind[cp] = kind


_TABLES: _Tables | None = None
_LOCK = threading.Lock()


def _tables() -> _Tables:
    global _TABLES
    if _TABLES is None:
        with _LOCK:
            if _TABLES is None:
                _TABLES = _Tables()
    return _TABLES


def _starts_clean(text: str, form: str, *, composing: bool) -> bool:
    """Whether ``text`` is empty or, in ``form``, starts with a starter (combining class 0) that, when
    ``composing``, no canonical composition joins to a preceding character (those are all marks, category
    M*, and the Hangul vowel and trailing-consonant jamo, whose composition is algorithmic)."""
    decomposed = unicodedata.normalize(form, text)
    if not decomposed:
        return True
    first = decomposed[0]
    if unicodedata.combining(first):
        return False
    if not composing:
        return True
    code = ord(first)
    return unicodedata.category(first)[0] != "M" and not (0x1161 <= code <= 0x1175 or 0x11A8 <= code <= 0x11C2)


def char_kind(cp: int) -> tuple[int, bytes]:
    """``(kind, replacement)`` for one code point: kept as it is, replaced by these UTF-8 bytes (whitespace
    and control characters as a space), or slow (its normalisation may depend on its neighbours, or the
    replacement is longer than the character)."""
    char = chr(cp)
    raw = char.encode("utf-8", "surrogatepass")
    # the rule's steps (rule._normalize_core), checking before each Unicode normalisation that it cannot join
    # this character's text to a neighbour's
    text = _BEFORE_NFKC.get(char, char)
    if not _starts_clean(text, "NFKD", composing=True):  # NFKC
        return _SLOW, b""
    folded = unicodedata.normalize("NFKC", text)
    folded = _sub(_TYPOGRAPHIC_RE, _TYPOGRAPHIC, folded).casefold()
    if not _starts_clean(folded, "NFKD", composing=False):  # NFKD
        return _SLOW, b""
    stripped = _sub(_LETTERS_RE, _LETTERS, _COMBINING.sub("", unicodedata.normalize("NFKD", folded)))
    if not _starts_clean(stripped, "NFD", composing=True):  # NFC
        return _SLOW, b""
    out = unicodedata.normalize("NFC", stripped)
    if out != _normalize_core(char):  # cannot happen while the steps above mirror the rule's
        return _SLOW, b""
    out = "".join(" " if ch.isspace() or _CONTROL_RE.match(ch) else ch for ch in out)
    rep = out.encode("utf-8")
    if len(rep) > len(raw):
        return _SLOW, b""
    return (_KEPT, b"") if rep == raw else (_REPLACED, rep)


def fold(data: np.ndarray, offsets: np.ndarray, *, full: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Normalise the captions ``data[offsets[i]:offsets[i + 1]]`` (valid UTF-8, ``offsets[0] == 0``).

    Returns ``(text, offsets, slow)``: the normalised bytes and their offsets (whitespace runs are one space;
    a caption may keep one space at either end, which changes no match), and the sorted indices of the
    captions that this fast path cannot normalise — their bytes in ``text`` are meaningless.

    With ``full=False`` only the non-ASCII characters are replaced: ASCII letters keep their case, and
    control characters, backticks and runs of spaces stay (a caseless scan that flags those captions, as
    :class:`.matcher.Matcher` does, completes the rule); ``data`` itself is returned when nothing changes.
    """
    text = ASCII_TABLE[data] if full else data
    offsets = np.asarray(offsets, dtype=np.int64)
    slow = np.empty(0, dtype=np.int64)
    lead = np.flatnonzero(data >= 0xC0)
    if lead.size:
        cps, width = _decode(data, lead)
        t = _tables()
        kind = t.kind[cps]
        unknown = kind == _UNKNOWN
        if unknown.any():
            t.learn(cps[unknown])
            kind = t.kind[cps]
        is_slow = kind == _SLOW
        if is_slow.any():
            slow = np.unique(np.searchsorted(offsets, lead[is_slow], side="right") - 1)
        replaced = np.flatnonzero(kind == _REPLACED)
        if replaced.size:
            at, code = lead[replaced], cps[replaced]
            n, m, rep = width[replaced], t.rep_len[code].astype(np.int64), t.rep[code]
            if text is data:
                text = data.copy()
            for k in range(int(m.max())):  # a replacement is never longer than its character
                put = m > k
                text[at[put] + k] = (rep[put] >> (8 * k)) & 0xFF
            shrink = n - m
            if shrink.any():  # drop each shrinking character's trailing bytes
                keep = np.ones(len(text), dtype=bool)
                for k in (1, 2, 3):
                    keep[at[(m <= k) & (n > k)] + k] = False
                # bytes dropped before each character; characters never straddle captions
                dropped = np.concatenate([[0], np.cumsum(shrink)])
                offsets = offsets - dropped[np.searchsorted(at, offsets)]
                text = _compress(text, keep)
    if full:
        spaces = text == _SPACE
        runs = np.flatnonzero(spaces[1:] & spaces[:-1])
        if runs.size:
            text, offsets = _delete(text, offsets, runs + 1)
    return text, offsets, slow


def _decode(data: np.ndarray, lead: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Code points and byte widths of the multi-byte UTF-8 characters starting at ``lead``."""
    b0 = data[lead].astype(np.int32)
    cps = ((b0 & 0x1F) << 6) | (data[lead + 1] & 0x3F)  # two bytes, the common case
    width = np.full(len(lead), 2, dtype=np.int64)
    longer = np.flatnonzero(b0 >= 0xE0)
    if longer.size:
        at, b = lead[longer], b0[longer]
        three = ((b & 0x0F) << 12) | ((data[at + 1] & 0x3F).astype(np.int32) << 6) | (data[at + 2] & 0x3F)
        four = b >= 0xF0
        at4 = at[four]
        three[four] = (
            ((b[four] & 0x07) << 18)
            | ((data[at4 + 1] & 0x3F).astype(np.int32) << 12)
            | ((data[at4 + 2] & 0x3F).astype(np.int32) << 6)
            | (data[at4 + 3] & 0x3F)
        )
        cps[longer] = three
        width[longer] = 3 + four
    return cps, width


def _delete(text: np.ndarray, offsets: np.ndarray, gone: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``text`` without the (sorted, distinct) positions ``gone``, and the offsets moved to match."""
    if not gone.size:
        return text, offsets
    keep = np.ones(len(text), dtype=bool)
    keep[gone] = False
    return _compress(text, keep), offsets - np.searchsorted(gone, offsets)


def _compress(text: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """``text[keep]`` (read-only), by Arrow's filter on a bitmap: faster than numpy on long byte arrays."""
    mask = pa.BooleanArray.from_buffers(
        pa.bool_(), len(keep), [None, pa.py_buffer(np.packbits(keep, bitorder="little"))]
    )
    kept = pc.filter(pa.UInt8Array.from_buffers(pa.uint8(), len(text), [None, pa.py_buffer(text)]), mask)
    return np.frombuffer(kept.buffers()[1], dtype=np.uint8, count=len(kept), offset=kept.offset)
