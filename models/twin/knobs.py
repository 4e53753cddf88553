r"""Every library's regularisation knob as a prior width: one formula, one table.

**The seed's formula.** With a Gaussian prior ``w_j ~ Normal(0, tau)`` the negative log posterior is

    -log p(w | y) = NLL(w) + lambda ||w||^2 + const,    lambda = 1 / (2 tau^2),

so an L2 penalty ``lambda ||w||^2`` added to the *negative log-likelihood* is the prior with
``tau = 1 / sqrt(2 lambda)``; a Laplace prior ``w_j ~ Laplace(0, b)`` adds ``||w||_1 / b``. Every
library writes its data term differently (a sum or a mean, with or without a 1/2, squared error
instead of the Gaussian NLL), so its knob is ``lambda`` times a factor. Each row below rewrites the
library's documented objective as ``c x (NLL + lambda ||w||^2 + ||w||_1 / b)`` for a constant ``c``
and reads off ``tau`` (and ``b``). For a Gaussian likelihood ``NLL = ||y - Xw||^2 / (2 sigma^2)``;
for Bernoulli-logit ``NLL = sum_i logloss_i``. ``n`` is the number of rows of the whole data set: a
minibatch library's mean loss over a batch is an unbiased estimate of the mean over all n rows, so
its stationary point, and the prior, depend on n and not on the batch size (only a loss summed per
batch makes the penalty's weight depend on the batch: n / batch times stronger).

Intercepts are unpenalised everywhere except statsmodels' ``fit_regularized`` (it penalises every
parameter, the constant included, unless ``alpha`` is a vector with a 0 for the constant) and
liblinear's logistic solver.

A knob is a :class:`Knob`, registered in :data:`KNOBS` by name (one clear error for an unknown
name), with ``to_width(value, n, sigma)`` (tau, or b for an L1 knob) and its inverse
``from_width``. ElasticNet's two knobs map to both at once (``models.elasticnet.penalty_to_prior``). ``checked`` says how the library itself is fitted against the MAP (a page or
``tests/test_knobs.py``); otherwise the row is derived from the documented objective only. A row
whose library is outside the core stack names it in ``requires`` (its import name): the knobs page
runs its check where the library is installed (the ``knobs`` dependency group,
``experiments/library_checks.py``) and says why not elsewhere. Nothing here imports it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from models.core.base import InputError, positive


def nll_lambda_to_prior_sd(lam: float) -> float:
    """The seed's formula: a penalty ``lambda ||w||^2`` on the NLL is ``tau = 1 / sqrt(2 lambda)``."""
    return float(1.0 / np.sqrt(2.0 * positive(lam, "lambda")))


def prior_sd_to_nll_lambda(tau: float) -> float:
    """Inverse of :func:`nll_lambda_to_prior_sd`: ``lambda = 1 / (2 tau^2)``."""
    return 1.0 / (2.0 * positive(tau, "prior sd (tau)") ** 2)


@dataclass(frozen=True)
class Knob:
    """One library's knob.

    Parameters
    ----------
    name : str
        Registry key, e.g. ``"ridge"``, ``"sgd_regressor"``.
    library : str
        Who owns the knob and what it is called there.
    objective : str
        The library's documented objective, in its own convention.
    likelihood : str
        ``"gaussian"``, ``"bernoulli"``, ``"categorical"``, ``"any"`` or the family the knob's estimator fits
        (``"poisson"``, ``"gamma"``, ...). Gaussian knobs need ``sigma``; the NLL-scaled lambda
        holds for any likelihood; a family with a dispersion (gamma, tweedie, the quantile's
        scale b) is shown at dispersion 1.
    lam : callable
        ``lam(value, n, sigma) -> weight`` on the NLL scale: lambda of ``lambda ||w||^2`` for an L2
        knob, ``1 / b`` of ``||w||_1 / b`` for an L1 knob.
    inverse : callable
        ``inverse(weight, n, sigma) -> value``.
    derivation : str
        How ``lam`` follows from ``objective``.
    needs_n : bool
        Whether the mapping depends on the number of rows.
    checked : str
        The numeric check that fits the library, or "" if derived only.
    penalty : {"l2", "l1"}
        A Normal prior (tau) or a Laplace prior (b).
    requires : str
        Import name of the library outside the core stack that ``checked`` fits ("" for
        scikit-learn and the core stack).
    """

    name: str
    library: str
    objective: str
    likelihood: str
    lam: Callable[[float, int | None, float | None], float]
    inverse: Callable[[float, int | None, float | None], float]
    derivation: str
    needs_n: bool
    checked: str = ""
    penalty: str = "l2"
    requires: str = ""

    @property
    def width_name(self) -> str:
        """``"prior_sd"`` (tau of a Normal prior) or ``"laplace_scale"`` (b of a Laplace prior)."""
        return "laplace_scale" if self.penalty == "l1" else "prior_sd"

    def to_width(self, value: float, n: int | None = None, sigma: float | None = None) -> float:
        """The prior width this knob value means: tau (L2) or the Laplace scale b (L1)."""
        n, sigma = self._check(n, sigma)
        weight = self.lam(positive(value, self.name), n, sigma)
        if not 0 < weight < np.inf:  # the weight under- or overflowed: so does the width
            return np.inf if weight == 0 else 0.0
        return 1.0 / weight if self.penalty == "l1" else nll_lambda_to_prior_sd(weight)

    def from_width(self, width: float, n: int | None = None, sigma: float | None = None) -> float:
        """The knob value that means prior width ``width`` (tau for L2, b for L1)."""
        n, sigma = self._check(n, sigma)
        width = positive(width, self.width_name)
        weight = 1.0 / width if self.penalty == "l1" else prior_sd_to_nll_lambda(width)
        return float(self.inverse(weight, n, sigma))

    def _check(self, n, sigma):
        if self.needs_n and n is None:
            raise InputError(f"{self.library}: the mapping depends on the number of rows; give --n")
        if self.needs_n and (int(n) != n or n < 1):
            raise InputError(f"--n must be a positive integer, got {n}")
        if self.likelihood == "gaussian":
            if sigma is None:
                raise InputError(
                    f"{self.library}: a Gaussian likelihood needs the noise sd; give --noise-sd"
                )
            sigma = positive(sigma, "--noise-sd")
        return n, sigma


def _knobs() -> dict[str, Knob]:
    s2 = lambda sigma: sigma**2  # noqa: E731 - the noise variance, spelled out in each row
    rows = [
        Knob("nll", "the NLL-scaled penalty lambda (the seed's formula)",
             "NLL(w) + lambda ||w||^2", "any",
             lambda v, n, s: v, lambda lam, n, s: lam,
             "the definition: lambda = 1 / (2 tau^2)", False, "NLL-scaled objective = Ridge's minimiser"),
        Knob("ridge", "scikit-learn Ridge(alpha)", "||y - Xw||^2 + alpha ||w||^2", "gaussian",
             lambda v, n, s: v / (2 * s2(s)), lambda lam, n, s: 2 * s2(s) * lam,
             "= 2 sigma^2 (NLL + alpha / (2 sigma^2) ||w||^2): lambda = alpha / (2 sigma^2), "
             "tau^2 = sigma^2 / alpha", False, "MAP = Ridge (experiments/ridge)"),
        Knob("kernel_ridge", "scikit-learn KernelRidge(alpha), weights of the kernel's features",
             "||y - Phi w||^2 + alpha ||w||^2, Phi Phi' = K", "gaussian",
             lambda v, n, s: v / (2 * s2(s)), lambda lam, n, s: 2 * s2(s) * lam,
             "Ridge's row in the kernel's feature space: tau^2 = sigma^2 / alpha, and tau is the GP "
             "amplitude eta (alpha = sigma^2 / eta^2)", False,
             "KernelRidge = GP posterior mean (experiments/kernel_ridge)"),
        Knob("logistic", "scikit-learn LogisticRegression(C), L2", "C sum_i logloss_i + ||w||^2 / 2",
             "bernoulli", lambda v, n, s: 1 / (2 * v), lambda lam, n, s: 1 / (2 * lam),
             "= C (NLL + ||w||^2 / (2 C)): lambda = 1 / (2 C), tau^2 = C", False,
             "MAP = LogisticRegression (experiments/logistic)"),
        Knob("multinomial", "scikit-learn LogisticRegression(C), L2, K > 2 classes",
             "C sum_i logloss_i + ||W||_F^2 / 2 (K weight vectors)", "categorical",
             lambda v, n, s: 1 / (2 * v), lambda lam, n, s: 1 / (2 * lam),
             "as binary: = C (NLL + ||W||_F^2 / (2 C)): lambda = 1 / (2 C), tau^2 = C for each "
             "of the K x p weights", False,
             "MAP = LogisticRegression on 3 classes (experiments/multinomial)"),
        Knob("mlp_regressor", "scikit-learn MLPRegressor(alpha), squared_error (weights, not biases)",
             "(1 / n) sum_i (y_i - f(x_i))^2 / 2 + alpha ||W||^2 / (2 n)", "gaussian",
             lambda v, n, s: v / (2 * s2(s)), lambda lam, n, s: 2 * s2(s) * lam,
             "= (sigma^2 / n) (NLL + alpha / (2 sigma^2) ||W||^2): tau^2 = sigma^2 / alpha, as "
             "Ridge (the penalty is divided by n too)", False,
             "the fit is a local mode of the Bayesian network (experiments/mlp, tests/test_mlp.py)"),
        Knob("mlp_classifier", "scikit-learn MLPClassifier(alpha), binary (weights, not biases)",
             "(1 / n) sum_i logloss_i + alpha ||W||^2 / (2 n)", "bernoulli",
             lambda v, n, s: v / 2, lambda lam, n, s: 2 * lam,
             "= (1 / n) (NLL + (alpha / 2) ||W||^2): tau^2 = 1 / alpha", False,
             "the fit is a local mode of the Bayesian network (experiments/mlp, tests/test_mlp.py)"),
        Knob("sgd_regressor", "scikit-learn SGDRegressor(alpha), squared_error, penalty='l2'",
             "(1 / n) sum_i (y_i - x_i w)^2 / 2 + alpha ||w||^2 / 2", "gaussian",
             lambda v, n, s: n * v / (2 * s2(s)), lambda lam, n, s: 2 * s2(s) * lam / n,
             "= (sigma^2 / n) (NLL + (n alpha / (2 sigma^2)) ||w||^2): tau^2 = sigma^2 / (n alpha)",
             True, "SGDRegressor (averaged SGD) = MAP at the mapped tau"),
        Knob("sgd_classifier", "scikit-learn SGDClassifier(alpha), log_loss, penalty='l2'",
             "(1 / n) sum_i logloss_i + alpha ||w||^2 / 2", "bernoulli",
             lambda v, n, s: n * v / 2, lambda lam, n, s: 2 * lam / n,
             "= (1 / n) (NLL + (n alpha / 2) ||w||^2): tau^2 = 1 / (n alpha)", True,
             "SGDClassifier (averaged SGD) = MAP at the mapped tau"),
        Knob("bayesian_ridge", "scikit-learn BayesianRidge: lambda_ (weight precision)",
             "w ~ Normal(0, 1 / sqrt(lambda_)), noise precision alpha_", "gaussian",
             lambda v, n, s: v / 2, lambda lam, n, s: 2 * lam,
             "a prior precision already: tau^2 = 1 / lambda_ (and Ridge's alpha = lambda_ / alpha_)",
             False, "Ridge(lambda_ / alpha_) = BayesianRidge's coef_"),
        Knob("statsmodels", "statsmodels OLS.fit_regularized(alpha, L1_wt=0)",
             "RSS / (2 n) + alpha (1 - L1_wt) ||w||^2 / 2 + alpha L1_wt ||w||_1", "gaussian",
             lambda v, n, s: n * v / (2 * s2(s)), lambda lam, n, s: 2 * s2(s) * lam / n,
             "= (sigma^2 / n) (NLL + (n alpha / (2 sigma^2)) ||w||^2): tau^2 = sigma^2 / (n alpha); "
             "it penalises the constant too", True,
             "fit_regularized (0 in alpha for the constant) = MAP at the mapped tau",
             requires="statsmodels"),
        Knob("glmnet", "glmnet lambda (alpha = 0, gaussian)",
             "RSS / (2 n) + lambda ((1 - alpha) ||w||^2 / 2 + alpha ||w||_1)", "gaussian",
             lambda v, n, s: n * v / (2 * s2(s)), lambda lam, n, s: 2 * s2(s) * lam / n,
             "as statsmodels: tau^2 = sigma^2 / (n lambda), on the scale glmnet reports after its "
             "own standardisation (standardize=TRUE)", True,
             "glum (glmnet's convention, l1_ratio = 0) = MAP at the mapped tau", requires="glum"),
        Knob("keras_l2_mse", "Keras regularizers.l2(l) with loss 'mse' (mean over n rows)",
             "(1 / n) sum_i (y_i - x_i w)^2 + l ||w||^2", "gaussian",
             lambda v, n, s: n * v / (2 * s2(s)), lambda lam, n, s: 2 * s2(s) * lam / n,
             "= (2 sigma^2 / n) (NLL + (n l / (2 sigma^2)) ||w||^2): tau^2 = sigma^2 / (n l)", True,
             "Keras fit (full-batch SGD, float64) = MAP at the mapped tau", requires="keras"),
        Knob("keras_l2_bce", "Keras regularizers.l2(l) with binary cross-entropy (mean)",
             "(1 / n) sum_i logloss_i + l ||w||^2", "bernoulli",
             lambda v, n, s: n * v, lambda lam, n, s: lam / n,
             "= (1 / n) (NLL + n l ||w||^2): tau^2 = 1 / (2 n l)", True,
             "Keras fit (full-batch SGD, float64) = MAP at the mapped tau", requires="keras"),
        Knob("torch_sgd_mse", "PyTorch SGD(weight_decay=wd) with MSELoss (mean)",
             "gradient step on (1 / n) sum_i (y_i - x_i w)^2 + wd ||w||^2 / 2", "gaussian",
             lambda v, n, s: n * v / (4 * s2(s)), lambda lam, n, s: 4 * s2(s) * lam / n,
             "weight decay adds wd w to the gradient, i.e. wd ||w||^2 / 2 to the loss; = (2 sigma^2 "
             "/ n) (NLL + (n wd / (4 sigma^2)) ||w||^2): tau^2 = 2 sigma^2 / (n wd)", True,
             requires="torch"),
        Knob("torch_sgd_bce", "PyTorch SGD(weight_decay=wd) with BCEWithLogitsLoss (mean)",
             "gradient step on (1 / n) sum_i logloss_i + wd ||w||^2 / 2", "bernoulli",
             lambda v, n, s: n * v / 2, lambda lam, n, s: 2 * lam / n,
             "= (1 / n) (NLL + (n wd / 2) ||w||^2): tau^2 = 1 / (n wd)", True, requires="torch"),
        Knob("optax_adam_mse", "optax chain(add_decayed_weights(wd), adam(lr)) with a mean "
             "squared error", "Adam steps on the gradient of (1 / n) sum_i (y_i - x_i w)^2 + wd "
             "||w||^2 / 2", "gaussian",
             lambda v, n, s: n * v / (4 * s2(s)), lambda lam, n, s: 4 * s2(s) * lam / n,
             "add_decayed_weights adds wd w to the gradient before Adam rescales it (coupled "
             "decay), so Adam's fixed point, a zero of that gradient, is the minimiser of the loss "
             "+ wd ||w||^2 / 2: as PyTorch SGD, tau^2 = 2 sigma^2 / (n wd). optax.adamw "
             "(decoupled) has no such row: see the page", True,
             "Adam's averaged end point = MAP at the mapped tau", requires="optax"),
        Knob("lasso", "scikit-learn Lasso(alpha)", "(1 / (2 n)) ||y - Xw||^2 + alpha ||w||_1",
             "gaussian", lambda v, n, s: n * v / s2(s), lambda k, n, s: s2(s) * k / n,
             "= (sigma^2 / n) (NLL + (n alpha / sigma^2) ||w||_1): b = sigma^2 / (n alpha)", True,
             "MAP = Lasso with the same zeros (experiments/lasso, tests)", "l1"),
        Knob("quantile", "scikit-learn QuantileRegressor(alpha)",
             "(1 / n) sum_i pinball_q(y_i - x_i w) + alpha ||w||_1", "asymmetric_laplace",
             lambda v, n, s: n * v, lambda k, n, s: k / n,
             "with the asymmetric-Laplace NLL = sum_i pinball_q / b: = (b / n) (NLL + (n alpha / b) "
             "||w||_1), so the Laplace scale is b / (n alpha); shown at b = 1 (it scales with the "
             "likelihood's scale b, which the model samples)", True,
             "MAP = QuantileRegressor, an exact linear programme (experiments/quantile, tests)", "l1"),
        Knob("poisson", "scikit-learn PoissonRegressor(alpha)",
             "(1 / n) sum_i deviance_i / 2 + alpha ||w||^2 / 2", "poisson",
             lambda v, n, s: n * v / 2, lambda lam, n, s: 2 * lam / n,
             "half the Poisson deviance is the NLL up to constants: = (1 / n) (NLL + (n alpha / 2) "
             "||w||^2), so tau^2 = 1 / (n alpha)", True,
             "MAP = PoissonRegressor (experiments/poisson, tests/test_glm.py)"),
        Knob("gamma", "scikit-learn GammaRegressor(alpha)",
             "(1 / n) sum_i deviance_i / 2 + alpha ||w||^2 / 2", "gamma",
             lambda v, n, s: n * v / 2, lambda lam, n, s: 2 * lam / n,
             "half the Gamma deviance is phi times the NLL up to constants: = (phi / n) (NLL + (n "
             "alpha / (2 phi)) ||w||^2), so tau^2 = phi / (n alpha); shown at phi = 1 (tau scales "
             "with sqrt(phi), which the model samples)", True,
             "MAP = GammaRegressor (experiments/gamma, tests/test_glm.py)"),
        Knob("tweedie", "scikit-learn TweedieRegressor(power, alpha), power 0, 1, 2 or 3",
             "(1 / n) sum_i deviance_i / 2 + alpha ||w||^2 / 2", "tweedie",
             lambda v, n, s: n * v / 2, lambda lam, n, s: 2 * lam / n,
             "half the unit deviance is phi times the NLL (phi = sigma^2 at power 0, 1 at power 1, "
             "the dispersion at 2 and 3): tau^2 = phi / (n alpha); shown at phi = 1", True,
             "MAP = TweedieRegressor (experiments/tweedie, tests/test_glm.py)"),
        Knob("statsmodels_l1", "statsmodels OLS.fit_regularized(alpha, L1_wt=1)",
             "RSS / (2 n) + alpha ||w||_1", "gaussian",
             lambda v, n, s: n * v / s2(s), lambda k, n, s: s2(s) * k / n,
             "as Lasso: b = sigma^2 / (n alpha); it penalises the constant too", True,
             "fit_regularized (0 in alpha for the constant) = MAP with the same zeros", "l1",
             "statsmodels"),
        Knob("glmnet_l1", "glmnet lambda (alpha = 1, gaussian)", "RSS / (2 n) + lambda ||w||_1",
             "gaussian", lambda v, n, s: n * v / s2(s), lambda k, n, s: s2(s) * k / n,
             "as Lasso: b = sigma^2 / (n lambda), on glmnet's standardised scale", True,
             "glum (glmnet's convention, l1_ratio = 1) = MAP with the same zeros", "l1", "glum"),
    ]  # fmt: skip
    return {knob.name: knob for knob in rows}


KNOBS = _knobs()


def get_knob(name: str) -> Knob:
    """The knob called ``name``; an unknown name is one clear error listing the known ones."""
    try:
        return KNOBS[name]
    except KeyError:
        raise InputError(f"unknown knob '{name}'; known: {', '.join(KNOBS)}") from None
