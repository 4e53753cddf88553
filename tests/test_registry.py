"""The experiment registry: the command line imports only the experiment it is asked for, and the
runner does not import the registry (no import cycle runner -> registry -> family -> runner)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from experiments import registry
from models.core.base import InputError

PROBE = """
import sys
from experiments.__main__ import main
status = main(sys.argv[1:])
print(sorted(m for m in sys.modules if m.startswith("experiments.") and m not in {
    "experiments.__main__", "experiments.common", "experiments.intervals", "experiments.output",
    "experiments.predictive", "experiments.registry", "experiments.report", "experiments.runner",
    "experiments.style",
    "experiments.verdicts"}))
"""


def imported_experiments(*argv: str) -> list[str]:
    done = subprocess.run([sys.executable, "-c", PROBE, *argv], capture_output=True, text=True)
    return eval(done.stdout.strip().splitlines()[-1])  # a list literal printed by the probe


def test_help_imports_no_experiment():
    assert imported_experiments("--help") == []


def test_one_experiment_imports_only_its_own_module():
    # bad input, answered after the experiment is chosen and before any work
    imported = imported_experiments("lasso", "--alpha", "-1")
    assert imported == ["experiments.family", "experiments.lasso"], imported
    # the knobs page and its rows run with libraries outside the core stack
    knobs = ["experiments.knobs", "experiments.library_checks"]
    assert imported_experiments("knobs", "--bogus") == knobs


def test_the_runner_does_not_import_the_registry():
    done = subprocess.run(
        [sys.executable, "-c", "import sys, experiments.runner, experiments.family; "
         "print('experiments.registry' in sys.modules)"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert done.stdout.strip() == "False"


def test_names_and_lookup_agree():
    names = registry.names()
    assert names[:4] == ["ridge", "logistic", "lasso", "elasticnet"]  # the models first
    assert set(registry.MODULES) <= set(names)
    assert registry.experiment("elasticnet").name == "elasticnet"  # a model's penalty experiment
    with pytest.raises(InputError, match="unknown experiment 'nope'"):
        registry.experiment("nope")
