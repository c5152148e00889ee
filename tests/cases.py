"""The option cases that the autograd and Hessian tests share: a loss, its options, the kind of
target, and the float64 inputs made from them (tests/test_autograd.py, tests/test_hessian.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

BINARY = ("binary_cross_entropy", "binary_focal_loss", "asymmetric_loss")


class Case(NamedTuple):
    loss: str
    options: dict[str, Any]
    target: str = "labels"  # labels | soft | onehot | onehot_zero_row | all_ignored (softmax); 01 | soft (binary)
    shape: tuple[int, ...] | None = None
    scale: float = 1.5  # standard deviation of the logits
    jax: bool = True  # also against jax (JAX compiles every new operation: a subset of the cases suffices)


def _softmax(z: np.ndarray, axis: int) -> np.ndarray:
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def make_inputs(case: Case, seed: int = 0, *, binary_shape: tuple[int, ...] = (4, 3)) -> tuple[np.ndarray, np.ndarray]:
    """float64 prediction (logits, or probabilities strictly inside (0, 1)) and its target;
    ``binary_shape`` for a binary case that gives no shape of its own."""
    rng = np.random.default_rng(seed)
    from_logits = case.options.get("from_logits", True)
    if case.loss in BINARY:
        shape = case.shape or binary_shape
        z = rng.normal(scale=case.scale, size=shape)
        y = rng.uniform(size=shape) if case.target == "soft" else (rng.uniform(size=shape) < 0.5).astype(np.float64)
        return (z if from_logits else 1 / (1 + np.exp(-z))), y
    shape = case.shape or (5, 4)
    axis = case.options.get("axis", -1) % len(shape)
    num_classes = shape[axis]
    batch = shape[:axis] + shape[axis + 1:]
    z = rng.normal(scale=case.scale, size=shape)
    prediction = z if from_logits else _softmax(z, axis)
    labels = rng.integers(0, num_classes, size=batch)
    if case.target in ("labels", "all_ignored"):
        ignore_index = case.options.get("ignore_index")
        if ignore_index is not None:
            labels.reshape(-1)[:: 1 if case.target == "all_ignored" else 3] = ignore_index
        return prediction, labels
    if case.target == "soft":
        dense = rng.dirichlet(np.ones(num_classes), size=batch)
    else:
        dense = np.eye(num_classes)[labels]
        if case.target == "onehot_zero_row":
            dense.reshape(-1, num_classes)[0] = 0.0
    return prediction, np.moveaxis(dense, -1, axis)


def convert(options: dict[str, Any], asarray: Callable[[np.ndarray], Any]) -> dict[str, Any]:
    """The array options in another library's arrays."""
    return {key: asarray(value) if isinstance(value, np.ndarray) else value for key, value in options.items()}
