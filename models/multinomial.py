r"""Multinomial L2 logistic regression is the MAP of a categorical-softmax model with Normal priors.

scikit-learn's LogisticRegression (L2, strength C, ``solver`` lbfgs or newton-cholesky) on K > 2
classes minimises

    C * sum_i logloss(y_i, softmax(b + W x_i)) + ||W||_F^2 / 2 ,

with one weight vector per class (``coef_`` is (K, p), not K - 1 rows) and the intercepts b (K,)
unpenalised. In scikit-learn 1.9.1 the code says so in these lines:

* ``sklearn/linear_model/_logistic.py`` (``_logistic_regression_path``): the multinomial branch
  builds ``LinearModelLoss(base_loss=HalfMultinomialLoss(n_classes=size(classes)),
  fit_intercept=fit_intercept)`` and passes ``l2_reg_strength = 1.0 / (C * sw_sum)``;
* ``sklearn/linear_model/_linear_loss.py``: the objective is
  ``1 / s_sum * sum_i s_i loss(y_i, raw_prediction_i) + 1/2 * l2_reg_strength * ||coef||_2^2``,
  where ``coef`` excludes the intercept and holds every class's row;
* ``sklearn/_loss/loss.py`` (``HalfMultinomialLoss``): ``loss_i = log(sum(exp(raw_pred_{i, k}),
  k=0..n_classes-1)) - sum(y_true_{i, k} * raw_pred_{i, k}, k=0..n_classes-1)``, the negative
  log-likelihood of a categorical with softmax probabilities.

Multiplied by ``C n`` the objective is ``C sum_i -log softmax(b + W x_i)_{y_i} + ||W||_F^2 / 2``.
With y_i ~ Categorical(softmax(b + W x_i)), every W_kj ~ Normal(0, tau) and b flat, the negative log
posterior is ``sum_i -log p_i + ||W||_F^2 / (2 tau^2)``; times C it is the objective exactly when
tau^2 = C: the same mapping as the binary model (:mod:`models.logistic`).

**Identifiability.** Adding one vector v to every class's row of W (or a constant to every
intercept) leaves every softmax probability unchanged. The penalty picks the zero-sum
representative: at the optimum, summing the gradient condition ``W_k / C = sum_i (y_ik - p_ik)
x_i`` over k gives ``sum_k W_k = 0``. The intercepts are unpenalised, so only their differences
are identified: a flat prior on all K would make the posterior improper (flat along
``b + c 1``). This model gives K - 1 of them a flat prior and sets the last to minus their sum
(``intercept_free``, and the Deterministic ``intercept`` with dims ``class``): a flat prior on the
identified differences, proper as soon as every class has a row. scikit-learn reports the same
representative: newton-cholesky centres its intercepts (``_newton_solver.py``, ``finalize``: "Only
the intercept needs an update to the symmetric parametrization"), and lbfgs starts at 0 and moves
along gradients whose class sum is 0 (tests/test_multinomial.py measures both).

**The posterior of the class sum is the prior's.** ``||W||_F^2 = ||W - mean_k W_k||_F^2 +
||sum_k W_k||^2 / K`` and the likelihood sees only the centred part, so a posteriori
``sum_k W_kj ~ Normal(0, sqrt(K C))`` exactly, independent of the data: the posterior mean of W is
zero-sum, its draws are not.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from models import logistic
from models.core.base import Link, ModelData, ModelSpec, coords, data_containers
from models.core.lazy import lazy
from models.logistic import C_to_prior_sd, prior_sd_to_C

pm = lazy("pymc")
pt = lazy("pytensor.tensor")
linear_model = lazy("sklearn.linear_model")

OBJECTIVE = "C * sum_i logloss(y_i, softmax(b + W x_i)) + ||W||_F^2 / 2  (K rows of W)"
PRIOR = (
    "y_i ~ Categorical(softmax(b + W x_i)), W_kj ~ Normal(0, tau) for all K classes, "
    "b flat with sum_k b_k = 0"
)
MAPPING = "tau = sqrt(C) (as binary logistic regression)"
GRID = (1e-3, 1e3)
# LogisticRegressionCV's C_ holds one (equal) value per class on a multinomial target
C_of = {
    "LogisticRegression": lambda est: {"C": float(est.C)},
    "LogisticRegressionCV": lambda est: {"C": float(np.ravel(est.C_)[0])},
}


def build(data: ModelData) -> pm.Model:
    """Multinomial logistic regression on class codes ``0..K-1``; prior width ``pm.Data`` ``prior_sd``."""
    n_classes = len(data.classes)
    with pm.Model(coords=coords(data)) as model:
        X_data, y_data = data_containers(data)
        prior_sd = pm.Data("prior_sd", 1.0)
        free = pm.Flat("intercept_free", shape=n_classes - 1)
        intercept = pm.Deterministic(
            "intercept", pt.concatenate([free, -free.sum(keepdims=True)]), dims="class"
        )
        w = pm.Normal("w", 0.0, prior_sd, dims=("class", "feature"))
        eta = intercept + X_data @ w.T
        pm.Categorical("y", logit_p=eta, observed=y_data, dims="obs")
    return model


def sklearn_estimator(penalty, data):
    """LogisticRegression at tight tolerance: newton-cholesky (multinomial since 1.6), tol=1e-12."""
    return linear_model.LogisticRegression(
        C=penalty["C"], solver="newton-cholesky", tol=1e-12, max_iter=1000
    )


def penalty_grid(data: ModelData, n: int) -> list[dict[str, float]]:
    """C log-spaced over [1e-3, 1e3]."""
    return [{"C": float(C)} for C in np.geomspace(*GRID, n)]


def reference_penalty(data: ModelData) -> dict[str, float]:
    """scikit-learn's 5-fold cross-validated C (log loss) on a grid over [1e-3, 1e3]."""
    cv = linear_model.LogisticRegressionCV(
        Cs=np.geomspace(*GRID, 13), cv=5, scoring="neg_log_loss", solver="newton-cholesky",
        tol=1e-8, max_iter=1000, l1_ratios=(0.0,), use_legacy_attributes=False,
    )  # fmt: skip
    return {"C": float(np.ravel(cv.fit(data.X, data.y).C_)[0])}


SPEC = ModelSpec(
    name="multinomial",
    title="Multinomial L2 logistic regression = Normal prior, categorical likelihood",
    prior=PRIOR,
    likelihood="categorical",
    build=build,
    coefficient_dims=("class",),
    default_data="wine",
    link=Link(
        objective=OBJECTIVE,
        mapping=MAPPING,
        penalty_names=("C",),
        prior_values=lambda pen, data: {"prior_sd": C_to_prior_sd(pen["C"])},
        penalty_from_prior=lambda values, data: {"C": prior_sd_to_C(values["prior_sd"])},
        sklearn=sklearn_estimator,
        penalty_grid=penalty_grid,
        reference_penalty=reference_penalty,
        # The binary model (models.logistic) twins the same classes: the Bayesian twin picks the
        # model whose family takes the target's number of classes (Family.min/max_classes).
        twins=tuple(
            dataclasses.replace(twin, penalty=C_of[twin.name]) for twin in logistic.SPEC.link.twins
        ),
    ),
)
