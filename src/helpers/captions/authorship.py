"""Authorship, not mention: does a caption credit an artist as the author of its image?

A caption that mentions a name may credit the person ("art by X", "X's painting") or only refer to a style
("in the style of X", "inspired by X", "X style"). A *form* is a phrase with one ``{artist}`` placeholder;
it matches an occurrence of the name (found by the matching rule of :mod:`.rule`) when the caption's
normalised text holds the form's words right before and after it, with no word character beside them. A
caption credits the artist when some credit form matches and no style form matches any occurrence of the
name: a style form always wins ("painting inspired by X" is not "by X").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .rule import is_word, normalize_text

__all__ = ["Form", "parse_form", "Credit", "credit"]

PLACEHOLDER = "{artist}"


@dataclass(frozen=True)
class Form:
    """A form as written (``text``) and its normalised words before and after the name, each with the space
    that joins it to the name (``"by "``, ``"'s painting"``, ``" style"``)."""

    text: str
    before: str
    after: str


def parse_form(text: str) -> Form:
    """The :class:`Form` of ``text``; a ``ValueError`` unless it holds ``{artist}`` exactly once."""
    if text.count(PLACEHOLDER) != 1:
        raise ValueError(f"form {text!r} must hold {PLACEHOLDER} exactly once, e.g. 'art by {{artist}}'")
    head, tail = text.split(PLACEHOLDER)
    before, after = normalize_text(head), normalize_text(tail)
    before += " " if before and head[-1:].isspace() else ""
    after = (" " if after and tail[:1].isspace() else "") + after
    return Form(text, before, after)


def _at(form: Form, text: str, start: int, end: int) -> bool:
    """Whether ``form`` matches the occurrence ``text[start:end]`` of a name."""
    head = start - len(form.before)
    if head < 0 or text[head:start] != form.before or (head > 0 and form.before and is_word(text[head - 1])):
        return False
    tail = end + len(form.after)
    return text[end:tail] == form.after and not (form.after and tail < len(text) and is_word(text[tail]))


def _occurrences(name: str, text: str) -> list[tuple[int, int]]:
    found, start = [], text.find(name)
    while start >= 0:
        end = start + len(name)
        if (start == 0 or not is_word(text[start - 1])) and (end == len(text) or not is_word(text[end])):
            found.append((start, end))
        start = text.find(name, start + 1)
    return found


@dataclass(frozen=True)
class Credit:
    """The verdict on one caption for one name: ``form`` (the credit form that matched, the longest when
    several do) or ``None`` with ``reason`` ``style reference`` or ``no credit form``."""

    form: str | None
    reason: str


def credit(caption: str, name: str, credits: Sequence[Form], styles: Sequence[Form]) -> Credit:
    """Whether ``caption`` credits ``name`` as author (see the module docstring)."""
    text = normalize_text(caption)
    spots = _occurrences(normalize_text(name), text)
    if any(_at(f, text, s, e) for f in styles for s, e in spots):
        return Credit(None, "style reference")
    matched = [f for f in credits if any(_at(f, text, s, e) for s, e in spots)]
    if not matched:
        return Credit(None, "no credit form")
    return Credit(max(matched, key=lambda f: len(f.before) + len(f.after)).text, "")
