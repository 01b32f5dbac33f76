"""Where the doctor listens: which modules are tapped, and the hooks that record their statistics.

Tapped, in execution order (each call of a module is its own record):

* **parameterized leaf modules** (a module with its own parameters and no children: Linear,
  Conv, BatchNorm, LayerNorm, Embedding, MultiheadAttention...), role ``"param"``;
* **activation modules** (``nn.ReLU``, ``nn.Tanh``, ``nn.GELU``... the post-activation points),
  role ``"activation"``. Activations applied as functions inside ``forward`` (``F.relu``,
  ``torch.tanh``) are not seen in this version: the doctor says so in its notes when a model has
  parameterized layers but no activation module.

Hooks: a forward *pre*-hook reads the input (before an in-place activation overwrites it), a
forward hook reads the output, and a **tensor** hook on the output reads its gradient. No
``register_full_backward_hook`` is used: it wraps the module's inputs and outputs in
``BackwardHookFunction`` nodes, which breaks on in-place ops (``nn.ReLU(inplace=True)``). A tensor
hook registered on a tensor before an in-place op receives the gradient with respect to the value
before the op, so a Linear followed by an in-place ReLU reports the pre-activation gradient and the
ReLU the post-activation one.

Every statistic stays on the device (see :mod:`initlab.probe.stats`); the recorder only keeps
tensors and reads nothing back.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from initlab.core.activations import Activation, get_activation
from initlab.probe import stats

#: Activation module types and their registry names.
ACTIVATION_TYPES: dict[type[nn.Module], str] = {
    nn.ReLU: "relu",
    nn.ReLU6: "relu6",
    nn.LeakyReLU: "leaky_relu",
    nn.PReLU: "prelu",
    nn.ELU: "elu",
    nn.SELU: "selu",
    nn.CELU: "celu",
    nn.GELU: "gelu",
    nn.SiLU: "silu",
    nn.Mish: "mish",
    nn.Softplus: "softplus",
    nn.Sigmoid: "sigmoid",
    nn.Tanh: "tanh",
    nn.Hardtanh: "hardtanh",
    nn.Softsign: "softsign",
    nn.Hardswish: "hardswish",
    nn.Hardsigmoid: "hardsigmoid",
}

#: Activations whose "never positive" units get zero gradient: the dead fraction is measured.
DEAD_FAMILY = frozenset({"relu", "relu6"})
#: Piecewise-linear activations without a saturating tail: no saturated fraction.
NO_SATURATION = frozenset({"relu", "leaky_relu", "prelu"})

#: Pre-activations sampled (strided) for the saturated share.
SAT_SAMPLE = 1 << 16

#: Modules after which the unit axis of a ≥3-D activation is 1 (channels), not the last axis.
_CHANNEL_FIRST = (
    nn.modules.conv._ConvNd,
    nn.modules.batchnorm._BatchNorm,
    nn.GroupNorm,
    nn.modules.instancenorm._InstanceNorm,
)


@dataclass
class Tap:
    """One tapped module (internal, mutable while recording)."""

    name: str
    module: nn.Module
    role: str  # "param" | "activation"
    activation: Activation | None = None
    act_name: str | None = None
    weight: torch.Tensor | None = None
    weight_name: str | None = None
    channel_first: bool = False


@dataclass
class Record:
    """One call of a tapped module (internal): device tensors, filled by the hooks."""

    index: int
    tap: Tap
    call: int
    shape: tuple[int, ...]
    channel_axis: int
    parts: dict[str, torch.Tensor] = field(default_factory=dict)


def unwrap(model: nn.Module) -> tuple[nn.Module, list[str]]:
    """The module to diagnose and notes on what was unwrapped.

    DataParallel and DistributedDataParallel give their ``.module``; a ``torch.compile``d model
    (``OptimizedModule``) gives its original eager module ``._orig_mod`` (the doctor's hooks run
    eagerly: the compiled graph would skip or bake them in).

    Examples:
        >>> m = nn.DataParallel(nn.Linear(2, 2))
        >>> type(unwrap(m)[0]).__name__
        'Linear'
    """
    notes: list[str] = []
    for _ in range(8):
        if isinstance(model, nn.DataParallel | nn.parallel.DistributedDataParallel):
            notes.append(f"unwrapped {type(model).__name__}: diagnosed its .module")
            model = model.module
            continue
        orig = getattr(model, "_orig_mod", None)
        if isinstance(orig, nn.Module) and type(model).__name__ == "OptimizedModule":
            notes.append(
                "torch.compile'd model: diagnosed its original eager module (._orig_mod); "
                "the compiled graph itself cannot carry per-layer hooks"
            )
            model = orig
            continue
        break
    return model, notes


def _weight_of(module: nn.Module) -> tuple[str | None, torch.Tensor | None]:
    for name in ("weight", "in_proj_weight"):
        w = getattr(module, name, None)
        if isinstance(w, torch.Tensor):
            return name, w
    for name, p in module.named_parameters(recurse=False):
        return name, p
    return None, None


def select_taps(model: nn.Module) -> list[Tap]:
    """Parameterized leaf modules and activation modules of ``model`` (module order)."""
    taps: list[Tap] = []
    for name, m in model.named_modules():
        act_name = ACTIVATION_TYPES.get(type(m))
        if act_name is not None:
            act = get_activation("prelu") if act_name == "prelu" else get_activation(m)
            taps.append(Tap(name or type(m).__name__, m, "activation", act, act_name))
            continue
        has_children = next(iter(m.children()), None) is not None
        own = list(m.parameters(recurse=False))
        if (own and not has_children) or isinstance(m, nn.MultiheadAttention):
            wname, w = _weight_of(m)
            taps.append(
                Tap(
                    name or type(m).__name__,
                    m,
                    "param",
                    weight=w,
                    weight_name=wname,
                    channel_first=isinstance(m, _CHANNEL_FIRST),
                )
            )
    return taps


def iter_tensors(obj: Any, depth: int = 0) -> Iterator[torch.Tensor]:
    """Tensors inside ``obj``: a tensor, a tuple/list, a dict (incl. HF ``ModelOutput``) or a
    dataclass, depth-first in order."""
    if depth > 8:
        return
    if isinstance(obj, torch.Tensor):
        yield obj
    elif isinstance(obj, dict):
        for v in obj.values():
            yield from iter_tensors(v, depth + 1)
    elif isinstance(obj, list | tuple):
        for v in obj:
            yield from iter_tensors(v, depth + 1)
    elif dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        for f in dataclasses.fields(obj):
            yield from iter_tensors(getattr(obj, f.name), depth + 1)


def first_float(obj: Any) -> torch.Tensor | None:
    """The first floating-point tensor in ``obj`` (a module's main output), or None."""
    for t in iter_tensors(obj):
        if t.is_floating_point():
            return t
    return None


class Recorder:
    """Registers the hooks on ``taps`` and keeps what they compute (device tensors only).

    Use as a context manager: the hooks are removed on exit, whatever happened.
    """

    def __init__(
        self,
        taps: list[Tap],
        sat_derivative: float,
        generator: torch.Generator | None,
        keep_samples: bool = True,
    ) -> None:
        self.taps = taps
        self.sat_derivative = sat_derivative
        self.generator = generator
        self.keep_samples = keep_samples
        self.records: list[Record] = []
        self._calls: dict[int, int] = {}
        self._pending: dict[int, list[dict[str, torch.Tensor]]] = {}
        self._handles: list[Any] = []
        self._channel_first = False
        self._last_out: tuple[torch.Tensor, int, torch.Tensor] | None = None

    def __enter__(self) -> Recorder:
        for tap in self.taps:
            m = tap.module
            self._handles.append(m.register_forward_pre_hook(self._pre(tap)))
            self._handles.append(m.register_forward_hook(self._post(tap)))
        return self

    def __exit__(self, *exc: object) -> None:
        self._last_out = None
        for h in self._handles:
            h.remove()
        self._handles.clear()

    def _gen(self, device: torch.device) -> torch.Generator:
        if self.generator is None or self.generator.device != device:
            self.generator = torch.Generator(device=device).manual_seed(0)
        return self.generator

    def _pre(self, tap: Tap):
        def hook(module: nn.Module, args: tuple[Any, ...]) -> None:
            x = first_float(args)
            part: dict[str, torch.Tensor] = {}
            if x is not None:
                last = self._last_out
                if last is not None and last[0] is x and last[1] == x._version:
                    part["in_rms"] = last[2]  # the previous tapped output, unchanged: reuse
                else:
                    with torch.no_grad():
                        part["in_rms"] = stats.rms(x)
                if tap.role == "activation" and tap.act_name not in NO_SATURATION:
                    act = tap.activation
                    assert act is not None
                    # a share: a strided sample of 2^16 pre-activations gives it to ±0.4%
                    xs = stats.sample(x, SAT_SAMPLE).to(x.dtype)
                    d = stats.activation_derivative(
                        tap.act_name or "", xs, act.torch_fn, dict(act.params)
                    )
                    part["sat"] = stats.saturated_fraction(d, self.sat_derivative)
            self._pending.setdefault(id(module), []).append(part)

        return hook

    def _post(self, tap: Tap):
        def hook(module: nn.Module, args: tuple[Any, ...], output: Any) -> None:
            pending = self._pending.get(id(module))
            part = pending.pop() if pending else {}
            y = first_float(output)
            if y is None:
                return
            if tap.role == "param":
                self._channel_first = tap.channel_first
            axis = 1 if (y.dim() > 2 and self._channel_first) or y.dim() == 2 else -1
            call = self._calls.get(id(module), 0)
            self._calls[id(module)] = call + 1
            rec = Record(len(self.records), tap, call, tuple(y.shape), axis, part)
            with torch.no_grad():
                if tap.role == "activation" and tap.act_name in DEAD_FAMILY:
                    rec.parts["fwd"], rec.parts["dead"] = stats.relu_moments(y, axis)
                else:
                    rec.parts["fwd"] = stats.moments(y)
                self._last_out = (y, y._version, rec.parts["fwd"][2])
                if self.keep_samples:
                    rec.parts["sample"] = stats.sample(y)
                # identical units: on feature axes only (conv channels are covered by the
                # duplicate-row test of the conv weights, and would cost a pass over the map)
                if tap.role == "activation" and y.dim() >= 2 and not (axis == 1 and y.dim() > 2):
                    rec.parts["dupu"] = stats.duplicate_units(y, axis, self._gen(y.device))
            self.records.append(rec)
            if y.requires_grad:
                y.register_hook(self._grad(rec))

        return hook

    @staticmethod
    def _grad(rec: Record):
        def hook(g: torch.Tensor) -> None:
            with torch.no_grad():
                rec.parts["grad"] = stats.grad_moments(g)

        return hook


__all__ = [
    "ACTIVATION_TYPES",
    "DEAD_FAMILY",
    "NO_SATURATION",
    "Recorder",
    "Tap",
    "first_float",
    "iter_tensors",
    "select_taps",
    "unwrap",
]
