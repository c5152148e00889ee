"""Conformance with optax: softmax, sigmoid, focal and Poly-1 cross-entropies.

optax returns per-example losses, so crossent is called with ``reduction="none"``. Inputs are
JAX arrays in float64 (x64 is enabled in conftest.py) and float32, and crossent, given JAX
arrays, must return JAX arrays of the same floating dtype.
"""

from __future__ import annotations

import zlib
from typing import Any

import numpy as np
import pytest
from conftest import assert_close

import crossent

jax = pytest.importorskip("jax")
jnp = pytest.importorskip("jax.numpy")
optax = pytest.importorskip("optax")

SHAPES = [(n, c) for n in (1, 7, 64) for c in (2, 3, 10)] + [(2, 3, 5)]  # and an extra batch axis
DTYPES = [np.float64, np.float32]


def _rng(*key: Any) -> np.random.Generator:
    return np.random.default_rng([zlib.crc32(repr(key).encode()), 20240607])


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _check(actual: Any, expected: Any, dtype: Any) -> None:
    assert isinstance(actual, jax.Array), type(actual)
    assert actual.shape == expected.shape
    assert actual.dtype == jnp.dtype(dtype)
    assert_close(np.asarray(actual), np.asarray(expected), dtype)


def _dense_targets(rng: np.random.Generator, shape: tuple[int, ...], kind: str) -> np.ndarray:
    if kind == "one_hot":
        return np.eye(shape[-1])[rng.integers(0, shape[-1], size=shape[:-1])]
    return _softmax(rng.normal(scale=1.5, size=shape))


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("kind", ["soft", "one_hot"])
def test_softmax_cross_entropy(kind: str, shape: tuple[int, ...], dtype: Any) -> None:
    rng = _rng("sce", kind, shape, np.dtype(dtype).name)
    z = jnp.asarray(rng.normal(scale=2.0, size=shape), dtype=dtype)
    y = jnp.asarray(_dense_targets(rng, shape, kind), dtype=dtype)
    expected = optax.softmax_cross_entropy(z, y)
    _check(crossent.cross_entropy(z, y, reduction="none"), expected, dtype)
    _check(crossent.categorical_cross_entropy(z, y, reduction="none"), expected, dtype)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("label_dtype", [np.int32, np.int8])
def test_softmax_cross_entropy_with_integer_labels(label_dtype: Any, shape: tuple[int, ...], dtype: Any) -> None:
    rng = _rng("sce-int", np.dtype(label_dtype).name, shape, np.dtype(dtype).name)
    z = jnp.asarray(rng.normal(scale=2.0, size=shape), dtype=dtype)
    y = jnp.asarray(rng.integers(0, shape[-1], size=shape[:-1]), dtype=label_dtype)
    expected = optax.softmax_cross_entropy_with_integer_labels(z, y)
    _check(crossent.cross_entropy(z, y, reduction="none"), expected, dtype)
    _check(crossent.sparse_categorical_cross_entropy(z, y, reduction="none"), expected, dtype)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("shape", [(1,), (7,), (64,), (7, 3), (64, 10), (2, 3, 4)], ids=str)
@pytest.mark.parametrize("soft", [False, True], ids=["hard", "soft"])
def test_sigmoid_binary_cross_entropy(soft: bool, shape: tuple[int, ...], dtype: Any) -> None:
    rng = _rng("bce", soft, shape, np.dtype(dtype).name)
    z = jnp.asarray(rng.normal(scale=4.0, size=shape), dtype=dtype)
    y = jnp.asarray(rng.random(shape) if soft else rng.integers(0, 2, size=shape), dtype=dtype)
    _check(crossent.binary_cross_entropy(z, y, reduction="none"), optax.sigmoid_binary_cross_entropy(z, y), dtype)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("shape", [(1,), (7, 3), (64, 10)], ids=str)
@pytest.mark.parametrize("gamma", [0.0, 1.0, 1.5, 2.0])
@pytest.mark.parametrize("alpha", [None, 0.25, 0.75], ids=lambda a: f"alpha={a}")
@pytest.mark.parametrize("soft", [False, True], ids=["hard", "soft"])
def test_sigmoid_focal_loss(soft: bool, alpha: float | None, gamma: float, shape: tuple[int, ...], dtype: Any) -> None:
    rng = _rng("focal", soft, alpha, gamma, shape, np.dtype(dtype).name)
    z = jnp.asarray(rng.normal(scale=3.0, size=shape), dtype=dtype)
    y = jnp.asarray(rng.random(shape) if soft else rng.integers(0, 2, size=shape), dtype=dtype)
    expected = optax.sigmoid_focal_loss(z, y, alpha=alpha, gamma=gamma)
    actual = crossent.binary_focal_loss(z, y, alpha=alpha, gamma=gamma, reduction="none")
    _check(actual, expected, dtype)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("shape", [(1, 2), (7, 3), (64, 10), (2, 3, 5)], ids=str)
@pytest.mark.parametrize("epsilon", [-1.0, 0.0, 1.0, 2.0])
@pytest.mark.parametrize("kind", ["soft", "one_hot"])
def test_poly_loss_cross_entropy(kind: str, epsilon: float, shape: tuple[int, ...], dtype: Any) -> None:
    rng = _rng("poly", kind, epsilon, shape, np.dtype(dtype).name)
    z = jnp.asarray(rng.normal(scale=2.0, size=shape), dtype=dtype)
    y = jnp.asarray(_dense_targets(rng, shape, kind), dtype=dtype)
    expected = optax.poly_loss_cross_entropy(z, y, epsilon=epsilon)
    _check(crossent.poly1_cross_entropy(z, y, epsilon=epsilon, reduction="none"), expected, dtype)
    if kind == "one_hot":  # the same loss from integer labels
        labels = jnp.argmax(y, axis=-1)
        _check(crossent.poly1_cross_entropy(z, labels, epsilon=epsilon, reduction="none"), expected, dtype)


def test_poly_loss_default_epsilon_is_optax() -> None:
    """crossent's documented default ε = 2.0 is optax's."""
    rng = _rng("poly-default")
    z = jnp.asarray(rng.normal(size=(5, 4)))
    y = jnp.asarray(_softmax(rng.normal(size=(5, 4))))
    _check(crossent.poly1_cross_entropy(z, y, reduction="none"), optax.poly_loss_cross_entropy(z, y), np.float64)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_gradient_matches_jax_grad_of_optax(dtype: Any) -> None:
    """crossent's closed-form gradient equals jax.grad of optax's summed loss."""
    rng = _rng("grad", np.dtype(dtype).name)
    z = jnp.asarray(rng.normal(scale=2.0, size=(16, 7)), dtype=dtype)
    y = jnp.asarray(rng.integers(0, 7, size=16), dtype=jnp.int32)
    expected = jax.grad(lambda v: optax.softmax_cross_entropy_with_integer_labels(v, y).sum())(z)
    _, grad = crossent.value_and_grad(crossent.cross_entropy, z, y, reduction="sum")
    _check(grad, expected, dtype)
    zb = jnp.asarray(rng.normal(scale=3.0, size=(16, 7)), dtype=dtype)
    yb = jnp.asarray(rng.random((16, 7)), dtype=dtype)
    expected = jax.grad(lambda v: optax.sigmoid_focal_loss(v, yb, alpha=0.25, gamma=2.0).sum())(zb)
    _, grad = crossent.value_and_grad(crossent.binary_focal_loss, zb, yb, alpha=0.25, gamma=2.0, reduction="sum")
    _check(grad, expected, dtype)
