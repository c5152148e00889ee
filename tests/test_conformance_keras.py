"""Conformance with Keras 3 (JAX backend): BinaryCrossentropy, CategoricalCrossentropy,
CategoricalFocalCrossentropy and SparseCategoricalCrossentropy(ignore_class).

Keras computes in float32 (its floatx), so inputs are float32 NumPy arrays and results are
compared at ``rtol(float32)``. crossent gets the NumPy arrays; Keras gets the same arrays
inside a ``jax.jit`` that is built once per loss configuration (``_keras``) and returns all three
Keras reductions, because eager JAX recompiles every primitive for every new shape.

How Keras's reductions map onto crossent's (read from keras/src/losses/loss.py and losses.py):

- ``"sum_over_batch_size"`` (Keras's default) is Σ loss / number of per-sample losses, and with
  ``ignore_class`` the loss carries a mask that turns it into Σ loss / number of valid samples:
  crossent's ``"mean"`` without sample weights.
- With ``sample_weight`` and a mask, ``"sum_over_batch_size"`` is Σ s·loss / number of valid
  samples, while crossent's mean is Σ s·loss / Σ s (pinned below); Keras's
  ``"mean_with_sample_weight"`` is crossent's mean.
- Keras's binary_crossentropy averages over the last axis before reducing, so its per-sample
  value is crossent's element-wise loss averaged over that axis, and its ``"sum"`` is crossent's
  ``"sum"`` divided by the size of the last axis (pinned below).
- Keras clips probabilities to [1e-7, 1 - 1e-7] (``keras.backend.epsilon()``) in the focal and
  probability paths; crossent does not clip unless asked (``eps=``). Inputs here keep every
  probability ≥ 1e-5, where the clip does nothing; one test puts a target probability below
  1e-7 and shows that crossent with ``eps=1e-7`` reproduces Keras exactly while crossent's
  default gives the exact, larger loss.
"""

from __future__ import annotations

import functools
import os
import zlib
from typing import Any

import numpy as np
import pytest

import crossent
from conftest import assert_close

os.environ.setdefault("KERAS_BACKEND", "jax")
keras = pytest.importorskip("keras")
jax = pytest.importorskip("jax")

F32 = np.float32
KERAS_REDUCTIONS = {"sum_over_batch_size": "mean", "sum": "sum", "none": "none"}  # Keras: crossent
SHAPES = [(1, 2), (7, 3), (64, 10)]


def _rng(*key: Any) -> np.random.Generator:
    return np.random.default_rng([zlib.crc32(repr(key).encode()), 20240607])


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _logits(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    # |z| ≤ 4 keeps every softmax probability ≥ e^-8 / C > 1e-5, far above Keras's 1e-7 clip.
    return np.clip(rng.normal(scale=1.5, size=shape), -4, 4).astype(F32)


def _freeze(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


@functools.cache
def _keras(name: str, weighted: bool = False, **options: Any) -> Any:
    """A jitted ``f(y_true, y_pred[, sample_weight]) -> {reduction: value}`` for keras.losses.<name>."""
    options = {k: list(v) if isinstance(v, tuple) else v for k, v in options.items()}
    losses = {r: getattr(keras.losses, name)(reduction=r, **options) for r in KERAS_REDUCTIONS}
    if weighted:
        losses["mean_with_sample_weight"] = getattr(keras.losses, name)(reduction="mean_with_sample_weight",
                                                                        **options)
        return jax.jit(lambda y, p, s: {r: loss(y, p, sample_weight=s) for r, loss in losses.items()})
    return jax.jit(lambda y, p: {r: loss(y, p) for r, loss in losses.items()})


def _close(actual: Any, expected: Any) -> None:
    assert np.shape(actual) == np.shape(expected)
    assert_close(np.asarray(actual), np.asarray(expected), F32)


# --------------------------------------------------------------------------------------------
# BinaryCrossentropy with label smoothing


@pytest.mark.parametrize("shape", [(1, 1), (7, 3), (64, 10)], ids=str)
@pytest.mark.parametrize("smoothing", [0.0, 0.1, 0.3])
@pytest.mark.parametrize("from_logits", [True, False], ids=["logits", "probs"])
@pytest.mark.parametrize("reduction", list(KERAS_REDUCTIONS))
def test_binary_crossentropy(reduction: str, from_logits: bool, smoothing: float,
                             shape: tuple[int, int]) -> None:
    rng = _rng("bce", from_logits, smoothing, shape)
    # probabilities in [0.01, 0.99]: Keras's 1e-7 clip does nothing there
    x = rng.normal(scale=3.0, size=shape) if from_logits else rng.uniform(0.01, 0.99, size=shape)
    x = x.astype(F32)
    y = rng.integers(0, 2, size=shape).astype(F32)
    expected = _keras("BinaryCrossentropy", from_logits=from_logits, label_smoothing=smoothing)(y, x)[reduction]
    ours = crossent.binary_cross_entropy(x, y, from_logits=from_logits, label_smoothing=smoothing,
                                         reduction=KERAS_REDUCTIONS[reduction])
    if reduction == "none":  # Keras: the mean over the last axis per sample; crossent: element-wise
        ours = np.mean(ours, axis=-1)
    elif reduction == "sum":  # Keras sums those per-sample means: crossent's sum / L
        ours = ours / shape[-1]
    _close(ours, expected)


def test_binary_crossentropy_last_axis_mean_is_a_difference() -> None:
    """DIFFERENCE (of convention): Keras's per-sample BCE is the mean over the last axis, so its
    "sum" is crossent's element-wise "sum" divided by that axis' length; the means agree."""
    rng = _rng("bce-axis")
    z = rng.normal(size=(5, 4)).astype(F32)
    y = rng.integers(0, 2, size=(5, 4)).astype(F32)
    keras_values = _keras("BinaryCrossentropy", from_logits=True, label_smoothing=0.0)(y, z)
    ours_sum = float(crossent.binary_cross_entropy(z, y, reduction="sum"))
    assert np.shape(keras_values["none"]) == (5,)
    assert np.shape(crossent.binary_cross_entropy(z, y, reduction="none")) == (5, 4)
    assert_close(float(keras_values["sum"]) * 4, ours_sum, F32)
    assert not np.isclose(float(keras_values["sum"]), ours_sum, rtol=0.1)
    assert_close(float(keras_values["sum_over_batch_size"]), float(crossent.binary_cross_entropy(z, y)), F32)


@pytest.mark.parametrize("from_logits", [True, False], ids=["logits", "probs"])
def test_binary_crossentropy_sample_weight(from_logits: bool) -> None:
    """Per-sample weights: Keras's "mean_with_sample_weight" is Σ s·mean_l ℓ / Σ s, which is
    crossent's mean with the weight broadcast over the labels; "sum_over_batch_size" divides by N."""
    rng = _rng("bce-sw", from_logits)
    shape = (9, 3)
    x = (rng.normal(scale=3.0, size=shape) if from_logits else rng.uniform(0.01, 0.99, size=shape)).astype(F32)
    y = rng.integers(0, 2, size=shape).astype(F32)
    s = rng.uniform(0.1, 0.9, size=shape[0]).astype(F32)
    keras_values = _keras("BinaryCrossentropy", weighted=True, from_logits=from_logits, label_smoothing=0.1)(y, x, s)
    ours = crossent.binary_cross_entropy(x, y, from_logits=from_logits, label_smoothing=0.1, sample_weight=s[:, None])
    assert_close(float(keras_values["mean_with_sample_weight"]), float(ours), F32)
    assert_close(float(keras_values["sum_over_batch_size"]), float(ours) * s.sum() / shape[0], F32)
    assert not np.isclose(float(keras_values["sum_over_batch_size"]), float(ours), rtol=0.05)


# --------------------------------------------------------------------------------------------
# CategoricalCrossentropy with label smoothing


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("smoothing", [0.0, 0.1, 0.25])
@pytest.mark.parametrize("from_logits", [True, False], ids=["logits", "probs"])
@pytest.mark.parametrize("kind", ["one_hot", "soft"])
@pytest.mark.parametrize("reduction", list(KERAS_REDUCTIONS), ids=str)
def test_categorical_crossentropy(reduction: str, kind: str, from_logits: bool, smoothing: float,
                                  shape: tuple[int, int]) -> None:
    n, c = shape
    rng = _rng("cce", kind, from_logits, smoothing, shape)
    z = _logits(rng, shape)
    x = z if from_logits else _softmax(z.astype(np.float64)).astype(F32)
    y = (np.eye(c)[rng.integers(0, c, size=n)] if kind == "one_hot" else _softmax(rng.normal(size=shape))).astype(F32)
    expected = _keras("CategoricalCrossentropy", from_logits=from_logits, label_smoothing=smoothing)(y, x)[reduction]
    ours = crossent.categorical_cross_entropy(x, y, from_logits=from_logits, label_smoothing=smoothing,
                                              reduction=KERAS_REDUCTIONS[reduction])
    _close(ours, expected)


def test_categorical_crossentropy_renormalization_differs() -> None:
    """DIFFERENCE: Keras divides probabilities by their row sum; crossent validates them and
    raises for rows that do not sum to 1, and agrees once they are normalized."""
    rng = _rng("cce-renorm")
    p = _softmax(_logits(rng, (6, 4)).astype(np.float64)).astype(F32)
    y = np.eye(4, dtype=F32)[rng.integers(0, 4, size=6)]
    doubled = _keras("CategoricalCrossentropy", from_logits=False, label_smoothing=0.0)(y, 2 * p)["none"]
    _close(crossent.categorical_cross_entropy(p, y, from_logits=False, reduction="none"), doubled)
    with pytest.raises(ValueError, match="prediction"):
        crossent.categorical_cross_entropy(2 * p, y, from_logits=False)


# --------------------------------------------------------------------------------------------
# CategoricalFocalCrossentropy


FOCAL_CASES = [  # (shape, alpha, gamma, from_logits, label_smoothing); alpha "default" is Keras's 0.25
    *[((7, 3), alpha, gamma, True, 0.0) for alpha in ("default", 0.5, 1.0, (0.2, 0.5, 0.3))
      for gamma in (0.0, 1.5, 2.0)],
    *[((7, 3), alpha, 2.0, False, 0.0) for alpha in ("default", (0.2, 0.5, 0.3))],
    ((7, 3), 0.25, 2.0, True, 0.1),
    ((7, 3), 0.25, 2.0, False, 0.2),
    ((1, 2), "default", 2.0, True, 0.0),
    ((1, 2), 0.75, 1.0, False, 0.1),
    ((64, 10), "default", 2.0, True, 0.0),
    ((64, 10), 0.5, 3.0, False, 0.0),
    ((64, 10), tuple(np.linspace(0.1, 1.0, 10).round(2)), 2.0, True, 0.15),
]


@pytest.mark.parametrize(("shape", "alpha", "gamma", "from_logits", "smoothing"), FOCAL_CASES, ids=str)
@pytest.mark.parametrize("reduction", list(KERAS_REDUCTIONS), ids=str)
def test_categorical_focal_crossentropy(reduction: str, shape: tuple[int, int], alpha: Any, gamma: float,
                                        from_logits: bool, smoothing: float) -> None:
    n, c = shape
    rng = _rng("focal", shape, alpha, gamma, from_logits, smoothing)
    z = _logits(rng, shape)
    x = z if from_logits else _softmax(z.astype(np.float64)).astype(F32)
    y = np.eye(c, dtype=F32)[rng.integers(0, c, size=n)]
    options = {"gamma": gamma, "from_logits": from_logits, "label_smoothing": smoothing}
    if alpha != "default":
        options["alpha"] = _freeze(alpha)
    expected = _keras("CategoricalFocalCrossentropy", **options)(y, x)[reduction]
    ours_alpha = 0.25 if alpha == "default" else (np.asarray(alpha, dtype=F32) if isinstance(alpha, tuple) else alpha)
    ours = crossent.focal_loss(x, y, alpha=ours_alpha, gamma=gamma, from_logits=from_logits, label_smoothing=smoothing,
                               reduction=KERAS_REDUCTIONS[reduction])
    _close(ours, expected)
    # and from integer labels
    _close(crossent.focal_loss(x, np.argmax(y, axis=-1), alpha=ours_alpha, gamma=gamma, from_logits=from_logits,
                               label_smoothing=smoothing, reduction=KERAS_REDUCTIONS[reduction]), expected)


def test_categorical_focal_default_alpha_is_keras() -> None:
    """Keras's default α is 0.25; crossent's focal_loss default is no α (1): they differ by 4x."""
    assert keras.losses.CategoricalFocalCrossentropy().alpha == 0.25
    rng = _rng("focal-default")
    z = _logits(rng, (7, 3))
    y = np.eye(3, dtype=F32)[rng.integers(0, 3, size=7)]
    keras_mean = float(_keras("CategoricalFocalCrossentropy", gamma=2.0, from_logits=True,
                              label_smoothing=0.0)(y, z)["sum_over_batch_size"])
    assert_close(keras_mean, 0.25 * float(crossent.focal_loss(z, y, gamma=2.0)), F32)


def test_categorical_focal_keras_clip() -> None:
    """Keras clips probabilities to [1e-7, 1 - 1e-7]; crossent does so only with ``eps=1e-7``.

    A target probability of 1e-9 (below the clip) makes Keras's loss α(1 - 1e-7)^γ·(-log 1e-7),
    which crossent reproduces with eps=keras.backend.epsilon(); without eps crossent gives the
    exact α(1 - 1e-9)^γ·(-log 1e-9), larger by the ratio of the logs.
    """
    keras_eps = keras.backend.epsilon()
    assert keras_eps == pytest.approx(1e-7)
    p = np.array([[1e-9, 0.6, 0.4 - 1e-9], [0.2, 0.3, 0.5]], dtype=F32)
    y = np.array([[1, 0, 0], [0, 0, 1]], dtype=F32)
    keras_none = np.asarray(_keras("CategoricalFocalCrossentropy", gamma=2.0, from_logits=False,
                                   label_smoothing=0.0)(y, p)["none"])
    clipped = crossent.focal_loss(p, y, alpha=0.25, gamma=2.0, from_logits=False, eps=keras_eps, reduction="none")
    _close(clipped, keras_none)
    exact = crossent.focal_loss(p, y, alpha=0.25, gamma=2.0, from_logits=False, reduction="none")
    _close(exact[1], keras_none[1])  # the second row is untouched by the clip
    assert_close(exact[0], 0.25 * -np.log(np.float64(F32(1e-9))), F32)
    assert exact[0] > 1.2 * keras_none[0]


# --------------------------------------------------------------------------------------------
# SparseCategoricalCrossentropy with ignore_class


@pytest.mark.parametrize("shape", [(1, 2), (7, 3), (64, 10), (4, 5, 3)], ids=str)
@pytest.mark.parametrize("ignore", [-1, 255])
@pytest.mark.parametrize("from_logits", [True, False], ids=["logits", "probs"])
@pytest.mark.parametrize("reduction", list(KERAS_REDUCTIONS), ids=str)
def test_sparse_categorical_crossentropy_ignore_class(reduction: str, from_logits: bool, ignore: int,
                                                      shape: tuple[int, ...]) -> None:
    """Keras masks the ignored samples: its mean is over the valid ones, crossent's Σ wᵢ."""
    c = shape[-1]
    rng = _rng("scce", from_logits, ignore, shape)
    z = _logits(rng, shape)
    x = z if from_logits else _softmax(z.astype(np.float64)).astype(F32)
    y = rng.integers(0, c, size=shape[:-1])
    drop = rng.random(shape[:-1]) < 0.3
    drop.flat[0] = False
    y = np.where(drop, ignore, y).astype(np.int32)
    expected = _keras("SparseCategoricalCrossentropy", from_logits=from_logits, ignore_class=ignore)(y, x)[reduction]
    for loss in (crossent.sparse_categorical_cross_entropy, crossent.cross_entropy):
        ours = loss(x, y, from_logits=from_logits, ignore_index=ignore, reduction=KERAS_REDUCTIONS[reduction])
        _close(ours, expected)


def test_sparse_categorical_crossentropy_ignore_class_reduction() -> None:
    """Pin how Keras reduces with ignore_class: Σ over valid samples / number of valid samples
    (not / batch size), and 0, not NaN, when every sample is ignored, as crossent."""
    z = np.log(np.array([[0.5, 0.3, 0.2]] * 4, dtype=F32))
    y = np.array([0, 1, -1, 2], dtype=np.int32)
    keras_values = _keras("SparseCategoricalCrossentropy", from_logits=True, ignore_class=-1)(y, z)
    valid = -np.log([0.5, 0.3, 0.2])
    assert_close(float(keras_values["sum_over_batch_size"]), valid.sum() / 3, F32)
    assert_close(float(crossent.cross_entropy(z, y, ignore_index=-1)), valid.sum() / 3, F32)
    assert_close(np.asarray(keras_values["none"]), [*valid[:2], 0.0, valid[2]], F32)

    all_ignored = np.full(4, -1, dtype=np.int32)
    keras_values = _keras("SparseCategoricalCrossentropy", from_logits=True, ignore_class=-1)(all_ignored, z)
    assert float(keras_values["sum_over_batch_size"]) == 0.0
    assert float(crossent.cross_entropy(z, all_ignored, ignore_index=-1)) == 0.0


@pytest.mark.parametrize("shape", [(7, 3), (64, 10)], ids=str)
def test_sparse_categorical_crossentropy_sample_weight_with_ignore_class(shape: tuple[int, int]) -> None:
    """DIFFERENCE: with sample weights and ignore_class, Keras's default mean is Σ s·ℓ / (number
    of valid samples), crossent's is Σ s·ℓ / Σ_valid s; Keras's "mean_with_sample_weight"
    (Σ s·ℓ / Σ s·mask) equals crossent's mean, and the sums agree."""
    n, c = shape
    rng = _rng("scce-sw", shape)
    z = _logits(rng, shape)
    y = rng.integers(0, c, size=n)
    y[1:3] = -1
    y = y.astype(np.int32)
    s = rng.uniform(0.1, 0.9, size=n).astype(F32)
    keras_values = _keras("SparseCategoricalCrossentropy", weighted=True, from_logits=True, ignore_class=-1)(y, z, s)
    ours = float(crossent.cross_entropy(z, y, ignore_index=-1, sample_weight=s))
    ours_sum = float(crossent.cross_entropy(z, y, ignore_index=-1, sample_weight=s, reduction="sum"))
    valid = y != -1
    assert_close(float(keras_values["mean_with_sample_weight"]), ours, F32)
    assert_close(float(keras_values["sum"]), ours_sum, F32)
    assert_close(float(keras_values["sum_over_batch_size"]), ours_sum / valid.sum(), F32)
    assert_close(ours, ours_sum / s[valid].sum(), F32)
    assert not np.isclose(float(keras_values["sum_over_batch_size"]), ours, rtol=0.05)
