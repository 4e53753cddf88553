"""PSIS-LOO over many posteriors at once: ArviZ's Pareto-smoothed importance sampling, vectorised.

``az.loo`` smooths each observation's importance weights in a Python loop (a generalised Pareto
fit per row, ~1-7 ms each): a curve of PSIS-LOO over a grid of 29 penalties on 442 rows made the
lambda page wait ~30-110 s. :func:`psis_loo` does the same arithmetic (ArviZ 1.x's
``_psislw``, ``_gpdfit`` and ``_gpinv``, Vehtari et al. 2024) on whole arrays, for every leading
axis at once; ``tests/test_psis.py`` holds it to ArviZ's answer row by row.

Draws are taken as independent (relative efficiency ``r_eff`` = 1, the tail size
``floor(3 sqrt(S))``): right for draws from an exact posterior; give ArviZ's ``az.loo`` MCMC
draws.
"""

from __future__ import annotations

import numpy as np

from models.core.lazy import lazy

special = lazy("scipy.special")  # imported on first use: bad input is answered before SciPy loads

PRIOR_K_WEIGHT, PRIOR_K_CENTRE, PRIOR_B_SCALE = 10, 0.5, 3  # ArviZ's weakly informative GPD prior


def tail_size(draws: int) -> int:
    """Draws in the smoothed tail: ``floor(3 sqrt(S))`` above 225 draws, ``floor(S / 5)`` below."""
    return int(np.floor(3 * draws**0.5)) if draws > 225 else int(np.floor(draws / 5))


def generalized_pareto_fit(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Zhang-Stephens empirical-Bayes fit of a generalised Pareto (shape k, scale sigma) to each
    row of ``x`` (rows, M), sorted ascending and shifted to start above 0, with ArviZ's prior
    pulling k towards 0.5 by ``PRIOR_K_WEIGHT`` pseudo-observations.

    Returns ``(k, sigma)``; k is NaN where the first quartile does not exceed the minimum (a row
    far from a generalised Pareto) and infinite where the fit fails.
    """
    n = x.shape[-1]
    grid = 30 + int(n**0.5)
    quartile = x[:, int((n / 4 + 0.5) - 1)]
    b = 1 - np.sqrt(grid / (np.arange(1, grid + 1, dtype=float) - 0.5))
    with np.errstate(divide="ignore", invalid="ignore"):
        b = b / (PRIOR_B_SCALE * quartile[:, None]) + 1 / x[:, -1:]
        k_grid = np.mean(np.log1p(-b[:, :, None] * x[:, None, :]), axis=-1)
        profile = n * (np.log(-b / k_grid) - k_grid - 1)
        weights = np.exp(profile - special.logsumexp(profile, axis=1, keepdims=True))
        weights[weights < 10 * np.finfo(float).eps] = 0.0
        b_post = np.sum(b * weights, axis=1) / np.sum(weights, axis=1)
        k = np.mean(np.log1p(-b_post[:, None] * x), axis=1)
        sigma = -k / b_post
    k = (n * k + PRIOR_K_WEIGHT * PRIOR_K_CENTRE) / (n + PRIOR_K_WEIGHT)
    k = np.where(np.isnan(k), np.inf, k)
    far = quartile <= x[:, 0]
    return np.where(far, np.nan, k), np.where(far, np.nan, sigma)


def smoothed_log_weights(log_ratios: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pareto-smoothed, normalised log importance weights of each row of ``log_ratios``
    (rows, S), and each row's Pareto k.

    The largest ``tail_size(S)`` ratios are replaced by the expected order statistics of the
    generalised Pareto fitted to them (capped at the largest raw ratio) wherever k is finite.
    """
    rows, draws = log_ratios.shape
    size = tail_size(draws)
    if size < 5:
        raise ValueError(f"PSIS needs at least 25 draws for a tail of 5; got {draws}")
    log_w = log_ratios - np.max(log_ratios, axis=1, keepdims=True)
    # the tail and the cutoff below it are the largest size + 1 ratios: partitioned out (O(S)),
    # then only they are sorted
    top = np.argpartition(log_w, draws - size - 1, axis=1)[:, draws - size - 1 :]
    top = np.take_along_axis(top, np.argsort(np.take_along_axis(log_w, top, axis=1)), axis=1)
    cutoff = np.take_along_axis(log_w, top[:, :1], axis=1)[:, 0]
    order = top[:, 1:]
    tail = np.take_along_axis(log_w, order, axis=1)
    k, sigma = generalized_pareto_fit(np.exp(tail) - np.exp(cutoff)[:, None])
    probs = np.arange(0.5, size) / size
    with np.errstate(divide="ignore", invalid="ignore"):
        kappa = np.where(k == 0, 1.0, k)[:, None]
        quantiles = np.where(
            (k == 0)[:, None],
            -sigma[:, None] * np.log1p(-probs),
            sigma[:, None] * np.expm1(-kappa * np.log1p(-probs)) / kappa,
        )
        quantiles = np.where((sigma > 0)[:, None], quantiles + np.exp(cutoff)[:, None], np.nan)
        smoothed = np.log(quantiles)
    largest = np.max(tail, axis=1, keepdims=True)
    smoothed = np.where(smoothed > largest, largest, smoothed)
    smooth = np.isfinite(k)[:, None]
    np.put_along_axis(log_w, order, np.where(smooth, smoothed, tail), axis=1)
    return log_w - special.logsumexp(log_w, axis=1, keepdims=True), k


def psis_loo(log_lik: np.ndarray) -> dict[str, np.ndarray]:
    """PSIS-LOO of every observation from independent posterior draws.

    Parameters
    ----------
    log_lik : array (..., n, S)
        ``log p(y_i | theta_s)`` for n observations and S draws; leading axes (e.g. a grid of
        penalties) are separate posteriors.

    Returns
    -------
    dict
        ``elpd_i``, ``pareto_k`` and ``p_loo_i``, each shaped (..., n), and ``elpd`` and ``se``
        (the sum over observations and its standard error ``sqrt(n var(elpd_i))``), shaped (...).
    """
    log_lik = np.asarray(log_lik, float)
    *lead, n, draws = log_lik.shape
    flat = log_lik.reshape(-1, draws)
    log_w, k = smoothed_log_weights(-flat)
    elpd_i = special.logsumexp(log_w + flat, axis=1)
    p_loo_i = special.logsumexp(flat, axis=1) - np.log(draws) - elpd_i
    elpd_i, k, p_loo_i = (a.reshape(*lead, n) for a in (elpd_i, k, p_loo_i))
    return {"elpd_i": elpd_i, "pareto_k": k, "p_loo_i": p_loo_i, "elpd": elpd_i.sum(axis=-1),
            "se": np.sqrt(n * np.var(elpd_i, axis=-1))}  # fmt: skip
