"""value_grad_hess: the closed-form Hessian diagonal against autograd, published formulas and mpmath.

``crossent.value_grad_hess(loss, prediction, target, **options)`` returns the loss, its gradient and
the diagonal of its Hessian with respect to ``prediction`` (∂²ℓ/∂z_j² per logit; ∂²ℓ/∂p_j² holding
the other entries fixed with ``from_logits=False``), scaled by the reduction like the value. It is
checked here five ways:

1. against ``torch.func.hessian`` / ``torch.func.grad`` of crossent's own loss on float64 tensors,
   and of an independent float64 torch formula written from the papers (so that a mistake shared by
   the loss and its closed form is caught), for every loss and option, in every reduction;
2. against ``jax.hessian`` for a subset;
3. on every backend, against NumPy, in float32 and float64 (kind and dtype of the arrays too);
4. at extreme logits and at probabilities of exactly 0 and 1, against mpmath's second derivative
   of the per-element loss at 50 digits (where autograd gives NaN);
5. regression formulas (binary focal closed form, focal on positives, softmax gradients summing to
   zero), properties (CE = w·p(1-p), focal γ=0 = CE, BCE = p(1-p)(w⁺ỹ + 1 - ỹ)), reductions, errors.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import cases
import crossent
from cases import BINARY, Case, convert
from conftest import Backend, assert_close, softmax_rows

SOFTMAX = ("cross_entropy", "sparse_categorical_cross_entropy", "categorical_cross_entropy", "focal_loss",
           "poly1_cross_entropy", "logit_adjusted_cross_entropy")
REDUCTIONS = ("none", "sum", "mean")

# Option arrays. Softmax inputs are [5, 4] (or [2, 4, 3] with axis=1); binary inputs [3, 4] or [6].
W4 = np.array([0.5, 1.0, 2.0, 1.5])  # class weights
A4 = np.array([0.25, 1.0, 0.5, 2.0])  # softmax focal alpha, one per class
PRIORS4 = np.array([0.6, 0.25, 0.1, 0.05])
SW5 = np.array([1.0, 0.0, 2.0, 0.5, 3.0])  # sample weights, one of them 0
SW23 = np.array([[1.0, 2.0, 0.5], [0.0, 1.5, 1.0]])
PW4 = np.array([0.5, 2.0, 3.0, 1.0])  # binary pos_weight, one per label of [3, 4]
AB4 = np.array([0.25, 0.75, 0.5, 0.9])  # binary alpha, one per label of [3, 4]
SW34 = np.array([[1.0, 0.0, 2.0, 0.5], [0.5, 1.0, 1.0, 3.0], [3.0, 1.0, 0.25, 1.0]])
SW31 = np.array([[1.0], [0.0], [2.0]])
SW6 = np.array([1.0, 2.0, 0.0, 0.5, 1.5, 1.0])


def _id(case: Case) -> str:
    parts = [case.loss, case.target]
    if case.shape is not None:
        parts.append("x".join(map(str, case.shape)))
    for key, value in case.options.items():
        parts.append(f"{key}={'array' if isinstance(value, np.ndarray) else value}")
    return "-".join(parts)


CASES = [
    # cross_entropy and its Keras-named twins
    Case("cross_entropy", {}),
    Case("cross_entropy", {}, "soft"),
    Case("cross_entropy", {"weight": W4}),
    Case("cross_entropy", {"weight": W4, "ignore_index": -100, "label_smoothing": 0.1}),
    Case("cross_entropy", {"ignore_index": 2}),
    Case("cross_entropy", {"ignore_index": -100}, "all_ignored"),
    Case("cross_entropy", {"z_loss": 0.1}),
    Case("cross_entropy", {"logit_softcap": 2.0}, scale=4.0),
    Case("cross_entropy", {"z_loss": 0.05, "logit_softcap": 3.0, "weight": W4, "sample_weight": SW5}, scale=4.0),
    Case("cross_entropy", {"label_smoothing": 0.2, "z_loss": 0.1}, "soft"),
    Case("cross_entropy", {"sample_weight": SW5, "label_smoothing": 0.3}),
    Case("cross_entropy", {"base": 2}),
    Case("cross_entropy", {"from_logits": False}),
    Case("cross_entropy", {"from_logits": False, "weight": W4, "label_smoothing": 0.1}, "soft"),
    Case("cross_entropy", {"from_logits": False, "sample_weight": SW5, "base": 2}),
    Case("cross_entropy", {"axis": 1}, shape=(2, 4, 3)),
    Case("cross_entropy", {"axis": 1, "weight": W4, "sample_weight": SW23, "label_smoothing": 0.1}, "soft", (2, 4, 3)),
    Case("cross_entropy", {"axis": 1, "ignore_index": -1, "z_loss": 0.1}, shape=(2, 4, 3)),
    Case("cross_entropy", {"axis": 1, "from_logits": False, "weight": W4}, shape=(2, 4, 3)),
    Case("sparse_categorical_cross_entropy", {"weight": W4, "sample_weight": SW5}),
    Case("sparse_categorical_cross_entropy", {"from_logits": False, "label_smoothing": 0.1}),
    Case("categorical_cross_entropy", {}, "onehot"),
    Case("categorical_cross_entropy", {"weight": W4, "label_smoothing": 0.1}, "onehot_zero_row"),
    Case("categorical_cross_entropy", {"z_loss": 0.1, "logit_softcap": 5.0}, "soft", scale=4.0),
    Case("categorical_cross_entropy", {"from_logits": False, "base": 2}, "soft"),
    # focal
    Case("focal_loss", {}),
    Case("focal_loss", {"gamma": 0.5}),
    Case("focal_loss", {"gamma": 0.25}, scale=3.0),
    Case("focal_loss", {"gamma": 3.0}),
    Case("focal_loss", {"gamma": 0.0, "alpha": 0.25}),
    Case("focal_loss", {"gamma": 2.0, "alpha": 0.25, "weight": W4}),
    Case("focal_loss", {"gamma": 0.5, "alpha": A4, "ignore_index": -100, "label_smoothing": 0.1}),
    Case("focal_loss", {"gamma": 2.0, "label_smoothing": 0.2}, "soft"),
    Case("focal_loss", {"gamma": 0.5, "sample_weight": SW5, "base": 2}, scale=4.0),
    Case("focal_loss", {"gamma": 2.0, "from_logits": False}),
    Case("focal_loss", {"gamma": 0.5, "from_logits": False, "alpha": A4}, "soft"),
    Case("focal_loss", {"gamma": 1.0, "axis": 1, "weight": W4}, shape=(2, 4, 3)),
    # Poly-1
    Case("poly1_cross_entropy", {}),
    Case("poly1_cross_entropy", {"epsilon": -1.0}),
    Case("poly1_cross_entropy", {"epsilon": 0.5, "weight": W4, "ignore_index": -100, "label_smoothing": 0.1}),
    Case("poly1_cross_entropy", {"epsilon": 1.0}, "soft"),
    Case("poly1_cross_entropy", {"epsilon": 2.0, "from_logits": False, "sample_weight": SW5}),
    Case("poly1_cross_entropy", {"epsilon": 1.0, "axis": 1}, shape=(2, 4, 3)),
    # logit adjustment
    Case("logit_adjusted_cross_entropy", {"priors": PRIORS4}),
    Case("logit_adjusted_cross_entropy", {"priors": PRIORS4, "tau": 0.5, "weight": W4, "ignore_index": -100}),
    Case("logit_adjusted_cross_entropy", {"priors": PRIORS4, "tau": 2.0, "z_loss": 0.1, "logit_softcap": 3.0},
         scale=4.0),
    Case("logit_adjusted_cross_entropy", {"priors": PRIORS4, "label_smoothing": 0.1, "sample_weight": SW5}, "soft"),
    Case("logit_adjusted_cross_entropy", {"priors": PRIORS4, "axis": 1, "base": 2}, shape=(2, 4, 3)),
    # binary cross-entropy
    Case("binary_cross_entropy", {}, "01"),
    Case("binary_cross_entropy", {}, "01", (6,)),
    Case("binary_cross_entropy", {}, "soft"),
    Case("binary_cross_entropy", {"pos_weight": PW4}, "01"),
    Case("binary_cross_entropy", {"pos_weight": PW4, "label_smoothing": 0.1, "sample_weight": SW34}, "soft"),
    Case("binary_cross_entropy", {"pos_weight": 2.0, "sample_weight": SW6}, "soft", (6,)),
    Case("binary_cross_entropy", {"sample_weight": SW31, "base": 2}, "01"),
    Case("binary_cross_entropy", {"from_logits": False}, "01"),
    Case("binary_cross_entropy", {"from_logits": False, "label_smoothing": 0.2, "sample_weight": SW34}, "soft"),
    # binary focal
    Case("binary_focal_loss", {}, "01"),
    Case("binary_focal_loss", {"gamma": 2.0, "alpha": 0.25}, "01"),
    Case("binary_focal_loss", {"gamma": 0.5}, "01", scale=4.0),
    Case("binary_focal_loss", {"gamma": 0.25}, "01", (6,), scale=3.0),
    Case("binary_focal_loss", {"gamma": 1.0, "alpha": 0.75}, "soft", (6,)),
    Case("binary_focal_loss", {"gamma": 3.0}, "soft"),
    Case("binary_focal_loss", {"gamma": 0.5, "alpha": AB4, "pos_weight": PW4}, "soft"),
    Case("binary_focal_loss", {"gamma": 2.0, "label_smoothing": 0.1, "sample_weight": SW34, "base": 2}, "01"),
    Case("binary_focal_loss", {"gamma": 2.0, "alpha": 0.25, "from_logits": False}, "01"),
    Case("binary_focal_loss", {"gamma": 0.5, "from_logits": False, "pos_weight": PW4}, "soft"),
    # asymmetric
    Case("asymmetric_loss", {}, "01"),
    Case("asymmetric_loss", {"clip": 0.0}, "01", scale=4.0),
    Case("asymmetric_loss", {"gamma_pos": 1.0, "gamma_neg": 2.0, "clip": 0.1, "sample_weight": SW34}, "01"),
    Case("asymmetric_loss", {"gamma_pos": 0.5, "gamma_neg": 0.5, "clip": 0.0}, "soft"),
    Case("asymmetric_loss", {"gamma_pos": 2.0, "gamma_neg": 0.5, "clip": 0.05, "base": 2}, "soft"),
    Case("asymmetric_loss", {"gamma_pos": 0.25, "gamma_neg": 3.0, "clip": 0.2}, "01", (6,), scale=3.0),
    Case("asymmetric_loss", {"from_logits": False}, "01"),
    Case("asymmetric_loss", {"from_logits": False, "clip": 0.0, "gamma_neg": 2.0}, "soft"),
    Case("asymmetric_loss", {"from_logits": False, "gamma_pos": 1.0, "clip": 0.2, "sample_weight": SW31}, "01"),
]
BY_ID = {_id(case): case for case in CASES}


def make_inputs(case: Case, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    return cases.make_inputs(case, seed, binary_shape=(3, 4))
def value_grad_hess(loss: Any, prediction: Any, target: Any, *args: Any, **options: Any) -> tuple[Any, Any, Any]:
    return crossent.value_grad_hess(loss, prediction, target, *args, **options)


def close(actual: Any, expected: Any, rtol: float = 1e-10, what: str = "") -> None:
    """float64 agreement: rtol relative, plus an absolute floor far below the array's own scale."""
    actual, expected = np.asarray(actual, dtype=np.float64), np.asarray(expected, dtype=np.float64)
    scale = max(1.0, float(np.max(np.abs(expected), initial=0.0)))
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=1e-13 * scale, err_msg=what)


# --- independent float64 torch formulas, written from the papers (cf. tests/reference.py) --------

def _reduce_reference(per_sample: Any, weights: Any, reduction: str, base: float | None) -> Any:
    if reduction == "none":
        value = per_sample
    elif reduction == "sum":
        value = per_sample.sum()
    else:
        total = float(weights.sum())
        value = per_sample.sum() / total if total > 0 else per_sample.sum() * 0.0
    return value if base is None else value / math.log(base)


def _softmax_reference(loss: str, x: Any, target: np.ndarray, o: dict[str, Any]) -> Any:
    """ℓ_i = s_i Σ_c w_c α_c ỹ_ic [-(1 - p_ic)^γ log p_ic + ε (1 - p_ic)] + s_i λ LSE(z_i)² (counted samples),
    z soft-capped (Gemma 2) then shifted by τ log π (Menon et al.); ỹ = y(1 - ε_ls) + ε_ls/C."""
    import torch

    f64 = torch.float64
    axis = o.get("axis", -1)
    x = torch.movedim(x, axis, -1)
    num_classes, batch = x.shape[-1], tuple(x.shape[:-1])
    t = np.asarray(target)
    if np.issubdtype(t.dtype, np.integer):
        ignore_index = o.get("ignore_index")
        keep = np.ones(t.shape, bool) if ignore_index is None else t != ignore_index
        y_np = np.eye(num_classes)[np.where(keep, t, 0)] * keep[..., None]
    else:
        y_np = np.moveaxis(t.astype(np.float64), axis, -1)
    y = torch.tensor(y_np, dtype=f64)
    count = y.sum(-1)
    smoothing = o.get("label_smoothing", 0.0)
    y_smooth = y * (1 - smoothing) + smoothing / num_classes * count[..., None]
    s = torch.ones(batch, dtype=f64) if o.get("sample_weight") is None else \
        torch.tensor(np.broadcast_to(o["sample_weight"], batch).copy(), dtype=f64)
    w = torch.ones(num_classes, dtype=f64) if o.get("weight") is None else torch.tensor(o["weight"], dtype=f64)
    alpha = o.get("alpha")
    a = torch.ones(num_classes, dtype=f64) if alpha is None else torch.tensor(np.broadcast_to(alpha, num_classes)
                                                                              .copy(), dtype=f64)
    gamma = o.get("gamma", 2.0 if loss == "focal_loss" else 0.0)
    epsilon = o.get("epsilon", 2.0 if loss == "poly1_cross_entropy" else 0.0)
    lse = None
    if o.get("from_logits", True):
        z = x
        if o.get("logit_softcap") is not None:
            z = o["logit_softcap"] * torch.tanh(z / o["logit_softcap"])
        if o.get("priors") is not None:
            z = z + o.get("tau", 1.0) * torch.log(torch.tensor(o["priors"], dtype=f64))
        lse = torch.logsumexp(z, -1, keepdim=True)
        log_p = z - lse
        p = torch.exp(log_p)
    else:
        p = x
        log_p = torch.log(p)
    q = 1 - p
    term = -(q**gamma) * log_p + epsilon * q
    per_sample = (s[..., None] * w * a * y_smooth * term).sum(-1)
    if o.get("z_loss"):
        per_sample = per_sample + s * (count > 0) * o["z_loss"] * lse[..., 0] ** 2
    weights = s * (y * w).sum(-1)
    return _reduce_reference(per_sample, weights, o.get("reduction", "mean"), o.get("base"))


def _binary_reference(loss: str, x: Any, target: np.ndarray, o: dict[str, Any]) -> Any:
    """Binary focal (Lin et al.; torchvision's form): s α_t q_t^γ ce, ce = -(w⁺ỹ log p + (1-ỹ) log q),
    q_t = ỹ q + (1-ỹ) p; BCE is γ = 0. ASL (Ridnik et al.): -s [y q^γ⁺ log p + (1-y) p_m^γ⁻ log(1-p_m)],
    p_m = max(p - m, 0)."""
    import torch

    f64 = torch.float64
    y = torch.tensor(target, dtype=f64)
    shape = tuple(x.shape)
    s = torch.ones(shape, dtype=f64) if o.get("sample_weight") is None else \
        torch.tensor(np.broadcast_to(o["sample_weight"], shape).copy(), dtype=f64)
    if o.get("from_logits", True):
        p, q = torch.sigmoid(x), torch.sigmoid(-x)
        log_p, log_q = torch.nn.functional.logsigmoid(x), torch.nn.functional.logsigmoid(-x)
    else:
        p, q = x, 1 - x
        log_p, log_q = torch.log(x), torch.log1p(-x)
    if loss == "asymmetric_loss":
        gamma_pos, gamma_neg, m = o.get("gamma_pos", 0.0), o.get("gamma_neg", 4.0), o.get("clip", 0.05)
        if m:
            above = p > m
            p_m = torch.where(above, p - m, torch.zeros_like(p))
            safe = torch.where(above, p_m, torch.ones_like(p))
            focus = torch.where(above, safe**gamma_neg, torch.zeros_like(p))
            log_qm = torch.where(above, torch.log(torch.where(above, q + m, torch.ones_like(q))), torch.zeros_like(q))
        else:
            focus, log_qm = p**gamma_neg, log_q
        per_sample = -s * (y * q**gamma_pos * log_p + (1 - y) * focus * log_qm)
    else:
        gamma = o.get("gamma", 2.0 if loss == "binary_focal_loss" else 0.0)
        smoothing = o.get("label_smoothing", 0.0)
        y_smooth = y * (1 - smoothing) + smoothing / 2
        w_pos = 1.0 if o.get("pos_weight") is None else torch.tensor(np.broadcast_to(o["pos_weight"], shape).copy(),
                                                                     dtype=f64)
        ce = -(w_pos * y_smooth * log_p + (1 - y_smooth) * log_q)
        q_t = y_smooth * q + (1 - y_smooth) * p
        alpha = o.get("alpha")
        alpha_t = 1.0
        if alpha is not None:
            a = torch.tensor(np.broadcast_to(alpha, shape).copy(), dtype=f64)
            alpha_t = a * y_smooth + (1 - a) * (1 - y_smooth)
        per_sample = s * alpha_t * q_t**gamma * ce
    return _reduce_reference(per_sample, s, o.get("reduction", "mean"), o.get("base"))


def reference(loss: str, x: Any, target: np.ndarray, options: dict[str, Any]) -> Any:
    if loss in BINARY:
        return _binary_reference(loss, x, target, options)
    return _softmax_reference(loss, x, target, options)


def total_weight(case: Case, prediction: np.ndarray, target: np.ndarray) -> float:
    """The mean's denominator Σ wᵢ, from the definitions (DESIGN.md, "Semantics")."""
    o = case.options
    if case.loss in BINARY:
        s = o.get("sample_weight")
        return float(prediction.size if s is None else np.broadcast_to(s, prediction.shape).sum())
    axis = o.get("axis", -1) % prediction.ndim
    num_classes = prediction.shape[axis]
    t = np.asarray(target)
    if np.issubdtype(t.dtype, np.integer):
        ignore_index = o.get("ignore_index")
        keep = np.ones(t.shape, bool) if ignore_index is None else t != ignore_index
        y = np.eye(num_classes)[np.where(keep, t, 0)] * keep[..., None]
    else:
        y = np.moveaxis(t, axis, -1)
    w = np.ones(num_classes) if o.get("weight") is None else o["weight"]
    s = np.ones(y.shape[:-1]) if o.get("sample_weight") is None else np.broadcast_to(o["sample_weight"], y.shape[:-1])
    return float((s * (y * w).sum(-1)).sum())


# --- torch autograd ------------------------------------------------------------------------------

def torch_derivatives(f: Callable[[Any], Any], prediction: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(value, torch.func.grad, diagonal of torch.func.hessian) of f's sum, at a float64 tensor."""
    torch = pytest.importorskip("torch")
    z = torch.tensor(prediction, dtype=torch.float64)

    def total(z: Any) -> Any:
        return f(z).sum()

    value = f(z).detach().numpy()
    grad = torch.func.grad(total)(z).numpy()
    n = z.numel()
    hess = torch.func.hessian(total)(z).reshape(n, n)
    return value, grad, torch.diagonal(hess).reshape(z.shape).numpy()


def _matrix() -> list[Any]:
    return [pytest.param(case, reduction, id=f"{_id(case)}-{reduction}") for case in CASES for reduction in REDUCTIONS]


@pytest.mark.parametrize(("case", "reduction"), _matrix())
def test_hessian_equals_torch_hessian_of_the_loss(case: Case, reduction: str) -> None:
    torch = pytest.importorskip("torch")
    prediction, target = make_inputs(case)
    options = {**case.options, "reduction": reduction}
    value, grad, hess = value_grad_hess(case.loss, prediction, target, **options)
    assert isinstance(hess, np.ndarray) and hess.shape == prediction.shape and hess.dtype == np.float64
    assert isinstance(grad, np.ndarray) and grad.shape == prediction.shape and grad.dtype == np.float64
    loss = getattr(crossent, case.loss)
    y = torch.asarray(target)
    torch_options = convert(options, torch.asarray)
    auto_value, auto_grad, auto_hess = torch_derivatives(lambda z: loss(z, y, **torch_options), prediction)
    assert np.all(np.isfinite(auto_hess))
    close(value, auto_value, what="value")
    close(grad, auto_grad, what="gradient")
    close(hess, auto_hess, what="Hessian diagonal")


@pytest.mark.parametrize(("case", "reduction"), _matrix())
def test_hessian_equals_torch_hessian_of_the_published_formula(case: Case, reduction: str) -> None:
    pytest.importorskip("torch")
    prediction, target = make_inputs(case)
    options = {**case.options, "reduction": reduction}
    value, grad, hess = value_grad_hess(case.loss, prediction, target, **options)
    ref_value, ref_grad, ref_hess = torch_derivatives(lambda z: reference(case.loss, z, target, options), prediction)
    assert np.all(np.isfinite(ref_hess))
    close(value, ref_value, what="value")
    close(grad, ref_grad, what="gradient")
    close(hess, ref_hess, what="Hessian diagonal")


def test_cases_cover_every_loss() -> None:
    assert {case.loss for case in CASES} == set(crossent.losses._define.names())
    assert "value_grad_hess" in crossent.__all__


def test_hessian_is_not_trivially_zero() -> None:
    # the comparisons above would pass vacuously if everything were zero (for both sides)
    for case in CASES:
        if case.target == "all_ignored":
            continue
        prediction, target = make_inputs(case)
        _, _, hess = value_grad_hess(case.loss, prediction, target, **case.options)
        assert np.abs(hess).max() > 1e-3, _id(case)


def test_value_and_gradient_are_value_and_grads() -> None:
    for case in CASES:
        prediction, target = make_inputs(case)
        value, grad, _ = value_grad_hess(case.loss, prediction, target, **case.options)
        expected_value, expected_grad = crossent.value_and_grad(case.loss, prediction, target, **case.options)
        close(value, expected_value, rtol=1e-14, what=_id(case))
        close(grad, expected_grad, rtol=1e-14, what=_id(case))


# --- jax.hessian ---------------------------------------------------------------------------------

@pytest.fixture
def jax64() -> Any:
    """JAX with float64 on (conftest turns it on for the session; restore whatever was there)."""
    jax = pytest.importorskip("jax")
    previous = bool(jax.config.read("jax_enable_x64"))
    jax.config.update("jax_enable_x64", True)
    yield jax
    jax.config.update("jax_enable_x64", previous)


JAX_CASES = [  # (JAX compiles every new operation: one reduction each)
    Case("cross_entropy", {"label_smoothing": 0.1, "weight": W4, "sample_weight": SW5, "reduction": "mean"}),
    Case("focal_loss", {"gamma": 0.5, "alpha": A4, "reduction": "none"}),
    Case("binary_focal_loss", {"gamma": 2.0, "alpha": 0.25, "pos_weight": PW4, "reduction": "mean"}, "soft"),
    Case("asymmetric_loss", {"gamma_pos": 1.0, "gamma_neg": 3.0, "clip": 0.05, "reduction": "sum"}, "01"),
]


@pytest.mark.parametrize("case", JAX_CASES, ids=_id)
def test_hessian_equals_jax_hessian(jax64: Any, case: Case) -> None:
    jax, jnp = jax64, jax64.numpy
    prediction, target = make_inputs(case, seed=2)
    options = convert(case.options, jnp.asarray)
    z, y = jnp.asarray(prediction), jnp.asarray(target)
    loss = getattr(crossent, case.loss)

    def total(z: Any) -> Any:
        return jnp.sum(loss(z, y, **options))

    value, grad, hess = value_grad_hess(case.loss, z, y, **options)
    assert isinstance(hess, jax.Array) and hess.dtype == jnp.float64
    n = prediction.size
    auto_hess = np.diagonal(np.asarray(jax.jit(jax.hessian(total))(z)).reshape(n, n)).reshape(prediction.shape)
    close(np.asarray(value), np.asarray(loss(z, y, **options)), what="value")
    close(np.asarray(grad), np.asarray(jax.grad(total)(z)), what="gradient")
    close(np.asarray(hess), auto_hess, what="Hessian diagonal")


def test_jit_value_grad_hess_matches_eager(jax64: Any) -> None:
    jax, jnp = jax64, jax64.numpy
    case = JAX_CASES[0]
    prediction, target = make_inputs(case)
    z, y = jnp.asarray(prediction), jnp.asarray(target)
    eager = value_grad_hess(case.loss, z, y, **case.options)
    jitted = jax.jit(lambda z, y: crossent.value_grad_hess(case.loss, z, y, **case.options))(z, y)
    for got, expected in zip(jitted, eager, strict=True):
        close(np.asarray(got), np.asarray(expected), rtol=1e-13)


# --- every backend -------------------------------------------------------------------------------

BACKEND_CASES = [
    BY_ID["cross_entropy-labels-weight=array-ignore_index=-100-label_smoothing=0.1"],
    BY_ID["cross_entropy-labels-z_loss=0.05-logit_softcap=3.0-weight=array-sample_weight=array"],
    BY_ID["cross_entropy-soft-from_logits=False-weight=array-label_smoothing=0.1"],
    BY_ID["focal_loss-labels-gamma=0.5-alpha=array-ignore_index=-100-label_smoothing=0.1"],
    BY_ID["poly1_cross_entropy-labels-epsilon=2.0-from_logits=False-sample_weight=array"],
    BY_ID["logit_adjusted_cross_entropy-labels-priors=array-tau=0.5-weight=array-ignore_index=-100"],
    BY_ID["binary_cross_entropy-soft-pos_weight=array-label_smoothing=0.1-sample_weight=array"],
    BY_ID["binary_focal_loss-soft-gamma=0.5-alpha=array-pos_weight=array"],
    BY_ID["binary_focal_loss-01-gamma=2.0-alpha=0.25-from_logits=False"],
    BY_ID["asymmetric_loss-01-gamma_pos=1.0-gamma_neg=2.0-clip=0.1-sample_weight=array"],
]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", BACKEND_CASES, ids=_id)
def test_every_backend_agrees_with_numpy(backend: Backend, case: Case, dtype: str) -> None:
    prediction, target = make_inputs(case)
    expected = value_grad_hess(case.loss, prediction, target, **{**case.options, "reduction": "sum"})
    z = backend.asarray(prediction, getattr(backend.xp, dtype))
    y = backend.asarray(target)
    options = convert({**case.options, "reduction": "sum"}, backend.asarray)
    value, grad, hess = value_grad_hess(case.loss, z, y, **options)
    for name, got in (("gradient", grad), ("Hessian", hess)):
        assert type(got) is type(z), name  # the caller's kind of array
        assert got.dtype == z.dtype, name
        assert tuple(got.shape) == prediction.shape, name
    assert value.dtype == z.dtype
    for got, want in zip((value, grad, hess), expected, strict=True):
        got = backend.to_numpy(got)
        if dtype == "float64":
            close(got, want, rtol=1e-12)
        else:
            assert_close(got, want, np.float32, atol=1e-5 * max(1.0, float(np.max(np.abs(want)))))


def test_half_precision_hessian_has_the_input_dtype() -> None:
    case = BY_ID["cross_entropy-labels"]
    prediction, target = make_inputs(case)
    _, grad, hess = value_grad_hess(case.loss, prediction.astype(np.float16), target)
    assert grad.dtype == np.float16 and hess.dtype == np.float16
    _, _, hess32 = value_grad_hess(case.loss, prediction.astype(np.float16).astype(np.float32), target)
    np.testing.assert_array_equal(hess, hess32.astype(np.float16))
    torch = pytest.importorskip("torch")
    _, grad, hess = value_grad_hess(case.loss, torch.tensor(prediction, dtype=torch.bfloat16), torch.asarray(target))
    assert grad.dtype == torch.bfloat16 and hess.dtype == torch.bfloat16


# --- extremes, against mpmath --------------------------------------------------------------------

DIGITS = 50
# mpmath.diff differences f at steps h = 2^-(prec + addprec) in (prec + 2 addprec)·3 bits: its
# rounding error is about |f|·2^-(prec + 4 addprec), far below 1e-300 for |f| ≤ 1e5.
ADDPREC = 300


@pytest.fixture
def mp() -> Any:
    mpmath = pytest.importorskip("mpmath")
    with mpmath.workdps(DIGITS):
        yield mpmath


def _mp_log_sigmoid(mp: Any, z: Any) -> Any:
    return -mp.log1p(mp.exp(-z)) if z > 0 else z - mp.log1p(mp.exp(z))


def _second(mp: Any, f: Callable[[Any], Any], x: float, direction: int = 0) -> Any:
    return mp.diff(f, mp.mpf(x), 2, addprec=ADDPREC, direction=direction)


def _first(mp: Any, f: Callable[[Any], Any], x: float, direction: int = 0) -> Any:
    return mp.diff(f, mp.mpf(x), 1, addprec=ADDPREC, direction=direction)


def mp_mismatches(got: Any, expected: list[Any], what: str, rtol: float = 1e-9, atol: float = 1e-300) -> list[str]:
    """What disagrees: non-finite entries, or |got - expected| > rtol |expected| + atol."""
    got = np.asarray(got, dtype=np.float64).reshape(-1)
    if not np.all(np.isfinite(got)):
        return [f"{what}: not finite: {got.tolist()}"]
    bad = [(k, float(g), float(e)) for k, (g, e) in enumerate(zip(got, expected, strict=True))
           if not abs(g - e) <= rtol * abs(e) + atol]
    return [f"{what}: (flat index, closed form, mpmath) = {bad}"] if bad else []


def assert_mp_close(*checks: list[str]) -> None:
    problems = [line for check in checks for line in check]
    assert not problems, "\n".join(problems)


def _binary_element(mp: Any, loss: str, o: dict[str, Any], y: float, s: float = 1.0, w_pos: float = 1.0,
                    alpha: float | None = None, from_logits: bool = True) -> Callable[[Any], Any]:
    """The per-element loss as an mpmath function of the logit (or of the probability)."""

    def parts(x: Any) -> tuple[Any, Any, Any, Any]:
        if from_logits:
            log_p, log_q = _mp_log_sigmoid(mp, x), _mp_log_sigmoid(mp, -x)
            return mp.exp(log_p), mp.exp(log_q), log_p, log_q
        return x, 1 - x, (mp.log(x) if x > 0 else -mp.inf), (mp.log1p(-x) if x < 1 else -mp.inf)

    if loss == "asymmetric_loss":
        gamma_pos, gamma_neg, m = o.get("gamma_pos", 0.0), o.get("gamma_neg", 4.0), o.get("clip", 0.05)

        def asl(x: Any) -> Any:
            p, q, log_p, log_q = parts(x)
            total = mp.mpf(0)
            if y != 0:
                total -= y * (q**gamma_pos if gamma_pos else 1) * log_p
            if y != 1:
                p_m, log_qm = (max(p - m, mp.mpf(0)), mp.log(min(q + m, mp.mpf(1)))) if m else (p, log_q)
                if p_m > 0 or gamma_neg == 0:
                    total -= (1 - y) * (p_m**gamma_neg if gamma_neg else 1) * log_qm
            return s * total

        return asl
    gamma = o.get("gamma", 2.0 if loss == "binary_focal_loss" else 0.0)
    smoothing = o.get("label_smoothing", 0.0)
    t = mp.mpf(y) * (1 - mp.mpf(smoothing)) + mp.mpf(smoothing) / 2

    def focal(x: Any) -> Any:
        p, q, log_p, log_q = parts(x)
        ce = mp.mpf(0)
        if w_pos * t != 0:
            ce -= w_pos * t * log_p
        if t != 1:
            ce -= (1 - t) * log_q
        q_t = t * q + (1 - t) * p
        alpha_t = 1 if alpha is None else alpha * t + (1 - alpha) * (1 - t)
        modulating = 1 if gamma == 0 else q_t**gamma
        return s * alpha_t * modulating * ce if modulating != 0 else mp.mpf(0)

    return focal


Z_EXTREME = np.array([[1e4, -1e4, 50.0, -50.0], [1e4, -1e4, 50.0, -50.0], [1e4, -1e4, 50.0, -50.0]])
Y_EXTREME = np.array([[1.0, 1.0, 1.0, 1.0], [0.0, 0.0, 0.0, 0.0], [0.3, 0.3, 0.3, 0.3]])

BINARY_EXTREME = [
    Case("binary_cross_entropy", {}),
    Case("binary_cross_entropy", {"pos_weight": PW4, "label_smoothing": 0.1, "sample_weight": SW34}),
    Case("binary_focal_loss", {"gamma": 0.25}),
    Case("binary_focal_loss", {"gamma": 0.5, "alpha": 0.25}),
    Case("binary_focal_loss", {"gamma": 1.0}),
    Case("binary_focal_loss", {"gamma": 2.0, "alpha": AB4, "pos_weight": PW4}),
    Case("binary_focal_loss", {"gamma": 3.0, "label_smoothing": 0.1}),
    Case("asymmetric_loss", {}),
    Case("asymmetric_loss", {"gamma_pos": 0.5, "gamma_neg": 0.5, "clip": 0.0}),
    Case("asymmetric_loss", {"gamma_pos": 1.0, "gamma_neg": 2.0, "clip": 0.1}),
]


@pytest.mark.parametrize("case", BINARY_EXTREME, ids=_id)
def test_binary_extreme_logits_against_mpmath(mp: Any, case: Case) -> None:
    o = case.options
    value, grad, hess = value_grad_hess(case.loss, Z_EXTREME, Y_EXTREME, **o, reduction="none")
    shape = Z_EXTREME.shape
    s = np.broadcast_to(o.get("sample_weight", 1.0), shape)
    w_pos = np.broadcast_to(o.get("pos_weight", 1.0), shape)
    alpha = None if o.get("alpha") is None else np.broadcast_to(o["alpha"], shape)
    values, grads, hessians = [], [], []
    for k in np.ndindex(shape):
        f = _binary_element(mp, case.loss, o, float(Y_EXTREME[k]), float(s[k]), float(w_pos[k]),
                            None if alpha is None else float(alpha[k]))
        values.append(f(mp.mpf(Z_EXTREME[k])))
        grads.append(_first(mp, f, Z_EXTREME[k]))
        hessians.append(_second(mp, f, Z_EXTREME[k]))
    assert_mp_close(mp_mismatches(hess, hessians, "Hessian diagonal"),
                    mp_mismatches(grad, grads, "gradient", atol=1e-15),
                    mp_mismatches(value, values, "value", rtol=1e-12, atol=1e-15 * np.abs(Z_EXTREME).max()))


P_EDGE = np.array([0.0, 1.0, 0.0, 1.0, 0.5, 0.2])
Y_EDGE = np.array([0.0, 1.0, 0.0, 1.0, 1.0, 0.0])  # the loss is finite at every element

BINARY_EDGE = [
    Case("binary_cross_entropy", {"from_logits": False}),
    Case("binary_cross_entropy", {"from_logits": False, "pos_weight": 3.0, "sample_weight": SW6}),
    Case("binary_focal_loss", {"from_logits": False, "gamma": 1.0}),
    Case("binary_focal_loss", {"from_logits": False, "gamma": 2.0, "alpha": 0.25}),
    Case("binary_focal_loss", {"from_logits": False, "gamma": 3.0}),
    Case("asymmetric_loss", {"from_logits": False}),
    Case("asymmetric_loss", {"from_logits": False, "gamma_pos": 1.0, "gamma_neg": 2.0, "clip": 0.0}),
]


@pytest.mark.parametrize("case", BINARY_EDGE, ids=_id)
def test_binary_probabilities_of_zero_and_one_against_mpmath(mp: Any, case: Case) -> None:
    # d²ℓ/dp² at p = 0 and 1 by one-sided differences (the loss is defined on [0, 1] only)
    o = case.options
    value, grad, hess = value_grad_hess(case.loss, P_EDGE, Y_EDGE, **o, reduction="none")
    s = np.broadcast_to(o.get("sample_weight", 1.0), P_EDGE.shape)
    w_pos = np.broadcast_to(o.get("pos_weight", 1.0), P_EDGE.shape)
    values, grads, hessians = [], [], []
    for k, (p, y) in enumerate(zip(P_EDGE, Y_EDGE, strict=True)):
        f = _binary_element(mp, case.loss, o, float(y), float(s[k]), float(w_pos[k]), o.get("alpha"),
                            from_logits=False)
        direction = 1 if p == 0 else -1 if p == 1 else 0
        values.append(f(mp.mpf(p)))
        grads.append(_first(mp, f, p, direction))
        hessians.append(_second(mp, f, p, direction))
    assert_mp_close(mp_mismatches(hess, hessians, "Hessian diagonal", atol=1e-12),
                    mp_mismatches(grad, grads, "gradient", atol=1e-12),
                    mp_mismatches(value, values, "value", rtol=1e-12, atol=1e-15))


def _softmax_row(mp: Any, loss: str, o: dict[str, Any], z: np.ndarray, label: int, s: float,
                 j: int) -> Callable[[Any], Any]:
    """Sample i's loss as an mpmath function of its logit z_j, the other logits held fixed."""
    num_classes = z.size
    smoothing = mp.mpf(o.get("label_smoothing", 0.0))
    y = [mp.mpf(1 if c == label else 0) for c in range(num_classes)]
    y_smooth = [v * (1 - smoothing) + smoothing / num_classes for v in y]
    w = np.ones(num_classes) if o.get("weight") is None else o["weight"]
    a = np.broadcast_to(1.0 if o.get("alpha") is None else o["alpha"], num_classes)
    coefficient = [s * mp.mpf(w[c]) * mp.mpf(a[c]) * y_smooth[c] for c in range(num_classes)]
    gamma = o.get("gamma", 2.0 if loss == "focal_loss" else 0.0)
    epsilon = o.get("epsilon", 2.0 if loss == "poly1_cross_entropy" else 0.0)
    cap, z_loss = o.get("logit_softcap"), o.get("z_loss", 0.0)
    bias = [mp.mpf(0)] * num_classes if o.get("priors") is None else \
        [o.get("tau", 1.0) * mp.log(mp.mpf(v)) for v in o["priors"]]

    def f(x: Any) -> Any:
        logits = [x if c == j else mp.mpf(z[c]) for c in range(num_classes)]
        if cap is not None:
            logits = [cap * mp.tanh(v / cap) for v in logits]
        logits = [v + b for v, b in zip(logits, bias, strict=True)]
        lse = mp.log(mp.fsum(mp.exp(v) for v in logits))
        total = mp.mpf(0)
        for c in range(num_classes):
            if coefficient[c] == 0:
                continue
            log_p = logits[c] - lse
            q = mp.fsum(mp.exp(logits[k] - lse) for k in range(num_classes) if k != c)  # 1 - p_c, exactly
            total += coefficient[c] * (-(q**gamma if gamma else 1) * log_p + epsilon * q)
        return total + s * z_loss * lse**2

    return f


SOFTMAX_EXTREME = np.array([[1e4, -1e4, 0.0, 1.0], [-1e4, 1e4, 0.0, -1e4], [50.0, -50.0, 0.0, 1.0],
                            [-50.0, 50.0, 0.0, 0.0], [50.0, 50.0, -50.0, 0.0]])
SOFTMAX_EXTREME_LABELS = np.array([0, 0, 2, 1, 3])  # right, wrong, and tied predictions
SOFTMAX_EXTREME_SW = np.array([1.0, 2.0, 0.5, 1.0, 3.0])

SOFTMAX_EXTREME_CASES = [
    Case("cross_entropy", {}),
    Case("cross_entropy", {"label_smoothing": 0.1, "weight": W4, "sample_weight": SOFTMAX_EXTREME_SW}),
    Case("cross_entropy", {"z_loss": 1e-4}),
    Case("cross_entropy", {"logit_softcap": 30.0}),
    Case("focal_loss", {"gamma": 0.25}),
    Case("focal_loss", {"gamma": 0.5, "alpha": A4}),
    Case("focal_loss", {"gamma": 1.0}),
    Case("focal_loss", {"gamma": 2.0, "alpha": 0.25, "label_smoothing": 0.1}),
    Case("focal_loss", {"gamma": 3.0}),
    Case("poly1_cross_entropy", {"epsilon": 1.0}),
    Case("logit_adjusted_cross_entropy", {"priors": PRIORS4, "tau": 0.5}),
]


@pytest.mark.parametrize("case", SOFTMAX_EXTREME_CASES, ids=_id)
def test_softmax_extreme_logits_against_mpmath(mp: Any, case: Case) -> None:
    o = case.options
    value, grad, hess = value_grad_hess(case.loss, SOFTMAX_EXTREME, SOFTMAX_EXTREME_LABELS, **o, reduction="none")
    s = np.broadcast_to(o.get("sample_weight", 1.0), SOFTMAX_EXTREME_LABELS.shape)
    values, grads, hessians = [], [], []
    for i, (z, label) in enumerate(zip(SOFTMAX_EXTREME, SOFTMAX_EXTREME_LABELS, strict=True)):
        values.append(_softmax_row(mp, case.loss, o, z, int(label), float(s[i]), 0)(mp.mpf(z[0])))
        for j in range(z.size):
            f = _softmax_row(mp, case.loss, o, z, int(label), float(s[i]), j)
            grads.append(_first(mp, f, z[j]))
            hessians.append(_second(mp, f, z[j]))
    # (the value's error is that of log-sum-exp: a rounding of the largest logit)
    assert_mp_close(mp_mismatches(hess, hessians, "Hessian diagonal"),
                    mp_mismatches(grad, grads, "gradient", atol=1e-12),
                    mp_mismatches(value, values, "value", rtol=1e-12, atol=1e-15 * np.abs(SOFTMAX_EXTREME).max()))


P_SOFTMAX_EDGE = np.array([[1.0, 0.0, 0.0, 0.0], [0.5, 0.5, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0],
                           [0.25, 0.25, 0.25, 0.25]])
P_SOFTMAX_EDGE_LABELS = np.array([0, 1, 2, 3])


@pytest.mark.parametrize("case", [
    Case("cross_entropy", {"weight": W4}),
    Case("focal_loss", {"gamma": 1.0}),
    Case("focal_loss", {"gamma": 2.0, "alpha": A4}),
    Case("focal_loss", {"gamma": 3.0}),
    Case("poly1_cross_entropy", {"epsilon": 1.0}),
], ids=_id)
def test_softmax_probabilities_of_zero_and_one_against_mpmath(mp: Any, case: Case) -> None:
    # ∂²ℓ/∂p_j² holding the others fixed: a_j f''(p_j) for the labelled class, 0 for the others
    o = {**case.options, "from_logits": False}
    value, grad, hess = value_grad_hess(case.loss, P_SOFTMAX_EDGE, P_SOFTMAX_EDGE_LABELS, **o, reduction="none")
    gamma = o.get("gamma", 2.0 if case.loss == "focal_loss" else 0.0)
    epsilon = o.get("epsilon", 2.0 if case.loss == "poly1_cross_entropy" else 0.0)
    w = np.ones(4) if o.get("weight") is None else o["weight"]
    a = np.broadcast_to(1.0 if o.get("alpha") is None else o["alpha"], 4)
    grads, hessians = [], []
    for p, label in zip(P_SOFTMAX_EDGE, P_SOFTMAX_EDGE_LABELS, strict=True):
        for j in range(4):
            if j != label:
                grads.append(mp.mpf(0))
                hessians.append(mp.mpf(0))
                continue
            coefficient = w[j] * a[j]

            def f(x: Any, coefficient: float = coefficient) -> Any:
                return coefficient * (-((1 - x) ** gamma if gamma else 1) * mp.log(x) + epsilon * (1 - x))

            direction = -1 if p[j] == 1 else 0
            grads.append(_first(mp, f, p[j], direction))
            hessians.append(_second(mp, f, p[j], direction))
    assert np.all(np.isfinite(value))
    assert_mp_close(mp_mismatches(hess, hessians, "Hessian diagonal", atol=1e-12),
                    mp_mismatches(grad, grads, "gradient", atol=1e-12))
    # soft targets with zeros where the probabilities are 0: ỹ_c / p_c² (cross-entropy)
    if case.loss == "cross_entropy":
        p, y = np.array([[0.3, 0.7, 0.0, 0.0]]), np.array([[0.5, 0.5, 0.0, 0.0]])
        _, _, hess = value_grad_hess("cross_entropy", p, y, from_logits=False, weight=W4, reduction="sum")
        close(hess, [[0.5 * 0.5 / 0.09, 1.0 * 0.5 / 0.49, 0.0, 0.0]], rtol=1e-14)


# --- regression formulas -------------------------------------------------------------------------

@pytest.mark.parametrize("gamma", [0.25, 0.5, 1.0, 2.0, 3.0])
def test_binary_focal_hessian_known_formula(gamma: float) -> None:
    # h = p_t q^γ [(2γ+1) q + γ (q − γ p_t) log p_t], q = 1 − p_t, p_t = σ(z) (y = 1) or σ(−z) (y = 0)
    z = np.linspace(-8.0, 8.0, 17)
    z = np.concatenate([z, z])
    y = np.repeat([1.0, 0.0], 17)
    signed = np.where(y == 1, z, -z)
    p_t, q = 1 / (1 + np.exp(-signed)), 1 / (1 + np.exp(signed))
    log_p_t = -np.logaddexp(0.0, -signed)
    expected = p_t * q**gamma * ((2 * gamma + 1) * q + gamma * (q - gamma * p_t) * log_p_t)
    _, _, hess = value_grad_hess("binary_focal_loss", z, y, gamma=gamma, reduction="sum")
    close(hess, expected, rtol=1e-12)
    # reduction="none" gives the same per-element curvature, "mean" divides by the count
    close(value_grad_hess("binary_focal_loss", z, y, gamma=gamma, reduction="none")[2], expected, rtol=1e-12)
    close(value_grad_hess("binary_focal_loss", z, y, gamma=gamma)[2], expected / z.size, rtol=1e-12)


@pytest.mark.parametrize("gamma", [0.5, 1.0, 2.0])
def test_focal_hessian_on_positives_is_not_zero(gamma: float) -> None:
    # bokbokbok's focal objective returns a Hessian of exactly 0 wherever y = 1
    z = np.array([-1.0, -0.5, 0.0, 0.5, 1.0, 2.0])
    _, _, hess = value_grad_hess("binary_focal_loss", z, np.ones(6), gamma=gamma, reduction="sum")
    assert np.all(np.abs(hess) > 1e-3), hess
    prediction, target = make_inputs(BY_ID["focal_loss-labels"])
    _, _, hess = value_grad_hess("focal_loss", prediction, target, gamma=gamma, reduction="sum")
    labelled = np.take_along_axis(hess, target[:, None], axis=1)
    assert np.all(np.abs(labelled) > 1e-4), hess


GRADIENT_SUMS = [case for case in CASES if case.loss in SOFTMAX and case.options.get("from_logits", True)
                 and not case.options.get("z_loss") and case.options.get("logit_softcap") is None]


@pytest.mark.parametrize("reduction", ["sum", "mean"])
@pytest.mark.parametrize("case", GRADIENT_SUMS, ids=_id)
def test_softmax_gradient_sums_to_zero_over_classes(case: Case, reduction: str) -> None:
    # softmax losses are shift-invariant in the logits: each row's gradient sums to 0 (imlightgbm's
    # softmax objective does not, under label smoothing and weights)
    prediction, target = make_inputs(case)
    _, grad, hess = value_grad_hess(case.loss, prediction, target, **{**case.options, "reduction": reduction})
    axis = case.options.get("axis", -1)
    scale = max(1.0, float(np.abs(grad).max()))
    np.testing.assert_allclose(grad.sum(axis=axis), 0.0, atol=1e-14 * scale)
    assert np.all(np.isfinite(hess))


# --- properties ----------------------------------------------------------------------------------

@pytest.mark.parametrize("target_kind", ["labels", "onehot"])
def test_cross_entropy_hessian_is_w_p_one_minus_p(target_kind: str) -> None:
    case = Case("cross_entropy", {}, target_kind)
    prediction, target = make_inputs(case, seed=3)
    labels = target if target_kind == "labels" else target.argmax(-1)
    p = softmax_rows(prediction)
    w = W4[labels] * SW5
    _, _, hess = value_grad_hess("cross_entropy", prediction, target, weight=W4, sample_weight=SW5, reduction="sum")
    close(hess, w[:, None] * p * (1 - p), rtol=1e-12)
    _, _, hess = value_grad_hess("categorical_cross_entropy", prediction, np.eye(4)[labels], weight=W4,
                                 sample_weight=SW5, reduction="mean")
    close(hess, w[:, None] * p * (1 - p) / w.sum(), rtol=1e-12)


@pytest.mark.parametrize("case", [
    Case("cross_entropy", {}),
    Case("cross_entropy", {"weight": W4, "sample_weight": SW5, "label_smoothing": 0.1}),
    Case("cross_entropy", {"ignore_index": -100}),
    Case("cross_entropy", {}, "soft"),
    Case("cross_entropy", {"from_logits": False, "weight": W4}),
    Case("cross_entropy", {"from_logits": False, "label_smoothing": 0.2}, "soft"),
    Case("cross_entropy", {"axis": 1}, shape=(2, 4, 3)),
], ids=_id)
def test_focal_at_gamma_zero_is_cross_entropy(case: Case) -> None:
    prediction, target = make_inputs(case, seed=4)
    for reduction in REDUCTIONS:
        options = {**case.options, "reduction": reduction}
        expected = value_grad_hess("cross_entropy", prediction, target, **options)
        for loss, extra in (("focal_loss", {"gamma": 0.0}), ("poly1_cross_entropy", {"epsilon": 0.0})):
            got = value_grad_hess(loss, prediction, target, **options, **extra)
            for name, a, b in zip(("value", "gradient", "Hessian"), got, expected, strict=True):
                close(a, b, rtol=1e-12, what=f"{loss} {reduction} {name}")


@pytest.mark.parametrize("case", [
    Case("binary_cross_entropy", {}, "01"),
    Case("binary_cross_entropy", {"pos_weight": PW4, "label_smoothing": 0.1, "sample_weight": SW34}, "soft"),
    Case("binary_cross_entropy", {"pos_weight": 2.0, "sample_weight": SW31}, "01", scale=5.0),
], ids=_id)
def test_binary_cross_entropy_hessian_formula(case: Case) -> None:
    # h = s p (1 - p) (w⁺ ỹ + 1 - ỹ)
    o = case.options
    prediction, target = make_inputs(case, seed=5)
    p = 1 / (1 + np.exp(-prediction))
    smoothing = o.get("label_smoothing", 0.0)
    y = target * (1 - smoothing) + smoothing / 2
    w_pos = np.broadcast_to(o.get("pos_weight", 1.0), prediction.shape)
    s = np.broadcast_to(o.get("sample_weight", 1.0), prediction.shape)
    expected = s * p * (1 - p) * (w_pos * y + 1 - y)
    _, _, hess = value_grad_hess("binary_cross_entropy", prediction, target, **o, reduction="sum")
    close(hess, expected, rtol=1e-12)
    # binary focal at γ = 0 and ASL with γ± = 0 and no clip are binary cross-entropy
    _, _, focal = value_grad_hess("binary_focal_loss", prediction, target, **o, gamma=0.0, reduction="sum")
    close(focal, expected, rtol=1e-12)
    if not smoothing and o.get("pos_weight") is None:
        _, _, asl = value_grad_hess("asymmetric_loss", prediction, target, gamma_pos=0.0, gamma_neg=0.0, clip=0.0,
                                    sample_weight=o.get("sample_weight"), reduction="sum")
        close(asl, expected, rtol=1e-12)


# --- reductions and base -------------------------------------------------------------------------

REDUCTION_CASES = [
    BY_ID["cross_entropy-labels-z_loss=0.05-logit_softcap=3.0-weight=array-sample_weight=array"],
    BY_ID["cross_entropy-soft-2x4x3-axis=1-weight=array-sample_weight=array-label_smoothing=0.1"],
    BY_ID["cross_entropy-all_ignored-ignore_index=-100"],
    BY_ID["sparse_categorical_cross_entropy-labels-from_logits=False-label_smoothing=0.1"],
    BY_ID["categorical_cross_entropy-onehot_zero_row-weight=array-label_smoothing=0.1"],
    BY_ID["focal_loss-labels-gamma=0.5-alpha=array-ignore_index=-100-label_smoothing=0.1"],
    BY_ID["poly1_cross_entropy-labels-epsilon=2.0-from_logits=False-sample_weight=array"],
    BY_ID["logit_adjusted_cross_entropy-soft-priors=array-label_smoothing=0.1-sample_weight=array"],
    BY_ID["binary_cross_entropy-soft-pos_weight=array-label_smoothing=0.1-sample_weight=array"],
    BY_ID["binary_focal_loss-01-6-gamma=0.25"],
    BY_ID["asymmetric_loss-01-gamma_pos=1.0-gamma_neg=2.0-clip=0.1-sample_weight=array"],
    BY_ID["asymmetric_loss-01-from_logits=False-gamma_pos=1.0-clip=0.2-sample_weight=array"],
]


@pytest.mark.parametrize("case", REDUCTION_CASES, ids=_id)
def test_reductions_and_base(case: Case) -> None:
    prediction, target = make_inputs(case, seed=6)
    options = {key: value for key, value in case.options.items() if key != "base"}
    none = value_grad_hess(case.loss, prediction, target, **options, reduction="none")
    total = value_grad_hess(case.loss, prediction, target, **options, reduction="sum")
    mean = value_grad_hess(case.loss, prediction, target, **options, reduction="mean")
    weight = total_weight(case, prediction, target)
    # "none": the per-sample losses, whose sum is "sum"; the derivatives of that sum, the same arrays
    close(np.sum(none[0]), total[0], rtol=1e-13)
    np.testing.assert_array_equal(none[1], total[1])
    np.testing.assert_array_equal(none[2], total[2])
    # "mean": "sum" / Σw for value, gradient and Hessian (0 with zero derivatives when Σw = 0)
    if weight > 0:
        for name, a, b in zip(("value", "gradient", "Hessian"), mean, total, strict=True):
            close(a, b / weight, rtol=1e-13, what=name)
    else:
        assert float(mean[0]) == 0.0 and not np.any(mean[1]) and not np.any(mean[2])
    # base=2: everything in bits
    for reduction, nats in (("none", none), ("sum", total), ("mean", mean)):
        bits = value_grad_hess(case.loss, prediction, target, **options, reduction=reduction, base=2)
        for name, a, b in zip(("value", "gradient", "Hessian"), bits, nats, strict=True):
            close(a, np.asarray(b) / math.log(2), rtol=1e-13, what=f"{reduction} {name}")


def test_by_name_equals_by_function_and_priors_may_be_positional() -> None:
    case = BY_ID["logit_adjusted_cross_entropy-labels-priors=array-tau=0.5-weight=array-ignore_index=-100"]
    prediction, target = make_inputs(case)
    options = {key: value for key, value in case.options.items() if key != "priors"}
    by_name = value_grad_hess(case.loss, prediction, target, PRIORS4, **options)
    by_function = value_grad_hess(crossent.logit_adjusted_cross_entropy, prediction, target, priors=PRIORS4,
                                  **options)
    for a, b in zip(by_name, by_function, strict=True):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(TypeError, match="missing required argument 'priors'"):
        value_grad_hess("logit_adjusted_cross_entropy", prediction, target)


# --- errors --------------------------------------------------------------------------------------

@pytest.mark.parametrize("loss", ["crossentropy", "softmax", "", None, np.mean])
def test_rejects_unknown_loss(loss: Any) -> None:
    prediction, target = make_inputs(BY_ID["cross_entropy-labels"])
    with pytest.raises(ValueError, match=r"loss must be one of crossent's losses \(.*cross_entropy.*\), got") as info:
        value_grad_hess(loss, prediction, target)
    assert repr(loss) in str(info.value)


@pytest.mark.parametrize(("loss", "option"), [("cross_entropy", "gamma"), ("cross_entropy", "gama"),
                                              ("focal_loss", "z_loss"), ("binary_cross_entropy", "axis"),
                                              ("asymmetric_loss", "gamma"), ("categorical_cross_entropy",
                                                                              "ignore_index")])
def test_rejects_unknown_option(loss: str, option: str) -> None:
    case = Case(loss, {}, "01" if loss in BINARY else "onehot")
    prediction, target = make_inputs(case)
    message = f"{loss}\\(\\) got an unexpected keyword argument '{option}'"
    with pytest.raises(TypeError, match=message):
        value_grad_hess(loss, prediction, target, **{option: 1})
    with pytest.raises(TypeError, match=message):
        crossent.value_and_grad(loss, prediction, target, **{option: 1})
