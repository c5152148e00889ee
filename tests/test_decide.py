"""crossent.selection._decide: decision rules chosen on held-out probabilities, and their scores.

- the F1 threshold equals a brute-force search over every threshold (F1 from scikit-learn);
- recall>=R reaches R on its data and has the best precision among thresholds that do;
- balanced is argmax p_c / π_c; the cost rule is the Bayes rule (brute force over decisions);
- every rule predicts on binary (N, 2), multiclass (N, C) and multi-label (N, L) probabilities;
- decision_scores equals scikit-learn's metrics; parse_decision and read_cost_matrix errors.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from crossent.selection._decide import (
    DecisionRule,
    DecisionSpec,
    _macro_f1,
    choose_rule,
    decision_scores,
    default_rule,
    parse_decision,
    read_cost_matrix,
)

metrics = pytest.importorskip("sklearn.metrics")

SPECS = ("f1", "balanced", "cost 5:1", "recall>=0.8")


def draw(kind: str, n: int = 400, c: int = 4, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(probabilities, labels drawn from them, priors): calibrated by construction, class 0 rare."""
    rng = np.random.default_rng(seed)
    if kind == "multilabel":
        p = 1 / (1 + np.exp(-rng.normal(loc=[-2.0, 0.0, -1.0], scale=2.0, size=(n, 3))))
        y = (rng.random(p.shape) < p).astype(np.int64)
        return p, y, y.mean(axis=0)
    k = 2 if kind == "binary" else c
    logits = rng.normal(scale=2.0, size=(n, k)) + np.r_[-2.0, np.zeros(k - 1)]
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    y = (np.cumsum(p, axis=1) > rng.random((n, 1))).argmax(axis=1)
    return p, y, np.bincount(y, minlength=k) / n


def minority_of(y: np.ndarray) -> int:
    return int(np.argmin(y.sum(axis=0) if y.ndim == 2 else np.bincount(y)))


def rule_for(text: str, p: np.ndarray, y: np.ndarray, priors: np.ndarray) -> DecisionRule:
    return choose_rule(parse_decision(text), p, y, minority=minority_of(y), priors=priors)


# ---------------------------------------------------------------------------------------------
# rules against brute force


@pytest.mark.parametrize("seed", range(4))
def test_f1_threshold_equals_brute_force(seed: int) -> None:
    p, y, priors = draw("binary", n=300, seed=seed)
    p = np.round(p, 2)  # ties among the scores
    p[:, 1] = 1 - p[:, 0]
    m = minority_of(y)
    rule = rule_for("f1", p, y, priors)
    assert rule.positive == m
    best = max(metrics.f1_score(y == m, p[:, m] >= t) for t in np.unique(p[:, m]))
    assert metrics.f1_score(y == m, rule.predict(p) == m) == pytest.approx(best, abs=1e-12)
    # the threshold sits strictly between the scores it separates
    assert not np.isin(rule.thresholds, p[:, m]).any() or rule.thresholds[0] == p[:, m].min()


@pytest.mark.parametrize(("kind", "recall"), [("binary", 0.8), ("binary", 0.5), ("multiclass", 0.9),
                                              ("multiclass", 1.0)])
def test_recall_rule_reaches_r_with_the_best_precision(kind: str, recall: float) -> None:
    p, y, priors = draw(kind, n=300, seed=1)
    p = np.round(p, 2)
    m = minority_of(y)
    rule = rule_for(f"recall>={recall}", p, y, priors)
    predicted = rule.predict(p) == m
    assert metrics.recall_score(y == m, predicted) >= recall
    feasible = [t for t in np.unique(p[:, m]) if metrics.recall_score(y == m, p[:, m] >= t) >= recall]
    best = max(metrics.precision_score(y == m, p[:, m] >= t, zero_division=0) for t in feasible)
    assert metrics.precision_score(y == m, predicted) == pytest.approx(best, abs=1e-12)
    ties = [t for t in feasible
            if metrics.precision_score(y == m, p[:, m] >= t, zero_division=0) == pytest.approx(best, abs=1e-12)]
    assert rule.thresholds[0] == max(ties)  # ties go to the largest threshold


def test_multilabel_f1_and_recall_rules_are_per_label() -> None:
    p, y, priors = draw("multilabel", n=300)
    f1, recall = rule_for("f1", p, y, priors), rule_for("recall>=0.9", p, y, priors)
    for j in range(y.shape[1]):
        best = max(metrics.f1_score(y[:, j], p[:, j] >= t) for t in np.unique(p[:, j]))
        assert metrics.f1_score(y[:, j], f1.predict(p)[:, j]) == pytest.approx(best, abs=1e-12)
        assert metrics.recall_score(y[:, j], recall.predict(p)[:, j]) >= 0.9


def test_multiclass_f1_weights_improve_macro_f1() -> None:
    p, y, priors = draw("multiclass", n=600, c=5)
    rule = rule_for("f1", p, y, priors)
    assert rule.class_weights is not None and rule.class_weights.shape == (5,)
    np.testing.assert_array_equal(rule.predict(p), (p * rule.class_weights).argmax(axis=1))
    tuned = metrics.f1_score(y, rule.predict(p), average="macro", labels=range(5), zero_division=0)
    assert tuned >= metrics.f1_score(y, p.argmax(axis=1), average="macro", labels=range(5), zero_division=0)
    # the vectorized macro-F1 is scikit-learn's
    rows = np.stack([p.argmax(axis=1), rule.predict(p), np.zeros(len(y), dtype=np.int64)])
    expected = [metrics.f1_score(y, r, average="macro", labels=range(5), zero_division=0) for r in rows]
    np.testing.assert_allclose(_macro_f1(rows, y, 5), expected, atol=1e-12)


@pytest.mark.parametrize("kind", ["binary", "multiclass", "multilabel"])
def test_balanced_is_the_prior_corrected_argmax(kind: str) -> None:
    p, y, priors = draw(kind)
    predicted = rule_for("balanced", p, y, priors).predict(p)
    if kind == "multilabel":
        expected = (p >= priors).astype(np.int64)
    elif kind == "binary":
        m = minority_of(y)
        expected = np.where(p[:, m] >= priors[m], m, 1 - m)
    else:
        expected = (p / priors).argmax(axis=1)
    np.testing.assert_array_equal(predicted, expected)


def test_cost_rule_is_the_bayes_rule_against_brute_force() -> None:
    rng = np.random.default_rng(3)
    p, y, priors = draw("multiclass", n=500, c=4)
    cost = rng.uniform(0.5, 5.0, size=(4, 4)) * (1 - np.eye(4))
    rule = choose_rule(parse_decision("cost", cost_matrix=cost), p, y, minority=minority_of(y), priors=priors)
    expected_cost = p @ cost  # (N, K): the expected cost of each decision k
    chosen = expected_cost[np.arange(len(y)), rule.predict(p)]
    np.testing.assert_allclose(chosen, expected_cost.min(axis=1))
    # over many draws of the labels from the calibrated p, no other rule has a lower mean cost
    draws = (np.cumsum(p, axis=1)[None] > rng.random((200, len(y), 1))).argmax(axis=2)
    realized = cost[draws, rule.predict(p)].mean()
    for other in (p.argmax(axis=1), (p / priors).argmax(axis=1)):
        assert realized <= cost[draws, other].mean()


@pytest.mark.parametrize("flip", [False, True])
def test_binary_cost_threshold_is_fp_over_fn_plus_fp(flip: bool) -> None:
    p, y, priors = draw("binary", n=400)
    if flip:  # the minority is class 1
        p, y, priors = p[:, ::-1], 1 - y, priors[::-1]
    m = minority_of(y)
    rule = rule_for("cost 5:1", p, y, priors)
    assert rule.positive == m and rule.thresholds[0] == pytest.approx(1 / 6)
    # brute force over thresholds on P(minority): the Bayes threshold minimizes the expected cost
    def expected(t: float) -> float:
        positive = p[:, m] >= t
        return float(np.where(positive, (1 - p[:, m]) * 1.0, p[:, m] * 5.0).sum())

    grid = np.r_[np.unique(p[:, m]), 1.0 + 1e-9]
    assert expected(rule.thresholds[0]) <= min(expected(t) for t in grid) + 1e-9
    assert rule.describe(["a", "b"]) == f"Bayes rule for cost 5:1 (P({'ab'[m]}) ≥ 0.167)"
    scores = decision_scores(y, rule.predict(p), n_classes=2, minority=m, multilabel=False,
                             cost=rule.spec.cost_matrix(2, m))
    assert scores["cost"] == pytest.approx(np.where(y == m, 5.0, 1.0)[rule.predict(p) != y].sum() / len(y))


@pytest.mark.parametrize("kind", ["binary", "multiclass", "multilabel"])
@pytest.mark.parametrize("text", SPECS)
def test_every_rule_predicts_labels_of_the_right_shape(kind: str, text: str) -> None:
    p, y, priors = draw(kind)
    rule = rule_for(text, p, y, priors)
    predicted = rule.predict(p)
    assert predicted.dtype == np.int64
    if kind == "multilabel":
        assert predicted.shape == p.shape and np.isin(predicted, (0, 1)).all()
    else:
        assert predicted.shape == (len(p),) and ((predicted >= 0) & (predicted < p.shape[1])).all()
    names = [f"class{k}" for k in range(p.shape[1])]
    assert isinstance(rule.describe(names), str) and rule.describe(names)
    record = json.loads(json.dumps(rule.to_dict()))
    assert record["decision"] == parse_decision(text).label()


@pytest.mark.parametrize("kind", ["binary", "multiclass", "multilabel"])
def test_default_rule(kind: str) -> None:
    p, _, _ = draw(kind)
    rule = default_rule(p.shape[1], kind == "multilabel")
    expected = {"binary": (p[:, 1] >= 0.5).astype(np.int64), "multiclass": p.argmax(axis=1),
                "multilabel": (p >= 0.5).astype(np.int64)}[kind]
    np.testing.assert_array_equal(rule.predict(p), expected)
    assert rule.to_dict()["decision"] == "default"


def test_describe() -> None:
    p, y, priors = draw("binary")
    names = ["hypothyroid", "negative"]
    rule = rule_for("f1", p, y, priors)
    assert rule.describe(names) == f"P(hypothyroid) ≥ {rule.thresholds[0]:.3g}"
    p, y, priors = draw("multiclass")
    assert rule_for("balanced", p, y, priors).describe("abcd") == "argmax of p_c / prior_c"
    assert rule_for("recall>=0.9", p, y, priors).describe("abcd").endswith(", else the most probable other class")
    assert default_rule(4, False).describe("abcd") == "argmax of p_c"
    assert default_rule(3, True).describe("abc") == "P(label) ≥ 0.5 for each label"


# ---------------------------------------------------------------------------------------------
# scores


@pytest.mark.parametrize("kind", ["binary", "multiclass"])
def test_decision_scores_equal_scikit_learn(kind: str) -> None:
    p, y, _ = draw(kind, n=300)
    predicted = (p * np.r_[3.0, np.ones(p.shape[1] - 1)]).argmax(axis=1)
    c, m = p.shape[1], minority_of(y)
    cost = np.ones((c, c)) - np.eye(c)
    scores = decision_scores(y, predicted, n_classes=c, minority=m, multilabel=False, cost=cost)
    labels = list(range(c))
    f1 = (metrics.f1_score(y, predicted, pos_label=m) if kind == "binary" else
          metrics.f1_score(y, predicted, average="macro", labels=labels))
    recall = metrics.recall_score(y, predicted, average=None, labels=labels)
    assert scores["f1"] == pytest.approx(f1)
    assert scores["precision"] == pytest.approx(metrics.precision_score(y, predicted, labels=[m], average="macro"))
    assert scores["recall"] == pytest.approx(recall[m])
    assert scores["balanced_accuracy"] == pytest.approx(metrics.balanced_accuracy_score(y, predicted))
    assert scores["worst_recall"] == pytest.approx(recall.min())
    np.testing.assert_allclose(scores["per_class_recall"], recall)
    assert scores["confusion"] == metrics.confusion_matrix(y, predicted, labels=labels).tolist()
    assert scores["cost"] == pytest.approx(1 - metrics.accuracy_score(y, predicted))  # 0-1 cost
    json.dumps(scores)


def test_decision_scores_multilabel_equal_scikit_learn() -> None:
    p, y, _ = draw("multilabel", n=300)
    predicted = (p >= 0.3).astype(np.int64)
    m = minority_of(y)
    scores = decision_scores(y, predicted, n_classes=3, minority=m, multilabel=True,
                             cost=np.array([[0.0, 1.0], [4.0, 0.0]]))
    recall = metrics.recall_score(y, predicted, average=None)
    assert scores["f1"] == pytest.approx(metrics.f1_score(y, predicted, average="macro"))
    assert scores["precision"] == pytest.approx(metrics.precision_score(y[:, m], predicted[:, m]))
    assert scores["recall"] == pytest.approx(recall[m])
    assert scores["worst_recall"] == pytest.approx(recall.min())
    assert scores["balanced_accuracy"] == pytest.approx(
        np.mean([metrics.balanced_accuracy_score(y[:, j], predicted[:, j]) for j in range(3)]))
    assert scores["confusion"] == metrics.multilabel_confusion_matrix(y, predicted).tolist()
    misses, alarms = ((y == 1) & (predicted == 0)).sum(), ((y == 0) & (predicted == 1)).sum()
    assert scores["cost"] == pytest.approx((4 * misses + alarms) / len(y))


def test_decision_scores_of_a_single_label_are_that_labels() -> None:
    # scikit-learn reads an (N, 1) indicator as one binary target (macro over "absent" and
    # "present", two confusion matrices); crossent's multi-label scores are the label's own
    y = np.array([[1], [1], [0], [1], [0], [1]])
    predicted = np.array([[1], [0], [0], [1], [1], [1]])
    scores = decision_scores(y, predicted, n_classes=1, minority=0, multilabel=True)
    truth, chosen = y[:, 0], predicted[:, 0]
    assert scores["f1"] == pytest.approx(metrics.f1_score(truth, chosen))
    assert scores["precision"] == pytest.approx(metrics.precision_score(truth, chosen))
    assert scores["recall"] == scores["worst_recall"] == pytest.approx(metrics.recall_score(truth, chosen))
    assert scores["balanced_accuracy"] == pytest.approx(metrics.balanced_accuracy_score(truth, chosen))
    assert scores["confusion"] == [metrics.confusion_matrix(truth, chosen).tolist()]


def test_decision_scores_without_positives_are_zero_not_nan() -> None:
    y = np.array([0, 0, 1, 1])
    scores = decision_scores(y, np.array([0, 1, 1, 1]), n_classes=3, minority=2, multilabel=False)
    assert scores["precision"] == scores["recall"] == scores["worst_recall"] == 0.0
    assert scores["per_class_recall"] == [0.5, 1.0, 0.0]
    assert not np.isnan([v for k, v in scores.items() if isinstance(v, float)]).any()
    y2 = np.array([[0, 1], [0, 1]])
    scores = decision_scores(y2, np.array([[0, 1], [1, 1]]), n_classes=2, minority=0, multilabel=True)
    assert scores["recall"] == 0.0 and scores["precision"] == 0.0


# ---------------------------------------------------------------------------------------------
# parsing


@pytest.mark.parametrize(("text", "label"), [
    ("f1", "f1"), (" F1 ", "f1"), ("balanced", "balanced"), ("cost 5:1", "cost 5:1"), ("cost=5:1", "cost 5:1"),
    ("cost:5:1", "cost 5:1"), ("cost 2.5 : 1", "cost 2.5:1"), ("recall>=0.9", "recall>=0.9"),
    ("recall >= 1", "recall>=1"), ("recall≥0.5", "recall>=0.5"),
])
def test_parse_decision_accepts(text: str, label: str) -> None:
    assert parse_decision(text).label() == label


@pytest.mark.parametrize("text", ["", "accuracy", "cost 5", "cost a:b", "recall>0.9", "recall>=x", "f2", "cost 5:1:2"])
def test_parse_decision_refuses_with_one_line_naming_the_option(text: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_decision(text)
    message = str(caught.value)
    assert message == f"--decision must be f1, balanced, cost FN:FP or recall>=R, got {text!r}"


@pytest.mark.parametrize(("text", "match"), [
    ("cost 0:1", "two positive finite numbers"), ("cost 1:inf", "two positive finite numbers"),
    ("recall>=0", "0 < R ≤ 1"), ("recall>=1.5", "0 < R ≤ 1"), ("cost", "needs FN:FP"),
])
def test_parse_decision_refuses_out_of_range_values(text: str, match: str) -> None:
    with pytest.raises(ValueError, match=match) as caught:
        parse_decision(text)
    assert "--decision" in str(caught.value) and repr(text) in str(caught.value) and "\n" not in str(caught.value)


def test_parse_decision_with_a_cost_matrix() -> None:
    cost = np.array([[0, 1, 2], [1, 0, 1], [4, 1, 0]])
    spec = parse_decision("cost", cost_matrix=cost)
    assert spec.label() == "cost matrix" and spec.cost_matrix(3, 0).tolist() == cost.tolist()
    with pytest.raises(ValueError, match="goes with --decision cost"):
        parse_decision("f1", cost_matrix=cost)
    with pytest.raises(ValueError, match="give one of them"):
        parse_decision("cost 5:1", cost_matrix=cost)
    with pytest.raises(ValueError, match="zero on the diagonal"):
        parse_decision("cost", cost_matrix=np.ones((2, 2)))
    with pytest.raises(ValueError, match="non-negative"):
        parse_decision("cost", cost_matrix=-cost)
    with pytest.raises(ValueError, match="square"):
        parse_decision("cost", cost_matrix=cost[:2])
    with pytest.raises(ValueError, match="has 4 classes"):
        spec.cost_matrix(4, 0)


def test_cost_ratio_matrix() -> None:
    spec = parse_decision("cost 5:1")
    assert spec.cost_matrix(2, 0).tolist() == [[0, 5], [1, 0]]
    assert spec.cost_matrix(2, 1).tolist() == [[0, 1], [5, 0]]
    assert spec.cost_matrix(3, 1).tolist() == [[0, 1, 1], [5, 0, 5], [1, 1, 0]]
    assert DecisionSpec("f1").cost_matrix(2, 0) is None


# ---------------------------------------------------------------------------------------------
# cost matrix files


def test_read_cost_matrix(tmp_path: Path) -> None:
    plain = tmp_path / "plain.csv"
    plain.write_text("0,1,2\n3,0,1\n\n1,1,0\n")
    assert read_cost_matrix(plain).tolist() == [[0, 1, 2], [3, 0, 1], [1, 1, 0]]
    named = tmp_path / "named.csv"
    named.write_text("true\\predicted,b,a\nb,0,5\na,1,0\n")
    assert read_cost_matrix(named).tolist() == [[0, 5], [1, 0]]
    # reordered to the data's classes: cost[a, b] = 1, cost[b, a] = 5
    assert read_cost_matrix(named, class_names=["a", "b"]).tolist() == [[0, 1], [5, 0]]
    header = tmp_path / "header.csv"
    header.write_text("a,b\n0,2\n3,0\n")
    assert read_cost_matrix(header, class_names=["a", "b"]).tolist() == [[0, 2], [3, 0]]


@pytest.mark.parametrize(("text", "match"), [
    ("0,1\n1,x\n", "row 2, column 2: 'x' is not a number"),
    ("0,1,2\n1,0,1\n", "row 1 has 3 numbers, expected 2"),
    ("0,1\n-1,0\n", "must be non-negative, got -1 at row 2, column 1"),
    (",a,b\na,1,1\nb,1,0\n", "zero on the diagonal .*, got 1 at row 2, column 2"),
    ("0,1\n", "needs C ≥ 2 rows"),
])
def test_read_cost_matrix_errors_name_the_file_and_cell(tmp_path: Path, text: str, match: str) -> None:
    path = tmp_path / "costs.csv"
    path.write_text(text)
    with pytest.raises(ValueError, match=match) as caught:
        read_cost_matrix(path)
    assert str(path) in str(caught.value)


def test_read_cost_matrix_checks_the_class_names(tmp_path: Path) -> None:
    path = tmp_path / "costs.csv"
    path.write_text(",a,b\na,0,1\nb,1,0\n")
    with pytest.raises(ValueError, match="the data's classes are a, c"):
        read_cost_matrix(path, class_names=["a", "c"])
    with pytest.raises(ValueError, match="3 classes"):
        read_cost_matrix(path, class_names=["a", "b", "c"])
    with pytest.raises(ValueError, match="cannot be read"):
        read_cost_matrix(tmp_path / "missing.csv")
