"""A comparison as one self-contained HTML file: the recommendation and its tests, the decision
analysis, both tables, what was tuned, the notes, and the figures embedded as PNG data URIs (no
external files, no network)."""

from __future__ import annotations

import base64
import html
from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from crossent.selection import Comparison

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 76rem; color: #222; }
table { border-collapse: collapse; font-size: 0.85rem; margin: 0.5rem 0 1rem; }
th, td { padding: 0.3rem 0.6rem; border-bottom: 1px solid #ddd; text-align: right; }
td { white-space: nowrap; }
th:first-child, td:first-child { text-align: left; }
tr.recommended { background: #eaf6ea; font-weight: 600; }
.warning { background: #fff4e5; border-left: 4px solid #f0a030; padding: 0.5rem 1rem; margin: 0.5rem 0; }
.reason { background: #eef4fb; border-left: 4px solid #2c7fb8; padding: 0.5rem 1rem; }
.note { color: #555; font-size: 0.85rem; margin: 0.2rem 0; }
img { max-width: 100%; display: block; margin: 1rem 0; }
.wide { overflow-x: auto; }
.confusions { display: flex; flex-wrap: wrap; gap: 0 2rem; }
"""

PROBABILITIES = ("log_loss", "log_loss_calibrated", "brier", "brier_calibrated", "ece", "ece_calibrated",
                 "ece_classwise_calibrated", "roc_auc", "average_precision", "fit_time")
DECISIONS = ("f1_default", "f1", "recall_default", "recall", "precision_default", "precision",
             "balanced_accuracy_default", "balanced_accuracy", "worst_recall_default", "worst_recall",
             "cost_default", "cost")


def html_report(result: Comparison, *, title: str = "crossent compare") -> str:
    from crossent import plot

    figures = [
        ("Reliability, raw probabilities", plot.reliability_diagrams(result)),
        (f"Reliability after {result.calibration} calibration",
         plot.reliability_diagrams(result, calibrated=True)),
        ("Precision-recall and ROC curves", plot.ranking_curves(result)),
        ("Metrics by loss", plot.metric_comparison(result)),
    ]
    if result.histories:
        figures.append(("Training objective", plot.training_histories(result)))
    figures.append(("Log loss against the predicted probability", plot.loss_curve()))
    images = "".join(
        f"<h2>{_e(caption)}</h2><img alt='{_e(caption)}' "
        f"src='data:image/png;base64,{base64.b64encode(plot.png(figure)).decode()}'>"
        for caption, figure in figures)
    data = result.dataset
    counts = ", ".join(f"{_e(n)}: {k}" for n, k in zip(data["classes"], data["counts"], strict=True))
    warnings = "".join(f"<p class='warning'>{_e(w)}</p>" for w in result.warnings)
    notes = "".join(f"<p class='note'>{_e(n)}</p>" for n in [*data.get("data_notes", []), *result.notes])
    analysis = "".join(f"<li>{_e(line)}</li>" for line in result.analysis)
    missing = f" {data['missing_values']} missing values, imputed inside each fit ({data['impute']})." if (
        data.get("missing_values")) else ""
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{_e(title)}</title><style>{STYLE}</style></head>
<body>
<h1>{_e(title)}</h1>
<p>{_e(data.get("name") or f"{data['n_samples']} samples, {data['n_features']} features")}.<br>
Classes ({_e(data["kind"])}): {counts}.{_e(missing)} {data.get("repeats", 1)}×{data["cv"]}-fold stratified
cross-validation; {_e(result.model)} for every loss; {_e(result.calibration)} calibration and the
{_e(result.decision.label())} decision rule fitted on the inner out-of-fold predictions of each training part, never
on its test fold.</p>
<h2>Recommendation: {_e(result.recommendation)}</h2>
<p class="reason">{_e(result.reason)}</p>
{_tests(result)}
{warnings}
<h2>Decisions</h2>
<ul>{analysis}</ul>
{_table(result, DECISIONS, rules=True)}
<h2>Probabilities</h2>
{_table(result, PROBABILITIES)}
<p>Mean ± standard deviation over {len(result.splits)} splits; * marks the deciding metric; "@0.5" is the default
rule (argmax, or P ≥ 0.5), the other the rule chosen on the inner folds.</p>
{_tuned(result)}
{_confusion(result)}
<h2>Notes</h2>
{notes or "<p class='note'>none</p>"}
{images}
</body></html>
"""


def _e(value: Any) -> str:
    return html.escape(str(value))


def _table(result: Comparison, keys: Sequence[str], *, rules: bool = False) -> str:
    summary = result.summary()
    present = {m.key: m for m in result.metrics}
    columns = [present[k] for k in keys if k in present]
    head = (("<th>rule (first split)</th>" if rules else "")
            + "".join(f"<th title='{_e(m.about)}'>{_e(m.label)}{' *' if m.key == result.metric else ''}</th>"
                      for m in columns))
    body = []
    for c in result.candidates:
        rule = f"<td>{_e(result.rule_texts[c.name][0])}</td>" if rules else ""
        cells = "".join(f"<td>{summary[c.name][m.key]['mean']:.4f} ± {summary[c.name][m.key]['std']:.4f}</td>"
                        for m in columns)
        css = " class='recommended'" if c.name == result.recommendation else ""
        body.append(f"<tr{css}><td title='{_e(c.summary)}'>{_e(c.name)}</td>{rule}{cells}</tr>")
    return (f"<div class='wide'><table><thead><tr><th>loss</th>{head}</tr></thead><tbody>{''.join(body)}</tbody>"
            f"</table></div>")


def _tests(result: Comparison) -> str:
    if not result.tests:
        return ""
    rows = "".join(
        f"<tr><td>{_e(name)}</td><td>{t.gain:+.4f}</td><td>{t.ci[0]:+.4f} .. {t.ci[1]:+.4f}</td>"
        f"<td>{t.p:.3g}</td><td>{t.p_holm:.3g}</td><td>{t.margin:.4f}</td>"
        f"<td>{'yes' if t.beats else 'no'}</td></tr>" for name, t in result.tests.items())
    return ("<table><thead><tr><th>against " + _e(next(iter(result.tests.values())).baseline)
            + "</th><th>gain</th><th>CI (corrected, Holm-adjusted)</th><th>p</th><th>p (Holm)</th>"
            "<th>margin</th><th>beats it</th></tr></thead><tbody>" + rows + "</tbody></table>")


def _tuned(result: Comparison) -> str:
    if not result.tune:
        return ""
    items = "".join(
        f"<li>{_e(c.name)}: "
        + _e("; ".join(f"{value} ({count}×)" for value, count in Counter(result.chosen[c.name]).most_common()))
        + "</li>" for c in result.candidates)
    return f"<h2>Tuned on the inner folds</h2><p>Chosen per split (count of splits):</p><ul>{items}</ul>"


def _confusion(result: Comparison) -> str:
    """The confusion matrix of each loss at its chosen rule, summed over the splits."""
    if result.y.ndim == 2:
        return ""
    classes = [_e(c) for c in result.dataset["classes"]]
    head = "".join(f"<th>→ {c}</th>" for c in classes)
    parts = ["<h2>Confusion at the chosen rule (rows: true class; summed over splits)</h2><div class='confusions'>"]
    for c in result.candidates:
        rows = "".join(f"<tr><td>{classes[i]}</td>{''.join(f'<td>{v}</td>' for v in row)}</tr>"
                       for i, row in enumerate(result.confusion[c.name]))
        recall = ", ".join(f"{cls} {r:.3f}" for cls, r in zip(classes, result.per_class_recall[c.name], strict=True))
        parts.append(f"<div class='wide'><h3>{_e(c.name)}</h3><table><thead><tr><th>true</th>{head}</tr></thead>"
                     f"<tbody>{rows}</tbody></table><p class='note'>recall per class: {recall}</p></div>")
    return "".join(parts) + "</div>"
