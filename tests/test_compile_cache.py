"""The per-user compile cache (models.core.cache): where it is, that it survives a process (PyTensor's
functions and nutpie's C callbacks, models.inference.nutpie_cache), and that a changed model
(another data shape, another prior) never reuses a stale compile."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from models.core.cache import CACHE_ENV, cache_dir

REPO = Path(__file__).resolve().parents[1]

# Fits y = X w + noise (sd 1) with w ~ Normal(0, PRIOR_SD) and PRIOR_SD a constant of the graph, by
# the suite's sampler, and prints each posterior mean, its MCSE, the exact posterior mean, and
# whether each of nutpie's two C callbacks (log density, expansion) was loaded from the cache.
FIT = """
import json, sys
import models  # first: points PyTensor at the cache directory
import arviz as az, numpy as np, pymc as pm
from models.inference.engines import CompiledModels, PosteriorSampler
out = []
for columns, prior_sd in json.loads(sys.argv[1]):
    rng = np.random.default_rng(columns)
    X = rng.standard_normal((50, columns))
    y = X @ np.linspace(1, 2, columns) + rng.standard_normal(50)
    with pm.Model() as model:
        w = pm.Normal("w", 0.0, prior_sd, shape=columns)
        pm.Normal("y", X @ w, 1.0, observed=y)
    sampler = PosteriorSampler(model, cache=CompiledModels())
    posterior = sampler.sample(draws=400, tune=400, chains=2, seed=3)["posterior"].dataset
    exact = np.linalg.solve(X.T @ X + np.eye(columns) / prior_sd**2, X.T @ y)
    callbacks = (sampler.compiled.compiled_logp_func, sampler.compiled.compiled_expand_func)
    out.append([posterior["w"].mean(("chain", "draw")).values.tolist(),
                az.mcse(posterior)["w"].values.tolist(), exact.tolist(),
                [f._cache_hits for f in callbacks]])
print(json.dumps(out))
"""


def _fit(models: list, cache: Path) -> list:
    env = {**os.environ, CACHE_ENV: str(cache)}
    env.pop("PYTENSOR_FLAGS", None)
    done = subprocess.run([sys.executable, "-c", FIT, json.dumps(models)], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=600, check=True)  # fmt: skip
    return json.loads(done.stdout.splitlines()[-1])


def _cached(cache: Path) -> set[str]:
    return {str(p.relative_to(cache)) for p in cache.rglob("*") if p.is_file()}


def test_cache_directory_is_per_user_and_overridable(monkeypatch, tmp_path):
    monkeypatch.setenv(CACHE_ENV, str(tmp_path))
    assert cache_dir() == tmp_path
    monkeypatch.delenv(CACHE_ENV)
    assert cache_dir().name == "secretly-bayesian"


def test_a_changed_model_compiles_anew_and_the_same_model_reuses(tmp_path):
    cache = tmp_path / "cache"
    first = _fit([[3, 0.1]], cache)
    files = _cached(cache)
    assert any(name.startswith("pytensor/") for name in files)  # PyTensor compiled into it
    assert first[0][3] == [0, 0]  # an empty cache: both callbacks compiled
    again = _fit([[3, 0.1]], cache)  # a new process, the same model: loaded, nothing added
    assert _cached(cache) == files and again[0][3] == [1, 1]
    assert again[0][:3] == first[0][:3]  # the same draws as the process that compiled
    changed = _fit([[5, 0.1], [3, 10.0]], cache)  # another shape; another prior constant
    assert _cached(cache) > files
    # another shape: both callbacks compiled anew; another prior constant: the log density's, while
    # the expansion (x -> w, which the prior does not enter) is rightly the cached one
    assert [model[3] for model in changed] == [[0, 0], [0, 1]]
    for mean, mcse, exact, _ in first + changed:
        assert np.all(np.abs(np.subtract(mean, exact)) <= 5 * np.asarray(mcse))
    # the wide prior's posterior is not the tight one's: a stale compile would have given that
    assert np.max(np.abs(np.subtract(changed[1][0], first[0][0]))) > 0.5
