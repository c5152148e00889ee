"""crossent bench: the JSON shape, the figures derived from the times, the tables, the errors.

Tiny sizes only (``--quick`` and smaller) and no assertion on speed: the machine is shared.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from typing import Any

import pytest

from crossent import bench
from crossent.cli import main

IMPLEMENTATIONS = {
    "ce": ["crossent (numpy)", "crossent (torch)", "torch eager", "torch.compile", "crossent (numpy, out=buffer)",
           "crossent (numpy, out=logits)", "crossent (torch, inplace_backward)", "naive numpy"],
    "bce": ["crossent (numpy)", "crossent (torch)", "torch eager", "torch.compile", "naive numpy"],
    "logloss": ["crossent", "sklearn log_loss", "naive numpy"],
    "linear": ["crossent (chunked)", "naive torch"],
}
TINY = {"rows": 64, "classes": 100, "elements": 4096, "logloss_rows": 256, "logloss_classes": 10}


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, timeout=300)


def check_times(row: dict[str, Any], repeats: int) -> None:
    assert len(row["times"]) == repeats
    assert all(math.isfinite(t) and t > 0 for t in row["times"])
    assert row["seconds"] == sorted(row["times"])[repeats // 2]  # the median of an odd count


def test_quick_json_has_every_case_and_implementation() -> None:
    # progress on stderr, JSON alone on stdout; --device cpu: the NumPy rows run on a GPU machine too
    done = run("-m", "crossent", "bench", "--quick", "--json", "--device", "cpu")
    assert done.returncode == 0, done.stderr
    assert "crossent bench [" in done.stderr
    result = json.loads(done.stdout)
    assert set(result) == {"machine", "settings", "copy", "cases"}
    assert result["machine"]["cores"] >= 1 and result["machine"]["numpy"]
    repeats = result["settings"]["repeats"]
    assert repeats == 3 and result["settings"]["quick"]
    assert result["settings"]["device"] == "cpu" and result["settings"]["dtype"] == "float32"
    assert result["settings"]["linear_device"] == "cpu"  # --linear-device follows --device

    copy = result["copy"]
    check_times(copy, repeats)
    assert copy["gbps"] == pytest.approx(copy["bytes"] / copy["seconds"] / 1e9)

    assert list(result["cases"]) == list(IMPLEMENTATIONS)
    for name, case in result["cases"].items():
        rows = case["implementations"]
        assert list(rows) == IMPLEMENTATIONS[name]
        for impl, row in rows.items():
            if impl.startswith("crossent") or impl.startswith("naive"):
                assert row["available"], (name, impl, row)
            if not row["available"]:  # a peer that cannot run here says why
                assert row["reason"], (name, impl)
                continue
            check_times(row, repeats)
            assert math.isfinite(row["value"])
            peers = [p for p in rows if not p.startswith("crossent") and rows[p]["available"]]
            for peer in peers:
                assert row["vs"][peer] == pytest.approx(rows[peer]["seconds"] / row["seconds"])
            if name == "linear":
                assert row["peak_bytes"] >= 0
            else:
                assert row["gbps"] == pytest.approx(case["bytes"] / row["seconds"] / 1e9)
                assert row["copy_fraction"] == pytest.approx(row["gbps"] / copy["gbps"])
        assert case["agreement"]["agree"] is True and case["agreement"]["rtol"] == 1e-5, case["agreement"]
        assert case["target"]["met"] in (True, False, None) and case["target"]["checks"]

    logloss = result["cases"]["logloss"]
    assert logloss["bytes"] == 4096 * 100 * 4
    values = {impl: row["value"] for impl, row in logloss["implementations"].items()}
    assert values["crossent"] == pytest.approx(values["sklearn log_loss"], rel=1e-5)
    assert values["naive numpy"] == pytest.approx(values["sklearn log_loss"], rel=1e-5)
    same_value = [c for c in logloss["target"]["checks"] if c["check"] == "same value"]
    assert same_value[0]["met"] is True

    assert result["cases"]["ce"]["bytes"] == 2 * 256 * 1000 * 4
    assert result["cases"]["bce"]["bytes"] == 3 * (1 << 18) * 4
    linear = result["cases"]["linear"]
    assert linear["device"] in ("cpu", "cuda") and linear["logits_bytes"] == 256 * 2048 * 4

    text = bench.render(result)  # the tables, from the JSON as printed
    for name, impls in IMPLEMENTATIONS.items():
        assert f"## {name}:" in text
        assert all(f"| {impl} " in text for impl in impls)
    assert text.count("target: ") == 4 and "copy bandwidth" in text
    assert "× torch eager" in text and "× sklearn log_loss" in text and "peak extra MiB" in text


def test_python_m_crossent_bench_prints_tables() -> None:
    done = run("-m", "crossent.bench", "--quick", "--cases", "ce", "--no-compile", "--no-progress",
               "--rows", "64", "--classes", "2048", "--repeats", "1", "--device", "cpu")
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    out = done.stdout
    assert out.startswith("# ") and "torch" in out.splitlines()[1] and "numba" in out.splitlines()[1]
    assert "## ce: cross-entropy forward + backward, (64 × 2048) float32" in out
    assert "| implementation " in out and "| median s " in out and "| GB/s " in out and "| % of copy " in out
    assert "torch.compile: unavailable: skipped (--no-compile)" in out
    assert ("target: crossent ≥5× faster than torch eager and ≥50% of copy bandwidth; over the logits ≥10× "
            "torch eager and ≥70% of copy bandwidth; into a reused buffer ≥70% of copy bandwidth: ") in out
    assert "## bce" not in out


def test_missing_peers_are_unavailable_not_a_crash(monkeypatch: pytest.MonkeyPatch) -> None:
    for module in ("torch", "torch.nn", "sklearn", "sklearn.metrics"):
        monkeypatch.setitem(sys.modules, module, None)  # `import torch` raises ImportError
    result = bench.run(bench.CASES, repeats=1, quick=True, sizes=TINY, progress=False)
    assert result["machine"]["torch"] is None
    for name in ("ce", "bce"):
        rows = result["cases"][name]["implementations"]
        for impl in ("crossent (torch)", "torch eager", "torch.compile", "crossent (torch, inplace_backward)"):
            if impl in rows:
                assert rows[impl] == {"available": False, "reason": "torch not installed"}
        assert rows["crossent (numpy)"]["available"] and rows["naive numpy"]["available"]
        faster = [c for c in result["cases"][name]["target"]["checks"] if c["check"] == "faster"]
        assert faster and all(c["met"] is None for c in faster)  # no torch eager to compare with
        agreement = result["cases"][name]["agreement"]  # torch eager missing: naive numpy is the reference
        assert agreement["reference"] == "naive numpy" and agreement["agree"] is True
    assert result["cases"]["bce"]["target"]["met"] is None
    assert result["cases"]["logloss"]["implementations"]["sklearn log_loss"]["reason"] == "scikit-learn not installed"
    assert all(row["reason"] == "torch not installed"
               for row in result["cases"]["linear"]["implementations"].values())
    text = bench.render(result)
    assert "- torch eager: unavailable: torch not installed" in text and "cannot tell" in text


def test_a_failing_torch_compile_is_reported_with_its_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    torch = pytest.importorskip("torch")

    def broken(function: Any) -> Any:
        def call(*args: Any) -> Any:
            raise RuntimeError("InductorError: no working C++ compiler found\nlong log ...")
        return call

    monkeypatch.setattr(torch, "compile", broken)
    result = bench.run(["ce"], repeats=1, sizes=TINY, quick=True, device="cpu", progress=False)
    row = result["cases"]["ce"]["implementations"]["torch.compile"]
    assert row == {"available": False, "reason": "RuntimeError: InductorError: no working C++ compiler found"}
    assert result["cases"]["ce"]["implementations"]["torch eager"]["available"]


def test_render_marks_a_met_target() -> None:
    result = bench.run(["logloss"], repeats=1, quick=True, sizes=TINY, device="cpu", progress=False)
    case = result["cases"]["logloss"]
    for row in case["implementations"].values():
        row["seconds"] = 1.0
    case["implementations"]["crossent"]["seconds"] = 0.01
    case["implementations"]["crossent"]["vs"] = {"sklearn log_loss": 100.0, "naive numpy": 100.0}
    case["target"] = bench._targets.evaluate("logloss", case)
    assert case["target"]["met"] is True
    assert "with the same value (relative 1e-5): met (crossent: 100.00× sklearn log_loss (≥20) yes" in bench.render(
        result)


@pytest.mark.parametrize(("args", "fragment"), [
    (["--cases", "ce,softmax"], "unknown case 'softmax'"),
    (["--repeats", "0"], "argument --repeats: must be a positive integer, got '0'"),
    (["--rows", "x"], "argument --rows: must be a positive integer, got 'x'"),
    (["--vocab", "-5"], "argument --vocab: must be a positive integer"),
    (["--linear-device", "tpu"], "invalid choice: 'tpu'"),
    (["--device", "tpu"], "invalid choice: 'tpu'"),
    (["--device", "torch-cpu"], "invalid choice: 'torch-cpu'"),  # run()'s test device, not a user's choice
    (["--dtype", "float64"], "invalid choice: 'float64'"),
    (["--device", "cpu", "--dtype", "bfloat16"], "dtype bfloat16 needs device cuda"),
    (["--iterations", "3"], "unrecognized arguments: --iterations 3"),
])
def test_bad_options_give_one_line_and_exit_2(args: list[str], fragment: str,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    try:
        status = main(["bench", "--no-progress", *args])
    except SystemExit as exit_:  # argparse's own errors
        status = exit_.code
    assert status == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("crossent: error:") and fragment in lines[0]


def test_run_validates_its_arguments() -> None:
    with pytest.raises(ValueError, match="repeats must be a positive integer"):
        bench.run(["ce"], repeats=0, progress=False)
    with pytest.raises(ValueError, match="unknown size 'batch'"):
        bench.run(["ce"], sizes={"batch": 3}, progress=False)
    with pytest.raises(ValueError, match="linear_device must be one of"):
        bench.run(["linear"], linear_device="tpu", progress=False)
    with pytest.raises(ValueError, match="device must be one of auto, cpu, cuda, got 'tpu'"):
        bench.run(["ce"], device="tpu", progress=False)
    with pytest.raises(ValueError, match="dtype must be one of float32, bfloat16, float16, got 'float64'"):
        bench.run(["ce"], dtype="float64", progress=False)
    with pytest.raises(ValueError, match=r"dtype float16 needs device cuda \(the CPU cases are float32"):
        bench.run(["ce"], device="cpu", dtype="float16", progress=False)


def test_help_lists_bench() -> None:
    done = run("-m", "crossent", "bench", "--help")
    assert done.returncode == 0
    for option in ("--cases", "--repeats", "--quick", "--rows", "--classes", "--elements", "--json", "--no-progress",
                   "--device", "--dtype"):
        assert option in done.stdout


def test_timing_synchronizes_the_device_around_each_timed_call() -> None:
    events: list[str] = []

    def call() -> tuple[None, None]:
        events.append("call")
        return None, None

    bench._timing.alternate({"a": call, "b": "CPU only"}, 2, synchronize=lambda: events.append("sync"))
    # after the warm-up call (its asynchronous errors are its own), then before and after each timed call
    assert events == ["call", "sync", *["sync", "call", "sync"] * 2]


def test_a_restoring_call_restores_its_inputs_before_each_call_outside_the_clock() -> None:
    events: list[str] = []

    def call() -> tuple[None, None]:
        events.append("call")
        return None, None

    restoring = bench._timing.Restoring(call, lambda: events.append("restore"))
    result = bench._timing.alternate({"a": restoring}, 3, synchronize=lambda: events.append("sync"))
    assert events == ["restore", "call", "sync", *["restore", "sync", "call", "sync"] * 3]
    check_times(result["a"], 3)


def test_ce_measures_a_reused_gradient_buffer_and_the_gradient_over_the_logits() -> None:
    """value_and_grad(out=buffer), value_and_grad(out=logits) and CrossEntropyLoss(inplace_backward=True),
    in the run of the fresh-gradient rows and torch eager, at the quick size (on the kernels), and
    held to the issue's in-place target (the buffer to its copy-bandwidth half)."""
    pytest.importorskip("torch")
    repeats = 3
    result = bench.run(["ce"], repeats=repeats, quick=True, torch_compile=False, device="cpu", progress=False)
    case = result["cases"]["ce"]
    rows = case["implementations"]
    in_place = ("crossent (numpy, out=buffer)", "crossent (numpy, out=logits)", "crossent (torch, inplace_backward)")
    for impl in in_place:
        row = rows[impl]
        check_times(row, repeats)
        # the logits restored before each call: the loss of the same logits, to the bit
        assert row["value"] == rows["crossent (numpy)"]["value"]
        assert row["gbps"] == pytest.approx(case["bytes"] / row["seconds"] / 1e9)
        assert row["vs"]["torch eager"] == pytest.approx(rows["torch eager"]["seconds"] / row["seconds"])
    assert case["agreement"]["agree"] is True
    bounds = {(c["implementation"], c["check"]): c["bound"] for c in case["target"]["checks"]}
    assert bounds == {**{(impl, "faster"): 5.0 for impl in ("crossent (numpy)", "crossent (torch)")},
                      **{(impl, "copy"): 0.5 for impl in ("crossent (numpy)", "crossent (torch)")},
                      **{(impl, "faster"): 10.0 for impl in in_place[1:]}, **{(impl, "copy"): 0.7 for impl in in_place}}
    # (the reused buffer is held to the copy bandwidth only: it moves what np.copyto moves)
    text = bench.render(result)
    assert all(f"| {impl} " in text for impl in in_place)
    assert "crossent (numpy, out=logits): " in text.split("target: ")[1]


def test_the_cuda_path_runs_on_torch_cpu_tensors(monkeypatch: pytest.MonkeyPatch) -> None:
    """``device="torch-cpu"`` (run()'s test device): ce and bce by the code path of ``--device cuda``
    on CPU tensors, whose crossent row the Triton kernels take under ``TRITON_ON_CPU`` and the
    interpreter (``TRITON_INTERPRET=1``, conftest.py). Tiny sizes: the interpreter is slow."""
    pytest.importorskip("triton")
    torch = pytest.importorskip("torch")
    import crossent.kernels

    _triton = pytest.importorskip("crossent.kernels._triton")
    if not _triton._interpreted():
        pytest.skip("triton was imported without TRITON_INTERPRET=1")
    calls: list[str] = []
    for name in ("softmax_cross_entropy", "sigmoid_cross_entropy"):
        original = getattr(_triton, name)
        monkeypatch.setattr(_triton, name, lambda *a, _o=original, _n=name, **k: (calls.append(_n), _o(*a, **k))[1])
    monkeypatch.setattr(crossent.kernels, "TRITON_ON_CPU", True)
    repeats, rows, classes, elements = 3, 16, 256, 4096
    result = bench.run(["ce", "bce"], quick=True, sizes={"rows": rows, "classes": classes, "elements": elements,
                                                         "copy_mib": 1},
                       device="torch-cpu", dtype="bfloat16", torch_compile=False, progress=False)
    json.loads(json.dumps(result))  # JSON-ready
    assert set(result) == {"machine", "settings", "copy", "cases"}  # no logloss: no CPU copy floor of its own
    settings = result["settings"]
    assert (settings["device"], settings["dtype"], settings["linear_device"]) == ("torch-cpu", "bfloat16", "cpu")
    copy = result["copy"]  # torch's copy_ in bfloat16: 2^20 bytes, 2^19 elements, read + written
    assert (copy["method"], copy["dtype"], copy["array_bytes"], copy["bytes"]) == ("copy_", "bfloat16", 2**20, 2**21)
    check_times(copy, repeats)
    # each call of crossent's row takes its launcher, the warm-up and the repeats
    assert calls.count("softmax_cross_entropy") == calls.count("sigmoid_cross_entropy") == 1 + repeats

    bf16 = 2  # bytes of a bfloat16
    assert result["cases"]["ce"]["bytes"] == 2 * rows * classes * bf16  # logits read, gradient written
    assert result["cases"]["bce"]["bytes"] == 3 * elements * bf16  # logits and targets read, gradient written
    for name, case in result["cases"].items():
        assert "bfloat16 logits on cpu" in case["title"]
        rows_ = case["implementations"]
        assert list(rows_) == IMPLEMENTATIONS[name]
        for impl in ("crossent (numpy)", "crossent (numpy, out=buffer)", "crossent (numpy, out=logits)",
                     "naive numpy"):
            if impl in rows_:
                assert rows_[impl] == {"available": False, "reason": "CPU only"}
        if name == "ce":  # (the Triton kernels take no destination)
            assert rows_["crossent (torch, inplace_backward)"] == {
                "available": False, "reason": "in place on the Numba CPU kernels only"}
        assert rows_["torch.compile"] == {"available": False, "reason": "skipped (--no-compile)"}
        crossent_row, eager = rows_["crossent (torch)"], rows_["torch eager"]
        for row in (crossent_row, eager):
            assert row["available"]
            check_times(row, repeats)
            assert row["gbps"] == pytest.approx(case["bytes"] / row["seconds"] / 1e9)
        # crossent returns a float32 loss, torch eager one rounded to bfloat16: two roundings apart at most
        tol = 2 * torch.finfo(torch.bfloat16).eps
        assert crossent_row["value"] == pytest.approx(eager["value"], rel=tol)
        assert case["agreement"] == {"reference": "torch eager", "rtol": tol, "agree": True,
                                     "rel_diff": {"crossent (torch)": pytest.approx(
                                         abs(crossent_row["value"] - eager["value"]) / abs(eager["value"]))}}
        assert {c["implementation"] for c in case["target"]["checks"]} <= {"crossent (torch)"}
    ce_target = result["cases"]["ce"]["target"]
    assert ce_target["goal"] == "crossent ≥70% of copy bandwidth and faster than torch.compile"
    assert [(c["check"], c["peer"]) for c in ce_target["checks"]] == [("copy", None), ("faster", "torch.compile")]
    assert ce_target["checks"][1]["met"] is None  # torch.compile skipped: cannot tell

    text = bench.render(result)
    assert "# ce and bce: bfloat16 torch tensors on torch-cpu" in text
    assert "copy bandwidth (copy_ of 1 MiB bfloat16 on cpu, read + write)" in text
    assert "- crossent (numpy): unavailable: CPU only" in text and "tolerance 0.015625" in text
