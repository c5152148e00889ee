#!/usr/bin/env bash
# The main job: `crossent compare` on the embedded data set (UCI hypothyroid, 4.8% positives, shipped
# inside the package), with its own set-up: a virtual environment in .venv with crossent's plain install.
# Needs only Python >= 3.11. Writes compare.html (the report) and compare.json next to this
# repository's README. Extra arguments go to `crossent compare` (e.g. a CSV file and --target COL).
set -euo pipefail
cd "$(dirname "$0")/.."

python=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$python" -m venv .venv
.venv/bin/python -m pip install --quiet -e .
.venv/bin/crossent compare --report compare.html --json compare.json "$@"
