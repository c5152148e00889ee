"""PyTorch faces of crossent: ``nn.Module`` losses and the chunked linear cross-entropy.

Importing this package imports torch; ``import crossent`` does not.

- One ``nn.Module`` per crossent loss, generated from the function (see ``_modules``): the
  constructor takes the function's options, ``forward(prediction, target, sample_weight=None, denominator=None)``
  calls it. ``CrossEntropyLoss(weight=w, label_smoothing=0.1)`` is
  ``crossent.cross_entropy(·, ·, weight=w, label_smoothing=0.1)``.
- :func:`linear_cross_entropy`: the cross-entropy of ``hidden @ weight.T + bias`` computed
  chunk by chunk, so that the N × V logits of a large vocabulary never exist at once.

>>> import torch
>>> from crossent.torch import CrossEntropyLoss
>>> loss = CrossEntropyLoss(weight=torch.tensor([1.0, 2.0]))
>>> round(float(loss(torch.tensor([[0.0, 0.0]]), torch.tensor([1]))), 4)
0.6931
"""

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
from crossent.torch._linear import linear_cross_entropy
from crossent.torch._modules import LossModule, loss_module

AsymmetricLoss = loss_module(asymmetric_loss)
BinaryCrossEntropyLoss = loss_module(binary_cross_entropy)
BinaryFocalLoss = loss_module(binary_focal_loss)
CategoricalCrossEntropyLoss = loss_module(categorical_cross_entropy)
CrossEntropyLoss = loss_module(cross_entropy)
FocalLoss = loss_module(focal_loss)
LogitAdjustedCrossEntropyLoss = loss_module(logit_adjusted_cross_entropy)
Poly1CrossEntropyLoss = loss_module(poly1_cross_entropy)
SparseCategoricalCrossEntropyLoss = loss_module(sparse_categorical_cross_entropy)

__all__ = [
    "AsymmetricLoss",
    "BinaryCrossEntropyLoss",
    "BinaryFocalLoss",
    "CategoricalCrossEntropyLoss",
    "CrossEntropyLoss",
    "FocalLoss",
    "LogitAdjustedCrossEntropyLoss",
    "LossModule",
    "Poly1CrossEntropyLoss",
    "SparseCategoricalCrossEntropyLoss",
    "linear_cross_entropy",
]
