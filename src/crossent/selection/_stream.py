"""A predictions file read in chunks: ``crossent eval``'s reader, for files larger than memory.

The file is read twice. :func:`classes_of` reads the target column alone, for the classes (every
class must be known before the first chunk is scored, so that each chunk's state has the same
shape) and the number of rows; :func:`scores_of` reads the target and the prediction columns a
chunk at a time and updates a :class:`crossent.metrics.Evaluation`. The rules are
:func:`~crossent.selection.read_predictions`' (``_data.py``, which reads the whole file at once):
the same classes, the same numbers, the same errors, naming the data row. A Parquet file is read
row group by row group, batch by batch, of the columns asked for only; a CSV file as
``read_table`` reads it, in blocks of rows.
"""

from __future__ import annotations

import csv
import io
import itertools
from collections import Counter
from collections.abc import Callable, Generator, Sequence
from contextlib import closing
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from crossent.selection._data import (
    _field_size_limit,
    _is_code,
    _labels,
    _missing,
    _natural,
    _not_utf8,
    _positive_first,
    _prediction,
    _sniff,
)

CHUNK_ROWS = 1 << 18
"""Rows read and scored at a time (a Parquet batch, a block of CSV rows)."""
PROGRESS_BYTES = 32 << 20  # files from this size on show a progress bar (on a terminal)
MAX_DISTINCT = 1_000_000  # distinct target values the first pass keeps before it gives up
# Two probability columns rounded to two decimals each miss a sum of 1 by up to 0.01 together.
BINARY_SUM_TOLERANCE = 0.0101

Progress = Callable[[float, int], None]
"""Told, after each chunk, the share of the file read and the rows read."""


def open_predictions(path: Path, target: str, columns: Sequence[str], *, pos_label: str | None = None
                     ) -> CsvChunks | ParquetChunks:
    """The file, opened for reading in chunks (its header read), once it has the columns asked for."""
    if not path.is_file():
        raise ValueError(f"no such file: {path}")
    table = ParquetChunks(path) if path.suffix.lower() in (".parquet", ".pq") else CsvChunks(path)
    for name in [target, *columns]:
        if name not in table.columns:
            raise ValueError(f"{path.name} has no column {name!r}; its columns are {', '.join(table.columns)}")
    if pos_label is not None and len(columns) != 1:
        raise ValueError(f"--pos-label applies to one prediction column, got {len(columns)}; with one column per "
                         f"class the columns follow the classes in sorted order")
    return table


class Classes(NamedTuple):
    """What the first pass found: the class names, the code of each raw target value, the rows."""

    names: list[str]
    codes: dict[Any, int]
    rows: int

    @property
    def ranked_columns(self) -> int:
        """The score columns ROC-AUC ranks: P(class 1) for two classes, one-vs-rest per class for more."""
        return 1 if len(self.names) == 2 else len(self.names)


def classes_of(table: CsvChunks | ParquetChunks, target: str, columns: Sequence[str], *,
               pos_label: str | None = None, progress: Progress | None = None) -> Classes:
    """The first pass, over the target column alone: the classes by read_predictions' rules."""
    path, n_columns = table.path, len(columns)

    def missing(raw: Any) -> bool:
        return bool(_missing([raw], frozenset({""}))[0])

    counts: dict[Any, int] = {}
    first_missing, rows = 0, 0
    with closing(table.chunks([target])) as chunks:
        for chunk, done in chunks:
            values = chunk[target]
            here = table.value_counts(values)
            for raw, count in here.items():
                counts[raw] = counts.get(raw, 0) + count
            if not first_missing and any(missing(raw) for raw in here):
                first_missing = rows + next(i for i, raw in enumerate(table.cells(values)) if missing(raw)) + 1
            rows += len(values)
            if len(counts) > MAX_DISTINCT:
                raise ValueError(f"target {target!r} of {path.name} has more than {MAX_DISTINCT:,} distinct "
                                 f"values but {n_columns} prediction column(s) were given")
            if progress is not None:
                progress(done, rows)
    if not rows:
        raise ValueError(f"{path.name} has no data rows")
    if first_missing:
        total = sum(count for raw, count in counts.items() if missing(raw))
        raise ValueError(f"target column {target!r} of {path.name} has {total} missing value(s) (first in data row "
                         f"{first_missing})")
    raws = list(counts)
    label_of = dict(zip(raws, _labels(raws), strict=True))
    class_names = sorted(set(label_of.values()), key=_natural)
    expected = 2 if n_columns == 1 else n_columns
    if len(class_names) > expected:
        raise ValueError(f"target {target!r} of {path.name} has {len(class_names)} classes but {n_columns} "
                         f"prediction column(s) were given")
    if all(_is_code(c, expected) for c in class_names):
        code = {c: int(float(c)) for c in class_names}
        class_names = [str(i) for i in range(expected)]
    elif expected == 2 and set(class_names) <= {"false", "true"}:  # booleans are 0/1 too
        code = {c: int(c == "true") for c in class_names}
        class_names = ["false", "true"]
    elif len(class_names) < expected:
        raise ValueError(f"target {target!r} of {path.name} has {len(class_names)} class(es); with names rather "
                         f"than 0..{expected - 1} every class must appear")
    elif n_columns == 1 and pos_label is None:
        raise ValueError(f"one prediction column for the classes {', '.join(map(repr, class_names))} is "
                         f"ambiguous: pass --pos-label to say which class it is the probability of")
    else:
        code = {c: i for i, c in enumerate(class_names)}
    if pos_label is not None:
        recoded, class_names = _positive_first(np.arange(len(class_names)), class_names, str(pos_label).strip(),
                                               path, target)
        code = {c: int(recoded[i]) for c, i in code.items()}
    return Classes(class_names, {raw: code[label_of[raw]] for raw in raws}, rows)


def scores_of(table: CsvChunks | ParquetChunks, target: str, columns: Sequence[str], classes: Classes, *,
              from_logits: bool, exact_ranking: bool, ranking_bins: int, progress: Progress | None = None
              ) -> tuple[dict[str, float], float]:
    """The second pass: ``crossent eval``'s scores and the binned ROC-AUC's bound (NaN where
    ROC-AUC is undefined). ROC-AUC and average precision are the ``ranking_bins``-bin histograms'
    or, with ``exact_ranking``, scikit-learn's, from every row's label and ranking score held in
    memory (the logits' :func:`~crossent.selection._score.ranking_keys` with ``from_logits``)."""
    from crossent.metrics import Evaluation
    from crossent.selection._score import ranking_keys, ranking_scores

    evaluation = Evaluation(len(classes.names), ranking_bins=ranking_bins)
    if exact_ranking:  # every row's label and ranking score, for the sort
        labels = np.empty(classes.rows, dtype=np.min_scalar_type(len(classes.names)))
        keys = np.empty(classes.rows if classes.ranked_columns == 1 else (classes.rows, classes.ranked_columns))
    rows = 0
    with closing(table.chunks([target, *columns])) as chunks:  # closed (the file, csv's limit) on errors too
        for chunk, done in chunks:
            y = table.codes(chunk[target], classes.codes)
            values = np.column_stack([numbers_of(table, name, chunk[name], rows) for name in columns])
            if len(columns) == 1:
                values = values[:, 0]
            elif len(classes.names) == 2 and not from_logits:  # both columns of a binary target
                _check_binary_pair(values, columns, rows)
                values = values[:, 1]  # scored like one column: P(class 1)
            evaluation.update(y, values, from_logits=from_logits)
            if exact_ranking:
                labels[rows:rows + len(y)] = y
                keys[rows:rows + len(y)] = ranking_keys(values, False) if from_logits else values
            rows += len(y)
            if progress is not None:
                progress(done, rows)
    scores = evaluation.metrics()
    if exact_ranking:
        scores.update(ranking_scores(labels, keys, multilabel=False))
    return scores, evaluation.auc_bound()


def numbers_of(table: CsvChunks | ParquetChunks, name: str, values: Any, offset: int) -> np.ndarray:
    """A chunk of a prediction column as finite float64s (read_predictions' rule: a finite number,
    or an error naming the cell and its data row, ``offset`` the data rows before this chunk),
    vectorized where the cells allow it."""
    numbers = table.fast_numbers(values)
    if numbers is not None and np.isfinite(numbers).all():
        return numbers
    return _prediction(table.path, name, table.cells(values), offset)


def _check_binary_pair(probabilities: np.ndarray, columns: Sequence[str], offset: int) -> None:
    """Two probability columns of a binary target are P(class 0) and P(class 1): they sum to 1
    (``offset``: the data rows before this chunk)."""
    off = np.abs(probabilities.sum(axis=1) - 1.0)
    if np.any(off > BINARY_SUM_TOLERANCE):
        row = int(np.argmax(off > BINARY_SUM_TOLERANCE))
        raise ValueError(f"--probs {' '.join(columns)}: the two columns sum to {probabilities[row].sum():g} in data "
                         f"row {offset + row + 1}, not 1, so they are not the two classes' probabilities; give one "
                         f"column (with --pos-label for named classes)")


# -- the two formats: a chunk's column, its value counts, codes, cells and numbers ------------------


class CsvChunks:
    """A CSV file in blocks of CHUNK_ROWS rows, read as selection's read_table reads it whole:
    UTF-8 (a BOM skipped), universal newlines, the separator sniffed among , ; tab, blank lines
    skipped, the same errors. A chunk's column is a list of the cells' texts."""

    csv = True

    def __init__(self, path: Path) -> None:
        self.path, self.size = path, path.stat().st_size
        with path.open("rb") as raw, _field_size_limit(self.size):
            head = self._guard(lambda: "".join(itertools.islice(io.TextIOWrapper(raw, encoding="utf-8-sig"), 20)))
            self.sep = _sniff(head)
        with closing(self._rows()) as rows:
            header = next(rows, None)
        if header is None:
            raise ValueError(f"{path.name} is empty")
        self.columns = [h.strip() for h in header]
        duplicates = sorted({h for h in self.columns if self.columns.count(h) > 1})
        if duplicates:
            raise ValueError(f"{path.name} has duplicate column names: {', '.join(map(repr, duplicates))}")

    def _guard(self, read: Callable[[], str]) -> str:
        try:
            return read()
        except UnicodeDecodeError:
            raise ValueError(_not_utf8(self.path)) from None

    def _rows(self, position: list[float] | None = None) -> Generator[list[str], None, None]:
        """The non-empty rows, header first; ``position`` gets the share of the file read."""
        with self.path.open("rb") as raw, _field_size_limit(self.size):
            # newline=None: \r\n and \r read as \n, inside quoted fields too, as read_table reads
            reader = csv.reader(io.TextIOWrapper(raw, encoding="utf-8-sig", newline=None), delimiter=self.sep)
            try:
                for count, row in enumerate(reader):
                    if position is not None and not count % 4096:
                        position[0] = raw.tell() / max(self.size, 1)
                    if row:
                        yield row
            except UnicodeDecodeError:
                raise ValueError(_not_utf8(self.path)) from None
            except csv.Error as error:  # what the csv module still refuses, as one line naming the file
                raise ValueError(f"{self.path.name}, line {reader.line_num}: {error}") from None
            if position is not None:
                position[0] = 1.0

    def chunks(self, names: list[str]) -> Generator[tuple[dict[str, list[str]], float], None, None]:
        """``({name: cells}, share of the file read)`` per block of rows."""
        where = [self.columns.index(name) for name in names]
        width, number = len(self.columns), 0
        position = [0.0]
        with closing(self._rows(position)) as rows:
            next(rows)  # the header
            while block := list(itertools.islice(rows, CHUNK_ROWS)):
                for row in block:
                    number += 1
                    if len(row) != width:
                        raise ValueError(f"data row {number} of {self.path.name} has {len(row)} fields, the header "
                                         f"has {width}")
                yield {name: [row[j] for row in block] for name, j in zip(names, where, strict=True)}, position[0]

    @staticmethod
    def value_counts(values: list[str]) -> dict[Any, int]:
        return dict(Counter(values))

    @staticmethod
    def cells(values: list[str]) -> list[Any]:
        return values

    @staticmethod
    def codes(values: list[str], codes: dict[Any, int]) -> np.ndarray:
        return np.fromiter((codes[v] for v in values), dtype=np.int64, count=len(values))

    @staticmethod
    def fast_numbers(values: list[str]) -> np.ndarray | None:
        """float64s where NumPy reads every cell as float() does (no "_", which float() takes and
        a table's number never has); None otherwise, for the cell-by-cell rule to decide."""
        if any("_" in v for v in values):
            return None
        try:
            return np.array(values, dtype=np.float64)
        except ValueError:
            return None


class ParquetChunks:
    """A Parquet file in batches of CHUNK_ROWS rows, row group by row group, of the columns asked
    for only. A chunk's column is a pyarrow Array."""

    csv = False

    def __init__(self, path: Path) -> None:
        try:
            import pyarrow.parquet as pq
        except ImportError:
            raise ValueError("reading Parquet needs pyarrow: pip install pyarrow") from None
        # pre_buffer=False: pyarrow's default reads ahead the column chunks of every row group, the
        # whole file; a buffered stream reads a column chunk a piece at a time, even a huge row group
        self.path = path
        self.file = pq.ParquetFile(path, pre_buffer=False, buffer_size=1 << 20)
        self.columns = [str(name) for name in self.file.schema_arrow.names]
        self.rows = self.file.metadata.num_rows

    def chunks(self, names: list[str]) -> Generator[tuple[dict[str, Any], float], None, None]:
        """``({name: array}, share of the rows read)`` per batch."""
        read = 0
        for batch in self.file.iter_batches(batch_size=CHUNK_ROWS, columns=list(dict.fromkeys(names)),
                                            use_threads=False):
            read += batch.num_rows
            arrays = {name: self._decoded(batch.column(name)) for name in dict.fromkeys(names)}
            yield arrays, read / max(self.rows, 1)

    @staticmethod
    def _decoded(array: Any) -> Any:
        import pyarrow as pa

        return array.dictionary_decode() if pa.types.is_dictionary(array.type) else array

    @staticmethod
    def value_counts(values: Any) -> dict[Any, int]:
        import pyarrow.compute as pc

        counted = pc.value_counts(values)
        out: dict[Any, int] = {}
        for raw, count in zip(counted.field("values").to_pylist(), counted.field("counts").to_pylist(), strict=True):
            out[raw] = out.get(raw, 0) + count
        return out

    @staticmethod
    def cells(values: Any) -> list[Any]:
        return list(values.to_pylist())

    @staticmethod
    def codes(values: Any, codes: dict[Any, int]) -> np.ndarray:
        import pyarrow as pa
        import pyarrow.compute as pc

        raws = list(codes)
        where = pc.index_in(values, value_set=pa.array(raws, type=values.type)).to_numpy(zero_copy_only=False)
        return np.asarray([codes[raw] for raw in raws], dtype=np.int64)[where]

    @staticmethod
    def fast_numbers(values: Any) -> np.ndarray | None:
        import pyarrow as pa

        if values.null_count or not (pa.types.is_floating(values.type) or pa.types.is_integer(values.type)):
            return None  # nulls, booleans, text: cell by cell
        return np.asarray(values.to_numpy(zero_copy_only=False).astype(np.float64, copy=False))
