"""Closed-form derivatives of every crossent loss on every backend: ``value_and_grad`` and
``value_grad_hess`` (the gradient and the diagonal of the Hessian, for boosters)."""

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
