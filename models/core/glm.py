r"""What scikit-learn's generalised linear models (PoissonRegressor, GammaRegressor, TweedieRegressor)
share: one objective, one penalty -> prior mapping, one model graph per observation family.

scikit-learn's ``_GeneralizedLinearRegressor.fit`` (sklearn/linear_model/_glm/glm.py) says::

    # We want to minimize
    #     obj = 1/(2 * sum(sample_weight)) * sum(sample_weight * deviance)
    #         + 1/2 * alpha * L2,
    # with
    #     deviance = 2 * loss.

so without weights it minimises ``(1/n) sum_i h(y_i, mu_i) + alpha/2 ||w||^2`` with ``h`` half the
unit deviance (sklearn/_loss/loss.py, ``HalfPoissonLoss``, ``HalfGammaLoss``, ``HalfTweedieLoss``),
``mu_i`` the inverse link of ``eta_i = b0 + x_i w`` and the intercept unpenalised. For each family
with a closed-form density, ``log p(y | mu, phi) = -h(y, mu) / phi + c(y, phi)``: phi = 1 for the
Poisson, the dispersion for the Gamma and the inverse Gaussian, sigma^2 for the Normal. With the
prior ``w_j | phi ~ Normal(0, sqrt(phi) tau1)`` and a flat intercept the negative log posterior is

    (1 / phi) [sum_i h(y_i, mu_i) + ||w||^2 / (2 tau1^2)] + terms in phi alone ,

which is ``(n / phi)`` times scikit-learn's objective exactly when ``tau1 = 1 / sqrt(n alpha)``, so
``tau = sqrt(phi / (n alpha))``. For every phi the conditional mode of ``(b0, w)`` is scikit-learn's
fit, hence so is the joint mode's, whatever phi's own prior: that is the scaled prior of ridge's
``build_scaled_noise``, and the reason the models here scale the prior by sqrt(phi) instead of fixing
phi.

**The dispersion's prior.** ``phi ~ LogNormal(log phi0, 2)`` (the Normal's sd: ``sigma ~
LogNormal(log sd(y), 1)``, i.e. the same on sigma^2 = phi), with ``phi0 = var(y) / mean(y)^p`` the
moment estimate of an intercept-only model (``Var(y) = phi mu^p`` for the Tweedie power p): centred
on what the data say without covariates, a factor e^2 ~ 7 wide at one sd, in the right units for
every power, and proper (so the prior predictive check can draw from it).

**Sample weights.** With weights ``s`` the objective is ``sum_i (s_i / sum(s)) h_i + alpha/2
||w||^2``: scikit-learn normalises the weights to sum 1, so only their ratios count (all weights 2
is the same fit as all weights 1, not every row twice). The likelihood it is the MAP of raises row
i's density to the power ``n s_i / sum(s)``. The Bayesian twin refuses weights for these models
(one error line) rather than fit that tempered likelihood silently.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from models.core.base import ModelData, coords, data_containers, positive
from models.core.lazy import lazy

pm = lazy("pymc")
pt = lazy("pytensor.tensor")
linear_model = lazy("sklearn.linear_model")
model_selection = lazy("sklearn.model_selection")

OBJECTIVE = "(1/n) sum_i deviance_i / 2 + alpha/2 ||w||^2"
LOG_DISPERSION_SD = 2.0  # the LogNormal prior of phi: sd of log phi
POWERS = {0: "gaussian", 1: "poisson", 2: "gamma", 3: "inverse_gaussian"}  # Tweedie power -> family
DISPERSION_VARIABLE = {"gaussian": "sigma", "gamma": "phi", "inverse_gaussian": "phi"}


def alpha_to_prior_sd(alpha: float, n: int) -> float:
    """``tau1 = 1 / sqrt(n alpha)``: the prior sd of w per unit of sqrt(phi) whose mode is the GLM.

    Parameters
    ----------
    alpha : float
        scikit-learn's penalty (> 0).
    n : int
        Rows in the objective's mean.
    """
    return float(1.0 / np.sqrt(n * positive(alpha, "alpha")))


def prior_sd_to_alpha(prior_sd: float, n: int) -> float:
    """Inverse of :func:`alpha_to_prior_sd`: ``alpha = 1 / (n tau1^2)``."""
    return float(1.0 / (n * positive(prior_sd, "prior sd (tau)") ** 2))


def builder(likelihood: str, power: float) -> Callable[[ModelData], pm.Model]:
    """``build(data)`` of the GLM of ``likelihood`` (a family of :data:`POWERS`): the scaled prior
    ``w | phi ~ Normal(0, sqrt(phi) prior_sd)`` (``pm.Data`` ``prior_sd`` = ``1 / sqrt(n alpha)``),
    flat intercept, phi's LogNormal prior of the module docstring, and the observed ``y``."""

    def build(data: ModelData) -> pm.Model:
        with pm.Model(coords=coords(data)) as model:
            X_data, y_data = data_containers(data)
            prior_sd = pm.Data("prior_sd", 1.0)
            intercept = pm.Flat("intercept")
            # the moment estimate of phi of an intercept-only model, from the data container (one
            # compiled model serves new rows)
            log_phi0 = pt.log(pt.var(y_data)) - power * pt.log(pt.mean(y_data))
            if likelihood == "poisson":
                scale = 1.0
            elif likelihood == "gaussian":
                scale = pm.LogNormal("sigma", log_phi0 / 2, LOG_DISPERSION_SD / 2)
            else:
                phi = pm.LogNormal("phi", log_phi0, LOG_DISPERSION_SD)
                scale = pm.math.sqrt(phi)
            w = pm.Normal("w", 0.0, scale * prior_sd, dims="feature")
            eta = intercept + X_data @ w
            if likelihood == "gaussian":
                pm.Normal("y", eta, scale, observed=y_data, dims="obs")
            elif likelihood == "poisson":
                pm.Poisson("y", pm.math.exp(eta), observed=y_data, dims="obs")
            elif likelihood == "gamma":  # shape 1 / phi, mean exp(eta)
                pm.Gamma("y", alpha=1 / phi, beta=pm.math.exp(-eta) / phi, observed=y_data,
                         dims="obs")  # fmt: skip
            else:  # inverse Gaussian: mean exp(eta), shape 1 / phi
                pm.Wald("y", mu=pm.math.exp(eta), lam=1 / phi, observed=y_data, dims="obs")
        return model

    return build


def feature_variance(data: ModelData) -> float:
    """The mean variance of the columns: the penalty grids are relative to it (alpha ||w||^2 is
    compared with the curvature of the loss, which scales with it)."""
    return float(np.mean(np.var(data.X, axis=0)))


def alpha_grid(data: ModelData, n: int) -> np.ndarray:
    """alpha log-spaced over [1e-5, 1e2] times the mean column variance (standardised columns:
    [1e-5, 1e2]; diabetes' unit-norm columns: [2e-8, 0.23])."""
    return np.geomspace(1e-5, 1e2, n) * feature_variance(data)


def penalty_grid(data: ModelData, n: int) -> list[dict[str, float]]:
    """:func:`alpha_grid` as penalty dicts."""
    return [{"alpha": float(a)} for a in alpha_grid(data, n)]


CV_FOLDS = 5
CV_ALPHAS = 15


def cv_search(estimator, data: ModelData) -> dict:
    """5-fold cross-validation (the estimator's own score, D^2 of its deviance) over 15 alphas of
    :func:`alpha_grid`: the best mean score's alpha, and the reference alpha. The reference is the
    best one, except when that is the grid's smallest (CV prefers the least penalty offered and
    cannot say how much the data support; on diabetes GammaRegressor's scores are flat down to
    alpha = 0 and the smallest alpha's prior let 142 of 500 prior data sets overflow): then it is
    the largest alpha whose mean score is within one standard error of the best, the
    one-standard-error rule (Hastie, Tibshirani and Friedman, *Elements of Statistical Learning*,
    7.10; glmnet's ``lambda.1se``).

    Returns
    -------
    dict
        ``alphas`` (the grid), ``scores`` and ``se`` (mean and standard error over the folds),
        ``best`` (index of the best mean score) and ``chosen`` (index of the reference alpha).
    """
    alphas = alpha_grid(data, CV_ALPHAS)
    search = model_selection.GridSearchCV(  # tol=1e-8: a choice among 15 alphas needs no more
        estimator.set_params(tol=1e-8), {"alpha": alphas}, cv=model_selection.KFold(CV_FOLDS)
    ).fit(data.X, data.y)
    scores = search.cv_results_["mean_test_score"]
    se = search.cv_results_["std_test_score"] / np.sqrt(CV_FOLDS)
    best = int(np.argmax(scores))
    chosen = best
    if best == 0:
        chosen = int(np.flatnonzero(scores >= scores[best] - se[best]).max())
    return {"alphas": alphas, "scores": scores, "se": se, "best": best, "chosen": chosen}


def reference_alpha(estimator, data: ModelData) -> dict[str, float]:
    """The reference alpha of :func:`cv_search`."""
    search = cv_search(estimator, data)
    return {"alpha": float(search["alphas"][search["chosen"]])}


def tight(estimator_class, **params):
    """A scikit-learn GLM at tight tolerance: Newton-Cholesky to tol=1e-12 (the default lbfgs at
    tol=1e-4 stops ~1e-4 away from the optimum)."""
    return estimator_class(solver="newton-cholesky", tol=1e-12, max_iter=1000, **params)


def prior_values(penalty, data: ModelData) -> dict[str, float]:
    """``{"prior_sd": 1 / sqrt(n alpha)}``."""
    return {"prior_sd": alpha_to_prior_sd(penalty["alpha"], data.n_obs)}


def penalty_from_prior(values, data: ModelData) -> dict[str, float]:
    """``{"alpha": 1 / (n prior_sd^2)}``."""
    return {"alpha": prior_sd_to_alpha(values["prior_sd"], data.n_obs)}


SETTINGS = {"fit_intercept": (True,)}  # any solver: all minimise the same objective

__all__ = [
    "DISPERSION_VARIABLE",
    "LOG_DISPERSION_SD",
    "OBJECTIVE",
    "POWERS",
    "SETTINGS",
    "alpha_grid",
    "alpha_to_prior_sd",
    "builder",
    "cv_search",
    "penalty_from_prior",
    "penalty_grid",
    "prior_sd_to_alpha",
    "prior_values",
    "reference_alpha",
    "tight",
]
