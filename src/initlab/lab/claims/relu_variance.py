"""Claim 3: Xavier halves ReLU's variance per layer; He keeps it.

The experiment: a ReLU MLP of ``depth`` square layers of width n, zero biases, weights
N(0, σ²) with Xavier's σ² = 2/(n_in + n_out) = 1/n and He's σ² = 2/n; inputs x ~ N(0, I). The
forward factor is q_{l+1}/q_l, q_l = E[h_l²] the pre-activation second moment of layer l (from
the second layer on: the first layer's input is not a ReLU output); the backward factor is
E[δ_l²]/E[δ_{l+1}²], δ_l = ∂(r·f(x))/∂h_l for a fixed random r ~ N(0, I) on the output. Both are
geometric means over layers, one sample per seed.

Prediction (He et al. 2015, eqs. 7–10): E[relu(h)²] = q/2 for symmetric h, so the factor is
n·σ²/2: 1/2 for Xavier, 1 for He, forward and backward (square layers: fan-in = fan-out).

Verdict: each of the four factors agrees with its prediction within 5 % + 2 standard errors
(5 %: finite-width corrections to the geometric mean are O(1/n)).

Examples:
    >>> r = run(width=64, depth=4, seeds=2)
    >>> round(r.effect("Xavier forward").target, 2), round(r.effect("He forward").target, 2)
    (0.5, 1.0)
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import torch

from initlab.errors import InitError
from initlab.lab.claims._common import (
    Timer,
    check_int,
    generator,
    resolve_device,
    seed_list,
    to_device,
)
from initlab.lab.experiment import Effect, ExperimentResult, verdict_from_checks

NAME = "relu_variance"
TITLE = "ReLU: Xavier halves the variance per layer, He keeps it"
CLAIM = ("If we are losing half our signal strength at every step, and we use Xavier "
         "initialization, the scaling factor per layer becomes not 1, but 1/2 ... He "
         "initialization ... precisely counteracts the information-destroying effect of the ReLU "
         "function, ensuring that the signal variance remains stable across the network.")
SOURCE = ("seeds 003 (§ ReLU), 001 (ReLU Weight Initialization), 002 (Kaiming / MSRA); "
          "He et al. 2015 (Delving Deep into Rectifiers), eqs. 7–10 and 13–14")

REL_TOL = 0.05
ACTIVATIONS = {"relu": torch.relu, "tanh": torch.tanh, "linear": lambda h: h}


def _factors(width: int, depth: int, var: float, batch: int, seed: int, phi,
             device: torch.device | None = None) -> tuple[float, float, list[float], list[float]]:
    g = generator(seed)  # every draw on the CPU, then moved: the same numbers on every device
    (x,) = to_device(device, torch.randn(batch, width, generator=g, dtype=torch.float64))
    pre: list[torch.Tensor] = []
    h = x
    for _ in range(depth):
        w = torch.randn(width, width, generator=g, dtype=torch.float64) * math.sqrt(var)
        (w,) = to_device(device, w)
        z = (h @ w.t()).requires_grad_() if not pre else h @ w.t()
        z.retain_grad()
        pre.append(z)
        h = phi(z)
    (r,) = to_device(device, torch.randn(h.shape, generator=g, dtype=torch.float64))
    (h * r).sum().backward()
    q = [float(z.detach().pow(2).mean()) for z in pre]
    d = [float(z.grad.pow(2).mean()) for z in pre]  # type: ignore[union-attr]
    fwd = [math.log(b / a) for a, b in itertools.pairwise(q)]
    bwd = [math.log(a / b) for a, b in itertools.pairwise(d)]
    return math.exp(sum(fwd) / len(fwd)), math.exp(sum(bwd) / len(bwd)), q, d


def run(*, quick: bool = True, seeds: int | Sequence[int] | None = None,
        width: int | None = None, depth: int | None = None, batch: int = 256,
        activation: str = "relu",
        device: str | torch.device = "cpu") -> ExperimentResult:
    """Measure Xavier's and He's per-layer factors on a ReLU MLP (see the module docstring).

    Args:
        width, depth, batch: sizes (quick: 128, 10, 256).
        activation: ``"relu"`` (the claim) or ``"tanh"``/``"linear"``: the control where the
            factors are not 1/2 and 1, so the verdict must change.
    """
    dev = resolve_device(device, float64="relu_variance")
    seeds_ = seed_list(seeds, quick, 4, 10)
    width = check_int("width", width if width is not None else (128 if quick else 512), 2)
    depth = check_int("depth", depth if depth is not None else (10 if quick else 30), 3)
    batch = check_int("batch", batch, 2)
    if activation not in ACTIVATIONS:
        raise InitError(f"relu_variance: activation must be one of {', '.join(ACTIVATIONS)}, "
                        f"got {activation!r}")
    phi = ACTIVATIONS[activation]
    schemes = {"Xavier": (1.0 / width, 0.5), "He": (2.0 / width, 1.0)}
    effects, checks = [], []
    profiles: dict[str, dict[str, list[float]]] = {}
    with Timer() as t:
        for label, (var, target) in schemes.items():
            fw, bw, qs, ds = [], [], [], []
            for s in seeds_:
                f, b, q, d = _factors(width, depth, var, batch, s, phi, dev)
                fw.append(f)
                bw.append(b)
                qs.append(q)
                ds.append(d)
            for direction, samples in (("forward", fw), ("backward", bw)):
                e = Effect.from_samples(f"{label} {direction}", samples, target=target,
                                        note="per-layer factor (geometric mean over layers)")
                effects.append(e)
                checks.append(e.agrees_with_target(REL_TOL, z=2.0))
            profiles[label] = {
                "forward": [math.exp(sum(math.log(v) for v in col) / len(col))
                            for col in zip(*qs, strict=True)],
                "backward": [math.exp(sum(math.log(v) for v in col) / len(col))
                             for col in zip(*ds, strict=True)],
            }
    verdict = verdict_from_checks(checks)
    reason = "; ".join(f"{e.name} ×{e.value:.3f} per layer (predicted {e.target:g})"
                       for e in effects) + f" — {activation}, width {width}, depth {depth}"
    return ExperimentResult(
        name=NAME, title=TITLE, claim=CLAIM, source=SOURCE, verdict=verdict, reason=reason,
        effects=tuple(effects),
        numbers={"checks": checks, "profiles": profiles},
        figure={"profiles": profiles, "depth": depth,
                "factors": {e.name: [e.value, e.stderr, e.target] for e in effects},
                "activation": activation},
        settings={"quick": quick, "seeds": seeds_, "width": width, "depth": depth,
                  "batch": batch, "activation": activation},
        elapsed_s=t.elapsed,
    )
