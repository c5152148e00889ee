"""What every crossent classifier does with ``y`` and its loss before it trains, and with its logits
after: the problem (binary, multiclass, multi-label), the crossent loss function for it, the
options that loss gets (sample and class weights, ``reduction="sum"``), and the predictions
made from the logits.

:class:`~crossent.models.LinearClassifier`, :class:`~crossent.models.GradientBoostingClassifier`
and :class:`~crossent.models.MLPClassifier` share all of it, so that ``loss="focal"``,
``class_weight="balanced"`` or ``sample_weight`` mean the same in each, whatever the model:

- binary (two classes): one logit per sample. A softmax-family loss sees the two-class logits
  ``[0, z]``: softmax([0, z]) = [σ(-z), σ(z)], so cross-entropy there is binary cross-entropy.
  The sigmoid losses ``"binary_cross_entropy"`` and ``"binary_focal"`` take ``z`` directly.
- multiclass: one logit per class, softmax.
- multi-label (an indicator matrix ``y`` of shape ``(N, L)``): one sigmoid logit per label.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import column_or_1d

from crossent.activations import log_sigmoid, log_softmax, sigmoid, softmax
from crossent.losses import class_weights
from crossent.losses._define import lookup

# Short names and what they mean for (binary or multiclass, multi-label) problems; None: not
# available there. Every crossent loss function name is accepted as well.
LOSSES: dict[str, tuple[str | None, str | None]] = {
    "cross_entropy": ("cross_entropy", "binary_cross_entropy"),
    "focal": ("focal_loss", "binary_focal_loss"),
    "poly1": ("poly1_cross_entropy", None),
    "logit_adjusted": ("logit_adjusted_cross_entropy", None),
    "asymmetric": (None, "asymmetric_loss"),
    "binary_cross_entropy": ("binary_cross_entropy", "binary_cross_entropy"),
    "binary_focal": ("binary_focal_loss", "binary_focal_loss"),
}
SIGMOID_LOSSES = ("asymmetric_loss", "binary_cross_entropy", "binary_focal_loss")
SOFTMAX_LOSSES = ("categorical_cross_entropy", "cross_entropy", "focal_loss", "logit_adjusted_cross_entropy",
                  "poly1_cross_entropy", "sparse_categorical_cross_entropy")
# Options the model sets itself; loss_options may not give them.
RESERVED = {
    "axis": "the class axis is the model's",
    "eps": "it acts on probabilities and the model trains on logits",
    "from_logits": "the model trains on logits",
    "ignore_index": "every training sample counts; give a sample weight 0 instead",
    "reduction": "the objective sums the per-sample losses",
    "sample_weight": "pass sample_weight to fit",
    "weight": "use class_weight",
    "xp": "the model computes with NumPy",
}
CLASS_WEIGHT_SCHEMES = ("balanced", "effective_number")


@dataclass
class Problem:
    """A classification problem set up for a crossent loss.

    ``target`` is what the loss gets: integer labels ``(N,)`` (softmax losses), 0/1 floats
    ``(N,)`` (a sigmoid loss on a binary problem), one-hot rows (``categorical_cross_entropy``)
    or the float indicator matrix ``(N, L)``. ``options`` hold the loss options, the sample
    and class weights and ``reduction="sum"``. A binary problem under a softmax loss has
    ``two_class_softmax``: its loss takes the logits ``[0, z]``."""

    target_type: str  # "binary", "multiclass" or "multilabel-indicator"
    classes: np.ndarray
    labels: np.ndarray | None  # class indices (N,), None for multi-label
    target: np.ndarray
    n_outputs: int  # logits per sample: 1 for binary, K, or L
    loss: str  # the crossent loss function's name
    options: dict[str, Any]
    sample_weight: np.ndarray | None  # (N,), as given to fit

    @property
    def two_class_softmax(self) -> bool:
        return self.target_type == "binary" and self.loss in SOFTMAX_LOSSES


def set_up(estimator: str, loss: Any, loss_options: Mapping[str, Any] | None, class_weight: Any, y: Any,
           sample_weight: Any, n_samples: int) -> Problem:
    """The :class:`Problem` of fitting ``estimator`` (its class name, for messages) on ``y``."""
    if loss_options is not None and not isinstance(loss_options, Mapping):
        raise ValueError(f"loss_options must be a dict of the loss's options or None, got {loss_options!r}")
    if scipy.sparse.issparse(y):
        y = y.toarray()
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = column_or_1d(y, warn=True)
    check_classification_targets(y)
    target_type = type_of_target(y, input_name="y")
    if target_type not in ("binary", "multiclass", "multilabel-indicator"):
        raise ValueError(f"{estimator} supports binary, multiclass and multi-label indicator targets; "
                         f"y is {target_type}")
    weights = check_sample_weight(sample_weight, n_samples)

    target: Any
    labels: Any
    if target_type == "multilabel-indicator":
        target = np.asarray(y, dtype=np.float64)
        classes = np.arange(target.shape[1])
        n_outputs = target.shape[1]
        labels = None
    else:
        classes, labels = np.unique(y, return_inverse=True)
        labels = labels.reshape(-1).astype(np.int64)
        if classes.shape[0] < 2:
            raise ValueError(f"{estimator} needs samples of at least 2 classes in y; got 1 class: {classes[0]!r}")
        target_type = "binary" if classes.shape[0] == 2 else "multiclass"
        if weights is not None and np.count_nonzero(np.bincount(labels, weights=weights)) < 2:
            raise ValueError(f"{estimator} needs positive sample_weight in at least 2 classes; "
                             f"the weighted samples are of a single class")
        n_outputs = 1 if target_type == "binary" else classes.shape[0]
        target = labels

    name = loss_name(loss, target_type)
    options = _loss_options(name, loss_options, class_weight, classes, target_type, labels, target, weights)
    if name in SIGMOID_LOSSES and target_type == "binary":
        target = labels.astype(np.float64)
    elif name == "categorical_cross_entropy":
        target = np.eye(classes.shape[0])[labels]
    return Problem(target_type, classes, labels, target, n_outputs, name, options, weights)


def loss_name(loss: str | Callable[..., Any], target_type: str) -> str:
    """The crossent loss function to train with on this kind of problem."""
    if callable(loss):
        loss = lookup(loss)[0]  # a crossent loss function: its name (ValueError otherwise)
    multilabel = target_type == "multilabel-indicator"
    name: str | None
    if isinstance(loss, str) and loss in LOSSES:
        name = LOSSES[loss][multilabel]
    elif loss in SOFTMAX_LOSSES or loss in SIGMOID_LOSSES:
        name = loss
    else:
        choices = ", ".join(map(repr, [*LOSSES, *sorted({*SOFTMAX_LOSSES, *SIGMOID_LOSSES} - set(LOSSES))]))
        raise ValueError(f"loss must be one of {choices} (or another crossent loss function), got {loss!r}")
    if multilabel and (name is None or name in SOFTMAX_LOSSES):
        raise ValueError(f"loss={loss!r} is a softmax loss, for binary and multiclass targets; y is a multi-label "
                         f"indicator matrix: use a sigmoid loss ('cross_entropy', 'focal', 'asymmetric', "
                         f"'binary_cross_entropy', 'binary_focal')")
    if name is None or (name == "asymmetric_loss" and not multilabel):
        raise ValueError(f"loss={loss!r} is for multi-label targets only (an indicator matrix y of shape "
                         f"(n_samples, n_labels)); y is {target_type}")
    if name in SIGMOID_LOSSES and target_type == "multiclass":
        raise ValueError(f"Only binary classification is supported with the sigmoid loss loss={loss!r} (and "
                         f"multi-label targets). The type of the target is multiclass; use a softmax loss "
                         f"such as 'cross_entropy' or 'focal'")
    return name


def sklearn_tags(tags: Any, loss: Any, class_weight: Any) -> Any:
    """scikit-learn's tags for an estimator training on ``loss``: multiclass where it is a
    softmax loss, multi-label where it is a sigmoid one."""
    name = loss if isinstance(loss, str) else getattr(loss, "__name__", None)
    softmax_loss, sigmoid_loss = LOSSES.get(name, (name, name))  # type: ignore[arg-type]
    tags.classifier_tags.multi_class = softmax_loss in SOFTMAX_LOSSES
    # multi-label targets take a sigmoid loss, and have no class counts for "effective_number"
    tags.classifier_tags.multi_label = sigmoid_loss in SIGMOID_LOSSES and class_weight != "effective_number"
    return tags


def _loss_options(name: str, loss_options: Mapping[str, Any] | None, class_weight: Any, classes: np.ndarray,
                  target_type: str, labels: Any, target: Any, weights: Any) -> dict[str, Any]:
    """The options the loss gets: loss_options, reduction, sample and class weights."""
    options = dict(loss_options or {})
    declared = set(lookup(name)[1].defaults)
    for option in options:
        if option in RESERVED:
            raise ValueError(f"loss_options may not set {option!r}: {RESERVED[option]}")
        if option not in declared:
            allowed = ", ".join(sorted(declared - set(RESERVED)))
            raise ValueError(f"loss_options has {option!r}, not an option of {name} (its options: {allowed})")
    n_classes = classes.shape[0]
    # Class counts weigh each sample by its sample weight, so that a weight of 2 is the same as
    # the sample twice (scikit-learn's convention for "balanced" too).
    counts = None if labels is None else np.bincount(labels, weights=weights, minlength=n_classes)
    if name == "logit_adjusted_cross_entropy" and "priors" not in options:
        options["priors"] = counts / counts.sum()  # type: ignore[union-attr]

    vector = _class_weight(class_weight, classes, target_type, labels, counts, target, weights)
    if target_type == "multilabel-indicator":
        if vector is not None:
            if "pos_weight" in options:
                raise ValueError("give class_weight or loss_options['pos_weight'], not both")
            options["pos_weight"] = vector
        if weights is not None:
            weights = weights[:, None]  # one weight per sample, for each of its labels
    elif vector is not None:
        if name in SIGMOID_LOSSES:  # one logit: a sample weighs as its class
            weights = vector[labels] if weights is None else weights * vector[labels]
        else:
            options["weight"] = vector
    if weights is not None:
        options["sample_weight"] = weights
    options["reduction"] = "sum"
    return options


def _class_weight(class_weight: Any, classes: np.ndarray, target_type: str, labels: Any, counts: Any, target: Any,
                  weights: Any) -> Any:
    """Per-class weights (K,), or multi-label pos_weight (L,), or None."""
    if class_weight is None:
        return None
    multilabel = target_type == "multilabel-indicator"
    if isinstance(class_weight, str):
        if class_weight not in CLASS_WEIGHT_SCHEMES:
            raise ValueError(f"class_weight must be None, a dict or one of "
                             f"{', '.join(map(repr, CLASS_WEIGHT_SCHEMES))}, got {class_weight!r}")
        if not multilabel:
            if weights is None:
                return np.asarray(class_weights(labels, num_classes=classes.shape[0], scheme=class_weight))
            return _weighted_class_weights(counts, class_weight)
        if class_weight != "balanced":
            raise ValueError(f"class_weight={class_weight!r} needs class labels; for multi-label targets "
                             f"use 'balanced' (pos_weight = n_neg / n_pos) or a dict")
        w = np.ones((target.shape[0], 1)) if weights is None else weights[:, None]
        positives = (w * target).sum(axis=0)
        negatives = (w * (1 - target)).sum(axis=0)
        both = (positives > 0) & (negatives > 0)
        return np.where(both, negatives / np.where(both, positives, 1.0), 1.0)
    if not isinstance(class_weight, Mapping):
        raise ValueError(f"class_weight must be None, a dict or one of "
                         f"{', '.join(map(repr, CLASS_WEIGHT_SCHEMES))}, got {class_weight!r}")
    vector = np.ones(classes.shape[0])
    for key, value in class_weight.items():
        matches = np.flatnonzero(classes == key)
        if matches.size != 1:
            what = "a label index" if multilabel else "a class of y"
            raise ValueError(f"class_weight has the key {key!r}, not {what} (classes_: {classes.tolist()})")
        vector[matches[0]] = number(f"class_weight[{key!r}]", value, positive=False)
    return vector


def check_sample_weight(sample_weight: Any, n_samples: int) -> np.ndarray | None:
    if sample_weight is None:
        return None
    weights = np.asarray(sample_weight, dtype=np.float64)
    if weights.ndim == 0:
        weights = np.full(n_samples, float(weights))
    if weights.shape != (n_samples,):
        raise ValueError(f"sample_weight must have shape ({n_samples},), one weight per sample, "
                         f"got {weights.shape}")
    if not np.all(np.isfinite(weights)) or np.any(weights < 0):
        raise ValueError("sample_weight must be finite and non-negative")
    if n_samples and not np.any(weights):
        raise ValueError("sample_weight is zero for every sample; at least one must be positive")
    return weights


def _weighted_class_weights(counts: Any, scheme: str) -> Any:
    """:func:`crossent.class_weights` from sample-weighted class counts ``n_k = Σ_{yᵢ=k} sᵢ``
    (which it does not take): the same formulas, so that unit weights give its exact result."""
    if np.any(counts == 0):
        empty = int(np.flatnonzero(counts == 0)[0])
        raise ValueError(f"class_weight={scheme!r}: class index {empty} has zero total sample_weight")
    if scheme == "balanced":
        return counts.sum() / (counts.shape[0] * counts)
    beta = 0.999  # crossent.class_weights's default
    effective = (1 - beta) / (1 - beta**counts)
    return effective * (counts.shape[0] / effective.sum())


def number(name: str, value: Any, *, positive: bool) -> float:
    """A finite real number, > 0 (``positive``) or ≥ 0, else a ValueError naming it."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value) or (
            float(value) <= 0 if positive else float(value) < 0):
        raise ValueError(f"{name} must be a {'positive' if positive else 'non-negative'} number, got {value!r}")
    return float(value)


class LogitPredictions:
    """``predict_proba``, ``predict_log_proba`` and ``predict`` from ``decision_function`` (the
    logits), for an estimator with ``classes_`` and ``target_type_``."""

    classes_: np.ndarray
    target_type_: str

    def decision_function(self, X: Any) -> Any:  # pragma: no cover - each model defines it
        raise NotImplementedError

    def predict_proba(self, X: Any) -> Any:
        """Class probabilities ``(N, K)`` (rows sum to 1), or each label's ``(N, L)``."""
        scores = self.decision_function(X)
        if self.target_type_ == "binary":
            return np.stack([sigmoid(-scores), sigmoid(scores)], axis=1)  # softmax([0, z])
        return sigmoid(scores) if self.target_type_ == "multilabel-indicator" else softmax(scores, axis=-1)

    def predict_log_proba(self, X: Any) -> Any:
        """The logarithms of :meth:`predict_proba`, computed from the logits (exact at any z)."""
        scores = self.decision_function(X)
        if self.target_type_ == "binary":
            return np.stack([log_sigmoid(-scores), log_sigmoid(scores)], axis=1)
        return log_sigmoid(scores) if self.target_type_ == "multilabel-indicator" else log_softmax(scores, axis=-1)

    def predict(self, X: Any) -> Any:
        """The most probable class ``(N,)`` (ties: the first), or the labels with p > ½ ``(N, L)``."""
        scores = self.decision_function(X)
        if self.target_type_ == "multilabel-indicator":
            return (scores > 0).astype(np.int64)
        if self.target_type_ == "binary":
            return self.classes_[(scores > 0).astype(np.int64)]
        return self.classes_[np.argmax(scores, axis=1)]
