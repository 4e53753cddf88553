r"""Weight decay is a Gaussian prior: MLPRegressor / MLPClassifier(alpha) is a mode of a Bayesian
neural network.

scikit-learn 1.9 (``sklearn/neural_network/_multilayer_perceptron.py``, ``_backprop``) adds the
penalty to the mean loss over the weight matrices only (``coefs_``, never ``intercepts_``)::

    loss = LOSS_FUNCTIONS[loss_func_name](y, activations[-1], sample_weight)
    # Add L2 regularization term to loss
    values = 0
    for s in self.coefs_:
        s = s.ravel()
        values += np.dot(s, s)
    ...
    loss += (0.5 * self.alpha) * values / sw_sum

and its losses (``sklearn/neural_network/_base.py``) are

    squared_loss:    0.5 * np.average((y_true - y_pred) ** 2, weights=sample_weight, axis=0).mean()
    binary_log_loss: -np.average(xlogy(y_true, y_prob) + xlogy(1 - y_true, 1 - y_prob), ...).sum()

**Regressor (one output).** The objective is ``sum_i (y_i - f(x_i))^2 / (2 n) + alpha ||W||^2 /
(2 n)``. Times ``n / sigma^2`` it is ``sum_i (y_i - f_i)^2 / (2 sigma^2) + alpha ||W||^2 / (2
sigma^2)``: the negative log posterior of ``y_i ~ Normal(f(x_i), sigma)`` with every weight
``~ Normal(0, sigma / sqrt(alpha))`` and every bias flat. As for ridge's sigma-unknown model, the
prior width is scaled by sigma (``p(sigma) ∝ 1 / sigma``) so the mode of the weights is
scikit-learn's for every sigma; the joint mode's sigma is ``sqrt((RSS + alpha ||W||^2) / (n + d +
1))`` with d the number of weights (:func:`sigma_at`).

With k outputs ``squared_loss`` averages over the n k entries (``.mean()`` over the outputs after
the average over rows): the objective times ``n k / sigma^2`` gives ``W ~ Normal(0, sigma / sqrt(k
alpha))``. This module refuses k > 1 (one line) rather than carry a second mapping untested.

**Binary classifier.** One logistic output unit (``out_activation_ = "logistic"``): the objective is
``sum_i logloss_i / n + alpha ||W||^2 / (2 n)``; times n it is the negative log posterior of
``y_i ~ Bernoulli(f(x_i))`` with every weight ``~ Normal(0, 1 / sqrt(alpha))``, biases flat. A
multiclass MLPClassifier has K softmax outputs with K free output biases: adding one constant to
all of them changes nothing, so with flat biases its posterior is improper; it is refused.

**Architecture.** ``hidden_layer_sizes`` as given, hidden activation ``identity``, ``tanh``,
``logistic`` or ``relu`` (scikit-learn's ``ACTIVATIONS``), output identity (regressor) or logistic
(binary classifier). Refused with one line: more outputs, multiclass, ``loss="poisson"``,
``alpha = 0`` (a flat prior on the weights), sample weights.

**Flat biases and sampling.** The mode exists whatever the bias prior, but the posterior does not
integrate: a hidden unit whose bias goes to +-infinity saturates into a constant, and the
likelihood then stops changing along that bias, so a flat prior leaves infinite mass there. The
Laplace approximation at a mode is local and keeps the flat biases; NUTS needs a proper prior, so
:func:`build` takes ``bias_sd`` (``None``: flat, for the mode) and the page states the width used.

**Non-convex.** "MAP = scikit-learn" means: scikit-learn's fitted weights are a local mode of this
posterior (gradient at the solver's tolerance, Newton from there stays, Hessian positive
definite). The posterior has many modes: every permutation of hidden units, every sign flip of a
tanh unit (``tanh(-z) = -tanh(z)``: flip its input weights, bias and output weight) gives the
same value, and different starts find genuinely different modes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from models.core.base import InputError, positive
from models.core.lazy import lazy

pm = lazy("pymc")
special = lazy("scipy.special")

ACTIVATIONS = ("identity", "tanh", "logistic", "relu")
OBJECTIVE_REGRESSOR = "sum_i (y_i - f(x_i))^2 / (2 n) + alpha ||W||^2 / (2 n)"
OBJECTIVE_CLASSIFIER = "sum_i logloss(y_i, f(x_i)) / n + alpha ||W||^2 / (2 n)"
PRIOR_REGRESSOR = "y_i ~ Normal(f(x_i), sigma), W ~ Normal(0, sigma / sqrt(alpha)), biases flat, p(sigma) ∝ 1/sigma"
PRIOR_CLASSIFIER = "y_i ~ Bernoulli(f(x_i)), W ~ Normal(0, 1 / sqrt(alpha)), biases flat"
MAPPING_REGRESSOR = "weight sd = sigma / sqrt(alpha)"
MAPPING_CLASSIFIER = "weight sd = 1 / sqrt(alpha)"


@dataclass(frozen=True)
class Network:
    """An MLP's architecture as the Bayesian model sees it.

    Attributes
    ----------
    sizes : tuple of int
        Units per layer, input first, output (1) last.
    activation : str
        Hidden activation (one of :data:`ACTIVATIONS`).
    classifier : bool
        Logistic output and Bernoulli likelihood (else identity output, Gaussian likelihood).
    alpha : float
        scikit-learn's weight decay.
    """

    sizes: tuple[int, ...]
    activation: str
    classifier: bool
    alpha: float

    @property
    def layers(self) -> int:
        return len(self.sizes) - 1

    @property
    def n_weights(self) -> int:
        """Penalised parameters (the entries of every weight matrix)."""
        return sum(a * b for a, b in zip(self.sizes[:-1], self.sizes[1:], strict=True))

    @property
    def weight_sd(self) -> float:
        """The prior sd of a weight (at sigma = 1 for the regressor): ``1 / sqrt(alpha)``."""
        return 1.0 / np.sqrt(self.alpha)


def network_of(estimator, n_features: int) -> Network:
    """The :class:`Network` of an (unfitted) MLPRegressor / MLPClassifier, or :class:`InputError`
    naming the first setting that has no mapping.

    Parameters
    ----------
    estimator : MLPRegressor or MLPClassifier
    n_features : int
        Width of the input.
    """
    kind = type(estimator).__name__
    if kind not in ("MLPRegressor", "MLPClassifier"):
        raise InputError(f"no Bayesian network for {kind}; MLPRegressor or MLPClassifier only")
    params = estimator.get_params(deep=False)
    if params["activation"] not in ACTIVATIONS:
        raise InputError(f"activation={params['activation']!r} has no mapping; "
                         f"use one of {', '.join(ACTIVATIONS)}")  # fmt: skip
    if kind == "MLPRegressor" and params.get("loss", "squared_error") != "squared_error":
        raise InputError(
            f"loss={params['loss']!r} has no mapping; MLPRegressor(loss='squared_error') only"
        )
    alpha = float(params["alpha"])
    if not (np.isfinite(alpha) and alpha > 0):
        raise InputError(f"alpha={alpha:g} has no mapping: the weights' prior sd is 1 / sqrt(alpha)"
                         " (alpha = 0 is a flat, improper prior)")  # fmt: skip
    hidden = params["hidden_layer_sizes"]
    hidden = (hidden,) if np.isscalar(hidden) else tuple(hidden)
    if not hidden or any(int(h) != h or h < 1 for h in hidden):
        raise InputError(
            f"hidden_layer_sizes={params['hidden_layer_sizes']!r}: positive integers only"
        )
    return Network((int(n_features), *map(int, hidden), 1), params["activation"],
                   kind == "MLPClassifier", alpha)  # fmt: skip


def check_target(network: Network, y: np.ndarray) -> None:
    """Refuse (:class:`InputError`) a target the mapping does not cover: k > 1 outputs, or a
    classifier's target that is not two classes."""
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] != 1:
        raise InputError(f"y has {y.shape[1]} outputs; the mapping is stated for one output only "
                         "(k outputs would need weight sd sigma / sqrt(k alpha))")  # fmt: skip
    if network.classifier:
        classes = np.unique(y)
        if len(classes) != 2:
            raise InputError("Only binary classification is supported: the Bayesian MLPClassifier "
                             f"needs exactly 2 classes, got {len(classes)}"
                             " (K softmax outputs with flat biases give an improper posterior)")  # fmt: skip


def activate(name: str, z, module=np):
    """scikit-learn's hidden activation ``name`` applied to ``z`` with ``module`` (numpy or
    pytensor.tensor)."""
    if name == "identity":
        return z
    if name == "tanh":
        return module.tanh(z)
    if name == "logistic":
        return 1.0 / (1.0 + module.exp(-z))
    return module.maximum(z, 0.0)


def weight_names(network: Network) -> list[str]:
    return [f"W_{layer}" for layer in range(network.layers)]


def bias_names(network: Network) -> list[str]:
    return [f"b_{layer}" for layer in range(network.layers)]


def build(network: Network, X: np.ndarray, y: np.ndarray, bias_sd: float | None = None) -> pm.Model:
    """The Bayesian network: ``W_l ~ Normal(0, s)``, biases ``b_l`` flat (or ``Normal(0,
    bias_sd)``), the output through identity (Gaussian, sigma free with ``p(sigma) ∝ 1 / sigma``
    and ``s = sigma / sqrt(alpha)``) or logistic (Bernoulli, ``s = 1 / sqrt(alpha)``).

    ``pm.Data`` ``weight_sd`` holds ``1 / sqrt(alpha)``, ``X`` and ``y_obs`` the rows, so one
    compiled model serves every alpha and every data set of its width.
    Variables ``W_l`` are shaped ``(sizes[l], sizes[l + 1])`` (scikit-learn's ``coefs_[l]``),
    ``b_l`` ``(sizes[l + 1],)`` (``intercepts_[l]``); the last layer's output has one unit.
    """
    import pytensor.tensor as pt

    with pm.Model() as model:
        weight_sd = pm.Data("weight_sd", network.weight_sd)
        if network.classifier:
            scale = weight_sd
        else:
            sigma = pm.HalfFlat("sigma")
            pm.Potential("jeffreys_sigma", -pt.log(sigma))
            scale = sigma * weight_sd
        hidden = pm.Data("X", np.asarray(X, dtype=float))
        y_data = pm.Data("y_obs", np.asarray(y, dtype=float))
        for layer, (fan_in, fan_out) in enumerate(
            zip(network.sizes[:-1], network.sizes[1:], strict=True)
        ):
            W = pm.Normal(f"W_{layer}", 0.0, scale, shape=(fan_in, fan_out))
            b = (pm.Flat(f"b_{layer}", shape=(fan_out,)) if bias_sd is None
                 else pm.Normal(f"b_{layer}", 0.0, bias_sd, shape=(fan_out,)))  # fmt: skip
            hidden = hidden @ W + b
            if layer < network.layers - 1:
                hidden = activate(network.activation, hidden, pt)
        output = hidden[:, 0]
        if network.classifier:
            pm.Bernoulli("y", logit_p=output, observed=y_data)
        else:
            pm.Normal("y", output, sigma, observed=y_data)
    return model


def forward(network: Network, weights, biases, X: np.ndarray) -> np.ndarray:
    """The network's output ``f(x)`` (a probability for the classifier) for each row of ``X``,
    from scikit-learn-shaped ``weights`` (``coefs_``) and ``biases`` (``intercepts_``); a leading
    draws axis on every array gives ``(draws, rows)``."""
    hidden = np.asarray(X, dtype=float)
    for layer, (W, b) in enumerate(zip(weights, biases, strict=True)):
        hidden = hidden @ np.asarray(W) + np.asarray(b)[..., None, :]
        if layer < network.layers - 1:
            hidden = activate(network.activation, hidden)
    output = hidden[..., 0]
    return special.expit(output) if network.classifier else output


def sigma_at(network: Network, weights, biases, X: np.ndarray, y: np.ndarray) -> float:
    """The regressor's sigma at its conditional mode given the weights and biases:
    ``sqrt((RSS + alpha ||W||^2) / (n + d + 1))``, d = :attr:`Network.n_weights` (the density of
    sigma, ``sigma^-(n + d + 1) exp(-(RSS + alpha ||W||^2) / (2 sigma^2))``, is largest there)."""
    rss = float(np.sum((y - forward(network, weights, biases, X)) ** 2))
    decay = network.alpha * sum(float(np.sum(np.square(W))) for W in weights)
    return float(np.sqrt((rss + decay) / (len(y) + network.n_weights + 1)))


def point_of(network: Network, weights, biases, X=None, y=None) -> dict[str, np.ndarray]:
    """The model's point (``{"W_0": ..., "b_0": ..., "sigma": ...}``) for scikit-learn-shaped
    weights and biases; the regressor's sigma at :func:`sigma_at` (needs ``X`` and ``y``)."""
    point = {}
    for layer, (W, b) in enumerate(zip(weights, biases, strict=True)):
        point[f"W_{layer}"] = np.asarray(W, dtype=float)
        point[f"b_{layer}"] = np.asarray(b, dtype=float).reshape(-1)
    if not network.classifier:
        point["sigma"] = np.asarray(sigma_at(network, weights, biases, X, y))
    return point


def layers_of(network: Network, point) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Weights and biases (scikit-learn's shapes) of a model point (draw axes kept in front)."""
    return ([np.asarray(point[name]) for name in weight_names(network)],
            [np.asarray(point[name]) for name in bias_names(network)])  # fmt: skip


def objective(network: Network, weights, biases, X, y) -> float:
    """scikit-learn's objective (``loss_`` at a fit): the mean loss plus ``alpha ||W||^2 / (2 n)``."""
    f = forward(network, weights, biases, X)
    if network.classifier:
        f = np.clip(f, np.finfo(float).eps, 1 - np.finfo(float).eps)  # scikit-learn clips too
        loss = -float(np.mean(special.xlogy(y, f) + special.xlogy(1 - y, 1 - f)))
    else:
        loss = 0.5 * float(np.mean((y - f) ** 2))
    decay = sum(float(np.sum(np.square(W))) for W in weights)
    return loss + 0.5 * network.alpha * decay / len(y)


def log_posterior_scale(network: Network, n_obs: int, sigma: float | None = None) -> float:
    """The factor between scikit-learn's objective and the negative log posterior (weights and
    biases, sigma held): ``n`` (classifier), ``n / sigma^2`` (regressor). A gradient of the log
    posterior divided by it is the gradient of scikit-learn's objective, which its solver's
    ``tol`` bounds."""
    return float(n_obs if network.classifier else n_obs / positive(sigma, "sigma") ** 2)


def canonical(network: Network, weights, biases) -> np.ndarray:
    """One hidden layer: the weights and biases as one vector with the symmetries removed, so two
    modes that differ by a permutation of hidden units (or a tanh sign flip) give the same vector.

    Each tanh unit is flipped so its output weight is >= 0 (``tanh(-z) = -tanh(z)``); units are
    then sorted by output weight, ties by bias.
    """
    if network.layers != 2:
        raise ValueError("canonical forms are defined for one hidden layer")
    W0, b0, W1, b1 = (
        np.array(a, dtype=float) for a in (weights[0], biases[0], weights[1], biases[1])
    )
    if network.activation == "tanh":
        sign = np.where(W1[:, 0] < 0, -1.0, 1.0)
        W0, b0, W1 = W0 * sign, b0 * sign, W1 * sign[:, None]
    order = np.lexsort((b0, W1[:, 0]))
    return np.concatenate([W0[:, order].ravel(), b0[order], W1[order].ravel(), b1.ravel()])


@dataclass(frozen=True)
class LocalMode:
    """A fit's relation to the posterior mode Newton reaches from it (:meth:`Posterior.local_mode`).

    Attributes
    ----------
    point : dict
        The certified mode (the model's variables).
    log_posterior : float
        The log posterior there (no Jacobian: the density of the variables themselves).
    gradient_at_fit : float
        ``max |grad|`` of scikit-learn's objective at the fit (the log posterior's gradient in the
        weights and biases divided by :func:`log_posterior_scale`): what the solver's ``tol``
        bounds.
    moved : float
        ``max |fit - mode| / max |mode|`` over weights and biases.
    implied : float
        The same distance as the Newton step ``H^-1 g`` from the fit predicts it.
    gain_nats : float
        Log posterior at the mode minus at the fit.
    smallest_curvature : float
        Smallest eigenvalue of the negative log posterior's Hessian at the mode (0 when it is
        singular: then ``implied`` is infinite).
    converged : bool
        The mode is certified (:class:`models.inference.engines.MAPResult`).
    message : str
        The certificate in one line.
    """

    point: dict[str, np.ndarray]
    log_posterior: float
    gradient_at_fit: float
    moved: float
    implied: float
    gain_nats: float
    smallest_curvature: float
    converged: bool
    message: str


class Posterior:
    """The Bayesian network's posterior for one data set and architecture, compiled once: its
    MAP solver serves every alpha (``weight_sd`` is a ``pm.Data``) and every start.

    Parameters
    ----------
    network : Network
    X, y : arrays
        The data (``y`` 0/1 for the classifier).
    """

    def __init__(self, network: Network, X: np.ndarray, y: np.ndarray):
        from models.inference.engines import MAPSolver

        self.network, self.X, self.y = (
            network,
            np.asarray(X, dtype=float),
            np.asarray(y, dtype=float),
        )
        self.model = build(network, self.X, self.y)
        self.solver = MAPSolver(self.model)
        self._logp = self.model.compile_logp(jacobian=False)
        self._dlogp = self.model.compile_dlogp(jacobian=False)
        names = [v.name for v in self.model.value_vars]
        sizes = [int(np.prod(self.model.initial_point()[name].shape)) for name in names]
        self._names = names
        # which flat entries are weights and biases (not log sigma)
        self._layer_entries = np.concatenate(
            [np.full(size, name != "sigma_log__") for name, size in zip(names, sizes, strict=True)]
        )

    def values(self, point) -> dict[str, np.ndarray]:
        """The model's value variables (sigma as its log) at a point."""
        return {name: (np.log(point["sigma"]) if name == "sigma_log__" else point[name])
                for name in self._names}  # fmt: skip

    def flat(self, point) -> np.ndarray:
        values = self.values(point)
        return np.concatenate([np.ravel(values[name]) for name in self._names])

    def log_posterior(self, point) -> float:
        return float(self._logp(self.values(point)))

    def use(self, network: Network, X: np.ndarray, y: np.ndarray) -> Posterior:
        """This posterior for other rows (of the same width) and another alpha, without
        recompiling; returns ``self``."""
        if (network.sizes, network.activation, network.classifier) != (
            self.network.sizes,
            self.network.activation,
            self.network.classifier,
        ):
            raise ValueError("another architecture needs its own Posterior")
        self.network, self.X, self.y = (
            network,
            np.asarray(X, dtype=float),
            np.asarray(y, dtype=float),
        )
        return self

    def data_values(self) -> dict[str, object]:
        """The ``pm.Data`` values of this posterior (rows and prior width)."""
        return {"X": self.X, "y_obs": self.y, "weight_sd": self.network.weight_sd}

    def local_mode(self, weights, biases) -> LocalMode:
        """Newton (:class:`~models.inference.engines.MAPSolver`) from scikit-learn's fitted
        ``coefs_`` / ``intercepts_`` to the mode of this posterior, and how far that was."""
        from models.inference.engines import set_data

        set_data(self.model, self.data_values())
        start = point_of(self.network, weights, biases, self.X, self.y)
        x0 = self.flat(start)
        gradient = np.abs(np.asarray(self._dlogp(self.values(start)), dtype=float))[
            self._layer_entries
        ]
        sigma = None if self.network.classifier else float(start["sigma"])
        scale = log_posterior_scale(self.network, len(self.y), sigma)
        mode = self.solver.solve(self.data_values(), x0=x0)
        try:  # a dead relu unit's flat bias has no curvature at all: a singular Hessian
            cov = self.solver.laplace(mode).cov
            step = cov @ np.asarray(self._dlogp(self.values(start)), dtype=float)
            smallest = float(1.0 / np.linalg.eigvalsh(cov).max())
        except np.linalg.LinAlgError:
            step, smallest = np.full_like(x0, np.inf), 0.0
        layers = self._layer_entries
        size = float(np.max(np.abs(mode.flat[layers])))
        return LocalMode(
            point=mode.point,
            log_posterior=self.log_posterior(mode.point),
            gradient_at_fit=float(gradient.max()) / scale,
            moved=float(np.max(np.abs(mode.flat[layers] - x0[layers]))) / size,
            implied=float(np.max(np.abs(step[layers]))) / size,
            gain_nats=self.log_posterior(mode.point) - self.log_posterior(start),
            smallest_curvature=smallest,
            converged=bool(mode.converged),
            message=mode.message,
        )


__all__ = [
    "ACTIVATIONS", "LocalMode", "Network", "Posterior", "activate", "build", "canonical", "check_target", "forward",
    "layers_of", "log_posterior_scale", "network_of", "objective", "point_of", "sigma_at",
]  # fmt: skip
