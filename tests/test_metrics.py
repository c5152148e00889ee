"""crossent.metrics: log loss, Brier score, ECE, reliability curves, temperature scaling.

- log loss, Brier score and binary reliability curves against scikit-learn;
- ECE against ``reference_ece`` below, float64 loops written from the definition, for every
  strategy, scope, norm and target kind, with and without sample weights;
- CalibrationBins: chunked updates and merged shards equal the all-at-once metric;
- temperature scaling recovers the temperature the labels were drawn with;
- invalid input raises errors that name the argument.
"""

from __future__ import annotations

import math
import subprocess
import sys
import warnings
from typing import Any

import numpy as np
import pytest

from conftest import assert_close, sigmoid_array, softmax_rows
from crossent.metrics import (
    CalibrationBins,
    apply_temperature,
    brier_score,
    ece_name,
    expected_calibration_error,
    fit_temperature,
    log_loss,
    parse_ece_name,
    reliability_curve,
)

sklearn_metrics = pytest.importorskip("sklearn.metrics")
sklearn_calibration = pytest.importorskip("sklearn.calibration")

# N - 1 = 202 is not a multiple of 5 or 7: no quantile edge (at position q (N - 1) in the sorted
# values, q = b / n_bins) falls exactly on a sample, so the bin of every sample is unambiguous.
N = 203
N_BINS = (5, 7)
KINDS = ("binary", "multiclass", "multilabel")


def make_data(kind: str, seed: int = 0, n: int = N, c: int = 4) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(y_true, y_prob, sample_weight): probabilities away from 0 and 1, labels partly agreeing."""
    rng = np.random.default_rng(seed)
    w = rng.uniform(0.1, 3.0, size=n)
    if kind == "binary":
        p = sigmoid_array(rng.normal(scale=2.0, size=n))
        return (rng.random(n) < p ** 1.5).astype(np.int64), p, w
    if kind == "multiclass":
        p = softmax_rows(rng.normal(scale=2.0, size=(n, c)))
        return (np.cumsum(p, axis=1) > rng.random((n, 1))).argmax(axis=1), p, w
    p = sigmoid_array(rng.normal(scale=2.0, size=(n, c)))
    return (rng.random((n, c)) < p**1.5).astype(np.int64), p, w


# ---------------------------------------------------------------------------------------------
# float64 reference, loops, from the definitions (module docstring of crossent.metrics._calibration)


def reference_forecasts(y: np.ndarray, p: np.ndarray, scope: str) -> list[tuple[list[float], list[float]]]:
    """One (values, outcomes) pair per row: a single row for top-label, one per class otherwise."""
    n = p.shape[0]
    if scope == "top-label":
        values, outcomes = [], []
        for i in range(n):
            probs = [1 - p[i], p[i]] if p.ndim == 1 else list(p[i])
            best = 0
            for c in range(1, len(probs)):
                if probs[c] > probs[best]:
                    best = c
            values.append(float(probs[best]))
            outcomes.append(1.0 if best == y[i] else 0.0)
        return [(values, outcomes)]
    if p.ndim == 1:
        return [([float(p[i]) for i in range(n)], [float(y[i] == 1) for i in range(n)])]
    return [([float(p[i, c]) for i in range(n)], [float(y[i] == c) for i in range(n)]) for c in range(p.shape[1])]


def reference_edges(values: list[float], n_bins: int, strategy: str) -> list[float]:
    if strategy == "uniform":
        return [b / n_bins for b in range(n_bins + 1)]
    ordered = sorted(values)
    edges = []
    for b in range(n_bins + 1):
        position = b / n_bins * (len(ordered) - 1)  # linear interpolation between order statistics
        low = math.floor(position)
        high = min(low + 1, len(ordered) - 1)
        edges.append(ordered[low] + (position - low) * (ordered[high] - ordered[low]))
    return edges


def reference_bin(value: float, edges: list[float]) -> int:
    """Bin b holds edges[b] < value <= edges[b + 1]; the first bin also holds value <= edges[0]."""
    b = 0
    while b < len(edges) - 2 and value > edges[b + 1]:
        b += 1
    return b


def reference_ece(y: np.ndarray, p: np.ndarray, w: np.ndarray, n_bins: int, strategy: str, scope: str,
                  norm: str) -> float:
    if y.ndim == 2:  # multi-label: L binary problems, averaged
        return sum(reference_ece(y[:, j], p[:, j], w, n_bins, strategy, scope, norm)
                   for j in range(p.shape[1])) / p.shape[1]
    errors = []
    for values, outcomes in reference_forecasts(y, p, scope):
        edges = reference_edges(values, n_bins, strategy)
        count, confidence, correct = [0.0] * n_bins, [0.0] * n_bins, [0.0] * n_bins
        for v, o, weight in zip(values, outcomes, w, strict=True):
            b = reference_bin(v, edges)
            count[b] += weight
            confidence[b] += weight * v
            correct[b] += weight * o
        total = sum(count)
        gaps = [(count[b], abs(correct[b] / count[b] - confidence[b] / count[b]))
                for b in range(n_bins) if count[b] > 0]
        if norm == "l1":
            errors.append(sum(n_b / total * gap for n_b, gap in gaps))
        elif norm == "l2":
            errors.append(math.sqrt(sum(n_b / total * gap**2 for n_b, gap in gaps)))
        else:
            errors.append(max(gap for _, gap in gaps))
    return sum(errors) / len(errors)


# ---------------------------------------------------------------------------------------------
# log loss


@pytest.mark.parametrize("kind", ["binary", "multiclass"])
@pytest.mark.parametrize("weighted", [False, True])
def test_log_loss_matches_sklearn(kind: str, weighted: bool) -> None:
    y, p, w = make_data(kind)
    s = w if weighted else None
    labels = None if kind == "binary" else np.arange(p.shape[1])
    expected = sklearn_metrics.log_loss(y, p, sample_weight=s, labels=labels)
    assert_close(log_loss(y, p, sample_weight=s), expected)
    assert_close(log_loss(y, p, sample_weight=s, base=2), expected / math.log(2))


def test_log_loss_multilabel_is_the_mean_over_elements() -> None:
    y, p, w = make_data("multilabel")
    expected = sklearn_metrics.log_loss(y.ravel(), p.ravel(), sample_weight=np.repeat(w, p.shape[1]))
    assert_close(log_loss(y, p, sample_weight=w), expected)


def test_log_loss_binary_equals_two_columns() -> None:
    y, p, w = make_data("binary")
    assert_close(log_loss(y, p, sample_weight=w), log_loss(y, np.stack([1 - p, p], axis=1), sample_weight=w))


def test_log_loss_does_not_clip() -> None:
    # scikit-learn clips to [eps, 1 - eps] and returns a finite loss; crossent's -log 0 is inf
    y, p = np.array([0, 1]), np.array([[0.0, 1.0], [0.5, 0.5]])
    assert np.isfinite(sklearn_metrics.log_loss(y, p))
    assert log_loss(y, p) == math.inf
    assert log_loss([1, 0], [0.0, 0.5]) == math.inf


# the first sample weighs 0 and gives its true class probability 0: −log 0 = inf, and 0 · inf is NaN
ZERO_WEIGHT_AT_PROBABILITY_ZERO = {
    "binary": ([1, 0], [0.0, 0.3]),
    "two-column": ([1, 0], [[1.0, 0.0], [0.7, 0.3]]),
    "multiclass": ([2, 0], [[0.5, 0.5, 0.0], [0.7, 0.2, 0.1]]),
    "multilabel": ([[1, 0], [0, 1]], [[0.0, 0.5], [0.2, 0.9]]),
}


@pytest.mark.parametrize("kind", list(ZERO_WEIGHT_AT_PROBABILITY_ZERO))
def test_log_loss_leaves_out_a_sample_of_weight_zero(kind: str) -> None:
    y, p = (np.array(a) for a in ZERO_WEIGHT_AT_PROBABILITY_ZERO[kind])
    w = np.array([0.0, 1.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no 0 · inf on the way
        value, bits = log_loss(y, p, sample_weight=w), log_loss(y, p, sample_weight=w, base=2)
    assert value == log_loss(y[1:], p[1:])  # the second sample alone
    assert_close(bits, value / math.log(2))
    # scikit-learn clips p = 0 to a finite loss, which the zero weight then cancels
    if kind == "multilabel":  # as test_log_loss_multilabel_is_the_mean_over_elements
        expected = sklearn_metrics.log_loss(y.ravel(), p.ravel(), sample_weight=np.repeat(w, p.shape[1]))
    else:
        labels = np.arange(p.shape[1]) if p.ndim == 2 else None
        expected = sklearn_metrics.log_loss(y, p, sample_weight=w, labels=labels)
    assert_close(value, expected)


def test_log_loss_accepts_array_likes_and_integer_valued_floats() -> None:
    assert log_loss([0.0, 1.0], [0.2, 0.7]) == log_loss(np.array([0, 1]), np.array([0.2, 0.7]))


# ---------------------------------------------------------------------------------------------
# Brier score


@pytest.mark.parametrize("weighted", [False, True])
def test_brier_binary_matches_sklearn(weighted: bool) -> None:
    y, p, w = make_data("binary")
    s = w if weighted else None
    expected = sklearn_metrics.brier_score_loss(y, p, sample_weight=s)
    assert_close(brier_score(y, p, sample_weight=s), expected)
    assert_close(brier_score(y, p, sample_weight=s), np.average((p - y) ** 2, weights=s))
    # two columns are the same binary problem (scikit-learn's default scale_by_half="auto" too)
    two = np.stack([1 - p, p], axis=1)
    assert_close(brier_score(y, two, sample_weight=s), expected)
    assert_close(sklearn_metrics.brier_score_loss(y, two, sample_weight=s, labels=[0, 1]), expected)


@pytest.mark.parametrize("weighted", [False, True])
def test_brier_multiclass_is_brier_1950_and_sklearn_unscaled(weighted: bool) -> None:
    y, p, w = make_data("multiclass")
    s = w if weighted else None
    onehot = np.eye(p.shape[1])[y]
    expected = np.average(np.sum((p - onehot) ** 2, axis=1), weights=s)
    assert_close(brier_score(y, p, sample_weight=s), expected)
    # scikit-learn >= 1.7 scores multiclass without the 1/2 (scale_by_half="auto"), in [0, 2]
    labels = np.arange(p.shape[1])
    assert_close(brier_score(y, p, sample_weight=s),
                 sklearn_metrics.brier_score_loss(y, p, sample_weight=s, labels=labels))
    assert_close(brier_score(y, p, sample_weight=s),
                 sklearn_metrics.brier_score_loss(y, p, sample_weight=s, labels=labels, scale_by_half=False))


def test_brier_multilabel_is_the_mean_over_elements() -> None:
    y, p, w = make_data("multilabel")
    expected = sklearn_metrics.brier_score_loss(y.ravel(), p.ravel(), sample_weight=np.repeat(w, p.shape[1]))
    assert_close(brier_score(y, p, sample_weight=w), expected)


# ---------------------------------------------------------------------------------------------
# expected calibration error


def _cases() -> list[tuple[str, str]]:
    return [(kind, scope) for kind in KINDS for scope in ("top-label", "classwise")]


@pytest.mark.parametrize(("kind", "scope"), _cases())
@pytest.mark.parametrize("strategy", ["uniform", "quantile"])
@pytest.mark.parametrize("norm", ["l1", "l2", "max"])
@pytest.mark.parametrize("n_bins", N_BINS)
def test_ece_matches_the_reference(kind: str, scope: str, strategy: str, norm: str, n_bins: int) -> None:
    y, p, w = make_data(kind, seed=n_bins)
    for s in (None, w):
        expected = reference_ece(y, p, np.ones(N) if s is None else s, n_bins, strategy, scope, norm)
        actual = expected_calibration_error(y, p, n_bins=n_bins, strategy=strategy, scope=scope, norm=norm,
                                            sample_weight=s)
        assert isinstance(actual, float)
        assert_close(actual, expected)


def test_ece_defaults_and_bounds() -> None:
    y, p, _ = make_data("multiclass")
    assert expected_calibration_error(y, p) == expected_calibration_error(
        y, p, n_bins=15, strategy="uniform", scope="top-label", norm="l1")
    for norm in ("l1", "l2", "max"):
        assert 0 <= expected_calibration_error(y, p, norm=norm) <= 1
    # l1 <= l2 <= max (means of |gap|, of gap², and the largest gap)
    l1, l2, mx = (expected_calibration_error(y, p, norm=norm) for norm in ("l1", "l2", "max"))
    assert l1 <= l2 <= mx


def test_ece_of_a_perfectly_calibrated_forecast_is_zero() -> None:
    # in each bin the confidence equals the accuracy: 0.75 confident, right 3 times out of 4
    y = np.array([0, 0, 0, 1, 1, 1, 1, 0])
    p = np.array([0.25, 0.25, 0.25, 0.25, 0.75, 0.75, 0.75, 0.75])
    for scope in ("top-label", "classwise"):
        for norm in ("l1", "l2", "max"):
            assert expected_calibration_error(y, p, scope=scope, norm=norm) == 0.0


def test_ece_binary_top_label_is_the_two_column_top_label() -> None:
    y, p, w = make_data("binary")
    two = np.stack([1 - p, p], axis=1)
    for strategy in ("uniform", "quantile"):
        assert_close(expected_calibration_error(y, p, strategy=strategy, sample_weight=w),
                     expected_calibration_error(y, two, strategy=strategy, sample_weight=w))


def test_uniform_bins_are_right_closed_with_zero_in_the_first() -> None:
    # forecasts exactly on the edges 0, 0.5, 1 with two bins: 0 and 0.5 in bin 0, 1 in bin 1
    mean, fraction, counts = reliability_curve([0, 1, 1], [0.0, 0.5, 1.0], n_bins=2, scope="classwise")
    assert mean.tolist() == [0.25, 1.0]
    assert fraction.tolist() == [0.5, 1.0]
    assert counts.tolist() == [2.0, 1.0]


def test_binary_top_label_tie_predicts_class_0() -> None:
    # p = 0.5 is (0.5, 0.5): argmax picks class 0, so the forecast is right when y = 0
    assert reliability_curve([0], [0.5])[1].tolist() == [1.0]
    assert reliability_curve([1], [0.5])[1].tolist() == [0.0]
    assert reliability_curve([[0, 1]], [[0.5, 0.5]])[1].tolist() == [0.5]


def test_ece_is_the_weighted_gap_of_the_reliability_curve() -> None:
    y, p, w = make_data("multiclass")
    for strategy in ("uniform", "quantile"):
        mean, fraction, counts = reliability_curve(y, p, n_bins=10, strategy=strategy, sample_weight=w)
        expected = np.sum(counts / counts.sum() * np.abs(fraction - mean))
        assert_close(expected_calibration_error(y, p, n_bins=10, strategy=strategy, sample_weight=w), expected)
        assert_close(counts.sum(), w.sum())


def test_ece_name() -> None:
    assert ece_name() == "ece[15,uniform,top-label,l1]"
    assert ece_name(10, "quantile", "classwise", "l2") == "ece[10,quantile,classwise,l2]"
    assert CalibrationBins(20, scope="classwise").name(norm="max") == "ece[20,uniform,classwise,max]"


# ---------------------------------------------------------------------------------------------
# reliability curve


@pytest.mark.parametrize("strategy", ["uniform", "quantile"])
@pytest.mark.parametrize("n_bins", [5, 10])
@pytest.mark.parametrize("rounded", [False, True])
def test_reliability_curve_matches_sklearn(strategy: str, n_bins: int, rounded: bool) -> None:
    y, p, _ = make_data("binary", seed=n_bins)
    if rounded:  # many forecasts exactly on uniform edges (multiples of 0.1), and repeated values
        p = np.round(p, 1)
    prob_true, prob_pred = sklearn_calibration.calibration_curve(y, p, n_bins=n_bins, strategy=strategy)
    mean, fraction, counts = reliability_curve(y, p, n_bins=n_bins, strategy=strategy, scope="classwise")
    assert mean.shape == prob_pred.shape
    assert_close(mean, prob_pred)
    assert_close(fraction, prob_true)
    assert counts.sum() == len(y)
    assert np.all(counts > 0)


def test_reliability_curve_classwise_pools_the_classes() -> None:
    y, p, w = make_data("multiclass")
    mean, fraction, counts = reliability_curve(y, p, scope="classwise", sample_weight=w)
    pooled = reliability_curve((y[:, None] == np.arange(p.shape[1])).astype(int).ravel(), p.ravel(),
                               scope="classwise", sample_weight=np.repeat(w, p.shape[1]))
    for a, b in zip((mean, fraction, counts), pooled, strict=True):
        assert_close(a, b)


# ---------------------------------------------------------------------------------------------
# CalibrationBins: mergeable state


@pytest.mark.parametrize(("kind", "scope"), _cases())
def test_calibration_bins_chunked_and_merged_equal_all_at_once(kind: str, scope: str) -> None:
    y, p, w = make_data(kind)
    chunks = np.array_split(np.arange(N), 5)
    streamed = CalibrationBins(12, scope=scope)
    shards = []
    for index in chunks:
        streamed.update(y[index], p[index], sample_weight=w[index])
        shard = CalibrationBins(12, scope=scope)
        shard.update(y[index], p[index], sample_weight=w[index])
        shards.append(shard)
    merged = shards[0].merge(shards[1]) + shards[2] + (shards[3] + shards[4])
    for bins in (streamed, merged):
        for norm in ("l1", "l2", "max"):
            assert_close(bins.ece(norm=norm), expected_calibration_error(
                y, p, n_bins=12, scope=scope, norm=norm, sample_weight=w))
        for a, b in zip(bins.curve(), reliability_curve(y, p, n_bins=12, scope=scope, sample_weight=w),
                        strict=True):
            assert_close(a, b)
    assert_close(merged.counts, streamed.counts)
    assert_close(merged.correct_sums, streamed.correct_sums)
    assert_close(merged.confidence_sums, streamed.confidence_sums)


def test_calibration_bins_merge_is_pure_and_accepts_empty() -> None:
    y, p, _ = make_data("multiclass")
    a, b = CalibrationBins(), CalibrationBins()
    a.update(y[:100], p[:100])
    before = a.counts.copy()
    b.update(y[100:], p[100:])
    both = a + b
    assert np.array_equal(a.counts, before)
    assert both.counts.sum() == N
    assert np.array_equal((CalibrationBins() + a).counts, a.counts)
    assert np.array_equal((a + CalibrationBins()).counts, a.counts)


def test_calibration_bins_refuse_incompatible_data() -> None:
    y, p, _ = make_data("multiclass", c=4)
    bins = CalibrationBins(scope="classwise")
    bins.update(y, p)
    y3, p3, _ = make_data("multiclass", c=3)
    with pytest.raises(ValueError, match="multiclass with 3 row"):
        bins.update(y3, p3)
    other = CalibrationBins(scope="classwise")
    other.update(y3, p3)
    with pytest.raises(ValueError, match="multiclass with 3 row"):
        bins.merge(other)
    with pytest.raises(ValueError, match="n_bins=10"):
        bins.merge(CalibrationBins(10, scope="classwise"))
    with pytest.raises(TypeError, match="CalibrationBins"):
        bins.merge(1)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="hold no samples"):
        CalibrationBins().ece()
    with pytest.raises(ValueError, match="hold no samples"):
        CalibrationBins().curve()
    with pytest.raises(TypeError, match="strategy"):
        CalibrationBins(strategy="quantile")  # type: ignore[call-arg]


# ---------------------------------------------------------------------------------------------
# temperature scaling

# The fitted T is a maximum-likelihood estimate: over 20 seeds of these draws its standard
# deviation was 1.0% (multiclass), 1.4% (binary) and 1.7% (multi-label) of T, so a relative
# error of 8% is about 5 standard deviations or more.
TEMPERATURE_RTOL = 0.08


def draw_logits(kind: str, temperature: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Logits z, and labels drawn from softmax(z / T) or sigmoid(z / T)."""
    rng = np.random.default_rng(seed)
    if kind == "multiclass":
        z = rng.normal(scale=3.0, size=(20000, 5))
        p = softmax_rows(z / temperature)
        return z, (np.cumsum(p, axis=1) > rng.random((len(z), 1))).argmax(axis=1)
    z = rng.normal(scale=3.0, size=20000 if kind == "binary" else (5000, 4))
    return z, (rng.random(z.shape) < sigmoid_array(z / temperature)).astype(np.int64)


def _nll(kind: str, z: np.ndarray, y: np.ndarray, temperature: float) -> float:
    scaled = apply_temperature(z, temperature)
    return log_loss(y, softmax_rows(scaled) if kind == "multiclass" else sigmoid_array(scaled))


@pytest.mark.parametrize(("kind", "true_temperature"), [("multiclass", 2.5), ("binary", 0.5), ("multilabel", 3.0)])
def test_fit_temperature_recovers_the_temperature(kind: str, true_temperature: float) -> None:
    z, y = draw_logits(kind, true_temperature)
    fitted = fit_temperature(z, y)
    assert isinstance(fitted, float)
    assert abs(fitted / true_temperature - 1) < TEMPERATURE_RTOL
    best = _nll(kind, z, y, fitted)
    for other in (1.0, fitted * 1.1, fitted / 1.1, true_temperature):
        assert best <= _nll(kind, z, y, other)


def test_fit_temperature_sample_weight_equals_repeated_rows() -> None:
    z, y = draw_logits("multiclass", 1.7)
    z, y = z[:500], y[:500]
    counts = np.random.default_rng(1).integers(0, 4, size=len(y))
    repeated = fit_temperature(np.repeat(z, counts, axis=0), np.repeat(y, counts))
    # the minimum is flat: T is determined to about √eps, within rtol(float64) = 4√eps
    assert_close(fit_temperature(z, y, sample_weight=counts), repeated, atol=0)


def test_apply_temperature() -> None:
    z = np.array([[2.0, -1.0, 0.5], [0.0, 3.0, 1.0]])
    scaled = apply_temperature(z, 2.0)
    assert_close(scaled, z / 2)
    assert np.array_equal(scaled.argmax(axis=1), z.argmax(axis=1))
    torch = pytest.importorskip("torch")
    out = apply_temperature(torch.tensor(z), 4.0)
    assert isinstance(out, torch.Tensor)
    assert_close(out.numpy(), z / 4, dtype=np.float64)


@pytest.mark.parametrize("temperature", [0.0, -1.0, math.inf, math.nan])
def test_apply_temperature_rejects_invalid_temperatures(temperature: float) -> None:
    with pytest.raises(ValueError, match="temperature"):
        apply_temperature([1.0, 2.0], temperature)


def test_apply_temperature_rejects_non_numbers() -> None:
    with pytest.raises(TypeError, match="temperature"):
        apply_temperature([1.0, 2.0], "hot")  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------
# errors name the argument and the value

P3 = [[0.2, 0.3, 0.5], [0.6, 0.2, 0.2]]
BINARY = ([0, 1], [0.2, 0.3])
ERRORS: list[tuple[Any, tuple[Any, ...], dict[str, Any], type[Exception], str]] = [
    (log_loss, ([0, 1], [0.2, 1.2]), {}, ValueError, r"y_prob must lie in \[0, 1\], got a value of 1.2"),
    (log_loss, ([0, 1], [-0.1, 0.2]), {}, ValueError, r"y_prob must lie in \[0, 1\], got a value of -0.1"),
    (log_loss, ([0, 3], P3), {}, ValueError, r"y_true contains the label 3, outside \[0, 3\)"),
    (log_loss, ([0, 2], [0.2, 0.3]), {}, ValueError, r"y_true contains the label 2, outside \[0, 2\)"),
    (log_loss, ([0, -1], P3), {}, ValueError, "label -1"),
    (log_loss, ([0, 1, 2], P3), {}, ValueError, "y_true has 3 samples but y_prob has 2"),
    (log_loss, ([[0, 1]], P3), {}, ValueError, r"y_true of shape \(1, 2\) .* shape \(2, 3\)"),
    (log_loss, ([[0, 2, 1], [0, 0, 1]], P3), {}, ValueError, "0 and 1 only, got 2"),
    (log_loss, ([0, 0.5], [0.2, 0.3]), {}, ValueError, "integer class labels, got 0.5"),
    (log_loss, ([0, 1], [[0.2, 0.3], [0.5, 0.5]]), {}, ValueError, "y_prob rows must sum to 1"),
    (log_loss, ([0], [[[0.5]]]), {}, ValueError, r"y_prob must have shape .* got shape \(1, 1, 1\)"),
    (log_loss, ([], []), {}, ValueError, "y_prob is empty"),
    (log_loss, ([0, 1], [0.2, math.nan]), {}, ValueError, "y_prob contains NaN"),
    (log_loss, (["a", "b"], [0.2, 0.3]), {}, TypeError, "y_true must hold integer class labels"),
    (log_loss, BINARY, {"sample_weight": [1.0]}, ValueError, r"sample_weight .* shape \(2,\)"),
    (log_loss, BINARY, {"sample_weight": [1.0, -2.0]}, ValueError, "sample_weight must be non-negative"),
    (log_loss, BINARY, {"sample_weight": [0.0, 0.0]}, ValueError, "sample_weight sums to 0"),
    (log_loss, BINARY, {"base": 1}, ValueError, "base must be"),
    (brier_score, ([0, 3], P3), {}, ValueError, "label 3"),
    (brier_score, ([0, 1], [0.2, 1.5]), {}, ValueError, "y_prob must lie in"),
    (expected_calibration_error, BINARY, {"n_bins": 0}, ValueError, "n_bins must be a positive int, got 0$"),
    (expected_calibration_error, BINARY, {"n_bins": 2.5}, ValueError, "n_bins .* got 2.5"),
    (expected_calibration_error, BINARY, {"strategy": "equal"}, ValueError, "strategy must be .* 'equal'"),
    (expected_calibration_error, BINARY, {"scope": "all"}, ValueError, "scope must be .* 'all'"),
    (expected_calibration_error, BINARY, {"norm": "l3"}, ValueError, "norm must be .* 'l3'"),
    (reliability_curve, BINARY, {"strategy": "log"}, ValueError, "strategy must be .* 'log'"),
    (reliability_curve, ([0, 3], P3), {}, ValueError, "label 3"),
    (ece_name, (), {"norm": "L1"}, ValueError, "norm must be .* 'L1'"),
    (fit_temperature, ([1.0, math.inf], [0, 1]), {}, ValueError, "logits must be finite, got inf"),
    (fit_temperature, ([[1.0, 0.0]], [2]), {}, ValueError, r"label 2, outside \[0, 2\)"),
    (fit_temperature, ([1.0, 2.0], [0, 1, 1]), {}, ValueError, "y_true has 3 samples but logits has 2"),
]


@pytest.mark.parametrize(("function", "args", "kwargs", "error", "message"), ERRORS)
def test_errors_name_the_argument(function: Any, args: tuple[Any, ...], kwargs: dict[str, Any],
                                  error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        function(*args, **kwargs)


def test_importing_metrics_is_light() -> None:
    code = ("import sys, crossent.metrics; print([m for m in ('torch', 'jax', 'scipy', 'sklearn', 'matplotlib')"
            " if m in sys.modules])")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout.strip() == "[]"



# --- parse_ece_name: the inverse of ece_name ---

ECE_OPTIONS = [(n_bins, strategy, scope, norm) for n_bins in (1, 10, 15)
               for strategy in ("uniform", "quantile") for scope in ("top-label", "classwise")
               for norm in ("l1", "l2", "max")]


@pytest.mark.parametrize("options", ECE_OPTIONS)
def test_parse_ece_name_inverts_ece_name(options: tuple[Any, ...]) -> None:
    name = ece_name(*options)
    parsed = parse_ece_name(name)
    assert parsed == dict(zip(("n_bins", "strategy", "scope", "norm"), options, strict=True))
    assert ece_name(**parsed) == name


@pytest.mark.parametrize(("text", "expected"), [
    ("ece", ece_name()),
    ("ece[10]", "ece[10,uniform,top-label,l1]"),
    ("ece[10,quantile]", "ece[10,quantile,top-label,l1]"),
    ("ece[10, quantile, classwise]", "ece[10,quantile,classwise,l1]"),
    ("ece[15, uniform, top-label, max]", "ece[15,uniform,top-label,max]"),
])
def test_parse_ece_name_fills_in_the_defaults(text: str, expected: str) -> None:
    assert ece_name(**parse_ece_name(text)) == expected


@pytest.mark.parametrize("text", ["ecelent", "ece[", "ece[]", "ece[0]", "ece[-1]", "ece[1.5]", "ece[15,uniform,bogus]",
                                  "ece[15,uniform,top-label,l1,extra]", "ece[15,]", "ECE", " ece", "ece[15]x",
                                  "ece[15,classwise]"])
def test_parse_ece_name_rejects_anything_else(text: str) -> None:
    with pytest.raises(ValueError, match=r"cannot read .* as an ECE name.*expected 'ece' or 'ece\[n_bins,") as error:
        parse_ece_name(text)
    message = str(error.value)
    assert repr(text) in message and "\n" not in message


def test_parse_ece_name_wants_a_str() -> None:
    with pytest.raises(TypeError, match="an ECE name must be a str, got int"):
        parse_ece_name(15)  # type: ignore[arg-type]
