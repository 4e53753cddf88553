"""Experiment ``sparse``: what priors no penalty expresses buy on a sparse signal.

    python -m experiments sparse [--quick] [--p0 K] [--data FILE.csv --target COL]

A generated problem with known truth (n = 100 training rows, p = 50 AR(1)-correlated columns,
rho 0.5, five non-zero coefficients 3, -2, 1, 0.5, -0.25 at seeded places, noise sd 1, 200
held-out rows), repeated over seeds: RidgeCV (its exact Student-t posterior at the chosen alpha),
LassoCV (a point), ARD (the exact posterior at the evidence's precisions), the regularised
horseshoe and R2D2 (NUTS). Scored by the coefficients' RMSE against the truth, the held-out log
predictive density, PSIS-LOO (``az.compare``, first seed), the 94% intervals' coverage of the true
coefficients and their width on the noise coefficients, and the shrinkage profile kappa_j. Then
diabetes with 40 seeded pure-noise columns: how many noise columns each method keeps.

With ``--data FILE --target COL`` the real-data section runs on the user's CSV instead (every
column of it, no added noise): which columns each method keeps and the methods' PSIS-LOO
comparison. The generated problem is skipped there (it does not depend on the user's data), and
the page says so.
"""

from __future__ import annotations

import warnings

import numpy as np

from experiments import report, verdicts
from experiments.report import user
from experiments.runner import Experiment, Run, Section
from experiments.style import COLORS, figure_label, name_ticks, plt, save
from models import ard, horseshoe, r2d2, ridge
from models.core.base import InputError, ModelData, quoted
from models.core.data import CONSTANT, constant_columns
from models.core.families import normal_logpdf
from models.core.lazy import lazy
from models.inference.engines import PosteriorSampler, sampling_diagnostics, tuning_iterations
from models.scale.statistics import GaussianStatistics

az = lazy("arviz")
linear_model = lazy("sklearn.linear_model")
stats = lazy("scipy.stats")
xr = lazy("xarray")

N_TRAIN, N_TEST, P, RHO = 100, 200, 50, 0.5
TRUE_VALUES = (3.0, -2.0, 1.0, 0.5, -0.25)
PROB = 0.94
BAYES = ("ridge", "ard", "horseshoe", "r2d2")  # methods with a posterior
METHODS = ("ridge", "lasso", "ard", "horseshoe", "r2d2")
NOISE_COLUMNS = 40  # with diabetes' 10 columns, the generated problem's width P
TARGET_ACCEPT = {"horseshoe": horseshoe.TARGET_ACCEPT, "r2d2": 0.95}
MIN_USER_ROWS = 10  # LassoCV's 5 folds, each with two held-out rows at least
SHOWN_COLUMNS = 20  # a user's columns in the figure (the largest by |horseshoe mean|)


def settings(quick: bool) -> dict:
    if quick:
        return {"seeds": 2, "draws": 500, "chains": 2}
    return {"seeds": 5, "draws": 1000, "chains": 2}


def options(parser) -> None:
    parser.add_argument("--p0", type=float, default=None,
                        help="horseshoe: expected number of non-zero coefficients, 0 < p0 < p "
                        f"(default {len(TRUE_VALUES)}, the truth, on the generated problem and "
                        f"diabetes (p = {P}); a fifth of the columns on --data)")  # fmt: skip


def validate(run: Run) -> None:
    """``--p0`` against the number of columns it applies to; a user CSV needs
    :data:`MIN_USER_ROWS` rows, and no constant column (R2D2 divides by each column's variance)."""
    if run.args.data is None:
        run.state["p0"] = horseshoe.check_p0(
            len(TRUE_VALUES) if run.args.p0 is None else run.args.p0, P
        )
        return
    n_rows, p = run.data.X.shape
    if n_rows < MIN_USER_ROWS:
        raise InputError(f"sparse needs at least {MIN_USER_ROWS} data rows (the lasso's 5-fold "
                         f"cross-validation), found {n_rows}")  # fmt: skip
    constant = [quoted(n) for n, c in zip(run.data.feature_names, constant_columns(run.data.X),
                                          strict=True) if c]  # fmt: skip
    if constant:
        raise InputError(f"column(s) {', '.join(constant[:5])} {CONSTANT}: R2D2's prior divides by "
                         "each column's variance; drop them")  # fmt: skip
    run.state["p0"] = (
        horseshoe.default_p0(p) if run.args.p0 is None else horseshoe.check_p0(run.args.p0, p)
    )


def problem(seed: int):
    """``(X_train, y_train, X_test, y_test, w)`` of the generated sparse problem."""
    rng = np.random.default_rng(seed)
    cov = RHO ** np.abs(np.subtract.outer(np.arange(P), np.arange(P)))
    X = rng.standard_normal((N_TRAIN + N_TEST, P)) @ np.linalg.cholesky(cov).T
    w = np.zeros(P)
    w[rng.choice(P, len(TRUE_VALUES), replace=False)] = TRUE_VALUES
    y = 1.0 + X @ w + rng.standard_normal(N_TRAIN + N_TEST)
    return X[:N_TRAIN], y[:N_TRAIN], X[N_TRAIN:], y[N_TRAIN:], w


def _model_data(X, y, names) -> ModelData:
    return ModelData(X, y, tuple(names), stats=GaussianStatistics.from_arrays(X, y))


def _exact_draws(post, rng, size) -> dict:
    beta, noise2 = post.draw(rng, size)
    return {"intercept": beta[:, 0], "w": beta[:, 1:], "sigma": np.sqrt(noise2)}


def fits(run: Run, X, y, names, seed) -> dict:
    """``{method: draws or point}``: draws ``{"intercept", "w", "sigma"}`` (draws first) for the
    Bayesian methods, ``{"intercept", "w", "sigma"}`` as single values for the lasso."""
    cfg = run.cfg
    size = cfg["draws"] * cfg["chains"]
    rng = np.random.default_rng(seed + 1)
    alpha = linear_model.RidgeCV(alphas=ridge.ALPHA_GRID).fit(X, y).alpha_
    out = {"ridge": _exact_draws(ridge.conjugate({"alpha": alpha}, X, y), rng, size)}
    lasso = linear_model.LassoCV(cv=5, random_state=seed, max_iter=100_000).fit(X, y)
    residual = y - lasso.predict(X)
    out["lasso"] = {"intercept": np.array([lasso.intercept_]), "w": lasso.coef_[None, :],
                    "sigma": np.array([np.sqrt(np.mean(residual**2))])}  # fmt: skip
    found = ard.evidence_maximiser(X, y).certify()
    penalty = {"alpha": found.alpha,
               "lambda": np.where(found.kept, found.lambda_, ard.PRUNED_PRECISION)}  # fmt: skip
    out["ard"] = _exact_draws(ard.conjugate(penalty, X, y), rng, size)
    md = _model_data(X, y, names)
    for name, model in (
        ("horseshoe", horseshoe.build(md, p0=run.state["p0"])),
        ("r2d2", r2d2.build(md)),
    ):
        dt = PosteriorSampler(model).sample(
            draws=cfg["draws"], tune=tuning_iterations(name), chains=cfg["chains"], seed=seed + 7,
            target_accept=TARGET_ACCEPT[name],
        )  # fmt: skip
        row = sampling_diagnostics(f"{name}, seed {seed}", dt, ["intercept", "w", "sigma"])
        run.diagnose(row)
        post = dt["posterior"].dataset
        out[name] = {key: post[key].values.reshape(size, *post[key].shape[2:])
                     for key in ("intercept", "w", "sigma", "kappa")}  # fmt: skip
        out[name]["divergences"] = row["divergences"]
    return out


def _log_lik(draws: dict, X, y) -> np.ndarray:
    """(draws, rows) pointwise log density."""
    mean = draws["intercept"][:, None] + draws["w"] @ X.T
    return normal_logpdf(y, mean, draws["sigma"][:, None])


def scores(draws: dict, X_test, y_test, truth) -> dict:
    w = draws["w"]
    estimate = w.mean(axis=0)
    ll = _log_lik(draws, X_test, y_test)
    lpd = np.log(np.mean(np.exp(ll - ll.max(axis=0)), axis=0)) + ll.max(axis=0)
    out = {"rmse": float(np.sqrt(np.mean((estimate - truth) ** 2))), "lpd": lpd.tolist()}
    if len(w) > 1:
        low, high = np.quantile(w, [(1 - PROB) / 2, (1 + PROB) / 2], axis=0)
        inside = (low <= truth) & (truth <= high)
        noise = truth == 0
        out.update(covered=int(inside.sum()), covered_signal=int(inside[~noise].sum()),
                   noise_width=float(np.mean((high - low)[noise])),
                   low=low.tolist(), high=high.tolist())  # fmt: skip
    out["estimate"] = estimate.tolist()
    return out


def _tree(draws: dict, X, y, chains: int):
    ll = _log_lik(draws, X, y)
    shape = (chains, ll.shape[0] // chains)
    return xr.DataTree.from_dict({
        "posterior": xr.Dataset({"sigma": (("chain", "draw"), draws["sigma"].reshape(shape))}),
        "log_likelihood": xr.Dataset({"y": (("chain", "draw", "obs"), ll.reshape(*shape, -1))}),
    })  # fmt: skip


def _mean_se(values) -> tuple[float, float]:
    values = np.asarray(values, dtype=float)
    se = float(np.std(values, ddof=1) / np.sqrt(len(values))) if len(values) > 1 else 0.0
    return float(np.mean(values)), se


def loo_comparison(run: Run, fitted: dict, X, y, rows: str) -> dict:
    """PSIS-LOO of every posterior on ``X, y`` (``az.compare``): the table, the verdict on the best
    two (recorded in the box) and one Pareto-k check per method."""
    trees = {m: _tree(fitted[m], X, y, run.cfg["chains"]) for m in BAYES}
    with warnings.catch_warnings():  # high Pareto k is a verdict on the page
        warnings.simplefilter("ignore", UserWarning)
        each = {m: az.loo(tree) for m, tree in trees.items()}
        table = az.compare(each, round_to="none")  # the verdict is computed from these numbers
    high_k = {m: int(np.sum(r.pareto_k.values > verdicts.PARETO_K_MAX)) for m, r in each.items()}
    loo = {"pareto_k": {m: run.check(f"PSIS-LOO, {m}", verdicts.pareto_k(k, len(y)))
                        for m, k in high_k.items()}}  # fmt: skip
    loo |= {"table": [[m, float(table.loc[m, "elpd"]), float(table.loc[m, "se"]),
                      float(table.loc[m, "elpd_diff"]), float(table.loc[m, "dse"])]
                     for m in table.index]}  # fmt: skip
    best, second = table.index[0], table.index[1]
    # ridge's alpha (RidgeCV) and ARD's precisions (the evidence) were fitted to the same rows
    # each left-out row then comes back to: their PSIS-LOO is optimistic; the horseshoe and R2D2
    # integrate their hyper-parameters out
    loo["verdict"] = run.adds(verdicts.comparison(
        f"PSIS-LOO elpd on {rows}; ridge's and ARD's conditional on hyper-parameters fitted to "
        "these rows, so optimistic", best, second,
        float(table.loc[best, "elpd"] - table.loc[second, "elpd"]),
        float(table.loc[second, "dse"]), lower_is_better=False,
    ))  # fmt: skip
    return loo


def _generic_names(p: int) -> list[str]:
    """``x0 ... x{p-1}``: the coefficients' names in every fit of the default page (none is shown),
    so that fits of the same width have the same graph and share one compile per model."""
    return [f"x{j}" for j in range(p)]


def compute(run: Run) -> dict:
    """The generated problem over seeds (skipped on a user's CSV: no known truth there)."""
    if run.args.data is not None:
        return {}
    names = _generic_names(P)
    per_seed, loo = [], None
    for k in range(run.cfg["seeds"]):
        seed = run.seed + k
        X, y, X_test, y_test, truth = problem(seed)
        fitted = fits(run, X, y, names, seed)
        row = {m: scores(fitted[m], X_test, y_test, truth) for m in METHODS}
        for m in ("horseshoe", "r2d2"):
            row[m]["kappa"] = fitted[m]["kappa"].mean(axis=0).tolist()
            row[m]["divergences"] = fitted[m]["divergences"]
        row["truth"] = truth.tolist()
        if k == 0:
            loo = loo_comparison(run, fitted, X, y, "the training rows (first seed, az.compare)")
        per_seed.append(row)
    summary = {}
    for m in METHODS:
        summary[m] = {
            "rmse": _mean_se([r[m]["rmse"] for r in per_seed]),
            "lpd": _mean_se([np.mean(r[m]["lpd"]) for r in per_seed]),
        }
        if m in BAYES:
            summary[m]["covered"] = sum(r[m]["covered"] for r in per_seed)
            summary[m]["noise_width"] = _mean_se([r[m]["noise_width"] for r in per_seed])
    n_seeds = len(per_seed)

    def paired(metric, first, second, lower):
        diffs = [
            (r[first][metric] if metric == "rmse" else np.mean(r[first][metric]))
            - (r[second][metric] if metric == "rmse" else np.mean(r[second][metric]))
            for r in per_seed
        ]
        mean, se = _mean_se(diffs)
        what = ("coefficient RMSE against the truth" if metric == "rmse"
                else "held-out log predictive density per row") + f", mean over {n_seeds} seeds"  # fmt: skip
        return run.adds(verdicts.comparison(what, first, second, mean, se, lower_is_better=lower))

    comparisons = [paired("rmse", "horseshoe", other, True) for other in ("ridge", "lasso", "ard")]
    comparisons += [paired("lpd", "horseshoe", other, False) for other in ("ridge", "lasso", "ard")]
    coverage = [
        run.adds(verdicts.coverage(f"{m}: true coefficients inside their {PROB:.0%} intervals "
                                   f"({n_seeds} seeds x {P}, pooled: a fit's {P} coefficients share "
                                   "one posterior, so the interval below, which takes them as "
                                   "independent, is too narrow)", summary[m]["covered"],
                                   n_seeds * P, PROB))
        for m in BAYES
    ]  # fmt: skip
    at = {"near": 0.01, "tail": 10.0}
    priors = {
        "near_vs_normal": float(horseshoe.marginal_density(at["near"])[0] / stats.norm.pdf(at["near"])),
        "tail_vs_laplace": float(horseshoe.marginal_density(at["tail"])[0]
                                 / stats.laplace.pdf(at["tail"], scale=1 / np.sqrt(2))),
        **at,
    }  # fmt: skip
    return {"sparse": {"per_seed": per_seed, "summary": summary, "loo": loo, "priors": priors,
                       "comparisons": comparisons, "coverage": coverage, "p0": run.state["p0"]}}  # fmt: skip


def _kept(w: np.ndarray) -> np.ndarray:
    """The columns a method keeps: a non-zero point (the lasso); for draws, a 94% central interval
    that excludes 0."""
    if len(w) == 1:
        return w[0] != 0
    low, high = np.quantile(w, [(1 - PROB) / 2, (1 + PROB) / 2], axis=0)
    return (low > 0) | (high < 0)


def real_data(run: Run) -> dict:
    """Diabetes with noise columns (:func:`noise_columns`), or the user's CSV (:func:`user_columns`)."""
    return noise_columns(run) if run.args.data is None else user_columns(run)


def noise_columns(run: Run) -> dict:
    """Diabetes (standardised) with :data:`NOISE_COLUMNS` seeded standard-normal columns: how many
    noise columns each method keeps (:func:`_kept`)."""
    data = run.data
    rng = np.random.default_rng(run.seed + 99)
    X0 = (data.X - data.X.mean(axis=0)) / data.X.std(axis=0)
    X = np.column_stack([X0, rng.standard_normal((len(X0), NOISE_COLUMNS))])
    fitted = fits(run, X, data.y, _generic_names(X.shape[1]), run.seed + 99)
    real = X0.shape[1]
    kept = {}
    for m in METHODS:
        keep = _kept(fitted[m]["w"])
        kept[m] = {"noise": int(keep[real:].sum()), "real": int(keep[:real].sum())}
    return {"noise_columns": {"kept": kept, "n_noise": NOISE_COLUMNS, "n_real": real}}


def user_columns(run: Run) -> dict:
    """The user's CSV (every column, as the runner read it): each method's estimate, 94% interval
    and whether it keeps each column (:func:`_kept`), and PSIS-LOO of the posteriors."""
    X, y, names = run.data.X, run.data.y, run.data.feature_names
    fitted = fits(run, X, y, names, run.seed)
    columns = {}
    for m in METHODS:
        w = fitted[m]["w"]
        columns[m] = {"estimate": w.mean(axis=0).tolist(), "kept": _kept(w).tolist()}
        if len(w) > 1:
            low, high = np.quantile(w, [(1 - PROB) / 2, (1 + PROB) / 2], axis=0)
            columns[m] |= {"low": low.tolist(), "high": high.tolist()}
    loo = loo_comparison(run, fitted, X, y, f"the {len(y)} rows of the data (az.compare)")
    return {"user_columns": {"columns": columns, "loo": loo, "p0": run.state["p0"]}}


def figures(run: Run) -> None:
    if "sparse" not in run.results:
        return
    res = run.results["sparse"]
    first = res["per_seed"][0]
    truth = np.asarray(first["truth"])
    order = np.argsort(-np.abs(truth), kind="stable")[:12]  # the signal, then the first noise
    fig, ax = plt.subplots(figsize=(9, 6), layout="constrained")
    offsets = np.linspace(-0.3, 0.3, len(METHODS))
    for offset, m in zip(offsets, METHODS, strict=True):
        est = np.asarray(first[m]["estimate"])[order]
        ypos = np.arange(len(order)) + offset
        if "low" in first[m]:
            low, high = np.asarray(first[m]["low"])[order], np.asarray(first[m]["high"])[order]
            ax.hlines(ypos, low, high, lw=1.5, color=COLORS.get(m, None))
        ax.plot(est, ypos, "o", ms=4, label=m)
    ax.plot(truth[order], np.arange(len(order)), "k|", ms=14, mew=2, label="truth")
    ax.set_yticks(np.arange(len(order)), [f"x{j}" for j in order])
    ax.axvline(0, color="grey", lw=0.5)
    ax.set_xlabel(f"coefficient (estimate, {PROB:.0%} interval)")
    ax.legend(fontsize=8)
    save(fig, run.out / "forest.png")

    fig, ax = plt.subplots(figsize=(8, 4.5), layout="constrained")
    order = np.argsort(-np.abs(truth), kind="stable")
    for m in ("horseshoe", "r2d2"):
        ax.plot(np.asarray(first[m]["kappa"])[order], "o-", ms=3, label=m)
    ax.set_xlabel("coefficients, by |true value| (the five non-zero first)")
    ax.set_ylabel("posterior mean of kappa_j (1: shrunk to 0)")
    ax.legend()
    save(fig, run.out / "kappa.png")

    fig, axes = plt.subplots(1, 2, figsize=(10, 4), layout="constrained")
    near, tails = np.linspace(-0.5, 0.5, 201), np.linspace(2, 20, 60)
    for ax, grid in zip(axes, (near, tails), strict=True):
        ax.plot(grid, horseshoe.marginal_density(grid), label="horseshoe (tau = 1)")
        ax.plot(grid, stats.norm.pdf(grid), label="Normal(0, 1)")
        ax.plot(grid, stats.laplace.pdf(grid, scale=1 / np.sqrt(2)), label="Laplace (sd 1)")
    axes[0].set_title("near zero")
    axes[1].set_yscale("log")
    axes[1].set_title("tails (log density)")
    axes[0].legend(fontsize=8)
    save(fig, run.out / "priors.png")


def page(page: report.Page, results: dict) -> None:
    if "sparse" not in results:
        page.heading("A sparse problem with known truth")
        page.text("Skipped on your data: the comparison against a known truth (coefficient RMSE, "
                  "interval coverage, shrinkage profiles) runs on the generated problem, which "
                  "does not depend on --data; it is on the page run without --data.")  # fmt: skip
        return
    res = results["sparse"]
    pr = res["priors"]
    page.heading("A sparse problem with known truth")
    summary = res["summary"]
    rows = []
    for m in METHODS:
        s = summary[m]
        rows.append([m, f"{s['rmse'][0]:.4g} ± {s['rmse'][1]:.2g}", f"{s['lpd'][0]:.4g} ± {s['lpd'][1]:.2g}",
                     s.get("covered", ""), f"{s['noise_width'][0]:.3g}" if "noise_width" in s else ""])  # fmt: skip
    page.table(["method", "coefficient RMSE", "held-out lpd per row", f"true inside {PROB:.0%}",
                "interval width, noise coefficients"], rows)  # fmt: skip
    page.bullets([report.sentence(v) for v in res["comparisons"] + res["coverage"]])
    page.heading("PSIS-LOO (first seed)")
    page.table(["model", "elpd", "se", "elpd diff", "dse"], res["loo"]["table"])
    page.verdict(res["loo"]["verdict"])
    page.bullets([f"{m}: {report.sentence(v)}" for m, v in res["loo"]["pareto_k"].items()])
    page.figure("forest.png", "First seed: estimates and 94% intervals of the five non-zero "
                "coefficients and the first noise coefficients, against the truth (black bars).",
                observe=res["coverage"][2])  # fmt: skip
    first = res["per_seed"][0]
    signal = np.asarray(first["truth"]) != 0
    profile = "; ".join(
        f"{m}: mean kappa {np.mean(np.asarray(first[m]['kappa'])[signal]):.2f} on the "
        f"{int(signal.sum())} non-zero coefficients, {np.mean(np.asarray(first[m]['kappa'])[~signal]):.2f} "
        "on the others"
        for m in ("horseshoe", "r2d2")
    )
    page.figure("kappa.png", "Shrinkage profile (first seed): posterior mean of kappa_j per "
                "coefficient.", observe=profile)  # fmt: skip
    page.figure("priors.png", "The horseshoe's marginal prior (tau = 1) against Normal and "
                "Laplace priors of unit sd: unbounded at zero, and heavier tails.",
                observe=f"at w = {pr['near']:g} the horseshoe's density is {pr['near_vs_normal']:.3g} "
                f"times the Normal's; at w = {pr['tail']:g}, {pr['tail_vs_laplace']:.3g} times the "
                "Laplace's.")  # fmt: skip


def real_page(page: report.Page, results: dict) -> None:
    if "user_columns" in results:
        user_page(page, results)
        return
    noise = results["noise_columns"]
    page.heading(
        f"What the point estimate hides: diabetes with {noise['n_noise']} pure-noise columns"
    )
    page.text("Kept: a non-zero lasso coefficient; for a posterior, a 94% central interval that "
              "excludes 0.")  # fmt: skip
    page.table(["method", f"noise columns kept (of {noise['n_noise']})",
                f"diabetes columns kept (of {noise['n_real']})"],
               [[m, v["noise"], v["real"]] for m, v in noise["kept"].items()])  # fmt: skip


def user_figures(run: Run) -> None:
    """Your data: each method's estimate and 94% interval on the columns the horseshoe weighs most."""
    if "user_columns" not in run.results:
        return
    columns = run.results["user_columns"]["columns"]
    names = run.data.feature_names
    order = np.argsort(-np.abs(columns["horseshoe"]["estimate"]), kind="stable")[:SHOWN_COLUMNS]
    fig, ax = plt.subplots(figsize=(9, 1.5 + 0.35 * len(order)), layout="constrained")
    offsets = np.linspace(-0.3, 0.3, len(METHODS))
    for offset, m in zip(offsets, METHODS, strict=True):
        ypos = np.arange(len(order)) + offset
        if "low" in columns[m]:
            low, high = np.asarray(columns[m]["low"])[order], np.asarray(columns[m]["high"])[order]
            ax.hlines(ypos, low, high, lw=1.5, color=COLORS.get(m, None))
        ax.plot(np.asarray(columns[m]["estimate"])[order], ypos, "o", ms=4, label=m)
    name_ticks(ax, "y", np.arange(len(order)), [names[j] for j in order])
    ax.invert_yaxis()
    ax.axvline(0, color="grey", lw=0.5)
    ax.set_xlabel(f"coefficient (estimate, {PROB:.0%} interval); target {figure_label(run.data.target_name)}",
                  parse_math=False)  # fmt: skip
    ax.legend(fontsize=8)
    save(fig, run.out / "columns.png")


def user_page(page: report.Page, results: dict) -> None:
    res = results["user_columns"]
    names, columns = results["feature_names"], res["columns"]
    page.heading("What the point estimate hides on your data: which columns each method keeps")
    page.text(f"Data: {user(results['data_source'])}, {results['n_obs']} rows, {len(names)} "
              f"columns; target {user(results['target'])}. {user(results['data_note'])}. No known "
              f"truth: no RMSE or coverage here. Horseshoe p0 = {res['p0']:g}. Kept: a non-zero "
              "lasso coefficient; for a posterior, a 94% central interval that excludes 0.")  # fmt: skip
    page.table(["method", f"columns kept (of {len(names)})"],
               [[m, int(np.sum(columns[m]["kept"]))] for m in METHODS])  # fmt: skip

    def shown(m, j):
        c = columns[m]
        interval = (
            f" [{report.number(c['low'][j])}, {report.number(c['high'][j])}]" if "low" in c else ""
        )
        return f"{report.number(c['estimate'][j])}{interval}" + (" kept" if c["kept"][j] else "")

    page.table(["column", *METHODS], [[name, *(shown(m, j) for m in METHODS)]
                                      for j, name in enumerate(names)])  # fmt: skip
    page.heading("PSIS-LOO on your data")
    page.table(["model", "elpd", "se", "elpd diff", "dse"], res["loo"]["table"])
    page.verdict(res["loo"]["verdict"])
    page.bullets([f"{m}: {report.sentence(v)}" for m, v in res["loo"]["pareto_k"].items()])
    kept = ", ".join(f"{m} {int(np.sum(columns[m]['kept']))}" for m in METHODS)
    page.figure("columns.png", f"Each method's estimate and {PROB:.0%} interval on the (at most "
                f"{SHOWN_COLUMNS}) columns with the largest horseshoe posterior means.",
                observe=f"columns kept, of {len(names)}: {kept}.")  # fmt: skip


CLAIM = (
    "On a sparse signal, priors no penalty expresses (the horseshoe, R2D2) are compared with "
    "ridge, lasso and ARD on known truth."
)
CLAIM_USER = (
    "On the user's data (no known truth), the horseshoe and R2D2 are compared with ridge, lasso "
    "and ARD: the columns each keeps, and PSIS-LOO."
)

EXPERIMENT = Experiment(
    name="sparse",
    title="Beyond penalties: ARD, the horseshoe and R2D2",
    description="Ridge, lasso, ARD, horseshoe and R2D2 on a sparse problem with known truth, and "
    "on diabetes with noise columns or your CSV (--data).",
    sections=(
        Section("the generated problem: every method on every seed", compute, figures, page),
        Section(
            "the real data: which columns each method keeps", real_data, user_figures, real_page
        ),
    ),
    settings=settings,
    options=options,
    validate=validate,
    claim=lambda results: CLAIM_USER if "user_columns" in results else CLAIM,
)

__all__ = ["EXPERIMENT", "problem", "scores"]
