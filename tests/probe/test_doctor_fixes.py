"""Verified fixes: tried on a copy, the finding says what changed, the model is untouched."""

from __future__ import annotations

import torch
from torch import nn

import initlab
from initlab.probe.fixes import best_fix, suggested_policies, verify_fixes


def _small_tanh() -> nn.Module:
    torch.manual_seed(0)
    net = nn.Sequential(*[m for _ in range(8) for m in (nn.Linear(32, 32), nn.Tanh())])
    with torch.no_grad():
        for m in net[::2]:
            m.weight.normal_(0, 0.01)
    return net


def test_verify_fixes_tries_on_a_copy_and_ranks_improving_fixes_first() -> None:
    net, x = _small_tanh(), torch.randn(16, 32, generator=torch.Generator().manual_seed(1))
    before = {k: v.clone() for k, v in net.state_dict().items()}
    dx = initlab.doctor(net, x)
    assert dx.verdict == "vanishing"
    assert "auto" in suggested_policies(dx)
    fixes = verify_fixes(net, x, before=dx)
    assert all(torch.equal(before[k], v) for k, v in net.state_dict().items())
    best = best_fix(fixes)
    assert best is not None and best.verdict_after == "healthy" and best.improves
    assert fixes[0] == best


def test_doctor_verify_says_what_the_fix_changed() -> None:
    net, x = _small_tanh(), torch.randn(16, 32, generator=torch.Generator().manual_seed(1))
    dx = initlab.doctor(net, x, verify=True)
    f = next(f for f in dx.findings if "verified" in f.evidence)
    assert "after initlab.init(model, x, policy=" in f.fix and "verdict" in f.fix
    assert f.evidence["verified"]["verdict_before"] == "vanishing"


def test_a_policy_that_refuses_the_model_is_reported_not_raised() -> None:
    net, x = _small_tanh(), torch.randn(16, 32)
    fixes = verify_fixes(net, x, policies=("fixup",))  # no residual branches: fixup refuses
    assert fixes[0].error and not fixes[0].improves and "not applicable" in fixes[0].summary()
