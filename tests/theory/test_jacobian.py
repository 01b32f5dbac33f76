"""Jacobian spectra (Pennington, Schoenholz & Ganguli 2017) and dynamical isometry."""

import json
import math

import numpy as np
import pytest

from initlab.core.activations import get_activation
from initlab.errors import InitError
from initlab.theory import MeanField, dynamical_isometry_report, jacobian_moments, simulate

XIAO = ("tanh", 1.05, 2.01e-5)  # a critical point (Xiao et al. 2018)


def test_mu_moments():
    """μₖ = E[φ'(√q* z)^{2k}]: ReLU ½, ½; linear 1, 1; tanh by direct quadrature."""
    jm = jacobian_moments("relu", 2.0, depth=3)
    assert (jm.mu1, jm.mu2) == (pytest.approx(0.5), pytest.approx(0.5))
    jm = jacobian_moments("linear", 1.0, depth=3)
    assert (jm.mu1, jm.mu2) == (pytest.approx(1.0), pytest.approx(1.0))
    jm = jacobian_moments(*XIAO, depth=3)
    t = get_activation("tanh")
    q = MeanField(*XIAO).q_star
    assert jm.q_star == pytest.approx(q)
    assert jm.mu2 == pytest.approx(t.expect(lambda x: t.d1(x) ** 4, q), rel=1e-12)
    assert jm.mu1 * 1.05 == pytest.approx(1.0, abs=1e-6)  # χ₁ = σ_w² μ₁ = 1 on the line


@pytest.mark.parametrize("depth", [1, 10, 100])
def test_variance_formula_at_criticality(depth):
    """σ² = L(μ₂/μ₁² − 1 − s₁), s₁ = −1 Gaussian, 0 orthogonal (eq. 17 of the paper)."""
    relu_o = jacobian_moments("relu", 2.0, depth=depth, weights="orthogonal")
    relu_g = jacobian_moments("relu", 2.0, depth=depth, weights="gaussian")
    assert relu_o.variance == pytest.approx(depth) and relu_g.variance == pytest.approx(2 * depth)
    lin_g = jacobian_moments("linear", 1.0, depth=depth, weights="gaussian")
    lin_o = jacobian_moments("linear", 1.0, depth=depth, weights="orthogonal")
    assert lin_g.variance == depth and lin_o.variance == 0.0 and lin_o.s_max == 1.0
    t = jacobian_moments(*XIAO, depth=depth, weights="orthogonal")
    # the demo point has χ₁ = 1 + 2e-7, so χ₁^{2L} = 1 + 4e-5 at L = 100
    assert t.variance == pytest.approx(depth * (t.mu2 / t.mu1**2 - 1), rel=1e-4)


def test_deep_linear_gaussian_spectrum_edge():
    """Fuss–Catalan edge: s_max = √((L+1)^{L+1}/L^L); L = 16: 6.6966."""
    assert jacobian_moments("linear", 1.0, depth=16).s_max == pytest.approx(6.6966, abs=1e-4)
    assert jacobian_moments("linear", 1.0, depth=1).s_max == pytest.approx(2.0)  # MP edge


def test_mean_away_from_criticality():
    jm = jacobian_moments("tanh", 2.5, 0.05, depth=5)
    assert jm.mean == pytest.approx(MeanField("tanh", 2.5, 0.05).chi1 ** 5)
    assert jm.normalized_variance == pytest.approx(5 * (jm.mu2 / jm.mu1**2 - 1 + 1))
    assert json.loads(jm.to_json())["weights"] == "gaussian"


# ------------------------------------------------------------------ Monte Carlo (N, L) ---
def test_deep_linear_orthogonal_all_singular_values_one():
    """Saxe et al. 2014 / Pennington et al. 2017: a product of orthogonal matrices is
    orthogonal: every singular value is 1 (to rounding), at any width."""
    sim = simulate(
        "linear", 1.0, 0.0, width=128, depth=16, seed=0, weights="orthogonal", jacobian=True
    )
    np.testing.assert_allclose(sim.singular_values, 1.0, atol=1e-12)


def test_deep_linear_gaussian_monte_carlo():
    """N = 500, L = 16: var(λ) = L and s_max = 6.6966 within 20% (heavy tails: the oracle's
    stated agreement); the mean eigenvalue 1 has SE ≈ √(var/N)/… ≈ 0.2/√… : 10%."""
    sim = simulate("linear", 1.0, 0.0, width=500, depth=16, seed=0, jacobian=True)
    lam = sim.singular_values[0] ** 2
    jm = jacobian_moments("linear", 1.0, depth=16)
    assert abs(lam.mean() - jm.mean) < 0.1
    assert abs(lam.var() / jm.variance - 1) < 0.2
    assert abs(sim.singular_values[0].max() / jm.s_max - 1) < 0.2


@pytest.mark.parametrize("weights", ["orthogonal", "gaussian"])
def test_tanh_critical_monte_carlo(weights):
    """tanh at the Xiao et al. critical point, N = 500, L = 16, input at q*: the spectrum's
    mean and variance match Pennington et al. within 20%."""
    q = MeanField(*XIAO).q_star
    sim = simulate(*XIAO, width=500, depth=16, seed=1, weights=weights, jacobian=True, q0=q)
    lam = sim.singular_values[0] ** 2
    jm = jacobian_moments(*XIAO, depth=16, weights=weights)
    assert abs(lam.mean() / jm.mean - 1) < 0.2
    assert abs(lam.var() / jm.variance - 1) < 0.2
    if weights == "orthogonal":
        assert jm.variance < 0.1  # dynamical isometry: 16 layers, var(λ) ≈ 0.07


# -------------------------------------------------------------------- isometry report ---
def test_dynamical_isometry_report():
    relu = dynamical_isometry_report("relu", depth=10)
    assert not relu.isometric
    assert relu.best["var_orthogonal"] == pytest.approx(10.0)
    assert relu.best["var_gaussian"] == pytest.approx(20.0)
    tanh = dynamical_isometry_report("tanh", depth=100)
    assert tanh.isometric and tanh.best["q_star"] == min(r["q_star"] for r in tanh.rows)
    assert all(r["var_gaussian"] >= 100 for r in tanh.rows)  # Gaussian: never below L
    assert "dynamical isometry" in tanh.verdict
    assert json.loads(tanh.to_json())["isometric"] is True


@pytest.mark.parametrize(
    "kwargs,match",
    [
        (dict(depth=0), "depth must be an integer ≥ 1"),
        (dict(depth=2.5), "depth must be an integer ≥ 1"),
        (dict(depth=3, weights="uniform"), "weights must be 'gaussian' or 'orthogonal'"),
        (dict(depth=3, q_star=-1.0), "q_star must be a finite variance"),
    ],
)
def test_bad_inputs(kwargs, match):
    with pytest.raises(InitError, match=match):
        jacobian_moments("tanh", 1.0, 0.0, **kwargs)


def test_relu_variance_does_not_depend_on_q():
    a = jacobian_moments("relu", 2.0, depth=4, q_star=0.3)
    b = jacobian_moments("relu", 2.0, depth=4, q_star=30.0)
    assert a.variance == pytest.approx(b.variance) and not math.isnan(a.variance)
