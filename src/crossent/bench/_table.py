"""The result of :func:`crossent.bench.run` as text: the machine, then one Markdown table per case."""

from __future__ import annotations

from typing import Any


def render(result: dict[str, Any]) -> str:
    """The machine, the copy bandwidth, and per case a table and its target line."""
    settings = result["settings"]
    repeats = settings["repeats"]
    lines = [*_machine(result["machine"]), *_device(settings),
             f"{repeats} repeat{'s' if repeats != 1 else ''}{' (quick sizes)' if settings['quick'] else ''}, "
             "implementations "
             "alternating within each repeat, medians after one warm-up call", ""]
    lines += [_copy("copy bandwidth", result["copy"])]
    if "copy_cpu" in result:
        lines += [_copy("CPU copy bandwidth, logloss's floor", result["copy_cpu"])]
    lines += [""]
    for name, case in result["cases"].items():
        lines += [f"## {name}: {case['title']}", ""]
        if name == "linear":
            lines += _linear(case)
        else:
            lines += [f"{_size(case['bytes'])} moved ({case['bytes_counted']})", "", *_timed(case)]
        lines += _unavailable(case)
        lines += _agreement(case)
        lines += [_target(case["target"]), ""]
    return "\n".join(lines).rstrip("\n") + "\n"


def _machine(m: dict[str, Any]) -> list[str]:
    def library(name: str, threads: str | None) -> str:
        if m.get(name) is None:
            return f"{name} not installed"
        return f"{name} {m[name]}" + (f" ({m[threads]} threads)" if threads else "")

    return [f"# {m['cpu']}, {m['cores']} cores ({m['usable_cores']} usable); {m['platform']}; Python {m['python']}",
            "# " + ", ".join([library("numpy", None), library("numba", "numba_threads"),
                              library("torch", "torch_threads"), library("sklearn", None)])
            + (f"; CUDA: {m['cuda']}" if m.get("cuda") else "")]


def _device(settings: dict[str, Any]) -> list[str]:
    """Where ce and bce ran, where that is not float32 NumPy on the CPU (a JSON from before
    ``--device`` has neither key)."""
    device, dtype = settings.get("device", "cpu"), settings.get("dtype", "float32")
    if device == "cpu" and dtype == "float32":
        return []
    return [f"# ce and bce: {dtype} torch tensors on {device}: {settings.get('device_name', device)}"]


def _copy(what: str, copy: dict[str, Any]) -> str:
    method, device = copy.get("method", "np.copyto"), copy.get("device", "cpu")
    where = "" if method == "np.copyto" else f" on {device}"
    return (f"{what} ({method} of {_size(copy['array_bytes'])} {copy.get('dtype', 'float32')}{where}, read + write): "
            f"{_seconds(copy['seconds'])} s, {copy['gbps']:.1f} GB/s")


def _peers(case: dict[str, Any]) -> list[str]:
    return [name for name in case["implementations"] if not name.startswith("crossent")]


def _timed(case: dict[str, Any]) -> list[str]:
    peers = _peers(case)
    header = ["implementation", "median s", "GB/s", "% of copy", "loss", *[f"× {p}" for p in peers]]
    rows = []
    for name, row in case["implementations"].items():
        if not row["available"]:
            rows.append([name, "unavailable", *[""] * (len(header) - 2)])
            continue
        rows.append([name, _seconds(row["seconds"]), f"{row['gbps']:.2f}", f"{100 * row['copy_fraction']:.0f}%",
                     _value(row["value"]), *[_ratio(row["vs"].get(p)) for p in peers]])
    return _markdown(header, rows)


def _linear(case: dict[str, Any]) -> list[str]:
    peers = _peers(case)
    header = ["implementation", "median s", "peak extra MiB", "loss", *[f"× {p} (time)" for p in peers],
              *[f"peak ÷ {p}" for p in peers]]
    rows = []
    for name, row in case["implementations"].items():
        if not row["available"]:
            rows.append([name, "unavailable", *[""] * (len(header) - 2)])
            continue
        peak = "—" if row["peak_bytes"] is None else f"{row['peak_bytes'] / 2**20:.1f}"
        rows.append([name, _seconds(row["seconds"]), peak, _value(row["value"]),
                     *[_ratio(row["vs"].get(p)) for p in peers],
                     *[_ratio(row.get("memory_vs", {}).get(p), 3) for p in peers]])
    how = (f"chunk {case['chunk_size']} rows; peak memory: {case['peak_method']} over {case['memory_calls']} "
           "calls, each implementation in a fresh process" if case["device"] else "not measured")
    return [f"logits N×V: {_size(case['logits_bytes'])} float32; {how}", "", *_markdown(header, rows)]


def _unavailable(case: dict[str, Any]) -> list[str]:
    lines = [f"- {name}: unavailable: {row['reason']}" for name, row in case["implementations"].items()
             if not row["available"]]
    lines += [f"- {name}: peak memory not measured: {row['peak_error']}" for name, row in
              case["implementations"].items() if row.get("peak_error")]
    return ["", *lines] if lines else []


def _agreement(case: dict[str, Any]) -> list[str]:
    agreement = case["agreement"]
    if agreement["agree"] is None:
        return ["", f"values: no comparison ({agreement['reference']} unavailable)"]
    worst = max(agreement["rel_diff"].values(), key=lambda d: d if isinstance(d, float) else float("inf"))
    verdict = "agree" if agreement["agree"] else "DISAGREE"
    return ["", f"values {verdict} with {agreement['reference']} (largest relative difference {_value(worst)}, "
                f"tolerance {agreement['rtol']:g})"]


def _target(target: dict[str, Any]) -> str:
    if not target["checks"]:
        return f"target: {target['goal']}"
    verdict = {True: "met", False: "NOT MET", None: "cannot tell"}[target["met"]]
    by_row: dict[str, list[str]] = {}
    for check in target["checks"]:
        mark = {True: " yes", False: " no", None: ""}[check["met"]]
        by_row.setdefault(check["implementation"], []).append(check["text"] + mark)
    details = "; ".join(f"{impl}: {', '.join(texts)}" for impl, texts in by_row.items())
    return f"target: {target['goal']}: {verdict} ({details})"


def _markdown(header: list[str], rows: list[list[str]]) -> list[str]:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    return [line(header), "|" + "|".join("-" * (w + 2) for w in widths) + "|", *[line(r) for r in rows]]


def _seconds(t: float) -> str:
    return f"{t:.4g}"


def _ratio(r: float | None, digits: int = 2) -> str:
    return "—" if r is None else f"{r:.{digits}f}"


def _value(v: float | str) -> str:
    return v if isinstance(v, str) else f"{v:.7g}"


def _size(nbytes: int) -> str:
    return f"{nbytes / 2**20:.0f} MiB" if nbytes >= 2**20 else f"{nbytes / 2**10:.0f} KiB"
