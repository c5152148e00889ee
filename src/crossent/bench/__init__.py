"""Benchmarks of crossent against its peers, side by side on the machine it runs on.

``crossent bench`` (or ``python -m crossent.bench``) measures, in one run, with the
implementations alternating within each repeat and medians taken after a warm-up call:

- ``copy``: ``np.copyto`` of a large float32 array, the memory-bandwidth floor of every case;
- ``ce``: cross-entropy forward + backward from float32 logits with integer labels, crossent on
  NumPy and on torch tensors against torch eager, ``torch.compile`` and naive NumPy; crossent
  also into a reused gradient buffer (``value_and_grad(..., out=buffer)``) and over the logits
  (``out=logits``, and ``CrossEntropyLoss(inplace_backward=True)`` on tensors), the logits
  restored before each call outside the clock;
- ``bce``: binary cross-entropy with logits forward + backward, the same implementations;

with ``device="cuda"`` (``--device cuda``, or ``auto`` on a machine with a GPU) ``ce`` and ``bce``
run on torch tensors on the GPU in ``dtype`` (float32, bfloat16 or float16): crossent (its Triton
kernels), torch eager and ``torch.compile``, timed with ``torch.cuda.synchronize`` before the
clock starts and before it stops, the NumPy rows unavailable ("CPU only"); ``copy`` is then the
GPU's ``copy_`` in that dtype, and ``copy_cpu`` the CPU floor of ``logloss``, which stays NumPy;
- ``logloss``: the log loss of probabilities against ``sklearn.metrics.log_loss`` and naive NumPy;
- ``linear``: ``crossent.torch.linear_cross_entropy`` against naive torch: time and peak memory.

:func:`run` returns a plain dict (what ``--json`` prints)::

    {"machine": {"cpu", "cores", "usable_cores", "platform", "python", "numpy", "numba",
                 "numba_threads", "torch", "torch_threads", "cuda", "sklearn"},
     "settings": {"cases", "repeats", "quick", "sizes", "torch_compile", "device", "device_name", "dtype",
                  "linear_device", "chunk_size"},
     "copy": {"array_bytes", "bytes", "bytes_counted", "times", "seconds", "gbps", "dtype", "device", "method"},
     "copy_cpu": {...the same} (only where ce and bce ran on a torch device and logloss was measured),
     "cases": {"ce" | "bce" | "logloss": {"title", "shape", "bytes", "bytes_counted", "reference",
                                           "implementations", "agreement", "target"},
               "linear": {"title", "shape", "device", "chunk_size", "logits_bytes", "peak_method",
                          "memory_calls", "reference", "implementations", "agreement", "target"}}}

An implementation is ``{"available": false, "reason"}`` or ``{"available": true, "times",
"seconds" (the median), "value" (the loss), "gbps", "copy_fraction", "vs": {peer: peer's
seconds / these seconds}}``; in ``linear``, ``"peak_bytes"`` (None, with ``"peak_error"``, where
its subprocess failed) and ``"memory_vs": {peer: these peak bytes / the peer's}`` instead of the
bandwidth. ``agreement`` is ``{"reference", "rtol", "rel_diff": {implementation: relative
difference of the value}, "agree"}`` (``rtol`` 1e-5 in float32, 2·eps of the dtype in half
precision, where the peers return their loss rounded to it); ``target`` is ``{"goal", "met",
"checks": [...]}`` (``met`` is None where a peer is unavailable); on a GPU ``ce`` is held to the
issue's GPU target (≥70% of copy bandwidth, faster than ``torch.compile``).
:func:`render` writes the result as Markdown tables.

Heavy libraries (torch, scikit-learn, numba) are imported by the cases that use them;
``import crossent`` does not import this package.
"""

from crossent.bench._run import CASES, CUDA_SIZES, DEFAULT_SIZES, QUICK_SIZES, run
from crossent.bench._table import render

__all__ = ["CASES", "CUDA_SIZES", "DEFAULT_SIZES", "QUICK_SIZES", "render", "run"]
