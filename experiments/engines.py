"""Experiment ``engines``: one model, six ways to infer it, graded against the truth.

For ridge (exact posterior known) and L2 logistic regression (reference: a long NUTS run): the
exact posterior, the MAP, the Laplace approximation (Gaussian at the MAP, inverse of the compiled
Hessian), mean-field and full-rank ADVI (``pm.fit``) and NUTS (nutpie). Each is graded per
coefficient on its mean, its sd and the 1-D Wasserstein distance of its marginal to the reference.

    python -m experiments engines [--out DIR] [--seed N] [--quick]
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from experiments import common, intervals, report, verdicts
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
from models import REGISTRY
from models.core.data import reference_setup
from models.core.lazy import lazy
from models.inference.engines import MAPSolver, PosteriorSampler, fit_advi, tuning_iterations

az = lazy("arviz")
patches = lazy("matplotlib.patches")
stats = lazy("scipy.stats")

NAME = "engines"
MODELS = ("ridge", "logistic")
LABELS = {
    "exact": "exact",
    "map": "MAP",
    "laplace": "Laplace",
    "advi_meanfield": "ADVI (mean-field)",
    "advi_fullrank": "ADVI (full-rank)",
    "nuts": "NUTS",
}
METHOD_COLORS = {
    "exact": COLORS["exact"],
    "map": COLORS["MAP"],
    "laplace": COLORS["Laplace"],
    "advi_meanfield": COLORS["ADVI (mean-field)"],
    "advi_fullrank": COLORS["ADVI (full-rank)"],
    "nuts": COLORS["posterior"],
}
ADVI_STEP = 0.003  # Adam learning rate as a fraction of the typical posterior sd
# ADVI has converged when its parameters averaged over consecutive windows of ADVI_WINDOW Adam
# steps agree to ADVI_TOLERANCE (means in sds, sds as log ratios): single iterates jitter by about
# 0.1 sd at Adam's constant step, window averages by 0.05-0.08 once the transient is over (measured
# on both models), so 0.1 stops at the end of the transient (3,000-7,000 steps, not 30,000).
ADVI_WINDOW, ADVI_TOLERANCE = 1000, 0.1
# Laplace against the exact ridge posterior: a quadratic log posterior leaves only linear-algebra
# round-off (~1e-13 on a condition number ~1e4); the bound keeps a wide margin.
LAPLACE_BOUND = 1e-8
PANELS = 10


def settings(quick: bool) -> dict:
    if quick:
        return {"draws": 500, "chains": 2, "reference_draws": 2500,
                "advi_iterations": 10_000}  # fmt: skip
    return {"draws": 2000, "chains": 4, "reference_draws": 10_000,
            "advi_iterations": 30_000}  # fmt: skip


# --- array maths: marginals and their grading ---------------------------------------------------


@dataclass
class Marginals:
    """What a method says about the coefficients: mean, covariance, and draws if it is not Gaussian.

    A Gaussian method (exact, MAP as a point mass with zero covariance, Laplace, ADVI) has
    ``draws=None``; NUTS has draws, and its mean and covariance are the draws' moments.
    """

    mean: np.ndarray
    cov: np.ndarray
    draws: np.ndarray | None = None

    @classmethod
    def from_draws(cls, draws: np.ndarray) -> Marginals:
        return cls(draws.mean(axis=0), np.cov(draws, rowvar=False), draws)

    @property
    def sd(self) -> np.ndarray:
        return np.sqrt(np.diag(self.cov))


def w1_gaussians(m1, s1, m2, s2) -> np.ndarray:
    r"""1-D Wasserstein-1 distance between Normal(m1, s1) and Normal(m2, s2), elementwise.

    The optimal coupling in 1-D pairs quantiles, ``X_k = m_k + s_k Z``, so with ``a = m1 - m2`` and
    ``b = s1 - s2``: ``W1 = E|a + b Z| = |b| sqrt(2/pi) exp(-a^2 / 2b^2) + a (1 - 2 Phi(-a/|b|))``.
    """
    a, b = np.asarray(m1) - np.asarray(m2), np.abs(np.asarray(s1) - np.asarray(s2))
    safe = np.where(b > 0, b, 1.0)
    folded = b * np.sqrt(2 / np.pi) * np.exp(-(a**2) / (2 * safe**2)) + a * (
        1 - 2 * stats.norm.cdf(-a / safe)
    )
    return np.where(b > 0, folded, np.abs(a))


def w1_gaussian_draws(mean: float, sd: float, draws: np.ndarray) -> float:
    """W1 between Normal(mean, sd) and the empirical distribution of ``draws`` (quantile coupling)."""
    ordered = np.sort(draws)
    levels = (np.arange(len(ordered)) + 0.5) / len(ordered)
    return float(np.mean(np.abs(ordered - (mean + sd * stats.norm.ppf(levels)))))


def wasserstein(method: Marginals, reference: Marginals) -> np.ndarray:
    """Per-coefficient W1 distance, exact where both are Gaussian, empirical otherwise."""
    if method.draws is None and reference.draws is None:
        return w1_gaussians(method.mean, method.sd, reference.mean, reference.sd)
    out = []
    for j in range(len(reference.mean)):
        if method.draws is not None and reference.draws is not None:
            out.append(stats.wasserstein_distance(method.draws[:, j], reference.draws[:, j]))
        elif method.draws is None:
            out.append(w1_gaussian_draws(method.mean[j], method.sd[j], reference.draws[:, j]))
        else:
            out.append(w1_gaussian_draws(reference.mean[j], reference.sd[j], method.draws[:, j]))
    return np.asarray(out)


def grade(method: Marginals, reference: Marginals) -> dict:
    """Errors of one method against the reference (the contract's three numbers, and one more).

    ``mean_max_rel_err`` is ``max_j |m_j - m_ref_j| / max_j |m_ref_j|``; ``sd_max_rel_err`` is
    ``max_j |s_j / s_ref_j - 1|``; ``wasserstein_mean`` averages ``W1_j / s_ref_j`` over
    coefficients (unit-free); ``mean_max_err_in_sd`` is ``max_j |m_j - m_ref_j| / s_ref_j``.
    """
    ref_sd = reference.sd
    return {
        "mean_max_rel_err": common.rel_linf(method.mean, reference.mean),
        "mean_max_err_in_sd": float(np.max(np.abs(method.mean - reference.mean) / ref_sd)),
        "sd_max_rel_err": float(np.max(np.abs(method.sd / ref_sd - 1))),
        "wasserstein_mean": float(np.mean(wasserstein(method, reference) / ref_sd)),
    }


def skewness(draws: np.ndarray, ess: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sample skewness of each column and its Monte Carlo standard error, approximated by
    ``sqrt(6 / ESS)`` (the standard error of the skewness of ``ESS`` independent Gaussian draws)."""
    return stats.skew(draws, axis=0), np.sqrt(6 / np.asarray(ess, float))


# --- running the engines ------------------------------------------------------------------------


class Stopwatch:
    """Collects ``{method: {"compile_seconds", "wall_seconds"}}``."""

    def __init__(self):
        self.times: dict[str, dict[str, float]] = {}

    def run(self, label: str, kind: str, function, /, *args, **kwargs):
        """Call ``function(*args, **kwargs)``, adding its duration to ``label``'s ``kind`` time."""
        start = time.perf_counter()
        value = function(*args, **kwargs)
        entry = self.times.setdefault(label, {"compile_seconds": 0.0, "wall_seconds": 0.0})
        entry[f"{kind}_seconds"] += time.perf_counter() - start
        return value


def approximations(setup, clock: Stopwatch, cfg: dict, seed: int) -> tuple[dict, dict]:
    """MAP, Laplace and both ADVIs of one model, timed on ``clock``; also each ADVI's objective
    (negative ELBO) per step."""
    model, values = setup.model, setup.values
    solver = clock.run("map", "compile", MAPSolver, model, setup.spec)
    map_fit = clock.run("map", "wall", solver.solve, values).certify()
    mode = map_fit.point["w"]
    fits = {"map": Marginals(mode, np.zeros((len(mode), len(mode))))}
    # Laplace is the MAP plus the compiled Hessian there: it is charged the MAP's compile and
    # wall time, then the time of the Hessian and its inverse.
    clock.times["laplace"] = dict(clock.times["map"])
    fits["laplace"] = Marginals(*clock.run("laplace", "wall", solver.laplace, map_fit).block("w"))
    advi = {}
    for method, key in (("advi", "advi_meanfield"), ("fullrank_advi", "advi_fullrank")):
        # pm.fit compiles inside every call: a 1-step fit measures the compile, the real fit's wall
        # time then includes a (cached, cheaper) second compile. Adam moves parameters by about
        # its learning rate per step, so ADVI starts at the MAP with a step of ADVI_STEP times the
        # Laplace sd: diabetes coefficients are in the hundreds, breast-cancer ones near 1.
        options = {"method": method, "seed": seed, "start": map_fit.point,
                   "learning_rate": ADVI_STEP * float(np.median(fits["laplace"].sd))}  # fmt: skip
        clock.run(key, "compile", fit_advi, model, values, iterations=1, **options)
        approx = clock.run(key, "wall", fit_advi, model, values, iterations=cfg["advi_iterations"],
                           window=ADVI_WINDOW, tolerance=ADVI_TOLERANCE, **options)  # fmt: skip
        fits[key] = Marginals(*approx.block("w"))
        advi[key] = approx
    return fits, advi


def reference_fit(name, setup, sampler, clock, cfg, seed) -> tuple[Marginals, str, list, object]:
    """The truth each method is graded against: the exact posterior (ridge) or a long NUTS run;
    with its label, diagnostics and the bulk ESS of each coefficient (None when exact)."""
    if name == "ridge":
        mean, cov = clock.run(
            "exact", "wall", setup.spec.closed_form.exact_posterior, setup.values, setup.data
        )
        return Marginals(mean[1:], cov[1:, 1:]), "exact conjugate posterior", [], None
    long = sampler.sample(
        setup.values,
        draws=cfg["reference_draws"],
        tune=tuning_iterations(name),
        chains=4,
        seed=seed + 100,
    )
    diagnostics = [report.sampling_diagnostics(f"{name}: long reference NUTS run", long, ["w"])]
    label = f"NUTS, 4 x {cfg['reference_draws']} draws (independent seed)"
    ess = az.ess(long["posterior"].dataset[["w"]])["w"].values
    return Marginals.from_draws(intervals.draws(long, "w").values), label, diagnostics, ess


def run_model(name: str, cfg: dict, seed: int) -> dict:
    """Every engine on one model; returns marginals, grades, timings, diagnostics and the NUTS fit."""
    setup = reference_setup(REGISTRY[name])
    data, clock = setup.dataset, Stopwatch()
    fits, advi = approximations(setup, clock, cfg, seed)
    sampler = PosteriorSampler(setup.model)
    dt = clock.run("nuts", "wall", sampler.sample, setup.values, draws=cfg["draws"],
                   tune=tuning_iterations(name), chains=cfg["chains"], seed=seed)  # fmt: skip
    # the cost of compiling this graph (by the first sample), even when an earlier experiment of
    # the process paid it; the wall time is the sampling's
    clock.times["nuts"]["compile_seconds"] = sampler.compile_seconds
    if not sampler.reused:
        clock.times["nuts"]["wall_seconds"] -= sampler.compile_seconds
    fits["nuts"] = Marginals.from_draws(intervals.draws(dt, "w").values)
    mcse = az.mcse(dt["posterior"].dataset[["w"]])["w"].values
    reference, reference_label, extra, ess = reference_fit(name, setup, sampler, clock, cfg, seed)
    if name == "ridge":
        fits = {"exact": reference, **fits}
    corr = reference.cov / np.outer(reference.sd, reference.sd)
    np.fill_diagonal(corr, 0)
    pair = np.unravel_index(np.argmax(np.abs(corr)), corr.shape)
    # The MAP's W1 is a point mass's: E|w - MAP| / sd, sqrt(2/pi) when the marginal is Gaussian
    # with the MAP at its mean, more otherwise; shown, but not ranked with the distributions.
    methods = {method: grade(fit, reference) for method, fit in fits.items()}
    z = float(np.max(np.abs(fits["nuts"].mean - reference.mean) / mcse))
    results = {
        "data_source": data.source, "n_obs": len(data.y), "feature_names": data.feature_names,
        "penalty": setup.penalty, "prior_values": setup.values, "reference": reference_label,
        "methods": methods,
        "most_correlated_pair": [data.feature_names[i] for i in pair],
        "pair_correlation": float(corr[pair]),
        "pair_sd_ratio_meanfield": [float(fits["advi_meanfield"].sd[k] / reference.sd[k]) for k in pair],
        "advi_meanfield_sd_ratio": fits["advi_meanfield"].sd / reference.sd,
        "nuts_max_abs_z_vs_reference": z,
        "nuts_vs_reference": verdicts.mcmc_vs_exact(z, Z_FLAG) if ess is None
        else verdicts.mcmc_vs_reference(z, Z_FLAG, reference_label),
        "advi_convergence": {key: verdicts.advi_windows(f"{LABELS[key]} on {name}", a.window_change,
                                                        ADVI_TOLERANCE, a.steps, ADVI_WINDOW)
                             for key, a in advi.items()},
        "diagnostics": [report.sampling_diagnostics(f"{name}: NUTS", dt, ["w"]), *extra],
    }  # fmt: skip
    if ess is not None:
        skew, se = skewness(reference.draws, ess)
        results["shapes"] = [
            verdicts.shape(n, g, e) for n, g, e in zip(data.feature_names, skew, se, strict=True)
        ]
    if name == "ridge":
        # Mean-field ADVI on a Gaussian target has a known optimum: sd_j = 1 / sqrt(precision_jj).
        theory = 1 / np.sqrt(np.diag(np.linalg.inv(reference.cov)))
        results["advi_meanfield_sd_theory"] = theory
        results["advi_meanfield_sd_vs_theory_max_rel_err"] = float(
            np.max(np.abs(fits["advi_meanfield"].sd / theory - 1))
        )
    return {"results": results, "timings": clock.times, "fits": fits, "reference": reference,
            "pair": [int(i) for i in pair], "nuts": dt, "advi": advi}  # fmt: skip


def compute(run: Run) -> dict:
    runs = {name: run_model(name, run.cfg, run.seed + 10 * k) for k, name in enumerate(MODELS)}
    run.state["runs"] = runs
    for name, one in runs.items():
        run.posteriors[f"posterior_{name}"] = one["nuts"]
        for row in one["results"]["diagnostics"]:
            run.diagnose(row)
    # Wall-clock times change run to run; results.json must not: they go to timings.json.
    run.timings["engines"] = {name: one["timings"] for name, one in runs.items()}
    ridge_res, logit = runs["ridge"]["results"], runs["logistic"]["results"]
    laplace = ridge_res["methods"]["laplace"]
    run.verify(verdicts.agreement("Laplace against the exact ridge posterior (largest relative "
                                  "error of its means and sds)", max(laplace["mean_max_rel_err"],
                                  laplace["sd_max_rel_err"]), LAPLACE_BOUND))  # fmt: skip
    for verdict in adds(ridge_res, logit):
        run.adds(verdict)
    for name, one in runs.items():
        run.check(f"NUTS vs reference ({name})", one["results"]["nuts_vs_reference"])
        for key, verdict in one["results"]["advi_convergence"].items():
            run.check(f"{LABELS[key]} convergence ({name})", verdict)
    return {
        name: {**one["results"], "nuts_summary": intervals.summary_record(one["nuts"], ["w"])}
        for name, one in runs.items()
    }


def _text(text: str) -> dict:
    """A computed sentence that states a measurement (no threshold to cross), for the box."""
    return {"kind": "text", "text": text, "level": verdicts.INFO}


def skew_summary(shapes: list[dict], draws: str) -> str:
    """How many marginals the shape verdicts call skewed in the ``draws`` named, and the most
    skewed one's sentence."""
    skewed = [v for v in shapes if v["outcome"] != "gaussian"]
    worst = max(shapes, key=lambda v: abs(v["value"]) / v["threshold"])
    return (f"In the reference draws ({draws}), {len(skewed)} of {len(shapes)} marginals are skewed (|skewness| beyond "
            f"{verdicts.SKEW_GAUSSIAN} and beyond {verdicts.SE_MULTIPLE:g} Monte Carlo standard "
            "errors, approximated by sqrt(6 / ESS)); the most: " + report.sentence(worst) + ".")  # fmt: skip


def adds(ridge_res: dict, logit: dict) -> list[dict]:
    """The box's "what the posterior adds": mean-field ADVI's sds, Laplace on logistic, its shape."""
    ratio = np.asarray(ridge_res["advi_meanfield_sd_ratio"])
    laplace = logit["methods"]["laplace"]
    return [
        _text(f"**Mean-field ADVI is too confident under correlated features**: its ridge sds are "
              f"{ratio.min():.2f} to {ratio.max():.2f} times the exact posterior's."),
        _text(f"**Laplace is not exact for logistic regression**: its means are off by up to "
              f"{laplace['mean_max_err_in_sd']:.2f} reference sds and its sds by up to "
              f"{laplace['sd_max_rel_err']:.0%} (W1 {laplace['wasserstein_mean']:.3f} sd on average)."),
        _text("**The logistic posterior's shape**: " + skew_summary(logit["shapes"], logit["reference"])),
    ]  # fmt: skip


def figures(run: Run) -> None:
    for name, one in run.state["runs"].items():
        model_figures(run.out, name, one)
        elbo_figure(run.out, name, one["advi"])


def elbo_figure(out, name: str, advi: dict) -> None:
    """Each ADVI's ELBO per step, raw (faint) and smoothed, with the window whose average is its
    fit (shaded) ending where its convergence rule stopped it."""
    fig, ax = plt.subplots(figsize=(8, 4), layout="constrained")
    low, high = np.inf, -np.inf
    for key, fit in advi.items():
        elbo = -np.asarray(fit.history, float)
        steps = np.arange(1, len(elbo) + 1)
        width = max(1, len(elbo) // 100)
        smooth = np.convolve(elbo, np.ones(width) / width, mode="valid")
        ax.plot(steps, elbo, color=METHOD_COLORS[key], alpha=0.15, lw=0.5)
        ax.plot(steps[width - 1 :], smooth, color=METHOD_COLORS[key], lw=1.8,
                label=f"{LABELS[key]} (moving mean of {width} steps)")  # fmt: skip
        ax.axvspan(len(elbo) - ADVI_WINDOW, len(elbo), color=METHOD_COLORS[key], alpha=0.12)
        low, high = min(low, np.quantile(elbo[len(elbo) // 10 :], 0.01)), max(high, elbo.max())
    ax.set_ylim(low - 0.1 * (high - low), high + 0.1 * (high - low))
    ax.set_xlabel("Adam step")
    ax.set_ylabel("ELBO (one-draw estimate)")
    ax.set_title(f"{name}: ADVI's objective per step (shaded: the window averaged into the fit)")
    ax.legend(fontsize=8, loc="lower right")
    save(fig, out / f"elbo_{name}.png")


def model_figures(out, name: str, run: dict) -> None:
    fits, reference = run["fits"], run["reference"]
    names = run["results"]["feature_names"]
    shown = sorted(np.argsort(-reference.sd / np.maximum(np.abs(reference.mean), 1e-12))[:PANELS])
    fig, axes, _ = coefficient_panels(len(shown), 2.6)
    for ax, j in zip(axes, shown, strict=True):
        spread = 4.5 * reference.sd[j]
        grid = np.linspace(reference.mean[j] - spread, reference.mean[j] + spread, 300)
        if reference.draws is not None:
            ax.hist(reference.draws[:, j], histtype="stepfilled", bins=80, density=True, color=COLORS["data"], alpha=0.35,
                    label="reference (long NUTS)")  # fmt: skip
        for method, fit in fits.items():
            color = METHOD_COLORS[method]
            if method == "map":
                ax.axvline(fit.mean[j], color=color, ls=":", lw=2, label=LABELS[method])
            elif fit.draws is not None:
                ax.hist(fit.draws[:, j], bins=50, density=True, histtype="step", color=color, lw=1.4,
                        label=LABELS[method])  # fmt: skip
            else:
                style = "--" if method == "laplace" else "-"
                ax.plot(grid, stats.norm.pdf(grid, fit.mean[j], fit.sd[j]), style, color=color,
                        lw=2.2 if method == "exact" else 1.4, label=LABELS[method])  # fmt: skip
        ax.set_title(figure_label(names[j]), fontsize=9, parse_math=False)
        ax.set_yticks([])
    fig.supxlabel(coefficient_label(REGISTRY[name].likelihood))
    fig.supylabel("density")
    legend_below(fig, axes[0], ncol=7, offset=-0.05)
    fig.suptitle(f"{name}: each coefficient's marginal under every method")
    save(fig, out / f"densities_{name}.png")

    i, j = run["pair"]
    fig, ax = plt.subplots(figsize=(6.5, 6))
    cloud = reference.draws if reference.draws is not None else fits["nuts"].draws
    cloud = cloud[:: max(1, len(cloud) // 4000)]  # thinned, and drawn under the ellipses
    ax.plot(cloud[:, i], cloud[:, j], ".", ms=1.5, color=COLORS["data"], alpha=0.3, zorder=0,
            label="reference draws" if reference.draws is not None else "NUTS draws")  # fmt: skip
    radius = np.sqrt(stats.chi2.ppf(intervals.PROB, 2))
    for method, fit in fits.items():
        if method == "map":
            ax.plot(fit.mean[i], fit.mean[j], "X", ms=10, color=METHOD_COLORS[method], label="MAP")
            continue
        cov = fit.cov[np.ix_([i, j], [i, j])]
        values, vectors = np.linalg.eigh(cov)
        angle = np.degrees(np.arctan2(vectors[1, -1], vectors[0, -1]))
        ax.add_patch(patches.Ellipse((fit.mean[i], fit.mean[j]), 2 * radius * np.sqrt(values[-1]),
                             2 * radius * np.sqrt(values[0]), angle=angle, fill=False,
                             color=METHOD_COLORS[method], lw=2.2 if method == "exact" else 1.5,
                             ls="--" if method == "laplace" else "-", label=LABELS[method]))  # fmt: skip
    likelihood = REGISTRY[name].likelihood
    ax.set_xlabel(coefficient_label(likelihood, f"w[{figure_label(names[i])}]"), parse_math=False)
    ax.set_ylabel(coefficient_label(likelihood, f"w[{figure_label(names[j])}]"), parse_math=False)
    ax.set_title(f"{name}: most correlated pair (r = {run['results']['pair_correlation']:+.2f}), "
                 f"{intervals.PROB:.0%} ellipses", fontsize=10)  # fmt: skip
    ax.legend(fontsize=8, loc="best")
    save(fig, out / f"pair_{name}.png")


def page(page: report.Page, results: dict) -> None:
    page.claim(
        "The MAP is a point; the Laplace approximation is a Gaussian at that point with the "
        "curvature there; ADVI fits a Gaussian by optimisation; NUTS samples the real posterior. "
        "Graded against the exact posterior (ridge) and a long NUTS run (logistic).",
        "Laplace:  q = Normal(theta_MAP, H^-1),  H = -d^2 log p(theta | y) at theta_MAP\n"
        "ADVI:     q = argmin KL(q || p) over Gaussians (diagonal or full covariance)\n"
        "W1_j:     1-D Wasserstein distance of coefficient j's marginal to the reference, / ref sd",
    )
    ridge_map, logit_map = (results[m]["methods"]["map"] for m in MODELS)
    page.text("The MAP's W1 is a point mass's distance to each marginal, E|w_j - MAP_j| / sd_j: "
              f"sqrt(2/pi) = {np.sqrt(2 / np.pi):.3f} exactly when the marginal is Gaussian and the "
              f"MAP is its mean (ridge: {ridge_map['wasserstein_mean']:.3f}), more when the point is "
              f"off the mean (logistic: {logit_map['wasserstein_mean']:.3f}, its MAP up to "
              f"{logit_map['mean_max_err_in_sd']:.2f} sd from the reference mean). It measures the "
              "missing spread, so it is shown but not ranked with the distributions; the MAP's sd "
              "error is 100% because a point has no spread.")  # fmt: skip
    for name in MODELS:
        res = results[name]
        page.heading(f"{name} ({res['data_source']}, {len(res['feature_names'])} coefficients)")
        page.text(f"Penalty {', '.join(f'{k}={v:.4g}' for k, v in res['penalty'].items())} "
                  f"(scikit-learn's cross-validated choice), prior sd {res['prior_values']['prior_sd']:.4g}. "
                  f"Reference: {res['reference']}.")  # fmt: skip
        rows = [[LABELS[m], g["mean_max_rel_err"], g["mean_max_err_in_sd"], g["sd_max_rel_err"],
                 g["wasserstein_mean"]] for m, g in res["methods"].items()]  # fmt: skip
        page.table(["method", "mean: max rel err", "mean: max err / ref sd", "sd: max rel err",
                    "W1 / ref sd (mean)"], rows)  # fmt: skip
        shown = (
            "every coefficient"
            if len(res["feature_names"]) <= PANELS
            else f"the {PANELS} coefficients least determined by the data, by sd / |mean|"
        )
        graded = {m: g for m, g in res["methods"].items() if m not in ("exact", "map")}
        worst = max(graded, key=lambda m: graded[m]["wasserstein_mean"])
        page.figure(f"densities_{name}.png", f"{name}: the marginal of {shown}, under every method.",
                    observe=f"farthest from the reference by mean W1: {LABELS[worst]} "
                    f"({graded[worst]['wasserstein_mean']:.3f} sd); "
                    + ", ".join(f"{LABELS[m]} {g['wasserstein_mean']:.3f}" for m, g in graded.items() if m != worst)
                    + ".")  # fmt: skip
        ratio = res["pair_sd_ratio_meanfield"]
        page.figure(f"pair_{name}.png", f"{name}: the most correlated pair "
                    f"({' and '.join(res['most_correlated_pair'])}) with each method's "
                    f"{intervals.PROB:.0%} ellipse; mean-field ADVI's is axis-aligned by construction.",
                    observe=f"r = {res['pair_correlation']:+.2f}; mean-field ADVI's sds of the pair are "
                    f"{ratio[0]:.2f} and {ratio[1]:.2f} times the reference's.")  # fmt: skip
        page.figure(f"elbo_{name}.png", f"{name}: each ADVI's ELBO per Adam step (faint: the one-draw "
                    "estimate; solid: its moving mean) until its convergence rule stopped it; shaded: the "
                    f"last {ADVI_WINDOW} steps, whose average parameters are its fit.",
                    observe=" ".join(report.sentence(v) for v in res["advi_convergence"].values()))  # fmt: skip
        page.text(f"ArviZ summary of the NUTS fit ({name}):")
        page.arviz_summary(res["nuts_summary"])
        page.verdict(res["nuts_vs_reference"])
    page.heading("Sampling diagnostics")
    page.diagnostics(results["diagnostics"])
    ridge_res, logit = results["ridge"], results["logistic"]
    meanfield = ridge_res["advi_convergence"]["advi_meanfield"]
    off = ridge_res["advi_meanfield_sd_vs_theory_max_rel_err"]
    if meanfield["outcome"] != "not converged":
        advi = (f"For ridge that optimum is known. {report.sentence(meanfield)} Its sds are within "
                f"{off:.1%} of that optimum (largest relative difference); how much of that is the "
                "stochastic optimiser's scatter around it is not measured here.")  # fmt: skip
    else:
        advi = (f"For ridge that optimum is known, but {report.sentence(meanfield)} Its sds are "
                f"{off:.1%} from it, partly optimisation error.")  # fmt: skip
    ratio = np.asarray(ridge_res["advi_meanfield_sd_ratio"])
    page.heading("Why the methods differ (and what the point estimate hides)")
    page.bullets([
        "**Laplace is exact for ridge.** A Gaussian likelihood and a Gaussian prior give a log "
        "posterior that is exactly quadratic, so a Gaussian with the curvature at the mode is the "
        f"posterior itself: errors {ridge_res['methods']['laplace']['mean_max_rel_err']:.1e} (mean) "
        f"and {ridge_res['methods']['laplace']['sd_max_rel_err']:.1e} (sd), within the round-off "
        f"bound {LAPLACE_BOUND:.0e}.",
        "**Not for logistic regression.** The Bernoulli-logit log likelihood is not quadratic, so "
        "the curvature at the mode describes only its neighbourhood. " + skew_summary(logit["shapes"], logit["reference"])
        + f" Laplace's W1 / reference sd, averaged over the {len(logit['feature_names'])} "
        f"coefficients, is {logit['methods']['laplace']['wasserstein_mean']:.3f} there, and "
        f"its means (the mode) are off by up to {logit['methods']['laplace']['mean_max_err_in_sd']:.2f} sd.",
        "**Mean-field ADVI is too confident under correlated features.** Minimising KL(q || p) with a "
        "factorised q matches each coefficient's conditional spread, 1 / sqrt(precision_jj), not its "
        f"marginal spread. {advi} Its sds are {ratio.min():.2f} to {ratio.max():.2f} times the exact "
        "marginal sds. The pair plot shows why: it cannot tilt.",
        "**The MAP alone leaves out everything but the location.** For logistic regression even "
        f"its location is off from the posterior mean by up to {logit['methods']['map']['mean_max_err_in_sd']:.2f} sd.",
    ])  # fmt: skip
    page.heading("Load the posterior yourself")
    page.load_snippet("posterior_logistic.nc", ["w"], "or posterior_ridge.nc (NUTS)")
    page.text("Wall and compile seconds are measured in this run and saved to timings.json; they "
              "change from run to run, results.json does not. NUTS's compile is what compiling "
              "its graph costs once per process: `make experiments` compiles each graph once and "
              "reuses it in later experiments, so that cost is not paid again here.")  # fmt: skip


def card(results: dict) -> Card:
    ridge_m, logit = results["ridge"]["methods"], results["logistic"]["methods"]
    return Card("pair_logistic.png", (
        f"Laplace = exact for ridge (sd error **{ridge_m['laplace']['sd_max_rel_err']:.0e}**); "
        f"mean-field ADVI underestimates ridge sds by up to **{ridge_m['advi_meanfield']['sd_max_rel_err']:.0%}**; "
        f"logistic, mean distance to the reference posterior (Wasserstein-1 in posterior sds): "
        f"Laplace {logit['laplace']['wasserstein_mean']:.3f}, full-rank ADVI "
        f"{logit['advi_fullrank']['wasserstein_mean']:.3f}, NUTS {logit['nuts']['wasserstein_mean']:.3f}."
    ))  # fmt: skip


EXPERIMENT = Experiment(
    name=NAME,
    title="One model, six ways to infer it: exact, MAP, Laplace, ADVI, NUTS",
    description="Exact, MAP, Laplace, ADVI and NUTS side by side.",
    sections=(
        Section("exact/MAP/Laplace/ADVI x2/NUTS on ridge and logistic", compute, figures, page),
    ),
    settings=settings,
    user_data=False,
    card=card,
    claim="The MAP, the Laplace approximation, mean- and full-rank ADVI and NUTS are graded against "
    "the exact posterior (ridge) and a long NUTS run (logistic): Laplace is the exact ridge "
    "posterior; the others differ by amounts this page measures.",
)
