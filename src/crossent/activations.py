"""Softmax, sigmoid and their logarithms, log-sum-exp and one-hot encoding, stable at any logit.

Every function takes and returns arrays of the caller's library (NumPy, PyTorch, JAX, ...),
is differentiable by that library's autograd, and never overflows: softmax and log-sum-exp
shift by the row maximum, the sigmoids are written with ``logaddexp(0, -x)``.
"""

from __future__ import annotations

from typing import Any

from crossent import _checks
from crossent._xp import (
    Array,
    as_array,
    as_index,
    compute_dtype,
    device,
    is_integer,
    namespace,
    normalize_axis,
)

__all__ = ["log_sigmoid", "log_softmax", "logsumexp", "one_hot", "sigmoid", "softmax"]


def _floating(x: Any, xp: Any, name: str = "x") -> Array:
    x = as_array(x, xp, like=xp.asarray(0.0)) if not hasattr(x, "dtype") else x
    dtype = compute_dtype(x.dtype, xp, name=name)
    return x if x.dtype == dtype else xp.astype(x, dtype)


def _shift(x: Array, axis: int, xp: Any) -> tuple[Array, Array]:
    """(x - m, m), m the maximum along ``axis`` (kept), replaced by 0 where it is ±inf so that a
    row of -inf gives -inf and a row holding +inf gives +inf, never NaN."""
    m = xp.max(x, axis=axis, keepdims=True)
    m = xp.where(xp.isfinite(m), m, xp.zeros_like(m))
    return x - m, m


def _logsumexp(x: Array, axis: int, xp: Any, keepdims: bool = False) -> Array:
    # log Σ exp(x) = m + log Σ exp(x - m): no term overflows.
    shifted, m = _shift(x, axis, xp)
    out = m + xp.log(xp.sum(xp.exp(shifted), axis=axis, keepdims=True))
    return out if keepdims else xp.squeeze(out, axis=axis)


def _log_softmax(x: Array, axis: int, xp: Any) -> tuple[Array, Array]:
    """(log softmax(x), logsumexp(x) with ``axis`` kept).

    log softmax is (x - m) - log Σ exp(x - m), not x - logsumexp(x): rounding m + log Σ to the
    spacing of m would cost the most likely class its digits (in float32 at logits near 100 the
    loss of a confident sample, about 4e-6, would come out as 0).
    """
    shifted, m = _shift(x, axis, xp)
    log_sum = xp.log(xp.sum(xp.exp(shifted), axis=axis, keepdims=True))
    return shifted - log_sum, m + log_sum


def _log_sigmoid(x: Array, xp: Any) -> Array:
    # log σ(x) = -log(1 + e^-x) = -logaddexp(0, -x): exact for large |x|, and smooth at 0 (a form
    # with min(x, 0) or |x| has a kink there that some autograds differentiate wrongly). On torch,
    # its own logsigmoid, the same numbers: the double backward of logaddexp is NaN from |x| ≈ 89
    # in float32 on (Hessian-vector products), logsigmoid's is exact.
    if type(x).__module__.startswith("torch") and hasattr(x, "requires_grad"):
        import torch

        return torch.nn.functional.logsigmoid(x)
    return -xp.logaddexp(xp.zeros_like(x), -x)


def _sigmoid(x: Array, xp: Any) -> Array:
    # σ(x) = exp(log σ(x)): never overflows, and its derivative is right at 0.
    return xp.exp(_log_sigmoid(x, xp))


def logsumexp(x: Array, /, *, axis: int = -1, keepdims: bool = False, xp: Any = None) -> Array:
    """Log of the sum of exponentials along ``axis``, without overflow.

    .. math:: \\operatorname{LSE}(x) = m + \\log \\sum_i e^{x_i - m},\\quad m = \\max_i x_i

    >>> float(logsumexp([1000.0, 1000.0]))
    1000.6931471805599
    """
    xp = namespace(x, xp=xp)
    x = _floating(x, xp)
    return _logsumexp(x, normalize_axis(axis, x.ndim), xp, keepdims=keepdims)


def log_softmax(x: Array, /, *, axis: int = -1, xp: Any = None) -> Array:
    """Logarithm of the softmax along ``axis``: ``x - logsumexp(x)``.

    >>> [round(v, 4) for v in log_softmax([2.0, 1.0, 0.1]).tolist()]
    [-0.417, -1.417, -2.317]
    """
    xp = namespace(x, xp=xp)
    x = _floating(x, xp)
    return _log_softmax(x, normalize_axis(axis, x.ndim), xp)[0]


def softmax(x: Array, /, *, axis: int = -1, xp: Any = None) -> Array:
    """Softmax along ``axis``: probabilities that sum to 1, stable at any logit.

    .. math:: \\operatorname{softmax}(x)_i = e^{x_i} / \\sum_j e^{x_j}

    >>> [round(v, 3) for v in softmax([2.0, 1.0, 0.1]).tolist()]
    [0.659, 0.242, 0.099]
    """
    return namespace(x, xp=xp).exp(log_softmax(x, axis=axis, xp=xp))


def sigmoid(x: Array, /, *, xp: Any = None) -> Array:
    """Logistic sigmoid ``1 / (1 + exp(-x))``, element-wise, without overflow.

    >>> sigmoid([0.0, 1e4, -1e4]).tolist()
    [0.5, 1.0, 0.0]
    """
    xp = namespace(x, xp=xp)
    return _sigmoid(_floating(x, xp), xp)


def log_sigmoid(x: Array, /, *, xp: Any = None) -> Array:
    """``log(sigmoid(x))``, element-wise; exact for large negative x (``log_sigmoid(-1e4) = -1e4``).

    >>> log_sigmoid([-1e4, 0.0]).tolist()
    [-10000.0, -0.6931471805599453]
    """
    xp = namespace(x, xp=xp)
    return _log_sigmoid(_floating(x, xp), xp)


def one_hot(labels: Array, /, num_classes: int, *, dtype: Any = None, xp: Any = None) -> Array:
    """One-hot encoding: integer labels of shape ``[...]`` to an array ``[..., num_classes]``.

    ``dtype`` defaults to the namespace's default floating dtype. Labels outside
    ``[0, num_classes)`` are a ValueError.

    >>> one_hot([0, 2], 3).tolist()
    [[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]
    """
    xp = namespace(labels, xp=xp)
    num_classes = _checks.integer("num_classes", num_classes, low=1)
    labels = as_array(labels, xp, like=xp.asarray(0)) if not hasattr(labels, "dtype") else labels
    if not is_integer(labels.dtype, xp):
        raise TypeError(f"labels must have an integer dtype, got {labels.dtype}")
    _checks.labels_in_range(labels, num_classes, None, xp)
    if dtype is None:
        dtype = xp.asarray(0.0).dtype
    # compared in the default integer dtype: an arange in the labels' own (uint8, ...) wraps
    classes = xp.arange(num_classes, device=device(labels))
    return xp.astype(as_index(labels, xp)[..., None] == classes, dtype)
