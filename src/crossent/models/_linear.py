"""LinearClassifier: a linear model trained on any crossent loss, as a scikit-learn estimator.

The model is ``z = x Wᵀ + b`` and the objective is scikit-learn's LogisticRegression convention
(the intercept is not penalized)::

    J(W, b) = C · Σᵢ ℓᵢ(zᵢ) + ½ ‖W‖²
    ∇_W J   = C · Gᵀ X + W,      ∇_b J = C · Σᵢ Gᵢ,      G = ∂(Σᵢ ℓᵢ)/∂z

where ``Σᵢ ℓᵢ`` is the crossent loss with ``reduction="sum"``, sample and class weights inside,
and ``(Σᵢ ℓᵢ, G)`` comes in closed form from :func:`crossent.value_and_grad`. The minimizer is
LogisticRegression's (which divides J by ``C · Σᵢ sᵢ``, a constant).

Problems, told apart by ``sklearn.utils.multiclass.type_of_target``:

- binary (two classes): one logit per sample, ``coef_`` of shape ``(1, F)``. A softmax-family
  loss sees the two-class logits ``[0, z]``: softmax([0, z]) = [σ(-z), σ(z)], so cross-entropy
  there is binary cross-entropy, and ∂ℓ/∂z is the gradient of the second logit. The sigmoid
  losses ``"binary_cross_entropy"`` and ``"binary_focal"`` take ``z`` directly.
- multiclass: one logit per class, ``coef_`` ``(C, F)``, softmax (LogisticRegression's
  multinomial model).
- multi-label (an indicator matrix ``y`` of shape ``(N, L)``): one sigmoid logit per label,
  ``coef_`` ``(L, F)``, the element-wise binary losses.
"""

from __future__ import annotations

import math
import numbers
import warnings
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import scipy.optimize
import scipy.sparse
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.validation import check_is_fitted, validate_data

from crossent.losses import value_and_grad
from crossent.losses._define import lookup
from crossent.models._problem import SOFTMAX_LOSSES, LogitPredictions, number, set_up, sklearn_tags

__all__ = ["LinearClassifier"]

# Options the fused kernels compute (_fused_objective); any other must be at its default.
FUSED_OPTIONS = {"alpha", "epsilon", "gamma", "label_smoothing", "priors", "reduction", "sample_weight", "tau",
                 "weight"}
SOLVERS = ("lbfgs", "gd")


class LinearClassifier(LogitPredictions, ClassifierMixin, BaseEstimator):  # type: ignore[misc]
    """A linear classifier trained on any crossent loss; LogisticRegression's objective with C.

    Minimizes ``C · Σᵢ sᵢ ℓᵢ + ½ ‖W‖²`` (the intercept is not penalized) over a linear model
    ``z = x Wᵀ + b``: one logit for binary problems, one per class (softmax) for multiclass, one
    per label (sigmoid) for multi-label indicator targets (see the module docstring). With
    ``loss="cross_entropy"`` this is scikit-learn's ``LogisticRegression`` (L2, multinomial).

    Args:
        loss: ``"cross_entropy"`` (binary / multiclass: :func:`crossent.cross_entropy`;
            multi-label: :func:`crossent.binary_cross_entropy`), ``"focal"``
            (:func:`~crossent.focal_loss`; multi-label :func:`~crossent.binary_focal_loss`),
            ``"poly1"`` (:func:`~crossent.poly1_cross_entropy`), ``"logit_adjusted"``
            (:func:`~crossent.logit_adjusted_cross_entropy`, ``priors`` the training class
            frequencies unless ``loss_options`` gives them; predictions use the plain logits),
            ``"asymmetric"`` (multi-label only: :func:`~crossent.asymmetric_loss`),
            ``"binary_cross_entropy"`` / ``"binary_focal"`` (sigmoid losses: binary and
            multi-label problems), or the name of any crossent loss function. For a binary
            problem the softmax losses see the logits ``[0, z]``: ``"focal"`` is the two-class
            softmax focal loss, whose ``alpha`` scales both classes; ``"binary_focal"`` is Lin
            et al.'s, whose ``alpha`` weighs the positive class.
        loss_options: keyword options of the loss (``gamma``, ``alpha``, ``label_smoothing``,
            ``epsilon``, ``priors``, ``tau``, ``pos_weight``, ``gamma_neg``, ...), checked
            against the loss's signature. ``reduction``, ``sample_weight``, ``weight``,
            ``from_logits``, ``axis``, ``ignore_index``, ``eps`` and ``xp`` are the model's.
        class_weight: None, ``"balanced"`` (``n / (K n_k)``), ``"effective_number"`` (Cui et
            al.), both from :func:`crossent.class_weights` on the training labels (unweighted
            counts), or a dict ``{class label: weight}`` (missing classes weigh 1). Softmax
            losses get it as ``weight=``; a sigmoid loss on a binary problem multiplies each
            sample's weight by its class's. Multi-label: ``"balanced"`` is
            ``pos_weight = n_neg / n_pos`` per label (PyTorch's advice; 1 for a label with no
            positives or no negatives), a dict maps a label index to its ``pos_weight``.
        C: inverse regularization strength, > 0.
        fit_intercept: learn ``b`` (unpenalized); else ``b = 0``.
        solver: ``"lbfgs"`` (SciPy's L-BFGS-B on the float64 parameters, ``gtol=tol``,
            ``ftol = 64·machine epsilon``, as scikit-learn) or ``"gd"`` (gradient descent
            ``θ ← θ - learning_rate · ∇J(θ) / n_samples``, stopping when
            ``max|∇J(θ)| / n_samples < tol``).
        max_iter: the most iterations; reaching it warns with ``ConvergenceWarning``.
        tol: the stopping tolerance on the gradient's largest entry (of J for ``"lbfgs"``, of
            J / n for ``"gd"``).
        learning_rate: the step of ``"gd"`` (unused by ``"lbfgs"``).
        verbose: > 0 prints the objective at every iteration.
        warm_start: start the solver from ``coef_`` and ``intercept_`` (of the previous fit, or set
            by hand) where their shapes fit this problem, instead of from zeros; the optimum is
            the same (up to ``tol``), reached in fewer iterations from a nearby start.

    Attributes:
        classes_: the class labels ``(K,)``; ``arange(L)`` for multi-label.
        coef_: ``(1, F)`` for binary, ``(K, F)`` multiclass, ``(L, F)`` multi-label.
        intercept_: ``(1,)``, ``(K,)`` or ``(L,)``; zeros without ``fit_intercept``.
        n_features_in_, feature_names_in_: as scikit-learn.
        n_iter_: the iterations run (an int).
        history_: the objective J at the start and after every iteration (``n_iter_ + 1``
            values; non-increasing for ``"lbfgs"``).
        target_type_: ``"binary"``, ``"multiclass"`` or ``"multilabel-indicator"``.
        loss_function_: the crossent loss trained with (its function name).

    >>> from sklearn.datasets import load_iris
    >>> X, y = load_iris(return_X_y=True)
    >>> model = LinearClassifier(loss="focal", loss_options={"gamma": 1.0}).fit(X, y)
    >>> model.coef_.shape, model.predict_proba(X[:2]).shape, round(model.score(X, y), 2)
    ((3, 4), (2, 3), 0.99)
    """

    def __init__(self, loss: str | Callable[..., Any] = "cross_entropy", *,
                 loss_options: Mapping[str, Any] | None = None,
                 class_weight: str | Mapping[Any, float] | None = None, C: float = 1.0,
                 fit_intercept: bool = True, solver: str = "lbfgs", max_iter: int = 1000,
                 tol: float = 1e-8, learning_rate: float = 1.0, verbose: int = 0,
                 warm_start: bool = False) -> None:
        self.loss = loss
        self.loss_options = loss_options
        self.class_weight = class_weight
        self.C = C
        self.fit_intercept = fit_intercept
        self.solver = solver
        self.max_iter = max_iter
        self.tol = tol
        self.learning_rate = learning_rate
        self.verbose = verbose
        self.warm_start = warm_start

    def __sklearn_tags__(self) -> Any:
        tags = sklearn_tags(super().__sklearn_tags__(), self.loss, self.class_weight)
        tags.input_tags.sparse = True
        return tags

    # ------------------------------------------------------------------ fit

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> LinearClassifier:
        """Fit the model: minimize ``C · Σᵢ sᵢ ℓᵢ + ½ ‖W‖²``. Returns self.

        ``X`` ``(N, F)`` (dense or sparse), ``y`` class labels ``(N,)`` or a multi-label
        indicator matrix ``(N, L)``, ``sample_weight`` ``(N,)`` non-negative (None: all 1).
        """
        self._check_params()
        X, y = validate_data(self, X, y, accept_sparse=("csr", "csc"), dtype=np.float64,
                             multi_output=True)
        problem = set_up(type(self).__name__, self.loss, self.loss_options, self.class_weight, y, sample_weight,
                         X.shape[0])
        self.classes_, self.target_type_, self.loss_function_ = problem.classes, problem.target_type, problem.loss
        weights, n_samples = problem.sample_weight, X.shape[0]
        n_outputs, target, name, options = problem.n_outputs, problem.target, problem.loss, problem.options

        objective = _Objective(X, target, name, options, n_outputs=n_outputs, C=float(self.C),
                               fit_intercept=bool(self.fit_intercept), two_class_softmax=problem.two_class_softmax)
        theta = self._start(objective, n_outputs, X.shape[1])
        if self.solver == "lbfgs":
            theta, history = self._lbfgs(objective, theta)
        else:
            theta, history = self._gd(objective, theta, n_samples if weights is None else float(weights.sum()))
        self.coef_, self.intercept_ = objective.unpack(theta)
        self.coef_ = self.coef_.copy()
        self.intercept_ = self.intercept_.copy() if self.fit_intercept else np.zeros(n_outputs)
        self.history_ = np.asarray(history)
        self.n_iter_ = len(history) - 1
        return self

    def _start(self, objective: _Objective, n_outputs: int, n_features: int) -> Any:
        """The solver's starting point: zeros, or with ``warm_start`` the current coefficients
        where they have this problem's shapes."""
        coef, intercept = getattr(self, "coef_", None), getattr(self, "intercept_", None)
        if not self.warm_start or coef is None or intercept is None:
            return np.zeros(objective.size)
        coef, intercept = np.asarray(coef, dtype=np.float64), np.asarray(intercept, dtype=np.float64)
        if coef.shape != (n_outputs, n_features) or intercept.shape != (n_outputs,) or not (
                np.all(np.isfinite(coef)) and np.all(np.isfinite(intercept))):
            return np.zeros(objective.size)
        return np.concatenate([coef.ravel(), intercept] if self.fit_intercept else [coef.ravel()])

    def _check_params(self) -> None:
        if self.solver not in SOLVERS:
            raise ValueError(f"solver must be one of {', '.join(map(repr, SOLVERS))}, got {self.solver!r}")
        number("C", self.C, positive=True)
        number("learning_rate", self.learning_rate, positive=True)
        number("tol", self.tol, positive=False)
        if isinstance(self.max_iter, bool) or not isinstance(self.max_iter, numbers.Integral) or self.max_iter < 1:
            raise ValueError(f"max_iter must be a positive int, got {self.max_iter!r}")
        if isinstance(self.verbose, bool) or not isinstance(self.verbose, numbers.Integral) or self.verbose < 0:
            raise ValueError(f"verbose must be a non-negative int, got {self.verbose!r}")
        if not isinstance(self.fit_intercept, bool | np.bool_):
            raise ValueError(f"fit_intercept must be True or False, got {self.fit_intercept!r}")
        if not isinstance(self.warm_start, bool | np.bool_):
            raise ValueError(f"warm_start must be True or False, got {self.warm_start!r}")

    def _lbfgs(self, objective: _Objective, theta: Any) -> tuple[Any, list[float]]:
        history = [objective(theta)[0]]

        def callback(intermediate_result: Any) -> None:
            history.append(float(intermediate_result.fun))
            self._report(len(history) - 1, history[-1])

        result = scipy.optimize.minimize(
            objective, theta, method="L-BFGS-B", jac=True, callback=callback,
            options={"maxiter": self.max_iter, "gtol": self.tol, "ftol": 64 * np.finfo(float).eps,
                     "maxls": 50})
        _check_finite(result.fun, "lbfgs")
        if result.status == 1:
            warnings.warn(f"lbfgs did not converge in max_iter={self.max_iter} iterations ({result.message}); "
                          f"increase max_iter or scale the features", ConvergenceWarning, stacklevel=3)
        return result.x, history

    def _gd(self, objective: _Objective, theta: Any, n: float) -> tuple[Any, list[float]]:
        value, grad = objective(theta)
        history = [value]
        step = self.learning_rate / n
        while np.max(np.abs(grad), initial=0.0) / n >= self.tol:
            if len(history) > self.max_iter:
                warnings.warn(f"gd did not converge in max_iter={self.max_iter} iterations (largest "
                              f"gradient entry / n_samples {np.max(np.abs(grad)) / n:.3g} ≥ tol="
                              f"{self.tol:g}); increase max_iter or learning_rate, or use solver='lbfgs'",
                              ConvergenceWarning, stacklevel=3)
                break
            theta = theta - step * grad
            value, grad = objective(theta)
            _check_finite(value, "gd", hint="; lower learning_rate")
            history.append(value)
            self._report(len(history) - 1, value)
        return theta, history

    def _report(self, iteration: int, value: float) -> None:
        if self.verbose:
            print(f"[LinearClassifier] {self.solver} iteration {iteration}: objective {value:.12g}")

    # ------------------------------------------------------------------ predict

    def decision_function(self, X: Any) -> Any:
        """The logits ``x Wᵀ + b``: ``(N,)`` for binary problems (the second class's), else
        ``(N, K)`` or ``(N, L)``."""
        check_is_fitted(self)
        X = validate_data(self, X, accept_sparse=("csr", "csc"), dtype=np.float64, reset=False)
        scores = np.asarray(X @ self.coef_.T) + self.intercept_
        return scores[:, 0] if self.target_type_ == "binary" else scores


class _Objective:
    """``θ ↦ (J(θ), ∇J(θ))`` on the flat float64 parameters ``θ = [W.ravel(), b]``.

    The loss and its gradient come from the fused NumPy kernels where :func:`_fused_objective`
    covers the loss and its options (the softmax family of integer labels: every binary problem,
    multiclass cross-entropy), else from :func:`crossent.value_and_grad` (which hands NumPy calls
    to the Numba kernels where they are installed).
    """

    def __init__(self, X: Any, target: Any, loss: str, options: dict[str, Any], *, n_outputs: int,
                 C: float, fit_intercept: bool, two_class_softmax: bool) -> None:
        self.X, self.target, self.loss, self.options = X, target, loss, options
        self.C, self.fit_intercept, self.n_outputs = C, fit_intercept, n_outputs
        self.n_features = X.shape[1]
        self.size = n_outputs * (self.n_features + fit_intercept)
        # binary problems under a softmax loss: logits [0, z], the first column fixed at 0
        self.logits = np.zeros((X.shape[0], 2)) if two_class_softmax else None
        self.kernel = _fused_objective(loss, target, options, 2 if two_class_softmax else n_outputs,
                                       two_class_softmax)

    def loss_and_grad(self, z: Any) -> tuple[Any, Any]:
        """Σᵢ ℓᵢ and its gradient with respect to the logits."""
        return value_and_grad(self.loss, z, self.target, **self.options)  # type: ignore[no-any-return]

    def unpack(self, theta: Any) -> tuple[Any, Any]:
        split = self.n_outputs * self.n_features
        W = theta[:split].reshape(self.n_outputs, self.n_features)
        return W, theta[split:] if self.fit_intercept else np.zeros(self.n_outputs)

    def __call__(self, theta: Any) -> tuple[float, Any]:
        W, b = self.unpack(theta)
        if self.kernel is not None:  # class-major logits (K, N), see kernels/_numpy.py
            zt = np.ascontiguousarray((self.X @ W.T).T) if scipy.sparse.issparse(self.X) else W @ self.X.T
            value, gt = self.kernel(zt + b[:, None])
            grad_W = self.C * np.asarray(gt @ self.X) + W
            objective = self.C * value + 0.5 * float(np.vdot(W, W))
            parts = [grad_W.ravel(), self.C * gt.sum(axis=1)] if self.fit_intercept else [grad_W.ravel()]
            return objective, np.concatenate(parts)
        z = np.asarray(self.X @ W.T) + b  # (N, K)
        if self.logits is not None:
            self.logits[:, 1] = z[:, 0]
            value, g = self.loss_and_grad(self.logits)
            g = g[:, 1:]
        elif self.n_outputs == 1 and self.target.ndim == 1:  # a sigmoid loss on one logit
            value, g = value_and_grad(self.loss, z[:, 0], self.target, **self.options)
            g = g[:, None]
        else:
            value, g = self.loss_and_grad(z)
        grad_W = self.C * np.asarray(self.X.T @ g).T + W
        objective = self.C * float(value) + 0.5 * float(np.vdot(W, W))
        parts = [grad_W.ravel(), self.C * g.sum(axis=0)] if self.fit_intercept else [grad_W.ravel()]
        return objective, np.concatenate(parts)


def _fused_objective(loss: str, target: Any, options: dict[str, Any], num_classes: int,
                     two_class_softmax: bool) -> Callable[[Any], tuple[float, Any]] | None:
    """``z ↦ (Σᵢ ℓᵢ, ∂(Σᵢ ℓᵢ)/∂z)`` by the fused NumPy kernels (kernels/_numpy.py), on class-major
    logits ``z`` ``(K, N)`` (``(1, N)`` for a binary problem); None where the options ask for more,
    and the generic path (:func:`crossent.value_and_grad`, the oracle) runs.

    Covered: the softmax family of integer labels (``_softmax_loss``'s ``a_c = sᵢ w_c α_c ỹ_ic``
    times ``-(1 - p_c)^γ log p_c + ε (1 - p_c)`` of the logits shifted by ``τ log π``), reduction
    "sum" in nats, every other option at its default:

    - binary problems, any γ, ε, label smoothing, class and sample weights, ``alpha``, ``priors``:
      softmax([0, z']) = [σ(-z'), σ(z')] with z' = z + τ (log π₁ - log π₀), so each class's term
      is a function of its signed margin u = ±z'. Without smoothing only the label's class
      counts (u = (2y - 1) z', one sweep); with it both do (u = z' weighted a₁, u = -z' weighted
      a₀; cross-entropy folds the two into one sigmoid cross-entropy of the target a₁ / (a₀ + a₁)).
    - multiclass problems, of the logits shifted by ``τ log π`` where ``priors`` are given: plain
      cross-entropy; focal and Poly-1 without smoothing (only the label's class counts); label
      smoothing with γ = ε = 0 (soft targets a_ci = sᵢ w_c α_c ỹ_ci). Smoothed focal and Poly-1
      stay on the generic path.

    An option value the generic path would reject returns None as well, so that it raises its own
    error on the first call.
    """
    from crossent.kernels._numpy import (
        binary_focal_poly1_sum,
        sigmoid_cross_entropy_sum,
        softmax_cross_entropy_sum,
        softmax_focal_poly1_sum,
        softmax_soft_target_sum,
    )

    if loss not in SOFTMAX_LOSSES or target.ndim != 1 or not np.issubdtype(target.dtype, np.integer):
        return None
    defaults = lookup(loss)[1].defaults
    if options.get("reduction") != "sum" or not all(
            _at_default(value, defaults[name]) for name, value in options.items() if name not in FUSED_OPTIONS):
        return None
    # the loss's declared defaults (focal's γ = 2, ...), then _softmax_loss's for the options it
    # does not declare (focal has no ε, ...)
    options = {"gamma": 0.0, "epsilon": 0.0, "label_smoothing": 0.0, "tau": 1.0, **defaults, **options}
    gamma = _real(options["gamma"], low=0.0)
    epsilon = _real(options["epsilon"], low=-1.0)
    smoothing = _real(options["label_smoothing"], low=0.0, high=1.0)
    tau = _real(options["tau"])
    weight = _class_vector(options.get("weight"), num_classes)
    alpha = _class_vector(options.get("alpha"), num_classes)
    priors = _class_vector(options.get("priors"), num_classes)
    if (gamma is None or epsilon is None or smoothing is None or tau is None or weight is False or alpha is False
            or priors is False or (priors is not None and not np.all(priors > 0))):
        return None
    scale = weight if alpha is None else alpha if weight is None else weight * alpha  # w_c α_c
    bias = None if priors is None else tau * np.log(priors)  # the logit adjustment τ log π
    sample = None if options.get("sample_weight") is None else np.asarray(
        options["sample_weight"], dtype=np.float64).reshape(-1)

    if not two_class_softmax:
        column = None if bias is None else bias[:, None]

        def adjusted(z: Any) -> Any:  # the logits shifted by τ log π
            return z if column is None else z + column
        if smoothing:
            if gamma != 0 or epsilon != 0:
                return None  # smoothed focal / Poly-1: every class's term, the generic path
            # a_ci = sᵢ w_c α_c ỹ_ci with ỹ = y (1 - ε) + ε / C
            a = np.full((num_classes, target.shape[0]), smoothing / num_classes)
            a[target, np.arange(target.shape[0])] += 1 - smoothing
            if scale is not None:
                a *= scale[:, None]
            if sample is not None:
                a *= sample
            return lambda z: softmax_soft_target_sum(adjusted(z), a)
        row_weight = _times(sample, None if scale is None else scale[target])
        if gamma or epsilon:
            return lambda z: softmax_focal_poly1_sum(adjusted(z), target, row_weight, gamma=gamma, epsilon=epsilon)
        return lambda z: softmax_cross_entropy_sum(adjusted(z), target, row_weight)

    y = target.astype(np.float64)
    shift = 0.0 if bias is None else float(bias[1] - bias[0])  # z' = z + τ (log π₁ - log π₀)
    if smoothing == 0:  # only the label's class counts: u = (2y - 1) z'
        row_weight = _times(sample, None if scale is None else scale[target])
        if gamma == epsilon == 0:
            return lambda z: _one_row(sigmoid_cross_entropy_sum(z[0] + shift, y, row_weight))
        sign = 2.0 * y - 1.0

        def margin(z: Any) -> tuple[float, Any]:  # dℓ/dz = (2y - 1) dℓ/du
            value, grad = binary_focal_poly1_sum(sign * (z[0] + shift), row_weight, gamma=gamma,
                                                 epsilon=epsilon)
            return value, (sign * grad)[None, :]

        return margin

    # ỹ_c = y_c (1 - ε) + ε / 2 for both classes, each weighted a_c = sᵢ w_c α_c ỹ_c
    one = np.ones_like(y) if sample is None else sample
    a1 = (y * (1 - smoothing) + smoothing / 2) * one
    a0 = ((1 - y) * (1 - smoothing) + smoothing / 2) * one
    if scale is not None:
        a0, a1 = scale[0] * a0, scale[1] * a1
    if gamma == epsilon == 0:
        # a₀ softplus(z') + a₁ softplus(-z') = (a₀ + a₁) softplus(z') - a₁ z': sigmoid
        # cross-entropy of the target a₁ / (a₀ + a₁), weighted a₀ + a₁
        total = a0 + a1
        soft = np.divide(a1, total, out=np.zeros_like(total), where=total > 0)
        return lambda z: _one_row(sigmoid_cross_entropy_sum(z[0] + shift, soft, total))

    def both_classes(z: Any) -> tuple[float, Any]:  # class 1 at u = z', class 0 at u = -z'
        u = z[0] + shift
        value1, grad1 = binary_focal_poly1_sum(u, a1, gamma=gamma, epsilon=epsilon)
        value0, grad0 = binary_focal_poly1_sum(-u, a0, gamma=gamma, epsilon=epsilon)
        grad1 -= grad0
        return value1 + value0, grad1[None, :]

    return both_classes


def _one_row(result: tuple[float, Any]) -> tuple[float, Any]:
    value, grad = result
    return value, grad[None, :]  # the gradient of the logits (1, N)


def _at_default(value: Any, default: Any) -> bool:
    try:
        return value is default or bool(value == default)
    except (TypeError, ValueError):  # an array: not a default the kernels know
        return False


def _real(value: Any, low: float | None = None, high: float | None = None) -> float | None:
    """A finite real number in [low, high] as a float, else None (the generic path will raise)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        return None
    number = float(value)
    return None if (low is not None and number < low) or (high is not None and number > high) else number


def _class_vector(value: Any, num_classes: int) -> Any:
    """None, a non-negative finite scalar or ``(K,)`` vector as a float64 ``(K,)`` array; False for
    anything else (the generic path decides)."""
    if value is None:
        return None
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        value = np.full(num_classes, float(value))
    try:
        vector = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        return False
    if vector.shape != (num_classes,) or not np.all(np.isfinite(vector)) or np.any(vector < 0):
        return False
    return vector


def _times(a: Any, b: Any) -> Any:
    """a · b where both are arrays, the one that is where the other is None."""
    return b if a is None else a if b is None else a * b


def _check_finite(value: float, solver: str, hint: str = "") -> None:
    if not math.isfinite(value):
        raise ValueError(f"{solver}: the objective became {value}{hint}")
