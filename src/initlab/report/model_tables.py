"""Tables of the model layer's other results: the LSUV report and the μP table.

Registered in :mod:`initlab.views` as the ``"rich"`` and ``"text"`` views of
:class:`~initlab.model.lsuv.LSUVReport` and :class:`~initlab.model.mup.MuTable`
(``print(report)``, ``rich.print(table)``).

Examples:
    >>> import torch, initlab
    >>> from torch import nn
    >>> r = initlab.lsuv(nn.Sequential(nn.Linear(8, 8), nn.Tanh()), torch.randn(64, 8))
    >>> "LSUV: target std 1.0" in lsuv_text(r)
    True
"""

from __future__ import annotations

import io
from typing import Any

from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from initlab.model.lsuv import LSUVReport
from initlab.model.mup import MuTable
from initlab.views import register_view


def _text(renderable: Any, width: int) -> str:
    buf = io.StringIO()
    Console(file=buf, width=width, color_system=None).print(renderable)
    return buf.getvalue()


def lsuv_renderable(report: LSUVReport) -> Table:
    """One row per LSUV layer: iterations, std before and after, the scale, converged."""
    t = Table(title=f"LSUV: target std {report.target_std}, tol {report.tol}, "
              f"{report.forward_passes} forward + {report.layer_calls} layer calls")
    for c in ("layer", "type", "iterations", "initial std", "final std", "scale", "ok"):
        t.add_column(c)
    for layer in report.layers:
        t.add_row(layer.name, layer.type, str(layer.iterations), f"{layer.initial_std:.4g}",
                  f"{layer.final_std:.4g}", f"{layer.scale:.4g}",
                  "yes" if layer.converged else "[red]no[/red]")
    return t


def lsuv_text(report: LSUVReport, width: int = 120) -> str:
    """The LSUV table as plain text (``str(report)``)."""
    return _text(lsuv_renderable(report), width)


def mu_table_renderable(table: MuTable) -> Group:
    """One row per parameter (class, m_in, m_out, init std, lr and forward multipliers), then
    the forward changes μP makes."""
    t = Table(title=f"μP table · optimizer {table.optimizer}")
    for col in ("parameter", "shape", "class", "m_in", "m_out", "init std", "lr ×", "fwd ×"):
        t.add_column(col, justify="right" if col not in ("parameter", "class") else "left")
    for r in table.rows:
        t.add_row(r.name, "×".join(map(str, r.shape)), r.cls, f"{r.m_in:g}", f"{r.m_out:g}",
                  "" if r.std is None else f"{r.std:.4g}", f"{r.lr_mult:.4g}",
                  f"{r.multiplier:.4g}")
    return Group(t, *(Text(f"forward: {f.text}", style="yellow") for f in table.forward_changes))


def mu_table_text(table: MuTable, width: int = 120) -> str:
    """The μP table as plain text (``str(table)``)."""
    return _text(mu_table_renderable(table), width)


register_view(LSUVReport, "rich", lsuv_renderable)
register_view(LSUVReport, "text", lsuv_text)
register_view(MuTable, "rich", mu_table_renderable)
register_view(MuTable, "text", mu_table_text)

__all__ = ["lsuv_renderable", "lsuv_text", "mu_table_renderable", "mu_table_text"]
