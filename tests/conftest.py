"""Shared fixtures: the diabetes data and one quick run of each experiment per test session."""

from __future__ import annotations

import json
import logging

import numpy as np
import pytest
from sklearn.datasets import load_diabetes

from experiments.__main__ import main

logging.getLogger("pymc").setLevel(logging.ERROR)


@pytest.fixture(scope="session")
def diabetes():
    bunch = load_diabetes()
    return bunch.data, bunch.target.astype(float), list(bunch.feature_names)


@pytest.fixture(scope="session")
def run_quick(tmp_path_factory):
    """Run an experiment once in --quick mode; return ``(folder, results)``."""
    cache = {}

    def run(name: str, *extra: str):
        key = (name, *extra)
        if key not in cache:
            out = tmp_path_factory.mktemp(name) / name
            assert main([name, "--quick", "--quiet", "--out", str(out), *extra]) == 0
            cache[key] = (out, json.loads((out / "results.json").read_text()))
        return cache[key]

    return run


def rel_linf(a, b) -> float:
    a, b = np.asarray(a, float), np.asarray(b, float)
    return float(np.max(np.abs(a - b)) / np.max(np.abs(b)))
