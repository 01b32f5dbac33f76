"""Claim 9 (RNN memory) at a tiny size: the verdict is computed and flips with the inputs."""

import pytest

from initlab.errors import InitError
from initlab.lab.claims import run_claim
from initlab.lab.experiment import ExperimentResult, Verdict

TINY = {"hidden": 16, "lengths": (25,), "steps": 60, "horizon": 30, "seeds": 2}


def test_rnn_memory_vanishing_init_loses_memory():
    r = run_claim("rnn_memory", **TINY)
    assert ExperimentResult.from_json(r.to_json()).verdict == r.verdict
    # gain 0.5 (ordered phase): ‖∂h_t/∂h_0‖ falls ~×e^{-0.6} per step; identity keeps it exactly
    assert r.effect("λ small Gaussian").value < -0.3
    assert abs(r.effect("λ identity").value) < 1e-9
    assert r.effect("λ large Gaussian").value > 0
    assert r.numbers["checks"]["vanishes"] is True
    assert r.verdict != Verdict.NOT_SUPPORTED


def test_rnn_memory_verdict_flips_when_noise_overwrites_every_memory():
    # distractor inputs of std 1 overwrite the state whatever the init: no check holds
    r = run_claim("rnn_memory", input_noise=1.0, **TINY)
    assert r.numbers["checks"] == {"vanishes": False, "explodes": False, "preserved": False}
    assert r.verdict == Verdict.NOT_SUPPORTED


@pytest.mark.parametrize("kw", [{"hidden": 1}, {"lengths": (0,)}, {"small_gain": 0},
                                {"input_noise": -1.0}, {"horizon": 2}])
def test_rnn_memory_bad_input(kw):
    with pytest.raises(InitError):
        run_claim("rnn_memory", **{**TINY, **kw})
