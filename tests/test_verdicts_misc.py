"""Flip tests of the verdict kinds of the lambda, knobs and scale pages: each fed data on both sides
of its threshold, each outcome's sentence rendered."""

from __future__ import annotations

import math

import numpy as np
import pytest

from experiments import verdicts
from experiments.report import sentence


def test_rank_uniformity_flips_at_its_alpha():
    ok = verdicts.rank_uniformity({"tau": 0.5, "sigma": verdicts.RANK_ALPHA})
    bad = verdicts.rank_uniformity({"tau": 0.5, "sigma": verdicts.RANK_ALPHA / 2})
    assert ok["outcome"] == "uniform" and ok["level"] == "green" and ok["subject"] == "sigma"
    assert bad["outcome"] == "non-uniform" and bad["level"] == "red" and bad["subject"] == "sigma"
    assert "chains agree" in sentence(ok) and "chains disagree" in sentence(bad)
    # two chains: ArviZ's test is degenerate (p = 1 whether they agree or not), so no claim
    two = verdicts.rank_uniformity({"tau": 1.0, "sigma": 1.0}, chains=2)
    assert two["outcome"] == "untested" and two["level"] == verdicts.INFO
    assert "not tested" in sentence(two) and "agree" not in sentence(two).split("(")[0]


def test_flat_flips_at_its_factor():
    flat = verdicts.flat("CV", 1e-3, 1e-3 * verdicts.FLAT_FACTOR, 9, 20)
    peaked = verdicts.flat("CV", 1e-3, 1e-3 * verdicts.FLAT_FACTOR * 0.99, 3, 20)
    assert (flat["outcome"], peaked["outcome"]) == ("flat", "peaked")
    assert "curve is flat" in sentence(flat) and "curve is peaked" in sentence(peaked)


def test_occam_flips_at_its_ratio():
    sharper = verdicts.occam(verdicts.OCCAM_RATIO * 0.5, 0.5, "interval")
    comparable = verdicts.occam(verdicts.OCCAM_RATIO * 0.5 * 0.99, 0.5, "interval")
    assert (sharper["outcome"], comparable["outcome"]) == ("sharper", "comparable")
    assert verdicts.occam(1.0, 0.0, "interval")["outcome"] == "sharper"  # a flat LOO: ratio inf
    assert "sharper" in sentence(sharper) and "comparable" in sentence(comparable)
    split = verdicts.occam(3.0, 1.0, "interval", [{"alpha": 0.01, "fit": 2.5, "occam": -5.0}])
    assert "fit +2.5, Occam (−½ log det) -5 nats" in sentence(split)
    assert "not the fit" not in sentence(split)  # the terms are stated, not read causally


def test_plug_in_flips_at_its_change():
    names = ["a", "b", "c"]
    little = verdicts.plug_in(names, [1.0, 1 + 0.99 * verdicts.PLUG_IN_CHANGE, 0.95], "alpha")
    matters = verdicts.plug_in(names, [1.0, 1.05, 1 - 1.01 * verdicts.PLUG_IN_CHANGE], "alpha")
    assert little["outcome"] == "little" and little["subject"] == "b"
    assert matters["outcome"] == "matters" and matters["subject"] == "c"
    assert "loses little" in sentence(little) and "misstates" in sentence(matters)


def test_contraction_flips_at_its_share():
    data = verdicts.contraction("log10 alpha", verdicts.CONTRACTION_MAX * 4, 4, "decades")
    prior = verdicts.contraction("log10 alpha", verdicts.CONTRACTION_MAX * 4.1, 4, "decades")
    assert (data["outcome"], prior["outcome"]) == ("data", "prior")
    assert (data["level"], prior["level"]) == (verdicts.GREEN, verdicts.AMBER)
    assert "not the prior" in sentence(data) and "prior still shapes" in sentence(prior)


def test_memory_scaling_flips_at_its_slope():
    rows = [1e4, 1e5, 1e6]
    bounded = verdicts.memory_scaling(rows, [400, 410, 400 * 100**verdicts.MEMORY_SLOPE_BOUNDED])
    grows = verdicts.memory_scaling(
        rows, [400, 900, 400 * 100 ** (verdicts.MEMORY_SLOPE_BOUNDED * 1.1)]
    )
    assert bounded["value"] == pytest.approx(verdicts.MEMORY_SLOPE_BOUNDED, rel=1e-12)
    assert bounded["outcome"] == "bounded" and bounded["level"] == "green"
    assert grows["outcome"] == "grows" and grows["level"] == "amber"
    # proportional memory: slope 1, whatever order the sizes come in
    linear = verdicts.memory_scaling([1e6, 1e4], [1000.0, 10.0])
    assert linear["value"] == pytest.approx(1.0) and linear["outcome"] == "grows"
    single = verdicts.memory_scaling([1e4], [400.0])
    assert single["outcome"] == "unmeasured" and math.isnan(single["value"])
    assert "bounded" in sentence(bounded) and "grows with the rows" in sentence(grows)
    assert "one size only" in sentence(single)
    # Above a measured idle baseline: 100 -> 328 MB over 100x the rows is slope 0.258, grows.
    above = verdicts.memory_scaling(rows, [700.0, 813.0, 928.0], baseline=600.0)
    assert above["increase"] == pytest.approx(228.0) and above["outcome"] == "grows"
    assert above["value"] == pytest.approx(np.log(3.28) / np.log(100))
    assert "grew **228 MB for 100 times the rows**" in sentence(above)
    assert "less than proportionally" in sentence(above) and "idle cluster's 600 MB" in sentence(
        above
    )
    flat = verdicts.memory_scaling(rows, [700.0, 700.0, 600 + 100 * 100**0.1], baseline=600.0)
    assert flat["outcome"] == "bounded"
    # readings at the idle value (0 above it) and 0.043 MB above: no measured growth (the scale
    # page's, which read "slope nan: memory grows"); 0 -> 50 MB is growth
    idle = 809.648
    none = verdicts.memory_scaling(rows, [idle, idle, idle + 0.043], baseline=idle)
    assert none["outcome"] == "bounded" and none["value"] == 0.0
    assert "slope 0" in sentence(none) and "read to 1 MB" in sentence(none)
    assert (
        verdicts.memory_scaling(rows, [idle, idle, idle + 50], baseline=idle)["outcome"] == "grows"
    )


def test_belief_is_a_per_weight_probability():
    v = verdicts.belief("Ridge alpha", 3.0, "tau", 31.18, 0.94, 58.64, "target units")
    text = sentence(v)
    assert "each weight has prior probability 0.94 of lying within ±58.6" in text
    assert "of weights" not in text


def test_decoupled_decay_flips_at_its_gap_and_bound():
    gap, bound, rates = verdicts.DECOUPLED_GAP, 1e-6, [0.1, 0.3, 1.0]

    def verdict(coupled, nearest, moved):
        return verdicts.decoupled_decay(rates, [coupled] * 3, [nearest, 0.4, 0.5], moved, bound)

    shown = verdict(bound, gap * 1.01, gap * 1.01)
    assert (shown["outcome"], shown["level"]) == ("not a prior", verdicts.GREEN)
    assert "Decoupled decay is not a prior" in sentence(shown) and "0.1, 0.3, 1" in sentence(shown)
    fixed = verdict(bound, gap * 1.01, gap)
    assert (fixed["outcome"], fixed["level"]) == ("fixed", verdicts.AMBER)
    assert "holds still" in sentence(fixed)
    at_map = verdict(bound, gap, gap * 2)
    assert (at_map["outcome"], at_map["level"]) == ("at the MAP", verdicts.RED)
    assert "not told apart" in sentence(at_map)
    off = verdict(bound * 1.01, gap * 2, gap * 2)
    assert (off["outcome"], off["level"]) == ("coupled off", verdicts.RED)
    assert "Not verified" in sentence(off)


def test_coverage_of_a_known_w_flips():
    # 20 coefficients at a nominal 0.94: 19 inside is calibrated, 12 under-covers
    assert verdicts.coverage("w", 19, 20, 0.94)["outcome"] == "consistent"
    assert verdicts.coverage("w", 12, 20, 0.94)["outcome"] == "under-covers"


def test_lambda_eti_is_invariant_under_log10():
    from experiments.choosing_lambda import eti

    draws = np.random.default_rng(0).lognormal(-3.5, 0.6, 2001)
    low, high = eti(draws)
    log_low, log_high = eti(np.log10(draws))
    # order statistics, no interpolation: the same draws, so equal to float round-off of log10
    assert (10**log_low, 10**log_high) == pytest.approx((low, high), rel=1e-12)
    assert np.mean(draws < low) == pytest.approx(0.03, abs=1e-3)
    assert np.mean(draws > high) == pytest.approx(0.03, abs=1e-3)


def test_lambda_flat_region_counts_both_criteria():
    from experiments.choosing_lambda import flat_region

    grid = np.geomspace(1e-3, 1e2, 6)
    curves = {"cv_mse": [5.0, 2.0, 1.0, 1.5, 1.9, 9.0], "cv_mse_diff_se": [1, 1, 0, 1, 1, 1],
              "exact": [-9.0, -2.0, -1.0, -1.5, -10.0, -9.0],
              "exact_diff_se": [1, 1, 0, 1, 1, 1]}  # fmt: skip
    v = flat_region(curves, grid)
    # within 2 SE by CV: indices 1-4; by LOO: 1-3; both: 1-3, a factor 100 >= 10
    assert v["count"] == 3 and v["low"] == grid[1] and v["high"] == grid[3]
    assert v["outcome"] == "flat"


def test_the_lasso_page_calls_the_mode_sparse_only_when_it_has_zeros():
    from experiments.lasso import sparsity_heading

    assert sparsity_heading(3, 0) == "**The mode is sparse, the posterior is not.**"
    assert "neither the mode nor the posterior is sparse" in sparsity_heading(0, 0)
    assert "both have exact zeros" in sparsity_heading(2, 1)


def test_the_lambda_page_says_point_choices_differ_only_when_their_quantiles_do():
    # the five choices' posterior quantiles of alpha 0.65-0.66 (a pure-noise CSV) are together;
    # 0.1 and 0.9 are apart; the threshold itself counts as apart
    from experiments.choosing_lambda import CHOICE_QUANTILE_SPREAD, choices_heading

    assert "land close together" in choices_heading([0.65, 0.66, 0.655, 0.652, 0.66])
    assert "land in different places" in choices_heading([0.1, 0.5, 0.9])
    assert "different places" in choices_heading([0.3, 0.3 + CHOICE_QUANTILE_SPREAD])
