"""``run``: the cases measured side by side, their derived figures, the targets; a plain dict."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from crossent.bench import _cases, _linear
from crossent.bench._machine import describe
from crossent.bench._targets import evaluate
from crossent.bench._timing import alternate, number

CASES = ("ce", "bce", "logloss", "linear")
DEFAULT_SIZES = {"rows": 8192, "classes": 32000, "elements": 10**8, "logloss_rows": 10**6, "logloss_classes": 100,
                 "tokens": 4096, "hidden": 1024, "vocab": 65536, "copy_mib": 256}
CUDA_SIZES = {**DEFAULT_SIZES, "rows": 16384, "classes": 128256, "copy_mib": 1024}  # the GPU shape
QUICK_SIZES = {"rows": 256, "classes": 1000, "elements": 1 << 18, "logloss_rows": 4096, "logloss_classes": 100,
               "tokens": 256, "hidden": 64, "vocab": 2048, "copy_mib": 4}
DEFAULT_REPEATS, QUICK_REPEATS = 5, 3
RTOL = 1e-5  # float32 values of a case agree when within this of its reference peer's (see _rtol)
DEVICES = ("auto", "cpu", "cuda")
DTYPES = _cases.DTYPES
TEST_DEVICE = "torch-cpu"
"""A device ``run`` takes but the command line does not offer: ``ce`` and ``bce`` on torch CPU
tensors by the code path of ``cuda`` (inputs made by torch in ``dtype``, the NumPy rows
unavailable, torch's copy as the floor, the GPU targets), so that tests exercise that path
without a GPU; with ``crossent.kernels.TRITON_ON_CPU`` and ``TRITON_INTERPRET=1`` the crossent
row takes the Triton kernels as on a GPU."""
_IMPLEMENTATIONS = {"ce": _cases.CE, "bce": _cases.BCE, "logloss": _cases.LOGLOSS, "linear": _linear.IMPLEMENTATIONS}


def run(cases: Iterable[str] = CASES, *, repeats: int | None = None, quick: bool = False,
        sizes: Mapping[str, int] | None = None, torch_compile: bool = True, device: str = "auto",
        dtype: str = "float32", linear_device: str | None = None, chunk_size: int | None = None,
        progress: bool = True) -> dict[str, Any]:
    """Measure ``cases`` on this machine, implementations alternating; a JSON-ready dict.

    Args:
        cases: any of ``"ce"``, ``"bce"``, ``"logloss"``, ``"linear"`` (run in that order).
        repeats: timed calls of each implementation after one warm-up call; medians are
            reported (default 5; 3 with ``quick``).
        quick: tiny sizes (:data:`QUICK_SIZES`): a smoke run of a few seconds.
        sizes: overrides of :data:`DEFAULT_SIZES` (:data:`CUDA_SIZES` on cuda, :data:`QUICK_SIZES`
            with ``quick``), by key.
        torch_compile: False skips the torch.compile rows (compiling takes seconds to a minute).
        device: where ``ce`` and ``bce`` run: ``"cpu"`` (float32 NumPy arrays, and torch tensors
            sharing them), ``"cuda"`` (torch tensors on the GPU, timed with its synchronization;
            the copy floor is the GPU's) or ``"auto"`` (cuda where torch sees one, else cpu).
            ``logloss`` always runs on the CPU (against a CPU copy floor, ``"copy_cpu"``, where
            ``device`` is not the CPU).
        dtype: ``"float32"``, ``"bfloat16"`` or ``"float16"``: the logits of ``ce`` and ``bce``
            (other than float32 only on cuda).
        linear_device: ``"auto"``, ``"cpu"`` or ``"cuda"`` for the ``linear`` case (default: ``device``).
        chunk_size: rows per chunk of ``linear_cross_entropy`` (None: its default).
        progress: a progress bar on stderr.

    Returns ``{"machine", "settings", "copy", "cases": {name: case}}``; see the package docstring.
    """
    cases = _checked_cases(cases)
    if device not in (*DEVICES, TEST_DEVICE):
        raise ValueError(f"device must be one of {', '.join(DEVICES)}, got {device!r}")
    if dtype not in DTYPES:
        raise ValueError(f"dtype must be one of {', '.join(DTYPES)}, got {dtype!r}")
    if linear_device is None:
        linear_device = device if device in DEVICES else "cpu"
    if linear_device not in DEVICES:
        raise ValueError(f"linear_device must be one of {', '.join(DEVICES)}, got {linear_device!r}")
    repeats = (QUICK_REPEATS if quick else DEFAULT_REPEATS) if repeats is None else repeats
    if isinstance(repeats, bool) or not isinstance(repeats, int) or repeats < 1:
        raise ValueError(f"repeats must be a positive integer, got {repeats!r}")
    if chunk_size is not None and (not isinstance(chunk_size, int) or chunk_size < 1):
        raise ValueError(f"chunk_size must be a positive integer, got {chunk_size!r}")
    device = _device_of(device, dtype)
    size = _checked_sizes(sizes, QUICK_SIZES if quick else CUDA_SIZES if device == "cuda" else DEFAULT_SIZES)
    if "linear" in cases and linear_device == "cuda":
        _linear.device_of("cuda")  # fail now, not after the other cases
    torch_device, synchronize, device_name = _torch_device(device)
    cpu_copy = torch_device is not None and "logloss" in cases  # logloss's own floor

    from crossent.selection._progress import Progress

    total = (1 + repeats) * (1 + cpu_copy) + sum(
        len(_IMPLEMENTATIONS[c]) * (2 if c == "linear" else 1) + repeats for c in cases)
    bar = Progress(total, "crossent bench", enabled=progress)
    result: dict[str, Any] = {
        "machine": describe(),
        "settings": {"cases": list(cases), "repeats": repeats, "quick": quick, "sizes": size,
                     "torch_compile": torch_compile, "device": device, "device_name": device_name, "dtype": dtype,
                     "linear_device": linear_device, "chunk_size": chunk_size},
        "copy": None,
        "cases": {},
    }
    try:
        result["copy"] = _copy(size["copy_mib"] * 2**20, repeats, lambda what: bar.step(f"copy: {what}"),
                               torch_device, dtype, synchronize)
        if cpu_copy:
            result["copy_cpu"] = _copy(size["copy_mib"] * 2**20, repeats,
                                       lambda what: bar.step(f"CPU copy: {what}"))
        for name in cases:
            def step(what: str, name: str = name) -> None:
                bar.step(f"{name}: {what}")

            on_device = name in ("ce", "bce")  # logloss is NumPy, linear has its own device
            if name == "linear":
                case = _linear.measure(size["tokens"], size["hidden"], size["vocab"], repeats=repeats,
                                       device=linear_device, chunk_size=chunk_size, step=step)
            else:
                built = _build(name, size, torch_compile, torch_device if on_device else None, dtype)
                case = {"title": built.title, "shape": built.shape, "bytes": built.nbytes,
                        "bytes_counted": built.counted, "reference": built.reference,
                        "implementations": alternate(built.runs, repeats, step,
                                                     synchronize if on_device else lambda: None)}
                del built  # the inputs
            floor = result["copy"] if on_device or "copy_cpu" not in result else result["copy_cpu"]
            _derive(case, floor["gbps"], _rtol(dtype) if on_device else RTOL)
            case["target"] = evaluate(name, case, gpu=on_device and torch_device is not None)
            result["cases"][name] = case
    except BaseException:
        if progress:
            sys.stderr.write("\n")  # end the bar's line, not fill it
        raise
    bar.close()
    return result


def _device_of(requested: str, dtype: str) -> str:
    """``cpu``, ``cuda`` or the tests' device; ``auto`` is cuda where torch sees a GPU, and a
    dtype other than float32 needs a torch device."""
    if requested in ("cuda", "auto"):
        missing = _no_cuda()
        if missing is None:
            return "cuda"
        if requested == "cuda":
            raise ValueError(f"device cuda: {missing}")
        if dtype != "float32":
            raise ValueError(f"dtype {dtype} needs device cuda (the CPU cases are float32 NumPy arrays): {missing}")
        return "cpu"
    if requested == "cpu" and dtype != "float32":
        raise ValueError(f"dtype {dtype} needs device cuda (the CPU cases are float32 NumPy arrays)")
    return requested


def _no_cuda() -> str | None:
    """Why torch cannot run on a GPU here, or None where it can."""
    try:
        import torch
    except ImportError:
        return "torch is not installed"
    return None if torch.cuda.is_available() else "torch sees no CUDA device"


def _torch_device(device: str) -> tuple[Any, Callable[[], None], str]:
    """The torch device of ``ce`` and ``bce`` (None: NumPy on the CPU), the call that waits for
    its queued work (the timing calls it before starting and before stopping the clock), its name."""
    if device == "cpu":
        return None, lambda: None, "CPU"
    import torch

    if device == TEST_DEVICE:
        return torch.device("cpu"), lambda: None, "CPU (torch tensors, by the cuda code path)"
    on = torch.device("cuda", torch.cuda.current_device())
    return on, lambda: torch.cuda.synchronize(on), torch.cuda.get_device_name(on)


def _rtol(dtype: str) -> float:
    """Values agree within 1e-5 in float32; in half precision within two roundings to the dtype,
    2·eps (bfloat16 1.6e-2, float16 2.0e-3): a peer returns its loss in the dtype (rounded once
    to it, after sums of terms each rounded to it), where crossent returns it in float32."""
    if dtype == "float32":
        return RTOL
    import torch

    return 2 * torch.finfo(getattr(torch, dtype)).eps


def _build(name: str, size: Mapping[str, int], torch_compile: bool, device: Any, dtype: str) -> _cases.Case:
    if name == "ce":
        return _cases.ce(size["rows"], size["classes"], torch_compile=torch_compile, device=device, dtype=dtype)
    if name == "bce":
        return _cases.bce(size["elements"], torch_compile=torch_compile, device=device, dtype=dtype)
    return _cases.logloss(size["logloss_rows"], size["logloss_classes"])


def _checked_cases(cases: Iterable[str]) -> tuple[str, ...]:
    if isinstance(cases, str):
        cases = cases.split(",")
    chosen = {c.strip() for c in cases}
    unknown = sorted(chosen - set(CASES))
    if unknown or not chosen:
        shown = repr(unknown[0]) if unknown else "none"
        raise ValueError(f"unknown case {shown} (cases: {', '.join(CASES)})")
    return tuple(c for c in CASES if c in chosen)


def _checked_sizes(sizes: Mapping[str, int] | None, defaults: Mapping[str, int]) -> dict[str, int]:
    merged = dict(defaults)
    for key, value in (sizes or {}).items():
        if key not in defaults:
            raise ValueError(f"unknown size {key!r} (sizes: {', '.join(defaults)})")
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{key} must be a positive integer, got {value!r}")
        merged[key] = value
    return merged


def _copy(nbytes: int, repeats: int, step: Any, device: Any = None, dtype: str = "float32",
          synchronize: Callable[[], None] = lambda: None) -> dict[str, Any]:
    moved, call = _cases.copy(nbytes, device=device, dtype=dtype)
    row = alternate({"copy": call}, repeats, step, synchronize)["copy"]
    return {"array_bytes": moved // 2, "bytes": moved, "bytes_counted": "read + write", "times": row["times"],
            "seconds": row["seconds"], "gbps": moved / row["seconds"] / 1e9, "dtype": dtype,
            "device": "cpu" if device is None else str(device), "method": "np.copyto" if device is None else "copy_"}


def _derive(case: dict[str, Any], copy_gbps: float, rtol: float = RTOL) -> None:
    """GB/s, fraction of copy bandwidth, ratios to each peer (peer time / this time), and whether
    the values agree with the reference peer's (within ``rtol``, relative)."""
    rows = case["implementations"]
    peers = [name for name in rows if not name.startswith("crossent")]
    for row in rows.values():
        if not row["available"]:
            continue
        if "bytes" in case:
            row["gbps"] = case["bytes"] / row["seconds"] / 1e9
            row["copy_fraction"] = row["gbps"] / copy_gbps
        row["vs"] = {peer: rows[peer]["seconds"] / row["seconds"] for peer in peers if rows[peer]["available"]}
        if "peak_bytes" in row:
            row["memory_vs"] = {peer: row["peak_bytes"] / rows[peer]["peak_bytes"] for peer in peers
                                if rows[peer]["available"] and (rows[peer].get("peak_bytes") or 0) > 0
                                and row["peak_bytes"] is not None}  # no ratio to a peak of 0
    # the case's reference peer, or where it cannot run here the first peer that can
    available = [name for name in peers if rows[name]["available"]]
    name = case["reference"] if case["reference"] in available else next(iter(available), case["reference"])
    reference = rows[name]
    diffs: dict[str, Any] = {}
    if reference["available"] and isinstance(reference.get("value"), float):
        for other, row in rows.items():
            if other != name and row["available"]:
                diffs[other] = number(abs(float(row["value"]) - reference["value"]) / max(abs(reference["value"]),
                                                                                           1e-300))
    agree = None if not diffs else all(isinstance(d, float) and d <= rtol for d in diffs.values())
    case["agreement"] = {"reference": name, "rtol": rtol, "rel_diff": diffs, "agree": agree}
