"""Closed-form derivatives of every crossent loss on every backend: ``value_and_grad`` and
``value_grad_hess`` (the gradient and the diagonal of the Hessian, for boosters)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import numpy as np

from crossent._xp import Array
from crossent.kernels._autograd import Destination, gradient_into, is_tensor_on
from crossent.losses._define import _call, lookup


def value_and_grad(loss: Callable[..., Any] | str, prediction: Array, target: Array, /,
                   *args: Any, out: Any = None, **options: Any) -> tuple[Array, Array]:
    """The loss and its gradient with respect to ``prediction``, in closed form.

    ``loss`` is one of crossent's loss functions (or its name); ``options`` are that loss's
    options (``priors`` may be positional, as in the loss). The gradient has the prediction's
    shape, dtype and kind of array, so NumPy users get what autograd would give them, and it
    agrees with ``torch.autograd`` and ``jax.grad`` of the same loss. With
    ``reduction="none"`` it is the gradient of the sum of the per-sample losses, i.e. each
    sample's own derivative.

    ``out``: an array of the prediction's kind (NumPy, or a PyTorch tensor on its device), shape
    and dtype, writable, that receives the gradient and is returned as it: a buffer reused across
    calls, or ``prediction`` itself to overwrite the logits with their gradient. Where a fused
    CPU kernel on logits takes the call (``crossent.kernels``: the softmax losses of integer
    labels, binary cross-entropy; C-contiguous ``out`` and prediction) the kernel writes into it,
    so no gradient-sized array is made; elsewhere the gradient is computed as without ``out`` and
    copied into it, with the same numbers either way. A call that raises may
    have written part of ``out`` (the binary kernels check the targets as they read them). JAX
    arrays cannot be written: use the returned gradient.

    >>> from crossent import cross_entropy
    >>> value, grad = value_and_grad(cross_entropy, [[0.0, 0.0]], [0])
    >>> round(float(value), 4), grad.tolist()
    (0.6931, [[-0.5, 0.5]])
    >>> import numpy as np
    >>> logits = np.zeros((1, 2))
    >>> value, grad = value_and_grad(cross_entropy, logits, [0], out=logits)
    >>> grad is logits, logits.tolist()
    (True, [[-0.5, 0.5]])
    """
    name, declared = lookup(loss)
    if out is None:
        return _call(name, declared, prediction, target, args, options, grad=True)
    with gradient_into(_destination(out, prediction, target)):
        value, grad = _call(name, declared, prediction, target, args, options, grad=True)
    return value, _written(out, grad)


def _destination(out: Any, prediction: Any, target: Any) -> Destination | None:
    """``out`` validated against the prediction; the kernels' destination where they can write
    into it (C-contiguous NumPy memory, or that of float32 or float64 CPU tensors), else None."""
    torch = sys.modules.get("torch")  # (a tensor means torch is imported)
    if isinstance(prediction, np.ndarray):
        if prediction.dtype.kind != "f":
            return None  # (the loss raises, naming the prediction's dtype)
        if not isinstance(out, np.ndarray):
            raise TypeError(f"out must be a NumPy array, as the prediction is; got {type(out).__name__}")
        _same_form(tuple(out.shape), out.dtype, tuple(prediction.shape), prediction.dtype)
        if not out.flags.writeable:
            raise ValueError("out must be a writable array, got a read-only one")
        if np.may_share_memory(out, prediction) and not _same_view(out, prediction):
            raise ValueError("out must be the prediction itself or not overlap it; got an array sharing "
                             "part of its memory")
        if isinstance(target, np.ndarray) and np.may_share_memory(out, target):
            raise ValueError("out must not overlap the target")
        c_order = out.flags.c_contiguous and prediction.flags.c_contiguous
        return Destination(prediction, out) if c_order else None
    if torch is not None and isinstance(prediction, torch.Tensor):
        if not prediction.is_floating_point():
            return None
        if not isinstance(out, torch.Tensor):
            raise TypeError(f"out must be a PyTorch tensor, as the prediction is; got {type(out).__name__}")
        _same_form(tuple(out.shape), out.dtype, tuple(prediction.shape), prediction.dtype)
        if out.device != prediction.device:
            raise ValueError(f"out must be on the prediction's device {prediction.device}, got {out.device}")
        shared = out.untyped_storage().data_ptr() == prediction.untyped_storage().data_ptr()
        if shared and out.numel() and not _same_view(out, prediction):
            raise ValueError("out must be the prediction itself or not overlap it; got a tensor sharing "
                             "part of its memory")
        numba_memory = (is_tensor_on(prediction, "cpu", ("float32", "float64")) and is_tensor_on(
            out, "cpu", ("float32", "float64")) and out.is_contiguous() and prediction.is_contiguous())
        return Destination(prediction.detach().numpy(), out.detach().numpy()) if numba_memory else None
    raise TypeError(f"out= takes a NumPy array or a PyTorch tensor prediction, whose memory it writes; got "
                    f"{type(prediction).__name__}" + (" (JAX arrays are immutable: use the returned gradient)"
                                                      if "jax" in type(prediction).__module__ else ""))


def _same_form(shape: tuple[int, ...], dtype: Any, want_shape: tuple[int, ...], want_dtype: Any) -> None:
    if shape != want_shape:
        raise ValueError(f"out must have the prediction's shape {want_shape}, got {shape}")
    if dtype != want_dtype:
        raise TypeError(f"out must have the prediction's dtype {want_dtype}, got {dtype}")


def _same_view(a: Any, b: Any) -> bool:
    """Whether a and b are the same elements of the same memory (NumPy arrays, or tensors)."""
    if isinstance(a, np.ndarray):
        return (isinstance(b, np.ndarray) and a.ctypes.data == b.ctypes.data and a.shape == b.shape
                and a.strides == b.strides and a.dtype == b.dtype)
    return (not isinstance(b, np.ndarray) and a.data_ptr() == b.data_ptr() and a.shape == b.shape
            and a.stride() == b.stride() and a.dtype == b.dtype and a.device == b.device)


def _written(out: Any, grad: Any) -> Any:
    """``out`` holding ``grad``: written by a kernel already, or copied into it now."""
    if isinstance(out, np.ndarray):
        if not _same_view(grad, out):
            np.copyto(out, grad)
        return out
    if _same_view(grad, out):  # written through NumPy's view, which autograd does not see:
        if not out.is_inference():  # an op that saved out (out=prediction) must see the change
            sys.modules["torch"].autograd.graph.increment_version(out)
    else:
        out.detach().copy_(grad.detach())  # (detach: out may be a leaf that requires a gradient)
    return out


def value_grad_hess(loss: Callable[..., Any] | str, prediction: Array, target: Array, /,
                    *args: Any, **options: Any) -> tuple[Array, Array, Array]:
    """The loss, its gradient and the diagonal of its Hessian with respect to ``prediction``, in
    closed form: what a gradient-boosting objective hands its booster.

    Arguments as :func:`value_and_grad`; the gradient and the Hessian diagonal have the
    prediction's shape, dtype and kind of array, are scaled by the reduction like the value
    (``"mean"`` divides both by Σwᵢ, ``base=`` by ln(base)) and, with ``reduction="none"``, are
    each sample's own. The Hessian is block-diagonal over samples (each loss depends on its own
    row); the diagonal is ∂²ℓ/∂z_j² for every logit, or ∂²ℓ/∂p_j² with ``from_logits=False``.
    The formulas, each exact at any logit (no NaN where the loss is finite):

    - binary cross-entropy: ``s (w⁺ ỹ + 1 - ỹ) p q``, p = σ(z), q = 1 - p;
    - binary focal, hard target: ``s α_t p_t q^γ [(2γ+1) q + γ (q - γ p_t) log p_t]``,
      q = 1 - p_t; negative where p_t < about 0.058 at γ = 2 (the loss is not convex there);
      soft targets in ``_focal_curvature`` (losses/_binary.py);
    - softmax losses, ℓ = Σ_c a_c f(p_c) with f(p) = -(1 - p)^γ log p + ε (1 - p) and
      a_c = s w_c α_c ỹ_c: ``k_j (1 - p_j)² + p_j² Σ_{c≠j} k_c - p_j (1 - p_j) Σ_c a_c u(p_c)``
      with u = p f'(p), k_c = a_c p_c u'(p_c); for cross-entropy ``A p_j (1 - p_j)``, A = Σ_c a_c;
      z-loss adds ``2λ (p_j² + LSE · p_j (1 - p_j))``; soft-capping the chain rule;
    - ASL: the focal curvature of each term, with the margin m (losses/_binary.py).

    It always takes the generic path (the fused kernels compute no second derivative).

    >>> from crossent import cross_entropy
    >>> value, grad, hess = value_grad_hess(cross_entropy, [[0.0, 0.0]], [0])
    >>> grad.tolist(), hess.tolist()
    ([[-0.5, 0.5]], [[0.25, 0.25]])
    """
    from crossent._checks import _traced_scalar

    name, declared = lookup(loss)
    for option, value in options.items():
        if _traced_scalar(value):
            raise TypeError(f"value_grad_hess needs concrete hyperparameters; {option} is traced (jax.jit, vmap): "
                            f"pass it as a static argument, or use value_and_grad, which takes traced ones")
    value, grad, hess = _call(name, declared, prediction, target, args, options, grad=True, hess=True)
    return value, grad, hess
