"""Peak memory and time of crossent.torch.linear_cross_entropy against the naive loss.

Each implementation computes the mean cross-entropy of ``hidden @ weight.T + bias`` against
integer labels and the gradients of hidden, weight and bias:

- ``torch``: torch's own naive path: the N × V logits, ``F.cross_entropy`` (log_softmax + NLL),
  ``backward``;
- ``crossent``: the same naive path through ``crossent.cross_entropy``;
- ``chunked``: ``crossent.torch.linear_cross_entropy`` (N × V never materialized).

Peak memory is measured beyond what the inputs take: on CUDA with
``torch.cuda.max_memory_allocated``; on CPU as the rise of the process's resident-set high-water
mark (``resource.getrusage(...).ru_maxrss``) after the inputs are made, each implementation in a
fresh subprocess so that one's high-water mark cannot hide another's. Times are medians of
``--repeat`` forward+backward passes after one warm-up, the implementations alternating.

    python benchmarks/linear_cross_entropy.py                    # N=4096 H=1024 V=65536 float32
    python benchmarks/linear_cross_entropy.py --n 1024 --v 32768 --repeat 5
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from typing import Any

IMPLEMENTATIONS = ("torch", "crossent", "chunked")


def _inputs(args: argparse.Namespace, device: str) -> tuple[Any, ...]:
    import torch

    dtype = getattr(torch, args.dtype)
    g = torch.Generator(device=device).manual_seed(0)
    hidden = torch.randn(args.n, args.h, generator=g, device=device).to(dtype).requires_grad_()
    weight = (torch.randn(args.v, args.h, generator=g, device=device) / args.h**0.5).to(dtype).requires_grad_()
    bias = torch.zeros(args.v, device=device, dtype=dtype, requires_grad=True)
    target = torch.randint(0, args.v, (args.n,), generator=g, device=device)
    return hidden, weight, bias, target


def _step(impl: str, hidden: Any, weight: Any, bias: Any, target: Any, chunk_size: int | None) -> float:
    import torch

    import crossent
    from crossent.torch import linear_cross_entropy

    if impl == "torch":
        loss = torch.nn.functional.cross_entropy((hidden @ weight.T + bias).float(), target)
    elif impl == "crossent":
        loss = crossent.cross_entropy(hidden @ weight.T + bias, target)
    else:
        loss = linear_cross_entropy(hidden, weight, target, bias=bias, chunk_size=chunk_size)
    grads = torch.autograd.grad(loss, (hidden, weight, bias))
    del grads
    return float(loss)


def _rss_bytes() -> int:
    # ru_maxrss is in KiB on Linux (bytes on macOS)
    scale = 1 if sys.platform == "darwin" else 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale


def _measure(args: argparse.Namespace) -> dict[str, Any]:
    """One implementation in this process: its peak extra memory, its times, its loss."""
    import torch

    device = "cuda" if torch.cuda.is_available() and not args.cpu else "cpu"
    inputs = _inputs(args, device)
    if device == "cuda":
        torch.cuda.synchronize()
        base = torch.cuda.memory_allocated()
        torch.cuda.reset_peak_memory_stats()
    else:
        base = _rss_bytes()
    times = []
    for i in range(args.repeat + 1):  # the first is the warm-up
        start = time.perf_counter()
        loss = _step(args.impl, *inputs, args.chunk_size)  # float(loss) synchronizes
        if device == "cuda":
            torch.cuda.synchronize()
        if i:
            times.append(time.perf_counter() - start)
    peak = (torch.cuda.max_memory_allocated() if device == "cuda" else _rss_bytes()) - base
    return {"impl": args.impl, "device": device, "peak_bytes": peak, "times": times, "loss": loss}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=4096)
    parser.add_argument("--h", type=int, default=1024)
    parser.add_argument("--v", type=int, default=65536)
    parser.add_argument("--dtype", default="float32")
    parser.add_argument("--chunk-size", type=int, default=None)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--cpu", action="store_true", help="stay on the CPU even where CUDA is available")
    parser.add_argument("--impl", choices=IMPLEMENTATIONS, help=argparse.SUPPRESS)  # one, in a subprocess
    parser.add_argument("--only", nargs="+", choices=IMPLEMENTATIONS, default=list(IMPLEMENTATIONS))
    args = parser.parse_args()
    if args.impl:
        print(json.dumps(_measure(args)))
        return

    import torch

    from crossent.torch._linear import default_chunk_size

    logits_bytes = args.n * args.v * 4
    chunk = args.chunk_size or default_chunk_size(args.v)
    print(f"N={args.n} H={args.h} V={args.v} {args.dtype}; torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads; float32 logits N×V = {logits_bytes / 2**20:.0f} MiB; "
          f"chunk = {chunk} rows ({min(chunk, args.n) * args.v * 4 / 2**20:.0f} MiB of logits)")
    results = []
    for impl in args.only:  # each in a fresh process: ru_maxrss is a per-process high-water mark
        command = [sys.executable, __file__, "--impl", impl, "--n", str(args.n), "--h", str(args.h),
                   "--v", str(args.v), "--dtype", args.dtype, "--repeat", str(args.repeat)]
        if args.chunk_size:
            command += ["--chunk-size", str(args.chunk_size)]
        if args.cpu:
            command.append("--cpu")
        done = subprocess.run(command, capture_output=True, text=True, check=True)
        results.append(json.loads(done.stdout.strip().splitlines()[-1]))
    reference = results[0]
    print(f"{'implementation':<16}{'device':<8}{'peak extra MiB':>16}{'median s':>10}{'time ×':>8}"
          f"{'memory ×':>10}{'loss':>12}")
    for r in results:
        median = statistics.median(r["times"])
        print(f"{r['impl']:<16}{r['device']:<8}{r['peak_bytes'] / 2**20:>16.0f}{median:>10.2f}"
              f"{median / statistics.median(reference['times']):>8.2f}"
              f"{r['peak_bytes'] / max(reference['peak_bytes'], 1):>10.2f}{r['loss']:>12.6f}")


if __name__ == "__main__":
    main()
