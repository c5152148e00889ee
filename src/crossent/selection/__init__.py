"""Which loss to train with: ``compare`` runs the candidates on the same model and folds."""

from crossent.selection._candidates import CATALOG, Candidate
from crossent.selection._compare import Comparison, compare, score_predictions
from crossent.selection._data import Dataset, embedded, read_predictions, read_table

__all__ = [
    "CATALOG",
    "Candidate",
    "Comparison",
    "Dataset",
    "compare",
    "embedded",
    "read_predictions",
    "read_table",
    "score_predictions",
]
