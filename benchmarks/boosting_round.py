"""Time per boosting round: the booster's built-in log loss, crossent's objectives, and a focal
objective by autograd, side by side on the same data (issue 9's target: crossent's focal within
1.5× of the built-in log loss at 100,000 × 30).

    python benchmarks/boosting_round.py [--rows 100000] [--features 30] [--rounds 50] [--repeats 5]
                                        [--threads 1] [--backend lightgbm xgboost]

Each repeat trains every variant in turn (alternating, so that the machine's noise falls on all
alike) for ``--rounds`` rounds from the same initial score; the table gives the median seconds
per round and its ratio to the built-in. The autograd objective is the best autograd can do for
an element-wise loss: one vectorized double backward through torch (the per-row loops of
autograd-based objective packages are slower still).
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np


def autograd_focal(gamma: float) -> Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    import torch

    def objective(margins: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        z = torch.tensor(margins, dtype=torch.float64, requires_grad=True)
        y = torch.tensor(labels, dtype=torch.float64)
        p = torch.sigmoid(z)
        p_t = y * p + (1 - y) * (1 - p)
        loss = -((1 - p_t) ** gamma * torch.log(p_t.clamp_min(1e-300))).sum()
        (g,) = torch.autograd.grad(loss, z, create_graph=True)
        (h,) = torch.autograd.grad(g.sum(), z)  # element-wise: the Hessian is diagonal
        g = g.detach()
        # crossent's Gauss-Newton floor |g| p_t, so that both grow the same trees (with h floored at
        # 1e-16 alone, focal's negative curvature makes leaf values explode and later trees trivial)
        floor = (g.abs() * p_t.detach()).numpy()
        return g.numpy(), np.maximum(np.maximum(h.numpy(), floor), 1e-16)

    return objective


def variants(backend: str) -> dict[str, Any]:
    from crossent.boosting import Objective

    builtin = "binary" if backend == "lightgbm" else "binary:logistic"
    return {
        f"built-in {builtin}": builtin,
        "crossent cross_entropy": Objective("binary_cross_entropy"),
        "crossent binary_focal γ=2": Objective("binary_focal_loss", {"gamma": 2.0}),
        "autograd focal γ=2 (torch)": autograd_focal(2.0),
    }


def train(backend: str, variant: Any, X: np.ndarray, y: np.ndarray, init: float, rounds: int, threads: int) -> float:
    """Seconds for ``rounds`` rounds of one variant."""
    from crossent.boosting import Objective, lightgbm_objective, xgboost_objective

    if backend == "lightgbm":
        import lightgbm

        params: dict[str, Any] = {"verbose": -1, "num_threads": threads, "seed": 0, "deterministic": True,
                                  "force_row_wise": True, "learning_rate": 0.1}
        if isinstance(variant, str):
            params["objective"], data = variant, lightgbm.Dataset(X, y, init_score=np.full(len(y), init))
        else:
            objective = lightgbm_objective(variant) if isinstance(variant, Objective) else (
                lambda preds, dataset: variant(preds, dataset.get_label()))
            params["objective"], data = objective, lightgbm.Dataset(X, y, init_score=np.full(len(y), init))
        data.construct()  # binning is not a round
        tic = time.perf_counter()
        lightgbm.train(params, data, num_boost_round=rounds)
        return time.perf_counter() - tic
    import xgboost

    data = xgboost.DMatrix(X, y, base_margin=np.full(len(y), init), nthread=threads)
    params = {"tree_method": "hist", "nthread": threads, "seed": 0, "learning_rate": 0.1, "max_depth": 6}
    if isinstance(variant, str):
        params["objective"], obj = variant, None
    else:
        params.update(base_score=0.0, disable_default_eval_metric=1)
        obj = xgboost_objective(variant) if isinstance(variant, Objective) else (
            lambda predt, dtrain: variant(predt, dtrain.get_label()))
    xgboost.train(params, data, num_boost_round=1, obj=obj)  # the quantile sketch is not a round
    tic = time.perf_counter()
    xgboost.train(params, data, num_boost_round=rounds, obj=obj)
    return time.perf_counter() - tic


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--features", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=50)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--backend", nargs="+", default=["lightgbm", "xgboost"])
    args = parser.parse_args()
    from sklearn.datasets import make_classification

    X, y = make_classification(args.rows, args.features, n_informative=10, weights=[0.95], random_state=0)
    y = y.astype(np.float64)
    init = float(np.log(y.mean() / (1 - y.mean())))
    print(f"{args.rows} × {args.features}, {y.mean():.1%} positives, {args.rounds} rounds, {args.threads} thread(s), "
          f"median of {args.repeats}")
    for backend in args.backend:
        named = variants(backend)
        times: dict[str, list[float]] = {name: [] for name in named}
        for _ in range(args.repeats):
            for name, variant in named.items():
                times[name].append(train(backend, variant, X, y, init, args.rounds, args.threads) / args.rounds)
        base = statistics.median(next(iter(times.values())))
        print(f"\n| {backend} objective | ms per round | ratio to built-in |\n| --- | --- | --- |")
        for name, values in times.items():
            median = statistics.median(values)
            print(f"| {name} | {1000 * median:.1f} | {median / base:.2f} |")


if __name__ == "__main__":
    main()
