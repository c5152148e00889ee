"""Shannon entropy and Kullback-Leibler divergence of discrete distributions, in any log base."""

from __future__ import annotations

from typing import Any

import numpy as np

from crossent import _checks
from crossent._xp import Array, as_array, compute_dtype, log_of_zero_is_inf, namespace, normalize_axis

__all__ = ["entropy", "kl_divergence"]


def _distribution(name: str, p: Any, axis: int | None, xp: Any) -> Array:
    if not hasattr(p, "dtype"):
        p = np.asarray(p)  # a list, read as NumPy reads it
    # complex, strings, objects: a TypeError before any conversion drops a part or parses a string
    kind = _checks.real_dtype(name, p.dtype, namespace(p))
    p = as_array(p, xp, like=p if namespace(p) is xp else xp.asarray(0.0))
    if kind != "real floating":
        p = xp.astype(p, xp.asarray(0.0).dtype)
    p = xp.astype(p, compute_dtype(p.dtype, xp, name=name))
    if p.ndim == 0:
        raise ValueError(f"{name} must have at least one dimension, got a scalar")
    axis = normalize_axis(-1 if axis is None else axis, p.ndim)
    p = xp.moveaxis(p, axis, -1)
    _checks.in_unit_interval(name, p, xp)
    _checks.rows_sum_to_one(name, p, xp, hint="; entropy takes probabilities, not counts "
                            "(divide counts by their sum)")
    return p


def _xlogy(x: Array, y: Array, xp: Any) -> Array:
    # x·log(y) with 0·log(0) = 0, also for autograd: log is taken of 1 where x is 0.
    zero = x == 0
    return xp.where(zero, xp.zeros_like(x), x * xp.log(xp.where(zero, xp.ones_like(y), y)))


def entropy(p: Array, /, *, axis: int = -1, base: float | None = None, xp: Any = None) -> Array:
    """Shannon entropy of the distribution(s) ``p`` along ``axis``.

    .. math:: H(p) = -\\sum_i p_i \\log p_i, \\quad 0 \\log 0 = 0

    ``p`` holds probabilities (each row sums to 1 within 0.01; counts are a ValueError).
    ``base=None`` gives nats, ``base=2`` bits. The texts' three hampers of sweets, in bits:

    >>> [round(float(h), 4) for h in entropy([[0.3, 0.7], [0.5, 0.5], [1.0, 0.0]], base=2)]
    [0.8813, 1.0, 0.0]
    """
    xp = namespace(p, xp=xp)
    log_base = _checks.log_base(base)
    p = _distribution("p", p, axis, xp)
    with log_of_zero_is_inf():
        h = 0.0 - xp.sum(_xlogy(p, p, xp), axis=-1)  # 0.0 - (-0.0) is +0.0: a certain outcome has H = 0
    return h if log_base is None else h / log_base


def kl_divergence(p: Array, q: Array, /, *, axis: int = -1, base: float | None = None,
                  xp: Any = None) -> Array:
    """Kullback-Leibler divergence of ``q`` from ``p`` along ``axis``.

    .. math:: D_{KL}(p \\| q) = \\sum_i p_i \\log (p_i / q_i)

    Terms with ``p_i = 0`` are 0; ``q_i = 0`` where ``p_i > 0`` gives ``inf``. Cross-entropy is
    ``entropy(p) + kl_divergence(p, q)``.

    >>> round(float(kl_divergence([0.5, 0.5], [0.9, 0.1], base=2)), 4)
    0.737
    """
    xp = namespace(p, q, xp=xp)
    log_base = _checks.log_base(base)
    p = _distribution("p", p, axis, xp)
    q = _distribution("q", q, axis, xp)
    if p.shape != q.shape:
        raise ValueError(f"p and q must have the same shape, got {tuple(p.shape)} and {tuple(q.shape)}")
    dtype = xp.result_type(p.dtype, q.dtype)
    p, q = xp.astype(p, dtype), xp.astype(q, dtype)
    with log_of_zero_is_inf():
        d = xp.sum(_xlogy(p, p, xp) - _xlogy(p, q, xp), axis=-1)
    return d if log_base is None else d / log_base
