"""μP on transformers models built from tiny configs at several widths (which the ``mup``
package cannot do without rewriting their readout and attention)."""

from __future__ import annotations

import pytest
import torch

import initlab

transformers = pytest.importorskip("transformers")


def llama(width: int):
    cfg = transformers.LlamaConfig(hidden_size=width, intermediate_size=2 * width,
                                   num_hidden_layers=1, num_attention_heads=4,
                                   num_key_value_heads=2, vocab_size=64,
                                   max_position_embeddings=16)
    return transformers.LlamaForCausalLM(cfg)


def gpt2(width: int):
    cfg = transformers.GPT2Config(n_embd=width, n_layer=1, n_head=4, vocab_size=64,
                                  n_positions=16, bos_token_id=0, eos_token_id=0)
    return transformers.GPT2LMHeadModel(cfg)


X = torch.randint(0, 64, (2, 8), generator=torch.Generator().manual_seed(0))


def test_llama_table_and_wrap():
    torch.manual_seed(0)
    pol = initlab.mup.policy(factory=llama, widths=(32, 64))
    model = llama(128)
    p = initlab.init(model, X, policy=pol)
    t = initlab.mup.table(p)
    m = 4.0
    assert t["lm_head.weight"].cls == "output" and t["lm_head.weight"].lr_mult == 1 / m
    assert t["model.embed_tokens.weight"].cls == "input"
    for n in ("self_attn.q_proj", "self_attn.k_proj", "mlp.down_proj"):
        assert t[f"model.layers.0.{n}.weight"].cls == "hidden"
        assert t[f"model.layers.0.{n}.weight"].lr_mult == pytest.approx(1 / m)
    assert [c.kind for c in t.forward_changes] == ["attention_scale"]
    wrapped = initlab.mup.wrap(model, p)
    with torch.no_grad():
        a, b = model(X).logits, wrapped(X).logits
    assert not torch.allclose(a, b)  # head dim 32 vs base 8: the logits' scale changed
    base = llama(32)
    pb = initlab.init(base, X, policy=pol)
    with torch.no_grad():  # at the base width the μP scale is the model's own
        torch.testing.assert_close(base(X).logits, initlab.mup.wrap(base, pb)(X).logits)


def test_gpt2_conv1d_learning_rates():
    """GPT-2's Conv1D stores (in, out): both dimensions grow, so its class and lr do not depend
    on which one is fan_in."""
    pol = initlab.mup.policy(factory=gpt2, widths=(32, 64))
    model = gpt2(128)
    p = initlab.plan(model, X, policy=pol)
    t = initlab.mup.table(p)
    for n in ("attn.c_attn", "attn.c_proj", "mlp.c_fc", "mlp.c_proj"):
        row = t[f"transformer.h.0.{n}.weight"]
        assert row.cls == "hidden" and row.lr_mult == pytest.approx(0.25)
    assert t["lm_head.weight"].cls == "tied" and t["lm_head.weight"].multiplier == 0.25
    assert t["transformer.wpe.weight"].cls == "input"
    groups = initlab.param_groups(model, p, lr=1e-3)
    assert sorted(g["lr"] for g in groups) == pytest.approx([2.5e-4, 1e-3])
