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

from models.core.lazy import lazy

stats = lazy("scipy.stats")

GREEN, AMBER, RED, INFO = "green", "amber", "red", "info"

# P(w > 0) at or beyond this (or at or below 1 - this) settles a coefficient's sign: 0 then lies
# outside the central 94% interval, the suite's mass (odds 32:1) ...
SIGN_SETTLED = 0.97
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


def _by_tail(tail: float, passes: str, borderline: str, fails: str) -> tuple[str, str]:
    """``(outcome, level)`` of a tail probability against :data:`PPC_AMBER` / :data:`PPC_RED`:
    the grading every predictive and calibration check shares."""
    if tail < PPC_RED:
        return fails, RED
    if tail < PPC_AMBER:
        return borderline, AMBER
    return passes, GREEN


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


def signs(names: Sequence[str], prob_positive: Sequence[float], source: str | None = None) -> dict:
    """Every coefficient's sign verdict, counted: how many are settled, likely, uncertain.
    ``source`` names where ``P(w > 0)`` comes from (the exact posterior, or which draws)."""
    each = [sign(n, p) for n, p in zip(names, prob_positive, strict=True)]
    groups = {k: [v for v in each if v["outcome"] == k] for k in ("settled", "likely", "uncertain")}
    outcome = "all settled" if len(groups["settled"]) == len(each) else "mixed"
    if len(groups["uncertain"]) == len(each):
        outcome = "none settled"
    return _verdict("signs", outcome, INFO, len(groups["settled"]), [SIGN_LIKELY, SIGN_SETTLED],
                    n=len(each), settled=groups["settled"], likely=groups["likely"],
                    uncertain=groups["uncertain"], source=source)  # fmt: skip


def ppc_pvalue(
    statistic: str, p_value: float, observed: float, replicated: Sequence[float], draws: int = 0
) -> dict:
    """One posterior predictive p-value ``P(T(y_rep) >= T(y))`` against the two-sided bounds
    :data:`PPC_AMBER` / :data:`PPC_RED` on ``min(p, 1 - p)``; ``observed`` is ``T(y)`` and
    ``replicated`` the (low, high) central 94% of ``T(y_rep)``; ``draws`` (the number of
    replicated data sets) lets the sentence say ``p < 1 / draws`` where none reached ``T(y)``."""
    tail = min(float(p_value), 1 - float(p_value))
    outcome, level = _by_tail(tail, "passes", "borderline", "fails")
    return _verdict("ppc", outcome, level, float(p_value), [PPC_RED, PPC_AMBER],
                    statistic=statistic, observed=float(observed),
                    replicated=[float(r) for r in replicated], draws=int(draws))  # fmt: skip


def predictive_check(checks: Sequence[dict]) -> dict:
    """The predictive check as a whole: its worst statistic decides."""
    order = {GREEN: 0, AMBER: 1, RED: 2}
    worst = max(checks, key=lambda v: (order[v["level"]], -min(v["value"], 1 - v["value"])))
    return _verdict("predictive_check", worst["outcome"], worst["level"], worst["value"],
                    worst["threshold"], worst=worst["statistic"], draws=worst.get("draws", 0),
                    failing=[v["statistic"] for v in checks if v["level"] == RED],
                    borderline=[v["statistic"] for v in checks if v["level"] == AMBER])  # fmt: skip


def prior_conflict(
    subject: str, distance: float, prior_sd: float, likelihood_sd: float | None = None
) -> dict:
    """A prior-data conflict: the likelihood's own estimate sits ``distance`` sds from the prior's
    centre; at least :data:`CONFLICT_PRIOR_SDS` is a conflict. With ``likelihood_sd`` (the
    estimate's standard error) the sd is the prior predictive one of the estimate,
    ``sqrt(prior_sd^2 + likelihood_sd^2)``: an estimate far from 0 only by its own noise is no
    conflict. Without it, prior sds."""
    conflict = bool(abs(distance) >= CONFLICT_PRIOR_SDS)
    return _verdict("prior_conflict", "conflict" if conflict else "compatible",
                    AMBER if conflict else GREEN, float(distance), CONFLICT_PRIOR_SDS,
                    subject=subject, prior_sd=float(prior_sd),
                    likelihood_sd=None if likelihood_sd is None else float(likelihood_sd))  # fmt: skip


def prior_conflicts(
    subjects: Sequence[str],
    distances: Sequence[float],
    prior_sd: float,
    likelihood_sds: Sequence[float] | None = None,
) -> dict:
    """Conflicts over coefficients at one prior width: how many, and the farthest (distances as in
    :func:`prior_conflict`, with each estimate's standard error in ``likelihood_sds`` if given)."""
    sds = [None] * len(subjects) if likelihood_sds is None else list(likelihood_sds)
    each = [prior_conflict(s, d, prior_sd, e)
            for s, d, e in zip(subjects, distances, sds, strict=True)]  # fmt: skip
    worst = max(each, key=lambda v: abs(v["value"]))
    conflicting = [v["subject"] for v in each if v["outcome"] == "conflict"]
    return _verdict("prior_conflicts", "conflict" if conflicting else "compatible",
                    AMBER if conflicting else GREEN, worst["value"], CONFLICT_PRIOR_SDS,
                    subject=worst["subject"], conflicting=conflicting, n=len(each),
                    prior_sd=float(prior_sd), likelihood_sd=worst["likelihood_sd"])  # fmt: skip


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
    """Interval coverage: ``covered`` of ``n`` inside nominal ``prob`` intervals. ``consistent``
    with ``prob`` when the 95% Clopper-Pearson interval of the rate contains it (which cannot show
    calibration, only fail to reject it: the interval's half-width is the smallest miss the check
    can see); else over- or under-covering. The rows are taken as independent trials."""
    alpha = 1 - COVERAGE_CONFIDENCE
    low = float(stats.beta.ppf(alpha / 2, covered, n - covered + 1)) if covered else 0.0
    high = float(stats.beta.ppf(1 - alpha / 2, covered + 1, n - covered)) if covered < n else 1.0
    if low <= prob <= high:
        outcome, level = "consistent", GREEN
    elif high < prob:
        outcome, level = "under-covers", RED
    else:
        outcome, level = "over-covers", AMBER
    return _verdict("coverage", outcome, level, covered / n if n else math.nan, prob, what=what,
                    covered=int(covered), n=int(n), interval=[low, high])  # fmt: skip


def quantile_share(what: str, below: int, n: int, quantile: float) -> dict:
    """A q-quantile line: ``below`` of ``n`` targets under it, against ``quantile``. ``consistent``
    when the 95% Clopper-Pearson interval of the share contains q (rows taken as independent
    trials; the interval's half-width is the smallest miss the check can see); else the line is
    ``too low`` (fewer below than q: a red flag) or ``too high`` (more below)."""
    interval = coverage(what, below, n, quantile)["interval"]
    if interval[0] <= quantile <= interval[1]:
        outcome, level = "consistent", GREEN
    else:
        outcome, level = ("too low" if interval[1] < quantile else "too high"), RED
    return _verdict("quantile_share", outcome, level, below / n if n else math.nan, quantile,
                    what=what, below=int(below), n=int(n), interval=interval)  # fmt: skip


def comparison(
    what: str, first: str, second: str, difference: float, se: float, lower_is_better: bool
) -> dict:
    """``first`` against ``second`` on a score: ``difference = score(first) - score(second)`` with
    its standard error. A winner only when ``|difference| >`` :data:`SE_MULTIPLE` ``se``."""
    # no difference is no winner, whatever its standard error (two methods with the same alpha
    # predict the same: difference 0, se 0, and -0.0 made z = -inf, a "winner")
    z = 0.0 if difference == 0 else float(difference) / float(se) if se > 0 else (
        math.copysign(math.inf, difference))  # fmt: skip
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


def mcmc_vs_exact(
    max_abs_z: float, threshold: float, where: str | None = None, n: int | None = None
) -> dict:
    """NUTS against an exact posterior: the largest ``|mean error| / MCSE`` against ``threshold``.

    ``where`` names the fit(s) (e.g. "at the reference alpha"); with ``n``, the number of means
    compared, ``typical_max`` is the median of the largest of ``n`` independent ``|N(0, 1)|``
    (what a correct sampler's largest ``|z|`` is about): a maximum over many means is larger than
    one ``|z|``."""
    ok = bool(max_abs_z <= threshold)
    typical = None if n is None else float(stats.norm.ppf((1 + 0.5 ** (1 / n)) / 2))
    return _verdict("mcmc_vs_exact", "agrees" if ok else "disagrees", GREEN if ok else RED,
                    float(max_abs_z), float(threshold), where=where,
                    n=None if n is None else int(n), typical_max=typical)  # fmt: skip


def inside(what: str, value: float, low: float, high: float, prob: float) -> dict:
    """Whether ``value`` lies inside the ``prob`` interval ``[low, high]``."""
    ok = bool(low <= value <= high)
    return _verdict("inside", "inside" if ok else "outside", INFO, float(value),
                    [float(low), float(high)], what=what, prob=prob)  # fmt: skip


def advi_windows(what: str, change: float, tolerance: float, steps: int, window: int) -> dict:
    """ADVI's convergence from its window averages (:func:`models.inference.engines.fit_advi`):
    ``converged`` when the parameters averaged over its last two windows of ``window`` steps
    agree, every mean within ``tolerance`` of its sd and every sd within a factor
    ``exp(tolerance)``, else ``not converged`` (red: it ran out of its ``steps``). ``value`` is
    the largest change, ``threshold`` the tolerance."""
    converged = float(change) <= float(tolerance)
    return _verdict("advi_windows", "converged" if converged else "not converged",
                    GREEN if converged else RED, float(change), float(tolerance), what=what,
                    steps=int(steps), window=int(window))  # fmt: skip


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


# Rank plots: a multi-chain uniformity test p-value below this says the chains disagree (ArviZ's
# own plot_rank default, alpha = 1 - envelope_prob = 0.01).
RANK_ALPHA = 0.01
# A score curve is flat when the values indistinguishable from its best span at least this factor.
FLAT_FACTOR = 10.0
# The evidence is sharper than LOO when it falls at least this many times as far across an interval.
OCCAM_RATIO = 2.0
# Integrating over a hyper-parameter "matters" when some interval's width changes by more than this.
PLUG_IN_CHANGE = 0.10
# The data, not the prior, choose a hyper-parameter when its posterior interval is at most this
# share of its prior interval's width (on the scale the intervals are drawn on).
CONTRACTION_MAX = 0.25
# Memory is bounded when it grows at most 10^0.1 = 1.26 times per tenfold rows (log-log slope).
MEMORY_SLOPE_BOUNDED = 0.1
# Memory above the idle cluster's is read to this resolution (MB): a reading below it is no
# measured growth (the slope is taken between the readings raised to it; a reading of exactly the
# idle value made the slope log(x / 0), NaN, and the page said memory grows).
MEMORY_RESOLUTION_MB = 1.0


# ArviZ's multi-chain rank uniformity test needs this many chains: with 2 its p-value is
# degenerate (1 in 7 of 8 agreeing pairs of 1,000 draws, and 1 in 2 of 5 pairs 0.5 sd apart).
RANK_MIN_CHAINS = 3


def rank_uniformity(p_values: dict[str, float], chains: int = RANK_MIN_CHAINS) -> dict:
    """Rank plots' multi-chain uniformity test (ArviZ's ``mchain_uniformity_test``, the p-value
    ``plot_rank`` prints): every variable's p-value at or above :data:`RANK_ALPHA` is uniform.
    With fewer than :data:`RANK_MIN_CHAINS` chains the test says nothing ("untested")."""
    if chains < RANK_MIN_CHAINS:
        return _verdict("rank_uniformity", "untested", INFO, float("nan"), RANK_MIN_CHAINS,
                        subject=None, chains=chains, p_values={})  # fmt: skip
    worst = min(sorted(p_values), key=lambda name: p_values[name])
    ok = bool(p_values[worst] >= RANK_ALPHA)
    return _verdict("rank_uniformity", "uniform" if ok else "non-uniform", GREEN if ok else RED,
                    float(p_values[worst]), RANK_ALPHA, subject=worst,
                    p_values={k: float(p_values[k]) for k in sorted(p_values)})  # fmt: skip


def flat(what: str, low: float, high: float, count: int, n: int) -> dict:
    """A score curve's flatness: the ``count`` of ``n`` grid values within :data:`SE_MULTIPLE`
    standard errors of the best span ``[low, high]``; ``flat`` when ``high / low`` is at least
    :data:`FLAT_FACTOR` (its argmin is then a matter of noise), else ``peaked``."""
    ratio = float(high) / float(low)
    return _verdict("flat", "flat" if ratio >= FLAT_FACTOR else "peaked", INFO, ratio,
                    FLAT_FACTOR, what=what, low=float(low), high=float(high), count=int(count),
                    n=int(n), se_multiple=SE_MULTIPLE)  # fmt: skip


def cv_choice(what: str, best: float, score: float, se: float, low: float, high: float,
              chosen: float, chosen_score: float, baseline: float | None = None) -> dict:  # fmt: skip
    """Where cross-validation's best mean score lies on its grid ``[low, high]`` of alphas:
    ``interior``; at the ``smallest`` alpha (CV cannot tell the penalty from none, and the reference
    is then ``chosen``, the largest alpha whose mean score is within one standard error ``se`` of
    the best: the one-standard-error rule); or at the ``largest`` (CV wants more penalty than the
    grid offers). ``skill`` says whether the best score beats ``baseline``, the score of
    predicting each held-out fold by its mean (D^2 = 0): when it does not, no alpha predicts
    better than no model, and the choice is said to carry no information (amber)."""
    outcome = "smallest" if best <= low else "largest" if best >= high else "interior"
    skill = baseline is None or score > baseline
    level = INFO if outcome == "interior" and skill else AMBER
    return _verdict("cv_choice", outcome, level, float(best), [float(low), float(high)], what=what,
                    score=float(score), se=float(se), chosen=float(chosen),
                    chosen_score=float(chosen_score), skill=skill,
                    baseline=None if baseline is None else float(baseline))  # fmt: skip


def occam(
    evidence_drop: float, loo_drop: float, interval: str, terms: Sequence[dict] | None = None
) -> dict:
    """The log evidence against the LOO elpd across ``interval``: ``sharper`` when the evidence
    falls at least :data:`OCCAM_RATIO` times as far (nats), else ``comparable``. ``terms``: the
    change of the evidence's fit and Occam (log det) terms from its maximum to each end of the
    interval (``{"alpha", "fit", "occam"}``), stated as measured, without a causal reading."""
    ratio = float(evidence_drop) / float(loo_drop) if loo_drop > 0 else math.inf
    return _verdict("occam", "sharper" if ratio >= OCCAM_RATIO else "comparable", INFO, ratio,
                    OCCAM_RATIO, evidence_drop=float(evidence_drop), loo_drop=float(loo_drop),
                    interval=interval, terms=[{k: float(t[k]) for k in ("alpha", "fit", "occam")}
                                              for t in terms or []])  # fmt: skip


def plug_in(subjects: Sequence[str], width_ratios: Sequence[float], what: str) -> dict:
    """Integrating ``what`` out against plugging in one value: the largest ``|width ratio - 1|``
    of the coefficients' intervals; ``little`` at most :data:`PLUG_IN_CHANGE`, else ``matters``."""
    change = [abs(float(r) - 1) for r in width_ratios]
    worst = max(range(len(change)), key=change.__getitem__)
    return _verdict("plug_in", "little" if change[worst] <= PLUG_IN_CHANGE else "matters", INFO,
                    change[worst], PLUG_IN_CHANGE, what=what, subject=subjects[worst],
                    low=float(min(width_ratios)), high=float(max(width_ratios)))  # fmt: skip


def contraction(what: str, posterior_width: float, prior_width: float, unit: str) -> dict:
    """How far the data narrow ``what``: its posterior interval's width over its prior interval's
    (same probability, same scale); ``data`` (green) at most :data:`CONTRACTION_MAX`, else
    ``prior`` (amber: the data have not chosen it)."""
    ratio = float(posterior_width) / float(prior_width)
    data = ratio <= CONTRACTION_MAX
    return _verdict("contraction", "data" if data else "prior", GREEN if data else AMBER, ratio,
                    CONTRACTION_MAX, what=what, posterior_width=float(posterior_width),
                    prior_width=float(prior_width), unit=unit)  # fmt: skip


def memory_scaling(
    rows: Sequence[float], memory: Sequence[float], baseline: float | None = None
) -> dict:
    """Peak memory against rows, above the idle cluster's ``baseline`` memory (MB; ``None``: not
    measured, total memory is used): how many MB it grew between the fewest and the most rows,
    and the log-log slope of the memory above the baseline. ``bounded`` when the slope is at most
    :data:`MEMORY_SLOPE_BOUNDED` (green), else ``grows`` (amber), both readings taken as at
    least :data:`MEMORY_RESOLUTION_MB`; ``unmeasured`` with fewer than two sizes."""
    if len(rows) < 2:
        return _verdict("memory_scaling", "unmeasured", INFO, math.nan, MEMORY_SLOPE_BOUNDED,
                        rows=[float(r) for r in rows], memory=[float(m) for m in memory])  # fmt: skip
    first, last = (
        int(min(range(len(rows)), key=rows.__getitem__)),
        int(max(range(len(rows)), key=rows.__getitem__)),
    )
    base = 0.0 if baseline is None else float(baseline)
    low, high = float(memory[first]) - base, float(memory[last]) - base
    row_growth = rows[last] / rows[first]
    floor, ceiling = max(low, MEMORY_RESOLUTION_MB), max(high, MEMORY_RESOLUTION_MB)
    slope = math.log(ceiling / floor) / math.log(row_growth)
    ok = bool(slope <= MEMORY_SLOPE_BOUNDED)
    return _verdict("memory_scaling", "bounded" if ok else "grows", GREEN if ok else AMBER, slope,
                    MEMORY_SLOPE_BOUNDED, row_growth=float(row_growth),
                    memory_growth=ceiling / floor, memory_low=low, memory_high=high,
                    increase=high - low, resolution=MEMORY_RESOLUTION_MB,
                    baseline=None if baseline is None else base)  # fmt: skip


# A Bayes factor above this (Jeffreys' "strong") for the evidence maximum over the alpha a page
# shows means the model's own evidence rules that alpha out.
EVIDENCE_BF_STRONG = 10.0


# Where the evidence rises when it has no maximum (models.exact.evidence.maximise_evidence's edge)
EVIDENCE_EDGE_LIMIT = {"large": "infinity (every weight 0)", "small": "0 (no shrinkage)"}


def evidence_ratio(
    shown: float, best: float, log_bayes_factor: float, note: str | None = None,
    edge: str | None = None,
) -> dict:  # fmt: skip
    """The alpha a page shows against the evidence maximum: ``log_bayes_factor`` = log evidence at
    ``best`` minus at ``shown`` (>= 0), a ratio of marginal likelihoods (not of probabilities of
    alpha: that needs a prior on alpha). Amber above ``log`` :data:`EVIDENCE_BF_STRONG`. ``note``
    says how the evidence treats other parameters (e.g. "sigma profiled"). ``edge`` ("large" /
    "small", :func:`models.exact.evidence.maximise_evidence`): the evidence has no interior
    maximum and ``best`` is the search's edge, so the sentence says so instead of "maximum"."""
    ruled_out = bool(log_bayes_factor > math.log(EVIDENCE_BF_STRONG))
    return _verdict("evidence_ratio", "disfavoured" if ruled_out else "supported",
                    AMBER if ruled_out else GREEN, float(log_bayes_factor),
                    math.log(EVIDENCE_BF_STRONG), shown=float(shown), best=float(best),
                    bayes_factor=math.exp(min(float(log_bayes_factor), 700.0)), note=note,
                    edge=edge)  # fmt: skip


# A posterior correlation at least this large in absolute value is "strong": the data then
# determine the pair's combination far better than either coefficient alone.
CORRELATION_STRONG = 0.5


def correlation(first: str, second: str, r: float, source: str | None = None) -> dict:
    """The most correlated pair of coefficients: ``strong`` when ``|r| >=``
    :data:`CORRELATION_STRONG`, else ``weak``. ``source`` names where ``r`` comes from (the exact
    posterior, or which draws), since correlations from different draw sets differ."""
    strong = bool(abs(r) >= CORRELATION_STRONG)
    return _verdict("correlation", "strong" if strong else "weak", INFO, float(r),
                    CORRELATION_STRONG, first=first, second=second, source=source)  # fmt: skip


def loo_pit(p_value: float, n: int) -> dict:
    """LOO-PIT calibration: ``p_value`` of the simultaneous ECDF band test of uniformity of the
    ``n`` LOO-PIT values (the ECDF leaves the simultaneous band of probability ``1 - q`` when
    ``p < q``); amber below :data:`PPC_AMBER`, red below :data:`PPC_RED`, the levels of the two
    bands a page draws."""
    p = float(p_value)
    outcome, level = _by_tail(p, "no departure", "borderline", "miscalibrated")
    return _verdict("loo_pit", outcome, level, p, [PPC_RED, PPC_AMBER], n=int(n))


def belief(knob: str, value: float, prior: str, width: float, mass: float, half: float,
           units: str) -> dict:  # fmt: skip
    """What a knob's value says in words: each weight's prior probability ``mass`` of lying within
    ``+-half`` (a per-weight prior statement, not a share of the weights)."""
    return _verdict("belief", "stated", INFO, float(half), float(mass), knob=knob,
                    knob_value=float(value), prior=prior, width=float(width), units=units)  # fmt: skip


# Decoupled weight decay (experiments/knobs.py): an end point farther than this from the MAP, or from
# AdamW's end point at another learning rate (relative to the largest coefficient), is elsewhere.
DECOUPLED_GAP = 1e-2


def decoupled_decay(learning_rates: Sequence[float], coupled: Sequence[float],
                    adamw: Sequence[float], moved: float, bound: float) -> dict:  # fmt: skip
    """The knobs page's trap, measured. ``coupled`` and ``adamw`` are the end points' relative
    distances from the MAP at the mapped tau, one per learning rate; ``moved`` is the largest
    relative difference between AdamW's end points at two learning rates.

    ``not a prior`` when every coupled end point is within ``bound`` of the MAP, every AdamW end
    point farther than :data:`DECOUPLED_GAP`, and AdamW's end point moves by more than it;
    ``fixed`` when AdamW is off the MAP but does not move; ``at the MAP`` when some AdamW end point
    is within the gap (the trap not shown); ``coupled off`` when coupled Adam misses the MAP (the
    comparison shows nothing).
    """
    worst, nearest = max(coupled), min(adamw)
    if worst > bound:
        outcome, level = "coupled off", RED
    elif nearest <= DECOUPLED_GAP:
        outcome, level = "at the MAP", RED
    elif moved <= DECOUPLED_GAP:
        outcome, level = "fixed", AMBER
    else:
        outcome, level = "not a prior", GREEN
    return _verdict("decoupled_decay", outcome, level, float(nearest), DECOUPLED_GAP,
                    learning_rates=[float(r) for r in learning_rates], coupled=float(worst),
                    bound=float(bound), farthest=float(max(adamw)), moved=float(moved))  # fmt: skip


# Logistic regression (experiments/logistic.py, experiments/twin.py). Averaging over the posterior
# moves a probability "materially" when by more than this (a twentieth of the probability scale) ...
PROBABILITY_SHIFT = 0.05
# ... a 94% interval of a probability wider than this is "wide" (a fifth of the scale) ...
WIDE_INTERVAL = 0.2
# ... and a plug-in probability beyond [this, 1 - this] looks confident on its own.
CONFIDENT = 0.05


def probability_shift(n_moved: int, n_flipped: int, n: int, largest: float) -> dict:
    """Posterior mean against plug-in probabilities: ``n_moved`` of ``n`` rows move by more than
    :data:`PROBABILITY_SHIFT`, ``n_flipped`` change class at 0.5; ``negligible`` when neither
    happens, else ``material``."""
    material = bool(n_moved or n_flipped)
    return _verdict("probability_shift", "material" if material else "negligible", INFO,
                    int(n_moved), PROBABILITY_SHIFT, n=int(n), flipped=int(n_flipped),
                    largest=float(largest))  # fmt: skip


def _log_loss(y: float, p: float) -> float:
    """One row's log loss, clipped to machine epsilon as ``sklearn.metrics.log_loss`` clips."""
    eps = 2.220446049250313e-16
    p = min(max(p, eps), 1 - eps)
    return -math.log(p) if y == 1 else -math.log1p(-p)


def interval_width(
    what: str,
    widths: Sequence[float],
    plug_in: Sequence[float],
    prob: float,
    y: Sequence[float] | None = None,
) -> dict:
    """Which probabilities the data leave uncertain: rows whose ``prob`` interval is wider than
    :data:`WIDE_INTERVAL`, and how many of those the plug-in probability hides (it lies outside
    ``[CONFIDENT, 1 - CONFIDENT]``, looking confident). ``none wide``, ``flagged`` (the plug-in
    is itself unconfident on every wide row) or ``hidden`` (some wide row looks confident).

    With the held-out outcomes ``y``: the plug-in's misclassifications (at 0.5) and mean log loss
    on the hidden rows, and its mean log loss on the other rows (what the outcomes say of them)."""
    widths, plug_in = list(map(float, widths)), list(map(float, plug_in))
    wide = [w > WIDE_INTERVAL for w in widths]
    confident = [p < CONFIDENT or p > 1 - CONFIDENT for p in plug_in]
    hidden_rows = [i for i in range(len(widths)) if wide[i] and confident[i]]
    hidden = len(hidden_rows)
    outcome = "none wide" if not any(wide) else "hidden" if hidden else "flagged"
    outcomes = {}
    if y is not None and hidden:
        loss = [_log_loss(float(t), p) for t, p in zip(y, plug_in, strict=True)]
        rest = [loss[i] for i in range(len(loss)) if not (wide[i] and confident[i])]
        outcomes = {
            "hidden_errors": sum((plug_in[i] >= 0.5) != (float(y[i]) == 1) for i in hidden_rows),
            "hidden_log_loss": sum(loss[i] for i in hidden_rows) / hidden,
            "rest_log_loss": sum(rest) / len(rest) if rest else math.nan,
            "n_rest": len(rest),
        }
    return _verdict("interval_width", outcome, INFO, sum(wide), WIDE_INTERVAL, what=what,
                    n=len(widths), hidden=int(hidden), confident=CONFIDENT, prob=float(prob),
                    widest=max(widths) if widths else math.nan, **outcomes)  # fmt: skip


def pava(what: str, n_outside: int, n: int, prob: float, loo: dict | None = None) -> dict:
    """A PAV reliability diagram (``az.plot_ppc_pava`` / ``plot_loo_pava``): ``n_outside`` of the
    ``n`` rows' conditional event probability outside the pointwise ``prob`` consistency band.

    Under calibration each row leaves the band with probability about ``1 - prob``, so the count
    is about Binomial(``n``, ``1 - prob``) and half of calibrated curves leave it at more than
    ``1 - prob`` of rows: a share is no threshold. ``value`` is the upper tail ``P(X >=
    n_outside)``; below :data:`PPC_AMBER` / :data:`PPC_RED` it is amber / red (the levels of the
    other predictive checks). The exits are not independent (the isotonic curve is a step function:
    neighbouring rows leave the band together), so the count varies more than a binomial and the
    tail overstates the evidence against calibration. ``loo``: the :func:`pareto_k` verdict of
    the PSIS-LOO probabilities the curve uses; unless it is green, the check is ``not assessed``
    (info): those probabilities are not trustworthy."""
    tail = float(stats.binom.sf(n_outside - 1, n, 1 - prob)) if n_outside else 1.0
    if loo is not None and loo["level"] != GREEN:
        outcome, level = "not assessed", INFO
    else:
        outcome, level = _by_tail(tail, "calibrated", "borderline", "miscalibrated")
    return _verdict("pava", outcome, level, tail, [PPC_RED, PPC_AMBER], what=what,
                    outside=int(n_outside), n=int(n), prob=float(prob),
                    share=n_outside / n if n else 0.0, expected=1 - float(prob),
                    unreliable=None if loo is None else int(loo["value"]))  # fmt: skip


def calibration_bins(n_excluding: int, n_bins: int, prob: float) -> dict:
    """Binned calibration: ``n_excluding`` of ``n_bins`` bins whose ``prob`` interval of the
    observed frequency excludes the bin's mean prediction. Each bin of calibrated predictions
    excludes it with probability about ``1 - prob``; the tail ``P(X >= n_excluding)`` of
    Binomial(``n_bins``, ``1 - prob``) below :data:`PPC_AMBER` / :data:`PPC_RED` is amber / red."""
    tail = float(stats.binom.sf(n_excluding - 1, n_bins, 1 - prob)) if n_excluding else 1.0
    outcome, level = _by_tail(tail, "calibrated", "borderline", "miscalibrated")
    return _verdict("calibration_bins", outcome, level, tail, [PPC_RED, PPC_AMBER],
                    excluding=int(n_excluding), n=int(n_bins), prob=float(prob))  # fmt: skip


# The prior has stopped mattering once the MAP sits within this fraction of the least-squares
# norm from least squares: a 5% pull is well inside the coefficients' own sampling error.
WASHOUT = 0.05


def prior_washout(
    sizes: Sequence[int], distances: Sequence[float], all_rows: int | None = None
) -> dict:
    """Whether adding rows washes the prior out of the coefficients: ``distances[i] = ||MAP - OLS||
    / ||OLS||`` (median over subsamples) with ``sizes[i]`` rows. ``washed out`` from the first size
    after which every distance is below :data:`WASHOUT`; else ``still matters`` at the largest
    size. ``all_rows``: the data set's size (a subsample of all rows is one fit, not a median)."""
    below = [float(d) < WASHOUT for d in distances]
    first = next((int(n) for i, n in enumerate(sizes) if all(below[i:])), None)
    return _verdict("prior_washout", "washed out" if first is not None else "still matters", INFO,
                    float(distances[-1]), WASHOUT, first=first, largest=int(sizes[-1]),
                    smallest=int(sizes[0]), at_smallest=float(distances[0]),
                    largest_is_all=all_rows is not None and int(sizes[-1]) == int(all_rows))  # fmt: skip


# A prior choice moves the posterior when some coefficient's posterior mean shifts by at least
# this many posterior sds between two priors: a shift the posterior's own width does not absorb.
PRIOR_MOVE_SDS = 1.0


def prior_moves(subject: str, shift: float, first: str, second: str, posterior: str) -> dict:
    """How far the prior choice moves a posterior: the largest shift of a coefficient's
    ``posterior`` mean from the ``first`` prior to the ``second``, in sds of the first posterior
    (``subject`` is that coefficient). ``moves`` (green) at least :data:`PRIOR_MOVE_SDS`, else
    ``hardly moves`` (amber: the choice of prior is then no visible choice here)."""
    moves = bool(abs(shift) >= PRIOR_MOVE_SDS)
    return _verdict("prior_moves", "moves" if moves else "hardly moves", GREEN if moves else AMBER,
                    float(abs(shift)), PRIOR_MOVE_SDS, subject=subject, first=first,
                    second=second, posterior=posterior)  # fmt: skip


def sensitivity_widths(subject: str, widths: Sequence[dict]) -> dict:
    """One model's prior sensitivity over prior widths, from one :func:`sensitivity` verdict per
    width: sensitive at ``every width``, ``some widths`` or ``no width`` (amber when any)."""
    hit = [v for v in widths if v["outcome"] == "sensitive"]
    outcome = "every width" if len(hit) == len(widths) else "some widths" if hit else "no width"
    return _verdict("sensitivity_widths", outcome, AMBER if hit else GREEN, len(hit),
                    widths[0]["threshold"], subject=subject, widths=list(widths))  # fmt: skip


def separation(subject: str, separable: bool) -> dict:
    """Whether a hyperplane puts every row of a binary outcome on its own side (a linear
    programme's feasibility, exact): then the likelihood keeps rising as ``|w|`` grows, no
    maximum-likelihood estimate exists, and only the prior bounds the coefficients."""
    return _verdict("separation", "separable" if separable else "overlapping", INFO,
                    bool(separable), None, subject=subject)  # fmt: skip


def mcmc_vs_reference(max_abs_z: float, threshold: float, reference: str) -> dict:
    """NUTS against a reference posterior that is not exact (e.g. a much longer run): the largest
    ``|mean error| / MCSE`` against ``threshold``, as :func:`mcmc_vs_exact`, naming the reference."""
    agrees = mcmc_vs_exact(max_abs_z, threshold)
    return _verdict("mcmc_vs_reference", agrees["outcome"], agrees["level"], agrees["value"],
                    agrees["threshold"], reference=reference)  # fmt: skip


# A Gaussian process's predictive band "widens" away from the data when its sd there is at least
# this many times its sd at the data.
WIDEN_FACTOR = 2.0
# Chains whose r_hat on a hyper-parameter exceeds this sit in different regions of its posterior.
MODES_R_HAT = 1.05


def band_widening(sd_at_data: float, sd_in_gap: float, sd_beyond: float) -> dict:
    """Whether a GP's predictive sd of f grows away from the data: ``widens`` when both the sd in
    the widest gap between the rows and the sd beyond them are at least :data:`WIDEN_FACTOR`
    times the median sd at the rows, else ``flat``."""
    ratio = min(sd_in_gap, sd_beyond) / sd_at_data
    widens = bool(ratio >= WIDEN_FACTOR)
    return _verdict("band_widening", "widens" if widens else "flat", INFO, float(ratio),
                    WIDEN_FACTOR, at_data=float(sd_at_data), gap=float(sd_in_gap),
                    beyond=float(sd_beyond))  # fmt: skip


def hyperparameter_modes(where: str, worst: str, r_hat: float, r: float) -> dict:
    """What NUTS shows of a GP's hyper-parameter posterior: ``multimodal`` when the chains of the
    variable ``worst`` disagree (r_hat above :data:`MODES_R_HAT`: different modes, or chains
    that did not mix), else ``ridge`` when log amplitude and log length scale have correlation
    ``r`` with ``|r| >=`` :data:`CORRELATION_STRONG` (one combination identified, not each),
    else ``identified``."""
    if r_hat > MODES_R_HAT:
        outcome, level = "multimodal", AMBER
    elif abs(r) >= CORRELATION_STRONG:
        outcome, level = "ridge", INFO
    else:
        outcome, level = "identified", INFO
    return _verdict("hyperparameter_modes", outcome, level, float(r_hat),
                    [MODES_R_HAT, CORRELATION_STRONG], where=where, worst=worst,
                    r=float(r))  # fmt: skip


# Newton from scikit-learn's weights to the certified mode may move them by at most this many times
# the distance its stopping gradient implies (the Newton step ``H^-1 g`` there): scikit-learn's fit
# is then this mode, short of it only by what its solver left undone.
MODE_SLACK = 3.0


def network_mode(
    what: str,
    moved: float,
    implied: float,
    gain_nats: float,
    smallest_curvature: float,
    certified: bool,
) -> dict:
    """Whether scikit-learn's fitted weights are a local mode of the posterior: Newton started
    there reached a certified mode with a positive definite Hessian (``smallest_curvature > 0``),
    moving the weights by ``moved`` (relative), at most :data:`MODE_SLACK` times the ``implied``
    distance ``|H^-1 g|`` of the gradient g left at scikit-learn's fit, and raising the log
    posterior by ``gain_nats``."""
    ok = bool(certified and smallest_curvature > 0 and moved <= MODE_SLACK * implied)
    return _verdict("network_mode", "mode" if ok else "not a mode", GREEN if ok else RED,
                    float(moved), float(MODE_SLACK * implied), what=what, implied=float(implied),
                    slack=MODE_SLACK, gain_nats=float(gain_nats),
                    smallest_curvature=float(smallest_curvature),
                    certified=bool(certified))  # fmt: skip


def distinct_modes(what: str, n_distinct: int, n_fits: int, best: float, worst: float) -> dict:
    """How many distinct modes ``n_fits`` fits from different seeds reached (after removing the
    network's symmetries), with the best and worst log posterior among them."""
    several = n_distinct > 1
    return _verdict("distinct_modes", "several" if several else "one", AMBER if several else INFO,
                    int(n_distinct), 1, what=what, n_fits=int(n_fits), best=float(best),
                    worst=float(worst))  # fmt: skip


RHAT_MAX = 1.01  # the suite's r_hat bound (sampling_diagnostics)


def symmetric_rhat(raw: float, canonical: float, n_modes: int, n_chains: int) -> dict:
    """r_hat of a network's weights as sampled (``raw``, worst over weights) and after removing the
    symmetries (``canonical``), with the number of distinct modes the ``n_chains`` chains sit in:
    raw r_hat above :data:`RHAT_MAX` with chains in copies of one mode or in different modes fails
    by construction; with the symmetries removed and the chains in one mode it says they have not
    mixed."""
    if raw <= RHAT_MAX:
        outcome, level = "mixed", GREEN
    elif canonical <= RHAT_MAX:
        outcome, level = "symmetry only", AMBER
    elif n_modes > 1:
        outcome, level = "different modes", AMBER
    else:
        outcome, level = "not mixed", RED
    return _verdict("symmetric_rhat", outcome, level, float(raw), RHAT_MAX,
                    canonical=float(canonical), n_modes=int(n_modes),
                    n_chains=int(n_chains))  # fmt: skip


WIDENING_RATIO = 1.5  # predictive sd away from the data / within it, at or above: "widens"


def widening(what: str, inside: float, outside: float, measure: str = "sd") -> dict:
    """Whether the posterior spread of ``what`` away from the data (``outside``, a median ``measure``:
    sd or interval width) is at least :data:`WIDENING_RATIO` times its spread among the data
    (``inside``)."""
    ratio = outside / inside
    widens = bool(ratio >= WIDENING_RATIO)
    return _verdict("widening", "widens" if widens else "flat", INFO, float(ratio), WIDENING_RATIO,
                    what=what, inside=float(inside), outside=float(outside),
                    measure=measure)  # fmt: skip
