"""``crossent eval``'s metrics of Dask arrays: a tree reduction of :class:`~crossent.metrics.Evaluation`.

Each block of rows becomes an Evaluation state (weighted sums), and the states are merged in a
tree of fan-in ``split_every``, so the result is the single-process one for any chunking: blocks
of unequal sizes, empty blocks and blocks that miss a class included (a mean of per-block means
would weigh the blocks instead of the samples). Dask is imported by :func:`evaluate` only
(``pip install crossent[dask]``).
"""

from __future__ import annotations

from typing import Any

from crossent.metrics._states import RANKING_BINS, Evaluation

__all__ = ["evaluate"]


def evaluate(y: Any, p: Any, /, *, sample_weight: Any = None, split_every: int = 8, from_logits: bool = False,
             ranking_bins: int = RANKING_BINS) -> Evaluation:
    """The :class:`~crossent.metrics.Evaluation` of Dask (or NumPy) arrays, computed.

    The classes come from the arrays' shapes, never from the blocks: C = ``p.shape[1]`` (2 for
    binary ``(N,)`` probabilities), or L labels when ``y`` is an ``(N, L)`` indicator. Rows of
    ``y``, ``p`` and ``sample_weight`` are aligned to ``p``'s row chunks (``p``'s class axis is
    one chunk); unknown chunk sizes must match block for block. Runs on the scheduler in effect
    (``dask.config.set(scheduler=...)``). ``.metrics()`` of the result gives ``crossent eval``'s
    metrics, ROC-AUC and average precision binned (:class:`~crossent.metrics.RankingHistogram`).

    Args:
        y: labels ``(N,)`` or a 0/1 indicator ``(N, L)``.
        p: probabilities ``(N,)``, ``(N, C)`` or ``(N, L)`` (logits with ``from_logits``).
        sample_weight: ``(N,)`` non-negative weights.
        split_every: how many states each merge of the tree takes (at least 2).
        from_logits: ``p`` holds logits.
        ranking_bins: the bins of the ROC-AUC / average-precision histograms.

    >>> import dask.array as da
    >>> y = da.from_array([0, 1, 0, 1, 0], chunks=2)
    >>> p = da.from_array([0.2, 0.7, 0.6, 0.9, 0.1], chunks=3)
    >>> round(evaluate(y, p).metrics()["log_loss"], 4)
    0.3414
    """
    import dask
    import dask.array as da

    if isinstance(split_every, bool) or not isinstance(split_every, int) or split_every < 2:
        raise ValueError(f"split_every must be an int of at least 2, got {split_every!r}")
    p = da.asarray(p)
    y = da.asarray(y)
    if p.ndim not in (1, 2) or y.ndim not in (1, 2):
        raise ValueError(f"y must be (N,) or (N, L) and p (N,) or (N, C), got shapes {y.shape} and {p.shape}")
    if p.ndim == 2:
        if p.shape[1] != p.shape[1]:  # NaN: unknown
            raise ValueError("p's number of columns must be known (compute its chunk sizes first)")
        p = p.rechunk({1: -1})
    multilabel = y.ndim == 2
    if multilabel:
        y = y.rechunk({1: -1})
    num_classes = int(p.shape[1]) if p.ndim == 2 else 2
    empty = Evaluation(num_classes, multilabel=multilabel, ranking_bins=ranking_bins)  # checks the options
    options = empty._options()
    rows = p.chunks[0]
    blocks = [p.to_delayed().ravel(), _aligned(y, rows, "y").to_delayed().ravel()]
    if sample_weight is not None:
        blocks.append(_aligned(da.asarray(sample_weight), rows, "sample_weight").to_delayed().ravel())
    states = [dask.delayed(_block_state)(options, from_logits, *parts) for parts in zip(*blocks, strict=True)]
    while len(states) > 1:
        states = [dask.delayed(_merge_all)(*states[i:i + split_every]) for i in range(0, len(states), split_every)]
    if not states:
        return empty
    state: Evaluation = states[0].compute()
    return state


def _aligned(x: Any, rows: tuple[float, ...], name: str) -> Any:
    """``x`` in ``rows``' row chunks (one chunk along any other axis)."""
    if x.ndim == 2:
        x = x.rechunk({1: -1})
    if x.chunks[0] == rows:
        return x
    if any(n != n for n in (*x.chunks[0], *rows)):  # NaN: unknown sizes, which rechunk cannot align
        raise ValueError(f"{name} and p have unknown chunk sizes that differ ({len(x.chunks[0])} and {len(rows)} "
                         f"blocks); compute them first (e.g. to_dask_array(lengths=True))")
    if x.shape[0] != sum(rows):
        raise ValueError(f"{name} has {x.shape[0]} rows but p has {sum(rows)}")
    return x.rechunk({0: rows})


def _block_state(options: dict[str, Any], from_logits: bool, p: Any, y: Any, w: Any = None) -> Evaluation:
    state = Evaluation(**options)
    state.update(y, p, sample_weight=w, from_logits=from_logits)
    return state


def _merge_all(*states: Evaluation) -> Evaluation:
    merged = states[0]
    for state in states[1:]:
        merged = merged + state
    return merged
