"""Claim 10, input scale: un-normalized inputs (variance ≫ 1) overwhelm a careful init and the
first updates blow up; the critical input scale can be computed.

The experiment: a ReLU MLP (``depth`` weight layers, width ``width``, zero biases, He-initialized)
on the bundled digits whose standardized inputs are multiplied by s, for s on a grid of powers
of √2 from 1 to ``max_scale``; plain SGD (no momentum, step ``lr``, batches of 64).

* First-step update size: r(s) = max_l ‖ΔW_l‖_F / ‖W_l‖_F after one SGD step on the first batch
  (the largest relative change of any layer's weights).
* Computed critical scale: the network is positively homogeneous (ReLU, zero biases), so every
  layer's gradient δ_l·h_{l−1}ᵀ carries one factor s from h_{l−1} while δ_l = Jᵀ(p − y) stays
  bounded; r(s) ≈ s·r(1), and the update equals the weight itself (r = 1) at s* = 1/r(1) —
  computed from the single first step at s = 1.
* Measured threshold: the smallest s on the grid at which ``epochs`` of training fail (a
  non-finite loss, or test accuracy below half of the s = 1 run's).

Verdict checks: the first update at the largest scale is catastrophic (r(s_max) > 1) while at
s = 1 it is not; training at s = 1 succeeds and fails at the largest scale ("overwhelmed");
and the computed s* is within a factor 2 of the measured threshold (beyond 2 s.e. in log₂).

Examples:
    >>> r = run(width=16, depth=2, max_scale=8, epochs=1, seeds=2)
    >>> r.effect("first-step r(1)").value > 0
    True
"""

from __future__ import annotations

import dataclasses
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
    digits,
    fit,
    generator,
    mean,
    resolve_device,
    seed_list,
    stderr,
)
from initlab.lab.data import Split
from initlab.lab.experiment import Effect, ExperimentResult, verdict_from_checks

NAME = "input_scale"
TITLE = "Un-normalized inputs blow up the first updates; the critical scale is computable"
CLAIM = ("If ... we feed in data whose variance is much larger than 1, our carefully chosen weight "
         "variance will be overwhelmed. The signal will explode, and the learning process will "
         "become unstable from the very first update. The theory is so precise that we can even "
         "calculate the exact critical scaling of the input data at which a given layer's weight "
         "updates will become catastrophically large.")
SOURCE = ("seeds 003 (§ Principles, the fragile balance); LeCun et al. 1998 (Efficient "
          "BackProp, §4.3 normalizing the inputs); He et al. 2015 (the schemes assume Var[x] = 1)")


def _mlp(depth: int, width: int, seed: int) -> nn.Sequential:
    g = generator(seed)
    dims = [64] + [width] * (depth - 1) + [10]
    layers: list[nn.Module] = []
    for i in range(depth):
        lin = nn.Linear(dims[i], dims[i + 1])
        with torch.no_grad():
            lin.weight.copy_(torch.randn(dims[i + 1], dims[i], generator=g)
                             * math.sqrt(2.0 / dims[i]))
            lin.bias.zero_()
        layers.append(lin)
        if i < depth - 1:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def _first_step(net: nn.Sequential, x: torch.Tensor, y: torch.Tensor, lr: float) -> float:
    weights = [m.weight for m in net if isinstance(m, nn.Linear)]
    grads = torch.autograd.grad(F.cross_entropy(net(x), y), weights)
    return max(float(lr * g.norm() / w.detach().norm()) for g, w in zip(grads, weights,
                                                                        strict=True))


def _scaled(data: Split, s: float) -> Split:
    return dataclasses.replace(data, x_train=data.x_train * s, x_test=data.x_test * s)


def run(*, quick: bool = True, seeds: int | Sequence[int] | None = None,
        width: int | None = None, depth: int = 4, max_scale: float | None = None,
        epochs: int | None = None, lr: float = 0.05, preprocess: str = "none"
        ,
        device: str | torch.device = "cpu") -> ExperimentResult:
    """Sweep the input scale; compare the computed critical scale with the measured one.

    Args:
        width, depth: the MLP; max_scale: the largest s (grid: powers of √2 from 1).
        epochs: training epochs per scale; lr: SGD step.
        preprocess: ``"none"`` (the claim: raw scaled inputs) or ``"standardize"`` (the control:
            inputs re-standardized with the training split's std before the network, the
            remedy the texts recommend, under which nothing should blow up).
    """
    dev = resolve_device(device)
    seeds_ = seed_list(seeds, quick, 3, 6)
    width = check_int("width", width if width is not None else (64 if quick else 128), 2)
    depth = check_int("depth", depth, 2)
    max_scale = check_positive("max_scale", max_scale if max_scale is not None
                               else (256.0 if quick else 1024.0))
    if max_scale < 2:
        raise InitError(f"input_scale: max_scale must be ≥ 2, got {max_scale!r}")
    epochs = check_int("epochs", epochs if epochs is not None else (2 if quick else 5), 1)
    lr = check_positive("lr", lr)
    if preprocess not in ("none", "standardize"):
        raise InitError(f"input_scale: preprocess must be 'none' or 'standardize', "
                        f"got {preprocess!r}")
    n_steps = math.floor(2 * math.log2(max_scale) + 1e-9)
    scales = [2 ** (k / 2) for k in range(n_steps + 1)]
    base = digits()
    r_by_s: dict[float, list[float]] = {}
    acc_by_s: dict[float, list[float]] = {}
    s_pred: list[float] = []
    s_meas: list[float] = []
    with Timer() as t:
        for seed in seeds_:
            accs = []
            for s in scales:
                data = _scaled(base, s)
                if preprocess == "standardize":
                    sd = data.x_train.std()
                    data = _scaled(data, 1.0 / float(sd))
                net = _mlp(depth, width, seed)
                r_by_s.setdefault(s, []).append(
                    _first_step(net, data.x_train[:64], data.y_train[:64], lr))
                rec = fit(net, data, dev, epochs=epochs, lr=lr, seed=seed, momentum=0.0)
                a = 0.0 if rec.diverged else rec.final_test_accuracy
                accs.append(a)
                acc_by_s.setdefault(s, []).append(a)
            s_pred.append(1.0 / r_by_s[1.0][-1])
            failed = [s for s, a in zip(scales, accs, strict=True) if a < accs[0] / 2]
            s_meas.append(failed[0] if failed else math.inf)
    s_max = scales[-1]
    catastrophic = mean(r_by_s[s_max]) > 1.0 and mean(r_by_s[1.0]) < 1.0
    overwhelmed = mean(acc_by_s[1.0]) > 0.5 and mean(acc_by_s[s_max]) < mean(acc_by_s[1.0]) / 2
    log_ratio = [math.log2(p / m) if math.isfinite(m) else math.inf
                 for p, m in zip(s_pred, s_meas, strict=True)]
    lr_e = Effect.from_samples("log₂(computed s* / measured threshold)", log_ratio, target=0.0,
                               note="0: the computation predicts where training breaks")
    computable = math.isfinite(lr_e.value) and abs(lr_e.value) <= 1.0 + 2 * lr_e.stderr
    checks = [catastrophic, overwhelmed, computable]
    verdict = verdict_from_checks(checks)
    effects = (
        lr_e,
        Effect.from_samples("computed critical scale s* = 1/r(1)", s_pred),
        Effect.from_samples("measured threshold scale", s_meas,
                            note="smallest s whose training fails (inf: none on the grid)"),
        Effect.from_samples("first-step r(1)", r_by_s[1.0], note="max_l ‖ΔW_l‖/‖W_l‖ at s=1"),
        Effect.from_samples(f"first-step r({s_max:g})", r_by_s[s_max]),
        Effect.from_samples("test accuracy at s=1", acc_by_s[1.0]),
        Effect.from_samples(f"test accuracy at s={s_max:g}", acc_by_s[s_max]),
    )
    reason = (
        f"first-step relative update r(1) = {mean(r_by_s[1.0]):.3g}, r({s_max:g}) = "
        f"{mean(r_by_s[s_max]):.3g}; accuracy {mean(acc_by_s[1.0]):.2f} at s=1 vs "
        f"{mean(acc_by_s[s_max]):.2f} at s={s_max:g}; computed s* = {mean(s_pred):.3g}, "
        f"measured threshold {mean(s_meas):.3g} (log₂ ratio {lr_e.value:+.2f} ± "
        f"{lr_e.stderr:.2g}; "
        f"{'raw scaled inputs' if preprocess == 'none' else 'inputs re-standardized'})"
    )
    return ExperimentResult(
        name=NAME, title=TITLE, claim=CLAIM, source=SOURCE, verdict=verdict, reason=reason,
        effects=effects,
        numbers={"scales": scales, "r": {repr(s): v for s, v in r_by_s.items()},
                 "accuracy": {repr(s): v for s, v in acc_by_s.items()},
                 "s_pred": s_pred, "s_measured": s_meas,
                 "checks": {"first_update_catastrophic": catastrophic,
                            "training_overwhelmed": overwhelmed,
                            "critical_scale_computable": computable}},
        figure={"scales": scales, "r_mean": [mean(r_by_s[s]) for s in scales],
                "r_se": [stderr(r_by_s[s]) for s in scales],
                "acc_mean": [mean(acc_by_s[s]) for s in scales],
                "acc_se": [stderr(acc_by_s[s]) for s in scales],
                "s_pred": mean(s_pred), "s_measured": list(s_meas),
                "preprocess": preprocess},
        settings={"quick": quick, "seeds": seeds_, "width": width, "depth": depth,
                  "max_scale": max_scale, "epochs": epochs, "lr": lr, "preprocess": preprocess},
        elapsed_s=t.elapsed,
    )
