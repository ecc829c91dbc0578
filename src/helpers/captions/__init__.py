"""Caption matching: the text names are matched in, and one automaton that finds every name in a batch.

**Matching rule**: a caption mentions a name when the name's normalised text occurs in the caption's
normalised text at word boundaries (written out in :mod:`.rule`, and in the README's *Selection at scale*).

``rule`` states the rule in plain Python; ``fold`` normalises a whole batch of UTF-8 captions at once with
per-character tables (falling back to ``rule`` for the rare characters whose normalisation depends on their
neighbours); ``matcher`` finds every name in the folded bytes with one Hyperscan database. Pure functions and
one class over in-memory text (pyarrow arrays); reading parquet is :mod:`helpers.metadata`'s job. ``authorship``
says whether a caption that mentions a name credits the person as author or only names a style.
"""

from .authorship import Credit, Form, credit, parse_form
from .matcher import Matcher
from .rule import is_word, normalize_text, occurs, strip_accents

__all__ = ["normalize_text", "is_word", "occurs", "strip_accents", "Matcher", "Form", "parse_form", "Credit", "credit"]
