"""Presentation of a demo run: rich tables (first and last layers, one summary per scheme) and a
figure of std vs depth (log scale, one line per scheme)."""

from __future__ import annotations

import math
from pathlib import Path

from rich.console import Group
from rich.table import Table
from rich.text import Text

from initlab.lab.demo import DEMO_SCHEMES, DemoCurve, DemoResult

_EDGE = 3  # layers shown at each end of the table


def _fmt(v: float) -> str:
    if v == 0:
        return "0"
    if not math.isfinite(v):
        return str(v)
    return f"{v:.2e}" if (abs(v) < 1e-2 or abs(v) >= 1e3) else f"{v:.3f}"


def verdict(c: DemoCurve) -> tuple[str, str]:
    """A one-word reading of a curve and its colour (the doctor gives the full diagnosis)."""
    acts, grads = c.act_std, c.grad_std
    if not all(map(math.isfinite, acts + grads)):
        return "non-finite", "red"
    if max(acts) == 0:
        return "zero", "red"
    fa, fg = c.act_factor, c.grad_factor
    depth = len(acts)
    total_a = fa ** (depth - 1) if math.isfinite(fa) else float("nan")
    total_g = fg ** (depth - 1) if math.isfinite(fg) else float("nan")
    if c.activation in ("tanh", "sigmoid") and acts[-1] > 0.9:
        return "saturated", "red"
    if total_a < 1e-2 or total_g < 1e-2:
        return "vanishing", "red"
    if total_a > 1e2 or total_g > 1e2:
        return "exploding", "red"
    if total_a < 0.2 or total_g < 0.2 or total_a > 5 or total_g > 5:
        return "drifting", "yellow"
    return "healthy", "green"


def demo_tables(result: DemoResult) -> Group:
    """One table per activation: a column per scheme; rows are the first and last layers'
    activation std, then their gradient std, each followed by the per-layer factor, and a
    verdict row."""
    depth = result.depth
    shown = sorted(set(range(min(_EDGE, depth))) | set(range(max(0, depth - _EDGE), depth)))
    tables = []
    for act in dict.fromkeys(c.activation for c in result.curves):
        curves = [c for c in result.curves if c.activation == act]
        t = Table(
            title=f"{act}: {depth} layers × {result.width} units, batch {result.batch}",
            title_justify="left",
            header_style="bold",
        )
        t.add_column("layer", style="dim")
        for c in curves:
            t.add_column(c.scheme, justify="right")
        for label, attr, fac_attr in (
            ("activation std", "act_std", "act_factor"),
            ("gradient std", "grad_std", "grad_factor"),
        ):
            t.add_row(Text(label, style="bold cyan"), *[""] * len(curves))
            for j, i in enumerate(shown):
                if j and i != shown[j - 1] + 1:
                    t.add_row("…", *["…"] * len(curves))
                t.add_row(f"L{i + 1}", *[_fmt(getattr(c, attr)[i]) for c in curves])
            facs = [getattr(c, fac_attr) for c in curves]
            t.add_row(
                "×/layer",
                *["—" if not math.isfinite(f) else f"×{f:.3f}" for f in facs],
                end_section=True,
            )
        words = [verdict(c) for c in curves]
        t.add_row("verdict", *[Text(w, style=colour) for w, colour in words])
        tables.append(t)
    notes = Text(
        "×/layer: geometric-mean change of the std per layer (activations input→output, "
        "gradients output→input); ×1.000 is a healthy start.\n"
        + "\n".join(f"  {name}: {desc}" for name, (_, desc) in DEMO_SCHEMES.items()),
        style="dim",
    )
    return Group(*tables, notes)


def demo_figure(result: DemoResult, path: str | Path) -> Path:
    """Std vs depth on a log axis, one line per scheme; one row per activation, columns for the
    activations and the gradients. Exact zeros are drawn on a floor line and labelled."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    acts = list(dict.fromkeys(c.activation for c in result.curves))
    fig, axes = plt.subplots(len(acts), 2, figsize=(11, 3.6 * len(acts)), squeeze=False)
    layers = list(range(1, result.depth + 1))
    for r, act in enumerate(acts):
        for col, (attr, title) in enumerate(
            (("act_std", "activation std"), ("grad_std", "gradient std (dL/dh)"))
        ):
            ax = axes[r][col]
            curves = [c for c in result.curves if c.activation == act]
            positive = [v for c in curves for v in getattr(c, attr) if v > 0 and math.isfinite(v)]
            floor = min(positive) / 1e3 if positive else 1e-300
            has_zero = False
            for c in curves:
                raw = getattr(c, attr)
                vals = [v if v > 0 else floor for v in raw]
                zero = any(v == 0 for v in raw)
                has_zero = has_zero or zero
                label = c.scheme + (" (all zero)" if max(raw) == 0 else "")
                ax.plot(layers, vals, label=label, lw=1.6, ls="--" if zero else "-")
            if has_zero:
                ax.axhline(floor, color="grey", lw=0.6)
                ax.annotate("exact 0", (1, floor), textcoords="offset points", xytext=(2, 3),
                            fontsize=7, color="grey")
            ax.set_yscale("log")
            ax.set_title(f"{act}: {title}")
            ax.set_xlabel("layer")
            ax.grid(True, which="major", alpha=0.3)
            if col == 0:
                ax.legend(fontsize=8)
    fig.suptitle(
        f"Signal through depth at initialization ({result.depth}×{result.width} MLP)", y=1.0
    )
    fig.tight_layout()
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return path


__all__ = ["demo_figure", "demo_tables", "verdict"]
