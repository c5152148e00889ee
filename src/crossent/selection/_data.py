"""The data a comparison runs on: the embedded default, or a CSV / Parquet table of the user's.

Every problem with a table is a ValueError whose message names the file, the column and the
value, so the command line can print it as one line.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

MISSING = {"", "na", "nan", "n/a", "null", "none", "?"}


@dataclass(frozen=True)
class Dataset:
    """Features, integer-coded target and the names that go with them."""

    X: np.ndarray  # (N, F) float64
    y: np.ndarray  # (N,) integer class indices, or (N, L) 0/1 indicators for multi-label
    feature_names: list[str]
    class_names: list[str]
    name: str
    description: str = ""
    notes: list[str] = field(default_factory=list)  # what was done to the data (rows dropped, ...)


def embedded() -> Dataset:
    """The default data set: the Wisconsin diagnostic breast cancer data (UCI), as shipped inside
    scikit-learn: 569 tumours, 30 numeric features of cell nuclei, 212 malignant (37%) and 357
    benign. Real, imbalanced, no network needed."""
    from sklearn.datasets import load_breast_cancer

    data = load_breast_cancer()
    # Malignant is the rare class and the one a screening model must find: make it class 1.
    y = (data.target == 0).astype(np.int64)
    return Dataset(
        X=np.asarray(data.data, dtype=np.float64), y=y,
        feature_names=[str(f) for f in data.feature_names], class_names=["benign", "malignant"],
        name="breast-cancer (embedded)",
        description="Wisconsin diagnostic breast cancer (UCI, via scikit-learn): 569 samples, "
                    "30 features, 212 malignant (37%) vs 357 benign",
    )


def read_table(path: str | Path, target: str, *, one_hot: bool = False, drop_na: bool = False) -> Dataset:
    """Read a CSV or Parquet file: numeric feature columns and a target column.

    The target may hold class names or numbers; it becomes integer class indices (classes in
    sorted order). Non-numeric features are an error unless ``one_hot`` encodes them; missing
    values are an error unless ``drop_na`` drops their rows.
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"no such file: {path}")
    columns = _read_parquet(path) if path.suffix.lower() in (".parquet", ".pq") else _read_csv(path)
    if target not in columns:
        raise ValueError(f"{path.name} has no column {target!r}; its columns are {', '.join(columns)}")
    if len(columns) < 2:
        raise ValueError(f"{path.name} has no feature columns besides the target {target!r}")
    notes: list[str] = []
    n_rows = len(columns[target])
    missing = np.zeros(n_rows, dtype=bool)
    for name, values in columns.items():
        col_missing = np.array([_is_missing(v) for v in values], dtype=bool)
        if col_missing.any() and not drop_na:
            first = int(np.argmax(col_missing))
            raise ValueError(f"column {name!r} of {path.name} has {int(col_missing.sum())} missing value(s) "
                             f"(first in data row {first + 1}); pass --drop-na to drop those rows")
        missing |= col_missing
    if missing.any():
        notes.append(f"dropped {int(missing.sum())} row(s) with missing values")
        columns = {name: [v for v, m in zip(values, missing, strict=True) if not m]
                   for name, values in columns.items()}
    labels = [str(v).strip() for v in columns.pop(target)]
    if not labels:
        raise ValueError(f"{path.name} has no data rows")
    class_names = sorted(set(labels), key=_natural)
    if len(class_names) < 2:
        raise ValueError(f"target column {target!r} has a single class ({class_names[0]!r}); "
                         f"a classifier needs at least two")
    codes = {c: i for i, c in enumerate(class_names)}
    y = np.array([codes[v] for v in labels], dtype=np.int64)

    features: list[np.ndarray] = []
    names: list[str] = []
    for name, values in columns.items():
        numeric = _as_float(values)
        if numeric is not None:
            features.append(numeric)
            names.append(name)
        elif one_hot:
            levels = sorted({str(v).strip() for v in values}, key=_natural)
            for level in levels:
                features.append(np.array([str(v).strip() == level for v in values], dtype=np.float64))
                names.append(f"{name}={level}")
        else:
            bad = next(v for v in values if _float_or_none(v) is None)
            raise ValueError(f"column {name!r} of {path.name} is not numeric (it holds {str(bad)!r}); "
                             f"encode it, or pass --one-hot to one-hot encode text columns")
    X = np.column_stack(features) if features else np.empty((len(y), 0))
    if not np.all(np.isfinite(X)):
        raise ValueError(f"{path.name} has infinite feature values")
    return Dataset(X=X, y=y, feature_names=names, class_names=class_names, name=path.name,
                   description=f"{path.name}: {X.shape[0]} samples, {X.shape[1]} features, target {target!r}",
                   notes=notes)


def _read_csv(path: Path) -> dict[str, list[Any]]:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        sample = handle.read(65536)
        handle.seek(0)
        try:
            dialect: Any = csv.Sniffer().sniff(sample, delimiters=",;\t")
        except csv.Error:
            dialect = csv.excel
        rows = list(csv.reader(handle, dialect))
    if not rows:
        raise ValueError(f"{path.name} is empty")
    header = [h.strip() for h in rows[0]]
    if len(set(header)) != len(header):
        raise ValueError(f"{path.name} has duplicate column names")
    columns: dict[str, list[Any]] = {h: [] for h in header}
    for number, row in enumerate(rows[1:], start=2):
        if not row:
            continue
        if len(row) != len(header):
            raise ValueError(f"line {number} of {path.name} has {len(row)} fields, the header has {len(header)}")
        for h, v in zip(header, row, strict=True):
            columns[h].append(v)
    return columns


def _read_parquet(path: Path) -> dict[str, list[Any]]:
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise ValueError("reading Parquet needs pyarrow: pip install pyarrow") from None
    table = pq.read_table(path)
    return {str(k): list(v) for k, v in table.to_pydict().items()}


def _is_missing(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float):
        return math.isnan(value)
    return isinstance(value, str) and value.strip().lower() in MISSING


def _float_or_none(value: Any) -> float | None:
    if isinstance(value, bool):
        return float(value)
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _as_float(values: list[Any]) -> np.ndarray | None:
    out = [_float_or_none(v) for v in values]
    return None if any(v is None for v in out) else np.array(out, dtype=np.float64)


def _natural(label: str) -> tuple[int, float, str]:
    number = _float_or_none(label)
    return (0, number, "") if number is not None else (1, 0.0, label)


def read_predictions(path: str | Path, target: str, columns: list[str]) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """A file of predictions: the target column and the prediction columns.

    One prediction column is the positive class's probability (or logit) for a binary target;
    several are one per class, in the order given, for the classes in sorted order (integer
    labels 0..C-1 index the columns directly).
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"no such file: {path}")
    table = _read_parquet(path) if path.suffix.lower() in (".parquet", ".pq") else _read_csv(path)
    for name in [target, *columns]:
        if name not in table:
            raise ValueError(f"{path.name} has no column {name!r}; its columns are {', '.join(table)}")
    values = []
    for name in columns:
        column = _as_float(table[name])
        if column is None or not np.all(np.isfinite(column)):
            raise ValueError(f"column {name!r} of {path.name} must hold finite numbers")
        values.append(column)
    matrix = np.column_stack(values)
    labels = [str(v).strip() for v in table[target]]
    class_names = sorted(set(labels), key=_natural)
    expected = 2 if len(columns) == 1 else len(columns)
    if len(class_names) > expected:
        raise ValueError(f"target {target!r} has {len(class_names)} classes but {len(columns)} prediction column(s) "
                         f"were given")
    numeric = [_float_or_none(c) for c in class_names]
    if all(n is not None and float(n).is_integer() and 0 <= n < expected for n in numeric):
        class_names = [str(i) for i in range(expected)]
        y = np.array([int(float(v)) for v in labels], dtype=np.int64)
    else:
        if len(class_names) < expected:
            raise ValueError(f"target {target!r} has {len(class_names)} class(es); with names rather than "
                             f"0..{expected - 1} every class must appear")
        codes = {c: i for i, c in enumerate(class_names)}
        y = np.array([codes[v] for v in labels], dtype=np.int64)
    return y, matrix[:, 0] if len(columns) == 1 else matrix, class_names
