"""Experiment ``knobs``: every library's regularisation knob is a prior width.

The seed's formula first (a penalty lambda ||w||^2 on the negative log-likelihood is the prior
w_j ~ Normal(0, tau) with lambda = 1 / (2 tau^2)), then the table of :data:`models.twin.knobs.KNOBS`
with each row's derivation, then the numeric checks this run makes against the libraries installed
here (statsmodels, glum, Keras and optax where the ``knobs`` dependency group is installed,
``experiments/library_checks.py``), and the one trap to know, measured: decoupled weight decay
(AdamW) is not a prior.

    python -m experiments knobs [--out DIR]
"""

from __future__ import annotations

import numpy as np

from experiments import library_checks, report, verdicts
from experiments.library_checks import rel, standardized
from experiments.runner import Card, Experiment, Run, Section
from experiments.style import COLORS, plt, save
from models import lasso, logistic, ridge
from models.core.data import arrays
from models.core.lazy import lazy
from models.inference.engines import MAPSolver
from models.twin.knobs import KNOBS, get_knob, nll_lambda_to_prior_sd

optimize = lazy("scipy.optimize")
stats = lazy("scipy.stats")
linear_model = lazy("sklearn.linear_model")

# The page's example: Ridge(alpha = 3) on diabetes standardised to unit sd, n = 442, sigma = 54.
EXAMPLE_ALPHA, EXAMPLE_N, EXAMPLE_SIGMA = 3.0, 442, 54.0
MASS = 0.94
# check: (bound, reason, what is compared): every numeric check of the page and its bound.
BOUNDS = {
    "nll_objective": (1e-6, "BFGS to a gradient of 1e-12 on a quadratic",
                      "argmin NLL + lambda ||w||^2 vs Ridge at the mapped alpha"),
    "sgd_regressor": (1e-2, "averaged SGD is stochastic: ~3e-3 after 2000 epochs",
                      "SGDRegressor vs the MAP at tau = sigma / sqrt(n alpha)"),
    "sgd_classifier": (1e-2, "averaged SGD, 'optimal' schedule: ~1e-3 after 5000 epochs",
                       "SGDClassifier vs the MAP at tau = 1 / sqrt(n alpha)"),
    "bayesian_ridge": (1e-6, "the same linear solve at BayesianRidge's final precisions",
                       "BayesianRidge's coef_ vs the MAP at tau = 1 / sqrt(lambda_)"),
    "lasso": (1e-6, "coordinate descent at tol=1e-12 against proximal Newton",
              "Lasso vs the MAP at b = sigma^2 / (n alpha)"),
}  # fmt: skip


def check_nll_objective(X, y, sigma=54.0, lam=0.01) -> float:
    """argmin NLL(w) + lambda ||w||^2 (BFGS) against Ridge at the mapped alpha."""
    Z = np.column_stack([np.ones(len(y)), X])

    def objective(beta):
        r = y - Z @ beta
        penalty_grad = 2 * lam * np.r_[0, beta[1:]]
        return r @ r / (2 * sigma**2) + lam * beta[1:] @ beta[
            1:
        ], -Z.T @ r / sigma**2 + penalty_grad

    best = optimize.minimize(
        objective, np.zeros(Z.shape[1]), jac=True, method="BFGS", options={"gtol": 1e-12}
    )
    alpha = get_knob("ridge").from_width(nll_lambda_to_prior_sd(lam), sigma=sigma)
    return rel(best.x[1:], linear_model.Ridge(alpha=alpha).fit(X, y).coef_)


def check_sgd_regressor(X, y, names, alpha=0.05, sigma=54.0) -> float:
    """SGDRegressor(alpha) against the PyMC MAP at tau = sigma / sqrt(n alpha)."""
    tau = get_knob("sgd_regressor").to_width(alpha, n=len(y), sigma=sigma)
    fit = MAPSolver(ridge.build(arrays(X, y, names, sigma))).solve({"prior_sd": tau}).certify()
    sgd = linear_model.SGDRegressor(
        alpha=alpha, average=True, max_iter=2000, tol=None, eta0=0.01, random_state=0
    )
    return rel(sgd.fit(X, y).coef_, fit.point["w"])


def check_sgd_classifier(X, y, names, alpha=0.01) -> float:
    """SGDClassifier(log_loss, alpha) against the PyMC MAP at tau = 1 / sqrt(n alpha)."""
    tau = get_knob("sgd_classifier").to_width(alpha, n=len(y))
    fit = MAPSolver(logistic.build(arrays(X, y, names))).solve({"prior_sd": tau}).certify()
    sgd = linear_model.SGDClassifier(
        loss="log_loss", alpha=alpha, average=True, max_iter=5000, tol=None, random_state=0
    )
    return rel(sgd.fit(X, y).coef_[0], fit.point["w"])


def check_bayesian_ridge(X, y, names) -> float:
    """BayesianRidge's coef_ against the PyMC MAP at tau = 1 / sqrt(lambda_), sigma = 1 / sqrt(alpha_)."""
    br = linear_model.BayesianRidge(tol=1e-12, max_iter=10_000).fit(X, y)
    sigma = 1 / np.sqrt(br.alpha_)
    tau = get_knob("bayesian_ridge").to_width(br.lambda_, sigma=sigma)
    fit = MAPSolver(ridge.build(arrays(X, y, names, sigma))).solve({"prior_sd": tau}).certify()
    return rel(fit.point["w"], br.coef_)


def check_lasso(X, y, names, alpha=0.5, sigma=54.0) -> float:
    """Lasso(alpha) against the PyMC MAP at b = sigma^2 / (n alpha) (non-zero coefficients)."""
    b = get_knob("lasso").to_width(alpha, n=len(y), sigma=sigma)
    spec = lasso.SPEC
    fit = (
        MAPSolver(spec.build(arrays(X, y, names, sigma)), spec)
        .solve({"laplace_scale": b})
        .certify()
    )
    sk = spec.link.sklearn({"alpha": alpha}, None).fit(X, y).coef_
    assert np.array_equal(sk == 0, fit.point["w"] == 0), "different zero sets"
    return rel(fit.point["w"], sk)


CHECK_LABELS = {"nll_objective": "NLL objective", "sgd_regressor": "SGDRegressor",
                "sgd_classifier": "SGDClassifier", "bayesian_ridge": "BayesianRidge",
                "lasso": "Lasso"}  # fmt: skip


def compute(run: Run) -> dict:
    X, y, names = standardized("diabetes")
    Xb, yb, names_b = standardized("breast_cancer")
    measured = {
        "nll_objective": check_nll_objective(X, y),
        "sgd_regressor": check_sgd_regressor(X, y, names),
        "sgd_classifier": check_sgd_classifier(Xb, yb, names_b),
        "bayesian_ridge": check_bayesian_ridge(X, y, names),
        "lasso": check_lasso(X, y, names),
    }
    # The rows whose library is outside the core stack: run where it is installed.
    not_run = {}
    for knob in KNOBS.values():
        if reason := library_checks.missing(knob):
            not_run[knob.name] = reason
        elif knob.requires:
            measured[knob.name] = library_checks.CHECKS[knob.name]()
    bounds, labels = BOUNDS | library_checks.BOUNDS, CHECK_LABELS | library_checks.LABELS
    checks = {k: {"rel_diff": v, "bound": bounds[k][0], "ok": v <= bounds[k][0], "why": bounds[k][1],
                  "verdict": run.check(labels[k], verdicts.agreement(bounds[k][2], v, bounds[k][0]))}
              for k, v in measured.items()}  # fmt: skip
    worst = max(checks, key=lambda k: checks[k]["rel_diff"] / checks[k]["bound"])
    run.verify(verdicts.agreement(
        f"every library's fit against the PyMC MAP at the mapped prior width; the check closest "
        f"to its bound: {bounds[worst][2]} (relative difference)",
        checks[worst]["rel_diff"], checks[worst]["bound"]))  # fmt: skip
    # One belief in every unit: tau of Ridge(alpha = 3) on standardised diabetes.
    tau = get_knob("ridge").to_width(EXAMPLE_ALPHA, sigma=EXAMPLE_SIGMA)
    same = {k.name: k.from_width(tau, n=EXAMPLE_N, sigma=EXAMPLE_SIGMA) for k in KNOBS.values()
            if k.likelihood in ("gaussian", "any") and k.penalty == "l2"}  # fmt: skip
    half = float(stats.norm.ppf(0.5 + MASS / 2) * tau)
    example = {"ridge_alpha": EXAMPLE_ALPHA, "n": EXAMPLE_N, "noise_sd": EXAMPLE_SIGMA,
               "prior_sd": tau, "same": same,
               # Unit-norm columns (scikit-learn's scaled diabetes) are standardised ones / sqrt(n):
               # weights grow by sqrt(n), tau too, so alpha = sigma^2 / tau^2 shrinks by n.
               "unit_norm_alpha": EXAMPLE_ALPHA / EXAMPLE_N,
               "belief": run.adds(verdicts.belief(
                   "Ridge alpha", EXAMPLE_ALPHA, "w_j ~ Normal(0, tau), tau", tau, MASS, half,
                   "target units per standard deviation of its feature"))}  # fmt: skip
    return {"checks": checks, "not_run": not_run, "example": example}


def figures(run: Run) -> None:
    """The one belief tau = 31.2 in every Gaussian L2 knob's units (log scale, values labelled)."""
    example = run.results["example"]
    same = example["same"]
    fig, ax = plt.subplots(figsize=(9, 3.8))
    labels = [KNOBS[name].library.split(" with ")[0] for name in same]
    bars = ax.barh(labels, list(same.values()), color=COLORS["posterior"])
    ax.bar_label(bars, [f"{v:.4g}" for v in same.values()], padding=3, fontsize=8)
    ax.set_xscale("log")
    ax.set_xlim(right=max(same.values()) * 5)  # room for the largest bar's label
    ax.set_xlabel(f"knob value that means tau = {example['prior_sd']:.3g} (log scale)")
    ax.set_title(f"One prior, many knobs: Ridge(alpha={example['ridge_alpha']:g}) on "
                 f"{example['n']} standardised rows with sigma = {example['noise_sd']:g}")  # fmt: skip
    save(fig, run.out / "knobs.png")


def page(page: report.Page, results: dict) -> None:
    example = results["example"]
    page.claim(
        "Every library's L2 knob is the width of a Gaussian prior. A penalty lambda ||w||^2 added to "
        "the negative log-likelihood is the prior w_j ~ Normal(0, tau) with lambda = 1 / (2 tau^2); "
        "each library scales its data term differently, so its knob is lambda times a factor.",
        "-log p(w | y) = NLL(w) + lambda ||w||^2 + const,   lambda = 1 / (2 tau^2)\n"
        "Gaussian:  NLL(w) = ||y - Xw||^2 / (2 sigma^2)      Bernoulli-logit:  NLL(w) = sum_i logloss_i\n"
        "Laplace prior w_j ~ Laplace(0, b) adds ||w||_1 / b instead",
    )
    page.text(
        f"**Which feature scale.** tau is in target units per unit of the feature, so an alpha "
        f"holds for one scaling of the columns. Here the columns are standardised (sd 1): alpha = "
        f"{example['ridge_alpha']:g} gives tau = {example['prior_sd']:.3g}. scikit-learn's scaled "
        f"diabetes columns (the ridge page's) have unit Euclidean norm, sd 1 / sqrt(n): the same "
        f"belief there is alpha = {example['ridge_alpha']:g} / {example['n']} = "
        f"{example['unit_norm_alpha']:.3g}, and that page's alphas are on that scale."
    )  # fmt: skip
    page.heading("The table")
    page.text("Each row rewrites the library's documented objective as c x (NLL + lambda ||w||^2) "
              "(or + ||w||_1 / b) and reads off the width. n is the number of rows the loss averages "
              "over. A row run here was fitted by its library on this machine (the checks below); "
              "a row marked derived was not, for the reason given.")  # fmt: skip
    page.table(["knob", "objective (library's convention)", "derivation", "checked"],
               [[k.library, k.objective, k.derivation, _checked(k, results)] for k in KNOBS.values()],
               css="text")  # fmt: skip
    page.text("ElasticNet's two knobs map to both widths at once: b = sigma^2 / (n alpha rho), tau = "
              "sigma / sqrt(n alpha (1 - rho)) (`models/elasticnet.py`, checked by the elasticnet "
              "experiment).")  # fmt: skip
    same = example["same"]
    low, high = min(same, key=same.get), max(same, key=same.get)
    page.figure("knobs.png", f"The belief tau = {example['prior_sd']:.4g} (Ridge alpha = "
                f"{example['ridge_alpha']:g} on standardised columns, n = {example['n']}, sigma = "
                f"{example['noise_sd']:g}) in every Gaussian L2 knob's units.",
                observe=f"one belief spans knob values from {same[low]:.3g} ({KNOBS[low].library}) "
                f"to {same[high]:.3g} ({KNOBS[high].library}), a factor {same[high] / same[low]:.3g}: "
                "a knob value alone, without its library's convention, n and sigma, says nothing "
                "about the prior.")  # fmt: skip
    page.heading("Checks run here")
    checks = results["checks"]
    page.table(["check", "relative difference", "bound", "why the bound", "status"],
               [[name, c["rel_diff"], c["bound"], c["why"], "ok" if c["ok"] else "FAILED"]
                for name, c in checks.items()], [not c["ok"] for c in checks.values()])  # fmt: skip


def _checked(knob, results: dict) -> str:
    """The table's "checked" cell: run here (and its status), derived with the reason, or the
    check made elsewhere (another page, the tests)."""
    if knob.name in results["checks"]:
        return (
            f"{knob.checked}: run here, {'ok' if results['checks'][knob.name]['ok'] else 'FAILED'}"
        )
    if knob.name in results["not_run"]:
        return f"derived, not run: {results['not_run'][knob.name]}"
    return knob.checked or "derived, not run"


def compute_adamw(run: Run) -> dict:
    """Coupled Adam against AdamW at three learning rates (optax), where optax is installed."""
    reason = library_checks.missing(get_knob("optax_adam_mse"))
    if reason:
        return {"adamw": {"not_run": reason}}
    adamw = library_checks.adamw_against_coupled()
    rows = adamw["rows"]
    adamw["verdict"] = run.check("AdamW", verdicts.decoupled_decay(
        [r["learning_rate"] for r in rows], [r["coupled"] for r in rows],
        [r["adamw"] for r in rows], adamw["moved"], library_checks.BOUNDS["optax_adam_mse"][0]))  # fmt: skip
    return {"adamw": adamw}


def figures_adamw(run: Run) -> None:
    """Distance from the MAP along each run: coupled Adam falls to round-off, AdamW stalls."""
    adamw = run.results["adamw"]
    if "not_run" in adamw:
        return
    fig, ax = plt.subplots(figsize=(8, 4))
    for i, row in enumerate(adamw["rows"]):
        color = plt.cm.viridis(i / len(adamw["rows"]))
        steps = np.arange(len(row["trace_coupled"])) * adamw["trace_every"] + 1
        lr = f"lr = {row['learning_rate']:g}"
        ax.plot(steps, row["trace_coupled"], color=color, label=f"coupled Adam, {lr}")
        ax.plot(steps, row["trace_adamw"], color=color, linestyle="--", label=f"AdamW, {lr}")
    ax.set_yscale("log")
    ax.set_xlabel("full-batch step")
    ax.set_ylabel("max |w - MAP| / max |MAP|")
    ax.set_title(f"Adam with decay wd = {adamw['weight_decay']:.3g} on standardised diabetes, "
                 f"against the MAP at tau = {adamw['prior_sd']:.3g}")  # fmt: skip
    ax.legend(fontsize=8, ncol=3, loc="upper center", bbox_to_anchor=(0.5, -0.15))
    save(fig, run.out / "adamw.png")


def _adamw_observe(adamw: dict) -> str:
    rows = adamw["rows"]
    heights = ", ".join(f"{r['adamw']:.3g} at lr {r['learning_rate']:g}" for r in rows)
    floor = min(min(r["trace_coupled"]) for r in rows)
    return (f"the solid lines (coupled) fall to {floor:.1g}, then burst off the MAP now and then (up "
            f"to {max(r['coupled_burst'] for r in rows):.2g} among the last {adamw['averaged']} "
            f"iterates), and the mean of those iterates is within "
            f"{max(r['coupled'] for r in rows):.2g} of it; every dashed line (AdamW) levels off "
            f"({heights}) and wobbles by up to {max(r['adamw_hover'] for r in rows):.2g}.")  # fmt: skip


def page_adamw(page: report.Page, results: dict) -> None:
    adamw = results["adamw"]
    page.heading("The trap: decoupled weight decay is not a prior")
    page.bullets([
        "**Coupled decay is an L2 term.** PyTorch's `SGD(weight_decay=wd)` and `Adam(weight_decay=wd)`, "
        "and optax's `chain(add_decayed_weights(wd), adam(lr))`, add wd w to the gradient of the "
        "loss: exactly the gradient of wd ||w||^2 / 2, so Adam's fixed point, where that gradient "
        "is zero, is the MAP under the Gaussian prior in the table, whatever the learning rate.",
        "**Decoupled decay (AdamW) is not.** AdamW shrinks w by lr wd w after Adam's normalised step "
        "m / (sqrt(v) + eps). At a fixed point m / (sqrt(v) + eps) = -wd w: the decay is balanced "
        "against a rescaled gradient, not the gradient itself, so the fixed point is not the "
        "minimiser of any loss + c ||w||^2, and no tau describes it (Loshchilov & Hutter, "
        "'Decoupled Weight Decay Regularization', ICLR 2019). With plain SGD the two coincide.",
    ])  # fmt: skip
    if "not_run" in adamw:
        page.text(f"Not measured here: {adamw['not_run']}.")
    else:
        page.text(report.sentence(adamw["verdict"]))
        page.text(f"Both optimisers run {adamw['steps']} full-batch steps in float64 from zero on "
                  f"standardised diabetes (n = {adamw['n']}) with decay wd = "
                  f"{adamw['weight_decay']:.4g} on the weights (not the intercept); at a constant "
                  f"learning rate Adam does not stay put (coupled Adam bursts off its fixed point "
                  f"now and then, AdamW wobbles), so each end point is the mean of the last "
                  f"{adamw['averaged']} iterates. Distances are max |w - MAP| / "
                  f"max |MAP|, the MAP at the coupled row's tau = {adamw['prior_sd']:.4g}.")  # fmt: skip
        page.table(["learning rate", "coupled Adam vs MAP", "its largest burst (last iterates)",
                    "AdamW vs MAP", "AdamW's wobble (range of its last iterates)"],
                   [[r["learning_rate"], r["coupled"], r["coupled_burst"], r["adamw"],
                     r["adamw_hover"]] for r in adamw["rows"]])  # fmt: skip
        page.figure("adamw.png", "Distance from the MAP along each run (every "
                    f"{adamw['trace_every']}th step, log scale): solid coupled Adam, dashed AdamW, "
                    "one colour per learning rate.",
                    observe=_adamw_observe(adamw))  # fmt: skip
    page.bullets([
        "**Keras and PyTorch losses are means over all n rows.** A minibatch mean is an unbiased "
        "estimate of the mean over all n rows, so the stationary point, and the prior, depend on n "
        "(tau^2 = sigma^2 / (n l)), not on the batch size: the same knob on twice the data is a "
        "prior twice as tight in tau^2. What the batch size changes is the noise of the iterates "
        "(a smaller batch, noisier steps around the same optimum). A loss summed per batch "
        "(reduction='sum') is different: its data term is n / batch times smaller than the full "
        "sum, so the same knob then means a penalty n / batch times stronger.",
    ])  # fmt: skip


def page_closing(page: report.Page, results: dict) -> None:
    page.heading("What the point estimate hides")
    page.bullets([f"**The knob is a belief.** {report.sentence(results['example']['belief'])} "
                  "Every knob in the table says the same thing in its own units."])  # fmt: skip
    page.heading("Sampling diagnostics")
    page.text("No sampling on this page: every number is a certified MAP or a closed form.")


def card(results: dict) -> Card:
    ok = sum(c["ok"] for c in results["checks"].values())
    l1 = sum(knob.penalty == "l1" for knob in KNOBS.values())
    return Card("knobs.png", f"One prior width in {len(KNOBS)} regularisation knobs "
                f"({len(KNOBS) - l1} L2: lambda = 1 / (2 tau^2); {l1} L1: a Laplace scale b); "
                f"**{ok} of {len(results['checks'])}** numeric checks on this page pass against the "
                "libraries installed; the table says how each other knob is established.")  # fmt: skip


def _claim(results: dict) -> str:
    example = results["example"]
    return (f"Ridge(alpha = {example['ridge_alpha']:g}) on standardised columns (n = "
            f"{example['n']}, sigma = {example['noise_sd']:g}) is the prior w_j ~ Normal(0, tau = "
            f"{example['prior_sd']:.3g}): every library's L2 knob is such a prior width, in its "
            "own units.")  # fmt: skip


EXPERIMENT = Experiment(
    name="knobs",
    title="Every library's knob is a prior width",
    description="Each library's regularisation knob as a prior width, checked where installed.",
    sections=(
        Section("the knob table and its numeric checks", compute, figures, page),
        Section("AdamW against coupled decay", compute_adamw, figures_adamw, page_adamw),
        Section(page=page_closing),
    ),
    settings=lambda quick: {},
    user_data=False,
    card=card,
    claim=_claim,
)
