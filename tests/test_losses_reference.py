"""Every crossent loss against the float64 reference formulas of tests/reference.py.

On every backend, over shapes with 1 row, 1 class, 2 classes and N-d inputs with the class axis
in the middle, over the options that change the formula, in every reduction, from logits and
from probabilities, in float64 (rtol(float64)) and float32 (rtol(float32)); gradients against
finite differences of the reference; logits of ±1e4; half-precision inputs; exact 0 and 1
probabilities.

Reference values and finite differences are cached per input (they do not depend on the
backend), so each is computed once for the four backends.
"""

from __future__ import annotations

import functools
import math
import zlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest

import crossent
import reference as ref
from conftest import Backend, assert_close, rtol

REDUCTIONS = ("none", "sum", "mean")
DTYPES = [pytest.param(np.float64, id="float64"), pytest.param(np.float32, id="float32")]


def _rng(*key: Any) -> np.random.Generator:
    return np.random.default_rng(zlib.crc32(repr(key).encode()))


def _to_backend(backend: Backend, options: dict[str, Any]) -> dict[str, Any]:
    return {k: backend.asarray(v) if isinstance(v, np.ndarray) else v for k, v in options.items()}


def _as_float64(backend: Backend, a: Any) -> np.ndarray:
    """A backend array as float64 NumPy (also for float16/bfloat16, which torch cannot export)."""
    if backend.name == "torch":
        import torch

        return a.detach().to(torch.float64).cpu().numpy()
    if backend.name == "jax":
        return np.asarray(a.astype("float64"))
    return backend.to_numpy(a).astype(np.float64)


def _dtype_name(backend: Backend, a: Any) -> str:
    return str(a.dtype).rsplit(".", 1)[-1]


def _scaled_atol(expected: np.ndarray, dtype: Any) -> float:
    """Absolute tolerance for an array whose entries vary in size: rtol × its largest entry."""
    finite = np.abs(expected[np.isfinite(expected)])
    return rtol(dtype) * (float(finite.max()) if finite.size else 1.0)


# ---------------------------------------------------------------------------------------------
# The softmax family.

PER_CLASS, PER_SAMPLE = "per_class", "per_sample"  # stand-ins for arrays drawn per input


@dataclass(frozen=True, eq=False)  # hashed by identity, for the caches
class Case:
    name: str
    loss: Any  # the crossent loss
    reference: Any  # the tests/reference.py formula
    options: dict[str, Any] = field(default_factory=dict)
    kinds: tuple[str, ...] = ("labels", "onehot", "soft")  # target kinds it takes
    logits_only: bool = False  # an option that needs logits (z_loss, logit_softcap, priors)
    probabilities_only: bool = False  # eps clips probabilities

    def __str__(self) -> str:
        return self.name


LABELS = ("labels",)
IGNORE = -100

SOFTMAX_CASES = [
    Case("ce", crossent.cross_entropy, ref.cross_entropy),
    Case("ce-weight-smoothing-sample_weight-base2", crossent.cross_entropy, ref.cross_entropy,
         {"weight": PER_CLASS, "label_smoothing": 0.3, "sample_weight": PER_SAMPLE, "base": 2}),
    Case("ce-weight-ignore-smoothing-sample_weight", crossent.cross_entropy, ref.cross_entropy,
         {"weight": PER_CLASS, "ignore_index": IGNORE, "label_smoothing": 0.2, "sample_weight": PER_SAMPLE},
         LABELS),
    Case("ce-eps-base10", crossent.cross_entropy, ref.cross_entropy, {"eps": 1e-3, "base": 10},
         probabilities_only=True),
    Case("ce-zloss-softcap", crossent.cross_entropy, ref.cross_entropy, {"z_loss": 0.05, "logit_softcap": 1.5},
         logits_only=True),
    Case("ce-all-logit-options", crossent.cross_entropy, ref.cross_entropy,
         {"weight": PER_CLASS, "ignore_index": 1, "label_smoothing": 0.1, "z_loss": 0.01, "logit_softcap": 2.0,
          "sample_weight": PER_SAMPLE, "base": 2}, LABELS, logits_only=True),
    Case("sparse-weight-ignore", crossent.sparse_categorical_cross_entropy, ref.cross_entropy,
         {"weight": PER_CLASS, "ignore_index": IGNORE}, LABELS),
    Case("categorical-smoothing-sample_weight", crossent.categorical_cross_entropy, ref.cross_entropy,
         {"label_smoothing": 0.1, "sample_weight": PER_SAMPLE}, ("onehot", "soft")),
    Case("focal", crossent.focal_loss, ref.focal_loss, {"gamma": 2.0}),
    Case("focal-gamma0.5-alpha-vector-weight", crossent.focal_loss, ref.focal_loss,
         {"gamma": 0.5, "alpha": PER_CLASS, "weight": PER_CLASS}),
    Case("focal-gamma1.5-alpha-ignore-smoothing-sample_weight", crossent.focal_loss, ref.focal_loss,
         {"gamma": 1.5, "alpha": 0.25, "ignore_index": IGNORE, "label_smoothing": 0.1,
          "sample_weight": PER_SAMPLE, "base": 2}, LABELS),
    Case("poly1", crossent.poly1_cross_entropy, ref.poly1_cross_entropy, {"epsilon": 2.0}),
    Case("poly1-negative-weight-smoothing", crossent.poly1_cross_entropy, ref.poly1_cross_entropy,
         {"epsilon": -0.5, "weight": PER_CLASS, "label_smoothing": 0.1, "sample_weight": PER_SAMPLE}),
    Case("logit_adjusted", crossent.logit_adjusted_cross_entropy, ref.logit_adjusted_cross_entropy,
         {"priors": PER_CLASS}, logits_only=True),
    Case("logit_adjusted-tau-weight-smoothing-zloss-softcap", crossent.logit_adjusted_cross_entropy,
         ref.logit_adjusted_cross_entropy,
         {"priors": PER_CLASS, "tau": 0.5, "weight": PER_CLASS, "label_smoothing": 0.1, "z_loss": 0.02,
          "logit_softcap": 3.0, "ignore_index": IGNORE}, LABELS, logits_only=True),
]


@dataclass(frozen=True)
class Layout:
    name: str
    batch: tuple[int, ...]
    num_classes: int
    axis: int  # where crossent gets the class axis; the reference always has it last


SOFTMAX_LAYOUTS = [
    Layout("1row", (1,), 3, -1),
    Layout("1class", (5,), 1, -1),
    Layout("2classes", (7,), 2, -1),
    Layout("2x4x3-axis1", (2, 3), 4, 1),
    Layout("3x2x5x2-axis-2", (3, 2, 2), 5, -2),
]


@dataclass(frozen=True)
class SoftmaxData:
    prediction: np.ndarray  # crossent's layout, in the test dtype
    target: np.ndarray  # crossent's layout (labels, or dense with the class axis at layout.axis)
    options: dict[str, Any]  # NumPy arrays in the test dtype, or Python numbers
    ref_prediction: np.ndarray  # float64, class axis last
    ref_target: np.ndarray  # class axis last
    ref_options: dict[str, Any]


def _class_last_to(a: np.ndarray, axis: int) -> np.ndarray:
    return np.moveaxis(a, -1, axis)


@functools.cache
def softmax_data(case: Case, layout: Layout, kind: str, from_logits: bool, dtype: type,
                 scale: float = 1.5) -> SoftmaxData:
    rng = _rng(case.name, layout.name, kind, from_logits, scale)
    batch, c = layout.batch, layout.num_classes
    n = int(np.prod(batch))
    logits = rng.normal(size=(*batch, c)) * scale
    x = logits if from_logits else np.exp(logits - logits.max(-1, keepdims=True))
    if not from_logits:
        x = x / x.sum(-1, keepdims=True)
    x = x.astype(dtype)
    label_dtype = np.int64 if len(batch) % 2 else np.int32
    labels = rng.integers(0, c, size=batch)
    if kind == "labels":
        ignore = case.options.get("ignore_index")
        if ignore is not None:  # about a third of the samples; all of them for one row
            dropped = rng.random(batch) < 0.35
            dropped.reshape(-1)[0] = True
            labels = np.where(dropped, ignore, labels)
        target = labels.astype(label_dtype)
        ref_target = target
    else:
        dense = np.eye(c)[labels] if kind == "onehot" else rng.dirichlet(np.ones(c), size=batch)
        if kind == "soft" and n > 1:
            dense.reshape(n, c)[1] = 0.0  # an all-zero row is an ignored sample
        dense = dense.astype(dtype)
        ref_target = dense.astype(np.float64)
        target = _class_last_to(dense, layout.axis)
    options: dict[str, Any] = {}
    for key, value in case.options.items():
        if value == PER_CLASS:
            value = rng.uniform(0.2, 2.0, size=c).astype(dtype)
        elif value == PER_SAMPLE:
            weights = rng.uniform(0.0, 2.0, size=batch)
            if n > 2:
                weights.reshape(-1)[2] = 0.0
            value = weights.astype(dtype)
        options[key] = value
    ref_options = {k: v.astype(np.float64) if isinstance(v, np.ndarray) else v for k, v in options.items()}
    return SoftmaxData(_class_last_to(x, layout.axis), target, options, x.astype(np.float64), ref_target,
                       ref_options)


def _softmax_reference(case: Case, data: SoftmaxData, from_logits: bool, reduction: str,
                       prediction: np.ndarray | None = None) -> Any:
    options = dict(data.ref_options)
    if case.reference is not ref.logit_adjusted_cross_entropy:
        options["from_logits"] = from_logits
    return case.reference(data.ref_prediction if prediction is None else prediction, data.ref_target,
                          reduction=reduction, **options)


@functools.cache
def softmax_expected(case: Case, layout: Layout, kind: str, from_logits: bool, dtype: type,
                     reduction: str) -> Any:
    return _softmax_reference(case, softmax_data(case, layout, kind, from_logits, dtype), from_logits,
                              reduction)


@functools.cache
def softmax_expected_grad(case: Case, layout: Layout, kind: str, from_logits: bool, dtype: type,
                          reduction: str) -> np.ndarray:
    """Finite differences of the reference (of the sum of "none"), in crossent's layout."""
    data = softmax_data(case, layout, kind, from_logits, dtype)
    h = 2.0**-10 if from_logits else 2.0**-16

    def f(x: np.ndarray) -> float:
        return float(np.sum(_softmax_reference(case, data, from_logits, reduction, prediction=x)))

    return _class_last_to(ref.numerical_grad(f, data.ref_prediction, h), layout.axis)


def _kind(case: Case, layout: Layout, *, gradient: bool = False) -> str:
    """The target kind a layout gets: each case sees each of its kinds over the layouts."""
    if gradient:  # labels (or one-hot), then soft
        return case.kinds[-GRADIENT_LAYOUTS.index(layout)]
    return case.kinds[(SOFTMAX_LAYOUTS.index(layout) + 2) % len(case.kinds)]


def _softmax_params(*, with_reductions: bool = False, layouts: list[Layout] = SOFTMAX_LAYOUTS) -> list[Any]:
    params = []
    for case in SOFTMAX_CASES:
        for layout in layouts:
            for from_logits in (True, False):
                if (case.logits_only and not from_logits) or (case.probabilities_only and from_logits):
                    continue
                for reduction in REDUCTIONS if with_reductions else (None,):
                    values = (case, layout, from_logits) + ((reduction,) if with_reductions else ())
                    ids = [case.name, layout.name, "logits" if from_logits else "probs"]
                    params.append(pytest.param(*values, id="-".join([*ids, *([reduction] if reduction else [])])))
    return params


def _call_softmax(backend: Backend, case: Case, layout: Layout, kind: str, from_logits: bool, dtype: type,
                  reduction: str, *, grad: bool = False) -> Any:
    data = softmax_data(case, layout, kind, from_logits, dtype)
    x, t = backend.asarray(data.prediction), backend.asarray(data.target)
    options = _to_backend(backend, data.options)
    if case.loss is not crossent.logit_adjusted_cross_entropy:
        options["from_logits"] = from_logits
    if grad:
        return crossent.value_and_grad(case.loss, x, t, axis=layout.axis, reduction=reduction, **options)
    return case.loss(x, t, axis=layout.axis, reduction=reduction, **options)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("case", "layout", "from_logits"), _softmax_params())
def test_softmax_family_matches_reference(backend: Backend, case: Case, layout: Layout, from_logits: bool,
                                          dtype: type) -> None:
    kind = _kind(case, layout)
    values = {}
    for reduction in REDUCTIONS:
        got = _call_softmax(backend, case, layout, kind, from_logits, dtype, reduction)
        expected = softmax_expected(case, layout, kind, from_logits, dtype, reduction)
        actual = backend.to_numpy(got)
        assert actual.dtype == dtype, (kind, reduction, actual.dtype)
        assert actual.shape == (layout.batch if reduction == "none" else ()), (kind, reduction)
        assert_close(actual, expected, dtype)
        values[reduction] = actual
    # "none" holds the weighted per-sample losses: their sum is "sum"
    assert_close(np.sum(values["none"], dtype=np.float64), values["sum"], dtype)


GRADIENT_LAYOUTS = [SOFTMAX_LAYOUTS[2], SOFTMAX_LAYOUTS[3]]  # the same shapes: JAX compiles each once


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("case", "layout", "from_logits", "reduction"),
                         _softmax_params(with_reductions=True, layouts=GRADIENT_LAYOUTS))
def test_softmax_gradient_matches_finite_differences(backend: Backend, case: Case, layout: Layout,
                                                     from_logits: bool, reduction: str, dtype: type) -> None:
    kind = _kind(case, layout, gradient=True)
    value, grad = _call_softmax(backend, case, layout, kind, from_logits, dtype, reduction, grad=True)
    assert_close(backend.to_numpy(value), softmax_expected(case, layout, kind, from_logits, dtype, reduction),
                 dtype)
    g = backend.to_numpy(grad)
    expected = softmax_expected_grad(case, layout, kind, from_logits, dtype, reduction)
    assert g.dtype == dtype and g.shape == expected.shape
    assert_close(g, expected, dtype, atol=_scaled_atol(expected, dtype))


# ---------------------------------------------------------------------------------------------
# The sigmoid family (element-wise).

PER_ELEMENT, PER_LABEL = "per_element", "per_label"

BINARY_CASES = [
    Case("bce", crossent.binary_cross_entropy, ref.binary_cross_entropy),
    Case("bce-pos_weight-smoothing", crossent.binary_cross_entropy, ref.binary_cross_entropy,
         {"pos_weight": PER_LABEL, "label_smoothing": 0.1}),
    Case("bce-all-base2", crossent.binary_cross_entropy, ref.binary_cross_entropy,
         {"pos_weight": PER_ELEMENT, "label_smoothing": 0.2, "sample_weight": PER_LABEL, "base": 2}),
    Case("bce-eps-sample_weight", crossent.binary_cross_entropy, ref.binary_cross_entropy,
         {"eps": 1e-3, "sample_weight": PER_ELEMENT}, probabilities_only=True),
    Case("binary_focal", crossent.binary_focal_loss, ref.binary_focal_loss, {"gamma": 2.0}),
    Case("binary_focal-gamma0.5-alpha", crossent.binary_focal_loss, ref.binary_focal_loss,
         {"gamma": 0.5, "alpha": 0.25}),
    Case("binary_focal-alpha-vector-pos_weight-smoothing-sample_weight", crossent.binary_focal_loss,
         ref.binary_focal_loss, {"gamma": 1.5, "alpha": PER_LABEL, "pos_weight": PER_LABEL,
                                 "label_smoothing": 0.1, "sample_weight": PER_ELEMENT, "base": 10}),
    Case("asymmetric", crossent.asymmetric_loss, ref.asymmetric_loss),
    Case("asymmetric-gammas-noclip", crossent.asymmetric_loss, ref.asymmetric_loss,
         {"gamma_pos": 1.0, "gamma_neg": 2.0, "clip": 0.0}),
    Case("asymmetric-clip0.2-gamma0.5-sample_weight", crossent.asymmetric_loss, ref.asymmetric_loss,
         {"gamma_pos": 0.5, "gamma_neg": 1.5, "clip": 0.2, "sample_weight": PER_ELEMENT, "base": 2}),
    Case("asymmetric-is-bce", crossent.asymmetric_loss, ref.asymmetric_loss,
         {"gamma_pos": 0.0, "gamma_neg": 0.0, "clip": 0.0, "eps": 1e-4}, probabilities_only=True),
]

BINARY_SHAPES = [(1,), (7, 2), (2, 4, 3)]  # the softmax layouts' shapes: JAX compiles once
BINARY_KINDS = ("hard", "soft")


@dataclass(frozen=True)
class BinaryData:
    prediction: np.ndarray  # test dtype
    target: np.ndarray  # test dtype
    options: dict[str, Any]
    ref_prediction: np.ndarray
    ref_target: np.ndarray
    ref_options: dict[str, Any]


@functools.cache
def binary_data(case: Case, shape: tuple[int, ...], kind: str, from_logits: bool, dtype: type,
                scale: float = 2.0) -> BinaryData:
    rng = _rng(case.name, shape, kind, from_logits, scale)
    logits = rng.normal(size=shape) * scale
    clip = case.options.get("clip", 0.05) if case.loss is crossent.asymmetric_loss else 0.0
    if clip and scale < 100:  # keep p away from the asymmetric loss's kink at p = clip
        kink = math.log(clip / (1 - clip))
        logits = np.where(np.abs(logits - kink) < 0.05, kink + 0.1, logits)
    x = logits if from_logits else 1 / (1 + np.exp(-logits))
    x = x.astype(dtype)
    target = (rng.random(shape) < 0.5).astype(np.float64) if kind == "hard" else rng.random(shape)
    target = target.astype(dtype)
    options: dict[str, Any] = {}
    for key, value in case.options.items():
        if value in (PER_ELEMENT, PER_LABEL):
            size = shape if value == PER_ELEMENT else shape[-1:]
            value = (rng.uniform(0.0, 1.0, size) if key == "alpha" else rng.uniform(0.2, 2.0, size)).astype(dtype)
        options[key] = value
    ref_options = {k: v.astype(np.float64) if isinstance(v, np.ndarray) else v for k, v in options.items()}
    return BinaryData(x, target, options, x.astype(np.float64), target.astype(np.float64), ref_options)


def _binary_reference(case: Case, data: BinaryData, from_logits: bool, reduction: str,
                      prediction: np.ndarray | None = None) -> Any:
    return case.reference(data.ref_prediction if prediction is None else prediction, data.ref_target,
                          from_logits=from_logits, reduction=reduction, **data.ref_options)


@functools.cache
def binary_expected(case: Case, shape: tuple[int, ...], kind: str, from_logits: bool, dtype: type,
                    reduction: str, scale: float = 2.0) -> Any:
    return _binary_reference(case, binary_data(case, shape, kind, from_logits, dtype, scale), from_logits,
                             reduction)


@functools.cache
def binary_expected_grad(case: Case, shape: tuple[int, ...], kind: str, from_logits: bool, dtype: type,
                         reduction: str, scale: float = 2.0) -> np.ndarray:
    data = binary_data(case, shape, kind, from_logits, dtype, scale)
    h = 2.0**-10 if from_logits else 2.0**-18

    def f(x: np.ndarray) -> float:
        return float(np.sum(_binary_reference(case, data, from_logits, reduction, prediction=x)))

    return ref.numerical_grad(f, data.ref_prediction, h)


def _call_binary(backend: Backend, case: Case, shape: tuple[int, ...], kind: str, from_logits: bool,
                 dtype: type, reduction: str, *, grad: bool = False, scale: float = 2.0) -> Any:
    data = binary_data(case, shape, kind, from_logits, dtype, scale)
    x, t = backend.asarray(data.prediction), backend.asarray(data.target)
    options = _to_backend(backend, data.options)
    if grad:
        return crossent.value_and_grad(case.loss, x, t, from_logits=from_logits, reduction=reduction, **options)
    return case.loss(x, t, from_logits=from_logits, reduction=reduction, **options)


def _binary_params(*, with_reductions: bool = False, shapes: list[tuple[int, ...]] = BINARY_SHAPES) -> list[Any]:
    params = []
    for case in BINARY_CASES:
        for shape in shapes:
            for from_logits in (True, False):
                if (case.logits_only and not from_logits) or (case.probabilities_only and from_logits):
                    continue
                for reduction in REDUCTIONS if with_reductions else (None,):
                    values = (case, shape, from_logits) + ((reduction,) if with_reductions else ())
                    ids = [case.name, "x".join(map(str, shape)), "logits" if from_logits else "probs"]
                    params.append(pytest.param(*values, id="-".join([*ids, *([reduction] if reduction else [])])))
    return params


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("case", "shape", "from_logits"), _binary_params())
def test_sigmoid_family_matches_reference(backend: Backend, case: Case, shape: tuple[int, ...],
                                          from_logits: bool, dtype: type) -> None:
    for kind in BINARY_KINDS:
        values = {}
        for reduction in REDUCTIONS:
            actual = backend.to_numpy(_call_binary(backend, case, shape, kind, from_logits, dtype, reduction))
            assert actual.dtype == dtype, (kind, reduction, actual.dtype)
            assert actual.shape == (shape if reduction == "none" else ()), (kind, reduction)
            assert_close(actual, binary_expected(case, shape, kind, from_logits, dtype, reduction), dtype)
            values[reduction] = actual
        assert_close(np.sum(values["none"], dtype=np.float64), values["sum"], dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("case", "shape", "from_logits", "reduction"),
                         _binary_params(with_reductions=True, shapes=[(7, 2)]))
def test_sigmoid_gradient_matches_finite_differences(backend: Backend, case: Case, shape: tuple[int, ...],
                                                     from_logits: bool, reduction: str, dtype: type) -> None:
    kind = "soft" if reduction == "sum" else "hard"
    value, grad = _call_binary(backend, case, shape, kind, from_logits, dtype, reduction, grad=True)
    assert_close(backend.to_numpy(value), binary_expected(case, shape, kind, from_logits, dtype, reduction), dtype)
    g = backend.to_numpy(grad)
    expected = binary_expected_grad(case, shape, kind, from_logits, dtype, reduction)
    assert g.dtype == dtype and g.shape == expected.shape
    assert_close(g, expected, dtype, atol=_scaled_atol(expected, dtype))
