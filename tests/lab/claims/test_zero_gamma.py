"""Claim 5 (zero-γ residual blocks) at a tiny size."""

import pytest
import torch

from initlab.errors import InitError
from initlab.lab.claims import run_claim
from initlab.lab.claims.zero_gamma import ResidualMLP
from initlab.lab.experiment import Verdict

TINY = {"blocks": 3, "width": 16, "epochs": 1, "seeds": 2}


def test_zero_gamma_is_identity_with_undiminished_gradient():
    r = run_claim("zero_gamma", **TINY)
    # exact: BN with γ = 0, β = 0 outputs 0, and ReLU(h_0 + 0) = h_0 for h_0 = ReLU(...) ≥ 0
    assert r.effect("deviation from identity: zero-γ").value == 0.0
    assert r.effect("stem-gradient ratio deep/shallow: zero-γ").value == pytest.approx(1, 1e-5)
    assert r.effect("deviation from identity: standard").value > 0.5
    assert r.numbers["checks"]["identity"] and r.numbers["checks"]["undiminished"]
    assert r.verdict != Verdict.NOT_SUPPORTED


def test_zero_gamma_verdict_flips_with_gamma_one():
    # the "zero-γ" arm with γ = 1 is the standard network: neither identity nor undiminished
    r = run_claim("zero_gamma", zero_value=1.0, **TINY)
    assert not r.numbers["checks"]["identity"] and not r.numbers["checks"]["undiminished"]
    assert r.verdict != run_claim("zero_gamma", **TINY).verdict


def test_zero_gamma_bad_input_and_model():
    with pytest.raises(InitError):
        run_claim("zero_gamma", zero_value=float("nan"), **TINY)
    with pytest.raises(InitError):
        run_claim("zero_gamma", **{**TINY, "blocks": 0})
    m = ResidualMLP(2, 8)
    assert m(torch.zeros(4, 64)).shape == (4, 10)
