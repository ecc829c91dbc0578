"""Train every toy-world model from one seed and write ``models/toy-world/`` with its manifest.

    python -m helpers.toyworld train [--world toy] --seed 0 [--threads 2] [--out models/toy-world] [--corpus data/toy_world]

builds the world's corpus if it is missing, then trains in order: the autoencoder (or copies the one the
world file's ``vae_from`` names), the generator (UNet + text encoder on the autoencoder's latents, from the
rows the generator sees), and the CLIP encoders (the world's ``encoders``: same recipe, each its own seed and,
where the world file says, its own architecture and ``clip_*`` plan, from the rows the encoder sees). Deterministic from the seed on a given machine and thread count: torch's intra-op threads
are set to ``--threads`` and recorded, every model starts from ``torch.manual_seed`` and draws its
batches from its own seeded generator. The folder is written next to its destination and swapped in at
the end, so an interrupted run leaves the previous weights in place.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..errors import AuditError
from ..files import sha256_file
from ..paths import PROJECT_ROOT
from .configs import Plan, architectures_for, encoder_configs, plan_for
from .corpus import digest, ensure_corpus, read_corpus
from .manifest import versions, write_manifest
from .world import World, load_world

__all__ = ["GENERATOR", "train_world", "command"]

GENERATOR = "toy-sd"
_VAE_FILE = "diffusion_pytorch_model.safetensors"
_SEED_OFFSETS = {"vae": 1, "generator": 2, "clip": 10}


def command(seed: int, threads: int, world: World | None = None) -> str:
    """The command line that reproduces a training run."""
    return f"{(world or load_world('toy')).train_command} --seed {seed} --threads {threads}"


def _seed(seed: int, part: str, extra: int = 0) -> int:
    return 1000 * seed + _SEED_OFFSETS[part] + extra


def _vae(world: World, images, seed: int, plan: Plan, log: Callable[[str], None]):
    from .train_vae import train_vae

    if not world.vae_from:
        return train_vae(images, seed=_seed(seed, "vae"), plan=plan, log=log)
    import torch
    from diffusers import AutoencoderKL

    log(f"vae: copied from {world.vae_from} (not retrained)")
    vae = AutoencoderKL.from_pretrained(PROJECT_ROOT / world.vae_from, torch_dtype=torch.float32).eval()
    vae.register_to_config(_name_or_path=world.vae_from)  # the saved config names it as the world file does, not
    return vae  # by this checkout's absolute path (the bytes, and the manifest, would depend on where it lies)


def train_world(
    *,
    world: World | None = None,
    seed: int = 0,
    threads: int = 2,
    out: str | os.PathLike | None = None,
    corpus_dir: str | os.PathLike | None = None,
    plan: Plan | None = None,
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Train every model of ``world`` (default the easy ``toy`` world) and write ``out`` (default the world's
    ``models_dir``: ``toy-sd/``, one folder per encoder, ``MANIFEST.json``).

    Returns the manifest record.
    """
    import torch

    from .train_clip import save_clip, train_clip
    from .train_generator import build_tokenizer, save_generator, train_generator
    from .train_vae import encode_latents

    world = world or load_world("toy")
    plan = plan or plan_for(world)
    arch = architectures_for(world)
    out = Path(out) if out is not None else world.path("models_dir")
    corpus_dir = Path(corpus_dir) if corpus_dir is not None else world.path("corpus_dir")
    start = time.perf_counter()
    torch.set_num_threads(threads)
    tmp = out.with_name(f".tmp-{out.name}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    corpus_record = ensure_corpus(corpus_dir, seed=seed, world=world)
    corpus, real = read_corpus(corpus_dir, world)
    if digest(corpus, real, world) != corpus_record["digest"]:
        raise AuditError(
            f"the corpus files in {corpus_dir} do not match their recorded digest",
            where="helpers.toyworld train",
            fix="rebuild it: python -m helpers.toyworld corpus --force",
        )
    seconds: dict[str, float] = {"corpus": time.perf_counter() - start}

    t = time.perf_counter()
    vae = _vae(world, corpus.images, seed, plan, log)
    rows = corpus.rows("generator")
    latents = encode_latents(vae, corpus.images[rows])
    seconds["vae"] = time.perf_counter() - t

    t = time.perf_counter()
    tokenizer = build_tokenizer()
    captions = [corpus.captions[i] for i in rows]
    unet, text_encoder = train_generator(
        latents,
        captions,
        tokenizer,
        seed=_seed(seed, "generator"),
        plan=plan,
        unet_config=arch["unet"],
        text_config=arch["text_encoder"],
        log=log,
    )
    save_generator(tmp / GENERATOR, unet=unet, vae=vae, text_encoder=text_encoder, tokenizer=tokenizer)
    seconds["unet_text_encoder"] = time.perf_counter() - t
    seconds[GENERATOR] = seconds["vae"] + seconds["unet_text_encoder"]

    rows = corpus.rows("encoder")
    images, captions = corpus.images[rows], [corpus.captions[i] for i in rows]
    encoders = encoder_configs(world, plan)
    for name, (offset, config, clip_plan) in encoders.items():
        t = time.perf_counter()
        model = train_clip(images, captions, seed=_seed(seed, "clip", offset), plan=clip_plan, config=config, log=log)
        save_clip(tmp / name, model, config)
        seconds[name] = time.perf_counter() - t
    differing = {  # the encoders whose model or training is not the world's (none in the easy world)
        name: {
            "seed_offset": offset,
            "clip": config,
            "plan": {k: v for k, v in p.as_dict().items() if k.startswith("clip_")},
        }
        for name, (offset, config, p) in encoders.items()
        if config != arch["clip"] or p != plan
    }

    seconds["total"] = time.perf_counter() - start
    record = {
        "command": command(seed, threads, world),
        **({"world": world.name} if world.name != "toy" else {}),
        "seed": seed,
        "torch_threads": threads,
        "training_seconds": {k: round(v, 1) for k, v in seconds.items()},
        "corpus": {
            "digest": corpus_record["digest"],
            "recipe": corpus_record["recipe"],
            "seed": corpus_record["seed"],
            "n_captions": corpus_record["n_captions"],
        },
        "plan": plan.as_dict(),
        "architectures": arch,
        **({"encoders": differing} if differing else {}),
        **(
            {"vae_from": {"path": world.vae_from, "sha256": sha256_file(PROJECT_ROOT / world.vae_from / _VAE_FILE)}}
            if world.vae_from
            else {}
        ),
        "versions": versions(),
        "weights_dtype": "float16 (loaded as float32)",
    }
    for path in tmp.rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)  # safetensors writes 0600; the folder goes into git
    record = write_manifest(tmp, record)
    if out.exists():
        shutil.rmtree(out)
    tmp.rename(out)
    log(f"trained in {seconds['total']:.0f} s; weights {record['weights_bytes'] / 1e6:.1f} MB in {out}")
    return record
