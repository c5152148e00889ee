"""crossent.metrics.fit_calibration: bias-corrected temperature scaling, p = softmax(z / T + b).

- two classes (one logit): equals Platt scaling on the logit, scikit-learn's logistic regression;
- "temperature" equals fit_temperature;
- multiclass: recovers the T and b the labels were drawn with (within standard errors from the
  observed information), the gradient is zero at the optimum and matches finite differences;
- the fitted log loss is never above the raw one (the identity is feasible);
- sample weights equal repeated rows; separated logits run 1/T to its bound;
- "bias" undoes a logit adjustment z + log w exactly;
- the protocol's calibration step (crossent.selection._calibrate) and its fallbacks.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from conftest import sigmoid_array, softmax_rows
from crossent.metrics import Calibration, fit_calibration, fit_temperature
from crossent.metrics._inputs import targets
from crossent.metrics._recalibration import BETA_BOUNDS, METHODS, logit_log_loss, loss_and_grad
from crossent.selection._calibrate import calibrate

KINDS = ("binary", "multiclass", "multilabel")


def draw(kind: str, temperature: float, bias: np.ndarray, n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Logits z and labels drawn from softmax(z / T + b) (multiclass) or sigmoid(z / T + b)."""
    rng = np.random.default_rng(seed)
    if kind == "multiclass":
        z = rng.normal(scale=3.0, size=(n, len(bias)))
        p = softmax_rows(z / temperature + bias)
        return z, (np.cumsum(p, axis=1) > rng.random((n, 1))).argmax(axis=1)
    z = rng.normal(scale=3.0, size=n if kind == "binary" else (n, len(bias)))
    return z, (rng.random(z.shape) < sigmoid_array(z / temperature + bias)).astype(np.int64)


TRUE = {"binary": (2.0, np.array([0.7])), "multiclass": (2.0, np.array([0.6, -0.4, 0.1, -0.3])),
        "multilabel": (0.5, np.array([1.0, -1.0, 0.0]))}


def data(kind: str, n: int = 3000, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    temperature, bias = TRUE[kind]
    return draw(kind, temperature, bias, n, seed)


def _objective(z: np.ndarray, y: np.ndarray, beta: float, bias: np.ndarray) -> float:
    return logit_log_loss(beta * z + bias, y)


# ---------------------------------------------------------------------------------------------
# against peers and against the definition


def test_two_classes_is_platt_scaling_on_the_logit() -> None:
    linear_model = pytest.importorskip("sklearn.linear_model")
    z, y = data("binary")
    fitted = fit_calibration(z, y)
    reference = linear_model.LogisticRegression(C=1e12, tol=1e-12, max_iter=10_000).fit(z[:, None], y)
    assert fitted.bias.shape == (1,)
    np.testing.assert_allclose(1 / fitted.temperature, reference.coef_[0, 0], rtol=1e-6)
    np.testing.assert_allclose(fitted.bias[0], reference.intercept_[0], atol=1e-6)


@pytest.mark.parametrize("kind", KINDS)
def test_temperature_method_is_fit_temperature(kind: str) -> None:
    z, y = data(kind)
    fitted = fit_calibration(z, y, method="temperature")
    assert fitted.temperature == fit_temperature(z, y)
    assert not fitted.bias.any() and not fitted.at_bound


def test_multiclass_recovers_the_temperature_and_bias_within_standard_errors() -> None:
    temperature, bias = TRUE["multiclass"]
    z, y = draw("multiclass", temperature, bias, n=40_000, seed=3)
    fitted = fit_calibration(z, y)
    assert math.isclose(fitted.bias.sum(), 0, abs_tol=1e-12)
    # compare in the gauge b_0 = 0, where the information matrix is invertible
    estimate = np.r_[1 / fitted.temperature, fitted.bias[1:] - fitted.bias[0]]
    truth = np.r_[1 / temperature, bias[1:] - bias[0]]
    hessian = _gauge_fixed_hessian(targets(y, z, None, logits=True), estimate)
    standard_error = np.sqrt(np.diag(np.linalg.inv(hessian)) / len(y))  # the mean loss's Hessian / N
    assert (np.abs(estimate - truth) < 4 * standard_error).all(), (estimate, truth, standard_error)


def _gauge_fixed_hessian(t: object, theta: np.ndarray, h: float = 1e-5) -> np.ndarray:
    """The Hessian of the mean log loss in (β, b_1..b_{C-1}), b_0 = 0: central differences of
    the closed-form gradient."""
    def grad(th: np.ndarray) -> np.ndarray:
        _, d_beta, d_bias = loss_and_grad(t, th[0], np.r_[0.0, th[1:]])  # type: ignore[arg-type]
        return np.r_[d_beta, d_bias[1:]]

    columns = [(grad(theta + h * e) - grad(theta - h * e)) / (2 * h) for e in np.eye(len(theta))]
    hessian = np.array(columns)
    return (hessian + hessian.T) / 2


@pytest.mark.parametrize("kind", KINDS)
def test_gradient_matches_finite_differences_and_vanishes_at_the_optimum(kind: str) -> None:
    z, y = data(kind, n=1000)
    t = targets(y, z, None, logits=True)
    rng = np.random.default_rng(1)
    h = 1e-6

    def numeric(beta: float, bias: np.ndarray) -> np.ndarray:
        d_beta = (_objective(z, y, beta + h, bias) - _objective(z, y, beta - h, bias)) / (2 * h)
        d_bias = [(_objective(z, y, beta, bias + h * e) - _objective(z, y, beta, bias - h * e)) / (2 * h)
                  for e in np.eye(len(bias))]
        return np.r_[d_beta, d_bias]

    beta, bias = 0.7, rng.normal(size=TRUE[kind][1].shape)
    value, d_beta, d_bias = loss_and_grad(t, beta, bias)
    assert math.isclose(value, _objective(z, y, beta, bias), rel_tol=1e-12)
    np.testing.assert_allclose(np.r_[d_beta, d_bias], numeric(beta, bias), atol=1e-7)

    fitted = fit_calibration(z, y)
    np.testing.assert_allclose(numeric(1 / fitted.temperature, fitted.bias), 0, atol=1e-7)


# ---------------------------------------------------------------------------------------------
# properties


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("kind", KINDS)
def test_the_fitted_log_loss_is_never_above_the_raw_one(kind: str, method: str) -> None:
    for seed, temperature in enumerate((0.3, 1.0, 4.0)):
        z, y = draw(kind, temperature, TRUE[kind][1], n=500, seed=seed)
        fitted = fit_calibration(z, y, method=method)
        assert logit_log_loss(fitted.apply(z), y) <= logit_log_loss(z, y) + 1e-12


@pytest.mark.parametrize("kind", KINDS)
def test_sample_weight_equals_repeated_rows(kind: str) -> None:
    z, y = data(kind, n=400)
    weights = np.random.default_rng(2).choice([1, 2], size=len(z))
    weighted = fit_calibration(z, y, sample_weight=weights)
    repeated = fit_calibration(np.repeat(z, weights, axis=0), np.repeat(y, weights, axis=0))
    # the same objective up to rounding; the optimizer stops within its tolerance of the optimum
    np.testing.assert_allclose(weighted.temperature, repeated.temperature, rtol=1e-7)
    np.testing.assert_allclose(weighted.bias, repeated.bias, atol=1e-7)


@pytest.mark.parametrize("kind", KINDS)
def test_separated_logits_run_to_the_bound(kind: str) -> None:
    rng = np.random.default_rng(4)
    if kind == "multiclass":
        y = rng.integers(0, 3, size=200)
        z = 2.0 * np.eye(3)[y] + rng.uniform(0, 0.5, size=(200, 3))  # the true class is ahead by > 1.5
    else:
        y = rng.integers(0, 2, size=200 if kind == "binary" else (200, 3))
        z = np.where(y == 1, 1.0, -1.0) * rng.uniform(0.5, 2.0, size=y.shape)
    fitted = fit_calibration(z, y)
    assert fitted.at_bound and math.isclose(1 / fitted.temperature, BETA_BOUNDS[1], rel_tol=1e-3)
    assert not fit_calibration(*data(kind)).at_bound
    assert fit_calibration(z, y, method="temperature").at_bound
    assert not fit_calibration(z, y, method="bias").at_bound  # T = 1 is not searched


@pytest.mark.parametrize("kind", KINDS)
def test_bias_undoes_a_logit_adjustment_exactly(kind: str) -> None:
    z, y = data(kind, n=20_000)
    z = z / TRUE[kind][0]  # calibrated logits: the labels were drawn from softmax(z + b)
    log_w = {"binary": np.array([math.log(5.0)]), "multiclass": np.log([1.0, 5.0, 10.0, 0.5]),
             "multilabel": np.log([3.0, 0.2, 8.0])}[kind]
    shift = log_w if kind != "binary" else log_w[0]
    raw, adjusted = fit_calibration(z, y, method="bias"), fit_calibration(z + shift, y, method="bias")
    gauge = log_w - log_w.mean() if kind == "multiclass" else log_w
    # equivariance, exact up to the optimizer's tolerance: b(z + s) = b(z) - s
    np.testing.assert_allclose(adjusted.bias, raw.bias - gauge, atol=1e-6)
    calibrated, reference = adjusted.apply(z + shift), raw.apply(z)
    if kind == "multiclass":  # softmax's gauge: the logits agree up to a shift of each row
        calibrated, reference = (a - a.mean(axis=1, keepdims=True) for a in (calibrated, reference))
    np.testing.assert_allclose(calibrated, reference, atol=1e-6)
    # and b(z) is the true bias, so b(z + s) recovers b - s, to sampling error (N = 20 000)
    truth = TRUE[kind][1] - TRUE[kind][1].mean() if kind == "multiclass" else TRUE[kind][1]
    np.testing.assert_allclose(adjusted.bias, truth - gauge, atol=0.1)


# ---------------------------------------------------------------------------------------------
# the Calibration object


@pytest.mark.parametrize("kind", KINDS)
def test_none_is_the_identity_and_apply_keeps_the_shape(kind: str) -> None:
    z, y = data(kind, n=50)
    identity = fit_calibration(z, y, method="none")
    assert identity.temperature == 1.0 and not identity.bias.any() and not identity.at_bound
    np.testing.assert_array_equal(identity.apply(z), z)
    fitted = fit_calibration(z, y)
    assert fitted.apply(z).shape == z.shape and fitted.apply(z).dtype == np.float64
    np.testing.assert_allclose(fitted.apply(z), z / fitted.temperature + fitted.bias)
    record = json.loads(json.dumps(fitted.to_dict()))
    assert record["method"] == "bias-corrected" and len(record["bias"]) == len(fitted.bias)


def test_errors_name_the_argument() -> None:
    z, y = data("multiclass", n=50)
    with pytest.raises(ValueError, match="method must be one of 'none', 'temperature', 'bias', 'bias-corrected'"):
        fit_calibration(z, y, method="platt")
    with pytest.raises(ValueError, match="logits"):
        fit_calibration(z[:, :2], y)  # labels beyond the columns
    with pytest.raises(ValueError, match="do not match this calibration, fitted on 4 columns"):
        fit_calibration(z, y).apply(z[:, :3])
    with pytest.raises(ValueError, match="fitted on one logit per sample"):
        fit_calibration(*data("binary", n=50)).apply(z)
    with pytest.raises(ValueError, match="temperature"):
        Calibration("temperature", 0.0, np.zeros(2), False)


# ---------------------------------------------------------------------------------------------
# the protocol's calibration step


def folds(n: int, k: int = 3) -> list[tuple[np.ndarray, np.ndarray]]:
    held = np.array_split(np.arange(n), k)
    return [(np.setdiff1d(np.arange(n), h), h) for h in held]


def test_calibrate_keeps_a_calibration_that_helps() -> None:
    z, y = data("multiclass", n=1500)
    z = 3 * z  # overconfident: T ≈ 6 helps on every fold
    calibration, notes = calibrate(z, y, folds(len(y)), "bias-corrected")
    assert calibration.method == "bias-corrected" and notes == []
    assert calibration.temperature == fit_calibration(z, y).temperature


def test_calibrate_none_is_the_identity_without_notes() -> None:
    z, y = data("binary", n=90)
    calibration, notes = calibrate(z, y, folds(90), "none")
    assert calibration.method == "none" and notes == []


@pytest.mark.parametrize(("method", "boundary", "fallback", "note"), [
    # separated at z = -1: with a bias, 1/T runs to its bound; the bias alone helps (b ≈ 1)
    ("bias-corrected", -1.0, "bias", "the held-out logits are separated (1/T runs to its bound): kept T = 1, "
                                     "fitted the bias only"),
    # separated at z = 0: 1/T alone runs to its bound
    ("temperature", 0.0, "none", "the held-out logits are separated (1/T runs to its bound): kept T = 1"),
])
def test_calibrate_falls_back_when_the_fit_runs_to_its_bound(method: str, boundary: float, fallback: str,
                                                             note: str) -> None:
    rng = np.random.default_rng(5)
    y = rng.integers(0, 2, size=300)
    z = np.where(y == 1, 1.0, -1.0) * rng.uniform(0.5, 3.0, size=300) + boundary
    calibration, notes = calibrate(z, y, folds(300), method)
    assert calibration.method == fallback and calibration.temperature == 1.0
    assert notes == [note]


@pytest.mark.parametrize("method", ["bias-corrected", "bias"])
def test_calibrate_falls_back_when_the_cross_fitted_loss_is_worse(method: str) -> None:
    # Constant logits (p = 1/2, calibrated overall: half the labels are 1) and folds whose class
    # balance differs (80%, 20%, 50% ones): a bias fitted on the other folds moves every
    # held-out fold's prediction away from its own frequency, so cross-fitting must lose.
    y = np.r_[np.ones(80), np.zeros(20), np.zeros(80), np.ones(20), np.ones(50), np.zeros(50)].astype(np.int64)
    z = np.zeros(len(y))
    calibration, notes = calibrate(z, y, folds(len(y)), method)
    assert calibration.method == "none"
    assert len(notes) == 1 and notes[0].endswith("raw): kept the raw logits")
    raw = logit_log_loss(z, y)
    assert f"vs {raw:.3f} raw" in notes[0] and "worse (" in notes[0]
    assert not notes[0].endswith(".") and "fold" not in notes[0]


def test_calibrate_checks_the_folds_and_the_method() -> None:
    z, y = data("binary", n=30)
    with pytest.raises(ValueError, match="exactly once"):
        calibrate(z, y, folds(30)[:2], "bias")
    with pytest.raises(ValueError, match="method must be one of"):
        calibrate(z, y, folds(30), "isotonic")


@pytest.mark.parametrize("kind", KINDS)
def test_a_start_reaches_the_same_calibration(kind: str) -> None:
    rng = np.random.default_rng(21)
    shape = {"binary": (800,), "multiclass": (800, 4), "multilabel": (800, 3)}[kind]
    z = 2.0 * rng.normal(size=shape)
    if kind == "multiclass":
        y = np.argmax(z / 1.7 + rng.gumbel(size=shape), axis=1)
    else:
        y = (rng.random(shape) < sigmoid_array(z / 1.7 - 0.8)).astype(np.int64)
    cold = fit_calibration(z, y)
    start = Calibration("bias-corrected", cold.temperature * 1.3, cold.bias + 0.2, False)
    warm = fit_calibration(z, y, start=start)
    assert warm.temperature == pytest.approx(cold.temperature, rel=1e-5)
    np.testing.assert_allclose(warm.bias, cold.bias, atol=1e-5)
    with pytest.raises(ValueError, match="start must be a Calibration"):
        fit_calibration(z, y, start=Calibration("bias", 1.0, np.zeros(7), False))
