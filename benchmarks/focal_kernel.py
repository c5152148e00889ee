"""Focal loss (γ = 2) value and gradient of (2048 × 32000) float32 logits, mean: the general
float64 kernel (the path before issue 11's last stop) against the float32 kernel, beside
``value_and_grad(focal_loss)`` and torch eager, alternating in one process, medians.

    python benchmarks/focal_kernel.py [--rows 2048] [--classes 32000] [--repeats 5]

torch eager is the softmax focal loss as PyTorch users write it: log_softmax, gather,
(1 - p)^γ, mean, backward.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2048)
    parser.add_argument("--classes", type=int, default=32000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    import torch

    import crossent
    from crossent.kernels import _cpu_softmax

    rng = np.random.default_rng(1)
    n, c = args.rows, args.classes
    z = rng.standard_normal((n, c), dtype=np.float32)
    y = rng.integers(0, c, size=n)
    s, scale = np.ones(n), np.ones(c)
    loss, grad, fallback = np.empty(n), np.empty_like(z), np.empty(n, np.bool_)
    zt, yt = torch.from_numpy(z), torch.from_numpy(y)

    def general() -> None:
        _cpu_softmax.softmax_rows(z, y, s, scale, np.zeros(c), loss, grad, -1, 0.0, 2.0, 0.0, 0.0, 0.0, float(n),
                                  True, False)

    def float32() -> None:
        _cpu_softmax.softmax_rows_float32(z, y, s, scale, scale.astype(np.float32), np.empty(0, np.float32), loss,
                                          grad, fallback, -1, 0.0, 2.0, 0.0, 0.0, float(n), True, False)

    def whole() -> None:
        crossent.value_and_grad(crossent.focal_loss, z, y, gamma=2.0)

    def eager() -> None:
        x = zt.clone().requires_grad_()
        log_p = torch.log_softmax(x, 1).gather(1, yt[:, None]).squeeze(1)
        (-((1 - log_p.exp()) ** 2) * log_p).mean().backward()

    calls: dict[str, Callable[[], None]] = {
        "the general float64 kernel (the path before)": general, "the float32 kernel (the path now)": float32,
        "value_and_grad(focal_loss)": whole, "torch eager": eager}
    for call in calls.values():  # warm-up: compilation, thread pools
        call()
    times: dict[str, list[float]] = {name: [] for name in calls}
    for _ in range(args.repeats):
        for name, call in calls.items():
            start = time.perf_counter()
            call()
            times[name].append(time.perf_counter() - start)
    print(f"| implementation ({n} × {c} float32, focal γ = 2) | median s |\n|---|---|")
    for name, values in times.items():
        print(f"| {name} | {statistics.median(values):.4f} |")


if __name__ == "__main__":
    main()
