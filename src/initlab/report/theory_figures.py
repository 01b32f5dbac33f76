"""Figures for :mod:`initlab.theory` (matplotlib, Agg): the Schoenholz et al. (2017) phase
diagram, depth scales against σ_w², and q^l, c^l through depth (theory vs simulation).

Every function takes a result object from ``initlab.theory`` and a path, draws it, saves a PNG
and returns the path; nothing is computed here beyond what the results hold.

Examples:
    >>> import tempfile, pathlib
    >>> from initlab import theory
    >>> pd = theory.phase_diagram("tanh", sigma_w2=[1, 2, 3], sigma_b2=[0, 0.1])
    >>> out = phase_diagram_figure(pd, pathlib.Path(tempfile.mkdtemp()) / "phase.png")
    >>> out.suffix
    '.png'
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from initlab.report.figures import layer_axis, pyplot, save_png
from initlab.theory.phase import PhaseDiagram
from initlab.theory.simulate import Simulation

_DEPTH_LEVELS = (10, 20, 50, 100, 200, 500, 1000)




def _save(fig: Any, path: str | Path) -> Path:
    return save_png(fig, path, dpi=120)


def phase_diagram_figure(pd: PhaseDiagram, path: str | Path, dpi: int = 120) -> Path:
    """Save :func:`phase_diagram_plot` as a PNG at ``path``; return the path."""
    return save_png(phase_diagram_plot(pd), path, dpi=dpi)


def phase_diagram_plot(pd: PhaseDiagram) -> Any:
    """The (σ_w², σ_b²) plane coloured by log₁₀ ξ_c, the critical line χ₁ = 1 (white), and
    contours of the trainable depth 6 ξ_c (Schoenholz et al. 2017, Figs. 1 and 5).

    Where the length map has no fixed point (q^l grows without bound: ReLU-like activations for
    σ_w² ≥ 2 with σ_b² > 0, GELU above its critical line) the plane is hatched grey and the
    legend says so. The critical line is drawn only where it bounds a region with a fixed point:
    inside the grey region χ₁ = 1 would hold at a fixed point the length map never reaches from
    q⁰, which says nothing about the networks there. ReLU's critical line is the single point
    (σ_w², σ_b²) = (2, 0): with any bias q^l grows without bound at σ_w² = 2."""
    from matplotlib.patches import Patch

    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 4.8))
    w, b = pd.sigma_w2, pd.sigma_b2
    xi = np.where(np.isfinite(pd.xi_c) & (pd.xi_c > 0), pd.xi_c, np.nan)
    no_fp = np.asarray(pd.phase) == -1
    finite = xi[np.isfinite(xi)]
    vmax = float(np.log10(min(finite.max(), 1e4))) if finite.size else 1.0
    handles: list[Any] = []
    if len(w) > 1 and len(b) > 1:
        mesh = ax.pcolormesh(
            w, b, np.log10(np.clip(xi, 1e-2, 1e4)), shading="auto", cmap="viridis", vmax=vmax
        )
        fig.colorbar(mesh, ax=ax, label="log₁₀ ξ_c (correlation depth scale)")
        depth = 6.0 * np.where(np.isfinite(xi), xi, np.nan)
        finite_depth = depth[np.isfinite(depth)]
        if finite_depth.size:
            levels = [lv for lv in _DEPTH_LEVELS
                      if finite_depth.min() < lv < min(finite_depth.max(), 1e3)]
            if levels:
                cs = ax.contour(w, b, np.where(no_fp, np.nan, depth), levels=levels[:4],
                                colors="k", linewidths=0.7)
                ax.clabel(cs, fmt=lambda v: f"6ξ_c={v:g}", fontsize=7)
        if no_fp.any():
            ax.contourf(w, b, no_fp.astype(float), levels=[0.5, 1.5], colors=["#bbbbbb"],
                        hatches=["//"])
            handles.append(Patch(facecolor="#bbbbbb", hatch="//",
                                 label="no fixed point reached: qˡ grows without bound"))
    else:
        ax.scatter(*np.meshgrid(w, b), c=np.log10(np.clip(xi, 1e-2, 1e4)), cmap="viridis")
    crit = np.asarray(pd.critical_sigma_w2, dtype=np.float64)
    ok = np.isfinite(crit)
    if ok.any():
        # is the grid point just left of the critical value inside a region with a fixed point?
        col = np.clip(np.searchsorted(w, crit[ok]) - 1, 0, len(w) - 1)
        inside = ~no_fp[np.flatnonzero(ok), col] if no_fp.size else np.ones(ok.sum(), bool)
        bs, cw = b[ok][inside], crit[ok][inside]
        if len(cw) > 1:
            handles.insert(0, ax.plot(cw, bs, color="white", lw=2.2,
                                      label="critical line χ₁ = 1")[0])
        elif len(cw) == 1:
            label = f"critical point χ₁ = 1 (σ_b² = {bs[0]:g} only)"
            handles.insert(0, ax.plot(cw, bs, "o", color="white", ms=8, clip_on=False,
                                      zorder=5, mec="k", label=label)[0])
    if handles:
        leg = ax.legend(handles=handles, loc="upper left", fontsize=7, framealpha=0.9)
        leg.get_frame().set_facecolor("#444444")
        for text in leg.get_texts():
            text.set_color("white")
    ax.set_xlim(w.min(), w.max())
    ax.set_ylim(b.min(), b.max())
    ax.set_xlabel("σ_w²")
    ax.set_ylabel("σ_b²")
    phases = set(np.unique(pd.phase).tolist())
    sides = ["ordered (left)"] + (["chaotic (right)"] if 2 in phases else [])
    ax.set_title(f"{pd.activation}: " + " | ".join(sides))
    return fig


def depth_scales_figure(pd: PhaseDiagram, path: str | Path) -> Path:
    """ξ_c (solid) and ξ_q (dashed) against σ_w², one colour per σ_b² row of ``pd`` (log y);
    ξ_c diverges at the critical σ_w² (dotted vertical line)."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    rows = range(len(pd.sigma_b2))
    if len(pd.sigma_b2) > 6:
        rows = np.unique(np.linspace(0, len(pd.sigma_b2) - 1, 6).round().astype(int))
    for i in rows:
        (line,) = ax.plot(pd.sigma_w2, pd.xi_c[i], lw=1.6, label=f"ξ_c, σ_b²={pd.sigma_b2[i]:.3g}")
        ax.plot(pd.sigma_w2, pd.xi_q[i], lw=1.0, ls="--", color=line.get_color())
        crit = pd.critical_sigma_w2[i]
        if np.isfinite(crit):
            ax.axvline(crit, color=line.get_color(), lw=0.8, ls=":")
    ax.set_yscale("log")
    ax.set_xlabel("σ_w²")
    ax.set_ylabel("depth scale (layers)")
    ax.set_title(f"{pd.activation}: ξ_c (solid), ξ_q (dashed)")
    ax.legend(fontsize=7)
    return _save(fig, path)


def propagation_figure(
    sim: Simulation, path: str | Path, theory: tuple[np.ndarray, np.ndarray] | None = None
) -> Path:
    """q^l and c^l through depth: mean-field theory (line) vs the simulated networks (markers:
    mean over seeds, bars: their spread)."""
    plt = pyplot()
    tq, tc = sim.theory() if theory is None else theory
    layers = np.arange(sim.depth + 1)
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    for ax, meas, th, name in ((axes[0], sim.q, tq, "q^l"), (axes[1], sim.c, tc, "c^l")):
        ax.plot(layers, th, color="k", lw=1.5, label="mean field")
        err = meas.std(axis=0) if meas.shape[0] > 1 else None
        ax.errorbar(
            layers,
            meas.mean(axis=0),
            yerr=err,
            fmt="o",
            ms=3,
            capsize=2,
            label=f"simulation (N={sim.width}, {meas.shape[0]} seed(s))",
        )
        layer_axis(ax, "layer l")
        ax.set_ylabel(name)
        ax.legend(fontsize=8)
    fig.suptitle(
        f"{sim.activation}, σ_w²={sim.sigma_w2:g}, σ_b²={sim.sigma_b2:g}, {sim.weights} weights"
    )
    return _save(fig, path)


__all__ = [
    "depth_scales_figure", "phase_diagram_figure", "phase_diagram_plot", "propagation_figure",
]
