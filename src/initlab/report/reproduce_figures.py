"""Figures and tables of the paper reproductions (:mod:`initlab.lab.reproduce`).

Every renderer only draws what the reproduction returned in ``ExperimentResult.figure`` (the
series) and ``verdict``/``reason``; nothing is computed here. The suptitle carries the measured
verdict, coloured green (supported), orange (partly) or red (not supported). matplotlib's Agg
backend: no display needed.

Examples:
    >>> from initlab.lab.reproduce import run_reproduction
    >>> r = run_reproduction("he2015", quick=True, depth=3, width=8, steps=10, seeds=1)
    >>> fig = reproduction_figure(r)
    >>> len(fig.axes)
    2
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from rich.table import Table

from initlab.errors import InitError
from initlab.lab.experiment import ExperimentResult, Verdict
from initlab.report.figures import layer_axis

VERDICT_COLOURS = {Verdict.SUPPORTED: "#2ca02c", Verdict.PARTLY: "#ff7f0e",
                   Verdict.NOT_SUPPORTED: "#d62728"}
VERDICT_STYLES = {Verdict.SUPPORTED: "bold green", Verdict.PARTLY: "bold yellow",
                  Verdict.NOT_SUPPORTED: "bold red"}
COLOURS = {"zeros": "#7f7f7f", "normal": "#d62728", "xavier": "#1f77b4", "he": "#2ca02c",
           "fixup": "#9467bd", "zero_residual": "#17becf", "orthogonal": "#2ca02c",
           "gaussian": "#d62728", "standard": "#d62728", "normalized": "#1f77b4"}


def _plt() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _c(name: str, i: int = 0) -> str:
    return COLOURS.get(name, f"C{i % 10}")


def _finite(xs: Sequence[Any], ys: Sequence[Any]) -> tuple[list[float], list[float]]:
    pts = [(float(x), float(y)) for x, y in zip(xs, ys, strict=False)
           if isinstance(y, int | float) and math.isfinite(y) and y > 0]
    return [p[0] for p in pts], [p[1] for p in pts]


def _loss_axis(ax: Any, curves: dict[str, dict[str, list[Any]]], labels: dict[str, str],
               title: str) -> None:
    """Windowed-mean loss curves (``{"x": steps, "y": losses}``) on a log axis; a curve that
    ends in a non-finite value (divergence) ends in an ✕."""
    for i, (k, c) in enumerate(curves.items()):
        ys = c.get("y", [])
        if not ys:
            continue
        xs, fy = _finite(c["x"], ys)
        stopped = len(fy) < len(ys)
        label = labels.get(k, k) + (" (diverged)" if stopped else "")
        if xs:
            ax.plot(xs, fy, color=_c(k, i), lw=1.4, label=label)
            if stopped:
                ax.plot(xs[-1], fy[-1], "x", color=_c(k, i), ms=9, mew=2)
        else:
            ax.plot([], [], "x", color=_c(k, i), label=label + ": no finite loss")
    from matplotlib.ticker import LogFormatterSciNotation, MaxNLocator, ScalarFormatter

    ax.set_yscale("log")
    lo, hi = ax.get_ylim()
    if hi / lo < 20:  # a narrow log range: plain numbers (2.3, 2.5), not 2.3 × 10⁰
        for axis_formatter in (ax.yaxis.set_major_formatter, ax.yaxis.set_minor_formatter):
            plain = ScalarFormatter()
            plain.set_scientific(False)
            axis_formatter(plain)
    else:
        ax.yaxis.set_major_formatter(LogFormatterSciNotation())
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("training step")
    ax.set_ylabel("training loss (window mean)")
    ax.set_title(title, fontsize=10)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)


def _suptitle(fig: Any, result: ExperimentResult) -> None:
    fig.suptitle(f"{result.title}\nmeasured verdict: {result.verdict.value}",
                 fontsize=11, color=VERDICT_COLOURS[result.verdict])


# ------------------------------------------------------------------------- renderers --------
def _exercise(r: ExperimentResult) -> Any:
    f = r.figure
    plt = _plt()
    fig, (a1, a2, a3) = plt.subplots(1, 3, figsize=(15, 4.4))
    labels = f.get("labels", {})
    _loss_axis(a1, f["loss_curves"], labels, "loss curves (MNIST subset, ReLU MLP)")
    names = list(f["accuracy"])
    vals = [100 * f["accuracy"][k][0] for k in names]
    errs = [100 * f["accuracy"][k][1] for k in names]
    bars = a2.bar([labels.get(k, k) for k in names], vals, yerr=errs, capsize=4,
                  color=[_c(k, i) for i, k in enumerate(names)])
    for b, v, e in zip(bars, vals, errs, strict=True):
        a2.annotate(f"{v:.1f}%", (b.get_x() + b.get_width() / 2, b.get_height() + e + 0.5),
                    ha="center", va="bottom", fontsize=9)
    a2.axhline(100 * f["chance"], ls="--", color="k", lw=0.8, label="chance")
    a2.set_ylim(0, 105)
    a2.set_ylabel("final test accuracy (%) ± s.e. over seeds")
    a2.set_title("final accuracy", fontsize=10)
    a2.legend(fontsize=8)
    for i, (k, v) in enumerate(f["grad_variance"].items()):
        xs, ys = _finite(range(1, len(v) + 1), v)
        a3.plot(xs, ys, "o-", color=_c(k, i), label=labels.get(k, k), ms=4)
    a3.set_yscale("log")
    layer_axis(a3, "hidden layer (input side → output side)")
    a3.set_ylabel("Var[∂L/∂h_l] at step 0")
    a3.set_title("back-propagated gradient variance, deep ReLU MLP", fontsize=10)
    a3.grid(True, which="both", alpha=0.3)
    a3.legend(fontsize=8)
    return fig


def _he2015(r: ExperimentResult) -> Any:
    f = r.figure
    plt = _plt()
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(12, 4.4))
    labels = f.get("labels", {})
    _loss_axis(a1, f["loss_curves"], labels,
               f"{f['depth']}-layer ReLU MLP on digits (chance loss ln 10 = 2.30)")
    a1.axhline(math.log(10), ls="--", color="k", lw=0.8)
    for i, (k, v) in enumerate(f["forward_std"].items()):
        xs, ys = _finite(range(1, len(v) + 1), v)
        acc = f["accuracy"].get(k, math.nan)
        a2.plot(xs, ys, "o-", ms=3, color=_c(k, i),
                label=f"{labels.get(k, k)} (final accuracy {100 * acc:.0f}%)")
    a2.set_yscale("log")
    layer_axis(a2)
    a2.set_ylabel("std of the pre-activation at init")
    a2.set_title("forward signal at init: ×1/√2 per layer (Xavier) vs ×1 (He)", fontsize=10)
    a2.grid(True, which="both", alpha=0.3)
    a2.legend(fontsize=8)
    return fig


def _glorot2010(r: ExperimentResult) -> Any:
    f = r.figure
    plt = _plt()
    fig = plt.figure(figsize=(15, 7.5))
    gs = fig.add_gridspec(2, 3)
    for row, kind in enumerate(("standard", "normalized")):
        for col, (key, lo, hi, what) in enumerate((
                ("activation_hist", -1.0, 1.0, "activation value (tanh output)"),
                ("gradient_hist", -f["gradient_range"], f["gradient_range"],
                 "back-propagated gradient ∂L/∂h"))):
            ax = fig.add_subplot(gs[row, col])
            hists = f[key][kind]
            n = len(hists[0]) if hists else 1
            centres = [lo + (hi - lo) * (j + 0.5) / n for j in range(n)]
            cmap = plt.get_cmap("viridis")
            for li, h in enumerate(hists):
                ax.plot(centres, h, color=cmap(li / max(len(hists) - 1, 1)),
                        label=f"layer {li + 1}", lw=1.3)
            what_fig = "activations (Fig. 6)" if col == 0 else "gradients (Fig. 7)"
            ax.set_title(f"{kind} init: {what_fig}", fontsize=10)
            ax.set_xlabel(what, fontsize=9)
            ax.set_ylabel("share of values")
            ax.grid(True, alpha=0.3)
            ax.legend(fontsize=7)
    ax = fig.add_subplot(gs[:, 2])
    means = f["fig2_means"]
    steps = f["fig2_steps"]
    for li in range(len(means[0]) if means else 0):
        ax.plot(steps, [m[li] for m in means], lw=1.5, label=f"layer {li + 1}")
    ax.set_xlabel("training step")
    ax.set_ylabel(f"mean {f['fig2_activation']} activation (300 test images)")
    ax.set_ylim(-0.02, 1.02)
    ax.set_title(f"{f['fig2_activation']} net, standard init: top layer saturates (Fig. 2)",
                 fontsize=10)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    return fig


def _schoenholz2017(r: ExperimentResult) -> Any:
    f = r.figure
    plt = _plt()
    fig, ax = plt.subplots(figsize=(8.5, 5.5))
    cells = f["cells"]
    sc = ax.scatter([c["sigma_w2"] for c in cells], [c["depth"] for c in cells],
                    c=[100 * c["accuracy"] for c in cells], cmap="viridis", vmin=0, vmax=100,
                    marker="s", s=380, edgecolors="k", linewidths=0.5)
    for c in cells:
        ax.annotate(f"{100 * c['accuracy']:.0f}", (c["sigma_w2"], c["depth"]), ha="center",
                    va="center", fontsize=7, color="w" if c["accuracy"] < 0.6 else "k")
    fig.colorbar(sc, ax=ax, label="test accuracy (%)")
    ymax = 1.25 * max(f["depths"])
    xs, ys = _finite([p[0] for p in f["six_xi_c"]], [min(p[1], 10 * ymax) for p in f["six_xi_c"]])
    ax.plot(xs, ys, "w-", lw=3.5)
    ax.plot(xs, ys, "r-", lw=1.8, label="6ξ_c (mean-field theory)")
    ax.axvline(f["critical_sigma_w2"], ls="--", color="k", lw=0.8,
               label=f"critical σ_w² = {f['critical_sigma_w2']:.3g}")
    ax.set_ylim(0, ymax)
    ax.set_xlabel("σ_w²")
    ax.set_ylabel("depth L")
    ax.set_title(f"tanh, σ_b² = {f['sigma_b2']:g}: trainable below L = 6ξ_c", fontsize=10)
    ax.legend(fontsize=8, loc="upper right")
    return fig


def _saxe2014(r: ExperimentResult) -> Any:
    f = r.figure
    plt = _plt()
    fig, (a1, a2, a3) = plt.subplots(1, 3, figsize=(15, 4.4))
    d = f["depths"]
    for i, k in enumerate(f["steps"]):
        ys, ok = f["steps"][k], f["reached"][k]
        a1.plot(d, ys, "-", color=_c(k, i), lw=1.2)
        a1.plot([x for x, o in zip(d, ok, strict=True) if o],
                [y for y, o in zip(ys, ok, strict=True) if o], "o", color=_c(k, i), label=k)
        miss = [(x, y) for x, y, o in zip(d, ys, ok, strict=True) if not o]
        if miss:
            a1.plot(*zip(*miss, strict=True), "^", mfc="none", color=_c(k, i), ms=9,
                    label=f"{k}: not reached in {f['budget']} steps")
    a1.set_xscale("log", base=2)
    a1.set_yscale("log")
    a1.set_xlabel("depth L")
    a1.set_ylabel("steps to 1% of the initial loss (lr = lr₀/L)")
    a1.set_title("learning time vs depth", fontsize=10)
    a1.grid(True, which="both", alpha=0.3)
    a1.legend(fontsize=8)
    deep = str(d[-1])
    _loss_axis(a2, {k: v.get(deep, {}) for k, v in f["loss_curves"].items()}, {},
               f"loss at depth {deep}")
    a2.set_xlabel("step (full-batch gradient descent)")
    a2.set_ylabel("½‖W_L…W_1 − A‖²/n")
    for i, k in enumerate(f["log10_condition"]):
        a3.plot(d, f["log10_condition"][k], "o-", color=_c(k, i), label=k)
    a3.set_xscale("log", base=2)
    a3.set_xlabel("depth L")
    a3.set_ylabel("log10 condition number of W_L…W_1 at init")
    a3.set_title("why: singular values of the initial product", fontsize=10)
    a3.grid(True, alpha=0.3)
    a3.legend(fontsize=8)
    return fig


def _zhang2019(r: ExperimentResult) -> Any:
    f = r.figure
    plt = _plt()
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(12, 4.4))
    labels = f.get("labels", {})
    _loss_axis(a1, f["loss_curves"], labels,
               f"residual MLP, {f['blocks']} blocks, no normalization")
    names = list(f["accuracy"])
    vals = [0.0 if f["diverged"][k] else 100 * f["accuracy"][k] for k in names]
    bars = a2.bar([labels.get(k, k) for k in names], vals,
                  color=[_c(k, i) for i, k in enumerate(names)])
    for b, k, v in zip(bars, names, vals, strict=True):
        text = "diverged" if f["diverged"][k] else f"{v:.1f}%"
        a2.annotate(f"{text}\nstream std {f['stream_std'][k]:.3g}",
                    (b.get_x() + b.get_width() / 2, b.get_height()), ha="center",
                    va="bottom", fontsize=8)
    a2.axhline(100 * f["chance"], ls="--", color="k", lw=0.8, label="chance")
    a2.set_ylim(0, 115)
    a2.set_ylabel("final test accuracy (%)")
    a2.set_title("final accuracy (residual stream std at init below)", fontsize=10)
    a2.legend(fontsize=8)
    return fig


def _pennington2017(r: ExperimentResult) -> Any:
    f = r.figure
    plt = _plt()
    fig, (a1, a2, a3) = plt.subplots(1, 3, figsize=(15, 4.4))
    d = f["jacobian_depths"]
    for i, k in enumerate(f["lambda_variance"]):
        xs, ys = _finite(d, f["lambda_variance"][k])
        a1.plot(xs, ys, "o", color=_c(k, i), label=f"{k}: measured")
        xs, ys = _finite(d, f["lambda_variance_theory"][k])
        a1.plot(xs, ys, "-", color=_c(k, i), label=f"{k}: theory L(μ₂/μ₁² − 1 − s₁)")
    a1.set_xscale("log")
    a1.set_yscale("log")
    a1.set_xlabel("depth L")
    a1.set_ylabel("variance of the eigenvalues of JJᵀ")
    a1.set_title(f"tanh at criticality (σ_w² = {f['sigma_w2']:.4g}, q* = {f['q_star']:.3g})",
                 fontsize=10)
    a1.grid(True, which="both", alpha=0.3)
    a1.legend(fontsize=7)
    import numpy as np

    svs = {k: [v for v in f["singular_values"][k] if v > 0] for k in f["singular_values"]}
    allv = [v for vs in svs.values() for v in vs]
    if allv:
        bins = np.logspace(math.log10(min(allv)), math.log10(max(allv)), 40)
        for i, (k, vs) in enumerate(svs.items()):
            a2.hist(vs, bins=bins, alpha=0.6, color=_c(k, i), label=k)
    a2.set_xscale("log")
    a2.set_xlabel("singular value of J")
    a2.set_ylabel("count")
    a2.set_title(f"Jacobian singular values at depth {f['deepest_jacobian']}", fontsize=10)
    a2.legend(fontsize=8)
    deep = str(f["train_depths"][-1])
    curves = {k: v.get(deep, []) for k, v in f["loss_curves"].items()}
    _loss_axis(a3, curves, {}, f"training at depth {deep} (digits)")
    a3.axhline(f["loss_threshold"], ls="--", color="k", lw=0.8)
    return fig


_RENDERERS: dict[str, Callable[[ExperimentResult], Any]] = {
    "exercise": _exercise, "he2015": _he2015, "glorot2010": _glorot2010,
    "schoenholz2017": _schoenholz2017, "saxe2014": _saxe2014, "zhang2019": _zhang2019,
    "pennington2017": _pennington2017,
}


def reproduction_figure(result: ExperimentResult) -> Any:
    """The matplotlib Figure of a reproduction's result (by ``result.figure["kind"]``).

    Raises:
        InitError: a result without figure data of a known kind.
    """
    kind = result.figure.get("kind") if isinstance(result.figure, dict) else None
    if kind not in _RENDERERS:
        raise InitError(f"reproduction_figure: no renderer for figure kind {kind!r}; "
                        f"known: {', '.join(_RENDERERS)}")
    fig = _RENDERERS[kind](result)
    _suptitle(fig, result)
    fig.tight_layout()
    return fig


def plot_reproduction(result: ExperimentResult, path: str | Path) -> Path:
    """Draw the reproduction's figure and save it to ``path`` (parents created); returns it."""
    from initlab.files import atomic_output

    p = Path(path)
    fig = reproduction_figure(result)
    try:
        with atomic_output(p) as tmp:  # an interrupted save leaves no partial figure
            fig.savefig(tmp, format=p.suffix[1:].lower() or "png", dpi=110)
    finally:
        _plt().close(fig)
    return p


def reproductions_table(items: Sequence[Any]) -> Table:
    """The list of reproductions (``initlab reproduce`` without a name)."""
    t = Table(title="initlab reproduce NAME [--quick]", title_justify="left")
    t.add_column("name", style="bold")
    t.add_column("what it reproduces")
    for r in items:
        t.add_row(r.name, r.title)
    return t


def result_table(result: ExperimentResult) -> Table:
    """One result: its effects (value ± s.e., predicted) under the verdict and its reason."""
    t = Table(title=f"{result.title}\n[{VERDICT_STYLES[result.verdict]}]"
                    f"{result.verdict.value}[/]: {result.reason}",
              title_justify="left")
    t.add_column("measured")
    t.add_column("value", justify="right")
    t.add_column("± s.e.", justify="right")
    t.add_column("n", justify="right")
    t.add_column("predicted", justify="right")
    t.add_column("note")
    for e in result.effects:
        t.add_row(e.name, f"{e.value:.4g}", f"{e.stderr:.2g}" if e.stderr_known else "–",
                  str(e.n), "" if e.target is None else f"{e.target:.4g}", e.note)
    checks = result.numbers.get("checks")
    if isinstance(checks, dict):
        for k, v in checks.items():
            t.add_row(f"[{'green' if v else 'red'}]{'✓' if v else '✗'}[/] {k}", "", "", "", "",
                      "check")
    return t


def verdicts_table(results: Sequence[ExperimentResult]) -> Table:
    """One row per result: name, verdict, time, reason."""
    t = Table(title="reproductions", title_justify="left")
    t.add_column("name", style="bold")
    t.add_column("verdict")
    t.add_column("time", justify="right")
    t.add_column("what was measured")
    for r in results:
        t.add_row(r.name, f"[{VERDICT_STYLES[r.verdict]}]{r.verdict.value}[/]",
                  f"{r.elapsed_s:.0f} s", r.reason)
    return t


__all__ = ["plot_reproduction", "reproduction_figure", "reproductions_table", "result_table",
           "verdicts_table"]
