"""Speed benchmarks, as ratios against baselines measured in the same run.

    python -m benchmarks            (or: make bench)

1. MAP over the alpha grid: the PyMC model compiled once and solved exactly at every alpha, against
   scikit-learn's Ridge on the same grid. The one compilation is reported separately.
2. NUTS: min bulk ESS per second on the diabetes posterior, nutpie against PyMC's own NUTS, same
   draws, tune and chains, measured the same way on both sides: the sampling phase alone (each
   engine's compile timed apart: the suite's (``COMPILED.compiled``, its callbacks cached on disk)
   and ``pm.NUTS()``), and end to end
   for one fit (compile included on both sides); then the cost per refit over a 31-alpha sweep
   with one compilation each (``compiled.with_data`` for nutpie, ``pm.set_data`` and the same step
   for PyMC). And the MAP grid against scikit-learn: the first alpha with the compile, then per
   alpha.

3. The Bayesian twin (models.twin.estimator): the exact ridge twin's fit (mode, Student-t posterior, draws)
   against ``BayesianRidge.fit`` on n = 10^5, p = 100; and a 5-fold ``cross_val_score`` of a NUTS
   twin with its compiled model reused across folds against the same with a compile per fold.
4. Fresh processes: a bad-input answer against the heavy imports it no longer waits for; a user's
   1,000 x 20 CSV through the ridge experiment, first and second run; nutpie's
   compile with PyTensor's on-disk caches cold (an empty ``base_compiledir``) and warm, and a
   second same-graph model in the same process (``models.inference.engines.COMPILED``).
5. Engines per model shape, each in fresh processes (:mod:`benchmarks.engines`): compile cold, warm
   and reused, and ESS per second: nutpie's own compile, a Python callback, nutpie's JAX backend,
   PyMC's default, and the suite's sampler (nutpie with its C callbacks cached on disk).
6. Tuning length per posterior (:mod:`benchmarks.tuning`, its own results file, run next by
   make bench): ESS, r_hat and gradients after the suite's short tuning and after 1000.

Writes reports/bench/results.json (with the date and the machine), then docs/bench.md from it
(:mod:`benchmarks.tables`). Timings vary from run to run; no test asserts on them.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import arviz as az
import numpy as np
import nutpie  # noqa: F401  imported before any clock starts, as PyMC is: compiles are timed alone
import pymc as pm
from sklearn.datasets import load_diabetes
from sklearn.linear_model import Ridge

from benchmarks import engines, tables, write_results
from models import ridge
from models.core.data import arrays, noise_estimate
from models.inference.engines import COMPILED, MAPSolver, PosteriorSampler

logging.getLogger("pymc").setLevel(logging.ERROR)
ALPHAS = np.logspace(-4, 6, 31)
REPEATS = 5
DRAWS, TUNE, CHAINS = 2000, 1000, 4


def best_time(fn, repeats: int = REPEATS) -> float:
    """Fastest of ``repeats`` wall-clock runs (the least disturbed by other load)."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def min_ess(dt) -> float:
    ess = az.ess(dt, var_names=["intercept", "w"], method="bulk")
    return float(min(ess[v].min() for v in ("intercept", "w")))


SWEEP = {"draws": 1000, "tune": 500, "chains": 2}


def pymc_sample(step, draws: int, tune: int, chains: int, seed: int):
    """PyMC's own NUTS with a step built beforehand (so its compile is timed apart)."""
    return pm.sample(draws=draws, tune=tune, chains=chains, cores=2, step=step, nuts_sampler="pymc",
                     random_seed=seed,
                     progressbar=False, compute_convergence_checks=False)  # fmt: skip


def sweep_costs(model, sampler, step, taus: list[float]) -> dict[str, float]:
    """Sampling seconds of a whole prior-width sweep, each engine reusing its one compilation."""
    start = time.perf_counter()
    for k, tau in enumerate(taus):
        sampler.sample({"prior_sd": tau}, seed=k, **SWEEP)
    nutpie_seconds = time.perf_counter() - start
    start = time.perf_counter()
    with model:
        for k, tau in enumerate(taus):
            pm.set_data({"prior_sd": tau})
            pymc_sample(step, SWEEP["draws"], SWEEP["tune"], SWEEP["chains"], seed=k)
    return {"nutpie": nutpie_seconds, "pymc": time.perf_counter() - start}


def twin_benchmarks() -> dict:
    """The twin's fit against BayesianRidge, and NUTS cross-validation with and without reuse."""
    from sklearn.linear_model import BayesianRidge, Lasso
    from sklearn.model_selection import cross_val_score

    from models.twin import estimator as twin

    rng = np.random.default_rng(0)
    X_big = rng.standard_normal((100_000, 100))
    y_big = X_big @ rng.standard_normal(100) + rng.standard_normal(100_000)
    fit_twin = best_time(
        lambda: twin.bayesian(Ridge(alpha=1.0), random_state=0).fit(X_big, y_big), 3
    )
    fit_bayesian_ridge = best_time(lambda: BayesianRidge().fit(X_big, y_big), 3)
    print(f"exact ridge twin {fit_twin:.3f} s, BayesianRidge {fit_bayesian_ridge:.3f} s "
          f"(n = 100000, p = 100)", file=sys.stderr)  # fmt: skip

    class CompileEveryFit(twin.BayesianTwin):
        """The same twin with the process's compiled models dropped before every fit."""

        def fit(self, X, y, sample_weight=None):
            COMPILED.clear()
            return super().fit(X, y, sample_weight)

    X, y = load_diabetes(return_X_y=True)
    options = {"draws": 1000, "tune": 1000, "chains": 2, "random_state": 0}
    COMPILED.clear()
    start = time.perf_counter()
    cross_val_score(twin.bayesian(Lasso(alpha=0.1), **options), X, y, cv=5)
    cv_reused = time.perf_counter() - start
    start = time.perf_counter()
    cross_val_score(CompileEveryFit(Lasso(alpha=0.1), **options), X, y, cv=5)
    cv_recompiled = time.perf_counter() - start
    print(f"5-fold CV of a NUTS Lasso twin: {cv_reused:.1f} s reusing the compiled model, "
          f"{cv_recompiled:.1f} s compiling per fold", file=sys.stderr)  # fmt: skip
    return {
        "twin_exact_fit_seconds_n1e5_p100": fit_twin,
        "bayesian_ridge_fit_seconds_n1e5_p100": fit_bayesian_ridge,
        "twin_exact_fit_ratio_vs_bayesian_ridge": fit_twin / fit_bayesian_ridge,
        "twin_nuts_cv5_seconds_compile_reused": cv_reused,
        "twin_nuts_cv5_seconds_compile_per_fold": cv_recompiled,
        "twin_nuts_cv5_speedup_from_reuse": cv_recompiled / cv_reused,
    }


REPO = Path(__file__).resolve().parents[1]
COMPILE_PROBE = """
import sys, time
from models import get_model
from models.core.data import build_model, default_dataset, model_data
from models.inference.engines import COMPILED
spec = get_model("ridge")
md = model_data(spec, default_dataset(spec))
seconds = []
for _ in range(2):
    model = build_model(spec, md)  # PyMC imported and the graph built before the clock starts
    start = time.perf_counter()
    COMPILED.compiled(model)  # nutpie's form (callbacks cached), kept for the same graph again
    seconds.append(time.perf_counter() - start)
print(*seconds)
"""


def _wall(argv: list[str], env: dict | None = None) -> tuple[float, str]:
    """Wall seconds of one fresh interpreter running ``argv`` in the repository, and its stdout."""
    start = time.perf_counter()
    done = subprocess.run([sys.executable, *argv], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=600)  # fmt: skip
    return time.perf_counter() - start, done.stdout


def process_benchmarks() -> dict:
    """What a user waits for in a fresh process: a bad-input answer against the imports it used to
    wait for, and nutpie's compile with PyTensor's on-disk caches cold, warm, and reused in the
    process (each measured in its own interpreter)."""
    bad_input = sorted(_wall(["-m", "experiments", "ridge", "--data", "missing.csv", "--target",
                              "y"])[0] for _ in range(5))[2]  # fmt: skip
    imports = sorted(_wall(["-c", "import pymc, arviz, sklearn.linear_model, matplotlib.pyplot"])[0]
                     for _ in range(3))[1]  # fmt: skip
    print(f"bad input answered in {bad_input:.2f} s; the heavy imports alone take {imports:.2f} s",
          file=sys.stderr)  # fmt: skip
    with tempfile.TemporaryDirectory() as cold_cache:
        env = {**os.environ, "PYTENSOR_FLAGS": f"base_compiledir={cold_cache}"}
        cold, _ = _wall(["-c", COMPILE_PROBE], env)[1].split()
    warm, reused = _wall(["-c", COMPILE_PROBE])[1].split()
    print(f"nutpie compile of the ridge model: {float(cold):.1f} s with PyTensor's caches cold, "
          f"{float(warm):.1f} s warm, {float(reused):.3f} s reused in the process", file=sys.stderr)  # fmt: skip
    return {
        "bad_input_seconds": bad_input,
        "heavy_imports_seconds": imports,
        "nutpie_compile_seconds_cold_cache": float(cold),
        "nutpie_compile_seconds_warm_cache": float(warm),
        "nutpie_compile_seconds_reused_in_process": float(reused),
    }


USER_CSV_SHAPE = (1000, 20)


def user_csv_benchmark() -> dict:
    """A user's CSV through the ridge experiment, as the README shows it: ``python -m experiments
    ridge --data FILE --target y`` on a seeded 1,000 x 20 CSV, wall seconds of a fresh process, the
    first run (its graphs new to the compile cache) and the second (the target: <= 10 s)."""
    rows, columns = USER_CSV_SHAPE
    rng = np.random.default_rng(0)
    X = rng.standard_normal((rows, columns))
    y = X @ rng.normal(0.0, 1.0, columns) + rng.normal(0.0, 2.0, rows)
    seconds = {}
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "user.csv"
        header = ",".join([*(f"x{j}" for j in range(columns)), "y"])
        np.savetxt(path, np.column_stack([X, y]), delimiter=",", header=header, comments="")
        for run in ("first", "second"):
            seconds[run], _ = _wall(["-m", "experiments", "ridge", "--data", str(path), "--target",
                                     "y", "--out", str(Path(folder) / run)])  # fmt: skip
            if not (Path(folder) / run / "results.json").exists():
                raise RuntimeError(f"the ridge experiment wrote no report for {path}")
    print(f"a user's {rows:,} x {columns} CSV through `experiments ridge`: first run "
          f"{seconds['first']:.1f} s, second {seconds['second']:.1f} s", file=sys.stderr)  # fmt: skip
    return {"user_csv_seconds_first_run": seconds["first"],
            "user_csv_seconds_second_run": seconds["second"]}  # fmt: skip


def main() -> int:
    X, y = load_diabetes(return_X_y=True)
    names = list(load_diabetes().feature_names)
    sigma = noise_estimate(X, y)
    taus = [ridge.alpha_to_prior_sd(a, sigma) for a in ALPHAS]
    model = ridge.build(arrays(X, y, names, sigma))

    start = time.perf_counter()
    solver = MAPSolver(model)
    compile_map = time.perf_counter() - start
    sklearn_grid = best_time(lambda: [Ridge(alpha=a, solver="cholesky").fit(X, y) for a in ALPHAS])
    map_grid = best_time(lambda: [solver.solve({"prior_sd": t}) for t in taus])
    print(f"MAP grid ({len(ALPHAS)} alphas): PyMC exact MAP {map_grid:.4f} s, sklearn Ridge {sklearn_grid:.4f} s, "
          f"ratio {map_grid / sklearn_grid:.2f}x; one compile {compile_map:.2f} s", file=sys.stderr)  # fmt: skip

    tau = ridge.alpha_to_prior_sd(0.05, sigma)
    start = time.perf_counter()
    COMPILED.compiled(model)
    compile_nutpie = time.perf_counter() - start
    sampler = PosteriorSampler(model)  # reuses the copy just compiled
    start = time.perf_counter()
    dt_nutpie = sampler.sample({"prior_sd": tau}, draws=DRAWS, tune=TUNE, chains=CHAINS, seed=1)
    time_nutpie = time.perf_counter() - start
    with model:
        pm.set_data({"prior_sd": tau})
        start = time.perf_counter()
        step = pm.NUTS()  # PyMC compiles its log density and gradient here
        compile_pymc = time.perf_counter() - start
        start = time.perf_counter()
        dt_pymc = pymc_sample(step, DRAWS, TUNE, CHAINS, seed=1)
        time_pymc = time.perf_counter() - start
    ess_nutpie, ess_pymc = min_ess(dt_nutpie), min_ess(dt_pymc)
    rate_nutpie, rate_pymc = ess_nutpie / time_nutpie, ess_pymc / time_pymc
    end_to_end_nutpie = ess_nutpie / (compile_nutpie + time_nutpie)
    end_to_end_pymc = ess_pymc / (compile_pymc + time_pymc)
    sweep = sweep_costs(model, sampler, step, [ridge.alpha_to_prior_sd(a, sigma) for a in ALPHAS])
    sweep_nutpie = (compile_nutpie + sweep["nutpie"]) / len(ALPHAS)
    sweep_pymc = (compile_pymc + sweep["pymc"]) / len(ALPHAS)
    print(f"NUTS min-ESS/s, sampling only: nutpie {rate_nutpie:.0f}, PyMC {rate_pymc:.0f} "
          f"({rate_nutpie / rate_pymc:.1f}x); end to end with compile: nutpie {end_to_end_nutpie:.0f}, "
          f"PyMC {end_to_end_pymc:.0f} ({end_to_end_nutpie / end_to_end_pymc:.1f}x); per refit over "
          f"{len(ALPHAS)} alphas: nutpie {sweep_nutpie:.2f} s, PyMC {sweep_pymc:.2f} s", file=sys.stderr)  # fmt: skip
    results = {
        "machine": tables.machine(),
        "map_grid_n_alphas": len(ALPHAS),
        "map_grid_seconds": map_grid,
        "sklearn_grid_seconds": sklearn_grid,
        "map_grid_ratio_vs_sklearn": map_grid / sklearn_grid,
        "map_compile_seconds": compile_map,
        "map_first_alpha_seconds_including_compile": compile_map + map_grid / len(ALPHAS),
        "map_per_alpha_seconds": map_grid / len(ALPHAS),
        "sklearn_per_alpha_seconds": sklearn_grid / len(ALPHAS),
        "nuts": {"draws": DRAWS, "tune": TUNE, "chains": CHAINS},
        "nutpie_compile_seconds": compile_nutpie,
        "nutpie_sample_seconds": time_nutpie,
        "nutpie_min_ess_bulk": ess_nutpie,
        "pymc_compile_seconds": compile_pymc,
        "pymc_sample_seconds": time_pymc,
        "pymc_min_ess_bulk": ess_pymc,
        "nuts_ess_per_s_ratio_vs_pymc": rate_nutpie / rate_pymc,
        "nuts_ess_per_s_ratio_vs_pymc_end_to_end": end_to_end_nutpie / end_to_end_pymc,
        "sweep": {"alphas": len(ALPHAS), **SWEEP},
        "nutpie_seconds_per_refit_over_sweep": sweep_nutpie,
        "pymc_seconds_per_refit_over_sweep": sweep_pymc,
        **twin_benchmarks(),
        **process_benchmarks(),
        **user_csv_benchmark(),
        "engines": engines.run(),
    }
    rows = [
        ("MAP grid, PyMC exact (s)", map_grid), ("MAP grid, sklearn Ridge (s)", sklearn_grid),
        ("  ratio (target <= 10)", map_grid / sklearn_grid), ("MAP compile, once (s)", compile_map),
        ("nutpie compile, once (s)", compile_nutpie), ("nutpie sampling (s)", time_nutpie),
        ("nutpie min ESS bulk", ess_nutpie), ("nutpie ESS/s", rate_nutpie),
        ("PyMC compile, once (s)", compile_pymc), ("PyMC sampling (s)", time_pymc),
        ("PyMC min ESS bulk", ess_pymc), ("PyMC ESS/s", rate_pymc),
        ("  ESS/s ratio nutpie/PyMC, sampling only", rate_nutpie / rate_pymc),
        ("  ESS/s ratio nutpie/PyMC, compile included", end_to_end_nutpie / end_to_end_pymc),
        ("MAP, first alpha incl. compile (s)", results["map_first_alpha_seconds_including_compile"]),
        ("MAP per further alpha (s)", results["map_per_alpha_seconds"]),
        ("sklearn Ridge per alpha (s)", results["sklearn_per_alpha_seconds"]),
        (f"nutpie per refit, {len(ALPHAS)}-alpha sweep (s)", sweep_nutpie),
        (f"PyMC per refit, {len(ALPHAS)}-alpha sweep (s)", sweep_pymc),
        ("exact ridge twin fit, n=1e5 p=100 (s)", results["twin_exact_fit_seconds_n1e5_p100"]),
        ("BayesianRidge fit, same data (s)", results["bayesian_ridge_fit_seconds_n1e5_p100"]),
        ("  ratio twin/BayesianRidge (target <= 2)", results["twin_exact_fit_ratio_vs_bayesian_ridge"]),
        ("5-fold CV, NUTS twin, compile reused (s)", results["twin_nuts_cv5_seconds_compile_reused"]),
        ("5-fold CV, NUTS twin, compile per fold (s)", results["twin_nuts_cv5_seconds_compile_per_fold"]),
        ("  speed-up from reuse", results["twin_nuts_cv5_speedup_from_reuse"]),
        ("bad input answered, fresh process (s)", results["bad_input_seconds"]),
        ("  the heavy imports alone (s)", results["heavy_imports_seconds"]),
        ("nutpie compile, PyTensor caches cold (s)", results["nutpie_compile_seconds_cold_cache"]),
        ("nutpie compile, caches warm (s)", results["nutpie_compile_seconds_warm_cache"]),
        ("nutpie compile, reused in process (s)", results["nutpie_compile_seconds_reused_in_process"]),
    ]  # fmt: skip
    print("\n".join(f"{label:<44}{value:>12.4g}" for label, value in rows))
    write_results("bench", results)
    print(f"tables: {tables.write()}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
