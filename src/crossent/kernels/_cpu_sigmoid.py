"""Numba kernels for binary cross-entropy from logits: loss and gradient of each element in one pass.

With ỹ = y (1 - ε) + ε/2 (label smoothing ε), pos_weight w⁺ and sample weight s,

    ℓ = s [w⁺ ỹ (-log σ(z)) + (1 - ỹ)(-log σ(-z))],    dℓ/dz = s [(1 - ỹ) p - w⁺ ỹ q],

p = σ(z), q = σ(-z). With e = exp(-|z|): -log σ(z) = max(-z, 0) + log1p(e), -log σ(-z) =
max(z, 0) + log1p(e), and the larger of p, q is 1 / (1 + e), the smaller e / (1 + e), each exact
(neither is computed as 1 minus the other). Per element: one exp, one division (shared by
1 / (1 + e) and log1p's argument e / (2 + e)) and a seven-term series for log1p.

- :func:`sigmoid_float32` is the hot path: float32 arithmetic with the vectorizable exp and log1p
  of ``_numba_math``, in blocks of ``BLOCK`` elements, each block summing its losses in float32
  (16 lanes, so each partial sum adds a few hundred terms) and the blocks adding up in float64.
  For "mean" and "sum" the per-element losses are not stored, only their total: the pass reads
  the logits and targets and writes the gradient, nothing else.
- :func:`sigmoid_float64` computes in float64 with libm's exp and log1p, for float64 inputs.

The gradient is divided by ``divisor`` in the same pass (the mean's Σs, times ln(base) for a log
base), so that it needs no second pass to be reduced; the targets are checked to lie in [0, 1]
as they are read (each kernel returns how many do not), instead of in two passes of their own.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from crossent.kernels._numba_math import exp_nonpositive, log1p_series

__all__ = ["BLOCK", "sigmoid_float32", "sigmoid_float64"]

BLOCK = 8192
"""Elements per parallel work item of :func:`sigmoid_float32` (and per float32 partial sum)."""

_FAST = {"reassoc", "nsz", "arcp", "contract"}  # no nnan/ninf: inf and NaN keep their meaning
_ZERO = np.float32(0.0)
_ONE = np.float32(1.0)
_TWO = np.float32(2.0)
_HALF = np.float32(0.5)


@njit(cache=True, inline="always", fastmath=_FAST)
def _element(x, target, w_pos, keep):  # type: ignore[no-untyped-def]
    """(ℓ / s, dℓ/dz / s) of one float32 element; ``keep`` = 1 - ε, ε/2 = (1 - keep) / 2."""
    t = target * keep + _HALF * (_ONE - keep)
    c_pos = t * w_pos
    c_neg = _ONE - t
    e = exp_nonpositive(-abs(x))
    # one division for two quotients: r = 1 / ((1 + e)(2 + e)), 1 / (1 + e) = (2 + e) r and
    # e / (2 + e) = e (1 + e) r (log1p's argument)
    one_e, two_e = _ONE + e, _TWO + e
    r = _ONE / (one_e * two_e)
    log1p_e = log1p_series(e * one_e * r)
    loss = c_pos * (max(-x, _ZERO) + log1p_e) + c_neg * (max(x, _ZERO) + log1p_e)
    big = two_e * r
    small = e * big
    p = big if x >= _ZERO else small
    q = small if x >= _ZERO else big
    return loss, c_neg * p - c_pos * q


@njit(cache=True, inline="always", fastmath=_FAST)
def _outside(y):  # type: ignore[no-untyped-def]
    """How many of y lie outside [0, 1] (NaN included): the targets' check, fused."""
    count = 0
    for i in range(y.size):
        count += 0 if (y[i] >= _ZERO and y[i] <= _ONE) else 1
    return count


@njit(parallel=True, cache=True, error_model="numpy", fastmath=_FAST)
def sigmoid_float32(
    z, y,  # [n] float32 logits and targets in [0, 1]
    sample_weight, s_step,  # [n] (step 1) or [1] (step 0, one weight for all): s, float32
    pos_weight, pw_step,  # [n] or [1]: w⁺, float32
    loss,  # [n] float32 s ℓ, written if want_loss
    grad,  # [n] float32 dℓ/dz / divisor, written if want_grad
    smoothing, divisor, want_loss, want_grad,
):  # -> (Σ s ℓ in float64, the number of targets outside [0, 1] or NaN)
    n = z.shape[0]
    keep = np.float32(1.0 - smoothing)
    total = 0.0
    outside = 0
    for block in prange((n + BLOCK - 1) // BLOCK):
        # the block as slices, indexed from 0: LLVM then knows every index is non-negative and
        # vectorizes the loops (indexed from start = block · BLOCK, each access kept Numba's
        # negative-index test: 0.25 s at 10⁸ elements, 0.09 s so, 0.06 s with training's own loop)
        start = block * BLOCK
        stop = min(start + BLOCK, n)
        zb, yb = z[start:stop], y[start:stop]
        lb = loss[start:stop] if want_loss else loss
        gb = grad[start:stop] if want_grad else grad
        outside += _outside(yb)
        partial = _ZERO
        # a sample of weight 0 counts for nothing, even where its loss is inf (z = ±inf): 0, not 0 · inf
        if s_step == 0 and pw_step == 0:  # one weight for all: the vectorized loop
            s = sample_weight[0]
            w_pos = pos_weight[0]
            k = np.float32(float(s) / divisor)
            if want_grad and not want_loss:  # training's "mean" or "sum": a loop of its own, with
                for i in range(zb.size):  # no store behind a branch (LLVM does not unswitch it)
                    value, slope = _element(zb[i], yb[i], w_pos, keep)
                    partial += value
                    gb[i] = k * slope
            else:
                for i in range(zb.size):
                    value, slope = _element(zb[i], yb[i], w_pos, keep)
                    partial += value
                    if want_loss:
                        lb[i] = s * value if s != _ZERO else _ZERO
                    if want_grad:
                        gb[i] = k * slope
            partial = partial * s if s != _ZERO else _ZERO
        else:
            sb = sample_weight[start:stop] if s_step else sample_weight
            pb = pos_weight[start:stop] if pw_step else pos_weight
            for i in range(zb.size):
                s = sb[i * s_step]
                value, slope = _element(zb[i], yb[i], pb[i * pw_step], keep)
                weighted = s * value if s != _ZERO else _ZERO
                partial += weighted
                if want_loss:
                    lb[i] = weighted
                if want_grad:
                    gb[i] = np.float32(float(s) / divisor) * slope
        total += float(partial)
    return total, outside


@njit(parallel=True, cache=True, error_model="numpy")
def sigmoid_float64(z, y, sample_weight, s_step, pos_weight, pw_step, loss, grad,
                    smoothing, divisor, want_loss, want_grad):  # type: ignore[no-untyped-def]
    """:func:`sigmoid_float32`'s arguments, float64, with libm's exp and log1p."""
    total = 0.0
    outside = 0
    for i in prange(z.shape[0]):
        outside += 0 if (y[i] >= 0.0 and y[i] <= 1.0) else 1
        x = z[i]
        t = y[i] * (1.0 - smoothing) + 0.5 * smoothing
        c_pos = t * pos_weight[i * pw_step]
        c_neg = 1.0 - t
        s = sample_weight[i * s_step]
        e = math.exp(-abs(x))
        log1p_e = math.log1p(e)
        value = s * (c_pos * (max(-x, 0.0) + log1p_e) + c_neg * (max(x, 0.0) + log1p_e)) if s != 0.0 else 0.0
        total += value
        if want_loss:
            loss[i] = value
        if want_grad:
            big = 1.0 / (1.0 + e)
            small = e * big
            p, q = (big, small) if x >= 0.0 else (small, big)
            grad[i] = s * (c_neg * p - c_pos * q) / divisor
    return total, outside
