"""Figures and the verdict table of the claim experiments (:mod:`initlab.lab.claims`).

Each claim has one drawer that reads only ``result.figure`` (the series the experiment stored):
:func:`claim_figure` picks it by ``result.name``. matplotlib's Agg backend: no display needed.

Examples:
    >>> from initlab.lab.claims import run_claim
    >>> r = run_claim("linear_variance", widths=(16,), variances=(1.0,), depth=3, seeds=2)
    >>> fig = claim_figure(r)
    >>> len(fig.axes) >= 1
    True
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from rich.table import Table

from initlab.errors import InitError
from initlab.lab.experiment import ExperimentResult, Verdict

VERDICT_STYLE = {Verdict.SUPPORTED: "green", Verdict.PARTLY: "yellow",
                 Verdict.NOT_SUPPORTED: "red"}
_C = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
      "#bcbd22", "#17becf"]


def _plt() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _null_locator() -> Any:
    from matplotlib.ticker import NullLocator

    return NullLocator()


def _fmt_eps(k: str) -> str:
    v = float(k)
    return "ε = 0 (identical)" if v == 0 else f"ε = {v:g}"


def _symmetry(f: dict[str, Any], fig: Any) -> None:
    ax1, ax2 = fig.subplots(1, 2)
    for i, (k, curve) in enumerate(f["spread"].items()):
        ys = [max(v, 1e-18) for v in curve]
        ax1.plot(f["steps"], ys, color=_C[i % 10], label=_fmt_eps(k))
    ax1.set_yscale("log")
    ax1.set_xlabel("gradient step")
    ax1.set_ylabel("neurons' spread  rms‖wᵢ − w̄‖ / ‖w̄‖")
    ax1.set_title("how far the hidden units drift apart")
    ax1.legend(fontsize=8)
    ax1.grid(True, which="both", alpha=0.3)
    eps = f["epsilons"]
    pos = [(e, m, s) for e, m, s in zip(eps, f["accuracy_mean"], f["accuracy_se"], strict=True)
           if e > 0]
    if pos:
        xs, ms, ss = zip(*pos, strict=True)
        ax2.errorbar(xs, [100 * m for m in ms], yerr=[200 * s for s in ss], marker="o",
                     capsize=3, label="perturbed constant start")
    for e, m in zip(eps, f["accuracy_mean"], strict=True):
        if e == 0:
            ax2.axhline(100 * m, color="#7f7f7f", ls=":", label="ε = 0 (identical)")
    ax2.axhline(100 * f["xavier_accuracy"], color="#2ca02c", ls="--", label="Xavier (random)")
    ax2.set_xscale("log")
    ax2.set_xlabel("perturbation ε (× Xavier std)")
    ax2.set_ylabel("test accuracy after training (%)")
    ax2.set_title("accuracy vs perturbation size (±2 s.e.)")
    ax2.set_ylim(0, 100)
    ax2.legend(fontsize=8, loc="lower right")
    ax2.grid(True, alpha=0.3)


def _linear_variance(f: dict[str, Any], fig: Any) -> None:
    ax1, ax2 = fig.subplots(1, 2)
    pred, meas, se = f["predicted"], f["measured"], f["stderr"]
    labels = f["labels"]
    widths = f["widths"]
    for i, w in enumerate(widths):
        pts = [(p, m, s) for lab, p, m, s in zip(labels, pred, meas, se, strict=True)
               if lab.startswith(f"n={w},")]
        xs, ms, ss = zip(*pts, strict=True)
        ax1.errorbar(xs, ms, yerr=[2 * s for s in ss], marker="o", ls="", capsize=3,
                     color=_C[i % 10], label=f"n = {w}")
    lo, hi = min(pred) * 0.8, max(pred) * 1.2
    ax1.plot([lo, hi], [lo, hi], "k--", lw=0.8, label="formula n·σ²")
    ax1.set_xlabel("predicted factor n·σ²")
    ax1.set_ylabel("measured E‖x_{l+1}‖² / E‖x_l‖²")
    ax1.set_title(f"per-layer factor ({f['activation']} layers, ±2 s.e.)")
    ax1.legend(fontsize=8)
    ax1.grid(True, alpha=0.3)
    for i, (k, curve) in enumerate(f["log_sq_norm"].items()):
        if k.startswith(f"n={widths[-1]},"):
            ax2.plot(range(len(curve)), [c / math.log(10) for c in curve], color=_C[i % 10],
                     label=k)
    ax2.set_xlabel("layer l")
    ax2.set_ylabel("log₁₀ E‖x_l‖²")
    ax2.set_title(f"signal through depth (n = {widths[-1]})")
    ax2.legend(fontsize=8)
    ax2.grid(True, alpha=0.3)


def _relu_variance(f: dict[str, Any], fig: Any) -> None:
    ax1, ax2 = fig.subplots(1, 2)
    colours = {"Xavier": "#1f77b4", "He": "#2ca02c"}
    for label, prof in f["profiles"].items():
        q = prof["forward"]
        d = prof["backward"]
        ls = range(1, len(q) + 1)
        ax1.plot(ls, [v / q[0] for v in q], "o-", color=colours.get(label), label=f"{label} q_l")
        ax1.plot(ls, [v / d[-1] for v in d], "s--", color=colours.get(label), alpha=0.7,
                 label=f"{label} gradient E[δ_l²]")
    ax1.set_yscale("log", base=2)
    ax1.set_xlabel("layer l")
    ax1.set_ylabel("relative to first (forward) / last (backward) layer")
    ax1.set_title(f"signal and gradient through a {f['activation']} MLP")
    ax1.legend(fontsize=8)
    ax1.grid(True, which="both", alpha=0.3)
    names = list(f["factors"])
    vals = [f["factors"][n][0] for n in names]
    errs = [2 * f["factors"][n][1] for n in names]
    tgts = [f["factors"][n][2] for n in names]
    xs = range(len(names))
    ax2.bar(xs, vals, yerr=errs, capsize=4,
            color=[colours.get(n.split()[0], "#9467bd") for n in names], alpha=0.8)
    for i, tg in enumerate(tgts):
        ax2.hlines(tg, i - 0.4, i + 0.4, color="k", lw=2, zorder=3,
                   label="predicted (1/2 Xavier, 1 He)" if i == 0 else None)
    ax2.set_xticks(list(xs), names, rotation=15)
    ax2.set_ylabel("per-layer factor")
    ax2.set_title("measured factor per layer (±2 s.e.)")
    ax2.legend(fontsize=8)
    ax2.grid(True, axis="y", alpha=0.3)


def _rnn_memory(f: dict[str, Any], fig: Any) -> None:
    ax1, ax2 = fig.subplots(1, 2)
    colours = {"orthogonal": "#1f77b4", "identity": "#2ca02c", "small Gaussian": "#7f7f7f",
               "large Gaussian": "#d62728"}
    gains = f["gains"]
    names = {"small Gaussian": f"Gaussian g = {gains['small']:g}",
             "large Gaussian": f"Gaussian g = {gains['large']:g}",
             "orthogonal": "orthogonal (tanh)", "identity": "identity (ReLU, IRNN)"}
    for k, curve in f["curves"].items():
        ax1.plot(range(1, len(curve) + 1), [max(c, -30) for c in curve], color=colours.get(k),
                 label=names.get(k, k))
    ax1.set_xlabel("time step t")
    ax1.set_ylabel("log₁₀ ‖∂h_t/∂h_0‖ / √n  (floored at −30)")
    ax1.set_title("memory of h₀ at init")
    ax1.legend(fontsize=8)
    ax1.grid(True, alpha=0.3)
    lens = f["lengths"]
    span = (max(lens) - min(lens)) or 1
    for i, (k, ms) in enumerate(f["recall_mean"].items()):
        ses = f["recall_se"][k]
        xs = [t + (i - 1.5) * 0.012 * span for t in lens]  # dodge overlapping points
        ax2.errorbar(xs, [100 * m for m in ms], yerr=[200 * s for s in ses], marker="o",
                     capsize=3, color=colours.get(k), label=names.get(k, k))
    ax2.axhline(50, color="k", ls="--", lw=0.8, label="chance")
    ax2.set_xlabel("sequence length T")
    ax2.set_ylabel("recall accuracy of x₁ after training (%)")
    ax2.set_title("first-input recall task (±2 s.e.)")
    ax2.set_ylim(0, 105)
    ax2.legend(fontsize=8, loc="lower left")
    ax2.grid(True, alpha=0.3)


def _zero_gamma(f: dict[str, Any], fig: Any) -> None:
    ax1, ax2 = fig.subplots(1, 2)
    colours = {"zero-γ": "#2ca02c", "standard": "#1f77b4"}
    labels = {"zero-γ": f"last BN γ = {f['zero_value']:g} (zero-γ)", "standard": "γ = 1"}
    for arm, curve in f["curves"].items():
        pts = [(i + 1, v) for i, v in enumerate(curve) if math.isfinite(v) and v > 0]
        if pts:
            xs, ys = zip(*pts, strict=True)
            ax1.plot(xs, ys, color=colours.get(arm), label=labels.get(arm, arm), lw=1.2)
    ax1.set_yscale("log")
    ax1.set_xlabel("SGD step (mini-batch)")
    ax1.set_ylabel("training cross-entropy (mean over seeds)")
    ax1.set_title("training curves")
    ax1.legend(fontsize=8)
    ax1.grid(True, which="both", alpha=0.3)
    arms = list(f["deviation"])
    xs = range(len(arms))
    w = 0.38
    dev = [f["deviation"][a][0] for a in arms]
    rat = [f["ratio"][a][0] for a in arms]
    b1 = ax2.bar([x - w / 2 for x in xs], dev, w, color="#9467bd", label="‖h_B − h_0‖/‖h_0‖")
    b2 = ax2.bar([x + w / 2 for x in xs], rat, w, color="#ff7f0e",
                 label="stem gradient, deep / no blocks")
    for bars in (b1, b2):
        for bar in bars:
            ax2.annotate(f"{bar.get_height():.3g}", (bar.get_x() + bar.get_width() / 2,
                                                     bar.get_height()),
                         ha="center", va="bottom", fontsize=9)
    ax2.axhline(1.0, color="k", ls="--", lw=0.8)
    ax2.set_xticks(list(xs), [labels.get(a, a) for a in arms])
    ax2.set_title("at init: identity? gradient to the first layer?")
    ax2.legend(fontsize=8)
    ax2.grid(True, axis="y", alpha=0.3)


def _input_gradient(f: dict[str, Any], fig: Any) -> None:
    has_fgsm = bool(f["fgsm_alphas"])
    axes = fig.subplots(1, 2 if has_fgsm else 1)
    ax1 = axes[0] if has_fgsm else axes
    als = f["alphas"]
    styles = {"relu": ("-", "o"), "tanh": ("--", "s")}
    for act, by_depth in f["norms"].items():
        for i, (d, ns) in enumerate(by_depth.items()):
            c = _C[i % 10]
            ls, mk = styles.get(act, ("-", "o"))
            ax1.plot(als, ns, ls, marker=mk, color=c, label=f"{act}, L = {d}")
            i1 = min(range(len(als)), key=lambda j: abs(als[j] - 1.0))
            ref = [ns[i1] * (a / als[i1]) ** (int(d) / 2) for a in als]
            ax1.plot(als, ref, ":", color=c, lw=1)
    ax1.set_xscale("log")
    ax1.set_yscale("log")
    ax1.set_xticks(als, [f"{a:g}" for a in als])
    ax1.xaxis.set_minor_locator(_null_locator())
    ax1.set_xlabel("α (multiplier of Xavier's variance)")
    ax1.set_ylabel("mean ‖∂ℓ/∂x‖ at init")
    ax1.set_title("input gradient vs α (dotted: α^{L/2} through α = 1)")
    ax1.legend(fontsize=7, ncol=2)
    ax1.grid(True, which="both", alpha=0.3)
    if not has_fgsm:
        return
    ax2 = axes[1]
    fa = f["fgsm_alphas"]
    for j, act in enumerate(f["fgsm_init"]):
        for stage, ls in (("init", "-"), ("trained", "--")):
            m = f[f"fgsm_{stage}"][act]
            ax2.errorbar(fa, [v[0] for v in m], yerr=[2 * v[1] for v in m], ls=ls, marker="o",
                         capsize=3, color=_C[j], label=f"{act}, {stage}")
    ax2.set_xscale("log")
    ax2.set_yscale("log")
    ax2.set_xticks(fa, [f"{a:g}" for a in fa])
    ax2.xaxis.set_minor_locator(_null_locator())
    ax2.set_xlabel("α")
    ax2.set_ylabel("median FGSM ε that flips the prediction")
    ax2.set_title(f"adversarial margin, L = {f['fgsm_depth']} (±2 s.e.)")
    ax2.legend(fontsize=8)
    ax2.grid(True, which="both", alpha=0.3)


DRAWERS: dict[str, Callable[[dict[str, Any], Any], None]] = {
    "symmetry": _symmetry,
    "linear_variance": _linear_variance,
    "relu_variance": _relu_variance,
    "rnn_memory": _rnn_memory,
    "zero_gamma": _zero_gamma,
    "input_gradient": _input_gradient,
}


def claim_figure(result: ExperimentResult) -> Any:
    """A matplotlib Figure of one claim's result, titled with its verdict.

    Raises:
        InitError: no drawer for ``result.name``.
    """
    draw = DRAWERS.get(result.name)
    if draw is None:
        raise InitError(f"claim_figure: no figure for {result.name!r}; "
                        f"known: {', '.join(DRAWERS)}")
    plt = _plt()
    fig = plt.figure(figsize=(12, 4.4))
    draw(result.figure, fig)
    fig.suptitle(f"{result.title} — {result.verdict.value}", fontsize=12,
                 color={"supported": "#1a7f1a", "partly": "#b8860b"}.get(result.verdict.value,
                                                                         "#c0392b"))
    fig.tight_layout()
    return fig


def plot_claim(result: ExperimentResult, path: str | Path) -> Path:
    """Save :func:`claim_figure` as a PNG at ``path`` (parent folders created); return it."""
    plt = _plt()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig = claim_figure(result)
    fig.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(fig)
    return path


def claim_png(result: ExperimentResult) -> bytes:
    """The figure as PNG bytes (for the HTML report)."""
    plt = _plt()
    fig = claim_figure(result)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


def effect_text(e: Any) -> str:
    """``0.495 ± 0.011 (pred. 0.5)``."""
    if not math.isfinite(e.value):
        s = str(e.value)
    else:
        s = f"{e.value:.3g}"
    if e.stderr_known and e.stderr > 0:
        s += f" ± {e.stderr:.2g}"
    if e.target is not None:
        s += f" (pred. {e.target:.3g})"
    return s


def claims_table(results: Sequence[ExperimentResult], title: str = "the texts' claims, "
                 "measured") -> Table:
    """One rich row per claim: name, verdict, the key effect (± s.e. over seeds), seconds."""
    t = Table(title=title, show_lines=False)
    t.add_column("#", justify="right")
    t.add_column("claim")
    t.add_column("verdict")
    t.add_column("key effect (± s.e. over seeds)")
    t.add_column("s", justify="right")
    from initlab.lab.claims import CLAIMS

    order = list(CLAIMS)
    for r in results:
        style = VERDICT_STYLE[r.verdict]
        eff = r.effects[0] if r.effects else None
        key = f"{eff.name}: {effect_text(eff)}" if eff is not None else "—"
        num = str(order.index(r.name) + 1) if r.name in order else ""
        t.add_row(num, f"[bold]{r.name}[/bold]\n{r.title}",
                  f"[{style}]{r.verdict.value}[/{style}]", key, f"{r.elapsed_s:.1f}")
    return t


def result_table(result: ExperimentResult) -> Table:
    """One claim's effects: name, measured ± s.e., predicted, n seeds."""
    style = VERDICT_STYLE[result.verdict]
    t = Table(title=f"{result.name}: [{style}]{result.verdict.value}[/{style}]")
    t.add_column("effect")
    t.add_column("measured", justify="right")
    t.add_column("± s.e.", justify="right")
    t.add_column("predicted", justify="right")
    t.add_column("seeds", justify="right")
    for e in result.effects:
        t.add_row(e.name, f"{e.value:.4g}", f"{e.stderr:.2g}" if e.stderr_known else "—",
                  "—" if e.target is None else f"{e.target:.4g}", str(e.n))
    return t


__all__ = ["DRAWERS", "claim_figure", "claim_png", "claims_table", "effect_text", "plot_claim",
           "result_table"]
