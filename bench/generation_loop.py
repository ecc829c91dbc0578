"""Overhead of the generation loop (seeds, batching, PNG encoding with metadata, atomic fsynced writes,
validity checks) over bare pipeline calls, on the tiny random-weight model, CPU.

Two measures, printed together:

- *inside*: during the loop, the time spent in the pipeline's ``__call__`` is timed; the rest is the
  loop's own cost. Both come from the same run, so load from other processes cancels out.
- *separate*: bare pipeline calls on the same batches, prompts and per-image generators vs the loop,
  repeats interleaved, minimum of each kept.

Both sides use one intra-op thread (``generation.cpu_threads: 1``, the setting for byte-identical results
across process layouts). Then the choice itself: the loop with ``cpu_threads: 1`` against ``cpu_threads:
all`` (every core), same images, interleaved repeats — the speed a student's laptop gets by default.

    .venv/bin/python bench/generation_loop.py            # prints one line per measure, then the ratio
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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--names", type=int, default=4, help="names per group")
    ap.add_argument("--images", type=int, default=4, help="images per name")
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--steps", type=int, default=4)
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--repeats", type=int, default=5)
    ns = ap.parse_args()

    import torch

    from helpers import generation, models, schema
    from helpers.paths import RunPaths

    params = schema.load(
        {
            "run": "bench-generation",
            "generation": {
                "generators": [{"name": "tiny-sd", "source": "tiny", "model": "tiny-sd"}],
                "images_per_name": ns.images,
                "height": ns.size,
                "width": ns.size,
                "steps": ns.steps,
                "batch_size": ns.batch,
                "device": "cpu",
                "dtype": "float32",
                "channels_last": False,
                "cpu_threads": 1,
            },
            "encoding": {
                "encoders": [{"name": "tiny-clip", "source": "tiny", "model": "tiny-clip", "pretrained": None}]
            },
            "validation": {"real_works_dir": None, "standin": True},
        }
    )
    g = params.generation
    names = {
        "artists": [f"Artist Number {i}" for i in range(ns.names)],
        "random_names": [f"Random Person {i}" for i in range(ns.names)],
    }
    config = params.configurations[0]
    jobs = generation.imitation_jobs(params, config, names)
    batches = [jobs[i : i + g.batch_size] for i in range(0, len(jobs), g.batch_size)]
    pipe = models.load_pipeline(config.generator, g)

    def generate(root: Path, pipeline, gen=g) -> dict:
        return generation.generate(gen, config, jobs, root, RunPaths(root).images(), pipeline=pipeline, progress=False)

    all_cores = g.model_copy(update={"cpu_threads": "all"})

    def raw(threads: int) -> float:
        before = torch.get_num_threads()
        torch.set_num_threads(threads)
        start = time.perf_counter()
        for batch in batches:
            pipe(
                prompt=[j.prompt for j in batch],
                height=g.height,
                width=g.width,
                num_inference_steps=g.steps,
                guidance_scale=g.guidance_scale,
                output_type="pil",
                generator=[torch.Generator("cpu").manual_seed(j.seed) for j in batch],
            )
        took = time.perf_counter() - start
        torch.set_num_threads(before)
        return took

    with tempfile.TemporaryDirectory() as tmp:
        runs = iter(range(10_000))

        class Timed:
            """The pipeline, with the time spent in its calls added up."""

            def __init__(self, inner):
                self.inner, self.seconds = inner, 0.0

            def __getattr__(self, name):
                return getattr(self.inner, name)

            def __call__(self, **kwargs):
                start = time.perf_counter()
                out = self.inner(**kwargs)
                self.seconds += time.perf_counter() - start
                return out

        inside: list[float] = []

        def loop() -> float:
            root = Path(tmp) / f"run{next(runs)}"
            timed = Timed(pipe)
            start = time.perf_counter()
            generate(root, timed)
            took = time.perf_counter() - start
            inside.append((took - timed.seconds) / timed.seconds)
            return took

        raw(1)  # warm-up
        t_raw, t_loop, t_raw_all, t_loop_all = [], [], [], []
        for _ in range(ns.repeats):
            t_raw.append(raw(1))
            t_loop.append(loop())
            t_raw_all.append(raw(torch.get_num_threads()))
            start = time.perf_counter()
            generate(Path(tmp) / f"all{next(runs)}", pipe, all_cores)
            t_loop_all.append(time.perf_counter() - start)
        root = Path(tmp) / "run0"
        start = time.perf_counter()
        skipped = generate(root, pipe)
        t_skip = time.perf_counter() - start
        assert skipped["generated"] == 0

    n = len(jobs)
    r, lp, ra = min(t_raw), min(t_loop), min(t_raw_all)
    print(f"machine: {machine()}")
    print(
        f"workload: tiny-sd {g.height}x{g.width}, {g.steps} steps, guidance {g.guidance_scale}, batch {g.batch_size}, "
        f"{n} images, {ns.repeats} interleaved repeats (min kept)"
    )
    print(f"raw pipeline calls, 1 thread: {r:.3f} s ({1000 * r / n:.1f} ms/image)")
    print(f"helper loop (generate),       same threads: {lp:.3f} s ({1000 * lp / n:.1f} ms/image)")
    print(f"resume check of a finished folder: {t_skip:.3f} s ({1000 * t_skip / n:.2f} ms/image)")
    print(
        f"raw pipeline calls, {torch.get_num_threads()} threads (not pinned): {ra:.3f} s ({1000 * ra / n:.1f} ms/image)"
    )
    print(
        f"overhead of the loop, inside (loop time outside pipeline calls / time in them, median of "
        f"{len(inside)}): {100 * sorted(inside)[len(inside) // 2]:+.2f}% (goal <= 5%)"
    )
    print(f"overhead of the loop, separate runs (min loop / min raw - 1): {100 * (lp / r - 1):+.1f}%")
    la = min(t_loop_all)
    print(
        f"the choice, helper loop: cpu_threads 1 {lp:.3f} s vs cpu_threads all ({generation.cpu_threads(all_cores)} "
        f"threads) {la:.3f} s: all cores {lp / la:.2f}x faster (byte-identity across process layouts needs 1)"
    )


if __name__ == "__main__":
    main()
