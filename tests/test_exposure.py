"""The exposure threshold (helpers.exposure): the fit is the maximum-likelihood one (checked against a
general-purpose optimiser), a noiseless world gives back its threshold, and the interval's coverage and its
false thresholds under the null are measured on simulated worlds (bench/exposure_threshold.py at full size)."""

import numpy as np
import pytest
from scipy import optimize
from scipy.special import expit

from helpers import exposure, simulation
from helpers.errors import AuditError

CHANCE = 1 / 32


def _nll(beta, x, k, n):
    p = np.clip(CHANCE + (1 - CHANCE) * expit(beta[0] + beta[1] * x), 1e-12, 1 - 1e-12)
    return -(k * np.log(p) + (n - k) * np.log1p(-p)).sum()


@pytest.mark.parametrize("seed", range(5))
def test_the_fit_is_the_maximum_likelihood_one(seed):
    counts, k, n = simulation.exposure_world(np.random.default_rng(seed))
    x = np.log10(1 + counts)
    b0, b1 = exposure.fit_curve(counts, k, n, CHANCE)
    best = optimize.minimize(
        _nll,
        [0.0, 1.0],
        args=(x, k, n),
        method="Nelder-Mead",
        options={"xatol": 1e-9, "fatol": 1e-12, "maxiter": 20000},
    )
    assert _nll([b0, b1], x, k, n) <= best.fun + 1e-6  # as good as the optimiser's optimum, or better
    assert (b0, b1) == pytest.approx(tuple(best.x), abs=1e-3)


def test_a_noiseless_world_gives_back_its_threshold():
    # accuracy exactly on the curve (a million images per artist): the threshold is recovered to 1%
    rng = np.random.default_rng(0)
    counts, _, _ = simulation.exposure_world(rng)
    b0 = np.log(((0.5 - CHANCE) / (1 - CHANCE)) / (1 - (0.5 - CHANCE) / (1 - CHANCE))) - 3.0 * np.log10(101)
    p = exposure.accuracy_curve(counts, b0, 3.0, CHANCE)
    n = np.full(len(counts), 1_000_000)
    fit = exposure.threshold_fit(counts, np.round(p * n), n, chance=CHANCE, n_boot=200)
    assert fit.threshold == pytest.approx(100.0, rel=0.01) and fit.slope == pytest.approx(3.0, rel=0.01)
    assert fit.ci_low <= 100.0 <= fit.ci_high and fit.ci_high / fit.ci_low < 1.2 and not fit.extrapolated


def test_no_exposure_effect_gives_no_bounded_threshold():
    # accuracy falling with exposure: the curve does not rise, so there is no threshold and the interval is unbounded
    counts = np.array([10, 20, 50, 100, 200, 500, 1000.0])
    n = np.full(7, 10)
    fit = exposure.threshold_fit(counts, np.array([9, 9, 8, 6, 5, 3, 1]), n, chance=CHANCE, n_boot=200)
    assert fit.threshold is None and fit.ci_high is None and "does not rise" in fit.note
    few = exposure.threshold_fit(counts[:4], np.array([1, 2, 3, 4]), n[:4], chance=CHANCE)
    assert few.threshold is None and few.slope is None and "fewer than" in few.note


def test_the_interval_is_near_its_nominal_coverage_and_rarely_finds_a_threshold_that_is_not_there():
    # 300 worlds here (1000 in bench/exposure_threshold.py: 0.931 coverage, 0.033 bounded under the null);
    # a 95% interval may undercover a little (a percentile bootstrap over 32 artists): ≥ 0.88 is 3 binomial
    # standard errors below 0.93, and a false bounded threshold in at most 8% of null worlds
    out = simulation.threshold_coverage(300, n_boot=300)
    assert out["coverage"] >= 0.88, out
    assert out["bounded_under_null"] <= 0.08, out
    assert abs(out["median_log10_error"]) < 0.05, out


def test_bad_input_is_refused():
    with pytest.raises(AuditError, match="between chance"):
        exposure.threshold_fit([10, 20, 30, 40, 50], [1] * 5, [10] * 5, chance=0.6, level=0.5)
    with pytest.raises(AuditError, match="must align"):
        exposure.threshold_fit([10, 20], [1, 2, 3], [10, 10, 10], chance=CHANCE)


def test_a_curve_already_at_the_level_with_no_captions_needs_none():
    """Where the fitted curve is above the level at every count (a world where even the rarely captioned
    artists are imitated), the threshold and the interval's lower end are 0 captions, never a negative count."""
    counts = np.array([100.0, 150, 200, 300, 400, 600, 800, 1000])
    n = np.full(len(counts), 10)
    k = np.array([8, 9, 8, 9, 10, 9, 10, 10])
    fit = exposure.threshold_fit(counts, k, n, chance=0.05, level=0.5, n_boot=300)
    assert fit.threshold is not None and fit.threshold >= 0 and fit.ci_low is not None and fit.ci_low >= 0
    assert exposure._thresholds(5.0, 1.0, 0.05, 0.5)[0] == 0.0  # logit point at x = -5: c* = 0, not 10**-5 - 1
