"""Plain cross-entropy of integer labels in NumPy, value and gradient in one sweep.

These cover the objective a linear model evaluates on every solver step: float64 logits, integer
labels, an optional weight per row (sample weight × class weight of its label), reduction "sum",
natural log. The generic ``_softmax_loss`` / ``_sigmoid_loss`` build dense per-class factors and
check every option on every call; here the per-row work is a handful of whole-array operations,
reusing buffers. Logits must be finite (a linear model's are); the generic path handles ±inf.
"""

from __future__ import annotations

import numpy as np


def softmax_cross_entropy_sum(z: np.ndarray, labels: np.ndarray,
                              row_weight: np.ndarray | None) -> tuple[float, np.ndarray]:
    """Σᵢ wᵢ (LSE(z_{:,i}) − z_{yᵢ,i}) and its gradient wᵢ (softmax(z_{:,i}) − onehot(yᵢ)).

    ``z`` is class-major, ``(C, N)``: with few classes, reductions over the class axis are then
    C element-wise passes over contiguous rows, where a row-major ``(N, C)`` array would make
    NumPy reduce N tiny rows (several times slower). The gradient has ``z``'s layout.
    """
    samples = np.arange(z.shape[1])
    shifted = z - z.max(axis=0)  # log-sum-exp from each sample's maximum
    e = np.exp(shifted)
    total = e.sum(axis=0)
    per_sample = np.log(total) - shifted[labels, samples]  # -log softmax(z)_y = LSE(z) - z_y
    if row_weight is None:
        e /= total
        e[labels, samples] -= 1.0
        return float(per_sample.sum()), e
    e *= row_weight / total
    e[labels, samples] -= row_weight
    return float(row_weight @ per_sample), e


def sigmoid_cross_entropy_sum(z: np.ndarray, y: np.ndarray,
                              row_weight: np.ndarray | None) -> tuple[float, np.ndarray]:
    """Σᵢ wᵢ (softplus(zᵢ) − yᵢ zᵢ) and its gradient wᵢ (σ(zᵢ) − yᵢ), z and y ``(N,)``.

    -[y log σ(z) + (1 - y) log σ(-z)] = softplus(z) - y z, with softplus(z) = logaddexp(0, z):
    exact at any finite z, and σ(z) = exp(z - softplus(z)).
    """
    softplus = np.logaddexp(0.0, z)
    per_row = softplus - y * z
    grad = np.exp(z - softplus)
    grad -= y
    if row_weight is None:
        return float(per_row.sum()), grad
    grad *= row_weight
    return float(row_weight @ per_row), grad
