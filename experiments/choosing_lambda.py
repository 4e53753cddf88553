"""Experiment ``lambda``: choosing the ridge penalty as a belief, not a knob.

alpha = sigma^2 / tau^2, so the data can inform tau (and alpha) directly. The page puts the ways of
choosing alpha side by side on the same data: full Bayes (a prior on tau, sigma unknown), RidgeCV's
efficient leave-one-out, 10-fold cross-validation, scikit-learn's BayesianRidge, the exact
empirical-Bayes maximiser of the marginal likelihood, and PSIS-LOO of the Bayesian model; then
grades their predictions on held-out rows.

    python -m experiments lambda [--data FILE.csv --target COL] [--test-fraction F] [--out DIR]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from experiments import common, intervals, report, verdicts
from experiments.report import user
from experiments.runner import Card, Experiment, Run, Section, diagnostics_section
from experiments.style import COLORS, LINESTYLES, name_ticks, plt, save
from models import ridge
from models.core.base import InputError
from models.core.data import arrays, noise_estimate
from models.core.families import normal_logpdf
from models.core.lazy import lazy
from models.exact import evidence
from models.inference.engines import PosteriorSampler, tuning_iterations
from models.inference.psis import psis_loo

az = lazy("arviz")
special = lazy("scipy.special")
stats = lazy("scipy.stats")
linear_model = lazy("sklearn.linear_model")
model_selection = lazy("sklearn.model_selection")

NAME = "lambda"
HDI = intervals.PROB
# alpha, its log10 and probabilities get equal-tailed intervals: quantiles are invariant under
# log10 (an HDI is not), so the interval of alpha and the one of log10 alpha are the same.
ETI = f"{HDI:.0%} equal-tailed interval"
FOLDS = 10
# Exact evidence maximiser, intercept fixed at the mean of y as BayesianRidge's, against
# BayesianRidge's flat-prior fixed point (stops on a coefficient change; measured ~3e-8 relative
# on diabetes).
EVIDENCE_BOUND = 1e-6
# PSIS-LOO on 1000 (quick) or 4000 exact posterior draws against the closed-form LOO: Monte Carlo
# error, measured <= 0.6 elpd on a total of ~-2400; a wrong log likelihood is off by hundreds.
PSIS_GAP_BOUND = 1.5
# Every point choice: label, colour, line style (sklearn's choices in its red, the suite's exact
# answers in green, Bayesian ones in blue).
CHOICES = {
    "ridgecv": ("RidgeCV (efficient LOO)", COLORS["sklearn"], "--"),
    "kfold": (f"{FOLDS}-fold CV", COLORS["sklearn"], ":"),
    "evidence": ("exact evidence maximiser", COLORS["exact"], "-"),
    "bayesianridge": ("BayesianRidge (defaults)", COLORS["BayesianRidge"], "--"),
    "loo_best": ("PSIS-LOO best", COLORS["posterior"], "-."),
}
LABELS = {**{m: label for m, (label, _, _) in CHOICES.items()},
          "full_bayes": "full Bayes (integrates over alpha)"}  # fmt: skip


def settings(quick: bool) -> dict:
    tune = tuning_iterations("hierarchical")
    if quick:
        return {"n_grid": 29, "loo_draws": 1000, "draws": 500, "tune": tune, "chains": 2}
    return {"n_grid": 57, "loo_draws": 4000, "draws": 2000, "tune": tune, "chains": 4}


def alpha_grid(X: np.ndarray, n: int) -> np.ndarray:
    """Seven decades of alpha, scaled by the mean eigenvalue of Xc'Xc (the data's own unit)."""
    scale = np.mean(np.linalg.svd(X - X.mean(axis=0), compute_uv=False) ** 2)
    return scale * np.geomspace(1e-5, 1e2, n)


def loo_curve(X, y, grid, noise_sd, draws: int, seed: int) -> dict:
    """Exact LOO of the fixed-sigma model at every alpha of the grid, and PSIS-LOO on ``draws``
    independent exact posterior draws (:func:`models.inference.psis.psis_loo`, ArviZ's
    smoothing vectorised over the rows) at every alpha too (``psis_alpha``)."""
    Z = np.column_stack([np.ones(len(y)), X])
    # Common random numbers: the same standard-normal draws at every alpha, so the curve's Monte
    # Carlo error is smooth along the grid and does not move its optimum around.
    standard = np.random.default_rng(seed).standard_normal((draws, Z.shape[1]))
    psis, se, exact, worst_k, high_k, pointwise = [], [], [], [], [], []
    for alpha in grid:
        prior_sd = ridge.alpha_to_prior_sd(alpha, noise_sd)
        mean, cov = ridge.exact_posterior(X, y, prior_sd, noise_sd)
        pointwise.append(evidence.loo_from_posterior(X, y, mean, cov, noise_sd))
        exact.append(float(np.sum(pointwise[-1])))
        beta = mean + standard @ np.linalg.cholesky(cov).T
        loo = psis_loo(normal_logpdf(y[:, None], Z @ beta.T, noise_sd))
        psis.append(float(loo["elpd"]))
        se.append(float(loo["se"]))
        worst_k.append(float(np.max(loo["pareto_k"])))
        high_k.append(int(np.sum(loo["pareto_k"] > verdicts.PARETO_K_MAX)))
    return {"psis_alpha": grid, "elpd": psis, "se": se, "exact": exact,
            "exact_diff_se": paired_se(np.asarray(pointwise), int(np.argmax(exact))),
            "max_pareto_k": worst_k, "n_high_pareto_k": high_k}  # fmt: skip


def paired_se(pointwise: np.ndarray, best: int) -> np.ndarray:
    """Standard error of each row's total difference to row ``best`` of ``pointwise`` (alphas x
    units): sqrt(units) x sd of the unit-wise differences, as for elpd differences in az.compare."""
    difference = pointwise - pointwise[best]
    return np.sqrt(pointwise.shape[1]) * np.std(difference, axis=1, ddof=1)


@dataclass
class Choices:
    """Every point choice of alpha on one data set, with what was fitted to make them."""

    alphas: dict[str, float]
    curves: dict[str, list]
    evidence: dict[str, float]
    bayes_ridge: linear_model.BayesianRidge


def point_choices(X, y, grid, noise_sd, cfg, seed) -> Choices:
    """RidgeCV, k-fold CV, BayesianRidge, the exact evidence maximiser and PSIS-LOO on ``(X, y)``."""
    folds = model_selection.KFold(FOLDS, shuffle=True, random_state=seed)
    kfold = model_selection.GridSearchCV(
        linear_model.Ridge(), {"alpha": grid}, cv=folds, scoring="neg_mean_squared_error"
    ).fit(X, y)
    bayes_ridge = linear_model.BayesianRidge(tol=1e-12, max_iter=10_000).fit(X, y)
    loo = loo_curve(X, y, grid, noise_sd, cfg["loo_draws"], seed)
    best = evidence.evidence_alpha(X, y)
    alphas = {
        # on this page's grid, as k-fold CV and LOO (not the suite's 31-point reference grid)
        "ridgecv": float(linear_model.RidgeCV(alphas=grid).fit(X, y).alpha_),
        "kfold": float(kfold.best_params_["alpha"]),
        "bayesianridge": float(bayes_ridge.lambda_ / bayes_ridge.alpha_),
        "evidence": best["alpha"],
        "loo_best": float(loo["psis_alpha"][int(np.argmax(loo["elpd"]))]),
    }
    folds_mse = -np.column_stack([kfold.cv_results_[f"split{k}_test_score"] for k in range(FOLDS)])
    best_fold_mean = int(np.argmin(folds_mse.mean(axis=1)))
    curves = {"cv_mse": -kfold.cv_results_["mean_test_score"],  # mean of FOLDS fold MSEs:
              "cv_mse_diff_se": paired_se(folds_mse, best_fold_mean) / FOLDS, **loo}  # fmt: skip
    return Choices(alphas, curves, best, bayes_ridge)


def gaussian_predictive(X_train, y_train, X_test, alpha) -> tuple[np.ndarray, np.ndarray]:
    """Predictive mean and sd at a fixed alpha, sigma at its evidence-maximising value for it."""
    sigma = evidence.profile_noise_sd(evidence.Spectrum.of(X_train, y_train), alpha)
    mean, cov = ridge.exact_posterior(
        X_train, y_train, ridge.alpha_to_prior_sd(alpha, sigma), sigma
    )
    return ridge.predictive(X_test, mean, cov, sigma)


def heldout_scores(X_train, y_train, X_test, y_test, choices: Choices, dt) -> dict:
    """RMSE and mean log predictive density per held-out row for each method, and each method's
    paired lpd difference to the best one with its standard error (sd of the per-row differences
    / sqrt(rows)): one split's ranking is only as sure as that error."""
    scores, per_row = {}, {}
    for method, alpha in choices.alphas.items():
        if method == "bayesianridge":
            mean, sd = choices.bayes_ridge.predict(X_test, return_std=True)
        else:
            mean, sd = gaussian_predictive(X_train, y_train, X_test, alpha)
        per_row[method] = stats.norm.logpdf(y_test, mean, sd)
        scores[method] = {"rmse": float(np.sqrt(np.mean((y_test - mean) ** 2))),
                          "lpd": float(np.mean(per_row[method]))}  # fmt: skip
    w = intervals.draws(dt, "w").values
    mu = intervals.draws(dt, "intercept").values[:, None] + w @ X_test.T
    sigma = intervals.draws(dt, "sigma").values[:, None]
    lpd = special.logsumexp(stats.norm.logpdf(y_test, mu, sigma), axis=0) - np.log(len(w))
    per_row["full_bayes"] = lpd
    scores["full_bayes"] = {"rmse": float(np.sqrt(np.mean((y_test - mu.mean(axis=0)) ** 2))),
                            "lpd": float(np.mean(lpd))}  # fmt: skip
    best = max(scores, key=lambda m: scores[m]["lpd"])
    for method, rows in per_row.items():
        difference = rows - per_row[best]
        scores[method]["lpd_diff_to_best"] = float(np.mean(difference))
        scores[method]["lpd_diff_se"] = float(np.std(difference, ddof=1) / np.sqrt(len(difference)))
    return scores


def options(parser) -> None:
    parser.add_argument("--test-fraction", type=common.open_fraction, default=0.25,
                        help="share of rows held out (seeded) for the predictive comparison")  # fmt: skip


def validate(run: Run) -> None:
    n, p, fraction = len(run.data.y), run.data.X.shape[1], run.args.test_fraction
    if n * fraction < 2 or n * (1 - fraction) < p + 3:
        raise InputError(f"{n} rows are too few to hold out {fraction:g} of them")


def compute(run: Run) -> dict:
    args, cfg, data = run.args, run.cfg, run.data
    X, y = data.X, data.y
    md = arrays(X, y, data.feature_names)
    grid = alpha_grid(X, cfg["n_grid"])
    noise_sd = noise_estimate(X, y)
    choices = point_choices(X, y, grid, noise_sd, cfg, args.seed)
    alphas, curves = choices.alphas, choices.curves
    curves["log_evidence"] = log_evidence_curve(X, y, grid)
    flat = linear_model.BayesianRidge(alpha_1=0, alpha_2=0, lambda_1=0, lambda_2=0, tol=1e-14,
                         max_iter=100_000).fit(X, y)  # fmt: skip
    tau_scale = ridge.default_tau_scale(X, y)
    sample = {k: cfg[k] for k in ("draws", "tune", "chains")}
    dt = PosteriorSampler(ridge.build_hierarchical(md, tau_scale)).sample(
        **sample, seed=args.seed, target_accept=0.9
    )
    run.posteriors["posterior"] = dt
    run.state["dt"] = dt
    alpha_draws = dt["posterior"]["alpha"].values.ravel()
    run.state["alpha_draws"] = alpha_draws
    low, high = eti(alpha_draws)
    hyper = ["intercept", "w", "sigma", "tau"]
    run.diagnose(report.sampling_diagnostics("hierarchical ridge, all rows", dt, hyper))
    X_train, X_test, y_train, y_test = model_selection.train_test_split(
        X, y, test_size=args.test_fraction, random_state=args.seed
    )
    train_choices = point_choices(
        X_train, y_train, grid, noise_estimate(X_train, y_train), cfg, args.seed
    )
    dt_train = PosteriorSampler(
        ridge.build_hierarchical(arrays(X_train, y_train, data.feature_names), tau_scale)
    ).sample(**sample, seed=args.seed + 1, target_accept=0.9)
    run.diagnose(report.sampling_diagnostics("hierarchical ridge, training split", dt_train, hyper))
    heldout = heldout_scores(X_train, y_train, X_test, y_test, train_choices, dt_train)
    results = {
        "alpha_grid": grid,
        "noise_sd_for_loo": noise_sd,
        "tau_prior_scale": tau_scale,
        "alpha_prior": alpha_prior(y, tau_scale, args.seed, run.state),
        "alpha_posterior": {
            "median": float(np.median(alpha_draws)),
            "mean": float(np.mean(alpha_draws)),
            "eti_94_low": low,
            "eti_94_high": high,
        },
        **{f"{method}_alpha": alpha for method, alpha in alphas.items()},
        "ridgecv_suite_alpha": ridge.reference_penalty(md)["alpha"],
        "bayesianridge_flat_alpha": float(flat.lambda_ / flat.alpha_),
        "evidence": choices.evidence,
        "evidence_fixed_intercept": evidence.evidence_alpha(X, y, intercept="fixed"),
        "exact_loo_best_alpha": float(grid[int(np.argmax(curves["exact"]))]),
        "posterior_quantile_of_choice": {
            method: float(np.mean(alpha_draws <= alpha)) for method, alpha in alphas.items()
        },
        "curves": curves,
        "hyper_summary": intervals.summary_record(dt, ["sigma", "tau"]),
        "heldout": heldout,
        "heldout_split": {
            "test_fraction": args.test_fraction,
            "n_train": len(y_train),
            "n_test": len(y_test),
            "alphas": train_choices.alphas,
        },
    }
    results["verdicts"] = choice_verdicts(run, results, rank_p_values(dt, ["tau", "sigma"]))
    return results


def eti(draws: np.ndarray) -> tuple[float, float]:
    """The central 94% of ``draws`` as order statistics (``inverted_cdf``: no interpolation), so
    the interval of any increasing transform of the draws is the transform of this one."""
    low, high = np.quantile(draws, [(1 - HDI) / 2, (1 + HDI) / 2], method="inverted_cdf")
    return float(low), float(high)


def rank_p_values(dt, var_names: list[str]) -> dict[str, float]:
    """The multi-chain rank uniformity test az.plot_rank prints on each panel, per variable."""
    ranks = (
        dt["posterior"]
        .to_dataset()[var_names]
        .azstats.compute_ranks(dim=("chain", "draw"), relative=True)
    )
    p_values = ranks.azstats.mchain_uniformity_test(dim=("chain", "draw"))[0]
    return {name: float(p_values[name]) for name in var_names}


def flat_region(curves: dict, grid) -> dict:
    """The alphas within :data:`verdicts.SE_MULTIPLE` paired standard errors of the best by both
    k-fold CV and exact LOO, as a :func:`verdicts.flat` verdict."""
    grid = np.asarray(grid)
    limit = verdicts.SE_MULTIPLE
    close = ((np.asarray(curves["cv_mse"]) - np.min(curves["cv_mse"]))
             <= limit * np.asarray(curves["cv_mse_diff_se"])) & (
             (np.max(curves["exact"]) - np.asarray(curves["exact"]))
             <= limit * np.asarray(curves["exact_diff_se"]))  # fmt: skip
    return verdicts.flat(f"both {FOLDS}-fold CV and exact LOO", grid[close].min(),
                         grid[close].max(), int(close.sum()), len(grid))  # fmt: skip


def choice_verdicts(run: Run, results: dict, rank_p: dict) -> dict:
    """Every verdict of the choices section (stored in results.json), and the box's lines."""
    post, curves, grid = results["alpha_posterior"], results["curves"], results["alpha_grid"]
    low, high = post["eti_94_low"], post["eti_94_high"]
    inside = {m: verdicts.inside(f"alpha of the {CHOICES[m][0]}", results[f"{m}_alpha"], low, high,
                                 HDI)
              for m in CHOICES}  # fmt: skip
    agree = run.check("Evidence maximiser", verdicts.agreement(
        "the exact evidence maximiser with the intercept fixed at the mean of y (BayesianRidge's "
        "evidence) against BayesianRidge with flat hyper-priors (relative difference in alpha)",
        abs(results["bayesianridge_flat_alpha"] / results["evidence_fixed_intercept"]["alpha"] - 1),
        EVIDENCE_BOUND))  # fmt: skip
    run.adds(inside["evidence"])
    prior = results["alpha_prior"]
    contraction = run.verify(verdicts.contraction(
        f"log10 alpha ({ETI}s)", np.log10(high / low), prior["decades"], "decades"))  # fmt: skip
    drop = occam(results)
    occam_verdict = run.adds(verdicts.occam(
        drop["log_evidence"], drop["exact"], f"{ETI} of alpha's posterior",
        evidence_terms(evidence.Spectrum.of(run.data.X, run.data.y), results["evidence"]["alpha"],
                       [low, high])))  # fmt: skip
    rank = run.check("Rank plots", verdicts.rank_uniformity(rank_p, run.cfg["chains"]))
    best = int(np.argmax(curves["elpd"]))
    pareto = run.check("PSIS-LOO", verdicts.pareto_k(curves["n_high_pareto_k"][best],
                                                     len(run.data.y)))  # fmt: skip
    exact_there = np.asarray(curves["exact"])[np.isin(grid, curves["psis_alpha"])]
    psis_gap = run.check("PSIS vs exact", verdicts.agreement(
        "PSIS-LOO against the closed-form LOO over the grid (elpd)",
        np.max(np.abs(np.subtract(curves["elpd"], exact_there))), PSIS_GAP_BOUND))  # fmt: skip
    held = results["heldout"]
    best_method = max(held, key=lambda m: held[m]["lpd"])
    comparisons = {m: verdicts.comparison("held-out lpd per row", LABELS[best_method], LABELS[m],
                                          -held[m]["lpd_diff_to_best"], held[m]["lpd_diff_se"],
                                          lower_is_better=False)
                   for m in held if m != best_method}  # fmt: skip
    run.check("Held-out", comparisons.get("full_bayes") or verdicts.comparison(
        "held-out lpd per row", LABELS["full_bayes"], LABELS["evidence"],
        held["full_bayes"]["lpd"] - held["evidence"]["lpd"], held["evidence"]["lpd_diff_se"],
        lower_is_better=False))  # fmt: skip
    return {"evidence_vs_bayesianridge": agree, "inside": inside, "contraction": contraction, "occam": occam_verdict,
            "rank": rank, "pareto_k": pareto, "psis_vs_exact": psis_gap,
            "flat": flat_region(curves, grid), "heldout": comparisons,
            "heldout_best": best_method}  # fmt: skip


def alpha_prior(y: np.ndarray, tau_scale: float, seed: int, state: dict) -> dict:
    """The prior the hierarchical model implies on alpha = sigma^2 / tau^2, by simulation:
    sigma ~ HalfNormal(sd(y)), tau ~ HalfCauchy(tau_scale). Its 94% equal-tailed interval (the prior
    is heavy-tailed in log alpha; an HDI of a histogram would be noisy) and its width in decades."""
    rng = np.random.default_rng(seed)
    sigma = np.abs(rng.normal(0.0, np.std(y), 200_000))
    tau = np.abs(tau_scale * rng.standard_cauchy(200_000))
    log10_alpha = np.log10(sigma**2 / tau**2)
    state["prior_log10_alpha"] = log10_alpha
    low, high = np.quantile(log10_alpha, [0.03, 0.97])
    return {"log10_eti_94_low": float(low), "log10_eti_94_high": float(high),
            "decades": float(high - low)}  # fmt: skip


def log_evidence_curve(X: np.ndarray, y: np.ndarray, grid: np.ndarray) -> list[float]:
    """The exact log evidence at each alpha of the grid, sigma profiled (its maximiser at alpha)."""
    spectrum = evidence.Spectrum.of(X, y)
    values = []
    for alpha in grid:
        sigma = evidence.profile_noise_sd(spectrum, alpha)
        values.append(spectrum.log_evidence(sigma, sigma / np.sqrt(alpha)))
    return values


def occam(results: dict) -> dict:
    """How much the log evidence and the exact LOO elpd fall from their best to the ends of the
    alpha posterior's equal-tailed interval (interpolated on the log alpha grid)."""
    grid, curves, post = (
        np.log(results["alpha_grid"]),
        results["curves"],
        results["alpha_posterior"],
    )
    ends = np.log([post["eti_94_low"], post["eti_94_high"]])
    drop = {}
    for key in ("log_evidence", "exact"):
        curve = np.asarray(curves[key])
        drop[key] = float(np.max(curve) - np.min(np.interp(ends, grid, curve)))
    return drop


def evidence_terms(spectrum: evidence.Spectrum, best: float, ends: list[float]) -> list[dict]:
    """The log evidence (sigma profiled) split into its two alpha-dependent terms, each one's
    change from the evidence maximum ``best`` to each alpha of ``ends``: the fit term
    ``-(m/2) log(yc'(I + Xc Xc'/alpha)^-1 yc / m)`` and the Occam term
    ``-(1/2) log det(I + Xc Xc'/alpha)``, with ``m`` the target's dimensions (``n - 1``: the
    flat intercept integrated out); their sum is the log evidence's change."""

    def terms(alpha: float) -> tuple[float, float]:
        m = spectrum.dimensions
        fit = -0.5 * m * np.log(spectrum.quadratic(alpha) / m)
        return fit, -0.5 * spectrum.log_det(alpha)

    peak = terms(best)
    return [{"alpha": float(a), "fit": terms(a)[0] - peak[0], "occam": terms(a)[1] - peak[1]}
            for a in ends]  # fmt: skip


def _mark_choices(ax, alphas: dict) -> None:
    """A vertical line per point choice at log10 alpha (CHOICES order: BayesianRidge's dashes are
    drawn over the evidence line they coincide with)."""
    for method, (label, color, style) in CHOICES.items():
        alpha = alphas[method]
        ax.axvline(np.log10(alpha), color=color, ls=style, lw=1.6, label=f"{label}: {alpha:.3g}")


def figures(run: Run) -> None:
    res, out = run.results, run.out
    grid, curves, alpha_draws = (
        np.asarray(res["alpha_grid"]),
        res["curves"],
        run.state["alpha_draws"],
    )
    alphas = {method: res[f"{method}_alpha"] for method in CHOICES}
    fig, ax = plt.subplots(figsize=(9, 4.5))
    prior = run.state["prior_log10_alpha"]
    ax.hist(prior, bins=120, range=tuple(np.quantile(prior, [0.005, 0.995])), density=True,
            histtype="step", color=COLORS["data"], lw=1.5,
            label="prior implied on alpha (tau ~ HalfCauchy, sigma ~ HalfNormal)")  # fmt: skip
    ax.hist(np.log10(alpha_draws), bins=50, density=True, color=COLORS["posterior"], alpha=0.45,
            label="posterior of alpha = sigma^2 / tau^2 (NUTS)")  # fmt: skip
    _mark_choices(ax, alphas)
    ax.set_xlabel("log10 alpha (ridge penalty, units of the data)")
    ax.set_ylabel("density (per log10 unit)")
    ax.set_title("The prior on alpha, its posterior, and where each point choice falls")
    ax.legend(fontsize=8)
    save(fig, out / "alpha_posterior.png")

    fig, (top, bottom, third, fourth) = plt.subplots(
        4, 1, figsize=(9, 11.5), sharex=True, height_ratios=(1, 1, 1, 0.8)
    )
    top.semilogx(grid, curves["cv_mse"], "o-", ms=3, color=COLORS["sklearn"],
                 label=f"Ridge, {FOLDS}-fold CV mean squared error")  # fmt: skip
    best = int(np.argmin(curves["cv_mse"]))
    top.plot(
        grid[best], curves["cv_mse"][best], "*", ms=14, color=COLORS["sklearn"], label="CV optimum"
    )
    top.set_ylabel("CV MSE (target units squared)")
    top.legend(fontsize=8)
    psis_alpha = np.asarray(curves["psis_alpha"])
    bottom.semilogx(psis_alpha, curves["elpd"], "o-", ms=3, color=COLORS["posterior"],
                    label="PSIS-LOO elpd, tau fixed = sigma / sqrt(alpha)")  # fmt: skip
    bottom.semilogx(grid, curves["exact"], LINESTYLES["exact"], color=COLORS["exact"],
                    label="exact LOO elpd (closed form)")  # fmt: skip
    best = int(np.argmax(curves["elpd"]))
    bottom.plot(psis_alpha[best], curves["elpd"][best], "*", ms=14, color=COLORS["posterior"],
                label="LOO optimum")  # fmt: skip
    bottom.set_ylabel("elpd_loo (summed log density)")
    bottom.legend(fontsize=8)
    third.semilogx(grid, curves["log_evidence"], "-", color=COLORS["exact"],
                   label="log evidence (closed form, sigma profiled at each alpha)")  # fmt: skip
    post = res["alpha_posterior"]
    for ax in (top, bottom, third, fourth):
        ax.axvspan(post["eti_94_low"], post["eti_94_high"], color=COLORS["posterior"], alpha=0.12,
                   label=f"{ETI} of alpha's posterior" if ax is third else None)  # fmt: skip
    third.set_ylabel("log p(y | alpha) (nats)")
    third.legend(fontsize=8)
    with np.errstate(divide="ignore", invalid="ignore"):  # 0 / 0 at each curve's own optimum
        cv_gap = (np.asarray(curves["cv_mse"]) - np.min(curves["cv_mse"])) / np.asarray(
            curves["cv_mse_diff_se"]
        )
        loo_gap = (np.max(curves["exact"]) - np.asarray(curves["exact"])) / np.asarray(
            curves["exact_diff_se"])  # fmt: skip
    fourth.semilogx(grid, np.nan_to_num(cv_gap), "o-", ms=3, color=COLORS["sklearn"],
                    label=f"{FOLDS}-fold CV MSE: (MSE - best) / paired SE over folds")  # fmt: skip
    fourth.semilogx(grid, np.nan_to_num(loo_gap), LINESTYLES["exact"], color=COLORS["exact"],
                    label="exact LOO: (best elpd - elpd) / paired SE over rows")  # fmt: skip
    fourth.axhline(2, color=COLORS["data"], lw=1, ls="--", label="2 standard errors")
    fourth.set_ylim(0, 8)
    fourth.set_ylabel("standard errors from the best")
    fourth.set_xlabel("alpha (ridge penalty)")
    fourth.legend(fontsize=8, loc="upper left")
    top.set_title(
        "CV error of Ridge, PSIS-LOO and the evidence of the Bayesian model, one alpha grid"
    )
    fig.align_ylabels()
    save(fig, out / "cv_vs_loo.png")
    rank_figure(run.state["dt"], ["tau", "sigma"], out / "rank.png")
    plt.close("all")


def rank_figure(dt, var_names: list[str], path) -> None:
    """az.plot_rank (multi-chain test, its p-value printed on each panel) with its axes labelled
    and one legend entry per chain."""
    pc = az.plot_rank(dt, var_names=var_names, visuals={"remove_axis": False})
    fig = pc.viz["figure"].item()
    for ax in fig.axes:
        ax.set_xlabel("fractional rank among all chains' draws")
        ax.set_ylabel("chain's rank ECDF − uniform CDF")
        ax.axhline(0, color=COLORS["data"], lw=0.8)
    fig.axes[0].legend(fig.axes[0].get_lines()[: dt["posterior"].sizes["chain"]],
                       [f"chain {c}" for c in range(dt["posterior"].sizes["chain"])],
                       fontsize=8, loc="lower right")  # fmt: skip
    fig.subplots_adjust(wspace=0.25)
    save(fig, path)


def page_choices(page: report.Page, results: dict) -> None:
    """Claim, data, the choices of alpha and the curves behind them."""
    post, found = results["alpha_posterior"], results["verdicts"]
    page.claim(
        "The ridge penalty is a ratio of beliefs, alpha = sigma^2 / tau^2. Give tau a prior and the "
        "data return a posterior for alpha, not a single value; each classical choice is one point "
        "on it.",
        "Ridge:     minimise ||y - b0 - X w||^2 + alpha ||w||^2\n"
        "Bayes:     y ~ Normal(b0 + X w, sigma), w_j ~ Normal(0, tau), tau ~ HalfCauchy(s), "
        "sigma ~ HalfNormal(sd(y))\nMapping:   alpha = sigma^2 / tau^2",
    )
    page.heading("Data and model")
    page.text(f"Data: `{user(results['data_source'])}`, {results['n_obs']} rows, "
              f"{len(results['feature_names'])} features; target {user(results['target'])}. "
              f"{results['data_note']}. tau's prior scale s = sd(y) / mean sd(x_j) = "
              f"{results['tau_prior_scale']:.4g}. alpha is in the units of these columns: the same "
              "belief on other feature scales is another alpha.")  # fmt: skip
    page.heading("The choices of alpha")
    page.text(f"alpha's interval is the {ETI} (quantiles 3% and 97% of its draws): quantiles "
              "are invariant under log10, so it is also the interval of log10 alpha mapped back "
              f"(an HDI is not: it depends on the scale). Posterior quantile of a choice: the share "
              "of alpha's draws below it.")  # fmt: skip
    rows = [["full Bayes: posterior median", post["median"], "", ""],
            [f"full Bayes: {ETI}", f"[{post['eti_94_low']:.4g}, {post['eti_94_high']:.4g}]", "", ""]]  # fmt: skip
    rows += [[CHOICES[m][0], results[f"{m}_alpha"], results["posterior_quantile_of_choice"][m],
              found["inside"][m]["outcome"]] for m in CHOICES]  # fmt: skip
    rows.append(["BayesianRidge, flat hyper-priors", results["bayesianridge_flat_alpha"], "", ""])
    page.table(["method", "alpha", "posterior quantile", f"inside the {ETI}"], rows)
    ev, fixed = results["evidence"], results["evidence_fixed_intercept"]
    page.verdict(
        found["evidence_vs_bayesianridge"],
        f"Closed form (profiled sigma = {fixed['noise_sd']:.4g}, tau = {fixed['prior_sd']:.4g}). ",
    )
    page.text(f"The model's evidence integrates its flat intercept out, which leaves n - 1 = "
              f"{ev['dimensions']} dimensions of y; BayesianRidge fixes the intercept at the mean "
              f"of y and counts n = {fixed['dimensions']}. "
              f"So the model's evidence maximiser, alpha = {ev['alpha']:.4g} (sigma = "
              f"{ev['noise_sd']:.4g}, tau = {ev['prior_sd']:.4g}), is not BayesianRidge's "
              f"{fixed['alpha']:.4g}: they differ by {abs(ev['alpha'] / fixed['alpha'] - 1):.2%}, "
              "a term of order 1/n. This page's \"exact evidence maximiser\" is the model's.")  # fmt: skip
    page.text(f"RidgeCV, {FOLDS}-fold CV and exact LOO pick from this page's grid of "
              f"{len(results['alpha_grid'])} alphas (RidgeCV on the suite's 31-point reference grid, "
              f"1e-4 to 1e6, the other pages' choice, picks {results['ridgecv_suite_alpha']:.4g}), "
              f"and PSIS-LOO (on {results['settings']['loo_draws']} exact posterior draws per alpha) "
              "scores every one of them.")  # fmt: skip
    page.text("ArviZ summary of the hierarchical model's sigma and tau (all rows):")
    page.arviz_summary(results["hyper_summary"])
    page.figure("rank.png", "Rank plots of tau and sigma (az.plot_rank, ArviZ 1.x). x: a draw's "
                "fractional rank among all chains' draws; y: the chain's ECDF of those ranks minus "
                "the uniform CDF, one line per chain. Chains that sample the same posterior stay "
                "near zero. Each panel prints p, the multi-chain uniformity test's p-value, and "
                "α, the test's threshold (small p: a chain explores a different region).",
                observe=found["rank"])  # fmt: skip
    page.figure("alpha_posterior.png", "Posterior of log10 alpha from the hierarchical model (blue), "
                "the prior it implies on alpha (grey line), and every point choice marked.",
                observe=found["contraction"])  # fmt: skip
    prior = results["alpha_prior"]
    page.text(f"The prior's central 94% spans [10^{prior['log10_eti_94_low']:.1f}, "
              f"10^{prior['log10_eti_94_high']:.1f}], the posterior's [{post['eti_94_low']:.3g}, "
              f"{post['eti_94_high']:.3g}].")  # fmt: skip
    page.figure("cv_vs_loo.png", f"First: {FOLDS}-fold cross-validated MSE of Ridge. Second: "
                "PSIS-LOO elpd of the Bayesian model with tau fixed at each width (sigma fixed at "
                "the least-squares residual sd), and the exact LOO elpd it estimates. Third: the "
                "exact log evidence on the same grid. Last: how far each alpha's CV MSE and exact "
                "LOO elpd are from their own best, in standard errors of the paired difference "
                f"(over folds, over rows). The band is the {ETI} of alpha's posterior.",
                observe=found["flat"])  # fmt: skip
    page.verdict(
        found["occam"], "**Why the posterior of alpha can be narrow while CV and LOO are flat.** "
    )
    page.text("LOO scores each row's prediction from a fit to all the others, so every alpha that "
              "fits about as well scores about as well. The evidence also charges for flexibility: "
              "its log det term, sum_i log(1 + d_i / alpha) over the eigenvalues d_i of Xc'Xc, is "
              "the Occam factor, the prior volume a small alpha (a wide prior) spreads over weights "
              "the data then rule out. The posterior of alpha is the evidence times the prior on "
              "alpha (here through tau's half-Cauchy).")  # fmt: skip
    page.verdict(found["psis_vs_exact"])
    page.verdict(found["pareto_k"], "At the PSIS-LOO best alpha: ")


def page_heldout(page: report.Page, results: dict) -> None:
    page.heading("Held-out rows")
    split = results["heldout_split"]
    page.text(f"A seeded split holds out {split['n_test']} rows; every method re-chooses alpha on the "
              f"other {split['n_train']}. Point choices predict with the Gaussian predictive at their "
              "alpha (sigma at its evidence-maximising value for that alpha), except BayesianRidge, "
              "which predicts with its own `predict(return_std=True)`: its own noise precision "
              "(alpha_, with its gamma hyper-priors) and its own treatment of the intercept, so at "
              "the evidence maximiser's alpha its lpd still differs; full Bayes averages over the posterior "
              "of alpha and sigma. lpd is the mean log predictive density per held-out row.")  # fmt: skip
    held, found = results["heldout"], results["verdicts"]
    page.table(["method", "alpha (training split)", "RMSE", "lpd per row", "lpd - best lpd",
                "standard error", f"best vs it ({verdicts.SE_MULTIPLE:g}-SE rule)"],
               [[LABELS[m], split["alphas"].get(m, "posterior"), s["rmse"], s["lpd"],
                 s["lpd_diff_to_best"], s["lpd_diff_se"],
                 found["heldout"][m]["outcome"] if m in found["heldout"] else "best"]
                for m, s in held.items()])  # fmt: skip


def integrated_compute(run: Run) -> dict:
    """Each coefficient's 94% HDI with alpha fixed at the evidence maximum (exact Gaussian, sigma
    profiled there: what plugging in one alpha gives) against full Bayes, integrated over the
    posterior of alpha and sigma (the hierarchical model's NUTS draws)."""
    ev, data = run.results["evidence"], run.data
    mean, cov = ridge.exact_posterior(data.X, data.y, ev["prior_sd"], ev["noise_sd"])
    fixed_low, fixed_high = intervals.gaussian(mean[1:], np.sqrt(np.diag(cov))[1:])
    bounds = intervals.interval(run.state["dt"], ["w"])["w"]
    low, high = bounds.sel(ci_bound="lower").values, bounds.sel(ci_bound="upper").values
    return {"integrated": {
        "fixed_alpha": ev["alpha"], "fixed_mean": mean[1:],
        "fixed_hdi_94_low": fixed_low, "fixed_hdi_94_high": fixed_high,
        "full_bayes_hdi_94_low": low, "full_bayes_hdi_94_high": high,
        "width_ratio": (high - low) / (fixed_high - fixed_low),
        "plug_in": verdicts.plug_in(data.feature_names, (high - low) / (fixed_high - fixed_low),
                                    "alpha and sigma"),
    }}  # fmt: skip


def integrated_figure(run: Run) -> None:
    res, names = run.results["integrated"], run.data.feature_names
    fig, ax = plt.subplots(figsize=(9, 0.5 * len(names) + 1.4))
    rows = np.arange(len(names))[::-1]
    ax.hlines(rows + 0.15, res["fixed_hdi_94_low"], res["fixed_hdi_94_high"], color=COLORS["exact"],
              lw=2.5, label=f"alpha fixed at the evidence maximum ({res['fixed_alpha']:.3g}), exact")  # fmt: skip
    ax.hlines(rows - 0.15, res["full_bayes_hdi_94_low"], res["full_bayes_hdi_94_high"],
              color=COLORS["posterior"], lw=2.5, label="full Bayes: integrated over alpha and sigma")  # fmt: skip
    ax.plot(res["fixed_mean"], rows + 0.15, "o", color=COLORS["MAP"], ms=4)
    ax.axvline(0, color="k", lw=0.6)
    name_ticks(ax, "y", rows, names)
    ax.set_xlabel(f"coefficient ({HDI:.0%} HDI, target units per unit of feature)")
    ax.set_title("Plugging in one alpha, or integrating over its posterior")
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.15), ncol=1)
    save(fig, run.out / "integrated.png")


def page_integrated(page: report.Page, results: dict) -> None:
    res = results["integrated"]
    page.heading("Intervals with alpha integrated out")
    page.figure("integrated.png", f"Each coefficient's {HDI:.0%} HDI with alpha fixed at the "
                "evidence maximum (green, exact) and integrated over alpha's posterior (blue, "
                "hierarchical model, NUTS).", observe=res["plug_in"])  # fmt: skip


# Point choices whose posterior quantiles (of alpha) are at least this far apart "land in
# different places": a fifth of the posterior's mass lies between the extreme two.
CHOICE_QUANTILE_SPREAD = 0.2


def choices_heading(quantiles: list[float]) -> str:
    """The bullet's claim from the choices' posterior quantiles of alpha: in different places of
    the posterior when the extreme two are :data:`CHOICE_QUANTILE_SPREAD` or more apart."""
    low, high = min(quantiles), max(quantiles)
    if high - low >= CHOICE_QUANTILE_SPREAD:
        return (f"**Point choices land in different places** of alpha's posterior (quantiles "
                f"{low:.2f} to {high:.2f}: the extreme two {CHOICE_QUANTILE_SPREAD:g} or more "
                "apart).")  # fmt: skip
    return (f"**Point choices land close together** in alpha's posterior (quantiles {low:.2f} to "
            f"{high:.2f}, less than {CHOICE_QUANTILE_SPREAD:g} apart).")  # fmt: skip


def page_hides(page: report.Page, results: dict) -> None:
    post, held, found = results["alpha_posterior"], results["heldout"], results["verdicts"]
    page.heading("What the point estimate hides")
    width = post["eti_94_high"] / post["eti_94_low"]
    rmses = [r["rmse"] for r in held.values()]
    inside = [m for m in CHOICES if found["inside"][m]["outcome"] == "inside"]
    edges = (results["alpha_grid"][0], results["alpha_grid"][-1])
    at_edge = [CHOICES[m][0] for m in CHOICES if results[f"{m}_alpha"] in edges]
    best = found["heldout_best"]
    tied = [m for m, v in found["heldout"].items() if v["outcome"] == "indistinguishable"]
    page.bullets([
        f"**alpha is uncertain.** The data support alphas over a factor of {width:.1f} "
        f"({ETI}); a point choice hides that the penalty is known only to within it.",
        f"{choices_heading(list(results['posterior_quantile_of_choice'].values()))} "
        f"{len(inside)} of {len(CHOICES)} fall inside "
        f"the {ETI} (BayesianRidge, {results['bayesianridge_alpha']:.4g}, maximises the evidence "
        f"with its intercept fixed; the model's evidence maximiser is "
        f"{results['evidence_alpha']:.4g}); their posterior quantiles: " + "; ".join(
            f"{CHOICES[m][0]} {results['posterior_quantile_of_choice'][m]:.2f}" for m in CHOICES)
        + "." + (f" {', '.join(at_edge)} chose the grid's edge." if at_edge else ""),
        f"**Prediction.** Best held-out lpd: {LABELS[best]} ({held[best]['lpd']:.4f} per row); "
        f"{len(tied)} of {len(held) - 1} other methods are within {verdicts.SE_MULTIPLE:g} paired "
        "standard errors of it (per row)" + (", so this split does not rank them" if tied else "")
        + f". RMSE ranges over {min(rmses):.2f} to {max(rmses):.2f} and lpd over "
        f"{min(r['lpd'] for r in held.values()):.4f} to {max(r['lpd'] for r in held.values()):.4f}.",
    ])  # fmt: skip
    page.heading("Load the posterior yourself")
    page.load_snippet("posterior.nc", ["alpha", "sigma", "tau"],
                      f'alpha\'s interval on this page: ci_kind="eti", ci_prob={HDI}')  # fmt: skip


def card(results: dict) -> Card:
    post = results["alpha_posterior"]
    return Card("alpha_posterior.png", (
        f"Posterior of alpha: median **{post['median']:.3g}**, {ETI} [{post['eti_94_low']:.3g}, "
        f"{post['eti_94_high']:.3g}]; evidence maximiser {results['evidence_alpha']:.3g}, RidgeCV "
        f"{results['ridgecv_alpha']:.3g}, {FOLDS}-fold CV {results['kfold_alpha']:.3g}"
        + (" (the grid's edge)." if results["kfold_alpha"] in
           (results["alpha_grid"][0], results["alpha_grid"][-1]) else ".")
    ))  # fmt: skip


EXPERIMENT = Experiment(
    name=NAME,
    title="Choosing lambda as a belief: full Bayes, CV and the evidence",
    description="Choosing the ridge penalty: full Bayes, CV, evidence, LOO.",
    sections=(
        Section(
            "choices of alpha, CV and LOO curves, full Bayes on all rows and on a split",
            compute,
            figures,
            page_choices,
        ),
        Section(
            "coefficients: alpha fixed or integrated out",
            integrated_compute,
            integrated_figure,
            page_integrated,
        ),
        Section(page=page_heldout),
        diagnostics_section(),
        Section(page=page_hides),
    ),
    settings=settings,
    options=options,
    validate=validate,
    card=card,
    claim=lambda results: (
        "The ridge penalty is a belief, alpha = sigma^2 / tau^2: with a prior on tau the data give "
        "alpha a posterior "
        + (
            "far narrower than its prior"
            if results["verdicts"]["contraction"]["outcome"] == "data"
            else "its prior still shapes"
        )
        + f" (median {results['alpha_posterior']['median']:.3g}, {ETI} "
        f"[{results['alpha_posterior']['eti_94_low']:.3g}, "
        f"{results['alpha_posterior']['eti_94_high']:.3g}]); every classical choice is one point "
        "on it."
    ),
)
