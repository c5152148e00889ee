"""Bad input gets a ValueError or TypeError that names the argument and the value."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import crossent
from conftest import Backend

LOGITS = np.array([[2.0, 1.0, 0.1], [0.5, 0.2, 3.0]])
PROBS = np.array([[0.7, 0.2, 0.1], [0.1, 0.2, 0.7]])
LABELS = np.array([0, 2])
BINARY = np.array([[0.3, -1.0], [2.0, 0.0]])
BINARY_TARGET = np.array([[1.0, 0.0], [0.0, 1.0]])

# (case id, call(b) where b makes backend arrays, exception type, fragments the message must hold)
CASES: list[tuple[str, Callable[[Callable[[Any], Any]], Any], type[Exception], tuple[str, ...]]] = [
    ("dense target shape mismatch",
     lambda b: crossent.cross_entropy(b(LOGITS), b(np.ones((2, 4)) / 4)), ValueError, ("target", "(2, 4)", "(2, 3)")),
    ("label target shape mismatch",
     lambda b: crossent.cross_entropy(b(LOGITS), b(np.array([0, 1, 2]))), ValueError, ("target", "(3,)", "(2,)")),
    ("binary target shape mismatch",
     lambda b: crossent.binary_cross_entropy(b(BINARY), b(np.ones(2))), ValueError, ("target", "(2,)", "(2, 2)")),
    ("label out of range",
     lambda b: crossent.cross_entropy(b(LOGITS), b(np.array([0, 3]))), ValueError, ("label 3", "[0, 3)")),
    ("negative label",
     lambda b: crossent.cross_entropy(b(LOGITS), b(np.array([-100, 1]))), ValueError, ("label -100",)),
    ("label out of range with ignore_index",
     lambda b: crossent.cross_entropy(b(LOGITS), b(np.array([-1, 1])), ignore_index=-100), ValueError,
     ("label -1", "ignore_index=-100")),
    ("float labels",
     lambda b: crossent.cross_entropy(b(LOGITS), b(np.array([0.0, 2.0]))), TypeError, ("integer", "float64")),
    ("sparse with dense target",
     lambda b: crossent.sparse_categorical_cross_entropy(b(LOGITS), b(PROBS)), TypeError, ("integer labels",)),
    ("categorical with labels",
     lambda b: crossent.categorical_cross_entropy(b(LOGITS), b(LABELS)), TypeError, ("one-hot", "int64")),
    ("probability below 0",
     lambda b: crossent.cross_entropy(b(np.array([[1.1, -0.1]])), b(np.array([0])), from_logits=False),
     ValueError, ("prediction", "[0, 1]", "-0.1")),
    ("probability above 1",
     lambda b: crossent.binary_cross_entropy(b(np.array([1.5, 0.5])), b(np.array([1.0, 0.0])), from_logits=False),
     ValueError, ("prediction", "[0, 1]", "1.5")),
    ("probability rows off 1",
     lambda b: crossent.cross_entropy(b(np.array([[0.5, 0.3, 0.1]])), b(np.array([0])), from_logits=False),
     ValueError, ("prediction", "sum to 1", "0.1")),
    ("bce target above 1",
     lambda b: crossent.binary_cross_entropy(b(BINARY), b(BINARY_TARGET * 2)), ValueError, ("target", "[0, 1]", "2")),
    ("bce target below 0",
     lambda b: crossent.binary_focal_loss(b(BINARY), b(BINARY_TARGET - 1)), ValueError, ("target", "[0, 1]", "-1")),
    ("dense target rows off 1",
     lambda b: crossent.cross_entropy(b(LOGITS), b(np.array([[1.0, 1.0, 0.0], [0.0, 0.0, 1.0]]))), ValueError,
     ("target", "sum to 1", "binary_cross_entropy")),
    ("weight of wrong length",
     lambda b: crossent.cross_entropy(b(LOGITS), b(LABELS), weight=b(np.ones(4))), ValueError, ("weight", "(4,)", "3")),
    ("negative weight",
     lambda b: crossent.cross_entropy(b(LOGITS), b(LABELS), weight=b(np.array([1.0, -2.0, 1.0]))), ValueError,
     ("weight", "non-negative", "-2")),
    ("sample_weight not broadcastable",
     lambda b: crossent.cross_entropy(b(LOGITS), b(LABELS), sample_weight=b(np.ones(3))), ValueError,
     ("sample_weight", "(3,)", "(2,)")),
    ("pos_weight not broadcastable",
     lambda b: crossent.binary_cross_entropy(b(BINARY), b(BINARY_TARGET), pos_weight=b(np.ones(3))), ValueError,
     ("pos_weight", "(3,)")),
    ("negative gamma",
     lambda b: crossent.focal_loss(b(LOGITS), b(LABELS), gamma=-1.0), ValueError, ("gamma", "-1")),
    ("negative binary gamma",
     lambda b: crossent.binary_focal_loss(b(BINARY), b(BINARY_TARGET), gamma=-0.5), ValueError, ("gamma", "-0.5")),
    ("label_smoothing above 1",
     lambda b: crossent.cross_entropy(b(LOGITS), b(LABELS), label_smoothing=1.5), ValueError,
     ("label_smoothing", "[0, 1]", "1.5")),
    ("label_smoothing below 0",
     lambda b: crossent.binary_cross_entropy(b(BINARY), b(BINARY_TARGET), label_smoothing=-0.1), ValueError,
     ("label_smoothing", "-0.1")),
    ("unknown reduction",
     lambda b: crossent.cross_entropy(b(LOGITS), b(LABELS), reduction="avg"), ValueError, ("reduction", "'avg'")),
    ("unknown base",
     lambda b: crossent.cross_entropy(b(LOGITS), b(LABELS), base=1), ValueError, ("base", "1")),
    ("eps out of range",
     lambda b: crossent.cross_entropy(b(PROBS), b(LABELS), from_logits=False, eps=0.7), ValueError, ("eps", "0.7")),
    ("z_loss from probabilities",
     lambda b: crossent.cross_entropy(b(PROBS), b(LABELS), from_logits=False, z_loss=1e-4), ValueError,
     ("z_loss", "from_logits=True")),
    ("non-positive priors",
     lambda b: crossent.logit_adjusted_cross_entropy(b(LOGITS), b(LABELS), b(np.array([0.5, 0.5, 0.0]))),
     ValueError, ("priors", "positive")),
    ("binary alpha above 1",
     lambda b: crossent.binary_focal_loss(b(BINARY), b(BINARY_TARGET), alpha=1.2), ValueError, ("alpha", "1.2")),
    ("asymmetric clip of 1",
     lambda b: crossent.asymmetric_loss(b(BINARY), b(BINARY_TARGET), clip=1.0), ValueError, ("clip", "1")),
    ("ignore_index with dense targets",
     lambda b: crossent.cross_entropy(b(LOGITS), b(PROBS), ignore_index=-100), ValueError,
     ("ignore_index=-100", "integer labels")),
    ("integer prediction",
     lambda b: crossent.cross_entropy(b(np.array([[1, 2, 3]])), b(np.array([0]))), TypeError,
     ("prediction", "floating", "int64")),
    ("class axis out of range",
     lambda b: crossent.cross_entropy(b(LOGITS), b(LABELS), axis=2), ValueError, ("axis=2",)),
    ("counts given to entropy",
     lambda b: crossent.entropy(b(np.array([3.0, 7.0]))), ValueError, ("p", "[0, 1]")),
    ("entropy rows off 1",
     lambda b: crossent.entropy(b(np.array([0.3, 0.3]))), ValueError, ("p", "sum to 1", "counts")),
    ("one_hot label out of range",
     lambda b: crossent.one_hot(b(np.array([0, 5])), 3), ValueError, ("label 5", "[0, 3)")),
    ("class_weights with an empty class",
     lambda b: crossent.class_weights(b(np.array([0, 0, 2]))), ValueError, ("class 1", "no samples")),
    ("class_weights unknown scheme",
     lambda b: crossent.class_weights(b(np.array([0, 1])), scheme="inverse"), ValueError, ("scheme", "'inverse'")),
]


@pytest.mark.parametrize(("call", "error", "fragments"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_is_named(backend: Backend, call: Callable[..., Any], error: type[Exception],
                            fragments: tuple[str, ...]) -> None:
    with pytest.raises(error) as raised:
        call(backend.asarray)
    message = str(raised.value)
    for fragment in fragments:
        if backend.name != "numpy" and fragment in ("float64", "int64"):
            continue  # dtype spellings differ between libraries ("torch.float64")
        assert fragment in message, f"{fragment!r} not in {message!r}"


def test_rounded_probabilities_within_tolerance_are_accepted() -> None:
    # Three decimals each, summing to 0.999: accepted and used as given (the texts' fruit example).
    value = crossent.cross_entropy(np.array([[0.723, 0.240, 0.036]]), np.array([0]), from_logits=False)
    assert float(value) == pytest.approx(-np.log(0.723), rel=1e-12)


def test_unknown_option_and_missing_argument() -> None:
    with pytest.raises(TypeError, match="unexpected keyword argument 'gama'"):
        crossent.focal_loss(LOGITS, LABELS, gama=2.0)
    with pytest.raises(TypeError, match="missing required argument 'priors'"):
        crossent.logit_adjusted_cross_entropy(LOGITS, LABELS)
    with pytest.raises(TypeError, match="multiple values for argument 'priors'"):
        crossent.logit_adjusted_cross_entropy(LOGITS, LABELS, [0.5, 0.3, 0.2], priors=[0.5, 0.3, 0.2])
    with pytest.raises(ValueError, match="loss must be one of crossent's losses"):
        crossent.value_and_grad("hinge", LOGITS, LABELS)


def test_log_of_zero_is_inf_without_warning() -> None:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        value, grad = crossent.value_and_grad(crossent.cross_entropy, np.array([[1.0, 0.0]]), np.array([1]),
                                              from_logits=False)
        bce = crossent.binary_cross_entropy(np.array([0.0, 1.0]), np.array([1.0, 0.0]), from_logits=False)
    assert np.isinf(value) and value > 0
    assert grad[0, 1] == -np.inf and grad[0, 0] == 0
    assert np.isinf(bce)
    clipped = crossent.cross_entropy(np.array([[1.0, 0.0]]), np.array([1]), from_logits=False, eps=1e-7)
    assert float(clipped) == pytest.approx(-np.log(1e-7))
