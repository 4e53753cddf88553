"""The Bayesian twin of KernelRidge (models/twin/gp.py): the exact GP posterior behind it."""

import numpy as np
import pytest
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import RBF
from sklearn.kernel_ridge import KernelRidge
from sklearn.utils.estimator_checks import parametrize_with_checks

from models import InputError
from models.twin import bayesian
from models.twin.gp import GaussianProcessTwin

CHECKED = [
    bayesian(KernelRidge()),
    bayesian(KernelRidge(alpha=0.5, kernel="rbf", gamma=0.2)),
    bayesian(KernelRidge(kernel="laplacian"), amplitude=2.0),
]


@parametrize_with_checks(CHECKED, expected_failed_checks=lambda estimator: {})
def test_scikit_learn_estimator_checks(estimator, check):
    check(estimator)


@pytest.fixture(scope="module")
def rows():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(40, 2))
    return X, np.sin(X[:, 0]) + 0.1 * rng.normal(size=40), rng.normal(size=(10, 2))


def test_bayesian_kernel_ridge_is_the_gp_twin_and_predicts_kernel_ridges_mean(rows):
    X, y, X_new = rows
    estimator = KernelRidge(alpha=0.3, kernel="polynomial", degree=2, gamma=0.5)
    twin = bayesian(estimator).fit(X, y)
    assert isinstance(twin, GaussianProcessTwin)
    expected = estimator.fit(X, y).predict(X_new)
    np.testing.assert_allclose(twin.predict(X_new), expected, rtol=1e-9, atol=1e-12)
    assert twin.wrapped_gap_ < 1e-9


def test_fixed_amplitude_sd_is_gaussian_process_regressors_plus_noise(rows):
    X, y, X_new = rows
    twin = bayesian(KernelRidge(alpha=0.1, kernel="rbf", gamma=0.5), amplitude=1.0).fit(X, y)
    gpr = GaussianProcessRegressor(RBF(1.0), alpha=0.1, optimizer=None).fit(X, y)
    mean, sd = gpr.predict(X_new, return_std=True)
    twin_mean, twin_sd = twin.predict(X_new, return_std=True)
    np.testing.assert_allclose(twin_mean, mean, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(twin_sd**2, sd**2 + 0.1, rtol=1e-9)
    low, high = twin.predict_interval(X_new, prob=0.9, kind="mean")
    np.testing.assert_allclose((high - low) / 2, 1.6448536269514722 * sd, rtol=1e-9)


def test_unknown_amplitude_gives_a_wider_student_t_than_its_normal(rows):
    """Jeffreys on eta: Student-t with n dof at scale^2 y'A^-1 y / n; the interval's half-width
    is the t quantile times the sd / sqrt(n / (n - 2))."""
    X, y, X_new = rows
    twin = bayesian(KernelRidge(alpha=0.1, kernel="rbf", gamma=0.5)).fit(X, y)
    _, sd = twin.predict(X_new, return_std=True)
    low, high = twin.predict_interval(X_new, prob=0.94)
    from scipy import stats

    n = len(y)
    np.testing.assert_allclose((high - low) / 2, stats.t(n).ppf(0.97) * sd / np.sqrt(n / (n - 2)),
                               rtol=1e-9)  # fmt: skip


@pytest.mark.parametrize(
    ("estimator", "words"),
    [(KernelRidge(kernel="sigmoid"), "not positive semi-definite"),
     (KernelRidge(kernel="cosine"), "no Gaussian-process mapping"),
     (KernelRidge(kernel="poly", coef0=-1.0), "coef0"),
     (KernelRidge(alpha=np.array([1.0, 2.0])), "single alpha")],
)  # fmt: skip
def test_unmapped_settings_are_refused_at_fit(estimator, words, rows):
    X, y, _ = rows
    with pytest.raises(ValueError, match=words):
        bayesian(estimator).fit(X, y)


def test_too_many_rows_are_refused_before_any_matrix(monkeypatch, rows):
    import models.kernel_ridge as kr

    X, y, _ = rows
    monkeypatch.setattr(kr, "MAX_ROWS", len(y) - 1)
    with pytest.raises(InputError, match="too many for an exact Gaussian process"):
        bayesian(KernelRidge()).fit(X, y)
