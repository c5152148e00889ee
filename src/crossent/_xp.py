"""Array namespace resolution and dtype promotion: the first thing every public function does."""

from __future__ import annotations

import contextlib
from typing import Any

import array_api_compat
import numpy as np

Array = Any
"""Any array the Python array API covers: NumPy, PyTorch, JAX, array-api-strict, ..."""


def namespace(*values: Any, xp: Any = None) -> Any:
    """The array namespace of the first array among ``values``.

    The first array decides, so NumPy options (class weights, labels) go with torch or JAX
    predictions and are converted to the prediction's kind. Values that are not arrays
    (Python lists, numbers, ``None``) do not take part; when none is an array the namespace is
    NumPy's. An explicit ``xp`` wins.
    """
    if xp is not None:
        return xp
    for value in values:
        if is_torch(value):
            return _torch_namespace()
        if value is not None and array_api_compat.is_array_api_obj(value):
            return array_api_compat.array_namespace(value)
    return array_api_compat.array_namespace(np.empty(0))


def namespace_of(value: Any) -> Any:
    """The array namespace of ``value`` if it is an array, else None."""
    if is_torch(value):
        return _torch_namespace()
    return array_api_compat.array_namespace(value) if array_api_compat.is_array_api_obj(value) else None


def is_torch(value: Any) -> bool:
    """Whether ``value`` is a torch tensor, told without array-api-compat's cached type tests,
    which torch.compile's tracing warns about at each (one warning per call site and process)."""
    import sys

    torch = sys.modules.get("torch")
    return torch is not None and isinstance(value, torch.Tensor)


def _torch_namespace() -> Any:
    import array_api_compat.torch

    return array_api_compat.torch


def log_of_zero_is_inf() -> Any:
    """A context in which NumPy computes log(0) = -inf and 1/0 = inf without a RuntimeWarning:
    crossent returns those infinities on purpose (-log 0 = inf unless ``eps=`` asks for clipping).
    Invalid operations (NaN) still warn. Under torch.compile's tracing, which cannot trace NumPy's
    error state (and computes no NumPy), no context."""
    if compiling():
        return contextlib.nullcontext()
    return np.errstate(divide="ignore")


def compiling() -> bool:
    """Whether torch.compile is tracing this call (torch imported and compiling)."""
    import sys

    torch = sys.modules.get("torch")
    return torch is not None and torch.compiler.is_compiling()


def device(x: Array) -> Any:
    return x.device if is_torch(x) else array_api_compat.device(x)


def as_array(value: Any, xp: Any, *, like: Array, dtype: Any = None) -> Array:
    """``value`` as an array of ``xp`` on ``like``'s device (NumPy options for torch logits, ...)."""
    if (is_torch(value) and xp is _torch_namespace()) or (
            array_api_compat.is_array_api_obj(value) and array_api_compat.array_namespace(value) is xp):
        return value if dtype is None or value.dtype == dtype else xp.astype(value, dtype)
    if array_api_compat.is_array_api_obj(value) and not isinstance(value, np.ndarray | np.generic):
        value = np.asarray(value)  # e.g. a torch tensor given as an option to a JAX call
    return xp.asarray(value, dtype=dtype, device=device(like))


def size(x: Array) -> int | None:
    """The number of elements of ``x`` (``x.size`` is a method on a torch tensor); None where a
    dimension is unknown (lazy arrays)."""
    return x.numel() if is_torch(x) else array_api_compat.size(x)


REAL_KINDS = ("bool", "integral", "real floating")
"""The dtype kinds that hold real numbers: everything crossent reads."""


def dtype_kind(dtype: Any, xp: Any) -> str | None:
    """"bool", "integral" or "real floating"; None for any other dtype: complex, strings, objects,
    and dtypes the array API does not know (NumPy's ml_dtypes bfloat16, whose ``isdtype`` raises)."""
    try:
        return next((kind for kind in REAL_KINDS if xp.isdtype(dtype, kind)), None)
    except TypeError:
        return None


def compute_dtype(dtype: Any, xp: Any, *, name: str) -> Any:
    """float64 stays float64; every other real floating dtype (float16, bfloat16, float32) is
    computed in float32. Anything else is a TypeError naming the argument."""
    if dtype_kind(dtype, xp) != "real floating":
        hint = ""
        if isinstance(dtype, np.dtype) and dtype.kind == "V":  # ml_dtypes' bfloat16, float8_*, ...
            hint = (" (NumPy's ml_dtypes types are not array-API dtypes: convert with .astype(np.float32), "
                    "or use a torch or JAX bfloat16 array)")
        raise TypeError(f"{name} must have a real floating dtype, got {dtype}{hint}")
    return xp.float64 if dtype == xp.float64 else xp.float32


def is_integer(dtype: Any, xp: Any) -> bool:
    return dtype_kind(dtype, xp) == "integral"


def as_index(labels: Array, xp: Any) -> Array:
    """Integer labels in the namespace's default integer dtype (int64; int32 on JAX without x64),
    so that they compare with ``arange(C)`` and with ``ignore_index`` whatever C: ``arange(300)``
    in uint8 wraps, a Python -100 compared with uint8 is 156 on torch, and torch has no min/max
    for uint16-uint64. No copy when they have it already."""
    index = xp.asarray(0).dtype
    return labels if labels.dtype == index else xp.astype(labels, index)


def is_concrete(x: Array) -> bool:
    """False for arrays whose values cannot be read now: JAX tracers (under jit, grad, vmap),
    torch meta tensors (Keras's torch backend traces losses on them) and fake tensors
    (torch.compile's tracing), lazy arrays (Dask, ...). Eager JAX arrays are concrete."""
    if is_torch(x):
        if x.is_meta or compiling():
            return False
        fake = _torch_fake_tensor()
        return fake is None or not isinstance(x, fake)
    if array_api_compat.is_jax_array(x):
        import jax

        return not isinstance(x, jax.core.Tracer)
    is_lazy = getattr(array_api_compat, "is_lazy_array", None)
    return True if is_lazy is None else not is_lazy(x)


def scalar(x: Array) -> float:
    """A 0-d array as a Python float (for validation), detached from any autograd graph."""
    detach = getattr(x, "detach", None)  # torch warns when a tensor that requires grad is read
    return float(x if detach is None else detach())


def normalize_axis(axis: int, ndim: int, *, name: str = "axis") -> int:
    if not isinstance(axis, int) or isinstance(axis, bool):
        raise TypeError(f"{name} must be an int, got {axis!r}")
    if not -ndim <= axis < ndim:
        raise ValueError(f"{name}={axis} is out of range for an array with {ndim} dimensions")
    return axis % ndim


def _torch_fake_tensor() -> Any:
    """torch's FakeTensor class, where this torch has one (imported only once torch is)."""
    import sys

    if "torch._subclasses.fake_tensor" not in sys.modules:
        return None  # (no fake tensor can exist before torch.compile imports it)
    return sys.modules["torch._subclasses.fake_tensor"].FakeTensor
