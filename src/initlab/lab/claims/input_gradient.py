"""Claim 4, input-gradient sensitivity: scaling Xavier's variance by α scales the input-gradient
norm by α^{L/2} (L = depth), and a "too hot" init is adversarially fragile.

The experiment: MLPs on the bundled digits with L weight layers (width ``width``), zero biases,
weights N(0, α·2/(fan_in + fan_out)) for α in ``alphas``, ReLU or tanh. Measured:

* the input-gradient norm mean_x ‖∂ℓ/∂x‖ of the cross-entropy ℓ over a batch of training
  images, per (activation, L, α); its exponent is the slope of log‖∂ℓ/∂x‖ against log α
  (least squares over α, one fit per seed), compared with L/2;
* the smallest FGSM step (Goodfellow et al. 2015) that flips a prediction: for each test image
  the smallest ε on a log grid with argmax f(x + ε·sign ∇ₓℓ(x, ŷ)) ≠ ŷ (ŷ the prediction),
  median over images, at init and after ``train_epochs`` epochs of SGD, for α = min, 1, max.

Verdict checks: for each activation, the exponent is within 10 % of L/2 (+ 2 s.e.) at every
depth; the hottest init's median flipping ε is smaller than α = 1's (beyond 2 s.e.) at init,
and after training.

Examples:
    >>> r = run(depths=(2, 3), alphas=(0.5, 2.0), activations=("relu",), seeds=2, fgsm=False)
    >>> abs(r.effect("exponent/(L/2): relu").value - 1) < 0.15
    True
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from initlab.errors import InitError
from initlab.lab.claims._common import (
    Timer,
    check_int,
    check_positive,
    check_values,
    digits,
    fit,
    fit_line,
    generator,
    mean,
    resolve_device,
    seed_list,
    stderr,
)
from initlab.lab.experiment import Effect, ExperimentResult, verdict_from_checks

NAME = "input_gradient"
TITLE = "Xavier × α scales the input gradient by α^{L/2}; hot inits are fragile"
CLAIM = ("If we scale the variance of our Xavier initialization by a factor α, the magnitude of "
         "this input-gradient scales by α^{L/2}, where L is the depth of the network ... An "
         "initialization that is even slightly 'too hot' (α > 1) can lead to an exponentially "
         "large input-gradient, creating a hyper-sensitive model that is highly vulnerable to "
         "adversarial attacks from the very beginning.")
SOURCE = ("seeds 003 (§ Deeper: adversarial vulnerability); Goodfellow, Shlens & Szegedy 2015 "
          "(FGSM); Simon-Gabriel et al. 2019 (adversarial vulnerability grows with the input "
          "gradient norm at init)")

ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh}
EXP_TOL = 0.10
EPS_GRID = torch.logspace(-3, 1.5, 55)


def _mlp(depth: int, width: int, alpha: float, act: str, seed: int) -> nn.Sequential:
    g = generator(seed)
    dims = [64] + [width] * (depth - 1) + [10]
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(itertools.pairwise(dims)):
        lin = nn.Linear(a, b)
        with torch.no_grad():
            lin.weight.copy_(torch.randn(b, a, generator=g) * math.sqrt(alpha * 2 / (a + b)))
            lin.bias.zero_()
        layers.append(lin)
        if i < depth - 1:
            layers.append(ACTIVATIONS[act]())
    return nn.Sequential(*layers)


def _grad_norm(net: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    x = x.clone().requires_grad_()
    (g,) = torch.autograd.grad(F.cross_entropy(net(x), y, reduction="sum"), x)
    return float(g.norm(dim=1).mean())


def _fgsm_eps(net: nn.Module, x: torch.Tensor) -> float:
    """Median over rows of the smallest grid ε whose FGSM step flips the prediction."""
    with torch.no_grad():
        pred = net(x).argmax(1)
    xr = x.clone().requires_grad_()
    (g,) = torch.autograd.grad(F.cross_entropy(net(xr), pred, reduction="sum"), xr)
    direction = g.sign()
    found = torch.full((x.shape[0],), math.inf)
    with torch.no_grad():
        for eps in EPS_GRID:
            flipped = net(x + eps * direction).argmax(1) != pred
            found = torch.where(flipped & torch.isinf(found), eps, found)
    return float(found.median())


def run(*, quick: bool = True, seeds: int | Sequence[int] | None = None,
        depths: Sequence[int] | None = None, alphas: Sequence[float] = (0.5, 0.7, 1.0, 1.4, 2.0),
        activations: Sequence[str] = ("relu", "tanh"), width: int | None = None,
        fgsm_depth: int | None = None, fgsm_samples: int | None = None, train_epochs: int = 2,
        lr: float = 0.02, fgsm: bool = True,
        device: str | torch.device = "cpu") -> ExperimentResult:
    """Fit the input-gradient exponent over α and L; measure FGSM flips (module docstring).

    Args:
        depths: numbers of weight layers L; alphas: multipliers of Xavier's variance (≥ 2
            values, including 1 for the FGSM comparison, which uses min, 1 and max).
        activations: any of ``"relu"`` (positively homogeneous: the exponent is exactly L/2
            for the output) and ``"tanh"``.
        width: hidden width; fgsm_depth: L of the FGSM networks (default: the largest depth);
        fgsm_samples: test images attacked; train_epochs, lr: the "little training" (SGD).
        fgsm: False tests the scaling law alone (no adversarial part).
    """
    dev = resolve_device(device)
    seeds_ = seed_list(seeds, quick, 3, 6)
    ds = tuple(check_int("depths", int(d), 2) for d in
               (depths if depths is not None else ((2, 4, 6) if quick else (2, 4, 8, 12))))
    als = check_values("alphas", alphas, min_len=2)
    if len(set(als)) < 2:
        raise InitError("input_gradient: alphas need at least two different values")
    acts = tuple(activations)
    if not acts or any(a not in ACTIVATIONS for a in acts):
        raise InitError(f"input_gradient: activations must be from {', '.join(ACTIVATIONS)}, "
                        f"got {activations!r}")
    width = check_int("width", width if width is not None else (64 if quick else 128), 2)
    fgsm_depth = check_int("fgsm_depth", fgsm_depth if fgsm_depth is not None else max(ds), 2)
    n_adv = check_int("fgsm_samples", fgsm_samples if fgsm_samples is not None
                      else (200 if quick else 450), 1)
    check_int("train_epochs", train_epochs, 1)
    check_positive("lr", lr)
    data = digits()
    xb, yb = data.x_train[:256], data.y_train[:256]
    xa = data.x_test[:n_adv]
    log_a = [math.log(a) for a in als]
    fg_alphas = sorted({min(als), 1.0, max(als)})
    exps: dict[str, dict[int, list[float]]] = {}
    norms: dict[str, dict[int, list[float]]] = {}
    eps_init: dict[str, dict[float, list[float]]] = {}
    eps_trained: dict[str, dict[float, list[float]]] = {}
    with Timer() as t:
        for act in acts:
            for d in ds:
                per_alpha = [[_grad_norm(_mlp(d, width, a, act, s), xb, yb) for a in als]
                             for s in seeds_]
                exps.setdefault(act, {})[d] = [
                    fit_line(log_a, [math.log(v) for v in row])[0] for row in per_alpha]
                norms.setdefault(act, {})[d] = [
                    math.exp(mean([math.log(row[i]) for row in per_alpha]))
                    for i in range(len(als))]
            for a in fg_alphas if fgsm else ():
                for s in seeds_:
                    net = _mlp(fgsm_depth, width, a, act, s)
                    eps_init.setdefault(act, {}).setdefault(a, []).append(_fgsm_eps(net, xa))
                    torch.manual_seed(s)
                    fit(net, data, dev, epochs=train_epochs, lr=lr, seed=s)
                    eps_trained.setdefault(act, {}).setdefault(a, []).append(_fgsm_eps(net, xa))
    effects: list[Effect] = []
    checks: list[bool] = []
    check_names: dict[str, bool] = {}
    for act in acts:
        rel = [k / (d / 2) for d in ds for k in exps[act][d]]
        e = Effect.from_samples(f"exponent/(L/2): {act}", rel, target=1.0,
                                note="fitted exponent over L/2, pooled over depths and seeds")
        effects.append(e)
        ok = all(Effect.from_samples("k", exps[act][d], target=d / 2).agrees_with_target(
            EXP_TOL, z=2.0) for d in ds)
        checks.append(ok)
        check_names[f"exponent_{act}"] = ok
    a_hot = max(fg_alphas)
    for stage, table in (("init", eps_init), ("trained", eps_trained)) if fgsm else ():
        hot = [v for act in acts for v in table[act][a_hot]]
        ref = [v for act in acts for v in table[act][1.0]]
        ratio = [h / r if r > 0 and math.isfinite(r) and math.isfinite(h) else math.nan
                 for h, r in zip(hot, ref, strict=True)]
        e = Effect.from_samples(f"FGSM ε ratio α={a_hot:g}/α=1 ({stage})", ratio, target=1.0,
                                note="< 1: the hot init flips with a smaller perturbation")
        effects.append(e)
        ok = math.isfinite(e.value) and e.value + 2 * e.stderr < 1.0
        checks.append(ok)
        check_names[f"hot_more_fragile_{stage}"] = ok
    for act in acts:
        for d in ds:
            effects.append(Effect.from_samples(f"exponent {act} L={d}", exps[act][d],
                                               target=d / 2))
    verdict = verdict_from_checks(checks)
    reason = (
        "exponent of ‖∂ℓ/∂x‖ in α vs L/2: "
        + "; ".join(f"{act} " + ", ".join(f"L={d}: {mean(exps[act][d]):.2f}/{d / 2:g}"
                                         for d in ds) for act in acts)
    )
    if fgsm:
        reason += (
            f". Median FGSM ε to flip (L={fgsm_depth}), α={a_hot:g} vs 1: at init "
            + ", ".join(f"{act} {mean(eps_init[act][a_hot]):.3g} vs "
                        f"{mean(eps_init[act][1.0]):.3g}" for act in acts)
            + "; after training "
            + ", ".join(f"{act} {mean(eps_trained[act][a_hot]):.3g} vs "
                        f"{mean(eps_trained[act][1.0]):.3g}" for act in acts)
        )
    return ExperimentResult(
        name=NAME, title=TITLE, claim=CLAIM, source=SOURCE, verdict=verdict, reason=reason,
        effects=tuple(effects),
        numbers={"exponents": {a: {str(d): v for d, v in m.items()} for a, m in exps.items()},
                 "fgsm_init": {a: {repr(k): v for k, v in m.items()} for a, m in eps_init.items()},
                 "fgsm_trained": {a: {repr(k): v for k, v in m.items()}
                                  for a, m in eps_trained.items()},
                 "checks": check_names},
        figure={"alphas": list(als), "depths": list(ds),
                "norms": {a: {str(d): v for d, v in m.items()} for a, m in norms.items()},
                "fgsm_alphas": fg_alphas if fgsm else [],
                "fgsm_init": {a: [[mean(m[k]), stderr(m[k])] for k in fg_alphas]
                              for a, m in eps_init.items()},
                "fgsm_trained": {a: [[mean(m[k]), stderr(m[k])] for k in fg_alphas]
                                 for a, m in eps_trained.items()},
                "fgsm_depth": fgsm_depth},
        settings={"quick": quick, "seeds": seeds_, "depths": list(ds), "alphas": list(als),
                  "activations": list(acts), "width": width, "fgsm_depth": fgsm_depth,
                  "fgsm_samples": n_adv, "train_epochs": train_epochs, "lr": lr,
                  "fgsm": fgsm},
        elapsed_s=t.elapsed,
    )
