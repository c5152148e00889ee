"""Numba kernels for the softmax family of integer labels, from logits and from probabilities.

Each computes, for every row, the weighted loss and its gradient divided by ``divisor`` (the mean's
Σ weights, times ln(base) for a log base), so that no second pass reduces the gradient. Rows run in
parallel (``prange``); a row is read from memory once (its later passes hit the cache: a row of 32k
float32 logits is 128 KiB) and its gradient written once.

- :func:`softmax_rows_float32`, the hot path: cross-entropy from float32 logits with weights,
  ignore_index, label smoothing, z-loss and logit adjustment, and focal γ or Poly-1 ε without
  smoothing (whose gradient is still a multiple of p plus the label's correction), in float32
  arithmetic that LLVM vectorizes (``_numba_math``: exp without libm, the row maximum as an
  integer reduction, a prefetch of the next row), per-row sums added in float32 lanes, per-row
  scalars in float64. Rows with an infinite or NaN logit are handed back to :func:`softmax_rows`.
- :func:`softmax_rows`, every option (soft-cap, focal or Poly-1 with smoothing as well) and float64 logits:
  float64 element arithmetic with libm's exp and log, no fastmath (inf and NaN propagate exactly
  as on the generic path).
- :func:`log_loss_rows`: the log loss of probabilities, reading only the classes with a nonzero
  target, after checking each row (values in [0, 1], summing to 1) in the same read.

``error_model="numpy"`` makes 1/0 = inf, as in NumPy, instead of raising ZeroDivisionError.
``cache=True`` keeps the compiled code on disk (``__pycache__`` next to this file, or
``NUMBA_CACHE_DIR``), so that a command-line run compiles nothing after the first.
``fastmath`` is limited to reassociation and contraction (``reassoc``, ``nsz``, ``arcp``,
``contract``): sums may be split into vector lanes, but inf and NaN keep their meaning.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from crossent.kernels._numba_math import LINE, MIN_ORDERED, exp_nonpositive, ordered, prefetch, unordered

__all__ = ["log_loss_rows", "softmax_rows", "softmax_rows_float32"]

_FAST = {"reassoc", "nsz", "arcp", "contract"}
_fast = njit(cache=True, inline="always", fastmath=_FAST)
_inline = njit(cache=True, error_model="numpy", inline="always")
_ZERO = np.float32(0.0)


@_inline
def _power(q: float, gamma: float) -> float:
    """q**γ for q in [0, 1], with 0**0 = 1 (losses._math.power)."""
    if gamma == 0.0:
        return 1.0
    return q**gamma if q > 0.0 or gamma >= 1.0 else 0.0


@_inline
def _power_minus_one(q: float, gamma: float) -> float:
    """γ q**(γ-1), 0 where q = 0 and γ < 1 (losses._math.power_minus_one)."""
    if gamma == 0.0:
        return 0.0
    return gamma * q ** (gamma - 1.0) if q > 0.0 or gamma >= 1.0 else 0.0


@_inline
def _term(log_p: float, p: float, gamma: float, epsilon: float) -> float:
    """The per-class term -(1-p)^γ log p + ε (1-p), whose a-weighted sum is the row's loss."""
    q = 1.0 - p
    return -_power(q, gamma) * log_p + epsilon * q


@_inline
def _h(a: float, log_p: float, p: float, gamma: float, epsilon: float) -> float:
    """h = a p d/dp[term] = a [γ p (1-p)^{γ-1} log p - (1-p)^γ - ε p]."""
    q = 1.0 - p
    p_log_p = p * log_p if p > 0.0 else 0.0  # its limit at p = 0 (a -inf logit)
    return a * (p_log_p * _power_minus_one(q, gamma) - _power(q, gamma) - epsilon * p)


@njit(parallel=True, cache=True, error_model="numpy")
def softmax_rows(
    # inputs
    z,  # [N, C] logits, float32 or float64, C-contiguous
    labels,  # [N] int64, each in [0, C) or equal to ignore_index
    sample_weight,  # [N] float64: s
    class_scale,  # [C] float64: w·α, the numerator's class factor (α: focal alpha)
    bias,  # [C] float64: τ log π added after soft-capping (logit adjustment), else zeros
    # outputs
    loss,  # [N] float64: the weighted per-sample losses ℓ
    grad,  # [N, C] dℓ/dz / divisor, z's dtype; not touched unless want_grad; may be z itself (in_place)
    # options (label_smoothing ε_s, focal γ, Poly-1 ε, z-loss λ, soft-cap c: 0 is off)
    ignore_index, smoothing, gamma, epsilon, z_loss, softcap, divisor, want_grad, in_place,
):
    # With u = cap(z) + b (cap(z) = c tanh(z/c)), p = softmax(u), LSE = log Σ exp(u), and
    # a_c = s w_c α_c ỹ_c, ỹ = (1-ε_s)[c = y] + ε_s/C:
    #     ℓ = Σ_c a_c [-(1-p_c)^γ log p_c + ε(1-p_c)] + λ s LSE²
    # Writing each term as g(p_c) and h_c = a_c p_c g'(p_c)
    #     h_c = a_c [γ p_c (1-p_c)^{γ-1} log p_c - (1-p_c)^γ - ε p_c],
    # the softmax Jacobian dp_c/du_j = p_c([c = j] - p_j) gives
    #     dℓ/du_j = h_j - p_j Σ_c h_c + 2 λ s LSE p_j     (dLSE/du_j = p_j),
    # and du_j/dz_j = 1 - tanh²(z_j/c) under soft-capping. Σ_c h_c needs every p_c only for
    # focal or Poly-1 with smoothing: for plain cross-entropy (γ = ε = 0) it is -Σ_c a_c, without
    # smoothing it is h_y alone, and either is known before the gradient pass.
    n, num_classes = z.shape
    scale_sum = 0.0  # Σ_c w_c α_c, for -Σ_c a_c with smoothing
    for c in range(num_classes):
        scale_sum += class_scale[c]
    for i in prange(n):
        y = labels[i]
        if y == ignore_index:  # a row that counts for nothing: ℓ = 0, gradient 0
            loss[i] = 0.0
            if want_grad:
                for c in range(num_classes):
                    grad[i, c] = 0.0
            continue
        # In place, pass 2 writes e over the logits that the later passes read again: the passes
        # read a copy of the row then (one allocation per row, ~20 ns against ~10 ns per logit)
        row = z[i].copy() if in_place and want_grad else z[i]
        s = sample_weight[i]
        on = s * (1.0 - smoothing) * class_scale[y]  # a_y less its smoothing share
        off = s * smoothing / num_classes  # a_c = off · w_c α_c (+ on for c = y)

        # pass 1: the maximum of u (0 if it is ±inf, as activations._shift)
        m = -math.inf
        infinite = 0
        for c in range(num_classes):
            u = float(row[c])
            if softcap > 0.0:
                u = softcap * math.tanh(u / softcap)
            u += bias[c]
            m = max(m, u)
            infinite += 1 if u == math.inf else 0
        # a +inf logit is a limit: its class has p = 1, every other p = 0, so the row is computed
        # at that limit (u + b = 0 for the inf logit, as the generic path, -inf for the others);
        # two have no limit: NaN
        hot = m == math.inf
        if infinite > 1:
            loss[i] = math.nan
            if want_grad:
                for c in range(num_classes):
                    grad[i, c] = math.nan
            continue
        if not math.isfinite(m):
            m = 0.0
        # pass 2: log Σ exp(u - m); log p = (u - m) - log_total, LSE = m + log_total. The gradient
        # row keeps e = exp(u - m) for the last pass (p = e / total): one exp per logit.
        total = 0.0
        for c in range(num_classes):
            u = float(row[c])
            if hot:
                u = -bias[c] if u == math.inf else -math.inf
            if softcap > 0.0:
                u = softcap * math.tanh(u / softcap)
            e = math.exp(u + bias[c] - m)
            total += e
            if want_grad:
                grad[i, c] = e
        if total == 0.0:  # every logit -inf: log p = -inf and LSE = -inf, an infinite loss where a
            # class counts (a_c ≠ 0) or the z-loss does (λ s ≠ 0: λ s LSE² = inf)
            counts = on != 0.0 or off * scale_sum != 0.0 or z_loss * s != 0.0
            loss[i] = math.inf if counts else 0.0
            # h_c = a_c u(0) = -a_c, p = 0 (soft-capping's slope sech²(-inf) is 0); the z-loss's
            # 2 λ s LSE p_c is 0 with p = 0, not 0 · inf (as on the generic path)
            if want_grad:
                for c in range(num_classes):
                    a = off * class_scale[c] + (on if c == y else 0.0)
                    grad[i, c] = 0.0 if softcap > 0.0 else -a / divisor
            continue
        log_total = math.log(total)
        inv_total = 1.0 / total
        lse = m + log_total

        # the label's own term, and Σh where it has a closed form
        u = float(row[y])
        if hot:
            u = -bias[y] if u == math.inf else -math.inf
        if softcap > 0.0:
            u = softcap * math.tanh(u / softcap)
        log_p_y = (u + bias[y] - m) - log_total
        p_y = math.exp(log_p_y)
        row_loss = on * _term(log_p_y, p_y, gamma, epsilon) if on != 0.0 else 0.0  # (0 · inf where p_y = 0)
        if gamma == 0.0 and epsilon == 0.0:
            sum_h = -(on + off * scale_sum)
        elif smoothing == 0.0:
            sum_h = _h(on, log_p_y, p_y, gamma, epsilon)
        else:  # pass 3 (focal or Poly-1 with smoothing only): Σ_c h_c
            sum_h = 0.0
            for c in range(num_classes):
                u = float(row[c])
                if hot:
                    u = -bias[c] if u == math.inf else -math.inf
                if softcap > 0.0:
                    u = softcap * math.tanh(u / softcap)
                log_p = (u + bias[c] - m) - log_total
                p = grad[i, c] * inv_total if want_grad else math.exp(log_p)
                a = off * class_scale[c] + (on if c == y else 0.0)
                sum_h += _h(a, log_p, p, gamma, epsilon)

        # last pass: the smoothing share of the loss, and the gradient, each class once
        zl = 2.0 * z_loss * s * lse if z_loss != 0.0 else 0.0  # (lse may be inf)
        if want_grad and smoothing == 0.0 and gamma == 0.0 and epsilon == 0.0 and softcap == 0.0:
            # plain cross-entropy (z-loss, weights): dℓ/dz_c = p_c (zl - Σh) - a_y [c = y]
            k = (zl - sum_h) * inv_total / divisor
            for c in range(num_classes):
                grad[i, c] *= k
            grad[i, y] = grad[i, y] - on / divisor
        elif want_grad or smoothing > 0.0:
            for c in range(num_classes):
                t = 0.0
                u = float(row[c])
                if hot:
                    u = -bias[c] if u == math.inf else -math.inf
                if softcap > 0.0:
                    t = math.tanh(u / softcap)
                    u = softcap * t
                log_p = (u + bias[c] - m) - log_total
                p = grad[i, c] * inv_total if want_grad else math.exp(log_p)
                a_off = off * class_scale[c]
                if a_off != 0.0:  # (a class with a = 0 adds nothing, even where log p = -inf)
                    row_loss += a_off * _term(log_p, p, gamma, epsilon)
                if want_grad:
                    a = a_off + (on if c == y else 0.0)
                    g = _h(a, log_p, p, gamma, epsilon) - p * sum_h + zl * p
                    if softcap > 0.0:
                        g *= 1.0 - t * t
                    grad[i, c] = g / divisor
        loss[i] = row_loss + z_loss * s * lse * lse if z_loss != 0.0 else row_loss


@_fast
def _probability_row(row, tolerance):  # type: ignore[no-untyped-def]
    """Whether a row's values lie in [0, 1] (NaN does not) and sum to 1 within ``tolerance``."""
    total = 0.0
    outside = 0
    for c in range(row.size):
        v = row[c]
        total += v
        outside += 0 if (v >= 0.0 and v <= 1.0) else 1
    return outside == 0 and abs(total - 1.0) <= tolerance


@njit(parallel=True, cache=True, error_model="numpy", fastmath=_FAST)
def log_loss_rows(
    # inputs
    prob,  # [N, C] probabilities, C-contiguous
    labels,  # [N] int64, each in [0, C) or equal to ignore_index
    sample_weight,  # [N] float64: s
    class_scale,  # [C] float64: w·α, the numerator's class factor
    # outputs
    loss,  # [N] float64: Σ_c a_c (-log p_c)
    grad,  # [N, C] dℓ/dp / divisor = -a_c / p_c / divisor (0 where p was clipped), prob's dtype
    # options
    ignore_index, smoothing, eps, divisor, want_grad,  # eps: clip p to [eps, 1 - eps]; 0 is off
    tolerance,  # rows are checked to be probabilities (see _probability_row); inf: not checked
):  # -> the number of rows that are not probabilities (their loss is not computed)
    # ℓ = -Σ_c a_c log p_c with a_c = s w_c α_c ỹ_c; classes with a_c = 0 add nothing (their
    # log p is not taken: log 0 = -inf there is no loss); -log 0 = inf and -a/0 = -inf are kept.
    # Each row is checked as it is read, and its label's probability then comes from the cache:
    # one sequential read of the probabilities, not a check pass and a gather.
    n, num_classes = prob.shape
    bad = 0
    for i in prange(n):
        if tolerance < math.inf and not _probability_row(prob[i], tolerance):
            bad += 1
            continue
        y = labels[i]
        if want_grad:
            for c in range(num_classes):
                grad[i, c] = 0.0
        if y == ignore_index:
            loss[i] = 0.0
            continue
        s = sample_weight[i]
        on = s * (1.0 - smoothing) * class_scale[y]
        off = s * smoothing / num_classes
        row_loss = 0.0
        first, stop = (0, num_classes) if smoothing > 0.0 else (y, y + 1)  # the classes with a ≠ 0
        for c in range(first, stop):
            a = off * class_scale[c] + (on if c == y else 0.0)
            if a == 0.0:
                continue
            p = float(prob[i, c])
            # clipped where p < eps or 1 - p < eps as exact numbers (1 - p is exact for p >= 1/2;
            # 1.0 - eps rounded is not), with the generic path's clipped logs
            inside = eps == 0.0 or (eps <= p and 1.0 - p >= eps)
            if inside:
                row_loss -= a * math.log(p)
                if want_grad:
                    grad[i, c] = -a / p / divisor
            else:
                row_loss -= a * (math.log(eps) if p < eps else math.log1p(-eps))
        loss[i] = row_loss
    return bad


@_fast
def _max_pass(row, bias):  # type: ignore[no-untyped-def]
    """max_c (row[c] + bias[c]) (bias may be empty), through the int32 keys of ``ordered``."""
    key = MIN_ORDERED
    if bias.size:
        for c in range(row.size):
            key = max(key, ordered(row[c] + bias[c]))
    else:
        for c in range(row.size):
            key = max(key, ordered(row[c]))
    return unordered(key)


_LINES = 4
"""Cache lines per block of the exponential passes (see :func:`_exp_pass`)."""
_BLOCK = _LINES * LINE


@njit(cache=True)
def _exp_tail(source, out, bias, m, start):  # type: ignore[no-untyped-def]
    """Σ_c exp(source[c] + bias[c] - m) over c ≥ start, each stored in out (unless it is empty):
    the rest of a row after its whole blocks, added in order (no fastmath, so no vectorized order
    that depends on where the loop is inlined)."""
    total = _ZERO
    for c in range(start, source.size):
        e = exp_nonpositive(source[c] + (bias[c] if bias.size else _ZERO) - m)
        if out.size:
            out[c] = e
        total += e
    return total


@_fast
def _exp_pass(source, out, bias, m, ahead):  # type: ignore[no-untyped-def]
    """out[c] = exp(source[c] + bias[c] - m) (out may be source itself); returns Σ_c out[c]. One
    cache line of ``ahead`` (the next row) is prefetched per line computed here.

    The row goes in blocks of ``_LINES`` cache lines. Lane j of a block adds its lines' elements
    j, 16 + j, ... (one float32 vector per line), and one sum across the 16 lanes ends the block,
    which is then added to the row's sum. Summed across lanes at every line, with the row's sum
    carried through each line's, the adds cost more than the exponentials (the maximum and
    exponential passes at 8192 × 32000: 0.093 s so, 0.058 s in blocks). The rest of the row after
    its whole blocks is summed in order (:func:`_exp_tail`): vectorized under fastmath, it was
    summed in another order where ``out`` is ``source`` than where it is not, and a gradient
    written over the logits differed in its last bit from one written into another array."""
    total = _ZERO
    n = source.size
    whole = n - n % _BLOCK
    for start in range(0, whole, _BLOCK):
        for line in range(_LINES):
            prefetch(ahead, start + line * LINE)
        block = _ZERO
        if bias.size:
            for j in range(start, start + LINE):
                e0 = exp_nonpositive(source[j] + bias[j] - m)
                e1 = exp_nonpositive(source[j + LINE] + bias[j + LINE] - m)
                e2 = exp_nonpositive(source[j + 2 * LINE] + bias[j + 2 * LINE] - m)
                e3 = exp_nonpositive(source[j + 3 * LINE] + bias[j + 3 * LINE] - m)
                out[j], out[j + LINE], out[j + 2 * LINE], out[j + 3 * LINE] = e0, e1, e2, e3
                block += (e0 + e1) + (e2 + e3)
        else:
            for j in range(start, start + LINE):
                e0 = exp_nonpositive(source[j] - m)
                e1 = exp_nonpositive(source[j + LINE] - m)
                e2 = exp_nonpositive(source[j + 2 * LINE] - m)
                e3 = exp_nonpositive(source[j + 3 * LINE] - m)
                out[j], out[j + LINE], out[j + 2 * LINE], out[j + 3 * LINE] = e0, e1, e2, e3
                block += (e0 + e1) + (e2 + e3)
        total += block
    return total + _exp_tail(source, out, bias, m, whole)


@_fast
def _sum_exp_pass(row, bias, m, ahead):  # type: ignore[no-untyped-def]
    """Σ_c exp(row[c] + bias[c] - m), nothing stored; ``ahead`` prefetched and the blocks summed
    as in _exp_pass."""
    total = _ZERO
    n = row.size
    whole = n - n % _BLOCK
    for start in range(0, whole, _BLOCK):
        for line in range(_LINES):
            prefetch(ahead, start + line * LINE)
        block = _ZERO
        if bias.size:
            for j in range(start, start + LINE):
                block += ((exp_nonpositive(row[j] + bias[j] - m)
                           + exp_nonpositive(row[j + LINE] + bias[j + LINE] - m))
                          + (exp_nonpositive(row[j + 2 * LINE] + bias[j + 2 * LINE] - m)
                             + exp_nonpositive(row[j + 3 * LINE] + bias[j + 3 * LINE] - m)))
        else:
            for j in range(start, start + LINE):
                block += ((exp_nonpositive(row[j] - m) + exp_nonpositive(row[j + LINE] - m))
                          + (exp_nonpositive(row[j + 2 * LINE] - m) + exp_nonpositive(row[j + 3 * LINE] - m)))
        total += block
    return total + _exp_tail(row, row[:0], bias, m, whole)


@_fast
def _weighted_sum_pass(row, bias, scale, m):  # type: ignore[no-untyped-def]
    """Σ_c scale[c] (row[c] + bias[c] - m), a class of scale 0 adding 0 even at a -inf logit."""
    total = _ZERO
    if bias.size:
        for c in range(row.size):
            total += scale[c] * (row[c] + bias[c] - m) if scale[c] != _ZERO else _ZERO
    else:
        for c in range(row.size):
            total += scale[c] * (row[c] - m) if scale[c] != _ZERO else _ZERO
    return total


@njit(parallel=True, cache=True, error_model="numpy", fastmath=_FAST)
def softmax_rows_float32(
    # inputs
    z,  # [N, C] float32 logits, C-contiguous
    labels,  # [N] int64, each in [0, C) or equal to ignore_index
    sample_weight,  # [N] float64: s
    class_scale,  # [C] float64: w·α
    class_scale32,  # [C] float32: the same, for the vectorized passes
    bias,  # [C] float32: τ log π (logit adjustment), or empty
    # outputs
    loss,  # [N] float64: the weighted per-sample losses ℓ
    grad,  # [N, C] float32: dℓ/dz / divisor, written if want_grad; may be z itself (in_place)
    fallback,  # [N] bool: rows whose maximum is not finite, left for softmax_rows
    # options (focal γ and Poly-1 ε only without label smoothing: the caller's rule)
    ignore_index, smoothing, gamma, epsilon, z_loss, divisor, want_grad, in_place,
):
    # The cross-entropy with class and sample weights, label smoothing, z-loss and logit
    # adjustment, no soft-cap. With u = z + b, LSE = log Σ exp(u), p = softmax(u),
    # a_c = s w_c α_c ỹ_c = on [c = y] + off w_c α_c (on = s (1 - ε_s) w_y α_y, off = s ε_s / C):
    #     ℓ = Σ_c a_c (LSE - u_c) + λ s LSE²,    dℓ/du_c = (Σ_c a_c + 2 λ s LSE) p_c - a_c.
    # With focal γ or Poly-1 ε (and no smoothing) only the label's term counts:
    #     ℓ = on [-(1 - p_y)^γ log p_y + ε (1 - p_y)] + λ s LSE²,
    #     dℓ/du_c = (2 λ s LSE - h_y) p_c + h_y [c = y],   h_y = on p_y d/dp_y[term] (_h),
    # the same shape: a multiple of p_c, and the label's own correction, from per-row scalars.
    # Three passes over the row, all from cache: the maximum m of u; e_c = exp(u_c - m) into the
    # gradient row and their sum S, while the next row is prefetched (so that its first pass does
    # not wait on memory: 0.125 s -> 0.107 s at 8192 × 32000); the gradient
    # k e_c - off w_c α_c / divisor, k = (2λ s LSE - Σh) / (S divisor), then h_y / divisor at y
    # (cross-entropy: h_c = -a_c, Σh = -Σa).
    n, num_classes = z.shape
    scale_sum = 0.0  # Σ_c w_c α_c
    for c in range(num_classes):
        scale_sum += class_scale[c]
    for i in prange(n):
        fallback[i] = False
        y = labels[i]
        if y == ignore_index:
            loss[i] = 0.0
            if want_grad:
                g = grad[i]
                for c in range(num_classes):
                    g[c] = _ZERO
            continue
        row = z[i]
        m = _max_pass(row, bias)
        if not math.isfinite(m):  # an inf or NaN logit: the careful path of softmax_rows
            fallback[i] = True
            continue
        z_y, b_y = float(row[y]), (float(bias[y]) if bias.size else 0.0)  # read before an in-place pass
        s = sample_weight[i]
        on = s * (1.0 - smoothing) * class_scale[y]
        off = s * smoothing / num_classes
        shifted = float(_weighted_sum_pass(row, bias, class_scale32, m)) if off != 0.0 else 0.0
        if not want_grad:
            total = float(_sum_exp_pass(row, bias, m, z[min(i + 1, n - 1)]))
        elif in_place:
            g = grad[i]
            total = float(_exp_pass(g, g, bias, m, z[min(i + 1, n - 1)]))
        else:
            total = float(_exp_pass(row, grad[i], bias, m, z[min(i + 1, n - 1)]))
        log_total = math.log(total)
        lse = float(m) + log_total
        # Σ_c a_c (LSE - u_c) = on (LSE - u_y) + off Σ_c w_c α_c (log S - (u_c - m)), each -log p ≥ 0:
        # m - z_y first (they may be equal at a huge logit, where z_y + b_y would lose b_y), and
        # no rounding of the passes' reassociated sums below 0 (-2.6 at z = 1e30 without it)
        label_term = max(((float(m) - z_y) - b_y) + log_total, 0.0)
        smoothing_term = max(scale_sum * log_total - shifted, 0.0) if off != 0.0 else 0.0
        if gamma == 0.0 and epsilon == 0.0:
            h_y, sum_h = -on, -(on + off * scale_sum)
        else:  # the focal or Poly-1 term of the label (off = 0), in float64 from log p_y
            log_p_y = -label_term
            p_y = math.exp(log_p_y)
            label_term = _term(log_p_y, p_y, gamma, epsilon)
            h_y = _h(on, log_p_y, p_y, gamma, epsilon)
            sum_h = h_y
        # (a weight of 0 adds nothing, even to an infinite term: a -inf logit of the label)
        loss[i] = ((on * label_term if on != 0.0 else 0.0) + (off * smoothing_term if off != 0.0 else 0.0)
                   + z_loss * s * lse * lse)
        if want_grad:
            g = grad[i]
            k = np.float32((2.0 * z_loss * s * lse - sum_h) / total / divisor)
            if off != 0.0:
                b = np.float32(off / divisor)
                for c in range(num_classes):
                    g[c] = g[c] * k - b * class_scale32[c]
            else:
                for c in range(num_classes):
                    g[c] = g[c] * k
            g[y] += np.float32(h_y / divisor)

