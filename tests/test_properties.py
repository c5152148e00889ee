"""Properties every loss must have, whatever the inputs: hypothesis on NumPy, and a seeded set on
every backend.

Shift invariance, focal(γ=0) = CE, smoothing 0 = default, one-hot = labels, ``axis=k`` =
moveaxis, mean = sum / Σw, loss ≥ 0, value_and_grad = finite differences, base 2 = nats / ln 2,
and the degenerate options that reduce one loss to another (Poly-1 ε=0, logit adjustment τ=0,
asymmetric γ⁺=γ⁻=m=0, binary focal γ=0 without α).
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import crossent
from conftest import assert_close, rtol

SETTINGS = settings(max_examples=40, deadline=None)
REDUCTIONS = ("none", "mean", "sum")
SOFTMAX = ("cross_entropy", "focal_loss", "poly1_cross_entropy", "logit_adjusted_cross_entropy")
BINARY = ("binary_cross_entropy", "binary_focal_loss", "asymmetric_loss")
IGNORE = -100


class Problem(NamedTuple):
    prediction: np.ndarray
    target: np.ndarray
    options: dict[str, Any]


def _floats(low: float, high: float) -> st.SearchStrategy[float]:
    return st.floats(low, high, allow_nan=False, allow_infinity=False)


def _array(draw: Any, shape: tuple[int, ...], low: float, high: float) -> np.ndarray:
    return draw(hnp.arrays(np.float64, shape, elements=_floats(low, high)))


def _weights(draw: Any, shape: tuple[int, ...]) -> np.ndarray:
    """Non-negative weights: 0 or in [1e-3, 3] (subnormal weights overflow 1 / Σw, see the report)."""
    return draw(hnp.arrays(np.float64, shape, elements=st.just(0.0) | _floats(1e-3, 3.0)))


def _softmax(z: np.ndarray, axis: int = -1) -> np.ndarray:
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _one_hot(labels: np.ndarray, num_classes: int) -> np.ndarray:
    """One-hot rows; an ignored (out-of-range) label gives an all-zero row."""
    return (labels[..., None] == np.arange(num_classes)).astype(np.float64)


@st.composite
def softmax_problems(draw: Any, *, logit: float = 20.0, ignore: bool = True, smoothing: bool = True) -> Problem:
    """Logits [N, C], integer labels (some = IGNORE), and the options every softmax loss takes."""
    n, c = draw(st.integers(1, 6)), draw(st.integers(2, 5))
    logits = _array(draw, (n, c), -logit, logit)
    labels = draw(hnp.arrays(np.int64, (n,), elements=st.integers(0, c - 1)))
    options: dict[str, Any] = {}
    if draw(st.booleans()):
        options["weight"] = _weights(draw, (c,))
    if draw(st.booleans()):
        options["sample_weight"] = _weights(draw, (n,))
    if ignore and draw(st.booleans()):
        labels = np.where(draw(hnp.arrays(np.bool_, (n,))), IGNORE, labels)
        options["ignore_index"] = IGNORE
    if smoothing:
        options["label_smoothing"] = draw(st.sampled_from([0.0, 0.1, 1.0]) | _floats(0.0, 1.0))
    return Problem(logits, labels, options)


@st.composite
def loss_options(draw: Any, loss: str, num_classes: int, *, smooth: bool = False) -> dict[str, Any]:
    """The options of one loss; ``smooth`` keeps to infinitely differentiable settings (for finite
    differences: γ an integer, no clip kink near the inputs)."""
    if loss == "focal_loss":
        gammas = [0.0, 1.0, 2.0, 3.0] if smooth else [0.0, 0.5, 1.0, 2.0, 3.5]
        options = {"gamma": draw(st.sampled_from(gammas))}
        alpha = draw(st.sampled_from(["none", "scalar", "vector"]))
        if alpha == "scalar":
            options["alpha"] = draw(_floats(0.0, 2.0))
        elif alpha == "vector":
            options["alpha"] = _array(draw, (num_classes,), 0.0, 2.0)
        return options
    if loss == "poly1_cross_entropy":
        return {"epsilon": draw(st.sampled_from([-1.0, 0.0, 2.0]) | _floats(-1.0, 5.0))}
    if loss == "logit_adjusted_cross_entropy":
        return {"priors": _array(draw, (num_classes,), 1e-3, 1.0), "tau": draw(_floats(-2.0, 2.0))}
    if loss == "cross_entropy":
        options = {"z_loss": draw(st.sampled_from([0.0, 1e-2, 1.0]))}
        if draw(st.booleans()):
            options["logit_softcap"] = draw(_floats(1.0, 30.0))
        return options
    if loss == "binary_cross_entropy":
        return {}
    if loss == "binary_focal_loss":
        gammas = [0.0, 1.0, 2.0, 3.0] if smooth else [0.0, 0.5, 1.0, 2.0, 3.5]
        options = {"gamma": draw(st.sampled_from(gammas))}
        if draw(st.booleans()):
            options["alpha"] = draw(_floats(0.0, 1.0))
        return options
    assert loss == "asymmetric_loss"
    gammas = [0.0, 1.0, 2.0, 4.0] if smooth else [0.0, 0.5, 1.0, 4.0]
    return {"gamma_pos": draw(st.sampled_from(gammas)), "gamma_neg": draw(st.sampled_from(gammas)),
            "clip": draw(st.sampled_from([0.0, 0.05] if smooth else [0.0, 0.05, 0.2]))}


@st.composite
def binary_problems(draw: Any, *, logit: float = 20.0, pos_weight: bool = True, smoothing: bool = True) -> Problem:
    """Logits [N, L], 0/1 or soft targets, sample weights and pos_weight, label smoothing."""
    shape = (draw(st.integers(1, 5)), draw(st.integers(1, 4)))
    logits = _array(draw, shape, -logit, logit)
    if draw(st.booleans()):
        target = _array(draw, shape, 0.0, 1.0)
    else:
        target = draw(hnp.arrays(np.bool_, shape)).astype(np.float64)
    options: dict[str, Any] = {}
    if draw(st.booleans()):
        options["sample_weight"] = _weights(draw, draw(st.sampled_from([shape, (shape[0], 1), (shape[1],)])))
    if pos_weight and draw(st.booleans()):
        options["pos_weight"] = _weights(draw, (shape[1],))
    if smoothing:
        options["label_smoothing"] = draw(st.sampled_from([0.0, 0.2]) | _floats(0.0, 1.0))
    return Problem(logits, target, options)


def _binary_common(options: dict[str, Any]) -> dict[str, Any]:
    """The options every binary loss takes (asymmetric_loss has no pos_weight nor smoothing)."""
    return {key: value for key, value in options.items() if key == "sample_weight"}


def _total_weight(problem: Problem) -> float:
    """Σᵢ sᵢ·w[yᵢ] over the counted samples: the denominator of "mean" (integer labels)."""
    labels, options = problem.target, problem.options
    counted = labels != IGNORE
    n, c = problem.prediction.shape
    weight = options.get("weight", np.ones(c))
    sample = np.broadcast_to(options.get("sample_weight", 1.0), (n,))
    return float(np.sum(sample * np.where(counted, weight[np.where(counted, labels, 0)], 0.0)))


def _assert_same(loss: str, a: Problem, b: Problem, *, other: str | None = None,
                 reductions: tuple[str, ...] = REDUCTIONS, moved: tuple[int, int] | None = None) -> None:
    """``loss`` on ``a`` equals ``other`` (default ``loss``) on ``b``: values in every reduction and
    value_and_grad's gradients (``b``'s moved by ``np.moveaxis(g, *moved)`` first)."""
    other = other or loss
    for reduction in reductions:
        va = getattr(crossent, loss)(a.prediction, a.target, **a.options, reduction=reduction)
        vb = getattr(crossent, other)(b.prediction, b.target, **b.options, reduction=reduction)
        assert_close(va, vb)
        ga = crossent.value_and_grad(loss, a.prediction, a.target, **a.options, reduction=reduction)[1]
        gb = crossent.value_and_grad(other, b.prediction, b.target, **b.options, reduction=reduction)[1]
        assert_close(ga, gb if moved is None else np.moveaxis(gb, *moved))


# --- softmax family ------------------------------------------------------------------------------


@pytest.mark.parametrize("loss", SOFTMAX)
@SETTINGS
@given(data=st.data())
def test_shift_invariance(loss: str, data: st.DataObject) -> None:
    problem = data.draw(softmax_problems())
    options = {**problem.options, **data.draw(loss_options(loss, problem.prediction.shape[1]))}
    options.pop("z_loss", None)  # z-loss and soft-capping see the logits themselves: not invariant
    options.pop("logit_softcap", None)
    shift = data.draw(hnp.arrays(np.float64, (problem.prediction.shape[0], 1), elements=_floats(-50.0, 50.0)))
    shifted = Problem(problem.prediction + shift, problem.target, options)
    _assert_same(loss, Problem(problem.prediction, problem.target, options), shifted, reductions=("none",))


@SETTINGS
@given(problem=softmax_problems(), data=st.data())
def test_focal_gamma_zero_is_cross_entropy(problem: Problem, data: st.DataObject) -> None:
    options = {**problem.options, "gamma": 0.0}
    focal = Problem(problem.prediction, problem.target, options)
    _assert_same("focal_loss", focal, problem, other="cross_entropy")
    # the same from probabilities
    if data.draw(st.booleans()):
        p = _softmax(problem.prediction / 4)
        _assert_same("focal_loss", focal._replace(prediction=p, options={**options, "from_logits": False}),
                     problem._replace(prediction=p, options={**problem.options, "from_logits": False}),
                     other="cross_entropy")


@SETTINGS
@given(problem=binary_problems())
def test_binary_focal_gamma_zero_is_binary_cross_entropy(problem: Problem) -> None:
    focal = problem._replace(options={**problem.options, "gamma": 0.0, "alpha": None})
    _assert_same("binary_focal_loss", focal, problem, other="binary_cross_entropy")


@pytest.mark.parametrize("loss", [*SOFTMAX, "binary_cross_entropy", "binary_focal_loss"])
@SETTINGS
@given(data=st.data())
def test_label_smoothing_zero_is_the_default(loss: str, data: st.DataObject) -> None:
    if loss in BINARY:
        problem = data.draw(binary_problems(smoothing=False))
        options = {**problem.options, **data.draw(loss_options(loss, problem.prediction.shape[-1]))}
    else:
        problem = data.draw(softmax_problems(smoothing=False))
        options = {**problem.options, **data.draw(loss_options(loss, problem.prediction.shape[-1]))}
    plain = problem._replace(options=options)
    _assert_same(loss, plain._replace(options={**options, "label_smoothing": 0.0}), plain)


@pytest.mark.parametrize("loss", SOFTMAX)
@SETTINGS
@given(data=st.data())
def test_one_hot_equals_labels(loss: str, data: st.DataObject) -> None:
    # with class and sample weights, ignore_index (an all-zero one-hot row), smoothing, z-loss
    problem = data.draw(softmax_problems())
    c = problem.prediction.shape[1]
    options = {**problem.options, **data.draw(loss_options(loss, c))}
    dense_options = {key: value for key, value in options.items() if key != "ignore_index"}
    labels = problem._replace(options=options)
    dense = Problem(problem.prediction, _one_hot(problem.target, c), dense_options)
    _assert_same(loss, labels, dense)
    if loss == "cross_entropy":
        _assert_same("sparse_categorical_cross_entropy", labels, dense, other="categorical_cross_entropy")


@pytest.mark.parametrize("loss", ["cross_entropy", "focal_loss", "logit_adjusted_cross_entropy"])
@SETTINGS
@given(data=st.data())
def test_axis_equals_moveaxis(loss: str, data: st.DataObject) -> None:
    sizes = data.draw(st.lists(st.integers(1, 4), min_size=2, max_size=4))
    axis = data.draw(st.integers(0, len(sizes) - 1))
    sizes[axis] = max(sizes[axis], 2)
    shape, c = tuple(sizes), sizes[axis]
    batch = shape[:axis] + shape[axis + 1:]
    x = data.draw(hnp.arrays(np.float64, shape, elements=_floats(-20.0, 20.0)))
    options = data.draw(loss_options(loss, c))
    if data.draw(st.booleans()):
        options["sample_weight"] = _weights(data.draw, batch)
    if data.draw(st.booleans()):
        options["weight"] = _weights(data.draw, (c,))
    moved = np.moveaxis(x, axis, -1)
    if data.draw(st.booleans()):  # integer labels: they have no class axis
        y = data.draw(hnp.arrays(np.int64, batch, elements=st.integers(0, c - 1)))
        y_moved = y
    else:  # soft targets move with the logits
        y_moved = _softmax(data.draw(hnp.arrays(np.float64, moved.shape, elements=_floats(-3.0, 3.0))))
        y = np.moveaxis(y_moved, -1, axis)
    _assert_same(loss, Problem(x, y, {**options, "axis": axis}), Problem(moved, y_moved, options),
                 moved=(-1, axis))
    # the default is the last axis, and a negative axis names the same one
    assert_close(getattr(crossent, loss)(x, y, **options, axis=axis - len(shape)),
                 getattr(crossent, loss)(moved, y_moved, **options))


@pytest.mark.parametrize("loss", SOFTMAX)
@SETTINGS
@given(data=st.data())
def test_mean_is_sum_over_total_weight(loss: str, data: st.DataObject) -> None:
    problem = data.draw(softmax_problems())
    options = {**problem.options, **data.draw(loss_options(loss, problem.prediction.shape[1]))}
    x, y = problem.prediction, problem.target
    fn = getattr(crossent, loss)
    total = _total_weight(problem)
    mean, total_sum = fn(x, y, **options, reduction="mean"), fn(x, y, **options, reduction="sum")
    per_sample = fn(x, y, **options, reduction="none")
    assert_close(np.sum(per_sample), total_sum)
    _, grad_mean = crossent.value_and_grad(loss, x, y, **options, reduction="mean")
    _, grad_sum = crossent.value_and_grad(loss, x, y, **options, reduction="sum")
    if total > 0:
        assert_close(mean, total_sum / total)
        assert_close(grad_mean, grad_sum / total)
    else:  # every sample ignored or weighted 0
        assert float(mean) == 0.0
        assert not np.any(grad_mean)


@SETTINGS
@given(problem=softmax_problems(), data=st.data())
def test_mean_is_sum_over_total_weight_soft_targets(problem: Problem, data: st.DataObject) -> None:
    # dense targets: wᵢ = sᵢ Σ_c w_c y_ic with y before smoothing (a zero row counts for nothing)
    n, c = problem.prediction.shape
    y = _softmax(data.draw(hnp.arrays(np.float64, (n, c), elements=_floats(-5.0, 5.0))))
    y = np.where(problem.target[:, None] == IGNORE, 0.0, y)
    options = {key: value for key, value in problem.options.items() if key != "ignore_index"}
    weight = options.get("weight", np.ones(c))
    total = float(np.sum(options.get("sample_weight", 1.0) * (y @ weight)))
    mean = crossent.cross_entropy(problem.prediction, y, **options)
    total_sum = crossent.cross_entropy(problem.prediction, y, **options, reduction="sum")
    assert_close(mean, total_sum / total if total > 0 else 0.0)


@SETTINGS
@given(problem=softmax_problems(), scale=_floats(1e-3, 1e3))
def test_mean_is_invariant_to_scaling_the_sample_weights(problem: Problem, scale: float) -> None:
    sample_weight = problem.options.get("sample_weight", np.ones(problem.prediction.shape[0]))
    scaled = problem._replace(options={**problem.options, "sample_weight": scale * sample_weight})
    _assert_same("cross_entropy", scaled, problem._replace(options={**problem.options,
                                                                    "sample_weight": sample_weight}),
                 reductions=("mean",))


@pytest.mark.parametrize("loss", ["cross_entropy", "binary_cross_entropy"])
def test_mean_gradient_with_subnormal_total_weight(loss: str) -> None:
    prediction = np.array([[0.0, 1.0]])
    target = np.array([0]) if loss == "cross_entropy" else np.array([[1.0, 0.0]])
    tiny = np.full(prediction.shape[:1] if loss == "cross_entropy" else prediction.shape, 1e-310)
    value, grad = crossent.value_and_grad(loss, prediction, target)
    with np.errstate(over="ignore", invalid="ignore"):
        tiny_value, tiny_grad = crossent.value_and_grad(loss, prediction, target, sample_weight=tiny)
    assert_close(tiny_value, value)
    assert_close(tiny_grad, grad)


@pytest.mark.parametrize("loss", BINARY)
@SETTINGS
@given(data=st.data())
def test_binary_mean_is_sum_over_total_weight(loss: str, data: st.DataObject) -> None:
    problem = data.draw(binary_problems(pos_weight=loss != "asymmetric_loss", smoothing=loss != "asymmetric_loss"))
    options = {**problem.options, **data.draw(loss_options(loss, problem.prediction.shape[-1]))}
    x, y = problem.prediction, problem.target
    fn = getattr(crossent, loss)
    total = float(np.sum(np.broadcast_to(options.get("sample_weight", 1.0), x.shape)))
    mean, total_sum = fn(x, y, **options), fn(x, y, **options, reduction="sum")
    assert_close(np.sum(fn(x, y, **options, reduction="none")), total_sum)
    assert_close(mean, total_sum / total if total > 0 else 0.0)


@pytest.mark.parametrize("loss", [*SOFTMAX, *BINARY, "sparse_categorical_cross_entropy"])
@SETTINGS
@given(data=st.data())
def test_loss_is_nonnegative(loss: str, data: st.DataObject) -> None:
    from_logits = data.draw(st.booleans()) or loss == "logit_adjusted_cross_entropy"
    if loss in BINARY:
        problem = data.draw(binary_problems(pos_weight=loss != "asymmetric_loss", smoothing=loss != "asymmetric_loss"))
        extra = data.draw(loss_options(loss, problem.prediction.shape[-1]))
        prediction = problem.prediction if from_logits else 1 / (1 + np.exp(-problem.prediction))
    else:
        problem = data.draw(softmax_problems())
        extra = data.draw(loss_options(loss, problem.prediction.shape[-1])) if loss in SOFTMAX else {}
        if not from_logits:
            extra.pop("z_loss", None)
            extra.pop("logit_softcap", None)
        prediction = problem.prediction if from_logits else _softmax(problem.prediction)
    options = {**problem.options, **extra, "from_logits": from_logits}
    per_sample = getattr(crossent, loss)(prediction, problem.target, **options, reduction="none")
    assert np.all(per_sample >= 0), per_sample
    assert not np.any(np.isnan(per_sample))


@pytest.mark.parametrize("loss", [*SOFTMAX, *BINARY])
@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_gradient_equals_finite_differences(loss: str, data: st.DataObject) -> None:
    # A five-point central difference along a random direction, in float64. Logits stay within
    # ±8 and probabilities away from 0 and 1, where the loss's fifth derivative is moderate.
    from_logits = data.draw(st.booleans()) or loss in ("logit_adjusted_cross_entropy", "cross_entropy")
    if loss in BINARY:
        problem = data.draw(binary_problems(logit=8.0 if from_logits else 2.5, pos_weight=loss != "asymmetric_loss",
                                            smoothing=loss != "asymmetric_loss"))
        prediction = problem.prediction if from_logits else 1 / (1 + np.exp(-problem.prediction))
    else:
        problem = data.draw(softmax_problems(logit=8.0 if from_logits else 1.0))
        prediction = problem.prediction if from_logits else _softmax(problem.prediction)
    options = {**problem.options, **data.draw(loss_options(loss, prediction.shape[-1], smooth=True)),
               "from_logits": from_logits, "reduction": data.draw(st.sampled_from(REDUCTIONS))}
    if options.get("clip"):  # asymmetric: the probability shift has a kink at p = clip; stay off it
        p = prediction if not from_logits else 1 / (1 + np.exp(-prediction))
        assume(np.all(np.abs(p - options["clip"]) > 1e-3))
    direction = data.draw(hnp.arrays(np.float64, prediction.shape, elements=_floats(-1.0, 1.0)))
    fn = getattr(crossent, loss)

    def f(t: float) -> float:
        return float(np.sum(fn(prediction + t * direction, problem.target, **options)))

    h = 1e-4
    finite_difference = (-f(2 * h) + 8 * f(h) - 8 * f(-h) + f(-2 * h)) / (12 * h)
    value, grad = crossent.value_and_grad(loss, prediction, problem.target, **options)
    scale = max(1.0, float(np.sum(np.abs(value))))  # the loss's own scale bounds the rounding error
    assert_close(np.sum(grad * direction), finite_difference, atol=rtol(np.float64) * scale)


@pytest.mark.parametrize("loss", [*SOFTMAX, *BINARY])
@SETTINGS
@given(data=st.data())
def test_base_two_is_nats_over_ln_two(loss: str, data: st.DataObject) -> None:
    if loss in BINARY:
        problem = data.draw(binary_problems(pos_weight=loss != "asymmetric_loss", smoothing=loss != "asymmetric_loss"))
    else:
        problem = data.draw(softmax_problems())
    options = {**problem.options, **data.draw(loss_options(loss, problem.prediction.shape[-1]))}
    fn = getattr(crossent, loss)
    for reduction in REDUCTIONS:
        bits = fn(problem.prediction, problem.target, **options, reduction=reduction, base=2)
        nats = fn(problem.prediction, problem.target, **options, reduction=reduction)
        assert_close(bits, nats / math.log(2))
    for reduction in REDUCTIONS:  # the gradient too
        _, bits_grad = crossent.value_and_grad(loss, problem.prediction, problem.target, **options,
                                               reduction=reduction, base=2)
        _, nats_grad = crossent.value_and_grad(loss, problem.prediction, problem.target, **options,
                                               reduction=reduction)
        assert_close(bits_grad, nats_grad / math.log(2))


# --- degenerate options --------------------------------------------------------------------------


@SETTINGS
@given(problem=softmax_problems())
def test_poly1_epsilon_zero_is_cross_entropy(problem: Problem) -> None:
    poly1 = problem._replace(options={**problem.options, "epsilon": 0.0})
    _assert_same("poly1_cross_entropy", poly1, problem, other="cross_entropy")


@SETTINGS
@given(problem=softmax_problems(), data=st.data())
def test_logit_adjustment_tau_zero_is_cross_entropy(problem: Problem, data: st.DataObject) -> None:
    priors = data.draw(hnp.arrays(np.float64, (problem.prediction.shape[1],), elements=_floats(1e-3, 1.0)))
    adjusted = problem._replace(options={**problem.options, "priors": priors, "tau": 0.0})
    _assert_same("logit_adjusted_cross_entropy", adjusted, problem, other="cross_entropy")


@SETTINGS
@given(problem=softmax_problems(), data=st.data())
def test_uniform_priors_are_cross_entropy(problem: Problem, data: st.DataObject) -> None:
    # log π is then the same constant for every class: the shift invariance of the softmax
    c = problem.prediction.shape[1]
    priors, tau = np.full(c, data.draw(_floats(1e-3, 10.0))), data.draw(_floats(-2.0, 2.0))
    adjusted = problem._replace(options={**problem.options, "priors": priors, "tau": tau})
    _assert_same("logit_adjusted_cross_entropy", adjusted, problem, other="cross_entropy")


@SETTINGS
@given(problem=binary_problems(pos_weight=False, smoothing=False), from_logits=st.booleans())
def test_asymmetric_without_focusing_or_clip_is_binary_cross_entropy(problem: Problem, from_logits: bool) -> None:
    prediction = problem.prediction if from_logits else 1 / (1 + np.exp(-problem.prediction / 4))
    plain = Problem(prediction, problem.target, {**problem.options, "from_logits": from_logits})
    asymmetric = plain._replace(options={**plain.options, "gamma_pos": 0.0, "gamma_neg": 0.0, "clip": 0.0})
    _assert_same("asymmetric_loss", asymmetric, plain, other="binary_cross_entropy")


# --- every backend: a seeded subset --------------------------------------------------------------


def _seeded_softmax(rng: np.random.Generator, n: int = 5, c: int = 4) -> Problem:
    labels = rng.integers(0, c, size=n)
    labels[rng.uniform(size=n) < 0.3] = IGNORE
    options = {"weight": rng.uniform(0.2, 2.0, size=c), "sample_weight": rng.uniform(0.0, 2.0, size=n),
               "ignore_index": IGNORE, "label_smoothing": 0.1}
    return Problem(rng.normal(scale=3.0, size=(n, c)), labels, options)


def _seeded_binary(rng: np.random.Generator) -> Problem:
    shape = (4, 3)
    target = np.where(rng.uniform(size=shape) < 0.5, rng.uniform(size=shape), np.round(rng.uniform(size=shape)))
    return Problem(rng.normal(scale=3.0, size=shape), target, {"sample_weight": rng.uniform(0.0, 2.0, size=(4, 1))})


def _on(backend: Any, problem: Problem) -> Problem:
    options = {key: backend.asarray(value) if isinstance(value, np.ndarray) else value
               for key, value in problem.options.items()}
    return Problem(backend.asarray(problem.prediction), backend.asarray(problem.target), options)


def _value(backend: Any, loss: str, problem: Problem, **options: Any) -> np.ndarray:
    p = _on(backend, problem)
    return backend.to_numpy(getattr(crossent, loss)(p.prediction, p.target, **p.options, **options))


def _grad(backend: Any, loss: str, problem: Problem, **options: Any) -> np.ndarray:
    p = _on(backend, problem)
    return backend.to_numpy(crossent.value_and_grad(loss, p.prediction, p.target, **p.options, **options)[1])


SEEDS = range(3)


@pytest.mark.parametrize("seed", SEEDS)
def test_softmax_properties_on_every_backend(backend: Any, seed: int) -> None:
    rng = np.random.default_rng(seed)
    problem = _seeded_softmax(rng)
    n, c = problem.prediction.shape
    focal = problem._replace(options={**problem.options, "gamma": 2.0, "alpha": rng.uniform(0.5, 1.5, size=c)})
    for reduction in REDUCTIONS:
        ce = _value(backend, "cross_entropy", problem, reduction=reduction)
        # reference values on NumPy: every backend computes the same thing
        assert_close(ce, crossent.cross_entropy(*problem[:2], **problem.options, reduction=reduction))
        # shift invariance
        shifted = problem._replace(prediction=problem.prediction + rng.normal(scale=30.0, size=(n, 1)))
        assert_close(_value(backend, "cross_entropy", shifted, reduction=reduction), ce)
        assert_close(_value(backend, "focal_loss", shifted._replace(options=focal.options), reduction=reduction),
                     _value(backend, "focal_loss", focal, reduction=reduction))
        # focal(γ=0) = CE, Poly-1(ε=0) = CE, logit adjustment τ=0 = CE
        for loss, extra in [("focal_loss", {"gamma": 0.0}), ("poly1_cross_entropy", {"epsilon": 0.0}),
                            ("logit_adjusted_cross_entropy", {"priors": rng.uniform(0.1, 1, size=c), "tau": 0.0})]:
            other = problem._replace(options={**problem.options, **extra})
            assert_close(_value(backend, loss, other, reduction=reduction), ce)
        # one-hot = labels, z-loss included, value and gradient
        options = {**problem.options, "z_loss": 0.1}
        labels = problem._replace(options=options)
        dense = Problem(problem.prediction, _one_hot(problem.target, c),
                        {key: value for key, value in options.items() if key != "ignore_index"})
        assert_close(_value(backend, "cross_entropy", dense, reduction=reduction),
                     _value(backend, "cross_entropy", labels, reduction=reduction))
        assert_close(_grad(backend, "cross_entropy", dense, reduction=reduction),
                     _grad(backend, "cross_entropy", labels, reduction=reduction))
        # loss ≥ 0, every softmax loss
        for loss, extra in [("focal_loss", {"gamma": 0.5}), ("poly1_cross_entropy", {"epsilon": -1.0}),
                            ("logit_adjusted_cross_entropy", {"priors": rng.uniform(0.1, 1, size=c)})]:
            other = problem._replace(options={**problem.options, **extra})
            assert np.all(_value(backend, loss, other, reduction=reduction) >= 0)
    # mean = sum / Σw; base 2 = nats / ln 2
    total = _total_weight(problem)
    assert total > 0
    assert_close(_value(backend, "cross_entropy", problem), _value(backend, "cross_entropy", problem, reduction="sum")
                 / total)
    assert_close(_value(backend, "focal_loss", focal, base=2), _value(backend, "focal_loss", focal) / math.log(2))
    assert_close(_grad(backend, "focal_loss", focal, base=2), _grad(backend, "focal_loss", focal) / math.log(2))


@pytest.mark.parametrize("seed", SEEDS)
def test_axis_equals_moveaxis_on_every_backend(backend: Any, seed: int) -> None:
    rng = np.random.default_rng(seed)
    x = rng.normal(scale=3.0, size=(2, 4, 3))
    y = rng.integers(0, 4, size=(2, 3))
    moved = np.moveaxis(x, 1, -1)
    for reduction in REDUCTIONS:
        assert_close(_value(backend, "cross_entropy", Problem(x, y, {"axis": 1}), reduction=reduction),
                     _value(backend, "cross_entropy", Problem(moved, y, {}), reduction=reduction))
        assert_close(_grad(backend, "cross_entropy", Problem(x, y, {"axis": 1}), reduction=reduction),
                     np.moveaxis(_grad(backend, "cross_entropy", Problem(moved, y, {}), reduction=reduction), -1, 1))


@pytest.mark.parametrize("seed", SEEDS)
def test_binary_properties_on_every_backend(backend: Any, seed: int) -> None:
    rng = np.random.default_rng(seed)
    problem = _seeded_binary(rng)
    total = float(np.sum(np.broadcast_to(problem.options["sample_weight"], problem.prediction.shape)))
    for reduction in REDUCTIONS:
        bce = _value(backend, "binary_cross_entropy", problem, reduction=reduction)
        assert_close(bce, crossent.binary_cross_entropy(*problem[:2], **problem.options, reduction=reduction))
        assert_close(_value(backend, "binary_focal_loss", problem, gamma=0.0, reduction=reduction), bce)
        assert_close(_value(backend, "asymmetric_loss", problem, gamma_pos=0.0, gamma_neg=0.0, clip=0.0,
                            reduction=reduction), bce)
        assert_close(_grad(backend, "asymmetric_loss", problem, gamma_pos=0.0, gamma_neg=0.0, clip=0.0,
                           reduction=reduction), _grad(backend, "binary_cross_entropy", problem, reduction=reduction))
        for loss, extra in [("binary_focal_loss", {"gamma": 0.5, "alpha": 0.25}), ("asymmetric_loss", {}),
                            ("binary_cross_entropy", {"pos_weight": rng.uniform(0, 3, size=3)})]:
            assert np.all(_value(backend, loss, problem, **extra, reduction=reduction) >= 0)
    assert_close(_value(backend, "binary_cross_entropy", problem),
                 _value(backend, "binary_cross_entropy", problem, reduction="sum") / total)
    assert_close(_value(backend, "binary_focal_loss", problem, base=2),
                 _value(backend, "binary_focal_loss", problem) / math.log(2))
