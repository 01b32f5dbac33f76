"""One scheme mechanism end to end (issue 10, item 1): a scheme kind is one registered resolver;
plans, rules, JSON, apply_plan and ``scheme(tensor)`` all go through it."""

import math

import pytest
import torch
from torch import nn

import initlab
from initlab.core.fans import Fans
from initlab.errors import InitError
from initlab.model.specs import (
    Resolved,
    Scheme,
    Target,
    register_scheme,
    scheme_kinds,
    unregister_scheme,
    variance_call,
)


def gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def test_a_scheme_value_draws_what_the_core_function_draws():
    """xavier()(t) is variance_scaling_(t, 1, fan_avg, normal) value for value (same call)."""
    a = initlab.schemes.xavier()(torch.empty(64, 32), generator=gen(0))
    b = initlab.variance_scaling_(torch.empty(64, 32), 1.0, "fan_avg", "normal", generator=gen(0))
    assert torch.equal(a, b)
    c = initlab.schemes.gate_constant(0, 1, 0, 0)(torch.empty(8))
    assert c.tolist() == [0, 0, 1, 1, 0, 0, 0, 0]


def test_scheme_call_uses_the_activation_gain_and_given_fans():
    w = initlab.schemes.he()(torch.empty(512, 256), activation="relu", fans=Fans(128, 512),
                             generator=gen(0))
    # 131072 draws: relative SE of the sample variance √(2/n) ≈ 0.004; 5 SE
    assert w.var().item() == pytest.approx(2 / 128, rel=0.02)
    with pytest.raises(InitError, match=r"expected a torch\.Tensor"):
        initlab.schemes.he()([1.0, 2.0])


def test_a_registered_scheme_works_in_rules_plans_json_and_apply():
    """Adding a scheme is one function: here a half-variance Xavier."""

    @register_scheme("half_xavier", by_name=lambda: Scheme("half_xavier"))
    def _half(s: Scheme, t: Target) -> Resolved:
        return variance_call(s, t, math.sqrt(0.5), "fan_avg")

    try:
        assert "half_xavier" in scheme_kinds()
        m = nn.Sequential(nn.Linear(64, 64), nn.Tanh(), nn.Linear(64, 8))
        p = initlab.init(m, torch.randn(2, 64), rules=[("0.weight", "half_xavier")])
        row = p["0.weight"]
        assert row.scheme == Scheme("half_xavier")
        assert row.std == pytest.approx(math.sqrt(0.5 * 2 / 128), rel=1e-12)
        assert initlab.InitPlan.from_json(p.to_json()) == p
        m2 = nn.Sequential(nn.Linear(64, 64), nn.Tanh(), nn.Linear(64, 8))
        initlab.apply_plan(m2, p)
        assert torch.equal(m[0].weight, m2[0].weight)
    finally:
        unregister_scheme("half_xavier")
    with pytest.raises(InitError, match="unknown kind 'half_xavier'"):
        Scheme.from_dict({"kind": "half_xavier"})


def test_register_scheme_rejects_a_bad_name():
    with pytest.raises(InitError, match="identifier"):
        register_scheme("not a name")


def test_plan_call_must_name_a_core_initializer():
    from initlab.model.specs import draw

    with pytest.raises(InitError, match=r"not an initlab\.core initializer"):
        draw(("os.system", {}), torch.empty(2))


def test_identity_std_counts_every_group_of_a_grouped_conv():
    """dirac_ with groups writes groups·min(out/groups, in/groups) ones (torch.nn.init.dirac_):
    the plan's std must be the written tensor's rms (a depthwise conv has C ones, not 1)."""
    for groups, cin, cout in ((1, 4, 6), (2, 4, 6), (8, 8, 8), (4, 8, 16)):
        m = nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1, groups=groups))
        p = initlab.plan(m, torch.randn(1, cin, 5, 5), rules=[("0.weight", "identity")])
        initlab.apply_plan(m, p)
        rms = m[0].weight.detach().pow(2).mean().sqrt().item()
        assert p["0.weight"].std == pytest.approx(rms, rel=1e-6), (groups, cin, cout)
