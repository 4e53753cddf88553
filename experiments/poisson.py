"""Experiment ``poisson``: PoissonRegressor(alpha) is the MAP of a Poisson log-linear model, on
linnerud's exercise counts by default, with the reference alpha's cross-validation
(:mod:`experiments.glm`), the predictive check's index of dispersion
(:func:`experiments.predictive.dispersion_check`) and what the sample size leaves to the prior
(:func:`small_n_section`).

    python -m experiments poisson [--alpha A | --prior-sd TAU] [--data FILE.csv --target COL]
"""

from __future__ import annotations

from experiments import glm, intervals, report, verdicts
from experiments.family import penalty_experiment
from experiments.predictive import DISPERSION
from experiments.runner import Card, Run, Section
from models import poisson
from models.core.lazy import lazy

stats = lazy("scipy.stats")


def small_n_section() -> Section:
    """Each coefficient's posterior interval against its prior's (``w_j ~ Normal(0, tau)``): how
    much of it the n rows choose, and what the index of dispersion can detect with them."""

    def compute(run: Run) -> dict:
        post, names = run.results["posterior"], run.results["feature_names"]
        tau = run.state["values"]["prior_sd"]
        prior_width = 2 * stats.norm.ppf(0.5 + intervals.PROB / 2) * tau
        each = [
            verdicts.contraction(
                f"w[{report.user(name)}]", high - low, prior_width, "log-mean units"
            )  # fmt: skip
            for name, low, high in zip(names, post["hdi_94_low"], post["hdi_94_high"], strict=True)
        ]
        return {"small_n": {"contraction": each, "n_obs": run.results["n_obs"],
                            "prior_sd": tau, "n_prior": sum(v["outcome"] == "prior" for v in each)}}  # fmt: skip

    def page(page: report.Page, results: dict) -> None:
        small = results["small_n"]
        dispersion = next(
            (v for v in results["predictive_check"]["statistics"] if v["statistic"] == DISPERSION),
            None,
        )
        page.heading(f"What {small['n_obs']} rows decide")
        page.text(
            f"Each coefficient's {intervals.PROB:.0%} posterior interval against its prior's "
            f"(Normal(0, tau = {small['prior_sd']:.4g})): for {small['n_prior']} of "
            f"{len(small['contraction'])} coefficients the prior still shapes the interval."
        )
        items = [report.sentence(v) for v in small["contraction"]]
        if dispersion is not None:
            detects = "separates" if dispersion["outcome"] != "passes" else "does not separate"
            items.append(
                f"{report.sentence(dispersion)}. A Poisson count of one mean has variance / mean "
                f"1; the posterior's replicated data sets (fitted means and their uncertainty) "
                f"span [{dispersion['replicated'][0]:.3g}, {dispersion['replicated'][1]:.3g}], so "
                f"with {small['n_obs']} rows the check {detects} the observed "
                f"{dispersion['observed']:.3g} from what the model produces."
            )
        page.bullets(items)

    return Section("what the sample size decides", compute, None, page)


def card(results: dict) -> Card:
    """Check 1's agreement and what the sample size leaves to the prior."""
    small = results["small_n"]
    return Card("posterior_densities.png", (
        f"MAP = PoissonRegressor: max rel diff **{max(results['max_rel_diff']):.1e}**. With "
        f"{small['n_obs']} rows the prior still shapes {small['n_prior']} of "
        f"{len(small['contraction'])} coefficients' intervals."
    ))  # fmt: skip


EXPERIMENT = penalty_experiment(
    poisson.SPEC, extra=(glm.reference_section(poisson.SPEC), small_n_section()), card=card
)
