"""The ``crossent`` command line: thin, it parses, calls the library and prints.

Subcommands:
    crossent loss KIND (--probs P ... | --logits Z ...) --target T ...   a loss from typed values
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

KINDS = {
    "categorical": "cross_entropy",
    "binary": "binary_cross_entropy",
    "focal": "focal_loss",
    "binary-focal": "binary_focal_loss",
    "poly1": "poly1_cross_entropy",
    "asymmetric": "asymmetric_loss",
}
SOFTMAX_KINDS = ("categorical", "focal", "poly1")


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (no usage dump) and exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"crossent: error: {message}\n")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="crossent", description="Cross-entropy-family classification losses.")
    parser.add_argument("--version", action="version", version=f"crossent {_version()}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    loss = commands.add_parser(
        "loss", help="compute a loss from values typed in",
        description="Compute a loss from predictions and targets typed on the command line. "
        "Softmax kinds (categorical, focal, poly1) take one row of C values, or N rows with "
        "--classes C; the target is N integer labels or N×C dense (one-hot or soft) values. "
        "Binary kinds (binary, binary-focal, asymmetric) are element-wise: one target per value.",
        epilog="example: crossent loss categorical --probs 0.723 0.240 0.036 --target 0 --base 10",
    )
    loss.add_argument("kind", choices=list(KINDS), help="which loss")
    given = loss.add_mutually_exclusive_group(required=True)
    given.add_argument("--probs", nargs="+", type=float, metavar="P", help="predicted probabilities")
    given.add_argument("--logits", nargs="+", type=float, metavar="Z", help="raw scores (logits)")
    loss.add_argument("--target", nargs="+", required=True, metavar="T",
                      help="integer labels, or dense targets of the prediction's size")
    loss.add_argument("--classes", type=int, metavar="C",
                      help="number of classes per row (softmax kinds; default: all values, one row)")
    loss.add_argument("--base", type=float, help="log base: 2 for bits, 10 (default: e, nats)")
    loss.add_argument("--reduction", choices=["mean", "sum", "none"], default="mean")
    loss.add_argument("--weight", nargs="+", type=float, metavar="W", help="per-class weights")
    loss.add_argument("--pos-weight", nargs="+", type=float, metavar="W",
                      help="weight of positives (binary kinds; one value or one per element)")
    loss.add_argument("--label-smoothing", type=float, default=0.0, metavar="E")
    loss.add_argument("--gamma", type=float, help="focusing parameter (focal kinds; default 2)")
    loss.add_argument("--alpha", type=float, help="focal α (binary-focal: weight of positives)")
    loss.add_argument("--epsilon", type=float, help="Poly-1 ε (default 2)")
    loss.add_argument("--eps", type=float, help="clip probabilities to [eps, 1 - eps]")
    loss.add_argument("--grad", action="store_true", help="also print the gradient")
    loss.add_argument("--precision", type=int, default=4, metavar="D", help="decimals printed (default 4)")
    loss.add_argument("--json", action="store_true", help="print JSON with full precision")
    loss.set_defaults(run=_loss)
    return parser


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("crossent")
    except PackageNotFoundError:
        return "unknown"


def _targets(values: Sequence[str]) -> list[int] | list[float]:
    try:
        return [int(v) for v in values]
    except ValueError:
        pass
    try:
        return [float(v) for v in values]
    except ValueError:
        raise ValueError(f"--target takes numbers, got {' '.join(values)}") from None


def _loss(args: argparse.Namespace) -> int:
    import numpy as np

    import crossent

    from_logits = args.logits is not None
    prediction = np.asarray(args.logits if from_logits else args.probs, dtype=np.float64)
    target: Any = _targets(args.target)
    options: dict[str, Any] = {"from_logits": from_logits, "reduction": args.reduction}
    if args.base is not None:
        options["base"] = int(args.base) if args.base.is_integer() else args.base
    if args.eps is not None:
        options["eps"] = args.eps
    if args.label_smoothing:
        options["label_smoothing"] = args.label_smoothing

    if args.kind in SOFTMAX_KINDS:
        classes = args.classes or prediction.size
        if classes < 1 or prediction.size % classes:
            raise ValueError(f"--classes {classes} does not divide the {prediction.size} values given")
        prediction = prediction.reshape(-1, classes)
        rows = prediction.shape[0]
        if len(target) == rows and all(isinstance(t, int) for t in target):
            target = np.asarray(target, dtype=np.int64)
        elif len(target) == prediction.size:
            target = np.asarray(target, dtype=np.float64).reshape(prediction.shape)
        else:
            raise ValueError(f"--target needs {rows} integer label(s) or {prediction.size} dense values "
                             f"for {rows} row(s) of {classes} classes, got {len(target)} value(s)")
        if args.weight is not None:
            options["weight"] = np.asarray(args.weight)
    else:
        if args.classes is not None or args.weight is not None:
            flag = "--classes" if args.classes is not None else "--weight"
            raise ValueError(f"{flag} applies to the softmax kinds ({', '.join(SOFTMAX_KINDS)}), not {args.kind}")
        if len(target) != prediction.size:
            raise ValueError(f"--target needs one value per prediction ({prediction.size}), got {len(target)}")
        target = np.asarray(target, dtype=np.float64)
    for flag, name, kinds in (("--gamma", "gamma", ("focal", "binary-focal")),
                              ("--alpha", "alpha", ("focal", "binary-focal")),
                              ("--epsilon", "epsilon", ("poly1",)),
                              ("--pos-weight", "pos_weight", ("binary", "binary-focal"))):
        value = getattr(args, name)
        if value is None:
            continue
        if args.kind not in kinds:
            raise ValueError(f"{flag} applies to {' and '.join(kinds)}, not {args.kind}")
        options[name] = np.asarray(value) if isinstance(value, list) else value

    function = getattr(crossent, KINDS[args.kind])
    value, grad = crossent.value_and_grad(function, prediction, target, **options)
    value = np.asarray(value)
    if args.json:
        report: dict[str, Any] = {
            "kind": args.kind, "loss": function.__name__, "value": _json_number(value),
            "reduction": args.reduction, "base": options.get("base", "e"), "from_logits": from_logits,
        }
        if args.grad:
            report["grad"] = _json_number(np.asarray(grad).reshape(-1))
        print(json.dumps(report))
    else:
        print(_format(value, args.precision))
        if args.grad:
            print("grad: " + _format(np.asarray(grad).reshape(-1), args.precision))
    return 0


def _format(value: Any, precision: int) -> str:
    return " ".join(f"{float(v) + 0.0:.{precision}f}" for v in value.reshape(-1))  # no "-0.0000"


def _json_number(value: Any) -> Any:
    def one(v: float) -> Any:
        return v if math.isfinite(v) else str(v)  # JSON has no inf; "inf" says it plainly

    return one(float(value)) if value.ndim == 0 else [one(float(v)) for v in value]


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    try:
        return int(args.run(args))
    except (ValueError, TypeError) as error:
        print(f"crossent: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
