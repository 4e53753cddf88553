"""Experiment ``ard``: ARDRegression is the suite's own evidence (type-II ML) maximiser.

    python -m experiments ard [--data FILE.csv --target COL]

:func:`models.ard.evidence_maximiser` (MacKay's fixed point, certified by the gradient of the log
evidence) against scikit-learn's ``ARDRegression`` run for 20,000 updates: the kept set, the
coefficients and the noise precision agree to the stated bound. The full-Bayes hierarchy and the
comparison with the other shrinkage priors are on the ``sparse`` page.
"""

from __future__ import annotations

import numpy as np

from experiments import intervals, report, verdicts
from experiments.report import user
from experiments.runner import Experiment, Run, Section
from experiments.style import COLORS, name_ticks, plt, save
from models import ard
from models.core.lazy import lazy

linear_model = lazy("sklearn.linear_model")
stats = lazy("scipy.stats")

COEF_BOUND = 1e-7  # relative L-inf, coefficients and alpha (the certificate is 1e-8 in log theta)
SKLEARN_UPDATES = 20_000


def compute(run: Run) -> dict:
    X, y = run.data.X, run.data.y
    ours = ard.evidence_maximiser(X, y)
    theirs = linear_model.ARDRegression(tol=0.0, max_iter=SKLEARN_UPDATES).fit(X, y)
    kept_theirs = theirs.lambda_ < ard.THRESHOLD_LAMBDA
    same_kept = bool(np.array_equal(ours.kept, kept_theirs))
    scale = float(np.max(np.abs(theirs.coef_), initial=0.0)) or 1.0
    coef_diff = float(np.max(np.abs(ours.coef - theirs.coef_), initial=0.0)) / scale
    alpha_diff = abs(ours.alpha / theirs.alpha_ - 1)
    agreement = run.verify(
        verdicts.agreement(
            f"our evidence maximiser = ARDRegression's coef_ and alpha_ ({ours.message}; "
            "relative L-inf, same pruned set)",
            max(coef_diff, alpha_diff),
            COEF_BOUND,
            certified=ours.converged and same_kept,
        )
    )
    return {
        "ard": {
            "agreement": agreement,
            "coef_ours": ours.coef.tolist(),
            "coef_sklearn": theirs.coef_.tolist(),
            "lambda_ours": ours.lambda_.tolist(),
            "lambda_sklearn": theirs.lambda_.tolist(),
            "kept": ours.kept.tolist(),
            "alpha_ours": ours.alpha,
            "alpha_sklearn": float(theirs.alpha_),
            "gradient": ours.gradient,
        },
        "posterior": posterior_at_precisions(ours, X, y),
    }


def posterior_at_precisions(found, X, y) -> dict:
    """The exact posterior of the coefficients at ARD's fitted precisions and noise (sigma fixed at
    ``1 / sqrt(alpha)``, ARD's own): a Normal whose mode is ``coef_``; a pruned coefficient's
    precision is :data:`models.ard.PRUNED_PRECISION`, a point mass at 0."""
    penalty = {"alpha": found.alpha,
               "lambda": np.where(found.kept, found.lambda_, ard.PRUNED_PRECISION)}  # fmt: skip
    post = ard.conjugate(penalty, X, y, noise_sd=1 / np.sqrt(found.alpha))
    sd = np.sqrt(post.s2 * np.diag(post.w_unscaled_cov))
    half = stats.norm.ppf(0.5 + intervals.PROB / 2) * sd
    mean = post.mean[1:]
    return {"mean": mean.tolist(), "sd": sd.tolist(), "low": (mean - half).tolist(),
            "high": (mean + half).tolist()}  # fmt: skip


def figures(run: Run) -> None:
    res, names = run.results["posterior"], run.results["feature_names"]
    kept = np.asarray(run.results["ard"]["kept"])
    order = np.arange(len(names))[::-1]
    fig, ax = plt.subplots(figsize=(7, 0.32 * len(names) + 1.2), layout="constrained")
    mean, low, high = (np.asarray(res[k])[order] for k in ("mean", "low", "high"))
    rows = np.arange(len(names))
    ax.hlines(rows, low, high, color=COLORS["posterior"], lw=2.5,
              label=f"{intervals.PROB:.0%} interval (exact, at ARD's precisions)")  # fmt: skip
    ax.plot(mean, rows, "o", color=COLORS["MAP"], ms=4, label="ARD coef_ (the mode)")
    pruned = ~kept[order]
    ax.plot(mean[pruned], rows[pruned], "x", color=COLORS["sklearn"], ms=7,
            label="pruned (precision -> infinity)")  # fmt: skip
    ax.axvline(0, color="0.5", lw=0.8)
    name_ticks(ax, "y", rows, [names[i] for i in order])
    ax.set_xlabel("coefficient (per unit of the standardised feature)")
    ax.legend(fontsize=8, loc="lower right")
    save(fig, run.out / "posterior.png")


def page(page: report.Page, results: dict) -> None:
    res = results["ard"]
    page.heading("The evidence maximum: ours against ARDRegression")
    page.verdict(res["agreement"])
    rows = [
        [name, a, b, la, lb, "yes" if k else "pruned"]
        for name, a, b, la, lb, k in zip(
            results["feature_names"], res["coef_ours"], res["coef_sklearn"], res["lambda_ours"],
            res["lambda_sklearn"], res["kept"], strict=True,
        )
    ]  # fmt: skip
    page.table(
        ["feature", "coef (ours)", "coef_ (sklearn)", "lambda (ours)", "lambda_ (sklearn)", "kept"],
        rows,
    )
    kept = np.asarray(res["kept"])
    if kept.any():
        gaps = np.abs(np.log(np.asarray(res["lambda_ours"])[kept])
                      - np.log(np.asarray(res["lambda_sklearn"])[kept]))  # fmt: skip
        worst = int(np.flatnonzero(kept)[np.argmax(gaps)])
        page.text(f"The kept coefficients' precisions are not part of the check above: they differ "
                  f"by up to {np.expm1(gaps.max()):.2g} relative ({user(results['feature_names'][worst])}). "
                  "Ours is the maximiser certified by the evidence's gradient in log lambda; "
                  "ARDRegression stops on the change of coef_, which a precision the evidence "
                  "barely identifies (a coefficient near 0 whatever its precision) hardly moves.")  # fmt: skip
    post = results["posterior"]
    sd = np.asarray(post["sd"])
    widest = int(np.argmax(np.where(kept, sd, -np.inf))) if kept.any() else None
    page.heading("What the point estimate hides")
    observe = f"{int((~kept).sum())} of {len(kept)} coefficients are pruned"
    observe += (": at their infinite precision the posterior is a point mass at 0, a certainty the "
                "data did not give." if (~kept).any() else ".")  # fmt: skip
    if widest is not None:
        observe += (f" Of the {int(kept.sum())} kept, {user(results['feature_names'][widest])} is "
                    f"the least determined: {intervals.PROB:.0%} interval "
                    f"[{post['low'][widest]:.3g}, {post['high'][widest]:.3g}] around "
                    f"coef_ {post['mean'][widest]:.3g}.")  # fmt: skip
    page.figure("posterior.png", "Each coefficient's exact posterior at ARD's fitted precisions "
                "and noise (a Normal; its mode is coef_): the estimator reports the dots only.",
                observe=observe)  # fmt: skip
    page.text("These intervals take the precisions as known. Their own uncertainty (the "
              "evidence is nearly flat in large precisions) is integrated out by the full-Bayes "
              "shrinkage priors of the [sparse page](page:sparse).")  # fmt: skip


EXPERIMENT = Experiment(
    name="ard",
    title=ard.SPEC.title,
    description="ARDRegression against the suite's own certified evidence maximiser.",
    sections=(Section("maximising the evidence", compute, figures, page),),
    settings=lambda quick: {},
    spec=ard.SPEC,
    claim="ARDRegression is type-II maximum likelihood: the suite's own certified maximiser of "
    "the log evidence reproduces its coefficients, noise precision and pruned set.",
)
