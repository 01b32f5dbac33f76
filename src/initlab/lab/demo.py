"""The seeds' central lesson in one run: how the initial weight scale decides whether signal and
gradient survive depth.

A deep MLP (50 layers of width 256 by default, :func:`initlab.lab.zoo.deep_mlp` without a head)
with tanh and with ReLU is initialized with the seeds' schemes, each a start of the registry
(:mod:`initlab.lab.starts`): all-zeros, N(0, 0.01²), N(0, 0.05²), N(0, 1), Xavier and He; then
:func:`initlab.doctor` runs one forward and backward pass on random input and diagnoses it. Zeros
never break symmetry (every unit computes the same thing: here, nothing), small weights make the
signal vanish, N(0, 1) saturates tanh and explodes ReLU, Xavier keeps tanh alive but halves ReLU's
variance per layer (He et al. 2015), and He keeps ReLU's variance constant.

The measuring part is :func:`initlab.doctor` (each curve keeps its :class:`Diagnosis`); the
presentation is in :mod:`initlab.report.demo`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields

import torch

from initlab.errors import InitError
from initlab.lab.starts import Start, get_start
from initlab.lab.zoo import deep_mlp
from initlab.probe.diagnosis import Diagnosis
from initlab.probe.doctor import doctor

# curve name → (the start from the registry, a one-line description)
DEMO_SCHEMES: dict[str, tuple[Start, str]] = {
    "zeros": (get_start("zeros"), "all weights 0: no symmetry breaking"),
    "small": (get_start("small"), "N(0, 0.01²), the naive small-random scheme"),
    "N(0,0.05²)": (get_start("normal(std=0.05)"),
                   "N(0, 0.05²): CS231n's 'too big' for 4096-wide tanh"),
    "N(0,1)": (get_start("normal"), "unit-variance weights, ignoring fan_in"),
    "xavier": (get_start("xavier"), "Glorot & Bengio 2010: Var = 2/(fan_in+fan_out)"),
    "he": (get_start("he"), "He et al. 2015: Var = 2/fan_in"),
}


@dataclass(frozen=True)
class DemoCurve:
    """One (activation, scheme) run, as the doctor saw it.

    Per hidden layer: ``act_std``, ``act_mean``, ``act_max_abs`` of the activation output,
    ``grad_std`` (rms of dLoss/d(pre-activation)), ``statuses`` (the doctor's per-layer status);
    ``verdict`` and ``findings`` (one-line summaries) for the whole net. ``diagnosis`` is the full
    :class:`~initlab.probe.Diagnosis` (not serialized: run the doctor for its JSON).
    """

    activation: str
    scheme: str
    act_std: tuple[float, ...]
    grad_std: tuple[float, ...]
    act_mean: tuple[float, ...] = ()
    act_max_abs: tuple[float, ...] = ()
    statuses: tuple[str, ...] = ()
    verdict: str = ""
    findings: tuple[str, ...] = ()
    diagnosis: Diagnosis | None = field(default=None, compare=False, repr=False)

    @property
    def act_factor(self) -> float:
        """Geometric-mean change of the activation std per layer (1.0 = preserved)."""
        return _per_layer_factor(self.act_std)

    @property
    def grad_factor(self) -> float:
        """Geometric-mean change of the gradient std per layer, output → input."""
        return _per_layer_factor(tuple(reversed(self.grad_std)))

    def to_dict(self) -> dict:
        d = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "diagnosis"}
        d = {k: list(v) if isinstance(v, tuple) else v for k, v in d.items()}
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


def _curve(act_name: str, scheme: str, dx: Diagnosis) -> DemoCurve:
    """Per hidden layer: the activation output's statistics and the Linear output's gradient."""
    lins = [r for r in dx.layers if r.kind == "Linear"]
    acts = [r for r in dx.layers if r.role == "activation"] or lins
    status = [r.status for r in acts]
    return DemoCurve(
        activation=act_name,
        scheme=scheme,
        act_std=tuple(r.std for r in acts),
        grad_std=tuple(r.grad_rms if r.grad_rms is not None else math.nan for r in lins),
        act_mean=tuple(r.mean for r in acts),
        act_max_abs=tuple(r.max_abs for r in acts),
        statuses=tuple(status),
        verdict=dx.verdict,
        findings=tuple(f.summary for f in dx.findings),
        diagnosis=dx,
    )


def run_demo(
    depth: int = 50,
    width: int = 256,
    batch: int = 256,
    seed: int = 0,
    activations: Sequence[str] = ("tanh", "relu"),
    scheme_names: Sequence[str] | None = None,
    dtype: torch.dtype = torch.float64,
    *,
    device: str | torch.device = "cpu",
    on_curve: Callable[[str, str], None] | None = None,
) -> DemoResult:
    """Initialize deep MLPs with each scheme and run the doctor on each (one forward + backward).

    float64 by default so that N(0, 1) on ReLU (variance ×128 per layer, ~1e105 after 50
    layers) shows as numbers rather than inf.

    Args:
        depth, width, batch: network and batch size.
        seed: seeds the input, the weights and the upstream gradient.
        activations: activation names.
        scheme_names: a subset of :data:`DEMO_SCHEMES` (all by default).
        dtype: compute dtype.
        device: where the networks run (the input is drawn on the CPU, then moved, so the
            numbers do not depend on the device's generator).
        on_curve: called as ``on_curve(activation, scheme)`` before each of the runs (progress).

    Examples:
        >>> r = run_demo(depth=10, width=64, batch=32, activations=("relu",))
        >>> r.curve("relu", "he").act_factor > r.curve("relu", "xavier").act_factor
        True
    """
    if isinstance(depth, bool) or not isinstance(depth, int) or depth < 1 or \
            isinstance(width, bool) or not isinstance(width, int) or width < 1:
        raise InitError(f"run_demo: depth and width must be ints ≥ 1, got depth={depth!r}, "
                        f"width={width!r}")
    names = list(scheme_names or DEMO_SCHEMES)
    unknown = [n for n in names if n not in DEMO_SCHEMES]
    if unknown:
        raise InitError(f"run_demo: unknown scheme(s) {unknown}; choose from {list(DEMO_SCHEMES)}")
    from initlab.devices import resolve_device

    device = resolve_device(device)  # InitError for a device this machine lacks
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(batch, width, generator=g, dtype=dtype).to(device)
    curves = []
    for act_name in activations:
        for scheme in names:
            if on_curve is not None:
                on_curve(act_name, scheme)
            net = deep_mlp(depth, width, width, width, act_name, head=False).to(device, dtype)
            DEMO_SCHEMES[scheme][0].apply(net, x, seed=seed + 1)
            dx = doctor(net, x, seed=seed + 2)
            curves.append(_curve(act_name, scheme, dx))
    return DemoResult(depth, width, batch, seed, str(dtype).replace("torch.", ""), tuple(curves))


__all__ = ["DEMO_SCHEMES", "DemoCurve", "DemoResult", "run_demo"]
