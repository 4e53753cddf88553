"""Prior sensitivity: the log prior psense sees is the one that was sampled; the experiment."""

from __future__ import annotations

import monte_carlo
import numpy as np
import pytest
from figures import assert_has_content
from scipy import stats

from experiments.__main__ import main
from experiments.sensitivity import power_scaling
from models import ridge
from models.core.data import arrays
from models.inference.engines import PosteriorSampler


def test_power_scaling_uses_the_sampled_prior(diabetes):
    """nutpie's with_data leaves the PyMC model's pm.Data at its default; psense must not."""
    X, y, names = diabetes
    data = arrays(X, y, names, 54.0)
    model = ridge.build(data)
    dt = PosteriorSampler(model).sample({"prior_sd": 123.0}, draws=100, tune=200, chains=2, seed=1)
    result = power_scaling(dt, model, {"prior_sd": 123.0}, ridge.SPEC, data)
    # the pointwise log-likelihood, computed from the draws (the likelihood is written in
    # sufficient statistics), sums over rows to the model's own likelihood term: same function
    first = {"intercept": dt["posterior"]["intercept"].values[0, 0], "w": w_first(dt)}
    total = model.compile_logp(vars=[model["likelihood"]], jacobian=False)
    np.testing.assert_allclose(
        dt["log_likelihood"]["y"].values[0, 0].sum(), total(first), rtol=1e-10
    )
    w = dt["posterior"]["w"].values
    # Same formula, same floats: agreement to round-off.
    np.testing.assert_allclose(
        dt["log_prior"]["w"].values, stats.norm.logpdf(w, 0, 123.0), rtol=1e-12
    )
    assert len(result["prior"]) == len(names) and set(result["diagnosis"]) <= {
        "ok", "potential prior-data conflict", "potential strong prior / weak likelihood"
    }  # fmt: skip


def w_first(dt):
    return dt["posterior"]["w"].values[0, 0]


def test_sensitivity_experiment(run_quick):
    out, results = run_quick("sensitivity")
    assert set(results["models"]) == {"ridge", "logistic", "lasso"}
    monte_carlo.sensitivity(results)
    size = results["data_size"]
    median_width = size["posterior_sd_over_prior_sd"][1]
    assert size["sizes"][0] == 20 and size["sizes"][-1] == 442
    assert np.all(np.diff(median_width) < 0)  # exact posteriors: more rows, narrower, every step
    # Exact numbers, no Monte Carlo: at n = 442 every subsample is the whole data set, and its
    # ridge MAP is 0.27 of the OLS norm from OLS, above the 0.05 at which the prior stops mattering.
    assert size["washout"]["outcome"] == "still matters"
    assert size["washout"]["value"] == pytest.approx(size["map_distance_from_ols"][1][-1])
    # OLS's bmi (~520, standard error ~66) is ~5.0 sds of its prior predictive from 0 at the
    # tight ridge prior (sd ~79.5), ~0.07 at the loose one (sd ~7950): a conflict only at the tight
    # width. s1 (-792, standard error ~408) is 10 prior sds out but only ~1.9 such sds: no conflict.
    ridge_widths = results["models"]["ridge"]["widths"]
    assert "bmi" in ridge_widths["tight"]["conflicts"]["conflicting"]
    assert "s1" not in ridge_widths["tight"]["conflicts"]["conflicting"]
    assert ridge_widths["loose"]["conflicts"]["outcome"] == "compatible"
    # Breast cancer is linearly separable: no maximum-likelihood estimate to measure conflict with.
    assert results["models"]["logistic"]["separation"]["outcome"] == "separable"
    assert "conflicts" not in results["models"]["logistic"]["widths"]["tight"]
    box = results["verdict_box"]
    # The claim, on the exact ridge posteriors: the prior choice moves some posterior mean by more
    # than a loose-posterior sd (OLS-scale coefficients pulled to a tight prior sd of ~80).
    assert box["verified"]["kind"] == "prior_moves" and box["verified"]["outcome"] == "moves"
    assert any(c["kind"] == "mcmc_vs_reference" for c in box["checks"])
    # At all rows the prior moves the coefficients but not (measurably) the exact LOO prediction.
    assert size["washout"]["largest_is_all"]
    assert size["prediction"]["kind"] == "comparison"
    assert [c["label"] for c in box["checks"][:3]] == [
        f"Prior sensitivity ({name})" for name in ("ridge", "logistic", "lasso")
    ]
    assert (out / "index.html").stat().st_size > 0
    for figure in ("data_size.png", "prior_posterior_ridge.png", "prior_posterior_logistic.png",
                   "prior_posterior_lasso.png"):  # fmt: skip
        assert_has_content(out / figure)


def test_sensitivity_rejects_user_data(tmp_path, capsys):
    assert main(["sensitivity", "--quiet", "--data", "x.csv", "--target", "y",
                 "--out", str(tmp_path / "o")]) == 2  # fmt: skip
    assert "--data is not supported" in capsys.readouterr().err
