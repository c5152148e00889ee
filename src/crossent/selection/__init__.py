"""Which loss to train with: ``compare`` runs the candidates on the same model and splits.

The protocol's steps, one module each: ``_data`` (the embedded data sets and the user's tables),
``_splits`` (repeated stratified folds), ``_fit`` (the model seam, out-of-fold logits, tuning),
``_calibrate`` (post-hoc calibration with visible fallbacks), ``_decide`` (decision rules chosen
on held-out data), ``_score`` (the metrics), ``_recommend`` (paired, corrected tests); ``_compare``
runs them and ``_result`` holds what they found.
"""

from crossent.selection._candidates import FAMILIES, TUNING_GRIDS, Candidate, candidate, catalog
from crossent.selection._compare import compare, compare_models
from crossent.selection._data import Dataset, embedded, read_predictions, read_table
from crossent.selection._fit import LinearModel
from crossent.selection._models import BoostingModel, MLPModel
from crossent.selection._result import Comparison
from crossent.selection._score import score_predictions

__all__ = [
    "FAMILIES",
    "TUNING_GRIDS",
    "BoostingModel",
    "Candidate",
    "Comparison",
    "Dataset",
    "LinearModel",
    "MLPModel",
    "candidate",
    "catalog",
    "compare",
    "compare_models",
    "embedded",
    "read_predictions",
    "read_table",
    "score_predictions",
]
