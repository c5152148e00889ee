"""The one place where per-sample losses become "none", "sum" or "mean", and nats become bits."""

from __future__ import annotations

from typing import Any

from crossent._xp import Array, as_array, scalar


def reduce(loss: Array, grad: Array | None, weight: Array, reduction: str,
           log_base: float | None, xp: Any, denominator: Any = None) -> tuple[Array, Array | None]:
    """Reduce weighted per-sample losses, and scale their gradient to match.

    ``loss`` holds the weighted per-sample losses (their sum is the "sum" reduction), ``weight``
    the per-sample weights wᵢ of the same shape (their sum is the mean's denominator), ``grad``
    the derivative of each sample's loss with respect to its own prediction, or None.
    ``"mean"`` is Σ loss / Σ w, and 0 with a zero gradient when Σ w = 0 (every sample ignored or
    weighted 0). ``denominator`` (checked by ``_checks.denominator``) replaces Σ w: the total
    weight of more samples than this call's (every micro-batch of a step, every rank), so that
    the means of the parts add up to the mean of the whole; it may be a device tensor, and a zero
    one gives 0 and a zero gradient here too, without a branch on its value. ``log_base`` is
    ln(base): the value and gradient are divided by it.
    """
    if reduction == "none":
        value = loss
    elif reduction == "sum":
        value = xp.sum(loss)
    else:
        total = xp.sum(weight) if denominator is None else as_array(denominator, xp, like=loss, dtype=loss.dtype)
        positive = total > 0
        safe_total = xp.where(positive, total, xp.ones_like(total))
        value = xp.where(positive, xp.sum(loss) / safe_total, xp.zeros_like(total))
        if grad is not None:  # divide, not multiply by 1/Σw: a subnormal Σw has no finite inverse
            grad = xp.where(positive, grad / xp.astype(safe_total, grad.dtype), xp.zeros_like(grad))
    if log_base is not None:
        value = value / log_base
        grad = None if grad is None else grad / log_base
    return value, grad


# Kernels (kernels/_cpu.py) apply the reduction inside their one pass over the gradient. These give
# the numbers they need, by the same rule as reduce(); NumPy scalars only (kernels see concrete
# arrays). tests/test_kernels_cpu.py holds the two to each other.

def kernel_total(weight_total: Any, denominator: Any) -> float:
    """The mean's denominator a CPU kernel divides by: the given ``denominator``, else the
    call's own Σw (either a number or a concrete 0-d array)."""
    return scalar(weight_total if denominator is None else denominator)


def kernel_divisor(weight_total: float, reduction: str, log_base: float | None) -> float | None:
    """The number a kernel divides each per-sample gradient by to give reduce()'s gradient:
    ln(base) (1 without ``base``), times Σw for "mean"; None for a "mean" with Σw ≤ 0 (or NaN),
    whose gradient is zero."""
    divisor = 1.0 if log_base is None else float(log_base)
    if reduction == "mean":
        if not weight_total > 0:
            return None
        divisor *= weight_total
    return divisor


def reduce_total(total: float, weight_total: float, reduction: str, log_base: float | None) -> float:
    """reduce()'s "sum" or "mean" value from Σ loss and Σw, computed by a kernel."""
    value = total
    if reduction == "mean":
        value = total / weight_total if weight_total > 0 else 0.0
    return value if log_base is None else value / log_base
