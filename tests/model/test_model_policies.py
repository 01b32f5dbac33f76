"""Every policy on every zoo model where it applies: the written std of each parameter equals
the plan's within the sampling tolerance (tests/model/helpers.py derives it from n)."""

from __future__ import annotations

import math

import pytest
import torch
from tests.model.helpers import check_plan
from torch import nn

import initlab
from initlab.errors import InitError
from initlab.lab import zoo
from initlab.model.policies import POLICIES

_NOT_APPLICABLE = {
    # Fixup needs residual branches (Zhang et al. 2019); delta-orthogonal needs convs.
    "fixup": {"deep_mlp", "plain_cnn", "lstm_model", "gru_model", "dict_model"},
    "delta_orthogonal": {"deep_mlp", "nano_gpt", "transformer_encoder", "lstm_model",
                         "gru_model", "functional_net", "dict_model", "tiny_llama"},
}


# policies with options (initlab.policies), in their string form
_WITH_OPTIONS = ("critical(sigma_b2=0.05)", "critical(q_star=1)", "auto(lstm_forget_bias=0)")


def _cases() -> list[tuple[str, str]]:
    return [(m, p) for m in zoo.ZOO for p in (*POLICIES, *_WITH_OPTIONS)
            if m not in _NOT_APPLICABLE.get(p, ())]  # fmt: skip


@pytest.mark.parametrize(("model_name", "policy"), _cases())
def test_written_std_matches_plan(model_name: str, policy: str) -> None:
    torch.manual_seed(0)
    m = zoo.ZOO[model_name]()
    p = initlab.init(m, m.example_input(2), policy=policy, seed=3)
    assert check_plan(m, p) > 0
    out = m(m.example_input(2))
    for t in out.values() if isinstance(out, dict) else [out]:
        assert torch.isfinite(t).all()


@pytest.mark.parametrize(("model_name", "policy"), [
    (m, p) for p, ms in _NOT_APPLICABLE.items() for m in sorted(ms)
])
def test_policy_that_does_not_apply_says_why(model_name: str, policy: str) -> None:
    m = zoo.ZOO[model_name]()
    word = "residual" if policy == "fixup" else "Conv"
    with pytest.raises(InitError, match=word):
        initlab.plan(m, m.example_input(2), policy=policy)


def test_unknown_policy_lists_the_known_ones() -> None:
    with pytest.raises(InitError, match=r"unknown policy 'kaiming'.*auto, torch"):
        initlab.plan(nn.Linear(2, 2), torch.randn(1, 2), policy="kaiming")


def test_auto_follows_the_guideline_table() -> None:
    """Seed text, 'Practical Guidelines': He for ReLU, Xavier for tanh/sigmoid/linear; SELU:
    LeCun (Klambauer et al. 2017); the derived gain 1/√E[φ(z)²] for GELU/SiLU."""
    m = zoo.functional_net(width=32, in_features=16)
    p = initlab.plan(m, m.example_input(2))
    assert p["fc_relu.weight"].std == pytest.approx(math.sqrt(2 / 16))
    assert p["fc_tanh.weight"].std == pytest.approx(math.sqrt(2 / 64))
    assert p["fc_sigmoid.weight"].scheme.kind == "xavier"
    g = initlab.gain("gelu", approximate="tanh")
    assert p["fc_gelu.weight"].std == pytest.approx(g / math.sqrt(32))
    assert p["out.weight"].std == pytest.approx(0.01)
    d = zoo.dict_model()
    pd = initlab.plan(d, d.example_input(2))
    assert pd["body.2.weight"].scheme.kind == "lecun"
    assert pd["body.0.weight"].gain == pytest.approx(initlab.gain("silu"))
    assert pd["body.0.bias"].std == 0 and pd["body.0.bias"].mean == 0


def test_auto_swiglu_product_has_unit_variance() -> None:
    """Gate at unit variance, value half with gain 1/√E[silu(z)²]: E[(silu(a)·b)²] = 1."""
    m = zoo.functional_net()
    p = initlab.plan(m, m.example_input(2))
    gate, up = p["w_gate.weight"], p["w_up.weight"]
    assert gate.gain == pytest.approx(1.0)
    assert up.gain == pytest.approx(initlab.gain("swiglu"))
    assert up.gain ** 2 * initlab.get_activation("silu").second_moment(gate.gain**2) == (
        pytest.approx(1.0, rel=1e-6))


def test_auto_residual_ends_scaled_by_number_of_branches() -> None:
    m = zoo.nano_gpt(n_layer=3)
    p = initlab.plan(m, m.example_input(2))
    fc = p["transformer.h.0.attn.c_proj.weight"]
    assert fc.gain == pytest.approx(1 / math.sqrt(6))  # Xavier gain 1 × 1/√N, N = 2·n_layer
    assert "residual" in fc.reason


def test_gpt2_is_nanogpt_exactly() -> None:
    """nanoGPT model.py / Radford et al. 2019: 0.02, c_proj 0.02/√(2·n_layer); oracles.md:
    n_layer = 12 gives 0.00408248."""
    m = zoo.nano_gpt(n_layer=12, n_embd=16, n_head=2, block_size=8, vocab_size=32)
    p = initlab.plan(m, m.example_input(1), policy="gpt2")
    assert p["transformer.h.5.mlp.c_proj.weight"].std == pytest.approx(0.00408248, abs=1e-8)
    assert p["transformer.h.5.mlp.c_fc.weight"].std == 0.02
    assert p["transformer.wpe.weight"].std == 0.02
    assert p["lm_head.weight"].aliases == ("transformer.wte.weight",)
    assert p["transformer.h.0.attn.c_attn.bias"].std == 0
    assert p["transformer.ln_f.weight"].mean == 1.0
    # against nanoGPT's own _init_weights: same distribution per parameter
    ref = zoo.nano_gpt(n_layer=12, n_embd=16, n_head=2, block_size=8, vocab_size=32,
                       init_weights=True)
    for row in p.written:
        if row.std and row.std > 0 and math.prod(row.shape) >= 256:
            ref_std = float(ref.get_parameter(row.name).detach().std())
            assert ref_std == pytest.approx(row.std, rel=0.25), row.name


def test_torch_policy_reproduces_module_defaults() -> None:
    """torch.nn's reset_parameters: Linear/Conv U(±1/√fan_in) (torch's fan_in), LSTM
    U(±1/√hidden), Embedding N(0, 1), MHA in_proj xavier_uniform on the packed matrix."""
    m = zoo.plain_cnn(8)
    p = initlab.plan(m, m.example_input(2), policy="torch")
    assert p["stem.weight"].bound == pytest.approx(1 / math.sqrt(27))
    assert p["up.weight"].bound == pytest.approx(1 / math.sqrt(8 * 16))  # torch's (swapped) fan
    r = zoo.lstm_model(hidden=32)
    pr = initlab.plan(r, r.example_input(2), policy="torch")
    assert pr["rnn.weight_hh_l0"].bound == pytest.approx(1 / math.sqrt(32))
    e = zoo.transformer_encoder(d_model=32)
    pe = initlab.plan(e, e.example_input(2), policy="torch")
    assert pe["encoder.layers.0.self_attn.in_proj_weight"].bound == pytest.approx(
        math.sqrt(6 / (32 + 96)))
    assert pe["embed.weight"].std == 1.0
    # the module's own draws have the std the plan states
    for row in p.written:
        if row.tensor == "parameter" and row.bound and math.prod(row.shape) >= 200:
            own = m.get_parameter(row.name).detach()
            assert float(own.std()) == pytest.approx(row.std, rel=0.3), row.name


def test_fixup_scale_resnet110() -> None:
    """Zhang et al. 2019, oracles.md: ResNet-110 (L = 54 branches, m = 2) scales the first
    layer of each branch by 0.136083; the last layer of each branch and the classifier are 0."""
    m = zoo.fixup_resnet(blocks_per_stage=18, width=2)
    p = initlab.plan(m, m.example_input(1), policy="fixup")
    row = p["layers.7.conv1.weight"]
    assert row.scheme.get("factor") == pytest.approx(0.136083, abs=1e-6)
    assert p["layers.7.conv2.weight"].std == 0
    assert p["fc.weight"].std == 0 and p["fc.bias"].std == 0
    assert p["layers.7.scale"].mean == 1.0 and p["layers.7.bias2b"].mean == 0.0
    assert p["conv1.weight"].scheme.kind == "he"  # outside the branches: plain He
    assert not p.warnings


def test_fixup_without_scalars_warns() -> None:
    m = zoo.resnet()
    p = initlab.plan(m, m.example_input(2), policy="fixup")
    assert any("scalar multiplier" in w for w in p.warnings)
    assert p["layers.0.conv2.weight"].std == 0


def test_zero_residual_zero_gamma_and_zero_last_layer() -> None:
    """Goyal et al. 2017: the last BN γ of each residual block = 0; without a norm, the branch's
    last layer = 0."""
    m = zoo.resnet()
    initlab.init(m, m.example_input(2), policy="zero_residual")
    for i in range(3):
        assert torch.all(m.layers[i].bn2.weight == 0)
        assert torch.all(m.layers[i].bn1.weight == 1)
    f = zoo.functional_net()
    initlab.init(f, f.example_input(2), policy="zero_residual")
    assert torch.all(f.w_down.weight == 0) and f.w_up.weight.abs().sum() > 0


def test_delta_orthogonal_convs_are_orthogonal_at_the_centre() -> None:
    """Xiao et al. 2018: zero except the centre tap, an orthogonal matrix × gain."""
    m = zoo.resnet()
    p = initlab.init(m, m.example_input(2), policy="delta_orthogonal")
    w = m.layers[0].conv1.weight.detach()
    g = p["layers.0.conv1.weight"].gain
    c = w[:, :, 1, 1] / g
    assert torch.allclose(c @ c.T, torch.eye(c.shape[0]), atol=1e-5)
    assert float(w[:, :, 0, 0].abs().sum()) == 0


def test_critical_uses_the_edge_of_chaos() -> None:
    """Poole et al. 2016 / oracles.md: tanh at σ_b² = 0 is critical at σ_w² = 1; ReLU at 2."""
    m = zoo.functional_net(width=32, in_features=16)
    p = initlab.plan(m, m.example_input(2), policy="critical")
    assert p["fc_tanh.weight"].std == pytest.approx(1 / math.sqrt(32), rel=1e-6)
    assert p["fc_relu.weight"].std == pytest.approx(math.sqrt(2 / 16), rel=1e-6)


def test_orthogonal_recurrent_and_packed_blocks() -> None:
    m = zoo.lstm_model(in_features=8, hidden=16)
    p = initlab.init(m, m.example_input(2))
    row = p["rnn.weight_hh_l0"]
    assert row.blocks == 4 and not row.elementwise
    w = m.rnn.weight_hh_l0.detach()
    for k in range(4):
        b = w[16 * k : 16 * (k + 1)]
        assert torch.allclose(b @ b.T, torch.eye(16), atol=1e-5)
    assert p["rnn.weight_ih_l0"].fan_in == 8 and p["rnn.weight_ih_l0"].fan_out == 16
