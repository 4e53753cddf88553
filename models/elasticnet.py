r"""The elastic net is the MAP under the product of a Normal and a Laplace prior.

scikit-learn's ElasticNet minimises

    (1 / (2 n)) ||y - b0 - X w||^2 + alpha rho ||w||_1 + (alpha (1 - rho) / 2) ||w||^2 ,

with rho = l1_ratio. With y ~ Normal(b0 + X w, sigma) (sigma fixed), a prior density proportional to
``Normal(w_j | 0, tau) * Laplace(w_j | 0, b)`` and b0 flat, the negative log posterior is

    ||y - b0 - X w||^2 / (2 sigma^2) + ||w||_1 / b + ||w||^2 / (2 tau^2) .

Multiplying by ``sigma^2 / n`` and matching terms:

    alpha rho = sigma^2 / (n b)            =>  b   = sigma^2 / (n alpha rho)
    alpha (1 - rho) = sigma^2 / (n tau^2)  =>  tau = sigma / sqrt(n alpha (1 - rho))

(0 < rho < 1; rho = 1 is the Lasso, rho = 0 is Ridge with alpha_ridge = n alpha).

The prior is the normalised product: per coefficient the density

    p(w_j) = Normal(w_j | 0, tau) Laplace(w_j | 0, b) / Z(tau, b)
           = Normal(w_j | 0, tau) exp(-|w_j| / b) / erfcx(tau / (sqrt(2) b)) ,

the product of the two densities divided by its own integral. With sigma fixed, tau and b are
constants and :func:`build` may drop Z; with sigma unknown (:func:`build_scaled_noise`) tau and b
grow with sigma, Z depends on sigma, and the model keeps it. It is not the product of two
normalised densities, whose integral in w is not 1 and depends on sigma: that reading gives sigma
another posterior.
"""

from __future__ import annotations

import numpy as np

from models.core.base import (
    ClosedForm,
    InputError,
    L1Term,
    Link,
    ModelData,
    ModelSpec,
    Twin,
    coords,
    positive,
)
from models.core.lazy import lazy
from models.scale.statistics import normal_likelihood

pm = lazy("pymc")
pt = lazy("pytensor.tensor")
linear_model = lazy("sklearn.linear_model")

OBJECTIVE = "(1 / (2 n)) ||y - b0 - X w||^2 + alpha rho ||w||_1 + (alpha (1 - rho) / 2) ||w||^2"
PRIOR = "y ~ Normal(b0 + X w, sigma), p(w_j) ∝ Normal(w_j | 0, tau) Laplace(w_j | 0, b), b0 flat"
MAPPING = "b = sigma^2 / (n alpha rho), tau = sigma / sqrt(n alpha (1 - rho))"


def penalty_to_prior(
    alpha: float, l1_ratio: float, noise_sd: float, n_obs: int
) -> dict[str, float]:
    """Normal width tau and Laplace scale b whose product prior has ElasticNet(alpha, l1_ratio) as MAP.

    Returns
    -------
    dict
        ``{"prior_sd": tau, "laplace_scale": b}``.
    """
    alpha, sigma = positive(alpha, "alpha"), positive(noise_sd, "noise sd (sigma)")
    if not 0 < l1_ratio < 1:
        raise InputError(f"l1_ratio must be strictly between 0 and 1, got {l1_ratio:g}")
    return {
        "prior_sd": sigma / np.sqrt(n_obs * alpha * (1 - l1_ratio)),
        "laplace_scale": sigma**2 / (n_obs * alpha * l1_ratio),
    }


def prior_to_penalty(
    prior_sd: float, laplace_scale: float, noise_sd: float, n_obs: int
) -> dict[str, float]:
    """Inverse of :func:`penalty_to_prior`: ``alpha = a1 + a2``, ``l1_ratio = a1 / (a1 + a2)`` with
    ``a1 = sigma^2 / (n b)`` and ``a2 = sigma^2 / (n tau^2)``."""
    sigma2 = positive(noise_sd, "noise sd (sigma)") ** 2
    a1 = sigma2 / (n_obs * positive(laplace_scale, "Laplace scale b"))
    a2 = sigma2 / (n_obs * positive(prior_sd, "prior sd (tau)") ** 2)
    return {"alpha": a1 + a2, "l1_ratio": a1 / (a1 + a2)}


def build(data: ModelData) -> pm.Model:
    """Normal prior (``pm.Data`` ``prior_sd``) times a Laplace potential (``pm.Data`` ``laplace_scale``)."""
    with pm.Model(coords=coords(data, rows=False)) as model:
        sigma = pm.Data("noise_sd", positive(data.noise_sd, "noise sd (sigma)"))
        prior_sd = pm.Data("prior_sd", 1.0)
        scale = pm.Data("laplace_scale", 1.0)
        intercept = pm.Flat("intercept")
        w = pm.Normal("w", 0.0, prior_sd, dims="feature")
        pm.Potential("laplace_prior", -pm.math.sum(pm.math.abs(w)) / scale)
        normal_likelihood(data, intercept, w, sigma)
    return model


def build_scaled_noise(data: ModelData) -> pm.Model:
    r"""The elastic net's twin with sigma unknown: ``p(sigma) ∝ 1 / sigma``, ``tau = sigma tau_1``,
    ``b = sigma^2 b_1``.

    As for the Lasso, ``b = sigma^2 / (n alpha rho)`` and ``tau = sigma / sqrt(n alpha (1 - rho))``
    must hold for every sigma, so the conditional mode of w is ElasticNet(alpha, rho) whatever sigma
    is. The prior is the normalised product density: per coefficient
    ``Normal(w | 0, tau) exp(-|w| / b) / erfcx(u)``, ``u = tau / (sqrt(2) b)``, since
    ``int exp(-w^2 / (2 tau^2) - |w| / b) dw = sqrt(2 pi) tau erfcx(u)``; its normaliser depends on
    sigma and so matters for sigma's posterior. ``pm.Data`` ``prior_sd`` and ``laplace_scale`` hold
    tau_1 and b_1 (their values at sigma = 1).
    """
    with pm.Model(coords=coords(data, rows=False)) as model:
        intercept = pm.Flat("intercept")
        log_sigma = pm.Flat("log_sigma")
        sigma = pm.Deterministic("sigma", pm.math.exp(log_sigma))
        prior_sd = pm.Data("prior_sd", 1.0)
        scale = pm.Data("laplace_scale", 1.0)
        w = pm.Normal("w", 0.0, sigma * prior_sd, dims="feature")
        u = prior_sd / (np.sqrt(2.0) * sigma * scale)
        pm.Potential(
            "laplace_prior",
            -pm.math.sum(pm.math.abs(w)) / (sigma**2 * scale)
            - data.n_features * pt.log(pt.erfcx(u)),
        )
        normal_likelihood(data, intercept, w, sigma)
    return model


L1_RATIOS = (0.2, 0.5, 0.8)


def penalty_grid(data: ModelData, n: int) -> list[dict[str, float]]:
    """A grid of both parameters: alpha log-spaced over [1e-4, 10] for each l1_ratio in L1_RATIOS."""
    per_ratio = max(n // len(L1_RATIOS), 2)
    return [
        {"alpha": float(a), "l1_ratio": r}
        for r in L1_RATIOS
        for a in np.geomspace(1e-4, 10, per_ratio)
    ]


def reference_penalty(data: ModelData) -> dict[str, float]:
    """ElasticNetCV's 10-fold choice of both parameters."""
    cv = linear_model.ElasticNetCV(l1_ratio=list(L1_RATIOS), cv=10, tol=1e-10, max_iter=10**6).fit(
        data.X, data.y
    )
    return {"alpha": float(cv.alpha_), "l1_ratio": float(cv.l1_ratio_)}


SETTINGS = {"fit_intercept": (True,), "positive": (False,)}

SPEC = ModelSpec(
    name="elasticnet",
    title="Elastic net = Normal x Laplace prior",
    prior=PRIOR,
    likelihood="gaussian",
    build=build,
    l1_terms=(L1Term(term="laplace_prior", variable="w", scale="laplace_scale"),),
    likelihood_term="likelihood",
    link=Link(
        objective=OBJECTIVE,
        mapping=MAPPING,
        penalty_names=("alpha", "l1_ratio"),
        prior_values=lambda pen, data: penalty_to_prior(
            pen["alpha"], pen["l1_ratio"], data.noise_sd, data.n_obs
        ),
        sklearn=lambda pen, data: linear_model.ElasticNet(
            alpha=pen["alpha"], l1_ratio=pen["l1_ratio"], tol=1e-12, max_iter=10**6
        ),
        penalty_grid=penalty_grid,
        reference_penalty=reference_penalty,
        twins=(
            Twin(
                "sklearn.linear_model.ElasticNet",
                lambda est: {"alpha": float(est.alpha), "l1_ratio": float(est.l1_ratio)},
                settings=SETTINGS,
            ),
            Twin(
                "sklearn.linear_model.ElasticNetCV",
                lambda est: {"alpha": float(est.alpha_), "l1_ratio": float(est.l1_ratio_)},
                cv=True,
                settings=SETTINGS,
            ),
        ),
    ),
    closed_form=ClosedForm(
        build_scaled_noise=build_scaled_noise,
    ),
)
