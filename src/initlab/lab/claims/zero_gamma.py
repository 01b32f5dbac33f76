"""Claim 5, zero-γ residual blocks: with the last BatchNorm γ of each residual block at 0 the
network is the identity (up to stem and head) at init, the gradient reaches the first layer
undiminished, and training "fades in" each block.

The experiment: a residual MLP on the bundled digits — stem Linear(64, w)-BN-ReLU, ``blocks``
residual blocks h ← ReLU(h + BN₂(W₂ ReLU(BN₁(W₁ h)))), head Linear(w, 10). The standard arm is
the ``he`` start (``initlab.init(policy="he")``, γ = 1); the zero-γ arm is the
``zero_residual`` start (the same He weights; initlab finds each block's last norm and sets
its γ to 0, as Goyal et al. 2017), or γ = ``zero_value`` for the control. Measured at init on
a training batch: the blocks' deviation from the identity ‖h_B − h_0‖/‖h_0‖, and the ratio of
the stem weight's gradient norm in the deep network to that of the same stem and head with no
blocks (1: the first layer gets exactly the gradient of a shallow net, the claim's
"undiminished"). Then both arms train with SGD (lab.train, batches of 90 so no BatchNorm sees
a tiny last batch); the final training loss and test accuracy are compared, and the blocks'
mean |γ₂| after training is reported (the fade-in).

Verdict checks: identity (deviation < 1e-6), undiminished gradient (ratio within 1e-3 of 1),
and training at least as well as the standard arm (final loss not above it by > 2 s.e.).

Examples:
    >>> r = run(blocks=2, width=16, epochs=1, seeds=2)
    >>> r.effect("deviation from identity: zero-γ").value
    0.0
"""

from __future__ import annotations

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
    mean,
    resolve_device,
    seed_list,
    stderr,
)
from initlab.lab.experiment import Effect, ExperimentResult, verdict_from_checks
from initlab.lab.starts import apply_start

NAME = "zero_gamma"
TITLE = "Zero-γ residual blocks: identity at init, undiminished gradient"
CLAIM = ("The final layer of the block is initialized to multiply its output by zero. The effect "
         "is magical: at the very start of training, the entire computational block is 'silent,' "
         "and the whole network behaves as a simple, single identity function. The gradient "
         "flows perfectly from end to end.")
SOURCE = ("seeds 003 (§ Applications, ResNets), 002 (Residual Networks Weight Initialization: "
          "second conv to zero); Goyal et al. 2017 (zero γ, §5.1); Zhang et al. 2019 (Fixup); "
          "De & Smith 2020 (SkipInit)")


class _Block(nn.Module):
    def __init__(self, w: int) -> None:
        super().__init__()
        self.fc1, self.bn1 = nn.Linear(w, w, bias=False), nn.BatchNorm1d(w)
        self.fc2, self.bn2 = nn.Linear(w, w, bias=False), nn.BatchNorm1d(w)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return F.relu(h + self.bn2(self.fc2(F.relu(self.bn1(self.fc1(h))))))


class ResidualMLP(nn.Module):
    """Stem, ``blocks`` residual blocks, head; ``trunk(x)`` is the stem output h_0."""

    def __init__(self, blocks: int, width: int, d_in: int = 64, k: int = 10) -> None:
        super().__init__()
        self.stem, self.bn0 = nn.Linear(d_in, width, bias=False), nn.BatchNorm1d(width)
        self.blocks = nn.Sequential(*[_Block(width) for _ in range(blocks)])
        self.head = nn.Linear(width, k)

    def trunk(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.bn0(self.stem(x)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.blocks(self.trunk(x)))


def _build(blocks: int, width: int, seed: int, gamma: float | None, x: torch.Tensor
           ) -> ResidualMLP:
    """He weights (the ``he`` start); the zero-γ arm is the ``zero_residual`` start, which
    finds each block's last norm and zeroes its γ — or, for the control, sets it to ``gamma``."""
    net = ResidualMLP(blocks, width)
    apply_start(net, "he" if gamma is None else "zero_residual", x, seed=seed)
    if gamma is not None and gamma != 0.0:
        with torch.no_grad():
            for b in net.blocks:
                b.bn2.weight.fill_(gamma)
    return net


def _at_init(net: ResidualMLP, x: torch.Tensor, y: torch.Tensor) -> tuple[float, float]:
    net.train()
    h0 = net.trunk(x)
    hb = net.blocks(h0)
    dev = float((hb - h0).detach().norm() / h0.detach().norm())
    g_deep = torch.autograd.grad(F.cross_entropy(net.head(hb), y), net.stem.weight)[0]
    g_shallow = torch.autograd.grad(F.cross_entropy(net.head(net.trunk(x)), y),
                                    net.stem.weight)[0]
    return dev, float(g_deep.norm() / g_shallow.norm())


def run(*, quick: bool = True, seeds: int | Sequence[int] | None = None,
        blocks: int | None = None, width: int | None = None, epochs: int | None = None,
        lr: float = 0.05, zero_value: float = 0.0,
        device: str | torch.device = "cpu") -> ExperimentResult:
    """Compare zero-γ and standard residual MLPs at init and in training (module docstring).

    Args:
        blocks, width: residual blocks and their width (quick: 8, 32).
        epochs: training epochs per run (quick: 4); lr: SGD step (momentum 0.9).
        zero_value: the γ the "zero-γ" arm gets (1.0 makes it the standard arm: the control).
    """
    where = resolve_device(device)
    seeds_ = seed_list(seeds, quick, 3, 5)
    blocks = check_int("blocks", blocks if blocks is not None else (8 if quick else 16), 1)
    width = check_int("width", width if width is not None else (32 if quick else 64), 2)
    epochs = check_int("epochs", epochs if epochs is not None else (4 if quick else 15), 1)
    check_positive("lr", lr)
    if isinstance(zero_value, bool) or not isinstance(zero_value, int | float) \
            or not math.isfinite(zero_value):
        raise InitError(f"zero_gamma: zero_value must be a finite number, got {zero_value!r}")
    data = digits()
    xb, yb = data.x_train[:256], data.y_train[:256]
    arms = {"zero-γ": float(zero_value), "standard": None}
    dev: dict[str, list[float]] = {}
    ratio: dict[str, list[float]] = {}
    loss: dict[str, list[float]] = {}
    acc: dict[str, list[float]] = {}
    gamma_after: dict[str, list[float]] = {}
    curves: dict[str, list[list[float]]] = {}
    with Timer() as t:
        for arm, gamma in arms.items():
            for s in seeds_:
                net = _build(blocks, width, s, gamma, xb)
                d, r = _at_init(net, xb, yb)
                dev.setdefault(arm, []).append(d)
                ratio.setdefault(arm, []).append(r)
                torch.manual_seed(s)
                rec = fit(net, data, where, epochs=epochs, lr=lr, seed=s, batch_size=90)
                loss.setdefault(arm, []).append(rec.final_train_loss)
                acc.setdefault(arm, []).append(rec.final_test_accuracy)
                curves.setdefault(arm, []).append(list(rec.step_loss))
                gamma_after.setdefault(arm, []).append(
                    mean([float(b.bn2.weight.detach().abs().mean()) for b in net.blocks]))
    identity = max(dev["zero-γ"]) < 1e-6
    undiminished = max(abs(r - 1) for r in ratio["zero-γ"]) < 1e-3
    lz, ls = loss["zero-γ"], loss["standard"]
    trains = all(math.isfinite(v) for v in lz) and (
        mean(lz) - mean(ls) <= 2 * math.hypot(stderr(lz), stderr(ls)))
    checks = [identity, undiminished, trains]
    verdict = verdict_from_checks(checks)
    effects = (
        Effect.from_samples("deviation from identity: zero-γ", dev["zero-γ"], target=0.0,
                            note="‖h_B − h_0‖/‖h_0‖ at init"),
        Effect.from_samples("deviation from identity: standard", dev["standard"]),
        Effect.from_samples("stem-gradient ratio deep/shallow: zero-γ", ratio["zero-γ"],
                            target=1.0),
        Effect.from_samples("stem-gradient ratio deep/shallow: standard", ratio["standard"]),
        Effect.from_samples("final train loss: zero-γ", lz),
        Effect.from_samples("final train loss: standard", ls),
        Effect.from_samples("test accuracy: zero-γ", acc["zero-γ"]),
        Effect.from_samples("test accuracy: standard", acc["standard"]),
        Effect.from_samples("mean |γ₂| after training: zero-γ", gamma_after["zero-γ"],
                            note="the blocks fade in from 0"),
    )
    reason = (
        f"at init the zero-γ net deviates {max(dev['zero-γ']):.1e} from the identity (standard "
        f"{mean(dev['standard']):.2f}); stem gradient ×{mean(ratio['zero-γ']):.4f} of the "
        f"shallow net's (standard ×{mean(ratio['standard']):.2f}); after {epochs} epochs loss "
        f"{mean(lz):.4f} ± {stderr(lz):.1g} vs standard {mean(ls):.4f} ± {stderr(ls):.1g}, "
        f"accuracy {mean(acc['zero-γ']):.3f} vs {mean(acc['standard']):.3f}; |γ₂| grew to "
        f"{mean(gamma_after['zero-γ']):.3f}"
    )
    return ExperimentResult(
        name=NAME, title=TITLE, claim=CLAIM, source=SOURCE, verdict=verdict, reason=reason,
        effects=effects,
        numbers={"deviation": dev, "gradient_ratio": ratio, "final_loss": loss,
                 "accuracy": acc, "gamma_after": gamma_after,
                 "checks": {"identity": identity, "undiminished": undiminished,
                            "trains_as_well": trains}},
        figure={"curves": {a: [mean(col) for col in zip(*c, strict=False)]
                           for a, c in curves.items()},
                "deviation": {a: [mean(v), stderr(v)] for a, v in dev.items()},
                "ratio": {a: [mean(v), stderr(v)] for a, v in ratio.items()},
                "steps_per_epoch": math.ceil(data.x_train.shape[0] / 90),
                "zero_value": zero_value},
        settings={"quick": quick, "seeds": seeds_, "blocks": blocks, "width": width,
                  "epochs": epochs, "lr": lr, "zero_value": zero_value},
        elapsed_s=t.elapsed,
    )
