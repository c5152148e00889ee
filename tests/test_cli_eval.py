"""The command line's small jobs as a user runs them: eval, plot, loss --precision and --version."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import crossent


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "crossent", *args], capture_output=True, text=True, timeout=300,
                          cwd=cwd)


def one_line_error(done: subprocess.CompletedProcess[str], fragment: str) -> None:
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("crossent: error:") and fragment in lines[0], done.stderr


def strict_json(text: str) -> Any:
    def refuse(constant: str) -> None:
        raise AssertionError(f"{constant} is not JSON")

    return json.loads(text, parse_constant=refuse)


@pytest.fixture
def predictions(tmp_path: Path) -> Path:
    """A binary target with named classes and an informative P(yes), written as both columns."""
    rng = np.random.default_rng(0)
    y = rng.random(200) < 0.3
    p_yes = np.clip(np.where(y, 0.7, 0.3) + 0.25 * rng.normal(size=200), 0.01, 0.99)
    lines = ["y,p_no,p_yes,z_no,z_yes", *[f"{'yes' if t else 'no'},{1 - p:.6f},{p:.6f},0,{math.log(p / (1 - p)):.6f}"
                                         for t, p in zip(y, p_yes, strict=True)]]
    path = tmp_path / "predictions.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def scores(*args: str) -> dict[str, Any]:
    done = run("eval", *args, "--json")
    assert done.returncode == 0, done.stderr
    return strict_json(done.stdout)


def test_eval_both_columns_of_a_binary_target_score_like_one(predictions: Path) -> None:
    both = scores(str(predictions), "--target", "y", "--probs", "p_no", "p_yes")
    one = scores(str(predictions), "--target", "y", "--probs", "p_yes", "--pos-label", "yes")
    assert both["classes"] == one["classes"] == ["no", "yes"]
    assert both["scores"] == pytest.approx(one["scores"], rel=1e-12)
    assert one["scores"]["roc_auc"] > 0.8  # the column is informative, and read the right way round
    # logits: softmax of the two columns is sigmoid of their difference, the same P(yes)
    logits = scores(str(predictions), "--target", "y", "--logits", "z_no", "z_yes")
    assert logits["scores"] == pytest.approx(one["scores"], rel=1e-4)  # the file's 6 decimals


def test_eval_pos_label_says_which_class_the_column_is(predictions: Path) -> None:
    yes = scores(str(predictions), "--target", "y", "--probs", "p_yes", "--pos-label", "yes")
    no = scores(str(predictions), "--target", "y", "--probs", "p_no", "--pos-label", "no")
    assert no["classes"] == ["yes", "no"]
    # P(no) scored as the probability of 'no' is the same forecast as P(yes) of 'yes'
    assert no["scores"]["roc_auc"] == pytest.approx(yes["scores"]["roc_auc"], rel=1e-12)
    assert no["scores"]["log_loss"] == pytest.approx(yes["scores"]["log_loss"], rel=1e-9)


@pytest.mark.parametrize(("args", "fragment"), [
    (["--probs", "p_yes"], "one prediction column for the classes 'no', 'yes' is ambiguous: pass --pos-label"),
    (["--probs", "p_yes", "--pos-label", "maybe"], "--pos-label 'maybe' is not a class of target 'y'"),
    (["--probs", "p_yes", "p_yes"], "the two columns sum to"),
    (["--probs", "p_no", "p_yes", "--pos-label", "yes"], "--pos-label applies to one prediction column"),
    (["--probs", "missing"], "has no column 'missing'"),
])
def test_eval_bad_input_is_one_line(predictions: Path, args: list[str], fragment: str) -> None:
    one_line_error(run("eval", str(predictions), "--target", "y", *args), fragment)


def test_eval_json_writes_null_for_an_undefined_score(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_text("y,p\n0,0.2\n0,0.4\n0,0.1\n")  # one class present: ROC-AUC is undefined
    result = scores(str(path), "--target", "y", "--probs", "p")
    assert result["scores"]["roc_auc"] is None
    assert all(v is None or isinstance(v, float | int | str) for v in result["scores"].values())
    text = run("eval", str(path), "--target", "y", "--probs", "p")
    assert text.returncode == 0 and "nan" in text.stdout


def softplus(x: float) -> float:
    """log(1 + e^x) in float64 without overflow: max(x, 0) + log1p(e^-|x|)."""
    return max(x, 0.0) + math.log1p(math.exp(-abs(x)))


def test_eval_log_loss_from_two_class_logits_is_exact_where_probabilities_round(tmp_path: Path) -> None:
    rows = [(1, 1e4), (0, 1e4), (1, -1e4), (0, -3.0), (1, 2.5)]  # sigmoid(±1e4) rounds to exactly 1 or 0
    path = tmp_path / "z.csv"
    path.write_text("y,z_0,z_1\n" + "".join(f"{y},0,{z}\n" for y, z in rows))
    # -log sigmoid(z) = softplus(-z) for y = 1, -log(1 - sigmoid(z)) = softplus(z) for y = 0
    expected = sum(softplus(-z if y else z) for y, z in rows) / len(rows)
    one = scores(str(path), "--target", "y", "--logits", "z_1")["scores"]
    both = scores(str(path), "--target", "y", "--logits", "z_0", "z_1")["scores"]
    assert one["log_loss"] == pytest.approx(expected, rel=1e-12) and math.isfinite(expected)
    assert both["log_loss"] == pytest.approx(expected, rel=1e-12)
    probabilities = [math.exp(-softplus(-z)) for _, z in rows]  # sigmoid; the other scores are the probabilities'
    assert one["brier"] == pytest.approx(np.mean([(p - y) ** 2 for (y, _), p in zip(rows, probabilities,
                                                                                    strict=True)]), rel=1e-12)


def test_eval_log_loss_from_three_class_logits_is_exact_where_probabilities_round(tmp_path: Path) -> None:
    rows = [(1, (1e4, 0.0, -1e4)), (0, (-1e4, 1e4, 0.0)), (2, (0.5, 1.0, -1.0)), (2, (3e3, -2e3, 1e3))]
    path = tmp_path / "z.csv"
    path.write_text("y,a,b,c\n" + "".join(f"{y},{','.join(map(str, z))}\n" for y, z in rows))

    def nll(y: int, z: tuple[float, ...]) -> float:  # -log softmax(z)_y = logsumexp(z) - z_y, shifted by max z
        m = max(z)
        return m + math.log(sum(math.exp(v - m) for v in z)) - z[y]

    expected = sum(nll(y, z) for y, z in rows) / len(rows)
    result = scores(str(path), "--target", "y", "--logits", "a", "b", "c")["scores"]
    assert result["log_loss"] == pytest.approx(expected, rel=1e-12) and math.isfinite(expected)


def test_eval_reads_a_field_longer_than_the_csv_modules_limit(tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    import csv

    from crossent.cli import main

    path = tmp_path / "p.csv"
    path.write_text(f"y,p,note\n0,0.2,{'x' * 200_000}\n1,0.7,short\n")  # csv reads 131,072 characters a field
    limit = csv.field_size_limit()
    assert main(["eval", str(path), "--target", "y", "--probs", "p", "--json"]) == 0
    assert strict_json(capsys.readouterr().out)["scores"]["log_loss"] == pytest.approx(
        -(math.log(0.8) + math.log(0.7)) / 2, rel=1e-12)
    assert csv.field_size_limit() == limit  # raised for the read only
    done = run("eval", str(path), "--target", "y", "--probs", "note")
    one_line_error(done, "column 'note' of p.csv must hold finite numbers; it holds 'xxx")
    assert "(200,000 characters) in data row 1" in done.stderr and len(done.stderr) < 300  # the cell, cut short


@pytest.mark.parametrize(("data", "where"), [(b"y,p\n0,0.2\n1,\xff0.8\n", "byte 0xff at position 12"),
                                             (b"\xef\xbb\xbfy,p\n0,\xe9\n", "byte 0xe9 at position 9")])  # a BOM
def test_eval_names_a_file_that_is_not_utf8(tmp_path: Path, data: bytes, where: str) -> None:
    (tmp_path / "p.csv").write_bytes(data)
    one_line_error(run("eval", "p.csv", "--target", "y", "--probs", "p", cwd=tmp_path),
                   f"p.csv is not UTF-8 text ({where}); save it as UTF-8 CSV")


@pytest.mark.parametrize(("suffix", "magic"), [(".png", b"\x89PNG"), (".svg", b"<?xml"), (".pdf", b"%PDF")])
def test_plot_writes_the_format_the_suffix_names(tmp_path: Path, suffix: str, magic: bytes) -> None:
    out = tmp_path / f"curve{suffix}"
    done = run("plot", "loss-curve", "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert out.read_bytes().startswith(magic)
    if suffix == ".svg":
        assert b"<svg" in out.read_bytes()


def test_plot_refuses_an_unknown_suffix(tmp_path: Path) -> None:
    one_line_error(run("plot", "loss-curve", "--out", "curve.jpg", cwd=tmp_path), "unknown figure format '.jpg'")
    assert not (tmp_path / "curve.jpg").exists()


def test_loss_refuses_a_negative_precision() -> None:
    one_line_error(run("loss", "categorical", "--probs", "0.5", "0.5", "--target", "0", "--precision", "-1"),
                   "--precision: must be a non-negative integer, got -1")
    done = run("loss", "categorical", "--probs", "0.5", "0.5", "--target", "0", "--precision", "0")
    assert done.returncode == 0 and done.stdout.strip() == f"{math.log(2):.0f}"


def test_version_of_an_install_and_of_a_source_checkout() -> None:
    done = run("--version")
    assert done.returncode == 0 and done.stdout.strip() == f"crossent {crossent.__version__}"
    # not installed: importlib.metadata knows no crossent, and the package's own version is printed
    code = ("import importlib.metadata as m, sys\n"
            "def version(name): raise m.PackageNotFoundError(name)\n"
            "m.version = version\n"
            "from crossent.cli import main\n"
            "sys.exit(main(['--version']))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.strip() == f"crossent {crossent.__version__}", done.stderr


# ---------------------------------------------------------------------------------------------
# streaming: Parquet row groups and CSV blocks give the in-memory numbers


def softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


STREAM_CASES = {  # columns, how the file's predictions are given, extra options
    "binary-named": (["p_yes"], "probs", ["--pos-label", "yes"]),
    "binary-pair": (["p_no", "p_yes"], "probs", []),
    "binary-logit": (["z_yes"], "logits", ["--pos-label", "yes"]),
    "multiclass": (["p_a", "p_b", "p_c"], "probs", []),
    "multiclass-logits": (["z_a", "z_b", "z_c"], "logits", []),
}


def prediction_table(kind: str, n: int = 61) -> dict[str, Any]:
    """Named classes, 6-decimal probabilities and logits, the classes bunched so that blocks miss some."""
    rng = np.random.default_rng(11)
    if kind.startswith("binary"):
        z = rng.normal(scale=2.0, size=n)
        y = np.where(rng.random(n) < 1 / (1 + np.exp(-z)), "yes", "no")
        p = np.round(1 / (1 + np.exp(-z)), 6)
        return {"y": y, "p_no": np.round(1 - p, 6), "p_yes": p, "z_yes": np.round(z, 6)}
    z = rng.normal(scale=2.0, size=(n, 3))
    z[: n // 3, 0] += 4  # the first rows mostly class a
    p = softmax(z)
    y = np.array(["a", "b", "c"])[(np.cumsum(p, axis=1) > rng.random((n, 1))).argmax(axis=1)]
    p = np.round(p, 6)
    p[:, 2] = 1 - p[:, 0] - p[:, 1]
    table: dict[str, Any] = {"y": y}
    table.update({f"p_{c}": p[:, j] for j, c in enumerate("abc")})
    table.update({f"z_{c}": np.round(z[:, j], 6) for j, c in enumerate("abc")})
    return table


def write_table(table: dict[str, Any], path: Path) -> Path:
    import pandas as pd

    frame = pd.DataFrame(table)
    if path.suffix == ".parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        frame["y"] = frame["y"].astype("category")  # a dictionary column
        pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path, row_group_size=13)
    else:
        frame.to_csv(path, index=False, float_format="%.6f")
    return path


def in_process(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str,
               chunk_rows: int | None = None, max_scores: int | None = None) -> dict[str, Any]:
    from crossent import cli
    from crossent.selection import _stream

    if chunk_rows is not None:
        monkeypatch.setattr(_stream, "CHUNK_ROWS", chunk_rows)
    if max_scores is not None:
        monkeypatch.setattr(cli, "EXACT_RANKING_MAX_SCORES", max_scores)
    assert cli.main(["eval", *args, "--json"]) == 0
    monkeypatch.undo()
    return strict_json(capsys.readouterr().out)


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
@pytest.mark.parametrize("case", list(STREAM_CASES))
def test_eval_streaming_gives_the_in_memory_numbers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str], case: str,
                                                    suffix: str) -> None:
    from crossent.metrics._states import bin_ids
    from crossent.selection import read_predictions
    from crossent.selection._score import ranking_scores, score_predictions

    columns, given, options = STREAM_CASES[case]
    path = write_table(prediction_table(case), tmp_path / f"p{suffix}")
    args = [str(path), "--target", "y", f"--{given}", *columns, *options]
    chunked = in_process(monkeypatch, capsys, *args, "--ranking", "binned", chunk_rows=7)  # 7-row blocks, 13-row groups
    whole = in_process(monkeypatch, capsys, *args, "--ranking", "binned")  # one block
    exact = in_process(monkeypatch, capsys, *args, "--ranking", "exact", chunk_rows=5)
    auto = in_process(monkeypatch, capsys, *args, chunk_rows=5)  # the default, on 61 rows: exact
    assert chunked["n_samples"] == whole["n_samples"] == 61 and chunked["classes"] == whole["classes"]
    assert chunked["ranking"]["method"] == "binned" and chunked["ranking"]["bins"] == 10_000
    assert exact["ranking"] == auto["ranking"] == {"method": "exact"}
    assert chunked["scores"] == pytest.approx(whole["scores"], rel=1e-12)
    # in memory: the whole file read at once and scored by score_predictions (exact ranking)
    y, values, classes = read_predictions(path, "y", columns, pos_label=options[1] if options else None)
    assert classes == chunked["classes"]
    if given == "probs" and values.ndim == 2 and len(classes) == 2:
        values = values[:, 1]
    expected = score_predictions(y, values, from_logits=given == "logits")
    assert exact["scores"] == pytest.approx(expected, rel=1e-12)
    assert auto["scores"] == exact["scores"]
    ranking = ("roc_auc", "average_precision")
    assert {k: v for k, v in chunked["scores"].items() if k not in ranking} == pytest.approx(
        {k: v for k, v in expected.items() if k not in ranking}, rel=1e-12)
    # the histogram's: exact for the probabilities' bin indices, and within the bound of the exact AUC
    p = values if given == "probs" else (1 / (1 + np.exp(-values)) if values.ndim == 1 else softmax(values))
    p = p[:, 1] if p.ndim == 2 and p.shape[1] == 2 else p
    binned = ranking_scores(y, bin_ids(p, 10_000), multilabel=False)
    assert {k: chunked["scores"][k] for k in ranking} == pytest.approx(binned, rel=1e-12)
    assert abs(chunked["scores"]["roc_auc"] - expected["roc_auc"]) <= chunked["ranking"]["roc_auc_bound"]


@pytest.mark.parametrize(("text", "args", "fragment"), [
    ("y,p\n" + "0,0.5\n" * 19 + "1,oops\n", ["--probs", "p"], "holds 'oops' in data row 20"),
    ("y,p\n" + "0,0.5\n" * 14 + ",0.5\n" + "1,0.5\n" * 14 + " ,0.2\n", ["--probs", "p"],
     "has 2 missing value(s) (first in data row 15)"),
    ("y,p,q\n" + "0,0.5,1\n" * 17 + "1,0.5\n", ["--probs", "p"], "data row 18 of p.csv has 2 fields, the header has 3"),
    ("y,a,b\n" + "0,0.5,0.5\n" * 15 + "1,0.2,0.2\n", ["--probs", "a", "b"], "sum to 0.4 in data row 16"),
])
def test_eval_streaming_errors_name_the_data_row(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str], text: str, args: list[str],
                                                 fragment: str) -> None:
    from crossent import cli
    from crossent.selection import _stream

    (tmp_path / "p.csv").write_text(text)
    monkeypatch.setattr(_stream, "CHUNK_ROWS", 4)
    assert cli.main(["eval", str(tmp_path / "p.csv"), "--target", "y", *args]) == 2
    assert fragment in capsys.readouterr().err


def test_eval_streaming_parquet_names_a_null_cell(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from crossent import cli
    from crossent.selection import _stream

    p = [0.5] * 30
    p[11] = None  # type: ignore[call-overload]
    pq.write_table(pa.table({"y": [0, 1] * 15, "p": p}), tmp_path / "p.parquet", row_group_size=8)
    monkeypatch.setattr(_stream, "CHUNK_ROWS", 5)
    assert cli.main(["eval", str(tmp_path / "p.parquet"), "--target", "y", "--probs", "p"]) == 2
    assert "column 'p' of p.parquet must hold finite numbers; it holds None in data row 12" in capsys.readouterr().err


def test_eval_shows_progress_on_a_terminal_and_states_the_binning(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    import io

    from crossent import cli
    from crossent.selection import _stream

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    path = write_table(prediction_table("multiclass"), tmp_path / "p.csv")
    terminal = Terminal()
    monkeypatch.setattr(_stream, "CHUNK_ROWS", 10)
    monkeypatch.setattr(_stream, "PROGRESS_BYTES", 0)
    monkeypatch.setattr(sys, "stderr", terminal)
    args = ["eval", str(path), "--target", "y", "--probs", "p_a", "p_b", "p_c", "--ranking-bins", "5"]
    assert cli.main([*args, "--ranking", "binned"]) == 0
    bar = terminal.getvalue()
    assert "classes: 10 rows" in bar and "scores: 61 rows" in bar and "] 100/100 " in bar and bar.endswith("\n")
    out = capsys.readouterr().out
    assert "61 predictions, classes a, b, c" in out and "from 5-bin histograms of the probabilities; roc_auc" in out
    assert "roc_auc within 0.0" in out and "--ranking exact for scikit-learn's)" in out
    # auto bins beyond the limit and says why; exact says nothing of the method
    monkeypatch.setattr(cli, "EXACT_RANKING_MAX_SCORES", 100)
    assert cli.main(args) == 0
    assert "histograms of the probabilities: 183 scores, more than the 100 that --ranking auto ranks exactly; " \
        "roc_auc within" in capsys.readouterr().out
    assert cli.main([*args, "--ranking", "exact"]) == 0
    out = capsys.readouterr().out
    assert "roc_auc " in out and "histogram" not in out and "ranking" not in out


@pytest.mark.parametrize(("case", "scores"), [("binary-pair", 61), ("multiclass", 61 * 3)])
def test_eval_ranking_auto_is_exact_up_to_the_limit_of_scores(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                              capsys: pytest.CaptureFixture[str], case: str,
                                                              scores: int) -> None:
    """rows × ranked columns: one column (P(class 1)) for two classes, even given as two; one per class for more."""
    columns, given, options = STREAM_CASES[case]
    path = write_table(prediction_table(case), tmp_path / "p.parquet")
    args = [str(path), "--target", "y", f"--{given}", *columns, *options, "--ranking-bins", "20"]  # bins that tie
    exact = in_process(monkeypatch, capsys, *args, "--ranking", "exact")
    binned = in_process(monkeypatch, capsys, *args, "--ranking", "binned")
    at_limit = in_process(monkeypatch, capsys, *args, max_scores=scores)
    beyond = in_process(monkeypatch, capsys, *args, max_scores=scores - 1)
    assert at_limit == exact and beyond == binned
    assert beyond["ranking"]["method"] == "binned" and beyond["ranking"]["roc_auc_bound"] >= 0
    # the two methods differ in the ranking scores only
    assert exact["scores"]["roc_auc"] != binned["scores"]["roc_auc"]
    ranking = ("roc_auc", "average_precision")
    assert {k: v for k, v in exact["scores"].items() if k not in ranking} == pytest.approx(
        {k: v for k, v in binned["scores"].items() if k not in ranking}, rel=1e-12)
    # forced: exact beyond the limit, binned within it
    assert in_process(monkeypatch, capsys, *args, "--ranking", "exact", max_scores=1) == exact
    assert in_process(monkeypatch, capsys, *args, "--ranking", "binned", max_scores=10**9) == binned


# ---------------------------------------------------------------------------------------------
# ranking by the logits (issue 10, item 23)


def test_eval_exact_ranking_tells_logits_apart_where_their_probabilities_tie(tmp_path: Path) -> None:
    from sklearn.metrics import average_precision_score, roc_auc_score

    from crossent.selection._score import score_predictions

    # sigmoid(40), sigmoid(45) and sigmoid(50) are all 1.0 in float64: tied as probabilities
    y, z = np.array([0, 1, 0, 1, 1]), np.array([40.0, 45.0, -3.0, 50.0, 60.0])
    probabilities = 1 / (1 + np.exp(-z))
    assert roc_auc_score(y, probabilities) < 1 and roc_auc_score(y, z) == 1
    path = tmp_path / "z.csv"
    path.write_text("y,z\n" + "".join(f"{t},{v}\n" for t, v in zip(y, z, strict=True)))
    result = scores(str(path), "--target", "y", "--logits", "z")["scores"]  # auto: exact on 5 rows
    assert result["roc_auc"] == 1.0 and result["average_precision"] == average_precision_score(y, z) == 1.0
    assert score_predictions(y, z, from_logits=True)["roc_auc"] == 1.0
    # three classes: softmax rounds P(a) of both first rows to 1; the one-vs-rest log-odds do not
    logits = np.array([[50.0, 0.0, 0.0], [45.0, 0.0, 0.0], [0.0, 2.0, 0.0], [0.0, 0.0, 1.0]])
    labels = np.array([0, 1, 1, 2])
    assert softmax(logits)[0, 0] == softmax(logits)[1, 0] == 1.0
    log_odds = [logits[:, c] - np.log(np.exp(np.delete(logits, c, 1)).sum(1)) for c in range(3)]
    three = score_predictions(labels, logits, from_logits=True)
    assert three["roc_auc"] == pytest.approx(np.mean([roc_auc_score(labels == c, log_odds[c]) for c in range(3)]),
                                             rel=1e-12)
    tied = np.mean([roc_auc_score(labels == c, softmax(logits)[:, c]) for c in range(3)])
    assert three["roc_auc"] - tied == pytest.approx((1 - 5 / 6) / 3)  # class a: the tied pair counted 1, not ½


def test_ranking_keys_are_the_one_vs_rest_log_odds() -> None:
    from crossent.selection._score import ranking_keys

    z = np.random.default_rng(12).normal(scale=3.0, size=(500, 5))
    p = softmax(z)
    np.testing.assert_allclose(ranking_keys(z, False), np.log(p) - np.log1p(-p), rtol=1e-10, atol=1e-12)
    np.testing.assert_array_equal(ranking_keys(z[:, :2], False), z[:, 1] - z[:, 0])
    np.testing.assert_array_equal(ranking_keys(z, True), z)
    far = ranking_keys(np.array([[1e4, 0.0, -1e4], [-1e4, 1e4, 0.0]]), False)
    assert np.isfinite(far).all() and far[0, 0] == pytest.approx(1e4) and far[1, 0] == pytest.approx(-2e4)
