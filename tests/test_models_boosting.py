"""GradientBoostingClassifier: LightGBM and XGBoost on crossent losses, as a scikit-learn estimator."""

from __future__ import annotations

import sys

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import load_breast_cancer, make_classification
from sklearn.utils.estimator_checks import parametrize_with_checks

from crossent.models import GradientBoostingClassifier

lgb = pytest.importorskip("lightgbm")
xgb = pytest.importorskip("xgboost")

BACKENDS = ["lightgbm", "xgboost"]


@pytest.fixture(scope="module")
def multiclass() -> tuple[np.ndarray, np.ndarray]:
    return make_classification(500, 8, n_informative=5, n_classes=3, random_state=0)


@pytest.fixture(scope="module")
def binary() -> tuple[np.ndarray, np.ndarray]:
    X, y = load_breast_cancer(return_X_y=True)
    return X, y


def test_cross_entropy_is_lightgbms_classifier(multiclass, binary) -> None:
    for (X, y), hessian in ((multiclass, "lightgbm"), (binary, None)):
        ours = GradientBoostingClassifier(hessian=hessian, n_estimators=30, early_stopping=False, random_state=0,
                                          n_threads=1, num_leaves=15).fit(X, y)
        theirs = lgb.LGBMClassifier(n_estimators=30, num_leaves=15, random_state=ours._seed(), deterministic=True,
                                    force_row_wise=True, n_jobs=1, verbose=-1).fit(X, y)
        np.testing.assert_allclose(ours.predict_proba(X), theirs.predict_proba(X), atol=1e-9)


def test_cross_entropy_is_xgboosts_classifier(multiclass) -> None:
    X, y = multiclass
    ours = GradientBoostingClassifier(backend="xgboost", hessian="majorizer", n_estimators=30, early_stopping=False,
                                      random_state=0, n_threads=1, max_depth=4).fit(X, y)
    margin = np.tile(ours.init_score_, (len(y), 1))
    booster = xgb.train({"objective": "multi:softprob", "num_class": 3, "max_depth": 4, "seed": ours._seed(),
                         "tree_method": "hist", "nthread": 1, "learning_rate": 0.1},
                        xgb.DMatrix(X, y, base_margin=margin), 30)
    np.testing.assert_allclose(ours.predict_proba(X), booster.predict(xgb.DMatrix(X, base_margin=margin)), atol=1e-6)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize(("loss", "options"), [
    ("cross_entropy", None), ("focal", {"gamma": 2.0}), ("poly1", {"epsilon": 1.0}), ("logit_adjusted", None),
    ("cross_entropy", {"label_smoothing": 0.1}), ("binary_focal", {"gamma": 2.0, "alpha": 0.25}),
])
def test_every_loss_trains_binary(binary, backend: str, loss: str, options) -> None:
    X, y = binary
    model = GradientBoostingClassifier(loss, loss_options=options, backend=backend, n_estimators=60, random_state=0,
                                       n_threads=1).fit(X, y)
    proba = model.predict_proba(X)
    assert proba.shape == (len(y), 2) and np.allclose(proba.sum(axis=1), 1)
    assert model.score(X, y) > 0.95
    assert model.decision_function(X).shape == (len(y),)
    np.testing.assert_allclose(model.predict_log_proba(X), np.log(proba), atol=1e-10)
    assert 1 <= model.n_estimators_ <= 60 and len(model.validation_history_) >= model.n_estimators_


@pytest.mark.parametrize("backend", BACKENDS)
def test_multiclass_and_multilabel(multiclass, backend: str) -> None:
    X, y = multiclass
    model = GradientBoostingClassifier("focal", class_weight="balanced", backend=backend, n_estimators=40,
                                       random_state=0, n_threads=1).fit(X, y)
    assert model.decision_function(X).shape == (len(y), 3) and model.score(X, y) > 0.8
    Y = np.stack([y == 0, y == 1, X[:, 0] > 0], axis=1).astype(int)
    model = GradientBoostingClassifier("asymmetric", backend=backend, n_estimators=40, random_state=0,
                                       n_threads=1).fit(X, Y)
    assert model.predict(X).shape == Y.shape and (model.predict(X) == Y).mean() > 0.8


@pytest.mark.parametrize("backend", BACKENDS)
def test_decision_function_adds_the_initial_score_back(binary, backend: str) -> None:
    X, y = binary
    model = GradientBoostingClassifier("binary_focal", loss_options={"gamma": 2.0}, backend=backend,
                                       n_estimators=1, learning_rate=1e-12, early_stopping=False, n_threads=1).fit(X, y)
    # one round of no length: the margins are the initial score itself (not 0, not XGBoost's 0.5)
    np.testing.assert_allclose(model.decision_function(X), model.init_score_[0], atol=1e-9)
    assert abs(model.init_score_[0]) > 0.1


@pytest.mark.parametrize("backend", BACKENDS)
def test_early_stopping_keeps_the_best_round(backend: str) -> None:
    X, y = make_classification(400, 10, n_informative=2, flip_y=0.3, random_state=1)
    model = GradientBoostingClassifier(backend=backend, n_estimators=500, learning_rate=0.3, n_iter_no_change=5,
                                       random_state=0, n_threads=1).fit(X, y)
    history = model.validation_history_
    assert model.n_estimators_ < 100
    assert model.n_estimators_ == int(np.argmin(history)) + 1
    assert len(history) == model.n_estimators_ + 5


def test_sample_weight_is_in_the_objective(binary) -> None:
    X, y = binary
    X = np.round(X[:200] / X[:200].std(axis=0))
    y = y[:200]
    w = np.where(np.arange(200) % 2 == 0, 2.0, 1.0)
    rows = np.repeat(np.arange(200), w.astype(int))
    params = dict(n_estimators=10, early_stopping=False, n_threads=1, num_leaves=4, min_child_samples=1,
                  min_data_in_bin=1, min_sum_hessian_in_leaf=0.0)
    weighted = GradientBoostingClassifier(**params).fit(X, y, sample_weight=w)
    copies = GradientBoostingClassifier(**params).fit(X[rows], y[rows])
    np.testing.assert_allclose(weighted.decision_function(X), copies.decision_function(X), atol=1e-9)
    plain = GradientBoostingClassifier(**params).fit(X, y)
    assert not np.allclose(plain.decision_function(X), weighted.decision_function(X))


def test_booster_params_are_estimator_params() -> None:
    model = GradientBoostingClassifier("focal", num_leaves=7, min_child_samples=3)
    assert model.get_params()["num_leaves"] == 7
    copy = clone(model)
    assert copy.get_params()["num_leaves"] == 7 and copy.get_params()["min_child_samples"] == 3
    copy.set_params(num_leaves=9, learning_rate=0.2)
    assert copy.num_leaves == 9 and copy.learning_rate == 0.2


@pytest.mark.parametrize(("params", "match"), [
    ({"backend": "catboost"}, "backend must be one of"),
    ({"n_estimators": 0}, "n_estimators must be a positive int"),
    ({"learning_rate": -1.0}, "learning_rate must be a positive number"),
    ({"validation_fraction": 1.0}, "validation_fraction must be a number in"),
    ({"n_iter_no_change": 1.5}, "n_iter_no_change must be a positive int"),
    ({"early_stopping": "yes"}, "early_stopping must be True or False"),
    ({"n_threads": 0}, "n_threads must be None or a positive int"),
    ({"objective": "binary"}, "booster parameter 'objective' is set by GradientBoostingClassifier"),
    ({"hessian": "newton"}, "hessian must be one of"),
    ({"loss": "hinge"}, "loss must be one of"),
])
def test_bad_parameters_are_named(binary, params: dict, match: str) -> None:
    X, y = binary
    with pytest.raises(ValueError, match=match):
        GradientBoostingClassifier(**params).fit(X[:50], y[:50])


@pytest.mark.parametrize("backend", BACKENDS)
def test_without_the_extra_a_one_line_error(binary, monkeypatch, backend: str) -> None:
    X, y = binary
    monkeypatch.setitem(sys.modules, backend, None)
    with pytest.raises(ModuleNotFoundError, match=rf"needs {backend}: pip install 'crossent\[boosting\]'") as caught:
        GradientBoostingClassifier(backend=backend).fit(X[:50], y[:50])
    assert "\n" not in str(caught.value)


def _expected_failures(estimator: GradientBoostingClassifier) -> dict[str, str]:
    failures = {}
    if estimator._booster_params():
        failures["check_no_attributes_set_in_init"] = (
            "booster parameters come as **booster_params and are kept as attributes (get_params, set_params "
            "and clone include them), as XGBoost's own scikit-learn classes do")
    if estimator.early_stopping:
        failures["check_sample_weight_equivalence_on_dense_data"] = (
            "the held-out rows for early stopping are drawn from the rows, so repeated rows change the split")
    elif estimator.backend == "lightgbm":
        failures["check_sample_weight_equivalence_on_dense_data"] = (
            "LightGBM's bins (min_data_in_bin) and float32 histograms count rows, not weight; "
            "test_sample_weight_is_in_the_objective shows the equivalence where those cannot matter")
    return failures


@parametrize_with_checks([
    GradientBoostingClassifier(n_estimators=10, early_stopping=False, n_threads=1, min_child_samples=1),
    GradientBoostingClassifier("focal", backend="xgboost", n_estimators=10, early_stopping=False, n_threads=1),
    GradientBoostingClassifier("focal", n_estimators=10, n_threads=1),
], expected_failed_checks=_expected_failures)
def test_scikit_learn_estimator_checks(estimator, check) -> None:
    check(estimator)
