"""float32 elementary functions that LLVM can vectorize inside Numba loops.

Numba calls ``math.exp`` and ``math.log`` through libm, one element at a time: without Intel's
SVML no loop that calls them is vectorized, and a cross-entropy kernel over 32k-class rows is
then bound by scalar ``exp``, not by memory (1.0 s for 8192 × 32000 against 0.09 s to copy the
logits). The functions here use only arithmetic, comparisons and bit casts, which LLVM turns into
AVX2/AVX-512 instructions, 8 or 16 lanes at a time:

- :func:`exp_nonpositive`: exp(x) for x ≤ 0, the only arguments a softmax shifted by its
  maximum produces: range reduction x = k ln 2 + r, |r| ≤ ln 2 / 2, a degree-7 Taylor polynomial
  for exp(r) (truncation error r⁸/8! < 5e-9 relative), and 2^k built from its exponent bits.
  Within 1e-7 relative of exp in float64 where exp(x) is a normal float32; 0 below -87 (where
  exp(x) < 1.7e-38 is subnormal, and well under float32's resolution of any softmax row sum,
  which is at least 1); NaN for NaN.
- :func:`log1p_series`: log(1 + e) for e in [0, 1], the log-sigmoid's correction term:
  with t = e / (2 + e) ≤ 1/3, log(1 + e) = 2 atanh(t) = 2 Σ t^(2j+1) / (2j+1); seven terms leave
  t¹⁶/15 < 2e-9 relative.
- :func:`ordered`, :func:`unordered`: a float32 as an int32 with the same order (the sign-magnitude
  bits made two's complement), so that a row's maximum is an integer ``max`` reduction, which
  vectorizes under any floating-point flags. A floating-point ``max`` reduction does not: LLVM
  vectorizes it only with ``nnan``, which would let a NaN logit go unseen. Positive NaN orders
  above +inf, so it propagates; every NaN propagates through the exp pass anyway.

And :func:`prefetch`, a hint that a cache line will be read soon (``llvm.prefetch``): the softmax
kernel asks for the next row while it computes the exponentials of this one, so that the next
row's first pass reads the cache instead of waiting on memory.

These are polynomial approximations, not correctly rounded functions: the kernels that use them
are tested against the generic path (NumPy's exp and log) within the float32 tolerance.
"""

from __future__ import annotations

import math

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

__all__ = ["LINE", "exp_nonpositive", "log1p_series", "ordered", "prefetch", "unordered"]

_inline = njit(cache=True, inline="always")


@intrinsic
def _float_from_bits(typingctx, bits):  # type: ignore[no-untyped-def]
    """The float32 whose bits are the low 32 bits of an integer (LLVM ``bitcast``)."""
    if not isinstance(bits, types.Integer):
        return None

    def codegen(context, builder, signature, args):  # type: ignore[no-untyped-def]
        value = args[0]
        if bits.bitwidth > 32:
            value = builder.trunc(value, ir.IntType(32))
        elif bits.bitwidth < 32:
            value = builder.sext(value, ir.IntType(32))
        return builder.bitcast(value, ir.FloatType())

    return types.float32(bits), codegen


@intrinsic
def _bits_of_float(typingctx, value):  # type: ignore[no-untyped-def]
    """The bits of a float32 as an int32 (LLVM ``bitcast``)."""
    if value != types.float32:
        return None

    def codegen(context, builder, signature, args):  # type: ignore[no-untyped-def]
        return builder.bitcast(args[0], ir.IntType(32))

    return types.int32(types.float32), codegen


_SIGN_OFF = np.int32(0x7FFFFFFF)
_31 = np.int32(31)


@_inline
def ordered(x):  # type: ignore[no-untyped-def]
    """An int32 key of the float32 x: ordered(a) < ordered(b) exactly when a < b (with -0 < +0)."""
    bits = _bits_of_float(x)
    return bits ^ ((bits >> _31) & _SIGN_OFF)


@_inline
def unordered(key):  # type: ignore[no-untyped-def]
    """The float32 of an :func:`ordered` key."""
    key = np.int32(key)
    return _float_from_bits(key ^ ((key >> _31) & _SIGN_OFF))


MIN_ORDERED = np.int32(-(2**31))
"""The smallest key, below ordered(-inf) (a negative NaN): the start of a max reduction."""

_LOG2E = np.float32(1.4426950408889634)
_LN2_HI = np.float32(0.693359375)  # ln 2 = _LN2_HI + _LN2_LO, _LN2_HI with 9 significant bits:
_LN2_LO = np.float32(-2.12194440e-4)  # k · _LN2_HI is exact for |k| < 2^15 (Cody and Waite)
_FLOOR = np.float32(-87.0)
_HALF = np.float32(0.5)
_ONE = np.float32(1.0)
_ZERO = np.float32(0.0)
_TWO = np.float32(2.0)
_BIAS = np.int32(127)
_23 = np.int32(23)
# 1/j! for j = 7 .. 2
_E7, _E6, _E5, _E4, _E3, _E2 = (np.float32(1.0 / math.factorial(j)) for j in range(7, 1, -1))
# 1/(2j + 1) for j = 6 .. 1
_L13, _L11, _L9, _L7, _L5, _L3 = (np.float32(1.0 / (2 * j + 1)) for j in range(6, 0, -1))


@_inline
def exp_nonpositive(x):  # type: ignore[no-untyped-def]
    """exp(x) in float32 for x ≤ 0 (see the module docstring); x > 0 is not supported."""
    clamped = max(x, _FLOOR)
    k = np.floor(clamped * _LOG2E + _HALF)  # the nearest integer to x / ln 2, in [-126, 0]
    r = (clamped - k * _LN2_HI) - k * _LN2_LO
    p = _E7 * r + _E6
    p = p * r + _E5
    p = p * r + _E4
    p = p * r + _E3
    p = p * r + _E2
    p = p * r + _ONE
    p = p * r + _ONE
    two_to_k = _float_from_bits((np.int32(k) + _BIAS) << _23)
    return _ZERO if x < _FLOOR else p * two_to_k  # a NaN x fails the test and stays NaN


@_inline
def log1p_series(t):  # type: ignore[no-untyped-def]
    """log(1 + e) in float32 for e in [0, 1], from t = e / (2 + e) in [0, 1/3] (see the module
    docstring): the caller forms t, sharing its division with other quotients."""
    t2 = t * t
    s = _L13 * t2 + _L11
    s = s * t2 + _L9
    s = s * t2 + _L7
    s = s * t2 + _L5
    s = s * t2 + _L3
    s = s * t2 + _ONE
    return _TWO * t * s


LINE = 16
"""float32 values per 64-byte cache line: the stride of :func:`prefetch` calls."""


@intrinsic
def prefetch(typingctx, array, index):  # type: ignore[no-untyped-def]
    """Hint that ``array[index]`` (a 1-D array) will be read soon: fetch its cache line into every
    cache level. A hint only: no fault, no effect on results, whatever the index."""
    if not isinstance(array, types.Array) or array.ndim != 1 or not isinstance(index, types.Integer):
        return None

    def codegen(context, builder, signature, args):  # type: ignore[no-untyped-def]
        array_type = signature.args[0]
        view = context.make_array(array_type)(context, builder, args[0])
        pointer = cgutils.get_item_pointer(context, builder, array_type, view, [args[1]], wraparound=False)
        byte_pointer = ir.IntType(8).as_pointer()
        i32 = ir.IntType(32)
        function = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(ir.VoidType(), [byte_pointer, i32, i32, i32]), "llvm.prefetch.p0")
        # read (0), keep in all levels (locality 3), data cache (1)
        builder.call(function, [builder.bitcast(pointer, byte_pointer), ir.Constant(i32, 0), ir.Constant(i32, 3),
                                ir.Constant(i32, 1)])
        return context.get_dummy_value()

    return types.void(array, index), codegen
