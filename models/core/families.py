r"""Observation families, registered as data and looked up by name (as bambi's families).

A model's ``ModelSpec.likelihood`` names one of :data:`FAMILIES`. A family says everything the
machinery needs to know about an observation model that is not the model's own graph:

* which targets it can observe (:meth:`Family.validate`), in one line a user can act on;
* its link and inverse link (the mean of ``y`` from the linear predictor ``eta``);
* its pointwise log density in NumPy (:meth:`Family.log_density`), for LOO and predictive checks
  computed from saved draws, and a sampler of replicated data (:meth:`Family.sample`), for the
  prior and posterior predictive checks;
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
        one). A family with ``categories`` takes ``eta`` of shape ``(..., rows, K)`` and returns
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
    parameters : mapping
        ``{name: default}``: the density's shape parameters besides the dispersion, each the name
        of a model's ``pm.Data`` (``{"quantile": 0.5}``, scikit-learn's default); empty for most.
    draw : callable, optional
        ``draw(rng, eta, dispersion) -> y`` of the shape of ``eta``: replicated data (None: the
        family cannot be sampled, and its pages have no predictive check).
    max_classes : int or None
        Distinct target values allowed (2 for a binary classifier; None: no limit).
    min_class_rows : int
        Rows each class needs (a classifier whose classes are encoded by the suite), with
        ``class_rows_reason``, why, in words.
    class_rows_reason : str
    categories : bool
        The linear predictor has one column per class (shape ``(..., rows, K)``) and the targets
        are class codes ``0..K-1`` (the suite encodes the labels, ``np.unique``): a softmax model.
    not_all_zero : bool
        The targets must not all be 0 (counts): with the log link and a flat intercept, an
        all-zero target's likelihood rises to 1 as ``b0 -> -inf``, so the posterior is improper
        and has no mode (a Newton decrement still falls below any tolerance on the way).
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
    draw: Callable[[np.random.Generator, np.ndarray, object], np.ndarray] | None = None
    max_classes: int | None = None
    min_class_rows: int = 1
    class_rows_reason: str = ""
    categories: bool = False
    not_all_zero: bool = False

    def invalid_target(self, y: np.ndarray) -> str | None:
        """Why ``y`` cannot be observed by this family (one line), or None if it can."""
        y = np.asarray(y, dtype=float)
        bad = ~np.asarray(self.accepts(y), dtype=bool)
        values, counts = np.unique(y, return_counts=True)  # one sort: linear-log in the rows
        if bad.any():
            shown = ", ".join(f"{v:g}" for v in np.unique(y[bad])[:5])
            return f"needs {self.target}; got {int(bad.sum())} rows outside it ({shown})"
        if self.not_all_zero and not np.any(y != 0):
            return (f"needs {self.target} that is not all 0: with a flat intercept an all-zero "
                    "target has an improper posterior (the intercept runs to -inf) and no mode")  # fmt: skip
        if values.size < self.min_classes:
            return f"needs {self.target} with at least {self.min_classes} distinct values"
        if self.max_classes is not None and values.size > self.max_classes:
            return f"needs {self.target}; got {values.size} distinct values"
        if np.any(counts < self.min_class_rows):
            few = ", ".join(f"{v:g} ({c} rows)" for v, c in zip(values, counts, strict=True)
                            if c < self.min_class_rows)  # fmt: skip
            return (f"needs at least {self.min_class_rows} rows of every class "
                    f"({self.class_rows_reason}); too few: {few}")  # fmt: skip
        return None

    def log_density(
        self,
        eta: np.ndarray,
        y: np.ndarray,
        dispersion: float | np.ndarray | None = None,
        **parameters: float,
    ) -> np.ndarray:
        """``log p(y_i | eta_i)`` elementwise (rows on the last axis of ``eta``; with
        ``categories``, rows then classes on the last two).

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
        dispersion = self._dispersion(dispersion)
        if set(parameters) != set(self.parameters):
            need = ", ".join(self.parameters) or "no shape parameters"
            raise ValueError(f"a {self.name} likelihood takes {need}; got {', '.join(parameters)}")
        eta, y = np.asarray(eta, dtype=float), np.asarray(y, dtype=float)
        return self.density(eta, y, dispersion, **parameters)

    def sample(
        self,
        rng: np.random.Generator,
        eta: np.ndarray,
        dispersion: float | np.ndarray | None = None,
    ) -> np.ndarray:
        """Replicated data ``y ~ p(y | eta)``, one per element of ``eta`` (rows on the last axis;
        ``dispersion`` one per leading index, as in :meth:`log_density`).

        Raises
        ------
        ValueError
            A family without a sampler, or a dispersion given or missing as in :meth:`log_density`.
        """
        if self.draw is None:
            raise ValueError(f"the {self.name} family has no sampler")
        dispersion = self._dispersion(dispersion)
        return self.draw(rng, np.asarray(eta, dtype=float), dispersion)

    def _dispersion(self, dispersion) -> np.ndarray | None:
        """The dispersion with an axis for the rows, checked against the family."""
        if (dispersion is None) != (self.dispersion is None):
            need = f"needs its {self.dispersion}" if self.dispersion else "has no dispersion"
            raise ValueError(f"a {self.name} likelihood {need}")
        if dispersion is None:
            return None
        return np.expand_dims(np.asarray(dispersion, dtype=float), -1)


LOG_SQRT_2PI = float(np.log(np.sqrt(2 * np.pi)))


def normal_logpdf(y, mean, sd) -> np.ndarray:
    """``log Normal(y | mean, sd)`` elementwise, for ``sd > 0``: ``scipy.stats.norm.logpdf``'s
    arithmetic in its order (the same bits), without its per-call argument screening, which
    costs ~4x the arithmetic on the 10^8 values of a PSIS-LOO curve."""
    z = (np.asarray(y, dtype=float) - mean) / sd
    return -(z**2) / 2.0 - LOG_SQRT_2PI - np.log(sd)


def _gaussian(eta, y, sigma):
    return normal_logpdf(y, eta, sigma)


def pinball(residual: np.ndarray, quantile: float) -> np.ndarray:
    """scikit-learn's pinball loss ``rho_q(r) = max(q r, (q - 1) r)`` elementwise."""
    return np.maximum(quantile * residual, (quantile - 1.0) * residual)


def _asymmetric_laplace(eta, y, scale, quantile):
    # p(y) = q (1 - q) / b exp(-rho_q(y - eta) / b): the q-quantile of y is eta, and the negative
    # log likelihood is the pinball loss divided by b (plus log terms free of eta)
    return np.log(quantile * (1.0 - quantile) / scale) - pinball(y - eta, quantile) / scale


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


def _poisson(eta, y, _):
    # y log mu - mu - log y! with log mu = eta as given: the Poisson mass at integer y (and its
    # continuous extension in y); xlogy(y, exp(eta)) lost eta where exp under- or overflows
    # (-inf below eta = -745, NaN above 709 for y > 0), and y = 0 keeps 0 * eta = 0
    return np.where(y == 0, 0.0, y * eta) - np.exp(eta) - special.gammaln(y + 1)


def _gamma(eta, y, phi):
    # shape 1 / phi, mean exp(eta): log p = -(y / mu + log mu) / phi + terms free of eta
    return distributions.gamma.logpdf(y, 1 / phi, scale=phi * np.exp(eta))


def _inverse_gaussian(eta, y, phi):
    # mean mu = exp(eta), shape lambda = 1 / phi: log p = -(y - mu)^2 / (2 phi y mu^2) + ...
    mu, lam = np.exp(eta), 1 / phi
    return distributions.invgauss.logpdf(y, mu / lam, scale=lam)


def _positive_integers(y):
    return (y >= 0) & (y == np.round(y)) & np.isfinite(y)


def _positive(y):
    return (y > 0) & np.isfinite(y)


def _draw_gaussian(rng, eta, sigma):
    return eta + sigma * rng.standard_normal(eta.shape)


def _draw_bernoulli(rng, eta, _):
    return (rng.random(eta.shape) < special.expit(eta)).astype(float)


def _draw_poisson(rng, eta, _):
    return rng.poisson(np.exp(eta)).astype(float)


def _draw_gamma(rng, eta, phi):
    return rng.gamma(1 / phi, phi * np.exp(eta))


def _draw_inverse_gaussian(rng, eta, phi):
    return rng.wald(np.exp(eta), np.broadcast_to(1 / phi, eta.shape))


# every log-link family's reason for its bound: scikit-learn's Newton-Cholesky at tol=1e-12
# against our certified Newton on the same smooth objective
_NEWTON = "Newton (newton-cholesky) at tol=1e-12 on both sides, agreeing to ~1e-10"

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
            draw=_draw_gaussian,
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
            draw=_draw_bernoulli,
            max_classes=2,
        ),
        Family(
            name="poisson",
            link="log",
            mean=np.exp,
            density=_poisson,
            target="a count target (integers >= 0)",
            accepts=_positive_integers,
            units="log of the mean count per unit of feature",
            map_bound=1e-6,
            bound_reason=_NEWTON,
            discrete=True,
            draw=_draw_poisson,
            not_all_zero=True,
        ),
        Family(
            name="gamma",
            link="log",
            mean=np.exp,
            density=_gamma,
            target="a positive target (y > 0)",
            accepts=_positive,
            units="log of the mean per unit of feature",
            map_bound=1e-6,
            bound_reason=_NEWTON,
            dispersion="dispersion phi (squared coefficient of variation)",
            draw=_draw_gamma,
        ),
        Family(
            name="inverse_gaussian",
            link="log",
            mean=np.exp,
            density=_inverse_gaussian,
            target="a positive target (y > 0)",
            accepts=_positive,
            units="log of the mean per unit of feature",
            map_bound=1e-6,
            bound_reason=_NEWTON,
            dispersion="dispersion phi (1 / the shape lambda)",
            draw=_draw_inverse_gaussian,
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


__all__ = ["FAMILIES", "Family", "family", "pinball"]
