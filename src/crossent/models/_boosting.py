"""GradientBoostingClassifier: LightGBM or XGBoost trained on any crossent loss, as a
scikit-learn estimator.

The booster gets :class:`crossent.boosting.Objective`'s per-row gradients and Hessian
diagonals (sample and class weights multiplied in), starts from the loss-optimal constant (the
log prior for cross-entropy) passed as ``init_score`` / ``base_margin`` and added back at
prediction, and early-stops on the crossent loss of a held-out part of the training data. With
``loss="cross_entropy"`` and ``hessian="lightgbm"`` (``"majorizer"`` for XGBoost) it grows the
booster's own ``binary`` / ``multiclass`` (``binary:logistic`` / ``multi:softprob``) model.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from crossent.models._problem import LogitPredictions, number, set_up, sklearn_tags

__all__ = ["GradientBoostingClassifier"]

BACKENDS = {"lightgbm": "lightgbm", "xgboost": "xgboost"}
# Parameters the estimator sets itself; booster_params may not give them.
OWN = {
    "lightgbm": {"objective", "num_class", "num_iterations", "n_estimators", "learning_rate", "metric", "seed",
                 "init_score", "boost_from_average"},
    "xgboost": {"objective", "num_class", "n_estimators", "learning_rate", "eta", "eval_metric", "seed",
                "base_score", "disable_default_eval_metric"},
}


def _import(backend: str) -> Any:
    try:
        return __import__(BACKENDS[backend])
    except ImportError:
        raise ModuleNotFoundError(f"GradientBoostingClassifier(backend={backend!r}) needs {backend}: "
                                  f"pip install 'crossent[boosting]'") from None


class GradientBoostingClassifier(LogitPredictions, ClassifierMixin, BaseEstimator):  # type: ignore[misc]
    """Gradient-boosted trees (LightGBM or XGBoost) trained on any crossent loss.

    Args:
        loss, loss_options, class_weight: as :class:`~crossent.models.LinearClassifier`
            (``"cross_entropy"``, ``"focal"``, ``"poly1"``, ``"logit_adjusted"``,
            ``"asymmetric"``, ``"binary_focal"``, ... and their options; ``"balanced"``
            class weights from the training labels).
        backend: ``"lightgbm"`` or ``"xgboost"`` (the ``boosting`` extra installs both).
        hessian: ``"exact"``, ``"majorizer"`` (XGBoost's 2p(1-p)) or ``"lightgbm"``
            (K/(K-1)·p(1-p)) for the softmax losses; None is ``"exact"`` (see
            :mod:`crossent.boosting`). Negative curvature is floored at the Gauss–Newton value.
        n_estimators: the most boosting rounds.
        learning_rate: the shrinkage of each round, > 0.
        early_stopping: hold out ``validation_fraction`` of the training rows (stratified) and
            stop after ``n_iter_no_change`` rounds without a lower crossent loss there, keeping
            the best round; False trains ``n_estimators`` rounds on every row.
        validation_fraction, n_iter_no_change: as above.
        random_state: the seed of the split and of the booster.
        n_threads: the booster's threads (None: its default).
        **booster_params: passed to the booster (``num_leaves``, ``max_depth``,
            ``min_child_samples``, ``reg_lambda``, ...); each is a parameter of this estimator
            (``get_params``, ``set_params``, ``clone``).

    Attributes:
        classes_, target_type_, loss_function_, n_features_in_: as LinearClassifier.
        booster_: the trained ``lightgbm.Booster`` or ``xgboost.Booster``.
        init_score_: the initial margins ``(n_outputs,)``, added to the booster's output.
        n_estimators_: the rounds kept (the best one with early stopping).
        objective_: the :class:`crossent.boosting.Objective` trained on.
        validation_history_: the held-out loss after each round (empty without early stopping).

    >>> from sklearn.datasets import load_iris
    >>> X, y = load_iris(return_X_y=True)
    >>> model = GradientBoostingClassifier("focal", n_estimators=20, random_state=0).fit(X, y)
    >>> model.predict_proba(X[:2]).shape, model.score(X, y) > 0.9
    ((2, 3), True)
    """

    def __init__(self, loss: str | Callable[..., Any] = "cross_entropy", *,
                 loss_options: Mapping[str, Any] | None = None,
                 class_weight: str | Mapping[Any, float] | None = None, backend: str = "lightgbm",
                 hessian: str | None = None, n_estimators: int = 200, learning_rate: float = 0.1,
                 early_stopping: bool = True, validation_fraction: float = 0.1, n_iter_no_change: int = 20,
                 random_state: int | None = None, n_threads: int | None = None, **booster_params: Any) -> None:
        self.loss = loss
        self.loss_options = loss_options
        self.class_weight = class_weight
        self.backend = backend
        self.hessian = hessian
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.random_state = random_state
        self.n_threads = n_threads
        for name, value in booster_params.items():
            setattr(self, name, value)

    # booster_params are parameters too: every public attribute that is not fitted (no trailing _)
    def get_params(self, deep: bool = True) -> dict[str, Any]:
        params = super().get_params(deep=deep)
        params.update(self._booster_params())
        return params

    def set_params(self, **params: Any) -> GradientBoostingClassifier:
        own = set(super().get_params(deep=False))
        for name, value in params.items():
            if name in own:
                super().set_params(**{name: value})
            else:
                setattr(self, name, value)
        return self

    def _booster_params(self) -> dict[str, Any]:
        own = set(super().get_params(deep=False))
        return {name: value for name, value in vars(self).items()
                if name not in own and not name.startswith("_") and not name.endswith("_")}

    def __sklearn_tags__(self) -> Any:
        tags = sklearn_tags(super().__sklearn_tags__(), self.loss, self.class_weight)
        tags.input_tags.allow_nan = True  # both boosters route missing values
        return tags

    def _check_params(self) -> None:
        if self.backend not in BACKENDS:
            raise ValueError(f"backend must be one of {', '.join(map(repr, BACKENDS))}, got {self.backend!r}")
        for name in ("n_estimators", "n_iter_no_change"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
                raise ValueError(f"{name} must be a positive int, got {value!r}")
        number("learning_rate", self.learning_rate, positive=True)
        fraction = self.validation_fraction
        if isinstance(fraction, bool) or not isinstance(fraction, numbers.Real) or not 0 < fraction < 1:
            raise ValueError(f"validation_fraction must be a number in (0, 1), got {fraction!r}")
        if not isinstance(self.early_stopping, bool | np.bool_):
            raise ValueError(f"early_stopping must be True or False, got {self.early_stopping!r}")
        if self.n_threads is not None and (isinstance(self.n_threads, bool) or not isinstance(
                self.n_threads, numbers.Integral) or self.n_threads < 1):
            raise ValueError(f"n_threads must be None or a positive int, got {self.n_threads!r}")
        clash = sorted(set(self._booster_params()) & OWN[self.backend])
        if clash:
            raise ValueError(f"booster parameter {clash[0]!r} is set by GradientBoostingClassifier itself "
                             f"(use its own parameters: loss, n_estimators, learning_rate, random_state)")

    # ------------------------------------------------------------------ fit

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> GradientBoostingClassifier:
        """Boost on the crossent loss from its optimal constant. Returns self."""
        from crossent.boosting import Objective

        self._check_params()
        booster = _import(self.backend)
        X, y = validate_data(self, X, y, dtype=np.float64, ensure_all_finite="allow-nan", multi_output=True)
        problem = set_up(type(self).__name__, self.loss, self.loss_options, self.class_weight, y, sample_weight,
                         X.shape[0])
        self.classes_, self.target_type_, self.loss_function_ = problem.classes, problem.target_type, problem.loss
        options = {k: v for k, v in problem.options.items() if k not in ("reduction", "sample_weight")}
        weight = problem.options.get("sample_weight")
        weight = None if weight is None else np.asarray(weight, dtype=np.float64).reshape(X.shape[0], -1)[:, 0]
        labels: np.ndarray = problem.target if problem.labels is None else problem.labels  # (indicator: target)
        self.objective_ = Objective(problem.loss, options, hessian=self.hessian)

        train = np.arange(X.shape[0])
        valid = None
        if self.early_stopping:
            train, valid = _holdout(labels, problem.target_type, self.validation_fraction, self.random_state)
        self.init_score_ = self.objective_.init_score(
            labels[train], None if weight is None else weight[train], num_outputs=problem.n_outputs)
        parts = [(X[rows], labels[rows], None if weight is None else weight[rows])
                 for rows in ([train] if valid is None else [train, valid])]
        fit = _fit_lightgbm if self.backend == "lightgbm" else _fit_xgboost
        self.booster_, self.n_estimators_, self.validation_history_ = fit(self, booster, parts, problem.n_outputs)
        return self

    def _seed(self) -> int:
        from sklearn.utils import check_random_state

        return int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))

    # ------------------------------------------------------------------ predict

    def decision_function(self, X: Any) -> Any:
        """The margins: the booster's output plus the initial score; ``(N,)`` for binary
        problems, else ``(N, K)`` or ``(N, L)``."""
        check_is_fitted(self)
        X = validate_data(self, X, dtype=np.float64, ensure_all_finite="allow-nan", reset=False)
        if self.backend == "lightgbm":  # LightGBM leaves the initial score out of its output
            raw = self.booster_.predict(X, raw_score=True, num_iteration=self.n_estimators_)
            margins = np.asarray(raw, dtype=np.float64).reshape(X.shape[0], -1) + self.init_score_
        else:  # XGBoost adds the base margin of the data it predicts
            xgboost = _import("xgboost")
            data = xgboost.DMatrix(X, base_margin=_tiled(self.init_score_, X.shape[0]), nthread=self.n_threads or 0)
            raw = self.booster_.predict(data, output_margin=True, iteration_range=(0, self.n_estimators_))
            margins = np.asarray(raw, dtype=np.float64).reshape(X.shape[0], -1)
        return margins[:, 0] if self.target_type_ == "binary" else margins


def _tiled(init: np.ndarray, rows: int) -> np.ndarray:
    """The initial score of every row: (rows,) for one margin, else (rows, k)."""
    return np.full(rows, init[0]) if init.shape[0] == 1 else np.tile(init, (rows, 1))


def _holdout(labels: np.ndarray, target_type: str, fraction: float, random_state: Any) -> tuple[Any, Any]:
    """The training and validation rows, stratified where every class has two rows or more."""
    from sklearn.model_selection import train_test_split

    rows = np.arange(labels.shape[0])
    stratify = None
    if target_type != "multilabel-indicator":
        counts = np.bincount(labels)
        stratify = labels if counts[counts > 0].min() >= 2 else None
    if rows.size * fraction < 1 or rows.size < 4:
        return rows, None
    try:
        train, valid = train_test_split(rows, test_size=fraction, stratify=stratify, random_state=random_state)
    except ValueError:  # too few rows of a class for a stratified split of this size
        train, valid = train_test_split(rows, test_size=fraction, random_state=random_state)
    return np.sort(train), np.sort(valid)


def _fit_lightgbm(model: GradientBoostingClassifier, lightgbm: Any, parts: list[Any],
                  n_outputs: int) -> tuple[Any, int, list[float]]:
    from crossent.boosting import lightgbm_metric, lightgbm_objective

    objective, init = model.objective_, model.init_score_
    (X, labels, weight), *rest = parts
    multilabel = labels.ndim == 2  # LightGBM's Dataset holds no indicator: the objective does
    params = {"objective": lightgbm_objective(objective, labels=labels if multilabel else None),
              "learning_rate": float(model.learning_rate), "metric": "None", "verbose": -1,
              "seed": model._seed(), "deterministic": True, "force_row_wise": True,
              "feature_pre_filter": False,  # (else data too small to split leaves no feature: a fatal error)
              **({"num_class": n_outputs} if n_outputs > 1 else {}),
              **({} if model.n_threads is None else {"num_threads": int(model.n_threads)}),
              **model._booster_params()}

    def dataset(X: Any, labels: Any, weight: Any, reference: Any = None) -> Any:
        return lightgbm.Dataset(X, label=np.zeros(X.shape[0]) if multilabel else labels, weight=weight,
                                init_score=_tiled(init, X.shape[0]), reference=reference, free_raw_data=False)

    train = dataset(X, labels, weight)
    if not rest:
        booster = lightgbm.train(params, train, num_boost_round=int(model.n_estimators))
        return booster, booster.current_iteration(), []
    Xv, labels_v, weight_v = rest[0]
    valid = dataset(Xv, labels_v, weight_v, reference=train)
    record: dict[str, Any] = {}
    metric = lightgbm_metric(objective, name="loss", labels=labels_v if multilabel else None)
    booster = lightgbm.train(params, train, num_boost_round=int(model.n_estimators), valid_sets=[valid],
                             valid_names=["valid"], feval=metric,
                             callbacks=[lightgbm.early_stopping(int(model.n_iter_no_change), verbose=False),
                                        lightgbm.record_evaluation(record)])
    history = [float(v) for v in record.get("valid", {}).get("loss", [])]
    return booster, booster.best_iteration or booster.current_iteration(), history


def _fit_xgboost(model: GradientBoostingClassifier, xgboost: Any, parts: list[Any],
                 n_outputs: int) -> tuple[Any, int, list[float]]:
    from crossent.boosting import xgboost_metric, xgboost_objective

    objective, init = model.objective_, model.init_score_
    params = {"learning_rate": float(model.learning_rate), "seed": model._seed(), "base_score": 0.0,
              "disable_default_eval_metric": 1, "tree_method": "hist", "verbosity": 0,
              **({"num_class": n_outputs} if n_outputs > 1 and parts[0][1].ndim == 1 else {}),
              **({} if model.n_threads is None else {"nthread": int(model.n_threads)}),
              **model._booster_params()}
    data = [xgboost.DMatrix(X, label=labels, weight=weight, base_margin=_tiled(init, X.shape[0]),
                            nthread=model.n_threads or 0) for X, labels, weight in parts]
    if len(data) == 1:
        booster = xgboost.train(params, data[0], num_boost_round=int(model.n_estimators),
                                obj=xgboost_objective(objective))
        return booster, int(model.n_estimators), []
    record: dict[str, Any] = {}
    booster = xgboost.train(params, data[0], num_boost_round=int(model.n_estimators), evals=[(data[1], "valid")],
                            obj=xgboost_objective(objective), custom_metric=xgboost_metric(objective, name="loss"),
                            early_stopping_rounds=int(model.n_iter_no_change), evals_result=record,
                            verbose_eval=False, maximize=False)
    history = [float(v) for v in record.get("valid", {}).get("loss", [])]
    return booster, int(booster.best_iteration) + 1, history
