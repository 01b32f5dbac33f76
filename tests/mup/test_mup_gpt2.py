"""μP on Hugging Face GPT-2, whose ``Conv1D`` stores its weight (in, out): the Table 3 stds from
the traced layout, the attention scale through ``mup.wrap`` (eager and SDPA), and a coordinate
check at three widths. Offline: models are built from config objects only."""

from __future__ import annotations

import math
import os

import pytest
import torch
from torch import nn

import initlab
from initlab.errors import InitError
from initlab.lab.coordcheck import coord_check

transformers = pytest.importorskip("transformers")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

CONV1D = ("attn.c_attn", "attn.c_proj", "mlp.c_fc", "mlp.c_proj")


def gpt2(width: int, impl: str = "sdpa") -> nn.Module:
    cfg = transformers.GPT2Config(n_embd=width, n_layer=1, n_head=4, vocab_size=64,
                                  n_positions=16, bos_token_id=0, eos_token_id=0,
                                  resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0)
    cfg._attn_implementation = impl
    return transformers.GPT2LMHeadModel(cfg)


X = torch.randint(0, 64, (2, 8), generator=torch.Generator().manual_seed(0))


def test_gpt2_conv1d_stds_follow_table3():
    """Hidden Conv1D weights: σ_base/√m_in with σ_base Xavier at the *base* layer as the forward
    uses it (fan_in = rows of the (in, out) weight). Xavier, not GPT-2's constant 0.02, so the
    std depends on the fans and a wrong (out, in) reading of the base would show (for c_fc the
    two readings differ by 2×)."""
    base, n = 32, 128
    pol = initlab.mup.policy(factory=gpt2, widths=(base, 64), init="xavier")
    model = gpt2(n)
    p = initlab.init(model, X, policy=pol, seed=0)
    t = initlab.mup.table(p)
    m = n / base
    # Xavier std √(2/(fan_in+fan_out)) at the base shape; c_attn per q/k/v block
    fans = {"attn.c_attn": (base, base), "attn.c_proj": (base, base),
            "mlp.c_fc": (base, 4 * base), "mlp.c_proj": (4 * base, base)}
    params = dict(model.named_parameters())
    for name, (fi, fo) in fans.items():
        full = f"transformer.h.0.{name}.weight"
        row = t[full]
        assert row.cls == "hidden" and row.m_in == pytest.approx(m)
        want = math.sqrt(2.0 / (fi + fo)) / math.sqrt(m)
        assert row.std == pytest.approx(want, rel=1e-9)
        w = params[full].detach()
        # sample std of N i.i.d. normals: relative sd ≈ 1/√(2N); 5 of those is a safe margin
        assert float(w.std()) == pytest.approx(want, rel=5 / math.sqrt(2 * w.numel()))


def _scaling_seen(model: nn.Module) -> list[float]:
    seen: list[float] = []
    attn = model.transformer.h[0].attn
    attn.register_forward_pre_hook(lambda mod, args: seen.append(mod.scaling))
    return seen


@pytest.mark.parametrize("impl", ["sdpa", "eager"])
def test_wrap_sets_gpt2_attention_to_one_over_d(impl):
    """μP's attention: logits × √d_base/d (1/d, equal to GPT-2's 1/√d at the base width), by
    the attention module's ``scaling`` attribute, which every implementation reads."""
    pol = initlab.mup.policy(factory=gpt2, widths=(32, 64))
    model = gpt2(128, impl)
    p = initlab.init(model, X, policy=pol, seed=0)
    t = initlab.mup.table(p)
    assert "attention_scale" in [c.kind for c in t.forward_changes]
    wrapped = initlab.mup.wrap(model, p)
    seen = _scaling_seen(model)
    with torch.no_grad():
        wrapped(X)
        model(X)
    d, d_base = 128 // 4, 32 // 4
    assert seen == pytest.approx([math.sqrt(d_base) / d, 1 / math.sqrt(d)])  # restored after
    base = gpt2(32, impl)
    pb = initlab.init(base, X, policy=pol, seed=0)
    with torch.no_grad():  # at the base width μP is the model itself
        torch.testing.assert_close(initlab.mup.wrap(base, pb)(X).logits, base(X).logits)


def test_wrap_gives_the_same_logits_under_eager_and_sdpa():
    pol = initlab.mup.policy(factory=gpt2, widths=(32, 64))
    out, state = [], None
    for impl in ("sdpa", "eager"):
        model = gpt2(128, impl)
        p = initlab.init(model, X, policy=pol, seed=0)
        if state is None:
            state = model.state_dict()
        else:  # the eager trace sees no SDPA, so its plan may differ: compare the same weights
            model.load_state_dict(state)
        with torch.no_grad():
            out.append((model(X).logits, initlab.mup.wrap(model, p)(X).logits))
    torch.testing.assert_close(out[0][0], out[1][0])
    torch.testing.assert_close(out[0][1], out[1][1], rtol=1e-4, atol=1e-5)
    assert not torch.allclose(out[0][0], out[0][1])


class _Attn(nn.Module):
    """Attention that uses SDPA when traced and computes logits by hand when ``manual``."""

    def __init__(self, w: int) -> None:
        super().__init__()
        self.emb, self.q, self.k, self.v = (nn.Linear(4, w), nn.Linear(w, w), nn.Linear(w, w),
                                            nn.Linear(w, w))
        self.num_heads, self.embed_dim, self.manual = 2, w, False

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.emb(x)
        q, k, v = (f(h).unflatten(-1, (2, -1)).transpose(1, 2) for f in (self.q, self.k, self.v))
        if self.manual:
            a = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(q.size(-1)), -1) @ v
        else:
            a = torch.nn.functional.scaled_dot_product_attention(q, k, v)
        return a.transpose(1, 2).flatten(-2)


def test_wrap_explains_attention_it_cannot_reach():
    x = torch.randn(2, 5, 4)
    pol = initlab.mup.policy(factory=_Attn, widths=(8, 16))
    model = _Attn(32)
    p = initlab.init(model, x, policy=pol, seed=0)
    wrapped = initlab.mup.wrap(model, p)
    assert wrapped(x).shape == (2, 5, 32)
    model.manual = True
    with pytest.raises(InitError, match="no scaled_dot_product_attention call"):
        wrapped(x)


def test_coordcheck_gpt2_sp_grows_mup_flat():
    """Tiny GPT-2 at widths 32/64/128, Adam lr 3e-2, 3 seeds: under SP (torch defaults, one lr)
    the Conv1D layers' outputs grow with width after one update; under μP they stay flat. The
    verdicts use the seeds' standard errors (a slope counts only when it is beyond 2 s.e. and
    the 0.25 threshold). μP's tied readout starts at size ∝ 1/√n (its embedding init N(0, σ²)
    summed over n coordinates, times the 1/m_in multiplier): slope −1/2 at step 0."""
    r = coord_check(gpt2, widths=(32, 64, 128), steps=3, seeds=3, lr=3e-2,
                    input_shape=(4, 16), name="gpt2")
    sp, mu = r.layer_verdicts("torch"), r.layer_verdicts("mup")
    for name in ("attn.c_attn", "mlp.c_fc", "mlp.c_proj"):
        assert sp[f"transformer.h.0.{name}"] == "grows with width", name
    assert r.verdicts["torch"] == "grows with width"
    for layer, verdict in mu.items():
        if layer != "lm_head":
            assert verdict == "stable", (layer, [r.slope("mup", layer, s) for s in range(3)])
    head0 = r.slope("mup", "lm_head", 0)
    assert head0.slope == pytest.approx(-0.5, abs=0.1 + 3 * head0.se)
    for s in (1, 2):
        h = r.slope("mup", "lm_head", s)
        assert h.slope < 2 * h.se, h  # never grows
