"""What the forward does with each module and parameter, read off the traced ops.

Structure discovery recognizes layers by what the forward *does*, not by class names:

- :func:`weight_uses`: how an op consumes a weight (``x @ W`` vs ``x @ W.T``, ``addmm``
  argument order, ``F.conv1d(x, W)``, batched expert matmuls), followed through views,
  transposes and indexing back to the parameter's own axes. That gives the fans of any
  transposed-linear (Hugging Face's GPT-2 ``Conv1D`` stores ``(in, out)``), functional
  (``F.conv1d(x, self.conv1d.weight)``) or per-expert (``(experts, out, in)``) weight.
- :func:`collapse_modules`: a parameter-free module whose ops are all elementwise is an
  activation; its values are compared with the known activations (so HF's ``NewGELUActivation``
  is GELU-tanh and ``quick_gelu`` is x·σ(1.702x), without a list of class names). A module whose
  1-D parameters multiply a normalized tensor (``x * rsqrt(mean(x²) + ε)``) is a norm, whatever
  its class (``LlamaRMSNorm``, ``T5LayerNorm``...). Either becomes one node of the graph.

Examples:
    >>> import torch
    >>> def gelu_new(x):  # Hugging Face's NewGELUActivation
    ...     return 0.5 * x * (1 + torch.tanh(0.7978845608028654 * (x + 0.044715 * x**3)))
    >>> identify_activation(gelu_new)
    ('gelu', {'approximate': 'tanh'})
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from initlab.model.trace import Graph, ModuleCall, Node

#: Ops that compute elementwise (an activation module uses only these).
ELEMENTWISE = frozenset(
    {
        "mul", "add", "sub", "div", "truediv", "pow", "neg", "abs", "exp", "expm1", "log",
        "log1p", "sqrt", "rsqrt", "reciprocal", "square", "tanh", "sigmoid", "erf", "erfc",
        "clamp", "clip", "clamp_min", "clamp_max", "maximum", "minimum", "where", "sin", "cos",
        "relu", "relu6", "leaky_relu", "elu", "selu", "celu", "gelu", "silu", "mish", "softplus",
        "hardtanh", "softsign", "hardswish", "hardsigmoid", "logsigmoid", "tanhshrink",
        "to", "float", "type_as", "contiguous", "clone", "detach", "zeros_like", "ones_like",
        "full_like", "new_tensor",
    }
)  # fmt: skip
#: Ops through which a weight keeps its identity (possibly with axes moved).
_PASS = frozenset({"to", "float", "half", "bfloat16", "double", "contiguous", "clone", "detach",
                   "type_as", "view_as", "reshape_as"})  # fmt: skip
_SWAP_LAST = frozenset({"t", "T", "mT", "adjoint"})
_NORMALIZERS = frozenset({"rsqrt", "sqrt", "std", "var", "var_mean", "std_mean", "norm",
                          "layer_norm", "rms_norm", "group_norm", "normalize"})  # fmt: skip


@dataclass(frozen=True)
class WeightUse:
    """How one op consumes a weight.

    Attributes:
        param: the parameter's name.
        op: the consuming op (``linear``, ``addmm``, ``matmul``, ``conv1d``, ``_grouped_mm``...).
        node: index of the consuming node.
        kind: the layer kind this use makes (``linear``, ``conv``, ``conv_transpose``,
            ``embedding``).
        in_axes, out_axes: the parameter's own axes that index inputs and outputs; the others
            are the receptive field, except ``batch_axes`` (one matrix per expert).
        batch_axes: axes that index independent matrices (experts).
        derived: value ids of the views of the weight that the op read.
    """

    param: str
    op: str
    node: int
    kind: str
    in_axes: tuple[int, ...]
    out_axes: tuple[int, ...]
    batch_axes: tuple[int, ...] = ()
    derived: tuple[int, ...] = ()

    def fans(self, shape: tuple[int, ...]) -> tuple[int, int]:
        """(fan_in, fan_out) of one matrix (per expert), the receptive field included."""
        recept = 1
        for i, s in enumerate(shape):
            if i not in self.in_axes and i not in self.out_axes and i not in self.batch_axes:
                recept *= s
        fi = recept
        for a in self.in_axes:
            fi *= shape[a]
        fo = recept
        for a in self.out_axes:
            fo *= shape[a]
        return fi, fo


def _norm_dim(d: Any, nd: int) -> int | None:
    if not isinstance(d, int) or nd == 0:
        return None
    return d % nd if -nd <= d < nd else None


def _follow_axes(n: Node, axes: list[int | None], g: Graph) -> list[int | None] | None:
    """Axes of ``n``'s output (as original parameter axes), or None if ``n`` is not a view."""
    if n.func in _PASS:
        return axes
    nd = len(axes)
    sc = n.params.get("scalars", ())
    out_shape = g.shapes.get(n.outputs[0]) if n.outputs else None
    if n.func in ("transpose", "swapaxes") and len(sc) >= 2:
        a, b = _norm_dim(sc[0], nd), _norm_dim(sc[1], nd)
        if a is None or b is None:
            return None
        out = list(axes)
        out[a], out[b] = out[b], out[a]
        return out
    if n.func in _SWAP_LAST and nd >= 2:
        return [*axes[:-2], axes[-1], axes[-2]]
    if n.func == "permute" and len(sc) == nd:
        return [axes[int(d) % nd] for d in sc]
    if n.func == "squeeze" and out_shape is not None and len(out_shape) == nd - 1 and sc:
        d = _norm_dim(sc[0], nd)
        return None if d is None else axes[:d] + axes[d + 1 :]
    if n.func == "unsqueeze" and sc:
        d = _norm_dim(sc[0], nd + 1)
        return None if d is None else [*axes[:d], None, *axes[d:]]
    if n.func == "getitem" and out_shape is not None:
        if len(out_shape) == nd:
            return axes  # a slice keeps the axes
        if len(out_shape) == nd - 1:
            return axes[1:]  # one expert's matrix: W[e]
        return None
    if n.func in ("view", "reshape") and out_shape is not None and n.inputs:
        return axes if g.shapes.get(n.inputs[0]) == out_shape else None
    return None


def _use_of(n: Node, pos: int, axes: list[int | None]) -> tuple[str, list, list, list] | None:
    """(kind, in, out, batch) current-axes lists for an op reading the weight at ``pos``."""
    nd = len(axes)
    f = n.func
    if f == "linear" and pos == 1 and nd == 2:
        return "linear", [axes[1]], [axes[0]], []
    if f in ("conv1d", "conv2d", "conv3d") and pos == 1 and nd >= 3:
        return "conv", [axes[1], *axes[2:]], [axes[0], *axes[2:]], []
    if f.startswith("conv_transpose") and pos == 1 and nd >= 3:
        return "conv_transpose", [axes[0], *axes[2:]], [axes[1], *axes[2:]], []
    if f == "embedding" and pos == 1 and nd == 2:
        return "embedding", [], [axes[1]], []
    mm_pos = {"addmm": (1, 2), "baddbmm": (1, 2), "addbmm": (1, 2)}.get(f, (0, 1))
    if f in ("matmul", "mm", "bmm", "addmm", "baddbmm", "addbmm", "_grouped_mm", "grouped_mm"):
        batch = list(axes[:-2])
        if pos == mm_pos[1] and nd >= 2:  # x @ W: W is (..., in, out)
            return "linear", [axes[-2]], [axes[-1]], batch
        if pos == mm_pos[0] and nd >= 2:  # W @ x: W is (..., out, in)
            return "linear", [axes[-1]], [axes[-2]], batch
    return None


def weight_uses(g: Graph, param_shapes: dict[str, tuple[int, ...]]) -> list[WeightUse]:
    """Every op that consumes a ≥2-D parameter as a weight, through views, transposes and
    expert indexing.

    Examples:
        >>> import torch
        >>> from torch import nn
        >>> from initlab.model.trace import trace_model
        >>> class T(nn.Module):  # a transposed linear: weight stored (in, out)
        ...     def __init__(self):
        ...         super().__init__()
        ...         self.w = nn.Parameter(torch.randn(4, 8))
        ...     def forward(self, x):
        ...         return x @ self.w
        >>> m = T()
        >>> u = weight_uses(trace_model(m, torch.randn(2, 4)), {"w": (4, 8)})[0]
        >>> u.fans((4, 8))  # (fan_in, fan_out)
        (4, 8)
    """
    out: list[WeightUse] = []
    for v, pname in g.param_values.items():
        shape = param_shapes.get(pname)
        if shape is None or len(shape) < 2:
            continue
        stack: list[tuple[int, list[int | None], tuple[int, ...]]] = [
            (v, list(range(len(shape))), (v,))
        ]
        seen: set[int] = set()
        while stack:
            u, axes, derived = stack.pop()
            for ci in g.consumers.get(u, []):
                if (ci, u) in seen:
                    continue
                seen.add((ci, u))  # type: ignore[arg-type]
                c = g.nodes[ci]
                pos = c.inputs.index(u)
                use = _use_of(c, pos, axes)
                if use is not None:
                    kind, ins, outs, batch = use  # None: a size-1 axis added by unsqueeze
                    out.append(WeightUse(
                        pname, c.func, ci, kind, tuple(a for a in ins if a is not None),
                        tuple(a for a in outs if a is not None),
                        tuple(b for b in batch if b is not None), derived))  # fmt: skip
                    continue
                nxt = _follow_axes(c, axes, g)
                if nxt is not None and c.outputs:
                    stack.append((c.outputs[0], nxt, (*derived, c.outputs[0])))
    return out


# ---------------------------------------------------------------- activation identity --------
def _candidates() -> list[tuple[str, dict[str, Any]]]:
    from initlab.core.activations import describe_activations

    out: list[tuple[str, dict[str, Any]]] = []
    for name in describe_activations():  # built-ins only: the answer must not depend on state
        if name in ("swiglu", "geglu", "reglu", "glu", "linear", "prelu", "gelu_tanh", "swish"):
            continue
        out.append((name, {}))
    out.append(("gelu", {"approximate": "tanh"}))
    return out


#: One-parameter families: (name, parameter, search interval).
_FAMILIES = (("silu", "beta", (0.1, 10.0)), ("leaky_relu", "negative_slope", (0.0, 1.0)),
             ("elu", "alpha", (0.01, 10.0)), ("softplus", "beta", (0.1, 20.0)))  # fmt: skip


def identify_activation(fn: Callable[[torch.Tensor], torch.Tensor]) -> tuple[str, dict] | None:
    """The known activation (with its parameters) whose values ``fn`` reproduces on [−8, 8]
    to 1e−5, or None. One-parameter families (SiLU β, leaky slope, ELU α, softplus β) are
    fitted, so ``x·σ(1.702x)`` is found as ``silu(beta=1.702)``.

    Examples:
        >>> identify_activation(lambda x: x * torch.sigmoid(1.702 * x))
        ('silu', {'beta': 1.702})
        >>> identify_activation(torch.sin) is None
        True
    """
    from scipy.optimize import minimize_scalar

    from initlab.core.activations import get_activation

    x = torch.linspace(-8.0, 8.0, 321, dtype=torch.float64)
    try:
        with torch.no_grad():
            out = fn(x.clone())
    except Exception:  # not callable on a plain tensor: not an elementwise activation
        return None
    if not isinstance(out, torch.Tensor) or out.shape != x.shape:
        return None
    y = out.detach().to(torch.float64).numpy()  # host values only: no device sync, no bool()
    xs = x.numpy()
    if not np.isfinite(y).all():
        return None
    tol = 1e-5 * (1.0 + float(np.abs(y).max()))

    def err(name: str, params: dict[str, Any]) -> float:
        try:
            z = np.asarray(get_activation(name, **params).fn(xs), dtype=np.float64)
        except Exception:  # a parameter value the family rejects
            return float("inf")
        return float(np.abs(z - y).max())

    for name, params in _candidates():
        if err(name, params) <= tol:
            return name, params
    for name, key, (lo, hi) in _FAMILIES:
        r = minimize_scalar(lambda b, n=name, k=key: err(n, {k: b}), bounds=(lo, hi),
                            method="bounded", options={"xatol": 1e-9})  # fmt: skip
        if r.fun <= tol:
            val = round(float(r.x), 6)
            if err(name, {key: val}) <= tol:
                return (name, {}) if (name == "silu" and val == 1.0) else (name, {key: val})
    return None


# ---------------------------------------------------------------- collapsing module calls ----
def _inner(g: Graph, call: ModuleCall) -> list[Node]:
    return [n for n in g.nodes[call.start : call.end] if n.func != "dead"]


def _derives_from(g: Graph, call: ModuleCall, nodes: list[Node]) -> bool:
    """Every tensor an inner op reads is the call's input or made inside the call."""
    made = {v for n in nodes for v in n.outputs} | set(call.inputs)
    return all(u in made or u in g.param_values for n in nodes for u in n.inputs)


def _replace(g: Graph, call: ModuleCall, nodes: list[Node], func: str, params: dict) -> Node:
    """Turn the call's ops into one node ``func`` reading its input, writing its output."""
    last = nodes[-1]
    for n in nodes[:-1]:
        outside = any(not call.start <= ci < call.end for v in n.outputs
                      for ci in g.consumers.get(v, []))  # fmt: skip
        if outside and n.func in _PASS:
            continue  # x.to(float32) returned x itself: later code reads it under this id
        n.func, n.inputs, n.outputs = "dead", (), ()
    last.func = func
    last.inputs = tuple(u for u in call.inputs[:1])
    last.outputs = call.outputs[:1]
    last.module = call.module
    last.params = params
    return last


def _is_norm_call(g: Graph, nodes: list[Node], module: nn.Module) -> bool:
    """A module whose parameters are all 1-D, one of which multiplies a normalized tensor."""
    params = list(module.parameters())
    if not params or any(p.dim() != 1 for p in params):
        return False
    funcs = {n.func for n in nodes}
    if not funcs & _NORMALIZERS:
        return False
    return any(n.func == "mul" and any(u in g.param_values for u in n.inputs) for n in nodes) or \
        any(n.func == "mul" and any(_from_param(g, u) for u in n.inputs) for n in nodes)


def _from_param(g: Graph, v: int, depth: int = 3) -> bool:
    for _ in range(depth):
        if v in g.param_values:
            return True
        pi = g.producer.get(v)
        if pi is None or g.nodes[pi].func not in _PASS or not g.nodes[pi].inputs:
            return False
        v = g.nodes[pi].inputs[0]
    return v in g.param_values


def collapse_modules(
    g: Graph, modules: dict[str, nn.Module], atomic_kinds: dict[str, str]
) -> dict[str, str]:
    """Collapse activation-like and norm-like module calls into one node each.

    Returns module name → ``"norm"`` for the modules found to be norms (their calls become
    ``layer`` nodes); activation modules become a node named after the activation they compute
    (``gelu`` with ``approximate="tanh"``...), with an ``evidence`` note. Calls nested in an
    already collapsed call are left alone.
    """
    found: dict[str, str] = {}
    cache: dict[str, tuple[str, dict] | None] = {}
    for call in sorted(g.module_calls, key=lambda c: (c.start, -c.end)):
        m = modules.get(call.module)
        if m is None or call.module in atomic_kinds or len(call.inputs) < 1 \
                or len(call.outputs) != 1:  # fmt: skip
            continue
        nodes = _inner(g, call)
        if not nodes or any(n.func == "layer" for n in nodes):
            continue
        if not _derives_from(g, call, nodes):
            continue
        has_params = any(True for _ in m.parameters())
        if has_params:
            if _is_norm_call(g, nodes, m) and len(call.inputs) == 1:
                node = _replace(g, call, nodes, "layer", {})
                g.calls.setdefault(call.module, []).append(node.index)
                found[call.module] = "norm"
            continue
        if len(call.inputs) != 1 or not all(n.func in ELEMENTWISE for n in nodes):
            continue
        if len({n.func for n in nodes}) <= 1:
            continue  # already one op (nn.SiLU calls F.silu): nothing to collapse
        key = type(m).__qualname__ + repr(sorted(
            (k, v) for k, v in vars(m).items() if isinstance(v, int | float | str | bool)))
        if key not in cache:
            cache[key] = identify_activation(m)
        ident = cache[key]
        if ident is None:
            continue
        name, params = ident
        _replace(g, call, nodes, name, {**params, "module": type(m).__name__})
    g.rebuild_edges()
    return found


__all__ = ["ELEMENTWISE", "WeightUse", "collapse_modules", "identify_activation", "weight_uses"]
