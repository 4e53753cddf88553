"""The render check every quick run in the tests goes through."""

from __future__ import annotations

from experiments.__main__ import main


def assert_renders_identically(folder) -> None:
    """``python -m experiments render DIR`` rebuilds the page the run wrote, byte for byte, from the
    folder's files alone (the pages read no in-memory state)."""
    written = {name: (folder / name).read_bytes() for name in ("index.html", "index.md")}
    for name in written:
        (folder / name).unlink()
    assert main(["render", str(folder)]) == 0
    for name, content in written.items():
        assert (folder / name).read_bytes() == content, f"render changed {name}"
