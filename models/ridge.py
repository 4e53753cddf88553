r"""Ridge regression is the MAP of Bayesian linear regression with a Normal prior.

Ridge minimises

    ||y - b0 - X w||^2 + alpha ||w||^2 .

With y ~ Normal(b0 + X w, sigma), w_j ~ Normal(0, tau) and a flat prior on b0, the negative log
posterior is

    ||y - b0 - X w||^2 / (2 sigma^2) + ||w||^2 / (2 tau^2) + const ,

which is the ridge objective divided by 2 sigma^2 when alpha = sigma^2 / tau^2. The two have the
same minimiser; the posterior is Gaussian and known exactly (:func:`exact_posterior`).

Two noise settings:

* ``noise="fixed"``: sigma is a known constant (``pm.Data`` ``noise_sd``). Exactly conjugate.
* ``noise="unknown"``: sigma ~ HalfNormal(``noise_prior_sd``) and w | sigma ~ Normal(0, sigma /
  sqrt(alpha)). For every sigma the conditional mode of w is Ridge(alpha), so the joint MAP of w is
  Ridge(alpha) too, whatever sigma's mode turns out to be.
"""

from __future__ import annotations

import numpy as np
import pymc as pm
from sklearn.linear_model import Ridge, RidgeCV

from models.base import Context, ModelSpec, positive

OBJECTIVE = "||y - b0 - X w||^2 + alpha ||w||^2"
PRIOR = "y ~ Normal(b0 + X w, sigma), w_j ~ Normal(0, tau), b0 flat"
MAPPING = "alpha = sigma^2 / tau^2"


def alpha_to_prior_sd(alpha: float, noise_sd: float) -> float:
    r"""Prior width tau of the Gaussian prior whose MAP is Ridge(alpha).

    Ridge's objective ``||y - Xw||^2 + alpha ||w||^2`` and the negative log posterior
    ``||y - Xw||^2 / (2 sigma^2) + ||w||^2 / (2 tau^2)`` differ by the factor ``2 sigma^2`` exactly
    when ``alpha = sigma^2 / tau^2``, so ``tau = sigma / sqrt(alpha)``.

    Parameters
    ----------
    alpha : float
        Ridge penalty (> 0).
    noise_sd : float
        Noise standard deviation sigma (> 0).

    Returns
    -------
    float
        The prior standard deviation tau.

    See Also
    --------
    prior_sd_to_alpha : the inverse map.
    """
    return positive(noise_sd, "noise sd (sigma)") / np.sqrt(positive(alpha, "alpha"))


def prior_sd_to_alpha(prior_sd: float, noise_sd: float) -> float:
    r"""Ridge penalty equivalent to the prior ``w ~ Normal(0, tau)``: ``alpha = sigma^2 / tau^2``.

    Parameters
    ----------
    prior_sd : float
        Prior width tau (> 0).
    noise_sd : float
        Noise standard deviation sigma (> 0).

    Returns
    -------
    float
        The ridge penalty alpha.
    """
    return (positive(noise_sd, "noise sd (sigma)") / positive(prior_sd, "prior sd (tau)")) ** 2


def build(
    X: np.ndarray,
    y: np.ndarray,
    feature_names: list[str],
    *,
    noise: str = "fixed",
    noise_sd: float = 1.0,
    noise_prior_sd: float | None = None,
) -> pm.Model:
    """Bayesian linear regression with a Normal prior on the weights.

    Parameters
    ----------
    X, y : arrays
        Design (n x p) and target (n,).
    feature_names : list of str
        Coordinate labels of ``w``.
    noise : {"fixed", "unknown"}
        Known sigma (``pm.Data`` ``noise_sd``, prior width ``pm.Data`` ``prior_sd``) or sigma with a
        HalfNormal prior and w | sigma ~ Normal(0, sigma / sqrt(alpha)) (``pm.Data`` ``alpha``).
    noise_sd : float
        Initial value of ``noise_sd`` (fixed case).
    noise_prior_sd : float, optional
        Scale of sigma's HalfNormal prior (unknown case); default: the standard deviation of ``y``.
    """
    if noise not in ("fixed", "unknown"):
        raise ValueError(f"noise must be 'fixed' or 'unknown', got {noise!r}")
    with pm.Model(coords={"feature": list(feature_names), "obs": np.arange(len(y))}) as model:
        X_data = pm.Data("X", X, dims=("obs", "feature"))
        intercept = pm.Flat("intercept")
        if noise == "fixed":
            sigma = pm.Data("noise_sd", positive(noise_sd, "noise sd (sigma)"))
            prior_sd = pm.Data("prior_sd", 1.0)
            w = pm.Normal("w", 0.0, prior_sd, dims="feature")
        else:
            scale = float(np.std(y)) if noise_prior_sd is None else noise_prior_sd
            alpha = pm.Data("alpha", 1.0)
            sigma = pm.HalfNormal("sigma", positive(scale, "noise prior sd"))
            w = pm.Normal("w", 0.0, sigma / pm.math.sqrt(alpha), dims="feature")
        pm.Normal("y", intercept + X_data @ w, sigma, observed=y, dims="obs")
    return model


def default_tau_scale(X: np.ndarray, y: np.ndarray) -> float:
    """Scale of tau's half-Cauchy prior: the coefficient size that moves y by one sd when a feature
    moves by one sd, ``sd(y) / mean_j sd(x_j)``: weakly informative and unit-free."""
    return float(np.std(y) / np.mean(np.std(X, axis=0)))


def build_hierarchical(
    X: np.ndarray, y: np.ndarray, feature_names: list[str], *, tau_scale: float | None = None
) -> pm.Model:
    r"""Full Bayes for the ridge penalty: the prior width tau is learned, and with it alpha.

    ``w_j | tau ~ Normal(0, tau)``, ``tau ~ HalfCauchy(tau_scale)``, ``sigma ~ HalfNormal(sd(y))``,
    flat intercept. The ridge penalty the data imply is the deterministic
    ``alpha = sigma^2 / tau^2`` (also stored as ``log10_alpha``).

    Parameters
    ----------
    tau_scale : float, optional
        Scale of tau's prior; default :func:`default_tau_scale`.
    """
    scale = default_tau_scale(X, y) if tau_scale is None else tau_scale
    with pm.Model(coords={"feature": list(feature_names), "obs": np.arange(len(y))}) as model:
        X_data = pm.Data("X", X, dims=("obs", "feature"))
        intercept = pm.Flat("intercept")
        sigma = pm.HalfNormal("sigma", float(np.std(y)))
        tau = pm.HalfCauchy("tau", positive(scale, "tau prior scale"))
        w = pm.Normal("w", 0.0, tau, dims="feature")
        alpha = pm.Deterministic("alpha", sigma**2 / tau**2)
        pm.Deterministic("log10_alpha", pm.math.log(alpha) / np.log(10))
        pm.Normal("y", intercept + X_data @ w, sigma, observed=y, dims="obs")
    return model


def exact_posterior(
    X: np.ndarray, y: np.ndarray, prior_sd: float, noise_sd: float
) -> tuple[np.ndarray, np.ndarray]:
    r"""Exact Gaussian posterior of ``(b0, w)`` for the fixed-sigma model (flat prior on b0).

    With ``Z = [1, X]`` and prior precision ``D = diag(0, 1/tau^2, ..., 1/tau^2)``:

        Sigma_post = (Z'Z / sigma^2 + D)^{-1},    mu_post = Sigma_post Z'y / sigma^2 .

    Parameters
    ----------
    X, y : arrays
        Design and target.
    prior_sd, noise_sd : float
        tau and sigma.

    Returns
    -------
    mean : array (p + 1,)
        Posterior mean (= mode), intercept first.
    cov : array (p + 1, p + 1)
        Posterior covariance.
    """
    Z = np.column_stack([np.ones(len(y)), X])
    prior_precision = np.full(Z.shape[1], 1.0 / prior_sd**2)
    prior_precision[0] = 0.0
    precision = Z.T @ Z / noise_sd**2 + np.diag(prior_precision)
    cov = np.linalg.inv(precision)
    cov = 0.5 * (cov + cov.T)
    mean = np.linalg.solve(precision, Z.T @ y / noise_sd**2)
    return mean, cov


def closed_form(X: np.ndarray, y: np.ndarray, alpha: float) -> tuple[float, np.ndarray]:
    r"""Ridge by its normal equations on centred data: ``w = (Xc'Xc + alpha I)^{-1} Xc'yc``.

    The intercept is ``mean(y) - mean(X) w`` (unpenalised). Solved through the SVD of ``Xc`` so the
    answer stays accurate for tiny alpha on collinear columns.

    Returns
    -------
    intercept : float
    w : array (p,)
    """
    x_mean, y_mean = X.mean(axis=0), y.mean()
    U, s, Vt = np.linalg.svd(X - x_mean, full_matrices=False)
    w = Vt.T @ (s / (s**2 + alpha) * (U.T @ (y - y_mean)))
    return float(y_mean - x_mean @ w), w


def ols_noise_sd(X: np.ndarray, y: np.ndarray) -> float:
    """Residual standard deviation of least squares with intercept: ``sqrt(RSS / (n - p - 1))``."""
    Z = np.column_stack([np.ones(len(y)), X])
    beta, *_ = np.linalg.lstsq(Z, y, rcond=None)
    dof = max(len(y) - Z.shape[1], 1)
    return float(np.sqrt(np.sum((y - Z @ beta) ** 2) / dof))


def reference_penalty(X, y, ctx) -> dict[str, float]:
    """RidgeCV's efficient leave-one-out choice over alpha in [1e-4, 1e6]."""
    return {"alpha": float(RidgeCV(alphas=np.geomspace(1e-4, 1e6, 41)).fit(X, y).alpha_)}


SPEC = ModelSpec(
    name="ridge",
    title="Ridge = Normal prior",
    objective=OBJECTIVE,
    prior=PRIOR,
    mapping=MAPPING,
    likelihood="gaussian",
    penalty_names=("alpha",),
    build=build,
    prior_values=lambda pen, ctx: {"prior_sd": alpha_to_prior_sd(pen["alpha"], ctx.noise_sd)},
    sklearn=lambda pen, ctx: Ridge(alpha=pen["alpha"], solver="cholesky"),
    reference_penalty=reference_penalty,
)

__all__ = [
    "SPEC",
    "Context",
    "alpha_to_prior_sd",
    "build",
    "build_hierarchical",
    "closed_form",
    "default_tau_scale",
    "exact_posterior",
    "ols_noise_sd",
    "prior_sd_to_alpha",
]
