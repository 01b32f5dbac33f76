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




def _positive(vals: list[float | None], floor: float) -> list[float]:
    return [v if (v is not None and math.isfinite(v) and v > 0) else floor for v in vals]


def _depth_axes(ax: Any, dx: Any, attr: str, title: str) -> None:
    rows = dx.layers
    vals = [getattr(r, attr) for r in rows]
    good = [v for v in vals if v is not None and math.isfinite(v) and v > 0]
    floor = min(good) / 10 if good else 1e-30
    for role, style in (("param", "-"), ("activation", "-")):
        pts = [(r.index, v) for r, v in zip(rows, vals, strict=True) if r.role == role]
        if not pts:
            continue
        xs = [p[0] for p in pts]
        ys = _positive([p[1] for p in pts], floor)
        label = "layer outputs" if role == "param" else "activation outputs"
        ax.plot(
            xs,
            ys,
            style,
            marker=".",
            ms=4,
            lw=1.2,
            label=label,
            alpha=0.6 if role == "param" else 1.0,
        )
    for status, color in _COLORS.items():
        bad = [(r.index, v) for r, v in zip(rows, vals, strict=True) if r.status == status]
        if bad:
            ax.scatter(
                [b[0] for b in bad],
                _positive([b[1] for b in bad], floor),
                s=18,
                color=color,
                zorder=3,
                label=status,
            )
    if dx.input is not None and attr == "std" and dx.input.std:
        ax.axhline(dx.input.std, color="grey", lw=0.6, ls=":", label="input std")
    ax.set_yscale("log")
    ax.set_xlabel("layer (execution order)")
    ax.set_title(title)
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=7)


def diagnosis_figure(dx: Any, max_hists: int = 10, title: str | None = None) -> Any:
    """A matplotlib Figure of ``dx`` (see the module docstring)."""
    plt = pyplot()
    hist_rows = [r for r in dx.layers if r.role == "activation" and r.index in dx.samples]
    if not hist_rows:
        hist_rows = [r for r in dx.layers if r.index in dx.samples]
    if len(hist_rows) > max_hists:
        step = (len(hist_rows) - 1) / (max_hists - 1)
        hist_rows = [hist_rows[round(i * step)] for i in range(max_hists)]
    n = max(1, len(hist_rows))
    fig = plt.figure(figsize=(max(10, 1.6 * n), 7.2))
    gs = fig.add_gridspec(2, n, height_ratios=[1.6, 1.0], hspace=0.45)
    half = max(1, n // 2)
    _depth_axes(fig.add_subplot(gs[0, :half]), dx, "std", "activation std vs depth")
    _depth_axes(
        fig.add_subplot(gs[0, half:] if n > 1 else gs[0, :]),
        dx,
        "grad_rms",
        "gradient rms vs depth (w.r.t. each output)",
    )
    # One x range for every panel (as in CS231n's figure): a collapse shows as a spike at 0.
    import numpy as np

    finite = {r.index: dx.samples[r.index][np.isfinite(dx.samples[r.index])] for r in hist_rows}
    spans = [float(np.abs(v).max()) for v in finite.values() if len(v)]
    lim = max(spans) if spans and max(spans) > 0 else 1.0
    for j, r in enumerate(hist_rows):
        ax = fig.add_subplot(gs[1, j])
        vals = finite[r.index]
        if len(vals):
            ax.hist(vals, bins=30, range=(-lim, lim), color=_COLORS.get(r.status, "#1f77b4"))
        ax.set_title(f"{r.label}\nμ {r.mean:.2g} σ {r.std:.2g}", fontsize=7)
        ax.tick_params(labelsize=6)
        ax.set_yticks([])
    fig.suptitle(title or f"initlab doctor: {dx.model} — {dx.verdict}", fontsize=11)
    return fig


def plot_diagnosis(dx: Any, path: str | Path, **kw: Any) -> Path:
    """Save :func:`diagnosis_figure` as a PNG at ``path`` (parent folders created); return it."""
    return save_png(diagnosis_figure(dx, **kw), path, dpi=100)


def figure_png(dx: Any, **kw: Any) -> bytes:
    """:func:`diagnosis_figure` as PNG bytes (for the HTML report)."""
    return png_bytes(diagnosis_figure(dx, **kw), dpi=90)


__all__ = ["diagnosis_figure", "figure_png", "plot_diagnosis"]


register_view(Diagnosis, "plot", plot_diagnosis)
