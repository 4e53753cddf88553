"""The GLM models (poisson, gamma, tweedie): MAP = scikit-learn over a penalty grid, the twin."""

import numpy as np
import pytest

from models import get_model, tweedie
from models.core.base import InputError
from models.core.data import build_model, default_dataset, model_data
from models.inference.engines import MAPSolver


def _specs():
    return [get_model("poisson"), get_model("gamma"), *(tweedie.spec_for(p) for p in (0, 3))]


@pytest.mark.parametrize("spec", _specs(), ids=["poisson", "gamma", "tweedie0", "tweedie3"])
def test_map_is_sklearn_over_a_small_penalty_grid(spec):
    md = model_data(spec, default_dataset(spec))
    grid = spec.link.penalty_grid(md, 4)
    model = build_model(spec, md, spec.link.prior_values(grid[0], md))
    solver = MAPSolver(model, spec)
    for penalty in grid:
        sk = spec.link.sklearn(penalty, md).fit(md.X, md.y)
        fit = solver.solve(spec.link.prior_values(penalty, md))
        b0, w = spec.point_coefficients(fit.point)
        assert fit.converged
        scale = np.max(np.abs(sk.coef_))
        assert np.max(np.abs(w - sk.coef_)) / scale <= spec.family.map_bound, penalty
        assert abs(b0 - sk.intercept_) <= spec.family.map_bound * max(1.0, abs(sk.intercept_))


def test_tweedie_power_zero_is_ridge_with_alpha_times_n():
    from sklearn.linear_model import Ridge

    spec = tweedie.spec_for(0)
    md = model_data(spec, default_dataset(spec))
    alpha = 1e-3
    tw = spec.link.sklearn({"alpha": alpha}, md).fit(md.X, md.y)
    ridge = Ridge(alpha=alpha * md.n_obs, solver="cholesky").fit(md.X, md.y)
    np.testing.assert_allclose(tw.coef_, ridge.coef_, rtol=1e-6)


@pytest.mark.parametrize(("power", "why"), [(1.5, "compound Poisson-Gamma"), (0.5, "no Tweedie"),
                                            (-1, "only powers"), (2.5, "only powers")])  # fmt: skip
def test_powers_without_a_density_are_refused(power, why):
    with pytest.raises(InputError, match=why):
        tweedie.spec_for(power)


def test_twin_of_tweedie_picks_the_family_of_its_power():
    from sklearn.linear_model import TweedieRegressor

    from models.twin.estimator import twin_of

    for power, family in ((0, "gaussian"), (1, "poisson"), (2, "gamma"), (3, "inverse_gaussian")):
        spec, _ = twin_of(TweedieRegressor(power=power))
        assert spec.likelihood == family
    with pytest.raises(TypeError, match="power=1.5"):
        twin_of(TweedieRegressor(power=1.5))
    with pytest.raises(TypeError, match="link='identity'"):
        twin_of(TweedieRegressor(power=2, link="identity"))


def test_poisson_twin_predicts_counts_on_the_response_scale():
    from sklearn.linear_model import PoissonRegressor

    from models.twin import bayesian

    rng = np.random.default_rng(0)
    X = rng.standard_normal((60, 2))
    y = rng.poisson(np.exp(0.5 + X @ [0.4, -0.3])).astype(float)
    twin = bayesian(PoissonRegressor(alpha=0.1), draws=600, tune=500, random_state=0).fit(X, y)
    sk = PoissonRegressor(alpha=0.1, solver="newton-cholesky", tol=1e-12).fit(X, y)
    np.testing.assert_allclose(twin.coef_, sk.coef_, rtol=1e-6)
    mean = twin.predict(X)
    low, high = twin.predict_interval(X)
    assert np.all(mean > 0) and np.all(low >= 0) and np.all(low <= high)
    # the posterior mean of exp(eta) is near the plug-in prediction (a few percent at n = 60)
    assert np.median(np.abs(mean / sk.predict(X) - 1)) < 0.1
    with pytest.raises(ValueError, match="count target"):
        twin.fit(X, -y)


def test_trigamma_is_compiled_and_exact():
    """The Gamma model's Hessian (gammaln(1/phi) twice differentiated) has trigamma: compiled by
    Numba, not run in object mode (a UserWarning), and equal to scipy's polygamma(1, x)."""
    import warnings

    import pytensor
    import pytensor.tensor as pt
    from scipy.special import polygamma

    from models.inference import numba_ops

    numba_ops.register()
    x = pt.dvector("x")
    points = np.concatenate([np.geomspace(1e-8, 1e8, 200), [0.5, 1.0, 9.99, 10.0, 10.01]])
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        trigamma = pytensor.function([x], pt.tri_gamma(x), mode="NUMBA")
        values = trigamma(points)
    np.testing.assert_allclose(values, polygamma(1, points), rtol=1e-14)
    negative = trigamma(np.array([-0.5, -2.25, 0.0, -3.0]))
    np.testing.assert_allclose(negative[:2], polygamma(1, [-0.5, -2.25]), rtol=1e-12)
    assert np.all(np.isposinf(negative[2:]))
