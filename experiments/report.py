"""Experiment pages: one HTML page (self-contained, figures as files beside it) and a Markdown twin.

A page is a list of blocks; each block renders itself to both formats, so the two never drift.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from pathlib import Path

import arviz as az
import numpy as np

R_HAT_MAX = 1.01
ESS_MIN = 400

CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:1060px;margin:2rem auto;
padding:0 1rem;color:#1d232a;line-height:1.5}
h1{font-size:1.8rem;margin-bottom:.2rem}h2{border-bottom:1px solid #dde;padding-bottom:.2rem;
margin-top:2.2rem}
.claim{background:#f3f7fb;border-left:4px solid #2b6cb0;padding:.8rem 1rem;margin:1rem 0}
.formula{font-family:ui-monospace,Menlo,Consolas,monospace;background:#f6f6f4;padding:.6rem .8rem;
white-space:pre-wrap;border-radius:4px}
table{border-collapse:collapse;margin:.8rem 0;font-size:.88rem}
th,td{border:1px solid #d5d8dc;padding:.25rem .5rem;text-align:right}
th{background:#f0f2f4}td:first-child,th:first-child{text-align:left}
.ok{color:#1e7b34;font-weight:600}.fail{color:#b42318;font-weight:700}
.alert{background:#fdecea;border:1px solid #b42318;padding:.6rem 1rem;border-radius:4px}
figure{margin:1.2rem 0}figure img{max-width:100%;border:1px solid #e3e6ea}
figcaption{font-size:.9rem;color:#444}
footer{margin-top:3rem;font-size:.8rem;color:#555;border-top:1px solid #dde;padding-top:.6rem}
nav a{margin-right:1rem}code{background:#f3f3f3;padding:0 .2rem}
"""


def _cell(value) -> str:
    if isinstance(value, float | np.floating):
        value = float(value)
        if value == 0:
            return "0"
        if abs(value) >= 1e5 or abs(value) < 1e-3:
            return f"{value:.3e}"
        return f"{value:.4g}"
    return str(value)


@dataclass
class Block:
    """A piece of a page, rendered to both HTML and Markdown."""

    html: str
    markdown: str


@dataclass
class Page:
    """An experiment page under construction.

    Parameters
    ----------
    title : str
        Page title.
    out : Path
        Folder the page, its figures and its Markdown twin are written to.
    """

    title: str
    out: Path
    blocks: list[Block] = field(default_factory=list)

    def add(self, html_text: str, markdown: str) -> None:
        self.blocks.append(Block(html_text, markdown))

    def heading(self, text: str) -> None:
        anchor = "".join(c if c.isalnum() else "-" for c in text.lower()).strip("-")
        self.add(f'<h2 id="{anchor}">{html.escape(text)}</h2>', f"## {text}")

    def text(self, paragraph: str) -> None:
        """A paragraph; ``paragraph`` may use ``<code>``, ``<b>`` and ``<i>`` (also shown as Markdown)."""
        markdown = (
            paragraph.replace("<code>", "`").replace("</code>", "`").replace("<b>", "**")
            .replace("</b>", "**").replace("<i>", "*").replace("</i>", "*")
        )  # fmt: skip
        self.add(f"<p>{paragraph}</p>", markdown)

    def claim(self, text: str, formula: str) -> None:
        self.add(
            f'<div class="claim"><p>{text}</p><div class="formula">{html.escape(formula)}</div></div>',
            f"> {text}\n\n```\n{formula}\n```",
        )

    def bullets(self, items: list[str]) -> None:
        self.add(
            "<ul>" + "".join(f"<li>{item}</li>" for item in items) + "</ul>",
            "\n".join(f"- {item}" for item in items),
        )

    def code(self, source: str) -> None:
        self.add(f'<pre class="formula">{html.escape(source)}</pre>', f"```python\n{source}\n```")

    def table(self, header: list[str], rows: list[list], flags: list[bool] | None = None) -> None:
        """A table; rows whose flag is True are marked as failures in both formats."""
        flags = flags or [False] * len(rows)
        head = "".join(f"<th>{html.escape(str(h))}</th>" for h in header)
        body = "".join(
            f"<tr{' class=fail' if bad else ''}>"
            + "".join(f"<td>{html.escape(_cell(v))}</td>" for v in row)
            + "</tr>"
            for row, bad in zip(rows, flags, strict=True)
        )
        md = ["| " + " | ".join(map(str, header)) + " |", "|" + "---|" * len(header)]
        md += [
            "| " + " | ".join(_cell(v) for v in row) + (" ⚠" if bad else "") + " |"
            for row, bad in zip(rows, flags, strict=True)
        ]
        self.add(f"<table><tr>{head}</tr>{body}</table>", "\n".join(md))

    def figure(self, filename: str, caption: str) -> None:
        if not (self.out / filename).is_file():
            raise FileNotFoundError(f"figure {filename} was not written")
        self.add(
            f'<figure><img src="{filename}" alt="{html.escape(caption)}">'
            f"<figcaption>{caption}</figcaption></figure>",
            f"![{caption}]({filename})\n\n*{caption}*",
        )

    def diagnostics(self, rows: list[dict]) -> None:
        """The sampling diagnostics table, with any failure shown in a red banner above it."""
        failures = [row for row in rows if not row["ok"]]
        if failures:
            names = "; ".join(f"{row['fit']}: {', '.join(row['problems'])}" for row in failures)
            self.add(
                f'<div class="alert"><b>Sampling diagnostics failed</b> for {html.escape(names)}. '
                "Treat those posterior summaries with suspicion.</div>",
                f"> **⚠ Sampling diagnostics failed** for {names}.",
            )
        else:
            self.add(
                f'<p class="ok">All fits pass: no divergences, r_hat &le; {R_HAT_MAX}, '
                f"bulk and tail ESS &ge; {ESS_MIN}.</p>",
                f"All fits pass: no divergences, r_hat <= {R_HAT_MAX}, bulk and tail ESS >= {ESS_MIN}.",
            )
        self.table(
            ["fit", "chains x draws", "divergences", "max r_hat", "min ESS bulk", "min ESS tail",
             "status"],
            [[r["fit"], r["draws"], r["divergences"], r["max_r_hat"], r["min_ess_bulk"],
              r["min_ess_tail"], "ok" if r["ok"] else "FAILED"] for r in rows],
            [not r["ok"] for r in rows],
        )  # fmt: skip

    def arviz_summary(self, dt, var_names: list[str], prob: float = 0.94) -> None:
        """``az.summary`` of ``var_names`` as a table; rows failing r_hat or ESS are flagged."""
        summary = az.summary(dt, var_names=var_names, ci_kind="hdi", ci_prob=prob, round_to="none")
        low, high = f"hdi{prob * 100:.0f}_lb", f"hdi{prob * 100:.0f}_ub"
        columns = ["mean", "sd", low, high, "mcse_mean", "ess_bulk", "ess_tail", "r_hat"]
        rows = [[name, *(float(summary.loc[name, c]) for c in columns)] for name in summary.index]
        flags = [not (row[-1] <= R_HAT_MAX and min(row[-3], row[-2]) >= ESS_MIN) for row in rows]
        label = f"{prob:.0%}"
        self.table(["parameter", "mean", "sd", f"hdi {label} low", f"hdi {label} high", "mcse mean",
                    "ESS bulk", "ESS tail", "r_hat"], rows, flags)  # fmt: skip

    def footer(self, provenance: dict) -> None:
        versions = ", ".join(f"{k} {v}" for k, v in provenance["versions"].items())
        text = (
            f"Python {provenance['python']}; {versions}. Seed {provenance['seed']}. "
            f"Command: <code>{html.escape(provenance['command'])}</code>. "
            f"Git revision {html.escape(provenance['git_revision'])}."
        )
        self.add(
            f"<footer>{text}</footer>",
            "---\n\n" + text.replace("<code>", "`").replace("</code>", "`"),
        )

    def write(self) -> None:
        """Write ``index.html`` and ``index.md`` into the page's folder."""
        body = "\n".join(block.html for block in self.blocks)
        nav = '<nav><a href="../index.html">&larr; all experiments</a></nav>'
        (self.out / "index.html").write_text(
            "<!doctype html>\n<html lang=en><head><meta charset=utf-8>"
            f"<meta name=viewport content='width=device-width,initial-scale=1'>"
            f"<title>{html.escape(self.title)}</title><style>{CSS}</style></head>"
            f"<body>{nav}<h1>{html.escape(self.title)}</h1>\n{body}\n</body></html>\n"
        )
        markdown = "\n\n".join(block.markdown for block in self.blocks)
        (self.out / "index.md").write_text(f"# {self.title}\n\n{markdown}\n")


def sampling_diagnostics(fit: str, dt, var_names: list[str]) -> dict:
    """Divergences, worst r_hat and smallest bulk/tail ESS of one fit, with a pass/fail verdict."""
    posterior = dt["posterior"].dataset[var_names]
    chains, draws = posterior.sizes["chain"], posterior.sizes["draw"]
    divergences = int(dt["sample_stats"]["diverging"].sum())
    r_hat = float(max(az.rhat(posterior)[v].max() for v in var_names))
    ess_bulk = float(min(az.ess(posterior, method="bulk")[v].min() for v in var_names))
    ess_tail = float(min(az.ess(posterior, method="tail")[v].min() for v in var_names))
    problems = []
    if divergences:
        problems.append(f"{divergences} divergences")
    if not r_hat <= R_HAT_MAX:
        problems.append(f"r_hat {r_hat:.3f} > {R_HAT_MAX}")
    if not min(ess_bulk, ess_tail) >= ESS_MIN:
        problems.append(f"ESS {min(ess_bulk, ess_tail):.0f} < {ESS_MIN}")
    return {
        "fit": fit, "draws": f"{chains} x {draws}", "divergences": divergences,
        "max_r_hat": r_hat, "min_ess_bulk": ess_bulk, "min_ess_tail": ess_tail,
        "ok": not problems, "problems": problems,
    }  # fmt: skip
