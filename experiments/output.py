"""Report folders: checked before any work, written atomically, and never anything else replaced.

A report folder carries a marker file (:data:`MARKER`). ``--out PATH`` may only name

* a path that does not exist yet (its missing parents are created, and removed again on failure),
* an empty folder, or
* a folder holding the marker, i.e. one this suite wrote, and nothing the marker does not list
  (the marker records every file the run wrote: a file of the user's own added later is never
  deleted; the folder is refused instead).

Anything else (a file, a folder of someone's documents, the project root, ``/``, the working
directory or one of its ancestors) is refused with one line before any work starts, and so is a
path the system cannot use (a parent that is a file, a name too long): every OS error found on
the output path before the work is one ``InputError`` line.

The report is written into a temporary sibling folder ``.NAME.tmp-PID-RANDOM`` and renamed onto
``PATH`` at the end, so a reader never sees half a report and a failed or interrupted run leaves the
old one as it was. Temporary folders whose process is gone (a killed run) are removed by the next
run into the same place (:func:`remove_stale`, the one sweep of this process's temporary folders,
which ``scale`` uses for its data too). When two runs race on the final rename, the last to finish
wins whole.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import secrets
import shutil
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from models.core.base import InputError

MARKER = ".secretly-bayesian-report"
_RENAME_ATTEMPTS = 50
LIVE: set[Path] = set()  # this process's temporary folders (removed on a forced exit)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by someone else
        return True
    return True


def _foreign(path: Path) -> bool:
    """True if ``path`` is a non-empty folder without the marker, or holding an entry the marker
    does not list (a file the suite did not write).

    One ``listdir`` is one snapshot of one folder, and the marker is the first file a report
    folder gets; its list of files is written last, before the folder is renamed into place. The
    folder is listed through an open descriptor and its inode compared with what ``path`` names
    afterwards: a racing run may move the report aside and delete it (marker first,
    perhaps) while it is being listed, and that listing says nothing about ``path`` any more.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    except FileNotFoundError:
        return False
    try:
        entries, listed = os.listdir(fd), os.fstat(fd)
        written = _written_by_suite(fd, entries) if MARKER in entries else None
    finally:
        os.close(fd)
    try:
        now = os.stat(path)
    except FileNotFoundError:
        return False
    if (now.st_dev, now.st_ino) != (listed.st_dev, listed.st_ino):
        return False  # moved aside by a racing run while listed
    if written is None:
        return bool(entries)
    return not set(entries) <= written | {MARKER}


def _written_by_suite(folder_fd: int, entries: list[str]) -> set[str]:
    """The file names the marker in the open folder lists.

    A marker without a list was written by a version of the suite that did not keep one, into a
    folder it replaced whole: everything in such a folder is taken as the suite's (the version
    that wrote it refused any folder with foreign files). An unreadable marker lists nothing.
    """
    try:
        with open(os.open(MARKER, os.O_RDONLY, dir_fd=folder_fd), encoding="utf-8") as marker:
            content = json.load(marker)
    except (OSError, ValueError):
        return set()
    if not isinstance(content, dict):
        return set()
    if "files" not in content:
        return set(entries)
    files = content["files"]
    return {name for name in files if isinstance(name, str)} if isinstance(files, list) else set()


def describe_os_error(error: OSError) -> str:
    """An OS error as words without a traceback: its reason and the path it names, if any."""
    reason = error.strerror or str(error)
    return f"{reason}: {error.filename}" if error.filename else reason


def check_output_dir(path: Path | str) -> Path:
    """Return ``path`` resolved if the suite may write a report there; raise :class:`InputError`.

    Parameters
    ----------
    path : path-like
        The requested output folder.
    """
    try:
        return _checked_output_dir(path)
    except (OSError, RuntimeError) as error:  # RuntimeError: a symlink loop (Path.resolve)
        reason = describe_os_error(error) if isinstance(error, OSError) else str(error)
        raise InputError(f"--out {path}: cannot use this path ({reason})") from None


def _checked_output_dir(path: Path | str) -> Path:
    out = Path(path).expanduser().resolve()
    cwd = Path.cwd().resolve()
    if out == Path(out.anchor) or out == Path.home().resolve():
        raise InputError(f"--out {path}: refusing to replace {out}; choose a new folder")
    if out == cwd or out in cwd.parents:
        raise InputError(
            f"--out {path}: refusing to replace the working directory or one of its parents"
        )
    try:
        mode = os.lstat(out).st_mode  # one system call: a racing run cannot change the answer
    except FileNotFoundError:
        mode = None
    if mode is not None and not stat.S_ISDIR(mode):
        raise InputError(f"--out {path}: exists and is not a folder; choose a new folder")
    if mode is not None and _foreign(out):
        raise InputError(
            f"--out {path}: folder is not empty and was not written by this suite "
            f"(no {MARKER} file, or files it does not list); choose a new folder or remove "
            "it yourself"
        )
    # The report is renamed into place inside the nearest existing ancestor: that is where we must
    # be able to write (``out`` itself may be renamed away by a racing run meanwhile).
    existing = next(p for p in out.parents if p.exists())
    if not existing.is_dir() or not os.access(existing, os.W_OK | os.X_OK):
        raise InputError(f"--out {path}: cannot write in {existing}")
    return out


def remove_stale(parent: Path, prefix: str) -> None:
    """Remove the folders ``PREFIX<pid>-*`` in ``parent`` whose process ``<pid>`` is gone.

    Every temporary folder of the suite is named by :func:`temporary_name` (the owner's pid in
    the name), so a run killed with ``kill -9`` leaves nothing that the next run does not remove.
    A live owner's folder is left alone.
    """
    with contextlib.suppress(OSError):
        for stale in Path(parent).glob(f"{prefix}*"):
            pid_text = stale.name.removeprefix(prefix).split("-", 1)[0]
            if pid_text.isdigit() and not _pid_alive(int(pid_text)) and stale.is_dir():
                shutil.rmtree(stale, ignore_errors=True)


def temporary_name(parent: Path, prefix: str) -> Path:
    """``parent / PREFIX<pid>-<random>``: a temporary folder's name that :func:`remove_stale`
    recognises once this process is gone; recorded in :data:`LIVE`."""
    folder = Path(parent) / f"{prefix}{os.getpid()}-{secrets.token_hex(4)}"
    LIVE.add(folder)
    return folder


def remove_live() -> None:
    """Remove this process's temporary folders that still exist (before a forced exit)."""
    for folder in list(LIVE):
        shutil.rmtree(folder, ignore_errors=True)


@contextmanager
def temporary_folder(parent: Path | str, prefix: str) -> Iterator[Path]:
    """A fresh folder ``PREFIX<pid>-<random>`` in ``parent``, removed at the end whatever happens;
    stale ones of dead processes are swept first (:func:`remove_stale`)."""
    remove_stale(Path(parent), prefix)
    folder = temporary_name(Path(parent), prefix)
    folder.mkdir()
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _sibling(out: Path, kind: str) -> Path:
    return temporary_name(out.parent, f".{out.name}.{kind}-")


def _install(tmp: Path, out: Path) -> None:
    """Rename ``tmp`` onto ``out``, moving a previous report aside first; safe against a racing run."""
    for _ in range(_RENAME_ATTEMPTS):
        old = _sibling(out, "old")
        with contextlib.suppress(FileNotFoundError):  # another run moved it already
            if _foreign(out):
                raise InputError(f"--out {out}: replaced meanwhile by something not a report")
            os.rename(out, old)
        try:
            os.rename(tmp, out)
            return
        except OSError as error:
            if error.errno not in (errno.ENOTEMPTY, errno.EEXIST):
                raise  # the other run put its report in between: move it aside and try again
        finally:
            if old.exists():
                shutil.rmtree(old, ignore_errors=True)
    raise OSError(f"could not rename the report onto {out} after {_RENAME_ATTEMPTS} attempts")


@contextmanager
def atomic_output_dir(path: Path | str, experiment: str = "") -> Iterator[Path]:
    """Yield a fresh temporary folder beside ``path``; on success it replaces ``path`` in one rename.

    The folder gets the suite's marker file and ordinary permissions (``0777 & ~umask``); the
    marker lists every file of the folder before it is renamed into place. A failure or an
    interruption leaves ``path`` as it was, removes the temporary folder and any parent folders this
    call created. An OS error while preparing the folder (before any work) is an
    :class:`InputError`; one while writing the report propagates as the ``OSError`` it is, to be
    reported in one line (:func:`describe_os_error`).

    Parameters
    ----------
    path : path-like
        The output folder; checked with :func:`check_output_dir`.
    experiment : str
        Recorded in the marker file.
    """
    out = check_output_dir(path)
    created = [p for p in reversed(out.parents) if not p.exists()]
    tmp = _sibling(out, "tmp")
    installed = False
    marker = {"written_by": "secretly-bayesian", "experiment": experiment}
    try:
        try:
            out.parent.mkdir(parents=True, exist_ok=True)
            for kind in ("tmp", "old"):
                remove_stale(out.parent, f".{out.name}.{kind}-")
            tmp.mkdir()
            (tmp / MARKER).write_text(json.dumps(marker) + "\n")
        except OSError as error:
            raise InputError(
                f"--out {path}: cannot write there ({describe_os_error(error)})"
            ) from None
        yield tmp
        files = sorted(entry.name for entry in tmp.iterdir() if entry.name != MARKER)
        (tmp / MARKER).write_text(json.dumps({**marker, "files": files}) + "\n")
        _install(tmp, out)
        installed = True
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
        if not installed:
            for parent in reversed(created):
                with contextlib.suppress(OSError):
                    parent.rmdir()
