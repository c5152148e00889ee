"""Shared fixtures: the array backends every test runs on, and dtype-tied tolerances."""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "jax")  # keras 3 without TensorFlow
# the Triton kernels run on the CPU under Triton's interpreter; set before anything imports triton
# (TRITON_INTERPRET=0 runs tests/test_kernels_triton*.py on a CUDA device instead)
os.environ.setdefault("TRITON_INTERPRET", "1")
# scikit-learn's estimator checks test array-API input only where SciPy's array API support is on
# (it must be set before SciPy is imported).
os.environ.setdefault("SCIPY_ARRAY_API", "1")

if importlib.util.find_spec("jax") is not None:
    import jax

    jax.config.update("jax_enable_x64", True)  # float64 comparisons on JAX too


@dataclass(frozen=True)
class Backend:
    """One array library: how to make its arrays from NumPy and read them back."""

    name: str
    xp: Any

    def asarray(self, a: Any, dtype: Any = None) -> Any:
        a = np.asarray(a)
        if self.name == "torch":
            import torch

            out = torch.asarray(a)
            return out if dtype is None else out.to(dtype)
        out = self.xp.asarray(a)
        return out if dtype is None else self.xp.astype(out, dtype)

    def to_numpy(self, a: Any) -> np.ndarray:
        if self.name == "torch":
            return a.detach().cpu().numpy()
        if self.name == "array_api_strict":
            return np.from_dlpack(a)
        return np.asarray(a)


def _backend(name: str) -> Backend:
    if name == "numpy":
        import array_api_compat.numpy as xp

        return Backend(name, xp)
    if name == "array_api_strict":
        xp = pytest.importorskip("array_api_strict")
        return Backend(name, xp)
    if name == "torch":
        pytest.importorskip("torch")
        import array_api_compat.torch as xp

        return Backend(name, xp)
    jnp = pytest.importorskip("jax.numpy")
    return Backend(name, jnp)


BACKENDS = ["numpy", "array_api_strict", "torch", "jax"]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> Backend:
    """Each test that takes ``backend`` runs on NumPy, array-api-strict, PyTorch and JAX."""
    return _backend(request.param)


def rtol(dtype: Any) -> float:
    """Relative tolerance tied to the dtype: 4·√eps (float64 ≈ 6e-8, float32 ≈ 1.4e-3)."""
    return 4 * float(np.sqrt(np.finfo(np.dtype(dtype)).eps))


def assert_close(actual: Any, expected: Any, dtype: Any = np.float64, *, atol: float | None = None) -> None:
    """actual ≈ expected within rtol(dtype); atol defaults to rtol(dtype)² scale of 1."""
    tol = rtol(dtype)
    np.testing.assert_allclose(np.asarray(actual, dtype=np.float64), np.asarray(expected, dtype=np.float64),
                               rtol=tol, atol=tol * 1e-3 if atol is None else atol)


def backward(loss: Any, z: Any, target: Any, upstream: Any = None, **options: Any) -> tuple[Any, Any]:
    """(value, gradient) of ``loss(z, target, **options)`` for a torch tensor z, by ``backward``
    with ``upstream`` as grad_output, on a fresh leaf copy of z."""
    x = z.clone().requires_grad_()
    value = loss(x, target, **options)
    value.backward(upstream)
    return value.detach(), x.grad


def softmax_rows(z: np.ndarray) -> np.ndarray:
    """Row-wise softmax of test logits (plain NumPy, for drawing labels and building probabilities)."""
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def sigmoid_array(z: np.ndarray) -> np.ndarray:
    """Element-wise sigmoid of test logits (plain NumPy)."""
    return 1 / (1 + np.exp(-z))
