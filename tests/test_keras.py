"""crossent.keras: the generated keras.losses.Loss classes.

Each class is held to its function (same numbers, in Keras's argument order and with Keras's
reductions and sample weights), to Keras's float labels, to serialization (get_config, the
registered name, a saved and reloaded model) and to training: ``model.fit`` on the JAX and the
PyTorch backends, each in its own process, since Keras picks its backend once, at import.
"""

from __future__ import annotations

import inspect
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import crossent
from conftest import assert_close, rtol
from crossent.losses._define import names

os.environ.setdefault("KERAS_BACKEND", "jax")  # keras 3 without TensorFlow
keras = pytest.importorskip("keras")

import crossent.keras as ck  # noqa: E402
import crossent.torch  # noqa: E402  (the torch face's class names are the ones to mirror)
from crossent.keras._losses import class_name  # noqa: E402

F32 = np.float32
LOSSES = {name: getattr(ck, class_name(name)) for name in names()}
BINARY = {"binary_cross_entropy", "binary_focal_loss", "asymmetric_loss"}
W4 = [0.5, 1.0, 2.0, 1.5]
PRIORS4 = [0.6, 0.25, 0.1, 0.05]

# Options for each loss: the defaults (and the required priors), and a set with array options.
OPTIONS: dict[str, list[dict[str, Any]]] = {
    "cross_entropy": [{}, {"weight": np.array(W4), "label_smoothing": 0.1, "z_loss": 1e-2}],
    "sparse_categorical_cross_entropy": [{}, {"weight": W4, "logit_softcap": 3.0}],
    "categorical_cross_entropy": [{}, {"weight": W4, "label_smoothing": 0.2}],
    "focal_loss": [{}, {"gamma": 1.5, "alpha": [0.25, 1.0, 0.5, 2.0], "weight": W4}],
    "poly1_cross_entropy": [{}, {"epsilon": -0.5, "label_smoothing": 0.1, "base": 2}],
    "logit_adjusted_cross_entropy": [{"priors": PRIORS4}, {"priors": np.array(PRIORS4, F32), "tau": 0.5}],
    "binary_cross_entropy": [{}, {"pos_weight": [0.5, 2.0, 3.0], "label_smoothing": 0.1}],
    "binary_focal_loss": [{}, {"alpha": 0.25, "gamma": 1.0}, {"alpha": [0.25, 0.75, 0.5]}],
    "asymmetric_loss": [{}, {"gamma_pos": 1.0, "clip": 0.0}],
}
CASES = [(name, i) for name in sorted(OPTIONS) for i in range(len(OPTIONS[name]))]


def _inputs(name: str, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """float32 (y_true, y_pred) for the loss ``name``: logits, and int labels, a soft target or
    0/1 multi-label targets."""
    rng = np.random.default_rng(seed)
    if name in BINARY:
        return (rng.random((5, 3)) < 0.5).astype(F32), rng.normal(size=(5, 3)).astype(F32)
    z = (2 * rng.normal(size=(6, 4))).astype(F32)
    if name == "categorical_cross_entropy":
        soft = np.exp(rng.normal(size=(6, 4)))
        return (soft / soft.sum(-1, keepdims=True)).astype(F32), z
    return rng.integers(0, 4, 6), z


def _per_sample(name: str, options: dict[str, Any], y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    """What Keras reduces: the function's "none" losses, averaged over the last axis for a sigmoid loss."""
    options = {k: np.asarray(v, F32) if isinstance(v, list | np.ndarray) else v for k, v in options.items()}
    losses = np.asarray(getattr(crossent, name)(y_pred, y_true, **options, reduction="none"))
    return losses.mean(axis=-1) if name in BINARY else losses


# --- the generated classes ----------------------------------------------------------------------


def test_one_class_per_loss_named_as_the_torch_modules() -> None:
    torch_classes = sorted(n for n in crossent.torch.__all__ if n[0].isupper() and n != "LossModule")
    assert sorted(c.__name__ for c in LOSSES.values()) == torch_classes
    assert sorted(n for n in ck.__all__ if n != "KerasLoss") == torch_classes
    assert set(OPTIONS) == set(LOSSES)  # every class is tested below
    for name, cls in LOSSES.items():
        assert cls.loss is getattr(crossent, name)
        assert issubclass(cls, keras.losses.Loss) and cls.__module__ == "crossent.keras"
        assert keras.saving.get_registered_name(cls) == f"crossent>{cls.__name__}"
        assert keras.saving.get_registered_object(f"crossent>{cls.__name__}") is cls


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_signature_is_the_functions_then_keras_and_docstring_refers_to_it(name: str) -> None:
    function = getattr(crossent, name)
    options = [p for p in list(inspect.signature(function).parameters.values())[2:]
               if p.name not in ("reduction", "sample_weight", "xp")]
    parameters = list(inspect.signature(LOSSES[name]).parameters.values())
    assert parameters[:len(options)] == options  # defaults in one place: the function's
    assert [(p.name, p.default) for p in parameters[len(options):]] == [
        ("name", None), ("reduction", "sum_over_batch_size"), ("dtype", None)]
    assert inspect.signature(LOSSES[name]).parameters["from_logits"].default is True
    doc = LOSSES[name].__doc__
    assert f":func:`crossent.{name}`" in doc and "from_logits=True" in doc
    assert function.__doc__.splitlines()[0] not in doc  # referred to, not copied


@pytest.mark.parametrize(("name", "case"), CASES)
def test_config_round_trip(name: str, case: int) -> None:
    loss = LOSSES[name](**OPTIONS[name][case], reduction="sum", name="mine")
    config = loss.get_config()
    assert set(config) == set(LOSSES[name].options) | {"name", "reduction", "dtype"}
    for option, value in OPTIONS[name][case].items():  # arrays as lists, numbers as given
        assert config[option] == (np.asarray(value).tolist() if isinstance(value, list | np.ndarray) else value)
    json.dumps(config)  # what model.save writes
    again = LOSSES[name].from_config(config)
    assert type(again) is LOSSES[name] and again.get_config() == config
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(loss))  # safe_mode on
    assert type(restored) is LOSSES[name] and restored.get_config() == config
    y_true, y_pred = _inputs(name)
    assert float(restored(y_true, y_pred)) == float(loss(y_true, y_pred))


@pytest.mark.parametrize(("name", "case"), CASES)
def test_loss_is_the_function_in_keras_order_and_reductions(name: str, case: int) -> None:
    options = OPTIONS[name][case]
    y_true, y_pred = _inputs(name)
    per_sample = _per_sample(name, options, y_true, y_pred)
    sw = np.linspace(0.5, 2.0, len(per_sample)).astype(F32)
    n = len(per_sample)
    for reduction, want in [("sum_over_batch_size", per_sample.mean()), ("sum", per_sample.sum()),
                            ("none", per_sample)]:
        loss = LOSSES[name](**options, reduction=reduction)
        assert_close(keras.ops.convert_to_numpy(loss(y_true, y_pred)), want, F32)
    # Keras multiplies the per-sample losses by sample_weight, then divides by the batch size
    loss = LOSSES[name](**options)
    assert_close(keras.ops.convert_to_numpy(loss(y_true, y_pred, sample_weight=sw)), (sw * per_sample).sum() / n, F32)
    loss = LOSSES[name](**options, reduction="mean_with_sample_weight")
    assert_close(keras.ops.convert_to_numpy(loss(y_true, y_pred, sample_weight=sw)),
                 (sw * per_sample).sum() / sw.sum(), F32)


def test_class_weights_are_reduced_as_keras_does_not_as_the_functions_mean() -> None:
    y_true, y_pred = _inputs("cross_entropy")
    loss = ck.CrossEntropyLoss(weight=W4)
    total = crossent.cross_entropy(y_pred, y_true, weight=np.array(W4, F32), reduction="sum")
    assert_close(float(loss(y_true, y_pred)), float(total) / len(y_true), F32)  # Σ w_y ℓ / N
    assert not np.isclose(float(loss(y_true, y_pred)),
                          float(crossent.cross_entropy(y_pred, y_true, weight=np.array(W4, F32))),
                          rtol=rtol(F32))  # not Σ w_y ℓ / Σ w_y


def test_from_logits_is_crossents_default_and_false_takes_probabilities() -> None:
    y_true, z = _inputs("focal_loss")
    p = np.exp(z) / np.exp(z).sum(-1, keepdims=True)
    assert_close(float(ck.FocalLoss()(y_true, z)), float(crossent.focal_loss(z, y_true)), F32)
    assert_close(float(ck.FocalLoss(from_logits=False)(y_true, p)), float(crossent.focal_loss(z, y_true)), F32)
    y_bin, z_bin = _inputs("binary_cross_entropy")
    prob = 1 / (1 + np.exp(-z_bin))
    assert_close(float(ck.BinaryCrossEntropyLoss(from_logits=False)(y_bin, prob)),
                 float(keras.losses.BinaryCrossentropy()(y_bin, prob)), F32)  # Keras's own, from probabilities


def test_ignore_index_is_masked_as_keras_ignore_class() -> None:
    _, y_pred = _inputs("cross_entropy")
    y_true = np.array([0, 2, 1, 2, 3, 1])
    loss = ck.CrossEntropyLoss(ignore_index=2)
    # the mean over the samples that count, as crossent's mean and Keras's ignore_class
    want = crossent.cross_entropy(y_pred, y_true, ignore_index=2)
    assert_close(float(loss(y_true.astype(F32), y_pred)), float(want), F32)
    keras_own = keras.losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=2)
    assert_close(float(loss(y_true, y_pred)), float(keras_own(y_true, y_pred)), F32)


# --- Keras's float labels -----------------------------------------------------------------------


@pytest.mark.parametrize("name", ["cross_entropy", "sparse_categorical_cross_entropy", "focal_loss",
                                  "poly1_cross_entropy", "logit_adjusted_cross_entropy"])
def test_float_labels_of_shape_n_or_n1_are_int_labels(name: str) -> None:
    options = OPTIONS[name][-1]
    labels, y_pred = _inputs(name)
    want = _per_sample(name, options, labels, y_pred)
    loss = LOSSES[name](**options, reduction="none")
    for y_true in (labels.astype(F32), labels.astype(F32)[:, None], labels.astype(np.int32)):
        assert_close(keras.ops.convert_to_numpy(loss(y_true, y_pred)), want, F32)
    if name != "sparse_categorical_cross_entropy":  # a target of the prediction's shape is dense
        one_hot = np.eye(4, dtype=F32)[labels]
        assert_close(keras.ops.convert_to_numpy(loss(one_hot, y_pred)), want, F32)


def test_non_integer_float_labels_are_an_error() -> None:
    y_true, y_pred = _inputs("cross_entropy")
    with pytest.raises(ValueError, match="y_true holds labels that are not integers"):
        ck.CrossEntropyLoss()(y_true.astype(F32) + 0.5, y_pred)


def test_categorical_loss_names_the_sparse_one_for_labels() -> None:
    labels, y_pred = _inputs("cross_entropy")
    with pytest.raises(TypeError, match="use sparse_categorical_cross_entropy"):
        ck.CategoricalCrossEntropyLoss()(labels.astype(F32), y_pred)


def test_binary_target_of_shape_n_meets_an_n1_prediction() -> None:
    rng = np.random.default_rng(1)
    y_true, z = (rng.random(7) < 0.5).astype(F32), rng.normal(size=(7, 1)).astype(F32)
    loss = ck.BinaryFocalLoss(alpha=0.25, reduction="none")
    want = np.asarray(crossent.binary_focal_loss(z[:, 0], y_true, alpha=0.25, reduction="none"))
    assert_close(keras.ops.convert_to_numpy(loss(y_true, z)), want, F32)
    assert_close(keras.ops.convert_to_numpy(loss(y_true.astype(np.int32)[:, None], z)), want, F32)


# --- bad options --------------------------------------------------------------------------------


@pytest.mark.parametrize(("cls", "options", "error", "match"), [
    (ck.FocalLoss, {"gamma": -1}, ValueError, "gamma"),
    (ck.CrossEntropyLoss, {"label_smoothing": 1.5}, ValueError, "label_smoothing"),
    (ck.CrossEntropyLoss, {"weight": [1.0, -1.0]}, ValueError, "weight"),
    (ck.CrossEntropyLoss, {"z_loss": 1e-3, "from_logits": False}, ValueError, "z_loss"),
    (ck.CrossEntropyLoss, {"base": 1}, ValueError, "base"),
    (ck.CrossEntropyLoss, {"ignore_index": 1.5}, TypeError, "ignore_index"),
    (ck.BinaryFocalLoss, {"alpha": 2.0}, ValueError, "alpha"),
    (ck.AsymmetricLoss, {"gamma_neg": -2}, ValueError, "gamma_neg"),
    (ck.LogitAdjustedCrossEntropyLoss, {"priors": [0.5, -0.5]}, ValueError, "priors"),
    (ck.LogitAdjustedCrossEntropyLoss, {}, TypeError, "'priors'"),
    (ck.FocalLoss, {"gama": 2.0}, TypeError, r"FocalLoss\(\).*'gama'"),
    (ck.FocalLoss, {"sample_weight": [1.0]}, TypeError, "sample_weight"),  # per batch: an argument of __call__
    (ck.FocalLoss, {"reduction": "mean_over_batch"}, ValueError, "reduction"),  # Keras's reductions
])
def test_bad_option_raises_at_construction_naming_it(cls: Any, options: dict[str, Any], error: type,
                                                     match: str) -> None:
    with pytest.raises(error, match=match):
        cls(**options)


# --- training, saving and reloading, on each backend -------------------------------------------

FIT = r'''
import json, os, sys, traceback
import numpy as np
import keras
import crossent
import crossent.keras as ck

keras.utils.set_random_seed(0)
rng = np.random.default_rng(0)
n, d, c = 64, 5, 3
x = rng.normal(size=(n, d)).astype("float32")
scores = x @ rng.normal(size=(d, c))
labels = np.argmax(scores, axis=1)
cases = {  # (Keras loss, y, the function on float64 logits and the target)
    "focal": (ck.FocalLoss(gamma=2.0), labels, lambda z, y: crossent.focal_loss(z, y, gamma=2.0)),
    "ce_one_hot": (ck.CrossEntropyLoss(label_smoothing=0.1), np.eye(c, dtype="float32")[labels],
                   lambda z, y: crossent.cross_entropy(z, y, label_smoothing=0.1)),
    "binary_focal": (ck.BinaryFocalLoss(alpha=0.25), (scores > 0).astype("float32"),
                     lambda z, y: crossent.binary_focal_loss(z, y, alpha=0.25)),
}
result = {}
for key, (loss, y, function) in cases.items():
    try:
        model = keras.Sequential([keras.Input((d,)), keras.layers.Dense(8, activation="relu"),
                                  keras.layers.Dense(c)])
        model.compile(optimizer=keras.optimizers.Adam(0.05), loss=loss)
        history = model.fit(x, y, epochs=4, batch_size=32, verbose=0, shuffle=False).history["loss"]
        z = keras.ops.convert_to_numpy(model(x)).astype("float64")
        path = os.path.join(sys.argv[1], key + ".keras")
        model.save(path)
        reloaded = keras.models.load_model(path)  # safe_mode=True, no custom_objects
        result[key] = dict(history=history, evaluated=model.evaluate(x, y, batch_size=n, verbose=0),
                           expected=float(function(z, y)), config=loss.get_config(),
                           reloaded_class=type(reloaded.loss).__name__, reloaded_config=reloaded.loss.get_config())
    except Exception:
        result[key] = dict(error=traceback.format_exc())
    if "error" in result[key] and keras.backend.backend() == "torch":
        import torch  # Keras's symbolic build first calls the loss on meta tensors
        try:
            loss.call(torch.ones(y.shape, device="meta"), torch.ones((n, c), device="meta"))
        except Exception:
            result[key]["error"] += "\nThe loss on torch meta tensors:\n" + traceback.format_exc()
print(json.dumps(result))
'''


@pytest.mark.parametrize("backend", ["jax", "torch"])
def test_fit_evaluate_save_and_reload(backend: str, tmp_path: Path) -> None:
    pytest.importorskip(backend)
    script = tmp_path / "fit.py"
    script.write_text(FIT)
    env = {**os.environ, "KERAS_BACKEND": backend, "CUDA_VISIBLE_DEVICES": ""}
    done = subprocess.run([sys.executable, str(script), str(tmp_path)], capture_output=True, text=True,
                          env=env, timeout=240, check=False)
    assert done.returncode == 0, done.stderr[-4000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    failed = {key: r["error"] for key, r in result.items() if "error" in r}
    assert not failed, "\n".join(f"{key} on {backend}:\n{error}" for key, error in failed.items())
    for key, r in result.items():
        history = np.array(r["history"])
        assert np.all(np.isfinite(history)) and history[-1] < 0.8 * history[0], (key, history)
        assert_close(r["evaluated"], r["expected"], F32)  # Keras's loss on one batch = the function's mean
        assert r["reloaded_class"] == class_name(r["config"]["name"])  # FocalLoss, ...
        assert r["reloaded_config"] == r["config"]
