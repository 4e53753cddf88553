"""``python -m experiments prior``: a penalty in one library's units, as a prior width and in every
other library's units.

    python -m experiments prior --from ridge --alpha 3.0 --noise-sd 54 [--n 442]

Prints tau (the prior sd of each weight), the belief in words (each weight has prior probability
0.94 of lying within +-1.88 tau),
and the same belief as each other knob of the same likelihood (:data:`models.twin.knobs.KNOBS`).
Bad input (unknown knob, missing ``--n`` or ``--noise-sd`` where the mapping needs them, a
non-positive value) is one ``error:`` line and exit 2.
"""

from __future__ import annotations

import numpy as np

from experiments import common
from models.core.base import PRIOR_RANGE, InputError
from models.core.lazy import lazy
from models.twin.knobs import KNOBS, get_knob

stats = lazy("scipy.stats")

MASS = 0.94


def parser():
    p = common.Parser(prog="python -m experiments prior", description=__doc__.split("\n")[0])
    p.add_argument("--from", dest="knob", required=True, help=f"one of: {', '.join(KNOBS)}")
    value = p.add_mutually_exclusive_group(required=True)
    for flag in ("--value", "--alpha", "--C", "--lam", "--l", "--wd", "--lambda"):
        value.add_argument(flag, dest="value", type=common.positive_number,
                           help="the knob's value (any of these spellings)")  # fmt: skip
    p.add_argument("--noise-sd", type=common.positive_number, help="sigma (Gaussian likelihoods)")
    p.add_argument("--n", type=int, help="rows in the loss (libraries with a mean loss)")
    return p


def belief(knob, width: float) -> str:
    """The prior in words: the interval each weight lies in with prior probability :data:`MASS`
    (a statement about every single weight, not about the share of weights inside it)."""
    units = {
        "gaussian": "target units",
        "bernoulli": "log-odds",
        "asymmetric_laplace": "target units",
        "categorical": "log-odds",
        "poisson": "log of the mean count",
        "gamma": "log of the mean",
        "tweedie": "the linear predictor's units: log of the mean, or target units at power 0",
    }.get(  # fmt: skip
        knob.likelihood, "the linear predictor's units"
    )
    if knob.penalty == "l1":  # Laplace: P(|w| < x) = 1 - exp(-x / b)
        prior, half = f"w_j ~ Laplace(0, b), b = {width:.6g}", -width * np.log(1 - MASS)
    else:
        prior, half = (
            f"w_j ~ Normal(0, tau), tau = {width:.6g}",
            stats.norm.ppf(0.5 + MASS / 2) * width,
        )
    return (
        f"prior: {prior}\nbelief: each weight has prior probability {MASS:g} of lying within "
        f"+-{half:.4g} ({units} per unit of feature)"
    )


def run(argv: list[str]) -> str:
    """The report as text (raises InputError on bad input)."""
    args = parser().parse_args(argv)
    knob = get_knob(args.knob)
    width = _checked(knob.to_width, args.value, args.n, args.noise_sd)
    if not PRIOR_RANGE[0] <= width <= PRIOR_RANGE[1]:
        given = f"--from {args.knob} {args.value:g}" + "".join(
            f" {flag} {value:g}" for flag, value in (("--noise-sd", args.noise_sd), ("--n", args.n))
            if value is not None
        )  # fmt: skip
        raise InputError(
            f"{given} gives {knob.width_name} = {width:.3g}: out of range for a prior width "
            f"[{PRIOR_RANGE[0]:g}, {PRIOR_RANGE[1]:g}]"
        )
    lines = [
        f"{knob.library} = {args.value:g}",
        f"  objective: {knob.objective}",
        f"  derivation: {knob.derivation}",
        belief(knob, width),
        "the same belief in other libraries' units:",
    ]
    for other in KNOBS.values():
        same_likelihood = "any" in (knob.likelihood, other.likelihood) or (
            other.likelihood == knob.likelihood
        )
        if other.name == knob.name or other.penalty != knob.penalty or not same_likelihood:
            continue
        missing = [
            flag
            for flag, absent in (
                ("--n", other.needs_n and args.n is None),
                ("--noise-sd", other.likelihood == "gaussian" and args.noise_sd is None),
            )
            if absent
        ]
        if missing:
            lines.append(f"  {other.library}: needs {' and '.join(missing)}")
            continue
        value = _checked(other.from_width, width, args.n, args.noise_sd)
        shown = f"{value:.6g}" if np.isfinite(value) and value > 0 else "out of float range"
        lines.append(f"  {other.library} = {shown}")
    return "\n".join(lines)


def _checked(mapping, *args) -> float:
    """``mapping(*args)``, a knob conversion in Python floats, with overflow as ``inf`` and a division
    by zero (a width or weight that underflowed to 0) as ``inf`` too: the caller checks the range,
    in one place, and says so in one line."""
    try:
        return float(mapping(*args))
    except (OverflowError, ZeroDivisionError):
        return float("inf")
