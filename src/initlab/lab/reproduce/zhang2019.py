"""Residual networks without normalization (Zhang, Dauphin & Ma 2019, "Fixup"): Fixup and
zero-initialized residual branches train at depth, plain He init does not.

Zhang, Dauphin & Ma, "Fixup initialization: residual learning without normalization" (ICLR
2019), sec. 2–3: in a ResNet without normalization, x_{l+1} = x_l + F_l(x_l) with every branch
F_l variance-preserving (He init) doubles the signal variance per block, so the output and the
gradients grow like 2^L and training diverges. Fixup sets each branch's last layer and the
classifier to 0, scales the other branch layers by L^(−1/(2m−2)) (m layers per branch) and adds
scalar biases and a multiplier; zero-initializing the last layer of each branch (``zero_residual``,
Goyal et al. 2017; Hardt & Ma 2017) already makes every block the identity at step 0.

Here: a residual MLP (blocks of two Linear layers, Fixup's scalar biases and multiplier, no
normalization) on scikit-learn's digits, initialized by the one registry of starts
(``he``, ``fixup``, ``zero_residual`` are :func:`initlab.init` policies).

Examples:
    >>> r = run(quick=True, blocks=2, width=16, steps=20, seeds=1)
    >>> sorted(r.numbers["final_accuracy"])
    ['fixup', 'he', 'zero_residual']
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from initlab.lab.experiment import Effect, ExperimentResult, verdict_from_checks
from initlab.lab.reproduce import _common as C

NAME = "zhang2019"
TITLE = "Zhang et al. 2019: residual nets without normalization, Fixup/zero-init vs He"
SOURCE = ("Zhang, Dauphin & Ma 2019, Fixup initialization: residual learning without "
          "normalization, sec. 2–3")
CLAIM = ("a deep residual network without normalization trains from Fixup or zero-initialized "
         "residual branches and does not train from plain He init (its output variance grows "
         "like 2^L)")


class ResidualBlock(nn.Module):
    """x ↦ relu(x + scale·fc2(relu(fc1(x + b1a) + b1b) + b2a) + b2b), no normalization (the
    MLP form of Fixup's basic block, their Fig. 1)."""

    def __init__(self, width: int) -> None:
        super().__init__()
        self.bias1a = nn.Parameter(torch.zeros(1))
        self.fc1 = nn.Linear(width, width, bias=False)
        self.bias1b = nn.Parameter(torch.zeros(1))
        self.bias2a = nn.Parameter(torch.zeros(1))
        self.fc2 = nn.Linear(width, width, bias=False)
        self.scale = nn.Parameter(torch.ones(1))
        self.bias2b = nn.Parameter(torch.zeros(1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.fc1(x + self.bias1a) + self.bias1b)
        out = self.fc2(out + self.bias2a) * self.scale + self.bias2b
        return F.relu(x + out)


class ResidualMLP(nn.Module):
    """Linear stem, ``blocks`` residual blocks, Linear classifier; no normalization."""

    def __init__(self, in_features: int, width: int, blocks: int, out_features: int) -> None:
        super().__init__()
        self.stem = nn.Linear(in_features, width)
        self.blocks = nn.Sequential(*(ResidualBlock(width) for _ in range(blocks)))
        self.head = nn.Linear(width, out_features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.blocks(F.relu(self.stem(x))))


@dataclass(frozen=True)
class Settings:
    blocks: int = 32
    width: int = 64
    steps: int = 600
    lr: float = 0.005
    batch_size: int = 64
    seeds: int = 2
    baseline: str = "he"
    proposed: tuple[str, ...] = ("fixup", "zero_residual")


QUICK = Settings()
FULL = Settings(blocks=100, steps=2000, seeds=3)

#: "trains": test accuracy at least this far above chance (0.1)
LEARN_MARGIN = 0.4
#: "does not train": within this of chance, or a non-finite loss (digits: 450 test images,
#: SE at p = 0.1 is 0.014, so 0.1 is ≈ 7 standard errors)
FAIL_MARGIN = 0.1


@torch.no_grad()
def output_std(model: nn.Module, x: torch.Tensor) -> float:
    """Std of the residual stream after the last block at step 0."""
    return float(model.blocks(F.relu(model.stem(x))).std())


def run(*, quick: bool = False, device: str | torch.device = "cpu",
        **overrides: Any) -> ExperimentResult:
    """Train the residual MLP from the baseline (He) and each proposed start."""
    s = C.resolve_settings(NAME, quick, (QUICK, FULL), overrides)
    dev = C.resolve_device(device)
    t = C.Timer()
    data = C.load_split("digits", 0)
    chance = 1.0 / data.num_classes
    starts = (s.baseline, *s.proposed)
    acc: dict[str, list[float]] = {k: [] for k in starts}
    diverged: dict[str, list[bool]] = {k: [] for k in starts}
    stream: dict[str, list[float]] = {k: [] for k in starts}
    curves: dict[str, list[list[float]]] = {k: [] for k in starts}
    x0 = data.x_train[:256]
    for start in starts:
        for seed in C.seeds_of(s.seeds):
            model = ResidualMLP(data.num_features, s.width, s.blocks, data.num_classes)
            C.apply_start(model, start, seed, example_input=x0[:8])
            stream[start].append(output_std(model, x0))
            r = C.train_steps(model, data, s.steps, s.lr, batch_size=s.batch_size, seed=seed,
                              device=dev)
            acc[start].append(r.final_test_accuracy)
            diverged[start].append(r.diverged)
            curves[start].append(C.curve(r.step_loss[: s.steps], 100))

    def trains(k: str) -> bool:
        return not any(diverged[k]) and C.mean(acc[k]) >= chance + LEARN_MARGIN

    def fails(k: str) -> bool:
        return any(diverged[k]) or C.mean(acc[k]) <= chance + FAIL_MARGIN

    checks = {f"{k} trains": trains(k) for k in s.proposed}
    checks[f"{s.baseline} does not train"] = fails(s.baseline)

    def say(k: str) -> str:
        how = "diverged" if any(diverged[k]) else f"accuracy {C.mean(acc[k]):.2f}"
        return f"{k} {how} (stream std {C.mean(stream[k]):.3g})"

    reason = (f"{s.blocks} blocks without normalization: " + ", ".join(say(k) for k in starts)
              + f"; chance {chance:.2f}")
    effects = [Effect.from_samples(f"accuracy[{k}]", acc[k], unit="test accuracy")
               for k in starts]
    effects += [Effect.from_samples(f"stream std at init[{k}]", stream[k],
                                    note="residual stream after the last block")
                for k in starts]
    return ExperimentResult(
        name=NAME, title=TITLE, claim=CLAIM, source=SOURCE,
        verdict=verdict_from_checks(list(checks.values())), reason=reason,
        effects=tuple(effects),
        numbers={"final_accuracy": acc, "diverged": diverged, "stream_std": stream,
                 "chance": chance, "checks": checks},
        figure={"kind": "zhang2019", "steps": s.steps, "blocks": s.blocks,
                "loss_curves": {k: C.mean_curves(v) for k, v in curves.items()},
                "accuracy": {k: C.mean(v) for k, v in acc.items()},
                "diverged": {k: any(v) for k, v in diverged.items()},
                "stream_std": {k: C.mean(v) for k, v in stream.items()},
                "labels": {k: C.start_label(k) for k in starts}, "chance": chance},
        settings=C.settings_dict(s, quick), elapsed_s=t.elapsed,
    )
