"""Figures of a Diagnosis (matplotlib, Agg backend, no display needed).

Top row: activation std and gradient rms vs depth (log scale), one line per record role
(parameterized layers' outputs, activation outputs), coloured points where a layer is not healthy.
Bottom row: per-layer histograms of the activations, in the style of the CS231n figure (one small
panel per layer, evenly spaced through depth, with each layer's mean and std in its title).

Examples:
    >>> import torch, initlab, tempfile, pathlib
    >>> from torch import nn
    >>> dx = initlab.doctor(nn.Sequential(nn.Linear(8, 8), nn.Tanh()), torch.randn(16, 8))
    >>> p = plot_diagnosis(dx, pathlib.Path(tempfile.mkdtemp()) / "dx.png")
    >>> p.stat().st_size > 0
    True
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from initlab.probe.diagnosis import Diagnosis
from initlab.report.figures import png_bytes, pyplot, save_png
from initlab.views import register_view

_COLORS = {
    "vanishing": "#d4a017",
    "exploding": "#d62728",
    "saturated": "#9467bd",
    "dead": "#555555",
    "symmetric": "#17becf",
    "nonfinite": "#000000",
}




def _short_label(label: str, room: int = 20) -> str:
    """``label`` cut to ``room`` characters, keeping its end (the most specific part)."""
    return label if len(label) <= room else "…" + label[-(room - 1):]


def _depth_axes(ax: Any, dx: Any, attr: str, title: str) -> None:
    """One depth panel on a log axis. Exact zeros are drawn on a floor line and non-finite
    values as crosses along the top edge, each with its own legend entry, never as numbers."""
    from matplotlib.ticker import MaxNLocator

    rows = dx.layers
    # a non-finite layer's statistics over its finite part (σ 0 of nothing) are no measurement
    # (the forward pass of a layer is not finite when its mean is not)
    vals = [math.nan if (attr == "std" and not math.isfinite(r.mean)) else getattr(r, attr)
            for r in rows]
    good = [v for v in vals if v is not None and math.isfinite(v) and v > 0]
    floor = min(good) / 10 if good else 1e-3
    top_y = max(good) * 10 if good else 1.0
    for role in ("param", "activation"):
        pts = [(r.index, v) for r, v in zip(rows, vals, strict=True)
               if r.role == role and v is not None]
        if not pts:
            continue
        xs = [p[0] for p in pts]
        ys = [v if math.isfinite(v) and v > 0 else (floor if v == 0 else math.nan)
              for _, v in pts]  # NaN breaks the line where the value is not finite
        ax.plot(xs, ys, "-", marker="." if len(xs) <= 60 else None, ms=4, lw=1.2,
                label="layer outputs" if role == "param" else "activation outputs",
                alpha=0.6 if role == "param" else 1.0)
    for status, color in _COLORS.items():
        if status == "nonfinite":
            continue
        bad = [(r.index, v) for r, v in zip(rows, vals, strict=True)
               if r.status == status and v is not None and math.isfinite(v)]
        if bad:
            ax.scatter([b[0] for b in bad], [v if v > 0 else floor for _, v in bad],
                       s=14, color=color, zorder=3, label=status)
    zeros = [r.index for r, v in zip(rows, vals, strict=True) if v == 0]
    if zeros:
        ax.axhline(floor, color="grey", lw=0.6, ls="--", label="exactly 0 (drawn at the floor)")
    nonfinite = [r.index for r, v in zip(rows, vals, strict=True)
                 if v is not None and not math.isfinite(v)]
    if nonfinite:
        ax.scatter(nonfinite, [top_y] * len(nonfinite), marker="x", s=22, color="#000000",
                   zorder=4, label="not finite (drawn at the top)")
    if dx.input is not None and attr == "std" and dx.input.std and math.isfinite(dx.input.std):
        ax.axhline(dx.input.std, color="grey", lw=0.6, ls=":", label="input std")
    ax.set_yscale("log")
    if good or zeros or nonfinite:
        ax.set_ylim(floor / 3, top_y * 3)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("layer (execution order)")
    ax.set_title(title, fontsize=10)
    ax.tick_params(labelsize=8)
    ax.grid(True, which="major", alpha=0.3)


def diagnosis_figure(dx: Any, max_hists: int = 10, title: str | None = None) -> Any:
    """A matplotlib Figure of ``dx`` (see the module docstring).

    The two depth panels share one legend above them (off the data); the histograms share one
    x range (as in CS231n's figure: a collapse shows as a spike at 0); a layer whose values are
    not finite or all exactly 0 says so in words instead of drawing an empty panel.
    """
    import numpy as np

    plt = pyplot()
    hist_rows = [r for r in dx.layers if r.role == "activation" and r.index in dx.samples]
    if not hist_rows:
        hist_rows = [r for r in dx.layers if r.index in dx.samples]
    if len(hist_rows) > max_hists:
        step = (len(hist_rows) - 1) / (max_hists - 1)
        hist_rows = [hist_rows[round(i * step)] for i in range(max_hists)]
    n = max(1, len(hist_rows))
    fig = plt.figure(figsize=(max(10.0, 1.6 * n), 7.6))
    top = fig.add_gridspec(1, 2, left=0.07, right=0.98, top=0.84, bottom=0.45, wspace=0.22)
    ax_a = fig.add_subplot(top[0, 0])
    ax_g = fig.add_subplot(top[0, 1])
    _depth_axes(ax_a, dx, "std", "activation std vs depth")
    _depth_axes(ax_g, dx, "grad_rms", "gradient rms vs depth (w.r.t. each output)")
    handles: dict[str, Any] = {}
    for ax in (ax_a, ax_g):
        for h, lab in zip(*ax.get_legend_handles_labels(), strict=True):
            handles.setdefault(lab, h)
    if handles:
        fig.legend(list(handles.values()), list(handles), loc="upper center",
                   bbox_to_anchor=(0.5, 0.935), ncol=min(len(handles), 5), fontsize=8,
                   frameon=False)
    finite = {r.index: np.asarray(dx.samples[r.index], dtype=np.float64) for r in hist_rows}
    finite = {k: v[np.isfinite(v)] for k, v in finite.items()}
    spans = [float(np.abs(v).max()) for v in finite.values() if len(v)]
    lim = max(spans) if spans and max(spans) > 0 else 1.0
    bottom = fig.add_gridspec(1, n, left=0.03, right=0.98, top=0.30, bottom=0.05, wspace=0.12)
    for j, r in enumerate(hist_rows):
        ax = fig.add_subplot(bottom[0, j])
        vals = finite[r.index]
        name = r.label if r.label == str(r.index) else f"{r.index}: {_short_label(r.label)}"
        ax.set_yticks([])
        ax.tick_params(labelsize=6)
        if math.isfinite(r.mean) and len(vals) and np.abs(vals).max() > 0:
            ax.hist(vals, bins=30, range=(-lim, lim), color=_COLORS.get(r.status, "#1f77b4"))
            ax.set_xlim(-lim, lim)
            ax.set_title(f"{name}\nμ {r.mean:.2g} σ {r.std:.2g}", fontsize=7)
        else:
            word = "not finite" if not math.isfinite(r.mean) or not len(vals) else "all exactly 0"
            ax.text(0.5, 0.5, word, ha="center", va="center", fontsize=8, color="#555",
                    transform=ax.transAxes)
            ax.set_xticks([])
            ax.set_title(f"{name}\n{word}", fontsize=7)
    fig.suptitle(title or f"initlab doctor: {dx.model} — {dx.verdict}", fontsize=11, y=0.98)
    return fig


def plot_diagnosis(dx: Any, path: str | Path, dpi: int = 100, **kw: Any) -> Path:
    """Save :func:`diagnosis_figure` as a PNG at ``path`` (parent folders created); return it."""
    return save_png(diagnosis_figure(dx, **kw), path, dpi=dpi)


def figure_png(dx: Any, **kw: Any) -> bytes:
    """:func:`diagnosis_figure` as PNG bytes (for the HTML report)."""
    return png_bytes(diagnosis_figure(dx, **kw), dpi=90)


__all__ = ["diagnosis_figure", "figure_png", "plot_diagnosis"]


register_view(Diagnosis, "plot", plot_diagnosis)
