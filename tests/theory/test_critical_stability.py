"""Stability of the length-map fixed point on the critical line (review of issue 6).

χ₁ = 1 (Poole et al. 2016; Schoenholz et al. 2017) says nothing about whether q* attracts: the
length map's slope σ_w² dE[φ(√q z)²]/dq at q* (the ξ_q bracket of Schoenholz et al. 2017, eq. 5)
must be < 1 for inputs of variance ≠ q* to reach q*. GELU/SiLU/Mish at q* = 1 have slope > 1.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from initlab.core import gains
from initlab.core.activations import get_activation
from initlab.errors import InitError
from initlab.theory import MeanField, critical_init, critical_line, kernels
from initlab.theory import critical as crit
from initlab.theory.critical import STABLE_SLOPE


def _iterate(mf: MeanField, q0: float, n: int = 500) -> float:
    q = q0
    for _ in range(n):
        q = float(mf.length_map(q))
    return q


@pytest.mark.parametrize("name", ["gelu", "silu", "mish", "hardswish"])
def test_default_critical_init_is_a_stable_fixed_point(name: str) -> None:
    ci = critical_init(name)
    assert ci.policy == "stable_q_star" and ci.q_star >= 1.0
    assert ci.q_stable and ci.length_slope < 1.0
    mf = MeanField(name, ci.sigma_w2, ci.sigma_b2, q0=ci.q_star)
    assert mf.chi1 == pytest.approx(1.0, abs=1e-8)
    assert mf.q_stable and mf.length_slope == pytest.approx(ci.length_slope, rel=1e-8)
    assert mf.length_slope <= STABLE_SLOPE + 1e-9 and math.isfinite(mf.xi_q)
    # 500 layers from 2q* and q*/2. The map is increasing, so iterates stay between q⁰ and q*,
    # and by the mean-value theorem |q^n − q*| ≤ s^n |q⁰ − q*| with s the map's largest slope
    # on that interval (≈ σ_w²/2 ≈ 0.99 above q*: these φ are ReLU-like at large q, so the map
    # is close to neutral there; 0.99^500 ≈ 7e-3). s < 1 is part of the claim.
    for q0 in (2.0 * ci.q_star, 0.5 * ci.q_star):
        grid = np.linspace(min(q0, ci.q_star), max(q0, ci.q_star), 201)
        s = ci.sigma_w2 * max(kernels.second_moment_slope(mf.act, float(x)) for x in grid)
        assert s < 1.0, (name, q0, s)
        q = _iterate(mf, q0)
        bound = abs(q0 - ci.q_star) * s**500 * 1.01  # 1 %: the grid's sup of a smooth slope
        assert abs(q - ci.q_star) <= bound, (name, q0, q, s)
        assert abs(q - ci.q_star) <= 0.02 * ci.q_star
    # and it is the first fixed point from 0: every q⁰ below q* climbs to it
    assert MeanField(name, ci.sigma_w2, ci.sigma_b2, q0=1e-3).q_star == pytest.approx(
        ci.q_star, rel=1e-8
    )


def test_old_q_star_1_point_is_flagged_unstable() -> None:
    """GELU at q* = 1 (slope ≈ 1.07): q_stable is False and ξ_q is nan, not ∞."""
    ci = critical_init("gelu", q_star=1.0)
    assert ci.q_star == 1.0 and not ci.q_stable and ci.length_slope > 1.05
    mf = MeanField("gelu", ci.sigma_w2, ci.sigma_b2)
    assert mf.q_star == pytest.approx(1.0, rel=1e-8)
    assert not mf.q_stable and mf.length_slope == pytest.approx(ci.length_slope, rel=1e-8)
    assert math.isnan(mf.xi_q)
    d = mf.to_dict()
    assert d["q_stable"] is False and d["length_slope"] > 1 and d["xi_q"] is None
    # the variance runs away from q⁰ = 1.1
    assert _iterate(mf, 1.1, 60) > 2.0


@pytest.mark.parametrize(
    ("name", "w2", "b2"), [("tanh", 1.0, 0.0), ("relu", 2.0, 0.0), ("tanh", 2.5, 0.05)]
)
def test_stable_points_stay_stable(name: str, w2: float, b2: float) -> None:
    mf = MeanField(name, w2, b2)
    assert mf.q_stable and mf.length_slope <= 1.0 + 1e-12


def test_tanh_relu_defaults_unchanged() -> None:
    ci = critical_init("tanh")
    assert ci.policy == "zero_bias" and ci.sigma_w2 == pytest.approx(1.0) and ci.q_stable
    ci = critical_init("relu")
    assert ci.policy == "zero_bias" and ci.sigma_w2 == pytest.approx(2.0) and ci.q_stable
    # Schoenholz et al. 2017 / oracles.md: tanh critical σ_w² at σ_b² = 0.05
    ci = critical_init("tanh", sigma_b2=0.05)
    assert ci.sigma_w2 == pytest.approx(1.760955, rel=1e-6) and ci.q_stable


def test_requested_points_are_returned_but_flagged() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ci = critical_init("silu", sigma_b2=0.3)  # the only root repels: returned, flagged
    assert not ci.q_stable and ci.length_slope > 1.0 and ci.policy == "sigma_b2"
    assert ci.chi1 == pytest.approx(1.0, abs=1e-8)


def test_no_stable_point_names_the_activation() -> None:
    with pytest.raises(InitError, match=r"softplus.*sigma_b2=.*q_star="):
        critical_init("softplus")


@pytest.mark.parametrize("name", ["gelu", "silu", "mish", "tanh", "elu"])
def test_core_slope_is_the_integration_by_parts_form(name: str) -> None:
    """d/dq E[φ(√q z)²] = E[φ'² + φφ''] (Gaussian integration by parts, no 1/2), checked against
    a central difference (step 1e-4: truncation O(h²) ≈ 1e-8)."""
    act = get_activation(name)
    for q in (0.3, 1.0, 5.0):
        h = 1e-4 * q
        fd = (float(act.second_moment(q + h)) - float(act.second_moment(q - h))) / (2 * h)
        assert kernels.second_moment_slope(act, q) == pytest.approx(fd, rel=1e-6)
        ibp = float(act.expect(lambda x: act.d1(x) ** 2 + act.fn(x) * act.d2(x), q))
        assert kernels.second_moment_slope(act, q) == pytest.approx(ibp, rel=1e-8)


def test_critical_point_prefers_a_stable_root() -> None:
    """The root returned is a stable one whenever some root is (the registered activations
    have one root each at these σ_b²; the grid roots below are 0.5 % apart)."""
    act = get_activation("gelu")
    w2, q = crit.critical_point(act, 0.3)
    slope = w2 * kernels.second_moment_slope(act, q)
    line = critical_line("gelu", sigma_b2=[0.3])
    assert q == pytest.approx(float(line.q_star[0]), rel=1e-8)
    assert slope < 1.0  # GELU at σ_b² = 0.3 has one root, q* ≈ 8, and it attracts
    for name, b2 in [("sigmoid", 0.0), ("tanh", 0.05), ("silu", 0.3), ("gelu", 0.01)]:
        a = get_activation(name)
        qs = np.logspace(-6, 3, 2000)
        roots = _roots(a, qs, b2)
        w2, q = crit.critical_point(a, b2)
        stable = [r for r in roots if 1.0 / float(a.derivative_second_moment(r))
                  * kernels.second_moment_slope(a, r) < 1.0]
        if stable:
            assert any(q == pytest.approx(r, rel=2e-2) for r in stable), (name, roots, q)


def _roots(act, qs, b2):  # type: ignore[no-untyped-def]
    f = np.asarray(crit._line_b(act, qs)[1]) - b2
    return [float(qs[i]) for i in range(len(qs) - 1) if f[i] * f[i + 1] < 0]


@pytest.mark.parametrize(("name", "b2"), [("gelu", 0.01), ("silu", 0.3)])
def test_gain_refuses_an_unstable_only_root(name: str, b2: float) -> None:
    w2, q = crit.critical_point(name, b2)  # still returned
    assert q > 0 and math.isfinite(w2)
    with pytest.raises(InitError, match=rf"{name}.*unstable.*sigma_b2"):
        gains.gain(name, kind="critical", sigma_b2=b2)


def test_gain_accepts_stable_roots() -> None:
    assert gains.gain("tanh", kind="critical", sigma_b2=0.05) ** 2 == pytest.approx(1.760955,
                                                                                  rel=1e-6)
    assert gains.gain("gelu", kind="critical", sigma_b2=0.3) > 0
