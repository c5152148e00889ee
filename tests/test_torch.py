"""crossent.torch: the generated nn.Module losses, and the chunked linear_cross_entropy.

Each Module is held to its function (same numbers, same autograd gradients). linear_cross_entropy
is held to the naive ``crossent.cross_entropy(hidden @ W.T + b, y, ...)`` in value and in the
gradients of hidden, weight and bias, and a dispatch-mode probe checks that no tensor as large
as the N × V logits is created.
"""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from torch.utils._python_dispatch import TorchDispatchMode  # noqa: E402

import crossent  # noqa: E402
import crossent.torch as ct  # noqa: E402
from conftest import assert_close, rtol  # noqa: E402
from crossent.losses._define import names  # noqa: E402
from crossent.torch._modules import class_name  # noqa: E402

MODULES = {name: getattr(ct, class_name(name)) for name in names()}
BINARY = {"binary_cross_entropy", "binary_focal_loss", "asymmetric_loss"}

W4 = [0.5, 1.0, 2.0, 1.5]
PRIORS4 = [0.6, 0.25, 0.1, 0.05]

# Options for each loss: the defaults, and a set with an array option (a buffer) where it has one.
OPTIONS: dict[str, list[dict[str, Any]]] = {
    "cross_entropy": [{}, {"weight": W4, "ignore_index": 3, "label_smoothing": 0.1, "z_loss": 1e-2}],
    "sparse_categorical_cross_entropy": [{}, {"weight": W4, "logit_softcap": 3.0, "reduction": "sum"}],
    "categorical_cross_entropy": [{}, {"weight": W4, "label_smoothing": 0.2, "reduction": "none"}],
    "focal_loss": [{}, {"gamma": 1.5, "alpha": [0.25, 1.0, 0.5, 2.0], "weight": W4}],
    "poly1_cross_entropy": [{}, {"epsilon": -0.5, "label_smoothing": 0.1, "base": 2}],
    "logit_adjusted_cross_entropy": [{"priors": PRIORS4}, {"priors": PRIORS4, "tau": 0.5, "weight": W4}],
    "binary_cross_entropy": [{}, {"pos_weight": [0.5, 2.0, 3.0], "label_smoothing": 0.1}],
    "binary_focal_loss": [{}, {"alpha": 0.25, "gamma": 1.0}, {"alpha": [0.25, 0.75, 0.5], "reduction": "none"}],
    "asymmetric_loss": [{}, {"gamma_pos": 1.0, "clip": 0.0, "reduction": "sum"}],
}
CASES = [(name, i) for name in sorted(OPTIONS) for i in range(len(OPTIONS[name]))]


def _inputs(name: str, dtype: Any = torch.float64) -> tuple[Any, Any, Any]:
    """prediction (requires grad), target and a sample weight for the loss ``name``."""
    g = torch.Generator().manual_seed(0)
    if name in BINARY:
        x = torch.randn(5, 3, generator=g, dtype=dtype)
        y = torch.randint(0, 2, (5, 3), generator=g).to(dtype)
        sw = torch.rand(5, 3, generator=g, dtype=dtype)
    else:
        x = torch.randn(6, 4, generator=g, dtype=dtype) * 2
        y = torch.randint(0, 4, (6,), generator=g)
        if name == "categorical_cross_entropy":
            y = torch.softmax(torch.randn(6, 4, generator=g, dtype=dtype), -1)
        sw = torch.rand(6, generator=g, dtype=dtype)
    return x.requires_grad_(), y, sw


def _function_options(options: dict[str, Any], dtype: Any) -> dict[str, Any]:
    """The Module's list options as the function gets them: a tensor of the default dtype, moved."""
    return {k: torch.tensor(v).to(dtype) if isinstance(v, list) else v for k, v in options.items()}


# --- the generated Modules ------------------------------------------------------------------------


def test_one_module_per_loss() -> None:
    losses = [name for name in crossent.losses.__all__
              if name not in ("class_weights", "value_and_grad", "value_grad_hess")]
    assert sorted(MODULES) == sorted(losses)
    assert set(OPTIONS) == set(MODULES)  # every Module is tested below
    for name, module in MODULES.items():
        assert module.loss is getattr(crossent, name)
        assert issubclass(module, torch.nn.Module)
        assert module.__name__ in ct.__all__ and module.__module__ == "crossent.torch"


@pytest.mark.parametrize("name", sorted(MODULES))
def test_module_signature_is_the_functions_and_docstring_refers_to_it(name: str) -> None:
    function = getattr(crossent, name)
    # the function's options, but for the class axis: the module's default is PyTorch's layout
    expected = [p.replace(default=None, annotation="int | None") if p.name == "axis" else p
                for p in list(inspect.signature(function).parameters.values())[2:]
                if p.name not in ("sample_weight", "denominator", "xp")]
    expected.append(inspect.Parameter("inplace_backward", inspect.Parameter.KEYWORD_ONLY, default=False,
                                      annotation="bool"))  # the modules' own option (tests/test_inplace.py)
    assert list(inspect.signature(MODULES[name]).parameters.values()) == expected
    doc = MODULES[name].__doc__
    assert f":func:`crossent.{name}`" in doc
    assert function.__doc__.splitlines()[0] not in doc  # referred to, not copied
    assert list(inspect.signature(MODULES[name].forward).parameters) == [
        "self", "prediction", "target", "sample_weight", "denominator"]


def test_unknown_or_missing_option_is_a_type_error_naming_it() -> None:
    with pytest.raises(TypeError, match=r"FocalLoss.*'gama'"):
        ct.FocalLoss(gama=2.0)
    with pytest.raises(TypeError, match="'priors'"):
        ct.LogitAdjustedCrossEntropyLoss()
    with pytest.raises(TypeError, match="sample_weight"):  # per batch: an argument of forward
        ct.CrossEntropyLoss(sample_weight=torch.ones(3))


@pytest.mark.parametrize(("name", "case"), CASES)
def test_module_equals_its_function(name: str, case: int) -> None:
    options = OPTIONS[name][case]
    x, y, sw = _inputs(name)
    module = MODULES[name](**options).to(torch.float64)
    function = getattr(crossent, name)
    for sample_weight in (None, sw):
        got = module(x, y, sample_weight)
        want = function(x, y, **_function_options(options, torch.float64), sample_weight=sample_weight)
        assert torch.equal(got, want)
        (g_got,) = torch.autograd.grad(got.sum(), x)
        (g_want,) = torch.autograd.grad(want.sum(), x)
        assert torch.equal(g_got, g_want)


def test_array_options_are_buffers_that_follow_to() -> None:
    module = ct.BinaryFocalLoss(alpha=[0.25, 0.75, 0.5], pos_weight=np.array([0.5, 2.0, 3.0], np.float32))
    assert {n for n, _ in module.named_buffers()} == {"alpha", "pos_weight"}
    assert module.alpha.dtype == torch.get_default_dtype()
    assert ct.BinaryFocalLoss(alpha=0.25).alpha == 0.25  # a scalar alpha stays a number
    double = module.to(torch.float64)
    assert double.alpha.dtype == double.pos_weight.dtype == torch.float64
    meta = ct.CrossEntropyLoss(weight=torch.ones(4)).to("meta")  # a device move moves the buffer
    assert meta.weight.device.type == "meta"
    x, y, _ = _inputs("binary_focal_loss")
    assert torch.equal(double(x, y), crossent.binary_focal_loss(
        x, y, alpha=torch.tensor([0.25, 0.75, 0.5], dtype=torch.float64),
        pos_weight=torch.tensor([0.5, 2.0, 3.0], dtype=torch.float64)))


def test_state_dict_round_trip() -> None:
    trained = ct.LogitAdjustedCrossEntropyLoss(torch.tensor(PRIORS4), weight=torch.tensor(W4), tau=0.5)
    fresh = ct.LogitAdjustedCrossEntropyLoss(torch.ones(4), weight=torch.ones(4), tau=0.5)
    state = trained.state_dict()
    assert set(state) == {"priors", "weight"}
    fresh.load_state_dict(state)
    x, y, _ = _inputs("logit_adjusted_cross_entropy", torch.float32)
    assert torch.equal(fresh(x, y), trained(x, y))
    assert not torch.equal(ct.LogitAdjustedCrossEntropyLoss(torch.ones(4), weight=torch.ones(4), tau=0.5)(x, y),
                           trained(x, y))
    assert "tau=0.5" in repr(trained) and "weight=tensor(shape=(4,))" in repr(trained)


# the Triton interpreter evaluates both branches of tl.where in NumPy (0·inf there is harmless)
pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning:triton.*")


# --- linear_cross_entropy -------------------------------------------------------------------------


@pytest.fixture(params=["generic", "numba", "triton"])
def path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Which per-chunk loss linear_cross_entropy runs: the generic one (value_and_grad), the
    Numba kernel or the Triton kernel (under its interpreter, on CPU tensors), each kernel
    writing the gradient over the chunk's logits (float32 chunks; float64 ones stay generic
    with Triton)."""
    import crossent.kernels

    if request.param == "triton":
        _triton = pytest.importorskip("crossent.kernels._triton")
        assert _triton._interpreted(), "tests/conftest.py sets TRITON_INTERPRET=1 before triton is imported"
        monkeypatch.setattr(crossent.kernels, "TRITON_ON_CPU", True)
    try:
        from crossent.kernels import _cpu
    except ImportError:
        if request.param == "numba":
            pytest.skip("numba is not installed")
        return request.param
    monkeypatch.setattr(_cpu, "ENABLED", request.param == "numba")
    monkeypatch.setattr(_cpu, "MIN_ELEMENTS", 0)
    return request.param


def _generic(call: Any) -> Any:
    """call() with every kernel off: the naive reference stays the generic path."""
    import crossent.kernels

    on_cpu, crossent.kernels.TRITON_ON_CPU = crossent.kernels.TRITON_ON_CPU, False
    try:
        from crossent.kernels import _cpu
    except ImportError:
        try:
            return call()
        finally:
            crossent.kernels.TRITON_ON_CPU = on_cpu
    enabled, _cpu.ENABLED = _cpu.ENABLED, False
    try:
        return call()
    finally:
        _cpu.ENABLED = enabled
        crossent.kernels.TRITON_ON_CPU = on_cpu


def _problem(n: int | tuple[int, ...], h: int, v: int, dtype: Any = torch.float64, *, ignore: int | None = None,
             seed: int = 0) -> tuple[Any, Any, Any, Any]:
    g = torch.Generator().manual_seed(seed)
    shape = (n,) if isinstance(n, int) else n
    hidden = torch.randn(*shape, h, generator=g, dtype=torch.float64)
    weight = torch.randn(v, h, generator=g, dtype=torch.float64) / h**0.5 * 3
    bias = torch.randn(v, generator=g, dtype=torch.float64)
    target = torch.randint(0, v, shape, generator=g)
    if ignore is not None:
        target = torch.where(torch.rand(shape, generator=g) < 0.3, torch.full_like(target, ignore), target)
    return (*(t.to(dtype).requires_grad_() for t in (hidden, weight, bias)), target)


def _both(hidden: Any, weight: Any, bias: Any, target: Any, *, upcast: bool = False,
          **options: Any) -> tuple[list[Any], list[Any]]:
    """[value, grad hidden, grad weight, grad bias] of linear_cross_entropy and of the naive loss
    (for ``upcast``, the naive one in float32 from the same half-precision values)."""
    reduction = options.get("reduction", "mean")
    chunked = ct.linear_cross_entropy(hidden, weight, target, bias=bias, **options)
    naive_options = {("weight" if k == "class_weight" else k): v for k, v in options.items() if k != "chunk_size"}
    h, w, b = ((t.detach().float().requires_grad_() for t in (hidden, weight, bias)) if upcast
               else (hidden, weight, bias))
    naive = _generic(lambda: crossent.cross_entropy(h @ w.T + b, target, **naive_options))
    assert chunked.shape == naive.shape and chunked.dtype == naive.dtype
    g = torch.Generator().manual_seed(1)  # a grad_output other than 1 checks backward's scaling
    seed = torch.rand(naive.shape, generator=g, dtype=naive.dtype) + 0.5
    if reduction == "none":
        seed = torch.where(torch.arange(seed.numel()).reshape(seed.shape) % 3 == 0, 0.0, seed)
    out = [chunked.detach(), *torch.autograd.grad(chunked, (hidden, weight, bias), seed)]
    ref = [naive.detach(), *_generic(lambda: torch.autograd.grad(naive, (h, w, b), seed))]
    return out, ref


SHAPES = [  # N (or a batch shape), H, V, chunk_size
    (10, 8, 7, 3),  # N not a multiple of the chunk
    (10, 8, 7, 1),
    (10, 8, 7, 10),
    (5, 8, 7, 64),  # chunk > N
    ((2, 5), 6, 9, 4),  # batch dimensions
    (3, 4, 2**17 + 1, None),  # a large vocabulary: automatic chunk ≥ N
    (3, 4, 2**17 + 1, 2),
]
RICH = {"ignore_index": -100, "label_smoothing": 0.1, "z_loss": 1e-3, "logit_softcap": 4.0}


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize(("n", "h", "v", "chunk"), SHAPES)
def test_linear_cross_entropy_equals_naive_across_shapes(n: Any, h: int, v: int, chunk: int | None,
                                                         reduction: str, path: str) -> None:
    hidden, weight, bias, target = _problem(n, h, v, ignore=-100)
    out, ref = _both(hidden, weight, bias, target, chunk_size=chunk, reduction=reduction, **RICH)
    for got, want in zip(out, ref, strict=True):
        assert_close(got, want)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("options", [
    {},
    {"ignore_index": 2},
    {"label_smoothing": 0.2},
    {"z_loss": 0.01},
    {"logit_softcap": 2.0},
    {"class_weight": torch.tensor([0.5, 1.0, 2.0, 1.5, 0.0, 3.0, 1.0], dtype=torch.float64)},
    {"class_weight": torch.tensor([0.5, 1.0, 2.0, 1.5, 0.0, 3.0, 1.0], dtype=torch.float64), "ignore_index": 1,
     "label_smoothing": 0.1, "sample_weight": torch.rand(10, dtype=torch.float64), "base": 2},
], ids=["plain", "ignore", "smoothing", "z_loss", "softcap", "class_weight", "everything"])
def test_linear_cross_entropy_equals_naive_for_each_option(options: dict[str, Any], reduction: str, path: str) -> None:
    hidden, weight, bias, target = _problem(10, 8, 7)
    out, ref = _both(hidden, weight, bias, target, chunk_size=3, reduction=reduction, **options)
    for got, want in zip(out, ref, strict=True):
        assert_close(got, want)


def test_linear_cross_entropy_every_row_ignored_is_zero_with_zero_gradient(path: str) -> None:
    hidden, weight, bias, _ = _problem(6, 4, 5)
    target = torch.full((6,), -1)
    out, ref = _both(hidden, weight, bias, target, ignore_index=-1, label_smoothing=0.1, z_loss=0.1, chunk_size=4)
    for got, want in zip(out, ref, strict=True):
        assert torch.count_nonzero(got) == 0
        assert_close(got, want)


def test_linear_cross_entropy_without_bias_and_frozen_weight(path: str) -> None:
    hidden, weight, _, target = _problem(7, 5, 6)
    loss = ct.linear_cross_entropy(hidden, weight.detach(), target, chunk_size=2)
    (g,) = torch.autograd.grad(loss, hidden)
    naive = _generic(lambda: crossent.cross_entropy(hidden @ weight.detach().T, target))
    assert_close(loss.detach(), naive.detach())
    assert_close(g, _generic(lambda: torch.autograd.grad(naive, hidden)[0]))
    with torch.no_grad():  # no gradient wanted: value only
        assert_close(ct.linear_cross_entropy(hidden, weight, target, chunk_size=2), naive.detach())


def test_linear_cross_entropy_kernel_writes_the_gradient_over_the_logits(monkeypatch: pytest.MonkeyPatch) -> None:
    _cpu = pytest.importorskip("crossent.kernels._cpu")
    monkeypatch.setattr(_cpu, "ENABLED", True)
    monkeypatch.setattr(_cpu, "MIN_ELEMENTS", 0)
    in_place: list[bool] = []
    original = _cpu.softmax_cross_entropy

    def spy(z: Any, *args: Any, out: Any = None, **kwargs: Any) -> Any:
        in_place.append(out is z)
        return original(z, *args, out=out, **kwargs)

    monkeypatch.setattr(_cpu, "softmax_cross_entropy", spy)
    hidden, weight, bias, target = _problem(10, 8, 7, torch.float32)
    ct.linear_cross_entropy(hidden, weight, target, bias=bias, chunk_size=4).backward()
    assert in_place == [True, True, True]


def test_linear_cross_entropy_triton_kernel_writes_the_gradient_over_the_logits(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import crossent.kernels

    _triton = pytest.importorskip("crossent.kernels._triton")
    monkeypatch.setattr(crossent.kernels, "TRITON_ON_CPU", True)
    over_logits: list[bool] = []
    original = _triton.softmax_cross_entropy

    def spy(z: Any, *args: Any, in_place: bool = False, **kwargs: Any) -> Any:
        result = original(z, *args, in_place=in_place, **kwargs)
        over_logits.append(in_place and result[2] is z)
        return result

    monkeypatch.setattr(_triton, "softmax_cross_entropy", spy)
    hidden, weight, bias, target = _problem(10, 8, 7, torch.float32)
    ct.linear_cross_entropy(hidden, weight, target, bias=bias, chunk_size=4).backward()
    assert over_logits == [True, True, True]


def test_linear_cross_entropy_second_backward_says_how() -> None:
    hidden, weight, bias, target = _problem(6, 4, 5)
    loss = ct.linear_cross_entropy(hidden, weight, target, bias=bias)
    loss.backward(retain_graph=True)
    with pytest.raises(RuntimeError, match="recompute the loss"):
        loss.backward()


def test_linear_cross_entropy_float32(path: str) -> None:
    hidden, weight, bias, target = _problem(33, 16, 50, torch.float32, ignore=-100)
    out, ref = _both(hidden, weight, bias, target, chunk_size=8, ignore_index=-100, label_smoothing=0.1)
    for got, want in zip(out, ref, strict=True):
        assert got.dtype == torch.float32
        assert_close(got, want, np.float32, atol=rtol(np.float32) * float(want.abs().max()))


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_linear_cross_entropy_half_computes_in_float32(dtype: Any, path: str) -> None:
    hidden, weight, bias, target = _problem(33, 16, 50, dtype, ignore=-100)
    out, ref = _both(hidden, weight, bias, target, upcast=True, chunk_size=8, ignore_index=-100, z_loss=1e-3)
    # The loss is float32 and agrees with float32 from the same values to float32 tolerance;
    # each gradient is the float32 gradient rounded once to its input's dtype: one ulp.
    assert out[0].dtype == torch.float32
    assert_close(out[0], ref[0], np.float32)
    one_ulp = torch.finfo(dtype).eps
    for got, want in zip(out[1:], ref[1:], strict=True):
        assert got.dtype == dtype
        np.testing.assert_allclose(got.float().numpy(), want.to(dtype).float().numpy(), rtol=one_ulp,
                                   atol=rtol(np.float32) * float(want.abs().max()))


def test_linear_cross_entropy_bad_input_names_the_argument() -> None:
    hidden, weight, bias, target = _problem(4, 3, 5)
    with pytest.raises(ValueError, match="hidden's last dimension"):
        ct.linear_cross_entropy(hidden, weight.T, target)
    with pytest.raises(ValueError, match="target must have hidden's shape"):
        ct.linear_cross_entropy(hidden, weight, target[:2])
    with pytest.raises(TypeError, match=r"target must be .* integer labels"):
        ct.linear_cross_entropy(hidden, weight, target.double())
    with pytest.raises(ValueError, match="label 5"):
        ct.linear_cross_entropy(hidden, weight, torch.tensor([0, 1, 5, 2]))
    with pytest.raises(ValueError, match="chunk_size"):
        ct.linear_cross_entropy(hidden, weight, target, chunk_size=0)
    with pytest.raises(ValueError, match="bias"):
        ct.linear_cross_entropy(hidden, weight, target, bias=bias[:3])
    with pytest.raises(ValueError, match="class_weight"):
        ct.linear_cross_entropy(hidden, weight, target, class_weight=torch.ones(4))
    with pytest.raises(ValueError, match="sample_weight requires grad"):
        ct.linear_cross_entropy(hidden, weight, target, sample_weight=torch.ones(4, requires_grad=True))
    with pytest.raises(ValueError, match="reduction"):
        ct.linear_cross_entropy(hidden, weight, target, reduction="avg")
    with pytest.raises(ValueError, match="label_smoothing"):
        ct.linear_cross_entropy(hidden, weight, target, label_smoothing=2.0)


class _LargestTensor(TorchDispatchMode):
    """Records the largest tensor (in elements) that any operation returns."""

    def __init__(self) -> None:
        super().__init__()
        self.largest = 0

    def __torch_dispatch__(self, func: Any, types: Any, args: Any = (), kwargs: Any = None) -> Any:
        out = func(*args, **(kwargs or {}))
        for t in out if isinstance(out, tuple | list) else (out,):
            if isinstance(t, torch.Tensor):
                self.largest = max(self.largest, t.numel())
        return out


@pytest.mark.parametrize("reduction", ["mean", "none"])  # "none" recomputes in backward
def test_linear_cross_entropy_never_creates_the_full_logits(reduction: str) -> None:
    n, h, v, chunk = 64, 8, 50, 16  # N×V = 3200; chunk×V = 800 ≥ N×H, V×H (the inputs' sizes)
    hidden, weight, bias, target = _problem(n, h, v, torch.float32, ignore=-100)

    def run(loss_of: Any) -> int:
        with _LargestTensor() as probe:
            loss = loss_of()
            torch.autograd.grad(loss.sum(), (hidden, weight, bias))
        return probe.largest

    options = {"ignore_index": -100, "label_smoothing": 0.1, "z_loss": 1e-3, "reduction": reduction}
    naive = run(lambda: crossent.cross_entropy(hidden @ weight.T + bias, target, **options))
    assert naive >= n * v  # the probe sees the logits when they are made
    chunked = run(lambda: ct.linear_cross_entropy(hidden, weight, target, bias=bias, chunk_size=chunk, **options))
    assert chunked <= chunk * v


def test_default_chunk_size_follows_the_budget() -> None:
    from crossent.torch._linear import CHUNK_BYTES, default_chunk_size

    assert default_chunk_size(2**17) * 2**17 * 4 <= CHUNK_BYTES < (default_chunk_size(2**17) + 1) * 2**17 * 4
    assert default_chunk_size(10**9) == 1


@pytest.mark.parametrize("shape", [(5,), (4, 5), (4, 5, 3), (2, 5, 3, 2)])
def test_modules_take_torchs_layout_the_class_axis_is_one(shape: tuple[int, ...]) -> None:
    # crossent.torch's modules carry torch's names, so they take torch's layout (N, C, d1, ...);
    # the functions keep axis=-1
    g = torch.Generator().manual_seed(0)
    z = torch.randn(*shape, generator=g, dtype=torch.float64)
    batch = shape[:1] + shape[2:] if len(shape) >= 2 else ()
    y = torch.randint(0, 5, batch, generator=g)
    w = torch.rand(5, generator=g, dtype=torch.float64)
    for module, reference in [
        (ct.CrossEntropyLoss(weight=w, label_smoothing=0.1), torch.nn.CrossEntropyLoss(weight=w, label_smoothing=0.1)),
        (ct.CrossEntropyLoss(reduction="none"), torch.nn.CrossEntropyLoss(reduction="none")),
    ]:
        torch.testing.assert_close(module(z, y), reference(z, y), rtol=1e-12, atol=1e-12)
    if len(shape) >= 3:  # an explicit axis is the function's
        moved = torch.movedim(z, 1, -1)
        torch.testing.assert_close(ct.FocalLoss(axis=-1)(moved, y), crossent.focal_loss(moved, y))
        torch.testing.assert_close(ct.FocalLoss()(z, y), crossent.focal_loss(moved, y))
