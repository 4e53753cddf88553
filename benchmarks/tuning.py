"""How many tuning iterations each posterior of the suite needs: the evidence for the policy of
:func:`models.inference.engines.tuning_iterations`.

    python -m benchmarks.tuning       (also run by make bench)

NUTS spends its tuning iterations adapting the step size and the mass matrix; none of them is a
draw. Once the adaptation has settled, more tuning only costs gradients. For every model the suite
samples (each registered model with a scikit-learn twin, on its default data at its reference
penalty, and the shapes of :mod:`benchmarks.engines` that have no twin: the hierarchical lambda
model, the Bayesian Lasso, the horseshoe, the GP, plus the R2D2 prior of the sparse page), the
suite's sampler runs 4 chains x 1000 draws after :data:`~models.inference.engines.TUNE` and after
:data:`~models.inference.engines.TUNE_LONG` tuning iterations, on :data:`SEEDS` seeds each, at the
page's target acceptance. Recorded per fit: gradient evaluations in tuning and in the draws, the
smallest bulk and tail ESS and the largest r_hat over the free variables, divergences and seconds.

The short tuning is enough when its draws are as informative: averaged over the seeds, the
smallest bulk ESS and the smallest tail ESS are each at least :data:`ESS_SLACK` times those after
the long tuning (the fit is then cheaper by construction). The table shows the suite's policy
beside each verdict, and the run says so when the two disagree. One process; the compiled models
are reused between the runs of a shape.
"""

from __future__ import annotations

import sys
import time

from benchmarks.engines import SAMPLER_OPTIONS
from benchmarks.engines import build as build_shape

SEEDS = 2
DRAWS, CHAINS = 1000, 4
ESS_SLACK = 0.85  # the ESS of 4,000 draws varies ~10% between seeds (the table shows the spread)
EXTRA_SHAPES = ("hierarchical", "bayesian_lasso", "horseshoe", "r2d2", "gp")
# target acceptance of the pages that sample these (the others: nutpie's default 0.8)
TARGET_ACCEPT = {"quantile": 0.95, "bayesian_lasso": 0.9, "r2d2": 0.95,
                 **{k: v["target_accept"] for k, v in SAMPLER_OPTIONS.items()}}  # fmt: skip


def _registered():
    """The registered models with a twin, as ``(name, model, prior values)`` at the reference."""
    from models import registry
    from models.core.data import reference_setup

    for name, spec in registry().items():
        if spec.has_twin and spec.link.reference_penalty is not None:
            setup = reference_setup(spec)
            yield name, setup.model, setup.values


def models():
    """Every measured posterior: ``(name, model, pm.Data values)``."""
    yield from _registered()
    for shape in EXTRA_SHAPES:
        yield shape, build_shape(shape)[0], {}


def fit(sampler, values: dict, tune: int, seed: int, target_accept: float) -> dict:
    """One 4 x 1000 fit after ``tune`` iterations, with the gradients of each phase counted."""
    import arviz as az

    started = time.perf_counter()
    dt = sampler.sample(values, draws=DRAWS, tune=tune, chains=CHAINS, seed=seed,
                        target_accept=target_accept, save_warmup=True)  # fmt: skip
    seconds = time.perf_counter() - started
    names = [rv.name for rv in sampler.model.free_RVs]
    posterior = az.from_dict({"posterior": {n: dt["posterior"][n].values for n in names}})
    bulk, tail = az.ess(posterior, method="bulk"), az.ess(posterior, method="tail")
    r_hat = az.rhat(posterior)
    return {
        "tuning_gradients": int(dt["warmup_sample_stats"]["n_steps"].sum()),
        "draw_gradients": int(dt["sample_stats"]["n_steps"].sum()),
        "min_ess_bulk": min(float(bulk[n].min()) for n in names),
        "min_ess_tail": min(float(tail[n].min()) for n in names),
        "max_r_hat": max(float(r_hat[n].max()) for n in names),
        "divergences": int(dt["sample_stats"]["diverging"].sum()),
        "seconds": seconds,
    }


def settled(short: list[dict], long: list[dict]) -> bool:
    """Whether the short tuning's draws are as informative as the long one's: seed-averaged
    smallest bulk and tail ESS each within :data:`ESS_SLACK`."""

    def mean(fits, key):
        return sum(f[key] for f in fits) / len(fits)

    return all(mean(short, key) >= ESS_SLACK * mean(long, key)
               for key in ("min_ess_bulk", "min_ess_tail"))  # fmt: skip


def run() -> dict:
    """``{"shapes": {name: {"short": [fit per seed], "long": [...], "settled": bool,
    "policy": the suite's tuning iterations}}}`` plus the settings."""
    from models.inference.engines import (
        TUNE,
        TUNE_LONG,
        PosteriorSampler,
        set_data,
        tuning_iterations,
    )

    shapes = {}
    for name, model, values in models():
        sampler = PosteriorSampler(model)
        set_data(model, values)
        sampler.sample(values, draws=1, tune=1, chains=1)  # compiles once for both tunings
        accept = TARGET_ACCEPT.get(name, 0.8)
        runs = {length: [fit(sampler, values, tune, seed, accept) for seed in range(SEEDS)]
                for length, tune in (("short", TUNE), ("long", TUNE_LONG))}  # fmt: skip
        enough = settled(runs["short"], runs["long"])
        shapes[name] = {**runs, "target_accept": accept, "settled": enough,
                        "policy": tuning_iterations(name)}  # fmt: skip
        verdict = f"{TUNE} tuning iterations {'enough' if enough else 'too few'}"
        if (shapes[name]["policy"] == TUNE) != enough:
            verdict += f"; the suite's policy ({shapes[name]['policy']}) disagrees"
        print(f"tuning, {name}: {verdict}", file=sys.stderr)
    return {"tune": TUNE, "tune_long": TUNE_LONG, "draws": DRAWS, "chains": CHAINS,
            "seeds": SEEDS, "ess_slack": ESS_SLACK, "shapes": shapes}  # fmt: skip


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=1))
