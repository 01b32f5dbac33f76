"""Where the doctor listens: which modules are tapped, and the hooks that record their statistics.

Tapped, in execution order (each call of a module is its own record):

* **parameterized leaf modules** (a module with its own parameters and no children: Linear,
  Conv, BatchNorm, LayerNorm, Embedding, MultiheadAttention...), role ``"param"``;
* **activation modules** (``nn.ReLU``, ``nn.Tanh``, ``nn.GELU``... the post-activation points),
  role ``"activation"``;
* **functional activations** (``F.relu``, ``torch.tanh``, ``F.gelu``, ``x.sigmoid()``,
  ``F.relu(x, inplace=True)``, ``x.relu_()``...), role ``"activation"`` too: during the forward a
  :class:`~torch.overrides.TorchFunctionMode` (:class:`FunctionalTap`; names normalized as in
  :mod:`initlab.model.trace`) sees every torch function call, and an elementwise activation
  applied, outside any tapped module, after a parameterized layer has run gets the same
  statistics as an activation module. Its row is named after the layer whose output it reads
  (``fc1.relu``) or the module running it (``blocks.0.relu``), and its kind is the matching
  module class (``ReLU``), so that a functional model and its ``nn`` twin give the same table.
  A gated product (``F.silu(w_gate(x)) * w_up(x)``, SwiGLU/GEGLU) is an activation point too
  (``act_name`` ``"swiglu"``, ``"geglu"``...): an activation output times a layer output.

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
from torch.overrides import TorchFunctionMode

from initlab.core.activations import (
    ACTIVATION_MODULES,
    Activation,
    get_activation,
    glu_product_name,
)
from initlab.errors import InitError
from initlab.model.structure import unwrap_with_notes
from initlab.model.trace import activation_params, normalize_func_name
from initlab.probe import stats

#: Activation module types and their registry names (the one table, in core).
ACTIVATION_TYPES: dict[type[nn.Module], str] = ACTIVATION_MODULES

#: Registry name → module class name, for rows of functional activations.
ACTIVATION_KINDS: dict[str, str] = {v: k.__name__ for k, v in ACTIVATION_TYPES.items()}

#: Function names (as :func:`initlab.model.trace.normalize_func_name` gives them) of the
#: elementwise activations seen as functions: ``F.relu``, ``torch.relu_``, ``x.tanh()``...
FUNCTIONAL_ACTIVATIONS = frozenset(ACTIVATION_KINDS) - {"prelu"}
#: Raw function names worth normalizing (a cheap first filter in the mode).
_RAW_NAMES = frozenset(
    {n for a in FUNCTIONAL_ACTIVATIONS for n in (a, a + "_")}
    | {"mul", "mul_", "__mul__", "__rmul__", "__imul__"}
)
#: Activations whose "never positive" units get zero gradient: the dead fraction is measured
#: (``Activation.can_die``).
DEAD_FAMILY = frozenset(n for n in ACTIVATION_TYPES.values() if get_activation(n).can_die)
#: Piecewise-linear activations without a saturating tail: no saturated fraction
#: (``Activation.saturates``).
NO_SATURATION = frozenset(n for n in ACTIVATION_TYPES.values() if not get_activation(n).saturates)

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
    kind: str | None = None  # the row's kind; default: the module's class name

    @property
    def kind_name(self) -> str:
        return self.kind or type(self.module).__name__


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
    """The module to diagnose and notes on what was unwrapped (DataParallel/DDP, torch.compile);
    see :func:`initlab.model.structure.unwrap_with_notes`.

    Examples:
        >>> m = nn.DataParallel(nn.Linear(2, 2))
        >>> type(unwrap(m)[0]).__name__
        'Linear'
    """
    return unwrap_with_notes(model)


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

    Use as a context manager: the hooks are removed on exit, whatever happened. Run the model's
    forward inside :meth:`functional` to also observe functional activations.
    """

    def __init__(
        self,
        taps: list[Tap],
        sat_derivative: float,
        generator: torch.Generator | None,
        keep_samples: bool = True,
        model: nn.Module | None = None,
    ) -> None:
        self.taps = taps
        self.sat_derivative = sat_derivative
        self.generator = generator
        self.keep_samples = keep_samples
        self.model = model
        self.records: list[Record] = []
        self._calls: dict[Any, int] = {}
        self._pending: dict[int, list[dict[str, torch.Tensor]]] = {}
        self._handles: list[Any] = []
        self._channel_first = False
        self._last_out: tuple[torch.Tensor, int, torch.Tensor] | None = None
        # functional activations
        self._last_param: tuple[torch.Tensor, int, str] | None = None  # output, version, name
        self._last_act: tuple[torch.Tensor, int, str] | None = None  # output, version, act
        self._depth = 0  # > 0 inside a tapped module: its own functional calls are not rows
        self._quiet = 0  # > 0 while the recorder computes statistics
        self._stack: list[str] = []  # names of the (untapped) modules running
        self.functional_rows = 0
        self._acts: dict[tuple[str, tuple[tuple[str, Any], ...]], Activation] = {}

    def __enter__(self) -> Recorder:
        tapped = set()
        for tap in self.taps:
            m = tap.module
            tapped.add(id(m))
            self._handles.append(m.register_forward_pre_hook(self._pre(tap)))
            self._handles.append(m.register_forward_hook(self._post(tap), always_call=True))
        if self.model is not None:
            for name, m in self.model.named_modules():
                if id(m) not in tapped:
                    self._handles.append(m.register_forward_pre_hook(self._enter(name)))
                    self._handles.append(m.register_forward_hook(self._leave, always_call=True))
        return self

    def __exit__(self, *exc: object) -> None:
        self._last_out = self._last_param = self._last_act = None
        for h in self._handles:
            h.remove()
        self._handles.clear()

    def functional(self) -> FunctionalTap:
        """A context in which functional activations are observed (wrap the forward only)."""
        return FunctionalTap(self)

    def _gen(self, device: torch.device) -> torch.Generator:
        if self.generator is None or self.generator.device != device:
            self.generator = torch.Generator(device=device).manual_seed(0)
        return self.generator

    # module stack (names of functional rows) -------------------------------------------------
    def _enter(self, name: str):
        def hook(module: nn.Module, args: tuple[Any, ...]) -> None:
            self._stack.append(name)

        return hook

    def _leave(self, module: nn.Module, args: tuple[Any, ...], output: Any) -> None:
        if self._stack:
            self._stack.pop()

    # statistics ------------------------------------------------------------------------------
    def _pre_stats(
        self, x: torch.Tensor | None, role: str, act_name: str | None, act: Activation | None
    ) -> dict[str, torch.Tensor]:
        """What must be read before the layer runs (an in-place activation overwrites it)."""
        part: dict[str, torch.Tensor] = {}
        if x is None:
            return part
        self._quiet += 1
        try:
            last = self._last_out
            if last is not None and last[0] is x and last[1] == x._version:
                part["in_rms"] = last[2]  # the previous tapped output, unchanged: reuse
            else:
                with torch.no_grad():
                    part["in_rms"] = stats.rms(x)
            if role == "activation" and act is not None and act_name not in NO_SATURATION:
                # a share: a strided sample of 2^16 pre-activations gives it to ±0.4%
                with torch.no_grad():
                    xs = stats.sample(x, SAT_SAMPLE).to(x.dtype)
                part["sat"] = self._saturated(act_name or "", xs, act)
        finally:
            self._quiet -= 1
        return part

    def _saturated(self, name: str, xs: torch.Tensor, act: Activation) -> torch.Tensor:
        """Share of saturated pre-activations. A rectifier's clamp at 0 (ReLU6: hardtanh(0, 6))
        is its dead side, counted by ``dead``: only its upper clamp saturates."""
        params = dict(act.params)
        if name == "softplus":  # its left tail (φ′ → 0) is a smooth rectifier's off side, not a
            return torch.zeros((), dtype=torch.float64, device=xs.device)  # saturated unit
        if name == "relu6" or (name == "hardtanh" and params.get("min_val", -1.0) >= 0):
            hi = float(params.get("max_val", 6.0))
            return (xs.float() >= hi).to(torch.float64).mean()
        d = stats.activation_derivative(name, xs, act.torch_fn, params)
        return stats.saturated_fraction(d, self.sat_derivative)

    def _record(self, tap: Tap, key: Any, y: torch.Tensor, part: dict[str, torch.Tensor]) -> None:
        """Statistics of the output ``y`` of one call of ``tap`` (``key`` counts the calls)."""
        self._quiet += 1
        try:
            if tap.role == "param":
                self._channel_first = tap.channel_first
            axis = 1 if (y.dim() > 2 and self._channel_first) or y.dim() == 2 else -1
            call = self._calls.get(key, 0)
            self._calls[key] = call + 1
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
            if tap.role == "param":
                self._last_param = (y, y._version, tap.name)
            else:
                self._last_act = (y, y._version, tap.act_name or "")
            if y.requires_grad:
                y.register_hook(self._grad(rec))
        finally:
            self._quiet -= 1

    # module hooks ----------------------------------------------------------------------------
    def _pre(self, tap: Tap):
        def hook(module: nn.Module, args: tuple[Any, ...]) -> None:
            self._depth += 1
            part = self._pre_stats(first_float(args), tap.role, tap.act_name, tap.activation)
            self._pending.setdefault(id(module), []).append(part)

        return hook

    def _post(self, tap: Tap):
        def hook(module: nn.Module, args: tuple[Any, ...], output: Any) -> None:
            self._depth = max(0, self._depth - 1)
            pending = self._pending.get(id(module))
            part = pending.pop() if pending else {}
            y = first_float(output)
            if y is None:
                return
            self._record(tap, id(module), y, part)

        return hook

    @staticmethod
    def _grad(rec: Record):
        def hook(g: torch.Tensor) -> None:
            with torch.no_grad():
                rec.parts["grad"] = stats.grad_moments(g)

        return hook

    # functional activations ------------------------------------------------------------------
    @staticmethod
    def _is(t: Any, ref: tuple[torch.Tensor, int, str] | None) -> bool:
        """``t`` is the recorded tensor, not modified in place since."""
        return ref is not None and ref[0] is t and ref[1] == t._version

    def _functional_tap(
        self, fname: str, x: torch.Tensor | None, act: Activation | None, act_name: str
    ) -> tuple[Tap, Any]:
        lp = self._last_param
        if x is not None and self._is(x, lp):
            assert lp is not None
            where = lp[2]
        else:
            where = self._stack[-1] if self._stack else ""
        name = f"{where}.{fname}" if where else fname
        kind = ACTIVATION_KINDS.get(act_name) or ("GatedProduct" if act is None else fname)
        module = self.model if self.model is not None else nn.Identity()
        tap = Tap(name, module, "activation", act, act_name, kind=kind)
        return tap, ("functional", name)

    def on_function(self, func: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        """Run ``func``; when it is an activation (or a gated product) worth a row, record it.

        The pre-activation is read before ``func`` runs (in-place calls overwrite it). A failure
        of the doctor's own bookkeeping (an exotic tensor type) drops the row, never the forward.
        """
        if self._quiet or self._depth or self._last_param is None:
            return func(*args, **kwargs)
        if getattr(func, "__name__", "") not in _RAW_NAMES:
            return func(*args, **kwargs)
        x = args[0] if args else kwargs.get("input")
        if (
            not isinstance(x, torch.Tensor)
            or not x.is_floating_point()
            or x.layout != torch.strided
            or x.dim() == 0
        ):
            return func(*args, **kwargs)
        try:
            planned = self._plan(func, args, kwargs, x)
        except Exception:  # never break the model's forward for a statistic
            planned = None
        out = func(*args, **kwargs)
        if planned is not None:
            tap, key, inp, part = planned
            if isinstance(out, torch.Tensor) and out.shape == inp.shape and out.is_floating_point():
                try:
                    self._record(tap, key, out, part)
                    self.functional_rows += 1
                except Exception:  # as above: the row is dropped, the forward goes on
                    pass
        return out

    def _plan(
        self, func: Any, args: tuple[Any, ...], kwargs: dict[str, Any], x: torch.Tensor
    ) -> tuple[Tap, Any, torch.Tensor, dict[str, torch.Tensor]] | None:
        """(tap, call key, input, pre-activation statistics) of a call worth a row, or None."""
        name, _ = normalize_func_name(func)
        if name == "mul":
            other = args[1] if len(args) > 1 else kwargs.get("other")
            if not isinstance(other, torch.Tensor) or other.shape != x.shape:
                return None
            la, lp = self._last_act, self._last_param
            if self._is(x, la) and self._is(other, lp):
                gate_out = x
            elif self._is(other, la) and self._is(x, lp):
                gate_out = other
            else:
                return None
            assert la is not None
            glu = glu_product_name(la[2])
            tap, key = self._functional_tap(glu, None, None, glu)  # named by its module
            # gain: rms of the product / rms of the gate activation's output
            return tap, key, gate_out, self._pre_stats(gate_out, "activation", None, None)
        if name not in FUNCTIONAL_ACTIVATIONS:
            return None
        params = activation_params(name, args, kwargs)
        akey = (name, tuple(sorted(params.items())))
        act = self._acts.get(akey)
        if act is None:  # built once per (name, parameters): building one costs ~0.2 ms
            try:
                act = get_activation(name, **params)
            except InitError:
                act = get_activation(name)
            self._acts[akey] = act
        tap, key = self._functional_tap(name, x, act, name)
        return tap, key, x, self._pre_stats(x, "activation", name, act)


class FunctionalTap(TorchFunctionMode):
    """The torch function mode that hands every call of the forward to :meth:`Recorder.on_function`.

    While a mode handles a call it is popped, so the calls made inside an activation (and the
    recorder's own statistics there) are not seen; the recorder's statistics computed from module
    hooks are skipped by its ``_quiet`` counter.
    """

    def __init__(self, recorder: Recorder) -> None:
        super().__init__()
        self.recorder = recorder

    def __torch_function__(self, func, types, args=(), kwargs=None):  # type: ignore[no-untyped-def]
        return self.recorder.on_function(func, args, kwargs or {})


__all__ = [
    "ACTIVATION_KINDS",
    "ACTIVATION_TYPES",
    "DEAD_FAMILY",
    "FUNCTIONAL_ACTIVATIONS",
    "NO_SATURATION",
    "FunctionalTap",
    "Recorder",
    "Tap",
    "first_float",
    "iter_tensors",
    "select_taps",
    "unwrap",
]
