"""The model families ``compare`` trains, by name: ``linear``, ``lightgbm``, ``xgboost``, ``mlp``.

Each is a model factory for the seam in ``_fit`` (``factory(loss, loss_options=...,
class_weight=..., **params)``), with its default hyperparameters (``params``), the small grid
``--tune`` searches on the inner folds (``grid``) and a one-line ``describe()`` that the table,
the report and the JSON name. Each fit is held to one thread (booster threads, torch's intra-op
threads), since compare runs its tasks side by side; the boosters and the MLP early-stop on a
held-out tenth of each fit's own training rows, never on a test fold.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from crossent.selection._fit import LinearModel

MODEL_FAMILIES = ("linear", "lightgbm", "xgboost", "mlp")


@dataclass(frozen=True)
class BoostingModel:
    """Gradient-boosted trees on the candidate's loss
    (:class:`~crossent.models.GradientBoostingClassifier`): up to ``n_estimators`` rounds,
    early-stopped on the crossent loss of a held-out tenth of the fit's rows."""

    backend: str = "lightgbm"
    n_estimators: int = 300
    learning_rate: float = 0.1
    random_state: int = 0
    grid: Mapping[str, Sequence[Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.grid:  # the trees' size: LightGBM grows leaf-wise, XGBoost depth-wise
            grid = {"num_leaves": (7, 31)} if self.backend == "lightgbm" else {"max_depth": (3, 6)}
            object.__setattr__(self, "grid", grid)

    @property
    def params(self) -> dict[str, Any]:
        return {"num_leaves": 15} if self.backend == "lightgbm" else {"max_depth": 4}

    def __call__(self, loss: str, *, loss_options: Mapping[str, Any] | None = None, class_weight: Any = None,
                 **params: Any) -> Any:
        from crossent.models import GradientBoostingClassifier

        return GradientBoostingClassifier(
            loss, loss_options=dict(loss_options or {}) or None, class_weight=class_weight, backend=self.backend,
            n_estimators=self.n_estimators, learning_rate=self.learning_rate, early_stopping=True,
            random_state=self.random_state, n_threads=1, **params)

    def describe(self) -> str:
        size = ", ".join(f"{k} = {v}" for k, v in self.params.items())
        return (f"gradient-boosted trees ({self.backend}, up to {self.n_estimators} rounds at learning rate "
                f"{self.learning_rate:g}, {size}, early-stopped on the loss)")


@dataclass(frozen=True)
class MLPModel:
    """Standardized features and a small PyTorch MLP on the candidate's loss
    (:class:`~crossent.models.MLPClassifier`), early-stopped on a held-out tenth of the fit's rows."""

    hidden_layer_sizes: tuple[int, ...] = (64,)
    weight_decay: float = 1e-4
    # 3e-3 on batches of 512 reaches the held-out loss of MLPClassifier's 1e-3 on 256 in a sixth
    # of the time on the embedded data (0.47 s a fit against 2.9 s; log loss 0.048 both)
    learning_rate: float = 3e-3
    batch_size: int = 512
    max_epochs: int = 200
    random_state: int = 0
    grid: Mapping[str, Sequence[Any]] = field(default_factory=lambda: {"weight_decay": (1e-4, 1e-2)})

    @property
    def params(self) -> dict[str, Any]:
        return {"weight_decay": self.weight_decay}

    def __call__(self, loss: str, *, loss_options: Mapping[str, Any] | None = None, class_weight: Any = None,
                 weight_decay: float | None = None) -> Any:
        from sklearn.pipeline import make_pipeline

        from crossent.models import MLPClassifier
        from crossent.selection._preprocess import Standardizer

        return make_pipeline(Standardizer(), MLPClassifier(
            loss, loss_options=dict(loss_options or {}) or None, class_weight=class_weight,
            hidden_layer_sizes=self.hidden_layer_sizes,
            weight_decay=self.weight_decay if weight_decay is None else weight_decay, learning_rate=self.learning_rate,
            batch_size=self.batch_size, max_epochs=self.max_epochs, early_stopping=True, random_state=self.random_state,
            n_threads=1))

    def describe(self) -> str:
        layers = " × ".join(map(str, self.hidden_layer_sizes)) or "no"
        return (f"a standardized MLP (PyTorch, {layers} hidden units, AdamW at {self.learning_rate:g} with weight "
                f"decay {self.weight_decay:g}, batches of {self.batch_size}, early-stopped on the loss)")


def model_family(name: str, *, C: float = 1.0, random_state: int = 0) -> Callable[..., Any]:
    """The factory of a family by name; its extra (boosting, torch) is checked here, with a
    one-line error, before any fold runs."""
    if name == "linear":
        return LinearModel(C=C)
    if name in ("lightgbm", "xgboost"):
        _require(name)
        return BoostingModel(backend=name, random_state=random_state)
    if name == "mlp":
        _require(name)
        return MLPModel(random_state=random_state)
    raise ValueError(f"model must be one of {', '.join(MODEL_FAMILIES)} (or 'all'), got {name!r}")


REQUIRES = {"lightgbm": ("lightgbm", "boosting"), "xgboost": ("xgboost", "boosting"), "mlp": ("torch", "torch")}


def installed(family: str) -> bool:
    """Whether the family's library imports (linear needs nothing more)."""
    return family not in REQUIRES or _imports(REQUIRES[family][0])


def _imports(module: str) -> bool:
    import importlib

    try:
        importlib.import_module(module)
    except ImportError:
        return False
    return True


def _require(family: str) -> None:
    module, extra = REQUIRES[family]
    if not _imports(module):
        raise ModuleNotFoundError(f"model {family!r} needs {module}: pip install 'crossent[{extra}]'")
