"""Generation throughput on a GPU: a naive pipeline (float32, one image per call) vs the project's
optimised path (``helpers.models.load_pipeline`` + ``helpers.generation.generate``: float16, SDPA
attention, channels-last UNet, batch 8, optionally ``torch.compile``), in one run.

No download: the Stable Diffusion v1.5 architecture (UNet, VAE, CLIP text encoder; their configs are
written below) is built with random weights, saved once as safetensors, and both sides load that folder.
Speed does not depend on the weights' values, so images/s are those of SD v1.5 at 512x512, 50 steps,
guidance 7.5. Finishes in under 8 minutes on one H100 (with ``--compile``, compilation included).

    .venv/bin/python bench/gpu_generation.py                  # on a CUDA machine
    .venv/bin/python bench/gpu_generation.py --compile        # also torch.compile the UNet
    .venv/bin/python bench/gpu_generation.py --device cpu --tiny   # dry run of the same code on a CPU
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import warnings
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

SD15_UNET = {
    "act_fn": "silu",
    "attention_head_dim": 8,
    "block_out_channels": [320, 640, 1280, 1280],
    "center_input_sample": False,
    "cross_attention_dim": 768,
    "down_block_types": ["CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"],
    "downsample_padding": 1,
    "flip_sin_to_cos": True,
    "freq_shift": 0,
    "in_channels": 4,
    "layers_per_block": 2,
    "mid_block_scale_factor": 1,
    "norm_eps": 1e-05,
    "norm_num_groups": 32,
    "out_channels": 4,
    "sample_size": 64,
    "up_block_types": ["UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"],
}
SD15_VAE = {
    "act_fn": "silu",
    "block_out_channels": [128, 256, 512, 512],
    "down_block_types": ["DownEncoderBlock2D"] * 4,
    "in_channels": 3,
    "latent_channels": 4,
    "layers_per_block": 2,
    "norm_num_groups": 32,
    "out_channels": 3,
    "sample_size": 512,
    "up_block_types": ["UpDecoderBlock2D"] * 4,
}
SD15_TEXT = {  # openai/clip-vit-large-patch14's text tower, as in SD v1.5
    "vocab_size": 49408,
    "hidden_size": 768,
    "intermediate_size": 3072,
    "num_hidden_layers": 12,
    "num_attention_heads": 12,
    "max_position_embeddings": 77,
    "hidden_act": "quick_gelu",
    "projection_dim": 768,
    "bos_token_id": 49406,
    "eos_token_id": 49407,
    "pad_token_id": 49407,
}


def build(folder: Path, configs: dict, device: str, dtype) -> None:
    """Random-weight SD pipeline from configs, saved with save_pretrained (safetensors)."""
    import torch
    from diffusers import AutoencoderKL, PNDMScheduler, StableDiffusionPipeline, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel

    from helpers import models

    torch.manual_seed(0)
    with torch.device(device):  # initialise on the device: seconds instead of a minute on the CPU
        unet = UNet2DConditionModel(**configs["unet"])
        vae = AutoencoderKL(**configs["vae"])
        text = CLIPTextModel(CLIPTextConfig(**configs["text_encoder"]))
    pipe = StableDiffusionPipeline(
        unet=unet,
        vae=vae,
        text_encoder=text,
        tokenizer=models.clip_tokenizer(folder / "_tok"),
        scheduler=PNDMScheduler(**models.tiny_configs()["tiny-sd"]["scheduler"]["config"]),
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )
    if dtype != torch.float32:
        for module in (unet, vae, text):
            module.to(dtype=dtype)
    pipe.save_pretrained(folder / "pipeline", safe_serialization=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--device", default="cuda", help="cuda (default) or cpu (with --tiny: a dry run)")
    ap.add_argument(
        "--tiny", action="store_true", help="tiny model, 64 px, 2 steps: checks the script, measures nothing"
    )
    ap.add_argument("--compile", action="store_true", help="torch.compile the UNet in the optimised path")
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--batches", type=int, default=3, help="timed batches of the optimised path")
    ap.add_argument("--naive-images", type=int, default=4, help="timed images of the naive path")
    ns = ap.parse_args()

    import torch

    if ns.device.startswith("cuda") and not torch.cuda.is_available():
        print(
            "error: no CUDA GPU is visible, so there is nothing to measure here. Run this on a CUDA machine, "
            "or check the script with a dry run: python bench/gpu_generation.py --device cpu --tiny",
            file=sys.stderr,
        )
        raise SystemExit(2)
    if ns.device == "cpu" and not ns.tiny:
        print("error: the full SD v1.5 benchmark on a CPU would take hours; add --tiny for a dry run", file=sys.stderr)
        raise SystemExit(2)
    warnings.filterwarnings("ignore", message=".*invalid value encountered in cast.*")  # random VAE in fp16

    from diffusers import StableDiffusionPipeline
    from diffusers.utils import logging as dlog

    from helpers import generation, models, schema
    from helpers.paths import RunPaths

    dlog.disable_progress_bar()
    if ns.tiny:
        tiny = models.tiny_configs()["tiny-sd"]
        configs, size, steps = {"unet": tiny["unet"], "vae": tiny["vae"], "text_encoder": tiny["text_encoder"]}, 64, 2
    else:
        configs, size, steps = {"unet": SD15_UNET, "vae": SD15_VAE, "text_encoder": SD15_TEXT}, 512, 50
    cuda = ns.device.startswith("cuda")
    fast_dtype = torch.float16 if cuda else torch.float32
    start_all = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        t0 = time.perf_counter()
        build(tmp, configs, ns.device, fast_dtype)
        t_build = time.perf_counter() - t0
        folder = tmp / "pipeline"

        # -- naive: float32, one prompt per call, diffusers defaults ---------------------------------------
        naive = StableDiffusionPipeline.from_pretrained(
            folder, dtype=torch.float32, use_safetensors=True, local_files_only=True
        ).to(ns.device)
        naive.set_progress_bar_config(disable=True)
        attn_naive = type(next(iter(naive.unet.attn_processors.values()))).__name__

        def naive_image(i: int, naive=naive) -> None:
            naive(
                prompt=f"Artwork from Artist {i}",
                height=size,
                width=size,
                num_inference_steps=steps,
                guidance_scale=7.5,
                generator=torch.Generator("cpu").manual_seed(i),
            )

        naive_image(-1)  # warm-up
        if cuda:
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        for i in range(ns.naive_images):
            naive_image(i)
        if cuda:
            torch.cuda.synchronize()
        t_naive = time.perf_counter() - t0
        del naive, naive_image
        if cuda:
            torch.cuda.empty_cache()
            torch.cuda.reset_peak_memory_stats()

        # -- the project's path: load_pipeline + generate ---------------------------------------------------
        params = schema.load(
            {
                "run": "bench-gpu",
                "generation": {
                    "generators": [{"name": "sd15-random", "source": "local", "model": str(folder)}],
                    "images_per_name": ns.batch,
                    "height": size,
                    "width": size,
                    "steps": steps,
                    "guidance_scale": 7.5,
                    "batch_size": ns.batch,
                    "device": ns.device,
                    "dtype": "float16" if cuda else "float32",
                    "channels_last": True,
                    "compile": ns.compile,
                },
                "encoding": {
                    "encoders": [{"name": "tiny-clip", "source": "tiny", "model": "tiny-clip", "pretrained": None}]
                },
                "validation": {"real_works_dir": None, "standin": True},
            }
        )
        t0 = time.perf_counter()
        config = params.configurations[0]
        pipe = models.load_pipeline(config.generator, params.generation)
        t_load = time.perf_counter() - t0
        attn_fast = type(next(iter(pipe.unet.attn_processors.values()))).__name__

        def generate(jobs, root):
            return generation.generate(
                params.generation, config, jobs, root, RunPaths(root).images(), pipeline=pipe, progress=False
            )

        warm = generation.imitation_jobs(params, config, {"artists": ["Warm Up"]})
        t0 = time.perf_counter()
        generate(warm, tmp / "warm")
        t_warm = time.perf_counter() - t0
        jobs = generation.imitation_jobs(params, config, {"artists": [f"Artist {i}" for i in range(ns.batches)]})
        t0 = time.perf_counter()
        stats = generate(jobs, tmp / "run")
        t_fast = time.perf_counter() - t0
        assert stats["generated"] == len(jobs)
        peak = torch.cuda.max_memory_allocated() / 2**30 if cuda else float("nan")

    naive_ips = ns.naive_images / t_naive
    fast_ips = len(jobs) / t_fast
    device = torch.cuda.get_device_name() if cuda else f"CPU ({os.cpu_count()} cores)"
    print(
        f"device: {device}, torch {torch.__version__}{' — DRY RUN: tiny model, numbers mean nothing' if ns.tiny else ''}"
    )
    print(
        f"workload: {'tiny-sd' if ns.tiny else 'SD v1.5 architecture, random weights'}, {size}x{size}, {steps} steps, "
        f"guidance 7.5, PNDM; build+save {t_build:.1f} s, helper load {t_load:.1f} s"
    )
    print(f"naive (float32, batch 1, {attn_naive}): {naive_ips:.3f} images/s over {ns.naive_images} images")
    print(
        f"optimised ({str(fast_dtype).removeprefix('torch.')}, {attn_fast}, channels_last={cuda}, batch {ns.batch}, "
        f"compile={ns.compile and cuda}; PNG writes included): {fast_ips:.3f} images/s over {len(jobs)} images "
        f"(warm-up batch {t_warm:.1f} s; peak GPU memory {peak:.1f} GiB)"
    )
    print(f"speed-up: {fast_ips / naive_ips:.2f}x; total time {time.perf_counter() - start_all:.0f} s")


if __name__ == "__main__":
    main()
