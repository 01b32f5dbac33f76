"""μP init and learning rates against the paper's table (Yang et al. 2022, "Tensor Programs V",
Table 3), for an MLP and a transformer; parameter groups through torch.save; bad inputs."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

import initlab
from initlab.errors import InitError
from initlab.lab import zoo
from initlab.model.mup import attention_scale

D_IN, CLASSES, BASE, WIDE = 12, 5, 64, 256
M = WIDE / BASE  # the width multiplier of every infinite dimension


def mlp(width: int) -> nn.Module:
    return nn.Sequential(nn.Linear(D_IN, width), nn.ReLU(), nn.Linear(width, width), nn.ReLU(),
                         nn.Linear(width, CLASSES))


def _mlp_plan(width: int = WIDE, init: str = "auto", seed: int = 0):
    model = mlp(width)
    pol = initlab.mup.policy(factory=mlp, widths=(BASE, 2 * BASE), init=init)
    return model, initlab.init(model, torch.randn(4, D_IN), policy=pol, seed=seed)


# --------------------------------------------------------------------------------- MLP ----
def test_mlp_classes_and_init_stds_follow_table_3():
    """Table 3 init variances: input weights 1/fan_in (fan_in finite: width-independent),
    hidden 1/fan_in, output 1/fan_in² (relative to the base: × 1/m), biases as the base."""
    _, p = _mlp_plan()
    t = initlab.mup.table(p)
    assert [(r.name, r.cls) for r in t] == [
        ("0.weight", "input"), ("0.bias", "vector"), ("2.weight", "hidden"),
        ("2.bias", "vector"), ("4.weight", "output"), ("4.bias", "finite")]
    gain = math.sqrt(2.0)  # "auto" after ReLU: He (He et al. 2015)
    assert p["0.weight"].std == pytest.approx(gain / math.sqrt(D_IN), rel=1e-12)
    assert p["2.weight"].std == pytest.approx(gain / math.sqrt(WIDE), rel=1e-12)
    # the output layer: auto's N(0, 0.01²) at the base, × 1/m (Table 8's 1/fan_in absorbed)
    assert p["4.weight"].std == pytest.approx(0.01 / M, rel=1e-12)
    assert p["0.bias"].std == 0 and p["4.bias"].std == 0


def test_mlp_stds_scale_with_width_as_table_3():
    """Ratios between two widths: input 1, hidden 1/√m, output 1/m (the exponents of Table 3)."""
    _, small = _mlp_plan(BASE)
    _, wide = _mlp_plan(WIDE)
    r = {n: wide[n].std / small[n].std for n in ("0.weight", "2.weight", "4.weight")}
    assert r["0.weight"] == pytest.approx(1.0)
    assert r["2.weight"] == pytest.approx(M ** -0.5)
    assert r["4.weight"] == pytest.approx(M ** -1.0)


@pytest.mark.parametrize("opt, expected", [
    # Table 3, Adam LR row: input weights & biases 1, output 1/fan_in, hidden 1/fan_in
    ("adam", {"0.weight": 1, "0.bias": 1, "2.weight": 1 / M, "2.bias": 1, "4.weight": 1 / M,
              "4.bias": 1}),
    # Table 3, SGD LR row: input weights & biases fan_out, output 1/fan_in, hidden 1
    ("sgd", {"0.weight": M, "0.bias": M, "2.weight": 1, "2.bias": M, "4.weight": 1 / M,
             "4.bias": 1}),
])
def test_mlp_learning_rates_follow_table_3(opt, expected):
    _, p = _mlp_plan()
    t = initlab.mup.table(p, opt)
    assert {r.name: r.lr_mult for r in t} == pytest.approx(expected)
    assert not t.forward_changes  # an MLP needs no forward change: all absorbed


def test_at_the_base_width_mup_is_the_underlying_policy():
    """The point of μTransfer: at the base width μP and the tuned SP model coincide."""
    model = mlp(BASE)
    x = torch.randn(4, D_IN)
    mu = initlab.plan(model, x, policy=initlab.mup.policy(factory=mlp, widths=(BASE, 128),
                                                          init="torch"))
    sp = initlab.plan(model, x, policy="torch")
    for a, b in zip(mu, sp, strict=True):
        assert a.std == pytest.approx(b.std) and a.bound == pytest.approx(b.bound)


def test_written_weights_have_the_planned_std():
    """The drawn hidden weight's sample std vs the plan: n = 256² values; the relative standard
    error of a sample std is 1/√(2n) ≈ 0.28 %, so 4 SE = 1.1 %."""
    model, p = _mlp_plan(seed=3)
    w = model[2].weight.detach()
    assert float(w.std()) == pytest.approx(p["2.weight"].std, rel=4 / math.sqrt(2 * w.numel()))
    out = model[4].weight.detach()
    tol = 4 / math.sqrt(2 * out.numel())
    assert float(out.std()) == pytest.approx(p["4.weight"].std, rel=tol)


def test_zero_readout_and_base_delta_form():
    base, delta = mlp(BASE), mlp(2 * BASE)
    pol = initlab.mup.policy(base, delta, readout="zero")
    model = mlp(WIDE)
    p = initlab.init(model, torch.randn(2, D_IN), policy=pol)
    assert p["4.weight"].std == 0 and float(model[4].weight.detach().abs().max()) == 0
    # base alone: the planned model is the second build
    p2 = initlab.plan(model, torch.randn(2, D_IN), policy=initlab.mup.policy(base))
    assert initlab.mup.table(p2)["2.weight"].lr_mult == pytest.approx(1 / M)


# ------------------------------------------------------------------------- transformer ----
def gpt(width: int) -> nn.Module:
    return zoo.nano_gpt(n_layer=2, n_embd=width, n_head=4, vocab_size=96, block_size=16)


def test_transformer_classes_lrs_and_forward_changes():
    """nanoGPT: q/k/v, attention out and MLP matrices hidden (Adam lr 1/m, std ∝ 1/√fan_in),
    position embedding input (lr 1), LayerNorms vectors, token embedding tied to the readout:
    vector-like lr with a 1/m output multiplier (Table 8), attention logits 1/d (sec. 4)."""
    model = gpt(128)
    pol = initlab.mup.policy(factory=gpt, widths=(32, 64))
    p = initlab.init(model, model.example_input(2), policy=pol)
    t = initlab.mup.table(p)
    m = 128 / 32
    cls = {r.name: r.cls for r in t}
    assert cls["lm_head.weight"] == "tied"
    assert cls["transformer.wpe.weight"] == "input"
    assert cls["transformer.h.0.ln_1.weight"] == "vector"
    for name in ("attn.c_attn", "attn.c_proj", "mlp.c_fc", "mlp.c_proj"):
        row = t[f"transformer.h.1.{name}.weight"]
        assert row.cls == "hidden" and row.lr_mult == pytest.approx(1 / m)
    assert t["lm_head.weight"].lr_mult == 1 and t["lm_head.weight"].multiplier == 1 / m
    small = initlab.plan(gpt(32), gpt(32).example_input(2), policy=pol)
    ratio = p["transformer.h.0.mlp.c_fc.weight"].std / small["transformer.h.0.mlp.c_fc.weight"].std
    assert ratio == pytest.approx(m ** -0.5)
    kinds = sorted({c.kind for c in t.forward_changes})
    assert kinds == ["attention_scale", "output_multiplier"]


def test_wrap_applies_the_readout_multiplier_and_attention_scale():
    model = gpt(64)
    x = model.example_input(2)
    p = initlab.init(model, x, policy=initlab.mup.policy(factory=gpt, widths=(32, 48)))
    wrapped = initlab.mup.wrap(model, p)
    assert isinstance(wrapped, initlab.mup.MuWrapped) and wrapped.model is model
    seen = {}
    model.lm_head.register_forward_hook(lambda mod, a, out: seen.setdefault("out", out))
    feats = {}
    model.transformer.ln_f.register_forward_hook(lambda mod, a, out: feats.setdefault("h", out))
    y = wrapped(x)
    expected = feats["h"] @ model.lm_head.weight.T * (32 / 64)
    torch.testing.assert_close(y, expected, rtol=1e-5, atol=1e-6)


def test_attention_scale_is_sqrt_base_over_d():
    """μP attention: logits q·k × √d_base / d (1/d, equal to 1/√d at the base width)."""
    g = torch.Generator().manual_seed(0)
    q, k, v = (torch.randn(1, 2, 5, 16, generator=g) for _ in range(3))
    with attention_scale(4):
        got = torch.nn.functional.scaled_dot_product_attention(q, k, v)
    w = torch.softmax(q @ k.transpose(-1, -2) * (math.sqrt(4) / 16), dim=-1)
    torch.testing.assert_close(got, w @ v)


def test_llama_untied_head_is_an_output_layer():
    def llama(w: int) -> nn.Module:
        return zoo.tiny_llama(vocab=64, d=w, heads=4, layers=1, seq=8)

    model = llama(128)
    p = initlab.plan(model, model.example_input(2),
                     policy=initlab.mup.policy(factory=llama, widths=(32, 64)))
    t = initlab.mup.table(p)
    assert t["head.weight"].cls == "output" and t["head.weight"].lr_mult == pytest.approx(1 / 4)
    assert t["embed.weight"].cls == "input" and t["embed.weight"].lr_mult == 1


# -------------------------------------------------------------------- param groups ----
def test_param_groups_round_trip_through_torch_save(tmp_path):
    model, p = _mlp_plan()
    opt = torch.optim.AdamW(initlab.param_groups(model, p, lr=1e-3, optimizer="adamw",
                                                 weight_decay=0.1))
    model(torch.randn(3, D_IN)).sum().backward()
    opt.step()
    path = tmp_path / "ckpt.pt"
    torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "plan": p.to_json()}, path)
    ck = torch.load(path, weights_only=True)
    model2 = mlp(WIDE)
    model2.load_state_dict(ck["model"])
    plan2 = initlab.InitPlan.from_json(ck["plan"])
    opt2 = torch.optim.AdamW(initlab.param_groups(model2, plan2, lr=1e-3, optimizer="adamw",
                                                  weight_decay=0.1))
    opt2.load_state_dict(ck["opt"])
    lrs = sorted((g["lr"], g["weight_decay"]) for g in opt2.param_groups)
    # decoupled decay: lr·wd is the same in every group (as mup.MuAdamW)
    assert [v for pair in lrs for v in pair] == pytest.approx([1e-3 / M, 0.1 * M, 1e-3, 0.1])
    assert initlab.mup.table(plan2).to_dict() == initlab.mup.table(p, "adam").to_dict()
    for g in opt2.param_groups:
        assert g["initlab_mup"]["lr_mult"] in (1.0, 1 / M)


def test_param_groups_of_another_policy_is_one_group():
    m = mlp(32)
    g = initlab.param_groups(m, initlab.plan(m, torch.randn(2, D_IN)), lr=0.1)
    assert len(g) == 1 and g[0]["lr"] == 0.1 and len(g[0]["params"]) == 6


# ------------------------------------------------------------------------ bad inputs ----
def test_bad_inputs_are_clear_errors():
    x = torch.randn(2, D_IN)
    with pytest.raises(InitError, match="needs to know which dimensions grow"):
        initlab.init(mlp(32), x, policy="mup")
    with pytest.raises(InitError, match="needs to know which dimensions grow"):
        initlab.mup.policy()
    with pytest.raises(InitError, match="widths must be two"):
        initlab.mup.policy(factory=mlp, widths=(64, 64))
    with pytest.raises(InitError, match=r"factory\(8\) failed"):
        initlab.mup.policy(factory=lambda w: nn.Linear(w, w // 0), widths=(8, 16))
    with pytest.raises(InitError, match="same shapes"):
        initlab.mup.policy(mlp(32), mlp(32))
    with pytest.raises(InitError, match="different parameters"):
        initlab.mup.policy(mlp(32), nn.Linear(3, 3))
    with pytest.raises(InitError, match="readout"):
        initlab.mup.policy(factory=mlp, widths=(8, 16), readout="half")
    with pytest.raises(InitError, match="unknown policy"):
        initlab.mup.policy(factory=mlp, widths=(8, 16), init="nope")
    with pytest.raises(InitError, match="base model has no parameter"):
        initlab.plan(nn.Linear(3, 3), policy=initlab.mup.policy(factory=mlp, widths=(8, 16)))
    model, p = _mlp_plan()
    with pytest.raises(InitError, match="lr must be a positive"):
        initlab.param_groups(model, p, lr=0)
    with pytest.raises(InitError, match="optimizer must be one of"):
        initlab.param_groups(model, p, lr=1e-3, optimizer="lion")
    with pytest.raises(InitError, match="has no such parameter"):
        initlab.param_groups(nn.Linear(2, 2), p, lr=1e-3)
    with pytest.raises(InitError, match="must be an InitPlan"):
        initlab.mup.table({"rows": []})


def test_wrap_refuses_mha_with_need_weights():
    class Net(nn.Module):
        def __init__(self, w: int, need: bool) -> None:
            super().__init__()
            self.inp, self.attn, self.need = nn.Linear(4, w), nn.MultiheadAttention(w, 2), need

        def forward(self, x):
            h = self.inp(x)
            return self.attn(h, h, h, need_weights=self.need)[0]

    x = torch.randn(3, 2, 4)
    pol = initlab.mup.policy(factory=lambda w: Net(w, False), widths=(8, 16))
    for need in (False, True):
        model = Net(32, need)
        p = initlab.init(model, x, policy=pol)
        wrapped = initlab.mup.wrap(model, p)
        if need:
            with pytest.raises(InitError, match="need_weights=False"):
                wrapped(x)
        else:
            assert wrapped(x).shape == (3, 2, 32)


class _TiedLM(nn.Module):
    """A tied LM whose embedding sorts before its head ("emb" < "head"), so the plan's row is
    named after the embedding: the multipliers must not depend on which name is canonical."""

    def __init__(self, width: int, vocab: int = 50) -> None:
        super().__init__()
        self.emb = nn.Embedding(vocab, width)
        self.h = nn.Linear(width, width)
        self.head = nn.Linear(width, vocab, bias=False)
        self.head.weight = self.emb.weight

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(torch.relu(self.h(self.emb(x))))


def test_tied_embedding_multipliers_are_the_width_ratio():
    """A tied embedding/readout has one infinite dim (d): mup's MuSGD scales its lr by the
    width multiplier m = d/d_base, MuAdam leaves it, and the readout output gets 1/m (Table 8)."""
    pol = initlab.mup.policy(factory=_TiedLM, widths=(16, 32))
    p = initlab.plan(_TiedLM(64), torch.randint(0, 50, (2, 5)), policy=pol)
    row = initlab.mup.table(p, "adam")["emb.weight"]
    assert row.cls == "tied" and row.lr_mult == 1.0 and row.multiplier == pytest.approx(0.25)
    assert initlab.mup.table(p, "sgd")["emb.weight"].lr_mult == pytest.approx(4.0)

