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
import re
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
# An argument that starts with "-" and reads as a number is a value, not an option: argparse's own
# test takes "-1" and "-.5" but not "-inf", "-Infinity" (nor "-1e5" before Python 3.13). No option
# of crossent's looks like a number, which is what makes this safe.
NEGATIVE_NUMBER = re.compile(r"^-(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$|^-(inf|infinity|nan)$", re.IGNORECASE)
INT64 = 2**63  # integer labels are int64: from -INT64 to INT64 - 1


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (no usage dump) and exit status 2, and any
    negative number is a value (``--logits -inf 0.5``, ``--min-gain -1e-3``)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # argparse's (private) test, .match()ed in _parse_optional since Python 2.7; tests/test_cli.py pins it
        self._negative_number_matcher = NEGATIVE_NUMBER

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"crossent: error: {message}\n")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="crossent", description="Cross-entropy-family classification losses.")
    parser.add_argument("--version", action="version", version=f"crossent {_version()}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    compare = commands.add_parser(
        "compare", help="which loss to train with: every candidate on the same model and splits",
        description="Train the same model with each candidate loss on the same repeated stratified folds; repair "
        "each one's probabilities with a calibration fitted on held-out training data, choose each one's decision "
        "rule there too, and compare proper scores, calibration and decisions on the test folds. Recommend plain "
        "cross-entropy unless a candidate beats it significantly (corrected resampled t-test, Holm-adjusted) and by "
        "a practical margin. Without DATA it runs on the embedded UCI hypothyroid data (4.8% positives).",
        epilog="examples: crossent compare; crossent compare data.csv --target y --losses ce focal:gamma=1 "
        "--decision 'cost 10:1'; crossent compare data.csv --target y --tune --impute median --json out.json",
    )
    compare.add_argument("data", nargs="?", metavar="DATA", help="a CSV or Parquet file (default: embedded data)")
    compare.add_argument("--target", metavar="COL", help="the target column of DATA")
    compare.add_argument("--data-set", choices=["hypothyroid", "breast-cancer"], default=None,
                         help="which embedded data set without DATA (default hypothyroid)")
    compare.add_argument("--losses", nargs="+", metavar="LOSS",
                         help="candidates, each FAMILY or FAMILY:option=value,... (default: ce weighted-ce focal "
                         "label-smoothing logit-adjusted); e.g. focal:gamma=1 label-smoothing:epsilon=0.05 ce:C=0.1")
    compare.add_argument("--tune", action="store_true",
                         help="pick each family's hyperparameter and C on the inner folds (nested; see README)")
    compare.add_argument("--cv", type=_at_least(2), default=5, metavar="K", help="folds (default 5)")
    compare.add_argument("--repeats", type=_at_least(1), default=None, metavar="R",
                         help="repeats of the K folds, each with its own shuffle (default 2; 1 from 100,000 "
                         "samples on)")
    compare.add_argument("--metric", default="log_loss_calibrated", metavar="M",
                         help="the deciding metric (default log_loss_calibrated; also log_loss, brier, "
                         "brier_calibrated, ece or ece[BINS,uniform|quantile,top-label|classwise,l1|l2|max], roc_auc, "
                         "average_precision, f1, recall, precision, balanced_accuracy, worst_recall, cost)")
    compare.add_argument("--calibration", choices=["bias-corrected", "temperature", "none"], default="bias-corrected",
                         help="post-hoc calibration fitted on the inner out-of-fold logits (default bias-corrected: "
                         "one temperature and a per-class bias; Platt scaling on the logit for two classes)")
    compare.add_argument("--decision", default="f1", metavar="RULE",
                         help="the decision rule chosen on the inner folds: f1 (default), balanced, 'cost FN:FP', "
                         "recall>=R; with --cost-matrix: cost")
    compare.add_argument("--cost-matrix", metavar="FILE.csv",
                         help="a C×C CSV of costs, rows the true class, columns the predicted (with --decision cost)")
    compare.add_argument("--min-gain", type=float, metavar="G",
                         help="the practical margin a candidate must beat ce by, in the metric's units "
                         "(default: 1%% of ce's score)")
    compare.add_argument("--model", nargs="+", choices=["linear", "lightgbm", "xgboost", "mlp", "all"],
                         default=["linear"], metavar="FAMILY",
                         help="the model trained with each loss: linear (default), lightgbm, xgboost (the boosting "
                         "extra), mlp (the torch extra); several, or all (every installed family), run side by side")
    compare.add_argument("--C", type=float, default=1.0, dest="C",
                         help="inverse regularization strength of the linear model (default 1)")
    compare.add_argument("--seed", type=_at_least(0), default=0, help="random state of the folds (default 0)")
    compare.add_argument("--n-jobs", type=int, default=None, metavar="N",
                         help="worker processes, each held to one BLAS thread (-1: every core; default: every "
                         "core once the first tasks show the run is long enough to repay starting them)")
    data_options = compare.add_argument_group("reading DATA")
    data_options.add_argument("--impute", choices=["median"],
                              help="fill missing feature values inside each fit (median, plus a missing-indicator "
                              "column per imputed feature); without it a missing value is an error")
    data_options.add_argument("--drop-na", action="store_true", help="drop rows with missing values")
    data_options.add_argument("--na-values", nargs="+", metavar="TEXT",
                              help="cell texts that also mean missing (default: only empty cells), e.g. NA ?")
    data_options.add_argument("--sep", metavar="CHAR",
                              help="the field separator, e.g. ';' or tab (also '\\t'; default: sniffed among , ; tab)")
    data_options.add_argument("--decimal", choices=[".", ","], default=".", help="the decimal mark (default .)")
    data_options.add_argument("--one-hot", action="store_true", help="one-hot encode text feature columns")
    output = compare.add_argument_group("output")
    output.add_argument("--report", metavar="FILE.html", help="write a self-contained HTML report")
    output.add_argument("--json", metavar="FILE.json", help="write the full result as JSON ('-' for stdout)")
    output.add_argument("--oof", metavar="FILE.csv",
                        help="write the out-of-fold predictions (crossent eval reads them)")
    output.add_argument("--no-progress", action="store_true", help="no progress bar")
    compare.set_defaults(run=_compare)

    evaluate = commands.add_parser(
        "eval", help="score a file of predictions with the comparison's metrics",
        description="Score predictions: log loss, Brier, ECE, balanced accuracy, macro F1, ROC-AUC, average "
        "precision, minority recall. One column: a binary target's P(class 1) for 0/1 labels, or P(--pos-label) "
        "for named classes; several: one per class, the classes in sorted order (two for a binary target). "
        "The file is streamed, so it may be larger than memory: Parquet row group by row group, CSV in blocks "
        "of rows. It is read twice: first the target column alone, for the classes (every class must be known "
        "before the first block is scored), then everything. ROC-AUC and average precision are scikit-learn's "
        f"exact ones, from every row's scores held in memory, up to {EXACT_RANKING_MAX_SCORES:,} scores (rows × "
        "ranked columns: one for a binary target, one per class for more); beyond that, or with --ranking binned, "
        "they come from histograms of the probabilities (--ranking-bins): exactly those of the probabilities "
        "rounded to their bins, and the output states how far the ROC-AUC can be from the exact one.",
        epilog="example: crossent eval oof.csv --target target --probs ce:negative ce:hypothyroid; "
        "crossent eval scores.parquet --target y --logits z --ranking binned",
    )
    evaluate.add_argument("predictions", metavar="PREDICTIONS", help="a CSV or Parquet file")
    evaluate.add_argument("--target", required=True, metavar="COL")
    columns = evaluate.add_mutually_exclusive_group(required=True)
    columns.add_argument("--probs", nargs="+", metavar="COL", help="probability column(s)")
    columns.add_argument("--logits", nargs="+", metavar="COL", help="logit column(s)")
    evaluate.add_argument("--pos-label", metavar="LABEL",
                          help="with one column: the class it is the probability (or logit) of")
    evaluate.add_argument("--ranking", choices=("auto", "exact", "binned"), default="auto",
                          help="how ROC-AUC and average precision are computed. exact: scikit-learn's, ranked by "
                          "the logits with --logits, from every row's scores held in memory (about 50 bytes a row "
                          "and ranked column at the peak); binned: from histograms of the probabilities "
                          "(--ranking-bins), in constant memory, within a bound the output states; auto (the "
                          f"default): exact up to {EXACT_RANKING_MAX_SCORES:,} scores, binned beyond")
    evaluate.add_argument("--ranking-bins", type=_positive, default=10_000, metavar="B",
                          help="bins of the binned ROC-AUC and average-precision histograms (default 10000)")
    evaluate.add_argument("--json", action="store_true", help="print JSON")
    evaluate.add_argument("--no-progress", action="store_true", help="no progress bar (shown on a terminal for "
                          "files of 32 MiB and more)")
    evaluate.set_defaults(run=_evaluate)

    figure = commands.add_parser("plot", help="draw a figure",
                                 description="Draw a figure to a PNG, SVG or PDF file, as --out's suffix names.")
    figure.add_argument("figure", choices=["loss-curve"], help="loss-curve: log loss against predicted probability")
    figure.add_argument("--out", default="loss-curve.png", metavar="FILE",
                        help="where: FILE.png, FILE.svg or FILE.pdf (default loss-curve.png)")
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
    loss.add_argument("--classes", type=_at_least(1), metavar="C",
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
    loss.add_argument("--precision", type=_precision, default=4, metavar="D", help="decimals printed (default 4)")
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
    except PackageNotFoundError:  # a source checkout, not installed: the package says its version
        import crossent

        return crossent.__version__


def _targets(values: Sequence[str]) -> list[int] | list[float]:
    try:
        labels = [int(v) for v in values]
    except ValueError:
        pass
    else:
        for label in labels:
            if not -INT64 <= label < INT64:  # NumPy would overflow making the int64 labels
                raise ValueError(f"--target {label} is out of range: a label is a class index (0 to C - 1), "
                                 f"a dense target a value in [0, 1]")
        return labels
    try:
        return [float(v) for v in values]
    except ValueError:
        raise ValueError(f"--target takes numbers, got {' '.join(values)}") from None


def _loss(args: argparse.Namespace) -> int:
    import numpy as np

    import crossent

    from_logits = args.logits is not None
    prediction = np.asarray(args.logits if from_logits else args.probs, dtype=np.float64)
    if from_logits and np.isnan(prediction).any():
        raise ValueError(f"--logits value {int(np.argmax(np.isnan(prediction))) + 1} is nan, not a number")
    target: Any = _targets(args.target)
    options: dict[str, Any] = {"from_logits": from_logits, "reduction": args.reduction}
    if args.base is not None:
        options["base"] = int(args.base) if args.base.is_integer() else args.base
    if args.eps is not None:
        options["eps"] = args.eps
    if args.label_smoothing:
        options["label_smoothing"] = args.label_smoothing

    if args.kind in SOFTMAX_KINDS:
        classes = args.classes if args.classes is not None else prediction.size
        if prediction.size % classes:
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
    with np.errstate(all="ignore"):  # an infinite logit: the value below says what came of it, no warning
        value, grad = crossent.value_and_grad(function, prediction, target, **options)
    value = np.asarray(value)
    _refuse_nan(function.__name__, prediction, value, np.asarray(grad) if args.grad else None)
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


def _refuse_nan(name: str, prediction: Any, value: Any, grad: Any) -> None:
    """A loss is printed only where it is a number: where the loss (or the gradient asked for)
    came out nan, at an infinite logit, say so in one line rather than print nan."""
    import numpy as np

    what = "value" if np.isnan(value).any() else "gradient" if grad is not None and np.isnan(grad).any() else ""
    if not what:
        return
    flat = prediction.reshape(-1)
    infinite = np.flatnonzero(np.isinf(flat))
    if infinite.size:
        where = ", ".join(f"value {i + 1} ({flat[i]:g})" for i in infinite)
        raise ValueError(f"{name}'s {what} is nan at the infinite logit(s) of --logits, {where}; pass a large "
                         f"finite logit instead (e.g. 1e4 or -1e4)")
    raise ValueError(f"{name}'s {what} is nan for these values")


def _compare(args: argparse.Namespace) -> int:
    from pathlib import Path

    import numpy as np

    from crossent.selection import compare, embedded, read_table

    for path in (args.report, args.json, args.oof):  # refuse now, not after the whole run
        if path not in (None, "-") and not Path(path).resolve().parent.is_dir():
            raise ValueError(f"cannot write {path}: no such directory")
    if args.data is None:
        if args.target is not None:
            raise ValueError("--target names a column of DATA; the embedded data set needs none")
        data = embedded(args.data_set or "hypothyroid")
        if args.impute is None and np.isnan(data.X).any():  # the embedded set's missing hormone values
            args.impute = "median"
    else:
        if args.target is None:
            raise ValueError("--target COL is required with DATA")
        if args.data_set is not None:
            raise ValueError("--data-set chooses an embedded data set; it cannot go with DATA")
        sep = "\t" if args.sep in ("\\t", "tab") else args.sep  # a tab is hard to type in a shell
        data = read_table(args.data, args.target, one_hot=args.one_hot, drop_na=args.drop_na,
                          na_values=args.na_values, sep=sep, decimal=args.decimal)
    cost_matrix = None
    if args.cost_matrix is not None:
        from crossent.selection._decide import read_cost_matrix

        cost_matrix = read_cost_matrix(args.cost_matrix)
    if args.impute is None and np.isnan(data.X).any():
        column = int(np.argwhere(np.isnan(data.X))[0][1])
        raise ValueError(f"{data.name} has {int(np.isnan(data.X).sum())} missing feature value(s) (the first in "
                         f"column {data.feature_names[column]!r}): pass --impute median to fill them inside the "
                         f"folds, or --drop-na to drop their rows")
    families = _families(args.model)
    options = dict(losses=args.losses, cv=args.cv, repeats=args.repeats, metric=args.metric,
                   calibration=args.calibration, decision=args.decision, cost_matrix=cost_matrix, tune=args.tune,
                   min_gain=args.min_gain, impute=args.impute, random_state=args.seed, C=args.C,
                   class_names=data.class_names, n_jobs=args.n_jobs, progress=None if not args.no_progress else False)
    results = {family: compare(data.X, data.y, model=family, **options) for family in families}
    for result in results.values():
        result.dataset["name"] = data.description
        result.dataset["data_notes"] = list(data.notes)
    several = len(results) > 1
    if args.json == "-":
        print(_json_of(results) if several else next(iter(results.values())).to_json(indent=2))
        return 0
    print(data.description)
    for note in data.notes:
        print(f"note: {note}")
    for family, result in results.items():
        if several:
            print(f"\n=== {family} ===")
        _print_comparison(result)
    if several:
        from crossent.selection._result import side_by_side

        print(f"\n=== side by side ===\n{side_by_side(results)}")
    for path, write in ((args.json, lambda p, r: Path(p).write_text(r.to_json(indent=2))),
                        (args.oof, lambda p, r: r.write_oof(p)),
                        (args.report, lambda p, r: Path(p).write_text(_report(r), encoding="utf-8"))):
        if not path:
            continue
        if several and path == args.json:
            Path(path).write_text(_json_of(results))
            print(f"wrote {path}")
            continue
        for family, result in results.items():
            target = _family_path(path, family) if several else path
            write(target, result)
            print(f"wrote {target}")
    return 0


def _families(requested: Sequence[str]) -> list[str]:
    """The model families asked for, in order, "all" being every installed one; a family whose
    extra is missing is an error naming the extra."""
    from crossent.selection._models import MODEL_FAMILIES, installed, model_family

    if "all" in requested:
        return [f for f in MODEL_FAMILIES if installed(f)]
    families = list(dict.fromkeys(requested))
    for family in families:
        model_family(family)  # ModuleNotFoundError naming the extra, before any fold runs
    return families


def _family_path(path: str, family: str) -> str:
    """``report.html`` -> ``report-lightgbm.html``: one file per model family."""
    from pathlib import Path

    p = Path(path)
    return str(p.with_name(f"{p.stem}-{family}{p.suffix}"))


def _json_of(results: dict[str, Any]) -> str:
    """Several families' results: {"models": {family: result}, "recommendations": {family: loss}}."""
    return json.dumps({"models": {f: json.loads(r.to_json()) for f, r in results.items()},
                       "recommendations": {f: r.recommendation for f, r in results.items()}}, indent=2)


def _print_comparison(result: Any) -> None:
    print(f"{result.dataset['repeats']}×{result.dataset['cv']}-fold cross-validation, {len(result.candidates)} "
          f"losses, {result.model}, calibration {result.calibration}, decision rule {result.decision.label()}"
          f"{', tuned' if result.tune else ''}: {result.elapsed:.1f} s"
          f"{f' on {result.n_jobs} worker processes' if result.n_jobs > 1 else ' in one process'}\n")
    print(result.table())
    print(result.legend())
    print(f"\nrecommended: {result.recommendation}\n  {result.reason}")
    print("\ndecisions (on the test folds, at each loss's rule chosen on its inner folds):")
    for line in result.analysis:
        print(f"  {line}")
    if result.tune:
        print("\ntuned on the inner folds (per split):")
        for c in result.candidates:
            print(f"  {c.name}: {_counts(result.chosen[c.name])}")
    for warning in result.warnings:
        print(f"warning: {warning}")
    for note in result.notes:
        print(f"note: {note}")


def _report(result: Any) -> str:
    from crossent.report import html_report

    return html_report(result)


def _counts(values: Sequence[str]) -> str:
    """``gamma=1, C=1 (6×); gamma=2, C=1 (4×)``: how often each value was chosen."""
    from collections import Counter

    return "; ".join(f"{value} ({count}×)" for value, count in Counter(values).most_common())


def _at_least(low: int) -> Any:
    """An argparse type: an integer ≥ low (argparse names the flag in its error)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = low - 1
        if value < low:
            raise argparse.ArgumentTypeError(f"must be an integer of at least {low}, got {text!r}")
        return value

    return parse


EXACT_RANKING_MAX_SCORES = 10_000_000
"""``crossent eval --ranking auto`` ranks exactly up to this many scores (rows × ranked columns),
about 50 bytes each at the peak of the sort: 500 MB; beyond, it bins them in constant memory."""


def _evaluate(args: argparse.Namespace) -> int:
    from pathlib import Path

    from crossent.selection import _stream
    from crossent.selection._progress import Progress

    path = Path(args.predictions)
    from_logits = args.logits is not None
    columns = list(args.logits if from_logits else args.probs)
    table = _stream.open_predictions(path, args.target, columns, pos_label=args.pos_label)
    bar = Progress(100, "eval", enabled=not args.no_progress and sys.stderr.isatty()
                   and path.stat().st_size >= _stream.PROGRESS_BYTES)
    first_share = 0.5 if table.csv else 0.1  # of the time: a CSV's first pass parses every field too

    def progress(fraction: float, what: str) -> None:
        bar.done = min(int(100 * fraction), 99)
        bar.step(what)

    classes = _stream.classes_of(table, args.target, columns, pos_label=args.pos_label,
                                 progress=lambda done, rows: progress(first_share * done, f"classes: {rows:,} rows"))
    n_scores = classes.rows * classes.ranked_columns  # known before a score is read
    exact = args.ranking == "exact" or (args.ranking == "auto" and n_scores <= EXACT_RANKING_MAX_SCORES)
    scores, bound = _stream.scores_of(
        table, args.target, columns, classes, from_logits=from_logits, exact_ranking=exact,
        ranking_bins=args.ranking_bins,
        progress=lambda done, rows: progress(first_share + (1 - first_share) * done, f"scores: {rows:,} rows"))
    bar.close()
    ranking: dict[str, Any] = ({"method": "exact"} if exact else {
        "method": "binned", "bins": args.ranking_bins, "roc_auc_bound": None if math.isnan(bound) else bound})
    if args.json:
        print(json.dumps({"n_samples": classes.rows, "classes": classes.names, "scores": _json_scores(scores),
                          "ranking": ranking}, allow_nan=False))
        return 0
    width = max(len(k) for k in scores)
    print(f"{classes.rows} predictions, classes {', '.join(classes.names)}")
    for key, value in scores.items():
        print(f"{key.ljust(width)}  {value:.4f}")
    if not exact:
        why = (f": {n_scores:,} scores, more than the {EXACT_RANKING_MAX_SCORES:,} that --ranking auto ranks exactly"
               if args.ranking == "auto" else "")
        within = ("" if math.isnan(bound) else "; no bin holds both outcomes: roc_auc is exact" if bound == 0
                  else f"; roc_auc within {bound:.2g} of the exact value")
        logits = ", ranked by the logits" if from_logits else ""
        print(f"(roc_auc and average_precision from {args.ranking_bins:,}-bin histograms of the probabilities"
              f"{why}{within}; --ranking exact for scikit-learn's{logits})")
    return 0


def _json_scores(scores: dict[str, float]) -> dict[str, Any]:
    """JSON has no NaN: an undefined score (ROC-AUC with one class present, ...) is null; an
    infinite one is "inf", as in _json_number."""
    return {key: None if math.isnan(value) else value if math.isfinite(value) else str(value)
            for key, value in ((k, float(v)) for k, v in scores.items())}


FIGURE_FORMATS = {".png": "png", ".svg": "svg", ".pdf": "pdf"}  # --out's suffix: matplotlib's savefig format
FIGURE_METADATA = {"svg": {"Date": None}, "pdf": {"CreationDate": None}}  # no timestamps: same figure, same bytes


def _plot(args: argparse.Namespace) -> int:
    import io
    from pathlib import Path

    from crossent import plot

    out = Path(args.out)
    kind = FIGURE_FORMATS.get(out.suffix.lower())
    if kind is None:
        raise ValueError(f"--out {out}: unknown figure format {out.suffix or '(no suffix)'!r}; "
                         f"name a {', '.join(FIGURE_FORMATS)} file")
    if not out.resolve().parent.is_dir():
        raise ValueError(f"cannot write {out}: no such directory")
    figure = plot.loss_curve()
    if kind == "png":
        out.write_bytes(plot.png(figure))
    else:
        import matplotlib.pyplot as plt

        buffer = io.BytesIO()
        figure.savefig(buffer, format=kind, bbox_inches="tight", metadata=FIGURE_METADATA[kind])
        plt.close(figure)
        out.write_bytes(buffer.getvalue())
    print(f"wrote {out}")
    return 0


def _precision(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        # argparse prefixes "argument --precision: ", as for _positive
        raise argparse.ArgumentTypeError(f"must be a non-negative integer, got {text}")
    return value


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
    except ModuleNotFoundError as error:  # an optional extra that is not installed (the message names it)
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
