"""The metrics' inputs: targets and probabilities (or logits) to validated float64 NumPy arrays.

Every metric reads its arguments here, so that the three target conventions are recognized, and
each error names the argument and the value, in one place:

- binary: ``y_true`` labels ``(N,)`` in {0, 1}, ``y_prob`` ``(N,)`` the probability of class 1;
- multiclass: ``y_true`` labels ``(N,)`` in [0, C), ``y_prob`` ``(N, C)`` rows summing to 1;
- multi-label: ``y_true`` a 0/1 indicator ``(N, L)``, ``y_prob`` ``(N, L)`` one probability per label.
"""

from __future__ import annotations

import math
from typing import Any, Literal, NamedTuple

import numpy as np

from crossent import _checks

Kind = Literal["binary", "multiclass", "multilabel"]


class Targets(NamedTuple):
    kind: Kind
    y: np.ndarray  # int64 labels (N,) for binary/multiclass; float64 0/1 indicator (N, L) for multi-label
    p: np.ndarray  # float64 probabilities (or logits), (N,) or (N, C) or (N, L)
    w: np.ndarray  # float64 sample weights (N,), ones by default


def targets(y_true: Any, y_prob: Any, sample_weight: Any, *, name: str = "y_prob",
            logits: bool = False) -> Targets:
    """Validate ``y_true`` against ``y_prob`` (named ``name``; logits when ``logits``)."""
    p = _floats(name, y_prob)
    if p.ndim not in (1, 2):
        raise ValueError(f"{name} must have shape (N,) (binary), (N, C) (multiclass) or (N, L) "
                         f"(multi-label), got shape {p.shape}")
    if p.shape[0] == 0:
        raise ValueError(f"{name} is empty: the metrics need at least one sample")
    if p.ndim == 2 and p.shape[1] == 0:
        raise ValueError(f"{name} of shape {p.shape} has no classes")
    if logits:
        if not np.isfinite(p).all():
            raise ValueError(f"{name} must be finite, got {p[~np.isfinite(p)].flat[0].item():g}")
    else:
        _checks.in_unit_interval(name, p, np)
    y = np.asarray(y_true)
    if y.dtype == object or not (np.issubdtype(y.dtype, np.number) or y.dtype == np.bool_):
        raise TypeError(f"y_true must hold integer class labels or a 0/1 indicator, got dtype {y.dtype}")
    if y.ndim == 2:
        kind: Kind = "multilabel"
        if y.shape != p.shape:
            raise ValueError(f"y_true of shape {y.shape} is a multi-label indicator and must have "
                             f"{name}'s shape {p.shape}")
        if not np.isin(y, (0, 1)).all():
            bad = y[~np.isin(y, (0, 1))].flat[0].item()
            raise ValueError(f"y_true as a multi-label indicator must hold 0 and 1 only, got {bad!r}")
        y = y.astype(np.float64)
    elif y.ndim == 1:
        if y.shape[0] != p.shape[0]:
            raise ValueError(f"y_true has {y.shape[0]} samples but {name} has {p.shape[0]} "
                             f"(shape {p.shape})")
        num_classes = 2 if p.ndim == 1 else p.shape[1]
        kind = "binary" if p.ndim == 1 else "multiclass"
        labels = y.astype(np.int64)
        if not np.issubdtype(y.dtype, np.integer) and not (labels == y).all():
            bad = y[labels != y].flat[0].item()
            raise ValueError(f"y_true must hold integer class labels, got {bad!r}")
        low, high = int(labels.min()), int(labels.max())
        if low < 0 or high >= num_classes:
            source = "binary probabilities (N,)" if p.ndim == 1 else f"the {num_classes} columns of {name}"
            raise ValueError(f"y_true contains the label {low if low < 0 else high}, outside "
                             f"[0, {num_classes}) given by {source}")
        y = labels
        if kind == "multiclass" and not logits:
            _checks.rows_sum_to_one(name, p, np, hint="; for multi-label probabilities give y_true "
                                    "as a 0/1 indicator of shape (N, L)")
    else:
        raise ValueError(f"y_true must be labels (N,) or a multi-label indicator (N, L), got shape {y.shape}")
    return Targets(kind, y, p, weights(sample_weight, p.shape[0]))


def weights(sample_weight: Any, n: int) -> np.ndarray:
    """Per-sample weights ``(n,)``: non-negative, finite, not all zero."""
    if sample_weight is None:
        return np.ones(n)
    w = _floats("sample_weight", sample_weight)
    if w.shape != (n,):
        raise ValueError(f"sample_weight must have one weight per sample, shape ({n},), got shape {w.shape}")
    _checks.nonnegative("sample_weight", w, np)
    if not w.sum() > 0:
        raise ValueError("sample_weight sums to 0: no sample counts")
    return w


def _floats(name: str, value: Any) -> np.ndarray:
    array = np.asarray(value)
    if array.dtype == np.bool_ or not (np.issubdtype(array.dtype, np.integer)
                                       or np.issubdtype(array.dtype, np.floating)):
        raise TypeError(f"{name} must hold real numbers, got dtype {array.dtype}")
    array = array.astype(np.float64)
    if np.isnan(array).any():
        raise ValueError(f"{name} contains NaN")
    return array


def choice(name: str, value: Any, options: tuple[str, ...]) -> str:
    if not isinstance(value, str) or value not in options:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, options))}, got {value!r}")
    return value


def n_bins(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ValueError(f"n_bins must be a positive int, got {value!r}")
    return int(value)


def temperature(value: Any) -> float:
    t = _checks.number("temperature", value, low=0, low_open=True)
    if not math.isfinite(t):
        raise ValueError(f"temperature must be finite, got {t:g}")
    return t
