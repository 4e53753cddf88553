"""reports/index.html: the front door, built from the results files (nothing typed by hand).

First the equivalence table (every registered model: penalty, prior, mapping, measured agreement),
then one card per experiment with its key figure and headline number. A card is a function of the
experiment's results.json, registered by experiment name.
"""

from __future__ import annotations

import html
import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

from experiments.report import CSS
from models import REGISTRY

CARD_CSS = """
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(320px,1fr));gap:1rem;margin:1rem 0}
.card{border:1px solid #d5d8dc;border-radius:6px;padding:.7rem;background:#fff}
.card h3{margin:.1rem 0 .4rem;font-size:1.05rem}.card img{width:100%;border:1px solid #eef}
.card .headline{font-size:.92rem;margin:.4rem 0 0}
table.equivalence td,table.equivalence th{text-align:left}
"""


def _family(results: dict) -> tuple[str, str]:
    return "posterior_densities.png", f"MAP = scikit-learn: {_agreement(results)}."


def _ridge(results: dict) -> tuple[str, str]:
    post = results["posterior"]
    return "ridge_path.png", (
        f"MAP = Ridge = closed form to <b>{max(results['max_rel_diff']):.1e}</b> over "
        f"{len(results['alphas'])} alphas; NUTS means within {post['max_abs_z_vs_exact']:.1f} MCSE "
        "of the exact posterior."
    )


def _lasso(results: dict) -> tuple[str, str]:
    bl = results["bayesian_lasso"]
    zeros = results["same_zero_set"]
    return "bayesian_lasso.png", (
        f"Same exact zeros as sklearn at {sum(zeros)}/{len(zeros)} alphas (max rel diff "
        f"<b>{max(results['max_rel_diff']):.1e}</b>). Bayesian Lasso: "
        f"{int(np.sum(np.asarray(bl['joint_mode']) == 0))} zeros in the joint mode, "
        f"<b>{int(np.sum(np.asarray(bl['median']) == 0))}</b> among the posterior medians."
    )


def _logistic(results: dict) -> tuple[str, str]:
    held = results["heldout"]
    return "heldout_probabilities.png", (
        f"MAP = LogisticRegression to <b>{max(results['max_rel_diff']):.1e}</b> for C in "
        f"[{min(results['Cs']):g}, {max(results['Cs']):g}]; <b>{held['n_interval_contains_half']}</b> "
        f"of {held['n_test']} held-out patients have a {held['interval']:.0%} interval for P(malignant) containing 0.5."
    )


def _lambda(results: dict) -> tuple[str, str]:
    post = results["alpha_posterior"]
    return "alpha_posterior.png", (
        f"Posterior of alpha: median <b>{post['median']:.3g}</b>, 94% HDI [{post['hdi_94_low']:.3g}, "
        f"{post['hdi_94_high']:.3g}]; evidence maximiser {results['evidence_alpha']:.3g}, RidgeCV "
        f"{results['ridgecv_alpha']:.3g}, {results['settings']['folds']}-fold CV {results['kfold_alpha']:.3g}."
    )


def _sensitivity(results: dict) -> tuple[str, str]:
    tight = results["models"]["ridge"]["widths"]["tight"]["psense"]["prior"]
    loose = results["models"]["ridge"]["widths"]["loose"]["psense"]["prior"]
    return "data_size.png", (
        f"Ridge prior sensitivity (psense): max <b>{max(loose):.3f}</b> under a loose prior, "
        f"<b>{max(tight):.3f}</b> under a tight one; posterior width vs rows from "
        f"{results['data_size']['sizes'][0]} to {results['data_size']['sizes'][-1]}."
    )


def _engines(results: dict) -> tuple[str, str]:
    ridge, logit = results["ridge"]["methods"], results["logistic"]["methods"]
    return "pair_logistic.png", (
        f"Laplace = exact for ridge (sd error <b>{ridge['laplace']['sd_max_rel_err']:.0e}</b>); "
        f"mean-field ADVI underestimates ridge sds by up to <b>{ridge['advi_meanfield']['sd_max_rel_err']:.0%}</b>; "
        f"logistic W1/sd: Laplace {logit['laplace']['wasserstein_mean']:.3f}, full-rank ADVI "
        f"{logit['advi_fullrank']['wasserstein_mean']:.3f}, NUTS {logit['nuts']['wasserstein_mean']:.3f}."
    )


CARDS: dict[str, Callable[[dict], tuple[str, str]]] = {
    "ridge": _ridge,
    "logistic": _logistic,
    "lasso": _lasso,
    "lambda": _lambda,
    "sensitivity": _sensitivity,
    "engines": _engines,
}
ORDER = ["ridge", "logistic", "lasso", "elasticnet", "lambda", "sensitivity", "engines"]


def _title(folder: Path) -> str:
    text = (folder / "index.md").read_text().splitlines()[0]
    return text.removeprefix("# ").strip()


def _agreement(results: dict) -> str:
    worst, count = max(results["max_rel_diff"]), len(results["max_rel_diff"])
    text = f"max rel diff <b>{worst:.1e}</b> over {count} penalties"
    spec = REGISTRY.get(results.get("model", ""))
    if spec is not None and spec.l1_terms:
        zeros = results["same_zero_set"]
        text += f"; same zero set {sum(zeros)}/{len(zeros)}"
    return text


def write_index(reports: Path) -> None:
    """Write reports/index.html and index.md from every folder holding results.json and a page."""
    folders = [
        p
        for p in reports.iterdir()
        if (p / "results.json").is_file() and (p / "index.html").is_file()
    ]
    rank = {name: i for i, name in enumerate(ORDER)}
    folders.sort(key=lambda p: (rank.get(p.name, len(ORDER)), p.name))
    results = {p.name: json.loads((p / "results.json").read_text()) for p in folders}

    table = []  # (experiment, spec, results) for the equivalence table
    for name, res in results.items():
        spec = REGISTRY.get(res.get("model", ""))
        if spec is not None:
            table.append((name, spec, res))
    cards = []
    for folder in folders:
        res = results[folder.name]
        builder = CARDS.get(folder.name, _family if "max_rel_diff" in res else None)
        if builder is None:
            continue
        figure, headline = builder(res)
        cards.append((folder.name, _title(folder), figure, headline))

    head = ("<tr><th>experiment</th><th>scikit-learn minimises</th><th>Bayesian model</th>"
            "<th>mapping</th><th>data</th><th>measured agreement (MAP vs sklearn)</th></tr>")  # fmt: skip
    rows = "".join(
        f'<tr><td><a href="{name}/index.html">{name}</a></td><td>{html.escape(spec.objective)}</td>'
        f"<td>{html.escape(spec.prior)}</td><td>{html.escape(spec.mapping)}</td>"
        f"<td>{html.escape(res['data_source'])} (n={res['n_obs']})</td><td>{_agreement(res)}</td></tr>"
        for name, spec, res in table
    )
    card_html = "".join(
        f'<div class="card"><h3><a href="{name}/index.html">{html.escape(title)}</a></h3>'
        f'<a href="{name}/index.html"><img src="{name}/{figure}" alt="{html.escape(title)}: key figure"></a>'
        f'<p class="headline">{headline}</p></div>'
        for name, title, figure, headline in cards
    )
    page = (
        "<!doctype html>\n<html lang=en><head><meta charset=utf-8>"
        "<meta name=viewport content='width=device-width,initial-scale=1'><title>secretly-bayesian</title>"
        f"<style>{CSS}{CARD_CSS}</style></head><body><h1>secretly-bayesian</h1>"
        "<p>Every penalised estimator below is exactly the mode (MAP) of a Bayesian posterior, checked "
        "numerically; each experiment then shows what that single point hides. Numbers are read from "
        "each experiment's <code>results.json</code>.</p>"
        f'<h2 id="equivalence">The equivalence, measured</h2><table class="equivalence">{head}{rows}</table>'
        f'<h2 id="experiments">Experiments</h2><div class="cards">{card_html}</div></body></html>\n'
    )
    cell = lambda text: text.replace("|", "\\|")  # noqa: E731 - a pipe would end the Markdown cell
    markdown = [
        "# secretly-bayesian", "",
        "Every penalised estimator below is exactly the mode (MAP) of a Bayesian posterior.", "",
        "## The equivalence, measured", "",
        "| experiment | scikit-learn minimises | Bayesian model | mapping | measured agreement |",
        "|---|---|---|---|---|",
        *(f"| [{n}]({n}/index.md) | {cell(s.objective)} | {cell(s.prior)} | {cell(s.mapping)} | {_agreement(r)} |"
          for n, s, r in table),
        "", "## Experiments", "",
    ]  # fmt: skip
    for name, title, figure, headline in cards:
        plain = headline.replace("<b>", "**").replace("</b>", "**")
        markdown += [
            f"### [{title}]({name}/index.md)",
            "",
            f"![{title}]({name}/{figure})",
            "",
            plain,
            "",
        ]
    for filename, text in (("index.html", page), ("index.md", "\n".join(markdown) + "\n")):
        fd, tmp = tempfile.mkstemp(dir=reports, prefix=f".{filename}.")
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
        os.replace(tmp, reports / filename)
