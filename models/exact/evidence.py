r"""Exact marginal likelihood (evidence) and exact leave-one-out of the Gaussian ridge model.

Array maths only (no PyMC): the closed forms the ``lambda`` experiment grades everything against.

With the intercept handled by centring (as scikit-learn's BayesianRidge does), the centred target
has the marginal distribution

    yc ~ Normal(0, sigma^2 I + tau^2 Xc Xc') .

Writing ``Xc = U S V'``, ``d_i = s_i^2``, ``z = U' yc`` and ``alpha = sigma^2 / tau^2``:

    log p(yc | sigma, tau) = -1/2 [ n log(2 pi sigma^2) + sum_i log(1 + d_i / alpha)
                                    + (sum_i z_i^2 / (1 + d_i / alpha) + r) / sigma^2 ] ,

with ``r = ||yc||^2 - ||z||^2``. For fixed alpha the maximising ``sigma^2`` is the bracket's quadratic
term over n, which leaves a 1-D problem in ``log alpha``: the empirical-Bayes (type-II maximum
likelihood) choice of alpha.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from models.core.lazy import lazy
from models.ridge import exact_posterior, posterior_leverage

optimize = lazy("scipy.optimize")


@dataclass(frozen=True)
class Spectrum:
    """What the evidence needs from ``(X, y)``: eigenvalues of Xc'Xc and the rotated target."""

    n: int
    eigenvalues: np.ndarray
    rotated: np.ndarray
    residual: float

    @classmethod
    def of(cls, X: np.ndarray, y: np.ndarray) -> Spectrum:
        Xc, yc = X - X.mean(axis=0), y - y.mean()
        U, s, _ = np.linalg.svd(Xc, full_matrices=False)
        z = U.T @ yc
        return cls(len(y), s**2, z, max(float(yc @ yc - z @ z), 0.0))

    @classmethod
    def of_statistics(cls, stats) -> Spectrum:
        """The same from sufficient statistics (:class:`models.scale.statistics.GaussianStatistics`).

        With ``C_xx = V D V'``: the eigenvalues are ``D`` and ``z = D^{-1/2} V' C_xy`` (= ``U'yc``
        for ``Xc = U D^{1/2} V'``); directions with ``D = 0`` carry no data and are dropped.
        """
        eigenvalues, vectors = np.linalg.eigh(stats.xx)
        keep = eigenvalues > eigenvalues.max() * len(eigenvalues) * np.finfo(float).eps
        z = (vectors[:, keep].T @ stats.xy) / np.sqrt(eigenvalues[keep])
        return cls(stats.n, eigenvalues[keep], z, max(float(stats.yy - z @ z), 0.0))

    def quadratic(self, alpha: float) -> float:
        """``yc' (I + Xc Xc' / alpha)^{-1} yc``."""
        return float(np.sum(self.rotated**2 / (1 + self.eigenvalues / alpha)) + self.residual)

    def log_det(self, alpha: float) -> float:
        """``log det(I + Xc Xc' / alpha)``."""
        return float(np.sum(np.log1p(self.eigenvalues / alpha)))

    def log_evidence(self, noise_sd: float, prior_sd: float) -> float:
        """:func:`log_evidence` from this spectrum."""
        alpha = (noise_sd / prior_sd) ** 2
        return -0.5 * (
            self.n * np.log(2 * np.pi * noise_sd**2)
            + self.log_det(alpha)
            + self.quadratic(alpha) / noise_sd**2
        )


def log_evidence(X: np.ndarray, y: np.ndarray, noise_sd: float, prior_sd: float) -> float:
    """Log marginal likelihood of the centred target under ``w ~ Normal(0, tau)``, noise sd sigma.

    Parameters
    ----------
    X, y : arrays
        Design (n x p) and target (n,); both are centred here.
    noise_sd, prior_sd : float
        sigma and tau.
    """
    return Spectrum.of(X, y).log_evidence(noise_sd, prior_sd)


def profile_noise_sd(spectrum: Spectrum, alpha: float) -> float:
    """The sigma that maximises the evidence at a given alpha: ``sqrt(quadratic(alpha) / n)``."""
    return float(np.sqrt(spectrum.quadratic(alpha) / spectrum.n))


def evidence_alpha(X: np.ndarray, y: np.ndarray) -> dict[str, float]:
    """:func:`maximise_evidence` on the rows ``X``, ``y``."""
    return maximise_evidence(Spectrum.of(X, y))


def maximise_evidence(spectrum: Spectrum) -> dict[str, float]:
    """Type-II maximum likelihood: the (alpha, sigma, tau) that maximise :func:`log_evidence`.

    sigma is profiled out in closed form; ``log alpha`` is found by a bounded 1-D search started
    from the best point of a coarse grid spanning 24 decades around the eigenvalues of Xc'Xc.

    Returns
    -------
    dict
        ``alpha``, ``noise_sd``, ``prior_sd`` and ``log_evidence`` at the maximum, and ``edge``:
        None for a maximum inside the grid; ``"large"`` (``"small"``) when the evidence is
        highest at the grid's largest (smallest) alpha, 12 decades from the data's eigenvalues:
        it has no interior maximum and rises toward ``alpha -> inf`` (every weight 0) or
        ``alpha -> 0``, and ``alpha`` is that edge, not a maximum.
    """

    def negative(log_alpha: float) -> float:
        alpha = np.exp(log_alpha)
        return 0.5 * (spectrum.n * np.log(spectrum.quadratic(alpha)) + spectrum.log_det(alpha))

    scale = np.log(np.mean(spectrum.eigenvalues))
    grid = scale + np.linspace(-12, 12, 97) * np.log(10)
    best = int(np.argmin([negative(g) for g in grid]))
    edge = {0: "small", len(grid) - 1: "large"}.get(best)
    lo, hi = grid[max(best - 1, 0)], grid[min(best + 1, len(grid) - 1)]
    log_alpha = optimize.minimize_scalar(
        negative, bounds=(lo, hi), method="bounded", options={"xatol": 1e-12}
    ).x
    alpha = float(np.exp(log_alpha))
    noise_sd = profile_noise_sd(spectrum, alpha)
    prior_sd = noise_sd / np.sqrt(alpha)
    return {
        "alpha": alpha,
        "noise_sd": noise_sd,
        "prior_sd": float(prior_sd),
        "log_evidence": spectrum.log_evidence(noise_sd, prior_sd),
        "edge": edge,
    }


def exact_loo(X: np.ndarray, y: np.ndarray, prior_sd: float, noise_sd: float) -> np.ndarray:
    r"""Exact leave-one-out log predictive densities ``log p(y_i | y_{-i})`` of the fixed-sigma model.

    With flat intercept and ``w ~ Normal(0, tau)``, the posterior of ``beta = (b0, w)`` is Gaussian
    with covariance Sigma. With leverage ``h_i = z_i' Sigma z_i / sigma^2`` and residual
    ``e_i = y_i - z_i' mu`` (Sherman-Morrison on the posterior precision):

        y_i | y_{-i} ~ Normal(y_i - e_i / (1 - h_i), sigma^2 / (1 - h_i)) .
    """
    return loo_from_posterior(X, y, *exact_posterior(X, y, prior_sd, noise_sd), noise_sd)


def loo_from_posterior(
    X: np.ndarray, y: np.ndarray, mean: np.ndarray, cov: np.ndarray, noise_sd: float
) -> np.ndarray:
    """:func:`exact_loo` given the exact posterior ``(mean, cov)`` of ``(b0, w)`` already computed.

    Raises :class:`models.ridge.LeverageRoundsToOne` where a row's leverage rounds to 1
    (:func:`models.ridge.posterior_leverage`): its leave-one-out density would be rounding noise
    (NaN, or a number with no correct digit)."""
    Z = np.column_stack([np.ones(len(y)), X])
    leverage = posterior_leverage(Z, cov, noise_sd)
    residual = y - Z @ mean
    variance = noise_sd**2 / (1 - leverage)
    loo_residual = residual / (1 - leverage)
    return -0.5 * (np.log(2 * np.pi * variance) + loo_residual**2 / variance)
