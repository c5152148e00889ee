"""Argument validation shared by every public function.

Each check raises ``ValueError`` or ``TypeError`` naming the argument and the offending value.
Checks that read array values run only when the values can be read (not under ``jax.jit``);
there the softmax losses give samples with an out-of-range label a NaN loss instead.
"""

from __future__ import annotations

import math
import numbers
import operator
from typing import Any

import numpy as np

from crossent._xp import Array, as_index, dtype_kind, is_concrete, namespace_of, scalar, size

REDUCTIONS = ("none", "mean", "sum")

PROBABILITY_SUM_TOLERANCE = 1e-2
"""How far a row of probabilities (or of dense targets) may sum from 1. Loose enough for
probabilities rounded to three decimals, as in the texts' fruit example (they sum to 0.999)."""


def reduction(value: Any) -> str:
    if not isinstance(value, str) or value not in REDUCTIONS:
        raise ValueError(f"reduction must be one of {', '.join(map(repr, REDUCTIONS))}, got {value!r}")
    return str(value)


def denominator(value: Any, reduction: str) -> Any:
    """The "mean" reduction's given total weight, or None for Σwᵢ over the call's own samples.

    A real number ≥ 0 (returned as a float) or a 0-d real array (returned as it is). Its value is
    checked where it can be read without waiting for a device: a number, a NumPy, CPU-tensor or
    eager JAX array. A CUDA tensor, a tracer or a fake tensor is used unread, so that a total
    summed on the device costs no host sync.
    """
    if value is None:
        return None
    if reduction != "mean":
        raise ValueError(f"denominator= replaces the mean's total weight; it needs reduction='mean', "
                         f"got reduction={reduction!r}")
    number = _real_number(value)
    if number is None:
        own = namespace_of(value)
        if (own is None or getattr(value, "ndim", None) != 0
                or dtype_kind(value.dtype, own) not in ("integral", "real floating")):
            shape = f" of shape {tuple(value.shape)}" if hasattr(value, "shape") else ""
            raise TypeError(f"denominator must be a real number >= 0 or a 0-d array of one, "
                            f"got {type(value).__name__}{shape}")
        if not is_concrete(value) or getattr(getattr(value, "device", None), "type", "cpu") != "cpu":
            return value  # unread: traced, fake, or on a device
        number = scalar(value)
    if not (math.isfinite(number) and number >= 0):
        raise ValueError(f"denominator must be a finite number >= 0 (the total weight the sum is "
                         f"divided by), got {number!r}")
    return value if namespace_of(value) is not None else number


def _real_number(value: Any) -> float | None:
    """``value`` as a float if it is one real number: a Python or NumPy int or float, or a 0-d
    array of an integer or real floating dtype whose value can be read; else None (strings,
    bools, complex numbers, arrays of another shape or dtype, jax tracers)."""
    if isinstance(value, bool | np.bool_):
        return None
    if isinstance(value, numbers.Real):
        return float(value)
    if ((own := namespace_of(value)) is not None and getattr(value, "ndim", None) == 0
            and dtype_kind(value.dtype, own) in ("integral", "real floating") and is_concrete(value)):
        return scalar(value)
    return None


def log_base(base: Any) -> float | None:
    """ln(base), or None for natural logarithms."""
    if base is None:
        return None
    value = _real_number(base)
    if value is None or not value > 0 or value == 1:
        error = TypeError if value is None else ValueError
        raise error(f"base must be None (nats), 2 (bits), 10, or another positive number "
                    f"other than 1, got {base!r}")
    if not math.isfinite(value):
        raise ValueError(f"base must be finite, got {base!r}")
    return math.log(value)


def number(name: str, value: Any, *, low: float | None = None, high: float | None = None,
           low_open: bool = False, high_open: bool = False) -> float:
    """A real number within [low, high] (or open at either end), as a float: a Python or NumPy
    int or float, or a 0-d real array. Strings, bools and complex numbers are a TypeError."""
    number = _real_number(value)
    if number is None:
        if _traced_scalar(value):  # under jax.jit / vmap: used as it is, its range unchecked
            return value  # type: ignore[no-any-return]
        raise TypeError(f"{name} must be a real number, got {value!r}")
    if math.isnan(number):
        raise ValueError(f"{name} must be a number, got nan")
    left = "(" if low_open else "["
    right = ")" if high_open else "]"
    interval = f"{left}{-math.inf if low is None else low:g}, {math.inf if high is None else high:g}{right}"
    if low is not None and (number < low or (low_open and number == low)):
        raise ValueError(f"{name} must be in {interval}, got {number:g}")
    if high is not None and (number > high or (high_open and number == high)):
        raise ValueError(f"{name} must be in {interval}, got {number:g}")
    return number


def _traced_scalar(value: Any) -> bool:
    """A 0-d real array whose value cannot be read now (a JAX tracer under jit, grad or vmap)."""
    own = namespace_of(value)
    return (own is not None and getattr(value, "ndim", None) == 0 and not is_concrete(value)
            and dtype_kind(value.dtype, own) in ("integral", "real floating"))


def integer(name: str, value: Any, *, low: int | None = None) -> int:
    """An integer (Python, NumPy, or a 0-d integer array) not below ``low``, as an int; bools,
    floats and strings are a TypeError."""
    kind = None
    if (own := namespace_of(value)) is not None:
        kind = dtype_kind(value.dtype, own)
    if isinstance(value, bool | np.bool_) or kind not in (None, "integral") or getattr(value, "ndim", 0) != 0:
        raise TypeError(f"{name} must be an int, got {value!r}")
    try:
        index = operator.index(value)  # int, np.integer, 0-d integer arrays that can be read
    except TypeError:
        raise TypeError(f"{name} must be an int, got {value!r}") from None
    if low is not None and index < low:
        raise ValueError(f"{name} must be at least {low}, got {index}")
    return index


def index_option(name: str, value: Any) -> int | None:
    """An option that is a label or None (``ignore_index``), as an int or None."""
    if value is None:
        return None
    try:
        return integer(name, value)
    except TypeError:
        raise TypeError(f"{name} must be an int or None, got {value!r}") from None


def eps(value: Any) -> float | None:
    if value is None:
        return None
    return number("eps", value, low=0.0, high=0.5, low_open=True, high_open=True)


def real_dtype(name: str, dtype: Any, xp: Any, *, what: str = "real numbers") -> str:
    """The kind of ``dtype`` (see ``_xp.dtype_kind``); complex, string and object dtypes are a
    TypeError naming the argument and the dtype: never an imaginary part dropped, nor a string
    read as a number."""
    kind = dtype_kind(dtype, xp)
    if kind is None:
        raise TypeError(f"{name} must hold {what}, got dtype {dtype}")
    return kind


def _read(*reductions: Array) -> list[float] | None:
    """The values of 0-d results as floats, or None when they cannot be read: under jax.jit even
    an array captured from outside gives traced reductions."""
    if not all(is_concrete(r) for r in reductions):
        return None
    return [scalar(r) for r in reductions]


def _has_nan(x: Array, xp: Any) -> Array:
    """A 0-d bool array: whether x holds a NaN. Checked apart from min and max, which do not
    propagate NaN on every backend (JAX's, on arrays of more than a few thousand elements)."""
    if dtype_kind(x.dtype, xp) != "real floating":
        return xp.asarray(False)
    return xp.any(xp.isnan(x))


def _range(name: str, x: Array, xp: Any) -> tuple[float, float] | None:
    """(min, max) of x, None if x is empty or its values cannot be read; a ValueError if it
    holds a NaN."""
    if size(x) == 0 or (values := _read(_has_nan(x, xp), xp.min(x), xp.max(x))) is None:
        return None
    nan, low, high = values
    if nan or math.isnan(low) or math.isnan(high):
        raise ValueError(f"{name} contains NaN")
    return low, high


def in_unit_interval(name: str, x: Array, xp: Any) -> None:
    """Every value of x lies in [0, 1] (and none is NaN)."""
    if (values := _range(name, x, xp)) is None:
        return
    low, high = values
    if low < 0 or high > 1:
        bad = low if low < 0 else high
        raise ValueError(f"{name} must lie in [0, 1], got a value of {bad:g}")


def rows_sum_to_one(name: str, x: Array, xp: Any, *, allow_zero_rows: bool = False,
                    hint: str = "") -> None:
    """Every row of x (class axis last) sums to 1 within PROBABILITY_SUM_TOLERANCE."""
    if size(x) == 0:
        return
    sums = xp.sum(x, axis=-1)
    off = xp.abs(sums - 1)
    bad = ~(off <= PROBABILITY_SUM_TOLERANCE)  # (a NaN row is bad too)
    if allow_zero_rows:
        bad = bad & (sums != 0)
    values = _read(_has_nan(sums, xp), xp.max(xp.where(bad, off, xp.zeros_like(off))))
    if values is None:
        return
    if values[0]:
        raise ValueError(f"{name} contains NaN")
    if values[1] > 0:
        raise ValueError(f"{name} rows must sum to 1 (within {PROBABILITY_SUM_TOLERANCE:g}) along "
                         f"the class axis; a row is {values[1]:g} away{hint}")


def nonnegative(name: str, x: Array, xp: Any) -> None:
    """Every value of x is finite and ≥ 0 (and none is NaN)."""
    if (values := _range(name, x, xp)) is None:
        return
    low, high = values
    if low < 0:
        raise ValueError(f"{name} must be non-negative, got {low:g}")
    if not math.isfinite(high):
        raise ValueError(f"{name} must be finite, got {high:g}")


def positive(name: str, x: Array, xp: Any) -> None:
    nonnegative(name, x, xp)
    if size(x) and (values := _read(xp.min(x))) is not None and values[0] == 0:
        raise ValueError(f"{name} must be positive, got 0")


def labels_in_range(labels: Array, num_classes: int, ignore_index: int | None, xp: Any) -> bool:
    """Every label is in [0, num_classes) or is ignore_index. False if it could not be checked."""
    if size(labels) == 0:
        return True
    labels = as_index(labels, xp)  # (ignore_index=-100 against uint8 labels, torch's uint16 min, ...)
    counted = labels if ignore_index is None else xp.where(
        labels == ignore_index, xp.zeros_like(labels), labels)
    values = _read(xp.min(counted), xp.max(counted))
    if values is None:
        return False
    low, high = int(values[0]), int(values[1])
    if low < 0 or high >= num_classes:
        bad = low if low < 0 else high
        what = "" if ignore_index is None else f" or ignore_index={ignore_index}"
        hint = ("the number of classes is the size of prediction's class axis" if bad != -100 or ignore_index
                is not None else "PyTorch marks ignored samples -100: pass ignore_index=-100 (crossent's "
                "default is None)")
        raise ValueError(f"target contains the label {bad}, outside [0, {num_classes}){what}; {hint}")
    return True


def broadcastable(name: str, shape: tuple[int, ...], to: tuple[int, ...], what: str) -> None:
    """shape broadcasts to ``to`` without changing ``to``."""
    if len(shape) > len(to) or any(s not in (1, t) for s, t in zip(shape[::-1], to[::-1], strict=False)):
        raise ValueError(f"{name} of shape {tuple(shape)} does not broadcast to {what} "
                         f"of shape {tuple(to)}")
