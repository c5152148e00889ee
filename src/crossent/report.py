"""A comparison as one self-contained HTML file: the table, the recommendation, the warnings and
the figures embedded as PNG data URIs (no external files, no network)."""

from __future__ import annotations

import base64
import html
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from crossent.selection import Comparison

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 70rem; color: #222; }
table { border-collapse: collapse; font-size: 0.9rem; }
th, td { padding: 0.3rem 0.6rem; border-bottom: 1px solid #ddd; text-align: right; }
td { white-space: nowrap; }
th:first-child, td:first-child { text-align: left; }
tr.recommended { background: #eaf6ea; font-weight: 600; }
.warning { background: #fff4e5; border-left: 4px solid #f0a030; padding: 0.5rem 1rem; margin: 0.5rem 0; }
.reason { background: #eef4fb; border-left: 4px solid #2c7fb8; padding: 0.5rem 1rem; }
img { max-width: 100%; display: block; margin: 1rem 0; }
"""


def html_report(result: Comparison, *, title: str = "crossent compare") -> str:
    from crossent import plot

    summary = result.summary()
    head = "".join(f"<th title='{html.escape(m.about)}'>{html.escape(m.label)}"
                   f"{' *' if m.key == result.metric else ''}</th>" for m in result.metrics)
    body = []
    for c in result.candidates:
        cells = "".join(
            f"<td>{summary[c.name][m.key]['mean']:.4f} ± {summary[c.name][m.key]['std']:.4f}</td>"
            for m in result.metrics)
        css = " class='recommended'" if c.name == result.recommendation else ""
        body.append(f"<tr{css}><td title='{html.escape(c.summary)}'>{html.escape(c.name)}</td>{cells}</tr>")
    figures = [
        ("Reliability diagrams", plot.reliability_diagrams(result)),
        ("Metrics by loss", plot.metric_comparison(result)),
        ("Training objective", plot.training_histories(result)),
        ("Log loss against the predicted probability", plot.loss_curve()),
    ]
    images = "".join(
        f"<h2>{html.escape(caption)}</h2><img alt='{html.escape(caption)}' "
        f"src='data:image/png;base64,{base64.b64encode(plot.png(figure)).decode()}'>"
        for caption, figure in figures)
    data = result.dataset
    counts = ", ".join(f"{html.escape(str(n))}: {k}" for n, k in zip(data["classes"], data["counts"], strict=True))
    warnings = "".join(f"<p class='warning'>{html.escape(w)}</p>" for w in result.warnings)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title><style>{STYLE}</style></head>
<body>
<h1>{html.escape(title)}</h1>
<p>{html.escape(str(data.get("name") or f"{data['n_samples']} samples, {data['n_features']} features"))}.<br>
Classes ({html.escape(data["kind"])}): {counts}. {data["cv"]}-fold cross-validation; the same standardized
linear model (C = {data["C"]}) for every loss; temperatures fitted on held-out training data.</p>
<h2>Recommendation: {html.escape(result.recommendation)}</h2>
<p class="reason">{html.escape(result.reason)}</p>
{warnings}
<table><thead><tr><th>loss</th>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>
<p>Mean ± standard deviation over folds; * marks the deciding metric.</p>
{images}
</body></html>
"""
