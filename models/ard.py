r"""ARD: one prior precision per coefficient, chosen by the evidence (type-II maximum likelihood).

scikit-learn's ``ARDRegression`` is automatic relevance determination (MacKay 1994; Tipping
2001): ``y ~ Normal(b0 + X w, 1 / sqrt(alpha))``, ``w_j ~ Normal(0, 1 / sqrt(lambda_j))``, and
the precisions maximise the log evidence with Gamma hyper-priors,

    F(alpha, lambda) = log Normal(y | 0, I / alpha + X diag(1 / lambda) X')
                       + sum_j (lambda_1 log lambda_j - lambda_2 lambda_j)
                       + alpha_1 log alpha - alpha_2 alpha ,

on centred data (``fit_intercept``). At fixed precisions the posterior of w is Gaussian with
``Sigma = (alpha X'X + diag(lambda))^{-1}`` and mean ``mu = alpha Sigma X'y``: the ridge with one
penalty per coefficient, ``lambda_j / alpha``. A coefficient whose precision exceeds
``threshold_lambda`` is pruned (``w_j = 0``, ``lambda_j`` frozen).

:func:`evidence_maximiser` is the suite's own maximiser of F (the MacKay fixed-point updates,
in scikit-learn's order and conventions), certified at convergence by the gradient of F in
``(log alpha, log lambda_j)`` over the kept coefficients:

    dF / dlog lambda_j = (gamma_j - lambda_j mu_j^2) / 2 + lambda_1 - lambda_2 lambda_j ,
    dF / dlog alpha    = (n - sum_j gamma_j - alpha ||y - X mu||^2) / 2 + alpha_1 - alpha_2 alpha ,

with ``gamma_j = 1 - lambda_j Sigma_jj``; the fixed point sets both to zero.

Full Bayes (:func:`build_hierarchical`): the same hierarchy with the precisions sampled rather than
maximised. ``lambda_j ~ Gamma(shape, rate)`` (``pm.Data`` ``lambda_shape``, ``lambda_rate``),
so each ``w_j`` is marginally Student-t with ``2 shape`` degrees of freedom and scale
``sqrt(rate / shape)``; non-centred ``w_j = z_j / sqrt(lambda_j)``; ``sigma ~ HalfNormal(sd(y))``
and a flat intercept. The Bayesian twin (``bayesian(ARDRegression())``) is the exact posterior at
the evidence's precisions (:func:`conjugate`), whose mode is ``ARDRegression``'s ``coef_``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from models.core.arrays import conjugate_noise_scale
from models.core.base import (
    ClosedForm,
    ConjugatePosterior,
    InputError,
    Link,
    ModelData,
    ModelSpec,
    Twin,
    coords,
    positive,
)
from models.core.lazy import lazy
from models.ridge import default_tau_scale
from models.scale.statistics import normal_likelihood

pm = lazy("pymc")
linalg = lazy("scipy.linalg")
linear_model = lazy("sklearn.linear_model")

# ARDRegression's defaults (scikit-learn 1.9)
HYPER_PRIOR = {"alpha_1": 1e-6, "alpha_2": 1e-6, "lambda_1": 1e-6, "lambda_2": 1e-6}
THRESHOLD_LAMBDA = 1e4
GRADIENT_TOL = 1e-8  # the certificate: max |dF / dlog theta| at the evidence maximum
# A pruned coefficient's precision (lambda = infinity, w_j = 0) as a finite number: its prior sd is
# then 1e-50 sigma sqrt(alpha), inside the suite's range of prior widths, and its mode ~1e-100.
PRUNED_PRECISION = 1e100


@dataclass(frozen=True)
class Evidence:
    """The evidence maximum of ARD, with its certificate.

    Attributes
    ----------
    coef : array (p,)
        Posterior mean of w at the maximum (0 for pruned coefficients).
    intercept : float
        ``ybar - xbar' coef`` (0 without ``fit_intercept``).
    lambda_ : array (p,)
        Precision of each coefficient (a pruned one keeps the value at which it was pruned).
    alpha : float
        Noise precision.
    kept : array of bool (p,)
        Coefficients not pruned (``lambda_ < threshold_lambda``).
    sigma : array (k, k)
        Posterior covariance of the kept coefficients.
    gradient : float
        max |dF / dlog theta| over ``log alpha`` and the kept ``log lambda_j``.
    iterations : int
    converged : bool
        ``gradient <= GRADIENT_TOL``.
    """

    coef: np.ndarray
    intercept: float
    lambda_: np.ndarray
    alpha: float
    kept: np.ndarray
    sigma: np.ndarray
    gradient: float
    iterations: int
    converged: bool

    @property
    def message(self) -> str:
        state = "converged" if self.converged else "DID NOT CONVERGE"
        return (
            f"ARD evidence maximum {state}: max |dF/dlog theta| = {self.gradient:.2e} after "
            f"{self.iterations} iterations, {int(self.kept.sum())} of {len(self.kept)} kept"
        )

    def certify(self) -> Evidence:
        """Return ``self`` if converged; else raise :class:`ValueError` with :attr:`message`."""
        if not self.converged:
            raise ValueError(self.message)
        return self


def _posterior(X, y, alpha, lam):
    """``(Sigma, mu)`` of w at precisions ``(alpha, lam)``: one Cholesky solve."""
    factor = linalg.cho_factor(alpha * X.T @ X + np.diag(lam))
    sigma = linalg.cho_solve(factor, np.eye(len(lam)))
    return sigma, alpha * sigma @ (X.T @ y)


def _fixed_point_terms(X, y, alpha, lam, h):
    """``(Sigma, mu, gamma, sse, dF / dlog alpha, dF / dlog lambda)`` at precisions ``(alpha, lam)``."""
    sigma, mu = _posterior(X, y, alpha, lam)
    gamma = 1.0 - lam * np.diag(sigma)
    sse = float(np.sum((y - X @ mu) ** 2))
    d_lam = 0.5 * (gamma - lam * mu**2) + h["lambda_1"] - h["lambda_2"] * lam
    d_alpha = 0.5 * (len(y) - gamma.sum() - alpha * sse) + h["alpha_1"] - h["alpha_2"] * alpha
    return sigma, mu, gamma, sse, float(d_alpha), d_lam


def evidence_gradient(X, y, alpha, lam, hyper=None) -> tuple[float, np.ndarray]:
    """``(dF / dlog alpha, dF / dlog lambda)`` of the log evidence with ARD's Gamma hyper-priors
    (module docstring) at precisions ``alpha``, ``lam`` (every column of ``X`` kept)."""
    *_, d_alpha, d_lam = _fixed_point_terms(X, y, alpha, lam, {**HYPER_PRIOR, **(hyper or {})})
    return d_alpha, d_lam


def log_evidence(X, y, alpha, lam, hyper=None) -> float:
    """F (module docstring) computed directly from the marginal covariance
    ``I / alpha + X diag(1 / lam) X'`` of y, without the posterior: the reference the fixed-point
    updates and their gradient are checked against."""
    h = {**HYPER_PRIOR, **(hyper or {})}
    cov = np.eye(len(y)) / alpha + (X / lam) @ X.T
    factor = linalg.cho_factor(cov, lower=True)
    quad = float(y @ linalg.cho_solve(factor, y))
    logdet = 2.0 * float(np.sum(np.log(np.diag(factor[0]))))
    gauss = -0.5 * (quad + logdet + len(y) * np.log(2 * np.pi))
    prior = np.sum(h["lambda_1"] * np.log(lam) - h["lambda_2"] * lam)
    return float(gauss + prior + h["alpha_1"] * np.log(alpha) - h["alpha_2"] * alpha)


def evidence_maximiser(
    X: np.ndarray,
    y: np.ndarray,
    *,
    fit_intercept: bool = True,
    threshold_lambda: float = THRESHOLD_LAMBDA,
    max_iter: int = 100_000,
    hyper: dict[str, float] | None = None,
) -> Evidence:
    """Maximise ARD's log evidence by MacKay's fixed-point updates, certified by its gradient.

    The updates and pruning follow ``ARDRegression.fit`` (same start ``alpha = 1 / var(y)``,
    ``lambda = 1``; same order: posterior, then ``lambda_j = (gamma_j + 2 lambda_1) / (mu_j^2 +
    2 lambda_2)`` and ``alpha = (n - sum gamma + 2 alpha_1) / (sse + 2 alpha_2)``, then pruning),
    but stop on the certificate (:data:`GRADIENT_TOL`) rather than on a change in the coefficients.

    Parameters
    ----------
    X, y : arrays
    fit_intercept : bool
        Centre ``X`` and ``y`` first (the intercept is then ``ybar - xbar' coef``).
    threshold_lambda : float
        Prune a coefficient once its precision reaches this value.
    max_iter : int
    hyper : dict, optional
        ``alpha_1``, ``alpha_2``, ``lambda_1``, ``lambda_2`` (default :data:`HYPER_PRIOR`).

    Returns
    -------
    Evidence
    """
    h = {**HYPER_PRIOR, **(hyper or {})}
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    x_mean = X.mean(axis=0) if fit_intercept else np.zeros(X.shape[1])
    y_mean = float(y.mean()) if fit_intercept else 0.0
    Xc, yc = X - x_mean, y - y_mean
    n, p = Xc.shape
    alpha = 1.0 / (np.var(yc) + np.finfo(float).eps)
    lam = np.ones(p)
    kept = np.ones(p, dtype=bool)
    coef = np.zeros(p)
    gradient, iterations = np.inf, 0
    while iterations < max_iter:
        iterations += 1
        Xk = Xc[:, kept]
        sigma, mu, gamma, sse, d_alpha, d_lam = _fixed_point_terms(Xk, yc, alpha, lam[kept], h)
        coef[:] = 0.0
        coef[kept] = mu
        gradient = max(abs(d_alpha), float(np.max(np.abs(d_lam), initial=0.0)))
        if gradient <= GRADIENT_TOL:
            break
        lam[kept] = (gamma + 2.0 * h["lambda_1"]) / (mu**2 + 2.0 * h["lambda_2"])
        alpha = (n - gamma.sum() + 2.0 * h["alpha_1"]) / (sse + 2.0 * h["alpha_2"])
        kept = lam < threshold_lambda
        if not kept.any():
            sigma, gradient = np.zeros((0, 0)), 0.0
            coef[:] = 0.0
            break
    return Evidence(
        coef=coef.copy(),
        intercept=y_mean - float(x_mean @ coef),
        lambda_=lam.copy(),
        alpha=float(alpha),
        kept=kept.copy(),
        sigma=sigma,
        gradient=float(gradient),
        iterations=iterations,
        converged=bool(gradient <= GRADIENT_TOL),
    )


def _ard_penalty(estimator) -> dict:
    """A fitted ``ARDRegression``'s precisions, the twin's penalty: a pruned coefficient's
    (``lambda_ >= threshold_lambda``, ``coef_ = 0``) is :data:`PRUNED_PRECISION`."""
    lam = np.asarray(estimator.lambda_, dtype=float)
    pruned = lam >= estimator.threshold_lambda
    return {"alpha": float(estimator.alpha_), "lambda": np.where(pruned, PRUNED_PRECISION, lam)}


def conjugate(
    penalty: dict,
    X: np.ndarray,
    y: np.ndarray,
    sample_weight: np.ndarray | None = None,
    noise_sd: float | None = None,
) -> ConjugatePosterior:
    r"""The exact posterior of ``(b0, w)`` at the evidence's precisions.

    ``w_j | sigma ~ Normal(0, sigma sqrt(alpha / lambda_j))``, b0 flat: the ridge with penalty
    ``lambda_j / alpha`` on coefficient j, whose mode is ``ARDRegression``'s ``coef_`` for every
    sigma (a pruned coefficient has precision :data:`PRUNED_PRECISION`: mode and sd ~0). sigma
    fixed (``noise_sd``; ``1 / sqrt(alpha)`` is ARD's own) gives a Normal, sigma unknown
    (``p(sigma) ∝ 1 / sigma``) a Student-t with ``n - 1`` degrees of freedom.

    Parameters
    ----------
    penalty : dict
        ``{"alpha": alpha_, "lambda": lambda_}`` of a fitted ``ARDRegression``.
    X, y : arrays
    sample_weight : None
        Not supported (ARDRegression takes none).
    noise_sd : float, optional
    """
    if sample_weight is not None and np.any(np.asarray(sample_weight) != 1.0):
        raise InputError("ARDRegression takes no sample weights")
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    ratio = np.asarray(penalty["lambda"], dtype=float) / positive(penalty["alpha"], "alpha")
    x_mean, y_mean = X.mean(axis=0), float(y.mean())
    Xc, yc = X - x_mean, y - y_mean
    factor = linalg.cho_factor(Xc.T @ Xc + np.diag(ratio))
    w = linalg.cho_solve(factor, Xc.T @ yc)
    # a pruned coefficient's mode is 0 (the limit lambda -> inf, as ARDRegression's coef_), not the
    # ~1e-100 its finite stand-in precision leaves: with every coefficient pruned, a twin's gap to
    # ARDRegression was 1e-101 / 1e-101 = 100%
    w[np.asarray(penalty["lambda"]) >= PRUNED_PRECISION] = 0.0
    inner = linalg.cho_solve(factor, np.eye(len(ratio)))
    s2, dof = conjugate_noise_scale(
        noise_sd, len(y), lambda: float(np.sum((yc - Xc @ w) ** 2) + np.sum(ratio * w**2))
    )
    return ConjugatePosterior(np.concatenate([[y_mean - x_mean @ w], w]), x_mean, float(len(y)),
                              0.5 * (inner + inner.T), s2, dof)  # fmt: skip


def build_hierarchical(data: ModelData, scale: float | None = None) -> pm.Model:
    r"""Full-Bayes ARD: ``lambda_j ~ Gamma(lambda_shape, lambda_rate)``, ``w_j = z_j / sqrt(lambda_j)``,
    ``z_j ~ Normal(0, 1)``, ``sigma ~ HalfNormal(sd(y))``, flat intercept.

    Parameters
    ----------
    scale : float, optional
        Marginal scale ``sqrt(rate / shape)`` of each ``w_j`` when ``lambda_rate`` is left at its
        default; default :func:`models.ridge.default_tau_scale` (weakly informative, unit-free).
    """
    width = default_tau_scale(data.X, data.y) if scale is None else positive(scale, "ARD scale")
    with pm.Model(coords=coords(data, rows=False)) as model:
        intercept = pm.Flat("intercept")
        shape = pm.Data("lambda_shape", 1.0)
        rate = pm.Data("lambda_rate", width**2)
        sigma = pm.HalfNormal("sigma", float(np.std(data.y)))
        lam = pm.Gamma("lambda", alpha=shape, beta=rate, dims="feature")
        z = pm.Normal("z", 0.0, 1.0, dims="feature")
        w = pm.Deterministic("w", z / pm.math.sqrt(lam), dims="feature")
        normal_likelihood(data, intercept, w, sigma)
    return model


def build(data: ModelData) -> pm.Model:
    """The fixed-precision model whose mode is ARD's at the evidence's precisions: ``w_j ~ Normal(0, prior_sd_j)`` (``pm.Data`` vector
    ``prior_sd``, dims feature), sigma the ``pm.Data`` ``noise_sd``, flat intercept."""
    with pm.Model(coords=coords(data, rows=False)) as model:
        intercept = pm.Flat("intercept")
        sigma = pm.Data("noise_sd", positive(data.noise_sd, "noise sd (sigma)"))
        prior_sd = pm.Data("prior_sd", np.ones(data.n_features), dims="feature")
        w = pm.Normal("w", 0.0, prior_sd, dims="feature")
        normal_likelihood(data, intercept, w, sigma)
    return model


def build_scaled_noise(data: ModelData) -> pm.Model:
    """:func:`build` with sigma free under the Jeffreys prior and ``w_j ~ Normal(0, sigma
    prior_sd_j)``: the mode of w is ARD's for every sigma."""
    with pm.Model(coords=coords(data, rows=False)) as model:
        intercept = pm.Flat("intercept")
        log_sigma = pm.Flat("log_sigma")
        sigma = pm.Deterministic("sigma", pm.math.exp(log_sigma))
        prior_sd = pm.Data("prior_sd", np.ones(data.n_features), dims="feature")
        w = pm.Normal("w", 0.0, sigma * prior_sd, dims="feature")
        normal_likelihood(data, intercept, w, sigma)
    return model


def prior_values(penalty: dict, data: ModelData) -> dict:
    """``prior_sd_j = sigma sqrt(alpha / lambda_j)``: the ridge penalty ``lambda_j / alpha``."""
    ratio = np.asarray(penalty["lambda"], dtype=float) / penalty["alpha"]
    return {"prior_sd": np.broadcast_to(data.noise_sd / np.sqrt(ratio), data.n_features).copy()}


def reference_penalty(data: ModelData) -> dict:
    """The evidence maximum of :func:`evidence_maximiser` (certified): ARDRegression's choice."""
    found = evidence_maximiser(data.X, data.y).certify()
    return {"alpha": found.alpha, "lambda": np.where(found.kept, found.lambda_, PRUNED_PRECISION)}


SPEC = ModelSpec(
    name="ard",
    title="ARD = one precision per coefficient",
    prior="y ~ Normal(b0 + X w, sigma), w_j ~ Normal(0, tau_j), b0 flat",
    likelihood="gaussian",
    build=build,
    likelihood_term="likelihood",
    link=Link(
        objective="evidence (type-II ML) over alpha, lambda_j; then ridge with penalty lambda_j / alpha",
        mapping="prior sd_j = sigma sqrt(alpha / lambda_j)",
        penalty_names=("alpha", "lambda"),
        prior_values=prior_values,
        sklearn=lambda pen, data: linear_model.ARDRegression(tol=1e-12, max_iter=100_000),
        reference_penalty=reference_penalty,
        twins=(
            Twin(
                "sklearn.linear_model.ARDRegression",
                _ard_penalty,
                cv=True,
                settings={"fit_intercept": (True,)},
            ),
        ),
    ),
    closed_form=ClosedForm(build_scaled_noise=build_scaled_noise, conjugate=conjugate),
)

__all__ = [
    "PRUNED_PRECISION",
    "SPEC",
    "Evidence",
    "build",
    "build_hierarchical",
    "build_scaled_noise",
    "conjugate",
    "evidence_gradient",
    "evidence_maximiser",
    "log_evidence",
    "prior_values",
    "reference_penalty",
]
