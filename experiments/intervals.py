"""The suite's one interval convention, defined once: 94% highest-density intervals (ArviZ).

Every posterior interval on every page, every ``hdi_94_low`` / ``hdi_94_high`` in results.json and
every "load the posterior yourself" snippet use :data:`PROB` and :data:`KIND`, so a reader who
reruns a snippet gets the page's numbers (ArviZ 1.x's own default is an 89% ETI).
"""

from __future__ import annotations

from models.core.lazy import lazy

az = lazy("arviz")
stats = lazy("scipy.stats")


PROB = 0.94
KIND = "hdi"
SUMMARY_KWARGS = f'ci_kind="{KIND}", ci_prob={PROB}'


def columns() -> tuple[str, str]:
    """Names of the interval's bounds in ``az.summary``'s table."""
    return f"{KIND}{PROB * 100:.0f}_lb", f"{KIND}{PROB * 100:.0f}_ub"


def labels() -> list[str]:
    """How a page labels the two bounds (they are not quantiles)."""
    return [f"{PROB:.0%} {KIND.upper()} low", f"{PROB:.0%} {KIND.upper()} high"]


def summary(dt, var_names: list[str]):
    """``az.summary`` of ``var_names`` with the suite's interval, unrounded."""
    return az.summary(dt, var_names=var_names, ci_kind=KIND, ci_prob=PROB, round_to="none")


def summary_record(dt, var_names: list[str]) -> dict:
    """:func:`summary` as plain columns for results.json (what a page's summary table shows)."""
    table = summary(dt, var_names)
    low, high = columns()
    record = {"parameter": [str(name) for name in table.index]}
    for key, column in (("mean", "mean"), ("sd", "sd"), ("low", low), ("high", high),
                        ("mcse_mean", "mcse_mean"), ("ess_bulk", "ess_bulk"),
                        ("ess_tail", "ess_tail"), ("r_hat", "r_hat")):  # fmt: skip
        record[key] = table[column].to_numpy(float)
    return record


def gaussian(mean, sd):
    """The suite's interval of ``Normal(mean, sd)`` (arrays allowed), as ``(low, high)``: for a
    Gaussian the HDI is the central interval, ``mean -+ z sd`` with ``z = Phi^-1(1/2 + PROB/2)``."""
    half = stats.norm.ppf(0.5 + PROB / 2) * sd
    return mean - half, mean + half


def interval(dt, var_names: list[str], group: str = "posterior"):
    """The suite's interval of each variable, as labelled arrays (``ci_bound`` lower/upper)."""
    return az.hdi(dt, var_names=var_names, group=group, prob=PROB)


def draws(dt, var_name: str, group: str = "posterior"):
    """A variable's draws with chains pooled: a DataArray with ``sample`` first, other dims kept."""
    return dt[group][var_name].stack(sample=("chain", "draw")).transpose("sample", ...)
