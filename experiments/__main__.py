"""Run experiments: ``python -m experiments NAME [options]`` or ``python -m experiments all``."""

from __future__ import annotations

import sys
from importlib import import_module

from models import REGISTRY
from models.base import InputError

# Dedicated experiments; every other registered model runs the generic experiments.family.
EXPERIMENTS = {"ridge": "experiments.ridge"}


def known() -> list[str]:
    return list(EXPERIMENTS) + [name for name in REGISTRY if name not in EXPERIMENTS]


def main(argv: list[str]) -> int:
    if not argv or argv[0] in ("-h", "--help"):
        print(f"usage: python -m experiments {{{','.join(known())},all}} [options]")
        return 0 if argv else 2
    name, rest = argv[0], argv[1:]
    names = known() if name == "all" else [name]
    try:
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
    except InputError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
