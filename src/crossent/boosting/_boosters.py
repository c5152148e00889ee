"""LightGBM's and XGBoost's calling conventions for a crossent :class:`Objective`.

- LightGBM ≥ 4: ``params["objective"] = callable(preds, train_data) -> (grad, hess)``, preds
  ``(n,)`` or ``(n, k)``; a custom metric is ``feval(preds, eval_data) -> (name, value,
  is_higher_better)``. Under a custom objective LightGBM ignores the Dataset's weights and its
  ``boost_from_average``: the objective multiplies the weights in, and the initial score goes
  in as ``init_score`` (LightGBM's predictions leave it out: add it back).
- XGBoost ≥ 2: ``obj(predt, dtrain) -> (grad, hess)`` and ``custom_metric(predt, dtrain) ->
  (name, value)``, predt ``(n,)`` or ``(n, k)``, raw margins. The initial score goes in as
  ``base_margin``, on the training and the evaluation data alike.

Labels and weights are read from the booster's data unless given (a multi-label indicator,
which LightGBM's Dataset cannot hold, is given here).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from crossent.boosting._objective import Objective


def _labels(data: Any, labels: Any, shape: tuple[int, ...]) -> Any:
    """The labels given, else the data's; a flat indicator (XGBoost's multi-label) as (n, L)."""
    if labels is not None:
        return labels
    y = np.asarray(data.get_label())
    if len(shape) == 2 and y.ndim == 1 and y.size == shape[0] * shape[1] and y.size != shape[0]:
        return y.reshape(shape)
    return y


def lightgbm_objective(objective: Objective, *, labels: Any = None,
                       weight: Any = None) -> Callable[[np.ndarray, Any], tuple[np.ndarray, np.ndarray]]:
    """``objective`` as LightGBM's ``params["objective"]``: ``(preds, train_data) -> (grad, hess)``."""

    def lightgbm(preds: np.ndarray, train_data: Any) -> tuple[np.ndarray, np.ndarray]:
        margins = np.asarray(preds, dtype=np.float64)
        y = _labels(train_data, labels, margins.shape)
        return objective.grad_hess(margins, y, train_data.get_weight() if weight is None else weight)

    return lightgbm


def lightgbm_metric(objective: Objective, *, name: str | None = None, labels: Any = None,
                    weight: Any = None) -> Callable[[np.ndarray, Any], tuple[str, float, bool]]:
    """The objective's weighted mean loss as LightGBM's ``feval``: lower is better."""
    label = name or objective.loss

    def lightgbm(preds: np.ndarray, eval_data: Any) -> tuple[str, float, bool]:
        margins = np.asarray(preds, dtype=np.float64)
        y = _labels(eval_data, labels, margins.shape)
        return label, objective.loss_value(margins, y, eval_data.get_weight() if weight is None else weight), False

    return lightgbm


def xgboost_objective(objective: Objective) -> Callable[[np.ndarray, Any], tuple[np.ndarray, np.ndarray]]:
    """``objective`` as XGBoost's ``obj=``: ``(predt, dtrain) -> (grad, hess)``."""

    def xgboost(predt: np.ndarray, dtrain: Any) -> tuple[np.ndarray, np.ndarray]:
        margins = np.asarray(predt, dtype=np.float64)
        return objective.grad_hess(margins, _labels(dtrain, None, margins.shape), dtrain.get_weight())

    return xgboost


def xgboost_metric(objective: Objective, *, name: str | None = None) -> Callable[[np.ndarray, Any], tuple[str, float]]:
    """The objective's weighted mean loss as XGBoost's ``custom_metric`` (of raw margins)."""
    label = name or objective.loss

    def xgboost(predt: np.ndarray, dmatrix: Any) -> tuple[str, float]:
        margins = np.asarray(predt, dtype=np.float64)
        return label, objective.loss_value(margins, _labels(dmatrix, None, margins.shape), dmatrix.get_weight())

    return xgboost


def xgboost_sklearn_objective(objective: Objective) -> Callable[..., tuple[np.ndarray, np.ndarray]]:
    """``objective`` as the ``objective=`` of XGBoost's scikit-learn classes (``XGBClassifier``):
    ``(y_true, y_pred, *, sample_weight=None) -> (grad, hess)``, y_pred the raw margins. Pass the
    initial score to ``fit(..., base_margin=...)``."""

    def xgboost(y_true: np.ndarray, y_pred: np.ndarray, *, sample_weight: Any = None) -> tuple[np.ndarray, np.ndarray]:
        margins = np.asarray(y_pred, dtype=np.float64)
        labels = np.asarray(y_true)
        if margins.ndim == 2 and labels.size == margins.size and labels.size != margins.shape[0]:
            labels = labels.reshape(margins.shape)
        return objective.grad_hess(margins, labels, sample_weight)

    return xgboost


def lightgbm_sklearn_objective(objective: Objective) -> Callable[..., tuple[np.ndarray, np.ndarray]]:
    """``objective`` as the ``objective=`` of LightGBM's scikit-learn classes (``LGBMClassifier``):
    ``(y_true, y_pred, weight) -> (grad, hess)``. Pass the initial score to ``fit(...,
    init_score=...)`` and add it back to ``predict(..., raw_score=True)``."""

    def lightgbm(y_true: np.ndarray, y_pred: np.ndarray, weight: Any = None) -> tuple[np.ndarray, np.ndarray]:
        return objective.grad_hess(np.asarray(y_pred, dtype=np.float64), np.asarray(y_true), weight)

    return lightgbm
