"""The large-vocabulary case: ``crossent.torch.linear_cross_entropy`` against naive torch.

Both compute the mean cross-entropy of ``hidden @ weight.T`` against integer labels and the
gradients of ``hidden`` and ``weight``; the naive one materializes the N × V logits. Times are
taken in this process, the two alternating; peak memory beyond the inputs in a fresh subprocess
per implementation (:mod:`crossent.bench._memory`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from crossent.bench._memory import Peak, in_subprocess
from crossent.bench._timing import Call, alternate, reason, unavailable

IMPLEMENTATIONS = ("crossent (chunked)", "naive torch")
MEMORY_CALLS = 2  # calls per memory subprocess: the first grows the allocator, the second is steady state


def device_of(requested: str) -> str:
    """``auto`` is CUDA where torch sees a GPU, else CPU; ``cuda`` must be available."""
    try:
        import torch
    except ImportError:
        if requested == "cuda":
            raise ValueError("linear device cuda: torch is not installed") from None
        raise
    if requested == "cuda" and not torch.cuda.is_available():
        raise ValueError("linear device cuda: torch sees no CUDA device")
    if requested == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return requested


def measure(tokens: int, hidden: int, vocab: int, *, repeats: int, device: str = "auto",
            chunk_size: int | None = None, step: Callable[[str], None] = lambda what: None) -> dict[str, Any]:
    """Each implementation's median time (alternating) and peak extra memory (own subprocess)."""
    title = f"linear cross-entropy forward + backward, N={tokens} H={hidden} V={vocab} float32"
    shape = {"tokens": tokens, "hidden": hidden, "vocab": vocab}
    case: dict[str, Any] = {"title": title, "shape": shape, "device": None,
            "chunk_size": chunk_size, "logits_bytes": tokens * vocab * 4, "peak_method": None,
            "memory_calls": MEMORY_CALLS, "reference": "naive torch"}
    try:
        import torch  # noqa: F401
    except ImportError:
        return {**case, "implementations": dict.fromkeys(IMPLEMENTATIONS, unavailable("torch not installed"))}
    from crossent.torch._linear import default_chunk_size

    device = device_of(device)
    memory: dict[str, dict[str, Any]] = {}
    for impl in IMPLEMENTATIONS:
        step(f"memory {impl}")
        try:
            memory[impl] = in_subprocess("crossent.bench._linear:peak", impl=impl, chunk_size=chunk_size,
                                         device=device, **shape)
        except RuntimeError as error:
            memory[impl] = {"error": reason(error)}
    inputs = _inputs(tokens, hidden, vocab, device)
    results = alternate({impl: _call(impl, *inputs, chunk_size) for impl in IMPLEMENTATIONS}, repeats, step)
    for impl, result in results.items():
        if not result["available"]:
            continue
        if "error" in memory[impl]:
            result["peak_bytes"], result["peak_error"] = None, memory[impl]["error"]
        else:
            result["peak_bytes"] = memory[impl]["peak_bytes"]
    return {**case, "title": f"{title}, on {device}", "device": device,
            "chunk_size": chunk_size or default_chunk_size(vocab), "peak_method": Peak(device).method,
            "implementations": results}


def peak(impl: str, tokens: int, hidden: int, vocab: int, chunk_size: int | None, device: str) -> dict[str, Any]:
    """In a fresh process: the peak memory of ``MEMORY_CALLS`` calls beyond the inputs."""
    import crossent.torch  # noqa: F401  (its import is not the implementation's memory)

    # A small warm-up call first (64 × 2048 logits, above the kernels' size threshold): loading
    # Numba's compiled kernels and starting the thread pools is the library's memory, paid once
    # per process, not the computation's.
    warm = _call(impl, *_inputs(64, 16, 2048, device), None)
    warm()
    del warm
    inputs = _inputs(tokens, hidden, vocab, device)
    call = _call(impl, *inputs, chunk_size)
    meter = Peak(device)
    meter.start()
    for _ in range(MEMORY_CALLS):
        value, grads = call()
        del grads
    return {"peak_bytes": meter.extra_bytes(), "value": float(value)}


def _inputs(tokens: int, hidden: int, vocab: int, device: str) -> tuple[Any, Any, Any]:
    """Seeded float32 inputs, made in place (no temporary raises the high-water mark)."""
    import torch

    g = torch.Generator(device=device).manual_seed(0)
    h = torch.randn(tokens, hidden, generator=g, device=device).requires_grad_()
    w = torch.randn(vocab, hidden, generator=g, device=device).mul_(hidden**-0.5).requires_grad_()
    target = torch.randint(0, vocab, (tokens,), generator=g, device=device)
    return h, w, target


def _call(impl: str, hidden: Any, weight: Any, target: Any, chunk_size: int | None) -> Call:
    import torch
    from torch.nn import functional as F

    from crossent.torch import linear_cross_entropy

    cuda = hidden.device.type == "cuda"

    def call() -> tuple[Any, Any]:
        if impl == "naive torch":
            loss = F.cross_entropy(hidden @ weight.T, target)
        else:
            loss = linear_cross_entropy(hidden, weight, target, chunk_size=chunk_size)
        grads = torch.autograd.grad(loss, (hidden, weight))  # the backward pass, without accumulating
        if cuda:
            torch.cuda.synchronize()
        return loss.detach(), grads

    return call
