"""Side-by-side timing: every implementation once per repeat, in turn, medians after a warm-up.

An implementation is a call with no arguments returning ``(loss, keep)``: ``loss`` (or None) is
read (with ``float``) after the clock stops, and ``keep`` (the gradient, say) is held until then, so that
freeing the outputs is not timed. A string in its place says why it is unavailable. A
:class:`Restoring` call overwrites its inputs (a gradient written over the logits): its
``restore()`` puts them back before each call, untimed.
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

Call = Callable[[], tuple[Any, Any]]


class Restoring(NamedTuple):
    """A call that overwrites its inputs, and the call that restores them (run before each call,
    outside the clock)."""

    call: Call
    restore: Callable[[], None]


def alternate(runs: Mapping[str, Call | Restoring | str], repeats: int,
              step: Callable[[str], None] = lambda what: None,
              synchronize: Callable[[], None] = lambda: None) -> dict[str, dict[str, Any]]:
    """Median seconds of ``repeats`` calls of each implementation, the implementations alternating.

    Each call is made once first, untimed (numba's JIT or its disk cache, torch.compile, the
    allocator, thread pools); one that fails there is reported unavailable with the reason, and
    the others go on. ``step(what)`` announces each warm-up and each repeat (a progress bar).
    ``synchronize()`` waits for the device's queued work (``torch.cuda.synchronize``): called
    before the clock starts and before it stops, so that a time is the work a call queued.
    """
    results: dict[str, dict[str, Any]] = {}
    live: dict[str, Restoring] = {}
    for name, run in runs.items():
        step(f"warm-up {name}")
        if isinstance(run, str):
            results[name] = unavailable(run)
            continue
        restoring = run if isinstance(run, Restoring) else Restoring(run, lambda: None)
        try:
            restoring.restore()
            restoring.call()
            synchronize()  # an asynchronous device error belongs to this call
        except Exception as error:  # a peer that cannot run here (torch.compile without a compiler, ...)
            results[name] = unavailable(reason(error))
            continue
        live[name] = restoring
        results[name] = {"available": True, "times": []}
    for r in range(repeats):
        step(f"repeat {r + 1}/{repeats}")
        for name, (call, restore) in live.items():
            restore()
            synchronize()
            start = time.perf_counter()
            out = call()
            synchronize()
            elapsed = time.perf_counter() - start
            results[name]["times"].append(max(elapsed, 1e-9))
            if out[0] is not None:
                results[name]["value"] = number(float(out[0]))
            del out
    for name in live:
        results[name]["seconds"] = statistics.median(results[name]["times"])
    return results


def unavailable(why: str) -> dict[str, Any]:
    return {"available": False, "reason": why}


def reason(error: BaseException, limit: int = 120) -> str:
    """``Type: first line of the message``, at most ``limit`` characters."""
    lines = str(error).strip().splitlines()
    text = f"{type(error).__name__}: {lines[0]}" if lines else type(error).__name__
    return text if len(text) <= limit else text[: limit - 1] + "…"


def number(value: float) -> float | str:
    """``value``, or ``"nan"``/``"inf"``/``"-inf"``: JSON has no non-finite numbers."""
    return value if math.isfinite(value) else str(value)
