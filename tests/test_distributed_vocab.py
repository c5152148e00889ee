"""Vocabulary-parallel cross-entropy on gloo ranks: every rank holds a slice of the classes.

At world sizes 1 to 4, with C not divisible by the world size, the sharded loss equals the
unsharded crossent loss of the concatenated logits in float64 (value and each rank's slice of
the gradient, to 1e-12) for every option combination, is bitwise the same on every rank, and
takes exactly the collectives its docstring promises (counted by wrapping torch.distributed's),
none in the backward pass. ``linear_cross_entropy(..., shard=)`` likewise, its hidden-state
gradient reduced once in the backward pass or left partial. Each world size runs all of its
cases in one ``distributed.run``.
"""

from __future__ import annotations

import contextlib
import itertools
import math
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

import crossent

torch = pytest.importorskip("torch")
import torch.distributed as dist  # noqa: E402

import distributed  # noqa: E402
from crossent.losses._categorical import _softmax_loss  # noqa: E402
from crossent.torch.distributed import VocabShard, vocab_parallel_cross_entropy  # noqa: E402

WORLD_SIZES = (1, 2, 3, 4)
COLLECTIVES = ("all_reduce", "all_gather", "all_gather_into_tensor", "reduce_scatter", "reduce_scatter_tensor",
               "broadcast", "reduce", "all_to_all", "all_to_all_single", "gather", "scatter")
DTYPES = {"float64": torch.float64, "float32": torch.float32, "bfloat16": torch.bfloat16}


# ---------------------------------------------------------------------------------------------
# the cases: inputs made here, in float64 NumPy, and sent to every rank


def _case(seed: int, num_classes: int, options: dict[str, Any], *, layout: str = "balanced",
          dtype: str = "float64", batch: tuple[int, ...] = (7,), scale: float = 2.0,
          targets: str = "random") -> dict[str, Any]:
    """Full logits ``[*batch, C]`` (rounded to ``dtype``), targets with classes 0 and C-1 among
    them ("random"), or only those two ("ends": the middle shards hold no target), weights, a
    cotangent for the backward pass."""
    rng = np.random.default_rng(seed)
    n = math.prod(batch)
    logits = rng.normal(scale=scale, size=(n, num_classes))
    if scale >= 1e3:  # ±1e4: every logit at one of two extremes, a little apart
        logits = np.sign(logits) * 1e4 + rng.normal(size=logits.shape)
    logits = torch.from_numpy(logits).to(DTYPES[dtype]).double().numpy()  # the values the ranks see
    y = rng.integers(0, num_classes, size=n) if targets == "random" else rng.choice([0, num_classes - 1], size=n)
    y[0], y[1] = 0, num_classes - 1
    options = dict(options)
    if options.get("ignore_index") is not None:
        y[2::4] = options["ignore_index"]
    if options.get("weight") == "w":
        w = rng.uniform(0.2, 2.0, size=num_classes)
        w[num_classes // 2] = 0.0  # a class of weight 0
        options["weight"] = w
    if options.get("sample_weight") == "s":
        s = rng.uniform(0.0, 2.0, size=batch)
        s.reshape(-1)[3] = 0.0
        options["sample_weight"] = s
    reduction = options.get("reduction", "mean")
    cotangent = rng.normal(size=batch) if reduction == "none" else 0.75
    return {"logits": logits.reshape(*batch, num_classes), "target": y.reshape(batch), "options": options,
            "layout": layout, "dtype": dtype, "cotangent": cotangent, "num_classes": num_classes}


def _option_cases() -> list[dict[str, Any]]:
    """Every reduction × focal γ × label smoothing, each with its own draw of the other options
    (z-loss, soft-cap, class and sample weights, ignore_index, base, denominator), at C = 11 and 13."""
    cases = []
    for i, (reduction, gamma, smoothing, num_classes) in enumerate(
            itertools.product(("mean", "sum", "none"), (0.0, 2.0, 0.5), (0.0, 0.1), (11, 13))):
        rng = np.random.default_rng(1000 + i)
        options: dict[str, Any] = {"reduction": reduction, "gamma": gamma, "label_smoothing": smoothing}
        if rng.uniform() < 0.5:
            options["z_loss"] = 0.05
        if rng.uniform() < 0.5:
            options["logit_softcap"] = 2.5
        if rng.uniform() < 0.5:
            options["weight"] = "w"
        if rng.uniform() < 0.5:
            options["sample_weight"] = "s"
        options["ignore_index"] = (None, 3, -100)[i % 3]
        if rng.uniform() < 0.3:
            options["base"] = 2
        batch = (7,) if i % 2 else (2, 3)
        cases.append(_case(i, num_classes, options, batch=batch))
    every = {"weight": "w", "sample_weight": "s", "ignore_index": 4, "label_smoothing": 0.2, "z_loss": 0.1,
             "logit_softcap": 3.0, "base": 10}
    cases += [_case(90, 13, {**every, "gamma": 2.0}), _case(91, 13, {**every, "gamma": 1.5, "reduction": "none"}),
              _case(92, 11, {"label_smoothing": 1.0, "weight": "w"}),
              _case(93, 11, {"label_smoothing": 1.0, "gamma": 2.0})]
    # denominator=: a number, 0 (value 0, gradient 0), a 0-d tensor; with weights and smoothing
    for j, denominator in enumerate((7.5, 0.0, ("tensor", 5.0), ("tensor", 0.0))):
        cases.append(_case(100 + j, 11, {"denominator": denominator, "label_smoothing": 0.1, "weight": "w",
                                         "sample_weight": "s", "ignore_index": 3, "gamma": (0.0, 2.0)[j % 2]}))
    # targets only at 0 and C-1, so that the middle shards hold none; the other layouts, an empty shard
    # ("ceil" of 9 over 4 ranks: [9, 9)), C divisible by every world size ("equal")
    cases += [_case(110, 13, {"label_smoothing": 0.1}, targets="ends"),
              _case(111, 13, {"gamma": 2.0, "label_smoothing": 0.1, "weight": "w"}, targets="ends"),
              _case(112, 9, {"label_smoothing": 0.1, "z_loss": 0.05}, layout="ceil"),
              _case(113, 9, {"gamma": 2.0, "label_smoothing": 0.1, "reduction": "none"}, layout="ceil"),
              _case(114, 11, {"weight": "w", "ignore_index": 0}, layout="ceil"),
              _case(115, 12, {"label_smoothing": 0.1, "sample_weight": "s"}, layout="equal")]
    return cases


def _extreme_cases() -> list[dict[str, Any]]:
    """Logits of ±1e4 with label smoothing (z - m of -2e4 summed over the classes), in each dtype."""
    options: dict[str, Any] = {"label_smoothing": 0.1, "weight": "w"}
    return [_case(200, 11, options, scale=1e4), _case(201, 11, {**options, "reduction": "none"}, scale=1e4),
            _case(202, 13, {**options, "gamma": 2.0}, scale=1e4),
            _case(203, 11, options, scale=1e4, dtype="float32"),
            _case(204, 11, {**options, "z_loss": 1e-4}, dtype="bfloat16")]


# ---------------------------------------------------------------------------------------------
# on each rank


@contextlib.contextmanager
def _recording(log: list[tuple[str, str, int]]) -> Iterator[None]:
    """Every collective of torch.distributed called meanwhile, as (name, op, number of elements)."""
    saved = {name: getattr(dist, name) for name in COLLECTIVES if hasattr(dist, name)}

    def wrap(name: str, function: Any) -> Any:
        def call(tensor: Any, *args: Any, **kwargs: Any) -> Any:
            op = kwargs.get("op", args[0] if args and name == "all_reduce" else dist.ReduceOp.SUM)
            ops = {dist.ReduceOp.MAX: "max", dist.ReduceOp.SUM: "sum"}
            size = tensor.numel() if isinstance(tensor, torch.Tensor) else -1
            log.append((name, next((v for k, v in ops.items() if op == k), str(op)), size))
            return function(tensor, *args, **kwargs)

        return call

    for name, function in saved.items():
        setattr(dist, name, wrap(name, function))
    try:
        yield
    finally:
        for name, function in saved.items():
            setattr(dist, name, function)


def _tensor_options(options: dict[str, Any], dtype: torch.dtype) -> dict[str, Any]:
    out = {}
    for key, value in options.items():
        if isinstance(value, np.ndarray):
            value = torch.from_numpy(value).to(dtype)
        elif isinstance(value, tuple) and value[0] == "tensor":
            value = torch.tensor(value[1], dtype=dtype)
        out[key] = value
    return out


def _run_vocab_cases(rank: int, world_size: int, cases: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each case's loss, this rank's gradient slice and the collectives of each pass, on this rank."""
    results = []
    for case in cases:
        dtype = DTYPES[case["dtype"]]
        shard = VocabShard.from_group(case["num_classes"], layout=case["layout"])
        x = torch.from_numpy(case["logits"][..., shard.start:shard.stop].copy()).to(dtype).requires_grad_()
        options = _tensor_options(case["options"], torch.float64 if dtype == torch.float64 else torch.float32)
        forward: list[tuple[str, str, int]] = []
        backward: list[tuple[str, str, int]] = []
        with _recording(forward):
            loss = vocab_parallel_cross_entropy(x, torch.from_numpy(case["target"]), shard=shard, **options)
        cotangent = torch.as_tensor(case["cotangent"], dtype=loss.dtype)
        with _recording(backward):
            (loss * cotangent).sum().backward()
        assert x.grad is not None
        results.append({"loss": loss.detach().numpy(), "grad": x.grad.double().numpy(), "start": shard.start,
                        "stop": shard.stop, "forward": forward, "backward": backward,
                        "loss_dtype": str(loss.dtype), "grad_dtype": str(x.grad.dtype)})
    return results


# ---------------------------------------------------------------------------------------------
# the reference: the unsharded loss of the full logits, in float64, with torch autograd


def _reference(case: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """crossent's value and gradient (of Σ cotangent · loss) on the full float64 logits:
    cross_entropy for γ = 0, focal_loss for γ > 0, their common core where focal takes z-loss
    or soft-capping (which focal_loss does not expose)."""
    x = torch.from_numpy(case["logits"].copy()).requires_grad_()
    y = torch.from_numpy(case["target"])
    options = _tensor_options(case["options"], torch.float64)
    denominator = options.pop("denominator", None)
    if isinstance(denominator, torch.Tensor):
        denominator = float(denominator)
    gamma = options.pop("gamma", 0.0)
    if denominator is not None:
        options["reduction"] = "sum"
    if not gamma:
        value = crossent.cross_entropy(x, y, **options)
    elif "z_loss" not in options and "logit_softcap" not in options:
        value = crossent.focal_loss(x, y, gamma=gamma, **options)
    else:
        value = _softmax_loss(x, y, gamma=gamma, **options, grad=False)[0]
    if denominator is not None:
        value = value / denominator if denominator > 0 else value * 0.0
    (value * torch.as_tensor(case["cotangent"])).sum().backward()
    assert x.grad is not None
    return value.detach().numpy(), x.grad.numpy()


def _tolerance(dtype: str) -> float:
    return 1e-12 if dtype == "float64" else 4 * math.sqrt(float(torch.finfo(torch.float32).eps))


def _expected_collectives(case: dict[str, Any]) -> list[tuple[str, str, int]]:
    n = math.prod(case["target"].shape)
    options = case["options"]
    smoothing = bool(options.get("label_smoothing"))
    expected = [("all_reduce", "max", n + 2), ("all_reduce", "sum", (3 if smoothing else 2) * n + 1)]
    if smoothing and options.get("gamma"):
        expected.append(("all_reduce", "sum", 2 * n))
    return expected


def _check(case: dict[str, Any], results: list[dict[str, Any]], world_size: int) -> None:
    value, grad = _reference(case)
    tolerance = _tolerance(case["dtype"])
    first = results[0]["loss"]
    covered = 0
    for rank, result in enumerate(results):
        where = f"rank {rank} of {world_size}, options {case['options']}, {case['dtype']}"
        assert result["loss"].tobytes() == first.tobytes(), f"the loss differs between ranks 0 and {rank}"
        assert np.all(np.isfinite(result["loss"])), where
        np.testing.assert_allclose(result["loss"], value, rtol=tolerance, atol=tolerance, err_msg=where)
        start, stop = result["start"], result["stop"]
        assert start == covered, where
        covered = stop
        expected_grad = grad[..., start:stop]
        grad_tolerance = tolerance if case["dtype"] != "bfloat16" else 2.0**-7
        np.testing.assert_allclose(result["grad"], expected_grad, rtol=grad_tolerance,
                                   atol=grad_tolerance * max(1.0, float(np.abs(grad).max())), err_msg=where)
        assert result["forward"] == _expected_collectives(case), where
        assert result["backward"] == [], where
        assert result["loss_dtype"] == ("torch.float64" if case["dtype"] == "float64" else "torch.float32")
        assert result["grad_dtype"] == str(DTYPES[case["dtype"]])
    assert covered == case["num_classes"]


@pytest.mark.parametrize("world_size", WORLD_SIZES)
def test_vocab_parallel_equals_the_unsharded_loss(world_size: int) -> None:
    cases = _option_cases() + _extreme_cases()
    per_rank = distributed.run(world_size, _run_vocab_cases, cases)
    for i, case in enumerate(cases):
        _check(case, [results[i] for results in per_rank], world_size)


def test_ceil_cuts_an_empty_shard_for_the_cases_at_4_ranks() -> None:
    # "ceil" cuts 9 classes over 4 ranks as 3, 3, 3, 0: the C = 9 cases above run with an empty shard
    assert [VocabShard(*_bounds_of(9, 4, r, "ceil"), 9).size for r in range(4)] == [3, 3, 3, 0]


def _bounds_of(num_classes: int, world_size: int, rank: int, layout: str) -> tuple[int, int]:
    from crossent.torch.distributed._vocab import _bounds

    return _bounds(num_classes, world_size, rank, layout)


def test_layouts() -> None:
    def sizes(c: int, w: int, layout: str) -> list[int]:
        bounds = [_bounds_of(c, w, r, layout) for r in range(w)]
        assert bounds[0][0] == 0 and bounds[-1][1] == c
        assert all(a[1] == b[0] for a, b in itertools.pairwise(bounds))
        return [stop - start for start, stop in bounds]

    assert sizes(11, 4, "balanced") == [3, 3, 3, 2]
    assert sizes(13, 4, "balanced") == [4, 3, 3, 3]
    assert sizes(13, 4, "ceil") == [4, 4, 4, 1]
    assert sizes(12, 3, "equal") == [4, 4, 4]
    with pytest.raises(ValueError, match=r"num_classes=13 and a world size of 4"):
        sizes(13, 4, "equal")


def test_the_gradient_is_not_doubled_at_world_size_2() -> None:
    """torch.distributed.nn.functional.all_reduce's backward sums the ranks' identical gradients:
    at 2 ranks the naive sharded loss gets exactly 2× the true gradient. This loss gets 1×."""
    case = _case(300, 11, {"label_smoothing": 0.1})
    _, grad = _reference(case)
    for rank, (naive, ours, start, stop) in enumerate(distributed.run(2, _naive_and_ours, case)):
        np.testing.assert_allclose(naive, 2 * grad[..., start:stop], rtol=1e-12, atol=1e-15, err_msg=f"rank {rank}")
        np.testing.assert_allclose(ours, grad[..., start:stop], rtol=1e-12, atol=1e-15, err_msg=f"rank {rank}")


def _naive_and_ours(rank: int, world_size: int, case: dict[str, Any]) -> tuple[np.ndarray, ...]:
    """The gradient of the sharded loss written with the differentiable all_reduce, and of ours."""
    from torch.distributed.nn.functional import all_reduce as differentiable_all_reduce

    shard = VocabShard.from_group(case["num_classes"])
    y = torch.from_numpy(case["target"])
    eps, c = case["options"]["label_smoothing"], case["num_classes"]
    x = torch.from_numpy(case["logits"][..., shard.start:shard.stop].copy()).requires_grad_()
    top = x.detach().amax(dim=1)
    dist.all_reduce(top, op=dist.ReduceOp.MAX)
    d = x - top[:, None]
    owner = (y >= shard.start) & (y < shard.stop)
    target = torch.where(owner, d.gather(1, torch.where(owner, y - shard.start, 0)[:, None])[:, 0], 0.0)
    s = differentiable_all_reduce(torch.exp(d).sum(dim=1))
    target = differentiable_all_reduce(target)
    total = differentiable_all_reduce(d.sum(dim=1))
    log_s = torch.log(s)
    loss = ((1 - eps) * (log_s - target) + (eps / c) * (c * log_s - total)).mean()
    (loss * case["cotangent"]).backward()
    assert x.grad is not None
    naive = x.grad.numpy().copy()
    x.grad = None
    (vocab_parallel_cross_entropy(x, y, shard=shard, label_smoothing=eps) * case["cotangent"]).backward()
    return naive, x.grad.numpy(), shard.start, shard.stop


# ---------------------------------------------------------------------------------------------
# linear_cross_entropy with shard=: the fused, chunked vocabulary-parallel path


def _linear_case(seed: int, num_classes: int, options: dict[str, Any], *, chunk_size: int | None = None,
                 bias: bool = True, reduce_hidden_grad: bool = True, layout: str = "balanced",
                 n: int = 9, features: int = 5) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    case = _case(seed, num_classes, options, layout=layout, batch=(n,))
    case.pop("logits")
    case.update(hidden=rng.normal(size=(n, features)), weight=rng.normal(scale=0.7, size=(num_classes, features)),
                bias=rng.normal(size=num_classes) if bias else None, chunk_size=chunk_size,
                reduce_hidden_grad=reduce_hidden_grad)
    if "weight" in case["options"]:
        case["options"]["class_weight"] = case["options"].pop("weight")
    return case


def _linear_cases() -> list[dict[str, Any]]:
    every = {"weight": "w", "sample_weight": "s", "ignore_index": 3, "label_smoothing": 0.1, "z_loss": 0.05,
             "logit_softcap": 3.0}
    return [
        _linear_case(400, 11, {}),
        _linear_case(401, 13, every, chunk_size=4),  # 3 chunks: 2 collectives each
        _linear_case(402, 13, {**every, "reduction": "none", "base": 2}, chunk_size=4),
        _linear_case(403, 11, {**every, "reduction": "sum"}, reduce_hidden_grad=False, bias=False),
        _linear_case(404, 11, {**every, "reduction": "none"}, reduce_hidden_grad=False, chunk_size=5),
        _linear_case(405, 11, {"label_smoothing": 0.2, "denominator": 6.5}, chunk_size=4),
        _linear_case(406, 11, {"weight": "w", "denominator": ("tensor", 0.0)}),
        _linear_case(407, 9, {"label_smoothing": 0.1}, layout="ceil", chunk_size=4),  # an empty shard at 4 ranks
    ]


def _run_linear_cases(rank: int, world_size: int, cases: list[dict[str, Any]]) -> list[dict[str, Any]]:
    from crossent.torch import linear_cross_entropy

    results = []
    for case in cases:
        shard = VocabShard.from_group(case["num_classes"], layout=case["layout"])
        hidden = torch.from_numpy(case["hidden"]).requires_grad_()
        weight = torch.from_numpy(case["weight"][shard.start:shard.stop].copy()).requires_grad_()
        bias = None if case["bias"] is None else torch.from_numpy(case["bias"][shard.start:shard.stop].copy())
        if bias is not None:
            bias.requires_grad_()
        forward: list[tuple[str, str, int]] = []
        backward: list[tuple[str, str, int]] = []
        with _recording(forward):
            loss = linear_cross_entropy(hidden, weight, torch.from_numpy(case["target"]), bias=bias, shard=shard,
                                        chunk_size=case["chunk_size"], reduce_hidden_grad=case["reduce_hidden_grad"],
                                        **_tensor_options(case["options"], torch.float64))
        with _recording(backward):
            (loss * torch.as_tensor(case["cotangent"])).sum().backward()
        assert hidden.grad is not None and weight.grad is not None
        results.append({"loss": loss.detach().numpy(), "hidden": hidden.grad.numpy(), "weight": weight.grad.numpy(),
                        "bias": None if bias is None else bias.grad.numpy(),  # type: ignore[union-attr]
                        "start": shard.start, "stop": shard.stop, "forward": forward, "backward": backward})
    return results


def _linear_reference(case: dict[str, Any]) -> dict[str, Any]:
    hidden = torch.from_numpy(case["hidden"]).requires_grad_()
    weight = torch.from_numpy(case["weight"]).requires_grad_()
    bias = None if case["bias"] is None else torch.from_numpy(case["bias"]).requires_grad_()
    logits = hidden @ weight.T if bias is None else hidden @ weight.T + bias
    options = _tensor_options(case["options"], torch.float64)
    if "class_weight" in options:
        options["weight"] = options.pop("class_weight")
    denominator = options.pop("denominator", None)
    if denominator is not None:
        denominator = float(denominator)
        options["reduction"] = "sum"
    value = crossent.cross_entropy(logits, torch.from_numpy(case["target"]), **options)
    if denominator is not None:
        value = value / denominator if denominator > 0 else value * 0.0
    (value * torch.as_tensor(case["cotangent"])).sum().backward()
    return {"loss": value.detach().numpy(), "hidden": hidden.grad.numpy(), "weight": weight.grad.numpy(),  # type: ignore[union-attr]
            "bias": None if bias is None else bias.grad.numpy()}  # type: ignore[union-attr]


def _linear_collectives(case: dict[str, Any]) -> tuple[list[tuple[str, str, int]], list[tuple[str, str, int]]]:
    n, features = case["hidden"].shape
    chunk = case["chunk_size"] or n
    k = 3 if case["options"].get("label_smoothing") else 2
    forward = []
    for start in range(0, n, chunk):
        rows = min(chunk, n - start)
        forward += [("all_reduce", "max", rows + 2), ("all_reduce", "sum", k * rows + 1)]
    return forward, [("all_reduce", "sum", n * features)] if case["reduce_hidden_grad"] else []


@pytest.mark.parametrize("world_size", WORLD_SIZES)
def test_linear_cross_entropy_with_a_shard_equals_the_unsharded_loss(world_size: int) -> None:
    cases = _linear_cases()
    per_rank = distributed.run(world_size, _run_linear_cases, cases)
    for i, case in enumerate(cases):
        expected = _linear_reference(case)
        results = [results[i] for results in per_rank]
        where = f"case {i} ({case['options']}) at world size {world_size}"
        for rank, result in enumerate(results):
            assert result["loss"].tobytes() == results[0]["loss"].tobytes(), where
            np.testing.assert_allclose(result["loss"], expected["loss"], rtol=1e-12, atol=1e-12, err_msg=where)
            start, stop = result["start"], result["stop"]
            np.testing.assert_allclose(result["weight"], expected["weight"][start:stop], rtol=1e-12, atol=1e-12,
                                       err_msg=where)
            if case["bias"] is not None:
                np.testing.assert_allclose(result["bias"], expected["bias"][start:stop], rtol=1e-12, atol=1e-12,
                                           err_msg=where)
            if case["reduce_hidden_grad"]:
                np.testing.assert_allclose(result["hidden"], expected["hidden"], rtol=1e-12, atol=1e-12,
                                           err_msg=f"{where}, rank {rank}")
            assert (result["forward"], result["backward"]) == _linear_collectives(case), where
        if not case["reduce_hidden_grad"]:  # each rank's partial sum; their sum is the gradient
            np.testing.assert_allclose(sum(r["hidden"] for r in results), expected["hidden"], rtol=1e-12,
                                       atol=1e-12, err_msg=where)
            if world_size > 1:
                assert not np.allclose(results[0]["hidden"], expected["hidden"]), where


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("rows", [6, 80])  # 80 rows: a first chunk of 64 × 1031 logits takes the fused CPU kernel
def test_linear_cross_entropy_denominator(dtype: torch.dtype, rows: int) -> None:
    rng = np.random.default_rng(rows)
    classes, features = 1031, 4
    hidden = torch.tensor(rng.normal(size=(rows, features)), dtype=dtype)
    weight = torch.tensor(rng.normal(size=(classes, features)), dtype=dtype)
    target = torch.tensor(rng.integers(0, classes, size=rows))
    target[::3] = -100
    options = {"ignore_index": -100, "label_smoothing": 0.1, "class_weight": torch.rand(classes, dtype=dtype)}
    tolerance = _tolerance("float64" if dtype == torch.float64 else "float32")
    from crossent.torch import linear_cross_entropy

    for denominator in (4.5, torch.tensor(3.0, dtype=dtype), 0.0):
        h, w = hidden.clone().requires_grad_(), weight.clone().requires_grad_()
        loss = linear_cross_entropy(h, w, target, denominator=denominator, chunk_size=64, **options)
        loss.backward()
        h_ref, w_ref = hidden.clone().requires_grad_(), weight.clone().requires_grad_()
        total = linear_cross_entropy(h_ref, w_ref, target, reduction="sum", **options)
        d = float(denominator)
        (total / d if d > 0 else total * 0.0).backward()
        assert h.grad is not None and w.grad is not None and h_ref.grad is not None and w_ref.grad is not None
        np.testing.assert_allclose(float(loss.detach()), float(total.detach()) / d if d > 0 else 0.0, rtol=tolerance)
        np.testing.assert_allclose(h.grad.numpy(), h_ref.grad.numpy(), rtol=tolerance, atol=tolerance)
        np.testing.assert_allclose(w.grad.numpy(), w_ref.grad.numpy(), rtol=tolerance, atol=tolerance)
    with pytest.raises(ValueError, match="needs reduction='mean'"):
        linear_cross_entropy(hidden, weight, target, denominator=2.0, reduction="sum", **options)
    with pytest.raises(ValueError, match="denominator must be a finite number >= 0"):
        linear_cross_entropy(hidden, weight, target, denominator=-1.0, **options)


# ---------------------------------------------------------------------------------------------
# errors: each names the argument and the value


def _errors(rank: int, world_size: int) -> dict[str, tuple[str, str]]:
    """Each bad call's exception (type name, message), on this rank. Every rank makes the same
    bad calls, so that all of them raise (none waits in a collective for the others)."""
    from crossent.torch import linear_cross_entropy

    c = 11
    x = torch.zeros(4, 11 if world_size == 1 else VocabShard.from_group(c).size, dtype=torch.float64)
    shard = VocabShard.from_group(c)
    y = torch.tensor([0, 1, 2, 10])
    calls: dict[str, Any] = {
        "integer logits": lambda: vocab_parallel_cross_entropy(x.long(), y, shard=shard),
        "not a shard": lambda: vocab_parallel_cross_entropy(x, y, shard=(0, 11)),
        "width": lambda: vocab_parallel_cross_entropy(x[:, 1:], y, shard=shard),
        "label C": lambda: vocab_parallel_cross_entropy(x, torch.tensor([0, 1, 2, 11]), shard=shard),
        "label -100": lambda: vocab_parallel_cross_entropy(x, torch.tensor([0, 1, 2, -100]), shard=shard),
        "float target": lambda: vocab_parallel_cross_entropy(x, y.double(), shard=shard),
        "target shape": lambda: vocab_parallel_cross_entropy(x, y[:3], shard=shard),
        "weight shape": lambda: vocab_parallel_cross_entropy(x, y, shard=shard, weight=torch.ones(shard.size + 1)),
        "negative weight": lambda: vocab_parallel_cross_entropy(x, y, shard=shard, weight=-torch.ones(c)),
        "weight grad": lambda: vocab_parallel_cross_entropy(x, y, shard=shard,
                                                            weight=torch.ones(c, requires_grad=True)),
        "smoothing": lambda: vocab_parallel_cross_entropy(x, y, shard=shard, label_smoothing=1.5),
        "gamma": lambda: vocab_parallel_cross_entropy(x, y, shard=shard, gamma=-1.0),
        "denominator sum": lambda: vocab_parallel_cross_entropy(x, y, shard=shard, reduction="sum", denominator=2.0),
        "denominator negative": lambda: vocab_parallel_cross_entropy(x, y, shard=shard, denominator=-1.0),
        "linear width": lambda: linear_cross_entropy(torch.zeros(4, 3), torch.zeros(shard.size + 1, 3), y,
                                                     shard=shard),
        "linear label": lambda: linear_cross_entropy(torch.zeros(4, 3), torch.zeros(shard.size, 3),
                                                     torch.tensor([0, 1, 2, 11]), shard=shard),
    }
    if world_size == 1:
        calls["not the whole vocabulary"] = lambda: vocab_parallel_cross_entropy(x[:, :5], y, shard=VocabShard(0, 5, c))
    else:
        other = _bounds_of(c, world_size, (rank + 1) % world_size, "balanced")
        wrong = VocabShard(*other, c, layout="balanced")  # another rank's slice, said to be this one's
        calls["another rank's slice"] = lambda: vocab_parallel_cross_entropy(torch.zeros(4, wrong.size), y,
                                                                             shard=wrong)
        same = VocabShard(0, 6, c)  # by hand: every rank the same slice
        calls["overlapping slices"] = lambda: vocab_parallel_cross_entropy(torch.zeros(4, 6), y, shard=same)
        mixed = VocabShard(0, 6, c) if rank == 0 else VocabShard(6, 12, 12)  # ranks disagree on C
        calls["num_classes disagree"] = lambda: vocab_parallel_cross_entropy(torch.zeros(4, 6), y, shard=mixed)
    out = {}
    for name, call in calls.items():
        try:
            call()
        except (TypeError, ValueError) as error:
            out[name] = (type(error).__name__, str(error))
        else:
            out[name] = ("no error", "")
    return out


ERRORS = {
    "integer logits": ("TypeError", r"logits_shard must be a floating torch.Tensor \[..., C_r\], got a torch.int64"),
    "not a shard": ("TypeError", r"shard must be a crossent.torch.distributed.VocabShard, got \(0, 11\)"),
    "width": ("ValueError", r"logits_shard's last dimension holds \d+ classes, but shard \[\d+, \d+\) has \d+"),
    "label C": ("ValueError", r"target contains the label 11, outside \[0, 11\): targets are global class ids"),
    "label -100": ("ValueError", r"target contains the label -100, .*pass ignore_index=-100"),
    "float target": ("TypeError", r"target must be a torch.Tensor of integer labels, got a torch.float64"),
    "target shape": ("ValueError", r"target must have logits_shard's shape without its last dimension, \(4,\), "
                                   r"got \(3,\)"),
    "weight shape": ("ValueError", r"weight must have one entry per class of all the shards \(11\), got shape"),
    "negative weight": ("ValueError", r"weight must be non-negative, got -1"),
    "weight grad": ("ValueError", r"weight requires grad"),
    "smoothing": ("ValueError", r"label_smoothing must be in \[0, 1\], got 1.5"),
    "gamma": ("ValueError", r"gamma must be in \[0, inf\], got -1"),
    "denominator sum": ("ValueError", r"needs reduction='mean', got reduction='sum'"),
    "denominator negative": ("ValueError", r"denominator must be a finite number >= 0 .*got -1.0"),
    "linear width": ("ValueError", r"weight's first dimension holds \d+ classes, but shard \[\d+, \d+\) has \d+"),
    "linear label": ("ValueError", r"target contains the label 11, outside \[0, 11\)"),
    "not the whole vocabulary": ("ValueError", r"shard \[0, 5\) of 11 classes: a group of one rank holds every "
                                               r"class, \[0, 11\)"),
    "another rank's slice": ("ValueError", r"is not layout='balanced''s slice of 11 classes for rank \d of the "
                                           r"group's 2, which is"),
    "overlapping slices": ("ValueError", r"shard: the slices of the group's 2 ranks hold 12 classes in all, not "
                                         r"num_classes=11"),
    "num_classes disagree": ("ValueError", r"shard: the group's 2 ranks disagree on num_classes, from 11 to 12"),
}


@pytest.mark.parametrize("world_size", [1, 2])
def test_errors_name_the_argument_and_the_value(world_size: int) -> None:
    import re

    for rank, errors in enumerate(distributed.run(world_size, _errors)):
        for name, (kind, message) in errors.items():
            assert kind == ERRORS[name][0], (rank, name, kind, message)
            assert re.search(ERRORS[name][1], message), (rank, name, message)


def test_shard_errors_and_no_process_group() -> None:
    assert not dist.is_initialized()  # (the test process has no group; the pool's ranks do)
    with pytest.raises(ValueError, match=r"start must be in \[0, num_classes\] = \[0, 11\], got -1"):
        VocabShard(-1, 3, 11)
    with pytest.raises(ValueError, match=r"start must be in \[0, num_classes\] = \[0, 11\], got 12"):
        VocabShard(12, 12, 11)
    with pytest.raises(ValueError, match=r"stop must be in \[start, num_classes\] = \[4, 11\], got 3"):
        VocabShard(4, 3, 11)
    with pytest.raises(ValueError, match=r"stop must be in \[start, num_classes\] = \[4, 11\], got 12"):
        VocabShard(4, 12, 11)
    with pytest.raises(ValueError, match=r"num_classes must be at least 1, got 0"):
        VocabShard(0, 0, 0)
    with pytest.raises(TypeError, match=r"start must be an int, got 1.5"):
        VocabShard(1.5, 3, 11)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"group must be a torch.distributed.ProcessGroup or None, got 'tp'"):
        VocabShard(0, 3, 11, "tp")
    with pytest.raises(ValueError, match=r"layout must be one of 'balanced', 'ceil', 'equal' or None, got 'even'"):
        VocabShard(0, 3, 11, layout="even")
    with pytest.raises(ValueError, match=r"layout must be one of 'balanced', 'ceil', 'equal', got 'even'"):
        VocabShard.from_group(11, layout="even")
    with pytest.raises(RuntimeError, match=r"needs an initialized process group: call "
                                           r"torch.distributed.init_process_group"):
        VocabShard.from_group(11)
    with pytest.raises(RuntimeError, match=r"needs an initialized process group"):
        vocab_parallel_cross_entropy(torch.zeros(2, 11), torch.tensor([0, 1]), shard=VocabShard(0, 11, 11))
    shard = VocabShard(np.int64(2), 5, 11)
    assert (shard.start, shard.size, type(shard.start)) == (2, 3, int)
    assert shard == VocabShard(2, 5, 11) and hash(shard) == hash(VocabShard(2, 5, 11))
