"""Stage 02, generation: every name gets N images from the prompt template, each with its own seed.

``jobs`` (which images, and each image's seed), ``loop`` (the resumable, shardable loop), ``stage`` (the
stage and its products). Run it as ``python -m helpers.generation --params FILE`` (one device) or
``accelerate launch -m helpers.generation --params FILE`` (several processes, GPUs or machines); both
write the same bytes.
"""

from .jobs import NAMESPACES, Job, image_seed, plan
from .loop import cpu_threads, fingerprint, generate, settings
from .stage import (
    MANIFEST_COLUMNS,
    GenerationResult,
    imitation_jobs,
    read_manifest,
    read_manifests,
    read_standins,
    run_stage,
    standin_jobs,
    write_manifest,
)

__all__ = [
    "Job",
    "image_seed",
    "plan",
    "settings",
    "fingerprint",
    "generate",
    "write_manifest",
    "GenerationResult",
    "imitation_jobs",
    "standin_jobs",
    "run_stage",
    "read_manifest",
    "read_manifests",
    "read_standins",
    "NAMESPACES",
    "cpu_threads",
    "MANIFEST_COLUMNS",
]
