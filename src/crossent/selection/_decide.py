"""The protocol's decision step: a rule from calibrated probabilities to labels, chosen on held-out data.

A thresholded metric (F1, recall, a cost) is only as good as the decision rule it is read at,
and a fixed 0.5 (or argmax) is rarely the rule a user would deploy on imbalanced classes. A
``--decision`` names the user's goal; :func:`choose_rule` turns it into a rule, fitted where the
goal needs data (``f1``, ``recall>=R``) and in closed form where it does not (``balanced``,
``cost``), and :func:`decision_scores` scores the rule's labels.

Probabilities are ``(N, C)`` for single-label problems (binary: two columns ``[1 - p, p]``) and
``(N, L)`` for multi-label ones; labels are ``(N,)`` integers or an ``(N, L)`` 0/1 indicator.
"""

from __future__ import annotations

import csv
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from crossent.metrics._states import decisions, recalls

KINDS = ("f1", "balanced", "cost", "recall")

DECISION_ERROR = "--decision must be f1, balanced, cost FN:FP or recall>=R, got {!r}"

COST = re.compile(r"cost\s*[\s=:]\s*([^\s:]+)\s*:\s*([^\s:]+)")
RECALL = re.compile(r"recall\s*(?:>=|≥)\s*(\S+)")

WEIGHT_GRID = np.logspace(-2, 2, 41)
"""The values each class weight of the multiclass F1 rule is searched over (1 included)."""

WEIGHT_ROUNDS = 3
"""Rounds of coordinate ascent over the class weights of the multiclass F1 rule."""


# ---------------------------------------------------------------------------------------------
# what the user asks for


@dataclass(frozen=True)
class DecisionSpec:
    """A decision goal, as parsed from ``--decision``.

    Attributes:
        kind: ``"f1"``, ``"balanced"``, ``"cost"`` or ``"recall"``.
        cost: a ``(C, C)`` matrix, ``cost[true, predicted]`` (non-negative, zero diagonal), for
            ``"cost"`` with a cost matrix; None otherwise.
        recall: R in (0, 1] for ``"recall>=R"``.
        ratio: (FN, FP) for ``"cost FN:FP"``: a missed minority sample costs FN, every other
            error FP; :meth:`cost_matrix` turns it into a matrix once the classes are known.
    """

    kind: str
    cost: np.ndarray | None = None
    recall: float | None = None
    ratio: tuple[float, float] | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {', '.join(map(repr, KINDS))}, got {self.kind!r}")
        if self.kind == "cost" and (self.cost is None) == (self.ratio is None):
            raise ValueError("a cost decision needs exactly one of cost (a matrix) and ratio (FN, FP)")
        if self.cost is not None:
            object.__setattr__(self, "cost", check_cost_matrix(self.cost, "cost"))
        if self.kind == "recall" and not (isinstance(self.recall, int | float) and 0 < self.recall <= 1):
            raise ValueError(f"recall must be in (0, 1] for a recall decision, got {self.recall!r}")

    def label(self) -> str:
        """``"f1"``, ``"balanced"``, ``"cost 5:1"``, ``"cost matrix"`` or ``"recall>=0.9"``."""
        if self.kind == "cost":
            return "cost matrix" if self.ratio is None else f"cost {self.ratio[0]:g}:{self.ratio[1]:g}"
        return f"recall>={self.recall:g}" if self.kind == "recall" else self.kind

    def cost_matrix(self, n_classes: int, positive: int) -> np.ndarray | None:
        """The ``(C, C)`` cost matrix in class order, None unless ``kind == "cost"``.

        ``cost FN:FP`` becomes ``cost[positive, k] = FN`` (k ≠ positive) and FP for every other
        error; with two classes, missing the positive class costs FN and a false alarm FP. The
        positive class is the minority class (single-label) or "label present", ``positive=1``
        with ``n_classes=2`` (multi-label, one 2 × 2 matrix for every label).
        """
        if self.kind != "cost":
            return None
        if self.ratio is not None:
            fn, fp = self.ratio
            errors = fp * (1 - np.eye(n_classes))
            return np.where((np.arange(n_classes) == positive)[:, None] & (errors > 0), fn, errors)
        assert self.cost is not None  # for mypy: __post_init__ holds cost or ratio
        if self.cost.shape != (n_classes, n_classes):
            raise ValueError(f"the cost matrix is {self.cost.shape[0]} × {self.cost.shape[1]} but the problem "
                             f"has {n_classes} classes" + (" (multi-label: give a 2 × 2 matrix, label absent/present)"
                                                           if n_classes == 2 else ""))
        return self.cost


def parse_decision(text: str, *, cost_matrix: np.ndarray | None = None) -> DecisionSpec:
    """The :class:`DecisionSpec` of a ``--decision`` value.

    Accepted: ``f1``, ``balanced``, ``cost FN:FP`` (also ``cost=FN:FP``, ``cost:FN:FP``; FN and FP
    positive numbers), ``recall>=R`` (also ``recall≥R``; 0 < R ≤ 1), case and spaces ignored.
    With ``cost_matrix`` (see :func:`check_cost_matrix`), the value must be ``cost`` and the
    matrix is its cost. Anything else raises a one-line ``ValueError`` naming ``--decision`` and
    the value.

    >>> parse_decision("cost 5:1").label(), parse_decision("recall >= 0.9").recall
    ('cost 5:1', 0.9)
    """
    if not isinstance(text, str):
        raise ValueError(DECISION_ERROR.format(text))
    value = text.strip().lower()
    matrix = None if cost_matrix is None else check_cost_matrix(cost_matrix, "cost_matrix")
    if matrix is not None and value != "cost" and not COST.fullmatch(value):
        raise ValueError(f"a cost matrix goes with --decision cost, got --decision {text!r}")
    if value in ("f1", "balanced"):
        return DecisionSpec(value)
    if value == "cost":
        if matrix is None:
            raise ValueError(f"--decision cost needs FN:FP (as in 'cost 5:1') or a cost matrix, got {text!r}")
        return DecisionSpec("cost", cost=matrix)
    if found := COST.fullmatch(value):
        if matrix is not None:
            raise ValueError(f"--decision {text!r} gives FN:FP and a cost matrix is given too: give one of them")
        fn, fp = (_number(token, text) for token in found.groups())
        if not (fn > 0 and fp > 0 and math.isfinite(fn) and math.isfinite(fp)):
            raise ValueError(f"--decision cost FN:FP needs two positive finite numbers, got {text!r}")
        return DecisionSpec("cost", ratio=(fn, fp))
    if found := RECALL.fullmatch(value):
        recall = _number(found.group(1), text)
        if not 0 < recall <= 1:
            raise ValueError(f"--decision recall>=R needs 0 < R ≤ 1, got {text!r}")
        return DecisionSpec("recall", recall=recall)
    raise ValueError(DECISION_ERROR.format(text))


def _number(token: str, text: str) -> float:
    try:
        return float(token)
    except ValueError:
        raise ValueError(DECISION_ERROR.format(text)) from None


def check_cost_matrix(matrix: Any, name: str, where: Callable[[int, int], str] | None = None) -> np.ndarray:
    """``matrix`` as a read-only float64 ``(C, C)`` array: square (C ≥ 2), finite, non-negative,
    a zero diagonal (a correct prediction costs nothing), not all zeros. Errors name ``name``
    and the cell, written by ``where(i, j)`` (default ``[i, j]``)."""
    cell = where or (lambda i, j: f"[{i}, {j}]")
    try:
        m = np.array(matrix, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a square matrix of numbers, got {matrix!r}") from None
    if m.ndim != 2 or m.shape[0] != m.shape[1] or m.shape[0] < 2:
        raise ValueError(f"{name} must be a square C × C matrix with C ≥ 2, got shape {m.shape}")
    for bad, what in ((~np.isfinite(m), "finite"), (m < 0, "non-negative"),
                      (np.eye(len(m), dtype=bool) & (m != 0), "zero on the diagonal (a correct prediction "
                                                                "costs nothing)")):
        if bad.any():
            i, j = (int(k) for k in np.argwhere(bad)[0])
            raise ValueError(f"{name} must be {what}, got {m[i, j]:g} at {cell(i, j)}")
    if not m.any():
        raise ValueError(f"{name} is all zeros: every decision would cost the same")
    m.setflags(write=False)
    return m


def read_cost_matrix(path: str | Path, *, class_names: Sequence[Any] | None = None) -> np.ndarray:
    """A cost matrix ``cost[true, predicted]`` from a CSV file of C rows of C numbers.

    The file may start with a header row of class names (the predicted classes) and each row
    with a class name (the true class); a name-less matrix is in the classes' order (as
    ``compare`` numbers them). With ``class_names`` and names in the file, the names must be the
    same classes, and the matrix is reordered to ``class_names``. The matrix is checked by
    :func:`check_cost_matrix`; every error names the file, and the row and column of the cell.
    """
    path = Path(path)
    try:
        with path.open(newline="", encoding="utf-8-sig") as f:
            reader = csv.reader(f)
            rows = [(reader.line_num, [c.strip() for c in r]) for r in reader if any(c.strip() for c in r)]
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise ValueError(f"cost matrix {path}: cannot be read ({error})") from None
    if len(rows) < 2:
        raise ValueError(f"cost matrix {path}: needs C ≥ 2 rows of C numbers, got {len(rows)} row(s)")
    named = any(not _is_number(cells[0]) for _, cells in rows[1:])
    header = any(not _is_number(c) for c in rows[0][1][int(named):])
    data = rows[1:] if header else rows
    values = [[_cell(path, line, j + 1 + named, c) for j, c in enumerate(cells[int(named):])] for line, cells in data]
    for (line, _), numbers in zip(data, values, strict=True):
        if len(numbers) != len(data):
            raise ValueError(f"cost matrix {path}: row {line} has {len(numbers)} numbers, expected {len(data)} "
                             f"(one per class, as many as there are rows)")
    matrix = check_cost_matrix(values, f"cost matrix {path}",
                               lambda i, j: f"row {data[i][0]}, column {j + 1 + named}")
    names = (rows[0][1][int(named):] if header else None, [cells[0] for _, cells in data] if named else None)
    return _reorder(matrix, names, class_names, path)


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _cell(path: Path, line: int, column: int, cell: str) -> float:
    if not _is_number(cell):
        raise ValueError(f"cost matrix {path}: row {line}, column {column}: {cell!r} is not a number")
    return float(cell)


def _reorder(matrix: np.ndarray, names: tuple[list[str] | None, list[str] | None],
             class_names: Sequence[Any] | None, path: Path) -> np.ndarray:
    """The matrix with its rows and columns in the order of ``class_names`` (by the file's names)."""
    if class_names is None:
        return matrix
    wanted = [str(c) for c in class_names]
    if len(wanted) != len(matrix):
        raise ValueError(f"cost matrix {path} is {len(matrix)} × {len(matrix)} but the data has "
                         f"{len(wanted)} classes ({', '.join(wanted)})")
    order = []
    for axis_names, axis in zip(names, ("columns", "rows"), strict=True):
        if axis_names is None:
            order.append(np.arange(len(wanted)))
            continue
        if sorted(axis_names) != sorted(wanted):
            raise ValueError(f"cost matrix {path}: the {axis} name the classes {', '.join(axis_names)}, "
                             f"but the data's classes are {', '.join(wanted)}")
        order.append(np.array([axis_names.index(c) for c in wanted]))
    columns, rows = order
    reordered = matrix[np.ix_(rows, columns)]
    reordered.setflags(write=False)
    return reordered


# ---------------------------------------------------------------------------------------------
# the rule


@dataclass(frozen=True)
class DecisionRule:
    """A map from probabilities to labels; :meth:`predict` applies, in this order:

    - ``thresholds`` ``(L,)`` with ``positive`` None (multi-label): label l where p_l ≥ t_l;
    - ``thresholds`` ``(1,)`` with ``positive`` = k (single-label): class k where p_k ≥ t,
      else the most probable other class (binary: the other class);
    - ``cost`` ``(C, C)``: the Bayes rule argmin_k Σ_c p_c cost[c, k];
    - ``class_weights`` ``(C,)``: argmax_c w_c p_c;
    - none of them: argmax_c p_c.

    Ties go to the lower class index (NumPy's argmin/argmax). ``spec`` is the goal the rule was
    chosen for, None for :func:`default_rule`; ``cost`` is kept for the scores where it also sets
    the thresholds (binary, multi-label).
    """

    spec: DecisionSpec | None
    thresholds: np.ndarray | None = None
    class_weights: np.ndarray | None = None
    positive: int | None = None
    cost: np.ndarray | None = None

    def predict(self, probabilities: Any) -> np.ndarray:
        """Labels ``(N,)`` int64 for ``(N, C)`` probabilities, or a 0/1 ``(N, L)`` int64 indicator."""
        p = _probabilities(probabilities)
        if self.thresholds is not None and self.positive is None:
            return (p >= self.thresholds).astype(np.int64)
        if self.thresholds is not None:
            k = self.positive
            others = np.where(np.arange(p.shape[1]) == k, -np.inf, p).argmax(axis=1)
            return np.asarray(np.where(p[:, k] >= self.thresholds[0], k, others), dtype=np.int64)
        if self.cost is not None:
            return (p @ self.cost).argmin(axis=1).astype(np.int64)
        weights = 1.0 if self.class_weights is None else self.class_weights
        return (p * weights).argmax(axis=1).astype(np.int64)

    def describe(self, class_names: Sequence[Any]) -> str:
        """The rule in words: ``"P(hypothyroid) ≥ 0.23"``, ``"argmax of p_c / prior_c"``,
        ``"Bayes rule for cost 5:1 (P(hypothyroid) ≥ 0.167)"``."""
        names = [str(c) for c in class_names]
        core = self._core(names)
        return f"Bayes rule for {self.spec.label()} ({core})" if self.spec and self.spec.kind == "cost" else core

    def _core(self, names: list[str]) -> str:
        if self.thresholds is not None and self.positive is None:
            t = self.thresholds
            if np.all(t == t[0]):
                return f"P(label) ≥ {t[0]:.3g} for each label"
            return "P(label) ≥ t for each label: " + ", ".join(f"{n} {v:.3g}" for n, v in zip(names, t, strict=True))
        if self.thresholds is not None:
            k = int(self.positive)  # type: ignore[arg-type]
            rest = ", else the most probable other class" if len(names) > 2 else ""
            return f"P({names[k]}) ≥ {self.thresholds[0]:.3g}{rest}"
        if self.cost is not None:
            return "argmin_k Σ_c p_c cost[c, k]"
        if self.class_weights is None:
            return "argmax of p_c"
        if self.spec is not None and self.spec.kind == "balanced":
            return "argmax of p_c / prior_c"
        return "argmax of w_c p_c, w: " + ", ".join(f"{n} {v:.3g}" for n, v in zip(names, self.class_weights,
                                                                                      strict=True))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: ``{"decision", "positive", "thresholds", "class_weights", "cost"}``."""
        def listed(a: np.ndarray | None) -> Any:
            return None if a is None else np.asarray(a, dtype=np.float64).tolist()

        return {"decision": self.spec.label() if self.spec else "default", "positive": self.positive,
                "thresholds": listed(self.thresholds), "class_weights": listed(self.class_weights),
                "cost": listed(self.cost)}


def default_rule(n_classes: int, multilabel: bool) -> DecisionRule:
    """Argmax; binary: P(class 1) ≥ 0.5; multi-label (``n_classes`` = L labels): each p_l ≥ 0.5."""
    if multilabel:
        return DecisionRule(None, thresholds=np.full(n_classes, 0.5))
    if n_classes == 2:
        return DecisionRule(None, thresholds=np.array([0.5]), positive=1)
    return DecisionRule(None)


def choose_rule(spec: DecisionSpec, probabilities: Any, y: Any, *, minority: int,
                priors: np.ndarray) -> DecisionRule:
    """The rule for ``spec``, chosen on calibrated held-out ``probabilities`` and their labels ``y``.

    - ``f1``: binary: the threshold t on P(minority) maximizing the minority class's F1 on the
      data (:func:`_best_f1_threshold`); multiclass: class weights w maximizing the macro-F1 of
      argmax_c w_c p_c (:func:`_macro_f1_weights`); multi-label: one F1-optimal threshold per label.
    - ``balanced``: argmax_c p_c / π_c with π = ``priors`` (binary: P(minority) ≥ π_minority;
      multi-label: p_l ≥ π_l), the Bayes rule of balanced accuracy for calibrated p. No fitting.
    - ``cost``: the Bayes rule argmin_k Σ_c p_c cost[c, k]; with two classes, predict the
      positive class k (the minority; multi-label: label present) where
      p_k ≥ cost[o, k] / (cost[o, k] + cost[k, o]), i.e. FP / (FN + FP). No fitting.
    - ``recall>=R``: the threshold t on P(minority) (multi-label: on each p_l) with the best
      precision among those whose recall on the data is ≥ R (:func:`_recall_threshold`);
      multiclass: the minority where p_minority ≥ t, else the most probable other class.

    ``minority`` is the rarest class (or label) index; ``priors`` the training class frequencies
    ``(C,)`` (or per-label prevalences ``(L,)``). Labels without positives in ``y`` keep the
    default 0.5 (multi-label); a single-label ``f1`` or ``recall`` needs minority samples.
    """
    p = _probabilities(probabilities)
    labels, multilabel = _labels(y, p)
    n = p.shape[1]
    if not (isinstance(minority, int | np.integer) and 0 <= minority < n):
        raise ValueError(f"minority must be a class index in [0, {n}), got {minority!r}")
    pi = np.asarray(priors, dtype=np.float64)
    if pi.shape != (n,) or not (np.isfinite(pi).all() and (pi > 0).all()):
        raise ValueError(f"priors must hold {n} positive frequencies, got {priors!r}")
    if multilabel:
        return _multilabel_rule(spec, p, labels, pi)
    return _single_label_rule(spec, p, labels, int(minority), pi)


def _single_label_rule(spec: DecisionSpec, p: np.ndarray, y: np.ndarray, m: int, pi: np.ndarray) -> DecisionRule:
    binary, positive = p.shape[1] == 2, y == m
    if spec.kind in ("f1", "recall") and not positive.any():
        raise ValueError(f"y has no sample of the minority class {m}: a {spec.label()} rule cannot be chosen")
    if spec.kind == "f1":
        if binary:
            return DecisionRule(spec, thresholds=np.array([_best_f1_threshold(p[:, m], positive)]), positive=m)
        return DecisionRule(spec, class_weights=_macro_f1_weights(p, y))
    if spec.kind == "recall":
        recall = float(spec.recall)  # type: ignore[arg-type]  # set for kind "recall" (__post_init__)
        return DecisionRule(spec, thresholds=np.array([_recall_threshold(p[:, m], positive, recall)]), positive=m)
    if spec.kind == "balanced":
        if binary:
            return DecisionRule(spec, thresholds=pi[m:m + 1], positive=m)
        return DecisionRule(spec, class_weights=1 / pi)
    cost = spec.cost_matrix(p.shape[1], m)
    assert cost is not None  # for mypy: kind == "cost"
    if binary:
        return DecisionRule(spec, thresholds=np.array([_two_class_threshold(cost, m)]), positive=m, cost=cost)
    return DecisionRule(spec, cost=cost)


def _multilabel_rule(spec: DecisionSpec, p: np.ndarray, y: np.ndarray, pi: np.ndarray) -> DecisionRule:
    present = y == 1
    if spec.kind == "balanced":
        return DecisionRule(spec, thresholds=pi)
    if spec.kind == "cost":
        cost = spec.cost_matrix(2, 1)
        assert cost is not None  # for mypy: kind == "cost"
        return DecisionRule(spec, thresholds=np.full(p.shape[1], _two_class_threshold(cost, 1)), cost=cost)

    def per_label(j: int) -> float:
        if not present[:, j].any():
            return 0.5
        if spec.kind == "f1":
            return _best_f1_threshold(p[:, j], present[:, j])
        return _recall_threshold(p[:, j], present[:, j], spec.recall)  # type: ignore[arg-type]

    return DecisionRule(spec, thresholds=np.array([per_label(j) for j in range(p.shape[1])]))


def _two_class_threshold(cost: np.ndarray, k: int) -> float:
    # predict k iff its expected cost is not higher: (1 - p_k) cost[o, k] ≤ p_k cost[k, o]
    # ⟺ p_k ≥ cost[o, k] / (cost[o, k] + cost[k, o])   (a zero diagonal; the sum is > 0)
    o = 1 - k
    return float(cost[o, k] / (cost[o, k] + cost[k, o]))


# ---------------------------------------------------------------------------------------------
# fitting thresholds and weights


def _counts_by_threshold(score: np.ndarray, positive: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The distinct scores v, descending, and TP(v), FP(v) of the rule ``score ≥ v``.

    One sort and two cumulative sums: after sorting by decreasing score, the rule ``score ≥ v``
    predicts positive the prefix up to the last sample with score v.
    """
    order = np.argsort(-score, kind="stable")
    s, pos = score[order], positive[order]
    last = np.append(s[1:] != s[:-1], True)
    return s[last], np.cumsum(pos)[last], np.cumsum(~pos)[last]


def _best_f1_threshold(score: np.ndarray, positive: np.ndarray) -> float:
    """The threshold t maximizing the F1 of ``score ≥ t`` for the ``positive`` samples.

    F1 = 2 TP / (2 TP + FP + FN) = 2 TP / (TP + FP + P) at every distinct score; ties go to the
    largest threshold (the fewest positive predictions). The returned t is the midpoint between
    the chosen score and the next lower distinct score (same predictions on these data, a margin
    on new ones), or the chosen score itself when it is the lowest.
    """
    v, tp, fp = _counts_by_threshold(score, positive)
    f1 = 2 * tp / (tp + fp + positive.sum())
    k = int(np.argmax(f1))
    if k + 1 == len(v):
        return float(v[k])
    middle = (v[k] + v[k + 1]) / 2
    return float(middle if middle > v[k + 1] else v[k])


def _recall_threshold(score: np.ndarray, positive: np.ndarray, recall: float) -> float:
    """The threshold t of ``score ≥ t`` with the best precision among those of recall ≥ R.

    Recall is non-increasing in t, so the feasible thresholds are the distinct scores up to the
    largest one of recall ≥ R; precision is not monotone in t, so the best is searched among
    them, ties going to the largest threshold. t is a score of the data itself, so that the recall
    holds on the data exactly. The recall k / P is computed as scikit-learn does.
    """
    v, tp, fp = _counts_by_threshold(score, positive)
    n_pos = int(positive.sum())
    hits = np.arange(1, n_pos + 1)
    need = int(hits[hits / n_pos >= recall][0])
    precision = np.where(tp >= need, tp / (tp + fp), -1.0)
    return float(v[int(np.argmax(precision))])


def _macro_f1_weights(p: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Class weights w maximizing the macro-F1 of argmax_c w_c p_c on (p, y).

    Coordinate ascent from w = 1: each round sets each w_c in turn to the value of
    ``WEIGHT_GRID`` (log-spaced, 0.01..100) that gives the best macro-F1 with the other weights
    fixed, keeping the current value unless another is strictly better; it stops after
    ``WEIGHT_ROUNDS`` rounds or a round without change. The objective is piecewise constant, so
    this finds a good rule, not necessarily the global optimum.
    """
    n_classes = p.shape[1]
    w = np.ones(n_classes)
    best = _macro_f1((p * w).argmax(axis=1)[None, :], y, n_classes)[0]
    for _ in range(WEIGHT_ROUNDS):
        changed = False
        for c in range(n_classes):
            scores = _macro_f1(_predictions_over_grid(p, w, c), y, n_classes)
            g = int(np.argmax(scores))
            if scores[g] > best:
                best, w, changed = scores[g], np.where(np.arange(n_classes) == c, WEIGHT_GRID[g], w), True
        if not changed:
            break
    return w


def _predictions_over_grid(p: np.ndarray, w: np.ndarray, c: int) -> np.ndarray:
    """``(G, N)``: argmax_k w_k p_k with w_c set to each grid value, ties to the lower index."""
    weighted = p * w
    others = np.where(np.arange(p.shape[1]) == c, -np.inf, weighted)
    best_other, rival = others.max(axis=1), others.argmax(axis=1)
    mine = WEIGHT_GRID[:, None] * p[None, :, c]
    wins = (mine > best_other) | ((mine == best_other) & (c < rival))
    return np.where(wins, c, rival)


def _macro_f1(predicted: np.ndarray, y: np.ndarray, n_classes: int) -> np.ndarray:
    """``(G,)``: the macro-F1 of each row of ``(G, N)`` predictions, 0 for a class never
    predicted nor present (scikit-learn's ``zero_division=0``)."""
    g = predicted.shape[0]
    offset = n_classes * np.arange(g)[:, None]
    counts = np.bincount((predicted + offset).ravel(), minlength=g * n_classes).reshape(g, n_classes)
    hits = np.bincount((predicted + offset)[predicted == y], minlength=g * n_classes).reshape(g, n_classes)
    denominator = counts + np.bincount(y, minlength=n_classes)
    f1 = np.divide(2 * hits, denominator, out=np.zeros(denominator.shape), where=denominator > 0)
    return f1.mean(axis=1)


# ---------------------------------------------------------------------------------------------
# scores


def decision_scores(y: Any, predicted: Any, *, n_classes: int, minority: int, multilabel: bool,
                    cost: np.ndarray | None = None) -> dict[str, Any]:
    """The thresholded scores of predicted labels, as scikit-learn's metric functions define them.

    Keys: ``"f1"`` (binary: the minority class's F1; multiclass: macro-F1 over the
    ``n_classes`` classes; multi-label: macro-F1 over labels), ``"precision"`` and ``"recall"``
    of the minority class (label), ``"balanced_accuracy"`` (multi-label: the mean over labels of
    each label's), ``"worst_recall"`` (the smallest per-class, or per-label, recall),
    ``"per_class_recall"`` (a list), ``"confusion"`` (rows true, columns predicted; multi-label:
    one 2 × 2 per label) and, with a cost matrix (multi-label: 2 × 2), ``"cost"``: the mean cost
    per sample (multi-label: summed over labels). A quantity undefined on the data (the recall of
    a class without samples, the precision of one never predicted) is 0.0 (``zero_division=0``),
    never NaN; balanced accuracy averages the recalls of the classes present in ``y``.

    The scores come from one confusion matrix (a ``bincount``) through
    :func:`crossent.metrics._states.decisions`, the numbers ``crossent eval`` reports: the same as
    ``precision_recall_fscore_support``, ``f1_score`` and ``balanced_accuracy_score`` (the tests
    hold them together), without their input validation, which cost more than the counting on
    every split of a comparison.
    """
    y, predicted = np.asarray(y, dtype=np.int64), np.asarray(predicted, dtype=np.int64)
    if y.shape != predicted.shape or y.ndim != (2 if multilabel else 1):
        raise ValueError(f"y and predicted must both be {'(N, L) indicators' if multilabel else 'labels (N,)'}, "
                         f"got shapes {y.shape} and {predicted.shape}")
    # each sample's (true, predicted) cell of the confusion matrix, flat; multi-label: of its label's 2 × 2
    width = 2 if multilabel else n_classes
    cells = y * width + predicted
    if multilabel:
        labels = y.shape[1]
        counts = np.bincount((cells + 4 * np.arange(labels)).ravel(), minlength=4 * labels)
        confusion: np.ndarray = counts.reshape(labels, 2, 2)
    else:
        confusion = np.bincount(cells, minlength=n_classes**2).reshape(n_classes, n_classes)
    scores: dict[str, Any] = decisions(confusion, multilabel=multilabel, minority=minority)
    scores["per_class_recall"] = recalls(confusion, multilabel=multilabel).tolist()
    scores["confusion"] = confusion.tolist()
    if cost is not None:  # cost[y, predicted], read through the flat cells (a fraction of 2-D indexing's time)
        per_sample = np.asarray(cost, dtype=np.float64).reshape(width * width)[cells]
        scores["cost"] = float((per_sample.sum(axis=1) if multilabel else per_sample).mean())
    return scores


# ---------------------------------------------------------------------------------------------
# inputs


def _probabilities(probabilities: Any) -> np.ndarray:
    p = np.asarray(probabilities, dtype=np.float64)
    if p.ndim != 2 or p.shape[0] == 0 or p.shape[1] == 0:
        raise ValueError(f"probabilities must have shape (N, C) (binary: two columns) or (N, L), got shape {p.shape}")
    if not (np.isfinite(p).all() and (p >= 0).all() and (p <= 1).all()):
        raise ValueError("probabilities must lie in [0, 1]")
    return p


def _labels(y: Any, p: np.ndarray) -> tuple[np.ndarray, bool]:
    """(labels, multilabel): int64 labels ``(N,)`` in [0, C), or an ``(N, L)`` 0/1 indicator."""
    labels = np.asarray(y)
    if labels.ndim == 2:
        if labels.shape != p.shape or not np.isin(labels, (0, 1)).all():
            raise ValueError(f"y as a multi-label indicator must be 0/1 of the probabilities' shape {p.shape}")
        return labels.astype(np.int64), True
    if labels.shape != (p.shape[0],):
        raise ValueError(f"y must be labels ({p.shape[0]},) or an indicator {p.shape}, got shape {labels.shape}")
    as_int = labels.astype(np.int64)
    if not ((as_int == labels).all() and (as_int >= 0).all() and (as_int < p.shape[1]).all()):
        raise ValueError(f"y must hold class labels in [0, {p.shape[1]})")
    return as_int, False
