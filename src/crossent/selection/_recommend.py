"""The recommendation: the baseline loss unless a candidate beats it, significantly and by a margin.

Every candidate is scored on the same R × K splits (:func:`crossent.selection._splits.outer_splits`),
so its scores are paired with the baseline's split by split. The steps:

1. per candidate, the per-split gains d_j (signed so that positive = better than the baseline);
2. :func:`corrected_resampled_t` on them: the paired t-test with the Nadeau–Bengio variance
   correction, since the splits share training data and their gains are correlated;
3. :func:`holm` over the candidates' two-sided p-values (m candidates, one family), so that a
   significant gain is one whose printed Holm-level interval lies above 0;
4. a candidate *beats* the baseline when its Holm-adjusted p-value is below ``alpha``, its gain is
   positive, and its mean gain is at least the practical margin; the one with the largest gain is recommended, and
   with none the baseline is kept.

Picking the best of several noisy means, or a one-standard-error rule, would recommend a
non-baseline loss far more often than ``alpha`` when no loss is better; the tests show both.
scipy is imported only where a t distribution is needed.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

__all__ = ["PairedTest", "Recommendation", "corrected_resampled_t", "holm", "recommend"]

RELATIVE_MARGIN = 0.01
"""The default practical margin: 1% of the absolute value of the baseline's mean score."""


@dataclass(frozen=True)
class PairedTest:
    """One candidate against the baseline over paired splits (see :func:`recommend`).

    ``gain`` is the mean over splits of the improvement (positive = the candidate is better),
    in the metric's units; ``ci`` its two-sided (1 - alpha) interval from the corrected standard
    error, at the Holm-adjusted level of the candidate's rank (alpha / (m - rank + 1)); ``t`` and
    ``df`` the corrected resampled t statistic; ``p`` the two-sided p-value for H0: gain = 0 and
    ``p_holm`` it Holm-adjusted over the m candidates; ``margin`` the practical margin;
    ``significant`` is ``p_holm < alpha`` with a positive gain (the interval above 0) and ``beats``
    is ``significant and gain >= margin``.
    """

    candidate: str
    baseline: str
    gain: float
    ci: tuple[float, float]
    t: float
    df: int
    p: float
    p_holm: float
    margin: float
    significant: bool
    beats: bool

    def to_dict(self) -> dict[str, Any]:
        """Plain Python values (``ci`` a list), for JSON; infinite ``t`` stays ``float('inf')``."""
        out = asdict(self)
        out["ci"] = list(self.ci)
        return out


@dataclass(frozen=True)
class Recommendation:
    """The loss to train with, why, the paired test of every other candidate (by name) and the
    runner-up: the best of the others by mean score (None with a single candidate)."""

    name: str
    reason: str
    tests: dict[str, PairedTest]
    runner_up: str | None


def corrected_resampled_t(differences: Any, *, n_train: float, n_test: float) -> tuple[float, float, float, int]:
    """The corrected resampled t statistic of paired differences over n resampled splits.

    The splits of repeated K-fold cross-validation share training rows, so their differences
    are positively correlated and the naive paired standard error s/√n is too small.
    Nadeau and Bengio correct the variance by the ratio of test to training size:

    .. math::
        \\bar d = \\frac1n \\sum_j d_j, \\quad
        \\mathrm{se} = \\sqrt{\\Big(\\frac1n + \\frac{n_{test}}{n_{train}}\\Big) s^2}, \\quad
        t = \\frac{\\bar d}{\\mathrm{se}}, \\quad \\mathrm{df} = n - 1

    with s² the sample variance (ddof = 1) of the d_j. Bouckaert and Frank show this test keeps
    its size and is replicable for R × K repeated cross-validation (``df = R·K - 1``).

    A zero variance gives se = 0 and t = +inf, -inf, or 0 for an exact tie (d̄ = 0), never NaN.

    Args:
        differences: ``(n,)`` finite paired differences, n ≥ 2.
        n_train: training rows per split (a mean, for unequal folds), > 0.
        n_test: test rows per split, > 0.

    Returns ``(mean, se, t, df)``.

    >>> mean, se, t, df = corrected_resampled_t([0.1, 0.3, 0.2, 0.2], n_train=80, n_test=20)
    >>> round(mean, 4), round(se, 4), round(t, 3), df
    (0.2, 0.0577, 3.464, 3)

    References: Nadeau, Bengio, Inference for the Generalization Error, Machine Learning 52,
    239-281, 2003; Bouckaert, Frank, Evaluating the Replicability of Significance Tests for
    Comparing Learning Algorithms, PAKDD 2004.
    """
    d = np.asarray(differences, dtype=np.float64)
    if d.ndim != 1 or d.size < 2:
        raise ValueError(f"differences must be 1-D with at least 2 values, got shape {d.shape}")
    if not np.all(np.isfinite(d)):
        raise ValueError(f"differences must be finite, got {d[~np.isfinite(d)][0]}")
    n_train, n_test = _positive("n_train", n_train), _positive("n_test", n_test)
    n = d.size
    mean = float(np.mean(d))
    variance = float(np.sum((d - mean) ** 2) / (n - 1))
    se = math.sqrt((1 / n + n_test / n_train) * variance)
    if se > 0:
        t = mean / se
    elif mean != 0:  # every split gives the same difference
        t = math.copysign(math.inf, mean)
    else:  # an exact tie
        t = 0.0
    return mean, se, t, n - 1


def holm(p_values: Any) -> np.ndarray:
    """Holm's step-down adjusted p-values: reject H_i at level alpha when ``holm(p)[i] < alpha``.

    With the p-values sorted ascending, p_(1) ≤ ... ≤ p_(m):

    .. math::
        \\tilde p_{(i)} = \\min\\Big(1, \\max_{j \\le i} (m - j + 1)\\, p_{(j)}\\Big)

    monotone in the order of the p-values; it controls the family-wise error rate at alpha
    under any dependence between the tests.

    >>> holm([0.01, 0.04, 0.03, 0.005]).round(4).tolist()
    [0.03, 0.06, 0.06, 0.02]

    Reference: Holm, A Simple Sequentially Rejective Multiple Test Procedure, Scandinavian
    Journal of Statistics 6(2), 65-70, 1979.
    """
    p = np.asarray(p_values, dtype=np.float64)
    if p.ndim != 1:
        raise ValueError(f"p_values must be 1-D, got shape {p.shape}")
    if not np.all((p >= 0) & (p <= 1)):  # also rejects NaN
        raise ValueError(f"p_values must lie in [0, 1], got {p[~((p >= 0) & (p <= 1))][0]}")
    m = p.size
    order = np.argsort(p, kind="stable")
    stepped = np.minimum(1.0, np.maximum.accumulate((m - np.arange(m)) * p[order]))
    adjusted = np.empty(m)
    adjusted[order] = stepped
    return adjusted


def recommend(scores: Mapping[str, Any], *, baseline: str, lower_is_better: bool, label: str,
              min_gain: float | None = None, n_train: float, n_test: float,
              alpha: float = 0.05) -> Recommendation:
    """The candidate to recommend: the baseline unless another beats it significantly and by a margin.

    Each other candidate c gets the per-split gains over the baseline b, positive = better:
    d_j = b_j - c_j when ``lower_is_better`` else c_j - b_j, and a :class:`PairedTest`:
    the two-sided :func:`corrected_resampled_t` test of H0: gain = 0, Holm-adjusted
    (:func:`holm`) over the m candidates compared with the baseline. c *beats* b when
    ``p_holm < alpha`` with a positive gain and its mean gain is at least the margin (``min_gain``, or 1% of
    |b's mean score| when None). The recommendation is the candidate with the largest gain
    among those that beat the baseline, else the baseline. Without the baseline among the
    scores, it is the best mean, untested.

    The reason quotes the evidence of the recommended candidate, or, when the baseline is kept,
    of the best-scoring other candidate, for example::

        focal: log loss 0.0712 vs ce 0.0727, gain 0.0015 (95% CI -0.0004..0.0031, corrected
        resampled t-test over 25 splits, Holm-adjusted for 4 candidates): not significant, ce kept

    Args:
        scores: per candidate name, the ``(n_splits,)`` scores, paired by split (n_splits ≥ 2).
        baseline: the name of the baseline (plain cross-entropy).
        lower_is_better: the metric's direction (True for losses, False for accuracies).
        label: the metric's name, quoted in the reason ("log loss (bias-corrected)").
        min_gain: the practical margin in the metric's units (≥ 0), or None for 1% of the
            baseline's mean.
        n_train, n_test: rows per split used for training and for testing (see
            :func:`corrected_resampled_t`).
        alpha: the family-wise significance level, in (0, 1).

    >>> rng = np.random.default_rng(0)
    >>> ce = 0.30 + 0.02 * rng.standard_normal(25)
    >>> scores = {"ce": ce, "focal": ce - 0.03 + 0.002 * rng.standard_normal(25), "tied": ce + 0.0}
    >>> r = recommend(scores, baseline="ce", lower_is_better=True, label="log loss", n_train=80, n_test=20)
    >>> r.name, r.runner_up, r.tests["focal"].beats, r.tests["tied"].p
    ('focal', 'ce', True, 1.0)

    References: Nadeau, Bengio, Inference for the Generalization Error, Machine Learning 52,
    2003; Bouckaert, Frank, PAKDD 2004; Holm, Scandinavian Journal of Statistics 6, 1979.
    """
    table = _scores(scores)
    if not isinstance(lower_is_better, bool):
        raise TypeError(f"lower_is_better must be a bool, got {lower_is_better!r}")
    if not isinstance(alpha, int | float) or isinstance(alpha, bool) or not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1), got {alpha!r}")
    n_train, n_test = _positive("n_train", n_train), _positive("n_test", n_test)
    sign = -1.0 if lower_is_better else 1.0
    means = {name: float(np.mean(values)) for name, values in table.items()}
    by_score = sorted(means, key=lambda name: -sign * means[name])  # best first, ties in given order
    n_splits = len(next(iter(table.values())))

    if baseline not in table:
        best = by_score[0]
        runner_up = by_score[1] if len(by_score) > 1 else None
        reason = (f"{best}: {label} {means[best]:.4f}, the best mean over {n_splits} splits; there was no "
                  f"baseline ({baseline}) to test against, so the difference is untested")
        return Recommendation(best, reason, {}, runner_up)
    others = [name for name in table if name != baseline]
    if not others:
        return Recommendation(baseline, f"{baseline}: {label} {means[baseline]:.4f}, the only candidate: kept",
                              {}, None)
    if min_gain is None:
        margin, margin_text = RELATIVE_MARGIN * abs(means[baseline]), None
    else:
        if isinstance(min_gain, bool) or not isinstance(min_gain, int | float) or not 0 <= min_gain < math.inf:
            raise ValueError(f"min_gain must be a finite number ≥ 0 or None, got {min_gain!r}")
        margin, margin_text = float(min_gain), f"the {float(min_gain):.4f} margin"
    if margin_text is None:
        margin_text = f"the {RELATIVE_MARGIN:.0%} margin ({margin:.4f})"

    tests = _paired_tests(table, baseline, others, sign, margin, n_train, n_test, alpha)
    winners = sorted((name for name in others if tests[name].beats), key=lambda name: -tests[name].gain)
    m = len(others)
    if winners:
        name = winners[0]
        verdict = f"significant and above {margin_text}, {name} recommended"
        also = f" Also beating {baseline}: {', '.join(winners[1:])}." if len(winners) > 1 else ""
    else:
        name = max(others, key=lambda other: tests[other].gain)
        test = tests[name]
        if test.significant:
            verdict = f"significant, but below {margin_text}: {baseline} kept"
        else:
            verdict = f"not significant, {baseline} kept"
        also = ""
    test = tests[name]
    level = f"{100 * (1 - alpha):g}%"
    reason = (f"{name}: {label} {means[name]:.4f} vs {baseline} {means[baseline]:.4f}, gain {test.gain:.4f} "
              f"({level} CI {test.ci[0]:.4f}..{test.ci[1]:.4f}, corrected resampled t-test over {n_splits} "
              f"splits, Holm-adjusted for {m} candidate{'s' if m > 1 else ''}): {verdict}{also}")
    chosen = winners[0] if winners else baseline
    runner_up = next(other for other in by_score if other != chosen)
    return Recommendation(chosen, reason, tests, runner_up)


def _paired_tests(table: dict[str, np.ndarray], baseline: str, others: list[str], sign: float, margin: float,
                  n_train: float, n_test: float, alpha: float) -> dict[str, PairedTest]:
    from scipy import stats

    results = {}
    for name in others:
        d = sign * (table[name] - table[baseline])
        results[name] = corrected_resampled_t(d, n_train=n_train, n_test=n_test)
    # two-sided p for H0: gain = 0, so that "significant" is exactly "the printed interval excludes 0";
    # an infinite t (zero variance) is decided by its sign
    p = np.array([_two_sided_p(t, df, stats) for _, _, t, df in results.values()])
    p_holm = holm(p)
    rank = np.empty(len(p), dtype=np.int64)
    rank[np.argsort(p, kind="stable")] = np.arange(len(p))
    tests = {}
    for i, (name, (mean, se, t, df)) in enumerate(results.items()):
        level = alpha / (len(p) - rank[i])  # Holm's level for this candidate's step
        half = float(stats.t.ppf(1 - level / 2, df)) * se
        significant = bool(p_holm[i] < alpha and mean > 0)
        tests[name] = PairedTest(name, baseline, mean, (mean - half, mean + half), t, df, float(p[i]),
                                 float(p_holm[i]), margin, significant, significant and mean >= margin)
    return tests


def _two_sided_p(t: float, df: int, stats: Any) -> float:
    if math.isinf(t):
        return 0.0
    return float(min(1.0, 2 * stats.t.sf(abs(t), df)))


def _scores(scores: Mapping[str, Any]) -> dict[str, np.ndarray]:
    if not isinstance(scores, Mapping) or not scores:
        raise ValueError(f"scores must be a non-empty mapping of name to per-split scores, got {scores!r}")
    table = {str(name): np.asarray(values, dtype=np.float64) for name, values in scores.items()}
    lengths = {name: values.shape for name, values in table.items()}
    first = next(iter(table))
    for name, values in table.items():
        if values.ndim != 1 or values.size < 2:
            raise ValueError(f"scores[{name!r}] must be 1-D with a score per split (at least 2), "
                             f"got shape {values.shape}")
        if values.shape != table[first].shape:
            raise ValueError(f"scores must be paired by split, but scores[{name!r}] has shape {values.shape} "
                             f"and scores[{first!r}] {lengths[first]}")
        if not np.all(np.isfinite(values)):
            raise ValueError(f"scores[{name!r}] must be finite, got {values[~np.isfinite(values)][0]}")
    return table


def _positive(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating) or not (
            0 < value < math.inf):
        raise ValueError(f"{name} must be a positive finite number, got {value!r}")
    return float(value)
