"""``compare``: the same linear model and the same folds for every candidate loss, scored side by
side, and a recommendation with its reason."""

from __future__ import annotations

import json
import math
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from crossent.selection._candidates import BASELINE, Candidate, resolve
from crossent.selection._progress import Progress

ECE_OPTIONS: dict[str, Any] = {"n_bins": 15, "strategy": "uniform", "scope": "top-label", "norm": "l1"}


@dataclass(frozen=True)
class Metric:
    key: str
    label: str
    lower_is_better: bool
    about: str


def _metrics() -> list[Metric]:
    from crossent.metrics import ece_name

    return [
        Metric("log_loss", "log loss", True, "mean negative log-likelihood of the raw model (nats)"),
        Metric("log_loss_scaled", "log loss, T-scaled", True,
               "log loss after temperature scaling fitted on held-out training data"),
        Metric("brier", "Brier", True, "mean squared error of the probabilities (raw model)"),
        Metric("ece", ece_name(**ECE_OPTIONS), True, "expected calibration error of the raw model"),
        Metric("balanced_accuracy", "balanced accuracy", False, "mean recall over classes"),
        Metric("macro_f1", "macro F1", False, "F1 averaged over classes"),
        Metric("roc_auc", "ROC-AUC", False, "area under the ROC curve (one-vs-rest, macro)"),
        Metric("average_precision", "average precision", False, "area under precision-recall (macro)"),
        Metric("minority_recall", "minority recall", False, "recall of the rarest class (or label)"),
        Metric("fit_time", "fit time (s)", True, "seconds to fit one fold"),
    ]


SHORT = {"log_loss": "log loss", "log_loss_scaled": "T-scaled", "brier": "Brier", "ece": "ECE",
         "balanced_accuracy": "bal. acc.", "macro_f1": "macro F1", "roc_auc": "ROC-AUC",
         "average_precision": "avg. prec.", "minority_recall": "min. recall", "fit_time": "fit s"}


@dataclass
class Comparison:
    """What ``compare`` found: per-loss scores over folds, the recommendation and its reason.

    ``scores[loss][metric]`` holds one value per fold; ``summary()`` gives means, standard
    deviations and standard errors. ``oof_probabilities[loss]`` are the out-of-fold
    probabilities of the raw models (for reliability diagrams), ``histories[loss]`` the training
    objective per iteration on the first fold.
    """

    dataset: dict[str, Any]
    candidates: list[Candidate]
    metrics: list[Metric]
    metric: str
    scores: dict[str, dict[str, list[float]]]
    temperatures: dict[str, list[float]]
    oof_probabilities: dict[str, np.ndarray]
    y: np.ndarray
    histories: dict[str, list[float]]
    recommendation: str = ""
    reason: str = ""
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    elapsed: float = 0.0

    def summary(self) -> dict[str, dict[str, dict[str, float]]]:
        """{loss: {metric: {"mean", "std", "se"}}} over folds (std with ddof=1)."""
        out: dict[str, dict[str, dict[str, float]]] = {}
        for name, per_metric in self.scores.items():
            out[name] = {}
            for key, values in per_metric.items():
                v = np.asarray(values, dtype=np.float64)
                std = float(np.std(v, ddof=1)) if v.size > 1 else 0.0
                out[name][key] = {"mean": float(np.mean(v)), "std": std, "se": std / math.sqrt(max(v.size, 1))}
        return out

    def table(self) -> str:
        """The comparison as a text table: mean ± standard deviation over folds."""
        summary = self.summary()
        header = ["loss", *[SHORT[m.key] + ("*" if m.key == self.metric else "") for m in self.metrics]]
        rows = [header]
        for c in self.candidates:
            cells = [c.name + (" <" if c.name == self.recommendation else "")]
            for m in self.metrics:
                s = summary[c.name][m.key]
                cells.append(f"{s['mean']:.2f}" if m.key == "fit_time" else f"{s['mean']:.4f}±{s['std']:.3f}")
            rows.append(cells)
        widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
        lines = ["  ".join(cell.ljust(w) if i == 0 else cell.rjust(w)
                           for i, (cell, w) in enumerate(zip(r, widths, strict=True))) for r in rows]
        lines.insert(1, "  ".join("-" * w for w in widths))
        labels = {m.key: m.label for m in self.metrics}
        lines.append(f"mean±std over {len(next(iter(self.scores.values()))['log_loss'])} folds; * decides "
                     f"({labels[self.metric]}); < recommended; ECE is {labels['ece']}; T-scaled: after "
                     f"temperature scaling")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        summary = self.summary()
        return {
            "dataset": self.dataset,
            "metric": self.metric,
            "recommendation": self.recommendation,
            "reason": self.reason,
            "warnings": self.warnings,
            "notes": self.notes,
            "metrics": {m.key: {"label": m.label, "lower_is_better": m.lower_is_better, "about": m.about}
                        for m in self.metrics},
            "losses": {c.name: {"loss": c.loss, "loss_options": dict(c.loss_options),
                                "class_weight": c.class_weight, "summary": c.summary,
                                "scores": summary[c.name], "folds": self.scores[c.name],
                                "temperatures": self.temperatures[c.name]}
                       for c in self.candidates},
            "elapsed_seconds": self.elapsed,
        }

    def to_json(self, **kwargs: Any) -> str:
        return json.dumps(self.to_dict(), **kwargs)


def compare(X: Any, y: Any, /, *, losses: Sequence[str | Candidate] | None = None, cv: int = 5,
            metric: str = "log_loss_scaled", random_state: int = 0, C: float = 1.0,
            calibration_folds: int = 3, class_names: Sequence[str] | None = None,
            progress: bool | None = None) -> Comparison:
    """Train the same linear model with each candidate loss on the same folds and compare them.

    For each of ``cv`` stratified folds, each candidate fits a standardized
    :class:`~crossent.models.LinearClassifier` (scikit-learn's convention, ``C``) on the training
    part, and the test part scores its raw and its temperature-scaled probabilities. The
    temperature is fitted on held-out logits: out-of-fold predictions of ``calibration_folds``
    models within the training part (as scikit-learn's ``CalibratedClassifierCV(ensemble=False)``),
    so that every training sample serves once as calibration data. A small held-out split can be
    separated perfectly by the model, which sends the fitted temperature to 0; should the
    optimum still lie on the search bound, the fold keeps T = 1 and ``notes`` says so. Per loss
    and metric the result holds one score per fold.

    The recommendation is the best candidate on ``metric`` (default: log loss after temperature
    scaling, a proper score that asks for good ranking and recoverable calibration), unless plain
    cross-entropy is within one standard error of the paired fold differences: a tie goes to the
    simplest loss. A warning names each loss that buys minority-class recall at the price of
    calibration.

    Args:
        X: features ``(N, F)``.
        y: class labels ``(N,)`` (any values; two or more classes), or a 0/1 indicator matrix
            ``(N, L)`` for multi-label targets.
        losses: candidate names (see ``crossent.selection.CATALOG``) or Candidate objects; None
            means the defaults: CE, class-weighted CE, focal (γ = 2), label smoothing 0.1 and
            logit-adjusted CE; for multi-label BCE, pos-weighted BCE, binary focal and ASL.
        cv: number of folds (every class needs at least ``cv`` samples).
        metric: the metric that decides (a key of ``Comparison.metrics``, or "ece").
        progress: show a progress bar on stderr; None shows it when stderr is a terminal.
    """
    from sklearn.model_selection import KFold, StratifiedKFold
    from sklearn.preprocessing import StandardScaler

    X = np.asarray(X, dtype=np.float64)
    y_in = np.asarray(y)
    if X.ndim != 2:
        raise ValueError(f"X must be 2-D (samples, features), got shape {X.shape}")
    if len(y_in) != len(X):
        raise ValueError(f"X has {len(X)} rows but y has {len(y_in)}")
    if not np.all(np.isfinite(X)):
        raise ValueError("X contains NaN or inf")
    if isinstance(cv, bool) or not isinstance(cv, int) or cv < 2:
        raise ValueError(f"cv must be an int of at least 2, got {cv!r}")
    if isinstance(calibration_folds, bool) or not isinstance(calibration_folds, int) or calibration_folds < 2:
        raise ValueError(f"calibration_folds must be an int of at least 2, got {calibration_folds!r}")

    multilabel = y_in.ndim == 2
    kind = "multilabel" if multilabel else "single-label"
    if multilabel:
        y_codes = y_in.astype(np.int64)
        if not np.isin(y_codes, (0, 1)).all():
            raise ValueError("a 2-D y must be a 0/1 indicator matrix (multi-label)")
        names = list(class_names) if class_names is not None else [f"label {i}" for i in range(y_codes.shape[1])]
        counts = y_codes.sum(axis=0)
    else:
        classes, y_codes = np.unique(y_in, return_inverse=True)
        if len(classes) < 2:
            raise ValueError(f"y has a single class ({classes[0]!r}); a classifier needs at least two")
        names = list(class_names) if class_names is not None else [str(c) for c in classes]
        counts = np.bincount(y_codes, minlength=len(classes))
        if counts.min() < cv:
            small = int(np.argmin(counts))
            raise ValueError(f"class {names[small]!r} has {counts[small]} sample(s), fewer than the {cv} folds")
    candidates = resolve(losses, kind)
    metrics = _metrics()
    keys = [m.key for m in metrics]
    metric = "ece" if metric.startswith("ece") else metric
    if metric not in keys:
        raise ValueError(f"metric must be one of {', '.join(keys)}, got {metric!r}")
    minority = int(np.argmin(counts))

    def folds(k: int, seed: int) -> Any:
        return KFold(k, shuffle=True, random_state=seed) if multilabel else StratifiedKFold(
            k, shuffle=True, random_state=seed)

    scores: dict[str, dict[str, list[float]]] = {c.name: {k: [] for k in keys} for c in candidates}
    temperatures: dict[str, list[float]] = {c.name: [] for c in candidates}
    oof = {c.name: np.zeros(y_codes.shape if multilabel else (len(y_codes), len(names))) for c in candidates}
    histories: dict[str, list[float]] = {}
    notes: list[str] = []
    started = time.perf_counter()
    bar = Progress(cv * len(candidates), "compare", enabled=sys.stderr.isatty() if progress is None else progress)
    for fold, (train, test) in enumerate(folds(cv, random_state).split(X, None if multilabel else y_codes)):
        scaler = StandardScaler().fit(X[train])
        X_train, X_test, y_train = scaler.transform(X[train]), scaler.transform(X[test]), y_codes[train]
        inner = list(folds(calibration_folds, random_state + 1 + fold).split(X_train, None if multilabel else y_train))
        for candidate in candidates:
            bar.step(f"fold {fold + 1}/{cv} {candidate.name}")
            temperature, at_bound = _held_out_temperature(candidate, X_train, y_train, inner, C)
            if at_bound:
                notes.append(f"fold {fold + 1}, {candidate.name}: the held-out logits are separated perfectly "
                             f"(the temperature runs to its bound); kept T = 1")
            tic = time.perf_counter()
            model = _model(candidate, C).fit(X_train, y_train)
            fit_time = time.perf_counter() - tic
            if fold == 0:
                histories[candidate.name] = [float(v) for v in model.history_]
            logits = model.decision_function(X_test)
            raw = _probabilities(logits, multilabel)
            scaled = _probabilities(logits / temperature, multilabel)
            row = _score(y_codes[test], raw, scaled, multilabel, minority, len(names))
            row["fit_time"] = fit_time
            for key in keys:
                scores[candidate.name][key].append(float(row[key]))
            temperatures[candidate.name].append(float(temperature))
            oof[candidate.name][test] = raw if raw.ndim == 2 else np.column_stack([1 - raw, raw])
    bar.close()

    result = Comparison(
        dataset={"n_samples": int(X.shape[0]), "n_features": int(X.shape[1]), "kind": kind,
                 "classes": names, "counts": [int(c) for c in counts], "minority": names[minority],
                 "cv": cv, "random_state": random_state, "C": C},
        candidates=candidates, metrics=metrics, metric=metric, scores=scores, temperatures=temperatures,
        oof_probabilities=oof, y=y_codes, histories=histories, notes=notes,
        elapsed=time.perf_counter() - started)
    _recommend(result, BASELINE[kind])
    return result


def _model(candidate: Candidate, C: float) -> Any:
    from crossent.models import LinearClassifier

    return LinearClassifier(candidate.loss, loss_options=dict(candidate.loss_options) or None,
                            class_weight=candidate.class_weight, C=C)


def _held_out_temperature(candidate: Candidate, X: np.ndarray, y: np.ndarray, inner: list[Any],
                          C: float) -> tuple[float, bool]:
    """The temperature fitted on out-of-fold logits of the training part, and whether it ran to
    a bound of the search (then 1.0 is returned instead)."""
    from crossent.metrics import fit_temperature
    from crossent.metrics._temperature import LOG_T_BOUNDS

    logits: np.ndarray | None = None
    for fit_rows, held_out in inner:
        model = _model(candidate, C).fit(X[fit_rows], y[fit_rows])
        part = model.decision_function(X[held_out])
        if logits is None:
            logits = np.zeros((len(y), *part.shape[1:]))
        logits[held_out] = part
    temperature = fit_temperature(logits, y)
    low, high = (math.exp(b) for b in LOG_T_BOUNDS)
    if temperature <= low * 1.001 or temperature >= high / 1.001:
        return 1.0, True
    return temperature, False


def _probabilities(logits: np.ndarray, multilabel: bool) -> np.ndarray:
    from crossent import sigmoid, softmax

    if multilabel or logits.ndim == 1:
        return np.asarray(sigmoid(logits))
    return np.asarray(softmax(logits, axis=-1))


def score_predictions(y: Any, probabilities: Any) -> dict[str, float]:
    """Every metric of a comparison (but fit time and temperature scaling) for given predictions:
    ``y`` integer classes (N,) with probabilities (N,) of class 1 or (N, C), or a 0/1 indicator
    matrix (N, L) with probabilities (N, L)."""
    y = np.asarray(y)
    p = np.asarray(probabilities, dtype=np.float64)
    multilabel = y.ndim == 2
    n_classes = y.shape[1] if multilabel else (2 if p.ndim == 1 else p.shape[1])
    counts = y.sum(axis=0) if multilabel else np.bincount(y, minlength=n_classes)
    scores = _score(y, p, p, multilabel, int(np.argmin(counts)), n_classes)
    del scores["log_loss_scaled"]
    return scores


def _score(y: np.ndarray, raw: np.ndarray, scaled: np.ndarray, multilabel: bool, minority: int,
           n_classes: int) -> dict[str, float]:
    from sklearn.metrics import average_precision_score, balanced_accuracy_score, f1_score, roc_auc_score

    from crossent.metrics import brier_score, expected_calibration_error, log_loss

    out = {
        "log_loss": log_loss(y, raw),
        "log_loss_scaled": log_loss(y, scaled),
        "brier": brier_score(y, raw),
        "ece": expected_calibration_error(y, raw, **ECE_OPTIONS),
    }
    if multilabel:
        predicted = (raw >= 0.5).astype(np.int64)
        present = [j for j in range(y.shape[1]) if 0 < y[:, j].sum() < len(y)]
        out["balanced_accuracy"] = float(np.mean([balanced_accuracy_score(y[:, j], predicted[:, j]) for j in present]))
        out["macro_f1"] = f1_score(y, predicted, average="macro", zero_division=0)
        out["roc_auc"] = roc_auc_score(y[:, present], raw[:, present], average="macro")
        out["average_precision"] = average_precision_score(y[:, present], raw[:, present], average="macro")
        positives = y[:, minority] == 1
        out["minority_recall"] = float(predicted[positives, minority].mean()) if positives.any() else math.nan
        return out
    predicted = (raw >= 0.5).astype(np.int64) if raw.ndim == 1 else np.argmax(raw, axis=1)
    out["balanced_accuracy"] = balanced_accuracy_score(y, predicted)
    out["macro_f1"] = f1_score(y, predicted, average="macro", labels=list(range(n_classes)), zero_division=0)
    if raw.ndim == 1:
        out["roc_auc"] = roc_auc_score(y, raw)
        out["average_precision"] = average_precision_score(y, raw)
    else:
        labels = list(range(n_classes))
        out["roc_auc"] = roc_auc_score(y, raw, multi_class="ovr", average="macro", labels=labels)
        out["average_precision"] = average_precision_score(np.eye(n_classes)[y], raw, average="macro")
    out["minority_recall"] = float(np.mean(predicted[y == minority] == minority))
    return out


def _recommend(result: Comparison, baseline: str) -> None:
    """Fill in the recommendation, its reason and the recall-versus-calibration warnings."""
    metric = next(m for m in result.metrics if m.key == result.metric)
    sign = 1.0 if metric.lower_is_better else -1.0  # sign * value: lower is better
    means = {c.name: float(np.mean(result.scores[c.name][metric.key])) for c in result.candidates}
    best = min(means, key=lambda name: sign * means[name])
    if baseline not in means or best == baseline:
        result.recommendation = best
        runner_up = sorted(means, key=lambda name: sign * means[name])[1:2]
        result.reason = (f"{best} has the best {metric.label} ({_mean_sd(result, best, metric.key)})"
                         + (f"; next is {runner_up[0]} ({_mean_sd(result, runner_up[0], metric.key)})"
                            if runner_up else "") + ".")
    else:
        # Paired over folds: how much better is the best than the baseline, and how sure is that?
        diff = sign * (np.asarray(result.scores[baseline][metric.key]) - np.asarray(result.scores[best][metric.key]))
        se = float(np.std(diff, ddof=1) / math.sqrt(diff.size)) if diff.size > 1 else 0.0
        gain = float(np.mean(diff))
        if gain <= se:
            result.recommendation = baseline
            result.reason = (f"{best} has the best {metric.label} ({_mean_sd(result, best, metric.key)}), but its "
                             f"edge over {baseline} ({_mean_sd(result, baseline, metric.key)}) is {gain:.4f}, within "
                             f"one standard error of the paired fold differences ({se:.4f}): a tie, which goes to "
                             f"plain {baseline}.")
        else:
            result.recommendation = best
            result.reason = (f"{best} has the best {metric.label} ({_mean_sd(result, best, metric.key)}), "
                             f"{gain:.4f} better than {baseline} ({_mean_sd(result, baseline, metric.key)}), more "
                             f"than one standard error of the paired fold differences ({se:.4f}).")
    result.warnings = _recall_calibration_warnings(result, baseline)


def _recall_calibration_warnings(result: Comparison, baseline: str) -> list[str]:
    if baseline not in result.scores:
        return []
    warnings = []
    base = result.scores[baseline]
    for c in result.candidates:
        if c.name == baseline:
            continue
        mine = result.scores[c.name]
        recall_gain = _paired(mine["minority_recall"], base["minority_recall"])
        ece_loss = _paired(mine["ece"], base["ece"])
        ll_loss = _paired(mine["log_loss"], base["log_loss"])
        if recall_gain[0] > recall_gain[1] and (ece_loss[0] > ece_loss[1] or ll_loss[0] > ll_loss[1]):
            warnings.append(
                f"{c.name} raises minority-class recall ({np.mean(base['minority_recall']):.3f} -> "
                f"{np.mean(mine['minority_recall']):.3f}) but worsens calibration (ECE "
                f"{np.mean(base['ece']):.4f} -> {np.mean(mine['ece']):.4f}, log loss "
                f"{np.mean(base['log_loss']):.4f} -> {np.mean(mine['log_loss']):.4f}): its raw probabilities "
                f"are not to be read as frequencies; temperature scaling or a threshold on {baseline}'s "
                f"probabilities may serve better")
    return warnings


def _paired(a: list[float], b: list[float]) -> tuple[float, float]:
    """Mean of a - b over folds and its standard error."""
    d = np.asarray(a) - np.asarray(b)
    se = float(np.std(d, ddof=1) / math.sqrt(d.size)) if d.size > 1 else 0.0
    return float(np.mean(d)), se


def _mean_sd(result: Comparison, name: str, key: str) -> str:
    v = np.asarray(result.scores[name][key])
    return f"{np.mean(v):.4f} ± {np.std(v, ddof=1) if v.size > 1 else 0.0:.4f}"
