"""Fit time: crossent's LinearClassifier against scikit-learn's LogisticRegression, side by side.

Both minimize the same objective (C · Σ log loss + ½‖W‖², L2, multinomial for more than two
classes) with SciPy's L-BFGS-B from zero, on standardized features. The two fits alternate,
several repeats each; the table gives median seconds, the ratio crossent / scikit-learn, the
iterations each took, and the largest coefficient difference relative to the largest
coefficient.

    python benchmarks/fit_time.py [--repeats 7] [--blas-threads 1]

BLAS threads are limited (threadpoolctl, both fits alike; 0 = the library default): at these
sizes threads only add synchronization, and on a small shared machine NumPy's and SciPy's two
OpenBLAS pools thrash each other (both fits were 30x slower with 2 threads each on 2 cores).
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import sklearn
from sklearn.datasets import load_breast_cancer, make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from crossent.models import LinearClassifier


def datasets() -> dict[str, tuple[Any, Any]]:
    X, y = load_breast_cancer(return_X_y=True)
    X_mc, y_mc = make_classification(n_samples=20000, n_features=50, n_informative=20, n_classes=5,
                                     random_state=0)
    return {"breast_cancer (569×30, 2 classes)": (X, y),
            "make_classification (20000×50, 5 classes)": (X_mc, y_mc)}


def timed(fit: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    model = fit()
    return time.perf_counter() - start, model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--blas-threads", type=int, default=1)
    args = parser.parse_args()
    if args.blas_threads:
        threadpool_limits(args.blas_threads, user_api="blas")
    tol = 1e-10
    print(f"# {platform.processor() or platform.machine()}, Python {platform.python_version()}, "
          f"NumPy {np.__version__}, scikit-learn {sklearn.__version__}; {args.repeats} repeats, alternating; "
          f"BLAS threads: {args.blas_threads or 'default'}")
    print(f"# LinearClassifier(C=1, tol={tol}) vs LogisticRegression(C=1, tol={tol}, max_iter=10000)\n")
    header = ("data set", "crossent s", "sklearn s", "ratio", "iters (ce/sk)", "max rel coef diff")
    rows = []
    for name, (X, y) in datasets().items():
        X = StandardScaler().fit_transform(X)
        fits = {
            "crossent": lambda X=X, y=y: LinearClassifier(C=1.0, tol=tol, max_iter=10000).fit(X, y),
            "sklearn": lambda X=X, y=y: LogisticRegression(C=1.0, tol=tol, max_iter=10000).fit(X, y),
        }
        times: dict[str, list[float]] = {key: [] for key in fits}
        models: dict[str, Any] = {}
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # a ConvergenceWarning would make the comparison moot
            for fit in fits.values():  # warm-up: imports, caches
                fit()
            for _ in range(args.repeats):
                for key, fit in fits.items():
                    seconds, models[key] = timed(fit)
                    times[key].append(seconds)
        ours, theirs = models["crossent"], models["sklearn"]
        scale = np.abs(theirs.coef_).max()
        diff = max(np.abs(ours.coef_ - theirs.coef_).max(), np.abs(ours.intercept_ - theirs.intercept_).max()) / scale
        t_ce, t_sk = statistics.median(times["crossent"]), statistics.median(times["sklearn"])
        rows.append((name, f"{t_ce:.4f}", f"{t_sk:.4f}", f"{t_ce / t_sk:.2f}",
                     f"{ours.n_iter_}/{int(theirs.n_iter_[0])}", f"{diff:.1e}"))
    widths = [max(len(str(r[i])) for r in (header, *rows)) for i in range(len(header))]
    for row in (header, tuple("-" * w for w in widths), *rows):
        print("| " + " | ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)) + " |")


if __name__ == "__main__":
    main()
