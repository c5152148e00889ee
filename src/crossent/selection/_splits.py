"""The protocol's splits: repeated stratified K-fold outside, stratified K-fold inside.

Every candidate loss is scored on the same R × K outer splits (R repeats of K folds), and every
step that needs held-out training data (calibration, the decision rule) uses inner folds of the
outer training part. Both stratify:

- single-label ``y`` ``(N,)`` integer class codes: scikit-learn's ``StratifiedKFold(shuffle=True)``,
  so each fold holds each class's samples to within one of its share;
- multi-label ``y`` ``(N, L)`` 0/1 indicator: :func:`iterative_stratification` (Sechidis et al.),
  so each fold holds about 1/K of each label's positives.

Seeds are derived from ``(random_state, repeat)`` by :class:`numpy.random.SeedSequence`: the
splits are a pure function of ``y`` and the seed, and repeats differ from each other.

A class (or a label's positives) with fewer samples than folds cannot appear in every test fold,
so it is a ``ValueError`` that names the class and its count (by ``class_names`` when given).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["Split", "inner_splits", "iterative_stratification", "outer_splits"]


@dataclass(frozen=True, eq=False)
class Split:
    """One outer split: fold ``fold`` of repeat ``repeat``; ``train`` and ``test`` are sorted,
    disjoint int64 row indices whose union is every row. (Compared by identity: array fields.)"""

    repeat: int
    fold: int
    train: np.ndarray
    test: np.ndarray


def outer_splits(y: Any, *, cv: int, repeats: int, random_state: int,
                 class_names: Sequence[str] | None = None) -> list[Split]:
    """The R × K outer splits of repeated stratified K-fold cross-validation.

    Args:
        y: integer class codes ``(N,)``, or a 0/1 indicator ``(N, L)`` for multi-label.
        cv: the number of folds K, an int ≥ 2.
        repeats: the number of repeats R, an int ≥ 1; each repeat is a fresh partition into K folds.
        random_state: a non-negative int; with ``repeat`` it seeds each partition.
        class_names: names of the classes (codes index them) or labels, for error messages.

    Returns ``R · K`` splits, repeat-major: within each repeat every row is in exactly one
    ``test``. Single-label: ``StratifiedKFold(cv, shuffle=True)`` seeded from
    ``(random_state, repeat)``; multi-label: :func:`iterative_stratification` with a generator
    seeded the same way.

    >>> splits = outer_splits([0, 0, 0, 1, 1, 1], cv=3, repeats=2, random_state=0)
    >>> len(splits), [len(s.test) for s in splits]
    (6, [2, 2, 2, 2, 2, 2])
    >>> sorted(np.concatenate([s.test for s in splits[:3]]).tolist())
    [0, 1, 2, 3, 4, 5]

    Reference: Bouckaert, Frank, Evaluating the Replicability of Significance Tests for
    Comparing Learning Algorithms, PAKDD 2004 (repeated K-fold, scored by
    :func:`crossent.selection._recommend.corrected_resampled_t`).
    """
    cv = _count("cv", cv, 2)
    repeats = _count("repeats", repeats, 1)
    seed = _seed(random_state)
    codes = _labels(y, cv, "folds", class_names)
    splits: list[Split] = []
    for repeat in range(repeats):
        fold_of = _fold_ids(codes, cv, np.random.SeedSequence([seed, repeat]))
        splits.extend(Split(repeat, fold, *_train_test(fold_of, fold)) for fold in range(cv))
    return splits


def inner_splits(y: Any, *, k: int, random_state: int,
                 class_names: Sequence[str] | None = None) -> list[tuple[np.ndarray, np.ndarray]]:
    """K stratified folds of one training part, as ``(train, test)`` index pairs into ``y``.

    As one repeat of :func:`outer_splits` with ``cv=k``: the same stratification, seeded from
    ``random_state`` alone (give each outer split its own), and the same validation, so a class
    with fewer than ``k`` samples in this training part is a ``ValueError``.

    >>> y = np.array([0, 1, 0, 1, 0, 1])
    >>> [sorted(y[test].tolist()) for _, test in inner_splits(y, k=3, random_state=0)]
    [[0, 1], [0, 1], [0, 1]]
    """
    k = _count("k", k, 2)
    seed = _seed(random_state)
    codes = _labels(y, k, "inner folds", class_names)
    fold_of = _fold_ids(codes, k, np.random.SeedSequence([seed]))
    return [_train_test(fold_of, fold) for fold in range(k)]


def iterative_stratification(Y: Any, k: int, rng: np.random.Generator) -> np.ndarray:
    """Assign the rows of a multi-label indicator to ``k`` folds of equal share, label by label.

    Sechidis, Tsoumakas and Vlahavas's Algorithm 1 with shares r_j = 1/k. Each fold j wants
    c_j = N/k rows and c_j^λ = N^λ/k positives of each label λ (N^λ its positives). Then, while
    labelled rows remain unassigned:

    1. take the label λ with the fewest unassigned positives (ties at random): rare labels are
       placed first, while every fold still wants them;
    2. deal each of its unassigned rows (in random order) to the fold that wants λ most,
       ties broken by the fold that wants rows most, then at random;
    3. that fold's wants drop by one for every label of the row, and by one row.

    Rows with no positive label go last, each to the fold that wants rows most (ties at
    random), which evens out the fold sizes.

    Args:
        Y: a 0/1 indicator ``(N, L)``.
        k: the number of folds, an int ≥ 2.
        rng: the generator that breaks ties and orders the rows.

    Returns the fold ``(N,)`` int64 in ``[0, k)`` of every row.

    >>> Y = np.array([[1, 0], [1, 0], [0, 1], [0, 1], [0, 0], [0, 0]])
    >>> folds = iterative_stratification(Y, 2, np.random.default_rng(0))
    >>> [Y[folds == j].sum(axis=0).tolist() for j in range(2)], np.bincount(folds).tolist()
    ([[1, 1], [1, 1]], [3, 3])

    Reference: Sechidis, Tsoumakas, Vlahavas, On the Stratification of Multi-Label Data,
    ECML PKDD 2011, LNCS 6913, pp. 145-158.
    """
    Y = _indicator(Y)
    k = _count("k", k, 2)
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
    n, n_labels = Y.shape
    wants_rows = np.full(k, n / k)
    wants = np.tile(Y.sum(axis=0) / k, (k, 1))  # (k, L): c_j^λ
    remaining = Y.sum(axis=0).astype(np.int64)  # unassigned positives per label
    labels_of = [np.flatnonzero(row) for row in Y]
    fold_of = np.full(n, -1, dtype=np.int64)
    for _ in range(n_labels):
        open_labels = np.flatnonzero(remaining > 0)
        if open_labels.size == 0:
            break
        label = _pick(-remaining[open_labels], rng, open_labels)
        rows = np.flatnonzero((Y[:, label] == 1) & (fold_of < 0))
        for row in rng.permutation(rows):
            best = np.flatnonzero(wants[:, label] == wants[:, label].max())
            fold = _pick(wants_rows[best], rng, best)
            fold_of[row] = fold
            wants[fold, labels_of[row]] -= 1
            wants_rows[fold] -= 1
            remaining[labels_of[row]] -= 1
    for row in rng.permutation(np.flatnonzero(fold_of < 0)):  # rows without labels
        fold = _pick(wants_rows, rng, np.arange(k))
        fold_of[row] = fold
        wants_rows[fold] -= 1
    return fold_of


def _pick(values: np.ndarray, rng: np.random.Generator, ids: np.ndarray) -> int:
    """``ids[i]`` for an i where ``values`` is largest, ties broken uniformly at random."""
    ties = np.flatnonzero(values == values.max())
    return int(ids[ties[0] if ties.size == 1 else rng.choice(ties)])


def _fold_ids(codes: np.ndarray, k: int, seed: np.random.SeedSequence) -> np.ndarray:
    if codes.ndim == 2:
        return iterative_stratification(codes, k, np.random.default_rng(seed))
    from sklearn.model_selection import StratifiedKFold

    folds = StratifiedKFold(k, shuffle=True, random_state=int(seed.generate_state(1)[0]))
    fold_of = np.empty(len(codes), dtype=np.int64)
    for fold, (_, test) in enumerate(folds.split(np.zeros((len(codes), 1)), codes)):
        fold_of[test] = fold
    return fold_of


def _train_test(fold_of: np.ndarray, fold: int) -> tuple[np.ndarray, np.ndarray]:
    return np.flatnonzero(fold_of != fold).astype(np.int64), np.flatnonzero(fold_of == fold).astype(np.int64)


def _count(name: str, value: Any, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < low:
        raise ValueError(f"{name} must be an int of at least {low}, got {value!r}")
    return int(value)


def _seed(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 0:
        raise ValueError(f"random_state must be a non-negative int, got {value!r}")
    return int(value)


def _indicator(Y: Any) -> np.ndarray:
    Y = np.asarray(Y)
    if Y.ndim != 2:
        raise ValueError(f"a multi-label y must be a 0/1 indicator of shape (N, L), got shape {Y.shape}")
    if not np.isin(Y, (0, 1)).all():
        raise ValueError(f"a multi-label y must hold 0 and 1 only, got {Y[~np.isin(Y, (0, 1))].flat[0].item()!r}")
    return Y.astype(np.int64)


def _labels(y: Any, k: int, folds: str, class_names: Sequence[str] | None) -> np.ndarray:
    """Validated codes ``(N,)`` or indicator ``(N, L)``; every class (every label's positives)
    needs at least ``k`` samples."""
    y = np.asarray(y)
    if y.ndim == 2:
        y = _indicator(y)
        counts, what = y.sum(axis=0), "positive sample(s)"
        present = np.ones(len(counts), dtype=bool)
    elif y.ndim == 1:
        if not (np.issubdtype(y.dtype, np.integer) or y.dtype == np.bool_):
            raise TypeError(f"y must hold integer class codes (N,) or a 0/1 indicator (N, L), got dtype {y.dtype}")
        y = y.astype(np.int64)
        if y.size and y.min() < 0:
            raise ValueError(f"y must hold non-negative class codes, got {int(y.min())}")
        counts, what = np.bincount(y), "sample(s)"
        present = counts > 0
    else:
        raise ValueError(f"y must be class codes (N,) or a multi-label indicator (N, L), got shape {y.shape}")
    if len(y) < k:
        raise ValueError(f"y has {len(y)} sample(s), fewer than the {k} {folds}")
    small = np.flatnonzero(present & (counts < k))
    if small.size:
        i = int(small[np.argmin(counts[small])])
        kind = "label" if y.ndim == 2 else "class"
        name = repr(class_names[i]) if class_names is not None else str(i)
        raise ValueError(f"{kind} {name} has {int(counts[i])} {what}, fewer than the {k} {folds}")
    return y
