"""Claim 9, RNN memory: the recurrent weights' initialization decides whether the network's
memory vanishes or explodes over time.

The experiment: a vanilla RNN h_t = φ(W h_{t−1} + U x_t + b) with n hidden units and a scalar
input, W initialized as orthogonal (tanh; Saxe et al. 2014), identity (ReLU: the IRNN of Le et
al. 2015) or Gaussian N(0, g²/n) (tanh) with a small gain (``small_gain``, ordered phase) and a
large one (``large_gain``, chaotic phase); U ~ N(0, 1), b = 0. Measured:

* memory at init: ‖∂h_T/∂h_0‖ (Frobenius, over √n) for t = 1…``horizon`` on a noise sequence;
  its exponential rate λ per step is the slope of log‖∂h_t/∂h_0‖ over t (λ < 0 vanishes,
  λ > 0 explodes);
* memory after training: the first-input recall task — x_1 = ±1, then ``T − 1`` steps of noise
  N(0, ``input_noise``²); the RNN and a linear readout on h_T are trained with Adam to output
  the sign of x_1 — test accuracy (chance 50 %) for each length T in ``lengths``.

Verdict, three checks (each needs both the Jacobian and the task): *vanishes* — λ(small) < −0.1
(at least ×10 smaller in 23 steps) beyond 2 s.e., and its recall at the longest T is worse than
the norm-preserving inits' by > 2 s.e.; *explodes* — λ(large) > 0 beyond 2 s.e. and its recall
is worse too; *preserved* — orthogonal and identity have |λ| < 0.1 and recall ≥ 90 %.

Examples:
    >>> r = run(hidden=8, lengths=(3,), steps=5, horizon=10, seeds=2)
    >>> r.effect("λ small Gaussian").value < 0
    True
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from initlab.lab.claims._common import (
    Timer,
    check_int,
    check_positive,
    fit_line,
    generator,
    mean,
    resolve_device,
    seed_list,
    stderr,
)
from initlab.lab.experiment import Effect, ExperimentResult, verdict_from_checks

NAME = "rnn_memory"
TITLE = "RNN memory vanishes or explodes with the recurrent init"
CLAIM = ("The same logic of preserving signal variance applies to the propagation of information "
         "through time in Recurrent Neural Networks (RNNs). There, the 'depth' is the number of "
         "time steps, and an improper initialization of the recurrent weights will cause the "
         "network's memory to either vanish or explode over long sequences.")
SOURCE = ("seeds 003 (§ Principles, last part); Bengio, Simard & Frasconi 1994; Pascanu, "
          "Mikolov & Bengio 2013 (exploding/vanishing gradients in RNNs); Saxe et al. 2014 "
          "(orthogonal); Le, Jaitly & Hinton 2015 (IRNN, identity init)")

RATE = 0.1  # |λ| below this: a tenfold change takes more than log(10)/0.1 ≈ 23 steps
RECALL = 0.9


def _inits(small_gain: float, large_gain: float) -> dict[str, tuple[str, float]]:
    return {"orthogonal": ("orthogonal", 1.0), "identity": ("identity", 1.0),
            "small Gaussian": ("gauss", small_gain), "large Gaussian": ("gauss", large_gain)}


def _make(kind: str, gain: float, n: int, seed: int) -> nn.RNN:
    g = generator(seed)
    rnn = nn.RNN(1, n, nonlinearity="relu" if kind == "identity" else "tanh", batch_first=True)
    with torch.no_grad():
        if kind == "orthogonal":
            q, r = torch.linalg.qr(torch.randn(n, n, generator=g))
            rnn.weight_hh_l0.copy_(q * torch.sign(torch.diagonal(r)))
        elif kind == "identity":
            rnn.weight_hh_l0.copy_(torch.eye(n))
        else:
            rnn.weight_hh_l0.copy_(torch.randn(n, n, generator=g) * gain / math.sqrt(n))
        rnn.weight_ih_l0.copy_(torch.randn(n, 1, generator=g))
        rnn.bias_hh_l0.zero_()
        rnn.bias_ih_l0.zero_()
    return rnn


@torch.no_grad()
def _jacobian_curve(rnn: nn.RNN, horizon: int, seed: int, noise: float) -> list[float]:
    """log(‖∂h_t/∂h_0‖_F/√n) for t = 1…horizon (float64 product of per-step Jacobians)."""
    g = generator(seed + 10_000)
    n = rnn.hidden_size
    w = rnn.weight_hh_l0.double()
    u = rnn.weight_ih_l0.double()[:, 0]
    relu = rnn.nonlinearity == "relu"
    phi = torch.relu if relu else torch.tanh
    h = phi(u)  # h_0: the state after a first input x = 1
    jac = torch.eye(n, dtype=torch.float64)
    out = []
    for _ in range(horizon):
        a = w @ h + u * noise * float(torch.randn(1, generator=g))
        d = (a > 0).double() if relu else 1 - torch.tanh(a) ** 2
        h = phi(a)
        jac = d[:, None] * (w @ jac)
        out.append(math.log(max(float(jac.norm()) / math.sqrt(n), 1e-300)))
    return out


def _recall(rnn: nn.RNN, length: int, seed: int, steps: int, noise: float, lr: float,
            device: torch.device | None = None) -> float:
    """Recall accuracy after training on ``device`` (the weights and every batch are drawn on
    the CPU, then moved)."""
    g = generator(seed + 20_000)
    torch.manual_seed(seed)  # the readout's default init
    head = nn.Linear(rnn.hidden_size, 1)
    if device is not None:
        rnn.to(device)
        head.to(device)
    params = list(rnn.parameters()) + list(head.parameters())
    opt = torch.optim.Adam(params, lr=lr)

    def batch(b: int) -> tuple[torch.Tensor, torch.Tensor]:
        bit = torch.randint(0, 2, (b,), generator=g).float() * 2 - 1
        x = torch.randn(b, length, 1, generator=g) * noise
        x[:, 0, 0] = bit
        return x.to(device or "cpu"), (bit > 0).float().to(device or "cpu")

    for _ in range(steps):
        x, y = batch(64)
        out, _ = rnn(x)
        loss = F.binary_cross_entropy_with_logits(head(out[:, -1]).squeeze(1), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)  # so an exploding start is not a NaN
        opt.step()
    x, y = batch(512)
    with torch.no_grad():
        out, _ = rnn(x)
        logits = head(out[:, -1]).squeeze(1)
        ok = ((logits > 0).float() == y) & torch.isfinite(logits)
    return float(ok.float().mean())


def run(*, quick: bool = True, seeds: int | Sequence[int] | None = None,
        hidden: int | None = None, lengths: Sequence[int] | None = None,
        steps: int | None = None, horizon: int | None = None, small_gain: float = 0.5,
        large_gain: float = 3.0, input_noise: float = 0.1, lr: float = 1e-3,
        device: str | torch.device = "cpu") -> ExperimentResult:
    """Measure memory at init (‖∂h_t/∂h_0‖) and after training (recall) per recurrent init.

    Args:
        hidden: units n; lengths: recall-task sequence lengths T; steps: Adam steps per run;
            horizon: steps of the Jacobian product.
        small_gain, large_gain: gains g of the Gaussian inits N(0, g²/n).
        input_noise: std of the distractor inputs after the bit (large values overwrite any
            memory: the control where no init preserves it).
    """
    dev = resolve_device(device)
    seeds_ = seed_list(seeds, quick, 3, 5)
    n = check_int("hidden", hidden if hidden is not None else (32 if quick else 64), 2)
    lens = tuple(check_int("lengths", int(t), 1) for t in
                 (lengths if lengths is not None else ((10, 40) if quick else (10, 40, 80))))
    steps = check_int("steps", steps if steps is not None else (150 if quick else 300), 1)
    horizon = check_int("horizon", horizon if horizon is not None else 60, 4)
    check_positive("small_gain", small_gain)
    check_positive("large_gain", large_gain)
    check_positive("input_noise", input_noise)
    check_positive("lr", lr)
    inits = _inits(small_gain, large_gain)
    lam: dict[str, list[float]] = {}
    curves: dict[str, list[float]] = {}
    acc: dict[str, dict[int, list[float]]] = {}
    start = horizon // 6
    with Timer() as t:
        for label, (kind, gain) in inits.items():
            cs = []
            for s in seeds_:
                c = _jacobian_curve(_make(kind, gain, n, s), horizon, s, input_noise)
                cs.append(c)
                lam.setdefault(label, []).append(
                    fit_line(list(range(start + 1, horizon + 1)), c[start:])[0])
                for length in lens:
                    a = _recall(_make(kind, gain, n, s), length, s, steps, input_noise, lr,
                                dev)
                    acc.setdefault(label, {}).setdefault(length, []).append(a)
            curves[label] = [mean(col) / math.log(10) for col in zip(*cs, strict=True)]
    t_max = max(lens)
    keep = acc["orthogonal"][t_max] + acc["identity"][t_max]

    def worse(label: str) -> bool:
        a = acc[label][t_max]
        return mean(keep) - mean(a) > 2 * math.hypot(stderr(keep), stderr(a))

    lam_s, lam_l = lam["small Gaussian"], lam["large Gaussian"]
    vanish = mean(lam_s) + 2 * stderr(lam_s) < -RATE and worse("small Gaussian")
    explode = mean(lam_l) - 2 * stderr(lam_l) > 0 and worse("large Gaussian")
    preserved = all(abs(mean(lam[k])) < RATE and mean(acc[k][t_max]) >= RECALL
                    for k in ("orthogonal", "identity"))
    checks = [vanish, explode, preserved]
    verdict = verdict_from_checks(checks)
    effects = tuple(
        [Effect.from_samples(f"λ {k}", lam[k], unit="log-norm per step",
                             note="rate of ‖∂h_t/∂h_0‖ at init")
         for k in ("small Gaussian", "large Gaussian", "orthogonal", "identity")]
        + [Effect.from_samples(f"recall at T={t_max}: {k}", acc[k][t_max], note="chance 0.5")
           for k in inits]
    )
    reason = (
        "λ per step: " + ", ".join(f"{k} {mean(v):+.3f}" for k, v in lam.items())
        + f"; recall at T={t_max}: "
        + ", ".join(f"{k} {mean(acc[k][t_max]):.2f}" for k in inits)
        + f" → vanishes {'yes' if vanish else 'no'}, explodes {'yes' if explode else 'no'}, "
        f"preserved by orthogonal/identity {'yes' if preserved else 'no'}"
    )
    return ExperimentResult(
        name=NAME, title=TITLE, claim=CLAIM, source=SOURCE, verdict=verdict, reason=reason,
        effects=effects,
        numbers={"lambda": lam, "recall": {k: {str(t_): v for t_, v in d.items()}
                                            for k, d in acc.items()},
                 "checks": {"vanishes": vanish, "explodes": explode, "preserved": preserved}},
        figure={"curves": curves, "lengths": list(lens),
                "recall_mean": {k: [mean(acc[k][t_]) for t_ in lens] for k in inits},
                "recall_se": {k: [stderr(acc[k][t_]) for t_ in lens] for k in inits},
                "gains": {"small": small_gain, "large": large_gain}},
        settings={"quick": quick, "seeds": seeds_, "hidden": n, "lengths": list(lens),
                  "steps": steps, "horizon": horizon, "small_gain": small_gain,
                  "large_gain": large_gain, "input_noise": input_noise, "lr": lr},
        elapsed_s=t.elapsed,
    )
