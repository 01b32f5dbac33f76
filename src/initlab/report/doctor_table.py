"""The doctor's table: the seeds' columns (Layer | Mean | Std Dev | Max Abs | Status) plus the
gradient columns, and the findings under it.

Used by ``Diagnosis.__rich__`` / ``__str__`` (imported lazily there) and by the CLI.

Examples:
    >>> sci(0.523), sci(0.0), sci(float("nan"))
    ('5.23e-1', '0.00e+0', '—')
"""

from __future__ import annotations

import math
from typing import Any

from rich import box
from rich.console import Console, ConsoleOptions, Group, RenderResult
from rich.table import Table
from rich.text import Text

from initlab.probe.diagnosis import Diagnosis
from initlab.views import register_view

STATUS_STYLE = {  # rich style of each doctor status (shared by the demo's tables)
    "healthy": "green",
    "vanishing": "yellow",
    "exploding": "red",
    "saturated": "magenta",
    "dead": "bright_black",
    "symmetric": "cyan",
    "nonfinite": "bold red",
}


def sci(v: float | None) -> str:
    """Numbers as the seeds' table writes them: 5.23e-1 (mantissa, exponent without padding)."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "—"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    m, e = f"{v:.2e}".split("e")
    return f"{m}e{int(e):+d}"


def _pct(v: float | None) -> str:
    return "" if v is None else f"{100 * v:.0f}%"


def _status_text(r: Any, compact: bool) -> Text:
    word = r.status.capitalize()
    if compact and r.status == "dead" and r.dead is not None:
        word += f" {100 * r.dead:.0f}%"
    if compact and r.status == "saturated" and r.saturated is not None:
        word += f" {100 * r.saturated:.0f}%"
    return Text(word, style=STATUS_STYLE.get(r.status, ""))


def layer_table(dx: Any, max_rows: int = 60, title: str | None = None, width: int = 140) -> Table:
    """Rich table of a Diagnosis; long models show the first and last rows with a gap line.

    Below 110 columns of ``width`` the table keeps the seeds' columns plus the gradient rms
    (dead/saturated shares go into the status cell); wider, it adds gain, dead, saturated and
    ‖∇W‖/‖W‖.
    """
    compact = width < 110
    t = Table(
        title=title or f"initlab doctor: {dx.model} — {dx.verdict}",
        title_justify="left",
        box=box.SIMPLE_HEAD if compact else box.HEAVY_HEAD,
        padding=(0, 1),
    )
    cols = [
        ("#", "right"),
        ("Layer", "left"),
        ("Mean", "right"),
        ("Std Dev", "right"),
        ("Max Abs", "right"),
    ]
    if not compact:
        cols += [("Gain", "right"), ("Dead", "right"), ("Sat", "right")]
    cols += [("Grad RMS", "right")]
    if not compact:
        cols += [("‖∇W‖/‖W‖", "right")]
    cols += [("Status", "left")]
    for col, just in cols:
        t.add_column(col, justify=just, no_wrap=col != "Layer", overflow="fold")

    def cells(r: Any) -> list[Any]:
        name = f"{r.label} ({r.activation or r.kind})"
        row: list[Any] = [str(r.index), name, sci(r.mean), sci(r.std), sci(r.max_abs)]
        if not compact:
            row += ["" if r.gain is None else f"{r.gain:.2f}", _pct(r.dead), _pct(r.saturated)]
        row.append(sci(r.grad_rms))
        if not compact:
            row.append(sci(r.grad_weight_ratio))
        row.append(_status_text(r, compact))
        return row

    if dx.input is not None and dx.input.floating:
        i = dx.input
        first = ["", "Input", sci(i.mean), sci(i.std), sci(i.max_abs)]
        first += ["", "", ""] if not compact else []
        first += [sci(i.grad_rms)] + ([""] if not compact else []) + [Text("input", style="dim")]
        t.add_row(*first)
    rows = list(dx.layers)
    if len(rows) > max_rows:
        head, tail = rows[: max_rows // 2], rows[-max_rows // 2 :]
        gap = len(rows) - len(head) - len(tail)
    else:
        head, tail, gap = rows, [], 0
    for part in (head, tail):
        for r in part:
            t.add_row(*cells(r))
        if part is head and gap:
            t.add_row("", f"... {gap} more layers ...", *[""] * (len(cols) - 2))
    return t


class DiagnosisView:
    """Renderable of a Diagnosis that picks its table layout from the console width."""

    def __init__(self, dx: Any, max_rows: int = 60) -> None:
        self.dx = dx
        self.max_rows = max_rows

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield layer_table(self.dx, self.max_rows, width=options.max_width)
        yield findings_renderable(self.dx)


def findings_renderable(dx: Any) -> Group:
    items: list[Any] = []
    if not dx.findings:
        items.append(
            Text("No problems found: signal and gradient flow look healthy.", style="green")
        )
    for f in dx.findings:
        style = "red" if f.severity == "problem" else "yellow"
        items.append(Text.assemble((f"[{f.kind}] ", f"bold {style}"), f.summary))
        items.append(Text(f"    cause: {f.cause}"))
        items.append(Text(f"    fix:   {f.fix}", style="bold"))
        if f.expected:
            items.append(Text(f"    expected: {f.expected}", style="dim"))
    for n in dx.notes:
        items.append(Text(f"note: {n}", style="dim"))
    return Group(*items)


def diagnosis_renderable(dx: Any) -> DiagnosisView:
    return DiagnosisView(dx)


def render_text(dx: Any, width: int = 140) -> str:
    """The table and findings as plain text (``str(dx)``)."""
    console = Console(width=width, record=True, color_system=None, force_terminal=False)
    with console.capture() as cap:
        console.print(diagnosis_renderable(dx))
    return cap.get()


__all__ = [
    "DiagnosisView",
    "diagnosis_renderable",
    "findings_renderable",
    "layer_table",
    "render_text",
    "sci",
]


register_view(Diagnosis, "rich", diagnosis_renderable)
register_view(Diagnosis, "text", render_text)
