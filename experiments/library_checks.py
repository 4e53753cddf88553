"""The knobs page's rows whose library is outside the core stack, fitted against the PyMC MAP.

statsmodels, glum (glmnet's convention), Keras (on the JAX backend) and optax come in the ``knobs``
dependency group (``uv sync --group knobs``; ``make experiments`` and ``make test`` install it). A
row is run where its library imports and says why not elsewhere (:func:`missing`); the core model
code never imports these libraries. Each check fits the library at a knob value, maps the value to
a prior width with the row's own mapping (:mod:`models.twin.knobs`) and returns the largest
coefficient difference from the certified MAP at that width, relative to the largest coefficient.

The example of the page runs through every Gaussian L2 row: Ridge(alpha = 3) on standardised
diabetes with sigma = 54, i.e. statsmodels / glum alpha = 3 / n, Keras l = 3 / n and optax
wd = 6 / n, all the prior tau = sigma / sqrt(3).

:func:`adamw_against_coupled` is the page's measured trap: Adam with the decay added to the
gradient (coupled) ends at the MAP, AdamW (decoupled) ends elsewhere, at a point that moves with
the learning rate.
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import os

import numpy as np

from models import get_model
from models.core.data import DATASETS, arrays
from models.inference.engines import MAPSolver
from models.twin.knobs import Knob, get_knob

SIGMA = 54.0
RIDGE_ALPHA = 3.0  # the page's example, as Ridge's alpha on standardised columns
LASSO_ALPHA = 0.5  # as the page's Lasso check
BCE_L = 0.01  # Keras l2 on breast cancer: tau = 1 / sqrt(2 n l) = 0.30
KERAS_STEPS, KERAS_BATCHES_PER_CALL = 4000, 200
# Adam: full-batch steps, the end point is the mean of the last AVERAGED iterates (constant
# learning rates make Adam hover around its fixed point), learning rates of the demonstration.
ADAM_STEPS, ADAM_AVERAGED = 20_000, 2_000
LEARNING_RATES = (0.1, 0.3, 1.0)
TRACE_EVERY = 100  # the figure's iterates: one in this many steps

# Libraries outside the knobs group: why a row that needs one is derived only.
OUTSIDE_THE_GROUP = {
    "torch": "PyTorch is not in the knobs group: the Linux wheel on our package index pulls "
    "gigabytes of CUDA libraries and the index has no CPU-only build",
}
# What each library needs to import (Keras and optax run on JAX).
IMPORTS = {"keras": ("keras", "jax"), "optax": ("optax", "jax")}

# check: (bound, reason, what is compared), as experiments.knobs.BOUNDS.
BOUNDS = {
    "statsmodels": (1e-6, "a closed-form solve (SVD) against the certified MAP",
                    "statsmodels fit_regularized(L1_wt=0) vs the MAP at tau = sigma / sqrt(n alpha)"),
    "statsmodels_l1": (1e-6, "coordinate descent to cnvrg_tol=1e-14 against proximal Newton",
                       "statsmodels fit_regularized(L1_wt=1) vs the MAP at b = sigma^2 / (n alpha)"),
    "glmnet": (1e-6, "glum's IRLS to a gradient of 1e-12 on a quadratic",
               "glum (l1_ratio=0) vs the MAP at tau = sigma / sqrt(n alpha)"),
    "glmnet_l1": (1e-6, "glum's coordinate descent to a gradient of 1e-12",
                  "glum (l1_ratio=1) vs the MAP at b = sigma^2 / (n alpha)"),
    "keras_l2_mse": (1e-6, f"full-batch SGD in float64, {KERAS_STEPS} steps: ~3e-8", "Keras Dense + l2(l), 'mse' vs the MAP at "
                     "tau = sigma / sqrt(n l)"),
    "keras_l2_bce": (1e-6, f"full-batch SGD in float64, {KERAS_STEPS} steps: ~3e-8",
                     "Keras Dense + l2(l), binary cross-entropy vs the MAP at tau = 1 / sqrt(2 n l)"),
    "optax_adam_mse": (1e-6, f"Adam at a constant lr 0.3 bursts off its fixed point now and then: the "
                       f"mean of the last {ADAM_AVERAGED} of {ADAM_STEPS} steps: ~2e-11",
                       "Adam with coupled decay vs the MAP at tau = sigma sqrt(2 / (n wd))"),
}  # fmt: skip


def missing(knob: Knob) -> str:
    """Why ``knob``'s library check cannot run here, or "" when it can (or needs no library)."""
    if not knob.requires:
        return ""
    if knob.requires in OUTSIDE_THE_GROUP:
        return OUTSIDE_THE_GROUP[knob.requires]
    absent = [m for m in IMPORTS.get(knob.requires, (knob.requires,)) if not _installed(m)]
    if absent:
        return f"{', '.join(absent)} not installed (the knobs group: uv sync --group knobs)"
    return ""


def _installed(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def rel(a, b) -> float:
    """Largest absolute difference, relative to the largest absolute value of ``b``."""
    return float(np.max(np.abs(np.asarray(a) - np.asarray(b))) / np.max(np.abs(b)))


def standardized(name: str):
    """A data set with columns standardised to mean 0, sd 1: ``(X, y, feature_names)``."""
    data = DATASETS[name]()
    X = (data.X - data.X.mean(0)) / data.X.std(0)
    return X, data.y, data.feature_names


@functools.cache
def map_weights(model: str, data: str, knob: str, value: float) -> np.ndarray:
    """The certified MAP's weights of ``model`` on standardised ``data`` at the prior width that
    ``knob = value`` means (the row's own mapping; sigma = SIGMA for a Gaussian likelihood).
    Cached: the rows of one example share one solve."""
    spec = get_model(model)
    X, y, names = standardized(data)
    noise_sd = SIGMA if spec.likelihood == "gaussian" else None
    row = get_knob(knob)
    width = row.to_width(value, n=len(y), sigma=noise_sd)
    solver = MAPSolver(spec.build(arrays(X, y, names, noise_sd)), spec)
    return solver.solve({row.width_name: width}).certify().point["w"]


def _l1_difference(knob: str, coef) -> float:
    """``coef`` against the Lasso MAP at ``knob = LASSO_ALPHA``; other zeros are an infinite gap."""
    w = map_weights("lasso", "diabetes", knob, LASSO_ALPHA)
    return rel(coef, w) if np.array_equal(np.asarray(coef) == 0, w == 0) else float("inf")


def _statsmodels_fit(alpha: float, l1_wt: float) -> np.ndarray:
    sm = importlib.import_module("statsmodels.api")
    X, y, _ = standardized("diabetes")
    # A vector alpha with 0 for the constant: a scalar would penalise the intercept too.
    penalty = np.r_[0.0, np.full(X.shape[1], alpha)]
    ols = sm.OLS(y, sm.add_constant(X))
    return ols.fit_regularized(alpha=penalty, L1_wt=l1_wt, cnvrg_tol=1e-14, maxiter=10_000,
                               zero_tol=1e-12).params[1:]  # fmt: skip


def _per_row(value: float) -> float:
    """A knob ``value`` per row of diabetes: the example's Ridge alpha in the mean-loss knobs."""
    return value / len(standardized("diabetes")[1])


def check_statsmodels() -> float:
    """``OLS.fit_regularized(alpha, L1_wt=0)`` against the MAP at tau = sigma / sqrt(n alpha)."""
    alpha = _per_row(RIDGE_ALPHA)
    w = map_weights("ridge", "diabetes", "statsmodels", alpha)
    return rel(_statsmodels_fit(alpha, 0.0), w)


def check_statsmodels_l1() -> float:
    """``OLS.fit_regularized(alpha, L1_wt=1)`` against the Lasso MAP at b = sigma^2 / (n alpha)."""
    return _l1_difference("statsmodels_l1", _statsmodels_fit(LASSO_ALPHA, 1.0))


def _glum_fit(alpha: float, l1_ratio: float) -> np.ndarray:
    glum = importlib.import_module("glum")
    X, y, _ = standardized("diabetes")
    model = glum.GeneralizedLinearRegressor(alpha=alpha, l1_ratio=l1_ratio, family="normal",
                                            gradient_tol=1e-12, max_iter=1000)  # fmt: skip
    return model.fit(X, y).coef_


def check_glum() -> float:
    """glum at glmnet's lambda = alpha, l1_ratio = 0 against the MAP at tau = sigma / sqrt(n alpha)."""
    alpha = _per_row(RIDGE_ALPHA)
    return rel(_glum_fit(alpha, 0.0), map_weights("ridge", "diabetes", "glmnet", alpha))


def check_glum_l1() -> float:
    """glum at lambda = alpha, l1_ratio = 1 against the Lasso MAP at b = sigma^2 / (n alpha)."""
    return _l1_difference("glmnet_l1", _glum_fit(LASSO_ALPHA, 1.0))


def _jax():
    return importlib.import_module("jax")


def _keras():
    os.environ["KERAS_BACKEND"] = "jax"  # read once, at Keras' first import
    return importlib.import_module("keras")


def _keras_fit(data: str, loss, l2: float, learning_rate: float) -> np.ndarray:
    """A Dense layer with ``regularizers.L2(l2)`` fitted by Keras' own ``fit``: full-batch SGD in
    float64 from zero weights (deterministic), ``KERAS_STEPS`` steps."""
    keras, jax = _keras(), _jax()
    X, y, _ = standardized(data)
    n, p = X.shape
    repeats = KERAS_BATCHES_PER_CALL  # the full batch repeated: fewer Python round trips per step
    with jax.enable_x64(True):
        dense = keras.layers.Dense(1, kernel_regularizer=keras.regularizers.L2(l2),
                                   kernel_initializer="zeros", dtype="float64")  # fmt: skip
        model = keras.Sequential([keras.Input((p,), dtype="float64"), dense])
        model.compile(loss=loss, optimizer=keras.optimizers.SGD(learning_rate=learning_rate),
                      steps_per_execution=repeats)  # fmt: skip
        model.fit(np.tile(X, (repeats, 1)), np.tile(np.asarray(y, dtype=float), repeats),
                  batch_size=n, epochs=KERAS_STEPS // repeats, shuffle=False, verbose=0)  # fmt: skip
        return np.asarray(dense.kernel)[:, 0]


def check_keras_mse() -> float:
    """Keras ``l2(l)`` with loss ``"mse"`` against the MAP at tau = sigma / sqrt(n l)."""
    l2 = _per_row(RIDGE_ALPHA)
    w = map_weights("ridge", "diabetes", "keras_l2_mse", l2)
    return rel(_keras_fit("diabetes", "mse", l2, 0.2), w)


def check_keras_bce() -> float:
    """Keras ``l2(l)`` with binary cross-entropy (on logits) against the logistic MAP at
    tau = 1 / sqrt(2 n l)."""
    loss = _keras().losses.BinaryCrossentropy(from_logits=True)
    w = map_weights("logistic", "breast_cancer", "keras_l2_bce", BCE_L)
    return rel(_keras_fit("breast_cancer", loss, BCE_L, 0.25), w)


@functools.cache
def adam_path(weight_decay: float, learning_rate: float, decoupled: bool) -> np.ndarray:
    """Full-batch Adam on diabetes' mean squared error ``(1 / n) sum_i (y_i - b - x_i w)^2`` from
    zero, ``ADAM_STEPS`` steps in float64; the decay ``weight_decay`` on ``w`` only (not the
    intercept): added to the gradient before Adam (``chain(add_decayed_weights, adam)``, coupled)
    or after Adam's rescaling (``adamw``, decoupled). Returns every iterate of ``w`` (steps x p)."""
    jax, optax = _jax(), importlib.import_module("optax")
    jnp = jax.numpy
    X, y, _ = standardized("diabetes")
    mask = {"w": True, "b": False}
    if decoupled:
        optimiser = optax.adamw(learning_rate, weight_decay=weight_decay, mask=mask)
    else:
        optimiser = optax.chain(optax.add_decayed_weights(weight_decay, mask=mask),
                                optax.adam(learning_rate))  # fmt: skip
    with jax.enable_x64(True):
        features, target = jnp.asarray(X, dtype=float), jnp.asarray(y, dtype=float)

        def loss(params):
            return jnp.mean((target - params["b"] - features @ params["w"]) ** 2)

        def step(carry, _):
            params, state = carry
            updates, state = optimiser.update(jax.grad(loss)(params), state, params)
            params = optax.apply_updates(params, updates)
            return (params, state), params["w"]

        start = {"w": jnp.zeros(X.shape[1]), "b": jnp.zeros(())}
        _, path = jax.lax.scan(step, (start, optimiser.init(start)), None, length=ADAM_STEPS)
        return np.asarray(path)


def end_point(path: np.ndarray) -> np.ndarray:
    """Where a constant-learning-rate run settles: the mean of its last ``ADAM_AVERAGED`` iterates."""
    return path[-ADAM_AVERAGED:].mean(axis=0)


def check_optax_adam() -> float:
    """Adam with coupled decay wd against the MAP at tau = sigma sqrt(2 / (n wd)), lr 0.3."""
    wd = _per_row(2 * RIDGE_ALPHA)
    w = map_weights("ridge", "diabetes", "optax_adam_mse", wd)
    return rel(end_point(adam_path(wd, 0.3, decoupled=False)), w)


# knob name -> the row's check, run where missing(knob) is "".
CHECKS = {
    "statsmodels": check_statsmodels,
    "statsmodels_l1": check_statsmodels_l1,
    "glmnet": check_glum,
    "glmnet_l1": check_glum_l1,
    "keras_l2_mse": check_keras_mse,
    "keras_l2_bce": check_keras_bce,
    "optax_adam_mse": check_optax_adam,
}
LABELS = {"statsmodels": "statsmodels, L2", "statsmodels_l1": "statsmodels, L1", "glmnet": "glum, L2",
          "glmnet_l1": "glum, L1", "keras_l2_mse": "Keras l2, mse",
          "keras_l2_bce": "Keras l2, cross-entropy", "optax_adam_mse": "optax Adam, coupled decay"}  # fmt: skip


def adamw_against_coupled() -> dict:
    """Coupled Adam and AdamW at the same decay wd = 6 / n and three learning rates on diabetes,
    each end point against the MAP at the coupled row's tau; AdamW's end points against each other.

    Returns plain data: per learning rate the end points' relative distances from the MAP, the
    largest distance among coupled Adam's last iterates (its bursts), AdamW's hovering (the range
    of its last iterates), both relative to the MAP's largest coefficient, and every
    ``TRACE_EVERY``-th iterate's distance for the figure; ``moved``, the largest relative
    difference between AdamW's end points at two learning rates.
    """
    wd = _per_row(2 * RIDGE_ALPHA)
    w_map = map_weights("ridge", "diabetes", "optax_adam_mse", wd)
    n = len(standardized("diabetes")[1])
    scale = np.max(np.abs(w_map))
    rows, ends = [], []
    for lr in LEARNING_RATES:
        coupled = adam_path(wd, lr, decoupled=False)
        decoupled = adam_path(wd, lr, decoupled=True)
        ends.append(end_point(decoupled))
        rows.append({
            "learning_rate": lr,
            "coupled": rel(end_point(coupled), w_map),
            "adamw": rel(ends[-1], w_map),
            "coupled_burst": float(np.abs(coupled[-ADAM_AVERAGED:] - w_map).max() / scale),
            "adamw_hover": float(np.ptp(decoupled[-ADAM_AVERAGED:], axis=0).max() / scale),
            "trace_coupled": (np.abs(coupled[::TRACE_EVERY] - w_map).max(1) / scale).tolist(),
            "trace_adamw": (np.abs(decoupled[::TRACE_EVERY] - w_map).max(1) / scale).tolist(),
        })  # fmt: skip
    moved = max(rel(a, b) for a in ends for b in ends)
    return {"weight_decay": wd, "n": n, "steps": ADAM_STEPS, "averaged": ADAM_AVERAGED,
            "prior_sd": get_knob("optax_adam_mse").to_width(wd, n=n, sigma=SIGMA),
            "trace_every": TRACE_EVERY, "rows": rows, "moved": moved}  # fmt: skip
