"""The quantile model (models/quantile.py): PyMC's asymmetric Laplace is our density, the exact
linear-programme mode is QuantileRegressor's and is certified, and uniqueness is proved only when
it holds."""

import numpy as np
import pytest
from sklearn.linear_model import QuantileRegressor

from models import get_model, quantile
from models.core.base import InputError
from models.core.data import arrays
from models.core.families import family


@pytest.mark.parametrize("q", [0.1, 0.5, 0.9])
def test_pymcs_asymmetric_laplace_with_rate_sqrt_q_1_minus_q_over_b_is_our_density(q):
    # PyMC's b is a rate: b_pymc = sqrt(q (1 - q)) / b makes its density q (1 - q) / b
    # exp(-pinball_q(y - mu) / b), the family's; with b_pymc = 1 / b it would not be
    import pymc as pm

    y, mu, scale = np.array([-3.0, -0.2, 0.0, 0.7, 4.0]), 0.3, 1.7
    ours = family("asymmetric_laplace").log_density(np.full_like(y, mu), y, scale, quantile=q)
    theirs = pm.logp(
        pm.AsymmetricLaplace.dist(mu=mu, b=np.sqrt(q * (1 - q)) / scale, q=q), y
    ).eval()
    np.testing.assert_allclose(theirs, ours, rtol=1e-12)
    naive = pm.logp(pm.AsymmetricLaplace.dist(mu=mu, b=1 / scale, q=q), y).eval()
    assert not np.allclose(naive, ours)


def _problem(seed: int, n: int = 60, p: int = 4):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    y = X @ rng.standard_normal(p) + rng.standard_t(3, n)
    return arrays(X, y, [f"x{j}" for j in range(p)])


@pytest.mark.parametrize("q", [0.1, 0.5, 0.9])
@pytest.mark.parametrize("alpha", [1e-3, 3e-2])
def test_the_certified_lp_mode_is_quantileregressors(q, alpha):
    data = _problem(1)
    penalty = {"alpha": alpha, "quantile": q}
    mode = quantile.solve_mode(penalty, data).certify()
    sk = quantile.SPEC.link.sklearn(penalty, data).fit(data.X, data.y)
    b0, w = quantile.SPEC.point_coefficients(mode.point)
    assert mode.objective_at(sk.intercept_, sk.coef_) == pytest.approx(mode.objective, rel=1e-9)
    # the model's own negative log posterior at b = 1 is the objective times n (up to constants):
    # scikit-learn's default QuantileRegressor (not our tight settings) agrees too
    default = QuantileRegressor(quantile=q, alpha=alpha).fit(data.X, data.y)
    assert mode.objective_at(default.intercept_, default.coef_) == pytest.approx(
        mode.objective, rel=1e-7
    )
    if mode.unique:
        np.testing.assert_allclose(w, sk.coef_, rtol=1e-8, atol=1e-10)
        assert b0 == pytest.approx(sk.intercept_, rel=1e-8)


def test_a_non_unique_median_is_not_claimed_unique():
    # an intercept-only median of an even number of rows: every value between the two middle
    # ones minimises the pinball loss, so uniqueness must not be proved; with an odd number it is
    y = np.array([1.0, 2.0, 4.0, 8.0])
    X = np.zeros((4, 1))
    X[:, 0] = [1.0, -1.0, 1.0, -1.0]
    penalty = {"alpha": 10.0, "quantile": 0.5}  # large alpha: w = 0
    even = quantile.solve_mode(penalty, arrays(X, y, ["x"])).certify()
    assert np.all(even.point["w"] == 0) and not even.unique
    odd = quantile.solve_mode(penalty, arrays(X[:3], y[:3], ["x"])).certify()
    assert odd.unique and float(odd.point["intercept"]) == pytest.approx(2.0)


def test_the_joint_mode_of_b_is_the_objective_times_n_over_n_plus_p_plus_1():
    data = _problem(2)
    mode = quantile.solve_mode({"alpha": 1e-2, "quantile": 0.3}, data)
    n, p = data.X.shape
    assert float(mode.point["b"]) == pytest.approx(n * mode.objective / (n + p + 1), rel=1e-12)


def test_the_mapping_and_its_inverse():
    assert quantile.alpha_to_laplace_scale(0.01, 200) == pytest.approx(0.5)
    assert quantile.laplace_scale_to_alpha(0.5, 200) == pytest.approx(0.01)
    with pytest.raises(InputError, match="quantile must be between 0 and 1"):
        quantile.prior_values({"alpha": 1.0, "quantile": 1.0}, _problem(0))


def test_the_model_is_registered_with_its_family():
    spec = get_model("quantile")
    assert spec.likelihood == "asymmetric_laplace" and spec.closed_form.mode_solver
    assert spec.link.penalty_names == ("alpha", "quantile")
