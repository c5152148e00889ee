"""Conformance with PyTorch: F.cross_entropy, F.binary_cross_entropy(_with_logits), and
torchvision.ops.sigmoid_focal_loss.

The same random float64 inputs go through crossent (as NumPy arrays) and through the peer (as
torch tensors); the results must agree to ``rtol(dtype)``. Where crossent deliberately differs
from PyTorch (DESIGN.md, "one-hot vs labels" and "reduction"), a test pins the difference:

- class weights with dense one-hot targets: PyTorch's "mean" divides by N, crossent's by Σ w_{y_i}
  (pytorch/pytorch#107680), so that one-hot and integer labels agree;
- BCE ``weight`` / crossent ``sample_weight`` with "mean": PyTorch divides by the number of
  elements, crossent by Σ sample_weight;
- every sample ignored with "mean": PyTorch returns NaN (0 / 0), crossent 0.
"""

from __future__ import annotations

import importlib.util
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import crossent
from conftest import assert_close

torch = pytest.importorskip("torch")
F = torch.nn.functional

SHAPES = [(n, c) for n in (1, 7, 64) for c in (2, 3, 10)]
REDUCTIONS = ["none", "sum", "mean"]
IGNORE = -100  # PyTorch's default ignore_index; crossent's default is None, so it is passed explicitly


def _rng(*key: Any) -> np.random.Generator:
    return np.random.default_rng([zlib.crc32(repr(key).encode()), 20240607])


def _t(a: np.ndarray) -> Any:
    return torch.from_numpy(np.array(a))  # a writable, contiguous copy


def _np(t: Any) -> np.ndarray:
    return t.detach().cpu().numpy()


def _softmax(z: np.ndarray, axis: int = -1) -> np.ndarray:
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _labels(rng: np.random.Generator, shape: tuple[int, ...], c: int, ignore: bool) -> np.ndarray:
    y = rng.integers(0, c, size=shape)
    if ignore:
        drop = rng.random(shape) < 0.3
        drop.flat[0] = False  # keep one sample so that "mean" has a positive denominator
        y = np.where(drop, IGNORE, y)
    return y


# --------------------------------------------------------------------------------------------
# F.cross_entropy with integer labels

CE_OPTIONS = {
    "plain": {},
    "weight": {"weight": True},
    "ignore": {"ignore_index": True},
    "smoothing": {"label_smoothing": 0.1},
    "weight+ignore+smoothing": {"weight": True, "ignore_index": True, "label_smoothing": 0.2},
}


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("option", list(CE_OPTIONS))
def test_cross_entropy_labels(option: str, shape: tuple[int, int], reduction: str) -> None:
    n, c = shape
    opts = CE_OPTIONS[option]
    rng = _rng("ce-labels", option, shape, reduction)
    z = rng.normal(scale=2.0, size=(n, c))
    y = _labels(rng, (n,), c, ignore=bool(opts.get("ignore_index")))
    w = rng.uniform(0.2, 3.0, size=c) if opts.get("weight") else None
    smoothing = opts.get("label_smoothing", 0.0)

    expected = F.cross_entropy(_t(z), _t(y), weight=None if w is None else _t(w), ignore_index=IGNORE,
                               label_smoothing=smoothing, reduction=reduction)
    actual = crossent.cross_entropy(z, y, weight=w, ignore_index=IGNORE if opts.get("ignore_index") else None,
                                    label_smoothing=smoothing, reduction=reduction)
    assert np.shape(actual) == tuple(expected.shape)
    assert_close(actual, _np(expected), np.float64)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", [(1, 3), (7, 10), (64, 2)], ids=str)
def test_cross_entropy_labels_float32(shape: tuple[int, int], reduction: str) -> None:
    n, c = shape
    rng = _rng("ce-f32", shape, reduction)
    z = rng.normal(scale=3.0, size=(n, c)).astype(np.float32)
    y = _labels(rng, (n,), c, ignore=True)
    w = rng.uniform(0.2, 3.0, size=c).astype(np.float32)
    expected = F.cross_entropy(_t(z), _t(y), weight=_t(w), label_smoothing=0.05, reduction=reduction)
    actual = crossent.cross_entropy(z, y, weight=w, ignore_index=IGNORE, label_smoothing=0.05,
                                    reduction=reduction)
    assert np.asarray(actual).dtype == np.float32
    assert_close(actual, _np(expected), np.float32)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("layout", [(2, 3, 4, 5), (1, 10, 3, 1), (5, 2, 1, 7)], ids=str)
@pytest.mark.parametrize("option", ["plain", "weight+ignore+smoothing"])
def test_cross_entropy_spatial_layout(option: str, layout: tuple[int, ...], reduction: str) -> None:
    """PyTorch's (N, C, d1, d2) layout is crossent's ``axis=1``."""
    n, c, d1, d2 = layout
    opts = CE_OPTIONS[option]
    rng = _rng("ce-spatial", option, layout, reduction)
    z = rng.normal(scale=2.0, size=layout)
    y = _labels(rng, (n, d1, d2), c, ignore=bool(opts.get("ignore_index")))
    w = rng.uniform(0.2, 3.0, size=c) if opts.get("weight") else None
    smoothing = opts.get("label_smoothing", 0.0)
    expected = F.cross_entropy(_t(z), _t(y), weight=None if w is None else _t(w), label_smoothing=smoothing,
                               reduction=reduction)
    actual = crossent.cross_entropy(z, y, axis=1, weight=w, label_smoothing=smoothing, reduction=reduction,
                                    ignore_index=IGNORE if opts.get("ignore_index") else None)
    assert np.shape(actual) == tuple(expected.shape)
    assert_close(actual, _np(expected), np.float64)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("layout", [(2, 3, 4, 5), (1, 10, 3, 1)], ids=str)
def test_cross_entropy_spatial_soft_targets(layout: tuple[int, ...], reduction: str) -> None:
    """Probability targets in the (N, C, d1, d2) layout: the class axis is 1 for the target too."""
    rng = _rng("ce-spatial-soft", layout, reduction)
    z = rng.normal(scale=2.0, size=layout)
    y = _softmax(rng.normal(scale=1.5, size=layout), axis=1)
    expected = F.cross_entropy(_t(z), _t(y), label_smoothing=0.1, reduction=reduction)
    actual = crossent.cross_entropy(z, y, axis=1, label_smoothing=0.1, reduction=reduction)
    assert np.shape(actual) == tuple(expected.shape)
    assert_close(actual, _np(expected), np.float64)


# --------------------------------------------------------------------------------------------
# F.cross_entropy with probability (soft) targets


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("smoothing", [0.0, 0.15])
def test_cross_entropy_soft_targets(smoothing: float, shape: tuple[int, int], reduction: str) -> None:
    n, c = shape
    rng = _rng("ce-soft", smoothing, shape, reduction)
    z = rng.normal(scale=2.0, size=(n, c))
    y = _softmax(rng.normal(scale=1.5, size=(n, c)))
    expected = F.cross_entropy(_t(z), _t(y), label_smoothing=smoothing, reduction=reduction)
    actual = crossent.cross_entropy(z, y, label_smoothing=smoothing, reduction=reduction)
    assert_close(actual, _np(expected), np.float64)


@pytest.mark.parametrize("reduction", ["none", "sum"])
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_cross_entropy_soft_targets_weighted_numerator(shape: tuple[int, int], reduction: str) -> None:
    """With class weights and soft targets the per-sample losses (PyTorch's numerator) agree."""
    n, c = shape
    rng = _rng("ce-soft-w", shape, reduction)
    z = rng.normal(scale=2.0, size=(n, c))
    y = _softmax(rng.normal(scale=1.5, size=(n, c)))
    w = rng.uniform(0.2, 3.0, size=c)
    expected = F.cross_entropy(_t(z), _t(y), weight=_t(w), label_smoothing=0.1, reduction=reduction)
    actual = crossent.cross_entropy(z, y, weight=w, label_smoothing=0.1, reduction=reduction)
    assert_close(actual, _np(expected), np.float64)


@pytest.mark.parametrize("shape", [(7, 3), (64, 10), (5, 2)], ids=str)
@pytest.mark.parametrize("smoothing", [0.0, 0.1])
def test_weighted_one_hot_mean_differs_from_torch(shape: tuple[int, int], smoothing: float) -> None:
    """DELIBERATE DIFFERENCE (pytorch/pytorch#107680).

    With class weights, PyTorch's "mean" for dense (one-hot) targets divides by N, while for
    integer labels it divides by Σ w_{y_i}. crossent divides by Σ w_{y_i} for both, so one-hot
    and labels give the same result, and that result is PyTorch's label result.
    """
    n, c = shape
    rng = _rng("ce-onehot-diff", shape, smoothing)
    z = rng.normal(scale=2.0, size=(n, c))
    y = rng.integers(0, c, size=n)
    y[0], y[1] = 0, 1  # two different classes, so that Σ w_{y_i} ≠ N for these weights
    w = np.linspace(0.3, 2.9, c)
    one_hot = np.eye(c)[y]

    ours_onehot = crossent.cross_entropy(z, one_hot, weight=w, label_smoothing=smoothing)
    ours_labels = crossent.cross_entropy(z, y, weight=w, label_smoothing=smoothing)
    torch_labels = _np(F.cross_entropy(_t(z), _t(y), weight=_t(w), label_smoothing=smoothing))
    torch_onehot = _np(F.cross_entropy(_t(z), _t(one_hot), weight=_t(w), label_smoothing=smoothing))

    assert_close(ours_onehot, ours_labels, np.float64)
    assert_close(ours_onehot, torch_labels, np.float64)
    # PyTorch's one-hot mean is its sum / N, not / Σ w_{y_i}: a real, checked difference.
    assert_close(torch_onehot, float(np.sum(crossent.cross_entropy(z, y, weight=w, label_smoothing=smoothing,
                                                                   reduction="sum"))) / n, np.float64)
    assert not np.isclose(float(torch_onehot), float(ours_onehot), rtol=1e-3)
    assert_close(float(torch_onehot) * n / w[y].sum(), ours_onehot, np.float64)


def test_all_ignored_mean_is_zero_not_nan() -> None:
    """DELIBERATE DIFFERENCE: every sample ignored, "mean" is 0 in crossent (Σ wᵢ = 0), NaN in PyTorch."""
    z = _rng("all-ignored").normal(size=(4, 3))
    y = np.full(4, IGNORE)
    assert np.isnan(_np(F.cross_entropy(_t(z), _t(y))))
    assert float(crossent.cross_entropy(z, y, ignore_index=IGNORE)) == 0.0
    assert float(crossent.cross_entropy(z, y, ignore_index=IGNORE, reduction="sum")) == 0.0
    assert_close(_np(F.cross_entropy(_t(z), _t(y), reduction="sum")), 0.0)


def test_ignore_index_default_differs() -> None:
    """DIFFERENCE in defaults: PyTorch ignores -100 unless told otherwise; crossent's
    ignore_index is None, so a -100 label is an error naming it, and ignore_index=-100 agrees."""
    rng = _rng("ignore-default")
    z = rng.normal(size=(5, 3))
    y = np.array([0, IGNORE, 2, 1, IGNORE])
    with pytest.raises(ValueError, match="-100"):
        crossent.cross_entropy(z, y)
    assert_close(crossent.cross_entropy(z, y, ignore_index=IGNORE), _np(F.cross_entropy(_t(z), _t(y))), np.float64)


def test_binary_cross_entropy_log_clamp_differs() -> None:
    """DIFFERENCE: F.binary_cross_entropy clamps log at -100 (a certain wrong probability costs
    100); crossent gives inf unless ``eps=`` asks for clipping."""
    p, y = np.array([0.0, 1.0, 0.5]), np.array([1.0, 0.0, 1.0])
    expected = _np(F.binary_cross_entropy(_t(p), _t(y), reduction="none"))
    assert_close(expected, [100.0, 100.0, np.log(2)], np.float64)
    ours = np.asarray(crossent.binary_cross_entropy(p, y, from_logits=False, reduction="none"))
    assert np.all(np.isinf(ours[:2])) and np.all(ours[:2] > 0)
    assert_close(ours[2], np.log(2), np.float64)


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_half_precision_computed_in_float32(dtype: str) -> None:
    """DIFFERENCE: PyTorch returns a half-precision loss for half inputs; crossent computes and
    returns float32, equal to PyTorch's loss of the same (half) values upcast to float32."""
    rng = _rng("half", dtype)
    z = torch.from_numpy(rng.normal(scale=3.0, size=(16, 5)).astype(np.float32)).to(getattr(torch, dtype))
    y = torch.from_numpy(rng.integers(0, 5, size=16))
    ours = crossent.cross_entropy(z, y, label_smoothing=0.1)
    assert ours.dtype == torch.float32
    assert F.cross_entropy(z, y, label_smoothing=0.1).dtype == getattr(torch, dtype)
    assert_close(_np(ours), _np(F.cross_entropy(z.float(), y, label_smoothing=0.1)), np.float32)


@pytest.mark.parametrize("shape", [(1, 2), (7, 3), (64, 10)], ids=str)
@pytest.mark.parametrize("reduction", ["sum", "mean"])
def test_cross_entropy_gradient_matches_autograd(shape: tuple[int, int], reduction: str) -> None:
    n, c = shape
    rng = _rng("ce-grad", shape, reduction)
    z = rng.normal(scale=2.0, size=(n, c))
    y = _labels(rng, (n,), c, ignore=True)
    w = rng.uniform(0.2, 3.0, size=c)
    zt = _t(z).requires_grad_(True)
    expected = F.cross_entropy(zt, _t(y), weight=_t(w), label_smoothing=0.1, reduction=reduction)
    expected.backward()
    value, grad = crossent.value_and_grad(crossent.cross_entropy, z, y, weight=w, ignore_index=IGNORE,
                                          label_smoothing=0.1, reduction=reduction)
    assert_close(value, _np(expected), np.float64)
    assert_close(grad, _np(zt.grad), np.float64)


# --------------------------------------------------------------------------------------------
# F.binary_cross_entropy (probabilities) and F.binary_cross_entropy_with_logits

BCE_SHAPES = [(n, k) for n in (1, 7, 64) for k in (1, 3)] + [(2, 3, 4)]


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", BCE_SHAPES, ids=str)
@pytest.mark.parametrize("soft", [False, True], ids=["hard", "soft"])
def test_binary_cross_entropy_probabilities(soft: bool, shape: tuple[int, ...], reduction: str) -> None:
    # Probabilities in [0.01, 0.99]: PyTorch clamps log at -100, which is then never reached.
    rng = _rng("bce-p", soft, shape, reduction)
    p = rng.uniform(0.01, 0.99, size=shape)
    y = rng.random(shape) if soft else rng.integers(0, 2, size=shape).astype(np.float64)
    expected = F.binary_cross_entropy(_t(p), _t(y), reduction=reduction)
    actual = crossent.binary_cross_entropy(p, y, from_logits=False, reduction=reduction)
    assert_close(actual, _np(expected), np.float64)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", BCE_SHAPES, ids=str)
@pytest.mark.parametrize("pos_weight", [False, True], ids=["no_pos_weight", "pos_weight"])
@pytest.mark.parametrize("soft", [False, True], ids=["hard", "soft"])
def test_binary_cross_entropy_with_logits(soft: bool, pos_weight: bool, shape: tuple[int, ...],
                                          reduction: str) -> None:
    rng = _rng("bce-z", soft, pos_weight, shape, reduction)
    z = rng.normal(scale=3.0, size=shape)
    y = rng.random(shape) if soft else rng.integers(0, 2, size=shape).astype(np.float64)
    pw = rng.uniform(0.5, 4.0, size=shape[-1]) if pos_weight else None
    expected = F.binary_cross_entropy_with_logits(_t(z), _t(y), pos_weight=None if pw is None else _t(pw),
                                                  reduction=reduction)
    actual = crossent.binary_cross_entropy(z, y, pos_weight=pw, reduction=reduction)
    assert_close(actual, _np(expected), np.float64)


@pytest.mark.parametrize("reduction", ["none", "sum"])
@pytest.mark.parametrize("shape", [(1, 1), (7, 3), (64, 1), (64, 3)], ids=str)
@pytest.mark.parametrize("from_logits", [False, True], ids=["probs", "logits"])
def test_binary_cross_entropy_weight_is_sample_weight(from_logits: bool, shape: tuple[int, int],
                                                      reduction: str) -> None:
    """PyTorch's BCE ``weight`` multiplies each element's loss, like crossent's ``sample_weight``."""
    rng = _rng("bce-w", from_logits, shape, reduction)
    x = rng.normal(scale=3.0, size=shape) if from_logits else rng.uniform(0.01, 0.99, size=shape)
    y = rng.integers(0, 2, size=shape).astype(np.float64)
    sw = rng.uniform(0.0, 3.0, size=(shape[0], 1))  # per sample, broadcast over labels
    pw = rng.uniform(0.5, 4.0, size=shape[-1])
    if from_logits:
        expected = F.binary_cross_entropy_with_logits(_t(x), _t(y), weight=_t(sw), pos_weight=_t(pw),
                                                      reduction=reduction)
        actual = crossent.binary_cross_entropy(x, y, pos_weight=pw, sample_weight=sw, reduction=reduction)
    else:
        expected = F.binary_cross_entropy(_t(x), _t(y), weight=_t(np.broadcast_to(sw, shape)), reduction=reduction)
        actual = crossent.binary_cross_entropy(x, y, from_logits=False, sample_weight=sw, reduction=reduction)
    assert_close(actual, _np(expected), np.float64)


@pytest.mark.parametrize("from_logits", [False, True], ids=["probs", "logits"])
def test_binary_cross_entropy_weighted_mean_differs_from_torch(from_logits: bool) -> None:
    """DELIBERATE DIFFERENCE: with per-element weights, PyTorch's "mean" is Σ wℓ / numel,
    crossent's is Σ wℓ / Σ w (a weighted mean)."""
    rng = _rng("bce-mean-diff", from_logits)
    shape = (16, 3)
    x = rng.normal(scale=2.0, size=shape) if from_logits else rng.uniform(0.05, 0.95, size=shape)
    y = rng.integers(0, 2, size=shape).astype(np.float64)
    w = rng.uniform(0.1, 0.9, size=shape)  # Σ w clearly ≠ numel
    fn = F.binary_cross_entropy_with_logits if from_logits else F.binary_cross_entropy
    torch_mean = float(_np(fn(_t(x), _t(y), weight=_t(w), reduction="mean")))
    torch_sum = float(_np(fn(_t(x), _t(y), weight=_t(w), reduction="sum")))
    ours = float(crossent.binary_cross_entropy(x, y, from_logits=from_logits, sample_weight=w))
    assert_close(torch_mean, torch_sum / w.size, np.float64)
    assert_close(ours, torch_sum / w.sum(), np.float64)
    assert not np.isclose(ours, torch_mean, rtol=1e-2)


@pytest.mark.parametrize("shape", [(1, 1), (7, 3), (64, 10)], ids=str)
@pytest.mark.parametrize("reduction", ["sum", "mean"])
def test_binary_cross_entropy_gradient_matches_autograd(shape: tuple[int, int], reduction: str) -> None:
    rng = _rng("bce-grad", shape, reduction)
    z = rng.normal(scale=3.0, size=shape)
    y = rng.random(shape)
    pw = rng.uniform(0.5, 4.0, size=shape[-1])
    zt = _t(z).requires_grad_(True)
    expected = F.binary_cross_entropy_with_logits(zt, _t(y), pos_weight=_t(pw), reduction=reduction)
    expected.backward()
    value, grad = crossent.value_and_grad(crossent.binary_cross_entropy, z, y, pos_weight=pw, reduction=reduction)
    assert_close(value, _np(expected), np.float64)
    assert_close(grad, _np(zt.grad), np.float64)


def test_cross_entropy_float32_confident_sample_precision() -> None:
    """Logits [100, 87.5] in float32, label 0: PyTorch gives 3.6955e-06 (true value 3.7266e-06).
    Computing log softmax as x - (m + log Σ exp(x - m)) would give 0.0 (100 + 3.7e-06 rounds to
    100 in float32); crossent computes (x - m) - log Σ exp(x - m), as PyTorch does."""
    z = np.array([[100.0, 87.5]], dtype=np.float32)
    y = np.array([0])
    assert_close(crossent.cross_entropy(z, y), _np(F.cross_entropy(_t(z), _t(y))), np.float32)


def test_crossent_takes_torch_tensors() -> None:
    """The same call on torch tensors returns a torch tensor equal to PyTorch's."""
    rng = _rng("torch-in")
    z = _t(rng.normal(size=(7, 5)))
    y = _t(rng.integers(0, 5, size=7))
    out = crossent.cross_entropy(z, y, label_smoothing=0.1)
    assert isinstance(out, torch.Tensor)
    assert_close(_np(out), _np(F.cross_entropy(z, y, label_smoothing=0.1)), np.float64)


# --------------------------------------------------------------------------------------------
# torchvision.ops.sigmoid_focal_loss


def _load_sigmoid_focal_loss() -> Callable[..., Any]:
    """torchvision's sigmoid_focal_loss, even where ``import torchvision`` fails.

    A CPU torch with a torchvision built against CUDA torch fails at import ("operator
    torchvision::nms does not exist"). sigmoid_focal_loss is pure Python, so its source file is
    read from the installed package (found without importing it) and executed with the one
    relative import, a usage-logging hook, replaced by a no-op.
    """
    try:
        from torchvision.ops import sigmoid_focal_loss

        return sigmoid_focal_loss
    except Exception:  # ImportError, or the RuntimeError of a torch/torchvision build mismatch
        pass
    spec = importlib.util.find_spec("torchvision")
    if spec is None or not spec.submodule_search_locations:
        pytest.importorskip("torchvision")  # not installed at all: skip
    source_path = Path(next(iter(spec.submodule_search_locations))) / "ops" / "focal_loss.py"
    source = source_path.read_text()
    hook = "from ..utils import _log_api_usage_once"
    assert source.count(hook) == 1, f"unexpected {source_path}: cannot find {hook!r}"
    source = source.replace(hook, "def _log_api_usage_once(obj):\n    return None")
    namespace: dict[str, Any] = {"__name__": "torchvision_ops_focal_loss", "__file__": str(source_path)}
    exec(compile(source, str(source_path), "exec"), namespace)
    return namespace["sigmoid_focal_loss"]


@pytest.fixture(scope="module")
def sigmoid_focal_loss() -> Callable[..., Any]:
    return _load_sigmoid_focal_loss()


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", [(1, 1), (7, 3), (64, 10)], ids=str)
@pytest.mark.parametrize("gamma", [0.0, 1.0, 2.0, 2.5])
@pytest.mark.parametrize("alpha", [0.25, 0.5, 0.9, -1.0], ids=lambda a: "no_alpha" if a < 0 else f"alpha={a}")
def test_sigmoid_focal_loss(sigmoid_focal_loss: Callable[..., Any], alpha: float, gamma: float,
                            shape: tuple[int, int], reduction: str) -> None:
    # torchvision's alpha=-1 means no α, crossent's alpha=None; its "mean" is over elements.
    rng = _rng("focal", alpha, gamma, shape, reduction)
    z = rng.normal(scale=3.0, size=shape)
    y = rng.integers(0, 2, size=shape).astype(np.float64)
    expected = sigmoid_focal_loss(_t(z), _t(y), alpha=alpha, gamma=gamma, reduction=reduction)
    actual = crossent.binary_focal_loss(z, y, alpha=None if alpha < 0 else alpha, gamma=gamma,
                                        reduction=reduction)
    assert_close(actual, _np(expected), np.float64)


@pytest.mark.parametrize("shape", [(7, 3), (64, 10)], ids=str)
def test_sigmoid_focal_loss_soft_targets(sigmoid_focal_loss: Callable[..., Any], shape: tuple[int, int]) -> None:
    rng = _rng("focal-soft", shape)
    z = rng.normal(scale=3.0, size=shape)
    y = rng.random(shape)
    expected = sigmoid_focal_loss(_t(z), _t(y), alpha=0.25, gamma=2.0, reduction="none")
    actual = crossent.binary_focal_loss(z, y, alpha=0.25, gamma=2.0, reduction="none")
    assert_close(actual, _np(expected), np.float64)


def test_sigmoid_focal_loss_is_torchvisions(sigmoid_focal_loss: Callable[..., Any]) -> None:
    """The loader returns torchvision's own function (its docstring and default α = 0.25)."""
    import inspect

    assert "RetinaNet" in (sigmoid_focal_loss.__doc__ or "")
    assert inspect.signature(sigmoid_focal_loss).parameters["alpha"].default == 0.25


def test_sigmoid_focal_loss_default_alpha_differs(sigmoid_focal_loss: Callable[..., Any]) -> None:
    """DIFFERENCE in defaults: torchvision's α defaults to 0.25, crossent's to None (no α), which
    is torchvision's alpha=-1; torchvision's reduction defaults to "none", crossent's to "mean".
    Both default to γ = 2."""
    rng = _rng("focal-defaults")
    z = rng.normal(scale=3.0, size=(9, 4))
    y = rng.integers(0, 2, size=(9, 4)).astype(np.float64)
    ours = crossent.binary_focal_loss(z, y, reduction="none")
    assert_close(ours, _np(sigmoid_focal_loss(_t(z), _t(y), alpha=-1)), np.float64)
    assert not np.allclose(ours, _np(sigmoid_focal_loss(_t(z), _t(y))), rtol=0.1)
    assert_close(crossent.binary_focal_loss(z, y, alpha=0.25, reduction="none"),
                 _np(sigmoid_focal_loss(_t(z), _t(y))), np.float64)
    assert_close(crossent.binary_focal_loss(z, y), _np(sigmoid_focal_loss(_t(z), _t(y), alpha=-1)).mean(), np.float64)
