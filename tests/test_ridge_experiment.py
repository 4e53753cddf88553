"""The `ridge` experiment end to end: contract of results.json, report files, determinism, bad input."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import monte_carlo
import numpy as np
import pytest
from figures import assert_has_content

from experiments.__main__ import main
from models.ridge import ALPHA_GRID

CONTRACT = ["feature_names", "standardized", "noise_sd", "alphas", "prior_sd", "sklearn_coef", "map_coef",
            "exact_coef", "max_rel_diff", "posterior"]  # fmt: skip
POSTERIOR = ["alpha", "noise", "mean", "sd", "hdi_94_low", "hdi_94_high", "r_hat", "ess_bulk"]


def check_alpha_grid(alphas, low, high):
    """Increasing, evenly spaced in log alpha, from ``low`` to ``high`` (float round-off only)."""
    steps = np.diff(np.log(alphas))
    assert np.all(steps > 0) and np.allclose(steps, steps[0], rtol=1e-9)
    assert alphas[0] == pytest.approx(low, rel=1e-12) and alphas[-1] == pytest.approx(
        high, rel=1e-12
    )


def test_results_contract_and_agreement(run_quick):
    out, results = run_quick("ridge")
    assert set(CONTRACT) <= set(results)
    assert set(POSTERIOR) <= set(results["posterior"])
    assert results["posterior"]["noise"] == "fixed"
    n_alpha, p = len(results["alphas"]), len(results["feature_names"])
    assert n_alpha == results["settings"]["n_grid"]
    check_alpha_grid(results["alphas"], low=ALPHA_GRID[0], high=ALPHA_GRID[-1])
    for key in ("sklearn_coef", "map_coef", "exact_coef"):
        assert np.shape(results[key]) == (n_alpha, p)
    # The acceptance bound of the suite: exact linear solves agree to 1e-8 relative L-inf.
    assert max(results["max_rel_diff"]) <= 1e-8
    tau = np.asarray(results["prior_sd"])
    assert np.allclose(np.asarray(results["alphas"]), results["noise_sd"] ** 2 / tau**2, rtol=1e-12)
    monte_carlo.ridge(results)
    for name in ("index.html", "index.md", "posterior.nc"):
        assert (out / name).stat().st_size > 0, name
    for figure in (
        "ridge_path.png",
        "posterior_densities.png",
        "correlation.png",
        "predictive.png",
    ):
        assert_has_content(out / figure)
    page = (out / "index.html").read_text()
    assert "What the point estimate hides" in page and "Sampling diagnostics" in page
    # The page's description of RidgeCV's candidates is the grid RidgeCV was given, and the
    # reference alpha it chose is one of them.
    claim = re.search(r"over (\d+) alphas in \[([^,\]]+), ([^\]]+)\]", page)
    assert claim, "the page does not state RidgeCV's grid"
    assert int(claim[1]) == len(ALPHA_GRID)
    check_alpha_grid(ALPHA_GRID, low=float(claim[2]), high=float(claim[3]))
    assert np.min(np.abs(ALPHA_GRID / results["posterior"]["alpha"] - 1)) <= 1e-12


def test_saved_posterior_loads_in_arviz(run_quick):
    import arviz as az

    out, results = run_quick("ridge")
    dt = az.from_netcdf(out / "posterior.nc")
    mean = dt["posterior"]["w"].mean(("chain", "draw")).values
    np.testing.assert_allclose(mean, results["posterior"]["mean"], rtol=1e-12)
    assert {"log_likelihood", "observed_data"} <= set(dt.children)
    assert np.isfinite(az.loo(dt).elpd)  # the saved groups are what az.loo needs


def test_heldout_rows_are_predicted_without_themselves(run_quick):
    """The section's numbers recomputed independently: scikit-learn's Ridge (alpha from RidgeCV on
    the training fold) for each held-out prediction, the predictive sd from its formula. Closed
    forms on both sides: equal to rounding (1e-9, relative)."""
    from scipy import stats
    from sklearn.linear_model import Ridge, RidgeCV
    from sklearn.model_selection import KFold

    from experiments.ridge import HELDOUT_FOLDS
    from models.core.data import DATASETS, noise_estimate

    _, results = run_quick("ridge")
    held = results["heldout"]
    data = DATASETS["diabetes"]()
    folds = KFold(HELDOUT_FOLDS, shuffle=True, random_state=results["settings"]["seed"])
    lpd, plug_in, inside = [], [], 0
    for train, test in folds.split(data.X):
        X, y = data.X[train], data.y[train]
        sigma = noise_estimate(X, y)
        alpha = RidgeCV(alphas=ALPHA_GRID).fit(X, y).alpha_
        centre = Ridge(alpha=alpha).fit(X, y).predict(data.X[test])
        Z = np.column_stack([np.ones(len(train)), X])
        cov = sigma**2 * np.linalg.inv(Z.T @ Z + np.diag([0.0] + [alpha] * X.shape[1]))
        Zt = np.column_stack([np.ones(len(test)), data.X[test]])
        sd = np.sqrt(sigma**2 + np.einsum("ij,jk,ik->i", Zt, cov, Zt))
        lpd.extend(stats.norm.logpdf(data.y[test], centre, sd))
        plug_in.extend(stats.norm.logpdf(data.y[test], centre, sigma))
        inside += int(np.sum(np.abs(data.y[test] - centre) <= stats.norm.ppf(0.97) * sd))
    assert held["n"] == len(data.y) and held["covered"] == inside
    assert held["lpd_posterior"] == pytest.approx(np.mean(lpd), rel=1e-9)
    assert held["lpd_plug_in"] == pytest.approx(np.mean(plug_in), rel=1e-9)
    low, high = held["coverage_ci95"]
    assert low < held["coverage"] < high


def test_same_seed_same_results(run_quick, tmp_path):
    out, _ = run_quick("ridge")
    again = tmp_path / "again"
    assert main(["ridge", "--quick", "--quiet", "--out", str(again)]) == 0
    assert (again / "results.json").read_bytes() == (out / "results.json").read_bytes()


def test_user_csv_is_standardised(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.normal(5.0, 3.0, size=(60, 3))
    y = X @ [1.0, -2.0, 0.5] + rng.normal(size=60)
    path = tmp_path / "toy.csv"
    np.savetxt(path, np.column_stack([X, y]), delimiter=",", header="a,b,c,out", comments="")
    out = tmp_path / "report"
    assert (
        main(
            [
                "ridge",
                "--quick",
                "--quiet",
                "--data",
                str(path),
                "--target",
                "out",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    results = json.loads((out / "results.json").read_text())
    assert results["standardized"] is True
    assert results["feature_names"] == ["a", "b", "c"]
    np.testing.assert_allclose(results["feature_scale"], X.std(axis=0), rtol=1e-12)
    assert max(results["max_rel_diff"]) <= 1e-8


def _csv(tmp_path, text, name="bad.csv"):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


BAD_INPUTS = {
    "missing file": (lambda t: ["--data", str(t / "nope.csv"), "--target", "y"], "not found"),
    "missing target": (lambda t: ["--data", _csv(t, "a,b\n1,2\n3,4\n5,7\n"), "--target", "y"], "target column 'y'"),
    "non-numeric": (lambda t: ["--data", _csv(t, "a,y\n1,2\nx,4\n5,6\n"), "--target", "y"], "non-numeric value 'x'"),
    "nan": (lambda t: ["--data", _csv(t, "a,y\n1,2\nnan,4\n5,6\n"), "--target", "y"], "NaN/inf"),
    "inf": (lambda t: ["--data", _csv(t, "a,y\n1,2\n3,inf\n5,6\n"), "--target", "y"], "NaN/inf"),
    "too few rows": (lambda t: ["--data", _csv(t, "a,y\n1,2\n3,4\n"), "--target", "y"], "at least 3"),
    "constant column": (lambda t: ["--data", _csv(t, "a,c,y\n1,0,2\n3,0,4\n5,0,7\n"), "--target", "y"],
                        "column(s) constant to 10 significant digits"),
    "ragged row": (lambda t: ["--data", _csv(t, "a,y\n1,2\n3\n5,6\n"), "--target", "y"], "has 1 fields"),
    "data without target": (lambda t: ["--data", _csv(t, "a,y\n1,2\n3,4\n5,6\n")], "needs --target"),
    "alpha zero": (lambda t: ["--alpha", "0"], "--alpha must be a positive"),
    "alpha negative": (lambda t: ["--alpha", "-1"], "--alpha must be a positive"),
    "tau zero": (lambda t: ["--prior-sd", "0"], "--prior-sd must be a positive"),
    "sigma negative": (lambda t: ["--noise-sd", "-2"], "--noise-sd must be a positive"),
    "sigma nan": (lambda t: ["--noise-sd", "nan"], "--noise-sd must be a positive"),
}  # fmt: skip


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_input_one_line_exit_2_nothing_written(case, tmp_path, capsys):
    args, message = BAD_INPUTS[case]
    out = tmp_path / "out"
    assert main(["ridge", "--quiet", "--out", str(out), *args(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and message in err and "\n" not in err, err
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_bad_input_from_the_command_line(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "experiments", "ridge", "--alpha", "-1", "--out", str(tmp_path / "o")],
        capture_output=True, text=True,
    )  # fmt: skip
    assert proc.returncode == 2
    assert proc.stderr.strip() == "error: --alpha must be a positive finite number, got -1"
    assert not (tmp_path / "o").exists()


def test_unknown_experiment():
    assert main(["nope"]) == 2


def test_front_page_takeaway_uses_this_runs_numbers_and_keeps_names_as_text(run_quick):
    import copy

    from experiments.report import inline
    from experiments.site import takeaway

    _, results = run_quick("ridge")
    text = takeaway({"ridge": results})
    assert f"**{max(results['max_rel_diff']):.1e}**" in text and "posterior correlation" in text
    hostile = copy.deepcopy(results)
    hostile["feature_names"] = ["**x**", "`y`"] * (len(results["feature_names"]) // 2)
    hostile["posterior"]["most_correlated"] = ["**x**", "`y`", -0.9]
    spans = inline(takeaway({"ridge": hostile}))
    plain = "".join(span.text for span in spans if span.kind == "text")
    assert "w[**x**]" in plain and "w[`y`]" in plain  # user text stays text, never markup
    assert [span.text for span in spans if span.kind == "b"] == [
        f"{max(results['max_rel_diff']):.1e}"
    ]


def test_exact_loo_pit_is_given_unless_a_leverage_rounds_to_one():
    # Data from the model: PITs in (0, 1), each the Normal cdf of the leave-one-out residual. A
    # column non-zero on one row only, 1e9 there, at alpha 1e-8: that row's leverage is
    # 1 - 1e-26, which rounds to 1, and the page must say it has no LOO-PIT rather than divide by 0.
    from experiments.ridge import exact_loo_pit
    from models import ridge
    from models.core.data import arrays

    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3))
    y = 1.0 + X @ np.array([1.0, -0.5, 0.0]) + rng.normal(size=60)
    md = arrays(X, y, ["a", "b", "c"], 1.0)
    pit = exact_loo_pit(md, *ridge.exact_posterior(X, y, ridge.alpha_to_prior_sd(1.0, 1.0), 1.0))
    assert pit.shape == (60,) and np.all((pit > 0) & (pit < 1))
    X[:, 2] = 0.0
    X[7, 2] = 1e9
    md = arrays(X, y, ["a", "b", "c"], 1.0)
    tau = ridge.alpha_to_prior_sd(1e-8, 1.0)
    assert exact_loo_pit(md, *ridge.exact_posterior(X, y, tau, 1.0)) is None


def test_the_evidence_paragraph_names_a_maximum_only_where_there_is_one():
    # maximise_evidence's edge flips the words: a maximum and "the type-II maximum likelihood
    # choice", or the search's edge, "no maximum" and the limit the evidence rises toward
    from experiments.ridge import _evidence_best

    inside = _evidence_best({"alpha": 0.03, "edge": None})
    assert "at its maximum alpha = 0.03" in inside and "type-II maximum likelihood choice" in inside
    for edge, limit in (("large", "infinity"), ("small", "goes to 0")):
        words = _evidence_best({"alpha": 3.8e13, "edge": edge})
        assert "no maximum" in words and limit in words and "at its maximum" not in words


def test_signs_come_from_the_exact_posterior_where_there_is_one(run_quick):
    # ridge's posterior is Gaussian in closed form: P(w > 0) = Phi(mean / sd) exactly, so two
    # identical columns can no longer land on different sides of a threshold by Monte Carlo noise
    from scipy import stats

    from experiments import report

    _, results = run_quick("ridge")
    post = results["posterior"]
    signs = post["signs"]
    assert signs["source"] == "exact posterior" and "(exact posterior)" in report.sentence(signs)
    exact = stats.norm.cdf(np.asarray(post["exact_mean"]) / np.asarray(post["exact_sd"]))
    each = signs["settled"] + signs["likely"] + signs["uncertain"]
    assert sorted(v["value"] for v in each) == sorted(exact.tolist())
