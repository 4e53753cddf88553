"""Experiment ``gamma``: GammaRegressor(alpha) is the MAP of a Gamma log-linear model, on diabetes
by default, with the reference alpha's cross-validation and the Gaussian ridge model beside it
(:mod:`experiments.glm`).

    python -m experiments gamma [--alpha A | --prior-sd TAU] [--data FILE.csv --target COL]
"""

from __future__ import annotations

from experiments import glm
from experiments.family import penalty_experiment
from models import gamma

EXPERIMENT = penalty_experiment(
    gamma.SPEC, extra=(glm.reference_section(gamma.SPEC), glm.ridge_section(gamma.SPEC))
)
