"""The command line's main job: compare, eval and plot, as a user runs them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "crossent", *args], capture_output=True, text=True, timeout=300,
                          cwd=cwd)


def test_compare_on_the_embedded_data_writes_json_report_and_oof(tmp_path: Path) -> None:
    done = run("compare", "--cv", "3", "--repeats", "1", "--losses", "ce", "weighted-ce", "focal:gamma=1",
               "--json", str(tmp_path / "r.json"), "--report", str(tmp_path / "r.html"), "--oof",
               str(tmp_path / "oof.csv"), "--no-progress")
    assert done.returncode == 0, done.stderr
    assert "hypothyroid" in done.stdout and "recommended:" in done.stdout and "decisions" in done.stdout
    assert done.stderr == ""  # no library warning leaks
    result = json.loads((tmp_path / "r.json").read_text())
    assert set(result["losses"]) == {"ce", "weighted-ce", "focal:gamma=1"}
    assert result["recommendation"] in result["losses"] and result["dataset"]["impute"] == "median"
    html = (tmp_path / "r.html").read_text()
    assert html.count("data:image/png;base64,") == 6
    assert "http://" not in html and "https://" not in html  # self-contained
    # the out-of-fold predictions are what crossent eval reads; its log loss is the out-of-fold one
    scored = run("eval", str(tmp_path / "oof.csv"), "--target", "target", "--probs", "ce:negative",
                 "ce:hypothyroid", "--json")
    assert scored.returncode == 0, scored.stderr
    assert 0 < json.loads(scored.stdout)["scores"]["log_loss"] < 0.2


def test_compare_on_a_csv(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 3))
    y = np.where(X[:, 0] + 0.5 * rng.normal(size=120) > 0.6, "yes", "no")
    lines = ["a,b,c,outcome", *[f"{r[0]:.4f},{r[1]:.4f},{r[2]:.4f},{t}" for r, t in zip(X, y, strict=True)]]
    (tmp_path / "d.csv").write_text("\n".join(lines) + "\n")
    done = run("compare", str(tmp_path / "d.csv"), "--target", "outcome", "--cv", "3", "--repeats", "1",
               "--decision", "recall>=0.9", "--json", "-")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["dataset"]["classes"] == ["no", "yes"] and result["dataset"]["n_features"] == 3
    assert result["decision"] == "recall>=0.9"


@pytest.mark.parametrize(("csv", "args", "fragment"), [
    (None, ["missing.csv", "--target", "y"], "no such file"),
    ("a,y\n1,0\n2,1\n", ["--target", "label"], "has no column 'label'"),
    ("a,y\nx,0\n2,1\n", ["--target", "y"], "not a number"),
    ("a,y\n1,0\n2,0\n", ["--target", "y"], "single class"),
    ("a,y\n1,0\nnan,1\n2,1\n", ["--target", "y"], "missing value"),
    ("a,y\n1,0\n,1\n2,1\n", ["--target", "y"], "pass --impute median"),
    ("a,y\n1,0\n2,1\n", ["--target", "y", "--metric", "ecelent"], "ecelent"),
    ("a,y\n1,0\n2,1\n", ["--target", "y", "--seed", "-5"], "--seed"),
    ("a,y\n1,0\n2,1\n", ["--target", "y", "--json", "nowhere/r.json"], "no such directory"),
    ("a,y\n1,0\n2,1\n", ["--target", "y", "--losses", "focal:gamma=x"], "gamma must be a number"),
    ("a,y\n1,0\n2,1\n", ["--target", "y", "--decision", "youden"], "--decision must be"),
    ("a\tb\ty\n1\t2\tx\n3\t4\tz\n", ["--target", "y", "--sep", "\\t"], "class 'x' has 1 sample"),  # read as tabs
    ("a,y\n" + "".join(f"{i},{int(i < 3)}\n" for i in range(30)), ["--target", "y"], "has 3 sample(s)"),
    ("a,y\n1,0\n2,1\n", [], "--target COL is required"),
])
def test_compare_errors_are_one_line(tmp_path: Path, csv: str | None, args: list[str], fragment: str) -> None:
    if csv is not None:
        (tmp_path / "d.csv").write_text(csv)
        args = ["d.csv", *args]
    done = run("compare", *args, cwd=tmp_path)
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("crossent: error:") and fragment in lines[0], done.stderr
    assert "Traceback" not in done.stderr


def test_eval_probabilities_and_logits(tmp_path: Path) -> None:
    rows = ["y,p,z", "1,0.9,2.1972245773", "0,0.2,-1.3862943611", "1,0.6,0.4054651081", "0,0.4,-0.4054651081"]
    (tmp_path / "pred.csv").write_text("\n".join(rows) + "\n")
    done = run("eval", str(tmp_path / "pred.csv"), "--target", "y", "--probs", "p", "--json")
    assert done.returncode == 0, done.stderr
    scores = json.loads(done.stdout)["scores"]
    expected = -np.mean(np.log([0.9, 0.8, 0.6, 0.6]))
    assert scores["log_loss"] == pytest.approx(expected, rel=1e-9)
    assert scores["brier"] == pytest.approx(np.mean(np.square([0.1, 0.2, 0.4, 0.4])), rel=1e-9)
    from_logits = json.loads(run("eval", str(tmp_path / "pred.csv"), "--target", "y", "--logits", "z",
                                 "--json").stdout)["scores"]
    assert from_logits["log_loss"] == pytest.approx(expected, rel=1e-8)
    done = run("eval", str(tmp_path / "pred.csv"), "--target", "y", "--probs", "nope")
    assert done.returncode != 0 and "no column 'nope'" in done.stderr


def test_plot_loss_curve(tmp_path: Path) -> None:
    done = run("plot", "loss-curve", "--out", str(tmp_path / "curve.png"))
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "curve.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_help_imports_no_heavy_library() -> None:
    code = ("import sys; from crossent.cli import main\n"
            "try:\n    main(['compare', '--help'])\nexcept SystemExit:\n    pass\n"
            "print([m for m in ('sklearn', 'scipy', 'matplotlib', 'torch', 'jax') if m in sys.modules])")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip().splitlines()[-1] == "[]"


def test_compare_model_families_side_by_side(tmp_path: Path) -> None:
    done = run("compare", "--data-set", "breast-cancer", "--cv", "2", "--repeats", "1", "--losses", "ce", "focal",
               "--model", "linear", "lightgbm", "xgboost", "mlp", "--json", str(tmp_path / "r.json"), "--report",
               str(tmp_path / "r.html"), "--no-progress")
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    for family in ("=== linear ===", "=== lightgbm ===", "=== xgboost ===", "=== mlp ===", "=== side by side ==="):
        assert family in done.stdout
    assert "gradient-boosted trees (lightgbm" in done.stdout and "a standardized MLP (PyTorch" in done.stdout
    side = done.stdout.split("=== side by side ===")[1]
    assert "linear" in side and "mlp" in side and ("the recommendation is the same" in side or "depends" in side)
    result = json.loads((tmp_path / "r.json").read_text())
    assert set(result["models"]) == {"linear", "lightgbm", "xgboost", "mlp"}
    assert set(result["recommendations"].values()) <= {"ce", "focal"}
    assert "xgboost" in result["models"]["xgboost"]["model"]
    for family in ("linear", "lightgbm", "xgboost", "mlp"):  # one report per family, naming its model
        html = (tmp_path / f"r-{family}.html").read_text()
        assert result["models"][family]["model"].split(" (")[0] in html


def test_compare_model_without_its_extra_is_one_line(tmp_path: Path) -> None:
    # a sitecustomize that hides lightgbm, as a plain install without the boosting extra
    (tmp_path / "sitecustomize.py").write_text("import sys\nsys.modules['lightgbm'] = None\n")
    import os

    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    done = subprocess.run([sys.executable, "-m", "crossent", "compare", "--model", "lightgbm"], capture_output=True,
                          text=True, timeout=120, env=env)
    assert done.returncode == 2
    assert done.stderr.strip() == "crossent: error: model 'lightgbm' needs lightgbm: pip install 'crossent[boosting]'"


def test_compare_reads_a_field_longer_than_the_csv_modules_limit(tmp_path: Path) -> None:
    (tmp_path / "d.csv").write_text(f"a,y\n{'x' * 200_000},0\n2,1\n")  # past csv's 131,072 characters a field
    done = run("compare", "d.csv", "--target", "y", cwd=tmp_path)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.startswith("crossent: error: column 'a' of d.csv holds 'xxx")  # read, then refused as text
    assert "(200,000 characters) in data row 1, not a number" in done.stderr and len(done.stderr) < 300


def test_compare_names_a_file_that_is_not_utf8(tmp_path: Path) -> None:
    (tmp_path / "d.csv").write_bytes("a,y\n1,0\n2,1\n".encode("utf-16"))  # saved as UTF-16: a BOM of 0xff 0xfe
    done = run("compare", "d.csv", "--target", "y", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr == "crossent: error: d.csv is not UTF-8 text (byte 0xff at position 0); save it as UTF-8 CSV\n"
