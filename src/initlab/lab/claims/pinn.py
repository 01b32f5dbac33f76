"""Claim 8, PINN: "with He initialization, the initial gradient magnitude of a PINN for the
advection equation u_t + c·u_x = 0 equals c".

The experiment: a standard physics-informed network (Raissi, Perdikaris & Karniadakis 2019) — a
tanh MLP u_θ(x, t) with ``depth`` hidden layers of width ``width``, He-initialized
(N(0, 2/fan_in), zero biases) — and its loss at init,

    L(θ) = mean_i (∂_t u + c ∂_x u)²(x_i, t_i) + mean_j (u(x_j, 0) − sin(π x_j))²,

on ``n_residual`` uniform collocation points in [−1, 1] × [0, 1] and ``n_initial`` points on
t = 0. Measured for each wave speed c in ``speeds`` and each seed: the gradient magnitude
‖∇_θ L‖₂ (and, for reference, the residual term's alone and the rms residual).

Verdict (:func:`verdict_from_gradients`), two checks: *equal to c* — ‖∇_θ L‖/c is within 25 % of
1 (+ 2 s.e.) at every c; *proportional to c* — the log–log slope of ‖∇_θ L‖ against c is within
0.15 of 1 (+ 2 s.e.). No derivation supports the claim: for large c the residual term is
≈ c²·mean(u_x²), so its gradient grows like c², and for small c the c-independent
initial-condition term dominates.

Examples:
    >>> r = run(width=8, depth=2, speeds=(4.0, 16.0), n_residual=64, n_initial=16, seeds=2)
    >>> r.effect("log-log slope of ‖∇L‖ in c").value > 1.5, r.verdict.value
    (True, 'not supported')
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

from initlab.lab.claims._common import (
    Timer,
    check_int,
    check_values,
    fit_line,
    generator,
    mean,
    resolve_device,
    seed_list,
    stderr,
    to_device,
)
from initlab.lab.experiment import Effect, ExperimentResult, Verdict, verdict_from_checks

NAME = "pinn"
TITLE = "PINN (advection): He init's initial gradient magnitude equals c?"
CLAIM = ("If we initialize a PINN for the advection equation, u_t + c·u_x = 0, using the standard "
         "He initialization, we can calculate the expected magnitude of the gradients at the very "
         "start of training. The result is astonishing: this initial gradient magnitude is not "
         "some random number, but is equal to c, where c is the wave speed.")
SOURCE = ("seeds 003 (§ Applications, physics); PINNs: Raissi, Perdikaris & Karniadakis 2019; "
          "gradient imbalance between PINN loss terms: Wang, Teng & Perdikaris 2021; failure "
          "for large advection speeds: Krishnapriyan et al. 2021 — none derives 'equals c'")

EQUAL_TOL = 0.25
SLOPE_TOL = 0.15


def _mlp(depth: int, width: int, seed: int) -> nn.Sequential:
    g = generator(seed)
    dims = [2] + [width] * depth + [1]
    layers: list[nn.Module] = []
    for i in range(len(dims) - 1):
        lin = nn.Linear(dims[i], dims[i + 1])
        with torch.no_grad():
            lin.weight.copy_(torch.randn(dims[i + 1], dims[i], generator=g)
                             * math.sqrt(2.0 / dims[i]))
            lin.bias.zero_()
        layers.append(lin)
        if i < len(dims) - 2:
            layers.append(nn.Tanh())
    return nn.Sequential(*layers).double()


def _measure(net: nn.Sequential, c: float, xt: torch.Tensor, x0: torch.Tensor
             ) -> tuple[float, float, float]:
    """(‖∇_θ L‖, ‖∇_θ L_residual‖, rms residual) at the current weights."""
    params = list(net.parameters())
    pts = xt.clone().requires_grad_()
    u = net(pts)
    (du,) = torch.autograd.grad(u.sum(), pts, create_graph=True)
    res = du[:, 1] + c * du[:, 0]
    l_res = res.pow(2).mean()
    u0 = net(torch.stack([x0, torch.zeros_like(x0)], 1)).squeeze(1)
    l_ic = (u0 - torch.sin(math.pi * x0)).pow(2).mean()
    g_all = torch.autograd.grad(l_res + l_ic, params, retain_graph=True)
    g_res = torch.autograd.grad(l_res, params, allow_unused=True)  # output bias: unused
    norm = math.sqrt(sum(float(g.pow(2).sum()) for g in g_all))
    norm_res = math.sqrt(sum(float(g.pow(2).sum()) for g in g_res if g is not None))
    return norm, norm_res, float(res.detach().pow(2).mean().sqrt())


def verdict_from_gradients(speeds: Sequence[float], grads: Sequence[Sequence[float]]
                           ) -> tuple[Verdict, dict[str, bool], Effect, Effect]:
    """The claim's verdict from gradient magnitudes ``grads[i][k]`` (speed i, seed k).

    Returns (verdict, checks, the ratio ‖∇L‖/c pooled over speeds, the log–log slope over
    seeds).

    Examples:
        >>> verdict_from_gradients([1, 2, 4], [[1.0, 1.02], [2.0, 1.98], [4.1, 3.9]])[0].value
        'supported'
        >>> verdict_from_gradients([1, 2, 4], [[1.0, 1.1], [4.0, 4.2], [16, 17]])[0].value
        'not supported'
    """
    ratios = [[g / c for g in gs] for c, gs in zip(speeds, grads, strict=True)]
    equal = all(Effect.from_samples("r", r, target=1.0).agrees_with_target(EQUAL_TOL, z=2.0)
                for r in ratios)
    n_seeds = len(grads[0])
    slopes = [fit_line([math.log(c) for c in speeds], [math.log(gs[k]) for gs in grads])[0]
              for k in range(n_seeds)]
    slope = Effect.from_samples("log-log slope of ‖∇L‖ in c", slopes, target=1.0,
                                note="1: proportional to c")
    proportional = abs(slope.value - 1) <= SLOPE_TOL + 2 * slope.stderr
    pooled = Effect.from_samples("‖∇L‖ / c (all speeds)", [v for r in ratios for v in r],
                                 target=1.0, note="1: equal to c")
    checks = {"equal_to_c": equal, "proportional_to_c": proportional}
    return verdict_from_checks(list(checks.values())), checks, pooled, slope


def run(*, quick: bool = True, seeds: int | Sequence[int] | None = None,
        width: int | None = None, depth: int | None = None,
        speeds: Sequence[float] = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0),
        n_residual: int | None = None, n_initial: int | None = None,
        device: str | torch.device = "cpu") -> ExperimentResult:
    """Measure a He-initialized PINN's initial gradient magnitude over wave speeds c.

    Args:
        width, depth: hidden width and number of hidden tanh layers (quick: 32, 4).
        speeds: wave speeds c (> 0, at least two different values).
        n_residual, n_initial: collocation points (quick: 512, 128).
    """
    dev = resolve_device(device, float64="pinn")
    seeds_ = seed_list(seeds, quick, 4, 10)
    width = check_int("width", width if width is not None else (32 if quick else 64), 1)
    depth = check_int("depth", depth if depth is not None else (4 if quick else 6), 1)
    cs = check_values("speeds", speeds, min_len=2)
    if len(set(cs)) < 2:
        from initlab.errors import InitError

        raise InitError("pinn: speeds need at least two different values")
    n_res = check_int("n_residual", n_residual if n_residual is not None
                      else (512 if quick else 2048), 1)
    n_ic = check_int("n_initial", n_initial if n_initial is not None
                     else (128 if quick else 512), 1)
    grads: list[list[float]] = [[] for _ in cs]
    grads_res: list[list[float]] = [[] for _ in cs]
    rms: list[list[float]] = [[] for _ in cs]
    with Timer() as t:
        for s in seeds_:
            g = generator(10_000 + s)
            xt = torch.stack([torch.rand(n_res, generator=g, dtype=torch.float64) * 2 - 1,
                              torch.rand(n_res, generator=g, dtype=torch.float64)], 1)
            x0 = torch.rand(n_ic, generator=g, dtype=torch.float64) * 2 - 1
            net = _mlp(depth, width, s)  # drawn on the CPU, measured on the device
            if dev.type != "cpu":
                net.to(dev)
                xt, x0 = to_device(dev, xt, x0)
            for i, c in enumerate(cs):
                a, b, r = _measure(net, c, xt, x0)
                grads[i].append(a)
                grads_res[i].append(b)
                rms[i].append(r)
    verdict, checks, pooled, slope = verdict_from_gradients(cs, grads)
    big = sorted(range(len(cs)), key=lambda i: cs[i])[-3:]
    tail_slopes = [fit_line([math.log(cs[i]) for i in big],
                            [math.log(grads[i][k]) for i in big])[0] for k in range(len(seeds_))]
    i_max = big[-1]
    effects = (
        pooled,
        slope,
        Effect.from_samples("log-log slope at the three largest c", tail_slopes, target=2.0,
                            note="2: the residual term ≈ c²·mean(u_x²) dominates"),
        Effect.from_samples(f"rms residual / c at c={cs[i_max]:g}",
                            [v / cs[i_max] for v in rms[i_max]],
                            note="the residual itself, not its gradient, scales like c"),
        *[Effect.from_samples(f"‖∇L‖ at c={c:g}", grads[i], target=c) for i, c in enumerate(cs)],
    )
    reason = (
        "‖∇_θ L‖ at init: " + ", ".join(f"c={c:g}: {mean(grads[i]):.3g}"
                                         for i, c in enumerate(cs))
        + f"; log–log slope {slope.value:.2f} ± {slope.stderr:.2g} (claim: 1, and ‖∇L‖ = c), "
        f"{mean(tail_slopes):.2f} at large c (≈ 2: ∝ c²) — "
        f"equal to c: {'yes' if checks['equal_to_c'] else 'no'}, proportional: "
        f"{'yes' if checks['proportional_to_c'] else 'no'}"
    )
    return ExperimentResult(
        name=NAME, title=TITLE, claim=CLAIM, source=SOURCE, verdict=verdict, reason=reason,
        effects=effects,
        numbers={"speeds": list(cs), "grad_norm": grads, "grad_norm_residual": grads_res,
                 "rms_residual": rms, "checks": checks},
        figure={"speeds": list(cs),
                "grad": [[mean(v), stderr(v)] for v in grads],
                "grad_res": [[mean(v), stderr(v)] for v in grads_res],
                "rms": [[mean(v), stderr(v)] for v in rms]},
        settings={"quick": quick, "seeds": seeds_, "width": width, "depth": depth,
                  "speeds": list(cs), "n_residual": n_res, "n_initial": n_ic},
        elapsed_s=t.elapsed,
    )
