"""The protocol's calibration step: fit a post-hoc calibration on held-out logits, or say why not.

``calibrate`` fits :func:`crossent.metrics.fit_calibration` on the out-of-fold logits of the
inner folds of one outer training part, then checks the fit twice and falls back to a simpler
method, with a note, where a check fails:

1. the fitted 1/T runs to a bound of its search (separated or uninformative logits):
   bias-corrected → bias, temperature → none;
2. cross-fitted: the calibration fitted on the other inner folds' logits and scored on each
   held-out fold's is worse (higher log loss) than the raw logits: → none.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from crossent.metrics import Calibration, fit_calibration
from crossent.metrics._recalibration import METHODS, logit_log_loss

SIMPLER = {"bias-corrected": "bias", "temperature": "none"}
"""The fallback of a method whose 1/T runs to its bound."""

NAMES = {"bias-corrected": "bias-corrected scaling", "temperature": "temperature scaling",
         "bias": "the bias correction"}
"""A method as the subject of a note."""


def calibrate(oof_logits: Any, y: Any, inner_folds: Sequence[tuple[Any, Any]],
              method: str) -> tuple[Calibration, list[str]]:
    """The calibration fitted on out-of-fold logits, and the notes of any fallback.

    Args:
        oof_logits: ``(N,)`` (binary, one logit), ``(N, C)`` or ``(N, L)`` (multi-label) logits,
            each row predicted by a model that did not see it.
        y: labels ``(N,)`` or a 0/1 indicator ``(N, L)``.
        inner_folds: the (fit_idx, held_idx) index pairs that produced ``oof_logits``; every
            sample is held out exactly once.
        method: ``"bias-corrected"``, ``"temperature"``, ``"bias"`` or ``"none"``.

    Returns:
        The calibration to apply to the test logits, and plain sentences (no fold number, no
        trailing period) explaining each fallback; ``"none"`` returns the identity and no note.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(map(repr, METHODS))}, got {method!r}")
    z, labels = np.asarray(oof_logits, dtype=np.float64), np.asarray(y)
    held = _held_out_sets(inner_folds, len(z))
    notes: list[str] = []
    calibration = fit_calibration(z, labels, method=method)
    if calibration.at_bound and method in SIMPLER:
        notes.append(_bound_note(calibration, SIMPLER[method]))
        calibration = fit_calibration(z, labels, method=SIMPLER[method])
    if calibration.method == "none":
        return calibration, notes
    crossed = _cross_fitted_log_loss(z, labels, held, calibration.method, start=calibration)
    raw = logit_log_loss(z, labels)
    if crossed > raw:
        notes.append(f"{NAMES[calibration.method]} made the held-out log loss worse ({crossed:.3f} vs "
                     f"{raw:.3f} raw): kept the raw logits")
        calibration = fit_calibration(z, labels, method="none")
    return calibration, notes


def _held_out_sets(inner_folds: Sequence[tuple[Any, Any]], n: int) -> list[np.ndarray]:
    """The held-out index arrays of the inner folds, checked to partition range(n)."""
    held = [np.asarray(h, dtype=np.int64).reshape(-1) for _, h in inner_folds]
    if len(held) < 2:
        raise ValueError(f"inner_folds must hold at least 2 (fit_idx, held_idx) pairs, got {len(held)}")
    counts = np.bincount(np.concatenate(held), minlength=n) if n else np.zeros(0)
    if len(counts) != n or not (counts == 1).all():
        raise ValueError(f"inner_folds must hold out each of the {n} samples of oof_logits exactly once")
    return held


def _bound_note(calibration: Calibration, fallback: str) -> str:
    """Why a fit at its bound was replaced by ``fallback``."""
    why = ("the held-out logits are separated (1/T runs to its bound)" if calibration.temperature < 1 else
           "the held-out logits carry no information about the labels (T runs to its bound)")
    kept = "kept T = 1, fitted the bias only" if fallback == "bias" else "kept T = 1"
    return f"{why}: {kept}"


def _cross_fitted_log_loss(z: np.ndarray, y: np.ndarray, held: list[np.ndarray], method: str,
                           start: Calibration | None = None) -> float:
    """The mean log loss of every sample's logits calibrated by a fit on the other folds' logits
    (each fit starting from ``start``, the fit on all of them)."""
    calibrated = np.zeros_like(z)
    for rows in held:
        others = np.setdiff1d(np.arange(len(z)), rows, assume_unique=True)
        fitted = fit_calibration(z[others], y[others], method=method, start=start if method != "temperature" else None)
        calibrated[rows] = fitted.apply(z[rows])
    return logit_log_loss(calibrated, y)
