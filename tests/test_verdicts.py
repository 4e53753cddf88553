"""Every kind of verdict flips where its threshold says, and its sentence says what holds.

Each test feeds numbers on both sides of a threshold (experiments/verdicts.py) and reads the
rendered sentence (templates/verdicts.txt.j2): a page can only say what its numbers show.
"""

from __future__ import annotations

import numpy as np
import pytest

from experiments import verdicts
from experiments.report import sentence


@pytest.mark.parametrize(
    ("p", "outcome", "direction"),
    [
        (0.06, "likely", "negative"),  # the ridge s1: not sign-uncertain
        (0.02, "settled", "negative"),
        (0.04, "likely", "negative"),  # 0 inside the central 94% interval: not settled
        (0.975, "settled", "positive"),
        (0.96, "likely", "positive"),
        (0.93, "likely", "positive"),
        (0.91, "likely", "positive"),
        (0.5, "uncertain", "positive"),
        (0.79, "uncertain", "positive"),
        (0.21, "uncertain", "negative"),
    ],
)
def test_sign_is_worded_from_the_probability(p, outcome, direction):
    v = verdicts.sign("s1", p)
    assert (v["outcome"], v["direction"]) == (outcome, direction)
    text = sentence(v)
    assert ("cannot tell the sign" in text) == (outcome == "uncertain")
    assert "s1" in text


def test_signs_counts_each_group_and_names_the_doubtful():
    v = verdicts.signs(["a", "b", "c", "d"], [0.99, 0.06, 0.5, 0.01])
    assert len(v["settled"]) == 2 and [s["subject"] for s in v["likely"]] == ["b"]
    assert [s["subject"] for s in v["uncertain"]] == ["c"]
    text = sentence(v)
    assert "2 of 4" in text and "cannot tell the sign" in text and "1 is likely" in text
    assert "2 are likely" in sentence(verdicts.signs(["a", "b"], [0.06, 0.93]))
    settled = sentence(verdicts.signs(["a", "b"], [0.99, 0.001]))
    assert "cannot tell" not in settled and "2 of 2" in settled


def test_user_names_stay_text_in_sentences():
    text = sentence(verdicts.sign("**x**`y`", 0.5))
    assert r"\*\*x\*\*\`y\`" in text  # escaped for the inline marks: shown, never bold or code


@pytest.mark.parametrize(
    ("p", "level"), [(0.5, "green"), (0.96, "amber"), (0.03, "amber"), (0.995, "red"), (0.0, "red")]
)
def test_ppc_pvalue_is_two_sided(p, level):
    assert verdicts.ppc_pvalue("skewness", p, 1.0, [0.0, 0.5])["level"] == level


def test_a_p_value_of_zero_is_bounded_by_the_number_of_replications():
    text = sentence(verdicts.ppc_pvalue("minimum", 0.0, 25, [-100, -40], draws=8000))
    assert "p < 1.25e-04" in text and "p = 0" not in text
    assert "p = 0.400" in sentence(verdicts.ppc_pvalue("minimum", 0.4, 25, [-100, 40], draws=8000))


def test_probabilities_are_not_rounded_across_a_threshold():
    v = verdicts.signs(["s4"], [0.795])
    assert "0.795" in sentence(v) and "0.80 " not in sentence(v)


def test_predictive_check_takes_the_worst_statistic():
    ok = [verdicts.ppc_pvalue(n, 0.4, 0, [0, 1]) for n in ("a", "b")]
    assert verdicts.predictive_check(ok)["outcome"] == "passes"
    assert "passes" in sentence(verdicts.predictive_check(ok))
    bad = [*ok, verdicts.ppc_pvalue("minimum", 1.0, 25, [-100, -40])]
    v = verdicts.predictive_check(bad)
    assert (v["outcome"], v["worst"], v["failing"]) == ("fails", "minimum", ["minimum"])
    assert "fails" in sentence(v) and "minimum" in sentence(v)
    # a borderline statistic beside a failing one is named as borderline, not as failing
    mixed = verdicts.predictive_check([*bad, verdicts.ppc_pvalue("spread", 0.988, 1, [0, 2])])
    assert (mixed["failing"], mixed["borderline"]) == (["minimum"], ["spread"])
    assert "fails** on minimum (" in sentence(mixed) and "; borderline on spread" in sentence(mixed)
    # the worst p of 8000 replications, none reaching T(y), is not "p = 0"
    none = verdicts.predictive_check([*ok, verdicts.ppc_pvalue("minimum", 0.0, 25, [1, 2], 8000)])
    assert "worst: minimum, p < 1.25e-04 (none of 8000 replications)" in sentence(none)


def test_prior_data_conflict_flips_at_three_prior_sds():
    assert verdicts.prior_conflict("bmi", 6.5, 79.5)["outcome"] == "conflict"
    assert verdicts.prior_conflict("bmi", 2.9, 79.5)["outcome"] == "compatible"
    v = verdicts.prior_conflicts(["bmi", "age"], [6.5, -0.1], 79.5)
    assert v["conflicting"] == ["bmi"] and "conflict" in sentence(v)
    v = verdicts.prior_conflicts(["bmi", "age"], [0.65, -0.1], 795.0)
    assert v["outcome"] == "compatible" and "No prior-data conflict" in sentence(v)


def test_diagnostics_name_the_failing_fit():
    rows = [{"fit": "a", "ok": True}, {"fit": "<b>", "ok": False}]
    v = verdicts.diagnostics(rows)
    assert v["level"] == "red" and v["failed"] == ["<b>"]
    assert "fail" in sentence(v)
    assert verdicts.diagnostics(rows[:1])["level"] == "green"


def test_shape_uses_the_larger_of_the_bound_and_monte_carlo_error():
    assert verdicts.shape("w", 0.05, 0.01)["outcome"] == "gaussian"
    assert verdicts.shape("w", 0.3, 0.01)["outcome"] == "right-skewed"
    assert verdicts.shape("w", -0.3, 0.01)["outcome"] == "left-skewed"
    assert verdicts.shape("w", 0.3, 0.2)["outcome"] == "gaussian"  # within 2 MCSE: noise


def test_coverage_flips_with_the_clopper_pearson_interval():
    assert verdicts.coverage("rows", 419, 442, 0.94)["outcome"] == "consistent"
    assert "consistent" in sentence(verdicts.coverage("rows", 419, 442, 0.94))
    assert verdicts.coverage("rows", 380, 442, 0.94)["outcome"] == "under-covers"
    assert verdicts.coverage("rows", 442, 442, 0.94)["outcome"] == "over-covers"
    assert "under-cover" in sentence(verdicts.coverage("rows", 380, 442, 0.94))


def test_comparison_needs_two_standard_errors():
    # the held-out log loss: posterior 0.0580 vs plug-in 0.0515
    v = verdicts.comparison("log loss", "posterior", "plug-in", 0.0065, 0.004, True)
    assert v["outcome"] == "indistinguishable" and "no difference" in sentence(v)
    v = verdicts.comparison("log loss", "posterior", "plug-in", 0.0065, 0.002, True)
    assert v["winner"] == "plug-in"
    v = verdicts.comparison("lpd", "posterior", "plug-in", 0.0065, 0.002, False)
    assert v["winner"] == "posterior"
    # two methods that chose the same alpha: the same predictions, difference and se both 0
    for zero in (0.0, -0.0):
        v = verdicts.comparison("lpd", "PSIS-LOO best", "RidgeCV", zero, 0.0, False)
        assert v["outcome"] == "indistinguishable" and v["winner"] is None
    assert verdicts.comparison("lpd", "a", "b", 1e-9, 0.0, False)["winner"] == "a"


def test_pareto_k_levels():
    assert verdicts.pareto_k(0, 500)["level"] == "green"
    assert verdicts.pareto_k(5, 500)["level"] == "amber"
    assert verdicts.pareto_k(46, 569)["level"] == "red"
    assert "unreliable for 46 of 569" in sentence(verdicts.pareto_k(46, 569))


def test_agreement_needs_the_bound_and_a_certificate():
    assert verdicts.agreement("MAP = Ridge", 1.6e-13, 1e-8)["outcome"] == "verified"
    assert verdicts.agreement("MAP = Ridge", 2e-8, 1e-8)["outcome"] == "failed"
    v = verdicts.agreement("MAP = Ridge", 1e-13, 1e-8, certified=False)
    assert v["level"] == "red" and "could not certify" in sentence(v)


@pytest.mark.parametrize("kind", ["sensitivity", "mcmc_vs_exact", "inside"])
def test_the_other_kinds_flip(kind):
    pairs = {
        "sensitivity": (verdicts.sensitivity(0, 10, 0.05, "sd 1"),
                        verdicts.sensitivity(3, 10, 0.05, "sd 1")),
        "mcmc_vs_exact": (verdicts.mcmc_vs_exact(1.2, 4), verdicts.mcmc_vs_exact(5.0, 4)),
        "inside": (verdicts.inside("alpha", 0.03, 0.01, 0.06, 0.94),
                   verdicts.inside("alpha", 0.0046, 0.009, 0.07, 0.94)),
    }  # fmt: skip
    first, second = pairs[kind]
    assert first["outcome"] != second["outcome"]
    assert sentence(first) != sentence(second)


def test_every_verdict_is_plain_json():
    import json

    v = verdicts.signs(["a"], [np.float64(0.3)])
    assert json.loads(json.dumps(v)) == v


def test_long_sign_lists_are_cut_with_a_count():
    v = verdicts.signs([f"x{i}" for i in range(20)], np.linspace(0.3, 0.7, 20))
    text = sentence(v)
    assert "for 20 the data cannot tell the sign" in text and "and 14 more" in text
    assert "x5 " in text and "x6 " not in text


def test_quantile_share_flips_with_the_clopper_pearson_interval():
    # 442 rows at q = 0.9: 398 below (90.0%) is consistent; 370 (83.7%) is a line too low, 425
    # (96.2%) one too high
    assert verdicts.quantile_share("q = 0.9", 398, 442, 0.9)["outcome"] == "consistent"
    assert "**consistent**" in sentence(verdicts.quantile_share("q = 0.9", 398, 442, 0.9))
    low = verdicts.quantile_share("q = 0.9", 370, 442, 0.9)
    assert low["outcome"] == "too low" and "**too low**" in sentence(low)
    high = verdicts.quantile_share("q = 0.9", 425, 442, 0.9)
    assert high["outcome"] == "too high" and "**too high**" in sentence(high)
