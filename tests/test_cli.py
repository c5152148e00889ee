"""The command line: the texts' examples typed in, JSON output, and one-line errors."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import pytest

from crossent.cli import main


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "crossent", *args], capture_output=True, text=True, timeout=60)


def test_fruit_example_prints_0_1409() -> None:
    done = run("loss", "categorical", "--probs", "0.723", "0.240", "0.036", "--target", "0", "--base", "10")
    assert done.returncode == 0, done.stderr
    assert done.stdout == "0.1409\n"


def test_bce_with_logits_example(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["loss", "binary", "--logits", "2.0", "0.5", "-2.0", "--target", "0", "1", "1"]) == 0
    assert capsys.readouterr().out == "1.5760\n"


def test_three_class_example_labels_and_one_hot(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["loss", "categorical", "--probs", "0.7", "0.2", "0.1", "--target", "0"]) == 0
    assert main(["loss", "categorical", "--probs", "0.1", "0.2", "0.7", "--target", "1", "0", "0"]) == 0
    assert capsys.readouterr().out.split() == [f"{-math.log(0.7):.4f}", f"{-math.log(0.1):.4f}"]


def test_json_has_full_precision_and_the_gradient(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["loss", "binary", "--logits", "2.0", "0.5", "-2.0", "--target", "0", "1", "1", "--json", "--grad"]
    assert main(args) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["loss"] == "binary_cross_entropy" and report["reduction"] == "mean"
    assert report["value"] == pytest.approx(1.5759776687553508, rel=1e-12)
    sigmoid = [1 / (1 + math.exp(-z)) for z in (2.0, 0.5, -2.0)]
    assert report["grad"] == pytest.approx([(s - y) / 3 for s, y in zip(sigmoid, (0, 1, 1), strict=True)], rel=1e-12)


def test_rows_focal_and_reduction_none(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["loss", "focal", "--logits", "1", "2", "3", "3", "2", "1", "--classes", "3", "--target", "2", "0",
                 "--gamma", "0", "--reduction", "none"]) == 0
    expected = -(3 - math.log(math.exp(1) + math.exp(2) + math.exp(3)))
    assert capsys.readouterr().out == f"{expected:.4f} {expected:.4f}\n"


def test_inf_is_printed_and_json_says_inf(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["loss", "categorical", "--probs", "1", "0", "--target", "1", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["value"] == "inf"


@pytest.mark.parametrize(("args", "fragment"), [
    (["loss", "categorical", "--probs", "0.5", "0.6", "--target", "0"], "sum to 1"),
    (["loss", "categorical", "--probs", "0.5", "0.5", "--target", "2"], "label 2"),
    (["loss", "binary", "--probs", "1.5", "--target", "1"], "[0, 1]"),
    (["loss", "binary", "--logits", "1", "2", "--target", "1"], "one value per prediction"),
    (["loss", "categorical", "--logits", "1", "2", "--target", "0", "--gamma", "2"], "--gamma applies"),
    (["loss", "categorical", "--logits", "1", "2", "3", "--classes", "2", "--target", "0"], "--classes 2"),
    (["loss", "categorical", "--logits", "1", "2", "--target", "x"], "--target takes numbers"),
    (["loss", "categorical", "--target", "0"], "--probs --logits is required"),
    (["loss", "hinge", "--logits", "1", "--target", "0"], "invalid choice"),
    (["loss", "categorical", "--logits", "1", "2", "--target", "0", "--base", "1"], "base"),
    (["loss", "categorical", "--logits", "1", "2", "--target", "99999999999999999999"],
     "--target 99999999999999999999 is out of range"),  # past int64: no OverflowError traceback
    (["loss", "categorical", "--logits", "1", "2", "--classes", "0", "--target", "0"],
     "argument --classes: must be an integer of at least 1, got '0'"),
    (["loss", "binary", "--logits", "nan", "--target", "1"], "--logits value 1 is nan"),
])
def test_bad_values_give_one_line_and_nonzero_exit(args: list[str], fragment: str) -> None:
    done = run(*args)
    assert done.returncode != 0
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("crossent: error:") and fragment in lines[0]
    assert "Traceback" not in done.stderr


SOFTPLUS_HALF = math.log1p(math.exp(-0.5))  # -log sigmoid(0.5)


@pytest.mark.parametrize(("args", "exact"), [
    (["binary", "--logits", "inf", "0.5", "--target", "1", "1"], SOFTPLUS_HALF / 2),  # -log sigmoid(inf) = 0
    (["binary", "--logits", "-inf", "0.5", "--target", "0", "1"], SOFTPLUS_HALF / 2),  # -log(1 - sigmoid(-inf))
    (["binary", "--logits", "inf", "0.5", "--target", "0", "1"], math.inf),  # -log(1 - sigmoid(inf)) = inf
    (["categorical", "--logits", "inf", "0.5", "--target", "0"], 0.0),  # softmax(inf, 0.5) = (1, 0)
    (["categorical", "--logits", "inf", "0.5", "--target", "1"], math.inf),
    (["categorical", "--logits", "inf", "inf", "--target", "0"], None),  # inf - inf: no value exists
])
def test_an_infinite_logit_gives_the_exact_loss_or_one_line(args: list[str], exact: float | None) -> None:
    done = run("loss", *args, "--json")
    assert "Warning" not in done.stderr and "Traceback" not in done.stderr
    if exact is not None:  # the loss's own limit, exact
        assert done.returncode == 0, done.stderr
        value = json.loads(done.stdout)["value"]
        assert (value == "inf") if math.isinf(exact) else (value == pytest.approx(exact, rel=1e-12, abs=1e-300))
        return
    # no value (two +inf logits: the limit depends on how each grows): one line naming the infinite logits
    assert done.returncode != 0 and done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("crossent: error:") and "inf" in lines[0], done.stderr


def test_a_nan_loss_is_one_line_naming_the_infinite_logit(monkeypatch: pytest.MonkeyPatch,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    import numpy as np

    import crossent

    # whatever the loss gives at an infinite logit, the command line prints no nan
    monkeypatch.setattr(crossent, "value_and_grad", lambda f, z, t, **options: (np.float64(np.nan), z))
    assert main(["loss", "binary", "--logits", "0.5", "-inf", "--target", "1", "1"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == ("crossent: error: binary_cross_entropy's value is nan at the infinite logit(s) of "
                            "--logits, value 2 (-inf); pass a large finite logit instead (e.g. 1e4 or -1e4)\n")


def test_negative_numbers_are_values_not_options(capsys: pytest.CaptureFixture[str]) -> None:
    from crossent.cli import _parser

    args = _parser().parse_args(["loss", "binary", "--logits", "-inf", "-Infinity", "-1e5", "-.5E1", "-2",
                                 "--target", "0", "0", "0", "0", "-1e-3"])
    assert args.logits == [-math.inf, -math.inf, -1e5, -5.0, -2.0] and args.target == ["0", "0", "0", "0", "-1e-3"]
    assert main(["loss", "categorical", "--logits", "-inf", "0.5", "--target", "1", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["value"] == 0.0  # softmax(-inf, 0.5) = (0, 1)


def test_help_and_version() -> None:
    done = run("--help")
    assert done.returncode == 0 and "loss" in done.stdout
    done = run("loss", "--help")
    assert done.returncode == 0 and "--probs" in done.stdout and "--json" in done.stdout
    assert run("--version").stdout.startswith("crossent ")
