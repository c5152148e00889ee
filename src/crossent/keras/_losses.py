"""``keras.losses.Loss`` faces of the crossent losses, generated from the loss functions.

Each class is made by :func:`keras_loss` from one declared loss, as ``crossent.torch`` makes its
modules: the constructor takes that function's options with the function's own defaults (every
keyword after ``(prediction, target)`` except ``reduction``, ``sample_weight`` and ``xp``), then
Keras's own ``name``, ``reduction`` and ``dtype``. The differences from the function are the
host's conventions:

- ``call(y_true, y_pred)``: Keras's argument order.
- ``call`` returns crossent's per-sample losses (``reduction="none"``) and Keras reduces them,
  after multiplying by ``sample_weight`` (``fit(class_weight=...)`` arrives as one), with the
  ``reduction`` given to the constructor (``"sum_over_batch_size"`` by default). The element-wise
  sigmoid losses are averaged over the last axis first, as ``keras.losses.BinaryCrossentropy``
  does, so an ``[N, L]`` multi-label output gives one loss per sample. Samples whose label is
  ``ignore_index`` are masked, as Keras's ``ignore_class``: the mean is over the others.
- Keras casts ``y_true`` to the loss's float dtype. For a softmax loss a ``y_true`` of the
  prediction's shape without the class axis (``[N]``), or with a class axis of size 1
  (``[N, 1]``), holds labels and is cast back to int32; a ``y_true`` of the prediction's shape is
  dense (one-hot or soft). For a sigmoid loss ``y_true`` is cast to the prediction's dtype and an
  ``[N]`` target meets an ``[N, 1]`` prediction as ``[N, 1]``.
- ``from_logits=True`` by default, crossent's default (Keras's own losses default to False).
- Options are checked at construction, by one call of the function on a dummy input, so a bad
  option raises crossent's own error there, not at the first batch.
- Array options (``weight``, ``alpha``, ``priors``, ``pos_weight``) are kept as NumPy arrays,
  serialized as lists by ``get_config``, and converted to the backend's tensors, in the
  prediction's float dtype, at each call.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import keras
import numpy as np

from crossent._xp import is_concrete
from crossent.losses._define import lookup

try:  # how Keras's own ignore_class masks its per-sample losses; no public API exposes it
    from keras.src.backend import set_keras_mask
except ImportError:  # older Keras 3 kept the mask as an attribute of the tensor
    def set_keras_mask(x: Any, mask: Any) -> None:
        x._keras_mask = mask

__all__ = ["KerasLoss", "class_name", "keras_loss"]

_PER_CALL = ("reduction", "sample_weight", "xp")  # function parameters that are not constructor options
_SIGMOID = ("binary_cross_entropy", "binary_focal_loss", "asymmetric_loss")  # element-wise


class KerasLoss(keras.losses.Loss):
    """Base of the generated Keras losses: holds the options and calls the loss function."""

    loss: Callable[..., Any]  # the crossent function, set on each generated class
    function_name: str  # its name, the default name of the Keras loss
    options: tuple[str, ...]  # its constructor options, in signature order
    array_options: frozenset[str]  # the options held as arrays when given as arrays
    elementwise: bool  # a sigmoid loss: averaged over the last axis

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        try:
            bound = inspect.signature(type(self)).bind(*args, **kwargs)
        except TypeError as error:  # "got an unexpected keyword argument 'gama'", say
            raise TypeError(f"{type(self).__name__}() {error}") from None
        bound.apply_defaults()
        given = bound.arguments
        super().__init__(name=given["name"] or self.function_name, reduction=given["reduction"],
                         dtype=given["dtype"])
        self._dtype_argument = given["dtype"]
        self._options = {name: _stored(name, given[name]) if name in self.array_options else given[name]
                         for name in self.options}
        _check_options(self)

    def call(self, y_true: Any, y_pred: Any) -> Any:
        options = {name: _tensor(value, y_pred) if isinstance(value, np.ndarray) else value
                   for name, value in self._options.items()}
        if self.elementwise:
            y_true = _binary_target(y_true, y_pred)
        else:
            y_true = _softmax_target(y_true, y_pred, options.get("axis", -1))
        losses = type(self).loss(y_pred, y_true, **options, reduction="none")
        if self.elementwise:
            return keras.ops.mean(losses, axis=-1) if len(losses.shape) else losses
        ignore_index = options.get("ignore_index")
        if ignore_index is not None and "int" in str(y_true.dtype):
            # as Keras's ignore_class: a mask that Loss.__call__ folds into its reduction (a test
            # pins that it works)
            set_keras_mask(losses, keras.ops.not_equal(y_true, ignore_index))
        return losses

    def get_config(self) -> dict[str, Any]:
        options = {name: value.tolist() if isinstance(value, np.ndarray) else value
                   for name, value in self._options.items()}
        dtype = self._dtype_argument
        if dtype is not None and not isinstance(dtype, str):
            dtype = keras.dtype_policies.serialize(dtype)
        return {**options, "name": self.name, "reduction": self.reduction, "dtype": dtype}

    def __repr__(self) -> str:
        parameters = inspect.signature(type(self)).parameters
        defaults = {name: p.default for name, p in parameters.items()} | {"name": self.function_name}
        shown = [f"{name}=array(shape={np.shape(value)})" if isinstance(value, list) else f"{name}={value!r}"
                 for name, value in self.get_config().items() if value != defaults[name]]
        return f"{type(self).__name__}({', '.join(shown)})"


def _stored(name: str, value: Any) -> Any:
    """An array option as a NumPy array (a number or None as it is): what ``call`` converts."""
    if value is None or isinstance(value, bool | int | float):
        return value
    array = keras.ops.convert_to_numpy(value) if keras.ops.is_tensor(value) else np.asarray(value)
    if array.dtype.kind not in "fiu":
        raise TypeError(f"{name} must be a number or an array of real numbers, got {value!r}")
    return array if array.dtype.kind == "f" else array.astype(np.float64)  # [1, 2, 1] as class weights


def _tensor(value: np.ndarray, like: Any) -> Any:
    """An array option as a tensor of the backend, in ``like``'s float dtype (float32 for a 16-bit
    prediction, which crossent computes in float32)."""
    dtype = str(like.dtype).removeprefix("torch.")
    return keras.ops.convert_to_tensor(value, dtype="float64" if dtype == "float64" else "float32")


def _softmax_target(y_true: Any, y_pred: Any, axis: int) -> Any:
    """Labels (cast back to int32) where ``y_true`` lacks the class axis or has it of size 1;
    anything else as given, a dense target when it has the prediction's shape."""
    shape, pred_shape = tuple(y_true.shape), tuple(y_pred.shape)
    if shape == pred_shape or not pred_shape or "int" in str(y_true.dtype) or "bool" in str(y_true.dtype):
        return y_true
    class_axis = axis % len(pred_shape) if -len(pred_shape) <= axis < len(pred_shape) else None
    if class_axis is None:
        return y_true  # crossent names the bad axis
    if len(shape) == len(pred_shape) and shape[class_axis] == 1:
        y_true = keras.ops.squeeze(y_true, axis=class_axis)
    elif len(shape) != len(pred_shape) - 1:
        return y_true  # crossent names the bad shape
    labels = keras.ops.cast(y_true, "int32")
    if _readable(y_true) and not bool(keras.ops.all(keras.ops.cast(labels, y_true.dtype) == y_true)):
        raise ValueError("y_true holds labels that are not integers; sparse labels must be "
                         "whole numbers (Keras passes them as floats)")
    return labels


def _readable(x: Any) -> bool:
    """Whether the values of ``x`` can be read now: not a JAX tracer, nor a torch meta tensor
    (Keras's torch backend first traces a loss on the meta device)."""
    return is_concrete(x) and not getattr(x, "is_meta", False)


def _binary_target(y_true: Any, y_pred: Any) -> Any:
    """``y_true`` in the prediction's dtype, ``[N]`` made ``[N, 1]`` against an ``[N, 1]`` prediction."""
    y_true = keras.ops.cast(y_true, y_pred.dtype)
    if len(y_true.shape) == len(y_pred.shape) - 1 and tuple(y_pred.shape)[-1:] == (1,):
        y_true = keras.ops.expand_dims(y_true, axis=-1)
    return y_true


def _check_options(loss: KerasLoss) -> None:
    """Call the function once on a dummy NumPy input, so that a bad option raises its own error
    now. The dummy has as many classes (labels) as the array options imply, two by default, and
    as many dimensions as ``axis`` needs."""
    options = dict(loss._options)
    width = max((v.shape[-1] for v in options.values() if isinstance(v, np.ndarray) and v.ndim), default=2)
    axis = options.get("axis", -1)
    ok = isinstance(axis, int) and not isinstance(axis, bool)
    ndim = max(2, (axis + 1 if axis >= 0 else -axis) if ok else 2)
    class_axis = axis % ndim if ok else ndim - 1  # (a bad axis: crossent names it)
    shape = tuple(width if d == class_axis else 1 for d in range(ndim))
    prediction = np.full(shape, 1 / width)  # uniform probabilities, or equal logits
    if loss.elementwise:
        target = np.zeros(shape)
    elif loss.function_name == "categorical_cross_entropy":
        target = np.full(shape, 1 / width)
    else:
        target = np.zeros(shape[:class_axis] + shape[class_axis + 1:], dtype=np.int64)
    type(loss).loss(prediction, target, **options, reduction="none")


def class_name(function_name: str) -> str:
    """``cross_entropy`` → ``CrossEntropyLoss``, ``focal_loss`` → ``FocalLoss``."""
    camel = "".join(part.capitalize() for part in function_name.split("_"))
    return camel if function_name.endswith("_loss") else camel + "Loss"


def keras_loss(loss: Callable[..., Any]) -> type[KerasLoss]:
    """The ``keras.losses.Loss`` class of a crossent loss function, generated from its signature
    and registered for serialization as ``crossent>{class name}``."""
    name, _ = lookup(loss)  # a ValueError for anything but a declared crossent loss
    parameters = list(inspect.signature(loss).parameters.values())[2:]
    options = [p for p in parameters if p.name not in _PER_CALL]
    this = class_name(name)
    keras_arguments = [
        inspect.Parameter("name", inspect.Parameter.KEYWORD_ONLY, default=None, annotation="str | None"),
        inspect.Parameter("reduction", inspect.Parameter.KEYWORD_ONLY, default="sum_over_batch_size",
                          annotation="str | None"),
        inspect.Parameter("dtype", inspect.Parameter.KEYWORD_ONLY, default=None, annotation="Any"),
    ]

    def __init__(self: KerasLoss, *args: Any, **kwargs: Any) -> None:
        KerasLoss.__init__(self, *args, **kwargs)

    self_parameter = inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)
    __init__.__signature__ = inspect.Signature([self_parameter, *options, *keras_arguments])  # type: ignore[attr-defined]
    __init__.__qualname__ = f"{this}.__init__"
    doc = (f"``keras.losses.Loss`` face of :func:`crossent.{name}`.\n\n"
           f"The constructor takes that function's options, with its defaults (``from_logits=True``:\n"
           f"logits, unlike Keras's own losses), then Keras's ``name``, ``reduction`` and ``dtype``;\n"
           f"see the function's docstring for the options. ``call(y_true, y_pred)`` returns\n"
           f"``crossent.{name}(y_pred, y_true, **options, reduction=\"none\")``"
           + (", averaged over the last axis as Keras's BinaryCrossentropy" if name in _SIGMOID else
              "; float labels of shape [N] or [N, 1] are cast to int32")
           + ", and Keras reduces it. See ``crossent.keras``.\n")
    cls = type(this, (KerasLoss,), {
        "__init__": __init__,
        "__doc__": doc,
        "__module__": "crossent.keras",
        "__qualname__": this,
        "loss": staticmethod(loss),
        "function_name": name,
        "options": tuple(p.name for p in options),
        "array_options": frozenset(p.name for p in options if "Array" in str(p.annotation)),
        "elementwise": name in _SIGMOID,
    })
    registered: type[KerasLoss] = keras.saving.register_keras_serializable(package="crossent")(cls)
    return registered
