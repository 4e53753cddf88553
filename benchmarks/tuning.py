"""How many tuning iterations each posterior of the suite needs: the evidence for the policy of
:func:`models.inference.engines.tuning_iterations`.

    python -m benchmarks.tuning       (also run by make bench; writes reports/bench-tuning)

NUTS spends its tuning iterations adapting the step size and the mass matrix; none of them is a
draw. Once the adaptation has settled, more tuning only costs gradients. For every posterior the
suite samples (each registered model with a scikit-learn twin on its default data at its reference
penalty, with sigma fixed and, where the twin samples it so by default, with sigma free; the ridge
page's sigma-unknown model; and the shapes of :mod:`benchmarks.engines` without a twin: the
hierarchical lambda model, the Bayesian Lasso, the horseshoe, R2D2 and the GP), the suite's
sampler runs :data:`CHAINS` chains x :data:`DRAWS` draws after
:data:`~models.inference.engines.TUNE` and after :data:`~models.inference.engines.TUNE_LONG` tuning
iterations, on :data:`SEEDS` seeds each, at the page's target acceptance. Recorded per fit:
gradient evaluations in tuning and in the draws, the smallest bulk and tail ESS and the largest
r_hat over the free variables (every free variable, so stricter than a page, which checks the ones
it reports), divergences and seconds.

The verdict (:func:`verdict`) compares the seed-averaged smallest bulk and tail ESS: the short
tuning is "enough" when both are at least :data:`ENOUGH` times those after the long tuning, and
"too few" when either is below :data:`TOO_FEW`, or when the short tuning diverges more or misses
the r_hat threshold the long one meets; in between, the difference is within the seed-to-seed
spread of ESS ("within noise") and either length agrees with it. The table shows the suite's policy
beside each verdict and flags a disagreement. One process; each model is compiled once.
"""

from __future__ import annotations

import sys
import time

from benchmarks.engines import SAMPLER_OPTIONS
from benchmarks.engines import build as build_shape

SEEDS = 2
DRAWS, CHAINS = 1000, 4
# ESS of 4 x 1000 draws varies ~5-10% between seeds: a ratio of seed means within [0.8, 0.9] is
# not told apart from 1 by two seeds
ENOUGH, TOO_FEW = 0.9, 0.8
EXTRA_SHAPES = ("ridge_unknown_noise", "hierarchical", "bayesian_lasso", "horseshoe", "r2d2", "gp")
# the target acceptance of the pages that sample these (the others: nutpie's default 0.8)
TARGET_ACCEPT = {"quantile": 0.95, "hierarchical": 0.9, "bayesian_lasso": 0.9, "r2d2": 0.95,
                 **{k: v["target_accept"] for k, v in SAMPLER_OPTIONS.items()}}  # fmt: skip


def _registered():
    """The registered models with a twin at their reference penalty, as ``(name, model, pm.Data
    values)``: sigma fixed, and sigma free where the twin's default samples that model."""
    from models import registry
    from models.core.data import reference_setup
    from models.inference.engines import SIGMA_FREE, CompiledModel

    for name, spec in registry().items():
        if spec.has_twin and spec.link.reference_penalty is not None:
            setup = reference_setup(spec)
            yield name, setup.model, setup.values
            if spec.closed_form.build_scaled_noise is not None:
                model = spec.closed_form.build_scaled_noise(setup.data)
                yield name + SIGMA_FREE, model, CompiledModel(model).known(setup.values)


def _ridge_unknown_noise():
    """The ridge page's sigma-unknown model on diabetes at RidgeCV's alpha."""
    from sklearn.linear_model import RidgeCV

    from models import ridge
    from models.core.data import default_dataset, model_data

    data = model_data(ridge.SPEC, default_dataset(ridge.SPEC))
    alpha = RidgeCV(alphas=ridge.ALPHA_GRID).fit(data.X, data.y).alpha_
    return ridge.build_unknown_noise(data), {"alpha": float(alpha)}


def posteriors():
    """Every measured posterior: ``(name, model, pm.Data values)``."""
    yield from _registered()
    for shape in EXTRA_SHAPES:
        if shape == "ridge_unknown_noise":
            yield (shape, *_ridge_unknown_noise())
        else:
            yield shape, build_shape(shape)[0], {}


def fit(sampler, values: dict, tune: int, seed: int, target_accept: float) -> dict:
    """One :data:`CHAINS` x :data:`DRAWS` fit after ``tune`` iterations, with the gradients of
    each phase counted."""
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


def verdict(short: list[dict], long: list[dict]) -> str:
    """ "enough", "within noise" or "too few": the short tuning's draws against the long one's
    (module docstring)."""
    from models.inference.engines import R_HAT_MAX

    def mean(fits, key):
        return sum(f[key] for f in fits) / len(fits)

    ratio = min(mean(short, key) / mean(long, key) for key in ("min_ess_bulk", "min_ess_tail"))
    worse = (sum(f["divergences"] for f in short) > sum(f["divergences"] for f in long)
             or max(f["max_r_hat"] for f in short) > R_HAT_MAX >= max(f["max_r_hat"] for f in long))  # fmt: skip
    if ratio < TOO_FEW or worse:
        return "too few"
    return "enough" if ratio >= ENOUGH else "within noise"


def agrees(verdict_: str, policy: int) -> bool:
    """Whether the suite's tuning ``policy`` for a posterior agrees with its ``verdict_`` on
    :data:`~models.inference.engines.TUNE` iterations (the table's rule,
    :func:`benchmarks.tables.policy_agrees`)."""
    from benchmarks.tables import policy_agrees
    from models.inference.engines import TUNE

    return policy_agrees(verdict_, policy, TUNE)


def run() -> dict:
    """``{"shapes": {name: {"short": [fit per seed], "long": [...], "target_accept",
    "verdict", "policy": the suite's tuning iterations}}}`` plus the settings."""
    from models.inference.engines import TUNE, TUNE_LONG, PosteriorSampler, tuning_iterations

    shapes = {}
    for name, model, values in posteriors():
        sampler = PosteriorSampler(model)
        sampler.sample(values, draws=1, tune=1, chains=1)  # compiles once for both tunings
        accept = TARGET_ACCEPT.get(name, 0.8)
        runs = {length: [fit(sampler, values, tune, seed, accept) for seed in range(SEEDS)]
                for length, tune in (("short", TUNE), ("long", TUNE_LONG))}  # fmt: skip
        found = verdict(runs["short"], runs["long"])
        policy = tuning_iterations(name)
        shapes[name] = {**runs, "target_accept": accept, "verdict": found, "policy": policy}
        note = "" if agrees(found, policy) else f"; the suite's policy ({policy}) disagrees"
        print(f"tuning, {name}: {TUNE} iterations {found}{note}", file=sys.stderr)
    return {"tune": TUNE, "tune_long": TUNE_LONG, "draws": DRAWS, "chains": CHAINS,
            "seeds": SEEDS, "enough": ENOUGH, "too_few": TOO_FEW, "shapes": shapes}  # fmt: skip


def main() -> int:
    from benchmarks import tables, write_results

    results = {"machine": tables.machine(), **run()}
    write_results("bench-tuning", results)
    print(f"tables: {tables.write()}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
