"""``run``: the cases measured side by side, their derived figures, the targets; a plain dict."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping
from typing import Any

from crossent.bench import _cases, _linear
from crossent.bench._machine import describe
from crossent.bench._targets import evaluate
from crossent.bench._timing import alternate, number

CASES = ("ce", "bce", "logloss", "linear")
DEFAULT_SIZES = {"rows": 8192, "classes": 32000, "elements": 10**8, "logloss_rows": 10**6, "logloss_classes": 100,
                 "tokens": 4096, "hidden": 1024, "vocab": 65536, "copy_mib": 256}
QUICK_SIZES = {"rows": 256, "classes": 1000, "elements": 1 << 18, "logloss_rows": 4096, "logloss_classes": 100,
               "tokens": 256, "hidden": 64, "vocab": 2048, "copy_mib": 4}
DEFAULT_REPEATS, QUICK_REPEATS = 5, 3
RTOL = 1e-5  # values of a case agree when within this of its reference peer's
_IMPLEMENTATIONS = {"ce": _cases.CE, "bce": _cases.BCE, "logloss": _cases.LOGLOSS, "linear": _linear.IMPLEMENTATIONS}
_LINEAR_DEVICES = ("auto", "cpu", "cuda")


def run(cases: Iterable[str] = CASES, *, repeats: int | None = None, quick: bool = False,
        sizes: Mapping[str, int] | None = None, torch_compile: bool = True, linear_device: str = "auto",
        chunk_size: int | None = None, progress: bool = True) -> dict[str, Any]:
    """Measure ``cases`` on this machine, implementations alternating; a JSON-ready dict.

    Args:
        cases: any of ``"ce"``, ``"bce"``, ``"logloss"``, ``"linear"`` (run in that order).
        repeats: timed calls of each implementation after one warm-up call; medians are
            reported (default 5; 3 with ``quick``).
        quick: tiny sizes (:data:`QUICK_SIZES`): a smoke run of a few seconds.
        sizes: overrides of :data:`DEFAULT_SIZES` (or of :data:`QUICK_SIZES`), by key.
        torch_compile: False skips the torch.compile rows (compiling takes seconds to a minute).
        linear_device: ``"auto"`` (CUDA where torch sees it), ``"cpu"`` or ``"cuda"``.
        chunk_size: rows per chunk of ``linear_cross_entropy`` (None: its default).
        progress: a progress bar on stderr.

    Returns ``{"machine", "settings", "copy", "cases": {name: case}}``; see the package docstring.
    """
    cases = _checked_cases(cases)
    size = _checked_sizes(sizes, QUICK_SIZES if quick else DEFAULT_SIZES)
    repeats = (QUICK_REPEATS if quick else DEFAULT_REPEATS) if repeats is None else repeats
    if isinstance(repeats, bool) or not isinstance(repeats, int) or repeats < 1:
        raise ValueError(f"repeats must be a positive integer, got {repeats!r}")
    if linear_device not in _LINEAR_DEVICES:
        raise ValueError(f"linear_device must be one of {', '.join(_LINEAR_DEVICES)}, got {linear_device!r}")
    if chunk_size is not None and (not isinstance(chunk_size, int) or chunk_size < 1):
        raise ValueError(f"chunk_size must be a positive integer, got {chunk_size!r}")
    if "linear" in cases and linear_device == "cuda":
        _linear.device_of("cuda")  # fail now, not after the other cases

    from crossent.selection._progress import Progress

    total = 1 + repeats + sum(len(_IMPLEMENTATIONS[c]) * (2 if c == "linear" else 1) + repeats for c in cases)
    bar = Progress(total, "crossent bench", enabled=progress)
    result: dict[str, Any] = {
        "machine": describe(),
        "settings": {"cases": list(cases), "repeats": repeats, "quick": quick, "sizes": size,
                     "torch_compile": torch_compile, "linear_device": linear_device, "chunk_size": chunk_size},
        "copy": None,
        "cases": {},
    }
    try:
        result["copy"] = _copy(size["copy_mib"] * 2**20, repeats, lambda what: bar.step(f"copy: {what}"))
        for name in cases:
            def step(what: str, name: str = name) -> None:
                bar.step(f"{name}: {what}")

            if name == "linear":
                case = _linear.measure(size["tokens"], size["hidden"], size["vocab"], repeats=repeats,
                                       device=linear_device, chunk_size=chunk_size, step=step)
            else:
                built = _build(name, size, torch_compile)
                case = {"title": built.title, "shape": built.shape, "bytes": built.nbytes,
                        "bytes_counted": built.counted, "reference": built.reference,
                        "implementations": alternate(built.runs, repeats, step)}
                del built  # the inputs
            _derive(case, result["copy"]["gbps"])
            case["target"] = evaluate(name, case)
            result["cases"][name] = case
    except BaseException:
        if progress:
            sys.stderr.write("\n")  # end the bar's line, not fill it
        raise
    bar.close()
    return result


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


def _build(name: str, size: Mapping[str, int], torch_compile: bool) -> _cases.Case:
    if name == "ce":
        return _cases.ce(size["rows"], size["classes"], torch_compile=torch_compile)
    if name == "bce":
        return _cases.bce(size["elements"], torch_compile=torch_compile)
    return _cases.logloss(size["logloss_rows"], size["logloss_classes"])


def _copy(nbytes: int, repeats: int, step: Any) -> dict[str, Any]:
    moved, call = _cases.copy(nbytes)
    row = alternate({"copy": call}, repeats, step)["copy"]
    return {"array_bytes": moved // 2, "bytes": moved, "bytes_counted": "read + write", "times": row["times"],
            "seconds": row["seconds"], "gbps": moved / row["seconds"] / 1e9}


def _derive(case: dict[str, Any], copy_gbps: float) -> None:
    """GB/s, fraction of copy bandwidth, ratios to each peer (peer time / this time), and whether
    the values agree with the reference peer's."""
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
    agree = None if not diffs else all(isinstance(d, float) and d <= RTOL for d in diffs.values())
    case["agreement"] = {"reference": name, "rtol": RTOL, "rel_diff": diffs, "agree": agree}
