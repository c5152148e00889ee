"""A crossent loss as a gradient-boosting objective: per-row gradients and Hessian diagonals of
the booster's margins, the Hessian convention, the floor for negative curvature, the sample
weights, the loss-optimal initial score and the evaluation metric.

Margins and labels come in three layouts, told apart by the margins' shape and the loss:

- ``(n,)`` margins: one logit per row, labels 0/1. A softmax-family loss sees ``[0, z]``
  (softmax([0, z]) = [σ(-z), σ(z)]): cross-entropy there is binary cross-entropy, and the
  booster's derivatives are those of the second logit. A sigmoid loss takes ``z`` directly.
- ``(n, K)`` margins under a softmax loss: integer labels ``(n,)`` in [0, K).
- ``(n, L)`` margins under a sigmoid loss: a 0/1 indicator ``(n, L)`` (multi-label).

Hessian conventions (``hessian=``), for the softmax family over K ≥ 2 margins; a sigmoid loss is
element-wise and a single margin is one coordinate, so there the exact diagonal is the whole
Hessian and every convention gives it (as LightGBM's ``binary`` and XGBoost's
``binary:logistic`` do):

- ``"exact"`` (the default for every loss): ∂²ℓ/∂z_j², from :func:`crossent.value_grad_hess`.
- ``"majorizer"``: twice the exact diagonal, XGBoost's ``multi:softprob`` convention. For
  cross-entropy it bounds the whole Hessian block A (diag p - p pᵀ) from above: that matrix is
  diagonally dominant, so 2 diag(M) - M is too, and is positive semi-definite.
- ``"lightgbm"``: K / (K - 1) times the exact diagonal, LightGBM's ``multiclass`` convention.

Negative curvature. Focal loss, Poly-1 with ε > 0 and ASL are not convex in the logits: focal's
h < 0 where p_t < 0.058 at γ = 2, which is every positive row at round 0 when a 5% minority
starts at logit(base rate). A Newton leaf value -Σg / Σh is then meaningless. The default floor
(``floor="gauss-newton"``) replaces h by the Gauss–Newton curvature where that is larger:
cross-entropy's curvature p_j (1 - p_j), weighted so that cross-entropy would have this row's
gradient (ω = ‖g‖₁ / (2 (1 - p_t)) for softmax, |g| / |p - y| element-wise; for
cross-entropy ω is the row's weight and the floor is its exact Hessian). A number instead sets a
fixed floor per row and margin. Either way every h handed to the booster is at least
``1e-16 × the row's weight`` (XGBoost's own floor), never negative.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from crossent import losses as _losses
from crossent.losses._define import lookup

SIGMOID = ("asymmetric_loss", "binary_cross_entropy", "binary_focal_loss")
HESSIANS = ("exact", "majorizer", "lightgbm")
# Options the objective sets itself (the booster's data carries the weights).
RESERVED = {
    "axis": "the class axis is the booster's",
    "from_logits": "boosters train margins (logits)",
    "ignore_index": "every row counts; give a row weight 0 instead",
    "reduction": "boosters take each row's own derivatives",
    "sample_weight": "the weights are the booster data's (Dataset weight=, DMatrix weight=)",
    "xp": "the objective computes with NumPy",
    "eps": "it acts on probabilities and boosters train margins",
    "base": "boosters take derivatives in nats",
}
TINY = 1e-16  # the least Hessian per unit of row weight (XGBoost's floor)


class Objective:
    """A crossent loss as a booster objective: ``grad_hess(margins, labels, weight)``.

    Args:
        loss: a crossent loss function or its name (``"cross_entropy"``, ``"focal_loss"``,
            ``"binary_focal_loss"``, ...).
        loss_options: that loss's options (``gamma``, ``alpha``, ``weight``, ``label_smoothing``,
            ``priors``, ...), checked against its signature; the weights, the reduction and the
            class axis are the objective's.
        hessian: ``"exact"``, ``"majorizer"`` or ``"lightgbm"`` (see the module docstring);
            None is ``"exact"``.
        floor: ``"gauss-newton"`` (the default) or a non-negative number: the least curvature
            per row and margin (see the module docstring).

    >>> import numpy as np
    >>> objective = Objective("binary_focal_loss", {"gamma": 2.0})
    >>> g, h = objective.grad_hess(np.zeros(2), np.array([0.0, 1.0]))
    >>> g.round(4).tolist(), h.round(4).tolist()  # h = p_t q² [5q + 2(q - 2p_t) log p_t] at p_t = ½
    ([0.2983, -0.2983], [0.3991, 0.3991])
    """

    def __init__(self, loss: str | Callable[..., Any], loss_options: Mapping[str, Any] | None = None, *,
                 hessian: str | None = None, floor: str | float = "gauss-newton") -> None:
        self.loss, declared = lookup(loss)
        if loss_options is not None and not isinstance(loss_options, Mapping):
            raise ValueError(f"loss_options must be a dict of the loss's options or None, got {loss_options!r}")
        self.options = dict(loss_options or {})
        for option in self.options:
            if option in RESERVED:
                raise ValueError(f"loss_options may not set {option!r}: {RESERVED[option]}")
            if option not in declared.defaults:
                allowed = ", ".join(sorted(set(declared.defaults) - set(RESERVED)))
                raise ValueError(f"loss_options has {option!r}, not an option of {self.loss} (its options: {allowed})")
        self.hessian = "exact" if hessian is None else hessian
        if self.hessian not in HESSIANS:
            raise ValueError(f"hessian must be one of {', '.join(map(repr, HESSIANS))} or None, got {hessian!r}")
        if isinstance(floor, str):
            if floor != "gauss-newton":
                raise ValueError(f"floor must be 'gauss-newton' or a non-negative number, got {floor!r}")
        elif isinstance(floor, bool) or not isinstance(floor, int | float) or not math.isfinite(floor) or floor < 0:
            raise ValueError(f"floor must be 'gauss-newton' or a non-negative number, got {floor!r}")
        self.floor = floor
        self.sigmoid = self.loss in SIGMOID
        self.function = getattr(_losses, self.loss)
        self._margin = _margin_kernel(self.loss, self.options)

    def __repr__(self) -> str:
        return f"Objective({self.loss!r}, {self.options!r}, hessian={self.hessian!r}, floor={self.floor!r})"

    # ------------------------------------------------------------------ the loss on margins

    def _target(self, margins: np.ndarray, labels: Any) -> tuple[np.ndarray, Any]:
        """The loss's own prediction and target for these margins and labels."""
        labels = np.asarray(labels)
        if margins.ndim == 1:
            y = _binary_labels(margins, labels)
            if self.sigmoid:
                return margins, y
            return np.stack([np.zeros_like(margins), margins], axis=1), y.astype(np.int64)
        if margins.ndim != 2:
            raise ValueError(f"margins must be (n,) or (n, k), got shape {margins.shape}")
        if self.sigmoid:
            if labels.shape != margins.shape:
                raise ValueError(f"a sigmoid loss takes a 0/1 indicator of the margins' shape {margins.shape}, "
                                 f"got labels of shape {labels.shape}")
            return margins, labels.astype(np.float64)
        labels = labels.reshape(-1)
        if labels.shape != margins.shape[:1]:
            raise ValueError(f"a softmax loss takes one class label per row ({margins.shape[0]}), got labels "
                             f"of shape {labels.shape}")
        as_int = labels.astype(np.int64)
        if not np.array_equal(as_int, labels) or np.any(as_int < 0) or np.any(as_int >= margins.shape[1]):
            raise ValueError(f"labels must be class indices in [0, {margins.shape[1]}) for margins of "
                             f"{margins.shape[1]} classes")
        return margins, as_int

    def _options(self, margins: np.ndarray, weight: Any) -> dict[str, Any]:
        options = dict(self.options, reduction="sum")
        if weight is not None:
            w = np.asarray(weight, dtype=np.float64).reshape(-1)
            if w.size:  # (a booster's data without weights gives an empty array)
                if w.shape[0] != margins.shape[0]:
                    raise ValueError(f"weight has {w.shape[0]} entries for {margins.shape[0]} rows")
                options["sample_weight"] = w[:, None] if (self.sigmoid and margins.ndim == 2) else w
        return options

    def loss_value(self, margins: Any, labels: Any, weight: Any = None) -> float:
        """The weighted mean loss ``Σᵢ sᵢ ℓᵢ / Σᵢ sᵢ`` of the margins (the evaluation metric)."""
        margins = np.asarray(margins, dtype=np.float64)
        prediction, target = self._target(margins, labels)
        options = self._options(margins, weight)
        total = float(self.function(prediction, target, **options))
        w = options.get("sample_weight")
        rows = margins.shape[0] if w is None else float(np.sum(w if w.ndim == 1 else w[:, 0]))
        if self.sigmoid and margins.ndim == 2:
            rows *= margins.shape[1]  # the element mean, as the sigmoid losses' own "mean"
        return total / rows if rows > 0 else 0.0

    def grad_hess(self, margins: Any, labels: Any, weight: Any = None) -> tuple[np.ndarray, np.ndarray]:
        """Each row's gradient and Hessian diagonal with respect to its margins (the margins'
        shape), weighted by ``weight`` (n,), under this objective's Hessian convention and floor."""
        from crossent.losses import value_grad_hess

        margins = np.asarray(margins, dtype=np.float64)
        if self._margin is not None and margins.ndim == 1 and np.all(np.isfinite(margins)):
            # (the labels checked, but no two-class logits [0, z] made for the loss)
            return self._margin_grad_hess(margins, _binary_labels(margins, np.asarray(labels)),
                                          self._options(margins, weight).get("sample_weight"))
        prediction, target = self._target(margins, labels)
        options = self._options(margins, weight)
        _, g, h = value_grad_hess(self.loss, prediction, target, **options)
        g, h = np.asarray(g), np.asarray(h)
        two_class = margins.ndim == 1 and not self.sigmoid
        if not self.sigmoid and not two_class:  # (one margin: its exact curvature is its whole Hessian)
            if self.hessian == "majorizer":
                h = 2 * h
            elif self.hessian == "lightgbm":
                h = h * (margins.shape[1] / (margins.shape[1] - 1))
        h = self._floored(prediction, target, g, h, options.get("sample_weight"))
        if two_class:
            g, h = g[:, 1], h[:, 1]
        return g, h

    def _margin_grad_hess(self, z: np.ndarray, target: np.ndarray, weight: Any) -> tuple[np.ndarray, np.ndarray]:
        """One margin, hard labels: the signed margin u = (2y - 1)(z + shift) of the true class,
        whose loss w [q^γ (-log p) + ε q] (p = σ(u)) covers binary cross-entropy and focal, and the
        two-class softmax cross-entropy, focal, Poly-1 and logit adjustment; one exp per row
        (kernels/_numpy.py), held to value_grad_hess by tests/test_boosting.py."""
        from crossent.kernels._numpy import binary_focal_poly1_grad_hess

        assert self._margin is not None
        gamma, epsilon, scale, shift = self._margin
        y = target.astype(np.int64)
        sign = 2.0 * y - 1.0
        row = None if scale is None else scale[y]
        if weight is not None:
            row = weight if row is None else row * weight
        g, h, p = binary_focal_poly1_grad_hess(sign * (z + shift), row, gamma=gamma, epsilon=epsilon)
        # the Gauss-Newton floor: ω p (1 - p) with ω = |g| / (1 - p_t) is |g| p_t
        floor = np.abs(g) * p if self.floor == "gauss-newton" else float(self.floor)
        tiny = TINY if weight is None else TINY * weight  # (the row's sample weight, as _floored)
        h = np.maximum(np.maximum(h, floor), tiny)
        g *= sign
        return g, h

    def _floored(self, prediction: np.ndarray, target: Any, g: np.ndarray, h: np.ndarray,
                 weight: Any) -> np.ndarray:
        if self.floor == "gauss-newton":
            floor = self._gauss_newton(prediction, target, g)
        else:
            floor = np.full_like(h, float(self.floor))
        tiny = TINY * (np.ones_like(h) if weight is None else np.broadcast_to(
            weight if weight.ndim == h.ndim else weight[:, None], h.shape))
        return np.maximum(np.maximum(h, floor), tiny)

    def _gauss_newton(self, prediction: np.ndarray, target: Any, g: np.ndarray) -> np.ndarray:
        """Cross-entropy's curvature p (1 - p), weighted so that it would have the gradient g."""
        from crossent.activations import sigmoid, softmax

        if self.sigmoid:
            p = sigmoid(prediction)
            gap = np.abs(p - target)
            omega = np.divide(np.abs(g), gap, out=np.zeros_like(g), where=gap > 0)
            return omega * p * (1 - p)
        logits = prediction  # the loss's own probabilities: after soft-capping and logit adjustment
        cap = self.options.get("logit_softcap")
        if cap is not None:
            logits = cap * np.tanh(logits / cap)
        if self.options.get("priors") is not None:
            logits = logits + float(self.options.get("tau", 1.0)) * np.log(np.asarray(self.options["priors"], float))
        p = softmax(logits, axis=-1)
        rows = np.arange(p.shape[0])
        miss = 1 - p[rows, target]
        omega = np.divide(np.abs(g).sum(axis=1), 2 * miss, out=np.zeros_like(miss), where=miss > 0)
        return omega[:, None] * p * (1 - p)

    # ------------------------------------------------------------------ the initial score

    def init_score(self, labels: Any, weight: Any = None, *, num_outputs: int | None = None) -> np.ndarray:
        """The loss-optimal constant margin: ``argmin_b Σᵢ sᵢ ℓ(b, yᵢ)``, ``(num_outputs,)``.

        For cross-entropy it is the log prior (the logit of the base rate for one margin); for
        the other losses a small convex solve over the classes' weighted counts (each label's
        counts for a sigmoid loss), since a constant margin's loss depends on the label only.
        ``num_outputs`` is 1 for binary labels, K for a softmax loss, L for an indicator."""
        labels = np.asarray(labels)
        w = None if weight is None or np.asarray(weight).size == 0 else np.asarray(weight, dtype=np.float64).reshape(-1)
        if self.sigmoid and labels.ndim == 2:
            return np.array([self._constant_one(labels[:, j], w) for j in range(labels.shape[1])])
        if num_outputs is None:
            num_outputs = 1 if labels.max(initial=0) <= 1 else int(labels.max()) + 1
        if num_outputs == 1:
            return np.array([self._constant_one(labels, w)])
        counts = np.bincount(labels.astype(np.int64).reshape(-1), weights=w, minlength=num_outputs)
        return self._constant_softmax(counts)

    def _constant_one(self, labels: np.ndarray, w: np.ndarray | None) -> float:
        """The best constant single margin for 0/1 labels, from their two weighted counts."""
        import scipy.optimize

        y = labels.astype(np.float64).reshape(-1)
        ones = np.ones_like(y) if w is None else w
        positive, negative = float(np.sum(ones * y)), float(np.sum(ones * (1 - y)))
        if positive == 0 or negative == 0:
            raise ValueError("the initial score needs rows of both labels (with positive weight)")
        labels2 = np.array([0.0, 1.0])
        counts = np.array([negative, positive]) / (negative + positive)  # the mean loss

        def objective(b: np.ndarray) -> tuple[float, np.ndarray]:
            margins = np.full(2, b[0])
            prediction, target = self._target(margins, labels2)
            value, grad = _losses.value_and_grad(self.loss, prediction, target,
                                                 **dict(self.options, reduction="sum", sample_weight=counts))
            grad = np.asarray(grad)
            slope = grad.sum() if self.sigmoid else grad[:, 1].sum()
            return float(value), np.array([slope])

        start = math.log(positive / negative)
        result = scipy.optimize.minimize(objective, np.array([start]), jac=True, method="L-BFGS-B",
                                         options={"gtol": 1e-12, "ftol": 1e-15})
        return float(result.x[0])

    def _constant_softmax(self, counts: np.ndarray) -> np.ndarray:
        import scipy.optimize

        k = counts.shape[0]
        present = counts > 0
        if np.count_nonzero(present) < 2:
            raise ValueError("the initial score needs rows of at least two classes (with positive weight)")
        fractions = counts[present] / counts.sum()  # the mean loss: tolerances free of the row count
        labels = np.flatnonzero(present)
        # the log prior (cross-entropy's optimum); a class with no rows stays at the log of half
        # the rarest class's share (its optimum is -inf: nothing pulls it up)
        start = np.log(np.where(present, counts, 0.5 * counts[present].min()) / counts.sum())

        def objective(x: np.ndarray) -> tuple[float, np.ndarray]:
            b = start.copy()
            b[present] = x
            value, grad = _losses.value_and_grad(self.loss, np.broadcast_to(b, (labels.size, k)), labels,
                                                 **dict(self.options, reduction="sum", sample_weight=fractions))
            return float(value), np.asarray(grad).sum(axis=0)[present]

        result = scipy.optimize.minimize(objective, start[present], jac=True, method="L-BFGS-B",
                                         options={"gtol": 1e-12, "ftol": 1e-15})
        b = start.copy()
        b[present] = result.x
        return b


def _binary_labels(margins: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """The 0/1 labels of a one-margin objective as float64, checked against the margins."""
    if labels.shape != margins.shape:
        raise ValueError(f"labels of shape {labels.shape} do not match margins of shape {margins.shape}")
    y = labels.astype(np.float64)
    if not np.all((y == 0) | (y == 1)):
        raise ValueError("labels of a one-margin (binary) objective must be 0 or 1")
    return y


def _margin_kernel(loss: str, options: dict[str, Any]) -> tuple[float, float, np.ndarray | None, float] | None:
    """(γ, ε, per-class scale (2,) or None, logit shift) where the one-margin kernel computes this
    loss and options exactly; None otherwise (the generic path, which also raises on bad values)."""
    defaults = lookup(loss)[1].defaults
    merged = {**defaults, **options}
    known = {"gamma", "epsilon", "alpha", "weight", "priors", "tau", "pos_weight", "label_smoothing", "z_loss",
             "logit_softcap", "reduction", "sample_weight", "axis", "ignore_index", "from_logits", "base", "eps", "xp",
             "denominator"}
    if set(merged) - known or merged.get("label_smoothing", 0.0) != 0 or merged.get("z_loss", 0.0) != 0 \
            or merged.get("logit_softcap") is not None or merged.get("pos_weight") is not None \
            or merged.get("denominator") is not None:
        return None
    gamma, epsilon, tau = (_real(merged.get(k, d)) for k, d in (("gamma", 0.0), ("epsilon", 0.0), ("tau", 1.0)))
    if gamma is None or gamma < 0 or epsilon is None or epsilon < -1 or tau is None:
        return None
    alpha, weight, priors = merged.get("alpha"), merged.get("weight"), merged.get("priors")
    if loss in SIGMOID:
        if loss == "asymmetric_loss" or weight is not None or priors is not None or epsilon:
            return None
        if alpha is None:
            return gamma, 0.0, None, 0.0
        a = _real(alpha)
        return None if a is None or not 0 <= a <= 1 else (gamma, 0.0, np.array([1.0 - a, a]), 0.0)
    scale = np.ones(2)
    for vector in (alpha, weight):
        if vector is None:
            continue
        v = _pair(vector)
        if v is None or np.any(v < 0):
            return None
        scale = scale * v
    shift = 0.0
    if priors is not None:
        pi = _pair(priors)
        if pi is None or np.any(pi <= 0):
            return None
        shift = float(tau * (np.log(pi[1]) - np.log(pi[0])))
    return gamma, epsilon, None if np.all(scale == 1) else scale, shift


def _real(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float | np.floating | np.integer):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _pair(value: Any) -> np.ndarray | None:
    """A scalar or a length-2 vector of finite numbers as (2,) float64, else None."""
    number = _real(value)
    if number is not None:
        return np.full(2, number)
    try:
        vector = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        return None
    return vector if vector.shape == (2,) and np.all(np.isfinite(vector)) else None
