"""Self-contained HTML report of a Diagnosis: verdict, findings, the per-layer table and the
figure embedded as a base64 PNG (no external files, scripts or fonts).

Examples:
    >>> import torch, initlab
    >>> from torch import nn
    >>> dx = initlab.doctor(nn.Sequential(nn.Linear(8, 8), nn.ReLU()), torch.randn(16, 8))
    >>> "data:image/png;base64," in diagnosis_html(dx)
    True
"""

from __future__ import annotations

import base64
import html
from pathlib import Path
from typing import Any

from initlab.files import write_text_atomic
from initlab.probe.diagnosis import Diagnosis
from initlab.report.doctor_figures import figure_png
from initlab.report.doctor_table import sci
from initlab.views import register_view

_CSS = """
body{font-family:system-ui,sans-serif;margin:2em;max-width:1200px;color:#222}
table{border-collapse:collapse;font-size:13px}td,th{padding:2px 8px;border-bottom:1px solid #ddd}
td.n{text-align:right;font-family:monospace}.healthy{color:#2a7d2a}.vanishing{color:#b8860b}
.exploding,.nonfinite{color:#c0392b}.saturated{color:#8e44ad}.dead{color:#555}.symmetric{color:#138d9c}
.finding{margin:.6em 0;padding:.5em .8em;border-left:4px solid #c0392b;background:#fafafa}
.warning{border-left-color:#d4a017}code{background:#f0f0f0;padding:1px 4px}img{max-width:100%}
"""


def _cell(v: Any) -> str:
    if v is None:
        return "—"
    if isinstance(v, float):
        return sci(v)
    return html.escape(str(v))


def diagnosis_html(dx: Any, title: str | None = None) -> str:
    """The report as one HTML string."""
    e = html.escape
    title = title or f"initlab doctor: {dx.model}"
    png = base64.b64encode(figure_png(dx)).decode("ascii")
    parts = [
        "<!DOCTYPE html><html><head><meta charset='utf-8'>",
        f"<title>{e(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{e(title)}</h1>",
        f"<p>Verdict: <b class='{e(dx.verdict)}'>{e(dx.verdict)}</b> · {len(dx.layers)} layers · "
        f"loss: {e(dx.loss)} · schema <code>{e(dx.schema)}</code></p>",
        "<h2>Findings</h2>",
    ]
    if not dx.findings:
        parts.append("<p class='healthy'>No problems found.</p>")
    for f in dx.findings:
        parts.append(
            f"<div class='finding {e(f.severity)}'><b>[{e(f.kind)}]</b> {e(f.summary)}<br>"
            f"<i>cause:</i> {e(f.cause)}<br><i>fix:</i> <code>{e(f.fix)}</code>"
            + (f"<br><i>expected:</i> {e(f.expected)}" if f.expected else "")
            + "</div>"
        )
    for n in dx.notes:
        parts.append(f"<p><i>note:</i> {e(n)}</p>")
    parts.append(f"<h2>Figure</h2><img alt='doctor figure' src='data:image/png;base64,{png}'>")
    cols = [
        ("index", "#"),
        ("label", "Layer"),
        ("kind", "Kind"),
        ("mean", "Mean"),
        ("std", "Std Dev"),
        ("max_abs", "Max Abs"),
        ("gain", "Gain"),
        ("dead", "Dead"),
        ("saturated", "Sat"),
        ("grad_rms", "Grad RMS"),
        ("grad_weight_ratio", "‖∇W‖/‖W‖"),
        ("weight_std", "W std"),
        ("weight_ref_std", "ref std"),
        ("status", "Status"),
    ]
    parts.append(
        "<h2>Layers</h2><table><tr>" + "".join(f"<th>{e(c[1])}</th>" for c in cols) + "</tr>"
    )
    for r in dx.layers:
        cells = []
        for attr, _ in cols:
            v = getattr(r, attr)
            cls = r.status if attr == "status" else ("n" if isinstance(v, float | int) else "")
            cells.append(f"<td class='{cls}'>{_cell(v)}</td>")
        parts.append("<tr>" + "".join(cells) + "</tr>")
    parts.append("</table>")
    parts.append(
        "<h2>JSON</h2><details><summary>initlab.diagnosis/1</summary><pre>"
        + e(dx.to_json())
        + "</pre></details></body></html>"
    )
    return "\n".join(parts)


def write_diagnosis_html(dx: Any, path: str | Path, title: str | None = None) -> Path:
    """Write :func:`diagnosis_html` to ``path`` (parent folders created); return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(path, diagnosis_html(dx, title))
    return path


__all__ = ["diagnosis_html", "write_diagnosis_html"]


register_view(Diagnosis, "html", write_diagnosis_html)
