"""How good is the Laplace posterior of logistic regression? Laplace against NUTS at growing n.

    python -m benchmarks.laplace [N ...]      (default 1e3 1e4 1e5)

For each n: seeded data of the ``scale`` experiment's shape (20 correlated features, a known w,
y ~ Bernoulli), the distributed Newton MAP and its Laplace posterior ``Normal(MAP, H^-1)``
(:mod:`models.scale.newton`, Dask's synchronous scheduler on the rows in memory), and NUTS
(nutpie) on the row-by-row PyMC model (:mod:`models.logistic`) with the same prior. Compared in
NUTS posterior sds: the largest mean difference, the largest relative sd difference, and the
2-Wasserstein distance between the two Gaussians (NUTS summarised by its mean and covariance)
after whitening by the NUTS covariance. NUTS's own Monte Carlo error (MCSE of the means, in sds)
is the floor below which no difference can be seen. Prints JSON lines; the ``scale`` experiment
runs the quick version (:func:`study`).
"""

from __future__ import annotations

import json
import sys
import time

import numpy as np

P = 20
C = 1.0  # LogisticRegression(C=1): prior sd 1 on every coefficient
# NUTS on the row-by-row model costs ~n p per gradient: measured here (2 chains x 2,000 draws, busy
# 2-core machine) 38 s at 10^3 rows and 146 s at 10^4; beyond 10^5 the study reweights instead.
NUTS_ROWS = 10**5


def synthetic(rows: int, seed: int, p: int = P) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Correlated features (a band mixing of Normal noise), a sparse known w, binary y."""
    rng = np.random.default_rng([seed, rows])
    mixing = np.eye(p) + 0.6 * np.eye(p, k=1) + 0.3 * np.eye(p, k=2)
    w = np.random.default_rng([seed, 0]).normal(0, 0.5, p)
    X = rng.standard_normal((rows, p)) @ mixing
    y = (rng.random(rows) < 1 / (1 + np.exp(-(0.5 + X @ w)))).astype(float)
    return X, y, w


def discrepancy(mean: np.ndarray, cov: np.ndarray, reference_mean, reference_cov) -> dict:
    """A Gaussian against a reference one, in the reference's posterior sds.

    Returns the largest ``|mean - ref| / ref sd``, the largest ``|sd / ref sd - 1|`` and the
    2-Wasserstein distance after whitening by the reference covariance (``L^-1``, ``L`` its
    Cholesky factor): ``W2^2 = |L^-1 dm|^2 + tr(A + I - 2 A^(1/2))``, ``A = L^-1 cov L^-T``.
    """
    from scipy.linalg import solve_triangular, sqrtm

    sd, reference_sd = np.sqrt(np.diag(cov)), np.sqrt(np.diag(reference_cov))
    lower = np.linalg.cholesky(reference_cov)
    shift = solve_triangular(lower, mean - reference_mean, lower=True)
    half = solve_triangular(lower, cov, lower=True)
    whitened = solve_triangular(lower, half.T, lower=True)
    root = np.real(sqrtm(0.5 * (whitened + whitened.T)))
    w2 = float(shift @ shift + np.trace(whitened) + len(mean) - 2 * np.trace(root))
    return {
        "mean_error_sd": float(np.max(np.abs(mean - reference_mean) / reference_sd)),
        "sd_error": float(np.max(np.abs(sd / reference_sd - 1))),
        "wasserstein_sd": float(np.sqrt(max(w2, 0.0))),
    }


def compare(rows: int, seed: int = 0, draws: int = 2000, nuts: bool = True) -> dict:
    """Laplace against the exact posterior at ``rows`` rows (timed).

    Always: PSIS of the Laplace draws (:func:`models.scale.newton.importance_check`, one more
    pass): Pareto k, ESS, and the Laplace mean's and sds' errors as the reweighting estimates them.
    With ``nuts``: :func:`discrepancy` against NUTS, with NUTS's MCSE floor and the 2-Wasserstein
    floor of a Gaussian fitted to as many exact draws of the Laplace Gaussian.
    """
    import dask
    import dask.array as da

    from models import logistic
    from models.scale.newton import Partitions, importance_check, newton_map

    X, y, _ = synthetic(rows, seed)
    chunk = max(rows // 4, 1)
    prior_sd = logistic.C_to_prior_sd(C)
    started = time.perf_counter()
    with dask.config.set(scheduler="synchronous"):
        data = Partitions(da.from_array(X, chunks=(chunk, P)), da.from_array(y, chunks=chunk))
        mode = newton_map(data, "bernoulli", prior_sd).certify()
        out = {
            "rows": rows,
            "passes": mode.passes,
            "laplace_seconds": time.perf_counter() - started,
        }
        started = time.perf_counter()
        check = importance_check(data, "bernoulli", prior_sd, mode, draws=4 * draws, seed=seed)
    out.update(psis_seconds=time.perf_counter() - started, pareto_k=check.pareto_k,
               psis_ess=check.ess, psis_draws=check.draws,
               psis_mean_error_sd=float(np.max(np.abs(check.mean_shift_sd))),
               psis_sd_error=float(np.max(np.abs(check.sd_ratio - 1))))  # fmt: skip
    if nuts:
        out.update(_against_nuts(X, y, mode, seed, draws))
    return out


def _against_nuts(X, y, mode, seed: int, draws: int, chains: int = 2) -> dict:
    import arviz as az

    from models import logistic
    from models.core.base import ModelData
    from models.inference.engines import PosteriorSampler

    mean, cov = mode.laplace()
    model = logistic.build(ModelData(X, y, tuple(f"x{j}" for j in range(P))))
    started = time.perf_counter()
    trace = PosteriorSampler(model).sample({"prior_sd": logistic.C_to_prior_sd(C)}, draws=draws,
                                           tune=1000, chains=chains, seed=seed)  # fmt: skip
    seconds = time.perf_counter() - started
    posterior = trace["posterior"].dataset.stack(sample=("chain", "draw"))
    samples = np.column_stack([posterior["intercept"].values, posterior["w"].values.T])
    nuts_mean, nuts_cov = samples.mean(axis=0), np.cov(samples, rowvar=False)
    mcse = az.mcse(trace, var_names=["intercept", "w"])
    floor = np.concatenate([[float(mcse["intercept"])], mcse["w"].values]) / np.sqrt(
        np.diag(nuts_cov)
    )
    exact = np.random.default_rng(seed).multivariate_normal(mean, cov, len(samples))
    w2_floor = discrepancy(exact.mean(axis=0), np.cov(exact, rowvar=False), mean, cov)
    return {
        **discrepancy(mean, cov, nuts_mean, nuts_cov),
        "mcse_floor_sd": float(np.max(floor)),
        "wasserstein_floor_sd": w2_floor["wasserstein_sd"],
        "nuts_draws": len(samples),
        "nuts_seconds": seconds,
    }


def study(rows: tuple[int, ...], nuts_rows: int, seed: int = 0, draws: int = 2000) -> list[dict]:
    """:func:`compare` at each n, with NUTS up to ``nuts_rows`` rows."""
    return [compare(n, seed, draws, nuts=n <= nuts_rows) for n in rows]


def main() -> int:
    rows = tuple(int(float(a)) for a in sys.argv[1:]) or (10**3, 10**4, 10**5, 10**6)
    for n in rows:
        print(json.dumps(compare(n, nuts=n <= NUTS_ROWS)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
