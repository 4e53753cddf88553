"""docs/bench.md: the benchmark tables, generated from the benchmarks' results files.

    python -m benchmarks.tables       (also run at the end of make bench and make bench-scale)

Reads reports/bench/results.json (``python -m benchmarks``), reports/bench-tuning/results.json
(``python -m benchmarks.tuning``) and reports/bench-scale/results.json
(``python -m benchmarks.scale``); a missing file gives a line saying which command produces it, so
the page never shows numbers that no results file holds. It also writes the paragraph under the
README's "## Speed" heading from reports/bench/results.json. Import-light (standard library only).
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BENCH_MD = REPO / "docs" / "bench.md"
README = REPO / "README.md"
SPEED_HEADING = "## Speed\n\n"


def machine() -> dict:
    """The date of the measurement and the machine it ran on, for a results file."""
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return {
        "measured": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "platform": platform.platform(),
        "processor": platform.machine(),
        "cpus": os.cpu_count(),
        "memory_gib": round(memory, 1),
    }


def _where(results: dict) -> str:
    m = results.get("machine", {})
    memory = f", {m['memory_gib']:g} GiB" if "memory_gib" in m else ""
    return (f"Measured {m.get('measured', 'on an unrecorded date')} on {m.get('platform', '?')} "
            f"({m.get('processor', '?')}, {m.get('cpus', '?')} CPUs{memory}).")  # fmt: skip


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return lines + ["| " + " | ".join(row) + " |" for row in rows]


def _s(seconds: float) -> str:
    """A duration with three significant digits, in s, ms or µs."""
    if seconds >= 1:
        return f"{seconds:.3g} s"
    return f"{seconds * 1e3:.3g} ms" if seconds >= 1e-3 else f"{seconds * 1e6:.3g} µs"


def _x(ratio: float) -> str:
    return f"**{ratio:.2g}x**" if ratio < 10 else f"**{ratio:,.0f}x**"


def speed_section(r: dict) -> list[str]:
    """The ``make bench`` table from reports/bench/results.json."""
    nuts, sweep = r["nuts"], r["sweep"]
    rate = {e: r[f"{e}_min_ess_bulk"] / r[f"{e}_sample_seconds"] for e in ("nutpie", "pymc")}
    whole = {
        e: r[f"{e}_min_ess_bulk"] / (r[f"{e}_compile_seconds"] + r[f"{e}_sample_seconds"])
        for e in ("nutpie", "pymc")
    }
    n = r["map_grid_n_alphas"]
    rows = [
        [f"MAP over {n} alphas, PyMC model (exact Newton) / scikit-learn Ridge, same alphas",
         f"{_s(r['map_grid_seconds'])} / {_s(r['sklearn_grid_seconds'])}: "
         f"{_x(r['map_grid_ratio_vs_sklearn'])} (target <= 10x)"],
        ["MAP: first alpha including the compile / each further alpha / scikit-learn per alpha",
         f"{_s(r['map_first_alpha_seconds_including_compile'])} / "
         f"{_s(r['map_per_alpha_seconds'])} / {_s(r['sklearn_per_alpha_seconds'])}"],
        ["NUTS compile: nutpie / PyMC",
         f"{_s(r['nutpie_compile_seconds'])} / {_s(r['pymc_compile_seconds'])}"],
        [f"NUTS min bulk ESS per second, sampling only ({nuts['chains']} x {nuts['draws']} draws): "
         "nutpie / PyMC",
         f"{rate['nutpie']:,.0f} / {rate['pymc']:,.0f}: {_x(r['nuts_ess_per_s_ratio_vs_pymc'])}"],
        ["the same, end to end for one fit, compile included on both sides",
         f"{whole['nutpie']:,.0f} / {whole['pymc']:,.0f}: "
         f"{_x(r['nuts_ess_per_s_ratio_vs_pymc_end_to_end'])}"],
        [f"seconds per refit over a {sweep['alphas']}-alpha sweep (one compile each, "
         f"{sweep['chains']} x {sweep['draws']} draws): nutpie / PyMC",
         f"{_s(r['nutpie_seconds_per_refit_over_sweep'])} / "
         f"{_s(r['pymc_seconds_per_refit_over_sweep'])}: "
         f"{_x(r['pymc_seconds_per_refit_over_sweep'] / r['nutpie_seconds_per_refit_over_sweep'])}"],
        ["exact ridge twin `fit` / `BayesianRidge.fit`, n = 10^5, p = 100",
         f"{_s(r['twin_exact_fit_seconds_n1e5_p100'])} / "
         f"{_s(r['bayesian_ridge_fit_seconds_n1e5_p100'])}: "
         f"{_x(r['twin_exact_fit_ratio_vs_bayesian_ridge'])} (target <= 2x)"],
        ["5-fold `cross_val_score` of a NUTS Lasso twin: compiled model reused / compiled per fold",
         f"{_s(r['twin_nuts_cv5_seconds_compile_reused'])} / "
         f"{_s(r['twin_nuts_cv5_seconds_compile_per_fold'])}: "
         f"{_x(r['twin_nuts_cv5_speedup_from_reuse'])}"],
        ["a bad-input error, fresh process / the heavy imports it does not wait for",
         f"{_s(r['bad_input_seconds'])} / {_s(r['heavy_imports_seconds'])}"],
        ["a user's 1,000 x 20 CSV through `python -m experiments ridge --data`: first / second "
         "run (target <= 10 s)",
         f"{_s(r['user_csv_seconds_first_run'])} / {_s(r['user_csv_seconds_second_run'])}"
         if "user_csv_seconds_second_run" in r else "not measured"],
        ["nutpie compile of the ridge model: PyTensor caches cold / warm / same graph again in "
         "the process",
         f"{_s(r['nutpie_compile_seconds_cold_cache'])} / "
         f"{_s(r['nutpie_compile_seconds_warm_cache'])} / "
         f"{_s(r['nutpie_compile_seconds_reused_in_process'])}"],
    ]  # fmt: skip
    return [_where(r), "", *_table(["measurement", "value"], rows)]


ENGINE_LABELS = {
    "nutpie": "nutpie's own compile (numba C callbacks)",
    "callback": "nutpie, Python callback to PyTensor's numba",
    "nutpie-jax": "nutpie, JAX (persistent cache)",
    "pymc": "PyMC's default NUTS",
    "suite": "the suite (`PosteriorSampler`): nutpie, C callbacks cached on disk",
}


def one_fit(probe: dict) -> float:
    """Seconds of one fit in a process: the first model's compile and sampling."""
    return probe["first"]["compile_seconds"] + probe["first"]["sample_seconds"]


def engines_section(r: dict) -> list[str]:
    """The per-shape engine table of reports/bench/results.json's ``engines``."""
    header = ["model", "engine", "compile cold / warm / reused", "sampling", "min bulk ESS",
              "ESS/s sampling", "one fit, warm (wall / CPU)", "ESS/s one fit"]  # fmt: skip
    rows = []
    for shape, by_engine in r["shapes"].items():
        for engine, run in by_engine.items():
            cold, warm = run["cold"], run["warm"]
            fit = warm["first"]
            cpu = fit["compile_cpu_seconds"] + fit["sample_cpu_seconds"]
            rows.append([
                shape.replace("_", " "), ENGINE_LABELS[engine],
                f"{_s(cold['first']['compile_seconds'])} / {_s(fit['compile_seconds'])} / "
                f"{_s(warm['second']['compile_seconds'])}",
                _s(fit["sample_seconds"]), f"{fit['min_ess_bulk']:,.0f}",
                f"{fit['min_ess_bulk'] / fit['sample_seconds']:,.0f}",
                f"{_s(one_fit(warm))} / {_s(cpu)}", f"{fit['min_ess_bulk'] / one_fit(warm):,.0f}",
            ])  # fmt: skip
    load = max(run[k]["load_average"] for e in r["shapes"].values() for run in e.values()
               for k in ("cold", "warm"))  # fmt: skip
    return [
        f"{r['chains']} chains x {r['draws']} draws after {r['tune']} tuning steps, each engine in "
        f"fresh processes on an empty cache directory: cold is the first process, warm the second, "
        f"reused a second same-graph model in the warm process. CPU counts every thread and child "
        f"process. Highest 1-minute load average during the runs: {load:.1f}.",
        "",
        *_table(header, rows),
    ]


def _spread(fits: list[dict], key: str, fmt: str) -> str:
    """``key`` over ``fits`` as one value or its range."""
    low, high = min(f[key] for f in fits), max(f[key] for f in fits)
    return format(low, fmt) if low == high else f"{low:{fmt}}-{high:{fmt}}"


def policy_agrees(verdict: str, policy: int, short: int) -> bool:
    """Whether tuning ``policy`` iterations agrees with the tuning benchmark's ``verdict`` on
    ``short`` iterations: any length agrees with "within noise"."""
    return verdict == "within noise" or (verdict == "enough") == (policy == short)


def tuning_section(r: dict) -> list[str]:
    """The tuning-length table of reports/bench-tuning/results.json (:mod:`benchmarks.tuning`)."""
    header = ["posterior", "target accept", "tuning", "gradients per tuning iteration / per draw",
              "min bulk ESS", "min tail ESS", "max r_hat", "divergences", "seconds per fit",
              f"{r['tune']} enough?", "the suite tunes"]  # fmt: skip
    rows = []
    for shape, run in r["shapes"].items():
        for length in ("short", "long"):
            fits, tune = run[length], r["tune" if length == "short" else "tune_long"]
            per_tuning = sum(f["tuning_gradients"] for f in fits) / (len(fits) * r["chains"] * tune)
            per_draw = sum(f["draw_gradients"] for f in fits) / (
                len(fits) * r["chains"] * r["draws"]
            )
            found = policy = ""
            if length == "short":
                found = run["verdict"]
                agrees = policy_agrees(found, run["policy"], r["tune"])
                policy = str(run["policy"]) if agrees else f"**{run['policy']} (disagrees)**"
            rows.append([
                shape.replace("_", " ") if length == "short" else "", f"{run['target_accept']:g}",
                str(tune), f"{per_tuning:.1f} / {per_draw:.1f}", _spread(fits, "min_ess_bulk", ",.0f"),
                _spread(fits, "min_ess_tail", ",.0f"), _spread(fits, "max_r_hat", ".3f"),
                _spread(fits, "divergences", "d"), _spread(fits, "seconds", ".2f"), found, policy,
            ])  # fmt: skip
    return [
        _where(r),
        "",
        f"The suite's sampler, {r['chains']} chains x {r['draws']} draws after {r['tune']} and "
        f"after {r['tune_long']} tuning iterations, {r['seeds']} seeds each (ranges over the "
        f"seeds); ESS and r_hat over every free variable. {r['tune']} is enough when the "
        f"seed-averaged smallest bulk and tail ESS are both at least {r['enough']:g}x those after "
        f"{r['tune_long']}, too few when either is below {r['too_few']:g}x or the short tuning "
        "diverges more or misses the r_hat threshold the long one meets; in between the "
        "difference is within the seeds' spread. The suite's policy: "
        "`models.inference.engines.tuning_iterations` ([why](speed.md)).",
        "",
        *_table(header, rows),
    ]


def readme_speed(r: dict | None) -> str:
    """The README's speed paragraph, from reports/bench/results.json (None: not measured)."""
    if r is None or "engines" not in r:
        return "Not measured yet: run `make bench` ([docs/speed.md](docs/speed.md))."
    ridge = r["engines"]["shapes"]["ridge"]
    suite = one_fit(ridge["suite"]["warm"])
    pymc = one_fit(ridge["pymc"]["warm"])
    return textwrap.fill(
        f"One NUTS fit (diabetes ridge, {r['engines']['chains']} x {r['engines']['draws']} draws, "
        f"compile included, second process): **{_s(suite)}**; PyMC's default NUTS: {_s(pymc)} "
        f"(**{pymc / suite:.2g}x**); measured {r['machine']['measured']} "
        "([tables](docs/bench.md), [why](docs/speed.md)).",
        width=100,
    )


def _rows_label(rows: int) -> str:
    exponent = len(str(rows)) - 1
    return f"10^{exponent}" if rows == 10**exponent else f"{rows:,}"


def scale_section(r: dict) -> list[str]:
    """The ``make bench-scale`` table from reports/bench-scale/results.json."""
    by_rows: dict[int, dict] = {}
    for kind in ("pass", "Ridge", "BayesianRidge", "gradient"):
        for entry in r[kind]:
            by_rows.setdefault(entry["rows"], {})[kind] = entry

    def fit(entry: dict | None) -> str:
        return f"{_s(entry['seconds'])} / {entry['peak_rss_mb']:,.0f} MB" if entry else "not run"

    def gradient(entry: dict | None, label: str) -> str:
        return _s(entry[f"{label}_gradient_seconds"]) if entry else "not run"

    rows = []
    for n, at in sorted(by_rows.items()):
        step = at.get("pass")
        rows.append([
            _rows_label(n),
            _s(step["seconds"]) if step else "not run",
            f"{step['peak_rss_mb']:,.0f}" if step else "not run",
            fit(at.get("Ridge")),
            fit(at.get("BayesianRidge")),
            gradient(at.get("gradient"), "full_data"),
            gradient(at.get("gradient"), "statistics"),
        ])  # fmt: skip
    header = ["rows", "Dask pass", "its peak RSS (MB)", "Ridge.fit (time / peak RSS)",
              "BayesianRidge.fit (time / peak RSS)", "one gradient, row-by-row model",
              "one gradient, statistics model"]  # fmt: skip
    ratios = [[name.replace("_", " "), f"{value:.3g}"] for name, value in r["ratios"].items()]
    return [_where(r), "", *_table(header, rows), "", *_table(["ratio", "value"], ratios), "",
            *logistic_section(r)]  # fmt: skip


def logistic_section(r: dict) -> list[str]:
    """Logistic regression at scale: the distributed Newton MAP against scikit-learn in memory."""
    if not r.get("logistic"):
        return ["Logistic regression: not measured yet (run `make bench-scale`)."]
    baseline = {e["rows"]: e for e in r.get("LogisticRegression", [])}
    rows = [[_rows_label(e["rows"]), _s(e["seconds"]), str(e["passes"]),
             _s(e["seconds_per_pass"]), f"{e['peak_rss_mb']:,.0f}",
             (f"{_s(baseline[e['rows']]['seconds'])} / {baseline[e['rows']]['peak_rss_mb']:,.0f} MB"
              if e["rows"] in baseline else "not run (does not fit in memory)")]
            for e in r["logistic"]]  # fmt: skip
    header = [
        "rows",
        "distributed Newton MAP (certified)",
        "passes",
        "per pass",
        "its peak RSS (MB)",
        "LogisticRegression.fit in memory (time / peak RSS)",
    ]
    return _table(header, rows)


def page(bench: dict | None, scale: dict | None, tuning: dict | None = None) -> str:
    """The whole of docs/bench.md from the results dicts (None: not measured yet)."""
    lines = [
        "# Benchmark tables",
        "",
        "Generated by `python -m benchmarks.tables` from `reports/bench/results.json`,",
        "`reports/bench-tuning/results.json` and `reports/bench-scale/results.json`; do not edit.",
        "What is measured and why:",
        "[speed.md](speed.md) and [scale.md](scale.md).",
        "",
        "## Speed (`make bench`)",
        "",
    ]
    lines += speed_section(bench) if bench else ["Not measured yet: run `make bench`."]
    lines += ["", "## Engines (`make bench`)", ""]
    lines += (
        engines_section(bench["engines"])
        if bench and "engines" in bench
        else ["Not measured yet: run `make bench`."]
    )
    lines += ["", "## Tuning length (`make bench`)", ""]
    lines += tuning_section(tuning) if tuning else ["Not measured yet: run `make bench`."]
    lines += ["", "## Scale (`make bench-scale`)", ""]
    lines += scale_section(scale) if scale else ["Not measured yet: run `make bench-scale`."]
    return "\n".join(lines) + "\n"


def _load(name: str) -> dict | None:
    path = REPO / "reports" / name / "results.json"
    return json.loads(path.read_text()) if path.is_file() else None


def readme_with_speed(readme: str, bench: dict | None) -> str:
    """``readme`` with the paragraph after its "## Speed" heading replaced by :func:`readme_speed`."""
    head, heading, rest = readme.partition(SPEED_HEADING)
    _, blank, tail = rest.partition("\n\n")
    return head + heading + readme_speed(bench) + blank + tail


def write() -> Path:
    """Write docs/bench.md and the README's speed paragraph from the results files present now;
    return bench.md's path."""
    bench = _load("bench")
    BENCH_MD.write_text(page(bench, _load("bench-scale"), _load("bench-tuning")))
    README.write_text(readme_with_speed(README.read_text(), bench))
    return BENCH_MD


if __name__ == "__main__":
    print(write(), file=sys.stderr)
