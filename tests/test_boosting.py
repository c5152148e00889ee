"""crossent.boosting: crossent losses as LightGBM and XGBoost objectives.

The objective against the boosters' own (cross-entropy reproduces LightGBM's binary/multiclass and
XGBoost's binary:logistic/multi:softprob), its derivatives against autograd, the Hessian
conventions and floors, the initial score, the sample weights, and the known defects of other
implementations as regression tests.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import expit, softmax
from sklearn.datasets import make_classification

from crossent.boosting import Objective, lightgbm_metric, lightgbm_objective, xgboost_metric, xgboost_objective

lgb = pytest.importorskip("lightgbm")
xgb = pytest.importorskip("xgboost")

LIGHTGBM = dict(learning_rate=0.1, num_leaves=15, verbose=-1, seed=0, deterministic=True, force_row_wise=True,
                num_threads=1)
XGBOOST = dict(learning_rate=0.1, max_depth=4, seed=0, tree_method="hist", nthread=1)


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray]:
    X, y = make_classification(600, 8, n_informative=5, n_classes=3, random_state=0)
    return X, y


# --- cross-entropy is the boosters' own objective ---------------------------------------------------


def test_lightgbm_binary_is_reproduced_with_boost_from_average_as_the_initial_score(data) -> None:
    X, y = data
    yb = (y == 0).astype(float)
    ref = lgb.train({**LIGHTGBM, "objective": "binary"}, lgb.Dataset(X, yb), 30)  # boost_from_average
    objective = Objective("cross_entropy")
    init = objective.init_score(yb)
    assert init[0] == pytest.approx(np.log(yb.mean() / (1 - yb.mean())), abs=1e-12)
    mine = lgb.train({**LIGHTGBM, "objective": lightgbm_objective(objective)},
                     lgb.Dataset(X, yb, init_score=np.full(len(yb), init[0])), 30)
    np.testing.assert_allclose(mine.predict(X, raw_score=True) + init[0], ref.predict(X, raw_score=True),
                               rtol=0, atol=1e-9)


@pytest.mark.parametrize("loss", ["cross_entropy", "binary_cross_entropy"])
def test_lightgbm_binary_the_sigmoid_and_two_class_softmax_losses_agree(data, loss: str) -> None:
    X, y = data
    yb = (y == 0).astype(float)
    objective = Objective(loss)
    init = objective.init_score(yb)
    booster = lgb.train({**LIGHTGBM, "objective": lightgbm_objective(objective)},
                        lgb.Dataset(X, yb, init_score=np.full(len(yb), init[0])), 20)
    ref = lgb.train({**LIGHTGBM, "objective": "binary"}, lgb.Dataset(X, yb), 20)
    np.testing.assert_allclose(booster.predict(X, raw_score=True) + init[0], ref.predict(X, raw_score=True),
                               atol=1e-9)


def test_lightgbm_multiclass_is_reproduced_with_the_lightgbm_hessian(data) -> None:
    X, y = data
    ref = lgb.train({**LIGHTGBM, "objective": "multiclass", "num_class": 3}, lgb.Dataset(X, y), 30)
    objective = Objective("cross_entropy", hessian="lightgbm")
    init = objective.init_score(y, num_outputs=3)
    np.testing.assert_allclose(init, np.log(np.bincount(y) / len(y)), atol=1e-10)  # LightGBM's log prior
    mine = lgb.train({**LIGHTGBM, "objective": lightgbm_objective(objective), "num_class": 3},
                     lgb.Dataset(X, y, init_score=np.tile(init, (len(y), 1))), 30)
    np.testing.assert_allclose(softmax(mine.predict(X, raw_score=True) + init, axis=1), ref.predict(X), atol=1e-9)
    # the exact Hessian is another (less damped) model
    exact = lgb.train({**LIGHTGBM, "objective": lightgbm_objective(Objective("cross_entropy")), "num_class": 3},
                      lgb.Dataset(X, y, init_score=np.tile(init, (len(y), 1))), 30)
    assert np.abs(softmax(exact.predict(X, raw_score=True) + init, axis=1) - ref.predict(X)).max() > 1e-3


def test_xgboost_binary_logistic_is_reproduced(data) -> None:
    X, y = data
    yb = (y == 0).astype(float)
    base = yb.mean()
    ref = xgb.train({**XGBOOST, "objective": "binary:logistic", "base_score": base}, xgb.DMatrix(X, yb), 30)
    objective = Objective("cross_entropy")
    margin = np.full(len(yb), objective.init_score(yb)[0])
    mine = xgb.train({**XGBOOST, "base_score": 0.0, "disable_default_eval_metric": 1},
                     xgb.DMatrix(X, yb, base_margin=margin), 30, obj=xgboost_objective(objective))
    a = ref.predict(xgb.DMatrix(X), output_margin=True)
    b = mine.predict(xgb.DMatrix(X, base_margin=margin), output_margin=True)
    np.testing.assert_allclose(b, a, atol=1e-5)  # XGBoost's gradients are float32


def test_xgboost_multi_softprob_is_reproduced_with_the_majorizer(data) -> None:
    X, y = data
    objective = Objective("cross_entropy", hessian="majorizer")
    margin = np.tile(objective.init_score(y, num_outputs=3), (len(y), 1))
    ref = xgb.train({**XGBOOST, "objective": "multi:softprob", "num_class": 3}, xgb.DMatrix(X, y, base_margin=margin),
                    30)
    mine = xgb.train({**XGBOOST, "num_class": 3, "base_score": 0.0, "disable_default_eval_metric": 1},
                     xgb.DMatrix(X, y, base_margin=margin), 30, obj=xgboost_objective(objective))
    a = ref.predict(xgb.DMatrix(X, base_margin=margin), output_margin=True)
    b = mine.predict(xgb.DMatrix(X, base_margin=margin), output_margin=True)
    np.testing.assert_allclose(b, a, atol=1e-5)


# --- derivatives ------------------------------------------------------------------------------------

CASES = [
    ("cross_entropy", {}), ("cross_entropy", {"label_smoothing": 0.1, "weight": [1.0, 2.0, 0.5]}),
    ("focal_loss", {"gamma": 2.0}), ("focal_loss", {"gamma": 0.5, "alpha": [0.25, 0.5, 1.0]}),
    ("poly1_cross_entropy", {"epsilon": 2.0}), ("logit_adjusted_cross_entropy", {"priors": [0.2, 0.3, 0.5]}),
]


def _torch_derivatives(loss: str, options: dict, margins: np.ndarray, labels: np.ndarray,
                       weight: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Autograd's gradient and Hessian diagonal of Σᵢ sᵢ ℓᵢ, row by row."""
    torch = pytest.importorskip("torch")
    import crossent

    function = getattr(crossent, loss)
    opts = {k: torch.tensor(v, dtype=torch.float64) if isinstance(v, list) else v for k, v in options.items()}
    z = torch.tensor(margins, dtype=torch.float64)
    y = torch.tensor(labels)
    s = torch.tensor(weight, dtype=torch.float64)

    def total(x: torch.Tensor) -> torch.Tensor:
        return function(x, y, reduction="sum", sample_weight=s, **opts)

    grad = torch.func.grad(total)(z).numpy()
    hess = torch.func.hessian(total)(z).reshape(z.numel(), z.numel()).diagonal().reshape(z.shape).numpy()
    return grad, hess


@pytest.mark.parametrize(("loss", "options"), CASES)
def test_softmax_objective_derivatives_match_autograd_and_sum_to_zero(loss: str, options: dict) -> None:
    rng = np.random.default_rng(1)
    margins = rng.normal(size=(7, 3)) * 3
    labels = rng.integers(0, 3, 7)
    weight = rng.uniform(0.2, 2.0, 7)
    g, h = Objective(loss, options, floor=0.0).grad_hess(margins, labels, weight)
    grad, hess = _torch_derivatives(loss, options, margins, labels, weight)
    np.testing.assert_allclose(g, grad, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(h, np.maximum(hess, 1e-16 * weight[:, None]), rtol=1e-9, atol=1e-14)
    # imlightgbm's multiclass objectives apply binary formulas per class: no loss's gradient.
    # A softmax loss's gradient sums to 0 over the classes, whatever the options.
    np.testing.assert_allclose(g.sum(axis=1), 0.0, atol=1e-12)


def test_binary_focal_hessian_on_positive_rows_is_the_closed_form_not_zero() -> None:
    # bokbokbok 1.0.5 writes (1 - y)**gamma where (1 - p_t)**gamma belongs: h = 0 on every
    # positive row once γ > 0. The closed form is p_t q^γ [(2γ+1) q + γ (q - γ p_t) log p_t].
    z = np.array([-2.0, -0.5, 0.0, 1.0, 3.0])
    for gamma in (0.5, 1.0, 2.0, 3.0):
        _, h = Objective("binary_focal_loss", {"gamma": gamma}, floor=0.0).grad_hess(z, np.ones(5))
        p = expit(z)
        q = 1 - p
        expected = p * q**gamma * ((2 * gamma + 1) * q + gamma * (q - gamma * p) * np.log(p))
        np.testing.assert_allclose(h, np.maximum(expected, 1e-16), rtol=1e-12)
        assert np.all(h[z > -1] > 0)


def test_the_gauss_newton_floor_replaces_negative_focal_curvature() -> None:
    # a 5% minority started at logit(base rate): p_t = 0.05 < 0.058, so focal's exact h < 0 there
    z = np.full(2, np.log(0.05 / 0.95))
    y = np.array([1.0, 0.0])
    objective = Objective("binary_focal_loss", {"gamma": 2.0}, floor=0.0)
    g, exact = objective.grad_hess(z, y)
    assert exact[0] == pytest.approx(1e-16)  # floored at the tiny constant only: h < 0 there
    _, floored = Objective("binary_focal_loss", {"gamma": 2.0}).grad_hess(z, y)
    p = expit(z)
    omega = np.abs(g) / np.abs(p - y)
    np.testing.assert_allclose(floored[0], omega[0] * p[0] * (1 - p[0]), rtol=1e-12)
    assert floored[1] == pytest.approx(exact[1], rel=1e-12)  # the easy negative keeps its own curvature
    # for cross-entropy the Gauss-Newton floor is its exact Hessian: no change
    _, h_ce = Objective("cross_entropy").grad_hess(z, y)
    np.testing.assert_allclose(h_ce, p * (1 - p), rtol=1e-12)
    # a fixed floor
    _, fixed = Objective("binary_focal_loss", {"gamma": 2.0}, floor=0.01).grad_hess(z, y)
    assert fixed[0] == 0.01


def test_every_hessian_is_positive_at_random_and_extreme_margins() -> None:
    rng = np.random.default_rng(2)
    margins = np.concatenate([rng.normal(size=(50, 3)) * 5, [[1e4, 0, -1e4], [-50, 50, 0], [0, 0, 0]]])
    labels = rng.integers(0, 3, margins.shape[0])
    weight = rng.uniform(0, 2, margins.shape[0])
    for loss, options in [*CASES, ("focal_loss", {"gamma": 3.0}), ("poly1_cross_entropy", {"epsilon": 5.0})]:
        for hessian in ("exact", "majorizer", "lightgbm"):
            g, h = Objective(loss, options, hessian=hessian).grad_hess(margins, labels, weight)
            assert np.all(np.isfinite(g)) and np.all(np.isfinite(h))
            assert np.all(h >= 1e-16 * weight[:, None]) and np.all(h.sum(axis=0) > 0)


def test_hessian_conventions_scale_the_exact_softmax_diagonal() -> None:
    rng = np.random.default_rng(3)
    margins = rng.normal(size=(6, 4))
    labels = rng.integers(0, 4, 6)
    _, exact = Objective("cross_entropy").grad_hess(margins, labels)
    _, major = Objective("cross_entropy", hessian="majorizer").grad_hess(margins, labels)
    _, light = Objective("cross_entropy", hessian="lightgbm").grad_hess(margins, labels)
    p = softmax(margins, axis=1)
    np.testing.assert_allclose(exact, p * (1 - p), rtol=1e-12)
    np.testing.assert_allclose(major, 2 * p * (1 - p), rtol=1e-12)
    np.testing.assert_allclose(light, 4 / 3 * p * (1 - p), rtol=1e-12)
    # the majorizer bounds the whole Hessian block of every row: 2 diag(M) - M is PSD
    for row in p:
        m = np.diag(row) - np.outer(row, row)
        assert np.linalg.eigvalsh(2 * np.diag(np.diag(m)) - m).min() > -1e-12


def test_sigmoid_multilabel_derivatives_are_elementwise() -> None:
    torch = pytest.importorskip("torch")
    import crossent

    rng = np.random.default_rng(4)
    margins = rng.normal(size=(5, 3)) * 2
    labels = rng.integers(0, 2, (5, 3)).astype(float)
    weight = rng.uniform(0.5, 2, 5)
    g, h = Objective("asymmetric_loss", {"gamma_neg": 2.0, "clip": 0.0}, floor=0.0).grad_hess(margins, labels, weight)
    z = torch.tensor(margins)

    def total(x: torch.Tensor) -> torch.Tensor:
        return crossent.asymmetric_loss(x, torch.tensor(labels), gamma_neg=2.0, clip=0.0, reduction="sum",
                                        sample_weight=torch.tensor(weight)[:, None])

    np.testing.assert_allclose(g, torch.func.grad(total)(z).numpy(), rtol=1e-10)
    hess = torch.func.hessian(total)(z).reshape(15, 15).diagonal().reshape(5, 3).numpy()
    np.testing.assert_allclose(h, np.maximum(hess, 1e-16 * weight[:, None]), rtol=1e-9)


# --- the initial score ------------------------------------------------------------------------------


def test_initial_score_is_the_loss_optimal_constant() -> None:
    rng = np.random.default_rng(5)
    y = rng.choice(3, 500, p=[0.7, 0.2, 0.1])
    w = rng.uniform(0.5, 2, 500)
    for loss, options in CASES:
        objective = Objective(loss, options)
        b = objective.init_score(y, w, num_outputs=3)
        g, _ = Objective(loss, options).grad_hess(np.tile(b, (500, 1)), y, w)
        np.testing.assert_allclose(g.sum(axis=0) / w.sum(), 0.0, atol=1e-7)  # stationary
        value = objective.loss_value(np.tile(b, (500, 1)), y, w)
        for _ in range(5):  # and no nearby constant is better
            assert objective.loss_value(np.tile(b + rng.normal(size=3) * 0.05, (500, 1)), y, w) >= value - 1e-12
    b = Objective("cross_entropy").init_score(y, w, num_outputs=3)
    counts = np.bincount(y, weights=w)
    np.testing.assert_allclose(softmax(b), counts / counts.sum(), rtol=1e-8)


def test_binary_focal_initial_score_is_a_one_dimensional_solve() -> None:
    y = np.r_[np.zeros(95), np.ones(5)]
    objective = Objective("binary_focal_loss", {"gamma": 2.0, "alpha": 0.25})
    b = objective.init_score(y)[0]
    g, _ = objective.grad_hess(np.full(100, b), y)
    assert abs(g.sum()) < 1e-8
    assert b != pytest.approx(np.log(5 / 95))  # not the log odds


def test_multilabel_initial_score_per_label() -> None:
    y = np.array([[1, 0], [0, 0], [1, 1], [0, 0]], dtype=float)
    b = Objective("binary_cross_entropy").init_score(y)
    np.testing.assert_allclose(b, [0.0, np.log(1 / 3)], atol=1e-9)


# --- weights, metrics, errors -----------------------------------------------------------------------


@pytest.mark.parametrize("backend", ["lightgbm", "xgboost"])
def test_sample_weights_are_repeated_rows(data, backend: str) -> None:
    X, y = data
    # few distinct values per feature, so that each booster's bins are the values themselves and do
    # not depend on how many rows (or how much weight) sit at each
    X, y = np.round(X[:200]), y[:200]
    w = np.where(np.arange(200) % 3 == 0, 2.0, 1.0)
    repeated = np.repeat(np.arange(200), w.astype(int))
    objective = Objective("focal_loss", {"gamma": 1.0})
    init = objective.init_score(y, w, num_outputs=3)
    assert np.allclose(init, objective.init_score(y[repeated], num_outputs=3), atol=1e-9)
    if backend == "lightgbm":
        # (small trees: LightGBM's float32 histograms, summed in another order over repeated rows, flip
        # near-ties between splits of deep leaf-wise trees; its built-in multiclass does the same)
        params = {**LIGHTGBM, "objective": lightgbm_objective(objective), "num_class": 3, "min_data_in_leaf": 1,
                  "min_sum_hessian_in_leaf": 0, "num_leaves": 4, "min_data_in_bin": 1}
        weighted = lgb.train(params, lgb.Dataset(X, y, weight=w, init_score=np.tile(init, (200, 1))), 10)
        copies = lgb.train(params, lgb.Dataset(X[repeated], y[repeated], init_score=np.tile(init, (len(repeated), 1))),
                           10)
        a, b = weighted.predict(X, raw_score=True), copies.predict(X, raw_score=True)
    else:
        params = {**XGBOOST, "num_class": 3, "base_score": 0.0, "disable_default_eval_metric": 1}
        weighted = xgb.train(params, xgb.DMatrix(X, y, weight=w, base_margin=np.tile(init, (200, 1))), 10,
                             obj=xgboost_objective(objective))
        copies = xgb.train(params, xgb.DMatrix(X[repeated], y[repeated], base_margin=np.tile(init, (len(repeated), 1))),
                           10, obj=xgboost_objective(objective))
        a = weighted.predict(xgb.DMatrix(X), output_margin=True)
        b = copies.predict(xgb.DMatrix(X), output_margin=True)
    np.testing.assert_allclose(a, b, atol=1e-5)
    # and without the weights the model is another
    g_w, _ = objective.grad_hess(np.tile(init, (200, 1)), y, w)
    g_1, _ = objective.grad_hess(np.tile(init, (200, 1)), y)
    assert not np.allclose(g_w, g_1)


def test_metrics_are_the_weighted_mean_loss(data) -> None:
    import crossent

    X, y = data
    rng = np.random.default_rng(6)
    margins = rng.normal(size=(len(y), 3))
    w = rng.uniform(0.5, 2, len(y))
    objective = Objective("focal_loss", {"gamma": 2.0})
    expected = float(crossent.focal_loss(margins, y, gamma=2.0, sample_weight=w))
    name, value, higher = lightgbm_metric(objective)(margins, lgb.Dataset(X, y, weight=w).construct())
    assert (name, higher) == ("focal_loss", False)
    assert value == pytest.approx(expected, rel=1e-6)  # (both boosters hold the weights in float32)
    name, value = xgboost_metric(objective, name="loss")(margins, xgb.DMatrix(X, y, weight=w))
    assert name == "loss" and value == pytest.approx(expected, rel=1e-6)


def test_early_stopping_on_the_crossent_metric(data) -> None:
    X, y = data
    objective = Objective("cross_entropy")
    init = np.tile(objective.init_score(y[:400], num_outputs=3), (400, 1))
    train = lgb.Dataset(X[:400], y[:400], init_score=init)
    valid = lgb.Dataset(X[400:], y[400:], init_score=init[:200], reference=train)
    booster = lgb.train({**LIGHTGBM, "objective": lightgbm_objective(objective), "num_class": 3, "metric": "None",
                         "learning_rate": 0.5}, train, 300, valid_sets=[valid], feval=lightgbm_metric(objective),
                        callbacks=[lgb.early_stopping(5, verbose=False)])
    assert 1 <= booster.best_iteration < 300


def test_bad_arguments_are_named() -> None:
    with pytest.raises(ValueError, match="hessian must be one of"):
        Objective("cross_entropy", hessian="newton")
    with pytest.raises(ValueError, match="floor must be"):
        Objective("cross_entropy", floor=-1.0)
    with pytest.raises(ValueError, match="loss_options may not set 'sample_weight'"):
        Objective("cross_entropy", {"sample_weight": [1.0]})
    with pytest.raises(ValueError, match="not an option of focal_loss"):
        Objective("focal_loss", {"tau": 1.0})
    with pytest.raises(ValueError, match="loss must be one of crossent's losses"):
        Objective("hinge")
    objective = Objective("cross_entropy")
    with pytest.raises(ValueError, match=r"labels must be class indices in \[0, 3\)"):
        objective.grad_hess(np.zeros((2, 3)), np.array([0, 3]))
    with pytest.raises(ValueError, match="must be 0 or 1"):
        objective.grad_hess(np.zeros(2), np.array([0, 2]))
    with pytest.raises(ValueError, match="weight has 3 entries for 2 rows"):
        objective.grad_hess(np.zeros(2), np.array([0, 1]), np.ones(3))
    with pytest.raises(ValueError, match="needs rows of both labels"):
        objective.init_score(np.zeros(4))


@pytest.mark.parametrize(("loss", "options"), [
    ("binary_cross_entropy", {}), ("binary_focal_loss", {}), ("binary_focal_loss", {"gamma": 0.5, "alpha": 0.25}),
    ("cross_entropy", {}), ("cross_entropy", {"weight": [1.0, 3.0]}), ("focal_loss", {"gamma": 3.0, "alpha": [0.2, 1]}),
    ("poly1_cross_entropy", {"epsilon": 1.0}), ("poly1_cross_entropy", {"epsilon": -1.0}),
    ("poly1_cross_entropy", {"epsilon": 2.0, "weight": [2.0, 0.5]}),
    ("logit_adjusted_cross_entropy", {"priors": [0.9, 0.1], "tau": 1.5}),
])
@pytest.mark.parametrize("floor", ["gauss-newton", 0.0, 0.05])
def test_the_one_margin_kernel_is_the_generic_objective(loss: str, options: dict, floor) -> None:
    rng = np.random.default_rng(7)
    z = np.concatenate([rng.normal(size=200) * 4, [0.0, 50.0, -50.0, 700.0, -700.0, 1e4, -1e4]])
    y = rng.integers(0, 2, z.size).astype(float)
    w = rng.uniform(0, 2, z.size)
    fast = Objective(loss, options, floor=floor)
    assert fast._margin is not None  # the kernel covers these options
    generic = Objective(loss, options, floor=floor)
    generic._margin = None
    for weight in (None, w):
        g1, h1 = fast.grad_hess(z, y, weight)
        g2, h2 = generic.grad_hess(z, y, weight)
        # (to the generic path's rounding: its two-class softmax gradient p - y cancels to 0 where
        # the kernel keeps q = e^-50; the kernel's own digits there are checked below)
        np.testing.assert_allclose(g1, g2, rtol=1e-11, atol=1e-15)
        np.testing.assert_allclose(h1, h2, rtol=1e-11, atol=1e-15)


def test_the_one_margin_kernel_keeps_the_digits_of_confident_rows() -> None:
    z = np.array([50.0, -50.0, 700.0])
    g, h = Objective("cross_entropy").grad_hess(z, np.array([1.0, 0.0, 1.0]))
    q = expit(-np.abs(z))
    np.testing.assert_allclose(g, [-q[0], q[1], -q[2]], rtol=1e-14)
    np.testing.assert_allclose(h, np.maximum(q * (1 - q), 1e-16), rtol=1e-14)  # (the documented least h)
    g, h = Objective("cross_entropy", floor=0.0).grad_hess(z, np.array([1.0, 0.0, 1.0]))
    assert h[0] == 1e-16 and g[0] == pytest.approx(-q[0], rel=1e-14)


def test_options_outside_the_kernel_take_the_generic_path() -> None:
    for loss, options in [("binary_cross_entropy", {"label_smoothing": 0.1}), ("cross_entropy", {"z_loss": 1e-3}),
                          ("binary_focal_loss", {"pos_weight": [2.0]}), ("asymmetric_loss", {})]:
        assert Objective(loss, options)._margin is None


def test_the_scikit_learn_faces_of_both_boosters(data) -> None:
    from crossent.boosting import lightgbm_sklearn_objective, xgboost_sklearn_objective

    X, y = data
    objective = Objective("focal_loss", {"gamma": 2.0})
    init = objective.init_score(y, num_outputs=3)
    margin = np.tile(init, (len(y), 1))
    w = np.linspace(0.5, 1.5, len(y))
    # XGBClassifier(objective=...) is xgb.train(obj=...)
    model = xgb.XGBClassifier(objective=xgboost_sklearn_objective(objective), n_estimators=10, max_depth=3,
                              learning_rate=0.1, tree_method="hist", n_jobs=1, random_state=0, base_score=0.0)
    model.fit(X, y, base_margin=margin, sample_weight=w)
    ours = model.get_booster().predict(xgb.DMatrix(X, base_margin=margin), output_margin=True)
    params = {**XGBOOST, "max_depth": 3, "num_class": 3, "base_score": 0.0, "disable_default_eval_metric": 1}
    booster = xgb.train(params, xgb.DMatrix(X, y, weight=w, base_margin=margin), 10, obj=xgboost_objective(objective))
    np.testing.assert_allclose(ours, booster.predict(xgb.DMatrix(X, base_margin=margin), output_margin=True),
                               atol=1e-5)
    # LGBMClassifier(objective=...) is lgb.train(params["objective"]=...)
    model = lgb.LGBMClassifier(objective=lightgbm_sklearn_objective(objective), n_estimators=10, num_leaves=15,
                               random_state=0, deterministic=True, force_row_wise=True, n_jobs=1, verbose=-1)
    model.fit(X, y, init_score=margin, sample_weight=w)
    booster = lgb.train({**LIGHTGBM, "objective": lightgbm_objective(objective), "num_class": 3,
                         "seed": model.get_params()["random_state"]},
                        lgb.Dataset(X, y, weight=w, init_score=margin), 10)
    np.testing.assert_allclose(model.predict(X, raw_score=True), booster.predict(X, raw_score=True), atol=1e-9)
