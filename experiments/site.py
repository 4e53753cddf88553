"""reports/index.html: the front door, built from the results files (nothing typed by hand).

First the equivalence table (every registered model: penalty, prior, mapping, measured agreement;
an experiment of a model outside the registry, such as ``kernel_ridge``, writes its row as
``equivalence`` in results.json: ``prior``, ``link.objective``, ``link.mapping``, ``agreement``),
then one card per experiment with its key figure and headline number. A card is the experiment's
own ``card(results)`` (see :class:`experiments.runner.Experiment`); pages come from templates.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from experiments import verdicts
from experiments.common import provenance
from experiments.registry import experiments
from experiments.report import inline, render, sentence, user
from models import registry

# The seed's formula first, then Ridge's knob derived from it.
FORMULA = """-log p(w | y) = NLL(w) + lambda ||w||^2 + const,   lambda = 1 / (2 tau^2)      (w_j ~ Normal(0, tau))
Gaussian y:    NLL(w) = ||y - Xw||^2 / (2 sigma^2) + const
Ridge:         ||y - Xw||^2 + alpha ||w||^2  =  2 sigma^2 x (the line above)   =>   alpha = sigma^2 / tau^2"""


# timings.json fields shown on the front page (seconds; they change run to run)
TIMING_COLUMNS = ("wall_seconds", "import_seconds", "compile_seconds", "sampling_seconds",
                  "figures_seconds", "writing_seconds")  # fmt: skip


def agreement(results: dict) -> str:
    """The measured MAP-vs-scikit-learn agreement of one results.json, in words."""
    worst, count = max(results["max_rel_diff"]), len(results["max_rel_diff"])
    text = f"max rel diff {worst:.1e} over {count} penalties"
    spec = registry().get(results.get("model", ""))
    if spec is not None and spec.l1_terms:
        zeros = results["same_zero_set"]
        text += f"; same zero set {sum(zeros)}/{len(zeros)}"
    return text


def takeaway(results: dict) -> str | None:
    """Three sentences, each a verdict on this run's numbers (ridge and, if run, lambda); None
    without ridge's results."""
    ridge = results.get("ridge")
    if ridge is None:
        return None
    post, names, source = ridge["posterior"], ridge["feature_names"], ridge["data_source"]
    if source.startswith("sklearn:load_"):
        source = f"scikit-learn's {source.removeprefix('sklearn:load_').replace('_', ' ')} data"
    worst, count = max(ridge["max_rel_diff"]), len(ridge["max_rel_diff"])
    verified = ridge.get("verdict_box", {}).get("verified") or {}
    agree = "agree" if verified.get("outcome", "verified") == "verified" else "do **not** agree"
    # the ridge page's own sign verdicts (exact P(w > 0) where the page has it, as it says)
    each = [v for group in ("settled", "likely", "uncertain") for v in post["signs"][group]]
    sign = sentence(min(each, key=lambda v: abs(v["value"] - 0.5)))
    correlated = ""
    if post["most_correlated"]:
        a, b, r = post["most_correlated"]
        correlated = f"; w[{user(a)}] and w[{user(b)}] have posterior correlation {r:+.2f}"
    sentences = [
        f"On {user(source)} ({ridge['n_obs']} rows, {len(names)} features), scikit-learn's Ridge "
        f"and the mode of the posterior under a Normal(0, tau) prior {agree} to "
        f"**{worst:.1e}** over {count} penalties: the penalty is the prior, alpha = sigma^2 / tau^2.",
        f"The posterior shows what that one number hides at alpha = {post['alpha']:.3g}: {sign}"
        f"{correlated}.",
    ]
    lam = results.get("lambda")
    if lam is not None:
        alpha = lam["alpha_posterior"]
        low, high = alpha["eti_94_low"], alpha["eti_94_high"]
        shown = verdicts.inside("the ridge page's alpha", post["alpha"], low, high, 0.94)
        sentences.append(
            f"And the data choose the prior's width: with a prior on tau, alpha's posterior 94% "
            f"interval is [{low:.2g}, {high:.2g}], around the evidence maximum "
            f"{lam['evidence_alpha']:.2g} (the type-II maximum likelihood choice); {sentence(shown)}"
            + (f" ({user(ridge['reference_source'])}; the ridge page says what the evidence says "
               "of it)." if shown["outcome"] == "outside" else ".")
        )  # fmt: skip
    return " ".join(sentences)


def hero(results: dict) -> dict | None:
    """The front page's figure: the ridge page's most correlated pair, where the takeaway's first
    two sentences can be seen (sklearn = MAP at the mode of a tilted cloud), with its caption."""
    ridge = results.get("ridge")
    if ridge is None or not ridge["posterior"]["most_correlated"]:
        return None
    a, b, r = ridge["posterior"]["most_correlated"]
    return {
        "hero": "ridge/correlation.png",
        "hero_alt": "The most correlated pair of ridge coefficients: posterior draws, the exact "
        "94% region, scikit-learn's Ridge and the PyMC MAP",
        "hero_caption": f"Ridge on {ridge['data_source']}: the posterior draws of w[{a}] and "
        f"w[{b}] (correlation {r:+.2f}) with the exact 94% region; scikit-learn's Ridge (+) and "
        "the PyMC MAP (x) are the same point, the mode of the cloud. Right: every posterior "
        "correlation.",
    }


def _title(folder: Path) -> str:
    return (folder / "index.md").read_text().splitlines()[0].removeprefix("# ").replace("\\", "")


def write_index(reports: Path, run: dict | None = None) -> None:
    """Write reports/index.html and index.md from every folder holding results.json and a page;
    ``run`` (``wall_seconds``, ``processes``) describes the ``all`` run that made them."""
    known = experiments()
    rank = {name: i for i, name in enumerate(known)}
    folders = sorted(
        (
            p
            for p in reports.iterdir()
            if (p / "results.json").is_file() and (p / "index.html").is_file()
        ),
        key=lambda p: (rank.get(p.name, len(rank)), p.name),
    )
    results = {p.name: json.loads((p / "results.json").read_text()) for p in folders}
    table = [
        {"name": name, "spec": registry()[res["model"]], "res": res, "agreement": agreement(res)}
        for name, res in results.items()
        if res.get("model") in registry() and "max_rel_diff" in res
    ] + [  # an experiment of a model outside the registry states its row in results.json
        {"name": name, "spec": res["equivalence"], "res": res,
         "agreement": res["equivalence"]["agreement"]}
        for name, res in results.items()
        if "equivalence" in res
    ]  # fmt: skip
    cards = []
    for folder in folders:
        experiment = known.get(folder.name)
        if experiment is None or experiment.card is None:
            continue
        card = experiment.card(results[folder.name])
        cards.append({"name": folder.name, "title": _title(folder), "figure": card.figure,
                      "spans": inline(card.headline)})  # fmt: skip
    timings = []
    for folder in folders:
        path = folder / "timings.json"
        if path.is_file():
            t = json.loads(path.read_text())
            timings.append(
                {"name": folder.name, **{key: t.get(key, 0.0) for key in TIMING_COLUMNS}}
            )
    seeds = {res.get("settings", {}).get("seed") for res in results.values()} - {None}
    summary = takeaway(results)
    figure = hero(results) or {"hero": None, "hero_alt": "", "hero_caption": ""}
    context = {"title": "secretly-bayesian", "table": table, "cards": cards, "formula": FORMULA,
               "takeaway": inline(summary) if summary else None, **figure,
               "knobs": (reports / "knobs" / "index.html").is_file(), "timings": timings,
               "run": run,
               "total": {key: sum(t[key] for t in timings) for key in TIMING_COLUMNS},
               "prov": provenance(min(seeds) if len(seeds) == 1 else "per experiment", ["all"])}  # fmt: skip
    for filename in ("index.html", "index.md"):
        fd, tmp = tempfile.mkstemp(dir=reports, prefix=f".{filename}.")
        with os.fdopen(fd, "w") as handle:
            handle.write(render(f"{filename}.j2", **context))
        os.chmod(tmp, 0o644)
        os.replace(tmp, reports / filename)


__all__ = ["agreement", "write_index"]
