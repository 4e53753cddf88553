"""Flip tests of the kernel_ridge page's verdict kinds: each fed data on both sides of its
threshold, each outcome's sentence rendered."""

from __future__ import annotations

from experiments import verdicts
from experiments.report import sentence


def test_band_widening_flips_at_its_factor():
    factor = verdicts.WIDEN_FACTOR
    widens = verdicts.band_widening(0.1, 0.1 * factor, 0.1 * factor * 3)
    flat = verdicts.band_widening(0.1, 0.1 * factor * 0.99, 0.1 * factor * 3)
    assert (widens["outcome"], flat["outcome"]) == ("widens", "flat")
    assert widens["value"] == factor  # the smaller of the two ratios decides
    assert "band widens" in sentence(widens) and "does not widen" in sentence(flat)


def test_hyperparameter_modes_flips_at_r_hat_and_correlation():
    high = verdicts.MODES_R_HAT + 0.01
    strong, weak = verdicts.CORRELATION_STRONG, verdicts.CORRELATION_STRONG * 0.99
    multimodal = verdicts.hyperparameter_modes("here", "length_scale", high, 0.0)
    ridge = verdicts.hyperparameter_modes("here", "amplitude", verdicts.MODES_R_HAT, -strong)
    identified = verdicts.hyperparameter_modes("here", "amplitude", 1.0, weak)
    assert (multimodal["outcome"], ridge["outcome"], identified["outcome"]) == (
        "multimodal", "ridge", "identified")  # fmt: skip
    assert multimodal["level"] == "amber"
    assert "multimodal or not mixed" in sentence(multimodal) and "length_scale" in sentence(
        multimodal
    )
    assert "not separately identified" in sentence(ridge) and "-0.50" in sentence(ridge)
    assert "are identified" in sentence(identified)
