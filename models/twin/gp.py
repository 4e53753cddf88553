r"""The Bayesian twin of KernelRidge: the exact Gaussian-process posterior behind its predictions.

::

    from sklearn.kernel_ridge import KernelRidge
    from models.twin import bayesian

    twin = bayesian(KernelRidge(alpha=0.1, kernel="rbf", gamma=0.5)).fit(X, y)
    twin.predict(X_new)                       # == KernelRidge(...).fit(X, y).predict(X_new)
    mean, sd = twin.predict(X_new, return_std=True)
    low, high = twin.predict_interval(X_new, prob=0.94)

KernelRidge(alpha, kernel) predicts the posterior mean of ``f ~ GP(0, eta^2 k)`` observed with
noise variance ``alpha eta^2`` (:mod:`models.kernel_ridge`), whatever the amplitude eta is. The
twin computes that posterior exactly (Cholesky): with ``amplitude="unknown"`` (default) eta gets
the Jeffreys prior ``p(eta) ∝ 1 / eta`` and the predictive is a Student-t with n degrees of
freedom, as ridge's twin treats sigma; a positive number fixes eta (a Normal).
"""

from __future__ import annotations

import numbers

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin, clone
from sklearn.utils.validation import check_is_fitted, validate_data

from models import kernel_ridge as kr


class GaussianProcessTwin(RegressorMixin, BaseEstimator):
    """The exact GP posterior whose mean is a KernelRidge's prediction.

    Parameters
    ----------
    estimator : sklearn.kernel_ridge.KernelRidge
        The wrapped estimator: its ``alpha`` (a number), ``kernel`` (linear, rbf, laplacian, or
        polynomial with an integer degree >= 1 and coef0 >= 0), ``gamma``, ``degree``, ``coef0``.
    amplitude : "unknown" or float
        The prior sd eta of f: "unknown" (Jeffreys prior, Student-t predictive) or a fixed
        positive number (Normal predictive).

    Attributes
    ----------
    posterior_ : models.kernel_ridge.GPPosterior
        The exact posterior.
    dual_coef_ : array (n,)
        ``(K + alpha I)^-1 y``, KernelRidge's ``dual_coef_``.
    estimator_ : KernelRidge
        The wrapped estimator fitted on the same rows.
    wrapped_gap_ : float
        Largest relative difference between ``estimator_.dual_coef_`` and ``dual_coef_``.
    """

    def __init__(self, estimator=None, *, amplitude="unknown"):
        self.estimator = estimator
        self.amplitude = amplitude

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = False
        tags.target_tags.multi_output = False
        tags.target_tags.single_output = True
        return tags

    def _wrapped(self):
        from sklearn.kernel_ridge import KernelRidge

        return KernelRidge() if self.estimator is None else self.estimator

    def fit(self, X, y):
        """Compute the exact posterior on ``X``, ``y`` (at most
        :data:`models.kernel_ridge.MAX_ROWS` rows)."""
        X, y = validate_data(self, X, y, y_numeric=True, dtype=np.float64)
        wrapped = self._wrapped()
        alpha = wrapped.alpha
        if isinstance(alpha, bool) or not isinstance(alpha, numbers.Real):
            raise ValueError(f"the twin maps a single alpha (one target); got alpha={alpha!r}")
        if isinstance(self.amplitude, str) and self.amplitude == "unknown":
            amplitude = None
        elif isinstance(self.amplitude, numbers.Real) and not isinstance(self.amplitude, bool):
            amplitude = float(self.amplitude)
        else:
            raise ValueError(
                f"amplitude must be 'unknown' or a positive number; got {self.amplitude!r}"
            )
        kernel = kr.kernel_of_estimator(wrapped, X.shape[1])
        self.posterior_ = kr.exact_posterior(kernel, X, y, alpha, amplitude)
        self.dual_coef_ = self.posterior_.dual_coef
        self.estimator_ = clone(wrapped).fit(X, y)
        scale = max(np.max(np.abs(self.dual_coef_)), np.finfo(float).tiny)
        self.wrapped_gap_ = float(
            np.max(np.abs(self.estimator_.dual_coef_ - self.dual_coef_)) / scale
        )
        return self

    def predict(self, X, return_std=False):
        """Posterior mean (KernelRidge's prediction) and, with ``return_std``, the posterior
        predictive sd of a new observation, noise included (as BayesianTwin)."""
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=np.float64)
        if not return_std:
            return self.posterior_.mean(X)
        return self.posterior_.predict(X, observation=True)

    def predict_interval(self, X, prob=0.94, kind="observation"):
        """Equal-tailed ``prob`` interval per row: of a new observation (``kind="observation"``,
        noise included) or of f, the mean of y (``kind="mean"``)."""
        check_is_fitted(self)
        if not 0 < prob < 1:
            raise ValueError(f"prob must be in (0, 1); got {prob!r}")
        if kind not in ("observation", "mean"):
            raise ValueError(f"kind must be 'observation' or 'mean'; got {kind!r}")
        X = validate_data(self, X, reset=False, dtype=np.float64)
        return self.posterior_.interval(X, prob, observation=kind == "observation")
