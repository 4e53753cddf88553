"""The penalty family: each penalised scikit-learn estimator as the MAP of a PyMC model.

Models are registered as data and looked up by name::

    from models import get_model
    spec = get_model("ridge")

To add a model, write one file in models/ that defines ``SPEC = ModelSpec(...)`` (the contract is
in :mod:`models.core.base`) and add its module to ``_MODULES`` below. The registry is read on first use,
so a model file that breaks the contract is reported as one line by the command-line tools.
"""

from __future__ import annotations

from functools import cache
from importlib import import_module

from models.core.base import ContractError, InputError, L1Term, ModelData, ModelSpec
from models.core.cache import configure as configure_compile_cache

configure_compile_cache()  # before PyTensor is imported: compiled models persist per user

_MODULES = (
    "models.ridge",
    "models.logistic",
    "models.lasso",
    "models.elasticnet",
    "models.poisson",
    "models.gamma",
    "models.tweedie",
    "models.quantile",
    "models.multinomial",
    "models.ard",
)


@cache
def registry() -> dict[str, ModelSpec]:
    """``{name: ModelSpec}`` of every module in ``_MODULES`` (read once; ``registry.cache_clear()``)."""
    specs = {}
    for module in _MODULES:
        spec = getattr(import_module(module), "SPEC", None)
        if not isinstance(spec, ModelSpec):
            raise ContractError(f"{module} defines no SPEC = ModelSpec(...)")
        specs[spec.name] = spec
    return specs


def __getattr__(name: str):
    if name == "REGISTRY":
        return registry()
    raise AttributeError(f"module 'models' has no attribute {name!r}")


def get_model(name: str) -> ModelSpec:
    """Return the registered model called ``name``; unknown names raise one clear error."""
    try:
        return registry()[name]
    except KeyError:
        known = ", ".join(sorted(registry()))
        raise InputError(f"unknown model '{name}'; registered models: {known}") from None


__all__ = [
    "REGISTRY", "ContractError", "InputError", "L1Term", "ModelData", "ModelSpec", "get_model",
    "registry",
]  # fmt: skip
