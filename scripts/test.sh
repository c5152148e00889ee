#!/usr/bin/env bash
# The test suite, with its own set-up: a virtual environment in .venv holding crossent and every
# peer it is compared against (PyTorch, torchvision, JAX, optax, Keras, scikit-learn, SciPy,
# array-api-strict). Needs only Python >= 3.11. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."

python=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    "$python" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
# torch and torchvision are pinned together: torchvision 0.28 is built for torch 2.13 (a CPU build
# of torch 2.13 is preferred where one is on the machine's wheel path).
.venv/bin/python -m pip install --quiet "torch==2.13.0" "torchvision==0.28.0"
.venv/bin/python -m pip install --quiet -e ".[test,dev]"

.venv/bin/python -m ruff check src tests
.venv/bin/python -m pytest -n 2 "$@"
