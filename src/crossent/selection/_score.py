"""The protocol's scoring step: what a split's test part says of a candidate's probabilities.

Everything here takes probabilities in the selection layer's one convention: ``(N, C)`` rows
summing to 1 for exclusive classes (binary problems too, as two columns) and ``(N, L)`` per-label
probabilities for multi-label targets. The metrics come from :mod:`crossent.metrics` (proper
scores, calibration) and scikit-learn (ranking).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

ECE_DEFAULTS: dict[str, Any] = {"n_bins": 15, "strategy": "uniform", "norm": "l1"}


@dataclass(frozen=True)
class Metric:
    """A column of the comparison: its key, its label, its direction and what it measures."""

    key: str
    label: str
    short: str
    lower_is_better: bool
    about: str


def ece_options(kind: str, requested: dict[str, Any] | None = None) -> dict[str, Any]:
    """The ECE that fits the problem, unless ``requested`` (parsed from ``--metric ece[...]``)
    says otherwise: binary problems are calibrated on P(positive) (``classwise`` of the
    one-column form: the positive class), multi-label per label, multiclass top-label."""
    if requested is not None:
        return dict(requested)
    return {**ECE_DEFAULTS, "scope": "top-label" if kind == "multiclass" else "classwise"}


def ece_label(kind: str, options: dict[str, Any], positive: str) -> str:
    """The ECE column's label, which states its scope: ``ECE of P(malignant)``, ``top-label ECE``."""
    from crossent.metrics import ece_name

    name = ece_name(**options)
    if kind == "binary":
        scope = f"of P({positive})" if options["scope"] == "classwise" else "top-label"
    elif kind == "multilabel":
        scope = "per label" if options["scope"] == "classwise" else "top-label per label"
    else:
        scope = "classwise" if options["scope"] == "classwise" else "top-label"
    return f"ECE {scope} {name}"


def metrics(kind: str, calibration: str, ece: dict[str, Any], positive: str, *, cost: bool) -> list[Metric]:
    """The comparison's columns for a kind of problem ("binary", "multiclass", "multilabel")."""
    repaired = {"bias-corrected": "bias-corrected", "temperature": "T-scaled", "none": "raw"}[calibration]
    ece_text = ece_label(kind, ece, positive)
    out = [
        Metric("log_loss", "log loss (raw)", "log loss", True, "mean negative log-likelihood of the raw model (nats)"),
        Metric("log_loss_calibrated", f"log loss ({repaired})", "LL cal", True,
               f"log loss after {calibration} calibration fitted on the inner out-of-fold logits"),
        Metric("brier", "Brier (raw)", "Brier", True, "mean squared error of the raw probabilities"),
        Metric("brier_calibrated", f"Brier ({repaired})", "Brier cal", True, "Brier score after calibration"),
        Metric("ece", f"{ece_text} (raw)", "ECE", True, "expected calibration error of the raw probabilities"),
        Metric("ece_calibrated", f"{ece_text} ({repaired})", "ECE cal", True, "ECE after calibration"),
    ]
    if kind == "multiclass":
        out.append(Metric("ece_classwise_calibrated", f"classwise ECE ({repaired})", "cw-ECE cal", True,
                          "classwise ECE (every class's probability, averaged) after calibration"))
    out += [
        Metric("roc_auc", "ROC-AUC", "ROC-AUC", False, "area under the ROC curve (one-vs-rest, macro)"),
        Metric("average_precision", "average precision", "avg. prec.", False,
               "area under the precision-recall curve (macro)"),
    ]
    rarest = "rarest label" if kind == "multilabel" else "rarest class"
    f1_about = f"F1 of the {rarest}" if kind == "binary" else "macro-F1"
    for suffix, where in (("", "at the decision rule chosen on the inner folds"), ("_default", "at argmax / 0.5")):
        tag = "" if not suffix else " @0.5"
        out += [
            Metric(f"f1{suffix}", f"F1{tag}", f"F1{tag}", False, f"{f1_about} {where}"),
            Metric(f"recall{suffix}", f"recall{tag}", f"recall{tag}", False, f"recall of the {rarest} {where}"),
            Metric(f"precision{suffix}", f"precision{tag}", f"prec.{tag}", False, f"precision of the {rarest} {where}"),
            Metric(f"balanced_accuracy{suffix}", f"balanced accuracy{tag}", f"bal. acc.{tag}", False,
                   f"mean recall over classes {where}"),
            Metric(f"worst_recall{suffix}", f"worst-class recall{tag}", f"worst rec.{tag}", False,
                   f"the smallest recall of any class (label) {where}"),
        ]
        if cost:
            out.append(Metric(f"cost{suffix}", f"expected cost{tag}", f"cost{tag}", True,
                              f"mean misclassification cost per sample {where}"))
    out.append(Metric("fit_time", "fit time (s)", "fit s", True, "seconds to fit the model on one training part"))
    return out


def probabilities(logits: np.ndarray, multilabel: bool) -> np.ndarray:
    """Logits to the layer's probabilities: sigmoid per label, two columns for one binary logit,
    softmax otherwise."""
    from crossent import sigmoid, softmax

    if multilabel:
        return np.asarray(sigmoid(logits))
    if logits.ndim == 1:
        p = np.asarray(sigmoid(logits))
        return np.column_stack([np.asarray(sigmoid(-logits)), p])
    return np.asarray(softmax(logits, axis=-1))


def metric_form(p: np.ndarray, multilabel: bool) -> np.ndarray:
    """The form :mod:`crossent.metrics` takes: P(class 1) ``(N,)`` for two exclusive classes."""
    return p[:, 1] if not multilabel and p.shape[1] == 2 else p


def probability_scores(y: np.ndarray, raw: np.ndarray, calibrated: np.ndarray, *, kind: str,
                       ece: dict[str, Any]) -> dict[str, float]:
    """Proper scores, calibration and ranking of the raw and the calibrated probabilities."""
    from crossent.metrics import brier_score, expected_calibration_error, log_loss

    multilabel = kind == "multilabel"
    r, c = metric_form(raw, multilabel), metric_form(calibrated, multilabel)
    out = {
        "log_loss": log_loss(y, r),
        "log_loss_calibrated": log_loss(y, c),
        "brier": brier_score(y, r),
        "brier_calibrated": brier_score(y, c),
        "ece": expected_calibration_error(y, r, **ece),
        "ece_calibrated": expected_calibration_error(y, c, **ece),
    }
    if kind == "multiclass":
        out["ece_classwise_calibrated"] = expected_calibration_error(y, c, **{**ece, "scope": "classwise"})
    out.update(ranking_scores(y, r, multilabel=multilabel))
    return out


def ranking_keys(logits: np.ndarray, multilabel: bool) -> np.ndarray:
    """Scores that rank the samples as the probabilities of the logits do, without their rounding:
    probabilities tie at 0 or 1 beyond |z| ≈ 37 in float64, logits do not.

    One column (binary) and multi-label: the logits themselves (sigmoid is increasing). Two class
    columns: z₁ − z₀, the logit of P(class 1). C ≥ 3 classes: each class's one-vs-rest log-odds
    log p_c − log(1 − p_c) = z_c − logsumexp_{j≠c} z_j, increasing in p_c. With m the row's largest
    logit and S = Σ_{j≠argmax} e^{z_j − m}, a class c other than the argmax has logsumexp_{j≠c} =
    m + log1p(S − e^{z_c − m}) (S − e^{z_c − m} ≥ 0 is the sum over the rest, added to 1: no
    cancellation that matters); the argmax's sums the others shifted by their own largest.
    """
    z = np.asarray(logits, dtype=np.float64)
    if multilabel or z.ndim == 1:
        return z
    if z.shape[1] == 2:
        return z[:, 1] - z[:, 0]
    top = np.argmax(z, axis=1)[:, None]
    is_top = np.arange(z.shape[1]) == top
    m = np.take_along_axis(z, top, axis=1)
    e = np.where(is_top, 0.0, np.exp(z - m))
    rest = np.sum(e, axis=1, keepdims=True)  # S: the others' share, shifted by the largest
    others = np.where(is_top, -np.inf, z)
    m2 = np.max(others, axis=1, keepdims=True)  # the second largest
    top_rest = m2 + np.log(np.sum(np.exp(others - m2), axis=1, keepdims=True))
    lse_others = np.where(is_top, top_rest, m + np.log1p(np.maximum(rest - e, 0.0)))
    return z - lse_others


def ranking_scores(y: np.ndarray, p: np.ndarray, *, multilabel: bool) -> dict[str, float]:
    """ROC-AUC and average precision, scikit-learn's definitions (macro over classes or labels;
    labels without both outcomes in ``y`` are left out, and with none left both are undefined:
    NaN, which JSON output writes as null), computed column by column from one sort each.
    ``p`` may be any scores that rank as the probabilities do (:func:`ranking_keys` of logits)."""
    if multilabel:
        positive = y == 1
    elif p.ndim == 1:
        positive, p = (y == 1)[:, None], p[:, None]
    else:
        positive = y[:, None] == np.arange(p.shape[1])
    counts = positive.sum(axis=0)
    present = np.flatnonzero((counts > 0) & (counts < len(y)))
    if not present.size:
        return {"roc_auc": math.nan, "average_precision": math.nan}
    auc, ap = np.array([_ranking(positive[:, j], p[:, j]) for j in present]).T
    return {"roc_auc": float(np.mean(auc)), "average_precision": float(np.mean(ap))}


def _ranking(positive: np.ndarray, scores: np.ndarray) -> tuple[float, float]:
    """One column's ROC-AUC and average precision from one sort, over the groups of tied scores
    from the highest down, with tp_k, fp_k the positives and negatives at or above group k:
    the ROC curve's trapezoids Σ_k (fp_k − fp_{k−1})(tp_k + tp_{k−1}) / (2 P N) (ties count ½,
    as ``roc_auc_score``) and Σ_k (R_k − R_{k−1}) P_k (``average_precision_score``)."""
    # (written to hold few arrays of N at once: crossent eval --ranking exact runs it on 10^8 scores)
    order = np.argsort(scores, kind="stable")[::-1]
    ranked, hits = scores[order], positive[order]
    del order
    last = np.flatnonzero(ranked[1:] != ranked[:-1])  # the end of each group of ties but the last
    del ranked
    tp = np.r_[np.cumsum(hits, dtype=np.float64)[last], np.sum(hits, dtype=np.float64)]
    fp = np.r_[last + 1.0, len(hits)] - tp
    del last, hits
    both = tp.copy()
    both[1:] += tp[:-1]  # tp_k + tp_{k-1}
    auc = np.dot(np.diff(fp, prepend=0.0), both) / (2 * tp[-1] * fp[-1])
    precision = np.add(tp, fp, out=both)
    np.divide(tp, precision, out=precision)
    ap = np.dot(np.diff(tp, prepend=0.0), precision) / tp[-1]
    return float(auc), float(ap)


def score_predictions(y: Any, predictions: Any, *, from_logits: bool = False) -> dict[str, float]:
    """The comparison's metrics of one set of predictions (``crossent eval --ranking exact``):
    ``y`` integer classes ``(N,)`` with probabilities ``(N,)`` of class 1 or ``(N, C)``, or a 0/1
    indicator ``(N, L)`` with probabilities ``(N, L)``. Thresholded metrics are at argmax / 0.5.

    With ``from_logits`` the predictions are logits of the same shapes (sigmoid for one column and
    multi-label, softmax otherwise): the log loss comes from them through log-sigmoid /
    log-softmax, and ROC-AUC and average precision rank by them (:func:`ranking_keys`), so that
    logits beyond the probabilities' rounding (|z| ≳ 37) are still told apart."""
    from crossent.selection._decide import decision_scores, default_rule

    y = np.asarray(y)
    x = np.asarray(predictions, dtype=np.float64)
    multilabel = y.ndim == 2
    p = probabilities(x, multilabel) if from_logits else x
    if not multilabel and p.ndim == 1:
        p = np.column_stack([1 - p, p])
    kind = "multilabel" if multilabel else ("binary" if p.shape[1] == 2 else "multiclass")
    n_classes = p.shape[1]
    counts = y.sum(axis=0) if multilabel else np.bincount(y, minlength=n_classes)
    minority = int(np.argmin(counts))
    options = ece_options(kind)
    from crossent.metrics import brier_score, expected_calibration_error, log_loss

    form = metric_form(p, multilabel)
    out: dict[str, float] = {"log_loss": _log_loss_of_logits(y, x, multilabel) if from_logits else log_loss(y, form),
                             "brier": brier_score(y, form), "ece": expected_calibration_error(y, form, **options)}
    out.update(ranking_scores(y, ranking_keys(x, multilabel) if from_logits else form, multilabel=multilabel))
    predicted = default_rule(n_classes, multilabel).predict(p)
    decisions = decision_scores(y, predicted, n_classes=n_classes, minority=minority, multilabel=multilabel)
    out.update({k: float(v) for k, v in decisions.items() if isinstance(v, int | float)})
    return out


def _log_loss_of_logits(y: np.ndarray, logits: np.ndarray, multilabel: bool) -> float:
    """The log loss from the logits, through log-sigmoid / log-softmax: -log p is inf wherever a
    probability rounds to 0 (1 - sigmoid(z) from z ≈ 37 in float64 on), the logits' value is exact.
    Multi-label: the mean binary cross-entropy over labels and samples, as ``log_loss``."""
    from crossent import binary_cross_entropy, cross_entropy

    if logits.ndim == 1 or multilabel:  # the logit of class 1, or of each label
        return float(binary_cross_entropy(logits, np.asarray(y, dtype=np.float64), from_logits=True))
    return float(cross_entropy(logits, y, from_logits=True))
