"""Experiment pages: section data rendered by Jinja2 to HTML (autoescaped) and to Markdown.

A :class:`Page` is a list of blocks (heading, paragraph, table, figure, ...), each plain data. The
HTML page and its Markdown twin are two templates over the same blocks, so they never drift, and
every piece of text is escaped on the way out: a CSV column named ``<script>`` is shown as text.

Author text may use two inline marks, ``**bold**`` and ```code```. Text from the user (column names,
targets, paths) is passed through :func:`user` when it is put into such a string, so that its own
``*`` and backticks stay characters; either way it can never become HTML.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from experiments import intervals
from models.core.base import printable
from models.inference.engines import BFMI_MIN, ESS_MIN, R_HAT_MAX
from models.inference.engines import sampling_diagnostics as sampling_diagnostics  # re-exported

TEMPLATES = Path(__file__).resolve().parent / "templates"

# an escaped character, **bold**, `code` (either may hold escaped characters, as user() makes
# them: an escaped backtick does not end a code span) or [text](page:NAME)
_INLINE = re.compile(
    r"\\(.)|\*\*((?:\\.|[^\\])+?)\*\*|`((?:\\.|[^\\`])+)`|\[([^\]\\]+)\]\(page:([a-z0-9_]+)\)", re.S
)
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]<>()#+!|~$])")


def user(text) -> str:
    """Quote user-supplied text for an author string: its ``*``, backticks, ``[`` and ``\\`` stay
    literal."""
    return re.sub(r"([\\*`[])", r"\\\1", str(text))


@dataclass(frozen=True)
class Span:
    """A run of inline text: ``kind`` is "text", "b" (bold), "code" or "link" (to the report page
    of the experiment ``target``)."""

    kind: str
    text: str
    target: str = ""


def inline(text: str) -> list[Span]:
    """Split author text into spans at ``**bold**``, ```code``` and ``[text](page:NAME)`` marks (a
    link to the sibling report page of experiment NAME); ``\\x`` is a literal x."""
    spans, plain, position = [], [], 0
    for match in _INLINE.finditer(text):
        plain.append(text[position : match.start()])
        escaped, bold, code, link, target = match.groups()
        if escaped is not None:
            plain.append(escaped)
        else:
            spans.append(Span("text", "".join(plain)))
            plain = []
            if link is not None:
                spans.append(Span("link", link, target))
            elif bold is not None:
                spans.append(Span("b", re.sub(r"\\(.)", r"\1", bold)))
            else:
                spans.append(Span("code", re.sub(r"\\(.)", r"\1", code)))
        position = match.end()
    plain.append(text[position:])
    spans.append(Span("text", "".join(plain)))
    return [span for span in spans if span.text]


def markdown_escape(text) -> str:
    """Escape Markdown's special characters (and ``&``) so text is shown, never interpreted; line
    breaks (``\\n``, ``\\r``) become spaces, so text never leaves its paragraph."""
    text = _MARKDOWN_SPECIAL.sub(r"\\\1", str(text).replace("&", "&amp;"))
    return text.replace("\r\n", " ").replace("\n", " ").replace("\r", " ")


def markdown_code(text) -> str:
    """A Markdown code span that survives backticks inside ``text``; control characters and line
    breaks are written as their escapes (``\\n``), so the span never leaves its line or paragraph."""
    text = printable(str(text))
    fence = "`" * (max((len(run) for run in re.findall("`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def number(value, digits: int = 3) -> str:
    """A number in a sentence: ``digits`` significant digits, scientific when large or tiny."""
    value = float(value)
    if value == 0 or not np.isfinite(value):
        return "0" if value == 0 else str(value)
    if abs(value) >= 1e5 or abs(value) < 1e-3:
        return f"{value:.{digits - 1}e}"
    return f"{value:.{digits}g}"


def cell(value) -> str:
    """One table cell as text: floats to 4 significant digits (scientific when large or tiny)."""
    return number(value, 4) if isinstance(value, float | np.floating) else str(value)


def anchor(text: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in text.lower()).strip("-")


_environment = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(["html", "html.j2"]),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)


_environment.filters.update(
    md=markdown_escape, mdcode=markdown_code, inline=inline, user=user, num=number,
    prob=lambda p: f"{float(p):.3f}" if 0.0005 <= float(p) <= 0.9995 else f"{float(p):.3g}",
    pct=lambda x: f"{float(x):.1%}",
)  # fmt: skip


def sentence(verdict: dict) -> str:
    """The sentence for a verdict's outcome (author text), from its macro in verdicts.txt.j2."""
    macro = getattr(_environment.get_template("verdicts.txt.j2").module, verdict["kind"])
    return str(macro(verdict)).strip()


def render(template: str, **context) -> str:
    """Render one of the templates in experiments/templates."""
    return _environment.get_template(template).render(**context)


@dataclass
class Page:
    """An experiment page under construction: a title and a list of blocks (plain data).

    Parameters
    ----------
    title : str
        Page title.
    out : Path
        Folder the page, its figures and its Markdown twin are written to.
    """

    title: str
    out: Path
    blocks: list[dict] = field(default_factory=list)
    timings: dict = field(default_factory=dict)
    has_diagnostics: bool = False  # whether the diagnostics table is on the page

    def verdict_box(self, box: dict) -> None:
        """The box every page opens with: the claim, whether it was verified (one number against
        its bound), a few computed sentences on what the posterior adds, and one line per model
        check, each green, amber or red. ``box`` is the ``verdict_box`` of results.json."""
        self.blocks.insert(0, {
            "kind": "box", "claim": inline(box["claim"]),
            "verified": self._line(box["verified"]) if box.get("verified") else None,
            "adds": [self._line(v) for v in box.get("adds", [])],
            "checks": [{**self._line(v), "label": v.get("label", "")} for v in box.get("checks", [])],
        })  # fmt: skip

    @staticmethod
    def _line(verdict: dict) -> dict:
        text = verdict["text"] if verdict["kind"] == "text" else sentence(verdict)
        return {"spans": inline(text), "level": verdict.get("level", "info")}

    def verdict(self, verdict: dict, prefix: str = "") -> None:
        """A paragraph that states a verdict, coloured by its level."""
        line = self._line(verdict)
        self.blocks.append({"kind": "verdict", "spans": inline(prefix) + line["spans"],
                            "level": line["level"]})  # fmt: skip

    def heading(self, text: str) -> None:
        self.blocks.append({"kind": "heading", "text": text, "id": anchor(text)})

    def text(self, paragraph: str) -> None:
        """A paragraph of author text (``**bold**``, ```code```; user text through :func:`user`)."""
        self.blocks.append({"kind": "paragraph", "spans": inline(paragraph)})

    def claim(self, text: str, formula: str) -> None:
        self.blocks.append({"kind": "claim", "spans": inline(text), "formula": formula})

    def bullets(self, items: list[str]) -> None:
        self.blocks.append({"kind": "bullets", "items": [inline(item) for item in items]})

    def code(self, source: str) -> None:
        self.blocks.append({"kind": "code", "source": source})

    def alert(self, text: str) -> None:
        """A red banner: a failure the reader must see."""
        self.blocks.append({"kind": "alert", "spans": inline(text)})

    def table(
        self, header: list[str], rows: list[list], flags: list[bool] | None = None, css: str = ""
    ) -> None:
        """A table; rows whose flag is True are marked as failures (red, and ⚠ in Markdown);
        ``css="text"`` left-aligns every column (formulas, derivations), not only the first."""
        flags = flags or [False] * len(rows)
        self.blocks.append({
            "kind": "table", "header": [str(h) for h in header], "css": css,
            "rows": [{"cells": [cell(v) for v in row], "fail": bool(bad)}
                     for row, bad in zip(rows, flags, strict=True)],
        })  # fmt: skip

    def figure(self, filename: str, caption: str, observe: dict | str | None = None) -> None:
        """A figure with its caption and, under it, the one-line "Observe:" verdict: a verdict
        (its sentence) or author text computed from this run's numbers."""
        if not (self.out / filename).is_file():
            raise FileNotFoundError(f"figure {filename} was not written")
        if isinstance(observe, str):
            observe = {"kind": "text", "text": observe}
        self.blocks.append({"kind": "figure", "file": filename, "caption": caption,
                            "observe": self._line(observe) if observe else None})  # fmt: skip

    def diagnostics(self, rows: list[dict]) -> None:
        """The sampling (and MAP) diagnostics table; any failure is a red banner above it."""
        self.has_diagnostics = True
        failures = [row for row in rows if not row["ok"]]
        if failures:
            names = "; ".join(f"{row['fit']}: {', '.join(row['problems'])}" for row in failures)
            self.alert(
                f"**Diagnostics failed** for {user(names)}. Treat those results with suspicion."
            )
        else:
            self.blocks.append({"kind": "ok", "spans": inline(
                f"All fits pass: no divergences, r_hat ≤ {R_HAT_MAX}, bulk and tail ESS ≥ "
                f"{ESS_MIN}, E-BFMI ≥ {BFMI_MIN}; every MAP certified."
            )})  # fmt: skip
        self.table(
            ["fit", "chains x draws", "divergences", "max tree depth hits", "min E-BFMI",
             "max r_hat", "min ESS bulk", "min ESS tail", "status"],
            [[r["fit"], r["draws"], r["divergences"], r["max_treedepth_hits"], r["min_bfmi"],
              r["max_r_hat"], r["min_ess_bulk"], r["min_ess_tail"], "ok" if r["ok"] else "FAILED"]
             for r in rows],
            [not r["ok"] for r in rows],
        )  # fmt: skip

    def arviz_summary(self, record: dict) -> None:
        """The table of :func:`experiments.intervals.summary_record` (``az.summary`` with the
        suite's interval, stored in results.json); rows failing r_hat / ESS flagged."""
        columns = ["mean", "sd", "low", "high", "mcse_mean", "ess_bulk", "ess_tail", "r_hat"]
        rows = [
            [name, *(record[c][i] for c in columns)] for i, name in enumerate(record["parameter"])
        ]
        flags = [not (row[-1] <= R_HAT_MAX and min(row[-3], row[-2]) >= ESS_MIN) for row in rows]
        self.table(["parameter", "mean", "sd", *intervals.labels(), "mcse mean", "ESS bulk",
                    "ESS tail", "r_hat"], rows, flags)  # fmt: skip

    def load_snippet(self, filename: str, var_names: list[str], comment: str = "") -> None:
        """Code that reproduces this page's summary of a saved posterior, interval included."""
        note = f"  # {comment}" if comment else ""
        self.code(
            f'import arviz as az\n\ndt = az.from_netcdf("{filename}"){note}\n'
            f"az.summary(dt, var_names={var_names!r}, {intervals.SUMMARY_KWARGS})"
        )

    def write(self, provenance: dict) -> None:
        """Write ``index.html`` and ``index.md`` (same blocks, two templates) with the footer."""
        context = {"title": self.title, "blocks": self.blocks, "prov": provenance}
        (self.out / "index.html").write_text(render("page.html.j2", **context))
        (self.out / "index.md").write_text(render("page.md.j2", **context))


def map_diagnostics(fit: str, converged: bool, message: str) -> dict:
    """A diagnostics row for MAP solves: certified or not (shown in red, with ``message``, when not)."""
    return {
        "fit": fit, "draws": "MAP", "divergences": "", "max_treedepth_hits": "", "min_bfmi": "",
        "max_r_hat": "", "min_ess_bulk": "", "min_ess_tail": "", "ok": converged,
        "problems": [] if converged else [message],
    }  # fmt: skip
