"""Same seed, same results.json, byte for byte, for every experiment (ridge: test_ridge_experiment)."""

from __future__ import annotations

import pytest

from experiments.__main__ import main
from experiments.registry import experiments


@pytest.mark.slow
@pytest.mark.parametrize("name", [n for n in experiments() if n != "ridge"])
def test_same_seed_same_results(run_quick, tmp_path, name):
    first, _ = run_quick(name)
    again = tmp_path / name
    assert main([name, "--quick", "--quiet", "--out", str(again)]) == 0
    assert (again / "results.json").read_bytes() == (first / "results.json").read_bytes()
