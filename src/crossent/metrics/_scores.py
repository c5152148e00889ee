"""Proper scoring rules on predicted probabilities: log loss and the Brier score."""

from __future__ import annotations

from typing import Any

import numpy as np

from crossent import _checks
from crossent.losses import binary_cross_entropy, cross_entropy
from crossent.metrics import _inputs

__all__ = ["brier_score", "log_loss"]


def log_loss(y_true: Any, y_prob: Any, /, *, sample_weight: Any = None, base: float | None = None) -> float:
    """Mean negative log-likelihood of the true labels under the predicted probabilities.

    .. math:: \\mathrm{LL} = \\frac{\\sum_i w_i\\, \\ell_i}{\\sum_i w_i}, \\quad
        \\ell_i = -\\log p_{i, y_i} \\ \\text{(binary, multiclass)}, \\quad
        \\ell_i = -\\frac1L \\sum_l \\left[y_{il} \\log p_{il} + (1 - y_{il}) \\log(1 - p_{il})\\right]
        \\ \\text{(multi-label)}

    It is :func:`log_loss_sum` (the ``"sum"`` reduction of :func:`crossent.cross_entropy` or
    :func:`crossent.binary_cross_entropy`) over Σ wᵢ (multi-label: L Σ wᵢ). Binary and
    multiclass equal ``sklearn.metrics.log_loss`` wherever that does not clip. Unlike
    scikit-learn, it does **not** clip probabilities: a true class predicted with probability 0
    costs −log 0 = inf, unless that sample weighs 0: a sample of weight 0 counts for nothing.

    Multi-label (an ``(N, L)`` indicator) is the mean binary cross-entropy over labels and
    samples, each label an independent yes/no problem with both of its terms counted, and
    differs from ``sklearn.metrics.log_loss``: scikit-learn reads the indicator as one-hot
    classes and computes ``−(1/N) Σᵢ Σ_l y_il log p_il``, summed over the labels, without the
    ``log(1 − p)`` terms (warning where the rows do not sum to 1). On scikit-learn's own
    multi-label test data (four samples, four labels) crossent gives 0.9420, scikit-learn
    3.1168. crossent's equals ``sklearn.metrics.log_loss(y.ravel(), p.ravel())`` (with each
    sample weight repeated L times).

    Args:
        y_true: integer labels ``(N,)`` (in {0, 1} for binary ``y_prob``, in [0, C) otherwise),
            or a 0/1 indicator ``(N, L)`` for multi-label.
        y_prob: ``(N,)`` probability of class 1, ``(N, C)`` class probabilities (rows sum to 1),
            or ``(N, L)`` per-label probabilities.
        sample_weight: ``(N,)`` non-negative weights, not all 0.
        base: None for nats, 2 for bits, 10, ...

    >>> round(log_loss([0, 1, 1], [0.1, 0.8, 0.6]), 4)
    0.2798
    >>> round(log_loss([2, 0], [[0.2, 0.3, 0.5], [0.7, 0.2, 0.1]], base=2), 4)
    0.7573
    """
    t = _inputs.targets(y_true, y_prob, sample_weight)
    scale = _checks.log_base(base)
    labels = t.p.shape[1] if t.kind == "multilabel" else 1
    value = log_loss_sum(t.y, t.p, t.w, multilabel=t.kind == "multilabel") / (float(np.sum(t.w)) * labels)
    return value if scale is None else value / scale


def log_loss_sum(y: np.ndarray, x: np.ndarray, w: np.ndarray, *, multilabel: bool, from_logits: bool = False) -> float:
    """Σᵢ wᵢ ℓᵢ (multi-label: Σᵢ wᵢ Σ_l ℓ_il), the numerator of :func:`log_loss` and of
    :meth:`~crossent.metrics.ScoreSums.log_loss`: validated labels ``y`` and weights ``w``, and
    ``x`` probabilities or, ``from_logits``, logits (``(N,)`` of class 1, ``(N, C)`` classes or
    ``(N, L)`` labels).

    A sample of weight 0 counts for nothing, even where ℓᵢ = −log 0 = inf (the losses' rule).
    """
    if x.ndim == 2 and not multilabel:  # classes (binary as two columns too)
        return float(cross_entropy(x, y, from_logits=from_logits, sample_weight=w, reduction="sum"))
    w = w if x.ndim == 1 else np.broadcast_to(w[:, None], x.shape)
    return float(binary_cross_entropy(x, y.astype(np.float64), from_logits=from_logits, sample_weight=w,
                                      reduction="sum"))


def brier_score(y_true: Any, y_prob: Any, /, *, sample_weight: Any = None) -> float:
    """Brier score: mean squared error of the predicted probabilities against the outcomes.

    .. math::
        \\text{binary: } \\frac{\\sum_i w_i (p_i - y_i)^2}{\\sum_i w_i}, \\qquad
        \\text{multiclass: } \\frac{\\sum_i w_i \\sum_c (p_{ic} - [y_i = c])^2}{\\sum_i w_i}, \\qquad
        \\text{multi-label: } \\frac{\\sum_i w_i \\sum_l (p_{il} - y_{il})^2}{L \\sum_i w_i}

    Binary is in [0, 1] and equals ``sklearn.metrics.brier_score_loss``. Multiclass is Brier's
    original sum over classes, in [0, 2], as scikit-learn's (≥ 1.7) multiclass default
    (``scale_by_half="auto"``). Two columns ``(N, 2)`` are a binary problem: the sum over the two
    classes counts each error twice, so it is halved, and ``(N, 2)`` gives the same score as
    ``(N,)`` with the second column (again as scikit-learn's default). Multi-label is the mean
    over all N·L elements, each a binary Brier score.

    Args:
        y_true, y_prob, sample_weight: as :func:`log_loss`.

    >>> round(brier_score([0, 1, 1, 0], [0.1, 0.9, 0.8, 0.3]), 4)
    0.0375
    >>> round(brier_score([0, 1, 2], [[0.8, 0.1, 0.1], [0.2, 0.7, 0.1], [0.2, 0.2, 0.6]]), 4)
    0.1467

    Reference: Brier, Verification of forecasts expressed in terms of probability, Monthly
    Weather Review 78(1), 1950.
    """
    t = _inputs.targets(y_true, y_prob, sample_weight)
    if t.kind == "multiclass":
        onehot = (t.y[:, None] == np.arange(t.p.shape[1])).astype(np.float64)
        per_sample = np.sum((t.p - onehot) ** 2, axis=1)
        if t.p.shape[1] == 2:
            per_sample = per_sample / 2
    elif t.kind == "binary":
        per_sample = (t.p - t.y) ** 2
    else:
        per_sample = np.mean((t.p - t.y) ** 2, axis=1)
    return float(np.sum(t.w * per_sample) / np.sum(t.w))
