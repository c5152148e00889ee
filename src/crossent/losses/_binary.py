"""The sigmoid family: binary cross-entropy (log loss, multi-label), binary focal, asymmetric.

Every loss here is element-wise: a prediction and a target of the same shape, one independent
two-class problem per element. From logits everything is written with log σ(z) and log σ(-z)
(= log(1 - σ(z))), which are exact at any z; p = σ(z) and q = 1 - p = σ(-z) are each computed
directly, never as 1 minus the other.

Focal (Lin et al., as torchvision and optax; ỹ the target after label smoothing)::

    ce  = -(w⁺ ỹ log p + (1 - ỹ) log q)          w⁺ = pos_weight
    q_t = ỹ q + (1 - ỹ) p                         (1 - p_t)
    ℓ   = s α_t q_t^γ ce                           α_t = α ỹ + (1 - α)(1 - ỹ)

and with dp/dz = pq: dce/dz = -w⁺ ỹ q + (1 - ỹ) p, dq_t/dz = pq (1 - 2ỹ),
dℓ/dz = s α_t (q_t^γ dce/dz + γ q_t^{γ-1} dq_t/dz · ce).
"""

from __future__ import annotations

from typing import Any, NamedTuple

from crossent import _checks
from crossent._xp import Array, as_array, device, namespace
from crossent.activations import _log_sigmoid
from crossent.kernels import delegate, kernel_takes, numba_kernels, run_on_tensor, triton_kernels
from crossent.kernels._autograd import take_over
from crossent.losses import _inputs
from crossent.losses._define import loss_function
from crossent.losses._math import (
    Clip,
    focal_curvature,
    focal_slope,
    power,
    power_minus_one,
    power_of_log,
    safe_log,
    safe_log1m,
    safe_reciprocal,
    times_log,
    zero,
)
from crossent.losses._reduce import kernel_divisor, kernel_total, reduce, reduce_total

__all__ = ["asymmetric_loss", "binary_cross_entropy", "binary_focal_loss"]


class _Binary(NamedTuple):
    x: Array  # logits or probabilities, compute dtype
    y: Array  # targets in [0, 1], compute dtype
    weights: Array | None  # sample weights broadcast to x's shape, None if not given
    dtype: Any  # the prediction's own dtype, for the gradient

    @property
    def s(self) -> Array:
        """The sample weights broadcast to x's shape, ones where none were given."""
        if self.weights is not None:
            return self.weights
        xp = namespace(self.x)
        return xp.ones(self.x.shape, dtype=self.x.dtype, device=device(self.x))


def _binary_inputs(prediction: Any, target: Any, sample_weight: Any, from_logits: bool,
                   xp: Any, *, check_target: bool = True) -> _Binary:
    """The validated inputs; ``check_target=False`` leaves the targets' range to a kernel that
    checks them as it reads them."""
    pred = _inputs.prediction(prediction, xp, from_logits=from_logits)
    x = pred.values
    t = _inputs.target(target, xp, like=x)
    if tuple(t.shape) != tuple(x.shape):
        raise ValueError(f"target of shape {tuple(t.shape)} does not match prediction of shape "
                         f"{tuple(x.shape)}; binary losses are element-wise")
    y = xp.astype(t, x.dtype, copy=False)
    if check_target:
        _checks.in_unit_interval("target", y, xp)
    if not from_logits:
        _checks.in_unit_interval("prediction", x, xp)
    s = None if sample_weight is None else _inputs.weights(
        "sample_weight", sample_weight, xp, x, tuple(x.shape), "the element-wise loss")
    return _Binary(x, y, s, pred.dtype)


def _sigmoid_loss(
    prediction: Any, target: Any, *, pos_weight: Any = None, label_smoothing: float = 0.0,
    gamma: float = 0.0, alpha: Any = None, from_logits: bool = True, reduction: str = "mean",
    sample_weight: Any = None, base: float | None = None, eps: float | None = None,
    denominator: Any = None, xp: Any = None, grad: bool, hess: bool = False,
) -> tuple[Array, ...]:
    xp, reduction, log_base, eps, denominator = _inputs.common(
        prediction, target, xp=xp, reduction=reduction, base=base, eps=eps, denominator=denominator)
    smoothing = _checks.number("label_smoothing", label_smoothing, low=0, high=1)
    gamma = _checks.number("gamma", gamma, low=0)
    gpu = triton_kernels(prediction)
    if (gpu is not None and not hess and from_logits and zero(gamma) and alpha is None
            and kernel_takes(sample_weight, pos_weight, denominator)):
        # delegation branch: the Triton kernel on the caller's own logits, before any conversion
        y = _inputs.target(target, xp, like=prediction)
        if tuple(y.shape) == tuple(prediction.shape) and prediction.ndim:
            options = dict(sample_weight=sample_weight, pos_weight=pos_weight, smoothing=smoothing,
                           reduction=reduction, log_base=log_base, denominator=denominator, xp=xp)
            return run_on_tensor(prediction, lambda values, want_grad: _sigmoid_triton(
                gpu, values, y, **options, grad=want_grad), grad=grad, per_row=False)
    covered = (not hess and from_logits and zero(gamma) and alpha is None
               and kernel_takes(sample_weight, pos_weight, denominator))
    checked = not covered or numba_kernels(prediction) is None  # else the kernel checks the targets
    b = _binary_inputs(prediction, target, sample_weight, from_logits, xp, check_target=checked)
    shape = tuple(b.x.shape)
    cpu = numba_kernels(b.x)
    if not checked and cpu is None:  # (the prediction's own dtype passed the gate, its compute dtype did not)
        _checks.in_unit_interval("target", b.y, xp)
    if covered and cpu is not None:
        # delegation branch: the fused kernel, after the same checks (kernels/_cpu.py)
        w_pos = None if pos_weight is None else _inputs.weights("pos_weight", pos_weight, xp, b.x, shape,
                                                                "the prediction")
        options = dict(weights=b.weights, pos_weight=w_pos, smoothing=smoothing, reduction=reduction,
                       log_base=log_base, denominator=denominator)
        value, g = delegate(_sigmoid_kernel, cpu, b.x, b.y, options, grad=grad, per_row=False, xp=xp)
        return value, None if g is None else xp.astype(g, b.dtype, copy=False)  # g is the kernel's own
    y = b.y if zero(smoothing) else b.y * (1 - smoothing) + smoothing / 2
    c_pos = y if pos_weight is None else y * _inputs.weights(
        "pos_weight", pos_weight, xp, b.x, shape, "the prediction")
    c_neg = 1 - y
    if b.weights is not None:  # a sample of weight 0 counts for nothing, even where a log is -inf
        live = b.weights != 0
        c_pos, c_neg = (xp.where(live, c, xp.zeros_like(c)) for c in (c_pos, c_neg))

    if from_logits:
        # log p = log σ(z), log q = log(1 - σ(z)) = log σ(-z)
        log_p, log_q = _log_sigmoid(b.x, xp), _log_sigmoid(-b.x, xp)
        p, q = xp.exp(log_p), xp.exp(log_q)
    else:
        clipped = Clip(b.x, eps, xp)
        p = clipped.p
        q = 1 - p
        log_p, log_q = clipped.logs(safe_log(p, c_pos != 0, xp), safe_log1m(p, c_neg != 0, xp))
    # a term whose weight is 0 adds nothing, even where its log is -inf (z = ±inf): 0 · -inf is
    # NaN, so the log is 0 there (before the product, for autograd too)
    ce = -(c_pos * xp.where(c_pos != 0, log_p, xp.zeros_like(log_p))
           + c_neg * xp.where(c_neg != 0, log_q, xp.zeros_like(log_q)))
    loss = ce
    finite_ce = ce  # (ce where it is finite, else 0: the focal gradient's and curvature's)
    if not zero(gamma):
        infinite = xp.isinf(ce)
        finite_ce = xp.where(infinite, xp.zeros_like(ce), ce)
        q_t = y * q + (1 - y) * p
        modulating = _modulating(q_t, y, (log_p, log_q) if from_logits else None, gamma, xp)
        # where ce is inf (p = 0 or 1 against the target: z = ±inf) the factor is its limit, held
        # constant: its slope there adds nothing to the gradient's limit (pq ce → 0 from logits,
        # and from probabilities ce's own slope dominates), but autograd would multiply it by inf
        at_limit = xp.astype(b.x > (0 if from_logits else 0.5), b.x.dtype)
        held = power(y * (1 - at_limit) + (1 - y) * at_limit, gamma, xp)
        loss = xp.where(infinite, held, modulating) * loss
    alpha_t = None
    if alpha is not None:
        a = _binary_alpha(alpha, xp, b.x, shape)
        alpha_t = a * y + (1 - a) * (1 - y)
        loss = alpha_t * loss
    s = b.s
    loss = s * loss
    g = h = None
    if grad or hess:
        if from_logits:
            d_ce, d_qt = -c_pos * q + c_neg * p, p * q * (1 - 2 * y)
        else:
            d_ce = -c_pos * safe_reciprocal(p, c_pos != 0, xp) + c_neg * safe_reciprocal(q, c_neg != 0, xp)
            d_qt = 1 - 2 * y
        g = d_ce
        if not zero(gamma):
            # where ce is inf the term with ce' carries the limit: from probabilities (0 or 1
            # against a soft target) its 1/p outgrows log p, and the other would add inf - inf;
            # from logits (z = ±inf) the other's d_qt = pq is 0, and pq ce ~ |z| e^-|z| → 0
            g = power(q_t, gamma, xp) * d_ce + power_minus_one(q_t, gamma, xp) * d_qt * finite_ce
        if hess:
            h = _focal_curvature(p, q, y, c_pos, c_neg, finite_ce, d_ce, None if zero(gamma) else q_t, gamma,
                                 from_logits, xp)
            h = s * (h if alpha_t is None else alpha_t * h)
            if not from_logits:
                h = clipped.mask(h)
        if alpha_t is not None:
            g = alpha_t * g
        g = s * g
        if not from_logits:
            g = clipped.mask(g)
    value, g = reduce(loss, g, s, reduction, log_base, xp, denominator)
    if not hess:
        return value, None if g is None else xp.astype(g, b.dtype)
    h = reduce(loss, h, s, reduction, log_base, xp, denominator)[1]
    return value, xp.astype(g, b.dtype), xp.astype(h, b.dtype)


def _focal_curvature(p: Array, q: Array, y: Array, c_pos: Array, c_neg: Array, finite_ce: Array, d_ce: Array,
                     q_t: Array | None, gamma: float, from_logits: bool, xp: Any) -> Array:
    """d²/dx² of q_t^γ ce (the focal loss before α and s), x the logit or the probability;
    ``finite_ce`` is ce with 0 where it is inf (z = ±inf, where r = 0; from probabilities, where
    the middle term carries the limit).

    From logits (dp/dz = pq): ce'' = (c⁺ + c⁻) pq, q_t' = pq (1 - 2ỹ), q_t'' = q_t' (q - p), and::

        ℓ'' = q_t^γ [ce'' + 2γ r ce' + γ(γ - 1) r² ce + γ r (q - p) ce],   r = q_t' / q_t

    with |r| ≤ max(p, q) ≤ 1 (q_t ≥ min(p, q)), so no power of q_t below γ appears; r = 0 where
    q_t = 0, whose terms vanish with q_t^γ. For a hard target this is the closed form
    α_t p_t q^γ [(2γ+1) q + γ (q - γ p_t) log p_t] (q = 1 - p_t). From probabilities
    (q_t' = 1 - 2ỹ, q_t'' = 0): ce'' = c⁺/p² + c⁻/q² and
    ℓ'' = q_t^γ ce'' + 2γ q_t^{γ-1} (1 - 2ỹ) ce' + γ(γ - 1) q_t^{γ-2} (1 - 2ỹ)² ce."""
    if from_logits:
        d2_ce = (c_pos + c_neg) * p * q
        if q_t is None:
            return d2_ce
        positive = q_t > 0
        r = xp.where(positive, p * q * (1 - 2 * y) / xp.where(positive, q_t, xp.ones_like(q_t)), xp.zeros_like(q_t))
        inside = (d2_ce + 2 * gamma * r * d_ce + gamma * (gamma - 1) * r * r * finite_ce
                  + gamma * r * (q - p) * finite_ce)
        return power(q_t, gamma, xp) * inside
    d2_ce = c_pos * _inverse_square(p, c_pos != 0, xp) + c_neg * _inverse_square(q, c_neg != 0, xp)
    if q_t is None:
        return d2_ce
    sign = 1 - 2 * y
    # q_t = 0 only at a hard target with p = y, where ce = 0: the last term's limit there is a
    # power of q_t above γ - 1, of the same sign as the middle one's, which carries the limit
    positive = q_t > 0
    safe_q_t = xp.where(positive, q_t, xp.ones_like(q_t))
    at_zero = float("inf") if gamma < 1 else float(gamma == 1)
    slope = xp.where(positive, gamma * safe_q_t ** (gamma - 1), xp.full_like(q_t, gamma * at_zero))
    middle = sign * xp.where(xp.isinf(d_ce) | (sign == 0), xp.zeros_like(d_ce), d_ce)
    last = xp.where(positive, gamma * (gamma - 1) * safe_q_t ** (gamma - 2) * sign * sign * finite_ce,
                    xp.zeros_like(q_t))
    return power(q_t, gamma, xp) * d2_ce + 2 * xp.where(middle != 0, slope, xp.zeros_like(q_t)) * middle + last


def _modulating(q_t: Array, y: Array, logs: tuple[Array, Array] | None, gamma: float, xp: Any) -> Array:
    """The focal factor q_t^γ, q_t = ỹ q + (1 - ỹ) p. From logits (``logs`` = log p, log q), a hard
    target's is power_of_log of log q (ỹ = 1) or log p (ỹ = 0), whose derivatives hold no power
    of a tiny q_t below γ: those of q_t**γ do, and make a Hessian-vector product of float32 logits
    beyond about ±45 NaN (γ(γ - 1) q_t^{γ-2} overflows, times a square that underflows). A soft
    target has q_t ≥ min(ỹ, 1 - ỹ), where the power is exact as it is."""
    if logs is None:
        return power(q_t, gamma, xp)
    log_p, log_q = logs
    hard = (y == 0) | (y == 1)
    log_q_t = xp.where(y == 1, log_q, xp.where(y == 0, log_p, xp.log(xp.where(hard, xp.ones_like(q_t), q_t))))
    return power_of_log(log_q_t, gamma, xp)


def _inverse_square(x: Array, used: Array, xp: Any) -> Array:
    """1 / x² where ``used`` (inf where x = 0), 0 elsewhere."""
    inverse = safe_reciprocal(x, used, xp)
    return inverse * inverse


def _sigmoid_kernel(cpu: Any, x: Array, y: Array, *, weights: Array | None, pos_weight: Array | None,
                    smoothing: float, reduction: str, log_base: float | None, denominator: Any,
                    grad: bool, xp: Any) -> tuple[Array, Array | None]:
    """_sigmoid_loss from logits by the CPU kernel, on validated NumPy inputs: (value, gradient or
    None). The kernel divides the gradient by the reduction's divisor in its own pass and, unless
    the reduction is "none", sums the losses instead of storing them."""
    weight_total = kernel_total(x.size if weights is None else xp.sum(weights, dtype=xp.float64), denominator)
    divisor = kernel_divisor(weight_total, reduction, log_base)
    result = cpu.sigmoid_cross_entropy(
        x, y, weights, pos_weight, smoothing=smoothing, grad=grad and divisor is not None,
        divisor=divisor or 1.0, elementwise=reduction == "none")
    if result is None:  # a target outside [0, 1]: raise with the generic check's message
        _checks.in_unit_interval("target", y, xp)
    loss, total, g = result
    if grad and g is None:  # a mean over no weight: the gradient is 0
        g = xp.zeros_like(x)
    if loss is not None:
        return reduce(loss, None, xp.ones_like(x) if weights is None else weights, reduction, log_base, xp,
                      denominator)[0], g
    return xp.asarray(reduce_total(total, weight_total, reduction, log_base), dtype=x.dtype), g


def _sigmoid_triton(gpu: Any, z: Array, y: Array, *, sample_weight: Any, pos_weight: Any, smoothing: float,
                    reduction: str, log_base: float | None, denominator: Any, grad: bool,
                    xp: Any) -> tuple[Array, Array | None]:
    """_sigmoid_loss from logits by the Triton kernel on a device tensor ``z`` (any float dtype):
    (value, gradient or None), with no host sync: shapes are checked, values are not."""
    shape = tuple(z.shape)
    like = xp.empty(0, dtype=xp.float32, device=device(z))
    s = None if sample_weight is None else _inputs.weights(
        "sample_weight", sample_weight, xp, like, shape, "the element-wise loss", check_values=False)
    w_pos = None if pos_weight is None else _inputs.weights(
        "pos_weight", pos_weight, xp, like, shape, "the prediction", check_values=False)
    scale: Any = 1.0 if log_base is None else 1 / log_base
    if reduction == "mean" and denominator is not None:
        total = as_array(denominator, xp, like=like, dtype=xp.float32)
        positive = total > 0
        scale = xp.where(positive, scale / xp.where(positive, total, xp.ones_like(total)), xp.zeros_like(total))
    elif reduction == "mean":
        if s is None:
            scale = scale / max(z.size if isinstance(z.size, int) else z.numel(), 1)
        else:
            total = xp.sum(s)
            positive = total > 0
            scale = xp.where(positive, scale / xp.where(positive, total, xp.ones_like(total)), xp.zeros_like(total))
    loss, g = gpu.sigmoid_cross_entropy(z, y, sample_weight=s, pos_weight=w_pos, smoothing=smoothing, grad=grad,
                                        grad_scale=scale, in_place=grad and take_over(z))  # inplace_backward
    weights = xp.ones_like(loss) if s is None else s
    return reduce(loss, None, weights, reduction, log_base, xp, denominator)[0], g


def _binary_alpha(alpha: Any, xp: Any, like: Array, shape: tuple[int, ...]) -> Any:
    if isinstance(alpha, int | float) and not isinstance(alpha, bool):
        return _checks.number("alpha", alpha, low=0, high=1)
    array = _inputs.weights("alpha", alpha, xp, like, shape, "the prediction")
    _checks.in_unit_interval("alpha", array, xp)
    return array


def _asymmetric_loss(
    prediction: Any, target: Any, *, gamma_pos: float = 0.0, gamma_neg: float = 4.0,
    clip: float = 0.05, from_logits: bool = True, reduction: str = "mean",
    sample_weight: Any = None, base: float | None = None, eps: float | None = None,
    denominator: Any = None, xp: Any = None, grad: bool, hess: bool = False,
) -> tuple[Array, ...]:
    # ℓ = -s [y q^γ⁺ log p + (1 - y) p_m^γ⁻ log(1 - p_m)],  p_m = max(p - m, 0), 1 - p_m = min(q + m, 1)
    # d/dz of the positive term:  γ⁺ p q^γ⁺ log p - q^(γ⁺+1)
    # d/dz of the negative term:  [p > m] pq (p_m^γ⁻ / (1 - p_m) - γ⁻ p_m^(γ⁻-1) log(1 - p_m)),
    #   which for m = 0 is p^(γ⁻+1) - γ⁻ p^γ⁻ q log q (no division, exact at any logit).
    xp, reduction, log_base, eps, denominator = _inputs.common(
        prediction, target, xp=xp, reduction=reduction, base=base, eps=eps, denominator=denominator)
    gamma_pos = _checks.number("gamma_pos", gamma_pos, low=0)
    gamma_neg = _checks.number("gamma_neg", gamma_neg, low=0)
    m = _checks.number("clip", clip, low=0, high=1, high_open=True)
    b = _binary_inputs(prediction, target, sample_weight, from_logits, xp)
    y = b.y
    pos, neg = y != 0, y != 1  # the terms that count: a log where they do not is 0 (its weight is)
    if b.weights is not None:  # a sample of weight 0 counts for nothing, even where a log is -inf
        live = b.weights != 0
        pos, neg = pos & live, neg & live
    if from_logits:
        log_p = _log_sigmoid(b.x, xp)
        log_q = _log_sigmoid(-b.x, xp)
        p, q = xp.exp(log_p), xp.exp(log_q)
    else:
        clipped = Clip(b.x, eps, xp)
        p = clipped.p
        q = 1 - p
        log_p = clipped.logs(safe_log(p, pos, xp))[0]
    if m == 0:
        p_m, q_m = p, q
        log_qm = _log_sigmoid(-b.x, xp) if from_logits else clipped.logs(p, safe_log1m(p, neg, xp))[1]
    else:
        p_m = xp.maximum(p - m, xp.zeros_like(p))
        q_m = xp.minimum(q + m, xp.ones_like(q))
        log_qm = xp.log(q_m)  # q_m ≥ m > 0
    # each term's log is 0 where the term does not count (log p = -inf at z = -inf, log(1 - p_m)
    # at z = +inf with m = 0: 0 · -inf is NaN), before the product, for autograd too
    log_p_term = xp.where(pos, log_p, xp.zeros_like(log_p))
    log_qm_term = xp.where(neg, log_qm, xp.zeros_like(log_qm))
    pow_pos = power_of_log(log_q, gamma_pos, xp) if from_logits else power(q, gamma_pos, xp)
    pow_neg = power_of_log(log_p, gamma_neg, xp) if from_logits and m == 0 else power(p_m, gamma_neg, xp)
    if from_logits:  # where a log is -inf its term's factor is 1 (q = 1, or p = 1), held constant
        # (as in the focal loss: autograd would multiply the factor's slope, 0 there, by inf)
        one = xp.ones_like(pow_pos)
        pow_pos = xp.where(xp.isinf(log_p_term), one, pow_pos)
        pow_neg = xp.where(xp.isinf(log_qm_term), one, pow_neg)
    loss_pos = -pow_pos * log_p_term
    loss_neg = -pow_neg * log_qm_term
    s = b.s
    loss = s * (y * loss_pos + (1 - y) * loss_neg)
    g = None
    if grad or hess:
        if from_logits:
            # (p log p and q log q at their limit 0 where p or q is 0: z = ±inf)
            g_pos = gamma_pos * power(q, gamma_pos, xp) * times_log(p, log_p, xp) - power(q, gamma_pos + 1, xp)
            if m == 0:
                g_neg = power(p, gamma_neg + 1, xp) - gamma_neg * power(p, gamma_neg, xp) * times_log(q, log_qm, xp)
            else:
                g_neg = xp.where(p > m, p * q * (power(p_m, gamma_neg, xp) / q_m
                                                 - power_minus_one(p_m, gamma_neg, xp) * log_qm),
                                 xp.zeros_like(p))
        else:
            # (the γ log terms only when γ > 0: 0 · log 0 would be NaN where p is 0 or 1)
            g_pos = -power(q, gamma_pos, xp) * safe_reciprocal(p, pos, xp)
            if gamma_pos:
                g_pos = g_pos + power_minus_one(q, gamma_pos, xp) * log_p
            g_neg = power(p_m, gamma_neg, xp) * safe_reciprocal(q_m, neg, xp)
            if gamma_neg:
                g_neg = g_neg - power_minus_one(p_m, gamma_neg, xp) * log_qm
            if m:  # below the margin the negative term is 0 (with m = 0, p = 0 is inside it)
                g_neg = xp.where(p > m, g_neg, xp.zeros_like(p))
        g = s * (y * g_pos + (1 - y) * g_neg)
        if not from_logits:
            g = clipped.mask(g)
    value, g = reduce(loss, g, s, reduction, log_base, xp, denominator)
    if not hess:
        return value, None if g is None else xp.astype(g, b.dtype)
    h_pos, h_neg = _asymmetric_curvature(p, q, log_p, p_m, q_m, log_qm, gamma_pos, gamma_neg, m, from_logits, xp)
    zero = xp.zeros_like(y)  # (a term's curvature may be inf where it does not count: the double where)
    h = s * (xp.where(pos, y * xp.where(pos, h_pos, zero), zero) + xp.where(neg, (1 - y) * xp.where(neg, h_neg, zero),
                                                                              zero))
    if not from_logits:
        h = clipped.mask(h)
    h = reduce(loss, h, s, reduction, log_base, xp, denominator)[1]
    return value, xp.astype(g, b.dtype), xp.astype(h, b.dtype)


def _asymmetric_curvature(p: Array, q: Array, log_p: Array, p_m: Array, q_m: Array, log_qm: Array,
                          gamma_pos: float, gamma_neg: float, m: float, from_logits: bool,
                          xp: Any) -> tuple[Array, Array]:
    """The second derivatives of ASL's positive and negative terms, with respect to the logit or
    the probability.

    The positive term is ψ(p) = -q^γ log p (focal), whose second derivative in z is the binary
    focal one, p q^γ [(2γ+1) q + γ (q - γ p) log p]; with m = 0 the negative term is its mirror
    (p and q exchanged). With m > 0 the negative term is ψ(q_m) of q_m = 1 - p_m = q + m, so
    that d/dp is -ψ'(q_m) and d²/dp² is ψ''(q_m) where p > m (0 below the margin), and in z
    ℓ'' = ψ''(q_m) p² q² - ψ'(q_m) pq (q - p)."""
    if from_logits:
        def mirrored(p: Array, q: Array, log_p: Array, gamma: float) -> Array:
            return power(q, gamma, xp) * ((2 * gamma + 1) * p * q + gamma * (q - gamma * p) * times_log(p, log_p, xp))

        h_pos = mirrored(p, q, log_p, gamma_pos)
        if m == 0:
            return h_pos, mirrored(q, p, log_qm, gamma_neg)
        outer = p * q
        h_neg = (focal_curvature(q_m, p_m, log_qm, gamma_neg, xp) * outer * outer
                 - focal_slope(q_m, p_m, log_qm, gamma_neg, xp) * outer * (q - p))
    else:
        h_pos = focal_curvature(p, q, log_p, gamma_pos, xp)
        h_neg = focal_curvature(q_m, p_m, log_qm, gamma_neg, xp)
    return h_pos, xp.where(p > m, h_neg, xp.zeros_like(h_neg)) if m else h_neg


def _scalars_as_one_element(core: Any) -> Any:
    """The core, taking 0-d predictions as well: an element-wise problem of one element (as
    PyTorch's BCELoss takes them). The prediction, a 0-d target and a 0-d sample weight become
    shape (1,); "none" and the derivatives come back 0-d."""
    import functools

    @functools.wraps(core)
    def elementwise(prediction: Any, target: Any, *, grad: bool, hess: bool = False, **options: Any) -> Any:
        if getattr(prediction, "ndim", None) != 0 and not isinstance(prediction, int | float):
            return core(prediction, target, grad=grad, hess=hess, **options)
        xp = namespace(prediction, target, xp=options.get("xp"))
        one = as_array(prediction, xp, like=xp.asarray(0.0)) if not hasattr(prediction, "dtype") else prediction

        def lift(value: Any) -> Any:
            return xp.reshape(value, (1,)) if getattr(value, "ndim", None) == 0 else (
                [value] if isinstance(value, int | float) and not isinstance(value, bool) else value)

        weight = options.get("sample_weight")
        options["sample_weight"] = None if weight is None else lift(weight)
        result = core(xp.reshape(one, (1,)), lift(target), grad=grad, hess=hess, **options)
        return tuple(r if r is None or r.ndim == 0 else xp.reshape(r, ()) for r in result)

    return elementwise


@loss_function(_scalars_as_one_element(_sigmoid_loss))
def binary_cross_entropy(
    prediction: Array, target: Array, /, *, pos_weight: Array | None = None,
    label_smoothing: float = 0.0, from_logits: bool = True, reduction: str = "mean",
    sample_weight: Array | None = None, base: float | None = None,
    denominator: float | Array | None = None, eps: float | None = None,
    xp: Any = None,
) -> Array:
    """Binary cross-entropy (log loss), element-wise: two classes, or one per label (multi-label).

    .. math:: \\ell = -s\\left[w^+ \\tilde y \\log \\sigma(z) + (1 - \\tilde y) \\log(1 - \\sigma(z))\\right],
        \\quad \\tilde y = y(1 - \\varepsilon) + \\varepsilon / 2

    Args:
        prediction: logits of any shape ``[...]`` (``[N, L]`` for L labels), or probabilities
            with ``from_logits=False``.
        target: 0/1 or soft targets in [0, 1] of the prediction's shape.
        pos_weight: weight w⁺ of the positive term, broadcastable to the prediction (one per
            label: ``[L]``); in the numerator only, as PyTorch's BCEWithLogitsLoss.
        label_smoothing: ε, as Keras (y(1 - ε) + ε/2).
        from_logits, reduction, base, denominator, eps: as :func:`cross_entropy`; ``"none"`` is
            element-wise.
        sample_weight: weights broadcastable to the prediction; ``"mean"`` divides by their sum.

    The texts' BCEWithLogits example:

    >>> round(float(binary_cross_entropy([2.0, 0.5, -2.0], [0.0, 1.0, 1.0])), 4)
    1.576
    """


@loss_function(_scalars_as_one_element(_sigmoid_loss))
def binary_focal_loss(
    prediction: Array, target: Array, /, *, gamma: float = 2.0, alpha: float | Array | None = None,
    pos_weight: Array | None = None, label_smoothing: float = 0.0, from_logits: bool = True,
    reduction: str = "mean", sample_weight: Array | None = None, base: float | None = None,
    denominator: float | Array | None = None,
    eps: float | None = None, xp: Any = None,
) -> Array:
    """Binary (sigmoid) focal loss: binary cross-entropy scaled by α_t (1 - p_t)^γ.

    .. math:: \\ell = -s\\, \\alpha_t (1 - p_t)^\\gamma \\log p_t, \\quad
        \\alpha_t = \\alpha y + (1 - \\alpha)(1 - y)

    For soft targets ``p_t = p y + (1 - p)(1 - y)`` and the cross-entropy is the soft one, as
    torchvision's sigmoid_focal_loss and optax. ``alpha`` weighs positives (Lin et al.): a
    scalar in [0, 1] or one per label; None means no α (torchvision's default is 0.25).
    ``gamma=0, alpha=None`` is :func:`binary_cross_entropy`. Other options as that function.

    >>> round(float(binary_focal_loss([2.0, 0.5, -2.0], [0.0, 1.0, 1.0], alpha=0.25)), 4)
    0.5557

    Reference: Lin, Goyal, Girshick, He, Dollár, Focal Loss for Dense Object Detection,
    arXiv:1708.02002, 2017.
    """


@loss_function(_scalars_as_one_element(_asymmetric_loss))
def asymmetric_loss(
    prediction: Array, target: Array, /, *, gamma_pos: float = 0.0, gamma_neg: float = 4.0,
    clip: float = 0.05, from_logits: bool = True, reduction: str = "mean",
    sample_weight: Array | None = None, base: float | None = None,
    denominator: float | Array | None = None, eps: float | None = None,
    xp: Any = None,
) -> Array:
    """Asymmetric loss for multi-label classification (ASL), element-wise.

    .. math:: \\ell = -s\\left[y (1 - p)^{\\gamma^+} \\log p
        + (1 - y)\\, p_m^{\\gamma^-} \\log(1 - p_m)\\right], \\quad p_m = \\max(p - m, 0)

    Positives and negatives get their own focusing (``gamma_pos``, ``gamma_neg``), and the
    probability shift ``clip`` = m discards easy negatives (p < m) entirely. The defaults are the
    paper's (γ⁺ = 0, γ⁻ = 4, m = 0.05). The authors' code sums the losses; the default here is
    the element mean, as for every crossent loss. ``gamma_pos = gamma_neg = clip = 0`` is
    :func:`binary_cross_entropy`.

    >>> round(float(asymmetric_loss([2.0, -1.0], [1.0, 0.0])), 4)
    0.0637

    Reference: Ridnik et al., Asymmetric Loss For Multi-Label Classification, arXiv:2009.14119,
    ICCV 2021.
    """
