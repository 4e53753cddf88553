"""One compiled copy per graph in a process: reused only when the graphs are the same computation.

A wrong reuse would sample one model's posterior under another's name, a wrong answer without an
error; so the predicate is tested on what must and must not match, and a reused copy is checked
against the exact posterior of its own data.
"""

from __future__ import annotations

import dataclasses

import arviz as az
import numpy as np
import pymc as pm
import pytest

from models import get_model
from models.core.data import build_model, default_dataset, model_data
from models.inference.engines import CompiledModels, PosteriorSampler, graph_of, same_graph
from models.ridge import exact_posterior


@pytest.fixture(scope="module")
def ridge_data():
    spec = get_model("ridge")
    return spec, model_data(spec, default_dataset(spec))


def _toy(sd: float = 1.0, names=("a", "b"), deterministic: bool = False, data=(1.0, 2.0)):
    with pm.Model(coords={"k": list(names)}) as model:
        x = pm.Data("x", np.asarray(data))
        w = pm.Normal("w", 0.0, sd, dims="k")
        pm.Normal("y", w * x, 1.0, observed=np.zeros(2))
        if deterministic:
            pm.Deterministic("total", w.sum())
    return model


def test_same_graph_ignores_data_values_only():
    base = graph_of(_toy())
    assert same_graph(base, graph_of(_toy(data=(5.0, -3.0))))  # pm.Data values may differ
    assert not same_graph(base, graph_of(_toy(sd=2.0)))  # a constant in the graph
    assert not same_graph(base, graph_of(_toy(names=("a", "c"))))  # coordinates (draws' labels)
    assert not same_graph(base, graph_of(_toy(deterministic=True)))  # what is drawn
    with pm.Model(coords={"k": ["a", "b"]}) as other_likelihood:
        x = pm.Data("x", np.array([1.0, 2.0]))
        w = pm.Normal("w", 0.0, 1.0, dims="k")
        pm.StudentT("y", nu=3, mu=w * x, sigma=1.0, observed=np.zeros(2))
    assert not same_graph(base, graph_of(other_likelihood))


def test_a_reused_copy_samples_its_own_data(ridge_data):
    spec, md = ridge_data
    cache = CompiledModels()
    cache.compiled(build_model(spec, md))
    rng = np.random.default_rng(0)
    X = md.X + 0.01 * rng.standard_normal(md.X.shape)
    y = 0.5 * md.y[::-1]
    other = dataclasses.replace(md, X=X, y=y, stats=None, noise_sd=30.0)
    sampler = PosteriorSampler(build_model(spec, other), cache=cache)
    dt = sampler.sample({"prior_sd": 100.0}, draws=1000, chains=2, seed=3)
    assert (cache.hits, cache.misses, sampler.reused) == (1, 1, True)
    mean, cov = exact_posterior(X, y, 100.0, 30.0)
    w = dt["posterior"]["w"]
    mcse = az.mcse(dt, var_names=["w"])["w"].values
    # NUTS mean vs the exact mean of the *new* data: within 5 MCSE (Monte Carlo error from ESS);
    # the first data's posterior mean is tens of MCSE away, so a stale copy would fail here.
    assert np.all(np.abs(w.mean(("chain", "draw")).values - mean[1:]) <= 5 * mcse)
    mcse_sd = az.mcse(dt, var_names=["w"], method="sd")["w"].values
    assert np.all(
        np.abs(w.std(("chain", "draw")).values - np.sqrt(np.diag(cov)[1:])) <= 5 * mcse_sd
    )


def test_a_reused_copy_starts_where_a_fresh_compile_of_its_own_data_starts():
    """The start depends on the data (a HalfNormal's support point is its pm.Data scale): the copy
    swapped onto new data starts, seed for seed, exactly where a fresh compile of that model does,
    not where the first model's data put it."""

    def model(scale: float):
        with pm.Model() as built:
            sigma = pm.HalfNormal("sigma", pm.Data("scale", scale))
            pm.Normal("y", 0.0, sigma, observed=np.array([0.5, -1.0]))
        return built

    cache = CompiledModels()
    first, _, _ = cache.compiled(model(1.0))
    swapped, _, reused = cache.compiled(model(80.0))
    fresh, _, _ = CompiledModels().compiled(model(80.0))
    assert reused
    for seed in (0, 3):
        np.testing.assert_array_equal(
            swapped.initial_point_func(seed), fresh.initial_point_func(seed)
        )
        assert abs(swapped.initial_point_func(seed)[0] - first.initial_point_func(seed)[0]) > 3
