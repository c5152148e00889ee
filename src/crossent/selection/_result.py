"""What ``compare`` found, in one object: per-split scores of every candidate, their calibrations,
decision rules and tuned options, the recommendation with its tests, and the ways to show it
(text tables, a JSON document, an out-of-fold predictions file)."""

from __future__ import annotations

import csv
import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from crossent.selection._candidates import Candidate
from crossent.selection._score import Metric

PROBABILITY_COLUMNS = ("log_loss", "log_loss_calibrated", "brier", "brier_calibrated", "ece", "ece_calibrated",
                       "ece_classwise_calibrated", "roc_auc", "average_precision", "fit_time")
DECISION_COLUMNS = ("f1_default", "f1", "recall_default", "recall", "precision_default", "precision",
                    "worst_recall", "cost_default", "cost")
NULL_MEANS = "null stands for a number that is undefined on the data (NaN in the computation); JSON has no NaN"


@dataclass
class Comparison:
    """What ``compare`` found.

    ``scores[loss][metric]`` holds one value per split (``splits``: repeat, fold and sizes), in
    the same order for every loss, so differences are paired; ``summary()`` gives means,
    standard deviations and standard errors. ``calibrations``, ``rules`` and ``chosen`` hold, per
    split, the fitted calibration, the decision rule and (with ``tune``) the options chosen on
    the inner folds. ``oof_raw`` / ``oof_calibrated`` are the out-of-fold probabilities of the
    first repeat (every sample predicted once, by a model that did not see it), ``(N, C)``
    (binary: two columns) or ``(N, L)``; ``histories`` the training objective on the first split.
    ``tests`` are the paired tests behind the recommendation.
    """

    dataset: dict[str, Any]
    candidates: list[Candidate]
    metrics: list[Metric]
    metric: str
    calibration: str
    decision: Any
    model: str
    tune: bool
    splits: list[dict[str, int]]
    scores: dict[str, dict[str, list[float]]]
    calibrations: dict[str, list[dict[str, Any]]]
    rules: dict[str, list[dict[str, Any]]]
    rule_texts: dict[str, list[str]]
    chosen: dict[str, list[str]]
    searched: dict[str, list[list[tuple[str, float]]]]
    per_class_recall: dict[str, list[float]]
    confusion: dict[str, list[Any]]
    oof_raw: dict[str, np.ndarray]
    oof_calibrated: dict[str, np.ndarray]
    y: np.ndarray
    histories: dict[str, list[float]]
    ece_options: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    recommendation: str = ""
    reason: str = ""
    tests: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    analysis: list[str] = field(default_factory=list)
    elapsed: float = 0.0
    n_jobs: int = 1

    # ------------------------------------------------------------------ assembly

    @classmethod
    def assemble(cls, *, dataset: dict[str, Any], candidates: list[Candidate], metrics: list[Metric], metric: str,
                 calibration: str, decision: Any, model: str, tune: bool, splits: Sequence[Any],
                 outcomes: list[Any], y: np.ndarray, n_jobs: int, ece_options: dict[str, Any]) -> Comparison:
        """Gather the tasks' outcomes (split-major, candidates in order) into one Comparison."""
        names = [c.name for c in candidates]
        keys = [m.key for m in metrics]
        width = y.shape[1] if y.ndim == 2 else len(dataset["classes"])
        result = cls(
            dataset=dataset, candidates=candidates, metrics=metrics, metric=metric, calibration=calibration,
            decision=decision, model=model, tune=tune,
            splits=[{"repeat": s.repeat, "fold": s.fold, "n_train": len(s.train), "n_test": len(s.test)}
                    for s in splits],
            scores={n: {k: [] for k in keys} for n in names}, calibrations={n: [] for n in names},
            rules={n: [] for n in names}, rule_texts={n: [] for n in names}, chosen={n: [] for n in names},
            searched={n: [] for n in names}, per_class_recall={}, confusion={},
            oof_raw={n: np.zeros((len(y), width)) for n in names},
            oof_calibrated={n: np.zeros((len(y), width)) for n in names}, y=y, histories={}, n_jobs=n_jobs,
            ece_options=dict(ece_options))
        notes: dict[str, list[str]] = {}  # the notes by their wording without the numbers
        recalls: dict[str, list[list[float]]] = {n: [] for n in names}
        confusions: dict[str, Any] = {}
        for index, outcome in enumerate(outcomes):
            split, name = splits[index // len(names)], names[index % len(names)]
            for k in keys:
                result.scores[name][k].append(float(outcome.scores[k]))
            result.calibrations[name].append(outcome.calibration)
            result.rules[name].append(outcome.rule)
            result.rule_texts[name].append(outcome.rule_text)
            result.chosen[name].append(outcome.chosen)
            result.searched[name].append(outcome.searched)
            recalls[name].append(outcome.per_class_recall)
            matrix = np.asarray(outcome.confusion, dtype=np.int64)
            confusions[name] = matrix if name not in confusions else confusions[name] + matrix
            if split.repeat == 0:
                result.oof_raw[name][outcome.test] = outcome.raw
                result.oof_calibrated[name][outcome.test] = outcome.calibrated
            if outcome.history:
                result.histories[name] = outcome.history
            for note in outcome.notes:
                notes.setdefault(f"{name}: {re.sub(NUMBER, '#', note)}", []).append(f"{name}: {note}")
        result.notes = [_counted(same, len(splits)) for same in notes.values()]
        result.per_class_recall = {n: np.mean(recalls[n], axis=0).tolist() for n in names}
        result.confusion = {n: confusions[n].tolist() for n in names}
        return result

    # ------------------------------------------------------------------ summaries

    def summary(self) -> dict[str, dict[str, dict[str, float]]]:
        """{loss: {metric: {"mean", "std", "se"}}} over splits (std with ddof=1)."""
        out: dict[str, dict[str, dict[str, float]]] = {}
        for name, per_metric in self.scores.items():
            out[name] = {}
            for key, values in per_metric.items():
                v = np.asarray(values, dtype=np.float64)
                std = float(np.std(v, ddof=1)) if v.size > 1 else 0.0
                out[name][key] = {"mean": float(np.mean(v)), "std": std, "se": std / math.sqrt(max(v.size, 1))}
        return out

    def metric_of(self, key: str) -> Metric:
        return next(m for m in self.metrics if m.key == key)

    def recommend(self, baseline: str, *, min_gain: float | None = None) -> None:
        """Fill in the recommendation, its reason and tests, the decision analysis and warnings."""
        from crossent.selection._recommend import recommend

        metric = self.metric_of(self.metric)
        n_train = float(np.mean([s["n_train"] for s in self.splits]))
        n_test = float(np.mean([s["n_test"] for s in self.splits]))
        scores = {c.name: np.asarray(self.scores[c.name][metric.key]) for c in self.candidates}
        found = recommend(scores, baseline=baseline, lower_is_better=metric.lower_is_better, label=metric.label,
                          min_gain=min_gain, n_train=n_train, n_test=n_test)
        self.recommendation, self.reason, self.tests = found.name, found.reason, dict(found.tests)
        self.analysis = self._decision_analysis()
        self.warnings = self._threshold_warnings(baseline)

    def _decision_analysis(self) -> list[str]:
        """One measured line per candidate: what its chosen rule reaches on the rarest class."""
        s = self.summary()
        rarest = self.dataset["minority"]
        lines = []
        for c in self.candidates:
            m = s[c.name]
            line = (f"{c.name} at its chosen rule ({self._rule_summary(c.name)}) reaches recall "
                    f"{m['recall']['mean']:.2f} at precision {m['precision']['mean']:.2f} on {rarest} "
                    f"(F1 {m['f1']['mean']:.3f}); at argmax/0.5: recall {m['recall_default']['mean']:.2f} at "
                    f"precision {m['precision_default']['mean']:.2f}")
            if "cost" in m:
                line += (f"; expected cost {m['cost']['mean']:.4f} per sample (at argmax/0.5: "
                         f"{m['cost_default']['mean']:.4f})")
            lines.append(line)
        return lines

    def _rule_summary(self, name: str) -> str:
        """The rule in words: a threshold's median and range over splits where it is one."""
        rules = self.rules[name]
        if all(r.get("thresholds") is not None and len(r["thresholds"]) == 1 and r.get("positive") is not None
               for r in rules):
            values = np.array([r["thresholds"][0] for r in rules])
            positive = self.dataset["classes"][rules[0]["positive"]]
            return f"P({positive}) ≥ {np.median(values):.3f}, {values.min():.3f}..{values.max():.3f} over splits"
        return self.rule_texts[name][0]

    def _threshold_warnings(self, baseline: str) -> list[str]:
        """A candidate whose recall gain at 0.5 is only a shifted threshold: at the chosen rules the
        baseline reaches the same, measured."""
        if baseline not in self.scores:
            return []
        s = self.summary()
        base = s[baseline]
        out = []
        for c in self.candidates:
            if c.name == baseline:
                continue
            mine = s[c.name]
            default_gain = mine["recall_default"]["mean"] - base["recall_default"]["mean"]
            tuned_gain = mine["f1"]["mean"] - base["f1"]["mean"]
            if default_gain > 0.05 and tuned_gain <= 0.01:
                out.append(f"{c.name}'s recall at argmax/0.5 ({base['recall_default']['mean']:.2f} -> "
                           f"{mine['recall_default']['mean']:.2f} against {baseline}) is a shifted threshold: at "
                           f"their chosen rules {baseline} reaches recall {base['recall']['mean']:.2f} at precision "
                           f"{base['precision']['mean']:.2f}, {c.name} {mine['recall']['mean']:.2f} at "
                           f"{mine['precision']['mean']:.2f}")
        return out

    # ------------------------------------------------------------------ text

    def table(self) -> str:
        """The probabilities table and the decisions table, mean ± standard deviation over splits."""
        return self._table(PROBABILITY_COLUMNS) + "\n\n" + self._table(DECISION_COLUMNS, rule=True)

    def _table(self, wanted: Sequence[str], *, rule: bool = False) -> str:
        summary = self.summary()
        present = {m.key: m for m in self.metrics}
        columns = [present[k] for k in wanted if k in present]
        header = ["loss", *(["rule"] if rule else []),
                  *[m.short + ("*" if m.key == self.metric else "") for m in columns]]
        rows = [header]
        for c in self.candidates:
            cells = [c.name + (" <" if c.name == self.recommendation else "")]
            if rule:
                cells.append(self.decision.label())
            for m in columns:
                s = summary[c.name][m.key]
                cells.append(f"{s['mean']:.3f}" if m.key == "fit_time" else f"{s['mean']:.4f}±{s['std']:.3f}")
            rows.append(cells)
        widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
        lines = ["  ".join(cell.ljust(w) if i == 0 else cell.rjust(w)
                           for i, (cell, w) in enumerate(zip(r, widths, strict=True))) for r in rows]
        lines.insert(1, "  ".join("-" * w for w in widths))
        return "\n".join(lines)

    def legend(self) -> str:
        """What the tables' abbreviations mean."""
        present = {m.key: m for m in self.metrics}
        n = len(self.splits)
        repeats = self.dataset.get("repeats", 1)
        parts = [f"mean±std over {n} splits ({repeats}×{self.dataset['cv']}-fold)",
                 f"* decides ({present[self.metric].label})", "< recommended",
                 f"ECE is {present['ece'].label.rsplit(' (', 1)[0]}",
                 f"cal: after {self.calibration} calibration fitted on the inner out-of-fold logits",
                 f"rarest class: {self.dataset['minority']}"]
        if "ece_classwise_calibrated" in present:
            parts.append("cw-ECE: classwise ECE")
        parts.append("worst rec.: the smallest recall of any class")
        return "; ".join(parts)

    # ------------------------------------------------------------------ JSON and files

    def to_dict(self) -> dict[str, Any]:
        """Everything the tables and the report show, JSON-ready (NaN becomes None)."""
        summary = self.summary()
        return _json_safe({
            "dataset": self.dataset,
            "model": self.model,
            "metric": self.metric,
            "calibration": self.calibration,
            "decision": self.decision.label(),
            "ece_options": self.ece_options,
            "tune": self.tune,
            "recommendation": self.recommendation,
            "reason": self.reason,
            "tests": {name: test.to_dict() for name, test in self.tests.items()},
            "decision_analysis": self.analysis,
            "warnings": self.warnings,
            "notes": self.notes,
            "metrics": {m.key: {"label": m.label, "lower_is_better": m.lower_is_better, "about": m.about}
                        for m in self.metrics},
            "splits": self.splits,
            "losses": {c.name: {
                "family": c.family, "loss": c.loss, "loss_options": dict(c.loss_options),
                "class_weight": c.class_weight, "params": dict(c.params), "summary": c.summary,
                "scores": summary[c.name], "per_split": self.scores[c.name],
                "calibrations": self.calibrations[c.name], "rules": self.rules[c.name],
                "rule_texts": self.rule_texts[c.name], "chosen": self.chosen[c.name],
                "searched": self.searched[c.name], "per_class_recall": self.per_class_recall[c.name],
                "confusion": self.confusion[c.name],
            } for c in self.candidates},
            "elapsed_seconds": self.elapsed,
            "n_jobs": self.n_jobs,
            "null": NULL_MEANS,
        })

    def to_json(self, **kwargs: Any) -> str:
        return json.dumps(self.to_dict(), allow_nan=False, **kwargs)

    def write_oof(self, path: str | Path) -> None:
        """The first repeat's out-of-fold predictions as a CSV that ``crossent eval`` reads: the
        ``target`` column (the class's index, 0..C-1, in the order of the probability columns) and
        ``class`` (its name), then per loss and class ``LOSS:CLASS`` (calibrated probabilities) and
        ``LOSS:CLASS:raw``. E.g. ``crossent eval oof.csv --target target --probs ce:no ce:yes``.
        Multi-label targets are one 0/1 column per label, ``target:LABEL``."""
        classes = [str(c) for c in self.dataset["classes"]]
        multilabel = self.y.ndim == 2
        header = ([f"target:{c}" for c in classes] if multilabel else ["target", "class"])
        for c in self.candidates:
            header += [f"{c.name}:{k}" for k in classes] + [f"{c.name}:{k}:raw" for k in classes]
        with Path(path).open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(header)
            for i in range(len(self.y)):
                row: list[Any] = ([int(v) for v in self.y[i]] if multilabel
                                  else [int(self.y[i]), classes[int(self.y[i])]])
                for c in self.candidates:
                    row += [f"{v:.17g}" for v in self.oof_calibrated[c.name][i]]
                    row += [f"{v:.17g}" for v in self.oof_raw[c.name][i]]
                writer.writerow(row)


NUMBER = r"-?\d+(\.\d+)?(e-?\d+)?"


def _counted(same: list[str], n_splits: int) -> str:
    """One note for the splits that gave it: ``... (in 3 of 10 splits; the first's numbers)``."""
    if len(same) == 1:
        return same[0] + ("" if n_splits == 1 else f" (in 1 of {n_splits} splits)")
    numbers = "" if len(set(same)) == 1 else "; the numbers are the first split's"
    return f"{same[0]} (in {len(same)} of {n_splits} splits{numbers})"


def _json_safe(value: Any) -> Any:
    """NaN and infinities to None, NumPy scalars and arrays to Python numbers and lists."""
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if isinstance(value, np.ndarray):
        return _json_safe(value.tolist())
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def side_by_side(results: dict[str, Comparison]) -> str:
    """The deciding metric of every loss under every model family (mean±std over the same
    splits; < marks each family's recommendation), then each family's recommendation and why."""
    first = next(iter(results.values()))
    metric = first.metric_of(first.metric)
    names = [c.name for c in first.candidates]
    header = ["loss", *results]
    rows = [header]
    summaries = {family: r.summary() for family, r in results.items()}
    for name in names:
        cells = [name]
        for family, result in results.items():
            s = summaries[family].get(name, {}).get(result.metric)
            mark = " <" if result.recommendation == name else "  "
            cells.append("-" if s is None else f"{s['mean']:.4f}±{s['std']:.3f}{mark}")
        rows.append(cells)
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    lines = [f"{metric.label}, by model family (< recommended):"]
    lines += ["  ".join(cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in enumerate(zip(r, widths,
                                                                                                     strict=True)))
              for r in rows]
    lines.insert(2, "  ".join("-" * w for w in widths))
    for family, result in results.items():
        lines.append(f"{family}: {result.recommendation} ({result.model}): {result.reason}")
    picks = {r.recommendation for r in results.values()}
    lines.append("the recommendation is the same under every model family" if len(picks) == 1 else
                 f"the recommendation depends on the model family ({', '.join(sorted(picks))})")
    return "\n".join(lines)
