"""Claim 7 (NTK conditioning) at a tiny size."""

import pytest

from initlab.errors import InitError
from initlab.lab.claims import run_claim
from initlab.lab.claims.ntk import spearman
from initlab.lab.experiment import Verdict

TINY = {"width": 32, "depth": 4, "ntk_samples": 6, "seeds": 3}


def test_ntk_vanishing_is_degenerate_saturating_is_not():
    r = run_claim("ntk", **TINY)
    assert r.effect("log10 cond: vanishing − Xavier").value > 1.0
    assert r.numbers["checks"]["vanishing_degenerate"] is True
    # the chaotic (saturating) tanh start decorrelates inputs: its kernel is NOT degenerate
    assert r.effect("log10 cond: saturating − Xavier").value < 1.0
    assert r.numbers["checks"]["saturating_degenerate"] is False
    # He's kernel is ~2× Xavier's in scale (σ² = 2/fan_in vs 2/(fan_in+fan_out) ≈ 1/fan_in)
    assert r.effect("NTK trace ratio He/Xavier").value > 1.2
    assert r.verdict == Verdict.PARTLY


def test_ntk_verdict_flips_when_both_bad_starts_vanish():
    # the "saturating" start replaced by a vanishing one: both bad starts are now degenerate
    r = run_claim("ntk", saturating_var=0.05, **TINY)
    assert r.numbers["checks"]["saturating_degenerate"] is True
    assert r.verdict == Verdict.SUPPORTED


def test_spearman_and_bad_input():
    assert spearman([1, 2, 3, 4], [1, 3, 2, 4]) == pytest.approx(0.8)
    assert spearman([1, 1, 1], [1, 2, 3]) == 0.0
    with pytest.raises(InitError):
        run_claim("ntk", **{**TINY, "saturating_var": 0})
    with pytest.raises(InitError):
        run_claim("ntk", **{**TINY, "ntk_samples": 1})
