"""Every loss of the cross-entropy family, one pure function each, and their gradients."""

from crossent.losses._binary import asymmetric_loss, binary_cross_entropy, binary_focal_loss
from crossent.losses._categorical import (
    categorical_cross_entropy,
    cross_entropy,
    focal_loss,
    logit_adjusted_cross_entropy,
    poly1_cross_entropy,
    sparse_categorical_cross_entropy,
)
from crossent.losses._grad import value_and_grad, value_grad_hess
from crossent.losses._imbalance import class_weights

__all__ = [
    "asymmetric_loss",
    "binary_cross_entropy",
    "binary_focal_loss",
    "categorical_cross_entropy",
    "class_weights",
    "cross_entropy",
    "focal_loss",
    "logit_adjusted_cross_entropy",
    "poly1_cross_entropy",
    "sparse_categorical_cross_entropy",
    "value_and_grad",
    "value_grad_hess",
]
