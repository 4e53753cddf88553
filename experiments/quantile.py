"""Quantile regression: QuantileRegressor is the mode of an asymmetric-Laplace posterior.

The generic penalty page (Check 1 on a grid of alpha at q = 0.1, 0.5, 0.9 with the model's exact
linear-programme mode; Check 2 at the reference quantile), plus the quantile lines q = 0.1, 0.5,
0.9 (and ``--quantile``'s) drawn with their posterior bands along one feature, and a computed check
of each line: the share of the target below it is q, within a binomial margin.
"""

from __future__ import annotations

import numpy as np

from experiments import report, verdicts
from experiments.family import penalty_experiment, penalty_label
from experiments.report import user
from experiments.runner import Card, Run, Section
from experiments.style import figure_label, plt, save
from models import quantile
from models.core.lazy import lazy
from models.inference.engines import tuning_iterations

model_selection = lazy("sklearn.model_selection")

BAND = 0.94  # the posterior band of each quantile line (equal-tailed)
FOLDS = 5  # cross-fitting of the held-out share
LINE_COLORS = ("#1b9e77", "#d95f02", "#7570b3", "#e7298a")


def _feature(names: list[str], X: np.ndarray, y: np.ndarray) -> int:
    """The feature drawn: ``bmi`` when there is one, else the one most correlated with y."""
    if "bmi" in names:
        return names.index("bmi")
    corr = [abs(np.corrcoef(X[:, j], y)[0, 1]) for j in range(X.shape[1])]
    return int(np.nanargmax(corr))


def _held_out_below(md, penalty: dict) -> int:
    """Rows below the q-line fitted (exact mode) without their fold: 5-fold cross-fitting."""
    below = 0
    folds = model_selection.KFold(FOLDS, shuffle=True, random_state=0)
    for fit_rows, test_rows in folds.split(md.X):
        part = type(md)(md.X[fit_rows], md.y[fit_rows], md.feature_names)
        b0, w = quantile.SPEC.point_coefficients(quantile.solve_mode(penalty, part).point)
        below += int(np.sum(md.y[test_rows] < b0 + md.X[test_rows] @ w))
    return below


def lines_compute(run: Run) -> dict:
    """Each quantile at the reference alpha: the certified mode, NUTS draws (one compiled model,
    the quantile a ``pm.Data``), the posterior of the line along one feature (others at their
    mean), and the share of y below the line, in-sample (posterior mean line) and held out."""
    md, spec = run.state["md"], quantile.SPEC
    alpha = run.state["penalty"]["alpha"]
    chosen = sorted({*quantile.QUANTILES, run.state["penalty"]["quantile"]})
    j = _feature(list(md.feature_names), md.X, md.y)
    grid = np.linspace(md.X[:, j].min(), md.X[:, j].max(), 60)
    base = md.X.mean(axis=0)
    lines = []
    for k, q in enumerate(chosen):
        penalty = {"alpha": alpha, "quantile": q}
        mode = run.state["solver"].solve(penalty)
        run.diagnose(report.map_diagnostics(f"mode at {penalty_label(penalty)}", mode.converged,
                                            mode.message))  # fmt: skip
        dt = run.state["sampler"].sample(
            spec.link.prior_values(penalty, md), draws=run.cfg["draws"], chains=run.cfg["chains"],
            tune=tuning_iterations("quantile"), seed=run.seed + 1 + k, target_accept=0.95,
        )  # fmt: skip
        run.diagnose(report.sampling_diagnostics(f"quantile {q:g}", dt, spec.posterior_variables()))
        post = dt["posterior"]
        b0 = post["intercept"].values.reshape(-1)
        w = post["w"].values.reshape(len(b0), -1)
        along = b0[:, None] + (base @ w.T)[:, None] + w[:, [j]] * (grid - base[j])[None, :]
        band = np.quantile(along, [(1 - BAND) / 2, (1 + BAND) / 2], axis=0).T
        fitted = (b0[:, None] + w @ md.X.T).mean(axis=0)  # the posterior mean of each row's line
        m0, mw = spec.point_coefficients(mode.point)
        lines.append({
            "quantile": q, "map_line": m0 + base @ mw + mw[j] * (grid - base[j]),
            "band_low": band[:, 0], "band_high": band[:, 1], "mean_line": along.mean(axis=0),
            "b_mean": float(post["b"].mean()), "w_feature_mean": float(w[:, j].mean()),
            "w_feature_map": float(mw[j]),
            "in_sample": run.adds(verdicts.quantile_share(
                f"q = {q:g}, posterior mean line, in sample", int(np.sum(md.y < fitted)),
                len(md.y), q)),
            "held_out": run.adds(verdicts.quantile_share(
                f"q = {q:g}, mode fitted on the other {FOLDS - 1} of {FOLDS} folds, held out",
                _held_out_below(md, penalty), len(md.y), q)),
        })  # fmt: skip
    return {"lines": {"alpha": alpha, "feature": md.feature_names[j], "grid": grid,
                      "band": BAND, "quantiles": lines}}  # fmt: skip


def lines_figure(run: Run) -> None:
    res, md = run.results["lines"], run.state["md"]
    j = list(md.feature_names).index(res["feature"])
    fig, ax = plt.subplots(figsize=(8.5, 5.2), layout="constrained")
    ax.scatter(md.X[:, j], md.y, s=8, color="0.55", alpha=0.6, label="data")
    for line, color in zip(res["quantiles"], LINE_COLORS, strict=False):
        q = line["quantile"]
        ax.fill_between(res["grid"], line["band_low"], line["band_high"], color=color, alpha=0.25,
                        label=f"q = {q:g}: {res['band']:.0%} posterior band")  # fmt: skip
        ax.plot(res["grid"], line["map_line"], color=color, lw=2,
                label=f"q = {q:g}: QuantileRegressor = MAP")  # fmt: skip
        ax.plot(res["grid"], line["mean_line"], color=color, lw=1, ls="--")
    ax.set_xlabel(
        f"{figure_label(res['feature'])} (other features at their mean)", parse_math=False
    )
    ax.set_ylabel(figure_label(run.results["target"]), parse_math=False)
    ax.set_title(f"Quantile lines at alpha = {res['alpha']:.3g}: the mode and its posterior band")
    ax.legend(fontsize=8, ncol=2)
    save(fig, run.out / "quantile_lines.png")


def lines_page(page: report.Page, results: dict) -> None:
    res = results["lines"]
    page.heading("Three quantile lines and their posteriors")
    page.text(
        f"Each quantile q at alpha = {res['alpha']:.4g} (the reference alpha, for every q): the "
        f"mode (QuantileRegressor, the certified linear programme), NUTS draws of the same "
        f"compiled model with q and the Laplace scale as data, and the line along "
        f"`{user(res['feature'])}` with the other features at their mean. The scale b is sampled "
        "(p(b) ∝ 1 / b); the likelihood is continuous but kinked at every row, so NUTS runs at "
        "target_accept 0.95 and its divergences are in the diagnostics."
    )
    page.table(
        ["q", f"{res['feature']}: MAP", "posterior mean", "scale b (mean)", "below (in sample)",
         "below (held out)"],
        [[line["quantile"], line["w_feature_map"], line["w_feature_mean"], line["b_mean"],
          line["in_sample"]["value"], line["held_out"]["value"]] for line in res["quantiles"]],
        [line["held_out"]["level"] == verdicts.RED for line in res["quantiles"]],
    )  # fmt: skip
    page.figure(
        "quantile_lines.png",
        f"The data, and for each q the mode (solid; QuantileRegressor's line), the posterior mean "
        f"line (dashed) and the {res['band']:.0%} equal-tailed posterior band of the line.",
        observe=res["quantiles"][-1]["held_out"],
    )
    page.text(
        "The share of the target below a q-line should be q. In sample, the mode meets it by "
        "construction (up to its interpolated rows); the posterior mean line and the held-out "
        "lines are the real checks:"
    )
    page.bullets([report.sentence(line[key]) for line in res["quantiles"]
                  for key in ("in_sample", "held_out")])  # fmt: skip


def card(results: dict) -> Card:
    held = [line["held_out"] for line in results["lines"]["quantiles"]]
    consistent = sum(v["outcome"] == "consistent" for v in held)
    return Card("quantile_lines.png", (
        f"MAP = QuantileRegressor: max rel diff **{max(results['max_rel_diff']):.1e}** over "
        f"{len(results['max_rel_diff'])} (alpha, q); held-out share below the line consistent with "
        f"q for **{consistent}/{len(held)}** quantiles."
    ))  # fmt: skip


EXPERIMENT = penalty_experiment(
    quantile.SPEC,
    title="QuantileRegressor is the MAP of an asymmetric-Laplace model",
    extra=(
        Section(
            "the quantile lines q = 0.1, 0.5, 0.9 with posterior bands",
            lines_compute,
            lines_figure,
            lines_page,
        ),
    ),  # fmt: skip
    card=card,
)
