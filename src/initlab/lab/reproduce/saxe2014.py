"""Saxe et al. 2014: deep linear networks from orthogonal init learn in depth-independent time;
from scaled Gaussian init they do not.

Saxe, McClelland & Ganguli, "Exact solutions to the nonlinear dynamics of learning in deep
linear neural networks" (ICLR 2014), sec. 3 and Fig. 6: with the learning rate scaled as 1/L
(the largest stable rate falls as 1/L), a depth-L linear network whose layers start as random
orthogonal matrices ("dynamical isometry": every singular value of the product W_L…W_1 is 1)
reaches a given loss in a number of steps that does not grow with depth, while one started from
scaled Gaussian matrices W ~ N(0, 1/n) slows down with depth: the product's squared singular
values spread with variance L (Marchenko–Pastur products; :func:`initlab.theory.jacobian_moments`)
and the directions it shrinks are learnt exponentially slowly.

Task: the product must learn a fixed n×n target A = Q₁ diag(s) Q₂ (s from 2 down to 0.2)
from whitened inputs, so the loss is ½‖W_L…W_1 − A‖²_F / n, full-batch gradient descent with
lr = lr₀/L; the learning time is the first step with loss ≤ ``threshold`` × the initial loss.

Examples:
    >>> r = run(quick=True, depths=(2, 4), steps=50, seeds=1)
    >>> sorted(r.numbers["steps_to_threshold"])
    ['gaussian', 'orthogonal']
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch

from initlab.lab.experiment import Effect, ExperimentResult, verdict_from_checks
from initlab.lab.reproduce import _common as C

NAME = "saxe2014"
TITLE = "Saxe et al. 2014: deep linear nets, orthogonal learns in depth-independent time"
SOURCE = ("Saxe, McClelland & Ganguli 2014, Exact solutions to the nonlinear dynamics of "
          "learning in deep linear neural networks, sec. 3, Fig. 6")
CLAIM = ("with lr ∝ 1/depth, deep linear networks from random orthogonal init reach a loss in a "
         "number of steps independent of depth; from scaled Gaussian init the time grows with "
         "depth")

INITS = ("orthogonal", "gaussian")


@dataclass(frozen=True)
class Settings:
    n: int = 16
    depths: tuple[int, ...] = (2, 8, 32, 64)
    lr0: float = 1.6
    steps: int = 1500
    threshold: float = 0.01
    seeds: int = 2
    deep_from: int = 8


QUICK = Settings()
FULL = Settings(n=32, depths=(2, 4, 8, 16, 32, 64, 128), steps=4000, seeds=3)

#: orthogonal: the slowest / fastest learning time over depths ≥ deep_from must stay within
#: this factor ("depth-independent"; seeds differ by ~1.5× at one depth)
FLAT = 2.0
#: Gaussian: its time at the deepest depth must exceed the shallowest one's by this factor
GROWTH = 4.0


def target(n: int) -> torch.Tensor:
    """A = Q₁ diag(linspace(2, 0.2, n)) Q₂ with Haar Q's from seed 0."""
    g = torch.Generator().manual_seed(0)
    q1 = torch.linalg.qr(torch.randn(n, n, generator=g, dtype=torch.float64))[0]
    q2 = torch.linalg.qr(torch.randn(n, n, generator=g, dtype=torch.float64))[0]
    return (q1 @ torch.diag(torch.linspace(2.0, 0.2, n, dtype=torch.float64)) @ q2).float()


def layers(kind: str, n: int, depth: int, seed: int) -> list[torch.Tensor]:
    from initlab.core import schemes

    g = torch.Generator().manual_seed(seed)
    ws = []
    for _ in range(depth):
        w = torch.empty(n, n)
        if kind == "orthogonal":
            schemes.orthogonal_(w, generator=g)
        else:
            schemes.normal_(w, 0.0, 1.0 / math.sqrt(n), generator=g)
        ws.append(w.requires_grad_())
    return ws


def _product(ws: list[torch.Tensor]) -> torch.Tensor:
    p = ws[0]
    for w in ws[1:]:
        p = w @ p
    return p


def learn(kind: str, s: Settings, a: torch.Tensor, depth: int, seed: int,
          device: torch.device | None = None) -> tuple[float, list[float], list[float]]:
    """(steps to threshold or inf, loss curve, squared singular values of the initial
    product W_L…W_1). The layers are drawn on the CPU and trained on ``device``."""
    ws = layers(kind, s.n, depth, seed)
    with torch.no_grad():
        sv2 = (torch.linalg.svdvals(_product(ws).double()) ** 2).tolist()
    if device is not None and device.type != "cpu":
        ws = [w.detach().to(device).requires_grad_() for w in ws]
        a = a.to(device)
    opt = torch.optim.SGD(ws, lr=s.lr0 / depth)
    losses: list[float] = []
    hit = math.inf
    for step in range(s.steps + 1):
        loss = 0.5 * ((_product(ws) - a) ** 2).sum() / s.n
        v = loss.item()
        losses.append(v)
        if not math.isfinite(v) or v > 1e6:
            break
        if v <= s.threshold * losses[0]:
            hit = float(step)
            break
        if step == s.steps:
            break
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return hit, losses, sv2


def run(*, quick: bool = False, device: str | torch.device = "cpu",
        **overrides: Any) -> ExperimentResult:
    """Learning time of the deep linear net per depth, orthogonal vs Gaussian layers."""
    s = C.resolve_settings(NAME, quick, (QUICK, FULL), overrides)
    dev = C.resolve_device(device)
    t = C.Timer()
    a = target(s.n)
    depths = sorted(set(s.depths))
    hits: dict[str, dict[int, list[float]]] = {k: {} for k in INITS}
    curves: dict[str, dict[int, list[float]]] = {k: {} for k in INITS}
    cond: dict[str, dict[int, float]] = {k: {} for k in INITS}
    for kind in INITS:
        for depth in depths:
            for seed in C.seeds_of(s.seeds):
                hit, losses, sv2 = learn(kind, s, a, depth, seed, dev)
                hits[kind].setdefault(depth, []).append(hit)
                if seed == 0:
                    curves[kind][depth] = C.curve(losses, 150)
                    cond[kind][depth] = 0.5 * math.log10(max(sv2) / max(min(sv2), 1e-300))
    # a run that never reached the threshold counts as the budget (a lower bound), so means
    # stay finite; "reached" says which ones did
    def capped(k: str, d: int) -> float:
        return C.mean([min(h, s.steps) for h in hits[k][d]])

    reached = {k: {d: all(math.isfinite(h) for h in hits[k][d]) for d in depths} for k in INITS}
    deep = [d for d in depths if d >= s.deep_from] or [depths[-1]]
    ot = [capped("orthogonal", d) for d in deep]
    flat = max(ot) / min(ot) if min(ot) > 0 else math.inf
    o_ok = all(reached["orthogonal"][d] for d in depths) and flat <= FLAT
    g_growth = capped("gaussian", depths[-1]) / max(capped("gaussian", depths[0]), 1.0)
    g_ok = (g_growth >= GROWTH and
            capped("gaussian", depths[-1]) >= 2 * capped("orthogonal", depths[-1]))
    checks = {f"orthogonal: learning time within {FLAT:g}× over depths ≥ {deep[0]}": o_ok,
              f"gaussian: learning time grows ≥ {GROWTH:g}× from depth {depths[0]} to "
              f"{depths[-1]}": g_ok}

    def fmt_t(k: str, d: int) -> str:
        return f"{capped(k, d):.0f}" + ("" if reached[k][d] else "+")

    reason = (f"steps to {s.threshold:g}× the initial loss at depths {depths}: orthogonal "
              f"{[fmt_t('orthogonal', d) for d in depths]}, Gaussian "
              f"{[fmt_t('gaussian', d) for d in depths]} ('+': not reached in {s.steps} steps); "
              f"orthogonal varies {flat:.2f}× over depths ≥ {deep[0]}, Gaussian grows "
              f"{g_growth:.1f}×")
    effects = [Effect.from_samples(f"steps[{k}, L={d}]", [min(h, s.steps) for h in hits[k][d]],
                                   note="" if reached[k][d] else "not reached: budget")
               for k in INITS for d in (depths[0], depths[-1])]
    return ExperimentResult(
        name=NAME, title=TITLE, claim=CLAIM, source=SOURCE,
        verdict=verdict_from_checks(list(checks.values())), reason=reason,
        effects=tuple(effects),
        numbers={"steps_to_threshold": {k: {str(d): v for d, v in hits[k].items()}
                                        for k in INITS},
                 "reached": {k: {str(d): v for d, v in reached[k].items()} for k in INITS},
                 "initial_log10_condition": {k: {str(d): v for d, v in cond[k].items()}
                                             for k in INITS},
                 "checks": checks},
        figure={"kind": "saxe2014", "depths": depths, "budget": s.steps,
                "steps": {k: [capped(k, d) for d in depths] for k in INITS},
                "reached": {k: [reached[k][d] for d in depths] for k in INITS},
                "loss_curves": {k: {str(d): v for d, v in curves[k].items()} for k in INITS},
                "log10_condition": {k: [cond[k][d] for d in depths] for k in INITS}},
        settings=C.settings_dict(s, quick), elapsed_s=t.elapsed,
    )
