"""Experiment ``kernel_ridge``: KernelRidge is the posterior mean of a Gaussian process.

Check 1: KernelRidge's predictions on held-out rows against the PyMC GP's posterior mean
(``pm.gp.Marginal``, noise variance alpha, amplitude 1) over a grid of kernels, alphas and length
scales, and against GaussianProcessRegressor(kernel, alpha, optimizer=None) where scikit-learn has
the kernel. Check 2: NUTS over the length scale, amplitude and noise (alpha learned as a belief)
beside GaussianProcessRegressor's type-II maximum likelihood and KernelRidge tuned by
GridSearchCV, on a generated 1-D function (the band between and beyond the rows) and on the data
set (diabetes by default: held-out coverage of the 94% predictive intervals).

    python -m experiments kernel_ridge [--quick] [--kernel rbf|laplacian] [--data F --target C]
"""

from __future__ import annotations

import argparse

import numpy as np

from experiments import report, verdicts
from experiments.runner import Card, Experiment, Run, Section, diagnostics_section
from experiments.style import COLORS, plt, save
from models import kernel_ridge as kr
from models.core.lazy import lazy
from models.inference.engines import PosteriorSampler, tuning_iterations

kernel_ridge = lazy("sklearn.kernel_ridge")
gaussian_process = lazy("sklearn.gaussian_process")
gp_kernels = lazy("sklearn.gaussian_process.kernels")
model_selection = lazy("sklearn.model_selection")

PROB = 0.94  # the predictive intervals' mass
BOUND = 1e-9  # Check 1: largest relative difference of the predictions
TEST_FRACTION = 0.25
SAMPLED = ("rbf", "laplacian")  # kernels whose hyper-parameters NUTS samples (one length scale)
HYPER = ["length_scale", "amplitude", "noise_sd"]


def kernel_option(text: str) -> str:
    """argparse type: a kernel whose hyper-parameters the page samples (one line otherwise)."""
    if text not in SAMPLED:
        mapped = ", ".join(SAMPLED)
        raise argparse.ArgumentTypeError(f"{text!r} is not a kernel this page samples ({mapped})")
    return text


def options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--kernel", type=kernel_option, default="rbf",
                        help="kernel of Check 2: rbf (default) or laplacian")  # fmt: skip


def validate(run: Run) -> None:
    """At most :data:`models.kernel_ridge.MAX_ROWS` rows, before any work."""
    kr.check_rows(len(run.data.y))


def settings(quick: bool) -> dict:
    return {
        "alphas": [1e-2, 1.0] if quick else [1e-3, 1e-2, 1e-1, 1.0, 10.0],
        "length_scales": [1.0, 3.0] if quick else [0.3, 1.0, 3.0, 10.0],
        "draws": 300 if quick else 1000, "tune": tuning_iterations("gp"),
        "chains": 2 if quick else 4, "mixture_draws": 100 if quick else 400,
        # the data set's NUTS costs n^3 per gradient: 331 training rows took 215 s of `make
        # experiments`, 200 take about a fifth; the held-out rows are the same 111 either way
        "diabetes_rows": 150 if quick else 200,
        "data_draws": 300 if quick else 500,
    }  # fmt: skip


def generated(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The 1-D task: ``sin(3x) + 0.3 x`` plus noise sd 0.2 at 15 rows in [-2, -0.6] and 15 in
    [0.8, 2]: a gap between the clusters and nothing beyond |x| = 2."""
    rng = np.random.default_rng(seed)
    x = np.concatenate([rng.uniform(-2.0, -0.6, 15), rng.uniform(0.8, 2.0, 15)])
    return x[:, None], np.sin(3 * x) + 0.3 * x + 0.2 * rng.standard_normal(30)


def _sklearn_gp_kernel(kernel: kr.Kernel):
    """scikit-learn's GP kernel equal to ``kernel`` (amplitude 1), or None (no L1 kernel there)."""
    k = gp_kernels
    if kernel.name == "rbf":
        return k.RBF(kernel.length_scale, length_scale_bounds="fixed")
    if kernel.name == "linear":
        return k.DotProduct(sigma_0=0.0, sigma_0_bounds="fixed")
    if kernel.name == "polynomial":  # (gamma x'x' + c)^d = gamma^d (x'x' + c / gamma)^d
        dot = k.DotProduct(sigma_0=np.sqrt(kernel.coef0 / kernel.gamma), sigma_0_bounds="fixed")
        return k.ConstantKernel(kernel.gamma**kernel.degree, "fixed") * dot**kernel.degree
    return None


def _grid(p: int, cfg: dict) -> list[kr.Kernel]:
    kernels = [kr.kernel_of("rbf", p, gamma=0.5 / length**2) for length in cfg["length_scales"]]
    kernels += [
        kr.kernel_of("laplacian", p, gamma=1.0 / (length * p))
        for length in cfg["length_scales"][:2]
    ]
    return kernels + [kr.kernel_of("polynomial", p, degree=2, coef0=1.0), kr.kernel_of("linear", p)]


def _relative(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), np.finfo(float).tiny))


def check1_compute(run: Run) -> dict:
    """KernelRidge vs the PyMC GP mean and GaussianProcessRegressor's, on held-out rows."""
    X, y = run.data.X, run.data.y - run.data.y.mean()
    X_fit, X_test, y_fit, _ = model_selection.train_test_split(X, y, test_size=TEST_FRACTION,
                                                               random_state=run.seed)  # fmt: skip
    rows = []
    for kernel in _grid(X.shape[1], run.cfg):
        alphas = run.cfg["alphas"]
        means = kr.pymc_posterior_means(kernel, X_fit, y_fit, alphas, X_test)
        for alpha, pymc in zip(alphas, means, strict=True):
            ridge = kernel_ridge.KernelRidge(alpha=alpha, kernel=kernel.name, **kernel.params())
            expected = ridge.fit(X_fit, y_fit).predict(X_test)
            sk_kernel = _sklearn_gp_kernel(kernel)
            gpr = None
            if sk_kernel is not None:
                fitted = gaussian_process.GaussianProcessRegressor(
                    sk_kernel, alpha=alpha, optimizer=None
                )
                gpr = _relative(fitted.fit(X_fit, y_fit).predict(X_test), expected)
            rows.append({"kernel": kernel.name, "params": kernel.params(), "alpha": alpha,
                         "pymc": _relative(pymc, expected), "gpr": gpr})  # fmt: skip
    largest = max(row["pymc"] for row in rows)
    run.verify(verdicts.agreement(
        f"KernelRidge's predictions = the PyMC GP posterior mean (pm.gp.Marginal) on "
        f"{len(X_test)} held-out rows, {len(rows)} (kernel, alpha) settings", largest, BOUND))  # fmt: skip
    equivalence = {"prior": kr.PRIOR, "link": {"objective": kr.OBJECTIVE, "mapping": kr.MAPPING},
                   "agreement": f"max rel diff {largest:.1e} over {len(rows)} (kernel, alpha), "
                                "KernelRidge vs the PyMC GP mean"}  # fmt: skip
    return {"check1": rows, "max_rel_diff": largest, "equivalence": equivalence, "feature_names": list(run.data.feature_names),
            "gpr_max_rel_diff": max(row["gpr"] for row in rows if row["gpr"] is not None)}  # fmt: skip


def check1_page(page, results: dict) -> None:
    page.heading("Check 1: KernelRidge = the GP posterior mean")
    page.claim("KernelRidge(alpha, kernel) predicts the posterior mean of a Gaussian process with "
               "covariance k and noise variance alpha (amplitude 1); with amplitude eta^2 and noise "
               "sigma^2, alpha = sigma^2 / eta^2.",
               "k(x*, X) (K + alpha I)^-1 y = E[f(x*) | y],  f ~ GP(0, eta^2 k),  alpha = sigma^2 / eta^2")  # fmt: skip
    page.text("Each row fits KernelRidge and the PyMC model on the same training rows (target "
              "centred: KernelRidge has no intercept) and compares predictions on the held-out "
              "rows. `laplacian` is scikit-learn's L1 kernel, written exactly as a PyMC covariance "
              "(PyMC's `Exponential` is Euclidean); scikit-learn's GaussianProcessRegressor has no "
              "L1 kernel, hence no third column there.")  # fmt: skip
    rows = [[r["kernel"], ", ".join(f"{k}={v:.3g}" for k, v in r["params"].items()) or "—",
             r["alpha"], r["pymc"], "—" if r["gpr"] is None else r["gpr"]]
            for r in results["check1"]]  # fmt: skip
    flags = [r["pymc"] > BOUND for r in results["check1"]]
    page.table(["kernel", "parameters", "alpha", "PyMC GP mean vs KernelRidge",
                "GaussianProcessRegressor vs KernelRidge"], rows, flags)  # fmt: skip


def _hyper_fit(kernel_name: str, X, y, seed: int, budget: tuple, label: str, run: Run):
    """NUTS over (length scale, amplitude, noise sd) with ``budget`` = (draws, tune, chains);
    returns the DataTree."""
    kernel = kr.kernel_of(kernel_name, X.shape[1])
    draws, tune, chains = budget
    dt = PosteriorSampler(kr.build_hierarchical(kernel, X, y)).sample(
        draws=draws, tune=tune, chains=chains, seed=seed, target_accept=0.9)  # fmt: skip
    run.diagnose(report.sampling_diagnostics(label, dt, HYPER))
    return dt


def _kernel_at(name: str, length: float, p: int) -> kr.Kernel:
    """The kernel at length scale l (rbf: gamma = 1 / (2 l^2); laplacian: gamma = 1 / l)."""
    return kr.kernel_of(name, p, gamma=0.5 / length**2 if name == "rbf" else 1.0 / length)


def _mixture(dt, name: str, X, y, X_new, count: int, seed: int):
    """NUTS's predictive: the exact GP posterior at ``count`` thinned draws of the
    hyper-parameters, mixed. Returns mean, sd of f, and the PROB interval of a new observation."""
    post = dt["posterior"]
    draws = {v: post[v].values.reshape(-1) for v in HYPER}
    picks = np.linspace(0, len(draws["amplitude"]) - 1, count).astype(int)
    rng = np.random.default_rng(seed)
    means, f_sds, samples = [], [], []
    for i in picks:
        eta, noise = draws["amplitude"][i], draws["noise_sd"][i]
        exact = kr.exact_posterior(_kernel_at(name, draws["length_scale"][i], X.shape[1]), X, y,
                                   noise**2 / eta**2, amplitude=eta)  # fmt: skip
        mean, sd_f = exact.predict(X_new, observation=False)
        means.append(mean), f_sds.append(sd_f)
        samples.append(mean + np.sqrt(sd_f**2 + noise**2) * rng.standard_normal((20, len(mean))))
    means, f_sds, samples = np.array(means), np.array(f_sds), np.concatenate(samples)
    sd = np.sqrt(np.mean(f_sds**2, axis=0) + np.var(means, axis=0))
    low, high = np.quantile(samples, [(1 - PROB) / 2, (1 + PROB) / 2], axis=0)
    return means.mean(axis=0), sd, low, high


def _type2(name: str, X, y):
    """GaussianProcessRegressor's type-II ML (amplitude^2 * kernel + white noise) for rbf; for
    laplacian scikit-learn has no L1 kernel, so the same ML by our exact marginal likelihood is
    not shown: returns None."""
    if name != "rbf":
        return None
    k = gp_kernels
    kernel = k.ConstantKernel(1.0, (1e-3, 1e3)) * k.RBF(1.0, (1e-2, 1e2)) + k.WhiteKernel(
        0.1, (1e-5, 1e1)
    )
    fitted = gaussian_process.GaussianProcessRegressor(kernel, alpha=0.0, n_restarts_optimizer=3,
                                                       random_state=0).fit(X, y)  # fmt: skip
    learned = fitted.kernel_
    eta2, length, noise2 = (
        learned.k1.k1.constant_value,
        learned.k1.k2.length_scale,
        learned.k2.noise_level,
    )
    return {"amplitude": float(np.sqrt(eta2)), "length_scale": float(length),
            "noise_sd": float(np.sqrt(noise2)), "alpha": float(noise2 / eta2)}  # fmt: skip


def _grid_search(name: str, X, y, seed: int):
    """KernelRidge tuned by 5-fold GridSearchCV over alpha and the length scale."""
    lengths = np.geomspace(0.1, 10.0, 9) * (np.sqrt(X.shape[1]) if name == "rbf" else X.shape[1])
    gammas = 0.5 / lengths**2 if name == "rbf" else 1.0 / lengths
    search = model_selection.GridSearchCV(
        kernel_ridge.KernelRidge(kernel=name), {"alpha": np.geomspace(1e-3, 10.0, 9), "gamma": gammas},
        cv=model_selection.KFold(5, shuffle=True, random_state=seed),
    ).fit(X, y)  # fmt: skip
    gamma = float(search.best_params_["gamma"])
    return {"alpha": float(search.best_params_["alpha"]),
            "length_scale": float(1 / np.sqrt(2 * gamma) if name == "rbf" else 1 / gamma)}  # fmt: skip


def _identification(dt, where: str) -> dict:
    import arviz as az

    post = dt["posterior"]
    logs = {v: np.log(post[v]) for v in HYPER}
    r_hats = {v: float(az.rhat(logs[v].to_dataset(name=v))[v]) for v in HYPER}
    worst = max(r_hats, key=r_hats.get)
    r = float(
        np.corrcoef(logs["amplitude"].values.ravel(), logs["length_scale"].values.ravel())[0, 1]
    )
    return verdicts.hyperparameter_modes(where, worst, r_hats[worst], r)


def _interval(alpha_draws: np.ndarray) -> tuple[float, float]:
    low, high = np.quantile(alpha_draws, [(1 - PROB) / 2, (1 + PROB) / 2])
    return float(low), float(high)


def curve_compute(run: Run) -> dict:
    """The 1-D task: NUTS, type-II ML and GridSearchCV; the bands and their widening."""
    name, cfg = run.args.kernel, run.cfg
    X, y = generated(run.seed)
    grid = np.linspace(-3.5, 3.5, 141)[:, None]
    budget = (cfg["draws"], cfg["tune"], cfg["chains"])
    dt = _hyper_fit(name, X, y, run.seed, budget, "GP hyper-parameters, 1-D task", run)
    mean, sd, low, high = _mixture(dt, name, X, y, grid, cfg["mixture_draws"], run.seed)
    alpha_draws = dt["posterior"]["alpha"].values.reshape(-1)
    tuned = _grid_search(name, X, y, run.seed)
    ridge_kernel = _kernel_at(name, tuned["length_scale"], 1)
    ridge = kr.exact_posterior(ridge_kernel, X, y, tuned["alpha"])  # amplitude: Jeffreys
    ridge_mean = ridge.mean(grid)
    ridge_low, ridge_high = ridge.interval(grid, PROB)
    gap = int(np.argmin(np.abs(grid[:, 0] - 0.1)))  # the middle of the gap between clusters
    nearest = np.array([np.argmin(np.abs(grid[:, 0] - x)) for x in X[:, 0]])
    verdict = run.adds(verdicts.band_widening(float(np.median(sd[nearest])), float(sd[gap]),
                                              float(max(sd[0], sd[-1]))))  # fmt: skip
    modes = run.adds(_identification(dt, "on the 1-D task"))
    ml = _type2(name, X, y)
    inside = [
        verdicts.inside("GridSearchCV's alpha", tuned["alpha"], *_interval(alpha_draws), PROB)
    ]
    if ml is not None:
        inside.append(
            verdicts.inside("type-II ML alpha", ml["alpha"], *_interval(alpha_draws), PROB)
        )
    run.state["curve"] = {"dt": dt}
    post = dt["posterior"]
    return {"curve": {
        "x": X[:, 0], "y": y, "grid": grid[:, 0], "mean": mean, "sd": sd, "low": low, "high": high,
        "ridge_mean": ridge_mean, "ridge_low": ridge_low, "ridge_high": ridge_high,
        "grid_search": tuned, "type2": ml, "widening": verdict, "modes": modes, "inside": inside,
        "log_amplitude": np.log(post["amplitude"].values).tolist(),
        "log_length_scale": np.log(post["length_scale"].values).tolist(),
        "alpha_interval": _interval(alpha_draws), "alpha_median": float(np.median(alpha_draws)),
    }}  # fmt: skip


def curve_figures(run: Run) -> None:
    c = run.results["curve"]
    fig, ax = plt.subplots(figsize=(8, 4))
    ax.fill_between(c["grid"], c["low"], c["high"], color=COLORS["posterior"], alpha=0.25,
                    label=f"NUTS over hyper-parameters: {PROB:.0%} predictive")  # fmt: skip
    ax.plot(c["grid"], c["mean"], color=COLORS["posterior"], label="posterior mean (NUTS mixture)")
    ax.plot(c["grid"], c["ridge_mean"], color=COLORS["sklearn"], linestyle="--",
            label="KernelRidge (GridSearchCV) = GP mean at its alpha")  # fmt: skip
    ax.plot(c["grid"], c["ridge_low"], color=COLORS["sklearn"], linestyle=":", linewidth=1)
    ax.plot(c["grid"], c["ridge_high"], color=COLORS["sklearn"], linestyle=":", linewidth=1,
            label=f"its exact {PROB:.0%} band (amplitude Jeffreys)")  # fmt: skip
    ax.scatter(c["x"], c["y"], color=COLORS["data"], s=14, zorder=3, label="rows")
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.legend(fontsize=8, loc="lower left")
    save(fig, run.out / "band.png")
    fig, ax = plt.subplots(figsize=(5, 4))
    for chain, (a, length) in enumerate(
        zip(c["log_amplitude"], c["log_length_scale"], strict=True)
    ):
        ax.scatter(length, a, s=4, alpha=0.4, label=f"chain {chain}")
    ax.set_xlabel("log length scale")
    ax.set_ylabel("log amplitude")
    ax.legend(fontsize=8, markerscale=3)
    save(fig, run.out / "hyper_scatter.png")


def curve_page(page, results: dict) -> None:
    c = results["curve"]
    page.heading("Check 2: alpha as a belief, on a 1-D function")
    page.text("NUTS samples the length scale, the amplitude eta and the noise sd sigma (each "
              "LogNormal(0, 1.5)); alpha = sigma^2 / eta^2 follows. Each draw's GP posterior is "
              "exact (Cholesky), and the band mixes them. Beside it, KernelRidge with alpha and "
              "the length scale tuned by 5-fold GridSearchCV, and its exact band at that alpha "
              "(the amplitude unknown under a Jeffreys prior: a Student-t).")  # fmt: skip
    page.heading("What the point estimate hides: a band that widens away from the data")
    page.figure("band.png", "The 1-D task: the rows, the NUTS predictive band and KernelRidge.",
                c["widening"])  # fmt: skip
    rows = [["NUTS (posterior median; 94% interval)", c["alpha_median"],
             f"[{report.number(c['alpha_interval'][0])}, {report.number(c['alpha_interval'][1])}]", "—"],
            ["KernelRidge, GridSearchCV", c["grid_search"]["alpha"], "—", c["grid_search"]["length_scale"]]]  # fmt: skip
    if c["type2"]:
        rows.append(["GaussianProcessRegressor, type-II ML", c["type2"]["alpha"], "—",
                     c["type2"]["length_scale"]])  # fmt: skip
    page.table(["choice", "alpha", "interval", "length scale"], rows)
    for verdict in c["inside"]:
        page.verdict(verdict)
    page.figure("hyper_scatter.png", "NUTS draws of log amplitude against log length scale, by "
                "chain.", c["modes"])  # fmt: skip


def diabetes_compute(run: Run) -> dict:
    """The data set: held-out coverage of the 94% predictive intervals, three ways."""
    name, cfg = run.args.kernel, run.cfg
    X, y = run.data.X, (run.data.y - run.data.y.mean()) / run.data.y.std()
    X_fit, X_test, y_fit, y_test = model_selection.train_test_split(
        X, y, test_size=TEST_FRACTION, random_state=run.seed)  # fmt: skip
    if cfg["diabetes_rows"]:
        X_fit, y_fit = X_fit[: cfg["diabetes_rows"]], y_fit[: cfg["diabetes_rows"]]
    budget = (cfg["data_draws"], cfg["tune"], cfg["chains"])
    dt = _hyper_fit(name, X_fit, y_fit, run.seed + 1, budget, "GP hyper-parameters, data set", run)
    run.posteriors["posterior"] = dt
    _, _, low, high = _mixture(dt, name, X_fit, y_fit, X_test, cfg["mixture_draws"], run.seed)
    hits = {"NUTS": (y_test >= low) & (y_test <= high)}
    tuned = _grid_search(name, X_fit, y_fit, run.seed)
    ridge = kr.exact_posterior(_kernel_at(name, tuned["length_scale"], X.shape[1]), X_fit, y_fit,
                               tuned["alpha"])  # fmt: skip
    low, high = ridge.interval(X_test, PROB)
    hits["KernelRidge (GridSearchCV), amplitude Jeffreys"] = (y_test >= low) & (y_test <= high)
    ml = _type2(name, X_fit, y_fit)
    if ml is not None:
        plug = kr.exact_posterior(_kernel_at(name, ml["length_scale"], X.shape[1]), X_fit, y_fit,
                                  ml["alpha"], amplitude=ml["amplitude"])  # fmt: skip
        low, high = plug.interval(X_test, PROB)
        hits["GaussianProcessRegressor, type-II ML (plug-in)"] = (y_test >= low) & (y_test <= high)
    coverage = {k: verdicts.coverage(f"{k}: held-out rows", int(v.sum()), len(y_test), PROB)
                for k, v in hits.items()}  # fmt: skip
    # the methods on the same rows, paired: a row or two apart is no difference, whatever colour
    # each one's own coverage verdict has (98 and 99 of 111 sat on either side of its threshold)
    paired = [verdicts.comparison(
        "held-out coverage (paired over the same rows)", "NUTS", other,
        float(np.mean(hits["NUTS"]) - np.mean(v)),
        float(np.std(hits["NUTS"].astype(float) - v, ddof=1) / np.sqrt(len(v))),
        lower_is_better=False) for other, v in hits.items() if other != "NUTS"]  # fmt: skip
    run.check("Held-out coverage (NUTS)", coverage["NUTS"])
    modes = run.adds(_identification(dt, "on the data set"))
    return {"data_set": {"n_fit": len(y_fit), "n_test": len(y_test), "coverage": coverage,
                         "paired": paired,
                         "modes": modes, "grid_search": tuned, "type2": ml}}  # fmt: skip


def diabetes_page(page, results: dict) -> None:
    d = results["data_set"]
    page.heading("Check 2 on the data set: held-out coverage")
    page.text(f"{d['n_fit']} training rows (features standardised, target standardised), "
              f"{d['n_test']} held-out rows; {PROB:.0%} predictive intervals of a new "
              "observation, noise included.")  # fmt: skip
    for verdict in d["coverage"].values():
        page.verdict(verdict)
    # coverage closer to nominal is better, not higher: only whether the rates differ is said
    page.bullets([
        f"Coverage, {v['first']} − {v['second']} = {v['value']:+.3f} ± {v['se']:.3f} (paired over "
        f"the same {d['n_test']} rows): "
        + ("no difference beyond " if v["outcome"] == "indistinguishable" else "they differ by more than ")
        + f"{v['threshold']:g} standard errors."
        for v in d["paired"]
    ])  # fmt: skip
    page.verdict(d["modes"])


def card(results: dict) -> Card:
    widening = results["curve"]["widening"]
    nuts = results["data_set"]["coverage"]["NUTS"]
    return Card("band.png", (
        f"KernelRidge = PyMC GP posterior mean: max rel diff **{results['max_rel_diff']:.1e}** over "
        f"{len(results['check1'])} (kernel, alpha); the NUTS band is **{widening['value']:.1f}x** "
        f"wider away from the rows; held-out {PROB:.0%} coverage {nuts['covered']}/{nuts['n']}."
    ))  # fmt: skip


EXPERIMENT = Experiment(
    name="kernel_ridge",
    title="Kernel ridge = the posterior mean of a Gaussian process",
    description="KernelRidge against the PyMC GP posterior mean; NUTS over the kernel's hyper-parameters.",
    sections=(
        Section("Check 1: KernelRidge vs the GP posterior mean", check1_compute, page=check1_page),
        Section("Check 2: NUTS on a 1-D function", curve_compute, curve_figures, curve_page),
        Section("Check 2: held-out coverage on the data set", diabetes_compute, page=diabetes_page),
        diagnostics_section(),
    ),
    settings=settings,
    options=options,
    validate=validate,
    card=card,
    claim="KernelRidge(alpha, kernel) is the posterior mean of a Gaussian process with noise "
    "variance alpha (amplitude 1).",
)
