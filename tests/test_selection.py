"""compare(): the same model and folds for every loss, the scores, and the recommendation rule."""

from __future__ import annotations

import numpy as np
import pytest

from crossent.selection import CATALOG, Comparison, compare, embedded
from crossent.selection._compare import _metrics, _recommend

sklearn_datasets = pytest.importorskip("sklearn.datasets")


@pytest.fixture(scope="module")
def breast_cancer() -> Comparison:
    data = embedded()
    return compare(data.X, data.y, cv=5, class_names=data.class_names, progress=False)


def test_defaults_on_the_embedded_data(breast_cancer: Comparison) -> None:
    result = breast_cancer
    assert [c.name for c in result.candidates] == ["ce", "weighted-ce", "focal", "label-smoothing", "logit-adjusted"]
    assert result.metric == "log_loss_scaled"
    assert result.recommendation in {c.name for c in result.candidates}
    assert result.reason and result.recommendation in result.reason
    assert result.dataset["counts"] == [357, 212] and result.dataset["minority"] == "malignant"
    for name, per_metric in result.scores.items():
        for key, values in per_metric.items():
            assert len(values) == 5, (name, key)
            assert np.all(np.isfinite(values)), (name, key)
        assert len(result.temperatures[name]) == 5 and min(result.temperatures[name]) > 0
    # every sample is predicted exactly once, out of fold, by every loss
    for probabilities in result.oof_probabilities.values():
        np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-12)
    summary = result.summary()
    assert summary["ce"]["log_loss"]["mean"] == pytest.approx(np.mean(result.scores["ce"]["log_loss"]))
    # temperature scaling is fitted on held-out data: it cannot be much worse than the raw model
    for name in result.scores:
        assert summary[name]["log_loss_scaled"]["mean"] < summary[name]["log_loss"]["mean"] * 1.25
    table = result.table()
    assert all(c.name in table for c in result.candidates) and f"{result.recommendation} <" in table


def test_class_weighting_buys_recall(breast_cancer: Comparison) -> None:
    # The published trade-off, on real data: balanced weights raise minority recall.
    s = breast_cancer.summary()
    assert s["weighted-ce"]["minority_recall"]["mean"] >= s["ce"]["minority_recall"]["mean"]


def test_deterministic_for_a_seed(breast_cancer: Comparison) -> None:
    data = embedded()
    again = compare(data.X, data.y, losses=["ce", "focal"], cv=5, progress=False)
    for name in ("ce", "focal"):
        for key in ("log_loss", "log_loss_scaled", "ece", "roc_auc"):
            np.testing.assert_allclose(again.scores[name][key], breast_cancer.scores[name][key], rtol=1e-6)


def test_multiclass_and_a_higher_is_better_metric() -> None:
    X, y = sklearn_datasets.load_wine(return_X_y=True)
    result = compare(X, y, losses=["ce", "focal", "poly1"], cv=3, metric="roc_auc", progress=False)
    means = {n: np.mean(result.scores[n]["roc_auc"]) for n in result.scores}
    assert result.metric == "roc_auc"
    best = max(means, key=means.__getitem__)
    assert result.recommendation in (best, "ce")
    assert result.oof_probabilities["ce"].shape == (len(y), 3)


def test_multilabel_defaults() -> None:
    X, Y = sklearn_datasets.make_multilabel_classification(n_samples=300, n_features=8, n_classes=4,
                                                           random_state=0)
    result = compare(X, Y, cv=3, progress=False)
    assert [c.name for c in result.candidates] == ["bce", "pos-weighted-bce", "binary-focal", "asymmetric"]
    assert result.oof_probabilities["bce"].shape == Y.shape
    assert result.dataset["kind"] == "multilabel"


def _handmade(scores: dict[str, dict[str, list[float]]], metric: str = "log_loss_scaled") -> Comparison:
    names = list(scores)
    keys = [m.key for m in _metrics()]
    full = {n: {k: list(scores[n].get(k, [0.5, 0.5, 0.5, 0.5])) for k in keys} for n in names}
    return Comparison(dataset={}, candidates=[CATALOG[n] for n in names], metrics=_metrics(), metric=metric,
                      scores=full, temperatures={n: [] for n in names}, oof_probabilities={},
                      y=np.zeros(0), histories={})


def test_a_tie_within_one_standard_error_goes_to_plain_ce() -> None:
    # focal is better on average (0.02), but the paired fold differences vary by more than that.
    result = _handmade({"ce": {"log_loss_scaled": [0.30, 0.20, 0.40, 0.25]},
                        "focal": {"log_loss_scaled": [0.20, 0.25, 0.35, 0.27]}})
    _recommend(result, "ce")
    assert result.recommendation == "ce"
    assert "within one standard error" in result.reason and "focal" in result.reason


def test_a_clear_win_is_recommended() -> None:
    result = _handmade({"ce": {"log_loss_scaled": [0.30, 0.31, 0.29, 0.30]},
                        "focal": {"log_loss_scaled": [0.20, 0.22, 0.19, 0.21]}})
    _recommend(result, "ce")
    assert result.recommendation == "focal"
    assert "more than one standard error" in result.reason


def test_higher_is_better_metrics_pick_the_maximum() -> None:
    result = _handmade({"ce": {"roc_auc": [0.80, 0.81, 0.79, 0.80]},
                        "focal": {"roc_auc": [0.90, 0.91, 0.89, 0.92]}}, metric="roc_auc")
    _recommend(result, "ce")
    assert result.recommendation == "focal"


def test_warns_when_recall_is_bought_with_calibration() -> None:
    result = _handmade({
        "ce": {"minority_recall": [0.80, 0.82, 0.81, 0.79], "ece": [0.02, 0.03, 0.02, 0.025]},
        "weighted-ce": {"minority_recall": [0.92, 0.93, 0.90, 0.91], "ece": [0.08, 0.09, 0.07, 0.085]},
        "focal": {"minority_recall": [0.80, 0.82, 0.81, 0.79], "ece": [0.02, 0.03, 0.02, 0.025]},
    })
    _recommend(result, "ce")
    assert len(result.warnings) == 1
    assert result.warnings[0].startswith("weighted-ce raises minority-class recall") and "ECE" in result.warnings[0]


@pytest.mark.parametrize(("kwargs", "fragment"), [
    ({"y": np.zeros(20, dtype=int)}, "single class"),
    ({"y": np.array([0] * 18 + [1] * 2)}, "fewer than the 5 folds"),
    ({"metric": "accuracy"}, "metric must be one of"),
    ({"losses": ["hinge"]}, "unknown loss 'hinge'"),
    ({"losses": ["asymmetric"]}, "is for multi-label targets"),
    ({"cv": 1}, "cv must be an int of at least 2"),
])
def test_bad_arguments(kwargs: dict[str, object], fragment: str) -> None:
    rng = np.random.default_rng(0)
    args = {"X": rng.normal(size=(20, 3)), "y": np.array([0, 1] * 10)}
    args.update(kwargs)
    X, y = args.pop("X"), args.pop("y")
    with pytest.raises(ValueError, match=fragment):
        compare(X, y, progress=False, **args)
