"""Experiment ``lasso``: the Lasso is the MAP under a Laplace prior, and the Bayesian Lasso is the rest.

The generic family experiment (exact zeros of the MAP = sklearn along the whole path, the posterior
at LassoCV's alpha) plus Park & Casella's (2008) Bayesian Lasso on the diabetes data: posterior
medians and the suite's 94% HDIs beside OLS and the Lasso, as in their Figure 2 (their 95%
equal-tailed intervals are kept as a labelled extra column).

    python -m experiments lasso [--data FILE.csv --target COL] [--noise-sd SIGMA] [--lam LAMBDA]
"""

from __future__ import annotations

import argparse

import numpy as np

from experiments import common, intervals, report, verdicts
from experiments.family import penalty_experiment
from experiments.runner import Card, Run, Section
from experiments.style import COLORS, coefficient_label, name_ticks, plt, save
from models import lasso, ridge
from models.core.base import PRIOR_RANGE, InputError
from models.core.data import arrays, noise_estimate
from models.core.lazy import lazy
from models.inference.engines import PosteriorSampler, tuning_iterations

az = lazy("arviz")
optimize = lazy("scipy.optimize")
stats = lazy("scipy.stats")
linear_model = lazy("sklearn.linear_model")

ETI = 0.95  # Park & Casella's (2008) interval: 95% equal-tailed, an extra column beside the suite's


def options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--lam",
        type=common.positive_number,
        default=lasso.PARK_CASELLA_LAMBDA,
        help="Bayesian Lasso lambda (default 0.237, Park & Casella's choice for diabetes)",
    )


def validate(run: Run) -> None:
    """``--lam`` sets the Laplace scale sigma / lambda: its width factor 1 / lambda must lie in
    the range of every prior width (:data:`~models.core.base.PRIOR_RANGE`, which is symmetric
    under 1 / x, so lambda must lie in it too)."""
    if not PRIOR_RANGE[0] <= run.args.lam <= PRIOR_RANGE[1]:
        raise InputError(
            f"--lam {run.args.lam:g} gives a Laplace scale of sigma / {run.args.lam:g}: out of "
            f"range for a prior width (lambda must lie in [{PRIOR_RANGE[0]:g}, {PRIOR_RANGE[1]:g}])"
        )


def _lasso_fit(X: np.ndarray, y_centred: np.ndarray, alpha: float) -> np.ndarray:
    return (
        linear_model.Lasso(alpha=alpha, fit_intercept=False, tol=1e-12, max_iter=10**6)
        .fit(X, y_centred)
        .coef_
    )


# A joint mode depends on the variable sigma is measured in (a density's mode is not invariant
# under a change of variable). Per variable, the extra power of sigma its density carries over the
# density in log sigma (which is flat under p(sigma^2) ∝ 1/sigma^2): the density in sigma is the
# one in log sigma divided by sigma, the convention of the ridge page's MAP (no Jacobian).
MODE_SCALES = {"log sigma": 0, "sigma": 1}


def joint_mode(
    X: np.ndarray, y: np.ndarray, lam: float, scale: str = "log sigma"
) -> tuple[np.ndarray, float]:
    r"""Joint posterior mode (w, sigma) of the Bayesian Lasso, computed exactly by profiling sigma.

    In the model's own variables ``(w, log sigma)``, ``log sigma`` flat (``p(sigma^2) ∝
    1/sigma^2``), the log posterior is

        -n log sigma - ||yc - X w||^2 / (2 sigma^2) - p log sigma - (lambda / sigma) ||w||_1 + const;

    ``scale="sigma"`` takes the mode of the density in ``(w, sigma)`` instead, one more
    ``- log sigma`` (:data:`MODE_SCALES`). For fixed sigma the maximiser in w is
    ``Lasso(alpha = sigma lambda / n)`` (multiply by ``sigma^2 / n``), so a 1-D search over
    ``log sigma`` with an exact Lasso inside finds the mode. It is sparse, and its zero set depends
    on the convention through sigma; no posterior median or mean is sparse.
    """
    n, p = X.shape
    yc = y - y.mean()
    power = n + p + MODE_SCALES[scale]

    def neg_log_post(log_sigma: float) -> float:
        sigma = np.exp(log_sigma)
        w = _lasso_fit(X, yc, sigma * lam / n)
        resid = yc - X @ w
        return power * log_sigma + resid @ resid / (2 * sigma**2) + lam * np.abs(w).sum() / sigma

    centre = np.log(np.std(yc))
    best = optimize.minimize_scalar(
        neg_log_post, bounds=(centre - 6, centre + 1), method="bounded", options={"xatol": 1e-10}
    )
    sigma = float(np.exp(best.x))
    return _lasso_fit(X, yc, sigma * lam / n), sigma


def lasso_matching_l1(X: np.ndarray, y: np.ndarray, target_l1: float) -> tuple[np.ndarray, float]:
    """The Lasso estimate whose L1 norm equals ``target_l1`` (Park & Casella's comparison)."""
    yc = y - y.mean()
    top = lasso.alpha_max(X, y)
    ols_l1 = np.abs(linear_model.LinearRegression(fit_intercept=False).fit(X, yc).coef_).sum()
    if target_l1 >= ols_l1:
        return _lasso_fit(X, yc, 1e-8 * top), 1e-8 * top
    log_alpha = optimize.brentq(
        lambda la: np.abs(_lasso_fit(X, yc, np.exp(la))).sum() - target_l1,
        np.log(1e-8 * top),
        np.log(top),
        xtol=1e-12,
    )
    return _lasso_fit(X, yc, np.exp(log_alpha)), float(np.exp(log_alpha))


def bayesian_lasso_compute(run: Run) -> dict:
    """Sample Park & Casella's model; the ``bayesian_lasso`` key (medians, the suite's 94% HDIs,
    the paper's 95% ETIs, P(w > 0) and the sign verdicts, joint mode)."""
    X, y, names = run.data.X, run.data.y, run.data.feature_names
    lam = run.args.lam
    dt = PosteriorSampler(lasso.build_bayesian_lasso(arrays(X, y, names), lam=lam)).sample(
        draws=run.cfg["draws"], tune=tuning_iterations("bayesian_lasso"), chains=run.cfg["chains"],
        seed=run.seed + 1, target_accept=0.9,
    )  # fmt: skip
    w = dt["posterior"]["w"]
    median, mean = w.median(("chain", "draw")).values, w.mean(("chain", "draw")).values
    bounds = az.eti(dt, var_names=["w"], prob=ETI)["w"]
    low, high = bounds.sel(ci_bound="lower").values, bounds.sel(ci_bound="upper").values
    summary = intervals.summary(dt, ["w"])
    hdi_low, hdi_high = intervals.columns()
    prob_positive = (w > 0).mean(("chain", "draw")).values
    mode, mode_sigma = joint_mode(X, y, lam)
    sigma_scale_mode, sigma_scale_sigma = joint_mode(X, y, lam, scale="sigma")
    matched, matched_alpha = lasso_matching_l1(X, y, np.abs(median).sum())
    run.diagnose(
        report.sampling_diagnostics(f"Bayesian Lasso (lambda={lam:g})", dt, ["w", "log_sigma"])
    )
    run.posteriors["bayesian_lasso"] = dt
    return {
        "bayesian_lasso": {
            "lambda": lam, "feature_names": names, "median": median, "mean": mean,
            "hdi_94_low": summary[hdi_low].to_numpy(float), "hdi_94_high": summary[hdi_high].to_numpy(float),
            "eti_95_low": low, "eti_95_high": high, "draws": f"{w.sizes['chain']} x {w.sizes['draw']}",
            "prob_positive": prob_positive, "signs": verdicts.signs(names, prob_positive),
            "r_hat": summary["r_hat"].to_numpy(float), "ess_bulk": summary["ess_bulk"].to_numpy(float),
            "joint_mode": mode + 0.0, "joint_mode_sigma": mode_sigma,  # + 0.0: no -0.0 in the report
            "joint_mode_in_sigma": sigma_scale_mode + 0.0, "joint_mode_in_sigma_sigma": sigma_scale_sigma,
            "ols": linear_model.LinearRegression().fit(X, y).coef_,
            "lasso_matched_l1": matched, "lasso_matched_l1_alpha": matched_alpha,
        }
    }  # fmt: skip


def bayesian_lasso_figure(run: Run) -> None:
    bl, names = run.results["bayesian_lasso"], run.results["feature_names"]
    lam, matched_alpha = bl["lambda"], bl["lasso_matched_l1_alpha"]
    low, median, high, ols, matched, mode = (
        np.asarray(bl[k])
        for k in ("hdi_94_low", "median", "hdi_94_high", "ols", "lasso_matched_l1", "joint_mode")
    )
    lasso_cv = np.asarray(run.results["posterior"]["sklearn"])
    fig, ax = plt.subplots(figsize=(10, 4.8))
    index = np.arange(len(names))
    ax.vlines(index, low, high, color=COLORS["posterior"], lw=2,
              label=f"Bayesian Lasso {intervals.PROB:.0%} {intervals.KIND.upper()}")  # fmt: skip
    ax.plot(index, median, "o", mfc="white", mec=COLORS["posterior"], mew=2, ms=8,
            label="Bayesian Lasso median")  # fmt: skip
    ax.plot(index - 0.24, ols, "s", color=COLORS["OLS"], ms=6, label="OLS")
    ax.plot(index + 0.12, matched, "x", color=COLORS["sklearn"], ms=9, mew=2,
            label=f"Lasso, L1 norm = median's (alpha={matched_alpha:.3g})")  # fmt: skip
    ax.plot(index + 0.24, lasso_cv, "+", color=COLORS["sklearn"], ms=11, mew=2,
            label="Lasso, LassoCV alpha")  # fmt: skip
    ax.plot(index - 0.12, mode, "D", color=COLORS["MAP"], ms=4, label="joint posterior mode (MAP)")
    ax.axhline(0, color="k", lw=0.6)
    name_ticks(ax, "x", index, names, 12, rotation=30 if max(map(len, names)) > 4 else 0)
    ax.set_xlabel("variable")
    ax.set_ylabel(coefficient_label("gaussian"))
    ax.set_title(
        f"Bayesian Lasso (lambda = {lam:g}) beside OLS and the Lasso (cf. Park & Casella 2008, Fig. 2)"
    )
    ax.legend(fontsize=8, ncol=2)
    save(fig, run.out / "bayesian_lasso.png")


def sparsity_heading(mode_zeros: int, median_zeros: int) -> str:
    """The bullet's claim, from the counts: the mode has exact zeros and the posterior medians
    (draws of a continuous posterior) do not, or neither does, or both do."""
    if mode_zeros and not median_zeros:
        return "**The mode is sparse, the posterior is not.**"
    if not mode_zeros and not median_zeros:
        return "**Here neither the mode nor the posterior is sparse.**"
    return "**The mode and the posterior medians both have exact zeros.**"


def bayesian_lasso_page(page: report.Page, results: dict) -> None:
    bl, names = results["bayesian_lasso"], results["feature_names"]
    median, mean, mode, ols = (np.asarray(bl[k]) for k in ("median", "mean", "joint_mode", "ols"))
    page.heading("The Bayesian Lasso (Park & Casella 2008)")
    page.text(
        f"Model: centred y ~ Normal(X w, sigma), w_j | sigma ~ Laplace(0, sigma / lambda), "
        f"p(sigma^2) proportional to 1 / sigma^2, lambda = {bl['lambda']:g}. NUTS draws "
        f"{bl['draws']}. Intervals are the suite's {intervals.PROB:.0%} {intervals.KIND.upper()}; "
        f"the paper's {ETI:.0%} equal-tailed intervals (Park & Casella 2008 used {ETI:.0%}) are the "
        "columns marked (paper), for comparison with its Figure 2."
    )
    eti = [f"{ETI:.0%} ETI low (paper)", f"{ETI:.0%} ETI high (paper)"]
    page.table(
        ["variable", "median", "mean", *intervals.labels(), "P(w > 0)", *eti, "joint MAP", "OLS",
         "Lasso (matched L1)", "r_hat", "ESS bulk"],
        [[n, *row] for n, *row in zip(
            names, median, mean, bl["hdi_94_low"], bl["hdi_94_high"], bl["prob_positive"],
            bl["eti_95_low"], bl["eti_95_high"], mode, ols, bl["lasso_matched_l1"], bl["r_hat"],
            bl["ess_bulk"], strict=True)],
        [r > report.R_HAT_MAX for r in bl["r_hat"]],
    )  # fmt: skip
    page.figure("bayesian_lasso.png", f"Posterior medians (circles) with {intervals.PROB:.0%} "
                f"{intervals.KIND.upper()}s, OLS (squares), the Lasso with the same L1 norm as the "
                "median (x) and at LassoCV's alpha (+), and the joint posterior mode (diamonds).",
                observe=bl["signs"])  # fmt: skip
    in_sigma = np.asarray(bl["joint_mode_in_sigma"])
    page.bullets([
        f"{sparsity_heading(int(np.sum(mode == 0)), int(np.sum(median == 0)))} The Bayesian Lasso's joint posterior mode "
        f"(exact: a 1-D search over log sigma with a Lasso inside) has {int(np.sum(mode == 0))} of "
        f"{len(names)} coefficients exactly zero; {int(np.sum(median == 0))} posterior medians and "
        f"{int(np.sum(mean == 0))} posterior means are.",
        f"**Which mode: the convention.** A joint mode depends on the variable sigma is measured "
        f"in. This page's is the mode in the model's own variables (w, log sigma), log sigma flat "
        f"(sigma = {bl['joint_mode_sigma']:.4g}). The mode of the density in (w, sigma), the "
        f"convention of the ridge page's MAP (no Jacobian), has sigma = "
        f"{bl['joint_mode_in_sigma_sigma']:.4g} and {int(np.sum(in_sigma == 0))} zeros: the "
        "Lasso inside runs at alpha = sigma lambda / n, so the zero set depends on the convention"
        + (" (the same here)." if np.array_equal(mode == 0, in_sigma == 0)
           else " (it differs here)."),
        f"**Shrinkage in between.** The medians' L1 norm is {np.abs(median).sum():.4g} against "
        f"{np.abs(ols).sum():.4g} for OLS; which signs the posterior settles is under the figure.",
    ])  # fmt: skip


def forest_compute(run: Run) -> dict:
    """Each coefficient's point estimates and 94% HDIs side by side: OLS; Ridge at RidgeCV's alpha
    (= its MAP) with the exact Gaussian posterior; the Lasso at LassoCV's alpha (= its MAP) with
    the NUTS posterior of its Laplace model; the Bayesian Lasso (NUTS). Each posterior's sign
    verdicts from P(w > 0) (the Ridge posterior's exactly: Phi(mean / sd))."""
    X, y, names = run.data.X, run.data.y, run.data.feature_names
    sigma = noise_estimate(X, y)
    alpha = ridge.reference_penalty(arrays(X, y, names))["alpha"]
    mean, cov = ridge.exact_posterior(X, y, ridge.alpha_to_prior_sd(alpha, sigma), sigma)
    sd = np.sqrt(np.diag(cov))[1:]
    post = run.results["posterior"]  # the Lasso's own posterior at LassoCV's alpha (NUTS)
    bl = run.results["bayesian_lasso"]
    rows = {  # (low, high, P(w > 0))
        "ridge_posterior": (*intervals.gaussian(mean[1:], sd), stats.norm.cdf(mean[1:] / sd)),
        "lasso_posterior": (post["hdi_94_low"], post["hdi_94_high"], post["prob_positive"]),
        "bayesian_lasso": (bl["hdi_94_low"], bl["hdi_94_high"], bl["prob_positive"]),
    }
    return {"forest": {
        "ridge_alpha": alpha, "ridge_map": mean[1:], "ols": bl["ols"], "lasso_map": post["map"],
        **{f"{key}_hdi_94_low": low for key, (low, _, _) in rows.items()},
        **{f"{key}_hdi_94_high": high for key, (_, high, _) in rows.items()},
        **{f"{key}_signs": verdicts.signs(names, p) for key, (_, _, p) in rows.items()},
    }}  # fmt: skip


FOREST = (  # (key, label, colour, point key, marker)
    ("ridge_posterior", "Ridge posterior (exact) and Ridge = its MAP", COLORS["exact"], "ridge_map", "o"),
    ("lasso_posterior", "Lasso posterior (NUTS) and Lasso = its MAP", COLORS["posterior"], "lasso_map", "x"),
    ("bayesian_lasso", "Bayesian Lasso (NUTS), no point estimate", COLORS["Laplace"], None, None),
)  # fmt: skip


def forest_figure(run: Run) -> None:
    forest, names = run.results["forest"], run.results["feature_names"]
    fig, ax = plt.subplots(figsize=(9, 0.55 * len(names) + 1.6))
    rows = np.arange(len(names))[::-1]
    for offset, (key, label, color, point, marker) in zip((0.22, 0.0, -0.22), FOREST, strict=True):
        ax.hlines(rows + offset, forest[f"{key}_hdi_94_low"], forest[f"{key}_hdi_94_high"],
                  color=color, lw=2.5, label=f"{label}: {intervals.PROB:.0%} HDI")  # fmt: skip
        if point:
            ax.plot(forest[point], rows + offset, marker, color=COLORS["MAP"], ms=6, mew=2)
    ax.plot(forest["ols"], rows, "s", mfc="none", mec=COLORS["OLS"], ms=8, mew=1.5, label="OLS")
    ax.axvline(0, color="k", lw=0.6)
    name_ticks(ax, "y", rows, names)
    ax.set_xlabel(coefficient_label("gaussian"))
    ax.set_title("One forest: OLS, the two MAPs and three posteriors of the same coefficients")
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=2)
    save(fig, run.out / "forest.png")


def forest_page(page: report.Page, results: dict) -> None:
    forest = results["forest"]
    page.heading("OLS, Ridge, Lasso and their posteriors in one forest")
    page.figure("forest.png", f"Per coefficient: OLS (open squares); Ridge at RidgeCV's alpha = "
                f"{forest['ridge_alpha']:.3g} (black dot) inside its exact posterior's "
                f"{intervals.PROB:.0%} HDI (green); the Lasso at LassoCV's alpha (black x) inside "
                f"its Laplace model's posterior (blue, NUTS); the Bayesian Lasso (orange, NUTS). "
                "Ridge's dot and the Lasso's x are the joint posterior modes of the models whose "
                "marginal intervals are drawn around them (a joint mode need not be a marginal's "
                "mode: a Lasso zero sits inside an interval whose median is not 0); each interval "
                "is what that point leaves out.", observe=_forest_observation(results))  # fmt: skip


def _forest_observation(results: dict) -> str:
    """How many signs each posterior settles (P(w > 0) or P(w < 0) at least the settled bound),
    against the Lasso's exact zeros."""
    forest, n = results["forest"], len(results["feature_names"])
    settled = [len(forest[f"{key}_signs"]["settled"]) for key, *_ in FOREST]
    bound = forest["bayesian_lasso_signs"]["threshold"][1]
    return (f"Settled signs (P(w > 0) or P(w < 0) ≥ {bound}): Ridge posterior {settled[0]}, Lasso "
            f"posterior {settled[1]}, Bayesian Lasso {settled[2]} of {n}; the Lasso itself sets "
            f"{int(np.sum(np.asarray(forest['lasso_map']) == 0))} to exactly zero.")  # fmt: skip


def card(results: dict) -> Card:
    bl, zeros = results["bayesian_lasso"], results["same_zero_set"]
    return Card("bayesian_lasso.png", (
        f"Same exact zeros as sklearn at {sum(zeros)}/{len(zeros)} alphas (max rel diff "
        f"**{max(results['max_rel_diff']):.1e}**). Bayesian Lasso: "
        f"{int(np.sum(np.asarray(bl['joint_mode']) == 0))} zeros in the joint mode, "
        f"**{int(np.sum(np.asarray(bl['median']) == 0))}** among the posterior medians."
    ))  # fmt: skip


EXPERIMENT = penalty_experiment(
    lasso.SPEC,
    title="The Lasso is the MAP of a Laplace prior; the Bayesian Lasso is the rest",
    extra=(
        Section(
            "the Bayesian Lasso of Park & Casella",
            bayesian_lasso_compute,
            bayesian_lasso_figure,
            bayesian_lasso_page,
        ),
        Section(
            "one forest: OLS, Ridge, Lasso and three posteriors",
            forest_compute,
            forest_figure,
            forest_page,
        ),  # fmt: skip
    ),
    extra_options=options,
    card=card,
    validate=validate,
)
