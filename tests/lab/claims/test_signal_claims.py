"""Claims 1–3 at tiny sizes: the verdict is computed, and flipping the key input flips it."""

import json

import pytest

from initlab.errors import InitError
from initlab.lab.claims import available_claims, claim_module, run_claim
from initlab.lab.experiment import ExperimentResult, Verdict


def _roundtrip(r: ExperimentResult) -> None:
    back = ExperimentResult.from_json(r.to_json())
    assert back.verdict == r.verdict and back.effects == r.effects
    json.loads(r.to_json())  # strict JSON (no NaN)


SYM = {"width": 8, "steps": 60, "epsilons": (0.0, 1e-8, 1.0), "seeds": 2}


def test_symmetry_identical_stays_identical_and_tiny_eps_is_not_enough():
    r = run_claim("symmetry", **SYM)
    _roundtrip(r)
    # identical weights: the hidden units stay identical to round-off (float64)
    assert r.effect("spread at ε=0").value < 1e-6
    # ε = 1e-8 grows (×10^k) but does not train to Xavier's accuracy in 60 steps
    assert r.effect("spread growth at ε=1e-08").value > 10
    assert r.numbers["checks"]["identical_stays_identical"] is True
    assert r.verdict == Verdict.PARTLY


def test_symmetry_verdict_flips_when_the_start_is_not_identical():
    # the control: independent random weights instead of identical ones → check 1 fails
    r = run_claim("symmetry", base="random", **SYM)
    assert r.effect("spread at ε=0").value > 0.1
    assert r.numbers["checks"]["identical_stays_identical"] is False
    assert r.verdict == Verdict.NOT_SUPPORTED
    # and a perturbation that is not tiny trains like Xavier → check 2 can pass
    r2 = run_claim("symmetry", width=8, steps=60, epsilons=(0.0, 1.0), seeds=2)
    assert r2.numbers["checks"]["tiny_perturbation_breaks"] is True
    assert r2.verdict == Verdict.SUPPORTED


@pytest.mark.parametrize("kw", [{"epsilons": (1e-3,)}, {"epsilons": (0.0,)},
                                {"base": "ones"}, {"width": 1}, {"lr": -1}])
def test_symmetry_bad_input(kw):
    with pytest.raises(InitError):
        run_claim("symmetry", **{**SYM, **kw})


LIN = {"widths": (32,), "variances": (0.5, 2.0), "depth": 4, "seeds": 3}


def test_linear_variance_matches_formula_and_relu_control_flips():
    r = run_claim("linear_variance", **LIN)
    _roundtrip(r)
    assert r.verdict == Verdict.SUPPORTED
    # ReLU after each layer halves the factor: n·σ² no longer predicts it
    r2 = run_claim("linear_variance", activation="relu", **LIN)
    assert r2.verdict == Verdict.NOT_SUPPORTED
    # tolerance: 3 s.e. of the ratio of ~n·b Gaussian squares, relative sd √(2/(n·b)) per layer
    assert abs(r2.effect("n=32, nσ²=2").value - 1.0) < 0.15


def test_linear_variance_bad_input():
    with pytest.raises(InitError, match="activation"):
        run_claim("linear_variance", activation="gelu", **LIN)
    with pytest.raises(InitError, match="variances"):
        run_claim("linear_variance", widths=(8,), variances=(-1.0,), depth=2, seeds=2)


def test_relu_variance_xavier_halves_he_keeps_and_tanh_control_flips():
    r = run_claim("relu_variance", width=64, depth=5, seeds=3)
    _roundtrip(r)
    assert r.verdict == Verdict.SUPPORTED
    assert abs(r.effect("Xavier forward").value - 0.5) < 0.08
    r2 = run_claim("relu_variance", width=64, depth=5, seeds=3, activation="tanh")
    assert r2.verdict != Verdict.SUPPORTED
    assert not r2.effect("Xavier forward").agrees_with_target(0.05)


def test_registry_lists_and_rejects():
    names = available_claims()
    assert names[:3] == ["symmetry", "linear_variance", "relu_variance"]
    for n in names:
        m = claim_module(n)
        assert m.NAME == n and m.CLAIM and m.SOURCE and callable(m.run)
    with pytest.raises(InitError, match="unknown claim"):
        claim_module("nope")


def test_common_stats_helpers():
    import math

    from initlab.lab.claims._common import differs, fit_line, seed_list, stderr

    assert math.isnan(stderr([1.0, math.inf])) and stderr([2.0]) == 0.0
    assert stderr([1.0, 3.0]) == pytest.approx(1.0)
    # an infinite sample makes the comparison fail, never pass
    assert not differs([1.0, math.inf], [0.0, 0.0]) > 2
    b, se, a = fit_line([0, 1, 2, 3], [1, 3, 5, 7])
    assert (b, se, a) == pytest.approx((2.0, 0.0, 1.0))
    assert seed_list(None, True, 3, 8) == [0, 1, 2] and seed_list([4, 5], True) == [4, 5]
    with pytest.raises(InitError):
        seed_list([-1], True)
    with pytest.raises(InitError):
        fit_line([1, 1], [2, 3])
