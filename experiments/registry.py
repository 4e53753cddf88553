"""Every experiment, by name. Registering an experiment is one line in :data:`MODULES`.

Each module listed defines ``EXPERIMENT``. Every registered model (``models.REGISTRY``) without a
dedicated module gets the penalty experiment of :mod:`experiments.family`; the front page shows the
experiments in this order: the models (registry order), then the rest.
"""

from __future__ import annotations

from importlib import import_module

from experiments.runner import Experiment

MODULES = (
    "experiments.ridge",
    "experiments.logistic",
    "experiments.lasso",
    "experiments.choosing_lambda",
    "experiments.sensitivity",
    "experiments.engines",
    "experiments.knobs",
    "experiments.twin",
    "experiments.scale",
)


def experiments() -> dict[str, Experiment]:
    """``{name: Experiment}`` in front-page order (read at call time, so added models appear)."""
    import models
    from experiments.family import penalty_experiment

    dedicated = [import_module(module).EXPERIMENT for module in MODULES]
    by_name = {e.name: e for e in dedicated}
    ordered = {
        name: by_name.get(name) or penalty_experiment(spec)
        for name, spec in models.REGISTRY.items()
    }
    ordered.update({e.name: e for e in dedicated if e.name not in ordered})
    return ordered
