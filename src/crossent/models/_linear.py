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
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import check_is_fitted, column_or_1d, validate_data

from crossent.activations import log_sigmoid, log_softmax, sigmoid, softmax
from crossent.losses import class_weights, value_and_grad
from crossent.losses._define import lookup

__all__ = ["LinearClassifier"]

# Short names and what they mean for (binary or multiclass, multi-label) problems; None: not
# available there. Every crossent loss function name is accepted as well.
LOSSES: dict[str, tuple[str | None, str | None]] = {
    "cross_entropy": ("cross_entropy", "binary_cross_entropy"),
    "focal": ("focal_loss", "binary_focal_loss"),
    "poly1": ("poly1_cross_entropy", None),
    "logit_adjusted": ("logit_adjusted_cross_entropy", None),
    "asymmetric": (None, "asymmetric_loss"),
    "binary_cross_entropy": ("binary_cross_entropy", "binary_cross_entropy"),
    "binary_focal": ("binary_focal_loss", "binary_focal_loss"),
}
SIGMOID_LOSSES = ("asymmetric_loss", "binary_cross_entropy", "binary_focal_loss")
SOFTMAX_LOSSES = ("categorical_cross_entropy", "cross_entropy", "focal_loss", "logit_adjusted_cross_entropy",
                  "poly1_cross_entropy", "sparse_categorical_cross_entropy")
# Options the model sets itself; loss_options may not give them.
RESERVED = {
    "axis": "the class axis is the model's",
    "eps": "it acts on probabilities and the model trains on logits",
    "from_logits": "the model trains on logits",
    "ignore_index": "every training sample counts; give a sample weight 0 instead",
    "reduction": "the objective sums the per-sample losses",
    "sample_weight": "pass sample_weight to fit",
    "weight": "use class_weight",
    "xp": "the model computes with NumPy",
}
SOLVERS = ("lbfgs", "gd")
CLASS_WEIGHT_SCHEMES = ("balanced", "effective_number")


class LinearClassifier(ClassifierMixin, BaseEstimator):  # type: ignore[misc]
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
                 tol: float = 1e-8, learning_rate: float = 1.0, verbose: int = 0) -> None:
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

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        loss = self.loss if isinstance(self.loss, str) else getattr(self.loss, "__name__", None)
        softmax_loss, sigmoid_loss = LOSSES.get(loss, (loss, loss))  # type: ignore[arg-type]
        tags.classifier_tags.multi_class = softmax_loss in SOFTMAX_LOSSES
        # multi-label targets take a sigmoid loss, and have no class counts for "effective_number"
        tags.classifier_tags.multi_label = sigmoid_loss in SIGMOID_LOSSES and self.class_weight != "effective_number"
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
        if scipy.sparse.issparse(y):
            y = y.toarray()
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        check_classification_targets(y)
        target_type = type_of_target(y, input_name="y")
        if target_type not in ("binary", "multiclass", "multilabel-indicator"):
            raise ValueError(f"LinearClassifier supports binary, multiclass and multi-label indicator "
                             f"targets; y is {target_type}")
        n_samples = X.shape[0]
        weights = _sample_weight(sample_weight, n_samples)

        target: Any
        if target_type == "multilabel-indicator":
            target = np.asarray(y, dtype=np.float64)
            self.classes_ = np.arange(target.shape[1])
            n_outputs = target.shape[1]
            labels = None
        else:
            self.classes_, labels = np.unique(y, return_inverse=True)
            labels = labels.reshape(-1).astype(np.int64)
            if self.classes_.shape[0] < 2:
                raise ValueError(f"LinearClassifier needs samples of at least 2 classes in y; got 1 class: "
                                 f"{self.classes_[0]!r}")
            target_type = "binary" if self.classes_.shape[0] == 2 else "multiclass"
            if weights is not None and np.count_nonzero(np.bincount(labels, weights=weights)) < 2:
                raise ValueError("LinearClassifier needs positive sample_weight in at least 2 classes; "
                                 "the weighted samples are of a single class")
            n_outputs = 1 if target_type == "binary" else self.classes_.shape[0]
            target = labels
        self.target_type_ = target_type

        name = self._loss_name(target_type)
        self.loss_function_ = name
        options = self._loss_options(name, target_type, labels, target, weights)
        if name in SIGMOID_LOSSES and target_type == "binary":
            target = labels.astype(np.float64)  # type: ignore[union-attr]
        elif name == "categorical_cross_entropy":
            target = np.eye(self.classes_.shape[0])[labels]

        objective = _Objective(X, target, name, options, n_outputs=n_outputs, C=float(self.C),
                               fit_intercept=bool(self.fit_intercept),
                               two_class_softmax=target_type == "binary" and name in SOFTMAX_LOSSES)
        theta = np.zeros(objective.size)
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

    def _check_params(self) -> None:
        if self.solver not in SOLVERS:
            raise ValueError(f"solver must be one of {', '.join(map(repr, SOLVERS))}, got {self.solver!r}")
        _number("C", self.C, positive=True)
        _number("learning_rate", self.learning_rate, positive=True)
        _number("tol", self.tol, positive=False)
        if isinstance(self.max_iter, bool) or not isinstance(self.max_iter, numbers.Integral) or self.max_iter < 1:
            raise ValueError(f"max_iter must be a positive int, got {self.max_iter!r}")
        if isinstance(self.verbose, bool) or not isinstance(self.verbose, numbers.Integral) or self.verbose < 0:
            raise ValueError(f"verbose must be a non-negative int, got {self.verbose!r}")
        if not isinstance(self.fit_intercept, bool | np.bool_):
            raise ValueError(f"fit_intercept must be True or False, got {self.fit_intercept!r}")
        if self.loss_options is not None and not isinstance(self.loss_options, Mapping):
            raise ValueError(f"loss_options must be a dict of the loss's options or None, got {self.loss_options!r}")

    def _loss_name(self, target_type: str) -> str:
        """The crossent loss function to train with on this kind of problem."""
        loss = self.loss
        if callable(loss):
            loss = lookup(loss)[0]  # a crossent loss function: its name (ValueError otherwise)
        multilabel = target_type == "multilabel-indicator"
        name: str | None
        if isinstance(loss, str) and loss in LOSSES:
            name = LOSSES[loss][multilabel]
        elif loss in SOFTMAX_LOSSES or loss in SIGMOID_LOSSES:
            name = loss
        else:
            choices = ", ".join(map(repr, [*LOSSES, *sorted({*SOFTMAX_LOSSES, *SIGMOID_LOSSES} - set(LOSSES))]))
            raise ValueError(f"loss must be one of {choices} (or another crossent loss function), got {loss!r}")
        if multilabel and (name is None or name in SOFTMAX_LOSSES):
            raise ValueError(f"loss={loss!r} is a softmax loss, for binary and multiclass targets; y is a multi-label "
                             f"indicator matrix: use a sigmoid loss ('cross_entropy', 'focal', 'asymmetric', "
                             f"'binary_cross_entropy', 'binary_focal')")
        if name is None or (name == "asymmetric_loss" and not multilabel):
            raise ValueError(f"loss={loss!r} is for multi-label targets only (an indicator matrix y of shape "
                             f"(n_samples, n_labels)); y is {target_type}")
        if name in SIGMOID_LOSSES and target_type == "multiclass":
            raise ValueError(f"Only binary classification is supported with the sigmoid loss loss={loss!r} (and "
                             f"multi-label targets). The type of the target is multiclass; use a softmax loss "
                             f"such as 'cross_entropy' or 'focal'")
        return name

    def _loss_options(self, name: str, target_type: str, labels: Any, target: Any,
                      weights: Any) -> dict[str, Any]:
        """The options value_and_grad gets: loss_options, reduction, sample and class weights."""
        options = dict(self.loss_options or {})
        declared = set(lookup(name)[1].defaults)
        for option in options:
            if option in RESERVED:
                raise ValueError(f"loss_options may not set {option!r}: {RESERVED[option]}")
            if option not in declared:
                allowed = ", ".join(sorted(declared - set(RESERVED)))
                raise ValueError(f"loss_options has {option!r}, not an option of {name} (its options: {allowed})")
        n_classes = self.classes_.shape[0]
        # Class counts weigh each sample by its sample weight, so that a weight of 2 is the same as
        # the sample twice (scikit-learn's convention for "balanced" too).
        counts = None if labels is None else np.bincount(labels, weights=weights, minlength=n_classes)
        if name == "logit_adjusted_cross_entropy" and "priors" not in options:
            options["priors"] = counts / counts.sum()  # type: ignore[union-attr]

        class_weight = self._class_weight(target_type, labels, counts, target, weights)
        if target_type == "multilabel-indicator":
            if class_weight is not None:
                if "pos_weight" in options:
                    raise ValueError("give class_weight or loss_options['pos_weight'], not both")
                options["pos_weight"] = class_weight
            if weights is not None:
                weights = weights[:, None]  # one weight per sample, for each of its labels
        elif class_weight is not None:
            if name in SIGMOID_LOSSES:  # one logit: a sample weighs as its class
                weights = class_weight[labels] if weights is None else weights * class_weight[labels]
            else:
                options["weight"] = class_weight
        if weights is not None:
            options["sample_weight"] = weights
        options["reduction"] = "sum"
        return options

    def _class_weight(self, target_type: str, labels: Any, counts: Any, target: Any, weights: Any) -> Any:
        """Per-class weights (K,), or multi-label pos_weight (L,), or None."""
        class_weight = self.class_weight
        if class_weight is None:
            return None
        multilabel = target_type == "multilabel-indicator"
        if isinstance(class_weight, str):
            if class_weight not in CLASS_WEIGHT_SCHEMES:
                raise ValueError(f"class_weight must be None, a dict or one of "
                                 f"{', '.join(map(repr, CLASS_WEIGHT_SCHEMES))}, got {class_weight!r}")
            if not multilabel:
                if weights is None:
                    return np.asarray(class_weights(labels, num_classes=self.classes_.shape[0], scheme=class_weight))
                return _weighted_class_weights(counts, class_weight)
            if class_weight != "balanced":
                raise ValueError(f"class_weight={class_weight!r} needs class labels; for multi-label targets "
                                 f"use 'balanced' (pos_weight = n_neg / n_pos) or a dict")
            w = np.ones((target.shape[0], 1)) if weights is None else weights[:, None]
            positives = (w * target).sum(axis=0)
            negatives = (w * (1 - target)).sum(axis=0)
            both = (positives > 0) & (negatives > 0)
            return np.where(both, negatives / np.where(both, positives, 1.0), 1.0)
        if not isinstance(class_weight, Mapping):
            raise ValueError(f"class_weight must be None, a dict or one of "
                             f"{', '.join(map(repr, CLASS_WEIGHT_SCHEMES))}, got {class_weight!r}")
        vector = np.ones(self.classes_.shape[0])
        for key, value in class_weight.items():
            matches = np.flatnonzero(self.classes_ == key)
            if matches.size != 1:
                what = "a label index" if multilabel else "a class of y"
                raise ValueError(f"class_weight has the key {key!r}, not {what} "
                                 f"(classes_: {self.classes_.tolist()})")
            vector[matches[0]] = _number(f"class_weight[{key!r}]", value, positive=False)
        return vector

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

    def predict_proba(self, X: Any) -> Any:
        """Class probabilities ``(N, K)`` (rows sum to 1), or each label's ``(N, L)``."""
        scores = self.decision_function(X)
        if self.target_type_ == "binary":
            return np.stack([sigmoid(-scores), sigmoid(scores)], axis=1)  # softmax([0, z])
        return sigmoid(scores) if self.target_type_ == "multilabel-indicator" else softmax(scores, axis=-1)

    def predict_log_proba(self, X: Any) -> Any:
        """The logarithms of :meth:`predict_proba`, computed from the logits (exact at any z)."""
        scores = self.decision_function(X)
        if self.target_type_ == "binary":
            return np.stack([log_sigmoid(-scores), log_sigmoid(scores)], axis=1)
        return log_sigmoid(scores) if self.target_type_ == "multilabel-indicator" else log_softmax(scores, axis=-1)

    def predict(self, X: Any) -> Any:
        """The most probable class ``(N,)`` (ties: the first), or the labels with p > ½ ``(N, L)``."""
        scores = self.decision_function(X)
        if self.target_type_ == "multilabel-indicator":
            return (scores > 0).astype(np.int64)
        if self.target_type_ == "binary":
            return self.classes_[(scores > 0).astype(np.int64)]
        return self.classes_[np.argmax(scores, axis=1)]


class _Objective:
    """``θ ↦ (J(θ), ∇J(θ))`` on the flat float64 parameters ``θ = [W.ravel(), b]``.

    The loss and its gradient come from :func:`crossent.value_and_grad` (which hands NumPy calls
    to the Numba kernels where they are installed), or, for plain cross-entropy of integer labels,
    from the fused NumPy kernel (:func:`_plain_cross_entropy`).
    """

    def __init__(self, X: Any, target: Any, loss: str, options: dict[str, Any], *, n_outputs: int,
                 C: float, fit_intercept: bool, two_class_softmax: bool) -> None:
        self.X, self.target, self.loss, self.options = X, target, loss, options
        self.C, self.fit_intercept, self.n_outputs = C, fit_intercept, n_outputs
        self.n_features = X.shape[1]
        self.size = n_outputs * (self.n_features + fit_intercept)
        # binary problems under a softmax loss: logits [0, z], the first column fixed at 0
        self.logits = np.zeros((X.shape[0], 2)) if two_class_softmax else None
        self.kernel = _plain_cross_entropy(loss, target, options, two_class_softmax)

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


def _plain_cross_entropy(loss: str, target: Any, options: dict[str, Any],
                         two_class_softmax: bool) -> Callable[[Any], tuple[float, Any]] | None:
    """The fused NumPy kernel for plain cross-entropy of integer labels (any class and sample
    weights), or None where the options ask for more. Binary problems use the one-logit form:
    softmax([0, z]) = [1 - σ(z), σ(z)], so their cross-entropy is σ's."""
    from crossent.kernels._numpy import sigmoid_cross_entropy_sum, softmax_cross_entropy_sum

    if loss != "cross_entropy" or target.ndim != 1 or not np.issubdtype(target.dtype, np.integer):
        return None
    defaults = lookup(loss)[1].defaults
    plain = {"weight", "sample_weight", "reduction"}
    if any(value is not defaults[name] and value != defaults[name]
           for name, value in options.items() if name not in plain) or options.get("reduction") != "sum":
        return None
    row_weight = None
    if options.get("weight") is not None:
        row_weight = np.asarray(options["weight"], dtype=np.float64)[target]
    if options.get("sample_weight") is not None:
        sample = np.asarray(options["sample_weight"], dtype=np.float64).reshape(-1)
        row_weight = sample if row_weight is None else row_weight * sample
    if not two_class_softmax:
        return lambda z: softmax_cross_entropy_sum(z, target, row_weight)
    y = target.astype(np.float64)

    def one_logit(z: Any) -> tuple[float, Any]:  # z (1, N)
        value, grad = sigmoid_cross_entropy_sum(z[0], y, row_weight)
        return value, grad[None, :]

    return one_logit


def _sample_weight(sample_weight: Any, n_samples: int) -> Any:
    if sample_weight is None:
        return None
    weights = np.asarray(sample_weight, dtype=np.float64)
    if weights.ndim == 0:
        weights = np.full(n_samples, float(weights))
    if weights.shape != (n_samples,):
        raise ValueError(f"sample_weight must have shape ({n_samples},), one weight per sample, "
                         f"got {weights.shape}")
    if not np.all(np.isfinite(weights)) or np.any(weights < 0):
        raise ValueError("sample_weight must be finite and non-negative")
    if n_samples and not np.any(weights):
        raise ValueError("sample_weight is zero for every sample; at least one must be positive")
    return weights


def _weighted_class_weights(counts: Any, scheme: str) -> Any:
    """:func:`crossent.class_weights` from sample-weighted class counts ``n_k = Σ_{yᵢ=k} sᵢ``
    (which it does not take): the same formulas, so that unit weights give its exact result."""
    if np.any(counts == 0):
        empty = int(np.flatnonzero(counts == 0)[0])
        raise ValueError(f"class_weight={scheme!r}: class index {empty} has zero total sample_weight")
    if scheme == "balanced":
        return counts.sum() / (counts.shape[0] * counts)
    beta = 0.999  # crossent.class_weights's default
    effective = (1 - beta) / (1 - beta**counts)
    return effective * (counts.shape[0] / effective.sum())


def _number(name: str, value: Any, *, positive: bool) -> float:
    """A finite real number, > 0 (``positive``) or ≥ 0."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value) or (
            float(value) <= 0 if positive else float(value) < 0):
        raise ValueError(f"{name} must be a {'positive' if positive else 'non-negative'} number, got {value!r}")
    return float(value)


def _check_finite(value: float, solver: str, hint: str = "") -> None:
    if not math.isfinite(value):
        raise ValueError(f"{solver}: the objective became {value}{hint}")
