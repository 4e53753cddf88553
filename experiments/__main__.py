"""Run experiments: ``python -m experiments NAME [options]`` or ``python -m experiments all``."""

from __future__ import annotations

import json
import os
import signal
import sys
import time

if __name__ == "__main__":
    # One OpenMP / BLAS thread per process (unless the user set another count), set before NumPy
    # loads its OpenBLAS, which reads it then: scikit-learn's GLM and logistic losses are OpenMP
    # loops over a few hundred rows, where a second thread mostly waits for a core (on a busy
    # 2-core machine the gamma page's 5-fold CV took 8.3 s with two threads, 0.8 s with one), and
    # one thread keeps BLAS sums in one order, so a seed gives the same bytes; ``all --jobs N``
    # runs processes in parallel instead. The worker processes inherit it.
    os.environ.setdefault("OMP_NUM_THREADS", "1")

from experiments import style  # noqa: E402
from experiments.output import describe_os_error  # noqa: E402
from experiments.registry import run_named  # noqa: E402
from experiments.runner import experiment_process, stop_signals_as_interrupt, stopped_by  # noqa: E402
from models.core.base import InputError, printable  # noqa: E402


def main(argv: list[str]) -> int:
    """Run one experiment (or ``all`` of them, then the front page); return the exit status.

    Bad input is one ``error:`` line and status 2; an OS error while writing (a full disk) is one
    ``error:`` line and status 1; an interruption (Ctrl-C, or SIGTERM, SIGHUP, SIGQUIT when run as
    a program) is one ``interrupted`` line and status 128 + the signal's number (130, 143, 129,
    131), whatever the interrupted library raised on its way out; the old report stays intact.
    ``all --jobs N`` runs the experiments in N processes (default: 2, or 1 on a one-core machine).
    """
    started = time.perf_counter()
    from experiments.registry import experiment, experiments, names
    from experiments.runner import parser, run_experiment

    try:
        known = names()  # no experiment module imported
        if not argv or argv[0] in ("-h", "--help"):
            print(
                f"usage: python -m experiments {{{','.join(known)},all}} [options]\n"
                "       python -m experiments render DIR   (rebuild a report's pages from its files)"
            )
            return 0 if argv else 2
        name, rest = argv[0], argv[1:]
        if name == "render":  # a report folder rebuilt from its files, nothing recomputed
            render(rest)
            return 0
        if name == "prior":  # a conversion, not an experiment: prints, writes nothing
            from experiments import prior

            print(prior.run(rest))
            return 0
        if name == "all" and {"-h", "--help"} & set(rest):
            print("usage: python -m experiments all [--jobs N] [--quick] [--quiet] [--seed N]\n"
                  "Every experiment with these options, in N processes (default min(2, cores)), "
                  "then reports/index.html; one experiment's options: python -m experiments NAME "
                  "--help")  # fmt: skip
            return 0
        if name == "all":
            jobs, rest = _jobs(rest)
            if any(arg.startswith("--out") for arg in rest):
                raise InputError(
                    "'all' writes every experiment to reports/<name>; --out is for one experiment"
                )
            for one in experiments().values():  # every option checked before any work
                options = parser(one).parse_args(rest)
                if options.data is not None or options.target is not None:
                    raise InputError(
                        "'all' runs every experiment on its bundled data; to use --data FILE, run "
                        "one experiment: python -m experiments ridge --data FILE --target COLUMN"
                    )
            run_all(known, rest, jobs, started)
            return 0
        chosen = experiment(name)  # imports this experiment's module only
        run_experiment(chosen, rest, time.perf_counter() - started)
    except InputError as error:
        print(f"error: {printable(str(error))}", file=sys.stderr)
        return 2
    except BaseException as error:
        if not isinstance(error, KeyboardInterrupt) and stopped_by() is None:
            if isinstance(error, OSError):
                print(f"error: {describe_os_error(error)}; nothing was written", file=sys.stderr)
                return 1
            raise
        print("interrupted", file=sys.stderr)
        return 128 + (stopped_by() or signal.SIGINT)
    return 0


def render(rest: list[str]) -> None:
    """``render DIR``: rebuild DIR's index.html and index.md from its results.json, timings.json,
    provenance.json and figures (no computation; the same bytes the run wrote)."""
    from pathlib import Path

    from experiments.registry import experiment
    from experiments.runner import PROVENANCE, render_folder

    if len(rest) != 1 or rest[0].startswith("-"):
        raise InputError("usage: python -m experiments render DIR (a report folder)")
    folder = Path(rest[0])
    missing = [f for f in ("results.json", PROVENANCE) if not (folder / f).is_file()]
    if missing:
        raise InputError(f"{rest[0]!r} is not a report folder: no {' or '.join(missing)}")
    try:
        name = json.loads((folder / PROVENANCE).read_text())["experiment"]
    except (OSError, ValueError, KeyError, TypeError):
        name = None
    if not isinstance(name, str):
        raise InputError(f"{rest[0]!r}: unreadable {PROVENANCE}")
    try:
        render_folder(experiment(name), folder)
    except FileNotFoundError as error:
        raise InputError(f"{rest[0]!r}: {error}") from None


def _jobs(rest: list[str]) -> tuple[int, list[str]]:
    """``--jobs N`` taken out of ``all``'s options (the rest go to every experiment)."""
    jobs, others, args = min(2, os.cpu_count() or 1), [], iter(rest)
    for arg in args:
        if arg == "--jobs" or arg.startswith("--jobs="):
            value = arg.partition("=")[2] or next(args, "")
            if not value.isdigit() or not 1 <= int(value) <= 64:
                raise InputError(f"--jobs must be an integer from 1 to 64, got {value!r}")
            jobs = int(value)
        else:
            others.append(arg)
    return jobs, others


def run_all(names: list[str], rest: list[str], jobs: int, started: float, reports=None) -> None:
    """Every experiment, then the front page and reports/timings.json (the run's wall time and
    each experiment's split). With ``jobs`` > 1 the experiments run in that many processes, the
    longest (by the last run's timings) first; each process keeps its compiled models for the
    experiments it runs next. Results do not depend on the process: every experiment is seeded.
    ``reports`` is the folder (default: the repository's reports/)."""
    from experiments.common import REPO_ROOT, write_json
    from experiments.site import write_index

    reports = REPO_ROOT / "reports" if reports is None else reports
    order = sorted(names, key=lambda n: -_last_wall(reports / n)) if jobs > 1 else names
    tasks = [(name, [*rest, "--out", str(reports / name)]) for name in order]
    if jobs == 1:
        for name, argv in tasks:
            run_named(name, argv)
    else:
        _run_parallel(tasks, jobs)
    run = {"wall_seconds": time.perf_counter() - started, "processes": jobs}
    write_index(reports, run)
    write_json(reports / "timings.json", {**run, "experiments": {
        name: json.loads((reports / name / "timings.json").read_text()) for name in names}})  # fmt: skip


def _last_wall(folder) -> float:
    try:
        return float(json.loads((folder / "timings.json").read_text())["wall_seconds"])
    except (OSError, ValueError, KeyError):
        return 0.0


def _run_parallel(tasks: list[tuple[str, list[str]]], jobs: int) -> None:
    """``(name, argv)`` tasks on a pool of ``jobs`` fresh processes; the first failure stops the rest. On an
    interruption every worker is sent SIGTERM, which each turns into the same clean-up as Ctrl-C
    (the old reports stay intact)."""
    import multiprocessing
    from concurrent.futures import FIRST_EXCEPTION, ProcessPoolExecutor, wait
    from concurrent.futures.process import BrokenProcessPool

    pool = ProcessPoolExecutor(jobs, multiprocessing.get_context("spawn"),
                               initializer=experiment_process, initargs=(jobs,))  # fmt: skip
    try:
        futures = [pool.submit(run_named, name, argv) for name, argv in tasks]
        done, _ = wait(futures, return_when=FIRST_EXCEPTION)
        for future in done:
            future.result()  # re-raises the first failure here
    except BrokenProcessPool as error:  # a process killed from outside, or crashed: say so, once
        raise SystemExit(f"error: an experiment's process ended abruptly ({error})") from None
    except BaseException:
        for process in list(pool._processes.values()):  # no public way to signal workers in 3.12
            process.terminate()
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


if __name__ == "__main__":
    stop_signals_as_interrupt()
    style.SHARING_CORES = 1  # one experiment process: figures drawn beside it on a spare core
    sys.exit(main(sys.argv[1:]))
