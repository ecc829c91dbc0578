"""The matching rule, written plainly: the text names are matched in, and what counts as a word character.

A caption *mentions* a name when the name's normalised text occurs in the caption's
normalised text (:func:`normalize_text`) with no *word character* immediately before or after it. A word
character is a Unicode letter, mark or number (general category L*, M*, N*) or ``_`` — except characters of
scripts written without spaces between words (CJK ideographs, kana, Hangul, Bopomofo, Thai, Lao, Khmer,
Myanmar), which never block a match, since a name there is followed by text with no space. So "Sam Yang"
does not match "Samyang" or "Sam Yangson", "Loish" does not match "Loishes", and "Loish风格" matches.
A caption counts once per name, however often it repeats the name. A name inside another name counts
only at word boundaries: "Ross Tran" is not found in "Ross Tranquility", "Rutkowski" is found in
"Greg Rutkowski" (so a caption can count for both).

These functions are the specification: :mod:`.fold` and :mod:`.matcher` compute the same thing faster,
and the tests compare them with it.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from functools import lru_cache

__all__ = ["normalize_text", "normalize_texts", "is_word", "occurs", "strip_accents"]

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
    return normalize_texts([text])[0]


def normalize_texts(texts: list[str]) -> list[str]:
    """:func:`normalize_text` of each text, with one call of each Unicode normalisation for them all."""
    if not texts:
        return []
    joined = _normalize_core(_SEP.join(text.replace(_SEP, " ") for text in texts))
    return [" ".join(part.split()) for part in _CONTROL_RE.sub(" ", joined).split(_SEP)]


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
def is_word(char: str) -> bool:
    """True for a character that, next to a name, makes the occurrence part of a longer word."""
    if char == "_":
        return True
    if unicodedata.category(char)[0] not in "LMN":
        return False
    code = ord(char)
    i = bisect.bisect_right(_UNSPACED_STARTS, code) - 1
    return not (i >= 0 and code <= _UNSPACED[i][1])


def strip_accents(text: str) -> str:
    return unicodedata.normalize("NFC", _COMBINING.sub("", unicodedata.normalize("NFD", text)))


def occurs(pattern: str, text: str) -> bool:
    """Whether ``pattern`` occurs in ``text`` (both normalised) with no word character beside it."""
    start = text.find(pattern)
    while start >= 0:
        end = start + len(pattern)
        if (start == 0 or not is_word(text[start - 1])) and (end == len(text) or not is_word(text[end])):
            return True
        start = text.find(pattern, start + 1)
    return False
