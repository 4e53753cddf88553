"""The model contract: what every model in the registry is made of, and what it is given.

A penalised estimator from scikit-learn is the MAP of a Bayesian model. A model file in models/
defines ``SPEC = ModelSpec(...)``; everything the suite needs from it is a field of that spec, and
everything the model is given is a :class:`ModelData`. Nothing else is assumed.

**What ``build`` receives.** ``build(data: ModelData) -> pm.Model``, with

* ``data.X``, ``data.y``, ``data.feature_names``: the design and target as the model sees them;
* ``data.scaling``: the centring and scaling the suite applied to the columns of ``X`` (``None`` when
  ``X`` is as given, e.g. ``--no-standardize``), so a model can state a prior on the raw scale;
* ``data.noise_sd``: the fixed noise sd sigma of a Gaussian model with ``noise="fixed"`` (the
  least-squares residual sd unless ``--noise-sd`` is given); ``None`` otherwise.

**Which variables mean what.** ``coefficients`` (default ``"w"``, one entry per feature, dims
``"feature"``; a softmax model names its extra leading dims in ``coefficient_dims``, ``("class",)``:
one row per class, shape ``(K, p)``, and one intercept per class), ``intercept`` (default ``"intercept"``; ``None`` for a model without one: no
pinning needed), and for ``noise="unknown"`` the free noise sd ``noise_variable`` (``"sigma"``).
Prior hyper-parameters live in ``pm.Data`` containers so one compiled model serves a whole sweep.

**Optional parts.** A scikit-learn twin (``sklearn`` with ``prior_values``, the penalty -> prior
mapping) adds Check 1, MAP = scikit-learn; ``penalty_grid`` widens it from the reference penalty to a
grid; ``reference_penalty`` picks the penalty where the posterior is shown (else the user passes it,
e.g. ``--alpha``). A model without a twin is shown at ``hyperparameters`` (its ``pm.Data`` values),
of which ``--prior-sd`` overrides ``prior_sd``. Models whose prior is not differentiable at
zero (Laplace) name their non-smooth terms in ``l1_terms`` so the MAP solver treats them exactly.

A spec or a built model that breaks the contract raises :class:`ContractError`: one line naming
the missing piece.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np

from models.core.families import Family, family
from models.core.lazy import lazy

pm = lazy("pymc")


class InputError(ValueError):
    """Bad input from the user: reported as one line, exit status 2, before any sampling."""


class ContractError(InputError):
    """A model file that does not meet the contract of :class:`ModelSpec` (one line, exit 2)."""


# Prior widths a sampler can represent (their squares neither overflow nor underflow): the range
# of every width, given or derived from a penalty, in experiments and in ``prior``.
PRIOR_RANGE = (1e-100, 1e100)
QUOTED_MAX = 200  # characters of user text an error line shows (a long path still fits)


def quoted(text) -> str:
    """User text (a column name, a path, a target) as an error line shows it: ``repr`` quoted, so
    control characters, escape sequences and invisible characters appear as ``\\x1b``-style escapes
    and never reach the terminal, and cut to :data:`QUOTED_MAX` characters (``...`` and the length)."""
    text = str(text)
    if len(text) <= QUOTED_MAX:
        return repr(text)
    return f"{text[:QUOTED_MAX]!r}... ({len(text)} characters)"


def printable(message: str) -> str:
    """``message`` with every character that is not printable (control characters, escape
    sequences, line breaks, bidirectional overrides) written as its ``repr`` escape: what the
    command line prints, so no user text can drive the terminal or break the one-line error."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in message)


@dataclass(frozen=True)
class Scaling:
    """The column transformation the suite applied: ``X_model = (X_raw - mean) / scale``."""

    mean: np.ndarray
    scale: np.ndarray


@dataclass(frozen=True)
class ModelData:
    """Everything a model's ``build`` (and its penalty -> prior mapping) is given.

    Parameters
    ----------
    X : array (n, p)
        Design matrix as the model sees it.
    y : array (n,)
        Target.
    feature_names : tuple of str
        Column names of ``X`` (the ``"feature"`` coordinate).
    scaling : Scaling or None
        What was done to the raw columns, or None if ``X`` is as given.
    noise_sd : float or None
        Fixed noise sd sigma of a Gaussian likelihood with ``noise="fixed"``; None otherwise.
    stats : models.scale.statistics.GaussianStatistics or None
        The rows summarised (data too large to hold: ``X`` and ``y`` are then empty); a model that
        needs only sufficient statistics reads them here.
    classes : tuple of str or None
        A softmax model's class labels (the ``"class"`` coordinate); ``y`` then holds their codes
        ``0..K-1``. None for other models.
    """

    X: np.ndarray
    y: np.ndarray
    feature_names: tuple[str, ...]
    scaling: Scaling | None = None
    noise_sd: float | None = None
    stats: object | None = None
    classes: tuple[str, ...] | None = None

    @property
    def n_obs(self) -> int:
        return int(self.stats.n) if self.stats is not None else int(self.X.shape[0])

    @property
    def n_features(self) -> int:
        return len(self.feature_names)


def coords(data: ModelData, rows: bool = True) -> dict[str, list]:
    """The coordinates every model uses: ``feature`` (column names), ``class`` (the class labels,
    for data that have them) and, with ``rows``, ``obs`` (row numbers; a model written in
    sufficient statistics has no per-row variable)."""
    names = {"feature": list(data.feature_names)}
    if data.classes is not None:
        names["class"] = list(data.classes)
    return {**names, "obs": list(range(data.n_obs))} if rows else names


def data_containers(data: ModelData):
    """``pm.Data`` ``"X"`` (dims obs, feature) and ``"y_obs"`` (dims obs) in the current model.

    Holding the data in containers lets one compiled model be refitted on new rows of the same
    width (cross-validation folds) by swapping their values, without recompiling.
    """
    X_data = pm.Data("X", np.asarray(data.X, dtype=float), dims=("obs", "feature"))
    # float whatever the first data's dtype: a container made from integer counts would truncate
    # the next fit's float targets
    y_data = pm.Data("y_obs", np.asarray(data.y, dtype=float), dims="obs")
    return X_data, y_data


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
class Twin:
    """A scikit-learn estimator class whose fit is this model's posterior mode.

    :class:`models.twin.estimator.BayesianTwin` finds the model of a user's estimator through these entries,
    so a model added to the registry with a ``Twin`` becomes wrappable without touching the wrapper.

    Parameters
    ----------
    estimator : type or str
        The scikit-learn class (matched exactly, never a subclass), or its dotted name
        (``"sklearn.linear_model.Ridge"``), imported when a twin is first looked up: so reading
        the registry imports no scikit-learn.
    penalty : callable
        ``penalty(estimator) -> dict`` of the model's penalty (keys ``Link.penalty_names``),
        read from the estimator's parameters, or from its fitted attributes when ``cv``.
    cv : bool
        The penalty is chosen by the estimator's own fit (``RidgeCV.alpha_``): the wrapper fits a
        clone first.
    settings : mapping
        ``{parameter: allowed values}``: settings the model has (any other value is refused).
    model : callable, optional
        ``model(estimator) -> ModelSpec``: for a model file that serves several families, the
        model of this estimator's settings (TweedieRegressor's power picks its family); raises
        TypeError for settings no model has. Default: the spec that declares the twin.
    """

    estimator: type | str
    penalty: Callable[[object], dict[str, float]]
    cv: bool = False
    settings: Mapping[str, tuple] = field(default_factory=dict)
    model: Callable[[object], ModelSpec] | None = None

    @property
    def name(self) -> str:
        """The estimator's class name, e.g. ``"Ridge"`` (imports nothing)."""
        if isinstance(self.estimator, str):
            return self.estimator.rpartition(".")[2]
        return self.estimator.__name__

    def estimator_class(self) -> type:
        """The estimator's class (imports its module if given by name)."""
        if isinstance(self.estimator, str):
            module, _, name = self.estimator.rpartition(".")
            return getattr(importlib.import_module(module), name)
        return self.estimator

    def unsupported(self, estimator) -> str | None:
        """The first setting of ``estimator`` the model does not have, in words (None if none)."""
        params = estimator.get_params(deep=False)
        for name, allowed in self.settings.items():
            if params.get(name) not in allowed:
                shown = " or ".join(repr(value) for value in allowed)
                return f"{name}={params.get(name)!r} (the Bayesian twin needs {name}={shown})"
        return None


@dataclass(frozen=True)
class ConjugatePosterior:
    r"""A closed-form posterior of ``beta = (b0, w)`` for a Gaussian likelihood with a Normal prior.

    ``beta | y ~ t_dof(mean, s2 M^{-1})`` (a Normal when ``dof`` is infinite, i.e. sigma fixed), and
    a new observation ``y* | y ~ t_dof(z' mean, s2 (1 + z' M^{-1} z))`` with ``z = (1, x)``. With
    sigma unknown, ``sigma^2 | y ~ InvGamma(dof / 2, dof s2 / 2)``. ``M = Z'WZ + diag(0, alpha, ...)``
    is kept in the weighted-centred parametrisation ``b0 = c - x_mean' w``, where it is
    block-diagonal: ``Var(c) ∝ 1 / weight_total`` and ``Var(w) ∝ w_unscaled_cov``, independent. Every
    quadratic form and draw is computed there, which stays accurate when the column means are
    large (``M^{-1}`` itself can then lose its positive definiteness to rounding).

    Attributes
    ----------
    mean : array (p + 1,)
        Posterior mode and (for dof > 1) mean, intercept first.
    x_mean : array (p,)
        Weighted column means.
    weight_total : float
        Sum of the weights.
    w_unscaled_cov : array (p, p)
        ``(Xc' W Xc + alpha I)^{-1}``.
    s2 : float
        sigma^2 when fixed; the scale ``S / dof`` of the Student-t when sigma is unknown.
    dof : float
        Degrees of freedom (``inf`` for fixed sigma).
    w_spectrum : tuple (V, d, c), optional
        ``w_unscaled_cov`` as ``V diag(d) V' + c (I - V V')`` (``V`` p x k orthonormal), when it
        was computed from the rows' SVD (:func:`models.core.arrays.ridge_posterior_rows`):
        :meth:`quadratic` then sums squares in that basis. With more columns than rows the dense
        matrix is ``I / alpha`` minus a nearly equal term, and ``x' M^{-1} x`` from it loses
        ``eps ||x||^2 / alpha`` to cancellation (features of scale 1e7 with alpha 1: predictive
        sds wrong by 10-25%).
    """

    mean: np.ndarray
    x_mean: np.ndarray
    weight_total: float
    w_unscaled_cov: np.ndarray
    s2: float
    dof: float
    w_spectrum: tuple[np.ndarray, np.ndarray, float] | None = None

    @property
    def noise_known(self) -> bool:
        return bool(np.isinf(self.dof))

    def covariance(self) -> np.ndarray:
        """Posterior covariance of ``(b0, w)``: ``s2 M^{-1}``, times ``dof / (dof - 2)`` for a t;
        infinite for a t with ``dof <= 2`` (its variance does not exist), as in the twins'
        ``predict``."""
        top = -self.x_mean @ self.w_unscaled_cov
        unscaled = np.block([[1.0 / self.weight_total - top @ self.x_mean, top],
                             [top[:, None], self.w_unscaled_cov]])  # fmt: skip
        if self.noise_known:
            return self.s2 * unscaled
        if not self.dof > 2:
            return np.full_like(unscaled, np.inf)
        return self.s2 * (self.dof / (self.dof - 2)) * unscaled

    def quadratic(self, X: np.ndarray) -> np.ndarray:
        """``z' M^{-1} z`` for each row ``z = (1, x)`` of ``X``: from ``w_spectrum`` when present, a
        sum of non-negative terms ``sum_k d_k (v_k'x)^2 + c ||x - V V'x||^2`` (no cancellation)."""
        Xc = X - self.x_mean
        if self.w_spectrum is None:
            return 1.0 / self.weight_total + np.sum((Xc @ self.w_unscaled_cov) * Xc, axis=1)
        basis, scale, complement = self.w_spectrum
        projection = Xc @ basis
        quadratic = 1.0 / self.weight_total + projection**2 @ scale
        if complement:
            quadratic = quadratic + complement * np.sum((Xc - projection @ basis.T) ** 2, axis=1)
        return quadratic

    def draw(self, rng: np.random.Generator, size: int) -> tuple[np.ndarray, np.ndarray]:
        """Exact joint draws: ``beta`` (size, p + 1) and ``sigma^2`` (size,)."""
        if self.noise_known:
            noise2 = np.full(size, self.s2)
        else:
            noise2 = self.dof * self.s2 / rng.chisquare(self.dof, size)
        p = len(self.x_mean)
        if self.w_spectrum is None:
            spread = rng.standard_normal((size, p)) @ np.linalg.cholesky(self.w_unscaled_cov).T
        else:  # V diag(sqrt d) z1 + sqrt(c) (I - V V') z2: positive semi-definite by construction
            basis, scale, complement = self.w_spectrum
            spread = (rng.standard_normal((size, len(scale))) * np.sqrt(scale)) @ basis.T
            if complement:
                z = rng.standard_normal((size, p))
                spread = spread + np.sqrt(complement) * (z - (z @ basis) @ basis.T)
        w = self.mean[1:] + np.sqrt(noise2)[:, None] * spread
        centre = self.mean[0] + self.x_mean @ self.mean[1:]
        c = centre + np.sqrt(noise2 / self.weight_total) * rng.standard_normal(size)
        return np.column_stack([c - w @ self.x_mean, w]), noise2


NOISE = ("fixed", "unknown")


@dataclass(frozen=True)
class CertifiedMode:
    """A mode computed by an exact solver (``ClosedForm.mode_solver``), with its certificate.

    Attributes
    ----------
    point : dict
        Values of the free variables at the mode (as MAPSolver's ``MAPResult.point``).
    objective : float
        The estimator's objective (``Link.objective``) at the mode.
    objective_at : callable
        ``objective_at(intercept, w) -> float``: the same objective at any coefficients, to grade
        another solver's answer by its objective value.
    converged : bool
        True when the certificate holds (e.g. a duality gap below the solver's bound).
    unique : bool
        True when the coefficients are proved the only minimiser (a sufficient check, so False
        means "not proved", not "not unique"): only then are they compared with scikit-learn's.
    message : str
        One line: the certificate's numbers, and how uniqueness was decided.
    """

    point: dict[str, np.ndarray]
    objective: float
    objective_at: Callable[[float, np.ndarray], float]
    converged: bool
    unique: bool
    message: str

    def certify(self) -> CertifiedMode:
        """Return ``self`` if converged; else raise :class:`ValueError` with :attr:`message`."""
        if not self.converged:
            raise ValueError(self.message)
        return self


@dataclass(frozen=True)
class Link:
    """What links a model to scikit-learn: the twin estimators, the penalty <-> prior mapping, the
    grid of Check 1 and the reference penalty. An empty ``Link()`` (the default) is a model with
    no scikit-learn twin.

    Parameters
    ----------
    objective, mapping : str
        The penalised objective scikit-learn minimises, and the penalty <-> prior relation.
    penalty_names : tuple of str
        scikit-learn's penalty parameters (``("alpha",)``, ``("C",)``, ``("alpha", "l1_ratio")``).
    prior_values : callable
        ``prior_values(penalty, data) -> dict`` of ``pm.Data`` values; the exact mapping.
    sklearn : callable
        ``sklearn(penalty, data) -> estimator`` (unfitted, tight tolerances): the twin.
    penalty_grid : callable, optional
        ``penalty_grid(data, n) -> list of penalty dicts`` for the agreement sweep.
    reference_penalty : callable, optional
        ``reference_penalty(data) -> penalty dict`` where the full posterior is shown.
    penalty_from_prior : callable, optional
        ``penalty_from_prior(prior_values, data) -> penalty``: the inverse mapping (enables
        ``--prior-sd`` for a model with a twin).
    twins : tuple of Twin
        scikit-learn classes whose fit is this model's mode (the wrapper's lookup table).
    """

    objective: str = ""
    mapping: str = ""
    penalty_names: tuple[str, ...] = ()
    prior_values: Callable[[Mapping[str, float], ModelData], dict[str, float]] | None = None
    sklearn: Callable[[Mapping[str, float], ModelData], object] | None = None
    penalty_grid: Callable[[ModelData, int], list[dict[str, float]]] | None = None
    reference_penalty: Callable[[ModelData], dict[str, float]] | None = None
    penalty_from_prior: Callable[[Mapping[str, float], ModelData], dict[str, float]] | None = None
    twins: tuple[Twin, ...] = ()


@dataclass(frozen=True)
class ClosedForm:
    """Closed-form extras of a model, from which the exact mode and posterior derive (all
    optional; the default ``ClosedForm()`` has none).

    Parameters
    ----------
    exact_mode : callable, optional
        ``exact_mode(penalty, data) -> (intercept, w)``: a closed form of the mode, a third
        column of Check 1.
    exact_posterior : callable, optional
        ``exact_posterior(prior_values, data) -> (mean, cov)`` of ``(intercept, w)`` (intercept
        first): Check 2 grades the sampler against it.
    conjugate : callable, optional
        ``conjugate(penalty, X, y, sample_weight, noise_sd) -> ConjugatePosterior``: the exact
        posterior (``noise_sd`` None: sigma unknown, Jeffreys prior). Enables ``method="exact"``.
    build_scaled_noise : callable, optional
        Gaussian models: ``build_scaled_noise(data) -> pm.Model``, the same model with sigma free
        under the Jeffreys prior ``p(sigma) ∝ 1 / sigma`` and the prior scaled by sigma so that the
        mode of the coefficients is the twin's for every sigma. Its ``pm.Data`` hold the prior
        values at sigma = 1 (``prior_values(penalty, data with noise_sd=1)``).
    mode_solver : callable, optional
        ``mode_solver(penalty, data) -> CertifiedMode``: the model's own exact, certified mode
        solver, for a posterior MAPSolver's Newton cannot handle (a non-smooth likelihood: the
        quantile model's linear programme). Where given, it replaces MAPSolver everywhere a mode
        is computed (Check 1, Check 2, the twin), and Check 1 compares objective values always
        and coefficients where :attr:`CertifiedMode.unique` says the mode is unique.
    """

    exact_mode: Callable[[Mapping[str, float], ModelData], tuple[float, np.ndarray]] | None = None
    mode_solver: Callable[[Mapping[str, float], ModelData], CertifiedMode] | None = None
    exact_posterior: Callable[[Mapping[str, float], ModelData], tuple] | None = None
    conjugate: Callable[..., ConjugatePosterior] | None = None
    build_scaled_noise: Callable[[ModelData], pm.Model] | None = None


@dataclass(frozen=True)
class ModelSpec:
    """One model of the suite, as data (see the module docstring for the contract): what the
    model is, then what links it to scikit-learn (:class:`Link`) and its closed forms
    (:class:`ClosedForm`).

    Parameters
    ----------
    name : str
        Registry key, also the experiment name.
    title : str
        Human-readable name (the page title of its experiment).
    prior : str
        The Bayesian model in words (likelihood and priors).
    likelihood : str
        The observation family's name in :data:`models.core.families.FAMILIES` (``"gaussian"``,
        ``"bernoulli"``, ...): which targets are valid, the link, the pointwise log density.
    build : callable
        ``build(data: ModelData) -> pm.Model``.
    noise : {"fixed", "unknown"} or None
        Families with a dispersion only (``Family.dispersion``): it is ``data.noise_sd`` (fixed)
        or the free variable ``noise_variable`` (unknown). Default "fixed" for Gaussian models.
    coefficients, intercept, noise_variable : str
        Names of the weights (dims ``"feature"``), the intercept (None: no intercept) and the free
        noise sd.
    coefficient_dims : tuple of str
        Coordinates of the weights' leading axes before ``"feature"``: ``("class",)`` for a
        softmax model (weights ``(K, p)`` and an intercept per class, ``(K,)``); empty (default)
        for one weight per feature and a scalar intercept.
    likelihood_term : str, optional
        The ``pm.Potential`` that carries the likelihood, for a model written in sufficient
        statistics (no observed variable); default None: the model's observed variable.
    l1_terms : tuple of L1Term
        Non-smooth Laplace terms (empty for smooth models).
    hyperparameters : mapping
        ``pm.Data`` values at which a model without a twin is shown.
    link : Link
        The scikit-learn twin and the penalty <-> prior mapping (default: none).
    closed_form : ClosedForm
        Exact mode, exact posterior, conjugate posterior, scaled-noise model (default: none).
    default_data : str or callable
        A bundled data set's name (``models.core.data.DATASETS``) or ``() -> Dataset`` that makes one
        (what its experiment runs on without ``--data``).
    standardize : bool
        Whether its experiment centres and scales a user CSV by default (``--no-standardize``
        and ``--standardize`` override).
    """

    name: str
    title: str
    prior: str
    likelihood: str
    build: Callable[[ModelData], pm.Model]
    noise: str | None = None
    coefficients: str = "w"
    coefficient_dims: tuple[str, ...] = ()
    intercept: str | None = "intercept"
    noise_variable: str = "sigma"
    likelihood_term: str | None = None
    l1_terms: tuple[L1Term, ...] = ()
    hyperparameters: Mapping[str, float] = field(default_factory=dict)
    link: Link = field(default_factory=Link)
    closed_form: ClosedForm = field(default_factory=ClosedForm)
    # how its experiment presents it by default
    default_data: str | Callable = "diabetes"
    standardize: bool = True

    def __post_init__(self):
        def broken(what: str):
            raise ContractError(f"model '{self.name}': {what}")

        observation = family(self.likelihood)  # one ContractError line for an unknown family
        if self.likelihood == "gaussian" and self.noise is None:
            object.__setattr__(self, "noise", "fixed")
        if observation.dispersion is None and self.noise is not None:
            broken(f"noise applies to a likelihood with a dispersion; {self.likelihood} has none")
        if self.noise is not None and self.noise not in NOISE:
            broken(f"noise must be 'fixed' or 'unknown', got {self.noise!r}")
        if not callable(self.build):
            broken("build must be a function build(data: ModelData) -> pm.Model")
        required = [
            p
            for p in inspect.signature(self.build).parameters.values()
            if p.default is p.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        ]
        if len(required) != 1:
            names = ", ".join(p.name for p in required) or "nothing"
            broken(f"build must take one argument, the ModelData; it requires ({names})")
        if not isinstance(self.link, Link):
            broken("link must be a Link(...)")
        if not isinstance(self.closed_form, ClosedForm):
            broken("closed_form must be a ClosedForm(...)")
        link = self.link
        if link.sklearn is not None:
            missing = [
                name
                for name in ("prior_values", "objective", "mapping", "penalty_names")
                if not getattr(link, name)
            ]
            if missing:
                broken(f"a scikit-learn twin needs {', '.join(missing)} too")
        elif link.penalty_grid or link.reference_penalty or link.twins:
            broken(
                "penalty_grid, reference_penalty and twins need a scikit-learn twin "
                "(Link(sklearn=...))"
            )
        closed = self.closed_form
        if self.likelihood != "gaussian" and (closed.build_scaled_noise or closed.conjugate):
            broken("build_scaled_noise and conjugate apply to a gaussian likelihood only")

    @property
    def family(self) -> Family:
        """The observation family (:mod:`models.core.families`)."""
        return family(self.likelihood)

    @property
    def has_twin(self) -> bool:
        return self.link.sklearn is not None

    @property
    def noise_fixed(self) -> bool:
        return self.likelihood == "gaussian" and self.noise == "fixed"

    def invalid_target(self, y: np.ndarray) -> str | None:
        """Why this model cannot be fitted to ``y`` (one line), or None: its family's rule
        (:meth:`Family.invalid_target`), and a target with a single value when the model
        estimates the dispersion (``noise="unknown"``): there is no spread to estimate it from,
        its posterior piles up at 0 and the GLMs' prior, centred on the moment estimate
        ``log var(y)``, does not exist."""
        problem = self.family.invalid_target(y)
        if problem is None and self.noise == "unknown" and np.ptp(np.asarray(y, dtype=float)) == 0:
            problem = (f"needs a target with more than one value: its {self.noise_variable} "
                       "(the spread about the mean) is estimated from the data")  # fmt: skip
        return problem

    def validate_target(self, y: np.ndarray) -> None:
        """Raise :class:`InputError` if this model cannot be fitted to ``y`` (:meth:`invalid_target`)."""
        problem = self.invalid_target(y)
        if problem is not None:
            raise InputError(f"model '{self.name}' {problem}")

    def check_model(self, model: pm.Model, data: ModelData, data_names=()) -> None:
        """Raise :class:`ContractError` if the built ``model`` lacks a variable the spec names.

        Parameters
        ----------
        data_names : iterable of str
            ``pm.Data`` containers the suite will set (prior values, hyper-parameters).
        """

        def broken(what: str):
            raise ContractError(f"model '{self.name}': {what}")

        names = set(model.named_vars)
        free = {v.name for v in model.free_RVs}
        if self.coefficients not in free:
            broken(f"build made no free variable '{self.coefficients}' (ModelSpec.coefficients)")
        shape = np.shape(model.initial_point()[model.rvs_to_values[model[self.coefficients]].name])
        missing = [dim for dim in self.coefficient_dims if dim not in model.coords]
        if missing:
            broken(f"build made no coordinate {', '.join(map(repr, missing))} (coefficient_dims)")
        expected = (*(len(model.coords[dim]) for dim in self.coefficient_dims), data.n_features)
        if shape != expected:
            broken(f"'{self.coefficients}' has shape {shape}, expected {expected}")
        if self.intercept is not None and self.intercept not in names:
            broken(f"build made no variable '{self.intercept}' (ModelSpec.intercept; None if none)")
        if self.noise == "unknown" and self.noise_variable not in free:
            broken(f"noise='unknown' needs a free variable '{self.noise_variable}'")
        data_vars = {v.name for v in model.data_vars}
        for name in data_names:
            if name not in data_vars:
                broken(f"build made no pm.Data container '{name}' for the prior values")
        for term in self.l1_terms:
            for name in (term.term, term.variable, term.scale):
                if name not in names:
                    broken(f"l1_terms names '{name}', which build did not make")
        if self.likelihood_term is not None:
            if self.likelihood_term not in {p.name for p in model.potentials}:
                broken(f"build made no pm.Potential '{self.likelihood_term}' (likelihood_term)")
        elif not model.observed_RVs:
            broken("build made no observed variable (the likelihood)")

    def point_coefficients(self, point: Mapping[str, np.ndarray]) -> tuple[float, np.ndarray]:
        """Split a MAP point into ``(intercept, w)`` (intercept 0 for a model without one; with
        ``coefficient_dims``, an array of one intercept per class)."""
        w = np.asarray(point[self.coefficients], dtype=float)
        if self.intercept is None:
            b0 = np.zeros(w.shape[:-1]) if self.coefficient_dims else 0.0
        elif self.coefficient_dims:
            b0 = np.asarray(point[self.intercept], dtype=float)
        else:
            b0 = float(np.asarray(point[self.intercept]))
        return b0, w

    def posterior_variables(self) -> list[str]:
        """The variables every report summarises: intercept (if any), coefficients, free sigma."""
        names = [self.intercept] if self.intercept else []
        names.append(self.coefficients)
        if self.noise == "unknown":
            names.append(self.noise_variable)
        return names


def positive(value: float, name: str) -> float:
    """Return ``value`` as a float, or raise :class:`InputError` if it is not finite and > 0."""
    value = float(value)
    if not np.isfinite(value) or value <= 0:
        raise InputError(f"{name} must be a positive finite number, got {value:g}")
    return value
