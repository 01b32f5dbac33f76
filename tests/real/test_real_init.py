"""plan / init / lsuv on tiny builds of 17 `transformers` architectures and 5 hand-written
CNNs/RNNs (no download: every model is built from a config object, HF_HUB_OFFLINE=1)."""

from __future__ import annotations

import math
import os

import pytest
import torch
from torch import nn

os.environ["HF_HUB_OFFLINE"] = "1"
pytest.importorskip("transformers")

from tests.real.models import ALL_NAMES, HF_NAMES, RealModel, build

import initlab
from initlab.errors import InitError


def _run(r: RealModel, m: nn.Module | None = None) -> torch.Tensor:
    m = m or r.model
    out = m(**r.example) if isinstance(r.example, dict) else m(r.example)
    return r.loss(out)


@pytest.fixture(scope="module")
def planned() -> dict[str, tuple[RealModel, initlab.InitPlan]]:
    """Each model built once, with its ``auto`` plan."""
    out = {}
    for name in ALL_NAMES:
        r = build(name)
        out[name] = (r, initlab.plan(r.model, r.example))
    return out


def test_at_least_15_transformers_architectures() -> None:
    assert len(HF_NAMES) >= 15


@pytest.mark.parametrize("name", ALL_NAMES)
def test_every_parameter_is_written_or_kept_with_its_reason(planned, name) -> None:
    r, plan = planned[name]
    assert len(plan) >= sum(1 for _ in r.model.parameters())
    for row in plan:
        assert row.reason
        assert "unknown layout" not in row.reason, (row.name, row.reason)
        if row.status != "init":
            assert row.status in ("frozen", "kept", "pretrained"), (row.name, row.status)
    assert not any(w.startswith("kept (unknown layout") for w in plan.warnings)


def test_gpt2_conv1d_fans_come_from_how_addmm_reads_the_weight(planned) -> None:
    _, plan = planned["gpt2"]  # Conv1D stores (in, out) = (32, 128) for c_fc
    fc = plan["transformer.h.0.mlp.c_fc.weight"]
    assert fc.shape == (32, 128) and (fc.fan_in, fc.fan_out) == (32, 128)
    assert fc.activation == "gelu" and fc.activation_params == {"approximate": "tanh"}
    qkv = plan["transformer.h.0.attn.c_attn.weight"]  # packed q/k/v along the output axis
    assert qkv.role == "attn_qkv" and (qkv.fan_in, qkv.fan_out) == (32, 32)
    assert plan["transformer.h.0.mlp.c_proj.weight"].role == "mlp_out"
    # "he" on c_fc: std = √(2 / fan_in) with fan_in = n_embd = 32 (He et al. 2015, eq. 10)
    he = initlab.plan(planned["gpt2"][0].model, planned["gpt2"][0].example, policy="he")
    assert he["transformer.h.0.mlp.c_fc.weight"].std == pytest.approx(math.sqrt(2 / 32))


def test_mamba_functional_conv_and_matmul_weights_are_layers(planned) -> None:
    _, plan = planned["mamba"]
    conv = plan["backbone.layers.0.mixer.conv1d.weight"]  # F.conv1d(x, W) with groups
    assert conv.kind == "conv" and conv.activation == "silu" and conv.fan_in == 4
    assert "not called" not in conv.reason
    assert plan["backbone.layers.0.mixer.out_proj.weight"].role == "mlp_out"


def test_moe_experts_get_per_expert_fans_and_the_router_its_role(planned) -> None:
    _, plan = planned["mixtral"]
    up = plan["model.layers.0.mlp.experts.gate_up_proj"]  # (experts, 2·ffn, d)
    assert up.shape[0] == 4 and up.role == "expert"
    assert (up.fan_in, up.fan_out) == (32, 128)  # per expert, not 4·128
    assert up.glu == "packed" and up.activation == "swiglu"
    down = plan["model.layers.0.mlp.experts.down_proj"]
    assert (down.fan_in, down.fan_out) == (64, 32)
    gate = plan["model.layers.0.mlp.gate.weight"]
    assert gate.role == "router" and gate.std == pytest.approx(math.sqrt(0.1 / 32))


@pytest.mark.parametrize("name", ["llama", "qwen2", "t5", "mamba"])
def test_hf_norm_classes_are_norms_by_what_they_compute(planned, name) -> None:
    _, plan = planned[name]
    norms = [row for row in plan if row.kind == "norm"]
    assert norms and all(row.role == "norm" and row.mean == 1.0 for row in norms)


@pytest.mark.parametrize(("name", "embedding", "head"), [
    ("gpt2", "transformer.wte.weight", "lm_head.weight"),  # head name sorts first
    ("bert", "bert.embeddings.word_embeddings.weight", "cls.predictions.decoder.weight"),
])  # fmt: skip
def test_tied_weights_get_one_decision_by_use(planned, name, embedding, head) -> None:
    r, plan = planned[name]
    assert plan[embedding] is plan[head]
    row = plan[embedding]
    d = row.shape[1]
    assert (row.fan_in, row.fan_out) == (d, row.shape[0])  # the head use: logits = h @ Eᵀ
    assert row.std == 0.02
    he = initlab.plan(r.model, r.example, policy="he")[embedding]
    assert he.std == pytest.approx(math.sqrt(2 / d))  # whichever alias sorts first


def test_position_embeddings_match_the_token_embedding_scale(planned) -> None:
    _, plan = planned["gpt2"]
    pos, tok = plan["transformer.wpe.weight"], plan["transformer.wte.weight"]
    assert pos.role == "pos_embedding" and pos.std == tok.std == 0.02
    _, vit = planned["vit"]
    assert vit["vit.embeddings.position_embeddings"].role == "pos_embedding"


def test_model_intended_values_are_kept_with_their_reason() -> None:
    r = build("mamba")
    plan = initlab.init(r.model, r.example)
    mixer = r.model.backbone.layers[0].mixer
    n = mixer.A_log.shape[1]  # S4D-real: A = −(1..N), stored as log
    assert torch.allclose(mixer.A_log, torch.log(torch.arange(1, n + 1.0)).expand_as(mixer.A_log))
    assert torch.equal(mixer.D, torch.ones_like(mixer.D))
    assert float(mixer.dt_proj.bias.abs().min()) > 0  # softplus⁻¹ of a log-uniform time step
    for name in ("A_log", "D", "dt_proj.bias"):
        assert "own" in plan[f"backbone.layers.0.mixer.{name}"].reason
    c = build("convnext")
    cplan = initlab.init(c.model, c.example)
    scale = c.model.convnext.encoder.stages[0].layers[0].layer_scale_parameter
    assert torch.all(scale == 1e-6)
    assert cplan["convnext.encoder.stages.0.layers.0.layer_scale_parameter"].role == "channel_scale"
    t = build("t5")
    tplan = initlab.plan(t.model, t.example)
    rel = "encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight"
    assert tplan[rel].role == "attn_bias"


class QuickGELU(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.sigmoid(1.702 * x)


def test_activation_modules_are_read_from_what_they_compute(planned) -> None:
    _, mob = planned["mobilenet"]  # nn.ReLU6 calls hardtanh(0, 6): a rectifier, He not Xavier
    row = mob["blocks.0.block.0.weight"]
    assert row.activation == "relu6" and row.scheme.kind == "he"
    m = nn.Sequential(nn.Linear(8, 16), QuickGELU(), nn.Linear(16, 2))
    p = initlab.plan(m, torch.randn(4, 8))
    assert p["0.weight"].activation == "silu" and p["0.weight"].activation_params == {
        "beta": 1.702}  # fmt: skip
    assert p["0.weight"].glu is None  # x·σ(1.702x) is not a gated unit


@pytest.mark.parametrize("name", ALL_NAMES)
def test_meta_then_to_empty_gives_the_eager_weights_and_a_finite_loss(name) -> None:
    eager = build(name)
    initlab.init(eager.model, eager.example, seed=3)
    with torch.device("meta"):
        lazy = build(name)
    plan = initlab.plan(lazy.model, eager.example)
    lazy.model.to_empty(device="cpu")
    if hasattr(lazy.model, "tie_weights"):
        lazy.model.tie_weights()
    with torch.no_grad():  # non-persistent buffers (rotary tables) are the model's business
        for b, b0 in zip(lazy.model.buffers(), eager.model.buffers(), strict=True):
            b.copy_(b0)
    initlab.apply_plan(lazy.model, plan, seed=3)
    s0, s1 = eager.model.state_dict(), lazy.model.state_dict()
    assert [k for k in s0 if not torch.equal(s0[k], s1[k])] == []
    lazy.model.eval()
    loss = float(_run(eager, lazy.model))  # the eager build's input and labels (real tensors)
    assert math.isfinite(loss) and loss < 2 * math.log(eager.classes)


def test_meta_parameter_without_any_own_init_fails_naming_it() -> None:
    class Raw(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.table = nn.Parameter(torch.randn(3, 4, 4))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return torch.einsum("bi,kij->bj", x, self.table)

    with torch.device("meta"):
        m = Raw()
    plan = initlab.plan(m, torch.randn(2, 4))
    assert "uninitialized" in plan["table"].reason
    m.to_empty(device="cpu")
    with pytest.raises(InitError, match="table"):
        initlab.apply_plan(m, plan)


@pytest.mark.parametrize("name", ["llama", "torch_encoder", "resnet18", "unet"])
def test_pretrained_frozen_and_skipped_are_untouched_by_init_and_lsuv(name) -> None:
    r = build(name)
    mods = [m for m in r.model.modules() if isinstance(m, nn.Linear | nn.Conv2d)]
    pre, frozen, skipped = mods[0], mods[1], mods[2]
    initlab.mark_pretrained(pre)
    for p in frozen.parameters():
        p.requires_grad_(False)
    skip_name = next(n for n, m in r.model.named_modules() if m is skipped) + ".weight"
    before = {k: v.detach().clone() for k, v in r.model.state_dict().items()}
    initlab.init(r.model, r.example, skip=[skip_name])
    x = r.example
    rep = initlab.lsuv(r.model, x, skip=[skip_name])
    assert {why.split(" ")[0] for _, why in rep.protected} >= {"frozen", "marked", "skip="}
    after = r.model.state_dict()
    for m in (pre, frozen, skipped):
        for local, t in m.named_parameters(recurse=False):
            key = next(k for k, v in after.items() if v is t or v.data_ptr() == t.data_ptr())
            if m is skipped and local != "weight":
                continue
            assert torch.equal(before[key], after[key]), key


def test_init_keeps_the_running_statistics_of_a_frozen_batchnorm() -> None:
    r = build("resnet18")
    bn = r.model.stem[1]
    for p in bn.parameters():
        p.requires_grad_(False)
    with torch.no_grad():
        bn.running_mean.fill_(5.0)
    plan = initlab.init(r.model, r.example)
    assert plan["stem.1.running_mean"].status == "frozen"
    assert torch.all(bn.running_mean == 5.0)
    assert torch.all(r.model.layers[0].bn1.running_var == 1.0)  # trainable norms are reset


def test_lsuv_refuses_a_skip_pattern_that_matches_nothing() -> None:
    r = build("resnet18")
    with pytest.raises(InitError, match="matches no parameter"):
        initlab.lsuv(r.model, r.example, skip=["nope.*"])


@pytest.mark.parametrize("name", ["gpt2", "mixtral", "resnet18"])
def test_written_values_have_the_planned_std(name) -> None:
    """Sample std of each written weight vs the plan (normal draws: the sample std of n values
    has standard error σ/√(2n); 6 standard errors)."""
    r = build(name)
    plan = initlab.init(r.model, r.example, policy="he")
    tensors = dict(r.model.named_parameters())
    checked = 0
    for row in plan.written:
        t = tensors.get(row.name)
        if t is None or not row.std or t.numel() < 1000 or row.mean != 0.0:
            continue
        n = t.numel()
        assert float(t.detach().float().std()) == pytest.approx(row.std, rel=6 / math.sqrt(2 * n))
        checked += 1
    assert checked >= 3


def test_gpt2_conv1d_orthogonal_per_qkv_block() -> None:
    """GPT-2's ``Conv1D`` stores (in, out) and packs q, k, v as three column blocks; orthogonal
    init makes each block an orthogonal map (Saxe et al. 2014), not the (in, 3·out) whole: with
    one matrix each block's Gram matrix was ≈ I/3 plus off-diagonal terms of ~0.13."""
    r = build("gpt2")
    plan = initlab.init(r.model, r.example, policy="orthogonal")
    row = plan["transformer.h.0.attn.c_attn.weight"]
    assert (row.blocks, row.out_axis, row.fan_in, row.fan_out) == (3, 1, 32, 32)
    assert initlab.InitPlan.from_json(plan.to_json())[row.name].out_axis == 1
    w = r.model.transformer.h[0].attn.c_attn.weight.detach()
    for k in range(3):
        b = w[:, 32 * k : 32 * (k + 1)]
        assert torch.allclose(b.T @ b, torch.eye(32), atol=1e-5)
    fc = r.model.transformer.h[0].mlp.c_fc.weight.detach()  # (32, 128): x @ W an isometry
    g = plan["transformer.h.0.mlp.c_fc.weight"].gain
    assert torch.allclose(fc @ fc.T, g * g * torch.eye(32), atol=1e-4)


def test_mixtral_moe_block_is_a_residual_branch_like_llamas_mlp() -> None:
    """Mixtral's sparse MoE block (router, fused experts, ``_grouped_mm``, routing weights,
    top-k sum) ends a residual branch at ``experts.down_proj``, as Llama's MLP does at
    ``down_proj``: 2 branches per layer, each end × 1/√(2·L) (Radford et al. 2019)."""
    plans = {n: initlab.plan(build(n).model, build(n).example) for n in ("mixtral", "llama")}
    mix, lla = plans["mixtral"], plans["llama"]
    assert mix["model.layers.0.mlp.experts.down_proj"].std == pytest.approx(
        lla["model.layers.0.mlp.down_proj.weight"].std, rel=1e-12)  # fmt: skip
    assert mix["model.layers.0.self_attn.o_proj.weight"].gain == pytest.approx(0.5)  # 1/√4
    assert "ends a residual branch" not in mix["model.layers.0.mlp.experts.gate_up_proj"].reason
