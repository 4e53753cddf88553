"""The generic penalty experiment for every registered model, and adding a model with one file."""

from __future__ import annotations

import monte_carlo
import numpy as np
import pytest
from figures import assert_has_content

from experiments.__main__ import main
from models import get_model
from models.core.data import default_dataset

CONTRACT = ["feature_names", "penalties", "sklearn_coef", "map_coef", "max_rel_diff", "posterior"]


@pytest.mark.parametrize("name", ["logistic", "lasso", "elasticnet"])
def test_family_experiment_runs_and_agrees(run_quick, name):
    out, results = run_quick(name)
    assert set(CONTRACT) <= set(results)
    # Solver precision: both sides converge to ~1e-11 (measured); 1e-6 is the suite's bound.
    assert max(results["max_rel_diff"]) <= 1e-6
    assert all(results["same_zero_set"])
    for key in ("mean", "median", "sd", "hdi_94_low", "hdi_94_high", "r_hat", "ess_bulk"):
        assert len(results["posterior"][key]) == len(results["feature_names"])
    for name_ in ("index.html", "index.md", "posterior.nc"):
        assert (out / name_).stat().st_size > 0
    for figure in ("path.png", "posterior_densities.png"):
        assert_has_content(out / figure)


def test_lasso_posterior_median_never_exactly_zero(run_quick):
    _, results = run_quick("lasso")
    post = results["posterior"]
    assert np.sum(np.asarray(post["map"]) == 0) >= 1  # the MAP at LassoCV's alpha is sparse
    assert np.all(np.asarray(post["median"]) != 0) and np.all(np.asarray(post["mean"]) != 0)


def test_contract_names_of_each_experiment(run_quick):
    _, logistic = run_quick("logistic")
    assert len(logistic["Cs"]) == len(logistic["prior_sd"]) == len(logistic["map_coef"])
    # tau = sqrt(C), stored side by side; posterior carries its C.
    np.testing.assert_allclose(np.square(logistic["prior_sd"]), logistic["Cs"], rtol=1e-14)
    assert logistic["posterior"]["C"] == logistic["posterior"]["penalty"]["C"]
    assert min(logistic["Cs"]) == pytest.approx(1e-3) and max(logistic["Cs"]) == pytest.approx(1e3)
    _, lasso = run_quick("lasso")
    assert len(lasso["alphas"]) == len(lasso["map_coef"]) and lasso["noise_sd"] > 0
    # The path runs from all-zero to (almost) no zeros.
    assert np.all(np.asarray(lasso["map_coef"][0]) == 0) and np.all(
        np.asarray(lasso["map_coef"][-1]) != 0
    )


def test_bayesian_lasso_section(run_quick):
    out, results = run_quick("lasso")
    bl = results["bayesian_lasso"]
    assert bl["lambda"] == 0.237 and bl["feature_names"] == results["feature_names"]
    monte_carlo.lasso(results)
    # The mode of the same posterior is sparse (exact: a profile with a Lasso inside).
    assert np.sum(np.asarray(bl["joint_mode"]) == 0) >= 1
    assert_has_content(out / "bayesian_lasso.png")
    assert (out / "bayesian_lasso.nc").is_file()
    assert "Park &amp; Casella" in (out / "index.html").read_text()


def test_forest_points_are_the_estimators_and_the_exact_interval_is_centred(run_quick, diabetes):
    from sklearn.linear_model import Ridge

    out, results = run_quick("lasso")
    forest = results["forest"]
    X, y, _ = diabetes
    ridge = Ridge(alpha=forest["ridge_alpha"], solver="cholesky").fit(X, y).coef_
    # closed form vs scikit-learn's Cholesky solve: conditioning-limited, measured ~1e-13
    np.testing.assert_allclose(forest["ridge_map"], ridge, rtol=1e-8)
    centre = (np.asarray(forest["ridge_posterior_hdi_94_low"])
              + np.asarray(forest["ridge_posterior_hdi_94_high"])) / 2  # fmt: skip
    np.testing.assert_allclose(centre, ridge, rtol=1e-8)  # a Gaussian's HDI is centred on its mode
    assert forest["lasso_map"] == results["posterior"]["map"]
    assert_has_content(out / "forest.png")


def test_bayesian_lasso_joint_mode_is_the_model_mode(diabetes):
    """The profiled mode maximises the PyMC model's own log density (perturbations only lower it)."""
    from experiments.lasso import joint_mode
    from models.core.data import arrays
    from models.lasso import build_bayesian_lasso

    X, y, names = diabetes
    model = build_bayesian_lasso(arrays(X, y, names))
    logp = model.compile_logp(jacobian=False)
    w, sigma = joint_mode(X, y, 0.237)
    at_mode = logp({"w": w, "log_sigma": np.log(sigma)})
    rng = np.random.default_rng(0)
    for _ in range(20):
        step = rng.normal(size=len(w) + 1) * 1e-3 * np.r_[np.abs(w) + 1, 1]
        moved = logp({"w": w + step[:-1], "log_sigma": np.log(sigma) + step[-1]})
        assert moved < at_mode + 1e-9  # 1e-9: float error of a ~2000-unit log density


def test_bayesian_lasso_mode_in_sigma_is_that_densitys_mode(diabetes):
    """``scale="sigma"``: the mode of the density in (w, sigma), the density in (w, log sigma)
    over sigma; one more -log sigma moves the profiled sigma down (or leaves it)."""
    from experiments.lasso import joint_mode
    from models.core.data import arrays
    from models.lasso import build_bayesian_lasso

    X, y, names = diabetes
    logp = build_bayesian_lasso(arrays(X, y, names)).compile_logp(jacobian=False)
    w, sigma = joint_mode(X, y, 0.237, scale="sigma")
    assert sigma <= joint_mode(X, y, 0.237)[1]

    def density_in_sigma(w, s):
        return logp({"w": w, "log_sigma": np.log(s)}) - np.log(s)

    at_mode = density_in_sigma(w, sigma)
    rng = np.random.default_rng(1)
    for _ in range(20):
        step = rng.normal(size=len(w) + 1) * 1e-3 * np.r_[np.abs(w) + 1, 1]
        assert density_in_sigma(w + step[:-1], sigma * np.exp(step[-1])) < at_mode + 1e-9


def test_logistic_heldout_probabilities(run_quick):
    out, results = run_quick("logistic")
    held = results["heldout"]
    n = held["n_test"]
    assert n + held["n_train"] == results["n_obs"] and len(held["sklearn_prob"]) == n
    monte_carlo.logistic(results)
    for name in ("heldout_probabilities.png", "calibration.png"):
        assert_has_content(out / name)


def test_logistic_predictive_checks_are_saved_and_reproducible(run_quick):
    import arviz as az
    from scipy.special import expit

    out, results = run_quick("logistic")
    for name in ("ppc_pava.png", "loo_pava.png"):
        assert_has_content(out / name)
    dt = az.from_netcdf(out / "posterior.nc")
    assert {"log_likelihood", "observed_data", "posterior_predictive", "prior"} <= set(dt.children)
    # the prior group holds w's draws from Normal(0, tau) at the reference tau: sd within 4 sd of
    # a sample sd's error (30 x 500 draws, relative sd of a sample sd ~ 1 / sqrt(2 n))
    prior_w = dt["prior"]["w"].values.ravel()
    tau = results["posterior"]["prior_values"]["prior_sd"]
    assert abs(prior_w.std() / tau - 1) < 4 / np.sqrt(2 * prior_w.size)
    # the saved log likelihood is the Bernoulli-logit one of the saved draws (rounding only)
    y = dt["observed_data"]["y"].values
    X = default_dataset(get_model("logistic")).X
    eta = dt["posterior"]["intercept"].values[..., None] + np.einsum(
        "cdf,nf->cdn", dt["posterior"]["w"].values, X
    )
    expected = np.where(y == 1, np.log(expit(eta)), np.log(expit(-eta)))
    np.testing.assert_allclose(dt["log_likelihood"]["y"].values, expected, rtol=1e-8, atol=1e-10)
    assert az.loo(dt).elpd == pytest.approx(results["loo"]["elpd"], rel=1e-12)  # same draws


def test_logistic_rejects_non_binary_target(tmp_path, capsys):
    path = tmp_path / "d.csv"
    path.write_text("a,b,y\n1,2,0\n2,1,1\n3,5,2\n4,4,1\n")
    out = tmp_path / "out"
    assert (
        main(["logistic", "--quiet", "--data", str(path), "--target", "y", "--out", str(out)]) == 2
    )
    err = capsys.readouterr().err
    assert "binary 0/1 target" in err and not out.exists()


def test_front_page_lists_experiments_from_results(run_quick, tmp_path):
    import shutil

    from experiments.site import write_index

    for name in ("ridge", "lasso"):
        out, _ = run_quick(name)
        shutil.copytree(out, tmp_path / name)
    write_index(tmp_path)
    page = (tmp_path / "index.html").read_text()
    assert 'href="ridge/index.html"' in page and 'href="lasso/index.html"' in page
    assert "alpha = sigma^2 / (n b)" in page


def test_binned_calibration_counts_match_scikit_learns_bins():
    from experiments.logistic import binned_calibration

    rng = np.random.default_rng(0)
    prob = rng.beta(0.5, 0.5, 300)
    y = (rng.random(300) < prob).astype(float)
    cal = binned_calibration(y, prob)
    rows = np.asarray(cal["rows"])
    assert rows.sum() == 300 and np.all(rows > 0)
    frac = np.asarray(cal["fraction_positive"])
    # Jeffreys' interval (Beta(k + 1/2, n - k + 1/2) quantiles; 0 / 1 at k = 0 / n) contains the
    # observed frequency k / n of every bin of these fixed data
    assert np.all((cal["interval_low"] <= frac + 1e-12) | (frac == 0))
    assert np.all((cal["interval_high"] >= frac - 1e-12) | (frac == 1))
    assert np.all(np.asarray(cal["interval_low"])[frac == 0] == 0)


def test_scikit_learns_non_convergence_is_recorded_not_printed(diabetes):
    # a Poisson page on large counts printed 52 ConvergenceWarnings under --quiet and its page
    # never said that Check 1's reference stopped at max_iter (hostile-input audit)
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression

    from experiments.family import sklearn_fit

    X, y, _ = diabetes
    labels = y > np.median(y)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)  # one escaping would raise here
        stopped, converged = sklearn_fit(LogisticRegression(max_iter=1), X, labels)
        assert not converged and stopped.n_iter_[0] == 1
        assert sklearn_fit(LogisticRegression(max_iter=1000), X, labels)[1]
