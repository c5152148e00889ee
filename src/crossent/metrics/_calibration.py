"""Calibration: expected calibration error, its mergeable bin statistics, reliability curves.

Everything here bins *forecasts* (a probability v and a 0/1 outcome o, per sample and per row k)
and compares, bin by bin, the mean forecast (confidence) with the mean outcome (accuracy):

- ``scope="top-label"``: one row; v = the largest probability, o = [argmax = y] (Guo et al.).
  Binary ``(N,)`` probabilities are the two classes (1 - p, p): v = max(p, 1 - p), and the
  predicted class is 1 where p > 0.5 (a tie predicts class 0, as argmax).
- ``scope="classwise"``: one row per class c with v = p_c, o = [y = c] (Kull et al.). Binary
  ``(N,)`` probabilities give one row, the positive class: class 0's forecasts 1 - p have the
  mirror-image gaps (up to which bin a value on a bin edge falls in).
- Multi-label ``(N, L)`` is L binary problems, one row each, with the scope applied to each label
  as to binary ``(N,)`` probabilities (top-label: max(p, 1 - p) against [p > 0.5] = y; classwise:
  p against y); ECE averages over the labels, a curve pools them.

Bins split [0, 1] at edges e_0 < ... < e_B: bin b holds e_b < v ≤ e_{b+1}, and v = e_0 falls in
the first bin (scikit-learn's ``calibration_curve``, ``searchsorted`` on the inner edges).
``"uniform"`` edges are b / B; ``"quantile"`` edges are the (unweighted, linearly interpolated)
quantiles of the row's own values, so each bin holds about N / B samples.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from crossent.metrics import _inputs
from crossent.metrics._states import MergeableSums, binary_form, chunk, layout

__all__ = ["CalibrationBins", "ece_name", "expected_calibration_error", "parse_ece_name", "reliability_curve"]

# Options are plain ``str`` in signatures, as the losses' ``reduction``, and checked at run time.
STRATEGIES = ("uniform", "quantile")
SCOPES = ("top-label", "classwise")
NORMS = ("l1", "l2", "max")


def _forecasts(t: _inputs.Targets, scope: str) -> tuple[np.ndarray, np.ndarray]:
    """The forecasts v and outcomes o, both ``(K, N)``: K = 1 (top-label), C (classwise) or L (multi-label)."""
    if t.kind == "multiclass":
        if scope == "top-label":
            return np.max(t.p, axis=1)[None], (np.argmax(t.p, axis=1) == t.y).astype(np.float64)[None]
        return t.p.T, (t.y[None, :] == np.arange(t.p.shape[1])[:, None]).astype(np.float64)
    # binary (N,) and multi-label (N, L): every column a binary problem, one row each
    p, y = np.atleast_2d(t.p.T), np.atleast_2d(t.y.T).astype(np.float64)
    if scope == "top-label":
        return np.maximum(p, 1 - p), ((p > 0.5) == (y == 1)).astype(np.float64)
    return p, y


def _edges(values: np.ndarray, n_bins: int, strategy: str) -> np.ndarray:
    quantiles = np.linspace(0.0, 1.0, n_bins + 1)
    return quantiles if strategy == "uniform" else np.percentile(values, quantiles * 100)


def _statistics(v: np.ndarray, o: np.ndarray, w: np.ndarray, n_bins: int,
                strategy: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-row, per-bin weighted counts Σw, confidence sums Σw·v and outcome sums Σw·o, ``(K, B)``."""
    counts, confidence, correct = (np.zeros((v.shape[0], n_bins)) for _ in range(3))
    for k in range(v.shape[0]):
        edges = _edges(v[k], n_bins, strategy)
        ids = np.searchsorted(edges[1:-1], v[k])  # side="left": e_b < v ≤ e_{b+1}
        counts[k] = np.bincount(ids, weights=w, minlength=n_bins)
        confidence[k] = np.bincount(ids, weights=w * v[k], minlength=n_bins)
        correct[k] = np.bincount(ids, weights=w * o[k], minlength=n_bins)
    return counts, confidence, correct


def _ece(counts: np.ndarray, confidence: np.ndarray, correct: np.ndarray, norm: str) -> float:
    """The per-row calibration error, averaged over rows."""
    filled = counts > 0
    safe = np.where(filled, counts, 1.0)
    gap = np.where(filled, np.abs(correct / safe - confidence / safe), 0.0)
    share = counts / np.sum(counts, axis=1, keepdims=True)
    if norm == "l1":
        rows = np.sum(share * gap, axis=1)
    elif norm == "l2":
        rows = np.sqrt(np.sum(share * gap**2, axis=1))
    else:
        rows = np.max(gap, axis=1)  # empty bins hold 0, and every row has a filled bin
    return float(np.mean(rows))


def _curve(counts: np.ndarray, confidence: np.ndarray,
           correct: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n, s, c = np.sum(counts, axis=0), np.sum(confidence, axis=0), np.sum(correct, axis=0)
    filled = n > 0
    return s[filled] / n[filled], c[filled] / n[filled], n[filled]


def ece_name(n_bins: int = 15, strategy: str = "uniform", scope: str = "top-label",
             norm: str = "l1") -> str:
    """The name a report shows for :func:`expected_calibration_error` with these options.

    ECE values are comparable only under the same binning, so the binning is part of the name.

    >>> ece_name()
    'ece[15,uniform,top-label,l1]'
    >>> ece_name(10, "quantile", "classwise", "max")
    'ece[10,quantile,classwise,max]'
    """
    n_bins = _inputs.n_bins(n_bins)
    strategy = _inputs.choice("strategy", strategy, STRATEGIES)
    scope = _inputs.choice("scope", scope, SCOPES)
    norm = _inputs.choice("norm", norm, NORMS)
    return f"ece[{n_bins},{strategy},{scope},{norm}]"


ECE_DEFAULTS: dict[str, Any] = {"n_bins": 15, "strategy": "uniform", "scope": "top-label", "norm": "l1"}
"""The options of a bare ``"ece"``: :func:`ece_name`'s defaults."""

_ECE_FORM = (f"'ece' or 'ece[n_bins,strategy,scope,norm]' (trailing options may be left out; n_bins a positive "
             f"int, strategy {'|'.join(STRATEGIES)}, scope {'|'.join(SCOPES)}, norm {'|'.join(NORMS)}), "
             f"e.g. 'ece[15,uniform,top-label,l1]' or 'ece[10]'")


def parse_ece_name(text: str) -> dict[str, Any]:
    """The options of an :func:`ece_name`: its inverse, ``ece_name(**parse_ece_name(name)) == name``.

    ``"ece"`` is the defaults; ``"ece[n_bins,strategy,scope,norm]"`` may leave out trailing
    options (``"ece[10]"``, ``"ece[10,quantile]"``), which take the defaults, and allows spaces
    around the commas. Anything else is a ``ValueError`` quoting the text and the accepted form.

    >>> parse_ece_name("ece[10, quantile]")
    {'n_bins': 10, 'strategy': 'quantile', 'scope': 'top-label', 'norm': 'l1'}
    >>> ece_name(**parse_ece_name("ece"))
    'ece[15,uniform,top-label,l1]'
    """
    if not isinstance(text, str):
        raise TypeError(f"an ECE name must be a str, got {type(text).__name__}")
    match = re.fullmatch(r"ece(?:\[([^\[\]]*)\])?", text)
    items = [] if match is None or match.group(1) is None else [item.strip() for item in match.group(1).split(",")]
    options = dict(ECE_DEFAULTS)
    if match is None or len(items) > len(options) or not re.fullmatch(r"[1-9][0-9]*", (items or ["1"])[0]):
        raise ValueError(f"cannot read {text!r} as an ECE name; expected {_ECE_FORM}")
    allowed = (None, STRATEGIES, SCOPES, NORMS)
    for key, item, choices in zip(ECE_DEFAULTS, items, allowed, strict=False):
        if choices is not None and item not in choices:
            raise ValueError(f"cannot read {text!r} as an ECE name ({key} {item!r}); expected {_ECE_FORM}")
        options[key] = int(item) if choices is None else item
    return options


def expected_calibration_error(
    y_true: Any, y_prob: Any, /, *, n_bins: int = 15, strategy: str = "uniform",
    scope: str = "top-label", norm: str = "l1", sample_weight: Any = None,
) -> float:
    """Expected calibration error: the binned gap between confidence and accuracy.

    With forecasts v and outcomes o per row k (one row for ``"top-label"``, one per class for
    ``"classwise"``; see the module docstring), bins b, weighted counts n_kb (Σ wᵢ in the bin,
    N = Σ wᵢ), accuracy acc_kb and confidence conf_kb (the weighted means of o and v in the bin):

    .. math::
        \\mathrm{ECE}_{\\ell_1} = \\frac1K \\sum_k \\sum_b \\frac{n_{kb}}{N} |acc_{kb} - conf_{kb}|,
        \\quad
        \\mathrm{ECE}_{\\ell_2} = \\frac1K \\sum_k \\Big(\\sum_b \\frac{n_{kb}}{N}
            (acc_{kb} - conf_{kb})^2\\Big)^{1/2},
        \\quad
        \\mathrm{MCE} = \\frac1K \\sum_k \\max_{b:\\, n_{kb} > 0} |acc_{kb} - conf_{kb}|

    For multi-label ``(N, L)`` it is the mean over labels of each label's binary ECE.

    Args:
        y_true: integer labels ``(N,)``, or a 0/1 indicator ``(N, L)`` for multi-label.
        y_prob: ``(N,)`` probability of class 1, ``(N, C)`` class probabilities, or ``(N, L)``
            per-label probabilities.
        n_bins: the number of bins B.
        strategy: ``"uniform"`` (equal width) or ``"quantile"`` (equal count; edges from the
            data, so values from different data sets are not binned alike).
        scope: ``"top-label"`` (the predicted class) or ``"classwise"`` (every class, averaged).
        norm: ``"l1"`` (ECE), ``"l2"`` (RMS calibration error) or ``"max"`` (MCE).
        sample_weight: ``(N,)`` non-negative weights.

    Report it under :func:`ece_name` of the same options. For streaming or distributed data
    accumulate :class:`CalibrationBins` (uniform bins) instead.

    >>> round(expected_calibration_error([0, 1, 1, 0], [0.1, 0.9, 0.8, 0.3]), 4)
    0.175

    References: Naeini, Cooper, Hauskrecht, Obtaining Well Calibrated Probabilities Using
    Bayesian Binning, AAAI 2015; Guo, Pleiss, Sun, Weinberger, On Calibration of Modern Neural
    Networks, arXiv:1706.04599, 2017; Kull et al., Beyond temperature scaling: Obtaining
    well-calibrated multiclass probabilities with Dirichlet calibration, arXiv:1910.12656, 2019;
    Nixon et al., Measuring Calibration in Deep Learning, arXiv:1904.01685, 2019.
    """
    ece_name(n_bins, strategy, scope, norm)  # validates the options
    t = _inputs.targets(y_true, y_prob, sample_weight)
    v, o = _forecasts(t, scope)
    return _ece(*_statistics(v, o, t.w, n_bins, strategy), norm)


def reliability_curve(
    y_true: Any, y_prob: Any, /, *, n_bins: int = 10, strategy: str = "uniform",
    scope: str = "top-label", sample_weight: Any = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The reliability diagram: mean forecast against the observed frequency, per non-empty bin.

    Returns ``(mean_predicted, fraction_correct, counts)``, each ``(B',)`` for the B' bins with
    weight: the weighted mean forecast, the weighted mean outcome and the weight Σ wᵢ of each.
    Forecasts, outcomes and bins as :func:`expected_calibration_error`; with
    ``scope="classwise"`` the (sample, class) forecasts of all classes are pooled into one
    curve (for class c alone, pass ``y_true == c`` and ``y_prob[:, c]``), as are the labels of
    multi-label targets in either scope; quantile edges come from the pooled forecasts.

    For binary ``(N,)`` probabilities, ``scope="classwise"`` is the positive class's curve,
    equal to ``sklearn.calibration.calibration_curve(y_true, y_prob, n_bins=n_bins,
    strategy=strategy)``, which returns ``(prob_true, prob_pred)``, i.e. ``fraction_correct``
    first. The default ``"top-label"`` plots max(p, 1 - p) against accuracy instead.

    >>> mean_predicted, fraction, counts = reliability_curve([0, 0, 1, 1], [0.1, 0.3, 0.6, 0.9],
    ...                                                      n_bins=2, scope="classwise")
    >>> mean_predicted.tolist(), fraction.tolist(), counts.tolist()
    ([0.2, 0.75], [0.0, 1.0], [2.0, 2.0])
    """
    ece_name(n_bins, strategy, scope)  # validates the options
    t = _inputs.targets(y_true, y_prob, sample_weight)
    v, o = _forecasts(t, scope)
    w = np.tile(t.w, v.shape[0])
    return _curve(*_statistics(v.reshape(1, -1), o.reshape(1, -1), w, n_bins, strategy))


class CalibrationBins(MergeableSums):
    """Mergeable sufficient statistics of :func:`expected_calibration_error` over uniform bins.

    For each row k (one for ``"top-label"``, one per class for ``"classwise"``, one per label for
    multi-label) and each of the ``n_bins`` equal-width bins: the weighted count Σ wᵢ, the sum of
    forecasts Σ wᵢ vᵢ and the sum of outcomes Σ wᵢ oᵢ, arrays ``counts``, ``confidence_sums``,
    ``correct_sums`` of shape ``(K, n_bins)``. Updating with chunks, or merging the bins of shards
    (``a.merge(b)`` or ``a + b``), gives the statistics of all the data at once, so :meth:`ece`
    equals ``expected_calibration_error(..., strategy="uniform")`` on the concatenation. Quantile
    bins are not offered: their edges depend on all the data, which no partial state knows.

    With ``num_classes`` (C, or L labels with ``multilabel=True``) the layout is fixed up front,
    as every state of :mod:`crossent.metrics` fixes it: partitions that miss a class stay
    compatible, :meth:`~MergeableSums.all_reduce` needs it, and two classes are one binary
    problem, P(class 1) (two columns are read as their second; classwise, one row). Without it,
    the layout comes from the first update (K = 0 before; ``(N, 2)`` columns are then two
    classes). Like the other states it has ``to_dict``/``from_dict``, pickling and ``all_reduce``
    (see :mod:`crossent.metrics._states`); an empty batch adds nothing.

    >>> bins = CalibrationBins(n_bins=15)
    >>> bins.update([0, 1], [0.1, 0.9])
    >>> bins.update([1, 0], [0.8, 0.3])
    >>> round(bins.ece(), 4)
    0.175
    """

    _SUMS = ("counts", "confidence_sums", "correct_sums")

    def __init__(self, n_bins: int = 15, *, scope: str = "top-label", num_classes: int | None = None,
                 multilabel: bool = False) -> None:
        self.n_bins = _inputs.n_bins(n_bins)
        self.scope: str = _inputs.choice("scope", scope, SCOPES)
        self.num_classes: int | None = None
        self.multilabel = multilabel
        self.kind: str | None = None  # "binary", "multiclass" or "multilabel": given, or from the first update
        rows = 0
        if num_classes is not None:
            self.num_classes, self.multilabel = layout(num_classes, multilabel)
            self.kind = "multilabel" if multilabel else "binary" if self.num_classes == 2 else "multiclass"
            per_class = self.kind == "multilabel" or (self.kind == "multiclass" and self.scope == "classwise")
            rows = self.num_classes if per_class else 1
        elif multilabel is not False:
            raise ValueError(f"multilabel={multilabel!r} needs num_classes= (the number of labels)")
        self.counts = np.zeros((rows, self.n_bins))
        self.confidence_sums = np.zeros((rows, self.n_bins))
        self.correct_sums = np.zeros((rows, self.n_bins))

    def _options(self) -> dict[str, Any]:
        return {"n_bins": self.n_bins, "scope": self.scope, "num_classes": self.num_classes,
                "multilabel": self.multilabel}

    def __repr__(self) -> str:
        given = "" if self.num_classes is None else f", num_classes={self.num_classes}, multilabel={self.multilabel}"
        return (f"CalibrationBins(n_bins={self.n_bins}, scope={self.scope!r}{given}, "
                f"rows={self.counts.shape[0]}, weight={float(np.sum(self.counts[:1])):g})")

    def _layout(self) -> dict[str, Any] | None:
        if self.num_classes is not None or self.kind is None:
            return None
        return {"kind": self.kind, "rows": self.counts.shape[0]}

    def _restore_layout(self, layout: dict[str, Any]) -> None:
        kind, rows = layout.get("kind"), layout.get("rows")
        if self.num_classes is not None or kind not in ("binary", "multiclass", "multilabel") or not (
                isinstance(rows, int) and rows > 0):
            raise ValueError(f"bad CalibrationBins layout {layout!r}")
        self.kind = kind
        self.counts, self.confidence_sums, self.correct_sums = (np.zeros((rows, self.n_bins)) for _ in range(3))

    def _check_reducible(self) -> None:
        if self.num_classes is None:
            raise ValueError("CalibrationBins.all_reduce needs the layout fixed up front, the same on every rank: "
                             "build them with num_classes= (and multilabel=)")

    def _check_compatible(self, kind: str, rows: int, what: str) -> None:
        if self.kind is not None and (kind, rows) != (self.kind, self.counts.shape[0]):
            raise ValueError(f"{what} is {kind} with {rows} row(s) of bins, but these CalibrationBins "
                             f"hold {self.kind} data with {self.counts.shape[0]}")

    def update(self, y_true: Any, y_prob: Any, /, sample_weight: Any = None, *, from_logits: bool = False) -> None:
        """Add a batch (targets and probabilities as :func:`expected_calibration_error`, or logits)."""
        if self.num_classes is not None:
            c = chunk(y_true, y_prob, sample_weight, num_classes=self.num_classes, multilabel=self.multilabel,
                      from_logits=from_logits, owner=repr(self))
            if c is not None:
                self._add(binary_form(c))
            return
        shape = np.shape(y_prob)  # the layout of this batch, checked by chunk() against itself
        classes = 2 if len(shape) < 2 else shape[1]
        c = chunk(y_true, y_prob, sample_weight, num_classes=classes, multilabel=np.ndim(y_true) == 2,
                  from_logits=from_logits, owner=repr(self))
        if c is not None:
            self._add(c)

    def _add(self, c: Any) -> None:
        """Add a validated chunk (crossent.metrics._states.Chunk)."""
        v, o = _forecasts(_inputs.Targets(c.kind, c.y, c.p, c.w), self.scope)
        self._check_compatible(c.kind, v.shape[0], "this batch")
        counts, confidence, correct = _statistics(v, o, c.w, self.n_bins, "uniform")
        if self.kind is None:
            self.kind = c.kind
            self.counts, self.confidence_sums, self.correct_sums = counts, confidence, correct
        else:
            self.counts = self.counts + counts
            self.confidence_sums = self.confidence_sums + confidence
            self.correct_sums = self.correct_sums + correct

    def merge(self, other: CalibrationBins) -> CalibrationBins:
        """New bins holding the statistics of both (same ``n_bins``, ``scope`` and classes)."""
        if not isinstance(other, CalibrationBins):
            raise TypeError(f"can only merge CalibrationBins, got {type(other).__name__}")
        if other._options() != self._options():
            raise ValueError(f"cannot merge {other!r} into {self!r}: n_bins, scope and classes must agree")
        merged = CalibrationBins(**self._options())
        if other.kind is None or self.kind is None:
            source = self if other.kind is None else other
            merged.kind = source.kind
            merged.counts, merged.confidence_sums, merged.correct_sums = (
                source.counts.copy(), source.confidence_sums.copy(), source.correct_sums.copy())
            return merged
        self._check_compatible(other.kind, other.counts.shape[0], "the other CalibrationBins")
        merged.kind = self.kind
        merged.counts = self.counts + other.counts
        merged.confidence_sums = self.confidence_sums + other.confidence_sums
        merged.correct_sums = self.correct_sums + other.correct_sums
        return merged

    def __add__(self, other: CalibrationBins) -> CalibrationBins:
        return self.merge(other)

    def _require_data(self) -> None:
        if self.kind is None or not np.sum(self.counts) > 0:
            raise ValueError("these CalibrationBins hold no samples yet: update them first")

    def ece(self, *, norm: str = "l1") -> float:
        """:func:`expected_calibration_error` of everything added, with uniform bins."""
        norm = _inputs.choice("norm", norm, NORMS)
        self._require_data()
        return _ece(self.counts, self.confidence_sums, self.correct_sums, norm)

    def curve(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """:func:`reliability_curve` of everything added: ``(mean_predicted, fraction_correct, counts)``."""
        self._require_data()
        return _curve(self.counts, self.confidence_sums, self.correct_sums)

    def name(self, *, norm: str = "l1") -> str:
        """:func:`ece_name` of :meth:`ece` with this norm."""
        return ece_name(self.n_bins, "uniform", self.scope, norm)
