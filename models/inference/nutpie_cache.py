"""nutpie's compiled form of a model, with its C callbacks cached on disk: compile once per machine.

nutpie samples a PyMC model through two C callbacks (the log density with its gradient, and the
expansion of a draw into the model's variables) that wrap PyTensor's numba functions.
``nutpie.compile_pymc_model`` builds them in every process (5-10 s: numba compiles each wrapper
with the log density inlined), and numba cannot cache them: their data slots are named with fresh
random keys and the wrappers close over run-time objects. PyTensor already caches the two inner
functions on disk, keyed by their rewritten graphs.

:func:`compile_nutpie` builds the same callbacks from generated source with fixed data-slot names,
and registers that source with PyTensor's numba cache under a key made of the inner function's
own PyTensor key, the source itself (the parameter count, the data slots read), the data dtypes,
the layout of nutpie's data record and nutpie's version. So a second process loads both callbacks
from the cache (~0.1 s), and any change to the model (another prior, another likelihood, another
number of coefficients) changes a key and compiles anew (``tests/test_compile_cache.py``). The result is nutpie's own ``CompiledPyMCModel``
(same flat parameter vector, initial points, data swaps with ``with_data``, the same draws as
``compile_pymc_model`` for the same seed); only where its callbacks come from differs.
"""

from __future__ import annotations

import hashlib

import numpy as np

# Bump when the generated source or its key changes meaning: a new version never loads an old entry.
WRAPPER_VERSION = 1


def _read_data(slots: list[tuple[str, int]]) -> list[str]:
    """Source lines binding ``d0, d1, ...`` to the arrays whose pointers, sizes and shapes the
    record ``shared`` holds under the slot names ``slots`` (name, ndim), in that order."""
    lines = []
    for j, (slot, ndim) in enumerate(slots):
        lines.append(f"        d{j} = carray(void_pointer(shared['data']['{slot}'][()]), "
                     f"int(shared['size']['{slot}'][()]), DT{j})")  # fmt: skip
        shape = "".join(f"int(shared['shape']['{slot}'][{i}])," for i in range(ndim))
        lines.append(f"        d{j} = d{j}.reshape(({shape}))")
    return lines


def _source(head: str, size_check: str, arrays: list[str], body: list[str], error: int,
            slots: list[tuple[str, int]]) -> str:  # fmt: skip
    """A callback's source: its ``head``, -1 unless ``size_check`` holds, the flat arrays it is
    handed as numpy views (``arrays``), the data read from the record, then ``body`` (status 0),
    and ``error`` as the status of any exception."""
    return "\n".join([
        head, f"    if not ({size_check}):", "        return -1", "    try:",
        *(f"        {line}" for line in arrays),
        "        shared = carray(user_data_, (), RECORD)['shared']", *_read_data(slots),
        *(f"        {line}" for line in body),
        "    except Exception:", f"        return {error}", "    return 0", "",
    ])  # fmt: skip


def logp_source(n_dim: int, slots: list[tuple[str, int]]) -> str:
    """nutpie's log-density callback: ``logp(dim, x, grad_out, logp_out, user_data) -> status``
    (0 ok, 1 an error, 3 a non-finite gradient, 4 a non-finite log density, -1 a wrong size), as
    nutpie's own ``_make_c_logp_func`` returns them."""
    args = "".join(f", d{j}" for j in range(len(slots)))
    return _source(
        "def logp_callback(dim, x_, out_, logp_, user_data_):", f"dim == {n_dim}",
        [f"x = carray(x_, ({n_dim},))", f"out = carray(out_, ({n_dim},))",
         "logp = carray(logp_, ())"],
        [f"value, grad = inner(x{args})", "logp[()] = value", "out[...] = grad",
         "if not np.all(np.isfinite(out)):", "    return 3", "if not np.isfinite(value):",
         "    return 4"],
        1, slots,
    )  # fmt: skip


def expand_source(n_dim: int, n_expanded: int, slots: list[tuple[str, int]]) -> str:
    """nutpie's expansion callback: ``expand(dim, expanded, x, out, user_data) -> status`` (0 ok,
    -2 an error, -1 a wrong size), as nutpie's own ``_make_c_expand_func``."""
    args = "".join(f", d{j}" for j in range(len(slots)))
    return _source(
        "def expand_callback(dim, expanded, x_, out_, user_data_):",
        f"dim == {n_dim} and expanded == {n_expanded}",
        [f"x = carray(x_, ({n_dim},))", f"out = carray(out_, ({n_expanded},))"],
        [f"(values,) = inner(x{args})", "out[...] = values"],
        -2, slots,
    )  # fmt: skip


def callback_key(inner_key: str | None, source: str, dtypes: list[str], record: str) -> str | None:
    """The cache key of a callback: None (not cached) when PyTensor could not cache its inner
    function; else a hash of that function's PyTensor key, the callback's source, the dtypes of the
    data it reads, the layout of nutpie's data record (``record``: its dtype's ``str``) and
    nutpie's version (the caller of the callback: an upgrade compiles anew)."""
    if inner_key is None:
        return None
    from importlib.metadata import version

    text = repr((WRAPPER_VERSION, version("nutpie"), inner_key, source, dtypes, record))
    return hashlib.sha256(text.encode()).hexdigest()


def _callback(function, source_of, name: str, signature, keys: dict, shared: dict, record):
    """One C callback around the PyTensor function ``function`` (its numba function: ``inner``),
    loaded from the cache when its key is there."""
    import numba
    from nutpie.compile_pymc import address_as_void_pointer
    from pytensor.link.numba.cache import CACHED_SRC_FUNCTIONS, compile_numba_function_src

    inner = function.vm.jit_fn
    used = [keys[var] for var in function.get_shared()]
    source = source_of([(slot, shared[slot].ndim) for slot in used])
    dtypes = [shared[slot].dtype.str for slot in used]
    key = callback_key(CACHED_SRC_FUNCTIONS.get(inner.py_func), source, dtypes, str(record.descr))
    # `__name__` names the module numba re-imports when it loads the callback from the cache
    env = {"__name__": __name__, "np": np, "carray": numba.carray, "RECORD": record,
           "void_pointer": address_as_void_pointer, "inner": inner,
           **{f"DT{j}": shared[slot].dtype.type for j, slot in enumerate(used)}}  # fmt: skip
    python = compile_numba_function_src(source, name, global_env=env, cache_key=key)
    return numba.cfunc(signature, cache=key is not None)(python)


def compile_nutpie(model):
    """nutpie's ``CompiledPyMCModel`` of ``model`` (numba backend), its C callbacks cached on disk.

    Built as ``nutpie.compile_pymc_model(model)`` builds it (nutpie's ``_make_functions``: the
    same flat parameter vector, shapes, coordinates, initial points jittered around the support
    point), except that the data slots are named ``d0, d1, ...`` and the two callbacks come from
    :func:`logp_source` and :func:`expand_source` through PyTensor's numba cache.
    """
    from numba import types
    from nutpie.compile_pymc import (
        CompiledPyMCModel,
        _make_functions,
        _prepare_dims_and_coords,
        _wrap_with_lock,
        make_user_data,
    )  # fmt: skip
    from pymc.initial_point import make_initial_point_fn

    initial = make_initial_point_fn(model=model, jitter_rvs=set(model.free_RVs),
                                    return_transformed=True, default_strategy="support_point")  # fmt: skip
    n_dim, n_expanded, logp_fn, expand_fn, initial_point, shape_info, reparameterized = (
        _make_functions(model, mode="NUMBA", compute_grad=True, join_expanded=True,
                        pymc_initial_point_fn=_wrap_with_lock(initial))
    )  # fmt: skip
    variables = list(dict.fromkeys([*logp_fn.get_shared(), *expand_fn.get_shared()]))
    keys = {var: f"d{k}" for k, var in enumerate(variables)}
    shared = {keys[var]: np.array(var.get_value(), order="C", copy=True) for var in variables}
    for value in shared.values():
        value.flags.writeable = False
    user_data = make_user_data(keys, shared)
    pointer = types.CPointer(types.double)
    logp = _callback(
        logp_fn, lambda slots: logp_source(n_dim, slots), "logp_callback",
        types.int64(types.uint64, pointer, pointer, pointer, types.voidptr), keys, shared,
        user_data.dtype,
    )  # fmt: skip
    expand = _callback(
        expand_fn, lambda slots: expand_source(n_dim, n_expanded, slots),
        "expand_callback", types.int64(types.uint64, types.uint64, pointer, pointer, types.voidptr),
        keys, shared, user_data.dtype,
    )  # fmt: skip
    dims, coords = _prepare_dims_and_coords(model, shape_info, reparameterized)
    return CompiledPyMCModel(
        _n_dim=n_dim, dims=dims, _coords=coords,
        _shapes={name: tuple(shape) for name, _, shape in zip(*shape_info, strict=True)},
        compiled_logp_func=logp, compiled_expand_func=expand, initial_point_func=initial_point,
        shared_data=shared, shared_var_keys=keys, user_data=user_data, n_expanded=n_expanded,
        shape_info=shape_info, logp_func=logp_fn, expand_func=expand_fn,
        reparameterized_names=reparameterized,
    )  # fmt: skip
