"""nutpie's compiled form with its C callbacks cached on disk (models.inference.nutpie_cache): the
same draws as nutpie's own compile, the cache key, and a refit at other pm.Data values samples their
posterior. Loading in a second process and recompiling a changed model: tests/test_compile_cache.py."""

from pathlib import Path

import arviz as az
import numpy as np
import nutpie

from models import ridge
from models.core.data import arrays
from models.inference import nutpie_cache
from models.inference.engines import CompiledModels, PosteriorSampler

REPO = Path(__file__).resolve().parents[1]


def _data(rows: int = 40, columns: int = 3, seed: int = 0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((rows, columns))
    return X, X @ np.arange(1.0, columns + 1) + rng.standard_normal(rows)


def _model(rows: int = 40, columns: int = 3, seed: int = 0):
    X, y = _data(rows, columns, seed)
    return ridge.build(arrays(X, y, [f"x{j}" for j in range(columns)], 1.0))


def test_the_cached_form_gives_nutpies_own_draws():
    """Same flat parameters, initial points, adaptation and seeds, the same machine code: the
    same bytes as nutpie's compile_pymc_model (a callback reading a wrong data slot, or another
    parameter order, would move every draw)."""
    model = _model()
    options = dict(draws=200, tune=200, chains=2, seed=5, progress_bar=False)
    ours = nutpie.sample(nutpie_cache.compile_nutpie(model), **options)
    theirs = nutpie.sample(nutpie.compile_pymc_model(model), **options)
    assert np.array_equal(ours["posterior"]["w"].values, theirs["posterior"]["w"].values)


def test_a_refit_samples_the_swapped_datas_posterior():
    """The callbacks read each pm.Data array through its slot, not a copy baked in: a refit at
    another prior sd samples that posterior (exact here), within 5 MCSE of its mean."""
    X, y = _data()
    sampler = PosteriorSampler(_model(), cache=CompiledModels())
    for prior_sd in (0.05, 100.0):
        dt = sampler.sample({"prior_sd": prior_sd}, draws=500, tune=500, chains=2, seed=7)
        mean, _ = ridge.exact_posterior(X, y, prior_sd, 1.0)
        posterior = dt["posterior"].dataset
        error = np.abs(posterior["w"].mean(("chain", "draw")).values - mean[1:])
        assert np.all(error <= 5 * az.mcse(posterior[["w"]])["w"].values)


def test_source_and_key():
    """The key changes with the inner function, the source (parameter count, data slots), the
    data dtypes and nutpie's record layout; a function PyTensor could not cache gives no key
    (compiled, not cached)."""
    source = nutpie_cache.logp_source(3, [("d0", 2), ("d1", 0)])
    assert (
        "d0 = d0.reshape((int(shared['shape']['d0'][0]),int(shared['shape']['d0'][1]),))" in source
    )
    assert "d1 = d1.reshape(())" in source and "value, grad = inner(x, d0, d1)" in source
    dtypes, record = ["<f8", "<f8"], "[('shared', ...)]"
    key = nutpie_cache.callback_key("a", source, dtypes, record)
    assert key == nutpie_cache.callback_key("a", source, dtypes, record)
    others = {
        nutpie_cache.callback_key("b", source, dtypes, record),
        nutpie_cache.callback_key("a", nutpie_cache.logp_source(4, [("d0", 2), ("d1", 0)]), dtypes,
                                  record),
        nutpie_cache.callback_key("a", source, ["<i8", "<f8"], record),
        nutpie_cache.callback_key("a", source, dtypes, "[('shared', 'other')]"),
    }  # fmt: skip
    assert key not in others and len(others) == 4
    assert nutpie_cache.callback_key(None, source, dtypes, record) is None
