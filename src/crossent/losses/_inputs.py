"""User inputs to validated arrays: the prediction, the target and the weight options.

Every loss core starts here, so that each argument is checked the same way everywhere and each
error names the argument and the value.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from crossent import _checks
from crossent._xp import Array, as_array, compute_dtype, is_integer, namespace, namespace_of


class Common(NamedTuple):
    """The options every loss has, resolved and checked."""

    xp: Any
    reduction: str
    log_base: float | None  # ln(base); None for nats
    eps: float | None
    denominator: Any  # the mean's given total weight (a float or a 0-d array), or None for Σwᵢ


def common(prediction: Any, target: Any, *, xp: Any, reduction: Any, base: Any, eps: Any,
           denominator: Any = None) -> Common:
    reduction = _checks.reduction(reduction)
    return Common(namespace(prediction, target, xp=xp), reduction, _checks.log_base(base), _checks.eps(eps),
                  _checks.denominator(denominator, reduction))


class Prediction(NamedTuple):
    values: Array  # in the compute dtype (float32, or float64 for float64 input)
    dtype: Any  # the caller's dtype, which the gradient is returned in


def prediction(value: Any, xp: Any, *, from_logits: bool) -> Prediction:
    if not isinstance(from_logits, bool):
        raise TypeError(f"from_logits must be True or False, got {from_logits!r}")
    array = value if hasattr(value, "dtype") else _array("prediction", value, xp, like=xp.asarray(0.0))
    if not hasattr(value, "dtype") and _checks.real_dtype("prediction", array.dtype, xp) != "real floating":
        array = xp.astype(array, xp.asarray(0.0).dtype)  # a Python list of ints, say
    dtype = compute_dtype(array.dtype, xp, name="prediction")
    if array.ndim == 0:
        raise ValueError("prediction must have at least one dimension, got a scalar")
    return Prediction(array if array.dtype == dtype else xp.astype(array, dtype), array.dtype)


def _array(name: str, value: Any, xp: Any, like: Array, dtype: Any = None) -> Array:
    """``value`` as an array of ``xp`` on ``like``'s device, in ``dtype`` if given, after checking
    that it holds real numbers (bool, integer or real floating): complex, string and object
    values are a TypeError naming the argument, before any conversion could drop an imaginary
    part or parse a string. An option in ``dtype`` (a weight) may be a bool array (a mask), not
    one bool: ``alpha=True`` is as much a TypeError as ``gamma=True``."""
    if dtype is not None and isinstance(value, bool | np.bool_):
        raise TypeError(f"{name} must be a real number or an array of them, got {value!r}")
    if (own := namespace_of(value)) is not None:
        _checks.real_dtype(name, value.dtype, own)
    else:  # a list, a number, ...: as NumPy reads it
        value = np.asarray(value)
        _checks.real_dtype(name, value.dtype, np)
    return as_array(value, xp, like=like, dtype=dtype)


def target(value: Any, xp: Any, like: Array) -> Array:
    """The target as an array of the prediction's kind, on its device."""
    return _array("target", value, xp, like)


def vector(name: str, value: Any, xp: Any, like: Array, length: int, what: str) -> Array:
    """A 1-D option of the given length (class weights, priors, ...) in the compute dtype."""
    array = _array(name, value, xp, like, dtype=like.dtype)
    if array.ndim != 1 or array.shape[0] != length:
        raise ValueError(f"{name} must have one entry per {what} ({length}), "
                         f"got shape {tuple(array.shape)}")
    return array


def weights(name: str, value: Any, xp: Any, like: Array, shape: tuple[int, ...],
            what: str, *, check_values: bool = True) -> Array:
    """A non-negative weight broadcast to ``shape`` (the shape of what it weights).
    ``check_values=False`` checks the shape only (a GPU kernel's branch: reading values would
    wait for the device)."""
    array = _array(name, value, xp, like, dtype=like.dtype)
    _checks.broadcastable(name, tuple(array.shape), shape, what)
    if check_values:
        _checks.nonnegative(name, array, xp)
    return xp.broadcast_to(array, shape)


def integer_labels(value: Array, xp: Any) -> bool:
    return is_integer(value.dtype, xp)
