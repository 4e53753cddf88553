"""Flip tests of the penalty family's verdict kinds: mode_vs_mean and effective_prior, fed small
synthetic numbers on both sides of each threshold."""

from __future__ import annotations

import numpy as np
import pytest

from experiments import report, verdicts
from experiments.family import _shapes


def test_mode_vs_mean_flips_at_a_tenth_of_an_sd():
    names, sd, mcse = ["a", "b"], [2.0, 2.0], [0.01, 0.01]  # 2 MCSE / sd = 0.01 < 0.1
    equal = verdicts.mode_vs_mean(names, [1.0, 1.19], [1.0, 1.0], sd, mcse, "scikit-learn's Lasso")
    assert equal["outcome"] == "equal" and equal["subject"] == "b"
    assert equal["value"] == pytest.approx(0.095) and equal["threshold"] == verdicts.MODE_MEAN_SD
    apart = verdicts.mode_vs_mean(names, [1.0, 1.21], [1.0, 1.0], sd, mcse, "scikit-learn's Lasso")
    assert apart["outcome"] == "apart" and apart["apart"] == ["b"]
    assert "Mode = mean" in report.sentence(equal)
    text = report.sentence(apart)
    assert "Mode is not mean" in text and "1 of 2" in text and "reports the mode only" in text


def test_mode_vs_mean_bound_grows_with_the_monte_carlo_error():
    # A gap of 0.3 sd is apart at a small MCSE, not when 2 MCSE / sd = 0.4 exceeds it.
    small = verdicts.mode_vs_mean(["a"], [0.3], [0.0], [1.0], [0.01])
    noisy = verdicts.mode_vs_mean(["a"], [0.3], [0.0], [1.0], [0.2])
    assert small["outcome"] == "apart" and noisy["outcome"] == "equal"
    assert noisy["threshold"] == pytest.approx(0.4)
    assert "reports the mode" not in report.sentence(small)  # no twin: no estimator named


@pytest.mark.parametrize(
    ("typical", "outcome"),
    [(4.1, "gaussian"), (3.9, "mixed"), (1.1, "mixed"), (0.9, "laplace")],
)
def test_effective_prior_flips_at_a_factor_of_two(typical, outcome):
    # tau = 1, b = 1: crossover 2 tau^2 / b = 2; the Laplace / Normal ratio at |w| is 2 / |w|.
    v = verdicts.effective_prior(1.0, 1.0, typical)
    assert v["outcome"] == outcome and v["crossover"] == 2.0
    assert (
        v["value"] == pytest.approx(2.0 / typical) and v["threshold"] == verdicts.PRIOR_TERM_RATIO
    )
    word = {"gaussian": "effectively Gaussian", "laplace": "effectively Laplace"}
    assert word.get(outcome, "Both terms") in report.sentence(v)


def test_skewness_verdict_of_the_densities_uses_an_mcse_of_sqrt_6_over_ess():
    rng = np.random.default_rng(0)
    draws = np.column_stack([rng.normal(size=4000), rng.exponential(size=4000)])  # skewness 0, 2
    shapes = _shapes(["normal", "exponential"], draws, [4000.0, 4000.0])
    np.testing.assert_allclose(shapes["skewness_se"], np.sqrt(6 / 4000))
    assert shapes["n_skewed"] == 1 and shapes["shape"]["subject"] == "exponential"
    assert shapes["shape"]["outcome"] == "right-skewed"
    gaussian = _shapes(["normal"], draws[:, :1], [4000.0])
    assert gaussian["n_skewed"] == 0 and gaussian["shape"]["outcome"] == "gaussian"


def test_check_2_heads_the_mode_column_map_equals_sklearn_only_when_this_fit_shows_it():
    # a Lasso on a duplicated column: scikit-learn splits the weight 0.21 / 0.04, the certified
    # MAP 0.13 / 0.13 (same L1 norm, another minimiser); equal fits within the bound, certified
    from experiments.family import map_is_sklearn
    from models import lasso, poisson

    split = {"map": np.array([0.1281, 0.1281]), "sklearn": np.array([0.2119, 0.0442]),
             "map_certified": True}  # fmt: skip
    same = {**split, "sklearn": split["map"] * (1 + 0.1 * lasso.SPEC.family.map_bound)}
    assert not map_is_sklearn(lasso.SPEC, split)
    assert map_is_sklearn(lasso.SPEC, same)
    assert not map_is_sklearn(lasso.SPEC, {**same, "map_certified": False})
    assert map_is_sklearn(poisson.SPEC, same) == poisson.SPEC.has_twin
