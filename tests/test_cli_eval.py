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
