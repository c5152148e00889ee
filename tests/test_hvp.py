"""Hessian-vector products through every loss: torch double backward, torch.func and JAX.

A Hessian-vector product Hv of a crossent loss is taken three ways on crossent's own loss,
``torch.autograd.grad(g, z, v)`` after ``g = torch.autograd.grad(loss, z, create_graph=True)``,
``torch.func.jvp(torch.func.grad(f))`` and ``jax.jvp(jax.grad(f))``, in float32 and float64, and
held to a float64 reference that shares no code with crossent:

- at moderate inputs (every case of tests/test_hessian.py), the Hv of the float64 formula
  written from the papers (``test_hessian.reference``), by torch.func;
- at logits up to |z| = 1e4 (rows where p is one-hot, where two huge logits are one apart, where
  every logit is near -1e4, where 1 - p is far below float32's range), mpmath's mixed second
  differences at 25 digits, of the loss at the float32 inputs themselves (both dtypes get them).

Agreement is to the dtype's tolerance (conftest.rtol) relative to the reference's scale, and
every product is finite. The fused-kernel path (a CPU tensor of more than 65,536 elements under
autograd takes the Numba kernel, whose ``create_graph=True`` backward replays the generic path)
is held to the same references, its rows being copies of the extreme ones.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import crossent
import test_hessian
from cases import BINARY, Case, convert
from conftest import rtol

torch = pytest.importorskip("torch")

CASES = test_hessian.CASES
REDUCTIONS = ("sum", "mean", "none")
DTYPES = ("float32", "float64")


def _id(case: Case) -> str:
    return test_hessian._id(case)


def _target(case: Case, target: np.ndarray, asarray: Callable[..., Any], dtype: Any) -> Any:
    """The target in the library's arrays: integer labels as they are, dense targets in ``dtype``."""
    if case.loss in BINARY or not np.issubdtype(target.dtype, np.integer):
        return asarray(target, dtype)
    return asarray(target)


def _torch(a: Any, dtype: Any = None) -> Any:
    out = torch.asarray(np.asarray(a))
    return out if dtype is None else out.to(dtype)


def hvp_backward(f: Callable[[Any], Any], z: Any, v: Any) -> np.ndarray:
    """Hv by torch's double backward: the gradient with a graph, then its vector-Jacobian product."""
    z = z.clone().requires_grad_()
    (g,) = torch.autograd.grad(f(z), z, create_graph=True)
    assert g.requires_grad
    (hv,) = torch.autograd.grad(g, z, v)
    return hv.double().numpy()


def hvp_func(f: Callable[[Any], Any], z: Any, v: Any) -> np.ndarray:
    """Hv by torch.func, forward over reverse."""
    return torch.func.jvp(torch.func.grad(f), (z,), (v,))[1].double().numpy()


def torch_hvps(case: Case, prediction: np.ndarray, target: np.ndarray, v: np.ndarray, options: dict[str, Any],
               dtype: str) -> dict[str, np.ndarray]:
    """Hv of crossent's loss (its sum, for "none") by double backward and by torch.func, in ``dtype``."""
    dt = getattr(torch, dtype)
    loss = getattr(crossent, case.loss)
    y = _target(case, target, _torch, dt)
    o = convert(options, lambda a: _torch(a, dt))

    def f(x: Any) -> Any:
        return loss(x, y, **o).sum()

    z, w = _torch(prediction, dt), _torch(v, dt)
    return {"backward": hvp_backward(f, z, w), "torch.func": hvp_func(f, z, w)}


def jax_hvp(case: Case, options: dict[str, Any], dtype: str) -> Callable[..., np.ndarray]:
    """Hv of crossent's loss (its sum) by jax.jvp(jax.grad(f)) in ``dtype``, as a function of
    (prediction, target, v), compiled once for every input of the same shapes."""
    jax = pytest.importorskip("jax")
    jnp = jax.numpy
    dt = getattr(jnp, dtype)
    loss = getattr(crossent, case.loss)
    o = convert(options, lambda a: jnp.asarray(a, dtype=dt))

    @jax.jit
    def hvp(z: Any, y: Any, v: Any) -> Any:
        return jax.jvp(jax.grad(lambda x: jnp.sum(loss(x, y, **o))), (z,), (v,))[1]

    def run(prediction: np.ndarray, target: np.ndarray, v: np.ndarray) -> np.ndarray:
        y = _target(case, target, lambda a, d=None: jnp.asarray(a, dtype=d), dt)
        return np.asarray(hvp(jnp.asarray(prediction, dtype=dt), y, jnp.asarray(v, dtype=dt)), dtype=np.float64)

    return run


def assert_hvp(got: np.ndarray, expected: np.ndarray, dtype: str, what: str) -> None:
    """Finite, and within rtol(dtype) of the reference relative to the reference's largest entry."""
    assert got.shape == expected.shape, what
    assert np.all(np.isfinite(got)), f"{what}: not finite at {np.argwhere(~np.isfinite(got)).tolist()}"
    scale = float(np.max(np.abs(expected), initial=0.0))
    error = float(np.max(np.abs(got - expected), initial=0.0))
    assert error <= rtol(dtype) * scale + np.finfo(dtype).tiny, \
        f"{what}: max |Hv - reference| = {error:.3e}, reference scale {scale:.3e}"


# --- moderate inputs: every loss, against the float64 formula -------------------------------------

def reference_hvp(case: Case, prediction: np.ndarray, target: np.ndarray, v: np.ndarray,
                  options: dict[str, Any]) -> np.ndarray:
    def f(x: Any) -> Any:
        return test_hessian.reference(case.loss, x, target, options).sum()

    return hvp_func(f, torch.tensor(prediction, dtype=torch.float64), torch.tensor(v, dtype=torch.float64))


def _moderate(case: Case, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
    prediction, target = test_hessian.make_inputs(case, seed=k)
    v = np.random.default_rng([3, k]).normal(size=prediction.shape)
    options = {**case.options, "reduction": REDUCTIONS[k % 3]}
    return prediction, target, v, options


MODERATE = [pytest.param(case, k, id=_id(case)) for k, case in enumerate(CASES)]


def test_cases_cover_every_loss() -> None:
    assert {case.loss for case in CASES} == set(crossent.losses._define.names())


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("case", "k"), MODERATE)
def test_torch_hvp_is_the_formulas(case: Case, k: int, dtype: str) -> None:
    prediction, target, v, options = _moderate(case, k)
    expected = reference_hvp(case, prediction, target, v, options)
    if case.target != "all_ignored":
        assert np.abs(expected).max() > 1e-3  # (a vacuous comparison would pass at zero)
    for way, got in torch_hvps(case, prediction, target, v, options, dtype).items():
        assert_hvp(got, expected, dtype, way)


# --- logits up to |z| = 1e4, against mpmath ------------------------------------------------------

# mpmath's differences at 25 digits, with 60 bits more in the steps: converged far below float64's
# resolution for these inputs (the same digits as test_hessian's 50 and 300), five times faster
DIGITS, ADDPREC = 25, 60

# softmax rows of 4 classes, each a regime of its own (labels below)
EXTREME_ROWS = np.array([
    [1e4, -1e4, 0.0, 1.0],  # p one-hot, the label at -1e4: a loss of 2e4 and no curvature
    [1e4, 1e4 - 1, 0.0, -1e4],  # two huge logits one apart: a σ(1) split between them
    [-1e4, -1e4 + 0.5, -1e4 + 2, -1e4],  # every logit near -1e4: only their differences count
    [60.0, 0.0, -5.0, 1.0],  # 1 - p of the top class is e^-59: its square is below float32's range
    [-50.0, 50.0, 20.0, 88.0],
])
EXTREME_LABELS = np.array([1, 1, 2, 0, 3])
# binary logits (one per element, in two arrangements against alternating 0/1 targets)
BINARY_Z = np.array([1e4, -1e4, 2.0, 100.0, -100.0, -0.5, 89.5, -89.5, 1.0, 60.0, -60.0, -30.0])


def _binary_extremes(case: Case, variant: int) -> tuple[np.ndarray, np.ndarray]:
    prediction, target = test_hessian.make_inputs(case)
    z = np.roll(BINARY_Z, variant)[:prediction.size].reshape(prediction.shape)
    if case.target != "soft":
        target = (np.arange(prediction.size) % 2).astype(np.float64).reshape(prediction.shape)
    return z, target


def _softmax_extremes(case: Case) -> tuple[np.ndarray, np.ndarray]:
    """The case's own shape, axis and targets, its rows replaced by EXTREME_ROWS (and its labels,
    ignored ones kept, by EXTREME_LABELS)."""
    prediction, target = test_hessian.make_inputs(case)
    axis = case.options.get("axis", -1) % prediction.ndim
    rows = np.moveaxis(prediction, axis, -1)
    count = int(np.prod(rows.shape[:-1]))
    cycle = np.arange(count) % len(EXTREME_ROWS)
    rows = EXTREME_ROWS[cycle].reshape(rows.shape)
    if np.issubdtype(target.dtype, np.integer):
        ignored = case.options.get("ignore_index")
        target = np.where(target == ignored, target, EXTREME_LABELS[cycle].reshape(target.shape))
    return np.moveaxis(rows, -1, axis), target


def extreme_inputs(case: Case, variant: int = 0) -> tuple[np.ndarray, np.ndarray]:
    return _binary_extremes(case, variant) if case.loss in BINARY else _softmax_extremes(case)


def _mp_softmax_row(mp: Any, loss: str, o: dict[str, Any], y: list[float], s: float) -> Callable[[list[Any]], Any]:
    """One sample's loss as an mpmath function of its logits: s Σ_c w_c α_c ỹ_c [-(1 - p_c)^γ log p_c
    + ε (1 - p_c)] + s λ LSE² (a counted sample), z soft-capped then shifted by τ log π."""
    num_classes = len(y)
    count = mp.fsum(mp.mpf(t) for t in y)
    smoothing = mp.mpf(o.get("label_smoothing", 0.0))
    y_smooth = [mp.mpf(t) * (1 - smoothing) + smoothing / num_classes * count for t in y]
    w = np.ones(num_classes) if o.get("weight") is None else o["weight"]
    alpha = np.broadcast_to(1.0 if o.get("alpha") is None else o["alpha"], num_classes)
    a = [mp.mpf(s) * mp.mpf(float(w[c])) * mp.mpf(float(alpha[c])) * y_smooth[c] for c in range(num_classes)]
    gamma = o.get("gamma", 2.0 if loss == "focal_loss" else 0.0)
    epsilon = o.get("epsilon", 2.0 if loss == "poly1_cross_entropy" else 0.0)
    cap, z_loss = o.get("logit_softcap"), o.get("z_loss", 0.0)
    bias = [mp.mpf(0)] * num_classes if o.get("priors") is None else \
        [o.get("tau", 1.0) * mp.log(mp.mpf(float(v))) for v in o["priors"]]

    def f(x: list[Any]) -> Any:
        logits = list(x) if cap is None else [cap * mp.tanh(u / cap) for u in x]
        logits = [u + b for u, b in zip(logits, bias, strict=True)]
        lse = mp.log(mp.fsum(mp.exp(u) for u in logits))
        total = mp.mpf(0)
        for c in range(num_classes):
            if a[c] == 0:
                continue
            q = mp.fsum(mp.exp(logits[k] - lse) for k in range(num_classes) if k != c)  # 1 - p_c, exactly
            total += a[c] * (-(q**gamma if gamma else 1) * (logits[c] - lse) + epsilon * q)
        if z_loss and count > 0:
            total += mp.mpf(s) * z_loss * lse**2
        return total

    return f


def mp_hvp(case: Case, prediction: np.ndarray, target: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Hv of the loss with reduction="sum" (and the case's base) at these float64 inputs, by
    mpmath: f''(z) v per element for the binary losses; per softmax row, the mixed second
    difference ∂²/∂t∂u f(z + t v + u e_j) for each class j."""
    mp = pytest.importorskip("mpmath")
    o = case.options
    out = np.zeros(prediction.shape)
    with mp.workdps(DIGITS):
        if case.loss in BINARY:
            s = np.broadcast_to(o.get("sample_weight", 1.0), prediction.shape)
            w_pos = np.broadcast_to(o.get("pos_weight", 1.0), prediction.shape)
            alpha = None if o.get("alpha") is None else np.broadcast_to(o["alpha"], prediction.shape)
            for k in np.ndindex(prediction.shape):
                f = test_hessian._binary_element(mp, case.loss, o, float(target[k]), float(s[k]), float(w_pos[k]),
                                                 None if alpha is None else float(alpha[k]))
                out[k] = float(mp.diff(f, mp.mpf(float(prediction[k])), 2, addprec=ADDPREC) * mp.mpf(float(v[k])))
        else:
            axis = o.get("axis", -1) % prediction.ndim
            rows = np.moveaxis(prediction, axis, -1)
            num_classes = rows.shape[-1]
            directions = np.moveaxis(v, axis, -1).reshape(-1, num_classes)
            batch = rows.shape[:-1]
            if np.issubdtype(target.dtype, np.integer):
                keep = target != o.get("ignore_index", -(2**62))
                y = (np.eye(num_classes)[np.where(keep, target, 0)] * keep[..., None]).reshape(-1, num_classes)
            else:
                y = np.moveaxis(target, axis, -1).reshape(-1, num_classes)
            s = np.broadcast_to(o.get("sample_weight", 1.0), batch).reshape(-1)
            result = np.zeros((len(y), num_classes))
            for i, (z, d) in enumerate(zip(rows.reshape(-1, num_classes), directions, strict=True)):
                f = _mp_softmax_row(mp, case.loss, o, [float(t) for t in y[i]], float(s[i]))
                z_mp, d_mp = [mp.mpf(float(u)) for u in z], [mp.mpf(float(u)) for u in d]
                for j in range(num_classes):
                    def along(t: Any, u: Any, j: int = j, f: Any = f, z: list[Any] = z_mp, d: list[Any] = d_mp) -> Any:
                        return f([z[k] + t * d[k] + (u if k == j else 0) for k in range(num_classes)])

                    result[i, j] = float(mp.diff(along, (0, 0), (1, 1), addprec=ADDPREC))
            out = np.moveaxis(result.reshape(*batch, num_classes), -1, axis)
    base = o.get("base")
    return out if base is None else out / np.log(base)




def _extreme_params(dtypes: tuple[str, ...], only: set[str] | None = None) -> list[Any]:
    params = []
    for k, case in enumerate(CASES):
        if not case.options.get("from_logits", True) or (only is not None and _id(case) not in only):
            continue
        for dtype in dtypes:
            params.append(pytest.param(k, case, dtype, id=f"{_id(case)}-{dtype}"))
    return params


@functools.cache
def _extreme(k: int, variant: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """CASES[k]'s extreme inputs, a direction (all of them numbers of float32, so that both
    dtypes see the same ones), and mpmath's Hv there (computed once)."""
    case = CASES[k]
    prediction, target = extreme_inputs(case, variant)
    if case.loss in BINARY:
        target = target.astype(np.float32).astype(np.float64)
    v = np.random.default_rng([5, k]).normal(size=prediction.shape).astype(np.float32).astype(np.float64)
    assert np.array_equal(prediction.astype(np.float32), prediction)
    return prediction, target, v, mp_hvp(case, prediction, target, v)


def _variants(case: Case) -> tuple[int, ...]:
    return (0, 1) if case.loss in BINARY else (0,)


@pytest.mark.parametrize(("k", "case", "dtype"), _extreme_params(DTYPES))
def test_torch_hvp_at_extreme_logits_is_mpmaths(k: int, case: Case, dtype: str) -> None:
    options = {**case.options, "reduction": "sum"}
    for variant in _variants(case):
        prediction, target, v, expected = _extreme(k, variant)
        for way, got in torch_hvps(case, prediction, target, v, options, dtype).items():
            assert_hvp(got, expected, dtype, f"{way}, arrangement {variant}")


SWEEP = np.array([12.0, 17.0, 25.0, 40.0, 60.0, 89.0, 100.0, 200.0, 1e4])  # z_top - z_other


@pytest.mark.parametrize("options", [{"gamma": 0.25}, {"gamma": 0.5}, {"gamma": 1.5}, {"gamma": 2.5},
                                     {"gamma": 0.5, "label_smoothing": 0.1}], ids=str)
def test_focal_hvp_across_the_range_of_confidence(options: dict[str, Any]) -> None:
    # 1 - p of the top class from e^-12 down to 0 in float32 and float64: (1 - p)^γ of a non-integral γ
    # had a NaN Hessian-vector product where 1 - p rounded to 0 (γ = 1.5: beyond z ≈ 17 in float32, 37 in
    # float64), and a NaN or inf one where its power below γ overflowed (γ < 1)
    case = Case("focal_loss", options)
    prediction = np.stack([SWEEP, np.zeros_like(SWEEP), np.full_like(SWEEP, -3.0)], axis=-1)
    prediction = np.concatenate([prediction, prediction[:, [1, 0, 2]]])
    target = np.zeros(len(prediction), dtype=np.int64)  # the label at the top, then not
    v = np.random.default_rng(7).normal(size=prediction.shape).astype(np.float32).astype(np.float64)
    expected = mp_hvp(case, prediction, target, v)
    for dtype in DTYPES:
        for way, got in torch_hvps(case, prediction, target, v, {**options, "reduction": "sum"}, dtype).items():
            assert_hvp(got, expected, dtype, f"{way} {dtype}")


# --- JAX: a subset (each case compiles), at moderate and at extreme inputs ---------------------------

JAX_CASES = {
    "cross_entropy-labels-z_loss=0.05-logit_softcap=3.0-weight=array-sample_weight=array",
    "cross_entropy-soft-from_logits=False-weight=array-label_smoothing=0.1",
    "focal_loss-labels-gamma=0.5-alpha=array-ignore_index=-100-label_smoothing=0.1",
    "focal_loss-labels-2x4x3-gamma=1.0-axis=1-weight=array",  # (jax's pow(q, 1.0): a NaN second derivative at 0)
    "logit_adjusted_cross_entropy-labels-priors=array-tau=2.0-z_loss=0.1-logit_softcap=3.0",
    "binary_focal_loss-soft-gamma=0.5-alpha=array-pos_weight=array",
    "asymmetric_loss-01-gamma_pos=1.0-gamma_neg=2.0-clip=0.1-sample_weight=array",
}
JAX_FLOAT64 = {"focal_loss-labels-2x4x3-gamma=1.0-axis=1-weight=array",
               "asymmetric_loss-01-gamma_pos=1.0-gamma_neg=2.0-clip=0.1-sample_weight=array"}
JAX = [pytest.param(k, case, dtype, id=f"{_id(case)}-{dtype}") for k, case in enumerate(CASES)
       if _id(case) in JAX_CASES for dtype in ("float32", "float64") if dtype == "float32" or _id(case) in JAX_FLOAT64]


@pytest.mark.parametrize(("k", "case", "dtype"), JAX)
def test_jax_hvp_is_the_formulas_and_mpmaths(k: int, case: Case, dtype: str) -> None:
    options = {**case.options, "reduction": "sum"}
    hvp = jax_hvp(case, options, dtype)
    prediction, target, v, _ = _moderate(case, k)
    assert_hvp(hvp(prediction, target, v), reference_hvp(case, prediction, target, v, options), dtype, "moderate")
    if case.options.get("from_logits", True):
        for variant in _variants(case):
            prediction, target, v, expected = _extreme(k, variant)
            assert_hvp(hvp(prediction, target, v), expected, dtype, f"extreme, arrangement {variant}")


# --- the fused-kernel path: create_graph=True replays the generic path ------------------------------

KERNEL_LOSSES = ("cross_entropy", "sparse_categorical_cross_entropy", "focal_loss", "poly1_cross_entropy",
                 "logit_adjusted_cross_entropy")


def _takes_kernel(case: Case) -> bool:
    """Whether a large CPU tensor of this case takes a Numba kernel (kernels/_cpu.py): integer
    labels of the softmax family (from probabilities: plain cross-entropy), or binary
    cross-entropy from logits."""
    o = case.options
    if case.loss == "binary_cross_entropy":
        return o.get("from_logits", True)
    if case.loss not in KERNEL_LOSSES or case.target not in ("labels", "all_ignored"):
        return False
    return o.get("from_logits", True) or (case.loss != "focal_loss" and case.loss != "poly1_cross_entropy")


KERNEL_CASES = {
    "cross_entropy-labels",
    "cross_entropy-labels-weight=array-ignore_index=-100-label_smoothing=0.1",
    "cross_entropy-labels-z_loss=0.05-logit_softcap=3.0-weight=array-sample_weight=array",
    "cross_entropy-labels-2x4x3-axis=1-ignore_index=-1-z_loss=0.1",
    "cross_entropy-labels-from_logits=False-sample_weight=array-base=2",
    "focal_loss-labels-gamma=0.5-alpha=array-ignore_index=-100-label_smoothing=0.1",
    "focal_loss-labels-gamma=0.25",
    "poly1_cross_entropy-labels-epsilon=-1.0",
    "logit_adjusted_cross_entropy-labels-priors=array-tau=2.0-z_loss=0.1-logit_softcap=3.0",
    "binary_cross_entropy-soft-pos_weight=array-label_smoothing=0.1-sample_weight=array",
}
KERNEL = [pytest.param(k, case, dtype, id=f"{_id(case)}-{dtype}")
          for k, case in enumerate(CASES) if _id(case) in KERNEL_CASES for dtype in DTYPES]


def test_kernel_cases_take_the_kernel() -> None:
    assert len(KERNEL) == 2 * len(KERNEL_CASES)
    assert all(_takes_kernel(case) for case in CASES if _id(case) in KERNEL_CASES)


def _tiled(case: Case, array: Any, reps: int) -> Any:
    return np.tile(array, (reps,) + (1,) * (np.ndim(array) - 1))


@pytest.mark.parametrize(("k", "case", "dtype"), KERNEL)
def test_hvp_through_the_fused_kernel(monkeypatch: pytest.MonkeyPatch, k: int, case: Case, dtype: str) -> None:
    # more than 65,536 elements: the Numba kernel takes the forward, and its create_graph backward
    # replays the generic path on the whole batch; each tile is the small case's rows, whose Hv is known
    pytest.importorskip("numba")
    from crossent.kernels import _cpu

    calls: list[str] = []
    for name in ("softmax_cross_entropy", "log_loss", "sigmoid_cross_entropy"):
        original = getattr(_cpu, name)
        monkeypatch.setattr(_cpu, name, lambda *a, _o=original, _n=name, **kw: (calls.append(_n), _o(*a, **kw))[1])
    if case.options.get("from_logits", True):
        prediction, target, v, expected = _extreme(k)
    else:
        prediction, target = test_hessian.make_inputs(case, seed=k)
        v = np.random.default_rng([3, k]).normal(size=prediction.shape)
        expected = reference_hvp(case, prediction, target, v, {**case.options, "reduction": "sum"})
    reps = _cpu.MIN_ELEMENTS // prediction.size + 1
    options = {key: _tiled(case, value, reps) if key == "sample_weight" and np.ndim(value) else value
               for key, value in case.options.items()}
    options["reduction"] = "sum"
    got = torch_hvps(case, _tiled(case, prediction, reps), _tiled(case, target, reps), _tiled(case, v, reps),
                     options, dtype)["backward"]
    assert calls, "the kernel did not take the call"
    assert_hvp(got, _tiled(case, expected, reps), dtype, "through the kernel")
