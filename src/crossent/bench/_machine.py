"""The machine a benchmark ran on: CPU, cores, library versions and their thread counts."""

from __future__ import annotations

import os
import platform
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import numpy as np


def describe() -> dict[str, Any]:
    """CPU model, cores, Python and the versions and threads of NumPy, numba, torch, scikit-learn.

    A library that is not installed is ``None``; torch and numba are imported to read their
    thread counts (the benchmark imports them anyway).
    """
    info: dict[str, Any] = {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "usable_cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "numba": None, "numba_threads": None,
        "torch": None, "torch_threads": None, "cuda": None,
        "sklearn": _version("scikit-learn"),
    }
    try:
        import numba
    except ImportError:
        pass
    else:
        info.update(numba=numba.__version__, numba_threads=numba.get_num_threads())
    try:
        import torch
    except ImportError:
        pass
    else:
        info.update(torch=torch.__version__, torch_threads=torch.get_num_threads(),
                    cuda=torch.cuda.get_device_name() if torch.cuda.is_available() else None)
    return info


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as lines:
            for line in lines:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def _version(distribution: str) -> str | None:
    try:
        return version(distribution)
    except PackageNotFoundError:
        return None
