"""simulate(): real random networks agree with the mean-field maps at finite width.

Tolerances: one network of width N estimates q^l = |h^l|²/N with relative standard error
√(2/N) per layer (a χ²_N/N variable); the error a layer makes is damped by the length map with
slope ρ = e^{−1/ξ_q}, so the stationary SE is q √(2/N) / √(1 − ρ²). The correlation estimate has
SE ≈ (1 − c²)/√N per layer, damped by χ_c: SE ≈ (1 − c²)/√(N (1 − χ_c²)). Averaging S networks
divides by √S. We allow 4 SE (plus an O(1/N) bias).
"""

import math

import numpy as np
import pytest

from initlab.errors import InitError
from initlab.theory import MeanField, simulate

N, S, DEPTH = 1000, 8, 8


@pytest.fixture(scope="module")
def tanh_sim():
    return simulate("tanh", 2.5, 0.05, width=N, depth=DEPTH, seed=0, n_seeds=S, c0=0.8)


def test_q_and_c_follow_the_mean_field(tanh_sim):
    mf = MeanField("tanh", 2.5, 0.05)
    tq, tc = tanh_sim.theory()
    rho = math.exp(-1 / mf.xi_q)
    se_q = tq * math.sqrt(2 / N) / math.sqrt(1 - rho**2) / math.sqrt(S)
    assert np.all(np.abs(tanh_sim.q_mean - tq) <= 4 * se_q + 1 / N)
    se_c = (1 - tc**2) / math.sqrt(N * (1 - mf.chi_c**2)) / math.sqrt(S)
    assert np.all(np.abs(tanh_sim.c_mean - tc) <= 4 * se_c + 1 / N)
    assert tanh_sim.q[:, 0].tolist() == [1.0] * S and tanh_sim.c[0, 0] == 0.8


def test_relu_first_layer_correlation_is_one_over_pi():
    """Cho & Saul 2009: ReLU at (2, 0) maps c = 0 to 1/π; SE ≈ 1/√N per network."""
    sim = simulate("relu", 2.0, 0.0, width=N, depth=1, seed=3, n_seeds=S, c0=0.0)
    assert abs(sim.c_mean[1] - 1 / math.pi) <= 4 / math.sqrt(N * S)
    assert abs(sim.q_mean[1] - 1.0) <= 4 * math.sqrt(2 / (N * S))


def test_same_seed_same_numbers():
    a = simulate("gelu", 1.5, 0.1, width=64, depth=3, seed=7)
    b = simulate("gelu", 1.5, 0.1, width=64, depth=3, seed=7)
    c = simulate("gelu", 1.5, 0.1, width=64, depth=3, seed=8)
    assert np.array_equal(a.q, b.q) and not np.array_equal(a.q, c.q)
    assert a.to_dict()["q"] == b.to_dict()["q"]


@pytest.mark.parametrize(
    "kwargs,match",
    [
        (dict(width=1), "width must be an integer ≥ 2"),
        (dict(depth=0), "depth must be an integer ≥ 1"),
        (dict(n_seeds=0), "n_seeds must be an integer ≥ 1"),
        (dict(c0=2.0), "c0 must be a correlation"),
        (dict(sigma_w2=-2.0), "sigma_w2 must be a finite variance"),
        (dict(weights="sparse"), "weights must be"),
    ],
)
def test_bad_inputs(kwargs, match):
    args = dict(activation="tanh", sigma_w2=1.0, sigma_b2=0.0, width=16, depth=2) | kwargs
    with pytest.raises(InitError, match=match):
        simulate(**args)
