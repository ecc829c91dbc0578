"""The exposure threshold's error rate, measured (:func:`helpers.simulation.threshold_coverage`): on simulated
worlds with a known curve and threshold, how often the bootstrap interval of
:func:`helpers.exposure.threshold_fit` covers the true threshold, and how often a world whose accuracy does
not depend on exposure is given a bounded interval (a threshold found where there is none).

    .venv/bin/python bench/exposure_threshold.py [--worlds 1000] [--boot 1000]

Each world: 32 artists (chance 1/32, as in the hard toy world), caption counts log-uniform in 10–1000, 10
imitations each, accuracy rising 3 logits per decade and reaching 50% at 100 captions; the null worlds have
accuracy 0.3 whatever the count.
"""

from __future__ import annotations

import argparse
import time

from helpers.simulation import threshold_coverage


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--worlds", type=int, default=1000)
    ap.add_argument("--boot", type=int, default=1000)
    ns = ap.parse_args()
    start = time.perf_counter()
    for artists, images in ((32, 10), (16, 10), (32, 30)):
        out = threshold_coverage(ns.worlds, n_boot=ns.boot, artists=artists, images=images)
        print(
            f"{artists} artists x {images} images: coverage of the 95% interval {out['coverage']:.3f}, "
            f"median log10(estimate / truth) {out['median_log10_error']:+.3f}, null worlds given a bounded "
            f"interval {out['bounded_under_null']:.3f} ({out['worlds']} worlds, {out['boot']} resamples)"
        )
    print(f"{time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
