"""Policy options (``initlab.policies``): the ``critical`` policy on the edge of chaos of
initlab.theory.critical_init, the LSTM forget-gate bias of ``auto``, and their bad inputs."""

from __future__ import annotations

import math

import pytest
import torch
from tests.model.helpers import Z, check_plan
from torch import nn

import initlab
from initlab import theory
from initlab.errors import InitError
from initlab.lab import zoo
from initlab.model.plan import InitPlan


def _tanh_mlp() -> nn.Module:
    return zoo.deep_mlp(depth=4, width=256, in_features=128, out_features=10,
                        activation=nn.Tanh)  # fmt: skip


def test_critical_tanh_at_sigma_b2_005_matches_poole() -> None:
    """Poole et al. 2016 / Schoenholz et al. 2017 (oracles.md, tanh critical line, 1e-5 rel.):
    σ_b² = 0.05 ⇒ σ_w² = 1.760955, q* = 0.570048. Weights N(0, σ_w²/fan_in), biases
    N(0, σ_b²)."""
    m = _tanh_mlp()
    p = initlab.init(m, m.example_input(2), policy=initlab.policies.critical(sigma_b2=0.05),
                     seed=0)  # fmt: skip
    assert p.policy == "critical(sigma_b2=0.05)"
    for i in (0, 2, 4, 6):
        w = p[f"net.{i}.weight"]
        assert w.std == pytest.approx(math.sqrt(1.760955 / w.fan_in), rel=1e-5)
        assert w.scheme == initlab.schemes.critical(sigma_b2=0.05)
        for part in ("σ_w² = 1.76095", "σ_b² = 0.05", "q* = 0.570048", "χ₁ = 1"):
            assert part in w.reason, (part, w.reason)
        assert p[f"net.{i}.bias"].std == pytest.approx(math.sqrt(0.05), rel=1e-12)
    assert check_plan(m, p) == 10  # every written tensor's std within its sampling tolerance
    # the biases pooled: n = 4·256, SE(s) = σ/√(2n) for a normal sample
    b = torch.cat([m.net[i].bias.detach().double() for i in (0, 2, 4, 6)])
    se = math.sqrt(0.05) / math.sqrt(2 * b.numel())
    assert abs(float(b.std()) - math.sqrt(0.05)) <= Z * se
    # the linear readout has no critical point at σ_b² > 0: its default one (σ_w² = 1, b = 0)
    head = p["net.8.weight"]
    assert head.std == pytest.approx(1 / math.sqrt(256)) and "none at sigma_b2=0.05" in head.reason
    assert p["net.8.bias"].std == 0


def test_critical_string_form_and_q_star() -> None:
    """The string ``"critical(q_star=1)"`` is the same policy; tanh at q* = 1 (Xiao et al. 2018's
    parametrization): σ_w² = 1/E[tanh'(z)²], σ_b² = 1 − σ_w² E[tanh(z)²]."""
    m = _tanh_mlp()
    a = initlab.plan(m, m.example_input(2), policy="critical(q_star=1)")
    b = initlab.plan(m, m.example_input(2), policy=initlab.policies.critical(q_star=1.0))
    assert a == b and a.policy == "critical(q_star=1)"
    line = theory.critical_line("tanh", q_star=[1.0])
    w2, b2 = float(line.sigma_w2[0]), float(line.sigma_b2[0])
    assert a["net.0.weight"].std == pytest.approx(math.sqrt(w2 / 128), rel=1e-10)
    assert a["net.0.bias"].std == pytest.approx(math.sqrt(b2), rel=1e-10)
    assert "q* = 1 chosen" in a["net.0.weight"].reason


def test_critical_gelu_gets_a_stable_point() -> None:
    """GELU's σ_b = 0 critical point (σ_w² = 4, q* = 0) is unstable, and so is the point of the
    critical line with q* = 1 (length-map slope ≈ 1.07 > 1: input variances ≠ 1 drift away). The
    policy takes initlab.theory.critical_init's default: the smallest q* ≥ 1 whose fixed point
    attracts (slope ≤ 0.99). A mean-field check of that point: χ₁ = 1, q* reached from q⁰ = 1,
    slope < 1 (Schoenholz et al. 2017's ξ_q bracket)."""
    m = zoo.deep_mlp(depth=2, width=128, in_features=64, activation=nn.GELU)
    p = initlab.init(m, m.example_input(2), policy="critical", seed=1)
    w, b = p["net.0.weight"], p["net.0.bias"]
    w2, b2 = w.std**2 * w.fan_in, b.std**2
    ci = theory.critical_init("gelu")
    assert w2 == pytest.approx(ci.sigma_w2, rel=1e-10) and b2 == pytest.approx(ci.sigma_b2)
    assert abs(w2 - 4.0) > 1.0
    mf = theory.MeanField("gelu", sigma_w2=w2, sigma_b2=b2)  # from q⁰ = 1
    assert mf.chi1 == pytest.approx(1.0, abs=1e-8) and mf.q_star == pytest.approx(ci.q_star)
    assert mf.q_star > 1.0 and mf.q_stable and mf.length_slope < 1.0
    assert "unstable" in w.reason and "attracts" in w.reason
    assert check_plan(m, p) == 6


def test_critical_gelu_q_star_1_is_given_but_flagged() -> None:
    """Asked for explicitly, GELU's q* = 1 point is used, and the row warns that q* repels."""
    m = zoo.deep_mlp(depth=2, width=128, in_features=64, activation=nn.GELU)
    p = initlab.plan(m, m.example_input(2), policy="critical(q_star=1)")
    w = p["net.0.weight"]
    line = theory.critical_line("gelu", q_star=[1.0])
    assert w.std**2 * w.fan_in == pytest.approx(float(line.sigma_w2[0]), rel=1e-10)
    assert "q* = 1 chosen" in w.reason and "q* repels" in w.reason


def test_critical_tanh_and_relu_default_to_zero_bias() -> None:
    """tanh's and ReLU's σ_b = 0 critical points are stable: σ_w² = 1 and 2, biases 0."""
    m = zoo.functional_net(width=32, in_features=16)
    p = initlab.plan(m, m.example_input(2), policy="critical")
    assert p["fc_tanh.weight"].std == pytest.approx(1 / math.sqrt(32), rel=1e-6)
    assert p["fc_relu.weight"].std == pytest.approx(math.sqrt(2 / 16), rel=1e-6)
    assert p["fc_tanh.bias"].std == 0 and p["fc_relu.bias"].std == 0
    assert "the σ_b = 0 point is stable" in p["fc_tanh.weight"].reason


def test_critical_scheme_as_a_rule() -> None:
    """``initlab.schemes.critical(sigma_b2=...)`` as a rule: a bias (no fans) gets N(0, σ_b²)."""
    m = _tanh_mlp()
    rule = initlab.schemes.critical(sigma_b2=0.05)
    p = initlab.plan(m, m.example_input(2), rules=[("net.2.*", rule)])
    assert p["net.2.weight"].std == pytest.approx(math.sqrt(1.760955 / 256), rel=1e-5)
    assert p["net.2.bias"].std == pytest.approx(math.sqrt(0.05))
    with pytest.raises(InitError, match=r"scheme critical\(sigma_b2=0\.05\).*only at sigma_b2 = 0"):
        initlab.plan(m, m.example_input(2), rules=[("net.8.weight", rule)])


def test_lstm_forget_gate_bias_is_one_under_auto() -> None:
    """Jozefowicz et al. 2015 (sec. 3; after Gers et al. 2000): initialize the LSTM forget-gate
    bias to 1. torch's gate order is (i, f, g, o) and it adds bias_ih + bias_hh: the 1 goes into
    bias_ih's second block, bias_hh is 0; so each gate's total bias is (0, 1, 0, 0)."""
    m = zoo.lstm_model(hidden=16)
    p = initlab.init(m, m.example_input(2), seed=0)
    for layer in (0, 1):
        row = p[f"rnn.bias_ih_l{layer}"]
        assert row.scheme == initlab.schemes.gate_constant(0, 1, 0, 0)
        assert "forget-gate bias 1" in row.reason and "Jozefowicz" in row.reason
        total = getattr(m.rnn, f"bias_ih_l{layer}") + getattr(m.rnn, f"bias_hh_l{layer}")
        assert torch.equal(total.detach(), torch.tensor([0.0, 1.0, 0.0, 0.0]).repeat_interleave(16))
    assert check_plan(m, p) > 0
    assert "= 0/1/0/0" in str(p)  # the table shows the gate values
    q = InitPlan.from_json(p.to_json())
    assert q == p
    # the option: 0 gives all-zero biases (also through the string form); GRU is untouched
    p0 = initlab.init(m, m.example_input(2), policy=initlab.policies.auto(lstm_forget_bias=0))
    assert p0.policy == "auto(lstm_forget_bias=0)"
    assert float(m.rnn.bias_ih_l0.detach().abs().sum()) == 0
    assert initlab.plan(m, m.example_input(2), policy="auto(lstm_forget_bias=2)")[
        "rnn.bias_ih_l0"].scheme == initlab.schemes.gate_constant(0, 2, 0, 0)
    pc = initlab.plan(m, m.example_input(2), policy="critical")  # recurrent layers: as auto
    assert pc["rnn.bias_ih_l0"].scheme == initlab.schemes.gate_constant(0, 1, 0, 0)
    assert pc["rnn.weight_hh_l0"].reason.startswith("no single-activation critical point")
    g = zoo.gru_model()
    pg = initlab.plan(g, g.example_input(2))
    assert pg["rnn.bias_ih_l0"].std == 0 and pg["rnn.bias_ih_l0"].mean == 0


def test_lstm_cell_forget_gate_bias() -> None:
    cell = nn.LSTMCell(4, 8)
    p = initlab.init(cell, (torch.randn(2, 4),))
    assert torch.equal(cell.bias_ih.detach().view(4, 8).mean(1), torch.tensor([0.0, 1, 0, 0]))
    assert torch.all(cell.bias_hh == 0) and "forget-gate" in p["bias_ih"].reason


@pytest.mark.parametrize(("policy", "message"), [
    ("critical(sigma_b2=0.05, q_star=1)", "pass sigma_b2= or q_star=, not both"),
    ("critical(sigma_w2=2)", "unknown option 'sigma_w2'; it takes sigma_b2, q_star"),
    ("critical(sigma_b2=-1)", "sigma_b2 must be a finite variance ≥ 0, got '-1'"),
    ("critical(sigma_b2=abc)", "sigma_b2 must be a finite variance"),
    ("critical(0.05)", r"expected name\(key=value, \.\.\.\)"),
    ("he(sigma_b2=0.05)", "policy 'he': unknown option 'sigma_b2'; it takes no options"),
    ("auto(lstm_forget_bias=inf)", "lstm_forget_bias must be a finite number"),
    ("kaiming(x=1)", r"unknown policy 'kaiming'; use one of auto, torch"),
    (3, "policy must be a name such as 'auto' or an initlab.policies value, got int"),
])  # fmt: skip
def test_bad_policy_options_say_what_to_change(policy: object, message: str) -> None:
    with pytest.raises(InitError, match=message):
        initlab.plan(nn.Linear(2, 2), torch.randn(1, 2), policy=policy)  # type: ignore[arg-type]


def test_bad_scheme_options() -> None:
    with pytest.raises(InitError, match="not both"):
        initlab.schemes.critical(sigma_b2=0.1, q_star=1.0)
    with pytest.raises(InitError, match="q_star must be a finite number ≥ 0"):
        initlab.schemes.critical(q_star=-1)
    with pytest.raises(InitError, match="one finite number per gate"):
        initlab.schemes.gate_constant()
    with pytest.raises(InitError, match=r"multiple of 4 .*shape \(6,\)"):
        initlab.plan(nn.Linear(3, 6), torch.randn(1, 3),
                     rules=[("bias", initlab.schemes.gate_constant(0, 1, 0, 0))])  # fmt: skip
