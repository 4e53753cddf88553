"""Experiment ``tweedie``: TweedieRegressor(power, alpha) is the MAP of the Tweedie family of its
power (0 Normal, 1 Poisson, 2 Gamma, 3 inverse Gaussian), on diabetes by default at power 3.

    python -m experiments tweedie [--power P] [--data FILE.csv --target COL]

``--power`` picks the model (:func:`models.tweedie.spec_for`) through the runner's ``resolve``;
a power without a closed-form density is refused in one line before any work.
"""

from __future__ import annotations

import argparse
from functools import cache

from experiments import glm
from experiments.family import penalty_experiment
from experiments.runner import Experiment, Section
from models import tweedie


def options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--power", type=float, default=tweedie.DEFAULT_POWER,
                        help=f"Tweedie power: 0, 1, 2 or 3 (default {tweedie.DEFAULT_POWER:g})")  # fmt: skip


def resolve(settings: dict) -> Experiment:
    """The experiment of ``settings["power"]`` (parsed options, or results.json on re-rendering)."""
    return experiment_for(float(settings["power"]))


@cache
def experiment_for(power: float) -> Experiment:
    """The tweedie experiment at ``power`` (one line, exit 2, for a power without a density)."""
    spec = tweedie.spec_for(power)
    power_section = Section("the Tweedie power", lambda run: {"power": float(run.args.power)})
    return penalty_experiment(spec, extra=(power_section, glm.reference_section(spec)),
                              extra_options=options, resolve=resolve)  # fmt: skip


EXPERIMENT = experiment_for(tweedie.DEFAULT_POWER)
