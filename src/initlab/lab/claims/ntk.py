"""Claim 7, the neural tangent kernel: Xavier and He give different empirical NTKs at init; a
saturating or vanishing init gives a degenerate (badly conditioned) one; and the conditioning
predicts early training speed.

The experiment: tanh MLPs on the bundled digits (``depth`` weight layers of width ``width``, zero
biases) with weights N(0, v/fan_in·…) for four starts — Xavier (σ² = 2/(fan_in + fan_out)), He
(σ² = 2/fan_in), saturating (σ² = ``saturating_var``/fan_in) and vanishing
(σ² = ``vanishing_var``/fan_in). Measured per start and seed:

* the empirical NTK Θ = J_θ J_θᵀ on ``ntk_samples`` training images × 10 logits
  (:func:`initlab.probe.ntk_condition`): its condition number (capped at 10¹⁶, float64's
  resolution: beyond it the kernel is numerically singular) and trace;
* early training speed: the relative drop of the training loss over one epoch of SGD
  (lab.train, the same step for every start), 1 − L_end/L_0.

Verdict checks: (1) Xavier and He differ — the ratio of their NTK traces differs from 1 beyond
2 s.e.; (2, 3) the saturating and the vanishing start are each degenerate — log₁₀ cond exceeds
Xavier's by more than 1 (×10) beyond 2 s.e.; (4) conditioning predicts speed — Spearman's ρ
between log cond and the speed over all (start, seed) runs is below −2/√(n − 1) (two standard
errors of ρ under no relation).

Examples:
    >>> r = run(width=16, depth=4, ntk_samples=4, seeds=2)
    >>> r.effect("log10 cond: vanishing").value > r.effect("log10 cond: Xavier").value
    True
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

from initlab.lab.claims._common import (
    Timer,
    check_int,
    check_positive,
    digits,
    fit,
    generator,
    mean,
    resolve_device,
    seed_list,
    stderr,
)
from initlab.lab.experiment import Effect, ExperimentResult, verdict_from_checks
from initlab.probe import ntk_condition

NAME = "ntk"
TITLE = "Init shapes the NTK; bad inits give degenerate kernels"
CLAIM = ("Two networks with identical architectures but different initializations (e.g., Xavier "
         "vs. He) will have different NTKs at time zero ... A proper initialization, like Xavier, "
         "ensures this kernel is well-conditioned ... A poor initialization, leading to "
         "saturation or vanishing signals, results in a degenerate kernel — a landscape of vast "
         "flat plateaus and sharp cliffs, where training stalls or becomes unstable.")
SOURCE = ("seeds 003 (§ Principles, last paragraph; § Deeper, NTK); Jacot, Gabriel & Hongler "
          "2018 (NTK); Xiao, Pennington & Schoenholz 2020 (Disentangling trainability and "
          "generalization: NTK conditioning vs the phase diagram)")


def _starts(saturating_var: float, vanishing_var: float) -> dict[str, tuple[str, float]]:
    return {"Xavier": ("xavier", 1.0), "He": ("fan_in", 2.0),
            "saturating": ("fan_in", saturating_var), "vanishing": ("fan_in", vanishing_var)}


def _mlp(depth: int, width: int, mode: str, v: float, seed: int) -> nn.Sequential:
    g = generator(seed)
    dims = [64] + [width] * (depth - 1) + [10]
    layers: list[nn.Module] = []
    for i in range(depth):
        fi, fo = dims[i], dims[i + 1]
        var = 2.0 / (fi + fo) if mode == "xavier" else v / fi
        lin = nn.Linear(fi, fo)
        with torch.no_grad():
            lin.weight.copy_(torch.randn(fo, fi, generator=g) * math.sqrt(var))
            lin.bias.zero_()
        layers.append(lin)
        if i < depth - 1:
            layers.append(nn.Tanh())
    return nn.Sequential(*layers)


def _ranks(xs: Sequence[float]) -> list[float]:
    order = sorted(range(len(xs)), key=lambda i: xs[i])
    ranks = [0.0] * len(xs)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and xs[order[j + 1]] == xs[order[i]]:
            j += 1
        for k in range(i, j + 1):
            ranks[order[k]] = (i + j) / 2
        i = j + 1
    return ranks


def spearman(x: Sequence[float], y: Sequence[float]) -> float:
    """Spearman's rank correlation (ties get mean ranks); 0 when either side is constant.

    Examples:
        >>> spearman([1, 2, 3], [3, 2, 1])
        -1.0
    """
    rx, ry = _ranks(x), _ranks(y)
    mx, my = mean(rx), mean(ry)
    sxy = sum((a - mx) * (b - my) for a, b in zip(rx, ry, strict=True))
    sxx = sum((a - mx) ** 2 for a in rx)
    syy = sum((b - my) ** 2 for b in ry)
    return sxy / math.sqrt(sxx * syy) if sxx > 0 and syy > 0 else 0.0


def run(*, quick: bool = True, seeds: int | Sequence[int] | None = None,
        width: int | None = None, depth: int | None = None, ntk_samples: int | None = None,
        saturating_var: float = 16.0, vanishing_var: float = 0.05, lr: float = 0.02,
        epochs: int = 1,
        device: str | torch.device = "cpu") -> ExperimentResult:
    """Measure NTK conditioning per start and its relation to early training speed.

    Args:
        width, depth: the tanh MLP (quick: 64, 6); ntk_samples: images in the kernel.
        saturating_var, vanishing_var: fan_in·σ² of the bad starts (setting both to 1 makes
            them ordinary LeCun starts: the control).
        lr, epochs: the SGD run that measures early speed (momentum 0.9, batches of 64).
    """
    dev = resolve_device(device)
    seeds_ = seed_list(seeds, quick, 3, 6)
    width = check_int("width", width if width is not None else (64 if quick else 128), 2)
    depth = check_int("depth", depth if depth is not None else (6 if quick else 10), 2)
    n_ntk = check_int("ntk_samples", ntk_samples if ntk_samples is not None
                      else (12 if quick else 24), 2)
    check_positive("saturating_var", saturating_var)
    check_positive("vanishing_var", vanishing_var)
    check_positive("lr", lr)
    check_int("epochs", epochs, 1)
    data = digits()
    xk = data.x_train[:n_ntk]
    starts = _starts(saturating_var, vanishing_var)
    cond: dict[str, list[float]] = {}
    trace: dict[str, list[float]] = {}
    speed: dict[str, list[float]] = {}
    spectra: dict[str, list[list[float]]] = {}
    curves: dict[str, list[list[float]]] = {}
    with Timer() as t:
        for label, (mode, v) in starts.items():
            for s in seeds_:
                net = _mlp(depth, width, mode, v, s)
                spec = ntk_condition(net, xk)
                top = spec.eigenvalues[0]
                # a numerically singular kernel (λ_min ≤ 0 in float64) counts as cond = 10¹⁶
                lc = (math.log10(spec.condition) if math.isfinite(spec.condition)
                      and spec.condition < 1e16 else 16.0) if top > 0 else 16.0
                cond.setdefault(label, []).append(lc)
                trace.setdefault(label, []).append(spec.trace)
                spectra.setdefault(label, []).append(
                    [e / spec.trace for e in spec.eigenvalues] if spec.trace > 0 else [])
                torch.manual_seed(s)
                rec = fit(net, data, dev, epochs=epochs, lr=lr, seed=s)
                losses = [v_ for v_ in rec.step_loss if math.isfinite(v_)]
                end = mean(losses[-5:]) if losses else math.inf
                sp = 1 - end / rec.step_loss[0] if not rec.diverged else -1.0
                speed.setdefault(label, []).append(sp)
                curves.setdefault(label, []).append(list(rec.step_loss))
    ratio = [h / x for h, x in zip(trace["He"], trace["Xavier"], strict=True)]
    r_e = Effect.from_samples("NTK trace ratio He/Xavier", ratio, target=1.0,
                              note="≠ 1: the kernels differ")
    different = abs(r_e.value - 1) > 2 * r_e.stderr and abs(r_e.value - 1) > 0.05
    gaps = {}
    for bad in ("saturating", "vanishing"):
        gaps[bad] = [b - x for b, x in zip(cond[bad], cond["Xavier"], strict=True)]
    degenerate = {bad: mean(g) - 2 * stderr(g) > 1.0 for bad, g in gaps.items()}
    xs = [c for lab in starts for c in cond[lab]]
    ys = [v for lab in starts for v in speed[lab]]
    rho = spearman(xs, ys)
    rho_crit = -2 / math.sqrt(len(xs) - 1)
    predicts = rho < rho_crit
    checks = [different, degenerate["saturating"], degenerate["vanishing"], predicts]
    verdict = verdict_from_checks(checks)
    effects = (
        Effect.from_samples("log10 cond: saturating − Xavier", gaps["saturating"],
                            note="> 1: at least ×10 worse conditioned"),
        Effect.from_samples("log10 cond: vanishing − Xavier", gaps["vanishing"]),
        r_e,
        Effect(name="Spearman ρ(log cond, early speed)", value=rho, n=len(xs),
               target=None, note=f"predicts speed if ρ < {rho_crit:.2f}"),
        *[Effect.from_samples(f"log10 cond: {lab}", cond[lab]) for lab in starts],
        *[Effect.from_samples(f"early speed: {lab}", speed[lab],
                              note="1 − loss after one epoch / first loss") for lab in starts],
    )
    reason = (
        "log₁₀ cond(NTK): " + ", ".join(f"{lab} {mean(cond[lab]):.2f}" for lab in starts)
        + f"; trace He/Xavier ×{r_e.value:.2f}; early speed: "
        + ", ".join(f"{lab} {mean(speed[lab]):.2f}" for lab in starts)
        + f"; Spearman ρ(log cond, speed) = {rho:+.2f} (needs < {rho_crit:.2f})"
    )
    return ExperimentResult(
        name=NAME, title=TITLE, claim=CLAIM, source=SOURCE, verdict=verdict, reason=reason,
        effects=effects,
        numbers={"log10_cond": cond, "trace": trace, "speed": speed, "spearman": rho,
                 "checks": {"xavier_he_differ": different,
                            "saturating_degenerate": degenerate["saturating"],
                            "vanishing_degenerate": degenerate["vanishing"],
                            "cond_predicts_speed": predicts}},
        figure={"log10_cond": cond, "speed": speed,
                "spectra": {lab: [mean(col) for col in zip(*v, strict=True)]
                            for lab, v in spectra.items() if all(v)},
                "curves": {lab: [mean(col) for col in zip(*v, strict=False)]
                           for lab, v in curves.items()},
                "starts": {lab: f"{'2/(fan_in+fan_out)' if m == 'xavier' else f'{v:g}/fan_in'}"
                           for lab, (m, v) in starts.items()},
                "rho": rho},
        settings={"quick": quick, "seeds": seeds_, "width": width, "depth": depth,
                  "ntk_samples": n_ntk, "saturating_var": saturating_var,
                  "vanishing_var": vanishing_var, "lr": lr, "epochs": epochs},
        elapsed_s=t.elapsed,
    )
