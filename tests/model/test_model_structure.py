"""Structure discovery from one traced forward pass: activations (modules and functional calls),
residual branch ends, output layers, roles; control flow in forward; meta-device tracing."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from initlab.errors import InitError
from initlab.lab import zoo
from initlab.model import discover
from initlab.model.trace import trace_model


def test_functional_activations_are_found() -> None:
    m = zoo.functional_net()
    s = discover(m, m.example_input(2))
    L = s.layers
    assert L["fc_relu"].activation == "relu"
    assert L["fc_tanh"].activation == "tanh"
    assert L["fc_sigmoid"].activation == "sigmoid"  # x.sigmoid() method call
    assert L["fc_gelu"].activation == "gelu"
    assert L["fc_gelu"].activation_params == {"approximate": "tanh"}
    assert (L["w_gate"].activation, L["w_gate"].glu) == ("swiglu", "gate")
    assert (L["w_up"].activation, L["w_up"].glu) == ("swiglu", "value")
    assert L["w_down"].residual_end and L["w_down"].role == "mlp_out"
    assert L["w_down"].branch_layers == ("w_gate", "w_up", "w_down")
    assert L["out"].is_output and L["out"].role == "classifier"
    assert s.device == "meta"


def test_module_activations_through_batchnorm_and_parameters() -> None:
    m = zoo.plain_cnn()
    s = discover(m, m.example_input(2))
    assert s.layers["stem"].activation == "relu"  # Conv → BN → F.relu
    assert s.layers["up"].activation == "leaky_relu"
    assert s.layers["up"].activation_params == {"negative_slope": 0.2}
    assert s.layers["down"].activation == "tanh"
    assert s.layers["head"].role == "classifier"
    d = zoo.dict_model()
    sd = discover(d, d.example_input(2))
    assert sd.layers["body.0"].activation == "silu" and sd.layers["body.2"].activation == "selu"
    assert sd.layers["cls"].is_output and sd.layers["reg"].is_output  # outputs inside a dict


def test_resnet_residual_ends_norms_and_shortcuts() -> None:
    m = zoo.resnet(blocks_per_stage=2)
    s = discover(m, m.example_input(2))
    assert s.residual_ends == tuple(f"layers.{i}.conv2" for i in range(6))
    assert s.layers["layers.2.conv2"].branch_norm == "layers.2.bn2"
    assert s.layers["layers.2.conv2"].branch_layers == ("layers.2.conv1", "layers.2.conv2")
    assert s.layers["layers.2.shortcut.0"].role == "shortcut"
    assert not s.layers["layers.2.conv1"].residual_end
    assert s.layers["layers.2.conv1"].activation == "relu"


def test_nanogpt_roles() -> None:
    m = zoo.nano_gpt(n_layer=2)
    s = discover(m, m.example_input(2))
    L = s.layers
    assert L["transformer.wte"].role == "embedding"
    assert L["transformer.h.0.attn.c_attn"].role == "attn_qkv"
    assert L["transformer.h.0.attn.c_proj"].role == "attn_out"
    assert L["transformer.h.0.mlp.c_fc"].role == "mlp_in"
    assert L["transformer.h.0.mlp.c_fc"].activation == "gelu"
    assert L["transformer.h.0.mlp.c_proj"].role == "mlp_out"
    assert L["transformer.h.0.ln_1"].kind == "norm"  # nanoGPT's own LayerNorm (F.layer_norm)
    assert len(s.residual_ends) == 4
    assert L["lm_head"].is_output


def test_llama_roles_through_rotary_embeddings() -> None:
    m = zoo.tiny_llama()
    s = discover(m, m.example_input(2))
    L = s.layers
    roles = [L[f"layers.0.attn.{n}"].role for n in ("wq", "wk", "wv", "wo")]
    assert roles == ["attn_q", "attn_k", "attn_v", "attn_out"]
    assert (L["layers.0.w1"].glu, L["layers.0.w3"].glu) == ("gate", "value")
    assert L["layers.0.attn_norm"].kind == "norm" and L["head"].is_output
    assert s.residual_ends == ("layers.0.attn.wo", "layers.0.w2", "layers.1.attn.wo", "layers.1.w2")


def test_transformer_encoder_and_recurrent() -> None:
    m = zoo.transformer_encoder()
    s = discover(m, m.example_input(2))
    assert s.layers["encoder.layers.0.self_attn"].residual_end
    assert s.layers["encoder.layers.0.linear1"].activation == "relu"
    assert s.layers["encoder.layers.0.linear2"].role == "mlp_out"
    r = zoo.lstm_model()
    sr = discover(r, r.example_input(2))
    assert sr.layers["rnn"].role == "recurrent" and sr.layers["fc"].is_output


class ManualAttention(nn.Module):
    def __init__(self, d: int = 16) -> None:
        super().__init__()
        self.q, self.k, self.v, self.o = (nn.Linear(d, d) for _ in range(4))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        att = (self.q(x) @ self.k(x).transpose(-2, -1)) / 4.0
        return x + self.o(att.softmax(dim=-1) @ self.v(x))


def test_manual_attention_roles() -> None:
    s = discover(ManualAttention(), torch.randn(2, 5, 16))
    roles = {n: s.layers[n].role for n in "qkvo"}
    assert roles == {"q": "attn_q", "k": "attn_k", "v": "attn_v", "o": "attn_out"}
    assert s.layers["o"].residual_end


class DataDependent(nn.Module):
    """Control flow on values: impossible on meta tensors and for torch.fx."""

    def __init__(self) -> None:
        super().__init__()
        self.a, self.b = nn.Linear(4, 4), nn.Linear(4, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.a(x)
        if h.sum() > -1e9:
            h = torch.tanh(h)
        for _ in range(2):
            h = h + 0.0
        return self.b(h)


def test_control_flow_falls_back_to_a_real_trace() -> None:
    m = DataDependent()
    before = {k: v.clone() for k, v in m.state_dict().items()}
    s = discover(m, torch.randn(3, 4))
    assert s.device == "real" and "meta" in s.note
    assert s.layers["a"].activation == "tanh"
    assert all(torch.equal(before[k], v) for k, v in m.state_dict().items())
    with pytest.raises(Exception):  # noqa: B017 - what torch.fx does with the same model
        torch.fx.symbolic_trace(m)


def test_trace_leaves_the_model_unchanged() -> None:
    m = zoo.resnet()
    m.eval()
    stats = m.bn1.running_mean.clone()
    g = trace_model(m, m.example_input(4))
    assert g.device == "meta" and not m.training
    assert torch.equal(m.bn1.running_mean, stats)


def test_meta_model_can_be_planned() -> None:
    with torch.device("meta"):
        m = zoo.nano_gpt()
    s = discover(m, torch.zeros(2, 8, dtype=torch.long))
    assert s.layers["lm_head"].is_output


def test_bad_input_quotes_the_models_error() -> None:
    m = zoo.plain_cnn()
    with pytest.raises(InitError, match=r"expected input.*3 channels.*pass an example_input"):
        discover(m, torch.randn(2, 5, 16, 16))


def test_no_example_input_assumes_linear() -> None:
    s = discover(nn.Sequential(nn.Linear(2, 3), nn.ReLU()))
    assert not s.traced and s.layers["0"].activation == "linear"


def test_dataparallel_is_looked_through() -> None:
    m = nn.DataParallel(nn.Sequential(nn.Linear(4, 4), nn.GELU()))
    s = discover(m, torch.randn(2, 4))
    assert s.layers["0"].activation == "gelu"


def test_functional_relu6_and_custom_linear() -> None:
    class Custom(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.w = nn.Parameter(torch.randn(8, 4))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return F.relu6(F.linear(x, self.w))

    s = discover(nn.Sequential(Custom(), nn.Linear(8, 2)), torch.randn(2, 4))
    assert s.layers["0"].kind == "linear" and s.layers["0"].activation == "relu6"


class _LoopMoE(nn.Module):
    """Experts as two (E, ·, ·) weights, top-1 routing, a Python loop over experts and
    ``index_add_`` to put tokens back."""

    def __init__(self, d: int = 16, h: int = 32, experts: int = 4, squash: bool = False) -> None:
        super().__init__()
        self.router = nn.Linear(d, experts, bias=False)
        self.w_in = nn.Parameter(torch.randn(experts, h, d) * 0.1)
        self.w_out = nn.Parameter(torch.randn(experts, d, h) * 0.1)
        self.squash = squash

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        w, top = self.router(x).softmax(-1).topk(1, dim=-1)
        out = torch.zeros_like(x)
        for e in range(self.w_in.shape[0]):
            idx = (top[:, 0] == e).nonzero().flatten()
            y = torch.relu(x[idx] @ self.w_in[e].T) @ self.w_out[e].T
            out.index_add_(0, idx, y * w[idx])
        return torch.tanh(out) if self.squash else out


class _MoENet(nn.Module):
    def __init__(self, squash: bool = False) -> None:
        super().__init__()
        self.norms = nn.ModuleList(nn.LayerNorm(16) for _ in range(3))
        self.moes = nn.ModuleList(_LoopMoE(squash=squash) for _ in range(3))
        self.head = nn.Linear(16, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for norm, moe in zip(self.norms, self.moes, strict=True):
            x = x + moe(norm(x))
        return self.head(x)


def test_mixture_of_experts_block_ends_a_residual_branch() -> None:
    """Routing weights multiplied in and tokens put back with ``index_add_`` still end the
    branch at the experts' output weight (read once per expert in the loop); a tanh after the
    combination is not a combination, so that branch has no linear end."""
    x = torch.randn(64, 16, generator=torch.Generator().manual_seed(0))
    st = discover(_MoENet(), x)
    assert st.residual_ends == ("moes.0.w_out", "moes.1.w_out", "moes.2.w_out")
    assert st.layers["moes.0.w_out"].branch_layers[-1] == "moes.0.w_out"
    assert discover(_MoENet(squash=True), x).residual_ends == ()


class _Expert(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.w1, self.w2 = nn.Linear(16, 32), nn.Linear(32, 16)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.w2(torch.relu(self.w1(x)))


class _ListMoE(nn.Module):
    """Experts as a ``ModuleList`` of MLPs (the layout of Hugging Face's older Mixtral and of
    Qwen2-MoE), top-1 routing, ``index_add_``."""

    def __init__(self, experts: int = 8) -> None:
        super().__init__()
        self.gate = nn.Linear(16, experts, bias=False)
        self.experts = nn.ModuleList(_Expert() for _ in range(experts))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        w, top = self.gate(x).softmax(-1).topk(1, dim=-1)
        out = torch.zeros_like(x)
        for e, expert in enumerate(self.experts):
            idx = (top[:, 0] == e).nonzero().flatten()
            out.index_add_(0, idx, expert(x[idx]) * w[idx])
        return out


def test_module_list_experts_end_one_branch_together() -> None:
    """Each expert's output layer ends the branch (each gets the branch-end scaling), and the
    branch counts once: 3 MoE blocks are 3 residual branches, not 24."""
    import initlab

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.norms = nn.ModuleList(nn.LayerNorm(16) for _ in range(3))
            self.moes = nn.ModuleList(_ListMoE() for _ in range(3))
            self.head = nn.Linear(16, 4)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            for norm, moe in zip(self.norms, self.moes, strict=True):
                x = x + moe(norm(x))
            return self.head(x)

    x = torch.randn(128, 16, generator=torch.Generator().manual_seed(0))
    st = discover(Net(), x)
    assert len(st.residual_ends) == 3
    assert all(st.layers[f"moes.1.experts.{e}.w2"].residual_end for e in range(8))
    assert not st.layers["moes.1.experts.0.w1"].residual_end
    plan = initlab.plan(Net(), x)
    assert all("× 1/√3" in plan[f"moes.0.experts.{e}.w2.weight"].reason for e in range(8))
