"""The list entries of a params file: a generator (``generation.generators[i]``), an encoder
(``encoding.encoders[i]``) and a chain of image steps (``transforms[i]``), validated as part of
:mod:`helpers.schema`."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from .files import json_digest
from .schema_types import Label, PositiveInt, Section

__all__ = ["GeneratorSpec", "EncoderSpec", "TransformSpec", "Scheduler", "Method", "METHODS", "NO_TRANSFORM", "STEPS"]

Scheduler = Literal["default", "pndm", "ddim", "euler", "euler_a", "dpm"]


class GeneratorSpec(Section):
    name: Label = "sd-v1-5"
    """Short label for tables and folders."""
    source: Literal["hub", "local", "tiny", "folder"] = "hub"
    """``hub``: a Hugging Face repo id (downloaded or from the local HF cache); ``local``: a folder saved
    with ``save_pretrained``; ``tiny``: a small random-weight pipeline built in code (tests, smoke);
    ``folder``: images already made elsewhere (a closed or external model), under ``path``."""
    model: str = "stable-diffusion-v1-5/stable-diffusion-v1-5"
    path: str | None = None
    """``source: folder`` only: ``<path>/artists/<name or slug>/<image>`` and ``<path>/random_names/…``,
    optionally ``<path>/prompts.csv`` (``group, name, file, prompt, model, date``)."""
    on_shortfall: Literal["refuse", "measure"] = "refuse"
    """``source: folder`` only, for a name with fewer than ``images_per_name`` images (or a random name with
    none): ``refuse`` stops the run naming them; ``measure`` measures what exists and lists the shortfall."""
    skip_bad_files: bool = False
    """``source: folder`` only: a corrupt, empty, non-image or outside-linking file stops the run unless
    ``true``; then it is skipped and listed."""
    revision: str | None = None
    allow_pickle: bool = False
    """Weights load from safetensors only. ``true`` permits pickle ``.bin`` checkpoints, which can run
    code when loaded: only for checkpoints you trust."""
    # Per-generator call settings (null: the generation section's value). Families differ: SDXL draws at
    # 1024 px, a one-step distilled model (SD-Turbo) wants steps 1, guidance 0 and its own scheduler.
    steps: PositiveInt | None = None
    guidance_scale: Annotated[float, Field(ge=0)] | None = None
    height: PositiveInt | None = None
    width: PositiveInt | None = None
    scheduler: Scheduler | None = None

    @model_validator(mode="after")
    def _folder(self):
        if (self.source == "folder") != (self.path is not None):
            raise ValueError("a generator has 'path' exactly when its source is folder (images made elsewhere)")
        return self

    @property
    def random_weights(self) -> bool:
        """True for the small random-weight models built in code."""
        return self.source == "tiny"

    @property
    def external(self) -> bool:
        """True for images made elsewhere (``source: folder``): their seeds and settings are unknown."""
        return self.source == "folder"


Method = Literal["zero-shot", "reference"]
"""How an imitation is attributed to an artist: ``zero-shot`` among the names' label prompts (the paper's
method; needs an encoder with a text tower), ``reference`` to the artist whose reference works (real works,
never the ones that validate) are nearest (any encoder)."""
METHODS: tuple[str, ...] = ("zero-shot", "reference")
IMAGE_ONLY_SOURCES = ("csd",)
"""Sources whose encoders have no text tower, whatever the model."""
IMAGE_ONLY_FAMILIES = ("dinov2", "dino-", "dino_", "csd")
"""Model names (a hub id or a tiny model's name, lower case) known to be image-only: refused for zero-shot
when the params are read, not when the weights arrive."""


class EncoderSpec(Section):
    name: Label = "clip-vit-l-14-openai"
    source: Literal["open_clip", "local", "tiny", "transformers", "csd"] = "open_clip"
    """``open_clip``: architecture ``model`` with pretrained tag ``pretrained``; ``local``: a folder with
    ``open_clip_config.json`` and ``open_clip_model.safetensors``; ``tiny``: small random weights of one of
    the families below, built from ``src/helpers/models/configs/``; ``transformers``: a Hugging Face vision
    model (a hub id such as ``facebook/dinov2-base``, or a folder saved with ``save_pretrained``) — DINOv2,
    SigLIP / SigLIP 2 and CLIP, with the model's own image processor; ``csd``: CSD's style descriptor (a CLIP
    ViT-L/14 vision backbone with a style head; the style vector is the output), from its checkpoint
    file given as ``model``."""
    model: str = "ViT-L-14"
    pretrained: str | None = "openai"
    """``open_clip`` only: the pretrained tag (``null``: random weights)."""
    revision: str | None = None
    """``transformers`` only: the hub revision (a branch, tag or commit)."""
    method: Method | None = None
    """``zero-shot`` or ``reference`` (see :data:`Method`); ``null``: zero-shot for the open_clip sources,
    reference for ``transformers`` and ``csd``. To measure one encoder both ways, list it twice under two
    names (the embedding cache is shared)."""
    allow_pickle: bool = False

    @model_validator(mode="after")
    def _method(self):
        if self.source in ("transformers", "csd") and self.pretrained not in (None, "openai"):
            raise ValueError(f"'pretrained' is for open_clip encoders; a {self.source} encoder is named by 'model'")
        if self.resolved_method == "zero-shot" and self.image_only:
            raise ValueError(
                f"encoder {self.name!r} ({self.source}: {self.model}) is image-only and cannot classify "
                "zero-shot among label prompts: set method: reference"
            )
        return self

    @property
    def image_only(self) -> bool:
        """True when this encoder is known, from its params alone, to have no text tower."""
        name = self.model.lower().rsplit("/", 1)[-1]
        return self.source in IMAGE_ONLY_SOURCES or any(f in name for f in IMAGE_ONLY_FAMILIES)

    @property
    def resolved_method(self) -> str:
        """The method this encoder's configurations use (``method``, or its default for the source)."""
        if self.method is not None:
            return self.method
        return "reference" if self.source in ("transformers", "csd") or self.image_only else "zero-shot"

    @property
    def random_weights(self) -> bool:
        """True for tiny models and for an open_clip architecture without a pretrained tag."""
        return self.source == "tiny" or (self.source == "open_clip" and self.pretrained is None)


# -- the transforms axis: chains of image steps ---------------------------------------------------------------


class JpegStep(Section):
    step: Literal["jpeg"]
    quality: Annotated[int, Field(ge=1, le=100, strict=True)]  # Pillow's JPEG quality


class ResizeStep(Section):
    step: Literal["resize"]
    size: PositiveInt  # the longer side down to this many px (bicubic, aspect kept), then back up


class CropStep(Section):
    step: Literal["crop"]
    fraction: Annotated[float, Field(gt=0, le=1)]  # the crop's side over the image's; scaled back up after
    mode: Literal["centre", "random"] = "centre"


class NoiseStep(Section):
    step: Literal["noise"]
    sigma: Annotated[float, Field(ge=0)]  # Gaussian, on the 0-255 pixel scale, per channel, then clipped


class BlurStep(Section):
    step: Literal["blur"]
    radius: Annotated[float, Field(ge=0)]  # Pillow's GaussianBlur radius, px


class FolderStep(Section):
    step: Literal["folder"]
    path: Annotated[str, Field(min_length=1)]  # the image at the same relative path there (protected works)


Step = Annotated[JpegStep | ResizeStep | CropStep | NoiseStep | BlurStep | FolderStep, Field(discriminator="step")]
STEPS, NO_TRANSFORM = ("jpeg", "resize", "crop", "noise", "blur", "folder"), "none"


class TransformSpec(Section):
    """A named chain of image steps, applied to ``applies_to`` before encoding (:mod:`helpers.transforms`)."""

    name: Label
    applies_to: Literal["imitations", "real_works", "both"] = "imitations"
    steps: list[Step] = Field(min_length=1)

    @field_validator("name")
    @classmethod
    def _reserved(cls, v: str) -> str:
        if v == NO_TRANSFORM:
            raise ValueError(f"'{NO_TRANSFORM}' names the untransformed images (measured in every sweep): rename it")
        return v

    def digest(self) -> str:
        """SHA-256 of the chain's steps (canonical JSON): two entries with the same steps share their images."""
        return json_digest([s.model_dump() for s in self.steps])
