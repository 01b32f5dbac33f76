"""How each attention scales its logits q·kᵀ, read off the traced ops.

Scaled dot-product attention divides the logits by √d_head (Vaswani et al. 2017, sec. 3.2.1)
so that, with unit-variance q and k entries, the logits have unit variance. Some models leave
the factor out and fold it into the query's init instead: T5 computes ``q @ kᵀ + bias`` with no
division, and Hugging Face's ``T5PreTrainedModel._init_weights`` draws the query projection with
std (d_model·d_kv)^(−1/2) against d_model^(−1/2) for keys and values. A fan-in init of such a
query makes the logits √d_head too large and the softmax near one-hot.

:func:`attention_scales` finds, for every attention in the graph, the constant that multiplies
q·kᵀ before the softmax: SDPA's ``scale`` argument (None: 1/√d), constants multiplied or divided
between the ``matmul`` and the ``softmax`` (additive biases and masks pass), and constants
applied to q or k on their way from the projection. A scale the trace cannot read (a tensor, a
learned scalar, ``baddbmm``'s ``alpha``) leaves that attention out: only a scale that is known
is ever reported.

Examples:
    >>> import torch
    >>> from torch import nn
    >>> from initlab.model.structure import discover
    >>> class Unscaled(nn.Module):  # T5's attention: no 1/√d_head
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.q, self.k, self.v = nn.Linear(16, 16), nn.Linear(16, 16), nn.Linear(16, 16)
    ...     def forward(self, x):
    ...         a = torch.softmax(self.q(x) @ self.k(x).transpose(-1, -2), dim=-1)
    ...         return a @ self.v(x)
    >>> s = discover(Unscaled(), torch.randn(2, 5, 16)).attn_scales["q"]
    >>> s.d_head, s.scale, round(s.excess, 3)
    (16, 1.0, 4.0)
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from initlab.model.trace import Graph

#: Ops that move or cast the logits without changing their scale.
_PASS = frozenset(
    {
        "view", "reshape", "flatten", "unflatten", "permute", "transpose", "contiguous",
        "squeeze", "unsqueeze", "clone", "to", "float", "half", "bfloat16", "double", "type_as",
        "type", "getitem", "split", "chunk", "unbind", "narrow", "select", "t", "T", "mT",
        "movedim", "moveaxis", "view_as", "reshape_as", "detach", "dropout", "masked_fill",
        "expand", "repeat_interleave", "tensor_split", "swapaxes",
    }
)  # fmt: skip
#: Ops that add a bias or mask to the logits (any input may carry them).
_ADDITIVE = frozenset({"add", "sub", "where"})
_SCALE = frozenset({"mul", "div", "truediv"})
_QK = frozenset({"matmul", "bmm"})
#: An attention whose logits exceed the 1/√d_head-scaled ones by more than this factor is
#: "unscaled" (T5: √d_head, ≥ √4 = 2 for any d_head ≥ 4); 1.5 leaves room for a scale chosen
#: a little above 1/√d (µP's 1/d is below, and not flagged).
UNSCALED_EXCESS = 1.5


@dataclass(frozen=True)
class AttentionScale:
    """The constant that multiplies one attention's logits q·kᵀ.

    Attributes:
        queries: the Linear layers the query comes from.
        d_head: the length of each query·key dot product.
        scale: the known constant multiplying q·kᵀ (1/√d_head in standard attention).
        op: ``scaled_dot_product_attention`` or ``softmax`` (a written-out attention).
    """

    queries: tuple[str, ...]
    d_head: int
    scale: float
    op: str

    @property
    def excess(self) -> float:
        """How much larger than 1/√d_head-scaled logits these are (1: standard attention)."""
        return self.scale * math.sqrt(self.d_head)

    @property
    def unscaled(self) -> bool:
        """Logits larger than scaled attention's by more than :data:`UNSCALED_EXCESS`."""
        return self.excess > UNSCALED_EXCESS

    def to_dict(self) -> dict[str, Any]:
        return {"queries": list(self.queries), "d_head": self.d_head, "scale": self.scale,
                "op": self.op, "excess": self.excess}  # fmt: skip


def _const(g: Graph, n: Any, main: int) -> float | None:
    """The constant ``n`` multiplies ``main`` by (x * c, x / c), or None when not known."""
    if any(u != main for u in n.inputs) or list(n.inputs).count(main) != 1:
        return None  # a tensor operand (a learned scale, a 0-d tensor): value unknown
    sc = n.params.get("scalars", ())
    if len(sc) != 1 or not sc[0]:
        return None
    c = float(sc[0])
    return c if n.func == "mul" else 1.0 / c


def _past_views(g: Graph, v: int) -> tuple[Any, int]:
    """The first producer of ``v`` that is not a cast or view (None at an input), and the
    value it made."""
    for _ in range(32):
        pi = g.producer.get(v)
        if pi is None:
            return None, v
        n = g.nodes[pi]
        if n.func not in _PASS or not n.inputs:
            return n, v
        v = n.inputs[0]
    return None, v


def _side_scale(g: Graph, v: int, depth: int = 12) -> float | None:
    """The constants applied to q (or k) between its projection and the q·kᵀ product: views
    and x * c / x / c are followed; any other op (the projection, rotary embeddings, a norm)
    ends the chain. None: a scale by a value the trace cannot read."""
    f = 1.0
    for _ in range(depth):
        n, v = _past_views(g, v)
        if n is None:
            return f
        if n.func in _SCALE and n.inputs:
            if len(n.inputs) == 1:
                c = _const(g, n, n.inputs[0])
                if c is None:
                    return None
                f *= c
                v = n.inputs[0]
                continue
            if any(_numel(g, u) == 1 for u in n.inputs):
                return None  # x * a scalar tensor (a learned or computed scale): unknown
            return f  # x * cos (rotary embeddings): not a scale of the logits
        return f
    return f


def _numel(g: Graph, v: int) -> int:
    return math.prod(g.shapes.get(v, (2,)))


def logits_product(g: Graph, v: int, depth: int = 16) -> tuple[int, float] | None:
    """From a softmax input back to the q·kᵀ product: (its node index, the constant multiplying
    it; NaN when a factor's value cannot be read), through casts, views, additive biases and
    masks, and scales. None: no ``matmul``/``bmm`` of two tensors found."""
    f = 1.0
    for _ in range(depth):
        n, v = _past_views(g, v)
        if n is None:
            return None
        if n.func in _QK and len(n.inputs) == 2:
            return n.index, f
        if n.func in _SCALE and len(n.inputs) == 1:
            c = _const(g, n, n.inputs[0])
            f = f * c if c is not None else math.nan
            v = n.inputs[0]
            continue
        if n.func in _ADDITIVE or n.func in _SCALE:
            for u in n.inputs:
                if u in g.param_values:
                    continue
                found = logits_product(g, u, depth - 1)
                if found is not None:
                    unknown = n.func in _SCALE  # x * a tensor: a scale the trace cannot read
                    return found[0], math.nan if unknown else f * found[1]
        return None
    return None


def attention_scales(
    g: Graph, upstream: Callable[[int], set[str]]
) -> list[AttentionScale]:
    """Every attention in ``g`` whose logit scale is known (see the module docstring).

    ``upstream(v)`` names the Linear layers nearest upstream of value ``v`` (the query's
    projection). Attentions without one are left out.
    """
    out: list[AttentionScale] = []
    for n in g.nodes:
        if n.func == "scaled_dot_product_attention" and len(n.inputs) >= 2:
            q, k = n.inputs[0], n.inputs[1]
            shape = g.shapes.get(q, ())
            s = n.params.get("scale", "tensor")
            if not shape or isinstance(s, str):
                continue
            d = int(shape[-1])
            scale = 1.0 / math.sqrt(d) if s is None else float(s)
            op = n.func
        elif n.func == "softmax" and n.inputs:
            found = logits_product(g, n.inputs[0])
            if found is None or not math.isfinite(found[1]):
                continue
            mm, scale = found
            q, k = g.nodes[mm].inputs
            qs, ks = g.shapes.get(q, ()), g.shapes.get(k, ())
            if len(qs) < 2 or len(ks) < 2 or qs[-1] != ks[-2]:
                continue
            d, op = int(qs[-1]), n.func
        else:
            continue
        qf, kf = _side_scale(g, q), _side_scale(g, k)
        queries = tuple(sorted(upstream(q)))
        if qf is None or kf is None or not queries or d < 1:
            continue
        out.append(AttentionScale(queries, d, scale * qf * kf, op))
    return out


def by_query(scales: list[AttentionScale]) -> dict[str, AttentionScale]:
    """Query layer → the attention it feeds with the largest logit excess."""
    out: dict[str, AttentionScale] = {}
    for s in scales:
        for q in s.queries:
            if q not in out or s.excess > out[q].excess:
                out[q] = s
    return out


__all__ = ["UNSCALED_EXCESS", "AttentionScale", "attention_scales", "by_query", "logits_product"]
