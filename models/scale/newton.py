r"""A GLM's MAP and Laplace posterior from data in partitions: distributed Newton (IRLS), certified.

A Bernoulli or Poisson likelihood has no fixed-size summary: every gradient needs every row. It
is still a sum over rows, and so are its gradient and Hessian. With ``eta = b0 + X w`` and the
negative log likelihood ``sum_i l(eta_i, y_i)``,

    g = [1 X]' l'(eta, y)        H = [1 X]' diag(l''(eta, y)) [1 X] ,

so one Dask pass over the partitions (one task each, summed as a tree) gives the gradient (p + 1)
and the Hessian (p + 1 x p + 1) of the likelihood at a point; the Normal prior's terms
``||w||^2 / (2 tau^2)`` are added once, on the client. :func:`newton_map` is damped Newton on
that objective:

* each pass evaluates the objective along the previous Newton direction at a ladder of step sizes
  (1, 1/2, ..., 1/512) and the gradient and Hessian at the full step; the line search (Armijo,
  as :class:`models.inference.engines.MAPSolver`) takes the largest step that decreases enough,
  so an iteration costs one pass when the full Newton step is accepted (as it is near the mode),
  two when it is not; once certified, one more pass takes the last Newton step (the decrement
  about squares), which brings the coefficients to solver precision;
* the answer is certified as MAPSolver's: Newton decrement ``g' H^-1 g / 2`` below
  :data:`models.inference.engines.DECREMENT_TOL` nats at the returned point, with the gradient's
  largest entry (KKT) reported; a solver that cannot certify says so in :attr:`GLMMode.message`
  and :meth:`GLMMode.certify` raises;
* every partition is checked in its task: NaN or inf in the features or the target, or a target
  the family cannot observe (a non-binary target for logistic regression), stops the pass with
  the partition named (:class:`~models.core.base.InputError`).

The Laplace posterior ``Normal(MAP, H^-1)`` (:meth:`GLMMode.laplace`) uses the Hessian of the
final pass, the one at the certified mode. For logistic regression the final pass also records
whether the MAP's own direction separates the classes (every event's ``x'w`` above every
non-event's): then the data are completely separated, the likelihood alone has no mode and the
MAP exists only because of the prior, which :attr:`GLMMode.separated` says. The test is
sufficient, not necessary: a separation along another direction is not seen.

Own code rather than a library: dask-ml's GLM solvers (admm, lbfgs, newton, proximal gradient)
predate the installed Dask and return no certificate; glum and statsmodels fit in memory only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from models.core.arrays import laplace_covariance, normal_draws
from models.core.base import InputError
from models.core.families import Family, family
from models.core.lazy import lazy
from models.inference.engines import DECREMENT_TOL

special = lazy("scipy.special")

MAX_ITERATIONS = 50
STEPS = 0.5 ** np.arange(10)  # the line search's ladder: 1, 1/2, ..., 1/512
ARMIJO = 1e-4
# Round-off allowance of the line search: sums of 10^8 rows carry relative errors ~1e-13, so a
# step that changes the objective by less is judged by the certificate, not by the sum.
ROUNDOFF = 1e-12


@dataclass(frozen=True)
class Deviance:
    """A family's negative log likelihood in the linear predictor and its first two derivatives.

    Each is ``f(eta, y) -> array`` elementwise, up to terms free of ``eta`` (which move neither
    the mode nor the Hessian); the mean function is the family's own
    (:attr:`models.core.families.Family.mean`).
    """

    value: Callable[[np.ndarray, np.ndarray], np.ndarray]
    first: Callable[[np.ndarray, np.ndarray], np.ndarray]
    second: Callable[[np.ndarray, np.ndarray], np.ndarray]


def _bernoulli_mean(eta):
    return family("bernoulli").mean(eta)


# Canonical links (logit, log): l' = mu - y and l'' = Var(y) / phi = mu (1 - mu) or mu. Gamma with
# the log link (per unit dispersion): l = y exp(-eta) + eta.
DEVIANCES: dict[str, Deviance] = {
    "bernoulli": Deviance(
        value=lambda eta, y: np.logaddexp(0.0, eta) - y * eta,
        first=lambda eta, y: _bernoulli_mean(eta) - y,
        second=lambda eta, y: _bernoulli_mean(eta) * _bernoulli_mean(-eta),
    ),
    "poisson": Deviance(
        value=lambda eta, y: np.exp(eta) - y * eta,
        first=lambda eta, y: np.exp(eta) - y,
        second=lambda eta, y: np.exp(eta),
    ),
    "gamma": Deviance(
        value=lambda eta, y: y * np.exp(-eta) + eta,
        first=lambda eta, y: 1.0 - y * np.exp(-eta),
        second=lambda eta, y: y * np.exp(-eta),
    ),
}


@dataclass(frozen=True)
class PassResult:
    """What one pass returns, summed over partitions (likelihood only; no prior).

    Attributes
    ----------
    rows : int
    values : array (len(steps),)
        The negative log likelihood at each step of the ladder.
    grad : array (p + 1,)
        Gradient at the first step, intercept first.
    hess : array (p + 1, p + 1)
        Hessian at the first step.
    lowest_event, highest_non_event : float
        Bernoulli: the smallest linear predictor among rows with y = 1 and the largest among
        rows with y = 0, at the first step (``inf`` / ``-inf`` without such rows); NaN otherwise.
    nonzero_targets : int
        Rows whose target is not 0.
    """

    rows: int
    values: np.ndarray
    grad: np.ndarray
    hess: np.ndarray
    lowest_event: float
    highest_non_event: float
    nonzero_targets: int

    def merge(self, other: PassResult) -> PassResult:
        return PassResult(
            self.rows + other.rows,
            self.values + other.values,
            self.grad + other.grad,
            self.hess + other.hess,
            min(self.lowest_event, other.lowest_event),
            max(self.highest_non_event, other.highest_non_event),
            self.nonzero_targets + other.nonzero_targets,
        )


def _block_pass(X, y, index, name, theta, direction, steps) -> PassResult | None:
    """One partition's part of a pass; bad values stop it with the partition named."""
    X, y = np.asarray(X, dtype=float), np.asarray(y, dtype=float)
    if not (np.all(np.isfinite(X)) and np.all(np.isfinite(y))):
        raise InputError(f"partition {index}: NaN or inf in the data; no posterior computed")
    fam = family(name)
    if not np.all(fam.accepts(y)):
        shown = ", ".join(f"{v:g}" for v in np.unique(y[~np.asarray(fam.accepts(y), bool)])[:5])
        raise InputError(f"partition {index}: the {name} model needs {fam.target}; got {shown}")
    if not len(y):
        return None
    deviance = DEVIANCES[name]
    eta = theta[0] + X @ theta[1:]
    slope = direction[0] + X @ direction[1:]
    with np.errstate(over="ignore", invalid="ignore"):  # a trial step too far: inf or NaN, refused
        values = np.array([np.sum(deviance.value(eta + t * slope, y)) for t in steps])
        at = eta + steps[0] * slope
        first, second = deviance.first(at, y), deviance.second(at, y)
    grad = np.concatenate([[first.sum()], first @ X])
    weighted = X * second[:, None]
    hess = np.empty((len(theta), len(theta)))
    hess[0, 0] = second.sum()
    hess[0, 1:] = hess[1:, 0] = second @ X
    hess[1:, 1:] = weighted.T @ X
    if name == "bernoulli":
        events = y == 1
        low = float(at[events].min()) if events.any() else np.inf
        high = float(at[~events].max()) if (~events).any() else -np.inf
    else:
        low = high = np.nan
    return PassResult(len(y), values, grad, hess, low, high, int(np.count_nonzero(y)))


def _block_log_likelihood(X, y, index, name, thetas, rows=2_000) -> np.ndarray:
    """One partition's log likelihood (up to terms free of the parameters) at each row of
    ``thetas`` (draws x p + 1), in sub-blocks of ``rows`` rows (memory: rows x draws)."""
    X, y = np.asarray(X, dtype=float), np.asarray(y, dtype=float)
    if not (np.all(np.isfinite(X)) and np.all(np.isfinite(y))):
        raise InputError(f"partition {index}: NaN or inf in the data; no posterior computed")
    deviance, total = DEVIANCES[name], np.zeros(len(thetas))
    for start in range(0, len(y), rows):
        eta = thetas[:, 0] + X[start : start + rows] @ thetas[:, 1:].T  # (rows, draws)
        with np.errstate(over="ignore"):
            total -= deviance.value(eta, y[start : start + rows, None]).sum(axis=0)
    return total


def _frame_pass(frame, features, target, index, *args):
    return _block_pass(frame[features].to_numpy(dtype=float), frame[target].to_numpy(dtype=float),
                       index, *args)  # fmt: skip


def _frame_log_likelihood(frame, features, target, index, *args):
    return _block_log_likelihood(frame[features].to_numpy(dtype=float),
                                 frame[target].to_numpy(dtype=float), index, *args)  # fmt: skip


def _merge(a: PassResult | None, b: PassResult | None) -> PassResult | None:
    if a is None or b is None:
        return b if a is None else a
    return a.merge(b)


class Partitions:
    """The rows of a GLM as Dask partitions: a dask array pair ``(X, y)`` or a dask dataframe and
    its target column (every other column a feature).

    Parameters
    ----------
    X : dask.array.Array (n, p) or dask.dataframe.DataFrame
    y : dask.array.Array (n,), optional
    target : str, optional
    """

    def __init__(self, X, y=None, *, target: str | None = None):
        self.passes = 0
        if target is not None:
            self.features = [c for c in X.columns if c != target]
            self._parts = [((_frame_pass, _frame_log_likelihood), (part, self.features, target))
                           for part in X.to_delayed()]  # fmt: skip
        else:
            X = X.rechunk({1: X.shape[1]})
            y = y.rechunk((X.chunks[0],))
            self.features = [f"x{j}" for j in range(X.shape[1])]
            self._parts = [((_block_pass, _block_log_likelihood), (xb, yb)) for xb, yb in
                           zip(X.to_delayed().ravel(), y.to_delayed(), strict=True)]  # fmt: skip

    @property
    def n_features(self) -> int:
        return len(self.features)

    def run(self, name: str, theta: np.ndarray, direction: np.ndarray, steps) -> PassResult:
        """One pass: the likelihood at ``theta + t direction`` for each ``t`` of ``steps``, its
        gradient and Hessian at the first step.

        Raises
        ------
        InputError
            NaN, inf or an unobservable target in a partition (named), or no rows at all.
        """
        from dask import delayed

        steps = np.asarray(steps, dtype=float)
        parts = [delayed(tasks[0])(*args, index, name, theta, direction, steps)
                 for index, (tasks, args) in enumerate(self._parts)]  # fmt: skip
        result = self._sum(parts, _merge)
        if result is None or result.rows < 2:
            raise InputError("the data set has fewer than 2 rows")
        return result

    def log_likelihood(self, name: str, thetas: np.ndarray) -> np.ndarray:
        """One pass: the log likelihood (up to terms free of the parameters) at each of the
        parameter vectors ``thetas`` (draws x p + 1, intercept first), summed over all rows."""
        from dask import delayed

        parts = [delayed(tasks[1])(*args, index, name, thetas)
                 for index, (tasks, args) in enumerate(self._parts)]  # fmt: skip
        return self._sum(parts, np.add)

    def _sum(self, parts: list, merge):
        """Merge delayed partition results pairwise (depth log2(partitions)) and compute: one
        pass."""
        from dask import compute, delayed

        while len(parts) > 1:
            pairs = [delayed(merge)(a, b) for a, b in zip(parts[::2], parts[1::2], strict=False)]
            parts = pairs + ([parts[-1]] if len(parts) % 2 else [])
        (result,) = compute(parts[0])
        self.passes += 1
        return result


@dataclass
class GLMMode:
    """A certified (or not) MAP of a GLM with a Normal prior on the coefficients, flat intercept.

    Attributes
    ----------
    theta : array (p + 1,)
        Intercept, then coefficients.
    hessian : array (p + 1, p + 1)
        Hessian of the negative log posterior at ``theta`` (from the final pass).
    gradient : array (p + 1,)
        Its gradient there (the KKT residual).
    newton_decrement : float
        ``g' H^-1 g / 2`` at ``theta``, nats.
    iterations, passes : int
        Newton steps taken and Dask passes over the data.
    rows : int
    converged : bool
        Certified: decrement below ``DECREMENT_TOL`` before the pass cap.
    separated : bool
        Bernoulli: the MAP's direction separates the classes (complete separation): the
        likelihood alone has no mode; the prior makes this one.
    reason : str
        Why it stopped, when not certified ("" otherwise).
    """

    theta: np.ndarray
    hessian: np.ndarray
    gradient: np.ndarray
    newton_decrement: float
    iterations: int
    passes: int
    rows: int
    converged: bool
    separated: bool
    reason: str = ""

    @property
    def intercept(self) -> float:
        return float(self.theta[0])

    @property
    def coef(self) -> np.ndarray:
        return self.theta[1:]

    @property
    def kkt_violation(self) -> float:
        return float(np.max(np.abs(self.gradient)))

    @property
    def message(self) -> str:
        """One line: certified or not, by what numbers (and why not)."""
        state = "converged" if self.converged else f"DID NOT CONVERGE ({self.reason})"
        return (
            f"distributed MAP {state}: {self.iterations} Newton iterations in {self.passes} "
            f"passes over {self.rows} rows, Newton decrement {self.newton_decrement:.1e} nats, "
            f"gradient (KKT) violation {self.kkt_violation:.1e}"
        )

    def certify(self) -> GLMMode:
        """``self`` if converged; else :class:`~models.inference.engines.ConvergenceError`."""
        from models.inference.engines import ConvergenceError

        if not self.converged:
            raise ConvergenceError(self.message)
        return self

    def laplace(self) -> tuple[np.ndarray, np.ndarray]:
        """The Laplace posterior ``Normal(theta, H^-1)``: its mean and covariance."""
        return self.theta.copy(), laplace_covariance(self.hessian)


@dataclass(frozen=True)
class ImportanceCheck:
    """The Laplace posterior's draws reweighted to the exact posterior (PSIS, Vehtari et al.).

    Attributes
    ----------
    pareto_k : float
        The fitted tail shape of the importance ratios: below 0.7 the reweighting is reliable.
    ess : float
        Effective sample size of the smoothed weights (of ``draws``).
    draws : int
    mean_shift_sd : array (p + 1,)
        ``E_post[theta] - MAP`` in Laplace sds, estimated as ``sum_i (w_i - 1/S)(theta_i - MAP)``
        (the reweighted minus the plain average of the same draws, whose noise vanishes as the
        weights approach uniform); intercept first.
    sd_ratio : array (p + 1,)
        The reweighted sds over the Laplace sds.
    """

    pareto_k: float
    ess: float
    draws: int
    mean_shift_sd: np.ndarray
    sd_ratio: np.ndarray


def importance_check(
    data: Partitions, family_name: str, prior_sd: float, mode: GLMMode, draws: int = 2000,
    seed: int = 0,
) -> ImportanceCheck:  # fmt: skip
    """PSIS of ``draws`` Laplace draws against the exact posterior: one more pass over the data
    (the log likelihood of every draw, summed over partitions)."""
    from arviz_stats.base import array_stats
    from scipy import stats

    mean, cov = mode.laplace()
    thetas = normal_draws(np.random.default_rng(seed), mean, cov, draws)
    log_posterior = data.log_likelihood(family_name, thetas)
    log_posterior -= 0.5 * np.sum(thetas[:, 1:] ** 2, axis=1) / prior_sd**2
    log_ratio = log_posterior - stats.multivariate_normal(mean, cov).logpdf(thetas)
    # psislw takes the negated log ratios (LOO's log likelihood) and returns smoothed log weights
    log_weights, khat = array_stats.psislw(np.max(log_ratio) - log_ratio)
    weights = np.exp(log_weights - np.logaddexp.reduce(log_weights))
    sd = np.sqrt(np.diag(cov))
    reweighted = weights @ thetas
    spread = np.sqrt(weights @ (thetas - reweighted) ** 2)
    return ImportanceCheck(
        float(khat), float(1.0 / np.sum(weights**2)), draws,
        (weights - 1.0 / draws) @ (thetas - mean) / sd, spread / sd,
    )  # fmt: skip


def _with_prior(result: PassResult, theta, direction, steps, precision: float):
    """Negative log posterior values along the ladder, gradient and Hessian at the first step."""
    w, dw = theta[1:], direction[1:]
    values = result.values + 0.5 * precision * np.array([np.sum((w + t * dw) ** 2) for t in steps])
    at = theta + steps[0] * direction
    grad = result.grad + precision * np.concatenate([[0.0], at[1:]])
    hess = result.hess + precision * np.diag(np.concatenate([[0.0], np.ones(len(w))]))
    return values, grad, hess


def _decrement(grad: np.ndarray, hess: np.ndarray) -> tuple[np.ndarray | None, float]:
    """The Newton step and decrement, or (None, inf) when the Hessian is not positive definite."""
    try:
        lower = np.linalg.cholesky(hess)
    except np.linalg.LinAlgError:
        return None, np.inf
    step = -np.linalg.solve(lower.T, np.linalg.solve(lower, grad))
    return step, float(-0.5 * grad @ step)


def newton_map(
    data: Partitions, family_name: str, prior_sd: float, max_iterations: int = MAX_ITERATIONS
) -> GLMMode:
    """The MAP of ``y_i ~ family(b0 + x_i w)``, ``w_j ~ Normal(0, prior_sd)``, ``b0`` flat.

    Parameters
    ----------
    data : Partitions
    family_name : {"bernoulli", "poisson", "gamma"}
        A family of :data:`models.core.families.FAMILIES` with the canonical or log link; the
        Gamma likelihood is per unit dispersion (fold phi into ``prior_sd``:
        ``tau^2 = phi / (n alpha)``).
    prior_sd : float
        ``tau``: ``sqrt(C)`` for ``LogisticRegression(C)``, ``1 / sqrt(n alpha)`` for
        ``PoissonRegressor(alpha)``.
    max_iterations : int
        Newton steps allowed (each one or two passes; one more pass at the start).

    Returns
    -------
    GLMMode
        Check ``converged`` (or call ``certify()``): an uncertified answer says why.

    Raises
    ------
    InputError
        Bad data in a partition (named), or a target the family cannot have a mode for (all 0
        for the Poisson); nothing is returned.
    """
    fam: Family = family(family_name)
    if family_name not in DEVIANCES:
        raise ValueError(f"no distributed Newton for the {fam.name} family; known: "
                         f"{', '.join(DEVIANCES)}")  # fmt: skip
    precision = 1.0 / prior_sd**2
    theta = np.zeros(data.n_features + 1)
    result, value, grad, hess = _at(data, family_name, theta, precision)
    if fam.not_all_zero and result.nonzero_targets == 0:
        raise InputError(f"the {fam.name} model {fam.invalid_target(np.zeros(1))}")
    iterations, reason = 0, ""
    while True:
        step, decrement = _decrement(grad, hess)
        if decrement <= DECREMENT_TOL:
            # certified here; one more pass takes the step already computed (the decrement about
            # squares), to solver precision as MAPSolver's polish: stopping here left the
            # coefficients ~1e-7 from the in-memory twin's
            polished = _polished(data, family_name, theta, step, value, decrement, precision)
            if polished is not None:
                theta, (result, value, grad, hess), decrement = polished
            break
        if step is None:
            reason = "the Hessian is not positive definite"
            break
        if iterations >= max_iterations:
            reason = f"{max_iterations} Newton iterations"
            break
        iterations += 1
        # one pass: the objective along the step at every size of the ladder, and the gradient
        # and Hessian at the full step
        trial = data.run(family_name, theta, step, STEPS)
        values, full_grad, full_hess = _with_prior(trial, theta, step, STEPS, precision)
        allowed = value + ARMIJO * STEPS * float(grad @ step) + ROUNDOFF * abs(value)
        accepted = np.flatnonzero(values <= allowed)
        if not len(accepted):
            reason = "no step along the Newton direction decreases the objective"
            break
        t = STEPS[accepted[0]]
        theta = theta + t * step
        if t == STEPS[0]:
            result, value, grad, hess = trial, float(values[0]), full_grad, full_hess
        else:  # a second pass for the gradient and Hessian at the shorter step
            result, value, grad, hess = _at(data, family_name, theta, precision)
    separated = bool(result.lowest_event > result.highest_non_event)
    return GLMMode(theta, hess, grad, decrement, iterations, data.passes, result.rows,
                   converged=not reason, separated=separated, reason=reason)  # fmt: skip


def _polished(data, family_name, theta, step, value, decrement, precision):
    """``(theta + step, its pass, its decrement)`` when the step keeps the objective within
    round-off and the decrement does not grow, else None (the certified point stands)."""
    if step is None or not decrement > 0:
        return None
    candidate = theta + step
    at = _at(data, family_name, candidate, precision)
    new_decrement = _decrement(at[2], at[3])[1]
    if at[1] <= value + ROUNDOFF * abs(value) and new_decrement <= decrement:
        return candidate, at, new_decrement
    return None


def _at(data: Partitions, family_name: str, theta: np.ndarray, precision: float):
    """One pass at ``theta``: the pass, the objective, its gradient and Hessian."""
    steps = np.zeros(1)
    result = data.run(family_name, theta, np.zeros_like(theta), steps)
    values, grad, hess = _with_prior(result, theta, np.zeros_like(theta), steps, precision)
    return result, float(values[0]), grad, hess


__all__ = [
    "DEVIANCES", "GLMMode", "ImportanceCheck", "Partitions", "PassResult", "importance_check",
    "newton_map",
]  # fmt: skip
