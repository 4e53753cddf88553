"""Choosing lambda: exact evidence and LOO against brute force, and the ``lambda`` experiment."""

from __future__ import annotations

import monte_carlo
import numpy as np
import pytest
from figures import assert_has_content
from scipy import integrate, stats
from sklearn.linear_model import BayesianRidge

from experiments import verdicts
from models import ridge
from models.exact import evidence


@pytest.fixture
def tiny():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(6, 2))
    return X, X @ np.array([1.0, -0.5]) + rng.normal(size=6)


def test_log_evidence_integrates_the_flat_intercept_out(tiny):
    # The model's evidence, b0 ~ flat (density 1) integrated numerically: given b0, integrating w
    # out gives y ~ Normal(b0, sigma^2 I + tau^2 X X') (X uncentred, a dense covariance), a route
    # that shares nothing with the closed form's spectrum of the centred data
    X, y = tiny
    sigma, tau = 0.7, 1.3
    cov = sigma**2 * np.eye(len(y)) + tau**2 * X @ X.T

    def given(b0):
        return stats.multivariate_normal(np.full(len(y), b0), cov).pdf(y)

    value, error = integrate.quad(given, -30, 30, epsabs=0, epsrel=1e-13)
    # Quadrature of a smooth Gaussian in b0, negligible beyond +-30: error estimate ~1e-14.
    assert error / value < 1e-11
    assert evidence.log_evidence(X, y, sigma, tau) == pytest.approx(np.log(value), rel=1e-10)
    # the factor in sigma that fixing the intercept adds: not a constant, so it moves the maximum
    for s in (0.3, 0.7, 2.0):
        gap = evidence.log_evidence(X, y, s, tau, "fixed") - evidence.log_evidence(X, y, s, tau)
        assert gap == pytest.approx(-0.5 * np.log(2 * np.pi * s**2 / len(y)), rel=1e-12)


def test_fixed_intercept_evidence_equals_numerical_integral(tiny):
    # BayesianRidge's evidence: the centred target as n rows, the intercept at the mean of y
    X, y = tiny
    Xc, yc = X - X.mean(axis=0), y - y.mean()
    sigma, tau = 0.7, 1.3

    def joint(w2, w1):
        w = np.array([w1, w2])
        return np.exp(
            stats.norm.logpdf(yc, Xc @ w, sigma).sum() + stats.norm.logpdf(w, 0, tau).sum()
        )

    value, error = integrate.dblquad(joint, -12, 12, -12, 12, epsabs=1e-15, epsrel=1e-12)
    # Quadrature: the integrand is smooth and negligible beyond +-12, error estimate ~1e-12.
    assert error / value < 1e-10
    assert evidence.log_evidence(X, y, sigma, tau, "fixed") == pytest.approx(
        np.log(value), rel=1e-9
    )


def test_evidence_maximiser_with_a_fixed_intercept_is_flat_bayesianridge(diabetes):
    X, y, _ = diabetes
    best = evidence.evidence_alpha(X, y, intercept="fixed")
    flat = BayesianRidge(alpha_1=0, alpha_2=0, lambda_1=0, lambda_2=0, tol=1e-14, max_iter=100_000)
    flat.fit(X, y)
    # BayesianRidge's fixed point stops on a coefficient change; measured agreement ~2e-8.
    assert best["alpha"] == pytest.approx(flat.lambda_ / flat.alpha_, rel=1e-6)
    assert best["noise_sd"] == pytest.approx(1 / np.sqrt(flat.alpha_), rel=1e-6)
    # STACK.md's reference value for diabetes.
    assert best["alpha"] == pytest.approx(0.0336, abs=1e-4)
    # It is a maximum of the closed form: moving sigma or tau by 1% only lowers it.
    for ds, dt in [(1.01, 1), (0.99, 1), (1, 1.01), (1, 0.99)]:
        moved = evidence.log_evidence(X, y, best["noise_sd"] * ds, best["prior_sd"] * dt, "fixed")
        assert moved < best["log_evidence"]


def test_the_models_evidence_maximiser_is_its_maximum(diabetes):
    X, y, _ = diabetes
    best = evidence.evidence_alpha(X, y)
    assert best["dimensions"] == len(y) - 1
    for ds, dt in [(1.001, 1), (0.999, 1), (1, 1.001), (1, 0.999)]:
        moved = evidence.log_evidence(X, y, best["noise_sd"] * ds, best["prior_sd"] * dt)
        assert moved < best["log_evidence"]
    # sigma profiled over n - 1 dimensions, not n: a different maximum, O(1/n) away
    fixed = evidence.evidence_alpha(X, y, intercept="fixed")
    assert 1e-4 < abs(best["alpha"] / fixed["alpha"] - 1) < 10 / len(y)


def test_only_a_fixed_intercept_has_no_maximum_on_an_interpolating_fit():
    # as many columns as rows: the fit interpolates as alpha -> 0, sigma -> 0; the fixed
    # intercept's evidence then rises without bound, the model's does not
    rng = np.random.default_rng(0)
    X = rng.normal(size=(10, 30))
    y = X[:, :3] @ np.array([1.0, -1.0, 0.5]) + rng.normal(size=10)
    assert evidence.evidence_alpha(X, y, intercept="fixed")["edge"] == "small"
    assert evidence.evidence_alpha(X, y)["edge"] != "small"


def test_an_unknown_intercept_treatment_is_refused():
    with pytest.raises(ValueError, match="intercept must be one of"):
        evidence.Spectrum.of(np.eye(3), np.arange(3.0), intercept="dropped")


def test_exact_loo_equals_refitting_without_each_row():
    rng = np.random.default_rng(5)
    X = rng.normal(size=(9, 3))
    y = X @ np.array([0.5, -1.0, 2.0]) + 1.0 + rng.normal(size=9)
    tau, sigma = 0.8, 0.6
    brute = []
    for i in range(len(y)):
        keep = np.arange(len(y)) != i
        mean, cov = ridge.exact_posterior(X[keep], y[keep], tau, sigma)
        z = np.r_[1.0, X[i]]
        brute.append(stats.norm.logpdf(y[i], z @ mean, np.sqrt(sigma**2 + z @ cov @ z)))
    # Sherman-Morrison against nine dense refits: agreement to float round-off.
    np.testing.assert_allclose(evidence.exact_loo(X, y, tau, sigma), brute, rtol=1e-10)


def test_lambda_experiment(run_quick):
    out, results = run_quick("lambda")
    keys = [
        "ridgecv_alpha",
        "kfold_alpha",
        "bayesianridge_alpha",
        "evidence_alpha",
        "loo_best_alpha",
    ]
    assert all(results[k] > 0 for k in keys)
    # Closed form against BayesianRidge's fixed point (no Monte Carlo): measured 2e-8.
    fixed = results["evidence_fixed_intercept"]["alpha"]
    assert fixed == pytest.approx(results["bayesianridge_flat_alpha"], rel=1e-6)
    assert results["evidence_alpha"] == results["evidence"]["alpha"] != fixed
    curves = results["curves"]
    assert len(curves["cv_mse"]) == len(curves["exact"]) == len(results["alpha_grid"])
    assert len(curves["elpd"]) == len(curves["psis_alpha"])
    for key, best in (("cv_mse_diff_se", np.argmin(curves["cv_mse"])),
                      ("exact_diff_se", np.argmax(curves["exact"]))):  # fmt: skip
        se = np.asarray(curves[key])
        assert len(se) == len(results["alpha_grid"]) and se[best] == 0 and np.all(se >= 0)
    assert set(curves["psis_alpha"]) <= set(results["alpha_grid"])
    methods = {"ridgecv", "kfold", "bayesianridge", "evidence", "loo_best", "full_bayes"}
    assert set(results["heldout"]) == methods
    monte_carlo.choosing_lambda(results)
    # alpha's interval is equal-tailed: each choice's "inside" verdict is against that interval.
    post, found = results["alpha_posterior"], results["verdicts"]
    for method, verdict in found["inside"].items():
        assert verdict["threshold"] == [post["eti_94_low"], post["eti_94_high"]]
        inside = post["eti_94_low"] <= results[f"{method}_alpha"] <= post["eti_94_high"]
        assert verdict["outcome"] == ("inside" if inside else "outside")
    # the rank test needs 3 chains (--quick runs 2: then it makes no claim)
    assert found["rank"]["kind"] == "rank_uniformity"
    if results["settings"]["chains"] < verdicts.RANK_MIN_CHAINS:
        assert found["rank"]["outcome"] == "untested"
    else:
        assert set(found["rank"]["p_values"]) == {"tau", "sigma"}
    # The claim's check: alpha's posterior interval against its prior's (decades of log10 alpha).
    verified = results["verdict_box"]["verified"]
    assert verified["kind"] == "contraction"
    assert verified["outcome"] == (
        "data" if verified["value"] <= verified["threshold"] else "prior"
    )
    assert found["evidence_vs_bayesianridge"]["outcome"] == "verified"
    # RidgeCV picks from this page's grid, like k-fold CV and exact LOO.
    assert results["ridgecv_alpha"] in results["alpha_grid"]
    assert set(found["heldout"]) == methods - {found["heldout_best"]}
    integrated = results["integrated"]
    assert integrated["fixed_alpha"] == results["evidence_alpha"]
    centre = (np.asarray(integrated["fixed_hdi_94_low"])
              + np.asarray(integrated["fixed_hdi_94_high"])) / 2  # fmt: skip
    np.testing.assert_allclose(centre, integrated["fixed_mean"], rtol=1e-10)  # Gaussian: centred
    assert np.all(np.asarray(integrated["width_ratio"]) > 0)
    for name in ("index.html", "index.md", "posterior.nc"):
        assert (out / name).stat().st_size > 0
    for figure in ("alpha_posterior.png", "cv_vs_loo.png"):
        assert_has_content(out / figure)


@pytest.mark.parametrize(
    ("name", "option", "value"),
    [("lambda", "--test-fraction", "1.5"), ("logistic", "--test-fraction", "0"),
     ("lasso", "--lam", "-1")],
)  # fmt: skip
def test_bad_options_stop_while_parsing(tmp_path, capsys, name, option, value):
    from experiments.__main__ import main

    out = tmp_path / "o"
    assert main([name, "--quiet", option, value, "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and option in err and "\n" not in err and not out.exists()
