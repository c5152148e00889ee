"""Triton kernels: the softmax and sigmoid cross-entropies, value and gradient in one launch.

The GPU twins of ``_cpu``'s kernels, for PyTorch tensors on a CUDA (or ROCm) device; the same
math as the generic cores (``_softmax_loss``, ``_sigmoid_loss``), whose derivations are repeated
next to the code. Under ``TRITON_INTERPRET=1`` (set before ``triton`` is imported) they also run
on CPU tensors, which is how the tests hold them to the generic path on a machine without a GPU.

No host sync, anywhere. The launchers validate what they can see without reading values
(types, dtypes, shapes, devices, strides) and never call ``.item()``; whatever depends on values
is decided on the device:

- a label outside ``[0, C)`` that is not ``ignore_index`` cannot raise: the kernel reads nothing
  at it and gives its row a NaN loss, a NaN row weight and a NaN gradient row, so that any
  reduction of the batch is NaN (the generic path raises ``ValueError`` instead);
- the mean's denominator Σᵢ sᵢ w_{yᵢ} depends on the labels: the softmax kernel returns the
  per-row weights, the caller sums them on the device and passes ``grad_scale`` as a 0-d
  tensor (say ``1 / row_weight.sum()``), which the kernel reads from memory and multiplies into
  every gradient element, so that the gradient is written once, already reduced.

Accumulation is float32 whatever the input dtype (float32, float16, bfloat16): each element is
converted on load, losses and row weights are float32, and the gradient is rounded to the input
dtype on store. The softmax kernel runs one program per row and sweeps the row in blocks of at
most ``MAX_BLOCK`` classes, first with an online maximum and sum (the log-sum-exp of a 2¹⁷-class
row needs no more registers than a short one), then once more to write the gradient (a third
sweep only for focal loss with label smoothing, where Σ_c h_c needs every p_c). The row is read
two or three times and the gradient written once (whether the later reads of a long row hit L2
is not measured: this was written and tested without a GPU). ``in_place=True`` writes the gradient over the logits,
block by block after they are read, saving the allocation of a second [N, C] buffer.

Elementary functions use only exp and log: ``libdevice`` (tanh, log1p) is not available under
the interpreter, so tanh and log1p are written here to full float32 precision (a Taylor series
where tanh's exp form cancels, Goldberg's trick for log1p). Every load and store is masked, and
offsets are int64 (N·C may exceed 2³¹).
"""

from __future__ import annotations

import math
from typing import Any

import torch
import triton
import triton.language as tl

from crossent import _checks

__all__ = ["ELEMENTWISE_BLOCK", "MAX_BLOCK", "sigmoid_cross_entropy", "softmax_cross_entropy"]

MAX_BLOCK = 4096
"""The most classes a softmax program holds at once; longer rows are swept in blocks of this
size. (A module variable, read on each call, so that tests can force several blocks on short
rows.)"""

ELEMENTWISE_BLOCK = 1024
"""Elements per program of the binary cross-entropy kernel."""

_FLOAT_DTYPES = (torch.float32, torch.float16, torch.bfloat16)


@triton.jit
def _tanh(x):
    # tanh|x| = (1 - e) / (1 + e) with e = exp(-2|x|) ≤ 1 (no overflow at any x, ±1 at ±inf).
    # Below |x| = 1/8, where 1 - e cancels, the Taylor series x - x³/3 + 2x⁵/15 - 17x⁷/315
    # (relative error < 2e-9 there). libdevice.tanh would do, but not under the interpreter.
    a = tl.abs(x)
    e = tl.exp(-2.0 * a)
    big = (1.0 - e) / (1.0 + e)
    x2 = x * x
    small = x * (1.0 + x2 * (-0.3333333333333333 + x2 * (0.13333333333333333 + x2 * -0.05396825396825397)))
    return tl.where(a < 0.125, small, tl.where(x < 0.0, -big, big))


@triton.jit
def _sech2(x):
    # sech²(x) = 1 - tanh²(x) = 4e / (1 + e)² with e = exp(-2|x|): exact where 1 - tanh² cancels
    # (it loses a digit per factor 10 of 1 / sech², and is 0 from |x| ≈ 9 on in float32)
    e = tl.exp(-2.0 * tl.abs(x))
    return 4.0 * e / ((1.0 + e) * (1.0 + e))


@triton.jit
def _log1p(e):
    # log(1 + e) for e ≥ 0, exact to a few ulp (Goldberg's trick): w = 1 + e rounds, but
    # log(w) · e / (w - 1) divides out the rounding; where w rounds to 1, log(1 + e) = e.
    w = 1.0 + e
    exact = w == 1.0
    return tl.where(exact, e, tl.log(w) * (e / tl.where(exact, 1.0, w - 1.0)))


@triton.jit
def _focal_factors(q, gamma):
    # (q^γ, γ q^{γ-1}) for q = 1 - p in [0, 1] and γ > 0, with the limits at q = 0 that
    # losses._math.power and power_minus_one take: 0^γ = 0, γ·0^{γ-1} = [γ = 1].
    positive = q > 0.0
    q_safe = tl.where(positive, q, 1.0)
    q_gamma = tl.exp(gamma * tl.log(q_safe))
    d = tl.where(positive, gamma * q_gamma / q_safe, tl.where(gamma == 1.0, 1.0, 0.0))
    return tl.where(positive, q_gamma, 0.0), d


@triton.jit
def _p_log_p(p, log_p):
    # p log p, 0 where p = 0 (log p may be -inf there: a masked logit)
    return tl.where(p > 0.0, p * log_p, 0.0)


@triton.jit
def _softmax_rows(
    # inputs
    z_ptr,  # [N, C] logits (float32/16/bf16), class stride 1, row stride z_row_stride
    labels_ptr,  # [N] integer labels, each in [0, C), ignore_index, or invalid (a NaN row)
    sample_weight_ptr,  # [N] s (read only if HAS_SAMPLE_WEIGHT)
    class_weight_ptr,  # [C] w, in the numerator and in the mean's denominator (if HAS_CLASS_WEIGHT)
    grad_scale_ptr,  # [1] the gradient's factor (read only if SCALE_FROM_MEMORY)
    # outputs
    loss_ptr,  # [N] float32: the weighted per-row losses ℓ
    row_weight_ptr,  # [N] float32: s w_y, 0 for an ignored row (the mean's denominator)
    grad_ptr,  # [N, C] dℓ/dz · grad_scale in z's dtype, row stride grad_row_stride (may be z_ptr)
    # shapes and strides
    num_classes, z_row_stride, grad_row_stride,
    # options (label smoothing ε, z-loss λ, soft-cap c, focal γ; the flags below say which are on)
    ignore_index, smoothing, z_loss, softcap, gamma, grad_scale,
    HAS_SAMPLE_WEIGHT: tl.constexpr, HAS_CLASS_WEIGHT: tl.constexpr, HAS_IGNORE_INDEX: tl.constexpr,
    SMOOTHING: tl.constexpr, FOCAL: tl.constexpr, SOFTCAP: tl.constexpr, Z_LOSS: tl.constexpr,
    GRAD: tl.constexpr, SCALE_FROM_MEMORY: tl.constexpr,
    BLOCK: tl.constexpr,  # classes per sweep step, a power of 2
):
    # With u = c tanh(z/c) (or z), p = softmax(u), LSE = log Σ exp(u), a_c = s w_c ỹ_c and
    # ỹ = (1-ε)[c = y] + ε/C:
    #     ℓ = Σ_c a_c [-(1-p_c)^γ log p_c] + λ s LSE².
    # Writing each term as g(p_c) and h_c = a_c p_c g'(p_c) = a_c [γ p_c (1-p_c)^{γ-1} log p_c - (1-p_c)^γ],
    # the softmax Jacobian dp_c/du_j = p_c([c = j] - p_j) gives
    #     dℓ/du_j = h_j - p_j Σ_c h_c + 2 λ s LSE p_j     (dLSE/du_j = p_j),
    # and du_j/dz_j = 1 - tanh²(z_j/c) = sech²(z_j/c) under soft-capping. Σ_c h_c has a closed form
    # except for focal loss with smoothing: -(a_y + ε s/C Σ_c w_c) for γ = 0, h_y alone without smoothing.
    #
    # Rows that are limits, as the generic path (and the CPU kernel) computes them: a row with one
    # +inf logit (not soft-capped) has p = 1 there and 0 elsewhere, and is computed as u = 0 at that
    # class and -inf at the others (LSE = 0); two or more +inf logits have no limit: NaN loss and
    # gradient (the row weight stays s w_y). A row whose logits are all -inf has p = 0 and log p =
    # -inf everywhere: an infinite loss where a class counts, the gradient h = -a (LSE: -inf in the
    # z-loss, 0 in its gradient).
    row = tl.program_id(0).to(tl.int64)
    z_row = z_ptr + row * z_row_stride
    grad_row = grad_ptr + row * grad_row_stride
    offsets = tl.arange(0, BLOCK)

    # The row's label: live (in range, not ignored), ignored, or bad (out of range: NaN row).
    label = tl.load(labels_ptr + row).to(tl.int64)
    bad = (label < 0) | (label >= num_classes)
    live = ~bad
    if HAS_IGNORE_INDEX:
        kept = label != ignore_index
        bad = bad & kept
        live = live & kept
    y = tl.where(live, label, 0)  # the index read at, always in bounds
    end = tl.where(live, num_classes, 0)  # sweeps that only read skip a row that is not live

    # sweep 1: online maximum m and Σ exp(u - m) (rescaled whenever m grows); Σ_c w_c
    m = tl.full([], float("-inf"), tl.float32)
    total = tl.full([], 0.0, tl.float32)
    weight_sum = tl.full([], 0.0, tl.float32)
    infinite = tl.full([], 0, tl.int32)  # the row's +inf logits (none once soft-capped)
    for start in range(0, end, BLOCK):
        cols = start + offsets
        mask = cols < num_classes
        u = tl.load(z_row + cols, mask=mask, other=float("-inf")).to(tl.float32)
        if SOFTCAP:
            u = tl.where(mask, softcap * _tanh(u / softcap), float("-inf"))
        else:
            infinite += tl.sum((u == float("inf")).to(tl.int32), axis=0)
            u = tl.where(u == float("inf"), float("-inf"), u)  # (the finite rest, should no limit apply)
        m_new = tl.maximum(m, tl.max(u, axis=0))
        shift = tl.where(m_new == float("-inf"), 0.0, m_new)  # a row of -inf so far: no NaN
        total = total * tl.exp(m - shift) + tl.sum(tl.exp(u - shift), axis=0)
        m = m_new
        if SMOOTHING and HAS_CLASS_WEIGHT and not FOCAL:
            weight_sum += tl.sum(tl.load(class_weight_ptr + cols, mask=mask, other=0.0).to(tl.float32), axis=0)
    hot = infinite == 1  # one +inf logit: the row at its limit, u = 0 there and -inf elsewhere
    ambiguous = live & (infinite > 1)
    shift = tl.where(hot | (m == float("-inf")), 0.0, m)
    total = tl.where(hot, 1.0, total)
    dead = live & (total == 0.0)  # every logit -inf: log p = u - 0 = -inf for every class
    # log p = (u - shift) - log_total; total ≥ 1 (the maximum's own term) on a live row with a finite logit
    log_total = tl.log(tl.where(live & ~dead, total, 1.0))
    lse = shift + log_total

    # the label's own term
    u_y = tl.load(z_row + y, mask=live, other=0.0).to(tl.float32)
    if SOFTCAP:
        u_y = softcap * _tanh(u_y / softcap)
    else:
        u_y = tl.where(hot, tl.where(u_y == float("inf"), 0.0, float("-inf")), u_y)
    log_p_y = (u_y - shift) - log_total
    p_y = tl.exp(log_p_y)
    s = tl.load(sample_weight_ptr + row).to(tl.float32) if HAS_SAMPLE_WEIGHT else tl.full([], 1.0, tl.float32)
    if HAS_CLASS_WEIGHT:
        w_y = tl.load(class_weight_ptr + y, mask=live, other=0.0).to(tl.float32)
    else:
        w_y = tl.full([], 1.0, tl.float32)
    if SMOOTHING:
        on = s * (1.0 - smoothing) * w_y  # a_y less its smoothing share
        off = s * smoothing / num_classes  # a_c = off·w_c (+ on for c = y)
    else:
        on = s * w_y
        off = 0.0
    # a class with a = 0 adds nothing, even where log p = -inf
    if FOCAL:
        q_gamma_y, d_y = _focal_factors(1.0 - p_y, gamma)
        row_loss = tl.where(on != 0.0, -on * q_gamma_y * log_p_y, 0.0)
        sum_h = on * (d_y * _p_log_p(p_y, log_p_y) - q_gamma_y)  # h_y (Σh without smoothing)
    else:
        row_loss = tl.where(on != 0.0, -on * log_p_y, 0.0)
        sum_h = -on  # -Σ_c a_c
        if SMOOTHING:
            sum_h -= off * weight_sum if HAS_CLASS_WEIGHT else s * smoothing  # off·C = s ε

    # sweep 2 (focal loss with smoothing only): Σ_c h_c and the smoothing share of the loss
    if FOCAL and SMOOTHING:
        sum_h = tl.full([], 0.0, tl.float32)
        for start in range(0, end, BLOCK):
            cols = start + offsets
            mask = cols < num_classes
            u = tl.load(z_row + cols, mask=mask, other=float("-inf")).to(tl.float32)
            if SOFTCAP:
                u = tl.where(mask, softcap * _tanh(u / softcap), float("-inf"))
            else:
                u = tl.where(hot, tl.where(u == float("inf"), 0.0, float("-inf")), u)
            log_p = (u - shift) - log_total
            p = tl.exp(log_p)
            if HAS_CLASS_WEIGHT:
                a_off = off * tl.load(class_weight_ptr + cols, mask=mask, other=0.0).to(tl.float32)
            else:
                a_off = tl.where(mask, off, 0.0)
            a = a_off + tl.where(cols == y, on, 0.0)
            q_gamma, d = _focal_factors(1.0 - p, gamma)
            sum_h += tl.sum(a * (d * _p_log_p(p, log_p) - q_gamma), axis=0)
            row_loss += tl.sum(tl.where(a_off != 0.0, -a_off * q_gamma * log_p, 0.0), axis=0)

    # last sweep: the gradient (and the smoothing share of the loss where sweep 2 did not run)
    zl = tl.where(dead, 0.0, 2.0 * z_loss * s * lse)  # (p = 0 on a dead row: no z-loss gradient)
    scale = tl.load(grad_scale_ptr).to(tl.float32) if SCALE_FROM_MEMORY else grad_scale
    last_end = num_classes if GRAD else end  # with GRAD, an ignored row's gradient is written too (zeros)
    if GRAD or (SMOOTHING and not FOCAL):
        for start in range(0, last_end, BLOCK):
            cols = start + offsets
            mask = cols < num_classes
            read = cols < end  # mask & live (the interpreter mistypes a scalar & a block)
            x = tl.load(z_row + cols, mask=read, other=float("-inf")).to(tl.float32)
            if SOFTCAP:
                u = tl.where(read, softcap * _tanh(x / softcap), float("-inf"))
            else:
                u = tl.where(hot, tl.where(x == float("inf"), 0.0, float("-inf")), x)
            log_p = (u - shift) - log_total
            p = tl.exp(log_p)
            if HAS_CLASS_WEIGHT:
                a_off = off * tl.load(class_weight_ptr + cols, mask=read, other=0.0).to(tl.float32)
            else:
                a_off = tl.where(read, off, 0.0)
            if SMOOTHING and not FOCAL:
                row_loss += tl.sum(tl.where(a_off != 0.0, -a_off * log_p, 0.0), axis=0)
            if GRAD:
                a = a_off + tl.where(cols == y, on, 0.0)
                if FOCAL:
                    q_gamma, d = _focal_factors(1.0 - p, gamma)
                    h = a * (d * _p_log_p(p, log_p) - q_gamma)
                else:
                    h = -a
                g = h - p * sum_h
                if Z_LOSS:
                    g += zl * p
                if SOFTCAP:
                    g *= _sech2(x / softcap)
                g = tl.where(live & ~ambiguous, g * scale, tl.where(bad | ambiguous, float("nan"), 0.0))
                tl.store(grad_row + cols, g.to(grad_ptr.dtype.element_ty), mask=mask)

    if Z_LOSS:  # (-inf on a dead row; nothing where s = 0, even there)
        lse = tl.where(dead, float("-inf"), lse)
        row_loss += tl.where(s != 0.0, z_loss * s * lse * lse, 0.0)
    tl.store(loss_ptr + row, tl.where(live & ~ambiguous, row_loss, tl.where(bad | ambiguous, float("nan"), 0.0)))
    tl.store(row_weight_ptr + row, tl.where(live, s * w_y, tl.where(bad, float("nan"), 0.0)))


@triton.jit
def _sigmoid_elements(
    # inputs, flat
    z_ptr,  # [n] logits (float32/16/bf16), contiguous
    y_ptr,  # [n] targets in [0, 1], contiguous
    sample_weight_ptr, s_div, s_mod,  # s at index (i // s_div) % s_mod (read if HAS_SAMPLE_WEIGHT)
    pos_weight_ptr, pw_div, pw_mod,  # w⁺ at index (i // pw_div) % pw_mod (read if HAS_POS_WEIGHT)
    grad_scale_ptr,  # [1] the gradient's factor (read only if SCALE_FROM_MEMORY)
    # outputs
    loss_ptr,  # [n] float32: s ℓ
    grad_ptr,  # [n] dℓ/dz · grad_scale in z's dtype (may be z_ptr)
    # shape and options (label smoothing ε: ỹ = y(1 - ε) + ε/2)
    n, smoothing, grad_scale,
    HAS_SAMPLE_WEIGHT: tl.constexpr, HAS_POS_WEIGHT: tl.constexpr, GRAD: tl.constexpr,
    SCALE_FROM_MEMORY: tl.constexpr,
    BLOCK: tl.constexpr,
):
    # ℓ = -s [w⁺ ỹ log σ(z) + (1 - ỹ) log σ(-z)], log σ(z) = -(max(-z, 0) + log1p(exp(-|z|))),
    # exact at any z. d log σ(z)/dz = σ(-z) = q and d log σ(-z)/dz = -σ(z) = -p, so
    #     dℓ/dz = s [(1 - ỹ) p - w⁺ ỹ q],
    # with e = exp(-|z|): the larger of p, q is 1/(1 + e), the smaller e/(1 + e), each exact.
    i = tl.program_id(0).to(tl.int64) * BLOCK + tl.arange(0, BLOCK)
    mask = i < n
    x = tl.load(z_ptr + i, mask=mask, other=0.0).to(tl.float32)
    t = tl.load(y_ptr + i, mask=mask, other=0.0).to(tl.float32)
    t = t * (1.0 - smoothing) + 0.5 * smoothing
    c_pos = t
    if HAS_POS_WEIGHT:
        c_pos = t * tl.load(pos_weight_ptr + (i // pw_div) % pw_mod, mask=mask, other=0.0).to(tl.float32)
    c_neg = 1.0 - t
    if HAS_SAMPLE_WEIGHT:
        s = tl.load(sample_weight_ptr + (i // s_div) % s_mod, mask=mask, other=0.0).to(tl.float32)
    else:
        s = 1.0
    e = tl.exp(-tl.abs(x))
    log1p_e = _log1p(e)
    log_p = -(tl.maximum(-x, 0.0) + log1p_e)  # log σ(z)
    log_q = -(tl.maximum(x, 0.0) + log1p_e)  # log σ(-z) = log(1 - σ(z))
    # (a term whose weight is 0 adds nothing, even where its log is -inf: z = ±inf; nor does a
    # sample of weight 0)
    ce = tl.where(c_pos != 0.0, c_pos * log_p, 0.0) + tl.where(c_neg != 0.0, c_neg * log_q, 0.0)
    tl.store(loss_ptr + i, tl.where(s != 0.0, -s * ce, 0.0), mask=mask)
    if GRAD:
        scale = tl.load(grad_scale_ptr).to(tl.float32) if SCALE_FROM_MEMORY else grad_scale
        big = 1.0 / (1.0 + e)
        small = e * big
        positive = x >= 0.0
        p = tl.where(positive, big, small)
        q = tl.where(positive, small, big)
        g = (s * scale) * (c_neg * p - c_pos * q)
        tl.store(grad_ptr + i, g.to(grad_ptr.dtype.element_ty), mask=mask)


def softmax_cross_entropy(
    z: torch.Tensor, labels: torch.Tensor, *, sample_weight: torch.Tensor | None = None,
    class_weight: torch.Tensor | None = None, ignore_index: int | None = None, smoothing: float = 0.0,
    z_loss: float = 0.0, softcap: float | None = None, gamma: float = 0.0, grad: bool = True,
    grad_scale: float | torch.Tensor = 1.0, in_place: bool = False,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
    """Per-row softmax cross-entropy of integer labels (focal, smoothed, z-loss, soft-capped) and
    its gradient, in one launch.

    ``z``: ``[N, C]`` float32/float16/bfloat16 logits on a CUDA device (or the CPU under
    ``TRITON_INTERPRET=1``); ``labels``: ``[N]`` integers; ``sample_weight`` ``[N]`` and
    ``class_weight`` ``[C]`` float tensors or None. Returns ``(loss, row_weight, grad)``:
    ``loss [N]`` float32, the weighted per-row losses (0 for an ignored row);
    ``row_weight [N]`` float32, ``s_i w_{y_i}`` (0 for an ignored row), the denominator of
    "mean"; ``grad [N, C]`` in z's dtype, dℓ/dz times ``grad_scale``, or None.

    ``grad_scale`` is a Python number or a one-element float tensor on z's device, read by the
    kernel (``1 / row_weight.sum()`` for the mean, computed on the device by the caller).
    ``in_place=True`` writes the gradient over ``z`` (which needs a class stride of 1) and
    returns ``z`` as ``grad``. A label outside ``[0, C)`` other than ``ignore_index`` gives its
    row NaN (loss, row weight, gradient): the device cannot raise without a host sync.
    """
    _tensor("z", z)
    if z.ndim != 2:
        raise ValueError(f"z must be [N, C] logits, got shape {tuple(z.shape)}")
    n, num_classes = z.shape
    if num_classes == 0:
        raise ValueError(f"z must have at least one class, got shape {tuple(z.shape)}")
    _tensor("labels", labels, z, integer=True)
    if tuple(labels.shape) != (n,):
        raise ValueError(f"labels must have shape ({n},) for z of shape {tuple(z.shape)}, "
                         f"got {tuple(labels.shape)}")
    if sample_weight is not None:
        _tensor("sample_weight", sample_weight, z)
        if tuple(sample_weight.shape) != (n,):
            raise ValueError(f"sample_weight must have shape ({n},), got {tuple(sample_weight.shape)}")
    if class_weight is not None:
        _tensor("class_weight", class_weight, z)
        if tuple(class_weight.shape) != (num_classes,):
            raise ValueError(f"class_weight must have shape ({num_classes},), got {tuple(class_weight.shape)}")
    if ignore_index is not None and (isinstance(ignore_index, bool) or not isinstance(ignore_index, int)
                                     or not -2**63 <= ignore_index < 2**63):
        raise TypeError(f"ignore_index must be an int (int64) or None, got {ignore_index!r}")
    smoothing = _number("smoothing", smoothing, low=0, high=1)
    z_loss = _number("z_loss", z_loss, low=0)
    gamma = _number("gamma", gamma, low=0)
    if softcap is not None:
        softcap = _number("softcap", softcap, low=0, low_open=True)
    scale_value, scale_tensor = _grad_scale(grad_scale, z)
    grad = _flag("grad", grad)
    in_place = _flag("in_place", in_place)
    if in_place and not grad:
        raise ValueError("in_place=True writes the gradient over z; it needs grad=True")
    if (z.stride(1) != 1 and num_classes > 1) or (in_place and n > 1 and abs(z.stride(0)) < num_classes):
        if in_place:  # (rows may be strided, but neither overlap nor hold their classes apart)
            raise ValueError(f"in_place=True needs z's rows apart and their classes adjacent (class stride "
                             f"1), got strides {tuple(z.stride())} for shape {tuple(z.shape)}")
        z = z.contiguous()

    loss = torch.empty(n, dtype=torch.float32, device=z.device)
    row_weight = torch.empty(n, dtype=torch.float32, device=z.device)
    g = (z if in_place else torch.empty((n, num_classes), dtype=z.dtype, device=z.device)) if grad else None
    if n == 0:
        return loss, row_weight, g
    block = min(triton.next_power_of_2(num_classes), MAX_BLOCK)
    _softmax_rows[(n,)](
        z, labels.contiguous(),
        loss if sample_weight is None else sample_weight.contiguous(),
        loss if class_weight is None else class_weight.contiguous(),
        loss if scale_tensor is None else scale_tensor,
        loss, row_weight, loss if g is None else g,
        num_classes, z.stride(0), 0 if g is None else g.stride(0),
        0 if ignore_index is None else ignore_index, smoothing, z_loss, softcap or 1.0, gamma, scale_value,
        HAS_SAMPLE_WEIGHT=sample_weight is not None, HAS_CLASS_WEIGHT=class_weight is not None,
        HAS_IGNORE_INDEX=ignore_index is not None, SMOOTHING=smoothing > 0, FOCAL=gamma > 0,
        SOFTCAP=softcap is not None, Z_LOSS=z_loss > 0, GRAD=grad, SCALE_FROM_MEMORY=scale_tensor is not None,
        BLOCK=block, num_warps=_num_warps(block),
    )
    return loss, row_weight, g


def sigmoid_cross_entropy(
    z: torch.Tensor, y: torch.Tensor, *, sample_weight: torch.Tensor | None = None,
    pos_weight: torch.Tensor | None = None, smoothing: float = 0.0, grad: bool = True,
    grad_scale: float | torch.Tensor = 1.0, in_place: bool = False,
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Element-wise binary cross-entropy from logits and its gradient, in one launch.

    ``z``: logits of any shape, float32/float16/bfloat16, on a CUDA device (or the CPU under
    ``TRITON_INTERPRET=1``); ``y``: targets in [0, 1] of z's shape (float, integer or bool);
    ``sample_weight`` (s) and ``pos_weight`` (w⁺): None or float tensors broadcastable to z's
    shape. Returns ``(loss, grad)``: ``loss`` float32 of z's shape, ``s ℓ``; ``grad`` in z's
    dtype, ``d(s ℓ)/dz`` times ``grad_scale`` (a Python number or a one-element float tensor on
    z's device, read by the kernel), or None. ``in_place=True`` writes the gradient over ``z``
    (which must be contiguous) and returns ``z`` as ``grad``. Targets are not checked to lie in
    [0, 1] (that would read them).
    """
    _tensor("z", z)
    _tensor("y", y, z, integer=None)
    if tuple(y.shape) != tuple(z.shape):
        raise ValueError(f"y must have z's shape {tuple(z.shape)}, got {tuple(y.shape)}")
    sample = None if sample_weight is None else _broadcast("sample_weight", sample_weight, z)
    pos = None if pos_weight is None else _broadcast("pos_weight", pos_weight, z)
    smoothing = _number("smoothing", smoothing, low=0, high=1)
    scale_value, scale_tensor = _grad_scale(grad_scale, z)
    grad = _flag("grad", grad)
    in_place = _flag("in_place", in_place)
    if in_place and not grad:
        raise ValueError("in_place=True writes the gradient over z; it needs grad=True")
    if not z.is_contiguous():
        if in_place:
            raise ValueError(f"in_place=True needs a contiguous z, got strides {tuple(z.stride())}")
        z = z.contiguous()
    if y.dtype == torch.bool:
        y = y.view(torch.uint8)  # 0/1 bytes, no copy

    loss = torch.empty(z.shape, dtype=torch.float32, device=z.device)
    g = (z if in_place else torch.empty(z.shape, dtype=z.dtype, device=z.device)) if grad else None
    n = z.numel()
    if n == 0:
        return loss, g
    s_values, s_div, s_mod = sample or (loss, 1, 1)
    pw_values, pw_div, pw_mod = pos or (loss, 1, 1)
    _sigmoid_elements[(triton.cdiv(n, ELEMENTWISE_BLOCK),)](
        z, y.contiguous(), s_values, s_div, s_mod, pw_values, pw_div, pw_mod,
        loss if scale_tensor is None else scale_tensor,
        loss, loss if g is None else g,
        n, smoothing, scale_value,
        HAS_SAMPLE_WEIGHT=sample is not None, HAS_POS_WEIGHT=pos is not None, GRAD=grad,
        SCALE_FROM_MEMORY=scale_tensor is not None,
        BLOCK=ELEMENTWISE_BLOCK, num_warps=_num_warps(ELEMENTWISE_BLOCK),
    )
    return loss, g


def _interpreted() -> bool:
    """True where triton.jit made interpreter functions (TRITON_INTERPRET=1 at its import)."""
    return not isinstance(_softmax_rows, triton.runtime.JITFunction)


def _tensor(name: str, value: Any, like: torch.Tensor | None = None, *, integer: bool | None = False) -> None:
    """A torch tensor on ``like``'s device with a dtype of the kind asked: floating (False;
    float32/16/bf16 for z itself), integer (True), or any real dtype (None)."""
    if not isinstance(value, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(value).__name__}")
    dtype = value.dtype
    if like is None:
        if dtype not in _FLOAT_DTYPES:
            raise TypeError(f"{name} must be float32, float16 or bfloat16, got {dtype}")
        if value.device.type != "cuda" and not (value.device.type == "cpu" and _interpreted()):
            raise ValueError(f"{name} is on {value.device}; the Triton kernels need a CUDA device "
                             f"(or a CPU tensor under TRITON_INTERPRET=1)")
        return
    if value.device != like.device:
        raise ValueError(f"{name} is on {value.device}, z on {like.device}: they must share a device")
    if integer is True and (dtype == torch.bool or dtype.is_floating_point or dtype.is_complex):
        raise TypeError(f"{name} must hold integer class labels, got {dtype}")
    if integer is False and not dtype.is_floating_point:
        raise TypeError(f"{name} must be a floating-point tensor, got {dtype}")
    if integer is None and dtype.is_complex:
        raise TypeError(f"{name} must be real, got {dtype}")


def _broadcast(name: str, value: Any, z: torch.Tensor) -> tuple[torch.Tensor, int, int]:
    """(values, div, mod): a weight broadcastable to z, read at flat index (i // div) % mod.
    That covers a weight whose dimensions other than 1 are one consecutive run of z's (a
    number, [N, 1], [C], z's own shape, ...) without materializing it; any other
    broadcastable shape is materialized to z's shape (an extra pass over memory)."""
    _tensor(name, value, z)
    shape, target = tuple(value.shape), tuple(z.shape)
    try:
        broadcast = torch.broadcast_shapes(shape, target)
    except RuntimeError:
        broadcast = None
    if len(shape) > len(target) or broadcast != target:
        raise ValueError(f"{name} of shape {shape} does not broadcast to z's shape {target}")
    padded = (1,) * (len(target) - len(shape)) + shape
    kept = [k for k, size in enumerate(padded) if size != 1]
    if not kept:
        return value.reshape(1), 1, 1
    first, last = kept[0], kept[-1]
    if all(padded[k] == target[k] for k in range(first, last + 1)):
        return value.contiguous(), math.prod(target[last + 1:]), math.prod(target[first:last + 1])
    return value.broadcast_to(target).contiguous(), 1, max(z.numel(), 1)


def _grad_scale(value: Any, z: torch.Tensor) -> tuple[float, torch.Tensor | None]:
    """(number, None) for a Python number, (1.0, tensor) for a one-element tensor on z's device."""
    if isinstance(value, torch.Tensor):
        if value.numel() != 1 or not value.dtype.is_floating_point:
            raise ValueError(f"grad_scale must be a Python number or a one-element float tensor, got a "
                             f"{value.dtype} tensor of shape {tuple(value.shape)}")
        if value.device != z.device:
            raise ValueError(f"grad_scale is on {value.device}, z on {z.device}: they must share a device")
        return 1.0, value
    return _number("grad_scale", value), None


def _number(name: str, value: Any, **interval: Any) -> float:
    if isinstance(value, torch.Tensor):  # float(tensor) would wait for the device
        raise TypeError(f"{name} must be a Python number, got a tensor")
    number = _checks.number(name, value, **interval)
    if not math.isfinite(number):
        raise ValueError(f"{name} must be finite, got {number}")
    return number


def _flag(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be True or False, got {value!r}")
    return value


def _num_warps(block: int) -> int:
    return 4 if block <= 1024 else 8 if block <= 4096 else 16
