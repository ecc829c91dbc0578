"""The generator's autoencoder: a tiny diffusers ``AutoencoderKL``, 32×32 images to 16×16 latents.

Trained for reconstruction (L1 + L2) with a very small KL term, so the latents stay close to the pixels;
its ``scaling_factor`` is then set to 1 / the standard deviation of the corpus latents, as Stable
Diffusion's is, so the diffusion model sees latents of unit scale.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .configs import VAE, Plan

__all__ = ["to_tensor", "train_vae", "encode_latents"]

_KL_WEIGHT = 1e-6


def to_tensor(images: np.ndarray):
    """uint8 ``[N, H, W, 3]`` images as a float ``[N, 3, H, W]`` tensor in [-1, 1] (the VAE's range)."""
    import torch

    return torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2).float() / 127.5 - 1


def train_vae(images: np.ndarray, *, seed: int, plan: Plan, log: Callable[[str], None] = print):
    """Train the autoencoder on ``images`` (uint8 ``[N, 32, 32, 3]``); returns it in eval mode."""
    import torch
    from diffusers import AutoencoderKL

    torch.manual_seed(seed)
    vae = AutoencoderKL(**VAE)
    x = to_tensor(images)
    opt = torch.optim.AdamW(vae.parameters(), lr=plan.vae_lr, weight_decay=0.0)
    order = torch.Generator().manual_seed(seed)
    for step in range(plan.vae_steps):
        for group in opt.param_groups:
            group["lr"] = plan.vae_lr * _cosine(step, plan.vae_steps, warmup=plan.warmup // 4, flat=0.8)
        batch = x[torch.randint(0, len(x), (plan.vae_batch,), generator=order)]
        posterior = vae.encode(batch).latent_dist
        recon = vae.decode(posterior.sample(generator=order)).sample
        loss = (recon - batch).abs().mean() + (recon - batch).pow(2).mean() + _KL_WEIGHT * posterior.kl().mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if step % 50 == 0 or step == plan.vae_steps - 1:
            log(f"vae step {step}: loss {loss.item():.4f}")
    vae.eval()
    with torch.no_grad():
        latents = _latent_means(vae, x)
    vae.register_to_config(scaling_factor=float(1.0 / latents.std()))
    return vae


def _latent_means(vae, x, chunk: int = 512):
    import torch

    return torch.cat([vae.encode(x[i : i + chunk]).latent_dist.mean for i in range(0, len(x), chunk)])


def encode_latents(vae, images: np.ndarray):
    """The scaled latents (posterior means × ``scaling_factor``) of uint8 images, as the UNet learns them."""
    import torch

    with torch.no_grad():
        return _latent_means(vae, to_tensor(images)) * vae.config.scaling_factor


def _cosine(step: int, total: int, *, warmup: int, flat: float = 0.0) -> float:
    """Linear warm-up, a constant rate up to the fraction ``flat`` of the steps, then a cosine decay to zero."""
    if step < warmup:
        return (step + 1) / warmup
    start = max(warmup, int(flat * total))
    if step < start:
        return 1.0
    return 0.5 * (1 + np.cos(np.pi * (step - start) / max(1, total - start)))
