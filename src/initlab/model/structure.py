"""Structure discovery: what each parameterized layer of a model does, read off its data flow.

From the graph of one traced forward pass (:func:`initlab.model.trace.trace_model`) we find, for
each layer: the activation that follows it (through views, dropout and norms; nn modules and
functional calls alike, GLU products included), whether it ends a residual branch (its output,
possibly through a norm/dropout, is added to the branch input or to a projection shortcut of it),
whether it is an output layer, and its role (embedding, attention q/k/v/out, MLP in/out, norm,
recurrent, classifier, shortcut...).

Examples:
    >>> import torch
    >>> from torch import nn
    >>> s = discover(nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 2)), torch.randn(3, 4))
    >>> s.layers["0"].activation, s.layers["2"].role
    ('tanh', 'classifier')
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from initlab.core.activations import ACTIVATION_MODULES, GLU_PRODUCTS
from initlab.errors import InitError
from initlab.model.attn_scale import (
    AttentionScale,
    attention_scales,
    by_query,
    logits_product,
)
from initlab.model.trace import Graph, Node, trace_model
from initlab.model.uses import WeightUse, collapse_modules, weight_uses

# Ops that pass a tensor on without changing what a following activation sees.
_VIEW_OPS = frozenset(
    {
        "view", "reshape", "flatten", "unflatten", "permute", "transpose", "contiguous",
        "squeeze", "unsqueeze", "expand", "expand_as", "clone", "to", "float", "half",
        "bfloat16", "double", "type_as", "type", "getitem", "split", "chunk", "unbind", "narrow",
        "select", "t", "T", "mT", "movedim", "moveaxis", "view_as", "reshape_as", "detach",
        "dropout", "dropout1d", "dropout2d", "dropout3d", "alpha_dropout",
        "feature_alpha_dropout", "identity", "masked_fill", "tensor_split", "swapaxes",
        "pad", "roll", "repeat", "tile", "cpu", "cuda",
    }
)  # fmt: skip
_NORM_OPS = frozenset(
    {"layer_norm", "batch_norm", "group_norm", "instance_norm", "rms_norm", "normalize"}
)
#: functional op name → activation name: the registry's names, plus torch's aliases.
_ACT_OPS = {**{n: n for n in ACTIVATION_MODULES.values()}, "swish": "silu", "glu": "glu"}
_PARAM_OPS = {
    "linear": "linear",
    "conv1d": "conv",
    "conv2d": "conv",
    "conv3d": "conv",
    "conv_transpose1d": "conv_transpose",
    "conv_transpose2d": "conv_transpose",
    "conv_transpose3d": "conv_transpose",
    "embedding": "embedding",
    "bilinear": "bilinear",
    "layer_norm": "norm",
    "rms_norm": "norm",
    "group_norm": "norm",
    "batch_norm": "norm",
    "instance_norm": "norm",
}
_OUTPUT_OPS = frozenset({"softmax", "log_softmax", *_ACT_OPS})
_ADD = frozenset({"add"})
#: A block index in a module path (``experts.3.w2`` → ``experts.#.w2``).
_BLOCK_INDEX = re.compile(r"\.\d+(?=\.|$)")
#: Ops by which a mixture-of-experts block combines its experts' outputs: routing weights
#: multiplied in, top-k slots summed, tokens put back in order (index_add, scatter, getitem).
_COMBINE = frozenset({
    "mul", "sum", "getitem", "index_add", "index_add_", "scatter_add", "scatter_add_",
    "index_put", "index_put_", "view", "reshape", "flatten", "unflatten", "permute",
    "transpose", "contiguous", "squeeze", "unsqueeze", "to", "float", "type_as",
})  # fmt: skip
_SCALE = frozenset({"mul", "div", "truediv"})
_MATMUL = frozenset({"matmul", "bmm", "einsum", "baddbmm"})
_NORM_TYPES: tuple[type[nn.Module], ...] = (
    nn.modules.batchnorm._NormBase,
    nn.LayerNorm,
    nn.GroupNorm,
    nn.LocalResponseNorm,
    *((nn.RMSNorm,) if hasattr(nn, "RMSNorm") else ()),
)


def _rectifier_name(act: str, params: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """``hardtanh(0, 6)`` is ReLU6 (what ``nn.ReLU6`` calls): a rectifier, not a tanh."""
    if act == "hardtanh" and params.get("min_val") == 0 and params.get("max_val") == 6:
        return "relu6", {}
    return act, params


def layer_kind(module: nn.Module) -> str:
    """The family of a module: linear, conv, conv_transpose, embedding, norm, recurrent,
    attention, bilinear, prelu or custom."""
    if isinstance(module, nn.modules.conv._ConvTransposeNd):
        return "conv_transpose"
    if isinstance(module, nn.modules.conv._ConvNd):
        return "conv"
    if isinstance(module, nn.Linear):
        return "linear"
    if isinstance(module, nn.Bilinear):
        return "bilinear"
    if isinstance(module, nn.Embedding | nn.EmbeddingBag):
        return "embedding"
    if isinstance(module, _NORM_TYPES):
        return "norm"
    if isinstance(module, nn.RNNBase | nn.RNNCellBase):
        return "recurrent"
    if isinstance(module, nn.MultiheadAttention):
        return "attention"
    if isinstance(module, nn.PReLU):
        return "prelu"
    return "custom"


_WEIGHT_KINDS = frozenset({"linear", "conv", "conv_transpose", "bilinear", "attention"})


@dataclass(frozen=True)
class LayerInfo:
    """What discovery found about one parameterized module.

    Attributes:
        name: module path (``"blocks.0.mlp.c_fc"``).
        type: class name.
        kind: family (see :func:`layer_kind`).
        role: embedding, attn_q/attn_k/attn_v/attn_qkv/attn_out, mlp_in/mlp_out, norm,
            recurrent, classifier/output, shortcut, linear/conv/conv_transpose, custom.
        activation: canonical name of the activation that follows (``"linear"`` if none).
        activation_params: its parameters (``{"negative_slope": 0.2}``).
        glu: ``"gate"`` / ``"value"`` / ``"packed"`` when the layer feeds a gated unit.
        residual_end: its output (possibly through a norm/dropout) is added to the branch input.
        branch_norm: the norm module between this layer and the residual add (zero-γ target).
        branch_layers: for a residual end, the weight layers of its branch (execution order).
        is_output: its output reaches the model output through views/activations only.
        calls: how many times the forward called it (0: never; its row says so).
        order: execution index of its first call (-1 when never called).
        evidence: short notes on how the facts above were found.
    """

    name: str
    type: str
    kind: str
    role: str
    activation: str = "linear"
    activation_params: dict[str, Any] = field(default_factory=dict)
    glu: str | None = None
    residual_end: bool = False
    branch_norm: str | None = None
    branch_layers: tuple[str, ...] = ()
    is_output: bool = False
    calls: int = 0
    order: int = -1
    evidence: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": self.type,
            "kind": self.kind,
            "role": self.role,
            "activation": self.activation,
            "activation_params": dict(self.activation_params),
            "glu": self.glu,
            "residual_end": self.residual_end,
            "branch_norm": self.branch_norm,
            "branch_layers": list(self.branch_layers),
            "is_output": self.is_output,
            "calls": self.calls,
            "order": self.order,
            "evidence": list(self.evidence),
        }


@dataclass(frozen=True)
class Structure:
    """Discovery result for a whole model.

    Attributes:
        layers: module name → :class:`LayerInfo`, for every module that owns parameters.
        scalars: parameter name → ``"scalar_bias"`` / ``"scalar_scale"`` for parameters that
            container modules add to / multiply into the data flow directly (Fixup's scalars).
        recognized: parameter name → ``"weight"`` / ``"bias"`` for parameters of custom modules
            consumed by ``F.linear``/``F.conv*``/``F.embedding``/``F.layer_norm``...
        residual_ends: names of the layers that end a residual branch, in execution order.
        traced: whether a forward pass was traced (False when no example input was given).
        device: where the trace ran (``"meta"`` or ``"real"``).
        note: how the trace went (fallbacks).
        layouts: parameter name → how an op consumes it as a weight (:class:`WeightUse`), for
            weights whose layout is not the module's standard one (``x @ W``, ``addmm``,
            functional convs, per-expert matrices): their fans come from it.
        param_roles: parameter name → (role, reason) for parameters whose use the forward
            shows (``pos_embedding``, ``attn_bias``, ``log_param``, ``channel_scale``,
            ``softplus_bias``, ``learned_token``, ``router``, ``expert``).
        attn_scales: query layer → how its attention scales the logits q·kᵀ
            (:class:`~initlab.model.attn_scale.AttentionScale`; ``.unscaled``: no 1/√d_head,
            as T5), for the attentions whose scale the trace can read.
    """

    layers: dict[str, LayerInfo]
    scalars: dict[str, str]
    residual_ends: tuple[str, ...]
    traced: bool
    recognized: dict[str, str] = field(default_factory=dict)
    device: str = "meta"
    note: str = ""
    layouts: dict[str, WeightUse] = field(default_factory=dict)
    param_roles: dict[str, tuple[str, str]] = field(default_factory=dict)
    attn_scales: dict[str, AttentionScale] = field(default_factory=dict)

    def fans_of(self, name: str, shape: tuple[int, ...]) -> tuple[int, int] | None:
        """(fan_in, fan_out) of parameter ``name`` read from how the forward consumes it
        (per expert for batched expert weights), or None when its module's layout applies."""
        use = self.layouts.get(name)
        return use.fans(tuple(shape)) if use is not None else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "layers": {k: v.to_dict() for k, v in self.layers.items()},
            "scalars": dict(self.scalars),
            "residual_ends": list(self.residual_ends),
            "recognized": dict(self.recognized),
            "traced": self.traced,
            "device": self.device,
            "note": self.note,
            "layouts": {k: {"op": u.op, "kind": u.kind, "in_axes": list(u.in_axes),
                            "out_axes": list(u.out_axes), "batch_axes": list(u.batch_axes)}
                        for k, u in self.layouts.items()},
            "param_roles": {k: list(v) for k, v in self.param_roles.items()},
            "attn_scales": {k: v.to_dict() for k, v in self.attn_scales.items()},
        }


_STANDARD_AXES = {"linear": ((1,), (0,)), "embedding": ((), (1,))}


def _standard(u: WeightUse, ndim: int) -> bool:
    if u.batch_axes:
        return False
    if u.kind == "conv":
        return u.in_axes[:1] == (1,) and u.out_axes[:1] == (0,)
    if u.kind == "conv_transpose":
        return u.in_axes[:1] == (0,) and u.out_axes[:1] == (1,)
    return _STANDARD_AXES.get(u.kind) == (u.in_axes, u.out_axes) and ndim == 2


class _Analysis:
    def __init__(self, model: nn.Module, g: Graph) -> None:
        self.model = model
        self.g = g
        self.modules = dict(model.named_modules())
        self.kinds = {n: layer_kind(self.modules[n]) for n in g.atomic if n in self.modules}
        self.param_shapes = {n: tuple(p.shape) for n, p in model.named_parameters()}
        self.param_numel = {n: p.numel() for n, p in model.named_parameters()}
        self.recognized: dict[str, str] = {}
        self.layouts: dict[str, WeightUse] = {}
        self.evidence: dict[str, list[str]] = {}
        # node index of a MoE branch end → the other experts' output layers of that branch
        self._sibling_ends: dict[int, list[Node]] = {}
        first_ops = self._first_ops()
        self._collapse(first_ops)
        self._absorb_functional_norms()
        self._absorb_functional_layers()

    def _first_ops(self) -> dict[str, str]:
        """Parameter name → the first op that reads it past casts and views."""
        g, out = self.g, {}
        for v, pname in g.param_values.items():
            u = v
            for _ in range(6):
                cs = g.consumers.get(u, [])
                if not cs:
                    break
                c = self.node(cs[0])
                if c.func in _VIEW_OPS and c.outputs:
                    u = c.outputs[0]
                    continue
                out[pname] = c.func
                break
        return out

    def _collapse(self, first_ops: dict[str, str]) -> None:
        """Activation modules → one activation node; norm-like modules → one norm layer."""
        for name in collapse_modules(self.g, self.modules, self.kinds):
            self.kinds[name] = "norm"
            self.evidence.setdefault(name, []).append("its 1-D parameters scale a normalized "
                                                      "tensor: a norm")
            for local, _ in self.modules[name].named_parameters(recurse=False):
                pn = f"{name}.{local}" if name else local
                self.recognized[pn] = "bias" if first_ops.get(pn) in ("add", "sub") else "weight"

    def _absorb_functional_norms(self) -> None:
        """A custom module whose parameters ``F.layer_norm``/``F.rms_norm``/``F.group_norm``/
        ``F.bilinear`` consume is that kind of layer (nanoGPT's own ``LayerNorm`` class)."""
        g = self.g
        for n in g.nodes:
            kind = {"bilinear": "bilinear"}.get(n.func, "norm" if n.func in _NORM_OPS else "")
            pnames = [g.param_values[u] for u in n.inputs if u in g.param_values]
            if not kind or not pnames:
                continue
            owner = pnames[0].rpartition(".")[0]
            if owner not in self.modules or layer_kind(self.modules[owner]) != "custom":
                continue
            self.kinds[owner] = kind
            for i, pn in enumerate(pnames):
                self.recognized[pn] = "weight" if i == 0 else "bias"
            n.func, n.module = "layer", owner
            n.inputs = tuple(u for u in n.inputs if u not in g.param_values)
            g.calls.setdefault(owner, []).append(n.index)
        g.rebuild_edges()

    def _absorb_functional_layers(self) -> None:
        """A weight consumed by ``F.linear``/``x @ W``/``addmm``/``F.conv*``/``F.embedding``/
        batched expert matmuls makes its consuming op a layer node: of its module when the module
        is custom or was never called (Hugging Face's ``Conv1D``, Mamba's functional conv), of
        the parameter itself when a custom module owns several such weights (MoE experts)."""
        g = self.g
        uses = weight_uses(g, self.param_shapes)
        by_owner: dict[str, set[str]] = {}
        for u in uses:
            by_owner.setdefault(u.param.rpartition(".")[0], set()).add(u.param)
        done: set[int] = set()
        for u in sorted(uses, key=lambda u: u.node):
            if not _standard(u, len(self.param_shapes[u.param])):
                self.layouts.setdefault(u.param, u)
            owner = u.param.rpartition(".")[0]
            if owner not in self.modules or u.node in done:
                continue
            is_custom = layer_kind(self.modules[owner]) == "custom"
            never_called = not is_custom and owner not in g.calls
            if not (is_custom or never_called):
                continue  # a called layer's weight also read elsewhere (a tied head): its own row
            n = self.node(u.node)
            if n.func == "layer":
                continue
            mname = owner if len(by_owner[owner]) == 1 or never_called else u.param
            self.kinds.setdefault(mname, u.kind)
            self.recognized[u.param] = "weight"
            drop = set(u.derived)
            for w in n.inputs:
                pn = g.param_values.get(w)
                if pn is not None and pn != u.param:
                    self.recognized.setdefault(pn, "bias")
                    drop.add(w)
                elif pn is None and self._param_derived(w):
                    drop.add(w)
            n.func, n.module = "layer", mname
            n.inputs = tuple(w for w in n.inputs if w not in drop)
            g.calls.setdefault(mname, []).append(n.index)
            self.evidence.setdefault(mname, []).append(
                f"weight read by {u.op} ({'functional use' if never_called else 'custom module'})")
            done.add(u.node)
        g.rebuild_edges()

    def _param_derived(self, v: int) -> bool:
        """Is ``v`` a parameter seen through casts/views (a bias read as ``self.bias.float()``)?"""
        for _ in range(4):
            if v in self.g.param_values:
                return True
            pi = self.g.producer.get(v)
            if pi is None or self.node(pi).func not in _VIEW_OPS or not self.node(pi).inputs:
                return False
            v = self.node(pi).inputs[0]
        return v in self.g.param_values

    # -- helpers -------------------------------------------------------------------------------
    def node(self, i: int) -> Node:
        return self.g.nodes[i]

    def is_norm_node(self, n: Node) -> bool:
        if n.func == "layer":
            return self.kinds.get(n.module) == "norm"
        return n.func in _NORM_OPS

    def weight_layer(self, n: Node) -> bool:
        return n.func == "layer" and self.kinds.get(n.module) not in ("norm", "prelu")

    def _small_param(self, v: int) -> bool:
        """Is value ``v`` a parameter read directly by an op (a scale or bias in the forward)?"""
        return v in self.g.param_values

    def transparent(self, n: Node, v: int) -> bool:
        """Does node ``n`` pass value ``v`` on unchanged for our purposes?"""
        if n.func in _VIEW_OPS or self.is_norm_node(n):
            return not n.inputs or n.inputs[0] == v or n.func in ("pad",)
        if n.func in _SCALE or n.func in _ADD or n.func == "sub":
            others = [u for u in n.inputs if u != v]
            # x * 0.5, x / √d, x * self.scale (a parameter), x + self.bias (a parameter)
            return all(self._small_param(u) for u in others)
        return False

    def forward_stops(
        self, v: int, *, through: frozenset[str] = frozenset()
    ) -> list[tuple[Node, int, list[str]]]:
        """First non-transparent consumers of ``v``: (node, value it consumed, norms passed)."""
        out: list[tuple[Node, int, list[str]]] = []
        seen = set()
        queue: deque[tuple[int, list[str]]] = deque([(v, [])])
        while queue:
            u, norms = queue.popleft()
            for ci in self.g.consumers.get(u, []):
                c = self.node(ci)
                if (ci, u) in seen:
                    continue
                seen.add((ci, u))
                if self.transparent(c, u) or c.func in through:
                    extra = [c.module] if c.func == "layer" and self.is_norm_node(c) else []
                    for w in c.outputs:
                        queue.append((w, norms + extra))
                else:
                    out.append((c, u, norms))
        return out

    def backward_source(
        self, v: int, *, through: frozenset[str] = frozenset()
    ) -> tuple[Node | None, int, list[str]]:
        """Follow ``v`` back through transparent nodes: (producing node, value, norms passed)."""
        norms: list[str] = []
        while True:
            pi = self.g.producer.get(v)
            if pi is None:
                return None, v, norms
            p = self.node(pi)
            main = self._main_input(p)
            if main is not None and (self.transparent(p, main) or p.func in through):
                if p.func == "layer" and self.is_norm_node(p):
                    norms.append(p.module)
                v = main
                continue
            return p, v, norms

    def upstream_layers(self, v: int, max_depth: int = 12) -> set[str]:
        """The weight layers nearest upstream of ``v`` through any op (rotary embeddings, q/k
        norms), at most ``max_depth`` ops away, never through a layer."""
        out: set[str] = set()
        stack, seen = [(v, 0)], set()
        while stack:
            u, d = stack.pop()
            if u in seen or d > max_depth:
                continue
            seen.add(u)
            pi = self.g.producer.get(u)
            if pi is None:
                continue
            p = self.node(pi)
            if self.weight_layer(p):
                out.add(p.module)
            else:
                stack.extend((w, d + 1) for w in p.inputs if w not in self.g.param_values)
        return out

    def _main_input(self, n: Node) -> int | None:
        for u in n.inputs:
            if u not in self.g.param_values:
                return u
        return None

    def is_ancestor(self, a: int, targets: Iterable[int]) -> bool:
        """Is value ``a`` an ancestor of (or equal to) any of ``targets``?"""
        stack = [t for t in targets if t >= a]
        seen = set()
        while stack:
            u = stack.pop()
            if u == a:
                return True
            if u in seen or u < a:
                continue
            seen.add(u)
            pi = self.g.producer.get(u)
            if pi is not None:
                stack.extend(w for w in self.node(pi).inputs if w >= a)
        return False

    # -- analysis ------------------------------------------------------------------------------
    def run(self) -> Structure:
        """Stages: first calls → activations → residual ends → outputs → attention roles →
        scalars and parameter roles → one :class:`LayerInfo` per module."""
        self.first = self._first_calls()
        self.facts: dict[str, dict[str, Any]] = {
            name: {"evidence": list(self.evidence.get(name, []))} for name in self.kinds
        }
        self._ancestor_bits()
        self._find_activations()
        residual_ends = self._find_residual_ends()
        self._find_outputs()
        self._attention(self.facts)
        self._routers()
        scalars = self._scalars()
        param_roles = self._param_roles()
        return Structure(
            layers=self._layer_infos(),
            scalars=scalars,
            recognized=dict(self.recognized),
            residual_ends=tuple(residual_ends),
            traced=True,
            device=self.g.device,
            note=self.g.note,
            layouts=dict(self.layouts),
            param_roles=param_roles,
            attn_scales=self._attn_scales(),
        )

    def _attn_scales(self) -> dict[str, AttentionScale]:
        """Query layer → its attention's logit scale (see :mod:`initlab.model.attn_scale`)."""
        def linear_upstream(v: int) -> set[str]:
            return {m for m in self.upstream_layers(v) if self.kinds.get(m) == "linear"}

        return by_query(attention_scales(self.g, linear_upstream))

    def _first_calls(self) -> dict[str, Node]:
        first: dict[str, Node] = {}
        for n in self.g.nodes:
            if n.func == "layer" and n.module not in first:
                first[n.module] = n
        return first

    def _ancestor_bits(self) -> None:
        """Per value, a bitset of the weight layers upstream of it (branch membership)."""
        self.bit: dict[str, int] = {}
        self.anc: dict[int, int] = {}
        for n in self.g.nodes:
            acc = 0
            for u in n.inputs:
                acc |= self.anc.get(u, 0)
            if self.weight_layer(n):
                acc |= 1 << self.bit.setdefault(n.module, len(self.bit))
            for w in n.outputs:
                self.anc[w] = acc

    def _find_activations(self) -> None:
        facts = self.facts
        for name, n in self.first.items():
            if self.kinds.get(name) in ("norm", "prelu") or not n.outputs:
                continue
            f = facts[name]
            if f.get("glu") == "value":
                continue
            act, params, glu, value_layer = self._activation_after(n)
            f["activation"], f["activation_params"] = act, params
            if glu:
                f["glu"] = glu
                f["evidence"].append(f"gated unit {act}")
                if value_layer is not None and value_layer in facts:
                    facts[value_layer].update(
                        activation=act, activation_params=params, glu="value"
                    )

    def _find_residual_ends(self) -> list[str]:
        ends: list[str] = []
        for n in self.g.nodes:
            if n.func not in _ADD or len(n.inputs) != 2:
                continue
            a, b = n.inputs
            for x, y in ((a, b), (b, a)):
                found = self._residual_pair(x, y)
                if found is None:
                    continue
                layer, fork, norms = found
                self._mark_residual_end(layer, fork, norms, ends)
                break
        return ends

    def _residual_pair(self, x: int, y: int) -> tuple[Node, int, list[str]] | None:
        """(branch's last layer, fork value, norms passed) if ``x + y`` closes a branch."""
        src, _, norms = self.backward_source(x)
        if src is not None and not self.weight_layer(src):
            expert = self._combined_expert(x)
            if expert is not None:  # a mixture-of-experts block ends the branch
                _, y_root, _ = self.backward_source(y)
                return (expert, y_root, norms) if self.is_ancestor(y_root, expert.inputs) else None
        if src is None or not self.weight_layer(src) or self.kinds.get(src.module) == "embedding":
            return None
        ssrc, y_root, _ = self.backward_source(y)
        if self.is_ancestor(y_root, src.inputs):
            return src, y_root, norms
        if ssrc is None or not self.weight_layer(ssrc) or ssrc.index == src.index:
            return None
        s_root = self.backward_source(ssrc.inputs[0])[1] if ssrc.inputs else -1
        l_roots = {self.backward_source(u)[1] for u in src.inputs}
        if s_root >= 0 and s_root not in l_roots and self.is_ancestor(s_root, src.inputs):
            self.facts[ssrc.module].setdefault("shortcut", True)
            return src, s_root, norms
        return None

    def _combined_expert(self, v: int, max_depth: int = 64) -> Node | None:
        """The expert output layer behind ``v`` when ``v`` is a mixture-of-experts combination
        (routing weights multiplied in, top-k slots summed, tokens put back: :data:`_COMBINE`
        ops only), e.g. Mixtral's fused ``experts.down_proj`` read by ``_grouped_mm``, or one
        of ``experts.#.w2`` (a ``ModuleList`` of expert MLPs: the others are kept in
        ``_sibling_ends``); None when the ops on the way are anything else or lead to layers
        that are not one weight or siblings of one list."""
        found: dict[str, Node] = {}  # by module: a loop over experts reads one weight E times
        stack, seen = [(v, 0)], set()
        while stack:
            u, d = stack.pop()
            pi = self.g.producer.get(u)
            if pi is None or pi in seen or d > max_depth:
                continue
            seen.add(pi)
            p = self.node(pi)
            if self.weight_layer(p):
                if p.module not in found or p.index > found[p.module].index:
                    found[p.module] = p
            elif p.func in _COMBINE:
                stack.extend((w, d + 1) for w in p.inputs if w not in self.g.param_values)
        nodes = sorted(found.values(), key=lambda n: n.index)
        if not nodes or len({_BLOCK_INDEX.sub(".#", n.module) for n in nodes}) != 1:
            return None
        if len(nodes) > 1 and len({n.module for n in nodes}) != len(nodes):
            return None
        if any(n.module not in self.facts or not n.outputs for n in nodes):
            return None
        last = nodes[-1]
        self._sibling_ends[last.index] = nodes[:-1]
        return last

    def _mark_residual_end(self, layer: Node, fork: int, norms: list[str], ends: list[str]) -> None:
        """Mark ``layer`` as ending the branch that forks at ``fork`` (and the other experts of
        a ``ModuleList`` MoE with it: they end the same branch, counted once in ``ends``)."""
        if self.facts[layer.module].get("residual_end"):
            return
        for node in (layer, *self._sibling_ends.pop(layer.index, [])):
            f = self.facts[node.module]
            f["residual_end"] = True
            f["branch_norm"] = norms[-1] if norms else None
            bits = self.anc.get(node.outputs[0], 0) & ~self.anc.get(fork, 0)
            names = {b: m for m, b in self.bit.items()}
            members = [names[i] for i in range(len(self.bit)) if bits >> i & 1]
            members.sort(key=lambda m: self.first[m].index)
            f["branch_layers"] = tuple(members)
            f["evidence"].append("output added to its branch input"
                                 if node is layer else "an expert ending the same branch")
        ends.append(layer.module)

    def _find_outputs(self) -> None:
        through = frozenset(_OUTPUT_OPS)
        for v in self.g.output_values:
            src, _, _ = self.backward_source(v, through=through)
            if src is not None and src.func == "layer" and src.module in self.facts:
                if self.kinds.get(src.module) != "norm":
                    self.facts[src.module]["is_output"] = True

    def _routers(self) -> None:
        """A Linear whose output picks experts (top-k of its scores) is a router."""
        for name, n in self.first.items():
            if self.kinds.get(name) != "linear" or not n.outputs:
                continue
            if self._reaches(n.outputs[0], frozenset({"topk"}), 4):
                self.facts[name]["role"] = "router"
                self.facts[name]["evidence"].append("its scores choose experts (top-k)")

    def _reaches(self, v: int, funcs: frozenset[str], depth: int) -> bool:
        frontier, seen = [v], set()
        for _ in range(depth):
            nxt = []
            for u in frontier:
                for ci in self.g.consumers.get(u, []):
                    c = self.node(ci)
                    if c.func in funcs:
                        return True
                    if ci not in seen and c.func != "layer":
                        seen.add(ci)
                        nxt.extend(c.outputs)
            frontier = nxt
        return False

    def _scalars(self) -> dict[str, str]:
        """Scalars (numel 1) that container modules add to / multiply into the data flow."""
        scalars: dict[str, str] = {}
        for v, pname in self.g.param_values.items():
            if self.param_numel.get(pname, 0) != 1:
                continue
            for ci in self.g.consumers.get(v, []):
                c = self.node(ci)
                if c.func in _ADD or c.func == "sub":
                    scalars.setdefault(pname, "scalar_bias")
                elif c.func in _SCALE:
                    scalars.setdefault(pname, "scalar_scale")
        return scalars

    def _param_roles(self) -> dict[str, tuple[str, str]]:
        roles: dict[str, tuple[str, str]] = {}
        self._embedding_roles(roles)
        for v, pname in self.g.param_values.items():
            owner = pname.rpartition(".")[0]
            if pname in self.recognized or self.kinds.get(owner) in ("norm",) \
                    or self.param_numel.get(pname, 0) <= 1:  # fmt: skip
                continue
            found = self._role_of_direct(v, pname)
            if found:
                roles[pname] = found
        for name, u in self.layouts.items():
            if u.batch_axes and name not in roles:
                roles[name] = ("expert", f"one matrix per expert (axis {u.batch_axes[0]}), read "
                               f"by {u.op}: fans per expert")
        return roles

    def _role_of_direct(self, v: int, pname: str) -> tuple[str, str] | None:
        """The role of a parameter an op reads directly (not a layer's weight)."""
        c, _ = self._first_consumer(v)
        if c is None:
            return None
        nd = len(self.param_shapes.get(pname, ()))
        if c.func in ("exp", "softplus", "sigmoid", "log"):
            return "log_param", (f"read through {c.func} in the forward (a log/softplus "
                                 "parametrization, e.g. an SSM's A = −exp(A_log)): the model's "
                                 "own values kept")
        if c.func in _ADD and nd == 1 and c.outputs and self._reaches(
                c.outputs[0], frozenset({"softplus"}), 3):  # fmt: skip
            return "softplus_bias", ("bias before a softplus (a time-step / rate "
                                     "parametrization): the model's own values kept")
        if c.func in _ADD and nd >= 2:
            return "pos_embedding", "a learned table added to the stream: position embedding"
        if c.func == "mul" and nd == 1:
            return "channel_scale", ("a per-channel scale on the data flow (layer scale, skip "
                                     "coefficient): the model's own values kept")
        if c.func in ("cat", "concat", "expand") and nd >= 2:
            return "learned_token", "a learned token concatenated to the sequence: own init kept"
        return None

    def _first_consumer(self, v: int) -> tuple[Node | None, int]:
        u = v
        for _ in range(6):
            cs = self.g.consumers.get(u, [])
            if not cs:
                return None, u
            c = self.node(cs[0])
            if c.func in _VIEW_OPS and c.func != "expand" and c.outputs:
                u = c.outputs[0]
                continue
            return c, u
        return None, u

    def _embedding_roles(self, roles: dict[str, tuple[str, str]]) -> None:
        """An embedding whose index does not come from the model's inputs is indexed by
        positions: a position embedding, or a relative attention bias when it feeds a softmax."""
        from_input = self._input_derived()
        for name, n in self.first.items():
            if self.kinds.get(name) != "embedding" or not n.inputs:
                continue
            if n.inputs[0] in from_input:
                continue
            pname = f"{name}.weight" if name else "weight"
            attn = frozenset({"softmax", "scaled_dot_product_attention"})
            if n.outputs and self._reaches(n.outputs[0], attn, 24):
                roles[pname] = ("attn_bias", "embedding of relative positions added to the "
                                "attention scores: the model's own init kept")
            else:
                roles[pname] = ("pos_embedding", "embedding indexed by positions (its index does "
                                "not depend on the input)")

    def _input_derived(self) -> set[int]:
        out = set(self.g.input_values)
        for n in self.g.nodes:
            if any(u in out for u in n.inputs):
                out.update(n.outputs)
        return out

    def _layer_infos(self) -> dict[str, LayerInfo]:
        g, facts, first = self.g, self.facts, self.first
        counts = {m: len(ix) for m, ix in g.calls.items()}
        mlp_outs = {
            m for m, f in facts.items()
            if f.get("residual_end") and self.kinds.get(m) == "linear"
            and self._input_is_activation(first.get(m))
        }  # fmt: skip
        layers: dict[str, LayerInfo] = {}
        for name in self._param_modules():
            module = self.modules.get(name) or self.modules[name.rpartition(".")[0]]
            kind = self.kinds.get(name) or layer_kind(module)
            f = facts.get(name, {"evidence": []})
            layers[name] = LayerInfo(
                name=name,
                type=type(module).__name__,
                kind=kind,
                role=self._role(name, kind, f, first, mlp_outs),
                activation=f.get("activation", "linear"),
                activation_params=dict(f.get("activation_params", {})),
                glu=f.get("glu"),
                residual_end=bool(f.get("residual_end")),
                branch_norm=f.get("branch_norm"),
                branch_layers=tuple(f.get("branch_layers", ())),
                is_output=bool(f.get("is_output")),
                calls=counts.get(name, 0),
                order=first[name].index if name in first else -1,
                evidence=tuple(f.get("evidence", ())),
            )
        return layers

    def _param_modules(self) -> list[str]:
        out = []
        for name, m in self.model.named_modules():
            if any(True for _ in m.parameters(recurse=False)) or name in self.kinds:
                out.append(name)
        # per-parameter layers (a custom module with several functional weights: MoE experts)
        out.extend(n for n in self.kinds if n not in self.modules)
        return out

    def _input_is_activation(self, n: Node | None) -> bool:
        if n is None or not n.inputs:
            return False
        src, _, _ = self.backward_source(n.inputs[0])
        return src is not None and (src.func in _ACT_OPS or src.func == "mul")

    def _activation_after(self, n: Node) -> tuple[str, dict[str, Any], str | None, str | None]:
        stops = self.forward_stops(n.outputs[0])
        for c, _, _ in stops:
            act = None
            params: dict[str, Any] = {}
            if c.func in _ACT_OPS or "module" in c.params:  # an op, or a collapsed module
                act = _ACT_OPS.get(c.func, c.func)
                params = {k: v for k, v in c.params.items() if k not in ("scalars", "module")}
                act, params = _rectifier_name(act, params)
                if act == "gelu" and params.get("approximate", "none") == "none":
                    params = {}
            elif c.func == "layer" and self.kinds.get(c.module) == "prelu":
                act = "prelu"
                init = getattr(self.modules[c.module], "init", 0.25)
                params = {"init": float(init)}
            if act is None:
                continue
            if act == "glu":
                return "glu", {}, "packed", None
            # a gated unit: φ(W1 x) * (W3 x)
            for m, used, _ in self.forward_stops(c.outputs[0]):
                if m.func != "mul" or len(m.inputs) != 2:
                    continue
                other = m.inputs[1] if m.inputs[0] == used else m.inputs[0]
                osrc, _, _ = self.backward_source(other)
                if osrc is not None and osrc.func == "layer" and self.weight_layer(osrc):
                    glu_name = GLU_PRODUCTS.get(act)
                    if glu_name is None:
                        continue
                    gparams = {"approximate": params["approximate"]} if params else {}
                    if osrc.index == n.index:
                        return glu_name, gparams, "packed", None
                    return glu_name, gparams, "gate", osrc.module
            return act, params, None, None
        return "linear", {}, None, None

    def _attention(self, facts: dict[str, dict[str, Any]]) -> None:
        """q/k/v/out roles from fused attention (SDPA) or softmax(q @ kᵀ) @ v."""
        found: dict[str, set[str]] = {}
        for n in self.g.nodes:
            if n.func == "scaled_dot_product_attention":
                for i, role in enumerate(("attn_q", "attn_k", "attn_v")[: len(n.inputs)]):
                    self._mark_upstream(found, n.inputs[i], role)
                self._mark_out(found, n.outputs[0])
            elif n.func == "softmax" and n.inputs:
                self._softmax_attention(found, n)
        for m, roles in found.items():
            role = _attention_role(roles)
            if role:
                facts[m]["role"] = role

    def _mark_upstream(self, found: dict[str, set[str]], v: int, role: str) -> None:
        """The nearest Linear layers upstream, through any op (rotary embeddings, q/k norms)."""
        for m in self.upstream_layers(v):
            if self.kinds.get(m) == "linear":
                found.setdefault(m, set()).add(role)

    def _mark_out(self, found: dict[str, set[str]], v: int) -> None:
        for c, _, _ in self.forward_stops(v):
            if c.func == "layer" and self.kinds.get(c.module) == "linear":
                found.setdefault(c.module, set()).add("attn_out")

    def _softmax_attention(self, found: dict[str, set[str]], n: Node) -> None:
        src, _, _ = self.backward_source(n.inputs[0])
        if src is None or src.func not in _MATMUL or len(src.inputs) < 2:
            qk = logits_product(self.g, n.inputs[0])  # through a position bias/mask (T5)
            if qk is None:
                return
            src = self.node(qk[0])
        self._mark_upstream(found, src.inputs[0], "attn_q")
        self._mark_upstream(found, src.inputs[1], "attn_k")
        for c, used, _ in self.forward_stops(n.outputs[0]):
            if c.func in _MATMUL and len(c.inputs) >= 2:
                other = c.inputs[1] if c.inputs[0] == used else c.inputs[0]
                self._mark_upstream(found, other, "attn_v")
                self._mark_out(found, c.outputs[0])

    def _role(
        self,
        name: str,
        kind: str,
        f: dict[str, Any],
        first: dict[str, Node],
        mlp_outs: set[str],
    ) -> str:
        if kind in ("embedding", "norm", "recurrent"):
            return kind
        if kind == "attention":
            return "attention"
        if kind == "prelu":
            return "activation"
        if kind == "custom":
            return "custom"
        if f.get("is_output"):
            return "classifier" if kind in ("linear", "bilinear") else "output"
        if "role" in f:
            return str(f["role"])
        if name in mlp_outs:
            return "mlp_out"
        if kind == "linear" and f.get("activation", "linear") != "linear":
            n = first.get(name)
            if n is not None:
                through = frozenset(_ACT_OPS) | {"mul"}
                for c, _, _ in self.forward_stops(n.outputs[0], through=through):
                    if c.func == "layer" and c.module in mlp_outs:
                        return "mlp_in"
        if f.get("shortcut") and not f.get("residual_end"):
            return "shortcut"
        return kind


def _attention_role(roles: set[str]) -> str | None:
    """One role from the attention uses a layer was found in."""
    qkv = roles - {"attn_out"}
    if roles == {"attn_out"}:
        return "attn_out"
    if {"attn_q", "attn_k", "attn_v"} <= roles or len(qkv) > 1:
        return "attn_qkv"
    return next(iter(qkv)) if qkv else None


def discover(model: nn.Module, example_input: Any = None) -> Structure:
    """Discover what each parameterized layer of ``model`` does, from one traced forward pass.

    Args:
        model: the model (not modified; an ``nn.DataParallel``/DDP wrapper is looked through).
        example_input: what ``model(...)`` takes: a tensor, a tuple of arguments or a dict of
            keyword arguments. Its values are not used on the meta device, only shapes/dtypes.
            ``None``: no trace; every layer is assumed linear (no activation, no residual).

    Returns:
        A :class:`Structure`.

    Examples:
        >>> import torch
        >>> from torch import nn
        >>> s = discover(nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8), nn.ReLU()),
        ...              torch.randn(2, 3, 8, 8))
        >>> s.layers["0"].activation  # found through the BatchNorm
        'relu'
    """
    model = unwrap(model)
    if example_input is None:
        layers = {}
        for name, m in model.named_modules():
            if any(True for _ in m.parameters(recurse=False)):
                kind = layer_kind(m)
                role = {"prelu": "activation"}.get(kind, kind)
                layers[name] = LayerInfo(
                    name, type(m).__name__, kind, role, evidence=("not traced",)
                )
        return Structure(layers, {}, (), traced=False, device="none",
                         note="no example_input: activations and residual branches not traced")
    g = trace_model(model, example_input)
    return _Analysis(model, g).run()


def unwrap_with_notes(model: nn.Module) -> tuple[nn.Module, list[str]]:
    """The module initlab works on, and notes on what was looked through.

    ``nn.DataParallel`` / ``DistributedDataParallel`` give their ``.module``; a ``torch.compile``d
    model (``OptimizedModule``) gives its original eager module ``._orig_mod`` (hooks and traces
    run eagerly: the compiled graph would skip or bake them in). A TorchScript module is refused
    with a clear error: its forward runs in the TorchScript interpreter, which takes no Python
    hooks and no ``TorchFunctionMode``.

    Raises:
        InitError: a ``torch.jit.ScriptModule``.

    Examples:
        >>> m, notes = unwrap_with_notes(nn.DataParallel(nn.Linear(2, 2)))
        >>> type(m).__name__, notes
        ('Linear', ['unwrapped DataParallel: used its .module'])
    """
    notes: list[str] = []
    for _ in range(8):
        if isinstance(model, torch.jit.ScriptModule):
            raise InitError(
                f"{type(model).__name__}: a TorchScript module runs outside Python, so initlab "
                "cannot trace or hook it; pass the eager module (before torch.jit.script/trace) "
                "and script it afterwards"
            )
        if isinstance(model, nn.DataParallel | nn.parallel.DistributedDataParallel):
            notes.append(f"unwrapped {type(model).__name__}: used its .module")
            model = model.module
            continue
        orig = getattr(model, "_orig_mod", None)
        if isinstance(orig, nn.Module):
            notes.append(
                "torch.compile'd model: used its original eager module (._orig_mod); "
                "the compiled graph itself cannot carry per-layer hooks"
            )
            model = orig
            continue
        break
    return model, notes


def unwrap(model: nn.Module) -> nn.Module:
    """:func:`unwrap_with_notes` without the notes."""
    return unwrap_with_notes(model)[0]


__all__ = ["LayerInfo", "Structure", "discover", "layer_kind", "unwrap", "unwrap_with_notes"]
