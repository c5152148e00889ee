"""The losses a comparison can try: families by name, their options, their tuning grids.

A candidate is written ``family`` or ``family:option=value,option=value`` (``focal:gamma=1``,
``label-smoothing:epsilon=0.05``, ``ce:C=0.1``). Each family's options default to the loss
function's own defaults (focal γ = 2, Poly-1 ε = 2, logit adjustment τ = 1), so one default holds
everywhere; label smoothing, whose function default is 0 (no smoothing), takes 0.1 here. ``C``
(a model option, the inverse regularization strength) is accepted by every family.

``--tune`` searches each family's grid (``TUNING_GRIDS``) and the model's own grid on the inner
folds; an option the user wrote is fixed, never tuned.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Family:
    """A kind of candidate: a crossent loss (as ``LinearClassifier`` names it), class weights,
    and the options a user may set, by their command-line name."""

    name: str
    loss: str
    summary: str
    class_weight: Any = None
    options: Mapping[str, str] = field(default_factory=dict)  # CLI name -> loss option
    fixed: Mapping[str, float] = field(default_factory=dict)  # loss options set by the family itself
    multilabel: bool = False


@dataclass(frozen=True)
class Candidate:
    """One way to train the model: a family with its option values.

    ``loss_options`` are the loss's keyword options, ``params`` the model's (``C``); ``given`` the
    option names the user wrote (never tuned)."""

    name: str
    family: str
    loss: str
    loss_options: Mapping[str, Any] = field(default_factory=dict)
    class_weight: Any = None
    params: Mapping[str, Any] = field(default_factory=dict)
    given: frozenset[str] = frozenset()
    summary: str = ""

    def grid(self, model_grid: Mapping[str, Sequence[Any]]) -> list[tuple[dict[str, Any], dict[str, Any]]]:
        """The (loss options, model params) points ``--tune`` tries: the family's grid and the
        model's, less the options the user fixed; one point (the candidate itself) if neither."""
        family = FAMILIES[self.family]
        axes: list[tuple[str, str, Sequence[Any]]] = []
        for cli_name, values in TUNING_GRIDS.get(self.family, {}).items():
            if cli_name not in self.given:
                axes.append(("loss", family.options[cli_name], values))
        for name, model_values in model_grid.items():
            if name not in self.given:
                axes.append(("model", name, model_values))
        points: list[tuple[dict[str, Any], dict[str, Any]]] = [(dict(self.loss_options), dict(self.params))]
        for where, name, axis_values in axes:
            points = [({**loss, name: v}, model) if where == "loss" else (loss, {**model, name: v})
                      for loss, model in points for v in axis_values]
        return points

    def describe(self, loss_options: Mapping[str, Any], params: Mapping[str, Any]) -> str:
        """``gamma=1, C=0.1``: the values of this candidate's options at a grid point."""
        family = FAMILIES[self.family]
        inverse = {option: cli for cli, option in family.options.items()}
        parts = [f"{inverse[k]}={_number(v)}" for k, v in loss_options.items() if k in inverse]
        parts += [f"{k}={_number(v)}" for k, v in params.items()]
        return ", ".join(parts)


def _defaults(loss_function: str) -> dict[str, Any]:
    from crossent.losses._define import lookup

    return lookup(loss_function)[1].defaults


FAMILIES: dict[str, Family] = {f.name: f for f in (
    Family("ce", "cross_entropy", "plain cross-entropy"),
    Family("weighted-ce", "cross_entropy", "cross-entropy with balanced class weights", class_weight="balanced"),
    Family("effective-ce", "cross_entropy", "cross-entropy with effective-number class weights (Cui et al.)",
           class_weight="effective_number"),
    Family("focal", "focal", "focal loss (Lin et al.)", options={"gamma": "gamma", "alpha": "alpha"}),
    Family("label-smoothing", "cross_entropy", "label smoothing", options={"epsilon": "label_smoothing"},
           fixed={"label_smoothing": 0.1}),
    Family("logit-adjusted", "logit_adjusted", "logit-adjusted cross-entropy (Menon et al.)",
           options={"tau": "tau"}),
    Family("poly1", "poly1", "Poly-1 (Leng et al.)", options={"epsilon": "epsilon"}),
    Family("bce", "cross_entropy", "binary cross-entropy per label", multilabel=True),
    Family("pos-weighted-bce", "cross_entropy", "binary cross-entropy, positives weighted n_neg / n_pos",
           class_weight="balanced", multilabel=True),
    Family("binary-focal", "focal", "binary focal loss per label", options={"gamma": "gamma", "alpha": "alpha"},
           multilabel=True),
    Family("asymmetric", "asymmetric", "asymmetric loss (Ridnik et al.)",
           options={"gamma-neg": "gamma_neg", "gamma-pos": "gamma_pos", "clip": "clip"}, multilabel=True),
)}

# The functions whose defaults the families' options take.
_FUNCTIONS = {"focal": "focal_loss", "logit-adjusted": "logit_adjusted_cross_entropy",
              "poly1": "poly1_cross_entropy", "binary-focal": "binary_focal_loss", "asymmetric": "asymmetric_loss"}

TUNING_GRIDS: dict[str, dict[str, tuple[float, ...]]] = {
    "focal": {"gamma": (0.5, 1.0, 2.0, 3.0)},
    "binary-focal": {"gamma": (0.5, 1.0, 2.0, 3.0)},
    "label-smoothing": {"epsilon": (0.05, 0.1, 0.2)},
    "logit-adjusted": {"tau": (0.5, 1.0, 1.5)},
    "poly1": {"epsilon": (-1.0, 1.0, 2.0)},
    "asymmetric": {"gamma-neg": (1.0, 2.0, 4.0)},
}
"""Each family's hyperparameter grid for ``--tune`` (the model adds its own, e.g. C)."""

DEFAULTS = {
    "single-label": ["ce", "weighted-ce", "focal", "label-smoothing", "logit-adjusted"],
    "multilabel": ["bce", "pos-weighted-bce", "binary-focal", "asymmetric"],
}
BASELINE = {"single-label": "ce", "multilabel": "bce"}
MODEL_PARAMS = ("C",)


def candidate(text: str, kind: str) -> Candidate:
    """Parse ``family`` or ``family:option=value,...`` for a kind of problem (``"single-label"``
    or ``"multilabel"``)."""
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"a loss must be a name such as 'ce' or 'focal:gamma=1', got {text!r}")
    family_name, _, rest = text.strip().partition(":")
    if family_name not in FAMILIES:
        raise ValueError(f"unknown loss {family_name!r}; choose from {', '.join(FAMILIES)}")
    family = FAMILIES[family_name]
    if family.multilabel != (kind == "multilabel"):
        choices = ", ".join(n for n, f in FAMILIES.items() if f.multilabel == (kind == "multilabel"))
        what, these = ("multi-label targets", "exclusive classes") if family.multilabel else (
            "exclusive classes", "multi-label targets")
        raise ValueError(f"{family_name!r} is for {what}; {these} take {choices}")
    defaults = _defaults(_FUNCTIONS[family_name]) if family_name in _FUNCTIONS else {}
    loss_options = {option: defaults[option] for option in family.options.values()
                    if option in defaults and defaults[option] is not None and option not in ("alpha",)}
    loss_options.update(family.fixed)
    params: dict[str, Any] = {}
    given: set[str] = set()
    for item in filter(None, (part.strip() for part in rest.split(","))) if rest else ():
        name, equals, value = item.partition("=")
        name = name.strip()
        if not equals:
            raise ValueError(f"loss {text!r}: options are written name=value, got {item!r}")
        allowed = [*family.options, *MODEL_PARAMS]
        if name not in allowed:
            raise ValueError(f"loss {text!r}: {family_name} has no option {name!r}; its options: {', '.join(allowed)}")
        number = _parse_number(text, name, value)
        if name in MODEL_PARAMS:
            if not number > 0:
                raise ValueError(f"loss {text!r}: C must be positive, got {value.strip()}")
            params[name] = number
        else:
            loss_options[family.options[name]] = number
        given.add(name)
    _check_options(text, family, loss_options)
    return Candidate(name=text.strip() if rest else family_name, family=family_name, loss=family.loss,
                     loss_options=loss_options, class_weight=family.class_weight, params=params,
                     given=frozenset(given), summary=_summary(family, loss_options, params))


def _parse_number(text: str, name: str, value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise ValueError(f"loss {text!r}: {name} must be a number, got {value.strip()!r}") from None
    if not math.isfinite(number):
        raise ValueError(f"loss {text!r}: {name} must be finite, got {value.strip()}")
    return number


def _check_options(text: str, family: Family, options: Mapping[str, Any]) -> None:
    """The ranges the loss functions accept, checked now rather than in the first fit."""
    checks = {"gamma": (0.0, math.inf, "≥ 0"), "label_smoothing": (0.0, 1.0, "in [0, 1]"),
              "epsilon": (-1.0, math.inf, "≥ -1"), "tau": (0.0, math.inf, "≥ 0"), "alpha": (0.0, 1.0, "in [0, 1]"),
              "gamma_neg": (0.0, math.inf, "≥ 0"), "gamma_pos": (0.0, math.inf, "≥ 0"), "clip": (0.0, 1.0, "in [0, 1]")}
    inverse = {option: cli for cli, option in family.options.items()}
    for option, value in options.items():
        low, high, words = checks.get(option, (-math.inf, math.inf, ""))
        if not low <= value <= high:
            raise ValueError(f"loss {text!r}: {inverse.get(option, option)} must be {words}, got {_number(value)}")


def _summary(family: Family, options: Mapping[str, Any], params: Mapping[str, Any]) -> str:
    inverse = {option: cli for cli, option in family.options.items()}
    shown = [f"{inverse[k]} {_number(v)}" for k, v in options.items() if k in inverse]
    shown += [f"C {_number(v)}" for v in params.values()]
    return family.summary + (", " + ", ".join(shown) if shown else "")


def _number(value: Any) -> str:
    return f"{float(value):g}"


def resolve(losses: Any, kind: str) -> list[Candidate]:
    """Candidates from strings (``family[:option=value,...]``), Candidate objects, or None (the
    defaults for this kind of problem)."""
    if losses is None:
        losses = DEFAULTS[kind]
    if isinstance(losses, str | Candidate):
        losses = [losses]
    candidates = [item if isinstance(item, Candidate) else candidate(item, kind) for item in losses]
    names = [c.name for c in candidates]
    if len(set(names)) != len(names):
        raise ValueError(f"losses repeat a name: {', '.join(names)}")
    if not candidates:
        raise ValueError("losses is empty")
    return candidates


def catalog() -> dict[str, Candidate]:
    """Every family at its defaults, by name."""
    return {name: candidate(name, "multilabel" if family.multilabel else "single-label")
            for name, family in FAMILIES.items()}
