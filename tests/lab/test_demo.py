"""The demo's numbers follow the theory it illustrates."""

import math

import pytest

from initlab.errors import InitError
from initlab.lab.demo import DEMO_SCHEMES, run_demo


@pytest.fixture(scope="module")
def result():
    return run_demo(depth=20, width=128, batch=128, seed=0)


def test_every_scheme_and_activation_present(result):
    assert {(c.activation, c.scheme) for c in result.curves} == {
        (a, s) for a in ("tanh", "relu") for s in DEMO_SCHEMES
    }
    assert all(len(c.act_std) == 20 and len(c.grad_std) == 20 for c in result.curves)


def test_zeros_give_exactly_zero_signal(result):
    """All-zero weights: every unit computes the same value (0), the symmetric failure."""
    for act in ("tanh", "relu"):
        assert max(result.curve(act, "zeros").act_std) == 0.0


def test_relu_xavier_vs_he_per_layer_factor_matches_mean_field(result):
    """He et al. 2015: with ReLU, Xavier (Var = 1/n for square layers) halves the second moment
    per layer (std × 2^(-1/2) = 0.7071, oracles.md: L=30 → 3.05e-5), He keeps it (× 1).

    Tolerance: at width n the log of a layer's squared-norm gain fluctuates with variance ≈ 5/n
    for ReLU (Hanin & Nica 2019), i.e. a log-std sd ≈ ½·√(5/128) ≈ 0.1 per layer, shared by the
    batch (same weights). The geometric mean over 19 layer steps then has a relative sd of
    ≈ 0.1·√19/19 ≈ 2.3 %; 7 % is 3σ."""
    xav, he = result.curve("relu", "xavier"), result.curve("relu", "he")
    assert xav.act_factor == pytest.approx(2 ** -0.5, rel=0.07)
    assert he.act_factor == pytest.approx(1.0, rel=0.07)
    assert xav.act_std[-1] < 1e-2 * he.act_std[-1]  # 2^(-19/2) ≈ 1.4e-3 in expectation


def test_small_random_vanishes_and_unit_normal_explodes_on_relu(result):
    """Per-layer std factor of N(0, s²) weights on ReLU is s·√(n/2) (He et al. 2015, eq. 10):
    s = 0.01, n = 128 → 0.080; s = 1 → 8.0. Tolerance 5% (same noise argument as above)."""
    assert result.curve("relu", "small").act_factor == pytest.approx(0.01 * math.sqrt(64), rel=0.05)
    assert result.curve("relu", "N(0,1)").act_factor == pytest.approx(math.sqrt(64), rel=0.05)


def test_tanh_unit_normal_saturates(result):
    """N(0, 1) weights with 128 inputs make pre-activations of std ~11: tanh outputs are ±1."""
    assert result.curve("tanh", "N(0,1)").act_std[-1] > 0.9


def test_json_round_trip(result):
    import json

    d = json.loads(result.to_json())
    assert d["depth"] == 20 and len(d["curves"]) == 2 * len(DEMO_SCHEMES)


def test_bad_inputs():
    with pytest.raises(InitError, match="unknown scheme"):
        run_demo(depth=2, width=4, batch=4, scheme_names=["nope"])
    with pytest.raises(InitError, match="depth and width"):
        run_demo(depth=0, width=4, batch=4)
    with pytest.raises(InitError, match="unknown activation"):
        run_demo(depth=2, width=4, batch=4, activations=("nope",))
