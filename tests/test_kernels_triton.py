"""The Triton kernels against the generic path of the same loss (the generic path is the oracle).

They run under Triton's interpreter on CPU tensors: ``TRITON_INTERPRET=1`` is set here, before
anything imports ``triton`` (``TRITON_INTERPRET=0 pytest tests/test_kernels_triton.py`` runs
them on a CUDA device instead). The oracle is the generic core in float64 NumPy, given the
very values the kernel reads (float16/bfloat16 logits upcast), with the Numba kernels off.
Losses are accumulated in float32 whatever the input dtype, so they are held to float32's
tolerance; the gradient is stored in the input dtype, so it is held to that dtype's rounding.
"""

from __future__ import annotations

import os

os.environ.setdefault("TRITON_INTERPRET", "1")  # before triton is imported: the kernels run on the CPU

from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

pytest.importorskip("triton")
pytest.importorskip("torch")

import torch
import triton
import triton.language as tl

import crossent
from conftest import assert_close, rtol
from crossent.kernels import _triton
from crossent.losses._categorical import _softmax_loss

if _triton._interpreted():
    DEVICE = "cpu"
elif torch.cuda.is_available():
    DEVICE = "cuda"
else:
    pytest.skip("triton was imported without TRITON_INTERPRET=1 and there is no CUDA device",
                allow_module_level=True)

# the interpreter evaluates both branches of tl.where in NumPy (0·inf there is harmless)
pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning:triton.*")

DTYPES = [torch.float32, torch.float16, torch.bfloat16]


@pytest.fixture(autouse=True)
def generic_only(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The oracle is the generic path: the Numba kernels off (where numba is installed)."""
    try:
        from crossent.kernels import _cpu
    except ImportError:
        pass
    else:
        monkeypatch.setattr(_cpu, "ENABLED", False)
    yield


def numpy(t: torch.Tensor) -> np.ndarray:
    """float64 NumPy values of a tensor (bfloat16 included)."""
    return t.detach().to("cpu", torch.float64).numpy()


def assert_grad_close(actual: torch.Tensor, expected: np.ndarray) -> None:
    """Computed in float32, rounded once to the storage dtype: within float32's tolerance plus
    one rounding (eps relative)."""
    tol = max(rtol(np.float32), torch.finfo(actual.dtype).eps)
    np.testing.assert_allclose(numpy(actual), expected, rtol=tol, atol=rtol(np.float32) * 1e-3)


# ---------------------------------------------------------------------------------------------
# softmax cross-entropy

def generic(z: torch.Tensor, labels: torch.Tensor, reduction: str = "none", *, sample_weight: Any = None,
            class_weight: Any = None, ignore_index: int | None = None, smoothing: float = 0.0,
            z_loss: float = 0.0, softcap: float | None = None, gamma: float = 0.0,
            **ignored: Any) -> tuple[Any, Any]:
    """(per-row losses, gradient) of the generic core in float64 on the kernel's own inputs."""
    return _softmax_loss(
        numpy(z), labels.cpu().numpy(), reduction=reduction, grad=True,
        sample_weight=None if sample_weight is None else numpy(sample_weight),
        weight=None if class_weight is None else numpy(class_weight), ignore_index=ignore_index,
        label_smoothing=smoothing, z_loss=z_loss, logit_softcap=softcap, gamma=gamma)


def row_weights(labels: torch.Tensor, sample_weight: Any = None, class_weight: Any = None,
                ignore_index: int | None = None, **ignored: Any) -> np.ndarray:
    """s_i w_{y_i}, 0 for an ignored row (DESIGN.md: the per-sample weight of "mean")."""
    y = labels.cpu().numpy()
    kept = y != ignore_index if ignore_index is not None else np.ones(y.shape, bool)
    s = np.ones(y.shape) if sample_weight is None else numpy(sample_weight)
    w = np.ones(y.shape) if class_weight is None else numpy(class_weight)[np.where(kept, y, 0)]
    return np.where(kept, s * w, 0.0)


SOFTMAX: dict[str, dict[str, Any]] = {
    "plain": {},
    "sample_weight": {"sample_weight": "per-row"},
    "class_weight": {"class_weight": "per-class"},
    "ignore_index": {"ignore_index": -100},
    "ignore_index_in_range": {"ignore_index": 1},
    "smoothing": {"smoothing": 0.2},
    "z_loss": {"z_loss": 1e-2},
    "softcap": {"softcap": 3.0},
    "focal": {"gamma": 2.0},
    "focal_smoothed": {"gamma": 0.5, "smoothing": 0.1, "class_weight": "per-class"},
    "combined": {"sample_weight": "per-row", "class_weight": "per-class", "ignore_index": -100,
                 "smoothing": 0.1, "z_loss": 1e-3, "softcap": 5.0, "gamma": 1.5},
}


def softmax_case(seed: Any, n: int, c: int, dtype: torch.dtype, options: dict[str, Any],
                 scale: float = 3.0) -> tuple[torch.Tensor, torch.Tensor, dict[str, Any]]:
    rng = np.random.default_rng(seed)
    z = torch.tensor(rng.normal(scale=scale, size=(n, c)), dtype=dtype, device=DEVICE)
    labels = rng.integers(0, c, size=n)
    resolved = dict(options)
    for key, value in options.items():
        if value == "per-class":
            resolved[key] = torch.tensor(rng.uniform(0.1, 2.0, size=c), device=DEVICE)
        elif value == "per-row":
            resolved[key] = torch.tensor(rng.uniform(0.0, 2.0, size=n), dtype=torch.float32, device=DEVICE)
    if options.get("ignore_index") == -100:
        labels[::3] = -100
    return z, torch.tensor(labels, device=DEVICE), resolved


def check_softmax(z: torch.Tensor, labels: torch.Tensor, **options: Any) -> None:
    """Loss, row weights and gradient against the generic path; grad=False gives the same loss."""
    loss, row_weight, grad = _triton.softmax_cross_entropy(z, labels, **options)
    expected_loss, expected_grad = generic(z, labels, **options)
    assert loss.dtype == row_weight.dtype == torch.float32 and loss.shape == row_weight.shape == labels.shape
    assert grad is not None and grad.dtype == z.dtype and grad.shape == z.shape
    assert_close(numpy(loss), expected_loss, np.float32)
    assert_close(numpy(row_weight), row_weights(labels, **options), np.float32)
    assert_grad_close(grad, expected_grad)
    loss_only, row_weight_only, none = _triton.softmax_cross_entropy(z, labels, grad=False, **options)
    assert none is None
    assert torch.equal(loss_only, loss) and torch.equal(row_weight_only, row_weight)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("n", "c", "block"), [(1, 1, 4096), (1, 2, 4096), (4, 2, 4096), (5, 7, 4096),
                                               (3, 300, 64), (2, 129, 128)])
@pytest.mark.parametrize("case", SOFTMAX)
def test_softmax_kernel_is_the_generic_loss(monkeypatch: pytest.MonkeyPatch, case: str, n: int, c: int,
                                            block: int, dtype: torch.dtype) -> None:
    monkeypatch.setattr(_triton, "MAX_BLOCK", block)  # several sweep steps, the last one partial
    z, labels, options = softmax_case([n, c, len(case)], n, c, dtype, SOFTMAX[case])
    check_softmax(z, labels, **options)


@pytest.mark.parametrize(("case", "dtype"), [("combined", torch.float32), ("focal_smoothed", torch.float32),
                                             ("plain", torch.bfloat16)])
def test_softmax_kernel_many_classes(case: str, dtype: torch.dtype) -> None:
    z, labels, options = softmax_case(7, 2, 2**17 + 1, dtype, SOFTMAX[case])
    check_softmax(z, labels, **options)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16])
@pytest.mark.parametrize("case", ["plain", "smoothing", "focal", "focal_smoothed", "combined"])
def test_softmax_kernel_extreme_logits(case: str, dtype: torch.dtype) -> None:
    rng = np.random.default_rng(len(case))
    z, labels, options = softmax_case(rng, 31, 9, torch.float32, SOFTMAX[case])
    z = (z + torch.tensor(rng.choice([-1e4, 0.0, 1e4], size=z.shape), device=DEVICE)).to(dtype)
    loss, _, grad = _triton.softmax_cross_entropy(z, labels, **options)
    expected_loss, expected_grad = generic(z, labels, **options)
    assert np.isfinite(expected_loss).all() and np.isfinite(expected_grad).all()
    assert_close(numpy(loss), expected_loss, np.float32)
    assert grad is not None
    assert_grad_close(grad, expected_grad)


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
@pytest.mark.parametrize("case", ["plain", "smoothing", "focal", "focal_smoothed", "combined"])
def test_softmax_kernel_masked_logits(monkeypatch: pytest.MonkeyPatch, case: str, dtype: torch.dtype) -> None:
    """-inf logits (masked classes) other than the label's: p = 0 there. The oracle is the generic
    path with -1e4 in their place (p = 0 exactly in float64), since the generic path itself gives
    NaN for 0·log 0; with smoothing (and no soft-cap) the loss is inf, -log 0 for a class with a > 0."""
    monkeypatch.setattr(_triton, "MAX_BLOCK", 8)
    rng = np.random.default_rng(len(case))
    z, labels, options = softmax_case(rng, 12, 19, dtype, SOFTMAX[case])
    masked = torch.tensor(rng.uniform(size=z.shape) < 0.3, device=DEVICE)
    masked[torch.arange(12), labels.clamp(min=0)] = False
    masked[1] = False  # a row without any
    loss, _, grad = _triton.softmax_cross_entropy(z.masked_fill(masked, float("-inf")), labels, **options)
    expected_loss, expected_grad = generic(z.masked_fill(masked, -1e4), labels, **options)
    infinite = numpy(masked.any(dim=1)).astype(bool) & (labels.cpu().numpy() != options.get("ignore_index"))
    if "smoothing" not in options or "softcap" in options:
        infinite[:] = False
    assert np.all(numpy(loss)[infinite] == np.inf)
    assert_close(numpy(loss)[~infinite], expected_loss[~infinite], np.float32)
    assert grad is not None
    assert_grad_close(grad, expected_grad)


@pytest.mark.parametrize("as_tensor", [False, True])
def test_grad_scale_gives_the_mean(as_tensor: bool) -> None:
    z, labels, options = softmax_case(3, 10, 6, torch.float32, SOFTMAX["combined"])
    loss, row_weight, _ = _triton.softmax_cross_entropy(z, labels, grad=False, **options)
    scale = 1 / row_weight.sum()  # on the device: no sync
    _, _, grad = _triton.softmax_cross_entropy(z, labels, grad_scale=scale if as_tensor else float(scale),
                                               **options)
    value, expected_grad = generic(z, labels, "mean", **options)
    assert_close(float(loss.sum() * scale), value, np.float32)
    assert grad is not None
    assert_grad_close(grad, expected_grad)
    _, _, unscaled = _triton.softmax_cross_entropy(z, labels, **options)
    _, _, halved = _triton.softmax_cross_entropy(z, labels, grad_scale=torch.tensor(0.5, dtype=torch.float64,
                                                                                    device=DEVICE), **options)
    assert unscaled is not None and halved is not None
    assert torch.equal(halved, unscaled * 0.5)


def nan_framed(values: torch.Tensor, border: int = 3) -> tuple[torch.Tensor, torch.Tensor]:
    """(buffer, view): ``values`` copied into the middle of a NaN buffer, the view strided by rows."""
    n, c = values.shape
    buffer = torch.full((n + 2, c + 2 * border), float("nan"), dtype=values.dtype, device=values.device)
    view = buffer[1:-1, border:-border]
    view.copy_(values)
    return buffer, view


def frame(buffer: torch.Tensor, border: int = 3) -> torch.Tensor:
    inside = torch.zeros(buffer.shape, dtype=torch.bool, device=buffer.device)
    inside[1:-1, border:-border] = True
    return buffer[~inside]


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
@pytest.mark.parametrize("case", ["plain", "focal_smoothed", "combined"])
def test_softmax_in_place(monkeypatch: pytest.MonkeyPatch, case: str, dtype: torch.dtype) -> None:
    """The gradient written over z (a strided view in a NaN buffer): the same numbers as out of
    place, the buffer around it untouched (and never read: a NaN read would spread)."""
    monkeypatch.setattr(_triton, "MAX_BLOCK", 16)
    z0, labels, options = softmax_case(4, 7, 37, dtype, SOFTMAX[case])
    buffer, z = nan_framed(z0)
    assert z.stride() == (43, 1)
    loss, row_weight, grad = _triton.softmax_cross_entropy(z, labels, **options)  # a strided z, not copied
    expected_loss, expected_grad = generic(z0, labels, **options)
    assert_close(numpy(loss), expected_loss, np.float32)
    assert grad is not None
    assert_grad_close(grad, expected_grad)
    loss2, row_weight2, grad2 = _triton.softmax_cross_entropy(z, labels, in_place=True, **options)
    assert grad2 is z
    assert torch.equal(loss2, loss) and torch.equal(row_weight2, row_weight) and torch.equal(z, grad)
    assert torch.isnan(frame(buffer)).all()


def test_softmax_transposed_logits() -> None:
    z, labels, options = softmax_case(5, 6, 11, torch.float32, SOFTMAX["combined"])
    zt = z.T.contiguous().T  # class stride 6: copied out of place, refused in place
    loss, _, grad = _triton.softmax_cross_entropy(zt, labels, **options)
    loss0, _, grad0 = _triton.softmax_cross_entropy(z, labels, **options)
    assert torch.equal(loss, loss0) and grad is not None and grad0 is not None and torch.equal(grad, grad0)
    with pytest.raises(ValueError, match=r"in_place=True needs z's rows apart and their classes adjacent"):
        _triton.softmax_cross_entropy(zt, labels, in_place=True)


@pytest.mark.parametrize("in_place", [False, True])
@pytest.mark.parametrize("ignore_index", [None, -100])
def test_out_of_range_labels_give_nan_rows(in_place: bool, ignore_index: int | None) -> None:
    """Labels the device cannot refuse without a host sync: NaN loss, row weight and gradient
    for their rows, nothing read at them (2**40 would fault), the other rows exact."""
    z0, _, options = softmax_case(6, 6, 5, torch.float32, SOFTMAX["combined"])
    options["ignore_index"] = ignore_index
    labels = torch.tensor([0, 5, -1, 2**40, 4, -100 if ignore_index else 3], device=DEVICE)
    buffer, z = nan_framed(z0)
    loss, row_weight, grad = _triton.softmax_cross_entropy(z, labels, in_place=in_place, **options)
    assert grad is not None
    bad = torch.tensor([False, True, True, True, False, False], device=DEVICE)
    assert torch.isnan(loss[bad]).all() and torch.isnan(row_weight[bad]).all() and torch.isnan(grad[bad]).all()
    good = ~bad
    sub = {k: v[good] if k == "sample_weight" else v for k, v in options.items()}
    expected_loss, expected_grad = generic(z0[good], labels[good], **sub)
    assert_close(numpy(loss[good]), expected_loss, np.float32)
    assert_grad_close(grad[good], expected_grad)
    assert torch.isnan(frame(buffer)).all()


@pytest.mark.parametrize("labels_dtype", [torch.int64, torch.int32, torch.uint8])
def test_ignored_rows_give_zeros_whatever_they_hold(labels_dtype: torch.dtype) -> None:
    z, labels, options = softmax_case(8, 4, 6, torch.float32, SOFTMAX["combined"])
    labels = torch.tensor([255, 1, 255, 5], dtype=labels_dtype, device=DEVICE)
    options["ignore_index"] = 255
    z[0] = float("nan")
    z[2] = float("nan")
    loss, row_weight, grad = _triton.softmax_cross_entropy(z, labels, **options)
    assert grad is not None
    for row in (0, 2):
        assert loss[row] == 0 and row_weight[row] == 0 and not grad[row].any()
    check_softmax(z[[1, 3]], labels[[1, 3]].long(), **{k: v[[1, 3]] if k == "sample_weight" else v
                                                       for k, v in options.items()})


def test_every_row_ignored() -> None:
    z, labels, options = softmax_case(9, 5, 4, torch.float16, SOFTMAX["combined"])
    labels = torch.full((5,), -100, device=DEVICE)
    loss, row_weight, grad = _triton.softmax_cross_entropy(z, labels, **options)
    assert grad is not None
    assert not loss.any() and not row_weight.any() and not grad.any() and not torch.isnan(grad).any()
    empty = _triton.softmax_cross_entropy(z[:0], labels[:0])
    assert empty[0].shape == empty[1].shape == (0,) and empty[2] is not None and empty[2].shape == (0, 4)


# ---------------------------------------------------------------------------------------------
# binary cross-entropy from logits

BINARY: dict[str, dict[str, Any]] = {
    "plain": {},
    "pos_weight": {"pos_weight": "per-label"},
    "pos_weight_one": {"pos_weight": "one"},
    "sample_weight_rows": {"sample_weight": "per-row"},
    "sample_weight_full": {"sample_weight": "full"},
    "smoothing": {"smoothing": 0.1},
    "combined": {"pos_weight": "per-label", "sample_weight": "per-row", "smoothing": 0.2},
}


def binary_case(seed: Any, shape: tuple[int, ...], dtype: torch.dtype, options: dict[str, Any],
                scale: float = 3.0) -> tuple[torch.Tensor, torch.Tensor, dict[str, Any]]:
    rng = np.random.default_rng(seed)
    z = torch.tensor(rng.normal(scale=scale, size=shape), dtype=dtype, device=DEVICE)
    y = rng.uniform(size=shape)
    y[..., ::2] = np.round(y[..., ::2])  # hard and soft targets
    weight_shapes = {"per-label": shape[-1:], "one": (), "per-row": shape[:1] + (1,) * (len(shape) - 1),
                     "full": shape}
    resolved = {key: torch.tensor(rng.uniform(0.0, 3.0, size=weight_shapes[value]), device=DEVICE)
                if isinstance(value, str) else value for key, value in options.items()}
    return z, torch.tensor(y, dtype=dtype, device=DEVICE), resolved


def binary_generic(z: torch.Tensor, y: torch.Tensor, reduction: str = "none", *, sample_weight: Any = None,
                   pos_weight: Any = None, smoothing: Any = 0.0) -> tuple[np.ndarray, np.ndarray]:
    return crossent.value_and_grad(
        crossent.binary_cross_entropy, numpy(z), numpy(y), reduction=reduction, label_smoothing=smoothing,
        sample_weight=None if sample_weight is None else numpy(sample_weight),
        pos_weight=None if pos_weight is None else numpy(pos_weight))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("scale", [3.0, 1e4])
@pytest.mark.parametrize("shape", [(1,), (5, 7), (3, 4, 5)])
@pytest.mark.parametrize("case", BINARY)
def test_binary_kernel_is_the_generic_loss(monkeypatch: pytest.MonkeyPatch, case: str, shape: tuple[int, ...],
                                           scale: float, dtype: torch.dtype) -> None:
    monkeypatch.setattr(_triton, "ELEMENTWISE_BLOCK", 16)  # several programs, the last one partial
    z, y, options = binary_case([len(shape), int(scale), len(case)], shape, dtype, BINARY[case], scale)
    loss, grad = _triton.sigmoid_cross_entropy(z, y, **options)
    expected_loss, expected_grad = binary_generic(z, y, **options)
    assert loss.dtype == torch.float32 and loss.shape == z.shape
    assert grad is not None and grad.dtype == z.dtype and grad.shape == z.shape
    assert_close(numpy(loss), expected_loss, np.float32)
    assert_grad_close(grad, expected_grad)
    loss_only, none = _triton.sigmoid_cross_entropy(z, y, grad=False, **options)
    assert none is None and torch.equal(loss_only, loss)


def test_binary_weights_any_broadcast_and_targets_any_dtype() -> None:
    """A weight whose non-1 dimensions are not one run of z's is materialized; the others are
    indexed in place. Targets may be bool or integer."""
    z, y, _ = binary_case(11, (2, 3, 5), torch.float32, {})
    rng = np.random.default_rng(12)
    options: dict[str, Any] = {
        "sample_weight": torch.tensor(rng.uniform(size=(2, 1, 5)), device=DEVICE),  # materialized
        "pos_weight": torch.tensor(rng.uniform(size=(3, 1)), device=DEVICE),  # the middle axis, indexed
    }
    loss, grad = _triton.sigmoid_cross_entropy(z, y, **options)
    expected_loss, expected_grad = binary_generic(z, y, **options)
    assert_close(numpy(loss), expected_loss, np.float32)
    assert grad is not None
    assert_grad_close(grad, expected_grad)
    hard = y > 0.5
    for target in (hard, hard.to(torch.int64)):
        loss, grad = _triton.sigmoid_cross_entropy(z, target, **options)
        expected_loss, expected_grad = binary_generic(z, hard.double(), **options)
        assert_close(numpy(loss), expected_loss, np.float32)
        assert grad is not None
        assert_grad_close(grad, expected_grad)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16])
def test_binary_in_place_and_mean(monkeypatch: pytest.MonkeyPatch, dtype: torch.dtype) -> None:
    monkeypatch.setattr(_triton, "ELEMENTWISE_BLOCK", 16)
    z0, y, options = binary_case(13, (6, 7), dtype, BINARY["combined"])
    buffer = torch.full((50,), float("nan"), dtype=dtype, device=DEVICE)
    z = buffer[4:46].view(6, 7)
    z.copy_(z0)
    s = torch.broadcast_to(options["sample_weight"], z.shape)
    scale = 1 / s.sum()  # "mean": Σ sℓ / Σ s, on the device
    _, grad = _triton.sigmoid_cross_entropy(z, y, grad_scale=scale, **options)
    value, expected_grad = binary_generic(z0, y, "mean", **options)
    assert grad is not None
    assert_grad_close(grad, expected_grad)
    loss, grad2 = _triton.sigmoid_cross_entropy(z, y, grad_scale=scale, in_place=True, **options)
    assert_close(float(loss.sum() * scale), value, np.float32)
    assert grad2 is z and torch.equal(z, grad)
    assert torch.isnan(buffer[:4]).all() and torch.isnan(buffer[46:]).all()
    with pytest.raises(ValueError, match="in_place=True needs a contiguous z"):
        _triton.sigmoid_cross_entropy(z.T, y.T, in_place=True)


# ---------------------------------------------------------------------------------------------
# the elementary functions written from exp and log

@triton.jit
def _elementary(x_ptr, tanh_ptr, log1p_ptr, n, BLOCK: tl.constexpr):
    i = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = i < n
    x = tl.load(x_ptr + i, mask=mask, other=0.0)
    tl.store(tanh_ptr + i, _triton._tanh(x), mask=mask)
    tl.store(log1p_ptr + i, _triton._log1p(tl.abs(x)), mask=mask)


def test_tanh_and_log1p_to_float32_precision() -> None:
    """A few ulp at every scale, including where the naive forms cancel (tanh near 0, log(1 + e)
    for tiny e); ±inf and 0 exact."""
    magnitudes = np.geomspace(1e-30, 1e2, 200)
    x = torch.tensor(np.concatenate([magnitudes, -magnitudes, [0.0, 0.125, -0.125, np.inf, -np.inf]]),
                     dtype=torch.float32, device=DEVICE)
    tanh, log1p = torch.empty_like(x), torch.empty_like(x)
    _elementary[(triton.cdiv(x.numel(), 128),)](x, tanh, log1p, x.numel(), BLOCK=128)
    x64 = numpy(x)
    np.testing.assert_allclose(numpy(tanh), np.tanh(x64), rtol=4 * 2.0**-23, atol=0)
    small = np.abs(x64) <= 1  # log1p's domain in the kernels: e = exp(-|z|) in [0, 1]
    np.testing.assert_allclose(numpy(log1p)[small], np.log1p(np.abs(x64[small])), rtol=4 * 2.0**-23, atol=0)


def test_binary_confident_logits_keep_relative_precision() -> None:
    """ℓ = log(1 + e^-|z|) ≈ e^-|z| for a confident right prediction: exact to float32's own
    precision, not rounded to 0 (so is the gradient, -e^-|z| / (1 + e^-|z|))."""
    z = torch.tensor([10.0, 20.0, 40.0, 80.0, -10.0, -20.0, -40.0, -80.0], device=DEVICE)
    y = (z > 0).to(torch.float32)
    loss, grad = _triton.sigmoid_cross_entropy(z, y)
    expected_loss, expected_grad = binary_generic(z, y)
    assert grad is not None
    np.testing.assert_allclose(numpy(loss), expected_loss, rtol=8 * 2.0**-23, atol=0)
    np.testing.assert_allclose(numpy(grad), expected_grad, rtol=8 * 2.0**-23, atol=0)


# ---------------------------------------------------------------------------------------------
# arguments

def _z() -> torch.Tensor:
    return torch.zeros((3, 4), device=DEVICE)


def _labels() -> torch.Tensor:
    return torch.zeros(3, dtype=torch.int64, device=DEVICE)


def _ids(value: Any) -> str:
    return "-".join(value) if isinstance(value, dict) else ""


BAD_SOFTMAX: list[tuple[dict[str, Any], type[Exception], str]] = [
    ({"z": np.zeros((3, 4), np.float32)}, TypeError, r"z must be a torch.Tensor, got ndarray"),
    ({"z": torch.zeros((3, 4), dtype=torch.float64)}, TypeError,
     r"z must be float32, float16 or bfloat16, got torch.float64"),
    ({"z": torch.zeros(4)}, ValueError, r"z must be \[N, C\] logits, got shape \(4,\)"),
    ({"z": torch.zeros((3, 0))}, ValueError, r"z must have at least one class, got shape \(3, 0\)"),
    ({"z": torch.zeros((3, 4), device="meta")}, ValueError, r"z is on meta"),
    ({"labels": torch.zeros(3)}, TypeError, r"labels must hold integer class labels, got torch.float32"),
    ({"labels": torch.zeros(2, dtype=torch.int64)}, ValueError, r"labels must have shape \(3,\) .* got \(2,\)"),
    ({"labels": torch.zeros(3, dtype=torch.int64, device="meta")}, ValueError, r"labels is on meta"),
    ({"sample_weight": torch.ones(4)}, ValueError, r"sample_weight must have shape \(3,\), got \(4,\)"),
    ({"class_weight": torch.ones(4, dtype=torch.int64)}, TypeError,
     r"class_weight must be a floating-point tensor, got torch.int64"),
    ({"class_weight": torch.ones(3)}, ValueError, r"class_weight must have shape \(4,\), got \(3,\)"),
    ({"ignore_index": 1.5}, TypeError, r"ignore_index must be an int \(int64\) or None, got 1.5"),
    ({"ignore_index": True}, TypeError, r"ignore_index must be an int \(int64\) or None, got True"),
    ({"smoothing": 1.5}, ValueError, r"smoothing must be in \[0, 1\], got 1.5"),
    ({"z_loss": -1.0}, ValueError, r"z_loss must be in \[0, inf\], got -1"),
    ({"z_loss": float("inf")}, ValueError, r"z_loss must be finite, got inf"),
    ({"softcap": 0.0}, ValueError, r"softcap must be in \(0, inf\], got 0"),
    ({"gamma": -1.0}, ValueError, r"gamma must be in \[0, inf\], got -1"),
    ({"gamma": torch.tensor(2.0)}, TypeError, r"gamma must be a Python number, got a tensor"),
    ({"grad_scale": torch.ones(2)}, ValueError,
     r"grad_scale must be a Python number or a one-element float tensor, got a torch.float32 tensor of shape \(2,\)"),
    ({"grad_scale": "mean"}, TypeError, r"grad_scale must be a real number, got 'mean'"),
    ({"grad_scale": torch.ones((), device="meta")}, ValueError, r"grad_scale is on meta"),
    ({"grad": "yes"}, TypeError, r"grad must be True or False, got 'yes'"),
    ({"grad": False, "in_place": True}, ValueError, r"in_place=True writes the gradient over z; it needs grad=True"),
    ({"z": torch.zeros((4, 3)).T, "in_place": True}, ValueError, r"in_place=True needs z's rows apart"),
    ({"z": torch.zeros((1, 4)).expand(3, 4), "in_place": True}, ValueError, r"got strides \(0, 1\)"),
]


@pytest.mark.parametrize(("bad", "error", "message"), BAD_SOFTMAX, ids=_ids)
def test_softmax_bad_arguments(bad: dict[str, Any], error: type[Exception], message: str) -> None:
    arguments: dict[str, Any] = {"z": _z(), "labels": _labels(), **bad}
    if DEVICE != "cpu":  # the CPU tensors above are on the wrong device there
        pytest.skip("device-specific messages")
    with pytest.raises(error, match=message):
        _triton.softmax_cross_entropy(arguments.pop("z"), arguments.pop("labels"), **arguments)


BAD_BINARY: list[tuple[dict[str, Any], type[Exception], str]] = [
    ({"y": torch.zeros(3, 5)}, ValueError, r"y must have z's shape \(3, 4\), got \(3, 5\)"),
    ({"y": torch.zeros((3, 4), dtype=torch.complex64)}, TypeError, r"y must be real, got torch.complex64"),
    ({"pos_weight": torch.ones(3)}, ValueError, r"pos_weight of shape \(3,\) does not broadcast to z's shape \(3, 4\)"),
    ({"pos_weight": torch.ones(1, 3, 4)}, ValueError, r"pos_weight of shape \(1, 3, 4\) does not broadcast"),
    ({"sample_weight": [1.0, 2.0, 3.0]}, TypeError, r"sample_weight must be a torch.Tensor, got list"),
    ({"sample_weight": torch.ones((3, 1), dtype=torch.int32)}, TypeError,
     r"sample_weight must be a floating-point tensor, got torch.int32"),
    ({"smoothing": -0.1}, ValueError, r"smoothing must be in \[0, 1\], got -0.1"),
    ({"in_place": 1}, TypeError, r"in_place must be True or False, got 1"),
]


@pytest.mark.parametrize(("bad", "error", "message"), BAD_BINARY, ids=_ids)
def test_binary_bad_arguments(bad: dict[str, Any], error: type[Exception], message: str) -> None:
    if DEVICE != "cpu":
        pytest.skip("device-specific messages")
    arguments: dict[str, Any] = {"z": _z(), "y": torch.zeros((3, 4)), **bad}
    with pytest.raises(error, match=message):
        _triton.sigmoid_cross_entropy(arguments.pop("z"), arguments.pop("y"), **arguments)


class _NoLaunch:
    """Stands for a jit kernel: records the launch instead of running it."""

    def __init__(self) -> None:
        self.launches: list[tuple[Any, tuple[Any, ...], dict[str, Any]]] = []

    def __getitem__(self, grid: Any) -> Any:
        return lambda *args, **kwargs: self.launches.append((grid, args, kwargs))


def test_launchers_read_no_tensor_values(monkeypatch: pytest.MonkeyPatch) -> None:
    """No host sync: the launchers never turn a tensor into a Python value (on a GPU each would
    wait for the device)."""
    softmax, binary = _NoLaunch(), _NoLaunch()
    monkeypatch.setattr(_triton, "_softmax_rows", softmax)
    monkeypatch.setattr(_triton, "_sigmoid_elements", binary)
    monkeypatch.setattr(_triton, "_interpreted", lambda: True)

    def sync(self: Any, *args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a tensor value was read on the host")

    for name in ("item", "tolist", "numpy", "__bool__", "__float__", "__int__", "__index__"):
        monkeypatch.setattr(torch.Tensor, name, sync)
    z, labels, options = softmax_case(1, 4, 6, torch.float32, SOFTMAX["combined"])
    _triton.softmax_cross_entropy(z, labels, grad_scale=torch.tensor(0.5, device=DEVICE), **options)
    zb, y, binary_options = binary_case(1, (4, 6), torch.float32, BINARY["combined"])
    _triton.sigmoid_cross_entropy(zb, y, grad_scale=torch.tensor(0.5, device=DEVICE), **binary_options)
    assert len(softmax.launches) == len(binary.launches) == 1
