"""Experiment ``gamma``: GammaRegressor(alpha) is the MAP of a Gamma log-linear model, on diabetes
by default, with the reference alpha's cross-validation and the Gaussian ridge model beside it
(:mod:`experiments.glm`).

    python -m experiments gamma [--alpha A | --prior-sd TAU] [--data FILE.csv --target COL]
"""

from __future__ import annotations

from experiments import glm
from experiments.family import penalty_experiment
from experiments.runner import Card
from models import gamma


def card(results: dict) -> Card:
    """Check 1's agreement, the replicated values below 0 and PSIS-LOO against ridge."""
    versus = results["versus_ridge"]
    loo = versus["comparison"]
    return Card("versus_ridge.png", (
        f"MAP = GammaRegressor: max rel diff **{max(results['max_rel_diff']):.1e}**. Replicated "
        f"values below 0: ridge {versus['below_zero']['ridge']:.1%}, gamma "
        f"{versus['below_zero']['gamma']:.1%}; PSIS-LOO {loo['first']} − {loo['second']} = "
        f"{loo['value']:.3g} ± {loo['se']:.3g}."
    ))  # fmt: skip


EXPERIMENT = penalty_experiment(
    gamma.SPEC, extra=(glm.reference_section(gamma.SPEC), glm.ridge_section(gamma.SPEC)), card=card
)
