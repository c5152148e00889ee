"""``compare``: which loss to train with, read top-down as the protocol's steps.

data → splits → fit → calibrate → decide → score → recommend, each step one file of this package.
For every outer split (repeated stratified K-fold) and every candidate loss, one task:

1. *fit*: the inner folds of the training part give out-of-fold logits (each training sample
   predicted by a model that did not see it); with ``tune``, at each point of the candidate's
   grid, keeping the point with the best inner calibrated log loss;
2. *calibrate*: a post-hoc calibration (bias-corrected temperature scaling by default) fitted on
   those out-of-fold logits, with visible fallbacks;
3. *decide*: the decision rule (threshold, weights, Bayes rule) chosen on the calibrated
   out-of-fold probabilities;
4. the model refitted on the whole training part, and *scored* on the test part: raw and
   calibrated probabilities, the rule and the default rule;

then *recommend*: paired, corrected tests of each candidate against plain cross-entropy. The
test part is never seen before it is scored.
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from crossent.selection._candidates import BASELINE, Candidate, resolve
from crossent.selection._progress import Progress
from crossent.selection._result import Comparison
from crossent.selection._score import Metric

CALIBRATIONS = ("bias-corrected", "temperature", "none")
METRIC_ALIASES = {"log_loss_scaled": "log_loss_calibrated"}
LARGE_N = 100_000
"""From this many samples on, ``repeats=None`` means one repeat of the folds instead of two."""


@dataclass(frozen=True)
class Setting:
    """Everything a task needs besides its split and candidate (pickled with each task; joblib
    memory-maps the large arrays beside it)."""

    model: Callable[..., Any]
    kind: str  # "binary", "multiclass", "multilabel"
    class_names: list[str]
    minority: int
    calibration: str
    decision: Any  # a DecisionSpec
    cost: np.ndarray | None  # its cost matrix in class order (multi-label: 2×2, per label)
    ece: dict[str, Any]
    tune: bool
    impute: bool
    calibration_folds: int
    random_state: int


@dataclass
class Outcome:
    """One (split, candidate) task's result."""

    scores: dict[str, float]
    per_class_recall: list[float]
    confusion: list[Any]
    test: np.ndarray
    raw: np.ndarray
    calibrated: np.ndarray
    calibration: dict[str, Any]
    rule: dict[str, Any]
    rule_text: str
    chosen: str
    searched: list[tuple[str, float]]
    notes: list[str] = field(default_factory=list)
    history: list[float] = field(default_factory=list)


def compare(X: Any, y: Any, /, *, losses: Sequence[str | Candidate] | None = None, model: Any = None,
            cv: int = 5, repeats: int | None = None, metric: str = "log_loss_calibrated",
            calibration: str = "bias-corrected", decision: str = "f1", cost_matrix: Any = None,
            tune: bool = False, min_gain: float | None = None, impute: str | None = None,
            random_state: int = 0, C: float = 1.0, calibration_folds: int = 3,
            class_names: Sequence[str] | None = None, n_jobs: int | None = None,
            progress: bool | None = None) -> Comparison:
    """Train the same model with each candidate loss on the same splits; score, calibrate,
    decide, and recommend one loss with its evidence.

    Args:
        X: features ``(N, F)``; NaN marks a missing value (``impute="median"`` fills it inside
            every fit; otherwise it is an error).
        y: class labels ``(N,)`` (two or more classes), or a 0/1 indicator ``(N, L)`` (multi-label).
        losses: candidates as ``"family"`` or ``"family:option=value,..."`` (``"focal:gamma=1"``;
            see ``crossent.selection.FAMILIES``) or Candidate objects; None: ce, weighted-ce,
            focal, label-smoothing and logit-adjusted (multi-label: bce, pos-weighted-bce,
            binary-focal, asymmetric).
        model: ``"linear"`` (None: ``LinearModel(C)``), ``"lightgbm"``, ``"xgboost"``, ``"mlp"``
            (see ``crossent.selection._models``), or a model factory (see ``crossent.selection._fit``).
        cv, repeats: ``repeats`` × ``cv``-fold stratified cross-validation (iterative
            stratification for multi-label targets); ``repeats=None``: 2, or 1 from
            ``LARGE_N`` samples on (test folds of 20,000 samples and more score each loss with
            little noise, and a second repeat would double a run of a minute).
        metric: the deciding metric: ``log_loss_calibrated`` (default), ``log_loss``, ``brier``,
            ``brier_calibrated``, ``ece[...]`` (on calibrated probabilities), ``roc_auc``,
            ``average_precision``, ``f1``, ``recall``, ``precision``, ``balanced_accuracy``,
            ``worst_recall``, ``cost``.
        calibration: ``"bias-corrected"`` (one temperature and a per-class bias; Platt scaling on
            the logit for two classes), ``"temperature"`` or ``"none"``.
        decision: the decision rule chosen on the inner folds: ``"f1"``, ``"balanced"``,
            ``"cost FN:FP"`` (or ``"cost"`` with ``cost_matrix``), ``"recall>=R"``.
        tune: search each family's grid and the model's (C) on the inner folds.
        min_gain: the practical margin a candidate must beat plain CE by (the metric's units);
            None: 1% of plain CE's score.
        n_jobs: worker processes, each held to one BLAS thread (-1: every core; None: every core
            once the first tasks show the run is long enough to repay starting them, else this
            process, held the same way).
        progress: a progress bar on stderr; None: when stderr is a terminal.
    """
    from crossent.metrics import parse_ece_name
    from crossent.selection import _fit
    from crossent.selection._decide import parse_decision
    from crossent.selection._score import ece_options, metrics

    started = time.perf_counter()
    X, y_codes, names, kind = _check_data(X, y, class_names, impute)
    multilabel = kind == "multilabel"
    counts = y_codes.sum(axis=0).astype(np.int64) if multilabel else np.bincount(y_codes, minlength=len(names))
    candidates = resolve(losses, "multilabel" if multilabel else "single-label")
    if calibration not in CALIBRATIONS:
        raise ValueError(f"calibration must be one of {', '.join(CALIBRATIONS)}, got {calibration!r}")
    spec = parse_decision(decision, cost_matrix=cost_matrix) if isinstance(decision, str) else decision
    if not isinstance(metric, str):
        raise ValueError(f"metric must be a metric name, got {metric!r}")
    requested_ece = parse_ece_name(metric) if metric.startswith("ece") else None
    ece = ece_options(kind, requested_ece)
    if requested_ece is not None and metric.count(",") < 2:  # no scope given: the problem's own
        ece["scope"] = ece_options(kind)["scope"]
    minority = int(np.argmin(counts))
    cost = spec.cost_matrix(2, 1) if multilabel else spec.cost_matrix(len(names), minority)
    columns = metrics(kind, calibration, ece, names[minority], cost=cost is not None)
    key = "ece_calibrated" if requested_ece is not None else METRIC_ALIASES.get(metric, metric)
    keys = [m.key for m in columns]
    if key not in keys:
        raise ValueError(f"metric must be one of {', '.join(k for k in keys if k != 'fit_time')} or ece[...], "
                         f"got {metric!r}")
    if isinstance(C, bool) or not isinstance(C, int | float) or not C > 0 or not math.isfinite(C):
        raise ValueError(f"C must be a positive number, got {C!r}")
    _check_counts(counts, names, cv, calibration_folds, multilabel)
    if model is None or isinstance(model, str):
        from crossent.selection._models import model_family

        model = model_family(model or "linear", C=float(C), random_state=random_state)
    from crossent.selection import _parallel

    _parallel.n_workers(n_jobs, 1)  # checks n_jobs before the run, not after it

    from crossent.selection._splits import outer_splits

    if repeats is None:
        repeats = 1 if len(X) >= LARGE_N else 2
    splits = outer_splits(y_codes, cv=cv, repeats=repeats, random_state=random_state)
    setting = Setting(model=model, kind=kind, class_names=names, minority=minority, calibration=calibration,
                      decision=spec, cost=cost, ece=ece, tune=tune, impute=impute is not None,
                      calibration_folds=calibration_folds, random_state=random_state)
    tasks = [(split, c, setting, X, y_codes) for split in splits for c in candidates]

    bar = Progress(len(tasks), "compare", enabled=sys.stderr.isatty() if progress is None else progress)
    points = {c.name: len(c.grid(_fit.model_grid(model))) if tune else 1 for c in candidates}  # grid points
    outcomes, workers = _parallel.run(_task, tasks, n_jobs=n_jobs, progress=bar,
                                      costs=[points[task[1].name] for task in tasks],
                                      describe=lambda t: f"repeat {t[0].repeat + 1} fold {t[0].fold + 1} {t[1].name}")
    bar.close()
    result = Comparison.assemble(
        dataset={"n_samples": int(X.shape[0]), "n_features": int(X.shape[1]), "kind": kind, "classes": names,
                 "counts": [int(c) for c in counts], "minority": names[minority], "cv": cv, "repeats": repeats,
                 "random_state": random_state, "missing_values": int(np.isnan(X).sum()),
                 "impute": impute},
        candidates=candidates, metrics=columns, metric=key, calibration=calibration, decision=spec,
        model=_fit.describe_model(model), tune=tune, splits=splits, outcomes=outcomes, y=y_codes,
        n_jobs=workers, ece_options=ece)
    result.recommend(BASELINE["multilabel" if multilabel else "single-label"], min_gain=min_gain)
    result.elapsed = time.perf_counter() - started
    return result


def _task(split: Any, candidate: Candidate, setting: Setting, X: np.ndarray, y: np.ndarray) -> Outcome:
    """One candidate on one split: fit (and tune) on the inner folds, calibrate, decide, refit on
    the training part, score the test part."""
    from crossent.selection import _fit
    from crossent.selection._calibrate import calibrate
    from crossent.selection._decide import choose_rule, decision_scores, default_rule
    from crossent.selection._score import probabilities, probability_scores
    from crossent.selection._splits import inner_splits

    multilabel = setting.kind == "multilabel"
    X_train, y_train = X[split.train], y[split.train]
    seed = setting.random_state + 1000 * (split.repeat + 1) + split.fold
    inner = inner_splits(y_train, k=setting.calibration_folds, random_state=seed)

    def criterion(oof: np.ndarray) -> float:  # the inner log loss after calibration, fitted in-sample
        return _calibrated_log_loss(oof, y_train, setting.calibration)

    tuned = _fit.tune(setting.model, candidate, X_train, y_train, inner, search=setting.tune,
                      impute=setting.impute, criterion=criterion)
    calibration, notes = calibrate(tuned.oof_logits, y_train, inner, setting.calibration)
    priors = (y_train.mean(axis=0) if multilabel
              else np.bincount(y_train, minlength=len(setting.class_names)) / len(y_train))
    oof_calibrated = probabilities(calibration.apply(tuned.oof_logits), multilabel)
    rule = choose_rule(setting.decision, oof_calibrated, y_train, minority=setting.minority, priors=priors)

    final = _fit.warm(_fit.build(setting.model, candidate, tuned.loss_options, tuned.params, setting.impute),
                      tuned.start)
    fitted = _fit.fit_predict(final, X, y, split.train, split.test)
    y_test = y[split.test]
    raw = probabilities(fitted.logits, multilabel)
    calibrated = probabilities(calibration.apply(fitted.logits), multilabel)
    scores = probability_scores(y_test, raw, calibrated, kind=setting.kind, ece=setting.ece)
    n_classes = len(setting.class_names)

    def decided(predicted: np.ndarray) -> dict[str, Any]:
        return decision_scores(y_test, predicted, n_classes=n_classes, minority=setting.minority,
                               multilabel=multilabel, cost=setting.cost)

    at_rule = decided(rule.predict(calibrated))
    at_default = decided(default_rule(n_classes, multilabel).predict(raw))
    for name in ("f1", "recall", "precision", "balanced_accuracy", "worst_recall", "cost"):
        if name in at_rule:
            scores[name] = float(at_rule[name])
            scores[f"{name}_default"] = float(at_default[name])
    scores["fit_time"] = fitted.seconds
    notes += [*tuned.warnings, *fitted.warnings]
    return Outcome(scores=scores, per_class_recall=list(at_rule["per_class_recall"]),
                   confusion=at_rule["confusion"], test=split.test, raw=raw, calibrated=calibrated,
                   calibration=calibration.to_dict(), rule=rule.to_dict(), rule_text=rule.describe(setting.class_names),
                   chosen=candidate.describe(tuned.loss_options, tuned.params) if setting.tune else "",
                   searched=tuned.searched, notes=notes,
                   history=fitted.history if split.repeat == 0 and split.fold == 0 else [])


def _calibrated_log_loss(logits: np.ndarray, y: np.ndarray, method: str) -> float:
    from crossent.metrics import fit_calibration
    from crossent.metrics._recalibration import logit_log_loss

    if method != "none":
        logits = fit_calibration(logits, y, method=method).apply(logits)
    return logit_log_loss(logits, y)


def _check_data(X: Any, y: Any, class_names: Sequence[str] | None,
                impute: str | None) -> tuple[np.ndarray, np.ndarray, list[str], str]:
    """Features as float64, targets as integer codes (or a 0/1 indicator), the class names and
    the kind of problem; every problem a ValueError that names it."""
    try:
        X = np.asarray(X, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise ValueError(f"X must hold numbers: {error}") from None
    if X.ndim != 2:
        raise ValueError(f"X must be 2-D (samples, features), got shape {X.shape}")
    y_in = np.asarray(y)
    if y_in.ndim not in (1, 2):
        raise ValueError(f"y must be labels (N,) or a 0/1 indicator (N, L), got shape {y_in.shape}")
    if len(y_in) != len(X):
        raise ValueError(f"X has {len(X)} rows but y has {len(y_in)}")
    if X.shape[1] == 0:
        raise ValueError("X has no feature columns")
    if np.isinf(X).any():
        row, column = np.argwhere(np.isinf(X))[0]
        raise ValueError(f"X holds an infinite value (row {row}, column {column})")
    if impute not in (None, "median"):
        raise ValueError(f"impute must be None or 'median', got {impute!r}")
    if impute is None and np.isnan(X).any():
        row, column = np.argwhere(np.isnan(X))[0]
        raise ValueError(f"X has {int(np.isnan(X).sum())} missing value(s) (NaN; the first in row {row}, column "
                         f"{column}): impute them inside the folds (impute='median', --impute median) or drop them")
    missing = _missing_labels(y_in)
    if missing.any():
        raise ValueError(f"y has {int(missing.sum())} missing label(s) (the first in row {int(np.argmax(missing))}); "
                         f"drop those rows")
    if y_in.ndim == 2:
        if not np.isin(y_in, (0, 1)).all():
            raise ValueError("a 2-D y must be a 0/1 indicator matrix (multi-label)")
        y_codes = y_in.astype(np.int64)
        names = list(class_names) if class_names is not None else [f"label {i}" for i in range(y_codes.shape[1])]
        return X, y_codes, names, "multilabel"
    classes, y_codes = np.unique(y_in, return_inverse=True)
    if len(classes) < 2:
        raise ValueError(f"y has a single class ({classes[0]!r}); a classifier needs at least two")
    names = list(class_names) if class_names is not None else [str(c) for c in classes]
    if len(names) != len(classes):
        raise ValueError(f"class_names has {len(names)} names but y has {len(classes)} classes")
    return X, y_codes.reshape(-1).astype(np.int64), names, "binary" if len(classes) == 2 else "multiclass"


def _missing_labels(y: np.ndarray) -> np.ndarray:
    if y.dtype.kind == "f":
        return np.isnan(y).reshape(len(y), -1).any(axis=1)
    if y.dtype == object:
        flat = y.reshape(len(y), -1)
        return np.array([any(v is None or (isinstance(v, float) and math.isnan(v)) for v in row) for row in flat],
                        dtype=bool)
    return np.zeros(len(y), dtype=bool)


def _check_counts(counts: np.ndarray, names: list[str], cv: int, inner: int, multilabel: bool) -> None:
    """Every class (label) must reach every fold, and every inner fold of every training part."""
    if isinstance(cv, bool) or not isinstance(cv, int) or cv < 2:
        raise ValueError(f"cv must be an int of at least 2, got {cv!r}")
    if isinstance(inner, bool) or not isinstance(inner, int) or inner < 2:
        raise ValueError(f"calibration_folds must be an int of at least 2, got {inner!r}")
    # a class of n samples leaves at least n - ceil(n / cv) in each training part
    needed = next(n for n in range(1, 10**6) if n >= cv and n - math.ceil(n / cv) >= inner)
    small = int(np.argmin(counts))
    if counts[small] < needed:
        what = "label" if multilabel else "class"
        unit = "positive(s)" if multilabel else "sample(s)"
        raise ValueError(f"{what} {names[small]!r} has {counts[small]} {unit}; {cv} folds with {inner} inner "
                         f"calibration folds in each training part need at least {needed}")


__all__ = ["CALIBRATIONS", "Metric", "compare"]


def compare_models(X: Any, y: Any, /, *, models: Sequence[str] | str = "all", **options: Any) -> dict[str, Comparison]:
    """:func:`compare` once per model family, on the same splits and candidates: does the loss
    ranking depend on the model? ``models`` names families (``"linear"``, ``"lightgbm"``,
    ``"xgboost"``, ``"mlp"``) or is ``"all"``: every family whose extra is installed. Returns
    each family's :class:`Comparison`, in the order given."""
    from crossent.selection._models import MODEL_FAMILIES, installed

    names = [m for m in MODEL_FAMILIES if installed(m)] if models == "all" else list(
        [models] if isinstance(models, str) else models)
    if not names:
        raise ValueError("models must name at least one model family")
    return {name: compare(X, y, model=name, **options) for name in names}
