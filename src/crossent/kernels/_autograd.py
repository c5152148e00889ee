"""The fused kernels under PyTorch's autograd: one ``torch.autograd.Function`` for all of them.

A loss core that takes a kernel branch for a tensor hands :func:`run` a ``compute(x, grad)`` that
returns (value, gradient or None) as tensors: the Numba kernels run on a CPU tensor's memory
(``x.numpy()`` is a view, see ``kernels.delegate``), the Triton kernels on a CUDA tensor. Under
autograd, :class:`_Fused` wraps it: its forward computes the value and the gradient in the
kernel's one pass and keeps the gradient; its backward scales that gradient by ``grad_output``
in place and hands it over, so that no second gradient-sized buffer is made. On the CPU a
``grad_output`` of 1 (the ``loss.backward()`` of a scalar loss) skips even that pass; on a GPU
the scaling is a kernel launch, since reading ``grad_output`` would wait for the device.

Only the prediction gets a gradient: calls whose other tensors require one take the generic
path (see :func:`takes`). The gradient is handed to the first backward, so a second one
(``retain_graph=True``) raises; ``CROSSENT_KERNELS=0`` gives the generic path, which allows it.

In-place gradients. A kernel writes its gradient into a new array unless a :class:`Destination`
is set (:func:`gradient_into`): ``crossent.value_and_grad(..., out=)`` sets one for its call, and
:func:`overwriting_logits` (``inplace_backward=True`` of the ``crossent.torch`` modules) asks
:class:`_Fused`'s forward to set one over its own input, so that the gradient is written over the
logits and no gradient-sized buffer is made. The version counter of logits so overwritten is
bumped, so that autograd catches a backward of another op that saved them.
"""

from __future__ import annotations

import contextlib
import contextvars
import sys
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

__all__ = ["Destination", "generic_only", "gradient_into", "is_tensor_on", "overwriting_logits", "replaying",
           "run", "take_destination", "takes", "to_numpy"]

Compute = Callable[[Any, bool], tuple[Any, Any]]

# Higher-order autograd. The kernel's gradient is a number, not a graph: where a backward itself
# builds a graph (create_graph=True: Hessian-vector products, gradient penalties), _Fused replays
# the call on the generic path, differentiably. The loss (losses/_define.py) says how to replay it.
_REPLAY: contextvars.ContextVar[Callable[[Any], Any] | None] = contextvars.ContextVar("replay", default=None)
_GENERIC_ONLY: contextvars.ContextVar[bool] = contextvars.ContextVar("generic_only", default=False)


class Destination:
    """Where the gradient of the next kernel call on exactly ``logits``' memory goes: into ``out``
    (``logits`` itself: over the logits). Both are C-contiguous NumPy arrays of one shape and
    dtype, ``out`` writable. Taken once (:func:`take_destination`): a second kernel call in the
    same context, which could read logits already overwritten, gets a new array."""

    __slots__ = ("logits", "out", "taken")

    def __init__(self, logits: np.ndarray, out: np.ndarray) -> None:
        self.logits, self.out, self.taken = logits, out, False


_DESTINATION: contextvars.ContextVar[Destination | None] = contextvars.ContextVar("destination", default=None)
_OVERWRITE: contextvars.ContextVar[bool] = contextvars.ContextVar("overwrite_logits", default=False)


@contextlib.contextmanager
def gradient_into(destination: Destination | None) -> Iterator[None]:
    """Within: the kernel call on ``destination.logits`` writes its gradient into ``destination.out``."""
    token = _DESTINATION.set(destination)
    try:
        yield
    finally:
        _DESTINATION.reset(token)


@contextlib.contextmanager
def overwriting_logits(enabled: bool = True) -> Iterator[None]:
    """Within: a kernel under autograd (:class:`_Fused`) writes its gradient over its logits where
    it can (a contiguous float32 or float64 CPU tensor), and bumps their version counter."""
    token = _OVERWRITE.set(enabled)
    try:
        yield
    finally:
        _OVERWRITE.reset(token)


def take_destination(z: np.ndarray) -> np.ndarray | None:
    """The array a kernel on the logits ``z`` writes its gradient into, viewed in ``z``'s shape
    (``z`` itself: in place), where the current :class:`Destination` is for exactly ``z``'s
    memory and not yet taken; else None (a new array)."""
    destination = _DESTINATION.get()
    if destination is None or destination.taken or not _same_memory(z, destination.logits):
        return None
    in_place = _same_memory(destination.out, destination.logits)
    if in_place and not z.flags.writeable:
        return None
    destination.taken = True
    return z if in_place else destination.out.reshape(z.shape)  # (a view: out is C-contiguous)


class _TensorOver:
    """Over the logits of a device tensor (the Triton kernels'): its memory, taken once."""

    __slots__ = ("key", "taken")

    def __init__(self, x: Any) -> None:
        self.key, self.taken = (x.data_ptr(), x.numel(), x.dtype, x.device), False


_TENSOR_OVER: contextvars.ContextVar[_TensorOver | None] = contextvars.ContextVar("tensor_over", default=None)


def take_over(z: Any) -> bool:
    """Whether a Triton kernel on the rows ``z`` (a contiguous tensor) writes its gradient over
    them: ``inplace_backward=True`` asked for it for exactly this memory, not yet taken."""
    over = _TENSOR_OVER.get()
    if over is None or over.taken or not z.is_contiguous() or (z.data_ptr(), z.numel(), z.dtype, z.device) != over.key:
        return False
    over.taken = True
    return True


def _same_memory(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether a and b are the same C-contiguous memory in the same dtype: the same elements in
    the same order, whatever their shapes."""
    return (a.ctypes.data == b.ctypes.data and a.nbytes == b.nbytes and a.dtype == b.dtype
            and a.flags.c_contiguous and b.flags.c_contiguous)


@contextlib.contextmanager
def replaying(replay: Callable[[Any], Any]) -> Iterator[None]:
    """Within: a kernel under autograd can recompute its value as ``replay(x)`` on the generic path."""
    token = _REPLAY.set(replay)
    try:
        yield
    finally:
        _REPLAY.reset(token)


@contextlib.contextmanager
def generic_only() -> Iterator[None]:
    """Within: no kernel takes a call (kernels.numba_kernels and triton_kernels give None)."""
    token = _GENERIC_ONLY.set(True)
    try:
        yield
    finally:
        _GENERIC_ONLY.reset(token)


def kernels_allowed() -> bool:
    return not _GENERIC_ONLY.get()


def is_tensor_on(x: Any, device: str, dtypes: tuple[str, ...]) -> bool:
    """Whether x is a plain PyTorch tensor on ``device`` ("cpu", "cuda") with one of ``dtypes``
    (torch attribute names), not a fake tensor of torch.compile's tracing, a functorch-wrapped
    one or a tensor subclass. PyTorch is not imported here: a tensor means it already is."""
    torch = sys.modules.get("torch")
    if torch is None or type(x) not in (torch.Tensor, torch.nn.Parameter):
        return False
    if x.device.type != device or x.dtype not in tuple(getattr(torch, name) for name in dtypes):
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
    """(value, gradient or None) of a kernel on the tensor x. ``grad``: the caller wants the
    gradient itself (``value_and_grad``); otherwise, where x requires a gradient, the value
    carries one through autograd. ``per_row``: the value has one entry per row of x (the "none"
    reduction of the softmax family), so grad_output broadcasts along x's last axis."""
    import torch

    if grad:
        return compute(x.detach(), True)
    if x.requires_grad and torch.is_grad_enabled():
        return _Fused.apply(x, compute, per_row, _REPLAY.get()), None
    return compute(x.detach(), False)[0], None


def _function() -> Any:
    import torch

    class Fused(torch.autograd.Function):
        @staticmethod
        def forward(ctx: Any, x: Any, compute: Compute, per_row: bool, replay: Any) -> Any:
            over = _over(x) if _OVERWRITE.get() else None
            device_over = _TensorOver(x) if _OVERWRITE.get() and x.is_contiguous() else None  # (Triton's)
            token = _TENSOR_OVER.set(device_over)
            try:
                with gradient_into(over):
                    value, g = compute(x.detach(), True)
            finally:
                _TENSOR_OVER.reset(token)
            # (whatever the core made of the gradient after)
            ctx.overwritten = (over is not None and over.taken) or (device_over is not None and device_over.taken)
            if ctx.overwritten:
                # the logits now hold the gradient: an op that saved them for its backward (exp,
                # softmax, x * x) must see that they changed, as after any in-place write
                torch.autograd.graph.increment_version(x)
                replay = None  # (a replay would read the gradient as logits)
            # kept on ctx rather than saved for backward, so that backward can hand it over: a
            # saved tensor has another owner, and autograd would copy it into x.grad
            ctx.gradient = g
            ctx.per_row = per_row
            ctx.replay = replay
            if replay is not None:
                ctx.save_for_backward(x)
            return value

        @staticmethod
        def backward(ctx: Any, grad_output: Any) -> Any:
            if torch.is_grad_enabled() and ctx.overwritten:
                raise RuntimeError("a backward that builds a graph (create_graph=True) through a crossent loss "
                                   "with inplace_backward=True: the logits it needs were overwritten with the "
                                   "gradient in the forward; use inplace_backward=False")
            if torch.is_grad_enabled() and ctx.replay is not None:  # create_graph: a differentiable gradient
                (x,) = ctx.saved_tensors
                with generic_only():
                    value = ctx.replay(x)
                (g,) = torch.autograd.grad(value, x, grad_output, create_graph=True)
                return g, None, None, None
            g, ctx.gradient = ctx.gradient, None
            if g is None:
                raise RuntimeError("a second backward through a crossent fused kernel: its gradient "
                                   "went to the first one; set CROSSENT_KERNELS=0 to backward twice "
                                   "(retain_graph=True)")
            if ctx.per_row:
                grad_output = grad_output.unsqueeze(-1)
            elif g.device.type == "cpu" and grad_output.numel() == 1 and grad_output.item() == 1.0:
                return g, None, None, None  # loss.backward(): the kernel's gradient itself, untouched
            return g.mul_(grad_output), None, None, None  # (a float32 grad_output: the product is rounded once)

    return Fused


def _over(x: Any) -> Destination | None:
    """A destination over the memory of the tensor x, where a Numba kernel can write into it."""
    if not (is_tensor_on(x, "cpu", ("float32", "float64")) and x.is_contiguous()) or x.is_inference():
        return None
    logits = x.detach().numpy()
    return Destination(logits, logits)


class _Lazy:
    """The autograd.Function class, made on first use (PyTorch is imported then, not before)."""

    _cls: Any = None

    def apply(self, *args: Any) -> Any:
        if _Lazy._cls is None:
            _Lazy._cls = _function()
        return _Lazy._cls.apply(*args)


_Fused = _Lazy()


def as_tensors(value: Any, g: np.ndarray | None) -> tuple[Any, Any]:
    """NumPy results of a CPU kernel as tensors sharing their memory."""
    import torch

    return torch.from_numpy(np.array(value, copy=None, ndmin=0)), None if g is None else torch.from_numpy(g)
