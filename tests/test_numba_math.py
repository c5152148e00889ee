"""The vectorizable float32 functions of the Numba kernels against float64 NumPy."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("numba")

from numba import njit

from crossent.kernels._numba_math import (
    MIN_ORDERED,
    exp_nonpositive,
    log1p_series,
    ordered,
    prefetch,
    unordered,
)

FLOAT32_EPS = float(np.finfo(np.float32).eps)


@njit
def _exp(x: np.ndarray) -> np.ndarray:
    out = np.empty_like(x)
    for i in range(x.size):
        out[i] = exp_nonpositive(x[i])
    return out


@njit
def _log1p(e: np.ndarray) -> np.ndarray:
    out = np.empty_like(e)
    two = np.float32(2.0)
    for i in range(e.size):
        out[i] = log1p_series(e[i] / (two + e[i]))
    return out


@njit
def _keys(x: np.ndarray) -> np.ndarray:
    out = np.empty(x.size, np.int32)
    for i in range(x.size):
        out[i] = ordered(x[i])
    return out


@njit
def _values(keys: np.ndarray) -> np.ndarray:
    out = np.empty(keys.size, np.float32)
    for i in range(keys.size):
        out[i] = unordered(keys[i])
    return out


@njit
def _prefetched_sum(x: np.ndarray) -> float:
    total = 0.0
    for i in range(x.size):
        prefetch(x, i + 64)  # past the end too: a hint, never a fault
        total += x[i]
    return total


def test_exp_within_two_ulp_where_normal_and_exact_at_the_edges() -> None:
    x = np.linspace(-87.0, 0.0, 2_000_001, dtype=np.float32)
    got, want = _exp(x).astype(np.float64), np.exp(x.astype(np.float64))
    assert np.max(np.abs(got - want) / want) < 2 * FLOAT32_EPS
    edges = _exp(np.array([0.0, -0.0, -87.5, -1e4, -np.inf, np.nan], np.float32))
    np.testing.assert_array_equal(edges[:5], [1.0, 1.0, 0.0, 0.0, 0.0])
    assert np.isnan(edges[5])


def test_log1p_within_two_ulp() -> None:
    e = np.linspace(0.0, 1.0, 1_000_001, dtype=np.float32)
    got, want = _log1p(e).astype(np.float64), np.log1p(e.astype(np.float64))
    assert got[0] == 0.0
    assert np.max(np.abs(got[1:] - want[1:]) / want[1:]) < 2 * FLOAT32_EPS
    tiny = np.array([1e-30, 1e-10], np.float32)
    np.testing.assert_allclose(_log1p(tiny), tiny, rtol=FLOAT32_EPS)


def test_ordered_keys_sort_as_the_floats_and_round_trip() -> None:
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.standard_normal(10_000).astype(np.float32) * 1e3,
                        np.array([np.inf, -np.inf, 0.0, -0.0, 1e-45, -1e-45, 3.4e38, -3.4e38], np.float32)])
    keys = _keys(x)
    order = np.argsort(keys, kind="stable")
    assert np.all(np.diff(x[order].astype(np.float64)) >= 0)
    np.testing.assert_array_equal(_values(keys).view(np.int32), x.view(np.int32))
    assert int(MIN_ORDERED) < int(_keys(np.array([-np.inf], np.float32))[0])
    nan = _keys(np.array([np.nan], np.float32))[0]
    assert nan > _keys(np.array([np.inf], np.float32))[0]  # a (positive) NaN orders above +inf


def test_prefetch_is_only_a_hint() -> None:
    x = np.arange(100, dtype=np.float32)
    assert _prefetched_sum(x) == float(x.sum())
