"""Fused value-and-gradient kernels for the hot cases, each a delegation branch of a generic loss.

A kernel computes the same numbers as the generic implementation in ``crossent.losses`` for the
cases it covers, in fewer passes; the generic path is the oracle and tests hold the two together.
Nothing here is imported by ``import crossent``.

- ``_numpy``: NumPy kernels for plain cross-entropy of integer labels (softmax and one-logit
  sigmoid), used by ``crossent.models`` on every solver iteration.
- ``_cpu``: Numba kernels (optional extra ``crossent[cpu]``) for the softmax family of integer
  labels, binary cross-entropy from logits and the log loss of probabilities (``_cpu_softmax``,
  ``_cpu_sigmoid``, on the vectorizable functions of ``_numba_math``); the loss cores delegate
  NumPy and PyTorch CPU calls of at least ``_cpu.MIN_ELEMENTS`` elements to them through
  :func:`numba_kernels`. ``CROSSENT_KERNELS=0`` (or ``crossent.kernels._cpu.ENABLED = False``)
  turns them off.
- ``_torch_cpu``: the autograd.Function that runs those kernels on a CPU tensor's memory.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from crossent._xp import namespace
from crossent.kernels import _torch_cpu
from crossent.kernels._torch_cpu import takes as kernel_takes

__all__ = ["delegate", "kernel_takes", "numba_kernels"]


def numba_kernels(x: Any) -> Any:
    """``crossent.kernels._cpu`` where it may take a call on ``x`` (a NumPy array, or a float32 or
    float64 PyTorch CPU tensor, of at least ``_cpu.MIN_ELEMENTS``; numba installed; the kernels
    on), else None. Numba is imported on the first such call, never by ``import crossent``."""
    if type(x) is not np.ndarray and not _torch_cpu.is_cpu_tensor(x):
        return None
    try:
        from crossent.kernels import _cpu
    except ImportError:  # numba is not installed: the generic path
        return None
    return _cpu if _cpu.ENABLED and _size(x) >= _cpu.MIN_ELEMENTS else None


def _size(x: Any) -> int:
    return x.size if isinstance(x.size, int) else x.numel()  # torch's size is a method


def delegate(kernel: Callable[..., tuple[Any, Any]], cpu: Any, x: Any, target: Any, options: dict[str, Any],
             *, grad: bool, per_row: bool, xp: Any) -> tuple[Any, Any]:
    """``kernel(cpu, x, target, **options, grad=grad, xp=xp)``, a core's kernel branch, which
    works on NumPy arrays. A PyTorch CPU tensor runs it on its own memory (``_torch_cpu.run``,
    under autograd where x requires a gradient), its tensor options seen as NumPy arrays.
    ``per_row``: the value holds one loss per row of x (class axis last)."""
    if type(x) is np.ndarray:
        return kernel(cpu, x, target, **options, grad=grad, xp=xp)
    as_numpy = {name: _torch_cpu.to_numpy(value) for name, value in options.items()}
    labels = _torch_cpu.to_numpy(target)
    numpy_xp = namespace(labels)

    def compute(values: np.ndarray, want_grad: bool) -> tuple[Any, Any]:
        return kernel(cpu, values, labels, **as_numpy, grad=want_grad, xp=numpy_xp)

    return _torch_cpu.run(x, compute, grad=grad, per_row=per_row)
