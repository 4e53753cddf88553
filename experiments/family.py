"""The generic experiment every registered model gets: MAP = scikit-learn on a penalty grid, then the
full posterior at a reference penalty, showing where mode, mean and median part ways.

``python -m experiments NAME`` runs it for any model in the registry; dedicated experiments (lasso,
logistic) call :func:`run_penalty_experiment` and add their own sections through ``extra``.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

import arviz as az
import matplotlib.pyplot as plt
import numpy as np
import pymc as pm

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
from models.base import Context, ModelSpec, positive
from models.inference import MAPSolver, PosteriorSampler

HDI = 0.94


def settings(quick: bool) -> dict:
    if quick:
        return {"n_grid": 12, "draws": 500, "tune": 500, "chains": 2}
    return {"n_grid": 25, "draws": 2000, "tune": 1000, "chains": 4}


def model_context(
    spec: ModelSpec, X: np.ndarray, y: np.ndarray, noise_sd: float | None = None
) -> Context:
    """What the penalty -> prior mapping needs on ``(X, y)``: the number of rows and, for a Gaussian
    likelihood, the fixed noise sd sigma (``noise_sd``, default the least-squares residual sd)."""
    if spec.likelihood != "gaussian":
        return Context(n_obs=len(y))
    return Context(
        n_obs=len(y), noise_sd=ridge.ols_noise_sd(X, y) if noise_sd is None else noise_sd
    )


def build_model(spec: ModelSpec, data: common.Dataset, ctx: Context) -> pm.Model:
    """``spec``'s PyMC model on ``data``; a Gaussian likelihood gets sigma fixed at ``ctx.noise_sd``."""
    kwargs = {} if ctx.noise_sd is None else {"noise_sd": ctx.noise_sd}
    return spec.build(data.X, data.y, data.feature_names, **kwargs)


def _penalty_label(penalty: dict) -> str:
    return ", ".join(f"{k}={v:.4g}" for k, v in penalty.items())


def run_penalty_experiment(
    spec: ModelSpec,
    argv: list[str],
    *,
    name: str | None = None,
    extra: Callable | None = None,
    add_arguments: Callable[[argparse.ArgumentParser], None] | None = None,
) -> None:
    """Run the MAP-agreement sweep and the reference posterior for ``spec``; write the report.

    Parameters
    ----------
    spec : ModelSpec
        The model (with ``penalty_grid`` and ``reference_penalty``).
    argv : list of str
        Command-line arguments (see ``common.base_parser``).
    name : str, optional
        Experiment name (default ``spec.name``): output folder and progress label.
    extra : callable, optional
        ``extra(ctx: dict) -> dict`` called after the reference fit with everything computed so far
        (and ``page``/``out``); returns more results. It runs before the page is written.
    add_arguments : callable, optional
        Adds experiment-specific options to the parser.
    """
    name = name or spec.name
    parser = common.base_parser(name, f"{spec.title}: MAP vs scikit-learn, and the posterior.")
    if spec.likelihood == "gaussian":
        parser.add_argument(
            "--noise-sd",
            type=float,
            help="fixed noise sd sigma (default: least-squares residual sd)",
        )
    if add_arguments:
        add_arguments(parser)
    args = parser.parse_args(argv)
    cfg = settings(args.quick)
    data = common.load_data(args, spec.default_data)
    X, y, names = data.X, data.y, data.feature_names
    spec.validate_target(y)
    given = getattr(args, "noise_sd", None)
    ctx = model_context(spec, X, y, None if given is None else positive(given, "--noise-sd"))
    noise_sd = ctx.noise_sd
    progress = common.Progress(name, 5 + (extra is not None), args.quiet)

    with atomic_output_dir(args.out, name) as out:
        progress("compiling the model (once for MAP, once for NUTS)")
        model = build_model(spec, data, ctx)
        solver, sampler = MAPSolver(model, spec), PosteriorSampler(model)
        grid = spec.penalty_grid(X, y, ctx, cfg["n_grid"])
        prior_grid = [spec.prior_values(penalty, ctx) for penalty in grid]

        progress(f"MAP vs scikit-learn on {len(grid)} penalties")
        sk_coef, map_coef, max_rel, same_zeros = [], [], [], []
        for penalty, prior in zip(grid, prior_grid, strict=True):
            sk = spec.sklearn(penalty, ctx).fit(X, y)
            fit = solver.solve(prior)
            sk_w, map_w = np.ravel(sk.coef_), fit.point["w"]
            sk_coef.append(sk_w)
            map_coef.append(map_w)
            same_zeros.append(bool(np.array_equal(sk_w == 0, map_w == 0)))
            nonzero = sk_w != 0
            max_rel.append(common.rel_linf(map_w[nonzero], sk_w[nonzero]) if nonzero.any() else 0.0)

        progress("reference penalty (scikit-learn cross-validation) and NUTS there")
        reference = spec.reference_penalty(X, y, ctx)
        values = spec.prior_values(reference, ctx)
        dt = sampler.sample(
            values, draws=cfg["draws"], tune=cfg["tune"], chains=cfg["chains"], seed=args.seed
        )
        ref_map = solver.solve(values).point
        ref_sk = spec.sklearn(reference, ctx).fit(X, y)
        summary = az.summary(dt, var_names=["w"], ci_kind="hdi", ci_prob=HDI, round_to="none")
        draws = dt["posterior"]["w"].values.reshape(-1, len(names))
        median = np.median(draws, axis=0)
        mean, sd = summary["mean"].to_numpy(float), summary["sd"].to_numpy(float)
        mode = ref_map["w"]
        diag = [
            report.sampling_diagnostics(
                f"{spec.name} at {_penalty_label(reference)}", dt, ["intercept", "w"]
            )
        ]

        progress("figures")
        figures(
            out,
            spec,
            names,
            grid,
            np.asarray(sk_coef),
            np.asarray(map_coef),
            draws,
            mode,
            np.ravel(ref_sk.coef_),
            mean,
            median,
        )

        results = {
            **data.provenance(),
            "model": spec.name,
            "objective": spec.objective,
            "prior": spec.prior,
            "mapping": spec.mapping,
            "noise_sd": noise_sd,
            "penalties": grid,
            "prior_values": prior_grid,
            # The same grid under scikit-learn's and the prior's own names ("Cs", "alphas",
            # "prior_sd", "laplace_scale"): one list per parameter, aligned with the coefficients.
            **{f"{key}s": [p[key] for p in grid] for key in spec.penalty_names},
            **{key: [v[key] for v in prior_grid] for key in prior_grid[0]},
            "sklearn_coef": sk_coef,
            "map_coef": map_coef,
            "max_rel_diff": max_rel,
            "same_zero_set": same_zeros,
            "posterior": {
                **reference,
                "penalty": reference,
                "prior_values": values,
                "map": mode,
                "sklearn": np.ravel(ref_sk.coef_),
                "mean": mean,
                "median": median,
                "sd": sd,
                "hdi_94_low": summary["hdi94_lb"].to_numpy(float),
                "hdi_94_high": summary["hdi94_ub"].to_numpy(float),
                "r_hat": summary["r_hat"].to_numpy(float),
                "ess_bulk": summary["ess_bulk"].to_numpy(float),
                "mean_minus_mode_in_sd": (mean - mode) / sd,
            },
            "diagnostics": diag,
            "settings": {**cfg, "seed": args.seed},
        }
        page = report.Page(spec.title, out)
        if extra is not None:
            progress("experiment-specific analysis")
            results.update(extra({"args": args, "cfg": cfg, "data": data, "ctx": ctx, "out": out, "dt": dt, "page": page,
                                  "model": model, "results": results, "ref_sk": ref_sk}))  # fmt: skip

        progress("results.json, posterior and report page")
        dt.to_netcdf(out / "posterior.nc")
        common.write_json(out / "results.json", results)
        write_page(page, spec, results, diag, common.provenance(args.seed, [name, *argv]))


def figures(out, spec, names, grid, sk_coef, map_coef, draws, mode, sk_ref, mean, median) -> None:
    """Agreement along the grid, and each coefficient's posterior with mode, mean, median, sklearn."""
    p = len(names)
    fig, ax = plt.subplots(figsize=(11, 4.5))
    index = np.arange(len(grid))
    for j in range(p):
        ax.plot(
            index,
            sk_coef[:, j],
            LINESTYLES["sklearn"],
            color=COLORS["sklearn"],
            lw=1,
            label="sklearn" if j == 0 else None,
        )
        ax.plot(
            index,
            map_coef[:, j],
            "o",
            ms=2.5,
            color=COLORS["MAP"],
            label="PyMC MAP" if j == 0 else None,
        )
    ax.set_xticks(index, [_penalty_label(g) for g in grid], rotation=70, fontsize=7)
    ax.set_xlabel("penalty (grid order)")
    ax.set_ylabel(coefficient_label(spec.likelihood))
    ax.set_title(
        f"{spec.title}: every coefficient along the grid, sklearn (dashed) under the MAP (dots)"
    )
    ax.legend()
    save(fig, out / "path.png")

    fig, axes, _ = coefficient_panels(p, 2.4)
    for j, ax in enumerate(axes):
        posterior_panel(ax, draws[:, j], mode[j], sk_ref[j], names[j], bins=60)
        ax.axvline(mean[j], color=COLORS["posterior"], lw=1.5, label="posterior mean")
        ax.axvline(median[j], color=COLORS["exact"], lw=1, label="posterior median")
    fig.supxlabel(coefficient_label(spec.likelihood))
    fig.supylabel("posterior density")
    legend_below(fig, axes[0], ncol=5, offset=-0.04)
    fig.suptitle("Posterior of each coefficient: the estimator reports only its mode")
    save(fig, out / "posterior_densities.png")


def write_page(page: report.Page, spec: ModelSpec, results: dict, diag: list, prov: dict) -> None:
    names = results["feature_names"]
    post = results["posterior"]
    # Sections added by the experiment's ``extra`` hook go after the standard ones.
    extra_blocks, page.blocks = page.blocks, []
    page.claim(
        f"scikit-learn's estimate is exactly the mode of a Bayesian posterior. Mapping: {spec.mapping}.",
        f"Estimator: minimise {spec.objective}\nBayes:     {spec.prior}\nMapping:   {spec.mapping}",
    )
    page.heading("Data and model")
    page.text(f"Data: <code>{results['data_source']}</code>, {results['n_obs']} rows, {len(names)} features; "
              f"target <i>{results['target']}</i>. {results['data_note']}.")  # fmt: skip
    if results["noise_sd"] is not None:
        page.text(
            f"Noise sd sigma fixed at {results['noise_sd']:.4g} (least-squares residual sd unless given)."
        )
    page.heading("Check 1: the MAP is the estimator")
    page.text("PyMC posterior mode (proximal Newton on the compiled log density, exact zeros for Laplace terms) "
              "against scikit-learn run at tol=1e-12. Relative L-inf difference on the non-zero coefficients.")  # fmt: skip
    rows = [
        [_penalty_label(pen), int(np.sum(np.asarray(sk) == 0)), int(np.sum(np.asarray(mp) == 0)),
         "yes" if same else "NO", d]
        for pen, sk, mp, same, d in zip(results["penalties"], results["sklearn_coef"], results["map_coef"],
                                        results["same_zero_set"], results["max_rel_diff"], strict=True)
    ]  # fmt: skip
    page.table(["penalty", "zeros (sklearn)", "zeros (MAP)", "same zero set", "max rel diff"], rows,
               [r[3] == "NO" or r[4] > 1e-6 for r in rows])  # fmt: skip
    page.text(f"Largest difference: <b>{max(results['max_rel_diff']):.2e}</b> (acceptance bound 1e-6); "
              f"zero sets identical at {sum(results['same_zero_set'])} of {len(rows)} penalties.")  # fmt: skip
    page.figure(
        "path.png",
        "Coefficients along the penalty grid: sklearn (red dashes) and the PyMC MAP (black dots).",
    )
    page.heading(f"Check 2: the posterior at {_penalty_label(post['penalty'])}")
    page.text("Reference penalty chosen by scikit-learn's cross-validation. Mode (the estimator), mean and median "
              "of each coefficient; the last column is (mean - mode) / sd.")  # fmt: skip
    page.table(
        ["coefficient", "MAP = sklearn", "mean", "median", "sd", "hdi 3%", "hdi 97%", "(mean-mode)/sd", "r_hat", "ESS bulk"],
        [[n, m, a, b, s, lo, hi, z, r, e] for n, m, a, b, s, lo, hi, z, r, e in zip(
            names, post["map"], post["mean"], post["median"], post["sd"], post["hdi_94_low"], post["hdi_94_high"],
            post["mean_minus_mode_in_sd"], post["r_hat"], post["ess_bulk"], strict=True)],
    )  # fmt: skip
    page.figure("posterior_densities.png", "Each coefficient's posterior with its mode (the estimator, black), "
                "sklearn (red dashes), mean (blue) and median (green).")  # fmt: skip
    page.heading("Sampling diagnostics")
    page.diagnostics(diag)
    shift = np.abs(post["mean_minus_mode_in_sd"])
    worst = int(np.argmax(shift))
    exact_zero = int(np.sum(np.asarray(post["map"]) == 0))
    page.heading("What the point estimate hides")
    page.bullets([
        f"<b>Mode is not mean.</b> The largest gap is {names[worst]}: mean - mode = "
        f"{post['mean_minus_mode_in_sd'][worst]:+.2f} posterior sd. The estimator reports the mode only.",
        f"<b>Sparsity is a property of the mode.</b> {exact_zero} of {len(names)} MAP coefficients are exactly "
        f"zero; {int(np.sum(np.asarray(post['median']) == 0))} posterior medians and "
        f"{int(np.sum(np.asarray(post['mean']) == 0))} posterior means are.",
        f"<b>Uncertainty.</b> {int(np.sum((np.asarray(post['hdi_94_low']) < 0) & (np.asarray(post['hdi_94_high']) > 0)))} "
        f"of {len(names)} coefficients have a 94% HDI containing zero.",
    ])  # fmt: skip
    page.blocks.extend(extra_blocks)
    page.heading("Load the posterior yourself")
    page.code(
        'import arviz as az\n\ndt = az.from_netcdf("posterior.nc")\naz.summary(dt, var_names=["w"])'
    )
    page.footer(prov)
    page.write()
