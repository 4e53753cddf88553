r"""The Lasso is the MAP of a Gaussian model with a Laplace prior; the Bayesian Lasso is its posterior.

scikit-learn's Lasso minimises

    (1 / (2 n)) ||y - b0 - X w||^2 + alpha ||w||_1 .

With y ~ Normal(b0 + X w, sigma) (sigma fixed), w_j ~ Laplace(0, b) and b0 flat, the negative log
posterior is ``||y - b0 - X w||^2 / (2 sigma^2) + ||w||_1 / b``; multiplied by ``sigma^2 / n`` it is the
Lasso objective exactly when ``alpha = sigma^2 / (n b)``, i.e. ``b = sigma^2 / (n alpha)``.

The MAP has exact zeros; no posterior mean or median does. :func:`build_bayesian_lasso` is the model
of Park & Casella (2008), "The Bayesian Lasso", JASA 103(482): w_j | sigma ~ Laplace(0, sigma /
lambda), p(sigma^2) proportional to 1 / sigma^2, on centred y.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from models.core.base import ClosedForm, L1Term, Link, ModelData, ModelSpec, Twin, coords, positive
from models.core.lazy import lazy
from models.scale.statistics import normal_likelihood

pm = lazy("pymc")
linear_model = lazy("sklearn.linear_model")

OBJECTIVE = "(1 / (2 n)) ||y - b0 - X w||^2 + alpha ||w||_1"
PRIOR = "y ~ Normal(b0 + X w, sigma), w_j ~ Laplace(0, b), b0 flat"
MAPPING = "alpha = sigma^2 / (n b)"
PARK_CASELLA_LAMBDA = 0.237


def alpha_to_laplace_scale(alpha: float, noise_sd: float, n_obs: int) -> float:
    """Laplace scale ``b = sigma^2 / (n alpha)`` whose MAP is Lasso(alpha).

    Parameters
    ----------
    alpha : float
        scikit-learn's Lasso penalty (> 0).
    noise_sd : float
        Fixed noise sd sigma (> 0).
    n_obs : int
        Number of rows n (the Lasso's data term is scaled by 1 / (2 n)).
    """
    return positive(noise_sd, "noise sd (sigma)") ** 2 / (n_obs * positive(alpha, "alpha"))


def laplace_scale_to_alpha(scale: float, noise_sd: float, n_obs: int) -> float:
    """Inverse of :func:`alpha_to_laplace_scale`: ``alpha = sigma^2 / (n b)``."""
    return positive(noise_sd, "noise sd (sigma)") ** 2 / (
        n_obs * positive(scale, "Laplace scale b")
    )


def build(data: ModelData) -> pm.Model:
    """Gaussian likelihood with fixed sigma (``pm.Data`` ``noise_sd``) and a Laplace prior with
    scale ``pm.Data`` ``laplace_scale``."""
    with pm.Model(coords=coords(data, rows=False)) as model:
        sigma = pm.Data("noise_sd", positive(data.noise_sd, "noise sd (sigma)"))
        scale = pm.Data("laplace_scale", 1.0)
        intercept = pm.Flat("intercept")
        w = pm.Laplace("w", 0.0, scale, dims="feature")
        normal_likelihood(data, intercept, w, sigma)
    return model


def build_scaled_noise(data: ModelData) -> pm.Model:
    r"""The Lasso's twin with sigma unknown: ``p(sigma) ∝ 1 / sigma`` and ``b = sigma^2 b_1``.

    The Laplace scale grows with sigma^2 because the Lasso divides its squared error by ``2 n``:
    ``alpha = sigma^2 / (n b)`` must hold for every sigma, so ``b = sigma^2 / (n alpha)`` and the
    conditional mode of w is Lasso(alpha) whatever sigma is. ``pm.Data`` ``laplace_scale`` is
    ``b_1 = 1 / (n alpha)``, the scale at sigma = 1. (Park & Casella's Bayesian Lasso scales b with
    sigma instead, a different prior whose mode is not the Lasso at a fixed alpha.)
    """
    with pm.Model(coords=coords(data, rows=False)) as model:
        intercept = pm.Flat("intercept")
        log_sigma = pm.Flat("log_sigma")
        sigma = pm.Deterministic("sigma", pm.math.exp(log_sigma))
        scale = pm.Data("laplace_scale", 1.0)
        w = pm.Laplace("w", 0.0, sigma**2 * scale, dims="feature")
        normal_likelihood(data, intercept, w, sigma)
    return model


def build_bayesian_lasso(data: ModelData, lam: float = PARK_CASELLA_LAMBDA) -> pm.Model:
    """Park & Casella's Bayesian Lasso on centred y (no intercept).

    ``w_j | sigma ~ Laplace(0, sigma / lambda)`` and ``p(sigma^2) ∝ 1 / sigma^2``, which is a flat
    prior on ``log sigma``.
    """
    centred = dataclasses.replace(data, y=data.y - data.y.mean())
    with pm.Model(coords=coords(data, rows=False)) as model:
        lam_data = pm.Data("lam", positive(lam, "lambda"))
        log_sigma = pm.Flat("log_sigma")
        sigma = pm.Deterministic("sigma", pm.math.exp(log_sigma))
        w = pm.Laplace("w", 0.0, sigma / lam_data, dims="feature")
        normal_likelihood(centred, 0.0, w, sigma)
    return model


def alpha_max(X: np.ndarray, y: np.ndarray) -> float:
    """Smallest alpha at which every Lasso coefficient is zero: ``max |Xc' yc| / n``."""
    return float(np.max(np.abs((X - X.mean(0)).T @ (y - y.mean()))) / len(y))


def penalty_grid(data: ModelData, n: int) -> list[dict[str, float]]:
    """The whole path: from 1.5 alpha_max (all zero) down to 1e-5 alpha_max (nearly OLS)."""
    top = alpha_max(data.X, data.y)
    return [{"alpha": float(a)} for a in np.geomspace(1.5 * top, 1e-5 * top, n)]


def reference_penalty(data: ModelData) -> dict[str, float]:
    """LassoCV's 10-fold choice."""
    return {
        "alpha": float(
            linear_model.LassoCV(cv=10, tol=1e-10, max_iter=10**6).fit(data.X, data.y).alpha_
        )
    }


SETTINGS = {"fit_intercept": (True,), "positive": (False,)}

SPEC = ModelSpec(
    name="lasso",
    title="Lasso = Laplace prior",
    prior=PRIOR,
    likelihood="gaussian",
    build=build,
    l1_terms=(L1Term(term="w", variable="w", scale="laplace_scale"),),
    likelihood_term="likelihood",
    link=Link(
        objective=OBJECTIVE,
        mapping=MAPPING,
        penalty_names=("alpha",),
        prior_values=lambda pen, data: {
            "laplace_scale": alpha_to_laplace_scale(pen["alpha"], data.noise_sd, data.n_obs)
        },
        sklearn=lambda pen, data: linear_model.Lasso(alpha=pen["alpha"], tol=1e-12, max_iter=10**6),
        penalty_grid=penalty_grid,
        reference_penalty=reference_penalty,
        twins=(
            Twin(
                "sklearn.linear_model.Lasso",
                lambda est: {"alpha": float(est.alpha)},
                settings=SETTINGS,
            ),
            Twin(
                "sklearn.linear_model.LassoCV",
                lambda est: {"alpha": float(est.alpha_)},
                cv=True,
                settings=SETTINGS,
            ),
        ),
    ),
    closed_form=ClosedForm(
        build_scaled_noise=build_scaled_noise,
    ),
)
