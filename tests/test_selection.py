"""compare(): the protocol end to end — calibration that repairs, decisions chosen on held-out data,
tuning, honest recommendations, the model seam, parallel = serial — and its errors."""

from __future__ import annotations

import json

import numpy as np
import pytest

from crossent.selection import Comparison, candidate, compare, embedded

sklearn_datasets = pytest.importorskip("sklearn.datasets")


@pytest.fixture(scope="module")
def hypothyroid() -> Comparison:
    data = embedded("hypothyroid")
    return compare(data.X, data.y, losses=["ce", "weighted-ce", "logit-adjusted", "focal"], repeats=1,
                   impute="median", class_names=data.class_names, n_jobs=1, progress=False)


def test_every_split_scores_every_candidate(hypothyroid: Comparison) -> None:
    result = hypothyroid
    assert result.metric == "log_loss_calibrated" and result.calibration == "bias-corrected"
    assert len(result.splits) == 5 and result.dataset["counts"] == [3012, 151]
    for name, per_metric in result.scores.items():
        for key, values in per_metric.items():
            assert len(values) == 5 and np.all(np.isfinite(values)), (name, key)
    # every sample is predicted exactly once, out of fold, raw and calibrated
    for name in result.scores:
        np.testing.assert_allclose(result.oof_raw[name].sum(axis=1), 1.0, rtol=1e-12)
        np.testing.assert_allclose(result.oof_calibrated[name].sum(axis=1), 1.0, rtol=1e-12)
    assert result.recommendation in result.scores and result.reason
    assert json.loads(result.to_json())["recommendation"] == result.recommendation


def test_a_bias_correction_repairs_class_weighting(hypothyroid: Comparison) -> None:
    # Class weights and logit adjustment shift the logits' bias: temperature scaling cannot undo that,
    # one bias per class can. The calibrated gap to plain CE is a fraction of the raw gap.
    s = hypothyroid.summary()
    for name in ("weighted-ce", "logit-adjusted"):
        raw_gap = s[name]["log_loss"]["mean"] - s["ce"]["log_loss"]["mean"]
        calibrated_gap = s[name]["log_loss_calibrated"]["mean"] - s["ce"]["log_loss_calibrated"]["mean"]
        assert raw_gap > 0.03, name
        assert calibrated_gap < 0.25 * raw_gap, name


def test_binary_calibration_is_judged_on_p_positive(hypothyroid: Comparison) -> None:
    # Weighted CE predicts far too many positives; P(positive)'s ECE says so (a top-label ECE hides it).
    from crossent.metrics import expected_calibration_error

    s = hypothyroid.summary()
    assert "P(hypothyroid)" in hypothyroid.metric_of("ece").label
    p = hypothyroid.oof_raw["weighted-ce"][:, 1]
    top = expected_calibration_error(hypothyroid.y, p, scope="top-label")
    positive = expected_calibration_error(hypothyroid.y, p, scope="classwise")
    assert positive > 2 * top
    assert s["weighted-ce"]["ece"]["mean"] > 2 * s["ce"]["ece"]["mean"]


def test_decision_rules_are_chosen_on_the_inner_folds(hypothyroid: Comparison) -> None:
    s = hypothyroid.summary()
    # weighted CE at 0.5 buys recall with precision; at its own chosen threshold it is no better than ce at its own
    assert s["weighted-ce"]["recall_default"]["mean"] > s["ce"]["recall_default"]["mean"] + 0.1
    assert abs(s["weighted-ce"]["f1"]["mean"] - s["ce"]["f1"]["mean"]) < 0.05
    for name in hypothyroid.scores:
        thresholds = [r["thresholds"][0] for r in hypothyroid.rules[name]]
        assert len(set(thresholds)) > 1  # one per split, each from that split's training part
        assert all(0 < t < 1 for t in thresholds)
    assert any("shifted threshold" in w and w.startswith("weighted-ce") for w in hypothyroid.warnings)
    assert len(hypothyroid.analysis) == 4 and "recall" in hypothyroid.analysis[0]


def test_serial_and_parallel_give_the_same_numbers() -> None:
    X, y = sklearn_datasets.make_classification(n_samples=300, n_features=6, weights=[0.85], random_state=1)
    runs = [compare(X, y, losses=["ce", "focal"], cv=3, repeats=1, n_jobs=n, progress=False) for n in (1, 2)]
    for name in ("ce", "focal"):
        for key in ("log_loss", "log_loss_calibrated", "f1", "roc_auc"):
            np.testing.assert_allclose(runs[0].scores[name][key], runs[1].scores[name][key], rtol=1e-10)
    assert runs[1].n_jobs == 2


def test_n_jobs_none_starts_workers_only_for_a_long_run(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    from crossent.selection import _parallel

    if (os.cpu_count() or 1) < 2:
        pytest.skip("one core: there is no second worker to start")
    X, y = sklearn_datasets.make_classification(n_samples=200, n_features=4, random_state=1)
    runs = {}
    for pays_after in (1e9, 0.0):
        monkeypatch.setattr(_parallel, "WORKERS_PAY_AFTER_S", pays_after)
        runs[pays_after] = compare(X, y, losses=["ce", "focal"], cv=3, repeats=1, progress=False)
    assert (runs[1e9].n_jobs, runs[0.0].n_jobs) == (1, 2)
    np.testing.assert_allclose(runs[1e9].scores["focal"]["log_loss"], runs[0.0].scores["focal"]["log_loss"],
                               rtol=1e-10)


def test_plain_ce_stays_on_balanced_data() -> None:
    # iris is balanced: the texts' imbalance remedies buy nothing, and noise must not win.
    X, y = sklearn_datasets.load_iris(return_X_y=True)
    result = compare(X, y, n_jobs=1, progress=False)
    assert result.recommendation == "ce", result.reason
    assert "ce kept" in result.reason and "CI" in result.reason
    assert set(result.tests) == {"weighted-ce", "focal", "label-smoothing", "logit-adjusted"}


def test_tuning_records_what_each_split_chose() -> None:
    X, y = sklearn_datasets.make_classification(n_samples=240, n_features=5, weights=[0.8], random_state=2)
    result = compare(X, y, losses=["ce:C=1", "focal"], cv=3, repeats=1, tune=True, n_jobs=1, progress=False)
    assert all(choice == "C=1" for choice in result.chosen["ce:C=1"])  # a value the user wrote is not tuned
    for choice, searched in zip(result.chosen["focal"], result.searched["focal"], strict=True):
        gamma, c = (part.split("=")[1] for part in choice.split(", "))
        assert float(gamma) in (0.5, 1.0, 2.0, 3.0) and float(c) in (0.1, 1.0, 10.0)
        assert len(searched) == 12 and min(searched, key=lambda point: point[1])[0] == choice


def test_the_model_is_a_seam() -> None:
    from sklearn.linear_model import LogisticRegression

    def logistic(loss: str, *, loss_options: dict[str, float], class_weight: object) -> LogisticRegression:
        return LogisticRegression(class_weight=class_weight)

    X, y = sklearn_datasets.make_classification(n_samples=200, n_features=4, random_state=3)
    result = compare(X, y, losses=["ce", "weighted-ce"], model=logistic, cv=3, repeats=1, n_jobs=1, progress=False)
    assert result.model == "logistic" and result.histories == {}
    assert np.all(np.isfinite(result.scores["weighted-ce"]["log_loss_calibrated"]))


def test_cost_decisions_report_the_expected_cost() -> None:
    X, y = sklearn_datasets.make_classification(n_samples=400, n_features=5, weights=[0.9], random_state=4)
    result = compare(X, y, losses=["ce"], cv=3, repeats=1, decision="cost 10:1", n_jobs=1, progress=False)
    s = result.summary()["ce"]
    assert s["cost"]["mean"] <= s["cost_default"]["mean"] + 1e-9 or s["cost"]["mean"] < 0.5
    threshold = result.rules["ce"][0]["thresholds"][0]
    assert threshold == pytest.approx(1 / 11)  # the Bayes rule FP / (FN + FP) on calibrated probabilities


def test_missing_values_are_imputed_inside_the_folds() -> None:
    rng = np.random.default_rng(5)
    X = rng.normal(size=(200, 3))
    y = (X[:, 0] + rng.normal(size=200) > 0.8).astype(int)
    X[rng.random(X.shape) < 0.1] = np.nan
    with pytest.raises(ValueError, match="missing value"):
        compare(X, y, losses=["ce"], progress=False)
    result = compare(X, y, losses=["ce"], cv=3, repeats=1, impute="median", n_jobs=1, progress=False)
    assert result.dataset["missing_values"] == int(np.isnan(X).sum())


def test_multilabel_defaults() -> None:
    X, Y = sklearn_datasets.make_multilabel_classification(n_samples=300, n_features=8, n_classes=4, random_state=0)
    result = compare(X, Y, cv=3, repeats=1, n_jobs=1, progress=False)
    assert [c.name for c in result.candidates] == ["bce", "pos-weighted-bce", "binary-focal", "asymmetric"]
    assert result.oof_raw["bce"].shape == Y.shape and result.dataset["kind"] == "multilabel"
    json.loads(result.to_json())  # no NaN (allow_nan=False)


@pytest.mark.parametrize(("text", "family", "options", "params"), [
    ("focal", "focal", {"gamma": 2.0}, {}),
    ("focal:gamma=1", "focal", {"gamma": 1.0}, {}),
    ("label-smoothing:epsilon=0.05", "label-smoothing", {"label_smoothing": 0.05}, {}),
    ("poly1", "poly1", {"epsilon": 2.0}, {}),  # the function's default, as everywhere
    ("logit-adjusted:tau=1.5,C=0.1", "logit-adjusted", {"tau": 1.5}, {"C": 0.1}),
])
def test_candidate_syntax(text: str, family: str, options: dict[str, float], params: dict[str, float]) -> None:
    c = candidate(text, "single-label")
    assert (c.family, dict(c.loss_options), dict(c.params)) == (family, options, params)


@pytest.mark.parametrize(("text", "fragment"), [
    ("hinge", "unknown loss 'hinge'"),
    ("focal:beta=1", "focal has no option 'beta'"),
    ("focal:gamma=x", "gamma must be a number, got 'x'"),
    ("focal:gamma=-1", "gamma must be ≥ 0"),
    ("focal:gamma", "options are written name=value"),
    ("ce:C=0", "C must be positive"),
    ("asymmetric", "is for multi-label targets"),
])
def test_candidate_errors(text: str, fragment: str) -> None:
    with pytest.raises(ValueError, match=fragment):
        candidate(text, "single-label")


@pytest.mark.parametrize(("kwargs", "fragment"), [
    ({"y": np.zeros(30, dtype=int)}, "single class"),
    ({"y": np.array([0] * 26 + [1] * 4)}, "class '1' has 4 sample"),
    ({"y": np.array([0.0, 1.0] * 14 + [np.nan, 1.0])}, "missing label"),
    ({"metric": "accuracy"}, "metric must be one of"),
    ({"metric": "ecelent"}, "ecelent"),
    ({"calibration": "platt"}, "calibration must be one of"),
    ({"decision": "youden"}, "--decision must be"),
    ({"n_jobs": 0}, "n_jobs must be"),
    ({"losses": ["ce", "ce"]}, "repeat a name"),
])
def test_bad_arguments(kwargs: dict[str, object], fragment: str) -> None:
    rng = np.random.default_rng(0)
    args = {"X": rng.normal(size=(30, 3)), "y": np.array([0, 1] * 15)}
    args.update(kwargs)
    X, y = args.pop("X"), args.pop("y")
    with pytest.raises(ValueError, match=fragment):
        compare(X, y, progress=False, **{"n_jobs": 1, **args})


def test_an_ece_metric_is_parsed_and_named() -> None:
    X, y = sklearn_datasets.make_classification(n_samples=200, n_features=4, random_state=6)
    result = compare(X, y, losses=["ce"], cv=3, repeats=1, metric="ece[10,quantile]", n_jobs=1, progress=False)
    assert result.metric == "ece_calibrated" and "ece[10,quantile,classwise,l1]" in result.metric_of("ece").label


def test_ranking_scores_are_scikit_learns() -> None:
    from sklearn.metrics import average_precision_score, roc_auc_score

    from crossent.selection._score import ranking_scores

    rng = np.random.default_rng(7)
    y = rng.integers(0, 4, size=400)
    p = np.round(rng.dirichlet(np.ones(4), size=400), 2)  # rounded: many ties
    p /= p.sum(axis=1, keepdims=True)
    scores = ranking_scores(y, p, multilabel=False)
    assert scores["roc_auc"] == pytest.approx(roc_auc_score(y, p, multi_class="ovr", average="macro"), rel=1e-12)
    assert scores["average_precision"] == pytest.approx(
        average_precision_score(np.eye(4)[y], p, average="macro"), rel=1e-12)
    binary = (y == 3).astype(int)
    scores = ranking_scores(binary, p[:, 3], multilabel=False)
    assert scores["roc_auc"] == pytest.approx(roc_auc_score(binary, p[:, 3]), rel=1e-12)
    assert scores["average_precision"] == pytest.approx(average_precision_score(binary, p[:, 3]), rel=1e-12)
    Y = (rng.random((400, 3)) < [0.5, 0.1, 0.0]).astype(int)  # a label with no positive is left out
    scores = ranking_scores(Y, p[:, :3], multilabel=True)
    assert scores["roc_auc"] == pytest.approx(roc_auc_score(Y[:, :2], p[:, :2], average="macro"), rel=1e-12)
    assert scores["average_precision"] == pytest.approx(
        average_precision_score(Y[:, :2], p[:, :2], average="macro"), rel=1e-12)


def test_the_median_imputer_is_scikit_learns() -> None:
    from sklearn.impute import SimpleImputer

    from crossent.selection._preprocess import MedianImputer

    rng = np.random.default_rng(8)
    X = rng.normal(size=(60, 5))
    X[rng.random(X.shape) < 0.2] = np.nan
    X[:, 3] = np.nan  # a feature with no value
    X[:, 1] = rng.normal(size=60)  # and one with no missing value
    test = rng.normal(size=(20, 5))
    test[rng.random(test.shape) < 0.3] = np.nan
    ours = MedianImputer().fit(X).transform(test)
    theirs = SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True).fit(X).transform(test)
    np.testing.assert_array_equal(ours, theirs)


def test_the_standardizer_is_scikit_learns() -> None:
    from sklearn.preprocessing import StandardScaler

    from crossent.selection._preprocess import Standardizer

    rng = np.random.default_rng(9)
    X = rng.normal(loc=[0.0, 1e6, -3.0, 5.0], scale=[1.0, 1e-3, 10.0, 0.0], size=(200, 4))  # a constant column
    test = rng.normal(size=(30, 4))
    np.testing.assert_allclose(Standardizer().fit(X).transform(test), StandardScaler().fit(X).transform(test),
                               rtol=1e-9, atol=1e-9)
