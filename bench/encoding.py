"""End-to-end image encoding (read PNGs from disk, decode, preprocess in DataLoader workers, batched
forward) vs the bare forward on preloaded, preprocessed tensors. ViT-B-32 with random weights
(``pretrained=None``: nothing to download), 224 px, CPU.

The images are synthetic 512x512 PNGs shaped like generated ones (smooth colour fields plus fine
noise), written once to a temporary folder. No embedding cache is used, so every image is computed.
Repeats are interleaved and the minimum of each side is kept (robust to other load on a shared
machine). The CPU time the DataLoader workers spend decoding and preprocessing is printed too: it is
the work the end-to-end path adds, and unlike wall time it hardly moves with other load.

    .venv/bin/python bench/encoding.py [--images 256] [--workers 2]
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def machine() -> str:
    import torch

    cpu = next(
        (ln.split(":", 1)[1].strip() for ln in open("/proc/cpuinfo") if ln.startswith("model name")),
        platform.processor(),
    )
    return f"{cpu}, {os.cpu_count()} cores, torch {torch.__version__}, load average {os.getloadavg()[0]:.2f}"


def worker_cpu_seconds() -> float:
    """CPU time of finished child processes (DataLoader workers are joined at the end of each pass)."""
    import resource

    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return kids.ru_utime + kids.ru_stime


def synthetic_pngs(folder: Path, n: int, size: int = 512) -> list[Path]:
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(0)
    paths = []
    for i in range(n):
        coarse = Image.fromarray(rng.integers(0, 256, (8, 8, 3), dtype=np.uint8)).resize((size, size), Image.BICUBIC)
        pixels = np.asarray(coarse, dtype=np.int16) + rng.integers(-12, 13, (size, size, 3))
        path = folder / f"{i:04d}.png"
        Image.fromarray(pixels.clip(0, 255).astype(np.uint8)).save(path)
        paths.append(path)
    return paths


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--images", type=int, default=192)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=4)
    ap.add_argument("--model", default="ViT-B-32")
    ns = ap.parse_args()

    import torch
    from PIL import Image

    from helpers import encoding, models
    from helpers.schema import EncoderSpec

    enc = models.load_encoder(
        EncoderSpec(name="bench", source="open_clip", model=ns.model, pretrained=None), device="cpu", dtype="float32"
    )
    with tempfile.TemporaryDirectory() as tmp:
        paths = synthetic_pngs(Path(tmp), ns.images)
        mean_png_kb = sum(p.stat().st_size for p in paths) / len(paths) / 1024
        tensors = torch.stack([enc.preprocess(Image.open(p).convert("RGB")) for p in paths])

        def raw() -> None:
            for i in range(0, len(tensors), ns.batch):
                enc.encode_pixels(tensors[i : i + ns.batch])

        def end_to_end() -> None:
            encoding.encode_images(enc, paths, batch_size=ns.batch, num_workers=ns.workers, cache=None, progress=False)

        enc.encode_pixels(tensors[: ns.batch])  # warm-up
        t_raw, t_e2e, cpu_workers = [], [], []
        for _ in range(ns.repeats):
            for fn, wall in ((raw, t_raw), (end_to_end, t_e2e)):
                c0, start = worker_cpu_seconds(), time.perf_counter()
                fn()
                wall.append(time.perf_counter() - start)
                if fn is end_to_end:
                    cpu_workers.append(worker_cpu_seconds() - c0)
    n = len(paths)
    r, e = n / min(t_raw), n / min(t_e2e)
    print(f"machine: {machine()}")
    print(
        f"workload: {ns.model} random weights, 224 px, batch {ns.batch}, {n} PNGs of 512x512 (mean {mean_png_kb:.0f} KB), "
        f"{ns.workers} DataLoader workers, torch threads {torch.get_num_threads()}, {ns.repeats} interleaved repeats (min kept)"
    )
    print(f"raw forward on preloaded tensors: {r:.1f} images/s")
    print(f"end to end (encode_images, no cache): {e:.1f} images/s")
    print(f"ratio end-to-end / raw: {e / r:.3f} (goal >= 0.9)")
    print(
        f"decode+preprocess in the workers: {1000 * min(cpu_workers) / n:.1f} ms CPU per image, vs "
        f"{1000 * min(t_raw) / n:.1f} ms wall per image for the raw forward"
    )
    print(f"all wall times (s): raw {[round(t, 2) for t in t_raw]}, end to end {[round(t, 2) for t in t_e2e]}")


if __name__ == "__main__":
    main()
