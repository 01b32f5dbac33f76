"""Pennington, Schoenholz & Ganguli 2017: at the critical point, orthogonal tanh networks reach
dynamical isometry and train faster than Gaussian ones, increasingly so with depth.

"Resurrecting the sigmoid in deep learning through dynamical isometry" (NIPS 2017): at a
critical point χ₁ = 1 the mean squared singular value of the input–output Jacobian J is 1 at
any depth, but its spread is not: the variance of the eigenvalues λ of JJᵀ is
L(μ₂/μ₁² − 1 − s₁) (their eq. 17; :func:`initlab.theory.jacobian_moments`), with s₁ = −1 for
Gaussian weights and 0 for orthogonal ones, and μ₂/μ₁² → 1 for tanh as q* → 0. So orthogonal
tanh nets with small q* keep every singular value near 1 (dynamical isometry) while Gaussian
ones spread like L; their Figs. 4–5 show the orthogonal networks learning faster, the more so
the deeper the network.

Here: the singular values are measured on real random networks by
:func:`initlab.theory.simulate` and compared with the theory; training is a tanh MLP on
scikit-learn's digits at the critical point with q* = ``q_star``
(:func:`initlab.theory.critical_init`), SGD with momentum; learning time = the first step
where the mean loss of the last 20 steps is below ``loss_threshold``.

Examples:
    >>> r = run(quick=True, jacobian_depths=(2, 4), jacobian_width=16, train_depths=(2, 3),
    ...         width=16, steps=30, seeds=1)
    >>> sorted(r.numbers["lambda_variance"])
    ['gaussian', 'orthogonal']
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from initlab.lab.experiment import Effect, ExperimentResult, verdict_from_checks
from initlab.lab.reproduce import _common as C

NAME = "pennington2017"
TITLE = "Pennington et al. 2017: orthogonal vs Gaussian tanh at criticality"
SOURCE = ("Pennington, Schoenholz & Ganguli 2017, Resurrecting the sigmoid in deep learning "
          "through dynamical isometry, eq. 17, Figs. 4–5")
CLAIM = ("at the critical point, orthogonal tanh networks keep the Jacobian's singular values "
         "concentrated near 1 (variance L(μ₂/μ₁² − 1)) while Gaussian ones spread (variance "
         "≈ L μ₂/μ₁²), and orthogonal networks train faster, increasingly with depth")

WEIGHTS = ("gaussian", "orthogonal")


@dataclass(frozen=True)
class Settings:
    q_star: float = 1 / 64
    jacobian_depths: tuple[int, ...] = (8, 32, 128)
    jacobian_width: int = 128
    train_depths: tuple[int, ...] = (10, 40)
    width: int = 64
    steps: int = 400
    lr: float = 0.01
    batch_size: int = 64
    loss_threshold: float = 0.5
    window: int = 20
    seeds: int = 2


QUICK = Settings()
FULL = Settings(jacobian_depths=(8, 16, 32, 64, 128, 256), jacobian_width=256,
                train_depths=(10, 20, 40, 80), steps=1000, seeds=3)

#: orthogonal λ-variance must match the theory within this relative error (finite width N
#: adds O(L/N) corrections: ≤ 0.2 at L = 128, N = 128 measured)
THEORY_TOL = 0.3
#: Gaussian spread at least this many times the orthogonal one at every depth
SPREAD_RATIO = 10.0
#: at the deepest trained depth, Gaussian must need this many times the orthogonal's steps
SPEEDUP = 1.5


def steps_to(losses: list[float], threshold: float, window: int, budget: int) -> float:
    """First step whose trailing ``window``-step mean loss is ≤ ``threshold`` (inf if none
    within ``budget``; a non-finite loss ends the search)."""
    acc = 0.0
    for i, v in enumerate(losses[:budget]):
        if not math.isfinite(v):
            return math.inf
        acc += v
        if i >= window:
            acc -= losses[i - window]
        if i >= window - 1 and acc / window <= threshold:
            return float(i)
    return math.inf


def run(*, quick: bool = False, device: str | torch.device = "cpu",
        **overrides: Any) -> ExperimentResult:
    """Jacobian spectra and training speed, orthogonal vs Gaussian, at the tanh critical point."""
    from initlab.theory import critical_init, jacobian_moments, simulate

    s = C.resolve_settings(NAME, quick, (QUICK, FULL), overrides)
    dev = C.resolve_device(device)
    t = C.Timer()
    ci = critical_init("tanh", q_star=s.q_star)
    jd = sorted(set(s.jacobian_depths))
    lam_var: dict[str, dict[int, list[float]]] = {w: {} for w in WEIGHTS}
    theory: dict[str, dict[int, float]] = {w: {} for w in WEIGHTS}
    svs: dict[str, list[float]] = {}
    for w in WEIGHTS:
        for depth in jd:
            sim = simulate("tanh", ci.sigma_w2, ci.sigma_b2, width=s.jacobian_width,
                           depth=depth, seed=0, q0=ci.q_star, n_seeds=s.seeds, weights=w,
                           jacobian=True)
            lam = sim.singular_values ** 2  # type: ignore[operator]
            lam_var[w][depth] = [float(v) for v in lam.var(axis=1)]
            theory[w][depth] = jacobian_moments("tanh", ci.sigma_w2, ci.sigma_b2, depth=depth,
                                                weights=w, q_star=ci.q_star).variance
            if depth == jd[-1]:
                svs[w] = [float(v) for v in sim.singular_values[0]]  # type: ignore[index]
    data = C.load_split("digits", 0)
    td = sorted(set(s.train_depths))
    hit: dict[str, dict[int, list[float]]] = {w: {} for w in WEIGHTS}
    acc: dict[str, dict[int, list[float]]] = {w: {} for w in WEIGHTS}
    curves: dict[str, dict[int, list[float]]] = {w: {} for w in WEIGHTS}
    for w in WEIGHTS:
        for depth in td:
            for seed in C.seeds_of(s.seeds):
                model = C.mlp(depth, s.width, data.num_features, data.num_classes, nn.Tanh)
                C.gaussian_fill_(model, ci.sigma_w2, ci.sigma_b2, seed, weights=w)
                r = C.train_steps(model, data, s.steps, s.lr, batch_size=s.batch_size,
                                  seed=seed, device=dev)
                losses = list(r.step_loss)
                hit[w].setdefault(depth, []).append(
                    steps_to(losses, s.loss_threshold, s.window, s.steps))
                acc[w].setdefault(depth, []).append(r.final_test_accuracy)
                if seed == 0:
                    curves[w][depth] = C.curve(losses[: s.steps], 100)

    def capped(w: str, d: int) -> float:
        return C.mean([min(h, s.steps) for h in hit[w][d]])

    e_var = {(w, d): Effect.from_samples(f"var λ[{w}, L={d}]", lam_var[w][d],
                                         target=theory[w][d], note="eigenvalues of JJᵀ")
             for w in WEIGHTS for d in jd}
    theory_ok = all(e_var[("orthogonal", d)].agrees_with_target(THEORY_TOL) for d in jd)
    spread_ok = all(e_var[("gaussian", d)].value >= SPREAD_RATIO * e_var[("orthogonal", d)].value
                    for d in jd)
    deepest = td[-1]
    speedup = {d: capped("gaussian", d) / max(capped("orthogonal", d), 1.0) for d in td}
    orth_reached = all(math.isfinite(h) for h in hit["orthogonal"][deepest])
    speed_ok = orth_reached and speedup[deepest] >= SPEEDUP
    checks = {
        f"orthogonal λ-variance matches L(μ₂/μ₁² − 1) within {THEORY_TOL:.0%}": theory_ok,
        f"Gaussian spread ≥ {SPREAD_RATIO:g}× orthogonal at every depth": spread_ok,
        f"at depth {deepest} orthogonal reaches loss {s.loss_threshold:g} ≥ {SPEEDUP:g}× faster":
            speed_ok,
    }
    reason = (f"var λ at depths {jd}: orthogonal "
              f"{[round(e_var[('orthogonal', d)].value, 3) for d in jd]} (theory "
              f"{[round(theory['orthogonal'][d], 3) for d in jd]}), Gaussian "
              f"{[round(e_var[('gaussian', d)].value, 1) for d in jd]} (theory "
              f"{[round(theory['gaussian'][d], 1) for d in jd]}); steps to loss "
              f"{s.loss_threshold:g} at depths {td}: orthogonal "
              f"{[round(capped('orthogonal', d)) for d in td]}, Gaussian "
              f"{[round(capped('gaussian', d)) for d in td]} (budget {s.steps})")
    effects = [*e_var.values()]
    effects += [Effect.from_samples(f"steps to loss {s.loss_threshold:g}[{w}, L={d}]",
                                    [min(h, s.steps) for h in hit[w][d]],
                                    note="" if all(math.isfinite(h) for h in hit[w][d])
                                    else "not reached: budget")
                for w in WEIGHTS for d in td]
    return ExperimentResult(
        name=NAME, title=TITLE, claim=CLAIM, source=SOURCE,
        verdict=verdict_from_checks(list(checks.values())), reason=reason,
        effects=tuple(effects),
        numbers={"critical_point": ci.to_dict(),
                 "lambda_variance": {w: {str(d): v for d, v in lam_var[w].items()}
                                     for w in WEIGHTS},
                 "lambda_variance_theory": {w: {str(d): v for d, v in theory[w].items()}
                                            for w in WEIGHTS},
                 "steps_to_threshold": {w: {str(d): v for d, v in hit[w].items()}
                                        for w in WEIGHTS},
                 "final_accuracy": {w: {str(d): v for d, v in acc[w].items()} for w in WEIGHTS},
                 "speedup": {str(d): v for d, v in speedup.items()}, "checks": checks},
        figure={"kind": "pennington2017", "jacobian_depths": jd, "train_depths": td,
                "lambda_variance": {w: [C.mean(lam_var[w][d]) for d in jd] for w in WEIGHTS},
                "lambda_variance_theory": {w: [theory[w][d] for d in jd] for w in WEIGHTS},
                "singular_values": svs, "deepest_jacobian": jd[-1],
                "loss_curves": {w: {str(d): v for d, v in curves[w].items()} for w in WEIGHTS},
                "steps": s.steps, "loss_threshold": s.loss_threshold,
                "sigma_w2": ci.sigma_w2, "sigma_b2": ci.sigma_b2, "q_star": ci.q_star},
        settings=C.settings_dict(s, quick), elapsed_s=t.elapsed,
    )
