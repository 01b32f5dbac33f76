"""ExperimentResult: the shared shape of reproductions and claims."""

import math

import pytest

from initlab.errors import InitError
from initlab.lab.experiment import Effect, ExperimentResult, Verdict, verdict_from_checks


def test_effect_stderr_is_sample_std_over_sqrt_n():
    # samples 1, 2, 3: sample std 1, n 3 → standard error 1/√3
    e = Effect.from_samples("x", [1.0, 2.0, 3.0], target=2.0)
    assert e.value == 2.0
    assert math.isclose(e.stderr, 1 / math.sqrt(3))
    assert e.agrees_with_target(rel_tol=0.0)
    lo, hi = e.interval()
    assert lo < 2.0 < hi


def test_effect_disagrees_when_far_from_target():
    e = Effect.from_samples("x", [1.0, 1.01, 0.99], target=2.0)
    assert not e.agrees_with_target(rel_tol=0.1)


def test_nonfinite_sample_never_agrees():
    e = Effect.from_samples("x", [1.0, float("nan")], target=1.0)
    assert not e.agrees_with_target(rel_tol=10.0)


def test_verdict_from_checks():
    assert verdict_from_checks([True]) is Verdict.SUPPORTED
    assert verdict_from_checks([True, False]) is Verdict.PARTLY
    assert verdict_from_checks([False]) is Verdict.NOT_SUPPORTED
    with pytest.raises(InitError):
        verdict_from_checks([])


def test_result_json_round_trip_with_nan():
    r = ExperimentResult(
        name="t", title="T", claim="c", source="s", verdict=Verdict.PARTLY, reason="r",
        effects=(Effect.from_samples("loss", [float("inf")]),),
        numbers={"curve": (1.0, float("nan"))}, settings={"quick": True},
    )
    back = ExperimentResult.from_json(r.to_json())
    assert back.verdict is Verdict.PARTLY
    assert math.isinf(back.effect("loss").value)
    assert back.numbers["curve"][1] == "nan"
    with pytest.raises(InitError, match="no effect"):
        back.effect("missing")


def test_bad_inputs():
    with pytest.raises(InitError):
        Effect.from_samples("x", [])
    with pytest.raises(InitError):
        ExperimentResult.from_dict({"schema": "other"})
    with pytest.raises(InitError, match="target"):
        Effect("x", 1.0).agrees_with_target(0.1)
