"""Claim 6 (optimistic initialization on a bandit) at a tiny size."""

import pytest

from initlab.errors import InitError
from initlab.lab.claims import run_claim
from initlab.lab.experiment import Verdict

TINY = {"arms": 5, "steps": 40, "width": 16, "seeds": 6}


def test_optimistic_bias_tries_every_arm_early():
    r = run_claim("optimistic", **TINY)
    # greedy + Q(a) = 5 ≫ every reward: each pull disappoints, so all 5 arms are tried first
    assert r.effect("arms tried early: optimistic").value == 5.0
    assert r.numbers["checks"]["explores_more"] is True
    assert r.verdict != Verdict.NOT_SUPPORTED


def test_optimistic_verdict_flips_with_zero_bias():
    # bias 0: the "optimistic" start is the zero-bias start, identical runs → no check holds
    r = run_claim("optimistic", optimistic_bias=0.0, **TINY)
    assert r.numbers["regret"]["optimistic"] == r.numbers["regret"]["zero bias"]
    assert r.verdict == Verdict.NOT_SUPPORTED


@pytest.mark.parametrize("kw", [{"arms": 1}, {"optimistic_bias": float("inf")},
                                {"large_std": 0}, {"steps": 0}])
def test_optimistic_bad_input(kw):
    with pytest.raises(InitError):
        run_claim("optimistic", **{**TINY, **kw})
