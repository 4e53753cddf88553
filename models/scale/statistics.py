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

from models.core.arrays import draws_log_likelihood, ridge_posterior, warn_if_ill_conditioned
from models.core.base import ConjugatePosterior, InputError, ModelData, ModelSpec
from models.core.data import CONSTANT, is_constant
from models.core.lazy import lazy

pm = lazy("pymc")


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

    def standardized(self, names: list[str] | None = None) -> GaussianStatistics:
        """The statistics of the columns centred and scaled to unit sd, derived exactly; a
        constant column (:func:`models.core.data.is_constant`) is refused, by name if ``names``."""
        scale = self.x_sd
        constant = np.flatnonzero(is_constant(scale, np.abs(self.x_mean) + scale))
        if len(constant):
            shown = [names[j] for j in constant] if names is not None else constant.tolist()
            raise InputError(
                f"feature column(s) {CONSTANT} cannot be standardised: {', '.join(map(str, shown))}"
            )
        return dataclasses.replace(
            self, x_mean=np.zeros_like(self.x_mean), xx=self.xx / np.outer(scale, scale),
            xy=self.xy / scale,
        )  # fmt: skip

    def ridge_mode(self, alpha: float) -> tuple[float, np.ndarray]:
        """``Ridge(alpha)``'s intercept and coefficients: ``(C_xx + alpha I) w = C_xy``, the mode of
        :meth:`conjugate` (which does not depend on sigma)."""
        mode = self.conjugate(alpha, 1.0).mean
        return float(mode[0]), mode[1:]

    def conjugate(self, alpha: float, noise_sd: float | None = None) -> ConjugatePosterior:
        r"""The exact posterior whose mode is Ridge(alpha): :func:`models.core.arrays.ridge_posterior`
        of these statistics (Normal for a fixed sigma, Student-t for sigma unknown); a
        ``LinAlgWarning`` says when ill-conditioning limits its accuracy."""
        posterior = ridge_posterior(alpha, noise_sd, **vars(self))  # alpha and sigma checked first
        warn_if_ill_conditioned(self.xx, alpha)
        return posterior


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
        except (OSError, TimeoutError, ValueError) as error:
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
    dt, X: np.ndarray, y: np.ndarray, noise_sd: float | None = None, spec: ModelSpec | None = None
):
    """``log p(y_i | draw)`` for every draw and row, as the DataTree's ``log_likelihood`` group.

    Computed from the posterior draws after sampling (:func:`models.core.arrays.draws_log_likelihood`,
    in row chunks), for a Gaussian model written with :func:`normal_likelihood` (which has no
    observed variable). Uses the draws of the intercept (0 if absent), the coefficients and the
    noise sd (or ``noise_sd``), named as ``spec`` names them (default: the names of the
    :class:`~models.core.base.ModelSpec` contract, ``intercept``, ``w``, ``sigma``).
    """
    import xarray as xr

    names = ModelSpec if spec is None else spec  # the class holds the contract's default names
    posterior = dt["posterior"].dataset
    chains, draws = posterior.sizes["chain"], posterior.sizes["draw"]
    w = posterior[names.coefficients].values.reshape(chains * draws, -1)
    b0 = (posterior[names.intercept].values.reshape(-1) if names.intercept in posterior
          else np.zeros(len(w)))  # fmt: skip
    sigma = (posterior[names.noise_variable].values.reshape(-1) if noise_sd is None
             else noise_sd)  # fmt: skip
    out = draws_log_likelihood("gaussian", b0, w, X, y, sigma)
    dt["log_likelihood"] = xr.DataTree(xr.Dataset(
        {"y": (("chain", "draw", "obs"), out.reshape(chains, draws, len(y)))},
        coords={"chain": posterior["chain"], "draw": posterior["draw"], "obs": np.arange(len(y))},
    ))  # fmt: skip
    return dt


__all__ = [
    "GaussianStatistics", "dask_client", "dask_statistics", "normal_likelihood",
    "pointwise_log_likelihood", "statistics_of", "statistics_values",
]  # fmt: skip
