"""``torch.nn.Module`` faces of the crossent losses, generated from the loss functions.

Each class is made by :func:`loss_module` from one declared loss: its constructor takes that
function's options (every keyword after ``(prediction, target)`` except ``sample_weight`` and
``denominator``, which are per batch, and ``xp``, which is always torch here), with the function's own defaults, so the
options are declared in one place. Options annotated as arrays (``weight``, ``pos_weight``,
``priors``, a per-class ``alpha``) become buffers: ``.to(device)``, ``.double()`` and
``state_dict()`` carry them. ``forward(prediction, target, sample_weight=None, denominator=None)`` calls the
function; the documentation of the options is the function's, referred to, not copied. The one
default that differs is the softmax losses' ``axis``: None, PyTorch's layout (the class axis is 1
for inputs ``(N, C, d1, ...)``, as ``nn.CrossEntropyLoss``), where the functions' is -1.

One option is the modules' own, not a loss option: ``inplace_backward``, the gradient written
over the logits in the forward (see :class:`LossModule`).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import torch

from crossent.kernels._autograd import overwriting_logits
from crossent.losses._define import lookup

__all__ = ["LossModule", "class_name", "loss_module"]

_PER_CALL = ("sample_weight", "denominator", "xp")  # function parameters that are not constructor options



class LossModule(torch.nn.Module):
    """Base of the generated loss modules: holds the options and calls the loss function.

    ``inplace_backward=True``, the modules' own option: the fused kernel writes the gradient over
    the logits' memory in the forward, as flash-attention's and Liger's cross-entropy do, so that
    no gradient-sized buffer is allocated; the caller promises not to read the logits after the
    loss (they hold the gradient, scaled in the backward). It takes effect where a Numba kernel
    takes the call under autograd: contiguous float32 or float64 CPU logits of at least 65,536
    elements, ``(N, C)`` with integer labels for the softmax losses from logits, any shape for
    binary cross-entropy. (Float32 cross-entropy without focal γ, Poly-1 ε or soft-capping writes
    it in its one pass; the other softmax kernels read each row from a copy of that row.)
    On CUDA, the Triton kernels (the softmax losses of integer labels, binary cross-entropy) write
    over contiguous logits in their one pass too. Elsewhere (smaller CPU inputs, ``(N, C, d1, ...)``,
    other dtypes, probabilities, the generic path, ``CROSSENT_KERNELS=0``, ``torch.compile``, no
    gradient wanted) the loss is computed as without it, not in place, with the same result.

    Autograd's checks hold: the logits' version counter is bumped, so the backward of another op
    that saved them raises instead of reading the gradient. Safe: logits that are the output of a
    Linear layer or a matmul (whose backward needs its inputs, not its output), or a contiguous
    view or a cast of one; a leaf that requires a gradient, written through ``.detach()``'s
    storage, which torch allows (its ``.grad`` then shares the logits' memory: not for a parameter
    you train). Caught: logits saved by an op that needs them in its backward (``exp``,
    ``softmax``, ``x * x``). Not caught: reading the logits after the loss (an accuracy computed
    from them then reads the gradient). Where it took effect, a backward with
    ``create_graph=True`` raises: second derivatives need the logits.
    """

    loss: Callable[..., Any]  # the crossent function, set on each generated class
    options: tuple[str, ...]  # its constructor options, in signature order
    array_options: frozenset[str]  # the options held as buffers when given as arrays
    inplace_backward: bool  # the modules' own option (see above)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__()
        try:
            bound = inspect.signature(type(self)).bind(*args, **kwargs)
        except TypeError as error:  # "got an unexpected keyword argument 'gama'", say
            raise TypeError(f"{type(self).__name__}() {error}") from None
        bound.apply_defaults()
        if not isinstance(bound.arguments["inplace_backward"], bool):
            raise TypeError(f"inplace_backward must be True or False, got {bound.arguments['inplace_backward']!r}")
        for name, value in bound.arguments.items():
            if name in self.array_options and (value is None or _is_array(value)):
                self.register_buffer(name, None if value is None else _as_tensor(value))
            else:
                setattr(self, name, value)

    def forward(self, prediction: torch.Tensor, target: torch.Tensor,
                sample_weight: torch.Tensor | None = None,
                denominator: float | torch.Tensor | None = None) -> torch.Tensor:
        options = {name: getattr(self, name) for name in self.options}
        if "axis" in options and options["axis"] is None:  # PyTorch's layout: (C), (N, C), (N, C, d1, ...)
            options["axis"] = 1 if prediction.ndim >= 2 else 0
        with overwriting_logits(getattr(self, "inplace_backward", False)):  # (a module pickled before it: False)
            return type(self).loss(prediction, target, **options, sample_weight=sample_weight,
                                   denominator=denominator)

    def extra_repr(self) -> str:
        defaults = inspect.signature(type(self)).parameters
        shown = []
        for name in self.options:
            value = getattr(self, name)
            if isinstance(value, torch.Tensor):
                shown.append(f"{name}=tensor(shape={tuple(value.shape)})")
            elif value is not defaults[name].default:
                shown.append(f"{name}={value!r}")
        if getattr(self, "inplace_backward", False):
            shown.append("inplace_backward=True")
        return ", ".join(shown)


def _is_array(value: Any) -> bool:
    return value is not None and not isinstance(value, bool | int | float)


def _as_tensor(value: Any) -> torch.Tensor:
    tensor = torch.as_tensor(value)
    if not (tensor.is_floating_point() or tensor.is_complex()):
        tensor = tensor.to(torch.get_default_dtype())  # [1, 2, 1] as class weights
    return tensor


def class_name(function_name: str) -> str:
    """``cross_entropy`` → ``CrossEntropyLoss``, ``focal_loss`` → ``FocalLoss``."""
    camel = "".join(part.capitalize() for part in function_name.split("_"))
    return camel if function_name.endswith("_loss") else camel + "Loss"


def loss_module(loss: Callable[..., Any]) -> type[LossModule]:
    """The ``nn.Module`` class of a crossent loss function, generated from its signature."""
    name, _ = lookup(loss)  # a ValueError for anything but a declared crossent loss
    parameters = list(inspect.signature(loss).parameters.values())[2:]
    # a module carries torch's name, so it takes torch's layout: the class axis is 1 (0 for an
    # unbatched (C,) input), as nn.CrossEntropyLoss, where the function's is -1; axis=None says so
    options = [p.replace(default=None, annotation="int | None") if p.name == "axis" else p
               for p in parameters if p.name not in _PER_CALL]
    own = inspect.Parameter("inplace_backward", inspect.Parameter.KEYWORD_ONLY, default=False, annotation="bool")
    this = class_name(name)

    def __init__(self: LossModule, *args: Any, **kwargs: Any) -> None:
        LossModule.__init__(self, *args, **kwargs)

    self_parameter = inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)
    __init__.__signature__ = inspect.Signature([self_parameter, *options, own])  # type: ignore[attr-defined]
    __init__.__qualname__ = f"{this}.__init__"
    doc = (f"``torch.nn.Module`` face of :func:`crossent.{name}`.\n\n"
           f"The constructor takes that function's options, with its defaults; see its docstring\n"
           f"for what they mean, except ``axis``: None (the default) is PyTorch's layout, the\n"
           f"class axis 1 of ``(N, C, d1, ...)``. Array options are buffers. ``forward(prediction, target,\n"
           f"sample_weight=None, denominator=None)`` returns ``crossent.{name}(prediction, target,\n"
           f"**options, sample_weight=sample_weight, denominator=denominator)``: the denominator of a\n"
           f"step's micro-batches changes from step to step (crossent.torch.distributed.loss_denominator).\n\n"
           f"``inplace_backward=True`` (the module's own option) writes the gradient over the logits in\n"
           f"the forward where a CPU kernel takes the call: see :class:`crossent.torch.LossModule`.\n")
    return type(this, (LossModule,), {
        "__init__": __init__,
        "__doc__": doc,
        "__module__": "crossent.torch",
        "__qualname__": this,
        "loss": staticmethod(loss),
        "options": tuple(p.name for p in options),
        "array_options": frozenset(p.name for p in options if "Array" in str(p.annotation)),
    })
