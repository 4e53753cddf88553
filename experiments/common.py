"""Plumbing shared by every experiment: data, validation, progress, atomic output, provenance."""

from __future__ import annotations

import argparse
import csv
import gzip
import json
import os
import re
import stat
import subprocess
import sys
import time
from importlib.metadata import version
from pathlib import Path

import numpy as np

from experiments.output import check_output_dir, describe_os_error
from models.core.base import InputError
from models.core.data import Dataset, standardized_dataset

REPO_ROOT = Path(__file__).resolve().parent.parent
MIN_ROWS = 3


# A number as a CSV writes it: ASCII digits, optional sign, decimal point and exponent; nan/inf are
# recognised here and refused below with their own message. No "1_0", no non-ASCII digits.
_NUMBER = re.compile(
    r"\s*[+-]?((\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?|nan|inf|infinity)\s*", re.I | re.A
)
_DELIMITERS = (",", ";", "\t")


def _decode(path: Path) -> str:
    """The text of a CSV file: gzip-compressed or not; UTF-8 (with or without BOM), UTF-16 with a
    BOM, else Latin-1. Unreadable files raise :class:`InputError`."""
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise InputError(f"{path}: cannot read the file ({error.strerror or error})") from None
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as error:
            raise InputError(f"{path}: damaged gzip file ({error})") from None
    if raw[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return raw.decode("utf-16")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        if b"\x00" in raw:
            raise InputError(
                f"{path}: not a text file (UTF-16 without a byte-order mark?)"
            ) from None
        return raw.decode("latin-1")


def _parsed_by_pyarrow(text: str, delimiter: str, n_columns: int) -> np.ndarray | None:
    """The data rows parsed by pyarrow's CSV reader (C++, multi-threaded) as float64, or None when
    any cell is not a plain number (the careful reader then names it)."""
    import pyarrow as pa
    import pyarrow.csv as pa_csv

    names = [f"c{j}" for j in range(n_columns)]
    try:
        table = pa_csv.read_csv(
            pa.py_buffer(text.encode()),
            read_options=pa_csv.ReadOptions(skip_rows=1, column_names=names),
            parse_options=pa_csv.ParseOptions(delimiter=delimiter),
            convert_options=pa_csv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.float64()), null_values=[],
                strings_can_be_null=False, quoted_strings_can_be_null=False,
            ),
        )  # fmt: skip
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    if table.num_columns != n_columns:
        return None
    columns = [table.column(j).combine_chunks() for j in range(n_columns)]
    if any(column.null_count for column in columns):
        return None
    return np.column_stack([_float64_values(column) for column in columns]).reshape(-1, n_columns)


def _float64_values(column) -> np.ndarray:
    """A float64 pyarrow array without nulls as numpy, read from its data buffer (``to_numpy``
    imports pandas: 1.5 s of a bad-input answer that should take well under one)."""
    if len(column) == 0:
        return np.empty(0)
    return np.frombuffer(
        column.buffers()[1], dtype=np.float64, count=len(column), offset=column.offset * 8
    ).copy()


def _parsed_cell_by_cell(
    path: Path, lines: list[str], delimiter: str, header: list[str]
) -> np.ndarray:
    """Every data row through ``csv`` and the ASCII number pattern: the first bad cell is named."""
    try:
        rows = list(csv.reader(lines, delimiter=delimiter))
    except csv.Error as error:
        raise InputError(f"{path}: not a readable CSV ({error})") from None
    body = [row for row in rows if any(cell.strip() for cell in row)][1:]
    values = np.empty((len(body), len(header)))
    for i, row in enumerate(body):
        if len(row) != len(header):
            raise InputError(
                f"{path}: data row {i + 1} has {len(row)} fields, header has {len(header)}"
            )
        for j, cell in enumerate(row):
            if not _NUMBER.fullmatch(cell):
                shown = cell.strip() if len(cell) < 40 else cell.strip()[:37] + "..."
                raise InputError(
                    f"{path}: non-numeric value {shown!r} in column {header[j]!r} (data row {i + 1})"
                )
            values[i, j] = float(cell)
    return values


def check_regular_file(path: str | Path) -> None:
    """Raise :class:`InputError` unless ``path`` is a regular file (symlinks followed), saying what
    it is instead: missing, a folder, a FIFO or device (whose reading would block), unreachable."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise InputError(f"data file not found: {path}") from None
    except OSError as error:
        raise InputError(f"{path}: cannot open it ({describe_os_error(error)})") from None
    if stat.S_ISDIR(mode):
        raise InputError(f"{path}: a folder, not a data file")
    if not stat.S_ISREG(mode):
        raise InputError(f"{path}: not a regular file (a FIFO, socket or device); give a file")


def read_csv(path: str | Path, target: str) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Read a numeric CSV with a header row; return ``(X, y, feature_names)``.

    Accepts ``,``, ``;`` or tab as the delimiter (whichever the header uses), gzip, UTF-8 (BOM or
    not), UTF-16 with a BOM and Latin-1. Every failure (missing or unreadable file, missing target,
    empty or duplicate column names, non-numeric cell, NaN/inf, ragged rows, too few rows) raises
    :class:`InputError` naming the problem.
    """
    path = Path(path)
    check_regular_file(path)
    text = _decode(path)
    lines = text.splitlines()
    first = next((line for line in lines if line.strip()), "")
    delimiter = max(_DELIMITERS, key=first.count)
    csv.field_size_limit(2**31 - 1)
    try:
        header = [cell.strip() for cell in next(csv.reader([first], delimiter=delimiter), [])]
    except csv.Error as error:
        raise InputError(f"{path}: not a readable CSV ({error})") from None
    if not first.strip():
        raise InputError(f"{path}: empty file or missing header row")
    if "" in header:
        raise InputError(f"{path}: column {header.index('') + 1} of the header has no name")
    duplicates = sorted({name for name in header if header.count(name) > 1})
    if duplicates:
        raise InputError(f"{path}: duplicate column names in the header: {', '.join(duplicates)}")
    if target not in header:
        raise InputError(
            f"{path}: target column {target!r} not found; columns: {', '.join(map(repr, header))}"
        )
    values = _parsed_by_pyarrow(text, delimiter, len(header)) if lines[0].strip() else None
    if values is None:  # the careful reader: slower, and names the first bad cell
        values = _parsed_cell_by_cell(path, lines, delimiter, header)
    bad = ~np.isfinite(values)
    if bad.any():
        i, j = map(int, np.argwhere(bad)[0])
        raise InputError(
            f"{path}: {int(bad.sum())} NaN/inf value(s), first in column {header[j]!r} (data row {i + 1})"
        )
    if len(values) < MIN_ROWS:
        raise InputError(f"{path}: needs at least {MIN_ROWS} data rows, found {len(values)}")
    t = header.index(target)
    features = [name for k, name in enumerate(header) if k != t]
    if not features:
        raise InputError(f"{path}: no feature columns besides the target {target!r}")
    return np.delete(values, t, axis=1), values[:, t], features


def csv_dataset(
    X: np.ndarray, y: np.ndarray, names: list[str], target: str, source: str, standardize: bool
) -> Dataset:
    """A user CSV as a :class:`Dataset`: centred and scaled (ddof=0) unless ``standardize`` is off."""
    if standardize:
        return standardized_dataset(X, y, names, target, source)
    return Dataset(X, y, names, target, source, False,
                   note="features used as given in the file (--no-standardize)")  # fmt: skip


class Parser(argparse.ArgumentParser):
    """argparse with one-line errors: a bad option raises :class:`InputError` (exit 2, no usage dump)."""

    def error(self, message: str):
        # "argument --alpha: must be ..." reads better as "--alpha must be ..."
        match = re.fullmatch(r"argument (\S+?): (.*)", message, re.S)
        raise InputError(f"{match[1].split('/')[0]} {match[2]}" if match else message)


def output_folder(text: str) -> Path:
    """argparse type: a folder the suite may write a report into (see ``experiments.output``)."""
    try:
        return check_output_dir(text)
    except InputError as error:
        raise argparse.ArgumentTypeError(str(error).removeprefix(f"--out {text}: ")) from None


def base_parser(name: str, description: str) -> argparse.ArgumentParser:
    """Arguments every experiment accepts."""
    parser = Parser(prog=f"python -m experiments {name}", description=description)
    parser.add_argument("--out", type=output_folder, default=REPO_ROOT / "reports" / name,
                        help=f"output folder (default reports/{name})")  # fmt: skip
    parser.add_argument("--seed", type=seed_value, default=20261126,
                        help="random seed, 0 to 2**32 - 1")  # fmt: skip
    parser.add_argument("--quick", action="store_true", help="few draws and a short grid (tests)")
    parser.add_argument("--quiet", action="store_true", help="no progress lines")
    return parser


def positive_number(text: str) -> float:
    """argparse type: a finite number > 0 (rejected while parsing, before any work)."""
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not (np.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"must be a positive finite number, got {text}")
    return value


def seed_value(text: str) -> int:
    """argparse type: a seed numpy and nutpie both accept (0 to 2**32 - 1)."""
    try:
        value = int(text)
    except ValueError:
        value = -1
    if not 0 <= value < 2**32:
        raise argparse.ArgumentTypeError(f"must be an integer from 0 to 4294967295, got {text}")
    return value


def open_fraction(text: str) -> float:
    """argparse type: a number strictly between 0 and 1 (0, a negative number, NaN: refused)."""
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1 (exclusive), got {text}")
    return value


class Progress:
    """One line per step on stderr: ``[ridge 3/7] sampling the posterior (12.3 s)``."""

    def __init__(self, name: str, total: int, quiet: bool = False):
        self.name, self.total, self.quiet = name, total, quiet
        self.step, self.start = 0, time.perf_counter()

    def __call__(self, message: str) -> None:
        self.step += 1
        if not self.quiet:
            elapsed = time.perf_counter() - self.start
            print(f"[{self.name} {self.step}/{self.total}] {message} ({elapsed:.1f} s)",
                  file=sys.stderr, flush=True)  # fmt: skip


def _clean(value):
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if isinstance(value, np.ndarray):
        return _clean(value.tolist())
    if isinstance(value, np.bool_ | bool):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        value = float(value)
        return value if np.isfinite(value) else None
    return value


def write_json(path: Path, data: dict) -> None:
    """Deterministic JSON (sorted keys, plain floats, NaN -> null)."""
    Path(path).write_text(json.dumps(_clean(data), indent=1, sort_keys=True) + "\n")


def rel_linf(a: np.ndarray, b: np.ndarray) -> float:
    """Relative L-inf difference ``max|a - b| / max|b|`` (``b`` is the reference)."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    scale = np.max(np.abs(b))
    return float(np.max(np.abs(a - b)) / scale) if scale > 0 else float(np.max(np.abs(a - b)))


def provenance(seed: int, argv: list[str]) -> dict:
    """Versions, seed, command and git revision for a report footer (kept out of results.json)."""
    try:
        revision = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=REPO_ROOT, capture_output=True,
            text=True, check=True,
        ).stdout.strip()  # fmt: skip
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"], cwd=REPO_ROOT,
            capture_output=True, text=True, check=True,
        ).stdout.strip()  # fmt: skip
        revision += " (uncommitted changes)" if dirty else ""
    except (OSError, subprocess.CalledProcessError):
        revision = "unknown"
    packages = ["pymc", "nutpie", "arviz", "scikit-learn", "numpy", "scipy", "pytensor", "xarray"]
    return {
        "python": sys.version.split()[0],
        "versions": {name: version(name) for name in packages},
        "seed": seed,
        "command": "python -m experiments " + " ".join(argv),
        "git_revision": revision,
    }
