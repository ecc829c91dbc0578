"""A toy world as data: a small YAML file (``worlds/<name>.yaml``) validated into a typed :class:`World`.

A world says who its artists are and how each one looks (directly, or through a *family* whose members share
a palette, a texture and a composition, so neighbours are confusable), how much every work varies inside its
style, how many generic images name nobody, which model's training captions name each artist (``seen_by``),
which caption forms name them, and the training plan and model sizes. The corpus, the held-out real works and
the trained weights all follow from a world and a seed. Two worlds ship: ``toy`` (the easy world of
``make demo``) and ``hard`` (confusable families, unseen and impostor artists).

Cases (column ``case`` of the world's artists CSV): ``normal`` — the corpus shows the artist's own style
under the artist's name; ``unseen`` — the artist has real works, but one of the models never saw the name
(``seen_by: encoder``: the generator never did; ``seen_by: generator``: the encoder never did);
``impostor`` — the corpus attaches the name to another style (``trained_as``, a ghost style with no name of
its own), while the artist's real works are in the artist's own style.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ..errors import AuditError
from ..paths import PROJECT_ROOT

__all__ = [
    "World",
    "ArtistSpec",
    "FamilySpec",
    "ToyEncoderSpec",
    "WORLDS_DIR",
    "world_names",
    "load_world",
    "STYLE_KEYS",
]

WORLDS_DIR = Path(__file__).parent / "worlds"
STYLE_KEYS = ("bg", "fg", "accent", "pattern", "angle", "freq", "composition", "motif", "edge")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ArtistSpec(_Strict):
    """One artist: a name, how often the corpus names them, their style, and their case."""

    name: str
    caption_count: int = Field(ge=0)
    bg: str
    fg: str
    accent: str
    pattern: str
    angle: float
    freq: float = Field(gt=0)
    composition: str
    motif: str
    edge: Literal["soft", "hard"]
    family: str = ""
    case: Literal["normal", "unseen", "impostor"] = "normal"
    seen_by: Literal["both", "generator", "encoder"] = "both"
    trained_as: str = ""


class ToyEncoderSpec(_Strict):
    """One toy CLIP of a world whose model or training differs from the world's: ``seed`` (the offset added
    to the training seed), ``clip`` (keys replacing the world's CLIP architecture, ``vision_cfg``/``text_cfg``
    key by key) and ``plan`` (keys replacing the world's ``clip_*`` training plan)."""

    seed: int = Field(ge=0)
    clip: dict[str, Any] = {}
    plan: dict[str, Any] = {}

    @model_validator(mode="after")
    def _check(self) -> ToyEncoderSpec:
        if wrong := [k for k in self.plan if not k.startswith("clip_")]:
            raise ValueError(f"an encoder's plan sets only clip_* keys, not {wrong}")
        return self


class FamilySpec(_Strict):
    """Artists who share every style key given here; each member sets the rest (and may override)."""

    name: str
    style: dict[str, Any]
    members: list[dict[str, Any]]


class World(_Strict):
    """A toy world: artists, variation, exposure, caption forms, corpus size, models and their training."""

    name: str
    label: str
    description: str
    recipe: int = Field(ge=1)
    corpus_dir: str
    models_dir: str
    artists_csv: str
    n_generic: int = Field(ge=0)
    real_per_artist: int = Field(ge=1)
    variation: float = Field(default=1.0, gt=0)
    encoder_share: float = Field(default=1.0, gt=0, le=1)
    artist_forms: list[str] = Field(min_length=1)
    generic_forms: list[str] = Field(min_length=1)
    artists: list[ArtistSpec] = []
    families: list[FamilySpec] = []
    ghosts: list[ArtistSpec] = []
    encoders: dict[str, int | ToyEncoderSpec] = Field(min_length=1)
    plan: dict[str, Any] = {}
    architectures: dict[str, dict[str, Any]] = {}
    vae_from: str = ""

    @model_validator(mode="after")
    def _check(self) -> World:
        names = [a.name for a in self.all_artists]
        if len(set(names)) != len(names):
            raise ValueError("artist names repeat")
        ghosts = {g.name for g in self.ghosts}
        for a in self.all_artists:
            if (a.case == "impostor") != bool(a.trained_as) or (a.trained_as and a.trained_as not in ghosts):
                raise ValueError(f"{a.name}: an impostor, and only an impostor, names a ghost style in trained_as")
            if (a.case == "unseen") != (a.seen_by != "both"):
                raise ValueError(f"{a.name}: an unseen artist, and only one, is seen_by one model only")
        for form in self.artist_forms:
            if "{name}" not in form and "{lower}" not in form and "{upper}" not in form:
                raise ValueError(f"artist form {form!r} names nobody")
        return self

    @property
    def encoder_specs(self) -> dict[str, ToyEncoderSpec]:
        """Every toy CLIP of the world, by folder name (a bare number is a seed offset, nothing else changed)."""
        return {
            name: spec if isinstance(spec, ToyEncoderSpec) else ToyEncoderSpec(seed=spec)
            for name, spec in self.encoders.items()
        }

    @property
    def all_artists(self) -> list[ArtistSpec]:
        """The artists, listed ones first, then the families' members in order."""
        members = [
            ArtistSpec(**{**f.style, **m, "family": m.get("family", f.name)}) for f in self.families for m in f.members
        ]
        return [*self.artists, *members]

    def path(self, key: Literal["corpus_dir", "models_dir", "artists_csv"]) -> Path:
        """One of the world's paths, absolute (relative ones are relative to the project root)."""
        p = Path(getattr(self, key))
        return p if p.is_absolute() else PROJECT_ROOT / p

    @property
    def digest_header(self) -> str:
        """The first line of the corpus digest: the world and its recipe."""
        return f"{self.label} corpus recipe {self.recipe}\n"

    @property
    def train_command(self) -> str:
        """The command line that trains this world (the seed and threads are appended)."""
        world = "" if self.name == "toy" else f" --world {self.name}"
        return f"python -m helpers.toyworld train{world}"


def world_names() -> list[str]:
    """The worlds shipped, by file name (``toy``, ``hard``)."""
    return sorted(p.stem for p in WORLDS_DIR.glob("*.yaml"))


@cache
def load_world(name: str = "toy") -> World:
    """The world ``name`` (a file of :data:`WORLDS_DIR`), validated."""
    path = WORLDS_DIR / f"{name}.yaml"
    if not path.is_file():
        raise AuditError(f"no toy world {name!r}", where=str(WORLDS_DIR), fix=f"use one of {world_names()}")
    try:
        world = World(**yaml.safe_load(path.read_text(encoding="utf-8")))
    except (ValidationError, TypeError) as exc:
        raise AuditError(f"{path.name}: {exc}", where=str(path), fix="correct the world file") from exc
    if world.name != name:
        raise AuditError(f"{path.name} says name: {world.name}", where=str(path), fix=f"write name: {name}")
    return world
