"""How long ``params/laptop.yaml`` takes on a CPU, measured without downloading anything (not a test).

The laptop profile runs SD-Turbo (one step, no guidance) at 512×512 and CLIP ViT-B/32. This builds the same
architectures with random weights — SD-Turbo's UNet (SD 2.1's: 865 M parameters), its VAE and its OpenCLIP
ViT-H text encoder, and open_clip's ViT-B-32 — and times, on this machine's CPU, one image generated the
way the pipeline generates it and the encoding of a batch; then multiplies out the profile's counts. Weights
do not change the arithmetic, so the time is that of the real models (the download, about 2.6 GB for
SD-Turbo in half precision and 0.6 GB for ViT-B/32, is not included).

    .venv/bin/python bench/laptop_profile.py [--images 2] [--threads N]
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

UNET = {  # SD 2.1 / SD-Turbo
    "sample_size": 64,
    "in_channels": 4,
    "out_channels": 4,
    "layers_per_block": 2,
    "block_out_channels": [320, 640, 1280, 1280],
    "attention_head_dim": [5, 10, 20, 20],
    "cross_attention_dim": 1024,
    "use_linear_projection": True,
    "down_block_types": ["CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"],
    "up_block_types": ["UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"],
}
VAE = {
    "in_channels": 3,
    "out_channels": 3,
    "latent_channels": 4,
    "block_out_channels": [128, 256, 512, 512],
    "layers_per_block": 2,
    "down_block_types": ["DownEncoderBlock2D"] * 4,
    "up_block_types": ["UpDecoderBlock2D"] * 4,
    "sample_size": 512,
}
TEXT = {  # OpenCLIP ViT-H/14's text tower as SD 2.x uses it
    "vocab_size": 49408,
    "hidden_size": 1024,
    "intermediate_size": 4096,
    "num_hidden_layers": 23,
    "num_attention_heads": 16,
    "max_position_embeddings": 77,
    "hidden_act": "gelu",
    "projection_dim": 1024,
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--images", type=int, default=2, help="images to time (after one warm-up)")
    ap.add_argument("--threads", type=int, default=None, help="torch threads (default: all cores)")
    ns = ap.parse_args()

    import torch
    from diffusers import (
        AutoencoderKL,
        EulerAncestralDiscreteScheduler,
        StableDiffusionPipeline,
        UNet2DConditionModel,
    )
    from transformers import CLIPTextConfig, CLIPTextModel

    from helpers import models, schema

    if ns.threads:
        torch.set_num_threads(ns.threads)
    laptop = schema.load("params/laptop.yaml")
    call = laptop.generation.call_settings(laptop.generation.generators[0])
    torch.manual_seed(0)
    start = time.perf_counter()
    pipe = StableDiffusionPipeline(
        unet=UNet2DConditionModel(**UNET),
        vae=AutoencoderKL(**VAE),
        text_encoder=CLIPTextModel(CLIPTextConfig(**TEXT)),
        tokenizer=models.clip_tokenizer(Path(tempfile.mkdtemp(prefix="laptop-profile-"))),
        scheduler=EulerAncestralDiscreteScheduler(
            timestep_spacing="trailing", beta_schedule="scaled_linear", beta_start=0.00085, beta_end=0.012
        ),
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    ).to("cpu")
    pipe.set_progress_bar_config(disable=True)
    built = time.perf_counter() - start

    def one(i: int) -> None:
        pipe(
            prompt=f"Artwork from Artist {i}",
            height=call["height"],
            width=call["width"],
            num_inference_steps=call["steps"],
            guidance_scale=call["guidance_scale"],
            generator=torch.Generator("cpu").manual_seed(i),
        )

    one(-1)
    start = time.perf_counter()
    for i in range(ns.images):
        one(i)
    per_image = (time.perf_counter() - start) / ns.images

    enc = models.load_encoder(
        schema.EncoderSpec(name="b32", source="open_clip", model="ViT-B-32", pretrained=None),
        device="cpu",
        dtype="float32",
    )
    pixels = torch.randn(32, 3, 224, 224)
    enc.encode_pixels(pixels[:4])
    start = time.perf_counter()
    enc.encode_pixels(pixels)
    per_encoded = (time.perf_counter() - start) / len(pixels)

    n_names = 2 * laptop.artists.limit  # artists and as many random names
    n_images = n_names * laptop.generation.images_per_name
    n_real = laptop.artists.limit * max(laptop.validation.works_values)
    total = n_images * per_image + (n_images + n_real) * per_encoded
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}, "
        f"{torch.get_num_threads()} threads; load average {os.getloadavg()[0]:.1f}"
    )
    print(
        f"SD-Turbo architecture (random weights, built in {built:.0f} s): {per_image:.1f} s per {call['width']}x"
        f"{call['height']} image at {call['steps']} step(s), guidance {call['guidance_scale']}"
    )
    print(f"ViT-B-32: {1000 * per_encoded:.0f} ms per image encoded")
    print(
        f"params/laptop.yaml: {n_images} images + {n_real} real works to encode -> about {total / 60:.1f} min of "
        f"compute on this machine (plus loading and the downloads)"
    )


if __name__ == "__main__":
    main()
