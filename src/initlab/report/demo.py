"""Presentation of a demo run: the seeds' table per (activation, scheme) with the doctor's
verdict and first finding, an overview table per activation, a figure of std vs depth (log scale,
one line per scheme) and CS231n-style histogram grids."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from rich import box
from rich.console import Group
from rich.table import Table
from rich.text import Text

from initlab.lab.demo import DEMO_SCHEMES, DemoCurve, DemoResult
from initlab.report.doctor_table import STATUS_STYLE, sci
from initlab.report.figures import layer_axis, pyplot, save_png

_EDGE = 3  # layers shown at each end of the table


def _fmt(v: float) -> str:
    if v == 0:
        return "0"
    if not math.isfinite(v):
        return str(v)
    return f"{v:.2e}" if (abs(v) < 1e-2 or abs(v) >= 1e3) else f"{v:.3f}"




def verdict(c: DemoCurve) -> tuple[str, str]:
    """The doctor's verdict for a curve and its colour."""
    return c.verdict, STATUS_STYLE.get(c.verdict, "")


def _seeds_table(result: DemoResult, c: DemoCurve) -> Table:
    """The seeds' signal-propagation table (Layer | Mean | Std Dev | Max Abs | Status) plus the
    gradient rms, for the input, the first and the last hidden layers."""
    depth = len(c.act_std)
    t = Table(
        title=Text.assemble((f"{c.activation} · {c.scheme}", "bold"), " — ",
                            (c.verdict, STATUS_STYLE.get(c.verdict, ""))),
        title_justify="left",
        box=box.SIMPLE_HEAD,
        padding=(0, 1),
    )
    for col in ("Layer", "Mean", "Std Dev", "Max Abs", "Grad RMS", "Status"):
        t.add_column(col, justify="left" if col in ("Layer", "Status") else "right", no_wrap=True)
    dx = c.diagnosis
    if dx is not None and dx.input is not None:
        i = dx.input
        t.add_row("Input", sci(i.mean), sci(i.std), sci(i.max_abs), sci(i.grad_rms), "")
    shown = sorted(set(range(min(_EDGE - 1, depth))) | {depth - 1})
    for j, k in enumerate(shown):
        if j and k != shown[j - 1] + 1:
            t.add_row(f"... {k - shown[j - 1] - 1} more ...", "", "", "", "", "")
        st = c.statuses[k] if k < len(c.statuses) else ""
        t.add_row(
            f"Hidden {k + 1}", sci(c.act_mean[k]), sci(c.act_std[k]), sci(c.act_max_abs[k]),
            sci(c.grad_std[k]), Text(st.capitalize(), style=STATUS_STYLE.get(st, "")),
        )
    return t


def demo_tables(result: DemoResult) -> Group:
    """Per (activation, scheme): the seeds' table and the doctor's first finding; then one
    overview table per activation (a column per scheme: first/last layers, ×/layer, verdict)."""
    items: list = []
    for c in result.curves:
        items.append(_seeds_table(result, c))
        for f in c.findings[:1]:
            items.append(Text("  " + f, style="dim"))
    depth = result.depth
    shown = sorted(set(range(min(_EDGE, depth))) | set(range(max(0, depth - _EDGE), depth)))
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
            ("gradient rms", "grad_std", "grad_factor"),
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
        items.append(t)
    notes = Text(
        "×/layer: geometric-mean change of the std per layer (activations input→output, "
        "gradients output→input); ×1.000 is a healthy start. Verdicts: initlab.doctor "
        "(initlab doctor --help; docs/doctor.md).\n"
        + "\n".join(f"  {name}: {desc}" for name, (_, desc) in DEMO_SCHEMES.items()),
        style="dim",
    )
    return Group(*items, notes)


def _short(v: float) -> str:
    """A tick label of at most 6 characters: 0, 0.5, 12, 3e+53."""
    if v == 0:
        return "0"
    return f"{v:.2g}" if 1e-2 <= abs(v) < 1e3 else f"{v:.0e}"


def demo_histograms(result: DemoResult, path: str | Path, activation: str,
                    columns: int = 6, dpi: int = 90) -> Path:
    """Save :func:`demo_histograms_figure` as a PNG at ``path``; return the path."""
    return save_png(demo_histograms_figure(result, activation, columns), path, dpi=dpi)


def demo_histograms_figure(result: DemoResult, activation: str, columns: int = 6) -> Any:
    """CS231n-style grid for one activation: a row per scheme, a column per layer (evenly spaced
    through depth), each panel the histogram of that layer's activations.

    Each panel has its own x range (±max|x|, or [0, max] for non-negative values such as ReLU
    outputs; ticks at the ends and at 0), since the
    scales differ by up to 1e50 between layers of one row (N(0, 1) on ReLU); the σ in each title
    carries the scale. A layer whose values are all exactly 0 or not finite says so in words.
    """
    import numpy as np

    plt = pyplot()
    curves = [c for c in result.curves if c.activation == activation and c.diagnosis is not None]
    fig, axes = plt.subplots(len(curves), columns, figsize=(1.9 * columns, 1.5 * len(curves)),
                             squeeze=False)
    for r, c in enumerate(curves):
        dx = c.diagnosis
        rows = [x for x in dx.layers if x.role == "activation" and x.index in dx.samples]
        picks = [rows[round(k * (len(rows) - 1) / max(columns - 1, 1))] for k in range(columns)]
        for k, x in enumerate(picks):
            ax = axes[r][k]
            raw = np.asarray(dx.samples[x.index], dtype=np.float64)
            v = raw[np.isfinite(raw)]
            lim = float(np.abs(v).max()) if len(v) else 0.0
            ax.set_yticks([])
            ax.tick_params(labelsize=6)
            pos = rows.index(x) + 1
            if not len(v) or lim == 0:
                word = "not finite" if not len(v) and len(raw) else "all exactly 0"
                ax.text(0.5, 0.5, word, ha="center", va="center", fontsize=7,
                        transform=ax.transAxes, color="#555")
                ax.set_xticks([])
                ax.set_title(f"layer {pos}", fontsize=7)
            else:
                lo, hi = min(float(v.min()), 0.0), max(float(v.max()), 0.0)
                if lo < 0 < hi:  # both signs: symmetric, so that 0 sits in the middle
                    lo, hi = -lim, lim
                ax.hist(v, bins=30, range=(lo, hi), color="#1f77b4")
                ax.set_xlim(lo, hi)
                ticks = [t for t in (lo, 0.0, hi) if t != 0] + [0.0]
                ax.set_xticks(sorted(ticks), [_short(t) for t in sorted(ticks)])
                ax.set_title(f"layer {pos}: σ {x.std:.1e}", fontsize=7)
            if k == 0:
                ax.set_ylabel(f"{c.scheme}\n{c.verdict}", fontsize=8)
    fig.suptitle(f"{activation}: activation histograms through depth (x range per panel: "
                 "its own max|x|)", fontsize=10)
    fig.tight_layout()
    return fig


def demo_figure(result: DemoResult, path: str | Path, dpi: int = 110) -> Path:
    """Save :func:`demo_depth_figure` as a PNG at ``path``; return the path."""
    return save_png(demo_depth_figure(result), path, dpi=dpi)


def demo_depth_figure(result: DemoResult) -> Any:
    """Std vs depth on a log axis, one line per scheme; one row per activation, columns for the
    activations and the gradients. Exact zeros are drawn on a floor line and labelled."""
    plt = pyplot()
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
            layer_axis(ax)
            ax.grid(True, which="major", alpha=0.3)
    handles: dict[str, tuple[object, str]] = {}  # one legend for all panels, off the data
    for ax in axes.flat:
        for h, lab in zip(*ax.get_legend_handles_labels(), strict=True):
            handles.setdefault(lab.split(" (")[0], (h, lab))  # one entry per scheme
    fig.legend([h for h, _ in handles.values()], [lab for _, lab in handles.values()],
               loc="upper center",
               bbox_to_anchor=(0.5, 0.965), ncol=min(len(handles), 6), fontsize=8, frameon=False)
    fig.suptitle(
        f"Signal through depth at initialization ({result.depth}×{result.width} MLP)", y=0.995
    )
    fig.tight_layout(rect=(0, 0, 1, 0.93))
    return fig


__all__ = [
    "demo_depth_figure", "demo_figure", "demo_histograms", "demo_histograms_figure",
    "demo_tables", "verdict",
]
