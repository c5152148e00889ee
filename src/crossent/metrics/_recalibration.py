"""Bias-corrected temperature scaling: one temperature T and one bias per class, fitted post hoc.

.. math:: p = \\mathrm{softmax}(z / T + b) \\ \\text{(multiclass)}, \\qquad
    p = \\sigma(z / T + b) \\ \\text{(binary: one logit; multi-label: per element)}

A temperature rescales the logits; it cannot move them. Class weighting, logit adjustment and
label shift *move* them, by a per-class offset (the logits of a class-weighted fit are, to first
order, the unweighted logits plus log w_c), and only a bias undoes that.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from crossent.losses import binary_cross_entropy, value_and_grad
from crossent.metrics import _inputs
from crossent.metrics._temperature import LOG_T_BOUNDS, _nll, fit_temperature

__all__ = ["Calibration", "fit_calibration", "logit_log_loss"]

METHODS = ("none", "temperature", "bias", "bias-corrected")

BETA_BOUNDS = (math.exp(-LOG_T_BOUNDS[1]), math.exp(-LOG_T_BOUNDS[0]))
"""The search interval of β = 1/T: [1/100, 1/0.01], the temperature search of ``fit_temperature``."""

AT_BOUND_RTOL = 1e-3
"""A fitted 1/T within this relative distance of a bound of ``BETA_BOUNDS`` counts as at the bound."""


@dataclass(frozen=True)
class Calibration:
    """A fitted post-hoc calibration of logits: ``logits / temperature + bias``.

    Attributes:
        method: ``"none"``, ``"temperature"``, ``"bias"`` or ``"bias-corrected"``.
        temperature: T > 0; 1.0 for ``"none"`` and ``"bias"``.
        bias: ``(C,)`` multiclass, centred to sum 0 (softmax ignores a common shift); ``(1,)`` for
            binary logits ``(N,)``; ``(L,)`` multi-label; zeros for ``"none"`` and ``"temperature"``.
        at_bound: the fitted 1/T sits on a bound of its search interval [1/100, 1/0.01]: the
            held-out logits are separated (T → 0) or carry no information (T → ∞), and the
            likelihood's optimum lies beyond the bound.

    >>> c = Calibration("bias-corrected", 2.0, np.array([0.5, -0.5]), False)
    >>> c.apply([[2.0, 0.0]]).tolist()
    [[1.5, -0.5]]
    """

    method: str
    temperature: float
    bias: np.ndarray
    at_bound: bool

    def __post_init__(self) -> None:
        _inputs.choice("method", self.method, METHODS)
        bias = np.array(self.bias, dtype=np.float64).reshape(-1)
        bias.setflags(write=False)
        object.__setattr__(self, "bias", bias)
        object.__setattr__(self, "temperature", _inputs.temperature(self.temperature))

    def apply(self, logits: Any) -> np.ndarray:
        """The calibrated logits ``logits / T + b`` as float64 NumPy, of the logits' shape.

        Logits ``(N,)`` need a calibration fitted on one logit per sample (``bias`` of shape
        ``(1,)``); logits ``(N, C)`` one fitted on C columns.
        """
        z = np.asarray(logits, dtype=np.float64)
        one_logit = z.ndim == 1 and self.bias.shape == (1,)
        if not one_logit and not (z.ndim == 2 and z.shape[1] == self.bias.shape[0]):
            fitted = "one logit per sample" if self.bias.shape == (1,) else f"{self.bias.shape[0]} columns"
            raise ValueError(f"logits of shape {z.shape} do not match this calibration, fitted on {fitted}")
        return z / self.temperature + self.bias

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: ``{"method", "temperature", "bias" (a list), "at_bound"}``."""
        return {"method": self.method, "temperature": float(self.temperature),
                "bias": [float(b) for b in self.bias], "at_bound": bool(self.at_bound)}


def fit_calibration(logits: Any, y_true: Any, /, *, method: str = "bias-corrected",
                    sample_weight: Any = None, start: Calibration | None = None) -> Calibration:
    """The calibration of held-out logits that minimizes their weighted mean log loss.

    .. math:: (T, b) = \\arg\\min_{T, b} \\frac{\\sum_i w_i\\, \\ell(z_i / T + b, y_i)}{\\sum_i w_i}

    with ℓ and the shapes of :func:`fit_temperature`: softmax cross-entropy for logits ``(N, C)``
    and labels ``(N,)``; sigmoid cross-entropy for one logit per sample ``(N,)`` and labels in
    {0, 1} (then this is Platt scaling on the logit: a logistic regression of y on z, slope 1/T,
    intercept b); per-element sigmoid cross-entropy averaged over labels for logits ``(N, L)``
    and a 0/1 indicator ``(N, L)`` (one shared T, one bias per label).

    Methods: ``"bias-corrected"`` fits T and b; ``"temperature"`` fits T with b = 0
    (:func:`fit_temperature`); ``"bias"`` fits b with T = 1, which is the maximum-likelihood
    correction of a change of class priors (label shift) and undoes a logit adjustment
    ``z + log w`` exactly; ``"none"`` is the identity. The loss is convex in (β = 1/T, b), being
    a softmax regression with one coefficient shared by the logits and one intercept per class;
    it is minimized by L-BFGS-B with the closed-form gradient and β in [1/100, 1/0.01], from
    T = 1, b = 0 or from ``start`` (a calibration of similar logits: the same optimum, reached
    in fewer steps). Fit on held-out logits, never on the training set's.

    >>> import numpy as np
    >>> z = np.array([0.0, 2.0, 4.0, 6.0, 8.0, 10.0])  # overconfident, and shifted towards class 1
    >>> c = fit_calibration(z, [0, 1, 0, 0, 1, 1])
    >>> c.bias.shape, round(c.temperature, 2), round(float(c.bias[0]), 2)
    ((1,), 2.97, -1.68)

    Reference: Alexandari, Shrikumar, Kundaje, Maximum Likelihood with Bias-Corrected Calibration
    is Hard-To-Beat at Label Shift Adaptation, ICML 2020, arXiv:1901.06852; Platt, Probabilistic
    Outputs for Support Vector Machines, 1999.
    """
    method = _inputs.choice("method", method, METHODS)
    t = _inputs.targets(y_true, logits, sample_weight, name="logits", logits=True)
    n_bias = 1 if t.p.ndim == 1 else t.p.shape[1]
    if method == "none":
        return Calibration("none", 1.0, np.zeros(n_bias), False)
    if method == "temperature":
        temperature = fit_temperature(t.p, y_true, sample_weight=t.w)
        at_bound = _at_bound(1 / temperature) or _better_far_out(t, 1 / temperature, np.zeros(n_bias))
        return Calibration("temperature", temperature, np.zeros(n_bias), at_bound)
    if start is not None and (not isinstance(start, Calibration) or start.bias.shape != (n_bias,)):
        raise ValueError(f"start must be a Calibration of these logits' {n_bias} bias(es), got {start!r}")
    beta, bias = _fit(t, fit_beta=method == "bias-corrected", start=start)
    return Calibration(method, 1 / beta, bias, method == "bias-corrected" and _at_bound(beta))


def logit_log_loss(logits: Any, y_true: Any, /, *, sample_weight: Any = None) -> float:
    """The weighted mean log loss of logits (softmax or sigmoid by the targets' kind).

    :func:`crossent.metrics.log_loss` of the logits' probabilities, computed from the logits
    (stable; finite for finite logits). Shapes as in :func:`fit_calibration`.

    >>> round(logit_log_loss([0.0, 0.0], [0, 1]), 4)
    0.6931
    """
    return _nll(_inputs.targets(y_true, logits, sample_weight, name="logits", logits=True), 1.0)


def loss_and_grad(t: _inputs.Targets, beta: float, bias: np.ndarray) -> tuple[float, float, np.ndarray]:
    """The mean log loss of u = β z + b and its derivatives with respect to β and to b.

    With G = ∂ℓ/∂u (from the fused kernels of ``crossent.kernels._numpy`` for binary and
    multiclass logits, :func:`crossent.value_and_grad` for multi-label; shape of z), the chain rule on
    u_ij = β z_ij + b_j gives ∂ℓ/∂β = Σ_ij G_ij z_ij and ∂ℓ/∂b_j = Σ_i G_ij (one logit per
    sample: u_i = β z_i + b, ∂ℓ/∂b = Σ_i G_i).
    """
    u = beta * t.p + bias
    if t.kind != "multilabel":  # finite logits, integer labels: the fused NumPy kernels, one sweep
        from crossent.kernels._numpy import sigmoid_cross_entropy_sum, softmax_cross_entropy_sum

        total = float(t.w.sum())
        if t.kind == "binary":
            value, g = sigmoid_cross_entropy_sum(u, t.y.astype(np.float64), t.w)
        else:  # the kernel is class-major: (C, N)
            value, gt = softmax_cross_entropy_sum(np.ascontiguousarray(u.T), t.y, t.w)
            g = gt.T
        value, g = value / total, g / total
    else:
        w = t.w if t.kind == "binary" else np.broadcast_to(t.w[:, None], u.shape)
        value, g = value_and_grad(binary_cross_entropy, u, t.y.astype(np.float64), sample_weight=w,
                                  reduction="mean")
    g = np.asarray(g, dtype=np.float64)
    d_bias = g.sum(axis=0) if g.ndim == 2 else np.array([g.sum()])
    return float(value), float((g * t.p).sum()), d_bias


def _fit(t: _inputs.Targets, fit_beta: bool, start: Calibration | None = None) -> tuple[float, np.ndarray]:
    """(β, b) minimizing the mean log loss; β = 1 unless ``fit_beta``. Multiclass b is centred.

    The softmax is invariant to b + c·1, so the Hessian is singular along 1: the fit pins
    b_0 = 0 (the free parameters are b_1..b_{C-1}) and centres b afterwards. Sigmoid biases
    (binary, multi-label) have no such gauge and are all free.
    """
    from scipy.optimize import minimize

    n_bias = 1 if t.p.ndim == 1 else t.p.shape[1]
    pinned = 1 if t.kind == "multiclass" else 0
    head = 1 if fit_beta else 0

    def unpack(theta: np.ndarray) -> tuple[float, np.ndarray]:
        beta = float(theta[0]) if fit_beta else 1.0
        return beta, np.concatenate([np.zeros(pinned), theta[head:]])

    def objective(theta: np.ndarray) -> tuple[float, np.ndarray]:
        value, d_beta, d_bias = loss_and_grad(t, *unpack(theta))
        return value, np.concatenate([[d_beta][:head], d_bias[pinned:]])

    x0 = np.concatenate([[1.0][:head], np.zeros(n_bias - pinned)])
    if start is not None:  # into the fit's gauge (b_0 = 0 for a softmax) and β's interval
        beta0 = float(np.clip(1 / start.temperature, *BETA_BOUNDS))
        x0 = np.concatenate([[beta0][:head], (start.bias - start.bias[0] if pinned else start.bias)[pinned:]])
    bounds = [BETA_BOUNDS][:head] + [(None, None)] * (n_bias - pinned)
    options = {"ftol": 1e-15, "gtol": 1e-10, "maxiter": 10_000}
    theta = minimize(objective, x0, jac=True, method="L-BFGS-B", bounds=bounds, options=options).x
    # Separated logits: the loss falls to 0 along the ray k θ, k → ∞, but so slowly (like
    # exp(-k)) that the fit stops short of the bound; restart from the ray's far end.
    if fit_beta and theta[0] < BETA_BOUNDS[1] and _better_far_out(t, *unpack(theta)):
        far = theta * (BETA_BOUNDS[1] / theta[0])
        theta = minimize(objective, far, jac=True, method="L-BFGS-B", bounds=bounds, options=options).x
    beta, bias = unpack(theta)
    return beta, bias - bias.mean() if pinned else bias


def _better_far_out(t: _inputs.Targets, beta: float, bias: np.ndarray) -> bool:
    """Whether the far end of the ray k (β, b), where kβ is the upper bound of β, has a lower
    loss than (β, b), or a loss of 0 (which no fit can beat; CE underflows to 0 there).

    At an interior optimum the far end is worse, the loss being convex; at a fit stopped short
    on separated logits (a loss so flat that the optimizer's tolerance is met) it is better.
    """
    k = BETA_BOUNDS[1] / beta
    far = loss_and_grad(t, k * beta, k * bias)[0]
    return far == 0 or far < loss_and_grad(t, beta, bias)[0]


def _at_bound(beta: float) -> bool:
    low, high = BETA_BOUNDS
    return beta <= low * (1 + AT_BOUND_RTOL) or beta >= high / (1 + AT_BOUND_RTOL)
