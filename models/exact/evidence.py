r"""Exact marginal likelihood (evidence) and exact leave-one-out of the Gaussian ridge model.

Array maths only (no PyMC): the closed forms the ``lambda`` experiment grades everything against.

The model is ``y ~ Normal(b0 + X w, sigma)``, ``w_j ~ Normal(0, tau)``, ``b0`` flat. Centring
(``Xc``, ``yc``) moves ``b0`` onto the mean; with ``alpha = sigma^2 / tau^2``,
``Xc = U S V'``, ``d_i = s_i^2``, ``z = U' yc`` and ``r = ||yc||^2 - ||z||^2``, the evidence is
the density of ``y`` with ``b0`` integrated out under its flat prior (density 1):

    log p(y | sigma, tau) = -1/2 [ (n - 1) log(2 pi sigma^2) + log n
                                   + sum_i log(1 + d_i / alpha)
                                   + (sum_i z_i^2 / (1 + d_i / alpha) + r) / sigma^2 ] .

Integrating ``b0`` out leaves the ``n - 1`` dimensions orthogonal to the intercept column (``1``
is an eigenvector of ``sigma^2 I + tau^2 Xc Xc'``, eigenvalue ``sigma^2``, and integrating over
``b0`` gives ``sqrt(2 pi sigma^2 / n)``). scikit-learn's BayesianRidge instead fixes the intercept
at the mean of ``y`` and treats ``yc`` as ``n`` rows: ``n`` for ``n - 1`` and no ``log n``
(``intercept="fixed"`` here). The two differ by a factor in sigma, so their maximising alphas
differ, by O(1/n): 0.25% on diabetes. With ``rank(Xc) = n - 1`` (as many columns as rows) the
fit interpolates as ``alpha -> 0`` and sigma -> 0: the fixed intercept's evidence then rises
without bound, the model's stays bounded and can have its maximum inside.

For fixed alpha the maximising ``sigma^2`` is the bracket's quadratic term over the dimensions
(``n - 1``, or ``n``), which leaves a 1-D problem in ``log alpha``: the empirical-Bayes (type-II
maximum likelihood) choice of alpha.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from models.core.lazy import lazy
from models.ridge import exact_posterior, posterior_leverage

optimize = lazy("scipy.optimize")


# How the evidence treats the intercept b0
INTERCEPTS = {
    "integrated": "the model's flat intercept integrated out (n - 1 dimensions)",
    "fixed": "the intercept fixed at the mean of y (n dimensions; scikit-learn's BayesianRidge)",
}


@dataclass(frozen=True)
class Spectrum:
    """What the evidence needs from ``(X, y)``: eigenvalues of Xc'Xc and the rotated target, and
    how the intercept is treated (:data:`INTERCEPTS`; the model's: ``"integrated"``)."""

    n: int
    eigenvalues: np.ndarray
    rotated: np.ndarray
    residual: float
    intercept: str = "integrated"

    def __post_init__(self):
        if self.intercept not in INTERCEPTS:
            raise ValueError(
                f"intercept must be one of {sorted(INTERCEPTS)}, got {self.intercept!r}"
            )

    @property
    def dimensions(self) -> int:
        """Dimensions of the target the evidence is a density over: ``n - 1`` or ``n``."""
        return self.n - 1 if self.intercept == "integrated" else self.n

    @classmethod
    def of(cls, X: np.ndarray, y: np.ndarray, intercept: str = "integrated") -> Spectrum:
        Xc, yc = X - X.mean(axis=0), y - y.mean()
        U, s, _ = np.linalg.svd(Xc, full_matrices=False)
        z = U.T @ yc
        return cls(len(y), s**2, z, max(float(yc @ yc - z @ z), 0.0), intercept)

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
        integrated = np.log(self.n) if self.intercept == "integrated" else 0.0
        return -0.5 * (
            self.dimensions * np.log(2 * np.pi * noise_sd**2)
            + integrated
            + self.log_det(alpha)
            + self.quadratic(alpha) / noise_sd**2
        )


def log_evidence(
    X: np.ndarray, y: np.ndarray, noise_sd: float, prior_sd: float, intercept: str = "integrated"
) -> float:
    """Log marginal likelihood of ``y`` under ``w ~ Normal(0, tau)``, noise sd sigma, and the
    intercept as ``intercept`` says (:data:`INTERCEPTS`; the model's flat one integrated out).

    Parameters
    ----------
    X, y : arrays
        Design (n x p) and target (n,); both are centred here.
    noise_sd, prior_sd : float
        sigma and tau.
    intercept : {"integrated", "fixed"}
    """
    return Spectrum.of(X, y, intercept).log_evidence(noise_sd, prior_sd)


def profile_noise_sd(spectrum: Spectrum, alpha: float) -> float:
    """The sigma that maximises the evidence at a given alpha:
    ``sqrt(quadratic(alpha) / dimensions)``."""
    return float(np.sqrt(spectrum.quadratic(alpha) / spectrum.dimensions))


def evidence_alpha(X: np.ndarray, y: np.ndarray, intercept: str = "integrated") -> dict[str, float]:
    """:func:`maximise_evidence` on the rows ``X``, ``y``."""
    return maximise_evidence(Spectrum.of(X, y, intercept))


def maximise_evidence(spectrum: Spectrum) -> dict[str, float]:
    """Type-II maximum likelihood: the (alpha, sigma, tau) that maximise :func:`log_evidence`.

    sigma is profiled out in closed form; ``log alpha`` is found by a bounded 1-D search started
    from the best point of a coarse grid spanning 24 decades around the eigenvalues of Xc'Xc.

    Returns
    -------
    dict
        ``alpha``, ``noise_sd``, ``prior_sd`` and ``log_evidence`` at the maximum, the target's
        ``dimensions`` (:attr:`Spectrum.dimensions`), and ``edge``:
        None for a maximum inside the grid; ``"large"`` (``"small"``) when the evidence is
        highest at the grid's largest (smallest) alpha, 12 decades from the data's eigenvalues:
        it has no interior maximum and rises toward ``alpha -> inf`` (every weight 0) or
        ``alpha -> 0``, and ``alpha`` is that edge, not a maximum.
    """

    def negative(log_alpha: float) -> float:
        alpha = np.exp(log_alpha)
        return 0.5 * (
            spectrum.dimensions * np.log(spectrum.quadratic(alpha)) + spectrum.log_det(alpha)
        )

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
        "dimensions": spectrum.dimensions,
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
