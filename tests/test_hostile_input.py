"""No traceback and no silent nonsense, whatever the input: a report, or one line and exit 2."""

from __future__ import annotations

import bz2
import gzip
import json
import lzma
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from experiments.__main__ import main
from experiments.common import read_csv
from experiments.family import MAX_FEATURES
from experiments.output import MARKER
from models.core.base import InputError
from models.core.data import standardize

HEADER_Y = "a,b,y\n"
ROWS = "".join(f"{i},{(i * 7) % 5},{2 * i + (i % 3)}\n" for i in range(1, 13))


def _one_line(argv, capsys, message) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "\n" not in err and message in err, err


@pytest.mark.parametrize(
    ("encode", "suffix"),
    [(lambda t: gzip.compress(t.encode()), ".csv.gz"), (lambda t: t.encode("latin-1"), ".csv"),
     (lambda t: t.encode("utf-16"), ".csv"), (lambda t: t.encode("utf-8-sig"), ".csv"),
     (lambda t: t.replace(",", ";").encode(), ".csv"), (lambda t: lzma.compress(t.encode()), ".csv.xz"),
     (lambda t: bz2.compress(t.encode()), ".csv.bz2"), (lambda t: t.replace(",", "\t").encode(), ".tsv"),
     (lambda t: t.replace("\n", "\r\n").encode(), ".csv"),
     (lambda t: t.replace(",", ',"', 1).replace("b,", 'b",', 1).encode(), ".csv"),
     (lambda t: t.encode("utf-32"), ".csv")],
    ids=["gzip", "latin-1", "utf-16", "utf-8 BOM", "semicolons", "xz", "bzip2", "tabs", "CRLF",
         "quoted name", "utf-32"],
)  # fmt: skip
def test_csv_encodings_and_delimiters_are_read(tmp_path, encode, suffix):
    path = tmp_path / f"data{suffix}"
    path.write_bytes(encode("é," + HEADER_Y[2:] + ROWS))  # a non-ASCII first column name
    X, y, names = read_csv(path, "y")
    assert names == ["é", "b"] and X.shape == (12, 2) and y[0] == 3.0


TWO = "".join(f"{i},{i % 4}\n" for i in range(5))  # well-formed rows for two columns
BAD_CSV = {
    "duplicate names": ("a,a,y\n1,2,3\n", "duplicate column names in the header: 'a'"),
    "empty name": ("a,,y\n1,2,3\n", "column 2 of the header has no name"),
    "underscore digits": ("a,y\n" + TWO + "1_0,2\n", "non-numeric value '1_0'"),
    "arabic-indic digits": ("a,y\n" + TWO + "\u0661\u0662,2\n", "non-numeric value"),
    "huge field": ("a,y\n" + TWO + "1" * 200_000 + "x,2\n", "non-numeric value '111"),
    # RFC 4180: a quoted field keeps its line break (one cell, not a number), a stray quote is an error
    "quoted line break": ('a,y\n"1\n2",3\n' + TWO, "non-numeric value '1\\\\n2'"),
    "quoted CRLF": ('a,y\r\n"1\r\n2",3\r\n' + TWO, "non-numeric value '1\\\\r\\\\n2'"),
    "text after a quote": ('a,y\n"1"2,3\n' + TWO, "not a readable CSV \\(line 2"),
    "unclosed quote": ("a,y\n" + TWO + '"1,3\n', "not a readable CSV"),
    "quoted delimiter": ('a,y\n"1,5",3\n' + TWO, "non-numeric value '1,5'"),
    "empty cell": ("a,y\n,3\n" + TWO, "non-numeric value '' in column 'a'"),
    "NUL in a name": ("a\x00,y\n" + TWO, "control character"),
    "line break in a quoted name": ('"a\nb",y\n' + TWO, "control character"),
    "direction override in a name": ("\u202ea,y\n" + TWO, "control character"),
    "line separator in a name": ("a\u2028b,y\n" + TWO, "control character"),
    "beyond float range": ("a,y\n" + TWO + "1e400,2\n", "first '1e400' in column 'a'"),
    "no-break spaces": ("a,y\n" + TWO + "\xa01\xa0,2\n", "non-numeric value '\\\\xa01\\\\xa0'"),
    "hex float": ("a,y\n" + TWO + "0x1p3,2\n", "non-numeric value '0x1p3'"),
    "thousands separator": ("a;y\n1;2\n3;4\n1.000,5;6\n", "non-numeric value '1.000,5'"),
}


@pytest.mark.parametrize("case", list(BAD_CSV))
def test_bad_csv_is_one_line(tmp_path, case):
    text, message = BAD_CSV[case]
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(InputError, match=message):
        read_csv(path, "y")


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_unreadable_file_is_one_line(tmp_path):
    path = tmp_path / "locked.csv"
    path.write_text(HEADER_Y + ROWS)
    path.chmod(0)
    with pytest.raises(InputError, match="cannot read"):
        read_csv(path, "y")


def test_a_quoted_number_is_a_number(tmp_path):
    path = tmp_path / "quoted.csv"
    path.write_text('"a","y"\n"1.5",2\n" 2e1 ",3\n"-3",4\n')
    X, y, names = read_csv(path, "y")
    assert names == ["a"] and X[:, 0].tolist() == [1.5, 20.0, -3.0] and y.tolist() == [2, 3, 4]


@pytest.mark.parametrize(
    ("argv", "message"),
    [(["prior", "--from", "ridge", "--alpha", "1e-300", "--noise-sd", "1e300"], "prior width"),
     (["prior", "--from", "lasso", "--alpha", "1e-320", "--noise-sd", "1e10", "--n", "1"], "prior width"),
     (["lasso", "--noise-sd", "1e200"], "--noise-sd 1e+200: computing the penalty or prior width"),
     (["elasticnet", "--noise-sd", "1e200"], "--noise-sd 1e+200: computing the penalty"),
     (["ridge", "--prior-sd", "1e-200"], "--prior-sd 1e-200: computing the penalty or prior width"),
     (["ridge", "--prior-sd", "1e200"], "--prior-sd 1e+200 gives alpha = 0: out of float range"),
     (["ridge", "--alpha", "1e-320"], "out of range for a prior width"),
     (["logistic", "--C", "1e300"], "--C 1e+300 gives prior_sd = 1e+150: out of range"),
     (["all", "--data", "x.csv", "--target", "y"], "run one experiment"),
     (["prior", "--from", "logistic", "--C", "1e-320"], "gives prior_sd = 0: out of range"),
     (["lasso", "--lam", "1e-320"], "--lam 9.99989e-321 gives a Laplace scale"),
     (["elasticnet", "--alpha", "1e300", "--l1-ratio", "0.5"], "--l1-ratio 0.5 gives prior_sd"),
     (["elasticnet", "--alpha", "1", "--l1-ratio", "0.5", "--noise-sd", "0.1", "--prior-sd", "1"],
      "unrecognized arguments: --prior-sd"),
     (["ridge", "--alpha", "1", "--prior-sd", "1"], "--prior-sd not allowed with argument --alpha")],
    ids=["prior ridge overflow", "prior lasso zero division", "lasso sigma", "elasticnet sigma",
         "ridge tiny tau", "ridge huge tau", "ridge subnormal alpha", "logistic C", "all --data",
         "prior tiny C", "lasso tiny lam", "elasticnet both penalties", "elasticnet no prior-sd",
         "ridge alpha and tau"],
)  # fmt: skip
def test_derived_quantities_out_of_range_are_one_line(tmp_path, capsys, argv, message):
    out = ["--out", str(tmp_path / "o")] if argv[0] not in ("prior", "all") else []
    _one_line([*argv, *out], capsys, message)
    assert not (tmp_path / "o").exists()


def test_hostile_path_and_names_stay_in_their_span_and_size(tmp_path):
    """A data path with blank lines and HTML, a 10,000-character column name and one with
    maths, markup and an invisible character: a correct report, whose Markdown keeps every
    user text inside its code span or paragraph, whose HTML escapes it, and whose figures keep
    their size."""
    from PIL import Image

    rng = np.random.default_rng(5)
    folder = tmp_path / "a\n\n<img src=x onerror=alert(1)>\n\n![](x.png)\n\n"
    folder.mkdir()
    long_name, odd_name = "L" * 10_000, "\u200b$x^{2 <b>"
    x = rng.normal(size=(40, 2))
    data = folder / "b.csv"
    data.write_text(f"{long_name},\"{odd_name}\",y\n" + "".join(
        f"{a:.17g},{b:.17g},{3 * a - b + c:.17g}\n" for a, b, c in zip(*x.T, rng.normal(size=40), strict=True)))  # fmt: skip
    out = tmp_path / "report"
    assert main(["ridge", "--quick", "--quiet", "--data", str(data), "--target", "y",
                 "--out", str(out)]) == 0  # fmt: skip
    markdown = (out / "index.md").read_text()
    for line in markdown.splitlines():
        assert not line.lstrip().startswith(("<img", "![](")), line
    assert "<img src=x" not in (out / "index.html").read_text()
    for figure in out.glob("*.png"):
        width, height = Image.open(figure).size
        assert width < 3000 and height < 3000, (figure.name, width, height)


def test_standardize_is_exact_for_huge_and_tiny_columns():
    rng = np.random.default_rng(0)
    base = rng.normal(size=(50, 2))
    X = base * np.array([1e300, 1e-300]) + np.array([3e300, 5e-300])
    scaled, mean, scale = standardize(X, ["huge", "tiny"])
    expected = (base - base.mean(axis=0)) / base.std(axis=0)
    # Dividing by the column's peak first keeps every square finite: agreement to round-off.
    np.testing.assert_allclose(scaled, expected, atol=1e-12)
    assert np.all(np.isfinite(mean)) and np.all(np.isfinite(scale))
    np.testing.assert_allclose(scale, base.std(axis=0) * np.array([1e300, 1e-300]), rtol=1e-12)


def test_one_feature_and_markup_in_names_give_a_report(tmp_path):
    rng = np.random.default_rng(2)
    x = rng.normal(size=(40, 2))
    y = 3 * x[:, 0] - x[:, 1] + rng.normal(size=40)
    one = tmp_path / "one.csv"
    np.savetxt(one, np.column_stack([x[:, 0], y]), delimiter=",", header="a,y", comments="")
    assert main(["ridge", "--quick", "--quiet", "--data", str(one), "--target", "y",
                 "--out", str(tmp_path / "one")]) == 0  # fmt: skip
    assert json.loads((tmp_path / "one" / "results.json").read_text())["feature_names"] == ["a"]
    maths = tmp_path / "maths.csv"
    maths.write_text("cost ($),$x^{2,y\n" + "".join(f"{a:.6f},{b:.6f},{c:.6f}\n" for a, b, c in
                                                     zip(x[:, 0], x[:, 1], y, strict=True)))  # fmt: skip
    assert main(["elasticnet", "--quick", "--quiet", "--data", str(maths), "--target", "y",
                 "--out", str(tmp_path / "maths")]) == 0  # fmt: skip
    assert "cost ($)" in (tmp_path / "maths" / "index.html").read_text()


def _csv(tmp_path, X, y, name="d.csv"):
    path = tmp_path / name
    header = ",".join(f"x{j}" for j in range(X.shape[1])) + ",y"
    np.savetxt(path, np.column_stack([X, y]), delimiter=",", header=header, comments="")
    return str(path)


def test_option_and_data_errors_are_one_line(tmp_path, capsys):
    rng = np.random.default_rng(3)
    out = ["--quiet", "--out", str(tmp_path / "o")]
    _one_line(["ridge", "--alpha=1e308", *out], capsys, "out of range for a prior width")
    _one_line(["ridge", "--seed", "-1", *out], capsys, "--seed must be an integer")
    _one_line(["ridge", "--seed", str(2**70), *out], capsys, "--seed must be an integer")
    wide = _csv(tmp_path, rng.normal(size=(5, 20)), rng.normal(size=5))
    _one_line(["ridge", "--data", wide, "--target", "y", *out], capsys, "--noise-sd")
    y = np.zeros(500)
    y[7] = 1
    single = _csv(tmp_path, rng.normal(size=(500, 2)), y, "single.csv")
    _one_line(["logistic", "--data", single, "--target", "y", *out], capsys, "rows of each class")
    assert not (tmp_path / "o").exists()


def test_more_features_than_rows_with_noise_sd_gives_a_report(tmp_path):
    rng = np.random.default_rng(4)
    X = rng.normal(size=(12, 20))  # p > n: no least-squares fit, yet a proper posterior
    data = _csv(tmp_path, X, X[:, 0] + rng.normal(size=12))
    out = tmp_path / "wide"
    argv = ["elasticnet", "--quick", "--quiet", "--data", data, "--target", "y", "--noise-sd", "1",
            "--out", str(out)]  # fmt: skip
    assert main(argv) == 0
    results = json.loads((out / "results.json").read_text())
    assert results["noise_sd"] == 1.0 and max(results["max_rel_diff"]) <= 1e-8


def test_more_columns_than_nuts_can_take_are_refused_at_once(tmp_path, capsys):
    rng = np.random.default_rng(5)
    columns = MAX_FEATURES + 1
    data = _csv(tmp_path, rng.normal(size=(12, columns)), rng.normal(size=12))
    out = tmp_path / "o"
    argv = ["ridge", "--quiet", "--data", data, "--target", "y", "--noise-sd", "1",
            "--out", str(out)]  # fmt: skip
    _one_line(argv, capsys, f"{columns} feature columns: this page samples the posterior by NUTS")
    assert not out.exists()


STOPS = [(signal.SIGINT, 130), (signal.SIGTERM, 143), (signal.SIGHUP, 129), (signal.SIGQUIT, 131)]


# A stop signal whose handler ran inside a finaliser (JAX registers a garbage-collector callback):
# its KeyboardInterrupt cannot propagate from there. The runner raises it again in the main thread.
FINALISER_INTERRUPTED = """
import signal, time
from experiments import runner
runner.stop_signals_as_interrupt()
runner._stopped_by.append(signal.SIGHUP)  # as if SIGHUP's handler ran in the finaliser below
class Finaliser:
    def __del__(self):
        raise KeyboardInterrupt("SIGHUP")
try:
    Finaliser()  # collected at once: its finaliser raises
    for _ in range(2000):
        time.sleep(0.001)
except KeyboardInterrupt:
    print("redelivered", runner.stopped_by() == signal.SIGHUP)
"""


def test_an_interrupt_inside_a_finaliser_is_raised_again_in_the_main_thread():
    done = subprocess.run([sys.executable, "-c", FINALISER_INTERRUPTED], capture_output=True,
                          text=True, timeout=60)  # fmt: skip
    assert done.stdout.strip() == "redelivered True", done.stderr
    assert "Exception ignored" not in done.stderr and "Traceback" not in done.stderr, done.stderr


@pytest.mark.parametrize(("sig", "code"), STOPS, ids=lambda v: getattr(v, "name", str(v)))
def test_interruption_keeps_the_old_report(tmp_path, sig, code):
    out = tmp_path / "report"
    out.mkdir()
    (out / MARKER).write_text(json.dumps({"files": ["results.json"]}))
    (out / "results.json").write_text("old")
    proc = subprocess.Popen(
        [sys.executable, "-m", "experiments", "ridge", "--quick", "--out", str(out)],
        stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    lines = []
    for line in proc.stderr:  # wait until sampling has started
        lines.append(line)
        if "NUTS" in line:
            break
    time.sleep(0.5)
    proc.send_signal(sig)
    start = time.monotonic()
    rest = proc.communicate(timeout=60)[1]
    assert time.monotonic() - start < 15, "the run did not stop within seconds"
    assert proc.returncode == code, "".join(lines) + rest
    assert rest.strip().splitlines()[-1] == "interrupted" and "Traceback" not in rest, rest
    assert (out / "results.json").read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report"]
