"""Running the protocol's tasks: in joblib's worker processes or in this one, each held to one
BLAS thread (threadpoolctl) and one Numba thread.

The tasks are already parallel: a worker that also let BLAS (or Numba) start a thread per core
would put cores × workers threads on the cores, and on a two-core machine with other work beside
it that turned a 5 s comparison into 300 s. The serial path is held the same way, for the same
reason: the other core may be busy.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from crossent.selection._progress import Progress


@contextlib.contextmanager
def one_thread() -> Iterator[None]:
    """BLAS and Numba held to one thread for the duration, restored after."""
    from threadpoolctl import threadpool_limits

    numba: Any = None
    if importlib.util.find_spec("numba") is not None:
        try:  # the kernels import numba on their first call; import it now to hold its threads
            import numba as module

            numba = module
        except ImportError:  # a broken numba install: the kernels fall back to the generic path
            numba = None
    previous = numba.get_num_threads() if numba is not None else None
    with threadpool_limits(limits=1):
        if numba is not None:
            numba.set_num_threads(1)
        try:
            yield
        finally:
            if numba is not None:
                numba.set_num_threads(previous)


_WORKER_HELD = False
"""Whether this worker process has held its threads already (it keeps them held: it runs nothing else)."""


def _in_worker(function: Callable[..., Any], index: int, args: tuple[Any, ...]) -> tuple[int, Any]:
    global _WORKER_HELD
    if not _WORKER_HELD:
        from threadpoolctl import threadpool_limits

        threadpool_limits(limits=1)  # not undone: the limit stays for the worker's life
        if "numba" not in sys.modules:  # read when the kernels first import numba (if ever)
            os.environ["NUMBA_NUM_THREADS"] = "1"
        else:
            sys.modules["numba"].set_num_threads(1)
        _WORKER_HELD = True
    return index, function(*args)


WORKERS_PAY_AFTER_S = 5.0
"""With ``n_jobs=None``, worker processes start only if the tasks left would take at least this
long in this process: starting two workers (each importing NumPy, SciPy, scikit-learn and
crossent) costs about 1.5 s on two cores, more with the other core busy, which a small comparison
never earns back."""


def n_workers(n_jobs: int | None, n_tasks: int) -> int:
    """The most worker processes for ``n_jobs`` (None or -1: every core; -2: all but one, as
    joblib), never more than the tasks."""
    if n_jobs is None:
        n_jobs = -1
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, int) or n_jobs == 0:
        raise ValueError(f"n_jobs must be a positive int, or negative to count back from the cores, got {n_jobs!r}")
    cores = os.cpu_count() or 1
    workers = n_jobs if n_jobs > 0 else max(1, cores + 1 + n_jobs)
    return max(1, min(workers, n_tasks))


def run(function: Callable[..., Any], tasks: Sequence[tuple[Any, ...]], *, n_jobs: int | None,
        progress: Progress, describe: Callable[[tuple[Any, ...]], str],
        costs: Sequence[float] | None = None) -> tuple[list[Any], int]:
    """``[function(*task) for task in tasks]``, in order, and the number of processes that ran
    them: ``n_jobs`` workers, the progress bar counting each task as it finishes.

    ``n_jobs=None`` decides: the first two tasks run here, and the rest go to every core's worker
    only if, at the second task's pace (the first pays for warm-up) scaled by their relative
    ``costs`` (e.g. the number of fits each makes; all equal by default), they would take longer
    than :data:`WORKERS_PAY_AFTER_S` here."""
    workers = n_workers(n_jobs, len(tasks))
    results: list[Any] = [None] * len(tasks)
    start = 0
    if n_jobs is None and workers > 1:
        with one_thread():
            for index in range(min(2, len(tasks))):
                progress.step(describe(tasks[index]))
                tic = time.perf_counter()
                results[index] = function(*tasks[index])
                seconds = time.perf_counter() - tic
        start = min(2, len(tasks))
        weights = [1.0] * len(tasks) if costs is None else [float(c) for c in costs]
        if seconds / weights[start - 1] * sum(weights[start:]) < WORKERS_PAY_AFTER_S:
            workers = 1
    if workers == 1:
        with one_thread():
            for index in range(start, len(tasks)):
                progress.step(describe(tasks[index]))
                results[index] = function(*tasks[index])
        return results, 1
    from joblib import Parallel, delayed

    parallel = Parallel(n_jobs=workers, return_as="generator_unordered", max_nbytes="1M")
    pending = range(start, len(tasks))
    for index, result in parallel(delayed(_in_worker)(function, i, tasks[i]) for i in pending):
        progress.step(describe(tasks[index]))
        results[index] = result
    return results, workers
