"""Conformance with optax: softmax, sigmoid, focal and Poly-1 cross-entropies.

optax returns per-example losses, so crossent is called with ``reduction="none"``. Inputs are
JAX arrays in float64 (x64 is enabled in conftest.py) and float32, and crossent, given JAX
arrays, must return JAX arrays of the same floating dtype.

Cost: eager JAX compiles every primitive afresh for each new shape (about half a second per
loss call on a new shape, for optax's focal loss as for crossent), and a jitted function compiles
once per shape, dtype and static option (~50 ms). So most cases call both sides under a
``jax.jit`` that is built once per loss and option set (``_jit``/``_peer``, cached) and shared by
the cases that differ only in data (seed, soft or hard targets); ``test_eager_matches_optax``
runs every loss eagerly as well, with crossent's value checks on.
"""

from __future__ import annotations

import functools
import zlib
from typing import Any

import numpy as np
import pytest

import crossent
from conftest import assert_close

jax = pytest.importorskip("jax")
jnp = pytest.importorskip("jax.numpy")
optax = pytest.importorskip("optax")

SHAPES = [(1, 2), (7, 3), (7, 10), (64, 2), (64, 10), (2, 3, 5)]  # the last with an extra batch axis
DTYPES = [np.float64, np.float32]
SEEDS = [0, 1]
DTYPE_IDS = {"ids": lambda d: np.dtype(d).name}


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


@functools.cache
def _jit(loss: Any, **options: Any) -> Any:
    """crossent's ``loss`` with fixed options and ``reduction="none"``, jitted once."""
    return jax.jit(lambda prediction, target: loss(prediction, target, reduction="none", **options))


@functools.cache
def _peer(loss: Any, **options: Any) -> Any:
    """optax's ``loss`` with fixed options, jitted once."""
    return jax.jit(lambda prediction, target: loss(prediction, target, **options))


def _dense_targets(rng: np.random.Generator, shape: tuple[int, ...], kind: str) -> np.ndarray:
    if kind == "one_hot":
        return np.eye(shape[-1])[rng.integers(0, shape[-1], size=shape[:-1])]
    return _softmax(rng.normal(scale=1.5, size=shape))


def _binary_targets(rng: np.random.Generator, shape: tuple[int, ...], soft: bool) -> np.ndarray:
    return rng.random(shape) if soft else rng.integers(0, 2, size=shape).astype(np.float64)


@pytest.mark.parametrize("dtype", DTYPES, **DTYPE_IDS)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("kind", ["soft", "one_hot"])
@pytest.mark.parametrize("seed", SEEDS)
def test_softmax_cross_entropy(seed: int, kind: str, shape: tuple[int, ...], dtype: Any) -> None:
    rng = _rng("sce", seed, kind, shape, np.dtype(dtype).name)
    z = jnp.asarray(rng.normal(scale=2.0, size=shape), dtype=dtype)
    y = jnp.asarray(_dense_targets(rng, shape, kind), dtype=dtype)
    _check(_jit(crossent.cross_entropy)(z, y), _peer(optax.softmax_cross_entropy)(z, y), dtype)


@pytest.mark.parametrize("dtype", DTYPES, **DTYPE_IDS)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_softmax_cross_entropy_with_integer_labels(seed: int, shape: tuple[int, ...], dtype: Any) -> None:
    rng = _rng("sce-int", seed, shape, np.dtype(dtype).name)
    z = jnp.asarray(rng.normal(scale=2.0, size=shape), dtype=dtype)
    y = jnp.asarray(rng.integers(0, shape[-1], size=shape[:-1]), dtype=jnp.int32)
    expected = _peer(optax.softmax_cross_entropy_with_integer_labels)(z, y)
    _check(_jit(crossent.cross_entropy)(z, y), expected, dtype)


@pytest.mark.parametrize("dtype", DTYPES, **DTYPE_IDS)
@pytest.mark.parametrize("shape", [(1,), (64,), (7, 3), (2, 3, 4)], ids=str)
@pytest.mark.parametrize("soft", [False, True], ids=["hard", "soft"])
@pytest.mark.parametrize("seed", SEEDS)
def test_sigmoid_binary_cross_entropy(seed: int, soft: bool, shape: tuple[int, ...], dtype: Any) -> None:
    rng = _rng("bce", seed, soft, shape, np.dtype(dtype).name)
    z = jnp.asarray(rng.normal(scale=4.0, size=shape), dtype=dtype)
    y = jnp.asarray(_binary_targets(rng, shape, soft), dtype=dtype)
    _check(_jit(crossent.binary_cross_entropy)(z, y), _peer(optax.sigmoid_binary_cross_entropy)(z, y), dtype)


FOCAL_CASES = [((7, 3), alpha, gamma) for alpha in (None, 0.25, 0.75) for gamma in (0.0, 1.5, 2.0)]
FOCAL_CASES += [((64, 10), alpha, 2.0) for alpha in (None, 0.25)]


@pytest.mark.parametrize("dtype", DTYPES, **DTYPE_IDS)
@pytest.mark.parametrize(("shape", "alpha", "gamma"), FOCAL_CASES, ids=lambda v: str(v))
@pytest.mark.parametrize("soft", [False, True], ids=["hard", "soft"])
def test_sigmoid_focal_loss(soft: bool, shape: tuple[int, ...], alpha: float | None, gamma: float, dtype: Any) -> None:
    rng = _rng("focal", soft, alpha, gamma, shape, np.dtype(dtype).name)
    z = jnp.asarray(rng.normal(scale=3.0, size=shape), dtype=dtype)
    y = jnp.asarray(_binary_targets(rng, shape, soft), dtype=dtype)
    expected = _peer(optax.sigmoid_focal_loss, alpha=alpha, gamma=gamma)(z, y)
    _check(_jit(crossent.binary_focal_loss, alpha=alpha, gamma=gamma)(z, y), expected, dtype)


@pytest.mark.parametrize("dtype", DTYPES, **DTYPE_IDS)
@pytest.mark.parametrize("shape", [(7, 3), (2, 3, 5)], ids=str)
@pytest.mark.parametrize("epsilon", [-1.0, 1.0, 2.0])
@pytest.mark.parametrize("kind", ["soft", "one_hot"])
def test_poly_loss_cross_entropy(kind: str, epsilon: float, shape: tuple[int, ...], dtype: Any) -> None:
    rng = _rng("poly", kind, epsilon, shape, np.dtype(dtype).name)
    z = jnp.asarray(rng.normal(scale=2.0, size=shape), dtype=dtype)
    y = jnp.asarray(_dense_targets(rng, shape, kind), dtype=dtype)
    expected = _peer(optax.losses.poly_loss_cross_entropy, epsilon=epsilon)(z, y)
    _check(_jit(crossent.poly1_cross_entropy, epsilon=epsilon)(z, y), expected, dtype)


def test_poly_loss_default_epsilon_is_optax() -> None:
    """crossent's documented default ε = 2.0 is optax's (same shape and dtype as above: no compile)."""
    rng = _rng("poly-default")
    z = jnp.asarray(rng.normal(size=(7, 3)))
    y = jnp.asarray(_softmax(rng.normal(size=(7, 3))))
    _check(_jit(crossent.poly1_cross_entropy)(z, y), _peer(optax.losses.poly_loss_cross_entropy)(z, y), np.float64)


@pytest.mark.parametrize("dtype", DTYPES, **DTYPE_IDS)
def test_gradient_matches_jax_grad_of_optax(dtype: Any) -> None:
    """crossent's closed-form gradient equals jax.grad of optax's summed loss."""
    rng = _rng("grad", np.dtype(dtype).name)
    z = jnp.asarray(rng.normal(scale=2.0, size=(7, 3)), dtype=dtype)
    y = jnp.asarray(rng.integers(0, 3, size=7), dtype=jnp.int32)
    expected = jax.jit(jax.grad(lambda v: optax.softmax_cross_entropy_with_integer_labels(v, y).sum()))(z)
    _, grad = jax.jit(lambda v, t: crossent.value_and_grad(crossent.cross_entropy, v, t, reduction="sum"))(z, y)
    _check(grad, expected, dtype)
    yb = jnp.asarray(rng.random((7, 3)), dtype=dtype)
    expected = jax.jit(jax.grad(lambda v: optax.sigmoid_focal_loss(v, yb, alpha=0.25, gamma=2.0).sum()))(z)
    _, grad = jax.jit(lambda v, t: crossent.value_and_grad(crossent.binary_focal_loss, v, t, alpha=0.25,
                                                            gamma=2.0, reduction="sum"))(z, yb)
    _check(grad, expected, dtype)


# Eagerly, with crossent's value checks on (they are skipped under jit), and through the
# Keras-named entry points. One shape, so that JAX compiles each primitive once per dtype.
EAGER_CASES = {
    "softmax_cross_entropy": (crossent.cross_entropy, "soft", optax.softmax_cross_entropy, {}),
    "categorical_cross_entropy": (crossent.categorical_cross_entropy, "one_hot", optax.softmax_cross_entropy, {}),
    "integer_labels": (crossent.cross_entropy, "int32", optax.softmax_cross_entropy_with_integer_labels, {}),
    "int8_labels": (crossent.sparse_categorical_cross_entropy, "int8",
                    optax.softmax_cross_entropy_with_integer_labels, {}),
    "sigmoid_binary_cross_entropy": (crossent.binary_cross_entropy, "binary", optax.sigmoid_binary_cross_entropy, {}),
    "sigmoid_focal_loss": (crossent.binary_focal_loss, "binary", optax.sigmoid_focal_loss,
                           {"alpha": 0.25, "gamma": 2.0}),
    "poly_loss_cross_entropy": (crossent.poly1_cross_entropy, "soft", optax.losses.poly_loss_cross_entropy,
                                {"epsilon": 1.5}),
    "poly_loss_integer_labels": (crossent.poly1_cross_entropy, "int32", optax.losses.poly_loss_cross_entropy,
                                 {"epsilon": 1.5}),
}


@pytest.mark.parametrize("dtype", DTYPES, **DTYPE_IDS)
@pytest.mark.parametrize("case", list(EAGER_CASES))
def test_eager_matches_optax(case: str, dtype: Any) -> None:
    ours, kind, theirs, options = EAGER_CASES[case]
    rng = _rng("eager", case, np.dtype(dtype).name)
    z = jnp.asarray(rng.normal(scale=2.0, size=(7, 3)), dtype=dtype)
    if kind in ("int32", "int8"):
        y = jnp.asarray(rng.integers(0, 3, size=7), dtype=kind)
        y_peer = y if theirs is optax.softmax_cross_entropy_with_integer_labels else jax.nn.one_hot(y, 3, dtype=dtype)
    elif kind == "binary":
        y = y_peer = jnp.asarray(rng.random((7, 3)), dtype=dtype)
    else:
        y = y_peer = jnp.asarray(_dense_targets(rng, (7, 3), kind), dtype=dtype)
    _check(ours(z, y, reduction="none", **options), theirs(z, y_peer, **options), dtype)
