"""Sections the GLM pages (poisson, gamma, tweedie) add to the penalty experiment.

* :func:`reference_section`: where 5-fold cross-validation's best score lies on its grid, and the
  one-standard-error rule when it is the grid's smallest alpha (:func:`models.core.glm.cv_search`).
* :func:`ridge_section`: the Gamma model against the Gaussian ridge model on the same rows and
  the same (untransformed) target: both predictive checks side by side and PSIS-LOO with its
  standard error (``az.compare``). The ridge posterior is its exact one at the ridge page's
  reference alpha with sigma fixed (the ridge page's model, drawn here from its closed form: no
  second compile).
"""

from __future__ import annotations

import numpy as np

from experiments import report, verdicts
from experiments.family import _reference_doc
from experiments.predictive import draw_ecdfs
from experiments.report import user
from experiments.runner import Run, Section
from experiments.style import legend_below, plt, save
from models.core import glm
from models.core.arrays import draws_log_likelihood, normal_draws
from models.core.base import ModelSpec
from models.core.lazy import lazy

az = lazy("arviz")
xr = lazy("xarray")

SHOWN = 40  # replicated data sets drawn per panel


def reference_section(spec: ModelSpec) -> Section:
    """The cross-validation behind the reference alpha (only when it came from the CV)."""

    def compute(run: Run) -> dict:
        if run.state["source"] != _reference_doc(spec):
            return {"cv_choice": None}
        md = run.state["md"]
        search = glm.cv_search(spec.link.sklearn({"alpha": 1.0}, md), md)
        alphas, scores, se = search["alphas"], search["scores"], search["se"]
        best, chosen = search["best"], search["chosen"]
        what = f"{glm.CV_FOLDS}-fold CV (D^2 of the deviance) over {len(alphas)} alphas"
        verdict = verdicts.cv_choice(what, alphas[best], scores[best], se[best], alphas[0],
                                     alphas[-1], alphas[chosen], scores[chosen], baseline=0.0)  # fmt: skip
        return {"cv_choice": run.adds(verdict)}

    def page(page: report.Page, results: dict) -> None:
        if results["cv_choice"] is not None:
            page.heading("The reference alpha")
            page.verdict(results["cv_choice"])

    return Section("the reference alpha's cross-validation", compute, None, page)


def _exact_ridge_draws(run: Run, n_draws: int):
    """``(b0, w, sigma, fitted, alpha)``: draws of ridge's exact posterior (sigma fixed at the
    least-squares residual sd) at its reference alpha, on this page's rows."""
    from models import ridge
    from models.core.data import model_data

    md = model_data(ridge.SPEC, run.data)
    penalty = ridge.SPEC.link.reference_penalty(md)
    mean, cov = ridge.SPEC.closed_form.exact_posterior(
        ridge.SPEC.link.prior_values(penalty, md), md
    )
    rng = np.random.default_rng(run.seed + 21)
    theta = normal_draws(rng, mean, cov, n_draws)
    return md, theta[:, 0], theta[:, 1:], md.noise_sd, mean[0] + md.X @ mean[1:], penalty["alpha"]


def _tree(log_likelihood: np.ndarray, intercept: np.ndarray, chains: int):
    """A DataTree as ``az.loo`` reads it: ``log_likelihood`` (draws, rows), and the intercept's
    draws as the posterior (its chains give the relative efficiency of the draws)."""
    dims = ("chain", "draw", "obs")
    return xr.DataTree.from_dict({
        "posterior": xr.Dataset({"intercept": (dims[:2], intercept.reshape(chains, -1))}),
        "log_likelihood": xr.Dataset({"y": (dims, log_likelihood.reshape(chains, -1, log_likelihood.shape[-1]))}),
    })  # fmt: skip


def ridge_section(spec: ModelSpec) -> Section:
    """Gamma against Gaussian ridge: predictive checks side by side and PSIS-LOO (module docstring)."""
    from experiments.ridge import predictive_checks

    def compute(run: Run) -> dict:
        md, dt = run.state["md"], run.state["dt"]
        post = dt["posterior"].dataset
        chains, draws = post.sizes["chain"], post.sizes["draw"]
        b0 = post[spec.intercept].values.reshape(-1)
        w = post[spec.coefficients].values.reshape(chains * draws, -1)
        phi = post[spec.noise_variable].values.reshape(-1)
        own = draws_log_likelihood(spec.likelihood, b0, w, md.X, md.y, phi)
        ridge_md, r_b0, r_w, sigma, ridge_fitted, ridge_alpha = _exact_ridge_draws(
            run, chains * draws
        )
        theirs = draws_log_likelihood("gaussian", r_b0, r_w, ridge_md.X, md.y, sigma)
        trees = {spec.name: _tree(own, b0, chains), "ridge": _tree(theirs, r_b0, chains)}
        loo = {name: az.loo(tree) for name, tree in trees.items()}
        table = az.compare(trees)
        worse = table.index[1]
        comparison = verdicts.comparison(
            "PSIS-LOO elpd on the same rows and target", table.index[0], worse,
            float(table.loc[table.index[0], "elpd"] - table.loc[worse, "elpd"]),
            float(table.loc[worse, "dse"]), lower_is_better=False,
        )  # fmt: skip
        rng = np.random.default_rng(run.seed + 22)
        eta = r_b0[:, None] + r_w @ ridge_md.X.T
        ridge_rep = eta + sigma * rng.standard_normal(eta.shape)
        ridge_checks = predictive_checks(md.y, ridge_fitted, [(slice(None), ridge_rep)])
        ridge_overall = verdicts.predictive_check(ridge_checks)
        own_rep = spec.family.sample(rng, b0[:, None] + w @ md.X.T, phi)
        run.state["side_by_side"] = {"ridge": ridge_rep[:SHOWN], spec.name: own_rep[:SHOWN]}
        high_k = {name: int(np.sum(result.pareto_k.values > verdicts.PARETO_K_MAX))
                  for name, result in loo.items()}  # fmt: skip
        return {"versus_ridge": {
            "ridge_alpha": float(ridge_alpha), "ridge_noise_sd": float(sigma),
            "loo": {name: {"elpd": float(r.elpd), "se": float(r.se), "p": float(r.p),
                           "pareto_k_high": high_k[name]} for name, r in loo.items()},
            "comparison": run.adds(comparison),
            "pareto_k": {name: verdicts.pareto_k(high_k[name], len(md.y)) for name in loo},
            "ridge_check": {"statistics": ridge_checks, "overall": ridge_overall},
            "below_zero": {"ridge": float(np.mean(ridge_rep < 0)),
                           spec.name: float(np.mean(own_rep < 0))},
        }}  # fmt: skip

    def figures(run: Run) -> None:
        y, shown = run.state["md"].y, run.state["side_by_side"]
        fig, axes = plt.subplots(1, 2, figsize=(12, 4.2), sharex=True, layout="constrained")
        for ax, (name, y_rep) in zip(axes, shown.items(), strict=True):
            draw_ecdfs(ax, y, y_rep, "replicated data sets", run.results["target"])
            ax.axvline(0, color="grey", lw=0.8, ls=":")
            ax.set_title(f"{name} posterior predictive")
        legend_below(fig, axes[0], ncol=2, offset=-0.1)
        save(fig, run.out / "versus_ridge.png")

    def page(page: report.Page, results: dict) -> None:
        res = results["versus_ridge"]
        page.heading("Against the Gaussian ridge model")
        page.text(
            f"The model of the [ridge page](page:ridge) on the same rows and target "
            f"{user(results['target'])}: Normal likelihood, sigma fixed at the least-squares "
            f"residual sd {res['ridge_noise_sd']:.4g}, at its reference alpha "
            f"{res['ridge_alpha']:.4g} (RidgeCV), drawn from its exact posterior. Its replicated "
            f"data put {res['below_zero']['ridge']:.1%} of their values below 0, this model's "
            f"{res['below_zero'][spec.name]:.1%}."
        )
        page.bullets([
            f"Ridge: {report.sentence(res['ridge_check']['overall'])}",
            f"{spec.name.capitalize()}: {report.sentence(results['predictive_check']['overall'])}",
            report.sentence(res["comparison"]),
            *(f"{name}: {report.sentence(v)}" for name, v in res["pareto_k"].items()),
        ])  # fmt: skip
        rows = [["ridge", v["statistic"], v["observed"], *v["replicated"], v["value"], v["outcome"]]
                for v in res["ridge_check"]["statistics"]]  # fmt: skip
        page.table(["model", "statistic T", "T(y)", "T(y_rep) 3%", "T(y_rep) 97%", "p", "verdict"],
                   rows, [r[-1] != "passes" for r in rows])  # fmt: skip
        page.table(["model", "PSIS-LOO elpd", "se", "p_loo", "rows with Pareto k > 0.7"],
                   [[name, v["elpd"], v["se"], v["p"], v["pareto_k_high"]]
                    for name, v in res["loo"].items()])  # fmt: skip
        page.figure("versus_ridge.png", "Empirical CDFs of posterior replicated data sets (blue) "
                    "against the observed target (grey): Gaussian ridge (left) and this model "
                    "(right); the dotted line is 0.", observe=res["comparison"])  # fmt: skip

    return Section("against the Gaussian ridge model (PSIS-LOO)", compute, figures, page)


__all__ = ["reference_section", "ridge_section"]
