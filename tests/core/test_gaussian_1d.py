"""1-D Gaussian expectations E[f(√q z)] at large q (issue 6: "enough nodes for 1e-8 relative
accuracy"). At q ≫ 1 a smooth φ bends within |z| ≲ 1/√q, between the Gauss–Hermite nodes, and
two successive rules can agree while both miss the bend (a false convergence: tanh² at q = 1e4
was 1.0 instead of 0.99202, softsign'² at q = 1e6 off by 46 %). Reference: scipy ``quad`` split
at the same x-points mapped to z (an independent adaptive rule), relative tolerance 1e-12.
"""

from __future__ import annotations

import math
from itertools import pairwise

import numpy as np
import pytest
from scipy import integrate, special, stats

from initlab.core.activations import get_activation
from initlab.core.gaussian import gaussian_expectation

_X_POINTS = (-32.0, -8.0, -2.0, -0.5, 0.0, 0.5, 2.0, 8.0, 32.0)


def _quad(f, q: float, kinks=()) -> float:
    s = math.sqrt(q)
    pts = sorted({x / s for x in (*_X_POINTS, *kinks)})
    edges = [-np.inf, *pts, np.inf]

    def g(z: float) -> float:
        return float(f(np.array(s * z))) * stats.norm.pdf(z)

    return sum(
        integrate.quad(g, a, b, epsabs=0.0, epsrel=1e-13, limit=500)[0]
        for a, b in pairwise(edges)
    )


CASES = {
    "tanh^2": (lambda x: np.tanh(x) ** 2, ()),
    "tanh'^2": (lambda x: (1 - np.tanh(x) ** 2) ** 2, ()),
    "gelu^2": (lambda x: (x * special.ndtr(x)) ** 2, ()),
    "softplus^2": (lambda x: np.logaddexp(0, x) ** 2, ()),
    "elu'^2": (lambda x: np.where(x > 0, 1.0, np.exp(np.minimum(x, 0))) ** 2, (0.0,)),
    "softsign'^2": (lambda x: (1 + np.abs(x)) ** -4.0, (0.0,)),
    "hardtanh^2": (lambda x: np.clip(x, -1, 1) ** 2, (-1.0, 1.0)),
}


@pytest.mark.filterwarnings("ignore::scipy.integrate.IntegrationWarning")
@pytest.mark.parametrize("name", list(CASES))
@pytest.mark.parametrize("q", [0.3, 300.0, 1e4, 1e6])
def test_large_q_matches_adaptive_quad(name, q):
    f, kinks = CASES[name]
    got = float(gaussian_expectation(f, q, kinks=kinks))
    assert got == pytest.approx(_quad(f, q, kinks), rel=1e-9)


def test_vectorized_over_mixed_q_equals_scalar_calls():
    """An array mixing small and large q gives what one call per q gives."""
    q = np.array([[0.0, 0.5, 2e3], [1e5, 3.0, 1e7]])
    f = CASES["tanh^2"][0]
    out = gaussian_expectation(f, q)
    assert out.shape == q.shape
    for idx in np.ndindex(q.shape):
        assert out[idx] == pytest.approx(float(gaussian_expectation(f, float(q[idx]))), rel=1e-12)


def test_tanh_derivative_moment_at_large_q():
    """E[tanh'(√q z)²] → (1/√q) φ(0) ∫ sech⁴ = (4/3)/√(2πq) as q → ∞ (Laplace): at q = 1e8 the
    next term is O(q^{-3/2}), so 1e-6 relative. (It was 0.0: no node near z = 0.)"""
    act = get_activation("tanh")
    q = 1e8
    assert act.derivative_second_moment(q) == pytest.approx(4 / 3 / math.sqrt(2 * math.pi * q),
                                                             rel=1e-6)
