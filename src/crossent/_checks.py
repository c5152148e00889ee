"""Argument validation shared by every public function.

Each check raises ``ValueError`` or ``TypeError`` naming the argument and the offending value.
Checks that read array values run only when the values can be read (not under ``jax.jit``);
there the softmax losses give samples with an out-of-range label a NaN loss instead.
"""

from __future__ import annotations

import math
from typing import Any

from crossent._xp import Array, is_concrete, scalar

REDUCTIONS = ("none", "mean", "sum")

PROBABILITY_SUM_TOLERANCE = 1e-2
"""How far a row of probabilities (or of dense targets) may sum from 1. Loose enough for
probabilities rounded to three decimals, as in the texts' fruit example (they sum to 0.999)."""


def reduction(value: Any) -> str:
    if value not in REDUCTIONS:
        raise ValueError(f"reduction must be one of {', '.join(map(repr, REDUCTIONS))}, got {value!r}")
    return str(value)


def log_base(base: Any) -> float | None:
    """ln(base), or None for natural logarithms."""
    if base is None:
        return None
    if isinstance(base, bool) or not isinstance(base, int | float) or not base > 0 or base == 1:
        raise ValueError(f"base must be None (nats), 2 (bits), 10, or another positive number "
                         f"other than 1, got {base!r}")
    if not math.isfinite(base):
        raise ValueError(f"base must be finite, got {base!r}")
    return math.log(base)


def number(name: str, value: Any, *, low: float | None = None, high: float | None = None,
           low_open: bool = False, high_open: bool = False) -> float:
    """A real Python number within [low, high] (or open at either end)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        try:
            value = float(value)  # 0-d arrays and NumPy scalars
        except (TypeError, ValueError):
            raise TypeError(f"{name} must be a real number, got {value!r}") from None
    value = float(value)
    if math.isnan(value):
        raise ValueError(f"{name} must be a number, got nan")
    left = "(" if low_open else "["
    right = ")" if high_open else "]"
    interval = f"{left}{-math.inf if low is None else low:g}, {math.inf if high is None else high:g}{right}"
    if low is not None and (value < low or (low_open and value == low)):
        raise ValueError(f"{name} must be in {interval}, got {value:g}")
    if high is not None and (value > high or (high_open and value == high)):
        raise ValueError(f"{name} must be in {interval}, got {value:g}")
    return value


def eps(value: Any) -> float | None:
    if value is None:
        return None
    return number("eps", value, low=0.0, high=0.5, low_open=True, high_open=True)


def _read(*reductions: Array) -> list[float] | None:
    """The values of 0-d results as floats, or None when they cannot be read: under jax.jit even
    an array captured from outside gives traced reductions."""
    if not all(is_concrete(r) for r in reductions):
        return None
    return [scalar(r) for r in reductions]


def in_unit_interval(name: str, x: Array, xp: Any) -> None:
    """Every value of x lies in [0, 1]."""
    if x.size == 0 or (values := _read(xp.min(x), xp.max(x))) is None:
        return
    low, high = values
    if math.isnan(low) or math.isnan(high):
        raise ValueError(f"{name} contains NaN")
    if low < 0 or high > 1:
        bad = low if low < 0 else high
        raise ValueError(f"{name} must lie in [0, 1], got a value of {bad:g}")


def rows_sum_to_one(name: str, x: Array, xp: Any, *, allow_zero_rows: bool = False,
                    hint: str = "") -> None:
    """Every row of x (class axis last) sums to 1 within PROBABILITY_SUM_TOLERANCE."""
    if x.size == 0:
        return
    sums = xp.sum(x, axis=-1)
    off = xp.abs(sums - 1)
    bad = off > PROBABILITY_SUM_TOLERANCE
    if allow_zero_rows:
        bad = bad & (sums != 0)
    values = _read(xp.max(xp.where(bad, off, xp.zeros_like(off))))
    if values is not None and values[0] > 0:
        raise ValueError(f"{name} rows must sum to 1 (within {PROBABILITY_SUM_TOLERANCE:g}) along "
                         f"the class axis; a row is {values[0]:g} away{hint}")


def nonnegative(name: str, x: Array, xp: Any) -> None:
    if x.size == 0 or (values := _read(xp.min(x), xp.max(x))) is None:
        return
    low, high = values
    if math.isnan(low) or math.isnan(high):
        raise ValueError(f"{name} contains NaN")
    if low < 0:
        raise ValueError(f"{name} must be non-negative, got {low:g}")
    if not math.isfinite(high):
        raise ValueError(f"{name} must be finite, got {high:g}")


def positive(name: str, x: Array, xp: Any) -> None:
    nonnegative(name, x, xp)
    if x.size and (values := _read(xp.min(x))) is not None and values[0] == 0:
        raise ValueError(f"{name} must be positive, got 0")


def labels_in_range(labels: Array, num_classes: int, ignore_index: int | None, xp: Any) -> bool:
    """Every label is in [0, num_classes) or is ignore_index. False if it could not be checked."""
    if labels.size == 0:
        return True
    counted = labels if ignore_index is None else xp.where(
        labels == ignore_index, xp.zeros_like(labels), labels)
    values = _read(xp.min(counted), xp.max(counted))
    if values is None:
        return False
    low, high = int(values[0]), int(values[1])
    if low < 0 or high >= num_classes:
        bad = low if low < 0 else high
        what = "" if ignore_index is None else f" or ignore_index={ignore_index}"
        raise ValueError(f"target contains the label {bad}, outside [0, {num_classes}){what}; "
                         f"the number of classes is the size of prediction's class axis")
    return True


def broadcastable(name: str, shape: tuple[int, ...], to: tuple[int, ...], what: str) -> None:
    """shape broadcasts to ``to`` without changing ``to``."""
    if len(shape) > len(to) or any(s not in (1, t) for s, t in zip(shape[::-1], to[::-1], strict=False)):
        raise ValueError(f"{name} of shape {tuple(shape)} does not broadcast to {what} "
                         f"of shape {tuple(to)}")
