"""Class weights for imbalanced data, to pass as ``weight=`` to the softmax losses."""

from __future__ import annotations

from typing import Any

from crossent import _checks
from crossent._xp import Array, as_array, as_index, device, is_integer, namespace

__all__ = ["class_weights"]

SCHEMES = ("balanced", "effective_number")


def class_weights(labels: Array, /, *, num_classes: int | None = None, scheme: str = "balanced",
                  beta: float = 0.999, xp: Any = None) -> Array:
    """Per-class weights ``[C]`` from integer labels, heavier for rarer classes.

    - ``"balanced"``: ``n / (C · n_c)``, scikit-learn's ``compute_class_weight("balanced")``.
    - ``"effective_number"``: ``(1 - β) / (1 - β^{n_c})``, the inverse of the effective number of
      samples (Cui et al.), normalized to sum to C. β = 0 gives equal weights; β → 1 tends to
      inverse frequency.

    ``num_classes`` defaults to the largest label + 1; every class must have a sample.

    >>> class_weights([0, 0, 0, 1]).tolist()
    [0.6666666666666666, 2.0]

    Reference: Cui, Jia, Lin, Song, Belongie, Class-Balanced Loss Based on Effective Number of
    Samples, arXiv:1901.05555, CVPR 2019.
    """
    xp = namespace(labels, xp=xp)
    if scheme not in SCHEMES:
        raise ValueError(f"scheme must be one of {', '.join(map(repr, SCHEMES))}, got {scheme!r}")
    beta = _checks.number("beta", beta, low=0, high=1, high_open=True)
    labels = as_array(labels, xp, like=labels if hasattr(labels, "dtype") else xp.asarray(0))
    if not is_integer(labels.dtype, xp):
        raise TypeError(f"labels must have an integer dtype, got {labels.dtype}")
    labels = xp.reshape(labels, (-1,))
    if labels.shape[0] == 0:
        raise ValueError("labels is empty")
    labels = as_index(labels, xp)  # (an arange in uint8 wraps past 255 classes)
    num_classes = int(xp.max(labels)) + 1 if num_classes is None else _checks.integer(
        "num_classes", num_classes, low=1)
    _checks.labels_in_range(labels, num_classes, None, xp)
    dtype = xp.asarray(0.0).dtype
    classes = xp.arange(num_classes, dtype=labels.dtype, device=device(labels))
    counts = xp.sum(xp.astype(labels[:, None] == classes, dtype), axis=0)
    if bool(xp.any(counts == 0)):
        empty = int(xp.argmax(xp.astype(counts == 0, xp.int32)))
        raise ValueError(f"class {empty} has no samples among the labels; weights need every class "
                         f"of [0, {num_classes}) present")
    if scheme == "balanced":
        return labels.shape[0] / (num_classes * counts)
    weights = (1 - beta) / (1 - beta**counts)
    return weights * (num_classes / xp.sum(weights))
