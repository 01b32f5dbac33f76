"""Claim 11 (new heads: transfer and multi-task) at a tiny size."""

import pytest

from initlab.errors import InitError
from initlab.lab.claims import run_claim
from initlab.lab.experiment import Verdict

TINY = {"width": 32, "pretrain_epochs": 2, "epochs": 2, "seeds": 3}


def test_fan_in_head_is_not_worse_and_beats_unit_variance():
    r = run_claim("new_heads", **TINY)
    x = r.effect("transfer accuracy: Xavier (own fan-in)")
    n1 = r.effect("transfer accuracy: N(0, 1)")
    assert x.value > n1.value
    assert r.numbers["checks"]["transfer_never_worse"] is True
    assert r.verdict != Verdict.NOT_SUPPORTED


def test_new_heads_verdict_flips_with_a_badly_scaled_fan_in_head():
    good = run_claim("new_heads", **TINY)
    bad = run_claim("new_heads", fanin_gain=10.0, **TINY)  # the "fan-in" head ×10 in std
    assert bad.numbers["checks"]["transfer_never_worse"] is False
    assert bad.verdict != good.verdict


@pytest.mark.parametrize("kw", [{"loss_weight": 0}, {"fanin_gain": -1.0}, {"width": 1}])
def test_new_heads_bad_input(kw):
    with pytest.raises(InitError):
        run_claim("new_heads", **{**TINY, **kw})
