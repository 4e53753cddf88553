"""The engine policy (models.inference.engines.choose_engine): which compiled form samples a graph.

Both forms run nutpie's NUTS on the same log density, so the choice may change the time, never the
draws."""

import arviz as az
import numpy as np
import nutpie
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


def test_the_gradient_count_is_a_function_of_the_seed():
    """The hand-over is decided on this count: the same run counts the same, whatever the timing,
    and it counts at least every gradient of the kept draws' trajectories."""
    sampler = PosteriorSampler(_model(), engine="callback", cache=CompiledModels())
    sampler.sample({"prior_sd": 3.0}, draws=1, tune=1, chains=1)
    totals = []
    for _ in range(2):
        count = engines.GradientCount()
        compiled = count.counting(sampler.compiled.with_data(prior_sd=np.asarray(3.0)))
        dt = nutpie.sample(compiled, draws=300, tune=300, chains=2, seed=4, progress_bar=False)
        totals.append(count.total)
    assert totals[0] == totals[1]
    assert totals[0] > int(dt["sample_stats"]["n_steps"].sum())  # warm-up's come on top


def test_both_forms_and_a_handed_over_run_give_the_same_draws(monkeypatch):
    """The callback form, a callback run restarted compiled, and nutpie's compiled form: one seed,
    one set of draws (the restart loses time, never a draw)."""
    callback = PosteriorSampler(_model(), engine="callback", cache=CompiledModels())
    options = dict(draws=500, tune=500, chains=2, seed=5)
    expected = callback.sample({"prior_sd": 3.0}, **options)["posterior"]["w"].values
    assert callback.engine == "callback"

    monkeypatch.setattr(engines, "NUTPIE_HANDOVER_GRADIENTS", 1000)  # a 2 x 1000 run takes ~10,000
    cache = CompiledModels()
    handed = PosteriorSampler(_model(), cache=cache)
    dt = handed.sample({"prior_sd": 3.0}, **options)
    assert (handed.engine, handed.restarts, cache.misses) == ("nutpie", 1, 1)
    np.testing.assert_array_equal(dt["posterior"]["w"].values, expected)

    compiled = PosteriorSampler(_model(), engine="nutpie", cache=cache)
    dt = compiled.sample({"prior_sd": 3.0}, **options)
    assert compiled.reused
    np.testing.assert_array_equal(dt["posterior"]["w"].values, expected)


def test_a_single_short_fit_takes_the_callback_and_a_sweep_switches_to_nutpie(monkeypatch):
    monkeypatch.setattr(engines, "NUTPIE_BREAK_EVEN_ITERATIONS", 1000)
    cache = CompiledModels()
    sampler = PosteriorSampler(_model(), cache=cache)
    sampler.sample({"prior_sd": 1.0}, draws=100, tune=100, chains=2, seed=1)
    assert (sampler.engine, sampler.restarts, cache.misses) == ("callback", 0, 0)
    assert sampler.callback_gradients > 200 * 2  # at least one per iteration
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


def test_a_sweep_compiles_when_its_completed_fits_project_the_rest_past_the_point(monkeypatch):
    """Gradients per iteration measured on the completed callback fits, times the iterations still
    due (this fit and the planned ones), against the hand-over point."""
    sampler = PosteriorSampler(_model(), cache=CompiledModels(), fits=3)
    sampler.sample({"prior_sd": 1.0}, draws=200, tune=200, chains=2, seed=1)
    per_fit = sampler.callback_gradients  # 800 iterations
    assert sampler.callback_iterations == 800
    # two fits due: 2 x per_fit projected
    monkeypatch.setattr(engines, "NUTPIE_HANDOVER_GRADIENTS", int(2.2 * per_fit))
    sampler.sample({"prior_sd": 1.0}, draws=200, tune=200, chains=2, seed=2)
    assert (
        sampler.engine == "callback"
    )  # 2 x per_fit < 2.2 x per_fit, and the run itself stays below
    monkeypatch.setattr(engines, "NUTPIE_HANDOVER_GRADIENTS", int(0.9 * per_fit))
    sampler.sample({"prior_sd": 1.0}, draws=200, tune=200, chains=2, seed=3)
    assert (sampler.engine, sampler.restarts) == ("nutpie", 0)  # compiled before the fit


def test_a_planned_sweep_on_a_sampler_made_for_one_fit_compiles_from_its_first_fit(monkeypatch):
    monkeypatch.setattr(engines, "NUTPIE_BREAK_EVEN_ITERATIONS", 1000)
    sampler = PosteriorSampler(_model(), cache=CompiledModels())
    sampler.sample({"prior_sd": 1.0}, draws=100, tune=100, chains=2, seed=1)  # 400 iterations
    assert sampler.engine == "callback"
    sampler.plan(3)  # 3 x 400 more iterations: past 1000
    sampler.sample({"prior_sd": 2.0}, draws=100, tune=100, chains=2, seed=2)
    assert (sampler.engine, sampler.restarts) == ("nutpie", 0)
