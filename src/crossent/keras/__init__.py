"""Keras 3 faces of crossent: one ``keras.losses.Loss`` per crossent loss.

Importing this package imports keras (any backend that crossent runs on: JAX, PyTorch, NumPy);
``import crossent`` does not. Import it before ``keras.models.load_model`` reads a model saved
with one of these losses: the classes are registered as ``crossent>FocalLoss``, ... and reload
with the default ``safe_mode``.

Each class is generated from the function (see ``_losses``): the constructor takes the
function's options, with its defaults, then Keras's ``name``, ``reduction`` and ``dtype``;
``call(y_true, y_pred)`` (Keras's order) returns the function's per-sample losses, which Keras
weights by ``sample_weight`` and reduces. ``from_logits=True`` is the default, as everywhere in
crossent and unlike Keras's own losses: give ``from_logits=False`` after a softmax or sigmoid
output layer.

>>> import numpy as np
>>> from crossent.keras import FocalLoss
>>> loss = FocalLoss(gamma=0.0, weight=[1.0, 2.0])
>>> round(float(loss(np.array([1.0]), np.array([[0.0, 0.0]]))), 4)
1.3863
"""

from crossent.keras._losses import KerasLoss, keras_loss
from crossent.losses import (
    asymmetric_loss,
    binary_cross_entropy,
    binary_focal_loss,
    categorical_cross_entropy,
    cross_entropy,
    focal_loss,
    logit_adjusted_cross_entropy,
    poly1_cross_entropy,
    sparse_categorical_cross_entropy,
)

AsymmetricLoss = keras_loss(asymmetric_loss)
BinaryCrossEntropyLoss = keras_loss(binary_cross_entropy)
BinaryFocalLoss = keras_loss(binary_focal_loss)
CategoricalCrossEntropyLoss = keras_loss(categorical_cross_entropy)
CrossEntropyLoss = keras_loss(cross_entropy)
FocalLoss = keras_loss(focal_loss)
LogitAdjustedCrossEntropyLoss = keras_loss(logit_adjusted_cross_entropy)
Poly1CrossEntropyLoss = keras_loss(poly1_cross_entropy)
SparseCategoricalCrossEntropyLoss = keras_loss(sparse_categorical_cross_entropy)

__all__ = [
    "AsymmetricLoss",
    "BinaryCrossEntropyLoss",
    "BinaryFocalLoss",
    "CategoricalCrossEntropyLoss",
    "CrossEntropyLoss",
    "FocalLoss",
    "KerasLoss",
    "LogitAdjustedCrossEntropyLoss",
    "Poly1CrossEntropyLoss",
    "SparseCategoricalCrossEntropyLoss",
]
