"""The data a comparison runs on: an embedded data set, or a CSV / Parquet table of the user's.

Every problem with a table is a ValueError whose message names the file, the column and the
value, so the command line can print it as one line.

What a cell of a table means:

- missing: an empty cell (or only spaces), a Parquet null or NaN, or a value listed in
  ``na_values``; nothing else (a class named ``none`` or ``NA`` is a class). Missing feature
  values are NaN in ``Dataset.X``: the caller imputes them (inside the cross-validation folds)
  or refuses them; a missing target is an error unless ``drop_na``.
- a number: what ``float`` reads, with ``decimal`` as the decimal mark; the text ``nan`` is
  refused (leave the cell empty, or list it in ``na_values``), and so is an infinity.
- a boolean: a Parquet bool, or a CSV column whose every non-missing value is ``true`` or
  ``false`` in any case (pandas' rule); it becomes 1/0, and a boolean target has the classes
  ``false`` and ``true`` from either format. ``t``/``f`` and ``yes``/``no`` stay text: they are
  also plausible class and category names, and ``one_hot`` encodes them without loss.
- text: a feature only with ``one_hot``, and never a column of nearly all distinct values (an
  identifier: more than 90% distinct among more than 20 rows).
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import math
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path
from typing import Any

import numpy as np

EMBEDDED = ("hypothyroid", "breast-cancer")
SEPARATORS = (",", ";", "\t")  # what ``sep=None`` chooses among
IDENTIFIER_ROWS = 20  # a text column of more rows than this ...
IDENTIFIER_DISTINCT = 0.9  # ... with more than this share of distinct values is an identifier
FIELD_SIZE_MAX = 2**31 - 1  # csv.field_size_limit takes a C long, 32 bits on Windows
SHOWN_CHARACTERS = 60  # a cell quoted in an error message is cut to this many characters


@dataclass(frozen=True)
class Dataset:
    """Features, integer-coded target and the names that go with them.

    ``X`` may hold NaN: a missing value, left for the caller to impute (inside the
    cross-validation folds, never before the split) or to refuse.
    """

    X: np.ndarray  # (N, F) float64, NaN where a value is missing
    y: np.ndarray  # (N,) integer class indices, or (N, L) 0/1 indicators for multi-label
    feature_names: list[str]
    class_names: list[str]
    name: str
    description: str = ""
    notes: list[str] = field(default_factory=list)  # what was done to the data (rows dropped, ...)


# -- the embedded data sets -----------------------------------------------------------------------


def embedded(name: str = "hypothyroid") -> Dataset:
    """An embedded data set, real and imbalanced, no network needed; ``name`` is one of ``EMBEDDED``.

    ``"hypothyroid"``: the UCI Thyroid "hypothyroid" data (Quinlan, Garavan Institute, 1987;
    CC BY 4.0), 3163 patients, 151 hypothyroid (4.8%), with missing hormone measurements (NaN).
    ``"breast-cancer"``: the Wisconsin diagnostic breast cancer data (UCI, as shipped inside
    scikit-learn), 569 tumours, 212 malignant (37%), complete.
    """
    if name == "hypothyroid":
        return _hypothyroid()
    if name == "breast-cancer":
        return _breast_cancer()
    raise ValueError(f"no embedded data set {name!r}; the choices are {', '.join(EMBEDDED)}")


HYPOTHYROID_BINARY = {"f": 0.0, "t": 1.0, "F": 0.0, "M": 1.0}  # t/f flags, and sex: F 0, M 1
HYPOTHYROID_DROPPED = "TBG"  # 2903 of 3163 (92%) missing


def _hypothyroid() -> Dataset:
    # The file keeps the raw UCI values ('?' for missing); see src/crossent/data/README.md.
    # The "<hormone>_measured" y/n columns are dropped: in this file each is "n" exactly where its
    # hormone is "?" (checked below), so they repeat the missingness that NaN in X already holds
    # (a caller that wants missingness indicators can derive them from NaN). TBG is dropped as
    # 92% missing, and TBG_measured with it.
    text = gzip.decompress(files("crossent").joinpath("data/hypothyroid.csv.gz").read_bytes()).decode("ascii")
    rows = list(csv.reader(io.StringIO(text)))
    header, body = rows[0], rows[1:]
    columns = {h: [row[j] for row in body] for j, h in enumerate(header)}
    labels = columns.pop("class")
    for measured in [h for h in columns if h.endswith("_measured")]:
        flags, values = columns.pop(measured), columns[measured.removesuffix("_measured")]
        if any((flag == "n") != (value == "?") for flag, value in zip(flags, values, strict=True)):
            raise ValueError(f"embedded hypothyroid data: {measured!r} disagrees with the missing values")
    del columns[HYPOTHYROID_DROPPED]
    X = np.column_stack([[_hypothyroid_value(v) for v in values] for values in columns.values()])
    class_names = ["negative", "hypothyroid"]  # the rare class, the one to find, is class 1
    y = np.array([class_names.index(v) for v in labels], dtype=np.int64)
    positives, missing = int(y.sum()), int(np.isnan(X).sum())
    return Dataset(
        X=X, y=y, feature_names=list(columns), class_names=class_names, name="hypothyroid (embedded)",
        description=f"UCI Thyroid 'hypothyroid' (Quinlan 1987, CC BY 4.0): {len(y)} patients, {X.shape[1]} "
                    f"features, {positives} hypothyroid ({positives / len(y):.1%}) vs {len(y) - positives} "
                    f"negative, {missing} missing values",
    )


def _hypothyroid_value(text: str) -> float:
    if text == "?":
        return float("nan")
    return HYPOTHYROID_BINARY[text] if text in HYPOTHYROID_BINARY else float(text)


def _breast_cancer() -> Dataset:
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


# -- the user's table -----------------------------------------------------------------------------


def read_table(path: str | Path, target: str, *, one_hot: bool = False, drop_na: bool = False,
               na_values: Collection[str] | None = None, sep: str | None = None, decimal: str = ".") -> Dataset:
    """Read a CSV or Parquet file: feature columns and a target column (see the module docstring).

    The target may hold class names, numbers or booleans; it becomes integer class indices
    (classes in sorted order, numbers as numbers). A missing target is an error unless
    ``drop_na`` drops those rows, and with it every row with a missing feature. ``sep`` is the
    CSV field separator (None: whichever of ``,`` ``;`` tab splits the first lines evenly);
    ``decimal`` is ``"."`` or ``","``. ``sep`` and ``decimal`` do not apply to Parquet.
    """
    path, missing_text = Path(path), _missing_text(na_values)
    _check_format(sep, decimal)
    table = _read(path, sep)
    if target not in table:
        raise ValueError(f"{path.name} has no column {target!r}; its columns are {', '.join(table)}")
    if len(table) < 2:
        raise ValueError(f"{path.name} has no feature columns besides the target {target!r}")
    missing = {name: _missing(values, missing_text) for name, values in table.items()}
    rows = np.arange(1, len(table[target]) + 1)  # data rows count from 1, the header not included
    notes: list[str] = []
    if drop_na:
        table, missing, rows, note = _drop_missing(table, missing, rows)
        notes += [note] if note else []
    elif missing[target].any():
        raise ValueError(f"target column {target!r} of {path.name} has {int(missing[target].sum())} missing "
                         f"value(s) (first in data row {_first(missing[target])}); pass --drop-na to drop those rows")
    y, class_names = _classes(path, target, table.pop(target))
    del missing[target]

    features: list[np.ndarray] = []
    names: list[str] = []
    for name, values in table.items():
        column, column_names, note = _feature(path, name, values, missing[name], rows, one_hot=one_hot,
                                              decimal=decimal)
        features += column
        names += column_names
        notes += [note] if note else []
    X = np.column_stack(features) if features else np.empty((len(y), 0))
    n_missing = int(np.isnan(X).sum())
    return Dataset(X=X, y=y, feature_names=names, class_names=class_names, name=path.name,
                   description=f"{path.name}: {X.shape[0]} samples, {X.shape[1]} features, target {target!r}"
                               + (f", {n_missing} missing values" if n_missing else ""),
                   notes=notes)


def _missing_text(na_values: Collection[str] | None) -> frozenset[str]:
    if isinstance(na_values, str) or not all(isinstance(v, str) for v in na_values or ()):
        raise ValueError(f"na_values must be a collection of strings such as ['NA', '?'], got {na_values!r}")
    return frozenset({""} | {v.strip() for v in na_values or ()})


def _check_format(sep: str | None, decimal: str) -> None:
    if sep is not None and (len(sep) != 1 or sep in "\"\r\n"):
        raise ValueError(f"sep must be one character such as ',' ';' or a tab, got {sep!r}")
    if decimal not in (".", ","):
        raise ValueError(f"decimal must be '.' or ',', got {decimal!r}")
    # sep and decimal may both be ',': then the numbers are quoted ("1,5"), which csv reads


def _missing(values: list[Any], missing_text: frozenset[str]) -> np.ndarray:
    def one(value: Any) -> bool:
        if value is None:
            return True
        if isinstance(value, float):
            return math.isnan(value)
        return isinstance(value, str) and value.strip() in missing_text

    return np.array([one(v) for v in values], dtype=bool)


def _first(mask: np.ndarray) -> int:
    return int(np.argmax(mask)) + 1  # data rows count from 1, the header not included


def _drop_missing(table: dict[str, list[Any]], missing: dict[str, np.ndarray], rows: np.ndarray
                  ) -> tuple[dict[str, list[Any]], dict[str, np.ndarray], np.ndarray, str]:
    """The rows without a missing value, their data-row numbers, and a note saying what was dropped."""
    any_missing = np.logical_or.reduce(list(missing.values()))
    if not any_missing.any():
        return table, missing, rows, ""
    keep = ~any_missing
    where = ", ".join(f"{name!r}: {int(mask.sum())}" for name, mask in missing.items() if mask.any())
    note = f"dropped {int(any_missing.sum())} of {len(keep)} row(s) with missing values ({where})"
    table = {name: [v for v, k in zip(values, keep, strict=True) if k] for name, values in table.items()}
    return table, {name: mask[keep] for name, mask in missing.items()}, rows[keep], note


def _feature(path: Path, name: str, values: list[Any], missing: np.ndarray, rows: np.ndarray, *, one_hot: bool,
             decimal: str) -> tuple[list[np.ndarray], list[str], str]:
    """One column as feature columns (one, or one per level with one_hot), and a note."""
    booleans = _booleans(values, missing)
    if booleans is not None:
        return [booleans], [name], ""
    numbers, bad = _numbers(values, missing, decimal)
    if numbers is not None:
        return [numbers], [name], ""
    where = f"column {name!r} of {path.name} holds {_shown(values[bad])} in data row {rows[bad]}"
    _refuse_near_numbers(where, values, missing, bad, decimal)
    text = [str(v).strip() for v, m in zip(values, missing, strict=True) if not m]
    levels = sorted(set(text), key=_natural)
    if len(text) > IDENTIFIER_ROWS and len(levels) > IDENTIFIER_DISTINCT * len(text):
        raise ValueError(f"column {name!r} of {path.name} holds {len(levels)} distinct text values in {len(text)} "
                         f"rows, like an identifier; drop it from the file")
    if not one_hot:
        raise ValueError(f"{where}, not a number; encode it, or pass --one-hot to one-hot encode text columns")
    # A missing cell is NaN in every level's column: missing, for the caller to impute, like any other.
    cells = [str(v).strip() for v in values]
    columns = [np.where(missing, np.nan, [float(c == level) for c in cells]) for level in levels]
    note = f"one-hot encoded {name!r} ({len(levels)} levels) into {len(levels)} columns"
    return columns, [f"{name}={level}" for level in levels], note


def _refuse_near_numbers(where: str, values: list[Any], missing: np.ndarray, bad: int, decimal: str) -> None:
    """A column of numbers but for its NaN text, an infinity or the other decimal mark is not text:
    say what to do rather than one-hot encode it."""
    value = str(values[bad]).strip()
    if value.lower() in ("nan", "-nan", "+nan"):
        raise ValueError(f"{where}: to read it as a missing value pass --na-values {value}")
    if _parse(value, decimal) is not None:  # a number, so an infinite one
        raise ValueError(f"{where}, an infinite number; a feature must be finite or missing")
    other = "," if decimal == "." else "."
    if _numbers(values, missing, other)[0] is not None:
        hint = "for decimal commas pass --decimal ," if other == "," else "for decimal points pass --decimal ."
        raise ValueError(f"{where}, not a number; {hint}")


def _booleans(values: list[Any], missing: np.ndarray) -> np.ndarray | None:
    """1/0 (NaN where missing) if every present value is a bool or the text true/false in any case."""
    out = np.full(len(values), np.nan)
    for i, (value, absent) in enumerate(zip(values, missing, strict=True)):
        if absent:
            continue
        word = str(value).lower() if isinstance(value, bool) else str(value).strip().lower()
        if isinstance(value, int | float) and not isinstance(value, bool):
            return None  # a number, even 0 or 1: the numbers' column
        if word not in ("true", "false"):
            return None
        out[i] = float(word == "true")
    return out if not missing.all() else None


def _numbers(values: list[Any], missing: np.ndarray, decimal: str) -> tuple[np.ndarray | None, int]:
    """Finite floats (NaN where missing), or None and the index of the first value that is not one."""
    out = np.full(len(values), np.nan)
    for i, (value, absent) in enumerate(zip(values, missing, strict=True)):
        if absent:
            continue
        number = _number(value, decimal)
        if number is None or not math.isfinite(number):
            return None, i
        out[i] = number
    return out, -1


def _number(value: Any, decimal: str) -> float | None:
    if isinstance(value, bool):
        return None  # a bool among numbers: not the boolean column _booleans takes
    if isinstance(value, int | float):
        return float(value)
    return _parse(str(value).strip(), decimal)


def _parse(text: str, decimal: str) -> float | None:
    # float() also reads "1_000" and " 1 "; a table's number has neither underscores nor the other mark
    other = "," if decimal == "." else "."
    if "_" in text or other in text:
        return None
    try:
        return float(text.replace(",", ".") if decimal == "," else text)
    except ValueError:
        return None


def _classes(path: Path, target: str, values: list[Any]) -> tuple[np.ndarray, list[str]]:
    labels = _labels(values)
    if not labels:
        raise ValueError(f"{path.name} has no data rows")
    class_names = sorted(set(labels), key=_natural)
    if len(class_names) < 2:
        raise ValueError(f"target column {target!r} of {path.name} has a single class ({class_names[0]!r}); "
                         f"a classifier needs at least two")
    codes = {c: i for i, c in enumerate(class_names)}
    return np.array([codes[v] for v in labels], dtype=np.int64), class_names


def _labels(values: list[Any]) -> list[str]:
    """Class names as text; booleans, from CSV or Parquet alike, are 'false' and 'true'."""
    def one(value: Any) -> str:
        if isinstance(value, bool):
            return str(value).lower()
        if isinstance(value, float) and value.is_integer():
            return str(int(value))  # a Parquet float column of 0.0 / 1.0: the classes 0 and 1
        return str(value).strip()

    labels = [one(v) for v in values]
    if labels and all(label.lower() in ("true", "false") for label in labels):
        return [label.lower() for label in labels]
    return labels


def _natural(label: str) -> tuple[int, float, str]:
    number = _parse(label, ".")
    return (0, number, "") if number is not None and math.isfinite(number) else (1, 0.0, label)


# -- reading files --------------------------------------------------------------------------------


def _read(path: Path, sep: str | None) -> dict[str, list[Any]]:
    if not path.is_file():
        raise ValueError(f"no such file: {path}")
    return _read_parquet(path) if path.suffix.lower() in (".parquet", ".pq") else _read_csv(path, sep)


def _not_utf8(path: Path) -> str:
    """The message for a file that is not UTF-8, naming the first bad byte and its offset (BOM included)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    offset = 0
    with path.open("rb") as raw:
        while True:
            block = raw.read(1 << 20)
            try:
                decoder.decode(block, final=not block)
            except UnicodeDecodeError as error:
                at = offset - (len(error.object) - len(block)) + error.start  # error.object: held bytes + block
                return (f"{path.name} is not UTF-8 text (byte 0x{error.object[error.start]:02x} at position {at}); "
                        f"save it as UTF-8 CSV")
            if not block:
                return f"{path.name} is not UTF-8 text; save it as UTF-8 CSV"
            offset += len(block)


def _read_csv(path: Path, sep: str | None) -> dict[str, list[Any]]:
    data = path.read_bytes()
    bom = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0
    try:
        text = data[bom:].decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError(_not_utf8(path)) from None
    text = text.replace("\r\n", "\n").replace("\r", "\n")  # universal newlines, as Path.read_text reads
    with _field_size_limit(len(text)):
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep or _sniff(text))
        try:
            rows = [row for row in reader if row]
        except csv.Error as error:  # what the csv module still refuses, as one line naming the file
            raise ValueError(f"{path.name}, line {reader.line_num}: {error}") from None
    if not rows:
        raise ValueError(f"{path.name} is empty")
    header = [h.strip() for h in rows[0]]
    duplicates = sorted({h for h in header if header.count(h) > 1})
    if duplicates:
        raise ValueError(f"{path.name} has duplicate column names: {', '.join(map(repr, duplicates))}")
    for number, row in enumerate(rows[1:], start=1):
        if len(row) != len(header):
            raise ValueError(f"data row {number} of {path.name} has {len(row)} fields, the header has {len(header)}")
    return {h: [row[j] for row in rows[1:]] for j, h in enumerate(header)}


@contextmanager
def _field_size_limit(size: int) -> Iterator[None]:
    """The csv module's field size limit (131,072 characters by default) raised to ``size`` while
    a text of that many characters is read: no field of it is longer. The process-wide limit is
    restored after."""
    old = csv.field_size_limit()
    csv.field_size_limit(min(max(size, old), FIELD_SIZE_MAX))
    try:
        yield
    finally:
        csv.field_size_limit(old)


def _sniff(text: str, lines: int = 20) -> str:
    """The separator that splits the header and the first lines into the same number (> 1) of
    fields, the most fields winning; ',' when none does."""
    head = [line for line in text.splitlines()[:lines] if line.strip()]
    best, best_fields = ",", 1
    for sep in SEPARATORS:
        counts = {len(row) for row in csv.reader(head, delimiter=sep)}
        if len(counts) == 1 and (fields := counts.pop()) > best_fields:
            best, best_fields = sep, fields
    return best


def _read_parquet(path: Path) -> dict[str, list[Any]]:
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise ValueError("reading Parquet needs pyarrow: pip install pyarrow") from None
    table = pq.read_table(path)
    return {str(k): list(v) for k, v in table.to_pydict().items()}


# -- a file of predictions ------------------------------------------------------------------------


def read_predictions(path: str | Path, target: str, columns: list[str], *, pos_label: str | None = None
                     ) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """A file of predictions: the target column and the prediction columns.

    One prediction column is one class's probability (or logit) for a binary target: class 1's
    for 0/1 labels (``true``'s for booleans), and for other labels the class ``pos_label`` names
    (required: which one it is cannot be guessed; it may also name class 0 of 0/1 labels).
    Several columns are one per class, in the order given, for the classes in sorted order
    (integer labels 0..C-1 index the columns directly); a binary target may give two.

    Returns ``(y, values, class_names)``: ``y`` (N,) integer codes into ``class_names``; ``values``
    (N,) for one column, the probability of class 1 (``pos_label``'s class, when given), or (N, C).
    """
    path = Path(path)
    table = _read(path, None)
    for name in [target, *columns]:
        if name not in table:
            raise ValueError(f"{path.name} has no column {name!r}; its columns are {', '.join(table)}")
    if pos_label is not None and len(columns) != 1:
        raise ValueError(f"--pos-label applies to one prediction column, got {len(columns)}; with one column per "
                         f"class the columns follow the classes in sorted order")
    matrix = np.column_stack([_prediction(path, name, table[name]) for name in columns])
    missing = _missing(table[target], frozenset({""}))
    if missing.any():
        raise ValueError(f"target column {target!r} of {path.name} has {int(missing.sum())} missing value(s) "
                         f"(first in data row {_first(missing)})")
    labels = _labels(table[target])
    class_names = sorted(set(labels), key=_natural)
    expected = 2 if len(columns) == 1 else len(columns)
    if len(class_names) > expected:
        raise ValueError(f"target {target!r} of {path.name} has {len(class_names)} classes but {len(columns)} "
                         f"prediction column(s) were given")
    if all(_is_code(c, expected) for c in class_names):
        class_names = [str(i) for i in range(expected)]
        y = np.array([int(float(v)) for v in labels], dtype=np.int64)
    elif expected == 2 and set(class_names) <= {"false", "true"}:  # booleans are 0/1 too
        class_names = ["false", "true"]
        y = np.array([label == "true" for label in labels], dtype=np.int64)
    elif len(class_names) < expected:
        raise ValueError(f"target {target!r} of {path.name} has {len(class_names)} class(es); with names rather "
                         f"than 0..{expected - 1} every class must appear")
    elif len(columns) == 1 and pos_label is None:
        raise ValueError(f"one prediction column for the classes {', '.join(map(repr, class_names))} is "
                         f"ambiguous: pass --pos-label to say which class it is the probability of")
    else:
        codes = {c: i for i, c in enumerate(class_names)}
        y = np.array([codes[v] for v in labels], dtype=np.int64)
    if pos_label is not None:
        y, class_names = _positive_first(y, class_names, str(pos_label).strip(), path, target)
    return y, matrix[:, 0] if len(columns) == 1 else matrix, class_names


def _prediction(path: Path, name: str, values: list[Any], offset: int = 0) -> np.ndarray:
    """A prediction column's cells as finite float64s, or an error naming the cell and its data
    row (``offset``: the data rows before these, for a file read in chunks)."""
    numbers, bad = _numbers(values, np.zeros(len(values), dtype=bool), ".")
    if numbers is None:
        raise ValueError(f"column {name!r} of {path.name} must hold finite numbers; it holds "
                         f"{_shown(values[bad])} in data row {offset + bad + 1}")
    return numbers


def _shown(value: Any) -> str:
    """A cell as an error message quotes it: its repr, cut short if long (a field may hold
    megabytes)."""
    text = repr(value)
    if len(text) <= SHOWN_CHARACTERS:
        return text
    return f"{text[:SHOWN_CHARACTERS]}... ({len(str(value)):,} characters)"


def _is_code(label: str, n_classes: int) -> bool:
    number = _parse(label, ".")
    return number is not None and number.is_integer() and 0 <= number < n_classes


def _positive_first(y: np.ndarray, class_names: list[str], pos_label: str, path: Path, target: str
                    ) -> tuple[np.ndarray, list[str]]:
    """Recode a binary target so that pos_label's class is 1 (the class one column is P of)."""
    if pos_label not in class_names:
        raise ValueError(f"--pos-label {pos_label!r} is not a class of target {target!r} in {path.name}; its "
                         f"classes are {', '.join(map(repr, class_names))}")
    positive = class_names.index(pos_label)
    return (y == positive).astype(np.int64), [class_names[1 - positive], pos_label]
