"""--out never deletes what the suite did not write; report folders are atomic, readable, race-safe."""

from __future__ import annotations

import errno
import multiprocessing
import os
import stat
import subprocess
import sys

import pytest

from experiments.__main__ import main
from experiments.output import MARKER, atomic_output_dir, temporary_folder
from models.core.base import InputError


def _refused(argv, capsys) -> str:
    assert main(["ridge", "--quiet", *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "\n" not in err, err
    return err


def test_out_dot_in_a_project_is_refused(tmp_path, monkeypatch, capsys):
    project = tmp_path / "checkout"
    (project / ".git").mkdir(parents=True)
    (project / "README.md").write_text("mine")
    monkeypatch.chdir(project)
    assert "working directory" in _refused(["--out", "."], capsys)
    assert "working directory" in _refused(["--out", str(tmp_path)], capsys)  # an ancestor
    assert (project / "README.md").read_text() == "mine" and (project / ".git").is_dir()


def test_existing_file_is_refused(tmp_path, capsys):
    notes = tmp_path / "notes.txt"
    notes.write_text("keep me")
    assert "not a folder" in _refused(["--out", str(notes)], capsys)
    assert notes.read_text() == "keep me"


def test_folder_without_marker_is_refused(tmp_path, capsys):
    documents = tmp_path / "Documents"
    documents.mkdir()
    (documents / "thesis.tex").write_text("years of work")
    assert MARKER in _refused(["--out", str(documents)], capsys)
    assert (documents / "thesis.tex").read_text() == "years of work"


def test_root_and_unwritable_are_refused(tmp_path, capsys):
    _refused(["--out", "/"], capsys)
    if os.geteuid() != 0:  # root may write anywhere
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        assert "cannot write" in _refused(["--out", str(locked / "report")], capsys)


def test_report_folder_is_replaced_and_readable(tmp_path):
    out = tmp_path / "report"
    for round_ in range(2):
        with atomic_output_dir(out, "test") as folder:
            (folder / "results.json").write_text(str(round_))
    assert (out / "results.json").read_text() == "1" and (out / MARKER).is_file()
    mode = stat.S_IMODE(out.stat().st_mode)
    umask = os.umask(0)
    os.umask(umask)
    assert mode == 0o777 & ~umask  # not mkdtemp's 0700
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report"]


def test_failure_keeps_old_report_and_removes_new_parents(tmp_path):
    out = tmp_path / "report"
    with atomic_output_dir(out) as folder:
        (folder / "results.json").write_text("old")
    with pytest.raises(RuntimeError), atomic_output_dir(out) as folder:
        (folder / "results.json").write_text("half")
        raise RuntimeError("late failure")
    assert (out / "results.json").read_text() == "old"
    deep = tmp_path / "a" / "b" / "report"
    with pytest.raises(InputError), atomic_output_dir(deep):
        raise InputError("late input error")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report"]


def test_stale_temporary_folder_of_a_killed_run_is_removed(tmp_path):
    out = tmp_path / "report"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()  # fmt: skip
    (tmp_path / f".report.tmp-{dead}-abcd").mkdir()
    (tmp_path / f".report.tmp-{os.getpid()}-live").mkdir()  # a live run's folder is left alone
    with atomic_output_dir(out) as folder:
        (folder / "x").write_text("1")
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        f".report.tmp-{os.getpid()}-live",
        "report",
    ]


def _write_many(out: str, label: str, rounds: int) -> None:
    for k in range(rounds):
        with atomic_output_dir(out) as folder:
            (folder / "a").write_text(f"{label}{k}")
            (folder / "b").write_text(f"{label}{k}")


def test_two_processes_racing_on_the_same_out(tmp_path):
    out = tmp_path / "report"
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_write_many, args=(str(out), label, 150)) for label in "xy"]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert [w.exitcode for w in workers] == [0, 0]
    # The last to finish wins whole: both files come from the same write.
    assert (out / "a").read_text() == (out / "b").read_text()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report"]


def test_all_in_two_processes_gives_the_results_of_one(tmp_path):
    """``all --jobs 2`` spreads experiments over processes; every experiment is seeded, so the
    results are byte-identical to a one-process run (same machine), and the run is recorded."""
    import json
    import time

    from experiments.__main__ import run_all

    names, rest = ["knobs", "twin"], ["--quick", "--quiet"]
    for jobs in (1, 2):
        run_all(names, rest, jobs, time.perf_counter(), reports=tmp_path / f"jobs{jobs}")
    for name in names:
        one, two = ((tmp_path / f"jobs{j}" / name / "results.json").read_bytes() for j in (1, 2))
        assert one == two, name
    run = json.loads((tmp_path / "jobs2" / "timings.json").read_text())
    assert run["processes"] == 2 and set(run["experiments"]) == set(names)
    assert (tmp_path / "jobs2" / "index.html").is_file()


def test_unusable_paths_are_one_line(tmp_path, capsys):
    (tmp_path / "afile").write_text("x")
    assert "Not a directory" in _refused(["--out", str(tmp_path / "afile" / "report")], capsys)
    assert "too long" in _refused(["--out", str(tmp_path / ("x" * 300))], capsys)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile"]


def test_a_users_file_in_a_report_folder_is_never_deleted(tmp_path, capsys):
    out = tmp_path / "report"
    with atomic_output_dir(out, "test") as folder:
        (folder / "results.json").write_text("old")
    (out / "my notes.txt").write_text("mine")
    assert "does not list" in _refused(["--out", str(out)], capsys)
    with pytest.raises(InputError, match="does not list"), atomic_output_dir(out) as folder:
        (folder / "results.json").write_text("new")
    assert (out / "my notes.txt").read_text() == "mine" and (
        out / "results.json"
    ).read_text() == "old"
    (out / "my notes.txt").unlink()  # what the suite wrote is replaced as before
    with atomic_output_dir(out, "test") as folder:
        (folder / "results.json").write_text("new")
    assert (out / "results.json").read_text() == "new"


def test_a_write_failure_is_one_line_and_keeps_the_old_report(tmp_path, monkeypatch, capsys):
    out = tmp_path / "report"
    with atomic_output_dir(out, "knobs") as folder:
        (folder / "results.json").write_text("old")
    import experiments.common

    def disk_full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", "results.json")

    monkeypatch.setattr(experiments.common, "write_json", disk_full)
    assert main(["knobs", "--quick", "--quiet", "--out", str(out)]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: No space left on device") and "\n" not in err, err
    assert (out / "results.json").read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report"]


def test_stale_folders_are_swept_by_one_function(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()  # fmt: skip
    (tmp_path / f"data-{dead}-abcd").mkdir()
    with temporary_folder(tmp_path, "data-") as folder:
        assert folder.name.startswith(f"data-{os.getpid()}-")
        assert sorted(p.name for p in tmp_path.iterdir()) == [folder.name]
    assert not any(tmp_path.iterdir())


def test_a_report_folder_from_before_the_marker_listed_its_files_is_still_replaced(tmp_path):
    # such a marker has no "files": that version replaced the folder whole and refused foreign
    # files, so everything in it is the suite's
    out = tmp_path / "report"
    out.mkdir()
    (out / MARKER).write_text('{"written_by": "secretly-bayesian", "experiment": "ridge"}\n')
    (out / "results.json").write_text("old")
    with atomic_output_dir(out, "ridge") as folder:
        (folder / "results.json").write_text("new")
    assert (out / "results.json").read_text() == "new"
    assert '"files": ["results.json"]' in (out / MARKER).read_text()
