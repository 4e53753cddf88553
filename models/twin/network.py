r"""The Bayesian twin of MLPRegressor / MLPClassifier: scikit-learn's fit polished to a certified
mode of the Bayesian network of :mod:`models.mlp`, and the posterior around it.

::

    from sklearn.neural_network import MLPRegressor
    from models.twin import bayesian

    twin = bayesian(MLPRegressor(hidden_layer_sizes=(4,), alpha=0.1, solver="lbfgs")).fit(X, y)
    twin.coefs_                                  # the certified mode, scikit-learn's shapes
    mean, sd = twin.predict(X_new, return_std=True)
    low, high = twin.predict_interval(X_new)

The network is fitted by the wrapped estimator as given; Newton on the posterior then runs from its
weights to the mode they lead to (``wrapped_gap_`` says how far that was). The posterior is the
Laplace approximation there (default) or NUTS (``method="nuts"``, biases ``Normal(0, bias_sd)``:
with flat biases the posterior does not integrate, :mod:`models.mlp`). A network's posterior has
many modes; the Laplace approximation describes the one the fit found, NUTS's chains whichever
they find.
"""

from __future__ import annotations

import numbers
import warnings

import numpy as np
import xarray as xr
from arviz_stats.base import array_stats
from sklearn.base import BaseEstimator, clone
from sklearn.metrics import accuracy_score, r2_score
from sklearn.utils import check_random_state, check_scalar
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from models import mlp
from models.inference.engines import PosteriorSampler, sampling_diagnostics, tuning_iterations
from models.twin.estimator import SamplingWarning, check_sampling_counts

METHODS = ("laplace", "nuts")
_POSTERIORS: dict[tuple, mlp.Posterior] = {}  # compiled once per architecture and process


def _posterior(network: mlp.Network, X: np.ndarray, y: np.ndarray) -> mlp.Posterior:
    key = (network.sizes, network.activation, network.classifier)
    if key not in _POSTERIORS:
        _POSTERIORS[key] = mlp.Posterior(network, X, y)
    return _POSTERIORS[key].use(network, X, y)


class BayesianNetwork(BaseEstimator):
    """The posterior whose mode is an MLPRegressor / MLPClassifier fit (binary, one output).

    Parameters
    ----------
    estimator : MLPRegressor or MLPClassifier
        Any solver; ``hidden_layer_sizes``, ``activation`` (identity, tanh, logistic, relu) and
        ``alpha > 0`` define the model (:func:`models.mlp.network_of`).
    method : {"laplace", "nuts"}
        A Gaussian at the mode with the inverse Hessian as covariance, or nutpie's NUTS.
    bias_sd : float
        NUTS only: the biases' prior sd (the mode keeps them flat).
    draws, chains : int
        Draws per chain (Laplace: ``draws * chains`` in all) and chains.
    tune : int or None, default=None
        NUTS tuning iterations per chain; None: the suite's policy for the network
        (:func:`models.inference.engines.tuning_iterations`: 1000; it was 500).
    random_state : int, RandomState or None

    Attributes
    ----------
    coefs_, intercepts_ : lists of arrays
        The certified mode, shaped as the estimator's.
    wrapped_gap_ : float
        ``max |estimator_ weights - mode| / max |mode|`` over weights and biases.
    gradient_at_fit_ : float
        ``max |grad|`` of scikit-learn's objective at the estimator's own fit.
    sigma_ : float
        Regressor: the noise sd at the joint mode.
    estimator_ : the fitted clone
    posterior_ : xarray.DataTree
        Draws of ``W_l``, ``b_l`` (and ``sigma``).
    diagnostics_ : dict
        Laplace: the method. NUTS: divergences, worst r_hat, smallest ESS and ``ok`` of ``sigma``
        (the classifier: the output bias), quantities no relabelling of hidden units changes;
        the weights' r_hat is left out, as it fails by construction when chains settle in
        mirror-image modes (the ``mlp`` page). A :class:`~models.twin.SamplingWarning` is raised
        when ``ok`` is False.
    classes_ : array (2,)
        Classifier: the labels; ``classes_[1]`` is the event of ``predict_proba[:, 1]``.
    """

    def __init__(self, estimator=None, *, method="laplace", bias_sd=5.0, draws=500, tune=None,
                 chains=2, random_state=None):  # fmt: skip
        self.estimator = estimator
        self.method = method
        self.bias_sd = bias_sd
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
            if inner.classifier_tags is not None:
                tags.classifier_tags = inner.classifier_tags
                tags.classifier_tags.multi_class = False  # binary only (models/mlp.py)
                tags.classifier_tags.multi_label = False
            tags.target_tags.single_output = True
            tags.target_tags.multi_output = False
        tags.input_tags.sparse = False
        return tags

    @property
    def _classifier(self) -> bool:
        return self.__sklearn_tags__().estimator_type == "classifier"

    def fit(self, X, y):
        """Fit the wrapped estimator, polish its weights to the posterior's mode, draw around it.

        Returns
        -------
        self
        """
        if self.estimator is None:
            raise TypeError("BayesianNetwork needs an estimator, e.g. MLPRegressor(alpha=0.1)")
        if self.method not in METHODS:
            raise ValueError(f"method must be one of {', '.join(METHODS)}; got {self.method!r}")
        check_sampling_counts(self)
        check_scalar(self.bias_sd, "bias_sd", numbers.Real, min_val=0, include_boundaries="neither")
        classifier = self._classifier
        X, y = validate_data(self, X, y, dtype=np.float64, y_numeric=not classifier)
        if classifier:
            check_classification_targets(y)
        if X.shape[0] < 2:
            raise ValueError(f"n_samples={X.shape[0]}: a posterior needs at least 2 rows")
        network = mlp.network_of(self.estimator, X.shape[1])
        mlp.check_target(network, y)
        if classifier:
            self.classes_, y = np.unique(y, return_inverse=True)
            y = y.astype(np.float64)
        self.estimator_ = clone(self.estimator).fit(X, y)
        posterior = _posterior(network, X, y)
        local = posterior.local_mode(self.estimator_.coefs_, self.estimator_.intercepts_)
        if not local.converged:
            raise ValueError(f"the mode from the estimator's fit is not certified: {local.message}")
        if self.method == "laplace" and not local.smallest_curvature > 0:
            raise ValueError(
                "the Hessian at the mode is not positive definite (a dead relu unit's bias, or a "
                "saturated unit, leaves a flat direction): the Laplace approximation does not "
                "exist there; use method='nuts' or a smooth activation"
            )
        self.coefs_, self.intercepts_ = mlp.layers_of(network, local.point)
        self.wrapped_gap_ = local.moved
        self.gradient_at_fit_ = local.gradient_at_fit
        if not classifier:
            self.sigma_ = float(local.point["sigma"])
        self.method_ = self.method
        self._network = network
        seed = int(check_random_state(self.random_state).randint(2**31 - 1))
        self._seed = seed
        if self.method == "laplace":
            solver = posterior.solver
            gauss = solver.laplace(
                solver.solve(posterior.data_values(), x0=posterior.flat(local.point))
            )
            rng = np.random.default_rng(seed)
            draws = solver.points(gauss.draws(rng, self.draws * self.chains))
            self.diagnostics_ = {"method": "laplace", "ok": True, "map": local.message}
            stats = None
        else:
            model = mlp.build(network, X, y, bias_sd=float(self.bias_sd))
            tune = tuning_iterations("mlp") if self.tune is None else self.tune
            trace = PosteriorSampler(model).sample(draws=self.draws, tune=tune,
                                                   chains=self.chains, seed=seed)  # fmt: skip
            names = ["sigma"] if not classifier else mlp.bias_names(network)[-1:]
            self.diagnostics_ = sampling_diagnostics("network twin, NUTS", trace, names)
            if not self.diagnostics_["ok"]:
                warnings.warn(
                    f"NUTS: {'; '.join(self.diagnostics_['problems'])} (of {', '.join(names)}): "
                    "the posterior may be unreliable (more draws or tune may help)",
                    SamplingWarning,
                    stacklevel=2,
                )
            post = trace["posterior"].dataset
            draws = {name: post[name].values.reshape(self.draws * self.chains, *post[name].shape[2:])
                     for name in post.data_vars}  # fmt: skip
            stats = trace["sample_stats"]
        names = (
            mlp.weight_names(network) + mlp.bias_names(network) + ([] if classifier else ["sigma"])
        )
        self._draws = {name: np.asarray(draws[name]) for name in names}
        shape = (self.chains, self.draws)
        dt = xr.DataTree.from_dict({"posterior": xr.Dataset(
            {name: (("chain", "draw", *[f"{name}_dim_{i}" for i in range(v.ndim - 1)]),
                    v.reshape(shape + v.shape[1:])) for name, v in self._draws.items()})})  # fmt: skip
        if stats is not None:
            dt["sample_stats"] = stats
        self.posterior_ = dt
        return self

    def _f_draws(self, X) -> np.ndarray:
        """Draws of the network's output (a probability for the classifier), (draws, rows)."""
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=np.float64)
        return mlp.forward(self._network, *mlp.layers_of(self._network, self._draws), X)

    def predict(self, X, return_std=False):
        """Posterior predictive mean (regression; with ``return_std`` its sd, noise included) or
        the class of the larger posterior mean probability (classification)."""
        f = self._f_draws(X)
        if self._classifier:
            if return_std:
                raise ValueError("return_std applies to regression; use predict_interval")
            return self.classes_[(f.mean(axis=0) >= 0.5).astype(int)]
        if not return_std:
            return f.mean(axis=0)
        noise2 = np.mean(self._draws["sigma"] ** 2)
        return f.mean(axis=0), np.sqrt(f.var(axis=0) + noise2)

    @available_if(lambda self: self._classifier)
    def predict_proba(self, X):
        """Posterior mean of ``P(y = classes_[1])`` (not the plug-in probability at the mode)."""
        p = self._f_draws(X).mean(axis=0)
        return np.column_stack([1.0 - p, p])

    def predict_interval(self, X, prob=0.94, kind=None):
        """Equal-tailed posterior interval per row: of a new observation (regression, default),
        of f(x) (``kind="mean"``), or of ``P(y = classes_[1])`` (classification).

        Returns
        -------
        low, high : arrays (n,)
        """
        if not 0 < prob < 1:
            raise ValueError(f"prob must be in (0, 1); got {prob!r}")
        kind = kind or ("mean" if self._classifier else "observation")
        if kind not in ("observation", "mean") or (self._classifier and kind != "mean"):
            raise ValueError(f"kind must be 'observation' or 'mean' (regression), 'mean' "
                             f"(classification); got {kind!r}")  # fmt: skip
        values = self._f_draws(X)
        if kind == "observation":
            rng = np.random.default_rng(self._seed)
            values = values + self._draws["sigma"][:, None] * rng.standard_normal(values.shape)
        bounds = array_stats.eti(values, prob, axis=0)
        return bounds[..., 0], bounds[..., 1]

    def score(self, X, y):
        """Accuracy (classification) or R^2 (regression) of :meth:`predict`."""
        return (accuracy_score if self._classifier else r2_score)(y, self.predict(X))


__all__ = ["BayesianNetwork"]
