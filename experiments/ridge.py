"""Experiment ``ridge``: Ridge regression is the MAP of a Gaussian-prior model, and only its mode.

The penalty experiment of :data:`models.ridge.SPEC` (Check 1 against scikit-learn and the closed
form on 31 alphas over [1e-4, 1e6], Check 2 against the exact conjugate posterior), plus three
sections of its own: NUTS along the whole path, sigma unknown, and what correlation and prediction
look like.

    python -m experiments ridge [--data FILE.csv --target COL] [--alpha A | --prior-sd TAU]
                                [--noise-sd SIGMA] [--out DIR] [--seed N] [--quick]
"""

from __future__ import annotations

import numpy as np

from experiments import common, family, intervals, report
from experiments.report import user
from experiments.runner import Card, Run, Section
from experiments.style import (
    COLORS,
    LINESTYLES,
    coefficient_label,
    coefficient_panels,
    legend_below,
    plt,
    save,
)
from models import ridge
from models.data import arrays, noise_estimate
from models.inference import MAPSolver, PosteriorSampler
from models.lazy import lazy
from models.stats import pointwise_log_likelihood

az = lazy("arviz")
xr = lazy("xarray")
stats = lazy("scipy.stats")
model_selection = lazy("sklearn.model_selection")

PATH_CHAINS = 2  # chains per alpha in the NUTS sweep along the path


def settings(quick: bool) -> dict:
    return {**family.settings(quick), "path_draws": 300 if quick else 1000}


# --- NUTS along the path ------------------------------------------------------------------------


def path_compute(run: Run) -> dict:
    sampler, md = run.state["sampler"], run.state["md"]
    path = {"mean": [], "hdi_94_low": [], "hdi_94_high": [], "divergences": 0, "max_r_hat": 0.0}
    for k, alpha in enumerate(run.results["alphas"]):
        dt = sampler.sample({"prior_sd": ridge.alpha_to_prior_sd(alpha, md.noise_sd)},
                            draws=run.cfg["path_draws"], tune=run.cfg["path_draws"],
                            chains=PATH_CHAINS, seed=run.seed + k)  # fmt: skip
        bounds = intervals.interval(dt, ["w"])["w"]
        path["mean"].append(dt["posterior"]["w"].mean(("chain", "draw")).values)
        path["hdi_94_low"].append(bounds.sel(ci_bound="lower").values)
        path["hdi_94_high"].append(bounds.sel(ci_bound="upper").values)
        path["divergences"] += int(dt["sample_stats"]["diverging"].sum())
        path["max_r_hat"] = max(path["max_r_hat"], float(az.rhat(dt, var_names=["w"])["w"].max()))
        # the exact band
        mean, cov = ridge.exact_posterior(
            md.X, md.y, ridge.alpha_to_prior_sd(alpha, md.noise_sd), md.noise_sd
        )
        low, high = intervals.gaussian(mean[1:], np.sqrt(np.diag(cov))[1:])
        path.setdefault("exact_low", []).append(low)
        path.setdefault("exact_high", []).append(high)
    return {"path_posterior": path}


def path_figure(run: Run) -> None:
    res, names = run.results, run.results["feature_names"]
    alphas = np.asarray(res["alphas"])
    path = {
        k: np.asarray(v)
        for k, v in res["path_posterior"].items()
        if k.startswith(("mean", "hdi", "exact"))
    }
    sk, mp = np.asarray(res["sklearn_coef"]), np.asarray(res["map_coef"])
    fig, axes, ncols = coefficient_panels(len(names), 2.6, sharex=True)
    for j, ax in enumerate(axes):
        ax.fill_between(alphas, path["hdi_94_low"][:, j], path["hdi_94_high"][:, j], color=COLORS["posterior"],
                        alpha=0.25, label=f"posterior {intervals.PROB:.0%} HDI (NUTS)")  # fmt: skip
        ax.plot(
            alphas, path["mean"][:, j], color=COLORS["posterior"], label="posterior mean (NUTS)"
        )
        for bound in ("exact_low", "exact_high"):
            ax.plot(alphas, path[bound][:, j], LINESTYLES["exact"], color=COLORS["exact"], lw=1,
                    label=f"exact {intervals.PROB:.0%} HDI" if bound == "exact_low" else None)  # fmt: skip
        ax.plot(
            alphas, sk[:, j], LINESTYLES["sklearn"], color=COLORS["sklearn"], label="sklearn Ridge"
        )
        ax.plot(alphas, mp[:, j], "o", ms=2.5, color=COLORS["MAP"], label="PyMC MAP")
        ax.axvline(res["posterior"]["alpha"], color="0.5", lw=0.8, label="reference alpha")
        ax.axhline(0, color="0.3", lw=0.5)
        ax.set_xscale("log")
        ax.set_title(names[j][:28], fontsize=9, parse_math=False)
        if j >= len(names) - ncols:
            ax.set_xlabel("alpha = sigma^2 / tau^2")
    fig.supylabel(coefficient_label("gaussian"))
    legend_below(fig, axes[0], ncol=6)
    fig.suptitle(
        "Ridge path: sklearn, PyMC MAP, the NUTS band and the exact band (one compiled model)"
    )
    save(fig, run.out / "ridge_path.png")


def path_page(page: report.Page, results: dict) -> None:
    path = results["path_posterior"]
    page.heading("The whole path: the posterior at every alpha")
    page.figure("ridge_path.png", "Coefficient paths. Red dashes: sklearn; black dots: PyMC MAP (on "
                f"top of each other); blue: posterior mean and {intervals.PROB:.0%} HDI from NUTS at every alpha; green dashes: the exact HDI.")  # fmt: skip
    page.text(f"{len(results['alphas'])} NUTS refits of one compiled model, {PATH_CHAINS} chains each: "
              f"{path['divergences']} divergences in total, worst r_hat {path['max_r_hat']:.3f}.")  # fmt: skip


# --- sigma unknown --------------------------------------------------------------------------------


def unknown_compute(run: Run) -> dict:
    md, res = run.state["md"], run.results
    model = ridge.build_unknown_noise(md)
    solver = MAPSolver(model)
    fits = [solver.solve({"alpha": alpha}) for alpha in res["alphas"]]
    coef = [fit.point["w"] for fit in fits]
    res["rel_diff"]["map_unknown_noise_vs_sklearn"] = [
        common.rel_linf(c, s) for c, s in zip(coef, res["sklearn_coef"], strict=True)
    ]
    alpha = res["posterior"]["alpha"]
    dt = PosteriorSampler(model).sample({"alpha": alpha}, draws=run.cfg["draws"], tune=run.cfg["tune"],
                                        chains=run.cfg["chains"], seed=run.seed + 1000)  # fmt: skip
    run.posteriors["posterior_unknown_noise"] = dt
    run.state["dt_unknown"] = dt
    run.diagnose(
        report.sampling_diagnostics(
            "sigma unknown (reference alpha)", dt, ["intercept", "w", "sigma"]
        )
    )
    summary = intervals.summary(dt, ["sigma", "w"])
    return {
        "unknown_noise_summary": intervals.summary_record(dt, ["sigma", "w"]),
        "map_coef_unknown_noise": coef,
        "sigma_map_unknown_noise": [float(fit.point["sigma"]) for fit in fits],
        "posterior_unknown_noise": {
            "alpha": alpha, "labels": list(summary.index), "mean": summary["mean"].to_numpy(float),
            "sd": summary["sd"].to_numpy(float), "r_hat": summary["r_hat"].to_numpy(float),
            "ess_bulk": summary["ess_bulk"].to_numpy(float),
        },
    }  # fmt: skip


def unknown_page(page: report.Page, results: dict) -> None:
    res = results
    page.heading("Sigma unknown")
    page.text("A second model treats sigma as unknown, sigma ~ HalfNormal(sd(y)), with w | sigma ~ "
              "Normal(0, sigma / sqrt(alpha)): for every sigma the conditional mode of w is Ridge(alpha), "
              "so the joint MAP of w is Ridge(alpha) too. Its agreement is the last column of Check 1 "
              f"(largest {max(res['rel_diff']['map_unknown_noise_vs_sklearn']):.1e}); its posterior at "
              f"alpha = {res['posterior']['alpha']:.4g}:")  # fmt: skip
    page.arviz_summary(results["unknown_noise_summary"])


# --- correlation and prediction -----------------------------------------------------------------


def predictive_draws(dt, X: np.ndarray, noise_sd: float, seed: int, chunk: int = 2_000_000):
    """Posterior predictive ``y_rep = b0 + X w + sigma eps`` (sigma fixed), one per posterior draw,
    in row chunks of about ``chunk`` numbers: yields ``(rows, y_rep)``.

    The likelihood is written in sufficient statistics, so there is no per-row variable for PyMC
    to resample: the replicated rows are drawn here from the posterior draws.
    """
    post = dt["posterior"].dataset
    w = post["w"].values.reshape(-1, X.shape[1])
    b0 = post["intercept"].values.reshape(-1)
    rng = np.random.default_rng(seed)
    step = max(1, chunk // len(w))
    for start in range(0, len(X), step):
        rows = slice(start, start + step)
        y_rep = b0[:, None] + w @ X[rows].T
        yield rows, y_rep + noise_sd * rng.standard_normal(y_rep.shape)


def prior_predictive(
    X: np.ndarray, y: np.ndarray, prior_sd: float, noise_sd: float, seed: int, draws: int = 500
) -> np.ndarray:
    """``y = b0 + X w + sigma eps`` with ``w ~ Normal(0, tau)``; b0 is flat (no prior predictive),
    so it is held at mean(y) and the check is of the spread the prior on w implies."""  # fmt: skip
    rng = np.random.default_rng(seed)
    w = prior_sd * rng.standard_normal((draws, X.shape[1]))
    return y.mean() + w @ X.T + noise_sd * rng.standard_normal((draws, len(X)))


def _group(values: np.ndarray, chains: int) -> xr.DataTree:
    draws = values.reshape(chains, -1, values.shape[-1])
    coords = {
        "chain": np.arange(chains),
        "draw": np.arange(draws.shape[1]),
        "obs": np.arange(draws.shape[2]),
    }
    return xr.DataTree(xr.Dataset({"y": (("chain", "draw", "obs"), draws)}, coords=coords))


def predictive_compute(run: Run) -> dict:
    md, dt = run.state["md"], run.state["dt"]
    corr = np.atleast_2d(np.corrcoef(intervals.draws(dt, "w").values, rowvar=False))
    off = np.abs(corr - np.eye(len(corr)))
    a, b = np.unravel_index(np.argmax(off), off.shape)  # (0, 0) with one feature: no pair
    chains = dt["posterior"].sizes["chain"]
    # The fixed-sigma posterior is Gaussian and known exactly, so is each row's predictive
    # (O(n p^2), any n)
    exact_mean, exact_cov = ridge.SPEC.exact_posterior(run.state["values"], md)
    low, high = intervals.gaussian(*ridge.predictive(md.X, exact_mean, exact_cov, md.noise_sd))
    keep = md.X.shape[0] * dt["posterior"].sizes["draw"] * chains <= common.SAVED_ROWS_X_DRAWS
    prior = prior_predictive(md.X, md.y, run.results["posterior"]["prior_values"]["prior_sd"],
                             md.noise_sd, run.seed)  # fmt: skip
    if keep:
        # saved with the posterior: what az.loo, az.loo_pit and predictive checks need, replicated
        # from the NUTS draws
        pointwise_log_likelihood(dt, md.X, md.y, md.noise_sd)
        dt["observed_data"] = xr.DataTree(xr.Dataset({"y": ("obs", md.y)}))
        replicated = [y_rep for _, y_rep in predictive_draws(dt, md.X, md.noise_sd, run.seed)]
        dt["posterior_predictive"] = _group(np.concatenate(replicated, axis=1), chains)
        dt["prior_predictive"] = _group(prior, 1)
    names = run.results["feature_names"]
    run.state["predictive"] = (low, high)
    coverage = float(np.mean((md.y >= low) & (md.y <= high)))
    run.state["prior_predictive_sd"] = float(prior.std())
    return {"posterior": {**run.results["posterior"], "correlation": corr, "predictive_coverage_94": coverage,
                          "prior_predictive_sd_over_sd_y": float(prior.std() / md.y.std()),
                          "most_correlated": (names[a], names[b], float(corr[a, b])) if a != b else None}}  # fmt: skip


def correlation_figure(run: Run) -> None:
    """The most correlated pair (draws, the exact 94% ellipse, MAP, sklearn) and every correlation."""
    res, post, md = run.results, run.results["posterior"], run.state["md"]
    names, corr = res["feature_names"], np.asarray(post["correlation"])
    pair = [names.index(post["most_correlated"][0]), names.index(post["most_correlated"][1])]
    w = intervals.draws(run.state["dt"], "w").values[:, pair]
    exact_mean, exact_cov = ridge.SPEC.exact_posterior(run.state["values"], md)
    index = np.asarray(pair) + 1  # the exact posterior lists the intercept first
    theta = np.linspace(0, 2 * np.pi, 200)
    radius = np.sqrt(-2 * np.log(1 - intervals.PROB))  # chi-square(2) quantile, in closed form
    ring = np.linalg.cholesky(exact_cov[np.ix_(index, index)]) @ np.vstack(
        [np.cos(theta), np.sin(theta)]
    )
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(12, 5))
    ax.scatter(
        w[:, 0], w[:, 1], s=3, alpha=0.25, color=COLORS["posterior"], label="posterior draws"
    )
    ax.plot(*(exact_mean[index, None] + radius * ring), color=COLORS["exact"],
            label=f"exact {intervals.PROB:.0%} region")  # fmt: skip
    ax.plot(
        *np.asarray(post["map"])[pair], "x", ms=12, mew=3, color=COLORS["MAP"], label="PyMC MAP"
    )
    ax.plot(*np.asarray(post["sklearn"])[pair], "+", ms=16, mew=2, color=COLORS["sklearn"],
            label="sklearn Ridge")  # fmt: skip
    ax.set_xlabel(coefficient_label("gaussian", f"w[{names[pair[0]]}]"), parse_math=False)
    ax.set_ylabel(coefficient_label("gaussian", f"w[{names[pair[1]]}]"), parse_math=False)
    ax.set_title(f"most correlated pair: posterior correlation {corr[pair[0], pair[1]]:+.2f}")
    ax.legend(fontsize=8)
    image = ax2.imshow(corr, cmap="RdBu_r", vmin=-1, vmax=1)
    ax2.set_xticks(range(len(names)), [n[:12] for n in names], rotation=90)
    ax2.set_yticks(range(len(names)), [n[:12] for n in names])
    for label in (*ax2.get_xticklabels(), *ax2.get_yticklabels()):
        label.set_parse_math(False)
    ax2.grid(False)
    ax2.set_title("posterior correlation of the coefficients")
    fig.colorbar(image, ax=ax2, label="correlation")
    save(fig, run.out / "correlation.png")


def predictive_figure(run: Run) -> None:
    """Posterior predictive intervals of every row against Ridge's single prediction."""
    post, y = run.results["posterior"], run.state["md"].y
    low, high = run.state["predictive"]
    prediction = _ridge_prediction(run)
    order = np.argsort(prediction)
    rank = np.arange(len(order))
    fig, ax = plt.subplots(figsize=(11, 4.5))
    ax.fill_between(rank, low[order], high[order], color=COLORS["posterior"], alpha=0.25,
                    label=f"{intervals.PROB:.0%} posterior predictive HDI (exact)")  # fmt: skip
    ax.plot(rank, y[order], ".", ms=4, color=COLORS["data"], label="observed")
    ax.plot(rank, prediction[order], LINESTYLES["sklearn"], color=COLORS["sklearn"],
            label="sklearn Ridge prediction")  # fmt: skip
    ax.set_xlabel("observation, sorted by the Ridge prediction")
    ax.set_ylabel("target (original units)")
    ax.set_title(f"Predictions: Ridge gives a line, the posterior an interval "
                 f"({post['predictive_coverage_94']:.0%} of the fitted rows inside, in-sample)")  # fmt: skip
    ax.legend(fontsize=8)
    save(fig, run.out / "predictive.png")


def predictive_figures(run: Run) -> None:
    if run.results["posterior"]["most_correlated"] is not None:
        correlation_figure(run)
    predictive_figure(run)
    dt = run.state["dt"]
    if "posterior_predictive" in dt.children:
        for name, plot in (
            ("prior_predictive.png", lambda: az.plot_ppc_dist(dt, group="prior_predictive")),
            ("ppc.png", lambda: az.plot_ppc_dist(dt)),
            ("loo_pit.png", lambda: az.plot_loo_pit(dt)),
        ):
            plot().savefig(run.out / name)
            plt.close("all")  # fmt: skip


# --- held-out rows --------------------------------------------------------------------------------

HELDOUT_FOLDS = 5


def heldout_compute(run: Run) -> dict:
    """Every row predicted from a fit without it: seeded K-fold cross-fitting of the exact
    fixed-sigma posterior, with alpha re-chosen (RidgeCV) and sigma re-estimated inside each training
    fold, so nothing about a held-out row reaches its prediction. Per row: the 94% predictive
    interval's coverage and the log predictive density, against Ridge's prediction with the same
    sigma and no parameter uncertainty (the plug-in)."""
    md = run.state["md"]
    n, p = md.X.shape
    fixed = getattr(run.args, "noise_sd", None)
    if n < 2 * HELDOUT_FOLDS or (fixed is None and n - n // HELDOUT_FOLDS - 1 <= p + 1):
        return {"heldout": None}  # too few rows to hold any out and still estimate sigma
    inside, lpd, plug_in = np.zeros(n, bool), np.zeros(n), np.zeros(n)
    folds = model_selection.KFold(HELDOUT_FOLDS, shuffle=True, random_state=run.seed)
    for train, test in folds.split(md.X):
        X, y = md.X[train], md.y[train]
        sigma = fixed or noise_estimate(X, y)
        alpha = ridge.reference_penalty(arrays(X, y, md.feature_names))["alpha"]
        mean, cov = ridge.exact_posterior(X, y, ridge.alpha_to_prior_sd(alpha, sigma), sigma)
        # centre = Ridge(alpha)'s prediction: the posterior is Gaussian, its mode is its mean
        centre, sd = ridge.predictive(md.X[test], mean, cov, sigma)
        band_low, band_high = intervals.gaussian(centre, sd)
        inside[test] = (band_low <= md.y[test]) & (md.y[test] <= band_high)
        lpd[test] = stats.norm.logpdf(md.y[test], centre, sd)
        plug_in[test] = stats.norm.logpdf(md.y[test], centre, sigma)
    covered = int(inside.sum())
    low, high = stats.beta.ppf(
        [0.025, 0.975], [covered, covered + 1], [n - covered + 1, n - covered]
    )
    difference = lpd - plug_in
    return {"heldout": {
        "folds": HELDOUT_FOLDS, "n": n, "covered": covered, "coverage": covered / n,
        "coverage_ci95": [float(low) if covered else 0.0, float(high) if covered < n else 1.0],
        "lpd_posterior": float(lpd.mean()), "lpd_plug_in": float(plug_in.mean()),
        "lpd_difference": float(difference.mean()),
        "lpd_difference_se": float(difference.std(ddof=1) / np.sqrt(n)),
    }}  # fmt: skip


def heldout_page(page: report.Page, results: dict) -> None:
    held = results["heldout"]
    page.heading("Held-out rows")
    if held is None:
        page.text(f"Too few rows to hold {HELDOUT_FOLDS} folds out and still estimate sigma in each "
                  "training fold; only the in-sample coverage above is shown.")  # fmt: skip
        return
    low, high = held["coverage_ci95"]
    page.text(
        f"Every row predicted from a fit that never saw it ({held['folds']}-fold cross-fitting, "
        f"seeded; alpha re-chosen by RidgeCV and sigma re-estimated inside each training fold). "
        f"The {intervals.PROB:.0%} predictive interval covers **{held['covered']} of {held['n']}** "
        f"held-out rows ({held['coverage']:.1%}; 95% Clopper-Pearson interval [{low:.1%}, "
        f"{high:.1%}]), against {results['posterior']['predictive_coverage_94']:.1%} in-sample. "
        f"Mean log predictive density per held-out row: posterior {held['lpd_posterior']:.4f}, "
        f"Ridge's prediction with the same sigma {held['lpd_plug_in']:.4f}; paired difference "
        f"{held['lpd_difference']:+.4f} +- {held['lpd_difference_se']:.4f} (standard error). With "
        f"{held['n']} rows and {len(results['feature_names'])} coefficients the weights are "
        "well determined, so the predictive sd is almost sigma itself and the posterior's "
        "predictions score about the same as the plug-in's; the gap grows where the data are thin "
        "(few rows for many coefficients)."
    )


def _ridge_prediction(run: Run) -> np.ndarray:
    md = run.state["md"]
    return (
        ridge.SPEC.sklearn({"alpha": run.results["posterior"]["alpha"]}, md)
        .fit(md.X, md.y)
        .predict(md.X)
    )


def predictive_page(page: report.Page, results: dict) -> None:
    post = results["posterior"]
    page.heading("Correlation and prediction")
    hides = []
    if post["most_correlated"] is not None:
        a, b, r = post["most_correlated"]
        page.figure("correlation.png", "Left: the most correlated pair of coefficients; the point "
                    "estimate is one dot in a tilted cloud. Right: every posterior correlation.")  # fmt: skip
        hides.append(f"**Correlation.** w[{user(a)}] and w[{user(b)}] have posterior correlation "
                     f"{r:+.2f}: the data pin down a combination of them, not each one. No point "
                     "estimate can show this.")  # fmt: skip
    page.figure("predictive.png", f"Posterior predictive {intervals.PROB:.0%} intervals against Ridge's "
                "single prediction.")  # fmt: skip
    if (page.out / "ppc.png").is_file():
        page.heading("Predictive checks")
        ratio = post["prior_predictive_sd_over_sd_y"]
        verdict = ("narrower than the data: the prior is informative about the size of y" if ratio < 1
                   else "wider than the data without dwarfing them" if ratio < 10
                   else "far wider than the data: the prior says little about y")  # fmt: skip
        page.text(f"**Prior predictive** at the reference prior (tau = "
                  f"{post['prior_values']['prior_sd']:.4g}, sigma fixed, b0 held at mean(y) since its prior is "
                  f"flat): the sd of y it implies is {ratio:.2f} times the observed sd, {verdict}.")  # fmt: skip
        page.figure("prior_predictive.png", "Prior predictive check (az.plot_ppc_dist, group "
                    "prior_predictive): densities of data sets simulated from the prior.")  # fmt: skip
        page.figure("ppc.png", "Posterior predictive check (az.plot_ppc_dist): densities of replicated "
                    "data sets (blue) against the observed y (black). Read it for shape: a Normal "
                    "likelihood replicates symmetric data, so a skewed target shows here even when "
                    "every coefficient is right.")  # fmt: skip
        page.figure("loo_pit.png", "LOO-PIT (az.plot_loo_pit): the probability integral transform of each "
                    "observation under its leave-one-out predictive (PSIS), as an ECDF difference with its "
                    "simultaneous band; calibrated predictions stay inside the band.")  # fmt: skip
    page.heading("What else the point estimate hides")
    page.bullets([
        *hides,
        f"**Predictions.** Ridge predicts one number per row; the posterior predictive interval covers, in-sample, "
        f"{post['predictive_coverage_94']:.0%} of the observations at a nominal {intervals.PROB:.0%}.",
        "**Here, mode = mean.** The posterior is Gaussian, so Ridge also equals the posterior mean. That "
        "coincidence ends with any other likelihood or prior (see the logistic and lasso experiments).",
    ])  # fmt: skip


def card(results: dict) -> Card:
    return Card("ridge_path.png", (
        f"MAP = Ridge = closed form to **{max(results['max_rel_diff']):.1e}** over "
        f"{len(results['alphas'])} alphas; NUTS means within {results['posterior']['max_abs_z_vs_exact']:.1f} "
        "MCSE of the exact posterior."
    ))  # fmt: skip


EXPERIMENT = family.penalty_experiment(
    ridge.SPEC,
    title="Ridge regression is the MAP of a Gaussian prior",
    extra=(
        Section(
            f"NUTS along the path ({PATH_CHAINS} chains per alpha)",
            path_compute,
            path_figure,
            path_page,
        ),
        Section(
            "sigma unknown: MAP on the grid and NUTS at the reference",
            unknown_compute,
            None,
            unknown_page,
        ),
        Section(
            "posterior predictive and correlations",
            predictive_compute,
            predictive_figures,
            predictive_page,
        ),
        Section(
            f"held-out rows: {HELDOUT_FOLDS}-fold coverage and lpd",
            heldout_compute,
            None,
            heldout_page,
        ),  # fmt: skip
    ),
    settings=settings,
    card=card,
)
