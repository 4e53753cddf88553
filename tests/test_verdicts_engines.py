"""Flip tests of the sensitivity and engines pages' verdicts: data on both sides of each threshold."""

from __future__ import annotations

import numpy as np
import pytest

from experiments import report, verdicts
from experiments.engines import ADVI_TOLERANCE, ADVI_WINDOW, skewness
from experiments.sensitivity import conflict_z, separable


def test_prior_washout_flips_at_its_threshold():
    sizes = [20, 50, 100, 442]
    washed = verdicts.prior_washout(sizes, [0.6, 0.2, 0.04, 0.01])
    assert washed["outcome"] == "washed out" and washed["first"] == 100
    assert "stops mattering for the coefficients from n = 100" in report.sentence(washed)
    assert "median over subsamples" in report.sentence(washed)
    # Below the threshold once, then above again: it has not washed out until it stays below.
    bounced = verdicts.prior_washout(sizes, [0.6, 0.04, 0.2, 0.01])
    assert bounced["first"] == 442
    still = verdicts.prior_washout(sizes, [0.6, 0.4, 0.3, verdicts.WASHOUT * 1.01])
    assert still["outcome"] == "still matters" and still["first"] is None
    assert "still matters for the coefficients at n = 442" in report.sentence(still)
    # At all rows every subsample is the whole data set: one fit, not a median.
    whole = verdicts.prior_washout(sizes, [0.6, 0.4, 0.3, 0.27], all_rows=442)
    assert whole["largest_is_all"] and "(all rows)" in report.sentence(whole)
    assert not verdicts.prior_washout(sizes, [0.6, 0.4, 0.3, 0.27], all_rows=500)["largest_is_all"]


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


def test_advi_windows_verdict_flips_at_the_tolerance():
    at = verdicts.advi_windows("ADVI", ADVI_TOLERANCE, ADVI_TOLERANCE, 4000, ADVI_WINDOW)
    above = verdicts.advi_windows(
        "ADVI", ADVI_TOLERANCE * 1.01, ADVI_TOLERANCE, 30_000, ADVI_WINDOW
    )
    assert at["outcome"] == "converged" and at["level"] == verdicts.GREEN
    assert above["outcome"] == "not converged" and above["level"] == verdicts.RED
    assert "converged at step 4000" in report.sentence(at)
    assert "did not converge" in report.sentence(above) and "30000 steps" in report.sentence(above)


def test_conflict_is_measured_in_prior_predictive_sds():
    # OLS s1 = -792 with standard error 408 at the tight ridge prior sd 79.5: 9.96 prior sds, but
    # only 1.9 sds of its prior predictive sqrt(79.5^2 + 408^2): no conflict once its noise counts.
    z = conflict_z(np.array([-792.0, 520.0]), np.array([408.0, 66.0]), 79.5)
    np.testing.assert_allclose(z, [792 / np.hypot(79.5, 408), 520 / np.hypot(79.5, 66)])
    v = verdicts.prior_conflicts(["s1", "bmi"], z, 79.5, [408.0, 66.0])
    assert v["conflicting"] == ["bmi"] and v["likelihood_sd"] == 66.0
    assert "sqrt(prior sd^2 + its standard error^2)" in report.sentence(v)
    assert verdicts.prior_conflicts(["s1"], [792 / 79.5], 79.5)["outcome"] == "conflict"


def test_prior_moves_flips_at_one_posterior_sd():
    moves = verdicts.prior_moves("bmi", verdicts.PRIOR_MOVE_SDS, "loose", "tight", "exact")
    hardly = verdicts.prior_moves("bmi", -0.99 * verdicts.PRIOR_MOVE_SDS, "loose", "tight", "exact")
    assert (moves["outcome"], moves["level"]) == ("moves", verdicts.GREEN)
    assert (hardly["outcome"], hardly["level"]) == ("hardly moves", verdicts.AMBER)
    assert "Verified" in report.sentence(moves) and "Not verified" in report.sentence(hardly)


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
