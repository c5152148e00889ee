"""``torch.nn.Module`` faces of the crossent losses, generated from the loss functions.

Each class is made by :func:`loss_module` from one declared loss: its constructor takes that
function's options (every keyword after ``(prediction, target)`` except ``sample_weight``, which
is per batch, and ``xp``, which is always torch here), with the function's own defaults, so the
options are declared in one place. Options annotated as arrays (``weight``, ``pos_weight``,
``priors``, a per-class ``alpha``) become buffers: ``.to(device)``, ``.double()`` and
``state_dict()`` carry them. ``forward(prediction, target, sample_weight=None)`` calls the
function; the documentation of the options is the function's, referred to, not copied. The one
default that differs is the softmax losses' ``axis``: None, PyTorch's layout (the class axis is 1
for inputs ``(N, C, d1, ...)``, as ``nn.CrossEntropyLoss``), where the functions' is -1.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import torch

from crossent.losses._define import lookup

__all__ = ["LossModule", "class_name", "loss_module"]

_PER_CALL = ("sample_weight", "xp")  # function parameters that are not constructor options


class LossModule(torch.nn.Module):
    """Base of the generated loss modules: holds the options and calls the loss function."""

    loss: Callable[..., Any]  # the crossent function, set on each generated class
    options: tuple[str, ...]  # its constructor options, in signature order
    array_options: frozenset[str]  # the options held as buffers when given as arrays

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__()
        try:
            bound = inspect.signature(type(self)).bind(*args, **kwargs)
        except TypeError as error:  # "got an unexpected keyword argument 'gama'", say
            raise TypeError(f"{type(self).__name__}() {error}") from None
        bound.apply_defaults()
        for name, value in bound.arguments.items():
            if name in self.array_options and (value is None or _is_array(value)):
                self.register_buffer(name, None if value is None else _as_tensor(value))
            else:
                setattr(self, name, value)

    def forward(self, prediction: torch.Tensor, target: torch.Tensor,
                sample_weight: torch.Tensor | None = None) -> torch.Tensor:
        options = {name: getattr(self, name) for name in self.options}
        if "axis" in options and options["axis"] is None:  # PyTorch's layout: (C), (N, C), (N, C, d1, ...)
            options["axis"] = 1 if prediction.ndim >= 2 else 0
        return type(self).loss(prediction, target, **options, sample_weight=sample_weight)

    def extra_repr(self) -> str:
        defaults = inspect.signature(type(self)).parameters
        shown = []
        for name in self.options:
            value = getattr(self, name)
            if isinstance(value, torch.Tensor):
                shown.append(f"{name}=tensor(shape={tuple(value.shape)})")
            elif value is not defaults[name].default:
                shown.append(f"{name}={value!r}")
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
    this = class_name(name)

    def __init__(self: LossModule, *args: Any, **kwargs: Any) -> None:
        LossModule.__init__(self, *args, **kwargs)

    self_parameter = inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)
    __init__.__signature__ = inspect.Signature([self_parameter, *options])  # type: ignore[attr-defined]
    __init__.__qualname__ = f"{this}.__init__"
    doc = (f"``torch.nn.Module`` face of :func:`crossent.{name}`.\n\n"
           f"The constructor takes that function's options, with its defaults; see its docstring\n"
           f"for what they mean, except ``axis``: None (the default) is PyTorch's layout, the\n"
           f"class axis 1 of ``(N, C, d1, ...)``. Array options are buffers. ``forward(prediction, target,\n"
           f"sample_weight=None)`` returns ``crossent.{name}(prediction, target, **options,\n"
           f"sample_weight=sample_weight)``.\n")
    return type(this, (LossModule,), {
        "__init__": __init__,
        "__doc__": doc,
        "__module__": "crossent.torch",
        "__qualname__": this,
        "loss": staticmethod(loss),
        "options": tuple(p.name for p in options),
        "array_options": frozenset(p.name for p in options if "Array" in str(p.annotation)),
    })
