"""Experiment ``ard``: ARDRegression is the suite's own evidence (type-II ML) maximiser.

    python -m experiments ard [--data FILE.csv --target COL]

:func:`models.ard.evidence_maximiser` (MacKay's fixed point, certified by the gradient of the log
evidence) against scikit-learn's ``ARDRegression`` run for 20,000 updates: the kept set, the
coefficients and the noise precision agree to the stated bound. The full-Bayes hierarchy and the
comparison with the other shrinkage priors are on the ``sparse`` page.
"""

from __future__ import annotations

import numpy as np

from experiments import report, verdicts
from experiments.report import user
from experiments.runner import Experiment, Run, Section
from models import ard
from models.core.lazy import lazy

linear_model = lazy("sklearn.linear_model")

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
        }
    }


def page(page: report.Page, results: dict) -> None:
    res = results["ard"]
    page.heading("The evidence maximum: ours against ARDRegression")
    page.verdict(res["agreement"])
    rows = [
        [user(name), a, b, la, lb, "yes" if k else "pruned"]
        for name, a, b, la, lb, k in zip(
            results["feature_names"], res["coef_ours"], res["coef_sklearn"], res["lambda_ours"],
            res["lambda_sklearn"], res["kept"], strict=True,
        )
    ]  # fmt: skip
    page.table(
        ["feature", "coef (ours)", "coef_ (sklearn)", "lambda (ours)", "lambda_ (sklearn)", "kept"],
        rows,
    )


EXPERIMENT = Experiment(
    name="ard",
    title=ard.SPEC.title,
    description="ARDRegression against the suite's own certified evidence maximiser.",
    sections=(Section("maximising the evidence", compute, page=page),),
    settings=lambda quick: {},
    spec=ard.SPEC,
    claim="ARDRegression is type-II maximum likelihood: the suite's own certified maximiser of "
    "the log evidence reproduces its coefficients, precisions and pruned set.",
)
