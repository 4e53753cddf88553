"""Experiment ``ridge``: Ridge regression is the MAP of a Gaussian-prior model, and only its mode.

Claim, data, model, checks, figures, footer: the page reads like a short paper.

    python -m experiments ridge [--data FILE.csv --target COL] [--alpha A | --prior-sd TAU]
                                [--noise-sd SIGMA] [--out DIR] [--seed N] [--quick]
"""

from __future__ import annotations

import argparse

import arviz as az
import matplotlib.pyplot as plt
import numpy as np
import pymc as pm
from sklearn.linear_model import Ridge, RidgeCV

from experiments import common, report
from experiments.output import atomic_output_dir
from experiments.style import (
    COLORS,
    LINESTYLES,
    coefficient_label,
    coefficient_panels,
    legend_below,
    posterior_panel,
    save,
)
from models import ridge
from models.base import Context, positive
from models.inference import MAPSolver, PosteriorSampler

NAME = "ridge"
HDI = 0.94
PATH_CHAINS = 2  # chains per alpha in the NUTS sweep along the path
ALPHA_RANGE = (1e-4, 1e6)


def parser() -> argparse.ArgumentParser:
    p = common.base_parser(NAME, "Ridge = MAP under a Normal prior, and the posterior it hides.")
    group = p.add_mutually_exclusive_group()
    group.add_argument("--alpha", type=float, help="reference alpha (default: RidgeCV's choice)")
    group.add_argument("--prior-sd", type=float, help="reference prior width tau instead of alpha")
    p.add_argument("--noise-sd", type=float,
                   help="fixed noise sd sigma (default: least-squares residual sd)")  # fmt: skip
    return p


def settings(args: argparse.Namespace) -> dict:
    """Grid size and sampler budget; ``--quick`` keeps tests short."""
    if args.quick:
        return {"n_alphas": 25, "path_draws": 300, "draws": 500, "tune": 500, "chains": 2}
    return {"n_alphas": 31, "path_draws": 1000, "draws": 2500, "tune": 1000, "chains": 4}


def posterior_table(dt, exact_mean, exact_sd, names) -> tuple[dict, list[list], list[bool]]:
    """ArviZ summary of (intercept, w) beside the exact answer, with z-scores of the mean error."""
    post = dt["posterior"].dataset
    summary = az.summary(
        dt, var_names=["intercept", "w"], ci_kind="hdi", ci_prob=HDI, round_to="none"
    )
    draws = np.column_stack([post["intercept"].values.ravel(),
                             post["w"].values.reshape(-1, len(names))])  # fmt: skip
    mean, sd = summary["mean"].to_numpy(float), summary["sd"].to_numpy(float)
    mcse = summary["mcse_mean"].to_numpy(float)
    z = (mean - exact_mean) / mcse
    rows = [
        [label, m, s, lo, hi, em, es, zz, rh, eb]
        for label, m, s, lo, hi, em, es, zz, rh, eb in zip(
            ["intercept", *names], mean, sd, summary[f"hdi{HDI * 100:.0f}_lb"].to_numpy(float),
            summary[f"hdi{HDI * 100:.0f}_ub"].to_numpy(float), exact_mean, exact_sd, z,
            summary["r_hat"].to_numpy(float), summary["ess_bulk"].to_numpy(float), strict=True,
        )
    ]  # fmt: skip
    stats = {
        "mean": mean[1:], "sd": sd[1:], "hdi_94_low": summary[f"hdi{HDI * 100:.0f}_lb"].to_numpy(float)[1:],
        "hdi_94_high": summary[f"hdi{HDI * 100:.0f}_ub"].to_numpy(float)[1:],
        "r_hat": summary["r_hat"].to_numpy(float)[1:], "ess_bulk": summary["ess_bulk"].to_numpy(float)[1:],
        "intercept_mean": mean[0], "max_abs_z_vs_exact": float(np.max(np.abs(z))),
        "correlation": np.corrcoef(draws[:, 1:], rowvar=False),
    }  # fmt: skip
    return stats, rows, [abs(v) > 4 for v in z]


def run(argv: list[str]) -> None:
    args = parser().parse_args(argv)
    cfg = settings(args)
    data = common.load_data(args, "diabetes")
    X, y, names = data.X, data.y, data.feature_names
    noise_sd = (
        positive(args.noise_sd, "--noise-sd")
        if args.noise_sd is not None
        else ridge.ols_noise_sd(X, y)
    )
    alphas = np.logspace(np.log10(ALPHA_RANGE[0]), np.log10(ALPHA_RANGE[1]), cfg["n_alphas"])
    if args.prior_sd is not None:
        ref_alpha, ref_source = (
            ridge.prior_sd_to_alpha(positive(args.prior_sd, "--prior-sd"), noise_sd),
            "--prior-sd",
        )
    elif args.alpha is not None:
        ref_alpha, ref_source = positive(args.alpha, "--alpha"), "--alpha"
    else:
        ref_alpha, ref_source = (
            float(RidgeCV(alphas=alphas).fit(X, y).alpha_),
            "RidgeCV (efficient LOO)",
        )
    ref_tau = ridge.alpha_to_prior_sd(ref_alpha, noise_sd)
    progress = common.Progress(NAME, 7, args.quiet)
    rng_seed = args.seed

    with atomic_output_dir(args.out, NAME) as out:
        progress("compiling the fixed-sigma and unknown-sigma models (once each)")
        model = ridge.build(X, y, names, noise="fixed", noise_sd=noise_sd)
        model_unknown = ridge.build(X, y, names, noise="unknown")
        solver, solver_unknown = MAPSolver(model), MAPSolver(model_unknown)
        sampler = PosteriorSampler(model)

        progress(f"MAP vs scikit-learn vs closed form on {len(alphas)} alphas")
        grid = {"sklearn": [], "map": [], "exact": [], "map_unknown_noise": [], "sigma_map": []}
        sk_intercepts, map_intercepts = [], []
        for alpha in alphas:
            sk = Ridge(alpha=alpha, solver="cholesky").fit(X, y)
            fit = solver.solve(
                ridge.SPEC.prior_values({"alpha": alpha}, Context(X.shape[0], noise_sd))
            )
            fit_unknown = solver_unknown.solve({"alpha": alpha})
            grid["sklearn"].append(sk.coef_)
            grid["map"].append(fit.point["w"])
            grid["exact"].append(ridge.closed_form(X, y, alpha)[1])
            grid["map_unknown_noise"].append(fit_unknown.point["w"])
            grid["sigma_map"].append(float(fit_unknown.point["sigma"]))
            sk_intercepts.append(sk.intercept_)
            map_intercepts.append(float(fit.point["intercept"]))
        grid = {k: np.asarray(v) for k, v in grid.items()}
        diffs = {
            "map_vs_sklearn": [common.rel_linf(m, s) for m, s in zip(grid["map"], grid["sklearn"], strict=True)],
            "exact_vs_sklearn": [common.rel_linf(e, s) for e, s in zip(grid["exact"], grid["sklearn"], strict=True)],
            "map_vs_exact": [common.rel_linf(m, e) for m, e in zip(grid["map"], grid["exact"], strict=True)],
            "map_unknown_noise_vs_sklearn": [
                common.rel_linf(m, s) for m, s in zip(grid["map_unknown_noise"], grid["sklearn"], strict=True)
            ],
        }  # fmt: skip
        max_rel_diff = np.max(
            [diffs["map_vs_sklearn"], diffs["exact_vs_sklearn"], diffs["map_vs_exact"]], axis=0
        )

        progress(f"NUTS along the path ({len(alphas)} refits of one compiled model)")
        path = {"mean": [], "low": [], "high": [], "divergences": 0, "max_r_hat": 0.0}
        for k, alpha in enumerate(alphas):
            dt = sampler.sample(
                {"prior_sd": ridge.alpha_to_prior_sd(alpha, noise_sd)}, draws=cfg["path_draws"],
                tune=cfg["path_draws"], chains=PATH_CHAINS, seed=rng_seed + k,
            )  # fmt: skip
            w = dt["posterior"]["w"]
            hdi = az.hdi(dt, var_names=["w"], prob=HDI)["w"]
            path["mean"].append(w.mean(("chain", "draw")).values)
            path["low"].append(hdi.sel(ci_bound="lower").values)
            path["high"].append(hdi.sel(ci_bound="upper").values)
            path["divergences"] += int(dt["sample_stats"]["diverging"].sum())
            path["max_r_hat"] = max(
                path["max_r_hat"], float(az.rhat(dt, var_names=["w"])["w"].max())
            )

        progress(f"NUTS at the reference alpha = {ref_alpha:.4g} (sigma fixed and sigma unknown)")
        dt = sampler.sample({"prior_sd": ref_tau}, draws=cfg["draws"], tune=cfg["tune"],
                            chains=cfg["chains"], seed=rng_seed)  # fmt: skip
        with model:
            pm.set_data({"prior_sd": ref_tau})
            dt = pm.sample_posterior_predictive(
                dt, freeze_vars=["intercept", "w"], random_seed=rng_seed, progressbar=False,
                extend_inferencedata=True,
            )  # fmt: skip
        sampler_unknown = PosteriorSampler(model_unknown)
        dt_unknown = sampler_unknown.sample({"alpha": ref_alpha}, draws=cfg["draws"], tune=cfg["tune"],
                                            chains=cfg["chains"], seed=rng_seed + 1000)  # fmt: skip
        exact_mean, exact_cov = ridge.exact_posterior(X, y, ref_tau, noise_sd)
        exact_sd = np.sqrt(np.diag(exact_cov))
        post, post_rows, post_flags = posterior_table(dt, exact_mean, exact_sd, names)
        diag = [
            report.sampling_diagnostics("sigma fixed (reference alpha)", dt, ["intercept", "w"]),
            report.sampling_diagnostics("sigma unknown (reference alpha)", dt_unknown, ["intercept", "w", "sigma"]),
        ]  # fmt: skip
        ref_sk = Ridge(alpha=ref_alpha, solver="cholesky").fit(X, y)
        ref_map = solver.solve({"prior_sd": ref_tau}).point

        progress("figures")
        post.update(figures(out, names, alphas, grid, path, ref_alpha, dt, ref_sk, ref_map, post, X, y,
                            exact_mean, exact_sd))  # fmt: skip

        progress("results.json and the saved posterior")
        dt.to_netcdf(out / "posterior.nc")
        dt_unknown.to_netcdf(out / "posterior_unknown_noise.nc")
        results = {
            **data.provenance(),
            "model": ridge.SPEC.name,
            "objective": ridge.OBJECTIVE,
            "prior": ridge.PRIOR,
            "mapping": ridge.MAPPING,
            "noise_sd": noise_sd,
            "noise_sd_source": "--noise-sd" if args.noise_sd is not None else "least-squares residual sd",
            "alphas": alphas,
            "prior_sd": [ridge.alpha_to_prior_sd(a, noise_sd) for a in alphas],
            "sklearn_coef": grid["sklearn"],
            "map_coef": grid["map"],
            "exact_coef": grid["exact"],
            "map_coef_unknown_noise": grid["map_unknown_noise"],
            "sigma_map_unknown_noise": grid["sigma_map"],
            "sklearn_intercept": sk_intercepts,
            "map_intercept": map_intercepts,
            "max_rel_diff": max_rel_diff,
            "rel_diff": diffs,
            "reference_alpha_source": ref_source,
            "posterior": {
                "alpha": ref_alpha,
                "prior_sd": ref_tau,
                "noise": "fixed",
                "noise_sd": noise_sd,
                **{k: post[k] for k in ("mean", "sd", "hdi_94_low", "hdi_94_high", "r_hat", "ess_bulk")},
                "exact_mean": exact_mean[1:],
                "exact_sd": exact_sd[1:],
                "max_abs_z_vs_exact": post["max_abs_z_vs_exact"],
                "correlation": post["correlation"],
                "predictive_coverage_94": post["predictive_coverage"],
                "most_correlated": post["most_correlated"],
            },
            "posterior_unknown_noise": unknown_noise_summary(dt_unknown),
            "path_posterior": {"mean": path["mean"], "hdi_94_low": path["low"], "hdi_94_high": path["high"],
                               "divergences": path["divergences"], "max_r_hat": path["max_r_hat"]},
            "diagnostics": diag,
            "settings": {**cfg, "seed": args.seed},
        }  # fmt: skip
        common.write_json(out / "results.json", results)

        progress("report page")
        write_page(
            out, results, post_rows, post_flags, diag, common.provenance(args.seed, [NAME, *argv])
        )


def unknown_noise_summary(dt) -> dict:
    summary = az.summary(dt, var_names=["sigma", "w"], ci_kind="hdi", ci_prob=HDI, round_to="none")
    return {
        "mean": summary["mean"].to_numpy(float), "sd": summary["sd"].to_numpy(float),
        "labels": list(summary.index), "r_hat": summary["r_hat"].to_numpy(float),
        "ess_bulk": summary["ess_bulk"].to_numpy(float),
    }  # fmt: skip


def figures(
    out, names, alphas, grid, path, ref_alpha, dt, ref_sk, ref_map, post, X, y, exact_mean, exact_sd
):
    """Write the four figures of the page."""
    p = len(names)
    # 1. The ridge path with the posterior band.
    fig, axes, ncols = coefficient_panels(p, 2.6, sharex=True)
    mean, low, high = (np.asarray(path[k]) for k in ("mean", "low", "high"))
    for j, ax in enumerate(axes):
        ax.fill_between(alphas, low[:, j], high[:, j], color=COLORS["posterior"], alpha=0.25,
                        label="posterior 94% HDI (NUTS)")  # fmt: skip
        ax.plot(alphas, mean[:, j], color=COLORS["posterior"], label="posterior mean (NUTS)")
        ax.plot(
            alphas,
            grid["sklearn"][:, j],
            LINESTYLES["sklearn"],
            color=COLORS["sklearn"],
            label="sklearn Ridge",
        )
        ax.plot(alphas, grid["map"][:, j], "o", ms=2.5, color=COLORS["MAP"], label="PyMC MAP")
        ax.axvline(ref_alpha, color="0.5", lw=0.8, label="reference alpha")
        ax.axhline(0, color="0.3", lw=0.5)
        ax.set_xscale("log")
        ax.set_title(names[j])
        if j >= p - ncols:
            ax.set_xlabel("alpha = sigma^2 / tau^2")
    fig.supylabel(coefficient_label("gaussian"))
    legend_below(fig, axes[0], ncol=5)
    fig.suptitle(
        "Ridge path: sklearn, PyMC MAP and the posterior band (one compiled model, all alphas)"
    )
    save(fig, out / "ridge_path.png")

    # 2. Each coefficient's posterior with MAP and sklearn as reference lines.
    draws = dt["posterior"]["w"].values.reshape(-1, p)
    fig, axes, _ = coefficient_panels(p, 2.5)
    for j, ax in enumerate(axes):
        posterior_panel(ax, draws[:, j], ref_map["w"][j], ref_sk.coef_[j], names[j], bins=50)
        grid_x = np.linspace(draws[:, j].min(), draws[:, j].max(), 200)
        m, s = exact_mean[j + 1], exact_sd[j + 1]
        ax.plot(grid_x, np.exp(-0.5 * ((grid_x - m) / s) ** 2) / (s * np.sqrt(2 * np.pi)),
                color=COLORS["exact"], label="exact posterior")  # fmt: skip
    fig.supxlabel(coefficient_label("gaussian"))
    fig.supylabel("posterior density")
    legend_below(fig, axes[0], ncol=4)
    fig.suptitle(
        f"Posterior of each coefficient at alpha = {ref_alpha:.4g}: the estimate is one point of it"
    )
    save(fig, out / "posterior_densities.png")

    # 3. The most correlated pair, and the whole correlation matrix.
    corr = post["correlation"]
    off = np.abs(corr - np.eye(p))
    a, b = np.unravel_index(np.argmax(off), off.shape)
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(12, 5))
    ax.scatter(
        draws[:, a],
        draws[:, b],
        s=3,
        alpha=0.25,
        color=COLORS["posterior"],
        label="posterior draws",
    )
    cov = np.asarray([[exact_sd[a + 1] ** 2, 0], [0, exact_sd[b + 1] ** 2]])
    cov[0, 1] = cov[1, 0] = corr[a, b] * exact_sd[a + 1] * exact_sd[b + 1]
    theta = np.linspace(0, 2 * np.pi, 200)
    radius = np.sqrt(-2 * np.log(1 - HDI))
    ellipse = np.linalg.cholesky(cov) @ np.vstack([np.cos(theta), np.sin(theta)]) * radius
    ax.plot(exact_mean[a + 1] + ellipse[0], exact_mean[b + 1] + ellipse[1], color=COLORS["exact"],
            label="exact 94% region")  # fmt: skip
    ax.plot(
        ref_map["w"][a], ref_map["w"][b], "x", ms=12, mew=3, color=COLORS["MAP"], label="PyMC MAP"
    )
    ax.plot(
        ref_sk.coef_[a],
        ref_sk.coef_[b],
        "+",
        ms=16,
        mew=2,
        color=COLORS["sklearn"],
        label="sklearn Ridge",
    )
    ax.set_xlabel(coefficient_label("gaussian", f"w[{names[a]}]"))
    ax.set_ylabel(coefficient_label("gaussian", f"w[{names[b]}]"))
    ax.set_title(f"{names[a]} and {names[b]}: posterior correlation {corr[a, b]:+.2f}")
    ax.legend(fontsize=8)
    image = ax2.imshow(corr, cmap="RdBu_r", vmin=-1, vmax=1)
    ax2.set_xticks(range(p), names, rotation=90)
    ax2.set_yticks(range(p), names)
    ax2.grid(False)
    ax2.set_title("posterior correlation of the coefficients")
    fig.colorbar(image, ax=ax2, label="correlation")
    save(fig, out / "correlation.png")

    # 4. Posterior predictive intervals against the single Ridge prediction.
    pred = dt["posterior_predictive"]["y"].values.reshape(-1, len(y))
    low, high = np.quantile(pred, [(1 - HDI) / 2, (1 + HDI) / 2], axis=0)
    ridge_pred = ref_sk.predict(X)
    order = np.argsort(ridge_pred)
    fig, ax = plt.subplots(figsize=(11, 4.5))
    rank = np.arange(len(y))
    ax.fill_between(rank, low[order], high[order], color=COLORS["posterior"], alpha=0.25,
                    label="94% posterior predictive interval")  # fmt: skip
    ax.plot(rank, y[order], ".", ms=4, color=COLORS["data"], label="observed")
    ax.plot(
        rank,
        ridge_pred[order],
        LINESTYLES["sklearn"],
        color=COLORS["sklearn"],
        label="sklearn Ridge prediction",
    )
    coverage = float(np.mean((y >= low) & (y <= high)))
    ax.set_xlabel("observation, sorted by the Ridge prediction")
    ax.set_ylabel("target (original units)")
    ax.set_title(
        f"Predictions: Ridge gives a line, the posterior an interval ({coverage:.0%} of observations inside)"
    )
    ax.legend(fontsize=8)
    save(fig, out / "predictive.png")
    return {
        "predictive_coverage": coverage,
        "most_correlated": (names[a], names[b], float(corr[a, b])),
    }


def write_page(out, results, post_rows, post_flags, diag, prov) -> None:
    """The experiment page, HTML and Markdown."""
    names = results["feature_names"]
    post = results["posterior"]
    alphas = results["alphas"]
    page = report.Page("Ridge regression is the MAP of a Gaussian prior", out)
    page.claim(
        "Ridge regression's estimate is exactly the mode of a Bayesian posterior with a Normal prior on "
        "the weights, and a penalty alpha is a prior width: alpha = sigma^2 / tau^2.",
        "Ridge:     minimise ||y - b0 - Xw||^2 + alpha ||w||^2\n"
        "Bayes:     y ~ Normal(b0 + Xw, sigma),  w_j ~ Normal(0, tau),  b0 flat\n"
        "-log post = ||y - b0 - Xw||^2 / (2 sigma^2) + ||w||^2 / (2 tau^2) + const\n"
        "          = (Ridge objective) / (2 sigma^2)   when   alpha = sigma^2 / tau^2",
    )
    page.heading("Data and model")
    page.text(
        f"Data: <code>{results['data_source']}</code>, {results['n_obs']} rows, {len(names)} features "
        f"({', '.join(names)}); target <i>{results['target']}</i>. {results['data_note']}."
    )
    page.text(
        f"Noise sd sigma = {results['noise_sd']:.4g} ({results['noise_sd_source']}), held fixed: the "
        "model is then exactly conjugate and its posterior is known in closed form. A second model "
        "treats sigma as unknown (HalfNormal prior) with w | sigma ~ Normal(0, sigma / sqrt(alpha)), "
        "whose joint MAP of w is Ridge(alpha) too."
    )
    page.heading("Check 1: the MAP is Ridge, to solver precision")
    page.text(
        f"For {len(alphas)} values of alpha log-spaced over [{alphas[0]:g}, {alphas[-1]:g}]: "
        "scikit-learn's Ridge (Cholesky), the closed form (SVD of the centred design), and the PyMC "
        "model's posterior mode (exact Newton on the compiled log-density, one compilation for the whole "
        "grid). Differences are relative L-inf: max|a - b| / max|b| over the coefficients."
    )
    rd = results["rel_diff"]
    rows = [
        [f"{a:.3g}", f"{t:.4g}", x, y_, z, u]
        for a, t, x, y_, z, u in zip(alphas, results["prior_sd"], rd["map_vs_sklearn"], rd["exact_vs_sklearn"],
                                     rd["map_vs_exact"], rd["map_unknown_noise_vs_sklearn"], strict=True)
    ]  # fmt: skip
    worst = max(max(v) for v in rd.values())
    page.table(
        ["alpha", "tau", "MAP vs sklearn", "closed form vs sklearn", "MAP vs closed form",
         "MAP (sigma unknown) vs sklearn"], rows, [max(r[2:]) > 1e-8 for r in rows],
    )  # fmt: skip
    page.text(
        f"Largest difference anywhere on the grid: <b>{worst:.2e}</b> (the acceptance bound is 1e-8)."
    )
    page.figure("ridge_path.png", "Coefficient paths. Red dashes: sklearn; black dots: PyMC MAP (on top of "
                "each other); blue: posterior mean and 94% HDI from NUTS at every alpha.")  # fmt: skip
    page.heading(f"Check 2: the full posterior at alpha = {post['alpha']:.4g}")
    page.text(
        f"Reference alpha from {results['reference_alpha_source']}, i.e. prior width tau = "
        f"{post['prior_sd']:.4g}. NUTS (nutpie) against the exact Gaussian posterior; z is the error of the "
        "posterior mean in units of its Monte Carlo standard error (|z| > 4 is flagged)."
    )
    page.table(["coefficient", "mean", "sd", "hdi 3%", "hdi 97%", "exact mean", "exact sd", "z", "r_hat",
                "ESS bulk"], post_rows, post_flags)  # fmt: skip
    page.figure("posterior_densities.png", "Posterior of each coefficient (blue histogram: NUTS; green: exact "
                "density) with the PyMC MAP (black dotted) and sklearn's estimate (red dashed).")  # fmt: skip
    page.figure("correlation.png", "Left: the most correlated pair of coefficients; the point estimate "
                "is one dot in a tilted cloud. Right: every posterior correlation.")  # fmt: skip
    page.figure(
        "predictive.png",
        f"Posterior predictive {HDI:.0%} intervals against Ridge's single prediction.",
    )
    page.heading("Sampling diagnostics")
    page.diagnostics(diag)
    pp = results["path_posterior"]
    page.text(f"Path sweep ({len(alphas)} NUTS refits, {PATH_CHAINS} chains each): {pp['divergences']} divergences in "
              f"total, worst r_hat {pp['max_r_hat']:.3f}.")  # fmt: skip
    page.heading("What the point estimate hides")
    a, b, r = post["most_correlated"]
    unsure = [
        n
        for n, lo, hi in zip(names, post["hdi_94_low"], post["hdi_94_high"], strict=True)
        if lo < 0 < hi
    ]
    page.bullets([
        f"<b>Uncertainty.</b> Each coefficient comes with a posterior sd; the widest is "
        f"{names[int(np.argmax(post['sd']))]} (sd {max(post['sd']):.3g}).",
        f"<b>Sign uncertainty.</b> The 94% HDI of {len(unsure)} of {len(names)} coefficients contains zero "
        f"({', '.join(unsure) or 'none'}): Ridge reports a value, but the data cannot tell their sign.",
        f"<b>Correlation.</b> w[{a}] and w[{b}] have posterior correlation {r:+.2f}: the data pin down a "
        "combination of them, not each one. No point estimate can show this.",
        f"<b>Predictions.</b> Ridge predicts one number per patient; the posterior predictive interval "
        f"covers {post['predictive_coverage_94']:.0%} of the observations at a nominal 94%.",
        "<b>Here, mode = mean.</b> The posterior is Gaussian, so Ridge also equals the posterior mean. "
        "That coincidence ends with any other likelihood or prior (see the logistic and lasso experiments).",
    ])  # fmt: skip
    page.heading("Load the posterior yourself")
    page.code('import arviz as az\n\ndt = az.from_netcdf("posterior.nc")  # sigma fixed; '
              'posterior_unknown_noise.nc: sigma unknown\naz.summary(dt, var_names=["w"], ci_kind="hdi", '
              'ci_prob=0.94)')  # fmt: skip
    page.footer(prov)
    page.write()
