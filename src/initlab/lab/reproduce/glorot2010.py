"""Glorot & Bengio 2010: standard vs normalized init in a 5-layer tanh net (Figs. 6–7), and the
saturation of the top hidden layer of a sigmoid net (Fig. 2).

Glorot & Bengio, "Understanding the difficulty of training deep feedforward neural networks"
(AISTATS 2010). The "standard" init W ~ U[−1/√n, 1/√n] has Var(W) = 1/(3n): in the linear regime
of tanh each layer multiplies the forward and the back-propagated variance by n·Var(W) = 1/3, so
activations shrink with depth (their Fig. 6, "0-peak increases for higher layers") and gradients
shrink toward the input (Fig. 7). The "normalized" init (their eq. 16)
W ~ U[−√6/√(n_in+n_out), √6/√(n_in+n_out)] has Var(W) = 2/(n_in+n_out) ≈ 1/n and keeps both
about constant. With sigmoid and the standard init, the top hidden layer is pushed to 0
("saturated") early in training while the lower layers stay around 0.5 (their Fig. 2).

Here: digits (8×8) instead of Shapeset; width 256 instead of 1000.

Examples:
    >>> r = run(quick=True, width=32, seeds=1, fig2_steps=20, fig2_width=32)
    >>> len(r.numbers["activation_std"]["standard"])
    5
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

NAME = "glorot2010"
TITLE = "Glorot & Bengio 2010: standard vs normalized init (Figs. 6–7), sigmoid saturation (Fig. 2)"
SOURCE = ("Glorot & Bengio 2010, Understanding the difficulty of training deep feedforward "
          "neural networks, Figs. 2, 6, 7 and eq. 16")
CLAIM = ("with the standard U[±1/√n] init, tanh activations shrink with depth and "
         "back-propagated gradients shrink toward the input; the normalized init keeps both "
         "about constant across layers; with sigmoid, the top hidden layer saturates at 0 early "
         "in training while lower layers stay near 0.5")

INITS = ("standard", "normalized")


@dataclass(frozen=True)
class Settings:
    depth: int = 5
    width: int = 256
    batch: int = 512
    seeds: int = 2
    bins: int = 41
    fig2_depth: int = 4
    fig2_width: int = 256
    fig2_steps: int = 1000
    fig2_lr: float = 0.1
    fig2_batch_size: int = 10
    fig2_every: int = 25
    fig2_activation: str = "sigmoid"


QUICK = Settings()
FULL = Settings(width=1000, seeds=3, fig2_width=1000, fig2_steps=3000)

#: back-propagated gradient std from the last to the first hidden layer (log2): in tanh's linear
#: regime the standard init multiplies the variance by n·Var(W) = 1/3 per layer, so over the 4
#: layers between them the std shrinks 3² = 9× (log2 ≈ −3.2); the normalized init keeps the
#: variance factor n·Var(W)·E[tanh′²] ≈ 0.8 per layer (log2 of the std ratio ≈ −0.6). The bars
#: sit between the two predictions with room for finite-width noise.
STD_SHRINK = 2.5
NORM_FLAT = 1.5
#: the top layer "saturates" when its mean activation falls by at least this from the start
SATURATION_DROP = 0.3
#: the first layer "stays" when its mean activation moves by less than this
STAY = 0.1

_ACTS = {"tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "relu": nn.ReLU}


def glorot_fill_(model: nn.Module, kind: str, seed: int) -> nn.Module:
    """``standard``: U[−1/√n_in, 1/√n_in]; ``normalized``: U[±√6/√(n_in+n_out)]; biases 0."""
    from initlab.core import schemes

    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in C.linears(model):
            n_out, n_in = m.weight.shape
            a = 1 / math.sqrt(n_in) if kind == "standard" else math.sqrt(6 / (n_in + n_out))
            schemes.uniform_(m.weight, -a, a, generator=g)
            schemes.zeros_(m.bias)
    return model


def _activation(name: str) -> type[nn.Module]:
    from initlab.errors import InitError

    if name not in _ACTS:
        raise InitError(f"reproduce glorot2010: fig2_activation must be one of "
                        f"{', '.join(_ACTS)}, got {name!r}")
    return _ACTS[name]


def step0(kind: str, s: Settings, x: torch.Tensor, y: torch.Tensor, seed: int
          ) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    """Activations (tanh outputs) and back-propagated gradients ∂L/∂(pre-activation) of every
    hidden layer at step 0, input side first."""
    model = glorot_fill_(C.mlp(s.depth, s.width, x.shape[1], 10, nn.Tanh), kind, seed)
    pre: list[torch.Tensor] = []
    hs = [m.register_forward_hook(lambda _m, _i, o: (o.retain_grad(), pre.append(o))[1])
          for m in C.linears(model)[:-1]]
    F.cross_entropy(model(x), y).backward()
    for h in hs:
        h.remove()
    return [torch.tanh(p.detach()) for p in pre], [p.grad for p in pre]  # type: ignore[misc]


def _hist(t: torch.Tensor, lo: float, hi: float, bins: int) -> list[float]:
    h = torch.histc(t.flatten().float(), bins=bins, min=lo, max=hi)
    return (h / h.sum().clamp_min(1)).tolist()


@torch.no_grad()
def _layer_means(model: nn.Module, acts: list[nn.Module], x: torch.Tensor) -> list[float]:
    outs: list[float] = []
    hs = [a.register_forward_hook(lambda _m, _i, o: outs.append(float(o.mean()))) for a in acts]
    model(x)
    for h in hs:
        h.remove()
    return outs


def saturation(s: Settings, data: Any, seed: int, device: torch.device | None = None
               ) -> list[list[float]]:
    """Mean activation of every hidden layer on 300 test images every ``fig2_every`` steps of
    plain SGD from the standard init (their Fig. 2): rows are time, columns layers. The model
    is initialized on the CPU and trained on ``device`` (the batches are drawn on the CPU)."""
    act = _activation(s.fig2_activation)
    torch.manual_seed(seed)
    model = glorot_fill_(C.mlp(s.fig2_depth, s.fig2_width, data.num_features, 10, act),
                         "standard", seed)
    if device is not None:
        model.to(device)
        data = data.to(device)
    opt = torch.optim.SGD(model.parameters(), lr=s.fig2_lr)
    acts = [m for m in model.modules() if isinstance(m, act)]
    g = torch.Generator().manual_seed(seed)
    xb = data.x_test[:300]
    rows: list[list[float]] = []
    for step in range(s.fig2_steps + 1):
        if step % s.fig2_every == 0:
            rows.append(_layer_means(model, acts, xb))
        if step == s.fig2_steps:
            break
        idx = torch.randint(0, data.x_train.shape[0], (s.fig2_batch_size,), generator=g)
        idx = idx.to(data.x_train.device)
        loss = F.cross_entropy(model(data.x_train[idx]), data.y_train[idx])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return rows


def run(*, quick: bool = False, device: str | torch.device = "cpu",
        **overrides: Any) -> ExperimentResult:
    """Histograms per layer at step 0 for both inits; sigmoid layer means during training."""
    s = C.resolve_settings(NAME, quick, (QUICK, FULL), overrides)
    dev = C.resolve_device(device)
    _activation(s.fig2_activation)
    t = C.Timer()
    data = C.load_split("digits", 0)
    x, y = data.x_train[: s.batch], data.y_train[: s.batch]
    a_std: dict[str, list[list[float]]] = {k: [] for k in INITS}
    g_std: dict[str, list[list[float]]] = {k: [] for k in INITS}
    a_hist: dict[str, list[list[float]]] = {}
    g_hist: dict[str, list[list[float]]] = {}
    grads0: dict[str, list[torch.Tensor]] = {}
    for kind in INITS:
        for seed in C.seeds_of(s.seeds):
            acts, grads = step0(kind, s, x, y, seed)
            a_std[kind].append([float(a.std()) for a in acts])
            g_std[kind].append([float(g.std()) for g in grads])
            if seed == 0:
                a_hist[kind] = [_hist(a, -1.0, 1.0, s.bins) for a in acts]
                grads0[kind] = grads
    # one gradient range for all panels: 3 std of the normalized init's largest layer
    gmax = 3 * max(float(g.std()) for g in grads0["normalized"])
    for kind in INITS:
        g_hist[kind] = [_hist(g, -gmax, gmax, s.bins) for g in grads0[kind]]

    def log2(a: float, b: float) -> float:
        return math.log2(a / b) if a > 0 and b > 0 else -math.inf

    # forward: last / first layer activation std; backward: first / last layer gradient std
    fwd = {k: [log2(v[-1], v[0]) for v in a_std[k]] for k in INITS}
    bwd = {k: [log2(v[0], v[-1]) for v in g_std[k]] for k in INITS}
    e_fwd = {k: Effect.from_samples(f"log2 activation std ratio[{k}]", fwd[k],
                                    note="last / first hidden layer, step 0") for k in INITS}
    e_bwd = {k: Effect.from_samples(f"log2 gradient std ratio[{k}]", bwd[k],
                                    note="first / last hidden layer, step 0") for k in INITS}
    sat = [saturation(s, data, seed, dev) for seed in C.seeds_of(s.seeds)]
    top_drop = [r[0][-1] - min(row[-1] for row in r) for r in sat]
    first_move = [max(abs(row[0] - r[0][0]) for row in r) for r in sat]
    e_top = Effect.from_samples("top-layer mean drop", top_drop,
                                note=f"{s.fig2_activation}, standard init: start − min")
    e_first = Effect.from_samples("first-layer mean change", first_move,
                                  note="largest |change| of the first hidden layer's mean")

    checks = {
        "standard: activations shrink with depth more than normalized":
            e_fwd["standard"].value < e_fwd["normalized"].value - 0.5,
        f"standard: gradient std shrinks > {2 ** STD_SHRINK:.1f}× toward the input":
            e_bwd["standard"].value < -STD_SHRINK,
        f"normalized: gradient std within {2 ** NORM_FLAT:.1f}× across layers":
            abs(e_bwd["normalized"].value) < NORM_FLAT,
        f"{s.fig2_activation}: top layer saturates, first layer stays":
            e_top.value >= SATURATION_DROP and e_first.value < STAY,
    }
    reason = (f"activation std last/first layer: standard 2^{e_fwd['standard'].value:.2f}, "
              f"normalized 2^{e_fwd['normalized'].value:.2f}; gradient std first/last: "
              f"standard 2^{e_bwd['standard'].value:.2f}, normalized "
              f"2^{e_bwd['normalized'].value:.2f}; {s.fig2_activation} top-layer mean fell by "
              f"{e_top.value:.2f}, first layer moved {e_first.value:.2f}")
    return ExperimentResult(
        name=NAME, title=TITLE, claim=CLAIM, source=SOURCE,
        verdict=verdict_from_checks(list(checks.values())), reason=reason,
        effects=(*e_fwd.values(), *e_bwd.values(), e_top, e_first),
        numbers={"activation_std": {k: [C.mean(c) for c in zip(*v, strict=True)]
                                    for k, v in a_std.items()},
                 "gradient_std": {k: [C.mean(c) for c in zip(*v, strict=True)]
                                  for k, v in g_std.items()},
                 "layer_means": sat, "checks": checks},
        figure={"kind": "glorot2010", "activation_hist": a_hist, "gradient_hist": g_hist,
                "gradient_range": gmax, "fig2_steps": [i * s.fig2_every
                                                      for i in range(len(sat[0]))],
                "fig2_means": sat[0], "fig2_activation": s.fig2_activation},
        settings=C.settings_dict(s, quick), elapsed_s=t.elapsed,
    )
