r"""Numba implementations of PyTensor scalar ops that PyTensor's Numba backend lacks.

PyTensor runs an op without a Numba implementation in *object mode*: a Python callback per call,
compiled slowly (the first Hessian of a Gamma model with a free dispersion took ~9 s on a busy
machine) and warning "Numba will use object mode to run tri_gamma's perform method". The trigamma
function ``psi_1(x) = d^2 log Gamma(x) / dx^2`` is the one our models meet: the Hessian of
``gammaln(1 / phi)`` in the Gamma density with a free dispersion phi (:class:`MAPSolver` compiles
second derivatives). :func:`register` gives PyTensor a compiled one; it is called before the
engines compile anything, and registering twice is harmless.

The implementation: the recurrence ``psi_1(x) = psi_1(x + 1) + 1 / x^2`` moves ``x`` to at least
:data:`ASYMPTOTIC_FROM`, where the asymptotic series ``1/x + 1/(2x^2) + sum_k B_2k / x^(2k+1)``
(Bernoulli numbers up to ``B_14``) is accurate to ~1e-17 relatively (the first omitted term is
``B_16 / x^17 ~ 7e-17`` at x = 10). Negative non-integers use the reflection formula
``psi_1(1 - x) + psi_1(x) = pi^2 / sin^2(pi x)``; at the poles (0, -1, -2, ...) it is +inf, as
``scipy.special.polygamma(1, x)``.
"""

from __future__ import annotations

import math
from functools import cache

ASYMPTOTIC_FROM = 10.0
# B_2k for k = 1..7: 1/6, -1/30, 1/42, -1/30, 5/66, -691/2730, 7/6
BERNOULLI = (1 / 6, -1 / 30, 1 / 42, -1 / 30, 5 / 66, -691 / 2730, 7 / 6)


@cache
def register() -> None:
    """Give PyTensor's Numba backend a compiled trigamma for ``TriGamma`` (once per process)."""
    from pytensor.link.numba.dispatch.basic import numba_njit
    from pytensor.link.numba.dispatch.scalar import register_scalar_funcify, scalar_op_cache_key
    from pytensor.scalar.math import TriGamma

    @numba_njit
    def trigamma_positive(x):
        shifted = 0.0
        while x < ASYMPTOTIC_FROM:
            shifted += 1.0 / (x * x)
            x += 1.0
        inverse_square = 1.0 / (x * x)
        series, power = 0.0, 1.0 / x
        for bernoulli in BERNOULLI:
            power *= inverse_square
            series += bernoulli * power
        return shifted + 1.0 / x + 0.5 * inverse_square + series

    @numba_njit
    def trigamma(x):
        if x <= 0.0 and x == math.floor(x):
            return math.inf
        if x < 0.0:  # reflection: psi_1(x) = pi^2 / sin^2(pi x) - psi_1(1 - x), with 1 - x > 1
            return (math.pi / math.sin(math.pi * x)) ** 2 - trigamma_positive(1.0 - x)
        return trigamma_positive(x)

    @register_scalar_funcify(TriGamma)
    def numba_funcify_trigamma(op, node, **kwargs):
        return trigamma, scalar_op_cache_key(op, implementation=f"{__name__} v1")


__all__ = ["ASYMPTOTIC_FROM", "BERNOULLI", "register"]
