"""Claim 12, MAML: "on task families with high-curvature losses MAML learns to increase the
initial weight variance, pushing neurons toward saturation".

The experiment: MAML (Finn, Abbeel & Levine 2017) on sine regression, y = A·sin(ω x + φ),
x ∈ [−5, 5], φ ∈ [0, π], with a *steep* family (large A and ω: high-curvature losses) and a
*flat* one (small A and ω). The model is a 1 → ``width`` → ``width`` → 1 tanh MLP, Xavier
initialized, zero biases. Meta-training: one inner SGD step (α = ``inner_lr``) on K = ``shots``
support points, the query loss on K other points, second order (the inner step is
``torch.func.grad`` inside the differentiated meta-loss, ``vmap`` over a meta-batch of
``meta_batch`` tasks), Adam on the initialization, ``iterations`` steps. Measured on the learned
initialization, per family and seed, against the starting one:

* weight variance: fan_in·Var(W) of each hidden layer, after / before (mean over the two);
* saturation: the share of hidden pre-activations with |z| > 2 on a grid of x in [−5, 5].

Verdict checks: in the steep family the variance ratio exceeds 1 and saturation grows (each
beyond 2 s.e. over seeds), and the steep family's variance ratio exceeds the flat family's.

Examples:
    >>> r = run(width=8, iterations=3, meta_batch=2, shots=5, seeds=2)
    >>> r.effect("variance ratio: steep").n
    2
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn
from torch.func import functional_call, grad, vmap

from initlab.errors import InitError
from initlab.lab.claims._common import (
    Timer,
    check_int,
    check_positive,
    differs,
    generator,
    mean,
    resolve_device,
    seed_list,
    stderr,
    to_device,
)
from initlab.lab.experiment import Effect, ExperimentResult, verdict_from_checks

NAME = "maml"
TITLE = "MAML on steep tasks learns a larger initial variance (saturation)?"
CLAIM = ("When faced with a family of tasks with 'high-curvature' loss landscapes ... MAML "
         "discovers a counter-intuitive and brilliant strategy. Instead of following Xavier's lead "
         "and keeping weights small ... MAML learns to increase the initial weight variance. This "
         "pushes neurons toward saturation, which attenuates the gradients.")
SOURCE = ("seeds 003 (§ Deeper, meta-learning); MAML: Finn, Abbeel & Levine 2017 (sine "
          "regression, §5.1); no paper we know reports learned variance growth on steep tasks")

#: (A_min, A_max, ω_min, ω_max) of the two task families
STEEP = (2.0, 5.0, 1.5, 2.5)
FLAT = (0.1, 0.5, 0.3, 0.6)
SAT = 2.0  # |z| > 2: tanh'(z) < 0.08, a saturated unit


def _check_family(name: str, fam: Sequence[float]) -> tuple[float, float, float, float]:
    try:
        a0, a1, w0, w1 = (float(v) for v in fam)
    except (TypeError, ValueError):
        raise InitError(f"maml: {name} must be (A_min, A_max, ω_min, ω_max), got {fam!r}") from None
    if not (0 < a0 <= a1 and 0 < w0 <= w1) or not all(map(math.isfinite, (a0, a1, w0, w1))):
        raise InitError(f"maml: {name} needs 0 < A_min ≤ A_max and 0 < ω_min ≤ ω_max, "
                        f"got {fam!r}")
    return a0, a1, w0, w1


def _tasks(fam: tuple[float, float, float, float], g: torch.Generator, n: int, k: int
           ) -> tuple[torch.Tensor, ...]:
    a0, a1, w0, w1 = fam
    amp = a0 + (a1 - a0) * torch.rand(n, generator=g)
    om = w0 + (w1 - w0) * torch.rand(n, generator=g)
    ph = math.pi * torch.rand(n, generator=g)
    x = torch.rand(n, 2 * k, 1, generator=g) * 10 - 5
    y = amp[:, None, None] * torch.sin(om[:, None, None] * x + ph[:, None, None])
    return x[:, :k], y[:, :k], x[:, k:], y[:, k:]


def _stats(p: dict[str, torch.Tensor], xg: torch.Tensor) -> tuple[list[float], float]:
    h = xg
    var, sat = [], []
    for i in range(2):
        w, b = p[f"{2 * i}.weight"], p[f"{2 * i}.bias"]
        z = h @ w.t() + b
        sat.append(float((z.abs() > SAT).float().mean()))
        var.append(float(w.var() * w.shape[1]))
        h = torch.tanh(z)
    return var, mean(sat)


def _meta_train(fam: tuple[float, float, float, float], width: int, seed: int, iterations: int,
                meta_batch: int, shots: int, inner_lr: float, meta_lr: float,
                device: torch.device | None = None
                ) -> tuple[list[float], float, list[float], float, list[float]]:
    g = generator(seed)  # weights and tasks are drawn on the CPU, then moved to ``device``
    net = nn.Sequential(nn.Linear(1, width), nn.Tanh(), nn.Linear(width, width), nn.Tanh(),
                        nn.Linear(width, 1))
    with torch.no_grad():
        for m in net:
            if isinstance(m, nn.Linear):
                fo, fi = m.weight.shape
                m.weight.copy_(torch.randn(fo, fi, generator=g) * math.sqrt(2 / (fi + fo)))
                m.bias.zero_()
    if device is not None:
        net.to(device)
    params = {k: v.detach().clone() for k, v in net.named_parameters()}
    (xg,) = to_device(device, torch.linspace(-5, 5, 256)[:, None])
    v0, s0 = _stats(params, xg)

    def loss(p: dict[str, torch.Tensor], x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return (functional_call(net, p, (x,)) - y).pow(2).mean()

    def task_loss(p: dict[str, torch.Tensor], xs: torch.Tensor, ys: torch.Tensor,
                  xq: torch.Tensor, yq: torch.Tensor) -> torch.Tensor:
        gr = grad(loss)(p, xs, ys)
        return loss({k: p[k] - inner_lr * gr[k] for k in p}, xq, yq)

    def meta_loss(p: dict[str, torch.Tensor], *batch: torch.Tensor) -> torch.Tensor:
        return vmap(task_loss, in_dims=(None, 0, 0, 0, 0))(p, *batch).mean()

    meta_grad = grad(meta_loss, has_aux=False)
    leaves = {k: v.clone().requires_grad_() for k, v in params.items()}
    opt = torch.optim.Adam(leaves.values(), lr=meta_lr)
    gt = generator(seed + 30_000)
    curve = []
    for it in range(iterations):
        batch = to_device(device, *_tasks(fam, gt, meta_batch, shots))
        detached = {k: v.detach() for k, v in leaves.items()}
        mg = meta_grad(detached, *batch)
        for k, v in leaves.items():
            v.grad = mg[k]
        opt.step()
        if it % max(1, iterations // 20) == 0 or it == iterations - 1:
            with torch.no_grad():
                curve.append(float(meta_loss(detached, *batch)))
    v1, s1 = _stats({k: v.detach() for k, v in leaves.items()}, xg)
    return v0, s0, v1, s1, curve


def run(*, quick: bool = True, seeds: int | Sequence[int] | None = None,
        width: int = 40, iterations: int | None = None, meta_batch: int = 8, shots: int = 10,
        inner_lr: float = 0.01, meta_lr: float = 1e-3, steep: Sequence[float] = STEEP,
        flat: Sequence[float] = FLAT,
        device: str | torch.device = "cpu") -> ExperimentResult:
    """Meta-train on a steep and a flat sine family; compare the learned initializations.

    Args:
        width: hidden units (Finn et al.: 40); iterations: meta-steps (quick: 300).
        meta_batch: tasks per meta-step; shots: K support (and K query) points per task.
        inner_lr: α of the inner step (Finn et al.: 0.01); meta_lr: Adam's step.
        steep, flat: (A_min, A_max, ω_min, ω_max) of the two families (swap them for the
            control).
    """
    dev = resolve_device(device)
    seeds_ = seed_list(seeds, quick, 3, 5)
    width = check_int("width", width, 1)
    iters = check_int("iterations", iterations if iterations is not None
                      else (300 if quick else 1000), 1)
    meta_batch = check_int("meta_batch", meta_batch, 1)
    shots = check_int("shots", shots, 1)
    check_positive("inner_lr", inner_lr)
    check_positive("meta_lr", meta_lr)
    fams = {"steep": _check_family("steep", steep), "flat": _check_family("flat", flat)}
    ratio: dict[str, list[float]] = {f: [] for f in fams}
    sat0: dict[str, list[float]] = {f: [] for f in fams}
    sat1: dict[str, list[float]] = {f: [] for f in fams}
    dsat: dict[str, list[float]] = {f: [] for f in fams}
    curves: dict[str, list[list[float]]] = {f: [] for f in fams}
    per_layer: dict[str, list[list[float]]] = {f: [] for f in fams}
    with Timer() as t:
        for f, fam in fams.items():
            for s in seeds_:
                v0, s0, v1, s1, curve = _meta_train(fam, width, s, iters, meta_batch, shots,
                                                    inner_lr, meta_lr, dev)
                layer = [b / a for a, b in zip(v0, v1, strict=True)]
                per_layer[f].append(layer)
                ratio[f].append(mean(layer))
                sat0[f].append(s0)
                sat1[f].append(s1)
                dsat[f].append(s1 - s0)
                curves[f].append(curve)
    r_st = Effect.from_samples("variance ratio: steep", ratio["steep"], target=1.0,
                               note="fan_in·Var(W) learned / initial, mean of hidden layers")
    d_st = Effect.from_samples("saturation change: steep", dsat["steep"], target=0.0,
                               note=f"share of |z| > {SAT:g}, learned − initial")
    grows = r_st.value - 2 * r_st.stderr > 1.0
    saturates = d_st.value - 2 * d_st.stderr > 0.0
    more_than_flat = differs(ratio["steep"], ratio["flat"]) > 2
    checks = {"variance_grows": grows, "saturation_grows": saturates,
              "steep_more_than_flat": more_than_flat}
    verdict = verdict_from_checks(list(checks.values()))
    effects = (
        r_st,
        Effect.from_samples("variance ratio: flat", ratio["flat"], target=1.0),
        d_st,
        Effect.from_samples("saturation change: flat", dsat["flat"], target=0.0),
        Effect.from_samples("saturation learned: steep", sat1["steep"]),
        Effect.from_samples("saturation initial", sat0["steep"]),
    )
    reason = (
        f"after {iters} meta-steps, fan_in·Var(W) ×{r_st.value:.3f} ± {r_st.stderr:.2g} (steep) "
        f"vs ×{mean(ratio['flat']):.3f} ± {stderr(ratio['flat']):.2g} (flat); saturated share "
        f"{mean(sat0['steep']):.3f} → {mean(sat1['steep']):.3f} (steep), "
        f"{mean(sat0['flat']):.3f} → {mean(sat1['flat']):.3f} (flat)"
    )
    return ExperimentResult(
        name=NAME, title=TITLE, claim=CLAIM, source=SOURCE, verdict=verdict, reason=reason,
        effects=effects,
        numbers={"variance_ratio": ratio, "per_layer_ratio": per_layer,
                 "saturation_initial": sat0, "saturation_learned": sat1, "checks": checks},
        figure={"curves": {f: [mean(col) for col in zip(*c, strict=True)]
                           for f, c in curves.items()},
                "ratio": {f: list(v) for f, v in ratio.items()},
                "sat0": {f: [mean(v), stderr(v)] for f, v in sat0.items()},
                "sat1": {f: [mean(v), stderr(v)] for f, v in sat1.items()},
                "families": {f: list(v) for f, v in fams.items()}, "iterations": iters},
        settings={"quick": quick, "seeds": seeds_, "width": width, "iterations": iters,
                  "meta_batch": meta_batch, "shots": shots, "inner_lr": inner_lr,
                  "meta_lr": meta_lr, "steep": list(fams["steep"]), "flat": list(fams["flat"])},
        elapsed_s=t.elapsed,
    )
