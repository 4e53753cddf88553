"""Experiment ``multinomial``: multinomial L2 logistic regression is the MAP of a softmax model.

The generic family experiment (MAP = LogisticRegression over C in [1e-3, 1e3], coefficients and
intercepts; the posterior at the cross-validated C, one row per class and feature) plus what a
softmax model adds: the class sums of the weights, whose posterior is exactly the prior's; a prior
predictive check of the class probabilities; and a posterior predictive check of the class labels
(replicated class counts, per-class calibration).

    python -m experiments multinomial [--data FILE.csv --target COL] [--C C]
"""

from __future__ import annotations

import numpy as np

from experiments import intervals, report, verdicts
from experiments.family import Z_FLAG, penalty_experiment
from experiments.logistic import INTERVAL, binned_calibration, calibration_verdict
from experiments.runner import Card, Run, Section
from experiments.style import COLORS, figure_label, plt, save
from models import multinomial
from models.core.data import class_codes
from models.core.lazy import lazy

az = lazy("arviz")
special = lazy("scipy.special")

EXTREME = 0.99  # a prior class probability above this counts as "near-certain"
PRIOR_DRAWS = 500


def validate(run: Run) -> None:
    """A user CSV's class labels become codes 0..K-1 (the labels are kept as ``classes``)."""
    run.data = class_codes(run.data)


def class_probabilities(dt, X: np.ndarray) -> np.ndarray:
    """Posterior draws of softmax(b + W x) for each row of ``X``: shape ``(draws, rows, K)``."""
    b = intervals.draws(dt, "intercept").values
    w = intervals.draws(dt, "w").values
    return special.softmax(b[:, None, :] + np.einsum("skp,np->snk", w, X), axis=-1)


def class_sums_compute(run: Run) -> dict:
    """The class sums sum_k W_kj: 0 at the mode (sklearn and MAP) and, in the posterior, exactly
    Normal(0, sqrt(K C)) (the likelihood does not see them): NUTS graded against that."""
    dt, post = run.state["dt"], run.results["posterior"]
    names, n_classes = run.results["feature_names"], len(run.results["classes"])
    sums = dt["posterior"]["w"].sum("class").rename("class_sum")
    summary = az.summary(sums.to_dataset(), round_to="none")
    mean, mcse = summary["mean"].to_numpy(float), summary["mcse_mean"].to_numpy(float)
    sd = summary["sd"].to_numpy(float)
    exact_sd = np.sqrt(n_classes) * post["prior_values"]["prior_sd"]
    z = mean / mcse
    where = "for the class sums of the weights, exactly Normal(0, sqrt(K C)) a posteriori"
    return {"class_sums": {
        "sklearn_max_abs": float(np.max(np.abs(np.sum(post["sklearn"], axis=0)))),
        "map_max_abs": float(np.max(np.abs(np.sum(post["map"], axis=0)))),
        "sklearn_intercept_sum": float(np.max(np.abs(np.sum(run.results["sklearn_intercept"], 1)))),
        "map_intercept_sum": float(np.max(np.abs(np.sum(run.results["map_intercept"], 1)))),
        "mean": mean, "sd": sd, "exact_sd": float(exact_sd), "z": z, "feature_names": names,
        "n_classes": n_classes,
        "verdict": run.check("NUTS vs exact (class sums)", verdicts.mcmc_vs_exact(
            float(np.max(np.abs(z))), Z_FLAG, where, len(z))),
    }}  # fmt: skip


def class_sums_page(page: report.Page, results: dict) -> None:
    sums = results["class_sums"]
    page.heading("K weight vectors, and what the penalty identifies")
    page.text(
        "scikit-learn keeps one weight vector per class (coef_ is K x p), although adding the "
        "same vector to every class changes no probability. The penalty picks the zero-sum "
        "representative: at the optimum the class sum of coef_ is 0 (largest |sum over classes| "
        f"here: sklearn {sums['sklearn_max_abs']:.1e}, MAP {sums['map_max_abs']:.1e}, at the "
        "reference C). The intercepts are unpenalised and only their differences are identified: "
        "the model gives K - 1 of them a flat prior and sets the last to minus their sum, which "
        "is the form scikit-learn reports (largest |sum of the intercepts| over Check 1's grid: "
        f"sklearn {sums['sklearn_intercept_sum']:.1e}, MAP {sums['map_intercept_sum']:.1e}). "
        "That grid runs newton-cholesky, which centres its intercepts; lbfgs reports the same "
        "form, since it starts at 0 and every gradient it steps along has class sums 0 "
        "(tests/test_multinomial.py: |sum| below 1e-12 at tol=1e-12, where it stops within "
        "~1e-7 relative of the optimum at C = 0.1 and ~1e-5 at C = 1000: an iterative "
        "solver's stopping rule, hence the page's newton-cholesky).")  # fmt: skip
    page.text(
        "The posterior is not zero-sum draw by draw: the likelihood does not see the class sum "
        "s_j = sum_k W_kj, so its posterior is its prior, Normal(0, sqrt(K) tau) = Normal(0, "
        f"{sums['exact_sd']:.3g}) exactly, for every feature. That is an exact posterior to grade "
        "the sampler against. It is also part of every coefficient's posterior spread: "
        f"W_kj carries s_j / K, of sd sqrt(C / K) = {sums['exact_sd'] / sums['n_classes']:.3g}, "
        "which no data can narrow; the probabilities depend only on the contrasts "
        "W_kj - W_lj, which do not carry it.")  # fmt: skip
    page.table(["feature", "mean of s_j", "sd of s_j", "exact sd", "z = mean / MCSE"],
               [[n, m, s, sums["exact_sd"], z] for n, m, s, z in zip(
                   sums["feature_names"], sums["mean"], sums["sd"], sums["z"], strict=True)],
               [abs(z) > Z_FLAG for z in sums["z"]])  # fmt: skip
    page.verdict(sums["verdict"])


def prior_compute(run: Run) -> dict:
    """Prior predictive class probabilities for every row: W_kj ~ Normal(0, tau), intercepts held
    at the centred log class frequencies (their prior is flat: no prior predictive), at tau = 1
    and at the reference tau."""
    data, classes = run.state["md"], run.results["classes"]
    rng = np.random.default_rng([run.seed, 5])
    freq = np.bincount(data.y.astype(int), minlength=len(classes)) / len(data.y)
    b = np.log(freq) - np.log(freq).mean()
    reference = run.results["posterior"]["prior_values"]["prior_sd"]
    taus = [1.0] if np.isclose(reference, 1.0) else [1.0, reference]
    top, summary = {}, {}
    for tau in taus:
        w = tau * rng.standard_normal((PRIOR_DRAWS, len(classes), data.X.shape[1]))
        prob = special.softmax(b + np.einsum("skp,np->snk", w, data.X), axis=-1)
        top[tau] = prob.max(axis=-1).ravel()
        summary[tau] = {"tau": tau, "fraction_near_certain": float(np.mean(top[tau] > EXTREME))}
    run.state["prior_top"] = top
    return {"prior_predictive": {"tau = 1": summary[1.0], "reference tau": summary[taus[-1]]}}


def prior_figures(run: Run) -> None:
    fig, ax = plt.subplots(figsize=(9, 3.6))
    n_classes = len(run.results["classes"])
    colors = (COLORS["sklearn"], COLORS["posterior"])
    for (tau, top), color in zip(run.state["prior_top"].items(), colors, strict=False):
        ax.hist(top, bins=50, range=(1 / n_classes, 1), density=True, histtype="step", lw=2,
                color=color, label=f"prior predictive, tau = {tau:.3g}")  # fmt: skip
    ax.set_xlabel(
        f"largest class probability implied by the prior (every row, {PRIOR_DRAWS} draws)"
    )
    ax.set_ylabel("density")
    ax.set_title("Prior predictive check: how sure the prior is of a class before any data")
    ax.legend(fontsize=8, loc="upper center")
    save(fig, run.out / "prior_predictive.png")


def prior_page(page: report.Page, results: dict) -> None:
    one, ref = (results["prior_predictive"][k] for k in ("tau = 1", "reference tau"))
    page.heading("Prior predictive check")
    page.text(f"Before any data, with W_kj ~ Normal(0, tau) on {len(results['feature_names'])} "
              "standardised features and the intercepts held at the centred log class "
              "frequencies (their prior is flat: it has no prior predictive), the prior makes the "
              f"largest class probability exceed {EXTREME} for {one['fraction_near_certain']:.0%} "
              f"of rows and draws at tau = 1, and {ref['fraction_near_certain']:.0%} at the "
              f"reference tau = {ref['tau']:.3g}.")  # fmt: skip
    page.figure("prior_predictive.png", "The distribution of the largest class probability the "
                "prior implies, over every row and prior draw (1/K: no preference; 1: certain).",
                observe=f"At tau = 1, {one['fraction_near_certain']:.0%} of prior draws put more "
                f"than {EXTREME} on one class; at the reference tau = {ref['tau']:.3g}, "
                f"{ref['fraction_near_certain']:.0%}.")  # fmt: skip


def checks_compute(run: Run) -> dict:
    """Replicated class labels from every posterior draw: the count of each class against the
    observed count (posterior predictive p-values), and each class's calibration (in-sample)."""
    md, classes = run.state["md"], run.results["classes"]
    y = md.y.astype(int)
    prob = class_probabilities(run.state["dt"], md.X)
    rng = np.random.default_rng([run.seed, 3])
    u = rng.random(prob.shape[:2])
    replicated = np.minimum(
        (u[..., None] > np.cumsum(prob, axis=-1)).sum(axis=-1), len(classes) - 1
    )
    observed = np.bincount(y, minlength=len(classes))
    counts = np.stack([np.sum(replicated == k, axis=1) for k in range(len(classes))], axis=1)
    checks = [
        verdicts.ppc_pvalue(f"rows of {label}", float(np.mean(counts[:, k] >= observed[k])),
                            observed[k], np.quantile(counts[:, k], [0.03, 0.97]), len(counts))
        for k, label in enumerate(classes)
    ]  # fmt: skip
    mean_prob = prob.mean(axis=0)
    calibration = {label: binned_calibration((y == k).astype(float), mean_prob[:, k])
                   for k, label in enumerate(classes)}  # fmt: skip
    per_class = [calibration_verdict(cal) for cal in calibration.values()]
    excluding = sum(v["excluding"] for v in per_class)
    run.state["replicated_counts"] = counts
    return {"class_check": {
        "observed_counts": observed, "statistics": checks,
        "overall": run.check("Predictive check (class counts)", verdicts.predictive_check(checks)),
        "calibration": calibration, "calibration_per_class": per_class,
        "calibration_overall": run.check(
            "Calibration per class, in-sample (optimistic)",
            verdicts.calibration_bins(excluding, sum(v["n"] for v in per_class), INTERVAL)),
        "accuracy_posterior_mean": float(np.mean(mean_prob.argmax(axis=1) == y)),
    }}  # fmt: skip


def checks_figures(run: Run) -> None:
    res, counts = run.results["class_check"], run.state["replicated_counts"]
    classes = run.results["classes"]
    fig, axes = plt.subplots(2, len(classes), figsize=(3.4 * len(classes), 6.4),
                             squeeze=False, layout="constrained")  # fmt: skip
    for k, label in enumerate(classes):
        ax = axes[0, k]
        low, high = counts[:, k].min(), counts[:, k].max()
        ax.hist(counts[:, k], histtype="stepfilled", bins=np.arange(low, high + 2) - 0.5, color=COLORS["posterior"],
                alpha=0.6, label="replicated")  # fmt: skip
        ax.axvline(res["observed_counts"][k], color=COLORS["sklearn"], lw=2, label="observed")
        ax.set_title(f"rows of {figure_label(label)}", fontsize=9, parse_math=False)
        ax.set_xlabel("count")
        cal = res["calibration"][label]
        ax = axes[1, k]
        mean, frac = np.asarray(cal["mean_predicted"]), np.asarray(cal["fraction_positive"])
        err = [frac - np.asarray(cal["interval_low"]), np.asarray(cal["interval_high"]) - frac]
        ax.errorbar(mean, frac, yerr=err, fmt="o", color=COLORS["posterior"], ms=4,
                    label=f"observed frequency ({INTERVAL:.0%} Jeffreys)")  # fmt: skip
        ax.plot([0, 1], [0, 1], color=COLORS["sklearn"], ls="--", lw=1, label="calibrated")
        ax.set_xlabel(f"posterior mean P({figure_label(label)})", parse_math=False)
        ax.set_xlim(0, 1)
        ax.set_ylim(-0.05, 1.05)
    axes[0, 0].set_ylabel("replicated data sets")
    axes[1, 0].set_ylabel("observed frequency")
    axes[0, 0].legend(fontsize=7)
    axes[1, 0].legend(fontsize=7, loc="upper left")
    fig.suptitle("Posterior predictive checks of the class labels (in-sample)")
    save(fig, run.out / "class_checks.png")


def checks_page(page: report.Page, results: dict) -> None:
    res = results["class_check"]
    page.heading("Posterior predictive check of the class labels")
    page.text("Each posterior draw replicates every row's class. The class counts are a sanity "
              "check more than a test: the unpenalised intercepts are fitted to them (at the mode "
              "the predicted probabilities of each class sum to its count). Calibration asks more: "
              "among rows given probability p of a class, is that class's frequency p? Both are "
              "in-sample (the rows judged are the rows fitted), so they are optimistic.")  # fmt: skip
    page.bullets([report.sentence(v) for v in res["statistics"]])
    page.verdict(res["overall"])
    page.figure("class_checks.png", "Top: replicated counts of each class (histogram over the "
                "posterior draws) and the observed count (red). Bottom: per-class reliability: "
                "rows binned by their posterior mean probability of the class (scikit-learn's "
                f"calibration_curve, 10 bins), the observed frequency with its {INTERVAL:.0%} "
                "Jeffreys interval, against the diagonal.", observe=res["calibration_overall"])  # fmt: skip
    page.text(f"In-sample accuracy of the posterior mean probabilities: "
              f"{res['accuracy_posterior_mean']:.1%}.")  # fmt: skip


def card(results: dict) -> Card:
    return Card("class_checks.png", (
        f"MAP = LogisticRegression (K = {len(results['classes'])} weight vectors) to "
        f"**{max(results['max_rel_diff']):.1e}** for C in [{min(results['Cs']):g}, "
        f"{max(results['Cs']):g}]; the class sums' posterior matches its exact Normal "
        f"(largest |z| {results['class_sums']['verdict']['value']:.2g})."
    ))  # fmt: skip


EXPERIMENT = penalty_experiment(
    multinomial.SPEC,
    extra=(
        Section(
            "class sums: the exact part of the posterior", class_sums_compute, None, class_sums_page
        ),  # fmt: skip
        Section(
            "prior predictive: class probabilities implied by the prior",
            prior_compute,
            prior_figures,
            prior_page,
        ),  # fmt: skip
        Section(
            "predictive checks: class counts and per-class calibration",
            checks_compute,
            checks_figures,
            checks_page,
        ),  # fmt: skip
    ),
    validate=validate,
    card=card,
)
