"""crossent.metrics.dask.evaluate: a tree reduction of Evaluation states over a dask.array.

The single-process Evaluation is the oracle: the same sums (exactly where they are integers)
and the same metrics for chunks that are uneven, empty or missing a class, every fan-in, with
weights and logits, on the synchronous and the threaded scheduler.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from crossent.metrics import Evaluation, log_loss
from test_metrics_states import assert_same_state, make, num_classes

da = pytest.importorskip("dask.array")
dask = pytest.importorskip("dask")

N = 240
# uneven row chunks, two empty, the last 100 rows sorted by label so that chunks miss classes
ROWS = (17, 0, 61, 40, 0, 3, 19, 100)


def sorted_tail(y: np.ndarray, *arrays: np.ndarray) -> list[np.ndarray]:
    key = y if y.ndim == 1 else y[:, 0]
    order = np.r_[np.arange(N - 100), N - 100 + np.argsort(key[N - 100:], kind="stable")]
    return [a[order] for a in (y, *arrays)]


def single_process(kind: str, y: np.ndarray, x: np.ndarray, w: np.ndarray | None, **options: Any) -> Evaluation:
    state = Evaluation(num_classes(kind), multilabel=kind == "multilabel", ranking_bins=options.get("bins", 10_000))
    state.update(y, x, sample_weight=w, from_logits=options.get("from_logits", False))
    return state


@pytest.mark.parametrize("kind", ["binary", "two-column", "multiclass", "multilabel"])
@pytest.mark.parametrize("split_every", [2, 3, 8])
def test_dask_gives_the_single_process_evaluation(kind: str, split_every: int) -> None:
    from crossent.metrics.dask import evaluate

    y, p, w = sorted_tail(*make(kind, N, seed=split_every, weights="integer"))
    cols = () if p.ndim == 1 else (p.shape[1],)
    chunks_p = (ROWS, *((2,) * (p.ndim - 1))) if kind == "multiclass" else (ROWS, *cols)  # columns split too
    with dask.config.set(scheduler="synchronous"):
        state = evaluate(da.from_array(y, chunks=(60, *y.shape[1:])), da.from_array(p, chunks=chunks_p),
                         sample_weight=da.from_array(w, chunks=50), split_every=split_every)
    expected = single_process(kind, y, p, w)
    assert_same_state(state, expected)
    got, want = state.metrics(), expected.metrics()
    assert list(got) == list(want)
    np.testing.assert_allclose([got[k] for k in got], [want[k] for k in want], rtol=1e-12)


def test_dask_from_logits_on_threads_and_numpy_input() -> None:
    from crossent.metrics.dask import evaluate

    y, z, _ = sorted_tail(*make("multiclass", N, seed=1, logits=True))
    with dask.config.set(scheduler="threads", num_workers=2):
        state = evaluate(da.from_array(y, chunks=(ROWS,)), da.from_array(z * 30, chunks=(ROWS, 4)),
                         from_logits=True, ranking_bins=50)
    expected = single_process("multiclass", y, z * 30, None, from_logits=True, bins=50)
    assert_same_state(state, expected)
    assert np.isfinite(state.metrics()["log_loss"])  # probabilities rounding to 0 do not reach it
    plain = evaluate(y, z * 30, from_logits=True, ranking_bins=50)  # NumPy arrays: one block
    assert_same_state(plain, expected)


def test_dask_log_loss_weighs_samples_not_blocks() -> None:
    """dask-ml's log_loss averages the blocks' means (2.022 against 1.243 on blocks of 100 and
    900 in the issue); the states sum, so any blocks give the one mean."""
    from crossent.metrics.dask import evaluate

    rng = np.random.default_rng(3)
    y = np.r_[np.zeros(100, dtype=int), rng.integers(0, 2, 900)]  # the first block holds class 0 only
    p = np.r_[np.full(100, 0.99), rng.uniform(0.05, 0.95, 900)]
    exact = log_loss(y, p)
    mean_of_means = np.mean([log_loss(y[:100], p[:100]), log_loss(y[100:], p[100:])])
    assert abs(mean_of_means - exact) > 0.1
    state = evaluate(da.from_array(y, chunks=((100, 900),)), da.from_array(p, chunks=((100, 900),)))
    assert state.metrics()["log_loss"] == pytest.approx(exact, rel=1e-12)


def test_dask_refuses_bad_input() -> None:
    from crossent.metrics.dask import evaluate

    y, p, _ = make("binary", 20)
    with pytest.raises(ValueError, match="split_every"):
        evaluate(y, p, split_every=1)
    with pytest.raises(ValueError, match="y has 19 rows but p has 20"):
        evaluate(da.from_array(y[:19], chunks=5), da.from_array(p, chunks=5))
    with pytest.raises(ValueError, match="label 3"):
        evaluate(da.from_array(np.r_[y[:-1], 3], chunks=5), da.from_array(p, chunks=5))
    assert evaluate(np.zeros(0, dtype=int), np.zeros(0)).scores.weight == 0  # no rows: the identity
