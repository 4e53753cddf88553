"""Flip tests of the sensitivity and engines pages' verdicts: data on both sides of each threshold."""

from __future__ import annotations

import numpy as np
import pytest

from experiments import report, verdicts
from experiments.engines import ADVI_TOLERANCE, elbo_change, skewness
from experiments.sensitivity import separable


def test_prior_washout_flips_at_its_threshold():
    sizes = [20, 50, 100, 442]
    washed = verdicts.prior_washout(sizes, [0.6, 0.2, 0.04, 0.01])
    assert washed["outcome"] == "washed out" and washed["first"] == 100
    assert "stops mattering from n = 100" in report.sentence(washed)
    # Below the threshold once, then above again: it has not washed out until it stays below.
    bounced = verdicts.prior_washout(sizes, [0.6, 0.04, 0.2, 0.01])
    assert bounced["first"] == 442
    still = verdicts.prior_washout(sizes, [0.6, 0.4, 0.3, verdicts.WASHOUT * 1.01])
    assert still["outcome"] == "still matters" and still["first"] is None
    assert "still matters at n = 442" in report.sentence(still)


def test_sensitivity_over_widths_flips():
    def width(flagged, where):
        return verdicts.sensitivity(flagged, 30, 0.05, where)

    every = verdicts.sensitivity_widths("logistic", [width(22, "loose"), width(3, "tight")])
    some = verdicts.sensitivity_widths("ridge", [width(0, "loose"), width(3, "tight")])
    none = verdicts.sensitivity_widths("lasso", [width(0, "loose"), width(0, "tight")])
    assert (every["outcome"], every["level"]) == ("every width", verdicts.AMBER)
    assert (some["outcome"], some["value"]) == ("some widths", 1)
    assert (none["outcome"], none["level"]) == ("no width", verdicts.GREEN)
    assert "22 of 30 at loose; 3 of 30 at tight" in report.sentence(every)
    assert "not prior-sensitive" in report.sentence(none)


def test_separation_flips_with_the_data():
    x = np.array([[-2.0], [-1.0], [1.0], [2.0]])
    assert separable(x, np.array([0, 0, 1, 1]))
    assert not separable(x, np.array([0, 1, 0, 1]))  # interleaved: no threshold splits them
    assert "no maximum-likelihood estimate" in report.sentence(verdicts.separation("m", True))
    assert verdicts.separation("m", False)["outcome"] == "overlapping"


def test_elbo_change_flips_the_optimiser_verdict():
    rng = np.random.default_rng(0)
    flat = 1000 + rng.normal(0, 1, 10_000)  # noise only: within two standard errors, no trend
    falling = 1000 + np.linspace(40, 0, 10_000)  # the last 10%'s halves 2 apart: ~2e-3 > 1e-4
    drift = 1000 + np.linspace(0.1, 0, 10_000)  # halves 0.005 apart: 5e-6 < 1e-4
    assert elbo_change(flat) == 0.0
    assert elbo_change(falling) == pytest.approx(2.0 / 1001.0, rel=0.05)
    converged = verdicts.converged_optimiser("ADVI", elbo_change(drift), ADVI_TOLERANCE)
    moving = verdicts.converged_optimiser("ADVI", elbo_change(falling), ADVI_TOLERANCE)
    assert (converged["outcome"], moving["outcome"]) == ("converged", "not converged")
    assert moving["level"] == verdicts.RED and "did not converge" in report.sentence(moving)


def test_mcmc_vs_reference_flips():
    agrees = verdicts.mcmc_vs_reference(2.5, 4, "a long run")
    disagrees = verdicts.mcmc_vs_reference(4.5, 4, "a long run")
    assert (agrees["level"], disagrees["level"]) == (verdicts.GREEN, verdicts.RED)
    assert "agrees with the reference** (a long run)" in report.sentence(agrees)
    assert "disagrees" in report.sentence(disagrees)


def test_skewness_and_its_mcse_flip_the_shape_verdict():
    rng = np.random.default_rng(1)
    draws = np.column_stack([rng.normal(size=20_000), rng.exponential(size=20_000)])
    skew, se = skewness(draws, [20_000, 20_000])
    np.testing.assert_allclose(se, np.sqrt(6 / 20_000))
    # Normal: skewness 0 (MCSE 0.017); exponential: skewness 2.
    assert verdicts.shape("normal", skew[0], se[0])["outcome"] == "gaussian"
    assert verdicts.shape("exponential", skew[1], se[1])["outcome"] == "right-skewed"
    assert skew[1] == pytest.approx(2.0, abs=0.3)
