"""The rich view of a :class:`initlab.lab.check.CheckResult` (``initlab check``)."""

from __future__ import annotations

from typing import Any

from rich.console import Group
from rich.table import Table
from rich.text import Text


def _ok(flag: bool) -> Text:
    return Text("ok", style="green") if flag else Text("FAIL", style="bold red")


def check_renderable(result: Any) -> Group:
    """A table (one row per shape: expected and measured variance, ratio ± tolerance, mean,
    KS p-value, the fan the values imply) and the verdict with the likely mistake.

    Examples:
        >>> from rich.console import Console
        >>> from initlab.lab.check import check_initializer
        >>> from initlab.lab.check_examples import xavier_normal
        >>> Console(width=120, file=open("/dev/null", "w")).print(
        ...     check_renderable(check_initializer(xavier_normal)))
    """
    t = Table(
        title=f"{result.function} vs {result.scheme}: {result.formula}  ({result.source})",
        title_justify="left",
    )
    t.add_column("layer", min_width=14, ratio=1)
    for col in ("fan_in", "fan_out", "Var exp.", "Var meas.", "ratio ± tol", "mean", "KS p",
                "n implied"):
        t.add_column(col, justify="right", no_wrap=True)
    for c in result.shapes:
        t.add_row(
            c.layer, f"{c.fan_in:g}", f"{c.fan_out:g}", f"{c.expected_var:.3g}",
            f"{c.measured_var:.3g}",
            Text.assemble(f"{c.ratio:.3f} ± {c.ratio_tol:.3f} ", _ok(c.var_ok)),
            Text.assemble(f"{c.mean:+.1e} ", _ok(c.mean_ok)),
            Text.assemble(f"{c.ks_p:.2g} ", _ok(c.ks_ok)),
            f"{c.implied_fan:.4g}",
        )
    if result.ok:
        head = Text("CORRECT: ", style="bold green")
    else:
        head = Text(f"WRONG ({result.mistake}): ", style="bold red")
    head.append(result.explanation)
    note = Text(
        f"called as {result.call}; tolerances: {result.to_dict()['z']:g} standard errors from "
        f"each shape's sample size, KS α = {result.to_dict()['ks_alpha']:g}; seed {result.seed}",
        style="dim",
    )
    return Group(t, head, note)


__all__ = ["check_renderable"]
