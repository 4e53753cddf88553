"""Experiment ``sensitivity``: how much the prior matters, measured.

For the ridge, logistic and lasso models at a loose, a moderate (scikit-learn's cross-validated
penalty) and a tight prior: power-scaling sensitivity (``az.psense_summary``, from the model's own
log prior and log likelihood), prior-data conflict measured directly (how many sds of its prior
predictive, sqrt(prior sd^2 + its standard error^2), the likelihood's own estimate lies from the
prior's centre), prior against posterior for every coefficient, how far the MAP stays from least
squares as rows are added, and whether the prior changes held-out prediction (exact LOO).

    python -m experiments sensitivity [--out DIR] [--seed N] [--quick]
"""

from __future__ import annotations

import logging

import numpy as np

from experiments import intervals, report, verdicts
from experiments.family import Z_FLAG
from experiments.runner import Card, Experiment, Run, Section
from experiments.style import (
    COLORS,
    coefficient_label,
    coefficient_panels,
    figure_label,
    legend_below,
    plt,
    save,
)
from models import REGISTRY, ridge
from models.core.base import ModelData, ModelSpec
from models.core.data import DATASETS, arrays, noise_estimate, reference_setup
from models.core.lazy import lazy
from models.exact import evidence
from models.inference.engines import PosteriorSampler, tuning_iterations
from models.scale.statistics import pointwise_log_likelihood

az = lazy("arviz")
pm = lazy("pymc")
ticker = lazy("matplotlib.ticker")
stats = lazy("scipy.stats")
optimize = lazy("scipy.optimize")
linear_model = lazy("sklearn.linear_model")

NAME = "sensitivity"
MODELS = ("ridge", "logistic", "lasso")
# Prior scale multipliers around the cross-validated penalty's prior.
WIDTHS = {"loose": 10.0, "moderate": 1.0, "tight": 0.1}
WIDTH_COLORS = {"loose": "#9ecae1", "moderate": "#3182bd", "tight": "#08306b"}
PRIOR_DENSITY = {"prior_sd": "norm", "laplace_scale": "laplace"}  # scipy.stats distributions
PRIOR_SD = {"prior_sd": 1.0, "laplace_scale": np.sqrt(2)}  # a prior's sd per unit of its scale
THRESHOLD = 0.05  # psense's default: a sensitivity above it is worth a look
PANELS = 10  # coefficients shown per model (the most prior-sensitive ones)


def settings(quick: bool) -> dict:
    if quick:
        return {"draws": 500, "chains": 2, "reps": 8, "sizes": 6}
    return {"draws": 2000, "chains": 4, "reps": 40, "sizes": 10}


def power_scaling(dt, model: pm.Model, values: dict, spec: ModelSpec, md: ModelData) -> dict:
    """psense prior and likelihood sensitivity of every coefficient, with psense's diagnosis.

    A Gaussian model's likelihood is written in sufficient statistics (no per-row variable): its
    pointwise log-likelihood is computed from the draws (``md`` holds the rows and sigma).

    The model's ``pm.Data`` containers are set to the fit's values first: nutpie's ``with_data``
    changes only the compiled copy, and the log prior must be the one that was sampled.
    """
    pm.set_data(values, model=model)
    if spec.likelihood_term:  # written in sufficient statistics: pointwise from the draws
        pointwise_log_likelihood(dt, md.X, md.y, md.noise_sd)
    else:
        pm.compute_log_likelihood(dt, model=model, progressbar=False)
    pm.stats.compute_log_prior(dt, model=model, progressbar=False)
    table = az.psense_summary(dt, var_names=["w"], threshold=THRESHOLD, round_to=6)
    return {
        "prior": table["prior"].to_numpy(float),
        "likelihood": table["likelihood"].to_numpy(float),
        "diagnosis": ["ok" if d.strip() == "✓" else d.strip() for d in table["diagnosis"]],
    }


def separable(X: np.ndarray, y: np.ndarray) -> bool:
    """Whether a hyperplane (with intercept) puts every row of the 0/1 outcome ``y`` strictly on its
    own side: feasibility of ``s_i (x_i w + b) >= 1`` with ``s_i = 2 y_i - 1`` (a linear programme)."""
    signs = 2 * np.asarray(y, float) - 1
    A = -signs[:, None] * np.column_stack([X, np.ones(len(signs))])
    lp = optimize.linprog(np.zeros(A.shape[1]), A_ub=A, b_ub=-np.ones(len(signs)),
                          bounds=[(None, None)] * A.shape[1], method="highs")  # fmt: skip
    return bool(lp.status == 0)


def likelihood_estimate(name: str, md: ModelData) -> tuple[np.ndarray, np.ndarray] | None:
    """The likelihood's own estimate of the coefficients and its standard errors (intercept
    fitted, not returned): least squares with ``sigma^2 (Z'Z)^-1`` (sigma fixed at the model's)
    for a Gaussian likelihood, the maximum-likelihood logistic fit with the inverse Fisher
    information ``(Z' W Z)^-1`` otherwise; ``None`` when the classes are separable and no
    maximum-likelihood estimate exists."""
    design = np.column_stack([np.ones(len(md.y)), md.X])
    if REGISTRY[name].likelihood == "bernoulli":
        if separable(md.X, md.y):
            return None
        fit = linear_model.LogisticRegression(C=np.inf, max_iter=10_000).fit(md.X, md.y)
        p = fit.predict_proba(md.X)[:, 1]
        cov = np.linalg.inv(design.T @ (design * (p * (1 - p))[:, None]))
        return fit.coef_[0], np.sqrt(np.diag(cov))[1:]
    estimate = np.linalg.lstsq(design, md.y, rcond=None)[0][1:]
    cov = md.noise_sd**2 * np.linalg.inv(design.T @ design)
    return estimate, np.sqrt(np.diag(cov))[1:]


def conflict_z(estimate: np.ndarray, se: np.ndarray, prior_sd: float) -> np.ndarray:
    """The likelihood estimate's distance from the prior's centre 0 in sds of its prior
    predictive: ``|w_hat| / sqrt(prior_sd^2 + se^2)`` (under the prior, ``w_hat = w + noise``
    with ``w`` of sd ``prior_sd`` and noise of sd ``se``; Gaussian approximation)."""
    return np.abs(estimate) / np.sqrt(prior_sd**2 + np.asarray(se) ** 2)


def model_sensitivity(name: str, run: Run, k_model: int) -> tuple[dict, dict, list]:
    """Sample one model at the three widths (posteriors saved with the run); returns (results,
    draws per width, diagnostics)."""
    cfg, seed = run.cfg, run.seed + 10 * k_model
    setup = reference_setup(REGISTRY[name])
    data, model, reference, base = setup.dataset, setup.model, setup.penalty, setup.values
    y, names = data.y, data.feature_names
    sampler = PosteriorSampler(model)
    estimate = likelihood_estimate(name, setup.data)
    widths, draws, diagnostics = {}, {}, []
    for k, (width, factor) in enumerate(WIDTHS.items()):
        values = {key: value * factor for key, value in base.items()}
        dt = sampler.sample(values, draws=cfg["draws"], tune=tuning_iterations(name),
                            chains=cfg["chains"], seed=seed + k)  # fmt: skip
        diagnostics.append(report.sampling_diagnostics(f"{name}, {width} prior", dt, ["w"]))
        run.posteriors[f"posterior_{name}_{width}"] = dt
        w = intervals.draws(dt, "w").values
        draws[width] = w
        psense = power_scaling(dt, model, values, REGISTRY[name], setup.data)
        ((key, scale),) = values.items()
        prior_sd = PRIOR_SD[key] * scale
        fit = {"factor": factor, "prior_values": values, "prior_sd": prior_sd,
               "posterior_mean": w.mean(axis=0), "posterior_sd": w.std(axis=0, ddof=1),
               "psense": psense,
               "sensitivity": verdicts.sensitivity(int(np.sum(np.asarray(psense["prior"]) > THRESHOLD)),
                                                   len(names), THRESHOLD, f"the {width} prior")}  # fmt: skip
        if estimate is not None:
            fit["conflicts"] = verdicts.prior_conflicts(
                names, conflict_z(*estimate, prior_sd), prior_sd, estimate[1]
            )
        if REGISTRY[name].closed_form.exact_posterior:
            exact_mean, exact_cov = REGISTRY[name].closed_form.exact_posterior(values, setup.data)
            exact_mean, exact_sd = exact_mean[1:], np.sqrt(np.diag(exact_cov))[1:]
            mcse = az.mcse(dt["posterior"].dataset[["w"]])["w"].values
            fit["max_abs_z_vs_exact"] = float(np.max(np.abs(w.mean(axis=0) - exact_mean) / mcse))
            fit["exact_mean"], fit["exact_sd"] = exact_mean, exact_sd
        widths[width] = fit
    results = {"data_source": data.source, "n_obs": len(y), "feature_names": names,
               "reference_penalty": reference, "noise_sd": setup.data.noise_sd, "widths": widths,
               "likelihood_estimate": None if estimate is None else estimate[0],
               "likelihood_se": None if estimate is None else estimate[1],
               "sensitivity": verdicts.sensitivity_widths(name, [f["sensitivity"] for f in widths.values()])}  # fmt: skip
    if REGISTRY[name].likelihood == "bernoulli":
        results["separation"] = verdicts.separation(name, estimate is None)
    return results, draws, diagnostics


def data_size(cfg: dict, seed: int) -> dict:
    """Ridge on diabetes subsamples: exact posterior width and the MAP's distance from OLS vs n.

    The prior is the moderate one (RidgeCV's alpha on all rows) and sigma is fixed at the full-data
    least-squares residual sd, so only n changes. Each size is drawn ``reps`` times (seeded).
    """
    data = DATASETS["diabetes"]()
    X, y = data.X, data.y
    noise_sd = noise_estimate(X, y)
    alpha = ridge.reference_penalty(arrays(X, y, data.feature_names))["alpha"]
    prior_sd = ridge.alpha_to_prior_sd(alpha, noise_sd)
    sizes = np.unique(np.geomspace(20, len(y), cfg["sizes"]).astype(int))
    rng = np.random.default_rng(seed)
    width, distance = np.empty((len(sizes), cfg["reps"])), np.empty((len(sizes), cfg["reps"]))
    for i, n in enumerate(sizes):
        for r in range(cfg["reps"]):
            rows = rng.choice(len(y), size=n, replace=False)
            mean, cov = ridge.exact_posterior(X[rows], y[rows], prior_sd, noise_sd)
            ols = np.linalg.lstsq(np.column_stack([np.ones(n), X[rows]]), y[rows], rcond=None)[0]
            width[i, r] = np.mean(np.sqrt(np.diag(cov)[1:])) / prior_sd
            distance[i, r] = np.linalg.norm(mean[1:] - ols[1:]) / np.linalg.norm(ols[1:])
    quartiles = np.quantile(distance, [0.25, 0.5, 0.75], axis=1)
    return {"sizes": sizes, "prior_sd": prior_sd, "noise_sd": noise_sd, "reps": cfg["reps"],
            "posterior_sd_over_prior_sd": np.quantile(width, [0.25, 0.5, 0.75], axis=1),
            "map_distance_from_ols": quartiles,
            "washout": verdicts.prior_washout(sizes, quartiles[1], len(y)),
            "prediction": prediction_effect(X, y, prior_sd, noise_sd)}  # fmt: skip


def prediction_effect(X: np.ndarray, y: np.ndarray, prior_sd: float, noise_sd: float) -> dict:
    """Whether the prior changes held-out prediction on all rows: the exact LOO log predictive
    density of the ridge posterior at ``prior_sd`` against that of least squares (a flat prior),
    sigma fixed, as a :func:`verdicts.comparison` of their paired row-wise difference."""
    design = np.column_stack([np.ones(len(y)), X])
    flat_cov = noise_sd**2 * np.linalg.inv(design.T @ design)  # the posterior under a flat prior
    flat_mean = np.linalg.lstsq(design, y, rcond=None)[0]
    pointwise = {
        "prior": evidence.loo_from_posterior(X, y, *ridge.exact_posterior(X, y, prior_sd, noise_sd),
                                             noise_sd),
        "flat": evidence.loo_from_posterior(X, y, flat_mean, flat_cov, noise_sd),
    }  # fmt: skip
    difference = pointwise["prior"] - pointwise["flat"]
    return verdicts.comparison(
        "exact LOO log predictive density summed over all rows",
        f"ridge at prior sd {prior_sd:.3g}",
        "least squares (flat prior)",
        float(np.sum(difference)),
        float(np.sqrt(len(difference)) * np.std(difference, ddof=1)),
        lower_is_better=False,
    )


def compute(run: Run) -> dict:
    # psense logs a reading guide whenever it flags something; the page explains the flags.
    logging.getLogger("arviz_stats.psense").setLevel(logging.ERROR)
    per_model, run.state["draws"] = {}, {}
    for k, name in enumerate(MODELS):
        per_model[name], run.state["draws"][name], diagnostics = model_sensitivity(name, run, k)
        for row in diagnostics:
            run.diagnose(row)
        run.check(f"Prior sensitivity ({name})", per_model[name]["sensitivity"])
    ridge_fits = per_model["ridge"]["widths"]
    run.verify(prior_move(per_model["ridge"]["feature_names"], ridge_fits))
    run.check("NUTS vs exact", verdicts.mcmc_vs_reference(
        max(f["max_abs_z_vs_exact"] for f in ridge_fits.values()), Z_FLAG,
        "the exact ridge posterior at all three widths"))  # fmt: skip
    tight = per_model["ridge"]["widths"]["tight"]["conflicts"]
    run.adds({"kind": "text", "level": tight["level"],
              "text": "Ridge, tight prior: " + report.sentence(tight)})  # fmt: skip
    run.adds(per_model["logistic"]["separation"])
    size = data_size(run.cfg, run.seed)
    run.adds(size["washout"])
    return {"models": per_model, "data_size": size, "widths": WIDTHS, "threshold": THRESHOLD}


def prior_move(names: list[str], fits: dict) -> dict:
    """The page's claim checked on the exact ridge posteriors: the largest shift of a posterior
    mean from the loose to the tight prior, in sds of the loose-prior posterior."""
    loose, tight = fits["loose"], fits["tight"]
    shift = np.abs(tight["exact_mean"] - loose["exact_mean"]) / loose["exact_sd"]
    j = int(np.argmax(shift))
    return verdicts.prior_moves(
        names[j], float(shift[j]), "loose", "tight", "exact ridge posterior"
    )


def figures(run: Run) -> None:
    for name in MODELS:
        prior_posterior_figure(run.out, name, run.results["models"][name], run.state["draws"][name])
    data_size_figure(run.out, run.results["data_size"])


def _shown(result: dict) -> list[int]:
    """Indices of the coefficients to plot: the most prior-sensitive at the moderate width."""
    prior = result["widths"]["moderate"]["psense"]["prior"]
    return sorted(np.argsort(-np.asarray(prior))[:PANELS].tolist())


def prior_posterior_figure(out, name: str, result: dict, draws: dict) -> None:
    shown = _shown(result)
    fig, axes, _ = coefficient_panels(len(shown), 2.8)
    for ax, j in zip(axes, shown, strict=True):
        lo = min(np.quantile(d[:, j], 0.001) for d in draws.values())
        hi = max(np.quantile(d[:, j], 0.999) for d in draws.values())
        pad = 0.15 * (hi - lo)
        grid = np.linspace(lo - pad, hi + pad, 300)
        for width, w in draws.items():
            ((key, scale),) = result["widths"][width]["prior_values"].items()
            prior = getattr(stats, PRIOR_DENSITY[key])(0, scale).pdf(grid)
            posterior = stats.gaussian_kde(w[:, j])(grid)
            # Each curve scaled to peak 1: a tight posterior is ~100x taller than a loose one and
            # would flatten the rest; shapes, locations and widths are what the panel compares.
            ax.plot(grid, prior / prior.max(), "--", color=WIDTH_COLORS[width],
                    lw=1.2, label=f"{width} prior")  # fmt: skip
            ax.plot(grid, posterior / posterior.max(), color=WIDTH_COLORS[width], lw=2,
                    label=f"{width} posterior")  # fmt: skip
        ax.set_title(figure_label(result["feature_names"][j]), fontsize=9, parse_math=False)
        ax.set_yticks([])
    fig.supxlabel(coefficient_label(REGISTRY[name].likelihood))
    fig.supylabel("density / its maximum")
    legend_below(fig, axes[0], ncol=6, offset=-0.05)
    fig.suptitle(
        f"{name}: prior (dashed) and posterior (solid) at three prior widths, each scaled to peak 1"
    )
    save(fig, out / f"prior_posterior_{name}.png")


def data_size_figure(out, sizes: dict) -> None:
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.4), layout="constrained")
    n = np.asarray(sizes["sizes"])
    for ax, key, label in ((left, "posterior_sd_over_prior_sd", "posterior sd / prior sd (mean over coefficients)"),
                           (right, "map_distance_from_ols", "||MAP - OLS|| / ||OLS||")):  # fmt: skip
        q25, q50, q75 = sizes[key]
        ax.fill_between(
            n, q25, q75, color=COLORS["posterior"], alpha=0.25, label="quartiles over subsamples"
        )
        ax.loglog(n, q50, "o-", color=COLORS["posterior"], label="median over subsamples")
        ax.set_xlabel("rows used (n)")
        ax.set_ylabel(label)
    left.loglog(n, sizes["posterior_sd_over_prior_sd"][1][0] * np.sqrt(n[0] / n), ":",
                color=COLORS["data"], label="1 / sqrt(n)")  # fmt: skip
    for ax in (left, right):
        ax.set_xticks(n, [str(v) for v in n])
        ax.xaxis.set_minor_locator(ticker.NullLocator())
        ax.yaxis.set_major_formatter(ticker.FormatStrFormatter("%.2g"))
        ax.yaxis.set_minor_formatter(ticker.FormatStrFormatter("%.2g"))
    left.set_title("Posterior width shrinks as data arrive")
    right.set_title("Distance of the MAP from least squares")
    right.axhline(verdicts.WASHOUT, ls="--", color=COLORS["data"],
                  label=f"{verdicts.WASHOUT:g}: the prior has stopped mattering below")  # fmt: skip
    left.legend(fontsize=8)
    right.legend(fontsize=8)
    save(fig, out / "data_size.png")


def _movement(result: dict) -> str:
    """The "Observe:" line of a prior-against-posterior figure: how far the shown posterior means
    move from the loose to the tight prior, in loose-posterior sds."""
    names, shown = result["feature_names"], _shown(result)
    loose, tight = result["widths"]["loose"], result["widths"]["tight"]
    moved = np.abs(np.subtract(tight["posterior_mean"], loose["posterior_mean"]))
    moved = moved / np.asarray(loose["posterior_sd"])
    worst = max(shown, key=lambda j: moved[j])
    return (f"from the loose to the tight prior the posterior mean of {report.user(names[worst])} moves "
            f"the most, by {moved[worst]:.2f} loose-posterior sds (NUTS draws); "
            f"{int(np.sum(moved[shown] > 1))} of "
            f"the {len(shown)} shown move by more than one.")  # fmt: skip


def page(page: report.Page, results: dict) -> None:
    page.claim(
        "Choosing a penalty is choosing a prior. Power-scaling the prior (and the likelihood) by a "
        "few percent and watching the posterior move measures how much that choice matters, "
        "coefficient by coefficient; subsampling rows measures how that pull changes with n.",
        "power-scaled posterior:  p(w | y, a) ∝ p(w)^a p(y | w),   a in [0.99, 1.01]\n"
        "sensitivity = derivative of the CJS distance between posteriors with respect to log a\n"
        "conflict_j  = |w_hat_j| / sqrt(prior sd^2 + se(w_hat_j)^2)   (≥ 3: prior-data conflict)\n"
        "              w_hat_j: the likelihood's own estimate, se: its standard error",
    )
    # results.json sorts its keys: the page shows models and widths in the experiment's order
    models = {name: {**results["models"][name],
                     "widths": {w: results["models"][name]["widths"][w] for w in WIDTHS}}
              for name in MODELS}  # fmt: skip
    page.heading("Data and models")
    page.text("Each model on its bundled data set at three prior widths: the prior of scikit-learn's "
              f"cross-validated penalty (moderate), its scale times {WIDTHS['loose']:g} (loose) and times "
              f"{WIDTHS['tight']:g} (tight). psense flags a sensitivity above {THRESHOLD}: 'potential "
              "prior-data conflict' when the prior's and the likelihood's are both above it, 'potential "
              "strong prior / weak likelihood' when only the prior's is.")  # fmt: skip
    rows = []
    for name, result in models.items():
        for width, fit in result["widths"].items():
            ps = fit["psense"]
            counts = {d: ps["diagnosis"].count(d) for d in dict.fromkeys(ps["diagnosis"])}
            rows.append([name, width, ", ".join(f"{k}={v:.4g}" for k, v in fit["prior_values"].items()),
                         max(ps["prior"]), max(ps["likelihood"]),
                         "; ".join(f"{v} {k}" for k, v in counts.items())])  # fmt: skip
    page.table(["model", "prior", "prior values", "max prior sensitivity", "max likelihood sensitivity",
                "coefficients by psense's diagnosis"], rows)  # fmt: skip
    page.bullets([report.sentence(result["sensitivity"]) for result in models.values()])
    page.heading("Prior-data conflict, measured directly")
    page.text("psense's labels say which posteriors move when the prior or the likelihood is "
              "power-scaled; they do not say the data contradict the prior. That is measured here: "
              "the likelihood's own estimate of each coefficient (least squares, sigma fixed; maximum "
              "likelihood for logistic) is, under the prior, the coefficient plus its estimation "
              "noise, so its prior predictive sd is sqrt(prior sd^2 + se^2); its distance from the "
              "prior's centre 0 in those sds is a conflict at "
              f"{verdicts.CONFLICT_PRIOR_SDS:g} or more. A Laplace prior of scale b has sd sqrt(2) b "
              "(the Gaussian approximation is then rougher).")  # fmt: skip
    rows, items = [], []
    for name, result in models.items():
        if "separation" in result:
            items.append(report.sentence(result["separation"]))
        for width, fit in result["widths"].items():
            labelled = fit["psense"]["diagnosis"].count("potential prior-data conflict")
            if "conflicts" not in fit:
                rows.append(
                    [name, width, fit["prior_sd"], "n/a: no estimate", "", "", "", labelled]
                )
                continue
            v = fit["conflicts"]
            rows.append([name, width, fit["prior_sd"], v["subject"], v["likelihood_sd"], v["value"],
                         f"{len(v['conflicting'])} of {v['n']}", labelled])  # fmt: skip
            if v["outcome"] == "conflict":
                items.append(
                    f"{name}, {width} prior: "
                    + report.sentence(v).rstrip(".")
                    + ": "
                    + report.user(", ".join(v["conflicting"]))
                    + "."
                )
    page.table(["model", "prior", "prior sd", "farthest estimate", "its standard error",
                "sds from 0 (sqrt(prior sd^2 + se^2))",
                f"conflicts (≥ {verdicts.CONFLICT_PRIOR_SDS:g})",
                "psense 'potential prior-data conflict' labels"], rows)  # fmt: skip
    quiet = [f"{name} ({width})" for name, result in models.items()
             for width, fit in result["widths"].items()
             if fit.get("conflicts", {}).get("outcome") == "compatible"]  # fmt: skip
    if quiet:
        items.append(f"No prior-data conflict at {', '.join(quiet)}: every likelihood estimate lies "
                     f"within {verdicts.CONFLICT_PRIOR_SDS:g} sds of its prior predictive from 0, "
                     "whatever psense labels there.")  # fmt: skip
    page.bullets(items)
    for name, result in models.items():
        page.heading(f"{name}: prior against posterior")
        names = result["feature_names"]
        page.table(["coefficient", *(f"prior sens. ({w})" for w in WIDTHS),
                    *(f"posterior sd ({w})" for w in WIDTHS)],
                   [[names[j], *(result["widths"][w]["psense"]["prior"][j] for w in WIDTHS),
                     *(result["widths"][w]["posterior_sd"][j] for w in WIDTHS)] for j in _shown(result)])  # fmt: skip
        page.figure(f"prior_posterior_{name}.png", f"{name} ({result['data_source']}): the "
                    f"{min(PANELS, len(names))} most prior-sensitive coefficients at the moderate width; "
                    "dashed prior, solid posterior, light to dark = loose to tight; every curve scaled to peak 1.",
                    observe=_movement(result))  # fmt: skip
    size = results["data_size"]
    page.heading("How far the MAP stays from least squares as rows are added")
    page.figure("data_size.png", f"Ridge on diabetes subsamples ({size['reps']} seeded draws per size; "
                f"prior sd {size['prior_sd']:.4g}, sigma fixed at {size['noise_sd']:.4g}): exact "
                "posterior width and distance of the MAP from least squares, ||MAP - OLS|| / ||OLS||.",
                observe=size["washout"])  # fmt: skip
    page.heading("Sampling diagnostics")
    page.diagnostics(results["diagnostics"])
    page.text(
        "NUTS against the exact ridge posterior at each width, largest |mean error| / MCSE: "
        + "; ".join(f"{w} {fit['max_abs_z_vs_exact']:.2f}"
                    for w, fit in models["ridge"]["widths"].items())
        + f" (flagged above {Z_FLAG})."
    )  # fmt: skip
    page.heading("What the point estimate hides")
    page.bullets([
        "Ridge: " + report.sentence(results["models"]["ridge"]["widths"]["tight"]["sensitivity"])
        + " A point estimate carries no sign of that.",
        report.sentence(size["washout"]) + " For held-out prediction, at the moderate prior: "
        + report.sentence(size["prediction"]),
    ])  # fmt: skip
    page.heading("Load the posterior yourself")
    page.load_snippet(
        "posterior_ridge_tight.nc",
        ["w"],
        "or posterior_{ridge,logistic,lasso}_{loose,moderate,tight}.nc",
    )


def card(results: dict) -> Card:
    tight = results["models"]["ridge"]["widths"]["tight"]["psense"]["prior"]
    loose = results["models"]["ridge"]["widths"]["loose"]["psense"]["prior"]
    return Card("data_size.png", (
        f"How far power-scaling the prior moves the ridge posterior (psense; above {THRESHOLD} "
        f"the prior matters): at most **{max(loose):.3f}** under a loose prior, **{max(tight):.3f}** "
        f"under a tight one; posterior width vs rows from "
        f"{results['data_size']['sizes'][0]} to {results['data_size']['sizes'][-1]}."
    ))  # fmt: skip


EXPERIMENT = Experiment(
    name=NAME,
    title="Prior sensitivity: how much the belief behind the penalty matters",
    description="Prior sensitivity of ridge, logistic and lasso.",
    sections=(
        Section(
            "NUTS at three prior widths per model, power-scaling sensitivity, data size",
            compute,
            figures,
            page,
        ),
    ),
    settings=settings,
    user_data=False,
    card=card,
    claim="Choosing a penalty is choosing a prior, and the choice moves the posterior: how much is "
    "measured coefficient by coefficient, for three models at three prior widths.",
)
