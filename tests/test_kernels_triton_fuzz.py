"""The Triton kernels at the limits and under random option mixes, against the generic path.

Run on CPU tensors under Triton's interpreter (see tests/test_kernels_triton_losses.py, whose
``run_both`` sends one call through the Triton branch, a spy checking it was taken, and through the
generic path): first the non-finite rows that tests/test_robustness_losses.py holds the Numba
kernels to (a +inf logit is its limit, two have none, all -inf rows, masked classes, full label
smoothing against a -inf label, NaN logits, binary cross-entropy at ±inf), then random mixes of
every option the Triton kernels take, small enough for the interpreter (about 25 ms a row).
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
import pytest

pytest.importorskip("triton")
torch = pytest.importorskip("torch")

import crossent  # noqa: E402
from conftest import rtol  # noqa: E402
from test_kernels_triton_losses import _triton, close, run_both  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning:triton.*")

INF, NAN = float("inf"), float("nan")


def both(monkeypatch: pytest.MonkeyPatch, loss: str, z: list[list[float]] | list[float], y: list[Any],
         **options: Any) -> tuple[tuple[np.ndarray, np.ndarray, np.ndarray], ...]:
    """(per-sample values, value_and_grad's gradient, backward's gradient) of the "none" reduction
    (backward of the sum of the finite values), through the Triton branch and the generic path."""
    function = getattr(crossent, loss)
    x = torch.tensor(z, dtype=torch.float32)
    target = torch.tensor(y) if loss != "binary_cross_entropy" else torch.tensor(y, dtype=torch.float32)

    def call() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        _, grad = crossent.value_and_grad(function, x, target, reduction="none", **options)
        leaf = x.clone().requires_grad_()
        values = function(leaf, target, reduction="none", **options)
        values[torch.isfinite(values)].sum().backward()
        return values.detach().numpy(), grad.numpy(), leaf.grad.numpy()

    return run_both(monkeypatch, call)


def same(actual: np.ndarray, expected: np.ndarray, what: str) -> None:
    """Equal to float32's tolerance, inf for inf and NaN for NaN."""
    np.testing.assert_allclose(actual, expected, rtol=rtol(np.float32), atol=1e-6, equal_nan=True, err_msg=what)


def agree(fused: tuple[np.ndarray, ...], generic: tuple[np.ndarray, ...], rows: list[int] | None = None) -> None:
    """Values and value_and_grad's gradients agree in every row; backward's wherever the loss is
    finite (where it is not, the generic path's autograd gives 0, its closed form and the kernels
    the limit of the closed form)."""
    same(fused[0], generic[0], "values")
    same(fused[1], generic[1], "value_and_grad's gradient")
    finite = np.isfinite(generic[0]) if rows is None else np.isin(np.arange(len(generic[0])), rows)
    same(fused[2][finite], generic[2][finite], "backward's gradient")
    same(fused[2][finite], fused[1][finite], "backward against value_and_grad")


# --- the limits (as tests/test_robustness_losses.py for the Numba kernels) ---------------------------

def test_focal_with_a_masked_class(monkeypatch: pytest.MonkeyPatch) -> None:
    fused, generic = both(monkeypatch, "focal_loss", [[2.0, -INF, 0.5], [0.0, 1.0, -INF]], [0, 1], gamma=2.0)
    agree(fused, generic)
    assert np.all(np.isfinite(fused[1])) and fused[1][0] == pytest.approx([-0.01703111, 0.0, 0.01703111], abs=1e-6)


@pytest.mark.parametrize("options", [{}, {"label_smoothing": 0.1}, {"gamma": 2.0}, {"z_loss": 0.1},
                                     {"gamma": 2.0, "label_smoothing": 0.1}, {"weight": "class"}])
def test_a_row_of_all_minus_inf_logits(monkeypatch: pytest.MonkeyPatch, options: dict[str, Any]) -> None:
    loss = "focal_loss" if "gamma" in options else "cross_entropy"
    if options.get("weight") == "class":
        options = {"weight": torch.tensor([2.0, 0.5])}
    z = [[-INF, -INF], [0.0, 1.0]]
    fused, generic = both(monkeypatch, loss, z, [0, 1], **options)
    assert fused[0][0] == generic[0][0] == INF and np.isfinite(fused[0][1])  # -log 0 = inf, never NaN
    agree(fused, generic)
    # ignored, the row counts for nothing: value and gradient 0 on both paths
    fused, generic = both(monkeypatch, loss, z, [-1, 1], ignore_index=-1, **options)
    agree(fused, generic)
    assert fused[0][0] == 0 and np.all(fused[1][0] == 0) and np.all(fused[2][0] == 0)


def test_full_label_smoothing_against_a_minus_inf_label_logit(monkeypatch: pytest.MonkeyPatch) -> None:
    fused, generic = both(monkeypatch, "cross_entropy", [[-INF, 0.0], [0.0, 0.0]], [0, 0], label_smoothing=1.0)
    assert fused[0][0] == generic[0][0] == INF  # ỹ = 1/C on the -inf class
    agree(fused, generic)
    fused, generic = both(monkeypatch, "cross_entropy", [[-INF, 0.0]], [1], label_smoothing=0.0)
    assert np.isfinite(fused[0][0])
    agree(fused, generic)


@pytest.mark.parametrize(("row", "label", "expected"), [
    ([INF, 0.5], 0, 0.0), ([INF, 0.5], 1, INF), ([0.5, INF, -INF], 1, 0.0), ([-INF, INF, -INF], 0, INF),
])
@pytest.mark.parametrize("options", [{}, {"gamma": 2.0}, {"z_loss": 0.1}, {"weight": "class"}], ids=str)
def test_a_plus_inf_logit_is_its_limit(monkeypatch: pytest.MonkeyPatch, row: list[float], label: int,
                                       expected: float, options: dict[str, Any]) -> None:
    loss = "focal_loss" if "gamma" in options else "cross_entropy"
    if options.get("weight") == "class":
        options = {"weight": torch.linspace(0.5, 2.0, len(row))}
    fused, generic = both(monkeypatch, loss, [row, [0.0] * len(row)], [label, 0], **options)
    assert fused[0][0] == pytest.approx(expected) and generic[0][0] == pytest.approx(expected)
    assert np.all(np.isfinite(fused[1]))
    agree(fused, generic)


def test_a_plus_inf_logit_under_smoothing_and_soft_capping(monkeypatch: pytest.MonkeyPatch) -> None:
    # smoothing gives the other classes (p = 0) a weight: inf; soft-capping makes the logit finite
    fused, generic = both(monkeypatch, "cross_entropy", [[INF, 0.5, -1.0]], [0], label_smoothing=0.1)
    assert fused[0][0] == INF
    agree(fused, generic)
    fused, generic = both(monkeypatch, "cross_entropy", [[INF, 0.5, -1.0]], [0], logit_softcap=5.0)
    assert np.isfinite(fused[0][0])
    agree(fused, generic)


@pytest.mark.parametrize("options", [{}, {"gamma": 2.0, "label_smoothing": 0.1}])
def test_two_plus_inf_logits_have_no_limit(monkeypatch: pytest.MonkeyPatch, options: dict[str, Any]) -> None:
    loss = "focal_loss" if "gamma" in options else "cross_entropy"
    fused, generic = both(monkeypatch, loss, [[INF, INF, 0.0], [0.0, 0.0, 0.0]], [0, 0], **options)
    assert np.isnan(fused[0][0]) and np.all(np.isnan(fused[1][0])) and np.isfinite(fused[0][1])
    agree(fused, generic)
    # the mean's denominator is the row's weight, not NaN: the other row's gradient stays finite there
    (value, grad), (value0, grad0) = run_both(monkeypatch, lambda: crossent.value_and_grad(
        getattr(crossent, loss), torch.tensor([[INF, INF, 0.0], [0.0, 1.0, 2.0]]), torch.tensor([0, 1]), **options))
    assert np.isnan(float(value)) and np.isnan(float(value0))
    same(grad.numpy(), grad0.numpy(), "mean's gradient")
    assert np.all(np.isfinite(grad.numpy()[1]))


@pytest.mark.parametrize("loss", ["cross_entropy", "focal_loss"])
def test_nan_logits_give_their_row_nan(monkeypatch: pytest.MonkeyPatch, loss: str) -> None:
    fused, generic = both(monkeypatch, loss, [[NAN, 0.0, 1.0], [0.0, 1.0, 2.0]], [1, 2])
    assert np.isnan(fused[0][0]) and np.all(np.isnan(fused[1][0])) and np.isfinite(fused[0][1])
    agree(fused, generic, rows=[1])


@pytest.mark.parametrize(("z", "y", "expected"), [(INF, 1.0, 0.0), (-INF, 0.0, 0.0), (INF, 0.0, INF),
                                                  (-INF, 1.0, INF), (NAN, 1.0, NAN)])
def test_binary_cross_entropy_at_infinite_logits(monkeypatch: pytest.MonkeyPatch, z: float, y: float,
                                                 expected: float) -> None:
    fused, generic = both(monkeypatch, "binary_cross_entropy", [z, 0.5], [y, 1.0])
    same(fused[0][:1], np.array([expected]), "value")  # (z = +inf, y = 1 was NaN)
    agree(fused, generic)
    if not np.isnan(z):
        assert np.all(np.isfinite(fused[1]))
    fused, generic = both(monkeypatch, "binary_cross_entropy", [z, 0.5], [y, 1.0], label_smoothing=0.1,
                          pos_weight=torch.tensor(2.0))
    agree(fused, generic)


# --- random option mixes -----------------------------------------------------------------------

MIXES = 240  # softmax mixes; each costs the interpreter about 25 ms a row, so rows are few
BINARY_MIXES = 60
DTYPES = [torch.float32, torch.float16, torch.bfloat16]


def random_mix(seed: int) -> tuple[Any, torch.Tensor, torch.Tensor, dict[str, Any], int]:
    """A random softmax call the Triton branch takes: loss, logits (some large, masked, +inf or
    all -inf rows), labels, options, and the block size the kernel sweeps rows in."""
    rng = np.random.default_rng([13, seed])
    n, c = int(rng.integers(1, 7)), int(rng.integers(1, 41))
    focal = rng.random() < 0.4
    options: dict[str, Any] = {"gamma": float(rng.choice([0.5, 1.0, 2.0, 3.0]))} if focal else {}
    if rng.random() < 0.4:
        options["weight"] = torch.tensor(rng.uniform(0.1, 2.0, size=c), dtype=torch.float32)
    if rng.random() < 0.4:
        options["sample_weight"] = torch.tensor(rng.uniform(0.0, 2.0, size=n), dtype=torch.float32)
    if rng.random() < 0.3:
        options["ignore_index"] = -100
    if rng.random() < 0.5:
        options["label_smoothing"] = float(rng.choice([0.05, 0.1, 0.5, 1.0]))
    if not focal and rng.random() < 0.3:
        options["z_loss"] = float(rng.choice([1e-4, 1e-2]))
    if not focal and rng.random() < 0.3:
        options["logit_softcap"] = float(rng.choice([1.0, 5.0, 30.0]))
    if rng.random() < 0.2:
        options["base"] = 2
    z = rng.normal(scale=float(rng.choice([1.0, 5.0, 50.0])), size=(n, c))
    labels = rng.integers(0, c, size=n)
    if c > 2 and rng.random() < 0.3:  # a masked class, never a label
        z[:, -1] = -np.inf
        labels = np.where(labels == c - 1, 0, labels)
    if rng.random() < 0.15:  # a row at a +inf limit
        z[0, int(rng.integers(c))] = np.inf
    if n > 1 and rng.random() < 0.1:  # a row of -inf logits
        z[-1] = -np.inf
    if "ignore_index" in options:
        labels[rng.random(n) < 0.3] = -100
    dtype = DTYPES[int(rng.choice(3, p=[0.6, 0.2, 0.2]))]
    block = int(rng.choice([4, 8, 16, 4096]))  # several sweep blocks per row, or one
    return (crossent.focal_loss if focal else crossent.cross_entropy, torch.tensor(z, dtype=torch.float32).to(dtype),
            torch.tensor(labels), options, block)


def disagreement(actual: torch.Tensor, expected: torch.Tensor) -> float:
    """max |actual - expected| over max |expected|, on the finite entries of expected (NaN and inf
    where they are expected, else inf)."""
    a, e = actual.detach().double().numpy(), expected.detach().double().numpy()
    finite = np.isfinite(e)
    if not np.array_equal(np.isnan(a), np.isnan(e)) or not np.array_equal(a[np.isinf(e)], e[np.isinf(e)]):
        return INF
    scale = max(float(np.abs(e[finite]).max(initial=0.0)), 1e-30)
    return float(np.abs(a[finite] - e[finite]).max(initial=0.0)) / scale


def _largest(worst: list[tuple[float, int, str, torch.dtype]], record_property: Any) -> None:
    """Record the largest disagreement of each dtype, in units of its eps, and bound it: 16 of
    float32's (both paths accumulate in float32, in other orders), 4 of a half-precision dtype's
    (the kernel rounds its gradient to it, the generic path rounds the float32 one)."""
    for dtype in DTYPES:
        mine = sorted((w for w in worst if w[3] == dtype), reverse=True)
        if not mine:
            continue
        eps = float(torch.finfo(dtype).eps)
        record_property(f"largest_disagreement_{dtype}".replace("torch.", ""), (mine[0][0] / eps, *mine[0][1:3]))
        assert mine[0][0] <= (16 if dtype == torch.float32 else 4) * eps, (dtype, mine[:3])


def test_random_softmax_mixes_against_the_generic_path(monkeypatch: pytest.MonkeyPatch,
                                                       record_property: Any) -> None:
    worst: list[tuple[float, int, str, torch.dtype]] = []
    for seed in range(MIXES):
        loss, z, labels, options, block = random_mix(seed)
        monkeypatch.setattr(_triton, "MAX_BLOCK", block)
        reduction = ["mean", "sum", "none"][seed % 3]
        (value, grad), (value0, grad0) = run_both(monkeypatch, functools.partial(
            crossent.value_and_grad, loss, z, labels, reduction=reduction, **options))
        close(value, value0, torch.float32)
        close(grad, grad0, z.dtype)
        worst.append((max(disagreement(value, value0), disagreement(grad, grad0)), seed,
                      f"{loss.__name__} {tuple(z.shape)} {reduction} {sorted(options)}", z.dtype))
    _largest(worst, record_property)


def test_random_binary_mixes_against_the_generic_path(monkeypatch: pytest.MonkeyPatch,
                                                      record_property: Any) -> None:
    worst: list[tuple[float, int, str, torch.dtype]] = []
    for seed in range(BINARY_MIXES):
        rng = np.random.default_rng([17, seed])
        shape = tuple(int(k) for k in rng.integers(1, 9, size=int(rng.integers(1, 3))))
        z = rng.normal(scale=float(rng.choice([1.0, 10.0, 100.0])), size=shape)
        if rng.random() < 0.3:
            z.reshape(-1)[0] = rng.choice([np.inf, -np.inf])
        y = (rng.random(shape) < 0.5) if rng.random() < 0.5 else rng.random(shape)
        options: dict[str, Any] = {}
        if rng.random() < 0.5:
            options["pos_weight"] = torch.tensor(rng.uniform(0.5, 3.0, size=shape[-1:]), dtype=torch.float32)
        if rng.random() < 0.5:
            options["label_smoothing"] = float(rng.choice([0.05, 0.2]))
        if rng.random() < 0.5:
            options["sample_weight"] = torch.tensor(rng.uniform(0.0, 2.0, size=shape), dtype=torch.float32)
        dtype = DTYPES[seed % 3]
        x = torch.tensor(z, dtype=torch.float32).to(dtype)
        target = torch.tensor(y, dtype=torch.float32)
        reduction = ["mean", "sum", "none"][seed % 3]
        (value, grad), (value0, grad0) = run_both(monkeypatch, functools.partial(
            crossent.value_and_grad, crossent.binary_cross_entropy, x, target, reduction=reduction, **options))
        close(value, value0, torch.float32)
        close(grad, grad0, dtype)
        worst.append((max(disagreement(value, value0), disagreement(grad, grad0)), seed,
                      f"{shape} {reduction} {sorted(options)}", dtype))
    _largest(worst, record_property)
