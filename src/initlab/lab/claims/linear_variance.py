"""Claim 2, variance through depth in a linear network: E‖x_{l+1}‖² = n·σ²·E‖x_l‖².

The experiment: deep linear networks x_{l+1} = W_l x_l with square n × n layers (fan-in n) and
W_l entries i.i.d. N(0, σ²), σ² = v/n for v in ``variances`` and n in ``widths``; inputs
x ~ N(0, I). Measured per layer: ρ_l = mean_b ‖x_{l+1}‖² / mean_b ‖x_l‖² (a batch of
``batch`` inputs), averaged over the ``depth`` layers of one network (one sample per seed); and
the slope of log E‖x_l‖² against l (predicted log(nσ²)).

Since W_l is independent of x_l, E[‖W_l x_l‖² | x_l] = n·σ²·‖x_l‖² exactly: ρ_l is unbiased
for n·σ² whatever the depth; its spread (relative sd ≈ √(2/(n·b))) is measured over seeds.

Verdict: every (n, σ²) agrees with n·σ² within 3 % + 2 standard errors over seeds (3 %: a
margin for the mean of a ratio, whose bias is O(1/(n·b)) ≪ 3 %).

Examples:
    >>> r = run(widths=(16,), variances=(2.0,), depth=4, seeds=2)
    >>> abs(r.effect("n=16, nσ²=2").value - 2.0) < 0.3
    True
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch

from initlab.errors import InitError
from initlab.lab.claims._common import (
    Timer,
    check_int,
    check_values,
    fit_line,
    generator,
    mean,
    resolve_device,
    seed_list,
    to_device,
)
from initlab.lab.experiment import Effect, ExperimentResult, verdict_from_checks

NAME = "linear_variance"
TITLE = "Linear nets: E‖x_{l+1}‖² = n·σ²·E‖x_l‖²"
CLAIM = ("In a deep linear network ... the expected squared norm evolves from layer to layer by a "
         "simple factor: E‖x_{l+1}‖² = n·σ²·E‖x_l‖², where n is the layer's fan-in (width) and σ² "
         "is the variance of the individual weight entries.")
SOURCE = ("seeds 003 (§ Principles, 'Rosetta Stone'), 001 (Variance Flow Through Networks); "
          "LeCun et al. 1998 (Efficient BackProp); Glorot & Bengio 2010, eq. 5; Saxe et al. 2014")

REL_TOL = 0.03
ACTIVATIONS = {"linear": lambda h: h, "relu": torch.relu, "tanh": torch.tanh}


def run(*, quick: bool = True, seeds: int | Sequence[int] | None = None,
        widths: Sequence[int] | None = None, variances: Sequence[float] = (0.5, 1.0, 2.0),
        depth: int | None = None, batch: int = 256, activation: str = "linear",
        device: str | torch.device = "cpu") -> ExperimentResult:
    """Measure the per-layer factor of E‖x‖² against n·σ² (see the module docstring).

    Args:
        widths: layer widths n (fan-in = fan-out = n).
        variances: v = n·σ², the predicted factor per layer.
        depth: layers per network; batch: inputs per network.
        activation: ``"linear"`` (the claim's setting) or ``"relu"``/``"tanh"`` after each layer
            (the control: the formula then does not hold, and the verdict must say so).
    """
    dev = resolve_device(device, float64="linear_variance")
    seeds_ = seed_list(seeds, quick, 4, 10)
    widths_ = tuple(check_int("widths", int(w), 1) for w in
                    (widths if widths is not None else ((16, 64, 128) if quick else
                                                        (16, 64, 256, 512))))
    vs = check_values("variances", variances)
    depth = check_int("depth", depth if depth is not None else (8 if quick else 20), 1)
    batch = check_int("batch", batch, 1)
    if activation not in ACTIVATIONS:
        raise InitError(f"linear_variance: activation must be one of {', '.join(ACTIVATIONS)}, "
                        f"got {activation!r}")
    phi = ACTIVATIONS[activation]
    effects: list[Effect] = []
    checks: list[bool] = []
    curves: dict[str, list[float]] = {}
    ratios_all: list[float] = []
    slopes: dict[str, list[float]] = {}
    with Timer() as t:
        for n in widths_:
            for v in vs:
                per_seed, logq_all = [], []
                for s in seeds_:
                    g = generator(s)
                    x = torch.randn(batch, n, generator=g, dtype=torch.float64)
                    (x,) = to_device(dev, x)  # drawn on the CPU: the same numbers everywhere
                    q = [float(x.pow(2).sum(1).mean())]
                    ratios = []
                    for _ in range(depth):
                        w = torch.randn(n, n, generator=g, dtype=torch.float64) * math.sqrt(v / n)
                        (w,) = to_device(dev, w)
                        x = phi(x @ w.t())
                        q.append(float(x.pow(2).sum(1).mean()))
                        ratios.append(q[-1] / q[-2] if q[-2] > 0 else math.nan)
                    per_seed.append(mean(ratios))
                    logq_all.append([math.log(qq) if qq > 0 else -math.inf for qq in q])
                ratios_all += [p / v for p in per_seed]
                key = f"n={n}, nσ²={v:g}"
                e = Effect.from_samples(key, per_seed, target=v,
                                        note="mean per-layer factor of E‖x‖²")
                effects.append(e)
                checks.append(e.agrees_with_target(REL_TOL, z=2.0))
                curves[key] = [mean(col) for col in zip(*logq_all, strict=True)]
                if all(math.isfinite(c) for c in curves[key]):
                    slopes[key] = list(fit_line(list(range(depth + 1)), curves[key])[:2])
    pooled = Effect.from_samples("measured / predicted (all settings)", ratios_all, target=1.0,
                                 note="per-seed factor divided by n·σ², pooled over (n, σ²)")
    effects.insert(0, pooled)
    verdict = verdict_from_checks(checks)
    worst = max(effects[1:], key=lambda e: abs(e.value / e.target - 1) if e.target else 0)
    reason = (f"{sum(checks)}/{len(checks)} (width, σ²) settings match n·σ² within "
              f"{REL_TOL:.0%} + 2 s.e.; largest deviation {worst.name}: measured "
              f"{worst.value:.4g} vs {worst.target:g} ({activation} layers, depth {depth})")
    return ExperimentResult(
        name=NAME, title=TITLE, claim=CLAIM, source=SOURCE, verdict=verdict, reason=reason,
        effects=tuple(effects),
        numbers={"log_sq_norm": curves, "log_slope": slopes, "checks": checks},
        figure={"widths": list(widths_), "variances": list(vs),
                "measured": [e.value for e in effects[1:]],
                "stderr": [e.stderr for e in effects[1:]],
                "predicted": [e.target for e in effects[1:]],
                "labels": [e.name for e in effects[1:]],
                "log_sq_norm": curves, "activation": activation},
        settings={"quick": quick, "seeds": seeds_, "widths": list(widths_),
                  "variances": list(vs), "depth": depth, "batch": batch,
                  "activation": activation},
        elapsed_s=t.elapsed,
    )
