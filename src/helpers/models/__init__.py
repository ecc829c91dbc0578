"""Loading the two models of a run — the text-to-image generator and the encoder — and what to say about them.

``generators`` (diffusers pipelines), ``encoders`` (the one :class:`Encoder`; open_clip CLIPs), ``hf_encoders``
(transformers: DINOv2, CLIP, SigLIP, SigLIP 2), ``csd`` (CSD's style descriptor), ``tiny`` (small random-weight
builds from ``configs/*.json`` for tests and smoke), ``policy`` (safetensors only, remote code never, fetch
errors), ``inventory`` (preflight, the description in ``run.json``, the kind of weights), ``devices``.

An audit sends nothing about its user: Hugging Face telemetry (and the agent-detection request that comes
with it) is off unless the user turns it on.
"""

import os

os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")  # read when huggingface_hub is first imported

from .devices import resolve_device  # noqa: E402
from .encoders import Encoder, load_encoder
from .generators import generator_identity, load_pipeline
from .inventory import PROVENANCE_FILE, Weights, combined_weights, describe, preflight, weights_kind
from .tiny import clip_tokenizer, tiny_configs, tiny_encoder_dir, tiny_generator_dir

__all__ = [
    "Encoder",
    "load_pipeline",
    "load_encoder",
    "preflight",
    "describe",
    "weights_kind",
    "combined_weights",
    "resolve_device",
    "generator_identity",
    "tiny_configs",
    "tiny_generator_dir",
    "tiny_encoder_dir",
    "clip_tokenizer",
    "PROVENANCE_FILE",
    "Weights",
]
