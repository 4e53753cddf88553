"""Every library's knob as a prior width: the seed's formula, round trips, and numeric checks
against the libraries installed here (scikit-learn's SGD estimators and BayesianRidge)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import minimize
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import BayesianRidge, Ridge, SGDClassifier, SGDRegressor

from experiments.__main__ import main
from models import logistic, ridge
from models.base import InputError
from models.data import arrays
from models.inference import MAPSolver
from models.knobs import KNOBS, get_knob, nll_lambda_to_prior_sd


@pytest.fixture(scope="module")
def standardized(diabetes):
    X, y, names = diabetes
    return (X - X.mean(0)) / X.std(0), y, names


def test_nll_scaled_objective_has_ridges_minimiser(standardized):
    X, y, _ = standardized
    sigma, lam = 54.0, 0.01
    Z = np.column_stack([np.ones(len(y)), X])

    def objective(beta):  # NLL(w) + lambda ||w||^2, intercept unpenalised
        r = y - Z @ beta
        return r @ r / (2 * sigma**2) + lam * beta[1:] @ beta[
            1:
        ], -Z.T @ r / sigma**2 + 2 * lam * np.r_[0, beta[1:]]

    best = minimize(
        objective, np.zeros(Z.shape[1]), jac=True, method="BFGS", options={"gtol": 1e-12}
    )
    tau = nll_lambda_to_prior_sd(lam)
    sk = Ridge(alpha=get_knob("ridge").from_width(tau, sigma=sigma)).fit(X, y)
    # BFGS to a gradient of 1e-12 on a well-conditioned quadratic: agreement ~1e-9.
    np.testing.assert_allclose(best.x[1:], sk.coef_, rtol=1e-6)
    assert get_knob("ridge").from_width(tau, sigma=sigma) == pytest.approx(2 * sigma**2 * lam)


@pytest.mark.parametrize("name", list(KNOBS))
def test_round_trip(name):
    knob = get_knob(name)
    tau = knob.to_width(0.37, n=442, sigma=54.0)
    # Pure arithmetic both ways: float round-off only.
    assert knob.from_width(tau, n=442, sigma=54.0) == pytest.approx(0.37, rel=1e-12)


def test_sgd_regressor_is_the_map_at_the_mapped_prior(standardized):
    X, y, names = standardized
    n, alpha, sigma = len(y), 0.05, 54.0
    tau = get_knob("sgd_regressor").to_width(alpha, n=n, sigma=sigma)
    data = arrays(X, y, names, sigma)
    fit = MAPSolver(ridge.build(data)).solve({"prior_sd": tau}).certify()
    sgd = SGDRegressor(alpha=alpha, average=True, max_iter=2000, tol=None, eta0=0.01,
                       random_state=0).fit(X, y)  # fmt: skip
    # Averaged SGD is stochastic: measured 3e-3 relative after 2000 epochs; bound 1e-2.
    assert np.max(np.abs(sgd.coef_ - fit.point["w"])) <= 1e-2 * np.max(np.abs(fit.point["w"]))


def test_sgd_classifier_is_the_map_at_the_mapped_prior():
    bunch = load_breast_cancer()
    X = (bunch.data - bunch.data.mean(0)) / bunch.data.std(0)
    y = (bunch.target == 0).astype(float)
    n, alpha = len(y), 0.01
    tau = get_knob("sgd_classifier").to_width(alpha, n=n)
    fit = (
        MAPSolver(logistic.build(arrays(X, y, bunch.feature_names)))
        .solve({"prior_sd": tau})
        .certify()
    )
    sgd = SGDClassifier(loss="log_loss", alpha=alpha, average=True, max_iter=5000, tol=None,
                        random_state=0).fit(X, y)  # fmt: skip
    # Averaged SGD with the 'optimal' schedule: measured 1.1e-3 relative; bound 1e-2.
    assert np.max(np.abs(sgd.coef_[0] - fit.point["w"])) <= 1e-2 * np.max(np.abs(fit.point["w"]))


def test_bayesian_ridge_precision_is_a_prior_width(standardized):
    X, y, names = standardized
    br = BayesianRidge(tol=1e-12, max_iter=10_000).fit(X, y)
    sigma = 1 / np.sqrt(br.alpha_)
    tau = get_knob("bayesian_ridge").to_width(br.lambda_, sigma=sigma)
    assert tau == pytest.approx(1 / np.sqrt(br.lambda_), rel=1e-14)
    fit = MAPSolver(ridge.build(arrays(X, y, names, sigma))).solve({"prior_sd": tau}).certify()
    # The same linear solve on both sides (BayesianRidge's coef_ at its final lambda_, alpha_).
    np.testing.assert_allclose(fit.point["w"], br.coef_, rtol=1e-6)


def test_bad_knob_input_is_one_line(capsys):
    with pytest.raises(InputError, match="unknown knob 'nope'"):
        get_knob("nope")
    for argv, message in [
        (["--from", "nope", "--alpha", "1"], "unknown knob"),
        (["--from", "sgd_regressor", "--alpha", "1", "--noise-sd", "2"], "give --n"),
        (["--from", "ridge", "--alpha", "1"], "give --noise-sd"),
        (["--from", "ridge", "--alpha", "-1", "--noise-sd", "2"], "must be a positive"),
    ]:
        assert main(["prior", *argv]) == 2
        err = capsys.readouterr().err.strip()
        assert err.startswith("error: ") and message in err and "\n" not in err, err
    assert main(["prior", "--from", "ridge", "--alpha", "3", "--noise-sd", "54", "--n", "442"]) == 0
    out = capsys.readouterr().out
    assert "tau = 31.1769" in out and "94% of weights within" in out  # sqrt(54^2 / 3)


@pytest.mark.parametrize(
    ("knob", "spec_name", "penalty"),
    [("ridge", "ridge", {"alpha": 3.0}), ("logistic", "logistic", {"C": 0.7}),
     ("lasso", "lasso", {"alpha": 0.2})],
)  # fmt: skip
def test_table_agrees_with_the_model_registry(diabetes, knob, spec_name, penalty):
    """The table and the models' own penalty -> prior mappings are one mapping, not two."""
    from models import get_model

    X, y, names = diabetes
    spec = get_model(spec_name)
    data = arrays(X, y, names, None if spec.likelihood == "bernoulli" else 54.0)
    row = get_knob(knob)
    width = row.to_width(next(iter(penalty.values())), n=len(y), sigma=data.noise_sd)
    assert spec.prior_values(penalty, data)[row.width_name] == pytest.approx(width, rel=1e-14)
