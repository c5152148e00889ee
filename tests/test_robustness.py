"""Issue 10's defects in the core (checks, inputs, activations, information, class weights,
linear_cross_entropy), each pinned on every backend where it applies:

- labels of every integer dtype index correctly whatever the number of classes (an ``arange`` in
  uint8 wraps past 255; torch has no min/max for uint16-uint64);
- a NaN is found by every value check at any size (JAX's min/max drop NaN past a few thousand
  elements);
- complex, string and object inputs, string and bool options are TypeErrors naming the argument;
  NumPy integer scalars are integers;
- multi-label ``log_loss`` is the mean binary cross-entropy, not scikit-learn's sum over labels;
- empty batches (N = 0) give what NumPy gives on every backend, with an empty gradient;
- NumPy's bfloat16 (ml_dtypes) is refused naming the prediction; masked logits warn nothing.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import crossent
import crossent.losses
import crossent.metrics
from conftest import Backend
from crossent import _checks

INTEGER_DTYPES = [np.int8, np.uint8, np.int16, np.uint16, np.int32, np.uint32, np.int64]
NUM_CLASSES = 300  # past uint8's range (and int8's)
BINARY = {"binary_cross_entropy", "binary_focal_loss", "asymmetric_loss"}
LOSSES = sorted(set(crossent.losses.__all__) - {"class_weights", "value_and_grad", "value_grad_hess"})


def _labels(dtype: Any) -> np.ndarray:
    """Labels up to the largest that the dtype holds below NUM_CLASSES (127 for int8, 255 for
    uint8, 299 for the others), and 156, which an ignore_index of -100 becomes in uint8."""
    top = min(NUM_CLASSES - 1, np.iinfo(dtype).max)
    wrapped = 156 if top >= 156 else 100  # -100 in uint8 is 156
    return np.array([5, top, 0, wrapped, top - 1], dtype=dtype)


# ---------------------------------------------------------------------------------------------
# 1. labels of every integer dtype


@pytest.mark.parametrize("dtype", INTEGER_DTYPES, ids=lambda d: np.dtype(d).name)
def test_one_hot_of_every_integer_dtype_past_its_range(backend: Backend, dtype: Any) -> None:
    labels = _labels(dtype)
    got = backend.to_numpy(crossent.one_hot(backend.asarray(labels), NUM_CLASSES))
    np.testing.assert_array_equal(got, np.eye(NUM_CLASSES)[labels.astype(np.int64)])


@pytest.mark.parametrize("dtype", INTEGER_DTYPES, ids=lambda d: np.dtype(d).name)
def test_class_weights_of_every_integer_dtype_past_its_range(backend: Backend, dtype: Any) -> None:
    top = np.iinfo(dtype).max
    if top < NUM_CLASSES - 1:  # the classes past the dtype's range have no sample: an error
        labels = np.arange(top + 1, dtype=dtype)
        with pytest.raises(ValueError, match=f"class {top + 1} has no samples"):
            crossent.class_weights(backend.asarray(labels), num_classes=NUM_CLASSES)
        return
    labels = np.concatenate([np.arange(NUM_CLASSES), [7, 7, 299]]).astype(dtype)
    got = backend.to_numpy(crossent.class_weights(backend.asarray(labels), num_classes=NUM_CLASSES))
    expected = crossent.class_weights(labels.astype(np.int64), num_classes=NUM_CLASSES)
    np.testing.assert_allclose(got, expected, rtol=1e-6)  # (torch's default dtype is float32)


@pytest.mark.parametrize("dtype", INTEGER_DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("ignore_index", [None, -100])
@pytest.mark.parametrize("repeat", [1, 50], ids=["generic", "kernel-sized"])  # 250 × 300: past _cpu.MIN_ELEMENTS
def test_cross_entropy_of_every_integer_dtype_equals_int64(backend: Backend, dtype: Any,
                                                           ignore_index: int | None, repeat: int) -> None:
    # (the loss core's own arange and ignore_index comparison: losses/_categorical.py)
    labels = np.tile(_labels(dtype), repeat)
    z = np.random.default_rng(0).normal(size=(len(labels), NUM_CLASSES))
    expected = crossent.cross_entropy(z, labels.astype(np.int64), ignore_index=ignore_index, reduction="none")
    got = crossent.cross_entropy(backend.asarray(z), backend.asarray(labels), ignore_index=ignore_index,
                                 reduction="none")
    np.testing.assert_allclose(backend.to_numpy(got), expected, rtol=1e-12)


def test_labels_in_range_reads_labels_of_every_integer_dtype(backend: Backend) -> None:
    for dtype in INTEGER_DTYPES:
        labels = backend.asarray(_labels(dtype))
        assert _checks.labels_in_range(labels, NUM_CLASSES, -100, backend.xp)
        with pytest.raises(ValueError, match=f"label {_labels(dtype).max()}"):
            _checks.labels_in_range(labels, 4, -100, backend.xp)


# ---------------------------------------------------------------------------------------------
# 2. a NaN is found at any size


def _with_nan(a: np.ndarray) -> np.ndarray:
    a = a.copy()
    a[tuple(d // 2 for d in a.shape)] = np.nan
    return a


def _nan_cases(n: int) -> dict[str, tuple[str, Callable[[Callable[[Any], Any]], Any]]]:
    """(the argument's name, a call with a NaN in it) for each checked argument, the array
    holding the NaN of n elements."""
    half, ones, zeros = n // 2, np.ones(n), np.zeros(n)
    labels2 = np.zeros(2, np.int64)
    return {
        "bce probabilities": ("prediction", lambda b: crossent.binary_cross_entropy(
            b(_with_nan(np.full(n, 0.5))), b(ones), from_logits=False)),
        "ce probabilities": ("prediction", lambda b: crossent.cross_entropy(
            b(_with_nan(np.full((half, 2), 0.5))), b(np.zeros(half, np.int64)), from_logits=False)),
        "bce target": ("target", lambda b: crossent.binary_cross_entropy(b(zeros), b(_with_nan(ones)))),
        "ce dense target": ("target", lambda b: crossent.cross_entropy(
            b(np.zeros((half, 2))), b(_with_nan(np.full((half, 2), 0.5))))),
        "ce sample_weight": ("sample_weight", lambda b: crossent.cross_entropy(
            b(np.zeros((n, 2))), b(np.zeros(n, np.int64)), sample_weight=b(_with_nan(ones)))),
        "bce sample_weight": ("sample_weight", lambda b: crossent.binary_cross_entropy(
            b(zeros), b(ones), sample_weight=b(_with_nan(ones)))),
        "weight": ("weight", lambda b: crossent.cross_entropy(
            b(np.zeros((2, n))), b(labels2), weight=b(_with_nan(ones)))),
        "pos_weight": ("pos_weight", lambda b: crossent.binary_cross_entropy(
            b(zeros), b(ones), pos_weight=b(_with_nan(ones)))),
        "alpha": ("alpha", lambda b: crossent.focal_loss(b(np.zeros((2, n))), b(labels2), alpha=b(_with_nan(ones)))),
        "binary alpha": ("alpha", lambda b: crossent.binary_focal_loss(
            b(zeros), b(ones), alpha=b(_with_nan(np.full(n, 0.5))))),
        "priors": ("priors", lambda b: crossent.logit_adjusted_cross_entropy(
            b(np.zeros((2, n))), b(labels2), b(_with_nan(ones)))),
        "entropy": ("p", lambda b: crossent.entropy(b(_with_nan(np.full((half, 2), 0.5))))),
        "kl_divergence": ("q", lambda b: crossent.kl_divergence(
            b(np.full((half, 2), 0.5)), b(_with_nan(np.full((half, 2), 0.5))))),
    }


@pytest.mark.parametrize("n", [10, 10_000])
@pytest.mark.parametrize("case", list(_nan_cases(10)))
def test_a_nan_is_found_at_any_size(backend: Backend, n: int, case: str) -> None:
    name, call = _nan_cases(n)[case]
    with pytest.raises(ValueError, match=f"^{name} contains NaN"):
        call(backend.asarray)


def test_a_nan_row_does_not_pass_as_summing_to_one(backend: Backend) -> None:
    x = backend.asarray(_with_nan(np.full((10_000, 2), 0.5)))
    with pytest.raises(ValueError, match="x contains NaN"):
        _checks.rows_sum_to_one("x", x, backend.xp)


def test_values_under_jit_are_not_checked() -> None:
    jax = pytest.importorskip("jax")
    import jax.numpy as jnp

    weights = _with_nan(np.ones(10_000))
    value = jax.jit(lambda w: crossent.cross_entropy(jnp.zeros((10_000, 3)), jnp.zeros(10_000, jnp.int32),
                                                     sample_weight=w, reduction="sum"))(jnp.asarray(weights))
    assert math.isnan(float(value))  # NaN in, NaN out: the values could not be read


# ---------------------------------------------------------------------------------------------
# 5. complex, string and object inputs; string and bool options; NumPy integers


LOGITS = np.array([[2.0, 1.0, 0.1], [0.5, 0.2, 3.0]])
LABELS = np.array([0, 2])
BCE_Z = np.array([0.3, -1.0])
BCE_Y = np.array([1.0, 0.0])

# (case id, argument named, call(b) where b makes backend arrays; complex values)
COMPLEX: list[tuple[str, str, Callable[[Callable[[Any], Any]], Any]]] = [
    ("ce prediction", "prediction", lambda b: crossent.cross_entropy(b(LOGITS + 1j), b(LABELS))),
    ("bce prediction", "prediction", lambda b: crossent.binary_cross_entropy(b(BCE_Z + 1j), b(BCE_Y))),
    ("ce dense target", "target", lambda b: crossent.cross_entropy(b(LOGITS), b(np.eye(3)[LABELS] + 0j))),
    ("bce target", "target", lambda b: crossent.binary_cross_entropy(b(BCE_Z), b(BCE_Y + 1j))),
    ("sample_weight", "sample_weight", lambda b: crossent.cross_entropy(
        b(LOGITS), b(LABELS), sample_weight=b(np.ones(2) + 1j))),
    ("weight", "weight", lambda b: crossent.cross_entropy(b(LOGITS), b(LABELS), weight=b(np.ones(3) + 1j))),
    ("pos_weight", "pos_weight", lambda b: crossent.binary_cross_entropy(
        b(BCE_Z), b(BCE_Y), pos_weight=b(np.ones(2) + 1j))),
    ("alpha", "alpha", lambda b: crossent.focal_loss(b(LOGITS), b(LABELS), alpha=b(np.ones(3) + 1j))),
    ("binary alpha", "alpha", lambda b: crossent.binary_focal_loss(
        b(BCE_Z), b(BCE_Y), alpha=b(np.full(2, 0.5) + 1j))),
    ("priors", "priors", lambda b: crossent.logit_adjusted_cross_entropy(
        b(LOGITS), b(LABELS), b(np.full(3, 1 / 3) + 1j))),
    ("entropy", "p", lambda b: crossent.entropy(b(np.array([0.5, 0.5]) + 0j))),
]


@pytest.mark.parametrize(("name", "call"), [c[1:] for c in COMPLEX], ids=[c[0] for c in COMPLEX])
def test_complex_input_is_a_type_error_naming_it(backend: Backend, name: str, call: Callable[..., Any]) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # (no ComplexWarning: nothing is cast before the check)
        with pytest.raises(TypeError, match=f"^{name} must .*complex"):
            call(backend.asarray)


# Strings and objects exist in NumPy only; they come as NumPy arrays or lists with any backend's
# prediction. (case id, argument named, call(b, bad) with bad a list or array of strings/objects)
TEXT: list[tuple[str, str, Callable[[Callable[[Any], Any], Any], Any]]] = [
    ("ce prediction", "prediction", lambda b, bad: crossent.cross_entropy(bad([["1", "0"], ["0", "1"]]), b(LABELS))),
    ("bce target", "target", lambda b, bad: crossent.binary_cross_entropy(b(BCE_Z), bad(["1", "0"]))),
    ("ce dense target", "target", lambda b, bad: crossent.cross_entropy(
        b(LOGITS), bad([["1", "0", "0"], ["0", "0", "1"]]))),
    ("sample_weight", "sample_weight", lambda b, bad: crossent.cross_entropy(
        b(LOGITS), b(LABELS), sample_weight=bad(["1", "2"]))),
    ("weight", "weight", lambda b, bad: crossent.cross_entropy(b(LOGITS), b(LABELS), weight=bad(["1", "1", "2"]))),
    ("pos_weight", "pos_weight", lambda b, bad: crossent.binary_cross_entropy(
        b(BCE_Z), b(BCE_Y), pos_weight=bad(["2", "2"]))),
    ("alpha vector", "alpha", lambda b, bad: crossent.focal_loss(b(LOGITS), b(LABELS), alpha=bad(["1", "1", "1"]))),
    ("binary alpha vector", "alpha", lambda b, bad: crossent.binary_focal_loss(
        b(BCE_Z), b(BCE_Y), alpha=bad(["0.5", "0.5"]))),
    ("priors", "priors", lambda b, bad: crossent.logit_adjusted_cross_entropy(
        b(LOGITS), b(LABELS), bad(["0.5", "0.25", "0.25"]))),
    ("entropy", "p", lambda b, bad: crossent.entropy(bad(["0.5", "0.5"]))),
]
MAKERS: dict[str, Callable[[Any], Any]] = {
    "list": lambda v: v,
    "str array": np.asarray,
    # objects holding numbers are no better than strings
    "object array": lambda v: np.asarray(np.asarray(v, dtype=float).tolist(), dtype=object),
}


@pytest.mark.parametrize("make", list(MAKERS))
@pytest.mark.parametrize(("name", "call"), [c[1:] for c in TEXT], ids=[c[0] for c in TEXT])
def test_strings_and_objects_are_a_type_error_naming_them(backend: Backend, name: str, call: Callable[..., Any],
                                                          make: str) -> None:
    with pytest.raises(TypeError, match=f"^{name} must .*(<U|object|O)"):
        call(backend.asarray, MAKERS[make])


def _call_with(option: str, value: Any) -> Any:
    """A loss that has ``option``, called with it set to ``value``."""
    if option in ("gamma_pos", "gamma_neg", "clip"):
        return crossent.asymmetric_loss(BCE_Z, BCE_Y, **{option: value})
    if option == "eps":
        return crossent.cross_entropy(np.eye(3)[LABELS] * 0.9 + 0.1 / 3, LABELS, from_logits=False, eps=value)
    if option == "beta":
        return crossent.class_weights(np.array([0, 1, 2, 2]), scheme="effective_number", beta=value)
    if option == "alpha":
        return crossent.binary_focal_loss(BCE_Z, BCE_Y, alpha=value)
    if option == "num_classes":
        return crossent.one_hot(LABELS, value)
    if option == "tau":
        return crossent.logit_adjusted_cross_entropy(LOGITS, LABELS, [0.5, 0.25, 0.25], tau=value)
    functions = {"gamma": crossent.focal_loss, "epsilon": crossent.poly1_cross_entropy}
    return functions.get(option, crossent.cross_entropy)(LOGITS, LABELS, **{option: value})


NUMERIC_OPTIONS = {"gamma": 2.0, "eps": 1e-7, "base": 2, "label_smoothing": 0.1, "z_loss": 1e-3,
                   "logit_softcap": 5.0, "epsilon": 1.0, "tau": 0.5, "gamma_pos": 1.0, "gamma_neg": 2.0,
                   "clip": 0.05, "beta": 0.9, "alpha": 0.25, "num_classes": 3}


@pytest.mark.parametrize("option", list(NUMERIC_OPTIONS))
def test_numeric_options_refuse_strings_and_bools_alike(option: str) -> None:
    good = NUMERIC_OPTIONS[option]
    _call_with(option, good)
    for bad in (str(good), True, np.True_, complex(good, 1)):
        with pytest.raises(TypeError, match=f"^{option} must (be|hold)"):
            _call_with(option, bad)


@pytest.mark.parametrize("option", list(NUMERIC_OPTIONS))
def test_numeric_options_take_numpy_scalars_and_zero_d_arrays(backend: Backend, option: str) -> None:
    good = NUMERIC_OPTIONS[option]
    expected = np.asarray(_call_with(option, good))
    kind = np.int64 if isinstance(good, int) else np.float64
    for value in (kind(good), backend.asarray(np.asarray(good, dtype=kind))):
        np.testing.assert_allclose(np.asarray(_call_with(option, value)), expected, rtol=1e-12)


def test_ignore_index_helper_takes_integers_of_every_kind(backend: Backend) -> None:
    assert _checks.index_option("ignore_index", None) is None
    for value in (-100, np.int64(-100), np.int8(-100), backend.asarray(np.asarray(-100))):
        got = _checks.index_option("ignore_index", value)
        assert got == -100 and type(got) is int
    for bad in (True, np.True_, 3.0, np.float64(3), "3", backend.asarray(np.asarray(3.0)),
                backend.asarray(np.asarray([3]))):
        with pytest.raises(TypeError, match="ignore_index must be an int or None"):
            _checks.index_option("ignore_index", bad)


@pytest.mark.parametrize("value", [np.int64(2), np.int32(2), np.uint8(2)], ids=lambda v: type(v).__name__)
def test_cross_entropy_takes_a_numpy_integer_ignore_index(value: Any) -> None:
    # (the check is losses/_categorical.py's: it calls _checks.index_option)
    z, y = np.random.default_rng(0).normal(size=(3, 3)), np.array([0, 2, 1])
    expected = crossent.cross_entropy(z, y, ignore_index=2)
    assert float(crossent.cross_entropy(z, y, ignore_index=value)) == pytest.approx(float(expected), rel=1e-12)


# ---------------------------------------------------------------------------------------------
# 6. multi-label log_loss


def test_multilabel_log_loss_is_mean_binary_cross_entropy_not_sklearns_sum_over_labels() -> None:
    # scikit-learn's own multi-label test data (check_array_api_multilabel_continuous_classification_metric)
    y = np.array([[0, 0, 1, 1], [1, 0, 1, 0], [0, 1, 0, 0], [1, 1, 0, 1]])
    p = np.array([[0.15, 0.27, 0.46, 0.12], [0.33, 0.38, 0.06, 0.23],
                  [0.06, 0.28, 0.03, 0.63], [0.14, 0.31, 0.26, 0.29]])
    mean_bce = -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))
    sum_over_labels = -np.mean(np.sum(y * np.log(p), axis=1))
    assert mean_bce == pytest.approx(0.9419577, abs=1e-7)
    assert sum_over_labels == pytest.approx(3.1167504, abs=1e-7)
    assert crossent.metrics.log_loss(y, p) == pytest.approx(mean_bce, rel=1e-12)
    sklearn_metrics = pytest.importorskip("sklearn.metrics")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "y_prob values do not sum to one"
        assert sklearn_metrics.log_loss(y, p) == pytest.approx(sum_over_labels, rel=1e-12)
    doc = crossent.metrics.log_loss.__doc__ or ""
    assert "0.9420" in doc and "3.1168" in doc


# ---------------------------------------------------------------------------------------------
# 12. empty batches


def _empty_call(name: str, b: Callable[[Any], Any], z: Any, **options: Any) -> Any:
    target = np.zeros((0, 3)) if name in BINARY or name == "categorical_cross_entropy" else np.zeros(0, np.int64)
    args = (b(np.full(3, 1 / 3)),) if name == "logit_adjusted_cross_entropy" else ()
    return getattr(crossent, name)(z, b(target), *args, **options)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("name", LOSSES)
def test_every_loss_of_an_empty_batch(backend: Backend, name: str, reduction: str) -> None:
    expected = np.asarray(_empty_call(name, np.asarray, np.zeros((0, 3)), reduction=reduction))
    if reduction == "none":
        assert expected.shape == ((0, 3) if name in BINARY else (0,))
    else:
        assert expected.shape == () and float(expected) == 0
    got = backend.to_numpy(_empty_call(name, backend.asarray, backend.asarray(np.zeros((0, 3))), reduction=reduction))
    assert got.shape == expected.shape
    np.testing.assert_array_equal(got, expected)
    value, grad = crossent.value_and_grad(name, *_empty_args(name, backend), reduction=reduction)
    assert tuple(grad.shape) == (0, 3) and tuple(value.shape) == expected.shape


def _empty_args(name: str, backend: Backend) -> tuple[Any, ...]:
    b = backend.asarray
    target = np.zeros((0, 3)) if name in BINARY or name == "categorical_cross_entropy" else np.zeros(0, np.int64)
    priors = (b(np.full(3, 1 / 3)),) if name == "logit_adjusted_cross_entropy" else ()
    return (b(np.zeros((0, 3))), b(target), *priors)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("name", LOSSES)
def test_every_loss_of_an_empty_batch_under_torch_autograd(name: str, reduction: str) -> None:
    torch = pytest.importorskip("torch")
    z = torch.zeros((0, 3), dtype=torch.float64, requires_grad=True)
    options: dict[str, Any] = {"reduction": reduction}
    if name not in BINARY:
        options["sample_weight"] = torch.ones(0, dtype=torch.float64)
    value = _empty_call(name, torch.asarray, z, **options)
    value.sum().backward()
    assert z.grad is not None and tuple(z.grad.shape) == (0, 3)
    assert float(value.detach().sum()) == 0


def test_activations_and_information_of_an_empty_batch(backend: Backend) -> None:
    b = backend.asarray
    assert tuple(crossent.one_hot(b(np.zeros(0, np.int64)), 3).shape) == (0, 3)
    assert tuple(crossent.entropy(b(np.zeros((0, 3)))).shape) == (0,)
    assert tuple(crossent.kl_divergence(b(np.zeros((0, 3))), b(np.zeros((0, 3)))).shape) == (0,)
    assert tuple(crossent.softmax(b(np.zeros((0, 3)))).shape) == (0, 3)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("options", [{}, {"class_weight": True, "sample_weight": True, "ignore_index": -100}],
                         ids=["plain", "weighted"])
def test_linear_cross_entropy_of_an_empty_batch(reduction: str, options: dict[str, Any]) -> None:
    torch = pytest.importorskip("torch")
    import crossent.torch as ct

    hidden = torch.zeros((0, 4), requires_grad=True)
    weight = torch.randn(5, 4, requires_grad=True)
    bias = torch.zeros(5, requires_grad=True)
    kwargs: dict[str, Any] = {"bias": bias, "reduction": reduction}
    if options:
        kwargs.update(class_weight=torch.ones(5), sample_weight=torch.ones(0), ignore_index=np.int64(-100))
    loss = ct.linear_cross_entropy(hidden, weight, torch.zeros(0, dtype=torch.int64), **kwargs)
    assert tuple(loss.shape) == ((0,) if reduction == "none" else ())
    assert float(loss.detach().sum()) == 0
    loss.sum().backward()
    assert tuple(hidden.grad.shape) == (0, 4)
    assert weight.grad is not None and float(weight.grad.abs().sum()) == 0
    assert bias.grad is not None and float(bias.grad.abs().sum()) == 0


# ---------------------------------------------------------------------------------------------
# 19. NumPy bfloat16, masked logits


def test_numpy_bfloat16_is_refused_naming_the_argument() -> None:
    ml_dtypes = pytest.importorskip("ml_dtypes")
    z = LOGITS.astype(ml_dtypes.bfloat16)
    with pytest.raises(TypeError, match=r"^prediction must have a real floating dtype, got bfloat16.*float32"):
        crossent.cross_entropy(z, LABELS)
    with pytest.raises(TypeError, match=r"^x must have a real floating dtype, got bfloat16"):
        crossent.softmax(z)
    with pytest.raises(TypeError, match=r"^target must hold real numbers, got dtype bfloat16"):
        crossent.binary_cross_entropy(BCE_Z, BCE_Y.astype(ml_dtypes.bfloat16))


@pytest.mark.parametrize("name", ["cross_entropy", "focal_loss", "poly1_cross_entropy"])
def test_masked_logits_warn_nothing(name: str) -> None:
    z = np.array([[0.0, -np.inf, 1.0], [1.0, 2.0, -np.inf]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        value, grad = crossent.value_and_grad(name, z, np.array([0, 1]))
        assert np.isfinite(value) and np.all(np.isfinite(grad))
        assert np.isfinite(getattr(crossent, name)(z, np.array([0, 1]), reduction="none")).all()


@pytest.mark.parametrize("name", ["cross_entropy", "focal_loss", "poly1_cross_entropy"])
def test_masked_logits_warn_nothing_in_the_hessian(name: str) -> None:
    # (losses/_categorical.py's _softmax_curvature: p · log p at p = 0, log p = -inf)
    z = np.array([[0.0, -np.inf, 1.0], [1.0, 2.0, -np.inf]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _, _, hess = crossent.value_grad_hess(name, z, np.array([0, 1]))
    assert np.all(np.isfinite(hess))
