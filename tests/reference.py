"""Float64 NumPy reference implementations of every crossent loss, written from the papers.

Clarity over speed: each loss loops over samples (and classes) and writes its published formula
term by term. Nothing here imports crossent. The class axis is last (tests use ``np.moveaxis``
for other layouts). Every function takes logits by default and probabilities with
``from_logits=False``; from logits only stable identities are used (log-sum-exp shifted by the
row maximum, ``log σ(z) = min(z, 0) - log(1 + e^{-|z|})``), so logits of ±1e4 are exact.

Option names and defaults follow crossent's public signatures, so that a test can pass one
dict of options to both. Conventions (DESIGN.md, "Semantics"):

- a term whose weight is 0 contributes 0, even where its log is -inf (0·log 0 = 0);
- -log 0 = inf unless ``eps`` clips probabilities to ``[eps, 1 - eps]``;
- ``"none"`` returns the weighted per-sample losses, ``"sum"`` their sum, ``"mean"`` the sum
  divided by the sum of the per-sample weights (0 when that is 0);
- ``base`` divides the final value by ln(base).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

# ---------------------------------------------------------------------------------------------
# Elementary functions, one row or one number at a time.


def log(x: float) -> float:
    """Natural log with log 0 = -inf (no warning)."""
    return -math.inf if x == 0 else math.log(x)


def log1m(x: float) -> float:
    """log(1 - x), exact for tiny x, with log(1 - 1) = -inf."""
    return -math.inf if x == 1 else math.log1p(-x)


def logsumexp(z: np.ndarray) -> float:
    """log Σ exp(z_i) of a 1-D row: m + log Σ exp(z_i - m), m = max z."""
    z = np.asarray(z, dtype=np.float64)
    m = float(np.max(z))
    return m + math.log(math.fsum(math.exp(v - m) for v in z))


def log_softmax(z: np.ndarray) -> np.ndarray:
    """log softmax of a 1-D row: z - LSE(z)."""
    z = np.asarray(z, dtype=np.float64)
    return z - logsumexp(z)


def softmax(z: np.ndarray) -> np.ndarray:
    return np.exp(log_softmax(z))


def log_sigmoid(z: float) -> float:
    """log σ(z) = min(z, 0) - log(1 + exp(-|z|))."""
    return min(z, 0.0) - math.log1p(math.exp(-abs(z)))


def sigmoid(z: float) -> float:
    return math.exp(log_sigmoid(z))


# ---------------------------------------------------------------------------------------------
# Shared plumbing: targets, weights, reductions.


def dense_targets(target: np.ndarray, batch: tuple[int, ...], num_classes: int,
                  ignore_index: int | None = None) -> np.ndarray:
    """Targets as rows ``[n, C]``: one-hot rows for integer labels (zero rows for ignored ones)."""
    target = np.asarray(target)
    if np.issubdtype(target.dtype, np.integer):
        labels = target.reshape(-1)
        rows = np.zeros((labels.size, num_classes))
        for i, label in enumerate(labels):
            if ignore_index is not None and label == ignore_index:
                continue
            rows[i, label] = 1.0
        return rows
    return np.asarray(target, dtype=np.float64).reshape(-1, num_classes)


def _per_sample(sample_weight: Any, shape: tuple[int, ...]) -> np.ndarray:
    if sample_weight is None:
        return np.ones(int(np.prod(shape, dtype=np.int64)))
    return np.broadcast_to(np.asarray(sample_weight, dtype=np.float64), shape).reshape(-1)


def _per_class(value: Any, num_classes: int) -> np.ndarray:
    if value is None:
        return np.ones(num_classes)
    return np.broadcast_to(np.asarray(value, dtype=np.float64), (num_classes,))


def reduce(losses: list[float], weights: list[float], shape: tuple[int, ...], reduction: str,
           base: float | None) -> Any:
    """``"none"``: the losses of ``shape``; ``"sum"``; ``"mean"`` = sum / Σ weights (0 if 0)."""
    if reduction == "none":
        value: Any = np.asarray(losses, dtype=np.float64).reshape(shape)
    elif reduction == "sum":
        value = math.fsum(losses) if all(map(math.isfinite, losses)) else float(np.sum(losses))
    elif reduction == "mean":
        total_weight = math.fsum(weights)
        total = math.fsum(losses) if all(map(math.isfinite, losses)) else float(np.sum(losses))
        value = total / total_weight if total_weight > 0 else 0.0
    else:
        raise ValueError(reduction)
    return value if base is None else value / math.log(base)


# ---------------------------------------------------------------------------------------------
# The softmax family. Per sample i, with p = softmax(z) (or the given probabilities), ỹ the
# target after label smoothing (y(1 - ε) + ε/C, Szegedy et al. / PyTorch), s the sample weight,
# w the class weight and α the focal weight:
#
#     ℓ_i = s_i Σ_c w_c α_c ỹ_ic · term(p_ic)   [+ s_i λ LSE(z_i)² for the z-loss]
#
# with term = -log p (cross-entropy), -(1 - p)^γ log p (focal, Lin et al. 2017),
# -log p + ε(1 - p) (Poly-1, Leng et al. 2022). The per-sample weight (the mean's denominator)
# is s_i Σ_c w_c y_ic with y before smoothing.


def _softmax_family(prediction: Any, target: Any, term: Callable[[float, float], float], *,
                    from_logits: bool, weight: Any, alpha: Any, ignore_index: int | None,
                    label_smoothing: float, z_loss: float, logit_softcap: float | None,
                    priors: Any, tau: float, sample_weight: Any, reduction: str,
                    base: float | None, eps: float | None) -> Any:
    x = np.asarray(prediction, dtype=np.float64)
    num_classes, batch = x.shape[-1], x.shape[:-1]
    rows = x.reshape(-1, num_classes)
    y = dense_targets(target, batch, num_classes, ignore_index)
    s = _per_sample(sample_weight, batch)
    w = _per_class(weight, num_classes)
    a = _per_class(alpha, num_classes)
    losses, weights = [], []
    for i in range(rows.shape[0]):
        count = float(np.sum(y[i]))  # 1, or 0 for an ignored sample
        smoothed = y[i] * (1 - label_smoothing) + label_smoothing / num_classes * count
        if from_logits:
            z = rows[i]
            if logit_softcap is not None:
                z = logit_softcap * np.tanh(z / logit_softcap)  # Gemma 2
            if priors is not None:
                z = z + tau * np.log(np.asarray(priors, dtype=np.float64))  # Menon et al.
            lse = logsumexp(z)
            log_p = z - lse
            p = np.exp(log_p)
        else:
            p = rows[i]
            if eps is not None:
                p = np.clip(p, eps, 1 - eps)
            log_p = np.array([log(v) for v in p])
        terms = []
        for c in range(num_classes):
            coefficient = s[i] * w[c] * a[c] * smoothed[c]
            if coefficient != 0:
                terms.append(coefficient * term(float(p[c]), float(log_p[c])))
        loss = math.fsum(terms) if all(map(math.isfinite, terms)) else float(np.sum(terms))
        if z_loss and count > 0:
            loss += s[i] * z_loss * lse**2  # PaLM's auxiliary z-loss
        losses.append(loss)
        weights.append(s[i] * float(np.sum(w * y[i])))
    return reduce(losses, weights, batch, reduction, base)


def cross_entropy(prediction: Any, target: Any, *, weight: Any = None, ignore_index: int | None = None,
                  label_smoothing: float = 0.0, z_loss: float = 0.0, logit_softcap: float | None = None,
                  from_logits: bool = True, reduction: str = "mean", sample_weight: Any = None,
                  base: float | None = None, eps: float | None = None) -> Any:
    """-s Σ_c w_c ỹ_c log p_c (+ s λ LSE² with ``z_loss``); integer labels or dense targets."""
    return _softmax_family(prediction, target, lambda p, log_p: -log_p, from_logits=from_logits,
                           weight=weight, alpha=None, ignore_index=ignore_index,
                           label_smoothing=label_smoothing, z_loss=z_loss, logit_softcap=logit_softcap,
                           priors=None, tau=1.0, sample_weight=sample_weight, reduction=reduction,
                           base=base, eps=eps)


def focal_loss(prediction: Any, target: Any, *, gamma: float = 2.0, alpha: Any = None, weight: Any = None,
               ignore_index: int | None = None, label_smoothing: float = 0.0, from_logits: bool = True,
               reduction: str = "mean", sample_weight: Any = None, base: float | None = None,
               eps: float | None = None) -> Any:
    """-s Σ_c w_c α_c ỹ_c (1 - p_c)^γ log p_c (Lin et al., softmax form)."""

    def focal_term(p: float, log_p: float) -> float:
        return -((1 - p) ** gamma) * log_p  # Python's 0.0 ** 0 is 1: γ = 0 is cross-entropy

    return _softmax_family(prediction, target, focal_term, from_logits=from_logits, weight=weight,
                           alpha=alpha, ignore_index=ignore_index, label_smoothing=label_smoothing,
                           z_loss=0.0, logit_softcap=None, priors=None, tau=1.0,
                           sample_weight=sample_weight, reduction=reduction, base=base, eps=eps)


def poly1_cross_entropy(prediction: Any, target: Any, *, epsilon: float = 2.0, weight: Any = None,
                        ignore_index: int | None = None, label_smoothing: float = 0.0,
                        from_logits: bool = True, reduction: str = "mean", sample_weight: Any = None,
                        base: float | None = None, eps: float | None = None) -> Any:
    """s Σ_c w_c ỹ_c [-log p_c + ε (1 - p_c)] (Leng et al., PolyLoss)."""
    return _softmax_family(prediction, target, lambda p, log_p: -log_p + epsilon * (1 - p),
                           from_logits=from_logits, weight=weight, alpha=None, ignore_index=ignore_index,
                           label_smoothing=label_smoothing, z_loss=0.0, logit_softcap=None, priors=None,
                           tau=1.0, sample_weight=sample_weight, reduction=reduction, base=base, eps=eps)


def logit_adjusted_cross_entropy(prediction: Any, target: Any, priors: Any, *, tau: float = 1.0,
                                 weight: Any = None, ignore_index: int | None = None,
                                 label_smoothing: float = 0.0, z_loss: float = 0.0,
                                 logit_softcap: float | None = None, reduction: str = "mean",
                                 sample_weight: Any = None, base: float | None = None) -> Any:
    """Cross-entropy of z + τ log π (Menon et al.), z soft-capped first when asked."""
    return _softmax_family(prediction, target, lambda p, log_p: -log_p, from_logits=True, weight=weight,
                           alpha=None, ignore_index=ignore_index, label_smoothing=label_smoothing,
                           z_loss=z_loss, logit_softcap=logit_softcap, priors=priors, tau=tau,
                           sample_weight=sample_weight, reduction=reduction, base=base, eps=None)


# ---------------------------------------------------------------------------------------------
# The sigmoid family: element-wise, p = σ(z), ỹ = y(1 - ε) + ε/2 (Keras), s the sample weight
# broadcast to the prediction; "mean" = Σ s·ℓ / Σ s.


def _binary_probabilities(z: float, from_logits: bool, eps: float | None) -> tuple[float, float, float, float]:
    """(p, 1 - p, log p, log(1 - p)) from a logit (stably) or from a probability (clipped by eps)."""
    if from_logits:
        log_p, log_q = log_sigmoid(z), log_sigmoid(-z)
        return math.exp(log_p), math.exp(log_q), log_p, log_q
    p = z if eps is None else min(max(z, eps), 1 - eps)
    return p, 1 - p, log(p), log1m(p)


def _elementwise(prediction: Any, target: Any, sample_weight: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    x = np.asarray(prediction, dtype=np.float64)
    y = np.asarray(target, dtype=np.float64)
    assert x.shape == y.shape
    return x, y, _per_sample(sample_weight, x.shape)


def binary_focal_loss(prediction: Any, target: Any, *, gamma: float = 2.0, alpha: Any = None,
                      pos_weight: Any = None, label_smoothing: float = 0.0, from_logits: bool = True,
                      reduction: str = "mean", sample_weight: Any = None, base: float | None = None,
                      eps: float | None = None) -> Any:
    """s α_t (1 - p_t)^γ ce, the form of torchvision's sigmoid_focal_loss and optax (soft ỹ):

    ce = -(w⁺ ỹ log p + (1 - ỹ) log(1 - p)),  1 - p_t = ỹ (1 - p) + (1 - ỹ) p,
    α_t = α ỹ + (1 - α)(1 - ỹ) (no α: 1).
    """
    x, y, s = _elementwise(prediction, target, sample_weight)
    w_pos = np.broadcast_to(np.ones(()) if pos_weight is None else np.asarray(pos_weight, np.float64),
                            x.shape).reshape(-1)
    a = None if alpha is None else np.broadcast_to(np.asarray(alpha, np.float64), x.shape).reshape(-1)
    losses = []
    for k, (z, t) in enumerate(zip(x.reshape(-1), y.reshape(-1), strict=True)):
        t = t * (1 - label_smoothing) + label_smoothing / 2
        p, q, log_p, log_q = _binary_probabilities(float(z), from_logits, eps)
        ce = 0.0
        if w_pos[k] * t != 0:
            ce -= w_pos[k] * t * log_p
        if 1 - t != 0:
            ce -= (1 - t) * log_q
        one_minus_pt = t * q + (1 - t) * p
        modulating = 1.0 if gamma == 0 else one_minus_pt**gamma
        alpha_t = 1.0 if a is None else a[k] * t + (1 - a[k]) * (1 - t)
        losses.append(s[k] * alpha_t * modulating * ce if modulating != 0 else 0.0)
    return reduce(losses, list(s), x.shape, reduction, base)


def binary_cross_entropy(prediction: Any, target: Any, *, pos_weight: Any = None, label_smoothing: float = 0.0,
                         from_logits: bool = True, reduction: str = "mean", sample_weight: Any = None,
                         base: float | None = None, eps: float | None = None) -> Any:
    """-s [w⁺ ỹ log p + (1 - ỹ) log(1 - p)]."""
    return binary_focal_loss(prediction, target, gamma=0.0, alpha=None, pos_weight=pos_weight,
                             label_smoothing=label_smoothing, from_logits=from_logits, reduction=reduction,
                             sample_weight=sample_weight, base=base, eps=eps)


def asymmetric_loss(prediction: Any, target: Any, *, gamma_pos: float = 0.0, gamma_neg: float = 4.0,
                    clip: float = 0.05, from_logits: bool = True, reduction: str = "mean",
                    sample_weight: Any = None, base: float | None = None, eps: float | None = None) -> Any:
    """ASL (Ridnik et al. 2021): -s [y (1 - p)^γ⁺ log p + (1 - y) p_m^γ⁻ log(1 - p_m)],
    p_m = max(p - m, 0)."""
    x, y, s = _elementwise(prediction, target, sample_weight)
    losses = []
    for k, (z, t) in enumerate(zip(x.reshape(-1), y.reshape(-1), strict=True)):
        p, q, log_p, log_q = _binary_probabilities(float(z), from_logits, eps)
        if clip:
            p_m = max(p - clip, 0.0)
            log_qm = math.log(min(q + clip, 1.0))  # 1 - p_m = min(1 - p + m, 1), without cancellation
        else:
            p_m, log_qm = p, log_q
        loss = 0.0
        if t != 0:
            loss -= t * (1.0 if gamma_pos == 0 else q**gamma_pos) * log_p
        if t != 1:
            focus = 1.0 if gamma_neg == 0 else p_m**gamma_neg
            if focus != 0:
                loss -= (1 - t) * focus * log_qm
        losses.append(s[k] * loss)
    return reduce(losses, list(s), x.shape, reduction, base)


# ---------------------------------------------------------------------------------------------
# Information measures and class weights.


def entropy(p: Any, *, base: float | None = None) -> Any:
    """H(p) = -Σ p_i log p_i over the last axis, 0 log 0 = 0."""
    p = np.asarray(p, dtype=np.float64)
    rows = p.reshape(-1, p.shape[-1])
    out = np.array([-math.fsum(v * math.log(v) for v in row if v > 0) for row in rows]).reshape(p.shape[:-1])
    return out if base is None else out / math.log(base)


def kl_divergence(p: Any, q: Any, *, base: float | None = None) -> Any:
    """D(p‖q) = Σ p_i log(p_i / q_i) over the last axis; p_i = 0 terms are 0, q_i = 0 < p_i gives inf."""
    p, q = np.asarray(p, dtype=np.float64), np.asarray(q, dtype=np.float64)
    out = []
    for row_p, row_q in zip(p.reshape(-1, p.shape[-1]), q.reshape(-1, q.shape[-1]), strict=True):
        terms = [a * (math.log(a) - log(b)) for a, b in zip(row_p, row_q, strict=True) if a > 0]
        out.append(math.fsum(terms) if all(map(math.isfinite, terms)) else float(np.sum(terms)))
    out = np.array(out).reshape(p.shape[:-1])
    return out if base is None else out / math.log(base)


def class_weights(labels: Any, *, num_classes: int | None = None, scheme: str = "balanced",
                  beta: float = 0.999) -> np.ndarray:
    """balanced: n / (C n_c) (scikit-learn); effective_number: (1 - β) / (1 - β^{n_c}) (Cui et al.),
    normalized to sum to C."""
    labels = np.asarray(labels).reshape(-1)
    num_classes = int(labels.max()) + 1 if num_classes is None else num_classes
    counts = [int(np.sum(labels == c)) for c in range(num_classes)]
    if scheme == "balanced":
        return np.array([labels.size / (num_classes * n) for n in counts])
    raw = np.array([(1 - beta) / (1 - beta**n) for n in counts])
    return raw * num_classes / raw.sum()


# ---------------------------------------------------------------------------------------------
# Finite differences.


def numerical_grad(f: Callable[[np.ndarray], float], x: Any, h: float = 2.0**-10) -> np.ndarray:
    """∂f/∂x by fourth-order central differences in float64, one element at a time:

    f'(x) ≈ [f(x - 2h) - 8 f(x - h) + 8 f(x + h) - f(x + 2h)] / 12h, error O(h⁴).

    The default h is a power of two, so x ± h is exact for any x of moderate size.
    """
    x = np.array(x, dtype=np.float64)
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        values = []
        for step in (-2, -1, 1, 2):
            shifted = x.copy()
            shifted[index] += step * h
            values.append(float(f(shifted)))
        grad[index] = (values[0] - 8 * values[1] + 8 * values[2] - values[3]) / (12 * h)
    return grad
