"""The penalty experiment every registered model gets, and the sections dedicated experiments reuse.

For a model with a scikit-learn twin: Check 1, MAP = scikit-learn on a penalty grid (and = the
closed form where the spec has one); Check 2, the full posterior at the reference penalty, graded
against the exact posterior where the spec has one, with mode, mean and median side by side. A model
without a twin gets the certified MAP and the posterior at its hyper-parameters. Everything is
driven by the :class:`~models.core.base.ModelSpec`; ``python -m experiments NAME`` runs it for any model
in the registry, and a dedicated experiment adds its own sections with :func:`penalty_experiment`.
"""

from __future__ import annotations

import argparse
import warnings

import numpy as np

from experiments import common, intervals, predictive, report, verdicts
from experiments.report import user
from experiments.runner import Card, Experiment, Run, Section, diagnostics_section
from experiments.style import (
    COLORS,
    LINESTYLES,
    coefficient_label,
    coefficient_panels,
    legend_below,
    plt,
    posterior_panel,
    save,
)
from models.core.base import PRIOR_RANGE, InputError, ModelSpec
from models.core.data import build_model, model_data
from models.core.lazy import lazy
from models.inference.engines import MAPSolver, PosteriorSampler, tuning_iterations

az = lazy("arviz")
stats = lazy("scipy.stats")

Z_FLAG = 4  # |posterior mean - exact mean| / MCSE above this is flagged (false alarm ~6e-5 each)
# Most feature columns a page accepts. Each page runs NUTS (Check 2; the ridge page 27 fits) on a
# gradient of O(p^2): with --quick's 2 x 1,500 iterations, 51 s of CPU at p = 200 (ridge, 60 rows),
# and at p = 2,000 not even 2 x 300 iterations in 7 minutes (2026-12-01, busy 2-core machine).
MAX_FEATURES = 500


def settings(quick: bool) -> dict:
    if quick:
        # 2 x 1000 draws: with 2 x 500, r_hat of the sigma-unknown ridge fit exceeded 1.01 at 3 of
        # 5 seeds (1.011-1.013) although ESS was > 1000 (tests/test_seeds.py).
        return {"n_grid": 25, "draws": 1000, "chains": 2}
    return {"n_grid": 31, "draws": 2000, "chains": 4}


def penalty_label(penalty: dict) -> str:
    return ", ".join(f"{k}={v:.4g}" for k, v in penalty.items())


FRACTIONS = ("l1_ratio", "quantile")  # penalties strictly between 0 and 1


def _option(name: str) -> str:
    return "--" + name.replace("_", "-")


def coefficient_labels(spec: ModelSpec, results: dict) -> list[str]:
    """One label per coefficient, in the order of the flattened coefficient array: the feature
    names, or for a model with ``coefficient_dims`` (``("class",)``, weights shaped (class,
    feature)) ``"class_0, alcohol"``, class by class (sentences print ``w[class_0, alcohol]``)."""
    names = results["feature_names"]
    if not spec.coefficient_dims:
        return list(names)
    return [f"{c}, {n}" for c in results["classes"] for n in names]


# Check 2's per-coefficient summaries: flat (in coefficient_labels' order) while computed and
# drawn; in results.json shaped as the coefficients are ((class, feature) for a softmax model).
PER_COEFFICIENT = ("map", "mean", "median", "sd", "prob_positive", "mean_per_feature_sd",
                   "hdi_94_low", "hdi_94_high", "r_hat", "ess_bulk", "mcse_mean",
                   "mean_minus_mode_in_sd", "sklearn", "skewness", "skewness_se")  # fmt: skip


def flat_posterior(post: dict) -> dict:
    """Check 2's results with every per-coefficient array flattened (the order of the labels)."""
    return {k: np.ravel(v) if k in PER_COEFFICIENT else v for k, v in post.items()}


def options(spec: ModelSpec):
    """The model's options: its penalties (``--alpha``, ``--C``, ...), ``--prior-sd``, ``--noise-sd``."""

    def add(parser: argparse.ArgumentParser) -> None:
        # --prior-sd excludes the first penalty (it sets the same prior); the others combine
        group = parser.add_mutually_exclusive_group()
        for k, name in enumerate(spec.link.penalty_names):
            kind = common.open_fraction if name in FRACTIONS else common.positive_number
            (parser if k else group).add_argument(
                _option(name), dest=f"penalty_{name}", type=kind, metavar=name.upper(),
                help=f"reference {name} (default: {_reference_doc(spec)})")  # fmt: skip
        if spec.link.penalty_from_prior or (
            not spec.has_twin and "prior_sd" in spec.hyperparameters
        ):
            group.add_argument("--prior-sd", type=common.positive_number,
                               help="reference prior width tau instead of the penalty" if spec.has_twin
                               else f"prior width tau (default: the model's prior_sd, "
                               f"{spec.hyperparameters.get('prior_sd', 'none')})")  # fmt: skip
        if spec.noise_fixed:
            parser.add_argument("--noise-sd", type=common.positive_number,
                                help="fixed noise sd sigma (default: least-squares residual sd)")  # fmt: skip

    return add


def _reference_doc(spec: ModelSpec) -> str:
    """The reference penalty in words: the first line of its docstring; a callable without one (a
    lambda) is "the model's reference_penalty"; no reference penalty: the option is required."""
    if spec.link.reference_penalty is None:
        return "none; required"
    doc = (spec.link.reference_penalty.__doc__ or "").strip().split("\n")[0].rstrip(".:")
    return doc or "the model's reference_penalty"


def reference_point(
    run: Run, spec: ModelSpec, md, where: str = "--prior-sd"
) -> tuple[dict, dict, str]:
    """``(penalty, prior values, source)`` where the posterior is shown (``where``: the options
    given, for an error about the penalty derived from ``--prior-sd``)."""
    args = run.args
    given = {n: getattr(args, f"penalty_{n}", None) for n in spec.link.penalty_names}
    prior_sd = getattr(args, "prior_sd", None)
    if not spec.has_twin:
        values = dict(spec.hyperparameters)
        if prior_sd is not None:
            values["prior_sd"] = prior_sd
        return {}, values, "--prior-sd" if prior_sd is not None else "the model's hyperparameters"
    if prior_sd is not None and any(v is not None for v in given.values()):
        raise InputError(
            f"--prior-sd replaces {' and '.join(_option(n) for n in given)}: give one or the other"
        )
    if prior_sd is not None:
        penalty = check_penalty(spec.link.penalty_from_prior({"prior_sd": prior_sd}, md), where)
        return penalty, spec.link.prior_values(penalty, md), "--prior-sd"
    if any(v is not None for v in given.values()):
        missing = [n for n, v in given.items() if v is None]
        options_given = ", ".join(_option(n) for n, v in given.items() if v is not None)
        if missing and spec.link.reference_penalty is None:
            raise InputError(f"give {', '.join(_option(n) for n in missing)} too")
        if missing:  # the rest from the reference penalty (e.g. --quantile alone: its alpha)
            given = {**spec.link.reference_penalty(md),
                     **{n: v for n, v in given.items() if v is not None}}  # fmt: skip
            options_given += f"; {', '.join(missing)} from {_reference_doc(spec)}"
        return given, spec.link.prior_values(given, md), options_given
    if spec.link.reference_penalty is None:
        raise InputError(
            f"model '{spec.name}' has no reference_penalty; pass "
            + " and ".join(_option(n) for n in spec.link.penalty_names)
        )
    try:
        penalty = spec.link.reference_penalty(md)
    except ValueError as error:  # scikit-learn's CV cannot split these data (e.g. a rare class)
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise InputError(
            f"{_reference_doc(spec)} failed on these data ({first}); pass "
            + " and ".join(_option(n) for n in spec.link.penalty_names)
        ) from None
    return penalty, spec.link.prior_values(penalty, md), _reference_doc(spec)


# Name endings that make a hyper-parameter of a model without a twin a width (sd or scale).
WIDTH_NAMES = ("sd", "scale", "tau", "sigma", "b", "std", "width")


def is_width(spec: ModelSpec, name: str) -> bool:
    """Whether the prior value ``name`` is a width: every value of a twin's penalty -> prior
    mapping is one (a penalty sets a prior's sd or scale); a hyper-parameter of a model without a
    twin is one when its name, or its last ``_``-separated part, is in :data:`WIDTH_NAMES`
    (``prior_sd``, ``laplace_scale``, ``tau``); any other (``prior_mean``) is a location."""
    return spec.has_twin or name.lower().rpartition("_")[2] in WIDTH_NAMES


def checked_reference_point(run: Run, spec: ModelSpec, md) -> tuple[dict, dict, str]:
    """:func:`reference_point` with every derived number checked in this one place: a mapping
    that overflows or divides by zero (Python floats raise), a penalty derived from ``--prior-sd``
    that underflows to 0 or overflows, and prior values out of range (:func:`check_prior_values`)
    are each one :class:`InputError` naming the options that led there."""
    given = [f"{_option(n)} {getattr(run.args, f'penalty_{n}'):g}"
             for n in spec.link.penalty_names if getattr(run.args, f"penalty_{n}", None) is not None]  # fmt: skip
    for option in ("prior_sd", "noise_sd"):
        if getattr(run.args, option, None) is not None:
            given.append(f"{_option(option)} {getattr(run.args, option):g}")
    where = " with ".join(given) or "the reference penalty"
    try:
        penalty, values, source = reference_point(run, spec, md, where)
    except (OverflowError, ZeroDivisionError) as error:
        what = "overflows" if isinstance(error, OverflowError) else "divides by zero"
        raise InputError(
            f"{where}: computing the penalty or prior width it implies {what}; "
            f"prior widths must lie in [{PRIOR_RANGE[0]:g}, {PRIOR_RANGE[1]:g}]"
        ) from None
    check_prior_values(spec, penalty, values, where)
    return penalty, values, source


def check_penalty(penalty: dict, where: str) -> dict:
    """Refuse a derived penalty that is not a positive finite normal float (underflow to 0 or a
    subnormal, overflow to inf): ``where`` names the options it came from."""
    for name, value in penalty.items():
        if not (np.isfinite(value) and value >= np.finfo(float).tiny):
            raise InputError(
                f"{where} gives {name} = {value:.3g}: out of float range; prior widths must lie "
                f"in [{PRIOR_RANGE[0]:g}, {PRIOR_RANGE[1]:g}]"
            )
    return penalty


def check_prior_values(spec: ModelSpec, penalty: dict, values: dict, where: str = "") -> None:
    """Refuse prior values a sampler cannot represent: a width (:func:`is_width`) outside
    :data:`~models.core.base.PRIOR_RANGE` (its square overflows or underflows), any value that is
    not finite."""
    where = where or (penalty_label(penalty) if penalty else "the given values")
    for name, value in values.items():
        if is_width(spec, name) and not PRIOR_RANGE[0] <= value <= PRIOR_RANGE[1]:
            raise InputError(
                f"{where} gives {name} = {value:.3g}: out of range for a prior width "
                f"[{PRIOR_RANGE[0]:g}, {PRIOR_RANGE[1]:g}]"
            )
        if not np.isfinite(value):
            raise InputError(f"{where} gives {name} = {value:.3g}: a prior value must be finite")


# --- sections -------------------------------------------------------------------------------------


def _setup(spec: ModelSpec):
    def compute(run: Run) -> dict:
        md, model = run.state["md"], run.state["model"]
        exact = spec.closed_form.mode_solver  # a model's own exact solver replaces Newton's
        run.state.update(solver=ExactSolver(spec, md) if exact else MAPSolver(model, spec),
                         sampler=PosteriorSampler(model))  # fmt: skip
        noise_source = (
            "--noise-sd" if getattr(run.args, "noise_sd", None) else "least-squares residual sd"
        )
        return {
            "model": spec.name, "objective": spec.link.objective, "prior": spec.prior,
            "mapping": spec.link.mapping, "noise_sd": md.noise_sd,
            "noise_sd_source": noise_source if md.noise_sd is not None else None,
            "reference_source": run.state["source"],
        }  # fmt: skip

    def page(page: report.Page, results: dict) -> None:
        res = results
        if spec.has_twin:
            page.claim(
                f"scikit-learn's estimate is exactly the mode of a Bayesian posterior. Mapping: {spec.link.mapping}.",
                f"Estimator: minimise {spec.link.objective}\nBayes:     {spec.prior}\nMapping:   {spec.link.mapping}",
            )  # fmt: skip
        else:
            page.claim("The posterior mode (certified) and the whole posterior of the model.",
                       f"Bayes:     {spec.prior}")  # fmt: skip
        page.heading("Data and model")
        names = res["feature_names"]
        page.text(f"Data: `{user(res['data_source'])}`, {res['n_obs']} rows, {len(names)} features "
                  f"({user(', '.join(names))}); target {user(res['target'])}. {user(res['data_note'])}.")  # fmt: skip
        if "classes" in res:
            page.text(f"{len(res['classes'])} classes ({user(', '.join(res['classes']))}): one "
                      f"weight per class and feature, {len(res['classes']) * len(names)} in all.")  # fmt: skip
        if res["noise_sd"] is not None:
            page.text(f"Noise sd sigma fixed at {res['noise_sd']:.4g} ({res['noise_sd_source']}).")
        elif spec.noise == "unknown":
            page.text(f"The {spec.family.dispersion} is unknown: the free variable "
                      f"`{spec.noise_variable}`.")  # fmt: skip

    return Section("compiling the model (once for MAP, once for NUTS)", compute, None, page)


PENALTY_DIRECTION = {  # what moving right on a path plot means, per scikit-learn parameter
    "alpha": "larger = stronger penalty, narrower prior",
    "C": "larger = weaker penalty, wider prior",
}


def sklearn_fit(estimator, X, y) -> tuple[object, bool]:
    """``estimator.fit(X, y)`` and whether its solver converged: its ``ConvergenceWarning`` (it
    stopped at ``max_iter``) is recorded for the page, which shows it, instead of printed on
    stderr; other warnings pass through."""
    from sklearn.exceptions import ConvergenceWarning

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        fitted = estimator.fit(X, y)
    for warning in caught:
        if not issubclass(warning.category, ConvergenceWarning):
            warnings.warn_explicit(warning.message, warning.category, warning.filename,
                                   warning.lineno)  # fmt: skip
    return fitted, not any(issubclass(w.category, ConvergenceWarning) for w in caught)


def _check1(spec: ModelSpec):
    def compute(run: Run) -> dict:
        md, solver = run.state["md"], run.state["solver"]
        grid = (
            spec.link.penalty_grid(md, run.cfg["n_grid"])
            if spec.link.penalty_grid
            else [run.state["penalty"]]
        )
        prior_grid = [spec.link.prior_values(penalty, md) for penalty in grid]
        keys = ("sk", "map", "exact", "sk_b0", "map_b0", "same", "ok", "objective", "unique",
                "sk_converged")  # fmt: skip
        sweep = {k: [] for k in keys}
        exact_solver = spec.closed_form.mode_solver is not None
        for penalty, prior in zip(grid, prior_grid, strict=True):
            sk, sk_converged = sklearn_fit(spec.link.sklearn(penalty, md), md.X, md.y)
            sweep["sk_converged"].append(sk_converged)
            fit = solver.solve(penalty) if exact_solver else solver.solve(prior)
            b0, w = spec.point_coefficients(fit.point)
            sk_w = np.reshape(sk.coef_, np.shape(w))  # binary LogisticRegression's (1, p) -> (p,)
            sk_b0 = np.reshape(sk.intercept_, np.shape(b0))  # scalar or (1,) -> the MAP's shape
            unique = fit.unique if exact_solver else True
            sweep["sk"].append(sk_w)
            sweep["map"].append(w)
            sweep["sk_b0"].append(sk_b0)
            sweep["map_b0"].append(b0)
            sweep["same"].append(not unique or bool(np.array_equal(sk_w == 0, w == 0)))
            sweep["ok"].append(fit.converged)
            sweep["unique"].append(unique)
            if exact_solver:  # the objective always: a non-unique mode has one optimal value
                sweep["objective"].append(
                    abs(fit.objective_at(sk_b0, sk_w) - fit.objective)
                    / max(abs(fit.objective), np.finfo(float).tiny)
                )
            if spec.closed_form.exact_mode:
                sweep["exact"].append(spec.closed_form.exact_mode(penalty, md)[1])
        rel = {
            "map_vs_sklearn": [
                _rel_nonzero(m, s) if unique else None
                for m, s, unique in zip(sweep["map"], sweep["sk"], sweep["unique"], strict=True)
            ]
        }
        if exact_solver:
            rel["objective_vs_sklearn"] = sweep["objective"]
        if spec.coefficient_dims:  # one intercept per class, both sides zero-sum (see the model)
            rel["intercepts_map_vs_sklearn"] = [
                common.rel_linf(m, s) for m, s in zip(sweep["map_b0"], sweep["sk_b0"], strict=True)
            ]
        if spec.closed_form.exact_mode:
            rel["exact_vs_sklearn"] = [
                common.rel_linf(e, s) for e, s in zip(sweep["exact"], sweep["sk"], strict=True)
            ]
            rel["map_vs_exact"] = [
                common.rel_linf(m, e) for m, e in zip(sweep["map"], sweep["exact"], strict=True)
            ]
        if not all(sweep["ok"]):
            bad = [penalty_label(g) for g, ok in zip(grid, sweep["ok"], strict=True) if not ok]
            run.diagnose(
                report.map_diagnostics(
                    "MAP on the grid", False, f"not certified at {'; '.join(bad)}"
                )
            )
        if not all(sweep["sk_converged"]):
            bad = [penalty_label(g) for g, ok in zip(grid, sweep["sk_converged"], strict=True)
                   if not ok]  # fmt: skip
            run.diagnose(report.map_diagnostics(
                "scikit-learn on the grid (Check 1's reference)", False,
                f"its solver stopped at max_iter without converging (ConvergenceWarning) at "
                f"{'; '.join(bad)}"))  # fmt: skip
        results = {
            "penalties": grid, "prior_values": prior_grid, "sklearn_converged": sweep["sk_converged"],
            # The grid under scikit-learn's and the prior's own names ("alphas", "Cs", "prior_sd").
            **{f"{key}s": [p[key] for p in grid] for key in spec.link.penalty_names},
            **{key: [v[key] for v in prior_grid] for key in prior_grid[0]},
            "sklearn_coef": sweep["sk"], "map_coef": sweep["map"],
            "sklearn_intercept": sweep["sk_b0"], "map_intercept": sweep["map_b0"],
            "max_rel_diff": [max(v for v in column if v is not None) for column in zip(*rel.values(), strict=True)],
            "rel_diff": rel, "same_zero_set": sweep["same"], "map_converged": sweep["ok"],
        }  # fmt: skip
        if exact_solver:
            results["mode_unique"] = sweep["unique"]
        if spec.closed_form.exact_mode:
            results["exact_coef"] = sweep["exact"]
        estimator = spec.link.twins[0].name if spec.link.twins else "scikit-learn"
        results["agreement"] = run.verify(verdicts.agreement(
            f"MAP = {estimator} on {len(grid)} penalties (relative L-inf"
            + (", same zero set" if _exact_zeros(spec) else "")
            + (", objective values; coefficients where the mode is unique" if exact_solver else "")
            + ")",
            float(np.max(results["max_rel_diff"])), spec.family.map_bound,
            certified=all(sweep["ok"]) and all(sweep["same"]),
        ))  # fmt: skip
        return results

    def figures(run: Run) -> None:
        """One panel per value of the penalties after the first (elastic net: one per l1_ratio),
        each coefficient against the first penalty on a log scale."""
        res = run.results
        grid_size = len(res["penalties"])
        sk = np.reshape(res["sklearn_coef"], (grid_size, -1))
        mp = np.reshape(res["map_coef"], (grid_size, -1))
        first, rest = spec.link.penalty_names[0], spec.link.penalty_names[1:]
        panels: dict[tuple, list[int]] = {}
        for k, penalty in enumerate(res["penalties"]):
            panels.setdefault(tuple(penalty[name] for name in rest), []).append(k)
        fig, axes = plt.subplots(1, len(panels), figsize=(4 + 4.5 * len(panels), 4.5),
                                 sharey=True, squeeze=False, layout="constrained")  # fmt: skip
        for ax, (fixed, rows) in zip(axes.flat, panels.items(), strict=True):
            x = [res["penalties"][k][first] for k in rows]
            for j in range(sk.shape[1]):
                ax.semilogx(x, sk[rows, j], LINESTYLES["sklearn"], color=COLORS["sklearn"], lw=1,
                            label="sklearn" if j == 0 else None)  # fmt: skip
                ax.semilogx(x, mp[rows, j], "o", ms=2.5, color=COLORS["MAP"],
                            label="PyMC MAP" if j == 0 else None)  # fmt: skip
            reference = run.state.get("penalty") or {}
            if reference and all(
                np.isclose(reference[n], v) for n, v in zip(rest, fixed, strict=True)
            ):
                ax.axvline(reference[first], color=COLORS["posterior"], lw=1, ls=":",
                           label=f"reference {first} (posterior shown)")  # fmt: skip
            ax.set_xlabel(f"{first} (log scale; {PENALTY_DIRECTION.get(first, 'the penalty')})")
            ax.set_title(", ".join(f"{name} = {v:g}" for name, v in zip(rest, fixed, strict=True))
                         or "every coefficient along the grid")  # fmt: skip
        axes.flat[0].set_ylabel(coefficient_label(spec.likelihood))
        legend = {}
        for ax in axes.flat:
            legend.update(zip(*ax.get_legend_handles_labels()[::-1], strict=True))
        axes.flat[0].legend(list(legend.values()), list(legend), fontsize=8)
        fig.suptitle(f"{spec.title}: sklearn (dashed) under the MAP (dots)")
        save(fig, run.out / "path.png")

    def page(page: report.Page, results: dict) -> None:
        res = results
        page.heading("Check 1: the MAP is the estimator")
        if spec.closed_form.mode_solver:
            page.text(f"The posterior mode from the model's own exact solver "
                      f"({user(spec.closed_form.mode_solver.__doc__.strip().splitlines()[0])}), "
                      "certified, against scikit-learn run at tight tolerance. The objective values "
                      "are compared at every penalty (relative difference); the coefficients "
                      "(relative L-inf difference max|a - b| / max|b| on the non-zero ones) and the "
                      "zero sets where the mode is proved unique (a blank cell: not proved).")  # fmt: skip
        else:
            page.text("PyMC posterior mode (Newton on the compiled log density, exact zeros for Laplace "
                      "terms, certified by its Newton decrement) against scikit-learn run at tight "
                      "tolerance. Relative L-inf difference max|a - b| / max|b| on the non-zero coefficients"
                      + (", and against the closed form." if spec.closed_form.exact_mode else "."))  # fmt: skip
        rel = res["rel_diff"]
        unique = res.get("mode_unique")
        header = ["penalty", *(["zeros (sklearn)", "zeros (MAP)", "same zero set"] if _exact_zeros(spec) else []),
                  *(k.replace("_", " ") for k in rel), *(["unique"] if unique else []),
                  "MAP certified"]  # fmt: skip
        rows = []
        for k, penalty in enumerate(res["penalties"]):
            zeros = []
            if _exact_zeros(spec):
                zeros = [int(np.sum(np.asarray(res["sklearn_coef"][k]) == 0)),
                         int(np.sum(np.asarray(res["map_coef"][k]) == 0)),
                         "not compared" if unique and not unique[k]
                         else "yes" if res["same_zero_set"][k] else "NO"]  # fmt: skip
            rows.append([penalty_label(penalty), *zeros,
                         *("" if rel[key][k] is None else rel[key][k] for key in rel),
                         *(["yes" if unique[k] else "not proved"] if unique else []),
                         "yes" if res["map_converged"][k] else "NO"])  # fmt: skip
        flags = [max(res["max_rel_diff"][k], 0) > spec.family.map_bound or not res["map_converged"][k]
                 or not res["same_zero_set"][k] for k in range(len(rows))]  # fmt: skip
        page.table(header, rows, flags)
        if any(flags):
            page.alert(f"**{sum(flags)} of {len(rows)} penalties fail the check** (bound "
                       f"{spec.family.map_bound:g}, certified MAP, same zero set).")  # fmt: skip
        page.text(f"Largest difference: **{max(res['max_rel_diff']):.2e}** (acceptance bound "
                  f"{spec.family.map_bound:g}: {spec.family.bound_reason}); all {len(rows)} MAPs certified: "
                  f"{'yes' if all(res['map_converged']) else 'NO'}"
                  + (f"; zero sets identical at {sum(res['same_zero_set'])} of {len(rows)} penalties."
                     if _exact_zeros(spec) else "."))  # fmt: skip
        panels = (f", one panel per {', '.join(spec.link.penalty_names[1:])}"
                  if len(spec.link.penalty_names) > 1 else "")  # fmt: skip
        mode = (
            "the model's mode by its own exact solver (black dots)"
            if "objective_vs_sklearn" in res["rel_diff"]
            else "the PyMC MAP (black dots)"
        )
        page.figure("path.png", f"Coefficients along the penalty grid{panels}: sklearn (red "
                    f"dashes) and {mode}; the dotted line marks the reference penalty, where the "
                    "posterior is shown.", observe=res["agreement"])  # fmt: skip

    return Section("MAP vs scikit-learn on the penalty grid", compute, figures, page)


def _exact_zeros(spec: ModelSpec) -> bool:
    """Whether the mode's exact zeros are compared: an L1 term MAPSolver solves exactly, or an
    exact mode solver (a linear programme's solution has exact zeros)."""
    return bool(spec.l1_terms) or spec.closed_form.mode_solver is not None


class ExactSolver:
    """A model's own exact mode solver (``ClosedForm.mode_solver``) at given penalties."""

    def __init__(self, spec: ModelSpec, data):
        self.spec, self.data = spec, data

    def solve(self, penalty: dict):
        return self.spec.closed_form.mode_solver(penalty, self.data)


def map_is_sklearn(spec: ModelSpec, post: dict) -> bool:
    """Whether Check 2's table may head its mode column "MAP = sklearn": the model has a twin, this
    MAP is certified, and it is within Check 1's bound of scikit-learn's fit at this penalty (a
    duplicated column under an L1 penalty has many minimisers, and scikit-learn returns another)."""
    return (spec.has_twin and bool(post["map_certified"])
            and common.rel_linf(post["map"], post["sklearn"]) <= spec.family.map_bound)  # fmt: skip


def _rel_nonzero(a, b) -> float:
    nonzero = np.asarray(b) != 0
    return common.rel_linf(np.asarray(a)[nonzero], np.asarray(b)[nonzero]) if nonzero.any() else 0.0


def _check2(spec: ModelSpec):
    def compute(run: Run) -> dict:
        md, penalty, values = run.state["md"], run.state["penalty"], run.state["values"]
        fit = run.state["solver"].solve(penalty if spec.closed_form.mode_solver else values)
        run.diagnose(
            report.map_diagnostics(
                f"MAP at {penalty_label(penalty or values)}", fit.converged, fit.message
            )
        )
        dt = run.state["sampler"].sample(values, draws=run.cfg["draws"], chains=run.cfg["chains"],
                                         tune=tuning_iterations(spec.name), seed=run.seed)  # fmt: skip
        run.posteriors["posterior"] = dt
        run.state.update(dt=dt, map=fit)
        variables = spec.posterior_variables()
        run.diagnose(
            report.sampling_diagnostics(
                f"{spec.name} at {penalty_label(penalty or values)}", dt, variables
            )
        )
        summary = intervals.summary(dt, [spec.coefficients])
        low, high = intervals.columns()
        w = dt["posterior"][spec.coefficients]
        mean, sd = summary["mean"].to_numpy(float), summary["sd"].to_numpy(float)
        _, mode = spec.point_coefficients(fit.point)
        shape, mode = mode.shape, mode.ravel()  # flat until the end (coefficient_labels' order)
        post = {
            **penalty, "penalty": penalty, "prior_values": values, "noise": spec.noise,
            "noise_sd": md.noise_sd, "map": mode, "map_certified": fit.converged,
            "mean": mean, "median": w.median(("chain", "draw")).values.ravel(), "sd": sd,
            "draws": f"{w.sizes['chain']} x {w.sizes['draw']}",
            "prob_positive": (w > 0).mean(("chain", "draw")).values.ravel(),
            # The effect of a one-sd change of the feature (diabetes' unit-norm columns: 1 unit ~ 21 sd).
            "mean_per_feature_sd": (mean.reshape(shape) * md.X.std(axis=0)).ravel(),
            "hdi_94_low": summary[low].to_numpy(float), "hdi_94_high": summary[high].to_numpy(float),
            "r_hat": summary["r_hat"].to_numpy(float), "ess_bulk": summary["ess_bulk"].to_numpy(float),
            "mcse_mean": summary["mcse_mean"].to_numpy(float), "mean_minus_mode_in_sd": (mean - mode) / sd,
        }  # fmt: skip
        if spec.has_twin:
            post["sklearn"] = np.ravel(
                sklearn_fit(spec.link.sklearn(penalty, md), md.X, md.y)[0].coef_
            )
        if spec.closed_form.exact_posterior:
            exact_mean, exact_cov = spec.closed_form.exact_posterior(values, md)
            exact_sd = np.sqrt(np.diag(exact_cov))
            offset = 0 if spec.intercept is None else 1
            post["exact_mean"], post["exact_sd"] = exact_mean[offset:], exact_sd[offset:]
            post["z_vs_exact"] = (mean - post["exact_mean"]) / post["mcse_mean"]
            post["max_abs_z_vs_exact"] = float(np.max(np.abs(post["z_vs_exact"])))
            run.check("NUTS vs exact", verdicts.mcmc_vs_exact(
                post["max_abs_z_vs_exact"], Z_FLAG, f"at {penalty_label(penalty or values)}",
                len(mean)))  # fmt: skip
        names = coefficient_labels(spec, run.results)
        # the exact P(w > 0) where there is one: no Monte Carlo error at the thresholds
        positive, source = ((stats.norm.cdf(post["exact_mean"] / post["exact_sd"]), "exact posterior")
                            if "exact_mean" in post else (post["prob_positive"], "NUTS draws"))  # fmt: skip
        judged = {"mean": mean, "sd": sd, "mcse": post["mcse_mean"]}
        if spec.coefficient_dims:
            # a softmax's likelihood sees only contrasts between classes: each W_kj also carries
            # s_j / K (s_j = sum over the classes), which only the prior decides; the verdicts
            # judge the zero-sum weights the data identify (the mode, like coef_, is zero-sum)
            identified = w - w.mean(spec.coefficient_dims)
            positive = (identified > 0).mean(("chain", "draw")).values.ravel()
            source = (
                "NUTS draws of the zero-sum weights W - mean over classes, which the data identify"
            )
            judged = {"mean": identified.mean(("chain", "draw")).values.ravel(),
                      "sd": identified.std(("chain", "draw")).values.ravel(),
                      "mcse": az.mcse(identified.to_dataset(name="w"))["w"].values.ravel()}  # fmt: skip
        post["signs"] = run.adds(verdicts.signs(names, positive, source))
        post["mode_vs_mean"] = run.adds(verdicts.mode_vs_mean(
            names, judged["mean"], mode, judged["sd"], judged["mcse"], _estimator(spec)))  # fmt: skip
        if {"prior_sd", "laplace_scale"} <= set(values):
            post["effective_prior"] = run.adds(verdicts.effective_prior(
                values["prior_sd"], values["laplace_scale"], float(np.median(np.abs(mean)))
            ))  # fmt: skip
        pooled = intervals.draws(dt, spec.coefficients).values
        post.update(_shapes(names, pooled.reshape(len(pooled), -1), post["ess_bulk"]))
        post = {k: np.reshape(v, shape) if k in PER_COEFFICIENT else v for k, v in post.items()}
        if spec.noise == "unknown":
            post["noise_posterior"] = _noise_posterior(spec, dt, fit.point)
        return {"posterior": post}

    def figures(run: Run) -> None:
        post = flat_posterior(run.results["posterior"])
        names = coefficient_labels(spec, run.results)
        draws = intervals.draws(run.state["dt"], spec.coefficients).values
        draws = draws.reshape(len(draws), -1)
        fig, axes, _ = coefficient_panels(len(names), 2.4)
        for j, ax in enumerate(axes):
            d = draws[:, j]
            posterior_panel(
                ax,
                d,
                post["map"][j],
                post["sklearn"][j] if "sklearn" in post else None,
                names[j],
                bins=60,
            )
            ax.axvline(post["mean"][j], color=COLORS["posterior"], lw=1.5, label="posterior mean")
            ax.axvline(post["median"][j], color=COLORS["OLS"], lw=1, label="posterior median")
            if "exact_mean" in post:
                x = np.linspace(d.min(), d.max(), 200)
                m, s = post["exact_mean"][j], post["exact_sd"][j]
                ax.plot(x, np.exp(-0.5 * ((x - m) / s) ** 2) / (s * np.sqrt(2 * np.pi)),
                        color=COLORS["exact"], label="exact posterior")  # fmt: skip
        fig.supxlabel(coefficient_label(spec.likelihood))
        fig.supylabel("posterior density")
        # under the axis label at a fixed distance in inches (a fixed share of the figure's
        # height leaves a blank band that grows with the number of panel rows)
        legend_below(fig, axes[0], ncol=6, offset=-0.45 / fig.get_figheight())
        fig.suptitle("Posterior of each coefficient: the estimator reports only its mode"
                     if spec.has_twin else "Posterior of each coefficient, with its mode (MAP)")  # fmt: skip
        save(fig, run.out / "posterior_densities.png")

    def page(page: report.Page, results: dict) -> None:
        res, post = results, flat_posterior(results["posterior"])
        where = penalty_label(post["penalty"] or post["prior_values"])
        page.heading(
            f"Check 2: the posterior at {where}" if spec.has_twin else f"The posterior at {where}"
        )
        page.text(f"Reference from {user(res['reference_source'])}. Mode" + (" (the estimator)" if spec.has_twin else " (MAP)") + ", mean and median of "
                  f"each coefficient, the suite's {intervals.PROB:.0%} {intervals.KIND.upper()}, the "
                  "posterior probability that the weight is positive, the mean effect of a one-sd change "
                  "of the feature (coefficients are per unit of the feature), and "
                  "(mean - mode) / sd" + ("; z is the error of the NUTS mean against the exact "
                  f"posterior in Monte Carlo standard errors (|z| > {Z_FLAG} is flagged)." if "exact_mean" in post else "."))  # fmt: skip
        exact = "exact_mean" in post
        same = map_is_sklearn(spec, post)
        apart = spec.has_twin and not same  # both columns, side by side
        header = ["coefficient", "MAP" + (" = sklearn" if same else ""), *(["sklearn"] if apart else []), "mean", "median", "sd",
                  *intervals.labels(), "P(w > 0)", "mean per sd of x", "(mean-mode)/sd", *(["exact mean", "exact sd", "z"] if exact else []),
                  "r_hat", "ESS bulk"]  # fmt: skip
        rows = [[n, post["map"][j], *([post["sklearn"][j]] if apart else []), post["mean"][j], post["median"][j], post["sd"][j], post["hdi_94_low"][j],
                 post["hdi_94_high"][j], post["prob_positive"][j], post["mean_per_feature_sd"][j],
                 post["mean_minus_mode_in_sd"][j],
                 *([post["exact_mean"][j], post["exact_sd"][j], post["z_vs_exact"][j]] if exact else []),
                 post["r_hat"][j], post["ess_bulk"][j]] for j, n in enumerate(coefficient_labels(spec, res))]  # fmt: skip
        flags = [exact and abs(post["z_vs_exact"][j]) > Z_FLAG for j in range(len(rows))]
        page.table(header, rows, flags)
        page.figure("posterior_densities.png", "Each coefficient's posterior (NUTS) with its mode "
                    + ("(the estimator, solid black) and sklearn (red dashes drawn over it: where "
                       "only dashes on black show, the two coincide)" if spec.has_twin else "(MAP, black)")
                    + ", mean (blue), median (purple)" + (" and the exact density (green)." if exact else "."),
                    observe=_shape_observation(post))  # fmt: skip
        if "noise_posterior" in post:
            _noise_table(page, post["noise_posterior"])

    where = "the reference penalty" if spec.has_twin else "the model's hyperparameters"
    return Section(f"NUTS at {where}", compute, figures, page)


def _estimator(spec: ModelSpec) -> str | None:
    """The point estimate that reports the mode, in words (None for a model with no twin)."""
    if not spec.has_twin:
        return None
    return (
        f"scikit-learn's {spec.link.twins[0].name}"
        if spec.link.twins
        else "scikit-learn's estimator"
    )


def _shapes(names: list[str], draws: np.ndarray, ess: np.ndarray) -> dict:
    """Each coefficient's posterior skewness with its Monte Carlo standard error sqrt(6 / ESS)
    (the sd of a sample skewness of ESS independent Gaussian draws), and the shape verdict of the
    coefficient farthest beyond its bound (``shape``) with the count of skewed ones."""
    skewness = stats.skew(draws, axis=0)
    se = np.sqrt(6 / np.asarray(ess, float))
    each = [verdicts.shape(n, g, e) for n, g, e in zip(names, skewness, se, strict=True)]
    worst = max(each, key=lambda v: abs(v["value"]) / v["threshold"])
    return {"skewness": skewness, "skewness_se": se, "shape": worst,
            "n_skewed": sum(v["outcome"] != "gaussian" for v in each)}  # fmt: skip


def _shape_observation(post: dict) -> str:
    """The "Observe:" line of the posterior densities: how many are skewed, and the most, naming
    the draws (skewness and its MCSE come from this page's NUTS run, not from another page's)."""
    draws = f"From this page's NUTS draws ({post['draws']} at {penalty_label(post['penalty'] or post['prior_values'])}): "
    if post["n_skewed"]:
        return (f"{draws}{post['n_skewed']} of {len(post['skewness'])} posteriors are skewed "
                f"beyond their bound; the most: {report.sentence(post['shape'])}.")  # fmt: skip
    return f"{draws}no posterior is skewed beyond its bound; the most skewed: {report.sentence(post['shape'])}."


def _noise_posterior(spec: ModelSpec, dt, point: dict) -> dict:
    """The free noise sd's posterior summary (the suite's interval) and its MAP."""
    name = spec.noise_variable
    summary = intervals.summary(dt, [name])
    low, high = intervals.columns()
    row = summary.iloc[0]
    return {"variable": name, "what": spec.family.dispersion, "map": float(np.asarray(point[name])),
            "mean": float(row["mean"]), "median": float(dt["posterior"][name].median()),
            "sd": float(row["sd"]), "hdi_94_low": float(row[low]), "hdi_94_high": float(row[high]),
            "mcse_mean": float(row["mcse_mean"]), "r_hat": float(row["r_hat"]),
            "ess_bulk": float(row["ess_bulk"])}  # fmt: skip


# How a MAP of a constrained parameter is to be read (MAPSolver's convention).
MAP_CONVENTION = (
    "The MAP is the joint mode of every parameter, in the constrained space, without the "
    "log-Jacobian of the log transform NUTS samples in: a positive parameter's MAP is neither the "
    "mode of its marginal posterior (integrating the coefficients out moves it) nor exp of the "
    "mode of its log."
)


def _noise_table(page: report.Page, noise: dict) -> None:
    page.text(f"The {noise['what']} `{noise['variable']}` (free). {MAP_CONVENTION}")
    page.table(["parameter", "MAP", "mean", "median", "sd", *intervals.labels(), "r_hat", "ESS bulk"],
               [[noise["variable"], noise["map"], noise["mean"], noise["median"], noise["sd"],
                 noise["hdi_94_low"], noise["hdi_94_high"], noise["r_hat"], noise["ess_bulk"]]])  # fmt: skip


def _hides(spec: ModelSpec):
    def page(page: report.Page, results: dict) -> None:
        post, names = flat_posterior(results["posterior"]), coefficient_labels(spec, results)
        items = [report.sentence(post["signs"]), report.sentence(post["mode_vs_mean"])]
        zeros = int(np.sum(np.asarray(post["map"]) == 0))
        if _exact_zeros(spec) and zeros:
            items.append(
                f"**Sparsity is a property of the mode.** {zeros} of {len(names)} MAP coefficients "
                f"are exactly zero; {int(np.sum(np.asarray(post['median']) == 0))} posterior "
                f"medians and {int(np.sum(np.asarray(post['mean']) == 0))} posterior means are."
            )
        elif _exact_zeros(spec):
            items.append(
                f"**No zeros at this penalty.** The L1 term can set coefficients exactly to zero, "
                f"but at {penalty_label(post['penalty'] or post['prior_values'])} none of the {len(names)} MAP "
                "coefficients is zero"
                + (" (Check 1's grid shows where the zeros start)." if spec.has_twin else ".")
            )
        if "effective_prior" in post:
            items.append(report.sentence(post["effective_prior"]))
        page.heading("What the point estimate hides")
        page.bullets(items)

    return Section(page=page)


def _load(spec: ModelSpec):
    def page(page: report.Page, results: dict) -> None:
        page.heading("Load the posterior yourself")
        page.load_snippet("posterior.nc", spec.posterior_variables(),
                          "reproduces the table of Check 2" if spec.has_twin
                          else "reproduces the posterior tables")  # fmt: skip

    return Section(page=page)


def _card(results: dict) -> Card:
    if "max_rel_diff" not in results:
        return Card("posterior_densities.png", "Certified MAP and the full posterior.")
    text = f"MAP = scikit-learn: max rel diff **{max(results['max_rel_diff']):.1e}** over {len(results['max_rel_diff'])} penalties"
    if "same_zero_set" in results and any(
        np.sum(np.asarray(c) == 0) for c in results["sklearn_coef"]
    ):
        text += f"; same zero set {sum(results['same_zero_set'])}/{len(results['same_zero_set'])}"
    return Card("posterior_densities.png", text + ".")


def penalty_experiment(
    spec: ModelSpec,
    *,
    title: str | None = None,
    extra: tuple[Section, ...] = (),
    extra_options=None,
    settings=settings,
    card=None,
    validate=None,
    resolve=None,
) -> Experiment:
    """The penalty experiment of ``spec``, with a dedicated experiment's ``extra`` sections
    (placed after Check 2, before the diagnostics)."""

    add = options(spec)

    def all_options(parser: argparse.ArgumentParser) -> None:
        add(parser)
        if extra_options:
            extra_options(parser)

    def validate_all(run: Run) -> None:
        """Before any output: the model's data (noise estimate), the reference point, its prior
        values, the built model against the contract; then the experiment's own checks."""
        columns = run.data.X.shape[1]
        if columns > MAX_FEATURES:
            raise InputError(
                f"{columns} feature columns: this page samples the posterior by NUTS, which beyond "
                f"{MAX_FEATURES} coefficients takes many minutes per fit; use at most {MAX_FEATURES}"
            )
        if validate:
            validate(run)
        md = model_data(spec, run.data, getattr(run.args, "noise_sd", None))
        penalty, values, source = checked_reference_point(run, spec, md)
        model = build_model(spec, md, values)
        run.state.update(md=md, penalty=penalty, values=values, source=source, model=model)

    checks = (_check1(spec),) if spec.has_twin else ()
    return Experiment(
        name=spec.name,
        title=title or spec.title,
        description=f"{spec.title}: "
        + (
            "MAP vs scikit-learn, and the posterior."
            if spec.has_twin
            else "the certified MAP and the posterior."
        ),  # fmt: skip
        sections=(
            _setup(spec),
            *checks,
            _check2(spec),
            *((predictive.section(spec),) if predictive.applies(spec) else ()),
            *extra,
            _hides(spec),
            diagnostics_section(),
            _load(spec),
        ),  # fmt: skip
        settings=settings,
        options=all_options,
        validate=validate_all,
        spec=spec,
        card=card or _card,
        claim=_claim(spec),
        resolve=resolve,
    )


def _claim(spec: ModelSpec) -> str:
    """What the page claims: the estimator is the posterior's mode (models with a twin), or, for a
    model without one, only what the page shows: its certified mode and its posterior."""
    if spec.has_twin:
        return (f"scikit-learn's {' / '.join(t.name for t in spec.link.twins[:1])} is the mode (MAP) of "
                f"a Bayesian posterior under the model {spec.prior}, with {spec.link.mapping}. The posterior "
                "around that mode is what the point estimate leaves out.")  # fmt: skip
    return (f"The posterior of {spec.title} (model {spec.prior}): its certified mode (MAP) and "
            "the full posterior by NUTS.")  # fmt: skip
