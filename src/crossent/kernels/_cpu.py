"""Numba CPU kernels: the entry points the loss cores delegate to, value and gradient in one sweep.

Each entry point is the delegation branch of a generic core (``_softmax_loss``, ``_sigmoid_loss``):
the core validates the inputs and reduces the value exactly as on its generic path; the kernels
compute the per-sample losses and the gradient already divided by the reduction's divisor (the
mean's Σ weights), so that the gradient is written once and never passed over again. The
kernels themselves are in ``_cpu_softmax`` and ``_cpu_sigmoid``; float32 inputs run on the
vectorized float32 kernels, float64 inputs on float64 ones (the cores compute float16 and
bfloat16 in float32).

Switch: ``ENABLED`` (from the environment variable ``CROSSENT_KERNELS``; ``0`` turns the kernels
off) is read by the cores on every call, so tests can force either path by setting it. Without
numba this module does not import and the cores take the generic path. The thread count is
Numba's (``NUMBA_NUM_THREADS``, ``numba.set_num_threads``).
"""

from __future__ import annotations

import contextlib
import functools
import math
import os
import threading
from collections.abc import Callable
from typing import Any, TypeVar

import numba  # (first: without numba this module fails to import, kernels loaded or not)
import numpy as np

from crossent.kernels import _autograd, _cpu_sigmoid, _cpu_softmax

__all__ = ["ENABLED", "MIN_ELEMENTS", "log_loss", "row_weights",
           "sigmoid_cross_entropy", "softmax_cross_entropy"]

ENABLED = os.environ.get("CROSSENT_KERNELS", "1") != "0"
"""False sends every call to the generic path (``CROSSENT_KERNELS=0``)."""

MIN_ELEMENTS = 1 << 16
"""Smaller predictions take the generic path. Launching the parallel kernels buys nothing on a
few thousand elements, and between BLAS calls (a solver step: X @ W, loss, Xᵀ @ G) Numba's
worker threads and OpenBLAS's spinning threads fight over the cores: on the 2-core machine
``crossent compare`` took 25 s with every small call on the kernels and 1 s without."""


_F = TypeVar("_F", bound=Callable[..., Any])
_LOCK = threading.Lock()
_THREAD_SAFE: bool | None = None  # None until the first parallel launch tells the threading layer


def _serialized(entry: _F) -> _F:
    """``entry``, under a process-wide lock unless Numba's threading layer is thread-safe."""

    @functools.wraps(entry)
    def call(*args: Any, **kwargs: Any) -> Any:
        global _THREAD_SAFE
        if _THREAD_SAFE:
            return entry(*args, **kwargs)
        with _LOCK:
            result = entry(*args, **kwargs)
            if _THREAD_SAFE is None:
                with contextlib.suppress(ValueError):  # (no parallel region launched yet)
                    _THREAD_SAFE = numba.threading_layer() in ("tbb", "omp")
            return result

    return call  # type: ignore[return-value]


def row_weights(labels: np.ndarray, sample_weight: np.ndarray | None, class_weight: np.ndarray | None,
                ignore_index: int | None) -> np.ndarray:
    """sᵢ · w[yᵢ] for integer labels, 0 for an ignored row: the mean's denominator, float64 [N]."""
    labels = np.asarray(labels).reshape(-1)
    counted = labels != _ignore(ignore_index)
    weight = counted.astype(np.float64)
    if class_weight is not None:
        weight *= np.asarray(class_weight, dtype=np.float64)[np.where(counted, labels, 0)]
    if sample_weight is not None:
        weight *= np.asarray(sample_weight, dtype=np.float64).reshape(-1)
    return weight


@_serialized
def softmax_cross_entropy(
    z: np.ndarray, labels: np.ndarray, sample_weight: np.ndarray | None,
    class_weight: np.ndarray | None, alpha: np.ndarray | float | None, bias: np.ndarray | None, *,
    ignore_index: int | None, smoothing: float, gamma: float, epsilon: float, z_loss: float,
    softcap: float | None, grad: bool, divisor: float = 1.0, out: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Per-row losses and the gradient divided by ``divisor`` (or None) of the softmax loss of
    ``_softmax_loss`` for ``z [N, C]``, integer ``labels [N]`` and validated options
    (``sample_weight [N]``, ``class_weight``, ``alpha``, ``bias`` = τ log π ``[C]``). The gradient
    goes into ``out`` when given (``z`` itself to overwrite the logits), else into the destination
    set for ``z`` (``crossent.value_and_grad(out=)``, ``inplace_backward``), else a new array."""
    n, num_classes = z.shape
    if grad and out is None:
        out = _autograd.take_destination(z)
    in_place = out is not None and out is z
    if in_place and not z.flags.c_contiguous:
        raise ValueError("out=z needs C-contiguous logits to write the gradient in place")
    z = np.ascontiguousarray(z)
    w = _vector(class_weight, num_classes)
    scale = w * _vector(alpha, num_classes)
    s, y = _vector(sample_weight, n), _labels(labels, n)
    loss = np.empty(n)
    if not grad:
        g = np.empty((0, num_classes), z.dtype)
    elif out is not None:
        if out.shape != z.shape or out.dtype != z.dtype or not out.flags.c_contiguous:
            raise ValueError(f"out must be a C-contiguous {z.dtype} array of shape {z.shape}")
        g = z if in_place else out
    else:
        g = np.empty_like(z)
    # the vectorized float32 kernel: every option but soft-capping, and focal γ or Poly-1 ε only
    # without label smoothing (where Σ_c h_c needs every class's focal term)
    if z.dtype == np.float32 and not softcap and (smoothing == 0.0 or gamma == epsilon == 0.0):
        fallback = np.empty(n, np.bool_)
        b = np.empty(0, np.float32) if bias is None else np.asarray(bias, np.float32)
        _cpu_softmax.softmax_rows_float32(z, y, s, scale, scale.astype(np.float32), b, loss, g, fallback,
                                          _ignore(ignore_index), smoothing, gamma, epsilon, z_loss, divisor, grad,
                                          in_place)
        rows = np.flatnonzero(fallback)
        if rows.size == 0:
            return loss, g if grad else None
        # rows with an inf or NaN logit (untouched by the fast kernel): the float64 kernel
        sub_loss, sub_grad = np.empty(rows.size), np.empty((rows.size if grad else 0, num_classes), z.dtype)
        _cpu_softmax.softmax_rows(z[rows], y[rows], s[rows], scale, _vector(bias, num_classes, 0.0),
                                  sub_loss, sub_grad, _ignore(ignore_index), smoothing, gamma, epsilon, z_loss,
                                  0.0, divisor, grad, False)
        loss[rows] = sub_loss
        if grad:
            g[rows] = sub_grad
        return loss, g if grad else None
    _cpu_softmax.softmax_rows(z, y, s, scale, _vector(bias, num_classes, 0.0), loss, g,
                              _ignore(ignore_index), smoothing, gamma, epsilon, z_loss, softcap or 0.0,
                              divisor, grad, in_place)
    return loss, g if grad else None


@_serialized
def log_loss(
    prob: np.ndarray, labels: np.ndarray, sample_weight: np.ndarray | None,
    class_weight: np.ndarray | None, alpha: np.ndarray | float | None, *, ignore_index: int | None,
    smoothing: float, eps: float | None, grad: bool, divisor: float = 1.0, tolerance: float = math.inf,
) -> tuple[np.ndarray, np.ndarray | None] | None:
    """:func:`softmax_cross_entropy` from probabilities ``prob [N, C]``: -Σ_c a_c log p_c. Each row
    is checked to hold values in [0, 1] summing to 1 within ``tolerance`` as it is read; None if
    one does not (the caller raises, with the generic checks' message)."""
    n, num_classes = prob.shape
    prob = np.ascontiguousarray(prob)
    scale = _vector(class_weight, num_classes) * _vector(alpha, num_classes)
    loss = np.empty(n)
    g = np.empty((n, num_classes) if grad else (0, num_classes), prob.dtype)
    bad = _cpu_softmax.log_loss_rows(prob, _labels(labels, n), _vector(sample_weight, n), scale, loss, g,
                                     _ignore(ignore_index), smoothing, eps or 0.0, divisor, grad, tolerance)
    return None if bad else (loss, g if grad else None)


@_serialized
def sigmoid_cross_entropy(
    z: np.ndarray, y: np.ndarray, sample_weight: np.ndarray | None,
    pos_weight: np.ndarray | None, *, smoothing: float, grad: bool, divisor: float = 1.0,
    elementwise: bool = True,
) -> tuple[np.ndarray | None, float, np.ndarray | None] | None:
    """(element-wise losses or None, their sum, gradient / ``divisor`` or None) of binary
    cross-entropy from logits ``z``; ``sample_weight`` and ``pos_weight`` validated and broadcast
    to ``z``'s shape. ``elementwise=False`` skips storing the losses ("sum", "mean"). The targets
    ``y`` are checked to lie in [0, 1] as they are read: None if one does not (or is NaN), after
    the gradient of the others went into the destination set for ``z``, if any (the element-wise
    kernels read each logit before they write its gradient: ``z`` itself may be it)."""
    s, s_step = _elementwise(sample_weight, z.dtype)
    pw, pw_step = _elementwise(pos_weight, z.dtype)
    flat = np.ascontiguousarray(z).reshape(-1)
    loss = np.empty(flat.shape if elementwise else (0,), z.dtype)
    out = _autograd.take_destination(z) if grad else None
    g = np.empty(flat.shape if grad else (0,), z.dtype) if out is None else out.reshape(-1)
    kernel = _cpu_sigmoid.sigmoid_float32 if z.dtype == np.float32 else _cpu_sigmoid.sigmoid_float64
    total, outside = kernel(flat, np.ascontiguousarray(y, dtype=z.dtype).reshape(-1), s, s_step, pw, pw_step,
                            loss, g, smoothing, divisor, elementwise, grad)
    if outside:
        return None
    return (loss.reshape(z.shape) if elementwise else None, float(total),
            g.reshape(z.shape) if grad else None)


def _vector(values: np.ndarray | float | None, length: int, fill: float = 1.0) -> np.ndarray:
    """A validated per-row or per-class option (an array or a number) as float64 ``[length]``,
    ``fill`` where it is None."""
    if values is None:
        return np.full(length, fill)
    # a fresh array: a read-only view would be another signature to compile
    return np.array(np.broadcast_to(np.asarray(values, dtype=np.float64).reshape(-1), (length,)))


def _labels(labels: np.ndarray, n: int) -> np.ndarray:
    return np.array(labels, dtype=np.int64).reshape(n)  # a copy, writable: one signature


def _ignore(ignore_index: int | None) -> int:
    # labels are validated to lie in [0, C) where ignore_index is None: -1 then matches none
    return -1 if ignore_index is None else ignore_index


def _elementwise(values: np.ndarray | None, dtype: np.dtype) -> tuple[np.ndarray, int]:
    """(flat values, step) of a weight broadcast to the prediction: one value, read at every
    index with step 0, when it is None or broadcast from a scalar (not materialized)."""
    if values is None:
        return np.ones(1, dtype), 0
    if not any(values.strides):
        return np.full(1, values.flat[0], dtype), 0
    return np.array(values, dtype=dtype).reshape(-1), 1  # a copy: a read-only view is another signature
