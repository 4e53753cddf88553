"""Which engine samples the suite's models fastest, end to end: compile and ESS per second.

    python -m benchmarks.engines       (also run by make bench)

Every measurement runs in fresh interpreters. For each model shape of the suite (ridge in its
sufficient statistics, the hierarchical lambda model of choosing_lambda, logistic on the 30 breast
cancer features, Park & Casella's Bayesian Lasso, the regularised horseshoe of the sparse page at
its target acceptance 0.99, where ESS is the minimum over the coefficients) and each engine:

- ``nutpie``: nutpie's numba backend (numba C callbacks), as the suite compiles it;
- ``callback``: the same NUTS on PyTensor's numba functions through a Python callback
  (:func:`models.inference.engines.compile_callback`);
- ``nutpie-jax``: ``compile_pymc_model(backend="jax", gradient_backend="jax")`` with JAX's
  persistent compilation cache in the same cache directory (only when JAX is installed);
- ``pymc``: PyMC's default NUTS (``pm.sample(nuts_sampler="pymc")``, its compile is ``pm.NUTS()``);
- ``suite``: what the suite runs for one fit (:class:`models.inference.engines.PosteriorSampler`
  with its policy): the callback form, handed to the compiled form when its gradient evaluations
  pass ``NUTPIE_HANDOVER_GRADIENTS`` (the hand-over's compile counts as sampling).

A probe process imports everything, then builds the model and compiles it, and compiles a second
same-graph model in the same process (the suite reuses nutpie and callback compiles by graph; PyMC
and JAX compile again). It is run twice on one empty cache directory (``SECRETLY_BAYESIAN_CACHE``,
which also holds PyTensor's compile directory): "cold" is the first process, which samples 20 draws
to fill what an engine caches on its first run, and "warm" the second, which samples its first
model (2 chains x 1000 draws after 1000 tuning steps). Wall and CPU seconds (this process and its
children) are recorded; the machine's load average is recorded with them.
"""

from __future__ import annotations

import importlib.util
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from models.core.cache import cache_dir  # import-light; points PyTensor at the cache directory

REPO = Path(__file__).resolve().parents[1]
SHAPES = ("ridge", "hierarchical", "logistic", "bayesian_lasso", "horseshoe")
# NUTS settings a shape needs besides the defaults, on every engine alike
SAMPLER_OPTIONS = {"horseshoe": {"target_accept": 0.99}}
ENGINES = ("nutpie", "callback", "nutpie-jax", "pymc", "suite")
DRAWS, TUNE, CHAINS = 1000, 1000, 2
# The cold process samples this much too: whatever an engine caches on its first sampling (PyMC's
# worker processes) is then warm for the measured run, as for a user's second run.
WARM_UP_DRAWS = 20


def _cpu() -> float:
    own, children = (resource.getrusage(who) for who in (resource.RUSAGE_SELF,
                                                         resource.RUSAGE_CHILDREN))  # fmt: skip
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def build(shape: str):
    """The model of ``shape`` with its ``pm.Data`` values set, and the variables to check."""
    import numpy as np
    from sklearn.datasets import load_breast_cancer, load_diabetes

    from models import lasso, logistic, ridge
    from models.core.data import arrays, noise_estimate

    X, y = load_breast_cancer(return_X_y=True) if shape == "logistic" else load_diabetes(
        return_X_y=True)  # fmt: skip
    names = [f"x{j}" for j in range(X.shape[1])]
    if shape == "ridge":
        sigma = noise_estimate(X, y)
        model = ridge.build(arrays(X, y, names, sigma))
        model["prior_sd"].set_value(np.asarray(ridge.alpha_to_prior_sd(0.05, sigma)))
        return model, ["intercept", "w"]
    if shape == "hierarchical":
        model = ridge.build_hierarchical(arrays(X, y, names), ridge.default_tau_scale(X, y))
        return model, ["intercept", "w", "sigma", "tau"]
    if shape == "logistic":
        X = (X - X.mean(axis=0)) / X.std(axis=0)
        return logistic.build(arrays(X, y, names)), ["intercept", "w"]
    if shape == "horseshoe":
        from experiments.sparse import TRUE_VALUES, P, problem
        from models import horseshoe
        from models.core.base import ModelData
        from models.scale.statistics import GaussianStatistics

        X, y, *_ = problem(0)
        data = ModelData(X, y, tuple(f"x{j}" for j in range(P)),
                         stats=GaussianStatistics.from_arrays(X, y))  # fmt: skip
        return horseshoe.build(data, p0=len(TRUE_VALUES)), ["w"]
    return lasso.build_bayesian_lasso(arrays(X, y, names)), ["w"]


def probe(engine: str, shape: str, sample: bool) -> dict:
    """Compile ``shape`` with ``engine`` and sample it (``sample``: the measured run; else 20
    draws), then compile a second same-graph model in this process; the timings (the table reads
    the cold process's first compile, the warm process's first fit and its second compile)."""
    import logging

    import arviz as az
    import pymc as pm

    from models.inference.engines import PosteriorSampler

    logging.getLogger("pymc").setLevel(logging.ERROR)
    if engine == "nutpie-jax":
        import jax
        import nutpie

        jax.config.update("jax_compilation_cache_dir", str(cache_dir() / "jax"))
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 0)
    options = SAMPLER_OPTIONS.get(shape, {})
    out = {"imports_seconds": time.perf_counter() - STARTED, "imports_cpu_seconds": _cpu()}
    for fit in ("first", "second"):
        model, names = build(shape)
        wall, cpu = time.perf_counter(), _cpu()
        if engine in ("nutpie", "callback", "suite"):
            sampler = PosteriorSampler(model, engine=None if engine == "suite" else engine)
            sampler.sample(draws=1, tune=1, chains=1)  # compiles (a one-draw run: negligible)
        elif engine == "nutpie-jax":
            compiled = nutpie.compile_pymc_model(model, backend="jax", gradient_backend="jax")
        else:
            with model:
                step = pm.NUTS(**options)
        compiled_at = time.perf_counter(), _cpu()
        out[fit] = {"compile_seconds": compiled_at[0] - wall,
                    "compile_cpu_seconds": compiled_at[1] - cpu}  # fmt: skip
        if fit == "second":
            continue
        draws, tune = (DRAWS, TUNE) if sample else (WARM_UP_DRAWS, WARM_UP_DRAWS)
        if engine in ("nutpie", "callback", "suite"):
            dt = sampler.sample(draws=draws, tune=tune, chains=CHAINS, seed=1, **options)
        elif engine == "nutpie-jax":
            dt = nutpie.sample(compiled, draws=draws, tune=tune, chains=CHAINS, cores=CHAINS,
                               seed=1, progress_bar=False, adaptation="low_rank", **options)  # fmt: skip
        else:
            with model:
                dt = pm.sample(draws=draws, tune=tune, chains=CHAINS, cores=CHAINS, step=step,
                               random_seed=1, progressbar=False,
                               compute_convergence_checks=False)  # fmt: skip
        done = time.perf_counter(), _cpu()
        if not sample:
            continue
        ess = az.ess(dt["posterior"].dataset[names], method="bulk")
        out[fit].update({
            "sample_seconds": done[0] - compiled_at[0],
            "sample_cpu_seconds": done[1] - compiled_at[1],
            "min_ess_bulk": float(min(ess[v].min() for v in names)),
        })  # fmt: skip
        if engine == "suite":
            out[fit]["engine"], out[fit]["restarts"] = sampler.engine, sampler.restarts
    return out


def measure(engine: str, shape: str, cache: Path, sample: bool) -> dict:
    """Run :func:`probe` in a fresh interpreter on the cache directory ``cache``."""
    env = {**os.environ, "SECRETLY_BAYESIAN_CACHE": str(cache)}
    env.pop("PYTENSOR_FLAGS", None)
    # a user's Python caches bytecode: without it every import (some run lazily inside a compile
    # or a first sample) compiles its module from source again in every process
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "benchmarks.engines", "--probe", engine, shape,
                           "--sample" if sample else "--compile-only"],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=1800)  # fmt: skip
    if done.returncode:
        raise RuntimeError(f"{engine} on {shape} failed:\n{done.stderr[-2000:]}")
    result = json.loads(done.stdout.splitlines()[-1])
    return {**result, "process_seconds": time.perf_counter() - start,
            "load_average": os.getloadavg()[0]}  # fmt: skip


def engines() -> list[str]:
    """The engines measurable here (nutpie-jax only with JAX installed)."""
    return [e for e in ENGINES if e != "nutpie-jax" or importlib.util.find_spec("jax")]


def run(shapes=SHAPES) -> dict:
    """``{shape: {engine: {"cold": probe, "warm": probe}}}`` plus the settings."""
    table = {}
    for shape in shapes:
        for engine in engines():
            with tempfile.TemporaryDirectory() as cache:
                cold = measure(engine, shape, Path(cache), sample=False)
                warm = measure(engine, shape, Path(cache), sample=True)
            table.setdefault(shape, {})[engine] = {"cold": cold, "warm": warm}
            print(f"{shape:>14} {engine:>10}: compile cold {cold['first']['compile_seconds']:.2f} s,"
                  f" warm {warm['first']['compile_seconds']:.2f} s, reused "
                  f"{warm['second']['compile_seconds']:.2f} s; sampling "
                  f"{warm['first']['sample_seconds']:.2f} s, min ESS "
                  f"{warm['first']['min_ess_bulk']:.0f}", file=sys.stderr)  # fmt: skip
    return {"draws": DRAWS, "tune": TUNE, "chains": CHAINS, "shapes": table}


STARTED = time.perf_counter()

if __name__ == "__main__":
    if sys.argv[1:2] == ["--probe"]:
        print(json.dumps(probe(*sys.argv[2:4], sample=sys.argv[4] == "--sample")))
    else:
        json.dump(run(sys.argv[1:] or SHAPES), sys.stdout, indent=1)
