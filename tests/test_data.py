"""Reading the user's table, and the embedded default data set."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from crossent.selection import embedded, read_table
from crossent.selection._data import read_predictions


def write(tmp_path: Path, text: str, name: str = "data.csv") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_embedded_is_real_and_imbalanced() -> None:
    data = embedded()
    assert data.X.shape == (569, 30)
    assert np.bincount(data.y).tolist() == [357, 212]  # benign, malignant (the rare class is 1)
    assert data.class_names == ["benign", "malignant"]
    assert np.all(np.isfinite(data.X))


def test_csv_with_text_target(tmp_path: Path) -> None:
    path = write(tmp_path, "a,b,label\n1,2,cat\n3,4,dog\n5,6,cat\n")
    data = read_table(path, "label")
    assert data.feature_names == ["a", "b"]
    assert data.class_names == ["cat", "dog"]
    assert data.y.tolist() == [0, 1, 0]
    np.testing.assert_array_equal(data.X, [[1, 2], [3, 4], [5, 6]])


def test_numeric_classes_sort_as_numbers(tmp_path: Path) -> None:
    path = write(tmp_path, "x,y\n1,10\n2,9\n3,10\n")
    assert read_table(path, "y").class_names == ["9", "10"]


def test_one_hot_and_drop_na(tmp_path: Path) -> None:
    path = write(tmp_path, "color,size,y\nred,1,a\nblue,2,b\n,3,a\ngreen,NA,b\nred,5,b\n")
    with pytest.raises(ValueError, match=r"column .color. of data\.csv has 1 missing value"):
        read_table(path, "y", one_hot=True)
    data = read_table(path, "y", one_hot=True, drop_na=True)
    assert data.notes == ["dropped 2 row(s) with missing values"]
    assert data.feature_names == ["color=blue", "color=red", "size"]
    np.testing.assert_array_equal(data.X, [[0, 1, 1], [1, 0, 2], [0, 1, 5]])


def test_parquet(tmp_path: Path) -> None:
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    path = tmp_path / "data.parquet"
    pq.write_table(pa.table({"f": [0.5, 1.5, 2.5, 3.5], "t": ["x", "y", "x", "y"]}), path)
    data = read_table(path, "t")
    assert data.X[:, 0].tolist() == [0.5, 1.5, 2.5, 3.5] and data.y.tolist() == [0, 1, 0, 1]


@pytest.mark.parametrize(("text", "target", "kwargs", "fragment"), [
    (None, "y", {}, "no such file"),
    ("a,y\n1,0\n2,1\n", "label", {}, "has no column 'label'; its columns are a, y"),
    ("a,y\nx,0\n2,1\n", "y", {}, "column 'a' of data.csv is not numeric (it holds 'x')"),
    ("a,y\n1,0\n2,0\n", "y", {}, "single class ('0')"),
    ("a,y\n1,0\nnan,1\n", "y", {}, "column 'a' of data.csv has 1 missing value(s) (first in data row 2)"),
    ("a,y\n1,0\n2\n", "y", {}, "line 3 of data.csv has 1 fields"),
    ("y\n0\n1\n", "y", {}, "no feature columns"),
])
def test_table_errors_name_the_problem(tmp_path: Path, text: str | None, target: str, kwargs: dict[str, bool],
                                       fragment: str) -> None:
    path = tmp_path / "data.csv" if text is None else write(tmp_path, text)
    with pytest.raises(ValueError) as raised:
        read_table(path, target, **kwargs)
    assert fragment in str(raised.value)


def test_read_predictions(tmp_path: Path) -> None:
    path = write(tmp_path, "y,p0,p1,p2\n0,0.7,0.2,0.1\n2,0.1,0.2,0.7\n1,0.3,0.4,0.3\n")
    y, values, names = read_predictions(path, "y", ["p0", "p1", "p2"])
    assert y.tolist() == [0, 2, 1] and values.shape == (3, 3) and names == ["0", "1", "2"]
    with pytest.raises(ValueError, match="3 classes but 1 prediction column"):
        read_predictions(path, "y", ["p1"])
