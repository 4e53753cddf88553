"""The Monte Carlo assertions hold at other seeds too, not only at the one the suite ships with."""

from __future__ import annotations

import json

import pytest
from monte_carlo import CHECKS

from experiments.__main__ import main

SEEDS = (1, 2, 3, 4, 5)


@pytest.mark.slow
@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("name", list(CHECKS))
def test_monte_carlo_assertions_at_other_seeds(tmp_path, name, seed):
    out = tmp_path / name
    assert main([name, "--quick", "--quiet", "--seed", str(seed), "--out", str(out)]) == 0
    CHECKS[name](json.loads((out / "results.json").read_text()))
