"""Claim 12 (MAML learns a larger initial variance on steep tasks?) at a tiny size."""

import pytest

from initlab.errors import InitError
from initlab.lab.claims import run_claim
from initlab.lab.claims.maml import FLAT, STEEP
from initlab.lab.experiment import Verdict

TINY = {"width": 20, "iterations": 40, "meta_batch": 4, "meta_lr": 3e-3, "seeds": 3}


def test_maml_verdict_is_measured_and_flips_when_the_families_swap():
    r = run_claim("maml", **TINY)
    # measured: on the steep family MAML shrinks fan_in·Var(W), on the flat one it grows it
    assert r.verdict == Verdict.NOT_SUPPORTED
    assert r.effect("variance ratio: steep").value < r.effect("variance ratio: flat").value
    swapped = run_claim("maml", steep=FLAT, flat=STEEP, **TINY)
    assert swapped.numbers["checks"]["steep_more_than_flat"] is True
    assert swapped.verdict != r.verdict


@pytest.mark.parametrize("kw", [{"steep": (1.0, 0.5, 1.0, 2.0)}, {"flat": (1.0,)},
                                {"inner_lr": 0}, {"shots": 0}])
def test_maml_bad_input(kw):
    with pytest.raises(InitError):
        run_claim("maml", **{**TINY, **kw})
