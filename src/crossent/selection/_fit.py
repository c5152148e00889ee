"""The protocol's fitting step: the model seam, out-of-fold logits and the tuning search.

``compare(..., model=...)`` takes a *model factory*: a callable
``model(loss, loss_options=..., class_weight=..., **params)`` that returns an unfitted
scikit-learn-style estimator with ``fit(X, y)`` and ``decision_function(X)`` (logits: ``(N,)``
for two classes, ``(N, C)`` or ``(N, L)``). A factory may carry ``params`` (its default
hyperparameters, e.g. ``{"C": 1.0}``), ``grid`` (what ``--tune`` searches, e.g.
``{"C": (0.1, 1, 10)}``) and ``describe()``; a plain function has none of them. The protocol
never branches on the model family: gradient boosting or an MLP plug in here.

Missing values are imputed inside each fit (median, with a missing-indicator column per imputed
feature), so no statistic of a test part reaches its training part.
"""

from __future__ import annotations

import functools
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from crossent.selection._candidates import Candidate


@dataclass(frozen=True)
class LinearModel:
    """The default model family: standardized features and a
    :class:`~crossent.models.LinearClassifier` trained on the candidate's loss.

    ``tol`` bounds the largest entry of the objective's gradient at convergence. The objective
    sums the losses (``C · Σᵢ ℓᵢ + ½‖W‖²``), so 1e-3 is 1e-3 / (C N) on LogisticRegression's
    mean-scaled objective: over 100 times stricter than its default 1e-4 for any N ≥ 10 / C,
    and on digits it changes the fitted objective by 3e-8 (relative) while saving 45% of the
    iterations of ``LinearClassifier``'s own default 1e-8."""

    C: float = 1.0
    grid: Mapping[str, Sequence[float]] = field(default_factory=lambda: {"C": (0.1, 1.0, 10.0)})
    tol: float = 1e-3

    @property
    def params(self) -> dict[str, float]:
        return {"C": self.C}

    def __call__(self, loss: str, *, loss_options: Mapping[str, Any] | None = None, class_weight: Any = None,
                 C: float | None = None) -> Any:
        from sklearn.pipeline import make_pipeline

        from crossent.models import LinearClassifier
        from crossent.selection._preprocess import Standardizer

        return make_pipeline(Standardizer(), LinearClassifier(
            loss, loss_options=dict(loss_options or {}) or None, class_weight=class_weight,
            C=self.C if C is None else C, tol=self.tol))

    def describe(self) -> str:
        return f"a standardized linear model (LinearClassifier, C = {self.C:g})"


def model_params(model: Any) -> dict[str, Any]:
    return dict(getattr(model, "params", {}) or {})


def model_grid(model: Any) -> dict[str, Sequence[Any]]:
    return dict(getattr(model, "grid", {}) or {})


def describe_model(model: Any) -> str:
    describe = getattr(model, "describe", None)
    return describe() if callable(describe) else getattr(model, "__name__", type(model).__name__)


@dataclass
class Fitted:
    """What one fit left: the test logits, the seconds it took, the training objective per
    iteration where the estimator records one (``history_``), the warnings it raised, and its
    coefficients where it is linear (to start the next fit from)."""

    logits: np.ndarray
    seconds: float
    history: list[float]
    warnings: list[str]
    start: tuple[np.ndarray, np.ndarray] | None = None


def build(model: Callable[..., Any], candidate: Candidate, loss_options: Mapping[str, Any],
          params: Mapping[str, Any], impute: bool) -> Any:
    """The unfitted estimator for a candidate at one point of its grid."""
    estimator = model(candidate.loss, loss_options=dict(loss_options), class_weight=candidate.class_weight,
                      **{**model_params(model), **params})
    if not impute:
        return estimator
    from sklearn.pipeline import make_pipeline

    from crossent.selection._preprocess import MedianImputer

    return make_pipeline(MedianImputer(), estimator)


def final_step(estimator: Any) -> Any:
    """The estimator at the end of (nested) pipelines."""
    while hasattr(estimator, "steps"):
        estimator = estimator[-1]
    return estimator


def coefficients(estimator: Any) -> tuple[np.ndarray, np.ndarray] | None:
    """A fitted linear estimator's ``(coef_, intercept_)``, or None for another kind of model."""
    final = final_step(estimator)
    coef, intercept = getattr(final, "coef_", None), getattr(final, "intercept_", None)
    return None if coef is None or intercept is None else (np.asarray(coef), np.asarray(intercept))


def warm(estimator: Any, start: tuple[np.ndarray, np.ndarray] | None) -> Any:
    """The estimator, set to start from ``start`` where it follows scikit-learn's warm-start
    convention (a ``warm_start`` parameter that reuses ``coef_`` and ``intercept_``); the fit's
    optimum is the same, reached from nearby (another fold's solution) in fewer iterations."""
    final = final_step(estimator)
    if start is not None and "warm_start" in final.get_params(deep=False):
        final.set_params(warm_start=True)
        final.coef_, final.intercept_ = (a.copy() for a in start)
    return estimator


def mean_start(starts: list[tuple[np.ndarray, np.ndarray] | None]) -> tuple[np.ndarray, np.ndarray] | None:
    """The mean of the inner fits' coefficients, where they all have one shape (else the last)."""
    if not starts or any(s is None for s in starts):
        return None
    shapes = {(s[0].shape, s[1].shape) for s in starts}  # type: ignore[index]
    if len(shapes) != 1:
        return starts[-1]
    return (np.mean([s[0] for s in starts], axis=0), np.mean([s[1] for s in starts], axis=0))  # type: ignore[index]


def fit_predict(estimator: Any, X: np.ndarray, y: np.ndarray, train: np.ndarray, test: np.ndarray) -> Fitted:
    """Fit on the rows ``train`` and return the logits of the rows ``test``."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        tic = time.perf_counter()
        estimator.fit(X[train], y[train])
        seconds = time.perf_counter() - tic
        logits = np.asarray(estimator.decision_function(X[test]), dtype=np.float64)
    history = [float(v) for v in getattr(final_step(estimator), "history_", [])]
    return Fitted(logits, seconds, history, sorted({_warning_text(w) for w in caught}), coefficients(estimator))


def _warning_text(caught: warnings.WarningMessage) -> str:
    return f"{caught.category.__name__}: {str(caught.message).splitlines()[0]}"


def out_of_fold(make: Callable[[], Any], X: np.ndarray, y: np.ndarray,
                inner: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, list[str], list[Any]]:
    """The out-of-fold logits of the inner folds: each sample predicted by the model that did not
    see it (each fit started from the previous fold's solution); the warnings of those fits; and
    their coefficients."""
    logits: np.ndarray | None = None
    seen: set[str] = set()
    starts: list[Any] = []
    for fit_rows, held_out in inner:
        fitted = fit_predict(warm(make(), starts[-1] if starts else None), X, y, fit_rows, held_out)
        if logits is None:
            logits = np.zeros((len(y), *fitted.logits.shape[1:]))
        logits[held_out] = fitted.logits
        seen.update(fitted.warnings)
        starts.append(fitted.start)
    assert logits is not None
    return logits, sorted(seen), starts


@dataclass
class Tuned:
    """The grid point chosen on the inner folds, its out-of-fold logits and the search's record."""

    loss_options: dict[str, Any]
    params: dict[str, Any]
    oof_logits: np.ndarray
    searched: list[tuple[str, float]]  # (the point's options, its inner score), in grid order
    warnings: list[str]
    start: tuple[np.ndarray, np.ndarray] | None = None  # where the refit on the training part starts


def tune(model: Callable[..., Any], candidate: Candidate, X: np.ndarray, y: np.ndarray,
         inner: list[tuple[np.ndarray, np.ndarray]], *, search: bool, impute: bool,
         criterion: Callable[[np.ndarray], float]) -> Tuned:
    """The inner out-of-fold logits of the candidate, at the grid point with the lowest
    ``criterion`` (the inner log loss after calibration) when ``search``, else at the candidate's
    own options."""
    points = candidate.grid(model_grid(model)) if search else [(dict(candidate.loss_options), dict(candidate.params))]
    best: Tuned | None = None
    best_score = np.inf
    searched: list[tuple[str, float]] = []
    seen: set[str] = set()
    for loss_options, params in points:
        logits, caught, starts = out_of_fold(
            functools.partial(build, model, candidate, loss_options, params, impute), X, y, inner)
        seen.update(caught)
        score = criterion(logits) if len(points) > 1 else 0.0
        searched.append((candidate.describe(loss_options, params), float(score)))
        if best is None or score < best_score:
            best, best_score = Tuned(loss_options, params, logits, [], [], mean_start(starts)), score
    assert best is not None
    best.searched = searched if len(points) > 1 else []
    best.warnings = sorted(seen)
    return best
