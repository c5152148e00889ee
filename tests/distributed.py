"""Multi-process tests on the CPU: one pool of spawned workers, reused by every case.

``run(world_size, fn, *args)`` runs ``fn(rank, world_size, *args)`` on ranks 0..world_size-1 of
a fresh gloo process group (``file://`` rendezvous) and returns the ranks' results in rank order.
``fn`` must be importable by name (a module-level function of a test module or of this one); its
arguments and results are pickled. A failure on any rank raises here with every failing rank's
traceback.

The workers are spawned once per test process (xdist worker) and kept: a spawn imports torch,
which costs seconds; a process group costs milliseconds. Each worker holds torch to one thread,
as the machine has two cores.
"""

from __future__ import annotations

import atexit
import multiprocessing
import os
import queue
import tempfile
import traceback
from collections.abc import Callable
from typing import Any

MAX_WORLD = 4
TIMEOUT_S = 180.0

_pool: list[tuple[Any, Any, Any]] = []  # (process, tasks, results) per rank
_rendezvous = 0


def _worker(tasks: Any, results: Any) -> None:
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    import torch
    import torch.distributed as dist

    torch.set_num_threads(1)
    while True:
        task = tasks.get()
        if task is None:
            return
        fn, rank, world_size, init_file, args = task
        try:
            dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank,
                                    world_size=world_size)
            try:
                result = fn(rank, world_size, *args)
                dist.barrier()
            finally:
                dist.destroy_process_group()
            results.put((True, result))
        except BaseException:  # reported to the test, which raises it
            results.put((False, traceback.format_exc()))


def _start() -> None:
    context = multiprocessing.get_context("spawn")
    for _ in range(MAX_WORLD):
        tasks, results = context.Queue(), context.Queue()
        process = context.Process(target=_worker, args=(tasks, results), daemon=True)
        process.start()
        _pool.append((process, tasks, results))
    atexit.register(_stop)


def _stop() -> None:
    for process, tasks, _ in _pool:
        if process.is_alive():
            tasks.put(None)
    for process, _, _ in _pool:
        process.join(timeout=5)
        if process.is_alive():
            process.kill()
    _pool.clear()


def run(world_size: int, fn: Callable[..., Any], *args: Any) -> list[Any]:
    """``[fn(rank, world_size, *args) for rank in range(world_size)]``, each on its own process
    of one gloo group."""
    global _rendezvous
    if not 1 <= world_size <= MAX_WORLD:
        raise ValueError(f"world_size must be in [1, {MAX_WORLD}], got {world_size}")
    if not _pool or not all(process.is_alive() for process, _, _ in _pool):
        _stop()
        _start()
    _rendezvous += 1
    init_file = os.path.join(tempfile.gettempdir(), f"crossent-rendezvous-{os.getpid()}-{_rendezvous}")
    if os.path.exists(init_file):
        os.remove(init_file)
    for rank in range(world_size):
        _pool[rank][1].put((fn, rank, world_size, init_file, args))
    outcomes = []
    try:
        for rank in range(world_size):
            outcomes.append(_pool[rank][2].get(timeout=TIMEOUT_S))
    except queue.Empty:
        _stop()  # a rank hangs in a collective: the pool cannot be reused
        raise TimeoutError(f"a rank of {world_size} gave no result in {TIMEOUT_S:.0f} s") from None
    finally:
        if os.path.exists(init_file):
            os.remove(init_file)
    failures = [(rank, message) for rank, (ok, message) in enumerate(outcomes) if not ok]
    if failures:  # every rank's: the first to fail may be a peer's broken connection, not the cause
        raise AssertionError("\n".join(f"rank {rank} of {world_size} failed:\n{message}" for rank, message in failures))
    return [result for _, result in outcomes]
