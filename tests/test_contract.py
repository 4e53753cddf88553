"""The model contract: adding a model is one file; breaking the contract is one line; the MAP solver
certifies its answer on raw-scale, badly scaled, intercept-free models with sigma unknown."""

from __future__ import annotations

import json

import numpy as np
import pymc as pm
import pytest
from model_files import RIDGE_ORIGIN
from scipy.optimize import brentq

import models.inference.engines
from experiments.__main__ import main
from models.inference.engines import ConvergenceError, MAPSolver

# posteriordb's "blr" in spirit: no intercept, sigma unknown, Normal(0, 10) weights, raw scale.
RAW_BLR = '''
"""Bayesian linear regression on the raw scale: no intercept, sigma ~ HalfNormal(10)."""
import pymc as pm

from models.core.base import ModelSpec, coords


def build(data):
    with pm.Model(coords=coords(data)) as model:
        prior_sd = pm.Data("prior_sd", 10.0)
        sigma = pm.HalfNormal("sigma", 10.0)
        w = pm.Normal("w", 0.0, prior_sd, dims="feature")
        pm.Normal("y", pm.math.dot(data.X, w), sigma, observed=data.y, dims="obs")
    return model


SPEC = ModelSpec(
    name="raw_blr", title="Raw-scale Bayesian linear regression", intercept=None,
    prior="y ~ Normal(Xw, sigma), w_j ~ Normal(0, 10), sigma ~ HalfNormal(10)",
    likelihood="gaussian", noise="unknown", build=build, hyperparameters={"prior_sd": 10.0},
    standardize=False,
)
'''


def raw_problem(n: int = 200):
    """Five features on wildly different raw scales (sd 1e-3 to 300), true w = 1, sigma = 1."""
    rng = np.random.default_rng(1)
    X = rng.normal([50, -3, 1000, 0.01, 7], [10, 1, 300, 0.002, 2], size=(n, 5))
    return X, X @ np.ones(5) + rng.normal(0, 1.0, n)


def profiled_mode(X, y, prior_sd=10.0, sigma_scale=10.0):
    """The exact joint mode by a 1-D profile: for fixed sigma, w is a linear solve; the stationarity
    condition in log sigma, n - ||r||^2 / sigma^2 + sigma^2 / s^2 = 0 (envelope theorem), is found by
    bracketing to full float precision."""
    XtX, Xty, n = X.T @ X, X.T @ y, len(y)

    def w_at(sigma):
        return np.linalg.solve(XtX / sigma**2 + np.eye(X.shape[1]) / prior_sd**2, Xty / sigma**2)

    def stationarity(log_sigma):
        sigma = np.exp(log_sigma)
        r = y - X @ w_at(sigma)
        return n - r @ r / sigma**2 + sigma**2 / sigma_scale**2

    sigma = float(np.exp(brentq(stationarity, -5, 5, xtol=1e-15, rtol=1e-15)))
    return w_at(sigma), sigma


def raw_model(X, y, pinned_intercept: bool):
    with pm.Model() as model:
        sigma = pm.HalfNormal("sigma", 10.0)
        w = pm.Normal("w", 0.0, 10.0, shape=X.shape[1])
        mu = pm.math.dot(X, w)
        if pinned_intercept:  # the old recipe: an intercept pinned by Normal(0, 1e-8)
            mu = mu + pm.Normal("intercept", 0.0, 1e-8)
        pm.Normal("y", mu, sigma, observed=y)
    return model


@pytest.mark.parametrize("pinned_intercept", [False, True])
def test_map_known_answer_raw_scale_sigma_unknown(pinned_intercept):
    X, y = raw_problem()
    w_exact, sigma_exact = profiled_mode(X, y)
    fit = MAPSolver(raw_model(X, y, pinned_intercept)).solve().certify()
    # X'X has condition number ~1e11 (column sds 2e-3 to 300): both the solver and the profile
    # carry ~cond * eps = 1e-5 absolute error on the worst direction, measured 1.4e-11 relative.
    np.testing.assert_allclose(fit.point["w"], w_exact, rtol=1e-9)
    assert float(fit.point["sigma"]) == pytest.approx(sigma_exact, rel=1e-10)  # measured 1e-14


def test_map_that_stops_early_says_so(monkeypatch):
    X, y = raw_problem()
    monkeypatch.setattr(models.inference.engines, "MAX_ITERATIONS", 2)
    fit = MAPSolver(raw_model(X, y, False)).solve()
    assert not fit.converged and "DID NOT CONVERGE" in fit.message
    with pytest.raises(ConvergenceError):
        fit.certify()


def test_adding_a_model_is_one_file(add_model, tmp_path):
    add_model("ridge_origin", RIDGE_ORIGIN)
    out = tmp_path / "report"
    assert main(["ridge_origin", "--quick", "--quiet", "--out", str(out)]) == 0
    results = json.loads((out / "results.json").read_text())
    assert max(results["max_rel_diff"]) <= 1e-8  # exact linear solves on both sides
    assert all(row["ok"] for row in results["diagnostics"]), results["diagnostics"]
    assert (out / "index.html").is_file()


def test_raw_scale_model_without_twin_runs_from_a_csv(add_model, tmp_path):
    add_model("raw_blr", RAW_BLR)
    X, y = raw_problem()
    path = tmp_path / "raw.csv"
    np.savetxt(path, np.column_stack([X, y]), delimiter=",", header="a,b,c,d,e,y", comments="")
    out = tmp_path / "report"
    argv = ["raw_blr", "--quick", "--quiet", "--data", str(path), "--target", "y",
            "--no-standardize", "--out", str(out)]  # fmt: skip
    assert main(argv) == 0
    results = json.loads((out / "results.json").read_text())
    assert results["standardized"] is False and "max_rel_diff" not in results
    w_exact, _ = profiled_mode(X, y)
    np.testing.assert_allclose(results["posterior"]["map"], w_exact, rtol=1e-9)  # as above
    assert all(row["ok"] for row in results["diagnostics"]), results["diagnostics"]
    # The posterior mean of each well-identified weight is within 5 MCSE of ... the truth is not
    # exact here; the data determine w to ~1e-3, so the mean must sit near the mode.
    post = results["posterior"]
    assert np.all(np.abs(np.subtract(post["mean"], post["map"])) < 5 * np.asarray(post["sd"]))
    assert "Check 1" not in (out / "index.html").read_text()


# posteriordb's "blr" as a new user writes it from the README: no intercept, no scikit-learn twin,
# sigma ~ HalfNormal(10), and a prior location among the hyper-parameters.
BLR = '''
"""posteriordb's blr: y ~ Normal(Xw, sigma), w_j ~ Normal(prior_mean, prior_sd), sigma ~ HalfNormal(10)."""
import pymc as pm

from models.core.base import ModelSpec, coords


def build(data):
    with pm.Model(coords=coords(data)) as model:
        prior_mean = pm.Data("prior_mean", 0.0)
        prior_sd = pm.Data("prior_sd", 10.0)
        sigma = pm.HalfNormal("sigma", 10.0)
        w = pm.Normal("w", prior_mean, prior_sd, dims="feature")
        pm.Normal("y", pm.math.dot(data.X, w), sigma, observed=data.y, dims="obs")
    return model


SPEC = ModelSpec(
    name="blr", title="posteriordb blr", intercept=None, likelihood="gaussian", noise="unknown",
    prior="y ~ Normal(Xw, sigma), w_j ~ Normal(prior_mean, prior_sd), sigma ~ HalfNormal(10)",
    build=build, hyperparameters={"prior_sd": 10.0, "prior_mean": 0.0}, standardize=False,
)
'''


def test_model_without_twin_says_nothing_of_scikit_learn_and_shows_sigma(add_model, tmp_path):
    from test_penalty_family import check_registry

    import models

    add_model("blr", BLR)
    check_registry(models.registry())  # a model without a twin needs no objective or mapping
    rng = np.random.default_rng(2)
    X = rng.normal(size=(40, 3))
    y = X @ np.array([1.0, -0.5, 0.0]) + rng.normal(0, 0.5, 40)
    path = tmp_path / "blr.csv"
    np.savetxt(path, np.column_stack([X, y]), delimiter=",", header="a,b,c,y", comments="")
    out = tmp_path / "report"
    argv = ["blr", "--quick", "--quiet", "--data", str(path), "--target", "y", "--no-standardize",
            "--out", str(out)]  # fmt: skip
    assert main(argv) == 0  # prior_mean = 0 is a location, not a width out of range
    results = json.loads((out / "results.json").read_text())
    noise = results["posterior"]["noise_posterior"]
    assert (
        noise["variable"] == "sigma" and noise["hdi_94_low"] < noise["mean"] < noise["hdi_94_high"]
    )
    # The data's noise sd is 0.5; 40 rows put sigma's posterior sd near 0.5 / sqrt(80) ~ 0.06.
    assert 0.3 < noise["map"] < 0.8 and noise["r_hat"] < 1.01
    body = (out / "index.md").read_text().split("\n---\n")[0]  # without the versions footer
    assert "scikit-learn" not in body and "sklearn" not in body, body
    assert "Check 1" not in body and "Check 2" not in body
    assert "`sigma`" in body and "nor exp of the mode of its log" in body


def test_help_of_a_lambda_reference_penalty(add_model, capsys):
    add_model("ridge_origin", RIDGE_ORIGIN)
    with pytest.raises(SystemExit):
        main(["ridge_origin", "--help"])
    shown = " ".join(capsys.readouterr().out.split())
    assert "(default: the model's reference_penalty)" in shown and "none; required" not in shown


def test_prior_locations_are_not_widths():
    from experiments.family import check_prior_values
    from models.core.base import InputError, ModelSpec

    spec = ModelSpec(name="t", title="t", prior="p", likelihood="gaussian", build=lambda d: d)
    check_prior_values(spec, {}, {"prior_mean": -1e200, "prior_sd": 10.0})  # any finite location
    for values, message in (({"prior_sd": 1e-200}, "out of range for a prior width"),
                            ({"laplace_scale": 0.0}, "out of range for a prior width"),
                            ({"prior_mean": float("inf")}, "must be finite")):  # fmt: skip
        with pytest.raises(InputError, match=message):
            check_prior_values(spec, {}, values)


BROKEN = {
    "no coefficients": ('''
import pymc as pm
from models.core.base import ModelSpec

def build(data):
    with pm.Model() as model:
        beta = pm.Normal("beta", 0, 1, shape=data.X.shape[1])
        pm.Normal("y", pm.math.dot(data.X, beta), 1.0, observed=data.y)
    return model

SPEC = ModelSpec(name="broken", title="b", prior="p", likelihood="gaussian", build=build)
''', "no free variable 'w'"),
    "old build signature": ('''
import pymc as pm
from models.core.base import ModelSpec

def build(X, y, feature_names):
    return pm.Model()

SPEC = ModelSpec(name="broken", title="b", prior="p", likelihood="gaussian", build=build)
''', "build must take one argument"),
    "twin without mapping": ('''
from sklearn.linear_model import Ridge
from models.core.base import Link, ModelSpec

SPEC = ModelSpec(
    name="broken",
    title="b",
    prior="p",
    likelihood="gaussian",
    build=lambda d: None,
    link=Link(
        sklearn=lambda pen, data: Ridge(),
    ),
)
''', "needs prior_values"),
}  # fmt: skip


@pytest.mark.parametrize("case", list(BROKEN))
def test_broken_model_is_one_line(add_model, tmp_path, capsys, case):
    source, message = BROKEN[case]
    add_model("broken", source)
    assert main(["broken", "--quick", "--quiet", "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and message in err and "\n" not in err, err
    assert not (tmp_path / "o").exists()


NEW_EXPERIMENT = '''
"""A new experiment in one file: the ridge MAP at three alphas, its figure, its page, its card."""
import matplotlib.pyplot as plt
import numpy as np

from experiments.runner import Card, Experiment, Section
from experiments.style import save
from models import ridge
from models.core.data import model_data
from models.inference.engines import MAPSolver


def compute(run):
    data = model_data(ridge.SPEC, run.data)
    solver = MAPSolver(ridge.SPEC.build(data), ridge.SPEC)
    alphas = [0.01, 1.0, 100.0]
    fits = [solver.solve(ridge.SPEC.link.prior_values({"alpha": a}, data)).certify() for a in alphas]
    return {"alphas": alphas, "norms": [float(np.linalg.norm(f.point["w"])) for f in fits]}


def figures(run):
    fig, ax = plt.subplots()
    ax.semilogx(run.results["alphas"], run.results["norms"], "o-")
    save(fig, run.out / "norms.png")


def page(page, results):
    page.heading("What the point estimate hides")
    page.text(f"The weights shrink from **{results['norms'][0]:.1f}** to {results['norms'][-1]:.1f}.")
    page.figure("norms.png", "Norm of the MAP against alpha.")


EXPERIMENT = Experiment(
    name="shrinkage", title="Shrinkage in one file", description="MAP norm against alpha.",
    sections=(Section("three MAPs", compute, figures, page),),
    settings=lambda quick: {}, card=lambda results: Card("norms.png", "Norms, **shrinking**."),
)
'''


def test_adding_an_experiment_is_one_file_and_one_line(tmp_path, monkeypatch):
    import experiments.registry
    from experiments.site import write_index

    package = tmp_path / "user_experiments"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "shrinkage.py").write_text(NEW_EXPERIMENT)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setitem(experiments.registry.MODULES, "shrinkage", "user_experiments.shrinkage")
    reports = tmp_path / "reports"
    assert main(["shrinkage", "--quiet", "--out", str(reports / "shrinkage")]) == 0
    results = json.loads((reports / "shrinkage" / "results.json").read_text())
    assert results["norms"][0] > results["norms"][1] > results["norms"][2]  # exact, no sampling
    assert "Shrinkage in one file" in (reports / "shrinkage" / "index.html").read_text()
    write_index(reports)
    front = (reports / "index.html").read_text()
    assert 'href="shrinkage/index.html"' in front and "<b>shrinking</b>" in front
