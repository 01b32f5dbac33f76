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

import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from rich.table import Table

from initlab.errors import InitError
from initlab.lab.experiment import ExperimentResult, Verdict
from initlab.report.figures import layer_axis, png_bytes, pyplot, save_png

VERDICT_STYLE = {Verdict.SUPPORTED: "green", Verdict.PARTLY: "yellow",
                 Verdict.NOT_SUPPORTED: "red"}
_C = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
      "#bcbd22", "#17becf"]




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
    layer_axis(ax2, "layer l")
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
    layer_axis(ax1, "layer l")
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


def _input_scale(f: dict[str, Any], fig: Any) -> None:
    ax1, ax2 = fig.subplots(1, 2)
    sc = f["scales"]
    ax1.errorbar(sc, f["r_mean"], yerr=[2 * v for v in f["r_se"]], marker="o", capsize=3,
                 color="#1f77b4", label="measured first step r(s)")
    if math.isfinite(f["s_pred"]):
        ax1.plot(sc, [f["r_mean"][0] * s for s in sc], ":", color="#1f77b4",
                 label="r(1)·s (homogeneity)")
        ax1.axvline(f["s_pred"], color="#d62728", ls="--",
                    label=f"computed s* = 1/r(1) = {f['s_pred']:.3g}")
    ax1.axhline(1.0, color="k", lw=0.8)
    ax1.set_xscale("log", base=2)
    ax1.set_yscale("log")
    ax1.set_xlabel("input scale s (inputs × s, Var[x] = s²)")
    ax1.set_ylabel("max_l ‖ΔW_l‖ / ‖W_l‖ after one SGD step")
    ax1.set_title("size of the first update" + (" (inputs re-standardized)"
                                                if f["preprocess"] == "standardize" else ""))
    ax1.legend(fontsize=8)
    ax1.grid(True, which="both", alpha=0.3)
    ax2.errorbar(sc, [100 * a for a in f["acc_mean"]], yerr=[200 * v for v in f["acc_se"]],
                 marker="o", capsize=3, color="#2ca02c", label="test accuracy after training")
    meas = [m for m in f["s_measured"] if math.isfinite(m)]
    for i, m in enumerate(meas):
        ax2.axvline(m, color="#7f7f7f", ls=":", lw=1,
                    label="measured threshold (per seed)" if i == 0 else None)
    if math.isfinite(f["s_pred"]):
        ax2.axvline(f["s_pred"], color="#d62728", ls="--", label="computed s*")
    ax2.set_xscale("log", base=2)
    ax2.set_ylim(0, 100)
    ax2.set_xlabel("input scale s")
    ax2.set_ylabel("test accuracy (%; diverged = 0)")
    ax2.set_title("does training survive? (±2 s.e.)")
    ax2.legend(fontsize=8)
    ax2.grid(True, alpha=0.3)


_START_COLOURS = {"Xavier": "#1f77b4", "He": "#2ca02c", "saturating": "#d62728",
                  "vanishing": "#7f7f7f"}


def _ntk(f: dict[str, Any], fig: Any) -> None:
    ax1, ax2, ax3 = fig.subplots(1, 3)
    labs = list(f["log10_cond"])
    for lab, spec in f["spectra"].items():
        ax1.plot(range(1, len(spec) + 1), [max(v, 1e-12) for v in spec],
                 color=_START_COLOURS.get(lab), label=f"{lab} ({f['starts'][lab]})")
    ax1.set_yscale("log")
    ax1.set_xlabel("eigenvalue index")
    ax1.set_ylabel("NTK eigenvalue / trace")
    ax1.set_title("empirical NTK spectrum at init")
    ax1.legend(fontsize=7)
    ax1.grid(True, which="both", alpha=0.3)
    ms = [sum(f["log10_cond"][lab]) / len(f["log10_cond"][lab]) for lab in labs]
    ax2.bar(labs, ms, color=[_START_COLOURS.get(lab, "#9467bd") for lab in labs], alpha=0.8)
    for i, lab in enumerate(labs):
        ax2.scatter([i] * len(f["log10_cond"][lab]), f["log10_cond"][lab], color="k", s=10,
                    zorder=3)
    ax2.set_ylabel("log₁₀ condition number (dots: seeds)")
    ax2.set_title("conditioning of the NTK")
    ax2.grid(True, axis="y", alpha=0.3)
    for lab in labs:
        ax3.scatter(f["log10_cond"][lab], f["speed"][lab], color=_START_COLOURS.get(lab),
                    label=lab)
    ax3.set_xlabel("log₁₀ cond(NTK)")
    ax3.set_ylabel("early speed: 1 − loss after 1 epoch / first loss")
    ax3.set_title(f"does conditioning predict speed? ρ = {f['rho']:+.2f}")
    ax3.legend(fontsize=8)
    ax3.grid(True, alpha=0.3)


def _pinn(f: dict[str, Any], fig: Any) -> None:
    ax = fig.subplots(1, 1)
    cs = f["speeds"]
    for key, lab, col in (("grad", "‖∇θ L‖ (residual + initial condition)", "#1f77b4"),
                          ("grad_res", "‖∇θ L_residual‖", "#9467bd"),
                          ("rms", "rms residual |u_t + c·u_x|", "#2ca02c")):
        ax.errorbar(cs, [v[0] for v in f[key]], yerr=[2 * v[1] for v in f[key]], marker="o",
                    capsize=3, color=col, label=lab)
    ax.plot(cs, cs, "k--", label="the claim: = c")
    top = f["grad"][-1][0]
    ax.plot(cs, [top * (c / cs[-1]) ** 2 for c in cs], ":", color="#d62728", label="∝ c²")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("wave speed c")
    ax.set_ylabel("magnitude at init (He, tanh PINN)")
    ax.set_title("PINN for u_t + c·u_x = 0: initial gradient magnitude vs c (±2 s.e.)")
    ax.legend(fontsize=8)
    ax.grid(True, which="both", alpha=0.3)


def _optimistic(f: dict[str, Any], fig: Any) -> None:
    ax1, ax2 = fig.subplots(1, 2)
    colours = {"optimistic": "#2ca02c", "zero bias": "#1f77b4", "large weights": "#d62728"}
    labels = {"optimistic": f"optimistic (output bias {f['bias']:g}, He weights)",
              "zero bias": "zero bias (He weights)", "large weights": "large weights N(0, 1)"}
    for s, curve in f["curves"].items():
        ax1.plot(range(1, len(curve) + 1), curve, color=colours.get(s), label=labels.get(s, s))
    ax1.set_xlabel("pull t")
    ax1.set_ylabel("cumulative regret Σ (μ* − μ_a) (mean over seeds)")
    ax1.set_title(f"greedy value-network agent on a {f['arms']}-armed bandit")
    ax1.legend(fontsize=8)
    ax1.grid(True, alpha=0.3)
    names = list(f["tried"])
    xs = range(len(names))
    ax2.bar(xs, [f["tried"][s][0] for s in names], yerr=[2 * f["tried"][s][1] for s in names],
            capsize=4, color=[colours.get(s, "#9467bd") for s in names], alpha=0.85)
    ax2.axhline(f["arms"], color="k", ls="--", lw=0.8)
    ax2.set_ylim(0, f["arms"] * 1.12)
    ax2.text(len(names) - 0.55, f["arms"], f"all {f['arms']} arms", ha="right", va="bottom",
             fontsize=8)
    ax2.set_xticks(list(xs), names)
    ax2.set_ylabel(f"distinct arms tried in the first {2 * f['arms']} pulls")
    ax2.set_title("early exploration (±2 s.e.)")
    ax2.grid(True, axis="y", alpha=0.3)


def _grouped_bars(ax: Any, groups: list[str], series: dict[str, list[list[float]]]) -> None:
    n = len(series)
    w = 0.8 / n
    for j, (lab, vals) in enumerate(series.items()):
        xs = [i - 0.4 + w * (j + 0.5) for i in range(len(groups))]
        bars = ax.bar(xs, [100 * v[0] for v in vals], w, yerr=[200 * v[1] for v in vals],
                      capsize=3, color=_C[j % 10], alpha=0.85, label=lab)
        for bar in bars:
            ax.annotate(f"{bar.get_height():.0f}", (bar.get_x() + bar.get_width() / 2, 2),
                        ha="center", va="bottom", fontsize=8, color="white")
    ax.set_xticks(range(len(groups)), groups)
    ax.set_ylim(0, 105)
    ax.grid(True, axis="y", alpha=0.3)


def _new_heads(f: dict[str, Any], fig: Any) -> None:
    ax1, ax2 = fig.subplots(1, 2)
    starts = f["starts"]
    _grouped_bars(ax1, starts, {
        "after 1 epoch": [f["transfer_first"][s] for s in starts],
        f"after {f['epochs']} epochs": [f["transfer_final"][s] for s in starts]})
    ax1.set_ylabel("test accuracy on digits 5–9 (%)")
    ax1.set_title("transfer: new head on a frozen trunk (±2 s.e.)")
    ax1.legend(fontsize=8, loc="upper right")
    arms = list(f["multitask"])
    _grouped_bars(ax2, ["digit (10-way)", f"parity (weight {f['loss_weight']:g})"], {
        f"heads: {a}": [f["multitask"][a]["digit"], f["multitask"][a]["parity"]] for a in arms})
    ax2.set_ylabel("test accuracy (%)")
    ax2.set_title("multi-task: two heads on one trunk (±2 s.e.)")
    ax2.legend(fontsize=8, loc="lower right")


def _maml(f: dict[str, Any], fig: Any) -> None:
    ax1, ax2, ax3 = fig.subplots(1, 3)
    colours = {"steep": "#d62728", "flat": "#1f77b4"}
    fams = list(f["ratio"])
    for fam, curve in f["curves"].items():
        xs = [round(i * (f["iterations"] - 1) / max(len(curve) - 1, 1)) for i in
              range(len(curve))]
        a0, a1, w0, w1 = f["families"][fam]
        ax1.plot(xs, curve, color=colours.get(fam), marker=".",
                 label=f"{fam}: A∈[{a0:g},{a1:g}], ω∈[{w0:g},{w1:g}]")
    ax1.set_yscale("log")
    ax1.set_xlabel("meta-iteration")
    ax1.set_ylabel("post-adaptation query MSE")
    ax1.set_title("MAML meta-training (sine regression)")
    ax1.legend(fontsize=7)
    ax1.grid(True, which="both", alpha=0.3)
    for i, fam in enumerate(fams):
        vals = f["ratio"][fam]
        ax2.bar(i, sum(vals) / len(vals), color=colours.get(fam), alpha=0.7)
        ax2.scatter([i] * len(vals), vals, color="k", s=12, zorder=3)
    ax2.axhline(1.0, color="k", ls="--", lw=0.8)
    lo = min(min(v) for v in f["ratio"].values())
    hi = max(max(v) for v in f["ratio"].values())
    pad = max(0.02, (hi - lo) * 0.3)
    ax2.set_ylim(min(lo, 1.0) - pad, max(hi, 1.0) + pad)
    ax2.set_xticks(range(len(fams)), fams)
    ax2.set_ylabel("fan_in·Var(W): learned / initial (dots: seeds)")
    ax2.set_title("learned initial weight variance")
    ax2.grid(True, axis="y", alpha=0.3)
    w = 0.38
    for i, fam in enumerate(fams):
        for j, (key, lab) in enumerate((("sat0", "initial"), ("sat1", "learned"))):
            m, se = f[key][fam]
            ax3.bar(i - w / 2 + j * w, 100 * m, w, yerr=200 * se, capsize=3,
                    color=colours.get(fam), alpha=0.4 + 0.5 * j,
                    label=lab if i == 0 else None)
    ax3.set_xticks(range(len(fams)), fams)
    ax3.set_ylabel("saturated hidden units, |z| > 2 (%)")
    ax3.set_title("saturation: initial (light) vs learned")
    ax3.legend(fontsize=8)
    ax3.grid(True, axis="y", alpha=0.3)


DRAWERS: dict[str, Callable[[dict[str, Any], Any], None]] = {
    "symmetry": _symmetry,
    "linear_variance": _linear_variance,
    "relu_variance": _relu_variance,
    "rnn_memory": _rnn_memory,
    "zero_gamma": _zero_gamma,
    "input_gradient": _input_gradient,
    "input_scale": _input_scale,
    "ntk": _ntk,
    "pinn": _pinn,
    "optimistic": _optimistic,
    "new_heads": _new_heads,
    "maml": _maml,
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
    plt = pyplot()
    fig = plt.figure(figsize=(12, 4.4))
    draw(result.figure, fig)
    fig.suptitle(f"{result.title} — {result.verdict.value}", fontsize=12,
                 color={"supported": "#1a7f1a", "partly": "#b8860b"}.get(result.verdict.value,
                                                                         "#c0392b"))
    fig.tight_layout()
    return fig


def plot_claim(result: ExperimentResult, path: str | Path) -> Path:
    """Save :func:`claim_figure` as a PNG at ``path`` (parent folders created); return it."""
    return save_png(claim_figure(result), path, dpi=100)


def claim_png(result: ExperimentResult) -> bytes:
    """The figure as PNG bytes (for the HTML report)."""
    return png_bytes(claim_figure(result), dpi=90)


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
