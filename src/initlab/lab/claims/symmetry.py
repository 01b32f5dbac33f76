"""Claim 1, symmetry: identical weights give identical neurons that stay identical under
training; a tiny random perturbation suffices to break it.

The experiment: a one-hidden-layer tanh network on the bundled digits (64 → ``width`` → 10),
float64, every weight of a layer set to the same constant (so every hidden unit has the same
incoming and outgoing weights), then perturbed by ε·σ_X·z (z ~ N(0, 1), σ_X the Xavier std of
the layer) for ε in ``epsilons``; full-batch gradient descent for ``steps`` steps. Measured: the
neurons' spread D(t) = rms_i ‖w_i − w̄‖ / ‖w̄‖ over the hidden units' incoming weight vectors
(0 when all are identical), and the final test accuracy, against a network started from
independent Xavier weights (the baseline).

Verdict checks: (1) at ε = 0 the spread stays below 1e-6 after training (round-off only); (2) the
smallest ε tested breaks symmetry: its spread grows (D_T > D_0) and its accuracy comes within
``accuracy_margin`` (plus two standard errors) of the baseline.

Examples:
    >>> r = run(width=8, steps=20, epsilons=(0.0, 1e-3), seeds=2)
    >>> r.effect("spread at ε=0").value < 1e-6
    True
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F

from initlab.errors import InitError
from initlab.lab.claims._common import (
    Timer,
    check_int,
    check_positive,
    digits,
    generator,
    mean,
    resolve_device,
    seed_list,
    stderr,
    to_device,
)
from initlab.lab.experiment import Effect, ExperimentResult, verdict_from_checks

#: "identical" = the same to 6 significant digits: float64 round-off (~1e-16) is amplified by
#: training like any perturbation (×1e6 in 150 steps here), so exact 0 is not the test.
IDENTICAL_TOL = 1e-6

NAME = "symmetry"
TITLE = "Identical weights stay identical; a tiny perturbation breaks symmetry"
CLAIM = ("If every neuron in a layer starts with the identical set of weights ... they start the "
         "same, and they stay the same, forever locked in step. An infinitesimally small random "
         "perturbation is enough to ensure that each neuron ... begins to specialize.")
SOURCE = ("seeds 003 (§ Principles), 000 (Concept 1), 001 (The Symmetry Breaking Problem); "
          "Rumelhart, Hinton & Williams 1986 (symmetry of equal weights); Goodfellow, Bengio & "
          "Courville 2016, §8.4")


def _spread(w: torch.Tensor) -> float:
    """rms over rows of ‖w_i − mean row‖, relative to the mean row's norm (or the rms row)."""
    centred = w - w.mean(0, keepdim=True)
    num = float(centred.pow(2).sum(1).mean().sqrt())
    den = float(w.mean(0).norm()) or float(w.pow(2).sum(1).mean().sqrt()) or 1.0
    return num / den


def _train_one(x: torch.Tensor, y: torch.Tensor, xt: torch.Tensor, yt: torch.Tensor, width: int,
               eps: float | None, seed: int, steps: int, lr: float, record_every: int,
               device: torch.device | None = None) -> tuple[list[float], float, float]:
    """Returns (spread over steps, final test accuracy, final train loss). ``eps=None``: Xavier.
    The weights are drawn on the CPU and trained on ``device`` (where ``x`` is)."""
    g = generator(seed)
    d_in, k = x.shape[1], 10
    s1, s2 = math.sqrt(2 / (d_in + width)), math.sqrt(2 / (width + k))
    if eps is None:
        w1 = torch.randn(width, d_in, generator=g, dtype=torch.float64) * s1
        w2 = torch.randn(k, width, generator=g, dtype=torch.float64) * s2
    else:
        w1 = torch.full((width, d_in), s1, dtype=torch.float64)
        w2 = torch.full((k, width), s2, dtype=torch.float64)
        w1 += eps * s1 * torch.randn(width, d_in, generator=g, dtype=torch.float64)
        w2 += eps * s2 * torch.randn(k, width, generator=g, dtype=torch.float64)
    b1 = torch.zeros(width, dtype=torch.float64)
    b2 = torch.zeros(k, dtype=torch.float64)
    w1, w2, b1, b2 = to_device(device, w1, w2, b1, b2)
    params = [w1.requires_grad_(), b1.requires_grad_(), w2.requires_grad_(), b2.requires_grad_()]
    spread = [_spread(w1.detach())]
    loss = torch.tensor(math.nan)
    for step in range(1, steps + 1):
        loss = F.cross_entropy(torch.tanh(x @ w1.t() + b1) @ w2.t() + b2, y)
        grads = torch.autograd.grad(loss, params)
        with torch.no_grad():
            for p, gr in zip(params, grads, strict=True):
                p -= lr * gr
        if step % record_every == 0 or step == steps:
            spread.append(_spread(w1.detach()))
    with torch.no_grad():
        logits = torch.tanh(xt @ w1.t() + b1) @ w2.t() + b2
        acc = float((logits.argmax(1) == yt).double().mean())
    return spread, acc, float(loss.detach())


def run(*, quick: bool = True, seeds: int | Sequence[int] | None = None,
        width: int | None = None, steps: int | None = None,
        epsilons: Sequence[float] = (0.0, 1e-8, 1e-6, 1e-4, 1e-2, 1.0),
        lr: float = 0.5, accuracy_margin: float = 0.03, base: str = "constant",
        device: str | torch.device = "cpu") -> ExperimentResult:
    """Run the symmetry experiment (see the module docstring).

    Args:
        quick: small sizes (width 16, 150 steps, 3 seeds) instead of (64, 600, 5).
        seeds: an int n (seeds 0…n−1) or a list of seeds.
        width: hidden units; steps: full-batch gradient steps; lr: step size.
        epsilons: perturbation sizes relative to the Xavier std (0 = identical weights).
        accuracy_margin: how close to the Xavier baseline "broken symmetry" must train.
        base: ``"constant"`` (identical weights, the claim's setting) or ``"random"`` (the
            "identical" start replaced by independent Xavier weights: the control that must
            make check 1 fail).

    Raises:
        InitError: bad sizes, no ε = 0 or no positive ε, unknown ``base``.
    """
    dev = resolve_device(device, float64="symmetry")
    seeds_ = seed_list(seeds, quick, 3, 5)
    width = check_int("width", width if width is not None else (16 if quick else 64), 2)
    steps = check_int("steps", steps if steps is not None else (150 if quick else 600), 1)
    lr = check_positive("lr", lr)
    eps = tuple(float(e) for e in epsilons)
    if any(not (e >= 0 and math.isfinite(e)) for e in eps):
        raise InitError(f"symmetry: epsilons must be finite and ≥ 0, got {epsilons!r}")
    if 0.0 not in eps or not any(e > 0 for e in eps):
        raise InitError("symmetry: epsilons need 0 (identical weights) and at least one ε > 0")
    if base not in ("constant", "random"):
        raise InitError(f"symmetry: base must be 'constant' or 'random', got {base!r}")
    data = digits()
    x, y = data.x_train.double(), data.y_train
    xt, yt = data.x_test.double(), data.y_test
    x, y, xt, yt = to_device(dev, x, y, xt, yt)
    record_every = max(1, steps // 30)
    with Timer() as t:
        curves: dict[str, list[list[float]]] = {}
        final_spread: dict[float, list[float]] = {}
        acc: dict[float, list[float]] = {}
        for e in eps:
            for s in seeds_:
                init_eps = None if (base == "random" and e == 0.0) else e
                sp, a, _ = _train_one(x, y, xt, yt, width, init_eps, s, steps, lr, record_every,
                                      dev)
                curves.setdefault(repr(e), []).append(sp)
                final_spread.setdefault(e, []).append(sp[-1])
                acc.setdefault(e, []).append(a)
        base_acc = [_train_one(x, y, xt, yt, width, None, s, steps, lr, record_every, dev)[1]
                    for s in seeds_]
    e_min = min(e for e in eps if e > 0)
    sp0 = final_spread[0.0]
    spread_min = final_spread[e_min]
    init_spread_min = [c[0] for c in curves[repr(e_min)]]
    growth = [b / a if a > 0 else math.inf for a, b in zip(init_spread_min, spread_min,
                                                             strict=True)]
    gap = [b - a for a, b in zip(acc[e_min], base_acc, strict=True)]
    check_identical = max(sp0) <= IDENTICAL_TOL
    check_grows = min(growth) > 1.0
    check_acc = mean(gap) <= accuracy_margin + 2 * stderr(gap)
    checks = [check_identical, check_grows and check_acc]
    verdict = verdict_from_checks(checks)
    # smallest ε whose accuracy reaches the baseline within the margin: the "how tiny" answer
    reaching = [e for e in sorted(eps) if e > 0
                and mean(base_acc) - mean(acc[e]) <= accuracy_margin + 2 * stderr(acc[e])]
    eps_star = reaching[0] if reaching else math.inf
    reason = (
        f"ε = 0: neurons' spread after {steps} steps {max(sp0):.1e} "
        f"({'identical' if check_identical else 'NOT identical'}); smallest ε = {e_min:g}: "
        f"spread ×{mean(growth):.3g} over training, accuracy {mean(acc[e_min]):.3f} vs Xavier "
        f"{mean(base_acc):.3f}; smallest ε reaching Xavier's accuracy: {eps_star:g}"
    )
    effects = (
        Effect.from_samples(f"accuracy gap to Xavier at ε={e_min:g}", gap, target=0.0),
        Effect.from_samples("spread at ε=0", sp0, target=0.0,
                            note="rms ‖w_i − w̄‖/‖w̄‖ of hidden units after training"),
        Effect.from_samples(f"spread growth at ε={e_min:g}", growth,
                            note="D_T / D_0 (>1: the perturbation grows)"),
        Effect.from_samples("Xavier accuracy", base_acc),
        Effect(name="smallest ε reaching Xavier's accuracy", value=eps_star,
               note="from the accuracies' means over seeds (one value, no s.e.)"),
    )
    return ExperimentResult(
        name=NAME, title=TITLE, claim=CLAIM, source=SOURCE, verdict=verdict, reason=reason,
        effects=effects,
        numbers={
            "epsilons": list(eps),
            "final_spread": {repr(e): v for e, v in final_spread.items()},
            "accuracy": {repr(e): v for e, v in acc.items()},
            "xavier_accuracy": base_acc,
            "eps_star": eps_star,
            "checks": {"identical_stays_identical": check_identical,
                       "tiny_perturbation_breaks": check_grows and check_acc},
        },
        figure={
            "steps": [min(i * record_every, steps) for i in range(len(curves[repr(eps[0])][0]))],
            "spread": {k: [mean(col) for col in zip(*v, strict=True)] for k, v in curves.items()},
            "epsilons": list(eps),
            "accuracy_mean": [mean(acc[e]) for e in eps],
            "accuracy_se": [stderr(acc[e]) for e in eps],
            "xavier_accuracy": mean(base_acc),
        },
        settings={"quick": quick, "seeds": seeds_, "width": width, "steps": steps, "lr": lr,
                  "epsilons": list(eps), "base": base, "accuracy_margin": accuracy_margin},
        elapsed_s=t.elapsed,
    )
