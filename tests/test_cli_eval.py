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
