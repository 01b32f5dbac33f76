"""Attention logit scale read off the trace (model/attn_scale.py) and the ``auto`` policy's
query correction for attention without 1/√d_head (T5)."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

import initlab
from initlab.model import discover
from initlab.model.attn_scale import UNSCALED_EXCESS, AttentionScale

D, H, T = 32, 4, 6  # model width, heads, sequence length: d_head = 8
DH = D // H


class Attn(nn.Module):
    """Multi-head self-attention whose logit scale is chosen by ``how``."""

    def __init__(self, how: str, packed: bool = False) -> None:
        super().__init__()
        self.how, self.packed = how, packed
        if packed:
            self.qkv = nn.Linear(D, 3 * D)
        else:
            self.q, self.k, self.v = nn.Linear(D, D), nn.Linear(D, D), nn.Linear(D, D)
        self.o = nn.Linear(D, D)
        self.gain = nn.Parameter(torch.ones(()))

    def heads(self, x: torch.Tensor) -> torch.Tensor:
        return x.view(x.shape[0], T, H, DH).transpose(1, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.packed:
            q, k, v = (self.heads(t) for t in self.qkv(x).split(D, dim=-1))
        else:
            q, k, v = self.heads(self.q(x)), self.heads(self.k(x)), self.heads(self.v(x))
        how, bias = self.how, torch.zeros(1, H, T, T)
        if how.startswith("sdpa"):
            scale = {"sdpa": None, "sdpa1": 1.0, "sdpa_mup": 1.0 / DH}[how]
            a = F.scaled_dot_product_attention(q, k, v, attn_mask=bias, scale=scale)
        else:
            if how == "q_side":
                q = q * DH**-0.5
            s = torch.matmul(q, k.transpose(-1, -2))
            if how == "div":
                s = s / math.sqrt(DH)
            elif how == "mul":
                s = s * DH**-0.5
            elif how == "tensor":
                s = s / torch.full([], DH**0.5)  # GPT-2's eager form: a value the trace can't read
            elif how == "learned":
                s = s * self.gain
            s = (s + bias).float()  # T5: + position bias, cast, softmax
            a = torch.matmul(F.softmax(s, dim=-1), v)
        return x + self.o(a.transpose(1, 2).reshape(x.shape))


def _x() -> torch.Tensor:
    return torch.randn(2, T, D)


@pytest.mark.parametrize(("how", "scale"), [
    ("none", 1.0), ("div", DH**-0.5), ("mul", DH**-0.5), ("q_side", DH**-0.5),
    ("sdpa", DH**-0.5), ("sdpa1", 1.0), ("sdpa_mup", 1.0 / DH),
])  # fmt: skip
def test_the_logit_scale_is_read_from_the_ops(how, scale) -> None:
    s = discover(Attn(how), _x()).attn_scales["q"]
    assert s.d_head == DH and s.scale == pytest.approx(scale)
    assert s.unscaled == (how in ("none", "sdpa1"))  # µP's 1/d is smaller, not unscaled


@pytest.mark.parametrize("how", ["tensor", "learned"])
def test_a_scale_the_trace_cannot_read_is_not_reported(how) -> None:
    assert discover(Attn(how), _x()).attn_scales == {}


def test_excess_is_scale_times_root_d() -> None:
    a = AttentionScale(("q",), 64, 1.0, "softmax")
    assert a.excess == 8.0 and a.unscaled
    assert not AttentionScale(("q",), 64, 1 / 8, "softmax").unscaled
    assert UNSCALED_EXCESS < math.sqrt(4)  # d_head 4 unscaled is already found


@pytest.mark.parametrize("how", ["none", "sdpa1"])
def test_auto_scales_the_query_of_unscaled_attention_only(how) -> None:
    plan = initlab.plan(Attn(how), _x())
    q, k, v = plan["q.weight"], plan["k.weight"], plan["v.weight"]
    assert q.std == pytest.approx(k.std / math.sqrt(DH))  # Xavier × 1/√d_head
    assert "attention logits unscaled: query std × 1/√d_head = 1/√8, as T5" in q.reason
    assert v.std == k.std and "unscaled" not in k.reason + v.reason
    scaled = initlab.plan(Attn("div"), _x())
    assert scaled["q.weight"].std == k.std and "unscaled" not in scaled["q.weight"].reason
    he = initlab.plan(Attn(how), _x(), policy="he")  # only auto folds the factor in
    assert he["q.weight"].std == he["k.weight"].std


def test_unscaled_attention_logits_get_unit_variance_after_auto() -> None:
    """q·kᵀ of unit-variance inputs through Xavier(32→32) projections has variance ≈ d_head
    unscaled; the corrected query brings it to ≈ 1 (what 1/√d_head gives)."""
    torch.manual_seed(0)
    m = Attn("none")
    initlab.init(m, _x())
    x = torch.randn(256, T, D)
    with torch.no_grad():
        s = m.heads(m.q(x)) @ m.heads(m.k(x)).transpose(-1, -2)
    # 256·4·36 logits, correlated within a row: ±25% is far wider than their sampling error
    assert float(s.var()) == pytest.approx(1.0, rel=0.25)


def test_packed_qkv_of_unscaled_attention_is_left_with_the_reason() -> None:
    row = initlab.plan(Attn("none", packed=True), _x())["qkv.weight"]
    assert row.role == "attn_qkv"
    assert "q is packed with k/v: not corrected" in row.reason
