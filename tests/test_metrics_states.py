"""Mergeable evaluation states (crossent.metrics._states): ScoreSums, CalibrationBins, RankingHistogram,
Evaluation.

- random uneven partitions (empty ones, ones missing a class) merge, under every tree shape, to
  the state of the concatenation: integer-valued sums exactly, the others to rounding;
- each state's metrics equal the all-at-once metric: crossent.metrics and scikit-learn, and
  ``crossent eval``'s in-memory scoring (score_predictions) for the Evaluation;
- binned ROC-AUC / average precision equal scikit-learn's on the bin indices, and the binned AUC
  is within its bound of the exact AUC of the raw scores;
- to_dict (through strict JSON) and pickle round trips; the empty identity; errors;
- a 2-rank gloo all_reduce gives the single-process state with one collective.
"""

from __future__ import annotations

import json
import pickle
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import distributed
from conftest import sigmoid_array, softmax_rows
from crossent.metrics import (
    CalibrationBins,
    Evaluation,
    RankingHistogram,
    ScoreSums,
    brier_score,
    expected_calibration_error,
    log_loss,
)
from crossent.metrics._states import bin_ids, decisions

KINDS = ("binary", "two-column", "multiclass", "multilabel")
# sums of integer weights times 0/1 indicators are integers, exact in any order
INTEGER_SUMS = ("weight", "correct_sum", "confusion", "counts", "correct_sums", "positives", "negatives")
RTOL = 1e-12


def make(kind: str, n: int, seed: int = 0, *, classes: int = 4, weights: str = "float",
         logits: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(y, p or logits, w) of a kind; "two-column" is binary as (N, 2) columns; integer weights in
    {0, 1, 2, 3} keep every count an integer."""
    rng = np.random.default_rng(seed)
    w = rng.uniform(0.1, 3.0, n) if weights == "float" else rng.integers(0, 4, n).astype(np.float64)
    if kind == "multilabel":
        z = rng.normal(scale=2.0, size=(n, classes))
        y = (rng.random((n, classes)) < sigmoid_array(z) ** 1.5).astype(np.int64)
        return y, z if logits else sigmoid_array(z), w
    width = classes if kind == "multiclass" else 2
    z = rng.normal(scale=2.0, size=(n, width))
    p = softmax_rows(z)
    y = (np.cumsum(p, axis=1) > rng.random((n, 1))).argmax(axis=1)
    if kind == "binary":
        return y, (z[:, 1] - z[:, 0]) if logits else p[:, 1], w
    return y, z if logits else p, w


def num_classes(kind: str, classes: int = 4) -> int:
    return classes if kind in ("multiclass", "multilabel") else 2


def states(kind: str, classes: int = 4, ranking_bins: int = 64) -> list[Callable[[], Any]]:
    """A fresh state of each type for a kind of target."""
    c, multilabel = num_classes(kind, classes), kind == "multilabel"
    return [lambda: ScoreSums(c, multilabel=multilabel),
            lambda: CalibrationBins(7, scope="classwise", num_classes=c, multilabel=multilabel),
            lambda: CalibrationBins(7, scope="top-label", num_classes=c, multilabel=multilabel),
            lambda: RankingHistogram(c, n_bins=ranking_bins, multilabel=multilabel),
            lambda: Evaluation(c, multilabel=multilabel, ranking_bins=ranking_bins)]


def sums(state: Any) -> dict[str, np.ndarray]:
    return {key: np.asarray(getattr(owner, name)) for owner, name, key in state._parts()}


def assert_same_state(actual: Any, expected: Any) -> None:
    """Equal sums: exactly where they are integer-valued (with integer weights), to rounding otherwise."""
    assert type(actual) is type(expected) and actual._options() == expected._options()
    a, b = sums(actual), sums(expected)
    assert a.keys() == b.keys()
    for key in a:
        assert a[key].shape == b[key].shape, key
        if key.rsplit(".", 1)[-1] in INTEGER_SUMS:
            assert np.array_equal(a[key], b[key]), key
        else:
            np.testing.assert_allclose(a[key], b[key], rtol=RTOL, atol=1e-12, err_msg=key)


def filled(make_state: Callable[[], Any], y: np.ndarray, p: np.ndarray, w: np.ndarray, **options: Any) -> Any:
    state = make_state()
    state.update(y, p, sample_weight=w, **options)
    return state


# ---------------------------------------------------------------------------------------------
# merging: partitions and tree shapes


def fold_left(parts: list[Any]) -> Any:
    out = parts[0]
    for part in parts[1:]:
        out = out + part
    return out


def fold_right(parts: list[Any]) -> Any:
    out = parts[-1]
    for part in reversed(parts[:-1]):
        out = part.merge(out)
    return out


def balanced(parts: list[Any]) -> Any:
    if len(parts) == 1:
        return parts[0]
    half = len(parts) // 2
    return balanced(parts[:half]) + balanced(parts[half:])


@settings(max_examples=30, deadline=None)
@given(kind=st.sampled_from(KINDS), n=st.integers(1, 60), data=st.data())
def test_partitions_merge_to_the_state_of_the_concatenation(kind: str, n: int, data: st.DataObject) -> None:
    from_logits = data.draw(st.booleans())
    y, p, w = make(kind, n, seed=data.draw(st.integers(0, 2**16)), weights="integer", logits=from_logits)
    if data.draw(st.booleans()) and kind != "multilabel":  # sorted by label: most parts miss classes
        order = np.argsort(y, kind="stable")
        y, p, w = y[order], p[order], w[order]
    cuts = sorted(data.draw(st.lists(st.integers(0, n), min_size=1, max_size=8)))  # repeated cuts: empty parts
    bounds = list(zip([0, *cuts], [*cuts, n], strict=True))
    shuffle = data.draw(st.randoms(use_true_random=False))
    for make_state in states(kind, ranking_bins=data.draw(st.sampled_from([3, 64]))):
        whole = filled(make_state, y, p, w, from_logits=from_logits)
        parts = [filled(make_state, y[a:b], p[a:b], w[a:b], from_logits=from_logits) for a, b in bounds]
        streamed = make_state()
        for a, b in bounds:
            streamed.update(y[a:b], p[a:b], sample_weight=w[a:b], from_logits=from_logits)
        mixed = [*parts, make_state()]  # the identity, anywhere
        shuffle.shuffle(mixed)
        for merged in (fold_left(parts), fold_right(parts), balanced(parts), fold_left(mixed), streamed):
            assert_same_state(merged, whole)


@pytest.mark.parametrize("kind", KINDS)
def test_merge_is_pure_commutative_and_has_an_identity(kind: str) -> None:
    y, p, w = make(kind, 50, weights="integer")
    for make_state in states(kind):
        a, b = filled(make_state, y[:20], p[:20], w[:20]), filled(make_state, y[20:], p[20:], w[20:])
        before = pickle.dumps(a)
        assert_same_state(a + b, b + a)
        assert pickle.dumps(a) == before  # merge changes neither
        assert_same_state(a + make_state(), a)
        assert_same_state(make_state() + a, a)
        empty = make_state()
        empty.update(y[:0], p[:0], sample_weight=w[:0])  # an empty partition adds nothing
        empty.update(y[:5], p[:5], sample_weight=np.zeros(5))  # nor does one of zero weights
        assert_same_state(empty, make_state())


# ---------------------------------------------------------------------------------------------
# the metrics: equal to the all-at-once ones


def predicted(kind: str, p: np.ndarray) -> np.ndarray:
    """crossent eval's default rule, written out: argmax; two classes P(1) >= 0.5; labels p >= 0.5."""
    if kind in ("binary", "multilabel"):
        return (p >= 0.5).astype(np.int64)
    if kind == "two-column":
        return (p[:, 1] >= 0.5).astype(np.int64)
    return p.argmax(axis=1)


@pytest.mark.parametrize("kind", KINDS)
def test_score_sums_equal_crossent_and_scikit_learn(kind: str) -> None:
    from sklearn.metrics import accuracy_score, confusion_matrix, multilabel_confusion_matrix

    y, p, w = make(kind, 300, seed=1)
    state = ScoreSums(num_classes(kind), multilabel=kind == "multilabel")
    for index in np.array_split(np.arange(300), 7):
        state.update(y[index], p[index], sample_weight=w[index])
    np.testing.assert_allclose(state.log_loss(), log_loss(y, p, sample_weight=w), rtol=RTOL)
    np.testing.assert_allclose(state.log_loss(base=2), log_loss(y, p, sample_weight=w, base=2), rtol=RTOL)
    np.testing.assert_allclose(state.brier_score(), brier_score(y, p, sample_weight=w), rtol=RTOL)
    guess = predicted(kind, p)
    np.testing.assert_allclose(state.accuracy(), accuracy_score(y, guess, sample_weight=w), rtol=RTOL)
    expected = (multilabel_confusion_matrix(y, guess, sample_weight=w) if kind == "multilabel" else
                confusion_matrix(y, guess, labels=np.arange(num_classes(kind)), sample_weight=w))
    np.testing.assert_allclose(state.confusion_matrix(), expected, rtol=RTOL)


@pytest.mark.parametrize("kind", KINDS)
def test_score_sums_from_logits_use_log_softmax(kind: str) -> None:
    import crossent

    y, z, w = make(kind, 120, seed=2, logits=True)
    z = z * 40  # probabilities round to 0 and 1 here; the logits' log loss stays finite and exact
    state = ScoreSums(num_classes(kind), multilabel=kind == "multilabel")
    state.update(y, z, sample_weight=w, from_logits=True)
    if z.ndim == 2 and kind != "multilabel":
        expected = crossent.cross_entropy(z, y, sample_weight=w)
    else:
        weight = w if z.ndim == 1 else np.broadcast_to(w[:, None], z.shape)
        expected = crossent.binary_cross_entropy(z, y.astype(np.float64), sample_weight=weight)
    assert np.isfinite(state.log_loss())
    np.testing.assert_allclose(state.log_loss(), float(expected), rtol=RTOL)


def test_a_true_class_at_probability_zero_costs_inf_and_survives_json() -> None:
    state = ScoreSums(3)
    state.update([0, 2], [[0.5, 0.5, 0.0], [0.2, 0.3, 0.5]])
    state.update([2], [[0.5, 0.5, 0.0]])
    assert state.log_loss() == log_loss([0, 2, 2], [[0.5, 0.5, 0.0], [0.2, 0.3, 0.5], [0.5, 0.5, 0.0]]) == np.inf
    text = json.dumps(state.to_dict(), allow_nan=False)
    assert ScoreSums.from_dict(json.loads(text)).log_loss() == np.inf


def certainly_wrong(kind: str, y: np.ndarray, classes: int = 4) -> np.ndarray:
    """Probabilities that give every sample's true class (label) probability 0."""
    if kind in ("binary", "multilabel"):
        return (1 - y).astype(np.float64)
    width = classes if kind == "multiclass" else 2
    return (np.arange(width) == ((y + 1) % width)[:, None]).astype(np.float64)


@pytest.mark.parametrize("kind", KINDS)
def test_a_sample_of_weight_zero_adds_nothing_even_at_probability_zero(kind: str) -> None:
    y, p, w = make(kind, 60, seed=3, weights="integer")  # about a quarter weigh 0
    zero = w == 0
    p = np.where(zero.reshape((-1,) + (1,) * (p.ndim - 1)), certainly_wrong(kind, y), p)
    for make_state in states(kind):
        assert_same_state(filled(make_state, y, p, w), filled(make_state, y[~zero], p[~zero], w[~zero]))
    state = filled(states(kind)[0], y, p, w)
    assert np.isfinite(state.log_loss())
    np.testing.assert_allclose(state.log_loss(), log_loss(y, p, sample_weight=w), rtol=RTOL)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("scope", ["top-label", "classwise"])
def test_calibration_bins_with_classes_given_equal_the_ece(kind: str, scope: str) -> None:
    y, p, w = make(kind, 250, seed=3)
    bins = CalibrationBins(9, scope=scope, num_classes=num_classes(kind), multilabel=kind == "multilabel")
    for index in np.array_split(np.arange(250), 4):
        bins.update(y[index], p[index], sample_weight=w[index])
    form = p[:, 1] if kind == "two-column" else p  # two classes given up front: one binary problem
    for norm in ("l1", "l2", "max"):
        expected = expected_calibration_error(y, form, n_bins=9, scope=scope, norm=norm, sample_weight=w)
        np.testing.assert_allclose(bins.ece(norm=norm), expected, rtol=RTOL)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("n_bins", [1, 7, 1000])
def test_binned_ranking_is_scikit_learns_on_the_bin_index(kind: str, n_bins: int) -> None:
    from sklearn.metrics import average_precision_score, roc_auc_score

    y, p, w = make(kind, 400, seed=4)
    p = np.round(p, 3)  # values on bin edges too (k / 1000)
    if kind == "multiclass":
        p = p / p.sum(axis=1, keepdims=True)
    histogram = RankingHistogram(num_classes(kind), n_bins=n_bins, multilabel=kind == "multilabel")
    for index in np.array_split(np.arange(400), 3):
        histogram.update(y[index], p[index], sample_weight=w[index])
    if kind in ("binary", "two-column"):
        columns = [((y == 1), p if p.ndim == 1 else p[:, 1])]
    elif kind == "multiclass":
        columns = [(y == c, p[:, c]) for c in range(p.shape[1])]
    else:
        columns = [(y[:, c] == 1, p[:, c]) for c in range(p.shape[1])]
    # the documented bins, written out: e_b < v <= e_{b+1} for the edges np.linspace(0, 1, B + 1), v = 0 in bin 0
    inner = np.linspace(0, 1, n_bins + 1)[1:-1]
    index = [np.sum(v[:, None] > inner, axis=1) for _, v in columns]
    assert all(np.array_equal(i, bin_ids(v, n_bins)) for i, (_, v) in zip(index, columns, strict=True))
    auc = [roc_auc_score(t, i, sample_weight=w) for (t, _), i in zip(columns, index, strict=True)]
    ap = [average_precision_score(t, i, sample_weight=w) for (t, _), i in zip(columns, index, strict=True)]
    np.testing.assert_allclose(histogram.roc_auc(), np.mean(auc), rtol=RTOL)
    np.testing.assert_allclose(histogram.average_precision(), np.mean(ap), rtol=RTOL)
    # the bound holds against the exact AUC of the raw scores, column by column and on average
    exact = [roc_auc_score(t, v, sample_weight=w) for t, v in columns]
    for k, (auc_k, exact_k) in enumerate(zip(auc, exact, strict=True)):
        one = RankingHistogram(2, n_bins=n_bins)
        one.update(columns[k][0].astype(np.int64), columns[k][1], sample_weight=w)
        assert abs(auc_k - exact_k) <= one.auc_bound() + 1e-15
    assert abs(histogram.roc_auc() - np.mean(exact)) <= histogram.auc_bound() + 1e-15
    if n_bins == 1:  # one bin: every pair tied, AUC ½, bound ½
        assert histogram.roc_auc() == pytest.approx(0.5) and histogram.auc_bound() == pytest.approx(0.5)


def test_ranking_leaves_out_columns_without_both_outcomes() -> None:
    from crossent.selection._score import ranking_scores

    y = np.array([0, 0, 1, 1, 0, 1])  # class 2 never occurs
    p = softmax_rows(np.random.default_rng(5).normal(size=(6, 3)))
    histogram = RankingHistogram(3, n_bins=50)
    histogram.update(y, p)
    expected = ranking_scores(y, bin_ids(p, 50), multilabel=False)
    assert histogram.roc_auc() == pytest.approx(expected["roc_auc"], rel=RTOL)
    assert histogram.average_precision() == pytest.approx(expected["average_precision"], rel=RTOL)
    one_class = RankingHistogram(2)
    one_class.update([0, 0], [0.3, 0.6])
    assert np.isnan(one_class.roc_auc()) and np.isnan(one_class.auc_bound())


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("from_logits", [False, True])
def test_evaluation_gives_crossent_evals_metrics(kind: str, from_logits: bool) -> None:
    from crossent.selection._score import ranking_scores, score_predictions

    y, x, _ = make(kind, 500, seed=6, logits=from_logits)
    evaluation = Evaluation(num_classes(kind), multilabel=kind == "multilabel", ranking_bins=200)
    for index in np.array_split(np.arange(500), 6):
        evaluation.update(y[index], x[index], from_logits=from_logits)
    got = evaluation.metrics()
    expected = score_predictions(y, x, from_logits=from_logits)
    assert list(got) == list(expected)
    ranking = ("roc_auc", "average_precision")
    for key in expected:
        if key not in ranking:
            np.testing.assert_allclose(got[key], expected[key], rtol=1e-10, err_msg=key)
    # the ranking metrics are the binned ones: exact on the bin indices of the probabilities
    p = evaluation_probabilities(kind, x, from_logits)
    binned = ranking_scores(y, bin_ids(p, 200), multilabel=kind == "multilabel")
    for key in ranking:
        np.testing.assert_allclose(got[key], binned[key], rtol=RTOL, err_msg=key)
    assert abs(got["roc_auc"] - expected["roc_auc"]) <= evaluation.auc_bound()


@pytest.mark.parametrize("kind", KINDS)
def test_decisions_of_each_class_are_scikit_learns_and_none_is_the_rarest_by_weight(kind: str) -> None:
    from sklearn.metrics import f1_score, precision_score, recall_score

    y, p, w = make(kind, 300, seed=8)
    c, multilabel = num_classes(kind), kind == "multilabel"
    state = ScoreSums(c, multilabel=multilabel)
    state.update(y, p, sample_weight=w)
    guess = predicted(kind, p)
    for m in range(c):
        got = decisions(state.confusion, multilabel=multilabel, minority=m)
        truth, chosen = (y[:, m], guess[:, m]) if multilabel else (y == m, guess == m)  # class m against the rest
        np.testing.assert_allclose(got["precision"], precision_score(truth, chosen, sample_weight=w), rtol=RTOL)
        np.testing.assert_allclose(got["recall"], recall_score(truth, chosen, sample_weight=w), rtol=RTOL)
        if c == 2 and not multilabel:  # the F1 of the class itself; macro-F1 for more
            np.testing.assert_allclose(got["f1"], f1_score(truth, chosen, sample_weight=w), rtol=RTOL)
    weights = np.sum(w[:, None] * (y if multilabel else y[:, None] == np.arange(c)), axis=0)
    assert decisions(state.confusion, multilabel=multilabel) == decisions(
        state.confusion, multilabel=multilabel, minority=int(np.argmin(weights)))
    for bad in (-1, c):  # (a negative index wrapped to the last class)
        with pytest.raises(ValueError, match=f"minority must be a class index in \\[0, {c}\\), got {bad}"):
            decisions(state.confusion, multilabel=multilabel, minority=bad)


def evaluation_probabilities(kind: str, x: np.ndarray, from_logits: bool) -> np.ndarray:
    """The probabilities Evaluation bins: P(class 1) for two classes."""
    p = x if not from_logits else softmax_rows(x) if kind in ("multiclass", "two-column") else sigmoid_array(x)
    return p[:, 1] if kind == "two-column" else p


# ---------------------------------------------------------------------------------------------
# serialization


@pytest.mark.parametrize("kind", KINDS)
def test_round_trips_through_json_and_pickle(kind: str) -> None:
    y, p, w = make(kind, 80, seed=7)
    for make_state in states(kind):
        state = filled(make_state, y, p, w)
        text = json.dumps(state.to_dict(), allow_nan=False)  # strict JSON
        again = type(state).from_dict(json.loads(text))
        assert_same_state(again, state)
        assert again.to_dict() == state.to_dict()
        assert_same_state(pickle.loads(pickle.dumps(state)), state)
        assert_same_state(type(state).from_dict(make_state().to_dict()), make_state())


def test_calibration_bins_without_classes_keep_their_layout_through_to_dict() -> None:
    y, p, _ = make("multiclass", 60, seed=8)
    bins = CalibrationBins(6, scope="classwise")  # the layout from the first update
    bins.update(y, p)
    again = CalibrationBins.from_dict(json.loads(json.dumps(bins.to_dict())))
    assert again.kind == "multiclass" and again.counts.shape == (4, 6)
    assert again.ece() == bins.ece()
    with pytest.raises(ValueError, match="num_classes="):
        bins.all_reduce()  # every rank must know the layout up front


# ---------------------------------------------------------------------------------------------
# errors


def test_labels_and_shapes_outside_the_classes_are_errors_naming_them() -> None:
    with pytest.raises(ValueError, match="label 4"):
        ScoreSums(4).update([0, 4], softmax_rows(np.zeros((2, 5)))[:, :4] * 5 / 4)
    with pytest.raises(ValueError, match="holds 4 classes, got y_prob with 3 columns"):
        Evaluation(4).update([0, 1], softmax_rows(np.zeros((2, 3))))
    with pytest.raises(ValueError, match="holds 3 classes, got y_prob of shape"):
        RankingHistogram(3).update([0, 1], [0.2, 0.4])
    with pytest.raises(ValueError, match="multilabel=True"):
        ScoreSums(2).update([[0, 1]], [[0.2, 0.4]])
    with pytest.raises(ValueError, match="holds 3 label"):
        ScoreSums(3, multilabel=True).update([0, 1], [0.2, 0.4])
    with pytest.raises(ValueError, match="holds 3 classes, got y_prob with 2 columns"):
        ScoreSums(3).update(np.zeros(0, dtype=int), np.zeros((0, 2)))  # an empty batch is checked too
    with pytest.raises(ValueError, match="num_classes must be at least 2"):
        Evaluation(1)
    with pytest.raises(ValueError, match="sample_weight must be non-negative"):
        ScoreSums(2).update([0, 1], [0.2, 0.4], sample_weight=[1.0, -1.0])
    with pytest.raises(ValueError, match="holds no weight"):
        ScoreSums(2).log_loss()
    with pytest.raises(ValueError, match="holds no samples"):
        RankingHistogram(2).roc_auc()


def test_merging_different_states_is_an_error() -> None:
    with pytest.raises(ValueError, match="cannot merge ScoreSums"):
        ScoreSums(3) + ScoreSums(4)
    with pytest.raises(ValueError, match="n_bins=10"):
        RankingHistogram(2, n_bins=10) + RankingHistogram(2, n_bins=20)
    with pytest.raises(TypeError, match="can only merge Evaluation"):
        Evaluation(2).merge(ScoreSums(2))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="cannot merge CalibrationBins"):
        CalibrationBins(num_classes=3) + CalibrationBins(num_classes=4)
    with pytest.raises(ValueError, match="not the data of a ScoreSums"):
        ScoreSums.from_dict(RankingHistogram(2).to_dict())
    data = ScoreSums(3).to_dict()
    data["sums"]["confusion"]["values"] = data["sums"]["confusion"]["values"][:-1]
    with pytest.raises(ValueError, match="'confusion' have shape"):
        ScoreSums.from_dict(data)


# ---------------------------------------------------------------------------------------------
# torch.distributed: one all_reduce


def _all_reduce_worker(rank: int, world_size: int, parts: list[tuple[Any, ...]]) -> list[Any]:
    """Each rank updates its part of the data, then all_reduces every kind of state; dist.all_reduce
    is wrapped to count the collectives and see their buffers."""
    import torch.distributed as dist

    calls: list[tuple[str, int]] = []
    original = dist.all_reduce

    def counted(tensor: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append((str(tensor.dtype), int(tensor.numel())))
        return original(tensor, *args, **kwargs)

    dist.all_reduce = counted
    try:
        out = []
        kind, y, p, w = parts[rank]
        for make_state in states(kind):
            state = filled(make_state, y, p, w)
            calls.clear()
            assert state.all_reduce() is state
            out.append((state.to_dict(), list(calls)))
        return out
    finally:
        dist.all_reduce = original


@pytest.mark.parametrize("kind", ["multiclass", "binary"])
def test_all_reduce_on_two_ranks_gives_the_single_process_state(kind: str) -> None:
    y, p, w = make(kind, 90, seed=9, weights="integer")
    if kind == "multiclass":  # rank 1 holds no sample of class 0
        order = np.argsort(y == 0, kind="stable")[::-1]
        y, p, w = y[order], p[order], w[order]
        split = int(np.sum(y == 0))
    else:  # rank 1 holds nothing at all
        split = 90
    parts = [(kind, y[:split], p[:split], w[:split]), (kind, y[split:], p[split:], w[split:])]
    results = distributed.run(2, _all_reduce_worker, parts)
    for rank in range(2):
        for make_state, (data, calls) in zip(states(kind), results[rank], strict=True):
            whole = filled(make_state, y, p, w)
            assert_same_state(type(whole).from_dict(data), whole)
            size = sum(array.size for array in sums(whole).values())
            assert calls == [("torch.float64", size)]  # one SUM over one flat float64 buffer
