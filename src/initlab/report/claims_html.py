"""Self-contained HTML report of the claim experiments: the verdict table, then per claim the
claim in the texts' words, its sources, the reason for the verdict, the effects with their
standard errors, and the figure as a base64 PNG (no external files, scripts or fonts).

Examples:
    >>> from initlab.lab.claims import run_claim
    >>> r = run_claim("linear_variance", widths=(16,), variances=(1.0,), depth=3, seeds=2)
    >>> "data:image/png;base64," in claims_html([r])
    True
"""

from __future__ import annotations

import base64
import html
import math
from collections.abc import Sequence
from pathlib import Path

from initlab.files import write_text_atomic
from initlab.lab.experiment import ExperimentResult
from initlab.report.claims_figures import claim_png, effect_text

_CSS = """
body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1200px;color:#222;padding:0 1em}
table{border-collapse:collapse;font-size:14px;margin:.5em 0}
td,th{padding:3px 10px;border-bottom:1px solid #ddd;text-align:left;vertical-align:top}
td.n{text-align:right;font-family:monospace}
.supported{color:#1a7f1a;font-weight:bold}.partly{color:#b8860b;font-weight:bold}
.not-supported{color:#c0392b;font-weight:bold}
blockquote{margin:.5em 0;padding:.4em .8em;border-left:4px solid #999;background:#f7f7f7}
section{margin:2.5em 0;border-top:2px solid #eee;padding-top:1em}
img{max-width:100%}code{background:#f0f0f0;padding:1px 4px}
"""


def _cls(r: ExperimentResult) -> str:
    return r.verdict.value.replace(" ", "-")


def _num(v: float) -> str:
    return f"{v:.4g}" if math.isfinite(v) else str(v)


def claims_html(results: Sequence[ExperimentResult], title: str = "initlab claims") -> str:
    """The report as one HTML string."""
    e = html.escape
    parts = [
        "<!DOCTYPE html><html><head><meta charset='utf-8'>",
        f"<title>{e(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{e(title)}</h1>",
        "<p>Each claim the texts make about initialization, run as an experiment; the verdict is "
        "computed from the measured effects and their standard errors over seeds "
        "(docs/claims.md explains each experiment).</p>",
        "<table><tr><th>claim</th><th>verdict</th><th>key effect (± s.e.)</th><th>s</th></tr>",
    ]
    for r in results:
        eff = r.effects[0] if r.effects else None
        key = f"{eff.name}: {effect_text(eff)}" if eff is not None else "—"
        parts.append(
            f"<tr><td><a href='#{e(r.name)}'>{e(r.name)}</a><br><small>{e(r.title)}</small></td>"
            f"<td class='{_cls(r)}'>{e(r.verdict.value)}</td><td>{e(key)}</td>"
            f"<td class='n'>{r.elapsed_s:.1f}</td></tr>"
        )
    parts.append("</table>")
    for r in results:
        png = base64.b64encode(claim_png(r)).decode("ascii")
        parts += [
            f"<section id='{e(r.name)}'><h2>{e(r.title)}</h2>",
            f"<p>Verdict: <span class='{_cls(r)}'>{e(r.verdict.value)}</span> — {e(r.reason)}</p>",
            f"<blockquote>{e(r.claim)}</blockquote>",
            f"<p><i>Sources:</i> {e(r.source)}</p>",
            "<table><tr><th>effect</th><th>measured</th><th>± s.e.</th><th>predicted</th>"
            "<th>seeds</th><th>note</th></tr>",
        ]
        for ef in r.effects:
            parts.append(
                f"<tr><td>{e(ef.name)}</td><td class='n'>{_num(ef.value)}</td>"
                f"<td class='n'>{f'{ef.stderr:.2g}' if ef.stderr_known else '—'}</td>"
                f"<td class='n'>{'—' if ef.target is None else _num(ef.target)}</td>"
                f"<td class='n'>{ef.n}</td><td>{e(ef.note)}</td></tr>"
            )
        parts.append("</table>")
        parts.append(f"<img alt='{e(r.name)} figure' src='data:image/png;base64,{png}'>")
        settings = ", ".join(f"{k}={v}" for k, v in r.settings.items())
        parts.append(f"<p><small>settings: <code>{e(settings)}</code> · "
                     f"{r.elapsed_s:.1f} s</small></p></section>")
    parts.append("</body></html>")
    return "\n".join(parts)


def write_claims_html(results: Sequence[ExperimentResult], path: str | Path,
                      title: str = "initlab claims") -> Path:
    """Write :func:`claims_html` to ``path`` (parent folders created); return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(path, claims_html(results, title))
    return path


__all__ = ["claims_html", "write_claims_html"]
