"""Speed benchmarks, as ratios against baselines measured in the same run.

    python -m benchmarks            (or: make bench)

1. MAP over the alpha grid: the PyMC model compiled once and solved exactly at every alpha, against
   scikit-learn's Ridge on the same grid. The one compilation is reported separately.
2. NUTS: min bulk ESS per second on the diabetes posterior, nutpie on the compiled model against
   PyMC's own NUTS (``nuts_sampler="pymc"``), same draws, tune and chains.

Writes reports/bench/results.json. Timings vary from run to run; no test asserts on them.
"""

from __future__ import annotations

import logging
import os
import platform
import sys
import time

import arviz as az
import numpy as np
import pymc as pm
from sklearn.datasets import load_diabetes
from sklearn.linear_model import Ridge

from experiments import common
from experiments.output import atomic_output_dir
from models import ridge
from models.data import arrays, noise_estimate
from models.inference import MAPSolver, PosteriorSampler

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
    sampler = PosteriorSampler(model)
    compile_nutpie = time.perf_counter() - start
    start = time.perf_counter()
    dt_nutpie = sampler.sample({"prior_sd": tau}, draws=DRAWS, tune=TUNE, chains=CHAINS, seed=1)
    time_nutpie = time.perf_counter() - start
    with model:
        pm.set_data({"prior_sd": tau})
        start = time.perf_counter()
        dt_pymc = pm.sample(draws=DRAWS, tune=TUNE, chains=CHAINS, cores=2, nuts_sampler="pymc",
                            random_seed=1, progressbar=False, compute_convergence_checks=False)  # fmt: skip
        time_pymc = time.perf_counter() - start
    ess_nutpie, ess_pymc = min_ess(dt_nutpie), min_ess(dt_pymc)
    rate_nutpie, rate_pymc = ess_nutpie / time_nutpie, ess_pymc / time_pymc
    results = {
        "machine": {
            "platform": platform.platform(),
            "processor": platform.machine(),
            "cpus": os.cpu_count(),
        },
        "map_grid_n_alphas": len(ALPHAS),
        "map_grid_seconds": map_grid,
        "sklearn_grid_seconds": sklearn_grid,
        "map_grid_ratio_vs_sklearn": map_grid / sklearn_grid,
        "map_compile_seconds": compile_map,
        "nuts": {"draws": DRAWS, "tune": TUNE, "chains": CHAINS},
        "nutpie_compile_seconds": compile_nutpie,
        "nutpie_sample_seconds": time_nutpie,
        "nutpie_min_ess_bulk": ess_nutpie,
        "pymc_sample_seconds_including_compile": time_pymc,
        "pymc_min_ess_bulk": ess_pymc,
        "nuts_ess_per_s_ratio_vs_pymc": rate_nutpie / rate_pymc,
    }
    rows = [
        ("MAP grid, PyMC exact (s)", map_grid), ("MAP grid, sklearn Ridge (s)", sklearn_grid),
        ("  ratio (target <= 10)", map_grid / sklearn_grid), ("MAP compile, once (s)", compile_map),
        ("nutpie compile, once (s)", compile_nutpie), ("nutpie sampling (s)", time_nutpie),
        ("nutpie min ESS bulk", ess_nutpie), ("nutpie ESS/s", rate_nutpie),
        ("PyMC NUTS incl. its compile (s)", time_pymc), ("PyMC min ESS bulk", ess_pymc),
        ("PyMC ESS/s", rate_pymc), ("  ESS/s ratio nutpie/PyMC (target >= 20)", rate_nutpie / rate_pymc),
    ]  # fmt: skip
    print("\n".join(f"{label:<44}{value:>12.4g}" for label, value in rows))
    out = common.REPO_ROOT / "reports" / "bench"
    with atomic_output_dir(out, "bench") as tmp:
        common.write_json(tmp / "results.json", results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
