"""Models trained on crossent's losses, as scikit-learn estimators.

- :class:`LinearClassifier`: a linear model (LogisticRegression's objective on any loss);
- :class:`GradientBoostingClassifier`: LightGBM or XGBoost on any loss (the ``boosting`` extra);
- :class:`MLPClassifier`: a small PyTorch MLP on any loss (the ``torch`` extra).

They need scikit-learn and SciPy, which this package imports only when a class is first asked
for (``import crossent`` never imports this package at all); the boosters and torch are
imported when a model is fitted.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from crossent.models._boosting import GradientBoostingClassifier
    from crossent.models._linear import LinearClassifier
    from crossent.models._mlp import MLPClassifier

__all__ = ["GradientBoostingClassifier", "LinearClassifier", "MLPClassifier"]

_MODULES = {"GradientBoostingClassifier": "_boosting", "LinearClassifier": "_linear", "MLPClassifier": "_mlp"}


def __getattr__(name: str) -> Any:
    if name in _MODULES:
        import importlib

        return getattr(importlib.import_module(f"crossent.models.{_MODULES[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
