"""Numba CPU kernels: the softmax and sigmoid cross-entropies, value and gradient in one sweep.

Each kernel is the delegation branch of a generic core (``_softmax_loss``, ``_sigmoid_loss``):
the core validates the inputs and reduces the result exactly as on its generic path, and only the
per-sample losses and their gradient come from here. Rows run in parallel (``prange``); a row
is read from memory once (its later passes hit the cache: a row of 32k float32 logits is 128 KiB)
and its gradient written once. Element arithmetic and every per-row sum are float64, whatever the
input dtype; results are stored in the input dtype (float32 or float64: the cores compute
float16 and bfloat16 in float32).

No ``fastmath``: the kernels rely on inf and NaN propagating as in the generic path (a +inf
logit gives NaN there, a probability of 0 an infinite loss), which fastmath's no-inf/no-NaN
flags would break; reassociated sums would buy little, since exp and log dominate the time.
``error_model="numpy"`` makes 1/0 = inf, as in NumPy, instead of raising ZeroDivisionError.
``cache=True`` keeps the compiled code on disk (``__pycache__`` next to this file, or
``NUMBA_CACHE_DIR``), so that a command-line run compiles nothing after the first.

Switch: ``ENABLED`` (from the environment variable ``CROSSENT_KERNELS``; ``0`` turns the kernels
off) is read by the cores on every call, so tests can force either path by setting it. Without
numba this module does not import and the cores take the generic path.
"""

from __future__ import annotations

import math
import os

import numpy as np
from numba import njit, prange

__all__ = ["ENABLED", "log_loss", "sigmoid_cross_entropy", "softmax_cross_entropy"]

ENABLED = os.environ.get("CROSSENT_KERNELS", "1") != "0"
"""False sends every call to the generic path (``CROSSENT_KERNELS=0``)."""

MIN_ELEMENTS = 1 << 16
"""Smaller predictions take the generic path. Launching the parallel kernels buys nothing on a
few thousand elements, and between BLAS calls (a solver step: X @ W, loss, Xᵀ @ G) Numba's
worker threads and OpenBLAS's spinning threads fight over the cores: on the 2-core machine
``crossent compare`` took 25 s with every small call on the kernels and 1 s without."""

_jit = njit(parallel=True, cache=True, error_model="numpy")
_inline = njit(cache=True, error_model="numpy", inline="always")


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
    return a * (p * _power_minus_one(q, gamma) * log_p - _power(q, gamma) - epsilon * p)


@_jit
def _softmax_rows(
    # inputs
    z,  # [N, C] logits, float32 or float64, C-contiguous
    labels,  # [N] int64, each in [0, C) or equal to ignore_index
    sample_weight,  # [N] float64: s
    class_weight,  # [C] float64: w, in the numerator and in the mean's denominator
    class_scale,  # [C] float64: w·α, the numerator's class factor (α: focal alpha)
    bias,  # [C] float64: τ log π added after soft-capping (logit adjustment), else zeros
    # outputs
    loss,  # [N] the weighted per-sample losses ℓ, z's dtype
    row_weight,  # [N] float64: s w_y (0 for an ignored row), the mean's denominator
    grad,  # [N, C] dℓ/dz, z's dtype; not touched unless want_grad
    # options (label_smoothing ε_s, focal γ, Poly-1 ε, z-loss λ, soft-cap c: 0 is off)
    ignore_index, smoothing, gamma, epsilon, z_loss, softcap, want_grad,
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
            row_weight[i] = 0.0
            if want_grad:
                for c in range(num_classes):
                    grad[i, c] = 0.0
            continue
        s = sample_weight[i]
        row_weight[i] = s * class_weight[y]
        on = s * (1.0 - smoothing) * class_scale[y]  # a_y less its smoothing share
        off = s * smoothing / num_classes  # a_c = off · w_c α_c (+ on for c = y)

        # pass 1: the maximum of u (0 if it is ±inf, as activations._shift)
        m = -math.inf
        for c in range(num_classes):
            u = float(z[i, c])
            if softcap > 0.0:
                u = softcap * math.tanh(u / softcap)
            u += bias[c]
            m = max(m, u)
        if not math.isfinite(m):
            m = 0.0
        # pass 2: log Σ exp(u - m); log p = (u - m) - log_total, LSE = m + log_total. The gradient
        # row keeps e = exp(u - m) for the last pass (p = e / total): one exp per logit.
        total = 0.0
        for c in range(num_classes):
            u = float(z[i, c])
            if softcap > 0.0:
                u = softcap * math.tanh(u / softcap)
            e = math.exp(u + bias[c] - m)
            total += e
            if want_grad:
                grad[i, c] = e
        log_total = math.log(total)
        inv_total = 1.0 / total
        lse = m + log_total

        # the label's own term, and Σh where it has a closed form
        u = float(z[i, y])
        if softcap > 0.0:
            u = softcap * math.tanh(u / softcap)
        log_p_y = (u + bias[y] - m) - log_total
        p_y = math.exp(log_p_y)
        row_loss = on * _term(log_p_y, p_y, gamma, epsilon)
        if gamma == 0.0 and epsilon == 0.0:
            sum_h = -(on + off * scale_sum)
        elif smoothing == 0.0:
            sum_h = _h(on, log_p_y, p_y, gamma, epsilon)
        else:  # pass 3 (focal or Poly-1 with smoothing only): Σ_c h_c
            sum_h = 0.0
            for c in range(num_classes):
                u = float(z[i, c])
                if softcap > 0.0:
                    u = softcap * math.tanh(u / softcap)
                log_p = (u + bias[c] - m) - log_total
                p = grad[i, c] * inv_total if want_grad else math.exp(log_p)
                a = off * class_scale[c] + (on if c == y else 0.0)
                sum_h += _h(a, log_p, p, gamma, epsilon)

        # last pass: the smoothing share of the loss, and the gradient, each class once
        zl = 2.0 * z_loss * s * lse
        if want_grad and smoothing == 0.0 and gamma == 0.0 and epsilon == 0.0 and softcap == 0.0:
            # plain cross-entropy (z-loss, weights): dℓ/dz_c = p_c (zl - Σh) - a_y [c = y]
            k = (zl - sum_h) * inv_total
            for c in range(num_classes):
                grad[i, c] *= k
            grad[i, y] = grad[i, y] - on
        elif want_grad or smoothing > 0.0:
            for c in range(num_classes):
                t = 0.0
                u = float(z[i, c])
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
                    grad[i, c] = g
        loss[i] = row_loss + z_loss * s * lse * lse


@_jit
def _log_loss_rows(
    # inputs
    prob,  # [N, C] probabilities (validated: in [0, 1], rows summing to 1), C-contiguous
    labels,  # [N] int64, each in [0, C) or equal to ignore_index
    sample_weight,  # [N] float64: s
    class_weight,  # [C] float64: w, numerator and the mean's denominator
    class_scale,  # [C] float64: w·α, the numerator's class factor
    # outputs
    loss,  # [N] Σ_c a_c (-log p_c), prob's dtype
    row_weight,  # [N] float64: s w_y (0 for an ignored row)
    grad,  # [N, C] dℓ/dp = -a_c / p_c (0 where p was clipped), prob's dtype; only if want_grad
    # options
    ignore_index, smoothing, eps, want_grad,  # eps: clip p to [eps, 1 - eps]; 0 is off
):
    # ℓ = -Σ_c a_c log p_c with a_c = s w_c α_c ỹ_c; classes with a_c = 0 add nothing (their
    # log p is not taken: log 0 = -inf there is no loss); -log 0 = inf and -a/0 = -inf are kept.
    n, num_classes = prob.shape
    for i in prange(n):
        y = labels[i]
        if want_grad:
            for c in range(num_classes):
                grad[i, c] = 0.0
        if y == ignore_index:
            loss[i] = 0.0
            row_weight[i] = 0.0
            continue
        s = sample_weight[i]
        row_weight[i] = s * class_weight[y]
        on = s * (1.0 - smoothing) * class_scale[y]
        off = s * smoothing / num_classes
        row_loss = 0.0
        first, stop = (0, num_classes) if smoothing > 0.0 else (y, y + 1)  # the classes with a ≠ 0
        for c in range(first, stop):
            a = off * class_scale[c] + (on if c == y else 0.0)
            if a == 0.0:
                continue
            p = float(prob[i, c])
            inside = eps == 0.0 or (eps <= p <= 1.0 - eps)
            p = min(max(p, eps), 1.0 - eps) if eps > 0.0 else p
            row_loss -= a * math.log(p)
            if want_grad and inside:
                grad[i, c] = -a / p
        loss[i] = row_loss


@_jit
def _sigmoid_elements(
    # inputs, flat
    z,  # [n] logits, float32 or float64
    y,  # [n] targets in [0, 1], z's dtype
    sample_weight, s_step,  # [n] (step 1) or [1] (step 0): s, z's dtype
    pos_weight, pw_step,  # [n] or [1]: w⁺, z's dtype
    # outputs
    loss,  # [n] s ℓ, z's dtype
    grad,  # [n] dℓ/dz, z's dtype; only if want_grad
    # options
    smoothing, want_grad,  # label smoothing ε: ỹ = y(1 - ε) + ε/2
):
    # ℓ = -s [w⁺ ỹ log σ(z) + (1 - ỹ) log σ(-z)], log σ(z) = -logaddexp(0, -z) (exact at any z).
    # dlog σ(z)/dz = σ(-z) = q, dlog σ(-z)/dz = -σ(z) = -p, so dℓ/dz = s [-w⁺ ỹ q + (1 - ỹ) p],
    # with p = exp(log σ(z)) and q = exp(log σ(-z)), each exact (neither is 1 minus the other).
    for i in prange(z.shape[0]):
        x = float(z[i])
        t = y[i] * (1.0 - smoothing) + 0.5 * smoothing
        c_pos = t * pos_weight[i * pw_step]
        c_neg = 1.0 - t
        s = sample_weight[i * s_step]
        # logaddexp(0, v) = max(v, 0) + log1p(exp(-|v|)); with e = exp(-|z|) the larger of p, q is
        # 1 / (1 + e) and the smaller e / (1 + e), each exact: two transcendentals per element
        e = math.exp(-abs(x))
        log1p_term = math.log1p(e)
        log_p = -(max(-x, 0.0) + log1p_term)
        log_q = -(max(x, 0.0) + log1p_term)
        loss[i] = -s * (c_pos * log_p + c_neg * log_q)
        if want_grad:
            big = 1.0 / (1.0 + e)
            small = e * big
            p, q = (big, small) if x >= 0.0 else (small, big)
            grad[i] = s * (c_neg * p - c_pos * q)


def _vector(values: np.ndarray | float | None, length: int, fill: float = 1.0) -> np.ndarray:
    """A validated per-row or per-class option (an array or a number) as float64 ``[length]``,
    ``fill`` where it is None."""
    if values is None:
        return np.full(length, fill)
    # a fresh array: a read-only view would be another signature to compile
    return np.array(np.broadcast_to(np.asarray(values, dtype=np.float64).reshape(-1), (length,)))


def softmax_cross_entropy(
    z: np.ndarray, labels: np.ndarray, sample_weight: np.ndarray | None,
    class_weight: np.ndarray | None, alpha: np.ndarray | float | None, bias: np.ndarray | None, *,
    ignore_index: int | None, smoothing: float, gamma: float, epsilon: float, z_loss: float,
    softcap: float | None, grad: bool,
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
    """Per-row losses, the gradient (or None) and per-row weights (the mean's denominator) of
    the softmax loss of ``_softmax_loss`` for ``z [N, C]``, integer ``labels [N]`` and validated
    options (``sample_weight [N]``, ``class_weight``, ``alpha``, ``bias`` = τ log π ``[C]``)."""
    n, num_classes = z.shape
    z = np.ascontiguousarray(z)
    w = _vector(class_weight, num_classes)
    loss, row_weight = np.empty(n, z.dtype), np.empty(n)
    g = np.empty((n, num_classes) if grad else (0, num_classes), z.dtype)
    _softmax_rows(z, _labels(labels, n), _vector(sample_weight, n), w,
                  w * _vector(alpha, num_classes), _vector(bias, num_classes, 0.0),
                  loss, row_weight, g,
                  _ignore(ignore_index), smoothing, gamma, epsilon, z_loss, softcap or 0.0, grad)
    return loss, g if grad else None, row_weight


def log_loss(
    prob: np.ndarray, labels: np.ndarray, sample_weight: np.ndarray | None,
    class_weight: np.ndarray | None, alpha: np.ndarray | float | None, *, ignore_index: int | None,
    smoothing: float, eps: float | None, grad: bool,
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
    """:func:`softmax_cross_entropy` from probabilities ``prob [N, C]``: -Σ_c a_c log p_c."""
    n, num_classes = prob.shape
    prob = np.ascontiguousarray(prob)
    w = _vector(class_weight, num_classes)
    loss, row_weight = np.empty(n, prob.dtype), np.empty(n)
    g = np.empty((n, num_classes) if grad else (0, num_classes), prob.dtype)
    _log_loss_rows(prob, _labels(labels, n), _vector(sample_weight, n), w,
                   w * _vector(alpha, num_classes), loss, row_weight, g,
                   _ignore(ignore_index), smoothing, eps or 0.0, grad)
    return loss, g if grad else None, row_weight


def sigmoid_cross_entropy(
    z: np.ndarray, y: np.ndarray, sample_weight: np.ndarray | None,
    pos_weight: np.ndarray | None, *, smoothing: float, grad: bool,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Element-wise losses and gradient (or None) of binary cross-entropy from logits ``z``;
    ``y``, ``sample_weight`` and ``pos_weight`` validated and broadcast to ``z``'s shape."""
    s, s_step = _elementwise(sample_weight, z.dtype)
    pw, pw_step = _elementwise(pos_weight, z.dtype)
    flat = np.ascontiguousarray(z).reshape(-1)
    loss = np.empty(flat.shape, z.dtype)
    g = np.empty(flat.shape if grad else (0,), z.dtype)
    _sigmoid_elements(flat, np.ascontiguousarray(y, dtype=z.dtype).reshape(-1), s, s_step, pw, pw_step,
                      loss, g, smoothing, grad)
    return loss.reshape(z.shape), g.reshape(z.shape) if grad else None


def _labels(labels: np.ndarray, n: int) -> np.ndarray:
    return np.array(labels, dtype=np.int64).reshape(n)  # a copy, writable: one signature


def _ignore(ignore_index: int | None) -> int:
    # labels are validated to lie in [0, C) where ignore_index is None: -1 then matches none
    return -1 if ignore_index is None else ignore_index


def _elementwise(values: np.ndarray | None, dtype: np.dtype) -> tuple[np.ndarray, int]:
    """(flat values, step) of a weight broadcast to the prediction: one value, read at every
    index with step 0, when it is None or broadcast from a scalar (not materialized)."""
    if values is None:
        return np.ones(1, dtype), 0
    if not any(values.strides):
        return np.full(1, values.flat[0], dtype), 0
    return np.array(values, dtype=dtype).reshape(-1), 1  # a copy: a read-only view is another signature
