"""The timed cases: their inputs, the bytes any one-pass implementation must move, the calls.

Each case builder makes its inputs (seeded) and returns a :class:`Case` whose ``runs`` map an
implementation's name to a call (see :mod:`crossent.bench._timing`) or to the reason it is
unavailable. Names starting with ``crossent`` are crossent's rows; the others are its peers.
torch and scikit-learn are imported here, lazily.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

import crossent
from crossent.bench._timing import Call, reason

REUSED = "crossent kernel, reused gradient buffer"
"""The Numba kernel writing into one gradient buffer kept across calls: the kernel's own speed,
without the operating system's cost of mapping and zeroing a fresh gradient on every call
(which every other row pays, as any API that returns a new gradient must)."""
CE = ("crossent (numpy)", "crossent (torch)", "torch eager", "torch.compile", REUSED, "naive numpy")
BCE = tuple(name for name in CE if name != REUSED)
LOGLOSS = ("crossent", "sklearn log_loss", "naive numpy")
TORCH_ROWS = ("crossent (torch)", "torch eager", "torch.compile")


class Case(NamedTuple):
    title: str
    shape: dict[str, Any]
    nbytes: int
    counted: str  # what nbytes counts
    reference: str  # the peer whose value the others must match
    runs: dict[str, Call | str]


def copy(nbytes: int) -> tuple[int, Call]:
    """``np.copyto`` of a float32 array of about ``nbytes`` into another: (bytes moved, the call)."""
    source = np.random.default_rng(0).standard_normal(max(1, nbytes // 4), dtype=np.float32)
    target = np.empty_like(source)

    def call() -> tuple[None, None]:
        np.copyto(target, source)
        return None, None

    return 2 * source.nbytes, call  # read + write


def ce(rows: int, classes: int, *, torch_compile: bool = True) -> Case:
    """Mean cross-entropy of integer labels, value and gradient of float32 logits [rows, classes]."""
    rng = np.random.default_rng(1)
    z = rng.standard_normal((rows, classes), dtype=np.float32)
    y = rng.integers(0, classes, size=rows)
    runs: dict[str, Call | str] = {
        "crossent (numpy)": lambda: crossent.value_and_grad(crossent.cross_entropy, z, y)}
    runs.update(_torch_runs(z, y, crossent.cross_entropy, "cross_entropy", torch_compile))
    runs[REUSED] = _kernel_into(z, y)
    runs["naive numpy"] = lambda: _naive_ce(z, y)
    return Case(f"cross-entropy forward + backward, ({rows} × {classes}) float32 logits, integer labels, mean",
                {"rows": rows, "classes": classes}, 2 * z.nbytes, "one read of the logits + one write of the gradient",
                "torch eager", runs)


def bce(elements: int, *, torch_compile: bool = True) -> Case:
    """Mean binary cross-entropy from float32 logits, targets in {0, 1}, value and gradient."""
    rng = np.random.default_rng(2)
    z = rng.standard_normal(elements, dtype=np.float32)
    y = (rng.random(elements, dtype=np.float32) < 0.3).astype(np.float32)
    runs: dict[str, Call | str] = {
        "crossent (numpy)": lambda: crossent.value_and_grad(crossent.binary_cross_entropy, z, y)}
    runs.update(_torch_runs(z, y, crossent.binary_cross_entropy, "binary_cross_entropy_with_logits", torch_compile))
    runs["naive numpy"] = lambda: _naive_bce(z, y)
    return Case(f"binary cross-entropy forward + backward, {elements:,} float32 logits, 0/1 targets, mean",
                {"elements": elements}, 3 * z.nbytes,
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


def _torch_runs(z: np.ndarray, y: np.ndarray, loss: Callable[..., Any], peer_name: str,
                torch_compile: bool) -> dict[str, Call | str]:
    """crossent on torch tensors, torch eager and torch.compile: loss, then ``backward()``."""
    try:
        import torch
        from torch.nn import functional as F
    except ImportError:
        return dict.fromkeys(TORCH_ROWS, "torch not installed")
    zt, yt = torch.from_numpy(z), torch.from_numpy(y)
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


def _kernel_into(z: np.ndarray, y: np.ndarray) -> Call | str:
    """The CPU kernel called directly with ``out=``: the mean loss, the gradient in one buffer."""
    try:
        from crossent.kernels import _cpu
    except ImportError:
        return "numba not installed"
    buffer = np.empty_like(z)

    def call() -> tuple[Any, Any]:
        loss, grad = _cpu.softmax_cross_entropy(
            z, y, None, None, None, None, ignore_index=None, smoothing=0.0, gamma=0.0, epsilon=0.0,
            z_loss=0.0, softcap=None, grad=True, divisor=float(z.shape[0]), out=buffer)
        return np.float32(loss.mean()), grad

    return call


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
