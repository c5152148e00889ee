"""Element-wise pieces shared by the loss cores, safe for values and for autograd alike.

``xp.where(mask, f(x), 0)`` is not enough when f(x) is inf or NaN off the mask: autograd
multiplies that branch's derivative by 0 and gets NaN. Each helper therefore feeds the
unselected branch a harmless value first (the "double where").
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

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
    """q**gamma for q in [0, 1], gamma ≥ 0, with 0**0 = 1 and finite autograd derivatives at 0.

    An integral gamma is an integer power (its derivatives are polynomials; jax's pow(q, 1.0)
    has a NaN second derivative at 0); any other takes the double where at q = 0, where its
    first derivative (gamma < 1) or its second (gamma < 2) is infinite."""
    if zero(gamma):
        return xp.ones_like(q)
    if known(gamma) and float(gamma).is_integer():
        return q ** int(gamma)
    positive = q > 0
    at_zero = xp.zeros_like(q) if known(gamma) else xp.where(gamma == 0, xp.ones_like(q), xp.zeros_like(q))
    return xp.where(positive, xp.where(positive, q, xp.ones_like(q)) ** gamma, at_zero)


def power_of_log(log_q: Array, gamma: Any, xp: Any) -> Array:
    """q**gamma from log q, as exp(gamma log q) (0**0 = 1): where q is tiny, its derivatives carry
    no power of q below gamma, as those of q**gamma do (gamma (gamma - 1) q**(gamma - 2) overflows
    float32 below q ≈ 1e-26 for gamma = 1/2, and a Hessian-vector product multiplies it by a
    square that underflows: NaN). Relative error about gamma |log q| ulp."""
    if zero(gamma):
        return xp.ones_like(log_q)
    positive = log_q > -float("inf")
    at_zero = xp.zeros_like(log_q) if known(gamma) else xp.where(gamma == 0, xp.ones_like(log_q),
                                                                 xp.zeros_like(log_q))
    return xp.where(positive, xp.exp(gamma * xp.where(positive, log_q, xp.zeros_like(log_q))), at_zero)


def power_minus_one(q: Array, gamma: Any, xp: Any) -> Array:
    """gamma * q**(gamma - 1), the derivative of q**gamma; 0 where q = 0 and gamma < 1.

    That 0 is the right limit wherever the loss uses it: the factor multiplying it vanishes at
    least as fast as q**(1 - gamma) (see the derivations in the cores).
    """
    if zero(gamma):
        return xp.zeros_like(q)
    if known(gamma) and float(gamma).is_integer():
        return gamma * q ** (int(gamma) - 1)
    positive = q > 0
    at_zero = xp.zeros_like(q) if known(gamma) else xp.where(gamma == 1, xp.ones_like(q), xp.zeros_like(q))
    return xp.where(positive, gamma * xp.where(positive, q, xp.ones_like(q)) ** (gamma - 1), at_zero)


def tanh(x: Array, xp: Any) -> Array:
    """tanh(x), written so that autograd's derivatives are exact too: xp.tanh's, 1 - tanh², loses
    its digits as |x| grows and is 0 from |x| ≈ 9 in float32 on, where sech² is 4e^{-2|x|}.

    With n = -|x| (taken by a where, whose derivative at 0 is ±1, not -sign(0) = 0) and
    t = e^{2n} - 1, tanh n = t / (t + 2); t is expm1(2n) where |x| < 1/2 (exact where 1 - e^{2n}
    cancels) and exp(2n) - 1 elsewhere (its derivative, 2e^{2n}, exact where expm1's, expm1 + 1,
    cancels). Both forms are finite at any x, ±inf included."""
    negative = xp.where(x > 0, -x, x)
    small = negative > -0.5
    t = xp.where(small, xp.expm1(2 * negative), xp.exp(2 * negative) - 1)
    value = t / (t + 2)
    return xp.where(x > 0, -value, value)


def sech2(x: Array, xp: Any) -> Array:
    """sech²(x) = 1 - tanh²(x), as 4e / (1 + e)² with e = exp(-2|x|): exact where 1 - tanh² rounds
    to 0 (|x| > 9 in float32), finite at any x. The slope of soft-capping, c·tanh(x / c)."""
    e = xp.exp(-2 * xp.abs(x))
    return 4 * e / ((1 + e) * (1 + e))


def safe_log1m(p: Array, used: Array, xp: Any) -> Array:
    """log(1 - p) where ``used``, 0 elsewhere; log1p keeps it exact for tiny p."""
    return xp.where(used, xp.log1p(-xp.where(used, p, xp.zeros_like(p))), xp.zeros_like(p))


def times_log(x: Array, log_x: Array, xp: Any) -> Array:
    """x log x from x and its log, with its limit 0 where x = 0 (log x = -inf there: 0 · -inf is
    NaN)."""
    positive = x > 0
    return xp.where(positive, x * xp.where(positive, log_x, xp.zeros_like(log_x)), xp.zeros_like(x))


def safe_reciprocal(x: Array, used: Array, xp: Any) -> Array:
    """1 / x where ``used`` (inf where x = 0), 0 elsewhere."""
    return xp.where(used, 1 / xp.where(used, x, xp.ones_like(x)), xp.zeros_like(x))


class Clip:
    """Probabilities clipped to [eps, 1 - eps] when ``eps`` asks for it (never by default), and
    the gradient mask that goes with it: a clipped value has no gradient.

    p is clipped where p < eps or p > 1 - eps as real numbers, eps as given (the kernels' rule,
    in float64), whatever p's dtype: p < eps is p < eps↑, the least number of p's dtype not below
    eps, and p > 1 - eps is 1 - p < eps↑ (1 - p is exact for p ≥ 1/2, and above eps↑ below it).
    At p = eps the clip is inactive, so that p and its gradient (-a/eps for cross-entropy) pass,
    for autograd too (xp.clip would give jax.grad half of it there: the gradient of a maximum
    splits at a tie)."""

    def __init__(self, p: Array, eps: float | None, xp: Any) -> None:
        self.xp, self.eps = xp, eps
        self.low: Any = None
        self.high: Any = None
        self.inside: Any = None
        self.p = p
        if eps is not None:
            bound = _at_least(eps, p.dtype, xp)
            # (eps may round to 0 in p's dtype, 1 - eps to 1: p = 0 and p = 1 are clipped all the same,
            # also where subnormals flush to 0)
            self.low, self.high = (p < bound) | (p == 0), (1 - p < bound) | (p == 1)
            self.inside = ~(self.low | self.high)
            self.p = xp.where(self.low, xp.full_like(p, eps), xp.where(self.high, xp.full_like(p, 1 - eps), p))

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


def _at_least(value: float, dtype: Any, xp: Any) -> float:
    """The least number of ``dtype`` (a float32 or float64 compute dtype) not below ``value``."""
    kind = np.float32 if xp.finfo(dtype).bits == 32 else np.float64
    rounded = kind(value)
    if float(rounded) < value:
        rounded = np.nextafter(rounded, kind(np.inf))
    return float(rounded)


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
