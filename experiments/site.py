"""reports/index.html: the front door, built from the results files (nothing typed by hand)."""

from __future__ import annotations

import html
import json
import os
import tempfile
from pathlib import Path

from experiments.report import CSS
from models import REGISTRY


def write_index(reports: Path) -> None:
    """Write reports/index.html and index.md listing every experiment folder with a results.json."""
    rows = []
    for folder in sorted(
        p
        for p in reports.iterdir()
        if (p / "results.json").is_file() and (p / "index.html").is_file()
    ):
        results = json.loads((folder / "results.json").read_text())
        spec = REGISTRY.get(results.get("model", ""))
        if spec is None:
            continue
        worst = max(results["max_rel_diff"])
        rows.append((folder.name, spec, worst, results["n_obs"], results["data_source"]))
    head = "<tr><th>experiment</th><th>penalty (scikit-learn)</th><th>prior</th><th>mapping</th><th>data</th><th>max relative difference MAP vs sklearn</th></tr>"
    body = "".join(
        f'<tr><td><a href="{name}/index.html">{name}</a></td><td>{html.escape(spec.objective)}</td>'
        f"<td>{html.escape(spec.prior)}</td><td>{html.escape(spec.mapping)}</td><td>{html.escape(src)} (n={n})</td>"
        f"<td>{worst:.2e}</td></tr>"
        for name, spec, worst, n, src in rows
    )
    page = (
        "<!doctype html>\n<html lang=en><head><meta charset=utf-8><title>secretly-bayesian</title>"
        f"<style>{CSS}</style></head><body><h1>secretly-bayesian</h1>"
        "<p>Every penalised estimator below is exactly the mode (MAP) of a Bayesian posterior. The table is "
        "read from each experiment's results.json; follow a link for the full posterior the estimate hides.</p>"
        f"<table>{head}{body}</table></body></html>\n"
    )
    markdown = [
        "# secretly-bayesian",
        "",
        "| experiment | penalty | prior | mapping | max rel diff |",
        "|---|---|---|---|---|",
    ]
    cell = lambda text: text.replace("|", "\\|")  # noqa: E731 - a pipe would end the Markdown cell
    markdown += [
        f"| [{n}]({n}/index.md) | {cell(s.objective)} | {cell(s.prior)} | {cell(s.mapping)} | {w:.2e} |"
        for n, s, w, _, _ in rows
    ]
    for name, text in (("index.html", page), ("index.md", "\n".join(markdown) + "\n")):
        fd, tmp = tempfile.mkstemp(dir=reports, prefix=f".{name}.")
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
        os.replace(tmp, reports / name)
