"""The fused kernels against the generic losses they stand in for (the generic path is the oracle)."""

from __future__ import annotations

import numpy as np
import pytest

import crossent
from conftest import assert_close
from crossent.kernels._numpy import sigmoid_cross_entropy_sum, softmax_cross_entropy_sum

SHAPES = [(1, 1), (1, 3), (7, 2), (64, 5), (513, 10)]


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize(("n", "c"), SHAPES)
def test_softmax_kernel_is_cross_entropy(n: int, c: int, weighted: bool) -> None:
    rng = np.random.default_rng([n, c, weighted])
    z = rng.normal(scale=4.0, size=(n, c))
    labels = rng.integers(0, c, size=n)
    w = rng.uniform(0.0, 3.0, size=n) if weighted else None
    value, grad = softmax_cross_entropy_sum(np.ascontiguousarray(z.T), labels, w)
    expected, expected_grad = crossent.value_and_grad(crossent.cross_entropy, z, labels, reduction="sum",
                                                      sample_weight=w)
    assert_close(value, expected)
    assert_close(grad.T, expected_grad, atol=1e-12)


@pytest.mark.parametrize("scale", [1.0, 30.0, 1e4])
@pytest.mark.parametrize("weighted", [False, True])
def test_sigmoid_kernel_is_binary_cross_entropy(scale: float, weighted: bool) -> None:
    rng = np.random.default_rng([int(scale), weighted])
    z = rng.normal(scale=scale, size=301)
    y = rng.integers(0, 2, size=301).astype(np.float64)
    w = rng.uniform(0.0, 3.0, size=301) if weighted else None
    value, grad = sigmoid_cross_entropy_sum(z, y, w)
    expected, expected_grad = crossent.value_and_grad(crossent.binary_cross_entropy, z, y, reduction="sum",
                                                      sample_weight=w)
    assert np.isfinite(value) and np.all(np.isfinite(grad))
    assert_close(value, expected)
    assert_close(grad, expected_grad, atol=1e-12)


def test_binary_kernel_is_the_two_class_softmax() -> None:
    # softmax([0, z]) = [1 - σ(z), σ(z)]: the model trains binary problems on one logit.
    rng = np.random.default_rng(3)
    z = rng.normal(scale=3.0, size=50)
    labels = rng.integers(0, 2, size=50)
    value, grad = sigmoid_cross_entropy_sum(z, labels.astype(np.float64), None)
    two = np.stack([np.zeros_like(z), z])
    value2, grad2 = softmax_cross_entropy_sum(two, labels, None)
    assert_close(value, value2)
    assert_close(grad, grad2[1], atol=1e-12)


def test_the_model_uses_the_fused_kernel_where_it_covers_the_loss() -> None:
    from sklearn.datasets import load_wine
    from sklearn.preprocessing import StandardScaler

    from crossent.models import LinearClassifier
    from crossent.models._linear import _Objective

    X, y = load_wine(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    seen = []
    original = _Objective.__init__

    def spy(self: _Objective, *args: object, **kwargs: object) -> None:
        original(self, *args, **kwargs)  # type: ignore[arg-type]
        seen.append(self.kernel is not None)

    _Objective.__init__ = spy  # type: ignore[method-assign]
    try:
        plain = LinearClassifier(class_weight="balanced").fit(X, y)
        LinearClassifier("focal").fit(X, y)
        LinearClassifier(loss_options={"label_smoothing": 0.1}).fit(X, y)
        LinearClassifier(loss_options={"z_loss": 1e-3}).fit(X, y)  # not covered: the generic path
    finally:
        _Objective.__init__ = original  # type: ignore[method-assign]
    assert seen == [True, True, True, False]
    # and the kernel's solution is the generic path's: focal with gamma=0 is plain cross-entropy
    generic = LinearClassifier("focal", loss_options={"gamma": 0.0}, class_weight="balanced").fit(X, y)
    np.testing.assert_allclose(plain.coef_, generic.coef_, rtol=1e-5, atol=1e-6)
