"""The prior and posterior predictive check of any model whose family can be sampled.

For a model with a per-row observed ``y`` and a family with :meth:`models.core.families.Family.sample`
(not a classifier: a 0/1 target's replicated data sets differ only in their share of ones, which
the intercept fits by construction; the logistic page checks calibration instead), the section
draws

* posterior replicated data sets, one per posterior draw (intercept, coefficients and dispersion),
  from the family's sampler;
* prior replicated data sets from the model's own prior (PyMC's forward sampler), with the flat
  intercept held at ``link(mean(y))`` (scikit-learn's starting point: a flat prior has no draws);

and grades ``T(y)`` against ``T(y_rep)`` with the ridge page's statistics (skewness, minimum, and
the spread ratio about the fitted mean in the top and bottom thirds) and its verdict kinds
(:func:`experiments.verdicts.ppc_pvalue`, :func:`experiments.verdicts.predictive_check`). A count
family adds the index of dispersion, variance / mean (:data:`DISPERSION`): 1 for Poisson counts of
one mean, and more with covariates; observed counts far more variable than the replicated ones
(overdispersion) fail it.
"""

from __future__ import annotations

import warnings

import numpy as np

from experiments import intervals, report, verdicts
from experiments.report import user
from experiments.runner import Run, Section
from experiments.style import COLORS, figure_label, legend_below, plt, save
from models.core.arrays import linear_predictor_chunks
from models.core.base import ModelSpec
from models.core.lazy import lazy

pm = lazy("pymc")

PRIOR_DRAWS = 500  # prior replicated data sets
HUGE = 1e50  # a prior data set with a value beyond this (or overflowing) is counted, not graded:
# its moments would overflow
SHOWN = 40  # replicated data sets drawn on the figure, per panel
DISPERSION = "variance / mean"  # the index of dispersion, a statistic of count families


def applies(spec: ModelSpec) -> bool:
    """Whether :func:`section` applies: a sampled family, not a classifier, a per-row ``y``."""
    family = spec.family
    return family.draw is not None and not family.classifier and spec.likelihood_term is None


def posterior_replicates(spec: ModelSpec, dt, X: np.ndarray, noise_sd, seed: int):
    """Posterior replicated data sets in row chunks: yields ``(rows, y_rep (draws, rows))``."""
    b0 = intervals.draws(dt, spec.intercept).values if spec.intercept else None
    w = intervals.draws(dt, spec.coefficients).values
    b0 = np.zeros(len(w)) if b0 is None else b0
    if spec.noise == "unknown":
        dispersion = intervals.draws(dt, spec.noise_variable).values
    else:
        dispersion = noise_sd  # a fixed Gaussian sigma, or None
    rng = np.random.default_rng(seed)
    for rows, eta in linear_predictor_chunks(b0, w, X):
        yield rows, spec.family.sample(rng, eta, dispersion)


def prior_replicates(spec: ModelSpec, model, values: dict, y: np.ndarray, seed: int) -> np.ndarray:
    """``(PRIOR_DRAWS, n)`` data sets from the model's prior, the flat intercept held at
    ``link(mean(y))``."""
    start = float(np.log(np.mean(y))) if spec.family.link == "log" else float(np.mean(y))
    fixed = pm.do(model, {spec.intercept: start}) if spec.intercept else model
    with fixed, warnings.catch_warnings():
        # PyTensor's Numba backend has no Wald (inverse Gaussian) draw and runs numpy's in object
        # mode: one call, the same draws, and a warning on stderr under --quiet otherwise
        warnings.filterwarnings("ignore", "Numba will use object mode to run wald_rv", UserWarning)
        pm.set_data(values)
        prior = pm.sample_prior_predictive(draws=PRIOR_DRAWS, random_seed=seed, var_names=["y"])
    return prior["prior_predictive"]["y"].values.reshape(PRIOR_DRAWS, -1)


def dispersion_index(y: np.ndarray) -> np.ndarray:
    """``var(y) / mean(y)`` of each data set (rows on the last axis); NaN for a set of zeros."""
    mean = np.mean(y, axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(mean > 0, np.var(y, axis=-1) / mean, np.nan)


def dispersion_check(y: np.ndarray, y_rep: np.ndarray) -> dict:
    """The predictive p-value of :data:`DISPERSION`: ``P(T(y_rep) >= T(y))`` over the data sets
    ``y_rep`` (draws, rows) whose index is defined (not all zeros)."""
    observed, replicated = float(dispersion_index(y)), dispersion_index(y_rep)
    replicated = replicated[np.isfinite(replicated)]
    return verdicts.ppc_pvalue(DISPERSION, float(np.mean(replicated >= observed)), observed,
                               np.quantile(replicated, [0.03, 0.97]), draws=len(replicated))  # fmt: skip


def section(spec: ModelSpec) -> Section:
    """The predictive-check section of ``spec`` (see the module docstring)."""
    from experiments.ridge import predictive_checks  # the ridge page's statistics

    def compute(run: Run) -> dict:
        md, dt = run.state["md"], run.state["dt"]
        b0, w = spec.point_coefficients(run.state["map"].point)
        fitted = spec.family.mean(b0 + md.X @ w)  # the estimator's prediction
        replicated = list(posterior_replicates(spec, dt, md.X, md.noise_sd, run.seed + 11))
        y_rep = np.concatenate([block for _, block in replicated], axis=1)
        checks = predictive_checks(md.y, fitted, replicated)
        if spec.family.discrete:
            checks.append(dispersion_check(md.y, y_rep))
        overall = run.check("Predictive check", verdicts.predictive_check(checks))
        prior = prior_replicates(spec, run.state["model"], run.state["values"], md.y, run.seed + 12)
        graded = np.all(np.abs(prior) < HUGE, axis=1)  # inf and nan compare False
        prior = prior[graded]
        prior_checks = predictive_checks(md.y, fitted, [(slice(None), prior)]) if len(prior) else []
        if len(prior) and spec.family.discrete:
            prior_checks.append(dispersion_check(md.y, prior))
        run.state["replicated"] = {
            "prior": prior[:SHOWN],
            "posterior": y_rep[:SHOWN],
        }  # left, right
        return {
            "predictive_check": {
                "statistics": checks, "overall": overall, "prior_statistics": prior_checks,
                "prior_draws": PRIOR_DRAWS, "posterior_draws": int(y_rep.shape[0]),
                "prior_huge": int(np.sum(~graded)), "huge": HUGE,
                "prior_range": [float(np.min(prior)), float(np.max(prior))] if len(prior) else None,
                "y_range": [float(np.min(md.y)), float(np.max(md.y))],
            }
        }  # fmt: skip

    def figures(run: Run) -> None:
        y, shown = run.state["md"].y, run.state["replicated"]
        fig, axes = plt.subplots(1, 2, figsize=(12, 4.2), layout="constrained")
        for ax, (group, y_rep) in zip(axes, shown.items(), strict=True):
            draw_ecdfs(ax, y, y_rep, f"{group} replicated data sets", run.results["target"])
            if spec.family.accepts(np.array([-1.0]))[0] == 0 and group == "prior":
                ax.set_xscale("symlog", linthresh=max(float(np.min(y)), 1e-12))
            ax.set_title(f"{group} predictive")
        legend_below(fig, axes[0], ncol=2, offset=-0.1)
        save(fig, run.out / "predictive_check.png")

    def page(page: report.Page, results: dict) -> None:
        check = results["predictive_check"]
        page.heading("Prior and posterior predictive check")
        page.text(f"Replicated data sets drawn from the {spec.likelihood} likelihood: "
                  f"{check['posterior_draws']} from the posterior (one per draw) and "
                  f"{check['prior_draws']} from the prior (the flat intercept held at link(mean y), "
                  "since a flat prior has no draws). Each statistic T is compared with T(y): "
                  f"p = P(T(y_rep) >= T(y)); a two-sided tail below {verdicts.PPC_AMBER:g} is amber, "
                  f"below {verdicts.PPC_RED:g} red. " + (f"{check['prior_huge']} of the "
                  f"{check['prior_draws']} prior data sets have a value beyond {check['huge']:g} "
                  "(or overflow): the prior allows means far beyond the data; they are counted, not "
                  "graded. " if check["prior_huge"] else "") + (f"The graded prior data sets span "
                  f"[{check['prior_range'][0]:.4g}, {check['prior_range'][1]:.4g}]; " if check["prior_range"]
                  else "") + f"the observed {user(results['target'])} spans [{check['y_range'][0]:.4g}, "
                  f"{check['y_range'][1]:.4g}].")  # fmt: skip
        rows = [
            [group, v["statistic"], v["observed"], *v["replicated"], v["value"], v["outcome"]]
            for group, key in (("posterior", "statistics"), ("prior", "prior_statistics"))
            for v in check[key]
        ]
        flags = [row[-1] != "passes" for row in rows]
        page.table(["replicated from", "statistic T", "T(y)", "T(y_rep) 3%", "T(y_rep) 97%", "p",
                    "verdict"], rows, flags)  # fmt: skip
        page.figure("predictive_check.png", "Empirical CDFs of replicated data sets (blue) and of "
                    "the observed target (grey): the prior's (left) and the posterior's (right).",
                    observe=check["overall"])  # fmt: skip

    return Section("prior and posterior predictive check", compute, figures, page)


def draw_ecdfs(ax, y: np.ndarray, y_rep: np.ndarray, label: str, target: str) -> None:
    """One predictive-check panel: each replicated data set's empirical CDF (thin, the first
    labelled ``label``) under the observed y's (thick); the x axis names the target."""
    for k, replicate in enumerate(y_rep):
        ax.ecdf(replicate, color=COLORS["posterior"], alpha=0.25, lw=0.8,
                label=f"{label} ({len(y_rep)} shown)" if k == 0 else None)  # fmt: skip
    ax.ecdf(y, color=COLORS["data"], lw=2, label="observed y")
    ax.set_xlabel(f"y ({figure_label(target)})", parse_math=False)
    ax.set_ylabel("empirical CDF")


__all__ = ["DISPERSION", "applies", "dispersion_check", "dispersion_index", "draw_ecdfs",
           "posterior_replicates", "prior_replicates", "section"]  # fmt: skip
