"""``python -m experiments render DIR``: a report rebuilt from its files, and its bad inputs."""

from __future__ import annotations

import json

import pytest
from render_check import assert_renders_identically

from experiments.__main__ import main


def test_render_rebuilds_the_ridge_page_byte_for_byte(run_quick):
    folder, results = run_quick("ridge")
    assert_renders_identically(folder)
    box = results["verdict_box"]
    assert box["verified"]["kind"] == "agreement" and box["checks"][-1]["label"] == "Sampler"
    # the page opens with the box, before any section heading
    html = (folder / "index.html").read_text()
    assert html.index('class="box"') < html.index("<h2")


def test_render_reads_results_not_memory(run_quick, tmp_path):
    """Change a number in results.json: the rebuilt page shows the new number."""
    folder, _ = run_quick("ridge")
    copy = tmp_path / "copy"
    copy.mkdir()
    for path in folder.iterdir():
        (copy / path.name).write_bytes(path.read_bytes())
    results = json.loads((copy / "results.json").read_text())
    results["verdict_box"]["verified"]["value"] = 0.123456
    (copy / "results.json").write_text(json.dumps(results))
    assert main(["render", str(copy)]) == 0
    assert "0.123" in (copy / "index.md").read_text()


def test_render_refuses_what_is_not_a_report(tmp_path, capsys):
    assert main(["render", str(tmp_path)]) == 2
    assert "not a report folder" in capsys.readouterr().err
    assert main(["render"]) == 2
    (tmp_path / "results.json").write_text("{}")
    (tmp_path / "provenance.json").write_text('{"experiment": "nope"}')
    assert main(["render", str(tmp_path)]) == 2
    assert "unknown experiment" in capsys.readouterr().err
    (tmp_path / "provenance.json").write_text('{"experiment": ["ridge"]}')  # not a name
    assert main(["render", str(tmp_path)]) == 2
    assert "unreadable provenance.json" in capsys.readouterr().err


def test_front_page_markdown_timings_table_is_one_table(run_quick, tmp_path):
    """The index.md table of timings: header, separator, one row per experiment and the total,
    on contiguous lines after a blank line (a blank line inside would end the table)."""
    import shutil

    from experiments.site import write_index

    folder, _ = run_quick("ridge")
    shutil.copytree(folder, tmp_path / "ridge")
    shutil.copytree(folder, tmp_path / "second")  # an unregistered folder still gets a row
    write_index(tmp_path, {"wall_seconds": 12.0, "processes": 2})
    lines = (tmp_path / "index.md").read_text().splitlines()
    start = lines.index("| experiment | wall | imports | compile | sampling | figures | writing |")
    assert lines[start - 1] == ""
    end = next(i for i in range(start, len(lines)) if lines[i].startswith("| **total**"))
    table = lines[start : end + 1]
    assert len(table) == 2 + 2 + 1 and all(line.startswith("|") for line in table), table


def test_page_links_in_author_text_only(tmp_path):
    """``[text](page:NAME)`` in author text links to a sibling report page, in both templates;
    the same characters in user text stay literal."""
    from experiments.common import provenance
    from experiments.report import Page, inline, user

    assert [(s.kind, s.text, s.target) for s in inline("see [the ridge page](page:ridge).")] == [
        ("text", "see ", ""), ("link", "the ridge page", "ridge"), ("text", ".", "")]  # fmt: skip
    assert [s.kind for s in inline(user("[x](page:ridge)"))] == ["text"]
    page = Page("t", tmp_path)
    page.text("the [ridge page](page:ridge) and " + user("[y](page:lasso)"))
    page.write(provenance(0, ["test"]))
    html, md = (tmp_path / "index.html").read_text(), (tmp_path / "index.md").read_text()
    assert '<a href="../ridge/index.html">ridge page</a>' in html and "lasso/index" not in html
    assert "[ridge page](../ridge/index.md)" in md and "lasso/index" not in md


@pytest.mark.parametrize("name", ["we`ird*_reg.csv", "`tick`", "**bold**", "back\\slash`", "a``b"])
def test_user_text_in_a_code_or_bold_span_stays_one_span_of_itself(name):
    # an escaped backtick used to end the code span: a path with one was cut in two, half the
    # sentence set as code and a stray backslash shown (hostile-input audit)
    from experiments.report import inline, user

    for mark, kind in (("`", "code"), ("**", "b")):
        spans = inline(f"Data: {mark}{user(name)}{mark}, 80 rows.")
        assert [(s.kind, s.text) for s in spans] == [
            ("text", "Data: "), (kind, name), ("text", ", 80 rows.")]  # fmt: skip


def test_every_recorded_fit_is_shown_even_without_a_diagnostics_section(tmp_path):
    # the sparse page recorded 12 fits (7 failing) and graded them with no table on the page
    import json

    from experiments.runner import PROVENANCE, Experiment, Section, render_folder

    failing = {"fit": "horseshoe, seed 1", "draws": "4 x 1000", "divergences": 8,
               "max_treedepth_hits": 0, "min_bfmi": 0.9, "max_r_hat": 1.0, "min_ess_bulk": 194.0,
               "min_ess_tail": 300.0, "ok": False, "problems": ["8 divergences"]}  # fmt: skip
    (tmp_path / "results.json").write_text(json.dumps({"diagnostics": [failing]}))
    from experiments.common import provenance

    (tmp_path / PROVENANCE).write_text(json.dumps({"footer": provenance(0, ["test"])}))
    bare = Experiment(name="bare", title="Bare", description="d", settings=lambda quick: {},
                      sections=(Section(page=lambda page, results: page.text("body")),))  # fmt: skip
    render_folder(bare, tmp_path)
    md = (tmp_path / "index.md").read_text()
    assert "Sampling diagnostics" in md and "horseshoe, seed 1" in md and "8 divergences" in md
