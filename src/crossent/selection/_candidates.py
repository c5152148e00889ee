"""The losses a comparison can try, by name, and the default set for each kind of problem."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Candidate:
    """One way to train the same linear model: a crossent loss, its options and class weights."""

    name: str
    loss: str = "cross_entropy"
    loss_options: Mapping[str, Any] = field(default_factory=dict)
    class_weight: Any = None
    summary: str = ""


CATALOG: dict[str, Candidate] = {c.name: c for c in (
    Candidate("ce", "cross_entropy", summary="plain cross-entropy"),
    Candidate("weighted-ce", "cross_entropy", class_weight="balanced",
              summary="cross-entropy with balanced class weights"),
    Candidate("effective-ce", "cross_entropy", class_weight="effective_number",
              summary="cross-entropy with effective-number class weights (Cui et al.)"),
    Candidate("focal", "focal", {"gamma": 2.0}, summary="focal loss, gamma 2"),
    Candidate("label-smoothing", "cross_entropy", {"label_smoothing": 0.1}, summary="label smoothing 0.1"),
    Candidate("logit-adjusted", "logit_adjusted", {"tau": 1.0},
              summary="logit-adjusted cross-entropy, tau 1 (Menon et al.)"),
    Candidate("poly1", "poly1", {"epsilon": 1.0}, summary="Poly-1, epsilon 1"),
    Candidate("bce", "cross_entropy", summary="binary cross-entropy per label"),
    Candidate("pos-weighted-bce", "cross_entropy", class_weight="balanced",
              summary="binary cross-entropy, positives weighted n_neg / n_pos"),
    Candidate("binary-focal", "focal", {"gamma": 2.0}, summary="binary focal loss per label, gamma 2"),
    Candidate("asymmetric", "asymmetric", summary="asymmetric loss (Ridnik et al.), gamma- 4, clip 0.05"),
)}

MULTILABEL_ONLY = {"bce", "pos-weighted-bce", "binary-focal", "asymmetric"}
DEFAULTS = {
    "single-label": ["ce", "weighted-ce", "focal", "label-smoothing", "logit-adjusted"],
    "multilabel": ["bce", "pos-weighted-bce", "binary-focal", "asymmetric"],
}
BASELINE = {"single-label": "ce", "multilabel": "bce"}


def resolve(losses: Any, kind: str) -> list[Candidate]:
    """Candidates from names, Candidate objects, or None (the defaults for this kind of problem)."""
    if losses is None:
        return [CATALOG[name] for name in DEFAULTS[kind]]
    if isinstance(losses, str | Candidate):
        losses = [losses]
    candidates: list[Candidate] = []
    for item in losses:
        if isinstance(item, Candidate):
            candidates.append(item)
            continue
        if item not in CATALOG:
            raise ValueError(f"unknown loss {item!r}; choose from {', '.join(CATALOG)}")
        if kind == "multilabel" and item not in MULTILABEL_ONLY:
            raise ValueError(f"{item!r} is for exclusive classes; multi-label targets take "
                             f"{', '.join(sorted(MULTILABEL_ONLY))}")
        if kind == "single-label" and item in MULTILABEL_ONLY:
            raise ValueError(f"{item!r} is for multi-label targets; exclusive classes take "
                             f"{', '.join(n for n in CATALOG if n not in MULTILABEL_ONLY)}")
        candidates.append(CATALOG[item])
    names = [c.name for c in candidates]
    if len(set(names)) != len(names):
        raise ValueError(f"losses repeat a name: {', '.join(names)}")
    if not candidates:
        raise ValueError("losses is empty")
    return candidates
