"""In-place gradients: ``value_and_grad(..., out=)`` and the torch modules' ``inplace_backward=True``.

The plain call is the oracle: the gradient written into ``out`` (a reused buffer, or the logits
themselves) is bit-identical to the one the call returns without it, on the kernel path (inputs of
more than ``_cpu.MIN_ELEMENTS`` elements) and on the generic path (the kernels off, or a small
input); a spy on ``take_destination`` tells that the kernel wrote into ``out`` itself where it can.
``inplace_backward`` gives the plain module's ``.grad``, over the logits' memory where a kernel
takes the call.
"""

from __future__ import annotations

import tracemalloc
from typing import Any

import numpy as np
import pytest

import crossent
from crossent.kernels import _autograd

_cpu = pytest.importorskip("crossent.kernels._cpu")  # (numba)

DTYPES = [np.float32, np.float64]
REDUCTIONS = ["none", "sum", "mean"]
KERNEL_SHAPE = (64, 1031)  # 65,984 elements: above _cpu.MIN_ELEMENTS, C not a multiple of a block
SMALL_SHAPE = (7, 5)

# (loss, options, target kind, whether the Numba kernel writes into out on the kernel path)
FAMILIES: dict[str, tuple[Any, dict[str, Any], str, bool]] = {
    "cross_entropy": (crossent.cross_entropy, {}, "labels", True),
    "cross_entropy_options": (crossent.cross_entropy, {"weight": "class", "ignore_index": -100,
                                                       "label_smoothing": 0.1, "z_loss": 1e-3,
                                                       "sample_weight": "sample"}, "labels", True),
    "sparse_softcap": (crossent.sparse_categorical_cross_entropy, {"logit_softcap": 4.0, "base": 2.0},
                       "labels", True),
    "focal": (crossent.focal_loss, {"gamma": 2.0, "alpha": 0.25, "weight": "class", "ignore_index": -100},
              "labels", True),
    "poly1": (crossent.poly1_cross_entropy, {"epsilon": 1.0, "label_smoothing": 0.1}, "labels", True),
    "logit_adjusted": (crossent.logit_adjusted_cross_entropy, {"priors": "class", "tau": 0.8}, "labels", True),
    "probabilities": (crossent.cross_entropy, {"from_logits": False, "weight": "class"}, "labels", False),
    "categorical": (crossent.categorical_cross_entropy, {"label_smoothing": 0.1}, "dense", False),
    "binary": (crossent.binary_cross_entropy, {"pos_weight": "element", "sample_weight": "element",
                                               "label_smoothing": 0.05}, "binary", True),
    "binary_focal": (crossent.binary_focal_loss, {"gamma": 2.0, "alpha": 0.25}, "binary", False),
    "asymmetric": (crossent.asymmetric_loss, {}, "binary", False),
}


def inputs(family: str, shape: tuple[int, int], dtype: Any, seed: int = 0) -> tuple[np.ndarray, np.ndarray,
                                                                                   dict[str, Any]]:
    _, options, kind, _ = FAMILIES[family]
    rng = np.random.default_rng(seed)
    n, c = shape
    z = rng.normal(scale=2.0, size=shape).astype(dtype)
    if options.get("from_logits") is False:
        e = np.exp(z - z.max(axis=1, keepdims=True))
        z = (e / e.sum(axis=1, keepdims=True)).astype(dtype)
    if kind == "labels":
        target: np.ndarray = rng.integers(0, c, size=n)
        if "ignore_index" in options:
            target[::4] = options["ignore_index"]
    elif kind == "dense":
        target = rng.dirichlet(np.ones(c), size=n).astype(dtype)
    else:
        target = (rng.uniform(size=shape) < 0.3).astype(dtype)
    resolved = dict(options)
    for key, value in options.items():
        if value == "class":
            resolved[key] = rng.uniform(0.2, 2.0, size=c)
        elif value == "sample":
            resolved[key] = rng.uniform(0.0, 2.0, size=n)
        elif value == "element":
            resolved[key] = rng.uniform(0.5, 2.0, size=shape)
    return z, target, resolved


@pytest.fixture
def taken(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Each kernel call made with a destination set (value_and_grad(out=), inplace_backward): True
    where the kernel writes into it, False where it makes its own array."""
    answers: list[bool] = []
    original = _autograd.take_destination

    def spy(z: np.ndarray) -> Any:
        destination = original(z)
        if _autograd._DESTINATION.get() is not None:
            answers.append(destination is not None)
        return destination

    monkeypatch.setattr(_autograd, "take_destination", spy)
    return answers


def same(a: Any, b: Any) -> None:
    """Bit-identical arrays (NaN where NaN)."""
    a, b = np.asarray(a), np.asarray(b)
    assert a.dtype == b.dtype and a.shape == b.shape
    assert np.array_equal(a, b, equal_nan=True)


def check_out(family: str, z: np.ndarray, target: np.ndarray, options: dict[str, Any]) -> None:
    """out= a reused buffer and out= the logits, in every reduction, against the plain call."""
    loss = FAMILIES[family][0]
    for reduction in REDUCTIONS:
        value, grad = crossent.value_and_grad(loss, z, target, reduction=reduction, **options)
        buffer = np.full_like(z, np.nan)
        for _ in range(2):  # the buffer reused: written over, not accumulated
            value_out, grad_out = crossent.value_and_grad(loss, z, target, reduction=reduction, out=buffer,
                                                          **options)
            assert grad_out is buffer
            same(value_out, value)
            same(buffer, grad)
        logits = z.copy()
        value_in, grad_in = crossent.value_and_grad(loss, logits, target, reduction=reduction, out=logits,
                                                    **options)
        assert grad_in is logits
        same(value_in, value)
        same(logits, grad)  # the logits now hold their gradient


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("family", FAMILIES)
def test_out_on_the_kernel_path_is_the_plain_gradient(family: str, dtype: Any, taken: list[bool]) -> None:
    z, target, options = inputs(family, KERNEL_SHAPE, dtype)
    check_out(family, z, target, options)
    writes = FAMILIES[family][3]
    # the kernel wrote into the buffer or over the logits itself (no copy), or no kernel was given one
    assert taken and all(taken) if writes else not any(taken)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("family", FAMILIES)
def test_out_on_the_generic_path_is_the_plain_gradient(monkeypatch: pytest.MonkeyPatch, family: str,
                                                       dtype: Any, taken: list[bool]) -> None:
    monkeypatch.setattr(_cpu, "ENABLED", False)
    z, target, options = inputs(family, KERNEL_SHAPE, dtype, seed=1)
    check_out(family, z, target, options)
    monkeypatch.setattr(_cpu, "ENABLED", True)
    z, target, options = inputs(family, SMALL_SHAPE, dtype, seed=2)  # below the kernels' size
    check_out(family, z, target, options)
    assert not taken


@pytest.mark.parametrize(("family", "dtype"), [("focal", np.float32), ("cross_entropy_options", np.float64),
                                             ("sparse_softcap", np.float32)])
def test_out_in_place_on_the_general_kernel_allocates_no_gradient_sized_array(family: str, dtype: Any) -> None:
    """Focal γ, float64 logits and soft-cap run on the general kernel (_cpu_softmax.softmax_rows),
    which reads each row again after writing its gradient: in place it reads a copy of the row,
    not of the logits (NumPy's allocations are traced; a row's copy, Numba's, is small anyway)."""
    z, target, options = inputs(family, (512, 1031), dtype)  # 2 or 4 MiB
    loss = FAMILIES[family][0]
    _, grad = crossent.value_and_grad(loss, z, target, **options)  # (compiled here, not traced)
    tracemalloc.start()
    try:
        _, grad_in = crossent.value_and_grad(loss, z, target, out=z, **options)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert grad_in is z
    same(z, grad)
    assert peak < z.nbytes / 16, f"{peak} bytes allocated in place, the logits are {z.nbytes}"


@pytest.mark.parametrize("dtype", DTYPES)
def test_out_in_place_with_masked_classes_and_all_ignored_rows(dtype: Any, taken: list[bool]) -> None:
    # rows with -inf logits take the kernel's careful fallback, which reads them untouched
    z, labels, _ = inputs("cross_entropy", KERNEL_SHAPE, dtype)
    z[::5, :3] = -np.inf
    labels[::5] = 7
    check_out("cross_entropy", z, labels, {"label_smoothing": 0.1})
    assert all(taken)
    # no weight at all: the mean's gradient is 0, written into out as well
    check_out("cross_entropy", z, np.full(KERNEL_SHAPE[0], -100), {"ignore_index": -100})


def test_out_of_other_layouts_is_filled_by_a_copy(taken: list[bool]) -> None:
    z, labels, _ = inputs("cross_entropy", KERNEL_SHAPE, np.float32)
    _, grad = crossent.value_and_grad(crossent.cross_entropy, z, labels)
    fortran = np.asfortranarray(np.zeros_like(z))
    assert crossent.value_and_grad(crossent.cross_entropy, z, labels, out=fortran)[1] is fortran
    same(fortran, grad)
    transposed = np.ascontiguousarray(z.T)  # the class axis first: the kernel reads a copy
    _, grad_t = crossent.value_and_grad(crossent.cross_entropy, transposed, labels, axis=0)
    _, grad_in = crossent.value_and_grad(crossent.cross_entropy, transposed, labels, axis=0, out=transposed)
    assert grad_in is transposed
    same(transposed, grad_t)
    same(grad_t, grad.T)
    # no destination for the Fortran-ordered out; the transposed logits' is not the kernel's memory
    assert taken == [False]


def test_the_doctest_case_and_a_list_target() -> None:
    logits = np.zeros((1, 2))
    value, grad = crossent.value_and_grad("cross_entropy", logits, [0], out=logits)
    assert grad is logits and logits.tolist() == [[-0.5, 0.5]] and float(value) == pytest.approx(np.log(2))


def test_bad_out_is_an_error_naming_it() -> None:
    z, labels, _ = inputs("cross_entropy", SMALL_SHAPE, np.float32)
    loss = crossent.cross_entropy
    with pytest.raises(TypeError, match="out must be a NumPy array, as the prediction is; got list"):
        crossent.value_and_grad(loss, z, labels, out=z.tolist())
    with pytest.raises(ValueError, match=r"out must have the prediction's shape \(7, 5\), got \(7, 4\)"):
        crossent.value_and_grad(loss, z, labels, out=np.empty((7, 4), np.float32))
    with pytest.raises(TypeError, match="out must have the prediction's dtype float32, got float64"):
        crossent.value_and_grad(loss, z, labels, out=np.empty((7, 5)))
    read_only = np.empty_like(z)
    read_only.flags.writeable = False
    with pytest.raises(ValueError, match="out must be a writable array, got a read-only one"):
        crossent.value_and_grad(loss, z, labels, out=read_only)
    block = np.zeros((8, 5), np.float32)
    with pytest.raises(ValueError, match="out must be the prediction itself or not overlap it"):
        crossent.value_and_grad(loss, block[:7], labels, out=block[1:])
    y = (z > 0).astype(np.float32)
    with pytest.raises(ValueError, match="out must not overlap the target"):
        crossent.value_and_grad(crossent.binary_cross_entropy, z, y, out=y)
    with pytest.raises(TypeError, match=r"out= takes a NumPy array or a PyTorch tensor prediction.*got list"):
        crossent.value_and_grad(loss, z.tolist(), labels, out=np.empty_like(z))
    with pytest.raises(TypeError, match="prediction must have a real floating dtype, got int64"):
        crossent.value_and_grad(loss, np.zeros((7, 5), np.int64), labels, out=np.empty((7, 5)))  # the loss's own
    with pytest.raises(TypeError, match="unexpected keyword argument 'out'"):
        crossent.value_grad_hess(loss, z, labels, out=np.empty_like(z))


def test_out_of_a_jax_prediction_is_a_type_error() -> None:
    jnp = pytest.importorskip("jax.numpy")
    z = jnp.zeros((2, 3))
    with pytest.raises(TypeError, match=r"got ArrayImpl \(JAX arrays are immutable: use the returned gradient\)"):
        crossent.value_and_grad(crossent.cross_entropy, z, jnp.array([0, 1]), out=np.empty((2, 3)))


# ---------------------------------------------------------------------------------------------
# PyTorch: out= on tensors, and inplace_backward=True on the modules

def test_out_of_torch_tensors(taken: list[bool]) -> None:
    torch = pytest.importorskip("torch")
    z, labels, options = inputs("cross_entropy_options", KERNEL_SHAPE, np.float32)
    zt, yt = torch.from_numpy(z), torch.from_numpy(labels)
    topts = {k: torch.from_numpy(v) if isinstance(v, np.ndarray) else v for k, v in options.items()}
    value, grad = crossent.value_and_grad(crossent.cross_entropy, zt, yt, **topts)
    out = torch.full_like(zt, float("nan"))
    value_out, grad_out = crossent.value_and_grad(crossent.cross_entropy, zt, yt, out=out, **topts)
    assert grad_out is out and torch.equal(out, grad) and torch.equal(value_out, value)
    logits = zt.clone().requires_grad_()  # a leaf that requires a gradient: written through its memory
    version = logits._version
    _, grad_in = crossent.value_and_grad(crossent.cross_entropy, logits, yt, out=logits, **topts)
    assert grad_in is logits and torch.equal(logits.detach(), grad)
    assert logits._version > version  # autograd sees the write
    assert taken == [True, True]
    half = zt[:8, :40].to(torch.bfloat16)  # the generic path, computed in float32: copied into out
    _, grad_half = crossent.value_and_grad(crossent.cross_entropy, half, yt[:8] % 40)
    out_half = torch.empty_like(half)
    assert crossent.value_and_grad(crossent.cross_entropy, half, yt[:8] % 40, out=out_half)[1] is out_half
    assert torch.equal(out_half, grad_half)
    with pytest.raises(TypeError, match="out must be a PyTorch tensor, as the prediction is; got ndarray"):
        crossent.value_and_grad(crossent.cross_entropy, zt, yt, out=z)
    with pytest.raises(ValueError, match="out must be on the prediction's device cpu, got meta"):
        crossent.value_and_grad(crossent.cross_entropy, zt, yt, out=torch.empty_like(zt, device="meta"))
    with pytest.raises(ValueError, match="out must be the prediction itself or not overlap it"):
        crossent.value_and_grad(crossent.cross_entropy, zt[:-1], yt[:-1], out=zt[1:])


# (module, options, binary): the softmax kernels, a generic-only binary loss, BCE's element-wise kernel
MODULES = {
    "cross_entropy": ("CrossEntropyLoss", {}, False),
    "cross_entropy_options": ("CrossEntropyLoss", {"weight": "class", "ignore_index": -100,
                                                   "label_smoothing": 0.1, "z_loss": 1e-3}, False),
    "focal": ("FocalLoss", {"gamma": 2.0}, False),
    "logit_adjusted": ("LogitAdjustedCrossEntropyLoss", {"priors": "class"}, False),
    "binary": ("BinaryCrossEntropyLoss", {"pos_weight": "element"}, True),
    "binary_focal": ("BinaryFocalLoss", {}, True),
}


def module_inputs(name: str, shape: tuple[int, int], dtype: Any, seed: int = 0) -> tuple[Any, Any, Any, Any]:
    """(the plain module, the inplace_backward one, logits, target) as torch tensors."""
    torch = pytest.importorskip("torch")
    import crossent.torch as ct

    class_name, options, binary = MODULES[name]
    rng = np.random.default_rng(seed)
    resolved: dict[str, Any] = {}
    for key, value in options.items():
        if value == "class":
            value = torch.from_numpy(rng.uniform(0.2, 2.0, size=shape[1]))
        elif value == "element":
            value = torch.from_numpy(rng.uniform(0.5, 2.0, size=shape))
        resolved[key] = value.to(dtype) if isinstance(value, torch.Tensor) else value
    z = torch.from_numpy(rng.normal(scale=2.0, size=shape)).to(dtype)
    if binary:
        y = torch.from_numpy(rng.uniform(size=shape) < 0.3).to(dtype)
    else:
        y = torch.from_numpy(rng.integers(0, shape[1], size=shape[0]))
        if "ignore_index" in options:
            y[::4] = -100
    module = getattr(ct, class_name)
    return module(**resolved), module(**resolved, inplace_backward=True), z, y


def plain_and_inplace(plain: Any, inplace: Any, z: Any, y: Any, upstream: Any = None) -> tuple[Any, Any, Any]:
    """(plain .grad, in-place .grad, the in-place logits after the backward), on leaf copies of z."""
    a = z.clone().requires_grad_()
    value = plain(a, y)
    value.backward(upstream)
    b = z.clone().requires_grad_()
    value_in = inplace(b, y)
    value_in.backward(upstream)
    assert value_in.dtype == value.dtype and bool((value_in == value).all())
    return a.grad, b.grad, b


@pytest.mark.parametrize("dtype_name", ["float32", "float64"])
@pytest.mark.parametrize("name", MODULES)
def test_inplace_backward_gives_the_plain_gradient_over_the_logits(name: str, dtype_name: str) -> None:
    torch = pytest.importorskip("torch")
    dtype = getattr(torch, dtype_name)
    kernel = name != "binary_focal"  # binary focal has no kernel: never in place
    for reduction in REDUCTIONS:
        plain, inplace, z, y = module_inputs(name, KERNEL_SHAPE, dtype)
        plain.reduction = inplace.reduction = reduction
        upstream = None
        if reduction == "none":  # each row's (or element's) own upstream gradient
            shape = KERNEL_SHAPE if MODULES[name][2] else KERNEL_SHAPE[:1]
            upstream = torch.from_numpy(np.random.default_rng(3).uniform(0.5, 2.0, size=shape)).to(dtype)
        grad, grad_in, logits = plain_and_inplace(plain, inplace, z, y, upstream)
        assert torch.equal(grad_in, grad)
        if kernel:  # the gradient lives in the logits' memory: no gradient-sized buffer was made
            assert grad_in.data_ptr() == logits.data_ptr() and torch.equal(logits.detach(), grad)
        else:
            assert torch.equal(logits.detach(), z)


def test_inplace_backward_on_small_inputs_is_not_in_place() -> None:
    torch = pytest.importorskip("torch")
    plain, inplace, z, y = module_inputs("cross_entropy_options", SMALL_SHAPE, torch.float32)
    grad, grad_in, logits = plain_and_inplace(plain, inplace, z, y)
    assert torch.equal(grad_in, grad) and torch.equal(logits.detach(), z)  # the generic path: logits kept
    # a scaled upstream gradient and the (N, C, d) layout, whose class axis is not last: not in place
    plain, inplace, _, _ = module_inputs("cross_entropy", SMALL_SHAPE, torch.float32)
    z3 = torch.randn(16, 50, 100)
    y3 = torch.randint(0, 50, (16, 100))
    grad, grad_in, logits = plain_and_inplace(plain, inplace, z3, y3, torch.tensor(3.0))
    assert torch.equal(grad_in, grad) and torch.equal(logits.detach(), z3)


def test_inplace_backward_after_a_linear_layer() -> None:
    torch = pytest.importorskip("torch")
    plain, inplace, _, y = module_inputs("cross_entropy", KERNEL_SHAPE, torch.float32)
    rng = torch.Generator().manual_seed(0)
    hidden = torch.randn(KERNEL_SHAPE[0], 32, generator=rng)
    layer = torch.nn.Linear(32, KERNEL_SHAPE[1])
    grads = []
    for criterion in (plain, inplace):
        layer.zero_grad()
        h = hidden.clone().requires_grad_()
        criterion(layer(h), y).backward()  # Linear's backward needs its input and weight, not its output
        grads.append((h.grad, layer.weight.grad.clone(), layer.bias.grad.clone()))
    for got, want in zip(grads[1], grads[0], strict=True):
        assert torch.equal(got, want)


def test_inplace_backward_is_caught_by_autograd_where_the_logits_are_needed() -> None:
    torch = pytest.importorskip("torch")
    _, inplace, z, y = module_inputs("cross_entropy", KERNEL_SHAPE, torch.float32)
    logits = torch.exp(z.clone().requires_grad_() / 4)  # exp saves its output, the logits
    loss = inplace(logits, y)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        loss.backward()
    leaf = z.clone().requires_grad_()
    loss = inplace(leaf, y)
    with pytest.raises(RuntimeError, match=r"create_graph=True.*inplace_backward=True.*overwritten"):
        torch.autograd.grad(loss, leaf, create_graph=True)
    with torch.no_grad():  # no gradient wanted: nothing is written
        kept = z.clone()
        inplace(kept, y)
    assert torch.equal(kept, z)


def test_inplace_backward_is_a_module_option() -> None:
    torch = pytest.importorskip("torch")
    import inspect

    import crossent.torch as ct

    parameter = inspect.signature(ct.CrossEntropyLoss).parameters["inplace_backward"]
    assert parameter.kind is parameter.KEYWORD_ONLY and parameter.default is False
    assert "inplace_backward=True" in repr(ct.FocalLoss(gamma=1.0, inplace_backward=True))
    assert "inplace_backward" not in repr(ct.FocalLoss(gamma=1.0))
    assert "inplace_backward=True" in ct.BinaryCrossEntropyLoss.__doc__
    with pytest.raises(TypeError, match="inplace_backward must be True or False, got 'yes'"):
        ct.CrossEntropyLoss(inplace_backward="yes")
    state = ct.CrossEntropyLoss(weight=torch.ones(3), inplace_backward=True).state_dict()
    assert set(state) == {"weight"}  # an option, not a buffer


# (module, its options, the Triton launcher, rows, classes or None for binary targets of the logits' shape)
TRITON_IN_PLACE = [
    ("CrossEntropyLoss", {}, "softmax_cross_entropy", 24, 11),
    ("CrossEntropyLoss", {"label_smoothing": 0.1, "ignore_index": 2, "z_loss": 1e-3}, "softmax_cross_entropy", 24, 11),
    ("CrossEntropyLoss", {"reduction": "none"}, "softmax_cross_entropy", 24, 11),
    ("BinaryCrossEntropyLoss", {"label_smoothing": 0.1}, "sigmoid_cross_entropy", 16, None),
]


@pytest.mark.filterwarnings("ignore::RuntimeWarning:triton.*")
@pytest.mark.parametrize(("module", "options", "launcher", "rows", "classes"), TRITON_IN_PLACE)
def test_inplace_backward_on_the_triton_path_writes_over_the_logits(
        monkeypatch: pytest.MonkeyPatch, module: str, options: dict[str, Any], launcher: str, rows: int,
        classes: int | None) -> None:
    """The Triton kernels (under TRITON_INTERPRET=1, on CPU tensors: the branch a CUDA tensor
    takes) write the gradient over the logits, and .grad is the plain module's."""
    torch = pytest.importorskip("torch")
    pytest.importorskip("triton")
    import crossent.kernels
    import crossent.torch
    from crossent.kernels import _triton

    if not _triton._interpreted():
        pytest.skip("triton was imported without TRITON_INTERPRET=1")
    calls: list[bool] = []
    launch = getattr(_triton, launcher)
    monkeypatch.setattr(_triton, launcher, lambda *a, **k: (calls.append(k.get("in_place", False)), launch(*a, **k))[1])
    monkeypatch.setattr(crossent.kernels, "TRITON_ON_CPU", True)
    generator = torch.Generator().manual_seed(5)
    z = torch.randn(rows, classes or 5, generator=generator) * 3
    y = (torch.randint(0, classes, (rows,), generator=generator) if classes else
         (torch.rand(rows, 5, generator=generator) < 0.3).float())
    upstream = torch.rand(rows, generator=generator) if options.get("reduction") == "none" else None
    grads = []
    for inplace in (False, True):
        x = z.clone().requires_grad_()
        loss = getattr(crossent.torch, module)(inplace_backward=inplace, **options)(x, y)
        loss.backward(upstream)
        grads.append(x.grad)
        if inplace:
            assert x.grad.data_ptr() == x.data_ptr(), "the gradient is the logits' memory"
            assert torch.equal(x.detach(), x.grad)
    assert calls == [False, True]
    torch.testing.assert_close(grads[1], grads[0], rtol=0, atol=0)
