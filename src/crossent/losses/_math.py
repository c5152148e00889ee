"""Element-wise pieces shared by the loss cores, safe for values and for autograd alike.

``xp.where(mask, f(x), 0)`` is not enough when f(x) is inf or NaN off the mask: autograd
multiplies that branch's derivative by 0 and gets NaN. Each helper therefore feeds the
unselected branch a harmless value first (the "double where").
"""

from __future__ import annotations

import math
from typing import Any

from crossent._xp import Array


def safe_log(x: Array, used: Array, xp: Any) -> Array:
    """log(x) where ``used``, 0 elsewhere (so 0·log 0 terms are 0, not NaN)."""
    return xp.where(used, xp.log(xp.where(used, x, xp.ones_like(x))), xp.zeros_like(x))


def zero(value: Any) -> bool:
    """Whether a hyperparameter is known to be 0: a traced one (jax.jit or vmap over ``gamma``,
    say) is not known, and takes the general branch, which is exact at 0 as well."""
    return isinstance(value, int | float) and value == 0


def known(value: Any) -> bool:
    """Whether a hyperparameter is a concrete number (not traced)."""
    return isinstance(value, int | float)


def power(q: Array, gamma: Any, xp: Any) -> Array:
    """q**gamma for q in [0, 1], gamma ≥ 0, with 0**0 = 1 and a finite autograd derivative."""
    if zero(gamma):
        return xp.ones_like(q)
    if known(gamma) and gamma >= 1:
        return q**gamma
    positive = q > 0  # d/dq q**gamma is inf at 0 for gamma < 1
    at_zero = xp.zeros_like(q) if known(gamma) else xp.where(gamma == 0, xp.ones_like(q), xp.zeros_like(q))
    return xp.where(positive, xp.where(positive, q, xp.ones_like(q)) ** gamma, at_zero)


def power_minus_one(q: Array, gamma: Any, xp: Any) -> Array:
    """gamma * q**(gamma - 1), the derivative of q**gamma; 0 where q = 0 and gamma < 1.

    That 0 is the right limit wherever the loss uses it: the factor multiplying it vanishes at
    least as fast as q**(1 - gamma) (see the derivations in the cores).
    """
    if zero(gamma):
        return xp.zeros_like(q)
    if known(gamma) and gamma >= 1:
        return gamma * q ** (gamma - 1)
    positive = q > 0
    at_zero = xp.zeros_like(q) if known(gamma) else xp.where(gamma == 1, xp.ones_like(q), xp.zeros_like(q))
    return xp.where(positive, gamma * xp.where(positive, q, xp.ones_like(q)) ** (gamma - 1), at_zero)


def safe_log1m(p: Array, used: Array, xp: Any) -> Array:
    """log(1 - p) where ``used``, 0 elsewhere; log1p keeps it exact for tiny p."""
    return xp.where(used, xp.log1p(-xp.where(used, p, xp.zeros_like(p))), xp.zeros_like(p))


def safe_reciprocal(x: Array, used: Array, xp: Any) -> Array:
    """1 / x where ``used`` (inf where x = 0), 0 elsewhere."""
    return xp.where(used, 1 / xp.where(used, x, xp.ones_like(x)), xp.zeros_like(x))


class Clip:
    """Probabilities clipped to [eps, 1 - eps] when ``eps`` asks for it (never by default), and
    the gradient mask that goes with it: a clipped value has no gradient."""

    def __init__(self, p: Array, eps: float | None, xp: Any) -> None:
        self.xp, self.eps = xp, eps
        # (eps may round to 0 in p's dtype, 1 - eps to 1: p = 0 and p = 1 are clipped all the same)
        self.low: Any = None
        self.high: Any = None
        self.inside: Any = None
        self.p = p
        if eps is not None:
            self.low, self.high = (p < eps) | (p == 0), (p > 1 - eps) | (p == 1)
            self.inside = ~(self.low | self.high)
            self.p = xp.clip(p, eps, 1 - eps)

    def mask(self, grad: Array) -> Array:
        return grad if self.inside is None else self.xp.where(self.inside, grad, self.xp.zeros_like(grad))

    def logs(self, log_p: Array, log_q: Array | None = None) -> tuple[Array, Array | None]:
        """log p and log(1 - p) where p was clipped, from eps as given (float64): in float32,
        1 - 1e-7 rounds to 1 - 1.19e-7 and 1e-50 to 0, so the clipped logs would be off by 19%
        or infinite, and disagree with the kernels, which clip in float64."""
        if self.eps is None:
            return log_p, log_q
        xp, low, high = self.xp, self.low, self.high
        at_low, at_high = math.log(self.eps), math.log1p(-self.eps)
        log_p = xp.where(high, xp.full_like(log_p, at_high), xp.where(low, xp.full_like(log_p, at_low), log_p))
        if log_q is not None:
            log_q = xp.where(high, xp.full_like(log_q, at_low), xp.where(low, xp.full_like(log_q, at_high), log_q))
        return log_p, log_q


# Second derivatives (value_grad_hess). They are not differentiated again, so they need only be
# exact and free of NaN and warnings: each guards the points where a factor is 0 or infinite.

def focal_slope(p: Array, q: Array, log_p: Array, gamma: float, xp: Any) -> Array:
    """ψ'(p) for ψ(p) = -(1 - p)^γ log p, q = 1 - p: ``γ q^{γ-1} log p - q^γ / p`` (-inf at p = 0)."""
    slope = -power(q, gamma, xp) * safe_reciprocal(p, p >= 0, xp)
    if gamma:
        slope = slope + power_minus_one(q, gamma, xp) * xp.where(p > 0, log_p, xp.zeros_like(p))
    return slope


def focal_curvature(p: Array, q: Array, log_p: Array, gamma: float, xp: Any) -> Array:
    """ψ''(p) for ψ(p) = -(1 - p)^γ log p, q = 1 - p given apart (exact near p = 1)::

        ψ'' = γ q^{γ-1} [(γ - 1)(-log p / q) + 2 / p] + q^γ / p²

    -log p / q → 1 as q → 0, so at p = 1 this is γ(γ + 1) q^{γ-1}: inf for γ < 1, 2 for γ = 1,
    0 for γ > 1; at p = 0 it is inf (so is the loss)."""
    positive = p > 0
    inverse = 1 / xp.where(positive, p, xp.ones_like(p))
    log_p = xp.where(positive, log_p, xp.zeros_like(p))
    curvature = power(q, gamma, xp) * inverse * inverse
    if gamma:
        q_positive = q > 0
        ratio = xp.where(q_positive, -log_p / xp.where(q_positive, q, xp.ones_like(q)), xp.ones_like(q))
        at_zero = float("inf") if gamma < 1 else float(gamma == 1)  # q^{γ-1} at q = 0
        q_power = xp.where(q_positive, xp.where(q_positive, q, xp.ones_like(q)) ** (gamma - 1),
                           xp.full_like(q, at_zero))
        inside = (gamma - 1) * ratio + 2 * inverse  # > 0 near q = 0
        curvature = curvature + gamma * xp.where(inside != 0, q_power * inside, xp.zeros_like(q))
    return xp.where(positive, curvature, xp.full_like(p, float("inf")))
