"""The building blocks of the params schema (:mod:`helpers.schema`): the base of every section, the constrained
types, the statistics' choices (named once: :mod:`helpers.stats` and :mod:`helpers.significance` take these
types) and the prompt placeholder."""

from __future__ import annotations

from typing import Annotated, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "Section",
    "PositiveInt",
    "NonNegativeInt",
    "Label",
    "Probability",
    "Interval",
    "Correction",
    "Aggregate",
    "INTERVALS",
    "CORRECTIONS",
    "AGGREGATES",
    "ARTIST_PLACEHOLDER",
    "render_prompt",
    "check_template",
    "distinct",
]

ARTIST_PLACEHOLDER = "{artist}"
PositiveInt = Annotated[int, Field(gt=0, strict=True)]
Label = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,47}$")]
"""A short name used in tables and folder names: letters, digits, ``_ . -``."""
NonNegativeInt = Annotated[int, Field(ge=0, strict=True)]
Probability = Annotated[float, Field(gt=0, lt=1)]
# The choices of the statistics, named once: helpers.stats and helpers.significance take these types.
Interval = Literal["wilson", "exact"]
Correction = Literal["bonferroni", "holm", "fdr_bh"]
Aggregate = Literal["mean", "max", "median"]
INTERVALS, CORRECTIONS, AGGREGATES = get_args(Interval), get_args(Correction), get_args(Aggregate)


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)


def render_prompt(template: str, name: str) -> str:
    """The prompt for ``name``: the template with every ``{artist}`` replaced (no other formatting)."""
    return template.replace(ARTIST_PLACEHOLDER, name)


def check_template(value: str) -> str:
    if ARTIST_PLACEHOLDER not in value:
        raise ValueError(
            f"template {value!r} has no {ARTIST_PLACEHOLDER} placeholder; write e.g. 'Artwork from {{artist}}'"
        )
    return value


def distinct(values: list, what: str) -> list:
    seen = [v for i, v in enumerate(values) if v in values[:i]]
    if seen:
        raise ValueError(f"{what} repeat {seen[0]!r}: give each value once")
    return values
