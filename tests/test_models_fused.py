"""The model's fused objectives (models._linear._fused_objective on kernels/_numpy.py) against the
generic path they stand in for: crossent.value_and_grad is the oracle, on the two-class logits
[0, z] for binary problems and on (N, C) logits for multiclass ones."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

pytest.importorskip("sklearn")
pytest.importorskip("scipy")

import crossent
from crossent.kernels._numpy import binary_focal_poly1_sum
from crossent.models import LinearClassifier, _linear
from crossent.models._linear import _fused_objective

SKEWED = np.array([0.93, 0.07])
# (loss, options) of the binary cases; class weights are allowed in every one of them
BINARY_CASES = [
    *[("focal_loss", {"gamma": gamma}) for gamma in (0.0, 0.5, 1.0, 2.0, 3.0)],
    ("focal_loss", {"gamma": 2.0, "alpha": 0.25}),
    ("focal_loss", {"gamma": 0.5, "alpha": np.array([0.75, 0.25])}),
    ("focal_loss", {"gamma": 2.0, "label_smoothing": 0.1}),
    *[("poly1_cross_entropy", {"epsilon": epsilon}) for epsilon in (-1.0, 1.0, 2.0)],
    ("poly1_cross_entropy", {"epsilon": -1.0, "label_smoothing": 0.2}),
    *[("cross_entropy", {"label_smoothing": smoothing}) for smoothing in (0.05, 0.2, 1.0)],
    *[("logit_adjusted_cross_entropy", {"priors": SKEWED, "tau": tau}) for tau in (0.5, 1.0, 1.5)],
    ("logit_adjusted_cross_entropy", {"priors": np.array([40.0, 3.0]), "label_smoothing": 0.05}),
]


def case_id(case: tuple[str, dict[str, Any]]) -> str:
    loss, options = case
    return loss + ":" + ",".join(f"{k}={np.asarray(v).tolist()}" for k, v in options.items())


def binary_problem(n: int, seed: int) -> tuple[Any, Any]:
    """Logits up to ±30 (and exactly 0, ±30), 5-10% positives."""
    rng = np.random.default_rng(seed)
    z = np.clip(rng.normal(scale=8.0, size=n), -30.0, 30.0)
    z[:5] = [0.0, 30.0, -30.0, 0.0, 1e-300]
    labels = (rng.random(n) < 0.08).astype(np.int64)
    labels[:5] = [0, 1, 0, 1, 1]
    return z, labels


def model_options(options: dict[str, Any], n: int, weighted: bool, class_weight: Any, seed: int) -> dict[str, Any]:
    """The options as LinearClassifier passes them: reduction "sum", weights inside."""
    options = dict(options, reduction="sum")
    if weighted:
        options["sample_weight"] = np.random.default_rng(seed).uniform(0.0, 3.0, size=n)
    if class_weight is not None:
        options["weight"] = class_weight
    return options


def assert_same(value: float, grad: Any, expected: Any, expected_grad: Any) -> None:
    # the generic core takes q = 1 - p, which loses q's digits as p → 1 (the kernel's q is exact):
    # gradient entries far below the largest agree to 1e-12 of the largest, not of their own
    np.testing.assert_allclose(value, float(expected), rtol=1e-12)
    scale = np.abs(expected_grad).max()
    np.testing.assert_allclose(grad, expected_grad, rtol=1e-12, atol=1e-12 * scale)


@pytest.mark.parametrize("class_weight", [None, np.array([0.6, 4.0]), np.array([2.0, 2.0])], ids=["", "cw", "cw=="])
@pytest.mark.parametrize("weighted", [False, True], ids=["", "sw"])
@pytest.mark.parametrize("case", BINARY_CASES, ids=case_id)
def test_binary_fused_objective_is_the_two_class_softmax(case: Any, weighted: bool, class_weight: Any) -> None:
    loss, options = case
    n = 301
    z, labels = binary_problem(n, seed=len(case_id(case)))
    options = model_options(options, n, weighted, class_weight, seed=7)
    kernel = _fused_objective(loss, labels, options, 2, True)
    assert kernel is not None
    value, grad = kernel(z[None, :].copy())
    assert grad.shape == (1, n)
    expected, expected_grad = crossent.value_and_grad(loss, np.stack([np.zeros(n), z], axis=1), labels, **options)
    assert_same(value, grad[0], expected, expected_grad[:, 1])


@pytest.mark.parametrize("case", [BINARY_CASES[3], BINARY_CASES[12]], ids=case_id)
def test_binary_fused_objective_is_the_numba_kernel(case: Any) -> None:
    # above _cpu.MIN_ELEMENTS value_and_grad hands NumPy calls to the Numba kernel: the same numbers
    loss, options = case
    n = 40_000
    z, labels = binary_problem(n, seed=3)
    options = model_options(options, n, True, np.array([0.6, 4.0]), seed=8)
    value, grad = _fused_objective(loss, labels, options, 2, True)(z[None, :].copy())  # type: ignore[misc]
    expected, expected_grad = crossent.value_and_grad(loss, np.stack([np.zeros(n), z], axis=1), labels, **options)
    assert_same(value, grad[0], expected, expected_grad[:, 1])


@pytest.mark.parametrize("class_weight", [None, np.array([0.5, 1.0, 3.0, 0.0, 2.0])], ids=["", "cw"])
@pytest.mark.parametrize("weighted", [False, True], ids=["", "sw"])
@pytest.mark.parametrize("tau", [0.5, 1.0, 1.5])
def test_multiclass_logit_adjustment_is_the_plain_kernel_on_shifted_logits(tau: float, weighted: bool,
                                                                          class_weight: Any) -> None:
    rng = np.random.default_rng([int(10 * tau), weighted])
    n, c = 257, 5
    z = np.clip(rng.normal(scale=8.0, size=(n, c)), -30.0, 30.0)
    z[0] = 0.0
    labels = rng.integers(0, c, size=n)
    priors = np.array([0.6, 0.25, 0.1, 0.04, 0.01])
    options = model_options({"priors": priors, "tau": tau}, n, weighted, class_weight, seed=9)
    kernel = _fused_objective("logit_adjusted_cross_entropy", labels, options, c, False)
    assert kernel is not None
    value, grad = kernel(np.ascontiguousarray(z.T))
    expected, expected_grad = crossent.value_and_grad("logit_adjusted_cross_entropy", z, labels, **options)
    assert_same(value, grad.T, expected, expected_grad)


MULTICLASS_CASES = [
    *[("focal_loss", {"gamma": gamma}) for gamma in (0.0, 0.5, 1.0, 2.0, 3.0)],
    ("focal_loss", {"gamma": 2.0, "alpha": 0.25}),
    ("focal_loss", {"gamma": 0.5, "alpha": np.array([0.1, 0.2, 0.3, 0.25, 0.15])}),
    *[("poly1_cross_entropy", {"epsilon": epsilon}) for epsilon in (-1.0, 1.0, 2.0)],
    *[("cross_entropy", {"label_smoothing": smoothing}) for smoothing in (0.05, 0.2, 1.0)],
    ("logit_adjusted_cross_entropy", {"priors": np.array([0.6, 0.25, 0.1, 0.04, 0.01]), "label_smoothing": 0.1}),
]


@pytest.mark.parametrize("class_weight", [None, np.array([0.5, 1.0, 3.0, 0.0, 2.0])], ids=["", "cw"])
@pytest.mark.parametrize("weighted", [False, True], ids=["", "sw"])
@pytest.mark.parametrize("case", MULTICLASS_CASES, ids=case_id)
def test_multiclass_fused_objective_is_the_softmax_loss(case: Any, weighted: bool, class_weight: Any) -> None:
    loss, options = case
    rng = np.random.default_rng([len(case_id(case)), weighted])
    n, c = 257, 5
    z = np.clip(rng.normal(scale=6.0, size=(n, c)), -30.0, 30.0)
    z[0] = 0.0  # a tie of every class
    z[1] = [30.0, -30.0, -30.0, -30.0, -30.0]  # the label's class dominates (q ~ 1e-26)
    labels = rng.integers(0, c, size=n)
    labels[:2] = 0
    options = model_options(options, n, weighted, class_weight, seed=11)
    kernel = _fused_objective(loss, labels, options, c, False)
    assert kernel is not None
    value, grad = kernel(np.ascontiguousarray(z.T))
    expected, expected_grad = crossent.value_and_grad(loss, z, labels, **options)
    assert_same(value, grad.T, expected, expected_grad)


@pytest.mark.parametrize("epsilon", [0.0, -1.0, 2.0])
@pytest.mark.parametrize("gamma", [0.0, 0.5, 2.0])
def test_focal_poly1_kernel_is_exact_where_p_or_q_underflows(gamma: float, epsilon: float) -> None:
    # each sample's value and du-derivative against 800-digit arithmetic (enough that p q - q
    # keeps its digits at q ~ 1e-304), up to |u| = 700
    mpmath = pytest.importorskip("mpmath")
    margins = np.array([-700.0, -30.0, -5.0, -1e-8, 0.0, 1e-8, 5.0, 30.0, 300.0, 700.0])
    with mpmath.workdps(800):
        for u in margins:
            p, q = 1 / (1 + mpmath.exp(-u)), 1 / (1 + mpmath.exp(u))
            ell = -mpmath.log(p)
            expected = q**gamma * ell + epsilon * q
            expected_grad = -(q**gamma) * (gamma * p * ell + q) - epsilon * p * q
            # Poly-1 at ε < 0 is a difference, ℓ - |ε| q: exact to a rounding of its terms
            terms = q**gamma * ell + abs(epsilon) * q
            value, grad = binary_focal_poly1_sum(np.array([u]), None, gamma=gamma, epsilon=epsilon)
            assert abs(value - float(expected)) <= 1e-14 * float(terms), u
            np.testing.assert_allclose(grad[0], float(expected_grad), rtol=1e-14, err_msg=f"u={u}")


# ---------------------------------------------------------------- the model


def imbalanced(n: int = 600, f: int = 6, classes: int = 2) -> tuple[Any, Any]:
    rng = np.random.default_rng(classes)
    X = rng.standard_normal((n, f))
    scores = X @ rng.standard_normal((f, classes)) + np.log(np.linspace(1.0, 0.08, classes))
    y = np.argmax(scores + rng.gumbel(size=(n, classes)), axis=1)
    return X, y


def generic_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_linear, "_fused_objective", lambda *args, **kwargs: None)


MODEL_CASES = [
    ("focal", {"gamma": 2.0}, None),
    ("focal", {"gamma": 0.5, "alpha": 0.25}, "balanced"),
    ("cross_entropy", {"label_smoothing": 0.1}, None),
    ("cross_entropy", {"label_smoothing": 0.2}, "balanced"),
    ("logit_adjusted", {}, None),
    ("logit_adjusted", {"tau": 1.5}, "balanced"),
    ("poly1", {}, None),
    ("poly1", {"epsilon": -1.0}, "balanced"),
]


@pytest.mark.parametrize("weighted", [False, True], ids=["", "sw"])
@pytest.mark.parametrize(("loss", "options", "class_weight"), MODEL_CASES)
def test_fused_fit_is_the_generic_fit(loss: str, options: Any, class_weight: Any, weighted: bool,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    X, y = imbalanced()
    sample_weight = np.random.default_rng(1).uniform(0.2, 2.0, size=y.shape[0]) if weighted else None

    def fit() -> LinearClassifier:
        return LinearClassifier(loss, loss_options=options, class_weight=class_weight).fit(
            X, y, sample_weight=sample_weight)

    fused = fit()
    generic_path(monkeypatch)
    generic = fit()
    theta = np.r_[generic.coef_.ravel(), generic.intercept_]
    np.testing.assert_allclose(np.r_[fused.coef_.ravel(), fused.intercept_], theta, rtol=1e-8,
                               atol=1e-8 * np.abs(theta).max())
    np.testing.assert_allclose(fused.history_[0], generic.history_[0], rtol=1e-13)


@pytest.mark.parametrize(("loss", "options"), [
    ("logit_adjusted", {}), ("focal", {"gamma": 2.0}), ("focal", {"gamma": 0.5}), ("poly1", {}),
    ("cross_entropy", {"label_smoothing": 0.1}),
])
def test_multiclass_fused_fit_is_the_generic_fit(loss: str, options: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    X, y = imbalanced(classes=4)
    fused = LinearClassifier(loss, loss_options=options, class_weight="balanced").fit(X, y)
    generic_path(monkeypatch)
    generic = LinearClassifier(loss, loss_options=options, class_weight="balanced").fit(X, y)
    np.testing.assert_allclose(fused.coef_, generic.coef_, rtol=1e-8, atol=1e-8 * np.abs(generic.coef_).max())


def calls_to_the_generic_path(monkeypatch: pytest.MonkeyPatch, X: Any, y: Any, loss: str, options: Any) -> int:
    calls = []
    original = _linear.value_and_grad

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(_linear, "value_and_grad", counted)
    LinearClassifier(loss, loss_options=options).fit(X, y)
    return len(calls)


@pytest.mark.parametrize(("loss", "options", "classes"), [
    ("cross_entropy", {"z_loss": 1e-3}, 2),
    ("cross_entropy", {"logit_softcap": 5.0}, 2),
    ("logit_adjusted", {"z_loss": 1e-3}, 2),
    ("focal", {"gamma": 2.0, "label_smoothing": 0.1}, 3),  # multiclass smoothed focal: the generic path
    ("cross_entropy", {"z_loss": 1e-3}, 3),
])
def test_options_not_covered_take_the_generic_path(loss: str, options: Any, classes: int,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    X, y = imbalanced(classes=classes)
    assert calls_to_the_generic_path(monkeypatch, X, y, loss, options) > 0


@pytest.mark.parametrize(("loss", "options", "classes"), [
    ("focal", {"gamma": 2.0}, 2), ("poly1", {}, 2), ("cross_entropy", {"label_smoothing": 0.1}, 2),
    ("logit_adjusted", {}, 2), ("logit_adjusted", {}, 3), ("cross_entropy", {}, 3),
    ("focal", {"gamma": 2.0}, 3), ("poly1", {}, 3), ("cross_entropy", {"label_smoothing": 0.1}, 3),
])
def test_covered_options_never_call_the_generic_path(loss: str, options: Any, classes: int,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    X, y = imbalanced(classes=classes)
    assert calls_to_the_generic_path(monkeypatch, X, y, loss, options) == 0


@pytest.mark.parametrize(("loss", "options", "message"), [
    ("focal", {"gamma": -1.0}, "gamma"),
    ("poly1", {"epsilon": -2.0}, "epsilon"),
    ("cross_entropy", {"label_smoothing": 1.5}, "label_smoothing"),
    ("logit_adjusted", {"priors": [0.5, 0.0]}, "priors"),
    ("focal", {"alpha": -0.25}, "alpha"),
])
def test_invalid_options_raise_the_generic_error(loss: str, options: Any, message: str) -> None:
    X, y = imbalanced()
    with pytest.raises(ValueError, match=message):
        LinearClassifier(loss, loss_options=options).fit(X, y)
