"""Figures, table and HTML page of a coordinate check and a learning-rate transfer check
(:mod:`initlab.lab.coordcheck`). matplotlib's Agg backend; the page embeds the figures as
base64 PNGs (no external files).

Coordinate-check grid: one row per policy, one panel per step; each panel plots mean|x| against
width (log–log), one line per layer (colour by depth, seed mean). The panel title gives the
step and how many layers grow/shrink there.
Transfer figure: one panel per policy, final training loss against learning rate (log2), one line
per width, the best rate of each width marked.
"""

from __future__ import annotations

import base64
import html
import math
from pathlib import Path
from typing import Any

from rich.console import Group
from rich.table import Table
from rich.text import Text

from initlab.lab.coordcheck import CoordCheckResult, LRSweepResult
from initlab.report.figures import png_bytes, pyplot, save_png

_VERDICT_STYLE = {"stable": "green", "grows with width": "red", "shrinks with width": "yellow",
                  "not finite": "magenta", "transfers": "green", "optimum moves": "red"}


def coordcheck_figure(result: CoordCheckResult) -> Any:
    """The coordinate-check grid (policies × steps) as a matplotlib Figure."""
    plt = pyplot()
    pols, steps = result.policies, result.steps
    fig, axes = plt.subplots(len(pols), steps, figsize=(3.1 * steps + 2.6, 2.9 * len(pols)),
                             squeeze=False, sharex=True)
    cmap = plt.get_cmap("viridis")
    n = max(1, len(result.layers) - 1)
    ws = list(result.widths)
    for i, pol in enumerate(pols):
        for t in range(steps):
            ax = axes[i][t]
            grows = shrinks = 0
            for k, layer in enumerate(result.layers):
                vals = result.sizes[pol][layer][t]
                ys = [sum(v) / len(v) for v in vals]
                ok = [(w, y) for w, y in zip(ws, ys, strict=True) if math.isfinite(y) and y > 0]
                if ok:
                    xs, yv = zip(*ok, strict=True)
                    ax.plot(xs, yv, "-o", ms=2.5, lw=1.1, color=cmap(k / n),
                            label=layer if i == 0 and t == steps - 1 else None)
                v = result.slope(pol, layer, t).verdict
                grows += v == "grows with width"
                shrinks += v == "shrinks with width"
            ax.set_xscale("log", base=2)
            ax.set_yscale("log")
            ax.grid(True, which="both", alpha=0.25)
            what = []
            if grows:
                what.append(f"{grows} grow")
            if shrinks:
                what.append(f"{shrinks} shrink")
            colour = "#c0392b" if grows else "#b8860b" if shrinks else "#2a7d2a"
            ax.set_title(f"{pol} · step {t}: {', '.join(what) or 'flat'}", fontsize=9,
                         color=colour)
            if t == 0:
                ax.set_ylabel(f"{pol}\nmean |x|")
            if i == len(pols) - 1:
                ax.set_xlabel("width")
    handles, labels = axes[0][steps - 1].get_legend_handles_labels()
    if handles:
        shown = len(handles) if len(handles) <= 24 else 24
        fig.legend(handles[:shown], labels[:shown], loc="center right", fontsize=7,
                   title="layer", title_fontsize=8, frameon=False)
    verdicts = "; ".join(f"{p}: {v}" for p, v in result.verdicts.items())
    fig.suptitle(f"coordinate check: {result.model}, {result.optimizer} lr {result.lr:g}, "
                 f"{result.seeds} seed(s), {result.data} — {verdicts}", fontsize=10)
    fig.tight_layout(rect=(0, 0, 0.87 if handles else 1, 0.95))
    return fig


def lr_sweep_figure(result: LRSweepResult) -> Any:
    """Loss against learning rate per width, one panel per policy (Yang et al. 2022, Fig. 1)."""
    plt = pyplot()
    fig, axes = plt.subplots(1, len(result.policies), figsize=(5 * len(result.policies), 3.8),
                             squeeze=False, sharey=True)
    cmap = plt.get_cmap("plasma")
    nw = max(1, len(result.widths) - 1)
    finite = [v for p in result.policies for row in result.loss[p] for v in row
              if math.isfinite(v) and v > 0]
    for j, pol in enumerate(result.policies):
        ax = axes[0][j]
        for k, (w, row) in enumerate(zip(result.widths, result.loss[pol], strict=True)):
            colour = cmap(0.85 * k / nw)
            pts = [(lr, v) for lr, v in zip(result.lrs, row, strict=True) if math.isfinite(v)]
            if pts:
                xs, ys = zip(*pts, strict=True)
                ax.plot(xs, ys, "-o", ms=3, color=colour, label=f"width {w}")
            best = result.best_lr[pol][k]
            ax.axvline(best, color=colour, ls=":", lw=1)
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        if finite:
            ax.set_ylim(min(finite) * 0.7, max(finite) * 1.5)
        ax.set_xlabel("learning rate")
        colour = "#2a7d2a" if result.verdicts[pol] == "transfers" else "#c0392b"
        ax.set_title(f"{pol}: {result.verdicts[pol]} (optimum ×2^{result.shift[pol]:+.1f} "
                     f"from width {result.widths[0]} to {result.widths[-1]})", fontsize=9,
                     color=colour)
        ax.grid(True, which="both", alpha=0.25)
        ax.legend(fontsize=8)
    axes[0][0].set_ylabel(f"training loss (last 10% of {result.steps} steps)")
    fig.suptitle(f"learning-rate transfer: {result.model} on {result.data}, {result.optimizer}",
                 fontsize=10)
    fig.tight_layout()
    return fig


def plot_coordcheck(result: CoordCheckResult, path: str | Path) -> Path:
    """Save :func:`coordcheck_figure` as a PNG; returns the path."""
    return save_png(coordcheck_figure(result), path, dpi=110)


def plot_lr_sweep(result: LRSweepResult, path: str | Path) -> Path:
    """Save :func:`lr_sweep_figure` as a PNG; returns the path."""
    return save_png(lr_sweep_figure(result), path, dpi=110)


def _png(fig: Any) -> str:
    return base64.b64encode(png_bytes(fig, dpi=100)).decode()


def _fmt(x: float | None) -> str:
    return "—" if x is None else f"{x:+.2f}"


def coordcheck_table(result: CoordCheckResult) -> Any:
    """Rich renderable: slope per layer and step (± standard error) and verdict, per policy."""
    parts: list[Any] = []
    for pol in result.policies:
        verdicts = result.layer_verdicts(pol)
        t = Table(title=f"{pol}: slope of log mean|x| vs log width (threshold "
                        f"±{result.threshold:g})")
        t.add_column("layer", overflow="fold")
        for s in range(result.steps):
            t.add_column(f"step {s}", justify="right", no_wrap=True)
        t.add_column("verdict")
        for layer in result.layers:
            cells = []
            for s in range(result.steps):
                sl = result.slope(pol, layer, s)
                txt = _fmt(sl.slope) + (f"±{sl.se:.2f}" if sl.se and sl.slope is not None
                                        else "")
                cells.append(Text(txt, style=_VERDICT_STYLE.get(sl.verdict, "")))
            v = verdicts[layer]
            t.add_row(layer, *cells, Text(v, style=_VERDICT_STYLE.get(v, "")))
        parts.append(t)
    for pol, v in result.verdicts.items():
        parts.append(Text(f"{pol}: {v}", style="bold " + _VERDICT_STYLE.get(v, "")))
    return Group(*parts)


def lr_sweep_table(result: LRSweepResult) -> Any:
    """Rich renderable: best learning rate per width and the verdict, per policy."""
    t = Table(title="learning-rate transfer: best rate per width")
    t.add_column("policy")
    for w in result.widths:
        t.add_column(f"width {w}", justify="right")
    t.add_column("shift (log2)", justify="right")
    t.add_column("verdict")
    for pol in result.policies:
        v = result.verdicts[pol]
        t.add_row(pol, *(f"{b:.3g}" for b in result.best_lr[pol]), f"{result.shift[pol]:+.2f}",
                  Text(v, style=_VERDICT_STYLE.get(v, "")))
    return t


_CSS = """
body{font-family:system-ui,sans-serif;margin:2em;max-width:1300px;color:#222}
table{border-collapse:collapse;font-size:12px;margin:.5em 0 1.5em}
td,th{padding:2px 7px;border-bottom:1px solid #ddd}td.n{text-align:right;font-family:monospace}
.stable,.transfers{color:#2a7d2a}.grows,.moves{color:#c0392b}.shrinks{color:#b8860b}
img{max-width:100%}h2{margin-top:1.6em}
"""


def _cls(verdict: str) -> str:
    return verdict.split()[0].replace("optimum", "moves")


def coordcheck_html(result: CoordCheckResult, sweep: LRSweepResult | None = None,
                    title: str | None = None) -> str:
    """A self-contained HTML page: verdicts, the grid figure, the slope tables and (given) the
    transfer check."""
    e = html.escape
    title = title or f"initlab coordinate check: {result.model}"
    out = [f"<!doctype html><html><head><meta charset='utf-8'><title>{e(title)}</title>",
           f"<style>{_CSS}</style></head><body><h1>{e(title)}</h1>",
           f"<p>widths {', '.join(map(str, result.widths))}; {result.steps} steps of "
           f"{e(result.optimizer)} at lr {result.lr:g} on {e(result.data)}; {result.seeds} "
           f"seed(s); base width {result.base_width}. Slope = d log mean|x| / d log width, "
           f"fitted per seed; a layer grows (shrinks) when the seed mean is above (below) "
           f"±{result.threshold:g} and two standard errors from 0.</p><ul>"]
    for pol, v in result.verdicts.items():
        out.append(f"<li><b>{e(pol)}</b>: <span class='{_cls(v)}'>{e(v)}</span></li>")
    out.append("</ul>")
    out.append(f"<img alt='coordinate check' src='data:image/png;base64,"
               f"{_png(coordcheck_figure(result))}'>")
    for pol in result.policies:
        verdicts = result.layer_verdicts(pol)
        out.append(f"<h2>{e(pol)}: slopes per layer and step</h2><table><tr><th>layer</th>")
        out += [f"<th>step {s}</th>" for s in range(result.steps)]
        out.append("<th>verdict</th></tr>")
        for layer in result.layers:
            out.append(f"<tr><td>{e(layer)}</td>")
            for s in range(result.steps):
                sl = result.slope(pol, layer, s)
                se = f" ± {sl.se:.2f}" if sl.se and sl.slope is not None else ""
                out.append(f"<td class='n {_cls(sl.verdict)}'>{_fmt(sl.slope)}{se}</td>")
            v = verdicts[layer]
            out.append(f"<td class='{_cls(v)}'>{e(v)}</td></tr>")
        out.append("</table>")
    if sweep is not None:
        out.append("<h2>learning-rate transfer</h2>")
        out.append(f"<img alt='lr sweep' src='data:image/png;base64,"
                   f"{_png(lr_sweep_figure(sweep))}'><table><tr><th>policy</th>")
        out += [f"<th>best lr, width {w}</th>" for w in sweep.widths]
        out.append("<th>shift (log2)</th><th>verdict</th></tr>")
        for pol in sweep.policies:
            v = sweep.verdicts[pol]
            out.append(f"<tr><td>{e(pol)}</td>"
                       + "".join(f"<td class='n'>{b:.3g}</td>" for b in sweep.best_lr[pol])
                       + f"<td class='n'>{sweep.shift[pol]:+.2f}</td>"
                       f"<td class='{_cls(v)}'>{e(v)}</td></tr>")
        out.append("</table>")
    out.append("</body></html>")
    return "".join(out)


def write_coordcheck_html(result: CoordCheckResult, path: str | Path,
                          sweep: LRSweepResult | None = None) -> Path:
    """Write :func:`coordcheck_html` to ``path``; returns the path."""
    from initlab.files import write_text_atomic

    Path(path).parent.mkdir(parents=True, exist_ok=True)
    return write_text_atomic(path, coordcheck_html(result, sweep))


__all__ = ["coordcheck_figure", "coordcheck_html", "coordcheck_table", "lr_sweep_figure",
           "lr_sweep_table", "plot_coordcheck", "plot_lr_sweep", "write_coordcheck_html"]
