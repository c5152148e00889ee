"""Every crossent loss against the float64 reference formulas of tests/reference.py.

Over shapes with 1 row, 1 class, 2 classes and N-d inputs with the class axis in the middle,
over the options that change the formula, in every reduction, from logits and from
probabilities, in float64 (rtol(float64)) and float32 (rtol(float32)); gradients of
``value_and_grad`` against finite differences of the reference; logits of ±1e4; float16 and
bfloat16 inputs; exact 0 and 1 probabilities; a zero total weight.

Every test runs on NumPy, array-api-strict, PyTorch and JAX (the ``backend`` fixture, here
parametrized indirectly). JAX compiles each operation once per shape and dtype, about 20 ms a time
on a small machine, so on JAX the sweeps use one layout, N-d with the class axis in the middle
(prediction shape (2, 4, 3), also the element-wise losses' shape there); every other backend gets
every layout.

Reference values and finite differences are cached per input (they do not depend on the
backend), so each is computed once for all backends.
"""

from __future__ import annotations

import functools
import math
import warnings
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest

import crossent
import reference as ref
from conftest import BACKENDS, Backend, assert_close, rtol

REDUCTIONS = ("none", "sum", "mean")
DTYPES = (np.float64, np.float32)


def _rng(*key: Any) -> np.random.Generator:
    return np.random.default_rng(zlib.crc32(repr(key).encode()))


def _to_backend(backend: Backend, options: dict[str, Any]) -> dict[str, Any]:
    return {k: backend.asarray(v) if isinstance(v, np.ndarray) else v for k, v in options.items()}


def _as_float64(backend: Backend, a: Any) -> np.ndarray:
    """A backend array as float64 NumPy, also from float16/bfloat16 (which torch cannot export)."""
    if backend.name == "torch":
        import torch

        return a.detach().to(torch.float64).cpu().numpy()
    return np.asarray(backend.to_numpy(backend.xp.astype(a, backend.xp.float64)))


def _scaled_atol(expected: np.ndarray, dtype: Any) -> float:
    """Absolute tolerance for a gradient whose entries vary in size: rtol × its largest entry."""
    finite = np.abs(np.asarray(expected)[np.isfinite(expected)])
    return rtol(dtype) * (float(finite.max()) if finite.size else 1.0)


@dataclass(frozen=True, eq=False)  # hashed by identity, for the caches
class Case:
    name: str
    loss: Any  # the crossent loss
    reference: Any  # the tests/reference.py formula
    options: dict[str, Any] = field(default_factory=dict)
    kinds: tuple[str, ...] = ("labels", "onehot", "soft")  # target kinds it takes (softmax family)
    logits_only: bool = False  # an option that needs logits (z_loss, logit_softcap, priors)
    probabilities_only: bool = False  # eps clips probabilities

    def modes(self) -> list[bool]:
        """The from_logits values this case takes."""
        return [m for m in (True, False) if not (self.logits_only and not m) and not (self.probabilities_only and m)]


@dataclass(frozen=True)
class Layout:
    name: str
    batch: tuple[int, ...]  # the prediction's shape without the class axis (softmax), or its shape (binary)
    num_classes: int  # 0 for the element-wise losses
    axis: int  # where crossent gets the class axis; the reference always has it last


def _params(cases: list[Case], layouts: list[Layout], jax_layouts: list[Layout], *,
            reductions: Iterable[str | None] = (None,), dtypes: Iterable[Any] = DTYPES,
            backends: Iterable[str] = BACKENDS, logits_only: bool = False) -> list[Any]:
    """(backend, case, layout, from_logits, dtype[, reduction]) for every combination that applies;
    ``backend`` is the conftest fixture, parametrized indirectly."""
    params = []
    for name in backends:
        for case in cases:
            for layout in jax_layouts if name == "jax" else layouts:
                for from_logits in [True] if logits_only else case.modes():
                    for dtype in dtypes:
                        for reduction in reductions:
                            values = (name, case, layout, from_logits, dtype)
                            ids = [name, case.name, layout.name, "logits" if from_logits else "probs",
                                   np.dtype(dtype).name if dtype in DTYPES else str(dtype)]
                            if reduction is not None:
                                values, ids = (*values, reduction), [*ids, reduction]
                            params.append(pytest.param(*values, id="-".join(ids)))
    return params


ARGS = ("backend", "case", "layout", "from_logits", "dtype")
ARGS_REDUCTION = (*ARGS, "reduction")


def _check_reductions(values: dict[str, np.ndarray], expected: dict[str, Any], shape: tuple[int, ...],
                      dtype: Any) -> None:
    for reduction in REDUCTIONS:
        actual = values[reduction]
        assert actual.dtype == dtype, (reduction, actual.dtype)
        assert actual.shape == (shape if reduction == "none" else ()), reduction
        assert_close(actual, expected[reduction], dtype)
    # "none" holds the weighted per-sample (BCE: per-element) losses: their sum is "sum"
    assert_close(np.sum(values["none"], dtype=np.float64), values["sum"], dtype)


# ---------------------------------------------------------------------------------------------
# The softmax family.

PER_CLASS, PER_SAMPLE = "per_class", "per_sample"  # stand-ins for arrays drawn per input
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
LOGIT_CASES = [case for case in SOFTMAX_CASES if not case.probabilities_only]

ONE_ROW, ONE_CLASS, TWO_CLASSES, MIDDLE_AXIS, FOUR_D = SOFTMAX_LAYOUTS = [
    Layout("1row", (1,), 3, -1),
    Layout("1class", (5,), 1, -1),
    Layout("7x2", (7,), 2, -1),
    Layout("2x4x3-axis1", (2, 3), 4, 1),
    Layout("3x2x5x2-axis-2", (3, 2, 2), 5, -2),
]
JAX_LAYOUTS = [MIDDLE_AXIS]  # see the module docstring
GRADIENT_LAYOUTS = [TWO_CLASSES, MIDDLE_AXIS]  # small (few finite differences), shapes shared with the sweep


@dataclass(frozen=True)
class Data:
    prediction: np.ndarray  # crossent's layout, in the test dtype
    target: np.ndarray  # crossent's layout (labels, or with the class axis at layout.axis)
    options: dict[str, Any]  # NumPy arrays in the test dtype, or Python numbers
    ref_prediction: np.ndarray  # float64, class axis last
    ref_target: np.ndarray  # class axis last
    ref_options: dict[str, Any]  # float64


def _kind(case: Case, layout: Layout, gradient: bool) -> str:
    """The target kind a layout gets, so that each case sees each of its kinds over the layouts."""
    if gradient:  # labels (or one-hot), then soft
        return case.kinds[-GRADIENT_LAYOUTS.index(layout)]
    return case.kinds[(SOFTMAX_LAYOUTS.index(layout) + 2) % len(case.kinds)]


EXTREMES = np.array([-1e4, 0.0, 1e4])


@functools.cache
def softmax_data(case: Case, layout: Layout, from_logits: bool, dtype: Any, gradient: bool = False,
                 extreme: bool = False) -> Data:
    kind = _kind(case, layout, gradient)
    rng = _rng(case.name, layout.name, kind, from_logits, extreme)
    batch, c = layout.batch, layout.num_classes
    n = int(np.prod(batch))
    logits = rng.choice(EXTREMES, size=(*batch, c)) if extreme else rng.normal(size=(*batch, c)) * 1.5
    if from_logits:
        x = logits
    else:
        x = np.exp(logits - logits.max(-1, keepdims=True))
        x = x / x.sum(-1, keepdims=True)
    x = x.astype(dtype)
    labels = rng.integers(0, c, size=batch)
    if kind == "labels":
        ignore = case.options.get("ignore_index")
        if ignore is not None:  # about a third of the samples; all of them for one row
            dropped = rng.random(batch) < 0.35
            dropped.reshape(-1)[0] = True
            labels = np.where(dropped, ignore, labels)
        target = ref_target = labels.astype(np.int64 if len(batch) % 2 else np.int32)  # any integer dtype
    else:
        dense = np.eye(c)[labels] if kind == "onehot" else rng.dirichlet(np.ones(c), size=batch)
        if kind == "soft" and n > 1:
            dense.reshape(n, c)[1] = 0.0  # an all-zero row is an ignored sample
        dense = dense.astype(dtype)
        ref_target, target = dense.astype(np.float64), np.moveaxis(dense, -1, layout.axis)
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
    return Data(np.moveaxis(x, -1, layout.axis), target, options, x.astype(np.float64), ref_target, ref_options)


def _softmax_reference(case: Case, data: Data, from_logits: bool, reduction: str,
                       prediction: np.ndarray | None = None) -> Any:
    options = dict(data.ref_options)
    if case.reference is not ref.logit_adjusted_cross_entropy:
        options["from_logits"] = from_logits
    return case.reference(data.ref_prediction if prediction is None else prediction, data.ref_target,
                          reduction=reduction, **options)


@functools.cache
def softmax_expected(case: Case, layout: Layout, from_logits: bool, dtype: Any, reduction: str,
                     gradient: bool = False, extreme: bool = False) -> Any:
    data = softmax_data(case, layout, from_logits, dtype, gradient, extreme)
    return _softmax_reference(case, data, from_logits, reduction)


@functools.cache
def softmax_expected_grad(case: Case, layout: Layout, from_logits: bool, dtype: Any, reduction: str,
                          extreme: bool = False) -> np.ndarray:
    """Finite differences of the reference (of the sum of "none"), in crossent's layout."""
    data = softmax_data(case, layout, from_logits, dtype, True, extreme)
    h = 2.0**-10 if from_logits else 2.0**-16  # probabilities can be ~0.01: a smaller step

    def f(x: np.ndarray) -> float:
        return float(np.sum(_softmax_reference(case, data, from_logits, reduction, prediction=x)))

    return np.moveaxis(ref.numerical_grad(f, data.ref_prediction, h), -1, layout.axis)


def _call(backend: Backend, case: Case, data: Data, from_logits: bool, reduction: str, *,
          axis: int | None = None, grad: bool = False, dtype: Any = None) -> Any:
    x, t = backend.asarray(data.prediction, dtype), backend.asarray(data.target)
    options = _to_backend(backend, data.options)
    if case.loss is not crossent.logit_adjusted_cross_entropy:
        options["from_logits"] = from_logits
    if axis is not None:
        options["axis"] = axis
    if grad:
        return crossent.value_and_grad(case.loss, x, t, reduction=reduction, **options)
    return case.loss(x, t, reduction=reduction, **options)


@pytest.mark.parametrize(ARGS, _params(SOFTMAX_CASES, SOFTMAX_LAYOUTS, JAX_LAYOUTS), indirect=["backend"])
def test_softmax_family_matches_reference(backend: Backend, case: Case, layout: Layout, from_logits: bool,
                                          dtype: Any) -> None:
    data = softmax_data(case, layout, from_logits, dtype)
    values = {r: backend.to_numpy(_call(backend, case, data, from_logits, r, axis=layout.axis))
              for r in REDUCTIONS}
    expected = {r: softmax_expected(case, layout, from_logits, dtype, r) for r in REDUCTIONS}
    _check_reductions(values, expected, layout.batch, dtype)


def _gradient_params(cases: list[Case], layouts: list[Layout], jax_layouts: list[Layout]) -> list[Any]:
    """float64 in every reduction; float32 in "mean" (the reductions differ only by a scale factor)."""
    return (_params(cases, layouts, jax_layouts, reductions=REDUCTIONS, dtypes=[np.float64])
            + _params(cases, layouts, jax_layouts, reductions=["mean"], dtypes=[np.float32]))


@pytest.mark.parametrize(ARGS_REDUCTION, _gradient_params(SOFTMAX_CASES, GRADIENT_LAYOUTS, JAX_LAYOUTS),
                         indirect=["backend"])
def test_softmax_gradient_matches_finite_differences(backend: Backend, case: Case, layout: Layout,
                                                     from_logits: bool, dtype: Any, reduction: str) -> None:
    data = softmax_data(case, layout, from_logits, dtype, gradient=True)
    value, grad = _call(backend, case, data, from_logits, reduction, axis=layout.axis, grad=True)
    expected = softmax_expected(case, layout, from_logits, dtype, reduction, gradient=True)
    assert_close(backend.to_numpy(value), expected, dtype)
    g = backend.to_numpy(grad)
    expected_grad = softmax_expected_grad(case, layout, from_logits, dtype, reduction)
    assert g.dtype == dtype and g.shape == expected_grad.shape
    assert_close(g, expected_grad, dtype, atol=_scaled_atol(expected_grad, dtype))


@pytest.mark.parametrize(ARGS, _params(LOGIT_CASES, [MIDDLE_AXIS], [MIDDLE_AXIS], logits_only=True),
                         indirect=["backend"])
def test_softmax_extreme_logits_are_exact(backend: Backend, case: Case, layout: Layout, from_logits: bool,
                                          dtype: Any) -> None:
    """Logits of ±1e4 and 0: finite values equal to the reference, finite exact gradients."""
    data = softmax_data(case, layout, from_logits, dtype, gradient=True, extreme=True)
    values = {r: backend.to_numpy(_call(backend, case, data, from_logits, r, axis=layout.axis))
              for r in REDUCTIONS}
    expected = {r: softmax_expected(case, layout, from_logits, dtype, r, gradient=True, extreme=True)
                for r in REDUCTIONS}
    assert all(np.isfinite(v).all() for v in values.values())
    _check_reductions(values, expected, layout.batch, dtype)
    _, grad = _call(backend, case, data, from_logits, "mean", axis=layout.axis, grad=True)
    g = backend.to_numpy(grad)
    expected_grad = softmax_expected_grad(case, layout, from_logits, dtype, "mean", extreme=True)
    assert np.isfinite(g).all()
    assert_close(g, expected_grad, dtype, atol=_scaled_atol(expected_grad, dtype))


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
BINARY_LOGIT_CASES = [case for case in BINARY_CASES if not case.probabilities_only]

# The shapes of softmax layouts' predictions, so that JAX compiles them once.
SCALAR_ROW, MATRIX, CUBE = BINARY_LAYOUTS = [
    Layout("1", (1,), 0, -1), Layout("7x2", (7, 2), 0, -1), Layout("2x4x3", (2, 4, 3), 0, -1)]


@functools.cache
def binary_data(case: Case, layout: Layout, from_logits: bool, dtype: Any, soft: bool,
                extreme: bool = False) -> Data:
    shape = layout.batch
    rng = _rng(case.name, shape, soft, from_logits, extreme)
    logits = rng.choice(EXTREMES, size=shape) if extreme else rng.normal(size=shape) * 2.0
    clip = case.options.get("clip", 0.05) if case.loss is crossent.asymmetric_loss else 0.0
    if clip and not extreme:  # keep p away from the asymmetric loss's kink at p = clip
        kink = math.log(clip / (1 - clip))
        logits = np.where(np.abs(logits - kink) < 0.05, kink + 0.1, logits)
    x = (logits if from_logits else 1 / (1 + np.exp(-logits))).astype(dtype)
    target = (rng.random(shape) if soft else (rng.random(shape) < 0.5).astype(np.float64)).astype(dtype)
    options: dict[str, Any] = {}
    for key, value in case.options.items():
        if value in (PER_ELEMENT, PER_LABEL):
            size = shape if value == PER_ELEMENT else shape[-1:]
            value = (rng.uniform(0.0, 1.0, size) if key == "alpha" else rng.uniform(0.2, 2.0, size)).astype(dtype)
        options[key] = value
    ref_options = {k: v.astype(np.float64) if isinstance(v, np.ndarray) else v for k, v in options.items()}
    return Data(x, target, options, x.astype(np.float64), target.astype(np.float64), ref_options)


def _binary_reference(case: Case, data: Data, from_logits: bool, reduction: str,
                      prediction: np.ndarray | None = None) -> Any:
    return case.reference(data.ref_prediction if prediction is None else prediction, data.ref_target,
                          from_logits=from_logits, reduction=reduction, **data.ref_options)


@functools.cache
def binary_expected(case: Case, layout: Layout, from_logits: bool, dtype: Any, soft: bool, reduction: str,
                    extreme: bool = False) -> Any:
    return _binary_reference(case, binary_data(case, layout, from_logits, dtype, soft, extreme), from_logits,
                             reduction)


@functools.cache
def binary_expected_grad(case: Case, layout: Layout, from_logits: bool, dtype: Any, soft: bool, reduction: str,
                         extreme: bool = False) -> np.ndarray:
    data = binary_data(case, layout, from_logits, dtype, soft, extreme)
    h = 2.0**-10 if from_logits else 2.0**-18

    def f(x: np.ndarray) -> float:
        return float(np.sum(_binary_reference(case, data, from_logits, reduction, prediction=x)))

    return ref.numerical_grad(f, data.ref_prediction, h)


@pytest.mark.parametrize(ARGS, _params(BINARY_CASES, BINARY_LAYOUTS, [CUBE]), indirect=["backend"])
@pytest.mark.parametrize("soft", [False, True], ids=["hard", "soft"])
def test_sigmoid_family_matches_reference(backend: Backend, case: Case, layout: Layout, from_logits: bool,
                                          dtype: Any, soft: bool) -> None:
    data = binary_data(case, layout, from_logits, dtype, soft)
    values = {r: backend.to_numpy(_call(backend, case, data, from_logits, r)) for r in REDUCTIONS}
    expected = {r: binary_expected(case, layout, from_logits, dtype, soft, r) for r in REDUCTIONS}
    _check_reductions(values, expected, layout.batch, dtype)


@pytest.mark.parametrize(ARGS_REDUCTION, _gradient_params(BINARY_CASES, [MATRIX], [CUBE]), indirect=["backend"])
def test_sigmoid_gradient_matches_finite_differences(backend: Backend, case: Case, layout: Layout,
                                                     from_logits: bool, dtype: Any, reduction: str) -> None:
    soft = reduction != "none"
    data = binary_data(case, layout, from_logits, dtype, soft)
    value, grad = _call(backend, case, data, from_logits, reduction, grad=True)
    assert_close(backend.to_numpy(value), binary_expected(case, layout, from_logits, dtype, soft, reduction), dtype)
    g = backend.to_numpy(grad)
    expected = binary_expected_grad(case, layout, from_logits, dtype, soft, reduction)
    assert g.dtype == dtype and g.shape == expected.shape
    assert_close(g, expected, dtype, atol=_scaled_atol(expected, dtype))


@pytest.mark.parametrize(ARGS, _params(BINARY_LOGIT_CASES, [CUBE], [CUBE], logits_only=True), indirect=["backend"])
def test_sigmoid_extreme_logits_are_exact(backend: Backend, case: Case, layout: Layout, from_logits: bool,
                                          dtype: Any) -> None:
    data = binary_data(case, layout, from_logits, dtype, True, extreme=True)
    values = {r: backend.to_numpy(_call(backend, case, data, from_logits, r)) for r in REDUCTIONS}
    expected = {r: binary_expected(case, layout, from_logits, dtype, True, r, extreme=True) for r in REDUCTIONS}
    assert all(np.isfinite(v).all() for v in values.values())
    _check_reductions(values, expected, layout.batch, dtype)
    _, grad = _call(backend, case, data, from_logits, "mean", grad=True)
    g = backend.to_numpy(grad)
    expected_grad = binary_expected_grad(case, layout, from_logits, dtype, True, "mean", extreme=True)
    assert np.isfinite(g).all()
    assert_close(g, expected_grad, dtype, atol=_scaled_atol(expected_grad, dtype))


# ---------------------------------------------------------------------------------------------
# Half precision: computed in float32, the loss returned in at least float32, the gradient in the
# input's dtype. The reference is computed from the input as rounded to half precision.

HALF = ("float16", "bfloat16")


def _half_rtol(name: str) -> float:
    """rtol (4·√eps) of a half-precision dtype; conftest's rtol needs np.finfo, which lacks bfloat16."""
    eps = {"float16": 2.0**-10, "bfloat16": 2.0**-7}[name]
    return 4 * math.sqrt(eps)


HALF_CASES = [*SOFTMAX_CASES, *BINARY_CASES]


@pytest.mark.parametrize(ARGS, _params(HALF_CASES, [MIDDLE_AXIS], [MIDDLE_AXIS], dtypes=HALF,
                                       backends=["torch", "jax"]), indirect=["backend"])
def test_half_precision_inputs_are_computed_in_float32(backend: Backend, case: Case, layout: Layout,
                                                       from_logits: bool, dtype: str) -> None:
    binary = case in BINARY_CASES
    if binary:
        layout = CUBE
        data = binary_data(case, layout, from_logits, np.float32, True)
    else:
        data = softmax_data(case, layout, from_logits, np.float32)
    half = getattr(backend.xp, dtype)
    x = backend.xp.astype(backend.asarray(data.prediction), half)
    rounded = _as_float64(backend, x)
    ref_prediction = rounded if binary else np.moveaxis(rounded, layout.axis, -1)
    rounded_data = Data(data.prediction, data.target, data.options, ref_prediction, data.ref_target,
                        data.ref_options)
    reference = _binary_reference if binary else _softmax_reference
    axis = None if binary else layout.axis
    t = backend.asarray(data.target)
    options = _to_backend(backend, data.options)
    if case.loss is not crossent.logit_adjusted_cross_entropy:
        options["from_logits"] = from_logits
    if axis is not None:
        options["axis"] = axis
    for reduction in ("none", "mean"):
        value = case.loss(x, t, reduction=reduction, **options)
        assert str(value.dtype).rsplit(".", 1)[-1] in ("float32", "float64")
        assert_close(_as_float64(backend, value), reference(case, rounded_data, from_logits, reduction), np.float32)
    value, grad = crossent.value_and_grad(case.loss, x, t, reduction="sum", **options)
    assert grad.dtype == x.dtype and tuple(grad.shape) == tuple(x.shape)
    h = 2.0**-10 if from_logits else 2.0**-16

    def f(p: np.ndarray) -> float:
        return float(np.sum(reference(case, rounded_data, from_logits, "sum", prediction=p)))

    expected = ref.numerical_grad(f, ref_prediction, h)
    expected = expected if binary else np.moveaxis(expected, -1, layout.axis)
    tol = _half_rtol(dtype)
    np.testing.assert_allclose(_as_float64(backend, grad), expected, rtol=tol,
                               atol=tol * float(np.abs(expected).max()))


# ---------------------------------------------------------------------------------------------
# From probabilities: exact 0 and 1, -log 0 = inf, eps clipping.

EDGE_PROBABILITIES = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.5, 0.5, 0.0], [0.0, 0.0, 1.0],
                               [0.25, 0.75, 0.0]])
EDGE_LABELS = np.array([0, 0, 2, 2, 1])  # loss 0, inf, inf, 0, finite
EDGE_BINARY_P = np.array([0.0, 1.0, 0.0, 1.0, 0.5, 0.0, 1.0])
EDGE_BINARY_Y = np.array([0.0, 1.0, 1.0, 0.0, 1.0, 0.3, 0.6])  # loss 0, 0, inf, inf (ASL: finite), finite, inf, inf

def _edge(loss: Any, reference: Any, options: dict[str, Any], name: str) -> Any:
    softmax = loss in (crossent.cross_entropy, crossent.focal_loss, crossent.poly1_cross_entropy)
    p, y = (EDGE_PROBABILITIES, EDGE_LABELS) if softmax else (EDGE_BINARY_P, EDGE_BINARY_Y)
    return pytest.param(loss, reference, options, p, y, id=name)


def _edge_cases() -> list[Any]:
    return [
        _edge(crossent.cross_entropy, ref.cross_entropy, {}, "ce"),
        _edge(crossent.cross_entropy, ref.cross_entropy,
              {"weight": np.array([0.5, 2.0, 1.0]), "label_smoothing": 0.1}, "ce-weight-smoothing"),
        _edge(crossent.focal_loss, ref.focal_loss, {"gamma": 2.0}, "focal"),
        _edge(crossent.focal_loss, ref.focal_loss, {"gamma": 0.5, "alpha": 0.25}, "focal-gamma0.5"),
        _edge(crossent.poly1_cross_entropy, ref.poly1_cross_entropy, {"epsilon": 1.0}, "poly1"),
        _edge(crossent.binary_cross_entropy, ref.binary_cross_entropy, {}, "bce"),
        _edge(crossent.binary_cross_entropy, ref.binary_cross_entropy,
              {"pos_weight": np.array(2.0), "label_smoothing": 0.1}, "bce-pos_weight-smoothing"),
        _edge(crossent.binary_focal_loss, ref.binary_focal_loss, {"gamma": 2.0, "alpha": 0.25}, "binary_focal"),
        _edge(crossent.binary_focal_loss, ref.binary_focal_loss, {"gamma": 0.5}, "binary_focal-gamma0.5"),
        _edge(crossent.asymmetric_loss, ref.asymmetric_loss, {}, "asymmetric"),
        _edge(crossent.asymmetric_loss, ref.asymmetric_loss, {"gamma_pos": 0.5, "gamma_neg": 2.0, "clip": 0.0},
              "asymmetric-gamma_pos0.5-noclip"),
    ]


EDGE_ARGS = ("loss", "reference", "options", "p", "y")


def _edge_inputs(backend: Backend, p: np.ndarray, y: np.ndarray, options: dict[str, Any],
                 dtype: Any) -> tuple[Any, Any, dict[str, Any]]:
    x = backend.asarray(p.astype(dtype))
    t = backend.asarray(y if y.dtype.kind == "i" else y.astype(dtype))
    opts = {k: backend.asarray(v.astype(dtype)) if isinstance(v, np.ndarray) else v for k, v in options.items()}
    return x, t, opts


@pytest.mark.parametrize("dtype", DTYPES, ids=["float64", "float32"])
@pytest.mark.parametrize(EDGE_ARGS, _edge_cases())
def test_exact_zero_and_one_probabilities(backend: Backend, loss: Any, reference: Any, options: dict[str, Any],
                                          p: np.ndarray, y: np.ndarray, dtype: Any) -> None:
    """-log 0 = inf where a counted class has p = 0, 0 where p = 1: no NaN, no warning."""
    x, t, opts = _edge_inputs(backend, p, y, options, dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        values = {r: backend.to_numpy(loss(x, t, from_logits=False, reduction=r, **opts)) for r in REDUCTIONS}
    expected = {r: reference(p, y, from_logits=False, reduction=r, **options) for r in REDUCTIONS}
    assert np.isinf(expected["none"]).any()  # the inputs do test -log 0
    _check_reductions(values, expected, expected["none"].shape, dtype)


@pytest.mark.parametrize("dtype", DTYPES, ids=["float64", "float32"])
@pytest.mark.parametrize(EDGE_ARGS, _edge_cases())
def test_exact_zero_and_one_probabilities_gradient(backend: Backend, loss: Any, reference: Any,
                                                   options: dict[str, Any], p: np.ndarray, y: np.ndarray,
                                                   dtype: Any) -> None:
    """No NaN and no warning: finite where the loss is finite; where the loss is inf (a counted p = 0, or
    p = 1 against a negative target), -inf at p = 0 and +inf at p = 1."""
    x, t, opts = _edge_inputs(backend, p, y, options, dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _, grad = crossent.value_and_grad(loss, x, t, from_logits=False, reduction="none", **opts)
    g = backend.to_numpy(grad)
    assert not np.isnan(g).any(), g
    loss_is_finite = np.isfinite(reference(p, y, from_logits=False, reduction="none", **options))
    assert np.isfinite(g[loss_is_finite]).all()
    infinite = np.isinf(g)
    assert (g[infinite] == np.where(p == 0, -np.inf, np.inf)[infinite]).all()
    assert (p[infinite] != 0.5).all()


@pytest.mark.parametrize("dtype", DTYPES, ids=["float64", "float32"])
@pytest.mark.parametrize(EDGE_ARGS, _edge_cases())
def test_eps_clips_probabilities(backend: Backend, loss: Any, reference: Any, options: dict[str, Any],
                                 p: np.ndarray, y: np.ndarray, dtype: Any) -> None:
    """With eps the probabilities are clipped to [eps, 1 - eps]: finite, and no gradient where clipped."""
    x, t, opts = _edge_inputs(backend, p, y, options, dtype)
    eps = 1e-4
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        values = {r: backend.to_numpy(loss(x, t, from_logits=False, reduction=r, eps=eps, **opts))
                  for r in REDUCTIONS}
        _, grad = crossent.value_and_grad(loss, x, t, from_logits=False, reduction="sum", eps=eps, **opts)
    expected = {r: reference(p, y, from_logits=False, reduction=r, eps=eps, **options) for r in REDUCTIONS}
    assert np.isfinite(expected["none"]).all()
    _check_reductions(values, expected, expected["none"].shape, dtype)
    g = backend.to_numpy(grad)
    assert np.isfinite(g).all()
    clipped = (p < eps) | (p > 1 - eps)
    assert (g[clipped] == 0).all()
    assert (g[~clipped] != 0).any()


# ---------------------------------------------------------------------------------------------
# A zero total weight: "mean" is 0 with a zero gradient.

ZERO_WEIGHT = [
    pytest.param(crossent.cross_entropy, {"ignore_index": IGNORE}, "labels", id="ce-all-ignored"),
    pytest.param(crossent.focal_loss, {"sample_weight": np.zeros(4)}, "labels", id="focal-zero-sample_weight"),
    pytest.param(crossent.poly1_cross_entropy, {"weight": np.array([0.0, 0.0, 1.0])}, "onehot",
                 id="poly1-zero-class-weight"),
    pytest.param(crossent.cross_entropy, {}, "zero-rows", id="ce-all-zero-rows"),
    pytest.param(crossent.binary_cross_entropy, {"sample_weight": np.zeros(3)}, "binary", id="bce"),
    pytest.param(crossent.asymmetric_loss, {"sample_weight": np.zeros((4, 1))}, "binary", id="asymmetric"),
]


@pytest.mark.parametrize(("loss", "options", "kind"), ZERO_WEIGHT)
def test_mean_of_zero_total_weight_is_zero(backend: Backend, loss: Any, options: dict[str, Any], kind: str) -> None:
    logits = _rng("zero-weight").normal(size=(4, 3))
    target = {"labels": np.full(4, IGNORE) if "ignore_index" in options else np.array([0, 1, 1, 0]),
              "onehot": np.eye(3)[[0, 1, 1, 0]], "zero-rows": np.zeros((4, 3)),
              "binary": (logits > 0).astype(np.float64)}[kind]
    x, t = backend.asarray(logits), backend.asarray(target)
    opts = _to_backend(backend, options)
    value, grad = crossent.value_and_grad(loss, x, t, reduction="mean", **opts)
    assert float(backend.to_numpy(value)) == 0.0
    g = backend.to_numpy(grad)
    assert g.shape == logits.shape and (g == 0).all()
    reference = {crossent.cross_entropy: ref.cross_entropy, crossent.focal_loss: ref.focal_loss,
                 crossent.poly1_cross_entropy: ref.poly1_cross_entropy,
                 crossent.binary_cross_entropy: ref.binary_cross_entropy,
                 crossent.asymmetric_loss: ref.asymmetric_loss}[loss]
    assert reference(logits, target, reduction="mean", **options) == 0.0
    assert_close(backend.to_numpy(loss(x, t, reduction="sum", **opts)),
                 reference(logits, target, reduction="sum", **options))


# ---------------------------------------------------------------------------------------------
# Information measures and class weights.

DISTRIBUTIONS = np.array([[0.3, 0.7, 0.0], [0.5, 0.25, 0.25], [1.0, 0.0, 0.0], [0.2, 0.3, 0.5]])
OTHERS = np.array([[0.5, 0.5, 0.0], [0.1, 0.1, 0.8], [0.9, 0.1, 0.0], [0.0, 0.5, 0.5]])  # last: D = inf


@pytest.mark.parametrize("base", [None, 2])
def test_entropy_and_kl_match_reference(backend: Backend, base: float | None) -> None:
    p, q = backend.asarray(DISTRIBUTIONS), backend.asarray(OTHERS)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        h = backend.to_numpy(crossent.entropy(p, base=base))
        d = backend.to_numpy(crossent.kl_divergence(p, q, base=base))
        h_t = backend.to_numpy(crossent.entropy(backend.asarray(DISTRIBUTIONS.T.copy()), axis=0, base=base))
    assert_close(h, ref.entropy(DISTRIBUTIONS, base=base))
    assert_close(h_t, ref.entropy(DISTRIBUTIONS, base=base))
    expected = ref.kl_divergence(DISTRIBUTIONS, OTHERS, base=base)
    assert np.isinf(expected[-1])
    assert_close(d, expected)
    # cross-entropy = entropy + KL, from probabilities with soft targets (finite rows)
    ce = backend.to_numpy(crossent.cross_entropy(backend.asarray(OTHERS[:3]), backend.asarray(DISTRIBUTIONS[:3]),
                                                 from_logits=False, reduction="none", base=base))
    assert_close(ce, h[:3] + d[:3])


@pytest.mark.parametrize(("scheme", "beta"), [("balanced", 0.999), ("effective_number", 0.9),
                                              ("effective_number", 0.0), ("effective_number", 0.999)])
def test_class_weights_match_reference(backend: Backend, scheme: str, beta: float) -> None:
    labels = np.array([0, 0, 0, 1, 2, 2, 3, 0, 2, 0])
    got = backend.to_numpy(crossent.class_weights(backend.asarray(labels), scheme=scheme, beta=beta))
    expected = ref.class_weights(labels, scheme=scheme, beta=beta)
    assert got.dtype in (np.float32, np.float64)  # the namespace's default floating dtype (torch: float32)
    assert_close(got, expected, got.dtype)
    if scheme == "effective_number":
        assert_close(got.sum(), 4.0, got.dtype)
