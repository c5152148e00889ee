"""CPU kernels: crossent (numba) against torch eager and crossent's generic NumPy path, side by side.

Forward and backward of the mean cross-entropy of integer labels at (rows × classes) float32
logits, and of binary cross-entropy from logits over n float32 elements. Each repeat runs every
implementation once, in turn (alternating); the table gives medians, GB/s counting one read of
the logits and one write of the gradient (the bytes any one-pass implementation must move),
and the ratio to crossent. Rows:

- ``copy``: ``np.copyto`` of the logits into a gradient-sized buffer, the bandwidth floor;
- ``crossent kernel only``: ``crossent.kernels._cpu`` called directly (per-row losses + gradient);
- ``crossent``: ``crossent.value_and_grad`` (the kernel, then the generic reduction: the mean
  divides the gradient in ``losses/_reduce.py``, a second pass over it);
- ``torch eager``: ``F.cross_entropy`` / ``F.binary_cross_entropy_with_logits``, then ``backward()``;
- ``crossent generic``: ``value_and_grad`` with the kernels off (``_cpu.ENABLED = False``).

    python benchmarks/cpu_kernels.py [--rows 8192] [--classes 32000] [--elements 10000000] [--repeats 5]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from collections.abc import Callable
from typing import Any

import numba
import numpy as np
import torch
import torch.nn.functional as F

import crossent
from crossent.kernels import _cpu


def seconds(call: Callable[[], Any]) -> float:
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def table(title: str, nbytes: int, runs: dict[str, Callable[[], Any]], repeats: int,
          slow: set[str]) -> None:
    """Median seconds, GB/s and ratio to crossent; implementations alternate within each repeat
    (those in ``slow`` run in the first ``max(2, repeats // 2)`` repeats only)."""
    for call in runs.values():  # warm up: JIT (or its disk cache), allocator, torch's thread pool
        call()
    times: dict[str, list[float]] = {name: [] for name in runs}
    for r in range(repeats):
        for name, call in runs.items():
            if name not in slow or r < max(2, repeats // 2):
                times[name].append(seconds(call))
    base = statistics.median(times["crossent"])
    print(f"\n{title}: {nbytes / 1e9:.2f} GB moved (logits read + gradient written)\n")
    print("| implementation | median s | GB/s | ratio to crossent | repeats |")
    print("| --- | --- | --- | --- | --- |")
    for name, ts in times.items():
        t = statistics.median(ts)
        print(f"| {name} | {t:.4f} | {nbytes / t / 1e9:.1f} | {t / base:.2f} | {len(ts)} |")


def softmax(rows: int, classes: int, repeats: int) -> None:
    rng = np.random.default_rng(0)
    z = rng.standard_normal((rows, classes), dtype=np.float32)
    y = rng.integers(0, classes, size=rows)
    buffer = np.empty_like(z)
    zt, yt = torch.from_numpy(z), torch.from_numpy(y)
    sums = {}

    def kernel_only() -> None:
        _cpu.softmax_cross_entropy(z, y, None, None, None, None, ignore_index=None, smoothing=0.0,
                                   gamma=0.0, epsilon=0.0, z_loss=0.0, softcap=None, grad=True)

    def fused() -> None:
        _cpu.ENABLED = True
        sums["crossent"] = crossent.value_and_grad(crossent.cross_entropy, z, y)

    def torch_eager() -> None:
        logits = zt.detach().requires_grad_()
        loss = F.cross_entropy(logits, yt)
        loss.backward()
        sums["torch"] = (loss.detach().numpy(), logits.grad)

    def generic() -> None:
        _cpu.ENABLED = False
        try:
            sums["generic"] = crossent.value_and_grad(crossent.cross_entropy, z, y)
        finally:
            _cpu.ENABLED = True

    runs = {"copy": lambda: np.copyto(buffer, z), "crossent kernel only": kernel_only, "crossent": fused,
            "torch eager": torch_eager, "crossent generic": generic}
    table(f"cross_entropy, ({rows} × {classes}) float32, integer labels, mean", 2 * z.nbytes, runs, repeats,
          slow={"crossent generic"})
    value, grad = sums["crossent"]
    for name in ("torch", "generic"):
        other_value, other_grad = sums[name]
        print(f"crossent vs {name}: |Δ loss| = {abs(float(value) - float(other_value)):.2e}, "
              f"max |Δ grad| = {float(np.max(np.abs(grad - np.asarray(other_grad)))):.2e}")


def binary(elements: int, repeats: int) -> None:
    rng = np.random.default_rng(1)
    z = rng.standard_normal(elements, dtype=np.float32)
    y = (rng.random(elements) < 0.3).astype(np.float32)
    buffer = np.empty_like(z)
    zt, yt = torch.from_numpy(z), torch.from_numpy(y)

    def fused() -> None:
        _cpu.ENABLED = True
        crossent.value_and_grad(crossent.binary_cross_entropy, z, y)

    def kernel_only() -> None:
        _cpu.sigmoid_cross_entropy(z, y, None, None, smoothing=0.0, grad=True)

    def torch_eager() -> None:
        logits = zt.detach().requires_grad_()
        F.binary_cross_entropy_with_logits(logits, yt).backward()

    def generic() -> None:
        _cpu.ENABLED = False
        try:
            crossent.value_and_grad(crossent.binary_cross_entropy, z, y)
        finally:
            _cpu.ENABLED = True

    runs = {"copy": lambda: np.copyto(buffer, z), "crossent kernel only": kernel_only, "crossent": fused,
            "torch eager": torch_eager, "crossent generic": generic}
    table(f"binary_cross_entropy, {elements:.0e} float32 elements, mean", 2 * z.nbytes, runs, repeats, slow=set())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=8192)
    parser.add_argument("--classes", type=int, default=32000)
    parser.add_argument("--elements", type=int, default=10**7)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    print(f"# {platform.processor() or platform.machine()}, {os.cpu_count()} cores; Python "
          f"{platform.python_version()}, NumPy {np.__version__}, numba {numba.__version__} "
          f"({numba.get_num_threads()} threads, layer {numba.config.THREADING_LAYER}), torch {torch.__version__} "
          f"({torch.get_num_threads()} threads); {args.repeats} repeats, alternating")
    softmax(args.rows, args.classes, args.repeats)
    binary(args.elements, args.repeats)


if __name__ == "__main__":
    main()
