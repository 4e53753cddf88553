"""Experiment ``mlp``: weight decay is a Gaussian prior, and MLPRegressor / MLPClassifier(alpha) is a
local mode of a Bayesian neural network (:mod:`models.mlp`).

Check 1 fits scikit-learn from several seeds (``solver="lbfgs"``, ``tol=1e-12``), runs Newton on
the PyMC posterior from each fit and lists the distinct modes found. Check 2 puts a Laplace
approximation at each mode and runs NUTS with several chains on the same small network, on a
generated 1-D regression with a gap in the data (the band widens there and beyond), and the
Laplace interval of P(y = 1) on ``make_moons`` for the classifier.

    python -m experiments mlp [--quick] [--out DIR]
"""

from __future__ import annotations

import numpy as np

from experiments import report, verdicts
from experiments.runner import Card, Experiment, Run, Section, diagnostics_section
from experiments.style import COLORS, plt, save
from models import mlp
from models.core.lazy import lazy
from models.inference.engines import TUNE, tuning_iterations

az = lazy("arviz")
datasets = lazy("sklearn.datasets")
neural_network = lazy("sklearn.neural_network")

HIDDEN_REGRESSOR, HIDDEN_CLASSIFIER = 3, 4  # tanh units: small, so the page runs in a minute
ACTIVATION = "tanh"
ALPHA, ALPHA_CLASSIFIER = 0.1, 1.0  # the classifier's prior sd 1: a Laplace interval of P(y = 1)
N_CLASSIFIER = 100  # make_moons rows (the regressor's n is a setting)
TOL = 1e-12  # scikit-learn's tol (L-BFGS's gtol); MAX_ITER and MAX_FUN large enough to reach it
MAX_ITER, MAX_FUN = 100_000, 1_000_000
BIAS_SD = 5.0  # NUTS only: a flat bias prior is improper (models/mlp.py); inputs and y are O(1)
MASS = 0.94
MODE_TOL = 1e-4  # two certified modes are one when their canonical forms agree to this (relative)
SEPARATE_SDS = 4.0  # chains whose canonical means differ by this many sds sit in different modes


def regression_data(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``y = sin(2x) + Normal(0, 0.2)`` at x uniform on [-2, -0.6] and [0.6, 2]: a gap in the
    middle and nothing beyond |x| = 2, where the predictive band should widen."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(0.6, 2.0, n) * rng.choice([-1.0, 1.0], n)
    x = np.sort(x)
    return x[:, None], np.sin(2 * x) + 0.2 * rng.standard_normal(n)


def fit_sklearn(classifier: bool, hidden: int, seed: int, X, y):
    kind = neural_network.MLPClassifier if classifier else neural_network.MLPRegressor
    alpha = ALPHA_CLASSIFIER if classifier else ALPHA
    return kind(hidden_layer_sizes=(hidden,), activation=ACTIVATION, alpha=alpha, solver="lbfgs",
                tol=TOL, max_iter=MAX_ITER, max_fun=MAX_FUN, random_state=seed).fit(X, y)  # fmt: skip


def distinct(network: mlp.Network, points: list[dict], values: list[float]) -> list[int]:
    """A mode label per point: points whose canonical forms (symmetries removed) agree to
    :data:`MODE_TOL` relative share a label; labels are ordered by log posterior, best first."""
    forms = [mlp.canonical(network, *mlp.layers_of(network, p)) for p in points]
    representatives, labels = [], []
    for form in forms:
        for label, other in enumerate(representatives):
            if np.max(np.abs(form - other)) <= MODE_TOL * max(1.0, float(np.max(np.abs(other)))):
                labels.append(label)
                break
        else:
            representatives.append(form)
            labels.append(len(representatives) - 1)
    best = [max(v for v, lab in zip(values, labels, strict=True) if lab == k)
            for k in range(len(representatives))]  # fmt: skip
    order = np.argsort(best)[::-1]
    rank = {int(k): r for r, k in enumerate(order)}
    return [rank[lab] for lab in labels]


def check_fits(run: Run, classifier: bool) -> dict:
    """Every seed's scikit-learn fit against the posterior: gradient, Newton to the mode, modes."""
    which = "classifier" if classifier else "regressor"
    X, y = run.state[f"{which}_data"]
    hidden = HIDDEN_CLASSIFIER if classifier else HIDDEN_REGRESSOR
    rows, points, fits = [], [], []
    posterior = None
    for seed in range(run.cfg["seeds"]):
        est = fit_sklearn(classifier, hidden, seed, X, y)
        network = mlp.network_of(est, X.shape[1])
        posterior = posterior or mlp.Posterior(network, X, y)
        local = posterior.local_mode(est.coefs_, est.intercepts_)
        run.diagnose(
            report.map_diagnostics(f"{which}, seed {seed}", local.converged, local.message)
        )
        points.append(local.point)
        fits.append(est)
        rows.append({"seed": seed, "iterations": int(est.n_iter_), "loss": float(est.loss_),
                     "gradient_at_fit": local.gradient_at_fit, "moved": local.moved,
                     "implied": local.implied, "gain_nats": local.gain_nats,
                     "log_posterior": local.log_posterior,
                     "smallest_curvature": local.smallest_curvature,
                     "converged": local.converged})  # fmt: skip
    for row in rows:
        row["is_mode"] = verdicts.network_mode("", row["moved"], row["implied"], row["gain_nats"],
                                               row["smallest_curvature"], row["converged"])["outcome"] == "mode"  # fmt: skip
    labels = distinct(posterior.network, points, [r["log_posterior"] for r in rows])
    for row, label in zip(rows, labels, strict=True):
        row["mode"] = label + 1
    # the fit the verdict names, with its own numbers: one that is not a mode if any is, else the
    # one that moved farthest for its implied distance (a minimum over all fits quoted another
    # mode's curvature as the named fit's)
    failing = [r for r in rows if not r["is_mode"]]
    worst = max(failing or rows, key=lambda r: r["moved"] / max(r["implied"], 1e-300))
    what = f"scikit-learn's {'MLPClassifier' if classifier else 'MLPRegressor'} fit (seed {worst['seed']})"
    mode = verdicts.network_mode(what, worst["moved"], worst["implied"], worst["gain_nats"],
                                 worst["smallest_curvature"], worst["converged"])  # fmt: skip
    values = [r["log_posterior"] for r in rows]
    modes = verdicts.distinct_modes(f"the {which}", max(labels) + 1, len(rows), max(values),
                                    min(values))  # fmt: skip
    first = {label: i for i, label in reversed(list(enumerate(labels)))}  # a fit per mode
    run.state[which] = {"posterior": posterior, "network": posterior.network,
                        "modes": [points[first[k]] for k in sorted(first)]}  # fmt: skip
    return {"rows": rows, "mode_verdict": mode, "modes_verdict": modes,
            # weights vs the certified mode, over the fits that are modes (all fits if none is)
            "max_rel_diff": max([r["moved"] for r in rows if r["is_mode"]] or [r["moved"] for r in rows]),
            "fits_not_at_a_mode": sum(not r["is_mode"] for r in rows),
            "gradient_at_sklearn": max(r["gradient_at_fit"] for r in rows)}  # fmt: skip


def modes_compute(run: Run) -> dict:
    n = run.cfg["n"]
    run.state["regressor_data"] = regression_data(n, run.seed)
    run.state["classifier_data"] = datasets.make_moons(
        N_CLASSIFIER, noise=0.25, random_state=run.seed
    )
    regressor = check_fits(run, classifier=False)
    classifier = check_fits(run, classifier=True)
    worst = max((regressor, classifier),
                key=lambda c: (c["mode_verdict"]["outcome"] != "mode", c["max_rel_diff"]))  # fmt: skip
    run.verify(worst["mode_verdict"])
    run.check(
        "classifier" if worst is regressor else "regressor",
        (classifier if worst is regressor else regressor)["mode_verdict"],
    )
    run.adds(regressor["modes_verdict"])
    run.check("classifier modes", classifier["modes_verdict"])
    return {
        "regressor": regressor, "classifier": classifier,
        "max_rel_diff": max(regressor["max_rel_diff"], classifier["max_rel_diff"]),
        "fits_not_at_a_mode": regressor["fits_not_at_a_mode"] + classifier["fits_not_at_a_mode"],
        "gradient_at_sklearn": max(regressor["gradient_at_sklearn"], classifier["gradient_at_sklearn"]),
        "feature_names": ["x"], "classifier_feature_names": ["x1", "x2"],
        "settings": {"hidden_regressor": HIDDEN_REGRESSOR, "hidden_classifier": HIDDEN_CLASSIFIER,
                     "activation": ACTIVATION, "alpha": ALPHA, "alpha_classifier": ALPHA_CLASSIFIER, "n_classifier": N_CLASSIFIER, "tol": TOL, "bias_sd": BIAS_SD,
                     "n": run.cfg["n"], "seeds": run.cfg["seeds"]},
    }  # fmt: skip


def laplace_draws(state: dict, point: dict, size: int, rng) -> dict:
    """Draws of the model's variables from the Laplace approximation at a mode."""
    solver = state["posterior"].solver
    flat = state["posterior"].flat(point)
    gauss = solver.laplace(solver.solve(state["posterior"].data_values(), x0=flat))
    return solver.points(gauss.draws(rng, size))


def band(network: mlp.Network, draws: dict, grid: np.ndarray) -> np.ndarray:
    """Draws of f on ``grid`` (draws, len(grid))."""
    return mlp.forward(network, *mlp.layers_of(network, draws), grid)


def chain_modes(forms: np.ndarray) -> int:
    """Distinct modes among chains (forms: chain, draw, parameter): chains whose canonical means
    differ by :data:`SEPARATE_SDS` pooled sds in some parameter are in different modes."""
    means, sds = forms.mean(axis=1), forms.std(axis=1)
    groups: list[int] = []
    for c in range(len(means)):
        for g in groups:
            spread = np.sqrt(sds[c] ** 2 + sds[g] ** 2) + 1e-12
            if np.all(np.abs(means[c] - means[g]) <= SEPARATE_SDS * spread):
                break
        else:
            groups.append(c)
    return len(groups)


def bands_compute(run: Run) -> dict:
    """Laplace at each regression mode, NUTS on the same network, and the classifier's Laplace
    interval of P(y = 1) on a grid."""
    from arviz_stats.base import array_stats

    from models.inference.engines import PosteriorSampler

    rng = np.random.default_rng(run.seed)
    X, y = run.state["regressor_data"]
    state = run.state["regressor"]
    network = state["network"]
    grid = np.linspace(-3.5, 3.5, 141)[:, None]
    inside = (np.abs(grid[:, 0]) >= 0.6) & (np.abs(grid[:, 0]) <= 2.0)
    outside = np.abs(grid[:, 0]) >= 2.5
    size = run.cfg["draws"] * run.cfg["chains"]
    laplace = []
    for point in state["modes"]:
        f = band(network, laplace_draws(state, point, size, rng), grid)
        low, high = np.quantile(f, [(1 - MASS) / 2, (1 + MASS) / 2], axis=0)
        laplace.append({"mean": f.mean(axis=0).tolist(), "low": low.tolist(), "high": high.tolist(),
                        "sd": f.std(axis=0).tolist(), "sigma": float(point["sigma"])})  # fmt: skip
    sd = np.asarray(laplace[0]["sd"])
    laplace_widening = run.adds(verdicts.widening(
        "Laplace band of f(x) at the best mode", float(np.median(sd[inside])),
        float(np.median(sd[outside]))))  # fmt: skip
    model = mlp.build(network, X, y, bias_sd=BIAS_SD)
    trace = PosteriorSampler(model).sample(draws=run.cfg["draws"], tune=run.cfg["tune"],
                                           chains=run.cfg["chains"], seed=run.seed,
                                           target_accept=0.95)  # fmt: skip
    run.diagnose(report.sampling_diagnostics("NUTS, regressor (sigma: symmetry-invariant)", trace,
                                             ["sigma"]))  # fmt: skip
    post = trace["posterior"].dataset
    names = mlp.weight_names(network) + mlp.bias_names(network)
    chains, draws = post.sizes["chain"], post.sizes["draw"]
    arrays = {name: post[name].values for name in names}
    raw = float(max(np.max(az.rhat(post[names])[name].values) for name in names))
    flat_draws = {name: a.reshape(chains * draws, *a.shape[2:]) for name, a in arrays.items()}
    forms = np.stack([mlp.canonical(network, *mlp.layers_of(network, {k: v[i] for k, v in flat_draws.items()}))
                      for i in range(chains * draws)]).reshape(chains, draws, -1)  # fmt: skip
    canonical_rhat = float(np.max(array_stats.rhat(forms, chain_axis=0, draw_axis=1)))
    n_modes = chain_modes(forms)
    run.check("r_hat", verdicts.symmetric_rhat(raw, canonical_rhat, n_modes, chains))
    f = band(network, flat_draws, grid)
    f_chain = f.reshape(chains, draws, -1)
    low, high = np.quantile(f, [(1 - MASS) / 2, (1 + MASS) / 2], axis=0)
    nuts_sd = f.std(axis=0)
    nuts = {"mean": f.mean(axis=0).tolist(), "low": low.tolist(), "high": high.tolist(),
            "chain_means": f_chain.mean(axis=1).tolist(), "rhat_raw": raw,
            "rhat_canonical": canonical_rhat, "chain_modes": n_modes,
            "sigma_mean": float(post["sigma"].mean())}  # fmt: skip
    run.adds(verdicts.widening("NUTS band of f(x)", float(np.median(nuts_sd[inside])),
                               float(np.median(nuts_sd[outside]))))  # fmt: skip
    # the classifier: the Laplace interval of P(y = 1) at its best mode
    Xc, yc = run.state["classifier_data"]
    cstate = run.state["classifier"]
    span = np.linspace(-2.5, 3.5, 41), np.linspace(-2.0, 2.5, 31)
    g1, g2 = np.meshgrid(*span)
    cgrid = np.column_stack([g1.ravel(), g2.ravel()])
    p = band(cstate["network"], laplace_draws(cstate, cstate["modes"][0], size, rng), cgrid)
    plow, phigh = np.quantile(p, [(1 - MASS) / 2, (1 + MASS) / 2], axis=0)
    width = phigh - plow
    distance = np.min(np.linalg.norm(cgrid[:, None, :] - Xc[None, :, :], axis=2), axis=1)
    at_data = band(cstate["network"], laplace_draws(cstate, cstate["modes"][0], size, rng), Xc)
    data_width = np.diff(np.quantile(at_data, [(1 - MASS) / 2, (1 + MASS) / 2], axis=0), axis=0)[0]
    classifier_widening = run.adds(verdicts.widening(
        f"{MASS:.0%} Laplace interval of P(y = 1)", float(np.median(data_width)),
        float(np.median(width[distance >= 1.0])), "width"))  # fmt: skip
    return {"bands": {"grid": grid[:, 0].tolist(), "laplace": laplace, "nuts": nuts,
                      "widening": laplace_widening},
            "classifier_bands": {"x1": span[0].tolist(), "x2": span[1].tolist(),
                                 "width": width.reshape(g1.shape).tolist(),
                                 "mean": p.mean(axis=0).reshape(g1.shape).tolist(),
                                 "median_width_at_data": float(np.median(data_width)),
                                 "median_width_far": float(np.median(width[distance >= 1.0])),
                                 "widening": classifier_widening}}  # fmt: skip


def figures(run: Run) -> None:
    X, y = run.state["regressor_data"]
    bands = run.results["bands"]
    grid = np.asarray(bands["grid"])
    fig, axes = plt.subplots(1, 2, figsize=(11, 4), sharey=True)
    colors = [COLORS["posterior"], COLORS["MAP"], "#7570b3", "#e7298a", "#66a61e", "#a6761d"]
    for k, mode in enumerate(bands["laplace"]):
        color = colors[k % len(colors)]
        axes[0].fill_between(grid, mode["low"], mode["high"], color=color, alpha=0.2)
        axes[0].plot(grid, mode["mean"], color=color, label=f"mode {k + 1}")
    nuts = bands["nuts"]
    axes[1].fill_between(grid, nuts["low"], nuts["high"], color=COLORS["posterior"], alpha=0.25,
                         label=f"NUTS {MASS:.0%} band")  # fmt: skip
    for c, mean in enumerate(nuts["chain_means"]):
        axes[1].plot(grid, mean, lw=1, label=f"chain {c + 1} mean")
    for ax, title in zip(axes, (f"Laplace at each mode ({MASS:.0%} band of f)", "NUTS, chains"),
                         strict=True):  # fmt: skip
        ax.scatter(X[:, 0], y, s=8, color="black", zorder=3)
        ax.set_xlabel("x")
        ax.set_title(title)
        ax.legend(fontsize=7, loc="lower left")
    axes[0].set_ylabel("f(x)")
    save(fig, run.out / "mlp_bands.png")
    Xc, yc = run.state["classifier_data"]
    cb = run.results["classifier_bands"]
    fig, ax = plt.subplots(figsize=(6.5, 4.5))
    mesh = ax.pcolormesh(cb["x1"], cb["x2"], cb["width"], cmap="viridis", shading="auto")
    fig.colorbar(mesh, ax=ax, label=f"width of the {MASS:.0%} interval of P(y = 1)")
    ax.contour(cb["x1"], cb["x2"], cb["mean"], levels=[0.5], colors="white")
    ax.scatter(Xc[:, 0], Xc[:, 1], c=yc, cmap="coolwarm", s=10, edgecolor="black", linewidths=0.3)
    ax.set_xlabel("x1")
    ax.set_ylabel("x2")
    ax.set_title("MLPClassifier on make_moons: Laplace interval width of P(y = 1)")
    save(fig, run.out / "mlp_moons.png")


def _fits_table(page: report.Page, check: dict) -> None:
    page.table(["seed", "L-BFGS iterations", "objective", "gradient at the fit", "Newton moved",
                "H^-1 g implies", "log posterior gain (nats)", "mode", "log posterior at mode",
                "smallest Hessian eigenvalue", "the fit is a local mode"],
               [[r["seed"], r["iterations"], r["loss"], r["gradient_at_fit"], r["moved"],
                 r["implied"], r["gain_nats"], r["mode"], r["log_posterior"],
                 r["smallest_curvature"], "yes" if r["is_mode"] else "no"] for r in check["rows"]],
               [not r["is_mode"] for r in check["rows"]])  # fmt: skip
    page.verdict(check["mode_verdict"])
    page.verdict(check["modes_verdict"])


def modes_page(page: report.Page, results: dict) -> None:
    s = results["settings"]
    page.claim(
        "Weight decay is a Gaussian prior. MLPRegressor / MLPClassifier(alpha) minimise the mean "
        "loss plus alpha ||W||^2 / (2 n) over the weight matrices (biases not penalised): times "
        "n / sigma^2 (regressor) or n (classifier) that is the negative log posterior of a "
        "Bayesian network with flat biases and every weight Normal(0, sigma / sqrt(alpha)) or "
        "Normal(0, 1 / sqrt(alpha)). The fit is non-convex: scikit-learn's answer is one local "
        "mode among several.",
        "regressor:  sum_i (y_i - f_i)^2 / (2n) + alpha ||W||^2 / (2n)  =  (sigma^2 / n) "
        "[-log p(W, b | y, sigma)] + const,   W ~ Normal(0, sigma / sqrt(alpha))\n"
        "classifier: sum_i logloss_i / n + alpha ||W||^2 / (2n)  =  (1 / n) [-log p(W, b | y)] "
        "+ const,   W ~ Normal(0, 1 / sqrt(alpha))",
    )
    page.text(
        f"**Setting.** {s['hidden_regressor']} {s['activation']} hidden units (regressor, a "
        f"generated 1-D task, alpha = {s['alpha']:g}, n = {s['n']}) and {s['hidden_classifier']} "
        f"(classifier, `make_moons`, alpha = {s['alpha_classifier']:g}, n = {s['n_classifier']}), "
        f"`solver=\"lbfgs\"`, `tol={s['tol']:g}`, one fit per seed "
        f"(`random_state` 0 to {s['seeds'] - 1}). From each fit, Newton (MAPSolver) on the PyMC "
        "posterior runs to a certified mode. scikit-learn's L-BFGS also stops when the objective "
        "falls by less than scipy's default `ftol` (2.2e-9, relative) per step, which "
        "MLPRegressor does not expose: the gradient it leaves is that stop's, not `tol`'s, and "
        "Newton's step H^-1 g from there is the distance to the mode it implies. Modes are the "
        "same when their weights agree after removing the symmetries (tanh sign flips, then "
        "hidden units sorted)."
    )  # fmt: skip
    page.heading("Check 1: the regressor's fits")
    _fits_table(page, results["regressor"])
    page.heading("Check 1: the classifier's fits")
    _fits_table(page, results["classifier"])


def bands_page(page: report.Page, results: dict) -> None:
    nuts = results["bands"]["nuts"]
    page.heading("Check 2, and what the point estimate hides: Laplace at each mode, and NUTS")
    page.text(
        "The Laplace approximation at each regression mode (a Gaussian with the inverse Hessian "
        "as covariance, flat biases kept) and NUTS on the same network with several chains. NUTS "
        f"needs a proper bias prior: a flat one leaves infinite mass where a tanh unit saturates "
        f"(its bias to +-infinity makes it a constant), so biases get Normal(0, "
        f"{results['settings']['bias_sd']:g}) there. The symmetries (hidden-unit permutations, "
        "tanh sign flips) make every mode one of many copies, so r_hat of the raw weights "
        "compares chains in different copies; it is computed again with the symmetries removed, "
        "and the sampler diagnostics use sigma, which every copy shares."
    )  # fmt: skip
    page.table(["quantity", "value"],
               [["worst r_hat, weights as sampled", nuts["rhat_raw"]],
                ["worst r_hat, symmetries removed", nuts["rhat_canonical"]],
                ["distinct modes among the chains", nuts["chain_modes"]],
                ["posterior mean of sigma (NUTS)", nuts["sigma_mean"]]]
               + [[f"sigma at mode {k + 1}", m["sigma"]]
                  for k, m in enumerate(results["bands"]["laplace"])])  # fmt: skip
    page.figure("mlp_bands.png",
                f"Left: the {MASS:.0%} band of f(x) from the Laplace approximation at each mode "
                "Check 1 found. Right: NUTS's band and each chain's mean of f(x). The data sit at "
                "0.6 <= |x| <= 2.",
                observe=results["bands"]["widening"])  # fmt: skip
    cb = results["classifier_bands"]
    page.figure("mlp_moons.png",
                f"The width of the {MASS:.0%} Laplace interval of P(y = 1) at the classifier's "
                "best mode; white: P(y = 1) = 0.5.",
                observe=cb["widening"])  # fmt: skip


def card(results: dict) -> Card:
    r = results["regressor"]["modes_verdict"]
    fits = results["settings"]["seeds"] * 2
    return Card("mlp_bands.png", f"MLP fits as modes of a Bayesian network: "
                f"**{fits - results['fits_not_at_a_mode']} of {fits}** scikit-learn fits are local "
                f"modes (Newton moves them by at most {results['max_rel_diff']:.1e}, as their "
                f"leftover gradient implies); {r['value']} distinct regressor mode(s) in "
                f"{r['n_fits']} seeds.")  # fmt: skip


EXPERIMENT = Experiment(
    name="mlp",
    title="Weight decay is a prior: MLPRegressor / MLPClassifier as a Bayesian neural network",
    description="scikit-learn's MLP fits as local modes of a Bayesian network; Laplace and NUTS.",
    sections=(
        Section(
            "scikit-learn's fits against the posterior's modes", modes_compute, page=modes_page
        ),
        Section("Laplace at each mode and NUTS", bands_compute, figures, bands_page),
        diagnostics_section(),
    ),
    settings=lambda quick: {
        "n": 40 if quick else 80,
        "seeds": 4 if quick else 10,
        "draws": 200 if quick else 1000,
        "tune": TUNE if quick else tuning_iterations("mlp"),  # quick: a smoke run
        "chains": 4,
    },  # fmt: skip
    user_data=False,
    card=card,
    claim="MLPRegressor / MLPClassifier(alpha) fits are local modes of a Bayesian neural network "
    "whose weights are Normal(0, sigma / sqrt(alpha)) (classifier: 1 / sqrt(alpha)).",
)
