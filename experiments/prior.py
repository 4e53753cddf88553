"""``python -m experiments prior``: a penalty in one library's units, as a prior width and in every
other library's units.

    python -m experiments prior --from ridge --alpha 3.0 --noise-sd 54 [--n 442]

Prints tau (the prior sd of each weight), the belief in words (94% of weights within +-1.88 tau),
and the same belief as each other knob of the same likelihood (:data:`models.knobs.KNOBS`).
Bad input (unknown knob, missing ``--n`` or ``--noise-sd`` where the mapping needs them, a
non-positive value) is one ``error:`` line and exit 2.
"""

from __future__ import annotations

from scipy.stats import norm

from experiments import common
from models.knobs import KNOBS, get_knob

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


def run(argv: list[str]) -> str:
    """The report as text (raises InputError on bad input)."""
    args = parser().parse_args(argv)
    knob = get_knob(args.knob)
    tau = knob.to_prior_sd(args.value, args.n, args.noise_sd)
    units = "target units" if knob.likelihood == "gaussian" else "log-odds"
    half = norm.ppf(0.5 + MASS / 2) * tau
    lines = [
        f"{knob.library} = {args.value:g}",
        f"  objective: {knob.objective}",
        f"  derivation: {knob.derivation}",
        f"prior: w_j ~ Normal(0, tau), tau = {tau:.6g}; lambda = 1 / (2 tau^2) = "
        f"{1 / (2 * tau**2):.6g} on the negative log-likelihood",
        f"belief: {MASS:.0%} of weights within +-{half:.4g} ({units} per unit of feature)",
        "the same belief in other libraries' units:",
    ]
    for other in KNOBS.values():
        if other.name == knob.name or other.likelihood != knob.likelihood:
            continue
        if other.needs_n and args.n is None:
            lines.append(f"  {other.library}: needs --n")
            continue
        lines.append(f"  {other.library} = {other.from_prior_sd(tau, args.n, args.noise_sd):.6g}")
    return "\n".join(lines)
