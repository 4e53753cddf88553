r"""L2 logistic regression is the MAP of a Bernoulli-logit model with a Normal prior.

scikit-learn's LogisticRegression (L2, strength C) minimises

    C * sum_i logloss(y_i, b0 + x_i w) + ||w||^2 / 2 ,

with the intercept b0 unpenalised. With y_i ~ Bernoulli(logit^{-1}(b0 + x_i w)), w_j ~ Normal(0, tau)
and b0 flat, the negative log posterior is ``sum_i logloss + ||w||^2 / (2 tau^2)``; multiplied by C it
is the objective above exactly when tau^2 = C. The posterior is not Gaussian: mode, mean and median
of each coefficient differ, most where the data are weakest.
"""

from __future__ import annotations

import numpy as np

from models.core.base import Link, ModelData, ModelSpec, Twin, coords, data_containers, positive
from models.core.lazy import lazy

pm = lazy("pymc")
linear_model = lazy("sklearn.linear_model")

OBJECTIVE = "C * sum_i logloss(y_i, b0 + x_i w) + ||w||^2 / 2"
PRIOR = "y_i ~ Bernoulli(logit^-1(b0 + x_i w)), w_j ~ Normal(0, tau), b0 flat"
MAPPING = "tau = sqrt(C)"


def C_to_prior_sd(C: float) -> float:
    """Prior width whose MAP is LogisticRegression(C): ``tau = sqrt(C)``.

    Parameters
    ----------
    C : float
        Inverse regularisation strength (> 0).
    """
    return float(np.sqrt(positive(C, "C")))


def prior_sd_to_C(prior_sd: float) -> float:
    """Inverse of :func:`C_to_prior_sd`: ``C = tau^2``."""
    return positive(prior_sd, "prior sd (tau)") ** 2


def build(data: ModelData) -> pm.Model:
    """Bayesian logistic regression; the prior width is ``pm.Data`` ``prior_sd``."""
    with pm.Model(coords=coords(data)) as model:
        X_data, y_data = data_containers(data)
        prior_sd = pm.Data("prior_sd", 1.0)
        intercept = pm.Flat("intercept")
        w = pm.Normal("w", 0.0, prior_sd, dims="feature")
        pm.Bernoulli("y", logit_p=intercept + X_data @ w, observed=y_data, dims="obs")
    return model


def sklearn_estimator(penalty, data):
    """LogisticRegression at tight tolerance (its default tol=1e-4 stops far from the optimum)."""
    return linear_model.LogisticRegression(
        C=penalty["C"], solver="newton-cholesky", tol=1e-12, max_iter=1000
    )


def penalty_grid(data: ModelData, n: int) -> list[dict[str, float]]:
    """C log-spaced over [1e-3, 1e3]."""
    return [{"C": float(C)} for C in np.geomspace(1e-3, 1e3, n)]


def reference_penalty(data: ModelData) -> dict[str, float]:
    """scikit-learn's 5-fold cross-validated C (log loss) on a grid over [1e-3, 1e3]."""
    cv = linear_model.LogisticRegressionCV(
        Cs=np.geomspace(1e-3, 1e3, 13), cv=5, scoring="neg_log_loss", solver="newton-cholesky",
        tol=1e-8, max_iter=1000, l1_ratios=(0.0,), use_legacy_attributes=False,
    )  # fmt: skip
    return {"C": float(np.ravel(cv.fit(data.X, data.y).C_)[0])}


SMOOTH_SOLVERS = ("lbfgs", "newton-cg", "newton-cholesky", "sag", "saga")  # not liblinear: it
# penalises the intercept, so its fit is not the mode of a model with a flat intercept
SETTINGS = {"fit_intercept": (True,), "class_weight": (None,), "solver": SMOOTH_SOLVERS}

SPEC = ModelSpec(
    name="logistic",
    title="L2 logistic regression = Normal prior, Bernoulli likelihood",
    prior=PRIOR,
    likelihood="bernoulli",
    build=build,
    default_data="breast_cancer",
    link=Link(
        objective=OBJECTIVE,
        mapping=MAPPING,
        penalty_names=("C",),
        prior_values=lambda pen, data: {"prior_sd": C_to_prior_sd(pen["C"])},
        sklearn=sklearn_estimator,
        penalty_grid=penalty_grid,
        reference_penalty=reference_penalty,
        twins=(
            Twin(
                "sklearn.linear_model.LogisticRegression",
                lambda est: {"C": float(est.C)},
                settings={**SETTINGS, "penalty": ("deprecated", "l2"), "l1_ratio": (0.0, None)},
            ),
            Twin(
                "sklearn.linear_model.LogisticRegressionCV",
                lambda est: {"C": float(np.ravel(est.C_)[0])},
                cv=True,
                settings={
                    **SETTINGS,
                    "penalty": ("deprecated", "l2"),
                    "l1_ratios": ("warn", None, (0.0,), [0.0]),
                },
            ),
        ),
    ),
)
