r"""The R2D2 prior: a prior on the regression's R^2, decomposed over the coefficients.

Zhang, Y. D., Naughton, B. P., Bondell, H. D. and Reich, B. J. (2022), "Bayesian regression using
a prior on the model fit: the R2-D2 shrinkage prior", JASA 117, 862-874; in the Normal form of
Aguilar & Bürkner (2023, "Intuitive joint priors for Bayesian linear multilevel models: the R2D2M2
prior", Electronic Journal of Statistics 17) used by brms' ``R2D2()``::

    y ~ Normal(b0 + X w, sigma)
    R^2 ~ Beta(a, b),      W = R^2 / (1 - R^2)
    phi ~ Dirichlet(c, ..., c)
    w_j = z_j sigma sqrt(phi_j W / s_j^2),   z_j ~ Normal(0, 1)     (non-centred)
    sigma ~ HalfNormal(sd(y)),  b0 flat

with ``s_j^2`` the variance of column j. Then the prior variance of the linear predictor is
``sigma^2 W sum_j phi_j = sigma^2 W``, so ``R^2 = W / (1 + W)`` is the prior's proportion of
explained variance exactly, and ``phi`` splits it over the coefficients. Defaults are brms':
mean R^2 0.5 with precision 2 (``a = b = 1``) and concentration ``c = 0.5``. The shrinkage factor
is ``kappa_j = 1 / (1 + n phi_j W)`` (:mod:`models.horseshoe`'s with ``s_j^2 tau^2 lambda_j^2 /
sigma^2 = phi_j W``).

pymc-extras' ``R2D2M2CP`` is the multilevel variant with an explicit per-predictor variance input
and optional centring; it is not installed here, and this single-level prior is a few lines.
"""

from __future__ import annotations

import numpy as np

from models.core.base import ModelData, coords, positive
from models.core.lazy import lazy
from models.scale.statistics import normal_likelihood

pm = lazy("pymc")

R2_MEAN, R2_PRECISION, CONCENTRATION = 0.5, 2.0, 0.5  # brms R2D2() defaults


def build(
    data: ModelData,
    r2_mean: float = R2_MEAN,
    r2_precision: float = R2_PRECISION,
    concentration: float = CONCENTRATION,
) -> pm.Model:
    """The R2D2 regression (module docstring), non-centred, with ``kappa`` as a deterministic.
    The numbers computed from the data (``column_var``, ``sigma_prior_sd``) are ``pm.Data``, so one
    compiled model serves any data of the same width.

    Parameters
    ----------
    r2_mean, r2_precision : float
        Beta prior of R^2 as mean and precision: ``a = mean * precision``, ``b = (1 - mean) *
        precision``.
    concentration : float
        The Dirichlet's concentration ``c`` (small: few coefficients take most of R^2).
    """
    if not 0 < r2_mean < 1:
        raise ValueError(f"r2_mean must lie in (0, 1), got {r2_mean:g}")
    precision = positive(r2_precision, "R^2 prior precision")
    with pm.Model(coords=coords(data, rows=False)) as model:
        column_var = pm.Data("column_var", np.var(data.X, axis=0), dims="feature")
        intercept = pm.Flat("intercept")
        sigma = pm.HalfNormal("sigma", pm.Data("sigma_prior_sd", float(np.std(data.y))))
        r2 = pm.Beta("r2", alpha=r2_mean * precision, beta=(1 - r2_mean) * precision)
        explained = pm.Deterministic("W", r2 / (1 - r2))
        phi = pm.Dirichlet(
            "phi", np.full(data.n_features, positive(concentration, "concentration")),
            dims="feature",
        )  # fmt: skip
        z = pm.Normal("z", 0.0, 1.0, dims="feature")
        w = pm.Deterministic(
            "w", z * sigma * pm.math.sqrt(phi * explained / column_var), dims="feature"
        )
        normal_likelihood(data, intercept, w, sigma)
        # n is the likelihood's pm.Data "n_rows", not a constant: data with more rows, same graph
        pm.Deterministic("kappa", 1.0 / (1.0 + model["n_rows"] * phi * explained), dims="feature")
    return model


__all__ = ["CONCENTRATION", "R2_MEAN", "R2_PRECISION", "build"]
