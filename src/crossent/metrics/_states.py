"""Mergeable evaluation states: weighted sums that add across chunks, Dask blocks and ranks.

Each state holds float64 arrays of sums over the samples it has seen, so that the state of a
data set is the sum of the states of its parts, in any grouping and order:

- :class:`ScoreSums`: Σw, Σw·(log loss), Σw·(Brier), Σw·[correct] and the weighted confusion matrix;
- :class:`~crossent.metrics.CalibrationBins`: per-bin weights, forecast and outcome sums (ECE);
- :class:`RankingHistogram`: per-bin weights of positives and negatives (binned ROC-AUC and AP);
- :class:`Evaluation`: the three above, with ``crossent eval``'s metrics.

Every state has ``update(y_true, y_prob, sample_weight=None, *, from_logits=False)``, a pure
``merge`` (also ``a + b``) that is associative and commutative (exactly so for integer-valued
sums such as unweighted counts, to rounding for the others), an identity (a fresh state),
``to_dict``/``from_dict`` (JSON-able: non-finite sums are the strings ``"inf"``, ``"-inf"``,
``"nan"``), pickling, and ``all_reduce(group=None)``: one ``torch.distributed.all_reduce`` SUM over
one flat float64 buffer of all its sums, after which every rank holds the group's state.

The classes are given up front (``num_classes``; for multi-label targets the number of labels L
with ``multilabel=True``), never read from the data, so that states of partitions missing a class
have the same shape, and a label outside them is a ``ValueError`` naming it. Targets and
probabilities follow :mod:`crossent.metrics` (binary ``(N,)`` P(class 1), multiclass ``(N, C)``,
multi-label ``(N, L)``); with ``from_logits=True`` they are logits (sigmoid for ``(N,)`` and
multi-label, softmax over ``(N, C)``) and the log loss comes from them through log-sigmoid /
log-softmax. An empty batch (N = 0) and a batch of zero weights add nothing and are accepted.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple, Self

import numpy as np

from crossent import _checks
from crossent.metrics import _inputs
from crossent.metrics._scores import log_loss_sum

if TYPE_CHECKING:
    from crossent.metrics._calibration import CalibrationBins

__all__ = ["Evaluation", "RankingHistogram", "ScoreSums"]

RANKING_BINS = 10_000
"""RankingHistogram's default bins: the binned AUC is within ½ Σ_b pos_b·neg_b / (P·N) of the exact one."""
ECE_BINS = 15  # crossent eval's ECE (selection._score.ece_options): 15 uniform bins, l1


class Chunk(NamedTuple):
    """One validated batch: probabilities ``p`` and, from logits, the logits ``z`` too."""

    kind: _inputs.Kind
    y: np.ndarray  # int64 labels (N,), or a float64 0/1 indicator (N, L)
    p: np.ndarray  # float64 probabilities, (N,) or (N, C) or (N, L)
    z: np.ndarray | None  # float64 logits of p's shape, or None when probabilities were given
    w: np.ndarray  # float64 sample weights (N,)


def layout(num_classes: Any, multilabel: Any) -> tuple[int, bool]:
    """The validated ``(num_classes, multilabel)`` a state is built for."""
    if not isinstance(multilabel, bool):
        raise TypeError(f"multilabel must be a bool, got {multilabel!r}")
    classes = _checks.integer("num_classes", num_classes, low=1)
    if not multilabel and classes < 2:
        raise ValueError(f"num_classes must be at least 2 (or the number of labels with multilabel=True), "
                         f"got {classes}")
    return classes, multilabel


def chunk(y_true: Any, y_prob: Any, sample_weight: Any, *, num_classes: int, multilabel: bool,
          from_logits: bool, owner: str) -> Chunk | None:
    """A batch checked against the state's classes (``owner`` names the state in errors); None
    for an empty one, whose shapes are checked all the same."""
    if not isinstance(from_logits, bool):
        raise TypeError(f"from_logits must be a bool, got {from_logits!r}")
    name = "logits" if from_logits else "y_prob"
    shape = np.shape(y_prob)
    if len(shape) in (1, 2) and shape[0] == 0:  # an empty partition
        _check_layout(np.ndim(y_true) == 2, shape, num_classes, multilabel, owner, name)
        if np.shape(y_true)[:1] != (0,):
            raise ValueError(f"y_true has {np.shape(y_true)[0]} samples but {name} has 0")
        _weights(sample_weight, 0)
        return None
    t = _inputs.targets(y_true, y_prob, None, name=name, logits=from_logits)
    _check_layout(t.kind == "multilabel", t.p.shape, num_classes, multilabel, owner, name)
    w = _weights(sample_weight, t.p.shape[0])
    if not from_logits:
        return Chunk(t.kind, t.y, t.p, None, w)
    return Chunk(t.kind, t.y, probabilities(t.p, t.kind), t.p, w)


def _check_layout(indicator: bool, shape: tuple[int, ...], num_classes: int, multilabel: bool, owner: str,
                  name: str) -> None:
    if multilabel:
        if not indicator or len(shape) != 2 or shape[1] != num_classes:
            raise ValueError(f"{owner} holds {num_classes} label(s): y_true must be a 0/1 indicator and {name} "
                             f"of shape (N, {num_classes}), got {name} of shape {shape}")
        return
    if indicator:
        raise ValueError(f"y_true is a multi-label indicator, but {owner} holds single-label classes; build it "
                         f"with multilabel=True")
    columns = 2 if len(shape) == 1 else shape[1]
    if columns != num_classes:
        got = "of shape (N,), a binary problem" if len(shape) == 1 else f"with {columns} columns"
        raise ValueError(f"{owner} holds {num_classes} classes, got {name} {got}")


def _weights(sample_weight: Any, n: int) -> np.ndarray:
    """Per-sample weights: non-negative and finite; unlike a metric's, a batch may weigh 0 in all."""
    if sample_weight is None:
        return np.ones(n)
    w = np.asarray(sample_weight)
    if w.dtype == np.bool_ or not (np.issubdtype(w.dtype, np.integer) or np.issubdtype(w.dtype, np.floating)):
        raise TypeError(f"sample_weight must hold real numbers, got dtype {w.dtype}")
    if w.shape != (n,):
        raise ValueError(f"sample_weight must have one weight per sample, shape ({n},), got shape {w.shape}")
    w = w.astype(np.float64)
    if np.isnan(w).any():
        raise ValueError("sample_weight contains NaN")
    _checks.nonnegative("sample_weight", w, np)
    return w


def probabilities(logits: np.ndarray, kind: str) -> np.ndarray:
    """Logits to probabilities: sigmoid for binary ``(N,)`` and multi-label, softmax over classes."""
    from crossent import sigmoid, softmax

    return np.asarray(softmax(logits, axis=-1) if kind == "multiclass" else sigmoid(logits))


def binary_form(c: Chunk) -> Chunk:
    """Two class columns as one, P(class 1) (the logits, if any, kept for the log loss)."""
    if c.kind == "multiclass" and c.p.shape[1] == 2:
        return Chunk("binary", c.y, c.p[:, 1], c.z, c.w)
    return c


def _encode(array: np.ndarray) -> dict[str, Any]:
    return {"shape": list(array.shape),
            "values": [v if math.isfinite(v) else str(v) for v in np.asarray(array, dtype=np.float64).ravel().tolist()]}


def _decode(data: Any, key: str, shape: tuple[int, ...]) -> np.ndarray:
    try:
        values = np.array([float(v) for v in data["values"]], dtype=np.float64)
        stored = tuple(int(n) for n in data["shape"])
    except (TypeError, KeyError, ValueError):
        raise ValueError(f"sums {key!r} must be {{'shape': [...], 'values': [...]}} of numbers") from None
    if stored != shape or values.size != math.prod(shape):
        raise ValueError(f"sums {key!r} have shape {stored} ({values.size} values); this state's are {shape}")
    return values.reshape(shape)


class MergeableSums:
    """The machinery every state shares: merge, ``+``, to_dict/from_dict, all_reduce.

    A state names its float64 sums in ``_SUMS`` (attributes of itself, or, for a bundle, of its
    parts through :meth:`_parts`) and its constructor's options in :meth:`_options`.
    """

    _SUMS: ClassVar[tuple[str, ...]] = ()

    def _options(self) -> dict[str, Any]:
        raise NotImplementedError

    def _parts(self, prefix: str = "") -> list[tuple[Any, str, str]]:
        """``(owner, attribute, key)`` of every sum, in one fixed order (the all_reduce buffer's)."""
        return [(self, name, prefix + name) for name in self._SUMS]

    def _layout(self) -> dict[str, Any] | None:
        """What to_dict must keep beyond the options and sums (CalibrationBins without num_classes)."""
        return None

    def _restore_layout(self, layout: dict[str, Any]) -> None:
        raise ValueError(f"{type(self).__name__} takes no layout, got {layout!r}")

    def _check_mergeable(self, other: Any) -> None:
        name = type(self).__name__
        if type(other) is not type(self):
            raise TypeError(f"can only merge {name} with {name}, got {type(other).__name__}")
        if other._options() != self._options():
            raise ValueError(f"cannot merge {name}({_args(other._options())}) into {name}({_args(self._options())})")

    def merge(self, other: Self) -> Self:
        """A new state holding the sums of both (the same type and options); neither changes."""
        self._check_mergeable(other)
        merged = type(self)(**self._options())
        for (a, name, _), (b, _, _), (out, _, _) in zip(self._parts(), other._parts(), merged._parts(), strict=True):
            setattr(out, name, getattr(a, name) + getattr(b, name))
        return merged

    def __add__(self, other: Self) -> Self:
        return self.merge(other)

    def to_dict(self) -> dict[str, Any]:
        """The state as JSON-able data: ``{"state", "options", "sums"}``; :meth:`from_dict` reads it."""
        data: dict[str, Any] = {"state": type(self).__name__, "options": self._options()}
        if (extra := self._layout()) is not None:
            data["layout"] = extra
        data["sums"] = {key: _encode(getattr(owner, name)) for owner, name, key in self._parts()}
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Self:
        """The state :meth:`to_dict` wrote."""
        if not isinstance(data, dict) or data.get("state") != cls.__name__:
            found = data.get("state") if isinstance(data, dict) else type(data).__name__
            raise ValueError(f"not the data of a {cls.__name__} (to_dict's 'state' is {found!r})")
        state = cls(**data["options"])
        if data.get("layout") is not None:
            state._restore_layout(data["layout"])
        sums = data["sums"]
        for owner, name, key in state._parts():
            if key not in sums:
                raise ValueError(f"the {cls.__name__} data has no sums {key!r}")
            setattr(owner, name, _decode(sums[key], key, getattr(owner, name).shape))
        return state

    def _check_reducible(self) -> None:
        """Raise unless the shapes of the sums are fixed by the options alone (the same on every rank)."""

    def all_reduce(self, group: Any = None) -> Self:
        """Sum the state over the ranks of ``group`` (default: the world), in place, and return it.

        One ``torch.distributed.all_reduce`` (SUM) of one flat float64 buffer holding every sum;
        on an NCCL group the buffer goes through the current CUDA device. Every rank of the group
        must call it, with a state of the same type and options.
        """
        import torch
        import torch.distributed as dist

        self._check_reducible()
        parts = self._parts()
        arrays = [np.asarray(getattr(owner, name), dtype=np.float64) for owner, name, _ in parts]
        buffer = torch.from_numpy(np.concatenate([a.ravel() for a in arrays]))
        if dist.get_backend(group) == "nccl":
            buffer = buffer.to(torch.device("cuda", torch.cuda.current_device()))
        dist.all_reduce(buffer, op=dist.ReduceOp.SUM, group=group)
        flat = buffer.cpu().numpy()
        start = 0
        for (owner, name, _), array in zip(parts, arrays, strict=True):
            setattr(owner, name, flat[start:start + array.size].reshape(array.shape).copy())
            start += array.size
        return self


def _args(options: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in options.items())


# ---------------------------------------------------------------------------------------------
# proper scores, accuracy and the confusion matrix


class ScoreSums(MergeableSums):
    """Mergeable sums of the log loss, the Brier score, accuracy and the confusion matrix.

    ``weight`` Σ wᵢ, ``log_loss_sum`` Σ wᵢ ℓᵢ (multi-label: Σᵢ wᵢ Σ_l ℓ_il), ``brier_sum``
    Σ wᵢ bᵢ, ``correct_sum`` Σ wᵢ [ŷᵢ = yᵢ] (0-d arrays), and ``confusion``: Σ wᵢ over each
    (true, predicted) pair, ``(C, C)`` with rows the true class, or ``(L, 2, 2)`` per label for
    multi-label targets (scikit-learn's ``confusion_matrix`` / ``multilabel_confusion_matrix``).
    :meth:`log_loss` and :meth:`brier_score` equal :func:`~crossent.metrics.log_loss` and
    :func:`~crossent.metrics.brier_score` on all the data at once (so no clipping: a true class
    at probability 0 makes the log loss inf, unless its sample weighs 0), :meth:`accuracy`
    scikit-learn's ``accuracy_score`` (subset accuracy for multi-label) of the predicted classes
    ŷ: argmax (ties to the lower class), and for two classes class 1 where P(class 1) ≥ 0.5;
    multi-label: label l where p_l ≥ 0.5 (``crossent eval``'s rules).

    Args:
        num_classes: C (2 for binary ``(N,)`` probabilities), or L labels with ``multilabel``.
        multilabel: targets are ``(N, L)`` 0/1 indicators.

    >>> a, b = ScoreSums(2), ScoreSums(2)
    >>> a.update([0, 1], [0.1, 0.8])
    >>> b.update([1], [0.6])
    >>> round((a + b).log_loss(), 4), round((a + b).accuracy(), 4)
    (0.2798, 1.0)
    """

    _SUMS = ("weight", "log_loss_sum", "brier_sum", "correct_sum", "confusion")

    def __init__(self, num_classes: int, *, multilabel: bool = False) -> None:
        self.num_classes, self.multilabel = layout(num_classes, multilabel)
        self.weight, self.log_loss_sum, self.brier_sum, self.correct_sum = (np.zeros(()) for _ in range(4))
        self.confusion = np.zeros((self.num_classes, 2, 2) if multilabel else (self.num_classes,) * 2)

    def _options(self) -> dict[str, Any]:
        return {"num_classes": self.num_classes, "multilabel": self.multilabel}

    def __repr__(self) -> str:
        return f"ScoreSums({_args(self._options())}, weight={float(self.weight):g})"

    def update(self, y_true: Any, y_prob: Any, /, sample_weight: Any = None, *, from_logits: bool = False) -> None:
        """Add a batch (targets and probabilities as :func:`~crossent.metrics.log_loss`, or logits)."""
        c = chunk(y_true, y_prob, sample_weight, num_classes=self.num_classes, multilabel=self.multilabel,
                  from_logits=from_logits, owner=repr(self))
        if c is not None:
            self._add(c)

    def _add(self, c: Chunk) -> None:
        self.weight = self.weight + np.sum(c.w)
        x, logits = (c.p, False) if c.z is None else (c.z, True)  # from the logits when given
        self.log_loss_sum = self.log_loss_sum + log_loss_sum(c.y, x, c.w, multilabel=c.kind == "multilabel",
                                                             from_logits=logits)
        self.brier_sum = self.brier_sum + np.sum(c.w * _brier(c))
        predicted = predict(c)
        if c.kind == "multilabel":
            y = c.y.astype(np.int64)
            self.correct_sum = self.correct_sum + np.sum(c.w[(predicted == y).all(axis=1)])
            cells = np.arange(self.num_classes) * 4 + y * 2 + predicted  # label l's (true, predicted) cell
            counts = np.bincount(cells.ravel(), weights=np.repeat(c.w, self.num_classes),
                                 minlength=4 * self.num_classes)
            self.confusion = self.confusion + counts.reshape(self.num_classes, 2, 2)
        else:
            self.correct_sum = self.correct_sum + np.sum(c.w[predicted == c.y])
            counts = np.bincount(c.y * self.num_classes + predicted, weights=c.w, minlength=self.num_classes**2)
            self.confusion = self.confusion + counts.reshape(self.num_classes, self.num_classes)

    def _total(self) -> float:
        if not self.weight > 0:
            raise ValueError(f"{self!r} holds no weight yet: update it first")
        return float(self.weight)

    def log_loss(self, *, base: float | None = None) -> float:
        """:func:`~crossent.metrics.log_loss` of everything added (``base`` as there)."""
        scale = _checks.log_base(base)
        total = self._total() * (self.num_classes if self.multilabel else 1)
        value = float(self.log_loss_sum) / total
        return value if scale is None else value / scale

    def brier_score(self) -> float:
        """:func:`~crossent.metrics.brier_score` of everything added."""
        return float(self.brier_sum) / self._total()

    def accuracy(self) -> float:
        """The weighted share of samples whose predicted class (multi-label: every label) is right."""
        return float(self.correct_sum) / self._total()

    def confusion_matrix(self) -> np.ndarray:
        """A copy of ``confusion``: ``(C, C)`` (rows true, columns predicted) or ``(L, 2, 2)``."""
        return self.confusion.copy()


def predict(c: Chunk) -> np.ndarray:
    """The predicted classes ``(N,)`` (multi-label: a 0/1 ``(N, L)`` int64 indicator)."""
    if c.kind == "multilabel":
        return (c.p >= 0.5).astype(np.int64)
    if c.kind == "binary":
        return (c.p >= 0.5).astype(np.int64)
    if c.p.shape[1] == 2:
        return (c.p[:, 1] >= 0.5).astype(np.int64)
    return np.argmax(c.p, axis=1).astype(np.int64)


def _brier(c: Chunk) -> np.ndarray:
    """Per-sample Brier terms, as :func:`~crossent.metrics.brier_score` defines them."""
    if c.kind == "binary":
        return np.asarray((c.p - c.y) ** 2)
    if c.kind == "multilabel":
        return np.asarray(np.mean((c.p - c.y) ** 2, axis=1))
    onehot = (c.y[:, None] == np.arange(c.p.shape[1])).astype(np.float64)
    per_sample = np.sum((c.p - onehot) ** 2, axis=1)
    return np.asarray(per_sample / 2 if c.p.shape[1] == 2 else per_sample)  # two columns: a binary problem


# ---------------------------------------------------------------------------------------------
# ranking: binned ROC-AUC and average precision


def bin_ids(values: np.ndarray, n_bins: int) -> np.ndarray:
    """The bin of each value v in [0, 1]: b with e_b < v ≤ e_{b+1} for the edges
    e = ``np.linspace(0, 1, B + 1)``, v = 0 in bin 0, as :class:`~crossent.metrics.CalibrationBins`
    bins (``np.searchsorted(e[1:-1], v)``). ⌈v·B⌉ − 1 is that bin or a neighbour, where v·B or
    the edge rounds: one comparison with each of its two edges settles it, without a search."""
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    guess = np.clip(np.ceil(values * n_bins).astype(np.int64) - 1, 0, n_bins - 1)
    guess -= (values <= edges[guess]) & (guess > 0)
    guess += values > edges[guess + 1]
    return guess


class RankingHistogram(MergeableSums):
    """Mergeable ROC-AUC and average precision: weighted histograms of positives and negatives.

    For each ranked column k and each of ``n_bins`` equal-width bins of the probability (bin b
    holds b/B < p ≤ (b+1)/B, p = 0 in the first), ``positives[k, b]`` and ``negatives[k, b]``
    are the weights Σ wᵢ of the positive and the negative samples in the bin. The columns:
    P(class 1) for two classes (one column), one-vs-rest per class for C ≥ 3, one per label for
    multi-label targets.

    :meth:`roc_auc` and :meth:`average_precision` are **exactly** those of the bin-quantized
    scores: scikit-learn's ``roc_auc_score`` and ``average_precision_score`` applied to the bin
    indices give the same values. Pairs in different bins are ordered as by the raw scores, and
    each pair within a bin counts ½, so the binned AUC is within :meth:`auc_bound`
    ½ Σ_b pos_b·neg_b / (P·N) of the exact AUC of the raw scores (P, N the total weights). Both
    average the columns that hold positives and negatives (macro, as ``crossent eval``); with
    none, they are NaN. From logits the bins are those of the probabilities (sigmoid, softmax):
    logits beyond ±37 share the last (first) bin, where the exact ranking by the logits
    (``crossent eval --ranking exact``) tells them apart.

    Args:
        num_classes: C (2 for binary), or L labels with ``multilabel``.
        n_bins: the number of bins B.
        multilabel: targets are ``(N, L)`` 0/1 indicators.

    >>> h = RankingHistogram(2, n_bins=10)
    >>> h.update([0, 0, 1, 1], [0.12, 0.45, 0.41, 0.93])
    >>> h.roc_auc(), h.auc_bound()
    (0.875, 0.125)
    """

    _SUMS = ("positives", "negatives")

    def __init__(self, num_classes: int, *, n_bins: int = RANKING_BINS, multilabel: bool = False) -> None:
        self.num_classes, self.multilabel = layout(num_classes, multilabel)
        self.n_bins = _inputs.n_bins(n_bins)
        columns = 1 if self.num_classes == 2 and not multilabel else self.num_classes
        self.positives = np.zeros((columns, self.n_bins))
        self.negatives = np.zeros((columns, self.n_bins))

    def _options(self) -> dict[str, Any]:
        return {"num_classes": self.num_classes, "n_bins": self.n_bins, "multilabel": self.multilabel}

    def __repr__(self) -> str:
        weight = float(self.positives[:1].sum() + self.negatives[:1].sum())
        return f"RankingHistogram({_args(self._options())}, weight={weight:g})"

    def update(self, y_true: Any, y_prob: Any, /, sample_weight: Any = None, *, from_logits: bool = False) -> None:
        """Add a batch (targets and probabilities as :func:`~crossent.metrics.log_loss`, or logits)."""
        c = chunk(y_true, y_prob, sample_weight, num_classes=self.num_classes, multilabel=self.multilabel,
                  from_logits=from_logits, owner=repr(self))
        if c is not None:
            self._add(binary_form(c))

    def _add(self, c: Chunk) -> None:
        columns = self.positives.shape[0]
        if c.kind == "binary":
            scores, positive = c.p[:, None], (c.y == 1)[:, None]
        elif c.kind == "multiclass":
            scores, positive = c.p, c.y[:, None] == np.arange(columns)
        else:
            scores, positive = c.p, c.y == 1
        cells = (bin_ids(scores, self.n_bins) + np.arange(columns) * self.n_bins).ravel()
        weight = np.broadcast_to(c.w[:, None], scores.shape)
        size = columns * self.n_bins
        hits = np.bincount(cells, weights=np.where(positive, weight, 0.0).ravel(), minlength=size)
        misses = np.bincount(cells, weights=np.where(positive, 0.0, weight).ravel(), minlength=size)
        self.positives = self.positives + hits.reshape(columns, self.n_bins)
        self.negatives = self.negatives + misses.reshape(columns, self.n_bins)

    def _columns(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Per column: (auc, average precision, auc bound, whether it holds both outcomes)."""
        pos, neg = self.positives, self.negatives
        if not (pos.sum() + neg.sum()) > 0:
            raise ValueError(f"{self!r} holds no samples yet: update it first")
        p_total, n_total = pos.sum(axis=1), neg.sum(axis=1)
        valid = (p_total > 0) & (n_total > 0)
        pairs = np.where(valid, p_total * n_total, 1.0)
        below = np.concatenate([np.zeros((neg.shape[0], 1)), np.cumsum(neg, axis=1)[:, :-1]], axis=1)  # in lower bins
        tied = np.sum(pos * neg, axis=1)  # pairs within a bin, counted ½
        auc = (np.sum(pos * below, axis=1) + 0.5 * tied) / pairs
        # AP = Σ_b (pos_b / P) · precision at the threshold of bin b, thresholds from the top bin down
        tp = np.cumsum(pos[:, ::-1], axis=1)[:, ::-1]
        fp = np.cumsum(neg[:, ::-1], axis=1)[:, ::-1]
        precision = np.divide(tp, tp + fp, out=np.zeros_like(tp), where=pos > 0)
        ap = np.sum(pos * precision, axis=1) / np.where(valid, p_total, 1.0)
        return auc, ap, 0.5 * tied / pairs, valid

    @staticmethod
    def _macro(values: np.ndarray, valid: np.ndarray) -> float:
        return float(np.mean(values[valid])) if valid.any() else math.nan

    def roc_auc(self) -> float:
        """The binned ROC-AUC, averaged over the columns with both outcomes (NaN with none)."""
        auc, _, _, valid = self._columns()
        return self._macro(auc, valid)

    def average_precision(self) -> float:
        """The binned average precision Σ_k (R_k − R_{k−1}) P_k, averaged as :meth:`roc_auc`."""
        _, ap, _, valid = self._columns()
        return self._macro(ap, valid)

    def auc_bound(self) -> float:
        """½ Σ_b pos_b·neg_b / (P·N), averaged as :meth:`roc_auc`: how far the binned ROC-AUC can be
        from the exact one of the raw scores."""
        _, _, bound, valid = self._columns()
        return self._macro(bound, valid)


# ---------------------------------------------------------------------------------------------
# crossent eval's metrics


class Evaluation(MergeableSums):
    """``crossent eval``'s metrics as one mergeable state: :class:`ScoreSums` (``scores``),
    :class:`~crossent.metrics.CalibrationBins` (``calibration``: 15 uniform bins, the classwise
    ECE of P(class 1) for two classes and per label for multi-label, top-label for C ≥ 3) and
    :class:`RankingHistogram` (``ranking``).

    :meth:`metrics` gives the names and values ``crossent eval`` prints: log loss, Brier, ECE,
    ROC-AUC, average precision, and, at its default rule (argmax; P(class 1) ≥ 0.5; p_l ≥ 0.5),
    the F1 of the rarest class (macro-F1 for C ≥ 3 and multi-label), its precision and recall,
    balanced accuracy and the worst recall of any class. ROC-AUC and average precision are the
    **binned** ones of :class:`RankingHistogram`, within :meth:`auc_bound` of the exact AUC.
    Two probability columns are read as P(class 1), as ``crossent eval`` reads them. One
    ``all_reduce`` sums all three parts.

    Args:
        num_classes: C (2 for binary), or L labels with ``multilabel``.
        multilabel: targets are ``(N, L)`` 0/1 indicators.
        ranking_bins: the RankingHistogram's bins.

    >>> shards = [Evaluation(2) for _ in range(2)]
    >>> shards[0].update([0, 1, 0], [0.2, 0.7, 0.6])
    >>> shards[1].update([1, 0], [0.9, 0.1])
    >>> metrics = (shards[0] + shards[1]).metrics()
    >>> round(metrics["log_loss"], 4), metrics["f1"]
    (0.3414, 0.8)
    """

    def __init__(self, num_classes: int, *, multilabel: bool = False, ranking_bins: int = RANKING_BINS) -> None:
        from crossent.metrics._calibration import CalibrationBins  # it builds on this module

        self.num_classes, self.multilabel = layout(num_classes, multilabel)
        scope = "top-label" if self.num_classes > 2 and not multilabel else "classwise"
        self.scores = ScoreSums(num_classes, multilabel=multilabel)
        self.calibration: CalibrationBins = CalibrationBins(ECE_BINS, scope=scope, num_classes=num_classes,
                                                            multilabel=multilabel)
        self.ranking = RankingHistogram(num_classes, n_bins=ranking_bins, multilabel=multilabel)

    def _options(self) -> dict[str, Any]:
        return {"num_classes": self.num_classes, "multilabel": self.multilabel, "ranking_bins": self.ranking.n_bins}

    def _parts(self, prefix: str = "") -> list[tuple[Any, str, str]]:
        return [*self.scores._parts(f"{prefix}scores."), *self.calibration._parts(f"{prefix}calibration."),
                *self.ranking._parts(f"{prefix}ranking.")]

    def __repr__(self) -> str:
        return f"Evaluation({_args(self._options())}, weight={float(self.scores.weight):g})"

    def update(self, y_true: Any, y_prob: Any, /, sample_weight: Any = None, *, from_logits: bool = False) -> None:
        """Add a batch (targets and probabilities as :func:`~crossent.metrics.log_loss`, or logits)."""
        c = chunk(y_true, y_prob, sample_weight, num_classes=self.num_classes, multilabel=self.multilabel,
                  from_logits=from_logits, owner=repr(self))
        if c is None:
            return
        c = binary_form(c)
        self.scores._add(c)
        self.calibration._add(c)
        self.ranking._add(c)

    def metrics(self) -> dict[str, float]:
        """``crossent eval``'s scores of everything added, in its order (ranking binned)."""
        out = {"log_loss": self.scores.log_loss(), "brier": self.scores.brier_score(), "ece": self.calibration.ece(),
               "roc_auc": self.ranking.roc_auc(), "average_precision": self.ranking.average_precision()}
        out.update(decisions(self.scores.confusion, multilabel=self.multilabel))
        return out

    def auc_bound(self) -> float:
        """:meth:`RankingHistogram.auc_bound` of ``ranking``."""
        return self.ranking.auc_bound()


def decisions(confusion: np.ndarray, *, multilabel: bool, minority: int | None = None) -> dict[str, float]:
    """F1, precision, recall, balanced accuracy and worst recall from a (weighted) confusion matrix:
    what ``crossent eval`` reports, and what selection's ``decision_scores`` reports of every split.

    ``confusion`` is ``(C, C)`` (rows true, columns predicted) or, ``multilabel``, ``(L, 2, 2)``.
    F1 is the ``minority`` class's for two classes, macro-F1 for C ≥ 3 and multi-label; precision
    and recall are the ``minority`` class's (label's); ``minority=None`` takes the rarest one by
    weight (ties to the lower index). An undefined ratio is 0 (scikit-learn's ``zero_division=0``);
    balanced accuracy averages the recalls of the classes present (multi-label: per label, then
    over labels), and worst recall is the smallest of :func:`recalls`.
    """
    recall = recalls(confusion, multilabel=multilabel)
    if minority is not None and not 0 <= minority < len(recall):
        raise ValueError(f"minority must be a class index in [0, {len(recall)}), got {minority!r}")
    if multilabel:
        tn, fp, fn, tp = (confusion[:, i, j] for i in (0, 1) for j in (0, 1))
        precision, specificity = _ratio(tp, tp + fp), _ratio(tn, tn + fp)
        f1 = _ratio(2 * tp, 2 * tp + fp + fn)
        present = [(tn + fp) > 0, (tp + fn) > 0]
        balanced = _ratio(specificity * present[0] + recall * present[1], present[0] * 1.0 + present[1])
        m = int(np.argmin(tp + fn)) if minority is None else minority
        return {"f1": float(f1.mean()), "precision": float(precision[m]), "recall": float(recall[m]),
                "balanced_accuracy": float(balanced.mean()), "worst_recall": float(recall.min())}
    hits, actual, chosen = np.diag(confusion), confusion.sum(axis=1), confusion.sum(axis=0)
    precision = _ratio(hits, chosen)
    f1 = _ratio(2 * hits, actual + chosen)  # 2 tp / (2 tp + fp + fn)
    m = int(np.argmin(actual)) if minority is None else minority
    return {"f1": float(f1[m] if len(hits) == 2 else f1.mean()), "precision": float(precision[m]),
            "recall": float(recall[m]), "balanced_accuracy": float(recall[actual > 0].mean()),
            "worst_recall": float(recall.min())}


def recalls(confusion: np.ndarray, *, multilabel: bool) -> np.ndarray:
    """Each class's (label's) recall tp / (tp + fn) from a confusion matrix as :func:`decisions`
    takes it, 0 for one without samples."""
    if multilabel:
        return _ratio(confusion[:, 1, 1], confusion[:, 1, 1] + confusion[:, 1, 0])
    return _ratio(np.diag(confusion), confusion.sum(axis=1))


def _ratio(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a / b, 0 where b is 0."""
    return np.divide(a, b, out=np.zeros(a.shape), where=b > 0)
