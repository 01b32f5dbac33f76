"""Claim 10 (input scale) at a tiny size."""

import math

import pytest

from initlab.errors import InitError
from initlab.lab.claims import run_claim
from initlab.lab.experiment import Verdict

TINY = {"width": 32, "depth": 3, "max_scale": 128, "epochs": 1, "seeds": 2, "lr": 0.1}


def test_input_scale_first_update_grows_linearly_in_s_and_training_breaks():
    r = run_claim("input_scale", **TINY)
    r1, rmax = r.effect("first-step r(1)").value, r.effect("first-step r(128)").value
    # homogeneity: r(s) ≈ s·r(1) until the softmax saturates (then δ is bounded): within ×3
    assert 128 * r1 / 3 < rmax < 128 * r1 * 3
    assert r.numbers["checks"]["first_update_catastrophic"]
    assert r.numbers["checks"]["training_overwhelmed"]
    assert r.verdict != Verdict.NOT_SUPPORTED


def test_input_scale_verdict_flips_when_inputs_are_standardized():
    r = run_claim("input_scale", preprocess="standardize", **TINY)
    assert not any(r.numbers["checks"].values())
    assert r.verdict == Verdict.NOT_SUPPORTED
    assert all(not math.isfinite(m) for m in r.numbers["s_measured"])


@pytest.mark.parametrize("kw", [{"max_scale": 1.0}, {"preprocess": "whiten"}, {"depth": 1},
                                {"lr": 0}])
def test_input_scale_bad_input(kw):
    with pytest.raises(InitError):
        run_claim("input_scale", **{**TINY, **kw})
