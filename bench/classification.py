"""Zero-shot classification at scale: ``helpers.stats.top_k`` on 100,000 images x 10,000 labels at
dimension 768 vs one bare float32 matrix product of the same size (which materialises all 4 GB of
scores), CPU.

Time: repeats interleaved, minimum kept. Memory of ``top_k`` beyond its inputs, two ways:
``tracemalloc`` peak of the call (numpy's own allocations), and the peak RSS of a child process
running only ``top_k`` minus its RSS just before the call (everything, BLAS buffers included).

    .venv/bin/python bench/classification.py [--images 100000 --labels 10000 --dim 768]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time

import numpy as np


def machine() -> str:
    cpu = next(
        (ln.split(":", 1)[1].strip() for ln in open("/proc/cpuinfo") if ln.startswith("model name")),
        platform.processor(),
    )
    return f"{cpu}, {os.cpu_count()} cores, numpy {np.__version__}, load average {os.getloadavg()[0]:.2f}"


def inputs(n: int, m: int, d: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    images = rng.standard_normal((n, d), dtype=np.float32)
    labels = rng.standard_normal((m, d), dtype=np.float32)
    images /= np.linalg.norm(images, axis=1, keepdims=True)
    labels /= np.linalg.norm(labels, axis=1, keepdims=True)
    return images, labels


def rss_bytes() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def peak_rss_bytes() -> int:
    with open("/proc/self/status") as fh:
        kb = next(int(ln.split()[1]) for ln in fh if ln.startswith("VmHWM:"))
    return kb * 1024


def child(ns) -> None:
    """Run top_k once in this (fresh) process; print the RSS before and the peak during, in bytes."""
    from helpers.stats import top_k

    images, labels = inputs(ns.images, ns.labels, ns.dim)
    with open("/proc/self/clear_refs", "w") as fh:  # reset the high-water mark to the current RSS
        fh.write("5")
    before = rss_bytes()
    top_k(images, labels, k=ns.k, chunk_size=ns.chunk_size)
    print(json.dumps({"before": before, "peak": peak_rss_bytes()}))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--images", type=int, default=100_000)
    ap.add_argument("--labels", type=int, default=10_000)
    ap.add_argument("--dim", type=int, default=768)
    ap.add_argument("--k", type=int, nargs="+", default=[1, 5])
    ap.add_argument("--chunk-size", type=int, default=8192)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    ns = ap.parse_args()
    if ns.child:
        ns.k = ns.k[0]
        return child(ns)

    import tracemalloc

    from helpers.stats import top_k

    images, labels = inputs(ns.images, ns.labels, ns.dim)
    t_raw: list[float] = []
    t_top: dict[int, list[float]] = {k: [] for k in ns.k}
    for _ in range(ns.repeats):
        start = time.perf_counter()
        scores = images @ labels.T
        t_raw.append(time.perf_counter() - start)
        del scores
        for k in ns.k:
            start = time.perf_counter()
            top_k(images, labels, k=k, chunk_size=ns.chunk_size)
            t_top[k].append(time.perf_counter() - start)
    traced = {}
    for k in ns.k:
        tracemalloc.start()
        top_k(images, labels, k=k, chunk_size=ns.chunk_size)
        traced[k] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    rss = {}
    for k in ns.k:
        out = subprocess.run(
            [
                sys.executable,
                __file__,
                "--child",
                "--images",
                str(ns.images),
                "--labels",
                str(ns.labels),
                "--dim",
                str(ns.dim),
                "--k",
                str(k),
                "--chunk-size",
                str(ns.chunk_size),
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        rss[k] = json.loads(out.stdout.strip().splitlines()[-1])

    raw = min(t_raw)
    gb = 1e9
    print(f"machine: {machine()}")
    print(
        f"workload: {ns.images:,} images x {ns.labels:,} labels, dim {ns.dim}, float32, chunk_size {ns.chunk_size}, "
        f"{ns.repeats} interleaved repeats (min kept)"
    )
    print(f"raw matrix product (materialises {ns.images * ns.labels * 4 / gb:.1f} GB of scores): {raw:.2f} s")
    for k in ns.k:
        t = min(t_top[k])
        r = rss[k]
        grew = max(r["peak"] - r["before"], 0)
        print(
            f"top_k k={k}: {t:.2f} s, ratio to the raw product {t / raw:.2f}x (goal <= 1.5x); "
            f"peak memory beyond inputs: tracemalloc {traced[k] / gb:.3f} GB, "
            f"RSS {grew / gb:.3f} GB (goal <= 1 GB)"
        )
    print(
        f"all times (s): raw {[round(t, 2) for t in t_raw]}, "
        + ", ".join(f"top_k k={k} {[round(t, 2) for t in v]}" for k, v in t_top.items())
    )


if __name__ == "__main__":
    main()
