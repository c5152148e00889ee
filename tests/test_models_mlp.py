"""crossent.models.MLPClassifier: the training loop is AdamW on Σ sᵢ ℓᵢ / Σ sᵢ per mini-batch (a
hand-written PyTorch loop), the binary and weighting identities, determinism, every loss
trained, early stopping, errors, the estimator contract (check_estimator), torch optional."""

from __future__ import annotations

import math
import subprocess
import sys
import warnings
from typing import Any

import numpy as np
import pytest

pytest.importorskip("sklearn")

from sklearn.datasets import load_breast_cancer, make_classification, make_multilabel_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

import crossent
from crossent.models._mlp import MLPClassifier

torch = pytest.importorskip("torch")

# float32 training: two computations of the same objective agree to float32 rounding (eps ≈ 1.2e-7),
# which a few dozen Adam steps amplify by a small factor.
RTOL = 1e-4


@pytest.fixture(autouse=True)
def one_thread() -> Any:
    """One torch thread: these networks are tiny, and two threads on a shared two-core machine
    spend 50 times longer waiting for each other than computing."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def standardized(X: Any) -> Any:
    return StandardScaler().fit_transform(X).astype(np.float32)


def binary() -> tuple[Any, Any]:
    X, y = load_breast_cancer(return_X_y=True)
    return standardized(X), y


def multiclass(flip_y: float = 0.0, n_samples: int = 300) -> tuple[Any, Any]:
    X, y = make_classification(n_samples=n_samples, n_features=8, n_informative=5, n_classes=3, class_sep=2.0,
                               flip_y=flip_y, random_state=0)
    return standardized(X), y


def multilabel() -> tuple[Any, Any]:
    X, Y = make_multilabel_classification(n_samples=300, n_features=6, n_classes=3, random_state=0)
    return standardized(X), Y


def seeds(random_state: int) -> tuple[int, int, int]:
    """The validation split, initialization and batch-order seeds, as the docstring says."""
    split, init, shuffle = np.random.RandomState(random_state).randint(2**31 - 1, size=3)
    return int(split), int(init), int(shuffle)


def full_batch(**params: Any) -> MLPClassifier:
    """A deterministic configuration trained on every row at once for a fixed number of epochs
    (reaching max_epochs on purpose: fit it with fit_quietly)."""
    options = {"hidden_layer_sizes": (16,), "learning_rate": 0.01, "batch_size": 10_000, "max_epochs": 20,
               "early_stopping": False, "n_iter_no_change": 1000, "random_state": 0}
    return MLPClassifier(**{**options, **params})


def fit_quietly(model: MLPClassifier, X: Any, y: Any, **fit: Any) -> MLPClassifier:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(X, y, **fit)


# ---------------------------------------------------------------- the training loop


@pytest.mark.parametrize("activation", ["relu", "tanh", "gelu"])
def test_training_is_a_handwritten_adamw_loop(activation: str) -> None:
    """PyTorch's own cross-entropy, ``sum / batch size`` per mini-batch, AdamW, the same
    initialization and batch order: the same logits."""
    X, y = multiclass()
    epochs, batch_size, lr, decay = 6, 64, 0.01, 0.1
    model = fit_quietly(MLPClassifier(hidden_layer_sizes=(16, 8), activation=activation, learning_rate=lr,
                                      weight_decay=decay, batch_size=batch_size, max_epochs=epochs,
                                      early_stopping=False, random_state=0), X, y)

    _, init, shuffle = seeds(0)
    nn = torch.nn
    layer = {"relu": nn.ReLU, "tanh": nn.Tanh, "gelu": nn.GELU}[activation]
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(init)
        net = nn.Sequential(nn.Linear(8, 16), layer(), nn.Linear(16, 8), layer(), nn.Linear(8, 3))
    optimizer = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=decay)
    generator = torch.Generator().manual_seed(shuffle)
    inputs, labels = torch.as_tensor(X), torch.as_tensor(y)
    history = []
    for _ in range(epochs):
        total = 0.0
        for batch in torch.randperm(X.shape[0], generator=generator).split(batch_size):
            loss = torch.nn.functional.cross_entropy(net(inputs[batch]), labels[batch], reduction="sum")
            optimizer.zero_grad()
            (loss / batch.shape[0]).backward()
            optimizer.step()
            total += float(loss.detach())
        history.append(total / X.shape[0])
    with torch.no_grad():
        expected = net(inputs).double().numpy()

    scores = model.decision_function(X)
    assert scores.dtype == np.float64 and scores.shape == (X.shape[0], 3)
    np.testing.assert_allclose(scores, expected, rtol=1e-5, atol=1e-5 * np.abs(expected).max())
    np.testing.assert_allclose(model.history_, history, rtol=1e-5)
    assert model.n_iter_ == epochs and model.best_epoch_ == epochs - 1
    assert model.validation_history_.shape == (0,)


def test_architecture_and_fitted_attributes() -> None:
    X, y = multiclass()
    model = fit_quietly(MLPClassifier(hidden_layer_sizes=(8, 4), activation="tanh", max_epochs=2,
                                      random_state=0), X, y)
    layers = list(model.module_)
    assert [type(layer).__name__ for layer in layers] == ["Linear", "Tanh", "Linear", "Tanh", "Linear"]
    assert [(layer.in_features, layer.out_features) for layer in layers[::2]] == [(8, 8), (8, 4), (4, 3)]
    assert all(p.dtype == torch.float32 and p.device.type == "cpu" for p in model.module_.parameters())
    assert model.loss_function_ == "cross_entropy" and model.target_type_ == "multiclass"
    assert model.n_features_in_ == 8
    np.testing.assert_array_equal(model.classes_, [0, 1, 2])
    # () is a linear model: one Linear to the single binary logit
    Xb, yb = binary()
    linear = fit_quietly(full_batch(hidden_layer_sizes=(), max_epochs=100, learning_rate=0.05), Xb, yb)
    assert [type(layer).__name__ for layer in linear.module_] == ["Linear"]
    assert linear.module_[0].out_features == 1 and linear.decision_function(Xb).shape == (Xb.shape[0],)
    assert linear.score(Xb, yb) > 0.95


def test_predictions_are_the_logits() -> None:
    X, y = multiclass()
    labels = np.array(["a", "b", "c"])
    names = labels[y]
    model = fit_quietly(full_batch(), X, names)
    scores = model.decision_function(X)
    proba = model.predict_proba(X)
    np.testing.assert_allclose(proba, crossent.softmax(scores, axis=-1), rtol=1e-12)
    np.testing.assert_allclose(np.exp(model.predict_log_proba(X)), proba, rtol=1e-12)
    np.testing.assert_array_equal(model.predict(X), labels[np.argmax(scores, axis=1)])
    np.testing.assert_array_equal(model.classes_, labels)
    # a row's logits depend on the rows predicted with it by float64 rounding only (float32
    # products differ by about 1e-7 relative with the number of rows)
    np.testing.assert_allclose(model.decision_function(X[5:6])[0], scores[5], rtol=1e-12)


# ---------------------------------------------------------------- identities


def test_binary_softmax_on_zero_and_z_is_binary_cross_entropy() -> None:
    # softmax([0, z]) = [σ(-z), σ(z)]: cross-entropy on [0, z] is binary cross-entropy on z
    X, y = binary()
    softmax = fit_quietly(full_batch(), X, y)
    sigmoid = fit_quietly(full_batch(loss="binary_cross_entropy"), X, y)
    assert softmax.loss_function_ == "cross_entropy" and sigmoid.loss_function_ == "binary_cross_entropy"
    scores = softmax.decision_function(X)
    assert scores.shape == (X.shape[0],)
    np.testing.assert_allclose(sigmoid.decision_function(X), scores, rtol=RTOL, atol=RTOL * np.abs(scores).max())
    np.testing.assert_allclose(sigmoid.history_, softmax.history_, rtol=RTOL)


@pytest.mark.parametrize("loss", ["cross_entropy", "focal"])
def test_sample_weight_two_is_the_row_twice(loss: str) -> None:
    # Σ sᵢ ℓᵢ / Σ sᵢ with sᵢ = 2 is the objective of the row given twice (full batch: one step
    # per epoch on the same objective)
    X, y = multiclass()
    weights = np.where(np.random.default_rng(0).random(X.shape[0]) < 0.3, 2, 1)
    weighted = fit_quietly(full_batch(loss=loss), X, y, sample_weight=weights.astype(float))
    repeated = fit_quietly(full_batch(loss=loss), np.repeat(X, weights, axis=0), np.repeat(y, weights))
    expected = repeated.decision_function(X)
    np.testing.assert_allclose(weighted.decision_function(X), expected, rtol=RTOL,
                               atol=RTOL * np.abs(expected).max())
    np.testing.assert_allclose(weighted.history_, repeated.history_, rtol=RTOL)
    # and the weights change the model
    plain = fit_quietly(full_batch(loss=loss), X, y).decision_function(X)
    assert np.abs(plain - expected).max() > 100 * RTOL * np.abs(expected).max()


# ---------------------------------------------------------------- determinism


def test_a_random_state_gives_the_same_fit_and_leaves_the_global_rngs_alone() -> None:
    X, y = multiclass()
    model = MLPClassifier(hidden_layer_sizes=(16,), learning_rate=0.01, batch_size=32, max_epochs=30)
    torch_state, numpy_state = torch.get_rng_state(), np.random.get_state()
    first = fit_quietly(model.set_params(random_state=0), X, y)
    scores, epochs = first.decision_function(X), first.n_iter_
    assert torch.equal(torch.get_rng_state(), torch_state)
    assert all(np.array_equal(a, b) for a, b in zip(np.random.get_state(), numpy_state, strict=True))
    second = fit_quietly(model.set_params(random_state=0), X, y)
    np.testing.assert_array_equal(second.decision_function(X), scores)
    assert second.n_iter_ == epochs
    other = fit_quietly(model.set_params(random_state=1), X, y).decision_function(X)
    assert np.abs(other - scores).max() > 1e-3


def test_n_threads_is_set_during_fit_and_restored(monkeypatch: pytest.MonkeyPatch) -> None:
    X, y = multiclass()
    calls: list[int] = []
    set_num_threads = torch.set_num_threads

    def spy(n: int) -> None:
        calls.append(n)
        set_num_threads(n)

    set_num_threads(1)
    monkeypatch.setattr(torch, "set_num_threads", spy)
    model = fit_quietly(full_batch(max_epochs=2, n_threads=2), X, y)
    assert calls == [2, 1] and torch.get_num_threads() == 1
    model.decision_function(X)
    assert calls == [2, 1, 2, 1]
    fit_quietly(full_batch(max_epochs=2), X, y)
    assert calls == [2, 1, 2, 1]


def test_device_accepts_torch_devices() -> None:
    X, y = multiclass()
    by_name = fit_quietly(full_batch(max_epochs=3), X, y).decision_function(X)
    by_device = fit_quietly(full_batch(max_epochs=3, device=torch.device("cpu")), X, y).decision_function(X)
    np.testing.assert_array_equal(by_device, by_name)


# ---------------------------------------------------------------- every loss trains

# (loss, loss_options, class_weight); a constant predictor scores 0.63 (binary) and 0.34
# (multiclass) here, and a linear model 0.99 and 0.9.
BINARY_CASES = [
    ("focal", None, None),
    ("poly1", None, None),
    ("logit_adjusted", None, None),
    ("cross_entropy", {"label_smoothing": 0.1}, None),
    ("cross_entropy", None, "balanced"),
    ("binary_focal", {"alpha": 0.25}, None),
    ("binary_cross_entropy", None, "balanced"),
]
MULTICLASS_CASES = [
    ("focal", {"gamma": 1.0}, None),
    ("poly1", None, None),
    ("logit_adjusted", None, None),
    ("cross_entropy", {"label_smoothing": 0.1}, None),
    ("cross_entropy", None, "balanced"),
    ("categorical_cross_entropy", None, None),
]
MULTILABEL_CASES = [
    ("asymmetric", None, None),
    ("binary_cross_entropy", None, None),
    ("focal", None, None),
    ("cross_entropy", None, "balanced"),
]


def trained(loss: str, options: Any, class_weight: Any, X: Any, y: Any) -> MLPClassifier:
    model = MLPClassifier(loss=loss, loss_options=options, class_weight=class_weight, hidden_layer_sizes=(32,),
                          learning_rate=0.01, batch_size=64, max_epochs=100, random_state=0)
    model = fit_quietly(model, X, y)
    assert model.history_.shape == (model.n_iter_,) and np.all(np.isfinite(model.history_))
    assert model.validation_history_.shape == (model.n_iter_,)
    assert model.history_[-1] < model.history_[0]
    return model


@pytest.mark.parametrize(("loss", "options", "class_weight"), BINARY_CASES)
def test_every_loss_trains_on_a_binary_problem(loss: str, options: Any, class_weight: Any) -> None:
    X, y = binary()
    model = trained(loss, options, class_weight, X, y)
    assert model.decision_function(X).shape == (X.shape[0],)
    assert model.score(X, y) > 0.95


@pytest.mark.parametrize(("loss", "options", "class_weight"), MULTICLASS_CASES)
def test_every_loss_trains_on_a_multiclass_problem(loss: str, options: Any, class_weight: Any) -> None:
    X, y = multiclass()
    model = trained(loss, options, class_weight, X, y)
    assert model.score(X, y) > 0.9


@pytest.mark.parametrize(("loss", "options", "class_weight"), MULTILABEL_CASES)
def test_every_loss_trains_on_a_multilabel_problem(loss: str, options: Any, class_weight: Any) -> None:
    X, Y = multilabel()
    model = trained(loss, options, class_weight, X, Y)
    assert model.target_type_ == "multilabel-indicator"
    assert model.decision_function(X).shape == Y.shape and model.predict(X).shape == Y.shape
    # ranking, not the 0.5 threshold (which ASL and pos_weight move on purpose): a constant has a
    # macro ROC AUC of 0.5, a linear model 0.88
    assert roc_auc_score(Y, model.decision_function(X), average="macro") > 0.88


def test_class_weight_is_not_in_the_denominator() -> None:
    # a class weight c on every class multiplies each batch's objective by c (AdamW then takes
    # nearly the same steps): the objective, not the model, is c times larger
    X, y = multiclass()
    plain = fit_quietly(full_batch(max_epochs=1), X, y)
    tripled = fit_quietly(full_batch(max_epochs=1, class_weight={0: 3.0, 1: 3.0, 2: 3.0}), X, y)
    np.testing.assert_allclose(tripled.history_, 3 * plain.history_, rtol=1e-6)


# ---------------------------------------------------------------- stopping


@pytest.mark.parametrize("weighted", [False, True])
def test_early_stopping_keeps_the_best_validation_epoch(weighted: bool) -> None:
    # noisy labels and a wide network: the validation objective turns up long before max_epochs
    X, y = multiclass(flip_y=0.4, n_samples=400)
    weights = np.random.default_rng(0).uniform(0.5, 2.0, size=y.shape[0]) if weighted else None
    model = MLPClassifier(hidden_layer_sizes=(64, 64), learning_rate=0.01, batch_size=64, max_epochs=500,
                          n_iter_no_change=5, random_state=3)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        model.fit(X, y, sample_weight=weights)
    history = model.validation_history_
    assert model.n_iter_ < 500 and history.shape == model.history_.shape == (model.n_iter_,)
    assert model.best_epoch_ == int(np.argmin(history))
    assert model.n_iter_ - 1 <= model.best_epoch_ + model.n_iter_no_change
    assert history[-1] > history[model.best_epoch_]

    # the restored parameters' validation objective Σ sᵢ ℓᵢ / Σ sᵢ over the held-out rows
    split, _, _ = seeds(3)
    _, held_out = train_test_split(np.arange(y.shape[0]), test_size=math.ceil(0.1 * y.shape[0]), stratify=y,
                                   random_state=split)
    w = np.ones(y.shape[0]) if weights is None else weights
    loss = crossent.cross_entropy(model.decision_function(X[held_out]), y[held_out], reduction="sum",
                                  sample_weight=w[held_out])
    assert float(loss) / w[held_out].sum() == pytest.approx(history.min(), rel=1e-5)


def test_without_early_stopping_the_training_objective_decides() -> None:
    X, y = binary()
    model = full_batch(max_epochs=1000, n_iter_no_change=3, tol=0.05).fit(X, y)
    assert model.n_iter_ < 1000 and model.best_epoch_ == model.n_iter_ - 1
    history = model.history_
    # the last epoch that improved on the best before it by more than tol (relative), then 3 more
    last_improvement = max([i for i in range(1, len(history))
                            if history[:i].min() - history[i] > 0.05 * history[:i].min()], default=0)
    assert model.n_iter_ == last_improvement + 1 + 3


def test_tiny_data_trains_without_early_stopping() -> None:
    X, y = multiclass()
    model = fit_quietly(MLPClassifier(max_epochs=3, random_state=0), X[:15], y[:15])  # 1.5 validation rows
    assert model.validation_history_.shape == (0,) and model.n_iter_ == 3


@pytest.mark.parametrize("early_stopping", [False, True])
def test_max_epochs_warns(early_stopping: bool) -> None:
    X, y = binary()
    with pytest.warns(ConvergenceWarning, match="max_epochs=3"):
        model = MLPClassifier(max_epochs=3, early_stopping=early_stopping, random_state=0).fit(X, y)
    assert model.n_iter_ == 3


def test_verbose_prints_every_epoch(capsys: pytest.CaptureFixture[str]) -> None:
    X, y = binary()
    fit_quietly(MLPClassifier(max_epochs=2, verbose=1, random_state=0), X, y)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2 and lines[1].startswith("[MLPClassifier] epoch 2: training objective")
    assert "validation objective" in lines[1]


# ---------------------------------------------------------------- errors


@pytest.mark.parametrize(("params", "match"), [
    ({"hidden_layer_sizes": (8, 0)}, "hidden_layer_sizes must be a tuple of positive ints"),
    ({"hidden_layer_sizes": 64}, r"hidden_layer_sizes must be a tuple of positive ints .*got 64"),
    ({"hidden_layer_sizes": (8.0,)}, "hidden_layer_sizes must be a tuple of positive ints"),
    ({"activation": "sigmoid"}, "activation must be one of 'relu', 'tanh', 'gelu', got 'sigmoid'"),
    ({"learning_rate": 0.0}, "learning_rate must be a positive number, got 0.0"),
    ({"weight_decay": -1.0}, "weight_decay must be a non-negative number, got -1.0"),
    ({"batch_size": 0}, "batch_size must be a positive int, got 0"),
    ({"batch_size": 32.0}, "batch_size must be a positive int, got 32.0"),
    ({"max_epochs": 0}, "max_epochs must be a positive int, got 0"),
    ({"validation_fraction": 0.0}, r"validation_fraction must be a number in \(0, 1\), got 0.0"),
    ({"validation_fraction": 1.0}, r"validation_fraction must be a number in \(0, 1\), got 1.0"),
    ({"n_iter_no_change": 0}, "n_iter_no_change must be a positive int, got 0"),
    ({"tol": -1e-3}, "tol must be a non-negative number, got -0.001"),
    ({"n_threads": 0}, "n_threads must be a positive int or None, got 0"),
    ({"early_stopping": "yes"}, "early_stopping must be True or False, got 'yes'"),
    ({"verbose": -1}, "verbose must be a non-negative int, got -1"),
    ({"device": "nonexistent"}, "device must be a torch device available here, got 'nonexistent'"),
    ({"device": "cuda:99"}, "device must be a torch device available here, got 'cuda:99'"),
    ({"device": 0}, "device must be a torch device string"),
    ({"loss": "hinge"}, "loss must be one of 'cross_entropy'"),
    ({"loss_options": {"reduction": "mean"}}, "may not set 'reduction'"),
    ({"class_weight": "inverse"}, "class_weight must be None, a dict"),
])
def test_errors_name_the_argument(params: dict[str, Any], match: str) -> None:
    X, y = multiclass()
    with pytest.raises(ValueError, match=match):
        MLPClassifier(**params).fit(X, y)


def test_without_torch_the_error_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    X, y = multiclass()
    monkeypatch.setitem(sys.modules, "torch", None)  # import torch raises ModuleNotFoundError
    with pytest.raises(ModuleNotFoundError, match=r"^MLPClassifier needs PyTorch: pip install 'crossent\[torch\]'$"):
        MLPClassifier().fit(X, y)


def test_importing_the_module_does_not_import_torch() -> None:
    code = "import sys, crossent.models._mlp; print('torch' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout.split() == ["False"]


# ---------------------------------------------------------------- the estimator contract


def expected_failures(estimator: MLPClassifier) -> dict[str, str]:
    why = ("float32 training: weighting a row k times and repeating it k times give the same objective, "
           "whose float32 sums differ in rounding (about 1e-6 relative after training, above the check's "
           "rtol=1e-7); test_sample_weight_two_is_the_row_twice holds them at float32 tolerance")
    if estimator.early_stopping:
        why = "early stopping holds out different rows of the repeated data than of the weighted; " + why
    return {"check_sample_weight_equivalence_on_dense_data": why}


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")  # max_epochs=20 on purpose: fast
@parametrize_with_checks([
    MLPClassifier(hidden_layer_sizes=(8,), learning_rate=0.05, max_epochs=20, early_stopping=False),
    MLPClassifier(loss="binary_focal", class_weight="balanced", hidden_layer_sizes=(8,), learning_rate=0.05,
                  max_epochs=20),
], expected_failed_checks=expected_failures)
def test_scikit_learn_estimator_checks(estimator: Any, check: Any) -> None:
    check(estimator)
