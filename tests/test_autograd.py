"""value_and_grad against autograd: torch.autograd and jax.grad of the same crossent losses.

Every loss is differentiated three ways on the same float64 inputs: crossent's closed form
(``value_and_grad``), ``torch.autograd`` through the loss on torch tensors, and ``jax.grad``
through the loss on JAX arrays. For ``reduction="none"`` the autograd side differentiates the
sum of the per-sample losses, which is what ``value_and_grad`` documents. Probabilities
(``from_logits=False``) are kept strictly inside (0, 1) so that every derivative exists.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest

import crossent
from cases import BINARY, Case, convert, make_inputs
from conftest import assert_close

REDUCTIONS = ("none", "mean", "sum")

# Option arrays, fixed so that case ids stay readable. Shapes: softmax inputs are [5, 4] (or
# [2, 4, 3] with axis=1), binary inputs [4, 3].
W4 = np.array([0.5, 1.0, 2.0, 1.5])  # class weights
A4 = np.array([0.25, 1.0, 0.5, 2.0])  # softmax focal alpha, one per class
PRIORS4 = np.array([0.6, 0.25, 0.1, 0.05])
SW5 = np.array([1.0, 0.0, 2.0, 0.5, 3.0])  # sample weights, one of them 0
SW23 = np.array([[1.0, 2.0, 0.5], [0.0, 1.5, 1.0]])
PW3 = np.array([0.5, 2.0, 3.0])  # pos_weight, one per label
A3 = np.array([0.25, 0.75, 0.5])  # binary alpha, one per label
SW43 = np.array([[1.0, 0.0, 2.0], [0.5, 1.0, 1.0], [3.0, 1.0, 0.25], [1.0, 2.0, 1.0]])
SW41 = np.array([[1.0], [0.0], [2.0], [0.5]])


def _id(case: Case) -> str:
    parts = [case.loss, case.target]
    for key, value in case.options.items():
        parts.append(f"{key}={'array' if isinstance(value, np.ndarray) else value}")
    return "-".join(parts)


CASES = [
    # cross_entropy and its Keras-named twins
    Case("cross_entropy", {}),
    Case("cross_entropy", {}, "soft"),
    Case("cross_entropy", {"weight": W4}, jax=False),
    Case("cross_entropy", {"weight": W4, "ignore_index": -100, "label_smoothing": 0.1}),
    Case("cross_entropy", {"ignore_index": 2}, jax=False),
    Case("cross_entropy", {"ignore_index": -100}, "all_ignored"),
    Case("cross_entropy", {"z_loss": 0.1}, jax=False),
    Case("cross_entropy", {"logit_softcap": 2.0}, scale=4.0, jax=False),
    Case("cross_entropy", {"z_loss": 0.05, "logit_softcap": 3.0, "weight": W4, "sample_weight": SW5}, scale=4.0),
    Case("cross_entropy", {"label_smoothing": 0.2, "z_loss": 0.1}, "soft", jax=False),
    Case("cross_entropy", {"sample_weight": SW5, "label_smoothing": 0.3}, jax=False),
    Case("cross_entropy", {"base": 2}),
    Case("cross_entropy", {"from_logits": False}),
    Case("cross_entropy", {"from_logits": False, "weight": W4, "label_smoothing": 0.1}, "soft"),
    Case("cross_entropy", {"from_logits": False, "sample_weight": SW5, "base": 2}, jax=False),
    Case("cross_entropy", {"axis": 1}, shape=(2, 4, 3), jax=False),
    Case("cross_entropy", {"axis": 1, "weight": W4, "sample_weight": SW23, "label_smoothing": 0.1}, "soft", (2, 4, 3)),
    Case("cross_entropy", {"axis": 1, "ignore_index": -1, "z_loss": 0.1}, shape=(2, 4, 3)),
    Case("cross_entropy", {"axis": 1, "from_logits": False, "weight": W4}, shape=(2, 4, 3), jax=False),
    Case("sparse_categorical_cross_entropy", {"weight": W4, "sample_weight": SW5}, jax=False),
    Case("sparse_categorical_cross_entropy", {"from_logits": False, "label_smoothing": 0.1}),
    Case("categorical_cross_entropy", {}, "onehot", jax=False),
    Case("categorical_cross_entropy", {"weight": W4, "label_smoothing": 0.1}, "onehot_zero_row"),
    Case("categorical_cross_entropy", {"z_loss": 0.1, "logit_softcap": 5.0}, "soft", scale=4.0),
    Case("categorical_cross_entropy", {"from_logits": False, "base": 2}, "soft", jax=False),
    # focal
    Case("focal_loss", {}, jax=False),
    Case("focal_loss", {"gamma": 0.5}),
    Case("focal_loss", {"gamma": 0.0, "alpha": 0.25}, jax=False),
    Case("focal_loss", {"gamma": 2.0, "alpha": 0.25, "weight": W4}),
    Case("focal_loss", {"gamma": 0.5, "alpha": A4, "ignore_index": -100, "label_smoothing": 0.1}),
    Case("focal_loss", {"gamma": 2.0, "label_smoothing": 0.2}, "soft", jax=False),
    Case("focal_loss", {"gamma": 0.5, "sample_weight": SW5, "base": 2}, scale=4.0, jax=False),
    Case("focal_loss", {"gamma": 2.0, "from_logits": False}),
    Case("focal_loss", {"gamma": 0.5, "from_logits": False, "alpha": A4}, "soft"),
    Case("focal_loss", {"gamma": 1.0, "axis": 1, "weight": W4}, shape=(2, 4, 3), jax=False),
    # Poly-1
    Case("poly1_cross_entropy", {}, jax=False),
    Case("poly1_cross_entropy", {"epsilon": -1.0}),
    Case("poly1_cross_entropy", {"epsilon": 0.5, "weight": W4, "ignore_index": -100, "label_smoothing": 0.1}),
    Case("poly1_cross_entropy", {"epsilon": 1.0}, "soft", jax=False),
    Case("poly1_cross_entropy", {"epsilon": 2.0, "from_logits": False, "sample_weight": SW5}),
    Case("poly1_cross_entropy", {"epsilon": 1.0, "axis": 1}, shape=(2, 4, 3), jax=False),
    # logit adjustment
    Case("logit_adjusted_cross_entropy", {"priors": PRIORS4}, jax=False),
    Case("logit_adjusted_cross_entropy", {"priors": PRIORS4, "tau": 0.5, "weight": W4, "ignore_index": -100}),
    Case("logit_adjusted_cross_entropy", {"priors": PRIORS4, "tau": 2.0, "z_loss": 0.1, "logit_softcap": 3.0},
         scale=4.0),
    Case("logit_adjusted_cross_entropy", {"priors": PRIORS4, "label_smoothing": 0.1, "sample_weight": SW5}, "soft",
         jax=False),
    Case("logit_adjusted_cross_entropy", {"priors": PRIORS4, "axis": 1, "base": 2}, shape=(2, 4, 3)),
    # binary cross-entropy
    Case("binary_cross_entropy", {}, "01"),
    Case("binary_cross_entropy", {}, "soft", jax=False),
    Case("binary_cross_entropy", {"pos_weight": PW3}, "01", jax=False),
    Case("binary_cross_entropy", {"pos_weight": PW3, "label_smoothing": 0.1, "sample_weight": SW43}, "soft"),
    Case("binary_cross_entropy", {"sample_weight": SW41, "base": 2}, "01"),
    Case("binary_cross_entropy", {"from_logits": False}, "01", jax=False),
    Case("binary_cross_entropy", {"from_logits": False, "label_smoothing": 0.2, "sample_weight": SW43}, "soft"),
    # binary focal
    Case("binary_focal_loss", {}, "01", jax=False),
    Case("binary_focal_loss", {"gamma": 2.0, "alpha": 0.25}, "01"),
    Case("binary_focal_loss", {"gamma": 0.5}, "01", scale=4.0),
    Case("binary_focal_loss", {"gamma": 0.5, "alpha": A3, "pos_weight": PW3}, "soft"),
    Case("binary_focal_loss", {"gamma": 2.0, "label_smoothing": 0.1, "sample_weight": SW43, "base": 2}, "01",
         jax=False),
    Case("binary_focal_loss", {"gamma": 2.0, "alpha": 0.25, "from_logits": False}, "01"),
    Case("binary_focal_loss", {"gamma": 0.5, "from_logits": False, "pos_weight": PW3}, "soft", jax=False),
    # asymmetric
    Case("asymmetric_loss", {}, "01"),
    Case("asymmetric_loss", {"clip": 0.0}, "01", scale=4.0),
    Case("asymmetric_loss", {"gamma_pos": 1.0, "gamma_neg": 2.0, "clip": 0.1, "sample_weight": SW43}, "01", jax=False),
    Case("asymmetric_loss", {"gamma_pos": 0.5, "gamma_neg": 0.5, "clip": 0.0}, "soft"),
    Case("asymmetric_loss", {"gamma_pos": 2.0, "gamma_neg": 0.5, "clip": 0.05, "base": 2}, "soft", jax=False),
    Case("asymmetric_loss", {"from_logits": False}, "01"),
    Case("asymmetric_loss", {"from_logits": False, "clip": 0.0, "gamma_neg": 2.0}, "soft", jax=False),
    Case("asymmetric_loss", {"from_logits": False, "gamma_pos": 1.0, "clip": 0.2, "sample_weight": SW41}, "01"),
]


BY_ID = {_id(case): case for case in CASES}


def torch_autograd(loss: str, prediction: np.ndarray, target: np.ndarray, **options: Any) -> tuple[Any, Any]:
    """The loss and torch.autograd's gradient of its sum, on float64 tensors."""
    import torch

    z = torch.tensor(prediction, dtype=torch.float64, requires_grad=True)
    value = getattr(crossent, loss)(z, torch.asarray(target), **convert(options, torch.asarray))
    (grad,) = torch.autograd.grad(value.sum(), z)
    return value.detach().numpy(), grad.numpy()


def jax_grad(loss: str, prediction: np.ndarray, target: np.ndarray, **options: Any) -> tuple[Any, Any]:
    """The loss and jax.grad of its sum, on float64 arrays."""
    import jax
    import jax.numpy as jnp

    y = jnp.asarray(target)
    options = convert(options, jnp.asarray)

    def total(z: Any) -> tuple[Any, Any]:
        value = getattr(crossent, loss)(z, y, **options)
        return jnp.sum(value), value

    grad, value = jax.grad(total, has_aux=True)(jnp.asarray(prediction, dtype=jnp.float64))
    return np.asarray(value), np.asarray(grad)


AUTOGRAD = {"torch": torch_autograd, "jax": jax_grad}


def _import(library: str) -> Any:
    return pytest.importorskip("torch" if library == "torch" else "jax.numpy")


def _closed_form(library: str, loss: str, prediction: np.ndarray, target: np.ndarray,
                 **options: Any) -> tuple[np.ndarray, np.ndarray, Any]:
    """value_and_grad on the library's own arrays, read back as NumPy (with the gradient's dtype)."""
    xp = _import(library)
    to = xp.asarray
    value, grad = crossent.value_and_grad(loss, to(prediction), to(target), **convert(options, to))
    dtype = grad.dtype
    if library == "torch":
        value, grad = value.numpy(), grad.numpy()
    return np.asarray(value), np.asarray(grad), dtype


def _matrix() -> list[Any]:
    params = []
    for case in CASES:
        for reduction in REDUCTIONS:
            for library in ("torch", "jax") if case.jax else ("torch",):
                params.append(pytest.param(case, reduction, library, id=f"{_id(case)}-{reduction}-{library}"))
    return params


@pytest.mark.parametrize(("case", "reduction", "library"), _matrix())
def test_value_and_grad_equals_autograd(case: Case, reduction: str, library: str) -> None:
    prediction, target = make_inputs(case)
    options = {**case.options, "reduction": reduction}
    value, grad, dtype = _closed_form(library, case.loss, prediction, target, **options)
    auto_value, auto_grad = AUTOGRAD[library](case.loss, prediction, target, **options)
    assert grad.shape == prediction.shape
    assert str(dtype).endswith("float64")
    assert np.all(np.isfinite(auto_grad))
    assert_close(value, auto_value)  # value_and_grad's value is the loss function's value
    assert_close(grad, auto_grad)
    # and both equal the NumPy closed form
    np_value, np_grad = crossent.value_and_grad(case.loss, prediction, target, **options)
    assert_close(np_value, value)
    assert_close(np_grad, grad)


def test_cases_cover_every_loss() -> None:
    assert {case.loss for case in CASES} == set(crossent.losses._define.names())


def test_value_and_grad_is_not_trivially_zero() -> None:
    # The comparisons above would pass vacuously if everything were zero: it is not.
    prediction, target = make_inputs(BY_ID["cross_entropy-labels"])
    _, grad = crossent.value_and_grad(crossent.cross_entropy, prediction, target)
    assert np.abs(grad).max() > 1e-2
    np.testing.assert_allclose(grad.sum(axis=-1), 0.0, atol=1e-15)  # softmax gradients sum to 0 per row


def test_all_ignored_mean_is_zero_with_zero_gradient() -> None:
    pytest.importorskip("torch")
    case = Case("cross_entropy", {"ignore_index": -100}, "all_ignored")
    prediction, target = make_inputs(case)
    value, grad = crossent.value_and_grad(crossent.cross_entropy, prediction, target, ignore_index=-100)
    auto_value, auto_grad = torch_autograd("cross_entropy", prediction, target, ignore_index=-100)
    assert float(value) == 0.0 and float(auto_value) == 0.0
    assert not np.any(grad) and not np.any(auto_grad)


def test_probabilities_with_requires_grad_do_not_warn() -> None:
    torch = pytest.importorskip("torch")
    prediction, target = make_inputs(BY_ID["cross_entropy-labels-from_logits=False"])
    z = torch.tensor(prediction, requires_grad=True)
    warn_always = torch.is_warn_always_enabled()
    torch.set_warn_always(True)  # torch warns once per process otherwise
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            crossent.cross_entropy(z, torch.asarray(target), from_logits=False).backward()
    finally:
        torch.set_warn_always(warn_always)
    assert z.grad is not None


# --- torch.autograd.gradcheck --------------------------------------------------------------------

GRADCHECK = [
    Case("cross_entropy", {"label_smoothing": 0.1, "z_loss": 0.1, "logit_softcap": 3.0, "weight": W4}),
    Case("cross_entropy", {"from_logits": False, "reduction": "sum"}),
    Case("focal_loss", {"gamma": 0.5, "alpha": A4}),
    Case("poly1_cross_entropy", {"epsilon": 1.0, "axis": 1, "reduction": "none"}, "soft", (2, 4, 3)),
    Case("logit_adjusted_cross_entropy", {"priors": PRIORS4, "tau": 0.5, "ignore_index": -100}),
    Case("binary_focal_loss", {"gamma": 2.0, "alpha": 0.25, "pos_weight": PW3}, "soft"),
    Case("asymmetric_loss", {"gamma_pos": 1.0, "gamma_neg": 4.0, "clip": 0.05}, "01"),
]


@pytest.mark.parametrize("case", GRADCHECK, ids=_id)
def test_torch_gradcheck(case: Case) -> None:
    torch = pytest.importorskip("torch")
    prediction, target = make_inputs(case, seed=1)
    z = torch.tensor(prediction, dtype=torch.float64, requires_grad=True)
    y = torch.asarray(target)
    options = convert(case.options, torch.asarray)
    loss = getattr(crossent, case.loss)
    assert torch.autograd.gradcheck(lambda z: loss(z, y, **options), (z,))


# --- extreme logits ------------------------------------------------------------------------------

# The shapes of make_inputs' ([5, 4] and [4, 3]), so that JAX reuses the compiled operations.
EXTREME_SOFTMAX = np.array([[1e4, -1e4, 0.0, 1.0], [-1e4, 1e4, 0.0, -1e4], [1e4, 1e4, -1e4, 0.0],
                            [-1e4, -1e4, -1e4, -1e4], [0.0, -1e4, 1e4, 1e4]])
EXTREME_LABELS = np.array([0, 0, 2, 1, 3])  # right, wrong, and tied predictions
EXTREME_BINARY = np.array([[1e4, -1e4, 2.0], [-1e4, 1e4, -0.5], [1e4, -1e4, 1e4], [-1e4, 1e4, -1e4]])
EXTREME_BINARY_TARGET = np.array([[1.0, 1.0, 1.0], [0.0, 1.0, 0.3], [0.0, 0.0, 0.5], [0.2, 0.9, 1.0]])
# (a logit of exactly 0 in the binary losses: see test_binary_autograd_at_zero_logit)

EXTREME = [
    Case("cross_entropy", {}),
    Case("cross_entropy", {"label_smoothing": 0.1, "weight": W4}),
    Case("cross_entropy", {"z_loss": 1e-4}),
    Case("cross_entropy", {"logit_softcap": 30.0}),
    Case("focal_loss", {"gamma": 0.5}),
    Case("focal_loss", {"gamma": 2.0, "alpha": 0.25}),
    Case("focal_loss", {"gamma": 0.5, "label_smoothing": 0.1}),
    Case("poly1_cross_entropy", {"epsilon": 1.0}),
    Case("logit_adjusted_cross_entropy", {"priors": PRIORS4}),
    Case("binary_cross_entropy", {}, "01"),
    Case("binary_cross_entropy", {"pos_weight": PW3, "label_smoothing": 0.1}, "01"),
    Case("binary_focal_loss", {"gamma": 2.0, "alpha": 0.25}, "01"),
    Case("binary_focal_loss", {"gamma": 0.5}, "01"),
    Case("asymmetric_loss", {}, "01"),
    Case("asymmetric_loss", {"clip": 0.0}, "01"),
    Case("asymmetric_loss", {"gamma_pos": 0.5, "gamma_neg": 0.5, "clip": 0.0}, "01"),
]


@pytest.mark.parametrize("library", ["torch", "jax"])
@pytest.mark.parametrize("reduction", ["none", "mean"])
@pytest.mark.parametrize("case", EXTREME, ids=_id)
def test_extreme_logits_have_finite_gradients(case: Case, reduction: str, library: str) -> None:
    if case.loss in BINARY:
        prediction, target = EXTREME_BINARY, EXTREME_BINARY_TARGET
    else:
        prediction, target = EXTREME_SOFTMAX, EXTREME_LABELS
    options = {**case.options, "reduction": reduction}
    value, grad, _ = _closed_form(library, case.loss, prediction, target, **options)
    auto_value, auto_grad = AUTOGRAD[library](case.loss, prediction, target, **options)
    assert np.all(np.isfinite(value)) and np.all(np.isfinite(auto_value))
    assert np.all(np.isfinite(grad)) and np.all(np.isfinite(auto_grad))
    assert_close(value, auto_value)
    assert_close(grad, auto_grad)


def test_extreme_logits_cross_entropy_values() -> None:
    # The exact answers: a wrong prediction by 2e4 costs 2e4 nats with gradient p - y = ±1.
    value, grad = crossent.value_and_grad("cross_entropy", EXTREME_SOFTMAX[:2], EXTREME_LABELS[:2],
                                          reduction="none")
    np.testing.assert_array_equal(value, [0.0, 2e4])
    np.testing.assert_array_equal(grad, [[0.0, 0.0, 0.0, 0.0], [-1.0, 1.0, 0.0, 0.0]])


BINARY_AT_ZERO = [
    Case("binary_cross_entropy", {}, "01"),
    Case("binary_focal_loss", {"gamma": 2.0}, "01"),
    Case("asymmetric_loss", {"clip": 0.0}, "01"),
]


@pytest.mark.parametrize("library", ["torch", "jax"])
@pytest.mark.parametrize("case", BINARY_AT_ZERO, ids=_id)
def test_binary_autograd_at_zero_logit(case: Case, library: str) -> None:
    # A logit of exactly 0 is every logit of a zero-initialized output layer.
    prediction, target = np.zeros((2, 2)), np.array([[1.0, 0.0], [0.0, 1.0]])
    value, grad, _ = _closed_form(library, case.loss, prediction, target, reduction="sum")
    auto_value, auto_grad = AUTOGRAD[library](case.loss, prediction, target, reduction="sum")
    assert_close(value, auto_value)
    assert_close(grad, auto_grad)


@pytest.mark.parametrize("library", ["torch", "jax"])
def test_log_sigmoid_autograd_at_zero(library: str) -> None:
    xp = _import(library)
    if library == "torch":
        x = xp.zeros(1, dtype=xp.float64, requires_grad=True)
        crossent.log_sigmoid(x).sum().backward()
        grad = x.grad.numpy()
    else:
        import jax

        grad = jax.grad(lambda x: crossent.log_sigmoid(x).sum())(xp.zeros(1))
    assert_close(grad, [0.5])  # d/dx log σ(x) = 1 - σ(x)


# --- jax.jit -------------------------------------------------------------------------------------


@pytest.fixture
def jax() -> Any:
    return pytest.importorskip("jax")


def test_jit_cross_entropy_matches_eager(jax: Any) -> None:
    jnp = jax.numpy
    prediction, target = make_inputs(BY_ID["cross_entropy-labels"])
    z, y = jnp.asarray(prediction), jnp.asarray(target)
    assert_close(jax.jit(crossent.cross_entropy)(z, y), crossent.cross_entropy(z, y))
    none = jax.jit(lambda z, y: crossent.cross_entropy(z, y, reduction="none", weight=W4))
    assert_close(none(z, y), crossent.cross_entropy(z, y, reduction="none", weight=W4))


@pytest.mark.parametrize("case", [
    BY_ID["cross_entropy-labels-weight=array-ignore_index=-100-label_smoothing=0.1"],
    BY_ID["cross_entropy-labels-z_loss=0.05-logit_softcap=3.0-weight=array-sample_weight=array"],
    BY_ID["cross_entropy-soft-axis=1-weight=array-sample_weight=array-label_smoothing=0.1"],
    BY_ID["focal_loss-labels-gamma=0.5-alpha=array-ignore_index=-100-label_smoothing=0.1"],
    BY_ID["logit_adjusted_cross_entropy-labels-priors=array-tau=0.5-weight=array-ignore_index=-100"],
    BY_ID["binary_cross_entropy-01-sample_weight=array-base=2"],
    BY_ID["binary_focal_loss-01-gamma=2.0-label_smoothing=0.1-sample_weight=array-base=2"],
    BY_ID["asymmetric_loss-soft-gamma_pos=0.5-gamma_neg=0.5-clip=0.0"],
], ids=_id)
def test_jit_value_and_grad_matches_eager(jax: Any, case: Case) -> None:
    # Arrays (target, weights) are arguments of the jitted function; numbers stay Python numbers.
    jnp = jax.numpy
    prediction, target = make_inputs(case)
    z, y = jnp.asarray(prediction), jnp.asarray(target)
    arrays = {key: jnp.asarray(value) for key, value in case.options.items() if isinstance(value, np.ndarray)}
    numbers = {key: value for key, value in case.options.items() if key not in arrays}
    loss = getattr(crossent, case.loss)
    value, grad = crossent.value_and_grad(loss, z, y, **arrays, **numbers)
    jitted = jax.jit(lambda z, y, arrays: crossent.value_and_grad(loss, z, y, **arrays, **numbers))
    jit_value, jit_grad = jitted(z, y, arrays)
    assert_close(jit_value, value)
    assert_close(jit_grad, grad)
    assert_close(jit_value, loss(z, y, **arrays, **numbers))
    # jit of jax.grad of the loss agrees as well
    assert_close(jax.jit(jax.grad(lambda z, y, arrays: loss(z, y, **arrays, **numbers)))(z, y, arrays), grad)
    # and NumPy option arrays may be closed over
    closed = jax.jit(lambda z, y: crossent.value_and_grad(loss, z, y, **case.options))
    assert_close(closed(z, y)[1], grad)


@pytest.mark.parametrize("loss", ["cross_entropy", "binary_cross_entropy"])
def test_jit_with_closed_over_jax_target(jax: Any, loss: str) -> None:
    jnp = jax.numpy
    case = Case(loss, {}, "01" if loss in BINARY else "labels")
    prediction, target = make_inputs(case)
    z, y = jnp.asarray(prediction), jnp.asarray(target)
    expected = getattr(crossent, loss)(z, y)
    assert_close(jax.jit(lambda z: getattr(crossent, loss)(z, y))(z), expected)


def test_jit_out_of_range_label_gives_nan_row(jax: Any) -> None:
    # Under jit labels cannot be read, so nothing raises: the bad sample's loss is NaN (and the
    # mean with it); the other samples are untouched and the bad row has a zero gradient.
    jnp = jax.numpy
    prediction, _ = make_inputs(BY_ID["cross_entropy-labels"])
    z = jnp.asarray(prediction)
    good, bad = jnp.asarray([0, 3, 1, 2, 0]), jnp.asarray([0, 4, 1, 2, 0])
    per_sample = jax.jit(lambda z, y: crossent.cross_entropy(z, y, reduction="none"))
    expected, got = np.asarray(per_sample(z, good)), np.asarray(per_sample(z, bad))
    assert np.isnan(got[1])
    assert_close(np.delete(got, 1), np.delete(expected, 1))
    assert np.isnan(float(jax.jit(crossent.cross_entropy)(z, bad)))
    value, grad = jax.jit(lambda z, y: crossent.value_and_grad("cross_entropy", z, y, reduction="sum"))(z, bad)
    assert np.isnan(float(value))
    assert not np.any(np.asarray(grad)[1]) and np.all(np.isfinite(np.asarray(grad)))
    # a label outside the range with an ignore_index set is NaN too; the ignored label is not
    with_ignore = jax.jit(lambda z, y: crossent.cross_entropy(z, y, reduction="none", ignore_index=-100))
    got = np.asarray(with_ignore(z, jnp.asarray([0, -5, 1, -100, 7])))
    np.testing.assert_array_equal(np.isnan(got), [False, True, False, False, True])
    assert got[3] == 0.0


def test_eager_out_of_range_label_raises_on_numpy() -> None:
    prediction, _ = make_inputs(BY_ID["cross_entropy-labels"])
    with pytest.raises(ValueError, match="label 4"):
        crossent.cross_entropy(prediction, np.array([0, 4, 1, 2, 0]))
    with pytest.raises(ValueError, match="label -1"):
        crossent.cross_entropy(prediction, np.array([0, -1, 1, 2, 0]))


def test_jit_negative_label_gives_nan_row(jax: Any) -> None:
    jnp = jax.numpy
    prediction, _ = make_inputs(BY_ID["cross_entropy-labels"])
    per_sample = jax.jit(lambda z, y: crossent.cross_entropy(z, y, reduction="none"))
    got = np.asarray(per_sample(jnp.asarray(prediction), jnp.asarray([0, -1, 1, 2, 0])))
    assert np.isnan(got[1])


def test_eager_jax_out_of_range_label_raises(jax: Any) -> None:
    # eager JAX arrays are checked like NumPy and torch ones
    prediction, _ = make_inputs(BY_ID["cross_entropy-labels"])
    with pytest.raises(ValueError, match="label 4"):
        crossent.cross_entropy(jax.numpy.asarray(prediction), jax.numpy.asarray([0, 4, 1, 2, 0]))


# --- dtypes --------------------------------------------------------------------------------------

DTYPE_CASES = [
    BY_ID["cross_entropy-labels"],
    BY_ID["focal_loss-labels-gamma=2.0-alpha=0.25-weight=array"],
    BY_ID["poly1_cross_entropy-labels-epsilon=0.5-weight=array-ignore_index=-100-label_smoothing=0.1"],
    BY_ID["binary_cross_entropy-01"],
    BY_ID["binary_focal_loss-01-gamma=2.0-alpha=0.25"],
    BY_ID["asymmetric_loss-01-clip=0.0"],
]


@pytest.mark.parametrize("case", DTYPE_CASES, ids=_id)
def test_float32_gives_float32_gradient(backend: Any, case: Case) -> None:
    prediction, target = make_inputs(case)
    z = backend.asarray(prediction, backend.xp.float32)
    y = backend.asarray(target)
    options = convert(case.options, backend.asarray)
    value, grad = crossent.value_and_grad(case.loss, z, y, **options)
    assert grad.dtype == backend.xp.float32
    assert value.dtype == backend.xp.float32
    assert tuple(grad.shape) == prediction.shape
    _, grad64 = crossent.value_and_grad(case.loss, prediction, target, **case.options)
    assert_close(backend.to_numpy(grad), grad64, np.float32)


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
@pytest.mark.parametrize("case", DTYPE_CASES, ids=_id)
def test_half_precision_torch(case: Case, dtype: str) -> None:
    torch = pytest.importorskip("torch")
    half = getattr(torch, dtype)
    prediction, target = make_inputs(case)
    z16 = torch.tensor(prediction, dtype=half)
    y = torch.asarray(target)
    options = convert(case.options, torch.asarray)
    loss = getattr(crossent, case.loss)
    value, grad = crossent.value_and_grad(loss, z16, y, **options)
    assert grad.dtype == half
    assert value.dtype == torch.float32 and loss(z16, y, **options).dtype == torch.float32
    # computed in float32 from the rounded input, then rounded once
    value32, grad32 = crossent.value_and_grad(loss, z16.float(), y, **options)
    assert torch.equal(value, value32)
    assert torch.equal(grad, grad32.to(half))
    # torch.autograd through the loss: loss in float32, gradient in the input's dtype, same values
    z = z16.clone().requires_grad_(True)
    out = loss(z, y, **options)
    assert out.dtype == torch.float32
    out.backward()
    assert z.grad.dtype == half
    assert_close(z.grad.float().numpy(), grad.float().numpy(), np.float16)


def test_float16_numpy_gradient() -> None:
    prediction, target = make_inputs(BY_ID["cross_entropy-labels"])
    value, grad = crossent.value_and_grad(crossent.cross_entropy, prediction.astype(np.float16), target)
    assert grad.dtype == np.float16 and value.dtype == np.float32


# --- the loss argument ---------------------------------------------------------------------------


@pytest.mark.parametrize("case", [
    BY_ID["cross_entropy-labels"],
    BY_ID["focal_loss-labels-gamma=2.0-alpha=0.25-weight=array"],
    BY_ID["logit_adjusted_cross_entropy-labels-priors=array"],
    BY_ID["binary_cross_entropy-01-sample_weight=array-base=2"],
    BY_ID["asymmetric_loss-01-clip=0.0"],
], ids=_id)
def test_value_and_grad_by_name(case: Case) -> None:
    prediction, target = make_inputs(case)
    by_name = crossent.value_and_grad(case.loss, prediction, target, **case.options)
    by_function = crossent.value_and_grad(getattr(crossent, case.loss), prediction, target, **case.options)
    np.testing.assert_array_equal(by_name[0], by_function[0])
    np.testing.assert_array_equal(by_name[1], by_function[1])
    assert_close(by_name[0], getattr(crossent, case.loss)(prediction, target, **case.options))


def test_value_and_grad_priors_positional() -> None:
    prediction, target = make_inputs(BY_ID["logit_adjusted_cross_entropy-labels-priors=array"])
    positional = crossent.value_and_grad("logit_adjusted_cross_entropy", prediction, target, PRIORS4, tau=0.5)
    keyword = crossent.value_and_grad("logit_adjusted_cross_entropy", prediction, target, priors=PRIORS4, tau=0.5)
    np.testing.assert_array_equal(positional[1], keyword[1])
    with pytest.raises(TypeError, match="missing required argument 'priors'"):
        crossent.value_and_grad("logit_adjusted_cross_entropy", prediction, target)
    with pytest.raises(TypeError, match="multiple values for argument 'priors'"):
        crossent.value_and_grad("logit_adjusted_cross_entropy", prediction, target, PRIORS4, priors=PRIORS4)
    with pytest.raises(TypeError, match="positional arguments"):
        crossent.value_and_grad("cross_entropy", prediction, target, PRIORS4)


@pytest.mark.parametrize("loss", ["crossentropy", "softmax", "", None, np.mean])
def test_value_and_grad_rejects_unknown_loss(loss: Any) -> None:
    prediction, target = make_inputs(BY_ID["cross_entropy-labels"])
    with pytest.raises(ValueError, match=r"loss must be one of crossent's losses \(.*cross_entropy.*\), got"):
        crossent.value_and_grad(loss, prediction, target)


@pytest.mark.parametrize(("loss", "option"), [("cross_entropy", "gamma"), ("cross_entropy", "gama"),
                                              ("focal_loss", "z_loss"), ("binary_cross_entropy", "axis"),
                                              ("asymmetric_loss", "gamma"), ("categorical_cross_entropy",
                                                                              "ignore_index")])
def test_value_and_grad_rejects_unknown_option(loss: str, option: str) -> None:
    case = Case(loss, {}, "01" if loss in BINARY else "onehot")
    prediction, target = make_inputs(case)
    with pytest.raises(TypeError, match=f"{loss}\\(\\) got an unexpected keyword argument '{option}'"):
        crossent.value_and_grad(loss, prediction, target, **{option: 1})
    with pytest.raises(TypeError, match=f"unexpected keyword argument '{option}'"):
        getattr(crossent, loss)(prediction, target, **{option: 1})
