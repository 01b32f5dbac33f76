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
executed as written (unlike ``torch.fx``). Many meta kernels (elementwise ops, norms, SDPA) are
Python decompositions costing 0.1–2 ms a call, so within one trace each distinct call (same op,
same argument shapes, strides, dtypes and scalars) runs once, and its repeats (a model's
identical blocks) get fresh empty meta tensors of the recorded metadata; calls returning views,
aliases or their own inputs always run, so the recorded graph is the same.

If the forward cannot run on meta tensors (it reads a value, or creates tensors on a fixed
device), it is retried on the real parameters under ``torch.no_grad`` with copied buffers, so
running statistics are never touched.

Examples:
    >>> import torch
    >>> from torch import nn
    >>> g = trace_model(nn.Sequential(nn.Linear(4, 8), nn.ReLU()), torch.randn(2, 4))
    >>> [n.func for n in g.nodes]
    ['layer', 'relu']
"""

from __future__ import annotations

import contextlib
import types
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


def _sdpa_scale(args: tuple[Any, ...], kwargs: dict[str, Any]) -> float | str | None:
    """The ``scale`` an SDPA call was given (its 7th argument): a number, None (the default
    1/√d), or ``"tensor"`` (a value the trace cannot read)."""
    s = args[6] if len(args) > 6 else kwargs.get("scale")
    if s is None or (isinstance(s, int | float) and not isinstance(s, bool)):
        return None if s is None else float(s)
    return "tensor"


_NO_TENSORS = frozenset({type(None), bool, int, float, complex, str, type(Ellipsis), slice,
                         torch.dtype, torch.device, torch.layout, torch.memory_format,
                         torch.Size})  # fmt: skip


def _tensors_in(x: Any, out: list[torch.Tensor]) -> list[torch.Tensor]:
    """Append the tensors in ``x`` to ``out`` in ``tree_flatten`` order: plain tuples, lists
    and dicts are walked here (the common case, several times faster), anything else (named
    tuples, model-output classes registered with pytree) by ``tree_flatten`` itself."""
    t = type(x)
    if t is torch.Tensor or isinstance(x, torch.Tensor):
        out.append(x)
    elif t in _NO_TENSORS:
        pass
    elif t is tuple or t is list:
        for v in x:
            _tensors_in(v, out)
    elif t is dict:
        for v in x.values():
            _tensors_in(v, out)
    else:
        out.extend(v for v in tree_flatten(x)[0] if isinstance(v, torch.Tensor))
    return out


def is_atomic(module: nn.Module) -> bool:
    """A known layer type. Other modules are looked into: the ops that consume their own
    parameters (``F.linear``, ``F.layer_norm``, ``x + self.bias``...) tell what they are."""
    return isinstance(module, KNOWN_LAYERS)


class _Uncacheable(Exception):
    """An argument the meta-op cache cannot key on (a non-meta tensor, an arbitrary object)."""


_ATOMS = frozenset({type(None), bool, int, float, complex, str, type(Ellipsis), torch.dtype,
                    torch.device, torch.layout, torch.memory_format})  # fmt: skip
_C_FUNCS = (
    types.BuiltinFunctionType,
    types.MethodDescriptorType,
    types.WrapperDescriptorType,
    types.MethodWrapperType,
)


def _signature(x: Any, tensors: list[torch.Tensor]) -> Any:
    """A hashable description of an op argument: everything a meta kernel's result can depend
    on (a meta tensor's dtype, shape, strides, offset, grad flag; a scalar's type and value).
    Raises :class:`_Uncacheable` for anything else (real tensors: their values may matter)."""
    t = type(x)
    if t is torch.Tensor:
        if not x.is_meta or x.layout != torch.strided or x.is_conj() or x.is_neg():
            raise _Uncacheable
        tensors.append(x)
        return (x.dtype, x.shape, x.stride(), x.storage_offset(), x.requires_grad)
    if t in _ATOMS:
        return (t, x)
    if t is tuple or t is list or t is torch.Size:
        return (t, *(_signature(v, tensors) for v in x))
    if t is slice:
        return (t, _signature(x.start, tensors), _signature(x.stop, tensors),
                _signature(x.step, tensors))  # fmt: skip
    if t is dict:
        return (t, *((k, _signature(v, tensors)) for k, v in sorted(x.items())))
    raise _Uncacheable


def _is_torch_op(func: Any) -> bool:
    """A torch function or tensor method (C-implemented, or Python code in ``torch.*``): its
    meta result is a function of its arguments' metadata. A user's function that dispatches
    ``__torch_function__`` itself may read anything, so it is never cached."""
    if isinstance(func, types.MethodWrapperType):  # a Tensor property's __get__
        func = getattr(func, "__self__", None)
    owner = getattr(func, "__objclass__", None)
    if owner is not None:
        return owner is torch._C.TensorBase
    module = getattr(func, "__module__", None) or ""
    return module == "torch" or module.startswith("torch.")


def _out_spec(out: Any, inputs: list[torch.Tensor]) -> tuple[Any, ...] | None:
    """What a cached call must rebuild: (container type or None, ((shape, stride, dtype), ...)),
    or None when the result is not a set of fresh meta tensors (a view, an alias, an input
    returned as is, an in-place result, a tensor needing grad): such calls always run."""
    if type(out) is torch.Tensor:
        outs: tuple[torch.Tensor, ...] = (out,)
        kind = None
    elif type(out) in (tuple, list) and out and all(type(o) is torch.Tensor for o in out):
        outs, kind = tuple(out), type(out)
    else:
        return None
    seen = {id(t) for t in inputs}
    storages = {t.untyped_storage()._cdata for t in inputs}
    metas = []
    for o in outs:
        if (
            id(o) in seen
            or o._is_view()
            or not o.is_meta
            or o.layout != torch.strided
            or o.requires_grad
            or o.storage_offset() != 0
            or o.is_conj()
            or o.is_neg()
        ):
            return None
        st = o.untyped_storage()._cdata
        if st in storages:
            return None
        seen.add(id(o))
        storages.add(st)
        metas.append((o.shape, o.stride(), o.dtype))
    return kind, tuple(metas)


_MISS = object()
#: Off only in the test that checks the cache changes no graph.
_CACHE_META_OPS = True


class _Recorder(TorchFunctionMode):
    def __init__(self, param_names: dict[int, str], *, cache_meta: bool = False) -> None:
        super().__init__()
        #: (op, argument signatures, grad mode, default dtype) → output spec (or None: always
        #: run). Meta kernels of elementwise ops, norms and SDPA are Python decompositions
        #: (0.1–2 ms a call); a model's identical blocks repeat the same calls on the same
        #: shapes, so each distinct call runs once and later ones get fresh empty meta tensors
        #: of the recorded shape, strides and dtype. One trace only: nothing is kept after it.
        self.meta_cache: dict[Any, Any] | None = {} if cache_meta else None
        self.cache_hits = 0
        self._uncached: set[Any] = set()
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
        out = func(*args, **kwargs) if self.meta_cache is None else self._call(func, args, kwargs)
        if self.suppress:
            return out
        outs = _tensors_in(out, [])
        if not outs:
            return out
        name, inplace = normalize_func_name(func)
        ins = tuple(self.value_of(t) for t in _tensors_in(kwargs, _tensors_in(args, [])))
        params = activation_params(name, args, kwargs)
        scalars = [a for a in args if isinstance(a, int | float) and not isinstance(a, bool)]
        if scalars:
            params["scalars"] = tuple(scalars)
        if name == "scaled_dot_product_attention":
            params["scale"] = _sdpa_scale(args, kwargs)
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

    def _call(self, func: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        """``func(*args, **kwargs)``, from the meta-op cache when this exact call (same op,
        same argument metadata and scalars, same grad mode and default dtype) ran before."""
        cache = self.meta_cache
        assert cache is not None
        inputs: list[torch.Tensor] = []
        try:
            if func in self._uncached:  # a view, an alias, a non-tensor result, not torch's
                raise _Uncacheable
            if not _is_torch_op(func):
                self._uncached.add(func)
                raise _Uncacheable
            key = (func, _signature(args, inputs), _signature(kwargs, inputs),
                   torch.is_grad_enabled(), torch.get_default_dtype())  # fmt: skip
            spec = cache.get(key, _MISS) if inputs else None
        except (_Uncacheable, TypeError):  # TypeError: an unhashable value
            spec = None
        if spec is None:
            return func(*args, **kwargs)
        if spec is _MISS:
            out = func(*args, **kwargs)
            cache[key] = spec = _out_spec(out, inputs)
            if spec is None:  # its calls are not worth a key (views: cheap and never cached)
                self._uncached.add(func)
            return out
        self.cache_hits += 1
        kind, metas = spec
        outs = [torch.empty_strided(s, st, dtype=dt, device="meta") for s, st, dt in metas]
        return outs[0] if kind is None else kind(outs)

    # module hooks ----------------------------------------------------------------------------
    def pre_hook(self, name: str, atomic: bool) -> Callable[..., None]:
        def hook(module: nn.Module, args: Any, kwargs: Any) -> None:
            self.stack.append(name)
            if atomic:
                if self.suppress == 0:
                    flat = _tensors_in(kwargs, _tensors_in(args, []))
                    self._pending.append(tuple(self.value_of(t) for t in flat))
                self.suppress += 1
            elif self.suppress == 0:
                flat = _tensors_in(kwargs, _tensors_in(args, []))
                self._open.append((name, tuple(self.value_of(t) for t in flat), len(self.nodes)))

        return hook

    def post_hook(self, name: str, atomic: bool) -> Callable[..., None]:
        def hook(module: nn.Module, args: Any, output: Any) -> None:
            if self.stack:
                self.stack.pop()
            if atomic:
                self.suppress -= 1
                if self.suppress == 0:
                    ins = self._pending.pop()
                    out_ids = tuple(self.new_value(t) for t in _tensors_in(output, []))
                    idx = len(self.nodes)
                    self.nodes.append(Node(idx, "layer", ins, out_ids, name))
                    self.calls.setdefault(name, []).append(idx)
            elif self.suppress == 0 and self._open and self._open[-1][0] == name:
                _, ins, start = self._open.pop()
                outs = _tensors_in(output, [])
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


def _meta_like(t: torch.Tensor) -> torch.Tensor:
    """``torch.empty_like(t, device="meta")``, for a plain contiguous tensor built directly
    (without the Python decomposition meta ``empty_like`` runs: ~40 µs a tensor, a 1B model has
    hundreds). The same strides: ``empty_like`` keeps a dense tensor's strides, except that the
    meta decomposition renormalizes those of size-1 dims, which therefore take the slow path."""
    if (
        type(t) in (torch.Tensor, nn.Parameter)
        and t.layout == torch.strided
        and (t.is_contiguous() and (not t.is_meta or 1 not in t.shape))
    ):
        return torch.empty_strided(t.shape, t.stride(), dtype=t.dtype, device="meta")
    return torch.empty_like(t, device="meta")


def _to_meta(x: Any) -> Any:
    if isinstance(x, torch.Tensor):
        return _meta_like(x)
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
    cache_meta: bool = False,
) -> tuple[_Recorder, frozenset[str], Any]:
    rec = _Recorder(param_names, cache_meta=cache_meta and _CACHE_META_OPS)
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
                    tensors = {}
                    for k, v in _named_tensors(model):
                        if id(v) not in cache:  # tied tensors: one meta tensor
                            cache[id(v)] = _meta_like(v)
                        tensors[k] = cache[id(v)]
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
                    rec, atomic, out = _run(model, a, kw, tensors, param_names, mode == "meta")
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
