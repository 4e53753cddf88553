"""Experiment ``ridge``: Ridge regression is the MAP of a Gaussian-prior model, and only its mode.

The penalty experiment of :data:`models.ridge.SPEC` (Check 1 against scikit-learn and the closed
form on 31 alphas over [1e-4, 1e6], Check 2 against the exact conjugate posterior), plus sections
of its own: the reference alpha against the exact evidence, NUTS along the whole path, sigma
unknown, correlation and prediction with the posterior predictive check and LOO-PIT, and held-out
rows.

    python -m experiments ridge [--data FILE.csv --target COL] [--alpha A | --prior-sd TAU]
                                [--noise-sd SIGMA] [--out DIR] [--seed N] [--quick]
"""

from __future__ import annotations

import numpy as np

from experiments import common, family, intervals, report, verdicts
from experiments.report import user
from experiments.runner import Card, Run, Section
from experiments.style import (
    COLORS,
    LINESTYLES,
    coefficient_label,
    coefficient_panels,
    figure_label,
    legend_below,
    name_ticks,
    plt,
    save,
)
from models import ridge
from models.core.arrays import SAVED_DRAWS_X_ROWS, linear_predictor_chunks
from models.core.data import arrays, noise_estimate
from models.core.lazy import lazy
from models.exact import evidence
from models.inference.engines import (
    MAPSolver,
    PosteriorSampler,
    sampling_diagnostics_of,
    tuning_iterations,
)
from models.scale.statistics import pointwise_log_likelihood

az = lazy("arviz")
xr = lazy("xarray")
stats = lazy("scipy.stats")
model_selection = lazy("sklearn.model_selection")

# Chains per alpha in the NUTS sweep along the path: 4, as R_HAT_MAX (1.01) assumes (Vehtari et al.
# 2021). With 2 chains of 1000 draws the worst r_hat over 31 alphas x 21 coefficients of a user's
# 1,000 x 20 CSV was 1.012-1.014 on every seed tried, a red banner over an exact Gaussian posterior
# that NUTS matched; with 4 chains, 1.007.
PATH_CHAINS = 4


def settings(quick: bool) -> dict:
    return {**family.settings(quick), "path_draws": 600 if quick else 1000}


# --- the reference alpha against the evidence -------------------------------------------------


def evidence_compute(run: Run) -> dict:
    """The exact log evidence (closed form, sigma profiled at each alpha) at the reference alpha
    and at its maximum, and the verdict on their Bayes factor. The reference stays RidgeCV's
    alpha (Check 1 and the scikit-learn twin compare there); this says how much the model's own
    evidence disfavours it."""
    md, alpha = run.state["md"], run.results["posterior"]["alpha"]
    spectrum = evidence.Spectrum.of(md.X, md.y)
    best = evidence.maximise_evidence(spectrum)
    sigma = evidence.profile_noise_sd(spectrum, alpha)
    shown = spectrum.log_evidence(sigma, sigma / np.sqrt(alpha))
    verdict = run.check("Choice of alpha", verdicts.evidence_ratio(
        alpha, best["alpha"], max(best["log_evidence"] - shown, 0.0), "sigma profiled", best["edge"]
    ))  # fmt: skip
    return {"alpha_evidence": {
        "alpha": best["alpha"], "noise_sd": best["noise_sd"], "log_evidence_max": best["log_evidence"],
        "log_evidence_shown": shown, "noise_sd_shown": sigma, "verdict": verdict, "edge": best["edge"],
    }}  # fmt: skip


def evidence_page(page: report.Page, results: dict) -> None:
    ev, alpha = results["alpha_evidence"], results["posterior"]["alpha"]
    page.heading("The reference alpha against the evidence")
    page.verdict(ev["verdict"])
    page.text(f"The posterior above is shown at alpha = {alpha:.4g} ({user(results['reference_source'])}), "
              "the alpha at which Check 1 compares with scikit-learn. The exact log evidence of the "
              "Gaussian model (closed form, `models/exact/evidence.py`, sigma profiled at each alpha) is "
              f"{ev['log_evidence_shown']:.2f} there (sigma {ev['noise_sd_shown']:.4g}) and "
              f"{ev['log_evidence_max']:.2f} {_evidence_best(ev)} (sigma {ev['noise_sd']:.4g}). The `lambda` "
              "experiment gives the posterior of alpha itself.")  # fmt: skip


def _evidence_best(ev: dict) -> str:
    """Where the evidence is highest, in words: its maximum (the type-II maximum likelihood
    choice), or the search's edge when it has none (:func:`models.exact.evidence.maximise_evidence`)."""
    if ev["edge"] is None:
        return f"at its maximum alpha = {ev['alpha']:.4g}, the type-II maximum likelihood choice"
    return (f"at alpha = {ev['alpha']:.4g}, the edge of the search: it has no maximum and rises as "
            f"alpha goes to {verdicts.EVIDENCE_EDGE_LIMIT[ev['edge']]}, so there is no type-II "
            "maximum likelihood choice")  # fmt: skip


# --- NUTS along the path ------------------------------------------------------------------------


def path_compute(run: Run) -> dict:
    sampler, md, alphas = run.state["sampler"], run.state["md"], run.results["alphas"]
    fits = [
        sampler.sample({"prior_sd": ridge.alpha_to_prior_sd(alpha, md.noise_sd)},
                       draws=run.cfg["path_draws"], tune=tuning_iterations("ridge"),
                       chains=PATH_CHAINS, seed=run.seed + k)
        for k, alpha in enumerate(alphas)
    ]  # fmt: skip
    labels = [f"alpha={alpha:.4g}" for alpha in alphas]
    rows = sampling_diagnostics_of(labels, fits, ["intercept", "w"])
    # every fit's statistics at once: the fits stacked along "fit" (ArviZ's are per element)
    w = xr.concat([dt["posterior"].dataset[["w"]] for dt in fits], dim="fit")
    bounds = az.hdi(w, prob=intervals.PROB)["w"]
    mean = w["w"].mean(("chain", "draw")).values
    mcse = az.mcse(w)["w"].values
    exact = [ridge.exact_posterior(md.X, md.y, ridge.alpha_to_prior_sd(alpha, md.noise_sd),
                                   md.noise_sd) for alpha in alphas]  # fmt: skip
    exact_mean = np.array([m[1:] for m, _ in exact])
    exact_low, exact_high = zip(*(intervals.gaussian(m[1:], np.sqrt(np.diag(c))[1:])
                                  for m, c in exact), strict=True)  # fmt: skip
    path = {
        "mean": list(mean), "hdi_94_low": list(bounds.sel(ci_bound="lower").values),
        "hdi_94_high": list(bounds.sel(ci_bound="upper").values),
        "divergences": sum(r["divergences"] for r in rows),
        "max_r_hat": max(r["max_r_hat"] for r in rows),  # the diagnostics row's: intercept and w
        "exact_low": list(exact_low), "exact_high": list(exact_high),
        "max_abs_z_vs_exact": float(np.max(np.abs((mean - exact_mean) / mcse))),
    }  # fmt: skip
    # The same bound as Check 2's single fit (family.Z_FLAG, false alarm ~6e-5 per coefficient),
    # here a maximum over every alpha and coefficient
    n_means = len(run.results["alphas"]) * len(run.results["feature_names"])
    path["vs_exact"] = verdicts.mcmc_vs_exact(
        path["max_abs_z_vs_exact"], family.Z_FLAG,
        f"along the path (max over {len(rows)} alphas x {len(run.results['feature_names'])} "
        "coefficients)", n_means,
    )  # fmt: skip
    run.diagnose(worst_of(f"NUTS along the path ({len(rows)} refits, worst of each)", rows))
    return {"path_posterior": path}


def worst_of(fit: str, rows: list[dict]) -> dict:
    """One diagnostics row for many sampler fits: divergences and tree-depth hits summed, the worst
    E-BFMI, r_hat and ESS, and each failing fit's problems named by its own label."""
    return {
        "fit": fit, "draws": rows[0]["draws"] + " each",
        "divergences": sum(r["divergences"] for r in rows),
        "max_treedepth_hits": sum(r["max_treedepth_hits"] for r in rows),
        "min_bfmi": min(r["min_bfmi"] for r in rows), "max_r_hat": max(r["max_r_hat"] for r in rows),
        "min_ess_bulk": min(r["min_ess_bulk"] for r in rows),
        "min_ess_tail": min(r["min_ess_tail"] for r in rows), "ok": all(r["ok"] for r in rows),
        "problems": [f"{r['fit']}: {p}" for r in rows for p in r["problems"]],
    }  # fmt: skip


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
        # wide and underneath: the sklearn dashes and MAP dots lie on it (mean = mode here)
        ax.plot(alphas, path["mean"][:, j], color=COLORS["posterior"], lw=4, alpha=0.6,
                label="posterior mean (NUTS)")  # fmt: skip
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
        ax.set_title(figure_label(names[j]), fontsize=9, parse_math=False)
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
                "top of each other); wide blue line under both: the posterior mean from NUTS (the "
                "posterior is Gaussian, so its mean is its mode: the three coincide up to Monte "
                f"Carlo error); blue band: the {intervals.PROB:.0%} HDI from NUTS at every alpha; "
                "green dashes: the exact HDI.", observe=path["vs_exact"])  # fmt: skip
    page.text(f"{len(results['alphas'])} NUTS refits of one compiled model, {PATH_CHAINS} chains each "
              f"({results['settings']['path_draws']} draws per chain): {path['divergences']} divergences in "
              f"total, worst r_hat {path['max_r_hat']:.3f} (one row, the worst of each diagnostic, in the "
              "diagnostics table). The Observe line compares each NUTS mean with the exact one in its "
              "Monte Carlo standard errors, at every alpha: a maximum over many means, so it is "
              "larger than Check 2's at the reference alpha alone.")  # fmt: skip


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
    dt = PosteriorSampler(model).sample({"alpha": alpha}, draws=run.cfg["draws"],
                                        tune=tuning_iterations("ridge_unknown_noise"),
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
              "so the joint MAP of w is Ridge(alpha) too. Its agreement is Check 1's column "
              "`map unknown noise vs sklearn` "
              f"(largest {max(res['rel_diff']['map_unknown_noise_vs_sklearn']):.1e}); its posterior at "
              f"alpha = {res['posterior']['alpha']:.4g}:")  # fmt: skip
    page.arviz_summary(results["unknown_noise_summary"])
    k = res["alphas"].index(min(res["alphas"], key=lambda a: abs(a - res["posterior"]["alpha"])))
    page.text("MAP convention: the solver returns the joint mode of (b0, w, sigma) in the original "
              "(constrained) parameters, with no log-Jacobian term. Its sigma is therefore neither the "
              "mode of sigma's marginal posterior (integrating w out moves it: the joint density "
              "carries one more factor 1 / sigma per coefficient) nor of log sigma's. At the grid "
              "alpha nearest the "
              f"reference ({res['alphas'][k]:.4g}) the MAP of sigma is {res['sigma_map_unknown_noise'][k]:.4g}.")  # fmt: skip


# --- predictive draws -----------------------------------------------------------------------------


def predictive_draws(dt, X: np.ndarray, noise_sd: float, seed: int):
    """Posterior predictive ``y_rep = b0 + X w + sigma eps`` (sigma fixed), one per posterior draw,
    in row chunks (:func:`models.core.arrays.linear_predictor_chunks`): yields ``(rows, y_rep)``.

    The likelihood is written in sufficient statistics, so there is no per-row variable for PyMC
    to resample: the replicated rows are drawn here from the posterior draws.
    """
    post = dt["posterior"].dataset
    w = post["w"].values.reshape(-1, X.shape[1])
    b0 = post["intercept"].values.reshape(-1)
    rng = np.random.default_rng(seed)
    for rows, eta in linear_predictor_chunks(b0, w, X):
        yield rows, eta + noise_sd * rng.standard_normal(eta.shape)


def prior_predictive(
    X: np.ndarray, y: np.ndarray, prior_sd: float, noise_sd: float, seed: int, draws: int = 500
) -> tuple[np.ndarray, np.ndarray]:
    """Prior draws ``w ~ Normal(0, tau)`` and the data they imply, ``y = b0 + X w + sigma eps``.

    The intercept's prior is flat (improper), so it has no prior draws: it is held at mean(y)
    and the check is of the spread the prior on w implies.

    Returns
    -------
    w : ndarray
        ``(draws, p)`` prior draws of the coefficients.
    y : ndarray
        ``(draws, n)`` prior predictive data sets.
    """
    rng = np.random.default_rng(seed)
    w = prior_sd * rng.standard_normal((draws, X.shape[1]))
    return w, y.mean() + w @ X.T + noise_sd * rng.standard_normal((draws, len(X)))


def _group(
    values: np.ndarray, chains: int, name: str = "y", dim: str = "obs", coord=None
) -> xr.DataTree:
    draws = values.reshape(chains, -1, values.shape[-1])
    coords = {
        "chain": np.arange(chains),
        "draw": np.arange(draws.shape[1]),
        dim: np.arange(draws.shape[2]) if coord is None else coord,
    }
    return xr.DataTree(xr.Dataset({name: (("chain", "draw", dim), draws)}, coords=coords))


# --- the predictive check: T(y) against T(y_rep) --------------------------------------------------

SKEWNESS, MINIMUM, SPREAD = (
    "skewness",
    "minimum",
    "spread ratio (top / bottom third of fitted values)",
)


def predictive_statistics(y: np.ndarray, fitted: np.ndarray, chunks) -> dict[str, np.ndarray]:
    """Test statistics of each replicated data set, accumulated over row chunks.

    ``chunks`` yields ``(rows, y_rep)`` with ``y_rep`` of shape ``(draws, len(rows))`` (as
    :func:`predictive_draws` does); pass ``[(slice(None), y[None])]`` for ``T(y)`` itself. The
    statistics: the skewness, the minimum, and the residual sd about the (fixed) ``fitted`` values
    in the top third of fitted values over that in the bottom third, near 1 under a constant noise
    sd (left out with fewer than 6 rows: a third then has no spread).

    Returns
    -------
    dict
        ``{statistic: (draws,) array}``.
    """
    n, third = len(y), len(y) // 3
    order = np.argsort(fitted, kind="stable")
    group = np.zeros(n, int)
    group[order[:third]], group[order[n - third :]] = -1, 1
    centre = float(np.mean(y))  # shifted sums: no cancellation in the central moments
    sums, minimum = 0.0, np.inf
    for rows, y_rep in chunks:
        d, r, g = y_rep - centre, y_rep - fitted[rows], group[rows]
        top, bottom = r[:, g == 1], r[:, g == -1]
        sums = sums + np.stack([d.sum(1), (d**2).sum(1), (d**3).sum(1), top.sum(1),
                                (top**2).sum(1), bottom.sum(1), (bottom**2).sum(1)])  # fmt: skip
        minimum = np.minimum(minimum, y_rep.min(axis=1))
    s1, s2, s3, t1, t2, b1, b2 = sums / [[n], [n], [n], [1], [1], [1], [1]]
    m2, m3 = s2 - s1**2, s3 - 3 * s1 * s2 + 2 * s1**3
    statistics = {SKEWNESS: m3 / m2**1.5, MINIMUM: minimum}
    if third >= 2:
        statistics[SPREAD] = np.sqrt((t2 - t1**2 / third) / (b2 - b1**2 / third))
    return statistics


def predictive_checks(y: np.ndarray, fitted: np.ndarray, chunks) -> list[dict]:
    """One :func:`experiments.verdicts.ppc_pvalue` per statistic of :func:`predictive_statistics`:
    ``p = P(T(y_rep) >= T(y))`` over the replicated data sets in ``chunks``."""
    observed = predictive_statistics(y, fitted, [(slice(None), np.asarray(y)[None])])
    replicated = predictive_statistics(y, fitted, chunks)
    return [
        verdicts.ppc_pvalue(
            name,
            float(np.mean(replicated[name] >= observed[name][0])),
            observed[name][0],
            np.quantile(replicated[name], [0.03, 0.97]),
            draws=len(replicated[name]),
        )  # fmt: skip
        for name in observed
    ]


# --- LOO-PIT: the simultaneous ECDF band test of uniformity ---------------------------------------

PIT_SIMULATIONS = 1000  # uniform samples behind the bands and the p-value (resolution 0.001)
PIT_BANDS = (1 - verdicts.PPC_AMBER, 1 - verdicts.PPC_RED)  # the bands drawn: 95% and 99%


def _pit_extremity(counts: np.ndarray, n: int, x: np.ndarray) -> np.ndarray:
    """``1 - 2 min`` over the evaluation points of the binomial tail probabilities of the ECDF
    ``counts`` (the larger, the further the ECDF strays from uniform somewhere)."""
    # the simulated counts sit within a few binomial sds of n x: each distinct (count, point) pair
    # is evaluated once (1,000 x 999 tail probabilities are ~70,000 distinct ones; the same bits)
    point = np.broadcast_to(np.arange(len(x)), counts.shape)
    pairs, where = np.unique(counts * len(x) + point, return_inverse=True)
    count, point = np.divmod(pairs, len(x))
    lower = stats.binom.cdf(count, n, x[point])[where].reshape(counts.shape).min(axis=-1)
    upper = stats.binom.sf(count - 1, n, x[point])[where].reshape(counts.shape).min(axis=-1)
    return 1 - 2 * np.minimum(lower, upper)


def pit_ecdf_test(pit: np.ndarray, seed: int) -> dict:
    """Simultaneous ECDF band test of uniformity of PIT values (Säilynoja, Bürkner and Vehtari
    2022, the test behind ArviZ's LOO-PIT bands), by simulation.

    The ECDF of ``n`` uniform values, at ``x = 1/n, ..., (n-1)/n``, has binomial counts; a sample's
    extremity is how improbable its most improbable count is. ``p`` is the share of
    :data:`PIT_SIMULATIONS` uniform samples at least as extreme as ``pit``; the band of
    probability ``q`` is the pointwise binomial band at the ``q`` quantile of the simulated
    extremities, so the ECDF leaves it when ``p < 1 - q``.

    Returns
    -------
    dict
        ``x``, ``ecdf`` (at ``x``), ``p_value`` and ``bands`` ``{q: (low, high)}`` for
        :data:`PIT_BANDS`.
    """
    n = len(pit)
    x = np.arange(1, n) / n
    rng = np.random.default_rng(seed)
    simulated = np.sort(rng.uniform(size=(PIT_SIMULATIONS, n)), axis=1)
    counts = np.array([np.searchsorted(row, x, side="right") for row in simulated])
    extremity = _pit_extremity(counts, n, x)
    observed = np.searchsorted(np.sort(pit), x, side="right")
    bands = {}
    for q in PIT_BANDS:
        central = np.quantile(extremity, q)
        bands[q] = (stats.binom.ppf((1 - central) / 2, n, x) / n,
                    stats.binom.ppf((1 + central) / 2, n, x) / n)  # fmt: skip
    return {"x": x, "ecdf": observed / n, "bands": bands,
            "p_value": float(np.mean(extremity >= _pit_extremity(observed, n, x)))}  # fmt: skip


def exact_loo_pit(md, mean: np.ndarray, cov: np.ndarray) -> np.ndarray | None:
    """Each row's probability integral transform under its exact leave-one-out predictive (the
    rank-one downdate of the fixed-sigma Gaussian posterior ``(mean, cov)``,
    :func:`models.ridge.loo_predictive`: no importance sampling, so no Pareto k to doubt); None
    when a row's leverage rounds to 1 (a row that alone pins a coefficient, in floating point),
    where the downdate is lost to rounding."""
    try:
        centre, spread = ridge.loo_predictive(md.X, md.y, mean, cov, md.noise_sd)
    except ridge.LeverageRoundsToOne:
        return None
    return stats.norm.cdf(md.y, centre, spread)


# --- correlation and prediction -----------------------------------------------------------------


def predictive_compute(run: Run) -> dict:
    md, dt = run.state["md"], run.state["dt"]
    names = run.results["feature_names"]
    chains = dt["posterior"].sizes["chain"]
    # The fixed-sigma posterior is Gaussian and known exactly, so are its correlations (no draw
    # set's Monte Carlo error: other pages' draws give other third digits) and each row's
    # predictive (O(n p^2), any n)
    exact_mean, exact_cov = ridge.SPEC.closed_form.exact_posterior(run.state["values"], md)
    sd = np.sqrt(np.diag(exact_cov))[1:]
    corr = np.atleast_2d(exact_cov[1:, 1:] / np.outer(sd, sd))
    off = np.abs(corr - np.eye(len(corr)))
    a, b = np.unravel_index(np.argmax(off), off.shape)  # (0, 0) with one feature: no pair
    low, high = intervals.gaussian(*ridge.predictive(md.X, exact_mean, exact_cov, md.noise_sd))
    covered = int(np.sum((md.y >= low) & (md.y <= high)))
    fitted = exact_mean[0] + md.X @ exact_mean[1:]  # = Ridge's prediction (mode = mean here)
    keep = md.X.shape[0] * dt["posterior"].sizes["draw"] * chains <= SAVED_DRAWS_X_ROWS
    replicated = predictive_draws(dt, md.X, md.noise_sd, run.seed)
    if keep:  # drawn once: the check and the saved posterior_predictive group are the same data
        replicated = list(replicated)
    checks = predictive_checks(md.y, fitted, replicated)
    overall = run.check("Predictive check", verdicts.predictive_check(checks))
    w_prior, prior = prior_predictive(md.X, md.y, run.results["posterior"]["prior_values"]["prior_sd"],
                                      md.noise_sd, run.seed)  # fmt: skip
    loo_pit = None
    if keep:
        # saved with the posterior: what az.loo, az.loo_pit and predictive checks need, the
        # replicated data being the ones the check above used
        pointwise_log_likelihood(dt, md.X, md.y, md.noise_sd, ridge.SPEC)
        dt["observed_data"] = xr.DataTree(xr.Dataset({"y": ("obs", md.y)}))
        y_rep = np.concatenate([block for _, block in replicated], axis=1)
        dt["posterior_predictive"] = _group(y_rep, chains)
        dt["prior_predictive"] = _group(prior, 1)
        feature = dt["posterior"]["w"].dims[-1]
        dt["prior"] = _group(w_prior, 1, "w", feature, dt["posterior"][feature].values)
        pit = exact_loo_pit(md, exact_mean, exact_cov)
        if pit is not None:
            test = pit_ecdf_test(pit, run.seed)
            run.state["loo_pit"] = test
            loo_pit = run.check("LOO-PIT", verdicts.loo_pit(test["p_value"], len(md.y)))
    run.state["predictive"] = (low, high)
    most = (
        verdicts.correlation(names[a], names[b], float(corr[a, b]),
                             "exact posterior at the reference alpha, sigma fixed")
        if a != b else None
    )  # fmt: skip
    if most is not None:
        run.adds(most)
    return {"posterior": {**run.results["posterior"], "correlation": corr, "predictive_coverage_94": covered / len(md.y),
                          "predictive_coverage": verdicts.coverage(
                              f"In-sample {intervals.PROB:.0%} predictive intervals (rows the fit saw)",
                              covered, len(md.y), intervals.PROB),
                          "prior_predictive_sd_over_sd_y": float(prior.std() / md.y.std()),
                          "most_correlated": (names[a], names[b], float(corr[a, b])) if a != b else None,
                          "correlation_verdict": most},
            "predictive_check": {"statistics": checks, "overall": overall, "loo_pit": loo_pit,
                                 "loo_pit_lost_to_rounding": keep and loo_pit is None}}  # fmt: skip


def correlation_figure(run: Run) -> None:
    """The most correlated pair (draws, the exact 94% ellipse, MAP, sklearn) and every correlation."""
    res, post, md = run.results, run.results["posterior"], run.state["md"]
    names, corr = res["feature_names"], np.asarray(post["correlation"])
    pair = [names.index(post["most_correlated"][0]), names.index(post["most_correlated"][1])]
    w = intervals.draws(run.state["dt"], "w").values[:, pair]
    exact_mean, exact_cov = ridge.SPEC.closed_form.exact_posterior(run.state["values"], md)
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
    ax.set_xlabel(
        coefficient_label("gaussian", f"w[{figure_label(names[pair[0]])}]"), parse_math=False
    )
    ax.set_ylabel(
        coefficient_label("gaussian", f"w[{figure_label(names[pair[1]])}]"), parse_math=False
    )
    ax.set_title(f"most correlated pair: exact posterior correlation {corr[pair[0], pair[1]]:+.2f}")
    ax.legend(fontsize=8)
    image = ax2.imshow(corr, cmap="RdBu_r", vmin=-1, vmax=1)
    name_ticks(ax2, "x", range(len(names)), names, 12, rotation=90)
    name_ticks(ax2, "y", range(len(names)), names, 12)
    ax2.grid(False)
    ax2.set_title("exact posterior correlation of the coefficients")
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


def _label_ppc(pc, what: str, replicated: str) -> None:
    """Axis labels and a legend on an ``az.plot_ppc_dist`` figure (replicated densities in one
    colour, then the observed one, if drawn, in another)."""
    ax = pc.viz["figure"].item().axes[0]
    lines = ax.get_lines()
    ax.set_xlabel("y (target, original units)")
    ax.set_ylabel("density")
    ax.set_title(what)
    # ArviZ draws the observed density (in its own colour, last) only with observed data to show
    observed = lines[-1].get_color() != lines[0].get_color()
    ax.legend([lines[0], lines[-1]][: 1 + observed], [replicated, "observed y"][: 1 + observed],
              fontsize=8)  # fmt: skip


def loo_pit_figure(run: Run) -> None:
    """The ECDF of the LOO-PIT values minus the uniform CDF, with the simultaneous bands."""
    test = run.state["loo_pit"]
    x = test["x"]
    fig, ax = plt.subplots(figsize=(8, 4))
    for q, shade in zip(sorted(test["bands"], reverse=True), (0.15, 0.3), strict=True):
        low, high = test["bands"][q]
        ax.fill_between(x, low - x, high - x, step="post", color=COLORS["posterior"], alpha=shade,
                        lw=0, label=f"simultaneous {q:.0%} band for uniform PIT")  # fmt: skip
    ax.step(x, test["ecdf"] - x, where="post", color="black", lw=1.2,
            label="LOO-PIT ECDF - uniform CDF")  # fmt: skip
    ax.axhline(0, color="0.4", lw=0.6)
    ax.set_xlabel("LOO-PIT value")
    ax.set_ylabel("ECDF difference")
    ax.set_title(f"LOO-PIT of {len(x) + 1} rows: simultaneous band test p = {test['p_value']:.3g}")
    legend_below(fig, ax, ncol=3, offset=-0.12)
    save(fig, run.out / "loo_pit.png")


def predictive_figures(run: Run) -> None:
    if run.results["posterior"]["most_correlated"] is not None:
        correlation_figure(run)
    predictive_figure(run)
    dt = run.state["dt"]
    if "posterior_predictive" in dt.children:
        for name, plot, what, replicated in (
            (
                "prior_predictive.png",
                lambda: az.plot_ppc_dist(dt, group="prior_predictive"),
                "prior predictive",
                "data sets from the prior",
            ),
            (
                "ppc.png",
                lambda: az.plot_ppc_dist(dt),
                "posterior predictive",
                "replicated data sets (posterior)",
            ),
        ):
            pc = plot()
            _label_ppc(pc, what, replicated)
            save(pc.viz["figure"].item(), run.out / name)
    if "loo_pit" in run.state:
        loo_pit_figure(run)


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
    inside, lpd, plug_in, widening = np.zeros(n, bool), np.zeros(n), np.zeros(n), np.zeros(n)
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
        widening[test] = sd / sigma
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
        "predictive_sd_over_sigma": float(widening.mean()),
        "coverage_verdict": verdicts.coverage(f"Held-out {intervals.PROB:.0%} predictive intervals",
                                              covered, n, intervals.PROB),
        "lpd_verdict": verdicts.comparison("Mean log predictive density per held-out row",
                                           "posterior", "plug-in (Ridge's prediction, same sigma)",
                                           float(difference.mean()),
                                           float(difference.std(ddof=1) / np.sqrt(n)), False),
    }}  # fmt: skip


def heldout_page(page: report.Page, results: dict) -> None:
    held = results["heldout"]
    page.heading("Held-out rows")
    if held is None:
        page.text(f"Too few rows to hold {HELDOUT_FOLDS} folds out and still estimate sigma in each "
                  "training fold; only the in-sample coverage above is shown.")  # fmt: skip
        return
    page.text(f"Every row predicted from a fit that never saw it ({held['folds']}-fold cross-fitting, "
              "seeded; alpha re-chosen by RidgeCV and sigma re-estimated inside each training fold).")  # fmt: skip
    page.bullets([
        report.sentence(held["coverage_verdict"]),
        report.sentence(held["lpd_verdict"]) + f" (posterior {held['lpd_posterior']:.4f}, plug-in "
        f"{held['lpd_plug_in']:.4f} per row).",
        f"The held-out predictive sd is on average {held['predictive_sd_over_sigma']:.4f} times sigma: "
        f"parameter uncertainty widens the plug-in's interval by "
        f"{held['predictive_sd_over_sigma'] - 1:.2%} with {held['n']} rows for "
        f"{len(results['feature_names'])} coefficients.",
    ])  # fmt: skip


def _ridge_prediction(run: Run) -> np.ndarray:
    md = run.state["md"]
    return (
        ridge.SPEC.link.sklearn({"alpha": run.results["posterior"]["alpha"]}, md)
        .fit(md.X, md.y)
        .predict(md.X)
    )


def predictive_page(page: report.Page, results: dict) -> None:
    post, check = results["posterior"], results["predictive_check"]
    page.heading("Correlation and prediction")
    hides = []
    if post["most_correlated"] is not None:
        page.figure("correlation.png", "Left: the most correlated pair of coefficients; the point "
                    "estimate is one dot in a tilted cloud (NUTS draws; the ellipse is exact). Right: every "
                    "posterior correlation, exact (sigma fixed, reference alpha).",
                    observe=post["correlation_verdict"])  # fmt: skip
        hides.append(report.sentence(post["correlation_verdict"]))
    page.figure("predictive.png", f"Posterior predictive {intervals.PROB:.0%} intervals against Ridge's "
                "single prediction.", observe=post["predictive_coverage"])  # fmt: skip
    page.heading("Predictive checks")
    page.verdict(check["overall"])
    page.bullets([report.sentence(v) for v in check["statistics"]])
    page.text("Each p = P(T(y_rep) ≥ T(y)) over the replicated data sets (one per NUTS draw, sigma "
              "fixed); the spread ratio is the residual sd about Ridge's fitted values in the top third "
              "of fitted values over that in the bottom third (near 1 for a constant noise sd).")  # fmt: skip
    if check["overall"]["level"] != "green":
        page.text("What failing means: a Normal likelihood with one noise sd cannot reproduce a "
                  "target that is skewed, bounded below or heteroscedastic. The coefficients' "
                  "posterior is still the exact posterior of this model; its predictive distribution "
                  "is what is wrong. A Gamma-likelihood GLM is a model for a positive, right-skewed "
                  "target whose spread grows with its mean: the [gamma page](page:gamma) fits one "
                  "to this target and sets both predictive checks and their PSIS-LOO side by side.")  # fmt: skip
    if (page.out / "ppc.png").is_file():
        ratio = post["prior_predictive_sd_over_sd_y"]
        verdict = ("narrower than the data: the prior is informative about the size of y" if ratio < 1
                   else "wider than the data without dwarfing them" if ratio < 10
                   else "far wider than the data: the prior says little about y")  # fmt: skip
        page.figure("prior_predictive.png", "Prior predictive check (az.plot_ppc_dist, group "
                    f"prior_predictive) at the reference prior (tau = {post['prior_values']['prior_sd']:.4g}, "
                    "sigma fixed, b0 held at mean(y) since its prior is flat): densities of data sets "
                    "simulated from the prior.", observe=f"the sd of y the prior implies is {ratio:.2f} times "
                    f"the observed sd: {verdict} (below 1: narrower; 1 to 10: wider; above 10: far wider).")  # fmt: skip
        page.figure("ppc.png", "Posterior predictive check (az.plot_ppc_dist): densities of replicated "
                    "data sets (blue) against the observed y (black).", observe=check["overall"])  # fmt: skip
    if check["loo_pit"] is not None:
        page.figure("loo_pit.png", "LOO-PIT: the probability integral transform of each observation "
                    "under its exact leave-one-out predictive (closed form, models/ridge.py, "
                    "loo_predictive: no importance sampling), as the difference between "
                    "its ECDF and the uniform CDF, with simultaneous bands for uniform values "
                    f"({', '.join(f'{q:.0%}' for q in PIT_BANDS)}; {PIT_SIMULATIONS} simulations).",
                    observe=check["loo_pit"])  # fmt: skip
    elif check["loo_pit_lost_to_rounding"]:
        page.text("No LOO-PIT: a row's leverage under the posterior rounds to 1 (that row alone "
                  "pins a coefficient, in floating point), so its leave-one-out predictive cannot "
                  "be had from the full posterior; rescaling the columns (the default "
                  "standardisation) avoids it.")  # fmt: skip
    page.heading("What else the point estimate hides")
    page.bullets([
        *hides,
        "**Predictions.** Ridge predicts one number per row; the posterior gives each an interval. "
        + report.sentence(post["predictive_coverage"]),
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
            "exact evidence at the reference alpha and at its maximum",
            evidence_compute,
            None,
            evidence_page,
        ),
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
