"""Schoenholz et al. 2017: a deep tanh network is trainable when its depth is below ≈ 6ξ_c.

Schoenholz, Gilmer, Ganguli & Sohl-Dickstein, "Deep information propagation" (ICLR 2017),
Fig. 5: over a grid of (σ_w², depth) at fixed σ_b², the training accuracy of random tanh
networks is high only below the curve L = 6ξ_c, where ξ_c = −1/ln χ_c is the correlation depth
scale of the mean-field theory (their eq. 9), which diverges at the critical point χ₁ = 1.
ξ_c comes from :class:`initlab.theory.MeanField`; the critical σ_w² from
:func:`initlab.theory.critical_sigma_w2` (1.76 for σ_b² = 0.05). Here: digits instead of
MNIST/CIFAR-10, width 64, a few hundred SGD steps.

Examples:
    >>> r = run(quick=True, sigma_w2=(1.0, 4.0), depths=(2, 3), width=16, steps=20, seeds=1,
    ...         curve_points=4)
    >>> len(r.numbers["cells"])
    4
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from initlab.errors import InitError
from initlab.lab.experiment import Effect, ExperimentResult, verdict_from_checks
from initlab.lab.reproduce import _common as C

NAME = "schoenholz2017"
TITLE = "Schoenholz et al. 2017: tanh nets train when depth < 6ξ_c"
SOURCE = "Schoenholz, Gilmer, Ganguli & Sohl-Dickstein 2017, Deep information propagation, Fig. 5"
CLAIM = ("random tanh networks are trainable when their depth L is below ≈ 6ξ_c; at the "
         "critical point (ξ_c = ∞) the deepest networks train")

CRITICAL = -1.0  # stands for the critical σ_w² of the chosen σ_b² in Settings.sigma_w2


@dataclass(frozen=True)
class Settings:
    sigma_b2: float = 0.05
    sigma_w2: tuple[float, ...] = (1.0, CRITICAL, 4.0)
    depths: tuple[int, ...] = (10, 30, 60)
    width: int = 64
    steps: int = 300
    lr: float = 0.001
    batch_size: int = 64
    seeds: int = 2
    curve_points: int = 60


QUICK = Settings()
FULL = Settings(sigma_w2=(1.0, 1.3, CRITICAL, 2.5, 3.0, 4.0), depths=(10, 20, 40, 60, 80),
                steps=600)

#: "trainable": test accuracy at least this far above chance (0.1)
TRAIN_MARGIN = 0.3
#: share of grid cells where "trainable" must match "L ≤ 6ξ_c"
AGREEMENT = 0.75


def xi_c(sigma_w2: float, sigma_b2: float) -> float:
    """ξ_c of tanh at (σ_w², σ_b²) (∞ at the critical point)."""
    from initlab.theory import MeanField

    return float(MeanField("tanh", sigma_w2, sigma_b2).xi_c)


def run(*, quick: bool = False, device: str | torch.device = "cpu",
        **overrides: Any) -> ExperimentResult:
    """Train a tanh MLP at every (σ_w², depth) of the grid; compare with L = 6ξ_c."""
    from initlab.theory import critical_sigma_w2

    s = C.resolve_settings(NAME, quick, (QUICK, FULL), overrides)
    dev = C.resolve_device(device)
    ws = [CRITICAL if w == "critical" else w for w in s.sigma_w2]
    if any(isinstance(w, str) or (w != CRITICAL and (not math.isfinite(w) or w <= 0))
           for w in ws):
        raise InitError(f"reproduce {NAME}: sigma_w2 must be positive numbers or 'critical' "
                        f"(the critical point of σ_b²), got {s.sigma_w2}")
    t = C.Timer()
    crit = critical_sigma_w2("tanh", s.sigma_b2)
    grid = sorted({crit if w == CRITICAL else float(w) for w in ws})
    data = C.load_split("digits", 0)
    chance = 1.0 / data.num_classes
    cells: list[dict[str, Any]] = []
    for w2 in grid:
        xc = xi_c(w2, s.sigma_b2)
        for depth in s.depths:
            accs = []
            for seed in C.seeds_of(s.seeds):
                model = C.mlp(depth, s.width, data.num_features, data.num_classes, nn.Tanh)
                C.gaussian_fill_(model, w2, s.sigma_b2, seed)
                r = C.train_steps(model, data, s.steps, s.lr, batch_size=s.batch_size,
                                  seed=seed, device=dev)
                accs.append(r.final_test_accuracy)
            a = C.mean(accs)
            cells.append({"sigma_w2": w2, "depth": depth, "accuracy": a, "accuracies": accs,
                          "xi_c": xc, "predicted": depth <= 6 * xc,
                          "trainable": a >= chance + TRAIN_MARGIN})
    agree = [c["predicted"] == c["trainable"] for c in cells]
    deepest = max(s.depths)
    at_deepest = {c["sigma_w2"]: c["accuracy"] for c in cells if c["depth"] == deepest}
    best_w2 = max(at_deepest, key=at_deepest.__getitem__)
    near_crit = min(grid, key=lambda w: abs(w - crit))
    crit_ok = best_w2 == near_crit and at_deepest[near_crit] >= chance + TRAIN_MARGIN
    share = sum(agree) / len(agree)
    checks = {f"trainability matches L ≤ 6ξ_c in ≥ {AGREEMENT:.0%} of cells": share >= AGREEMENT,
              f"at depth {deepest} the σ_w² nearest the critical point trains best": crit_ok}
    lo, hi = min(grid) * 0.8, max(grid) * 1.1
    ws = np.unique(np.concatenate([np.linspace(lo, hi, s.curve_points), [crit]]))
    curve = [[float(w), 6 * xi_c(float(w), s.sigma_b2)] for w in ws]
    reason = (f"trainability agreed with L ≤ 6ξ_c in {sum(agree)}/{len(agree)} cells; at depth "
              f"{deepest} the best σ_w² was {best_w2:.3g} (accuracy {at_deepest[best_w2]:.2f}; "
              f"critical σ_w² = {crit:.3g})")
    effects = [Effect.from_samples("agreement with 6ξ_c", [float(a) for a in agree],
                                   note="share of (σ_w², depth) cells"),
               *[Effect.from_samples(f"accuracy[σ_w²={w:.3g}, L={deepest}]",
                                     next(c["accuracies"] for c in cells
                                          if c["sigma_w2"] == w and c["depth"] == deepest),
                                     unit="test accuracy") for w in grid]]
    return ExperimentResult(
        name=NAME, title=TITLE, claim=CLAIM, source=SOURCE,
        verdict=verdict_from_checks(list(checks.values())), reason=reason,
        effects=tuple(effects),
        numbers={"cells": cells, "critical_sigma_w2": crit, "chance": chance, "checks": checks},
        figure={"kind": "schoenholz2017", "cells": [
            {k: c[k] for k in ("sigma_w2", "depth", "accuracy")} for c in cells],
            "six_xi_c": curve, "critical_sigma_w2": crit, "sigma_b2": s.sigma_b2,
            "depths": list(s.depths)},
        settings=C.settings_dict(s, quick), elapsed_s=t.elapsed,
    )
