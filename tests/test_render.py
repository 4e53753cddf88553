"""``python -m experiments render DIR``: a report rebuilt from its files, and its bad inputs."""

from __future__ import annotations

import json

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
