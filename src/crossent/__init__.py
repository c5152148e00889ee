"""crossent: every cross-entropy-family classification loss, exact and numerically stable, on
NumPy, PyTorch and JAX arrays, with closed-form gradients; and ``compare``, which tells which loss
to train with on your data.

The layers below ``losses`` need NumPy and array-api-compat only; ``crossent.metrics``,
``crossent.models``, ``crossent.plot`` and ``crossent.report`` import SciPy, scikit-learn and
matplotlib when they are used.
"""

from crossent.activations import log_sigmoid, log_softmax, logsumexp, one_hot, sigmoid, softmax
from crossent.information import entropy, kl_divergence
from crossent.losses import (
    asymmetric_loss,
    binary_cross_entropy,
    binary_focal_loss,
    categorical_cross_entropy,
    class_weights,
    cross_entropy,
    focal_loss,
    logit_adjusted_cross_entropy,
    poly1_cross_entropy,
    sparse_categorical_cross_entropy,
    value_and_grad,
    value_grad_hess,
)
from crossent.selection import compare

__version__ = "0.1.0"

__all__ = [
    "asymmetric_loss",
    "binary_cross_entropy",
    "binary_focal_loss",
    "categorical_cross_entropy",
    "class_weights",
    "compare",
    "cross_entropy",
    "entropy",
    "focal_loss",
    "kl_divergence",
    "log_sigmoid",
    "log_softmax",
    "logit_adjusted_cross_entropy",
    "logsumexp",
    "one_hot",
    "poly1_cross_entropy",
    "sigmoid",
    "softmax",
    "sparse_categorical_cross_entropy",
    "value_and_grad",
    "value_grad_hess",
]
