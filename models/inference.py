"""Inference engines shared by every model: an exact MAP solver and a reusable NUTS sampler.

Both compile the PyMC model once and then only swap the values of its ``pm.Data`` containers, so a
sweep over 25 penalties costs one compilation.

The MAP solver minimises ``f(theta) + sum_j lambda_j |theta_j|`` where ``f`` is the negative smooth
log posterior (value, gradient and Hessian compiled from the PyMC graph) and the L1 part comes from
the model's Laplace terms. It runs proximal Newton: each step minimises the second-order model of
``f`` plus the exact L1 term by coordinate descent, then a backtracking line search; a final Newton
polish on the active set (signs fixed) brings the answer to machine precision. With no L1 terms it
is plain damped Newton, which is exact in one step on a quadratic objective (ridge).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import nutpie
import pymc as pm
import pytensor
import pytensor.tensor as pt
from pymc.logprob.utils import ParameterValueError
from pymc.pytensorf import join_nonshared_inputs
from pymc.util import get_default_varnames
from pytensor.gradient import hessian

from models.base import ModelSpec

logging.getLogger("pymc").setLevel(logging.ERROR)
MAX_ITERATIONS = 200


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
        the L1 weight at exact zeros): a certificate of precision.
    flat : array
        The mode as one flat vector of the value variables (unconstrained space).
    """

    point: dict[str, np.ndarray]
    iterations: int
    kkt_violation: float
    flat: np.ndarray


@dataclass
class Gaussian:
    """A Gaussian over a model's free variables, flattened and joined (value-variable space).

    Attributes
    ----------
    mean : array (d,)
    cov : array (d, d)
    slices : dict
        Where each value variable sits in the flat vector.
    """

    mean: np.ndarray
    cov: np.ndarray
    slices: dict[str, slice]

    def block(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """Mean and covariance of one variable (e.g. ``"w"``)."""
        part = self.slices[name]
        return self.mean[part], self.cov[part, part]


class MAPSolver:
    """Exact posterior mode of a PyMC model, compiled once and reused across ``pm.Data`` values.

    Parameters
    ----------
    model : pm.Model
        The model. Its free variables are optimised jointly (transformed variables in their
        unconstrained space, without Jacobian, so the mode is that of the original density).
    spec : ModelSpec, optional
        Supplies the L1 (Laplace) terms, if any.
    """

    def __init__(self, model: pm.Model, spec: ModelSpec | None = None):
        self.model = model
        l1_terms = spec.l1_terms if spec is not None else ()
        excluded = {term.term for term in l1_terms}
        smooth_terms = [
            v
            for v in model.free_RVs + model.observed_RVs + model.potentials
            if v.name not in excluded
        ]
        neg_logp = -model.logp(vars=smooth_terms, jacobian=False)
        self.initial_point = model.initial_point()
        value_vars = model.value_vars
        [neg_logp_flat], flat = join_nonshared_inputs(self.initial_point, [neg_logp], value_vars)
        grad = pt.grad(neg_logp_flat, flat)
        hess = hessian(neg_logp_flat, flat)
        self._value_and_grad = pytensor.function([flat], [neg_logp_flat, grad])
        self._hessian = pytensor.function([flat], hess)
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
        self._x0 = np.concatenate([np.ravel(self.initial_point[n]) for n in self._value_vars])
        constrained = get_default_varnames(model.unobserved_value_vars, include_transformed=False)
        self._constrained_names = [v.name for v in constrained]
        self._unconstrained_to_point = pytensor.function(
            value_vars, constrained, on_unused_input="ignore"
        )

    def set_data(self, values: dict[str, float]) -> None:
        """Set ``pm.Data`` containers of the model (shared with the compiled functions)."""
        for name, value in values.items():
            self.model[name].set_value(np.asarray(value, dtype=self.model[name].dtype))

    def _l1_weights(self) -> np.ndarray:
        weights = np.zeros_like(self._x0)
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
            Starting point in the flat unconstrained space (default: the model's initial point).
        """
        if values:
            self.set_data(values)
        lam = self._l1_weights()
        x = np.array(self._x0 if x0 is None else x0, dtype=float)
        objective = self._objective(lam)
        value = objective(x)
        iterations = 0
        while iterations < MAX_ITERATIONS:
            iterations += 1
            _, grad = self._value_and_grad(x)
            step = _prox_newton_step(x, grad, self._positive_definite_hessian(x), lam)
            t = 1.0
            while True:
                candidate = x + t * step
                new_value = objective(candidate)
                if new_value <= value + 1e-4 * t * _directional(grad, step, x, lam) or t < 1e-12:
                    break
                t *= 0.5
            x, previous = candidate, value
            value = new_value
            if np.max(np.abs(t * step)) <= 1e-13 * max(1.0, np.max(np.abs(x))) or (
                abs(previous - value) <= 1e-16 * max(1.0, abs(value)) and t == 1.0
            ):
                break
        x = self._polish(x, lam)
        return MAPResult(self._to_point(x), iterations, self._kkt(x, lam), x)

    def laplace(self, mode: MAPResult) -> Gaussian:
        r"""Laplace approximation: a Gaussian at the mode with the inverse Hessian as covariance.

        ``q(theta) = Normal(theta_MAP, H^{-1})`` with ``H`` the compiled second derivative of the
        negative log posterior at the mode. Exact when the log posterior is quadratic (ridge);
        undefined for L1 (Laplace-prior) terms, whose log density has no curvature at a zero.

        Parameters
        ----------
        mode : MAPResult
            What :meth:`solve` returned for the ``pm.Data`` values in question.
        """
        if self._l1:
            raise ValueError("the Laplace approximation needs a smooth log posterior (no L1 terms)")
        cov = np.linalg.inv(self._symmetric_hessian(mode.flat))
        return Gaussian(mode.flat, 0.5 * (cov + cov.T), dict(self._slices))

    def _objective(self, lam: np.ndarray):
        def objective(x: np.ndarray) -> float:
            try:
                value = float(self._value_and_grad(x)[0]) + float(np.sum(lam * np.abs(x)))
            except ParameterValueError:  # a trial step left the support (e.g. p = 0 or 1 exactly)
                return np.inf
            return value if np.isfinite(value) else np.inf

        return objective

    def _symmetric_hessian(self, x: np.ndarray) -> np.ndarray:
        """The compiled Hessian at ``x`` (finite differences where it overflows), symmetrised."""
        hess = np.asarray(self._hessian(x), dtype=float)
        if not np.all(np.isfinite(hess)):
            hess = self._finite_difference_hessian(x)
        return 0.5 * (hess + hess.T)

    def _positive_definite_hessian(self, x: np.ndarray) -> np.ndarray:
        hess = self._symmetric_hessian(x)
        shift = 0.0
        while True:
            try:
                np.linalg.cholesky(hess + shift * np.eye(len(x)))
                return hess + shift * np.eye(len(x))
            except np.linalg.LinAlgError:
                shift = max(2 * shift, 1e-8 * max(1.0, np.max(np.abs(np.diag(hess)))))

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
            hess = self._positive_definite_hessian(x)
            step = np.zeros_like(x)
            step[active] = -np.linalg.solve(hess[np.ix_(active, active)], grad[active])
            candidate = x + step
            if np.any(np.sign(candidate[lam > 0]) * signs[lam > 0] < 0):
                break  # a sign would flip: the active set was not final; keep the prox answer
            x = candidate
        return x

    def _kkt(self, x: np.ndarray, lam: np.ndarray) -> float:
        _, grad = self._value_and_grad(x)
        at_zero = (lam > 0) & (x == 0)
        violation = np.where(
            at_zero, np.maximum(np.abs(grad) - lam, 0.0), np.abs(grad + lam * np.sign(x))
        )
        return float(np.max(violation))

    def _to_point(self, x: np.ndarray) -> dict[str, np.ndarray]:
        values = {
            name: x[self._slices[name]].reshape(shape)
            for name, shape in zip(self._value_vars, self._shapes, strict=True)
        }
        outputs = self._unconstrained_to_point(*(values[name] for name in self._value_vars))
        return dict(zip(self._constrained_names, map(np.asarray, outputs), strict=True))


def _directional(grad: np.ndarray, step: np.ndarray, x: np.ndarray, lam: np.ndarray) -> float:
    """Decrease predicted by the proximal-Newton step (negative for a descent direction)."""
    return float(grad @ step + np.sum(lam * (np.abs(x + step) - np.abs(x))))


def _prox_newton_step(
    x: np.ndarray, grad: np.ndarray, hess: np.ndarray, lam: np.ndarray
) -> np.ndarray:
    """Minimise ``grad' d + d' H d / 2 + sum lam |x + d|`` over ``d``.

    Without L1 weights this is the Newton step ``-H^{-1} grad``; otherwise coordinate descent on
    ``z = x + d`` (soft-thresholding), run until the coordinates stop moving at machine precision.
    """
    if not np.any(lam):
        return -np.linalg.solve(hess, grad)
    linear = grad - hess @ x
    z = x.copy()
    diag = np.diag(hess)
    for _ in range(100_000):
        largest_move = 0.0
        for j in range(len(z)):
            r = linear[j] + hess[j] @ z - diag[j] * z[j]
            new = -np.sign(r) * max(abs(r) - lam[j], 0.0) / diag[j]
            largest_move = max(largest_move, abs(new - z[j]))
            z[j] = new
        if largest_move <= 1e-15 * max(1.0, np.max(np.abs(z))):
            break
    return z - x


def fit_advi(
    model: pm.Model,
    values: dict[str, float],
    *,
    method: str,
    iterations: int,
    seed: int,
    learning_rate: float = 0.01,
    start: dict[str, np.ndarray] | None = None,
) -> Gaussian:
    """ADVI (``pm.fit``) at the given ``pm.Data`` values; returns the fitted Gaussian.

    Parameters
    ----------
    method : {"advi", "fullrank_advi"}
        Mean-field (diagonal covariance) or full-rank.
    iterations : int
        Adam steps.
    learning_rate : float
        Adam's step size, in the parameters' own units: scale it to the posterior's spread.
    start : dict, optional
        Initial mean (e.g. the MAP point); default the model's initial point.
    """
    pm.set_data(values, model=model)
    approx = pm.fit(
        n=iterations, method=method, model=model, random_seed=seed, progressbar=False,
        obj_optimizer=pm.adam(learning_rate=learning_rate), start=start,
    )  # fmt: skip
    group = approx.groups[0]
    slices = {name: part for name, (_, part, _, _) in group.ordering.items()}
    return Gaussian(np.asarray(group.mean.eval()), np.asarray(group.cov.eval()), slices)


class PosteriorSampler:
    """NUTS (nutpie) on a model compiled once; each call only swaps ``pm.Data`` values.

    Parameters
    ----------
    model : pm.Model
        The model to sample.
    adaptation : str
        nutpie mass-matrix adaptation; ``"low_rank"`` copes with correlated coefficients.
    """

    def __init__(self, model: pm.Model, adaptation: str = "low_rank"):
        self.model = model
        self.adaptation = adaptation
        self.compiled = nutpie.compile_pymc_model(model)

    def sample(
        self,
        values: dict[str, float] | None = None,
        *,
        draws: int = 1000,
        tune: int = 1000,
        chains: int = 4,
        seed: int = 0,
        target_accept: float = 0.8,
    ):
        """Draw from the posterior at the given ``pm.Data`` values; returns a DataTree."""
        compiled = self.compiled.with_data(**values) if values else self.compiled
        return nutpie.sample(
            compiled,
            draws=draws,
            tune=tune,
            chains=chains,
            cores=min(chains, 2),
            seed=seed,
            progress_bar=False,
            adaptation=self.adaptation,
            save_warmup=False,
            target_accept=target_accept,
        )
