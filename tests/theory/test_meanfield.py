"""MeanField: oracle values from the papers, the identities between the maps, bad inputs.

Oracles: /work/shared/oracles.md "Mean field" (computed by two independent methods); papers:
Poole et al. 2016 (length and correlation maps), Schoenholz et al. 2017 (χ₁, ξ_q, ξ_c),
Xiao et al. 2018 (critical line parametrized by q*, their demo point), Cho & Saul 2009
(arc-cosine kernel: the ReLU correlation map).
"""

import dataclasses
import json
import math

import numpy as np
import pytest

from initlab.core.activations import get_activation
from initlab.errors import InitError
from initlab.theory import MeanField, critical_line


def rel(a, b):
    return abs(a - b) / abs(b)


# ------------------------------------------------------------------------------ oracles ---
@pytest.fixture(scope="module")
def tanh_chaotic():
    return MeanField("tanh", sigma_w2=2.5, sigma_b2=0.05)


def test_tanh_schoenholz_point(tanh_chaotic):
    """Schoenholz et al. 2017: tanh at (σ_w², σ_b²) = (2.5, 0.05), tolerance 1e-4 relative."""
    mf = tanh_chaotic
    assert rel(mf.q_star, 1.063958) < 1e-4
    assert rel(mf.chi1, 1.133516) < 1e-4
    assert rel(mf.c_star, 0.446804) < 1e-4
    assert rel(mf.xi_c, 11.7956) < 1e-4
    assert rel(mf.xi_q, 1.1799) < 1e-4
    assert mf.phase == "chaotic"
    assert mf.trainable_depth == pytest.approx(6 * mf.xi_c)


def test_tanh_zero_bias_c_star_is_exactly_zero():
    """Poole et al. 2016: odd φ, σ_b = 0, chaotic phase: the correlation map sends 0 to 0."""
    mf = MeanField("tanh", 2.0, 0.0)
    assert rel(mf.q_star, 0.617965) < 1e-5
    assert mf.c_star == 0.0
    assert mf.phase == "chaotic"


def test_torch_tanh_gain_is_chaotic():
    """torch's tanh gain 5/3 (σ_w² = 25/9) with σ_b = 0 is in the chaotic phase."""
    mf = MeanField("tanh", (5 / 3) ** 2, 0.0)
    assert rel(mf.q_star, 1.178480) < 1e-5
    assert rel(mf.chi1, 1.209831) < 1e-5
    assert mf.phase == "chaotic"


def test_xiao_demo_point_is_critical():
    """Xiao et al. 2018 demo point (1.05, 2.01e-5): χ₁ = 1.0000002, q* = 0.025921."""
    mf = MeanField("tanh", 1.05, 2.01e-5)
    assert abs(mf.chi1 - 1.0000002) < 1e-7
    assert rel(mf.q_star, 0.025921) < 1e-4
    assert mf.phase == "critical"
    assert mf.c_star == 1.0 and math.isinf(mf.xi_c)


@pytest.mark.parametrize("w2,b2", [(1.0, 0.0), (1.5, 0.2), (2.0, 0.0), (3.0, 0.1)])
def test_relu_length_map_is_linear(w2, b2):
    """ReLU: q' = (σ_w²/2) q + σ_b² and χ₁ = σ_w²/2, exactly."""
    q = np.array([0.1, 1.0, 7.0])
    mf = MeanField("relu", 1.0, 0.0)
    mf = dataclasses.replace(mf, sigma_w2=w2, sigma_b2=b2) if w2 < 2 or b2 == 0 else None
    if mf is None:
        with pytest.raises(InitError, match="no fixed point"):
            MeanField("relu", w2, b2)
        return
    np.testing.assert_allclose(mf.length_map(q), w2 / 2 * q + b2, rtol=1e-12)
    assert mf.chi1 == pytest.approx(w2 / 2, rel=1e-12)


def test_relu_only_critical_point_is_2_0():
    assert MeanField("relu", 2.0, 0.0).phase == "critical"
    assert MeanField("relu", 1.9, 0.1).phase == "ordered"
    with pytest.raises(InitError):
        critical_line_value = critical_line("relu", sigma_b2=[0.1]).sigma_w2[0]
        if math.isnan(critical_line_value):
            raise InitError("none")


def _relu_numeric():
    """ReLU without its closed form: the correlation map then comes from 2-D quadrature."""
    return dataclasses.replace(get_activation("relu"), name="relu_numeric", homogeneous=False)


@pytest.mark.parametrize("act", ["relu", "numeric"])
def test_relu_correlation_map_values(act):
    """Cho & Saul 2009 arc-cosine kernel at (2, 0): c' = [√(1−c²) + (π − arccos c) c]/π;
    from c₀ = 0: c₁ = 1/π, c₁₀ = 0.871536."""
    a = get_activation("relu") if act == "relu" else _relu_numeric()
    mf = MeanField(a, 2.0, 0.0)
    c = 0.0
    for layer in range(1, 11):
        c = mf.correlation_map(c)
        if layer == 1:
            assert c == pytest.approx(1 / math.pi, abs=1e-9)
    assert c == pytest.approx(0.871536, abs=1e-6)


def test_relu_correlation_approaches_one_as_inverse_square():
    """1 − c_l ≈ 9π²/(2 l²) for large l (the ReLU c-map near 1: 1 − c' ≈ (1 − c) − (2√2/3π)
    (1 − c)^{3/2}); the correction is O(log l / l): ratio 0.81 at l = 100, 0.971 at l = 1000."""
    mf = MeanField("relu", 2.0, 0.0)
    c = np.array([0.0])
    ratio = {}
    for layer in range(1, 1001):
        c = np.asarray(mf.correlation_map(c))
        if layer in (100, 1000):
            ratio[layer] = float(1 - c[0]) * 2 * layer**2 / (9 * math.pi**2)
    assert abs(ratio[1000] - 1) < 0.04
    assert abs(ratio[1000] - 1) < abs(ratio[100] - 1) / 5  # and closing in


# ---------------------------------------------------------------------------- identities ---
POINTS = [
    ("tanh", 1.5, 0.1),
    ("gelu", 1.5, 0.1),
    ("silu", 1.8, 0.05),
    ("elu", 1.2, 0.1),
    ("sigmoid", 4.0, 0.5),
    ("softsign", 2.0, 0.05),
]


@pytest.mark.parametrize("name,w2,b2", POINTS)
def test_length_map_slope_is_the_xi_q_bracket(name, w2, b2):
    """d q'/dq at q* = χ₁ + σ_w² E[φ''φ] = e^{−1/ξ_q} (Schoenholz et al. 2017, eq. 5)."""
    mf = MeanField(name, w2, b2)
    h = 1e-5 * mf.q_star
    slope = (mf.length_map(mf.q_star + h) - mf.length_map(mf.q_star - h)) / (2 * h)
    assert slope == pytest.approx(math.exp(-1 / mf.xi_q), rel=1e-6, abs=1e-9)
    # the integration-by-parts form for smooth φ: χ₁ + σ_w² E[φ(√q z) φ''(√q z)]
    a = mf.act
    if not a.kinks:
        bracket = mf.chi1 + w2 * a.expect(lambda x: a.fn(x) * a.d2(x), mf.q_star)
        assert slope == pytest.approx(bracket, rel=1e-6)


@pytest.mark.parametrize("name,w2,b2", [*POINTS, ("tanh", 2.5, 0.05), ("relu", 1.5, 0.2)])
def test_correlation_map_slope_at_one_is_chi1(name, w2, b2):
    """One-sided slope of the c-map at c = 1 is χ₁ (Schoenholz et al. 2017, eq. 6)."""
    mf = MeanField(name, w2, b2)
    d = 1e-8
    slope = (1.0 - mf.correlation_map(1.0 - d)) / d
    assert mf.correlation_map(1.0) == pytest.approx(1.0, abs=1e-12)
    # error of the one-sided difference: O(√d) where φ' jumps (the arc-cosine kernel has a
    # √(1−c) term: ~5e-5 for ReLU) or O(d) for smooth φ, plus quadrature noise (~1e-13)/d
    assert slope == pytest.approx(mf.chi1, rel=1e-4)


@pytest.mark.parametrize("name", ["tanh", "gelu", "silu", "elu", "softsign"])
def test_point_built_on_the_critical_line_has_chi1_one(name):
    """Xiao et al. 2018: σ_w² = 1/E[φ'(√q z)²], σ_b² = q − σ_w² E[φ(√q z)²] is critical."""
    for q in (0.3, 1.0, 2.5):
        line = critical_line(name, q_star=[q])
        w2, b2 = float(line.sigma_w2[0]), float(line.sigma_b2[0])
        if b2 < 0:
            continue
        mf = MeanField(name, w2, b2, q0=q)
        assert mf.q_star == pytest.approx(q, rel=1e-9)
        assert mf.chi1 == pytest.approx(1.0, abs=1e-9)
        assert mf.phase == "critical"


def test_ordered_phase_has_c_star_one_and_chi_c_chi1():
    mf = MeanField("tanh", 0.8, 0.05)
    assert mf.phase == "ordered" and mf.c_star == 1.0 and mf.chi_c == mf.chi1
    assert mf.xi_c == pytest.approx(-1 / math.log(mf.chi1))


def test_zero_bias_ordered_q_star_is_zero():
    mf = MeanField("tanh", 0.5, 0.0)
    assert mf.q_star == 0.0 and mf.phase == "ordered"
    assert mf.chi1 == pytest.approx(0.5)


def test_trajectory_reaches_fixed_points(tanh_chaotic):
    q, c = tanh_chaotic.trajectory(40, q0=1.0, c0=0.5)
    assert q[-1] == pytest.approx(tanh_chaotic.q_star, rel=1e-9)  # ξ_q ≈ 1.2 layers
    # ξ_c ≈ 11.8 layers: |c − c*| ≈ 0.053 e^{−40/11.8} ≈ 2e-3 after 40 layers
    assert abs(c[-1] - tanh_chaotic.c_star) < 4e-3
    assert abs(c[-1] - tanh_chaotic.c_star) < abs(c[20] - tanh_chaotic.c_star)


def test_correlation_map_vectorized(tanh_chaotic):
    cs = np.array([-0.5, 0.0, 0.3, 0.9])
    vec = tanh_chaotic.correlation_map(cs)
    assert vec.shape == (4,)
    for c, v in zip(cs, vec, strict=True):
        assert tanh_chaotic.correlation_map(float(c)) == pytest.approx(v, rel=1e-12)


def test_to_json_round_trip(tanh_chaotic):
    d = json.loads(tanh_chaotic.to_json())
    assert d["phase"] == "chaotic" and d["activation"] == "tanh"
    crit = json.loads(MeanField("relu", 2.0).to_json())
    assert crit["xi_c"] is None  # ∞ is written as null


def test_any_callable_works():
    import torch

    mf = MeanField(lambda x: torch.tanh(x), 2.5, 0.05)
    assert rel(mf.q_star, 1.063958) < 1e-4


# ---------------------------------------------------------------------------- bad input ---
@pytest.mark.parametrize(
    "kwargs,match",
    [
        (
            dict(activation="tanh", sigma_w2=-1.0, sigma_b2=0.0),
            "sigma_w2 must be a finite variance",
        ),
        (
            dict(activation="tanh", sigma_w2=1.0, sigma_b2=-0.1),
            "sigma_b2 must be a finite variance",
        ),
        (dict(activation="tanh", sigma_w2=float("nan")), "sigma_w2 must be a finite variance"),
        (dict(activation="nope", sigma_w2=1.0), "unknown activation 'nope'"),
        (dict(activation="swiglu", sigma_w2=1.0), "gated unit"),
        (dict(activation="relu", sigma_w2=3.0), "no fixed point"),
        (dict(activation="gelu", sigma_w2=3.0, sigma_b2=0.1), "no fixed point"),
    ],
)
def test_bad_inputs_name_the_problem(kwargs, match):
    with pytest.raises(InitError, match=match):
        MeanField(**kwargs)


def test_correlation_map_rejects_bad_c(tanh_chaotic):
    with pytest.raises(InitError, match=r"c must be in \[-1, 1\]"):
        tanh_chaotic.correlation_map(1.5)


def test_erf_correlation_map_is_williams_arcsine_kernel():
    """For φ = erf the correlation map has a closed form (Williams 1997): with u₁, u₂ of variance
    q and correlation c, E[erf(u₁)erf(u₂)] = (2/π) arcsin(2qc/(1 + 2q)). Checks the theory's
    bivariate quadrature and the fixed point q* for an activation given only by name."""
    w2, b2 = 2.0, 0.1
    mf = MeanField("erf", w2, b2)
    q = mf.q_star

    def kernel(c):
        return 2 / np.pi * np.arcsin(2 * q * c / (1 + 2 * q))

    assert w2 * kernel(1.0) + b2 == pytest.approx(q, rel=1e-10)  # q* is the length map's root
    c = np.array([0.0, 0.3, 0.9, 0.999])
    expected = (w2 * kernel(c) + b2) / (w2 * kernel(1.0) + b2)
    np.testing.assert_allclose(mf.correlation_map(c), expected, rtol=1e-9)
    assert mf.chi1 == pytest.approx(w2 * 4 / np.pi / np.sqrt(1 + 4 * q), rel=1e-10)
    # σ_b = 0: q* = 0 and χ₁ = σ_w² erf'(0)² = 4σ_w²/π, so the critical σ_w² is π/4
    assert critical_line("erf", sigma_b2=[0.0]).sigma_w2[0] == pytest.approx(np.pi / 4, rel=1e-9)
