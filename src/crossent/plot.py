"""Figures (matplotlib, imported here only): reliability diagrams, precision-recall and ROC curves,
the metric comparison, training histories and the texts' log-loss-against-probability curve.

Each function returns a matplotlib Figure; ``png(figure)`` gives its bytes.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from crossent.selection import Comparison


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg", force=False)  # no display needed
    import matplotlib.pyplot as plt

    return plt


def png(figure: Any, *, dpi: int = 110) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
    _pyplot().close(figure)
    return buffer.getvalue()


def loss_curve(*, points: int = 400) -> Any:
    """Log loss against the predicted probability h, for y = 1 (-log h) and y = 0 (-log(1 - h)):
    the texts' J(w) figure, computed with crossent's binary cross-entropy from logits."""
    from crossent import binary_cross_entropy, sigmoid

    plt = _pyplot()
    z = np.linspace(-10, 10, points, endpoint=False)
    h = np.asarray(sigmoid(z))
    figure, ax = plt.subplots(figsize=(6.4, 4.6))
    for y, label, color in ((1.0, "J(w) if y = 1: −log h", "#c0392b"), (0.0, "J(w) if y = 0: −log(1 − h)", "#27ae60")):
        cost = np.asarray(binary_cross_entropy(z, np.full_like(z, y), reduction="none"))
        ax.plot(h, cost, label=label, color=color, linewidth=2)
    ax.set_xlabel("predicted probability h = σ(z)")
    ax.set_ylabel("log loss J(w)")
    ax.set_title("Log loss against the predicted probability")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 10)
    ax.grid(alpha=0.3)
    ax.legend(loc="upper center")
    return figure


def reliability_diagrams(result: Comparison, *, calibrated: bool = False, n_bins: int = 10) -> Any:
    """One reliability diagram per loss from the out-of-fold probabilities (raw, or after the
    calibration fitted on each training part): mean forecast against observed frequency per bin,
    with each bin's sample count written over its point. Binary problems are on P(the rarest
    class's) scope as the comparison's ECE (P(class 1)), multiclass on the top label, multi-label
    pooled over labels."""
    from crossent.metrics import expected_calibration_error, reliability_curve
    from crossent.selection._score import metric_form

    plt = _pyplot()
    names = [c.name for c in result.candidates]
    columns = min(len(names), 3)
    rows = -(-len(names) // columns)
    figure, axes = plt.subplots(rows, columns, figsize=(3.8 * columns, 3.6 * rows), squeeze=False)
    ece_options = result.ece_options
    scope = ece_options["scope"]
    multilabel = result.y.ndim == 2
    for ax, name in zip(axes.flat, names, strict=False):
        source = result.oof_calibrated if calibrated else result.oof_raw
        probabilities = metric_form(source[name], multilabel)
        mean_predicted, fraction, counts = reliability_curve(result.y, probabilities, n_bins=n_bins, scope=scope)
        ece = expected_calibration_error(result.y, probabilities, **ece_options)
        ax.plot([0, 1], [0, 1], color="#999999", linestyle="--", linewidth=1)
        ax.bar(mean_predicted, fraction, width=0.9 / n_bins, alpha=0.30, color="#2c7fb8")
        ax.plot(mean_predicted, fraction, marker="o", color="#2c7fb8")
        for x, f, n in zip(mean_predicted, fraction, counts, strict=True):
            ax.annotate(f"{n:.0f}", (x, f), textcoords="offset points", xytext=(0, 5), ha="center", fontsize=7,
                        color="#444444")
        ax.set_title(f"{name}  (ECE {ece:.3f})", fontsize=10)
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1.08)
        ax.set_xlabel(_forecast_label(result, scope))
        ax.set_ylabel("observed frequency")
    for ax in list(axes.flat)[len(names):]:
        ax.axis("off")
    which = f"after {result.calibration} calibration" if calibrated else "raw"
    figure.suptitle(f"Reliability of the out-of-fold probabilities, {which} (numbers: samples per bin)")
    figure.tight_layout()
    return figure


def _forecast_label(result: Comparison, scope: str) -> str:
    if result.y.ndim == 2:
        return "predicted probability (all labels)"
    if len(result.dataset["classes"]) == 2:
        positive = result.dataset["classes"][1]
        return f"predicted P({positive})" if scope == "classwise" else "confidence (top label)"
    return "confidence (top label)" if scope == "top-label" else "predicted probability (all classes)"


def ranking_curves(result: Comparison) -> Any:
    """Precision-recall and ROC curves of the rarest class (label), one-vs-rest, from each loss's
    out-of-fold calibrated probabilities (first repeat)."""
    from sklearn.metrics import average_precision_score, precision_recall_curve, roc_auc_score, roc_curve

    plt = _pyplot()
    classes = result.dataset["classes"]
    rarest = classes.index(result.dataset["minority"])
    truth = (result.y[:, rarest] if result.y.ndim == 2 else (result.y == rarest)).astype(int)
    figure, (pr, roc) = plt.subplots(1, 2, figsize=(11, 4.4))
    for i, c in enumerate(result.candidates):
        score = result.oof_calibrated[c.name][:, rarest]
        color = plt.get_cmap("tab10")(i % 10)
        precision, recall, _ = precision_recall_curve(truth, score)
        pr.step(recall, precision, where="post", color=color,
                label=f"{c.name} (AP {average_precision_score(truth, score):.3f})")
        fpr, tpr, _ = roc_curve(truth, score)
        roc.plot(fpr, tpr, color=color, label=f"{c.name} (AUC {roc_auc_score(truth, score):.3f})")
    pr.axhline(truth.mean(), color="#999999", linestyle="--", linewidth=1, label=f"prevalence {truth.mean():.3f}")
    roc.plot([0, 1], [0, 1], color="#999999", linestyle="--", linewidth=1)
    pr.set_xlabel(f"recall of {classes[rarest]}")
    pr.set_ylabel("precision")
    pr.set_title(f"Precision-recall, {classes[rarest]} (out of fold)")
    roc.set_xlabel("false positive rate")
    roc.set_ylabel("true positive rate")
    roc.set_title(f"ROC, {classes[rarest]} (out of fold)")
    for ax in (pr, roc):
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1.02)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc="lower left" if ax is pr else "lower right")
    figure.tight_layout()
    return figure


def metric_comparison(result: Comparison) -> Any:
    """Mean ± standard deviation over splits of the main metrics, one bar per loss."""
    plt = _pyplot()
    summary = result.summary()
    shown = ("log_loss", "log_loss_calibrated", "brier_calibrated", "ece", "ece_calibrated", "roc_auc",
             "average_precision", "f1", "recall", "precision", "worst_recall", "cost")
    metrics = [m for m in result.metrics if m.key in shown]
    names = [c.name for c in result.candidates]
    columns = 3
    rows = -(-len(metrics) // columns)
    figure, axes = plt.subplots(rows, columns, figsize=(4.2 * columns, 2.9 * rows), squeeze=False)
    colors = [plt.get_cmap("tab10")(i) for i in range(len(names))]
    for ax, metric in zip(axes.flat, metrics, strict=False):
        means = [summary[n][metric.key]["mean"] for n in names]
        stds = [summary[n][metric.key]["std"] for n in names]
        ax.bar(range(len(names)), means, yerr=stds, color=colors, capsize=3)
        ax.set_xticks(range(len(names)), names, rotation=30, ha="right", fontsize=8)
        arrow = "lower is better" if metric.lower_is_better else "higher is better"
        ax.set_title(f"{metric.label} ({arrow})" + ("  *" if metric.key == result.metric else ""), fontsize=9)
        ax.grid(axis="y", alpha=0.3)
    for ax in list(axes.flat)[len(metrics):]:
        ax.axis("off")
    figure.tight_layout()
    return figure


def training_histories(result: Comparison) -> Any:
    """The training objective per iteration of each loss (first split), where the model records one."""
    plt = _pyplot()
    figure, ax = plt.subplots(figsize=(6.4, 4.0))
    for name, history in result.histories.items():
        if history:
            ax.plot(np.arange(1, len(history) + 1), history, label=name)
    ax.set_xlabel("iteration")
    ax.set_ylabel("objective (C · Σ loss + ½‖w‖²)")
    ax.set_yscale("log")
    ax.set_title("Training objective, first split")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return figure
