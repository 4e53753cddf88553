"""ARD, the regularised horseshoe and R2D2: the evidence maximiser against scikit-learn's
ARDRegression, the Bayesian twin of ARDRegression, the horseshoe's missing MAP, bad p0, and a
prior-calibration test of the horseshoe's intervals."""

import numpy as np
import pymc as pm
import pytest
from sklearn.linear_model import ARDRegression

from models import ard, horseshoe, r2d2
from models.core.base import InputError, ModelData
from models.inference.engines import MAPSolver, PosteriorSampler
from models.scale.statistics import GaussianStatistics, statistics_values


def sparse_problem(seed: int, n: int = 100, p: int = 50):
    """Correlated columns (AR(1), rho 0.5), five non-zero coefficients of mixed sizes."""
    rng = np.random.default_rng(seed)
    cov = 0.5 ** np.abs(np.subtract.outer(np.arange(p), np.arange(p)))
    X = rng.standard_normal((n, p)) @ np.linalg.cholesky(cov).T
    w = np.zeros(p)
    w[rng.choice(p, 5, replace=False)] = [3.0, -2.0, 1.0, 0.5, -0.25]
    return X, 1.0 + X @ w + rng.standard_normal(n), w


def model_data(X, y) -> ModelData:
    names = tuple(f"x{j}" for j in range(X.shape[1]))
    return ModelData(X, y, names, stats=GaussianStatistics.from_arrays(X, y))


@pytest.mark.parametrize("seed", [0, 1])
def test_ard_is_our_evidence_maximiser(seed):
    """Stated bounds: coef_ and alpha_ to 1e-7 relative, lambda_ of the kept coefficients to 1e-3
    (the evidence is flat in a large precision, so a gradient of 1e-8 leaves it looser), the same
    pruned set. scikit-learn runs 20,000 updates (its own stopping rule is on coef_ alone)."""
    X, y, _ = sparse_problem(seed)
    ours = ard.evidence_maximiser(X, y).certify()
    theirs = ARDRegression(tol=0.0, max_iter=20_000).fit(X, y)
    np.testing.assert_array_equal(ours.kept, theirs.lambda_ < ard.THRESHOLD_LAMBDA)
    assert 0 < ours.kept.sum() < X.shape[1]  # pruning happened, and not of everything
    scale = np.max(np.abs(theirs.coef_))
    assert np.max(np.abs(ours.coef - theirs.coef_)) <= 1e-7 * scale
    assert abs(ours.intercept - theirs.intercept_) <= 1e-7 * scale
    assert abs(ours.alpha / theirs.alpha_ - 1) <= 1e-7
    kept = ours.kept
    assert np.max(np.abs(ours.lambda_[kept] / theirs.lambda_[kept] - 1)) <= 1e-3


def test_ard_gradient_is_the_log_evidence_gradient():
    """The certificate's gradient equals central differences of the log evidence computed from the
    marginal covariance of y (no posterior involved), at a point that is not the maximum."""
    X, y, _ = sparse_problem(3, n=40, p=8)
    Xc, yc = X - X.mean(axis=0), y - y.mean()
    rng = np.random.default_rng(0)
    lam, alpha, h = np.exp(rng.normal(size=8)), 0.7, 1e-5
    d_alpha, d_lam = ard.evidence_gradient(Xc, yc, alpha, lam)
    assert np.max(np.abs(d_lam)) > 0.1  # not at a stationary point

    def shifted(j, step):
        return lam * np.exp(step * (np.arange(8) == j))

    numeric = [
        (ard.log_evidence(Xc, yc, alpha, shifted(j, h)) - ard.log_evidence(Xc, yc, alpha, shifted(j, -h)))
        / (2 * h)
        for j in range(8)
    ]  # fmt: skip
    numeric_alpha = (
        ard.log_evidence(Xc, yc, alpha * np.exp(h), lam)
        - ard.log_evidence(Xc, yc, alpha * np.exp(-h), lam)
    ) / (2 * h)
    np.testing.assert_allclose(d_lam, numeric, atol=1e-6)
    assert abs(d_alpha - numeric_alpha) <= 1e-6


def test_ard_stopped_early_is_not_certified():
    X, y, _ = sparse_problem(0)
    found = ard.evidence_maximiser(X, y, max_iter=3)
    assert not found.converged
    with pytest.raises(ValueError, match="DID NOT CONVERGE"):
        found.certify()


def test_bayesian_ard_twin_mode_is_ardregression():
    from models.twin import bayesian

    X, y, _ = sparse_problem(2, n=60, p=10)
    twin = bayesian(ARDRegression(), random_state=0, draws=200).fit(X, y)
    assert twin.model_ == "ard" and twin.method_ == "exact"
    assert twin.wrapped_gap_ <= 1e-9
    low, high = twin.predict_interval(X[:5])
    assert np.all(low < twin.predict(X[:5])) and np.all(twin.predict(X[:5]) < high)


@pytest.mark.parametrize("p0", [0, -1, 10, 12.5, float("nan")])
def test_bad_p0_is_one_input_error(p0):
    with pytest.raises(InputError, match="--p0"):
        horseshoe.check_p0(p0, 10)


def test_global_scale_is_piironen_vehtari():
    assert horseshoe.global_scale(5, 50, 100) == pytest.approx(5 / 45 / 10)


def test_horseshoe_density_is_unbounded_at_zero():
    near = horseshoe.marginal_density(np.array([1e-2, 1e-4, 1e-6]))
    assert near[0] < near[1] < near[2] and near[2] > 2 * near[0]
    assert np.isinf(horseshoe.marginal_density(np.array([0.0]))[0])


@pytest.mark.slow
def test_horseshoe_map_is_not_certified():
    """MAPSolver on the horseshoe's density of w (the centred model) must refuse or certify
    nothing: the density is unbounded as w -> 0 and tau -> 0. Newton either stops uncertified or
    drives a prior sd to 0, where PyMC raises (ParameterValueError, a ValueError)."""
    X, y, _ = sparse_problem(0, n=30, p=6)
    solver = MAPSolver(horseshoe.build_centred(model_data(X, y), p0=2))
    try:
        result = solver.solve()
    except ValueError:
        return  # refused
    assert not result.converged
    with pytest.raises(ValueError, match="DID NOT CONVERGE"):
        result.certify()


@pytest.mark.slow
def test_horseshoe_and_r2d2_intervals_cover_at_their_rate():
    """Data from the prior: over replications x coefficients, the 94% central intervals cover
    the true coefficients at 94% within 3 binomial standard errors (each replication draws the
    whole prior: tau, lambda, c^2, sigma, w, then y) and the posterior is fitted under that same
    prior (its data-dependent scales, e.g. the slab's, set to the values drawn from). Every
    data-dependent number is pm.Data, so each model compiles once and the replications swap data."""
    rng = np.random.default_rng(11)
    n, p, replications = 40, 6, 8
    for build in (horseshoe.build, r2d2.build):
        covered = []
        for _ in range(replications):
            X = rng.standard_normal((n, p))
            prior = build(model_data(X, rng.standard_normal(n)))
            true_w, sigma = pm.draw([prior["w"], prior["sigma"]], random_seed=rng)
            y = X @ true_w + sigma * rng.standard_normal(n)
            model = build(model_data(X, y))
            # the prior's data-dependent scales as drawn from, not recomputed from this y
            same_prior = {v.name: v.get_value() for v in prior.data_vars
                          if v.name not in statistics_values(GaussianStatistics.from_arrays(X, y))}  # fmt: skip
            trace = PosteriorSampler(model).sample(
                same_prior, draws=400, tune=400, chains=2, seed=int(rng.integers(2**31)),
                target_accept=horseshoe.TARGET_ACCEPT,
            )  # fmt: skip
            draws = trace["posterior"]["w"].values.reshape(-1, p)
            low, high = np.quantile(draws, [0.03, 0.97], axis=0)
            covered.extend((low <= true_w) & (true_w <= high))
        total = len(covered)
        bound = 3 * np.sqrt(0.94 * 0.06 / total)
        assert abs(np.mean(covered) - 0.94) <= bound, (build.__module__, np.mean(covered))


@pytest.mark.parametrize("p0", ["0", "-2", "50", "70", "nan"])
def test_bad_p0_on_the_command_line_is_one_line_and_exit_2(p0, tmp_path, capsys):
    """Refused before any fit: no output folder is written."""
    from experiments.__main__ import main

    out = tmp_path / "sparse"
    assert main(["sparse", "--quick", f"--p0={p0}", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "\n" not in err and "--p0" in err, err
    assert not out.exists()


def _user_csv(path, rows: int = 40):
    """Six columns with hostile names (markup, maths, table and emphasis marks), the first two
    strongly in the signal (coefficients 2 and -1 against noise sd 1), and a target with a
    backtick in its name."""
    rng = np.random.default_rng(5)
    X = rng.standard_normal((rows, 6))
    y = 2 * X[:, 0] - X[:, 1] + rng.standard_normal(rows)
    header = ["<b>$x_1$", "a|b*", "c", "d", "e", "f", "y`t"]
    body = [",".join(f"{v:.6f}" for v in row) for row in np.column_stack([X, y])]
    path.write_text("\n".join([",".join(header), *body]) + "\n")
    return path


@pytest.mark.slow
def test_sparse_page_runs_on_a_user_csv(tmp_path):
    """``sparse --data``: the real-data section on the user's columns (no generated problem, the
    page says why), the strong columns kept by every method, p0 defaulted to the CSV's width, the
    names escaped in HTML and Markdown, and the page rebuilt identically from its files."""
    import json

    from render_check import assert_renders_identically

    from experiments.__main__ import main
    from experiments.sparse import METHODS

    data = _user_csv(tmp_path / "user.csv")
    out = tmp_path / "sparse"
    assert main(["sparse", "--quick", "--quiet", "--data", str(data), "--target", "y`t",
                 "--out", str(out)]) == 0  # fmt: skip
    results = json.loads((out / "results.json").read_text())
    assert "sparse" not in results and "noise_columns" not in results
    columns = results["user_columns"]["columns"]
    assert set(columns) == set(METHODS)
    for m in METHODS:
        assert columns[m]["kept"][:2] == [True, True], m
    assert results["user_columns"]["p0"] == horseshoe.default_p0(6)
    html, md = (out / "index.html").read_text(), (out / "index.md").read_text()
    assert "<b>$x_1$" not in html and "&lt;b&gt;$x_1$" in html
    assert "\\<b\\>\\$x\\_1\\$" in md and "a\\|b\\*" in md
    assert "Skipped on your data" in md and (out / "columns.png").is_file()
    assert_renders_identically(out)


@pytest.mark.parametrize("p0", ["0", "6", "7.5", "-1"])
def test_bad_p0_for_the_user_csv_is_one_line_and_exit_2(p0, tmp_path, capsys):
    """--p0 is checked against the CSV's width (6 columns here: 5.5 would pass), before any fit."""
    from experiments.__main__ import main

    data = _user_csv(tmp_path / "user.csv")
    out = tmp_path / "sparse"
    assert main(["sparse", "--quick", "--data", str(data), "--target", "y`t", f"--p0={p0}",
                 "--out", str(out)]) == 2  # fmt: skip
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "\n" not in err and "--p0" in err and "(6)" in err, err
    assert not out.exists()


def test_user_csv_with_too_few_rows_is_one_line_and_exit_2(tmp_path, capsys):
    from experiments.__main__ import main

    data = _user_csv(tmp_path / "user.csv", rows=8)
    assert main(["sparse", "--data", str(data), "--target", "y`t", "--out",
                 str(tmp_path / "sparse")]) == 2  # fmt: skip
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "\n" not in err and "at least 10 data rows" in err, err


def test_horseshoe_and_r2d2_name_the_sparse_page(capsys):
    from experiments.__main__ import main

    for name in ("horseshoe", "r2d2"):
        assert main([name, "--data", "x.csv"]) == 2
        err = capsys.readouterr().err.strip()
        assert "\n" not in err and "sparse --data FILE --target COLUMN" in err, err


def test_ard_with_sigma_unknown_refuses_a_target_fitted_exactly():
    # a constant y: the penalised residual sum of squares is 0, so sigma's posterior would be a
    # point mass at 0 (zero-width intervals); refused in one line as ridge's conjugate refuses it
    X = np.random.default_rng(0).normal(size=(30, 3))
    penalty = {"alpha": 1.0, "lambda": np.ones(3)}
    with pytest.raises(InputError, match="not fitted exactly"):
        ard.conjugate(penalty, X, np.full(30, 5.0))
    assert ard.conjugate(penalty, X, X[:, 0] + np.linspace(0, 1, 30)).s2 > 0


def test_ard_twin_on_pure_noise_prunes_to_exact_zeros():
    # every coefficient pruned: ARDRegression's coef_ is 0, the twin's was ~1e-101, and its
    # gap to ARDRegression (relative to its own largest coefficient) read 100%
    from models.twin import bayesian

    rng = np.random.default_rng(1)  # a seed where ARDRegression prunes both columns
    X, y = rng.normal(size=(200, 2)), rng.normal(size=200)
    assert np.all(ARDRegression().fit(X, y).coef_ == 0)
    twin = bayesian(ARDRegression(), random_state=0, draws=200).fit(X, y)
    assert np.all(twin.coef_ == 0) and twin.wrapped_gap_ == 0
