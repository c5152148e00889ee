"""Temperature scaling: one scalar T > 0 that recalibrates logits without changing the argmax."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from crossent.losses import binary_cross_entropy, cross_entropy
from crossent.metrics import _inputs

__all__ = ["apply_temperature", "fit_temperature"]

LOG_T_BOUNDS = (math.log(1e-2), math.log(1e2))
"""The search interval of log T: T in [0.01, 100]."""


def _nll(t: _inputs.Targets, temperature: float) -> float:
    """The weighted mean log loss of ``logits / T`` (softmax or sigmoid by the targets' kind)."""
    z = t.p / temperature
    if t.kind == "multiclass":
        return float(cross_entropy(z, t.y, sample_weight=t.w))
    w = t.w if t.kind == "binary" else np.broadcast_to(t.w[:, None], z.shape)
    return float(binary_cross_entropy(z, t.y.astype(np.float64), sample_weight=w))


def fit_temperature(logits: Any, y_true: Any, /, *, sample_weight: Any = None) -> float:
    """The temperature T > 0 that minimizes the log loss of ``logits / T`` on held-out data.

    .. math:: T^\\star = \\arg\\min_{T > 0} \\frac{\\sum_i w_i\\, \\ell(z_i / T, y_i)}{\\sum_i w_i}

    with ℓ the softmax cross-entropy for logits ``(N, C)`` and integer labels ``(N,)``, the
    sigmoid (binary) cross-entropy for logits ``(N,)`` and labels in {0, 1}, and the per-element
    sigmoid cross-entropy averaged over labels for logits ``(N, L)`` and a 0/1 indicator
    ``(N, L)``. The loss is convex in β = 1/T (a log-sum-exp of functions linear in β, minus a
    linear term), hence unimodal in log T, which is searched with bounded Brent's method
    (``scipy.optimize.minimize_scalar``) over T in [0.01, 100]. A result at a bound means the
    optimum lies beyond it: separable data (T → 0) or logits carrying no information about the
    labels (T → ∞). Fit on a validation set, not on the training set.

    >>> import numpy as np
    >>> logits = np.array([[4.0, 0.0], [0.0, 4.0], [4.0, 0.0], [0.0, 4.0]])
    >>> T = fit_temperature(logits, [0, 1, 1, 0])  # half right at 98% confidence: flatten
    >>> T > 10
    True

    Reference: Guo, Pleiss, Sun, Weinberger, On Calibration of Modern Neural Networks,
    arXiv:1706.04599, ICML 2017.
    """
    from scipy.optimize import minimize_scalar

    t = _inputs.targets(y_true, logits, sample_weight, name="logits", logits=True)
    result = minimize_scalar(lambda log_t: _nll(t, math.exp(log_t)), bounds=LOG_T_BOUNDS,
                             method="bounded", options={"xatol": 1e-10})
    return math.exp(float(result.x))


def apply_temperature(logits: Any, temperature: float) -> Any:
    """The logits divided by the temperature: ``logits / T``, T > 0 and finite.

    Arrays (NumPy, PyTorch, JAX, ...) come back as the same kind of array; anything else
    (a list) as a float64 NumPy array. Softmax or sigmoid of the result are the recalibrated
    probabilities; the predicted classes do not change.

    >>> apply_temperature([[2.0, -1.0]], 2.0).tolist()
    [[1.0, -0.5]]
    """
    temperature = _inputs.temperature(temperature)
    if not (hasattr(logits, "shape") and hasattr(logits, "dtype")):
        logits = np.asarray(logits, dtype=np.float64)
    return logits / temperature
