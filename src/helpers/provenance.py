"""What a run is, said once: whether its numbers measure real models, and every caveat a reader must see.

Every table, figure, ``summary.json`` and report takes its weights kind and caveats from here, so a run
never passes for what it is not: random weights, the toy world, stand-in real works, real works sampled from
the caption metadata (possibly training images), synthetic or missing caption metadata.
"""

from __future__ import annotations

from collections.abc import Iterable

from .models import Weights, combined_weights, weights_kind
from .schema import Configuration, Params

__all__ = [
    "RANDOM_WEIGHTS_NOTE",
    "TOY_WORLD_NOTE",
    "STANDIN_NOTE",
    "SYNTHETIC_NOTE",
    "UNVERIFIED_NOTE",
    "EXTERNAL_NOTE",
    "METADATA_WORKS_NOTE",
    "weights",
    "caveats",
    "print_caveats",
]

RANDOM_WEIGHTS_NOTE = "RANDOM WEIGHTS: tiny models with random weights; these numbers measure no real model."
TOY_WORLD_NOTE = (
    "TOY WORLD: fictional artists and small models trained here on a procedural corpus; these numbers show "
    "the method at work, not how any real model imitates real artists."
)
STANDIN_NOTE = "STAND-IN REAL WORKS: the 'real' works are made by the generator itself, not by the artists."
SYNTHETIC_NOTE = "SYNTHETIC METADATA: caption counts come from a generated parquet with planted counts, not LAION."
UNVERIFIED_NOTE = "UNVERIFIED SELECTION: artists were not checked against caption metadata counts."
EXTERNAL_NOTE = (
    "EXTERNAL IMAGES: some images were made elsewhere (a folder generator); their prompts, seeds and settings "
    "are what the folder says, unknown to and not controlled by this run."
)

METADATA_WORKS_NOTE = (
    "METADATA-SAMPLED REAL WORKS: some real works were sampled from the caption metadata (LAION for the paper), "
    "the data the generator may have been trained on; validation and the ceiling then partly measure closeness "
    "to training images (see the breakdown by origin)."
)


def weights(params: Params, config: Configuration | None = None) -> Weights:
    """``random`` if any model (of ``config``, or of the whole run) has random weights, else ``toy`` if any
    was trained on the toy world, else ``pretrained``."""
    specs = [config.generator, config.encoder] if config else [*params.generation.generators, *params.encoding.encoders]
    return combined_weights(weights_kind(s) for s in specs)


def caveats(params: Params, config: Configuration | None = None, origins: Iterable[str] = ()) -> list[str]:
    """What a reader must know before reading any number of this run (empty for a real measurement);
    ``origins``: those of the real works validated (stage 05's ``real_work_origins``), when known."""
    out = []
    kind = weights(params, config)
    if kind == "random":
        out.append(RANDOM_WEIGHTS_NOTE)
    elif kind == "toy":
        out.append(TOY_WORLD_NOTE)
    generators = [config.generator] if config else params.generation.generators
    if any(g.external for g in generators):
        out.append(EXTERNAL_NOTE)
    if params.validation.standin:
        out.append(STANDIN_NOTE)
    if any("metadata" in origin.split("+") for origin in origins):
        out.append(METADATA_WORKS_NOTE)
    if params.selection.synthetic:
        out.append(SYNTHETIC_NOTE)
    elif params.selection.metadata is None:
        out.append(UNVERIFIED_NOTE)
    return out


def print_caveats(params: Params) -> None:
    """Print the run's caveats, one per line, at the top of each notebook."""
    for caveat in caveats(params):
        print("⚠", caveat)
