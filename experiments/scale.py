"""Experiment ``scale``: the ridge posterior of data that never sit in memory, through Dask.

A seeded synthetic data set is written to Parquet in chunks (or ``--data PATH --target COL`` names
a Parquet file or folder, or a CSV file or glob); one Dask pass on a LocalCluster (or
``--scheduler tcp://host:8786``) computes the sufficient statistics; the MAP, the exact posterior
(sigma fixed and unknown), the evidence-maximising alpha and NUTS all follow from them. At the
default size the page also loads the rows into memory and shows every number equal to the
in-memory path's. Wall time, memory and the cost of one gradient against rows go to timings.json.

With ``--model logistic`` the data are binary (y ~ Bernoulli(logit^-1(0.5 + X w)), or a 0/1
``--target``) and there are no sufficient statistics: the MAP of ``LogisticRegression(C=1)`` is the
distributed Newton solver's (:mod:`models.scale.newton`, one or two passes per iteration,
certified), the posterior its Laplace approximation, checked by PSIS of its draws in one more pass;
the page shows the coverage of the true w and the Laplace error against n.

    python -m experiments scale [--model ridge|logistic] [--rows N] [--scheduler ADDRESS]
                                [--data PATH --target COL]
"""

from __future__ import annotations

import argparse
import glob
import os
import shutil
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np

from experiments import common, intervals, output, report, verdicts
from experiments.runner import Card, Experiment, Run, Section, diagnostics_section
from experiments.style import COLORS, plt, save
from models import logistic, ridge
from models.core.base import InputError, ModelData, Scaling, quoted
from models.core.data import CONSTANT, build_model, is_constant
from models.core.lazy import lazy
from models.exact.evidence import Spectrum, maximise_evidence
from models.inference.engines import (
    MAPSolver,
    PosteriorSampler,
    sampling_diagnostics,
    set_data,
    tuning_iterations,
)
from models.scale.statistics import (
    GaussianStatistics,
    dask_client,
    dask_statistics,
    statistics_values,
)

az = lazy("arviz")
sp_stats = lazy("scipy.stats")

N_FEATURES = 20
CHUNK_ROWS = 250_000
CURVE_ROWS = (10**4, 10**5, 10**6)
GRADIENT_ROWS = (10**3, 10**4, 10**5, 10**6)  # up to 10^5 with --quick
IN_MEMORY_MAX = 2_000_000  # rows up to which the page also loads the data and compares
BYTES_PER_ROW = 8 * (N_FEATURES + 1)  # float64 features and target on disk (Parquet, no gain)
TEMPORARY_PREFIX = "secretly-bayesian-scale-"  # + pid: swept by later runs once its owner is gone
SCHEDULER_SCHEMES = ("tcp", "tls", "ws", "wss", "inproc", "ucx")
MODELS = ("ridge", "logistic")
LOGISTIC_C = 1.0  # LogisticRegression(C=1): w_j ~ Normal(0, 1)
LOGISTIC_MAP_BOUND = 1e-6  # the bernoulli family's Check-1 bound (measured ~1e-9 in the tests)
LAPLACE_SHIFT_BOUND = 0.1  # largest |Laplace mean - reweighted mean| accepted, in posterior sds
PSIS_DRAWS = {True: 1000, False: 4000}  # by --quick
ACCURACY_ROWS = (10**3, 10**4)  # the error curve's own fits (the run's n is added)
# NUTS mean against the exact mean, in MCSE: above this is flagged (false alarm ~6e-5 each).
Z_FLAG = 4.0
# (bound, why) of each equality of the statistics path with another computation of it.
EQUALITY = {
    "map_vs_closed_form": (1e-8, "certified Newton MAP vs the Cholesky solve of the statistics"),
    "map_vs_sklearn": (1e-8, "two Cholesky solves"),
    "exact_mean_vs_memory": (1e-10, "same algebra, other summation order"),
    "exact_sd_vs_memory": (1e-10, "as above"),
    "student_t_sd_vs_memory": (1e-10, "as above"),
    "log_evidence_vs_memory": (1e-8, "eigh of C_xx vs SVD of Xc"),
}
WHAT = {
    "map_vs_closed_form": "MAP vs the closed-form ridge solve of the statistics",
    "map_vs_sklearn": "MAP vs scikit-learn Ridge on the loaded rows",
    "exact_mean_vs_memory": "exact posterior mean vs in-memory conjugate",
    "exact_sd_vs_memory": "exact posterior variances vs in-memory",
    "student_t_sd_vs_memory": "Student-t variances vs in-memory",
    "log_evidence_vs_memory": "log evidence vs SVD of the loaded rows",
}


def row_count(text: str) -> int:
    """argparse type: a number of rows, 100 to 10^10."""
    try:
        value = int(float(text))
    except ValueError:
        value = -1
    if not 100 <= value <= 10**10:
        raise argparse.ArgumentTypeError(
            f"must be a whole number of rows from 100 to 1e10, got {text}"
        )
    return value


def scheduler_address(text: str) -> str:
    """argparse type: a Dask scheduler address, ``scheme://host[:port]``."""
    try:
        parts = urlsplit(text)
        port_ok = parts.port is None or 0 < parts.port < 65536
    except ValueError:
        parts, port_ok = None, False
    if parts is None or parts.scheme not in SCHEDULER_SCHEMES or not parts.hostname or not port_ok:
        raise argparse.ArgumentTypeError(
            f"must be a Dask scheduler address such as tcp://host:8786, got {text!r}"
        )
    return text


def options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--rows", type=row_count, default=None,
                   help="rows of the synthetic data set (default 1e6, 1e5 with --quick; written "
                   "in chunks)")  # fmt: skip
    p.add_argument("--model", choices=MODELS, default="ridge",
                   help="ridge (sufficient statistics, exact) or logistic (distributed Newton MAP, "
                   "Laplace posterior); default ridge")  # fmt: skip
    p.add_argument("--scheduler", type=scheduler_address, help="address of a running Dask scheduler (tcp://host:8786); "
                   "default: a LocalCluster of 2 worker processes started and stopped here")  # fmt: skip


def check_columns(path: str, target: str) -> None:
    """Check ``path`` (Parquet file/folder, CSV file/glob) from every file's start: each is a
    regular file (a FIFO would block the pass), all have the same columns, among them the target
    and a feature, and every column is numeric. Only a Parquet footer (pyarrow) or a CSV's header
    and first rows (:func:`experiments.common.check_csv_head`, the suite's CSV parser) are read,
    so a mistake is answered at once, before Dask is imported; what only a full pass can see (NaN,
    text further down, too few rows) is reported by the pass, naming the partition."""
    if Path(path).is_dir():
        files = sorted(str(f) for f in Path(path).glob("*.parquet"))
        if not files:
            raise InputError(f"--data {path}: a folder without .parquet files")
    else:
        files = [path] if Path(path).is_file() else sorted(glob.glob(path))
    if not files:
        raise InputError(f"--data {path}: no such file, folder or glob match")
    for file in files:
        common.check_regular_file(file)
    if _is_parquet(path):
        columns = [_numeric_columns(file) for file in files]
    else:  # the suite's one CSV parser on each file's header and first rows
        columns = [common.check_csv_head(file, target)[0] for file in files]
    for file, other in zip(files[1:], columns[1:], strict=True):
        if set(other) != set(columns[0]):
            differ = sorted(set(other) ^ set(columns[0]))
            raise InputError(
                f"--data {quoted(path)}: {quoted(file)} has other columns than "
                f"{quoted(files[0])} (differing: {', '.join(map(quoted, differ[:5]))}); every "
                "file needs the same columns"
            )
    if target not in columns[0]:
        raise InputError(f"--target {quoted(target)} is not a column of {quoted(path)}")
    if len(columns[0]) < 2:
        raise InputError(f"{quoted(path)} has no feature column besides the target")


def _numeric_columns(file: str) -> list[str]:
    """The columns of one Parquet file, from its footer; refuses a column that is not numeric."""
    import pyarrow as pa  # (not pyarrow.dataset: it imports pandas, 2 s)

    schema = _schema(file)
    numeric = (pa.types.is_integer, pa.types.is_floating, pa.types.is_boolean, pa.types.is_null)
    text = [f.name for f in schema if not any(is_kind(f.type) for is_kind in numeric)]
    if text:
        raise InputError(
            f"column(s) {', '.join(map(quoted, text[:5]))} of {quoted(file)} are not numeric"
        )
    return list(schema.names)


def _schema(file: str):
    """The pyarrow schema of one Parquet file (its footer)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        return pq.read_schema(file)
    except (OSError, pa.ArrowException) as error:
        raise InputError(
            f"--data {quoted(file)}: cannot read it ({str(error).splitlines()[0]})"
        ) from None


def _is_parquet(path: str) -> bool:
    return path.endswith(".parquet") or Path(path).is_dir()


# rows a data set needs here: the page shows the Student-t posterior (sigma unknown, nu = n - 1
# degrees of freedom), whose sd is finite only for nu > 2
MIN_ROWS = 4


def read_frame(path: str):
    """A dask dataframe of ``path`` (checked first by :func:`check_columns`). CSV files are parsed
    by Python's ``csv`` module in the suite's strict dialect (:func:`experiments.common.csv_dialect`,
    pandas' python engine), the parser of every CSV the suite reads: a stray quote anywhere is an
    error, never a number; every column is read as float64 whatever its first block looks like
    (an integer column with a decimal later)."""
    import dask.dataframe as dd

    if _is_parquet(path):
        return dd.read_parquet(path)
    first = path if Path(path).is_file() else sorted(glob.glob(path))[0]
    # the header as the suite's parser read and checked it (names stripped of spaces, no BOM)
    header, delimiter = common.check_csv_head(first, None, rows=0)
    # every cell by the suite's number rules (pandas' float64 parsing is Python's float(), which
    # takes "1_000" and non-ASCII digits): a later cell the head check never saw stops the pass
    return dd.read_csv(path, blocksize="64MB", engine="python", header=0, names=header,
                       dialect=common.csv_dialect(delimiter),
                       converters=dict.fromkeys(header, common.strict_number))  # fmt: skip


def validate(run: Run) -> None:
    if run.args.rows is None:
        run.args.rows = 10**5 if run.args.quick else 10**6
    if run.args.data:
        check_columns(run.args.data, run.args.target)
        return
    needed, free = run.args.rows * BYTES_PER_ROW, shutil.disk_usage(tempfile.gettempdir()).free
    if needed > free:
        raise InputError(
            f"--rows {run.args.rows}: the synthetic data need about {needed / 1e9:.3g} GB in "
            f"{tempfile.gettempdir()}, which has {free / 1e9:.3g} GB free; use fewer rows"
        )


def write_synthetic(
    folder: Path, rows: int, seed: int, logistic: bool = False
) -> tuple[list[str], str, np.ndarray]:
    """Seeded rows written as Parquet files of at most CHUNK_ROWS rows, one chunk in memory at a
    time: correlated features (a fixed band mixing of Normal noise) and y = 2 + X w + 3 eps, or
    with ``logistic`` y ~ Bernoulli(logit^-1(0.5 + X w / 2)) (w halved: log-odds of a few units).
    Returns the feature names, the target's name and the true w."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng([seed, 0])
    mixing = np.eye(N_FEATURES) + 0.6 * np.eye(N_FEATURES, k=1) + 0.3 * np.eye(N_FEATURES, k=2)
    w_true = rng.normal(0, 1, N_FEATURES) * (rng.random(N_FEATURES) < 0.6) / (2 if logistic else 1)
    names = [f"x{j + 1:02d}" for j in range(N_FEATURES)]
    for index, start in enumerate(range(0, rows, CHUNK_ROWS)):
        chunk = np.random.default_rng([seed, index + 1])
        k = min(CHUNK_ROWS, rows - start)
        X = chunk.standard_normal((k, N_FEATURES)) @ mixing
        if logistic:
            y = (chunk.random(k) < 1 / (1 + np.exp(-(0.5 + X @ w_true)))).astype(float)
        else:
            y = 2.0 + X @ w_true + 3.0 * chunk.standard_normal(k)
        table = pa.table({**{n: X[:, j] for j, n in enumerate(names)}, "y": y})
        pq.write_table(table, folder / f"part-{index:05d}.parquet")
    return names, "y", w_true


def compute_data(run: Run) -> dict:
    if run.args.data:
        run.state["source"] = (run.args.data, run.args.target)
        return {"data_source": run.args.data, "target": run.args.target}
    output.remove_stale(Path(tempfile.gettempdir()), TEMPORARY_PREFIX)
    folder = tempfile.TemporaryDirectory(prefix=f"{TEMPORARY_PREFIX}{os.getpid()}-")
    run.state["folder"] = folder  # removed when the run ends
    output.LIVE.add(Path(folder.name))
    logistic = run.args.model == "logistic"
    _, target, w_true = write_synthetic(Path(folder.name), run.args.rows, run.seed, logistic)
    run.state["source"] = (folder.name, target)
    if logistic:
        return {"true_w": w_true.tolist(), "true_intercept": 0.5, "target": target,
                "data_source": f"synthetic: {run.args.rows} rows x {N_FEATURES} correlated "
                "features, y ~ Bernoulli(logit^-1(0.5 + X w)), seeded, written to Parquet in "
                f"chunks of {CHUNK_ROWS} rows"}  # fmt: skip
    return {"true_w": w_true.tolist(), "data_source": f"synthetic: {run.args.rows} rows x {N_FEATURES} correlated features, "
            "y = 2 + X w + 3 eps, seeded, written to Parquet in chunks of "
            f"{CHUNK_ROWS} rows", "target": target}  # fmt: skip


def _measured_pass(client, compute) -> tuple[GaussianStatistics, float, float]:
    """Run ``compute()`` on the cluster: its result, wall seconds and peak cluster memory (MB)."""
    from distributed.diagnostics import MemorySampler

    sampler = MemorySampler()
    start = time.perf_counter()
    with sampler.sample("pass", client=client, measure="process", interval=0.05):
        result = compute()
    seconds = time.perf_counter() - start
    memory = sampler.to_pandas()
    return result, seconds, float(memory.max().iloc[0]) / 2**20 if len(memory) else float("nan")


def compute_pass(run: Run) -> dict:
    import dask.array as da

    path, target = run.state["source"]
    timings = run.timings
    with dask_client(run.args.scheduler) as client:
        frame = read_frame(path)
        try:
            stats, seconds, memory = _measured_pass(
                client, lambda: dask_statistics(frame, target=target)
            )
        except InputError as error:  # the pass's own words: a cell, a partition, too few rows
            raise InputError(f"--data {path}: {error}") from None
        except ValueError as error:  # pandas' words (a ragged row, a stray quote)
            reason = str(error).strip().splitlines()[-1][:200] if str(error).strip() else "?"
            raise InputError(
                f"--data {path}: a row the CSV reader refused ({reason}); no posterior computed"
            ) from None
        check_pass(stats, target, path)  # before the scaling curve's passes
        timings["pass"] = {"rows": stats.n, "seconds": seconds, "peak_cluster_memory_mb": memory,
                           "partitions": frame.npartitions}  # fmt: skip
        # The worker processes' memory with nothing to compute (libraries loaded by the pass above):
        # the scaling curve's memory is read above it.
        _, _, timings["idle_cluster_memory_mb"] = _measured_pass(client, lambda: time.sleep(0.5))
        curve = []
        for rows in sorted({r for r in CURVE_ROWS if r <= max(run.args.rows, 10**4)}):
            generator = da.random.default_rng(run.seed)
            X = generator.standard_normal((rows, N_FEATURES), chunks=(CHUNK_ROWS, N_FEATURES))
            y = X.sum(axis=1) + generator.standard_normal(rows, chunks=CHUNK_ROWS)
            _, seconds, memory = _measured_pass(client, lambda X=X, y=y: dask_statistics(X, y))
            curve.append({"rows": rows, "seconds": seconds, "peak_cluster_memory_mb": memory})
        timings["curve"] = curve
    run.state["stats"] = stats
    run.state["names"] = [c for c in frame.columns if c != target]
    return {
        "n_obs": stats.n,
        "feature_names": run.state["names"],
        "partitions": frame.npartitions,
        "scheduler": run.args.scheduler,
    }


def check_pass(stats: GaussianStatistics, target: str, path: str) -> None:
    """Refuse in one line, before any posterior, what only the pass can see: fewer than
    :data:`MIN_ROWS` rows; no more rows than coefficients (the evidence's noise sd, as
    :func:`models.core.data.noise_estimate`: with n <= p + 1 the fit interpolates and sigma -> 0);
    a constant target."""
    n, p = stats.n, len(stats.x_mean)
    if n < MIN_ROWS:
        raise InputError(
            f"{quoted(path)}: needs at least {MIN_ROWS} data rows (the sigma-unknown posterior's "
            f"sd is finite from nu = n - 1 > 2), found {n}"
        )
    if n <= p + 1:
        raise InputError(
            f"{quoted(path)}: {n} rows and {p} features: the noise sd the evidence estimates "
            "needs more rows than coefficients (n > p + 1)"
        )
    y_sd = np.sqrt(max(stats.yy, 0.0) / stats.weight_total)
    if is_constant(y_sd, abs(stats.y_mean) + y_sd):
        raise InputError(f"target column {quoted(target)} is {CONSTANT}: nothing to fit")


def compute_newton(run: Run) -> dict:
    """The distributed Newton MAP of LogisticRegression(C=1) and PSIS of its Laplace draws (one
    more pass), timed; complete separation is refused (exit 2) after the certified MAP."""
    from models.scale.newton import Partitions, importance_check, newton_map

    path, target = run.state["source"]
    prior_sd = logistic.C_to_prior_sd(LOGISTIC_C)
    with dask_client(run.args.scheduler) as client:
        frame = read_frame(path)
        data = Partitions(frame, target=target)
        mode, seconds, memory = _measured_pass(
            client, lambda: newton_map(data, "bernoulli", prior_sd)
        )
        run.timings["newton"] = {"rows": mode.rows, "seconds": seconds, "passes": mode.passes,
                                 "seconds_per_pass": seconds / mode.passes,
                                 "peak_cluster_memory_mb": memory,
                                 "partitions": frame.npartitions}  # fmt: skip
        run.diagnose(report.map_diagnostics("distributed Newton MAP", mode.converged, mode.message))
        mode.certify()
        if mode.separated:
            raise InputError(
                f"{quoted(target)}: complete separation (the MAP's own direction separates the "
                "classes): the MAP exists only because of the prior (certified: "
                f"{mode.message}); a Laplace posterior of a likelihood without a mode is not "
                "trusted here: use NUTS on a subsample, or fewer features"
            )
        started = time.perf_counter()
        check = importance_check(data, "bernoulli", prior_sd, mode, PSIS_DRAWS[run.args.quick],
                                 seed=run.seed)  # fmt: skip
        run.timings["psis_seconds"] = time.perf_counter() - started
    run.state["mode"], run.state["names"] = mode, data.features
    mean, cov = mode.laplace()
    return {
        "model": "logistic",
        "n_obs": mode.rows,
        "feature_names": data.features,
        "partitions": frame.npartitions,
        "scheduler": run.args.scheduler,
        "C": LOGISTIC_C,
        "laplace": {"mean": mean.tolist(), "sd": np.sqrt(np.diag(cov)).tolist(),
                    "map_certified": mode.converged, "map_message": mode.message,
                    "passes": mode.passes, "iterations": mode.iterations},
        "psis": {"pareto_k": check.pareto_k, "ess": check.ess, "draws": check.draws,
                 "mean_shift_sd": check.mean_shift_sd.tolist(),
                 "sd_ratio": check.sd_ratio.tolist()},
    }  # fmt: skip


def compute_logistic_posterior(run: Run) -> dict:
    """The Laplace posterior against scikit-learn in memory, PSIS, and the true w's coverage."""
    lap = run.results["laplace"]
    mean, sd = np.asarray(lap["mean"]), np.asarray(lap["sd"])
    found = {}
    shift = float(np.max(np.abs(run.results["psis"]["mean_shift_sd"])))
    result: dict = {"laplace_shift_sd": shift}
    if run.results["n_obs"] <= IN_MEMORY_MAX:
        from sklearn.linear_model import LogisticRegression

        path, target = run.state["source"]
        table = read_frame(path).compute()
        sk = LogisticRegression(C=LOGISTIC_C, solver="newton-cholesky", tol=1e-12, max_iter=1000)
        sk.fit(table[run.state["names"]].to_numpy(float), table[target].to_numpy(float))
        result["map_vs_sklearn"] = common.rel_linf(mean[1:], sk.coef_[0])
        found["equality"] = run.verify(verdicts.agreement(
            "the distributed Newton MAP against scikit-learn's LogisticRegression(C=1) on the "
            "loaded rows (relative difference)", result["map_vs_sklearn"], LOGISTIC_MAP_BOUND,
            lap["map_certified"]))  # fmt: skip
    found["laplace"] = run.check("Laplace vs PSIS", verdicts.agreement(
        "largest shift of a Laplace mean from the PSIS-reweighted posterior mean, in posterior "
        "sds", shift, LAPLACE_SHIFT_BOUND, run.results["psis"]["pareto_k"] < verdicts.PARETO_K_MAX))  # fmt: skip
    if "equality" not in found:
        run.verify(found["laplace"])
    names = run.state["names"]
    found["signs"] = run.adds(verdicts.signs(names, sp_stats.norm.cdf(mean[1:] / sd[1:])))
    if "true_w" in run.results:
        truth = np.concatenate([[run.results["true_intercept"]], run.results["true_w"]])
        low, high = intervals.gaussian(mean, sd)
        found["coverage"] = run.check("Known w", verdicts.coverage(
            f"true intercept and coefficients inside their Laplace {intervals.PROB:.0%} intervals",
            int(np.sum((low <= truth) & (truth <= high))), len(truth), intervals.PROB))  # fmt: skip
    result["verdicts"] = found
    return result


def compute_accuracy(run: Run) -> None:
    """The Laplace mean's error against n: PSIS on in-memory subsets of the same data shape at
    ACCURACY_ROWS (benchmarks.laplace), and this run's own measurement."""
    from benchmarks.laplace import compare

    curve = [compare(n, run.seed, draws=PSIS_DRAWS[run.args.quick] // 4, nuts=False)
             for n in ACCURACY_ROWS if n < run.results["n_obs"]]  # fmt: skip
    curve.append({"rows": run.results["n_obs"], "psis_mean_error_sd": run.results["laplace_shift_sd"],
                  "pareto_k": run.results["psis"]["pareto_k"]})  # fmt: skip
    run.timings["accuracy"] = curve


def compute_posterior(run: Run) -> dict:
    raw, names = run.state["stats"], run.state["names"]
    stats = raw.standardized(names)
    evidence = maximise_evidence(Spectrum.of_statistics(stats))
    alpha, sigma = evidence["alpha"], evidence["noise_sd"]
    data = ModelData(np.empty((0, len(names))), np.empty(0), tuple(names),
                     scaling=Scaling(raw.x_mean, raw.x_sd), noise_sd=sigma, stats=stats)  # fmt: skip
    values = ridge.SPEC.link.prior_values({"alpha": alpha}, data)
    model = build_model(ridge.SPEC, data, tuple(values))
    mode = MAPSolver(model, ridge.SPEC).solve(values)
    run.diagnose(report.map_diagnostics("MAP from the statistics", mode.converged, mode.message))
    fixed, unknown = stats.conjugate(alpha, sigma), stats.conjugate(alpha)
    nuts = PosteriorSampler(model).sample(values, seed=run.seed, **run.cfg["nuts"])
    run.diagnose(sampling_diagnostics("NUTS on the statistics model", nuts, ["intercept", "w"]))
    w = nuts["posterior"]["w"].stack(sample=("chain", "draw")).values
    mcse = az.mcse(nuts, var_names=["w"])["w"].values
    exact_sd = np.sqrt(np.diag(fixed.covariance()))
    b0, coef = ridge.SPEC.point_coefficients(mode.point)
    result = {
        "standardized": True, "feature_mean": raw.x_mean.tolist(), "feature_scale": raw.x_sd.tolist(),
        "alphas": [alpha], "map_coef": [coef.tolist()], "map_intercept": [b0], "noise_sd": sigma,
        "evidence": evidence,
        "posterior": {"alpha": alpha, "map": coef.tolist(), "exact_mean": fixed.mean[1:].tolist(),
                      "exact_sd": exact_sd[1:].tolist(), "mean": w.mean(axis=1).tolist(),
                      "sd": w.std(axis=1).tolist(), "mcse": mcse.tolist(),
                      "map_certified": mode.converged},
        "posterior_unknown_noise": {"exact_mean": unknown.mean[1:].tolist(),
                                    "exact_sd": np.sqrt(np.diag(unknown.covariance()))[1:].tolist(),
                                    "dof": unknown.dof, "sigma_mean_square": unknown.s2 * unknown.dof / (unknown.dof - 2)},
        "map_vs_closed_form": common.rel_linf(coef, stats.ridge_mode(alpha)[1]),
    }  # fmt: skip
    if raw.n <= IN_MEMORY_MAX:
        result["in_memory"] = in_memory_check(run, alpha, sigma, coef, fixed, unknown, evidence)
    result["verdicts"] = posterior_verdicts(run, result, raw.x_sd)
    return result


def posterior_verdicts(run: Run, result: dict, x_sd: np.ndarray) -> dict:
    """The box: the statistics path equal to the others (the worst equality against its bound),
    the signs, NUTS against the exact posterior and, for generated data, the known w's coverage."""
    post, names = result["posterior"], run.state["names"]
    measured = {"map_vs_closed_form": result["map_vs_closed_form"], **result.get("in_memory", {})}
    worst = max(measured, key=lambda k: measured[k] / EQUALITY[k][0])
    found = {"equality": run.verify(verdicts.agreement(
        f"the statistics path against {'the in-memory path and ' if 'in_memory' in result else ''}"
        f"the closed form; the check closest to its bound: {WHAT[worst]} (relative difference)",
        measured[worst], EQUALITY[worst][0], post["map_certified"]))}  # fmt: skip
    mean, sd = np.asarray(post["exact_mean"]), np.asarray(post["exact_sd"])
    found["signs"] = run.adds(verdicts.signs(names, sp_stats.norm.cdf(mean / sd)))
    z = np.abs(np.subtract(post["mean"], mean)) / np.asarray(post["mcse"])
    found["nuts"] = run.check("NUTS vs exact", verdicts.mcmc_vs_exact(float(np.max(z)), Z_FLAG))
    if "true_w" in run.results:
        # The model is fitted on standardised columns: the true coefficient there is w x sd(x).
        truth = np.asarray(run.results["true_w"]) * x_sd
        low, high = intervals.gaussian(mean, sd)
        found["true_w_standardised"] = truth.tolist()
        found["coverage"] = run.check("Known w", verdicts.coverage(
            f"true coefficients of the generated data inside their exact {intervals.PROB:.0%} "
            "intervals", int(np.sum((low <= truth) & (truth <= high))), len(truth),
            intervals.PROB))  # fmt: skip
    return found


def evidence_choice(ev: dict) -> str:
    """What the shown alpha is to the evidence (:func:`models.exact.evidence.maximise_evidence`):
    its maximiser, or the search's edge when the evidence has no maximum."""
    if ev.get("edge") is None:  # results written before the edge was recorded had a maximum
        return "maximises the evidence"
    return (f"is the edge of the evidence search: the evidence has no maximum and rises as alpha "
            f"goes to {verdicts.EVIDENCE_EDGE_LIMIT[ev['edge']]}, and the posterior is shown at "
            "that edge")  # fmt: skip


def in_memory_check(run, alpha, sigma, coef, fixed, unknown, evidence) -> dict:
    """The same numbers from the rows loaded into memory (scikit-learn, SVD evidence)."""
    from sklearn.linear_model import Ridge

    path, target = run.state["source"]
    table = read_frame(path).compute()
    X = table[run.state["names"]].to_numpy(float)
    y = table[target].to_numpy(float)
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    sk = Ridge(alpha=alpha, solver="cholesky").fit(X, y)
    memory_fixed, memory_unknown = (
        ridge.conjugate({"alpha": alpha}, X, y, None, sigma),
        ridge.conjugate({"alpha": alpha}, X, y),
    )
    spectrum = Spectrum.of(X, y)
    return {
        "map_vs_sklearn": common.rel_linf(coef, sk.coef_),
        "exact_mean_vs_memory": common.rel_linf(fixed.mean, memory_fixed.mean),
        "exact_sd_vs_memory": common.rel_linf(np.diag(fixed.covariance()), np.diag(memory_fixed.covariance())),
        "student_t_sd_vs_memory": common.rel_linf(np.diag(unknown.covariance()), np.diag(memory_unknown.covariance())),
        "log_evidence_vs_memory": abs(evidence["log_evidence"] - spectrum.log_evidence(
            evidence["noise_sd"], evidence["prior_sd"])) / abs(evidence["log_evidence"]),
    }  # fmt: skip


def _gradient_seconds(function, point) -> float:
    """Median seconds of one call, over enough calls to last ~0.2 s."""
    function(point)
    start, calls = time.perf_counter(), 0
    times = []
    while time.perf_counter() - start < 0.2 or calls < 3:
        t = time.perf_counter()
        function(point)
        times.append(time.perf_counter() - t)
        calls += 1
    return float(np.median(times))


def compute_gradients(run: Run) -> None:
    """One compiled gradient of each model, timed at growing n (rows swapped, not recompiled)."""
    rng = np.random.default_rng(run.seed)
    names = tuple(f"x{j + 1:02d}" for j in range(N_FEATURES))
    X, y = (
        rng.standard_normal((GRADIENT_ROWS[0], N_FEATURES)),
        rng.standard_normal(GRADIENT_ROWS[0]),
    )
    full = ridge.build_rows(ModelData(X, y, names, noise_sd=1.0))
    summary = ridge.build(ModelData(X, y, names, noise_sd=1.0))
    full_grad, summary_grad = full.compile_dlogp(), summary.compile_dlogp()
    point = full.initial_point()
    rows = []
    for n in GRADIENT_ROWS[:-1] if run.args.quick else GRADIENT_ROWS:
        X, y = rng.standard_normal((n, N_FEATURES)), rng.standard_normal(n)
        set_data(full, {"X": X, "y_obs": y})
        set_data(summary, statistics_values(GaussianStatistics.from_arrays(X, y)))
        rows.append({"rows": n, "full_data_seconds": _gradient_seconds(full_grad, point),
                     "statistics_seconds": _gradient_seconds(summary_grad, point)})  # fmt: skip
    run.timings["gradient"] = rows


def logistic_figure(run: Run) -> None:
    curve = run.timings["accuracy"]
    rows = np.array([c["rows"] for c in curve], dtype=float)
    error = np.array([c["psis_mean_error_sd"] for c in curve])
    fig, ax = plt.subplots(figsize=(7, 4.2), layout="constrained")
    ax.loglog(rows, error, "o-", color=COLORS["posterior"],
              label="largest |Laplace mean - PSIS mean| (posterior sds)")  # fmt: skip
    ax.loglog(rows, error[0] * np.sqrt(rows[0] / rows), ":", color=COLORS["exact"],
              label="n^-1/2 through the first point")  # fmt: skip
    ax.axhline(0.01, color=COLORS["sklearn"], lw=1, ls="--", label="1% of a posterior sd")
    ax.set_xlabel("rows n")
    ax.set_ylabel("Laplace mean error (posterior sds)")
    ax.set_title(f"Laplace against the reweighted posterior, p = {N_FEATURES} (this run)")
    ax.legend(fontsize=8)
    save(fig, run.out / "scale.png")


def figures(run: Run) -> None:
    timings = run.timings
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.2), layout="constrained")
    rows = [r["rows"] for r in timings["gradient"]]
    left.loglog(rows, [r["full_data_seconds"] * 1e6 for r in timings["gradient"]], "o-",
                color=COLORS["sklearn"], label="full-data model: grows with n")  # fmt: skip
    left.loglog(rows, [r["statistics_seconds"] * 1e6 for r in timings["gradient"]], "s-",
                color=COLORS["posterior"], label="statistics model: O(p^2), any n")  # fmt: skip
    left.set_xlabel("rows n")
    left.set_ylabel("one gradient of the log posterior (µs)")
    left.set_title(f"Cost of one NUTS gradient, p = {N_FEATURES} (this run)")
    left.legend(fontsize=8)
    curve = timings["curve"]
    right.loglog([c["rows"] for c in curve], [c["seconds"] for c in curve], "o-",
                 color=COLORS["posterior"], label="wall time of a pass over generated arrays (s)")  # fmt: skip
    right.set_xlabel("rows n")
    right.set_ylabel("seconds")
    memory = right.twinx()
    memory.plot([c["rows"] for c in curve], [c["peak_cluster_memory_mb"] for c in curve], "s--",
                color=COLORS["exact"], label="its peak cluster memory (MB)")  # fmt: skip
    if "idle_cluster_memory_mb" in timings:
        memory.axhline(timings["idle_cluster_memory_mb"], color=COLORS["exact"], lw=1, ls=":",
                       label="idle cluster memory (MB)")  # fmt: skip
    memory.set_ylabel("peak cluster memory (MB, worker processes)")
    memory.set_ylim(bottom=0)
    memory.grid(False)
    right.set_title("Passes over generated arrays, 2 Dask workers (this run)")
    handles = right.get_legend_handles_labels()[0] + memory.get_legend_handles_labels()[0]
    right.legend(handles, [h.get_label() for h in handles], fontsize=8, loc="upper left")
    save(fig, run.out / "scale.png")


def memory_verdict(timings: dict) -> dict:
    """:func:`verdicts.memory_scaling` of the scaling curve in timings.json (page time: timings
    are not in results.json)."""
    curve = timings["curve"]
    return verdicts.memory_scaling([c["rows"] for c in curve],
                                   [c["peak_cluster_memory_mb"] for c in curve],
                                   timings.get("idle_cluster_memory_mb"))  # fmt: skip


def logistic_page(page: report.Page, results: dict) -> None:
    r, timings, found = results, page.timings, results["verdicts"]
    lap, psis, newton = r["laplace"], r["psis"], timings["newton"]
    page.claim(
        "Logistic regression has no sufficient statistics, but its gradient and Hessian are sums "
        "over rows: a distributed Newton solver finds the certified MAP in a few Dask passes, and "
        "the Laplace posterior at it is checked by reweighting its draws in one more pass.",
        "g = [1 X]' (p - y) + prior,   H = [1 X]' diag(p (1 - p)) [1 X] + I / C\n"
        "posterior ~ Normal(MAP, H^-1)   (H from the final pass)",
    )
    page.heading("Data and the passes")
    page.text(f"Data: {report.user(r['data_source'])}; target {report.user(r['target'])}; "
              f"LogisticRegression(C={r['C']:g}). The MAP: {report.user(lap['map_message'])}; "
              f"{newton['seconds']:.2f} s in all ({newton['seconds_per_pass']:.2f} s per pass), "
              f"peak cluster memory {newton['peak_cluster_memory_mb']:.0f} MB (this run, "
              f"timings.json). PSIS of {psis['draws']} Laplace draws, one more pass: Pareto k "
              f"{psis['pareto_k']:.2f}, ESS {psis['ess']:.0f}.")  # fmt: skip
    if "equality" in found:
        page.verdict(found["equality"])
    page.heading("The Laplace posterior")
    names = ["intercept", *r["feature_names"]]
    truth = [r["true_intercept"], *r["true_w"]] if "true_w" in r else None
    header = ["parameter", "MAP (Laplace mean)", "Laplace sd", "(PSIS - Laplace) mean / sd",
              "PSIS sd / Laplace sd"] + (["true value"] if truth else [])  # fmt: skip
    rows = [[names[j], lap["mean"][j], lap["sd"][j], psis["mean_shift_sd"][j],
             psis["sd_ratio"][j]] + ([truth[j]] if truth else []) for j in range(len(names))]  # fmt: skip
    page.table(header, rows)
    page.verdict(found["laplace"])
    if "coverage" in found:
        page.verdict(found["coverage"], "The data are generated with a known w: ")
    page.heading("Laplace error against n")
    curve = timings["accuracy"]
    page.table(["rows", "largest Laplace mean error (posterior sds)", "Pareto k"],
               [[c["rows"], c["psis_mean_error_sd"], c["pareto_k"]] for c in curve])  # fmt: skip
    slope = float(np.polyfit(np.log([c["rows"] for c in curve]),
                             np.log([c["psis_mean_error_sd"] for c in curve]), 1)[0]) if len(curve) > 1 else float("nan")  # fmt: skip
    page.figure("scale.png", "The largest error of a Laplace mean, in posterior sds, against n, "
                "measured by PSIS of the Laplace draws (subsets of the same data shape in memory, "
                "and this run's data in one Dask pass). Times are from this run (timings.json).",
                observe=f"log-log slope {slope:.2f} (Bernstein-von Mises predicts -0.5)")  # fmt: skip
    page.bullets([report.sentence(found["signs"])])


def page(page: report.Page, results: dict) -> None:
    r, timings, found = results, page.timings, results["verdicts"]
    post, unknown = r["posterior"], r["posterior_unknown_noise"]
    page.claim(
        "For a Gaussian likelihood the posterior depends on the rows only through n, the means and "
        "the centred cross-products, computed in one pass in any order: the ridge posterior of "
        "data that never sit in memory is exact, and a NUTS gradient costs O(p^2) whatever n.",
        "||y - b0 - Xw||^2 = C_yy - 2 w'C_xy + w'C_xx w + n (ybar - b0 - xbar'w)^2\n"
        "C_xx = Xc'Xc, C_xy = Xc'yc, C_yy = yc'yc   (merged across partitions exactly: Chan, Golub & "
        "LeVeque 1979)",
    )
    page.heading("Data and the pass")
    pass_ = timings["pass"]
    page.text(f"Data: {report.user(r['data_source'])}; target {report.user(r['target'])}. The pass "
              f"over the data (reading {r['partitions']} partition(s), {r['n_obs']} rows, and "
              f"summing their statistics) on "
              f"{'the scheduler ' + report.user(r['scheduler']) if r.get('scheduler') else 'a LocalCluster of 2 worker processes'} "
              f"took {pass_['seconds']:.2f} s, peak cluster memory {pass_['peak_cluster_memory_mb']:.0f} MB "
              "(this run, timings.json). Each partition is checked for NaN and inf in its task: one "
              "bad value anywhere stops the pass with the partition named, before any posterior "
              "exists.")  # fmt: skip
    page.heading("The posterior, from the statistics alone")
    ev = r["evidence"]
    page.text(f"Features standardised from the same pass. alpha = {post['alpha']:.4g} {evidence_choice(ev)} "
              f"(sigma profiled: {ev['noise_sd']:.4g}; log evidence {ev['log_evidence']:.6g}). "
              f"The MAP is the suite's Newton solver on the PyMC statistics model. With sigma "
              f"unknown (p(sigma) ∝ 1/sigma) the posterior is a Student-t with "
              f"{unknown['dof']:.0f} degrees of freedom.")  # fmt: skip
    names = r["feature_names"]
    z = [
        (m - e) / s
        for m, e, s in zip(post["mean"], post["exact_mean"], post["exact_sd"], strict=True)
    ]
    header = ["feature", "MAP", "exact mean", "exact sd", "NUTS mean", "NUTS sd",
              "(NUTS - exact) / exact sd", "exact sd, sigma unknown"]  # fmt: skip
    rows = [[names[j], post["map"][j], post["exact_mean"][j], post["exact_sd"][j], post["mean"][j],
             post["sd"][j], z[j], unknown["exact_sd"][j]] for j in range(len(names))]  # fmt: skip
    if "coverage" in found:
        header.append("true w (standardised)")
        for row, truth in zip(rows, found["true_w_standardised"], strict=True):
            row.append(truth)
    page.table(header, rows)
    page.verdict(found["nuts"])
    if "coverage" in found:
        page.verdict(found["coverage"], "The data are generated with a known w: ")
    page.heading("Equal to the in-memory path" if "in_memory" in r else "Equal to the closed form")
    measured = {"map_vs_closed_form": r["map_vs_closed_form"], **r.get("in_memory", {})}
    page.table(["quantity", "relative difference", "bound", "why"],
               [[WHAT[k], measured[k], *EQUALITY[k]] for k in EQUALITY if k in measured],
               [measured[k] > EQUALITY[k][0] for k in EQUALITY if k in measured])  # fmt: skip
    page.verdict(found["equality"])
    page.heading("Cost against rows")
    page.table(["rows", "one gradient, full-data model (µs)", "one gradient, statistics model (µs)", "ratio"],
               [[g["rows"], g["full_data_seconds"] * 1e6, g["statistics_seconds"] * 1e6,
                 g["full_data_seconds"] / g["statistics_seconds"]] for g in timings["gradient"]])  # fmt: skip
    page.text("The scaling curve below is a second kind of pass: the same statistics of arrays "
              "generated inside the workers (no file to read), at growing n; its times and memory "
              "differ from the data pass above, which also reads Parquet.")  # fmt: skip
    idle = timings.get("idle_cluster_memory_mb")
    page.table(["rows", "pass over generated arrays (s)", "peak cluster memory (MB)",
                "above the idle cluster (MB)"],
               [[c["rows"], c["seconds"], c["peak_cluster_memory_mb"],
                 "not measured" if idle is None else c["peak_cluster_memory_mb"] - idle]
                for c in timings["curve"]])  # fmt: skip
    full = [g["full_data_seconds"] for g in timings["gradient"]]
    steps = ", ".join(f"{b / a:.3g}" for a, b in zip(full, full[1:], strict=False))
    page.figure("scale.png", "Left: one gradient of the log posterior, compiled once, rows swapped in: "
                f"the full-data model grows with n (by factors {steps} per step of rows in the "
                "table above: fixed overheads and cache effects make it less regular than the n p "
                "arithmetic), the statistics model does not. Right: wall time "
                "and peak memory (whole worker processes) of a pass over generated arrays against "
                "n. Times are from this run (timings.json), not from results.json.",
                observe=memory_verdict(timings))  # fmt: skip
    page.heading("Logistic regression has no sufficient statistics")
    page.text("A Bernoulli likelihood does not reduce to a fixed-size summary: every gradient needs "
              "every row. With 10^8 rows and a logistic model: fit the MAP with a streaming or "
              "distributed solver and use the Laplace approximation at it (the Hessian X'WX is a "
              "one-pass sum like C_xx, so the same Dask pass pattern applies), or run minibatch ADVI "
              "in PyMC (pm.Minibatch with pm.fit), whose gradient costs O(batch p). Both are "
              "approximations; neither is run on this page.")  # fmt: skip
    page.heading("What the point estimate hides")
    widest = int(np.argmax(unknown["exact_sd"]))
    page.bullets([f"**Uncertainty that shrinks with n but does not vanish.** With {r['n_obs']} rows the "
                  f"least determined coefficient ({report.user(names[widest])}) still has posterior sd "
                  f"{unknown['exact_sd'][widest]:.3g}; the statistics give it exactly, with no pass "
                  "beyond the first.", report.sentence(found["signs"])])  # fmt: skip


def card(results: dict) -> Card:
    return Card("scale.png", f"The ridge posterior of **{results['n_obs']:,} rows** from one Dask pass; "
                "NUTS gradients at O(p^2) whatever n.")  # fmt: skip


def logistic_card(results: dict) -> Card:
    return Card("scale.png", f"Logistic regression on **{results['n_obs']:,} rows**: a "
                "certified distributed Newton MAP and its Laplace posterior, checked by PSIS.")  # fmt: skip


def resolve(settings: dict) -> Experiment:
    """The experiment of ``settings["model"]`` (parsed options, or results.json on re-rendering;
    the ridge results carry no model key)."""
    return LOGISTIC if settings.get("model", "ridge") == "logistic" else EXPERIMENT


EXPERIMENT = Experiment(
    name="scale",
    title="Scale: the ridge posterior of data beyond memory, through Dask",
    description="Sufficient statistics in one Dask pass; the exact ridge posterior and NUTS from them.",
    sections=(
        Section("writing the data set in chunks", compute_data),
        Section("one Dask pass: sufficient statistics", compute_pass),
        Section("posterior from the statistics (MAP, exact, evidence, NUTS)", compute_posterior),
        Section("gradient cost against rows", compute_gradients, figures, page),
        diagnostics_section(),
    ),
    settings=lambda quick: {
        "nuts": {"draws": 1000, "tune": tuning_iterations("ridge"), "chains": 2}
    },
    options=options,
    validate=validate,
    user_data=False,
    reads_files=True,
    card=card,
    resolve=resolve,
    claim="For a Gaussian likelihood the ridge posterior depends on the rows only through "
    "statistics one Dask pass computes: it is exact for data that never sit in memory, and a NUTS "
    "gradient costs O(p^2) whatever n.",
)

LOGISTIC = replace(
    EXPERIMENT,
    title="Scale: a logistic posterior of data beyond memory, by distributed Newton on Dask",
    description="A certified Newton MAP in Dask passes; the Laplace posterior, checked by PSIS.",
    sections=(
        Section("writing the data set in chunks", compute_data),
        Section("distributed Newton passes: the certified MAP", compute_newton),
        Section("the Laplace posterior and its PSIS check", compute_logistic_posterior),
        Section("the Laplace error against n", compute_accuracy, logistic_figure, logistic_page),
        diagnostics_section(),
    ),
    card=logistic_card,
    claim="Logistic regression has no sufficient statistics, but its MAP is a Newton iteration "
    "whose gradient and Hessian are sums over rows: one Dask pass each, certified like the "
    "in-memory solver, with a Laplace posterior whose error shrinks as n grows.",
)
