"""The Numba kernels for PyTorch CPU tensors: the kernel runs on the tensor's own memory.

A loss core that takes the kernel branch for a CPU tensor hands :func:`run` a ``compute(x, grad)``
that does the NumPy work on ``x.numpy()`` (a view, no copy) and returns (value, gradient or None)
as NumPy arrays. Under autograd, :class:`_Fused` is the ``torch.autograd.Function`` around it:
its forward computes the value and the gradient in the kernel's one pass and keeps the
gradient; its backward scales that gradient by ``grad_output`` (and hands it over as it is when
``grad_output`` is 1, the ``loss.backward()`` of a scalar loss, so that the gradient is written
once). Only the prediction gets a gradient: calls whose other tensors require one take the
generic path (see :func:`takes`). The gradient is handed to the first backward, so a second one
(``retain_graph=True``) raises; ``CROSSENT_KERNELS=0`` gives the generic path, which allows it.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = ["is_cpu_tensor", "run", "takes"]

Compute = Callable[[np.ndarray, bool], tuple[Any, np.ndarray | None]]


def is_cpu_tensor(x: Any) -> bool:
    """Whether x is a plain float32 or float64 PyTorch tensor in CPU memory (not a fake tensor of
    torch.compile's tracing, a functorch-wrapped one, or a tensor subclass), whose memory NumPy
    can read. PyTorch is not imported here: a tensor means it already is."""
    torch = sys.modules.get("torch")
    if torch is None or type(x) not in (torch.Tensor, torch.nn.Parameter):
        return False
    if x.device.type != "cpu" or x.dtype not in (torch.float32, torch.float64):
        return False
    wrapped = getattr(torch._C._functorch, "is_functorch_wrapped_tensor", None)
    return not (wrapped is not None and wrapped(x))


def takes(*options: Any) -> bool:
    """False if any tensor among ``options`` (weights, priors, ...) requires a gradient, which
    the kernel would not give it."""
    return not any(getattr(option, "requires_grad", False) for option in options)


def to_numpy(value: Any) -> Any:
    """A CPU tensor as a NumPy array (a view); anything else as it is."""
    return value.detach().numpy() if hasattr(value, "detach") and hasattr(value, "numpy") else value


def run(x: Any, compute: Compute, *, grad: bool, per_row: bool) -> tuple[Any, Any]:
    """(value, gradient or None) of a kernel on the tensor x, as tensors. ``grad``: the caller
    wants the gradient itself (``value_and_grad``); otherwise, where x requires a gradient, the
    value carries one through autograd. ``per_row``: the value has one entry per row of x (the
    "none" reduction of the softmax family), so grad_output broadcasts along x's last axis."""
    import torch

    if grad:
        value, g = compute(x.detach().numpy(), True)
        return _tensor(value), torch.from_numpy(g)
    if x.requires_grad and torch.is_grad_enabled():
        return _Fused.apply(x, compute, per_row), None
    value, _ = compute(x.detach().numpy(), False)
    return _tensor(value), None


def _tensor(value: Any) -> Any:
    import torch

    return torch.from_numpy(np.array(value, copy=None, ndmin=0))


def _function() -> Any:
    import torch

    class Fused(torch.autograd.Function):
        @staticmethod
        def forward(ctx: Any, x: Any, compute: Compute, per_row: bool) -> Any:
            value, g = compute(x.detach().numpy(), True)
            # kept on ctx rather than saved for backward, so that backward can hand it over: a
            # saved tensor has another owner, and autograd would copy it into x.grad
            ctx.gradient = torch.from_numpy(g)
            ctx.per_row = per_row
            return _tensor(value)

        @staticmethod
        def backward(ctx: Any, grad_output: Any) -> Any:
            g, ctx.gradient = ctx.gradient, None
            if g is None:
                raise RuntimeError("a second backward through crossent's fused CPU kernel: its gradient "
                                   "went to the first one; set CROSSENT_KERNELS=0 to backward twice "
                                   "(retain_graph=True)")
            if ctx.per_row:
                return g * grad_output.unsqueeze(-1), None, None
            if grad_output.numel() == 1 and grad_output.item() == 1.0:
                return g, None, None  # loss.backward(): the kernel's gradient itself, no copy
            return g * grad_output, None, None
    return Fused


class _Lazy:
    """The autograd.Function class, made on first use (PyTorch is imported then, not before)."""

    _cls: Any = None

    def apply(self, *args: Any) -> Any:
        if _Lazy._cls is None:
            _Lazy._cls = _function()
        return _Lazy._cls.apply(*args)


_Fused = _Lazy()
