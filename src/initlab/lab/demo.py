"""The seeds' central lesson in one run: how the initial weight scale decides whether signal and
gradient survive depth.

A deep MLP (50 layers of width 256 by default) with tanh and with ReLU is initialized with
all-zeros, small random N(0, 0.01²), N(0, 1), Xavier and He; one forward and backward pass on
random input gives per-layer activation std and gradient std. Zeros never break symmetry (every
unit computes the same thing: here, nothing), small weights make the signal vanish, N(0, 1)
saturates tanh and explodes ReLU, Xavier keeps tanh alive but halves ReLU's variance per layer
(He et al. 2015), and He keeps ReLU's variance constant.

The measuring part is :func:`initlab.probe.signal.trace_signal`; the presentation is in
:mod:`initlab.report.demo`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass

import torch
from torch import nn

from initlab.core import schemes
from initlab.core.activations import get_activation
from initlab.errors import InitError
from initlab.probe.signal import trace_signal

Scheme = Callable[[torch.Tensor, str, torch.Generator], torch.Tensor]


def _zeros(w: torch.Tensor, _act: str, _g: torch.Generator) -> torch.Tensor:
    return schemes.zeros_(w)


def _small(w: torch.Tensor, _act: str, g: torch.Generator) -> torch.Tensor:
    return schemes.small_random_(w, 0.01, generator=g)


def _unit(w: torch.Tensor, _act: str, g: torch.Generator) -> torch.Tensor:
    return schemes.normal_(w, 0.0, 1.0, generator=g)


def _xavier(w: torch.Tensor, _act: str, g: torch.Generator) -> torch.Tensor:
    return schemes.xavier_normal_(w, generator=g)


def _he(w: torch.Tensor, act: str, g: torch.Generator) -> torch.Tensor:
    return schemes.he_normal_(w, act, generator=g)


# name → (how to fill a weight, a one-line description)
DEMO_SCHEMES: dict[str, tuple[Scheme, str]] = {
    "zeros": (_zeros, "all weights 0: no symmetry breaking"),
    "small": (_small, "0.01·N(0,1), the naive small-random scheme"),
    "N(0,1)": (_unit, "unit-variance weights, ignoring fan_in"),
    "xavier": (_xavier, "Glorot & Bengio 2010: Var = 2/(fan_in+fan_out)"),
    "he": (_he, "He et al. 2015: Var = g²/fan_in, g = 1/√E[φ(z)²]"),
}


@dataclass(frozen=True)
class DemoCurve:
    """One (activation, scheme) run: per-layer activation and gradient std through depth."""

    activation: str
    scheme: str
    act_std: tuple[float, ...]
    grad_std: tuple[float, ...]

    @property
    def act_factor(self) -> float:
        """Geometric-mean change of the activation std per layer (1.0 = preserved)."""
        return _per_layer_factor(self.act_std)

    @property
    def grad_factor(self) -> float:
        """Geometric-mean change of the gradient std per layer, output → input."""
        return _per_layer_factor(tuple(reversed(self.grad_std)))

    def to_dict(self) -> dict:
        d = asdict(self)
        d["act_factor"] = self.act_factor
        d["grad_factor"] = self.grad_factor
        return d


@dataclass(frozen=True)
class DemoResult:
    """All curves of a demo run, with its configuration.

    Examples:
        >>> r = run_demo(depth=4, width=16, batch=8)
        >>> [c.scheme for c in r.curves if c.activation == "relu"][-1]
        'he'
    """

    depth: int
    width: int
    batch: int
    seed: int
    dtype: str
    curves: tuple[DemoCurve, ...]

    def curve(self, activation: str, scheme: str) -> DemoCurve:
        for c in self.curves:
            if c.activation == activation and c.scheme == scheme:
                return c
        raise InitError(f"no curve for activation={activation!r}, scheme={scheme!r}")

    def to_dict(self) -> dict:
        return {
            "depth": self.depth,
            "width": self.width,
            "batch": self.batch,
            "seed": self.seed,
            "dtype": self.dtype,
            "curves": [c.to_dict() for c in self.curves],
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)


def _per_layer_factor(stds: Sequence[float]) -> float:
    first, last = stds[0], stds[-1]
    if len(stds) < 2 or not (first > 0 and last > 0) or not all(map(math.isfinite, stds)):
        return float("nan")
    return math.exp((math.log(last) - math.log(first)) / (len(stds) - 1))


def deep_mlp(depth: int, width: int, activation: str) -> nn.Sequential:
    """``depth`` hidden layers ``Linear(width, width)`` each followed by ``activation``.

    Examples:
        >>> len(deep_mlp(3, 8, "tanh"))
        6
    """
    if depth < 1 or width < 1:
        raise InitError(f"deep_mlp: depth and width must be ≥ 1, got depth={depth}, width={width}")
    act = get_activation(activation)
    layers: list[nn.Module] = []
    for _ in range(depth):
        layers += [nn.Linear(width, width), _ActModule(act.torch_fn, act.name)]
    return nn.Sequential(*layers)


class _ActModule(nn.Module):
    def __init__(self, fn: Callable[[torch.Tensor], torch.Tensor], name: str) -> None:
        super().__init__()
        self.fn = fn
        self.name = name

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fn(x)

    def extra_repr(self) -> str:
        return self.name


def run_demo(
    depth: int = 50,
    width: int = 256,
    batch: int = 256,
    seed: int = 0,
    activations: Sequence[str] = ("tanh", "relu"),
    scheme_names: Sequence[str] | None = None,
    dtype: torch.dtype = torch.float64,
) -> DemoResult:
    """Initialize deep MLPs with each scheme and trace one forward + backward pass.

    float64 by default so that N(0, 1) on ReLU (variance ×128 per layer, ~1e105 after 50
    layers) shows as numbers rather than inf.

    Args:
        depth, width, batch: network and batch size.
        seed: seeds the input, the weights and the upstream gradient.
        activations: activation names.
        scheme_names: a subset of :data:`DEMO_SCHEMES` (all by default).
        dtype: compute dtype.

    Examples:
        >>> r = run_demo(depth=10, width=64, batch=32, activations=("relu",))
        >>> r.curve("relu", "he").act_factor > r.curve("relu", "xavier").act_factor
        True
    """
    names = list(scheme_names or DEMO_SCHEMES)
    unknown = [n for n in names if n not in DEMO_SCHEMES]
    if unknown:
        raise InitError(f"run_demo: unknown scheme(s) {unknown}; choose from {list(DEMO_SCHEMES)}")
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(batch, width, generator=g, dtype=dtype)
    curves = []
    for act_name in activations:
        for scheme in names:
            fill = DEMO_SCHEMES[scheme][0]
            net = deep_mlp(depth, width, act_name).to(dtype)
            wg = torch.Generator().manual_seed(seed + 1)
            for m in net:
                if isinstance(m, nn.Linear):
                    fill(m.weight, act_name, wg)
                    schemes.zeros_(m.bias)
            trace = trace_signal(net, x, generator=torch.Generator().manual_seed(seed + 2))
            curves.append(DemoCurve(act_name, scheme, trace.act_std, trace.grad_std))
    return DemoResult(depth, width, batch, seed, str(dtype).replace("torch.", ""), tuple(curves))


__all__ = ["DEMO_SCHEMES", "DemoCurve", "DemoResult", "deep_mlp", "run_demo"]
