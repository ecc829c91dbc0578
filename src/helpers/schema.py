"""The params schema: a params YAML file validated into typed objects. The defaults here are the only defaults.

A params file is data, never code. :func:`load` reads it, checks every key and type, checks that the files
it names exist (relative paths are relative to the project root), and raises one
:class:`~helpers.errors.AuditError` line that names the key and the fix for anything wrong — before any
model is loaded. What is inside those files (the artists' rows, the models) is checked by the code that
reads them (stage 01, :mod:`helpers.models`), which the runner asks before anything runs.

A run measures one or more *configurations* (:class:`Configuration`): one generator, prompt template,
encoder and label template each. The list-valued keys leave room for sweeps; a run measures one of each
today, and a longer list is refused with a clear message rather than half-run.
"""

from __future__ import annotations

from dataclasses import dataclass
from glob import glob
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .errors import AuditError
from .files import json_digest
from .paths import RunPaths, resolve_path

__all__ = [
    "Params",
    "GeneratorSpec",
    "EncoderSpec",
    "GenerationParams",
    "Configuration",
    "load",
    "render_prompt",
    "ARTIST_PLACEHOLDER",
    "Interval",
    "Correction",
    "Aggregate",
]

ARTIST_PLACEHOLDER = "{artist}"
PositiveInt = Annotated[int, Field(gt=0, strict=True)]
NonNegativeInt = Annotated[int, Field(ge=0, strict=True)]
Probability = Annotated[float, Field(gt=0, lt=1)]
# The choices of the statistics, named once: helpers.stats and helpers.significance take these types.
Interval = Literal["wilson", "exact"]
Correction = Literal["bonferroni", "holm", "fdr_bh"]
Aggregate = Literal["mean", "max", "median"]
INTERVALS, CORRECTIONS, AGGREGATES = get_args(Interval), get_args(Correction), get_args(Aggregate)


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)


def render_prompt(template: str, name: str) -> str:
    """The prompt for ``name``: the template with every ``{artist}`` replaced (no other formatting)."""
    return template.replace(ARTIST_PLACEHOLDER, name)


def _check_template(value: str) -> str:
    if ARTIST_PLACEHOLDER not in value:
        raise ValueError(f"template {value!r} has no {ARTIST_PLACEHOLDER} placeholder; write e.g. 'Artwork from {{artist}}'")
    return value


class ArtistsParams(_Section):
    file: str = "params/artists.csv"
    """CSV of candidate artists: column ``artist`` and the curation columns ``alive``, ``online_presence``."""
    limit: PositiveInt | None = None
    """Keep only the first N selected artists (in file order); ``null`` keeps all."""


class SelectionParams(_Section):
    metadata: str | None = None
    """Parquet caption metadata (a file, a folder or a glob). ``null``: no count check, every curated
    candidate is taken and the run records ``selection_verified: false``."""
    synthetic: bool = False
    """Write a small synthetic metadata parquet with planted counts into the run folder and scan that
    (the smoke profile: real LAION metadata is not available offline)."""
    caption_column: str = "TEXT"
    score_column: str | None = None
    min_score: float | None = None
    min_images: NonNegativeInt = 100
    """An artist is selected when strictly more than this many captions mention them (paper: 100)."""
    require_alive: bool = True
    require_online_presence: bool = True

    @model_validator(mode="after")
    def _score(self):
        if self.min_score is not None and self.score_column is None:
            raise ValueError("min_score needs score_column (the aesthetic-score column of the metadata)")
        if self.synthetic and self.metadata is not None:
            raise ValueError("set either metadata (real captions) or synthetic: true, not both")
        return self


class RandomNamesParams(_Section):
    count: PositiveInt | None = None
    """How many non-artist names; ``null`` means as many as selected artists (the paper's design)."""
    locales: list[str] = Field(default_factory=lambda: ["en_US"], min_length=1)
    seed: NonNegativeInt = 0


class GeneratorSpec(_Section):
    name: str = "sd-v1-5"
    """Short label for tables and folders."""
    source: Literal["hub", "local", "tiny"] = "hub"
    """``hub``: a Hugging Face repo id (downloaded or from the local HF cache); ``local``: a folder saved
    with ``save_pretrained``; ``tiny``: a small random-weight pipeline built in code (tests, smoke)."""
    model: str = "stable-diffusion-v1-5/stable-diffusion-v1-5"
    revision: str | None = None
    allow_pickle: bool = False
    """Weights load from safetensors only. ``true`` permits pickle ``.bin`` checkpoints, which can run
    code when loaded: only for checkpoints you trust."""

    @property
    def random_weights(self) -> bool:
        """True for the small random-weight models built in code."""
        return self.source == "tiny"


class EncoderSpec(_Section):
    name: str = "clip-vit-l-14-openai"
    source: Literal["open_clip", "local", "tiny"] = "open_clip"
    """``open_clip``: architecture ``model`` with pretrained tag ``pretrained``; ``local``: a folder with
    ``open_clip_config.json`` and ``open_clip_model.safetensors``; ``tiny``: small random weights."""
    model: str = "ViT-L-14"
    pretrained: str | None = "openai"
    allow_pickle: bool = False

    @property
    def random_weights(self) -> bool:
        """True for tiny models and for an open_clip architecture without a pretrained tag."""
        return self.source == "tiny" or (self.source == "open_clip" and self.pretrained is None)


class GenerationParams(_Section):
    generators: list[GeneratorSpec] = Field(default_factory=lambda: [GeneratorSpec()], min_length=1)
    templates: list[Annotated[str, Field(min_length=1)]] = Field(
        default_factory=lambda: ["Artwork from {artist}"], min_length=1
    )
    images_per_name: PositiveInt = 10
    height: PositiveInt = 512
    width: PositiveInt = 512
    steps: PositiveInt = 50
    guidance_scale: Annotated[float, Field(ge=0)] = 7.5
    scheduler: Literal["pndm", "ddim", "euler", "dpm"] = "pndm"
    negative_prompt: str = ""
    batch_size: PositiveInt = 8
    device: str = "auto"
    dtype: Literal["auto", "float32", "float16", "bfloat16"] = "auto"
    safety_checker: bool = False
    """SD's safety checker replaces flagged images with black ones, which biases the measurement; off by
    default. Turning it on records how many images were blacked out."""
    channels_last: bool = True
    compile: bool = False
    vae_slicing: bool = False
    vae_tiling: bool = False

    @field_validator("templates")
    @classmethod
    def _templates(cls, v: list[str]) -> list[str]:
        return [_check_template(t) for t in v]

    @model_validator(mode="after")
    def _shape(self):
        if self.height % 8 or self.width % 8:
            raise ValueError(f"height and width must be multiples of 8 (got {self.height}x{self.width})")
        return self


class EncodingParams(_Section):
    encoders: list[EncoderSpec] = Field(default_factory=lambda: [EncoderSpec()], min_length=1)
    batch_size: PositiveInt = 64
    num_workers: NonNegativeInt = 2
    device: str = "auto"
    dtype: Literal["auto", "float32", "float16", "bfloat16"] = "auto"


class ClassificationParams(_Section):
    label_template: str = "Artwork from {artist}"
    """Text whose embedding stands for each name (the label prompts)."""
    top_k: PositiveInt = 5
    interval: Interval = "wilson"
    confidence: Probability = 0.95
    bootstrap: PositiveInt = 10_000
    permutations: PositiveInt = 10_000
    subsample_repeats: PositiveInt = 200
    """Seeded subsamples per size for the sample-size curve."""

    @field_validator("label_template")
    @classmethod
    def _template(cls, v: str) -> str:
        return _check_template(v)


class ValidationParams(_Section):
    real_works_dir: str | None = "data/real_works"
    """Folder with one subfolder per artist (named as the artist, or the artist's slug) of real works."""
    standin: bool = False
    """Smoke only: stand-in "real" works made by the tiny generator with seeds disjoint from the
    imitations. Every table and figure then says so."""
    standin_per_artist: PositiveInt = 3
    min_works: PositiveInt = 1
    max_works: PositiveInt = 20
    skip_bad_files: bool = False
    """A corrupt, empty, non-image or outside-linking file in a real-works folder stops the run unless
    this is ``true``; then it is skipped and listed in tables/real_works_skipped.csv."""
    """At most this many real works per artist, a seeded sample when there are more."""
    aggregate: Aggregate = "mean"
    """How the similarities of an artist's several real works to one imitation become one number."""
    correction: Correction = "bonferroni"
    alpha: Probability = 0.05

    @model_validator(mode="after")
    def _source(self):
        if not self.standin and self.real_works_dir is None:
            raise ValueError("set real_works_dir (a folder per artist) or standin: true")
        if self.max_works < self.min_works:
            raise ValueError(f"max_works ({self.max_works}) is below min_works ({self.min_works})")
        return self


class Params(_Section):
    """All settings of one run. ``run`` names the folder ``outputs/<run>/``."""

    run: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")]
    seed: NonNegativeInt = 0
    description: str = ""
    artists: ArtistsParams = Field(default_factory=ArtistsParams)
    selection: SelectionParams = Field(default_factory=SelectionParams)
    random_names: RandomNamesParams = Field(default_factory=RandomNamesParams)
    generation: GenerationParams = Field(default_factory=GenerationParams)
    encoding: EncodingParams = Field(default_factory=EncodingParams)
    classification: ClassificationParams = Field(default_factory=ClassificationParams)
    validation: ValidationParams = Field(default_factory=ValidationParams)

    @model_validator(mode="after")
    def _tiny_has_no_safety_checker(self):
        if self.generation.safety_checker and any(g.source == "tiny" for g in self.generation.generators):
            raise ValueError("generation.safety_checker: tiny generators have no safety checker; set it to false")
        return self

    @model_validator(mode="after")
    def _one_of_each(self):  # sweeps: issue 11
        for key, items in (
            ("generation.generators", self.generation.generators),
            ("generation.templates", self.generation.templates),
            ("encoding.encoders", self.encoding.encoders),
        ):
            if len(items) != 1:
                raise ValueError(
                    f"{key} lists {len(items)} entries; this version runs one per run — "
                    "make one params file per setting (the list form is reserved for sweeps)"
                )
        return self

    # -- derived, never set by hand -------------------------------------------------------------
    @property
    def configurations(self) -> list[Configuration]:
        """The configurations this run measures (one today; see the module docstring)."""
        return [
            Configuration(
                name=None,
                generator=self.generation.generators[0],
                template=self.generation.templates[0],
                seed=self.seed,
                encoder=self.encoding.encoders[0],
                label_template=self.classification.label_template,
            )
        ]

    @property
    def weights(self) -> Literal["pretrained", "random"]:
        """``random`` when any model has random weights: such a run measures nothing about real models."""
        specs = [*self.generation.generators, *self.encoding.encoders]
        return "random" if any(s.random_weights for s in specs) else "pretrained"

    @property
    def paths(self) -> RunPaths:
        return RunPaths.for_run(self.run)

    def digest(self) -> str:
        """SHA-256 of the canonical JSON of these settings."""
        return json_digest(self.model_dump())


@dataclass(frozen=True)
class Configuration:
    """One measured setting: a generator with a prompt template and a generation seed, an encoder, and the
    label template names are classified by. ``name`` is ``None`` in a run of one configuration, whose
    results live in the run folder itself (:meth:`RunPaths.config`)."""

    name: str | None
    generator: GeneratorSpec
    template: str
    seed: int
    encoder: EncoderSpec
    label_template: str
    generation_key: str | None = None
    """The images folder this configuration reads: ``None`` for the run's only one, ``images/``."""



def _format(err: ValidationError, source: str) -> AuditError:
    first = err.errors()[0]
    loc = ".".join(str(x) for x in first["loc"]) or "(top level)"
    kind, msg = first["type"], first["msg"]
    if kind == "extra_forbidden":
        what, fix = f"unknown key '{loc}'", "remove it or correct its spelling (see params/paper.yaml for every key)"
    elif kind == "missing":
        what, fix = f"missing required key '{loc}'", f"add '{loc}:' to the file"
    else:
        got = first.get("input")
        shown = "" if isinstance(got, (dict, list)) else f" (got {got!r})"
        what, fix = f"'{loc}': {msg.removeprefix('Value error, ')}{shown}", "correct the value"
    more = len(err.errors()) - 1
    if more:
        what += f" (and {more} more problem{'s' if more > 1 else ''})"
    return AuditError(what, where=source, fix=fix)


def load(source: str | Path | dict[str, Any], *, check_files: bool = True) -> Params:
    """Read and validate params from a YAML file (or an already-parsed mapping).

    With ``check_files``, every file the params name must exist and be readable (the artists CSV, the
    metadata glob) — so a typo fails here, not an hour into a run.
    """
    if isinstance(source, dict):
        where, data = "params", source
    else:
        path = resolve_path(source)
        where = str(source)
        if not path.is_file():
            raise AuditError(f"params file {path} does not exist", where=where, fix="pass an existing file, e.g. params/smoke.yaml")
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (yaml.YAMLError, UnicodeDecodeError) as exc:
            raise AuditError(f"not valid YAML ({' '.join(str(exc).split())})", where=where, fix="correct the YAML syntax") from None
        except OSError as exc:
            raise AuditError(f"cannot read params file ({exc.strerror})", where=where, fix="check its permissions") from None
    if not isinstance(data, dict):
        raise AuditError("a params file must be a mapping of keys to values", where=where, fix="start from params/smoke.yaml")
    try:
        params = Params.model_validate(data)
    except ValidationError as err:
        raise _format(err, where) from None
    if check_files:
        _check_files(params, where)
    return params


def _check_files(params: Params, where: str) -> None:
    artists = resolve_path(params.artists.file)
    if not artists.is_file():
        raise AuditError(
            f"'artists.file' names {artists}, which does not exist",
            where=where,
            fix="point it at a CSV with an 'artist' column (params/artists.csv is the default)",
        )
    if params.selection.metadata is not None:
        pattern = str(resolve_path(params.selection.metadata))
        if not (Path(pattern).is_dir() or glob(pattern)):
            raise AuditError(
                f"'selection.metadata' matches no file: {pattern}",
                where=where,
                fix="point it at LAION-aesthetics parquet files (a file, folder or glob), or set it to null",
            )
    specs = [(s, f"generation.generators[{i}]") for i, s in enumerate(params.generation.generators)]
    specs += [(s, f"encoding.encoders[{i}]") for i, s in enumerate(params.encoding.encoders)]
    for spec, key in specs:
        if spec.source == "local" and not resolve_path(spec.model).is_dir():
            raise AuditError(
                f"'{key}.model' is a local folder that does not exist: {resolve_path(spec.model)}",
                where=where,
                fix="save the model there first, or use source: hub",
            )
