"""Experiment ``logistic``: L2 logistic regression is the MAP of a Bernoulli-logit model.

The generic family experiment (MAP = sklearn over C in [1e-3, 1e3], the posterior at the
cross-validated C, mode vs mean per coefficient) plus held-out rows: scikit-learn gives each one
probability, the posterior gives a distribution over it; both are checked for calibration.

    python -m experiments logistic [--data FILE.csv --target COL] [--test-fraction F]
"""

from __future__ import annotations

import argparse
import warnings

import numpy as np

from experiments import common, intervals, report, verdicts
from experiments.family import penalty_experiment
from experiments.report import user
from experiments.runner import Card, Run, Section
from experiments.style import COLORS, coefficient_label, figure_label, name_ticks, plt, save
from models import logistic
from models.core.arrays import SAVED_DRAWS_X_ROWS, linear_predictor_chunks, pointwise_log_likelihood
from models.core.base import InputError
from models.core.data import arrays
from models.core.lazy import lazy
from models.inference.engines import PosteriorSampler, tuning_iterations

az = lazy("arviz")
xr = lazy("xarray")
special = lazy("scipy.special")
helper_stats = lazy("arviz_stats.helper_stats")
# the PSIS resampling plot_loo_pava draws from (a private helper: the verdict counts the band drawn)
loo_pava_plot = lazy("arviz_plots.plots.loo_pava_plot")
stats = lazy("scipy.stats")
sk_calibration = lazy("sklearn.calibration")
metrics = lazy("sklearn.metrics")
model_selection = lazy("sklearn.model_selection")

INTERVAL = 0.94
CALIBRATION_BINS = 10


def options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--test-fraction",
        type=common.open_fraction,
        default=0.25,
        help="share of rows held out (stratified, seeded) for the predictive check (default 0.25)",
    )


def logits(dt, X: np.ndarray) -> np.ndarray:
    """Posterior draws of the logit b0 + x w for each row of ``X``: shape ``(draws, rows)``."""
    b0, w = intervals.draws(dt, "intercept").values, intervals.draws(dt, "w").values
    return np.concatenate([eta for _, eta in linear_predictor_chunks(b0, w, X)], axis=1)


def predictive_probabilities(dt, X: np.ndarray) -> np.ndarray:
    """Posterior draws of P(y=1 | x) for each row of ``X``: shape ``(draws, rows)``."""
    return special.expit(logits(dt, X))


def validate(run: Run) -> None:
    """Both classes must be represented on both sides of the stratified split."""
    counts = np.bincount(run.data.y.astype(int), minlength=2)
    needed = int(np.ceil(2 / min(run.args.test_fraction, 1 - run.args.test_fraction)))
    if counts.min() < needed:
        raise InputError(
            f"the held-out check needs at least {needed} rows of each class at --test-fraction "
            f"{run.args.test_fraction:g}; the target has {counts[0]} zeros and {counts[1]} ones"
        )


def heldout_compute(run: Run) -> dict:
    """Fit on a seeded stratified split at the reference C; compare probabilities on the rest."""
    args, cfg, data = run.args, run.cfg, run.data
    C = run.results["posterior"]["C"]
    X_train, X_test, y_train, y_test = model_selection.train_test_split(
        data.X, data.y, test_size=args.test_fraction, stratify=data.y, random_state=args.seed
    )
    train = arrays(X_train, y_train, data.feature_names)
    sk = logistic.SPEC.link.sklearn({"C": C}, train).fit(X_train, y_train)
    sk_prob = sk.predict_proba(X_test)[:, 1]
    dt = PosteriorSampler(logistic.build(train)).sample(
        {"prior_sd": logistic.C_to_prior_sd(C)}, draws=cfg["draws"], chains=cfg["chains"],
        tune=tuning_iterations("logistic"), seed=args.seed + 1,
    )  # fmt: skip
    run.diagnose(report.sampling_diagnostics(f"logistic on the training split (C={C:.4g})", dt,
                                             ["intercept", "w"]))  # fmt: skip
    prob_draws = predictive_probabilities(dt, X_test)
    post_prob = prob_draws.mean(axis=0)
    low, high = np.quantile(prob_draws, [(1 - INTERVAL) / 2, (1 + INTERVAL) / 2], axis=0)
    scores = {
        "log_loss": {"sklearn": metrics.log_loss(y_test, sk_prob),
                     "posterior": metrics.log_loss(y_test, post_prob)},
        "brier": {"sklearn": metrics.brier_score_loss(y_test, sk_prob),
                  "posterior": metrics.brier_score_loss(y_test, post_prob)},
    }  # fmt: skip
    calibration = {label: binned_calibration(y_test, prob)
                   for label, prob in (("sklearn", sk_prob), ("posterior", post_prob))}  # fmt: skip
    spans_half = (low < 0.5) & (high > 0.5)
    outside = (sk_prob < low) | (sk_prob > high)
    # Paired per-row difference of the log loss: its mean is the difference of the two scores.
    loss = {label: row_log_loss(y_test, prob) for label, prob in (("sklearn", sk_prob),
                                                                  ("posterior", post_prob))}  # fmt: skip
    difference = loss["posterior"] - loss["sklearn"]
    shift = np.abs(post_prob - sk_prob)
    return {
        "heldout": {
            "C": C, "test_fraction": args.test_fraction, "n_train": len(y_train), "n_test": len(y_test),
            "y": y_test, "sklearn_prob": sk_prob, "posterior_mean_prob": post_prob,
            "prob_low": low, "prob_high": high, "interval": INTERVAL, **scores,
            # C came from the reference rule (cross-validation of the plug-in), not from --C
            "C_tuned_for_plug_in": not run.state["source"].startswith("--"),
            "n_interval_contains_half": int(spans_half.sum()),
            "n_sklearn_outside_interval": int(outside.sum()), "calibration": calibration,
            "log_loss_comparison": verdicts.comparison(
                "Held-out log loss per row", "posterior mean", "plug-in",
                float(np.mean(difference)), float(np.std(difference, ddof=1) / np.sqrt(len(y_test))),
                lower_is_better=True),
            "shift": verdicts.probability_shift(
                int(np.sum(shift > verdicts.PROBABILITY_SHIFT)),
                int(np.sum((post_prob >= 0.5) != (sk_prob >= 0.5))), len(y_test), float(shift.max())),
            "fragile": run.adds(verdicts.interval_width("held-out rows", high - low, sk_prob,
                                                        INTERVAL, y_test)),
            "calibration_verdicts": {label: calibration_verdict(cal)
                                     for label, cal in calibration.items()},
        }
    }  # fmt: skip


def row_log_loss(y: np.ndarray, prob: np.ndarray) -> np.ndarray:
    """Each row's log loss, with probabilities clipped as ``sklearn.metrics.log_loss`` clips them
    (to machine epsilon): the mean is that score."""
    eps = np.finfo(float).eps
    prob = np.clip(prob, eps, 1 - eps)
    return -np.where(y == 1, np.log(prob), np.log1p(-prob))


def calibration_verdict(cal: dict) -> dict:
    """How many bins' Jeffreys intervals of :func:`binned_calibration` exclude their bin's mean
    prediction (the diagonal), as a :func:`experiments.verdicts.calibration_bins` verdict."""
    mean, low, high = (
        np.asarray(cal[k]) for k in ("mean_predicted", "interval_low", "interval_high")
    )
    return verdicts.calibration_bins(int(np.sum((mean < low) | (mean > high))), len(mean), INTERVAL)


def binned_calibration(y: np.ndarray, prob: np.ndarray) -> dict:
    """scikit-learn's reliability curve on uniform bins (``calibration_curve``) with each non-empty
    bin's index, its row count and a 94% Jeffreys interval for its observed frequency: a bin of 2
    rows says little."""
    frac, mean_pred = sk_calibration.calibration_curve(y, prob, n_bins=CALIBRATION_BINS)
    ids = np.searchsorted(np.linspace(0, 1, CALIBRATION_BINS + 1)[1:-1], prob)  # sklearn's bins
    rows = np.bincount(ids, minlength=CALIBRATION_BINS)
    events = np.bincount(ids, weights=y, minlength=CALIBRATION_BINS)
    n, k = rows[rows > 0], events[rows > 0]
    low, high = stats.beta.ppf([[(1 - INTERVAL) / 2], [(1 + INTERVAL) / 2]], k + 0.5, n - k + 0.5)
    low, high = np.where(k == 0, 0.0, low), np.where(k == n, 1.0, high)  # Jeffreys at the ends
    return {"bin": np.flatnonzero(rows), "mean_predicted": mean_pred, "fraction_positive": frac,
            "rows": n, "interval_low": low, "interval_high": high}  # fmt: skip


def heldout_figures(run: Run) -> None:
    held = run.results["heldout"]
    y_test, sk_prob, post_prob, low, high, calibration = (
        np.asarray(held[k]) if k != "calibration" else held[k]
        for k in (
            "y",
            "sklearn_prob",
            "posterior_mean_prob",
            "prob_low",
            "prob_high",
            "calibration",
        )
    )
    out = run.out
    order = np.argsort(sk_prob)
    rank = np.arange(len(order))
    fig, ax = plt.subplots(figsize=(11, 4.2))
    ax.vlines(rank, low[order], high[order], color=COLORS["posterior"], alpha=0.5, lw=1.5,
              label=f"posterior {INTERVAL:.0%} interval")  # fmt: skip
    ax.plot(rank, post_prob[order], "o", ms=3, color=COLORS["posterior"], label="posterior mean")
    ax.plot(rank, sk_prob[order], "_", ms=7, mew=1.5, color=COLORS["sklearn"],
            label="sklearn (= MAP plug-in)")  # fmt: skip
    ax.plot(rank, y_test[order], "|", ms=6, color=COLORS["data"], label="observed y")
    ax.set_xlabel("held-out row, sorted by sklearn's probability")
    ax.set_ylabel("P(y = 1 | x)")
    ax.set_title("Held-out predictions: sklearn's single probability inside the posterior's spread")
    ax.legend(loc="upper left", fontsize=8)
    save(fig, out / "heldout_probabilities.png")

    fig, (top, bottom) = plt.subplots(2, 1, figsize=(6.5, 7), height_ratios=(3, 1), sharex=True,
                                      layout="constrained")  # fmt: skip
    top.plot([0, 1], [0, 1], color=COLORS["data"], lw=1, ls=":", label="perfectly calibrated")
    for label, style, prob, shift in (("sklearn", "s--", sk_prob, -0.006),
                                      ("posterior", "o-", post_prob, 0.006)):  # fmt: skip
        cal = {k: np.asarray(v) for k, v in calibration[label].items()}
        x, frac = cal["mean_predicted"] + shift, cal["fraction_positive"]
        top.errorbar(x, frac, yerr=[frac - cal["interval_low"], cal["interval_high"] - frac],
                     fmt=style, color=COLORS[label], capsize=3, lw=1.2, ms=5,
                     label=("sklearn" if label == "sklearn" else "posterior mean")
                     + f", {INTERVAL:.0%} Jeffreys interval per bin")  # fmt: skip
        bottom.hist(prob, bins=CALIBRATION_BINS, range=(0, 1), histtype="step", lw=1.5,
                    color=COLORS[label])  # fmt: skip
    # Row counts at the bin centres, in a strip above the curve: bins are 0.1 apart, so the labels
    # never collide, and they cover no point.
    cal = calibration["posterior"]
    for k, n in zip(cal["bin"], cal["rows"], strict=True):
        centre = (k + 0.5) / CALIBRATION_BINS
        top.annotate(f"n={n}", (centre, 1.0), xycoords=("data", "axes fraction"),
                     xytext=(0, 3), textcoords="offset points", ha="center", va="bottom",
                     fontsize=7, color=COLORS["posterior"])  # fmt: skip
    top.set_ylabel("observed frequency of y = 1")
    top.set_title("Calibration on held-out rows (n = rows per bin, posterior mean)", pad=16)
    bottom.set_xlabel("predicted probability")
    bottom.set_ylabel("rows")
    fig.legend(*top.get_legend_handles_labels(), loc="outside lower center", ncol=2, fontsize=8)
    save(fig, out / "calibration.png")


def heldout_page(page: report.Page, results: dict) -> None:
    held = results["heldout"]
    C, scores = held["C"], {k: held[k] for k in ("log_loss", "brier")}
    low, high = np.asarray(held["prob_low"]), np.asarray(held["prob_high"])
    n_test = held["n_test"]
    page.heading("Held-out rows: one probability, or a distribution over it")
    page.text(
        f"A stratified split (seed {results['settings']['seed']}) holds out {n_test} of {results['n_obs']} rows. "
        f"scikit-learn and the posterior are both fitted on the other {held['n_train']} at C = {C:.4g} "
        f"(prior sd {logistic.C_to_prior_sd(C):.4g}); intervals are {INTERVAL:.0%} equal-tailed "
        "posterior intervals of P(y = 1 | x)."
    )
    page.table(
        ["score on held-out rows (lower is better)", "sklearn probability", "posterior mean probability"],
        [["log loss", scores["log_loss"]["sklearn"], scores["log_loss"]["posterior"]],
         ["Brier score", scores["brier"]["sklearn"], scores["brier"]["posterior"]]],
    )  # fmt: skip
    page.figure("heldout_probabilities.png", f"Held-out rows sorted by scikit-learn's probability (red): "
                f"the posterior mean (blue) and its {INTERVAL:.0%} interval (bars).",
                observe=held["fragile"])  # fmt: skip
    sparse = int(np.sum(np.asarray(held["calibration"]["posterior"]["rows"]) < 10))
    cal = held["calibration_verdicts"]
    page.figure("calibration.png", "Calibration: observed frequency of y = 1 in bins of predicted "
                f"probability, for scikit-learn and the posterior mean, each with a {INTERVAL:.0%} "
                "Jeffreys interval; rows per bin above the curve, histogram of the predictions "
                f"below. {sparse} of the posterior's {len(held['calibration']['posterior']['rows'])} "
                "non-empty bins hold fewer than 10 rows: their intervals are wide, and the PAV "
                "diagrams below pool rows instead of binning.",
                observe=f"Posterior mean: {report.sentence(cal['posterior'])} sklearn: "
                f"{report.sentence(cal['sklearn'])}")  # fmt: skip
    tuned = ("C was chosen by cross-validating the plug-in's log loss, so the plug-in is scored at "
             "the C tuned for it; the posterior mean was not tuned." if held["C_tuned_for_plug_in"]
             else "C was given on the command line, tuned for neither.")  # fmt: skip
    page.bullets([
        f"**The same point, different uncertainty.** For {held['n_interval_contains_half']} of "
        f"{n_test} held-out rows the {INTERVAL:.0%} interval of the probability contains 0.5: the "
        "model is not sure which class they are, which a single probability does not say. Widest "
        f"interval: {float(np.max(high - low)):.3f}.",
        f"**Posterior mean probability against the plug-in at the mode.** "
        f"{report.sentence(held['shift'])} scikit-learn's probability lies "
        f"outside the {INTERVAL:.0%} interval for {held['n_sklearn_outside_interval']} rows.",
        f"**Which scores better here.** {report.sentence(held['log_loss_comparison'])} {tuned}",
    ])  # fmt: skip


SIGN_COLORS = {"settled": COLORS["posterior"], "likely": COLORS["OLS"], "uncertain": "#9a9a9a"}


def forest_figures(run: Run) -> None:
    """Every coefficient on one axis: the posterior mean, the suite's interval and the MAP, coloured
    by its sign verdict (one shared x-scale, unlike a panel per coefficient)."""
    post, names = run.results["posterior"], run.results["feature_names"]
    outcome = {v["subject"]: v["outcome"] for key in ("settled", "likely", "uncertain")
               for v in post["signs"][key]}  # fmt: skip
    rows = np.arange(len(names))[::-1]
    fig, ax = plt.subplots(figsize=(7.5, 1.2 + 0.24 * len(names)), layout="constrained")
    ax.axvline(0, color=COLORS["data"], lw=0.8, ls=":")
    for y, name, low, high, mean, mode in zip(rows, names, post["hdi_94_low"], post["hdi_94_high"],
                                              post["mean"], post["map"], strict=True):  # fmt: skip
        color = SIGN_COLORS[outcome[name]]
        ax.hlines(y, low, high, color=color, lw=2)
        ax.plot(mean, y, "o", ms=4, color=color)
        ax.plot(mode, y, "x", ms=5, color=COLORS["MAP"])
    name_ticks(ax, "y", rows, names)
    ax.set_xlabel(coefficient_label("bernoulli"))
    ax.set_title(f"Every coefficient: posterior mean (dot), {intervals.PROB:.0%} "
                 f"{intervals.KIND.upper()} (bar), MAP = sklearn (x)")  # fmt: skip
    handles = [plt.Line2D([], [], color=c, lw=2, label=f"sign {k} (P(w > 0))")
               for k, c in SIGN_COLORS.items()]  # fmt: skip
    fig.legend(handles=handles, loc="outside lower center", ncol=3, fontsize=8)
    save(fig, run.out / "forest.png")


def forest_page(page: report.Page, results: dict) -> None:
    post, names = results["posterior"], results["feature_names"]
    width = np.subtract(post["hdi_94_high"], post["hdi_94_low"])
    widest, narrowest = int(np.argmax(width)), int(np.argmin(width))
    signs = post["signs"]
    page.figure("forest.png", f"All {len(names)} coefficients on one scale (log-odds per unit of "
                "the standardised feature), coloured by what P(w > 0) says of their sign (settled "
                f"at ≥ {verdicts.SIGN_SETTLED} either way, likely at ≥ {verdicts.SIGN_LIKELY}).",
                observe=f"{len(signs['settled'])} settled, {len(signs['likely'])} likely and "
                f"{len(signs['uncertain'])} uncertain signs; interval widths run from "
                f"{width[narrowest]:.3g} ({user(names[narrowest])}) to {width[widest]:.3g} "
                f"({user(names[widest])}).")  # fmt: skip


EXTREME = 0.01  # P(y = 1) below this or above 1 - this counts as "near-certain"


def prior_compute(run: Run) -> dict:
    """Prior predictive P(y = 1 | x) for every row: w ~ Normal(0, tau), b0 held at logit(mean(y))
    (its prior is flat: it has no prior predictive), at tau = 1 and at the reference tau (drawn
    once when the reference is tau = 1)."""
    data = run.data
    rng = np.random.default_rng(run.seed)
    b0 = float(np.log(data.y.mean() / (1 - data.y.mean())))
    reference = run.results["posterior"]["prior_values"]["prior_sd"]
    taus = [1.0] if np.isclose(reference, 1.0) else [1.0, reference]
    draws, summary = {}, {}
    for tau in taus:
        w = tau * rng.standard_normal((500, data.X.shape[1]))
        prob = special.expit(b0 + w @ data.X.T)
        draws[tau] = prob.ravel()
        extreme = np.mean((prob < EXTREME) | (prob > 1 - EXTREME))
        summary[tau] = {"tau": tau, "fraction_near_certain": float(extreme),
                        "logit_sd": float(np.std(w @ data.X.T))}  # fmt: skip
        if tau == taus[-1]:
            _save_prior(run.state["dt"], w)
    run.state["prior_probabilities"] = draws
    return {"prior_predictive": {"tau = 1": summary[1.0], "reference tau": summary[taus[-1]]}}


def _save_prior(dt, w: np.ndarray) -> None:
    """The prior draws of w at the reference tau, as posterior.nc's ``prior`` group (one chain,
    the posterior's coefficient dimension); b0's prior is flat, so it has no draws."""
    coefficient = dt["posterior"]["w"].dims[-1]
    coords = {"chain": [0], "draw": np.arange(len(w)),
              coefficient: dt["posterior"][coefficient].values}  # fmt: skip
    dt["prior"] = xr.DataTree(
        xr.Dataset({"w": (("chain", "draw", coefficient), w[None])}, coords=coords)
    )


def prior_figures(run: Run) -> None:
    fig, ax = plt.subplots(figsize=(9, 3.6))
    reference = run.results["prior_predictive"]["reference tau"]["tau"]
    draws = run.state["prior_probabilities"]
    colors = (COLORS["sklearn"], COLORS["posterior"])[: len(draws)]
    for (tau, prob), color in zip(draws.items(), colors, strict=True):
        ax.hist(prob, bins=50, range=(0, 1), density=True, histtype="step", lw=2, color=color,
                label=f"prior predictive, tau = {tau:.3g}"
                + (" (the reference, where the posterior is shown)" if tau == reference else ""))  # fmt: skip
    ax.set_xlabel("P(y = 1 | x) implied by the prior (every row, 500 prior draws)")
    ax.set_ylabel("density")
    ax.set_title("Prior predictive check: what the prior says about the probabilities")
    ax.legend(fontsize=8, loc="upper center")
    save(fig, run.out / "prior_predictive.png")


def prior_page(page: report.Page, results: dict) -> None:
    prior = results["prior_predictive"]
    one, ref = prior["tau = 1"], prior["reference tau"]
    page.heading("Prior predictive check")
    same = ref["tau"] == one["tau"]
    reference = ("The reference prior is tau = 1 itself." if same else
                 f"At the reference tau = {ref['tau']:.3g} the share is {ref['fraction_near_certain']:.0%}.")  # fmt: skip
    flat = 2 * EXTREME  # the share a uniform distribution of probabilities puts there
    page.text(f"Before any data: with w_j ~ Normal(0, tau) on {len(results['feature_names'])} standardised "
              f"features, the logit b0 + x w has sd about tau sqrt(p) ({one['logit_sd']:.3g} at "
              f"tau = 1). So the prior tau = 1 puts {one['fraction_near_certain']:.0%} of the "
              f"prior probabilities below {EXTREME} or above {1 - EXTREME}, "
              f"{one['fraction_near_certain'] / flat:.3g} times the {flat:.0%} a uniform "
              f"distribution of probabilities puts there. {reference} b0 is held at "
              "logit(mean(y)): its prior is flat, so it has no prior predictive.")  # fmt: skip
    taus = "tau = 1" + ("" if same else " and at the reference tau")
    page.figure("prior_predictive.png", "The distribution of P(y = 1 | x) the prior implies, over "
                f"every row and 500 prior draws, at {taus}.",
                observe=f"At tau = 1, {one['fraction_near_certain']:.0%} of prior probabilities "
                f"are below {EXTREME} or above {1 - EXTREME} (a uniform distribution: {flat:.0%})"
                + ("." if same else f"; at the reference tau = {ref['tau']:.3g}, "
                   f"{ref['fraction_near_certain']:.0%}."))  # fmt: skip


def checks_compute(run: Run) -> dict:
    """Replicated outcomes and pointwise log likelihood from the reference posterior's draws (all
    rows): what the PAV-adjusted calibration checks (Säilynoja et al.) and LOO need."""
    dt, X, y = run.state["dt"], run.state["md"].X, run.state["md"].y.astype(int)
    chains, draws = dt["posterior"].sizes["chain"], dt["posterior"].sizes["draw"]
    eta = logits(dt, X).reshape(chains, draws, -1)
    prob = special.expit(eta)
    rng = np.random.default_rng([run.seed, 3])
    dims, obs = ("chain", "draw", "obs"), {"obs": np.arange(len(y))}
    groups = {
        "posterior_predictive": {"y": (dims, (rng.random(prob.shape) < prob).astype(np.int8))},
        "log_likelihood": {"y": (dims, pointwise_log_likelihood("bernoulli", eta, y))},
    }
    for name, variables in groups.items():
        dt[name] = xr.DataTree(xr.Dataset(variables, coords=obs))
    dt["observed_data"] = xr.DataTree(xr.Dataset({"y": ("obs", y)}, coords=obs))
    with warnings.catch_warnings():  # high Pareto k is shown on the page, not on stderr
        warnings.simplefilter("ignore", UserWarning)
        loo = az.loo(dt)
        pava = {
            "in-sample": pava_outside(dt),
            "leave-one-out": pava_outside(
                loo_pava_plot._loo_resample(dt, ["chain", "draw"], ["y"])
            ),
        }
    # drawn on the page and saved in posterior.nc, unless too large to save
    run.state["checks_on_page_only"] = prob.size > SAVED_DRAWS_X_ROWS
    n_high = int(np.sum(loo.pareto_k.values > verdicts.PARETO_K_MAX))
    reliability = run.check("Pareto k", verdicts.pareto_k(n_high, len(y)))
    # In-sample: the rows judged are the rows fitted, so calibration looks better than it is. LOO:
    # graded only when PSIS-LOO is reliable (Pareto k green); else "not assessed".
    return {"loo": {
        "elpd": float(loo.elpd), "se": float(loo.se), "p_loo": float(loo.p),
        "n_pareto_k_above_0_7": n_high, "pareto_k": reliability,
        "pava": {
            "in-sample": run.check("Calibration, in-sample (optimistic)", verdicts.pava(
                "PAV calibration, in-sample (optimistic)", pava["in-sample"], len(y), INTERVAL)),
            "leave-one-out": run.check("Calibration, leave-one-out", verdicts.pava(
                "PAV calibration, leave-one-out", pava["leave-one-out"], len(y), INTERVAL,
                loo=reliability)),
        },
    }}  # fmt: skip


def pava_outside(dt) -> int:
    """Rows whose conditional event probability (CEP, isotonic regression of the observed 0/1 on
    the predicted probability) lies outside the pointwise :data:`INTERVAL` consistency band: the
    numbers ``az.plot_ppc_pava`` draws (``arviz_stats.helper_stats.isotonic_fit``)."""
    _, cep, low, high = helper_stats.isotonic_fit(dt, ["y"], "posterior_predictive", INTERVAL)[
        "y"
    ].values
    return int(np.sum((cep < low) | (cep > high)))


def checks_figures(run: Run) -> None:
    dt = run.state["dt"]
    target = run.results["target"]
    for plot, name, title, x in (
        (az.plot_ppc_pava, "ppc_pava.png", "in-sample (optimistic)", "posterior mean P(y = 1)"),
        (az.plot_loo_pava, "loo_pava.png", "leave-one-out (PSIS)", "leave-one-out P(y = 1)"),
    ):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            pc = plot(dt, ci_prob=INTERVAL)  # the band the Calibration checks count against
        fig = pc.viz["figure"].item()
        ax = fig.axes[0]
        ax.set_title(f"PAV calibration of {figure_label(target)} = 1, {title}", parse_math=False)
        ax.set_xlabel(f"predicted probability: {x}")
        ax.set_ylabel("CEP (isotonic fit of y)")
        save(fig, run.out / name)
    if run.state.get("checks_on_page_only"):
        for name in ("posterior_predictive", "log_likelihood", "observed_data"):
            del dt[name]


def checks_page(page: report.Page, results: dict) -> None:
    loo = results["loo"]
    page.heading("Predictive checks")
    page.text("For a 0/1 outcome a density of replicated data says little; the check that matters "
              "is calibration: among rows given probability p, is the event frequency p? The "
              "PAV-adjusted reliability diagram (Dimitriadis, Gneiting and Jordan 2021; in ArviZ "
              "with the consistency band of Säilynoja et al.) estimates the conditional event "
              "probability (CEP) by isotonic regression and shows the band that calibrated "
              f"predictions stay within ({INTERVAL:.0%}, pointwise).")  # fmt: skip
    page.figure("ppc_pava.png", "Posterior predictive check (az.plot_ppc_pava): CEP of the "
                "observed outcomes against the posterior mean probability, in-sample: the rows "
                "judged are the rows fitted, so this is optimistic. The band is pointwise: a "
                f"calibrated curve leaves it at about {1 - INTERVAL:.0%} of rows, so the grade is "
                "the binomial tail of the count outside, not its share.",
                observe=loo["pava"]["in-sample"])  # fmt: skip
    page.figure("loo_pava.png", "The same against each row's leave-one-out probability "
                "(az.plot_loo_pava, PSIS-LOO): in-sample optimism removed, where PSIS-LOO is "
                "reliable (graded only when every Pareto k passes). This is the binary "
                "counterpart of the ridge page's LOO-PIT: for a 0/1 outcome every PIT value is a "
                "tie that would have to be broken at random.",
                observe=loo["pava"]["leave-one-out"])  # fmt: skip
    page.text(f"PSIS-LOO: elpd {loo['elpd']:.2f} +- {loo['se']:.2f} (sum over rows), effective "
              f"number of parameters p_loo {loo['p_loo']:.1f}.")  # fmt: skip
    page.verdict(loo["pareto_k"])
    if loo["pareto_k"]["outcome"] == "unreliable":
        page.text("Leaving one of those rows out moves this posterior too much for importance "
                  "sampling, so their LOO probabilities (in the elpd and in the LOO diagram) are "
                  "unreliable. The held-out split above refits without its rows and is the "
                  "trustworthy out-of-sample check here; exact refits or K-fold would fix the LOO "
                  "numbers.")  # fmt: skip


def card(results: dict) -> Card:
    held = results["heldout"]
    return Card("heldout_probabilities.png", (
        f"MAP = LogisticRegression to **{max(results['max_rel_diff']):.1e}** for C in "
        f"[{min(results['Cs']):g}, {max(results['Cs']):g}]; **{held['n_interval_contains_half']}** of "
        f"{held['n_test']} held-out rows have a {held['interval']:.0%} interval for the event probability "
        "containing 0.5."
    ))  # fmt: skip


EXPERIMENT = penalty_experiment(
    logistic.SPEC,
    extra=(
        Section("forest plot of the coefficients", figures=forest_figures, page=forest_page),
        Section(
            "prior predictive: P(y = 1) implied by the prior",
            prior_compute,
            prior_figures,
            prior_page,
        ),  # fmt: skip
        Section(
            "held-out rows: NUTS on the training split",
            heldout_compute,
            heldout_figures,
            heldout_page,
        ),
        Section(
            "predictive checks: PAV calibration, in-sample and LOO",
            checks_compute,
            checks_figures,
            checks_page,
        ),  # fmt: skip
    ),
    extra_options=options,
    validate=validate,
    card=card,
)
