"""Reading the user's table, a file of predictions, and the embedded data sets."""

from __future__ import annotations

import csv
import gzip
import io
from importlib.resources import files
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from crossent.selection import embedded, read_table
from crossent.selection._data import EMBEDDED, read_predictions


def write(tmp_path: Path, text: str, name: str = "data.csv") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def raises(path: Path, target: str, **options: Any) -> str:
    with pytest.raises(ValueError) as raised:
        read_table(path, target, **options)
    return str(raised.value)


# -- the embedded data sets -----------------------------------------------------------------------


def raw_hypothyroid() -> list[dict[str, str]]:
    """The vendored file as the raw UCI rows, to count from independently of the loader."""
    data = files("crossent").joinpath("data/hypothyroid.csv.gz").read_bytes()
    return list(csv.DictReader(io.StringIO(gzip.decompress(data).decode("ascii"))))


def test_hypothyroid_is_the_default_and_keeps_its_missing_values() -> None:
    rows = raw_hypothyroid()
    data = embedded()
    assert data.name.startswith("hypothyroid")
    # the published counts: 3163 patients, 151 hypothyroid
    assert len(rows) == 3163 and sum(r["class"] == "hypothyroid" for r in rows) == 151
    assert data.class_names == ["negative", "hypothyroid"]
    assert np.bincount(data.y).tolist() == [3012, 151]  # the rare class is class 1
    assert data.y.tolist() == [int(r["class"] == "hypothyroid") for r in rows]
    assert "TBG" not in data.feature_names and not any(n.endswith("_measured") for n in data.feature_names)
    assert data.X.shape == (3163, len(data.feature_names))
    # every '?' of a kept column, and nothing else, is NaN
    for j, name in enumerate(data.feature_names):
        np.testing.assert_array_equal(np.isnan(data.X[:, j]), [r[name] == "?" for r in rows], err_msg=name)
    assert np.isnan(data.X).any()
    assert f"{data.X.shape[1]} features" in data.description and "151 hypothyroid (4.8%)" in data.description
    assert f"{int(np.isnan(data.X).sum())} missing values" in data.description


def test_hypothyroid_codes_flags_and_sex_as_0_1() -> None:
    rows = raw_hypothyroid()
    data = embedded("hypothyroid")
    sex = data.X[:, data.feature_names.index("sex")]
    np.testing.assert_array_equal(sex, [{"M": 1.0, "F": 0.0}.get(r["sex"], np.nan) for r in rows])
    pregnant = data.X[:, data.feature_names.index("pregnant")]
    np.testing.assert_array_equal(pregnant, [r["pregnant"] == "t" for r in rows])
    tsh = data.X[:, data.feature_names.index("TSH")]
    assert tsh[0] == float(rows[0]["TSH"])


def test_breast_cancer_is_still_there() -> None:
    data = embedded("breast-cancer")
    assert data.X.shape == (569, 30)
    assert np.bincount(data.y).tolist() == [357, 212]  # benign, malignant (the rare class is 1)
    assert data.class_names == ["benign", "malignant"]
    assert np.all(np.isfinite(data.X))


def test_an_unknown_embedded_name_lists_the_choices() -> None:
    assert EMBEDDED == ("hypothyroid", "breast-cancer")
    with pytest.raises(ValueError, match="no embedded data set 'iris'; the choices are hypothyroid, breast-cancer"):
        embedded("iris")


# -- tables ---------------------------------------------------------------------------------------


def test_csv_with_text_target(tmp_path: Path) -> None:
    path = write(tmp_path, "a,b,label\n1,2,cat\n3,4,dog\n5,6,cat\n")
    data = read_table(path, "label")
    assert data.feature_names == ["a", "b"]
    assert data.class_names == ["cat", "dog"]
    assert data.y.tolist() == [0, 1, 0]
    np.testing.assert_array_equal(data.X, [[1, 2], [3, 4], [5, 6]])
    assert data.notes == []


def test_numeric_classes_sort_as_numbers(tmp_path: Path) -> None:
    path = write(tmp_path, "x,y\n1,10\n2,9\n3,10\n")
    assert read_table(path, "y").class_names == ["9", "10"]


def test_only_empty_cells_are_missing(tmp_path: Path) -> None:
    # 'none', 'NA', 'null' and '?' are classes like any other; an empty feature cell is NaN
    path = write(tmp_path, "a,y\n1,none\n,NA\n3,null\n4,?\n5,none\n")
    data = read_table(path, "y")
    assert data.class_names == ["?", "NA", "none", "null"]
    assert data.y.tolist() == [2, 1, 3, 0, 2]
    np.testing.assert_array_equal(np.isnan(data.X[:, 0]), [False, True, False, False, False])
    assert "1 missing values" in data.description


def test_na_values_names_more_missing_markers(tmp_path: Path) -> None:
    path = write(tmp_path, "a,b,y\n1,?,none\nNA,2,yes\n3,4,none\n")
    data = read_table(path, "y", na_values=["?", "NA"])
    assert data.class_names == ["none", "yes"]
    np.testing.assert_array_equal(np.isnan(data.X), [[False, True], [True, False], [False, False]])
    assert "a number" in raises(path, "y")  # without na_values '?' is a value, and not a number
    assert "collection of strings" in raises(path, "y", na_values="NA")  # a string is not a list of them


def test_text_nan_is_refused_with_the_fix(tmp_path: Path) -> None:
    path = write(tmp_path, "a,y\n1,0\nnan,1\n")
    assert raises(path, "y") == "column 'a' of data.csv holds 'nan' in data row 2: to read it as a missing value " \
                                "pass --na-values nan"
    assert np.isnan(read_table(path, "y", na_values=["nan"]).X[1, 0])


def test_a_missing_target_is_an_error_or_dropped(tmp_path: Path) -> None:
    path = write(tmp_path, "a,b,y\n1,2,x\n2,3,\n,4,y\n4,5,x\n5,6,y\n")
    message = raises(path, "y")
    assert "target column 'y' of data.csv has 1 missing value(s) (first in data row 2)" in message
    assert "--drop-na" in message
    data = read_table(path, "y", drop_na=True)
    assert data.notes == ["dropped 2 of 5 row(s) with missing values ('a': 1, 'y': 1)"]
    np.testing.assert_array_equal(data.X, [[1, 2], [4, 5], [5, 6]])
    assert data.y.tolist() == [0, 0, 1]


def test_one_hot_notes_and_missing_levels(tmp_path: Path) -> None:
    path = write(tmp_path, "color,size,y\nred,1,a\nblue,2,b\n,3,a\ngreen,,b\nred,5,b\n")
    data = read_table(path, "y", one_hot=True)
    assert data.feature_names == ["color=blue", "color=green", "color=red", "size"]
    assert data.notes == ["one-hot encoded 'color' (3 levels) into 3 columns"]
    np.testing.assert_array_equal(data.X[2, :3], [np.nan] * 3)  # a missing level is missing in every column
    np.testing.assert_array_equal(data.X[[0, 1, 3, 4], :3], [[0, 0, 1], [1, 0, 0], [0, 1, 0], [0, 0, 1]])
    dropped = read_table(path, "y", one_hot=True, drop_na=True)
    assert dropped.notes == ["dropped 2 of 5 row(s) with missing values ('color': 1, 'size': 1)",
                             "one-hot encoded 'color' (2 levels) into 2 columns"]
    np.testing.assert_array_equal(dropped.X, [[0, 1, 1], [1, 0, 2], [0, 1, 5]])


def test_an_identifier_column_is_refused_even_with_one_hot(tmp_path: Path) -> None:
    rows = 30  # more than the 20 rows under which distinct values prove nothing
    path = write(tmp_path, "id,a,y\n" + "".join(f"p{i:03d},{i},{i % 2}\n" for i in range(rows)))
    expected = (f"column 'id' of data.csv holds {rows} distinct text values in {rows} rows, like an identifier; "
                f"drop it from the file")
    assert raises(path, "y") == expected
    assert raises(path, "y", one_hot=True) == expected
    # a category of few levels over the same rows is encoded
    few = write(tmp_path, "g,a,y\n" + "".join(f"g{i % 3},{i},{i % 2}\n" for i in range(rows)), "few.csv")
    assert read_table(few, "y", one_hot=True).X.shape == (rows, 3 + 1)


@pytest.mark.parametrize(("text", "sep", "decimal"), [
    ("a;b;y\n1,5;2,25;yes\n3;4,5;no\n", None, ","),
    ("a;b;y\n1,5;2,25;yes\n3;4,5;no\n", ";", ","),
    ("a\tb\ty\n1.5\t2.25\tyes\n3\t4.5\tno\n", None, "."),
    ("a,b,y\n1.5,2.25,yes\n3,4.5,no\n", None, "."),
    ('a,b,y\n"1,5","2,25",yes\n3,"4,5",no\n', ",", ","),
])
def test_separators_and_decimal_commas(tmp_path: Path, text: str, sep: str | None, decimal: str) -> None:
    data = read_table(write(tmp_path, text), "y", sep=sep, decimal=decimal)
    assert data.feature_names == ["a", "b"]
    np.testing.assert_array_equal(data.X, [[1.5, 2.25], [3, 4.5]])
    assert data.class_names == ["no", "yes"]


def test_decimal_commas_get_a_hint(tmp_path: Path) -> None:
    path = write(tmp_path, "a;b;y\n1,5;2;yes\n3;4;no\n")
    assert raises(path, "y") == "column 'a' of data.csv holds '1,5' in data row 1, not a number; " \
                                "for decimal commas pass --decimal ,"
    # with one_hot too: encoding numbers as levels would hide the mistake
    assert "--decimal ," in raises(path, "y", one_hot=True)
    points = write(tmp_path, "a;y\n1.5;yes\n3;no\n", "points.csv")
    assert "for decimal points pass --decimal ." in raises(points, "y", decimal=",")


@pytest.mark.parametrize(("options", "fragment"), [
    ({"decimal": ";"}, "decimal must be '.' or ',', got ';'"),
    ({"sep": ",,"}, "sep must be one character"),
    ({"sep": "\n"}, "sep must be one character"),
])
def test_format_options_are_checked(tmp_path: Path, options: dict[str, str], fragment: str) -> None:
    assert fragment in raises(write(tmp_path, "a,y\n1,0\n2,1\n"), "y", **options)


def test_csv_booleans_are_numbers_and_a_boolean_target_is_false_true(tmp_path: Path) -> None:
    path = write(tmp_path, "flag,t_f,y\nTRUE,t,True\nfalse,f,false\n,t,TRUE\n")
    assert "column 't_f' of data.csv holds 't' in data row 1" in raises(path, "y")  # t/f stay text
    data = read_table(path, "y", one_hot=True)
    assert data.class_names == ["false", "true"] and data.y.tolist() == [1, 0, 1]
    np.testing.assert_array_equal(data.X[:, 0], [1, 0, np.nan])
    assert data.feature_names == ["flag", "t_f=f", "t_f=t"]


def test_parquet_booleans_match_csv_booleans(tmp_path: Path) -> None:
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    path = tmp_path / "data.parquet"
    pq.write_table(pa.table({"flag": [True, False, None], "f": [0.5, None, 2.5], "y": [True, False, True]}), path)
    from_parquet = read_table(path, "y")
    from_csv = read_table(write(tmp_path, "flag,f,y\ntrue,0.5,true\nfalse,,false\n,2.5,true\n"), "y")
    for data in (from_parquet, from_csv):
        assert data.class_names == ["false", "true"] and data.y.tolist() == [1, 0, 1]
        np.testing.assert_array_equal(data.X, [[1, 0.5], [0, np.nan], [np.nan, 2.5]])


def test_parquet(tmp_path: Path) -> None:
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    path = tmp_path / "data.parquet"
    pq.write_table(pa.table({"f": [0.5, 1.5, 2.5, 3.5], "t": ["x", "y", "x", "y"]}), path)
    data = read_table(path, "t")
    assert data.X[:, 0].tolist() == [0.5, 1.5, 2.5, 3.5] and data.y.tolist() == [0, 1, 0, 1]


@pytest.mark.parametrize(("text", "target", "fragment"), [
    (None, "y", "no such file"),
    ("a,y\n1,0\n2,1\n", "label", "data.csv has no column 'label'; its columns are a, y"),
    ("a,y\nx,0\n2,1\n", "y", "column 'a' of data.csv holds 'x' in data row 1, not a number; encode it, or pass "
                             "--one-hot"),
    ("a,y\n1,0\ninf,1\n", "y", "column 'a' of data.csv holds 'inf' in data row 2, an infinite number"),
    ("a,y\n1,0\n2,0\n", "y", "target column 'y' of data.csv has a single class ('0')"),
    ("a,y\n1,0\n2\n", "y", "data row 2 of data.csv has 1 fields, the header has 2"),
    ("a,a,y\n1,2,0\n", "y", "data.csv has duplicate column names: 'a'"),
    ("y\n0\n1\n", "y", "no feature columns"),
])
def test_table_errors_name_the_problem(tmp_path: Path, text: str | None, target: str, fragment: str) -> None:
    path = tmp_path / "data.csv" if text is None else write(tmp_path, text)
    assert fragment in raises(path, target)


# -- predictions ----------------------------------------------------------------------------------


def test_read_predictions_one_column_per_class(tmp_path: Path) -> None:
    path = write(tmp_path, "y,p0,p1,p2\n0,0.7,0.2,0.1\n2,0.1,0.2,0.7\n1,0.3,0.4,0.3\n")
    y, values, names = read_predictions(path, "y", ["p0", "p1", "p2"])
    assert y.tolist() == [0, 2, 1] and values.shape == (3, 3) and names == ["0", "1", "2"]
    with pytest.raises(ValueError, match="3 classes but 1 prediction column"):
        read_predictions(path, "y", ["p1"])


def test_read_predictions_both_columns_of_a_binary_target(tmp_path: Path) -> None:
    path = write(tmp_path, "y,p_no,p_yes\nno,0.8,0.2\nyes,0.3,0.7\nno,0.6,0.4\n")
    y, values, names = read_predictions(path, "y", ["p_no", "p_yes"])
    assert names == ["no", "yes"] and y.tolist() == [0, 1, 0]
    np.testing.assert_array_equal(values, [[0.8, 0.2], [0.3, 0.7], [0.6, 0.4]])


def test_one_column_for_named_classes_needs_pos_label(tmp_path: Path) -> None:
    path = write(tmp_path, "y,p\nno,0.2\nyes,0.7\nno,0.4\n")
    with pytest.raises(ValueError, match="one prediction column for the classes 'no', 'yes' is ambiguous: pass "
                                         "--pos-label to say which class it is the probability of"):
        read_predictions(path, "y", ["p"])
    y, values, names = read_predictions(path, "y", ["p"], pos_label="yes")
    assert names == ["no", "yes"] and y.tolist() == [0, 1, 0] and values.tolist() == [0.2, 0.7, 0.4]
    # the column is P(no): 'no' becomes class 1, and the names follow
    y, values, names = read_predictions(path, "y", ["p"], pos_label="no")
    assert names == ["yes", "no"] and y.tolist() == [1, 0, 1] and values.tolist() == [0.2, 0.7, 0.4]
    with pytest.raises(ValueError, match="--pos-label 'maybe' is not a class of target 'y'"):
        read_predictions(path, "y", ["p"], pos_label="maybe")


def test_one_column_for_0_1_labels_is_class_1_unless_pos_label_says(tmp_path: Path) -> None:
    path = write(tmp_path, "y,p\n0,0.2\n1,0.7\n0,0.4\n")
    y, _, names = read_predictions(path, "y", ["p"])
    assert names == ["0", "1"] and y.tolist() == [0, 1, 0]
    y, _, names = read_predictions(path, "y", ["p"], pos_label="0")
    assert names == ["1", "0"] and y.tolist() == [1, 0, 1]
    booleans = write(tmp_path, "y,p\nfalse,0.2\nTrue,0.7\n", "booleans.csv")
    y, _, names = read_predictions(booleans, "y", ["p"])
    assert names == ["false", "true"] and y.tolist() == [0, 1]


@pytest.mark.parametrize(("text", "columns", "options", "fragment"), [
    ("y,p\n0,0.2\n1,x\n", ["p"], {}, "column 'p' of data.csv must hold finite numbers; it holds 'x' in data row 2"),
    ("y,p\n0,0.2\n,0.7\n", ["p"], {}, "target column 'y' of data.csv has 1 missing value(s) (first in data row 2)"),
    ("y,p,q\n0,0.2,0.8\n1,0.7,0.3\n", ["p", "q"], {"pos_label": "1"}, "--pos-label applies to one prediction column"),
    ("y,p\n0,0.2\n1,0.7\n", ["r"], {}, "data.csv has no column 'r'"),
])
def test_read_predictions_errors(tmp_path: Path, text: str, columns: list[str], options: dict[str, str],
                                 fragment: str) -> None:
    with pytest.raises(ValueError) as raised:
        read_predictions(write(tmp_path, text), "y", columns, **options)
    assert fragment in str(raised.value)
