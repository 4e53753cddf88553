r"""The regularised ("Finnish") horseshoe of Piironen & Vehtari (2017): a prior no penalty expresses.

Piironen, J. and Vehtari, A. (2017), "Sparsity information and regularization in the horseshoe
and other shrinkage priors", Electronic Journal of Statistics 11, 5018-5051 (their appendix C
gives the Stan code followed here)::

    y ~ Normal(b0 + X w, sigma)
    w_j = z_j tau lambda~_j,          z_j ~ Normal(0, 1)            (non-centred)
    lambda~_j^2 = c^2 lambda_j^2 / (c^2 + tau^2 lambda_j^2)
    lambda_j ~ HalfCauchy(1),         tau ~ HalfCauchy(tau0)
    tau0 = p0 / (p - p0) * sigma / sqrt(n)                       (their eq. 3.12)
    c^2 ~ InvGamma(nu / 2, nu s^2 / 2)                            (the slab, their section 2.3)
    sigma ~ HalfNormal(sd(y)),  b0 flat

``p0`` is the prior guess of the number of non-zero coefficients (0 < p0 < p). The slab makes
large coefficients shrink like a Student-t with ``nu`` degrees of freedom and scale ``s`` instead
of not at all; ``nu = 4`` and ``s = 2`` are brms' ``hs()`` defaults, stated for coefficients in
the units of the data: here ``s`` is in units of :func:`models.ridge.default_tau_scale` (the
coefficient that moves y by one sd when a feature moves by one sd), so the slab means the same on
any scale. The shrinkage factor of coefficient j is
``kappa_j = 1 / (1 + n s_j^2 tau^2 lambda~_j^2 / sigma^2)``, ``s_j^2`` the variance of column j
(their eq. 2.5; ``n tau^2 lambda~_j^2 / sigma^2`` for unit-variance columns).

**No MAP.** The horseshoe's marginal density of ``w_j`` is unbounded at 0 (Carvalho, Polson &
Scott 2010, theorem 1: it grows like ``log(1 + 2 tau^2 / w^2)``), and the joint density of the
centred model (:func:`build_centred`) is unbounded as ``w = 0`` and ``tau lambda_j -> 0``: its
"mode" is degenerate, and the posterior is the estimate. MAPSolver on the centred model stops
uncertified or raises (a prior sd driven to 0). On the non-centred model (:func:`build`) the joint
density of ``(z, lambda, tau, ...)`` is bounded, and its mode sits at the boundary ``tau -> 0``
(measured here: tau = 1.2e-10 on the ``sparse`` page's problem, every ``w_j`` ~ 0): a mode of
that parameterisation, not of the coefficients, and no estimate of them.
"""

from __future__ import annotations

import numpy as np

from models.core.base import InputError, ModelData, coords, positive
from models.core.lazy import lazy
from models.ridge import default_tau_scale
from models.scale.statistics import normal_likelihood

pm = lazy("pymc")
integrate = lazy("scipy.integrate")

SLAB_SCALE = 2.0  # brms hs() scale_slab, in units of default_tau_scale
SLAB_DF = 4.0  # brms hs() df_slab
TARGET_ACCEPT = 0.99  # rstanarm's hs() raises adapt_delta to 0.99


def check_p0(p0: float, n_features: int) -> float:
    """``p0`` as a float, or one :class:`InputError` line unless ``0 < p0 < p``."""
    value = float(p0)
    if not (np.isfinite(value) and 0 < value < n_features):
        raise InputError(
            f"--p0 {value:g}: the expected number of non-zero coefficients must lie strictly "
            f"between 0 and the number of features ({n_features})"
        )
    return value


def global_scale(p0: float, n_features: int, n_obs: int) -> float:
    """``tau0 / sigma = p0 / (p - p0) / sqrt(n)`` (Piironen & Vehtari 2017, eq. 3.12)."""
    p0 = check_p0(p0, n_features)
    return p0 / (n_features - p0) / np.sqrt(n_obs)


def default_p0(n_features: int) -> float:
    """A fifth of the features, at least one and fewer than all: the guess when none is given."""
    return float(min(max(1, round(n_features / 5)), n_features - 1)) if n_features > 1 else 0.5


def _scales(data: ModelData, p0, slab_scale, slab_df):
    """The model's common parts: intercept, sigma, tau, the regularised local scales. Every
    number computed from the data is a ``pm.Data`` (``global_scale``, ``slab_scale``, ``slab_df``,
    ``sigma_prior_sd``), so one compiled model serves any data of the same width."""
    tau0 = pm.Data("global_scale", global_scale(p0, data.n_features, data.n_obs))
    slab = pm.Data(
        "slab_scale", positive(slab_scale, "slab scale") * default_tau_scale(data.X, data.y)
    )
    nu = pm.Data("slab_df", positive(slab_df, "slab degrees of freedom"))
    intercept = pm.Flat("intercept")
    sigma = pm.HalfNormal("sigma", pm.Data("sigma_prior_sd", float(np.std(data.y))))
    tau = pm.HalfCauchy("tau", tau0 * sigma)
    lam = pm.HalfCauchy("lambda", 1.0, dims="feature")
    c2 = pm.InverseGamma("c2", alpha=nu / 2, beta=nu * slab**2 / 2)
    lam_tilde = pm.Deterministic(
        "lambda_tilde", pm.math.sqrt(c2 * lam**2 / (c2 + tau**2 * lam**2)), dims="feature"
    )
    return intercept, sigma, tau, lam_tilde


def build(
    data: ModelData,
    p0: float | None = None,
    slab_scale: float = SLAB_SCALE,
    slab_df: float = SLAB_DF,
) -> pm.Model:
    """The regularised horseshoe, non-centred (module docstring), with the shrinkage factors
    ``kappa`` as a deterministic.

    Parameters
    ----------
    p0 : float, optional
        Prior guess of the number of non-zero coefficients, ``0 < p0 < p`` (default
        :func:`default_p0`).
    slab_scale, slab_df : float
        ``s`` (in units of :func:`models.ridge.default_tau_scale`) and ``nu``.
    """
    p0 = default_p0(data.n_features) if p0 is None else p0
    with pm.Model(coords=coords(data, rows=False)) as model:
        intercept, sigma, tau, lam_tilde = _scales(data, p0, slab_scale, slab_df)
        z = pm.Normal("z", 0.0, 1.0, dims="feature")
        w = pm.Deterministic("w", z * tau * lam_tilde, dims="feature")
        normal_likelihood(data, intercept, w, sigma)
        column_var = pm.Data("column_var", np.var(data.X, axis=0), dims="feature")
        # n is the likelihood's pm.Data "n_rows", not a constant: data with more rows, same graph
        scale2 = model["n_rows"] * column_var * tau**2 * lam_tilde**2
        pm.Deterministic("kappa", 1.0 / (1.0 + scale2 / sigma**2), dims="feature")
    return model


def build_centred(
    data: ModelData,
    p0: float | None = None,
    slab_scale: float = SLAB_SCALE,
    slab_df: float = SLAB_DF,
) -> pm.Model:
    """The same prior, centred: ``w_j ~ Normal(0, tau lambda~_j)``. Its joint density is unbounded
    (``w = 0``, ``tau -> 0``): what a MAP solver meets when asked for the horseshoe's mode."""
    p0 = default_p0(data.n_features) if p0 is None else p0
    with pm.Model(coords=coords(data, rows=False)) as model:
        intercept, sigma, tau, lam_tilde = _scales(data, p0, slab_scale, slab_df)
        w = pm.Normal("w", 0.0, tau * lam_tilde, dims="feature")
        normal_likelihood(data, intercept, w, sigma)
    return model


def marginal_density(w: np.ndarray, tau: float = 1.0) -> np.ndarray:
    """The horseshoe's marginal prior density of one coefficient at fixed ``tau`` (no slab):
    ``p(w) = int_0^inf Normal(w | 0, tau lambda) 2 / (pi (1 + lambda^2)) dlambda``, by quadrature.
    Infinite at ``w = 0``."""

    def density(value: float) -> float:
        if value == 0.0:
            return np.inf

        def integrand(lam):
            sd = tau * lam
            return (
                np.exp(-0.5 * (value / sd) ** 2)
                / (sd * np.sqrt(2 * np.pi))
                * 2
                / (np.pi * (1 + lam**2))
            )

        return integrate.quad(integrand, 0.0, np.inf, limit=200)[0]

    return np.array([density(float(v)) for v in np.atleast_1d(w)])


__all__ = [
    "SLAB_DF",
    "SLAB_SCALE",
    "TARGET_ACCEPT",
    "build",
    "build_centred",
    "check_p0",
    "default_p0",
    "global_scale",
    "marginal_density",
]
