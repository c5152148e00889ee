"""The protocol's splits: partitions, stratification, multi-label iterative stratification, seeds.

- every row is in exactly one test fold per repeat, and train/test are disjoint complements;
- single-label: each fold's class counts are within 1 of the ideal count/K;
- multi-label: the label distribution (Sechidis et al.'s LD measure) deviates markedly less
  from the whole data's than plain shuffled KFold's, and every label with ≥ K positives has
  positives in every fold;
- a seed gives the same splits, repeats differ; invalid arguments name themselves.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from crossent.selection._splits import Split, inner_splits, iterative_stratification, outer_splits

sklearn_datasets = pytest.importorskip("sklearn.datasets")
model_selection = pytest.importorskip("sklearn.model_selection")


def single_label(seed: int = 0) -> np.ndarray:
    """Unbalanced codes: 100, 37, 11 and 5 samples, shuffled."""
    y = np.repeat(np.arange(4), [100, 37, 11, 5])
    return np.random.default_rng(seed).permutation(y)


def multi_label(seed: int) -> np.ndarray:
    _, Y = sklearn_datasets.make_multilabel_classification(n_samples=300, n_classes=8, n_labels=2,
                                                           allow_unlabeled=True, random_state=seed)
    return Y


def label_distribution(Y: np.ndarray, fold_of: np.ndarray, k: int) -> float:
    """Sechidis et al.'s LD: the mean over labels and folds of |positives/negatives in the fold -
    positives/negatives in the data|."""
    positives = Y.sum(axis=0)
    whole = positives / (len(Y) - positives)
    deviations = []
    for fold in range(k):
        part = Y[fold_of == fold]
        p = part.sum(axis=0)
        deviations.append(np.abs(p / (len(part) - p) - whole))
    return float(np.mean(deviations))


def fold_ids(splits: list[Split] | list[tuple[np.ndarray, np.ndarray]], n: int) -> np.ndarray:
    fold_of = np.full(n, -1)
    for fold, split in enumerate(splits):
        test = split.test if isinstance(split, Split) else split[1]
        assert np.all(fold_of[test] == -1), "a row is in two test folds"
        fold_of[test] = fold
    return fold_of


def assert_partition(train: np.ndarray, test: np.ndarray, n: int) -> None:
    assert train.dtype == test.dtype == np.int64
    assert np.all(np.diff(train) > 0) and np.all(np.diff(test) > 0)
    assert np.intersect1d(train, test).size == 0
    np.testing.assert_array_equal(np.union1d(train, test), np.arange(n))


@pytest.mark.parametrize("kind", ["single", "multi"])
def test_each_repeat_is_a_partition(kind: str) -> None:
    y = single_label() if kind == "single" else multi_label(0)
    # every label of multi_label(0) has at least 5 positives
    splits = outer_splits(y, cv=5, repeats=3, random_state=7)
    assert [(s.repeat, s.fold) for s in splits] == [(r, f) for r in range(3) for f in range(5)]
    for repeat in range(3):
        in_repeat = [s for s in splits if s.repeat == repeat]
        fold_of = fold_ids(in_repeat, len(y))
        assert np.all(fold_of >= 0), "a row is in no test fold"
        for s in in_repeat:
            assert_partition(s.train, s.test, len(y))


def test_single_label_folds_hold_each_class_to_within_one() -> None:
    y = single_label()
    counts = np.bincount(y)
    for cv in (2, 3, 5):
        for s in outer_splits(y, cv=cv, repeats=2, random_state=1):
            per_fold = np.bincount(y[s.test], minlength=4)
            assert np.all(np.abs(per_fold - counts / cv) < 1), (cv, per_fold)


def test_inner_splits_stratify_the_training_part() -> None:
    y = single_label()
    train = outer_splits(y, cv=5, repeats=1, random_state=0)[0].train
    y_train = y[train]
    inner = inner_splits(y_train, k=3, random_state=11)
    assert len(inner) == 3
    assert np.all(fold_ids(inner, len(y_train)) >= 0)
    counts = np.bincount(y_train)
    for inner_train, inner_test in inner:
        assert_partition(inner_train, inner_test, len(y_train))
        assert np.all(np.abs(np.bincount(y_train[inner_test], minlength=4) - counts / 3) < 1)


@pytest.mark.parametrize("seed", range(5))
def test_iterative_stratification_beats_plain_kfold(seed: int) -> None:
    Y = multi_label(seed)
    k = 5
    fold_of = iterative_stratification(Y, k, np.random.default_rng(seed))
    assert fold_of.dtype == np.int64 and set(fold_of.tolist()) == set(range(k))
    plain = np.empty(len(Y), dtype=np.int64)
    for fold, (_, test) in enumerate(model_selection.KFold(k, shuffle=True, random_state=seed).split(Y)):
        plain[test] = fold
    kept = Y.sum(axis=0) > 0  # LD divides by the data's ratio; a label without positives adds 0 to both
    ours, theirs = label_distribution(Y[:, kept], fold_of, k), label_distribution(Y[:, kept], plain, k)
    assert ours < theirs / 3, (ours, theirs)
    # the unlabelled rows even out the fold sizes
    assert np.ptp(np.bincount(fold_of, minlength=k)) <= 1
    for label in np.flatnonzero(Y.sum(axis=0) >= k):
        assert all(Y[fold_of == fold, label].sum() > 0 for fold in range(k)), label


def test_iterative_stratification_per_label_counts_are_near_ideal() -> None:
    Y = multi_label(0)
    k = 4
    fold_of = iterative_stratification(Y, k, np.random.default_rng(3))
    ideal = Y.sum(axis=0) / k
    for fold in range(k):
        # each label's positives are dealt while every fold still wants them: at most one off,
        # up to rows placed earlier for rarer labels they co-occur with
        assert np.all(np.abs(Y[fold_of == fold].sum(axis=0) - ideal) <= 2), fold


def test_rows_without_labels_fill_the_folds_that_need_rows() -> None:
    Y = np.zeros((10, 3), dtype=np.int64)
    Y[:3, 0] = 1
    fold_of = iterative_stratification(Y, 3, np.random.default_rng(0))
    assert sorted(np.bincount(fold_of).tolist()) == [3, 3, 4]
    assert sorted(fold_of[:3].tolist()) == [0, 1, 2]


@pytest.mark.parametrize("kind", ["single", "multi"])
def test_a_seed_gives_the_same_splits_and_repeats_differ(kind: str) -> None:
    y = single_label() if kind == "single" else multi_label(0)
    first = outer_splits(y, cv=5, repeats=2, random_state=3)
    again = outer_splits(y, cv=5, repeats=2, random_state=3)
    other = outer_splits(y, cv=5, repeats=2, random_state=4)
    for a, b in zip(first, again, strict=True):
        np.testing.assert_array_equal(a.test, b.test)
        np.testing.assert_array_equal(a.train, b.train)
    folds = [fold_ids([s for s in splits if s.repeat == r], len(y)) for splits in (first, other) for r in (0, 1)]
    assert not np.array_equal(folds[0], folds[1]), "the two repeats are the same partition"
    assert not np.array_equal(folds[0], folds[2]), "another seed gives the same partition"
    inner = [inner_splits(y, k=3, random_state=5)[0][1] for _ in range(2)]
    np.testing.assert_array_equal(*inner)


ERRORS: list[tuple[Any, dict[str, Any], type[Exception], str]] = [
    ([0, 1] * 5, {"cv": 1}, ValueError, "cv must be an int of at least 2, got 1$"),
    ([0, 1] * 5, {"cv": 2.0}, ValueError, "cv must be an int of at least 2, got 2.0"),
    ([0, 1] * 5, {"cv": True}, ValueError, "cv must be .* got True"),
    ([0, 1] * 5, {"repeats": 0}, ValueError, "repeats must be an int of at least 1, got 0$"),
    ([0, 1] * 5, {"random_state": -1}, ValueError, "random_state must be a non-negative int, got -1"),
    ([0] * 8 + [1] * 2, {}, ValueError, "class 1 has 2 sample[(]s[)], fewer than the 3 folds$"),
    ([0] * 8 + [1] * 2, {"class_names": ["benign", "malignant"]}, ValueError,
     "class 'malignant' has 2 sample"),
    ([[1, 0]] * 5 + [[0, 1]] * 2, {}, ValueError, "label 1 has 2 positive sample[(]s[)], fewer than the 3 folds"),
    ([[1, 2]] * 5, {}, ValueError, "0 and 1 only, got 2"),
    ([0.5, 1.0] * 5, {}, TypeError, "y must hold integer class codes"),
    ([0, 1], {}, ValueError, "y has 2 sample[(]s[)], fewer than the 3 folds"),
]


@pytest.mark.parametrize(("y", "options", "error", "message"), ERRORS)
def test_errors_name_the_argument(y: Any, options: dict[str, Any], error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        outer_splits(y, **{"cv": 3, "repeats": 1, "random_state": 0, **options})


def test_inner_split_errors_name_k() -> None:
    with pytest.raises(ValueError, match="k must be an int of at least 2, got 1"):
        inner_splits([0, 1] * 4, k=1, random_state=0)
    with pytest.raises(ValueError, match=r"class 1 has 2 sample[(]s[)], fewer than the 3 inner folds"):
        inner_splits([0] * 6 + [1] * 2, k=3, random_state=0)
    with pytest.raises(TypeError, match=r"rng must be a numpy\.random\.Generator"):
        iterative_stratification(np.eye(3), 2, 0)  # type: ignore[arg-type]
