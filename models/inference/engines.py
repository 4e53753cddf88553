"""Inference engines shared by every model: an exact MAP solver and a reusable NUTS sampler.

Both compile the PyMC model once and then only swap the values of its ``pm.Data`` containers, so a
sweep over 25 penalties costs one compilation. Both treat ``pm.Data`` the same way: the values a
call is given are set on the model's containers and stay set, so whatever is computed from the
model afterwards (log likelihood, log prior, posterior predictive) sees the values of the last fit.

The MAP solver minimises ``f(theta) + sum_j lambda_j |theta_j|`` where ``f`` is the negative smooth
log posterior (value, gradient and Hessian compiled from the PyMC graph) and the L1 part comes from
the model's Laplace terms. It runs proximal Newton: each step minimises the second-order model of
``f`` plus the exact L1 term by coordinate descent, then a backtracking line search; a final Newton
polish on the active set (signs fixed) brings the answer to machine precision. With no L1 terms it
is plain damped Newton, which is exact in one step on a quadratic objective (ridge).

The Hessian is the Jacobian of the gradient for all coordinates at once (PyTensor's vectorised
Jacobian: one batched graph, no loop over the parameters). When it does not depend on the
parameters at all (a quadratic objective: ridge with sigma fixed) it is computed and factorised
once per solve, so a solve with 2,000 coefficients costs one Hessian and one Cholesky factorisation.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

from models.core.arrays import laplace_covariance, normal_draws
from models.core.base import ModelSpec
from models.core.lazy import lazy
from models.inference import numba_ops, nutpie_cache

az = lazy("arviz")
linalg = lazy("scipy.linalg")
nutpie = lazy("nutpie")
pm = lazy("pymc")
pytensor = lazy("pytensor")
pt = lazy("pytensor.tensor")
tensor_shape = lazy("pytensor.tensor.shape")
threadpoolctl = lazy("threadpoolctl")
xr = lazy("xarray")

MAX_ITERATIONS = 200
# Converged when the Newton decrement g' H^-1 g / 2 (the predicted remaining decrease of the negative
# log posterior, in nats: unit-free and invariant to rescaling the parameters) is below this, and
# every exact zero of an L1 term satisfies |g_j| <= lambda_j to a relative 1e-6.
DECREMENT_TOL = 1e-9
ZERO_KKT_RTOL = 1e-6


R_HAT_MAX = 1.01
ESS_MIN = 400
# Tuning iterations per chain: one policy for every fit, read off the table of
# ``python -m benchmarks.tuning`` (docs/bench.md, "Tuning length"), which flags any posterior where
# its verdict and this policy disagree. nutpie's adaptation (a low-rank mass matrix, the step size
# by dual averaging) has settled after TUNE, nutpie's own default, on most of the suite's
# posteriors: their draws have the same bulk and tail ESS after 300 tuning iterations as after
# 1000, and the 700 more, none of them a draw, were 30-42% of the gradients of a fit of 4 x 1000
# draws. On the shrinkage priors (the horseshoe, R2D2, the Bayesian Lasso's tails) and the
# multinomial's weights (a direction only the prior pins) the ESS after 300 is 15-60% lower or
# within noise of it: they keep PyMC's 1000, as does the network (not measured; its twin's
# default was 500).
TUNE = 300
TUNE_LONG = 1000
LONG_TUNING = frozenset({"horseshoe", "r2d2", "bayesian_lasso", "multinomial", "mlp"})
SIGMA_FREE = ", sigma free"  # a Gaussian model's name + this: its twin's model with sigma sampled
BFMI_MIN = 0.3  # E-BFMI below this: the momentum resampling explores energy poorly (Betancourt)


def tuning_iterations(model: str) -> int:
    """NUTS tuning iterations per chain for ``model``: a registered model's name (with
    :data:`SIGMA_FREE` appended for its twin's sigma-free model), ``"mlp"``, or a shape of
    :mod:`benchmarks.tuning` (``"hierarchical"``, ``"bayesian_lasso"``, ``"gp"``, ...);
    :data:`TUNE_LONG` for the posteriors in :data:`LONG_TUNING`, :data:`TUNE` for the rest."""
    return TUNE_LONG if model in LONG_TUNING else TUNE


@dataclass
class Clock:
    """Seconds this process has spent compiling models and sampling (the runner's timings.json)."""

    compile: float = 0.0
    sampling: float = 0.0


CLOCK = Clock()


class ConvergenceError(RuntimeError):
    """The MAP solver stopped without certifying its answer."""


def quiet_pymc() -> None:
    """Silence PyMC's progress messages ("Finished [100%] ..."). Called by each engine once PyMC
    is imported: PyMC sets its logger to INFO on import when the root logger has no handler."""
    logging.getLogger("pymc").setLevel(logging.ERROR)


def set_data(model: pm.Model, values: dict[str, float] | None) -> None:
    """Set ``pm.Data`` containers of ``model`` (in the containers' own dtype).

    Raises
    ------
    TypeError
        When a value does not survive the container's dtype (float targets into a container made
        from integer ones): a silent cast would fit other data than the caller's.
    """
    for name, value in (values or {}).items():
        array = np.asarray(value)
        cast = array.astype(model[name].dtype)
        if not np.array_equal(cast, array, equal_nan=array.dtype.kind in "fc"):
            raise TypeError(f"pm.Data '{name}' holds {model[name].dtype}: these {array.dtype} "
                            "values would change in it (a model built on other data)")  # fmt: skip
        model[name].set_value(cast)


@dataclass
class MAPResult:
    """A MAP estimate.

    Attributes
    ----------
    point : dict
        Values of the free variables (constrained space) at the mode.
    iterations : int
        Proximal-Newton iterations used.
    kkt_violation : float
        Max violation of the optimality conditions (gradient of the smooth part, or its excess over
        the L1 weight at exact zeros), in the parameters' own units.
    newton_decrement : float
        ``g' H^-1 g / 2`` on the free coordinates at the answer: the decrease of the negative log
        posterior still available, in nats (scale-free).
    converged : bool
        True when the answer is certified: stopped before the iteration cap, Newton decrement
        below ``DECREMENT_TOL`` and every exact zero optimal.
    flat : array
        The mode as one flat vector of the value variables (unconstrained space).
    """

    point: dict[str, np.ndarray]
    iterations: int
    kkt_violation: float
    newton_decrement: float
    converged: bool
    flat: np.ndarray

    @property
    def message(self) -> str:
        """One line saying whether the answer is certified, and by what numbers."""
        state = "converged" if self.converged else "DID NOT CONVERGE"
        return (
            f"MAP {state}: {self.iterations} Newton iterations, Newton decrement "
            f"{self.newton_decrement:.1e} nats, gradient (KKT) violation {self.kkt_violation:.1e}"
        )

    def certify(self) -> MAPResult:
        """Return ``self`` if converged; else raise :class:`ConvergenceError` with :attr:`message`."""
        if not self.converged:
            raise ConvergenceError(self.message)
        return self


@dataclass
class Gaussian:
    """A Gaussian over a model's free variables, flattened and joined (value-variable space).

    Attributes
    ----------
    mean : array (d,)
    cov : array (d, d)
    slices : dict
        Where each value variable sits in the flat vector.
    history : array or None
        The optimiser's objective per step, when it came from one (ADVI: the negative ELBO).
    converged : bool or None
        Whether the optimiser met its convergence rule (ADVI: :func:`fit_advi`); None for none.
    window_change : float or None
        The optimiser's last convergence statistic (ADVI: the change between window averages).
    steps : int or None
        The optimiser's steps.
    """

    mean: np.ndarray
    cov: np.ndarray
    slices: dict[str, slice]
    history: np.ndarray | None = None
    converged: bool | None = None
    window_change: float | None = None
    steps: int | None = None

    def draws(self, rng: np.random.Generator, size: int) -> np.ndarray:
        """``size`` flat draws (``(size, d)``), by the Cholesky factor of ``cov``
        (:func:`models.core.arrays.normal_draws`: a covariance that is not positive definite
        raises)."""
        return normal_draws(rng, self.mean, self.cov, size)

    def block(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """Mean and covariance of one variable (e.g. ``"w"``)."""
        part = self.slices[name]
        return self.mean[part], self.cov[part, part]


class MAPSolver:
    """Exact posterior mode of a PyMC model, compiled once and reused across ``pm.Data`` values.

    :meth:`solve` sets the given ``pm.Data`` values on the model (they stay set) and returns a
    :class:`MAPResult` that says whether it converged: it never returns an uncertified answer
    silently. Steps are damped Newton (proximal Newton with L1 terms); an indefinite or badly scaled
    Hessian is shifted relative to its own diagonal, ``H + mu diag(|H_jj|)``, so a coordinate with
    curvature 1e16 (a pinned variable) and one with curvature 1 are treated alike.

    Parameters
    ----------
    model : pm.Model
        The model. Its free variables are optimised jointly (transformed variables in their
        unconstrained space, without Jacobian, so the mode is that of the original density).
    spec : ModelSpec, optional
        Supplies the L1 (Laplace) terms, if any.
    """

    def __init__(self, model: pm.Model, spec: ModelSpec | None = None):
        started = time.perf_counter()
        self.model = model
        quiet_pymc()
        numba_ops.register()  # no object-mode ops in second derivatives (trigamma)
        l1_terms = spec.l1_terms if spec is not None else ()
        excluded = {term.term for term in l1_terms}
        smooth_terms = [
            v
            for v in model.free_RVs + model.observed_RVs + model.potentials
            if v.name not in excluded
        ]
        neg_logp = -model.logp(vars=smooth_terms, jacobian=False)
        # the start follows the pm.Data values of each solve (a GLM's dispersion starts at the
        # moment estimate of the data being fitted, not of the data the solver was built on)
        self._initial_point_fn = pm.initial_point.make_initial_point_fn(
            model=model, return_transformed=True
        )
        self.initial_point = self._initial_point_fn(None)
        value_vars = model.value_vars
        [neg_logp_flat], flat = pm.pytensorf.join_nonshared_inputs(
            self.initial_point, [neg_logp], value_vars
        )
        grad = pt.grad(neg_logp_flat, flat)
        hess = pytensor.gradient.jacobian(grad, flat, vectorize=True)
        self._value_and_grad = pytensor.function([flat], [neg_logp_flat, grad])
        self._hessian = pytensor.function([flat], hess)
        self._constant_hessian = not _uses_values(self._hessian.maker.fgraph)
        self._curvature: dict[bytes | None, Curvature] = {}
        self._value_vars = [v.name for v in value_vars]
        self._sizes = [np.asarray(self.initial_point[name]).size for name in self._value_vars]
        self._shapes = [np.asarray(self.initial_point[name]).shape for name in self._value_vars]
        offsets = np.cumsum([0, *self._sizes])
        self._slices = dict(
            zip(
                self._value_vars,
                (slice(a, b) for a, b in zip(offsets[:-1], offsets[1:], strict=True)),
                strict=True,
            )
        )
        self._l1 = []
        for term in l1_terms:
            value_name = model.rvs_to_values[model[term.variable]].name
            self._l1.append((self._slices[value_name], model[term.scale]))
        constrained = pm.util.get_default_varnames(
            model.unobserved_value_vars, include_transformed=False
        )
        self._constrained_names = [v.name for v in constrained]
        self._unconstrained_to_point = pytensor.function(
            value_vars, constrained, on_unused_input="ignore"
        )
        CLOCK.compile += time.perf_counter() - started

    def _flat_start(self, point: dict) -> np.ndarray:
        """The model's initial point (``point``, by value-variable name) as one flat vector."""
        return np.concatenate([np.ravel(point[name]) for name in self._value_vars])

    def _l1_weights(self) -> np.ndarray:
        weights = np.zeros(sum(self._sizes))
        for part, scale in self._l1:
            weights[part] = 1.0 / float(scale.get_value())
        return weights

    def solve(
        self, values: dict[str, float] | None = None, x0: np.ndarray | None = None
    ) -> MAPResult:
        """Return the posterior mode for the given ``pm.Data`` values.

        Parameters
        ----------
        values : dict, optional
            ``pm.Data`` values to set first (e.g. ``{"prior_sd": 10.0}``).
        x0 : array, optional
            Starting point in the flat unconstrained space (default: the model's initial point at
            these ``pm.Data`` values).
        """
        set_data(self.model, values)
        self._curvature.clear()  # Hessians of the previous data
        try:
            return self._solve(x0)
        finally:
            self._curvature.clear()

    def _solve(self, x0: np.ndarray | None) -> MAPResult:
        lam = self._l1_weights()
        if x0 is None:
            x0 = self._flat_start(self._initial_point_fn(None))
        x = np.array(x0, dtype=float)
        objective = self._objective(lam)
        value = objective(x)
        iterations, stopped = 0, False
        while iterations < MAX_ITERATIONS:
            iterations += 1
            _, grad = self._value_and_grad(x)
            step = _prox_newton_step(x, grad, self._curvature_at(x), lam)
            t = 1.0
            while t >= 1e-12:
                candidate = x + t * step
                new_value = objective(candidate)
                if new_value <= value + 1e-4 * t * _directional(grad, step, x, lam):
                    break
                t *= 0.5
            else:  # no step along the Newton direction decreases the objective: stay here and
                stopped = True  # let the certificate say whether this is the mode
                break
            x, previous = candidate, value
            value = new_value
            if np.max(np.abs(t * step)) <= 1e-13 * max(1.0, np.max(np.abs(x))) or (
                abs(previous - value) <= 1e-16 * max(1.0, abs(value)) and t == 1.0
            ):
                stopped = True
                break
        x = self._polish(x, lam)
        kkt, decrement, zeros_ok = self._certificate(x, lam)
        converged = stopped and decrement <= DECREMENT_TOL and zeros_ok
        return MAPResult(self._to_point(x), iterations, kkt, decrement, converged, x)

    def laplace(self, mode: MAPResult) -> Gaussian:
        r"""Laplace approximation: a Gaussian at the mode with the inverse Hessian as covariance.

        ``q(theta) = Normal(theta_MAP, H^{-1})`` with ``H`` the compiled second derivative of the
        negative log posterior at the mode. Exact when the log posterior is quadratic (ridge);
        undefined for L1 (Laplace-prior) terms, whose log density has no curvature at a zero.

        Parameters
        ----------
        mode : MAPResult
            What :meth:`solve` returned for the ``pm.Data`` values in question.

        Raises
        ------
        models.core.arrays.SingularHessian
            When ``H`` is not positive definite to working precision
            (:func:`models.core.arrays.laplace_covariance`): a flat direction (an improper flat
            prior the data do not pin) has no Laplace approximation.
        """
        if self._l1:
            raise ValueError("the Laplace approximation needs a smooth log posterior (no L1 terms)")
        cov = laplace_covariance(self._symmetric_hessian(mode.flat))
        return Gaussian(mode.flat, cov, dict(self._slices))

    def points(self, flat: np.ndarray) -> dict[str, np.ndarray]:
        """Values of the model's variables (constrained space) for each row of ``flat``.

        Parameters
        ----------
        flat : array (n_draws, d)
            Draws in the flat unconstrained space (e.g. from :meth:`laplace`).

        Returns
        -------
        dict
            ``{name: array (n_draws, *shape)}``, deterministics included.
        """
        rows = [self._to_point(x) for x in np.atleast_2d(flat)]
        return {name: np.stack([row[name] for row in rows]) for name in self._constrained_names}

    def _objective(self, lam: np.ndarray):
        def objective(x: np.ndarray) -> float:
            try:
                value = float(self._value_and_grad(x)[0]) + float(np.sum(lam * np.abs(x)))
            except (
                pm.logprob.utils.ParameterValueError
            ):  # a trial step left the support (e.g. p = 0 or 1 exactly)
                return np.inf
            return value if np.isfinite(value) else np.inf

        return objective

    def _symmetric_hessian(self, x: np.ndarray) -> np.ndarray:
        """The compiled Hessian at ``x`` (finite differences where it overflows), symmetrised."""
        hess = np.asarray(self._hessian(x), dtype=float)
        if not np.all(np.isfinite(hess)):
            hess = self._finite_difference_hessian(x)
        return 0.5 * (hess + hess.T)

    def _curvature_at(self, x: np.ndarray) -> Curvature:
        """The Hessian at ``x`` and its positive definite version, computed once per point within
        a solve (once per solve when the Hessian does not depend on the parameters)."""
        key = None if self._constant_hessian else x.tobytes()
        if key not in self._curvature:
            self._curvature = {key: Curvature.of(self._symmetric_hessian(x))}
        return self._curvature[key]

    def _finite_difference_hessian(self, x: np.ndarray) -> np.ndarray:
        """Central differences of the exact gradient.

        Used only where the symbolic Hessian overflows (saturated logits give inf * 0 in the
        Bernoulli-logit graph). The fixed point is set by the exact gradient, so an approximate
        Hessian slows Newton slightly but does not move the answer.
        """
        hess = np.empty((len(x), len(x)))
        for i in range(len(x)):
            h = 1e-6 * max(1.0, abs(x[i]))
            up, down = x.copy(), x.copy()
            up[i] += h
            down[i] -= h
            hess[i] = (self._value_and_grad(up)[1] - self._value_and_grad(down)[1]) / (2 * h)
        return hess

    def _polish(self, x: np.ndarray, lam: np.ndarray) -> np.ndarray:
        """Newton on the active set with signs fixed: the L1 term is linear there."""
        active = (lam == 0) | (x != 0)
        signs = np.sign(x)
        for _ in range(3):
            _, grad = self._value_and_grad(x)
            grad = grad + lam * signs
            step = np.zeros_like(x)
            step[active] = -self._curvature_at(x).solve(grad[active], active)
            candidate = x + step
            if np.any(np.sign(candidate[lam > 0]) * signs[lam > 0] < 0):
                break  # a sign would flip: the active set was not final; keep the prox answer
            x = candidate
        return x

    def _certificate(self, x: np.ndarray, lam: np.ndarray) -> tuple[float, float, bool]:
        """KKT violation, Newton decrement on the free coordinates, and whether zeros are optimal."""
        _, grad = self._value_and_grad(x)
        at_zero = (lam > 0) & (x == 0)
        smooth = grad + lam * np.sign(x)
        violation = np.where(at_zero, np.maximum(np.abs(grad) - lam, 0.0), np.abs(smooth))
        free = ~at_zero
        try:
            curvature = self._curvature_at(x)
            decrement = 0.5 * float(smooth[free] @ curvature.solve(smooth[free], free, exact=True))
        except np.linalg.LinAlgError:
            decrement = np.inf
        if not decrement >= 0:  # a negative or NaN decrement: not at a minimum
            decrement = np.inf
        zeros_ok = bool(np.all(violation[at_zero] <= ZERO_KKT_RTOL * lam[at_zero]))
        return float(np.max(violation, initial=0.0)), decrement, zeros_ok

    def _to_point(self, x: np.ndarray) -> dict[str, np.ndarray]:
        values = {
            name: x[self._slices[name]].reshape(shape)
            for name, shape in zip(self._value_vars, self._shapes, strict=True)
        }
        outputs = self._unconstrained_to_point(*(values[name] for name in self._value_vars))
        return dict(zip(self._constrained_names, map(np.asarray, outputs), strict=True))


@dataclass
class Curvature:
    """A symmetric Hessian ``H`` and ``H + mu D``, its smallest positive definite shift
    (``D = diag(|H_jj|)``, ``mu`` in {0, 1e-8, 2e-8, ...}: relative to each coordinate's own
    curvature), with the Cholesky factor of the latter.

    Attributes
    ----------
    hessian, shifted : array (d, d)
    lower : array (d, d)
        Lower Cholesky factor of ``shifted``.
    shift : float
        ``mu``.
    """

    hessian: np.ndarray
    shifted: np.ndarray
    lower: np.ndarray
    shift: float

    @classmethod
    def of(cls, hess: np.ndarray) -> Curvature:
        """``hess`` with its smallest positive definite shift and that shift's factor.

        Raises
        ------
        numpy.linalg.LinAlgError
            ``hess`` has a NaN or infinite entry (no shift makes it positive definite).
        """
        if not np.all(np.isfinite(hess)):
            raise np.linalg.LinAlgError("the Hessian has non-finite entries")
        diag = np.abs(np.diag(hess))
        scale = np.where(diag > 0, diag, max(float(diag.max(initial=0.0)), 1.0))
        shift = 0.0
        while True:
            shifted = hess + shift * np.diag(scale)
            try:
                return cls(hess, shifted, np.linalg.cholesky(shifted), shift)
            except np.linalg.LinAlgError:
                shift = max(2 * shift, 1e-8)

    def solve(self, rhs: np.ndarray, rows: np.ndarray, exact: bool = False) -> np.ndarray:
        """``A[rows, rows]^{-1} rhs`` for ``A`` the shifted Hessian (``exact``: the Hessian itself),
        by the stored factor when it applies (every row, and no shift for ``exact``)."""
        if np.all(rows) and not (exact and self.shift):
            return linalg.cho_solve((self.lower, True), rhs)
        matrix = self.hessian if exact else self.shifted
        return np.linalg.solve(matrix[np.ix_(rows, rows)], rhs)


def _uses_values(fgraph) -> bool:
    """Whether a compiled function's outputs depend on the values of its (only) input, not just
    on its shape."""
    shape_ops = (tensor_shape.Shape, tensor_shape.Shape_i)
    pending, seen = [fgraph.inputs[0]], set()
    while pending:
        variable = pending.pop()
        for node, _ in fgraph.clients[variable]:
            if isinstance(node.op, pytensor.graph.fg.Output):
                return True
            if isinstance(node.op, shape_ops) or node in seen:
                continue
            seen.add(node)
            pending.extend(node.outputs)
    return False


def _directional(grad: np.ndarray, step: np.ndarray, x: np.ndarray, lam: np.ndarray) -> float:
    """Decrease predicted by the proximal-Newton step (negative for a descent direction)."""
    return float(grad @ step + np.sum(lam * (np.abs(x + step) - np.abs(x))))


def _prox_newton_step(
    x: np.ndarray, grad: np.ndarray, curvature: Curvature, lam: np.ndarray
) -> np.ndarray:
    """Minimise ``grad' d + d' H d / 2 + sum lam |x + d|`` over ``d``.

    Without L1 weights this is the Newton step ``-H^{-1} grad``. Otherwise coordinate descent on
    ``z = x + d`` (soft-thresholding) finds the signs, and every few sweeps the subproblem is
    solved exactly on the current support with those signs: that answer is returned as soon as it
    keeps its signs and satisfies ``|g_j| <= lam_j`` off the support (the subproblem's KKT
    conditions). Coordinate descent alone converges only linearly on correlated, badly scaled
    columns; the support solve makes the step exact.
    """
    if not np.any(lam):
        return -curvature.solve(grad, np.ones(len(x), bool))
    hess = curvature.shifted
    linear = grad - hess @ x
    z = x.copy()
    diag = np.diag(hess)
    for sweep in range(1, 100_001):
        largest_move = 0.0
        for j in range(len(z)):
            r = linear[j] + hess[j] @ z - diag[j] * z[j]
            new = -np.sign(r) * max(abs(r) - lam[j], 0.0) / diag[j]
            largest_move = max(largest_move, abs(new - z[j]))
            z[j] = new
        if largest_move <= 1e-15 * max(1.0, np.max(np.abs(z))):
            break
        if sweep % 5 == 0:
            exact = _support_solution(z, linear, hess, lam)
            if exact is not None:
                return exact - x
    return z - x


def _support_solution(z, linear, hess, lam) -> np.ndarray | None:
    """The subproblem's exact minimiser if the support and signs of ``z`` are the right ones."""
    support = (z != 0) | (lam == 0)
    signs = np.sign(z)
    exact = np.zeros_like(z)
    if support.any():
        try:
            exact[support] = np.linalg.solve(
                hess[np.ix_(support, support)], -(linear[support] + lam[support] * signs[support])
            )
        except np.linalg.LinAlgError:
            return None
    penalised = support & (lam > 0)
    if np.any(np.sign(exact[penalised]) != signs[penalised]):
        return None
    off = ~support
    residual = linear[off] + hess[np.ix_(off, support)] @ exact[support]
    return exact if np.all(np.abs(residual) <= lam[off]) else None


class _WindowAverages:
    """A ``pm.fit`` callback: the ADVI parameters averaged over windows of ``window`` steps, and
    a stop (``StopIteration``) once two consecutive window averages agree (see :func:`fit_advi`).

    At a constant learning rate Adam's iterates do not settle: they jitter around the optimum by
    about a tenth of a posterior sd (measured on the engines page's models). A window's average
    jitters far less, so it is both the stopping statistic and the fit returned
    (Polyak-Ruppert averaging).
    """

    def __init__(self, window: int, tolerance: float):
        self.window, self.tolerance = window, tolerance
        self.totals: list[np.ndarray] | None = None
        self.previous: tuple[np.ndarray, np.ndarray] | None = None
        self.averages: list[np.ndarray] | None = None
        self.change = np.inf
        self.steps = 0

    def __call__(self, approx, losses, step: int) -> None:
        params = approx.groups[0].params
        values = [p.get_value() for p in params]
        if self.totals is None:
            self.totals = [np.zeros_like(v) for v in values]
            group = approx.groups[0]
            self.moments = pytensor.function([], [group.mean, group.std])
        for total, value in zip(self.totals, values, strict=True):
            total += value
        self.steps = step
        if step % self.window:
            return
        self.averages = [total / self.window for total in self.totals]
        self.totals = [np.zeros_like(v) for v in values]
        mean, std = self.evaluate(params, self.averages)
        if self.previous is not None:
            self.change = float(max(np.max(np.abs(mean - self.previous[0]) / std),
                                    np.max(np.abs(np.log(std / self.previous[1])))))  # fmt: skip
            if self.change <= self.tolerance:
                raise StopIteration
        self.previous = mean, std

    def evaluate(self, params, values) -> tuple[np.ndarray, np.ndarray]:
        """The approximation's mean and sd at parameter ``values`` (the live ones restored)."""
        live = [p.get_value() for p in params]
        for p, v in zip(params, values, strict=True):
            p.set_value(v)
        mean, std = (np.asarray(a) for a in self.moments())
        for p, v in zip(params, live, strict=True):
            p.set_value(v)
        return mean, std


def fit_advi(
    model: pm.Model,
    values: dict[str, float],
    *,
    method: str,
    iterations: int,
    seed: int,
    learning_rate: float = 0.01,
    start: dict[str, np.ndarray] | None = None,
    window: int = 1000,
    tolerance: float = 0.05,
) -> Gaussian:
    """ADVI (``pm.fit``) at the given ``pm.Data`` values (set on the model), stopped when it has
    converged; the fitted Gaussian, averaged over the last ``window`` steps.

    Convergence: the approximation's parameters averaged over consecutive windows of ``window``
    Adam steps agree: every mean moved by at most ``tolerance`` of its sd and every sd by a
    factor of at most ``exp(tolerance)``. ``Gaussian.converged`` says whether that happened within
    ``iterations`` steps; ``Gaussian.window_change`` is the last change (``inf`` before two
    windows). A rule on the change per window cannot tell convergence from an optimiser too slow
    to move ``tolerance`` sds per window: scale ``learning_rate`` to the posterior's spread.

    Parameters
    ----------
    method : {"advi", "fullrank_advi"}
        Mean-field (diagonal covariance) or full-rank.
    iterations : int
        At most this many Adam steps.
    learning_rate : float
        Adam's step size, in the parameters' own units: scale it to the posterior's spread.
    start : dict, optional
        Initial mean (e.g. the MAP point); default the model's initial point.
    window, tolerance :
        The convergence rule above.
    """
    set_data(model, values)
    quiet_pymc()
    averages = _WindowAverages(window, tolerance)
    approx = pm.fit(
        n=iterations, method=method, model=model, random_seed=seed, progressbar=False,
        obj_optimizer=pm.adam(learning_rate=learning_rate), start=start, callbacks=[averages],
    )  # fmt: skip
    group = approx.groups[0]
    if averages.averages is not None:
        for param, value in zip(group.params, averages.averages, strict=True):
            param.set_value(value)
    slices = {name: part for name, (_, part, _, _) in group.ordering.items()}
    return Gaussian(np.asarray(group.mean.eval()), np.asarray(group.cov.eval()), slices,
                    np.asarray(approx.hist), averages.change <= tolerance,
                    averages.change, averages.steps)  # fmt: skip


def _finished(sampler) -> bool:
    """Whether a background nutpie run is done (its lock being busy raises TimeoutError: not yet)."""
    try:
        return bool(sampler.is_finished)
    except TimeoutError:
        return False


class CompiledModels:
    """nutpie's compiled models of this process, each reused for every model with the same graph.

    A compiled copy (:func:`models.inference.nutpie_cache.compile_nutpie`) costs 5-10 s the first
    time a graph is seen on a machine and well under a second once its C callbacks are in the
    on-disk cache; sampling it takes well under one. Two models with the same graph (the same log
    density, the same deterministics, the same coordinates) that differ only in their ``pm.Data``
    values share one compiled copy in a process: the second gets the first's copy with its own data
    swapped in (``with_data``) and its own start (:func:`initial_point`), so ``make experiments``
    compiles the diabetes ridge model once per process, not once per experiment.

    "The same graph" is decided by :func:`pytensor.graph.basic.equal_computations` on the joint
    log density and the constrained values (deterministics included), with the two models' value
    variables and ``pm.Data`` containers paired by name and of equal types; every constant is
    compared by value, and any other leaf only to itself, so two models that differ anywhere
    except in their ``pm.Data`` values are compiled apart.

    It also keeps built models under a caller's key (:meth:`model`), each with its MAP solver and
    NUTS sampler (:class:`CompiledModel`): the scikit-learn twin refits one model per (registered
    model, noise variant, width) on any rows, of any number, without rebuilding or recompiling it.
    :attr:`hits` and :attr:`misses` count the compiled copies reused and made.
    """

    def __init__(self):
        self._entries: list[tuple[tuple, object, float]] = []
        self._models: dict[tuple, CompiledModel] = {}
        self.hits = 0
        self.misses = 0

    def compiled(self, model: pm.Model) -> tuple[object, float, bool]:
        """``model`` compiled: a cached copy with ``model``'s data, or a new compile.

        Returns
        -------
        compiled, seconds, reused
            The compiled model, what compiling its graph cost (when it was compiled, possibly
            earlier in the process), and whether this call reused it.
        """
        graph = graph_of(model)
        for cached, compiled, seconds in self._entries:
            if same_graph(graph, cached):
                self.hits += 1
                return (
                    restarted(compiled.with_data(**data_values(model, compiled)), model),
                    seconds,
                    True,
                )
        self.misses += 1
        numba_ops.register()
        started = time.perf_counter()
        compiled = nutpie_cache.compile_nutpie(model)
        seconds = time.perf_counter() - started
        self._entries.append((graph, compiled, seconds))
        return compiled, seconds, False

    def model(self, key: tuple, build: Callable[[], pm.Model], spec: ModelSpec | None,
              values: dict) -> CompiledModel:  # fmt: skip
        """The model kept under ``key`` if it holds every one of ``values`` as ``pm.Data``; else
        ``build()``, kept under ``key`` if it holds them (a model that bakes any of them into its
        graph is rebuilt on every call).

        Parameters
        ----------
        key : tuple
            What identifies the model apart from its ``pm.Data`` values (e.g. name, variant, width).
        build : callable
            ``build() -> pm.Model`` for the current data.
        spec : ModelSpec or None
            Supplies the L1 terms to the MAP solver.
        values : dict
            The ``pm.Data`` values the caller will set (rows, prior values, sigma).
        """
        entry = self._models.get(key)
        if entry is None or not entry.holds(values):
            entry = CompiledModel(build(), spec)
            if entry.holds(values):
                self._models[key] = entry
        return entry

    def clear(self) -> None:
        self._entries.clear()
        self._models.clear()


def data_values(model: pm.Model, compiled, names: Iterable[str] | None = None) -> dict:
    """The current values of ``model``'s ``pm.Data`` containers (``names``, default all) that
    ``compiled`` holds, as arrays of the containers' own dtypes."""
    held = {var.name for var in compiled.shared_var_keys}
    wanted = {v.name for v in model.data_vars} if names is None else set(names)
    return {name: model[name].get_value() for name in wanted & held}


def initial_point(model: pm.Model) -> Callable[[int], np.ndarray]:
    """``seed -> flat unconstrained start`` of ``model`` as nutpie's compile makes it (support
    points jittered, free variables in order). A reused compiled copy needs its own: nutpie's
    closes over the first model's ``pm.Data``, so a copy swapped onto other data would start every
    chain where the first data's posterior is (its sigma, its scales), not this data's."""
    point = pm.initial_point.make_initial_point_fn(
        model=model, default_strategy="support_point", jitter_rvs=set(model.free_RVs),
        return_transformed=True,
    )  # fmt: skip
    names = [model.rvs_to_values[rv].name for rv in model.free_RVs]
    lock = threading.Lock()  # a compiled PyTensor function is not thread-safe (chains are threads)

    def start(seed=None) -> np.ndarray:
        with lock:
            values = point(seed)
        return np.concatenate([np.asarray(values[name], dtype="float64").ravel() for name in names])

    return start


def restarted(compiled, model: pm.Model):
    """``compiled`` starting its chains from :func:`initial_point` of ``model``."""
    return dataclasses.replace(compiled, initial_point_func=initial_point(model))


def graph_of(model: pm.Model) -> tuple[tuple, list, list]:
    """What decides whether two models can share a compiled copy: a signature (names, types,
    dimension lengths, coordinates, initial values) and the graphs with their inputs (value
    variables, ``pm.Data``, shared dimension lengths) paired by name."""
    values = sorted(model.value_vars, key=lambda v: v.name)
    data = sorted(model.data_vars, key=lambda v: v.name)
    lengths = {name: length for name, length in model.dim_lengths.items()
               if isinstance(length, pytensor.compile.SharedVariable)}  # fmt: skip
    signature = (
        tuple((v.name, v.type) for v in (*values, *data)),
        tuple((name, int(length.get_value())) for name, length in sorted(lengths.items())),
        tuple(
            (name, tuple(coords) if coords is not None else None)
            for name, coords in sorted(model.coords.items())
        ),  # fmt: skip
        tuple(sorted((k, tuple(v)) for k, v in model.named_vars_to_dims.items())),
        tuple(sorted((rv.name, repr(init)) for rv, init in model.rvs_to_initial_values.items())),
    )
    outputs = [model.logp(), *model.unobserved_value_vars]
    return signature, outputs, [*values, *data, *(lengths[name] for name in sorted(lengths))]


def same_graph(a: tuple[tuple, list, list], b: tuple[tuple, list, list]) -> bool:
    """Whether two :func:`graph_of` describe one computation (up to ``pm.Data`` values)."""
    (signature_a, outputs_a, inputs_a), (signature_b, outputs_b, inputs_b) = a, b
    return (
        signature_a == signature_b
        and len(outputs_a) == len(outputs_b)
        and pytensor.graph.basic.equal_computations(
            outputs_a, outputs_b, in_xs=inputs_a, in_ys=inputs_b
        )
    )


COMPILED = CompiledModels()


class PosteriorSampler:
    """NUTS (nutpie) on a model compiled once; each call only swaps ``pm.Data`` values.

    :meth:`sample` passes the values to the compiled copy (``with_data``) and sets them on the
    model's containers too (they stay set), exactly as :meth:`MAPSolver.solve` does. The model is
    compiled by :data:`COMPILED` on the first call (nutpie's compiled form, its C callbacks cached
    on disk: :mod:`models.inference.nutpie_cache`), or reused from a same-graph model compiled
    earlier in the process.

    Parameters
    ----------
    model : pm.Model
        The model to sample.
    adaptation : str
        nutpie mass-matrix adaptation; ``"low_rank"`` copes with correlated coefficients.
    cache : CompiledModels, optional
        Where compiled models are looked up and kept (default: the process's :data:`COMPILED`).

    Attributes
    ----------
    compile_seconds : float
        What compiling this graph cost, whether paid now or by an earlier same-graph model.
    reused : bool
        Whether an earlier compile of the same graph was reused.
    """

    def __init__(self, model: pm.Model, adaptation: str = "low_rank",
                 cache: CompiledModels | None = None):  # fmt: skip
        self.model = model
        self.adaptation = adaptation
        self.cache = COMPILED if cache is None else cache
        self.compiled = None
        self.compile_seconds, self.reused = 0.0, False
        quiet_pymc()

    def sample(
        self,
        values: dict[str, float] | None = None,
        *,
        draws: int = 1000,
        tune: int = TUNE,
        chains: int = 4,
        seed: int = 0,
        target_accept: float = 0.8,
        save_warmup: bool = False,
    ):
        """Draw from the posterior at the given ``pm.Data`` values; returns a DataTree (the model
        is compiled on the first call; ``save_warmup`` keeps the tuning iterations' groups)."""
        set_data(self.model, values)
        if self.compiled is None:
            started = time.perf_counter()
            self.compiled, self.compile_seconds, self.reused = self.cache.compiled(self.model)
            CLOCK.compile += time.perf_counter() - started
        compiled = self.compiled.with_data(**data_values(self.model, self.compiled, values or ()))
        # One BLAS thread per chain: the chains are threads of their own, and OpenBLAS's threads
        # under each oversubscribe the cores (a 200-row GP's Cholesky per gradient: 53 s with
        # OpenBLAS's default two threads on 2 cores, 19 s with one; docs/speed.md)
        with threadpoolctl.threadpool_limits(limits=1, user_api="blas"):
            return self._run(compiled, draws, tune, chains, seed, target_accept, save_warmup)

    def _run(self, compiled, draws: int, tune: int, chains: int, seed: int, target_accept: float,
             save_warmup: bool):  # fmt: skip
        # Sampled in the background and polled, so Ctrl-C and SIGTERM reach Python within
        # milliseconds and cancel the chains (blocking nutpie would swallow a Ctrl-C and return the
        # draws made so far as if nothing happened).
        sampler = nutpie.sample(
            compiled,
            blocking=False,
            draws=draws,
            tune=tune,
            chains=chains,
            cores=min(chains, 2),
            progress_bar=False,
            adaptation=self.adaptation,
            save_warmup=save_warmup,
            seed=seed,
            target_accept=target_accept,
        )
        started = time.perf_counter()
        try:
            while not _finished(sampler):
                time.sleep(0.01)
            return sampler.wait()
        except BaseException:
            sampler.cancel()
            raise
        finally:
            CLOCK.sampling += time.perf_counter() - started


@dataclass
class CompiledModel:
    """One built model with its MAP solver and NUTS sampler, each compiled on first use.

    Attributes
    ----------
    model : pm.Model
    spec : ModelSpec or None
        Supplies the L1 terms to the MAP solver.
    solver, sampler : MAPSolver, PosteriorSampler or None
        Compiled by :meth:`map_solver` and :meth:`posterior_sampler` on first use.
    """

    model: pm.Model
    spec: ModelSpec | None = None
    solver: MAPSolver | None = None
    sampler: PosteriorSampler | None = None

    def holds(self, values: dict) -> bool:
        """Whether every value can be swapped in as one of the model's ``pm.Data``."""
        return set(values) <= {v.name for v in self.model.data_vars}

    def known(self, values: dict) -> dict:
        """The values the model holds as ``pm.Data`` (a rebuilt model has the rest baked in)."""
        names = {v.name for v in self.model.data_vars}
        return {name: value for name, value in values.items() if name in names}

    def map_solver(self) -> MAPSolver:
        """The model's MAP solver, compiled on first use."""
        if self.solver is None:
            self.solver = MAPSolver(self.model, self.spec)
        return self.solver

    def posterior_sampler(self) -> PosteriorSampler:
        """The model's NUTS sampler (through :data:`COMPILED`), compiled on first use."""
        if self.sampler is None:
            self.sampler = PosteriorSampler(self.model)
        return self.sampler


def sampling_diagnostics(fit: str, dt, var_names: list[str]) -> dict:
    """Divergences, tree-depth hits, E-BFMI, worst r_hat, smallest bulk/tail ESS, and a verdict."""
    return sampling_diagnostics_of([fit], [dt], var_names)[0]


def sampling_diagnostics_of(fits: list[str], dts: list, var_names: list[str]) -> list[dict]:
    """:func:`sampling_diagnostics` of several fits of one model with the same chains and draws
    (a sweep), each fit's row as if alone: ArviZ runs once on the fits stacked along a ``fit``
    dimension (its statistics are per element, so a fit's numbers do not depend on the others)."""
    posterior = xr.concat([dt["posterior"].dataset[var_names] for dt in dts], dim="fit")
    stats = xr.concat([dt["sample_stats"].dataset for dt in dts], dim="fit")
    chains, draws = posterior.sizes["chain"], posterior.sizes["draw"]

    def per_fit(dataset, reduce) -> np.ndarray:
        """``reduce`` ("max"/"min") of every variable's values within each fit."""
        values = [getattr(dataset[v], reduce)([d for d in dataset[v].dims if d != "fit"]).values
                  for v in var_names]  # fmt: skip
        return getattr(np, reduce)(np.stack(values), axis=0)

    divergences = stats["diverging"].sum(("chain", "draw")).values.astype(int)
    depth_hits = np.zeros(len(dts), int)
    if "maxdepth_reached" in stats:
        depth_hits = stats["maxdepth_reached"].sum(("chain", "draw")).values.astype(int)
    min_bfmi = np.full(len(dts), np.nan)
    if "energy" in stats:
        min_bfmi = az.bfmi(stats["energy"]).min("chain").values
    r_hat = per_fit(az.rhat(posterior), "max")
    ess_bulk = per_fit(az.ess(posterior, method="bulk"), "min")
    ess_tail = per_fit(az.ess(posterior, method="tail"), "min")
    rows = []
    for k, fit in enumerate(fits):
        problems = []
        if divergences[k]:
            problems.append(f"{divergences[k]} divergences")
        if depth_hits[k]:
            problems.append(f"{depth_hits[k]} draws hit the maximum tree depth")
        if min_bfmi[k] < BFMI_MIN:
            problems.append(f"E-BFMI {min_bfmi[k]:.2f} < {BFMI_MIN}")
        if not r_hat[k] <= R_HAT_MAX:
            problems.append(f"r_hat {r_hat[k]:.3f} > {R_HAT_MAX}")
        if not min(ess_bulk[k], ess_tail[k]) >= ESS_MIN:
            problems.append(f"ESS {min(ess_bulk[k], ess_tail[k]):.0f} < {ESS_MIN}")
        rows.append({
            "fit": fit, "draws": f"{chains} x {draws}", "divergences": int(divergences[k]),
            "max_treedepth_hits": int(depth_hits[k]), "min_bfmi": float(min_bfmi[k]),
            "max_r_hat": float(r_hat[k]), "min_ess_bulk": float(ess_bulk[k]),
            "min_ess_tail": float(ess_tail[k]), "ok": not problems, "problems": problems,
        })  # fmt: skip
    return rows
