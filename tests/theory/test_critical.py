"""Critical line and critical initializations (Schoenholz et al. 2017; Xiao et al. 2018)."""

import json
import math

import numpy as np
import pytest

from initlab.errors import InitError
from initlab.theory import MeanField, critical_init, critical_line, critical_sigma_w2
from initlab.theory.critical import critical_point

# oracles.md, "tanh critical line" (tolerance 1e-5 relative); σ_b² = 0 gives σ_w² = 1 exactly
TANH_LINE = [
    (0.0, 1.0, 0.0),
    (0.01, 1.424205, 0.273301),
    (0.05, 1.760955, 0.570048),
    (0.1, 1.986073, 0.805799),
]


@pytest.mark.parametrize("b2,w2,q", TANH_LINE)
def test_tanh_critical_line_table_scalar(b2, w2, q):
    """Schoenholz et al. 2017, Fig. 1: tanh critical σ_w² at each σ_b²."""
    assert critical_sigma_w2("tanh", b2) == pytest.approx(w2, rel=1e-5)


def test_tanh_critical_line_table_vectorized():
    """Xiao et al. 2018 parametrization, inverted for an array of σ_b² at once."""
    b2 = [r[0] for r in TANH_LINE]
    line = critical_line("tanh", sigma_b2=b2)
    np.testing.assert_allclose(line.sigma_w2, [r[1] for r in TANH_LINE], rtol=1e-5)
    np.testing.assert_allclose(line.q_star, [r[2] for r in TANH_LINE], rtol=1e-5, atol=1e-12)
    assert line.sigma_w2[0] == 1.0 and line.q_star[0] == 0.0


@pytest.mark.parametrize("name", ["gelu", "silu", "elu", "softplus", "sigmoid"])
def test_vectorized_line_matches_scalar_root_finding(name):
    b2 = np.array([0.01, 0.1, 0.5])
    line = critical_line(name, sigma_b2=b2)
    for b, w, q in zip(b2, line.sigma_w2, line.q_star, strict=True):
        try:
            w_ref, q_ref = critical_point(name, float(b))
        except InitError:
            assert math.isnan(w)
            continue
        assert w == pytest.approx(w_ref, rel=1e-8)
        assert q == pytest.approx(q_ref, rel=1e-7)


def test_line_by_q_star_round_trips():
    q = np.array([0.2, 1.0, 3.0])
    by_q = critical_line("tanh", q_star=q)
    back = critical_line("tanh", sigma_b2=by_q.sigma_b2)
    np.testing.assert_allclose(back.q_star, q, rtol=1e-9)
    np.testing.assert_allclose(back.sigma_w2, by_q.sigma_w2, rtol=1e-9)


def test_relu_has_a_critical_point_only_at_zero_bias():
    line = critical_line("relu", sigma_b2=[0.0, 0.1])
    assert line.sigma_w2[0] == pytest.approx(2.0)
    assert math.isnan(line.sigma_w2[1])
    with pytest.raises(InitError, match="only at sigma_b2 = 0"):
        critical_sigma_w2("relu", 0.1)
    d = json.loads(line.to_json())
    assert d["sigma_w2"][1] is None


def test_critical_init_policies():
    sw, sb = critical_init("relu")
    assert (sw, sb) == (pytest.approx(math.sqrt(2)), 0.0)
    ci = critical_init("tanh")
    assert ci.policy == "zero_bias" and ci.sigma_w == pytest.approx(1.0)
    ci = critical_init("tanh", sigma_b2=0.05)
    assert ci.sigma_w2 == pytest.approx(1.760955, rel=1e-5) and ci.sigma_b2 == 0.05
    ci = critical_init("gelu")  # its σ_b = 0 point (σ_w² = 4, q* = 0) is unstable
    assert ci.policy == "stable_q_star" and ci.q_star > 1.0 and ci.q_stable
    mf = MeanField("gelu", ci.sigma_w2, ci.sigma_b2)
    assert mf.phase == "critical" and mf.q_star == pytest.approx(ci.q_star, rel=1e-8)
    ci = critical_init("silu", q_star=2.0)
    assert ci.chi1 == pytest.approx(1.0) and json.loads(ci.to_json())["policy"] == "q_star"


def test_bad_inputs():
    with pytest.raises(InitError, match="exactly one of"):
        critical_line("tanh")
    with pytest.raises(InitError, match="sigma_b2 must be finite variances"):
        critical_line("tanh", sigma_b2=[-0.1])
    with pytest.raises(InitError, match="sigma_b2 must be a finite variance"):
        critical_sigma_w2("tanh", -1.0)
    with pytest.raises(InitError, match="not both"):
        critical_init("tanh", sigma_b2=0.1, q_star=1.0)
    with pytest.raises(InitError, match="no critical point with q"):
        critical_init("softplus", q_star=1.0)
    with pytest.raises(InitError, match="unknown activation"):
        critical_line("nope", sigma_b2=[0.1])


@pytest.mark.parametrize("name", ["tanh", "gelu", "silu", "sigmoid", "elu", "softsign", "mish"])
@pytest.mark.parametrize("b2", [0.01, 0.3])
def test_core_critical_gain_agrees_with_critical_init(name, b2):
    """initlab.gain(kind="critical", sigma_b2=b) and theory.critical_init(sigma_b2=b) name the
    same point of the critical line (Xiao et al. 2018 parametrization), to root-finding accuracy;
    and χ₁ = σ_w² E[φ'(√q* z)²] = 1 there (Poole et al. 2016), with q* a fixed point of the
    length map q' = σ_w² E[φ(√q z)²] + σ_b². Where that q* repels (length-map slope > 1: GELU,
    SiLU, Mish at 0.01, SiLU at 0.3) critical_init still returns it, flagged q_stable=False, and
    gain refuses it."""
    import initlab
    from initlab.core.activations import get_activation

    ci = critical_init(name, sigma_b2=b2)
    if ci.q_stable:
        g = initlab.gain(name, kind="critical", sigma_b2=b2)
        assert g == pytest.approx(ci.sigma_w, rel=1e-9)
    else:
        assert ci.length_slope > 1.0
        with pytest.raises(InitError, match="unstable fixed point"):
            initlab.gain(name, kind="critical", sigma_b2=b2)
        g = ci.sigma_w
    act = get_activation(name)
    q = ci.q_star
    assert g**2 * float(act.derivative_second_moment(q)) == pytest.approx(1.0, abs=1e-8)
    assert g**2 * float(act.second_moment(q)) + b2 == pytest.approx(q, rel=1e-8)


@pytest.mark.parametrize("name", ["relu", "tanh", "elu", "selu", "gelu", "silu", "sigmoid"])
def test_core_critical_gain_at_zero_bias_exists_iff_critical_init_keeps_zero_bias(name):
    """At σ_b = 0, gain(kind="critical") returns a value exactly when critical_init's default
    policy finds a stable zero-bias critical point, and then the same σ_w."""
    import initlab

    ci = critical_init(name)
    if ci.policy == "zero_bias":
        assert initlab.gain(name, kind="critical") == pytest.approx(ci.sigma_w, rel=1e-9)
    else:
        with pytest.raises(InitError, match="unstable"):
            initlab.gain(name, kind="critical")
