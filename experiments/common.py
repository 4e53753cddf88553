"""Plumbing shared by every experiment: data, validation, progress, atomic output, provenance."""

from __future__ import annotations

import argparse
import bz2
import csv
import errno
import gzip
import io
import itertools
import json
import lzma
import re
import stat
import subprocess
import sys
import time
import unicodedata
from collections import Counter
from importlib.metadata import version
from pathlib import Path

import numpy as np

from experiments.output import check_output_dir
from models.core.base import InputError, quoted
from models.core.data import CONSTANT, Dataset, constant_columns, standardized_dataset

REPO_ROOT = Path(__file__).resolve().parent.parent
MIN_ROWS = 3


# A number as a CSV writes it: ASCII digits, optional sign, decimal point and exponent; nan/inf are
# recognised here and refused below with their own message. No "1_0", no non-ASCII digits.
_NUMBER = re.compile(
    r"\s*[+-]?((\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?|nan|inf|infinity)\s*", re.I | re.A
)
# a number whose digits before the exponent are not all zero (it is not 0, whatever it parses to)
_NONZERO = re.compile(r"\s*[+-]?[0.]*[1-9]", re.A)
_DELIMITERS = (",", ";", "\t")
# Files that are not text, by their first bytes: compressed ones are read as gzip is.
_DECOMPRESS = {b"\x1f\x8b": gzip.decompress, b"\xfd7zXZ\x00": lzma.decompress,
               b"BZh": bz2.decompress}  # fmt: skip
_NOT_CSV = {b"PK\x03\x04": "a zip archive", b"PK\x05\x06": "an empty zip archive",
            b"\x89PNG": "a PNG image", b"\xff\xd8\xff": "a JPEG image", b"%PDF": "a PDF document",
            b"PAR1": "a Parquet file", b"\x28\xb5\x2f\xfd": "a zstd-compressed file",
            b"7z\xbc\xaf": "a 7-zip archive", b"\x7fELF": "a program",
            b"SQLite format 3\x00": "an SQLite database"}  # fmt: skip
# Outside this range a value's square overflows or underflows float64 (sums of squares are what
# every fit needs).
SQUARE_RANGE = (float(np.sqrt(np.finfo(float).tiny)), float(np.sqrt(np.finfo(float).max)))
# Characters no column name may hold: controls (Cc), line and paragraph separators (Zl, Zp), and
# the bidirectional controls, which reorder the text shown around them.
_NOT_IN_NAMES = ("Cc", "Zl", "Zp")
_BIDI_CONTROLS = frozenset("\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def check_regular_file(path: str | Path) -> None:
    """Refuse a path that is not a regular file (symlinks followed), naming what it is, without
    opening it (a FIFO would block the reader until some writer came); shared by every reader of
    data files (the CSV reader, ``scale --data``)."""
    try:
        mode = Path(path).stat().st_mode
    except FileNotFoundError:
        raise InputError(f"data file not found: {quoted(path)}") from None
    except OSError as error:
        what = {errno.ELOOP: "symlink loop", errno.ENOTDIR: "a part of the path is not a folder",
                errno.ENAMETOOLONG: "name too long"}.get(error.errno, error.strerror or str(error))  # fmt: skip
        raise InputError(f"data file {quoted(path)}: {what}") from None
    if stat.S_ISDIR(mode):
        raise InputError(f"data file {quoted(path)} is a directory")
    if not stat.S_ISREG(mode):
        raise InputError(
            f"data file {quoted(path)} is not a regular file (a FIFO, socket or device)"
        )


def _raw_kind(path: Path, head: bytes):
    """The decompressor ``head`` (a file's first bytes) calls for, or None; a file that is not
    text by its first bytes (zip, PNG, Parquet...) raises :class:`InputError` naming it."""
    for magic, what in _NOT_CSV.items():
        if head.startswith(magic):
            raise InputError(f"{quoted(path)}: {what}, not a CSV file")
    for magic, decompress in _DECOMPRESS.items():
        if head.startswith(magic) and (magic != b"BZh" or head[4:10] == b"1AY&SY"):
            return decompress
    return None


def _check_text(path: Path, head: bytes) -> None:
    """Refuse bytes that are not text: text has no NULs, UTF-16 has one in two."""
    if head[:4096].count(0) > len(head[:4096]) // 8 and head[:2] not in (
        b"\xff\xfe",
        b"\xfe\xff",
        b"\x00\x00",
    ):
        raise InputError(
            f"{quoted(path)}: not a text file (binary data, or UTF-16 without a byte-order mark)"
        )


def _decode(path: Path) -> str:
    """The text of a CSV file: gzip-, xz- or bzip2-compressed or not; UTF-8 (with or without
    BOM), UTF-16 with a BOM, else Latin-1. Unreadable and binary files raise :class:`InputError`."""
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise InputError(
            f"{quoted(path)}: cannot read the file ({error.strerror or error})"
        ) from None
    decompress = _raw_kind(path, raw[:16])
    if decompress:
        try:
            raw = decompress(raw)
        except (OSError, EOFError, ValueError, lzma.LZMAError) as error:
            raise InputError(f"{quoted(path)}: damaged compressed file ({error})") from None
        if _raw_kind(path, raw[:16]):
            raise InputError(f"{quoted(path)}: compressed twice, not a CSV file")
    _check_text(path, raw)
    if raw[:4] in (b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff"):
        try:
            return raw.decode("utf-32")
        except UnicodeDecodeError as error:
            raise InputError(f"{quoted(path)}: damaged UTF-32 text ({error.reason})") from None
    if raw[:2] in (b"\xff\xfe", b"\xfe\xff"):
        try:
            return raw.decode("utf-16")
        except UnicodeDecodeError as error:
            raise InputError(f"{quoted(path)}: damaged UTF-16 text ({error.reason})") from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def strict_number(cell: str) -> float:
    """One CSV cell read by the rules of :func:`read_csv`, for a reader that sees it alone (the
    ``scale`` pass beyond the rows checked up front, through pandas): ASCII decimal text (Python's
    ``float`` also takes ``1_000`` and non-ASCII digits), finite, and not below float64's normal
    range unless 0. Anything else is an :class:`InputError` naming the cell."""
    if not _NUMBER.fullmatch(cell):
        raise InputError(f"non-numeric value {quoted(cell)}")
    value = float(cell)
    if not np.isfinite(value):
        raise InputError(f"NaN/inf value {quoted(cell.strip())} (or beyond float range, +-1.8e308)")
    if _below_range(np.array([value]), [cell])[0]:
        raise InputError(f"value {quoted(cell.strip())} below float range; rescale the column")
    return value


def _below_range(values: np.ndarray, cells: list[str]) -> np.ndarray:
    """Cells whose value lies below float64's normal range: it keeps fewer digits (subnormal) or
    none (non-zero text read as 0). A column written at 1e-322 read as 36 distinct values out of
    50, "1e-400" as 0."""
    nonzero_text = np.array([bool(_NONZERO.match(c)) for c in cells], dtype=bool)
    return ((values != 0) & (np.abs(values) < np.finfo(float).tiny)) | (
        (values == 0) & nonzero_text.reshape(values.shape))  # fmt: skip


def csv_dialect(delimiter: str) -> type[csv.Dialect]:
    """The dialect of every CSV the suite reads (``read_csv``, and ``scale``'s files through
    pandas): the CSV standard, RFC 4180 (``"`` quotes, doubled inside a quoted field), with
    ``strict`` on so that a stray quote (``"1"2``) is an error, never a value."""
    return type("SuiteCSV", (csv.excel,), {"delimiter": delimiter, "strict": True})


def _delimiter(first_line: str) -> str:
    """``,``, ``;`` or tab: whichever the header line holds most of."""
    return max(_DELIMITERS, key=first_line.count)


def _records(path: Path, lines, delimiter: str, limit: int | None = None) -> list[list[str]]:
    """The records of ``lines`` (a text stream opened with ``newline=""``) that are not blank
    lines, as the CSV standard reads them: Python's ``csv`` module on the whole stream, so a
    quoted field may hold the delimiter or a line break, and a malformed quote is an error. At most
    ``limit`` records (all by default)."""
    csv.field_size_limit(2**31 - 1)
    reader = csv.reader(lines, dialect=csv_dialect(delimiter))
    records = []
    try:
        for row in reader:
            if len(row) > 1 or (row and row[0].strip()):
                records.append(row)
                if limit is not None and len(records) >= limit:
                    break
    except csv.Error as error:
        raise InputError(
            f"{quoted(path)}: not a readable CSV (line {reader.line_num}: {error})"
        ) from None
    except UnicodeDecodeError as error:
        raise InputError(f"{quoted(path)}: not UTF-8 text ({error.reason})") from None
    return records


def check_csv_head(path: str | Path, target: str | None, rows: int = 1000) -> tuple[list[str], str]:
    """Check the start of a CSV too large to read whole (``scale``'s files) as :func:`read_csv`
    checks a whole file: its kind, its header and its first ``rows`` records, read by the same
    parser (UTF-8, gzip/xz/bzip2 by their first bytes); ``target`` None: any header. Returns the
    header and the delimiter, for the reader of the rest (:func:`csv_dialect`)."""
    path = Path(path)
    check_regular_file(path)
    try:
        with path.open("rb") as file:
            head = file.read(4096)
        decompress = _raw_kind(path, head[:16])
        opener = {gzip.decompress: gzip.open, lzma.decompress: lzma.open, bz2.decompress: bz2.open}
        with opener.get(decompress, open)(path, "rt", encoding="utf-8-sig", newline="") as text:
            first = text.readline()
            _check_text(path, first.encode())
            records = _records(path, itertools.chain([first], text), _delimiter(first), rows + 1)
    except UnicodeDecodeError as error:
        raise InputError(f"{quoted(path)}: not UTF-8 text ({error.reason})") from None
    except (OSError, EOFError, lzma.LZMAError) as error:
        raise InputError(f"{quoted(path)}: cannot read the file ({error})") from None
    if not records:
        raise InputError(f"{quoted(path)}: empty file or missing header row")
    header = [cell.strip() for cell in records[0]]
    _check_header(path, header, target)
    _numbers(path, records[1:], header)
    return header, _delimiter(first)


def _check_header(path: Path, header: list[str], target: str | None) -> None:
    """Column names the suite can show and store: present, unique, free of control characters;
    ``target`` among them (unless None)."""
    if "" in header:
        raise InputError(f"{quoted(path)}: column {header.index('') + 1} of the header has no name")
    for number, name in enumerate(header, 1):
        if any(unicodedata.category(c) in _NOT_IN_NAMES or c in _BIDI_CONTROLS for c in name):
            raise InputError(
                f"{quoted(path)}: column {number} of the header, {quoted(name)}, holds a control "
                "character (NUL, escape, line break, direction override...); rename it"
            )
    duplicates = [name for name, count in Counter(header).items() if count > 1]
    if duplicates:
        raise InputError(
            f"{quoted(path)}: duplicate column names in the header: "
            + ", ".join(map(quoted, duplicates[:5]))
            + (f" and {len(duplicates) - 5} more" if len(duplicates) > 5 else "")
        )
    if target is not None and target not in header:
        shown = ", ".join(map(quoted, header[:10])) + (", ..." if len(header) > 10 else "")
        raise InputError(
            f"{quoted(path)}: target column {quoted(target)} not found; columns: {shown}"
        )


def _numbers(path: Path, body: list[list[str]], header: list[str]) -> np.ndarray:
    """The data records as floats; the first ragged row or non-numeric cell is named."""
    for i, row in enumerate(body):
        if len(row) != len(header):
            raise InputError(
                f"{quoted(path)}: data row {i + 1} has {len(row)} fields, header has {len(header)}"
            )
    cells = [cell for row in body for cell in row]
    if not all(map(_NUMBER.fullmatch, cells)):
        bad = next(k for k, cell in enumerate(cells) if not _NUMBER.fullmatch(cell))
        i, j = divmod(bad, len(header))
        raise InputError(
            f"{quoted(path)}: non-numeric value {quoted(cells[bad])} in column "
            f"{quoted(header[j])} (data row {i + 1})"
        )
    values = np.array(cells, dtype=float).reshape(len(body), len(header))

    def refuse(bad: np.ndarray, what: str, advice: str = "") -> None:
        if bad.any():
            i, j = map(int, np.argwhere(bad)[0])
            raise InputError(
                f"{quoted(path)}: {int(bad.sum())} {what}, first {quoted(body[i][j].strip())} in "
                f"column {quoted(header[j])} (data row {i + 1}){advice}"
            )

    refuse(~np.isfinite(values), "NaN/inf value(s) (or beyond float range, +-1.8e308)")
    refuse(_below_range(values, cells), f"value(s) below float range (non-zero, under "
           f"{np.finfo(float).tiny:.3g} in size, so rounded or lost)", "; rescale the column")  # fmt: skip
    return values


def read_csv(path: str | Path, target: str) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Read a numeric CSV with a header row; return ``(X, y, feature_names)``.

    Accepts ``,``, ``;`` or tab as the delimiter (whichever the header uses), quoted fields as the
    CSV standard has them, gzip, xz and bzip2, UTF-8 (BOM or not), UTF-16 with a BOM and Latin-1.
    Every failure (missing, unreadable or non-regular file, binary content, malformed quoting, a
    missing target, empty, duplicate or control-character column names, a non-numeric cell,
    NaN/inf, values beyond float range, ragged rows, too few rows, a constant target) raises
    :class:`InputError` naming the problem.
    """
    path = Path(path)
    check_regular_file(path)
    text = _decode(path)
    first = text.lstrip().partition("\n")[0]
    if not first.strip():
        raise InputError(f"{quoted(path)}: empty file or missing header row")
    records = _records(path, io.StringIO(text, newline=""), _delimiter(first))
    header = [cell.strip() for cell in records[0]]
    _check_header(path, header, target)
    values = _numbers(path, records[1:], header)
    if len(values) < MIN_ROWS:
        raise InputError(
            f"{quoted(path)}: needs at least {MIN_ROWS} data rows, found {len(values)}"
        )
    t = header.index(target)
    features = [name for k, name in enumerate(header) if k != t]
    if not features:
        raise InputError(f"{quoted(path)}: no feature columns besides the target {quoted(target)}")
    return np.delete(values, t, axis=1), values[:, t], features


def _check_range(values: np.ndarray, names: list[str]) -> None:
    """Refuse a column whose largest value's square overflows, or underflows to 0 (sums of
    squares feed every fit); :data:`SQUARE_RANGE`."""
    peak = np.max(np.abs(values), axis=0)
    for name, size in zip(names, peak, strict=True):
        if size > SQUARE_RANGE[1] or 0 < size < SQUARE_RANGE[0]:
            raise InputError(
                f"column {quoted(name)} holds values up to {size:.3g}, whose squares "
                f"{'overflow' if size > 1 else 'underflow'} (the largest must lie in "
                f"[{SQUARE_RANGE[0]:.3g}, {SQUARE_RANGE[1]:.3g}]); rescale it"
            )


def csv_dataset(
    X: np.ndarray, y: np.ndarray, names: list[str], target: str, source: str, standardize: bool
) -> Dataset:
    """A user CSV as a :class:`Dataset`: centred and scaled (ddof=0) unless ``standardize`` is off.

    Refused: a constant target (the relative test of :func:`models.core.data.is_constant`), and
    values whose squares overflow or underflow in the target or, unstandardised, in a feature."""
    if constant_columns(y)[0]:
        raise InputError(f"target column {quoted(target)} is {CONSTANT}: nothing to fit")
    _check_range(y[:, None], [target])
    if not standardize:
        _check_range(X, names)
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
