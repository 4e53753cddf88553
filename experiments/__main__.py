"""Run experiments: ``python -m experiments NAME [options]`` or ``python -m experiments all``."""

from __future__ import annotations

import sys
from importlib import import_module

from models.base import InputError

EXPERIMENTS = {"ridge": "experiments.ridge"}


def main(argv: list[str]) -> int:
    if not argv or argv[0] in ("-h", "--help"):
        print(f"usage: python -m experiments {{{','.join(EXPERIMENTS)},all}} [options]")
        return 0 if argv else 2
    name, rest = argv[0], argv[1:]
    names = list(EXPERIMENTS) if name == "all" else [name]
    try:
        for experiment in names:
            if experiment not in EXPERIMENTS:
                raise InputError(
                    f"unknown experiment '{experiment}'; known: {', '.join(EXPERIMENTS)}, all"
                )
            import_module(EXPERIMENTS[experiment]).run(rest)
    except InputError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
