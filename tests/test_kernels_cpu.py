"""The numba CPU kernels against the generic path of the same loss (the generic path is the oracle).

Each test runs one call twice, with ``crossent.kernels._cpu.ENABLED`` on and off, checks that the
kernel took the first call and not the second, and compares value and gradient within the
dtype's tolerance.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

pytest.importorskip("numba")

import crossent
import crossent.kernels
from conftest import assert_close
from crossent.kernels import _cpu
from crossent.metrics import log_loss

DTYPES = [np.float32, np.float64]
REDUCTIONS = ["none", "sum", "mean"]
WRAPPERS = ("softmax_cross_entropy", "log_loss", "sigmoid_cross_entropy")


def both(monkeypatch: pytest.MonkeyPatch, call: Callable[[], Any]) -> tuple[Any, Any]:
    """call() through the kernel and through the generic path: (fused result, generic result)."""
    calls: list[str] = []
    for name in WRAPPERS:
        original = getattr(_cpu, name)

        def spy(*args: Any, _name: str = name, _original: Any = original, **kwargs: Any) -> Any:
            calls.append(_name)
            return _original(*args, **kwargs)

        monkeypatch.setattr(_cpu, name, spy)
    monkeypatch.setattr(_cpu, "ENABLED", True)
    monkeypatch.setattr(_cpu, "MIN_ELEMENTS", 0)  # small shapes too: the kernels must be exact on them
    fused = call()
    assert calls, "the kernel did not take the call"
    taken = len(calls)
    monkeypatch.setattr(_cpu, "ENABLED", False)
    generic = call()
    assert len(calls) == taken, "the generic path called the kernel"
    return fused, generic


def compare(monkeypatch: pytest.MonkeyPatch, loss: Callable[..., Any], prediction: np.ndarray,
            target: np.ndarray, dtype: Any, **options: Any) -> None:
    """value_and_grad and the loss itself, in every reduction, kernel against generic."""
    for reduction in REDUCTIONS:
        (value, grad), (value0, grad0) = both(monkeypatch, lambda r=reduction: crossent.value_and_grad(
            loss, prediction, target, reduction=r, **options))
        plain, _ = both(monkeypatch, lambda r=reduction: loss(prediction, target, reduction=r, **options))
        assert np.asarray(value).dtype == np.asarray(value0).dtype and np.shape(value) == np.shape(value0)
        assert grad.dtype == grad0.dtype == prediction.dtype and grad.shape == grad0.shape
        assert_close(value, value0, dtype)
        assert_close(plain, value0, dtype)
        assert_close(grad, grad0, dtype)


# (loss, options) over the softmax family: each option alone, then combined.
SOFTMAX = {
    "plain": (crossent.cross_entropy, {}),
    "weight": (crossent.cross_entropy, {"weight": "per-class"}),
    "ignore_index": (crossent.cross_entropy, {"ignore_index": -100}),
    "label_smoothing": (crossent.cross_entropy, {"label_smoothing": 0.2}),
    "z_loss": (crossent.cross_entropy, {"z_loss": 1e-2}),
    "logit_softcap": (crossent.cross_entropy, {"logit_softcap": 3.0}),
    "sample_weight": (crossent.cross_entropy, {"sample_weight": "per-sample"}),
    "combined": (crossent.cross_entropy, {"weight": "per-class", "ignore_index": -100, "label_smoothing": 0.1,
                                          "z_loss": 1e-3, "logit_softcap": 5.0, "sample_weight": "per-sample"}),
    "focal": (crossent.focal_loss, {"gamma": 2.0}),
    "focal_gamma_below_1": (crossent.focal_loss, {"gamma": 0.5, "alpha": 0.25}),
    "focal_combined": (crossent.focal_loss, {"gamma": 1.5, "alpha": "per-class", "weight": "per-class",
                                             "ignore_index": -100, "label_smoothing": 0.15}),
    "poly1_smoothed": (crossent.poly1_cross_entropy, {"epsilon": 1.0, "label_smoothing": 0.1}),
    "logit_adjusted": (crossent.logit_adjusted_cross_entropy, {"priors": "per-class", "tau": 0.8,
                                                               "z_loss": 1e-3, "logit_softcap": 4.0}),
    # the vectorized float32 kernel with every option it takes (no soft-cap, γ = ε = 0)
    "logit_adjusted_smoothed": (crossent.logit_adjusted_cross_entropy, {
        "priors": "per-class", "tau": 1.2, "label_smoothing": 0.1, "weight": "per-class", "z_loss": 1e-3,
        "ignore_index": -100, "sample_weight": "per-sample"}),
}


def softmax_case(rng: np.random.Generator, n: int, c: int, dtype: Any, options: dict[str, Any],
                 scale: float = 3.0) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    z = rng.normal(scale=scale, size=(n, c)).astype(dtype)
    labels = rng.integers(0, c, size=n)
    resolved = dict(options)
    for key, value in options.items():
        if value == "per-class":
            resolved[key] = rng.uniform(0.1, 2.0, size=c)
        elif value == "per-sample":
            resolved[key] = rng.uniform(0.0, 2.0, size=n)
    if "ignore_index" in options:
        labels[::3] = options["ignore_index"]
    return z, labels, resolved


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("n", "c"), [(1, 1), (1, 2), (5, 1), (4, 2), (3, 7), (257, 1000)])
@pytest.mark.parametrize("case", SOFTMAX)
def test_softmax_kernel_is_the_generic_loss(monkeypatch: pytest.MonkeyPatch, case: str, n: int, c: int,
                                            dtype: Any) -> None:
    loss, options = SOFTMAX[case]
    z, labels, options = softmax_case(np.random.default_rng([n, c, len(case)]), n, c, dtype, options)
    compare(monkeypatch, loss, z, labels, dtype, **options)


@pytest.mark.parametrize(("n", "c"), [(3, 2**17 + 1), (2**17 + 1, 3)])
@pytest.mark.parametrize("case", ["plain", "combined", "focal_combined"])
def test_softmax_kernel_many_classes_or_rows(monkeypatch: pytest.MonkeyPatch, case: str, n: int, c: int) -> None:
    loss, options = SOFTMAX[case]
    z, labels, options = softmax_case(np.random.default_rng([n, c]), n, c, np.float32, options)
    compare(monkeypatch, loss, z, labels, np.float32, **options)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", ["plain", "combined", "focal", "focal_gamma_below_1", "focal_combined",
                                  "poly1_smoothed", "logit_adjusted"])
def test_softmax_kernel_extreme_logits(monkeypatch: pytest.MonkeyPatch, case: str, dtype: Any) -> None:
    loss, options = SOFTMAX[case]
    rng = np.random.default_rng(len(case))
    z, labels, options = softmax_case(rng, 31, 9, dtype, options)
    z = (rng.choice([-1e4, 0.0, 1e4], size=z.shape) + z).astype(dtype)  # confident, right and wrong
    compare(monkeypatch, loss, z, labels, dtype, **options)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", ["plain", "combined", "logit_adjusted_smoothed", "focal"])
def test_softmax_kernel_nonfinite_logits(monkeypatch: pytest.MonkeyPatch, case: str, dtype: Any) -> None:
    # -inf logits (masked classes) keep the fast path; a row with +inf, NaN or only -inf goes to
    # the float64 kernel (fallback rows), and every row matches the generic path, NaN for NaN.
    loss, options = SOFTMAX[case]
    rng = np.random.default_rng(len(case) + 7)
    z, labels, options = softmax_case(rng, 12, 10, dtype, options)
    labels[labels < 0] = 1  # (ignore_index rows stay ignored elsewhere; here every row counts)
    z[:, 5:] = -np.inf  # half the classes masked
    labels = labels % 5
    if case != "focal":  # (focal's gradient at a +inf logit is inf - inf on one path, 0·inf on the other)
        z[3, 2] = np.inf
    z[4, 0] = np.nan
    z[5, :] = -np.inf
    z[6, labels[6]] = -np.inf  # the label itself masked: an infinite loss
    with np.errstate(invalid="ignore"):  # the generic path's inf - inf on rows 3 to 5
        compare(monkeypatch, loss, z, labels, dtype, **options)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("softcap", [None, 3.0])
def test_gradient_in_place_and_into_out(dtype: Any, softcap: float | None) -> None:
    # float32 without soft-cap: the vectorized kernel; float64 or soft-cap: the float64 kernel,
    # in place through a copy of each row; row 2 (+inf logit) falls back from the first to the second
    rng = np.random.default_rng(11)
    z = rng.normal(scale=4.0, size=(37, 513)).astype(dtype)
    z[2, 7] = np.inf
    labels = rng.integers(0, 513, size=37)
    labels[::5] = -100
    bias = np.log(rng.dirichlet(np.ones(513)))
    options = dict(ignore_index=-100, smoothing=0.1, gamma=0.0, epsilon=0.0, z_loss=1e-3, softcap=softcap,
                   grad=True, divisor=7.0)
    weights = (rng.uniform(size=37), rng.uniform(0.5, 2.0, size=513), None, bias)
    with np.errstate(invalid="ignore"):
        loss, grad = _cpu.softmax_cross_entropy(z, labels, *weights, **options)
        out = np.full_like(z, np.nan)
        loss_out, grad_out = _cpu.softmax_cross_entropy(z, labels, *weights, **options, out=out)
        assert grad_out is out
        work = z.copy()
        loss_in_place, grad_in_place = _cpu.softmax_cross_entropy(work, labels, *weights, **options, out=work)
    assert grad_in_place is work
    np.testing.assert_array_equal(loss_out, loss)
    np.testing.assert_array_equal(loss_in_place, loss)
    np.testing.assert_array_equal(grad_out, grad)
    np.testing.assert_array_equal(grad_in_place, grad)
    with pytest.raises(ValueError, match="out must be"):
        _cpu.softmax_cross_entropy(z, labels, *weights, **options, out=np.empty((37, 512), dtype))
    with pytest.raises(ValueError, match="C-contiguous"):
        strided = np.asfortranarray(z)
        _cpu.softmax_cross_entropy(strided, labels, *weights, **options, out=strided)


@pytest.mark.parametrize("dtype", DTYPES)
def test_softmax_kernel_class_axis_anywhere(monkeypatch: pytest.MonkeyPatch, dtype: Any) -> None:
    rng = np.random.default_rng(5)
    z = rng.normal(size=(4, 6, 3, 2)).astype(dtype)  # class axis 1, PyTorch's (N, C, d1, d2)
    labels = rng.integers(0, 6, size=(4, 3, 2))
    compare(monkeypatch, crossent.cross_entropy, z, labels, dtype, axis=1, label_smoothing=0.1,
            weight=rng.uniform(0.5, 1.5, size=6))
    compare(monkeypatch, crossent.cross_entropy, z[0, :, 0, 0], labels[0, 0, 0], dtype)  # one sample, [C]


@pytest.mark.parametrize("options", [{"ignore_index": 3}, {"sample_weight": np.zeros(6)},
                                     {"weight": np.array([0.0, 0.0, 1.0, 1.0])}])
def test_zero_total_weight(monkeypatch: pytest.MonkeyPatch, options: dict[str, Any]) -> None:
    z = np.random.default_rng(0).normal(size=(6, 4))
    labels = np.array([3, 3, 0, 1, 3, 0]) if "weight" in options else np.full(6, 3)
    compare(monkeypatch, crossent.cross_entropy, z, labels, np.float64, z_loss=0.1, **options)
    (value, grad), _ = both(monkeypatch, lambda: crossent.value_and_grad(crossent.cross_entropy, z, labels,
                                                                         **options))
    if "sample_weight" in options or "ignore_index" in options:
        assert value == 0 and not np.any(grad)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("options", [{}, {"eps": 1e-3}, {"label_smoothing": 0.1, "weight": np.linspace(0.2, 3.0, 5)},
                                     {"ignore_index": 7, "sample_weight": "per-sample"}])
def test_log_loss_kernel(monkeypatch: pytest.MonkeyPatch, options: dict[str, Any], dtype: Any) -> None:
    rng = np.random.default_rng(len(options))
    p = rng.dirichlet(np.full(5, 0.3), size=40).astype(dtype)
    labels = rng.integers(0, 5, size=40)
    p[0] = [0.0, 0.0, 0.0, 0.5, 0.5]  # a probability of 0 for the label: -log 0 = inf
    labels[0] = 0
    if "ignore_index" in options:
        labels[1::4] = 7
    if options.get("sample_weight") == "per-sample":
        options = {**options, "sample_weight": rng.uniform(size=40)}
    compare(monkeypatch, crossent.cross_entropy, p, labels, dtype, from_logits=False, **options)
    metric, metric0 = both(monkeypatch, lambda: log_loss(labels[1:] % 5, p[1:]))  # 7 % 5: not ignored
    assert_close(metric, metric0, dtype)


BINARY = {
    "plain": {},
    "pos_weight": {"pos_weight": np.array([0.5, 2.0, 3.0, 1.0, 0.0, 4.0, 1.5])},
    "pos_weight_scalar": {"pos_weight": 2.5},
    "label_smoothing": {"label_smoothing": 0.1},
    "sample_weight": {"sample_weight": "per-row"},
    "combined": {"pos_weight": np.array([0.5, 2.0, 3.0, 1.0, 0.0, 4.0, 1.5]), "label_smoothing": 0.2,
                 "sample_weight": "per-row"},
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("scale", [3.0, 1e4])
@pytest.mark.parametrize("n", [1, 3, 1001])
@pytest.mark.parametrize("case", BINARY)
def test_binary_kernel_is_the_generic_loss(monkeypatch: pytest.MonkeyPatch, case: str, n: int, scale: float,
                                           dtype: Any) -> None:
    rng = np.random.default_rng([n, int(scale), len(case)])
    z = rng.normal(scale=scale, size=(n, 7)).astype(dtype)
    y = rng.uniform(size=(n, 7)).astype(dtype)
    y[::2] = np.round(y[::2])  # hard targets on even rows, soft on odd ones
    options = dict(BINARY[case])
    if options.get("sample_weight") == "per-row":
        options["sample_weight"] = rng.uniform(0.0, 2.0, size=(n, 1))
    compare(monkeypatch, crossent.binary_cross_entropy, z, y, dtype, **options)


def test_binary_kernel_ten_million_elements_shape(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(9)
    z = rng.normal(size=2**17 + 1).astype(np.float32)
    y = rng.integers(0, 2, size=z.shape).astype(np.float32)
    compare(monkeypatch, crossent.binary_cross_entropy, z, y, np.float32, label_smoothing=0.05)


def test_errors_are_the_generic_paths(monkeypatch: pytest.MonkeyPatch) -> None:
    z = np.zeros((3, 4))
    monkeypatch.setattr(_cpu, "ENABLED", True)
    monkeypatch.setattr(_cpu, "MIN_ELEMENTS", 0)
    bad = [
        (lambda: crossent.cross_entropy(z, np.array([0, 4, 1])), ValueError, "label 4"),
        (lambda: crossent.cross_entropy(z, np.array([0, -1, 1]), ignore_index=-100), ValueError, "label -1"),
        (lambda: crossent.cross_entropy(z, np.array([0, 1])), ValueError, "shape"),
        (lambda: crossent.cross_entropy(z, np.array([0, 1, 2]), weight=-np.ones(4)), ValueError, "weight"),
        (lambda: crossent.cross_entropy(z, np.array([0, 1, 2]), sample_weight=-np.ones(3)), ValueError,
         "sample_weight"),
        (lambda: crossent.focal_loss(z, np.array([0, 1, 2]), alpha=-1.0), ValueError, "alpha"),
        (lambda: crossent.cross_entropy(z + 0.5, np.array([0, 1, 2]), from_logits=False), ValueError, "sum to 1"),
        (lambda: crossent.binary_cross_entropy(z, z + 2), ValueError, "target"),
        (lambda: crossent.binary_cross_entropy(z, z, pos_weight=-1.0), ValueError, "pos_weight"),
    ]
    for call, error, match in bad:
        with pytest.raises(error, match=match):
            call()


def test_uncovered_calls_take_the_generic_path(monkeypatch: pytest.MonkeyPatch) -> None:
    called: list[str] = []
    for name in WRAPPERS:
        monkeypatch.setattr(_cpu, name, lambda *a, _n=name, **k: called.append(_n))
    monkeypatch.setattr(_cpu, "ENABLED", True)
    monkeypatch.setattr(_cpu, "MIN_ELEMENTS", 0)
    rng = np.random.default_rng(0)
    z, labels = rng.normal(size=(5, 3)), rng.integers(0, 3, size=5)
    p = np.full((5, 3), 1 / 3)
    crossent.cross_entropy(z, np.eye(3)[labels])  # dense targets
    crossent.focal_loss(p, labels, from_logits=False)  # focal from probabilities
    crossent.binary_focal_loss(z, (z > 0).astype(float))
    crossent.cross_entropy(z.tolist(), labels.tolist(), xp=pytest.importorskip("array_api_strict"))
    assert called == []


def test_without_numba_the_generic_path_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(1)
    z, labels = rng.normal(size=(6, 4)), rng.integers(0, 4, size=6)
    monkeypatch.setattr(_cpu, "ENABLED", True)
    monkeypatch.setattr(_cpu, "MIN_ELEMENTS", 0)
    fused = crossent.value_and_grad(crossent.cross_entropy, z, labels, label_smoothing=0.1)
    monkeypatch.setitem(sys.modules, "numba", None)  # `import numba` raises ImportError
    monkeypatch.delitem(sys.modules, "crossent.kernels._cpu")
    monkeypatch.delattr(crossent.kernels, "_cpu")
    generic = crossent.value_and_grad(crossent.cross_entropy, z, labels, label_smoothing=0.1)
    assert "crossent.kernels._cpu" not in sys.modules
    assert_close(fused[0], generic[0])
    assert_close(fused[1], generic[1])


def test_import_crossent_imports_no_kernel() -> None:
    code = "import sys, crossent; assert not {'numba', 'crossent.kernels._cpu'} & set(sys.modules)"
    subprocess.run([sys.executable, "-c", code], check=True)



def test_small_predictions_take_the_generic_path(monkeypatch: pytest.MonkeyPatch) -> None:
    # Below MIN_ELEMENTS a parallel launch buys nothing and contends with BLAS threads.
    called: list[str] = []
    for name in WRAPPERS:
        original = getattr(_cpu, name)
        monkeypatch.setattr(_cpu, name, lambda *a, _n=name, _o=original, **k: (called.append(_n), _o(*a, **k))[1])
    monkeypatch.setattr(_cpu, "ENABLED", True)
    rng = np.random.default_rng(2)
    small = rng.normal(size=(455, 2))
    crossent.value_and_grad(crossent.cross_entropy, small, rng.integers(0, 2, size=455))
    assert called == []
    large = rng.normal(size=(_cpu.MIN_ELEMENTS // 4, 4))
    crossent.value_and_grad(crossent.cross_entropy, large, rng.integers(0, 4, size=large.shape[0]))
    assert called == ["softmax_cross_entropy"]


def random_mix(seed: int) -> tuple[Any, np.ndarray, np.ndarray, Any, dict[str, Any]]:
    """A random softmax-family call the kernel covers: loss, options, shape, dtype and logits (some
    large, some masked) drawn from ``seed``. The mixes of issue 10's fuzzing, kept."""
    rng = np.random.default_rng([7, seed])
    dtype = DTYPES[seed % 2]
    loss = [crossent.cross_entropy, crossent.focal_loss, crossent.poly1_cross_entropy,
            crossent.logit_adjusted_cross_entropy][rng.integers(4)]
    n, c = int(rng.integers(1, 60)), int(rng.integers(1, 40))
    options: dict[str, Any] = {}
    if rng.random() < 0.5:
        options["weight"] = "per-class"
    if rng.random() < 0.5:
        options["sample_weight"] = "per-sample"
    if rng.random() < 0.3:
        options["ignore_index"] = -100
    if rng.random() < 0.5:
        options["label_smoothing"] = float(rng.choice([0.05, 0.1, 0.5, 1.0]))
    if loss is crossent.focal_loss:
        options["gamma"] = float(rng.choice([0.0, 0.5, 1.0, 2.0, 3.0]))
        if rng.random() < 0.5:
            options["alpha"] = "per-class" if rng.random() < 0.5 else 0.25
    elif loss is crossent.poly1_cross_entropy:
        options["epsilon"] = float(rng.choice([-1.0, 1.0, 2.0]))
    else:
        if rng.random() < 0.3:
            options["z_loss"] = 1e-3
        if rng.random() < 0.3:
            options["logit_softcap"] = float(rng.choice([1.0, 5.0, 30.0]))
        if loss is crossent.logit_adjusted_cross_entropy:
            options["priors"] = "per-class"
            options["tau"] = float(rng.choice([0.5, 1.0, 1.5]))
    z, labels, options = softmax_case(rng, n, c, dtype, options, scale=float(rng.choice([1.0, 5.0, 50.0])))
    if c > 2 and rng.random() < 0.3:
        z[:, -1] = -np.inf  # a masked class
        labels = np.where(labels == c - 1, 0, labels)
    return loss, z, labels, dtype, options


@pytest.mark.parametrize("seed", range(120))
def test_random_option_mixes_kernel_against_generic(monkeypatch: pytest.MonkeyPatch, seed: int) -> None:
    loss, z, labels, dtype, options = random_mix(seed)
    compare(monkeypatch, loss, z, labels, dtype, **options)


@pytest.mark.parametrize("seed", range(40))
def test_random_binary_and_probability_mixes_kernel_against_generic(monkeypatch: pytest.MonkeyPatch,
                                                                    seed: int) -> None:
    # the sigmoid kernel (binary cross-entropy from logits) and the log-loss kernel (probabilities)
    rng = np.random.default_rng([11, seed])
    dtype = DTYPES[seed % 2]
    n, c = int(rng.integers(1, 60)), int(rng.integers(1, 12))
    if seed % 4 < 2:
        z = (rng.normal(size=(n, c)) * float(rng.choice([1.0, 10.0, 100.0]))).astype(dtype)
        y = (rng.random((n, c)) < 0.3).astype(dtype) if rng.random() < 0.5 else rng.random((n, c)).astype(dtype)
        options: dict[str, Any] = {}
        if rng.random() < 0.5:
            options["pos_weight"] = rng.uniform(0.5, 3.0, size=c)
        if rng.random() < 0.5:
            options["label_smoothing"] = float(rng.choice([0.05, 0.2]))
        if rng.random() < 0.5:
            options["sample_weight"] = rng.uniform(0.0, 2.0, size=(n, c))
        compare(monkeypatch, crossent.binary_cross_entropy, z, y, dtype, **options)
    else:
        p = rng.dirichlet(np.ones(c) * float(rng.choice([0.1, 1.0])), size=n).astype(dtype)
        labels = rng.integers(0, c, size=n)
        options = {"from_logits": False}
        if rng.random() < 0.5:
            options["weight"] = rng.uniform(0.1, 2.0, size=c)
        if rng.random() < 0.5:
            options["label_smoothing"] = 0.1
        if rng.random() < 0.5:
            options["eps"] = float(rng.choice([1e-7, 1e-3]))
        compare(monkeypatch, crossent.cross_entropy, p, labels, dtype, **options)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("weights", ["none", "scalar", "element"])
def test_sigmoid_kernel_across_several_blocks_and_a_partial_one(monkeypatch: pytest.MonkeyPatch, dtype: Any,
                                                                weights: str) -> None:
    # the float32 kernel works in blocks of _cpu_sigmoid.BLOCK elements (slices indexed from 0):
    # three whole blocks and a partial one, every reduction (the loss stored or not), against generic
    from crossent.kernels import _cpu_sigmoid

    rng = np.random.default_rng(5)
    n = 3 * _cpu_sigmoid.BLOCK + 77
    z = (rng.normal(size=n) * 6).astype(dtype)
    y = rng.random(n).astype(dtype)
    options: dict[str, Any] = {"pos_weight": 1.5, "label_smoothing": 0.05}
    if weights == "scalar":
        options["sample_weight"] = np.full(n, 0.7)
    elif weights == "element":
        options["sample_weight"] = np.where(rng.random(n) < 0.2, 0.0, rng.uniform(0.5, 2.0, n))
    compare(monkeypatch, crossent.binary_cross_entropy, z, y, dtype, **options)
