"""Negative controls: the validation tests run where the truth is "no imitation", so that every run measures
their false-positive rates instead of assuming them.

* **Deranged real works** — each artist is given another artist's real works: for a shift ``k`` of the
  ``V`` validated artists (in the run's order), artist ``j`` gets the works of artist ``(j + k) mod V``. Every
  shift ``k = 1 … V − 1`` is used (each artist meets every other artist's works once), or a seeded sample of
  ``derangements`` of them. Exactly what a user gets who points the audit at a real-works folder whose
  artist folders hold the wrong artists' works.
* **Random names as imitations** — the random-name imitations (the baseline: names the model knows nothing
  of) stand in for the artists' imitations: random name ``j`` plays artist ``(j + k) mod m`` for every
  shift ``k = 0 … m − 1``, ``m`` the smaller of the numbers of validated artists and of random names with
  images; the first ``m`` validated artists keep their own works.

In both, every null hypothesis is true, so any artist found significant is a false positive. Each
replicate runs the paper's test (with the run's correction) and the artist-level test (with its own) exactly
as the stage runs them on the true pairing. Reported per control and test: the false-positive rate (false
positives over tests, after the correction) and the family-wise error (replicates with at least one), each
with a Wilson interval — approximate, since the replicates share artists — and the share of raw p-values at
or below α (a calibrated test's is at most α).

Pure functions over arrays (no file I/O).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import arrays, artist_level, significance, stats
from .files import Columns
from .schema import Aggregate, Correction

__all__ = [
    "CONTROL_COLUMNS",
    "PVALUE_COLUMNS",
    "CONTROLS",
    "TESTS",
    "ControlSettings",
    "deranged_shifts",
    "random_name_scores",
    "run_controls",
    "summarise",
]

CONTROLS = {
    "deranged_works": "deranged real works (each artist given another artist's works)",
    "random_names": "random-name imitations standing in for the artists' imitations",
}
TESTS = {
    "paper_test": "paper's test (imitations as independent)",
    "artist_level": "artist-level test (artists as units)",
}
PVALUE_COLUMNS = Columns(
    control="text",
    replicate="int",
    test="text",
    artist="text",
    p_value="float",
    p_adjusted="float",
    significant="bool?",
)
CONTROL_COLUMNS = Columns(
    control="text",
    test="text",
    replicates="int",
    tests="int",
    false_positives="int",
    false_positive_rate="float",
    fpr_ci_low="float",
    fpr_ci_high="float",
    replicates_with_any="int",
    familywise_error="float",
    fwe_ci_low="float",
    fwe_ci_high="float",
    size_at_alpha="float",
    correction="text",
    alpha="float",
    description="text",
)


@dataclass(frozen=True)
class ControlSettings:
    """How the two tests are corrected, at which level, and how many derangements (``None``: every shift)."""

    correction: Correction
    artist_level_correction: Correction
    alpha: float
    derangements: int | None = None
    seed: int = 0


def deranged_shifts(n: int, sample: int | None = None, seed: int = 0) -> list[int]:
    """The cyclic shifts ``1 … n − 1`` used as derangements, or a seeded sample of ``sample`` of them (in
    increasing order); none for fewer than two artists."""
    shifts = list(range(1, n))
    if sample is None or sample >= len(shifts):
        return shifts
    sample = arrays.positive_int(sample, "derangements", "deranged_shifts")
    return sorted(int(k) for k in np.random.default_rng(seed).choice(shifts, size=sample, replace=False))


def random_name_scores(
    real_emb: np.ndarray, real_artist, rn_emb: np.ndarray, rn_name, artists, *, aggregate: Aggregate = "mean"
) -> significance.Scores | None:
    """The validated artists' scores over the random-name imitations (``names``: the random names in order of
    first appearance, ``imitation_of`` each image's), or ``None`` when fewer than two random names have
    images (no baseline to stand in)."""
    rn_names = list(dict.fromkeys(rn_name))
    if len(rn_names) < 2:
        return None
    validated, n_real, values = significance.score_matrix(real_emb, real_artist, rn_emb, artists, aggregate=aggregate)
    position = {n: i for i, n in enumerate(rn_names)}
    return significance.Scores(
        validated, n_real, values, rn_names, np.array([position[n] for n in rn_name]), np.full(len(validated), -1)
    )


def _replicate(s: significance.Scores, settings: ControlSettings, control: str, replicate: int) -> list[tuple]:
    rows = []
    paper = significance.paper_test(s, correction=settings.correction, alpha=settings.alpha)
    rows += [
        (control, replicate, "paper_test", r.artist, r.p_value, r.p_adjusted, bool(r.significant))
        for r in paper.itertuples()
    ]
    level = artist_level.artist_level_test(s, correction=settings.artist_level_correction, alpha=settings.alpha)
    if level["p_artist_level"].notna().all():
        rows += [
            (
                control,
                replicate,
                "artist_level",
                r.artist,
                r.p_artist_level,
                r.p_adjusted_artist_level,
                bool(r.significant_artist_level),
            )
            for r in level.itertuples()
        ]
    return rows


def run_controls(
    s: significance.Scores, random_names: significance.Scores | None, settings: ControlSettings
) -> pd.DataFrame:
    """Every p-value of every replicate of both controls (columns :data:`PVALUE_COLUMNS`).

    ``s`` are the true pairing's scores; ``random_names`` the scores of the validated artists' real works
    over the random-name imitations, with ``imitation_of`` naming each image's random name among
    ``random_names.names`` (``None`` when the run has no usable baseline). A control needs at least two
    artists (the artist-level test, :data:`helpers.artist_level.MIN_ARTISTS`)."""
    rows: list[tuple] = []
    n = len(s.artists)
    for k in deranged_shifts(n, settings.derangements, settings.seed):
        rows += _replicate(s.with_works_of((np.arange(n) + k) % n), settings, "deranged_works", k)
    if random_names is not None:
        for k, stand_in in _stand_ins(random_names):
            rows += _replicate(stand_in, settings, "random_names", k)
    return pd.DataFrame(rows, columns=list(PVALUE_COLUMNS))


def _stand_ins(rn: significance.Scores):
    """For every shift, the random-name scores relabelled so that random name ``j`` plays artist ``(j + k) mod m``."""
    present = np.unique(rn.imitation_of)
    m = min(len(rn.artists), present.size)
    if m < 2:
        return
    rank = np.full(len(rn.names), -1)
    rank[present[:m]] = np.arange(m)
    keep = rank[rn.imitation_of] >= 0
    artists = list(rn.artists[:m])
    for k in range(m):
        plays = (rank[rn.imitation_of[keep]] + k) % m
        yield k, significance.Scores(artists, rn.n_real[:m], rn.values[:m][:, keep], artists, plays, np.arange(m))


def summarise(pvalues: pd.DataFrame, settings: ControlSettings, confidence: float = 0.95) -> pd.DataFrame:
    """One row per control and test (columns :data:`CONTROL_COLUMNS`): false-positive rate and family-wise
    error with Wilson intervals, and the share of raw p-values at or below α."""
    rows = []
    for (control, test), group in pvalues.groupby(["control", "test"], sort=False):
        n_tests, false = len(group), int(group["significant"].sum())
        per_replicate = group.groupby("replicate")["significant"].any()
        n_rep, any_false = int(per_replicate.size), int(per_replicate.sum())
        fpr_low, fpr_high = stats.proportion_interval(false, n_tests, confidence)
        fwe_low, fwe_high = stats.proportion_interval(any_false, n_rep, confidence)
        correction = settings.correction if test == "paper_test" else settings.artist_level_correction
        rows.append(
            (
                control,
                test,
                n_rep,
                n_tests,
                false,
                false / n_tests,
                fpr_low,
                fpr_high,
                any_false,
                any_false / n_rep,
                fwe_low,
                fwe_high,
                float((group["p_value"] <= settings.alpha).mean()),
                correction,
                settings.alpha,
                f"{CONTROLS[control]}; {TESTS[test]}",
            )
        )
    return pd.DataFrame(rows, columns=list(CONTROL_COLUMNS))
