"""The softmax family: cross-entropy and every relative that changes its per-class term.

One core, ``_softmax_loss``, computes for each sample

.. math::

    \\ell_i = s_i \\sum_c w_c\\, \\alpha_c\\, \\tilde y_{ic}
        \\left[-(1 - p_{ic})^\\gamma \\log p_{ic} + \\epsilon (1 - p_{ic})\\right]
        + s_i\\, v_i\\, \\lambda \\operatorname{LSE}(z_i)^2

with p = softmax(z), z the logits after soft-capping (c·tanh(z/c)) and logit adjustment
(z + τ log π), ỹ the target after label smoothing, s the sample weight, w the class weight, α the
focal weight, v_i = 1 unless the sample is ignored. γ = 0, ε = 0, λ = 0 give plain
cross-entropy; the public losses are this core with some options fixed. Its per-sample weight (the
denominator of "mean") is ``s_i Σ_c w_c y_ic``, y the target before smoothing.

Gradient with respect to the logits, derived once for all the options: with
``h_c = a_c p_c g'(p_c) = a_c[γ p_c (1-p_c)^{γ-1} log p_c - (1-p_c)^γ - ε p_c]`` and
``a_c = s w_c α_c ỹ_c``, the softmax Jacobian gives ``∂ℓ/∂z_j = h_j - p_j Σ_c h_c``; the z-loss
adds ``2 λ s v LSE · p_j``; soft-capping multiplies by ``1 - tanh²(z/c)``.
"""

from __future__ import annotations

from typing import Any

from crossent import _checks
from crossent._xp import Array, as_array, as_index, device, normalize_axis
from crossent.activations import _log_softmax
from crossent.kernels import delegate, kernel_takes, numba_kernels, run_on_tensor, triton_kernels
from crossent.kernels._autograd import take_over
from crossent.losses import _inputs
from crossent.losses._define import loss_function
from crossent.losses._math import (
    Clip,
    focal_curvature,
    power,
    power_minus_one,
    power_of_log,
    safe_log,
    safe_reciprocal,
    sech2,
    tanh,
    zero,
)
from crossent.losses._reduce import kernel_divisor, kernel_total, reduce

__all__ = [
    "categorical_cross_entropy",
    "cross_entropy",
    "focal_loss",
    "logit_adjusted_cross_entropy",
    "poly1_cross_entropy",
    "sparse_categorical_cross_entropy",
]


def _softmax_loss(
    prediction: Any, target: Any, *, axis: int = -1, weight: Any = None,
    ignore_index: int | None = None, label_smoothing: float = 0.0, gamma: float = 0.0,
    alpha: Any = None, epsilon: float = 0.0, z_loss: float = 0.0,
    logit_softcap: float | None = None, priors: Any = None, tau: float = 1.0,
    target_kind: str = "any", from_logits: bool = True, reduction: str = "mean",
    sample_weight: Any = None, base: float | None = None, eps: float | None = None,
    denominator: Any = None, xp: Any = None, grad: bool, hess: bool = False,
) -> tuple[Array, ...]:
    xp, reduction, log_base, eps, denominator = _inputs.common(
        prediction, target, xp=xp, reduction=reduction, base=base, eps=eps, denominator=denominator)
    smoothing = _checks.number("label_smoothing", label_smoothing, low=0, high=1)
    gamma = _checks.number("gamma", gamma, low=0)
    epsilon = _checks.number("epsilon", epsilon, low=-1)
    z_loss = _checks.number("z_loss", z_loss, low=0)
    tau = _checks.number("tau", tau)
    softcap = None if logit_softcap is None else _checks.number(
        "logit_softcap", logit_softcap, low=0, low_open=True)
    ignore_index = _checks.index_option("ignore_index", ignore_index)
    if not from_logits:
        for name, value in (("z_loss", z_loss or None), ("logit_softcap", softcap), ("priors", priors)):
            if value is not None:
                raise ValueError(f"{name}={value!r} acts on logits; it needs from_logits=True")

    gpu = triton_kernels(prediction)
    if (gpu is not None and not hess and from_logits and alpha is None and zero(epsilon) and priors is None
            and prediction.ndim and kernel_takes(weight, sample_weight, denominator)):
        # delegation branch: the Triton kernel on the caller's own logits (float16 and bfloat16
        # too, accumulated in float32), before any conversion; value checks would wait for the device
        z = xp.moveaxis(prediction, normalize_axis(axis, prediction.ndim), -1)
        t = _inputs.target(target, xp, like=z)
        if _inputs.integer_labels(t, xp) and tuple(t.shape) == tuple(z.shape[:-1]) and target_kind != "dense" \
                and 0 not in tuple(z.shape):
            t = as_index(t, xp)  # (uint8 labels against ignore_index=-100 would wrap on the device)
            options = dict(weight=weight, ignore_index=ignore_index, smoothing=smoothing, gamma=gamma,
                           z_loss=z_loss, softcap=softcap, sample_weight=sample_weight, reduction=reduction,
                           log_base=log_base, denominator=denominator, xp=xp)
            value, g = run_on_tensor(z, lambda values, want_grad: _softmax_triton(
                gpu, values, t, **options, grad=want_grad), grad=grad, per_row=reduction == "none")
            return value, None if g is None else xp.moveaxis(g, -1, normalize_axis(axis, prediction.ndim))

    pred = _inputs.prediction(prediction, xp, from_logits=from_logits)
    axis = normalize_axis(axis, pred.values.ndim)
    x = xp.moveaxis(pred.values, axis, -1)  # the class axis is last from here on
    num_classes, batch = x.shape[-1], tuple(x.shape[:-1])

    # Targets become dense y (class axis last), zero rows for ignored samples.
    t = _inputs.target(target, xp, like=x)
    cpu = numba_kernels(x)
    if (cpu is not None and not hess and 0 not in tuple(x.shape) and _inputs.integer_labels(t, xp)
            and tuple(t.shape) == batch and target_kind != "dense" and (from_logits or (zero(gamma) and zero(epsilon)))
            and kernel_takes(weight, sample_weight, alpha, priors, denominator)):
        # delegation branch: the fused kernel, after the same checks (kernels/_cpu.py)
        options = dict(weight=weight, ignore_index=ignore_index, smoothing=smoothing, gamma=gamma, alpha=alpha,
                       epsilon=epsilon, z_loss=z_loss, softcap=softcap, priors=priors, tau=tau,
                       from_logits=from_logits, eps=eps, sample_weight=sample_weight, reduction=reduction,
                       log_base=log_base, denominator=denominator)
        value, g = delegate(_softmax_kernel, cpu, x, t, options, grad=grad, per_row=reduction == "none", xp=xp)
        return value, None if g is None else xp.astype(xp.moveaxis(g, -1, axis), pred.dtype, copy=False)
    invalid = None
    if _inputs.integer_labels(t, xp):
        if target_kind == "dense":
            raise TypeError(f"categorical_cross_entropy takes one-hot or soft targets of the "
                            f"prediction's shape; got integer labels ({t.dtype}): use "
                            f"sparse_categorical_cross_entropy or cross_entropy")
        if tuple(t.shape) != batch:
            raise ValueError(f"target of integer labels must have the prediction's shape without "
                             f"the class axis, {batch}, got {tuple(t.shape)}")
        t = as_index(t, xp)  # (uint8 labels: an arange of 300 and ignore_index=-100 would wrap)
        checked = _checks.labels_in_range(t, num_classes, ignore_index, xp)
        y = xp.astype(t[..., None] == xp.arange(num_classes, dtype=t.dtype, device=device(x)), x.dtype)
        if ignore_index is not None:
            y = y * xp.astype(t != ignore_index, x.dtype)[..., None]
        if not checked:  # under jax.jit labels cannot be checked: out-of-range rows become NaN
            invalid = (t < 0) | (t >= num_classes)
            if ignore_index is not None:
                invalid = invalid & (t != ignore_index)
    else:
        if target_kind == "labels":
            raise TypeError(f"sparse_categorical_cross_entropy takes integer labels; got a target "
                            f"of dtype {t.dtype}: use categorical_cross_entropy for dense targets")
        if ignore_index is not None:
            raise ValueError(f"ignore_index={ignore_index} applies to integer labels; with dense "
                             f"targets give an ignored sample an all-zero row")
        if tuple(t.shape) != tuple(pred.values.shape):
            if tuple(t.shape) == batch:
                raise TypeError(f"target holds {t.dtype} values of shape {batch}: integer labels "
                                f"need an integer dtype, dense targets the prediction's shape "
                                f"{tuple(pred.values.shape)}")
            raise ValueError(f"target of shape {tuple(t.shape)} does not match prediction of shape "
                             f"{tuple(pred.values.shape)}")
        y = xp.moveaxis(xp.astype(t, x.dtype), axis, -1)
        _checks.in_unit_interval("target", y, xp)
        _checks.rows_sum_to_one("target", y, xp, allow_zero_rows=True,
                                hint="; for multi-label targets use binary_cross_entropy")

    # Weights: a_c multiplies the per-class term, per_sample_weight is the mean's denominator.
    counts = xp.sum(y, axis=-1)  # 1 for a sample that counts, 0 for an ignored one
    s = (xp.ones(batch, dtype=x.dtype, device=device(x)) if sample_weight is None else
         _inputs.weights("sample_weight", sample_weight, xp, x, batch, "the per-sample loss"))
    class_weight = None
    if weight is not None:
        class_weight = _inputs.vector("weight", weight, xp, x, num_classes, "class")
        _checks.nonnegative("weight", class_weight, xp)
    per_sample_weight = s * (counts if class_weight is None else xp.sum(y * class_weight, axis=-1))
    smoothed = y if zero(smoothing) else y * (1 - smoothing) + (smoothing / num_classes) * counts[..., None]
    a = smoothed * s[..., None]
    if class_weight is not None:
        a = a * class_weight
    if alpha is not None:
        a = a * _alpha(alpha, xp, x, num_classes)

    if from_logits:
        loss, g, h = _from_logits(x, a, s * xp.astype(counts > 0, x.dtype), gamma, epsilon, z_loss,
                                  softcap, priors, tau, num_classes, grad or hess, hess, xp)
    else:
        loss, g, h = _from_probabilities(x, a, gamma, epsilon, eps, grad or hess, hess, xp)
    if invalid is not None:
        loss = xp.where(invalid, xp.full_like(loss, float("nan")), loss)

    value, g = reduce(loss, g, per_sample_weight, reduction, log_base, xp, denominator)
    if g is not None:
        g = xp.astype(xp.moveaxis(g, -1, axis), pred.dtype)
    if not hess:
        return value, g
    h = reduce(loss, h, per_sample_weight, reduction, log_base, xp, denominator)[1]
    return value, g, xp.astype(xp.moveaxis(h, -1, axis), pred.dtype)


def _softmax_kernel(cpu: Any, x: Array, t: Array, *, weight: Any, ignore_index: int | None,
                    smoothing: float, gamma: float, alpha: Any, epsilon: float, z_loss: float,
                    softcap: float | None, priors: Any, tau: float, from_logits: bool,
                    eps: float | None, sample_weight: Any, reduction: str, log_base: float | None,
                    denominator: Any, grad: bool, xp: Any) -> tuple[Array, Array | None]:
    """_softmax_loss of integer labels by the CPU kernel: the generic path's checks in its order,
    then (value, gradient or None) without dense targets. The kernel divides the gradient by the
    reduction's divisor in its own pass; the value is reduced here, as on the generic path."""
    num_classes, batch = x.shape[-1], tuple(x.shape[:-1])
    _checks.labels_in_range(t, num_classes, ignore_index, xp)
    s = None if sample_weight is None else _inputs.weights(
        "sample_weight", sample_weight, xp, x, batch, "the per-sample loss")
    class_weight = None
    if weight is not None:
        class_weight = _inputs.vector("weight", weight, xp, x, num_classes, "class")
        _checks.nonnegative("weight", class_weight, xp)
    scale = None if alpha is None else _alpha(alpha, xp, x, num_classes)  # a number or [C]
    rows, labels = xp.reshape(x, (-1, num_classes)), xp.reshape(t, (-1,))
    per_sample_weight = cpu.row_weights(labels, s, class_weight, ignore_index)
    divisor = kernel_divisor(kernel_total(xp.sum(per_sample_weight), denominator), reduction, log_base)
    want_grad = grad and divisor is not None  # None: a mean over no weight, whose gradient is 0
    if from_logits:
        bias = None if priors is None else tau * xp.log(_priors(priors, xp, x, num_classes))
        loss, g = cpu.softmax_cross_entropy(
            rows, labels, s, class_weight, scale, bias, ignore_index=ignore_index, smoothing=smoothing,
            gamma=gamma, epsilon=epsilon, z_loss=z_loss, softcap=softcap, grad=want_grad,
            divisor=divisor or 1.0)
    else:
        options = dict(ignore_index=ignore_index, smoothing=smoothing, eps=eps, grad=want_grad,
                       divisor=divisor or 1.0)
        result = cpu.log_loss(rows, labels, s, class_weight, scale, **options,
                              tolerance=_checks.PROBABILITY_SUM_TOLERANCE)  # rows checked as read
        if result is None:  # a row is not a probability vector: raise with the generic checks' message
            _checks.in_unit_interval("prediction", x, xp)
            _checks.rows_sum_to_one("prediction", x, xp, hint=" (from_logits=False takes probabilities)")
            result = cpu.log_loss(rows, labels, s, class_weight, scale, **options)  # (a rounding apart)
        loss, g = result
    if grad and g is None:
        g = xp.zeros_like(rows)
    value, _ = reduce(xp.astype(xp.reshape(loss, batch), x.dtype), None,
                      xp.astype(xp.reshape(per_sample_weight, batch), x.dtype), reduction, log_base, xp, denominator)
    return value, None if g is None else xp.reshape(g, x.shape)


def _softmax_triton(gpu: Any, z: Array, t: Array, *, weight: Any, ignore_index: int | None,
                    smoothing: float, gamma: float, z_loss: float, softcap: float | None,
                    sample_weight: Any, reduction: str, log_base: float | None, denominator: Any,
                    grad: bool, xp: Any) -> tuple[Array, Array | None]:
    """_softmax_loss of integer labels by the Triton kernel on a device tensor ``z`` (class axis
    last, any float dtype): (value, gradient or None), with no host sync. Shapes are checked;
    values are not (a label out of range gives a NaN row, see kernels/_triton.py). The mean's
    denominator (Σw summed on the device, or the given ``denominator``) goes into the kernel as
    its gradient scale."""
    num_classes, batch = z.shape[-1], tuple(z.shape[:-1])
    rows, labels = xp.reshape(z, (-1, num_classes)), xp.reshape(t, (-1,))
    like = xp.empty(0, dtype=xp.float32, device=device(z))
    s = None if sample_weight is None else xp.reshape(_inputs.weights(
        "sample_weight", sample_weight, xp, like, batch, "the per-sample loss", check_values=False), (-1,))
    class_weight = None if weight is None else _inputs.vector("weight", weight, xp, like, num_classes, "class")
    counted = labels >= 0 if ignore_index is None else labels != ignore_index
    w = xp.astype(counted, xp.float32)
    if class_weight is not None:
        w = w * xp.take(class_weight, xp.clip(labels, 0, num_classes - 1))
    if s is not None:
        w = w * s
    scale: Any = 1.0 if log_base is None else 1 / log_base
    if reduction == "mean":
        total = xp.sum(w) if denominator is None else as_array(denominator, xp, like=like, dtype=xp.float32)
        positive = total > 0
        scale = xp.where(positive, scale / xp.where(positive, total, xp.ones_like(total)), xp.zeros_like(total))
    loss, _, g = gpu.softmax_cross_entropy(
        rows, labels, sample_weight=s, class_weight=class_weight, ignore_index=ignore_index,
        smoothing=smoothing, z_loss=z_loss, softcap=softcap, gamma=gamma, grad=grad, grad_scale=scale,
        in_place=grad and take_over(rows))  # inplace_backward=True: over the logits
    value, _ = reduce(xp.reshape(loss, batch), None, xp.reshape(w, batch), reduction, log_base, xp, denominator)
    return value, None if g is None else xp.reshape(g, z.shape)


def _alpha(alpha: Any, xp: Any, like: Array, num_classes: int) -> Any:
    if (isinstance(alpha, int | float) and not isinstance(alpha, bool)) or getattr(alpha, "ndim", None) == 0:
        return _checks.number("alpha", alpha, low=0)  # (a 0-d array, traced or not: one α for every class)
    vector = _inputs.vector("alpha", alpha, xp, like, num_classes, "class")
    _checks.nonnegative("alpha", vector, xp)
    return vector


def _from_logits(z: Array, a: Array, zl_weight: Array, gamma: float, epsilon: float,
                 z_loss: float, softcap: float | None, priors: Any, tau: float,
                 num_classes: int, grad: bool, hess: bool, xp: Any) -> tuple[Array, Array | None, Array | None]:
    if softcap is not None:
        scaled = z / softcap
        capped = tanh(scaled, xp)  # (exact derivatives where 1 - tanh² would round away: autograd's)
        z = softcap * capped
    offset = None
    if priors is not None:
        # z + τ log π with the row's largest logit taken out first (the softmax does not see it): a logit
        # of 300 holds its float32 spacing, 3e-5, as an error; z - max has none where p is not negligible.
        # LSE (the z-loss's) gets it back
        largest = xp.max(z, axis=-1, keepdims=True)
        offset = xp.where(xp.isfinite(largest), largest, xp.zeros_like(largest))
        log_priors = xp.log(_priors(priors, xp, z, num_classes))
        z = (z - offset) + tau * log_priors
    # a row whose logits are all -inf has log p = -inf (an infinite loss where it counts): it goes
    # through the softmax as zeros (whose -inf - (-inf) would be NaN, in autograd too) and comes out -inf
    top = xp.max(z, axis=-1, keepdims=True)
    dead = top == -float("inf")
    z = xp.where(dead, xp.zeros_like(z), z)
    # a +inf logit is a limit: its class has p = 1, every other p = 0; the row is computed there
    # (0 for the inf logit, -inf for the others), not as inf - inf. Two +inf logits have no limit
    # (it depends on how each grows): NaN
    hot = top == float("inf")
    infinite = z == float("inf")
    ambiguous = hot & (xp.sum(xp.astype(infinite, z.dtype), axis=-1, keepdims=True) > 1)
    z = xp.where(hot, xp.where(infinite, xp.zeros_like(z), xp.full_like(z, -float("inf"))), z)
    log_p, lse = _log_softmax(z, -1, xp)
    if offset is not None:
        lse = lse + offset
    focal = not (zero(gamma) and zero(epsilon))  # plain cross-entropy needs neither 1 - p nor its log
    q: Any = None
    log_q: Any = None
    if focal:  # 1 - p and its log to their last digits, the largest class's log p too
        log_p, q, log_q = _complement(z, log_p, xp)
        q = xp.where(dead, xp.ones_like(q), q)
        log_q = xp.where(dead, xp.zeros_like(log_q), log_q)
    log_p = xp.where(ambiguous, xp.full_like(log_p, float("nan")), log_p)
    log_p = xp.where(dead, xp.full_like(log_p, -float("inf")), log_p)
    lse = xp.where(dead, xp.full_like(lse, -float("inf")), lse)
    p: Any = xp.exp(log_p) if focal or grad else None
    # (1 - p)^γ from log(1 - p): no power of a tiny 1 - p below γ in its derivatives (power_of_log)
    modulating: Any = None if zero(gamma) else power_of_log(log_q, gamma, xp)
    # a class with a = 0 adds nothing, even where its logit is -inf (a masked class: log p = -inf);
    # its log p is 0 inside the term, so that no autograd multiplies an infinite slope by a = 0
    used = a != 0
    log_p_used = xp.where(used, log_p, xp.zeros_like(log_p))
    term = -log_p_used if zero(gamma) else -modulating * log_p_used
    if not zero(epsilon):
        term = term + epsilon * q
    loss = xp.sum(xp.where(used, a * term, xp.zeros_like(term)), axis=-1)
    if not zero(z_loss):
        counted = zl_weight != 0  # (an ignored row's LSE may be -inf: 0 · inf)
        lse_counted = xp.where(counted, lse[..., 0], xp.zeros_like(zl_weight))
        loss = loss + z_loss * zl_weight * lse_counted**2
    if not grad:
        return loss, None, None

    h = -a if zero(gamma) else -a * modulating
    if not zero(gamma):  # p log p -> 0 as p -> 0 (a -inf logit)
        positive = p > 0
        p_log_p = xp.where(positive, p * xp.where(positive, log_p, xp.zeros_like(p)), xp.zeros_like(p))
        h = h + a * power_minus_one(q, gamma, xp) * p_log_p
    if not zero(epsilon):
        h = h - epsilon * a * p
    g = h - p * xp.sum(h, axis=-1, keepdims=True)
    if not zero(z_loss):  # (where LSE is -inf, p is 0: the z-loss's gradient there is 0, not 0 · inf)
        lse = xp.where((zl_weight[..., None] != 0) & ~dead, lse, xp.zeros_like(lse))
    d = g_z = None
    if hess:
        d, g_z = _softmax_curvature(z, p, log_p, a, gamma, epsilon, xp)
    if not zero(z_loss):
        zl = (2 * z_loss) * zl_weight[..., None]
        g = g + zl * lse * p
        if d is not None:  # d²/dz_j² λ LSE² = 2λ (p_j² + LSE p_j (1 - p_j))
            d = d + zl * (p * p + lse * p * (1 - p))
            g_z = g_z + zl * lse * p
    if softcap is not None:
        # dz/dx of z = c tanh(x / c) is sech²(x / c); d²z/dx² = -2 tanh(x / c) sech²(x / c) / c
        slope = sech2(scaled, xp)
        if d is not None and g_z is not None:
            d = d * slope**2 - g_z * (2 / softcap) * capped * slope
        g = g * slope
    return loss, g, d


def _complement(z: Array, log_p: Array, xp: Any) -> tuple[Array, Array, Array]:
    """(log p, 1 - p, log(1 - p)) for p = softmax(z), each to its last digits and with exact
    autograd derivatives, from log p = log_softmax(z) (z finite or -inf, the class axis last).

    Only the row's largest class m can have p > 1/2. There, with R = Σ_{c≠m} exp(z_c - z_m) ≤ C - 1,
    1 - p_m = R / (1 + R), log p_m = -log1p(R) and log(1 - p_m) = log R - log1p(R), where
    log R = (z_k - z_m) + log Σ_{c≠m} exp(z_c - z_k), z_k the largest of the others: a sum of at
    least 1, so that no derivative divides by a tiny R (as d log R = dR / R would). Elsewhere
    p ≤ 1/2, and 1 - p and log1p(-p) are exact. (-expm1(log p) is exact as a value, but its
    autograd derivative, expm1 + 1, cancels where p is tiny: focal loss's γ p log p went missing
    from float32 gradients.)"""
    num_classes = z.shape[-1]
    is_top = xp.arange(num_classes, device=device(z)) == xp.argmax(z, axis=-1, keepdims=True)
    # z_m as its own entry (the maximum's derivative would be split between tied logits)
    z_top = xp.sum(xp.where(is_top, z, xp.zeros_like(z)), axis=-1, keepdims=True)
    others = xp.where(is_top, xp.full_like(z, -float("inf")), z)
    second = xp.max(others, axis=-1, keepdims=True)
    rest = second > -float("inf")  # (no other class, or only -inf ones: 1 - p_m = 0)
    second = xp.where(rest, second, xp.zeros_like(second))
    total = xp.sum(xp.exp(others - second), axis=-1, keepdims=True)
    log_r = xp.where(rest, (second - z_top) + xp.log(xp.where(rest, total, xp.ones_like(total))),
                     xp.full_like(total, -float("inf")))
    r = xp.exp(log_r)
    log1p_r = xp.log1p(r)
    p = xp.exp(log_p)
    p_other = xp.where(is_top, xp.zeros_like(p), p)
    q = xp.where(is_top, r / (1 + r), 1 - p)
    log_q = xp.where(is_top, log_r - log1p_r, xp.log1p(-p_other))
    return xp.where(is_top, -log1p_r, log_p), q, log_q


def _softmax_curvature(z: Array, p: Array, log_p: Array, a: Array, gamma: float, epsilon: float,
                       xp: Any) -> tuple[Array, Array]:
    """The diagonal of the Hessian of ``Σ_c a_c f(p_c)``, p = softmax(z), with respect to z, for
    f(p) = -(1 - p)^γ log p + ε (1 - p); and the gradient, computed to go with it.

    With u(p) = p f'(p) (so that the gradient is h_j - p_j Σ_c h_c, h_c = a_c u(p_c)) and
    k_c = a_c p_c u'(p_c), the softmax Jacobian ∂p_c/∂z_j = p_c (δ_cj - p_j) gives::

        ∂²ℓ/∂z_j² = e_j + p_j² Σ_{c≠j} k_c - p_j q_j Σ_{c≠j} h_c,      q = 1 - p
        e_j = k_j q_j² - p_j q_j h_j = a_j p_j q_j (q_j u'_j - u_j)
            = a_j [q^γ ((2γ+1) p q + γ (q - γ p) p log p) - ε p q (q - p)]_j

    (e is binary focal's curvature; cross-entropy has k = 0 and e = a p q). Writing e in closed
    form keeps it exact where p or q is tiny (its two halves would cancel). Only the row's largest
    class can have q < ½, and there k = a p u' may be unbounded (q^{γ-2}, γ < 2); so its share of
    the second term is (p_j / q_m)² k_m q_m², with p_j ≤ q_m, and k_c is computed for the others
    only. q_m and log p_m come from S = Σ_{c≠m} exp(z_c - z_m): q_m = S / (1 + S),
    log p_m = -log1p(S), exact however close p_m is to 1. The gradient h_j q_j - p_j Σ_{c≠j} h_c
    is exact there too (the chain rule of soft-capping needs it)."""
    num_classes = z.shape[-1]
    top = xp.argmax(z, axis=-1, keepdims=True)
    is_top = xp.arange(num_classes, device=device(z)) == top
    rest = xp.sum(xp.where(is_top, xp.zeros_like(z), xp.exp(z - xp.max(z, axis=-1, keepdims=True))),
                  axis=-1, keepdims=True)
    q_top = rest / (1 + rest)
    q = xp.where(is_top, q_top, 1 - p)
    log_p = xp.where(is_top, -xp.log1p(rest), log_p)
    p_log_p = p * xp.where(p > 0, log_p, xp.zeros_like(p))  # (p log p = 0 at p = 0, with no 0 · -inf)
    used = a != 0
    # h_c = a_c u(p_c), u = γ q^{γ-1} p log p - q^γ - ε p
    u = -power(q, gamma, xp)
    if gamma:
        u = u + power_minus_one(q, gamma, xp) * p_log_p
    if epsilon:
        u = u - epsilon * p
    h = xp.where(used, a * u, xp.zeros_like(u))
    others_h = xp.sum(h, axis=-1, keepdims=True) - h  # Σ_{c≠j} h_c
    if gamma == 0:  # p q [1 - ε (q - p)], the bracket as (1 - ε) + 2εp or (1 + ε) - 2εq: no cancellation
        bracket = 1.0 if not epsilon else xp.where(p < 0.5, (1 - epsilon) + (2 * epsilon) * p,
                                                   (1 + epsilon) - (2 * epsilon) * q)
        e = p * q * bracket
    else:
        e = power(q, gamma, xp) * ((2 * gamma + 1) * p * q + gamma * (q - gamma * p) * p_log_p)
        if epsilon:
            e = e - epsilon * p * q * (q - p)
    e = xp.where(used, a * e, xp.zeros_like(e))
    # k_c for the classes other than the largest (q ≥ ½ there)
    q_other = xp.where(is_top, xp.ones_like(q), q)
    k = -epsilon * p
    if gamma:
        k = k + gamma * q_other ** (gamma - 1) * (p_log_p + 2 * p) \
            - gamma * (gamma - 1) * p * q_other ** (gamma - 2) * p_log_p
    k = xp.where(is_top | ~used, xp.zeros_like(k), a * k)
    # k_m q_m² = a_m [γ q^{γ+1} (p log p + 2p) - γ (γ - 1) p q^γ p log p - ε p q²] at the largest class
    k_q2 = -epsilon * p * q * q
    if gamma:
        k_q2 = k_q2 + gamma * power(q, gamma + 1, xp) * (p_log_p + 2 * p) \
            - gamma * (gamma - 1) * p * power(q, gamma, xp) * p_log_p
    k_q2_top = xp.sum(xp.where(is_top & used, a * k_q2, xp.zeros_like(k_q2)), axis=-1, keepdims=True)
    positive = q_top > 0
    ratio = xp.where(is_top | ~positive, xp.zeros_like(p), p / xp.where(positive, q_top, xp.ones_like(q_top)))
    others_k = xp.sum(k, axis=-1, keepdims=True) - k  # Σ_{c≠j, c≠m} k_c
    curvature = e + p * p * others_k + ratio * ratio * k_q2_top - p * q * others_h
    return curvature, h * q - p * others_h


def _priors(priors: Any, xp: Any, like: Array, num_classes: int) -> Array:
    vector = _inputs.vector("priors", priors, xp, like, num_classes, "class")
    _checks.positive("priors", vector, xp)
    return vector


def _from_probabilities(p: Array, a: Array, gamma: float, epsilon: float, eps: float | None,
                        grad: bool, hess: bool, xp: Any) -> tuple[Array, Array | None, Array | None]:
    _checks.in_unit_interval("prediction", p, xp)
    _checks.rows_sum_to_one("prediction", p, xp, hint=" (from_logits=False takes probabilities)")
    clipped = Clip(p, eps, xp)
    p = clipped.p
    used = a != 0
    log_p = clipped.logs(safe_log(p, used, xp))[0]  # -inf where p = 0 and the class counts: the loss is inf
    q = 1 - p
    term = -power(q, gamma, xp) * log_p
    if not zero(epsilon):
        term = term + epsilon * q
    loss = xp.sum(a * term, axis=-1)
    if not grad:
        return loss, None, None

    # d/dp [-(1-p)^γ log p + ε(1-p)] = γ(1-p)^{γ-1} log p - (1-p)^γ / p - ε
    g = -power(q, gamma, xp) * safe_reciprocal(p, used, xp)
    if not zero(gamma):
        g = g + power_minus_one(q, gamma, xp) * log_p
    if not zero(epsilon):
        g = g - epsilon
    d = None
    if hess:  # each probability on its own: a ψ''(p), the ε term being linear
        curvature = focal_curvature(xp.where(used, p, xp.ones_like(p)), xp.where(used, q, xp.zeros_like(q)),
                                    xp.where(used, log_p, xp.zeros_like(p)), gamma, xp)  # (finite off `used`)
        d = clipped.mask(xp.where(used, a * curvature, xp.zeros_like(p)))
    return loss, clipped.mask(a * g), d


@loss_function(_softmax_loss)
def cross_entropy(
    prediction: Array, target: Array, /, *, axis: int = -1, weight: Array | None = None,
    ignore_index: int | None = None, label_smoothing: float = 0.0, z_loss: float = 0.0,
    logit_softcap: float | None = None, from_logits: bool = True, reduction: str = "mean",
    sample_weight: Array | None = None, base: float | None = None,
    denominator: float | Array | None = None, eps: float | None = None,
    xp: Any = None,
) -> Array:
    """Categorical cross-entropy over a softmax, with integer labels or dense targets.

    .. math:: \\ell_i = -s_i \\sum_c w_c\\, \\tilde y_{ic} \\log \\operatorname{softmax}(z_i)_c
        + s_i \\lambda \\operatorname{LSE}(z_i)^2

    Args:
        prediction: logits ``[..., C, ...]`` (class axis ``axis``), or probabilities with
            ``from_logits=False``.
        target: integer labels of the prediction's shape without the class axis, or one-hot /
            soft targets of the prediction's shape (each row sums to 1; an all-zero row is an
            ignored sample).
        axis: the class axis; ``axis=1`` is PyTorch's ``(N, C, d1, ...)`` layout.
        weight: per-class weights ``[C]``; in the numerator and in the mean's denominator.
        ignore_index: a label whose samples count for nothing (weight 0).
        label_smoothing: ε in ``y(1 - ε) + ε / C``.
        z_loss: λ of PaLM's auxiliary loss ``λ·logsumexp(z)²`` (needs logits).
        logit_softcap: c in ``c·tanh(z / c)``, applied before the softmax (Gemma 2).
        from_logits: False takes probabilities (rows sum to 1 within 0.01).
        reduction: ``"none"`` (per-sample losses ``[...]``), ``"sum"``, or ``"mean"`` = sum /
            Σᵢ sᵢ Σ_c w_c y_ic (0 when that is 0).
        sample_weight: per-sample weights, broadcastable to ``[...]``.
        base: None for nats, 2 for bits, 10, ...
        denominator: with ``"mean"``, the total weight the sum is divided by, in place of this
            call's own Σᵢ sᵢ Σ_c w_c y_ic: a number or a 0-d array (a device tensor: not read, no
            host sync). Give the weight of every micro-batch of a step and every data-parallel
            rank (``crossent.torch.distributed.loss_denominator``) and the parts' losses add up
            to the exact mean of the whole. 0 gives 0 and a zero gradient.
        eps: clip probabilities to ``[eps, 1 - eps]`` (only from probabilities; off by default,
            so that -log 0 = inf).

    The texts' three-class example, and their fruit example in base 10:

    >>> round(float(cross_entropy([[0.7, 0.2, 0.1]], [0], from_logits=False)), 4)
    0.3567
    >>> round(float(cross_entropy([0.723, 0.240, 0.036], [1.0, 0.0, 0.0], from_logits=False, base=10)), 4)
    0.1409

    References: Zhang et al., PaLM (z-loss), arXiv:2204.02311, 2022; Gemma Team, Gemma 2
    (soft-capping), arXiv:2408.00118, 2024; Szegedy et al., Rethinking the Inception
    Architecture (label smoothing), arXiv:1512.00567, 2015.
    """


@loss_function(_softmax_loss, target_kind="labels")
def sparse_categorical_cross_entropy(
    prediction: Array, target: Array, /, *, axis: int = -1, weight: Array | None = None,
    ignore_index: int | None = None, label_smoothing: float = 0.0, z_loss: float = 0.0,
    logit_softcap: float | None = None, from_logits: bool = True, reduction: str = "mean",
    sample_weight: Array | None = None, base: float | None = None,
    denominator: float | Array | None = None, eps: float | None = None,
    xp: Any = None,
) -> Array:
    """:func:`cross_entropy` with integer labels only (Keras's name for it).

    >>> round(float(sparse_categorical_cross_entropy([[0.1, 0.2, 0.7]], [0], from_logits=False)), 4)
    2.3026
    """


@loss_function(_softmax_loss, target_kind="dense")
def categorical_cross_entropy(
    prediction: Array, target: Array, /, *, axis: int = -1, weight: Array | None = None,
    label_smoothing: float = 0.0, z_loss: float = 0.0, logit_softcap: float | None = None,
    from_logits: bool = True, reduction: str = "mean", sample_weight: Array | None = None,
    base: float | None = None,
    denominator: float | Array | None = None, eps: float | None = None, xp: Any = None,
) -> Array:
    """:func:`cross_entropy` with one-hot or soft targets only (Keras's name for it).

    >>> round(float(categorical_cross_entropy([[0.7, 0.2, 0.1]], [[1.0, 0.0, 0.0]], from_logits=False)), 4)
    0.3567
    """


@loss_function(_softmax_loss)
def focal_loss(
    prediction: Array, target: Array, /, *, gamma: float = 2.0, alpha: float | Array | None = None,
    axis: int = -1, weight: Array | None = None, ignore_index: int | None = None,
    label_smoothing: float = 0.0, from_logits: bool = True, reduction: str = "mean",
    sample_weight: Array | None = None, base: float | None = None,
    denominator: float | Array | None = None, eps: float | None = None,
    xp: Any = None,
) -> Array:
    """Multiclass (softmax) focal loss: cross-entropy with each class term scaled by (1 - p)^γ.

    .. math:: \\ell_i = -s_i \\sum_c w_c\\, \\alpha_c\\, \\tilde y_{ic} (1 - p_{ic})^\\gamma \\log p_{ic}

    ``gamma`` ≥ 0 (0 is cross-entropy); ``alpha`` a scalar or a per-class vector ``[C]`` that
    scales the terms (numerator only, unlike ``weight``); None means 1. Keras's
    CategoricalFocalCrossentropy is this loss with ``alpha=0.25``. Other options as
    :func:`cross_entropy`.

    >>> round(float(focal_loss([[0.7, 0.2, 0.1]], [0], gamma=2.0, from_logits=False)), 4)
    0.0321

    Reference: Lin, Goyal, Girshick, He, Dollár, Focal Loss for Dense Object Detection,
    arXiv:1708.02002, 2017.
    """


@loss_function(_softmax_loss)
def poly1_cross_entropy(
    prediction: Array, target: Array, /, *, epsilon: float = 2.0, axis: int = -1,
    weight: Array | None = None, ignore_index: int | None = None, label_smoothing: float = 0.0,
    from_logits: bool = True, reduction: str = "mean", sample_weight: Array | None = None,
    base: float | None = None,
    denominator: float | Array | None = None, eps: float | None = None, xp: Any = None,
) -> Array:
    """Poly-1 cross-entropy: ``CE + ε (1 - p_t)``, the first polynomial term reweighted.

    .. math:: \\ell_i = s_i \\sum_c w_c\\, \\tilde y_{ic} \\left[-\\log p_{ic} + \\epsilon (1 - p_{ic})\\right]

    ``epsilon`` ≥ -1 (so the loss stays non-negative); the default 2.0 is optax's. With soft
    targets ``Σ_c ỹ_c (1 - p_c) = 1 - Σ_c ỹ_c p_c``, as in the paper and optax.

    >>> round(float(poly1_cross_entropy([[0.7, 0.2, 0.1]], [0], epsilon=1.0, from_logits=False)), 4)
    0.6567

    Reference: Leng et al., PolyLoss: A Polynomial Expansion Perspective of Classification Loss
    Functions, arXiv:2204.12511, 2022.
    """


@loss_function(_softmax_loss)
def logit_adjusted_cross_entropy(
    prediction: Array, target: Array, /, priors: Array, *, tau: float = 1.0, axis: int = -1,
    weight: Array | None = None, ignore_index: int | None = None, label_smoothing: float = 0.0,
    z_loss: float = 0.0, logit_softcap: float | None = None, from_logits: bool = True,
    reduction: str = "mean", sample_weight: Array | None = None, base: float | None = None,
    denominator: float | Array | None = None,
    eps: float | None = None, xp: Any = None,
) -> Array:
    """Logit-adjusted cross-entropy: cross-entropy of ``z + τ log π`` for long-tailed classes.

    .. math:: \\ell_i = -s_i \\sum_c w_c\\, \\tilde y_{ic} \\log \\operatorname{softmax}(z_i + \\tau \\log \\pi)_c

    ``priors`` π ``[C]`` are the class priors, positive; class counts work as well (a constant
    factor cancels in the softmax). Needs logits. At prediction time use the plain logits.

    >>> round(float(logit_adjusted_cross_entropy([[0.0, 0.0]], [1], [0.9, 0.1])), 4)
    2.3026

    Reference: Menon et al., Long-tail learning via logit adjustment, arXiv:2007.07314, ICLR 2021.
    """
