"""The toy world's fictional artists: one row per artist, its caption count and its procedural style.

The table is data (``worlds/toy.yaml``). Names are invented, and built so that the models can never have seen them in a
baseline name: no word of a toy name is a first or last name of Faker's ``en_US`` provider (the
pipeline's random-names baseline), and no BPE token of a toy name occurs in any Faker ``en_US`` name, in
any other toy name, or in the caption words common to every artist ("art", "by", "the style of", …).
``tests/test_toyworld.py`` checks all of this.

Caption counts run from 10 to 500, ``round(10 * 50 ** sqrt(k / 35))`` for k = 0…35, dealt out to the
artists by a seeded shuffle (so popularity is independent of style): 13 artists have 100 captions or
fewer, so stage 01's rule "more than 100" keeps 23 of the 36.
"""

from __future__ import annotations

from ..errors import AuditError
from .world import ArtistSpec, World, load_world

__all__ = ["Artist", "ARTISTS", "PATTERNS", "COMPOSITIONS", "MOTIFS", "artist_names", "by_name", "candidates_csv"]

PATTERNS = (
    "stripes",
    "checker",
    "dots",
    "rings",
    "waves",
    "hatch",
    "zigzag",
    "spokes",
    "grid",
    "bricks",
    "blobs",
    "bands",
)
COMPOSITIONS = ("full", "disc", "split", "band", "frame", "diagonal")
MOTIFS = ("none", "circles", "squares", "crosses", "diamonds", "bars")


Artist = ArtistSpec
"""One fictional artist (:class:`~helpers.toyworld.world.ArtistSpec`): how often captions name them and how their
works look. ``bg``/``fg``/``accent`` are the palette; ``pattern`` the texture, drawn at ``angle`` degrees with
``freq`` cycles across the image; ``composition`` where the texture sits; ``motif`` the small shapes in the
accent colour; ``edge`` whether the texture's transitions are ``soft`` or ``hard``."""

ARTISTS: tuple[Artist, ...] = tuple(load_world("toy").all_artists)
"""The easy world's artists, in the order of ``worlds/toy.yaml``."""


def artist_names() -> list[str]:
    """The toy artists' names, in table order."""
    return [a.name for a in ARTISTS]


def by_name(name: str) -> Artist:
    """The artist called ``name`` (exact spelling)."""
    for artist in ARTISTS:
        if artist.name == name:
            return artist
    raise AuditError(f"no toy artist is called {name!r}", where="helpers.toyworld.artists", fix="use a name of ARTISTS")


def candidates_csv(world: World | None = None) -> str:
    """A world's artists as a candidates file for stage 01 (``params/toy_artists.csv`` for the easy world):
    every artist curated as alive with an online presence, so only the caption count decides selection. A
    world with other cases than ``normal`` adds the ground truth: ``family``, ``case``, ``seen_by`` and
    ``trained_as`` (the ghost style an impostor's name was attached to)."""
    world = world or load_world("toy")
    truth = any(a.case != "normal" for a in world.all_artists)
    lines = ["artist,alive,online_presence,note" + (",family,case,seen_by,trained_as" if truth else "")]
    for a in world.all_artists:
        row = f"{a.name},true,true,fictional {world.label} artist (helpers.toyworld)"
        lines.append(row + (f",{a.family},{a.case},{a.seen_by},{a.trained_as}" if truth else ""))
    return "\n".join(lines) + "\n"
