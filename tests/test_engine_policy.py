"""The engine policy (models.inference.engines.choose_engine): which compiled form samples a graph.

Both forms run nutpie's NUTS on the same log density, so the choice may change the time, never the
draws."""

import arviz as az
import numpy as np
import pytest

from models import ridge
from models.core.data import arrays
from models.inference import engines
from models.inference.engines import CompiledModels, PosteriorSampler, choose_engine


def _data(rows: int = 40, columns: int = 3, seed: int = 0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((rows, columns))
    return X, X @ np.arange(1.0, columns + 1) + rng.standard_normal(rows)


def _model(rows: int = 40, columns: int = 3, seed: int = 0):
    X, y = _data(rows, columns, seed)
    return ridge.build(arrays(X, y, [f"x{j}" for j in range(columns)], 1.0))


def test_choice_flips_at_the_break_even_point():
    below = int(engines.NUTPIE_BREAK_EVEN_ITERATIONS) - 1
    assert choose_engine(below, compiled_in_process=False) == "callback"
    assert choose_engine(below + 1, compiled_in_process=False) == "nutpie"
    assert choose_engine(1, compiled_in_process=True) == "nutpie"


def test_both_forms_give_the_same_draws():
    draws = {}
    for engine in ("callback", "nutpie"):
        sampler = PosteriorSampler(_model(), engine=engine, cache=CompiledModels())
        dt = sampler.sample({"prior_sd": 3.0}, draws=200, tune=200, chains=2, seed=5)
        assert sampler.engine == engine
        draws[engine] = dt["posterior"]["w"].values
    np.testing.assert_array_equal(draws["callback"], draws["nutpie"])


def test_a_single_short_fit_takes_the_callback_and_a_sweep_switches_to_nutpie(monkeypatch):
    monkeypatch.setattr(engines, "NUTPIE_BREAK_EVEN_ITERATIONS", 1000)
    cache = CompiledModels()
    sampler = PosteriorSampler(_model(), cache=cache)
    sampler.sample({"prior_sd": 1.0}, draws=100, tune=100, chains=2, seed=1)
    assert (sampler.engine, cache.misses) == ("callback", 0)
    sampler.sample({"prior_sd": 2.0}, draws=100, tune=100, chains=2, seed=2)
    assert sampler.engine == "callback"  # 800 iterations sampled or due
    sampler.sample({"prior_sd": 3.0}, draws=100, tune=100, chains=2, seed=3)
    assert (sampler.engine, cache.misses) == ("nutpie", 1)
    planned = PosteriorSampler(_model(), cache=CompiledModels(), fits=3)
    planned.sample({"prior_sd": 1.0}, draws=100, tune=100, chains=2, seed=1)
    assert planned.engine == "nutpie"  # 3 fits of 400 iterations planned
    again = PosteriorSampler(_model(seed=1), cache=cache)  # same graph, compiled in the process
    again.sample({"prior_sd": 1.0}, draws=100, tune=100, chains=2, seed=1)
    assert (again.engine, again.reused) == ("nutpie", True)


def test_the_callback_form_swaps_data_values():
    """A refit at another pm.Data value samples that value's posterior (known exactly here)."""
    X, y = _data()
    sampler = PosteriorSampler(_model(), engine="callback", cache=CompiledModels())
    for prior_sd in (0.05, 100.0):
        dt = sampler.sample({"prior_sd": prior_sd}, draws=500, tune=500, chains=2, seed=7)
        mean, _ = ridge.exact_posterior(X, y, prior_sd, 1.0)
        posterior = dt["posterior"].dataset
        error = np.abs(posterior["w"].mean(("chain", "draw")).values - mean[1:])
        assert np.all(error <= 5 * az.mcse(posterior[["w"]])["w"].values)


def test_unknown_engine_is_refused():
    with pytest.raises(ValueError, match="unknown engine"):
        PosteriorSampler(_model(), engine="jax")
