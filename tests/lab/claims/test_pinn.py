"""Claim 8 (PINN gradient 'equals c') at a tiny size; the verdict function on known inputs."""

import pytest

from initlab.errors import InitError
from initlab.lab.claims import run_claim
from initlab.lab.claims.pinn import verdict_from_gradients
from initlab.lab.experiment import Verdict

TINY = {"width": 16, "depth": 2, "speeds": (0.5, 2.0, 8.0, 32.0), "n_residual": 128,
        "n_initial": 32, "seeds": 3}


def test_pinn_gradient_grows_like_c_squared_not_c():
    r = run_claim("pinn", **TINY)
    assert r.verdict == Verdict.NOT_SUPPORTED
    # for large c the residual term ≈ c²·mean(u_x²): slope → 2 (tolerance: 3 s.e. + 0.3)
    tail = r.effect("log-log slope at the three largest c")
    assert abs(tail.value - 2) < 0.3 + 3 * tail.stderr
    # ... while the residual itself scales like c
    assert r.effect("rms residual / c at c=32").value > 0.1


def test_pinn_verdict_is_computed_from_the_gradients():
    # the same verdict function flips when the measured magnitudes do equal c
    cs = [0.5, 2.0, 8.0]
    assert verdict_from_gradients(cs, [[c, c * 1.01] for c in cs])[0] == Verdict.SUPPORTED
    v, checks, _, _ = verdict_from_gradients(cs, [[3 * c, 3.1 * c] for c in cs])
    assert v == Verdict.PARTLY and checks == {"equal_to_c": False, "proportional_to_c": True}
    assert verdict_from_gradients(cs, [[c * c, c * c] for c in cs])[0] == Verdict.NOT_SUPPORTED


@pytest.mark.parametrize("kw", [{"speeds": (1.0,)}, {"speeds": (1.0, 1.0)},
                                {"speeds": (-1.0, 2.0)}, {"width": 0}])
def test_pinn_bad_input(kw):
    with pytest.raises(InitError):
        run_claim("pinn", **{**TINY, **kw})
