"""The array layer (models.core.arrays) against direct formulas on small arrays."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import special, stats

from models.core import arrays
from models.core.base import InputError
from models.scale.statistics import GaussianStatistics


@pytest.fixture(scope="module")
def draws():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(37, 4))
    return rng.normal(size=9), rng.normal(size=(9, 4)), X, rng.normal(size=37)


def test_chunks_cover_every_row_once_and_equal_one_block(draws):
    # chunks of at most 2 rows x 9 draws (and of 1 row when the limit is below the draws): the
    # same numbers as one block, since each entry is the same dot product
    intercept, w, X, _ = draws
    whole = intercept[:, None] + w @ X.T
    for max_numbers in (1, 18, 100, 10**6):
        out = np.full_like(whole, np.nan)
        for rows, eta in arrays.linear_predictor_chunks(intercept, w, X, max_numbers):
            assert eta.size <= max(max_numbers, len(w))
            assert np.all(np.isnan(out[:, rows]))
            out[:, rows] = eta
        np.testing.assert_allclose(out, whole, rtol=1e-14, atol=1e-14)


def test_gaussian_is_scipys_normal_log_density(draws):
    intercept, w, X, y = draws
    eta = intercept[:, None] + w @ X.T
    sigma = np.linspace(0.5, 2.0, len(w))
    weight = np.linspace(0.1, 3.0, len(y))
    got = arrays.pointwise_log_likelihood("gaussian", eta, y, sigma, weight)
    expected = stats.norm.logpdf(y, eta, sigma[:, None] / np.sqrt(weight))
    np.testing.assert_allclose(got, expected, rtol=1e-14)
    np.testing.assert_allclose(
        arrays.pointwise_log_likelihood("gaussian", eta, y, 1.5),
        stats.norm.logpdf(y, eta, 1.5),
        rtol=1e-14,
    )
    # chunked over draws and rows, the same numbers
    np.testing.assert_allclose(
        arrays.draws_log_likelihood("gaussian", intercept, w, X, y, sigma, weight),
        expected,
        rtol=1e-14,
    )


def test_bernoulli_stable_form_equals_the_naive_one_where_that_is_finite():
    # log p and log(1 - p) straight from p = expit(eta): -inf once p rounds to 0 or 1 (|eta| = 800
    # here); elsewhere within 1e-10 (1 - p loses ~1e-12 of its digits at |eta| = 10)
    eta = np.array([[-800.0, -10.0, -1.0, 0.0, 0.5, 10.0, 800.0]] * 2)
    y = np.array([1, 0, 1, 0, 1, 0, 0])
    got = arrays.pointwise_log_likelihood("bernoulli", eta, y)
    p = special.expit(eta)
    with np.errstate(divide="ignore"):
        naive = np.where(y == 1, np.log(p), np.log1p(-p))
    finite = np.isfinite(naive)
    assert not finite[:, 0].any() and not finite[:, -1].any() and finite[:, 1:-1].all()
    np.testing.assert_allclose(got[finite], naive[finite], rtol=1e-10)
    assert np.all(got[:, [0, -1]] == -800.0)  # the stable form: log(1 + e^800) = 800 exactly


def test_bad_kinds_and_arguments_are_refused(draws):
    _, _, _, y = draws
    eta = np.zeros((2, len(y)))
    with pytest.raises(ValueError, match="kind must be one of gaussian, bernoulli"):
        arrays.pointwise_log_likelihood("nonsense", eta, y)
    with pytest.raises(ValueError, match="needs its noise sd sigma"):
        arrays.pointwise_log_likelihood("gaussian", eta, y)
    with pytest.raises(ValueError, match="needs its noise sd sigma"):
        arrays.pointwise_log_likelihood("gaussian", eta, y, weight=np.ones(len(y)))
    with pytest.raises(ValueError, match="has no dispersion"):
        arrays.pointwise_log_likelihood("bernoulli", eta, y > 0, sigma=1.0)
    with pytest.raises(ValueError, match="Gaussian likelihood only"):
        arrays.pointwise_log_likelihood("bernoulli", eta, y > 0, weight=np.ones(len(y)))


def test_ridge_posterior_is_the_normal_equations(draws):
    # mode = (Z'Z + diag(0, alpha))^{-1} Z'y, covariance sigma^2 times that inverse; with sigma
    # unknown, the Student-t scale S / (n - 1), S the penalised residual sum of squares
    _, _, X, y = draws
    alpha, sigma = 0.7, 1.3
    Z = np.column_stack([np.ones(len(y)), X])
    M = Z.T @ Z + np.diag([0.0] + [alpha] * X.shape[1])
    mode = np.linalg.solve(M, Z.T @ y)
    stats_ = vars(GaussianStatistics.from_arrays(X, y))
    fixed = arrays.ridge_posterior(alpha, sigma, **stats_)
    np.testing.assert_allclose(fixed.mean, mode, rtol=1e-12)
    np.testing.assert_allclose(fixed.covariance(), sigma**2 * np.linalg.inv(M), rtol=1e-10)
    unknown = arrays.ridge_posterior(alpha, **stats_)
    S = np.sum((y - Z @ mode) ** 2) + alpha * mode[1:] @ mode[1:]
    assert unknown.dof == len(y) - 1 and unknown.s2 == pytest.approx(S / (len(y) - 1), rel=1e-12)
    with pytest.raises(InputError, match="positive"):
        arrays.ridge_posterior(0.0, sigma, **stats_)


@pytest.mark.parametrize("shape", [(8, 20), (40, 6)])
def test_dual_ridge_posterior_equals_the_primal(shape):
    # The SVD route (the dual solve when p > n) and the Cholesky route on C_xx + alpha I are the
    # same posterior: mode, (C_xx + alpha I)^{-1}, the t scale and degrees of freedom, with and
    # without weights (one of them zero). alpha >= 0.3 on these columns keeps C_xx + alpha I's
    # condition number below ~1e4, so both routes are accurate to ~1e-13.
    rng = np.random.default_rng(3)
    n, p = shape
    X = rng.normal(2.0, 1.0, size=(n, p)) * rng.uniform(0.5, 3.0, p)
    y = X[:, :3] @ np.array([1.0, -2.0, 0.5]) + rng.normal(size=n)
    weight = rng.uniform(0.0, 2.0, n)
    weight[0] = 0.0
    for w in (None, weight):
        for alpha in (0.3, 3.0, 300.0):
            for sigma in (None, 1.3):
                dual = arrays.ridge_posterior_rows(alpha, sigma, X=X, y=y, weight=w)
                primal = GaussianStatistics.from_arrays(X, y, w).conjugate(alpha, sigma)
                np.testing.assert_allclose(
                    dual.mean, primal.mean, rtol=0, atol=1e-10 * np.abs(primal.mean).max()
                )
                np.testing.assert_allclose(dual.w_unscaled_cov, primal.w_unscaled_cov, rtol=0,
                                           atol=1e-10 * np.abs(primal.w_unscaled_cov).max())  # fmt: skip
                np.testing.assert_allclose(dual.x_mean, primal.x_mean, rtol=1e-12)
                assert dual.s2 == pytest.approx(primal.s2, rel=1e-10)
                assert dual.dof == primal.dof and dual.weight_total == pytest.approx(
                    primal.weight_total
                )


def test_laplace_covariance_refuses_a_hessian_singular_to_working_precision():
    # eigenvalues (2, 1e-17): below d eps max|lambda| = 8.9e-16, the rounding of H alone could
    # flip that curvature's sign; (2, -1) has a downward direction; both raise, naming the extremes
    rotation = np.array([[0.6, -0.8], [0.8, 0.6]])
    for smallest in (1e-17, -1.0, 0.0):
        hessian = rotation @ np.diag([2.0, smallest]) @ rotation.T
        with pytest.raises(arrays.SingularHessian, match="not positive definite"):
            arrays.laplace_covariance(hessian)
    with pytest.raises(arrays.SingularHessian, match="non-finite"):
        arrays.laplace_covariance(np.array([[1.0, np.nan], [np.nan, 1.0]]))


def test_laplace_covariance_inverts_an_ill_conditioned_but_certified_hessian():
    # eigenvalues (2, 1e-10): condition 2e10, above the tolerance; the inverse of the
    # eigen-decomposition to relative error ~ condition x eps = 4e-6 at worst (here far less)
    rotation = np.array([[0.6, -0.8], [0.8, 0.6]])
    hessian = rotation @ np.diag([2.0, 1e-10]) @ rotation.T
    cov = arrays.laplace_covariance(hessian)
    expected = rotation @ np.diag([0.5, 1e10]) @ rotation.T
    np.testing.assert_allclose(cov, expected, rtol=1e-5)
    assert np.array_equal(cov, cov.T)


def test_normal_draws_raise_on_a_covariance_that_is_not_one():
    # NumPy's default SVD method only warns here and draws from another covariance
    rng = np.random.default_rng(0)
    with pytest.raises(np.linalg.LinAlgError):
        arrays.normal_draws(rng, np.zeros(2), np.array([[1.0, 2.0], [2.0, 1.0]]), 10)


def test_normal_draws_have_the_mean_and_covariance_asked_for():
    # 40,000 draws: each sample moment is within 5 standard errors of the truth (false alarm
    # ~6e-7 per moment); the standard error of a sample covariance entry is
    # sqrt((s_ii s_jj + s_ij^2) / n)
    mean, cov = np.array([1.0, -2.0]), np.array([[2.0, 0.9], [0.9, 0.5]])
    n = 40_000
    x = arrays.normal_draws(np.random.default_rng(1), mean, cov, n)
    assert x.shape == (n, 2)
    assert np.all(np.abs(x.mean(0) - mean) <= 5 * np.sqrt(np.diag(cov) / n))
    se = np.sqrt((np.outer(np.diag(cov), np.diag(cov)) + cov**2) / n)
    assert np.all(np.abs(np.cov(x.T) - cov) <= 5 * se)


def test_laplace_covariance_does_not_depend_on_the_columns_units():
    # a proper posterior whose curvatures are 1e12 apart because of units alone (the audit's
    # logistic data, columns of scale 1e-3 to 1e5): rescaling a parameter by c scales its row
    # and column of H by 1/c, and of H^-1 by c; the certificate and the covariance follow
    rng = np.random.default_rng(2)
    A = rng.normal(size=(6, 4))
    unit = A.T @ A + np.eye(4)  # condition ~10
    units = np.array([1e-3, 1.0, 1e2, 1e5])
    hessian = unit / units[:, None] / units[None, :]
    cov = arrays.laplace_covariance(hessian)
    expected = np.linalg.inv(unit) * units[:, None] * units[None, :]
    # relative error ~ condition of the scaled H x eps, entrywise
    np.testing.assert_allclose(cov, expected, rtol=1e-12)
    with pytest.raises(arrays.SingularHessian, match="curvature -1 along parameter 1"):
        arrays.laplace_covariance(np.diag([1.0, -1.0, 2.0]))


def _exact_ridge_mode(X: np.ndarray, y: np.ndarray, alpha: float) -> np.ndarray:
    """``(b0, w)`` solving ``(Z'Z + diag(0, alpha, ...)) beta = Z'y`` in exact rational
    arithmetic (every float is a rational; Gauss-Jordan on Fractions), rounded once at the end."""
    from fractions import Fraction

    Z = [[Fraction(1)] + [Fraction(v) for v in row] for row in X.tolist()]
    target = [Fraction(v) for v in y.tolist()]
    d = len(Z[0])
    M = [[sum(r[i] * r[j] for r in Z) + (Fraction(alpha) if i == j > 0 else 0) for j in range(d)]
         + [sum(r[i] * t for r, t in zip(Z, target, strict=True))] for i in range(d)]  # fmt: skip
    for k in range(d):
        pivot = next(i for i in range(k, d) if M[i][k] != 0)
        M[k], M[pivot] = M[pivot], M[k]
        M[k] = [v / M[k][k] for v in M[k]]
        for i in range(d):
            if i != k and M[i][k] != 0:
                M[i] = [a - M[i][k] * b for a, b in zip(M[i], M[k], strict=True)]
    return np.array([float(M[i][d]) for i in range(d)])


@pytest.mark.parametrize("alpha", [1e-12, 1e-8])
def test_nearly_collinear_columns_keep_their_digits(alpha):
    # two columns 1e-7 apart at a tiny alpha: cond(C_xx + alpha I) ~ 1e13 to 1e16, where the
    # normal equations' Cholesky solve lost 2 to 6 digits without a word (audit); from the rows
    # the SVD route is taken, and the statistics alone warn with their error bound
    from scipy.linalg import LinAlgWarning

    from models import ridge

    rng = np.random.default_rng(1)
    X = rng.normal(size=(40, 5))
    X[:, 1] = X[:, 0] + 1e-7 * rng.normal(size=40)
    y = X @ rng.normal(size=5) + rng.normal(size=40) + 3
    exact = _exact_ridge_mode(X, y, alpha)
    mode = ridge.conjugate({"alpha": alpha}, X, y).mean
    # the SVD's error is about cond(Xc) x eps (= sqrt(cond(C_xx)) x eps) relative to the largest
    # coefficient: measured 3.5e-9 and 4.0e-9 against a bound of 10 x 2.5e7 x 2.2e-16 = 5.6e-8;
    # the normal equations' error was 1.5e-2 and 1.2e-6
    bound = 10 * np.linalg.cond(X - X.mean(axis=0)) * np.finfo(float).eps
    np.testing.assert_allclose(mode, exact, rtol=0, atol=bound * np.abs(exact).max())
    with pytest.warns(LinAlgWarning, match="ill-conditioned"):
        GaussianStatistics.from_arrays(X, y).conjugate(alpha)
