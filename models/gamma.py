r"""GammaRegressor is the MAP of a Gamma log-linear model with a Normal prior scaled by the dispersion.

scikit-learn's GammaRegressor(alpha) minimises (sklearn/linear_model/_glm/glm.py, ``fit``)

    1/(2n) sum_i deviance_i + alpha/2 ||w||^2 ,    deviance = 2 * loss ,

with the intercept unpenalised, where ``loss`` is ``HalfGammaLoss`` (sklearn/_loss/loss.py)::

    loss(x_i) = log(exp(raw_prediction_i)/y_true_i)
                + y_true/exp(raw_prediction_i) - 1

    Half the Gamma deviance is actually proportional to the negative log-
    likelihood up to constant terms (not involving raw_prediction)

With ``y_i ~ Gamma(shape 1/phi, mean mu_i = exp(b0 + x_i w))``, ``log p = -loss_i / phi + c(y_i,
phi)``. The prior ``w_j | phi ~ Normal(0, tau)`` with ``tau = sqrt(phi / (n alpha))`` (b0 flat) makes
the negative log posterior ``(n / phi)`` times the objective plus terms in phi alone: for every phi
the mode of ``(b0, w)`` is GammaRegressor's, so the joint mode's is too (the scaled prior of ridge's
``build_scaled_noise``, chosen over a fixed phi because the posterior of w does depend on phi: phi is
sampled). phi's prior: ``LogNormal(log phi0, 2)`` around the intercept-only moment estimate
``phi0 = var(y) / mean(y)^2`` (:mod:`models.core.glm`, which also states what scikit-learn's weight
normalisation does; the twin refuses weights).
"""

from __future__ import annotations

from models.core import glm
from models.core.base import Link, ModelSpec, Twin
from models.core.lazy import lazy

linear_model = lazy("sklearn.linear_model")

PRIOR = ("y_i ~ Gamma(shape 1/phi, mean exp(b0 + x_i w)), w_j ~ Normal(0, tau), b0 flat, "
         "phi ~ LogNormal(log phi0, 2)")  # fmt: skip
MAPPING = "tau = sqrt(phi / (n alpha))"


def sklearn_estimator(penalty, data):
    """GammaRegressor(alpha) at tight tolerance (:func:`models.core.glm.tight`)."""
    return glm.tight(linear_model.GammaRegressor, alpha=penalty["alpha"])


def reference_penalty(data):
    """5-fold CV over 15 alphas (D^2 of the Gamma deviance; 1-SE rule at the small edge)"""
    return glm.reference_alpha(sklearn_estimator({"alpha": 1.0}, data), data)


SPEC = ModelSpec(
    name="gamma",
    title="GammaRegressor = Normal prior, Gamma likelihood",
    prior=PRIOR,
    likelihood="gamma",
    build=glm.builder("gamma", 2.0),
    noise="unknown",
    noise_variable="phi",
    default_data="diabetes",
    link=Link(
        objective=glm.OBJECTIVE,
        mapping=MAPPING,
        penalty_names=("alpha",),
        prior_values=glm.prior_values,
        sklearn=sklearn_estimator,
        penalty_grid=glm.penalty_grid,
        reference_penalty=reference_penalty,
        penalty_from_prior=glm.penalty_from_prior,
        twins=(
            Twin(
                "sklearn.linear_model.GammaRegressor",
                lambda est: {"alpha": float(est.alpha)},
                settings=glm.SETTINGS,
            ),
        ),
    ),
)
