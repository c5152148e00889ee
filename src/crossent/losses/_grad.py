"""Closed-form gradients: ``value_and_grad`` for every crossent loss on every backend."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from crossent._xp import Array
from crossent.losses._define import _call, lookup


def value_and_grad(loss: Callable[..., Any] | str, prediction: Array, target: Array, /,
                   *args: Any, **options: Any) -> tuple[Array, Array]:
    """The loss and its gradient with respect to ``prediction``, in closed form.

    ``loss`` is one of crossent's loss functions (or its name); ``options`` are that loss's
    options (``priors`` may be positional, as in the loss). The gradient has the prediction's
    shape, dtype and kind of array, so NumPy users get what autograd would give them, and it
    agrees with ``torch.autograd`` and ``jax.grad`` of the same loss. With
    ``reduction="none"`` it is the gradient of the sum of the per-sample losses, i.e. each
    sample's own derivative.

    >>> from crossent import cross_entropy
    >>> value, grad = value_and_grad(cross_entropy, [[0.0, 0.0]], [0])
    >>> round(float(value), 4), grad.tolist()
    (0.6931, [[-0.5, 0.5]])
    """
    name, declared = lookup(loss)
    return _call(name, declared, prediction, target, args, options, grad=True)
