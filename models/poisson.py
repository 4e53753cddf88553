r"""PoissonRegressor is the MAP of a Poisson log-linear model with a Normal prior.

scikit-learn's PoissonRegressor(alpha) minimises (sklearn/linear_model/_glm/glm.py, ``fit``)

    1/(2n) sum_i deviance_i + alpha/2 ||w||^2 ,    deviance = 2 * loss ,

with the intercept unpenalised, where ``loss`` is ``HalfPoissonLoss`` (sklearn/_loss/loss.py)::

    loss(x_i) = y_true_i * log(y_true_i/exp(raw_prediction_i))
                - y_true_i + exp(raw_prediction_i)

    Half the Poisson deviance is actually the negative log-likelihood up to
    constant terms (not involving raw_prediction)

With ``y_i ~ Poisson(exp(b0 + x_i w))``, ``w_j ~ Normal(0, tau)`` and b0 flat, the negative log
posterior is ``sum_i loss_i + ||w||^2 / (2 tau^2) + const``: n times the objective exactly when
``tau = 1 / sqrt(n alpha)`` (:mod:`models.core.glm`, where sample weights are discussed: scikit-learn
normalises them to sum 1, and the twin refuses them).

Targets: counts, integers >= 0. scikit-learn accepts any y >= 0 (a rate); the experiment refuses a
non-integer target in one line, because its page draws replicated counts and reads the Poisson
mass, which a non-integer does not have.
"""

from __future__ import annotations

from models.core import glm
from models.core.base import Link, ModelSpec, Twin
from models.core.lazy import lazy

linear_model = lazy("sklearn.linear_model")

PRIOR = "y_i ~ Poisson(exp(b0 + x_i w)), w_j ~ Normal(0, tau), b0 flat"
MAPPING = "tau = 1 / sqrt(n alpha)"


def sklearn_estimator(penalty, data):
    """PoissonRegressor(alpha) at tight tolerance (:func:`models.core.glm.tight`)."""
    return glm.tight(linear_model.PoissonRegressor, alpha=penalty["alpha"])


def reference_penalty(data):
    """5-fold CV over 15 alphas (D^2 of the Poisson deviance; 1-SE rule at the small edge)"""
    return glm.reference_alpha(sklearn_estimator({"alpha": 1.0}, data), data)


SPEC = ModelSpec(
    name="poisson",
    title="PoissonRegressor = Normal prior, Poisson likelihood",
    prior=PRIOR,
    likelihood="poisson",
    build=glm.builder("poisson", 1.0),
    default_data="linnerud",
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
                "sklearn.linear_model.PoissonRegressor",
                lambda est: {"alpha": float(est.alpha)},
                settings=glm.SETTINGS,
            ),
        ),
    ),
)
