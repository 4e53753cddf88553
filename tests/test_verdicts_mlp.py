"""Flip tests of the mlp page's verdict kinds: each fed numbers on both sides of its threshold,
each outcome's sentence rendered."""

from __future__ import annotations

from experiments import verdicts
from experiments.report import sentence


def test_network_mode_flips_on_movement_curvature_and_certificate():
    bound = verdicts.MODE_SLACK * 1e-4
    stays = verdicts.network_mode("the fit", bound, 1e-4, 1e-6, 0.3, True)
    away = verdicts.network_mode("the fit", bound * 1.01, 1e-4, 1e-6, 0.3, True)
    saddle = verdicts.network_mode("the fit", 0.0, 1e-4, 0.0, -0.1, True)
    uncertified = verdicts.network_mode("the fit", 0.0, 1e-4, 0.0, 0.3, False)
    assert [v["outcome"] for v in (stays, away, saddle, uncertified)] == [
        "mode", "not a mode", "not a mode", "not a mode"]  # fmt: skip
    assert "is a local mode" in sentence(stays) and "not shown" in sentence(away)
    assert "not positive definite" in sentence(saddle) and "not certified" in sentence(uncertified)


def test_distinct_modes_flips_at_two():
    one = verdicts.distinct_modes("the net", 1, 8, -3.0, -3.0)
    several = verdicts.distinct_modes("the net", 3, 8, -3.0, -9.5)
    assert (one["outcome"], several["outcome"]) == ("one", "several")
    assert "**One mode**" in sentence(one) and "**3 distinct modes**" in sentence(several)


def test_symmetric_rhat_separates_symmetry_from_distinct_modes():
    mixed = verdicts.symmetric_rhat(verdicts.RHAT_MAX, verdicts.RHAT_MAX, 1, 4)
    symmetry = verdicts.symmetric_rhat(1.8, verdicts.RHAT_MAX, 1, 4)
    modes = verdicts.symmetric_rhat(1.8, 1.5, 3, 4)
    stuck = verdicts.symmetric_rhat(1.8, 1.5, 1, 4)
    assert [v["outcome"] for v in (mixed, symmetry, modes, stuck)] == [
        "mixed", "symmetry only", "different modes", "not mixed"]  # fmt: skip
    assert stuck["level"] == verdicts.RED and modes["level"] == verdicts.AMBER
    assert "chains mixed" in sentence(mixed) and "symmetries alone" in sentence(symmetry)
    assert "3 distinct modes" in sentence(modes) and "have not mixed" in sentence(stuck)


def test_widening_flips_at_its_ratio():
    widens = verdicts.widening("predictive band", 0.1, 0.1 * verdicts.WIDENING_RATIO)
    flat = verdicts.widening("predictive band", 0.1, 0.1 * verdicts.WIDENING_RATIO * 0.99)
    assert (widens["outcome"], flat["outcome"]) == ("widens", "flat")
    assert "widens away" in sentence(widens) and "does not widen" in sentence(flat)
    width = verdicts.widening("interval of P(y = 1)", 0.2, 0.5, measure="width")
    assert "median width 0.5" in sentence(width)
