"""The public surface: the documented names, their signatures and docstrings, and a light import."""

from __future__ import annotations

import doctest
import importlib
import inspect
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import crossent

README = Path(__file__).resolve().parents[1] / "README.md"

LOSSES = [
    "asymmetric_loss", "binary_cross_entropy", "binary_focal_loss", "categorical_cross_entropy", "cross_entropy",
    "focal_loss", "logit_adjusted_cross_entropy", "poly1_cross_entropy", "sparse_categorical_cross_entropy",
]
DOCUMENTED = sorted([*LOSSES, "class_weights", "compare", "entropy", "kl_divergence", "log_sigmoid", "log_softmax",
                     "logsumexp", "one_hot", "sigmoid", "softmax", "value_and_grad", "value_grad_hess"])


def test_all_is_sorted_and_equals_the_documented_api() -> None:
    assert crossent.__all__ == sorted(crossent.__all__)
    assert crossent.__all__ == DOCUMENTED
    for name in crossent.__all__:
        assert callable(getattr(crossent, name))


def test_readme_documents_every_public_name() -> None:
    text = README.read_text()
    for name in crossent.__all__:
        assert f"`{name}" in text, name


@pytest.mark.parametrize("name", LOSSES)
def test_loss_signature_contract(name: str) -> None:
    parameters = inspect.signature(getattr(crossent, name)).parameters
    kinds = [p.kind for p in parameters.values()]
    assert list(parameters)[:2] == ["prediction", "target"]
    assert kinds[:2] == [inspect.Parameter.POSITIONAL_ONLY] * 2
    options = {p.name: p for p in parameters.values() if p.kind is inspect.Parameter.KEYWORD_ONLY}
    for option, default in (("from_logits", True), ("reduction", "mean"), ("sample_weight", None),
                            ("base", None), ("eps", None), ("xp", None)):
        assert options[option].default == default, (name, option)
    doc = getattr(crossent, name).__doc__
    assert doc and ">>>" in doc


def test_docstring_examples_run() -> None:
    failures = 0
    for module in pkgutil.walk_packages(crossent.__path__, "crossent."):
        if module.name.endswith("__main__"):
            continue
        failures += doctest.testmod(importlib.import_module(module.name), optionflags=doctest.ELLIPSIS).failed
    assert failures == 0


def test_import_is_light() -> None:
    code = ("import sys, crossent; heavy = [m for m in ('torch', 'jax', 'scipy', 'sklearn', 'matplotlib', 'keras')"
            " if m in sys.modules]; print(heavy)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout.strip() == "[]"
