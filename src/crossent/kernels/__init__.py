"""Fused value-and-gradient kernels for the hot cases, each a delegation branch of a generic loss.

A kernel computes the same numbers as the generic implementation in ``crossent.losses`` for the
cases it covers, in fewer passes; the generic path is the oracle and tests hold the two together.
Nothing here is imported by ``import crossent``.

- ``_numpy``: NumPy kernels for plain cross-entropy of integer labels (softmax and one-logit
  sigmoid), used by ``crossent.models`` on every solver iteration.
"""
