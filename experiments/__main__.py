"""Run experiments: ``python -m experiments NAME [options]`` or ``python -m experiments all``."""

from __future__ import annotations

import sys
from importlib import import_module

from models import REGISTRY
from models.base import InputError

# Dedicated experiments; every other registered model runs the generic experiments.family.
EXPERIMENTS = {
    "ridge": "experiments.ridge",
    "lasso": "experiments.lasso",
    "logistic": "experiments.logistic",
    "lambda": "experiments.choosing_lambda",
    "sensitivity": "experiments.sensitivity",
    "engines": "experiments.engines",
}


def known() -> list[str]:
    return list(EXPERIMENTS) + [name for name in REGISTRY if name not in EXPERIMENTS]


def main(argv: list[str]) -> int:
    if not argv or argv[0] in ("-h", "--help"):
        print(f"usage: python -m experiments {{{','.join(known())},all}} [options]")
        return 0 if argv else 2
    name, rest = argv[0], argv[1:]
    names = known() if name == "all" else [name]
    try:
        if name == "all" and any(arg.startswith("--out") for arg in rest):
            raise InputError(
                "'all' writes every experiment to reports/<name>; --out is for one experiment"
            )
        for experiment in names:
            if experiment in EXPERIMENTS:
                import_module(EXPERIMENTS[experiment]).run(rest)
            elif experiment in REGISTRY:
                from experiments.family import run_penalty_experiment

                run_penalty_experiment(REGISTRY[experiment], rest)
            else:
                raise InputError(
                    f"unknown experiment '{experiment}'; known: {', '.join(known())}, all"
                )
        if name == "all":
            from experiments.common import REPO_ROOT
            from experiments.site import write_index

            write_index(REPO_ROOT / "reports")
    except InputError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
