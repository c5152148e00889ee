"""Conformance with scikit-learn and SciPy.

- ``sklearn.metrics.log_loss`` (binary and multiclass, with ``sample_weight``): crossent's
  binary_cross_entropy / cross_entropy from probabilities. log_loss is a weighted average,
  Σ s·ℓ / Σ s, which is crossent's ``"mean"``; ``normalize=False`` is ``"sum"``. Recent
  scikit-learn clips probabilities to [eps, 1 - eps] with eps the dtype's machine epsilon; the
  probabilities here stay in [0.01, 0.99] (binary) or come from a softmax of bounded logits, so
  the clip does nothing.
- ``sklearn.utils.class_weight.compute_class_weight("balanced")``: crossent.class_weights.
- ``scipy.stats.entropy`` (one and two distributions, any base): crossent.entropy,
  kl_divergence.
- ``scipy.special`` softmax, log_softmax, logsumexp, expit, log_expit: crossent's activations.
"""

from __future__ import annotations

import zlib
from typing import Any

import numpy as np
import pytest

import crossent
from conftest import assert_close

sklearn_metrics = pytest.importorskip("sklearn.metrics")
class_weight = pytest.importorskip("sklearn.utils.class_weight")
scipy_special = pytest.importorskip("scipy.special")
scipy_stats = pytest.importorskip("scipy.stats")

NS = [1, 7, 64]
CS = [2, 3, 10]


def _rng(*key: Any) -> np.random.Generator:
    return np.random.default_rng([zlib.crc32(repr(key).encode()), 20240607])


def _softmax(z: np.ndarray, axis: int = -1) -> np.ndarray:
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _weights(rng: np.random.Generator, n: int, kind: str) -> np.ndarray | None:
    if kind == "none":
        return None
    if kind == "integer":  # repeated samples
        return rng.integers(1, 4, size=n).astype(np.float64)
    return rng.uniform(0.05, 3.0, size=n)


# --------------------------------------------------------------------------------------------
# sklearn.metrics.log_loss


@pytest.mark.parametrize("n", [2, 7, 64])
@pytest.mark.parametrize("weights", ["none", "integer", "float"])
@pytest.mark.parametrize("normalize", [True, False])
@pytest.mark.parametrize("seed", [0, 1])
def test_log_loss_binary(seed: int, normalize: bool, weights: str, n: int) -> None:
    rng = _rng("log-loss-binary", seed, normalize, weights, n)
    p = rng.uniform(0.01, 0.99, size=n)
    y = rng.integers(0, 2, size=n)
    y[:2] = [0, 1]  # both classes present, as log_loss requires without labels=
    s = _weights(rng, n, weights)
    expected = sklearn_metrics.log_loss(y, p, sample_weight=s, normalize=normalize)
    reduction = "mean" if normalize else "sum"
    actual = crossent.binary_cross_entropy(p, y.astype(np.float64), from_logits=False, sample_weight=s,
                                           reduction=reduction)
    assert_close(actual, expected, np.float64)
    # the same as a two-column multiclass problem
    two = np.stack([1 - p, p], axis=1)
    assert_close(crossent.cross_entropy(two, y, from_logits=False, sample_weight=s, reduction=reduction),
                 expected, np.float64)


@pytest.mark.parametrize("n", NS)
@pytest.mark.parametrize("c", [3, 4, 10])
@pytest.mark.parametrize("weights", ["none", "integer", "float"])
@pytest.mark.parametrize("normalize", [True, False])
def test_log_loss_multiclass(normalize: bool, weights: str, c: int, n: int) -> None:
    rng = _rng("log-loss-multi", normalize, weights, c, n)
    p = _softmax(np.clip(rng.normal(scale=1.5, size=(n, c)), -5, 5))
    y = rng.integers(0, c, size=n)
    s = _weights(rng, n, weights)
    expected = sklearn_metrics.log_loss(y, p, sample_weight=s, normalize=normalize, labels=np.arange(c))
    reduction = "mean" if normalize else "sum"
    assert_close(crossent.cross_entropy(p, y, from_logits=False, sample_weight=s, reduction=reduction),
                 expected, np.float64)
    # one-hot targets and the logits give the same
    assert_close(crossent.categorical_cross_entropy(p, np.eye(c)[y], from_logits=False, sample_weight=s,
                                                    reduction=reduction), expected, np.float64)
    assert_close(crossent.cross_entropy(np.log(p), y, sample_weight=s, reduction=reduction), expected, np.float64)


def test_log_loss_clips_where_crossent_does_not() -> None:
    """DIFFERENCE: log_loss clips probabilities to [eps, 1 - eps] (eps = float64 machine epsilon),
    so a certain wrong prediction costs -log(eps) ≈ 36.04; crossent gives inf unless asked to
    clip with ``eps=``, and then agrees."""
    eps = np.finfo(np.float64).eps
    p = np.array([[1.0, 0.0], [0.3, 0.7]])
    y = np.array([1, 1])
    expected = sklearn_metrics.log_loss(y, p, labels=[0, 1])
    assert_close(expected, (-np.log(eps) - np.log(0.7)) / 2, np.float64)
    assert float(crossent.cross_entropy(p, y, from_logits=False)) == np.inf
    assert_close(crossent.cross_entropy(p, y, from_logits=False, eps=eps), expected, np.float64)
    assert float(crossent.binary_cross_entropy(p[:, 1], y.astype(float), from_logits=False)) == np.inf
    assert_close(crossent.binary_cross_entropy(p[:, 1], y.astype(float), from_logits=False, eps=eps),
                 expected, np.float64)


def test_log_loss_all_weights_zero_differs() -> None:
    """DIFFERENCE: with every sample weight 0, log_loss raises; crossent's mean is 0."""
    p = np.array([[0.5, 0.5], [0.4, 0.6]])
    y = np.array([0, 1])
    with pytest.raises(ValueError):
        sklearn_metrics.log_loss(y, p, sample_weight=[0.0, 0.0])
    assert float(crossent.cross_entropy(p, y, from_logits=False, sample_weight=np.zeros(2))) == 0.0


def test_log_loss_docstring_example() -> None:
    """scikit-learn's own example (string labels sorted: ham = 0, spam = 1)."""
    p = np.array([[0.1, 0.9], [0.9, 0.1], [0.8, 0.2], [0.35, 0.65]])
    expected = sklearn_metrics.log_loss(["spam", "ham", "ham", "spam"], p)
    assert_close(expected, 0.21616, np.float32)
    assert_close(crossent.cross_entropy(p, np.array([1, 0, 0, 1]), from_logits=False), expected, np.float64)


# --------------------------------------------------------------------------------------------
# compute_class_weight("balanced")


@pytest.mark.parametrize("n", [10, 64, 1000])
@pytest.mark.parametrize("c", CS)
@pytest.mark.parametrize("seed", [0, 1])
def test_class_weights_balanced(seed: int, c: int, n: int) -> None:
    rng = _rng("class-weight", seed, c, n)
    probs = _softmax(rng.normal(scale=1.5, size=c))  # imbalanced classes
    y = rng.choice(c, size=n, p=probs)
    y[:c] = np.arange(c)  # every class present
    rng.shuffle(y)
    expected = class_weight.compute_class_weight("balanced", classes=np.arange(c), y=y)
    assert_close(crossent.class_weights(y), expected, np.float64)
    assert_close(crossent.class_weights(y, num_classes=c, scheme="balanced"), expected, np.float64)
    assert_close(crossent.class_weights(y.astype(np.int8)), expected, np.float64)


# --------------------------------------------------------------------------------------------
# scipy.stats.entropy


BASES = [None, 2, 10, np.e]


@pytest.mark.parametrize("shape", [(3,), (1, 2), (7, 3), (64, 10)], ids=str)
@pytest.mark.parametrize("base", BASES, ids=str)
@pytest.mark.parametrize("zeros", [False, True], ids=["positive", "with_zeros"])
def test_entropy(zeros: bool, base: float | None, shape: tuple[int, ...]) -> None:
    rng = _rng("entropy", zeros, base, shape)
    p = _softmax(rng.normal(scale=2.0, size=shape))
    if zeros:  # 0 log 0 = 0 in both
        p = np.where(rng.random(shape) < 0.3, 0.0, p)
        p[..., 0] += 0.01
        p = p / p.sum(axis=-1, keepdims=True)
    expected = scipy_stats.entropy(p, base=base, axis=-1)
    assert_close(crossent.entropy(p, base=base), expected, np.float64)


@pytest.mark.parametrize("shape", [(3,), (7, 3), (64, 10)], ids=str)
@pytest.mark.parametrize("base", BASES, ids=str)
@pytest.mark.parametrize("zeros", [False, True], ids=["positive", "p_with_zeros"])
def test_kl_divergence(zeros: bool, base: float | None, shape: tuple[int, ...]) -> None:
    rng = _rng("kl", zeros, base, shape)
    p = _softmax(rng.normal(scale=2.0, size=shape))
    q = _softmax(rng.normal(scale=2.0, size=shape))
    if zeros:
        p = np.where(rng.random(shape) < 0.3, 0.0, p)
        p[..., 0] += 0.01
        p = p / p.sum(axis=-1, keepdims=True)
    expected = scipy_stats.entropy(p, q, base=base, axis=-1)
    assert_close(crossent.kl_divergence(p, q, base=base), expected, np.float64)


def test_entropy_of_counts_differs() -> None:
    """DIFFERENCE: scipy.stats.entropy normalizes counts; crossent takes probabilities only and
    rejects counts with a ValueError naming the argument, so divide by the sum first."""
    counts = np.array([1.0, 2.0, 1.0])
    expected = scipy_stats.entropy(counts, base=2)
    assert_close(expected, 1.5, np.float64)
    with pytest.raises(ValueError, match="p"):
        crossent.entropy(counts, base=2)
    assert_close(crossent.entropy(counts / counts.sum(), base=2), expected, np.float64)
    with pytest.raises(ValueError, match="q"):
        crossent.kl_divergence(counts / counts.sum(), 2 * counts)


def test_kl_divergence_infinite_where_q_is_zero() -> None:
    p, q = np.array([0.5, 0.5]), np.array([1.0, 0.0])
    assert scipy_stats.entropy(p, q) == np.inf
    assert float(crossent.kl_divergence(p, q)) == np.inf


@pytest.mark.parametrize("axis", [0, 1])
def test_entropy_axis(axis: int) -> None:
    p = _softmax(_rng("entropy-axis", axis).normal(size=(4, 5)), axis=axis)
    assert_close(crossent.entropy(p, axis=axis, base=2), scipy_stats.entropy(p, base=2, axis=axis), np.float64)


def test_cross_entropy_is_entropy_plus_kl() -> None:
    rng = _rng("h+kl")
    p = _softmax(rng.normal(size=(9, 4)))
    z = rng.normal(size=(9, 4))
    q = scipy_special.softmax(z, axis=-1)
    expected = scipy_stats.entropy(p, axis=-1) + scipy_stats.entropy(p, q, axis=-1)
    assert_close(crossent.cross_entropy(z, p, reduction="none"), expected, np.float64)


# --------------------------------------------------------------------------------------------
# scipy.special activations


SOFTMAX_CASES = [
    pytest.param(dtype, scale, shape, id=f"{np.dtype(dtype).name}-{scale}-{shape}")
    for dtype in (np.float64, np.float32) for scale in (1.0, 30.0, 1000.0)
    for shape in ((1,), (5,), (7, 3), (64, 10), (2, 3, 4))
]


@pytest.mark.parametrize(("dtype", "scale", "shape"), SOFTMAX_CASES)
def test_softmax_family(dtype: Any, scale: float, shape: tuple[int, ...]) -> None:
    rng = _rng("softmax", np.dtype(dtype).name, scale, shape)
    x = (rng.normal(scale=scale, size=shape)).astype(dtype)
    for axis in range(-1, -len(shape) - 1, -1):
        assert_close(crossent.softmax(x, axis=axis), scipy_special.softmax(x, axis=axis), dtype)
        assert_close(crossent.log_softmax(x, axis=axis), scipy_special.log_softmax(x, axis=axis), dtype)
        assert_close(crossent.logsumexp(x, axis=axis), scipy_special.logsumexp(x, axis=axis), dtype)
        assert_close(crossent.logsumexp(x, axis=axis, keepdims=True),
                     scipy_special.logsumexp(x, axis=axis, keepdims=True), dtype)


@pytest.mark.parametrize("shape", [(1,), (64,), (7, 3)], ids=str)
@pytest.mark.parametrize("scale", [1.0, 30.0, 1000.0])
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=lambda d: np.dtype(d).name)
def test_sigmoid_family(dtype: Any, scale: float, shape: tuple[int, ...]) -> None:
    rng = _rng("sigmoid", np.dtype(dtype).name, scale, shape)
    x = (rng.normal(scale=scale, size=shape)).astype(dtype)
    assert_close(crossent.sigmoid(x), scipy_special.expit(x), dtype)
    assert_close(crossent.log_sigmoid(x), scipy_special.log_expit(x), dtype)


def test_log_softmax_float32_precision_of_the_largest_class() -> None:
    """Minimal reproduction: log_softmax([100, 87.5]) in float32. The true first entry is
    -3.7266e-06; SciPy (float32) gives -3.6955e-06. x - (m + log Σ exp(x - m)) would give 0.0
    (100 + 3.7e-06 rounds to 100); crossent computes (x - m) - log Σ exp(x - m)."""
    x = np.array([100.0, 87.5], dtype=np.float32)
    truth = scipy_special.log_softmax(x.astype(np.float64))
    assert_close(scipy_special.log_softmax(x), truth, np.float32)  # the peer, in float32, is within rtol
    assert_close(crossent.log_softmax(x), truth, np.float32)


def test_activations_at_extremes() -> None:
    x = np.array([-1e4, -745.0, -50.0, 0.0, 50.0, 745.0, 1e4])
    assert_close(crossent.sigmoid(x), scipy_special.expit(x))
    assert_close(crossent.log_sigmoid(x), scipy_special.log_expit(x))
    assert_close(crossent.logsumexp(x), scipy_special.logsumexp(x))
    assert_close(crossent.log_softmax(x), scipy_special.log_softmax(x))
