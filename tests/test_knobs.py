"""Every library's knob as a prior width: the seed's formula, round trips, and numeric checks
against the libraries installed here (scikit-learn's SGD estimators and BayesianRidge; statsmodels,
glum, Keras and optax where the knobs dependency group is installed, skipped with the reason
elsewhere)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from experiments import knobs, library_checks
from experiments.__main__ import main
from models.core.base import InputError
from models.core.data import arrays
from models.twin.knobs import KNOBS, get_knob, nll_lambda_to_prior_sd


@pytest.mark.parametrize("check", list(knobs.BOUNDS))
def test_library_agrees_with_the_map_at_the_mapped_prior(check):
    """Each numeric check of the knobs page (NLL-scaled objective, SGDRegressor, SGDClassifier,
    BayesianRidge, Lasso) within its stated bound (knobs.BOUNDS gives the bound and the reason)."""
    X, y, names = knobs.standardized("breast_cancer" if check == "sgd_classifier" else "diabetes")
    measured = {
        "nll_objective": lambda: knobs.check_nll_objective(X, y),
        "sgd_regressor": lambda: knobs.check_sgd_regressor(X, y, names),
        "sgd_classifier": lambda: knobs.check_sgd_classifier(X, y, names),
        "bayesian_ridge": lambda: knobs.check_bayesian_ridge(X, y, names),
        "lasso": lambda: knobs.check_lasso(X, y, names),
    }[check]()
    assert measured <= knobs.BOUNDS[check][0]


def test_the_seeds_formula():
    # lambda ||w||^2 = ||w||^2 / (2 tau^2): tau = 1 / sqrt(2 lambda), both ways, float round-off.
    assert nll_lambda_to_prior_sd(0.125) == pytest.approx(2.0, rel=1e-15)
    assert get_knob("nll").from_width(2.0) == pytest.approx(0.125, rel=1e-15)


@pytest.mark.parametrize("name", list(KNOBS))
def test_round_trip(name):
    knob = get_knob(name)
    tau = knob.to_width(0.37, n=442, sigma=54.0)
    # Pure arithmetic both ways: float round-off only.
    assert knob.from_width(tau, n=442, sigma=54.0) == pytest.approx(0.37, rel=1e-12)


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
    assert "tau = 31.1769" in out  # sqrt(54^2 / 3)
    assert "each weight has prior probability 0.94 of lying within +-58.64" in out  # 1.881 tau


@pytest.mark.parametrize(
    ("knob", "spec_name", "penalty"),
    [("ridge", "ridge", {"alpha": 3.0}), ("logistic", "logistic", {"C": 0.7}),
     ("lasso", "lasso", {"alpha": 0.2}), ("quantile", "quantile", {"alpha": 0.01, "quantile": 0.9}),
     ("multinomial", "multinomial", {"C": 0.7}),
     ("poisson", "poisson", {"alpha": 0.3}), ("gamma", "gamma", {"alpha": 0.02}),
     ("tweedie", "tweedie", {"alpha": 0.002})],
)  # fmt: skip
def test_table_agrees_with_the_model_registry(diabetes, knob, spec_name, penalty):
    """The table and the models' own penalty -> prior mappings are one mapping, not two."""
    from models import get_model

    X, y, names = diabetes
    spec = get_model(spec_name)
    data = arrays(X, y, names, 54.0 if spec.likelihood == "gaussian" else None)
    row = get_knob(knob)
    width = row.to_width(next(iter(penalty.values())), n=len(y), sigma=data.noise_sd)
    assert spec.link.prior_values(penalty, data)[row.width_name] == pytest.approx(width, rel=1e-14)


def test_alpha_on_unit_norm_columns_is_alpha_over_n(diabetes):
    """The knobs page's feature-scale statement: Ridge(alpha) on standardised columns and
    Ridge(alpha / n) on unit-norm columns (standardised / sqrt(n)) are one fit."""
    from sklearn.linear_model import Ridge

    X, y, _ = diabetes
    standard = (X - X.mean(0)) / X.std(0)
    unit_norm = standard / np.sqrt(len(y))
    alpha = knobs.EXAMPLE_ALPHA
    a = Ridge(alpha=alpha).fit(standard, y).predict(standard)
    b = Ridge(alpha=alpha / len(y)).fit(unit_norm, y).predict(unit_norm)
    np.testing.assert_allclose(a, b, rtol=1e-10)  # the same linear solve, rescaled
    # and a wrong conversion (the same alpha) is a different fit
    c = Ridge(alpha=alpha).fit(unit_norm, y).predict(unit_norm)
    assert np.max(np.abs(a - c)) > 1.0


@pytest.mark.parametrize("name", list(library_checks.CHECKS))
def test_library_row_agrees_with_the_map_at_the_mapped_prior(name):
    """The rows run with a library outside the core stack (statsmodels, glum, Keras on JAX, optax:
    the knobs dependency group) within the bound the page states, where it is installed."""
    if reason := library_checks.missing(get_knob(name)):
        pytest.skip(reason)
    assert library_checks.CHECKS[name]() <= library_checks.BOUNDS[name][0]


def test_every_library_row_is_run_or_says_why_not():
    for knob in KNOBS.values():
        if knob.requires:
            assert knob.name in library_checks.CHECKS or knob.requires in (
                library_checks.OUTSIDE_THE_GROUP
            ), knob.name
    absent = dataclasses.replace(get_knob("statsmodels"), requires="no_such_library_here")
    assert library_checks.missing(absent).startswith("no_such_library_here not installed")
    assert "CUDA" in library_checks.missing(get_knob("torch_sgd_mse"))
    assert library_checks.missing(get_knob("ridge")) == ""


def test_the_table_says_which_rows_ran():
    results = {"checks": {"glmnet": {"ok": True}, "statsmodels": {"ok": False}},
               "not_run": {"keras_l2_mse": "keras not installed"}}  # fmt: skip
    assert knobs._checked(get_knob("glmnet"), results).endswith(": run here, ok")
    assert knobs._checked(get_knob("statsmodels"), results).endswith(": run here, FAILED")
    assert knobs._checked(get_knob("keras_l2_mse"), results) == (
        "derived, not run: keras not installed"
    )
    assert knobs._checked(get_knob("ridge"), results) == get_knob("ridge").checked


def test_a_wrong_mapping_misses_the_library():
    """The checks can fail: the library's fit against the MAP at twice the knob value (the
    factor 2 between Keras' l ||w||^2 and PyTorch's wd ||w||^2 / 2) is far outside the bound."""
    if reason := library_checks.missing(get_knob("glmnet")):
        pytest.skip(reason)
    alpha = library_checks._per_row(library_checks.RIDGE_ALPHA)
    wrong = library_checks.map_weights("ridge", "diabetes", "glmnet", 2 * alpha)
    assert library_checks.rel(library_checks._glum_fit(alpha, 0.0), wrong) > 1e-3


def test_adamw_ends_off_the_map_and_moves_with_the_learning_rate():
    """Coupled Adam ends at the MAP at every learning rate; AdamW at the same decay ends more than
    DECOUPLED_GAP from it, at a point that moves with the learning rate (deterministic runs)."""
    if reason := library_checks.missing(get_knob("optax_adam_mse")):
        pytest.skip(reason)
    from experiments import verdicts

    result = library_checks.adamw_against_coupled()
    rows = result["rows"]
    bound = library_checks.BOUNDS["optax_adam_mse"][0]
    assert max(r["coupled"] for r in rows) <= bound
    assert min(r["adamw"] for r in rows) > verdicts.DECOUPLED_GAP
    assert result["moved"] > verdicts.DECOUPLED_GAP


def test_without_optax_the_trap_says_why_it_was_not_measured(monkeypatch):
    monkeypatch.setattr(library_checks, "missing", lambda knob: "optax not installed")
    assert knobs.compute_adamw(None) == {"adamw": {"not_run": "optax not installed"}}
