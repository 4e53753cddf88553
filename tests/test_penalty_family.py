"""Lasso, elastic net and L2 logistic regression as MAPs: agreement with tight scikit-learn fits."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import integrate
from sklearn.datasets import load_breast_cancer

from models import REGISTRY, elasticnet, get_model, lasso, logistic
from models.core.base import InputError
from models.core.data import arrays, noise_estimate
from models.inference.engines import MAPSolver

# scikit-learn run at tol=1e-12 and our proximal Newton both reach ~1e-11 relative here (measured);
# 1e-6 is the acceptance bound of the suite, far above solver noise.
TOL = 1e-6


def _agree(map_w, sk_w):
    """Same exact-zero set, and relative L-inf agreement on the non-zeros."""
    assert np.array_equal(map_w == 0, sk_w == 0), (map_w, sk_w)
    nonzero = sk_w != 0
    if nonzero.any():
        assert np.max(np.abs(map_w[nonzero] - sk_w[nonzero])) <= TOL * np.max(np.abs(sk_w[nonzero]))


@pytest.fixture(scope="module")
def gaussian_context(diabetes):
    X, y, names = diabetes
    return X, y, names, arrays(X, y, names, noise_estimate(X, y))


def check_registry(registry: dict) -> None:
    """Every registered model is under its own name; a model with a scikit-learn twin states the
    objective it minimises and the penalty -> prior mapping (a model without one has neither)."""
    for name, spec in registry.items():
        assert spec.name == name
        if spec.has_twin:
            assert spec.link.objective and spec.link.mapping, name


def test_registry_has_the_family():
    assert {"ridge", "logistic", "lasso", "elasticnet"} <= set(REGISTRY)
    check_registry(REGISTRY)


def test_lasso_map_over_the_whole_path(gaussian_context):
    X, y, names, ctx = gaussian_context
    spec = get_model("lasso")
    solver = MAPSolver(spec.build(ctx), spec)
    alpha_max = np.max(np.abs((X - X.mean(0)).T @ (y - y.mean()))) / len(y)  # all-zero from here on
    n_zero = []
    for alpha in np.geomspace(alpha_max * 1.5, alpha_max * 1e-5, 20):
        fit = solver.solve(spec.link.prior_values({"alpha": alpha}, ctx))
        sk = spec.link.sklearn({"alpha": alpha}, ctx).fit(X, y)
        _agree(fit.point["w"], sk.coef_)
        n_zero.append(int(np.sum(fit.point["w"] == 0)))
    assert n_zero[0] == X.shape[1] and n_zero[-1] == 0  # the grid spans all-zero to nearly OLS


@pytest.mark.parametrize("l1_ratio", [0.1, 0.5, 0.9])
def test_elasticnet_map_on_grid(gaussian_context, l1_ratio):
    X, y, names, ctx = gaussian_context
    spec = get_model("elasticnet")
    solver = MAPSolver(spec.build(ctx), spec)
    for alpha in np.geomspace(1e-4, 10, 8):
        pen = {"alpha": alpha, "l1_ratio": l1_ratio}
        fit = solver.solve(spec.link.prior_values(pen, ctx))
        _agree(fit.point["w"], spec.link.sklearn(pen, ctx).fit(X, y).coef_)


def test_logistic_map_over_C_grid():
    data = load_breast_cancer()
    X = (data.data - data.data.mean(0)) / data.data.std(0)
    y = (data.target == 0).astype(float)
    spec = get_model("logistic")
    md = arrays(X, y, data.feature_names)
    solver = MAPSolver(spec.build(md), spec)
    for C in np.geomspace(1e-3, 1e3, 9):
        fit = solver.solve(spec.link.prior_values({"C": C}, md))
        sk = spec.link.sklearn({"C": C}, md).fit(X, y)
        assert np.max(np.abs(fit.point["w"] - sk.coef_[0])) <= TOL * np.max(np.abs(sk.coef_[0]))
        assert fit.point["intercept"] == pytest.approx(sk.intercept_[0], rel=TOL, abs=TOL)


def test_mappings_round_trip():
    # Pure arithmetic: float round-off only.
    assert logistic.prior_sd_to_C(logistic.C_to_prior_sd(3.7)) == pytest.approx(3.7, rel=1e-14)
    b = lasso.alpha_to_laplace_scale(0.3, 50.0, 442)
    assert lasso.laplace_scale_to_alpha(b, 50.0, 442) == pytest.approx(0.3, rel=1e-14)
    prior = elasticnet.penalty_to_prior(0.2, 0.3, 50.0, 442)
    back = elasticnet.prior_to_penalty(prior["prior_sd"], prior["laplace_scale"], 50.0, 442)
    assert back == pytest.approx({"alpha": 0.2, "l1_ratio": 0.3}, rel=1e-12)


@pytest.mark.parametrize(
    ("tau_1", "b_1", "sigma"),
    [
        (1.0, 1.0, 1.0),  # u = tau / (sqrt(2) b) = 0.71
        (0.1, 3.0, 1.0),  # Normal-dominated, u = 0.024
        (1e-3, 1e3, 1.0),  # u = 7e-7: erfcx(u) ~ 1 - 2 u / sqrt(pi)
        (1.0, 1.0, 1e4),  # large sigma: tau = 1e4, b = 1e8, u = 7e-5
        (5.0, 0.01, 1.0),  # Laplace-dominated, u = 354: exp(u^2) overflows, erfc(u) underflows
        (1.0, 1.0, 1e-4),  # small sigma: tau = 1e-4, b = 1e-8, u = 7071
        (1e4, 1e-4, 1e-3),  # u = 7e10
    ],
)
def test_elasticnet_scaled_noise_prior_is_normalised(tau_1, b_1, sigma):
    """The sigma-scaled elastic-net prior of ``build_scaled_noise`` (Normal(w | 0, sigma tau_1)
    times exp(-|w| / (sigma^2 b_1)) over its erfcx normaliser) integrates to 1 by quadrature, at
    every sigma: its normaliser is what sigma's posterior sees. The naive normaliser
    exp(u^2) erfc(u) is inf * 0 = nan at the last three points."""
    data = arrays(np.zeros((3, 1)), np.zeros(3), ["x"])
    model = elasticnet.build_scaled_noise(data)
    model.set_data("prior_sd", tau_1)
    model.set_data("laplace_scale", b_1)
    w, log_sigma = (model.rvs_to_values[model[name]] for name in ("w", "log_sigma"))
    log_prior = model.compile_fn(
        model.logp(vars=[model["w"], model["laplace_prior"]]),
        inputs=[w, log_sigma],
        point_fn=False,
    )
    width = min(sigma * tau_1, sigma**2 * b_1)  # the density's scale: integrate in units of it
    total = sum(
        integrate.quad(
            lambda t: width * np.exp(log_prior(np.array([width * t]), np.log(sigma))),
            *half,
            epsabs=0,
            epsrel=1e-12,
            limit=200,
        )[0]
        for half in ((-np.inf, 0.0), (0.0, np.inf))  # split at the kink
    )
    assert abs(total - 1) <= 1e-9  # quadrature reaches ~1e-15 here (measured)


def test_bad_penalties_and_targets():
    with pytest.raises(InputError, match="l1_ratio"):
        elasticnet.penalty_to_prior(1.0, 1.0, 1.0, 10)
    with pytest.raises(InputError, match="C must be a positive"):
        logistic.C_to_prior_sd(0)
    with pytest.raises(InputError, match="binary 0/1 target"):
        logistic.SPEC.validate_target(np.array([0.0, 1.0, 2.0]))
    with pytest.raises(InputError, match="binary 0/1 target"):
        logistic.SPEC.validate_target(np.array([1.0, 1.0, 1.0]))
