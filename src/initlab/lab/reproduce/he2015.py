"""He et al. 2015, Fig. 3: a 30-layer ReLU network trains from He init and stalls from Xavier.

He, Zhang, Ren & Sun, "Delving deep into rectifiers" (ICCV 2015), sec. 2.2 and Fig. 3: with
ReLU, a layer multiplies the forward variance by n·Var(W)/2, so Xavier's Var(W) = 1/n halves the
signal per layer (2^−30 after 30 layers: the output no longer depends on the input and the
gradients vanish) while Var(W) = 2/n keeps it constant. Their 30-layer net "converges" with
their init and with Xavier's "completely stalls". Here: a 30-layer ReLU MLP on scikit-learn's
digits (the paper: a 30-layer conv net on ImageNet), SGD with momentum.

Examples:
    >>> r = run(quick=True, depth=6, width=16, steps=30, seeds=1)
    >>> r.name, sorted(r.numbers["final_accuracy"])
    ('he2015', ['he', 'xavier'])
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from initlab.lab.experiment import Effect, ExperimentResult, verdict_from_checks
from initlab.lab.reproduce import _common as C

NAME = "he2015"
TITLE = "He et al. 2015, Fig. 3: 30-layer ReLU net, Xavier stalls and He converges"
SOURCE = "He, Zhang, Ren & Sun 2015, Delving deep into rectifiers, sec. 2.2, Fig. 3"
CLAIM = ("a 30-layer ReLU network converges from He init (Var = 2/fan_in) and stalls from "
         "Xavier init (Var = 1/fan_avg)")


@dataclass(frozen=True)
class Settings:
    dataset: str = "digits"
    depth: int = 30
    width: int = 64
    steps: int = 600
    lr: float = 0.005
    batch_size: int = 64
    seeds: int = 2
    baseline: str = "xavier"
    proposed: str = "he"


QUICK = Settings()
FULL = Settings(steps=2000, seeds=3)

#: "converges": test accuracy at least this far above chance (0.1)
LEARN_MARGIN = 0.3
#: "stalls": within this of chance; digits has 450 test images, SE at p = 0.1 is 0.014, so
#: 0.1 is ≈ 7 standard errors
STALL_MARGIN = 0.1


@torch.no_grad()
def forward_std(model: nn.Module, x: torch.Tensor) -> list[float]:
    """Std of every Linear layer's output (pre-activation) on ``x``, input side first."""
    outs: list[float] = []
    hs = [m.register_forward_hook(lambda _m, _i, o: outs.append(float(o.std())))
          for m in C.linears(model)]
    model(x)
    for h in hs:
        h.remove()
    return outs


def plateau_length(losses: list[float], chance_loss: float, window: int = 20) -> float:
    """Steps until the trailing ``window``-step mean loss first falls below 0.9 × the chance
    loss ln(classes): how long a run sits on the plateau (the budget if it never leaves)."""
    for i in range(window - 1, len(losses)):
        w = losses[i - window + 1 : i + 1]
        if all(math.isfinite(v) for v in w) and sum(w) / window < 0.9 * chance_loss:
            return float(i)
    return float(len(losses))


def run(*, quick: bool = False, device: str | torch.device = "cpu",
        **overrides: Any) -> ExperimentResult:
    """Train the deep ReLU MLP from ``baseline`` (Xavier) and ``proposed`` (He) starts."""
    s = C.resolve_settings(NAME, quick, (QUICK, FULL), overrides)
    dev = C.resolve_device(device)
    t = C.Timer()
    data = C.load_split(s.dataset, 0)
    chance = 1.0 / data.num_classes
    starts = (s.baseline, s.proposed)
    acc: dict[str, list[float]] = {k: [] for k in starts}
    loss: dict[str, list[float]] = {k: [] for k in starts}
    curves: dict[str, list[dict[str, list[float]]]] = {k: [] for k in starts}
    plateau: dict[str, list[float]] = {k: [] for k in starts}
    stds: dict[str, list[list[float]]] = {k: [] for k in starts}
    for start in starts:
        for seed in C.seeds_of(s.seeds):
            model = C.mlp(s.depth, s.width, data.num_features, data.num_classes, nn.ReLU)
            C.apply_start(model, start, seed)
            stds[start].append(forward_std(model, data.x_train[:256]))
            r = C.train_steps(model, data, s.steps, s.lr, batch_size=s.batch_size, seed=seed,
                              device=dev)
            acc[start].append(r.final_test_accuracy)
            loss[start].append(r.final_train_loss)
            curves[start].append(C.curve(r.step_loss[: s.steps], 100))
            plateau[start].append(plateau_length(list(r.step_loss[: s.steps]),
                                                 math.log(data.num_classes)))
    a_base, a_prop = C.mean(acc[s.baseline]), C.mean(acc[s.proposed])
    prop_ok = a_prop >= chance + LEARN_MARGIN
    base_ok = a_base <= chance + STALL_MARGIN
    # signal at the last hidden layer relative to the first, at init (log2)
    ratio = {k: [math.log2(v[-2] / v[0]) if v[-2] > 0 and v[0] > 0 else -math.inf
                 for v in stds[k]] for k in starts}
    checks = [prop_ok, base_ok]
    reason = (f"{s.proposed} {'converges' if prop_ok else 'does not converge'} "
              f"(accuracy {C.fmt(a_prop)}), {s.baseline} "
              f"{'stalls' if base_ok else 'does not stall'} (accuracy {C.fmt(a_base)}; "
              f"chance {chance:.2f}) at depth {s.depth}")
    effects = [Effect.from_samples(f"accuracy[{k}]", acc[k], unit="test accuracy")
               for k in starts]
    effects += [Effect.from_samples(f"plateau steps[{k}]", plateau[k],
                                    note="steps until the 20-step mean loss < 0.9·ln(classes)")
                for k in starts]
    effects += [Effect.from_samples(f"log2 std ratio[{k}]", ratio[k],
                                    note="last / first hidden pre-activation std at init")
                for k in starts]
    return ExperimentResult(
        name=NAME, title=TITLE, claim=CLAIM, source=SOURCE,
        verdict=verdict_from_checks(checks), reason=reason, effects=tuple(effects),
        numbers={"final_accuracy": acc, "final_train_loss": loss, "chance": chance,
                 "plateau_steps": plateau,
                 "forward_std": stds, "checks": {"proposed converges": prop_ok,
                                                 "baseline stalls": base_ok}},
        figure={"kind": "he2015", "steps": s.steps, "depth": s.depth,
                "loss_curves": {k: C.mean_curves(v) for k, v in curves.items()},
                "forward_std": {k: [C.mean(c) for c in zip(*v, strict=True)]
                                for k, v in stds.items()},
                "accuracy": {k: C.mean(v) for k, v in acc.items()}, "chance": chance,
                "labels": {k: C.start_label(k) for k in starts}},
        settings=C.settings_dict(s, quick), elapsed_s=t.elapsed,
    )
