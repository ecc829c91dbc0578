"""Train every toy-world model from one seed and write ``models/toy-world/`` with its manifest.

    python -m helpers.toyworld train --seed 0 [--threads 2] [--out models/toy-world] [--corpus data/toy_world]

builds the corpus if it is missing, then trains in order: the autoencoder, the generator (UNet + text
encoder on the autoencoder's latents), and the CLIP encoders (``toy-clip``, ``toy-clip-b``: same recipe,
other seeds). Deterministic from the seed on a given machine and thread count: torch's intra-op threads
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
from .configs import CLIP, ENCODERS, PLAN, SCHEDULER, TEXT_ENCODER, UNET, VAE, Plan
from .corpus import DEFAULT_DIR, digest, ensure_corpus, read_corpus
from .manifest import MODELS_DIR, versions, write_manifest

__all__ = ["GENERATOR", "train_world", "command"]

GENERATOR = "toy-sd"
_SEED_OFFSETS = {"vae": 1, "generator": 2, "clip": 10}


def command(seed: int, threads: int) -> str:
    """The command line that reproduces a training run."""
    return f"python -m helpers.toyworld train --seed {seed} --threads {threads}"


def _seed(seed: int, part: str, extra: int = 0) -> int:
    return 1000 * seed + _SEED_OFFSETS[part] + extra


def train_world(
    *,
    seed: int = 0,
    threads: int = 2,
    out: str | os.PathLike = MODELS_DIR,
    corpus_dir: str | os.PathLike = DEFAULT_DIR,
    plan: Plan = PLAN,
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Train every model and write ``out`` (``toy-sd/``, ``toy-clip/``, ``toy-clip-b/``, ``MANIFEST.json``).

    Returns the manifest record.
    """
    import torch

    from .train_clip import save_clip, train_clip
    from .train_generator import build_tokenizer, save_generator, train_generator
    from .train_vae import encode_latents, train_vae

    start = time.perf_counter()
    torch.set_num_threads(threads)
    out = Path(out)
    tmp = out.with_name(f".tmp-{out.name}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    corpus_record = ensure_corpus(corpus_dir, seed=seed)
    corpus, real = read_corpus(corpus_dir)
    if digest(corpus, real) != corpus_record["digest"]:
        raise AuditError(
            f"the corpus files in {corpus_dir} do not match their recorded digest",
            where="helpers.toyworld train",
            fix="rebuild it: python -m helpers.toyworld corpus --force",
        )
    seconds: dict[str, float] = {"corpus": time.perf_counter() - start}

    t = time.perf_counter()
    vae = train_vae(corpus.images, seed=_seed(seed, "vae"), plan=plan, log=log)
    latents = encode_latents(vae, corpus.images)
    seconds["vae"] = time.perf_counter() - t

    t = time.perf_counter()
    tokenizer = build_tokenizer()
    unet, text_encoder = train_generator(latents, corpus.captions, tokenizer, seed=_seed(seed, "generator"), plan=plan, log=log)
    save_generator(tmp / GENERATOR, unet=unet, vae=vae, text_encoder=text_encoder, tokenizer=tokenizer)
    seconds["unet_text_encoder"] = time.perf_counter() - t
    seconds[GENERATOR] = seconds["vae"] + seconds["unet_text_encoder"]

    for name, offset in ENCODERS.items():
        t = time.perf_counter()
        model = train_clip(corpus.images, corpus.captions, seed=_seed(seed, "clip", offset), plan=plan, log=log)
        save_clip(tmp / name, model)
        seconds[name] = time.perf_counter() - t

    seconds["total"] = time.perf_counter() - start
    record = {
        "command": command(seed, threads),
        "seed": seed,
        "torch_threads": threads,
        "training_seconds": {k: round(v, 1) for k, v in seconds.items()},
        "corpus": {"digest": corpus_record["digest"], "recipe": corpus_record["recipe"], "seed": corpus_record["seed"],
                   "n_captions": corpus_record["n_captions"]},
        "plan": plan.as_dict(),
        "architectures": {"vae": VAE, "unet": UNET, "text_encoder": TEXT_ENCODER, "scheduler": SCHEDULER, "clip": CLIP},
        "versions": versions(),
        "weights_dtype": "float16 (loaded as float32)",
    }  # fmt: skip
    for path in tmp.rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)  # safetensors writes 0600; the folder goes into git
    record = write_manifest(tmp, record)
    if out.exists():
        shutil.rmtree(out)
    tmp.rename(out)
    log(f"trained in {seconds['total']:.0f} s; weights {record['weights_bytes'] / 1e6:.1f} MB in {out}")
    return record
