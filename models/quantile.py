r"""Quantile regression is the MAP of an asymmetric-Laplace likelihood with a Laplace prior.

scikit-learn's QuantileRegressor minimises (sklearn/linear_model/_quantile.py, ``fit``)::

    # The objective is defined as 1/n * sum(pinball loss) + alpha * L1.

that is

    (1 / n) sum_i rho_q(y_i - b0 - x_i w) + alpha ||w||_1 ,   rho_q(r) = max(q r, (q - 1) r) ,

with the intercept b0 unpenalised (``c[0] = 0`` in its linear programme: "do not penalize the
intercept"). With the asymmetric Laplace likelihood ``p(y_i) = q (1 - q) / b exp(-rho_q(y_i - b0 -
x_i w) / b)`` (its q-quantile is ``b0 + x_i w``), ``w_j | b ~ Laplace(0, b / (n alpha))`` and b0
flat, the negative log posterior is

    sum_i rho_q(r_i) / b + n alpha ||w||_1 / b + (n + p) log b + const ,

which is the objective times ``n / b``: for every b, the mode of ``(b0, w)`` is QuantileRegressor's.
The Laplace scale grows with b (as ridge's ``build_scaled_noise`` scales tau with sigma) so this
holds whatever b is; the posterior does depend on b, which gets the Jeffreys prior ``p(b) ∝ 1 / b``
and is sampled. The joint mode's b is then ``S / (n + p + 1)``, with ``S`` the objective times n
(the mode of b's own density, MAPSolver's convention, no log-Jacobian).

**PyMC's parameterisation (pymc/distributions/continuous.py, AsymmetricLaplace).** Its density is
``b / (kappa + 1 / kappa) exp(-(x - mu) b s kappa^s)``, ``s = sign(x - mu)``, with ``kappa =
sqrt(q / (1 - q))`` when given q: its ``b`` is a rate, not our scale. Matching the slopes ``q / b``
above mu and ``(1 - q) / b`` below gives ``b_pymc = sqrt(q (1 - q)) / b`` (and then the constant
is ``q (1 - q) / b``); tests/test_quantile.py checks the two densities agree.

**The mode, exactly.** The likelihood is not smooth, so MAPSolver's Newton does not apply. The
mode solves the linear programme scikit-learn solves, written here from the model's terms and
solved by HiGHS (:func:`solve_mode`), certified by its duality gap. The programme can have a
face of minimisers; :func:`solve_mode` proves uniqueness by complementary slackness (see there),
and Check 1 compares coefficients only where it is proved.
"""

from __future__ import annotations

import numpy as np

from models.core.base import (
    CertifiedMode,
    ClosedForm,
    InputError,
    Link,
    ModelData,
    ModelSpec,
    Twin,
    coords,
    data_containers,
    positive,
)
from models.core.families import pinball
from models.core.lazy import lazy

pm = lazy("pymc")
linear_model = lazy("sklearn.linear_model")
model_selection = lazy("sklearn.model_selection")
metrics = lazy("sklearn.metrics")
optimize = lazy("scipy.optimize")
sparse = lazy("scipy.sparse")

OBJECTIVE = "(1 / n) sum_i pinball_q(y_i - b0 - x_i w) + alpha ||w||_1"
PRIOR = (
    "y_i ~ AsymmetricLaplace(q, b0 + x_i w, b), w_j | b ~ Laplace(0, b / (n alpha)), b0 flat, "
    "p(b) ∝ 1 / b"
)
MAPPING = "Laplace scale = b / (n alpha), for every b"
QUANTILES = (0.1, 0.5, 0.9)  # the page's quantiles and Check 1's
GAP_BOUND = 1e-9  # certified: duality gap and constraint residual below this, relative


def alpha_to_laplace_scale(alpha: float, n_obs: int) -> float:
    """Laplace scale at b = 1, ``1 / (n alpha)``: the prior ``w_j | b ~ Laplace(0, b / (n alpha))``
    whose mode is QuantileRegressor(alpha) for every b."""
    return 1.0 / (n_obs * positive(alpha, "alpha"))


def laplace_scale_to_alpha(scale: float, n_obs: int) -> float:
    """Inverse of :func:`alpha_to_laplace_scale`: ``alpha = 1 / (n b_1)``."""
    return 1.0 / (n_obs * positive(scale, "Laplace scale at b = 1"))


def prior_values(penalty, data: ModelData) -> dict[str, float]:
    """The ``pm.Data`` values: ``laplace_scale`` (at b = 1) and the likelihood's ``quantile``."""
    quantile = float(penalty["quantile"])
    if not 0 < quantile < 1:
        raise InputError(f"quantile must be between 0 and 1 (exclusive), got {quantile:g}")
    return {
        "laplace_scale": alpha_to_laplace_scale(penalty["alpha"], data.n_obs),
        "quantile": quantile,
    }


def build(data: ModelData) -> pm.Model:
    """Asymmetric-Laplace likelihood, Laplace prior scaled by b, flat intercept, ``p(b) ∝ 1 / b``.

    ``pm.Data``: ``quantile`` (q) and ``laplace_scale`` (the Laplace scale at b = 1, ``1 / (n
    alpha)``). PyMC's ``b`` is a rate: ``sqrt(q (1 - q)) / b`` (module docstring).
    """
    with pm.Model(coords=coords(data)) as model:
        X_data, y_data = data_containers(data)
        quantile = pm.Data("quantile", 0.5)
        scale = pm.Data("laplace_scale", 1.0)
        intercept = pm.Flat("intercept")
        b = pm.HalfFlat("b")
        pm.Potential("jeffreys_b", -pm.math.log(b))  # p(b) ∝ 1 / b: flat in log b
        w = pm.Laplace("w", 0.0, b * scale, dims="feature")
        pm.AsymmetricLaplace("y", mu=intercept + X_data @ w, b=pm.math.sqrt(quantile * (1 - quantile)) / b,
                             q=quantile, observed=y_data, dims="obs")  # fmt: skip
    return model


def objective(X, y, quantile: float, alpha: float, intercept: float, w: np.ndarray) -> float:
    """QuantileRegressor's objective ``mean(pinball_q(y - b0 - X w)) + alpha ||w||_1``."""
    residual = y - intercept - X @ np.asarray(w, dtype=float)
    return float(np.mean(pinball(residual, quantile)) + alpha * np.sum(np.abs(w)))


def solve_mode(penalty, data: ModelData) -> CertifiedMode:
    r"""The exact mode: scikit-learn's linear programme, from the model's terms, solved by HiGHS.

    Variables ``(b0, s, t, u, v)``, ``w = s - t``, residual ``y - b0 - X w = u - v``, all but b0
    non-negative; minimise ``alpha 1'(s + t) + (q 1'u + (1 - q) 1'v) / n``.

    **Certificate.** HiGHS's equality duals ``lambda`` (``res.eqlin.marginals``) clipped to the
    box ``[-(1 - q) / n, q / n]`` bound the optimum from below by ``y'lambda`` when also
    ``sum lambda = 0`` and ``|X'lambda| <= alpha``; the gap ``objective - y'lambda`` plus what
    the violations of those two can cost (``|b0| |sum lambda| + sum_j |w_j| (|X_j'lambda| -
    alpha)_+``), relative to the objective, must be below :data:`GAP_BOUND`, and so must the
    programme's constraint residual relative to ``max |y|``.

    **Uniqueness (sufficient, exact linear algebra).** Every minimiser satisfies complementary
    slackness with this lambda: a row whose ``lambda_i`` is strictly inside the box has residual
    0, and a coefficient with ``|X_j'lambda| < alpha`` is 0. So the face of minimisers lies in
    ``{w_j = 0 off J, b0 + x_i w = y_i on I}``; when ``[1, X_IJ]`` has full column rank that is
    one point. "Strictly" is taken with a margin of 1e-6 of the box (or of alpha), which only
    makes the check more conservative. False means "not proved unique".
    """
    quantile, alpha = float(penalty["quantile"]), positive(penalty["alpha"], "alpha")
    X, y = np.asarray(data.X, dtype=float), np.asarray(data.y, dtype=float)
    n, p = X.shape
    eye = sparse.eye_array(n, format="csc")
    A = sparse.hstack(
        [sparse.csc_array(np.ones((n, 1))), sparse.csc_array(X), sparse.csc_array(-X), eye, -eye],
        format="csc",
    )
    cost = np.concatenate([[0.0], np.full(2 * p, alpha), np.full(n, quantile / n),
                           np.full(n, (1 - quantile) / n)])  # fmt: skip
    bounds = [(None, None)] + [(0, None)] * (2 * p + 2 * n)
    res = optimize.linprog(cost, A_eq=A, b_eq=y, bounds=bounds, method="highs",
                           options={"primal_feasibility_tolerance": 1e-10,
                                    "dual_feasibility_tolerance": 1e-10})  # fmt: skip
    if res.x is None:
        raise ValueError(f"the quantile linear programme failed: {res.message}")
    b0, w = float(res.x[0]), res.x[1 : 1 + p] - res.x[1 + p : 1 + 2 * p]
    value = objective(X, y, quantile, alpha, b0, w)
    scale = max(abs(value), np.finfo(float).tiny)
    residual = float(np.max(np.abs(A @ res.x - y)) / max(np.max(np.abs(y)), np.finfo(float).tiny))
    dual = np.clip(res.eqlin.marginals, -(1 - quantile) / n, quantile / n)
    correlation = X.T @ dual
    excess = np.maximum(np.abs(correlation) - alpha, 0.0)
    violation = abs(b0) * abs(dual.sum()) + float(np.abs(w) @ excess)
    gap = (value - float(y @ dual) + violation) / scale
    converged = bool(res.status == 0 and abs(gap) <= GAP_BOUND and residual <= GAP_BOUND)
    margin_box, margin_alpha = 1e-6 / n, 1e-6 * alpha
    interior = (dual > -(1 - quantile) / n + margin_box) & (dual < quantile / n - margin_box)
    active = (np.abs(correlation) >= alpha - margin_alpha) | (w != 0)
    design = np.column_stack([np.ones(int(interior.sum())), X[np.ix_(interior, active)]])
    unique = bool(design.shape[0] >= design.shape[1]
                  and np.linalg.matrix_rank(design) == design.shape[1])  # fmt: skip
    b_mode = n * value / (n + p + 1)  # b's conditional mode at the answer (module docstring)
    message = (
        f"LP mode {'certified' if converged else 'NOT CERTIFIED'}: HiGHS {res.nit} iterations, "
        f"relative duality gap {gap:.1e}, constraint residual {residual:.1e}; "
        f"{int(interior.sum())} rows interpolated, {int(active.sum())} active coefficients: "
        + ("unique" if unique else "uniqueness not proved")
    )
    return CertifiedMode(
        point={"intercept": np.asarray(b0), "w": w, "b": np.asarray(b_mode)},
        objective=value,
        objective_at=lambda intercept, coef: objective(X, y, quantile, alpha, intercept, coef),
        converged=converged,
        unique=unique,
        message=message,
    )


def sklearn_estimator(penalty, data: ModelData):
    """QuantileRegressor with HiGHS at tight feasibility tolerances (default 1e-7)."""
    return linear_model.QuantileRegressor(
        quantile=penalty["quantile"], alpha=penalty["alpha"], solver="highs",
        solver_options={"primal_feasibility_tolerance": 1e-10, "dual_feasibility_tolerance": 1e-10},
    )  # fmt: skip


def alpha_top(X: np.ndarray, y: np.ndarray, quantile: float) -> float:
    """Approximately the smallest alpha at which every coefficient is zero: ``max_j |X_j'g| / n``
    with ``g_i = q - 1{y_i < Q_q(y)}`` the pinball subgradient at the intercept-only fit."""
    g = quantile - (y < np.quantile(y, quantile)).astype(float)
    return float(np.max(np.abs(X.T @ g)) / len(y))


def penalty_grid(data: ModelData, n: int) -> list[dict[str, float]]:
    """At q = 0.1, 0.5, 0.9, ``max(n // 3, 4)`` alphas each (n in all, as other models' grids):
    from 1.5 alpha_top (all zero) down to 1e-4 alpha_top."""
    grid = []
    for quantile in QUANTILES:
        top = alpha_top(data.X, data.y, quantile)
        grid += [{"alpha": float(a), "quantile": quantile}
                 for a in np.geomspace(1.5 * top, 1e-4 * top, max(n // 3, 4))]  # fmt: skip
    return grid


def cross_validated_alpha(data: ModelData, quantile: float) -> float:
    """5-fold cross-validated alpha (mean pinball loss) over 8 alphas in [1e-4, 1] alpha_top."""
    alphas = np.geomspace(1e-4, 1.0, 8) * alpha_top(data.X, data.y, quantile)
    search = model_selection.GridSearchCV(
        linear_model.QuantileRegressor(quantile=quantile, solver="highs"), {"alpha": alphas},
        cv=model_selection.KFold(5, shuffle=True, random_state=0),
        scoring=metrics.make_scorer(metrics.mean_pinball_loss, alpha=quantile,
                                    greater_is_better=False),
    )  # fmt: skip
    return float(search.fit(data.X, data.y).best_params_["alpha"])


def reference_penalty(data: ModelData) -> dict[str, float]:
    """The median (q = 0.5) at its 5-fold cross-validated alpha (mean pinball loss)."""
    return {"alpha": cross_validated_alpha(data, 0.5), "quantile": 0.5}


SPEC = ModelSpec(
    name="quantile",
    title="Quantile regression = asymmetric-Laplace likelihood, Laplace prior",
    prior=PRIOR,
    likelihood="asymmetric_laplace",
    build=build,
    noise="unknown",
    noise_variable="b",
    link=Link(
        objective=OBJECTIVE,
        mapping=MAPPING,
        penalty_names=("alpha", "quantile"),
        prior_values=prior_values,
        sklearn=sklearn_estimator,
        penalty_grid=penalty_grid,
        reference_penalty=reference_penalty,
        twins=(
            Twin(
                "sklearn.linear_model.QuantileRegressor",
                lambda est: {"alpha": float(est.alpha), "quantile": float(est.quantile)},
                settings={"fit_intercept": (True,)},
            ),
        ),
    ),
    closed_form=ClosedForm(mode_solver=solve_mode),
)

__all__ = [
    "SPEC", "alpha_to_laplace_scale", "build", "laplace_scale_to_alpha", "objective",
    "penalty_grid", "reference_penalty", "solve_mode",
]  # fmt: skip
