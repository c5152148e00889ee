"""How a public loss is declared: a signature and a docstring, with the body generated.

Each family of losses has one core, ``core(prediction, target, *, <every option>, grad) ->
(value, gradient or None)``. A public loss is declared with its own keyword-only options and
their defaults; ``@loss_function(core, **fixed)`` generates a body that checks the option names,
fills in the declared defaults and calls the core with ``grad=False``. ``value_and_grad`` calls
the same core with ``grad=True``, ``value_grad_hess`` with ``hess=True`` as well (the core then
returns the Hessian's diagonal third). Defaults live in one place, the public signature, and the value
and the gradient can never disagree on an option.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any, NamedTuple, TypeVar

from crossent._xp import compiling, log_of_zero_is_inf
from crossent.kernels._autograd import replaying

F = TypeVar("F", bound=Callable[..., Any])


class _Declared(NamedTuple):
    core: Callable[..., Any]
    positional: tuple[str, ...]  # options after (prediction, target) that may be positional
    defaults: dict[str, Any]  # every option, inspect.Parameter.empty for a required one
    fixed: dict[str, Any]


_LOSSES: dict[Callable[..., Any], _Declared] = {}


def loss_function(core: Callable[..., Any], **fixed: Any) -> Callable[[F], F]:
    """Generate the body of a declared loss: ``core(prediction, target, **options, **fixed)``."""

    def declare(declared: F) -> F:
        parameters = list(inspect.signature(declared).parameters.values())[2:]
        positional = tuple(p.name for p in parameters if p.kind is p.POSITIONAL_OR_KEYWORD)
        defaults = {p.name: p.default for p in parameters}

        @functools.wraps(declared)
        def loss(prediction: Any, target: Any, /, *args: Any, **options: Any) -> Any:
            return _call(loss.__name__, _LOSSES[loss], prediction, target, args, options,
                         grad=False)[0]

        _LOSSES[loss] = _Declared(core, positional, defaults, fixed)
        return loss  # type: ignore[return-value]

    return declare


def _call(name: str, declared: _Declared, prediction: Any, target: Any, args: tuple[Any, ...],
          options: dict[str, Any], *, grad: bool, hess: bool = False) -> tuple[Any, ...]:
    if len(args) > len(declared.positional):
        raise TypeError(f"{name}() takes {2 + len(declared.positional)} positional arguments "
                        f"but {2 + len(args)} were given")
    for option, value in zip(declared.positional, args, strict=False):
        if option in options:
            raise TypeError(f"{name}() got multiple values for argument {option!r}")
        options[option] = value
    unknown = options.keys() - declared.defaults.keys()
    if unknown:
        raise TypeError(f"{name}() got an unexpected keyword argument {sorted(unknown)[0]!r}")
    merged = {**declared.defaults, **options}
    missing = [option for option, value in merged.items() if value is inspect.Parameter.empty]
    if missing:
        raise TypeError(f"{name}() missing required argument {missing[0]!r}")
    extra = {"hess": True} if hess else {}
    with log_of_zero_is_inf():
        if getattr(prediction, "requires_grad", False) is True and not grad and not compiling():
            # a torch tensor under autograd: a kernel may take it, and replays it here, on the
            # generic path, if a backward asks for a graph (create_graph=True)
            def replay(x: Any) -> Any:  # x: the kernel's saved tensor, its class axis last
                replayed = {**merged, "axis": -1} if "axis" in merged else merged
                return declared.core(x, target, **replayed, **declared.fixed, grad=False)[0]

            with replaying(replay):
                return declared.core(prediction, target, **merged, **declared.fixed, grad=grad)  # type: ignore[no-any-return]
        return declared.core(prediction, target, **merged, **declared.fixed, grad=grad, **extra)  # type: ignore[no-any-return]


def lookup(loss: Callable[..., Any] | str) -> tuple[str, _Declared]:
    """The declaration of a crossent loss, given the function or its name."""
    for function, declared in _LOSSES.items():
        if loss is function or loss == function.__name__:
            return function.__name__, declared
    known = ", ".join(sorted(f.__name__ for f in _LOSSES))
    raise ValueError(f"loss must be one of crossent's losses ({known}), got {loss!r}")


def names() -> list[str]:
    return sorted(f.__name__ for f in _LOSSES)
