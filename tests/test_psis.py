"""The vectorised PSIS-LOO (models.inference.psis) is ArviZ's, row by row."""

from __future__ import annotations

import numpy as np
import pytest
from arviz_stats.base.array import array_stats
from scipy import stats

from models.inference.psis import psis_loo


def log_likelihoods(draws: int) -> np.ndarray:
    """(3 posteriors, 40 observations, draws): Gaussian rows and heavy-tailed ones (large k)."""
    rng = np.random.default_rng(7)
    mean = rng.normal(0, 1, draws)
    y = np.r_[rng.normal(0, 1, 38), 6.0, -9.0]  # two outliers: heavy importance-ratio tails
    return np.stack([stats.norm.logpdf(y[:, None], mean * s, s) for s in (0.3, 1.0, 3.0)])


@pytest.mark.parametrize("draws", [100, 1000, 4000])
def test_psis_loo_equals_arviz_row_by_row(draws):
    log_lik = log_likelihoods(draws)
    ours = psis_loo(log_lik)
    for index in np.ndindex(*log_lik.shape[:2]):
        elpd_i, k, p_loo_i = array_stats.loo(log_lik[index][None, :], r_eff=1.0)
        # The same arithmetic in another order (vectorised sums, logsumexp over a whole axis).
        assert ours["elpd_i"][index] == pytest.approx(float(elpd_i), rel=1e-10, abs=1e-10)
        assert ours["pareto_k"][index] == pytest.approx(float(k), rel=1e-9, abs=1e-10)
        assert ours["p_loo_i"][index] == pytest.approx(float(p_loo_i), rel=1e-8, abs=1e-10)
    assert np.max(ours["pareto_k"]) > 0.7  # the outliers exercise the heavy-tail path
    np.testing.assert_allclose(ours["elpd"], ours["elpd_i"].sum(axis=-1))
    np.testing.assert_allclose(ours["se"], np.sqrt(40 * ours["elpd_i"].var(axis=-1)))


def test_too_few_draws_is_refused():
    with pytest.raises(ValueError, match="at least 25 draws"):
        psis_loo(np.zeros((3, 20)))
