"""One runner for every experiment: options, data, seeding, progress, atomic output, results, pages.

An experiment is one module that defines ``EXPERIMENT = Experiment(...)``: its name, its options,
and its sections. A :class:`Section` is one part of the page with everything it needs in one
place: a ``compute`` that returns results as data (merged into results.json), the ``figures`` it
draws, and the ``page`` text that shows them. The runner owns everything else:

1. argument parsing, every option checked while parsing (one ``error:`` line, exit 2);
2. data loading and validation (``--data/--target``, ``--standardize/--no-standardize``), and the
   experiment's own ``validate`` hook, all before any work;
3. the atomic output folder, progress lines, ``results.json``, saved posteriors (netCDF), the
   provenance footer and rendering the page (HTML and Markdown from the same blocks).

A page is a template over the folder's files: every ``page`` function reads only results.json (as
loaded back from disk) and the figures, never in-memory state, and the page opens with the verdict
box stored in results.json (:func:`verdict_box`). So ``python -m experiments render
DIR`` (:func:`render_folder`) rebuilds a report from its files, byte for byte.

Registration is one line in :data:`experiments.registry.MODULES`; the command line imports only
the experiment it runs.
"""

from __future__ import annotations

import _thread
import argparse
import contextlib
import importlib
import json
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from experiments import common, output, report, style, verdicts
from experiments.output import atomic_output_dir
from models.core import lazy
from models.core.base import InputError, ModelSpec
from models.core.data import DATASETS, Dataset, default_dataset
from models.inference.engines import CLOCK, COMPILED, LONG_TUNING, TUNE, TUNE_LONG

# every page's results.json records the tuning policy its fits followed (settings, "tuning")
TUNING_POLICY = {"iterations": TUNE, "long": TUNE_LONG, "long_for": sorted(LONG_TUNING)}


@dataclass
class Run:
    """The state of one run, handed to every section.

    Attributes
    ----------
    name : str
        Experiment name.
    args : argparse.Namespace
        Parsed options.
    cfg : dict
        The experiment's settings for this run (``--quick`` or full).
    data : Dataset or None
        The data set (None for experiments that bring their own).
    results : dict
        Everything computed so far (written to results.json); sections add keys.
    posteriors : dict
        ``{file stem: DataTree}`` saved as ``<stem>.nc`` beside the page.
    state : dict
        In-memory objects one section hands to a later one (models, samplers, draws).
    timings : dict
        Wall-clock measurements of the experiment's own (they change run to run, so they go to
        timings.json beside the runner's per-step times, never to results.json).
    """

    name: str
    args: argparse.Namespace
    cfg: dict
    data: Dataset | None
    results: dict = field(default_factory=dict)
    posteriors: dict = field(default_factory=dict)
    state: dict = field(default_factory=dict)
    timings: dict = field(default_factory=dict)
    out: object = None
    box: dict = field(default_factory=lambda: {"verified": None, "adds": [], "checks": []})

    @property
    def seed(self) -> int:
        return self.args.seed

    def diagnose(self, row: dict) -> None:
        """Record one fit's diagnostics (shown on the page, red when it fails)."""
        self.results.setdefault("diagnostics", []).append(row)

    def verify(self, verdict: dict) -> dict:
        """The verdict box's "verified" line: the page's claim, one number against its bound."""
        self.box["verified"] = verdict
        return verdict

    def adds(self, verdict: dict) -> dict:
        """A computed sentence for the box's "what the posterior adds" (two or three per page)."""
        self.box["adds"].append(verdict)
        return verdict

    def check(self, label: str, verdict: dict) -> dict:
        """One model check line of the box (predictive check, LOO-PIT, Pareto k, sensitivity...),
        green, amber or red by the verdict's level. The sampler diagnostics line is added last."""
        self.box["checks"].append({**verdict, "label": label})
        return verdict


@dataclass(frozen=True)
class Section:
    """One part of an experiment: computation, figures and page text side by side.

    Parameters
    ----------
    progress : str
        What the progress line says while ``compute`` runs ("" for a page-only section).
    compute : callable, optional
        ``compute(run) -> dict`` of results (plain data) merged into ``run.results``.
    figures : callable, optional
        ``figures(run)``: writes PNG files into ``run.out``.
    page : callable, optional
        ``page(page, results)``: adds this section's blocks, reading only ``results`` (results.json
        as loaded from disk) and ``page.timings`` (timings.json).
    """

    progress: str = ""
    compute: Callable[[Run], dict | None] | None = None
    figures: Callable[[Run], None] | None = None
    page: Callable[[report.Page, dict], None] | None = None


def diagnostics_section() -> Section:
    """The page's diagnostics: every fit recorded with :meth:`Run.diagnose`, failures in red."""

    def page(page: report.Page, results: dict) -> None:
        page.heading("Sampling diagnostics")
        page.diagnostics(results["diagnostics"])

    return Section(page=page)


@dataclass(frozen=True)
class Card:
    """An experiment's card on the front page: its key figure and one headline (author text)."""

    figure: str
    headline: str


@dataclass(frozen=True)
class Experiment:
    """An experiment, as data.

    Parameters
    ----------
    name, title, description : str
        Command name, page title, one-line ``--help`` description.
    sections : tuple of Section
        In page order.
    settings : callable
        ``settings(quick) -> dict``: grid sizes and sampler budgets.
    options : callable, optional
        ``options(parser)``: the experiment's own options (types check values while parsing).
    validate : callable, optional
        ``validate(run)``: checks that need the data too; raise :class:`InputError`.
    spec : ModelSpec, optional
        The model whose default data set and target rules apply.
    user_data : bool
        Whether ``--data FILE --target COL`` is accepted.
    default_data : str
        Bundled data set used without ``--data`` when there is no ``spec``.
    card : callable, optional
        ``card(results) -> Card`` for the front page.
    claim : str or callable
        The page's claim (author text, or ``claim(results) -> str``): the first line of the verdict
        box, followed by what the sections recorded with :meth:`Run.verify`, :meth:`Run.adds` and
        :meth:`Run.check`, and a sampler-diagnostics line computed from every fit. The box is
        stored in results.json as ``verdict_box``.
    reads_files : bool
        ``--data PATH --target COL`` name files the experiment reads itself, in partitions (data
        beyond memory); the runner only parses them and ``validate`` checks them.
    resolve : callable, optional
        ``resolve(settings) -> Experiment``: for an experiment whose model depends on its options
        (tweedie's ``--power`` picks the family), the experiment of ``settings``: the parsed
        options as a dict when it runs, results.json when its page is rendered again (so the
        option must be recorded in the results). May raise :class:`InputError`.
    """

    name: str
    title: str
    description: str
    sections: tuple[Section, ...]
    settings: Callable[[bool], dict]
    options: Callable[[argparse.ArgumentParser], None] | None = None
    validate: Callable[[Run], None] | None = None
    spec: ModelSpec | None = None
    user_data: bool = True
    default_data: str = "diabetes"
    card: Callable[[dict], Card] | None = None
    reads_files: bool = False
    claim: str | Callable[[dict], str] = ""
    resolve: Callable[[dict], Experiment] | None = None


def parser(experiment: Experiment) -> argparse.ArgumentParser:
    """The experiment's command line: the common options, data options, its own."""
    p = common.base_parser(experiment.name, experiment.description)
    if experiment.reads_files:
        p.add_argument(
            "--data", help="Parquet file or folder, or CSV file or glob (read in partitions)"
        )
        p.add_argument("--target", help="name of the target column in --data")
    elif experiment.user_data:
        p.add_argument("--data", help="CSV file with a header row and numeric columns")
        p.add_argument("--target", help="name of the target column in --data")
        scaling = p.add_mutually_exclusive_group()
        default = experiment.spec.standardize if experiment.spec else True
        scaling.add_argument("--standardize", dest="standardize", action="store_true",
                             default=default, help="centre and scale CSV features to unit sd"
                             + (" (default)" if default else ""))  # fmt: skip
        scaling.add_argument("--no-standardize", dest="standardize", action="store_false",
                             help="use CSV features as given" + ("" if default else " (default)"))  # fmt: skip
    else:  # accepted only to say why not, in one line
        p.add_argument("--data", help=argparse.SUPPRESS)
        p.add_argument("--target", help=argparse.SUPPRESS)
    if experiment.options:
        experiment.options(p)
    return p


def load(experiment: Experiment, args: argparse.Namespace) -> Dataset | None:
    """The data an experiment runs on, validated (before any work)."""
    if experiment.reads_files:
        if (args.data is None) != (args.target is None):
            raise InputError("--data FILE needs --target COLUMN, and --target needs --data")
        return None
    if not experiment.user_data:
        if args.data or args.target:
            raise InputError(
                f"{experiment.name} runs each model on its bundled data set; --data is not supported"
            )
        return None
    if args.data is not None:
        if not args.target:
            raise InputError("--data needs --target COLUMN")
        X, y, names = common.read_csv(args.data, args.target)
        data = common.csv_dataset(X, y, names, args.target, str(args.data), args.standardize)
    elif args.target:
        raise InputError("--target is only meaningful with --data FILE")
    elif experiment.spec is not None:
        data = default_dataset(experiment.spec)
    else:
        data = DATASETS[experiment.default_data]()
    if experiment.spec is not None:
        experiment.spec.validate_target(data.y)
    return data


def run_experiment(experiment: Experiment, argv: list[str], import_seconds: float = 0.0) -> dict:
    """Parse, validate, compute every section, write results.json, posteriors, figures and page.

    timings.json records the wall time of each step, and within it the seconds spent compiling
    and sampling (``models.inference.engines.CLOCK``), the figures and the writing, and the imports: the
    command line's own (``import_seconds``, before this call) and the heavy libraries', imported
    here once the input is checked (both zero after the process's first experiment).
    """
    started = time.perf_counter()
    compiles_before = (COMPILED.misses, COMPILED.hits)
    args = parser(experiment).parse_args(argv)
    if experiment.resolve:
        experiment = experiment.resolve(vars(args))
    run = Run(experiment.name, args, experiment.settings(args.quick), load(experiment, args))
    if experiment.validate:
        experiment.validate(run)
    stack_seconds = _import_stack()
    steps = [s for s in experiment.sections if s.compute or s.figures]
    progress = common.Progress(experiment.name, len(steps) + 1, args.quiet)
    measured = []
    with atomic_output_dir(args.out, experiment.name) as out:
        run.out = out
        settings = {**run.cfg, "seed": args.seed, "tuning": TUNING_POLICY}
        run.results = {**(run.data.provenance() if run.data is not None else {}),
                       "settings": settings}  # fmt: skip
        with style.figure_writer(background=style.background_figures()):
            for section in steps:
                progress(section.progress or "figures")
                with _measure(measured, section.progress or "figures") as step:
                    if section.compute:
                        run.results.update(section.compute(run) or {})
                    figures = time.perf_counter()
                    if section.figures:
                        section.figures(run)
                    step["figures_seconds"] = time.perf_counter() - figures
            waiting = time.perf_counter()
        figure_wait = time.perf_counter() - waiting
        run.results["verdict_box"] = verdict_box(experiment, run)
        progress("results.json, posteriors and report page")
        with _measure(measured, "writing results, posteriors and page"):
            for stem, dt in run.posteriors.items():
                dt.to_netcdf(out / f"{stem}.nc")
            common.write_json(out / "results.json", run.results)
            common.write_json(out / PROVENANCE, {
                "experiment": experiment.name,
                "footer": common.provenance(args.seed, [experiment.name, *argv]),
            })  # fmt: skip
        timings = {
            "wall_seconds": time.perf_counter() - started + import_seconds,
            "import_seconds": import_seconds + stack_seconds,
            "compile_seconds": sum(step["compile_seconds"] for step in measured),
            "sampling_seconds": sum(step["sampling_seconds"] for step in measured),
            "figures_seconds": sum(step.get("figures_seconds", 0.0) for step in measured),
            "figure_wait_seconds": figure_wait,
            "writing_seconds": measured[-1]["seconds"],
            "nutpie_compiles": COMPILED.misses - compiles_before[0],
            "nutpie_compiles_reused": COMPILED.hits - compiles_before[1],
            "steps": measured,
            **run.timings,
        }
        common.write_json(out / "timings.json", timings)
        render_folder(experiment, out)
    return run.results


def verdict_box(experiment: Experiment, run: Run) -> dict:
    """The box the page opens with, as data: claim, verified line, adds, checks (diagnostics last)."""
    claim = experiment.claim(run.results) if callable(experiment.claim) else experiment.claim
    checks = list(run.box["checks"])
    if run.results.get("diagnostics"):
        checks.append({**verdicts.diagnostics(run.results["diagnostics"]), "label": "Sampler"})
    return {"claim": claim or experiment.title, **run.box, "checks": checks}


PROVENANCE = "provenance.json"  # the experiment's name and the footer (versions, seed, command)


def render_folder(experiment: Experiment, folder) -> None:
    """Write ``index.html`` and ``index.md`` of a report folder from its files alone: results.json,
    timings.json, provenance.json and the figures (what a run does last, and ``render DIR``)."""
    folder = Path(folder)
    results = json.loads((folder / "results.json").read_text())
    if experiment.resolve:
        experiment = experiment.resolve(results)
    timings_file = folder / "timings.json"
    timings = json.loads(timings_file.read_text()) if timings_file.is_file() else {}
    footer = json.loads((folder / PROVENANCE).read_text())["footer"]
    page = report.Page(experiment.title, folder, timings=timings)
    for section in experiment.sections:
        if section.page:
            section.page(page, results)
    if results.get("diagnostics") and not page.has_diagnostics:
        # every fit a page records is shown (the sparse page graded fits that failed, unseen)
        diagnostics_section().page(page, results)
    if "verdict_box" in results:
        page.verdict_box(results["verdict_box"])
    page.write(footer)


STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT)
STOP_GRACE_SECONDS = 10.0  # after a stop signal, the clean-up's time before a forced exit
_stopped_by: list[int] = []  # the stop signals received, in order


def experiment_process(concurrent: int) -> None:
    """Set up one of ``all --jobs N``'s processes: stop signals as Ctrl-C, and ``concurrent`` (N)
    experiment processes sharing the cores (so figures are drawn in the background only when a
    core is spare: :func:`experiments.style.background_figures`)."""
    stop_signals_as_interrupt()
    style.SHARING_CORES = concurrent


def stop_signals_as_interrupt() -> None:
    """One path for every stop signal: Ctrl-C (SIGINT), SIGTERM, SIGHUP (a dropped SSH session) and
    SIGQUIT each raise ``KeyboardInterrupt`` in the main thread, so clean-up runs and the old report
    stays (the program and each process of ``all --jobs N``).

    Python runs the handler between bytecodes only, so a long call into C (a BLAS product, a
    compiled solver) would delay it: a watcher thread, woken by the signal itself through
    :func:`signal.set_wakeup_fd`, gives the clean-up :data:`STOP_GRACE_SECONDS`, then removes this
    process's temporary folders (:data:`experiments.output.LIVE`) and exits with the signal's
    status. Call from the main thread.
    """
    for stop in STOP_SIGNALS:
        signal.signal(stop, _interrupt)
    sys.unraisablehook = _redeliver_interrupt
    reader, writer = socket.socketpair()
    writer.setblocking(False)
    signal.set_wakeup_fd(writer.fileno(), warn_on_full_buffer=False)
    watcher = threading.Thread(target=_force_exit_after_grace, args=(reader, writer), daemon=True)
    watcher.start()


def stopped_by() -> int | None:
    """The first stop signal this process received (None if none)."""
    return _stopped_by[0] if _stopped_by else None


def _interrupt(signum, frame):
    _stopped_by.append(signum)
    raise KeyboardInterrupt(signal.Signals(signum).name)


def _redeliver_interrupt(unraisable) -> None:
    """An interrupt raised while Python ran a finaliser or a garbage-collector callback (JAX
    registers one) cannot propagate: Python would print it as "Exception ignored ... Traceback" and
    go on. Deliver the same signal to the main thread again, from another thread 10 ms later so
    that it lands after the finaliser (swallowed again, it comes back here); anything else is
    reported as Python reports it."""
    if isinstance(unraisable.exc_value, KeyboardInterrupt) and _stopped_by:
        again = threading.Timer(0.01, _thread.interrupt_main, args=(_stopped_by[0],))
        again.daemon = True
        again.start()
        return
    sys.__unraisablehook__(unraisable)


def _force_exit_after_grace(reader: socket.socket, writer: socket.socket) -> None:
    while True:
        received = reader.recv(1)
        if received and received[0] in STOP_SIGNALS:
            break
    time.sleep(STOP_GRACE_SECONDS)
    output.remove_live()
    os.write(2, b"interrupted\n")
    os._exit(128 + received[0])


STACK = ("pymc", "nutpie", "arviz", "sklearn.linear_model", "scipy.stats", "xarray")


def _import_stack() -> float:
    """Import the heavy libraries, bound lazily until the input was checked; seconds it took (0
    when an earlier experiment of the process imported them)."""
    started = time.perf_counter()
    for module in STACK:
        importlib.import_module(module)
    lazy.load(style.plt)  # selects the Agg backend and the suite's style first
    return time.perf_counter() - started


@contextlib.contextmanager
def _measure(measured: list, label: str):
    """Append ``{step, seconds, compile_seconds, sampling_seconds}`` for the enclosed work."""
    compile_before, sampling_before = CLOCK.compile, CLOCK.sampling
    step = {"step": label}
    start = time.perf_counter()
    try:
        yield step
    finally:
        step.update(seconds=time.perf_counter() - start,
                    compile_seconds=CLOCK.compile - compile_before,
                    sampling_seconds=CLOCK.sampling - sampling_before)  # fmt: skip
        measured.append(step)
