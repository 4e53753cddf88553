"""The penalty family: each penalised scikit-learn estimator as the MAP of a PyMC model.

Models are registered as data and looked up by name::

    from models import get_model
    spec = get_model("ridge")

To add a model, write one file in models/ that defines a ``SPEC = ModelSpec(...)`` and add its module
to ``_MODULES`` below.
"""

from __future__ import annotations

from importlib import import_module

from models.base import Context, InputError, L1Term, ModelSpec

_MODULES = ("models.ridge", "models.logistic", "models.lasso", "models.elasticnet")


def _load() -> dict[str, ModelSpec]:
    specs = (import_module(module).SPEC for module in _MODULES)
    return {spec.name: spec for spec in specs}


REGISTRY: dict[str, ModelSpec] = _load()


def get_model(name: str) -> ModelSpec:
    """Return the registered model called ``name``; unknown names raise one clear error."""
    try:
        return REGISTRY[name]
    except KeyError:
        known = ", ".join(sorted(REGISTRY))
        raise InputError(f"unknown model '{name}'; registered models: {known}") from None


__all__ = ["REGISTRY", "Context", "InputError", "L1Term", "ModelSpec", "get_model"]
