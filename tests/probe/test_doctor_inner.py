"""Issue 9: attention-softmax saturation and LSTM/GRU gate saturation at init.

The attention entropy is H(softmax(scores)) / ln(keys) per query row (1 = uniform, 0 =
one-hot). With near-zero q/k (any standard init of a small transformer) the logits are ~0 and the
entropy is ≈ 1; ×20 on the q/k weights multiplies the logits by 400 and makes the softmax
one-hot. Gate saturation is the share of gates with φ' < sat_derivative on the first time steps.
"""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from tests.probe.models import SmallTransformer
from torch import nn

import initlab
from initlab.errors import InitError
from initlab.probe import stats


def _ids() -> torch.Tensor:
    return torch.randint(0, 100, (8, 16), generator=torch.Generator().manual_seed(1))


def _attn(dx: initlab.Diagnosis) -> list:
    return [f for f in dx.findings if f.kind == "attention"]


def test_zoo_transformer_healthy_attention_is_not_flagged_and_qk_x20_is():
    torch.manual_seed(0)
    m = SmallTransformer()
    assert not _attn(initlab.doctor(m, _ids()))
    with torch.no_grad():
        for b in m.blocks:
            b.attn.in_proj_weight[: 2 * 32] *= 20  # q and k rows of the packed projection
    dx = initlab.doctor(m, _ids())
    (f,) = _attn(dx)
    assert "attention" in dx.problems() and not dx.ok
    assert f.severity == "problem" and len(f.layers) == 3  # the three blocks' attention
    assert max(f.evidence["entropy_ratio"].values()) < 0.5
    assert "policy='auto'" in f.fix and "1/√d_head" in f.fix


class _Attn(nn.Module):
    """Single-head self-attention written with matmul + softmax, or with SDPA."""

    def __init__(self, d: int = 16, sdpa: bool = False) -> None:
        super().__init__()
        self.q, self.k, self.v = nn.Linear(d, d), nn.Linear(d, d), nn.Linear(d, d)
        self.sdpa = sdpa

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        q, k, v = self.q(x)[:, None], self.k(x)[:, None], self.v(x)[:, None]
        if self.sdpa:
            return F.scaled_dot_product_attention(q, k, v, is_causal=True)[:, 0]
        s = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
        mask = torch.ones(s.shape[-2:], dtype=torch.bool).tril()
        s = s.masked_fill(~mask, torch.finfo(s.dtype).min)  # HF-style finite mask
        return (s.softmax(-1) @ v)[:, 0]


def test_functional_softmax_and_sdpa_give_the_same_entropy():
    torch.manual_seed(0)
    a, b = _Attn(), _Attn(sdpa=True)
    b.load_state_dict(a.state_dict())
    x = torch.randn(4, 12, 16)
    with torch.no_grad():
        for m in (a, b):
            m.q.weight.mul_(20)
            m.k.weight.mul_(20)
    fa, fb = _attn(initlab.doctor(a, x))[0], _attn(initlab.doctor(b, x))[0]
    ea, eb = fa.evidence["entropy_ratio"], fb.evidence["entropy_ratio"]
    assert list(ea.values()) == pytest.approx(list(eb.values()), abs=1e-4)


@pytest.mark.parametrize("masked", [float("-inf"), torch.finfo(torch.float32).min])
def test_causal_rows_are_judged_against_their_own_keys(masked):
    # uniform attention under a causal mask: row i spreads over i+1 keys, entropy ln(i+1)
    s = torch.zeros(2, 1, 6, 6).masked_fill(~torch.ones(6, 6, dtype=torch.bool).tril(), masked)
    ratio, onehot, rows = stats.attention_entropy(s).tolist()
    assert ratio == pytest.approx(1.0, abs=1e-6) and onehot == 0 and rows == 2 * 5


def test_attention_threshold_is_validated():
    with pytest.raises(InitError):
        initlab.doctor(_Attn(), torch.randn(2, 4, 16), attn_entropy=-1)


class _RNN(nn.Module):
    def __init__(self, cls: type[nn.Module]) -> None:
        super().__init__()
        self.rnn = cls(16, 32, num_layers=2, batch_first=True)
        self.head = nn.Linear(32, 5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.rnn(x)[0])


@pytest.mark.parametrize("cls", [nn.LSTM, nn.GRU])
def test_rnn_gates_default_init_healthy_x10_saturated(cls):
    torch.manual_seed(0)
    m, x = _RNN(cls), torch.randn(4, 20, 16)
    assert not [f for f in initlab.doctor(m, x).findings if f.kind == "saturated"]
    with torch.no_grad():
        for p in m.rnn.parameters():
            p.mul_(10)
    (f,) = [f for f in initlab.doctor(m, x).findings if f.kind == "saturated"]
    assert f.layers == ("rnn",) and cls.__name__ in f.summary
    shares = (f.evidence["sigmoid_saturated"]["rnn"], f.evidence["tanh_saturated"]["rnn"])
    assert max(shares) >= 0.25


@pytest.mark.parametrize(
    "m",
    [
        nn.LSTM(6, 8, num_layers=2, bidirectional=True, batch_first=True),
        nn.GRU(6, 8, num_layers=2, bidirectional=True, batch_first=True),
        nn.LSTM(6, 8, proj_size=4, num_layers=2),
    ],
)
def test_gate_re_evaluation_reproduces_the_module(m):
    # the re-evaluated recurrence is the module's own: same outputs on the window
    torch.manual_seed(0)
    x, out = torch.randn(3, 5, 6), []
    stats.rnn_gate_saturation(m, x, steps=5, _out=out)
    y = m(x)[0]
    y = y.transpose(0, 1) if m.batch_first else y
    torch.testing.assert_close(out[0], y, atol=1e-5, rtol=1e-5)
