"""MLPClassifier: a small PyTorch multilayer perceptron trained on any crossent loss, as a
scikit-learn estimator.

The model is ``Linear → activation`` per hidden layer, then a ``Linear`` to the logits (one for
a binary problem, one per class or per label; see :mod:`crossent.models._problem`), float32.
Each step of :class:`torch.optim.AdamW` (decoupled weight decay: the decay is not in the
objective) descends the objective of one mini-batch ``B``::

    J_B(θ) = Σ_{i∈B} sᵢ ℓᵢ(z_θ(xᵢ)) / Σ_{i∈B} sᵢ

where ``Σ sᵢ ℓᵢ`` is the crossent loss with ``reduction="sum"`` and the sample and class weights
inside, and the denominator holds the sample weights only (the batch size without them): a
sample weight of 2 is the sample twice, and ``class_weight`` scales the objective as it does
LinearClassifier's sum. The training objective of an epoch (``history_``) is the sum of its
batches' numerators over the training part's ``Σ sᵢ``; the validation objective, the same
quantity over the held-out rows at the epoch's end, picks the epoch whose parameters are kept.
"""

from __future__ import annotations

import contextlib
import math
import numbers
import warnings
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted, validate_data

from crossent import losses
from crossent.models._problem import LogitPredictions, Problem, number, set_up, sklearn_tags

__all__ = ["MLPClassifier"]

ACTIVATIONS = ("relu", "tanh", "gelu")
# Rows per forward pass where no gradient is taken (validation, predictions).
CHUNK = 65536


class MLPClassifier(LogitPredictions, ClassifierMixin, BaseEstimator):  # type: ignore[misc]
    """A multilayer perceptron (PyTorch) trained on any crossent loss by AdamW on mini-batches.

    Each step minimizes ``Σ_{i∈B} sᵢ ℓᵢ / Σ_{i∈B} sᵢ`` over a mini-batch ``B`` (the module
    docstring), the problems and logits as :class:`~crossent.models.LinearClassifier`'s: one
    logit for binary problems, one per class (softmax) for multiclass, one per label (sigmoid)
    for multi-label indicator targets.

    Args:
        loss, loss_options, class_weight: as :class:`~crossent.models.LinearClassifier`'s.
        hidden_layer_sizes: the width of each hidden layer, a tuple of positive ints; ``()`` is
            a linear model.
        activation: after each hidden ``Linear``: ``"relu"``, ``"tanh"`` or ``"gelu"``.
        learning_rate: AdamW's step size, > 0.
        weight_decay: AdamW's decoupled weight decay (``θ ← θ - lr · λ · θ`` at each step,
            outside the objective and Adam's moments; biases included), ≥ 0.
        batch_size: rows per step (at most the training rows); reshuffled every epoch.
        max_epochs: the most passes over the training rows; stopping there warns with
            ``ConvergenceWarning``.
        early_stopping: hold out ``validation_fraction`` of the rows (stratified by class where
            every class has 2 samples or more), stop once the validation objective has not
            improved by more than ``tol`` (relative) for ``n_iter_no_change`` epochs, and keep
            the parameters of the epoch with the lowest validation objective. Where the held-out
            part would have fewer than 2 rows, or the training part none, or either part zero
            total sample weight, the model trains as without early stopping.
            Without it: train on every row, stop once the training objective has not improved by
            more than ``tol`` for ``n_iter_no_change`` epochs, keep the last parameters.
        validation_fraction: the held-out fraction, in (0, 1).
        n_iter_no_change: the patience, in epochs, a positive int.
        tol: an epoch improves when ``best - value > tol · |best|``; ≥ 0.
        random_state: None, an int or a ``RandomState``: three seeds are drawn from
            ``sklearn.utils.check_random_state(random_state).randint(2**31 - 1, size=3)``, for
            the validation split (``train_test_split``), the initialization (PyTorch's default
            ``nn.Linear`` init after ``torch.manual_seed``, inside ``torch.random.fork_rng``, so
            the global RNG is neither read nor changed) and the batch order (a
            ``torch.Generator``). An int gives bit-identical fits on the CPU.
        n_threads: None leaves PyTorch's thread count; an int sets it during ``fit`` and the
            predictions, and restores it after.
        device: the torch device to train on (``"cpu"``, ``"cuda"``, ``"cuda:1"``, ``"mps"``,
            ...); ``module_`` is on the CPU after ``fit``, and predicts there.
        verbose: > 0 prints the objectives after every epoch.

    Attributes:
        classes_, target_type_, loss_function_, n_features_in_, feature_names_in_: as
            :class:`~crossent.models.LinearClassifier`'s.
        module_: the fitted ``torch.nn.Sequential``, float32, on the CPU.
        n_iter_: the epochs run.
        best_epoch_: the epoch whose parameters were kept, an index into ``history_``: the
            argmin of ``validation_history_`` with early stopping, else ``n_iter_ - 1``.
        history_: the training objective of every epoch ``(n_iter_,)``.
        validation_history_: the validation objective after every epoch ``(n_iter_,)``; empty
            without early stopping.

    >>> from sklearn.datasets import load_iris
    >>> X, y = load_iris(return_X_y=True)
    >>> model = MLPClassifier(hidden_layer_sizes=(16,), learning_rate=0.03, batch_size=32,
    ...                       max_epochs=100, random_state=0).fit(X, y)
    >>> model.predict_proba(X[:2]).shape, model.n_iter_ < 100, model.score(X, y) > 0.9
    ((2, 3), True, True)
    """

    def __init__(self, loss: str | Callable[..., Any] = "cross_entropy", *,
                 loss_options: Mapping[str, Any] | None = None,
                 class_weight: str | Mapping[Any, float] | None = None,
                 hidden_layer_sizes: tuple[int, ...] = (64,), activation: str = "relu",
                 learning_rate: float = 1e-3, weight_decay: float = 1e-4, batch_size: int = 256,
                 max_epochs: int = 200, early_stopping: bool = True, validation_fraction: float = 0.1,
                 n_iter_no_change: int = 10, tol: float = 1e-4, random_state: Any = None,
                 n_threads: int | None = None, device: str = "cpu", verbose: int = 0) -> None:
        self.loss = loss
        self.loss_options = loss_options
        self.class_weight = class_weight
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.random_state = random_state
        self.n_threads = n_threads
        self.device = device
        self.verbose = verbose

    def __sklearn_tags__(self) -> Any:
        return sklearn_tags(super().__sklearn_tags__(), self.loss, self.class_weight)

    # ------------------------------------------------------------------ fit

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> MLPClassifier:
        """Fit the network. Returns self.

        ``X`` ``(N, F)`` (dense), ``y`` class labels ``(N,)`` or a multi-label indicator matrix
        ``(N, L)``, ``sample_weight`` ``(N,)`` non-negative (None: all 1).
        """
        self._check_params()
        torch = _import_torch()
        device = _device(torch, self.device)
        X, y = validate_data(self, X, y, dtype=np.float32, multi_output=True)
        problem = set_up(type(self).__name__, self.loss, self.loss_options, self.class_weight, y, sample_weight,
                         X.shape[0])
        self.classes_, self.target_type_, self.loss_function_ = problem.classes, problem.target_type, problem.loss
        split_seed, init_seed, shuffle_seed = (int(seed) for seed in
                                               check_random_state(self.random_state).randint(2**31 - 1, size=3))
        train, validation = self._split(problem, X.shape[0], split_seed)

        with _threads(torch, self.n_threads):
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(init_seed)
                module = _network(torch, X.shape[1], tuple(self.hidden_layer_sizes), self.activation,
                                  problem.n_outputs)
            module = module.to(device)
            objective = _Objective(torch, module, X, problem, device)
            generator = torch.Generator().manual_seed(shuffle_seed)
            self._train(torch, objective, train, validation, generator)
        self.module_ = module.cpu().eval()
        return self

    def _split(self, problem: Problem, n_samples: int, seed: int) -> tuple[Any, Any]:
        """The training and validation rows (indices), the latter None without early stopping."""
        rows = np.arange(n_samples)
        n_validation = math.ceil(self.validation_fraction * n_samples)
        if not self.early_stopping or n_samples * self.validation_fraction < 2 or n_samples - n_validation < 1:
            return rows, None
        stratify = None
        if problem.labels is not None:
            counts = np.bincount(problem.labels)
            n_classes = counts.shape[0]
            if counts.min() >= 2 and min(n_validation, n_samples - n_validation) >= n_classes:
                stratify = problem.labels
        train, validation = train_test_split(rows, test_size=n_validation, stratify=stratify, random_state=seed)
        weights = problem.sample_weight
        if weights is not None and not (weights[train].sum() > 0 and weights[validation].sum() > 0):
            return rows, None
        return np.sort(train), np.sort(validation)

    def _train(self, torch: Any, objective: _Objective, train: Any, validation: Any, generator: Any) -> None:
        optimizer = torch.optim.AdamW(objective.module.parameters(), lr=self.learning_rate,
                                      weight_decay=self.weight_decay)
        train_rows = torch.as_tensor(train, device=objective.device)
        validation_rows = None if validation is None else torch.as_tensor(validation, device=objective.device)
        batch_size = min(int(self.batch_size), train.shape[0])
        train_total = objective.total(train_rows)
        history: list[float] = []
        validation_history: list[float] = []
        best, best_epoch, best_state, stale = math.inf, 0, None, 0
        for epoch in range(int(self.max_epochs)):
            objective.module.train()
            epoch_sum = torch.zeros((), dtype=torch.float64, device=objective.device)
            order = train_rows[torch.randperm(train.shape[0], generator=generator).to(objective.device)]
            for batch in order.split(batch_size):
                value = objective.sum(batch)
                loss = value / objective.divisor(batch)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                epoch_sum += value.detach().double()
            history.append(float(epoch_sum) / train_total)
            _check_finite(history[-1], "training")
            if validation_rows is None:
                value = history[-1]
            else:
                value = objective.mean(validation_rows)
                _check_finite(value, "validation")
                validation_history.append(value)
            if self.verbose:
                shown = "" if validation_rows is None else f", validation objective {value:.8g}"
                print(f"[MLPClassifier] epoch {epoch + 1}: training objective {history[-1]:.8g}{shown}")
            # the counter resets on an improvement by more than tol; the kept epoch is the lowest
            stale = 0 if not math.isfinite(best) or best - value > self.tol * abs(best) else stale + 1
            if validation_rows is not None and value < best:
                best_state = {key: tensor.detach().clone() for key, tensor in objective.module.state_dict().items()}
            if value < best:
                best, best_epoch = value, epoch
            if stale >= self.n_iter_no_change:
                break
        else:
            what = "training" if validation_rows is None else "validation"
            warnings.warn(f"MLPClassifier stopped at max_epochs={self.max_epochs} before the {what} objective "
                          f"stopped improving (by more than tol={self.tol:g} for n_iter_no_change="
                          f"{self.n_iter_no_change} epochs); increase max_epochs or learning_rate",
                          ConvergenceWarning, stacklevel=3)
        if best_state is not None:
            objective.module.load_state_dict(best_state)
        self.history_ = np.asarray(history)
        self.validation_history_ = np.asarray(validation_history)
        self.n_iter_ = len(history)
        self.best_epoch_ = best_epoch if validation_rows is not None else len(history) - 1

    def _check_params(self) -> None:
        sizes = self.hidden_layer_sizes
        if not isinstance(sizes, tuple | list) or not all(
                isinstance(size, numbers.Integral) and not isinstance(size, bool) and size > 0 for size in sizes):
            raise ValueError(f"hidden_layer_sizes must be a tuple of positive ints (() for a linear model), "
                             f"got {sizes!r}")
        if self.activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {', '.join(map(repr, ACTIVATIONS))}, "
                             f"got {self.activation!r}")
        number("learning_rate", self.learning_rate, positive=True)
        number("weight_decay", self.weight_decay, positive=False)
        number("tol", self.tol, positive=False)
        for name in ("batch_size", "max_epochs", "n_iter_no_change"):
            _positive_int(name, getattr(self, name))
        if self.n_threads is not None:
            _positive_int("n_threads", self.n_threads, none=True)
        fraction = self.validation_fraction
        if isinstance(fraction, bool) or not isinstance(fraction, numbers.Real) or not 0 < fraction < 1:
            raise ValueError(f"validation_fraction must be a number in (0, 1), got {fraction!r}")
        if not isinstance(self.early_stopping, bool | np.bool_):
            raise ValueError(f"early_stopping must be True or False, got {self.early_stopping!r}")
        if isinstance(self.verbose, bool) or not isinstance(self.verbose, numbers.Integral) or self.verbose < 0:
            raise ValueError(f"verbose must be a non-negative int, got {self.verbose!r}")

    # ------------------------------------------------------------------ predict

    def decision_function(self, X: Any) -> Any:
        """The logits: ``(N,)`` for binary problems (the second class's), else ``(N, K)`` or
        ``(N, L)``.

        Computed in float64 from the float32 parameters, on the CPU: a row's logits then depend
        on the rows predicted with it by float64 rounding only (float32 matrix products change
        with the number of rows by about 1e-7 relative)."""
        check_is_fitted(self)
        X = validate_data(self, X, dtype=np.float64, reset=False)
        torch = _import_torch()
        with _threads(torch, self.n_threads), torch.no_grad():
            state = {name: tensor.double() for name, tensor in self.module_.state_dict().items()}
            inputs = torch.from_numpy(np.ascontiguousarray(X))
            scores = torch.cat([torch.func.functional_call(self.module_, state, (chunk,))
                                for chunk in inputs.split(CHUNK)]).numpy()
        return scores[:, 0] if self.target_type_ == "binary" else scores


class _Objective:
    """The weighted loss sums of ``module`` on rows of the training data, all on ``device``:
    :meth:`sum` (``Σ sᵢ ℓᵢ``, differentiable), :meth:`total` (``Σ sᵢ``) and :meth:`mean`."""

    def __init__(self, torch: Any, module: Any, X: Any, problem: Problem, device: Any) -> None:
        self.torch, self.module, self.device = torch, module, device
        self.X = torch.from_numpy(np.ascontiguousarray(X)).to(device)
        target = problem.target
        self.target = torch.as_tensor(target, dtype=torch.int64 if np.issubdtype(target.dtype, np.integer)
                                      else torch.float32, device=device)
        self.loss = getattr(losses, problem.loss)
        self.two_class_softmax = problem.two_class_softmax
        self.one_logit = problem.target_type == "binary" and not problem.two_class_softmax  # a sigmoid loss
        options = dict(problem.options)
        sample = options.pop("sample_weight", None)
        self.sample_weight = None if sample is None else self._tensor(sample)  # class weights in, maybe
        self.options = {name: self._tensor(value) if isinstance(value, np.ndarray | list | tuple) else value
                        for name, value in options.items()}
        given = problem.sample_weight  # the denominator's: as given to fit
        self.given = None if given is None else self._tensor(given)

    def _tensor(self, value: Any) -> Any:
        try:
            array = np.asarray(value, dtype=np.float64)
        except (TypeError, ValueError):
            return value  # the loss says what is wrong with it
        return self.torch.as_tensor(array, dtype=self.torch.float32, device=self.device)

    def sum(self, rows: Any) -> Any:
        """``Σ_{i∈rows} sᵢ ℓᵢ``, a 0-d tensor."""
        z = self.module(self.X[rows])
        if self.two_class_softmax:  # softmax([0, z]) = [σ(-z), σ(z)]
            z = self.torch.cat([self.torch.zeros_like(z), z], dim=1)
        elif self.one_logit:
            z = z[:, 0]
        options = self.options if self.sample_weight is None else {
            **self.options, "sample_weight": self.sample_weight[rows]}
        return self.loss(z, self.target[rows], **options)

    def total(self, rows: Any) -> float:
        """``Σ_{i∈rows} sᵢ`` of the sample weights given to fit (the number of rows without)."""
        return float(rows.shape[0]) if self.given is None else float(self.given[rows].double().sum())

    def divisor(self, rows: Any) -> Any:
        """A batch's ``Σ sᵢ`` as the divisor of its sum, on the device (no synchronization); 1
        where it is 0, as the sum is then."""
        if self.given is None:
            return float(rows.shape[0])
        total = self.given[rows].sum()
        return self.torch.where(total > 0, total, self.torch.ones_like(total))

    def mean(self, rows: Any) -> float:
        """``Σ sᵢ ℓᵢ / Σ sᵢ`` over ``rows``, without a gradient, in eval mode."""
        self.module.eval()
        with self.torch.no_grad():
            value = sum(float(self.sum(chunk)) for chunk in rows.split(CHUNK))
        return value / self.total(rows)


def _network(torch: Any, n_features: int, hidden: tuple[int, ...], activation: str, n_outputs: int) -> Any:
    """``Linear → activation`` per hidden width, then ``Linear`` to the logits; float32, CPU."""
    nn = torch.nn
    layer = {"relu": nn.ReLU, "tanh": nn.Tanh, "gelu": nn.GELU}[activation]
    modules: list[Any] = []
    width = n_features
    for size in hidden:
        modules += [nn.Linear(width, int(size), dtype=torch.float32), layer()]
        width = int(size)
    modules.append(nn.Linear(width, n_outputs, dtype=torch.float32))
    return nn.Sequential(*modules)


def _import_torch() -> Any:
    try:
        import torch
    except ImportError as error:
        raise ModuleNotFoundError("MLPClassifier needs PyTorch: pip install 'crossent[torch]'") from error
    return torch


def _device(torch: Any, device: Any) -> Any:
    """``device`` as a ``torch.device`` that can hold a tensor here, else a ValueError naming it."""
    if not isinstance(device, str | torch.device):
        raise ValueError(f"device must be a torch device string ('cpu', 'cuda', 'cuda:0', 'mps', ...), "
                         f"got {device!r}")
    try:
        resolved = torch.device(device)
        torch.empty(0, device=resolved)
    except Exception as error:  # RuntimeError, AssertionError (torch not built with CUDA), ...
        raise ValueError(f"device must be a torch device available here, got {device!r}: {error}") from None
    return resolved


@contextlib.contextmanager
def _threads(torch: Any, n_threads: int | None) -> Iterator[None]:
    if n_threads is None:
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(int(n_threads))
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _positive_int(name: str, value: Any, none: bool = False) -> None:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        also = " or None" if none else ""
        raise ValueError(f"{name} must be a positive int{also}, got {value!r}")


def _check_finite(value: float, which: str) -> None:
    if not math.isfinite(value):
        raise ValueError(f"MLPClassifier: the {which} objective became {value}; lower learning_rate")
