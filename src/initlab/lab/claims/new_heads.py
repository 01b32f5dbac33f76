"""Claim 11, new heads: a new head on a frozen pretrained trunk (transfer), and each of several
heads on one trunk (multi-task), should be initialized by its own fan-in (Xavier),
independently of the loss weights.

The experiment, on the bundled digits: a trunk (64 → ``width`` → ``width``, ReLU, He) is
pretrained with a 5-way head on the digits 0–4 (``pretrain_epochs`` of SGD), per seed.

* Transfer: the trunk is frozen and a new Linear head for the digits 5–9 is trained
  (``epochs`` of SGD) from Xavier (its own fan-in/fan-out), all zeros, N(0, 1), or Xavier scaled
  by ``fanin_gain`` (1: plain Xavier). Measured: test accuracy on 5–9 after the first and last
  epoch.
* Multi-task: the trunk (now trainable) gets two heads — digit (10-way) and parity (2-way) —
  trained on L = CE_digit + w·CE_parity with w = ``loss_weight`` (SGD step lr/√w); the heads
  are either Xavier each (by own fan-in, ignoring w) or Xavier with the parity head's std
  divided by w ("scaled by the loss weight"). Measured: both tasks' test accuracy.

Verdict checks: (1) in transfer, the fan-in head is never worse than an alternative (no
difference below −2 s.e. in final accuracy); (2) it is better than at least one (the start
matters at all); (3) in multi-task, the fan-in heads are not worse than the loss-weight-scaled
ones on the mean of the two tasks' accuracies.

Examples:
    >>> r = run(width=16, pretrain_epochs=1, epochs=1, seeds=2)
    >>> 0 <= r.effect("transfer accuracy: Xavier (own fan-in)").value <= 1
    True
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from initlab.lab.claims._common import (
    Timer,
    check_int,
    check_positive,
    differs,
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

NAME = "new_heads"
TITLE = "New heads (transfer, multi-task): initialize by own fan-in"
CLAIM = ("We typically freeze the pre-trained engine and attach a new, randomly initialized "
         "'head' ... Xavier initialization provides the perfect answer ... in multi-task "
         "learning ... each head should be initialized independently based on its own fan-in, "
         "without regard for the other heads or how important we've weighted their respective "
         "tasks.")
SOURCE = ("seeds 003 (§ Applications, transfer and multi-task learning); Yosinski et al. 2014 "
          "(transferable features); Kumar et al. 2022 (fine-tuning distorts features: head "
          "init matters, LP-FT); Kendall, Gal & Cipolla 2018 (task weighting by loss)")


def _xavier(lin: nn.Linear, g: torch.Generator, gain: float = 1.0) -> None:
    fo, fi = lin.weight.shape
    with torch.no_grad():
        lin.weight.copy_(torch.randn(fo, fi, generator=g) * gain * math.sqrt(2.0 / (fi + fo)))
        lin.bias.zero_()


def _trunk(width: int, seed: int) -> nn.Sequential:
    g = generator(seed)
    trunk = nn.Sequential(nn.Linear(64, width), nn.ReLU(), nn.Linear(width, width), nn.ReLU())
    with torch.no_grad():
        for m in trunk:
            if isinstance(m, nn.Linear):
                m.weight.copy_(torch.randn(m.weight.shape, generator=g)
                               * math.sqrt(2.0 / m.weight.shape[1]))
                m.bias.zero_()
    return trunk


def _subset(data: Split, classes: Sequence[int]) -> Split:
    cls = torch.tensor(list(classes))
    remap = torch.full((10,), -1, dtype=torch.long)
    remap[cls] = torch.arange(len(cls))
    tr = torch.isin(data.y_train, cls)
    te = torch.isin(data.y_test, cls)
    return dataclasses.replace(data, x_train=data.x_train[tr], y_train=remap[data.y_train[tr]],
                               x_test=data.x_test[te], y_test=remap[data.y_test[te]],
                               num_classes=len(cls), name=f"{data.name}{list(classes)}")


def _head(width: int, k: int, start: str, gain: float, g: torch.Generator) -> nn.Linear:
    head = nn.Linear(width, k)
    if start == "Xavier (own fan-in)":
        _xavier(head, g, gain)
    elif start == "zeros":
        with torch.no_grad():
            head.weight.zero_()
            head.bias.zero_()
    else:  # N(0, 1)
        with torch.no_grad():
            head.weight.copy_(torch.randn(head.weight.shape, generator=g))
            head.bias.zero_()
    return head


class _MultiHead(nn.Module):
    def __init__(self, trunk: nn.Module, a: nn.Linear, b: nn.Linear) -> None:
        super().__init__()
        self.trunk, self.a, self.b = trunk, a, b

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.trunk(x)
        return self.a(h), self.b(h)


def _multitask(model: _MultiHead, data: Split, w: float, epochs: int, lr: float, seed: int,
               device: torch.device | None = None) -> tuple[float, float]:
    g = generator(seed + 70_000)  # the batch order is drawn on the CPU on every device
    if device is not None and device.type != "cpu":
        model.to(device)
        data = data.to(device)
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    n = data.x_train.shape[0]
    for _ in range(epochs):
        perm = torch.randperm(n, generator=g)
        for i in range(0, n, 64):
            idx = perm[i:i + 64].to(data.x_train.device)
            la, lb = model(data.x_train[idx])
            y = data.y_train[idx]
            loss = F.cross_entropy(la, y) + w * F.cross_entropy(lb, y % 2)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
    with torch.no_grad():
        la, lb = model(data.x_test)
        acc_a = float((la.argmax(1) == data.y_test).float().mean())
        acc_b = float((lb.argmax(1) == data.y_test % 2).float().mean())
    return acc_a, acc_b


def run(*, quick: bool = True, seeds: int | Sequence[int] | None = None,
        width: int | None = None, pretrain_epochs: int | None = None,
        epochs: int | None = None, lr: float = 0.02, loss_weight: float = 10.0,
        fanin_gain: float = 1.0,
        device: str | torch.device = "cpu") -> ExperimentResult:
    """Compare head starts in transfer and multi-task learning (see the module docstring).

    Args:
        width: trunk width; pretrain_epochs, epochs: SGD epochs (quick: 5, 3); lr: SGD step.
        loss_weight: w of the parity task in multi-task training.
        fanin_gain: multiplier of the Xavier head's std (1: the claim; e.g. 10 makes the
            "fan-in" head a badly scaled one: the control).
    """
    dev = resolve_device(device)
    seeds_ = seed_list(seeds, quick, 4, 8)
    width = check_int("width", width if width is not None else (64 if quick else 128), 2)
    pre = check_int("pretrain_epochs", pretrain_epochs if pretrain_epochs is not None
                    else (5 if quick else 15), 1)
    epochs = check_int("epochs", epochs if epochs is not None else (3 if quick else 10), 1)
    check_positive("lr", lr)
    check_positive("loss_weight", loss_weight)
    check_positive("fanin_gain", fanin_gain)
    data = digits()
    old, new = _subset(data, range(5)), _subset(data, range(5, 10))
    starts = ("Xavier (own fan-in)", "zeros", "N(0, 1)")
    first: dict[str, list[float]] = {s: [] for s in starts}
    final: dict[str, list[float]] = {s: [] for s in starts}
    mt: dict[str, dict[str, list[float]]] = {
        a: {"digit": [], "parity": [], "mean": []} for a in ("own fan-in", "scaled by 1/w")}
    with Timer() as t:
        for s in seeds_:
            trunk = _trunk(width, s)
            g = generator(s + 1)
            pre_head = nn.Linear(width, 5)
            _xavier(pre_head, g)
            torch.manual_seed(s)
            fit(nn.Sequential(trunk, pre_head), old, dev, epochs=pre, lr=lr, seed=s)
            state = {k: v.clone() for k, v in trunk.state_dict().items()}
            for p in trunk.parameters():
                p.requires_grad_(False)
            for start in starts:
                head = _head(width, 5, start, fanin_gain, generator(s + 2))
                rec = fit(nn.Sequential(trunk, head), new, dev, epochs=epochs, lr=lr, seed=s)
                first[start].append(rec.test_accuracy[0])
                final[start].append(rec.final_test_accuracy)
            for arm in mt:
                tr = _trunk(width, s)
                tr.load_state_dict(state)
                ga = generator(s + 3)
                a, b = nn.Linear(width, 10), nn.Linear(width, 2)
                _xavier(a, ga, fanin_gain)
                _xavier(b, ga, fanin_gain / (loss_weight if arm == "scaled by 1/w" else 1.0))
                # step lr/√w: the weighted loss's gradient is up to w× larger (w = 10 with lr
                # diverges on some seeds), so both arms train at a stable, equal step
                acc_a, acc_b = _multitask(_MultiHead(tr, a, b), data, loss_weight, epochs,
                                          lr / math.sqrt(max(loss_weight, 1.0)), s, dev)
                mt[arm]["digit"].append(acc_a)
                mt[arm]["parity"].append(acc_b)
                mt[arm]["mean"].append((acc_a + acc_b) / 2)
    ref = final[starts[0]]
    zs = {s: differs(ref, final[s]) for s in starts[1:]}
    never_worse = all(z > -2 for z in zs.values())
    matters = any(z > 2 for z in zs.values())
    mt_ok = differs(mt["own fan-in"]["mean"], mt["scaled by 1/w"]["mean"]) > -2
    checks = {"transfer_never_worse": never_worse, "transfer_start_matters": matters,
              "multitask_not_worse": mt_ok}
    verdict = verdict_from_checks(list(checks.values()))
    best_alt = max(starts[1:], key=lambda s: mean(final[s]))
    effects = (
        Effect.from_samples(f"transfer accuracy Xavier − {best_alt}",
                            [a - b for a, b in zip(ref, final[best_alt], strict=True)],
                            note="vs the best alternative head start (paired by seed)"),
        *[Effect.from_samples(f"transfer accuracy: {s}", final[s],
                              note=f"digits 5–9 on a frozen trunk, after {epochs} epochs")
          for s in starts],
        *[Effect.from_samples(f"transfer accuracy after 1 epoch: {s}", first[s]) for s in starts],
        *[Effect.from_samples(f"multi-task {task}: {arm}", mt[arm][task])
          for arm in mt for task in ("digit", "parity")],
    )
    reason = (
        "transfer (frozen trunk, digits 5–9): "
        + ", ".join(f"{s} {mean(final[s]):.3f} ± {stderr(final[s]):.1g}" for s in starts)
        + f"; multi-task (w = {loss_weight:g}) mean accuracy: own fan-in "
        f"{mean(mt['own fan-in']['mean']):.3f} vs scaled by 1/w "
        f"{mean(mt['scaled by 1/w']['mean']):.3f}"
        + ("" if fanin_gain == 1 else f" (fan-in heads × {fanin_gain:g})")
    )
    return ExperimentResult(
        name=NAME, title=TITLE, claim=CLAIM, source=SOURCE, verdict=verdict, reason=reason,
        effects=effects,
        numbers={"transfer_final": final, "transfer_first": first, "multitask": mt,
                 "checks": checks},
        figure={"starts": list(starts),
                "transfer_first": {s: [mean(v), stderr(v)] for s, v in first.items()},
                "transfer_final": {s: [mean(v), stderr(v)] for s, v in final.items()},
                "multitask": {a: {k: [mean(v), stderr(v)] for k, v in d.items()}
                              for a, d in mt.items()},
                "loss_weight": loss_weight, "epochs": epochs},
        settings={"quick": quick, "seeds": seeds_, "width": width, "pretrain_epochs": pre,
                  "epochs": epochs, "lr": lr, "loss_weight": loss_weight,
                  "fanin_gain": fanin_gain},
        elapsed_s=t.elapsed,
    )
