"""Mean-field math in theory/ only (issue 10, item 3): ``initlab.gain(kind="critical")`` is
answered by ``theory.critical.critical_gain``, which uses the same critical-line
parametrization, slope M'(q) and stability test as ``critical_init``: one implementation, one
answer."""

import pytest

import initlab
from initlab.core import gains
from initlab.errors import InitError
from initlab.theory import critical, critical_init


def test_core_gain_delegates_to_theory():
    assert gains._HIGHER_KINDS["critical"] is critical.critical_gain
    assert initlab.critical_point is critical.critical_point
    for name in ("critical_point", "second_moment_slope", "_critical_sigma_b2"):
        assert not hasattr(gains, name), f"core.gains still defines {name}"


@pytest.mark.parametrize("name", ["tanh", "gelu", "silu", "erf", "sigmoid"])
@pytest.mark.parametrize("b2", [0.0, 0.05, 0.5])
def test_gain_returns_exactly_where_critical_init_says_stable(name, b2):
    """Where critical_init(sigma_b2=b) says the point attracts, gain gives its σ_w (to 1e-12);
    where it says it repels, gain refuses and names critical_init, which picks a stable one."""
    try:
        ci = critical_init(name, sigma_b2=b2)
    except InitError:
        with pytest.raises(InitError):
            initlab.gain(name, kind="critical", sigma_b2=b2)
        return
    if ci.q_stable:
        assert initlab.gain(name, kind="critical", sigma_b2=b2) == pytest.approx(ci.sigma_w,
                                                                                 rel=1e-12)
    else:
        with pytest.raises(InitError, match=r"unstable fixed point.*critical_init"):
            initlab.gain(name, kind="critical", sigma_b2=b2)


def test_unknown_gain_kind():
    with pytest.raises(InitError, match="kind must be"):
        initlab.gain("relu", kind="chaos")  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", [None, "x", [0.1]])
def test_critical_point_bad_sigma_b2_is_an_init_error(bad):
    """A non-number σ_b² is an InitError naming it, not a TypeError from a comparison."""
    with pytest.raises(InitError, match="sigma_b2 must be a number"):
        critical.critical_point("tanh", bad)
    with pytest.raises(InitError, match="sigma_b2 must be a number"):
        initlab.gain("tanh", kind="critical", sigma_b2=bad)
