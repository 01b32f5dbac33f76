"""Attention logit scale on real architectures: T5 applies no 1/√d_head to q·kᵀ (Hugging Face
folds it into the query init), so ``auto`` scales T5's query std by 1/√d_head; GPT-2, Llama and
BERT scale their logits and keep the plain Xavier query."""

from __future__ import annotations

import math
import os

import pytest

os.environ["HF_HUB_OFFLINE"] = "1"
pytest.importorskip("transformers")

from tests.real.models import build

import initlab
from initlab.model import discover

T5_Q = "encoder.block.0.layer.0.SelfAttention.{}.weight"


@pytest.mark.parametrize("impl", ["sdpa", "eager"])
def test_t5_query_std_is_scaled_and_the_plan_says_why(impl) -> None:
    r = build("t5")  # d_model 32, d_kv 8
    r.model.set_attn_implementation(impl)  # SDPA(scale=1) or matmul · 1.0 + bias → softmax
    st = discover(r.model, r.example)
    assert len(st.attn_scales) == 6 and all(
        a.unscaled and a.d_head == 8 and a.scale == 1.0 for a in st.attn_scales.values())
    plan = initlab.plan(r.model, r.example)
    q, k, v = (plan[T5_Q.format(n)] for n in "qkv")
    assert q.role == "attn_q" and "attention logits unscaled: query std × 1/√d_head" in q.reason
    assert q.std == pytest.approx(k.std / math.sqrt(8))
    # here Xavier(32→32) is d_model^-½, so these are HF's T5 stds: q (d_model·d_kv)^-½, k/v
    # d_model^-½ (transformers' T5PreTrainedModel._init_weights)
    assert q.std == pytest.approx((32 * 8) ** -0.5) and k.std == v.std == pytest.approx(32**-0.5)


def test_t5_after_auto_has_no_attention_finding() -> None:
    r = build("t5")
    initlab.init(r.model, r.example)
    dx = initlab.doctor(r.model, r.example, loss_fn=lambda out: r.loss(out))
    assert "attention" not in dx.problems(), [str(f) for f in dx.findings]


@pytest.mark.parametrize(("name", "query"), [
    ("gpt2", "transformer.h.0.attn.c_attn"),
    ("llama", "model.layers.0.self_attn.q_proj"),
    ("bert", "bert.encoder.layer.0.attention.self.query"),
])  # fmt: skip
def test_scaled_attention_keeps_the_xavier_query(name, query) -> None:
    r = build(name)
    st = discover(r.model, r.example)
    a = st.attn_scales[query]
    assert a.excess == pytest.approx(1.0) and not a.unscaled
    row = initlab.plan(r.model, r.example, structure=st)[f"{query}.weight"]
    assert row.scheme.kind == "xavier" and row.scheme.get("gain", 1.0) == 1.0
    assert "unscaled" not in row.reason
    d = row.shape[1] if name != "gpt2" else row.shape[0]  # GPT-2's Conv1D stores (in, out)
    assert row.std == pytest.approx(math.sqrt(2 / (d + d)))  # Xavier, fans d → d per block
