"""The README and docs/ say what the code does: every fenced block is labelled and every Python block
runs (or is skipped with its reason), every command names something that exists, every file, test
and link they point to is there; and the benchmark tables are generated from results files."""

from __future__ import annotations

import contextlib
import io
import json
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from benchmarks import tables

REPO = Path(__file__).resolve().parent.parent
PAGES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
LANGUAGES = {"python", "bash", "text"}
# A block's marker is the HTML comment on the line above it: <!-- test: KIND ARGS --> runs it by
# KIND below, <!-- skip: REASON --> skips it; an unmarked Python block is executed as it stands.
MARKER = re.compile(r"<!-- (test|skip): (.*?) -->")


@dataclass(frozen=True)
class Block:
    """One fenced block of a page: where it starts, its language, its text and its marker."""

    page: Path
    line: int
    language: str
    code: str
    marker: tuple[str, str] | None

    @property
    def label(self) -> str:
        return f"{self.page.relative_to(REPO)}:{self.line}"


def blocks(page: Path) -> list[Block]:
    """Every fenced block of ``page``, in order."""
    found, lines, i = [], page.read_text().splitlines(), 0
    while i < len(lines):
        if lines[i].startswith("```"):
            previous = next((line for line in reversed(lines[:i]) if line.strip()), "")
            marker = MARKER.fullmatch(previous.strip())
            end = next(j for j in range(i + 1, len(lines)) if lines[j].startswith("```"))
            found.append(Block(page, i + 1, lines[i][3:].strip(), "\n".join(lines[i + 1 : end]) + "\n",
                               marker.groups() if marker else None))  # fmt: skip
            i = end
        i += 1
    return found


ALL_BLOCKS = [block for page in PAGES for block in blocks(page)]
PYTHON = [block for block in ALL_BLOCKS if block.language == "python"]


def inline_code(page: Path) -> list[str]:
    """Every `inline code` span of ``page`` outside fenced blocks."""
    text = re.sub(r"^```.*?^```", "", page.read_text(), flags=re.S | re.M)
    return re.findall(r"`([^`\n]+)`", text)


def test_every_block_is_labelled_and_the_readme_is_short():
    unlabelled = [b.label for b in ALL_BLOCKS if b.language not in LANGUAGES]
    assert not unlabelled, f"label each block as one of {sorted(LANGUAGES)}: {unlabelled}"
    assert len((REPO / "README.md").read_text().splitlines()) <= 150


@pytest.mark.filterwarnings("ignore::models.twin.estimator.SamplingWarning")
@pytest.mark.parametrize("block", PYTHON, ids=[b.label for b in PYTHON])
def test_python_block_runs(block, request):
    kind, argument = block.marker or ("test", "exec")
    if kind == "skip":
        pytest.skip(argument)
    name, *rest = argument.split()
    RUNNERS[name](block, request, *rest)


def run_exec(block: Block, request) -> None:
    exec(compile(block.code, block.label, "exec"), {"__name__": "docs"})


def run_twin_example(block: Block, request) -> None:
    """The README's twin example runs as written and prints what the README says it prints."""
    shown = next(b for b in ALL_BLOCKS if b.page == block.page and b.line > block.line).code
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(block.code, block.label, "exec"), {"__name__": "readme"})
    lines, expected = printed.getvalue().splitlines(), shown.splitlines()
    assert [re.sub(r"[-\d.]+", "#", line) for line in lines] == [
        re.sub(r"[-\d.]+", "#", line) for line in expected
    ]
    for line, want in zip(lines, expected, strict=True):
        got_numbers = np.array(re.findall(r"-?\d+\.?\d*", line), dtype=float)
        want_numbers = np.array(re.findall(r"-?\d+\.?\d*", want), dtype=float)
        # exact lines agree to their printed rounding; P(w > 0) from NUTS within 0.1 (4 MC sd
        # of a probability at ESS >= 400)
        assert np.allclose(got_numbers, want_numbers, atol=0.1), (line, want)


def run_model_file(block: Block, request, name: str) -> None:
    """A model file as the docs show it: registered with one line, its MAP is scikit-learn's."""
    from models import get_model
    from models.core.data import build_model, default_dataset, model_data
    from models.inference.engines import MAPSolver

    request.getfixturevalue("add_model")(name, block.code)
    spec = get_model(name)
    data = model_data(spec, default_dataset(spec))
    penalty = spec.link.reference_penalty(data)
    fit = MAPSolver(build_model(spec, data)).solve(spec.link.prior_values(penalty, data)).certify()
    estimator = spec.link.sklearn(penalty, data).fit(data.X, data.y)
    np.testing.assert_allclose(fit.point[spec.coefficients], estimator.coef_, rtol=1e-8)


def run_experiment_module(block: Block, request) -> None:
    """An experiment module as the docs show it: it runs, verifies its claim and renders a page."""
    from experiments.runner import run_experiment

    namespace = {"__name__": "docs_experiment"}
    exec(compile(block.code, block.label, "exec"), namespace)
    out = request.getfixturevalue("tmp_path") / "report"
    results = run_experiment(namespace["EXPERIMENT"], ["--quick", "--quiet", "--out", str(out)])
    assert results["verdict_box"]["verified"]["outcome"] == "verified"
    assert json.loads((out / "results.json").read_text()) == results
    assert (out / "index.html").is_file() and (out / "index.md").is_file()


RUNNERS = {
    "exec": run_exec,
    "twin-example": run_twin_example,
    "model-file": run_model_file,
    "experiment": run_experiment_module,
}


def commands() -> list[tuple[str, str]]:
    """(page, command line) of every bash block line and every inline code span."""
    found = [
        (b.label, line) for b in ALL_BLOCKS if b.language == "bash" for line in b.code.splitlines()
    ]
    return found + [(page.name, span) for page in PAGES for span in inline_code(page)]


def test_every_command_names_something_that_exists():
    from experiments.registry import experiments

    # registered, the command line's own, a placeholder (NAME), or added by a docs example
    examples = [b.code for b in PYTHON if b.marker and b.marker[1].split()[0] != "exec"]
    added = {n for code in examples for n in re.findall(r'^    name="(\w+)"', code, flags=re.M)}
    names = {*experiments(), "all", "render", "prior", "NAME", *added}
    targets = set(re.findall(r"^([\w-]+):", (REPO / "Makefile").read_text(), flags=re.M))
    wrong = []
    for where, line in commands():
        wrong += [
            (where, n) for n in re.findall(r"python -m experiments (\w+)", line) if n not in names
        ]
        wrong += [(where, t) for t in re.findall(r"\bmake ([\w-]+)", line) if t not in targets]
        for module in re.findall(r"python -m (benchmarks[\w.]*)", line):
            path = REPO / module.replace(".", "/")
            if not (path.with_suffix(".py").is_file() or (path / "__main__.py").is_file()):
                wrong.append((where, module))
    assert not wrong


# A path the docs name in code: a folder or file of the repository (reports/ is generated; a
# command's own example paths are not paths of the repository).
REPO_PATH = re.compile(r"(?:models|experiments|tests|benchmarks|docs)/[\w/.*]*(?:::\w+)?")


def test_every_file_and_test_named_exists():
    missing = []
    for page in PAGES:
        for span in inline_code(page):
            for path in REPO_PATH.findall(span):
                file, _, test = path.partition("::")
                matches = list(REPO.glob(file.rstrip("/")))
                if not matches or (test and f"def {test}(" not in matches[0].read_text()):
                    missing.append((page.name, path))
    assert not missing


def anchors(page: Path) -> set[str]:
    """GitHub's anchors of ``page``'s headings."""
    headings = re.findall(r"^#+ (.*)$", page.read_text(), flags=re.M)
    return {re.sub(r"[^\w\- ]", "", h.lower()).replace(" ", "-") for h in headings}


def test_every_link_resolves():
    broken = []
    for page in PAGES:
        text = re.sub(r"``.*?``|`[^`]*`", "", page.read_text())  # code spans hold no links
        for target in re.findall(r"\]\(([^)\s]+)\)", text):
            if target.startswith(("http://", "https://")):
                continue
            file, _, anchor = target.partition("#")
            path = (page.parent / file).resolve() if file else page
            if not path.exists() or (anchor and anchor not in anchors(path)):
                broken.append((page.name, target))
    assert not broken


BENCH = {
    "machine": {"measured": "2026-01-02 03:04 UTC", "platform": "Linux-6.1-x86_64",
                "processor": "x86_64", "cpus": 2, "memory_gib": 23.4},
    "map_grid_n_alphas": 31, "map_grid_seconds": 0.018, "sklearn_grid_seconds": 0.015,
    "map_grid_ratio_vs_sklearn": 1.2, "map_compile_seconds": 1.9,
    "map_first_alpha_seconds_including_compile": 1.93, "map_per_alpha_seconds": 0.00058,
    "sklearn_per_alpha_seconds": 0.00047, "nuts": {"draws": 2000, "tune": 1000, "chains": 4},
    "nutpie_compile_seconds": 6.0, "nutpie_sample_seconds": 0.5, "nutpie_min_ess_bulk": 8000.0,
    "pymc_compile_seconds": 0.5, "pymc_sample_seconds": 6.0, "pymc_min_ess_bulk": 7200.0,
    "nuts_ess_per_s_ratio_vs_pymc": 13.3, "nuts_ess_per_s_ratio_vs_pymc_end_to_end": 1.1,
    "sweep": {"alphas": 31, "draws": 1000, "tune": 500, "chains": 2},
    "nutpie_seconds_per_refit_over_sweep": 0.25, "pymc_seconds_per_refit_over_sweep": 1.25,
    "twin_exact_fit_seconds_n1e5_p100": 0.14, "bayesian_ridge_fit_seconds_n1e5_p100": 0.7,
    "twin_exact_fit_ratio_vs_bayesian_ridge": 0.2, "twin_nuts_cv5_seconds_compile_reused": 6.4,
    "twin_nuts_cv5_seconds_compile_per_fold": 27.0, "twin_nuts_cv5_speedup_from_reuse": 4.2,
    "bad_input_seconds": 0.42, "heavy_imports_seconds": 7.0,
    "nutpie_compile_seconds_cold_cache": 16.4, "nutpie_compile_seconds_warm_cache": 9.3,
    "nutpie_compile_seconds_reused_in_process": 0.01,
}  # fmt: skip
SCALE = {
    "machine": BENCH["machine"],
    "pass": [{"rows": 10**6, "seconds": 1.7, "peak_rss_mb": 732.0},
             {"rows": 10**8, "seconds": 46.0, "peak_rss_mb": 1369.0}],
    "Ridge": [{"rows": 10**6, "seconds": 0.48, "peak_rss_mb": 508.0}],
    "BayesianRidge": [{"rows": 10**6, "seconds": 1.3, "peak_rss_mb": 966.0}],
    "gradient": [{"rows": 10**6, "full_data_gradient_seconds": 0.019,
                  "statistics_gradient_seconds": 1.2e-5}],
    "ratios": {"peak_rss_1e8_vs_1e6": 1.87},
    "logistic": [{"rows": 10**6, "seconds": 12.0, "passes": 6, "seconds_per_pass": 2.0,
                  "peak_rss_mb": 800.0},
                 {"rows": 10**8, "seconds": 1200.0, "passes": 6, "seconds_per_pass": 200.0,
                  "peak_rss_mb": 1500.0}],
    "LogisticRegression": [{"rows": 10**6, "seconds": 3.0, "peak_rss_mb": 900.0}],
}  # fmt: skip


def _tuning_fit(ess: float, tail: float) -> dict:
    # 4 chains: 300 tuning iterations of 6 gradients, 1000 draws of 5
    return {"tuning_gradients": 4 * 300 * 6, "draw_gradients": 4 * 1000 * 5, "min_ess_bulk": ess,
            "min_ess_tail": tail, "max_r_hat": 1.004, "divergences": 0, "seconds": 0.1}  # fmt: skip


def _tuning_shape(short: list[dict], verdict: str, policy: int) -> dict:
    long = [{**f, "tuning_gradients": 4 * 1000 * 6} for f in short]
    return {"short": short, "long": long, "target_accept": 0.8, "verdict": verdict,
            "policy": policy}  # fmt: skip


TUNING = {"machine": BENCH["machine"], "tune": 300, "tune_long": 1000, "draws": 1000, "chains": 4,
          "seeds": 2, "enough": 0.9, "too_few": 0.8,
          "shapes": {"ridge": _tuning_shape([_tuning_fit(4000, 2500), _tuning_fit(4200, 2600)],
                                            "enough", 300),
                     "horseshoe": _tuning_shape([_tuning_fit(60, 55)] * 2, "too few", 300),
                     "multinomial": _tuning_shape([_tuning_fit(60, 55)] * 2, "within noise",
                                                  1000)}}  # fmt: skip


def test_tuning_table_comes_from_its_results_file_and_flags_a_disagreeing_policy():
    page = tables.page(BENCH, None, TUNING)
    # gradients per iteration from the counts: 7,200 / (4 x 300) and 20,000 / (4 x 1000)
    assert ("| ridge | 0.8 | 300 | 6.0 / 5.0 | 4,000-4,200 | 2,500-2,600 | 1.004 | 0 | 0.10 | "
            "enough | 300 |") in page  # fmt: skip
    assert "| horseshoe | 0.8 | 300 | 6.0 / 5.0 | 60 | 55 | 1.004 | 0 | 0.10 | too few | " \
           "**300 (disagrees)** |" in page  # fmt: skip
    assert "| within noise | 1000 |" in page  # either length agrees with a verdict within noise
    assert "|  | 0.8 | 1000 | 6.0 / 5.0 |" in page
    assert "run `make bench`" in tables.page(BENCH, None, None)


def test_bench_tables_come_from_the_results_files():
    page = tables.page({**BENCH, "engines": ENGINES}, SCALE, TUNING)
    assert "Measured 2026-01-02 03:04 UTC on Linux-6.1-x86_64 (x86_64, 2 CPUs, 23.4 GiB)." in page
    assert "| MAP over 31 alphas, PyMC model (exact Newton) / scikit-learn Ridge, same alphas | " \
           "18 ms / 15 ms: **1.2x** (target <= 10x) |" in page  # fmt: skip
    # ESS per second computed from the file's ESS and seconds: 8000 / 0.5 and 7200 / 6
    assert "16,000 / 1,200: **13x**" in page
    assert "250 ms / 1.25 s: **5x**" in page  # the refit ratio, PyMC over nutpie
    assert "| 10^6 | 1.7 s | 732 | 480 ms / 508 MB | 1.3 s / 966 MB | 19 ms | 12 µs |" in page
    assert "| 10^8 | 46 s | 1,369 | not run | not run | not run | not run |" in page
    assert "| peak rss 1e8 vs 1e6 | 1.87 |" in page
    assert "| 10^6 | 12 s | 6 | 2 s | 800 | 3 s / 900 MB |" in page
    assert "| 10^8 | 1.2e+03 s | 6 | 200 s | 1,500 | not run (does not fit in memory) |" in page
    assert "Not measured" not in page
    missing = tables.page(None, None)
    assert "run `make bench`" in missing and "run `make bench-scale`" in missing
    assert "Measured" not in missing


def _probe(compile_seconds: float, sample_seconds: float, ess: float) -> dict:
    fit = {"compile_seconds": compile_seconds, "compile_cpu_seconds": compile_seconds,
           "sample_seconds": sample_seconds, "sample_cpu_seconds": 2 * sample_seconds,
           "min_ess_bulk": ess}  # fmt: skip
    return {"first": fit, "second": {**fit, "compile_seconds": 0.002}, "load_average": 1.5}


ENGINES = {"draws": 1000, "tune": 1000, "chains": 2, "shapes": {"ridge": {
    "suite": {"cold": _probe(3.0, 0.6, 2000.0), "warm": _probe(0.9, 0.6, 2000.0)},
    "pymc": {"cold": _probe(1.0, 5.0, 1500.0), "warm": _probe(0.5, 5.5, 1500.0)},
}}}  # fmt: skip


def test_engine_table_and_readme_speed_come_from_the_results_file():
    bench = {**BENCH, "engines": ENGINES}
    page = tables.page(bench, None)
    # compile cold / warm / reused; ESS per second of sampling (2000 / 0.6) and of one fit (/ 1.5)
    assert "| ridge | the suite (`PosteriorSampler`): nutpie, C callbacks cached on disk | " \
           "3 s / 900 ms / 2 ms | 600 ms | 2,000 | 3,333 | 1.5 s / 2.1 s | 1,333 |" in page  # fmt: skip
    speed = tables.readme_speed(bench)
    assert "**1.5 s**; PyMC's default NUTS: 6 s (**4x**)" in speed.replace("\n", " ")
    assert "measured 2026-01-02 03:04 UTC" in speed
    readme = "# x\n\n## Speed\n\nold numbers\nover two lines\n\n## Next\n"
    assert tables.readme_with_speed(readme, bench) == f"# x\n\n## Speed\n\n{speed}\n\n## Next\n"
    assert "Not measured yet" in tables.readme_with_speed(readme, None)


def test_readme_speed_agrees_with_the_bench_results():
    """With reports/bench/results.json present the README's paragraph is the one it generates;
    without it (a fresh clone), the paragraph is either the placeholder or self-consistent: its
    ratio is PyMC's seconds over the suite's."""
    readme = (REPO / "README.md").read_text()
    bench = tables._load("bench")
    if bench is not None and "engines" in bench:
        assert tables.readme_with_speed(readme, bench) == readme
        return
    paragraph = readme.partition(tables.SPEED_HEADING)[2].partition("\n\n")[0].replace("\n", " ")
    if paragraph == tables.readme_speed(None):
        return
    suite, suite_unit, pymc, pymc_unit, ratio = re.search(
        r"\*\*([\d.]+) (m?s)\*\*; PyMC's default NUTS: ([\d.]+) (m?s) \(\*\*([\d.]+)x\*\*\)",
        paragraph,
    ).groups()
    seconds = {"s": 1.0, "ms": 1e-3}
    assert float(ratio) == pytest.approx(
        float(pymc) * seconds[pymc_unit] / (float(suite) * seconds[suite_unit]), rel=0.1
    )


def test_a_results_file_records_when_and_where():
    machine = tables.machine()
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC", machine["measured"])
    assert machine["cpus"] >= 1 and machine["memory_gib"] > 0
