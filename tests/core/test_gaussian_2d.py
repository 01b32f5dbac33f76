"""Two-dimensional Gaussian expectations and Hermite coefficients (core/gaussian.py)."""

import math

import numpy as np
import pytest
from scipy import integrate

from initlab.core.gaussian import (
    bivariate_gaussian_expectation,
    gaussian_expectation,
    hermite_coefficients,
)
from initlab.errors import InitError


def relu(x):
    return np.maximum(x, 0.0)


@pytest.mark.parametrize("c", [-1.0, -0.5, 0.0, 0.3, 0.9, 0.999, 1.0])
def test_relu_matches_arc_cosine_kernel(c):
    """Cho & Saul 2009: E[relu(u₁)relu(u₂)] = q [√(1−c²) + (π − arccos c) c]/(2π)."""
    exact = 2.0 * (math.sqrt(max(1 - c * c, 0)) + (math.pi - math.acos(c)) * c) / (2 * math.pi)
    v = bivariate_gaussian_expectation(relu, None, 2.0, None, c, kinks_f=(0.0,))
    assert v == pytest.approx(exact, abs=1e-12)


def test_tanh_matches_scipy_dblquad():
    q, c = 1.06, 0.45
    s = math.sqrt(1 - c * c)

    def f(z2, z1):
        return (
            np.tanh(math.sqrt(q) * z1)
            * np.tanh(math.sqrt(q) * (c * z1 + s * z2))
            * math.exp(-(z1 * z1 + z2 * z2) / 2)
            / (2 * math.pi)
        )

    ref = integrate.dblquad(f, -12, 12, -12, 12, epsabs=1e-13, epsrel=1e-12)[0]
    assert bivariate_gaussian_expectation(np.tanh, None, q, None, c) == pytest.approx(
        ref, abs=1e-12
    )


def test_vectorized_and_limits():
    c = np.array([-1.0, 0.0, 1.0])
    v = bivariate_gaussian_expectation(np.tanh, None, 1.0, None, c)
    m2 = gaussian_expectation(lambda x: np.tanh(x) ** 2, 1.0)
    np.testing.assert_allclose(v, [-m2, 0.0, m2], atol=1e-12)
    # different variances: E[u₁ u₂] = ρ √(q₁ q₂)
    lin = bivariate_gaussian_expectation(lambda x: x, lambda x: x, 2.0, 8.0, 0.25)
    assert lin == pytest.approx(0.25 * 4.0, rel=1e-12)


def test_hermite_coefficients_parseval_and_mehler():
    """Σ αₖ² = E[φ²]; Σ αₖ² cᵏ = E[φ(u₁)φ(u₂)] (Mehler's formula)."""
    a = hermite_coefficients(np.tanh, np.array([0.5, 2.0]), 150, 300)
    m2 = gaussian_expectation(lambda x: np.tanh(x) ** 2, np.array([0.5, 2.0]))
    np.testing.assert_allclose((a**2).sum(axis=1), m2, rtol=1e-10)
    k = np.arange(151)
    biv = bivariate_gaussian_expectation(np.tanh, None, 2.0, None, 0.6)
    assert (a[1] ** 2 * 0.6**k).sum() == pytest.approx(biv, abs=1e-12)


def test_bad_inputs():
    with pytest.raises(InitError, match="rho must be a correlation"):
        bivariate_gaussian_expectation(np.tanh, None, 1.0, None, 1.5)
    with pytest.raises(InitError, match="finite variances"):
        bivariate_gaussian_expectation(np.tanh, None, -1.0)
    with pytest.raises(InitError, match="order < n_nodes"):
        hermite_coefficients(np.tanh, 1.0, 400)
