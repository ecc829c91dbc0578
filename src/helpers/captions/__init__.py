"""Caption matching: the text names are matched in, and one automaton that finds every name in a batch.

**Matching rule.** A caption *mentions* a name when the name's normalised text occurs in the caption's
normalised text (:func:`normalize_text`) with no *word character* immediately before or after it. A word
character is a Unicode letter, mark or number (general category L*, M*, N*) or ``_`` — except characters of
scripts written without spaces between words (CJK ideographs, kana, Hangul, Bopomofo, Thai, Lao, Khmer,
Myanmar), which never block a match, since a name there is followed by text with no space. So "Sam Yang"
does not match "Samyang" or "Sam Yangson", "Loish" does not match "Loishes", and "Loish风格" matches.
A caption counts once per name, however often it repeats the name. A name inside another name counts
only at word boundaries: "Ross Tran" is not found in "Ross Tranquility", "Rutkowski" is found in
"Greg Rutkowski" (so a caption can count for both).

``rule`` states the rule in plain Python; ``fold`` normalises a whole batch of UTF-8 captions at once with
per-character tables (falling back to ``rule`` for the rare characters whose normalisation depends on their
neighbours); ``matcher`` finds every name in the folded bytes with one Hyperscan database. Pure functions and
one class over in-memory text (pyarrow arrays); reading parquet is :mod:`helpers.metadata`'s job.
"""

from .matcher import Matcher
from .rule import is_word, normalize_text, occurs, strip_accents

__all__ = ["normalize_text", "is_word", "occurs", "strip_accents", "Matcher"]
