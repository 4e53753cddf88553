"""Every experiment, by name. Registering an experiment is one line in :data:`MODULES`.

Each module listed defines ``EXPERIMENT``; its name is the key it is registered under. Every
registered model (``models.registry()``) without a dedicated module gets the penalty experiment of
:mod:`experiments.family`. The command line imports only the experiment it is asked for
(:func:`experiment`); ``all``, the front page and the tests read them all (:func:`experiments`), in
front-page order: the models (registry order), then the rest.
"""

from __future__ import annotations

from importlib import import_module

from experiments.runner import Experiment, run_experiment
from models.core.base import InputError

MODULES = {
    "ridge": "experiments.ridge",
    "logistic": "experiments.logistic",
    "lasso": "experiments.lasso",
    "quantile": "experiments.quantile",
    "poisson": "experiments.poisson",
    "gamma": "experiments.gamma",
    "tweedie": "experiments.tweedie",
    "multinomial": "experiments.multinomial",
    "ard": "experiments.ard",
    "sparse": "experiments.sparse",
    "lambda": "experiments.choosing_lambda",
    "sensitivity": "experiments.sensitivity",
    "engines": "experiments.engines",
    "knobs": "experiments.knobs",
    "twin": "experiments.twin",
    "scale": "experiments.scale",
    "kernel_ridge": "experiments.kernel_ridge",
    "mlp": "experiments.mlp",
}

# Models with no experiment of their own (not registered models: their coefficients are derived
# in a non-centred form), by the experiment that runs them, and on a user's CSV.
SHOWN_ON = {"horseshoe": "sparse", "r2d2": "sparse"}


def names() -> list[str]:
    """Every experiment's name in front-page order, importing no experiment module."""
    import models

    ordered = list(models.registry())
    return ordered + [name for name in MODULES if name not in ordered]


def experiment(name: str) -> Experiment:
    """The experiment called ``name``, importing only its own module; unknown names raise one
    clear :class:`InputError`."""
    import models

    if name in MODULES:
        found = import_module(MODULES[name]).EXPERIMENT
        if found.name != name:
            raise InputError(f"{MODULES[name]} registers '{found.name}' under the name '{name}'")
        return found
    spec = models.registry().get(name)
    if spec is None and name in SHOWN_ON:
        raise InputError(
            f"'{name}' is not an experiment of its own: it runs on the '{SHOWN_ON[name]}' page; on "
            f"a CSV: python -m experiments {SHOWN_ON[name]} --data FILE --target COLUMN"
        )
    if spec is None:
        raise InputError(f"unknown experiment '{name}'; known: {', '.join(names())}, all")
    from experiments.family import penalty_experiment

    return penalty_experiment(spec)


def experiments() -> dict[str, Experiment]:
    """``{name: Experiment}`` of every experiment, in front-page order (read at call time, so
    added models and experiments appear)."""
    return {name: experiment(name) for name in names()}


def run_named(name: str, argv: list[str]) -> dict:
    """Run the registered experiment ``name`` (what a process of ``all --jobs N`` is given)."""
    return run_experiment(experiment(name), argv)
