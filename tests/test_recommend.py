"""The recommendation's statistics: the corrected resampled t-test, Holm's adjustment, the rule.

- ``corrected_resampled_t`` equals Nadeau and Bengio's formula computed here with scipy, and
  its interval is wider than the naive paired t's;
- ``holm`` equals Holm's procedure worked by hand, and is monotone in the p-values;
- ``recommend``: a clear win is recommended, a small noisy gain and a gain below the margin
  keep the baseline, higher-is-better metrics are signed right, zero variance gives no NaN;
- with 5 candidates that are no better than the baseline (200 simulated comparisons), the
  baseline is kept in ≥ 95% of them, while a naive one-standard-error rule is not.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from crossent.selection._recommend import PairedTest, Recommendation, corrected_resampled_t, holm, recommend

stats = pytest.importorskip("scipy.stats")

R, K, N = 5, 5, 500  # 5 × 5-fold cross-validation of 500 rows
N_TEST = N / K
N_TRAIN = N - N_TEST
SPLITS = R * K


def compare(scores: dict[str, np.ndarray], **options: Any) -> Recommendation:
    return recommend(scores, **{"baseline": "ce", "lower_is_better": True, "label": "log loss",
                                "n_train": N_TRAIN, "n_test": N_TEST, **options})


def split_scores(rng: np.random.Generator, mean: float = 0.30) -> np.ndarray:
    """Per-split scores of the baseline: the splits differ in difficulty far more than the losses."""
    return mean + 0.02 * rng.standard_normal(SPLITS)


def null_candidate(rng: np.random.Generator, base: np.ndarray, model: str, sd: float = 0.003) -> np.ndarray:
    """A candidate no better than the baseline: its per-split differences have mean 0 and, in
    the ``exchangeable`` model, the correlation ρ = n_test / N between every two splits that
    Nadeau and Bengio's correction assumes; in the ``independent`` model none."""
    rho = N_TEST / N
    shared = math.sqrt(rho) * rng.standard_normal() if model == "exchangeable" else 0.0
    scale = math.sqrt(1 - rho) if model == "exchangeable" else 1.0
    return base + sd * (shared + scale * rng.standard_normal(SPLITS))


def test_corrected_resampled_t_is_the_formula() -> None:
    d = np.random.default_rng(0).normal(0.01, 0.02, SPLITS)
    mean, se, t, df = corrected_resampled_t(d, n_train=N_TRAIN, n_test=N_TEST)
    s2 = np.var(d, ddof=1)
    expected_se = math.sqrt((1 / SPLITS + N_TEST / N_TRAIN) * s2)
    assert mean == pytest.approx(np.mean(d), rel=1e-12)
    assert se == pytest.approx(expected_se, rel=1e-12)
    assert t == pytest.approx(np.mean(d) / expected_se, rel=1e-12)
    assert df == SPLITS - 1
    # the correction widens the interval over the naive paired t (scipy's ttest_rel / ttest_1samp)
    naive = stats.ttest_1samp(d, 0.0)
    naive_se = np.mean(d) / naive.statistic
    assert naive_se == pytest.approx(math.sqrt(s2 / SPLITS), rel=1e-12)
    q = stats.t.ppf(0.975, df)
    assert 2 * q * se > 2 * q * naive_se * 2.5  # sqrt(1 + n · n_test / n_train) = sqrt(7.25) ≈ 2.7
    assert stats.t.sf(t, df) > naive.pvalue / 2


def test_corrected_resampled_t_with_zero_variance() -> None:
    assert corrected_resampled_t([0.2] * 4, n_train=8, n_test=2)[1:3] == (0.0, math.inf)
    assert corrected_resampled_t([-0.5] * 4, n_train=8, n_test=2)[2] == -math.inf
    assert corrected_resampled_t([0.0] * 4, n_train=8, n_test=2)[1:] == (0.0, 0.0, 3)


def test_holm_by_hand() -> None:
    # sorted: 0.005 · 4 = 0.02, 0.01 · 3 = 0.03, 0.03 · 2 = 0.06, 0.04 · 1 = 0.04 → max(0.06, 0.04)
    np.testing.assert_allclose(holm([0.01, 0.04, 0.03, 0.005]), [0.03, 0.06, 0.06, 0.02], rtol=1e-12)
    np.testing.assert_allclose(holm([0.5, 0.4]), [0.8, 0.8], rtol=1e-12)  # capped at 1 and monotone
    np.testing.assert_allclose(holm([0.9, 0.6]), [1.0, 1.0])
    assert holm([]).shape == (0,)


def test_holm_is_monotone_and_at_least_the_raw_p() -> None:
    rng = np.random.default_rng(1)
    for _ in range(100):
        p = rng.uniform(size=rng.integers(1, 12)) ** 3
        adjusted = holm(p)
        order = np.argsort(p)
        assert np.all(np.diff(adjusted[order]) >= 0)
        assert np.all(adjusted >= p) and np.all(adjusted <= 1)
        assert np.all(adjusted <= np.minimum(1, len(p) * p) + 1e-15)  # never worse than Bonferroni


def test_a_clear_win_is_recommended() -> None:
    rng = np.random.default_rng(2)
    base = split_scores(rng)
    scores = {"ce": base, "focal": base - 0.01 + 0.003 * rng.standard_normal(SPLITS),
              "noise": null_candidate(rng, base, "independent")}
    result = compare(scores, label="log loss (bias-corrected)")
    assert result.name == "focal"
    focal = result.tests["focal"]
    assert isinstance(focal, PairedTest) and focal.candidate == "focal" and focal.baseline == "ce"
    assert focal.gain == pytest.approx(np.mean(base - scores["focal"]))
    assert focal.significant and focal.beats and focal.ci[0] > 0 and focal.p_holm < 0.05
    assert focal.margin == pytest.approx(0.01 * np.mean(base))
    assert result.reason.startswith(f"focal: log loss (bias-corrected) {np.mean(scores['focal']):.4f} vs ce "
                                    f"{np.mean(base):.4f}, gain {focal.gain:.4f} (95% CI {focal.ci[0]:.4f}..")
    assert "corrected resampled t-test over 25 splits, Holm-adjusted for 2 candidates" in result.reason
    assert result.reason.endswith("significant and above the 1% margin (0.0030), focal recommended")
    assert result.runner_up in {"ce", "noise"}
    assert set(focal.to_dict()) == {"candidate", "baseline", "gain", "ci", "t", "df", "p", "p_holm", "margin",
                                    "significant", "beats"}


def test_a_one_percent_gain_on_noisy_splits_is_a_tie() -> None:
    rng = np.random.default_rng(3)
    base = split_scores(rng)
    focal = base - 0.003 + 0.01 * rng.standard_normal(SPLITS)  # 1% better, noise 3 × the gain
    result = compare({"ce": base, "focal": focal}, min_gain=0.0)
    test = result.tests["focal"]
    assert result.name == "ce" and result.runner_up == "focal"
    assert not test.significant and test.ci[0] < 0 < test.ci[1]
    assert result.reason.endswith("not significant, ce kept")


def test_a_significant_gain_below_the_margin_keeps_the_baseline() -> None:
    rng = np.random.default_rng(4)
    base = split_scores(rng)
    focal = base - 0.001 + 0.0002 * rng.standard_normal(SPLITS)  # a sure gain of 0.3%
    result = compare({"ce": base, "focal": focal})
    test = result.tests["focal"]
    assert test.significant and not test.beats and test.gain < test.margin
    assert result.name == "ce"
    assert result.reason.endswith(f"significant, but below the 1% margin ({test.margin:.4f}): ce kept")
    explicit = compare({"ce": base, "focal": focal}, min_gain=0.0005)
    assert explicit.name == "focal" and explicit.tests["focal"].margin == 0.0005
    assert explicit.reason.endswith("significant and above the 0.0005 margin, focal recommended")


def test_higher_is_better_metrics() -> None:
    rng = np.random.default_rng(5)
    accuracy = 0.80 + 0.02 * rng.standard_normal(SPLITS)
    better = accuracy + 0.03 + 0.003 * rng.standard_normal(SPLITS)
    worse = accuracy - 0.03 + 0.003 * rng.standard_normal(SPLITS)
    result = compare({"ce": accuracy, "better": better, "worse": worse}, lower_is_better=False,
                     label="balanced accuracy")
    assert result.name == "better" and result.runner_up == "ce"
    assert result.tests["better"].gain > 0.02 and result.tests["worse"].gain < -0.02
    # significantly worse is not "significant" in the sense that matters: a gain
    assert result.tests["worse"].p < 0.01 and not result.tests["worse"].significant
    # the same scores as a loss: now "worse" is the better one
    assert compare({"ce": accuracy, "better": better, "worse": worse}).name == "worse"


def test_the_best_other_candidate_is_quoted_when_the_baseline_is_kept() -> None:
    rng = np.random.default_rng(6)
    base = split_scores(rng)
    scores = {"ce": base, "bad": base + 0.05, "close": base - 0.0005 + 0.01 * rng.standard_normal(SPLITS)}
    result = compare(scores)
    assert result.name == "ce" and result.reason.startswith("close: log loss")


def test_zero_variance_and_exact_ties(recwarn: pytest.WarningsRecorder) -> None:
    base = 0.25 + np.arange(SPLITS) / 128  # dyadic: the differences are exact, their variance 0
    result = compare({"ce": base, "same": base.copy(), "shifted": base - 1 / 64, "worse": base + 1 / 64})
    same, shifted, worse = (result.tests[n] for n in ("same", "shifted", "worse"))
    assert (same.t, same.p, same.ci) == (0.0, 1.0, (0.0, 0.0))  # two-sided
    assert shifted.t == math.inf and shifted.p == 0.0 and shifted.beats
    assert worse.t == -math.inf and worse.p == 0.0 and not worse.significant  # surely worse: no gain
    assert result.name == "shifted"
    for test in result.tests.values():
        assert all(np.isfinite([test.gain, test.p, test.p_holm, *test.ci]))
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]


def test_without_the_baseline_the_best_mean_is_untested() -> None:
    result = compare({"focal": np.array([0.2, 0.3]), "poly": np.array([0.3, 0.4])})
    assert (result.name, result.runner_up, result.tests) == ("focal", "poly", {})
    assert "no baseline (ce) to test against" in result.reason
    alone = compare({"ce": np.array([0.2, 0.3])})
    assert (alone.name, alone.runner_up, alone.tests) == ("ce", None, {})


@pytest.mark.parametrize("model", ["independent", "exchangeable"])
def test_five_null_candidates_keep_the_baseline(model: str) -> None:
    """The family-wise error: no candidate is better, so any recommendation is a false one.

    With independent splits the corrected test is conservative: the baseline is kept in ≥ 95%
    of the comparisons. In Nadeau and Bengio's exchangeable model the corrected test has its
    nominal size, so Holm's family-wise error is about 5% and the count of false
    recommendations is checked against Binomial(200, 0.05) instead (99.9% quantile: 21).
    The naive rule (the best mean wins when it is one naive standard error ahead) keeps the
    baseline in fewer than 60% (independent, 1 - 0.84⁵ ≈ 42% false) or 20% (exchangeable).
    """
    seeds, kept, naive_kept = 200, 0, 0
    for seed in range(seeds):
        rng = np.random.default_rng(seed)
        base = split_scores(rng)
        scores = {"ce": base, **{f"null{c}": null_candidate(rng, base, model) for c in range(5)}}
        kept += compare(scores).name == "ce"
        gains = {name: base - values for name, values in scores.items() if name != "ce"}
        best = max(gains, key=lambda name: gains[name].mean())
        naive_kept += not gains[best].mean() > gains[best].std(ddof=1) / math.sqrt(SPLITS)
    if model == "independent":
        assert kept / seeds >= 0.95, kept
        assert naive_kept / seeds < 0.6, naive_kept
    else:
        assert seeds - kept <= stats.binom.ppf(0.999, seeds, 0.05), kept
        assert naive_kept / seeds < 0.2, naive_kept


ERRORS: list[tuple[Any, dict[str, Any], str]] = [
    ({}, {}, "scores must be a non-empty mapping"),
    ({"ce": [0.1, 0.2], "focal": [0.1, 0.2, 0.3]}, {}, r"paired by split, but scores\['focal'\] has shape \(3,\)"),
    ({"ce": [0.1]}, {}, r"scores\['ce'\] must be 1-D with a score per split"),
    ({"ce": [0.1, math.nan]}, {}, r"scores\['ce'\] must be finite, got nan"),
    ({"ce": [0.1, 0.2]}, {"alpha": 1.5}, "alpha must be in [(]0, 1[)], got 1.5"),
    ({"ce": [0.1, 0.2]}, {"n_train": 0}, "n_train must be a positive finite number, got 0"),
    ({"ce": [0.1, 0.2], "focal": [0.1, 0.2]}, {"min_gain": -0.1}, "min_gain must be a finite number ≥ 0"),
]


@pytest.mark.parametrize(("scores", "options", "message"), ERRORS)
def test_errors_name_the_argument(scores: Any, options: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        compare(scores, **options)


def test_helper_errors() -> None:
    with pytest.raises(ValueError, match="differences must be 1-D with at least 2 values"):
        corrected_resampled_t([0.1], n_train=4, n_test=1)
    with pytest.raises(ValueError, match="n_test must be a positive finite number"):
        corrected_resampled_t([0.1, 0.2], n_train=4, n_test=-1)
    with pytest.raises(ValueError, match="p_values must lie in"):
        holm([0.1, math.nan])
    with pytest.raises(TypeError, match="lower_is_better must be a bool"):
        compare({"ce": [0.1, 0.2]}, lower_is_better="yes")
