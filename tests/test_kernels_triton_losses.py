"""The loss functions' Triton branch (CUDA tensors), run on CPU tensors under Triton's interpreter.

``crossent.kernels.TRITON_ON_CPU`` sends CPU tensors to the Triton kernels, which
``TRITON_INTERPRET=1`` (set in conftest.py) runs on the CPU: the same branch a CUDA tensor takes
in ``_softmax_loss`` and ``_sigmoid_loss``, with its autograd.Function and its device-side
reduction. Each call runs twice, through the kernel (a spy checks it was reached) and through
the generic path (the Numba kernels off), and the values, ``backward`` gradients and
``value_and_grad`` agree: losses to float32's tolerance, gradients to that plus one rounding to
the input dtype.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

pytest.importorskip("triton")
torch = pytest.importorskip("torch")

import crossent  # noqa: E402
import crossent.kernels  # noqa: E402
from conftest import backward, rtol  # noqa: E402

_triton = pytest.importorskip("crossent.kernels._triton")
if not _triton._interpreted():
    pytest.skip("triton was imported without TRITON_INTERPRET=1", allow_module_level=True)

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning:triton.*")

DTYPES = [torch.float32, torch.float16, torch.bfloat16]
LAUNCHERS = ("softmax_cross_entropy", "sigmoid_cross_entropy")


def run_both(monkeypatch: pytest.MonkeyPatch, call: Callable[[], Any]) -> tuple[Any, Any]:
    calls: list[str] = []
    for name in LAUNCHERS:
        original = getattr(_triton, name)
        monkeypatch.setattr(_triton, name, lambda *a, _o=original, _n=name, **k: (calls.append(_n), _o(*a, **k))[1])
    try:
        from crossent.kernels import _cpu
    except ImportError:
        pass
    else:
        monkeypatch.setattr(_cpu, "ENABLED", False)
    monkeypatch.setattr(crossent.kernels, "TRITON_ON_CPU", True)
    fused = call()
    assert calls, "the Triton kernel did not take the call"
    taken = len(calls)
    monkeypatch.setattr(crossent.kernels, "TRITON_ON_CPU", False)
    generic = call()
    assert len(calls) == taken, "the generic path called the Triton kernel"
    return fused, generic


def close(actual: Any, expected: Any, dtype: Any) -> None:
    """Float32 tolerance, or two roundings to ``dtype`` for a gradient in half precision: the
    kernel stores it in the input's dtype, and backward's product with grad_output is rounded
    again (the generic path rounds once, after the product)."""
    tol = rtol(np.float32) if dtype == torch.float32 else 2 * torch.finfo(dtype).eps
    np.testing.assert_allclose(actual.detach().double().numpy(), expected.detach().double().numpy(),
                               rtol=tol, atol=rtol(np.float32) * 1e-2)


SOFTMAX = {
    "plain": (crossent.cross_entropy, {}),
    "combined": (crossent.cross_entropy, {"weight": "class", "ignore_index": -100, "label_smoothing": 0.1,
                                          "z_loss": 1e-3, "sample_weight": "sample", "base": 2}),
    "softcap": (crossent.cross_entropy, {"logit_softcap": 4.0, "label_smoothing": 0.05}),
    "focal": (crossent.focal_loss, {"gamma": 2.0, "ignore_index": -100}),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("case", SOFTMAX)
def test_softmax_branch_is_the_generic_loss(monkeypatch: pytest.MonkeyPatch, case: str, reduction: str,
                                            dtype: Any) -> None:
    loss, options = SOFTMAX[case]
    rng = np.random.default_rng(len(case) + len(reduction))
    n, c = 13, 70
    z = torch.tensor(rng.normal(scale=3.0, size=(n, c)), dtype=torch.float32).to(dtype)
    labels = torch.tensor(rng.integers(0, c, size=n))
    if "ignore_index" in options:
        labels[::4] = -100
    options = {k: (torch.tensor(rng.uniform(0.2, 2.0, size=c), dtype=torch.float32) if v == "class" else
                   torch.tensor(rng.uniform(0.0, 2.0, size=n), dtype=torch.float32) if v == "sample" else v)
               for k, v in options.items()}
    upstream = torch.tensor(rng.normal(size=n), dtype=torch.float32) if reduction == "none" else torch.tensor(0.6)
    (value, grad), (value0, grad0) = run_both(
        monkeypatch, lambda: backward(loss, z, labels, upstream, reduction=reduction, **options))
    assert value.dtype == value0.dtype == torch.float32 and grad.dtype == grad0.dtype == dtype
    close(value, value0, torch.float32)
    close(grad, grad0, dtype)
    (v, g), (v0, g0) = run_both(monkeypatch, lambda: crossent.value_and_grad(loss, z, labels, reduction=reduction,
                                                                              **options))
    close(v, v0, torch.float32)
    close(g, g0, dtype)


def test_softmax_branch_class_axis_one(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(8)
    z = torch.tensor(rng.normal(size=(3, 5, 4, 2)), dtype=torch.float32)  # (N, C, d1, d2)
    labels = torch.tensor(rng.integers(0, 5, size=(3, 4, 2)))
    (value, grad), (value0, grad0) = run_both(
        monkeypatch, lambda: backward(crossent.cross_entropy, z, labels, None, axis=1, label_smoothing=0.1))
    close(value, value0, torch.float32)
    close(grad, grad0, torch.float32)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("options", [{}, {"pos_weight": 2.0, "label_smoothing": 0.1}, {"sample_weight": "rows"}])
def test_binary_branch_is_the_generic_loss(monkeypatch: pytest.MonkeyPatch, options: dict[str, Any],
                                           reduction: str, dtype: Any) -> None:
    rng = np.random.default_rng(len(options) + len(reduction))
    z = torch.tensor(rng.normal(scale=4.0, size=(21, 9)), dtype=torch.float32).to(dtype)
    y = torch.tensor(rng.integers(0, 2, size=(21, 9)), dtype=torch.float32)
    if options.get("sample_weight") == "rows":
        options = {"sample_weight": torch.tensor(rng.uniform(size=(21, 1)), dtype=torch.float32)}
    upstream = torch.tensor(rng.normal(size=(21, 9)), dtype=torch.float32) if reduction == "none" else None
    (value, grad), (value0, grad0) = run_both(
        monkeypatch, lambda: backward(crossent.binary_cross_entropy, z, y, upstream, reduction=reduction, **options))
    close(value, value0, torch.float32)
    close(grad, grad0, dtype)


def test_uncovered_options_take_the_generic_path(monkeypatch: pytest.MonkeyPatch) -> None:
    called: list[str] = []
    for name in LAUNCHERS:
        monkeypatch.setattr(_triton, name, lambda *a, _n=name, **k: called.append(_n))
    monkeypatch.setattr(crossent.kernels, "TRITON_ON_CPU", True)
    z, labels = torch.randn(6, 4), torch.arange(6) % 4
    crossent.poly1_cross_entropy(z, labels, epsilon=1.0)
    crossent.logit_adjusted_cross_entropy(z, labels, priors=torch.full((4,), 0.25))
    crossent.focal_loss(z, labels, alpha=0.25)
    crossent.cross_entropy(z, torch.eye(4)[labels])  # dense targets
    crossent.cross_entropy(z.softmax(-1), labels, from_logits=False)
    crossent.binary_focal_loss(z, (z > 0).float())
    crossent.cross_entropy(z, labels, weight=torch.ones(4, requires_grad=True))
    assert called == []


def test_branch_reads_no_tensor_values(monkeypatch: pytest.MonkeyPatch) -> None:
    # On a GPU, reading a value (item, bool, float, ...) waits for the device: the branch reads none.
    z = torch.randn(9, 6)
    labels = torch.tensor([0, 1, 2, 3, 4, 5, -100, 1, 2])
    monkeypatch.setattr(crossent.kernels, "TRITON_ON_CPU", True)
    weight, sample_weight = torch.rand(6), torch.rand(9)

    def forbidden(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a tensor's value was read on the host")

    for method in ("item", "__bool__", "__float__", "__int__", "__index__", "tolist", "numpy"):
        monkeypatch.setattr(torch.Tensor, method, forbidden)
    for reduction in ("mean", "sum", "none"):
        crossent.value_and_grad(crossent.cross_entropy, z, labels, reduction=reduction, weight=weight,
                                sample_weight=sample_weight, ignore_index=-100, label_smoothing=0.1)
        crossent.value_and_grad(crossent.binary_cross_entropy, z, (z > 0).float(), reduction=reduction,
                                sample_weight=torch.rand(9, 1))
    x = z.clone().requires_grad_()
    crossent.cross_entropy(x, labels, reduction="none", ignore_index=-100).backward(torch.ones(9))
