"""Fused value-and-gradient kernels for the hot cases, each a delegation branch of a generic loss.

A kernel computes the same numbers as the generic implementation in ``crossent.losses`` for the
cases it covers, in fewer passes; the generic path is the oracle and tests hold the two together.
Nothing here is imported by ``import crossent``.

- ``_numpy``: NumPy kernels for plain cross-entropy of integer labels (softmax and one-logit
  sigmoid), used by ``crossent.models`` on every solver iteration.
- ``_cpu``: Numba kernels (optional extra ``crossent[cpu]``) for the softmax family of integer
  labels, binary cross-entropy from logits and the log loss of probabilities; the loss cores
  delegate NumPy calls of at least ``_cpu.MIN_ELEMENTS`` elements to them through
  :func:`numba_kernels`. ``CROSSENT_KERNELS=0`` (or
  ``crossent.kernels._cpu.ENABLED = False``) turns them off.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def numba_kernels(x: Any) -> Any:
    """``crossent.kernels._cpu`` where it may take a call on ``x`` (a NumPy array of at least
    ``_cpu.MIN_ELEMENTS``, numba installed, the kernels on), else None. Numba is imported on the
    first such call, never by ``import crossent``."""
    if type(x) is not np.ndarray:
        return None
    try:
        from crossent.kernels import _cpu
    except ImportError:  # numba is not installed: the generic path
        return None
    return _cpu if _cpu.ENABLED and x.size >= _cpu.MIN_ELEMENTS else None
