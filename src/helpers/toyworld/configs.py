"""Architectures and training plans of the toy worlds' models: data, read by the training code. These are the
easy world's; a world file's ``architectures`` and ``plan`` keys replace some of them (:func:`plan_for`,
:func:`architectures_for`), and its ``encoders`` name the CLIPs trained.

Sizes are set by the budgets: all weights together under 20 MB (float16), training of everything under
30 minutes on two CPU cores, and generation of ~460 images at 32×32 in about a minute on one core.
"""

from __future__ import annotations

import copy
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .world import World

__all__ = [
    "CONTEXT_LENGTH",
    "VAE",
    "UNET",
    "TEXT_ENCODER",
    "SCHEDULER",
    "CLIP",
    "Plan",
    "PLAN",
    "plan_for",
    "architectures_for",
    "encoder_configs",
]

CONTEXT_LENGTH = 32
"""Tokens per caption for both text encoders (captions are short; 77 would only cost time)."""

VAE: dict[str, Any] = {
    "in_channels": 3,
    "out_channels": 3,
    "down_block_types": ["DownEncoderBlock2D", "DownEncoderBlock2D"],
    "up_block_types": ["UpDecoderBlock2D", "UpDecoderBlock2D"],
    "block_out_channels": [16, 32],  # two blocks: latents are 2× smaller, 16×16 for 32×32 images
    "layers_per_block": 1,
    "latent_channels": 12,  # as many numbers as pixels: the autoencoder compresses space, not content
    "norm_num_groups": 16,
    "sample_size": 32,
    "mid_block_add_attention": False,
}

UNET: dict[str, Any] = {
    "sample_size": 16,
    "in_channels": 12,
    "out_channels": 12,
    "block_out_channels": [32, 64],
    "layers_per_block": 1,
    "down_block_types": ["DownBlock2D", "CrossAttnDownBlock2D"],  # attention at 8×8 only: 16×16 costs 2×
    "up_block_types": ["CrossAttnUpBlock2D", "UpBlock2D"],
    "cross_attention_dim": 64,
    "attention_head_dim": 8,
    "norm_num_groups": 16,
    # The caption, pooled by attention, is also added to the timestep embedding (as DeepFloyd IF does), so
    # every ResNet block sees the style; cross-attention alone learnt it far more slowly.
    "addition_embed_type": "text",
    "addition_embed_type_num_heads": 4,
}

TEXT_ENCODER: dict[str, Any] = {
    "vocab_size": 49408,
    "hidden_size": 64,
    "intermediate_size": 128,
    "num_hidden_layers": 2,
    "num_attention_heads": 2,
    "max_position_embeddings": CONTEXT_LENGTH,
    "projection_dim": 64,
    "bos_token_id": 49406,
    "eos_token_id": 49407,
    "pad_token_id": 49407,
}

SCHEDULER: dict[str, Any] = {
    # DDPM's linear schedule, whose last step leaves almost no signal, with v-prediction: predicting the
    # noise instead makes the first sampling steps blow up (their x0 estimate divides by sqrt(alpha_bar)).
    # PNDM needs skip_prk_steps and steps_offset for few steps.
    "num_train_timesteps": 1000,
    "beta_schedule": "linear",
    "beta_start": 0.0001,
    "beta_end": 0.02,
    "prediction_type": "v_prediction",
    "set_alpha_to_one": False,
    "skip_prk_steps": True,
    "steps_offset": 1,
    "trained_betas": None,
}

CLIP: dict[str, Any] = {
    "embed_dim": 64,
    "vision_cfg": {"image_size": 32, "layers": 3, "width": 64, "patch_size": 4, "head_width": 32, "mlp_ratio": 2.0},
    "text_cfg": {
        "context_length": CONTEXT_LENGTH,
        "vocab_size": 49408,
        "width": 32,
        "heads": 2,
        "layers": 2,
        "mlp_ratio": 2.0,
    },
}


@dataclass(frozen=True)
class Plan:
    """How long and how each model trains (steps of one batch each)."""

    vae_steps: int = 400
    vae_batch: int = 64
    vae_lr: float = 3e-3
    sd_steps: int = 1000
    sd_batch: int = 64
    sd_lr: float = 2e-3
    caption_dropout: float = 0.1
    clip_steps: int = 300
    clip_batch: int = 256
    clip_lr: float = 2e-3
    warmup: int = 100

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


PLAN = Plan()


def plan_for(world: World) -> Plan:
    """The world's training plan: :data:`PLAN` with the world file's ``plan`` keys."""
    return Plan(**{**PLAN.as_dict(), **world.plan})


def architectures_for(world: World) -> dict[str, dict[str, Any]]:
    """The world's architectures (``vae``, ``unet``, ``text_encoder``, ``scheduler``, ``clip``): the ones above,
    with the world file's ``architectures`` keys replacing theirs (``clip``'s ``vision_cfg``/``text_cfg``
    key by key)."""
    base = {"vae": VAE, "unet": UNET, "text_encoder": TEXT_ENCODER, "scheduler": SCHEDULER, "clip": CLIP}
    return {part: _replaced(config, world.architectures.get(part, {})) for part, config in base.items()}


def encoder_configs(world: World, plan: Plan | None = None) -> dict[str, tuple[int, dict[str, Any], Plan]]:
    """Each toy CLIP of ``world`` by folder name: its seed offset, its architecture (the world's CLIP with the
    encoder's ``clip`` keys) and its training plan (``plan``, default the world's, with the encoder's
    ``clip_*`` keys)."""
    clip, plan = architectures_for(world)["clip"], plan or plan_for(world)
    return {
        name: (spec.seed, _replaced(clip, spec.clip), Plan(**{**plan.as_dict(), **spec.plan}))
        for name, spec in world.encoder_specs.items()
    }


def _replaced(config: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """A deep copy of ``config`` with ``changes``: a dict value replaces the keys it names, any other the value."""
    out = copy.deepcopy(config)
    for key, value in changes.items():
        out[key] = {**out[key], **value} if isinstance(value, dict) else value
    return out
