"""Fused value-and-gradient kernels for the hot cases, each a delegation branch of a generic loss.

A kernel computes the same numbers as the generic implementation in ``crossent.losses`` for the
cases it covers, in fewer passes; the generic path is the oracle and tests hold the two together.
``import crossent`` loads this module and ``_autograd`` only: Numba, Triton and PyTorch are
imported on the first call that a kernel takes.

- ``_numpy``: NumPy kernels for the linear model's objective on integer labels (plain and
  logit-adjusted softmax cross-entropy; one-logit sigmoid cross-entropy and the focal and Poly-1
  terms), used by ``crossent.models`` on every solver iteration.
- ``_cpu``: Numba kernels (optional extra ``crossent[cpu]``) for the softmax family of integer
  labels, binary cross-entropy from logits and the log loss of probabilities (``_cpu_softmax``,
  ``_cpu_sigmoid``, on the vectorizable functions of ``_numba_math``); the loss cores delegate
  NumPy and PyTorch CPU calls of at least ``_cpu.MIN_ELEMENTS`` elements to them through
  :func:`numba_kernels`. ``CROSSENT_KERNELS=0`` (or ``crossent.kernels._cpu.ENABLED = False``)
  turns them off. Their gradient goes into a new array, or into the destination that
  ``value_and_grad(..., out=)`` or a module's ``inplace_backward=True`` sets for the call
  (``_autograd.Destination``), the logits' own memory included.
- ``_triton``: Triton kernels (optional extra ``crossent[gpu]``) for the same losses on CUDA
  tensors, reached through :func:`triton_kernels`.
- ``_autograd``: the one autograd.Function that runs any of them under PyTorch's autograd.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from crossent._xp import compiling, namespace
from crossent.kernels import _autograd
from crossent.kernels._autograd import run as run_on_tensor
from crossent.kernels._autograd import takes as kernel_takes

__all__ = ["TRITON_ON_CPU", "delegate", "kernel_takes", "numba_kernels", "run_on_tensor", "triton_kernels"]

TRITON_ON_CPU = False
"""Tests set it (with ``TRITON_INTERPRET=1``) to send CPU tensors to the Triton kernels, which
Triton's interpreter then runs: the only way to exercise the CUDA branches without a GPU."""


def numba_kernels(x: Any) -> Any:
    """``crossent.kernels._cpu`` where it may take a call on ``x`` (a NumPy array, or a float32 or
    float64 PyTorch CPU tensor, of at least ``_cpu.MIN_ELEMENTS``; numba installed; the kernels
    on), else None. Numba is imported on the first such call, never by ``import crossent``."""
    if compiling() or not _autograd.kernels_allowed() or (
            type(x) is not np.ndarray and not _autograd.is_tensor_on(x, "cpu", ("float32", "float64"))):
        return None  # (under torch.compile's tracing the generic path is the graph)
    if TRITON_ON_CPU and triton_kernels(x) is not None:
        return None
    try:
        from crossent.kernels import _cpu
    except ImportError:  # numba is not installed: the generic path
        return None
    return _cpu if _cpu.ENABLED and _size(x) >= _cpu.MIN_ELEMENTS else None


def triton_kernels(x: Any) -> Any:
    """``crossent.kernels._triton`` for a float32, float16 or bfloat16 CUDA tensor (a CPU one
    under ``TRITON_ON_CPU``) with triton installed and the kernels on (``CROSSENT_KERNELS``),
    else None."""
    device = "cpu" if TRITON_ON_CPU else "cuda"
    if compiling() or not _autograd.kernels_allowed() or not _autograd.is_tensor_on(
            x, device, ("float32", "float16", "bfloat16")):
        return None
    if os.environ.get("CROSSENT_KERNELS", "1") == "0":
        return None
    try:
        from crossent.kernels import _triton
    except ImportError:  # triton is not installed: the generic path
        return None
    return _triton


def _size(x: Any) -> int:
    return x.size if isinstance(x.size, int) else x.numel()  # torch's size is a method


def delegate(kernel: Callable[..., tuple[Any, Any]], cpu: Any, x: Any, target: Any, options: dict[str, Any],
             *, grad: bool, per_row: bool, xp: Any) -> tuple[Any, Any]:
    """``kernel(cpu, x, target, **options, grad=grad, xp=xp)``, a core's Numba branch, which
    works on NumPy arrays. A PyTorch CPU tensor runs it on its own memory (``_autograd.run``,
    under autograd where x requires a gradient), its tensor options seen as NumPy arrays.
    ``per_row``: the value holds one loss per row of x (class axis last)."""
    if type(x) is np.ndarray:
        return kernel(cpu, x, target, **options, grad=grad, xp=xp)
    as_numpy = {name: _autograd.to_numpy(value) for name, value in options.items()}
    labels = _autograd.to_numpy(target)
    numpy_xp = namespace(labels)

    def compute(values: Any, want_grad: bool) -> tuple[Any, Any]:
        with _threads_of_torch():
            return _autograd.as_tensors(*kernel(cpu, values.numpy(), labels, **as_numpy, grad=want_grad,
                                                xp=numpy_xp))

    return _autograd.run(x, compute, grad=grad, per_row=per_row)


@contextlib.contextmanager
def _threads_of_torch() -> Iterator[None]:
    """Numba's thread count for a kernel on a PyTorch tensor: torch's (``torch.set_num_threads``),
    within Numba's own limit, set for the call and restored after it."""
    import numba
    import torch

    previous = numba.get_num_threads()
    limit = numba.config.NUMBA_NUM_THREADS  # type: ignore[attr-defined]
    numba.set_num_threads(max(1, min(torch.get_num_threads(), limit)))
    try:
        yield
    finally:
        numba.set_num_threads(previous)
