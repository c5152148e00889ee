"""Peak memory beyond the inputs, each measurement in a fresh process.

On CPU the peak is the rise of the process's resident-set high-water mark above its value once
the inputs exist; the mark only goes up, so each implementation runs in its own subprocess, where
no earlier one can hide its peak. On Linux the mark is ``VmHWM`` of ``/proc/self/status``, first
lowered to the current resident set (``/proc/self/clear_refs``), not ``getrusage``'s
``ru_maxrss``: a child's ``ru_maxrss`` starts at its parent's high-water mark (Linux carries it
across fork and exec), so a parent that has run the large cases would hide the child's rise.
Elsewhere it is ``ru_maxrss``. On CUDA it is ``torch.cuda.max_memory_allocated()`` above the
memory allocated for the inputs.

:func:`in_subprocess` starts ``python -c`` on :func:`child`, which calls a ``module:function``
with JSON keyword arguments and prints its JSON result as the last line of stdout.
"""

from __future__ import annotations

import importlib
import json
import resource
import subprocess
import sys
from typing import Any


class Peak:
    """The peak memory used after :meth:`start`, on ``device`` ("cpu" or "cuda")."""

    def __init__(self, device: str) -> None:
        self.device = device
        self.method = ("torch.cuda.max_memory_allocated" if device == "cuda"
                       else "VmHWM rise" if _vm_hwm_bytes() is not None else "ru_maxrss rise")
        self.base = 0

    def start(self) -> None:
        if self.device == "cuda":
            import torch

            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
            self.base = torch.cuda.memory_allocated()
        else:
            _reset_high_water_mark()
            self.base = _high_water_bytes()

    def extra_bytes(self) -> int:
        if self.device == "cuda":
            import torch

            torch.cuda.synchronize()
            return int(torch.cuda.max_memory_allocated()) - self.base
        return _high_water_bytes() - self.base


def _high_water_bytes() -> int:
    hwm = _vm_hwm_bytes()
    if hwm is not None:
        return hwm
    scale = 1 if sys.platform == "darwin" else 1024  # ru_maxrss: KiB on Linux, bytes on macOS
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale


def _vm_hwm_bytes() -> int | None:
    """This process's own resident high-water mark (Linux), or None."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024  # kB
    except (OSError, ValueError):
        pass
    return None


def _reset_high_water_mark() -> None:
    """Lower the high-water mark to the current resident set where Linux allows it (so that a
    temporary made while building the inputs cannot hide the rise); elsewhere, a no-op."""
    try:
        with open("/proc/self/clear_refs", "w") as control:
            control.write("5")
    except OSError:
        pass


def in_subprocess(function: str, **kwargs: Any) -> dict[str, Any]:
    """``function(**kwargs)`` (``"module:name"``) in a fresh Python process; its JSON result.

    Raises RuntimeError with the child's last line of stderr if it fails.
    """
    code = "from crossent.bench._memory import child; child()"
    done = subprocess.run([sys.executable, "-c", code, function, json.dumps(kwargs)],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        lines = done.stderr.strip().splitlines()
        raise RuntimeError(lines[-1] if lines else f"the subprocess exited with status {done.returncode}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def child() -> None:
    """The subprocess's side of :func:`in_subprocess`: ``argv`` is the function and its kwargs."""
    module, name = sys.argv[1].split(":")
    result = getattr(importlib.import_module(module), name)(**json.loads(sys.argv[2]))
    print(json.dumps(result))
