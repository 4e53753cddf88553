"""Run experiments: ``python -m experiments NAME [options]`` or ``python -m experiments all``."""

from __future__ import annotations

import signal
import sys
import time

from models.base import InputError

EXIT_CODES = {"SIGINT": 130, "SIGTERM": 143}


def main(argv: list[str]) -> int:
    """Run one experiment (or ``all`` of them, then the front page); return the exit status.

    Bad input is one ``error:`` line and status 2; an interruption (Ctrl-C, or SIGTERM when run as
    a program) is one ``interrupted`` line and status 130 / 143, with the old report left intact.
    """
    started = time.perf_counter()
    from experiments.registry import experiments
    from experiments.runner import run_experiment

    try:
        known = experiments()
        import_seconds = time.perf_counter() - started
        if not argv or argv[0] in ("-h", "--help"):
            print(f"usage: python -m experiments {{{','.join(known)},all}} [options]")
            return 0 if argv else 2
        name, rest = argv[0], argv[1:]
        if name == "prior":  # a conversion, not an experiment: prints, writes nothing
            from experiments import prior

            print(prior.run(rest))
            return 0
        if name == "all" and any(arg.startswith("--out") for arg in rest):
            raise InputError(
                "'all' writes every experiment to reports/<name>; --out is for one experiment"
            )
        if name != "all" and name not in known:
            raise InputError(f"unknown experiment '{name}'; known: {', '.join(known)}, all")
        for experiment in known.values() if name == "all" else [known[name]]:
            run_experiment(experiment, rest, import_seconds)
            import_seconds = 0.0  # paid once per process
        if name == "all":
            from experiments.common import REPO_ROOT
            from experiments.site import write_index

            write_index(REPO_ROOT / "reports")
    except InputError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as interruption:
        print("interrupted", file=sys.stderr)
        return EXIT_CODES.get(str(interruption), 130)
    return 0


def _interrupt(signum, frame):
    """SIGTERM ends a run the way Ctrl-C does: cleanup runs, the old report stays."""
    raise KeyboardInterrupt(signal.Signals(signum).name)


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, _interrupt)
    sys.exit(main(sys.argv[1:]))
