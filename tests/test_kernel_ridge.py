"""KernelRidge is the posterior mean of a Gaussian process (models/kernel_ridge.py)."""

import numpy as np
import pytest
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import RBF
from sklearn.kernel_ridge import KernelRidge
from sklearn.linear_model import Ridge

from models import InputError
from models import kernel_ridge as kr

KERNELS = [
    ("linear", {}),
    ("rbf", {"gamma": 0.3}),
    ("laplacian", {"gamma": 0.5}),
    ("polynomial", {"gamma": 0.4, "degree": 3, "coef0": 1.0}),
]


@pytest.fixture(scope="module")
def rows():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(30, 3))
    y = np.sin(X[:, 0]) + X[:, 1] + 0.1 * rng.normal(size=30)
    return X, y, rng.normal(size=(12, 3))


@pytest.mark.parametrize(("name", "params"), KERNELS)
def test_pymc_covariance_is_scikit_learns_kernel(name, params, rows):
    X, _, X_new = rows
    kernel = kr.kernel_of(name, 3, **params)
    ours = kernel.covariance(3)(X, X_new).eval()
    np.testing.assert_allclose(ours, kernel.matrix(X, X_new), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize(("name", "params"), KERNELS)
@pytest.mark.parametrize("alpha", [1e-2, 3.0])
def test_kernel_ridge_is_the_gp_posterior_mean(name, params, alpha, rows):
    X, y, X_new = rows
    kernel = kr.kernel_of(name, 3, **params)
    expected = KernelRidge(alpha=alpha, kernel=name, **params).fit(X, y).predict(X_new)
    scale = np.max(np.abs(expected))
    closed = kr.exact_posterior(kernel, X, y, alpha).mean(X_new)
    assert np.max(np.abs(closed - expected)) / scale < 1e-9
    # at this alpha after another: the one compiled graph takes each alpha it is given
    other, pymc = kr.pymc_posterior_means(kernel, X, y, [10 * alpha, alpha], X_new)
    assert np.max(np.abs(pymc - expected)) / scale < 1e-9
    assert np.max(np.abs(other - expected)) / scale > 1e-3


def test_a_wrong_alpha_is_detected(rows):
    """The comparison can fail: the GP with noise variance 2 alpha is not KernelRidge(alpha)."""
    X, y, X_new = rows
    kernel = kr.kernel_of("rbf", 3, gamma=0.3)
    expected = KernelRidge(alpha=0.1, kernel="rbf", gamma=0.3).fit(X, y).predict(X_new)
    assert np.max(np.abs(kr.exact_posterior(kernel, X, y, 0.2).mean(X_new) - expected)) > 1e-3


def test_exact_posterior_is_gaussian_process_regressors(rows):
    """Mean and sd of f with amplitude 1 equal GaussianProcessRegressor(optimizer=None)'s."""
    X, y, X_new = rows
    kernel = kr.kernel_of("rbf", 3, gamma=0.3)
    gpr = GaussianProcessRegressor(RBF(kernel.length_scale), alpha=0.1, optimizer=None).fit(X, y)
    mean, sd = gpr.predict(X_new, return_std=True)
    ours_mean, ours_sd = kr.exact_posterior(kernel, X, y, 0.1, amplitude=1.0).predict(X_new, False)
    np.testing.assert_allclose(ours_mean, mean, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(ours_sd, sd, rtol=1e-9, atol=1e-12)
    _, with_noise = kr.exact_posterior(kernel, X, y, 0.1, amplitude=1.0).predict(X_new, True)
    np.testing.assert_allclose(with_noise**2, sd**2 + 0.1, rtol=1e-9)


@pytest.mark.parametrize(("name", "params"), KERNELS)
def test_prediction_is_the_map_of_the_weights_in_a_feature_space(name, params, rows):
    """On the points Z = (training rows, new rows), f(Z) = Phi w with Phi Phi' = K(Z, Z) and
    w ~ Normal(0, I): Ridge(alpha) on Phi's training rows predicts KernelRidge's values."""
    X, y, X_new = rows
    kernel = kr.kernel_of(name, 3, **params)
    points = np.vstack([X, X_new])
    values, vectors = np.linalg.eigh(kernel.matrix(points, points))
    features = vectors * np.sqrt(np.clip(values, 0.0, None))
    ridge = Ridge(alpha=0.5, fit_intercept=False, solver="svd").fit(features[: len(X)], y)
    expected = KernelRidge(alpha=0.5, kernel=name, **params).fit(X, y).predict(X_new)
    np.testing.assert_allclose(ridge.predict(features[len(X) :]), expected, rtol=1e-8, atol=1e-10)


def test_linear_kernel_weights_are_ridges_coefficients(rows):
    X, y, _ = rows
    dual = KernelRidge(alpha=0.7).fit(X, y).dual_coef_
    np.testing.assert_allclose(X.T @ dual, Ridge(alpha=0.7, fit_intercept=False).fit(X, y).coef_,
                               rtol=1e-10)  # fmt: skip


@pytest.mark.parametrize(
    ("kernel", "params", "words"),
    [
        ("sigmoid", {}, "not positive semi-definite"),
        ("cosine", {}, "no Gaussian-process mapping"),
        (lambda a, b: a @ b, {}, "callable"),
        ("polynomial", {"degree": 2.5}, "integer degree"),
        ("polynomial", {"degree": 0}, "integer degree"),
        ("polynomial", {"coef0": -1.0}, "coef0 >= 0"),
        ("rbf", {"gamma": -1.0}, "gamma"),
        ("rbf", {"kernel_params": {"gamma": 1}}, "kernel_params"),
    ],
)
def test_unmapped_kernels_are_refused(kernel, params, words):
    with pytest.raises(InputError, match=words):
        kr.kernel_of(kernel, 3, **params)


def test_too_many_rows_and_a_non_positive_definite_matrix_are_refused():
    with pytest.raises(InputError, match="too many for an exact Gaussian process"):
        kr.check_rows(kr.MAX_ROWS + 1)
    kr.check_rows(kr.MAX_ROWS)
    X = np.array([[1.0], [2.0], [3.0]])
    broken = kr.Kernel("polynomial", gamma=1.0, degree=1, coef0=-50.0)  # not PSD: built by hand
    with pytest.raises(InputError, match="not positive definite"):
        kr.exact_posterior(broken, X, np.ones(3), 1e-3)


def test_gamma_none_is_one_over_the_number_of_features():
    assert kr.kernel_of("rbf", 4).gamma == 0.25


def test_knob_row_is_the_gp_amplitude(rows):
    """The knobs table's KernelRidge row: tau = sigma / sqrt(alpha) is the amplitude eta of the GP
    whose posterior mean (noise sd sigma) is KernelRidge(alpha)."""
    from models.twin.knobs import get_knob

    X, y, X_new = rows
    sigma, alpha = 0.3, 0.05
    eta = get_knob("kernel_ridge").to_width(alpha, sigma=sigma)
    kernel = kr.kernel_of("rbf", 3, gamma=0.3)
    gp_mean = kr.exact_posterior(kernel, X, y, sigma**2 / eta**2, amplitude=eta).mean(X_new)
    expected = KernelRidge(alpha=alpha, kernel="rbf", gamma=0.3).fit(X, y).predict(X_new)
    np.testing.assert_allclose(gp_mean, expected, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize(
    ("argv", "words"),
    [(["--kernel", "sigmoid"], "'sigmoid' is not a kernel this page samples"),
     (["--data", "BIG", "--target", "y"], "too many for an exact Gaussian process")],
)  # fmt: skip
def test_page_refuses_bad_input_in_one_line(argv, words, tmp_path, capsys):
    from experiments.__main__ import main

    big = tmp_path / "big.csv"
    rng = np.random.default_rng(0)
    np.savetxt(big, rng.normal(size=(kr.MAX_ROWS + 1, 2)), delimiter=",", header="x,y", comments="")
    argv = [str(big) if a == "BIG" else a for a in argv]
    assert main(["kernel_ridge", *argv, "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip()
    assert words in err and "\n" not in err, err
    assert not (tmp_path / "out").exists()


def test_an_unknown_amplitude_refuses_an_all_zero_target():
    # y = 0: y'(K + alpha I)^-1 y = 0, the amplitude's posterior scale would be 0 and every
    # interval zero-width; refused in one line, while a known amplitude still has its posterior
    X = np.random.default_rng(0).normal(size=(12, 3))
    kernel = kr.kernel_of("rbf", 3, gamma=0.3)
    with pytest.raises(InputError, match="not all 0"):
        kr.exact_posterior(kernel, X, np.zeros(12), 1.0)
    low, high = kr.exact_posterior(kernel, X, np.zeros(12), 1.0, amplitude=1.0).interval(X, 0.94)
    assert np.all(high - low > 0)
