"""Heavy libraries bound now and imported on first use.

The command line checks everything it is given (options, files, columns, values) before it imports
PyMC, PyTensor, ArviZ, scikit-learn, SciPy or matplotlib, so a mistake is answered in a fraction of
a second instead of after ~10 s of imports. The modules on that path bind those libraries with
:func:`lazy`::

    from models.core.lazy import lazy

    pm = lazy("pymc")  # nothing imported yet: "pymc" not in sys.modules

    def build(data):
        with pm.Model() as model:  # the first attribute read imports pymc
            ...

A model file of your own may import PyMC at the top as usual; the command line then imports it
when it reads the registry, and answers bad input only after that.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from types import ModuleType


class LazyModule:
    """Stands in for the module ``name``; the first attribute read imports it.

    Parameters
    ----------
    name : str
        Dotted module name, e.g. ``"sklearn.linear_model"``.
    setup : callable, optional
        Called once just before ``name`` is imported (e.g. to select matplotlib's backend).
    """

    def __init__(self, name: str, setup: Callable[[], None] | None = None):
        self.__dict__.update(_lazy_name=name, _lazy_setup=setup, _lazy_module=None)

    def _load(self) -> ModuleType:
        module = self._lazy_module
        if module is None:
            if self._lazy_setup is not None:
                self._lazy_setup()
            module = importlib.import_module(self._lazy_name)
            self.__dict__["_lazy_module"] = module
        return module

    def __getattr__(self, attribute: str):
        return getattr(self._load(), attribute)

    def __setattr__(self, attribute: str, value) -> None:  # e.g. a test's monkeypatch
        setattr(self._load(), attribute, value)

    def __delattr__(self, attribute: str) -> None:
        delattr(self._load(), attribute)

    def __dir__(self) -> list[str]:
        return dir(self._load())

    def __repr__(self) -> str:
        state = "imported" if self._lazy_module is not None else "not imported yet"
        return f"<lazy module {self._lazy_name!r} ({state})>"


def lazy(name: str, setup: Callable[[], None] | None = None) -> LazyModule:
    """A stand-in for module ``name`` that imports it on first use (see :class:`LazyModule`)."""
    return LazyModule(name, setup)


def load(handle: LazyModule) -> ModuleType:
    """Import the module behind ``handle`` now (e.g. to time the imports apart); return it."""
    return handle._load()
