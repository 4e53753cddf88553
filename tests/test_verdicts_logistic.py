"""Flip tests of the logistic pages' verdict kinds (experiments/logistic.py, experiments/twin.py):
each is fed data on both sides of its threshold, and its sentence is rendered for every outcome."""

from __future__ import annotations

import math

import numpy as np
import pytest

from experiments import report, verdicts
from experiments.logistic import binned_calibration, calibration_verdict, row_log_loss
from experiments.twin import interval_score, paired


def test_probability_shift_flips_at_its_threshold():
    just_below = verdicts.PROBABILITY_SHIFT * 0.99
    quiet = verdicts.probability_shift(0, 0, 100, just_below)
    assert quiet["outcome"] == "negligible"
    moved = verdicts.probability_shift(1, 0, 100, verdicts.PROBABILITY_SHIFT * 1.01)
    flipped = verdicts.probability_shift(0, 1, 100, just_below)
    assert moved["outcome"] == flipped["outcome"] == "material"
    assert "no prediction that matters" in report.sentence(quiet)
    assert "1 of 100 probabilities" in report.sentence(moved)
    assert "class at 0.5 of **1** rows" in report.sentence(flipped)


def test_interval_width_none_flagged_hidden():
    wide, narrow = verdicts.WIDE_INTERVAL * 1.01, verdicts.WIDE_INTERVAL * 0.99
    unsure, sure = 0.5, verdicts.CONFIDENT / 2
    none = verdicts.interval_width("rows", [narrow, narrow], [unsure, sure], 0.94)
    flagged = verdicts.interval_width("rows", [wide, narrow], [unsure, sure], 0.94)
    hidden = verdicts.interval_width("rows", [wide, wide], [unsure, 1 - sure], 0.94)
    assert [v["outcome"] for v in (none, flagged, hidden)] == ["none wide", "flagged", "hidden"]
    assert (flagged["value"], flagged["hidden"]) == (1, 0) and (
        hidden["value"],
        hidden["hidden"],
    ) == (2, 1)
    assert "No wide probability intervals" in report.sentence(none)
    assert "flags them too" in report.sentence(flagged)
    assert "does not show that the data leave them uncertain" in report.sentence(hidden)
    assert "fragile" not in report.sentence(hidden)  # no claim without the outcomes
    assert "94% interval" in report.sentence(hidden)


def test_interval_width_reports_the_hidden_rows_outcomes():
    wide, narrow = verdicts.WIDE_INTERVAL * 1.01, verdicts.WIDE_INTERVAL * 0.99
    sure = verdicts.CONFIDENT / 2
    # two hidden rows (wide, plug-in 0.025): one wrong (y = 1), one right; one other row
    v = verdicts.interval_width("rows", [wide, wide, narrow], [sure, sure, 0.5], 0.94, [1, 0, 1])
    assert (v["hidden"], v["hidden_errors"], v["n_rest"]) == (2, 1, 1)
    expected = (-np.log(sure) - np.log1p(-sure)) / 2
    assert v["hidden_log_loss"] == pytest.approx(expected, rel=1e-12)
    assert v["rest_log_loss"] == pytest.approx(np.log(2), rel=1e-12)
    assert "misclassifies 1 of the 2" in report.sentence(v)
    # the same rows, both right: no error reported
    right = verdicts.interval_width(
        "rows", [wide, wide, narrow], [sure, sure, 0.5], 0.94, [0, 0, 1]
    )
    assert right["hidden_errors"] == 0 and "misclassifies 0 of the 2" in report.sentence(right)


def test_pava_grades_the_binomial_tail_of_the_count_outside():
    n, prob = 1000, 0.94
    # Binomial(1000, 0.06): mean 60; P(X >= 73) = 0.051, P(X >= 74) = 0.039; P(X >= 78) = 0.012,
    # P(X >= 79) = 0.0087
    tails = {k: verdicts.pava("PAV", k, n, prob) for k in (60, 61, 73, 74, 78, 79)}
    assert [v["level"] for v in tails.values()] == ["green", "green", "green", "amber", "amber",
                                                    "red"]  # fmt: skip
    # a share just above 1 - prob (61 rows, 6.1%) is what half of calibrated curves show: green
    assert tails[61]["share"] > 1 - prob
    assert tails[74]["value"] == pytest.approx(
        1 - sum(math.comb(n, j) * 0.06**j * 0.94 ** (n - j) for j in range(74)), rel=1e-9
    )
    for k, word in ((0, "consistent with calibration"), (74, "borderline"), (n, "miscalibrated")):
        assert f"PAV: {word}." in report.sentence(verdicts.pava("PAV", k, n, prob))
    assert "not independent" in report.sentence(tails[74])


def test_pava_is_not_assessed_when_psis_loo_is_unreliable():
    reliable, unreliable = verdicts.pareto_k(0, 569), verdicts.pareto_k(46, 569)
    graded = verdicts.pava("PAV, leave-one-out", 200, 569, 0.94, loo=reliable)
    skipped = verdicts.pava("PAV, leave-one-out", 200, 569, 0.94, loo=unreliable)
    assert graded["level"] == "red"
    assert (skipped["outcome"], skipped["level"]) == ("not assessed", "info")
    assert "unreliable for 46 of 569" in report.sentence(skipped)
    amber = verdicts.pava("PAV", 200, 569, 0.94, loo=verdicts.pareto_k(1, 569))
    assert amber["outcome"] == "not assessed"


def test_calibration_bins_binomial_tail_flips():
    # 10 bins at 94%: P(X >= 2) = 0.118 (green), P(X >= 3) = 0.0188 (amber), P(X >= 4) = 0.002 (red)
    outcomes = [verdicts.calibration_bins(k, 10, 0.94) for k in range(5)]
    assert [v["level"] for v in outcomes] == ["green", "green", "green", "amber", "red"]
    assert outcomes[2]["value"] == pytest.approx(1 - 0.94**10 - 10 * 0.06 * 0.94**9, rel=1e-12)
    assert "none of the 10 bins" in report.sentence(outcomes[0])
    assert "Borderline calibration" in report.sentence(outcomes[3])
    assert "Miscalibrated" in report.sentence(outcomes[4])


def test_calibration_verdict_counts_bins_off_the_diagonal():
    rng = np.random.default_rng(1)
    prob = rng.uniform(0, 1, 4000)
    calibrated = (rng.random(4000) < prob).astype(float)
    assert calibration_verdict(binned_calibration(calibrated, prob))["excluding"] <= 2
    # predictions pushed halfway to 0.5 (into six bins): the true frequency is off the diagonal by
    # |p - 0.5|, about 3 standard errors or more in most bins
    shrunk = calibration_verdict(binned_calibration(calibrated, 0.5 + (prob - 0.5) / 2))
    assert shrunk["level"] == "red"  # seed 1: 5 of 6 bins, tail 4e-6


def test_row_log_loss_averages_to_scikit_learns():
    from sklearn.metrics import log_loss

    y = np.array([0, 1, 1, 0, 1], float)
    prob = np.array([0.1, 0.8, 1.0, 0.0, 0.3])  # exact 0 and 1 are clipped as scikit-learn does
    assert np.mean(row_log_loss(y, prob)) == pytest.approx(log_loss(y, prob), rel=1e-12)


def test_paired_comparison_flips_at_two_standard_errors():
    rng = np.random.default_rng(2)
    noise = rng.normal(size=400)
    base = rng.normal(size=400)
    se = np.std(noise, ddof=1) / np.sqrt(400)
    # shift the per-row difference's mean to 1.5 and 2.5 standard errors
    for k, outcome in ((1.5, "indistinguishable"), (2.5, "second")):
        first = base + noise - noise.mean() + k * se
        v = paired("score", "a", "b", first, base)
        assert v["outcome"] == outcome and v["value"] == pytest.approx(k * se)


def test_interval_score_is_width_plus_penalised_misses():
    low, high = np.array([0.0, 0.0, 0.0]), np.array([1.0, 1.0, 1.0])
    y = np.array([0.5, -0.1, 1.2])
    expected = 1 + 2 / 0.06 * np.array([0.0, 0.1, 0.2])
    np.testing.assert_allclose(interval_score(y, low, high, 0.94), expected, rtol=1e-12)
