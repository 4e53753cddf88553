"""Ridge = MAP under a Normal prior: known-answer tests against closed forms and scikit-learn."""

from __future__ import annotations

import dataclasses
from fractions import Fraction

import arviz as az
import numpy as np
import pytest
from conftest import rel_linf
from scipy import stats
from sklearn.linear_model import Ridge

from models import get_model, ridge
from models.core.arrays import ridge_posterior_rows
from models.core.base import InputError
from models.core.data import arrays, noise_estimate
from models.exact import evidence
from models.inference.engines import MAPSolver, PosteriorSampler
from models.scale.statistics import GaussianStatistics

ALPHAS = np.logspace(-4, 6, 25)


def closed_form(X: np.ndarray, y: np.ndarray, alpha: float) -> tuple[float, np.ndarray]:
    """The oracle: Ridge by its normal equations on centred data, ``w = (Xc'Xc + alpha I)^{-1}
    Xc'yc``, through the SVD of ``Xc`` (accurate for tiny alpha on collinear columns), and the
    unpenalised intercept ``mean(y) - mean(X) w``."""
    x_mean, y_mean = X.mean(axis=0), y.mean()
    U, s, Vt = np.linalg.svd(X - x_mean, full_matrices=False)
    w = Vt.T @ (s / (s**2 + alpha) * (U.T @ (y - y_mean)))
    return float(y_mean - x_mean @ w), w


@pytest.fixture(scope="module")
def fixed_model(diabetes):
    X, y, names = diabetes
    sigma = noise_estimate(X, y)
    md = arrays(X, y, names, sigma)
    model = ridge.build(md)
    return X, y, sigma, model, MAPSolver(model), md


def test_penalty_prior_mapping_round_trip():
    # alpha = sigma^2 / tau^2 both ways; pure arithmetic, so float round-off is the only error.
    for alpha in ALPHAS:
        tau = ridge.alpha_to_prior_sd(alpha, 54.0)
        assert ridge.prior_sd_to_alpha(tau, 54.0) == pytest.approx(alpha, rel=1e-12)
    assert ridge.alpha_to_prior_sd(4.0, 2.0) == pytest.approx(1.0)


@pytest.mark.parametrize("bad", [0.0, -1.0, float("nan"), float("inf")])
def test_mapping_rejects_non_positive(bad):
    with pytest.raises(InputError, match="positive"):
        ridge.alpha_to_prior_sd(bad, 1.0)
    with pytest.raises(InputError, match="positive"):
        ridge.prior_sd_to_alpha(bad, 1.0)
    with pytest.raises(InputError, match="positive"):
        ridge.alpha_to_prior_sd(1.0, bad)


def test_map_equals_sklearn_and_closed_form_on_grid(fixed_model):
    # Tolerance 1e-8 relative L-inf: all three are direct linear solves (Newton is exact in one step
    # on the quadratic log posterior), so they agree to ~1e-13 on diabetes; 1e-8 is the acceptance bound.
    X, y, sigma, _, solver, md = fixed_model
    for alpha in ALPHAS:
        fit = solver.solve(ridge.SPEC.link.prior_values({"alpha": alpha}, md))
        sk = Ridge(alpha=alpha, solver="cholesky").fit(X, y)
        b0, w = closed_form(X, y, alpha)
        assert np.max(np.abs(fit.point["w"] - sk.coef_)) <= 1e-8 * np.max(np.abs(sk.coef_))
        assert np.max(np.abs(w - sk.coef_)) <= 1e-8 * np.max(np.abs(sk.coef_))
        assert fit.point["intercept"] == pytest.approx(sk.intercept_, rel=1e-10)
        assert b0 == pytest.approx(sk.intercept_, rel=1e-10)
        assert (
            fit.kkt_violation < 1e-8
        )  # gradient at the returned point: a certificate of optimality


def test_exact_posterior_mean_is_ridge(fixed_model):
    # The Gaussian posterior's mean is its mode; same linear algebra, so 1e-9 relative.
    X, y, sigma, _, _, _ = fixed_model
    for alpha in (1e-3, 0.1, 10.0):
        mean, cov = ridge.exact_posterior(X, y, ridge.alpha_to_prior_sd(alpha, sigma), sigma)
        sk = Ridge(alpha=alpha).fit(X, y)
        assert np.max(np.abs(mean[1:] - sk.coef_)) <= 1e-9 * np.max(np.abs(sk.coef_))
        assert np.all(np.linalg.eigvalsh(cov) > 0)


def test_leave_one_out_predictive_is_the_refit_without_the_row(fixed_model):
    # The rank-one downdate against the brute force: the exact posterior refitted without row i
    # and its predictive at row i. Both are direct solves of the same normal equations: 1e-9
    # relative (the downdate divides by 1 - h_i, which is ~0.99 here; no cancellation).
    X, y, sigma, _, _, _ = fixed_model
    rows = np.arange(0, len(y), 37)
    for alpha in (1e-4, 1.0, 1e4):
        tau = ridge.alpha_to_prior_sd(alpha, sigma)
        centre, sd = ridge.loo_predictive(X, y, *ridge.exact_posterior(X, y, tau, sigma), sigma)
        for i in rows:
            keep = np.arange(len(y)) != i
            refit = ridge.exact_posterior(X[keep], y[keep], tau, sigma)
            want_centre, want_sd = ridge.predictive(X[i : i + 1], *refit, sigma)
            assert centre[i] == pytest.approx(want_centre[0], rel=1e-9)
            assert sd[i] == pytest.approx(want_sd[0], rel=1e-9)
        # and it is not the in-sample predictive: leaving a row out widens it (1 / sqrt(1 - h) >
        # sqrt(1 + h) for h >= 1/n, the flat intercept's share) and moves it away from y (by
        # 1 / (1 - h), up to rounding)
        in_centre, in_sd = ridge.predictive(X, *ridge.exact_posterior(X, y, tau, sigma), sigma)
        assert np.all(sd > in_sd)
        assert np.all(np.abs(y - centre) >= np.abs(y - in_centre) * (1 - 1e-12))


def test_leave_one_out_refuses_a_leverage_lost_to_rounding():
    # A column non-zero on one row only (1e9 there) at alpha 1e-8: that row's leverage is
    # 1 - 1e-26 in exact arithmetic and 1 - 7e-16 computed, rounding noise: refused, not
    # returned as a predictive with a made-up sd. The same row at 10 with alpha 1 (leverage
    # ~0.99) is kept, its leave-one-out predictive ~10 times wider than a typical row's.
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3))
    y = 1.0 + X @ np.array([1.0, -0.5, 0.0]) + rng.normal(size=60)
    X[:, 2] = 0.0
    for spike, alpha, refused in ((1e9, 1e-8, True), (10.0, 1.0, False)):
        X[7, 2] = spike
        post = ridge.exact_posterior(X, y, ridge.alpha_to_prior_sd(alpha, 1.0), 1.0)
        if refused:
            with pytest.raises(ridge.LeverageRoundsToOne, match="rounds to 1"):
                ridge.loo_predictive(X, y, *post, 1.0)
        else:
            centre, sd = ridge.loo_predictive(X, y, *post, 1.0)
            assert np.all(np.isfinite(centre)) and sd[7] > 3 * np.median(sd)


def test_exact_loo_refuses_the_leverage_the_predictive_refuses():
    # the same spike as above: exact_loo (the lambda and sensitivity pages' LOO) raises where it
    # returned a NaN (or a density with no correct digit) that np.argmax would have picked; where
    # kept, it is the log density of loo_predictive's Normal (same downdate; round-off only)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3))
    y = 1.0 + X @ np.array([1.0, -0.5, 0.0]) + rng.normal(size=60)
    X[:, 2] = 0.0
    X[7, 2] = 1e9
    with pytest.raises(ridge.LeverageRoundsToOne):
        evidence.exact_loo(X, y, ridge.alpha_to_prior_sd(1e-8, 1.0), 1.0)
    X[7, 2] = 10.0
    tau = ridge.alpha_to_prior_sd(1.0, 1.0)
    centre, sd = ridge.loo_predictive(X, y, *ridge.exact_posterior(X, y, tau, 1.0), 1.0)
    np.testing.assert_allclose(evidence.exact_loo(X, y, tau, 1.0), stats.norm.logpdf(y, centre, sd),
                               rtol=1e-12)  # fmt: skip


def test_noise_estimate_divides_by_the_rank_not_the_column_count():
    # a duplicated column, and both one-hot dummies of a group beside the intercept (where one
    # dummy spans the same), add a column but no direction: the same residuals, so the same
    # sigma as the full-rank design (lstsq round-off); n - p - 1 overstated it by sqrt(37 / 36)
    rng = np.random.default_rng(3)
    X = rng.normal(size=(40, 3))
    y = X @ np.array([1.0, -1.0, 0.5]) + rng.normal(size=40)
    dummies = np.eye(2)[rng.integers(0, 2, 40)]
    for full_rank, wider in (
        (X, np.column_stack([X, X[:, 0]])),
        (np.column_stack([X, dummies[:, 0]]), np.column_stack([X, dummies])),
    ):
        np.testing.assert_allclose(
            noise_estimate(wider, y), noise_estimate(full_rank, y), rtol=1e-10
        )


def test_conjugate_covariance_is_infinite_where_the_t_has_no_variance():
    # sigma unknown: a Student-t with n - 1 degrees of freedom; its covariance is s2 M^-1 times
    # dof / (dof - 2) above 2 dof and does not exist at or below (it was negative at dof 1)
    rng = np.random.default_rng(0)
    for n in (2, 3, 4):
        X, y = rng.normal(size=(n, 2)), rng.normal(size=n)
        post = ridge.conjugate({"alpha": 1.0}, X, y)
        known = dataclasses.replace(post, dof=np.inf).covariance()
        if post.dof <= 2:
            assert np.all(np.isinf(post.covariance()))
        else:
            np.testing.assert_allclose(post.covariance(), known * post.dof / (post.dof - 2))


def test_every_ridge_posterior_is_the_one_cholesky_solve(fixed_model):
    # exact_posterior, conjugate (sigma fixed and unknown), the spec's exact mode and the statistics'
    # ridge_mode all come from models.core.arrays.ridge_posterior; against the SVD oracle and the
    # textbook inverse (Z'Z / sigma^2 + D)^{-1}: a Cholesky solve on diabetes agrees to ~1e-12.
    X, y, sigma, _, _, md = fixed_model
    Z = np.column_stack([np.ones(len(y)), X])
    for alpha in (1e-4, 1.0, 1e4):
        oracle = np.concatenate(closed_form(X, y, alpha), axis=None)
        mean, cov = ridge.exact_posterior(X, y, ridge.alpha_to_prior_sd(alpha, sigma), sigma)
        precision = (Z.T @ Z + np.diag([0.0] + [alpha] * X.shape[1])) / sigma**2
        assert rel_linf(mean, oracle) <= 1e-9
        assert rel_linf(cov, np.linalg.inv(precision)) <= 1e-9
        for noise in (sigma, None):
            assert (
                rel_linf(ridge.conjugate({"alpha": alpha}, X, y, None, noise).mean, oracle) <= 1e-9
            )
        for b0, w in (ridge.SPEC.closed_form.exact_mode({"alpha": alpha}, md),
                      GaussianStatistics.from_arrays(X, y).ridge_mode(alpha)):  # fmt: skip
            assert rel_linf(np.concatenate([[b0], w]), oracle) <= 1e-9


def test_unknown_noise_joint_map_is_ridge(diabetes):
    # With w | sigma ~ N(0, sigma / sqrt(alpha)) the conditional mode of w is Ridge(alpha) for every
    # sigma, hence also at the joint mode. Newton to convergence: 1e-8 relative.
    X, y, names = diabetes
    solver = MAPSolver(ridge.build_unknown_noise(arrays(X, y, names)))
    for alpha in (1e-3, 0.1, 10.0, 1e4):
        fit = solver.solve({"alpha": alpha})
        sk = Ridge(alpha=alpha).fit(X, y)
        assert np.max(np.abs(fit.point["w"] - sk.coef_)) <= 1e-8 * np.max(np.abs(sk.coef_))
        assert fit.point["sigma"] > 0


def test_nuts_matches_exact_posterior_within_monte_carlo_error(fixed_model):
    # Monte Carlo error: |mean_mcmc - mean_exact| has sd mcse_mean (from ESS); allow 5 of them per
    # coefficient (11 coefficients -> a false alarm has probability ~1e-5). The sd estimate has
    # standard error mcse_sd; same 5-sigma rule.
    X, y, sigma, model, _, _ = fixed_model
    alpha = 0.01
    tau = ridge.alpha_to_prior_sd(alpha, sigma)
    dt = PosteriorSampler(model).sample({"prior_sd": tau}, draws=1000, tune=1000, chains=2, seed=11)
    summary = az.summary(dt, var_names=["intercept", "w"], round_to="none")
    mean, cov = ridge.exact_posterior(X, y, tau, sigma)
    sd = np.sqrt(np.diag(cov))
    assert np.all(
        np.abs(summary["mean"].to_numpy(float) - mean) <= 5 * summary["mcse_mean"].to_numpy(float)
    )
    assert np.all(
        np.abs(summary["sd"].to_numpy(float) - sd) <= 5 * summary["mcse_sd"].to_numpy(float)
    )
    assert int(dt["sample_stats"]["diverging"].sum()) == 0


def test_sampler_reuses_one_compilation(fixed_model):
    # Two different prior widths through the same compiled model give different posteriors: the
    # pm.Data value really reaches the compiled log density.
    _, _, sigma, model, _, _ = fixed_model
    sampler = PosteriorSampler(model)
    wide = sampler.sample({"prior_sd": 1e4}, draws=200, tune=200, chains=1, seed=1)
    compiled = sampler.compiled  # compiled by the first sample
    tight = sampler.sample({"prior_sd": 1.0}, draws=200, tune=200, chains=1, seed=1)
    assert compiled is not None and sampler.compiled is compiled
    assert float(tight["posterior"]["w"].std()) < 0.1 * float(wide["posterior"]["w"].std())


def test_registry_lookup():
    assert get_model("ridge") is ridge.SPEC
    with pytest.raises(InputError, match="unknown model 'nope'; registered models: .*ridge"):
        get_model("nope")


def test_wide_problem_map_certifies_and_is_ridge():
    # p >> n with sigma fixed is a proper posterior: the MAP solver (one Hessian per solve, the
    # Hessian being constant) certifies and equals scikit-learn's Ridge and the dual closed form.
    # Condition number of the Hessian <= ~1e5 at alpha = 0.01 here: 1e-8 relative is the bound.
    rng = np.random.default_rng(0)
    X = rng.normal(size=(20, 300))
    y = X[:, :3] @ np.array([3.0, -2.0, 1.0]) + rng.normal(size=20)
    md = arrays(X, y, [f"x{j}" for j in range(300)], 1.0)
    solver = MAPSolver(ridge.build(md), ridge.SPEC)
    for alpha in (1e-2, 1.0, 100.0):
        fit = solver.solve({"prior_sd": ridge.alpha_to_prior_sd(alpha, 1.0)}).certify()
        sk = Ridge(alpha=alpha, solver="cholesky").fit(X, y)
        assert rel_linf(fit.point["w"], sk.coef_) <= 1e-8
        assert fit.point["intercept"] == pytest.approx(sk.intercept_, rel=1e-8, abs=1e-8)
        b0, w = ridge.SPEC.closed_form.exact_mode({"alpha": alpha}, md)
        assert rel_linf(w, sk.coef_) <= 1e-8 and b0 == pytest.approx(sk.intercept_, abs=1e-8)


def test_conjugate_solves_in_the_dual_only_with_more_columns_than_rows():
    rng = np.random.default_rng(1)
    for n, p, route in ((10, 40, "rows"), (40, 10, "statistics")):
        X, y = rng.normal(size=(n, p)), rng.normal(size=n)
        post = ridge.conjugate({"alpha": 2.0}, X, y, None, 1.5)
        rows = ridge_posterior_rows(2.0, 1.5, X=X, y=y)
        statistics = GaussianStatistics.from_arrays(X, y).conjugate(2.0, 1.5)
        expected = rows if route == "rows" else statistics
        np.testing.assert_array_equal(post.mean, expected.mean)
        np.testing.assert_array_equal(post.w_unscaled_cov, expected.w_unscaled_cov)


def _rational_quadratic(Xc: np.ndarray, xc: np.ndarray, alpha: float) -> float:
    """``xc' (Xc'Xc + alpha I)^{-1} xc`` in exact rational arithmetic on the same floats."""
    p = Xc.shape[1]
    F = Fraction
    M = [[sum(F(a) * F(b) for a, b in zip(Xc[:, i], Xc[:, j], strict=True)) + F(alpha) * (i == j)
          for j in range(p)] for i in range(p)]  # fmt: skip
    b = [F(v) for v in xc]
    for col in range(p):  # Gauss-Jordan: M is positive definite, so no pivot is 0
        for r in range(p):
            if r != col and M[r][col] != 0:
                f = M[r][col] / M[col][col]
                M[r] = [u - f * v for u, v in zip(M[r], M[col], strict=True)]
                b[r] -= f * b[col]
    return float(sum(F(v) * b[i] / M[i][i] for i, v in enumerate(xc)))


def test_wide_posterior_quadratic_has_no_cancellation_at_large_scale():
    # 8 rows, 12 columns of scale 1e7, alpha 1: (Xc'Xc + I)^{-1} is I minus a nearly equal term,
    # and x' M^{-1} x from that dense matrix was wrong by 10-25% (the twin's predictive sds);
    # from the SVD basis it is a sum of squares, equal to the rational answer to round-off
    rng = np.random.default_rng(0)
    X = rng.normal(size=(8, 12)) * 1e7
    y = X[:, 0] / 1e7 + rng.normal(size=8)
    post = ridge_posterior_rows(1.0, 1.0, X=X, y=y)
    x_new = np.vstack([X[:3], rng.normal(size=(2, 12)) * 1e7])
    exact = [1 / 8 + _rational_quadratic(X - post.x_mean, x - post.x_mean, 1.0) for x in x_new]
    np.testing.assert_allclose(post.quadratic(x_new), exact, rtol=1e-9)


def test_wide_posterior_draws_have_its_covariance():
    # draws from the SVD basis (positive semi-definite by construction, where a Cholesky of the
    # dense matrix can fail): 20,000 draws of w, each covariance entry within 5 standard errors
    # sqrt((s_ii s_jj + s_ij^2) / n) of s2 * w_unscaled_cov (false alarm ~6e-7 per entry)
    rng = np.random.default_rng(2)
    X, y = rng.normal(size=(6, 9)), rng.normal(size=6)
    post = ridge_posterior_rows(0.5, 1.0, X=X, y=y)
    beta, _ = post.draw(np.random.default_rng(3), 20_000)
    cov = post.s2 * post.w_unscaled_cov
    se = np.sqrt((np.outer(np.diag(cov), np.diag(cov)) + cov**2) / 20_000)
    assert np.all(np.abs(np.cov(beta[:, 1:].T) - cov) <= 5 * se)
    assert np.all(np.abs(beta[:, 1:].mean(0) - post.mean[1:]) <= 5 * np.sqrt(np.diag(cov) / 20_000))
