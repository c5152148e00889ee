"""Cross-entropy and its focal / Poly-1 relatives in NumPy, value and gradient in one sweep.

These cover the objective a linear model evaluates on every solver step: float64 logits, integer
labels, an optional weight per row (sample weight × class weight of its label), reduction "sum",
natural log. The generic ``_softmax_loss`` / ``_sigmoid_loss`` build dense per-class factors and
check every option on every call; here the per-row work is a handful of whole-array operations,
reusing buffers. Logits must be finite (a linear model's are); the generic path handles ±inf.
``crossent.models._linear._fused_objective`` says which options map onto which kernel.
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

    -[y log σ(z) + (1 - y) log σ(-z)] = softplus(z) - y z, exact at any finite z from one
    exponential and one log1p: with e = exp(-|z|) ∈ (0, 1], softplus(z) = max(z, 0) + log1p(e)
    and σ(z) = 1 / (1 + e) for z ≥ 0, e / (1 + e) below.
    """
    e = np.exp(-np.abs(z))
    per_row = np.log1p(e)
    per_row += np.maximum(z, 0.0)
    per_row -= y * z
    grad = 1.0 / (1.0 + e)
    np.multiply(grad, e, out=grad, where=z < 0)  # e / (1 + e) for z < 0
    grad -= y
    if row_weight is None:
        return float(per_row.sum()), grad
    grad *= row_weight
    return float(row_weight @ per_row), grad


def binary_focal_poly1_sum(u: np.ndarray, row_weight: np.ndarray | None, *,
                           gamma: float, epsilon: float) -> tuple[float, np.ndarray]:
    """Σᵢ wᵢ [qᵢ^γ ℓᵢ + ε qᵢ] and its gradient with respect to u ``(N,)``, where uᵢ is the
    signed margin of the true class: p = σ(u) its probability, q = 1 - p = σ(-u), ℓ = -log p.

    Two-class softmax of the logits [0, z] with u = ±z: γ = 0 is cross-entropy, ε = 0 the focal
    loss, γ = 0 with ε the Poly-1 loss. Exact at any finite u, also where p or q underflows:
    with e = exp(-|u|) ∈ (0, 1], softplus(±u) = max(±u, 0) + log1p(e), and {p, q} = {1, e} / (1 + e)
    (no 1 - p, which loses q's digits as p → 1).

    Gradient, with dp/du = p q, dq/du = -p q, dℓ/du = -q::

        d/du [q^γ ℓ] = γ q^(γ-1) (-p q) ℓ + q^γ (-q) = -q^γ (γ p ℓ + q)
        d/du [ε q]   = -ε p q

    so q^(γ-1), infinite at q = 0 for γ < 1, never appears.
    """
    e = np.exp(-np.abs(u))
    r = 1.0 / (1.0 + e)
    ell = np.maximum(-u, 0.0) + np.log1p(e)  # softplus(-u) = -log σ(u)
    positive = u >= 0
    e *= r  # e / (1 + e): the smaller of p and q
    p = np.where(positive, r, e)
    q = np.where(positive, e, r)
    if gamma == 0:  # -q - ε p q = -q (1 + ε - ε q): -q² at ε = -1, with no 1 - p
        per_row = ell
        grad = epsilon * q
        grad -= 1.0 + epsilon
        grad *= q
    else:
        q_gamma = q**gamma
        per_row = q_gamma * ell
        grad = p * ell
        grad *= gamma
        grad += q
        grad *= -q_gamma
        if epsilon:
            grad -= epsilon * (p * q)
    if epsilon:  # ℓ - q at ε = -1 cancels to q²/2 as q → 0: exact to a rounding of ℓ, not of ℓ - q
        per_row += epsilon * q
    if row_weight is None:
        return float(per_row.sum()), grad
    grad *= row_weight
    return float(row_weight @ per_row), grad


def binary_focal_poly1_grad_hess(u: np.ndarray, row_weight: np.ndarray | None, *,
                                 gamma: float, epsilon: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The first and second derivatives of wᵢ [qᵢ^γ ℓᵢ + ε qᵢ] with respect to uᵢ (each row's
    own), and p, as :func:`binary_focal_poly1_sum` (p = σ(u), q = σ(-u), ℓ = -log p, one exp):

        h = p q^γ [(2γ + 1) q + γ (q - γ p) log p] - ε p q (q - p)

    the binary focal curvature of :func:`crossent.value_grad_hess` (log p = -ℓ), plus Poly-1's.
    With γ = 0 the bracket is p q [1 - ε (q - p)], written (1 + ε) - 2εq where p ≥ ½ and
    (1 - ε) + 2εp below, so that neither half cancels the other."""
    e = np.exp(-np.abs(u))
    r = 1.0 / (1.0 + e)
    ell = np.maximum(-u, 0.0) + np.log1p(e)
    positive = u >= 0
    e *= r
    p = np.where(positive, r, e)
    q = np.where(positive, e, r)
    pq = p * q
    if gamma == 0:
        grad = epsilon * q
        grad -= 1.0 + epsilon
        grad *= q
        hess = pq
        if epsilon:
            hess = pq * np.where(positive, (1 + epsilon) - (2 * epsilon) * q, (1 - epsilon) + (2 * epsilon) * p)
    else:
        q_gamma = q**gamma
        grad = p * ell
        grad *= gamma
        grad += q
        grad *= -q_gamma
        inside = (q - gamma * p) * ell
        inside *= -gamma
        inside += (2 * gamma + 1) * q
        hess = p * q_gamma
        hess *= inside
        if epsilon:
            grad -= epsilon * pq
            hess -= epsilon * pq * (q - p)
    if row_weight is not None:
        grad *= row_weight
        hess = hess * row_weight
    return grad, hess, p


def softmax_focal_poly1_sum(z: np.ndarray, labels: np.ndarray, row_weight: np.ndarray | None, *,
                            gamma: float, epsilon: float) -> tuple[float, np.ndarray]:
    """Σᵢ wᵢ [qᵢ^γ ℓᵢ + ε qᵢ] of the label's class and its gradient, class-major ``z`` ``(C, N)``:
    p = softmax(z_{:,i}), p_t = p_{yᵢ}, q = 1 - p_t, ℓ = -log p_t (focal: ε = 0; Poly-1: γ = 0).

    Gradient, with dℓ/dz_k = p_k - δ_ky and dq/dz_k = -dp_t/dz_k = p_t (p_k - δ_ky)::

        d/dz_k [q^γ ℓ + ε q] = (p_k - δ_ky) [q^γ + γ q^(γ-1) p_t ℓ + ε p_t]
                             = (p_k - δ_ky) [q^γ (1 + γ p_t ℓ / q) + ε p_t]

    q is the sum of the other classes' probabilities (no 1 - p_t, which loses q's digits as
    p_t → 1), ℓ = log1p(q_e / e_t) where the label dominates (e the shifted exponentials), and
    ℓ / q → 1 as q → 0, so q^(γ-1), infinite at q = 0 for γ < 1, is never formed.
    """
    samples = np.arange(z.shape[1])
    shifted = z - z.max(axis=0)
    e = np.exp(shifted)
    e_label = e[labels, samples]
    e[labels, samples] = 0.0
    others = e.sum(axis=0)  # Σ_{c ≠ y} e_c, summed without the label's term
    e[labels, samples] = e_label
    total = e_label + others
    q = others / total
    p_label = e_label / total
    dominant = e_label >= others
    ell = np.where(dominant, np.log1p(others / np.where(dominant, e_label, 1.0)),
                   np.log(total) - shifted[labels, samples])
    ratio = np.divide(ell, q, out=np.ones_like(q), where=q > 0)  # ℓ / q, 1 in the limit q → 0
    q_gamma = q**gamma if gamma else np.ones_like(q)
    per_row = q_gamma * ell
    factor = q_gamma * (1.0 + gamma * p_label * ratio) if gamma else np.ones_like(q)
    if epsilon:
        per_row += epsilon * q
        factor += epsilon * p_label
    if row_weight is not None:
        factor *= row_weight
    e *= factor / total
    e[labels, samples] -= factor
    value = float(per_row.sum()) if row_weight is None else float(row_weight @ per_row)
    return value, e


def softmax_soft_target_sum(z: np.ndarray, a: np.ndarray) -> tuple[float, np.ndarray]:
    """Σᵢ Σ_c a_ci (-log softmax(z_{:,i})_c) and its gradient, class-major ``z`` and ``a``
    ``(C, N)``, with a_ci = sᵢ w_c ỹ_ci the weighted (smoothed) targets.

    -log p_c = LSE - z_c, so the per-sample loss is (Σ_c a_c) LSE - Σ_c a_c z_c (any shift of z
    cancels) and its gradient (Σ_c a_c) p - a.
    """
    shifted = z - z.max(axis=0)
    e = np.exp(shifted)
    total = e.sum(axis=0)
    row = a.sum(axis=0)
    value = float(row @ np.log(total) - np.vdot(a, shifted))
    e *= row / total
    e -= a
    return value, e
