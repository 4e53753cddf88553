"""Experiment ``twin``: the Bayesian twin of a scikit-learn estimator, in a user's own pipeline.

The claim first (one line turns a fitted RidgeCV or LogisticRegressionCV into its posterior, with
the same coefficients), then two held-out checks: the RidgeCV twin's 94% predictive intervals for
wine alcohol content and their empirical coverage beside BayesianRidge's, and the
LogisticRegressionCV twin's intervals of P(malignant) on held-out tumours.

    python -m experiments twin [--quick] [--seed N] [--out DIR]
"""

from __future__ import annotations

import numpy as np

import models
from experiments import report, verdicts
from experiments.runner import Card, Experiment, Run, Section, diagnostics_section
from experiments.style import COLORS, plt, save
from models.core.data import default_dataset, model_data
from models.core.lazy import lazy
from models.ridge import ALPHA_GRID

stats = lazy("scipy.stats")
datasets = lazy("sklearn.datasets")
linear_model = lazy("sklearn.linear_model")
metrics = lazy("sklearn.metrics")
model_selection = lazy("sklearn.model_selection")
pipeline = lazy("sklearn.pipeline")
preprocessing = lazy("sklearn.preprocessing")
models_twin = lazy("models.twin.estimator")
logistic_experiment = lazy("experiments.logistic")

PROB = 0.94
LOGISTIC_CV = {"Cs": np.geomspace(1e-3, 1e3, 13), "cv": 5, "scoring": "neg_log_loss",
               "solver": "newton-cholesky", "tol": 1e-10, "l1_ratios": (0.0,),
               "use_legacy_attributes": False}  # fmt: skip

# What the page shows under "In your own code": runnable as it stands (tests/test_twin.py runs it),
# and the same split, grid and seed as section 1, so it prints section 1's coverage.
USER_CODE = """import numpy as np
from sklearn.datasets import load_wine
from sklearn.linear_model import RidgeCV
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from models.ridge import ALPHA_GRID
from models.twin import bayesian

wine = load_wine()
X, y = np.delete(wine.data, 0, axis=1), wine.data[:, 0]  # predict alcohol from the other 12
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state={seed})
pipe = make_pipeline(StandardScaler(), bayesian(RidgeCV(alphas=ALPHA_GRID), random_state={seed}))
pipe.fit(X_train, y_train)
twin = pipe[-1]  # twin.coef_ == RidgeCV's coef_: the posterior's mode
low, high = twin.predict_interval(pipe[0].transform(X_test), prob={prob})
print(np.sum((low <= y_test) & (y_test <= high)), "of", len(y_test), "held-out wines inside")"""
# twin.coef_ against the estimator's coef_ (relative L-inf): the suite's bound for iterative
# solvers (Family.map_bound, models.core.families); the ridge twin is exact, the logistic one is Newton's.
COEF_BOUND = 1e-6


def user_code(seed: int) -> str:
    """The page's code for this run's seed."""
    return USER_CODE.format(seed=seed, prob=PROB)


def interval_score(y, low, high, prob: float) -> np.ndarray:
    """Each row's interval score (Gneiting and Raftery 2007, a proper score for a central ``prob``
    interval; lower is better): its width plus ``2 / (1 - prob)`` times any miss."""
    alpha = 1 - prob
    return (high - low) + 2 / alpha * (np.maximum(low - y, 0) + np.maximum(y - high, 0))


def paired(what: str, first: str, second: str, a, b) -> dict:
    """``first`` against ``second`` on a per-row score (lower is better): the mean of the paired
    differences with its standard error, as a :func:`experiments.verdicts.comparison`."""
    difference = np.asarray(a) - np.asarray(b)
    se = float(np.std(difference, ddof=1) / np.sqrt(len(difference)))
    return verdicts.comparison(what, first, second, float(np.mean(difference)), se,
                               lower_is_better=True)  # fmt: skip


def coverage(y, low, high) -> dict:
    """Held-out rows inside their interval, with a Clopper-Pearson 95% interval for the rate."""
    hits = int(np.sum((low <= y) & (y <= high)))
    ci = stats.binomtest(hits, len(y)).proportion_ci(0.95)
    return {"covered": hits, "rows": len(y), "rate": hits / len(y),
            "rate_ci95": [float(ci.low), float(ci.high)],
            "mean_width": float(np.mean(high - low))}  # fmt: skip


def compute_ridge(run: Run) -> dict:
    wine = datasets.load_wine()
    X, y = np.delete(wine.data, 0, axis=1), wine.data[:, 0]
    names = [n for n in wine.feature_names if n != "alcohol"]
    X_train, X_test, y_train, y_test = model_selection.train_test_split(
        X, y, test_size=0.3, random_state=run.seed
    )
    pipe = pipeline.make_pipeline(
        preprocessing.StandardScaler(),
        models_twin.bayesian(linear_model.RidgeCV(alphas=ALPHA_GRID), random_state=run.seed),
    )
    pipe.fit(X_train, y_train)
    twin = pipe[-1]
    plain = pipeline.make_pipeline(
        preprocessing.StandardScaler(), linear_model.RidgeCV(alphas=ALPHA_GRID)
    ).fit(X_train, y_train)[-1]
    Z_test = pipe[0].transform(X_test)
    low, high = twin.predict_interval(Z_test, prob=PROB)
    mean, sd = twin.predict(Z_test, return_std=True)
    br = linear_model.BayesianRidge().fit(pipe[0].transform(X_train), y_train)
    br_mean, br_sd = br.predict(Z_test, return_std=True)
    z = stats.norm.ppf((1 + PROB) / 2)
    br_low, br_high = br_mean - z * br_sd, br_mean + z * br_sd
    covered = int(np.sum((low <= y_test) & (y_test <= high)))
    run.state["ridge"] = {"y": y_test, "mean": mean, "low": low, "high": high}
    run.diagnose(report.map_diagnostics("RidgeCV twin: exact Student-t posterior, no sampling",
                                        True, ""))  # fmt: skip
    return {"ridge_twin": {
        "data": "sklearn:wine, target alcohol (% v/v), 12 features, 70/30 split",
        "feature_names": names, "n_train": len(y_train), "n_test": len(y_test),
        "alpha": twin.penalty_["alpha"], "dof": twin.conjugate_.dof,
        "coef_rel_diff_vs_ridgecv": float(np.max(np.abs(twin.coef_ - plain.coef_))
                                          / np.max(np.abs(plain.coef_))),
        "coverage_twin": coverage(y_test, low, high),
        "coverage_bayesian_ridge": coverage(y_test, br_low, br_high),
        "coverage_verdict": run.check("Held-out coverage", verdicts.coverage(
            f"RidgeCV twin's {PROB:.0%} predictive intervals, held-out wines", covered,
            len(y_test), PROB)),
        "interval_score": paired(f"Interval score of the {PROB:.0%} intervals per held-out wine",
                                 "twin", "BayesianRidge", interval_score(y_test, low, high, PROB),
                                 interval_score(y_test, br_low, br_high, PROB)),
        "bayesian_ridge_alpha": float(br.lambda_ / br.alpha_),
        "rmse": float(np.sqrt(np.mean((y_test - mean) ** 2))),
        "mean_predictive_sd": float(np.mean(sd)),
    }}  # fmt: skip


def compute_logistic(run: Run) -> dict:
    cancer = datasets.load_breast_cancer()
    # scikit-learn codes malignant as 0; the page speaks of P(malignant), so flip it to 1
    X, y = cancer.data, 1 - cancer.target
    X_train, X_test, y_train, y_test = model_selection.train_test_split(
        X, y, test_size=0.3, random_state=run.seed, stratify=y
    )
    twin = models_twin.bayesian(
        linear_model.LogisticRegressionCV(**LOGISTIC_CV), random_state=run.seed, **run.cfg["nuts"]
    )
    pipe = pipeline.make_pipeline(preprocessing.StandardScaler(), twin)
    pipe.fit(X_train, y_train)  # fits twin in place
    Z_test = pipe[0].transform(X_test)
    posterior_mean = twin.predict_proba(Z_test)[:, 1]
    plug_in = twin.estimator_.predict_proba(Z_test)[:, 1]
    low, high = twin.predict_interval(Z_test, prob=PROB)
    width = high - low
    run.state["logistic"] = {"y": y_test, "p": posterior_mean, "low": low, "high": high,
                             "plug_in": plug_in}  # fmt: skip
    run.diagnose(twin.diagnostics_)
    uncertain = (posterior_mean > 0.05) & (posterior_mean < 0.95)
    coef_rel_diff = float(np.max(np.abs(twin.coef_ - twin.estimator_.coef_[0]))
                          / np.max(np.abs(twin.estimator_.coef_)))  # fmt: skip
    run.verify(verdicts.agreement(
        "twin.coef_ = the wrapped estimator's coef_ (RidgeCV on wine, LogisticRegressionCV on "
        "breast cancer; relative L-inf)",
        max(coef_rel_diff, run.results["ridge_twin"]["coef_rel_diff_vs_ridgecv"]), COEF_BOUND,
    ))  # fmt: skip
    return {"logistic_twin": {
        "data": "sklearn:breast_cancer, target malignant (1) / benign (0), 30 features, "
                "70/30 stratified split",
        "n_train": len(y_train), "n_test": len(y_test), "C": twin.penalty_["C"],
        "coef_rel_diff_vs_estimator": coef_rel_diff,
        "log_loss_posterior_mean": float(metrics.log_loss(y_test, posterior_mean)),
        "log_loss_plug_in": float(metrics.log_loss(y_test, plug_in)),
        "log_loss_comparison": run.adds(paired(
            "Held-out log loss per tumour", "posterior mean", "plug-in",
            logistic_experiment.row_log_loss(y_test, posterior_mean),
            logistic_experiment.row_log_loss(y_test, plug_in))),
        "fragile": run.adds(verdicts.interval_width("held-out tumours", width, plug_in, PROB, y_test)),
        "C_choice": c_choice(twin.estimator_),
        "accuracy": float(np.mean((posterior_mean >= 0.5) == y_test)),
        "interval_width_median": float(np.median(width)),
        "interval_width_max": float(np.max(width)),
        "rows_with_width_over_0.2": int(np.sum(width > 0.2)),
        "rows_between_0.05_and_0.95": int(np.sum(uncertain)),
        "errors_among_those_rows": int(np.sum(((posterior_mean >= 0.5) != y_test) & uncertain)),
        "errors_total": int(np.sum((posterior_mean >= 0.5) != y_test)),
    }}  # fmt: skip


def c_choice(cv) -> dict:
    """Why this page's C differs from the logistic page's: the same LogisticRegressionCV rule
    (5-fold, log loss, 13-point grid) on all rows of the logistic page's data picks ``C_page``;
    here it sees the training split only. The comparison is this split's per-fold CV log loss at
    its own C against that at ``C_page`` (a grid point too)."""
    spec = models.get_model("logistic")
    C_page = spec.link.reference_penalty(model_data(spec, default_dataset(spec)))["C"]
    grid = np.asarray(cv.Cs_)
    own, page = (
        int(np.argmin(np.abs(np.log(grid / float(cv.C_))))),
        int(np.argmin(np.abs(np.log(grid / C_page)))),
    )
    fold_loss = -np.asarray(cv.scores_)[:, 0, :]  # (folds, Cs): mean log loss of each fold
    return {
        "C_page": C_page, "C_twin": float(cv.C_), "grid_steps_apart": abs(own - page),
        "n_grid": len(grid), "folds": fold_loss.shape[0],
        "cv_log_loss": None if own == page else paired(
            f"{fold_loss.shape[0]}-fold CV log loss on the training split", f"C = {grid[own]:.3g}",
            f"C = {grid[page]:.3g}", fold_loss[:, own], fold_loss[:, page]),
    }  # fmt: skip


def figures(run: Run) -> None:
    ridge, logistic = run.state["ridge"], run.state["logistic"]
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.4), layout="constrained")
    order = np.argsort(ridge["mean"])
    x = np.arange(len(order))
    inside = (ridge["low"] <= ridge["y"]) & (ridge["y"] <= ridge["high"])
    left.fill_between(x, ridge["low"][order], ridge["high"][order], color=COLORS["posterior"],
                      alpha=0.25, step="mid", label=f"twin's {PROB:.0%} predictive interval")  # fmt: skip
    left.plot(x, ridge["mean"][order], color=COLORS["posterior"], lw=1, label="predictive mean")
    left.scatter(x[inside[order]], ridge["y"][order][inside[order]], s=12, color=COLORS["data"],
                 label="held-out row, inside", zorder=3)  # fmt: skip
    left.scatter(x[~inside[order]], ridge["y"][order][~inside[order]], s=22, color=COLORS["sklearn"],
                 marker="x", label="held-out row, outside", zorder=3)  # fmt: skip
    left.set_xlabel("held-out wines, sorted by predicted alcohol")
    left.set_ylabel("alcohol (% v/v)")
    left.set_title("RidgeCV twin: held-out predictive intervals")
    left.legend(fontsize=8, loc="upper left")
    p, low, high, y = logistic["p"], logistic["low"], logistic["high"], logistic["y"]
    for label, color in ((0, COLORS["exact"]), (1, COLORS["sklearn"])):
        rows = y == label
        right.vlines(p[rows], low[rows], high[rows], color=color, alpha=0.5, lw=1)
        right.scatter(p[rows], p[rows], s=10, color=color,
                      label="benign" if label == 0 else "malignant")  # fmt: skip
    # the plug-in probability at the mode, drawn at the same x: its gap from the diagonal is the
    # mean-vs-mode shift, and whether it looks confident shows against the interval
    right.scatter(p, logistic["plug_in"], s=14, marker="_", color=COLORS["MAP"], lw=1.2,
                  label="plug-in P at the mode", zorder=3)  # fmt: skip
    right.set_xlabel("posterior mean P(malignant)")
    right.set_ylabel(f"P(malignant): {PROB:.0%} interval, mean (dot), plug-in (dash)")
    right.set_title("LogisticRegressionCV twin: held-out tumours")
    right.legend(fontsize=8, loc="upper left", title="true class (dots)", title_fontsize=8)
    save(fig, run.out / "twin.png")


def page(page: report.Page, results: dict) -> None:
    r, lg = results["ridge_twin"], results["logistic_twin"]
    cov, br = r["coverage_twin"], r["coverage_bayesian_ridge"]
    page.claim(
        "One line turns a fitted scikit-learn estimator into its posterior: bayesian(RidgeCV()) "
        "has RidgeCV's coefficients as its mode, and predictive intervals whose held-out coverage "
        "can be checked.",
        "twin = bayesian(estimator).fit(X, y)     twin.coef_ = estimator's coef_ (the mode)\n"
        "Ridge: w | sigma ~ Normal(0, sigma / sqrt(alpha)), p(sigma) ∝ 1/sigma  =>  (b0, w) | y ~ "
        "Student-t, n - 1 dof",
    )
    page.heading("In your own code")
    page.code(user_code(results["settings"]["seed"]))
    page.text("The twin is a scikit-learn estimator: it passes scikit-learn's estimator checks "
              "(`tests/test_twin.py`), clones, sits in a Pipeline, and a GridSearchCV can tune the "
              "wrapped estimator's alpha through `bayesiantwin__estimator__alpha`.")  # fmt: skip
    page.heading("1. RidgeCV on wine: held-out predictive intervals")
    page.text(f"Data: {r['data']} ({r['n_train']} training rows, {r['n_test']} held out). RidgeCV "
              f"picks alpha = {r['alpha']:.4g} from the suite's 31-point grid; the twin's "
              f"coefficients equal RidgeCV's to {r['coef_rel_diff_vs_ridgecv']:.1e} (relative). "
              f"Its posterior is exact: a Student-t with {r['dof']:.0f} degrees of freedom, no "
              "sampling.")  # fmt: skip
    rows = [[f"RidgeCV twin ({PROB:.0%} Student-t predictive)", cov["covered"], cov["rows"],
             cov["rate"], f"[{cov['rate_ci95'][0]:.2f}, {cov['rate_ci95'][1]:.2f}]", cov["mean_width"]],
            [f"BayesianRidge (mean ± {stats.norm.ppf((1 + PROB) / 2):.3f} sd)", br["covered"],
             br["rows"], br["rate"], f"[{br['rate_ci95'][0]:.2f}, {br['rate_ci95'][1]:.2f}]",
             br["mean_width"]]]  # fmt: skip
    page.table(["intervals", "held-out rows inside", "held-out rows", "coverage",
                "coverage, 95% Clopper-Pearson", "mean width (% v/v)"], rows)  # fmt: skip
    page.verdict(r["coverage_verdict"])
    page.text(f"BayesianRidge chooses its own alpha by evidence ({r['bayesian_ridge_alpha']:.3g}); "
              "its intervals are Gaussian with sigma plugged in, the twin's are Student-t with "
              "sigma integrated out. Against each other, on the interval score (width plus "
              f"{2 / (1 - PROB):.3g} times any miss; lower is better): "
              + report.sentence(r["interval_score"]))  # fmt: skip
    choice = lg["C_choice"]
    page.heading("2. LogisticRegressionCV on breast cancer: how sure is each P(malignant)?")
    page.text(f"Data: {lg['data']} ({lg['n_train']} training rows, {lg['n_test']} held out). "
              f"LogisticRegressionCV picks C = {lg['C']:.4g}; the twin's mode equals its "
              f"coefficients to {lg['coef_rel_diff_vs_estimator']:.1e}. The twin's `predict_proba` "
              "is the posterior mean of P(y = 1), an average over the posterior, not the plug-in "
              "probability at the mode that LogisticRegressionCV returns.")  # fmt: skip
    if choice["cv_log_loss"] is None:
        page.text(f"The logistic page's C, chosen by the same cross-validation on all rows, is "
                  f"the same grid point, C = {choice['C_page']:.4g}.")  # fmt: skip
    else:
        page.text(f"**Why not the logistic page's C = {choice['C_page']:.4g}?** That page runs "
                  f"the same rule ({choice['folds']}-fold LogisticRegressionCV, log loss, "
                  f"{choice['n_grid']}-point grid) on all rows; here it sees the "
                  f"{lg['n_train']} training rows only, and the two choices are "
                  f"{choice['grid_steps_apart']} grid point"
                  f"{'s' if choice['grid_steps_apart'] > 1 else ''} apart. "
                  + report.sentence(choice["cv_log_loss"]))  # fmt: skip
    page.table(["quantity", "value"], [
        ["held-out log loss, posterior mean probability", lg["log_loss_posterior_mean"]],
        ["held-out log loss, plug-in probability at the mode", lg["log_loss_plug_in"]],
        ["held-out accuracy (posterior mean >= 0.5)", lg["accuracy"]],
        [f"median width of the {PROB:.0%} interval of P(malignant)", lg["interval_width_median"]],
        ["widest interval", lg["interval_width_max"]],
        ["held-out rows whose interval is wider than 0.2", lg["rows_with_width_over_0.2"]],
        ["held-out rows with 0.05 < P(malignant) < 0.95", lg["rows_between_0.05_and_0.95"]],
        ["misclassified held-out rows: among those / in total",
         f"{lg['errors_among_those_rows']} / {lg['errors_total']}"],
    ])  # fmt: skip
    page.text(report.sentence(lg["log_loss_comparison"]) + " C was chosen by cross-validating "
              "the plug-in's log loss, so the plug-in is scored at the C tuned for it; the "
              "posterior mean was not tuned.")  # fmt: skip
    page.figure("twin.png", f"Left: each held-out wine's alcohol (dots; red crosses outside) "
                f"against the twin's {PROB:.0%} predictive interval. Right: each held-out "
                f"tumour's posterior mean P(malignant) with its {PROB:.0%} interval, coloured by "
                "the true class, and the plug-in probability at the mode (black dash).", observe=f"Left: {report.sentence(r['coverage_verdict'])} "
                f"Right: {report.sentence(lg['fragile'])}")  # fmt: skip
    page.heading("What the point estimate hides")
    page.bullets([
        f"**How wide a prediction really is.** RidgeCV returns one number per wine; the twin "
        f"returns a {PROB:.0%} interval {cov['mean_width']:.2f} % v/v wide on average. "
        + report.sentence(r["coverage_verdict"]),
        f"**Which probabilities the data leave uncertain.** {report.sentence(lg['fragile'])}",
    ])  # fmt: skip


def card(results: dict) -> Card:
    cov = results["ridge_twin"]["coverage_twin"]
    return Card("twin.png", f"bayesian(RidgeCV()) in a Pipeline: RidgeCV's coefficients, and "
                f"94% predictive intervals covering **{cov['covered']} of {cov['rows']}** held-out "
                "wines.")  # fmt: skip


EXPERIMENT = Experiment(
    name="twin",
    title="The Bayesian twin of your scikit-learn model",
    description="bayesian(estimator): a scikit-learn estimator's posterior, in a Pipeline.",
    sections=(
        Section("RidgeCV twin on wine, held-out coverage", compute_ridge),
        Section(
            "LogisticRegressionCV twin on breast cancer (NUTS)", compute_logistic, figures, page
        ),
        diagnostics_section(),
    ),
    settings=lambda quick: {"nuts": {"draws": 1000, "chains": 2}},  # tuning: the twins' policy
    user_data=False,
    card=card,
    claim="bayesian(estimator) turns a fitted scikit-learn RidgeCV or LogisticRegressionCV into "
    "the posterior whose mode is that estimator's fit: the same coefficients, and predictive "
    "intervals whose held-out coverage can be checked.",
)
