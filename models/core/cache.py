"""Where compiled models persist between processes: one per-user cache directory.

The directory is ``$SECRETLY_BAYESIAN_CACHE`` when that is set, else the platform's user cache
directory for this project (``~/.cache/secretly-bayesian`` on Linux, through platformdirs). It
holds PyTensor's compile directory (``pytensor/``), whose numba cache serves the log density and
gradient of every model already compiled once by any process of this user, and nutpie's two C
callbacks around them (:mod:`models.inference.nutpie_cache`, keyed on the same PyTensor keys).

Safe by construction, not by invalidation: PyTensor keys each cached function on a hash of its
whole graph (every operation, input type, static shape and constant), so a model that differs in
any of them (another data shape, another prior) compiles anew and never loads a stale function
(tests/test_compile_cache.py, tests/test_nutpie_cache.py). ``pm.Data`` values are inputs, not part of the key.

:func:`configure` points PyTensor there. It must run before PyTensor is imported (PyTensor reads its
flags once, on import); ``import models`` calls it. A user's own ``PYTENSOR_FLAGS`` that already
name a ``base_compiledir`` or ``compiledir`` win, and so does a PyTensor imported earlier in the
process: it keeps its own directory (``~/.pytensor`` by default).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import platformdirs

CACHE_ENV = "SECRETLY_BAYESIAN_CACHE"


def cache_dir() -> Path:
    """The per-user cache directory (``$SECRETLY_BAYESIAN_CACHE``, else platformdirs')."""
    return Path(os.environ.get(CACHE_ENV) or platformdirs.user_cache_dir("secretly-bayesian"))


def configure() -> None:
    """Point PyTensor's compile directory into :func:`cache_dir` (through ``PYTENSOR_FLAGS``,
    which processes started from this one inherit too), unless PyTensor is imported already or
    the flags name a directory of their own."""
    flags = os.environ.get("PYTENSOR_FLAGS", "")
    if "pytensor" in sys.modules or "compiledir" in flags:
        return
    setting = f"base_compiledir={cache_dir() / 'pytensor'}"
    os.environ["PYTENSOR_FLAGS"] = f"{flags},{setting}" if flags else setting
