"""The params schema: a params YAML file validated into typed objects. The defaults here are the only defaults.

A params file is data, never code. :func:`load` reads it, checks every key and type, checks that the files
it names exist (relative paths are relative to the project root), and raises one
:class:`~helpers.errors.AuditError` line that names the key and the fix for anything wrong — before any
model is loaded. What is inside those files (the artists' rows, the models) is checked by the code that
reads them (stage 01, :mod:`helpers.models`), which the runner asks before anything runs.

A run measures one or more *configurations* (:class:`Configuration`), the product of seven lists, in the
order of :meth:`Params._axes` (the last, ``transforms``, is ``none`` then each chain). A configuration is
named by the lists that hold more than one value: generator, encoder and transform ``name``, ``t<i>``/``l<i>``
for the i-th template/label template, ``s<seed>``, ``w<n>``, joined by ``_``: ``sd-v1-5_t2_s1_clip-vit-b-32``.
"""

from __future__ import annotations

from dataclasses import dataclass
from glob import glob
from itertools import product
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import Field, ValidationError, field_validator, model_validator

from .errors import AuditError
from .files import json_digest
from .paper import PAPER_RULE
from .paths import RunPaths, resolve_path
from .schema_types import (  # noqa: F401
    AGGREGATES,
    ARTIST_PLACEHOLDER,
    CORRECTIONS,
    INTERVALS,
    Aggregate,
    Correction,
    Interval,
    Label,
    NonNegativeInt,
    PositiveInt,
    Probability,
    Section,
    check_template,
    distinct,
    render_prompt,
)
from .specs import NO_TRANSFORM, STEPS, EncoderSpec, GeneratorSpec, Scheduler, TransformSpec

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
    "CREDIT_FORMS",
    "STYLE_FORMS",
    "TransformSpec",
    "NO_TRANSFORM",
]


class ArtistsParams(Section):
    file: str = "params/artists.csv"
    """CSV of candidate artists: column ``artist`` and the curation columns ``alive``, ``online_presence``."""
    limit: PositiveInt | None = None
    """Keep only the first N selected artists (in file order); ``null`` keeps all."""


class SelectionParams(Section):
    metadata: str | None = None
    """Parquet caption metadata (a file, a folder or a glob). ``null``: no count check, every curated
    candidate is taken and the run records ``selection_verified: false``."""
    synthetic: bool = False
    """Write a small synthetic metadata parquet with planted counts into the run folder and scan that
    (the smoke profile: real LAION metadata is not available offline)."""
    caption_column: str = "TEXT"
    score_column: str | None = None
    min_score: float | None = None
    min_images: NonNegativeInt = PAPER_RULE
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


class RandomNamesParams(Section):
    count: PositiveInt | None = None
    """How many non-artist names; ``null`` means as many as selected artists (the paper's design)."""
    locales: list[str] = Field(default_factory=lambda: ["en_US"], min_length=1)
    seed: NonNegativeInt = 0


class GenerationParams(Section):
    generators: list[GeneratorSpec] = Field(default_factory=lambda: [GeneratorSpec()], min_length=1)
    templates: list[Annotated[str, Field(min_length=1)]] = Field(
        default_factory=lambda: ["Artwork from {artist}"], min_length=1
    )
    seeds: list[NonNegativeInt] | None = None
    """Generation seeds: the same generation repeated with each (a sweep axis). ``null``: the run's ``seed``."""
    images_per_name: PositiveInt = 10
    height: PositiveInt = 512
    width: PositiveInt = 512
    steps: PositiveInt = 50
    guidance_scale: Annotated[float, Field(ge=0)] = 7.5
    scheduler: Scheduler = "pndm"
    """``default`` keeps the model's own scheduler; the others replace it, built from its config."""
    negative_prompt: str = ""
    batch_size: PositiveInt = 8
    device: str = "auto"
    dtype: Literal["auto", "float32", "float16", "bfloat16"] = "auto"
    cpu_threads: PositiveInt | Literal["all"] = "all"
    """Generation on a CPU: ``all`` uses every core a process has (its share when several processes run) —
    fastest; a number fixes the threads per process. CPU float results depend on the thread count, so only
    a fixed count (``1``) gives images byte-identical whatever the number of processes; the count used is in
    each image's fingerprint. No effect on a GPU."""
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
        return distinct([check_template(t) for t in v], "templates")

    @model_validator(mode="after")
    def _shape(self):
        distinct([g.name for g in self.generators], "generator names")
        distinct(self.seeds or [], "seeds")
        for spec in [None, *self.generators]:
            h, w = self.call_settings(spec)["height"], self.call_settings(spec)["width"]
            if h % 8 or w % 8:
                raise ValueError(f"height and width must be multiples of 8 (got {h}x{w})")
        return self

    def call_settings(self, spec: GeneratorSpec | None) -> dict[str, Any]:
        """The steps, guidance scale, size and scheduler ``spec`` is called with: its own where it sets
        them, else this section's."""
        names = ("steps", "guidance_scale", "height", "width", "scheduler")
        own = {} if spec is None else {k: getattr(spec, k) for k in names if getattr(spec, k) is not None}
        return {k: own.get(k, getattr(self, k)) for k in names}


class EncodingParams(Section):
    encoders: list[EncoderSpec] = Field(default_factory=lambda: [EncoderSpec()], min_length=1)

    @field_validator("encoders")
    @classmethod
    def _names(cls, v: list[EncoderSpec]) -> list[EncoderSpec]:
        distinct([e.name for e in v], "encoder names")
        return v

    batch_size: PositiveInt = 64
    num_workers: NonNegativeInt = 2
    device: str = "auto"
    dtype: Literal["auto", "float32", "float16", "bfloat16"] = "auto"


class ClassificationParams(Section):
    label_templates: list[Annotated[str, Field(min_length=1)]] = Field(
        default_factory=lambda: ["Artwork from {artist}"], min_length=1
    )
    """Texts whose embedding stands for each name (the label prompts), one configuration each."""
    top_k: PositiveInt = 5
    interval: Interval = "wilson"
    confidence: Probability = 0.95
    bootstrap: PositiveInt = 10_000
    permutations: PositiveInt = 10_000
    subsample_repeats: PositiveInt = 200
    """Seeded subsamples per size for the sample-size curve."""
    # method: reference (an encoder's ``method``, :mod:`helpers.references`)
    reference_share: Probability = 0.5
    """The share of each artist's real works that serve as references (a seeded draw: at least one, and at
    least one left over); the others validate (stage 05) and measure the ceiling. The two never overlap."""
    reference_scoring: Literal["centroid", "knn"] = "centroid"
    """``centroid``: the artist whose references' mean direction is nearest (cosine); ``knn``: the artist
    with the highest mean cosine over the query's ``reference_knn`` nearest references of each artist."""
    reference_knn: PositiveInt = 3
    retrieval_k: list[PositiveInt] = Field(default_factory=lambda: [1, 5, 10], min_length=1)
    """The k of recall@k and mAP@k (imitation as query, the reference works as gallery)."""
    # the exposure threshold (:mod:`helpers.exposure`), fitted when the caption counts are verified
    exposure_level: Probability = 0.5
    """The accuracy that counts as recognisable imitation: the threshold is the caption count where the
    fitted curve of accuracy against exposure reaches it (the report's "named" share)."""
    exposure_bootstrap: PositiveInt = 1000
    """Bootstrap resamples of artists for the threshold's interval."""

    @model_validator(mode="before")
    @classmethod
    def _renamed(cls, data: Any) -> Any:
        if isinstance(data, dict) and "label_template" in data:
            raise ValueError('label_template is now label_templates, a list: write label_templates: ["..."]')
        return data

    @field_validator("label_templates")
    @classmethod
    def _templates(cls, v: list[str]) -> list[str]:
        return distinct([check_template(t) for t in v], "label templates")


CREDIT_FORMS = (
    "by {artist}",
    "art by {artist}",
    "artwork by {artist}",
    "illustration by {artist}",
    "painting by {artist}",
    "drawing by {artist}",
    "{artist}'s painting",
    "{artist}'s artwork",
    "{artist}'s illustration",
)
"""The default forms in which a caption credits an artist as author."""
STYLE_FORMS = (
    "in the style of {artist}",
    "style of {artist}",
    "inspired by {artist}",
    "{artist} style",
    "{artist}-style",
    "{artist}'s style",
    "in the manner of {artist}",
    "after {artist}",
    "like {artist}",
    "{artist} inspired",
    "{artist}-inspired",
    "homage to {artist}",
)
"""The default forms that name a style, never an author."""


class ValidationParams(Section):
    real_works_dir: str | None = "data/real_works"
    """Folder with one subfolder per artist (named as the artist, or the artist's slug) of real works."""
    standin: bool = False
    """Smoke only: stand-in "real" works made by the tiny generator with seeds disjoint from the
    imitations. Every table and figure then says so."""
    standin_per_artist: PositiveInt = 3
    min_works: PositiveInt = 1
    max_works: PositiveInt | list[PositiveInt] = 1
    """At most this many real works per artist, the first of a seeded order when there are more (the paper,
    as described, compared one real work per artist). A list makes it a sweep axis: each value is a
    configuration, validated with that many works per artist (e.g. ``[1, 20]``)."""
    skip_bad_files: bool = False
    """A corrupt, empty, non-image or outside-linking file in a real-works folder stops the run unless
    this is ``true``; then it is skipped and listed in tables/real_works_skipped.csv."""
    aggregate: Aggregate = "mean"
    """How the similarities of an artist's several real works to one imitation become one number."""
    correction: Correction = "bonferroni"
    """The paper's test (imitations as independent): Bonferroni across artists, as the paper."""
    alpha: Probability = 0.05
    artist_level_correction: Correction = "fdr_bh"
    """The artist-level test (artists as units): Benjamini–Hochberg across artists by default — its smallest
    p-value is 1/(1 + K(K − 1)), so with fewer than about 20 artists no artist could pass Bonferroni or Holm."""
    bootstrap: PositiveInt = 2000
    """Bootstrap replicates of each artist's effect interval (its real works and imitations redrawn)."""
    confidence: Probability = 0.95
    """Confidence of the intervals of validation: effects, the fraction significant, false-positive rates."""
    credit_forms: list[str] = Field(default_factory=lambda: list(CREDIT_FORMS), min_length=1)
    """Real works sampled from caption metadata: a caption makes its image a work of the artist only when it
    credits the artist as author in one of these forms (``{artist}`` stands for the name), names no other
    candidate and matches no ``style_forms`` (see :mod:`helpers.captions.authorship`)."""
    style_forms: list[str] = Field(default_factory=lambda: list(STYLE_FORMS))
    """Forms that refer to a style, never to authorship: a caption matching one is dropped, whatever else."""
    duplicate_distance: NonNegativeInt = 4
    """Two real works of different artists are one work when their SHA-256 is equal or their 64-bit
    perceptual hashes (pHash) differ in at most this many bits; both are then dropped and listed. A JPEG
    re-encoding moves pHash by 0-2 bits; unrelated images differ by about 32."""
    derangements: PositiveInt | None = None
    """The negative control's derangements of the real works: ``null`` uses every cyclic shift of the
    validated artists (K − 1 of them); a number uses a seeded sample of that many shifts."""

    @field_validator("credit_forms", "style_forms")
    @classmethod
    def _forms(cls, v: list[str]) -> list[str]:
        for form in v:
            if form.count(ARTIST_PLACEHOLDER) != 1 or not form.replace(ARTIST_PLACEHOLDER, "").strip():
                raise ValueError(
                    f"form {form!r} must hold {ARTIST_PLACEHOLDER} exactly once beside other words, "
                    "e.g. 'art by {artist}'"
                )
        return distinct(v, "forms")

    @model_validator(mode="after")
    def _source(self):
        if not self.standin and self.real_works_dir is None:
            raise ValueError("set real_works_dir (a folder per artist) or standin: true")
        values = distinct(self.works_values, "max_works values")
        if not values or min(values) < self.min_works:
            raise ValueError(f"max_works ({self.max_works}) is below min_works ({self.min_works})")
        return self

    @property
    def works_values(self) -> list[int]:
        """``max_works`` as a list."""
        return self.max_works if isinstance(self.max_works, list) else [self.max_works]


class Params(Section):
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
    transforms: list[TransformSpec] = Field(default_factory=list)  # beside the untransformed images, "none"

    @field_validator("transforms")
    @classmethod
    def _transform_names(cls, v: list[TransformSpec]) -> list[TransformSpec]:
        return distinct([t.name for t in v], "transform names") and v

    @model_validator(mode="after")
    def _standins_need_a_model(self):
        if self.validation.standin and self.generation.generators[0].external:
            raise ValueError(
                "validation.standin: stand-in real works are generated by the first generator, which "
                "is a folder of images; put a model first or give real_works_dir"
            )
        return self

    @model_validator(mode="after")
    def _references_need_real_works(self):
        ref = [e.name for e in self.encoding.encoders if e.resolved_method == "reference"]
        if ref and self.validation.real_works_dir is None and not self.validation.standin:
            raise ValueError(
                f"encoder {ref[0]!r} attributes by reference works, but the run has none: give "
                "validation.real_works_dir (or use a zero-shot encoder)"
            )
        if ref and max(self.validation.works_values) < 2:
            raise ValueError(
                f"encoder {ref[0]!r} attributes by reference works, which needs at least 2 real works "
                "per artist (references, and works left to validate): raise validation.max_works"
            )
        return self

    @model_validator(mode="after")
    def _tiny_has_no_safety_checker(self):
        if self.generation.safety_checker and any(g.source == "tiny" for g in self.generation.generators):
            raise ValueError("generation.safety_checker: tiny generators have no safety checker; set it to false")
        return self

    @property
    def configurations(self) -> list[Configuration]:
        """The configurations this run measures, in the documented order (see the module docstring); an encoder
        that attributes by reference works is not measured at ``max_works`` below 2."""
        gens, encs, labels = self.generation.generators, self.encoding.encoders, self.classification.label_templates
        axes = self._axes()
        varying = [axis for axis, values in axes.items() if len(values) > 1]
        configs = []
        chains = [None, *self.transforms]
        for g, t, seed, e, lt, w, x in product(*axes.values()):
            if encs[e].resolved_method == "reference" and w < 2:
                continue  # one real work would be the reference, leaving none to validate: not measured
            spelt = {
                "generator": gens[g].name,
                "template": f"t{t + 1}",
                "seed": f"s{seed}",
                "encoder": encs[e].name,
                "label_template": f"l{lt + 1}",
                "max_works": f"w{w}",
                "transform": chains[x].name if chains[x] else NO_TRANSFORM,
            }
            name = "_".join(spelt[a] for a in varying) or None
            key = "_".join(spelt[a] for a in ("generator", "template", "seed") if a in varying) or None
            configs.append(
                Configuration(
                    name=name,
                    generator=gens[g],
                    template=self.generation.templates[t],
                    seed=seed,
                    encoder=encs[e],
                    label_template=labels[lt],
                    max_works=w,
                    generation_key=key,
                    method=encs[e].resolved_method,
                    axes={
                        "generator": gens[g].name,
                        "template": t + 1,
                        "seed": seed,
                        "encoder": encs[e].name,
                        "label_template": lt + 1,
                        "max_works": w,
                        "transform": spelt["transform"],
                    },
                    transform=chains[x],
                )
            )
        return configs

    def _axes(self) -> dict[str, list]:
        g = self.generation
        return {
            "generator": list(range(len(g.generators))),
            "template": list(range(len(g.templates))),
            "seed": g.seeds or [self.seed],
            "encoder": list(range(len(self.encoding.encoders))),
            "label_template": list(range(len(self.classification.label_templates))),
            "max_works": self.validation.works_values,
            "transform": list(range(1 + len(self.transforms))),
        }

    @property
    def paths(self) -> RunPaths:
        return RunPaths.for_run(self.run)

    def digest(self) -> str:
        """SHA-256 of the canonical JSON of these settings."""
        return json_digest(self.model_dump())


@dataclass(frozen=True)
class Configuration:
    """One measured setting: a generator with a prompt template and a generation seed, an encoder, the
    label template names are classified by, and how many real works per artist validation uses. ``name`` is ``None`` in a run of one configuration, whose
    results live in the run folder itself (:meth:`RunPaths.config`)."""

    name: str | None
    generator: GeneratorSpec
    template: str
    seed: int
    encoder: EncoderSpec
    label_template: str
    max_works: int
    generation_key: str | None
    """The images folder this configuration reads: ``None`` when the run has one generation setting."""
    axes: dict[str, Any]
    """Each axis's value: generator, encoder, transform names; template, label template numbers; seed; works."""
    transform: TransformSpec | None = None  # the chain applied before encoding; None: the images as they are
    method: str = "zero-shot"
    """How imitations are attributed (the encoder's :attr:`~helpers.specs.EncoderSpec.resolved_method`)."""


def _format(err: ValidationError, source: str) -> AuditError:
    first = err.errors()[0]
    loc = _key_path(first["loc"])
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


def _key_path(loc: tuple) -> str:
    """``('transforms', 2, 'steps', 0, 'jpeg', 'quality')`` → ``transforms[2].steps[0].quality`` (no step tag)."""
    out = ""
    for i, part in enumerate(loc):
        if isinstance(part, int):
            out += f"[{part}]"
        elif not (part in STEPS and i >= 2 and loc[i - 2] == "steps"):
            out += f".{part}" if out else str(part)
    return out or "(top level)"


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
            raise AuditError(
                f"params file {path} does not exist", where=where, fix="pass an existing file, e.g. params/smoke.yaml"
            )
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (yaml.YAMLError, UnicodeDecodeError) as exc:
            raise AuditError(
                f"not valid YAML ({' '.join(str(exc).split())})", where=where, fix="correct the YAML syntax"
            ) from None
        except OSError as exc:
            raise AuditError(
                f"cannot read params file ({exc.strerror})", where=where, fix="check its permissions"
            ) from None
    if not isinstance(data, dict):
        raise AuditError(
            "a params file must be a mapping of keys to values", where=where, fix="start from params/smoke.yaml"
        )
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
                fix="point it at LAION-aesthetics parquet files (a file, folder or glob), or set it to null; a toy "
                f"world's captions are built by `python -m helpers.toyworld for-params {where}` (make demo does it)",
            )
    specs = [(s, f"generation.generators[{i}]") for i, s in enumerate(params.generation.generators)]
    specs += [(s, f"encoding.encoders[{i}]") for i, s in enumerate(params.encoding.encoders)]
    for spec, key in specs:
        if spec.source == "folder" and not resolve_path(spec.path).is_dir():
            raise AuditError(
                f"'{key}.path' is a folder of images that does not exist: {resolve_path(spec.path)}",
                where=where,
                fix="point it at a folder holding artists/<name>/ (and random_names/<name>/) images",
            )
        if spec.source == "local" and not resolve_path(spec.model).is_dir():
            raise AuditError(
                f"'{key}.model' is a local folder that does not exist: {resolve_path(spec.model)}",
                where=where,
                fix="save the model there first, or use source: hub",
            )
