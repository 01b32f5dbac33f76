"""Functional activations (F.relu, torch.tanh, x.sigmoid(), in-place variants, SwiGLU products):
observed like activation modules, with the same statistics and statuses as the ``nn`` twin.

Expected verdicts as in test_doctor_zoo.py: Xavier on ReLU keeps half the variance per layer
(He et al. 2015: factor 1/√2 on the rms), He keeps it; tanh with N(0, 1) weights of fan 128 has
pre-activation std ≈ √128 ≫ 1, so nearly every unit sits on a flat tail (Glorot & Bengio 2010).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch
import torch.nn.functional as F
from tests.probe.models import mlp
from torch import nn

import initlab
from initlab.lab import zoo


class FunctionalMLP(nn.Module):
    """The Linear layers of an ``mlp(...)`` twin (same modules, so same weights), with the
    activation applied as a function in forward."""

    def __init__(self, twin: nn.Sequential, fn: Callable[[torch.Tensor], torch.Tensor]) -> None:
        super().__init__()
        self.layers = nn.ModuleList(m for m in twin if isinstance(m, nn.Linear))
        self.fn = fn

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for lin in self.layers[:-1]:
            x = self.fn(lin(x))
        return self.layers[-1](x)


RELUS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "F.relu": F.relu,
    "torch.relu": torch.relu,
    "x.relu()": lambda x: x.relu(),
    "F.relu(inplace=True)": lambda x: F.relu(x, inplace=True),
    "x.relu_()": lambda x: x.relu_(),
}
TANHS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "torch.tanh": torch.tanh,
    "F.tanh": F.tanh,
    "x.tanh_()": lambda x: x.tanh_(),
}

_COMPARED = ("mean", "std", "rms", "max_abs", "gain", "dead", "saturated", "grad_rms", "status")


def _same_rows(a: initlab.probe.Diagnosis, b: initlab.probe.Diagnosis) -> None:
    assert len(a.layers) == len(b.layers)
    for ra, rb in zip(a.layers, b.layers, strict=True):
        assert (ra.role, ra.kind, ra.activation) == (rb.role, rb.kind, rb.activation)
        for key in _COMPARED:
            va, vb = getattr(ra, key), getattr(rb, key)
            if isinstance(va, float):
                # same weights, same input, same ops: equal up to float rounding
                assert va == pytest.approx(vb, rel=1e-6, abs=1e-12), (ra.label, key)
            else:
                assert va == vb, (ra.label, key)
    assert a.verdict == b.verdict


def test_functional_relu_xavier_depth_30_vanishes(x64):
    dx = initlab.doctor(FunctionalMLP(mlp(nn.ReLU, 30, "xavier", width=64), F.relu), x64)
    assert dx.verdict == "vanishing"
    relu_rows = [r for r in dx.layers if r.role == "activation"]
    assert len(relu_rows) == 30
    assert all(r.kind == "ReLU" and r.dead is not None for r in relu_rows)
    assert relu_rows[0].label == "layers.0.relu"
    f = next(f for f in dx.findings if f.kind == "vanishing")
    # 30 layers at 64 units: the fitted per-layer factor is 1/√2 to a few percent
    assert abs(f.evidence["forward_factor"] - 2**-0.5) < 0.05
    assert "policy='he'" in f.fix and "0.71× He" in f.cause


def test_functional_relu_he_is_healthy(x64):
    dx = initlab.doctor(FunctionalMLP(mlp(nn.ReLU, 30, "he", width=64), F.relu), x64)
    assert dx.verdict == "healthy" and dx.ok, str(dx)
    assert sum(r.role == "activation" for r in dx.layers) == 30


def test_functional_tanh_unit_gaussian_saturates(x64):
    dx = initlab.doctor(FunctionalMLP(mlp(nn.Tanh, 10, 1.0), torch.tanh), x64)
    assert dx.verdict == "saturated"
    tanh_rows = [r for r in dx.layers if r.activation == "tanh"]
    assert len(tanh_rows) == 10 and all(r.saturated > 0.5 for r in tanh_rows)
    assert dx.findings[0].kind == "saturated" and "policy='xavier'" in dx.findings[0].fix


@pytest.mark.parametrize("variant", list(RELUS))
def test_functional_relu_stats_equal_nn_twin(x64, variant):
    twin = mlp(nn.ReLU, 6, "he", width=64, bias=-0.3)  # some dead units: dead share is compared
    ref = initlab.doctor(twin, x64)
    dx = initlab.doctor(FunctionalMLP(twin, RELUS[variant]), x64)
    _same_rows(dx, ref)
    assert any(r.dead for r in dx.layers if r.role == "activation")


def test_inplace_nn_relu_twin_matches_functional(x64):
    twin = mlp(nn.ReLU, 6, "he", width=64)
    inplace_twin = nn.Sequential(
        *[nn.ReLU(inplace=True) if isinstance(m, nn.ReLU) else m for m in twin]
    )
    _same_rows(
        initlab.doctor(FunctionalMLP(twin, RELUS["x.relu_()"]), x64),
        initlab.doctor(inplace_twin, x64),
    )


@pytest.mark.parametrize("variant", list(TANHS))
def test_functional_tanh_stats_equal_nn_twin(x64, variant):
    twin = mlp(nn.Tanh, 6, 0.2)  # σ√n = 2.3: partly saturated, the share is compared
    ref = initlab.doctor(twin, x64)
    dx = initlab.doctor(FunctionalMLP(twin, TANHS[variant]), x64)
    _same_rows(dx, ref)
    assert all(0 < r.saturated < 1 for r in dx.layers if r.role == "activation")


def test_functional_leaky_relu_keeps_its_slope(x64):
    twin = nn.Sequential(nn.Linear(64, 64), nn.LeakyReLU(0.2), nn.Linear(64, 4))
    dx = initlab.doctor(FunctionalMLP(twin, lambda x: F.leaky_relu(x, 0.2)), x64)
    _same_rows(dx, initlab.doctor(twin, x64))


def test_zoo_functional_net_rows():
    m = zoo.functional_net()
    dx = initlab.doctor(m, m.example_input(64))
    acts = {r.label: (r.kind, r.activation) for r in dx.layers if r.role == "activation"}
    assert acts == {
        "fc_relu.relu": ("ReLU", "relu"),
        "fc_tanh.tanh": ("Tanh", "tanh"),
        "fc_sigmoid.sigmoid": ("Sigmoid", "sigmoid"),
        "fc_gelu.gelu": ("GELU", "gelu"),
        "w_gate.silu": ("SiLU", "silu"),
        "swiglu": ("GatedProduct", "swiglu"),
    }
    rows = {r.label: r for r in dx.layers}
    assert rows["fc_relu.relu"].dead is not None and rows["fc_tanh.tanh"].saturated is not None
    assert rows["swiglu"].grad_rms is not None and rows["swiglu"].gain is not None
    assert [r.label for r in dx.layers].index("swiglu") == [r.label for r in dx.layers].index(
        "w_up"
    ) + 1
    assert any("6 activation point(s)" in n for n in dx.notes)


def test_nn_activations_are_not_counted_twice(x64):
    # nn.ReLU calls F.relu inside: one row per activation, not two
    dx = initlab.doctor(mlp(nn.ReLU, 4, "he"), x64)
    assert len(dx.layers) == 9
    assert not any("observed as function calls" in n for n in dx.notes)


def test_functional_activation_before_any_layer_and_in_loss_is_ignored(x64):
    class Pre(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.fc = nn.Linear(64, 4)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.fc(torch.tanh(x))  # input preprocessing, not a post-activation point

    dx = initlab.doctor(Pre(), x64, loss_fn=lambda y: torch.sigmoid(y).sum())
    assert [r.label for r in dx.layers] == ["fc"]


def test_healthy_zoo_models_with_functional_relu_stay_healthy():
    # zoo.resnet applies F.relu after BN (He et al. 2016): now observed, still healthy
    m = zoo.resnet()
    dx = initlab.doctor(m, m.example_input(16))
    assert sum(r.kind == "ReLU" for r in dx.layers) == 7
    assert dx.ok, str(dx)
    m = zoo.tiny_llama()
    dx = initlab.doctor(m, m.example_input(4))
    # one SwiGLU product per block; rotary products (q·cos) are not gated products
    assert sum(r.activation == "swiglu" for r in dx.layers) == 2
    assert sum(r.kind == "GatedProduct" for r in dx.layers) == 2
    assert dx.ok, str(dx)


@pytest.mark.parametrize("factory", [zoo.functional_net, zoo.resnet])
def test_functional_taps_read_back_once_and_leave_the_model_alone(monkeypatch, factory):
    m = factory()
    x = m.example_input(8)
    before = {k: v.clone() for k, v in m.state_dict().items()}
    calls = {"item": 0, "tolist": 0, "bool": 0, "cpu": 0}
    for name, key in (("item", "item"), ("tolist", "tolist"), ("__bool__", "bool"), ("cpu", "cpu")):
        orig = getattr(torch.Tensor, name)

        def spy(self, *a, _orig=orig, _key=key, **k):
            calls[_key] += 1
            return _orig(self, *a, **k)

        monkeypatch.setattr(torch.Tensor, name, spy)
    dx = initlab.doctor(m, x)
    monkeypatch.undo()
    assert calls == {"item": 0, "tolist": 0, "bool": 0, "cpu": 1}
    assert any(r.role == "activation" for r in dx.layers)
    after = m.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)
    assert all(p.grad is None for p in m.parameters())
