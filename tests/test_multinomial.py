"""Multinomial L2 logistic regression as a MAP: the mapping against scikit-learn, the identifying
constraints (class sums of the weights, zero-sum intercepts), the twin on K > 2 classes, the page."""

from __future__ import annotations

import csv

import numpy as np
import pytest
from scipy import special
from sklearn.datasets import load_wine
from sklearn.linear_model import LogisticRegression, LogisticRegressionCV
from sklearn.preprocessing import StandardScaler

from models import get_model
from models.core.base import ContractError, ModelData, ModelSpec, coords
from models.core.data import DATASETS, build_model, model_data
from models.inference.engines import MAPSolver
from models.twin.estimator import bayesian, twin_of

TOL = 1e-6  # the family's Check 1 bound (Newton at tol=1e-12 on both sides: ~1e-10 measured)
SPEC = get_model("multinomial")


def relative(a, b) -> float:
    return float(np.max(np.abs(np.asarray(a) - b)) / np.max(np.abs(b)))


@pytest.fixture(scope="module")
def wine():
    md = model_data(SPEC, DATASETS["wine"]())
    return md, MAPSolver(build_model(SPEC, md, {"prior_sd": 1.0}), SPEC)


@pytest.mark.parametrize("C", [1e-3, 0.1, 10.0, 1e3])
def test_map_is_logistic_regression_with_k_weight_vectors(wine, C):
    md, solver = wine
    fit = solver.solve(SPEC.link.prior_values({"C": C}, md)).certify()
    b, w = SPEC.point_coefficients(fit.point)
    sk = SPEC.link.sklearn({"C": C}, md).fit(md.X, md.y)
    assert sk.coef_.shape == w.shape == (3, 13) and sk.intercept_.shape == b.shape == (3,)
    assert relative(w, sk.coef_) <= TOL
    # the intercepts in scikit-learn's form: the same zero-sum representative
    assert np.max(np.abs(b - sk.intercept_)) <= TOL * np.max(np.abs(sk.intercept_))
    # the penalty identifies the K vectors: their class sum is 0 at the optimum, on both sides
    for coef, intercept in ((w, b), (sk.coef_, sk.intercept_)):
        assert np.max(np.abs(coef.sum(axis=0))) <= 1e-10 * np.max(np.abs(coef))
        assert abs(intercept.sum()) <= 1e-10 * max(1.0, np.max(np.abs(intercept)))


def test_lbfgs_reports_the_same_zero_sum_answer(wine):
    # lbfgs starts at 0 and moves along gradients whose class sums are 0, so its intercepts and
    # weights stay zero-sum to rounding; at tol=1e-12 it stops ~1e-7 from the optimum at C = 0.1
    # (measured; ~1e-5 at C = 1e3, where newton-cholesky, Check 1's solver, reaches ~1e-10)
    md, solver = wine
    b, w = SPEC.point_coefficients(solver.solve({"prior_sd": np.sqrt(0.1)}).certify().point)
    sk = LogisticRegression(C=0.1, solver="lbfgs", tol=1e-12, max_iter=10**5).fit(md.X, md.y)
    assert relative(w, sk.coef_) <= TOL and relative(b, sk.intercept_) <= TOL
    assert abs(sk.intercept_.sum()) <= 1e-12 and np.max(np.abs(sk.coef_.sum(axis=0))) <= 1e-12


def test_the_intercept_has_k_minus_1_free_values():
    md = model_data(SPEC, DATASETS["wine"]())
    model = SPEC.build(md)
    assert [v.name for v in model.free_RVs] == ["intercept_free", "w"]
    (intercept,) = model.replace_rvs_by_values([model["intercept"]])
    free = model.rvs_to_values[model["intercept_free"]]
    np.testing.assert_allclose(intercept.eval({free: [0.3, -1.1]}), [0.3, -1.1, 0.8])


def test_a_softmax_model_with_one_weight_vector_breaks_the_contract():
    md = model_data(SPEC, DATASETS["wine"]())

    def flat(data):
        import pymc as pm

        with pm.Model(coords=coords(data)) as model:
            pm.Data("prior_sd", 1.0)
            pm.Flat("intercept")
            w = pm.Normal("w", 0.0, 1.0, dims="feature")
            pm.Normal("y", data.X @ w, 1.0, observed=data.y)
        return model

    spec = ModelSpec(name="flat", title="t", prior="", likelihood="categorical", build=flat,
                     coefficient_dims=("class",))  # fmt: skip
    with pytest.raises(ContractError, match=r"'w' has shape \(13,\), expected \(3, 13\)"):
        build_model(spec, md)
    no_class = ModelData(md.X, md.y, md.feature_names)
    with pytest.raises(ContractError, match="no coordinate 'class'"):
        build_model(spec, no_class)


def test_digits_constant_columns_are_dropped_with_a_note_and_the_map_still_agrees():
    # a test of scale: 10 classes x 61 features = 610 weights; the 3 constant pixels cannot be
    # standardised and carry no information, so the bundled set drops them and says so. The MAP
    # runs on the first 300 images (every digit ~30 times): the compiled Hessian of 620
    # parameters costs ~10 s per evaluation on all 1797 rows here, and rows only scale it
    data = DATASETS["digits"]()
    assert data.X.shape == (1797, 61) and len(data.classes) == 10
    assert "3 constant pixel columns dropped (pixel_0_0, pixel_4_0, pixel_4_7" in data.note
    data.X, data.y = data.X[:300], data.y[:300]
    assert np.bincount(data.y.astype(int)).min() >= 25
    md = model_data(SPEC, data)
    solver = MAPSolver(build_model(SPEC, md, {"prior_sd": 1.0}), SPEC)
    b, w = SPEC.point_coefficients(solver.solve({"prior_sd": np.sqrt(0.01)}).certify().point)
    sk = SPEC.link.sklearn({"C": 0.01}, md).fit(md.X, md.y)
    assert w.shape == (10, 61) and relative(w, sk.coef_) <= TOL
    assert relative(b, sk.intercept_) <= TOL


# -- the twin on K > 2 classes ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def wine_arrays():
    X, y = load_wine(return_X_y=True)
    return StandardScaler().fit_transform(X), np.array(["barolo", "grignolino", "barbera"])[y]


def test_the_twin_of_logistic_regression_on_three_classes_is_multinomial(wine_arrays):
    X, y = wine_arrays
    twin = bayesian(LogisticRegression(C=0.5), method="laplace", random_state=0).fit(X, y)
    sk = LogisticRegression(C=0.5, solver="newton-cholesky", tol=1e-12).fit(X, y)
    assert twin.model_ == "multinomial" and list(twin.classes_) == list(sk.classes_)
    assert twin.coef_.shape == (3, 13) and twin.intercept_.shape == (3,)
    assert relative(twin.coef_, sk.coef_) <= TOL and relative(twin.intercept_, sk.intercept_) <= TOL
    post = twin.posterior_["posterior"]
    assert post["w"].dims == ("chain", "draw", "class", "feature")
    assert list(post["class"].values) == list(sk.classes_)
    # predict_proba is the posterior mean of the softmax probabilities, by hand from the draws
    w = post["w"].values.reshape(-1, 3, 13)
    b = post["intercept"].values.reshape(-1, 3)
    by_hand = special.softmax(b[:, None, :] + np.einsum("skp,np->snk", w, X[:5]), -1).mean(0)
    np.testing.assert_allclose(twin.predict_proba(X[:5]), by_hand, rtol=1e-12)
    assert list(twin.predict(X[:5])) == list(sk.classes_[by_hand.argmax(axis=1)])
    low, high = twin.predict_interval(X[:5])
    assert low.shape == (5, 3) and np.all((low <= by_hand) & (by_hand <= high))
    loglik = twin.posterior_["log_likelihood"]["y"].values.reshape(-1, len(y))[0]
    codes = np.searchsorted(twin.classes_, y)
    eta = b[0] + X @ w[0].T
    np.testing.assert_allclose(loglik, special.log_softmax(eta, axis=1)[np.arange(len(y)), codes])


def test_two_classes_stay_binary_and_one_class_is_refused(wine_arrays):
    X, y = wine_arrays
    spec, _ = twin_of(LogisticRegression(), 2)
    assert spec.name == "logistic"
    assert twin_of(LogisticRegressionCV(), 3)[0].name == "multinomial"
    with pytest.raises(ValueError, match="needs at least 2 classes; got 1 class"):
        bayesian(LogisticRegression()).fit(X, np.full(len(y), "barolo"))


# -- the page on a user's CSV ----------------------------------------------------------------------


def test_the_page_runs_on_a_csv_with_its_own_labels(run_quick, tmp_path_factory):
    # wine as a CSV whose labels are 1, 2, 3 and whose target name is markup: the page keeps the
    # labels as classes, coefficients (class, feature), and escapes the name
    bunch = load_wine()
    path = tmp_path_factory.mktemp("csv") / "wine.csv"
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([*bunch.feature_names, "<b>cultivar</b>"])
        writer.writerows(
            [*row, label + 1] for row, label in zip(bunch.data, bunch.target, strict=True)
        )
    out, results = run_quick("multinomial", "--data", str(path), "--target", "<b>cultivar</b>")
    assert results["classes"] == ["1", "2", "3"]
    assert np.shape(results["sklearn_coef"]) == np.shape(results["map_coef"]) == (25, 3, 13)
    assert np.shape(results["map_intercept"]) == (25, 3)
    assert max(results["max_rel_diff"]) <= TOL
    for key in ("map", "mean", "sd", "hdi_94_low", "r_hat", "ess_bulk", "sklearn"):
        assert np.shape(results["posterior"][key]) == (3, 13)
    assert results["verdict_box"]["verified"]["level"] == "green"
    # the class sums' posterior is exact (Normal(0, sqrt(K C))): NUTS within 4 MCSE of 0
    assert results["class_sums"]["verdict"]["outcome"] == "agrees"
    # signs are judged on the zero-sum weights the data identify (each raw W_kj also carries
    # s_j / K, which only the prior decides): P(W_kj - mean_k W_kj > 0) from the saved draws
    import arviz as az

    w = az.from_netcdf(out / "posterior.nc")["posterior"]["w"]
    centred = ((w - w.mean("class")) > 0).mean(("chain", "draw")).values.ravel()
    signs = results["posterior"]["signs"]
    judged = [v["value"] for group in ("settled", "likely", "uncertain") for v in signs[group]]
    assert "zero-sum" in signs["source"] and len(judged) == 39
    assert sorted(judged) == pytest.approx(sorted(centred), abs=1e-12)
    page = (out / "index.md").read_text()
    assert "| 1, alcohol |" in page and "| 3, proline |" in page  # the (class, feature) rows
    assert "<b>cultivar</b>" not in (out / "index.html").read_text()


def test_class_labels_are_shown_as_the_values_they_are():
    # labels printed with ":g" collapsed 1234567, 1234568 and 1234569 into one "1.23457e+06"
    from models.core.data import Dataset, class_codes

    y = np.array([1234569, 1234567, 0.1, 1234568, -2.0, 1e300, 1234567])
    data = class_codes(Dataset(np.zeros((7, 1)), y.astype(float), ["x"], "y", "test", False))
    assert data.classes == ["-2", "0.1", "1234567", "1234568", "1234569", "1e+300"]
    assert [float(label) for label in data.classes] == sorted(set(y.tolist()))
    assert data.y.tolist() == [4, 2, 1, 3, 0, 5, 2]
