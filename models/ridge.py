r"""Ridge regression is the MAP of Bayesian linear regression with a Normal prior.

Ridge minimises

    ||y - b0 - X w||^2 + alpha ||w||^2 .

With y ~ Normal(b0 + X w, sigma), w_j ~ Normal(0, tau) and a flat prior on b0, the negative log
posterior is

    ||y - b0 - X w||^2 / (2 sigma^2) + ||w||^2 / (2 tau^2) + const ,

which is the ridge objective divided by 2 sigma^2 when alpha = sigma^2 / tau^2. The two have the
same minimiser; the posterior is Gaussian and known exactly (:func:`conjugate`, computed from
the sufficient statistics; :func:`exact_posterior` is its fixed-sigma case).

Two noise settings: :func:`build` (sigma a known constant, ``pm.Data`` ``noise_sd``; exactly
conjugate) and :func:`build_unknown_noise` (sigma ~ HalfNormal and w | sigma ~ Normal(0, sigma /
sqrt(alpha)); for every sigma the conditional mode of w is Ridge(alpha), so the joint MAP of w is
Ridge(alpha) too, whatever sigma's mode turns out to be).
"""

from __future__ import annotations

import numpy as np

from models.core.arrays import (
    NORMAL_EQUATIONS_MAX_CONDITION,
    normal_equations_condition,
    ridge_posterior,
    ridge_posterior_rows,
)
from models.core.base import (
    ClosedForm,
    ConjugatePosterior,
    Link,
    ModelData,
    ModelSpec,
    Twin,
    coords,
    data_containers,
    positive,
)
from models.core.lazy import lazy
from models.scale.statistics import GaussianStatistics, normal_likelihood

pm = lazy("pymc")
linear_model = lazy("sklearn.linear_model")

OBJECTIVE = "||y - b0 - X w||^2 + alpha ||w||^2"
PRIOR = "y ~ Normal(b0 + X w, sigma), w_j ~ Normal(0, tau), b0 flat"
MAPPING = "alpha = sigma^2 / tau^2"


def alpha_to_prior_sd(alpha: float, noise_sd: float) -> float:
    r"""Prior width tau of the Gaussian prior whose MAP is Ridge(alpha).

    Ridge's objective ``||y - Xw||^2 + alpha ||w||^2`` and the negative log posterior
    ``||y - Xw||^2 / (2 sigma^2) + ||w||^2 / (2 tau^2)`` differ by the factor ``2 sigma^2`` exactly
    when ``alpha = sigma^2 / tau^2``, so ``tau = sigma / sqrt(alpha)``.

    Parameters
    ----------
    alpha : float
        Ridge penalty (> 0).
    noise_sd : float
        Noise standard deviation sigma (> 0).

    Returns
    -------
    float
        The prior standard deviation tau.

    See Also
    --------
    prior_sd_to_alpha : the inverse map.
    """
    return positive(noise_sd, "noise sd (sigma)") / np.sqrt(positive(alpha, "alpha"))


def prior_sd_to_alpha(prior_sd: float, noise_sd: float) -> float:
    r"""Ridge penalty equivalent to the prior ``w ~ Normal(0, tau)``: ``alpha = sigma^2 / tau^2``.

    Parameters
    ----------
    prior_sd : float
        Prior width tau (> 0).
    noise_sd : float
        Noise standard deviation sigma (> 0).

    Returns
    -------
    float
        The ridge penalty alpha.
    """
    return (positive(noise_sd, "noise sd (sigma)") / positive(prior_sd, "prior sd (tau)")) ** 2


def build(data: ModelData) -> pm.Model:
    """Bayesian linear regression with a Normal prior on the weights and sigma fixed.

    The likelihood is written in the sufficient statistics (:func:`models.scale.statistics.normal_likelihood`):
    O(p^2) per gradient whatever n. ``pm.Data`` containers: ``noise_sd`` (sigma, from
    ``data.noise_sd``), ``prior_sd`` (tau) and the statistics.
    """
    with pm.Model(coords=coords(data, rows=False)) as model:
        intercept = pm.Flat("intercept")
        sigma = pm.Data("noise_sd", positive(data.noise_sd, "noise sd (sigma)"))
        prior_sd = pm.Data("prior_sd", 1.0)
        w = pm.Normal("w", 0.0, prior_sd, dims="feature")
        normal_likelihood(data, intercept, w, sigma)
    return model


def build_rows(data: ModelData) -> pm.Model:
    """:func:`build` with the likelihood row by row, ``pm.Normal("y", ..., observed=y)``: O(n p)
    per gradient. The reference the statistics model is proved equal to (and timed against)."""
    with pm.Model(coords=coords(data)) as model:
        X_data, y_data = data_containers(data)
        intercept = pm.Flat("intercept")
        sigma = pm.Data("noise_sd", positive(data.noise_sd, "noise sd (sigma)"))
        prior_sd = pm.Data("prior_sd", 1.0)
        w = pm.Normal("w", 0.0, prior_sd, dims="feature")
        pm.Normal("y", intercept + X_data @ w, sigma, observed=y_data, dims="obs")
    return model


def build_unknown_noise(data: ModelData, noise_prior_sd: float | None = None) -> pm.Model:
    """Ridge with sigma unknown: ``sigma ~ HalfNormal``, ``w | sigma ~ Normal(0, sigma / sqrt(alpha))``.

    For every sigma the conditional mode of w is Ridge(alpha), so the joint MAP of w is Ridge(alpha)
    too. ``pm.Data`` ``alpha``.

    Parameters
    ----------
    noise_prior_sd : float, optional
        Scale of sigma's HalfNormal prior; default the standard deviation of ``y``.
    """
    scale = float(np.std(data.y)) if noise_prior_sd is None else noise_prior_sd
    with pm.Model(coords=coords(data, rows=False)) as model:
        intercept = pm.Flat("intercept")
        alpha = pm.Data("alpha", 1.0)
        sigma = pm.HalfNormal("sigma", positive(scale, "noise prior sd"))
        w = pm.Normal("w", 0.0, sigma / pm.math.sqrt(alpha), dims="feature")
        normal_likelihood(data, intercept, w, sigma)
    return model


def build_scaled_noise(data: ModelData) -> pm.Model:
    r"""Ridge with sigma unknown under the Jeffreys prior: the Bayesian twin's default model.

    ``p(sigma) ∝ 1 / sigma`` (flat ``log_sigma``), ``w | sigma ~ Normal(0, sigma * prior_sd)`` with
    ``pm.Data`` ``prior_sd`` = ``1 / sqrt(alpha)`` (tau at sigma = 1), flat intercept. For every
    sigma the conditional mode of w is Ridge(alpha), and the posterior of ``(b0, w)`` is exactly
    the multivariate Student-t of :func:`conjugate`.
    """
    with pm.Model(coords=coords(data, rows=False)) as model:
        intercept = pm.Flat("intercept")
        log_sigma = pm.Flat("log_sigma")
        sigma = pm.Deterministic("sigma", pm.math.exp(log_sigma))
        prior_sd = pm.Data("prior_sd", 1.0)
        w = pm.Normal("w", 0.0, sigma * prior_sd, dims="feature")
        normal_likelihood(data, intercept, w, sigma)
    return model


def conjugate(
    penalty: dict[str, float],
    X: np.ndarray,
    y: np.ndarray,
    sample_weight: np.ndarray | None = None,
    noise_sd: float | None = None,
) -> ConjugatePosterior:
    r"""The exact posterior of ``(b0, w)`` whose mode is ``Ridge(alpha).fit(X, y, sample_weight)``.

    Observation i has noise variance ``sigma^2 / weight_i`` (scikit-learn's weighted objective
    ``sum_i weight_i (y_i - b0 - x_i w)^2 + alpha ||w||^2``), ``w | sigma ~ Normal(0, sigma /
    sqrt(alpha))`` and b0 flat. With ``Z = [1, X]``, ``W = diag(weight)`` and
    ``M = Z'WZ + diag(0, alpha, ..., alpha)``, the mode is ``M^{-1} Z'Wy`` and

    * sigma fixed: ``(b0, w) | y ~ Normal(mode, sigma^2 M^{-1})``;
    * sigma unknown, ``p(sigma) ∝ 1 / sigma``: ``(b0, w) | y ~ t_nu(mode, (S / nu) M^{-1})`` with
      ``S = sum_i weight_i r_i^2 + alpha ||w||^2`` at the mode and ``nu = n_+ - 1`` (rows of positive
      weight), and ``sigma^2 | y ~ InvGamma(nu / 2, S / 2)``.

    Computed from the weighted sufficient statistics (:class:`models.scale.statistics.GaussianStatistics`)
    by :func:`models.core.arrays.ridge_posterior` (a Cholesky solve, O(p^3)), or from the rows by
    :func:`models.core.arrays.ridge_posterior_rows` (through their SVD): the same posterior. The
    rows are taken with fewer rows than columns (the dual solve, O(n^2 p) for the mode), and when
    ``C_xx + alpha I`` is ill-conditioned (:data:`~models.core.arrays.NORMAL_EQUATIONS_MAX_CONDITION`:
    nearly collinear columns at a small alpha), where the Cholesky solve loses about
    ``cond x eps`` relative and the SVD about ``sqrt(cond) x eps``.

    Parameters
    ----------
    penalty : dict
        ``{"alpha": alpha}``.
    X, y : arrays
    sample_weight : array, optional
        Non-negative precision weights (default all ones).
    noise_sd : float, optional
        Fixed sigma; None for sigma unknown.
    """
    X = np.asarray(X, dtype=float)
    if X.shape[1] > X.shape[0]:
        return ridge_posterior_rows(penalty["alpha"], noise_sd, X=X, y=y, weight=sample_weight)
    summary = GaussianStatistics.from_arrays(X, y, sample_weight)
    alpha = positive(penalty["alpha"], "alpha")
    if normal_equations_condition(summary.xx, alpha) > NORMAL_EQUATIONS_MAX_CONDITION:
        return ridge_posterior_rows(alpha, noise_sd, X=X, y=y, weight=sample_weight)
    return ridge_posterior(alpha, noise_sd, **vars(summary))  # the condition is checked above


def exact_mode(penalty: dict[str, float], data: ModelData) -> tuple[float, np.ndarray]:
    """``Ridge(alpha)``'s intercept and coefficients in closed form: :func:`conjugate` of the rows
    (the dual solve when there are fewer rows than columns), or the statistics of data that arrive
    summarised."""
    if data.stats is not None:
        return data.stats.ridge_mode(penalty["alpha"])
    mode = conjugate(penalty, data.X, data.y, None, 1.0).mean
    return float(mode[0]), mode[1:]


def default_tau_scale(X: np.ndarray, y: np.ndarray) -> float:
    """Scale of tau's half-Cauchy prior: the coefficient size that moves y by one sd when a feature
    moves by one sd, ``sd(y) / mean_j sd(x_j)``: weakly informative and unit-free."""
    return float(np.std(y) / np.mean(np.std(X, axis=0)))


def build_hierarchical(data: ModelData, tau_scale: float | None = None) -> pm.Model:
    r"""Full Bayes for the ridge penalty: the prior width tau is learned, and with it alpha.

    ``w_j | tau ~ Normal(0, tau)``, ``tau ~ HalfCauchy(tau_scale)``, ``sigma ~ HalfNormal(sd(y))``,
    flat intercept. The ridge penalty the data imply is the deterministic
    ``alpha = sigma^2 / tau^2`` (also stored as ``log10_alpha``).

    Parameters
    ----------
    tau_scale : float, optional
        Scale of tau's prior; default :func:`default_tau_scale`.
    """
    scale = default_tau_scale(data.X, data.y) if tau_scale is None else tau_scale
    with pm.Model(coords=coords(data, rows=False)) as model:
        intercept = pm.Flat("intercept")
        sigma = pm.HalfNormal("sigma", float(np.std(data.y)))
        tau = pm.HalfCauchy("tau", positive(scale, "tau prior scale"))
        w = pm.Normal("w", 0.0, tau, dims="feature")
        alpha = pm.Deterministic("alpha", sigma**2 / tau**2)
        pm.Deterministic("log10_alpha", pm.math.log(alpha) / np.log(10))
        normal_likelihood(data, intercept, w, sigma)
    return model


def predictive(
    X: np.ndarray, mean: np.ndarray, cov: np.ndarray, noise_sd: float
) -> tuple[np.ndarray, np.ndarray]:
    r"""The exact predictive of new rows under a Gaussian posterior ``(mean, cov)`` of ``(b0, w)``
    (e.g. :func:`exact_posterior`): ``y* ~ Normal(z' mean, sigma^2 + z' cov z)``, ``z = (1, x)``.

    Returns
    -------
    centre, sd : arrays (rows,)
        ``z' mean`` (Ridge's prediction when ``mean`` is its mode) and the predictive sd.
    """
    Z = np.column_stack([np.ones(len(X)), X])
    return Z @ mean, np.sqrt(noise_sd**2 + np.sum((Z @ cov) * Z, axis=1))


LEVERAGE_MAX = 1 - 1e-8  # above it, the computed 1 - h_i has fewer than 8 correct digits


class LeverageRoundsToOne(ValueError):
    """A row's posterior leverage above :data:`LEVERAGE_MAX`: its leave-one-out predictive is
    lost to rounding (:func:`loo_predictive`)."""


def loo_predictive(
    X: np.ndarray, y: np.ndarray, mean: np.ndarray, cov: np.ndarray, noise_sd: float
) -> tuple[np.ndarray, np.ndarray]:
    r"""Each row's exact leave-one-out predictive under the fixed-sigma Gaussian posterior
    ``(mean, cov)`` of ``(b0, w)`` fitted to all rows (:func:`exact_posterior`), without refitting.

    Leaving row ``i`` out takes ``z_i z_i' / sigma^2`` off the posterior precision (``z = (1, x)``);
    with the posterior leverage ``h_i = z_i' cov z_i / sigma^2`` the rank-one downdate gives

        y_i | y_{-i} ~ Normal(y_i - r_i / (1 - h_i),  sigma^2 / (1 - h_i)),   r_i = y_i - z_i' mean,

    the Gaussian case of the leave-one-out residual ``r_i / (1 - h_i)``. Exact for any prior
    precision (the flat intercept included) while the posterior without row ``i`` is proper
    (``h_i < 1``). Computed, ``1 - h_i`` carries an absolute rounding error of a few 1e-16, so a
    leverage above :data:`LEVERAGE_MAX` (a row that all but pins a coefficient) raises
    :class:`LeverageRoundsToOne` instead of returning a predictive with fewer than 8 correct
    digits.

    Returns
    -------
    centre, sd : arrays (rows,)
        The mean and sd of each row's leave-one-out predictive.
    """
    Z = np.column_stack([np.ones(len(X)), X])
    leverage = posterior_leverage(Z, cov, noise_sd)
    residual = y - Z @ mean
    return y - residual / (1 - leverage), noise_sd / np.sqrt(1 - leverage)


def posterior_leverage(Z: np.ndarray, cov: np.ndarray, noise_sd: float) -> np.ndarray:
    """Each row's posterior leverage ``h_i = z_i' cov z_i / sigma^2`` (rows ``z_i`` of ``Z = [1, X]``),
    checked: above :data:`LEVERAGE_MAX` raises :class:`LeverageRoundsToOne`, since ``1 - h_i``
    then has fewer than 8 correct digits (what every leave-one-out downdate divides by)."""
    leverage = np.sum((Z @ cov) * Z, axis=1) / noise_sd**2
    if np.any(leverage > LEVERAGE_MAX):
        raise LeverageRoundsToOne(f"a row's leverage {np.max(leverage):.17g} rounds to 1: its "
                                  "leave-one-out predictive is lost to rounding")  # fmt: skip
    return leverage


def exact_posterior(
    X: np.ndarray, y: np.ndarray, prior_sd: float, noise_sd: float
) -> tuple[np.ndarray, np.ndarray]:
    r"""Exact Gaussian posterior of ``(b0, w)`` for the fixed-sigma model (flat prior on b0).

    With ``Z = [1, X]`` and prior precision ``D = diag(0, 1/tau^2, ..., 1/tau^2)``:

        Sigma_post = (Z'Z / sigma^2 + D)^{-1},    mu_post = Sigma_post Z'y / sigma^2 ,

    that is :func:`conjugate` at ``alpha = sigma^2 / tau^2`` with sigma fixed.

    Parameters
    ----------
    X, y : arrays
        Design and target.
    prior_sd, noise_sd : float
        tau and sigma.

    Returns
    -------
    mean : array (p + 1,)
        Posterior mean (= mode), intercept first.
    cov : array (p + 1, p + 1)
        Posterior covariance.
    """
    post = conjugate({"alpha": prior_sd_to_alpha(prior_sd, noise_sd)}, X, y, None, noise_sd)
    return post.mean, post.covariance()


def ridge_alpha(alpha) -> float:
    """Ridge's ``alpha`` as one number: the twin models one target with one penalty.

    Raises
    ------
    ValueError
        For per-target alphas (an array of more than one value).
    """
    values = np.asarray(alpha, dtype=float)
    if values.size != 1:
        raise ValueError(
            f"Ridge(alpha=<array of shape {values.shape}>): per-target alphas are not supported "
            "by the Bayesian twin, which fits one target with one alpha"
        )
    return float(values.item())


ALPHA_GRID = np.geomspace(1e-4, 1e6, 31)  # the ridge experiment's grid and RidgeCV's candidates


def reference_penalty(data: ModelData) -> dict[str, float]:
    """RidgeCV's efficient leave-one-out choice over 31 alphas in [1e-4, 1e6].

    The suite's one cross-validated ridge alpha (:data:`ALPHA_GRID`): every experiment uses it.
    """
    return {"alpha": float(linear_model.RidgeCV(alphas=ALPHA_GRID).fit(data.X, data.y).alpha_)}


SPEC = ModelSpec(
    name="ridge",
    title="Ridge = Normal prior",
    prior=PRIOR,
    likelihood="gaussian",
    build=build,
    likelihood_term="likelihood",
    link=Link(
        objective=OBJECTIVE,
        mapping=MAPPING,
        penalty_names=("alpha",),
        prior_values=lambda pen, data: {"prior_sd": alpha_to_prior_sd(pen["alpha"], data.noise_sd)},
        sklearn=lambda pen, data: linear_model.Ridge(alpha=pen["alpha"], solver="cholesky"),
        penalty_grid=lambda data, n: [{"alpha": float(a)} for a in np.geomspace(1e-4, 1e6, n)],
        reference_penalty=reference_penalty,
        penalty_from_prior=lambda values, data: {
            "alpha": prior_sd_to_alpha(values["prior_sd"], data.noise_sd)
        },
        twins=(
            Twin(
                "sklearn.linear_model.Ridge",
                lambda est: {"alpha": ridge_alpha(est.alpha)},
                settings={"fit_intercept": (True,), "positive": (False,)},
            ),
            Twin(
                "sklearn.linear_model.RidgeCV",
                lambda est: {"alpha": float(est.alpha_)},
                cv=True,
                settings={"fit_intercept": (True,), "alpha_per_target": (False,)},
            ),
        ),
    ),
    closed_form=ClosedForm(
        exact_mode=exact_mode,
        exact_posterior=lambda values, data: exact_posterior(
            data.X, data.y, values["prior_sd"], data.noise_sd
        ),
        build_scaled_noise=build_scaled_noise,
        conjugate=conjugate,
    ),
)

__all__ = [
    "ALPHA_GRID",
    "SPEC",
    "alpha_to_prior_sd",
    "build",
    "build_hierarchical",
    "build_rows",
    "build_scaled_noise",
    "build_unknown_noise",
    "conjugate",
    "default_tau_scale",
    "exact_mode",
    "exact_posterior",
    "LEVERAGE_MAX",
    "LeverageRoundsToOne",
    "loo_predictive",
    "posterior_leverage",
    "predictive",
    "prior_sd_to_alpha",
]
