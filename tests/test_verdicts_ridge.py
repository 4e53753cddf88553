"""Flip tests of the ridge page's verdicts: the predictive check, LOO-PIT, the evidence ratio of the
shown alpha and the strongest posterior correlation, each fed data on both sides of its threshold
(small synthetic arrays, no sampling)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from experiments import report, verdicts
from experiments.ridge import (
    SKEWNESS,
    _pit_extremity,
    pit_ecdf_test,
    predictive_checks,
    predictive_statistics,
)
from models import ridge

N, P, DRAWS = 300, 3, 400


def _fit_and_replicate(y: np.ndarray, X: np.ndarray, seed: int):
    """Fitted values and replicated data sets of the Gaussian model fitted to ``y`` (exact
    posterior draws of (b0, w), sigma at its least-squares value)."""
    rng = np.random.default_rng(seed)
    Z = np.column_stack([np.ones(len(y)), X])
    residual = y - Z @ np.linalg.lstsq(Z, y, rcond=None)[0]
    sigma = float(np.sqrt(residual @ residual / (len(y) - Z.shape[1])))
    mean, cov = ridge.exact_posterior(X, y, 1e3, sigma)
    beta = rng.multivariate_normal(mean, cov, size=DRAWS)
    y_rep = beta @ Z.T + sigma * rng.standard_normal((DRAWS, len(y)))
    return mean[0] + X @ mean[1:], y_rep


def _chunks(y_rep: np.ndarray, step: int = 70):
    return [(slice(s, s + step), y_rep[:, s : s + step]) for s in range(0, y_rep.shape[1], step)]


@pytest.fixture(scope="module")
def design():
    return np.random.default_rng(0).standard_normal((N, P))


def test_statistics_do_not_depend_on_the_row_chunks(design):
    y = 1 + design @ [1.0, -0.5, 0.2] + np.random.default_rng(1).standard_normal(N)
    fitted, y_rep = _fit_and_replicate(y, design, 2)
    whole = predictive_statistics(y, fitted, [(slice(None), y_rep)])
    chunked = predictive_statistics(y, fitted, _chunks(y_rep))
    for name in whole:  # the same sums in another order: equal to rounding
        np.testing.assert_allclose(chunked[name], whole[name], rtol=1e-9)
    from scipy import stats

    np.testing.assert_allclose(whole[SKEWNESS], stats.skew(y_rep, axis=1), rtol=1e-9)


def test_predictive_check_passes_on_data_from_the_model(design):
    y = 1 + design @ [1.0, -0.5, 0.2] + np.random.default_rng(3).standard_normal(N)
    fitted, y_rep = _fit_and_replicate(y, design, 4)
    checks = predictive_checks(y, fitted, _chunks(y_rep))
    overall = verdicts.predictive_check(checks)
    assert overall["outcome"] == "passes", [(c["statistic"], c["value"]) for c in checks]
    assert "passes" in report.sentence(overall)


def test_predictive_check_fails_on_a_skewed_target(design):
    # lognormal: positive, right-skewed, spread growing with the mean
    y = np.exp(1 + design @ [0.5, -0.3, 0.1] + 0.8 * np.random.default_rng(5).standard_normal(N))
    fitted, y_rep = _fit_and_replicate(y, design, 6)
    checks = {c["statistic"]: c for c in predictive_checks(y, fitted, _chunks(y_rep))}
    assert checks[SKEWNESS]["outcome"] == "fails" and checks[SKEWNESS]["value"] < 0.01
    overall = verdicts.predictive_check(list(checks.values()))
    assert overall["outcome"] == "fails" and overall["level"] == verdicts.RED
    assert "fails" in report.sentence(overall)


def test_loo_pit_uniform_values_are_calibrated():
    test = pit_ecdf_test(np.random.default_rng(7).uniform(size=N), seed=8)
    verdict = verdicts.loo_pit(test["p_value"], N)
    assert verdict["outcome"] == "no departure" and verdict["level"] == verdicts.GREEN
    for low, high in test["bands"].values():  # a uniform ECDF inside this seed's bands
        assert np.all(low <= test["ecdf"] + 1e-12) and np.all(test["ecdf"] <= high + 1e-12)


def test_loo_pit_of_too_wide_predictions_is_miscalibrated():
    # PIT values piled in the middle: predictive distributions far too wide
    test = pit_ecdf_test(np.random.default_rng(9).beta(3, 3, size=N), seed=10)
    verdict = verdicts.loo_pit(test["p_value"], N)
    assert verdict["outcome"] == "miscalibrated" and verdict["level"] == verdicts.RED
    low, high = test["bands"][max(test["bands"])]
    assert np.any((test["ecdf"] < low) | (test["ecdf"] > high))  # it leaves the widest band


def test_pit_extremity_is_the_binomial_tails_at_every_point():
    # the distinct (count, point) pairs are evaluated once: the same bits as every pair directly
    n = 200
    x = np.arange(1, n) / n
    uniform = np.sort(np.random.default_rng(3).uniform(size=(50, n)), axis=1)
    counts = np.array([np.searchsorted(row, x, side="right") for row in uniform])
    counts[0] = 0  # and an extreme row: no value below any point
    direct = 1 - 2 * np.minimum(stats.binom.cdf(counts, n, x).min(axis=-1),
                                stats.binom.sf(counts - 1, n, x).min(axis=-1))  # fmt: skip
    assert np.array_equal(_pit_extremity(counts, n, x), direct)
    assert np.array_equal(_pit_extremity(counts[1], n, x), direct[1])


@pytest.mark.parametrize(
    ("p", "outcome"), [(0.5, "no departure"), (0.03, "borderline"), (0.001, "miscalibrated")]
)
def test_loo_pit_thresholds(p, outcome):
    verdict = verdicts.loo_pit(p, 100)
    assert verdict["outcome"] == outcome
    assert "LOO-PIT" in report.sentence(verdict)
    assert ("calibrated" in report.sentence(verdict)) == (outcome == "miscalibrated")


def test_evidence_ratio_flips_at_a_bayes_factor_of_ten():
    below = verdicts.evidence_ratio(0.01, 0.03, math.log(10) - 0.01)
    above = verdicts.evidence_ratio(0.01, 0.03, math.log(10) + 0.01)
    assert (below["outcome"], below["level"]) == ("supported", verdicts.GREEN)
    assert (above["outcome"], above["level"]) == ("disfavoured", verdicts.AMBER)
    assert "supported" in report.sentence(below) and "disfavoured" in report.sentence(above)


def test_evidence_at_its_maximum_beats_a_far_alpha(design):
    from models.exact import evidence

    y = 1 + design @ [1.0, -0.5, 0.2] + np.random.default_rng(11).standard_normal(N)
    spectrum = evidence.Spectrum.of(design, y)
    best = evidence.maximise_evidence(spectrum)
    alpha = 1e4 * best["alpha"]  # shrinks every coefficient to ~0: ruled out by the data
    sigma = evidence.profile_noise_sd(spectrum, alpha)
    log_bf = best["log_evidence"] - spectrum.log_evidence(sigma, sigma / np.sqrt(alpha))
    assert verdicts.evidence_ratio(alpha, best["alpha"], log_bf)["outcome"] == "disfavoured"
    assert verdicts.evidence_ratio(best["alpha"], best["alpha"], 0.0)["outcome"] == "supported"


def test_evidence_without_a_maximum_is_said_to_have_none(design):
    # y unrelated to X (this seed): the evidence is highest at the search's largest alpha, so it
    # has no interior maximum; a y with signal has one. The sentence follows: "no maximum" and
    # alpha -> inf at the edge, "the evidence maximum" inside, never both
    from models.exact import evidence

    rng = np.random.default_rng(2)
    noise_only = evidence.maximise_evidence(evidence.Spectrum.of(rng.normal(size=(50, 3)),
                                                                 rng.normal(size=50)))  # fmt: skip
    y = 1 + design @ [1.0, -0.5, 0.2] + np.random.default_rng(11).standard_normal(N)
    signal = evidence.maximise_evidence(evidence.Spectrum.of(design, y))
    assert (noise_only["edge"], signal["edge"]) == ("large", None)
    for best, has_maximum in ((noise_only, False), (signal, True)):
        text = report.sentence(verdicts.evidence_ratio(1.0, best["alpha"], 0.5, None, best["edge"]))
        assert ("at the evidence maximum" in text) == has_maximum
        assert ("has no maximum" in text and "alpha → ∞" in text) == (not has_maximum)


@pytest.mark.parametrize(("r", "outcome"), [(-0.94, "strong"), (0.5, "strong"), (0.3, "weak")])
def test_correlation_threshold(r, outcome):
    verdict = verdicts.correlation("a*", "`b`", r)
    assert verdict["outcome"] == outcome
    text = report.sentence(verdict)
    assert f"{r:+.2f}" in text and "w[a\\*]" in text  # user names quoted, never markup


def test_evidence_ratio_is_a_ratio_of_marginal_likelihoods():
    v = verdicts.evidence_ratio(0.0046, 0.032, math.log(108), "sigma profiled")
    text = report.sentence(v)
    assert "marginal likelihood is 108 times higher (sigma profiled; log evidence ratio" in text
    assert "more probable" not in text


def test_correlation_names_its_source():
    v = verdicts.correlation("s1", "s2", -0.9446, "exact posterior")
    assert "-0.94 (exact posterior; strong" in report.sentence(v)
    assert "(exact" not in report.sentence(verdicts.correlation("s1", "s2", -0.9446))


def test_mcmc_vs_exact_names_the_fits_and_the_typical_maximum():
    # the median of the largest of n independent |N(0, 1)|: Phi^-1((1 + 0.5^(1/n)) / 2)
    one = verdicts.mcmc_vs_exact(1.28, 4, "at alpha=0.0046", 10)
    many = verdicts.mcmc_vs_exact(3.41, 4, "along the path", 310)
    assert one["typical_max"] == pytest.approx(1.83, abs=0.01)
    assert many["typical_max"] == pytest.approx(3.06, abs=0.01)
    assert "at alpha=0.0046: largest |mean error| / MCSE over 10 means" in report.sentence(one)
    assert "about 3.06 (median)" in report.sentence(many)
    bad = verdicts.mcmc_vs_exact(4.5, 4, "along the path", 310)
    assert bad["outcome"] == "disagrees" and "disagrees" in report.sentence(bad)
    assert "(a correct sampler's" in report.sentence(bad)
