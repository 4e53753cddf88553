r"""The Bayesian twin of a scikit-learn estimator: the same coefficients, and the posterior behind them.

::

    from sklearn.linear_model import RidgeCV
    from models.twin import bayesian

    twin = bayesian(RidgeCV()).fit(X, y)   # twin.coef_ == RidgeCV().fit(X, y).coef_
    mean, sd = twin.predict(X_new, return_std=True)
    low, high = twin.predict_interval(X_new, prob=0.94)
    twin.posterior_                        # DataTree: posterior, log_likelihood, observed_data

Layers, bottom up: the model registry says which Bayesian model an estimator is the mode of
(``Link.twins``, so a new model file with a ``Twin`` is wrappable here unchanged); the posterior
is computed exactly (conjugate ridge), by a Laplace approximation, or by NUTS (nutpie) on a model
compiled once per process and width; predictions are computed from it in row chunks.
"""

from __future__ import annotations

import numbers
import warnings
from importlib import import_module

import arviz as az
import numpy as np
import xarray as xr
from arviz_stats.base import array_stats
from scipy import special, stats
from sklearn.base import BaseEstimator, clone
from sklearn.metrics import accuracy_score, r2_score
from sklearn.utils import check_array, check_random_state, check_scalar
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, check_non_negative, validate_data

from models import registry
from models.core.arrays import (
    SAVED_DRAWS_X_ROWS,
    draws_log_likelihood,
    linear_predictor_chunks,
    normal_draws,
)
from models.core.base import ModelData, ModelSpec, Twin
from models.core.families import Family, family
from models.inference.engines import (
    COMPILED,
    SIGMA_FREE,
    sampling_diagnostics,
    tuning_iterations,
)
from models.scale.statistics import GaussianStatistics, statistics_values

METHODS = ("auto", "exact", "laplace", "nuts")


class SamplingWarning(UserWarning):
    """NUTS reported a problem (divergences, r_hat > 1.01, low ESS): the posterior may be wrong."""


def twin_of(estimator, n_classes: int | None = None) -> tuple[ModelSpec, Twin]:
    """The registered model whose mode ``estimator`` is, and the rule that says how to read it.

    Parameters
    ----------
    n_classes : int, optional
        A classifier's number of classes: the model is the one whose family takes that many
        (LogisticRegression: the binary model for 2, the multinomial one for more).

    Raises
    ------
    TypeError
        For a class no registered model twins, or a setting (``positive=True``, ...) that no model
        has: never refitted silently as something else.
    ValueError
        A number of classes no model of the estimator takes (a single class).
    """
    reasons, counts = [], []
    for spec in registry().values():
        for rule in spec.link.twins:
            if type(estimator) is rule.estimator_class():
                reason = rule.unsupported(estimator)
                fam = spec.family
                if reason is None and n_classes is not None:
                    counts.append(fam.min_classes)
                    if n_classes < fam.min_classes or n_classes > (fam.max_classes or n_classes):
                        continue
                if reason is None:
                    return (rule.model(estimator) if rule.model else spec), rule
                reasons.append(reason)
    if counts:
        raise ValueError(
            f"the Bayesian twin of {type(estimator).__name__} needs at least {min(counts)} "
            f"classes; got {n_classes} class"
        )
    if reasons:
        raise TypeError(f"{type(estimator).__name__} with {reasons[0]} is not supported")
    raise TypeError(
        f"no Bayesian twin of {type(estimator).__name__}; supported: {', '.join(supported())}"
    )


def supported() -> list[str]:
    """Names of the scikit-learn estimators that have a registered twin."""
    names = [rule.name for spec in registry().values() for rule in spec.link.twins]
    return list(dict.fromkeys(names))  # a class twinned by two models (binary, multinomial) once


class BayesianTwin(BaseEstimator):
    r"""The posterior whose mode is a penalised scikit-learn estimator.

    The wrapped estimator minimises a penalised objective, e.g. Ridge's
    ``||y - b0 - X w||^2 + alpha ||w||^2``; that objective is, up to a factor and a constant, the
    negative log posterior of a registered Bayesian model (``models.get_model(...).link.mapping``).
    ``coef_`` and ``intercept_`` are that posterior's mode: the exact minimiser of the wrapped
    estimator's objective at its penalty (for a ``*CV`` estimator, at its choice), solved by a
    closed form or Newton's method and certified by its optimality conditions, in the wrapped
    estimator's shapes and types. The wrapped estimator's own fit (``estimator_``) stops at its
    solver's tolerance, so it differs from the mode by ``wrapped_gap_`` (1.2e-2 for
    ``LogisticRegression()`` at its default ``tol`` on the scaled breast-cancer data, below 1e-8
    at ``solver="newton-cholesky", tol=1e-12``). The posterior adds everything the point
    estimate hides.

    Noise (Gaussian models). ``noise="unknown"`` (default): ``p(sigma) ∝ 1 / sigma`` and the prior
    scaled by sigma, ``w | sigma ~ Normal(0, sigma / sqrt(alpha))`` for Ridge; then the mode of w is
    Ridge(alpha) for every sigma, and the exact posterior of ``(b0, w)`` is a multivariate
    Student-t with ``n - 1`` degrees of freedom (:func:`models.ridge.conjugate`). For Lasso and
    ElasticNet the Laplace scale is ``b = sigma^2 / (n alpha l1_ratio)`` (and the Normal width
    ``sigma / sqrt(n alpha (1 - l1_ratio))``): scikit-learn divides the squared error by ``2 n``,
    so this is the scaling under which the mode is the estimator's whatever sigma is. A positive
    number fixes sigma instead. Ignored for logistic regression.

    Sample weights (Ridge and RidgeCV, exact method) are relative precisions: row i has noise
    variance ``sigma^2 m / w_i``, with ``m`` the mean weight of the rows of positive weight
    (``sample_weight_mean_``). So sigma, learned or given, is the noise sd of a row of average
    weight, and multiplying every weight by a constant changes the noise model in nothing: it
    changes the fit only as it changes Ridge's own objective ``sum_i w_i r_i^2 + alpha ||w||^2``
    (like dividing alpha by the constant), and the mode stays the wrapped estimator's fit with
    those weights. A new row has weight ``m``, noise sd sigma, unless :meth:`predict` and
    :meth:`predict_interval` are given its weight (noise sd ``sigma sqrt(m / v)`` for weight v).
    A row of weight 0 contributes nothing to the likelihood and is not in ``log_likelihood``.
    Other models take no weights (all ones only).

    Parameters
    ----------
    estimator : scikit-learn estimator
        Ridge, RidgeCV, Lasso, LassoCV, ElasticNet, ElasticNetCV, LogisticRegression or
        LogisticRegressionCV (binary, L2, any solver but liblinear), or any other estimator a
        registered model declares in ``Link.twins``. A ``*CV`` estimator is fitted first and
        its choice (``alpha_``, ``C_``) used.
    method : {"auto", "exact", "laplace", "nuts"}
        ``"exact"``: the closed-form posterior (ridge). ``"laplace"``: a Gaussian at the mode with
        the inverse Hessian as covariance (smooth models only, so not Lasso or ElasticNet).
        ``"nuts"``: nutpie's NUTS (every model). ``"auto"``: exact where it exists, else NUTS.
        On dask arrays (LogisticRegression, binary, and PoissonRegressor only) ``"auto"`` and
        ``"laplace"`` are the Laplace posterior at the distributed Newton MAP
        (:mod:`models.scale.newton`), and NUTS is refused.
    noise : "unknown" or float
        See above.
    draws, chains : int
        Posterior draws per chain (also for exact and Laplace draws) and chains.
    tune : int or None, default=None
        NUTS tuning iterations per chain; None: the suite's policy for the model sampled
        (:func:`models.inference.engines.tuning_iterations`).
    random_state : int, RandomState or None
        Seed of the sampler and of the draws; the same seed gives the same posterior.

    Attributes
    ----------
    coef_, intercept_ : arrays or float
        The posterior mode, shaped as the wrapped estimator's: ``(p,)`` and a float for the
        Gaussian models, ``(1, p)`` and ``(1,)`` for binary logistic regression.
    wrapped_gap_ : float
        How far the wrapped estimator's own fit is from the mode:
        ``max |estimator_.coef_ - coef_| / max |coef_|`` (the absolute difference when ``coef_`` is
        all zero).
    penalty_ : dict
        The penalty used (``{"alpha": ...}``), read from the estimator or its CV choice.
    estimator_ : estimator
        The fitted clone of the wrapped estimator (with the same sample weights); for a ``*CV``
        estimator, the fit that chose the penalty.
    sample_weight_mean_ : float
        Mean of the positive sample weights (1.0 without weights): a new row's default weight.
    model_ : str
        Registry name of the Bayesian model.
    likelihood_ : str
        Its observation family (``models.core.families``): the model's, which for
        TweedieRegressor depends on the power (gaussian, poisson, gamma, inverse_gaussian).
    method_ : str
        The method used.
    posterior_ : xarray.DataTree
        ``posterior`` (the intercept, coefficients and free noise sd under the model's own names,
        ``ModelSpec.intercept``, ``.coefficients``, ``.noise_variable``), ``log_likelihood`` (when
        draws x rows <= ``models.core.arrays.SAVED_DRAWS_X_ROWS``), ``observed_data``, and
        ``sample_stats`` for NUTS. ``log_likelihood`` and ``observed_data`` hold the rows of
        positive weight; their ``obs`` coordinate is the row number in ``X``.
    diagnostics_ : dict
        NUTS: divergences, worst r_hat, smallest ESS, and ``ok``; a :class:`SamplingWarning` is
        raised when ``ok`` is False. Exact and Laplace: the method.
    classes_ : array (K,)
        Logistic regression: the labels; ``classes_[1]`` is the event of ``predict_proba[:, 1]``
        when K = 2. With K > 2 classes the model is the multinomial one (``coef_`` (K, p),
        ``intercept_`` (K,) summing to zero, as scikit-learn's), and ``predict_proba`` has one
        column per class.
    """

    def __init__(
        self,
        estimator=None,
        *,
        method="auto",
        noise="unknown",
        draws=1000,
        tune=None,
        chains=2,
        random_state=None,
    ):
        self.estimator = estimator
        self.method = method
        self.noise = noise
        self.draws = draws
        self.tune = tune
        self.chains = chains
        self.random_state = random_state

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        if self.estimator is not None:
            inner = self.estimator.__sklearn_tags__()
            tags.estimator_type = inner.estimator_type
            tags.regressor_tags = inner.regressor_tags
            tags.target_tags.positive_only = inner.target_tags.positive_only  # GLMs: y > 0
            if inner.classifier_tags is not None:
                tags.classifier_tags = inner.classifier_tags  # binary, or multinomial (K > 2)
        tags.input_tags.sparse = False
        return tags

    @property
    def _classifier(self) -> bool:
        return self.__sklearn_tags__().estimator_type == "classifier"

    # -- fitting ----------------------------------------------------------------------------------

    def fit(self, X, y, sample_weight=None):
        """Fit the posterior to ``X``, ``y``.

        Parameters
        ----------
        X : array-like (n, p)
        y : array-like (n,)
        sample_weight : array-like (n,), optional
            Ridge only (exact method): relative precisions, as in the class docstring. The mode is
            the wrapped estimator's fit with these weights; a row of weight 0 is left out.

        Returns
        -------
        self
        """
        if self.estimator is None:
            raise TypeError("BayesianTwin needs an estimator, e.g. BayesianTwin(Ridge(alpha=1.0))")
        check_sampling_counts(self)
        if _is_dask(X) or _is_dask(y):
            return self._fit_partitioned(X, y, sample_weight)
        spec, rule = twin_of(self.estimator)
        classifier = spec.family.classifier
        shape = np.asarray(y).shape
        if len(shape) == 2 and shape[1] != 1:
            raise ValueError(
                f"the Bayesian twin fits one target; y has shape {shape} (fit one twin per "
                "column: multi-output regression is not supported)"
            )
        X, y = validate_data(self, X, y, dtype=np.float64, y_numeric=not classifier)
        if X.shape[0] < 2:  # before the target's rules: one row is also a constant target
            raise ValueError(f"n_samples={X.shape[0]}: a posterior needs at least 2 rows")
        classes = None
        if classifier:
            check_classification_targets(y)
            self.classes_, y = np.unique(y, return_inverse=True)
            spec, rule = twin_of(self.estimator, len(self.classes_))
            classes = tuple(map(str, self.classes_)) if spec.family.categories else None
            y = y.astype(np.float64)
        elif (problem := spec.invalid_target(y)) is not None:
            raise ValueError(f"the {spec.family.name} model of {rule.name} {problem}")
        weight = None if sample_weight is None else _sample_weight(sample_weight, X.shape[0])
        method = self._method(spec)
        if weight is not None and np.any(weight != 1.0) and method != "exact":
            raise ValueError("sample_weight is supported by the exact method only (Ridge, RidgeCV)")
        sigma = self._sigma(spec)
        self.model_, self.likelihood_ = spec.name, spec.likelihood
        self.method_ = method
        penalty = None if rule.cv else rule.penalty(self.estimator)  # checked before any fit
        self.estimator_ = clone(self.estimator).fit(
            X, y, **({} if weight is None else {"sample_weight": weight})
        )
        self.penalty_ = rule.penalty(self.estimator_) if rule.cv else penalty
        self.sample_weight_mean_ = 1.0 if weight is None else float(np.mean(weight[weight > 0]))
        names = tuple(
            map(str, getattr(self, "feature_names_in_", [f"x{j}" for j in range(X.shape[1])]))
        )
        seed = int(check_random_state(self.random_state).randint(2**31 - 1))
        if method == "exact":
            intercept, coef, draws = self._fit_exact(spec, X, y, weight, sigma, seed)
        else:
            summary = GaussianStatistics.from_arrays(X, y) if spec.likelihood_term else None
            data = ModelData(X, y, names, noise_sd=1.0 if sigma is None else sigma, stats=summary,
                             classes=classes)  # fmt: skip
            intercept, coef, draws = self._fit_map_and_draws(spec, data, sigma, method, seed)
        self._as_wrapped(intercept, coef)
        self._draws = draws
        self._seed = seed
        self.posterior_ = self._posterior(spec, draws, X, y, weight, names)
        return self

    def _fit_partitioned(self, X, y, sample_weight):
        """Dask arrays: the Laplace posterior at the distributed Newton MAP
        (:mod:`models.scale.newton`), the rows never in memory. ``estimator_`` is not fitted (it
        would need the rows in memory) and ``wrapped_gap_`` is NaN; ``posterior_`` holds the
        posterior draws only (no pointwise log likelihood, no observed data)."""
        import dask.array as da

        from models.scale.newton import DEVIANCES, Partitions, newton_map

        spec, rule = twin_of(self.estimator)
        name = type(self.estimator).__name__
        if spec.likelihood not in DEVIANCES or rule.cv or spec.family.dispersion:
            raise TypeError(
                f"the Bayesian twin of {name} needs the rows in memory (X.compute()); on dask "
                "arrays it fits LogisticRegression (binary) and PoissonRegressor"
            )
        if self.method in ("nuts", "exact"):
            raise ValueError(
                f"method={self.method!r} on dask arrays: NUTS needs every row for every gradient "
                "and logistic or Poisson regression has no closed form; use method='laplace' (or "
                "'auto'): the Laplace posterior at the distributed Newton MAP, or NUTS on a "
                "subsample in memory"
            )
        self._method(spec)  # an unknown method is refused as for rows in memory
        if sample_weight is not None:
            raise ValueError("sample_weight is not supported on dask arrays")
        X, y = da.asarray(X), da.asarray(y)
        if X.ndim != 2 or y.ndim != 1 or X.shape[0] != y.shape[0]:
            raise ValueError(f"X must be 2-d and y 1-d with as many rows; got {X.shape}, {y.shape}")
        if spec.family.classifier:
            self.classes_ = np.unique(da.unique(y).compute())  # one pass over y
            if len(self.classes_) != 2:
                raise ValueError(f"on dask arrays the twin of {name} is binary; y has "
                                 f"{len(self.classes_)} classes")  # fmt: skip
            y = (y == self.classes_[1]).astype(np.float64)
        rows, p = int(X.shape[0]), int(X.shape[1])
        self.n_features_in_ = p
        names = tuple(f"x{j}" for j in range(p))
        self.penalty_ = rule.penalty(self.estimator)
        count_only = ModelData(np.empty((rows, 0)), np.broadcast_to(0.0, (rows,)), ())
        prior_sd = spec.link.prior_values(self.penalty_, count_only)["prior_sd"]
        mode = newton_map(Partitions(X, y), spec.likelihood, prior_sd).certify()
        if mode.separated:
            warnings.warn(
                "complete separation: the MAP's direction separates the classes, so the MAP "
                "exists only because of the prior (certified); the posterior is bounded on one "
                "side by the prior alone and the Laplace approximation of it is rough",
                UserWarning,
                stacklevel=2,
            )
        mean, cov = mode.laplace()
        self.model_, self.method_, self.sample_weight_mean_ = spec.name, "laplace", 1.0
        self.likelihood_ = spec.likelihood
        self.estimator_ = clone(self.estimator)
        wrapped = spec.family.classifier  # LogisticRegression's shapes: (1, p) and (1,)
        self.coef_ = mode.coef.reshape(1, p) if wrapped else mode.coef.copy()
        self.intercept_ = np.array([mode.intercept]) if wrapped else mode.intercept
        self.wrapped_gap_ = float("nan")
        self._seed = int(check_random_state(self.random_state).randint(2**31 - 1))
        flat = normal_draws(np.random.default_rng(self._seed), mean, cov, self.chains * self.draws)
        self._draws, self._trace = {"intercept": flat[:, 0], "w": flat[:, 1:]}, None
        self.diagnostics_ = {"method": "laplace", "ok": True, "map": mode.message,
                             "passes": mode.passes, "separated": mode.separated}  # fmt: skip
        shape = (self.chains, self.draws)
        self.posterior_ = az.from_dict(
            {"posterior": {spec.intercept: flat[:, 0].reshape(shape),
                           spec.coefficients: flat[:, 1:].reshape(shape + (p,))}},
            dims={spec.coefficients: ["feature"]}, coords={"feature": list(names)},
        )  # fmt: skip
        return self

    def _as_wrapped(self, intercept: float, coef: np.ndarray) -> None:
        """``coef_`` and ``intercept_``: the mode in the shapes and types of the wrapped
        estimator's own (``(p,)`` and a float for Ridge, ``(1, p)`` and ``(1,)`` for a binary
        LogisticRegression); ``wrapped_gap_``: how far that estimator's own fit is from it."""
        wrapped = self.estimator_
        self.coef_ = np.asarray(coef, dtype=np.float64).reshape(np.shape(wrapped.coef_))
        b0 = np.asarray(intercept, dtype=np.float64).reshape(np.shape(wrapped.intercept_))
        self.intercept_ = b0 if b0.ndim else b0[()]
        scale = float(np.max(np.abs(self.coef_), initial=0.0)) or 1.0
        difference = np.abs(np.asarray(wrapped.coef_, dtype=np.float64) - self.coef_)
        self.wrapped_gap_ = float(np.max(difference, initial=0.0)) / scale

    def _method(self, spec: ModelSpec) -> str:
        if self.method not in METHODS:
            raise ValueError(f"method must be one of {', '.join(METHODS)}; got {self.method!r}")
        if self.method == "auto":
            return "exact" if spec.closed_form.conjugate is not None else "nuts"
        if self.method == "exact" and spec.closed_form.conjugate is None:
            raise ValueError(f"method='exact' needs a closed-form posterior; {spec.name} has none")
        if self.method == "laplace" and spec.l1_terms:
            raise ValueError(
                f"method='laplace' needs a smooth log posterior; {spec.name} has an L1 term"
            )
        return self.method

    def _sigma(self, spec: ModelSpec) -> float | None:
        """The fixed noise sd, or None for sigma unknown (and for non-Gaussian models)."""
        if not spec.noise_fixed:  # a family without a dispersion, or one the model samples
            return None
        if isinstance(self.noise, str):
            if self.noise != "unknown":
                raise ValueError(
                    f"noise must be 'unknown' or a positive number; got {self.noise!r}"
                )
            if spec.closed_form.build_scaled_noise is None and spec.closed_form.conjugate is None:
                raise ValueError(f"{spec.name} has no sigma-unknown model: pass noise=<sd>")
            return None
        sigma = float(self.noise)
        if not (np.isfinite(sigma) and sigma > 0):
            raise ValueError(f"noise must be 'unknown' or a positive number; got {self.noise!r}")
        return sigma

    def _fit_exact(self, spec, X, y, weight, sigma, seed) -> tuple:
        """The mode (intercept, coefficients) and the draws of the closed-form posterior.

        ``conjugate`` reads a weight as scikit-learn does (row i has noise variance
        ``sigma_1^2 / weight_i``, sigma_1 the sd of a row of weight 1); the twin's sigma is that of
        a row of the mean weight ``m``, ``sigma = sigma_1 / sqrt(m)``.
        """
        typical = self.sample_weight_mean_
        fixed = None if sigma is None else sigma * np.sqrt(typical)
        post = spec.closed_form.conjugate(self.penalty_, X, y, weight, fixed)
        self.conjugate_ = post
        self.diagnostics_ = {"method": "exact", "ok": True}
        beta, noise2 = post.draw(np.random.default_rng(seed), self.chains * self.draws)
        draws = {"intercept": beta[:, 0], "w": beta[:, 1:]}
        if not post.noise_known:
            draws["sigma"] = np.sqrt(noise2 / typical)
        return float(post.mean[0]), post.mean[1:].copy(), draws

    def _fit_map_and_draws(self, spec, data, sigma, method, seed) -> tuple:
        """The certified mode (intercept, coefficients) and Laplace or NUTS draws."""
        gaussian = spec.noise_fixed
        rows = (
            statistics_values(data.stats)
            if spec.likelihood_term
            else {"X": data.X, "y_obs": data.y}
        )
        prior = spec.link.prior_values(self.penalty_, data)
        fixed = {**rows, **prior, **({"noise_sd": data.noise_sd} if gaussian else {})}
        variant = "scaled" if gaussian and sigma is None else "fixed"
        values = fixed if variant == "fixed" else {**rows, **prior}
        # The mode of the coefficients is the fixed-sigma model's for every sigma (the prior is
        # scaled by sigma), and its solver treats L1 terms exactly.
        fixed_model = _compiled(spec, "fixed", data, fixed)
        if spec.closed_form.mode_solver:  # the model's own exact solver (a linear programme)
            mode = spec.closed_form.mode_solver(self.penalty_, data).certify()
        else:
            mode = fixed_model.map_solver().solve(fixed_model.known(fixed)).certify()
        intercept, coef = spec.point_coefficients(mode.point)
        compiled = _compiled(spec, variant, data, values)
        values = compiled.known(values)
        if method == "laplace":
            solver = compiled.map_solver()
            joint = solver.solve(values).certify()
            gauss = solver.laplace(joint)
            rng = np.random.default_rng(seed)
            flat = gauss.draws(rng, self.chains * self.draws)
            points = solver.points(flat)
            self.diagnostics_ = {"method": "laplace", "ok": True, "map": joint.message}
            self._trace = None
            return intercept, coef, _pooled(spec, points, data.n_features)
        trace = compiled.posterior_sampler().sample(
            values, draws=self.draws, chains=self.chains, seed=seed,
            tune=self.tune if self.tune is not None else tuning_iterations(
                spec.name + (SIGMA_FREE if variant == "scaled" else "")),
        )  # fmt: skip
        var_names = [name for name in (spec.intercept, spec.coefficients) if name]
        var_names += [spec.noise_variable] if variant == "scaled" or spec.noise == "unknown" else []
        self.diagnostics_ = sampling_diagnostics(f"{spec.name} twin, NUTS", trace, var_names)
        if not self.diagnostics_["ok"]:
            warnings.warn(
                f"NUTS: {'; '.join(self.diagnostics_['problems'])}: the posterior may be "
                "unreliable (more draws, tune or a reparametrisation may help)",
                SamplingWarning,
                stacklevel=3,
            )
        self._trace = trace
        posterior = trace["posterior"].dataset
        points = {
            name: posterior[name].stack(sample=("chain", "draw")).transpose("sample", ...).values
            for name in var_names
        }
        return intercept, coef, _pooled(spec, points, data.n_features)

    @property
    def _categories(self) -> bool:
        return self._family.categories

    @property
    def _family(self) -> Family:
        """The fitted model's observation family, looked up by the family's own name (a fitted
        twin pickles): one model file can have several (TweedieRegressor's powers), so the
        registered model's family is not necessarily the one fitted."""
        return family(self.likelihood_)

    # -- the posterior as a DataTree --------------------------------------------------------------

    def _posterior(self, spec, draws, X, y, weight, names) -> xr.DataTree:
        """The draws under the model's own names (``spec.intercept``, ``spec.coefficients``,
        ``spec.noise_variable``), with the pointwise log likelihood and the observed data.

        A row of weight 0 is not in the likelihood, so it is in neither ``log_likelihood`` nor
        ``observed_data`` (leave-one-out has nothing to leave out there, and its density under a
        weight of 0 does not exist); the ``obs`` coordinate holds the row numbers that are."""
        shape = (self.chains, self.draws)
        named = {"intercept": spec.intercept, "w": spec.coefficients, "sigma": spec.noise_variable}
        posterior = {named[k]: v.reshape(shape + v.shape[1:]) for k, v in draws.items() if named[k]}
        rows = np.arange(len(y)) if weight is None else np.flatnonzero(weight > 0)
        if weight is not None:
            X, y, weight = X[rows], y[rows], weight[rows] / self.sample_weight_mean_
        groups = {"posterior": posterior, "observed_data": {"y": y}}
        if self.chains * self.draws * len(y) <= SAVED_DRAWS_X_ROWS:
            gaussian = spec.likelihood == "gaussian"  # only a Gaussian has weights
            dispersion = self._noise_draws() if spec.family.dispersion else None
            parameters = (  # the family's shape parameters (the quantile), as the model's pm.Data
                spec.link.prior_values(self.penalty_, ModelData(X, y, names))
                if spec.family.parameters
                else {}
            )
            loglik = draws_log_likelihood(spec.likelihood, draws["intercept"], draws["w"], X, y,
                                          dispersion, weight if gaussian else None,
                                          **{k: parameters[k] for k in spec.family.parameters})  # fmt: skip
            groups["log_likelihood"] = {"y": loglik.reshape(shape + (len(y),))}
        dims, coords = (
            {spec.coefficients: ["feature"], "y": ["obs"]},
            {"feature": list(names), "obs": rows},
        )
        if spec.coefficient_dims:  # a softmax model: weights (class, feature), intercepts (class,)
            dims = {**dims, spec.coefficients: ["class", "feature"], spec.intercept: ["class"]}
            coords["class"] = [str(label) for label in self.classes_]
        dt = az.from_dict(groups, dims=dims, coords=coords)
        if getattr(self, "_trace", None) is not None and self.method_ == "nuts":
            dt["sample_stats"] = self._trace["sample_stats"]
        return dt

    def _fixed_sigma(self) -> float:
        return float(self.noise)

    # -- predictions ------------------------------------------------------------------------------

    def _design(self, X) -> np.ndarray:
        check_is_fitted(self)
        return validate_data(self, X, reset=False, dtype=np.float64)

    def _mean_function_chunks(self, X):
        """Draws of ``b0 + x w`` in row chunks: yields (rows, array (draws, len(rows)))."""
        return linear_predictor_chunks(self._draws["intercept"], self._draws["w"], X)

    def predict(self, X, return_std=False, sample_weight=None):
        """Posterior predictive mean (regression) or the most probable class (classification).

        Parameters
        ----------
        X : array-like (n, p)
        return_std : bool
            Regression only: also return the posterior predictive sd, noise included (as
            :class:`sklearn.linear_model.BayesianRidge` does).
        sample_weight : array-like (n,), optional
            Regression only: the new rows' weights, on the scale of ``fit``'s; a row of weight
            ``v`` has noise sd ``sigma sqrt(sample_weight_mean_ / v)``. Default: the mean weight
            ``sample_weight_mean_`` (noise sd sigma).
        """
        check_is_fitted(self)
        if self._classifier:
            if return_std or sample_weight is not None:
                raise ValueError(
                    "return_std and sample_weight apply to regression; use predict_interval"
                )
            if self._categories:
                return self.classes_[np.argmax(self.predict_proba(X), axis=1)]
            return self.classes_[(self.predict_proba(X)[:, 1] >= 0.5).astype(int)]
        X = self._design(X)
        new_weight = self._new_row_weight(sample_weight, X.shape[0])
        if self._family_mean_only():
            if return_std:
                raise ValueError(f"return_std needs a family that draws new observations; use "
                                 f"predict_interval(X, kind='mean') for {self.model_}")  # fmt: skip
            mean = np.empty(X.shape[0])
            for block, eta in self._mean_function_chunks(X):
                mean[block] = eta.mean(axis=0)
            return mean
        if self.method_ == "exact":
            post = self.conjugate_
            mean = post.mean[0] + X @ post.mean[1:]
            if not return_std:
                return mean
            spread = post.s2 * (1.0 / new_weight + post.quadratic(X))
            factor = post.dof / (post.dof - 2) if post.dof > 2 else np.inf
            return mean, np.sqrt(spread * (1.0 if post.noise_known else factor))
        mean, var = np.empty(X.shape[0]), np.empty(X.shape[0])
        family = self._family
        if family.name == "gaussian":
            noise2 = np.mean(self._noise_draws() ** 2) * self.sample_weight_mean_ / new_weight
            for block, mu in self._mean_function_chunks(X):
                mean[block], var[block] = mu.mean(axis=0), mu.var(axis=0) + noise2[block]
            return (mean, np.sqrt(var)) if return_std else mean
        # another family: the mean of y is its inverse link; its sd, by replicated observations
        # (seeded: the same fit gives the same sd)
        rng = np.random.default_rng(self._seed)
        for block, eta in self._mean_function_chunks(X):
            mean[block] = family.mean(eta).mean(axis=0)
            if return_std:
                var[block] = family.sample(rng, eta, self._dispersion_draws()).var(axis=0)
        return (mean, np.sqrt(var)) if return_std else mean

    @available_if(lambda self: self._classifier)
    def predict_proba(self, X):
        """Posterior mean of ``P(y = classes_[1])``: the average over draws of the logistic
        function, not the plug-in probability at the mode that the wrapped estimator returns.
        With K > 2 classes, the posterior mean of the softmax probabilities, one column per
        class."""
        X = self._design(X)
        if self._categories:
            proba = np.empty((X.shape[0], len(self.classes_)))
            for block, eta in self._mean_function_chunks(X):
                proba[block] = special.softmax(eta, axis=-1).mean(axis=0)
            return proba
        p = np.empty(X.shape[0])
        for block, eta in self._mean_function_chunks(X):
            p[block] = self._family.mean(eta).mean(axis=0)
        return np.column_stack([1.0 - p, p])

    def predict_interval(self, X, prob=0.94, kind=None, sample_weight=None):
        """Equal-tailed posterior interval per row.

        Parameters
        ----------
        X : array-like (n, p)
        prob : float
            Probability mass of the interval, in (0, 1).
        kind : {"observation", "mean"}, optional
            Regression: a new observation (noise included; default) or the mean of y, the
            inverse link of ``b0 + x w`` (``exp(b0 + x w)`` for a log link). Classification:
            ``"mean"`` (the default, and the only choice), the interval of ``P(y = classes_[1])``
            (K > 2 classes: of each class's probability).
        sample_weight : array-like (n,), optional
            Regression: the new rows' weights, as in :meth:`predict` (default the mean weight of
            the training rows).

        Returns
        -------
        low, high : arrays (n,), or (n, K) for K > 2 classes
        """
        if not 0 < prob < 1:
            raise ValueError(f"prob must be in (0, 1); got {prob!r}")
        kind = kind or ("mean" if self._classifier or self._family_mean_only() else "observation")
        if kind == "observation" and self._family_mean_only():
            raise ValueError(f"kind='observation' needs a family that draws new observations; {self.model_}'s "
                             "kind='mean' is the interval of its fitted line")  # fmt: skip
        if kind not in ("observation", "mean") or (self._classifier and kind != "mean"):
            raise ValueError(f"kind must be 'observation' or 'mean' (regression), 'mean' "
                             f"(classification); got {kind!r}")  # fmt: skip
        if self._classifier and sample_weight is not None:
            raise ValueError("sample_weight applies to regression (a noise precision)")
        X = self._design(X)
        new_weight = self._new_row_weight(sample_weight, X.shape[0])
        if self.method_ == "exact":
            post = self.conjugate_
            spread = post.s2 * ((kind == "observation") / new_weight + post.quadratic(X))
            quantile = (stats.norm if post.noise_known else stats.t(post.dof)).ppf((1 + prob) / 2)
            centre = post.mean[0] + X @ post.mean[1:]
            return centre - quantile * np.sqrt(spread), centre + quantile * np.sqrt(spread)
        shape = (X.shape[0], len(self.classes_)) if self._categories else X.shape[0]
        low, high = np.empty(shape), np.empty(shape)
        rng = np.random.default_rng(self._seed)
        noise_factor = np.sqrt(self.sample_weight_mean_ / new_weight)
        for block, eta in self._mean_function_chunks(X):
            if kind == "mean":  # the inverse link of eta (P(y = classes_[1]) for a classifier)
                values = self._family.mean(eta)
            elif self._family.name == "gaussian":  # noise sd sigma sqrt(mean weight / weight)
                noise = self._noise_draws()[:, None] * noise_factor[block]
                values = eta + noise * rng.standard_normal(eta.shape)
            else:
                values = self._family.sample(rng, eta, self._dispersion_draws())
            bounds = array_stats.eti(values, prob, axis=0)
            low[block], high[block] = bounds[..., 0], bounds[..., 1]
        return low, high

    def _family_mean_only(self) -> bool:
        """A regression family without a sampler of new observations (the quantile model's
        asymmetric Laplace): ``predict`` is the posterior mean of its mean function (for the
        quantile model the line ``b0 + x w``, the q-quantile), and intervals are of that."""
        return not self._classifier and self._family.draw is None

    def _dispersion_draws(self) -> np.ndarray | None:
        """The family's dispersion per draw (the Gaussian sigma, a Gamma's phi), or None."""
        return self._noise_draws() if self._family.dispersion else None

    def _new_row_weight(self, sample_weight, n: int) -> np.ndarray:
        """The weights (n,) of new rows: ``sample_weight_mean_`` unless given (all positive;
        Gaussian families only, where a weight is a noise precision)."""
        if sample_weight is None:
            return np.full(n, self.sample_weight_mean_)
        if self._family.name != "gaussian":
            raise ValueError(
                f"sample_weight of new rows is a Gaussian noise precision; {self.model_} has none"
            )
        weight = check_array(
            sample_weight, ensure_2d=False, dtype=np.float64, input_name="sample_weight"
        )
        if weight.shape != (n,):
            raise ValueError(f"sample_weight.shape == {weight.shape}, expected {(n,)}")
        if not np.all(weight > 0):
            raise ValueError("sample_weight of a new row must be positive (its noise precision)")
        return weight

    def _noise_draws(self) -> np.ndarray:
        if "sigma" in self._draws:
            return self._draws["sigma"]
        return np.full(len(self._draws["intercept"]), self._fixed_sigma())

    def score(self, X, y, sample_weight=None):
        """Accuracy (classification) or R^2 (regression) of :meth:`predict`."""
        metric = accuracy_score if self._classifier else r2_score
        return metric(y, self.predict(X), sample_weight=sample_weight)


# Twins of estimators whose posterior is not a linear predictor's (no weight per feature, so not
# in the model registry's ``Link.twins``): scikit-learn's class -> the twin class, imported on use.
FUNCTION_SPACE_TWINS = {
    "sklearn.kernel_ridge.KernelRidge": "models.twin.gp.GaussianProcessTwin",
    "sklearn.neural_network.MLPRegressor": "models.twin.network.BayesianNetwork",
    "sklearn.neural_network.MLPClassifier": "models.twin.network.BayesianNetwork",
}


def bayesian(estimator, **options) -> BayesianTwin:
    """``BayesianTwin(estimator, **options)``: the Bayesian twin of a scikit-learn estimator, or
    the twin :data:`FUNCTION_SPACE_TWINS` names for its class (KernelRidge: the exact GP
    posterior, :class:`models.twin.gp.GaussianProcessTwin`; MLPRegressor / MLPClassifier:
    :class:`models.twin.network.BayesianNetwork`)."""
    cls = type(estimator)
    public = f"{cls.__module__.split('._')[0]}.{cls.__name__}"
    if public in FUNCTION_SPACE_TWINS:
        module, name = FUNCTION_SPACE_TWINS[public].rsplit(".", 1)
        return getattr(import_module(module), name)(estimator, **options)
    return BayesianTwin(estimator, **options)


def _compiled(spec: ModelSpec, variant: str, data: ModelData, values: dict):
    """The process's compiled model for (model, variant, width) with its MAP solver and sampler
    (:meth:`models.inference.engines.CompiledModels.model`): built once per process and width when
    it keeps the rows, prior values and sigma in ``pm.Data``, rebuilt for every fit otherwise."""
    build = spec.closed_form.build_scaled_noise if variant == "scaled" else spec.build
    width = data.n_features if data.classes is None else (len(data.classes), data.n_features)
    # the likelihood too: one model file can build several (TweedieRegressor's powers)
    key = (spec.name, spec.likelihood, variant, width)
    return COMPILED.model(key, lambda: build(data), spec, values)


def check_sampling_counts(twin) -> None:
    """A twin's ``draws``, ``tune`` and ``chains`` as positive integers, before any fit (``tune``
    None: the suite's tuning policy)."""
    for name in ("draws", "tune", "chains"):
        if name != "tune" or twin.tune is not None:
            check_scalar(getattr(twin, name), name, numbers.Integral, min_val=1)


def _is_dask(array) -> bool:
    """Whether ``array`` is a Dask collection (without importing Dask for NumPy input)."""
    return type(array).__module__.split(".")[0] == "dask"


def _sample_weight(sample_weight, n: int) -> np.ndarray:
    """Precision weights as a float array (n,): a number means that weight for every row; negative
    weights (a negative noise variance) and all zeros are refused."""
    if isinstance(sample_weight, numbers.Number):
        return np.full(n, float(sample_weight))
    weight = check_array(
        sample_weight, ensure_2d=False, dtype=np.float64, input_name="sample_weight"
    )
    if weight.shape != (n,):
        raise ValueError(f"sample_weight.shape == {weight.shape}, expected {(n,)}")
    check_non_negative(weight, "sample_weight")
    if not np.any(weight > 0):
        raise ValueError("sample weights must contain at least one non-zero weight")
    return weight


def _pooled(spec: ModelSpec, points: dict, n_features: int) -> dict[str, np.ndarray]:
    """``intercept``, ``w`` (draws, p) and ``sigma`` (if free) from a model's variables, named as
    ``spec`` names them."""
    size = len(points[spec.coefficients])
    w = np.asarray(points[spec.coefficients]).reshape(size, -1, n_features)  # (draws, K, p)
    if not spec.coefficient_dims:
        w = w.reshape(size, n_features)
    draws = {
        "intercept": np.asarray(points[spec.intercept]).reshape(w.shape[:-1])
        if spec.intercept
        else np.zeros(w.shape[:-1]),
        "w": w,
    }
    if spec.noise_variable in points:
        draws["sigma"] = np.asarray(points[spec.noise_variable]).reshape(size)
    return draws


__all__ = ["BayesianTwin", "SamplingWarning", "bayesian", "supported", "twin_of"]
