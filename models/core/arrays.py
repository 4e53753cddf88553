r"""The array maths of the suite, written once: plain NumPy in, NumPy out.

The layers above (the DataTree helpers of :mod:`models.scale.statistics`, the scikit-learn twin
:mod:`models.twin.estimator`, the experiments) name variables, pick draws out of a posterior and
shape the result; the formulas themselves live here, as ArviZ keeps its array functions
(``arviz_stats.base``) apart from its xarray and user layers.

* :func:`ridge_posterior`: the exact posterior of ``(b0, w)`` under a Gaussian likelihood and the
  prior ``w | sigma ~ Normal(0, sigma / sqrt(alpha))``, from the sufficient statistics, by Cholesky;
  :func:`ridge_posterior_rows` is the same posterior from the rows through their SVD, O(n^2 p) for
  the mode when there are fewer rows than columns (the dual solve).
* :func:`linear_predictor_chunks`: ``b0 + X w`` for every posterior draw, in row chunks of at most
  :data:`CHUNK_DRAWS_X_ROWS` numbers.
* :func:`pointwise_log_likelihood`: ``log p(y_i | eta_i)`` for any registered observation family
  (:mod:`models.core.families`); :func:`draws_log_likelihood` evaluates it over draws and rows, chunk by chunk.
* :func:`laplace_covariance`: ``H^-1`` of a negative log posterior's Hessian at a mode, certified
  positive definite to working precision first (:class:`SingularHessian` otherwise);
  :func:`normal_draws` draws from it by Cholesky, so a covariance that is not one raises.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator

import numpy as np

from models.core.base import ConjugatePosterior, InputError, positive
from models.core.families import FAMILIES
from models.core.lazy import lazy

linalg = lazy("scipy.linalg")
distributions = lazy("scipy.stats")

CHUNK_DRAWS_X_ROWS = 2_000_000  # draws x rows evaluated at once (16 MB of float64)
# Up to this many draws x rows, the pointwise groups (log_likelihood, replicated data) are saved
# with a posterior (160 MB of float64), so az.loo and predictive checks work on the saved file.
SAVED_DRAWS_X_ROWS = 20_000_000


# cond(C_xx + alpha I) above which the normal equations' Cholesky solve is not used on rows: its
# error bound, cond x eps = 2.2e-10 relative, is then within 50x of the suite's 1e-8 agreement
# with scikit-learn (the rows' SVD loses only about sqrt(cond) x eps)
NORMAL_EQUATIONS_MAX_CONDITION = 1e6


def normal_equations_condition(xx: np.ndarray, alpha: float) -> float:
    """The condition number of ``C_xx + alpha I`` (``C_xx`` symmetric positive semi-definite),
    from its eigenvalues: a Cholesky solve of it loses about ``log10`` of this many digits."""
    eigenvalues = np.linalg.eigvalsh(xx)
    return float((max(eigenvalues[-1], 0.0) + alpha) / (max(eigenvalues[0], 0.0) + alpha))


def warn_if_ill_conditioned(xx: np.ndarray, alpha: float) -> None:
    """A ``scipy.linalg.LinAlgWarning`` with the error bound when ``cond(C_xx + alpha I)`` exceeds
    :data:`NORMAL_EQUATIONS_MAX_CONDITION` and only the statistics are at hand (from the rows,
    :func:`models.ridge.conjugate` takes their SVD instead)."""
    condition = normal_equations_condition(xx, alpha)
    if condition > NORMAL_EQUATIONS_MAX_CONDITION:
        warnings.warn(
            f"the ridge normal equations are ill-conditioned (condition {condition:.2g} of "
            f"C_xx + alpha I): the exact posterior is accurate to about "
            f"{condition * np.finfo(float).eps:.1g} relative; from the rows, the SVD route "
            "(models.ridge.conjugate) is accurate",
            linalg.LinAlgWarning,
            stacklevel=3,
        )


def ridge_posterior(
    alpha: float,
    noise_sd: float | None = None,
    *,
    n: int,
    weight_total: float,
    x_mean: np.ndarray,
    y_mean: float,
    xx: np.ndarray,
    xy: np.ndarray,
    yy: float,
) -> ConjugatePosterior:
    r"""The exact posterior of ``beta = (b0, w)`` whose mode is ``Ridge(alpha)``.

    Model: observation i has noise variance ``sigma^2 / weight_i``, ``w | sigma ~ Normal(0, sigma /
    sqrt(alpha))`` and b0 flat. In the statistics of the weighted-centred rows (``C_xx = Xc'W Xc``,
    ``C_xy = Xc'W yc``, ``C_yy = yc'W yc``) the mode solves

        (C_xx + alpha I) w = C_xy ,    b0 = ybar - xbar'w ,

    by one Cholesky factorisation, which also gives ``(C_xx + alpha I)^{-1}``, the block of
    ``M^{-1}`` (``M = Z'WZ + diag(0, alpha, ..., alpha)``, ``Z = [1, X]``) that belongs to w; the
    centred intercept ``c = b0 + xbar'w`` is independent of w with ``Var(c) ∝ 1 / weight_total``.

    * sigma fixed: ``beta | y ~ Normal(mode, sigma^2 M^{-1})``.
    * sigma unknown, ``p(sigma) ∝ 1 / sigma``: ``beta | y ~ t_nu(mode, (S / nu) M^{-1})`` with
      ``S = C_yy - w'C_xy`` at the mode (the penalised residual sum of squares,
      ``sum_i weight_i r_i^2 + alpha ||w||^2``) and ``nu = n - 1``; ``sigma^2 | y ~ InvGamma(nu / 2,
      S / 2)``.

    Parameters
    ----------
    alpha : float
        Ridge penalty (> 0).
    noise_sd : float, optional
        Fixed sigma; None for sigma unknown.
    n : int
        Rows of positive weight.
    weight_total, x_mean, y_mean, xx, xy, yy
        Sum of the weights, weighted means, ``C_xx`` (p, p), ``C_xy`` (p,), ``C_yy``.

    Returns
    -------
    ConjugatePosterior

    Raises
    ------
    InputError
        sigma unknown with fewer than 2 rows or a target fitted exactly (``S = 0``).

    Its accuracy is about ``cond(C_xx + alpha I) x eps`` relative: callers check the condition
    first (:func:`normal_equations_condition`).
    """
    alpha = positive(alpha, "alpha")
    factor = linalg.cho_factor(xx + alpha * np.eye(len(x_mean)))
    w = linalg.cho_solve(factor, xy)
    b0 = y_mean - x_mean @ w
    inner = linalg.cho_solve(factor, np.eye(len(x_mean)))
    s2, dof = conjugate_noise_scale(noise_sd, n, lambda: float(yy - w @ xy))
    return ConjugatePosterior(np.concatenate([[b0], w]), x_mean, weight_total,
                              0.5 * (inner + inner.T), s2, dof)  # fmt: skip


def ridge_posterior_rows(
    alpha: float,
    noise_sd: float | None = None,
    *,
    X: np.ndarray,
    y: np.ndarray,
    weight: np.ndarray | None = None,
) -> ConjugatePosterior:
    r""":func:`ridge_posterior` computed from the rows through the thin SVD of the weighted-centred
    design, never forming ``C_xx`` (p x p) or factorising it.

    With ``W^{1/2} Xc = U diag(s) V'`` (k = min(n, p) singular values) and ``u = U' W^{1/2} yc``:

        w = V diag(s / (s^2 + alpha)) u ,
        (C_xx + alpha I)^{-1} = I / alpha + V diag(1 / (s^2 + alpha) - 1 / alpha) V' ,

    the dual solve ``w = Xc'(Xc Xc' + alpha I)^{-1} yc`` in the SVD's basis: O(n^2 p) for the mode
    when ``p > n`` (against O(p^3) for the Cholesky solve of :func:`ridge_posterior`), and O(n p^2)
    for the covariance, which is p x p whatever the route. ``S`` (sigma unknown) is the penalised
    residual sum of squares ``||W^{1/2}(yc - Xc w)||^2 + alpha ||w||^2``, equal to ``C_yy - w'C_xy``
    at the mode.

    Parameters
    ----------
    alpha : float
        Ridge penalty (> 0).
    noise_sd : float, optional
        Fixed sigma; None for sigma unknown.
    X : array (n, p)
    y : array (n,)
    weight : array (n,), optional
        Non-negative precision weights (default all ones).

    Returns
    -------
    ConjugatePosterior

    Raises
    ------
    InputError
        As :func:`ridge_posterior`.
    """
    alpha = positive(alpha, "alpha")
    X, y = np.asarray(X, dtype=float), np.asarray(y, dtype=float)
    weight = np.ones(len(y)) if weight is None else np.asarray(weight, dtype=float)
    weight_total = float(weight.sum())
    x_mean, y_mean = weight @ X / weight_total, float(weight @ y / weight_total)
    root = np.sqrt(weight)
    design, target = (X - x_mean) * root[:, None], (y - y_mean) * root
    left, singular, right_t = np.linalg.svd(design, full_matrices=False)
    w = right_t.T @ (singular / (singular**2 + alpha) * (left.T @ target))
    b0 = y_mean - x_mean @ w
    inner = (right_t.T * (1.0 / (singular**2 + alpha) - 1.0 / alpha)) @ right_t
    inner[np.diag_indices_from(inner)] += 1.0 / alpha
    residual = target - design @ w
    s2, dof = conjugate_noise_scale(
        noise_sd, int(np.count_nonzero(weight)), lambda: float(residual @ residual + alpha * w @ w)
    )
    # the complement of V's span (more columns than rows) has curvature alpha alone
    complement = 1.0 / alpha if len(singular) < X.shape[1] else 0.0
    spectrum = (right_t.T, 1.0 / (singular**2 + alpha), complement)
    return ConjugatePosterior(np.concatenate([[b0], w]), x_mean, weight_total,
                              0.5 * (inner + inner.T), s2, dof, spectrum)  # fmt: skip


def conjugate_noise_scale(
    noise_sd: float | None, n: int, penalised_rss: Callable[[], float]
) -> tuple[float, float]:
    """``(s2, dof)`` of :class:`ConjugatePosterior`: sigma^2 and infinity for a fixed sigma, else
    ``S / (n - 1)`` and ``n - 1`` with ``S = penalised_rss()`` (Jeffreys prior on sigma)."""
    if noise_sd is not None:
        return positive(noise_sd, "noise sd (sigma)") ** 2, np.inf
    dof = float(n) - 1.0
    S = penalised_rss() if dof >= 1 else 0.0
    if dof < 1 or not S > 0:
        raise InputError(
            "sigma unknown needs at least 2 weighted rows and a target that is not "
            "fitted exactly; pass a fixed noise sd instead"
        )
    return S / dof, dof


def linear_predictor_chunks(
    intercept: np.ndarray, w: np.ndarray, X: np.ndarray, max_numbers: int = CHUNK_DRAWS_X_ROWS
) -> Iterator[tuple[slice, np.ndarray]]:
    r"""The linear predictor ``eta_si = b0_s + x_i'w_s`` of every draw s and row i, in row chunks.

    A softmax model's weights ``(draws, K, p)`` and intercepts ``(draws, K)`` give ``eta_sik =
    b_sk + x_i'w_sk``, shape ``(draws, len(rows), K)``.

    Parameters
    ----------
    intercept : array (draws,) or (draws, K)
        ``b0`` per draw (zeros for a model without intercept).
    w : array (draws, p) or (draws, K, p)
        Coefficients per draw.
    X : array (rows, p)
    max_numbers : int
        At most this many draws x rows per chunk (at least one row).

    Yields
    ------
    rows : slice
        The rows of ``X`` in this chunk.
    eta : array (draws, len(rows)) or (draws, len(rows), K)
    """
    step = max(1, max_numbers // (len(w) * (w.shape[1] if w.ndim == 3 else 1)))
    for start in range(0, X.shape[0], step):
        rows = slice(start, start + step)
        if w.ndim == 3:
            yield rows, intercept[:, None, :] + np.einsum("skp,np->snk", w, X[rows])
        else:
            yield rows, intercept[:, None] + w @ X[rows].T


def pointwise_log_likelihood(
    kind: str,
    eta: np.ndarray,
    y: np.ndarray,
    sigma: float | np.ndarray | None = None,
    weight: np.ndarray | None = None,
    **parameters: float,
) -> np.ndarray:
    r"""``log p(y_i | eta_i)`` elementwise, rows on the last axis: the density of the family
    ``kind`` (:data:`models.core.families.FAMILIES`), e.g.

    * ``"gaussian"``: ``y_i ~ Normal(eta_i, sigma / sqrt(weight_i))``, ``log p = -(y_i - eta_i)^2
      weight_i / (2 sigma^2) - log(sigma / sqrt(weight_i)) - log(2 pi) / 2``
      (:func:`scipy.stats.norm.logpdf`). A row of weight 0 has no density: NaN.
    * ``"bernoulli"``: ``y_i ~ Bernoulli(p_i)``, ``logit(p_i) = eta_i``, in the stable form
      ``log p = -log(1 + e^{-eta})`` for ``y = 1`` and ``log(1 - p) = -log(1 + e^{eta})`` for
      ``y = 0`` (``np.logaddexp``): exact even where ``p`` rounds to 0 or 1.

    Parameters
    ----------
    kind : str
        The family's name.
    eta : array (..., rows)
        Linear predictor (the mean, or the logit).
    y : array (rows,)
        Observations (0 or 1 for a Bernoulli).
    sigma : float or array, optional
        The family's dispersion (the Gaussian noise sd): a number or one per leading index of
        ``eta`` (e.g. per draw); None for a family without one.
    weight : array (rows,), optional
        Gaussian precision weights (default all ones).
    **parameters : float
        The family's shape parameters (``Family.parameters``: the asymmetric Laplace's quantile).

    Returns
    -------
    array, the shape of ``eta``
    """
    if kind not in FAMILIES:
        raise ValueError(f"kind must be one of {', '.join(FAMILIES)}; got {kind!r}")
    if weight is None:
        return FAMILIES[kind].log_density(eta, y, sigma, **parameters)
    if kind != "gaussian":
        raise ValueError("precision weights apply to a Gaussian likelihood only")
    if sigma is None:
        raise ValueError("a gaussian likelihood needs its noise sd sigma")
    scale = np.expand_dims(np.asarray(sigma, dtype=float), -1)
    scale = scale / np.sqrt(np.where(weight > 0, weight, np.inf))
    return distributions.norm.logpdf(y, eta, scale)


def draws_log_likelihood(
    kind: str,
    intercept: np.ndarray,
    w: np.ndarray,
    X: np.ndarray,
    y: np.ndarray,
    sigma: float | np.ndarray | None = None,
    weight: np.ndarray | None = None,
    **parameters: float,
) -> np.ndarray:
    """:func:`pointwise_log_likelihood` for every draw and row, computed in row chunks
    (:func:`linear_predictor_chunks`).

    Parameters
    ----------
    kind : str
        The family's name.
    intercept : array (draws,) or (draws, K)
    w : array (draws, p) or (draws, K, p)
        (a softmax model's: :func:`linear_predictor_chunks`)
    X : array (rows, p)
    y : array (rows,)
    sigma : float or array (draws,), optional
        Gaussian noise sd.
    weight : array (rows,), optional
        Gaussian precision weights.
    **parameters : float
        The family's shape parameters.

    Returns
    -------
    array (draws, rows)
    """
    out = np.empty((len(w), len(y)))
    for rows, eta in linear_predictor_chunks(intercept, w, X):
        out[:, rows] = pointwise_log_likelihood(
            kind, eta, y[rows], sigma, None if weight is None else weight[rows], **parameters
        )
    return out


class SingularHessian(np.linalg.LinAlgError):
    """The Hessian at a mode is not positive definite to working precision: a flat or downward
    direction, where the Laplace approximation ``Normal(mode, H^-1)`` does not exist."""


def laplace_covariance(hessian: np.ndarray) -> np.ndarray:
    r"""The Laplace approximation's covariance ``H^{-1}``, after certifying that ``H`` is positive
    definite to working precision.

    ``H`` (symmetrised) is first scaled to unit diagonal, ``S = D^{-1/2} H D^{-1/2}`` with
    ``D = diag(H)``, so that a column's units do not decide (a coefficient of a feature in
    millimetres and one in kilometres have curvatures 1e12 apart, and an unscaled test refused
    such a proper posterior). ``H`` is certified when every ``D_jj > 0`` and the smallest
    eigenvalue of ``S`` exceeds ``d eps max|lambda(S)|``, the tolerance below which NumPy's
    ``matrix_rank`` calls a direction singular: below it the rounding of ``H`` alone can flip the
    sign of that curvature, and ``H^{-1}`` has entries with no meaning (a flat bias gave
    covariance eigenvalues of ``+-1e38`` that a Normal draw would have used). Then
    ``H^{-1} = D^{-1/2} S^{-1} D^{-1/2}``, whose accuracy depends on the condition of ``S``, not
    of ``H`` (van der Sluis: the unit diagonal is within a factor ``d`` of the best scaling).

    Parameters
    ----------
    hessian : array (d, d)
        Second derivatives of the negative log posterior at the mode.

    Returns
    -------
    array (d, d)
        ``H^{-1}``, symmetric.

    Raises
    ------
    SingularHessian
        When a diagonal curvature is not positive, or the smallest eigenvalue of ``S`` is at or
        below the tolerance (one line naming them).
    """
    hessian = np.asarray(hessian, dtype=float)
    if not np.all(np.isfinite(hessian)):
        raise SingularHessian(
            "the Hessian at the mode has non-finite entries: no Laplace approximation"
        )
    hessian = 0.5 * (hessian + hessian.T)
    diagonal = np.diag(hessian)
    if not np.all(diagonal > 0):
        raise SingularHessian(
            f"the Hessian at the mode is not positive definite (curvature {diagonal.min():.3g} "
            f"along parameter {int(np.argmin(diagonal))}): a flat or downward direction, where "
            "the Laplace approximation does not exist"
        )
    scale = 1.0 / np.sqrt(diagonal)
    scaled = hessian * scale[:, None] * scale[None, :]
    eigenvalues = np.linalg.eigvalsh(scaled)
    tolerance = len(scaled) * np.finfo(float).eps * np.max(np.abs(eigenvalues))
    if not eigenvalues[0] > tolerance:
        raise SingularHessian(
            f"the Hessian at the mode is not positive definite to working precision (scaled to "
            f"unit diagonal: smallest eigenvalue {eigenvalues[0]:.3g}, largest "
            f"{eigenvalues[-1]:.3g}, tolerance {tolerance:.1g}): a flat or downward direction, "
            "where the Laplace approximation does not exist"
        )
    cov = np.linalg.inv(scaled) * scale[:, None] * scale[None, :]
    return 0.5 * (cov + cov.T)


def normal_draws(
    rng: np.random.Generator, mean: np.ndarray, cov: np.ndarray, size: int
) -> np.ndarray:
    """``size`` draws of ``Normal(mean, cov)``, ``mean + L z`` with ``L`` the Cholesky factor of
    ``cov``: a covariance that is not positive definite raises ``numpy.linalg.LinAlgError``, where
    NumPy's default (an SVD) only warns and draws from another covariance."""
    return rng.multivariate_normal(mean, cov, size, method="cholesky")


__all__ = [
    "CHUNK_DRAWS_X_ROWS",
    "SAVED_DRAWS_X_ROWS",
    "SingularHessian",
    "conjugate_noise_scale",
    "draws_log_likelihood",
    "laplace_covariance",
    "NORMAL_EQUATIONS_MAX_CONDITION",
    "linear_predictor_chunks",
    "normal_draws",
    "normal_equations_condition",
    "warn_if_ill_conditioned",
    "pointwise_log_likelihood",
    "ridge_posterior",
    "ridge_posterior_rows",
]
