"""The timed cases: their inputs, the bytes any one-pass implementation must move, the calls.

Each case builder makes its inputs (seeded) and returns a :class:`Case` whose ``runs`` map an
implementation's name to a call (see :mod:`crossent.bench._timing`) or to the reason it is
unavailable. Names starting with ``crossent`` are crossent's rows; the others are its peers.
torch and scikit-learn are imported here, lazily.

``ce``, ``bce`` and ``copy`` run on the CPU on float32 NumPy arrays (the torch rows on tensors
sharing their memory), or, given a torch ``device``, on torch tensors made there in ``dtype``;
there the NumPy rows are unavailable and the copy is the device's own ``copy_``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

import numpy as np

import crossent
from crossent.bench._timing import Call, Restoring, reason

REUSED = "crossent (numpy, out=buffer)"
"""``value_and_grad(..., out=buffer)``, one gradient buffer kept across calls: the kernel writes
into it, without the operating system's cost of mapping and zeroing a fresh gradient on every
call (which the rows that return a new gradient pay)."""
IN_PLACE = "crossent (numpy, out=logits)"
"""``value_and_grad(..., out=logits)``: the gradient written over the logits, which are restored
before each call, outside the clock."""
TORCH_IN_PLACE = "crossent (torch, inplace_backward)"
"""``crossent.torch.CrossEntropyLoss(inplace_backward=True)`` forward + ``backward()``: the
gradient written over the logits tensor in the forward (restored before each call, untimed)."""
IN_PLACE_ROWS = (REUSED, IN_PLACE, TORCH_IN_PLACE)
CE = ("crossent (numpy)", "crossent (torch)", "torch eager", "torch.compile", *IN_PLACE_ROWS, "naive numpy")
BCE = tuple(name for name in CE if name not in IN_PLACE_ROWS)
LOGLOSS = ("crossent", "sklearn log_loss", "naive numpy")
TORCH_ROWS = ("crossent (torch)", "torch eager", "torch.compile")
CPU_ONLY = "CPU only"  # why the NumPy rows are unavailable on a torch device
DTYPES = ("float32", "bfloat16", "float16")


class Case(NamedTuple):
    title: str
    shape: dict[str, Any]
    nbytes: int
    counted: str  # what nbytes counts
    reference: str  # the peer whose value the others must match
    runs: Mapping[str, Call | Restoring | str]


def copy(nbytes: int, *, device: Any = None, dtype: str = "float32") -> tuple[int, Call]:
    """A copy of an array of about ``nbytes`` into another: ``np.copyto`` of float32, or on a torch
    ``device`` ``target.copy_(source)`` in ``dtype``; (bytes moved, the call)."""
    if device is not None:
        import torch

        kind = getattr(torch, dtype)
        source = torch.randn(max(1, nbytes // kind.itemsize), generator=_generator(device, 0), device=device,
                             dtype=kind)
        target = torch.empty_like(source)

        def device_copy() -> tuple[None, None]:
            target.copy_(source)
            return None, None

        return 2 * source.nbytes, device_copy  # read + write
    array = np.random.default_rng(0).standard_normal(max(1, nbytes // 4), dtype=np.float32)
    into = np.empty_like(array)

    def call() -> tuple[None, None]:
        np.copyto(into, array)
        return None, None

    return 2 * array.nbytes, call  # read + write


def ce(rows: int, classes: int, *, torch_compile: bool = True, device: Any = None, dtype: str = "float32") -> Case:
    """Mean cross-entropy of integer labels, value and gradient of logits [rows, classes]: float32
    NumPy, or ``dtype`` torch tensors on ``device``."""
    if device is None:
        rng = np.random.default_rng(1)
        z = rng.standard_normal((rows, classes), dtype=np.float32)
        y = rng.integers(0, classes, size=rows)
        buffer, own = np.empty_like(z), np.empty_like(z)  # (own: the logits the in-place rows overwrite)
        cpu_runs: dict[str, Call | Restoring | str] = {
            "crossent (numpy)": lambda: crossent.value_and_grad(crossent.cross_entropy, z, y),
            REUSED: lambda: crossent.value_and_grad(crossent.cross_entropy, z, y, out=buffer),
            IN_PLACE: Restoring(lambda: crossent.value_and_grad(crossent.cross_entropy, own, y, out=own),
                                lambda: np.copyto(own, z)),
            TORCH_IN_PLACE: _torch_in_place(z, own, y),
            "naive numpy": lambda: _naive_ce(z, y)}
        tensors, nbytes, where = _from_numpy(z, y), 2 * z.nbytes, ""
    else:
        import torch

        g = _generator(device, 1)
        zt = torch.randn(rows, classes, generator=g, device=device, dtype=getattr(torch, dtype))
        yt = torch.randint(0, classes, (rows,), generator=g, device=device)
        cpu_runs = {**dict.fromkeys(("crossent (numpy)", REUSED, IN_PLACE, "naive numpy"), CPU_ONLY),
                      TORCH_IN_PLACE: "in place on the Numba CPU kernels only"}
        tensors, nbytes, where = (zt, yt), 2 * zt.nbytes, f" on {device}"
    runs = {"crossent (numpy)": cpu_runs["crossent (numpy)"],
            **_torch_runs(tensors, crossent.cross_entropy, "cross_entropy", torch_compile),
            **{name: cpu_runs[name] for name in IN_PLACE_ROWS}, "naive numpy": cpu_runs["naive numpy"]}
    return Case(f"cross-entropy forward + backward, ({rows} × {classes}) {dtype} logits{where}, integer labels, mean",
                {"rows": rows, "classes": classes}, nbytes, "one read of the logits + one write of the gradient",
                "torch eager", runs)


def bce(elements: int, *, torch_compile: bool = True, device: Any = None, dtype: str = "float32") -> Case:
    """Mean binary cross-entropy from logits, targets in {0, 1}, value and gradient: float32 NumPy,
    or ``dtype`` torch tensors on ``device`` (the targets in the logits' dtype)."""
    if device is None:
        rng = np.random.default_rng(2)
        z = rng.standard_normal(elements, dtype=np.float32)
        y = (rng.random(elements, dtype=np.float32) < 0.3).astype(np.float32)
        numpy_runs: dict[str, Call | str] = {
            "crossent (numpy)": lambda: crossent.value_and_grad(crossent.binary_cross_entropy, z, y),
            "naive numpy": lambda: _naive_bce(z, y)}
        tensors, nbytes, where = _from_numpy(z, y), 2 * z.nbytes + y.nbytes, ""
    else:
        import torch

        g = _generator(device, 2)
        zt = torch.randn(elements, generator=g, device=device, dtype=getattr(torch, dtype))
        yt = (torch.rand(elements, generator=g, device=device) < 0.3).to(zt.dtype)
        numpy_runs = dict.fromkeys(("crossent (numpy)", "naive numpy"), CPU_ONLY)
        tensors, nbytes, where = (zt, yt), 2 * zt.nbytes + yt.nbytes, f" on {device}"
    runs = {"crossent (numpy)": numpy_runs["crossent (numpy)"],
            **_torch_runs(tensors, crossent.binary_cross_entropy, "binary_cross_entropy_with_logits", torch_compile),
            "naive numpy": numpy_runs["naive numpy"]}
    return Case(f"binary cross-entropy forward + backward, {elements:,} {dtype} logits{where}, 0/1 targets, mean",
                {"elements": elements}, nbytes,
                "one read of the logits + one read of the targets + one write of the gradient", "torch eager", runs)


def logloss(rows: int, classes: int) -> Case:
    """Mean log loss of float32 probabilities [rows, classes] (rows summing to 1), integer labels."""
    rng = np.random.default_rng(3)
    p = rng.standard_normal((rows, classes), dtype=np.float32)
    p -= p.max(axis=1, keepdims=True)
    np.exp(p, out=p)
    p /= p.sum(axis=1, keepdims=True)
    y = rng.integers(0, classes, size=rows)
    runs: dict[str, Call | str] = {
        "crossent": lambda: (crossent.cross_entropy(p, y, from_logits=False), None)}
    try:
        from sklearn.metrics import log_loss
    except ImportError:
        runs["sklearn log_loss"] = "scikit-learn not installed"
    else:
        labels = np.arange(classes)
        runs["sklearn log_loss"] = lambda: (log_loss(y, p, labels=labels), None)
    rows_ = np.arange(rows)
    runs["naive numpy"] = lambda: (-np.mean(np.log(p[rows_, y])), None)
    return Case(f"log loss of probabilities (value only), ({rows} × {classes}) float32, integer labels",
                {"rows": rows, "classes": classes}, p.nbytes, "one read of the probabilities",
                "sklearn log_loss", runs)


def _torch_runs(tensors: tuple[Any, Any] | None, loss: Callable[..., Any], peer_name: str,
                torch_compile: bool) -> dict[str, Call | str]:
    """crossent on torch tensors, torch eager and torch.compile: loss, then ``backward()``.
    ``tensors``: (logits, target), or None where torch is not installed."""
    if tensors is None:
        return dict.fromkeys(TORCH_ROWS, "torch not installed")
    import torch
    from torch.nn import functional as F

    zt, yt = tensors
    peer = getattr(F, peer_name)

    def backward(function: Callable[..., Any]) -> Call:
        def call() -> tuple[Any, Any]:
            logits = zt.detach().requires_grad_()
            value = function(logits, yt)
            value.backward()
            return value.detach(), logits  # logits.grad lives until the clock stops
        return call

    runs: dict[str, Call | str] = {"crossent (torch)": backward(loss), "torch eager": backward(peer)}
    if not torch_compile:
        runs["torch.compile"] = "skipped (--no-compile)"
    else:
        def eager(logits: Any, target: Any) -> Any:
            return peer(logits, target)

        try:
            runs["torch.compile"] = backward(torch.compile(eager))
        except Exception as error:  # torch.compile refuses this Python, say
            runs["torch.compile"] = reason(error)
    return runs


def _from_numpy(z: np.ndarray, y: np.ndarray) -> tuple[Any, Any] | None:
    """torch CPU tensors sharing the arrays' memory, or None where torch is not installed."""
    try:
        import torch
    except ImportError:
        return None
    return torch.from_numpy(z), torch.from_numpy(y)


def _generator(device: Any, seed: int) -> Any:
    import torch

    return torch.Generator(device=device).manual_seed(seed)


def _torch_in_place(z: np.ndarray, own: np.ndarray, y: np.ndarray) -> Restoring | str:
    """``CrossEntropyLoss(inplace_backward=True)`` on a leaf tensor over ``own`` (restored from
    ``z`` before each call): loss, then ``backward()``; the gradient is the logits' memory."""
    try:
        import torch

        from crossent.torch import CrossEntropyLoss
    except ImportError:
        return "torch not installed"
    criterion = CrossEntropyLoss(inplace_backward=True)
    zt, yt = torch.from_numpy(own), torch.from_numpy(y)

    def call() -> tuple[Any, Any]:
        logits = zt.detach().requires_grad_()
        value = criterion(logits, yt)
        value.backward()
        return value.detach(), logits

    return Restoring(call, lambda: np.copyto(own, z))


def _naive_ce(z: np.ndarray, y: np.ndarray) -> tuple[Any, Any]:
    """Log-softmax in NumPy ops; gradient softmax − one-hot, divided by N."""
    n = z.shape[0]
    shifted = z - z.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    value = -log_p[np.arange(n), y].mean()
    grad = np.exp(log_p)
    grad[np.arange(n), y] -= 1
    grad /= n
    return value, grad


def _naive_bce(z: np.ndarray, y: np.ndarray) -> tuple[Any, Any]:
    """max(z, 0) − z·y + log(1 + e^−|z|); gradient (sigmoid(z) − y) / n."""
    value = np.mean(np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z))))
    grad = (1 / (1 + np.exp(-z)) - y) / z.size
    return value, grad
