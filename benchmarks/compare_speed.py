"""How long ``crossent compare`` takes with its defaults, on an idle machine and beside a busy loop.

Three runs of the command line, each in a fresh process as a user starts it (default BLAS
settings, every default of ``crossent compare``, ``--n-jobs`` included):

- the embedded default (UCI hypothyroid, 3,163 × 18 with missing values imputed in the folds);
- scikit-learn's digits (1,797 × 64, 10 classes), written to a CSV;
- a synthetic 200,000 × 30 binary CSV (5% positives).

Each is timed alone, then again with a busy-loop process on one core beside it (``--modes busy``), the
condition that once turned a 5 s comparison into 300 s. The time reported is the comparison's own
(what ``crossent compare`` prints, reading the data excluded) and the process's wall time.

    python benchmarks/compare_speed.py                 # all three, idle and busy
    python benchmarks/compare_speed.py --cases embedded --modes busy
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

TARGETS = {"embedded": 5.0, "digits": 10.0, "200k": 30.0}


def _busy() -> None:
    while True:
        pass


def _write_digits(path: Path) -> None:
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    header = ",".join([f"p{i}" for i in range(X.shape[1])] + ["digit"])
    rows = [",".join([*(f"{v:g}" for v in row), str(t)]) for row, t in zip(X, y, strict=True)]
    path.write_text(header + "\n" + "\n".join(rows) + "\n")


def _write_large(path: Path, n: int = 200_000, features: int = 30) -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, features))
    score = X[:, :5] @ np.array([1.0, -0.8, 0.6, 0.4, -0.3]) + 0.5 * rng.normal(size=n)
    y = (score > np.quantile(score, 0.95)).astype(int)
    with path.open("w") as handle:
        handle.write(",".join([f"x{i}" for i in range(features)] + ["y"]) + "\n")
        np.savetxt(handle, np.column_stack([X, y]), delimiter=",", fmt=["%.6f"] * features + ["%d"])


def _run(args: list[str]) -> tuple[float, float, int]:
    """(the comparison's own seconds, the process's wall seconds, the processes that ran its
    tasks) of ``crossent compare ARGS``."""
    tic = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "crossent", "compare", *args, "--json", "-", "--no-progress"],
                          capture_output=True, text=True, check=False)
    wall = time.perf_counter() - tic
    if done.returncode != 0:
        raise SystemExit(f"crossent compare {' '.join(args)} failed: {done.stderr.strip()}")
    result = json.loads(done.stdout)
    return float(result["elapsed_seconds"]), wall, int(result["n_jobs"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", nargs="+", choices=list(TARGETS), default=list(TARGETS))
    parser.add_argument("--modes", nargs="+", choices=["idle", "busy"], default=["idle", "busy"])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        files = {"embedded": []}
        if "digits" in args.cases:
            _write_digits(Path(folder) / "digits.csv")
            files["digits"] = [str(Path(folder) / "digits.csv"), "--target", "digit"]
        if "200k" in args.cases:
            _write_large(Path(folder) / "large.csv")
            files["200k"] = [str(Path(folder) / "large.csv"), "--target", "y"]
        print(f"{os.cpu_count()} cores; python {sys.version.split()[0]}; the worker processes each run reports")
        print("| case | mode | compare s | wall s | processes | target |")
        print("|---|---|---|---|---|---|")
        for mode in args.modes:
            busy = multiprocessing.Process(target=_busy, daemon=True) if mode == "busy" else None
            if busy is not None:
                busy.start()
            try:
                for case in args.cases:
                    seconds, wall, processes = _run(files[case])
                    verdict = "met" if seconds < TARGETS[case] else "missed"
                    print(f"| {case} | {mode} | {seconds:.1f} | {wall:.1f} | {processes} | "
                          f"< {TARGETS[case]:g} s: {verdict} |", flush=True)
            finally:
                if busy is not None:
                    busy.terminate()
                    busy.join()


if __name__ == "__main__":
    main()
