r"""Observation families, registered as data and looked up by name (as bambi's families).

A model's ``ModelSpec.likelihood`` names one of :data:`FAMILIES`. A family says everything the
machinery needs to know about an observation model that is not the model's own graph:

* which targets it can observe (:meth:`Family.validate`), in one line a user can act on;
* its link and inverse link (the mean of ``y`` from the linear predictor ``eta``);
* its pointwise log density in NumPy (:meth:`Family.log_density`), for LOO and predictive checks
  computed from saved draws;
* whether it has a dispersion parameter (the Gaussian sigma; a Gamma's phi) that a model may fix
  or sample (``ModelSpec.noise``);
* the units of a coefficient, and how closely the MAP must match scikit-learn (Check 1's bound,
  with its reason).

To add a family, add a :class:`Family` to :data:`FAMILIES`; an unknown name is one
:class:`~models.core.base.ContractError` line naming the known ones.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

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
        ``mean(eta) -> E[y | eta]``, the inverse link, elementwise.
    density : callable
        ``density(eta, y, dispersion) -> log p(y | eta)`` elementwise (rows on the last axis;
        ``dispersion`` broadcasts against the leading axes, None for a family without one). A
        family with ``categories`` takes ``eta`` of shape ``(..., rows, K)`` and returns
        ``(..., rows)``.
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
    max_classes : int or None
        Distinct target values allowed (2 for a binary classifier; None: no limit).
    min_class_rows : int
        Rows each class needs (a classifier whose classes are encoded by the suite), with
        ``class_rows_reason``, why, in words.
    class_rows_reason : str
    categories : bool
        The linear predictor has one column per class (shape ``(..., rows, K)``) and the targets
        are class codes ``0..K-1`` (the suite encodes the labels, ``np.unique``): a softmax model.
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
    max_classes: int | None = None
    min_class_rows: int = 1
    class_rows_reason: str = ""
    categories: bool = False

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
        if self.max_classes is not None and values.size > self.max_classes:
            return f"needs {self.target}; got {values.size} distinct values"
        counts = np.array([np.sum(y == v) for v in values])
        if np.any(counts < self.min_class_rows):
            few = ", ".join(f"{v:g} ({c} rows)" for v, c in zip(values, counts, strict=True)
                            if c < self.min_class_rows)  # fmt: skip
            return (f"needs at least {self.min_class_rows} rows of every class "
                    f"({self.class_rows_reason}); too few: {few}")  # fmt: skip
        return None

    def log_density(
        self, eta: np.ndarray, y: np.ndarray, dispersion: float | np.ndarray | None = None
    ) -> np.ndarray:
        """``log p(y_i | eta_i)`` elementwise (rows on the last axis of ``eta``; with
        ``categories``, rows then classes on the last two).

        Raises
        ------
        ValueError
            A dispersion given to a family without one, or missing for a family with one.
        """
        if (dispersion is None) != (self.dispersion is None):
            need = f"needs its {self.dispersion}" if self.dispersion else "has no dispersion"
            raise ValueError(f"a {self.name} likelihood {need}")
        if dispersion is not None:
            dispersion = np.expand_dims(np.asarray(dispersion, dtype=float), -1)
        return self.density(np.asarray(eta, dtype=float), np.asarray(y, dtype=float), dispersion)


def _gaussian(eta, y, sigma):
    return distributions.norm.logpdf(y, eta, sigma)


def _categorical(eta, y, _):
    # log softmax of the observed class's column: eta (..., rows, K), y (rows,) class codes
    log_prob = eta - special.logsumexp(eta, axis=-1, keepdims=True)
    codes = np.broadcast_to(y.astype(int)[:, None], (*eta.shape[:-1], 1))
    return np.take_along_axis(log_prob, codes, axis=-1)[..., 0]


def _is_label(y):
    return np.isfinite(y) & (y == np.round(y))


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
            max_classes=2,
        ),
        Family(
            name="categorical",
            link="softmax",
            mean=lambda eta: special.softmax(eta, axis=-1),
            density=_categorical,
            target="integer class labels (3 or more classes)",
            accepts=_is_label,
            units="log-odds per unit of feature",
            map_bound=1e-6,
            bound_reason="Newton at tol=1e-12 on both sides (scikit-learn's newton-cholesky "
            "handles the multinomial loss since 1.6)",
            discrete=True,
            classifier=True,
            min_classes=3,
            min_class_rows=5,
            class_rows_reason="the reference C is chosen by 5-fold stratified cross-validation, "
            "which needs every class in every fold",
            categories=True,
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


__all__ = ["FAMILIES", "Family", "family"]
