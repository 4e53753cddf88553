"""Engines: the Laplace approximation is exact for ridge; the grading maths; the experiment."""

from __future__ import annotations

import monte_carlo
import numpy as np
import pytest
from figures import assert_has_content
from scipy import stats

from experiments.engines import Marginals, grade, w1_gaussian_draws, w1_gaussians, wasserstein
from models import ridge
from models.core.arrays import SingularHessian
from models.core.data import arrays
from models.inference.engines import MAPSolver


def test_laplace_equals_exact_posterior_for_ridge(diabetes):
    X, y, names = diabetes
    model = ridge.build(arrays(X, y, names, 54.0))
    solver = MAPSolver(model, ridge.SPEC)
    laplace = solver.laplace(solver.solve({"prior_sd": 500.0}))
    mean, cov = ridge.exact_posterior(X, y, 500.0, 54.0)
    order = np.r_[laplace.slices["intercept"], laplace.slices["w"]]
    # Quadratic log posterior: Newton's mode and the inverse compiled Hessian are the exact
    # answer up to linear-algebra round-off on a condition number ~1e4.
    np.testing.assert_allclose(laplace.mean[order], mean, rtol=1e-8, atol=1e-8 * np.abs(mean).max())
    np.testing.assert_allclose(laplace.cov[np.ix_(order, order)], cov, rtol=1e-8,
                               atol=1e-8 * np.abs(cov).max())  # fmt: skip


def test_laplace_refuses_a_direction_the_data_do_not_pin():
    # y ~ Normal(a + b, 1) with a and b flat: a + b is pinned, a - b is flat, so the Hessian
    # [[n, n], [n, n]] is singular and Normal(mode, H^-1) does not exist; with b ~ Normal(0, 10)
    # the curvature 0.01 is certified and H^-1 is the closed form (round-off on condition ~1e3)
    import pymc as pm

    y = np.array([0.3, -1.2, 0.8, 2.0])
    for b_sd in (None, 10.0):
        with pm.Model() as model:
            a = pm.Flat("a")
            b = pm.Flat("b") if b_sd is None else pm.Normal("b", 0.0, b_sd)
            pm.Normal("y", a + b, 1.0, observed=y)
        solver = MAPSolver(model)
        mode = solver.solve()
        if b_sd is None:
            with pytest.raises(SingularHessian, match="not positive definite"):
                solver.laplace(mode)
            continue
        n, prior = len(y), 1.0 / b_sd**2
        expected = np.linalg.inv(np.array([[n, n], [n, n + prior]]))
        np.testing.assert_allclose(solver.laplace(mode).cov, expected, rtol=1e-9)


def test_w1_between_gaussians_matches_quantile_integral():
    levels = (np.arange(1_000_000) + 0.5) / 1_000_000
    for m1, s1, m2, s2 in [(0, 1, 0, 1), (1.0, 2.0, -0.5, 0.5), (3.0, 1.0, 0.0, 1.0), (0, 0, 0, 2)]:
        q1 = m1 + s1 * stats.norm.ppf(levels)
        q2 = m2 + s2 * stats.norm.ppf(levels)
        # Midpoint rule on the quantile coupling: error O(1/N) away from the tails, ~1e-5 here.
        assert float(w1_gaussians(m1, s1, m2, s2)) == pytest.approx(
            np.mean(np.abs(q1 - q2)), abs=1e-4
        )


def test_wasserstein_dispatch_and_grading():
    rng = np.random.default_rng(0)
    draws = rng.normal(2.0, 3.0, size=(200_000, 2))
    gaussian = Marginals(np.array([2.0, 2.0]), np.diag([9.0, 9.0]))
    empirical = Marginals.from_draws(draws)
    # Same law: W1 shrinks like 1/sqrt(N); 200k draws of sd 3 give ~0.01.
    assert np.all(wasserstein(gaussian, empirical) < 0.03)
    np.testing.assert_allclose(wasserstein(gaussian, empirical), wasserstein(empirical, gaussian))
    # Gaussian vs draws of another Gaussian: the closed form, up to the same sampling error.
    assert w1_gaussian_draws(0.0, 1.0, draws[:, 0]) == pytest.approx(
        w1_gaussians(0, 1, 2, 3), abs=0.02
    )
    # A Gaussian 1.5 sd off in the first coefficient and 20% too wide in the second: each number
    # of the grade against what it means, and W1 against quadrature of the quantile coupling.
    off = Marginals(np.array([2.0 + 1.5 * 3.0, 2.0]), np.diag([9.0, 3.6**2]))
    graded = grade(off, gaussian)
    assert graded["mean_max_err_in_sd"] == pytest.approx(1.5, rel=1e-12)
    assert graded["mean_max_rel_err"] == pytest.approx(4.5 / 2.0, rel=1e-12)
    assert graded["sd_max_rel_err"] == pytest.approx(0.2, rel=1e-12)
    levels = (np.arange(1_000_000) + 0.5) / 1_000_000
    z = stats.norm.ppf(levels)
    # equal sds: W1 is the mean shift (4.5); a 0.6 sd difference at equal means: 0.6 sqrt(2/pi)
    expected = (4.5 + np.mean(np.abs(0.6 * z))) / 2 / 3.0
    assert graded["wasserstein_mean"] == pytest.approx(expected, rel=1e-4)


def test_engines_experiment(run_quick):
    out, results = run_quick("engines")
    methods = {"map", "laplace", "advi_meanfield", "advi_fullrank", "nuts"}
    assert set(results["ridge"]["methods"]) == methods | {"exact"}
    assert set(results["logistic"]["methods"]) == methods
    for model in ("ridge", "logistic"):
        for graded in results[model]["methods"].values():
            assert set(graded) >= {"mean_max_rel_err", "sd_max_rel_err", "wasserstein_mean"}
    laplace = results["ridge"]["methods"]["laplace"]
    assert laplace["mean_max_rel_err"] <= 1e-8 and laplace["sd_max_rel_err"] <= 1e-8
    monte_carlo.engines(results)
    # The MAP's W1 is a point mass's, E|w - MAP| / sd: for ridge the MAP is the Gaussian
    # marginal's mean, so exactly sqrt(2/pi); for logistic the point is off the mean, so more.
    ridge_map = results["ridge"]["methods"]["map"]["wasserstein_mean"]
    assert ridge_map == pytest.approx(np.sqrt(2 / np.pi), rel=1e-6)
    assert results["logistic"]["methods"]["map"]["wasserstein_mean"] > ridge_map
    box = results["verdict_box"]
    assert box["verified"]["kind"] == "agreement" and box["verified"]["outcome"] == "verified"
    labels = [check["label"] for check in box["checks"]]
    assert (
        "NUTS vs reference (ridge)" in labels and "ADVI (mean-field) convergence (ridge)" in labels
    )
    for model in ("ridge", "logistic"):
        assert set(results[model]["advi_convergence"]) == {"advi_meanfield", "advi_fullrank"}
        assert_has_content(out / f"elbo_{model}.png")
    assert len(results["logistic"]["shapes"]) == len(results["logistic"]["feature_names"])
    # Mean-field ADVI's optimum on a Gaussian target has sd 1 / sqrt(precision_jj) <= the
    # marginal sd; the fit's ratios sit below 1 up to its optimisation noise (~10%).
    assert max(results["ridge"]["advi_meanfield_sd_ratio"]) < 1.15
    import json

    timings = json.loads((out / "timings.json").read_text())["engines"]
    assert set(timings["logistic"]) == methods
    assert all(set(t) == {"wall_seconds", "compile_seconds"} for t in timings["ridge"].values())
    assert "wall_seconds" not in (out / "results.json").read_text()
    for name in (
        "densities_ridge.png",
        "pair_ridge.png",
        "densities_logistic.png",
        "pair_logistic.png",
    ):
        assert_has_content(out / name)


def test_advi_stops_when_its_window_averages_agree_and_says_when_they_do_not():
    import pymc as pm

    from models.inference.engines import fit_advi

    rng = np.random.default_rng(3)
    y = rng.normal(2.0, 1.0, 50)
    with pm.Model() as model:
        mu = pm.Normal("mu", 0.0, 10.0)
        pm.Normal("y", mu, 1.0, observed=y)
    precision = 1 / 10.0**2 + len(y)
    exact_mean, exact_sd = y.sum() / precision, precision**-0.5
    fit = fit_advi(model, {}, method="advi", iterations=30_000, seed=0, learning_rate=0.01,
                   start={"mu": 0.0}, window=500, tolerance=0.1)  # fmt: skip
    assert fit.converged and fit.steps < 30_000 and fit.window_change <= 0.1
    assert fit.steps % 500 == 0 and fit.steps > 500
    mean, cov = fit.block("mu")
    # A Gaussian target: mean-field ADVI's optimum is the posterior itself; the window average
    # sits within the stopping rule's tenth of an sd of it, with a margin for Adam's jitter.
    assert abs(mean[0] - exact_mean) <= 0.25 * exact_sd
    assert np.sqrt(cov[0, 0]) == pytest.approx(exact_sd, rel=0.25)
    short = fit_advi(model, {}, method="advi", iterations=1_500, seed=0, learning_rate=0.01,
                     start={"mu": 0.0}, window=500, tolerance=1e-9)  # fmt: skip
    assert not short.converged and np.isfinite(short.window_change) and short.steps == 1_500
