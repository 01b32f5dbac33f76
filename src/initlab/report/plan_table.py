"""The plan's table: one row per parameter (name, shape, scheme, fans, gain, std/bound, reason)
and the summary and warnings under it.

Registered in :mod:`initlab.views` as the ``"rich"`` and ``"text"`` views of
:class:`~initlab.model.plan.InitPlan` (``print(plan)``, ``rich.print(plan)``, the CLI).

Examples:
    >>> import torch, initlab
    >>> from torch import nn
    >>> p = initlab.plan(nn.Linear(4, 2), torch.randn(1, 4), policy="xavier")
    >>> "1 written" in plan_text(p) or "2 written" in plan_text(p)
    True
"""

from __future__ import annotations

import io
from typing import Any

from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from initlab.model.plan import InitPlan, PlanRow
from initlab.views import register_view


def _num(x: float | None) -> str:
    return "" if x is None else f"{x:g}"


def _spread(r: PlanRow) -> str:
    """What the values look like: ``= 0/1/0/0`` per gate, ``±bound``, ``= constant`` or std."""
    if r.scheme.kind == "gate_constant":
        return "= " + "/".join(f"{v:g}" for v in r.scheme.get("values", ()))
    if r.bound is not None:
        return f"±{r.bound:.4g}"
    if r.std == 0 and r.mean is not None:
        return f"= {r.mean:g}"
    return "" if r.std is None else f"{r.std:.4g}"


def _style(r: PlanRow) -> str | None:
    if r.status == "kept" and "unknown" in r.reason:
        return "yellow"
    return None if r.written else "dim"


def plan_renderable(plan: InitPlan, width: int = 200) -> Group:
    """The plan as a rich renderable; ``width`` ≥ 140 adds role, fans and gain columns."""
    wide = width >= 140
    t = Table(title=f"initlab plan: {plan.model} · policy {plan.policy!r}", show_lines=False)
    t.add_column("parameter", overflow="fold", ratio=3, min_width=12)
    t.add_column("shape", no_wrap=True)
    if wide:
        t.add_column("role", overflow="fold", ratio=1, min_width=6)
    t.add_column("scheme", overflow="fold", ratio=2, min_width=8)
    cols = ("fan_in", "fan_out", "gain", "std / bound") if wide else ("std / bound",)
    for col in cols:
        t.add_column(col, no_wrap=True, justify="right")
    t.add_column("reason", overflow="fold", ratio=4, min_width=12)
    for r in plan.rows:
        reason = r.reason if r.status in ("init", "kept") else f"[{r.status}] {r.reason}"
        name = r.name + (f" (= {', '.join(r.aliases)})" if r.aliases else "")
        shape = "×".join(map(str, r.shape))
        if wide:
            cells = [name, shape, r.role, str(r.scheme), _num(r.fan_in), _num(r.fan_out),
                     "" if r.gain is None else f"{r.gain:.4g}", _spread(r), reason]  # fmt: skip
        else:
            cells = [name, shape, str(r.scheme), _spread(r), reason]
        t.add_row(*cells, style=_style(r))
    s = plan.summary()
    parts: list[Any] = [t, Text(
        f"{s['init']} written ({s['elements_written']:,} values), {s['kept']} kept, "
        f"{s['frozen']} frozen, {s['pretrained']} pretrained, {s['skipped']} skipped"
    )]  # fmt: skip
    parts += [Text(f"warning: {w}", style="yellow") for w in plan.warnings]
    return Group(*parts)


def plan_text(plan: InitPlan, width: int = 100) -> str:
    """The plan's table as plain text (``str(plan)``): 100 columns, so that it fits a usual
    terminal; ``width=200`` adds the role, fans and gain columns."""
    buf = io.StringIO()
    Console(file=buf, width=width, color_system=None).print(plan_renderable(plan, width))
    return buf.getvalue()


register_view(InitPlan, "rich", plan_renderable)
register_view(InitPlan, "text", plan_text)

__all__ = ["plan_renderable", "plan_text"]
