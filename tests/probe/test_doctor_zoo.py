"""The zoo of broken starts (issue 5): each has a known verdict. And healthy models not flagged.

Expected verdicts follow the mean-field picture (Poole et al. 2016; Schoenholz et al. 2017): with
N(0, σ²) weights of fan n, a tanh net scales its signal by ≈ σ√n per layer near 0, a ReLU net by
σ√(n/2) (He et al. 2015); Glorot & Bengio 2010 for tanh saturation; the seeds' table for zeros.
"""

from __future__ import annotations

import torch
from tests.probe.models import SmallResNet, SmallTransformer, mlp
from torch import nn

import initlab


def test_deep_tanh_small_std_vanishes(x64):
    # σ√n = 0.01·√128 = 0.11 per layer: the seeds' "W = 0.01 * randn" failure.
    dx = initlab.doctor(mlp(nn.Tanh, 20, 0.01), x64)
    assert dx.verdict == "vanishing"
    f = next(f for f in dx.findings if f.kind == "vanishing")
    assert 0.08 < f.evidence["forward_factor"] < 0.15
    assert "0.11× Xavier" in f.cause
    assert "policy='xavier'" in f.fix
    assert "tanh layers" in f.summary


def test_tanh_unit_gaussian_saturates(x64):
    dx = initlab.doctor(mlp(nn.Tanh, 10, 1.0), x64)
    assert dx.verdict == "saturated"
    tanh_rows = [r for r in dx.layers if r.activation == "tanh"]
    assert all(r.saturated > 0.5 for r in tanh_rows)
    f = dx.findings[0]
    assert f.kind == "saturated" and "policy='xavier'" in f.fix


def test_relu_zeros_is_symmetric(x64):
    dx = initlab.doctor(mlp(nn.ReLU, 6, "zeros"), x64)
    assert dx.verdict == "symmetric"
    assert dx.problems() == ("symmetric",)
    lin = [r for r in dx.layers if r.kind == "Linear"][:6]
    assert all(r.dup_rows == 1.0 and r.dup_grad_rows == 1.0 for r in lin)


def test_relu_xavier_depth_50_vanishes(x64):
    # He et al. 2015: Xavier keeps half the ReLU variance per layer: factor 1/√2 on the rms.
    dx = initlab.doctor(mlp(nn.ReLU, 50, "xavier", width=64), x64)
    assert dx.verdict == "vanishing"
    f = next(f for f in dx.findings if f.kind == "vanishing")
    assert abs(f.evidence["forward_factor"] - 2**-0.5) < 0.05
    assert "policy='he'" in f.fix and "0.71× He" in f.cause


def test_relu_unit_gaussian_explodes(x64):
    dx = initlab.doctor(mlp(nn.ReLU, 8, 1.0), x64)
    assert dx.verdict == "exploding"
    f = dx.findings[0]
    assert f.evidence["forward_factor"] > 5  # σ√(n/2) = 8 in expectation


def test_he_on_relu_is_healthy(x64):
    dx = initlab.doctor(mlp(nn.ReLU, 20, "he", width=64), x64)
    assert dx.verdict == "healthy" and dx.ok, str(dx)


def test_xavier_on_tanh_is_healthy(x64):
    dx = initlab.doctor(mlp(nn.Tanh, 20, "xavier", width=64), x64)
    assert dx.ok, str(dx)


def test_large_negative_biases_are_dead(x64):
    dx = initlab.doctor(mlp(nn.ReLU, 6, "he", bias=-5.0), x64)
    assert dx.verdict == "dead"
    assert dx.problems() == ("dead",)
    f = dx.findings[0]
    assert "negative biases" in f.cause and "zeros_(m.bias)" in f.fix


def test_input_0_255_gives_input_finding():
    g = torch.Generator().manual_seed(0)
    img = torch.randint(0, 256, (8, 3, 16, 16), generator=g).float()
    dx = initlab.doctor(SmallResNet(blocks=1), img)
    f = [f for f in dx.findings if f.kind == "input"]
    assert len(f) == 1 and "0–255" in f[0].summary and "/ 255" in f[0].fix
    assert len(dx.input.channel_mean) == 3


def test_unstandardized_input_warns(x64):
    dx = initlab.doctor(mlp(nn.ReLU, 3, "he"), x64 * 50 + 7)
    f = [f for f in dx.findings if f.kind == "input"]
    assert f and f[0].severity == "warning"


def test_resnet_with_bn_not_flagged():
    torch.manual_seed(0)
    x = torch.randn(8, 3, 16, 16, generator=torch.Generator().manual_seed(2))
    dx = initlab.doctor(SmallResNet(), x)
    assert dx.ok, str(dx)
    # in-place ReLU reused twice per block: each call is its own record
    assert any(r.call == 1 for r in dx.layers if r.activation == "relu")


def test_transformer_with_layernorm_not_flagged():
    torch.manual_seed(0)
    ids = torch.randint(0, 100, (4, 16), generator=torch.Generator().manual_seed(3))
    dx = initlab.doctor(SmallTransformer(), ids)
    assert dx.ok, str(dx)
    assert dx.input is not None and not dx.input.floating
    assert {"Embedding", "MultiheadAttention", "LayerNorm", "GELU"} <= {r.kind for r in dx.layers}


def test_thresholds_are_parameters(x64):
    net = mlp(nn.ReLU, 20, "xavier", width=64)
    assert initlab.doctor(net, x64).verdict == "vanishing"
    # a band wider than the whole collapse (2^-10) and no extreme cut: nothing is flagged
    dx = initlab.doctor(net, x64, band=1e12, extreme=1e12)
    assert dx.verdict == "healthy"
    assert dx.thresholds["band"] == 1e12


def test_small_classifier_is_not_vanishing(x64):
    """A classifier drawn from N(0, 0.01²) (initial logits ≈ 0) is deliberate, not a collapse."""
    net = mlp(nn.ReLU, 8, "he")
    initlab.normal_(net[-1].weight, 0.0, 0.01, generator=torch.Generator().manual_seed(5))
    dx = initlab.doctor(net, x64)
    assert dx.ok, str(dx)


def test_zeros_through_batchnorm_is_one_symmetric_finding():
    """conv → BN → ReLU with zero convs: the norm layer passes the symmetry on (no 'dead')."""
    from initlab.lab.starts import get_start

    net = get_start("zeros").apply(SmallResNet(blocks=1))
    dx = initlab.doctor(net, torch.randn(4, 3, 8, 8, generator=torch.Generator().manual_seed(0)))
    assert dx.problems() == ("symmetric",)
    assert "policy='he'" in dx.findings[0].fix, dx.notes  # conv → BN → ReLU: the ReLU decides
