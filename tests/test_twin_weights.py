"""The Bayesian twin's contract beyond the mode: what a sample weight means, which rows enter the
pointwise log likelihood, the shapes of ``coef_`` and ``intercept_``, how far the wrapped fit is
from the mode, what is refused, and which elastic-net prior the twin samples."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import integrate, stats
from sklearn.datasets import load_breast_cancer, load_diabetes, load_wine
from sklearn.linear_model import (
    ARDRegression,
    ElasticNet,
    ElasticNetCV,
    GammaRegressor,
    Lasso,
    LassoCV,
    LogisticRegression,
    LogisticRegressionCV,
    PoissonRegressor,
    QuantileRegressor,
    Ridge,
    RidgeCV,
    TweedieRegressor,
)
from sklearn.preprocessing import StandardScaler

from models import get_model
from models.core.base import ModelData
from models.twin.estimator import bayesian

COEF = np.array([1.0, -2.0, 0.5, 0.0, 3.0])


@pytest.fixture(scope="module")
def diabetes():
    X, y = load_diabetes(return_X_y=True)
    return StandardScaler().fit_transform(X), y


@pytest.fixture(scope="module")
def cancer():
    X, y = load_breast_cancer(return_X_y=True)
    return StandardScaler().fit_transform(X), y


@pytest.fixture(scope="module")
def wine():
    X, y = load_wine(return_X_y=True)
    return StandardScaler().fit_transform(X), y


# -- what a weight means for a new row ------------------------------------------------------------


def rows(rng, n, precision):
    """``n`` rows of ``y = 3 + X COEF + noise``, noise sd ``2 / sqrt(precision_i)``."""
    X = rng.normal(size=(n, len(COEF)))
    return X, 3.0 + X @ COEF + 2.0 / np.sqrt(precision) * rng.normal(size=n)


@pytest.mark.parametrize(
    ("case", "noise"),
    [
        ("all 1/n", "unknown"),
        ("all 1/n", 2.0),
        ("random, not the noise's", "unknown"),
        ("random, not the noise's", 2.0),
        ("random precisions", "unknown"),
    ],
)
def test_held_out_coverage_does_not_depend_on_the_scale_of_the_weights(case, noise):
    # Weights are relative precisions. "all 1/n" and "random, not the noise's": the noise is the
    # same on every row (sd 2), the weights sum to 1; a new row has the mean training weight, so
    # its noise sd is sigma, the noise sd of a row of average weight (2 here, learned or given).
    # "random precisions": row i has noise sd 2 / sqrt(p_i), the weights are p_i / sum(p), and
    # the held-out rows are given their weights on the same scale.
    # 20,000 held-out rows: binomial sd 0.0021 of the coverage; the estimated sigma (20,000 rows)
    # moves it by sd <= 0.002 more. Margin 0.012, about 4 combined sd. Before weights were read as
    # relative, "all 1/n" gave a coverage of 0.21 (sqrt(n) too narrow).
    rng = np.random.default_rng(23)
    n, prob = 20_000, 0.9
    if case == "random precisions":
        precision = rng.uniform(0.2, 5.0, 2 * n)
        total = precision[:n].sum()
        weight, new_weight = precision[:n] / total, precision[n:] / total
    else:
        precision = np.ones(2 * n)
        raw = np.ones(n) if case == "all 1/n" else rng.uniform(0.1, 1.0, n)
        weight, new_weight = raw / raw.sum(), None
    X, y = rows(rng, 2 * n, precision)
    twin = bayesian(Ridge(alpha=1e-3), noise=noise, random_state=0)
    twin.fit(X[:n], y[:n], sample_weight=weight)
    assert np.allclose(twin.coef_, Ridge(alpha=1e-3).fit(X[:n], y[:n], weight).coef_, rtol=1e-8)
    low, high = twin.predict_interval(X[n:], prob=prob, sample_weight=new_weight)
    coverage = np.mean((low <= y[n:]) & (y[n:] <= high))
    assert abs(coverage - prob) <= 0.012, coverage
    # predict's sd is the same predictive: the interval is its Student-t (Normal) quantiles
    _, sd = twin.predict(X[n:], return_std=True, sample_weight=new_weight)
    post = twin.conjugate_
    unit = stats.norm() if post.noise_known else stats.t(post.dof, scale=np.sqrt(1 - 2 / post.dof))
    assert np.allclose(high - low, 2 * unit.ppf((1 + prob) / 2) * sd, rtol=1e-10)


def test_rescaling_the_weights_changes_the_noise_model_in_nothing(diabetes):
    # Ridge's objective sum w_i r_i^2 + alpha ||w||^2 with weights c w_i is Ridge(alpha / c) with
    # weights w_i: the twin's posterior and predictions at (c w, alpha) equal those at (w, alpha / c).
    X, y = diabetes
    weight = np.random.default_rng(5).uniform(0.2, 3.0, len(y))
    c = 1.0 / weight.sum()
    for noise in ("unknown", 50.0):
        scaled = bayesian(Ridge(alpha=0.5), noise=noise, random_state=1).fit(X, y, c * weight)
        plain = bayesian(Ridge(alpha=0.5 / c), noise=noise, random_state=1).fit(X, y, weight)
        assert np.allclose(scaled.coef_, plain.coef_, rtol=1e-10)
        pairs = zip(scaled.predict(X[:5], True), plain.predict(X[:5], True), strict=True)
        assert all(np.allclose(a, b, rtol=1e-10) for a, b in pairs)
        assert np.allclose(scaled.posterior_["posterior"]["w"], plain.posterior_["posterior"]["w"])
        assert scaled.sample_weight_mean_ == pytest.approx(c * plain.sample_weight_mean_)


def test_new_row_weights_are_checked(diabetes):
    X, y = diabetes
    twin = bayesian(Ridge()).fit(X, y)
    for bad, message in [
        (np.zeros(3), "positive"),
        (-np.ones(3), "positive"),
        (np.ones(2), "shape"),
    ]:
        with pytest.raises(ValueError, match=message):
            twin.predict_interval(X[:3], sample_weight=bad)


# -- rows of weight zero --------------------------------------------------------------------------


def test_rows_of_weight_zero_are_left_out_of_the_log_likelihood(diabetes):
    # A row of weight 0 is not in the likelihood, so LOO has nothing to leave out: it is not in
    # log_likelihood (nor observed_data); the obs coordinate holds the rows that are. The
    # posterior is the same as without those rows, so every pointwise value and az.loo are too.
    import arviz as az

    X, y = diabetes
    weight = np.random.default_rng(2).uniform(0.5, 2.0, len(y))
    weight[::7] = 0.0
    kept = np.flatnonzero(weight > 0)
    twin = bayesian(Ridge(alpha=0.5), random_state=4).fit(X, y, sample_weight=weight)
    alone = bayesian(Ridge(alpha=0.5), random_state=4).fit(X[kept], y[kept], weight[kept])
    loglik = twin.posterior_["log_likelihood"]["y"]
    assert np.all(np.isfinite(loglik.values)) and loglik.sizes["obs"] == len(kept)
    assert np.array_equal(loglik["obs"].values, kept)
    assert np.allclose(loglik.values, alone.posterior_["log_likelihood"]["y"].values, rtol=1e-10)
    assert np.array_equal(twin.posterior_["observed_data"]["y"].values, y[kept])
    elpd = az.loo(twin.posterior_).elpd
    assert np.isfinite(elpd) and elpd == pytest.approx(az.loo(alone.posterior_).elpd, rel=1e-10)


# -- coef_ and intercept_ as the wrapped estimator has them ---------------------------------------


WRAPPED = [
    (Ridge(alpha=0.5), {}, "regression"),
    (RidgeCV(), {}, "regression"),
    (Lasso(alpha=0.5), {"draws": 50, "tune": 50}, "regression"),
    (LassoCV(cv=3), {"draws": 50, "tune": 50}, "regression"),
    (ElasticNet(alpha=0.05), {"draws": 50, "tune": 50}, "regression"),
    (ElasticNetCV(cv=3, l1_ratio=0.5), {"draws": 50, "tune": 50}, "regression"),
    (LogisticRegression(), {"method": "laplace", "draws": 50}, "classification"),
    (
        LogisticRegressionCV(
            cv=3, Cs=3, l1_ratios=(0.0,), use_legacy_attributes=False, scoring="neg_log_loss"
        ),
        {"method": "laplace", "draws": 50},
        "classification",
    ),
    (LogisticRegression(), {"method": "laplace", "draws": 50}, "multiclass"),
    # diabetes' target is a positive integer: a count for Poisson, positive for Gamma
    (PoissonRegressor(alpha=0.01), {"method": "laplace", "draws": 50}, "regression"),
    (GammaRegressor(alpha=0.01), {"method": "laplace", "draws": 50}, "regression"),
    (TweedieRegressor(power=1, alpha=0.01), {"method": "laplace", "draws": 50}, "regression"),
    (QuantileRegressor(alpha=0.01), {"draws": 50, "tune": 50}, "regression"),
    (ARDRegression(), {"draws": 50}, "regression"),
]


def registered_twins() -> set[str]:
    from models import registry

    return {rule.name for spec in registry().values() for rule in spec.link.twins}


def test_every_registered_twin_is_in_the_shape_test():
    assert {type(est).__name__ for est, _, _ in WRAPPED} == registered_twins()


@pytest.mark.filterwarnings("ignore::models.twin.estimator.SamplingWarning")
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize(("estimator", "options", "task"), WRAPPED, ids=lambda v: repr(v)[:30])
def test_coef_and_intercept_have_the_wrapped_estimators_shapes(diabetes, cancer, wine, estimator,
                                                              options, task):  # fmt: skip
    X, y = {"classification": cancer, "multiclass": wine, "regression": diabetes}[task]
    twin = bayesian(estimator, random_state=0, **options).fit(X, y)
    wrapped = twin.estimator_
    for name in ("coef_", "intercept_"):
        ours, theirs = getattr(twin, name), getattr(wrapped, name)
        assert np.shape(ours) == np.shape(theirs), name
        assert np.asarray(ours).dtype == np.asarray(theirs).dtype, name
        assert isinstance(ours, np.ndarray) == isinstance(theirs, np.ndarray), name
    if task != "regression":
        assert twin.coef_[0].shape == (X.shape[1],)  # code written for scikit-learn's shapes runs


# -- how far the wrapped estimator's own fit is from the mode -------------------------------------


def gap(wrapped_coef, mode) -> float:
    """The documented ``wrapped_gap_``: max |wrapped - mode| / max |mode| over coef_."""
    scale = float(np.max(np.abs(mode))) or 1.0
    return float(np.max(np.abs(np.asarray(wrapped_coef) - mode))) / scale


@pytest.mark.filterwarnings("ignore::models.twin.estimator.SamplingWarning")
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_wrapped_gap_is_the_distance_of_the_wrapped_fit_from_the_mode(diabetes, cancer):
    X, y = cancer
    # scikit-learn's default tolerance stops LogisticRegression() well short of the optimum
    loose = bayesian(LogisticRegression(), method="laplace", draws=20).fit(X, y)
    fitted = LogisticRegression().fit(X, y)
    assert loose.wrapped_gap_ == pytest.approx(gap(fitted.coef_, loose.coef_), rel=1e-12)
    assert np.array_equal(loose.estimator_.coef_, fitted.coef_)
    assert loose.wrapped_gap_ > 1e-6
    tight = LogisticRegression(solver="newton-cholesky", tol=1e-12)
    assert bayesian(tight, method="laplace", draws=20).fit(X, y).wrapped_gap_ <= 1e-8
    X, y = diabetes
    ridge = bayesian(Ridge(alpha=0.5, solver="cholesky")).fit(X, y)
    assert ridge.wrapped_gap_ <= 1e-10
    lasso = bayesian(Lasso(alpha=0.5, tol=1e-12, max_iter=10**6), draws=20, tune=20).fit(X, y)
    assert lasso.wrapped_gap_ <= 1e-8
    assert lasso.wrapped_gap_ == pytest.approx(gap(lasso.estimator_.coef_, lasso.coef_), abs=1e-15)


# -- refused up front ------------------------------------------------------------------------------


def test_per_target_alphas_and_several_targets_are_one_clear_error(diabetes):
    X, y = diabetes
    with pytest.raises(ValueError, match=r"per-target alphas .*not supported"):
        bayesian(Ridge(alpha=np.array([1.0, 2.0]))).fit(X, y)
    for estimator in (Ridge(), Ridge(alpha=np.array([1.0, 2.0])), RidgeCV(), Lasso()):
        with pytest.raises(ValueError, match=r"one target.*shape \(442, 2\)"):
            bayesian(estimator).fit(X, np.column_stack([y, y]))
    single = bayesian(Ridge(alpha=np.array([0.5]))).fit(X, y)  # one alpha in an array: fine
    assert np.allclose(single.coef_, Ridge(alpha=0.5).fit(X, y).coef_, rtol=1e-8)


# -- the elastic-net prior is the normalised product ----------------------------------------------


@pytest.mark.parametrize("sigma", [0.3, 1.0, 4.0])
def test_elastic_net_prior_is_the_jointly_normalised_product(sigma):
    # With sigma free, the prior of each w_j is Normal(0, tau) x Laplace(0, b) divided by its
    # integral (a density in w at every sigma), not the product of the two normalised densities
    # (whose integral depends on sigma and would shift sigma's posterior). Integrate the twin
    # model's own prior terms over w at fixed sigma: 1 to quadrature accuracy.
    X = np.zeros((2, 1))
    spec = get_model("elasticnet")
    model = spec.closed_form.build_scaled_noise(ModelData(X, np.zeros(2), ("x0",)))
    with model:
        model.set_data("prior_sd", 0.8)  # tau_1 and b_1: their values at sigma = 1
        model.set_data("laplace_scale", 0.5)
    prior = model.compile_fn(
        model.logp(vars=[model["w"], model["laplace_prior"]]), inputs=model.value_vars,
        on_unused_input="ignore",
    )  # fmt: skip
    point = {"intercept": 0.0, "log_sigma": np.log(sigma)}
    total, error = integrate.quad(
        lambda w: np.exp(prior({**point, "w": np.array([w])})), -np.inf, np.inf
    )
    assert total == pytest.approx(1.0, abs=1e-7), error
