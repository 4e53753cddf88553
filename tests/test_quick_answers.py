"""Nothing to compute, nothing heavy imported: ``--help`` and every bad-input error are answered
before PyMC, PyTensor, ArviZ, scikit-learn, SciPy or matplotlib is imported.

Each case runs in one fresh interpreter (a test process has imported everything already); the
interpreter reports, case by case, the exit status, the message and which heavy modules are in
``sys.modules``. Seconds are measured by ``make bench`` (never asserted here).
"""

from __future__ import annotations

import bz2
import gzip
import json
import lzma
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
HEAVY = ("pymc", "pytensor", "arviz", "sklearn", "scipy", "matplotlib", "xarray", "nutpie",
         "numba", "dask", "distributed", "pandas")  # fmt: skip

PROBE = """
import contextlib, io, json, sys
sys.path.insert(0, {repo!r})
from experiments.__main__ import main

HEAVY = {heavy!r}
results = []
for argv in json.loads(sys.argv[1]):
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            status = main(argv)
        except SystemExit as exit:  # argparse's own --help
            status = exit.code
    results.append({{"argv": argv, "status": status, "err": err.getvalue().strip(),
                    "heavy": [m for m in HEAVY if m in sys.modules]}})
print(json.dumps(results))
"""


def _cases(tmp: Path) -> list[tuple[list[str], int, str]]:
    text = tmp / "text.csv"
    text.write_text("a,b,y\n1,2,3\n4,x,6\n")
    nan = tmp / "nan.csv"
    nan.write_text("a,b,y\n1,2,3\n4,nan,6\n7,8,9\n")
    good = tmp / "good.csv"
    good.write_text("a,b,y\n" + "".join(f"{i},{(i * 7) % 5},{i % 2}\n" for i in range(30)))
    few = tmp / "few.csv"
    few.write_text("a,b,c,y\n1,2,3,4\n2,1,0,5\n0,1,1,2\n3,0,2,1\n")  # n = p + 1 rows
    counts = tmp / "counts.csv"  # a negative count, then a non-integer one
    counts.write_text("a,b,neg,frac,zero\n1,2,3,3,3\n2,1,-1,1.5,0\n3,5,2,2,2\n4,4,1,1,1\n")
    one = tmp / "one.csv"  # a single class: a constant target, refused as such by the reader
    one.write_text("a,y\n" + "".join(f"{i},1\n" for i in range(30)))
    classes = tmp / "classes.csv"  # k: 2 classes; r: a class of 4 rows; h: a label 2.5
    classes.write_text("a,k,r,h\n" + "".join(
        f"{i},{i % 2},{i % 3 if i < 26 else 7},{2.5 if i == 0 else i % 3}\n"
        for i in range(30)))  # fmt: skip
    missing = str(tmp / "missing.csv")
    out = str(tmp / "out")
    rows = "".join(f"{i},{(i * 7) % 5},{i % 3}\n" for i in range(12))
    hostile = {  # file name -> (bytes, message): each a case of issue 23's input round
        "newline.csv": ('a,b,y\n"1\n2",3,4\n' + rows, "non-numeric value '1\\n2'"),
        "quote.csv": ('a,b,y\n"1"2,3,4\n' + rows, "not a readable CSV (line 2"),
        "nul.csv": ("a\x00b,c,y\n" + rows, "holds a control character"),
        "esc.csv": ("\x1b]0;pwn\x07,b,y\n" + rows, "holds a control character"),
        "bidi-dup.csv": (
            "\u200bab,\u200bab,y\n" + rows,
            "duplicate column names in the header: '\\u200bab'",
        ),
        "bidi-constant.csv": (
            "\u200bab,b,y\n" + "".join(f"1,{i},{i % 3}\n" for i in range(12)),
            "column(s) constant to 10 significant digits cannot be standardised: '\\u200bab'",
        ),
        "constant-y.csv": (
            "a,b,y\n"
            + "".join(f"{i},{i % 3},{0.1 * (1 + (i % 2) * 1e-16)!r}\n" for i in range(12)),
            "target column 'y' is constant",
        ),
        "zero-y.csv": ("a,b,y\n" + "".join(f"{i},{i % 3},0\n" for i in range(12)), "is constant"),
        "huge-y.csv": (
            "a,b,y\n" + "".join(f"{i},{i % 3},{(i + 1) * 1e200}\n" for i in range(12)),
            "whose squares overflow",
        ),
        "constant-x.csv": (
            "a,b,y\n" + "".join(f"{i},0.1,{i % 3}\n" for i in range(12)),
            "column(s) constant to 10 significant digits cannot be standardised: 'b'",
        ),
        "wide.csv": (",".join(f"x{j}" for j in range(50_000)) + ",x7,y\n" + rows, "'x7'"),
        "data.xz": (lzma.compress(b"a,b,y\n1,2,3\n"), "needs at least 3 data rows"),
        "data.bz2": (bz2.compress(b"a,b,y\n1,2,3\n"), "needs at least 3 data rows"),
        "tiny-y.csv": (
            "a,b,y\n" + "".join(f"{i},{i % 3},{i}e-200\n" for i in range(12)),
            "whose squares underflow",
        ),
        "subnormal-x.csv": (  # 50 distinct values read as fewer: rounded below float range
            "a,b,y\n" + "".join(f"{i},{i + 0.123}e-322,{i % 3}\n" for i in range(12)),
            "12 value(s) below float range",
        ),
        "lost-x.csv": (  # a non-zero cell that float64 reads as 0
            "a,b,y\n" + "".join(f"{i},{i % 5},{i % 3}\n" for i in range(11)) + "1,1e-400,2\n",
            "1 value(s) below float range (non-zero, under 2.23e-308 in size, so rounded or lost), "
            "first '1e-400' in column 'b' (data row 12)",
        ),
        "twice.gz": (gzip.compress(gzip.compress(b"a,b,y\n")), "compressed twice"),
        "data.zip": (b"PK\x03\x04" + bytes(40), "a zip archive, not a CSV"),
        "data.png": (b"\x89PNG\r\n\x1a\n" + bytes(40), "a PNG image, not a CSV"),
        "utf16-nobom.csv": ("a,b,y\n1,2,3\n".encode("utf-16-le"), "UTF-16 without a byte-order"),
    }
    for name, (content, _) in hostile.items():
        (tmp / name).write_bytes(content if isinstance(content, bytes) else content.encode())
    (tmp / "folder.csv").mkdir()
    os.mkfifo(tmp / "fifo.csv")
    (tmp / "loop.csv").symlink_to(tmp / "loop.csv")
    kinds = {"folder.csv": "is a directory", "fifo.csv": "is not a regular file",
             "loop.csv": "symlink loop"}  # fmt: skip
    data_cases = [
        (["ridge", "--data", str(tmp / name), "--target", "y", "--out", out], 2, message)
        for name, message in [*((n, m) for n, (_, m) in hostile.items()), *kinds.items()]
    ]
    return [
        *data_cases,
        (["all", "--data", str(good), "--target", "y"], 2, "run one experiment"),
        (["all", "--dat", str(good)], 2, "run one experiment"),
        (["ridge", "--alpha=\x1b]0;pwn\x07"], 2, "--alpha must be a positive"),
        (
            ["prior", "--from", "ridge", "--alpha", "1e-300", "--noise-sd", "1e300"],
            2,
            "out of range for a prior width",
        ),
        (
            ["prior", "--from", "lasso", "--alpha", "1e-320", "--noise-sd", "1e10", "--n", "1"],
            2,
            "out of range for a prior width",
        ),
        (["--help"], 0, ""),
        (["ridge", "--help"], 0, ""),
        (["all", "--help"], 0, ""),
        (["nosuch"], 2, "unknown experiment"),
        (["all", "--jobs", "0"], 2, "--jobs must be an integer"),
        (["all", "--bogus"], 2, "unrecognized arguments"),
        (["all", "--out", out], 2, "--out is for one experiment"),
        (["ridge", "--bogus"], 2, "unrecognized arguments"),
        (["ridge", "--alpha", "-1"], 2, "--alpha must be a positive"),
        (["lasso", "--seed", "-1"], 2, "--seed must be an integer"),
        (["elasticnet", "--l1-ratio", "1.5"], 2, "--l1-ratio must be between"),
        (["quantile", "--quantile", "1.5"], 2, "--quantile must be between 0 and 1"),
        (["quantile", "--quantile", "0"], 2, "--quantile must be between 0 and 1"),
        (["quantile", "--quantile", "nan"], 2, "--quantile must be between 0 and 1"),
        (["lambda", "--test-fraction", "2"], 2, "--test-fraction must be between"),
        (["ridge", "--out", "."], 2, "--out refusing"),
        (["ridge", "--target", "y"], 2, "--target is only meaningful with --data"),
        (["ridge", "--data", missing, "--target", "y"], 2, "not found"),
        (["ridge", "--data", str(text), "--target", "y"], 2, "non-numeric value 'x'"),
        (["lasso", "--data", str(nan), "--target", "y"], 2, "NaN/inf"),
        (["elasticnet", "--data", str(good), "--target", "q"], 2, "target column 'q' not found"),
        (["logistic", "--data", str(nan), "--target", "a"], 2, "NaN/inf"),
        (["logistic", "--data", str(good), "--target", "a"], 2, "binary 0/1 target"),
        (["ridge", "--data", str(few), "--target", "y", "--out", out], 2, "--noise-sd"),
        (
            ["multinomial", "--data", str(one), "--target", "y"],
            2,
            "is constant to 10 significant digits: nothing to fit",
        ),
        (["multinomial", "--data", str(classes), "--target", "k"], 2, "at least 3 distinct values"),
        (["multinomial", "--data", str(classes), "--target", "r"], 2, "too few: 7 (4 rows)"),
        (["multinomial", "--data", str(classes), "--target", "h"], 2, "1 rows outside it (2.5)"),
        (["sensitivity", "--data", str(good), "--target", "y"], 2, "--data is not supported"),
        (["scale", "--data", missing, "--target", "y"], 2, "no such file"),
        (["scale", "--data", str(text), "--target", "q"], 2, "target column 'q' not found"),
        (["scale", "--data", str(good)], 2, "needs --target"),
        (["poisson", "--data", str(counts), "--target", "neg"], 2, "count target"),
        (["poisson", "--data", str(counts), "--target", "frac"], 2, "outside it (1.5)"),
        (["gamma", "--data", str(counts), "--target", "zero"], 2, "positive target (y > 0)"),
        (["tweedie", "--data", str(counts), "--target", "zero"], 2, "positive target (y > 0)"),
        (["tweedie", "--power", "1.5"], 2, "compound Poisson-Gamma"),
        (["tweedie", "--power", "0.5"], 2, "no Tweedie distribution exists"),
        (["tweedie", "--power", "4"], 2, "only powers 0, 1, 2 and 3"),
    ]


@pytest.fixture(scope="module")
def answers(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("quick")
    cases = _cases(tmp)
    probe = PROBE.format(repo=str(REPO), heavy=HEAVY)
    done = subprocess.run([sys.executable, "-c", probe, json.dumps([c[0] for c in cases])],
                          capture_output=True, text=True, timeout=120, cwd=tmp)  # fmt: skip
    assert done.returncode == 0, done.stderr
    return cases, json.loads(done.stdout)


def test_bad_input_is_answered_before_any_heavy_import(answers):
    cases, results = answers
    for (argv, status, message), result in zip(cases, results, strict=True):
        assert result["status"] == status, (argv, result)
        if status:
            err = result["err"]
            assert err.startswith("error: ") and "\n" not in err and message in err, (argv, err)
            assert err.isprintable() and len(err) < 1000, (
                argv,
                err,
            )  # no escape reaches a terminal
        assert result["heavy"] == [], (argv, result["heavy"])


def test_the_probe_would_see_a_heavy_import(tmp_path):
    """The check itself can fail: a run that computes imports PyMC, and the probe says so."""
    probe = PROBE.format(repo=str(REPO), heavy=HEAVY)
    argv = [
        ["prior", "--from", "ridge", "--alpha", "1", "--noise-sd", "1"]
    ]  # a conversion: prints, imports SciPy
    done = subprocess.run([sys.executable, "-c", probe, json.dumps(argv)], capture_output=True,
                          text=True, timeout=120, cwd=tmp_path)  # fmt: skip
    (result,) = json.loads(done.stdout)
    assert result["status"] == 0 and "scipy" in result["heavy"], result
