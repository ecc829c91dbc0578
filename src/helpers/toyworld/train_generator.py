"""The toy text-to-image model: a tiny Stable Diffusion trained here, saved as a diffusers pipeline folder.

A UNet and a CLIP text encoder learn together, on the corpus latents, to denoise a latent given its
caption (DDPM with the v-prediction objective: v = sqrt(ᾱ)·noise − sqrt(1 − ᾱ)·latent). One caption in
ten is replaced by the empty caption, so the same model also learns the unconditional prediction and
classifier-free guidance works at sampling. The generator learns an artist only through their name's tokens in its own text encoder: a
name seen in many captions is imitated well, a rare one poorly, and a name never seen falls back on what
"Artwork from …" means in general.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from .configs import CONTEXT_LENGTH, SCHEDULER, TEXT_ENCODER, UNET, Plan
from .manifest import write_provenance
from .train_vae import _cosine

__all__ = ["build_tokenizer", "tokenize", "train_generator", "save_generator"]


def build_tokenizer():
    """Stable Diffusion's CLIP BPE tokenizer (built offline from open_clip's bundled vocabulary), with the
    toy context length."""
    from ..models import clip_tokenizer

    with tempfile.TemporaryDirectory() as tmp:
        tokenizer = clip_tokenizer(Path(tmp))
    tokenizer.model_max_length = CONTEXT_LENGTH
    return tokenizer


def tokenize(tokenizer, texts: list[str]):
    """Token ids ``[N, CONTEXT_LENGTH]`` padded and truncated exactly as the diffusers pipeline does."""
    return tokenizer(
        texts, padding="max_length", max_length=tokenizer.model_max_length, truncation=True, return_tensors="pt"
    ).input_ids


def train_generator(
    latents,
    captions: list[str],
    tokenizer,
    *,
    seed: int,
    plan: Plan,
    unet_config: dict = UNET,
    text_config: dict = TEXT_ENCODER,
    log: Callable[[str], None] = print,
):
    """Train a UNet and a text encoder on ``latents`` (scaled, ``[N, C, 16, 16]``) and their captions.

    Returns ``(unet, text_encoder)`` in eval mode.
    """
    import torch
    from diffusers import DDPMScheduler, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel

    torch.manual_seed(seed)
    unet = UNet2DConditionModel(**unet_config)
    text_encoder = CLIPTextModel(CLIPTextConfig(**text_config))
    ids = tokenize(tokenizer, captions)
    empty = tokenize(tokenizer, [""])[0]
    alphas = DDPMScheduler(**_ddpm_config()).alphas_cumprod
    params = list(unet.parameters()) + list(text_encoder.parameters())
    opt = torch.optim.AdamW(params, lr=plan.sd_lr, weight_decay=0.0)
    order = torch.Generator().manual_seed(seed)
    unet.train()
    text_encoder.train()
    smooth = None
    for step in range(plan.sd_steps):
        for group in opt.param_groups:
            group["lr"] = plan.sd_lr * _cosine(step, plan.sd_steps, warmup=plan.warmup)
        idx = torch.randint(0, len(latents), (plan.sd_batch,), generator=order)
        z0, tokens = latents[idx], ids[idx].clone()
        tokens[torch.rand(plan.sd_batch, generator=order) < plan.caption_dropout] = empty
        t = torch.randint(0, len(alphas), (plan.sd_batch,), generator=order)
        noise = torch.randn(z0.shape, generator=order)
        abar = alphas[t].view(-1, 1, 1, 1)
        noisy = abar.sqrt() * z0 + (1 - abar).sqrt() * noise
        target = abar.sqrt() * noise - (1 - abar).sqrt() * z0
        pred = unet(noisy, t, text_encoder(tokens)[0]).sample
        loss = (pred - target).pow(2).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        smooth = loss.item() if smooth is None else 0.98 * smooth + 0.02 * loss.item()
        if step % 100 == 0 or step == plan.sd_steps - 1:
            log(f"generator step {step}: loss {smooth:.4f}")
    unet.eval()
    text_encoder.eval()
    return unet, text_encoder


def _ddpm_config() -> dict:
    keep = ("num_train_timesteps", "beta_schedule", "beta_start", "beta_end", "prediction_type", "trained_betas")
    return {k: SCHEDULER[k] for k in keep} | {"clip_sample": False}


def save_generator(folder: Path, *, unet, vae, text_encoder, tokenizer) -> None:
    """Save the pipeline with ``save_pretrained`` (safetensors, float16 weights) into ``folder``, which must
    not exist yet. ``from_pretrained(..., dtype=torch.float32)`` upcasts on load."""
    import torch
    from diffusers import PNDMScheduler, StableDiffusionPipeline

    pipe = StableDiffusionPipeline(
        unet=unet,
        vae=vae,
        text_encoder=text_encoder,
        tokenizer=tokenizer,
        scheduler=PNDMScheduler(**SCHEDULER),
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )
    pipe.to(torch.float16)
    folder = Path(folder)
    tmp = folder.with_name(f".tmp-{folder.name}")
    shutil.rmtree(tmp, ignore_errors=True)
    pipe.save_pretrained(tmp, safe_serialization=True)
    write_provenance(tmp)
    pipe.to(torch.float32)
    tmp.rename(folder)
