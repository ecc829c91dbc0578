"""The error rates of the audit's tests, measured by simulation (:mod:`helpers.simulation`): for each world
of ``helpers.simulation.SCENARIOS``, how often the paper's validation test (imitations as independent,
Bonferroni) and the artist-level test (artists as units, Benjamini–Hochberg) reject for artists that are not
imitated, and how often they find those that are; then the permutation test against chance (names as units)
beside the image-level shuffle it replaced, and the paired comparison of two configurations over artists
beside McNemar over images. ``tests/test_calibration.py`` asserts the same on fewer worlds.

    .venv/bin/python bench/calibration.py [--worlds 300] [--seed 0]

Prints one table; the numbers of a recorded run are in bench/RESULTS.md ("Calibration").
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import time

import numpy as np
import pandas as pd

from helpers import significance, simulation, stats

ALPHA = 0.05


def machine() -> str:
    cpu = next(
        (ln.split(":", 1)[1].strip() for ln in open("/proc/cpuinfo") if ln.startswith("model name")),
        platform.processor(),
    )
    return f"{cpu}, {os.cpu_count()} cores, numpy {np.__version__}, load average {os.getloadavg()[0]:.2f}"


def wilson(hits: float, n: int) -> str:
    low, high = stats.proportion_interval(round(hits), n, 0.95)
    return f"[{100 * low:.1f}, {100 * high:.1f}]"


def validation(worlds: int, seed: int) -> pd.DataFrame:
    rows = []
    for name, spec in simulation.SCENARIOS.items():
        n = max(20, worlds // 4) if spec.artists > 40 else worlds
        rates = simulation.rejection_rates(spec, n, seed=seed)
        for r in rates.itertuples():
            rows.append(
                {
                    "world": name,
                    "test": r.test,
                    "worlds": n,
                    "size at α (raw p ≤ α), %": f"{100 * r.size:.1f} {wilson(r.size * r.n_null, r.n_null)}",
                    "false positives after correction, %": f"{100 * r.false_positive_rate:.2f}",
                    "family-wise error, %": f"{100 * r.familywise_error:.1f} {wilson(r.familywise_error * n, n)}",
                    "power, %": "—" if math.isnan(r.power) else f"{100 * r.power:.1f}",
                }
            )
    return pd.DataFrame(rows)


def others(worlds: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = 4 * worlds
    counts = dict.fromkeys(("names", "images", "artists", "mcnemar"), 0)
    for i in range(n):
        true, predicted = simulation.classification_world(rng, names=10)
        counts["names"] += stats.permutation_test_vs_chance(true, predicted, 10, n_perm=999, seed=i) <= ALPHA
        counts["images"] += simulation.shuffle_images_p(true, predicted, 10, n_perm=499, seed=i) <= ALPHA
        of, a, b = simulation.paired_world(rng)
        counts["artists"] += (
            significance.signed_rank(simulation.per_artist_accuracy(of, a), simulation.per_artist_accuracy(of, b))
            <= ALPHA
        )
        counts["mcnemar"] += significance.mcnemar_exact(a, b)[2] <= ALPHA
    labels = {
        "names": "permutation test vs chance, names as units (the package's)",
        "images": "permutation test vs chance, images shuffled one by one (before)",
        "artists": "two configurations compared: signed-rank over artists (the package's)",
        "mcnemar": "two configurations compared: exact McNemar over images (reported as image-level)",
    }
    return pd.DataFrame(
        [
            {"test": labels[k], "nulls": n, "rejects at α = 0.05, %": f"{100 * v / n:.1f} {wilson(v, n)}"}
            for k, v in counts.items()
        ]
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--worlds", type=int, default=300, help="worlds per scenario (a quarter for 70 artists)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    start = time.perf_counter()
    print(f"machine: {machine()}")
    with pd.option_context("display.width", 250, "display.max_colwidth", 80):
        print(validation(args.worlds, args.seed).to_string(index=False))
        print()
        print(others(args.worlds, args.seed).to_string(index=False))
    print(f"\n{time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
