"""What every model in the registry is made of.

A penalised estimator from scikit-learn is the MAP of a Bayesian model. A :class:`ModelSpec`
records the three things that make that statement checkable:

* ``build``: the PyMC model, with every prior hyper-parameter in a ``pm.Data`` container so one
  compiled model serves a whole sweep of penalties;
* ``prior_values``: the exact penalty -> prior mapping (the values to put in those containers);
* ``sklearn``: the scikit-learn estimator whose optimum the MAP must reproduce.

Models whose prior is not differentiable at zero (Laplace) also name their non-smooth log-density
terms in ``l1_terms`` so the MAP solver can treat them exactly (proximal Newton) instead of smoothing
them away.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pymc as pm


class InputError(ValueError):
    """Bad input from the user: reported as one line, exit status 2, before any sampling."""


@dataclass(frozen=True)
class Context:
    """What the penalty -> prior mapping may depend on besides the penalty itself.

    Parameters
    ----------
    n_obs : int
        Number of rows (scikit-learn's Lasso and ElasticNet scale the data term by 1 / (2 n)).
    noise_sd : float or None
        The fixed noise standard deviation sigma of a Gaussian likelihood (None for Bernoulli).
    """

    n_obs: int
    noise_sd: float | None = None


@dataclass(frozen=True)
class L1Term:
    """A log-density term ``-sum_j |theta_j| / scale`` that the MAP solver handles as an L1 penalty.

    Parameters
    ----------
    term : str
        Name of the PyMC random variable or potential that carries the term; it is left out of the
        smooth part of the log posterior.
    variable : str
        Name of the free variable the penalty acts on.
    scale : str
        Name of the ``pm.Data`` container holding the Laplace scale ``b`` (weight ``1 / b``).
    """

    term: str
    variable: str
    scale: str


@dataclass(frozen=True)
class ModelSpec:
    """One member of the penalty family, as data.

    Parameters
    ----------
    name : str
        Registry key, also the default experiment name.
    title : str
        Human-readable name.
    objective : str
        The penalised objective scikit-learn minimises (plain text / LaTeX-free maths).
    prior : str
        The prior and likelihood whose MAP is that objective.
    mapping : str
        The penalty <-> prior relation, e.g. ``alpha = sigma^2 / tau^2``.
    likelihood : {"gaussian", "bernoulli"}
        Observation model; decides which targets are valid.
    penalty_names : tuple of str
        Names of scikit-learn's penalty parameters (``("alpha",)``, ``("C",)``,
        ``("alpha", "l1_ratio")``).
    build : callable
        ``build(X, y, feature_names) -> pm.Model``; hyper-parameters live in ``pm.Data``.
    prior_values : callable
        ``prior_values(penalty, context) -> dict`` of ``pm.Data`` values, where ``penalty`` maps each
        name in ``penalty_names`` to its value.
    sklearn : callable
        ``sklearn(penalty, context) -> estimator`` (unfitted, tight tolerances).
    penalty_grid : callable
        ``penalty_grid(X, y, context, n) -> list of penalty dicts`` for the agreement sweep.
    reference_penalty : callable
        ``reference_penalty(X, y, context) -> penalty dict`` where the full posterior is shown
        (scikit-learn's cross-validated choice).
    default_data : str
        Bundled data set the experiment uses without ``--data``.
    l1_terms : tuple of L1Term
        Non-smooth Laplace terms (empty for smooth models).
    """

    name: str
    title: str
    objective: str
    prior: str
    mapping: str
    likelihood: str
    penalty_names: tuple[str, ...]
    build: Callable[..., pm.Model]
    prior_values: Callable[[Mapping[str, float], Context], dict[str, float]]
    sklearn: Callable[[Mapping[str, float], Context], object]
    penalty_grid: Callable[..., list[dict[str, float]]] | None = None
    reference_penalty: Callable[..., dict[str, float]] | None = None
    default_data: str = "diabetes"
    l1_terms: tuple[L1Term, ...] = field(default_factory=tuple)

    def validate_target(self, y: np.ndarray) -> None:
        """Raise :class:`InputError` if ``y`` cannot be observed by this model's likelihood."""
        if self.likelihood == "bernoulli":
            values = np.unique(y)
            if not np.isin(values, (0.0, 1.0)).all() or values.size != 2:
                shown = ", ".join(f"{v:g}" for v in values[:5])
                raise InputError(
                    f"model '{self.name}' needs a binary 0/1 target with both classes; "
                    f"got values {shown}{' ...' if values.size > 5 else ''}"
                )


def positive(value: float, name: str) -> float:
    """Return ``value`` as a float, or raise :class:`InputError` if it is not finite and > 0."""
    value = float(value)
    if not np.isfinite(value) or value <= 0:
        raise InputError(f"{name} must be a positive finite number, got {value:g}")
    return value


def coefficients(fitted: Mapping[str, np.ndarray]) -> tuple[float, np.ndarray]:
    """Split a MAP point into ``(intercept, w)``."""
    return float(np.asarray(fitted["intercept"])), np.asarray(fitted["w"], dtype=float)
