"""The toy CLIP: an open_clip ``CLIP`` built from a config, trained contrastively on (image, caption) pairs,
and saved as an open_clip ``local-dir:`` folder (``open_clip_config.json`` + ``open_clip_model.safetensors``).

Training is CLIP's: in a batch of image–caption pairs, each image must pick its own caption among the
batch's captions and each caption its own image (symmetric cross-entropy over cosine similarities times
a learnt temperature). Nothing tells it which captions name the same artist; it finds that out from the
names. Images are preprocessed exactly as the loaded encoder's transform does (32×32, OpenAI mean and
std). Augmentation: half the images are slightly blurred and each gets Gaussian pixel noise of a random
strength (σ up to 0.1), so that imitations — softer and grainier than the procedural works — are not
out of distribution. The encoder never sees a generated image.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np

from .configs import CLIP, Plan
from .manifest import write_provenance
from .train_vae import _cosine

__all__ = ["normalise", "train_clip", "save_clip"]

_BLUR_FRACTION = 0.5
_NOISE_MAX = 0.1  # in pixel units (0–1)


def normalise(images: np.ndarray):
    """uint8 ``[N, 32, 32, 3]`` images as the encoder's preprocess gives them: ``[N, 3, 32, 32]`` floats."""
    import open_clip
    import torch

    mean = torch.tensor(open_clip.OPENAI_DATASET_MEAN).view(1, 3, 1, 1)
    std = torch.tensor(open_clip.OPENAI_DATASET_STD).view(1, 3, 1, 1)
    return (torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2).float() / 255 - mean) / std


_STD = 0.27  # about open_clip's normalisation std: pixel noise σ becomes σ / _STD after normalising


def _blur(x, which):
    import torch

    kernel = torch.tensor([1.0, 2.0, 1.0])
    kernel = (kernel[:, None] * kernel[None, :]) / 16
    kernel = kernel.view(1, 1, 3, 3).repeat(3, 1, 1, 1)
    soft = torch.nn.functional.conv2d(torch.nn.functional.pad(x, (1, 1, 1, 1), mode="replicate"), kernel, groups=3)
    return torch.where(which.view(-1, 1, 1, 1), soft, x)


def train_clip(
    images: np.ndarray,
    captions: list[str],
    *,
    seed: int,
    plan: Plan,
    config: dict = CLIP,
    log: Callable[[str], None] = print,
):
    """Train a toy CLIP of architecture ``config`` on uint8 ``images`` and their ``captions``; returns the
    model in eval mode."""
    import open_clip
    import torch

    torch.manual_seed(seed)
    model = open_clip.model.CLIP(**json.loads(json.dumps(config)), output_dict=True)
    tokenizer = open_clip.tokenizer.SimpleTokenizer(context_length=config["text_cfg"]["context_length"])
    x, tokens = normalise(images), tokenizer(captions)
    opt = torch.optim.AdamW(model.parameters(), lr=plan.clip_lr, weight_decay=0.1)
    order = torch.Generator().manual_seed(seed)
    labels = torch.arange(plan.clip_batch)
    model.train()
    for step in range(plan.clip_steps):
        for group in opt.param_groups:
            group["lr"] = plan.clip_lr * _cosine(step, plan.clip_steps, warmup=plan.warmup // 2)
        idx = torch.randint(0, len(x), (plan.clip_batch,), generator=order)
        batch = _blur(x[idx], torch.rand(plan.clip_batch, generator=order) < _BLUR_FRACTION)
        strength = torch.rand(plan.clip_batch, 1, 1, 1, generator=order) * _NOISE_MAX / _STD
        batch = batch + torch.randn(batch.shape, generator=order) * strength
        out = model(batch, tokens[idx])
        logits = out["logit_scale"] * out["image_features"] @ out["text_features"].T
        loss = (
            torch.nn.functional.cross_entropy(logits, labels) + torch.nn.functional.cross_entropy(logits.T, labels)
        ) / 2
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        with torch.no_grad():
            model.logit_scale.clamp_(0, np.log(100))
        if step % 50 == 0 or step == plan.clip_steps - 1:
            log(f"clip step {step}: loss {loss.item():.4f}")
    model.eval()
    return model


def save_clip(folder: Path, model, config: dict = CLIP) -> None:
    """Write ``model`` as an open_clip ``local-dir:`` folder (float16 safetensors; open_clip copies them into
    its float32 parameters on load). ``folder`` must not exist yet."""
    import open_clip
    import torch
    from safetensors.torch import save_file

    folder = Path(folder)
    folder.mkdir(parents=True)
    state = {k: v.detach().to(torch.float16).contiguous() for k, v in model.state_dict().items()}
    save_file(state, str(folder / "open_clip_model.safetensors"))
    preprocess = {"mean": list(open_clip.OPENAI_DATASET_MEAN), "std": list(open_clip.OPENAI_DATASET_STD)}
    record = {"model_cfg": config, "preprocess_cfg": preprocess}
    (folder / "open_clip_config.json").write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    write_provenance(folder)
