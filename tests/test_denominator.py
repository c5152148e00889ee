"""``denominator=``: the exact mean across micro-batches and data-parallel ranks.

The parts' ``"mean"`` losses, each divided by the whole's total weight, add up to the whole's
mean, in value and in gradient, for every loss family on every backend and on the kernel paths
(Numba, Triton under the interpreter). On 2 gloo ranks × 2 micro-batches under DDP the gradient
is exact, where the mean of the micro-batch means and the rank-local normalization are not.
"""

from __future__ import annotations

import contextlib
import math
from typing import Any

import numpy as np
import pytest

import crossent
import crossent.kernels
from cases import BINARY, Case, convert, make_inputs
from conftest import BACKENDS, _backend, assert_close

torch = pytest.importorskip("torch")
import distributed  # noqa: E402
from crossent.torch.distributed import loss_denominator  # noqa: E402

W4 = np.array([0.5, 2.0, 1.0, 3.0])
PRIORS4 = np.array([0.1, 0.2, 0.3, 0.4])

# one or more option sets per loss family; the target kinds of tests/cases.py
FAMILIES = [
    Case("cross_entropy", {}),
    Case("cross_entropy", {"weight": W4, "ignore_index": -100, "label_smoothing": 0.1, "z_loss": 0.01}),
    Case("cross_entropy", {"weight": W4, "label_smoothing": 0.2}, "soft"),
    Case("cross_entropy", {"from_logits": False, "weight": W4, "base": 2}),
    Case("sparse_categorical_cross_entropy", {"ignore_index": 1}),
    Case("categorical_cross_entropy", {"weight": W4}, "onehot_zero_row"),
    Case("focal_loss", {"gamma": 2.0, "alpha": 0.25, "ignore_index": -100}),
    Case("poly1_cross_entropy", {"epsilon": 1.0, "weight": W4}),
    Case("logit_adjusted_cross_entropy", {"priors": PRIORS4, "tau": 1.0, "ignore_index": -100}),
    Case("binary_cross_entropy", {"pos_weight": np.array([1.0, 2.0, 0.5])}, "01"),
    Case("binary_cross_entropy", {"label_smoothing": 0.1}, "soft"),
    Case("binary_focal_loss", {"gamma": 2.0, "alpha": 0.25}, "01"),
    Case("asymmetric_loss", {}, "01"),
]


def _denominator_of(case: Case, parts_y: list[np.ndarray], parts_s: list[np.ndarray | None]) -> float:
    """The whole's total weight, from loss_denominator over the parts (NumPy arrays, one process)."""
    options = case.options
    weights = None if parts_s[0] is None else parts_s
    if case.loss in BINARY:
        return float(loss_denominator(parts_y, sample_weight=weights, elementwise=True, dtype=torch.float64))
    return float(loss_denominator(parts_y, class_weight=options.get("weight"), ignore_index=options.get("ignore_index"),
                                  sample_weight=weights, dtype=torch.float64))


def _split(n: int, rng: np.random.Generator) -> list[np.ndarray]:
    """Row indices of the whole cut into 1 to 4 contiguous parts, some possibly empty."""
    cuts = np.sort(rng.integers(0, n + 1, size=rng.integers(0, 4)))
    return np.split(np.arange(n), cuts)


# JAX compiles each new shape anew: one random split on JAX, four elsewhere
SPLITS = [(name, seed) for name in BACKENDS for seed in range(1 if name == "jax" else 4)]


@pytest.mark.parametrize("case", FAMILIES, ids=lambda c: f"{c.loss}-{c.target}-{sorted(c.options)}")
@pytest.mark.parametrize(("backend_name", "seed"), SPLITS)
def test_parts_over_the_whole_total_add_up_to_the_mean(backend_name: str, case: Case, seed: int) -> None:
    backend = _backend(backend_name)
    rng = np.random.default_rng(seed)
    shape = (9, 3) if case.loss in BINARY else (9, 4)
    z, y = make_inputs(case._replace(shape=shape), seed)
    if case.target == "labels" and "ignore_index" in case.options:
        y[rng.uniform(size=y.shape) < 0.3] = case.options["ignore_index"]
    s = rng.uniform(0.0, 2.0, size=shape if case.loss in BINARY else shape[:1])
    function = getattr(crossent, case.loss)
    options = convert(case.options, backend.asarray)
    whole, whole_grad = crossent.value_and_grad(function, backend.asarray(z), backend.asarray(y),
                                                sample_weight=backend.asarray(s), **options)
    parts = _split(shape[0], rng)
    total = _denominator_of(case, [y[i] for i in parts], [s[i] for i in parts])
    value, grads = 0.0, []
    for i in parts:
        v, g = crossent.value_and_grad(function, backend.asarray(z[i]), backend.asarray(y[i]),
                                       sample_weight=backend.asarray(s[i]), denominator=total, **options)
        value += float(backend.to_numpy(v))
        grads.append(backend.to_numpy(g))
    assert_close(value, float(backend.to_numpy(whole)))
    assert_close(np.concatenate(grads), backend.to_numpy(whole_grad))


def test_kernel_path_parts_add_up(monkeypatch: pytest.MonkeyPatch) -> None:
    """Parts large enough for the Numba kernel (and one below it) against the whole."""
    pytest.importorskip("numba")
    from crossent.kernels import _cpu

    rng = np.random.default_rng(1)
    n, c = 30_000, 8
    z = rng.normal(scale=3.0, size=(n, c)).astype(np.float32)
    y = rng.integers(0, c, size=n)
    y[rng.uniform(size=n) < 0.2] = -100
    w = rng.uniform(0.5, 2.0, size=c)
    taken: list[int] = []
    original = _cpu.softmax_cross_entropy
    monkeypatch.setattr(_cpu, "softmax_cross_entropy", lambda *a, **k: (taken.append(1), original(*a, **k))[1])
    options = dict(weight=w, ignore_index=-100, label_smoothing=0.1)
    whole, whole_grad = crossent.value_and_grad(crossent.cross_entropy, z, y, **options)
    total = float(loss_denominator(y, class_weight=w, ignore_index=-100))
    parts = np.split(np.arange(n), [20_000, 29_000])  # 160,000 elements, 72,000, 8,000 (generic)
    value, grads = 0.0, []
    for i in parts:
        v, g = crossent.value_and_grad(crossent.cross_entropy, z[i], y[i], denominator=total, **options)
        value += float(v)
        grads.append(g)
    assert len(taken) == 3, "the whole and the two large parts take the kernel"
    np.testing.assert_allclose(value, float(whole), rtol=1e-5)
    np.testing.assert_allclose(np.concatenate(grads), whole_grad, rtol=1e-5, atol=1e-9)
    # the binary kernel
    zb = rng.normal(size=(n, 4)).astype(np.float32)
    yb = (rng.uniform(size=zb.shape) < 0.3).astype(np.float32)
    whole, whole_grad = crossent.value_and_grad(crossent.binary_cross_entropy, zb, yb)
    v1, g1 = crossent.value_and_grad(crossent.binary_cross_entropy, zb[:25_000], yb[:25_000], denominator=zb.size)
    v2, g2 = crossent.value_and_grad(crossent.binary_cross_entropy, zb[25_000:], yb[25_000:], denominator=zb.size)
    np.testing.assert_allclose(float(v1) + float(v2), float(whole), rtol=1e-5)
    np.testing.assert_allclose(np.concatenate([g1, g2]), whole_grad, rtol=1e-5, atol=1e-12)


def test_torch_kernel_under_autograd_and_a_tensor_denominator() -> None:
    pytest.importorskip("numba")
    rng = np.random.default_rng(2)
    z = torch.tensor(rng.normal(size=(20_000, 5)), dtype=torch.float32)
    y = torch.tensor(rng.integers(0, 5, size=20_000))
    denominator = torch.tensor(50_000.0)  # a total larger than this call's own 20,000
    x = z.clone().requires_grad_()
    crossent.cross_entropy(x, y, denominator=denominator).backward()
    x_ref = z.clone().requires_grad_()
    (crossent.cross_entropy(x_ref, y, reduction="sum") / 50_000.0).backward()
    torch.testing.assert_close(x.grad, x_ref.grad, rtol=1e-5, atol=1e-10)


@pytest.mark.filterwarnings("ignore::RuntimeWarning:triton.*")
def test_triton_path_takes_a_device_denominator(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("triton")
    from crossent.kernels import _triton

    if not _triton._interpreted():
        pytest.skip("triton was imported without TRITON_INTERPRET=1")
    rng = np.random.default_rng(3)
    z = torch.tensor(rng.normal(size=(16, 7)), dtype=torch.float32)
    y = torch.tensor(rng.integers(0, 7, size=16))
    denominator = torch.tensor(40.0)
    calls: list[int] = []
    original = _triton.softmax_cross_entropy
    monkeypatch.setattr(_triton, "softmax_cross_entropy", lambda *a, **k: (calls.append(1), original(*a, **k))[1])
    monkeypatch.setattr(crossent.kernels, "TRITON_ON_CPU", True)
    for options in ({}, {"label_smoothing": 0.1, "ignore_index": 3}):
        value, grad = crossent.value_and_grad(crossent.cross_entropy, z, y, denominator=denominator, **options)
        zb = torch.rand(6, 3)
        yb = (torch.rand(6, 3) < 0.5).float()
        bvalue, bgrad = crossent.value_and_grad(crossent.binary_cross_entropy, zb, yb, denominator=denominator)
        with monkeypatch.context() as m:
            m.setattr(crossent.kernels, "TRITON_ON_CPU", False)
            ref, ref_grad = crossent.value_and_grad(crossent.cross_entropy, z, y, reduction="sum", **options)
            bref, bref_grad = crossent.value_and_grad(crossent.binary_cross_entropy, zb, yb, reduction="sum")
        torch.testing.assert_close(value, ref / 40.0, rtol=1e-5, atol=1e-7)
        torch.testing.assert_close(grad, ref_grad / 40.0, rtol=1e-5, atol=1e-7)
        torch.testing.assert_close(bvalue, bref / 40.0, rtol=1e-5, atol=1e-7)
        torch.testing.assert_close(bgrad, bref_grad / 40.0, rtol=1e-5, atol=1e-7)
    assert calls, "the Triton kernel did not take the call"


@pytest.mark.parametrize("zero", [0.0, "numpy", "torch"])
def test_a_zero_total_gives_zero_and_a_zero_gradient(zero: Any) -> None:
    z = torch.randn(4, 3, requires_grad=True)
    y = torch.tensor([0, 1, 2, 0])
    denominator = {"numpy": np.float64(0.0), "torch": torch.tensor(0.0)}.get(zero, zero)
    value = crossent.cross_entropy(z, y, denominator=denominator)
    value.backward()
    assert float(value.detach()) == 0.0 and bool(torch.all(z.grad == 0))
    v, g = crossent.value_and_grad(crossent.binary_focal_loss, np.ones((3, 2)), np.ones((3, 2)), denominator=0)
    assert float(v) == 0.0 and not np.any(g)


def test_traced_denominator_under_jit_and_vmap() -> None:
    jax = pytest.importorskip("jax")
    jnp = jax.numpy
    z = jnp.asarray(np.random.default_rng(4).normal(size=(6, 3)))
    y = jnp.asarray([0, 1, 2, 2, 1, 0])
    at = jax.jit(lambda d: crossent.cross_entropy(z, y, denominator=d))
    total = float(crossent.cross_entropy(z, y, reduction="sum"))
    np.testing.assert_allclose(float(at(12.0)), total / 12.0, rtol=1e-12)
    assert float(at(0.0)) == 0.0
    grads = jax.vmap(jax.grad(lambda d: crossent.cross_entropy(z, y, denominator=d)))(jnp.asarray([3.0, 6.0]))
    np.testing.assert_allclose(np.asarray(grads), [-total / 9.0, -total / 36.0], rtol=1e-12)


def test_torch_compile_with_a_denominator_is_one_graph() -> None:
    z, y = torch.randn(8, 5), torch.randint(0, 5, (8,))
    compiled = torch.compile(lambda a, b, d: crossent.cross_entropy(a, b, denominator=d), fullgraph=True)
    d = torch.tensor(20.0)
    torch.testing.assert_close(compiled(z, y, d), crossent.cross_entropy(z, y, reduction="sum") / 20.0)


@pytest.mark.parametrize(("options", "error", "match"), [
    ({"reduction": "sum", "denominator": 3.0}, ValueError, "needs reduction='mean', got reduction='sum'"),
    ({"reduction": "none", "denominator": 3.0}, ValueError, "needs reduction='mean'"),
    ({"denominator": -1.0}, ValueError, "denominator must be a finite number >= 0.*-1.0"),
    ({"denominator": math.nan}, ValueError, "denominator must be a finite number >= 0.*nan"),
    ({"denominator": math.inf}, ValueError, "denominator must be a finite number >= 0.*inf"),
    ({"denominator": np.array([1.0, 2.0])}, TypeError, r"a real number >= 0 or a 0-d array.*\(2,\)"),
    ({"denominator": "10"}, TypeError, "denominator must be a real number >= 0 or a 0-d array of one, got str"),
    ({"denominator": True}, TypeError, "denominator must be a real number"),
    ({"denominator": torch.tensor(-2.0)}, ValueError, "denominator must be a finite number >= 0.*-2.0"),
])
def test_bad_denominators_are_named(options: dict, error: type, match: str) -> None:
    for loss, target in ((crossent.cross_entropy, [0, 1]), (crossent.binary_cross_entropy, [[1.0, 0.0], [0.0, 1.0]])):
        with pytest.raises(error, match=match):
            loss(np.zeros((2, 2)), np.asarray(target), **options)


def test_loss_denominator_counts_what_the_loss_counts() -> None:
    y = [torch.tensor([0, 2, -100, 1]), torch.tensor([-100, -100]), torch.tensor([2])]
    s = [torch.tensor([1.0, 0.5, 9.0, 2.0]), torch.tensor([4.0, 4.0]), torch.tensor([3.0])]
    w = torch.tensor([1.0, 10.0, 100.0])
    total = loss_denominator(y, class_weight=w, ignore_index=-100, sample_weight=s)
    assert float(total) == 1.0 + 50.0 + 20.0 + 300.0
    assert float(loss_denominator(torch.zeros(3, 4), elementwise=True)) == 12.0
    assert float(loss_denominator(torch.eye(3)[[0, 1]], class_weight=w)) == 11.0
    with pytest.raises(ValueError, match=r"sample_weight must hold one array per micro-batch of target \(3\), got 2"):
        loss_denominator(y, sample_weight=s[:2])
    with pytest.raises(ValueError, match="ignore_index=-100 applies to integer labels"):
        loss_denominator(torch.eye(3), ignore_index=-100)
    with pytest.raises(TypeError, match="world_average must be True or False"):
        loss_denominator(y[0], world_average=1)


# --- two data-parallel ranks × two micro-batches, under DDP -----------------------------------

HIDDEN, CLASSES = 5, 7
# each rank's micro-batches: (rows, fraction padded with -100); rank 1's first is all padding
SHAPES = [[(6, 0.0), (3, 0.34)], [(4, 1.0), (9, 0.5)]]


def _micro_batches(seed: int) -> list[list[tuple[Any, Any]]]:
    rng = np.random.default_rng(seed)
    ranks = []
    for shapes in SHAPES:
        batches = []
        for rows, padded in shapes:
            x = torch.tensor(rng.normal(size=(rows, HIDDEN)))
            y = torch.tensor(rng.integers(0, CLASSES, size=rows))
            y[: round(padded * rows)] = -100
            batches.append((x, y))
        ranks.append(batches)
    return ranks


def _accumulate(rank: int, world_size: int, seed: int) -> dict[str, Any]:
    import torch.distributed as dist
    from torch.nn.parallel import DistributedDataParallel

    ranks = _micro_batches(seed)
    torch.manual_seed(seed)
    model = torch.nn.Linear(HIDDEN, CLASSES, dtype=torch.float64)
    # the reference: the mean over every rank's every row, in one process
    x_all = torch.cat([x for batches in ranks for x, _ in batches])
    y_all = torch.cat([y for batches in ranks for _, y in batches])
    reference = torch.nn.Linear(HIDDEN, CLASSES, dtype=torch.float64)
    reference.load_state_dict(model.state_dict())
    crossent.cross_entropy(reference(x_all), y_all, ignore_index=-100).backward()

    calls: list[tuple[int, ...]] = []
    all_reduce = dist.all_reduce

    def counted(tensor: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append(tuple(tensor.shape))
        return all_reduce(tensor, *args, **kwargs)

    mine = ranks[rank]
    dist.all_reduce = counted
    try:
        total = loss_denominator([y for _, y in mine], ignore_index=-100, world_average=True, dtype=torch.float64)
    finally:
        dist.all_reduce = all_reduce
    local_count = float(sum(int((y != -100).sum()) for _, y in mine))
    errors = {}
    for variant in ("mean of means", "local count", "crossent"):
        ddp = DistributedDataParallel(torch.nn.Linear(HIDDEN, CLASSES, dtype=torch.float64))
        ddp.module.load_state_dict(model.state_dict())
        for k, (x, y) in enumerate(mine):
            sync = contextlib.nullcontext() if k == len(mine) - 1 else ddp.no_sync()
            with sync:
                logits = ddp(x)
                if variant == "mean of means":
                    loss = crossent.cross_entropy(logits, y, ignore_index=-100) / len(mine)
                elif variant == "local count":
                    loss = crossent.cross_entropy(logits, y, ignore_index=-100, reduction="sum") / local_count
                else:
                    loss = crossent.cross_entropy(logits, y, ignore_index=-100, denominator=total)
                loss.backward()
        errors[variant] = max(float((ddp.module.weight.grad - reference.weight.grad).abs().max()),
                              float((ddp.module.bias.grad - reference.bias.grad).abs().max()))
    return {"errors": errors, "total": float(total), "collectives": calls}


def test_gradient_accumulation_under_ddp_is_exact() -> None:
    results = distributed.run(2, _accumulate, 0)
    rows = sum(r - round(p * r) for shapes in SHAPES for r, p in shapes)  # (as _micro_batches rounds)
    for result in results:
        errors = result["errors"]
        assert errors["crossent"] <= 1e-12, errors
        assert errors["mean of means"] > 1e-2, errors  # the transformers bug of 2024
        assert errors["local count"] > 1e-3, errors
        assert result["total"] == rows / 2  # world_average: the global count over the world size
        assert result["collectives"] == [()], "one all_reduce of one number"
    assert results[0]["errors"] == results[1]["errors"]


def test_modules_take_the_denominator_per_call() -> None:
    from crossent.torch import BinaryFocalLoss, CrossEntropyLoss

    z, y = torch.randn(2, 5, 3), torch.randint(0, 5, (2, 3))  # PyTorch's layout: classes on axis 1
    criterion = CrossEntropyLoss(label_smoothing=0.1)
    torch.testing.assert_close(criterion(z, y, denominator=torch.tensor(10.0)),
                               crossent.cross_entropy(z, y, axis=1, label_smoothing=0.1, reduction="sum") / 10.0)
    zb, yb = torch.randn(4, 2), (torch.rand(4, 2) < 0.5).float()
    torch.testing.assert_close(BinaryFocalLoss()(zb, yb, denominator=3.0),
                               crossent.binary_focal_loss(zb, yb, reduction="sum") / 3.0)
