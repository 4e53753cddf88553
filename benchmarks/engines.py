"""Which engine samples the suite's models fastest, end to end: compile and ESS per second.

    python -m benchmarks.engines       (also run by make bench)

Every measurement runs in fresh interpreters. For each model shape of the suite (ridge in its
sufficient statistics, the hierarchical lambda model of choosing_lambda, logistic on the 30 breast
cancer features, Park & Casella's Bayesian Lasso, the regularised horseshoe of the sparse page at
its target acceptance 0.99, the Gamma GLM of the gamma page on diabetes, the Gaussian process of
the kernel_ridge page with its three hyper-parameters free on 200 diabetes rows (a Cholesky per
gradient) at its target acceptance 0.9; ESS is the minimum over the coefficients or
hyper-parameters) and each engine:

- ``nutpie``: ``nutpie.compile_pymc_model`` (numba backend), compiled in every process;
- ``callback``: the same NUTS on PyTensor's numba functions through a Python call per gradient
  (:func:`compile_callback`; the chains in one thread, as they take turns on the GIL anyway);
- ``nutpie-jax``: ``compile_pymc_model(backend="jax", gradient_backend="jax")`` with JAX's
  persistent compilation cache in the same cache directory (only when JAX is installed);
- ``pymc``: PyMC's default NUTS (``pm.sample(nuts_sampler="pymc")``, its compile is ``pm.NUTS()``);
- ``suite``: what the suite runs (:class:`models.inference.engines.PosteriorSampler`): nutpie's
  compiled form with its C callbacks in the on-disk cache (:mod:`models.inference.nutpie_cache`),
  reused by a same-graph model in the process.

A probe process imports everything, then builds the model and compiles it, and compiles a second
same-graph model in the same process (the suite reuses its compile by graph; the others compile
again). It is run twice on one empty cache directory (``SECRETLY_BAYESIAN_CACHE``,
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
SHAPES = ("ridge", "hierarchical", "logistic", "bayesian_lasso", "horseshoe", "gamma_glm", "gp")
# NUTS settings a shape needs besides the defaults, on every engine alike (the pages' own)
SAMPLER_OPTIONS = {"horseshoe": {"target_accept": 0.99}, "gp": {"target_accept": 0.9}}
GP_ROWS = 200  # the kernel_ridge page's training rows for its NUTS on the data set
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
    if shape in ("horseshoe", "r2d2"):  # the sparse page's priors on its generated problem
        from experiments.sparse import TRUE_VALUES, P, problem
        from models import horseshoe, r2d2
        from models.core.base import ModelData
        from models.scale.statistics import GaussianStatistics

        X, y, *_ = problem(0)
        data = ModelData(X, y, tuple(f"x{j}" for j in range(P)),
                         stats=GaussianStatistics.from_arrays(X, y))  # fmt: skip
        if shape == "r2d2":
            return r2d2.build(data), ["w"]
        return horseshoe.build(data, p0=len(TRUE_VALUES)), ["w"]
    if shape == "gamma_glm":
        from models import gamma

        data = arrays((X - X.mean(axis=0)) / X.std(axis=0), y, names)
        model = gamma.SPEC.build(data)
        prior_sd = gamma.SPEC.link.prior_values({"alpha": 1e-3}, data)["prior_sd"]
        model["prior_sd"].set_value(np.asarray(prior_sd))
        return model, ["intercept", "w", "phi"]
    if shape == "gp":
        from models import kernel_ridge

        kernel = kernel_ridge.kernel_of("rbf", X.shape[1], gamma=0.5)
        y = (y - y.mean()) / y.std()
        model = kernel_ridge.build_hierarchical(kernel, X[:GP_ROWS], y[:GP_ROWS])
        return model, ["length_scale", "amplitude", "noise_sd"]
    return lasso.build_bayesian_lasso(arrays(X, y, names)), ["w"]


def compile_callback(model):
    """nutpie's NUTS on PyTensor's numba log density and gradient, called from Python.

    The model is prepared by nutpie's own helpers exactly as for its numba backend (the same flat
    parameter vector, initial points with jitter, deterministics and coordinates), but the two
    functions stay PyTensor's numba-compiled functions, which PyTensor caches on disk keyed by their
    graph; no C callback is compiled. ``pm.Data`` containers are passed by name (``with_data``).
    """
    import numpy as np
    from nutpie.compile_pymc import _make_functions, _prepare_dims_and_coords, _wrap_with_lock
    from nutpie.compiled_pyfunc import from_pyfunc
    from pymc.initial_point import make_initial_point_fn

    pymc_initial_point = make_initial_point_fn(
        model=model, jitter_rvs=set(model.free_RVs), return_transformed=True,
        default_strategy="support_point",
    )  # fmt: skip
    n_dim, _, logp_pt, expand_pt, initial_point, shape_info, reparameterized = _make_functions(
        model, mode="NUMBA", compute_grad=True, join_expanded=False,
        pymc_initial_point_fn=_wrap_with_lock(pymc_initial_point),
    )  # fmt: skip
    logp_fn, expand_fn = logp_pt.vm.jit_fn, expand_pt.vm.jit_fn
    logp_names = [v.name for v in logp_pt.get_shared()]
    expand_names = [v.name for v in expand_pt.get_shared()]
    shared = {v.name: np.asarray(v.get_value()) for v in (*logp_pt.get_shared(),
                                                          *expand_pt.get_shared())}  # fmt: skip
    if len(shared) != len({*logp_pt.get_shared(), *expand_pt.get_shared()}):
        raise ValueError("two pm.Data containers of the model share a name")
    names, _, shapes = shape_info

    def make_logp():
        def logp(x, **data):
            value, grad = logp_fn(x, *(data[name] for name in logp_names))
            return float(value), grad

        return logp

    def make_expand(seed1, seed2, chain):
        def expand(x, **data):
            values = expand_fn(x, *(data[name] for name in expand_names))
            return {
                name: np.asarray(value, dtype="float64").reshape(shape)
                for name, value, shape in zip(names, values, shapes, strict=True)
            }

        return expand

    dims, coords = _prepare_dims_and_coords(model, shape_info, reparameterized)
    return from_pyfunc(
        ndim=n_dim, make_logp_fn=make_logp, make_expand_fn=make_expand,
        make_initial_point_fn=initial_point, expanded_dtypes=[np.dtype("float64")] * len(names),
        expanded_shapes=shapes, expanded_names=names, shared_data=shared, dims=dims,
        coords=coords, reparameterized_names=reparameterized,
    )  # fmt: skip


def probe(engine: str, shape: str, sample: bool) -> dict:
    """Compile ``shape`` with ``engine`` and sample it (``sample``: the measured run; else 20
    draws), then compile a second same-graph model in this process; the timings (the table reads
    the cold process's first compile, the warm process's first fit and its second compile)."""
    import logging

    import arviz as az
    import pymc as pm

    from models.inference.engines import PosteriorSampler

    logging.getLogger("pymc").setLevel(logging.ERROR)
    import nutpie

    if engine == "nutpie-jax":
        import jax

        jax.config.update("jax_compilation_cache_dir", str(cache_dir() / "jax"))
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 0)
    options = SAMPLER_OPTIONS.get(shape, {})
    out = {"imports_seconds": time.perf_counter() - STARTED, "imports_cpu_seconds": _cpu()}
    for fit in ("first", "second"):
        model, names = build(shape)
        wall, cpu = time.perf_counter(), _cpu()
        if engine == "suite":
            sampler = PosteriorSampler(model)
            sampler.sample(draws=1, tune=1, chains=1)  # compiles (a one-draw run: negligible)
        elif engine in ("nutpie", "callback", "nutpie-jax"):
            if engine == "nutpie":
                compiled = nutpie.compile_pymc_model(model)
            elif engine == "callback":
                compiled = compile_callback(model)
            else:
                compiled = nutpie.compile_pymc_model(model, backend="jax", gradient_backend="jax")
            # a one-draw run, as for the suite: what loads lazily on the first call (the callback
            # form's numba function) is compile, not sampling
            nutpie.sample(compiled, draws=1, tune=1, chains=1, progress_bar=False)
        else:
            with model:
                step = pm.NUTS(**options)
        compiled_at = time.perf_counter(), _cpu()
        out[fit] = {"compile_seconds": compiled_at[0] - wall,
                    "compile_cpu_seconds": compiled_at[1] - cpu}  # fmt: skip
        if fit == "second":
            continue
        draws, tune = (DRAWS, TUNE) if sample else (WARM_UP_DRAWS, WARM_UP_DRAWS)
        if engine == "suite":
            dt = sampler.sample(draws=draws, tune=tune, chains=CHAINS, seed=1, **options)
        elif engine in ("nutpie", "callback", "nutpie-jax"):
            # the callback form's chains take turns on the GIL: one thread runs them fastest
            dt = nutpie.sample(compiled, draws=draws, tune=tune, chains=CHAINS,
                               cores=1 if engine == "callback" else CHAINS, seed=1,
                               progress_bar=False, adaptation="low_rank", **options)  # fmt: skip
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
