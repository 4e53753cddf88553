"""Shared fixtures: the diabetes data, one quick run of each experiment per session, extra models."""

from __future__ import annotations

import hashlib
import importlib
import json
import logging
import sys
import textwrap

import numpy as np
import pytest
from filelock import FileLock
from render_check import assert_renders_identically
from sklearn.datasets import load_diabetes

import models
from experiments.__main__ import main

logging.getLogger("pymc").setLevel(logging.ERROR)


@pytest.fixture(scope="session")
def diabetes():
    bunch = load_diabetes()
    return bunch.data, bunch.target.astype(float), list(bunch.feature_names)


@pytest.fixture(scope="session")
def run_quick(tmp_path_factory, worker_id):
    """Run an experiment once in --quick mode per test session, whichever pytest-xdist worker
    asks first (the others wait for it on a file lock); return ``(folder, results)``. Every
    run's page is also rebuilt by ``render`` and must come out byte-identical. Tests read the
    folder and never change it."""
    base = tmp_path_factory.getbasetemp()
    shared = (base if worker_id == "master" else base.parent) / "quick-runs"
    shared.mkdir(exist_ok=True)

    def run(name: str, *extra: str):
        key = hashlib.sha256(repr((name, *extra)).encode()).hexdigest()[:16]
        out = shared / f"{name}-{key}" / name
        with FileLock(shared / f"{name}-{key}.lock"):
            if not (out / "results.json").is_file():
                out.parent.mkdir(exist_ok=True)
                assert main([name, "--quick", "--quiet", "--out", str(out), *extra]) == 0
                assert_renders_identically(out)
        return out, json.loads((out / "results.json").read_text())

    return run


@pytest.fixture
def add_model(tmp_path, monkeypatch):
    """Add a model to the registry the way a user does: one file (its source) and one module name."""
    package = tmp_path / "user_models"
    package.mkdir()
    (package / "__init__.py").write_text("")
    monkeypatch.syspath_prepend(str(tmp_path))
    added = []

    def add(name: str, source: str) -> None:
        (package / f"{name}.py").write_text(textwrap.dedent(source))
        added.append(f"user_models.{name}")
        monkeypatch.setattr(models, "_MODULES", (*models._MODULES, f"user_models.{name}"))
        models.registry.cache_clear()
        importlib.invalidate_caches()

    yield add
    monkeypatch.undo()
    models.registry.cache_clear()
    for module in (*added, "user_models"):
        sys.modules.pop(module, None)


def rel_linf(a, b) -> float:
    a, b = np.asarray(a, float), np.asarray(b, float)
    return float(np.max(np.abs(a - b)) / np.max(np.abs(b)))
