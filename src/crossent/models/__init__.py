"""Models trained on crossent's losses.

:class:`LinearClassifier` is a scikit-learn estimator; it needs scikit-learn and SciPy, which
this package imports only when the class is first asked for (``import crossent`` never imports
this package at all).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from crossent.models._linear import LinearClassifier

__all__ = ["LinearClassifier"]


def __getattr__(name: str) -> Any:
    if name == "LinearClassifier":
        from crossent.models._linear import LinearClassifier

        return LinearClassifier
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
