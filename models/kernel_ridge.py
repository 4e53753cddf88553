r"""Kernel ridge regression is the posterior mean of a Gaussian process.

scikit-learn's KernelRidge (sklearn/kernel_ridge.py, ``fit``) solves ``dual_coef = (K + alpha
I)^-1 y`` with ``K = pairwise_kernels(X, X, metric=kernel, gamma=..., degree=..., coef0=...)``,
no intercept, and predicts ``K(X_new, X) dual_coef``.

**The identity tested.** A Gaussian process ``f ~ GP(0, eta^2 k)`` with ``y = f(X) + e``,
``e ~ Normal(0, sigma^2 I)``, has the posterior mean

    E[f(x*) | y] = eta^2 k(x*, X) (eta^2 K + sigma^2 I)^-1 y = k(x*, X) (K + alpha I)^-1 y ,

with ``alpha = sigma^2 / eta^2``: KernelRidge's prediction, whatever eta is (the penalty is the
ratio of the noise variance to the prior variance, as for ridge). This statement, in function
space, is the one Check 1 tests: the PyMC model (:func:`build`, ``pm.gp.Marginal`` with noise sd
``sqrt(alpha)`` and amplitude 1) conditioned on the rows gives KernelRidge's predictions on
held-out points.

**The weight-space statement.** Restricted to any finite set of points ``Z`` (the training rows
and the new ones), the process is ``f(Z) = Phi w`` with ``w ~ Normal(0, eta^2 I)`` and ``Phi Phi'
= K(Z, Z)`` (``Phi = U sqrt(Lambda)`` from the eigen-decomposition): a feature space of the kernel,
exactly. The MAP of ``w`` is then Ridge(alpha, no intercept) on the training rows of ``Phi``, and
``Phi_new w_MAP`` is KernelRidge's prediction (the representer theorem).
tests/test_kernel_ridge.py checks this with scikit-learn's Ridge on ``Phi``; for the linear kernel
``Phi = X`` and ``w_MAP = X' dual_coef`` is Ridge's ``coef_``.

**Kernels mapped** (scikit-learn's conventions, ``sklearn.metrics.pairwise``):

* ``linear``: ``x'x'`` (PyMC ``Linear(c=0)``);
* ``rbf``: ``exp(-gamma ||x - x'||^2)``, ``gamma = 1 / (2 l^2)`` (PyMC ``ExpQuad(ls=l)``);
* ``laplacian``: ``exp(-gamma ||x - x'||_1)``, the Manhattan (L1) distance. PyMC's
  ``Exponential`` uses the Euclidean distance, so it is not this kernel; a product of
  one-dimensional ``Exponential`` kernels would be, but PyMC's distance is ``sqrt(r^2 + 1e-12)``,
  1e-6 off at r = 0. :func:`laplacian_covariance` writes the kernel exactly as a
  ``pm.gp.cov.Covariance``;
* ``polynomial`` (``poly``): ``(gamma x'x' + coef0)^degree``, positive semi-definite for an
  integer ``degree >= 1``, ``coef0 >= 0`` and ``gamma > 0`` (a sum of products of PSD kernels
  with non-negative weights); PyMC ``gamma^degree Polynomial(c=0, d=degree, offset=coef0 /
  gamma)``. Other settings are refused.

``gamma=None`` is ``1 / n_features``, as in scikit-learn. Every other kernel (``sigmoid``, not
PSD in general; ``cosine``, ``chi2``, ``additive_chi2``, ``precomputed``, a callable) is refused
with one line: no mapping is written for it.

**The exact posterior** (:func:`exact_posterior`). With ``A = K + alpha I = L L'``, the posterior
of ``f(x*)`` has mean ``k*' A^-1 y`` and variance ``eta^2 (k** - ||L^-1 k*||^2)``; a new
observation adds ``sigma^2 = alpha eta^2``. With eta unknown under the Jeffreys prior ``p(eta) ∝
1 / eta`` (the twin's default, as ridge's sigma), ``eta^2 | y ~ InvGamma(n / 2, y'A^-1 y / 2)``
and both are Student-t with n degrees of freedom and scale^2 ``y'A^-1 y / n`` times the same
factor.

**Size.** An exact GP factorises the n x n matrix ``K + alpha I``: O(n^3) time and n^2 doubles
of memory (and the PyMC model holds several n x n matrices in its graph). :data:`MAX_ROWS`
rows (200 MB per matrix) is refused above, before any work.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from functools import cache

import numpy as np

from models.core.base import InputError, positive
from models.core.lazy import lazy

pm = lazy("pymc")
pt = lazy("pytensor.tensor")
pairwise = lazy("sklearn.metrics.pairwise")
linalg = lazy("scipy.linalg")
stats = lazy("scipy.stats")

KERNELS = ("linear", "rbf", "laplacian", "polynomial", "poly")
MAX_ROWS = 5000  # an exact GP: O(n^3) Cholesky, n^2 memory (module docstring)
OBJECTIVE = "dual_coef = (K + alpha I)^-1 y, prediction K(X_new, X) dual_coef (no intercept)"
PRIOR = "f ~ GP(0, eta^2 k), y = f(X) + Normal(0, sigma^2)"
MAPPING = "alpha = sigma^2 / eta^2 (amplitude eta^2, noise variance sigma^2)"


@dataclass(frozen=True)
class Kernel:
    """A kernel of scikit-learn's ``pairwise_kernels`` that has a Gaussian-process mapping.

    Attributes
    ----------
    name : {"linear", "rbf", "laplacian", "polynomial"}
    gamma : float or None
        The kernel's gamma (resolved: ``1 / n_features`` when scikit-learn's is None); None for
        ``linear``.
    degree : int or None
        ``polynomial`` only.
    coef0 : float or None
        ``polynomial`` only.
    """

    name: str
    gamma: float | None = None
    degree: int | None = None
    coef0: float | None = None

    @property
    def length_scale(self) -> float | None:
        """``rbf``'s length scale ``l = 1 / sqrt(2 gamma)``; None for other kernels."""
        return float(1.0 / np.sqrt(2.0 * self.gamma)) if self.name == "rbf" else None

    def params(self) -> dict:
        """The keyword arguments of ``pairwise_kernels`` / ``KernelRidge`` for this kernel."""
        names = {"linear": (), "rbf": ("gamma",), "laplacian": ("gamma",),
                 "polynomial": ("gamma", "degree", "coef0")}[self.name]  # fmt: skip
        return {name: getattr(self, name) for name in names}

    def matrix(self, A: np.ndarray, B: np.ndarray) -> np.ndarray:
        """``k(A, B)`` computed by scikit-learn's ``pairwise_kernels`` (KernelRidge's own)."""
        return pairwise.pairwise_kernels(A, B, metric=self.name, **self.params())

    def covariance(self, n_features: int):
        """The same kernel as a PyMC covariance function (``pm.gp.cov``), amplitude 1."""
        cov = pm.gp.cov
        if self.name == "linear":
            return cov.Linear(n_features, c=0.0)
        if self.name == "rbf":
            return cov.ExpQuad(n_features, ls=self.length_scale)
        if self.name == "laplacian":
            return laplacian_covariance(n_features, self.gamma)
        scaled = cov.Polynomial(n_features, c=0.0, d=self.degree, offset=self.coef0 / self.gamma)
        return self.gamma**self.degree * scaled


@cache
def _laplacian_class():
    """The class of :func:`laplacian_covariance` (defined on first use: PyMC is imported lazily)."""

    class Laplacian(pm.gp.cov.Covariance):
        """``exp(-gamma ||x - x'||_1)``, exactly (no distance floor)."""

        def __init__(self, input_dim: int, gamma):
            super().__init__(input_dim)
            self.gamma = gamma

        def diag(self, X):
            return pt.ones(X.shape[0])

        def full(self, X, Xs=None):
            X, Xs = self._slice(X, Xs)
            Xs = X if Xs is None else Xs
            return pt.exp(-self.gamma * pt.sum(pt.abs(X[:, None, :] - Xs[None, :, :]), axis=-1))

    return Laplacian


def laplacian_covariance(n_features: int, gamma):
    """scikit-learn's ``laplacian`` kernel ``exp(-gamma ||x - x'||_1)`` as a PyMC covariance
    function (``gamma`` a number or a tensor)."""
    return _laplacian_class()(n_features, gamma)


def kernel_of(
    kernel, n_features: int, *, gamma=None, degree=3, coef0=1, kernel_params=None
) -> Kernel:
    """The mapped :class:`Kernel` of KernelRidge's settings, or :class:`InputError` (one line).

    Parameters
    ----------
    kernel : str
        KernelRidge's ``kernel``; a callable or an unmapped name is refused.
    n_features : int
        Columns of X (``gamma=None`` is ``1 / n_features``).
    gamma, degree, coef0, kernel_params
        KernelRidge's parameters of the same names (``kernel_params`` must be None).
    """
    mapped = "linear, rbf, laplacian, polynomial"
    if not isinstance(kernel, str):
        raise InputError(
            f"a callable kernel has no Gaussian-process mapping here; mapped kernels: {mapped}"
        )
    if kernel not in KERNELS:
        why = " (not positive semi-definite in general)" if kernel == "sigmoid" else ""
        raise InputError(
            f"kernel {kernel!r} has no Gaussian-process mapping here{why}; mapped kernels: {mapped}"
        )
    if kernel_params is not None:
        raise InputError("kernel_params is not mapped; give gamma, degree and coef0 instead")
    if kernel == "linear":
        return Kernel("linear")
    gamma = 1.0 / n_features if gamma is None else positive(gamma, f"gamma of the {kernel} kernel")
    if kernel in ("rbf", "laplacian"):
        return Kernel(kernel, gamma=gamma)
    if (
        isinstance(degree, bool)
        or not isinstance(degree, numbers.Real)
        or degree != int(degree)
        or degree < 1
    ):
        raise InputError(f"the polynomial kernel is mapped for an integer degree >= 1 (positive "
                         f"semi-definite); got degree={degree!r}")  # fmt: skip
    if not np.isfinite(coef0) or coef0 < 0:
        raise InputError(f"the polynomial kernel is positive semi-definite for coef0 >= 0 only; "
                         f"got coef0={coef0!r}")  # fmt: skip
    return Kernel("polynomial", gamma=gamma, degree=int(degree), coef0=float(coef0))


def kernel_of_estimator(estimator, n_features: int) -> Kernel:
    """:func:`kernel_of` with a KernelRidge's parameters."""
    return kernel_of(estimator.kernel, n_features, gamma=estimator.gamma, degree=estimator.degree,
                     coef0=estimator.coef0, kernel_params=estimator.kernel_params)  # fmt: skip


def check_rows(n_rows: int) -> None:
    """Refuse more than :data:`MAX_ROWS` rows (one line), before any n x n matrix is made."""
    if n_rows > MAX_ROWS:
        raise InputError(
            f"{n_rows} rows is too many for an exact Gaussian process (limit {MAX_ROWS}: the "
            f"Cholesky factor of the n x n kernel matrix costs O(n^3) time and n^2 memory)"
        )


@dataclass(frozen=True)
class GPPosterior:
    """The exact posterior of a GP with covariance ``eta^2 k`` and noise variance ``alpha eta^2``.

    Attributes
    ----------
    kernel : Kernel
    X : array (n, p)
        The training rows.
    alpha : float
        KernelRidge's alpha: the noise-to-amplitude variance ratio ``sigma^2 / eta^2``.
    cholesky : array (n, n)
        Lower Cholesky factor of ``K + alpha I``.
    dual_coef : array (n,)
        ``(K + alpha I)^-1 y``: KernelRidge's ``dual_coef_``.
    scale2 : float
        eta^2 when fixed; the Student-t scale ``y' dual_coef / n`` when eta is unknown.
    dof : float
        Degrees of freedom: ``inf`` (eta fixed, Normal) or n (eta unknown, Jeffreys prior).
    """

    kernel: Kernel
    X: np.ndarray
    alpha: float
    cholesky: np.ndarray
    dual_coef: np.ndarray
    scale2: float
    dof: float

    def mean(self, X_new: np.ndarray) -> np.ndarray:
        """Posterior mean of ``f(X_new)``: KernelRidge's prediction."""
        return self.kernel.matrix(X_new, self.X) @ self.dual_coef

    def spread(self, X_new: np.ndarray, observation: bool) -> tuple[np.ndarray, np.ndarray]:
        """``(mean, scale)`` per row: the Normal sd, or the Student-t scale, of ``f(X_new)``
        (``observation`` False) or of a new observation (noise ``alpha eta^2`` added)."""
        cross = self.kernel.matrix(self.X, X_new)
        solved = linalg.solve_triangular(self.cholesky, cross, lower=True)
        prior = np.diag(self.kernel.matrix(X_new, X_new)) if len(X_new) <= 2000 else np.array(
            [self.kernel.matrix(row[None], row[None])[0, 0] for row in X_new])  # fmt: skip
        variance = np.maximum(prior - np.sum(solved**2, axis=0), 0.0) + self.alpha * observation
        return cross.T @ self.dual_coef, np.sqrt(self.scale2 * variance)

    def predict(self, X_new: np.ndarray, observation: bool = True) -> tuple[np.ndarray, np.ndarray]:
        """``(mean, sd)``: posterior mean and sd of ``f(X_new)`` or of a new observation."""
        mean, scale = self.spread(X_new, observation)
        factor = (
            1.0 if np.isinf(self.dof) else (self.dof / (self.dof - 2) if self.dof > 2 else np.inf)
        )
        return mean, scale * np.sqrt(factor)

    def interval(self, X_new: np.ndarray, prob: float, observation: bool = True):
        """Equal-tailed ``prob`` interval per row (Normal, or Student-t with ``dof``)."""
        mean, scale = self.spread(X_new, observation)
        dist = stats.norm if np.isinf(self.dof) else stats.t(self.dof)
        half = dist.ppf((1 + prob) / 2) * scale
        return mean - half, mean + half


def exact_posterior(
    kernel: Kernel, X, y, alpha: float, amplitude: float | None = None
) -> GPPosterior:
    """The exact GP posterior by Cholesky (module docstring).

    Parameters
    ----------
    amplitude : float, optional
        eta (the prior sd of f); None: unknown, Jeffreys prior ``p(eta) ∝ 1 / eta``.

    Raises
    ------
    InputError
        Too many rows (:func:`check_rows`), ``K + alpha I`` not positive definite, or an all-zero
        target with the amplitude unknown.
    """
    X, y = np.asarray(X, dtype=float), np.asarray(y, dtype=float)
    check_rows(len(y))
    alpha = positive(alpha, "alpha")
    gram = kernel.matrix(X, X)
    gram[np.diag_indices_from(gram)] += alpha
    try:
        chol = np.linalg.cholesky(gram)
    except np.linalg.LinAlgError:
        raise InputError(f"the {kernel.name} kernel matrix plus alpha I is not positive definite "
                         f"(alpha={alpha:g}): no Gaussian process has it as covariance") from None  # fmt: skip
    dual = linalg.cho_solve((chol, True), y)
    if amplitude is None:
        scale2 = float(y @ dual) / len(y)
        if not scale2 > 0:
            raise InputError("amplitude unknown needs a target that is not all 0: y'(K + alpha I)^-1 y "
                             "= 0 puts the amplitude's posterior at 0 (zero-width intervals); "
                             "give the amplitude")  # fmt: skip
        return GPPosterior(kernel, X, alpha, chol, dual, scale2, float(len(y)))
    return GPPosterior(kernel, X, alpha, chol, dual, positive(amplitude, "amplitude") ** 2, np.inf)


def build(kernel: Kernel, X, y, alpha: float):
    """The PyMC model of Check 1: ``pm.gp.Marginal`` with covariance k (amplitude 1) and noise
    sd ``sqrt(alpha)``; no jitter (the noise makes ``K + alpha I`` positive definite). ``alpha``
    is the model's ``pm.Data`` "alpha": other values are set without rebuilding.

    Returns
    -------
    model : pm.Model
    gp : pm.gp.Marginal
    """
    X = np.asarray(X, dtype=float)
    check_rows(len(X))
    with pm.Model() as model:
        gp = pm.gp.Marginal(cov_func=kernel.covariance(X.shape[1]))
        gp.marginal_likelihood(
            "y",
            X=X,
            y=np.asarray(y, dtype=float),
            sigma=pt.sqrt(pm.Data("alpha", positive(alpha, "alpha"))),
            jitter=0.0,
        )
    return model, gp


def pymc_posterior_means(kernel: Kernel, X, y, alphas, X_new) -> list[np.ndarray]:
    """PyMC's GP posterior mean of ``f(X_new)`` at each alpha (``pm.gp.Marginal``'s conditional,
    no noise, no jitter), its graph compiled once for all the alphas."""
    alphas = [positive(alpha, "alpha") for alpha in alphas]
    model, gp = build(kernel, X, y, alphas[0])
    # Marginal.predict is this graph evaluated by replace_with_values, which compiles it anew at
    # every call; _predict_at is the graph itself
    mean, _ = gp._predict_at(np.asarray(X_new, dtype=float), diag=True, pred_noise=False,
                             jitter=0.0)  # fmt: skip
    evaluate = pm.compile([], mean)
    means = []
    for alpha in alphas:
        pm.set_data({"alpha": alpha}, model=model)
        means.append(np.asarray(evaluate()))
    return means


def build_hierarchical(kernel: Kernel, X, y):
    """The GP with its hyper-parameters free, for NUTS on standardised data: length scale l
    (``rbf``: gamma = 1 / (2 l^2); ``laplacian``: gamma = 1 / l), amplitude eta and noise sd
    sigma, each ``LogNormal(0, 1.5)``; ``alpha = sigma^2 / eta^2`` is a Deterministic: the
    penalty learned as a belief. Only ``rbf`` and ``laplacian`` (one length scale) are sampled.
    """
    X = np.asarray(X, dtype=float)
    check_rows(len(X))
    if kernel.name not in ("rbf", "laplacian"):
        raise InputError(
            f"hyper-parameters are sampled for rbf and laplacian kernels; got {kernel.name}"
        )
    p = X.shape[1]
    with pm.Model() as model:
        length = pm.LogNormal("length_scale", 0.0, 1.5)
        amplitude = pm.LogNormal("amplitude", 0.0, 1.5)
        noise = pm.LogNormal("noise_sd", 0.0, 1.5)
        pm.Deterministic("alpha", noise**2 / amplitude**2)
        if kernel.name == "rbf":
            cov = pm.gp.cov.ExpQuad(p, ls=length)
        else:  # gamma = 1 / l
            cov = laplacian_covariance(p, 1.0 / length)
        gp = pm.gp.Marginal(cov_func=amplitude**2 * cov)
        gp.marginal_likelihood("y", X=X, y=np.asarray(y, dtype=float), sigma=noise, jitter=0.0)
    return model


__all__ = [
    "KERNELS", "MAX_ROWS", "GPPosterior", "Kernel", "build", "build_hierarchical", "check_rows",
    "exact_posterior", "kernel_of", "kernel_of_estimator", "pymc_posterior_means",
]  # fmt: skip
