"""The toy world's fictional artists: one row per artist, its caption count and its procedural style.

The table is data. Names are invented, and built so that the models can never have seen them in a
baseline name: no word of a toy name is a first or last name of Faker's ``en_US`` provider (the
pipeline's random-names baseline), and no BPE token of a toy name occurs in any Faker ``en_US`` name, in
any other toy name, or in the caption words common to every artist ("art", "by", "the style of", …).
``tests/test_toyworld.py`` checks all of this.

Caption counts run from 10 to 500, ``round(10 * 50 ** sqrt(k / 35))`` for k = 0…35, dealt out to the
artists by a seeded shuffle (so popularity is independent of style): 13 artists have 100 captions or
fewer, so stage 01's rule "more than 100" keeps 23 of the 36.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import AuditError

__all__ = ["Artist", "ARTISTS", "PATTERNS", "COMPOSITIONS", "MOTIFS", "artist_names", "by_name", "candidates_csv"]

PATTERNS = ("stripes", "checker", "dots", "rings", "waves", "hatch", "zigzag", "spokes", "grid", "bricks", "blobs", "bands")
COMPOSITIONS = ("full", "disc", "split", "band", "frame", "diagonal")
MOTIFS = ("none", "circles", "squares", "crosses", "diamonds", "bars")


@dataclass(frozen=True)
class Artist:
    """One fictional artist: how often captions name them and how their works look.

    ``bg``/``fg``/``accent`` are the palette; ``pattern`` the texture, drawn at ``angle`` degrees with
    ``freq`` cycles across the image; ``composition`` where the texture sits; ``motif`` the small shapes
    in the accent colour; ``edge`` whether the texture's transitions are ``soft`` or ``hard``.
    """

    name: str
    caption_count: int
    bg: str
    fg: str
    accent: str
    pattern: str
    angle: float
    freq: float
    composition: str
    motif: str
    edge: str


# name, caption_count, bg, fg, accent, pattern, angle, freq, composition, motif, edge
_TABLE = (
    ("Vexira Vornath", 179, "#0b5de6", "#40311a", "#ffb2f5", "stripes", 0, 2.5, "full", "none", "soft"),
    ("Quiux Nazanth", 238, "#4c0b4c", "#97f73e", "#d91a16", "checker", 30, 3.5, "disc", "bars", "soft"),
    ("Gloine Ixebbek", 153, "#f7d6cb", "#07438c", "#1dbf25", "dots", 0, 5.0, "split", "diamonds", "hard"),
    ("Quelivar Thraro", 473, "#cae60b", "#1e1a40", "#b2ffe2", "rings", 45, 7.0, "band", "crosses", "hard"),
    ("Pelloon Braeath", 81, "#0b0b4c", "#f79e3e", "#d916d5", "waves", 120, 2.5, "frame", "squares", "soft"),
    ("Zeboon Myrellast", 31, "#cbf7d6", "#8c0743", "#251dbf", "hatch", 150, 3.5, "diagonal", "circles", "soft"),
    ("Tyrix Havixek", 397, "#2c0b4c", "#f4f73e", "#d91673", "zigzag", 30, 5.0, "full", "none", "hard"),
    ("Fenost Bryordow", 374, "#eccbf7", "#078c0e", "#bf761d", "spokes", 45, 7.0, "disc", "bars", "hard"),
    ("Droix Umbulmley", 141, "#0b4c2c", "#f73ef4", "#1673d9", "grid", 90, 2.5, "split", "diamonds", "soft"),
    ("Lorvira Quelemaley", 58, "#4c0b2c", "#3ef742", "#d97b16", "bricks", 120, 3.5, "band", "crosses", "soft"),
    ("Fyrane Quenell", 255, "#f7cbec", "#078c50", "#b7bf1d", "blobs", 0, 5.0, "frame", "squares", "hard"),
    ("Sevayne Braeaskow", 65, "#e60bca", "#1a401e", "#ffe2b2", "bands", 0, 7.0, "diagonal", "circles", "hard"),
    ("Throst Keshulmow", 51, "#4c2c0b", "#3ef4f7", "#73d916", "stripes", 60, 3.5, "split", "circles", "soft"),
    ("Urzell Ephema", 19, "#e6270b", "#1a3b40", "#cfffb2", "checker", 90, 5.0, "band", "none", "soft"),
    ("Gwylebb Thrixley", 273, "#0b4c0b", "#9e3ef7", "#16d5d9", "dots", 0, 7.0, "frame", "bars", "hard"),
    ("Daxuvi Haveth", 129, "#2c4c0b", "#423ef7", "#16d97b", "rings", 45, 2.5, "diagonal", "diamonds", "hard"),
    ("Tevine Raskiramar", 99, "#4c4c0b", "#3e97f7", "#16d91a", "waves", 0, 3.5, "full", "crosses", "soft"),
    ("Pellesk Sevineow", 25, "#4c0b0b", "#3ef79e", "#d5d916", "hatch", 30, 5.0, "disc", "squares", "soft"),
    ("Ozrith Quarrow", 109, "#0be694", "#401a28", "#bcb2ff", "zigzag", 90, 7.0, "split", "circles", "hard"),
    ("Ulvix Morvane", 119, "#ecf7cb", "#50078c", "#1db7bf", "spokes", 45, 2.5, "band", "none", "hard"),
    ("Ephelm Krevostow", 500, "#f7cbd6", "#07868c", "#66bf1d", "grid", 150, 3.5, "frame", "bars", "soft"),
    ("Umbord Jaxelmek", 90, "#d6f7cb", "#8c0786", "#1d66bf", "bricks", 0, 5.0, "diagonal", "diamonds", "soft"),
    ("Nixane Bryask", 291, "#e6940b", "#1a2840", "#b2ffbc", "blobs", 0, 7.0, "full", "crosses", "hard"),
    ("Zanema Zoroon", 10, "#cbecf7", "#8c5007", "#bf1db7", "bands", 60, 2.5, "disc", "squares", "hard"),
    ("Threlm Rydoss", 73, "#f7eccb", "#0e078c", "#1dbf76", "stripes", 120, 5.0, "frame", "squares", "soft"),
    ("Skalorth Wendimar", 421, "#cbf7ec", "#8c0e07", "#761dbf", "checker", 150, 7.0, "diagonal", "circles", "soft"),
    ("Kaddrith Pomello", 311, "#5de60b", "#311a40", "#b2f5ff", "dots", 0, 2.5, "full", "none", "hard"),
    ("Sprune Ladderwyn", 222, "#cbd6f7", "#868c07", "#bf1d66", "rings", 45, 3.5, "disc", "bars", "hard"),
    ("Brumwick Taldrisp", 192, "#0bcae6", "#401e1a", "#e2b2ff", "waves", 60, 5.0, "split", "diamonds", "soft"),
    ("Kwazzle Dornaby", 331, "#e60b5d", "#1a4031", "#f5ffb2", "hatch", 90, 7.0, "band", "crosses", "soft"),
    ("Wexmoor Ilthane", 38, "#0be627", "#401a3b", "#b2cfff", "zigzag", 150, 2.5, "frame", "squares", "hard"),
    ("Hobnail Quist", 352, "#0b4c4c", "#f73e97", "#1a16d9", "spokes", 45, 3.5, "diagonal", "circles", "hard"),
    ("Ambergrave Toxil", 446, "#940be6", "#28401a", "#ffbcb2", "grid", 30, 5.0, "full", "none", "soft"),
    ("Plovis Sternwhip", 165, "#270be6", "#3b401a", "#ffb2cf", "bricks", 60, 7.0, "disc", "bars", "soft"),
    ("Oomzar Kettrip", 44, "#d6cbf7", "#438c07", "#bf251d", "blobs", 0, 2.5, "split", "diamonds", "hard"),
    ("Caulbrae Mendoch", 207, "#0b2c4c", "#f7423e", "#7b16d9", "bands", 120, 3.5, "band", "crosses", "hard"),
)

ARTISTS: tuple[Artist, ...] = tuple(Artist(*row) for row in _TABLE)


def artist_names() -> list[str]:
    """The toy artists' names, in table order."""
    return [a.name for a in ARTISTS]


def by_name(name: str) -> Artist:
    """The artist called ``name`` (exact spelling)."""
    for artist in ARTISTS:
        if artist.name == name:
            return artist
    raise AuditError(f"no toy artist is called {name!r}", where="helpers.toyworld.artists", fix="use a name of ARTISTS")


def candidates_csv() -> str:
    """The toy artists as a candidates file for stage 01 (``params/toy_artists.csv``): every artist
    curated as alive with an online presence, so only the caption count decides selection."""
    lines = ["artist,alive,online_presence,note"]
    lines += [f"{a.name},true,true,fictional toy-world artist (helpers.toyworld)" for a in ARTISTS]
    return "\n".join(lines) + "\n"
