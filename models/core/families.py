r"""Observation families, registered as data and looked up by name (as bambi's families).

A model's ``ModelSpec.likelihood`` names one of :data:`FAMILIES`. A family says everything the
machinery needs to know about an observation model that is not the model's own graph:

* which targets it can observe (:meth:`Family.validate`), in one line a user can act on;
* its link and inverse link (the mean of ``y`` from the linear predictor ``eta``);
* its pointwise log density in NumPy (:meth:`Family.log_density`), for LOO and predictive checks
  computed from saved draws;
* whether it has a dispersion parameter (the Gaussian sigma; a Gamma's phi) that a model may fix
  or sample (``ModelSpec.noise``);
* the shape parameters its density takes besides the dispersion (the asymmetric Laplace's quantile
  q): each is a model's ``pm.Data`` of the same name, set from the estimator's settings through
  ``Link.prior_values``, and passed to the density by keyword;
* the units of a coefficient, and how closely the MAP must match scikit-learn (Check 1's bound,
  with its reason).

To add a family, add a :class:`Family` to :data:`FAMILIES`; an unknown name is one
:class:`~models.core.base.ContractError` line naming the known ones.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np

from models.core.lazy import lazy

distributions = lazy("scipy.stats")
special = lazy("scipy.special")


@dataclass(frozen=True)
class Family:
    r"""One observation model ``y_i | eta_i``, with ``eta_i = b0 + x_i'w``.

    Parameters
    ----------
    name : str
        Registry key (``ModelSpec.likelihood``).
    link : str
        The link's name (``"identity"``, ``"logit"``, ``"log"``, ...), as scikit-learn names it.
    mean : callable
        ``mean(eta)``, the inverse link, elementwise: what the estimator's ``predict`` returns
        (``E[y | eta]``; the q-quantile of ``y`` for the asymmetric Laplace).
    density : callable
        ``density(eta, y, dispersion, **parameters) -> log p(y | eta)`` elementwise (rows on the
        last axis; ``dispersion`` broadcasts against the leading axes, None for a family without
        one).
    target : str
        The targets it observes, in words (the error message's "needs ...").
    accepts : callable
        ``accepts(y) -> bool`` array: which targets are valid.
    units : str
        Units of a coefficient (axis labels): what one unit of a feature moves.
    map_bound : float
        Check 1's bound on ``max |MAP - scikit-learn| / max |scikit-learn|`` at tight tolerances.
    bound_reason : str
        Why that bound (the solvers on both sides).
    dispersion : str, optional
        The dispersion parameter in words (``"noise sd sigma"``); None: the family has none.
    discrete : bool
        Whether the targets are integers (counts, classes): the density is a probability mass.
    classifier : bool
        Whether the target is a class label (scikit-learn's classifiers).
    min_classes : int
        Distinct target values needed (2 for a classifier; 1 otherwise).
    parameters : mapping
        ``{name: default}``: the density's shape parameters besides the dispersion, each the name
        of a model's ``pm.Data`` (``{"quantile": 0.5}``, scikit-learn's default); empty for most.
    """

    name: str
    link: str
    mean: Callable[[np.ndarray], np.ndarray]
    density: Callable[[np.ndarray, np.ndarray, object], np.ndarray]
    target: str
    accepts: Callable[[np.ndarray], np.ndarray]
    units: str
    map_bound: float
    bound_reason: str
    dispersion: str | None = None
    discrete: bool = False
    classifier: bool = False
    min_classes: int = 1
    parameters: Mapping[str, float] = field(default_factory=dict)

    def invalid_target(self, y: np.ndarray) -> str | None:
        """Why ``y`` cannot be observed by this family (one line), or None if it can."""
        y = np.asarray(y, dtype=float)
        bad = ~np.asarray(self.accepts(y), dtype=bool)
        values = np.unique(y)
        if bad.any():
            shown = ", ".join(f"{v:g}" for v in np.unique(y[bad])[:5])
            return f"needs {self.target}; got {int(bad.sum())} rows outside it ({shown})"
        if values.size < self.min_classes:
            return f"needs {self.target} with at least {self.min_classes} distinct values"
        return None

    def log_density(
        self,
        eta: np.ndarray,
        y: np.ndarray,
        dispersion: float | np.ndarray | None = None,
        **parameters: float,
    ) -> np.ndarray:
        """``log p(y_i | eta_i)`` elementwise (rows on the last axis of ``eta``).

        Parameters
        ----------
        **parameters : float
            The family's shape parameters (:attr:`parameters`), all of them.

        Raises
        ------
        ValueError
            A dispersion given to a family without one, or missing for a family with one; a
            shape parameter missing or unknown.
        """
        if (dispersion is None) != (self.dispersion is None):
            need = f"needs its {self.dispersion}" if self.dispersion else "has no dispersion"
            raise ValueError(f"a {self.name} likelihood {need}")
        if set(parameters) != set(self.parameters):
            need = ", ".join(self.parameters) or "no shape parameters"
            raise ValueError(f"a {self.name} likelihood takes {need}; got {', '.join(parameters)}")
        if dispersion is not None:
            dispersion = np.expand_dims(np.asarray(dispersion, dtype=float), -1)
        eta, y = np.asarray(eta, dtype=float), np.asarray(y, dtype=float)
        return self.density(eta, y, dispersion, **parameters)


def _gaussian(eta, y, sigma):
    return distributions.norm.logpdf(y, eta, sigma)


def pinball(residual: np.ndarray, quantile: float) -> np.ndarray:
    """scikit-learn's pinball loss ``rho_q(r) = max(q r, (q - 1) r)`` elementwise."""
    return np.maximum(quantile * residual, (quantile - 1.0) * residual)


def _asymmetric_laplace(eta, y, scale, quantile):
    # p(y) = q (1 - q) / b exp(-rho_q(y - eta) / b): the q-quantile of y is eta, and the negative
    # log likelihood is the pinball loss divided by b (plus log terms free of eta)
    return np.log(quantile * (1.0 - quantile) / scale) - pinball(y - eta, quantile) / scale


def _bernoulli(eta, y, _):
    # log p = -log(1 + e^{-eta}) for y = 1 and -log(1 + e^{eta}) for y = 0: exact where p rounds
    # to 0 or 1
    return -np.logaddexp(0.0, np.where(y == 1, -eta, eta))


FAMILIES: dict[str, Family] = {
    family.name: family
    for family in (
        Family(
            name="gaussian",
            link="identity",
            mean=lambda eta: eta,
            density=_gaussian,
            target="a real-valued target",
            accepts=np.isfinite,
            units="target units per unit of feature",
            map_bound=1e-8,
            bound_reason="an exact linear solve (or coordinate descent at tol=1e-12) on both sides",
            dispersion="noise sd sigma",
        ),
        Family(
            name="bernoulli",
            link="logit",
            mean=lambda eta: special.expit(eta),
            density=_bernoulli,
            target="a binary 0/1 target",
            accepts=lambda y: (y == 0) | (y == 1),
            units="log-odds per unit of feature",
            map_bound=1e-6,
            bound_reason="Newton at tol=1e-12 on both sides, agreeing to ~1e-10",
            discrete=True,
            classifier=True,
            min_classes=2,
        ),
        Family(
            name="asymmetric_laplace",
            link="identity",
            mean=lambda eta: eta,
            density=_asymmetric_laplace,
            target="a real-valued target",
            accepts=np.isfinite,
            units="target units per unit of feature",
            map_bound=1e-9,
            bound_reason="the same linear programme solved by HiGHS on both sides, certified by "
            "its duality gap",
            dispersion="scale b",
            parameters={"quantile": 0.5},
        ),
    )
}


def family(name: str) -> Family:
    """The family called ``name``; an unknown name raises one line naming the known ones."""
    from models.core.base import ContractError

    try:
        return FAMILIES[name]
    except KeyError:
        raise ContractError(
            f"unknown likelihood {name!r}; known families: {', '.join(FAMILIES)}"
        ) from None


__all__ = ["FAMILIES", "Family", "family", "pinball"]
