"""Simulated audits where the truth is known, for measuring the error rates of the tests instead of assuming
them (``tests/test_calibration.py``, ``bench/calibration.py``).

A simulated world has ``K`` artists. Each artist's real works lie around a style vector; each artist's
imitations share a **cluster centre** (one prompt, one style the model learnt for it) and scatter around
it — exactly the structure that makes counting imitations as independent observations wrong. An imitated
artist's centre leans towards its style; an artist that is not imitated gets a centre of its own, unrelated
to its works. Options add what real embeddings have: style families (confusable neighbours), hubs (clusters
and works close to everything), unequal spreads per artist, a single real work per artist.

:func:`rejection_rates` runs each test on many worlds and counts how often it rejects: for artists that are
not imitated (every rejection a false positive) and for artists that are (power). The classification side
has its own null (:func:`classification_world`: predictions that have nothing to do with the prompted
name, but are shared within a name's images) and so does the comparison of two configurations
(:func:`paired_world`: two configurations equally good over artists, each artist's images correlated).

The exposure threshold has its own (:func:`exposure_world`: accuracy rising with caption counts through a
known curve, or not at all), and :func:`threshold_coverage` measures its interval's coverage.

:func:`shuffle_images_p` is the permutation test against chance that shuffles labels image by image — this
package's test until it moved to the names as units; no stage uses it, it is kept to measure its error rate.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.special import expit, logit

from . import artist_level, exposure, significance

__all__ = [
    "World",
    "WorldSpec",
    "SCENARIOS",
    "world",
    "rejection_rates",
    "classification_world",
    "shuffle_images_p",
    "paired_world",
    "per_artist_accuracy",
    "exposure_world",
    "threshold_coverage",
]


@dataclass(frozen=True)
class WorldSpec:
    """The shape of a simulated world (see the module docstring); ``imitated`` is the share of artists whose
    imitations lean towards their style (0: every null hypothesis is true)."""

    artists: int = 23
    images: int = 10
    works: int = 20
    dim: int = 64
    imitated: float = 0.0
    families: int = 0
    hubs: float = 0.0
    unequal_spread: bool = False


SCENARIOS = {
    "null": WorldSpec(),
    "null, hubs": WorldSpec(hubs=1.5),
    "null, unequal spreads": WorldSpec(unequal_spread=True),
    "null, style families": WorldSpec(families=5),
    "null, families + hubs + spreads": WorldSpec(families=5, hubs=1.5, unequal_spread=True),
    "null, one real work each": WorldSpec(works=1, hubs=0.5),
    "null, 70 artists": WorldSpec(artists=70),
    "half imitated": WorldSpec(imitated=0.5),
    "half imitated, families + hubs + spreads": WorldSpec(imitated=0.5, families=5, hubs=1.5, unequal_spread=True),
}
"""The worlds whose error rates the README and ``bench/RESULTS.md`` report."""


@dataclass(frozen=True)
class World:
    """One simulated world's embeddings: real works and imitations with the artist of each, and which artists
    are imitated."""

    works: np.ndarray
    works_of: np.ndarray
    imitations: np.ndarray
    imitation_of: np.ndarray
    names: list = field(default_factory=list)
    imitated: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=bool))


def _unit(x: np.ndarray) -> np.ndarray:
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


def world(spec: WorldSpec, rng: np.random.Generator) -> World:
    """A world drawn from ``spec`` with ``rng``."""
    k, d = spec.artists, spec.dim
    if spec.families:
        family = _unit(rng.normal(size=(spec.families, d)))[rng.integers(0, spec.families, k)]
        style = _unit(family + 0.7 * _unit(rng.normal(size=(k, d))))
    else:
        style = _unit(rng.normal(size=(k, d)))
    hub = _unit(rng.normal(size=d))
    spread = rng.uniform(0.5, 1.5, k) if spec.unequal_spread else np.ones(k)
    noise = 3.2 / np.sqrt(d)
    works = np.repeat(style, spec.works, axis=0) + np.repeat(spread, spec.works)[:, None] * noise * rng.normal(
        size=(k * spec.works, d)
    )
    works += spec.hubs * np.repeat(rng.uniform(0, 1, k), spec.works)[:, None] * hub
    imitated = rng.random(k) < spec.imitated
    own = _unit(rng.normal(size=(k, d)))
    centres = np.where(imitated[:, None], 0.8 * style + 0.6 * own, own) + spec.hubs * rng.uniform(0, 2, (k, 1)) * hub
    imitations = np.repeat(centres, spec.images, axis=0) + np.repeat(0.6 * spread, spec.images)[
        :, None
    ] * noise * rng.normal(size=(k * spec.images, d))
    names = [f"artist {i:03d}" for i in range(k)]
    return World(works, np.repeat(names, spec.works), imitations, np.repeat(names, spec.images), names, imitated)


def rejection_rates(spec: WorldSpec, n_worlds: int, *, alpha: float = 0.05, seed: int = 0) -> pd.DataFrame:
    """How often each validation test rejects on ``n_worlds`` worlds of ``spec``: one row per test (the
    paper's, Bonferroni; the artist-level, Benjamini–Hochberg) with ``size`` (share of raw p-values ≤ α over
    the artists not imitated), ``false_positive_rate`` (share of them significant after the correction),
    ``familywise_error`` (share of worlds with at least one), ``power`` (share of imitated artists
    significant; NaN when none is), and the numbers of null and imitated artists behind them."""
    rng = np.random.default_rng(seed)
    counts = {test: np.zeros(5) for test in ("paper_test", "artist_level")}  # raw, fp, any, hits, worlds
    n_null = n_imitated = 0
    for _ in range(n_worlds):
        w = world(spec, rng)
        s = significance.scores(w.works, w.works_of, w.imitations, w.imitation_of, w.names)
        paper = significance.paper_test(s, correction="bonferroni", alpha=alpha)
        level = artist_level.artist_level_test(s, correction="fdr_bh", alpha=alpha)
        null = ~w.imitated
        n_null, n_imitated = n_null + int(null.sum()), n_imitated + int(w.imitated.sum())
        for test, p, flags in (
            ("paper_test", paper["p_value"], paper["significant"]),
            ("artist_level", level["p_artist_level"], level["significant_artist_level"]),
        ):
            p, flags = p.to_numpy(float), flags.to_numpy(bool)
            counts[test] += [(p[null] <= alpha).sum(), flags[null].sum(), flags[null].any(), flags[w.imitated].sum(), 1]
    rows = []
    for test, (raw, fp, any_fp, hits, worlds) in counts.items():
        rows.append(
            {
                "test": test,
                "size": raw / max(n_null, 1),
                "false_positive_rate": fp / max(n_null, 1),
                "familywise_error": any_fp / worlds,
                "power": hits / n_imitated if n_imitated else np.nan,
                "n_null": n_null,
                "n_imitated": n_imitated,
                "worlds": int(worlds),
            }
        )
    return pd.DataFrame(rows)


def classification_world(rng: np.random.Generator, names: int = 23, images: int = 10, *, clustered: bool = True):
    """``(true, predicted)`` label indices under the null of classification: every image of a name is
    predicted as one label drawn for that name (``clustered``: the images share their prompt's style, so
    they are mistaken alike) or, without clustering, each image independently."""
    true = np.repeat(np.arange(names), images)
    if clustered:
        return true, np.repeat(rng.integers(0, names, names), images)
    return true, rng.integers(0, names, true.size)


def shuffle_images_p(
    true: np.ndarray, predicted: np.ndarray, n_labels: int, *, n_perm: int = 1000, seed: int = 0
) -> float:
    """The image-level permutation test against chance (kept to measure its error rate; no stage uses it):
    the mean-over-names accuracy against the same with the true labels shuffled image by image,
    ``p = (1 + #{T_perm ≥ T}) / (1 + n_perm)``."""
    counts = np.bincount(true, minlength=n_labels)
    weight = np.where(counts > 0, 1.0 / np.maximum(counts, 1), 0.0) / max((counts > 0).sum(), 1)
    observed = float(((true == predicted) * weight[true]).sum())
    rng = np.random.default_rng(seed)
    shuffled = rng.permuted(np.tile(true, (n_perm, 1)), axis=1)
    at_least = int((((shuffled == predicted) * weight[predicted]).sum(axis=1) >= observed - 1e-12).sum())
    return (1 + at_least) / (1 + n_perm)


def paired_world(rng: np.random.Generator, artists: int = 23, images: int = 10):
    """Two configurations equally good over artists, classifying the same images: ``(artist_of_image,
    correct_a, correct_b)``. Each artist's chance of being recognised is drawn for each configuration from the
    same distribution, so the configurations differ artist by artist by luck alone, and an artist's images
    are right or wrong together more often than independent images would be."""
    level = rng.beta(2, 2, size=(2, artists))
    of = np.repeat(np.arange(artists), images)
    correct = rng.random((2, of.size)) < level[:, of]
    return of, correct[0], correct[1]


def per_artist_accuracy(of: np.ndarray, correct: np.ndarray) -> np.ndarray:
    """The share of each artist's images that are right."""
    return np.bincount(of, weights=correct.astype(float)) / np.bincount(of)


def exposure_world(
    rng: np.random.Generator,
    *,
    slope: float = 3.0,
    threshold: float = 100.0,
    level: float = 0.5,
    chance: float = 1 / 32,
    artists: int = 32,
    images: int = 10,
    null_accuracy: float = 0.3,
):
    """``(counts, n_correct, n_images)`` of a world whose accuracy follows :func:`helpers.exposure.accuracy_curve`
    with ``slope`` per decade and the ``level`` reached at ``threshold`` captions; counts log-uniform in
    10–1000. ``slope=0``: accuracy ``null_accuracy`` whatever the count (no threshold)."""
    counts = np.round(10 ** rng.uniform(1, 3, artists))
    if slope:
        b0 = logit((level - chance) / (1 - chance)) - slope * np.log10(1 + threshold)
        p = chance + (1 - chance) * expit(b0 + slope * np.log10(1 + counts))
    else:
        p = np.full(artists, null_accuracy)
    return counts, rng.binomial(images, p), np.full(artists, images)


def threshold_coverage(
    n_worlds: int, *, n_boot: int = 500, confidence: float = 0.95, seed: int = 0, **world_kw
) -> dict:
    """How often the threshold's interval covers the true threshold of :func:`exposure_world` (``coverage``),
    the median log10 error of the estimate, and how often a world without an exposure effect is given a
    bounded interval (``bounded_under_null``: a threshold found where there is none)."""
    rng = np.random.default_rng(seed)
    truth = world_kw.get("threshold", 100.0)
    chance, level = world_kw.get("chance", 1 / 32), world_kw.get("level", 0.5)
    covered, bounded, errors = 0, 0, []
    for i in range(n_worlds):
        fit = exposure.threshold_fit(
            *exposure_world(rng, **world_kw), chance=chance, level=level, n_boot=n_boot, confidence=confidence, seed=i
        )
        covered += fit.ci_low is not None and fit.ci_high is not None and fit.ci_low <= truth <= fit.ci_high
        if fit.threshold is not None:
            errors.append(np.log10(fit.threshold / truth))
        null = exposure.threshold_fit(
            *exposure_world(rng, **{**world_kw, "slope": 0.0}),
            chance=chance,
            level=level,
            n_boot=n_boot,
            confidence=confidence,
            seed=i,
        )
        bounded += null.ci_low is not None and null.ci_high is not None
    return {
        "worlds": n_worlds,
        "boot": n_boot,
        "coverage": covered / n_worlds,
        "median_log10_error": float(np.median(errors)) if errors else None,
        "bounded_under_null": bounded / n_worlds,
    }
