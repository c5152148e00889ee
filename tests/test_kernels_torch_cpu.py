"""The Numba kernels on PyTorch CPU tensors, under autograd, against the generic torch path.

Each call runs twice, with ``crossent.kernels._cpu.ENABLED`` on and off; the first must reach the
kernel (a spy on ``_cpu``'s entry points), the second must not. Values, ``x.grad`` after
``backward`` and ``value_and_grad`` agree within the dtype's tolerance.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

pytest.importorskip("numba")
torch = pytest.importorskip("torch")

import crossent  # noqa: E402
from conftest import assert_close, backward  # noqa: E402
from crossent.kernels import _cpu  # noqa: E402

WRAPPERS = ("softmax_cross_entropy", "log_loss", "sigmoid_cross_entropy")
DTYPES = [torch.float32, torch.float64]
NUMPY = {torch.float32: np.float32, torch.float64: np.float64}


def run_both(monkeypatch: pytest.MonkeyPatch, call: Callable[[bool], Any]) -> tuple[Any, Any]:
    """call(kernel_on) with the kernels on (they must be reached) and off (they must not be)."""
    calls: list[str] = []
    for name in WRAPPERS:
        original = getattr(_cpu, name)
        monkeypatch.setattr(_cpu, name, lambda *a, _o=original, _n=name, **k: (calls.append(_n), _o(*a, **k))[1])
    monkeypatch.setattr(_cpu, "MIN_ELEMENTS", 0)
    monkeypatch.setattr(_cpu, "ENABLED", True)
    fused = call(True)
    assert calls, "the kernel did not take the call"
    taken = len(calls)
    monkeypatch.setattr(_cpu, "ENABLED", False)
    generic = call(False)
    assert len(calls) == taken, "the generic path called the kernel"
    return fused, generic


SOFTMAX = {
    "plain": (crossent.cross_entropy, {}),
    "combined": (crossent.cross_entropy, {"weight": "class", "ignore_index": -100, "label_smoothing": 0.1,
                                          "z_loss": 1e-3, "sample_weight": "sample"}),
    "softcap": (crossent.cross_entropy, {"logit_softcap": 4.0}),
    "focal": (crossent.focal_loss, {"gamma": 2.0, "alpha": 0.25}),
    "logit_adjusted": (crossent.logit_adjusted_cross_entropy, {"priors": "class", "tau": 1.0}),
}


def resolve(options: dict[str, Any], n: int, c: int, dtype: Any, rng: np.random.Generator) -> dict[str, Any]:
    out = dict(options)
    for key, value in options.items():
        if value == "class":
            out[key] = torch.tensor(rng.uniform(0.2, 2.0, size=c), dtype=dtype)
        elif value == "sample":
            out[key] = torch.tensor(rng.uniform(0.0, 2.0, size=n), dtype=dtype)
    return out


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("case", SOFTMAX)
def test_softmax_backward_is_the_generic_one(monkeypatch: pytest.MonkeyPatch, case: str, reduction: str,
                                             dtype: Any) -> None:
    loss, options = SOFTMAX[case]
    rng = np.random.default_rng(len(case))
    n, c = 23, 37
    z = torch.tensor(rng.normal(scale=3.0, size=(n, c)), dtype=dtype)
    labels = torch.tensor(rng.integers(0, c, size=n))
    if "ignore_index" in options:
        labels[::4] = -100
    options = resolve(options, n, c, dtype, rng)
    upstream = torch.tensor(rng.normal(size=n), dtype=dtype) if reduction == "none" else torch.tensor(0.7, dtype=dtype)
    (value, grad), (value0, grad0) = run_both(
        monkeypatch, lambda _: backward(loss, z, labels, upstream, reduction=reduction, **options))
    assert value.dtype == value0.dtype == dtype and grad.dtype == dtype
    assert_close(value, value0, NUMPY[dtype])
    assert_close(grad, grad0, NUMPY[dtype])
    (v, g), (v0, g0) = run_both(monkeypatch, lambda _: crossent.value_and_grad(loss, z, labels, reduction=reduction,
                                                                                **options))
    assert isinstance(v, torch.Tensor) and isinstance(g, torch.Tensor)
    assert_close(v, v0, NUMPY[dtype])
    assert_close(g, g0, NUMPY[dtype])


def test_class_axis_one_and_plain_backward(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(3)
    z = torch.tensor(rng.normal(size=(4, 6, 5, 3)), dtype=torch.float32)  # (N, C, d1, d2)
    labels = torch.tensor(rng.integers(0, 6, size=(4, 5, 3)))
    (value, grad), (value0, grad0) = run_both(
        monkeypatch, lambda _: backward(crossent.cross_entropy, z, labels, axis=1, label_smoothing=0.05))
    assert_close(value, value0, np.float32)
    assert_close(grad, grad0, np.float32)


def test_log_loss_of_probabilities(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(4)
    p = torch.tensor(rng.dirichlet(np.ones(7), size=40), dtype=torch.float32)
    labels = torch.tensor(rng.integers(0, 7, size=40))
    (value, grad), (value0, grad0) = run_both(
        monkeypatch, lambda _: backward(crossent.cross_entropy, p, labels, from_logits=False))
    assert_close(value, value0, np.float32)
    assert_close(grad, grad0, np.float32)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("options", [{}, {"pos_weight": 2.0, "label_smoothing": 0.1}, {"sample_weight": "rows"}])
def test_binary_backward_is_the_generic_one(monkeypatch: pytest.MonkeyPatch, options: dict[str, Any],
                                            reduction: str, dtype: Any) -> None:
    rng = np.random.default_rng(len(options))
    z = torch.tensor(rng.normal(scale=4.0, size=(50, 9)), dtype=dtype)
    y = torch.tensor(rng.integers(0, 2, size=(50, 9)), dtype=dtype)
    if options.get("sample_weight") == "rows":
        options = {"sample_weight": torch.tensor(rng.uniform(size=(50, 1)), dtype=dtype)}
    upstream = torch.tensor(rng.normal(size=(50, 9)), dtype=dtype) if reduction == "none" else None
    (value, grad), (value0, grad0) = run_both(
        monkeypatch, lambda _: backward(crossent.binary_cross_entropy, z, y, upstream, reduction=reduction,
                                        **options))
    assert_close(value, value0, NUMPY[dtype])
    assert_close(grad, grad0, NUMPY[dtype])


def test_options_that_need_a_gradient_take_the_generic_path(monkeypatch: pytest.MonkeyPatch) -> None:
    called: list[str] = []
    for name in WRAPPERS:
        monkeypatch.setattr(_cpu, name, lambda *a, _n=name, **k: called.append(_n))
    monkeypatch.setattr(_cpu, "MIN_ELEMENTS", 0)
    z = torch.randn(8, 5, requires_grad=True)
    weight = torch.ones(5, requires_grad=True)
    loss = crossent.cross_entropy(z, torch.arange(8) % 5, weight=weight)
    loss.backward()
    assert called == [] and weight.grad is not None
    sample_weight = torch.ones(8, 5, requires_grad=True)
    crossent.binary_cross_entropy(z, (z > 0).float(), sample_weight=sample_weight).backward()
    assert called == [] and sample_weight.grad is not None


def test_functorch_takes_the_generic_path(monkeypatch: pytest.MonkeyPatch) -> None:
    called: list[str] = []
    for name in WRAPPERS:
        monkeypatch.setattr(_cpu, name, lambda *a, _n=name, **k: called.append(_n))
    monkeypatch.setattr(_cpu, "MIN_ELEMENTS", 0)
    z, labels = torch.randn(6, 4), torch.arange(6) % 4
    grad = torch.func.grad(lambda x: crossent.cross_entropy(x, labels))(z)
    assert grad.shape == z.shape
    assert called == []


def test_second_backward_says_how(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_cpu, "MIN_ELEMENTS", 0)
    monkeypatch.setattr(_cpu, "ENABLED", True)
    x = torch.randn(6, 4, requires_grad=True)
    loss = crossent.cross_entropy(x, torch.arange(6) % 4)
    loss.backward(retain_graph=True)
    with pytest.raises(RuntimeError, match="CROSSENT_KERNELS=0"):
        loss.backward()


def test_no_grad_computes_no_gradient(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[bool] = []
    original = _cpu.softmax_cross_entropy
    monkeypatch.setattr(_cpu, "softmax_cross_entropy", lambda *a, **k: (seen.append(k["grad"]), original(*a, **k))[1])
    monkeypatch.setattr(_cpu, "MIN_ELEMENTS", 0)
    monkeypatch.setattr(_cpu, "ENABLED", True)
    x = torch.randn(6, 4, requires_grad=True)
    with torch.no_grad():
        crossent.cross_entropy(x, torch.arange(6) % 4)
    crossent.cross_entropy(x.detach(), torch.arange(6) % 4)
    assert seen == [False, False]


def test_thread_count_follows_torch(monkeypatch: pytest.MonkeyPatch) -> None:
    import numba

    seen: list[int] = []
    original = _cpu.softmax_cross_entropy
    monkeypatch.setattr(_cpu, "softmax_cross_entropy",
                        lambda *a, **k: (seen.append(numba.get_num_threads()), original(*a, **k))[1])
    monkeypatch.setattr(_cpu, "MIN_ELEMENTS", 0)
    monkeypatch.setattr(_cpu, "ENABLED", True)
    before, threads = numba.get_num_threads(), torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        crossent.cross_entropy(torch.randn(6, 4), torch.arange(6) % 4)
    finally:
        torch.set_num_threads(threads)
    assert seen == [1] and numba.get_num_threads() == before
