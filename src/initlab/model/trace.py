"""Record a model's data flow from one forward pass: which tensor each op consumed and produced.

A :class:`torch.overrides.TorchFunctionMode` sees every torch function and tensor method the
forward calls (``F.relu``, ``torch.tanh``, ``x.sigmoid()``, ``x + y``...), including functional
calls that a module hook cannot see; forward pre/post hooks on each module mark module
boundaries. Known layers (Linear, Conv, Embedding, norms, RNNs, MultiheadAttention...) are
recorded as one atomic node and the ops inside them are not; other modules are looked into, and
the ops that read their parameters directly are recorded with the parameter's name.

The pass runs on the meta device by default (parameters and inputs replaced by meta tensors via
``torch.func.functional_call``: no memory, no compute), in train mode (so fused inference fast
paths such as ``TransformerEncoderLayer``'s do not hide the layers), with Python control flow
executed as written (unlike ``torch.fx``). If the forward cannot run on meta tensors (it reads a
value, or creates tensors on a fixed device), it is retried on the real parameters under
``torch.no_grad`` with copied buffers, so running statistics are never touched.

Examples:
    >>> import torch
    >>> from torch import nn
    >>> g = trace_model(nn.Sequential(nn.Linear(4, 8), nn.ReLU()), torch.randn(2, 4))
    >>> [n.func for n in g.nodes]
    ['layer', 'relu']
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn
from torch.overrides import TorchFunctionMode
from torch.utils._pytree import tree_flatten

from initlab.errors import InitError

#: Module types that are one atomic node of the data-flow graph.
KNOWN_LAYERS: tuple[type[nn.Module], ...] = (
    nn.Linear,
    nn.Bilinear,
    nn.modules.conv._ConvNd,
    nn.Embedding,
    nn.EmbeddingBag,
    nn.modules.batchnorm._NormBase,
    nn.LayerNorm,
    nn.GroupNorm,
    nn.LocalResponseNorm,
    nn.RNNBase,
    nn.RNNCellBase,
    nn.MultiheadAttention,
    nn.PReLU,
    *((nn.RMSNorm,) if hasattr(nn, "RMSNorm") else ()),
)


@dataclass
class Node:
    """One recorded call: a torch op, or one call of an atomic module (``func == "layer"``).

    Attributes:
        index: position in execution order.
        func: normalized op name (``"relu"``, ``"add"``, ``"linear"``...) or ``"layer"``.
        inputs: value ids of the tensor arguments, in argument order.
        outputs: value ids of the tensor results.
        module: the module path of the atomic module (layer nodes) or of the innermost module
            running when the op was called.
        params: scalar arguments worth keeping (activation parameters, scalar operands).
        inplace: the op wrote into its first argument (``add_``, ``x += y``).
    """

    index: int
    func: str
    inputs: tuple[int, ...]
    outputs: tuple[int, ...]
    module: str
    params: dict[str, Any] = field(default_factory=dict)
    inplace: bool = False


@dataclass(frozen=True)
class ModuleCall:
    """One call of a module that is looked into (not atomic): where its ops are.

    Attributes:
        module: the module path.
        inputs: value ids of the tensor arguments; outputs: of the tensor results.
        start, end: its ops are ``nodes[start:end]`` (nested modules' ops included).
    """

    module: str
    inputs: tuple[int, ...]
    outputs: tuple[int, ...]
    start: int
    end: int


@dataclass
class Graph:
    """The data flow of one forward pass.

    Attributes:
        nodes: ops and atomic-module calls in execution order.
        producer: value id → index of the node that produced it (absent for inputs/params).
        consumers: value id → indices of the nodes that consumed it.
        param_values: value id → parameter name (parameters read directly by an op).
        input_values: value ids of the model's inputs.
        output_values: value ids of the tensors the model returned (any nesting, dicts too).
        atomic: names of the modules recorded as one node.
        calls: module name → indices of its layer nodes (a module may be called several times).
        device: ``"meta"`` or the device the fallback ran on.
        note: why the fallback was needed (empty when meta worked).
        shapes: value id → shape of the tensor.
        module_calls: the calls of modules that are looked into, in the order they ended.
    """

    nodes: list[Node]
    producer: dict[int, int]
    consumers: dict[int, list[int]]
    param_values: dict[int, str]
    input_values: tuple[int, ...]
    output_values: tuple[int, ...]
    atomic: frozenset[str]
    calls: dict[str, list[int]]
    device: str = "meta"
    note: str = ""
    shapes: dict[int, tuple[int, ...]] = field(default_factory=dict)
    module_calls: list[ModuleCall] = field(default_factory=list)

    def rebuild_edges(self) -> None:
        """Recompute ``producer``/``consumers`` after nodes were rewritten (collapsed)."""
        self.producer.clear()
        self.consumers.clear()
        for n in self.nodes:
            for v in n.outputs:
                self.producer[v] = n.index
            for v in n.inputs:
                self.consumers.setdefault(v, []).append(n.index)


def normalize_func_name(func: Callable[..., Any]) -> tuple[str, bool]:
    """(name, inplace): ``Tensor.__iadd__`` → ("add", True), ``torch.relu_`` → ("relu", True),
    ``Tensor.__radd__`` → ("add", False)."""
    name = getattr(func, "__name__", None) or type(func).__name__
    if name == "__get__":
        owner = getattr(func, "__self__", None)
        name = getattr(owner, "__name__", "get")
    inplace = False
    if name.startswith("__") and name.endswith("__"):
        name = name[2:-2]
        if name.startswith("i") and name[1:] in _BINARY:
            name, inplace = name[1:], True
        elif name.startswith("r") and name[1:] in _BINARY:
            name = name[1:]
    elif name.endswith("_") and not name.startswith("_"):
        name, inplace = name[:-1], True
    return name, inplace


_BINARY = {"add", "sub", "mul", "truediv", "div", "matmul", "pow", "and", "or", "floordiv", "mod"}
_KEEP_SCALARS = {
    "leaky_relu": ("negative_slope",),
    "elu": ("alpha",),
    "celu": ("alpha",),
    "softplus": ("beta",),
    "hardtanh": ("min_val", "max_val"),
}


def activation_params(name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
    """The activation parameters of a call (``negative_slope``, ``alpha``, ``beta``,
    ``min_val``/``max_val``, ``approximate``), as :func:`initlab.core.get_activation` takes them.

    Examples:
        >>> activation_params("leaky_relu", (None, 0.2), {})
        {'negative_slope': 0.2}
    """
    params: dict[str, Any] = {}
    if name == "gelu":
        params["approximate"] = kwargs.get("approximate", "none")
    elif name in _KEEP_SCALARS:
        for i, key in enumerate(_KEEP_SCALARS[name]):
            if key in kwargs:
                params[key] = kwargs[key]
            elif len(args) > i + 1 and isinstance(args[i + 1], int | float):
                params[key] = args[i + 1]
    return params


def is_atomic(module: nn.Module) -> bool:
    """A known layer type. Other modules are looked into: the ops that consume their own
    parameters (``F.linear``, ``F.layer_norm``, ``x + self.bias``...) tell what they are."""
    return isinstance(module, KNOWN_LAYERS)


class _Recorder(TorchFunctionMode):
    def __init__(self, param_names: dict[int, str]) -> None:
        super().__init__()
        self.nodes: list[Node] = []
        self.vid: dict[int, int] = {}
        self.keep: list[torch.Tensor] = []
        self.next_vid = 0
        self.param_values: dict[int, str] = {}
        self.suppress = 0
        self.stack: list[str] = []
        self.calls: dict[str, list[int]] = {}
        self.shapes: dict[int, tuple[int, ...]] = {}
        self.module_calls: list[ModuleCall] = []
        self._open: list[tuple[str, tuple[int, ...], int]] = []
        self._param_names = param_names

    # value ids -------------------------------------------------------------------------------
    def new_value(self, t: torch.Tensor) -> int:
        v = self.next_vid
        self.next_vid += 1
        self.vid[id(t)] = v
        self.shapes[v] = tuple(t.shape)
        self.keep.append(t)  # keep alive: ids must not be reused during the trace
        return v

    def value_of(self, t: torch.Tensor) -> int:
        v = self.vid.get(id(t))
        if v is None:
            v = self.new_value(t)
            name = self._param_names.get(id(t))
            if name is not None:
                self.param_values[v] = name
        return v

    # torch functions -------------------------------------------------------------------------
    def __torch_function__(self, func, types, args=(), kwargs=None):  # type: ignore[no-untyped-def]
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        if self.suppress:
            return out
        outs = [t for t in tree_flatten(out)[0] if isinstance(t, torch.Tensor)]
        if not outs:
            return out
        name, inplace = normalize_func_name(func)
        flat_in = tree_flatten((args, kwargs))[0]
        ins = tuple(self.value_of(t) for t in flat_in if isinstance(t, torch.Tensor))
        params = activation_params(name, args, kwargs)
        scalars = [a for a in args if isinstance(a, int | float) and not isinstance(a, bool)]
        if scalars:
            params["scalars"] = tuple(scalars)
        out_ids = tuple(self.new_value(t) for t in outs)
        self.nodes.append(
            Node(
                len(self.nodes),
                name,
                ins,
                out_ids,
                self.stack[-1] if self.stack else "",
                params,
                inplace,
            )
        )
        return out

    # module hooks ----------------------------------------------------------------------------
    def pre_hook(self, name: str, atomic: bool) -> Callable[..., None]:
        def hook(module: nn.Module, args: Any, kwargs: Any) -> None:
            self.stack.append(name)
            if atomic:
                if self.suppress == 0:
                    flat = tree_flatten((args, kwargs))[0]
                    ins = tuple(self.value_of(t) for t in flat if isinstance(t, torch.Tensor))
                    self._pending.append(ins)
                self.suppress += 1
            elif self.suppress == 0:
                flat = tree_flatten((args, kwargs))[0]
                ins = tuple(self.value_of(t) for t in flat if isinstance(t, torch.Tensor))
                self._open.append((name, ins, len(self.nodes)))

        return hook

    def post_hook(self, name: str, atomic: bool) -> Callable[..., None]:
        def hook(module: nn.Module, args: Any, output: Any) -> None:
            if self.stack:
                self.stack.pop()
            if atomic:
                self.suppress -= 1
                if self.suppress == 0:
                    ins = self._pending.pop()
                    outs = [t for t in tree_flatten(output)[0] if isinstance(t, torch.Tensor)]
                    out_ids = tuple(self.new_value(t) for t in outs)
                    idx = len(self.nodes)
                    self.nodes.append(Node(idx, "layer", ins, out_ids, name))
                    self.calls.setdefault(name, []).append(idx)
            elif self.suppress == 0 and self._open and self._open[-1][0] == name:
                _, ins, start = self._open.pop()
                outs = [t for t in tree_flatten(output)[0] if isinstance(t, torch.Tensor)]
                out_ids = tuple(self.vid[id(t)] for t in outs if id(t) in self.vid)
                self.module_calls.append(ModuleCall(name, ins, out_ids, start, len(self.nodes)))

        return hook

    _pending: list[tuple[int, ...]]


@contextlib.contextmanager
def _hooks(model: nn.Module, rec: _Recorder) -> Iterator[frozenset[str]]:
    handles = []
    atomic = set()
    rec._pending = []
    try:
        for name, m in model.named_modules():
            a = is_atomic(m)
            if a:
                atomic.add(name)
            handles.append(m.register_forward_pre_hook(rec.pre_hook(name, a), with_kwargs=True))
            handles.append(m.register_forward_hook(rec.post_hook(name, a), always_call=True))
        yield frozenset(atomic)
    finally:
        for h in handles:
            h.remove()


@contextlib.contextmanager
def _train_mode(model: nn.Module) -> Iterator[None]:
    modes = {m: m.training for m in model.modules()}
    model.train()
    try:
        yield
    finally:
        for m, t in modes.items():
            m.training = t


def split_input(example_input: Any) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """A tensor → (tensor,); a tuple/list → positional args; a dict → keyword args."""
    if isinstance(example_input, dict):
        return (), dict(example_input)
    if isinstance(example_input, tuple | list):
        return tuple(example_input), {}
    return (example_input,), {}


def _to_meta(x: Any) -> Any:
    if isinstance(x, torch.Tensor):
        return torch.empty_like(x, device="meta")
    if isinstance(x, dict):
        return {k: _to_meta(v) for k, v in x.items()}
    if isinstance(x, tuple | list):
        return type(x)(_to_meta(v) for v in x)
    return x


def _run(
    model: nn.Module,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    tensors: dict[str, torch.Tensor],
    param_names: dict[int, str],
) -> tuple[_Recorder, frozenset[str], Any]:
    rec = _Recorder(param_names)
    with _hooks(model, rec) as atomic, torch.no_grad():
        flat_in = [t for t in tree_flatten((args, kwargs))[0] if isinstance(t, torch.Tensor)]
        inputs = tuple(rec.value_of(t) for t in flat_in)
        with rec:
            out = torch.func.functional_call(model, tensors, args, kwargs, strict=False)
    rec.input_values = inputs  # type: ignore[attr-defined]
    return rec, atomic, out


def trace_model(model: nn.Module, example_input: Any, *, device: str = "meta") -> Graph:
    """Run one forward pass of ``model`` on ``example_input`` and record its data flow.

    Args:
        model: any ``nn.Module`` (it is not modified: parameters are substituted, buffers
            copied, module train/eval flags restored).
        example_input: a tensor, a tuple of positional arguments, or a dict of keyword
            arguments, as the model's ``forward`` takes them.
        device: ``"meta"`` (default: no memory or compute) or ``"real"`` (run on the real
            parameters; used automatically when the meta pass fails).

    Raises:
        InitError: the forward fails on the real parameters too (the model's own error is
            quoted: usually the example input has the wrong shape or dtype).

    Examples:
        >>> import torch
        >>> from torch import nn
        >>> g = trace_model(nn.Linear(3, 2), torch.randn(5, 3))
        >>> g.device, len(g.nodes)
        ('meta', 1)
    """
    args, kwargs = split_input(example_input)
    note = ""
    errors = []
    modes: tuple[str, ...] = ("meta", "real") if device == "meta" else ("real",)
    if any(p.is_meta for p in model.parameters()):
        modes = (*modes, "scratch")  # a meta-built model whose forward reads values (MoE top-k)
    for mode in modes:
        for train in (True, False):
            try:
                if mode == "meta":
                    cache: dict[int, torch.Tensor] = {}
                    tensors = {
                        k: cache.setdefault(id(v), torch.empty_like(v, device="meta"))
                        for k, v in _named_tensors(model)
                    }
                    a, kw = _to_meta(args), _to_meta(kwargs)
                elif mode == "scratch":
                    tensors, a, kw = _scratch(model), args, kwargs
                else:
                    tensors = dict(model.named_parameters(remove_duplicate=False))
                    clones: dict[int, torch.Tensor] = {}
                    for k, v in model.named_buffers(remove_duplicate=False):
                        tensors[k] = clones.setdefault(id(v), v.clone())
                    a, kw = args, kwargs
                param_names = _param_names(model, tensors)
                ctx = _train_mode(model) if train else contextlib.nullcontext()
                with ctx:
                    rec, atomic, out = _run(model, a, kw, tensors, param_names)
            except Exception as e:  # the model's own error: kept to explain a failure
                errors.append(f"{mode}/{'train' if train else 'eval'}: {type(e).__name__}: {e}")
                continue
            if mode == "scratch":
                note = "the forward could not run on meta tensors (" + errors[0] + "); traced on "
                note += "scratch CPU copies of the meta parameters (N(0, 0.02²), zero buffers)"
            elif mode == "real":
                note = "the forward could not run on meta tensors (" + errors[0] + "); traced on "
                note += "the real parameters under no_grad with copied buffers"
            outs = []
            for t in tree_flatten(out)[0]:
                if isinstance(t, torch.Tensor) and id(t) in rec.vid:
                    outs.append(rec.vid[id(t)])
            return _graph(rec, atomic, tuple(outs), mode, note)
    last = errors[-1] if errors else "unknown error"
    cause = last.split(": ", 1)[-1]
    err = InitError(
        f"trace: the model's forward failed on example_input ({_describe(example_input)}): "
        f"{cause}; pass an example_input of the shape and dtype the model expects (a tensor, a "
        "tuple of arguments or a dict of keyword arguments)"
    )
    err.model_error = cause  # type: ignore[attr-defined]  # the model's own message, for the CLI
    raise err


def _scratch(model: nn.Module) -> dict[str, torch.Tensor]:
    """CPU stand-ins for a meta-built model's tensors (the values only steer data-dependent
    control flow such as MoE top-k routing; they are freed after the trace)."""
    g = torch.Generator().manual_seed(0)
    cache: dict[int, torch.Tensor] = {}
    out: dict[str, torch.Tensor] = {}
    for k, v in _named_tensors(model):
        if id(v) not in cache:
            if not v.is_meta:
                cache[id(v)] = v.detach().clone()
            elif v.is_floating_point():
                cache[id(v)] = torch.randn(v.shape, generator=g, dtype=v.dtype) * 0.02
            else:
                cache[id(v)] = torch.zeros(v.shape, dtype=v.dtype)
        out[k] = cache[id(v)]
    return out


def _describe(x: Any) -> str:
    if isinstance(x, torch.Tensor):
        return f"tensor of shape {tuple(x.shape)}, dtype {x.dtype}"
    if isinstance(x, dict):
        return "dict with keys " + ", ".join(map(str, x))
    if isinstance(x, tuple | list):
        return f"{type(x).__name__} of {len(x)}: " + "; ".join(_describe(v) for v in x)
    return type(x).__name__


def _named_tensors(model: nn.Module) -> Iterator[tuple[str, torch.Tensor]]:
    yield from model.named_parameters(remove_duplicate=False)
    yield from model.named_buffers(remove_duplicate=False)


def _param_names(model: nn.Module, tensors: dict[str, torch.Tensor]) -> dict[int, str]:
    """id of the substituted tensor → canonical parameter name (tied aliases share one name)."""
    canon: dict[int, str] = {}
    for name, p in model.named_parameters(remove_duplicate=False):
        key = id(p)
        canon[key] = min(canon.get(key, name), name)
    out: dict[int, str] = {}
    for name, p in model.named_parameters(remove_duplicate=False):
        t = tensors.get(name)
        if t is not None:
            out[id(t)] = canon[id(p)]
    return out


def _graph(
    rec: _Recorder, atomic: frozenset[str], outputs: tuple[int, ...], device: str, note: str
) -> Graph:
    producer: dict[int, int] = {}
    consumers: dict[int, list[int]] = {}
    for n in rec.nodes:
        for v in n.outputs:
            producer[v] = n.index
        for v in n.inputs:
            consumers.setdefault(v, []).append(n.index)
    return Graph(
        nodes=rec.nodes,
        producer=producer,
        consumers=consumers,
        param_values=rec.param_values,
        input_values=getattr(rec, "input_values", ()),
        output_values=outputs,
        atomic=atomic,
        calls=rec.calls,
        device=device,
        note=note,
        shapes=rec.shapes,
        module_calls=rec.module_calls,
    )


__all__ = [
    "KNOWN_LAYERS",
    "Graph",
    "ModuleCall",
    "Node",
    "activation_params",
    "is_atomic",
    "normalize_func_name",
    "split_input",
    "trace_model",
]
