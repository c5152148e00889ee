"""Metrics that judge predicted probabilities: proper scores, calibration, post-hoc recalibration.

All take NumPy arrays or array-likes and share one target convention: ``y_true`` integer labels
``(N,)`` with ``y_prob`` ``(N,)`` (binary, the probability of class 1) or ``(N, C)``
(multiclass, rows sum to 1), or ``y_true`` a 0/1 indicator ``(N, L)`` with ``y_prob`` ``(N, L)``
(multi-label). Recalibration (temperature scaling, bias-corrected temperature scaling) takes
logits in place of probabilities. scikit-learn and scipy are imported only by the functions
that need them.

Mergeable states (:class:`ScoreSums`, :class:`CalibrationBins`, :class:`RankingHistogram` and the
:class:`Evaluation` bundle of ``crossent eval``'s metrics) accumulate weighted sums over chunks,
merge across partitions and ``all_reduce`` over torch.distributed ranks;
:func:`crossent.metrics.dask.evaluate` reduces them over a Dask array.
"""

from crossent.metrics._calibration import (
    CalibrationBins,
    ece_name,
    expected_calibration_error,
    parse_ece_name,
    reliability_curve,
)
from crossent.metrics._recalibration import Calibration, fit_calibration
from crossent.metrics._scores import brier_score, log_loss
from crossent.metrics._states import Evaluation, RankingHistogram, ScoreSums
from crossent.metrics._temperature import apply_temperature, fit_temperature

__all__ = [
    "Calibration",
    "CalibrationBins",
    "Evaluation",
    "RankingHistogram",
    "ScoreSums",
    "apply_temperature",
    "brier_score",
    "ece_name",
    "expected_calibration_error",
    "fit_calibration",
    "fit_temperature",
    "log_loss",
    "parse_ece_name",
    "reliability_curve",
]
