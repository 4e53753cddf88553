"""Scale benchmark: sufficient statistics of 10^6, 10^7 and 10^8 rows on this machine.

    python -m benchmarks.scale        (or: make bench-scale)

Each measurement runs in its own process, so its peak resident memory (``ru_maxrss``) is that of
the whole process: the Dask pass (a LocalCluster of 2 threads in the process, data generated
chunk-wise by ``dask.array``, never whole in memory), scikit-learn's Ridge and BayesianRidge on the
largest n they can hold here, and one gradient of the full-data PyMC model against the statistics
model; and logistic regression at the same sizes: the distributed Newton MAP
(:mod:`models.scale.newton`, seconds per pass, passes to a certified MAP, peak RSS) against
scikit-learn's in-memory ``LogisticRegression`` where it fits. Writes reports/bench-scale/results.json (with the date and the machine), then docs/bench.md
(:mod:`benchmarks.tables`); nothing here is asserted in tests.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time
from contextlib import contextmanager

import numpy as np

P = 20
CHUNK = 1_000_000
PASS_ROWS = (10**6, 10**7, 10**8)
SKLEARN_ROWS = (10**6, 10**7)  # 10^8 x 20 doubles is 16 GB: with scikit-learn's copies, not here
GRADIENT_ROWS = (10**6, 10**7)
LOGISTIC_ROWS = (10**6, 10**7, 10**8)
LOGISTIC_SKLEARN_ROWS = (10**6, 10**7)  # as for Ridge: 10^8 x 20 doubles do not fit here


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@contextmanager
def local_client():
    """The benchmarks' Dask cluster: one worker of 2 threads inside this process (its memory is
    the process's peak RSS)."""
    from dask.distributed import Client, LocalCluster

    with (
        LocalCluster(
            n_workers=1, threads_per_worker=2, processes=False, dashboard_address=":0"
        ) as cluster,
        Client(cluster),
    ):
        yield


def measure_pass(rows: int) -> dict:
    import dask.array as da

    from models.scale.statistics import dask_statistics

    with local_client():
        rng = da.random.default_rng(0)
        X = rng.standard_normal((rows, P), chunks=(CHUNK, P))
        y = X @ np.linspace(-1, 1, P) + rng.standard_normal(rows, chunks=CHUNK)
        start = time.perf_counter()
        stats = dask_statistics(X, y)
        seconds = time.perf_counter() - start
    return {"rows": stats.n, "seconds": seconds, "peak_rss_mb": peak_rss_mb()}


def _logistic_target(eta, uniform):
    return (uniform < 1 / (1 + np.exp(-eta))).astype(float)


def measure_logistic(rows: int) -> dict:
    """The distributed Newton MAP of LogisticRegression(C=1) on generated chunks (regenerated in
    every pass, as the statistics pass does): total and per-pass seconds, passes, peak RSS."""
    import dask.array as da

    from models.scale.newton import Partitions, newton_map

    with local_client():
        rng = da.random.default_rng(0)
        X = rng.standard_normal((rows, P), chunks=(CHUNK, P))
        eta = 0.5 + X @ np.linspace(-1, 1, P)
        y = da.map_blocks(_logistic_target, eta, rng.random(rows, chunks=CHUNK))
        start = time.perf_counter()
        mode = newton_map(Partitions(X, y), "bernoulli", 1.0).certify()
        seconds = time.perf_counter() - start
    return {"rows": mode.rows, "seconds": seconds, "passes": mode.passes,
            "seconds_per_pass": seconds / mode.passes, "iterations": mode.iterations,
            "newton_decrement": mode.newton_decrement, "peak_rss_mb": peak_rss_mb()}  # fmt: skip


def measure_logistic_sklearn(rows: int) -> dict:
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(0)
    X = rng.standard_normal((rows, P))
    y = _logistic_target(0.5 + X @ np.linspace(-1, 1, P), rng.random(rows))
    start = time.perf_counter()
    LogisticRegression(C=1.0, solver="newton-cholesky", tol=1e-10).fit(X, y)
    return {"rows": rows, "seconds": time.perf_counter() - start, "peak_rss_mb": peak_rss_mb()}


def _in_memory(rows: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    X = rng.standard_normal((rows, P))
    return X, X @ np.linspace(-1, 1, P) + rng.standard_normal(rows)


def measure_sklearn(rows: int, name: str) -> dict:
    from sklearn.linear_model import BayesianRidge, Ridge

    X, y = _in_memory(rows)
    estimator = Ridge(alpha=1.0) if name == "Ridge" else BayesianRidge()
    start = time.perf_counter()
    estimator.fit(X, y)
    return {"rows": rows, "seconds": time.perf_counter() - start, "peak_rss_mb": peak_rss_mb()}


def measure_gradient(rows: int) -> dict:
    from models import ridge
    from models.core.base import ModelData
    from models.scale.statistics import GaussianStatistics

    X, y = _in_memory(rows)
    names = tuple(f"x{j}" for j in range(P))
    data = ModelData(X, y, names, noise_sd=1.0)
    summary = ModelData(
        np.empty((0, P)),
        np.empty(0),
        names,
        noise_sd=1.0,
        stats=GaussianStatistics.from_arrays(X, y),
    )
    out = {"rows": rows}
    for label, model in (
        ("full_data", ridge.build_rows(data)),
        ("statistics", ridge.build(summary)),
    ):
        grad = model.compile_dlogp()
        point = model.initial_point()
        grad(point)
        times = []
        for _ in range(5):
            start = time.perf_counter()
            grad(point)
            times.append(time.perf_counter() - start)
        out[f"{label}_gradient_seconds"] = float(np.median(times))
    return out


def run_one(kind: str, rows: int) -> dict:
    """One measurement in a fresh process (its own peak RSS)."""
    command = [sys.executable, "-m", "benchmarks.scale", kind, str(rows)]
    result = subprocess.run(command, capture_output=True, text=True, check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> int:
    if len(sys.argv) == 3:
        kind, rows = sys.argv[1], int(sys.argv[2])
        if kind == "pass":
            out = measure_pass(rows)
        elif kind == "gradient":
            out = measure_gradient(rows)
        elif kind == "logistic":
            out = measure_logistic(rows)
        elif kind == "LogisticRegression":
            out = measure_logistic_sklearn(rows)
        else:
            out = measure_sklearn(rows, kind)
        print(json.dumps(out))
        return 0
    from benchmarks import tables, write_results

    results = {
        "machine": tables.machine(),
        "pass": [],
        "Ridge": [],
        "BayesianRidge": [],
        "gradient": [],
        "logistic": [],
        "LogisticRegression": [],
    }
    for rows in PASS_ROWS:
        results["pass"].append(run_one("pass", rows))
        print(f"Dask pass, {rows:.0e} rows: {results['pass'][-1]}", file=sys.stderr)
    for rows in SKLEARN_ROWS:
        for name in ("Ridge", "BayesianRidge"):
            results[name].append(run_one(name, rows))
            print(f"{name}, {rows:.0e} rows: {results[name][-1]}", file=sys.stderr)
    for rows in GRADIENT_ROWS:
        results["gradient"].append(run_one("gradient", rows))
        print(f"gradient, {rows:.0e} rows: {results['gradient'][-1]}", file=sys.stderr)
    for rows in LOGISTIC_ROWS:
        results["logistic"].append(run_one("logistic", rows))
        print(f"logistic Newton, {rows:.0e} rows: {results['logistic'][-1]}", file=sys.stderr)
    for rows in LOGISTIC_SKLEARN_ROWS:
        results["LogisticRegression"].append(run_one("LogisticRegression", rows))
        print(f"LogisticRegression, {rows:.0e} rows: {results['LogisticRegression'][-1]}",
              file=sys.stderr)  # fmt: skip
    largest = SKLEARN_ROWS[-1]
    at = {r["rows"]: r for r in results["pass"]}
    results["ratios"] = {
        f"dask_pass_vs_ridge_seconds_at_{largest:.0e}": at[largest]["seconds"]
        / results["Ridge"][-1]["seconds"],
        f"dask_pass_vs_bayesian_ridge_seconds_at_{largest:.0e}": at[largest]["seconds"]
        / results["BayesianRidge"][-1]["seconds"],
        "peak_rss_1e8_vs_1e6": at[10**8]["peak_rss_mb"] / at[10**6]["peak_rss_mb"],
        "logistic_peak_rss_1e8_vs_1e6": results["logistic"][-1]["peak_rss_mb"]
        / results["logistic"][0]["peak_rss_mb"],
        f"full_vs_statistics_gradient_at_{GRADIENT_ROWS[-1]:.0e}": results["gradient"][-1][
            "full_data_gradient_seconds"
        ]
        / results["gradient"][-1]["statistics_gradient_seconds"],
    }
    print(json.dumps(results["ratios"], indent=1))
    write_results("bench-scale", results)
    print(f"tables: {tables.write()}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
