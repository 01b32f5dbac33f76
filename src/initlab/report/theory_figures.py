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

from initlab.report.figures import pyplot, save_png
from initlab.theory.phase import PhaseDiagram
from initlab.theory.simulate import Simulation

_DEPTH_LEVELS = (10, 20, 50, 100, 200, 500, 1000)




def _save(fig: Any, path: str | Path) -> Path:
    return save_png(fig, path, dpi=120)


def phase_diagram_figure(pd: PhaseDiagram, path: str | Path) -> Path:
    """The (σ_w², σ_b²) plane coloured by log₁₀ ξ_c, the critical line χ₁ = 1 (white), and
    contours of the trainable depth 6 ξ_c (Schoenholz et al. 2017, Figs. 1 and 5). Regions where
    the length map has no fixed point are grey."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 4.8))
    w, b = pd.sigma_w2, pd.sigma_b2
    xi = np.where(np.isfinite(pd.xi_c) & (pd.xi_c > 0), pd.xi_c, np.nan)
    finite = xi[np.isfinite(xi)]
    vmax = float(np.log10(min(finite.max(), 1e4))) if finite.size else 1.0
    ax.set_facecolor("#bbbbbb")
    if len(w) > 1 and len(b) > 1:
        mesh = ax.pcolormesh(
            w, b, np.log10(np.clip(xi, 1e-2, 1e4)), shading="auto", cmap="viridis", vmax=vmax
        )
        fig.colorbar(mesh, ax=ax, label="log₁₀ ξ_c (correlation depth scale)")
        depth = 6.0 * np.where(np.isfinite(xi), xi, 1e6)
        levels = [lv for lv in _DEPTH_LEVELS if np.nanmin(depth) < lv < np.nanmax(depth)]
        if levels:
            cs = ax.contour(w, b, depth, levels=levels, colors="k", linewidths=0.7)
            ax.clabel(cs, fmt=lambda v: f"6ξ_c={v:g}", fontsize=7)
    else:
        ax.scatter(*np.meshgrid(w, b), c=np.log10(np.clip(xi, 1e-2, 1e4)), cmap="viridis")
    crit = np.asarray(pd.critical_sigma_w2)
    ok = np.isfinite(crit)
    if ok.any():
        ax.plot(crit[ok], b[ok], color="white", lw=2.2, label="critical line χ₁ = 1")
        ax.legend(loc="upper left", fontsize=8)
    ax.set_xlim(w.min(), w.max())
    ax.set_ylim(b.min(), b.max())
    ax.set_xlabel("σ_w²")
    ax.set_ylabel("σ_b²")
    ax.set_title(f"{pd.activation}: ordered (left) | chaotic (right)")
    return _save(fig, path)


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
        ax.set_xlabel("layer l")
        ax.set_ylabel(name)
        ax.legend(fontsize=8)
    fig.suptitle(
        f"{sim.activation}, σ_w²={sim.sigma_w2:g}, σ_b²={sim.sigma_b2:g}, {sim.weights} weights"
    )
    return _save(fig, path)


__all__ = ["depth_scales_figure", "phase_diagram_figure", "propagation_figure"]
