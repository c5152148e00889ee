"""Benchmarks of crossent against its peers, side by side on the machine it runs on.

``crossent bench`` (or ``python -m crossent.bench``) measures, in one run, with the
implementations alternating within each repeat and medians taken after a warm-up call:

- ``copy``: ``np.copyto`` of a large float32 array, the memory-bandwidth floor of every case;
- ``ce``: cross-entropy forward + backward from float32 logits with integer labels, crossent on
  NumPy and on torch tensors against torch eager, ``torch.compile`` and naive NumPy;
- ``bce``: binary cross-entropy with logits forward + backward, the same implementations;
- ``logloss``: the log loss of probabilities against ``sklearn.metrics.log_loss`` and naive NumPy;
- ``linear``: ``crossent.torch.linear_cross_entropy`` against naive torch: time and peak memory.

:func:`run` returns a plain dict (what ``--json`` prints)::

    {"machine": {"cpu", "cores", "usable_cores", "platform", "python", "numpy", "numba",
                 "numba_threads", "torch", "torch_threads", "cuda", "sklearn"},
     "settings": {"cases", "repeats", "quick", "sizes", "torch_compile", "linear_device", "chunk_size"},
     "copy": {"array_bytes", "bytes", "bytes_counted", "times", "seconds", "gbps"},
     "cases": {"ce" | "bce" | "logloss": {"title", "shape", "bytes", "bytes_counted", "reference",
                                           "implementations", "agreement", "target"},
               "linear": {"title", "shape", "device", "chunk_size", "logits_bytes", "peak_method",
                          "memory_calls", "reference", "implementations", "agreement", "target"}}}

An implementation is ``{"available": false, "reason"}`` or ``{"available": true, "times",
"seconds" (the median), "value" (the loss), "gbps", "copy_fraction", "vs": {peer: peer's
seconds / these seconds}}``; in ``linear``, ``"peak_bytes"`` (None, with ``"peak_error"``, where
its subprocess failed) and ``"memory_vs": {peer: these peak bytes / the peer's}`` instead of the
bandwidth. ``agreement`` is ``{"reference", "rtol", "rel_diff": {implementation: relative
difference of the value}, "agree"}``; ``target`` is ``{"goal", "met", "checks": [...]}`` (``met``
is None where a peer is unavailable).
:func:`render` writes the result as Markdown tables.

Heavy libraries (torch, scikit-learn, numba) are imported by the cases that use them;
``import crossent`` does not import this package.
"""

from crossent.bench._run import CASES, DEFAULT_SIZES, QUICK_SIZES, run
from crossent.bench._table import render

__all__ = ["CASES", "DEFAULT_SIZES", "QUICK_SIZES", "render", "run"]
