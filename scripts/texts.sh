#!/usr/bin/env bash
# The main job until `crossent compare` lands: the texts' worked examples through `crossent loss`,
# with its own set-up (a virtual environment in .venv with crossent's plain install: NumPy and
# array-api-compat). Needs only Python >= 3.11.
set -euo pipefail
cd "$(dirname "$0")/.."

python=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$python" -m venv .venv
.venv/bin/python -m pip install --quiet -e .
crossent=.venv/bin/crossent

show() { printf '%-66s ' "$1"; shift; "$crossent" "$@"; }
show "three classes, true class A, predicted [0.7, 0.2, 0.1] (-ln 0.7):" \
    loss categorical --probs 0.7 0.2 0.1 --target 0
show "three classes, true class A, predicted [0.1, 0.2, 0.7] (-ln 0.1):" \
    loss categorical --probs 0.1 0.2 0.7 --target 1 0 0
show "fruit: apple, predicted [0.723, 0.240, 0.036], base 10:" \
    loss categorical --probs 0.723 0.240 0.036 --target 0 --base 10
show "BCE with logits [2.0, 0.5, -2.0], targets [0, 1, 1]:" \
    loss binary --logits 2.0 0.5 -2.0 --target 0 1 1
show "the same with label smoothing 0.1 (Keras's binary smoothing):" \
    loss binary --logits 2.0 0.5 -2.0 --target 0 1 1 --label-smoothing 0.1
show "binary focal loss, gamma 2, alpha 0.25 (torchvision's defaults):" \
    loss binary-focal --logits 2.0 0.5 -2.0 --target 0 1 1 --gamma 2 --alpha 0.25
show "log loss of h = 0.9 and h = 0.1 when y = 1 (the J(w) curve):" \
    loss binary --probs 0.9 0.1 --target 1 1 --reduction none
echo "the three hampers' entropies in bits (0.8813, 1, 0):"
.venv/bin/python -c "import crossent; print(crossent.entropy([[0.3, 0.7], [0.5, 0.5], [1.0, 0.0]], base=2).round(4))"
echo "and the gradient of the BCE example, in closed form, as JSON:"
"$crossent" loss binary --logits 2.0 0.5 -2.0 --target 0 1 1 --grad --json
