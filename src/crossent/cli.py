"""The ``crossent`` command line: thin, it parses, calls the library and prints.

Subcommands:
    crossent compare [DATA] --target COL     which loss to train with, on your data or the embedded set
    crossent eval PREDICTIONS --target COL (--probs COLS | --logits COLS)   score a file of predictions
    crossent plot loss-curve [--out FILE]    the texts' log loss against probability figure
    crossent loss KIND (--probs P ... | --logits Z ...) --target T ...   a loss from typed values
    crossent bench [--cases ce,bce,logloss,linear] [--device cuda --dtype bfloat16] [--quick] [--json]
                                             crossent against its peers, timed

Heavy libraries (scikit-learn, SciPy, matplotlib) are imported inside the subcommands that use
them, so ``crossent --help`` stays fast.
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

    compare = commands.add_parser(
        "compare", help="which loss to train with: every candidate on the same model and folds",
        description="Train the same linear model with each candidate loss on the same stratified folds and "
        "compare proper scores, calibration and thresholded metrics; recommend one, with the reason. "
        "Without DATA it runs on the embedded breast-cancer data set.",
    )
    compare.add_argument("data", nargs="?", metavar="DATA", help="a CSV or Parquet file (default: embedded data)")
    compare.add_argument("--target", metavar="COL", help="the target column of DATA")
    compare.add_argument("--losses", nargs="+", metavar="NAME",
                         help="candidates (default: ce weighted-ce focal label-smoothing logit-adjusted)")
    compare.add_argument("--cv", type=int, default=5, metavar="K", help="number of folds (default 5)")
    compare.add_argument("--metric", default="log_loss_scaled", metavar="M",
                         help="the deciding metric (default log_loss_scaled; also log_loss, brier, ece, "
                         "balanced_accuracy, macro_f1, roc_auc, average_precision, minority_recall)")
    compare.add_argument("--C", type=float, default=1.0, dest="C", help="inverse regularization strength (default 1)")
    compare.add_argument("--seed", type=int, default=0, help="random state of the folds (default 0)")
    compare.add_argument("--one-hot", action="store_true", help="one-hot encode text feature columns")
    compare.add_argument("--drop-na", action="store_true", help="drop rows with missing values")
    compare.add_argument("--report", metavar="FILE.html", help="write a self-contained HTML report")
    compare.add_argument("--json", metavar="FILE.json", help="write the full result as JSON ('-' for stdout)")
    compare.add_argument("--no-progress", action="store_true", help="no progress bar")
    compare.set_defaults(run=_compare)

    evaluate = commands.add_parser(
        "eval", help="score a file of predictions with the comparison's metrics",
        description="Score predictions: log loss, Brier, ECE, balanced accuracy, macro F1, ROC-AUC, average "
        "precision, minority recall. One column: P(class 1) of a binary target; several: one per class.",
    )
    evaluate.add_argument("predictions", metavar="PREDICTIONS", help="a CSV or Parquet file")
    evaluate.add_argument("--target", required=True, metavar="COL")
    columns = evaluate.add_mutually_exclusive_group(required=True)
    columns.add_argument("--probs", nargs="+", metavar="COL", help="probability column(s)")
    columns.add_argument("--logits", nargs="+", metavar="COL", help="logit column(s)")
    evaluate.add_argument("--json", action="store_true", help="print JSON")
    evaluate.set_defaults(run=_evaluate)

    figure = commands.add_parser("plot", help="draw a figure", description="Draw a figure to a PNG file.")
    figure.add_argument("figure", choices=["loss-curve"], help="loss-curve: log loss against predicted probability")
    figure.add_argument("--out", default="loss-curve.png", metavar="FILE.png", help="where (default loss-curve.png)")
    figure.set_defaults(run=_plot)

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

    bench = commands.add_parser(
        "bench", help="time crossent against its peers on this machine",
        description="Measure crossent against its peers side by side on this machine, implementations "
        "alternating within each repeat, medians after a warm-up call: copy bandwidth (the floor); ce and bce "
        "forward + backward against torch eager, torch.compile and naive NumPy; logloss against scikit-learn; "
        "linear_cross_entropy against naive torch (time and peak memory). Each case ends with its target.",
        epilog="example: crossent bench --quick; crossent bench --cases ce --rows 4096 --json; "
        "on a GPU: crossent bench --cases ce --device cuda --dtype bfloat16",
    )
    bench.add_argument("--cases", default="ce,bce,logloss,linear", metavar="LIST",
                       help="comma-separated cases: ce, bce, logloss, linear (default all)")
    bench.add_argument("--repeats", type=_positive, metavar="N",
                       help="timed calls of each implementation, medians reported (default 5; 3 with --quick)")
    bench.add_argument("--quick", action="store_true", help="tiny sizes: a smoke run of a few seconds")
    sizes = bench.add_argument_group("sizes (defaults: the full run; --quick makes them tiny)")
    for flag, what in (("--rows", "ce rows (default 8192; 16384 on cuda)"),
                       ("--classes", "ce classes (default 32000; 128256 on cuda)"),
                       ("--elements", "bce elements (default 10^8)"),
                       ("--logloss-rows", "logloss rows (default 10^6)"),
                       ("--logloss-classes", "logloss classes (default 100)"),
                       ("--tokens", "linear N (default 4096)"), ("--hidden", "linear H (default 1024)"),
                       ("--vocab", "linear V (default 65536)"),
                       ("--copy-mib", "MiB of the array copied for the bandwidth floor (default 256; 1024 on cuda)")):
        sizes.add_argument(flag, type=_positive, metavar="N", help=what)
    bench.add_argument("--chunk-size", type=_positive, metavar="N",
                       help="rows per chunk of linear_cross_entropy (default: its own)")
    bench.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto",
                       help="device of ce and bce: cpu (NumPy arrays and torch tensors sharing them), cuda (torch "
                       "tensors on the GPU, the copy floor the GPU's) or auto (default: cuda where torch sees it)")
    bench.add_argument("--dtype", choices=["float32", "bfloat16", "float16"], default="float32",
                       help="dtype of the ce and bce logits (default float32; the others on cuda only)")
    bench.add_argument("--linear-device", choices=["auto", "cpu", "cuda"],
                       help="device of the linear case (default: --device)")
    bench.add_argument("--no-compile", action="store_true",
                       help="skip the torch.compile rows (compiling takes seconds to a minute)")
    bench.add_argument("--json", action="store_true", help="print the result as JSON, no tables")
    bench.add_argument("--no-progress", action="store_true", help="no progress bar")
    bench.set_defaults(run=_bench)
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


def _compare(args: argparse.Namespace) -> int:
    from pathlib import Path

    from crossent.selection import compare, embedded, read_table

    if args.data is None:
        if args.target is not None:
            raise ValueError("--target names a column of DATA; the embedded data set needs none")
        data = embedded()
    else:
        if args.target is None:
            raise ValueError("--target COL is required with DATA")
        data = read_table(args.data, args.target, one_hot=args.one_hot, drop_na=args.drop_na)
    if args.cv < 2:
        raise ValueError(f"--cv must be at least 2, got {args.cv}")
    for path in (args.report, args.json):
        if path not in (None, "-") and not Path(path).resolve().parent.is_dir():
            raise ValueError(f"cannot write {path}: no such directory")
    result = compare(data.X, data.y, losses=args.losses, cv=args.cv, metric=args.metric, random_state=args.seed,
                     C=args.C, class_names=data.class_names, progress=None if not args.no_progress else False)
    result.dataset["name"] = data.description
    if args.json == "-":
        print(result.to_json(indent=2))
        return 0
    print(data.description)
    for note in data.notes:
        print(f"note: {note}")
    print(f"{result.dataset['cv']}-fold cross-validation, {len(result.candidates)} losses, "
          f"{result.elapsed:.1f} s\n")
    print(result.table())
    print(f"\nrecommended: {result.recommendation}\n  {result.reason}")
    for warning in result.warnings:
        print(f"warning: {warning}")
    if args.json:
        Path(args.json).write_text(result.to_json(indent=2))
        print(f"wrote {args.json}")
    if args.report:
        from crossent.report import html_report

        Path(args.report).write_text(html_report(result), encoding="utf-8")
        print(f"wrote {args.report}")
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    import numpy as np

    import crossent
    from crossent.selection import read_predictions, score_predictions

    columns = args.logits if args.logits is not None else args.probs
    y, values, class_names = read_predictions(args.predictions, args.target, columns)
    if args.logits is not None:
        probabilities = np.asarray(crossent.sigmoid(values) if values.ndim == 1 else crossent.softmax(values))
    else:
        probabilities = values
    scores = score_predictions(y, probabilities)
    if args.json:
        print(json.dumps({"n_samples": len(y), "classes": class_names, "scores": scores}))
    else:
        width = max(len(k) for k in scores)
        print(f"{len(y)} predictions, classes {', '.join(class_names)}")
        for key, value in scores.items():
            print(f"{key.ljust(width)}  {value:.4f}")
    return 0


def _plot(args: argparse.Namespace) -> int:
    from pathlib import Path

    from crossent import plot

    out = Path(args.out)
    if not out.resolve().parent.is_dir():
        raise ValueError(f"cannot write {out}: no such directory")
    out.write_bytes(plot.png(plot.loss_curve()))
    print(f"wrote {out}")
    return 0


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text!r}")
    return value


def _bench(args: argparse.Namespace) -> int:
    from crossent import bench

    sizes = {key: getattr(args, key) for key in bench.DEFAULT_SIZES if getattr(args, key) is not None}
    result = bench.run(args.cases, repeats=args.repeats, quick=args.quick, sizes=sizes,
                       torch_compile=not args.no_compile, device=args.device, dtype=args.dtype,
                       linear_device=args.linear_device,
                       chunk_size=args.chunk_size, progress=not args.no_progress)
    print(json.dumps(result, indent=2) if args.json else bench.render(result), end="\n" if args.json else "")
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
    except OSError as error:  # a file that cannot be written, a full disk
        print(f"crossent: error: {error.strerror or error}: {error.filename or ''}".rstrip(": "), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("crossent: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
