"""Figures (matplotlib, imported here only): reliability diagrams, the metric comparison, training
histories and the texts' log-loss-against-probability curve.

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


def reliability_diagrams(result: Comparison, *, n_bins: int = 10) -> Any:
    """One reliability diagram per loss (top-label confidence of the out-of-fold raw model)."""
    from crossent.metrics import expected_calibration_error, reliability_curve

    plt = _pyplot()
    names = [c.name for c in result.candidates]
    columns = min(len(names), 3)
    rows = -(-len(names) // columns)
    figure, axes = plt.subplots(rows, columns, figsize=(3.6 * columns, 3.5 * rows), squeeze=False)
    for ax, name in zip(axes.flat, names, strict=False):
        probabilities = _for_metrics(result, name)
        mean_predicted, fraction, _ = reliability_curve(result.y, probabilities, n_bins=n_bins)
        ece = expected_calibration_error(result.y, probabilities)
        ax.plot([0, 1], [0, 1], color="#999999", linestyle="--", linewidth=1)
        ax.bar(mean_predicted, fraction, width=0.9 / n_bins, alpha=0.35, color="#2c7fb8")
        ax.plot(mean_predicted, fraction, marker="o", color="#2c7fb8")
        ax.set_title(f"{name}  (ECE {ece:.3f})", fontsize=10)
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.set_xlabel("confidence")
        ax.set_ylabel("accuracy")
    for ax in list(axes.flat)[len(names):]:
        ax.axis("off")
    figure.suptitle("Reliability of the raw probabilities (out of fold)")
    figure.tight_layout()
    return figure


def metric_comparison(result: Comparison) -> Any:
    """Mean ± standard deviation over folds of each metric, one bar per loss."""
    plt = _pyplot()
    summary = result.summary()
    metrics = [m for m in result.metrics if m.key != "fit_time"]
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
    """The training objective per iteration of each loss (first fold)."""
    plt = _pyplot()
    figure, ax = plt.subplots(figsize=(6.4, 4.0))
    for name, history in result.histories.items():
        if history:
            ax.plot(np.arange(1, len(history) + 1), history, label=name)
    ax.set_xlabel("iteration")
    ax.set_ylabel("objective (C · Σ loss + ½‖w‖²)")
    ax.set_yscale("log")
    ax.set_title("Training objective, first fold")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return figure


def _for_metrics(result: Comparison, name: str) -> np.ndarray:
    """Out-of-fold probabilities in the shape the metrics take (binary: P(class 1))."""
    probabilities = result.oof_probabilities[name]
    if result.y.ndim == 1 and probabilities.shape[1] == 2:
        return probabilities[:, 1]
    return probabilities
