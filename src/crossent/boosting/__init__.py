"""crossent's losses as gradient-boosting objectives, for LightGBM and XGBoost.

Every crossent loss and option, with each row's gradient and exact Hessian diagonal in closed
form (:func:`crossent.value_grad_hess`), a Hessian convention (``"exact"``, XGBoost's
``"majorizer"``, ``"lightgbm"``), a floor for negative curvature, the sample weights multiplied
in, the loss-optimal initial score and the loss as the evaluation metric. Neither booster is
imported here: the callables take their data objects as arguments.

>>> import numpy as np, lightgbm as lgb  # doctest: +SKIP
>>> objective = Objective("focal_loss", {"gamma": 2.0})  # doctest: +SKIP
>>> init = objective.init_score(y, num_outputs=3)  # doctest: +SKIP
>>> train = lgb.Dataset(X, y, init_score=np.tile(init, (len(y), 1)))  # doctest: +SKIP
>>> params = {"objective": lightgbm_objective(objective), "num_class": 3}  # doctest: +SKIP
>>> booster = lgb.train(params, train, feval=lightgbm_metric(objective))  # doctest: +SKIP
>>> margins = booster.predict(X, raw_score=True) + init  # doctest: +SKIP

:class:`crossent.models.GradientBoostingClassifier` does all of this behind scikit-learn's API.
"""

from crossent.boosting._boosters import (
    lightgbm_metric,
    lightgbm_objective,
    lightgbm_sklearn_objective,
    xgboost_metric,
    xgboost_objective,
    xgboost_sklearn_objective,
)
from crossent.boosting._objective import HESSIANS, Objective

__all__ = [
    "HESSIANS",
    "Objective",
    "lightgbm_metric",
    "lightgbm_objective",
    "lightgbm_sklearn_objective",
    "xgboost_metric",
    "xgboost_objective",
    "xgboost_sklearn_objective",
]
