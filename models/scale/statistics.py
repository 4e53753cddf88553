r"""Ridge from sufficient statistics: the posterior of any number of rows from a one-pass summary.

For a Gaussian likelihood the data enter only through ``n``, the means and the centred
cross-products ``C_xx = Xc'Xc``, ``C_xy = Xc'yc``, ``C_yy = yc'yc``:

    ||y - b0 - X w||^2 = C_yy - 2 w'C_xy + w'C_xx w + n (ybar - b0 - xbar'w)^2 ,

exactly. Three layers:

* :class:`GaussianStatistics`: the array maths. ``from_arrays`` summarises rows (optionally
  weighted); ``merge`` combines two summaries with the pairwise update of Chan, Golub & LeVeque
  (1979), which is exact and keeps the centring stable, so any split of the rows gives the same
  answer; the ridge mode, the conjugate posterior and the evidence follow from a summary alone.
* :func:`dask_statistics`: the summary of a dask array or dataframe (Parquet files, a CSV glob) in
  one pass, one task per partition, merged as a tree, on a ``dask.distributed`` cluster
  (:func:`dask_client`). A NaN or inf anywhere stops the pass with the partition named.
* :func:`normal_likelihood`: the Gaussian likelihood written in the statistics, O(p^2) per
  gradient whatever n, used by every Gaussian model of the registry (ridge, lasso, elastic net),
  which go through the same MAP solver and sampler as every model.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from models.core.base import ConjugatePosterior, InputError, ModelData, positive
from models.core.lazy import lazy

pm = lazy("pymc")
linalg = lazy("scipy.linalg")


@dataclass(frozen=True)
class GaussianStatistics:
    """Sufficient statistics of a linear-Gaussian model: counts, means, centred cross-products.

    With weights, means and cross-products are weighted (``C_xx = Xc' W Xc``), ``weight_total`` is
    the sum of the weights and ``n`` the number of rows of positive weight.

    Attributes
    ----------
    n : int
    weight_total : float
    x_mean : array (p,)
    y_mean : float
    xx : array (p, p)
    xy : array (p,)
    yy : float
    """

    n: int
    weight_total: float
    x_mean: np.ndarray
    y_mean: float
    xx: np.ndarray
    xy: np.ndarray
    yy: float

    @classmethod
    def from_arrays(
        cls, X: np.ndarray, y: np.ndarray, weight: np.ndarray | None = None
    ) -> GaussianStatistics:
        """Summarise rows ``X`` (n x p) and ``y`` (n,), with optional non-negative weights."""
        X, y = np.asarray(X, dtype=float), np.asarray(y, dtype=float)
        weight = np.ones(len(y)) if weight is None else np.asarray(weight, dtype=float)
        total = float(weight.sum())
        x_mean, y_mean = weight @ X / total, float(weight @ y / total)
        Xc, yc = X - x_mean, y - y_mean
        Xw = Xc * weight[:, None]
        return cls(int(np.count_nonzero(weight)), total, x_mean, y_mean, Xw.T @ Xc, Xw.T @ yc,
                   float(weight @ yc**2))  # fmt: skip

    def merge(self, other: GaussianStatistics) -> GaussianStatistics:
        """The statistics of both sets of rows (Chan, Golub & LeVeque's pairwise update)."""
        total = self.weight_total + other.weight_total
        share = self.weight_total * other.weight_total / total
        dx, dy = other.x_mean - self.x_mean, other.y_mean - self.y_mean
        return GaussianStatistics(
            self.n + other.n,
            total,
            self.x_mean + dx * other.weight_total / total,
            self.y_mean + dy * other.weight_total / total,
            self.xx + other.xx + share * np.outer(dx, dx),
            self.xy + other.xy + share * dx * dy,
            self.yy + other.yy + share * dy * dy,
        )

    @property
    def n_features(self) -> int:
        return len(self.x_mean)

    @property
    def x_sd(self) -> np.ndarray:
        """Column standard deviations (ddof = 0)."""
        return np.sqrt(np.diag(self.xx) / self.weight_total)

    def standardized(self) -> GaussianStatistics:
        """The statistics of the columns centred and scaled to unit sd, derived exactly."""
        scale = self.x_sd
        if np.any(scale == 0):
            raise InputError(f"constant feature column(s) {np.flatnonzero(scale == 0).tolist()}")
        return dataclasses.replace(
            self, x_mean=np.zeros_like(self.x_mean), xx=self.xx / np.outer(scale, scale),
            xy=self.xy / scale,
        )  # fmt: skip

    def ridge_mode(self, alpha: float) -> tuple[float, np.ndarray]:
        """``Ridge(alpha)``'s intercept and coefficients: ``(C_xx + alpha I) w = C_xy``."""
        w = linalg.cho_solve(linalg.cho_factor(self.xx + alpha * np.eye(self.n_features)), self.xy)
        return float(self.y_mean - self.x_mean @ w), w

    def conjugate(self, alpha: float, noise_sd: float | None = None) -> ConjugatePosterior:
        r"""The exact posterior whose mode is Ridge(alpha) (see :func:`models.ridge.conjugate`).

        sigma fixed: Normal; sigma unknown (``p(sigma) ∝ 1 / sigma``, ``w | sigma ~ Normal(0, sigma /
        sqrt(alpha))``): Student-t with ``n - 1`` degrees of freedom and scale
        ``S / (n - 1)``, ``S = C_yy - w'C_xy`` at the mode (the penalised residual sum of squares).
        """
        alpha = positive(alpha, "alpha")
        factor = linalg.cho_factor(self.xx + alpha * np.eye(self.n_features))
        w = linalg.cho_solve(factor, self.xy)
        b0 = self.y_mean - self.x_mean @ w
        inner = linalg.cho_solve(factor, np.eye(self.n_features))
        if noise_sd is not None:
            s2, dof = positive(noise_sd, "noise sd (sigma)") ** 2, np.inf
        else:
            dof = float(self.n) - 1.0
            S = float(self.yy - w @ self.xy)
            if dof < 1 or not S > 0:
                raise InputError(
                    "sigma unknown needs at least 2 weighted rows and a target that is not "
                    "fitted exactly; pass a fixed noise sd instead"
                )
            s2 = S / dof
        return ConjugatePosterior(np.concatenate([[b0], w]), self.x_mean, self.weight_total,
                                  0.5 * (inner + inner.T), s2, dof)  # fmt: skip


def statistics_of(data: ModelData) -> GaussianStatistics:
    """``data.stats`` if the data arrive summarised, else the summary of ``data.X``, ``data.y``."""
    return data.stats if data.stats is not None else GaussianStatistics.from_arrays(data.X, data.y)


# -- the Dask pass ---------------------------------------------------------------------------------


def _block_statistics(X: np.ndarray, y: np.ndarray, index: int) -> GaussianStatistics | None:
    """One partition's statistics; a NaN or inf stops the pass and names the partition."""
    if not (np.all(np.isfinite(X)) and np.all(np.isfinite(y))):
        raise InputError(f"partition {index}: NaN or inf in the data; no posterior computed")
    return GaussianStatistics.from_arrays(X, y) if len(y) else None


def _frame_statistics(frame, features: list[str], target: str, index: int):
    return _block_statistics(
        frame[features].to_numpy(dtype=float), frame[target].to_numpy(dtype=float), index
    )


def _merge(a: GaussianStatistics | None, b: GaussianStatistics | None):
    if a is None or b is None:
        return b if a is None else a
    return a.merge(b)


def _tree(parts: list):
    """Merge delayed partition statistics pairwise: depth log2(partitions)."""
    from dask import delayed

    while len(parts) > 1:
        pairs = [delayed(_merge)(a, b) for a, b in zip(parts[::2], parts[1::2], strict=False)]
        parts = pairs + ([parts[-1]] if len(parts) % 2 else [])
    return parts[0]


def dask_statistics(X, y=None, *, target: str | None = None) -> GaussianStatistics:
    """Sufficient statistics of a dask array pair ``(X, y)`` or of a dask dataframe's columns.

    Parameters
    ----------
    X : dask.array.Array (n, p) or dask.dataframe.DataFrame
        Rows in partitions (an array is rechunked to whole rows).
    y : dask.array.Array (n,), optional
        The target, for an array ``X``.
    target : str, optional
        The target column, for a dataframe ``X``; every other column is a feature.

    Raises
    ------
    InputError
        An empty data set, or NaN/inf in a partition (named): nothing is returned.
    """
    from dask import compute, delayed

    if target is not None:
        features = [c for c in X.columns if c != target]
        parts = [delayed(_frame_statistics)(part, features, target, i)
                 for i, part in enumerate(X.to_delayed())]  # fmt: skip
    else:
        X = X.rechunk({1: X.shape[1]})
        y = y.rechunk((X.chunks[0],))
        parts = [delayed(_block_statistics)(xb, yb, i)
                 for i, (xb, yb) in enumerate(zip(X.to_delayed().ravel(), y.to_delayed(), strict=True))]  # fmt: skip
    (stats,) = compute(_tree(parts))
    if stats is None or stats.n < 2:
        raise InputError("the data set has fewer than 2 rows")
    return stats


@contextlib.contextmanager
def dask_client(scheduler: str | None = None, n_workers: int = 2) -> Iterator:
    """A ``dask.distributed`` client: on ``scheduler`` (``tcp://host:8786``) or on a LocalCluster
    of ``n_workers`` single-threaded worker processes started and stopped here."""
    from dask.distributed import Client, LocalCluster

    for name in ("distributed", "bokeh", "tornado"):
        logging.getLogger(name).setLevel(logging.ERROR)
    if scheduler is not None:
        try:
            client = Client(scheduler, timeout="5s")
        except (OSError, TimeoutError) as error:
            raise InputError(f"cannot reach the Dask scheduler at {scheduler}: {error}") from None
        with client:
            yield client
        return
    with (
        LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True,
                     dashboard_address=":0", silence_logs=logging.CRITICAL) as cluster,
        Client(cluster) as client,
    ):  # fmt: skip
        yield client


# -- the PyMC likelihood ---------------------------------------------------------------------------


def statistics_values(stats: GaussianStatistics) -> dict[str, object]:
    """The ``pm.Data`` values of :func:`normal_likelihood` for a summary (swap rows, not graphs)."""
    return {"n_rows": stats.weight_total, "x_mean": stats.x_mean, "y_mean": stats.y_mean,
            "xx": stats.xx, "xy": stats.xy, "yy": stats.yy}  # fmt: skip


def normal_likelihood(data: ModelData, intercept, w, sigma, name: str = "likelihood"):
    r"""``y ~ Normal(b0 + X w, sigma)`` as a ``pm.Potential`` written in the sufficient statistics.

    ``log p(y | b0, w, sigma) = -n/2 log(2 pi sigma^2) - [C_yy - 2 w'C_xy + w'C_xx w + n (ybar - b0
    - xbar'w)^2] / (2 sigma^2)``: the same function of the parameters as the row-by-row Normal
    likelihood, in O(p^2) per evaluation whatever n. Call inside a model; the statistics become
    ``pm.Data`` (:func:`statistics_values`), so one compiled model serves new rows of the same
    width. Pointwise quantities (LOO, predictive checks) come after sampling, from the draws
    (:func:`pointwise_log_likelihood`).

    Parameters
    ----------
    data : ModelData
        Rows (summarised here) or ``data.stats``.
    intercept, w, sigma : tensors (or 0.0 for a model without intercept)
    """
    c = {key: pm.Data(key, value) for key, value in statistics_values(statistics_of(data)).items()}
    offset = c["y_mean"] - intercept - pm.math.dot(c["x_mean"], w)
    squares = (c["yy"] - 2 * pm.math.dot(w, c["xy"]) + pm.math.dot(w, pm.math.dot(c["xx"], w))
               + c["n_rows"] * offset**2)  # fmt: skip
    log_two_pi_var = pm.math.log(2 * np.pi) + 2 * pm.math.log(sigma)
    return pm.Potential(name, -0.5 * c["n_rows"] * log_two_pi_var - squares / (2 * sigma**2))


def pointwise_log_likelihood(
    dt, X: np.ndarray, y: np.ndarray, noise_sd: float | None = None, chunk: int = 2_000_000
):
    """``log p(y_i | draw)`` for every draw and row, as the DataTree's ``log_likelihood`` group.

    Computed from the posterior draws after sampling, in row chunks of about ``chunk`` numbers, for
    a Gaussian model written with :func:`normal_likelihood` (which has no observed variable).
    Uses the draws of ``intercept`` (0 if absent), ``w`` and ``sigma`` (or ``noise_sd``).
    """
    import xarray as xr
    from scipy import stats as distributions

    posterior = dt["posterior"].dataset
    chains, draws = posterior.sizes["chain"], posterior.sizes["draw"]
    w = posterior["w"].values.reshape(chains * draws, -1)
    b0 = posterior["intercept"].values.reshape(-1) if "intercept" in posterior else np.zeros(len(w))
    sigma = (posterior["sigma"].values.reshape(-1) if noise_sd is None
             else np.full(len(w), noise_sd))  # fmt: skip
    out = np.empty((len(w), len(y)))
    step = max(1, chunk // len(w))
    for start in range(0, len(y), step):
        rows = slice(start, start + step)
        mean = b0[:, None] + w @ X[rows].T
        out[:, rows] = distributions.norm.logpdf(y[rows], mean, sigma[:, None])
    dt["log_likelihood"] = xr.DataTree(xr.Dataset(
        {"y": (("chain", "draw", "obs"), out.reshape(chains, draws, len(y)))},
        coords={"chain": posterior["chain"], "draw": posterior["draw"], "obs": np.arange(len(y))},
    ))  # fmt: skip
    return dt


__all__ = [
    "GaussianStatistics", "dask_client", "dask_statistics", "normal_likelihood",
    "pointwise_log_likelihood", "statistics_of", "statistics_values",
]  # fmt: skip
