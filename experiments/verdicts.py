"""Claims as computed verdicts: every sentence a page asserts is a function of that run's numbers.

A verdict is plain data (it is stored in results.json): its ``kind``, the ``outcome`` that holds,
a ``level`` for the reader (``green``, ``amber``, ``red``, or ``info`` for a statement that is not
a pass or fail), the ``value`` it was decided on and the ``threshold`` it was compared with, plus
what the sentence names. The sentence itself lives in ``templates/verdicts.txt.j2``, one macro per
kind, and is rendered for the outcome that holds: no page can say what its own numbers contradict,
and ``tests/test_verdicts.py`` flips each kind with data on both sides of its threshold.

Thresholds are module constants so the page can state them and the tests can cross them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from models.lazy import lazy

stats = lazy("scipy.stats")

GREEN, AMBER, RED, INFO = "green", "amber", "red", "info"

# P(w > 0) at or beyond this (or at or below 1 - this) settles a coefficient's sign (odds 19:1) ...
SIGN_SETTLED = 0.95
# ... and at or beyond this it is likely (odds 4:1); below it the data cannot tell the sign.
SIGN_LIKELY = 0.80
# Posterior predictive p-values: two-sided tail min(p, 1 - p) below these is amber / red.
PPC_AMBER, PPC_RED = 0.05, 0.01
# A likelihood estimate this many prior sds from the prior's centre is a prior-data conflict.
CONFLICT_PRIOR_SDS = 3.0
# Pareto k above this: PSIS cannot stand in for leaving that row out (Vehtari et al. 2024).
PARETO_K_MAX = 0.7
# |skewness| below this is "effectively Gaussian" in shape, unless it is Monte Carlo noise anyway.
SKEW_GAUSSIAN = 0.1
# A difference is "a win" when it is more than this many standard errors from zero.
SE_MULTIPLE = 2.0
# Coverage: the 95% Clopper-Pearson interval of the observed rate.
COVERAGE_CONFIDENCE = 0.95


def _verdict(kind: str, outcome: str, level: str, value, threshold, **detail) -> dict:
    return {"kind": kind, "outcome": outcome, "level": level, "value": value,
            "threshold": threshold, **detail}  # fmt: skip


def agreement(what: str, value: float, bound: float, certified: bool = True) -> dict:
    """The page's claim, verified: the largest difference ``value`` against its ``bound``, and
    every optimum ``certified`` (an uncertified MAP verifies nothing)."""
    ok = bool(value <= bound) and bool(certified)
    return _verdict("agreement", "verified" if ok else "failed", GREEN if ok else RED,
                    float(value), float(bound), what=what, certified=bool(certified))  # fmt: skip


def sign(subject: str, prob_positive: float) -> dict:
    """What the posterior says of a coefficient's sign, from ``P(w > 0)`` alone.

    ``settled`` when ``P(w > 0)`` or ``P(w < 0)`` is at least :data:`SIGN_SETTLED`, ``likely``
    when at least :data:`SIGN_LIKELY`, else ``uncertain``. An interval containing zero is not the
    criterion: a 94% interval contains zero whenever ``P(w > 0) > 0.03``.
    """
    p = float(prob_positive)
    direction = "positive" if p >= 0.5 else "negative"
    odds = max(p, 1 - p)
    if odds >= SIGN_SETTLED:
        outcome = "settled"
    elif odds >= SIGN_LIKELY:
        outcome = "likely"
    else:
        outcome = "uncertain"
    return _verdict("sign", outcome, INFO, p, [SIGN_LIKELY, SIGN_SETTLED], subject=subject,
                    direction=direction, prob_direction=odds)  # fmt: skip


def signs(names: Sequence[str], prob_positive: Sequence[float]) -> dict:
    """Every coefficient's sign verdict, counted: how many are settled, likely, uncertain."""
    each = [sign(n, p) for n, p in zip(names, prob_positive, strict=True)]
    groups = {k: [v for v in each if v["outcome"] == k] for k in ("settled", "likely", "uncertain")}
    outcome = "all settled" if len(groups["settled"]) == len(each) else "mixed"
    if len(groups["uncertain"]) == len(each):
        outcome = "none settled"
    return _verdict("signs", outcome, INFO, len(groups["settled"]), [SIGN_LIKELY, SIGN_SETTLED],
                    n=len(each), settled=groups["settled"], likely=groups["likely"],
                    uncertain=groups["uncertain"])  # fmt: skip


def ppc_pvalue(
    statistic: str, p_value: float, observed: float, replicated: Sequence[float]
) -> dict:
    """One posterior predictive p-value ``P(T(y_rep) >= T(y))`` against the two-sided bounds
    :data:`PPC_AMBER` / :data:`PPC_RED` on ``min(p, 1 - p)``; ``observed`` is ``T(y)`` and
    ``replicated`` the (low, high) central 94% of ``T(y_rep)``."""
    tail = min(float(p_value), 1 - float(p_value))
    if tail < PPC_RED:
        outcome, level = "fails", RED
    elif tail < PPC_AMBER:
        outcome, level = "borderline", AMBER
    else:
        outcome, level = "passes", GREEN
    return _verdict("ppc", outcome, level, float(p_value), [PPC_RED, PPC_AMBER],
                    statistic=statistic, observed=float(observed),
                    replicated=[float(r) for r in replicated])  # fmt: skip


def predictive_check(checks: Sequence[dict]) -> dict:
    """The predictive check as a whole: its worst statistic decides."""
    order = {GREEN: 0, AMBER: 1, RED: 2}
    worst = max(checks, key=lambda v: (order[v["level"]], -min(v["value"], 1 - v["value"])))
    return _verdict("predictive_check", worst["outcome"], worst["level"], worst["value"],
                    worst["threshold"], worst=worst["statistic"],
                    failing=[v["statistic"] for v in checks if v["level"] != GREEN])  # fmt: skip


def prior_conflict(subject: str, distance: float, prior_sd: float) -> dict:
    """A prior-data conflict: the likelihood's own estimate sits ``distance`` prior sds from the
    prior's centre; at least :data:`CONFLICT_PRIOR_SDS` is a conflict."""
    conflict = bool(abs(distance) >= CONFLICT_PRIOR_SDS)
    return _verdict("prior_conflict", "conflict" if conflict else "compatible",
                    AMBER if conflict else GREEN, float(distance), CONFLICT_PRIOR_SDS,
                    subject=subject, prior_sd=float(prior_sd))  # fmt: skip


def prior_conflicts(subjects: Sequence[str], distances: Sequence[float], prior_sd: float) -> dict:
    """Conflicts over coefficients at one prior width: how many, and the farthest."""
    each = [prior_conflict(s, d, prior_sd) for s, d in zip(subjects, distances, strict=True)]
    worst = max(each, key=lambda v: abs(v["value"]))
    conflicting = [v["subject"] for v in each if v["outcome"] == "conflict"]
    return _verdict("prior_conflicts", "conflict" if conflicting else "compatible",
                    AMBER if conflicting else GREEN, worst["value"], CONFLICT_PRIOR_SDS,
                    subject=worst["subject"], conflicting=conflicting, n=len(each),
                    prior_sd=float(prior_sd))  # fmt: skip


def diagnostics(rows: Sequence[dict]) -> dict:
    """Sampler and solver diagnostics of every fit: converged or not (red, with the fits named)."""
    failed = [row["fit"] for row in rows if not row["ok"]]
    return _verdict("diagnostics", "failed" if failed else "converged", RED if failed else GREEN,
                    len(failed), 0, n=len(rows), failed=failed)  # fmt: skip


def shape(subject: str, skewness: float, se: float) -> dict:
    """``effectively Gaussian`` when ``|skewness| <`` :data:`SKEW_GAUSSIAN` or within 2 of its
    Monte Carlo standard errors ``se``; else ``skewed`` (right or left)."""
    bound = max(SKEW_GAUSSIAN, SE_MULTIPLE * float(se))
    if abs(skewness) < bound:
        outcome = "gaussian"
    else:
        outcome = "right-skewed" if skewness > 0 else "left-skewed"
    return _verdict("shape", outcome, INFO, float(skewness), bound, subject=subject, se=float(se))


def coverage(what: str, covered: int, n: int, prob: float) -> dict:
    """Interval coverage: ``covered`` of ``n`` inside nominal ``prob`` intervals. Calibrated when
    the 95% Clopper-Pearson interval of the rate contains ``prob``; else over- or under-covering."""
    alpha = 1 - COVERAGE_CONFIDENCE
    low = float(stats.beta.ppf(alpha / 2, covered, n - covered + 1)) if covered else 0.0
    high = float(stats.beta.ppf(1 - alpha / 2, covered + 1, n - covered)) if covered < n else 1.0
    if low <= prob <= high:
        outcome, level = "calibrated", GREEN
    elif high < prob:
        outcome, level = "under-covers", RED
    else:
        outcome, level = "over-covers", AMBER
    return _verdict("coverage", outcome, level, covered / n if n else math.nan, prob, what=what,
                    covered=int(covered), n=int(n), interval=[low, high])  # fmt: skip


def comparison(
    what: str, first: str, second: str, difference: float, se: float, lower_is_better: bool
) -> dict:
    """``first`` against ``second`` on a score: ``difference = score(first) - score(second)`` with
    its standard error. A winner only when ``|difference| >`` :data:`SE_MULTIPLE` ``se``."""
    z = float(difference) / float(se) if se > 0 else math.copysign(math.inf, difference)
    if abs(z) <= SE_MULTIPLE:
        outcome = "indistinguishable"
    else:
        outcome = "first" if (z < 0) == lower_is_better else "second"
    return _verdict("comparison", outcome, INFO, float(difference), SE_MULTIPLE, what=what,
                    first=first, second=second, se=float(se), z=z,
                    winner={"first": first, "second": second}.get(outcome))  # fmt: skip


def pareto_k(n_high: int, n: int) -> dict:
    """PSIS-LOO's reliability: rows with Pareto k above :data:`PARETO_K_MAX` (none: green; up to
    1% of rows: amber; more: red)."""
    share = n_high / n if n else 0.0
    level = GREEN if n_high == 0 else AMBER if share <= 0.01 else RED
    return _verdict("pareto_k", "reliable" if n_high == 0 else "unreliable", level, int(n_high),
                    PARETO_K_MAX, n=int(n))  # fmt: skip


def sensitivity(flagged: int, n: int, threshold: float, where: str) -> dict:
    """Power-scaling prior sensitivity (psense): ``flagged`` of ``n`` coefficients above the
    ``threshold`` on the CJS distance; any flag is amber."""
    return _verdict("sensitivity", "sensitive" if flagged else "insensitive",
                    AMBER if flagged else GREEN, int(flagged), float(threshold), n=int(n),
                    where=where)  # fmt: skip


def mcmc_vs_exact(max_abs_z: float, threshold: float) -> dict:
    """NUTS against an exact posterior: the largest ``|mean error| / MCSE`` against ``threshold``."""
    ok = bool(max_abs_z <= threshold)
    return _verdict("mcmc_vs_exact", "agrees" if ok else "disagrees", GREEN if ok else RED,
                    float(max_abs_z), float(threshold))  # fmt: skip


def inside(what: str, value: float, low: float, high: float, prob: float) -> dict:
    """Whether ``value`` lies inside the ``prob`` interval ``[low, high]``."""
    ok = bool(low <= value <= high)
    return _verdict("inside", "inside" if ok else "outside", INFO, float(value),
                    [float(low), float(high)], what=what, prob=prob)  # fmt: skip


def converged_optimiser(what: str, relative_change: float, tolerance: float) -> dict:
    """An optimiser's convergence: the relative change of its objective over the last stretch of
    iterations against ``tolerance`` (not converged is red: its answer is not the optimum)."""
    ok = bool(relative_change <= tolerance)
    return _verdict("optimiser", "converged" if ok else "not converged", GREEN if ok else RED,
                    float(relative_change), float(tolerance), what=what)  # fmt: skip


# |posterior mean - mode| of at least this many posterior sds (a tenth of the posterior's width)
# is a gap a reader should know of; smaller, or within SE_MULTIPLE Monte Carlo standard errors of
# the mean, the mode stands in for the mean.
MODE_MEAN_SD = 0.1


def mode_vs_mean(
    names: Sequence[str],
    mean: Sequence[float],
    mode: Sequence[float],
    sd: Sequence[float],
    mcse: Sequence[float],
    estimator: str | None = None,
) -> dict:
    """Where the posterior mean sits from the mode (MAP), coefficient by coefficient.

    Coefficient ``j`` is ``apart`` when ``|mean_j - mode_j| / sd_j`` is at least its bound
    ``max(MODE_MEAN_SD, SE_MULTIPLE * mcse_j / sd_j)`` (the floor, raised where the Monte Carlo
    error of the mean is larger). ``value`` is the signed gap in sds of the coefficient farthest
    beyond (or nearest to) its bound, ``threshold`` that coefficient's bound. ``estimator`` names
    the point estimate that reports the mode (None: a model with no twin).
    """
    gaps = [(float(m) - float(o)) / float(s) for m, o, s in zip(mean, mode, sd, strict=True)]
    bounds = [
        max(MODE_MEAN_SD, SE_MULTIPLE * float(e) / float(s)) for e, s in zip(mcse, sd, strict=True)
    ]
    worst = max(range(len(gaps)), key=lambda j: abs(gaps[j]) / bounds[j])
    apart = [str(names[j]) for j in range(len(gaps)) if abs(gaps[j]) >= bounds[j]]
    return _verdict("mode_vs_mean", "apart" if apart else "equal", INFO, gaps[worst],
                    bounds[worst], subject=str(names[worst]), apart=apart, n=len(gaps),
                    floor=MODE_MEAN_SD, se_multiple=SE_MULTIPLE, estimator=estimator)  # fmt: skip


# An elastic-net prior is effectively Gaussian (Laplace) when, at the median |posterior mean|,
# its Normal term w^2 / (2 tau^2) is at least this many times its Laplace term |w| / b (or the
# reverse); in between both terms shape it.
PRIOR_TERM_RATIO = 2.0


def effective_prior(prior_sd: float, laplace_scale: float, typical: float) -> dict:
    """Which term of a Normal(0, tau) x Laplace(0, b) prior dominates at the typical weight.

    Per weight, ``-log prior = w^2 / (2 tau^2) + |w| / b``; the Laplace term is the larger one
    only for ``|w| < 2 tau^2 / b`` (the crossover). ``value`` is the ratio Laplace term / Normal
    term at ``|w| = typical`` (the median |posterior mean|), ``= crossover / typical``:
    ``gaussian`` at or below ``1 /`` :data:`PRIOR_TERM_RATIO`, ``laplace`` at or above it, else
    ``mixed``.
    """
    crossover = 2 * float(prior_sd) ** 2 / float(laplace_scale)
    ratio = crossover / float(typical) if typical > 0 else math.inf
    if ratio <= 1 / PRIOR_TERM_RATIO:
        outcome = "gaussian"
    elif ratio >= PRIOR_TERM_RATIO:
        outcome = "laplace"
    else:
        outcome = "mixed"
    return _verdict("effective_prior", outcome, INFO, ratio, PRIOR_TERM_RATIO,
                    crossover=crossover, typical=float(typical), prior_sd=float(prior_sd),
                    laplace_scale=float(laplace_scale))  # fmt: skip
