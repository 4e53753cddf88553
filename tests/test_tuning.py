"""The tuning policy (models.inference.engines.tuning_iterations) and the benchmark verdict behind
it (benchmarks.tuning): names that exist, and a verdict that flips with the ESS."""

from __future__ import annotations

import pytest

from benchmarks import tuning
from models import registry
from models.inference.engines import LONG_TUNING, TUNE, TUNE_LONG, tuning_iterations


def test_the_long_tuning_names_posteriors_the_benchmark_measures():
    # a misspelt name would silently give that model the short tuning; the network is the one
    # posterior the benchmark does not measure
    measured = set(registry()) | set(tuning.EXTRA_SHAPES)
    assert not LONG_TUNING - measured - {"mlp"}, "a name the benchmark does not measure"
    assert tuning_iterations("horseshoe") == TUNE_LONG and tuning_iterations("ridge") == TUNE
    assert TUNE < TUNE_LONG


def _fits(bulk: float, tail: float) -> list[dict]:
    return [{"min_ess_bulk": bulk, "min_ess_tail": tail}] * 2


@pytest.mark.parametrize(
    ("bulk", "tail", "enough"),
    [
        (1000.0, 800.0, True),  # the same ESS
        (900.0, 700.0, True),  # within the seed-to-seed spread
        (800.0, 800.0, False),  # bulk ESS 20% lower: the adaptation had not settled
        (1000.0, 640.0, False),  # the tails alone are worse (the Bayesian Lasso's case)
    ],
)
def test_short_tuning_is_enough_only_with_as_much_bulk_and_tail_ess(bulk, tail, enough):
    assert tuning.settled(_fits(bulk, tail), _fits(1000.0, 800.0)) is enough
