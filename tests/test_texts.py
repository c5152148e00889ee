"""Every worked example of the texts crossent grew from (shared/seeds), on every backend."""

from __future__ import annotations

import math

import numpy as np

import crossent
from conftest import Backend, assert_close


def test_three_class_example(backend: Backend) -> None:
    # One-hot target A = [1, 0, 0]; predicting [0.7, 0.2, 0.1] costs -ln 0.7, [0.1, 0.2, 0.7] -ln 0.1.
    probs = backend.asarray([[0.7, 0.2, 0.1], [0.1, 0.2, 0.7]])
    per_sample = crossent.cross_entropy(probs, backend.asarray([0, 0]), from_logits=False, reduction="none")
    assert_close(backend.to_numpy(per_sample), [-math.log(0.7), -math.log(0.1)])
    one_hot = backend.asarray([[1.0, 0.0, 0.0], [1.0, 0.0, 0.0]])
    dense = crossent.categorical_cross_entropy(probs, one_hot, from_logits=False, reduction="none")
    assert_close(backend.to_numpy(dense), [-math.log(0.7), -math.log(0.1)])
    # The same from logits: log-probabilities are logits whose softmax gives the probabilities back.
    logits = backend.asarray(np.log([[0.7, 0.2, 0.1], [0.1, 0.2, 0.7]]))
    from_logits = crossent.cross_entropy(logits, backend.asarray([0, 0]), reduction="none")
    assert_close(backend.to_numpy(from_logits), [-math.log(0.7), -math.log(0.1)])


def test_fruit_example_in_base_10(backend: Backend) -> None:
    # p(apple) = [0.723, 0.240, 0.036], y = [1, 0, 0]: -log10(0.723) = 0.1409 (the text prints 0.14).
    # The rounded probabilities sum to 0.999 and must be accepted as they are, not renormalized.
    probs = backend.asarray([0.723, 0.240, 0.036])
    value = crossent.categorical_cross_entropy(probs, backend.asarray([1.0, 0.0, 0.0]), from_logits=False, base=10)
    assert_close(backend.to_numpy(value), -math.log10(0.723))
    assert round(float(backend.to_numpy(value)), 4) == 0.1409
    labels = crossent.sparse_categorical_cross_entropy(probs[None, :], backend.asarray([0]), from_logits=False, base=10)
    assert_close(backend.to_numpy(labels), -math.log10(0.723))


def test_three_hampers_in_bits(backend: Backend) -> None:
    # 3 Eclairs and 7 Alpenliebes; 5 and 5; 10 and 0: 0.8813, 1 and 0 bits.
    hampers = backend.asarray([[0.3, 0.7], [0.5, 0.5], [1.0, 0.0]])
    bits = backend.to_numpy(crossent.entropy(hampers, base=2))
    expected = [-(0.3 * math.log2(0.3) + 0.7 * math.log2(0.7)), 1.0, 0.0]
    assert_close(bits, expected)
    assert [round(float(b), 4) for b in bits] == [0.8813, 1.0, 0.0]
    assert not np.signbit(bits[2])  # a certain outcome has +0 entropy, not -0


def test_bce_with_logits_example(backend: Backend) -> None:
    # logits [2.0, 0.5, -2.0], targets [0, 1, 1]: BCEWithLogitsLoss prints 1.5760.
    value = crossent.binary_cross_entropy(backend.asarray([2.0, 0.5, -2.0]), backend.asarray([0.0, 1.0, 1.0]))
    expected = np.mean([math.log1p(math.exp(2.0)), math.log1p(math.exp(-0.5)), math.log1p(math.exp(2.0))])
    assert_close(backend.to_numpy(value), expected)
    assert f"{float(backend.to_numpy(value)):.4f}" == "1.5760"


def test_sigmoid_log_loss_curves(backend: Backend) -> None:
    # z in [-10, 10) step 0.1, h = sigmoid(z): J = -log h for y = 1 and -log(1 - h) for y = 0.
    z = np.arange(-10, 10, 0.1)
    h = 1.0 / (1.0 + np.exp(-z))
    ones, zeros = np.ones_like(z), np.zeros_like(z)
    for y, expected in ((ones, -np.log(h)), (zeros, -np.log(1 - h))):
        from_probs = crossent.binary_cross_entropy(backend.asarray(h), backend.asarray(y), from_logits=False,
                                                   reduction="none")
        from_logits = crossent.binary_cross_entropy(backend.asarray(z), backend.asarray(y), reduction="none")
        assert_close(backend.to_numpy(from_probs), expected)
        # The text's -log(1 - h) loses digits where h ≈ 1; compare the logits path with log1p(exp(±z)).
        exact = np.log1p(np.exp(-z)) if y[0] == 1 else np.log1p(np.exp(z))
        assert_close(backend.to_numpy(from_logits), exact)
    # The curves' shapes: for y = 1 the cost falls as h rises, for y = 0 it rises.
    cost_1 = backend.to_numpy(crossent.binary_cross_entropy(backend.asarray(z), backend.asarray(ones),
                                                            reduction="none"))
    cost_0 = backend.to_numpy(crossent.binary_cross_entropy(backend.asarray(z), backend.asarray(zeros),
                                                            reduction="none"))
    assert np.all(np.diff(cost_1) < 0) and np.all(np.diff(cost_0) > 0)
    assert cost_1[0] > 9.9 and cost_1[-1] < 1e-4 and cost_0[0] < 1e-4 and cost_0[-1] > 9.8
