r"""TweedieRegressor is the MAP of a Tweedie GLM with a Normal prior, for every power with a density.

scikit-learn's TweedieRegressor(power, alpha, link) minimises (sklearn/linear_model/_glm/glm.py)

    1/(2n) sum_i deviance_i + alpha/2 ||w||^2 ,    deviance = 2 * loss ,

intercept unpenalised, with ``link="auto"`` resolved as its ``_get_loss`` does::

    if self.power <= 0:
        # identity link
        return HalfTweedieLossIdentity(power=self.power)
    else:
        # log link
        return HalfTweedieLoss(power=self.power)

``HalfTweedieLoss`` (sklearn/_loss/loss.py) is, for p = power and mu = the mean,
``max(y, 0)**(2-p) / (1-p) / (2-p) - y * mu**(1-p) / (1-p) + mu**(2-p) / (2-p)``, and "taking the
limits for p=0, 1, 2 gives HalfSquaredError with a log link, HalfPoissonLoss and HalfGammaLoss".
Up to terms free of mu it is ``phi`` times the negative log density of:

* power 0: ``Normal(eta, sigma)``, identity link, ``phi = sigma^2`` (``(y - eta)^2 / 2``): so
  ``tau = sigma / sqrt(n alpha)``, and Ridge's alpha is ``n`` times this alpha (Ridge sums the
  squared errors without the 1/(2n));
* power 1: ``Poisson(exp(eta))`` (:mod:`models.poisson`), ``tau = 1 / sqrt(n alpha)``;
* power 2: ``Gamma(shape 1/phi, mean exp(eta))`` (:mod:`models.gamma`);
* power 3: the inverse Gaussian ``Wald(mean exp(eta), shape 1/phi)``: the loss at p = 3 is
  ``(y - mu)^2 / (2 y mu^2)`` and ``log p = -(y - mu)^2 / (2 phi y mu^2) + c(y, phi)``.

With the prior ``w_j | phi ~ Normal(0, sqrt(phi / (n alpha)))`` the mode of ``(b0, w)`` is
TweedieRegressor's for every phi (:mod:`models.core.glm`, with phi's prior and the weight
normalisation). Other powers are refused in one line: 0 < p < 1 has no distribution, 1 < p < 2
(compound Poisson-Gamma) and p > 2 other than 3 have no closed-form density, and p < 0 has no
density PyMC can evaluate.

One model file, several families: :func:`spec_for` makes the model of each power (the registered
``SPEC`` is :data:`DEFAULT_POWER`'s); the experiment's ``--power`` and the twin's
``TweedieRegressor(power=...)`` pick it (``Twin.model``).
"""

from __future__ import annotations

from functools import cache

from models.core import glm
from models.core.base import InputError, Link, ModelSpec, Twin
from models.core.lazy import lazy

linear_model = lazy("sklearn.linear_model")

DEFAULT_POWER = 3.0
DISTRIBUTIONS = {0: "Normal (identity link)", 1: "Poisson", 2: "Gamma", 3: "inverse Gaussian"}


def family_of(power: float) -> str:
    """The observation family of a Tweedie power; a power without a closed-form density is one
    :class:`InputError` line saying why."""
    power = float(power)
    if power in glm.POWERS:
        return glm.POWERS[int(power)]
    if 0 < power < 1:
        why = "no Tweedie distribution exists for 0 < power < 1"
    elif 1 < power < 2:
        why = "the compound Poisson-Gamma (1 < power < 2) has no closed-form density"
    else:
        why = "only powers 0, 1, 2 and 3 have a closed-form density"
    raise InputError(f"Tweedie power {power:g}: {why}; use 0, 1, 2 or 3")


@cache
def spec_for(power: float) -> ModelSpec:
    """The model of TweedieRegressor(power) (power 0, 1, 2 or 3, see :func:`family_of`)."""
    likelihood = family_of(power)
    power = float(power)
    dispersion = glm.DISPERSION_VARIABLE.get(likelihood)
    link = "identity" if power == 0 else "log"
    mean = "b0 + x_i w" if power == 0 else "exp(b0 + x_i w)"

    def sklearn_estimator(penalty, data):
        return glm.tight(linear_model.TweedieRegressor, power=power, alpha=penalty["alpha"])

    def reference_penalty(data):
        """5-fold CV over 15 alphas (D^2 of the Tweedie deviance; 1-SE rule at the small edge)"""
        return glm.reference_alpha(sklearn_estimator({"alpha": 1.0}, data), data)

    scale = "tau" if dispersion is None else f"tau = {'sigma' if power == 0 else 'sqrt(phi)'} tau1"
    return ModelSpec(
        name="tweedie",
        title=f"TweedieRegressor(power={power:g}) = Normal prior, {DISTRIBUTIONS[int(power)]} likelihood",
        prior=f"y_i ~ {DISTRIBUTIONS[int(power)]} with mean {mean} ({link} link), w_j ~ Normal(0, {scale}), b0 flat",
        likelihood=likelihood,
        build=glm.builder(likelihood, power),
        noise=None if dispersion is None else "unknown",
        noise_variable=dispersion or "sigma",
        default_data="diabetes",
        link=Link(
            objective=glm.OBJECTIVE,
            mapping="tau = 1 / sqrt(n alpha)" if dispersion is None else "tau1 = 1 / sqrt(n alpha)",
            penalty_names=("alpha",),
            prior_values=glm.prior_values,
            sklearn=sklearn_estimator,
            penalty_grid=glm.penalty_grid,
            reference_penalty=reference_penalty,
            penalty_from_prior=glm.penalty_from_prior,
            twins=(TWIN,),
        ),
    )


def _twin_model(estimator) -> ModelSpec:
    """The model of a TweedieRegressor's power; its link must be "auto" or the one "auto" picks
    (another link is another model: TypeError)."""
    power = float(estimator.power)
    link = "identity" if power == 0 else "log"
    if estimator.link not in ("auto", link):
        raise TypeError(
            f"TweedieRegressor with power={power:g} and link={estimator.link!r} is not supported "
            f"(the Bayesian twin needs link='auto' or {link!r})"
        )
    return spec_for(power)


TWIN = Twin(
    "sklearn.linear_model.TweedieRegressor",
    lambda est: {"alpha": float(est.alpha)},
    settings={**glm.SETTINGS, "power": (0, 1, 2, 3)},
    model=_twin_model,
)

SPEC = spec_for(DEFAULT_POWER)

__all__ = ["DEFAULT_POWER", "SPEC", "TWIN", "family_of", "spec_for"]
