"""scheme_scales: the seeds' worked exercise (oracles.md, "Worked values")."""

import math

import pytest

from initlab.core.scales import scheme_scales
from initlab.errors import InitError


def _by_name(rows):
    return {r.scheme: r for r in rows}


def test_worked_values_1024_to_512():
    """Glorot & Bengio 2010 eq. 12/16 and He et al. 2015 eq. 10 on a 1024 → 512 layer:
    Xavier Var 2/1536 = 0.0013021, bound ±0.0625 (not the widely copied ±0.089);
    He Var 2/1024 = 0.0019531, bound ±0.0765 (oracles.md)."""
    rows = _by_name(scheme_scales(1024, 512, "relu"))
    assert rows["xavier"].variance == pytest.approx(0.0013021, abs=5e-8)
    assert rows["xavier"].uniform_bound == pytest.approx(0.0625, abs=5e-5)
    assert rows["he"].variance == pytest.approx(0.0019531, abs=5e-8)
    assert rows["he"].uniform_bound == pytest.approx(0.0765, abs=5e-5)


def test_rows_are_consistent():
    """std² = Var, b = √3·std (Var of U(−b, b) is b²/3), truncated σ = std/0.8796 (±2σ)."""
    for r in scheme_scales(300, 100, "tanh"):
        assert r.std**2 == pytest.approx(r.variance)
        assert r.uniform_bound**2 / 3 == pytest.approx(r.variance)
        assert r.truncated_sigma * 0.8796256610342398 == pytest.approx(r.std)


def test_he_row_uses_the_activation_gain():
    """leaky_relu(0.2): g² = 1/E[φ²] = 1/0.52 (oracles.md gain table)."""
    he = _by_name(scheme_scales(100, 100, "leaky_relu", negative_slope=0.2))["he"]
    assert he.variance == pytest.approx(1 / 0.52 / 100, rel=1e-6)


def test_torch_default_bound_is_one_over_sqrt_fan_in():
    """nn.Linear's reset_parameters: kaiming_uniform_(a=√5) → bound 1/√fan_in."""
    r = _by_name(scheme_scales(400, 10))["torch_default"]
    assert r.uniform_bound == pytest.approx(1 / math.sqrt(400))


@pytest.mark.parametrize("bad", [0, -3, float("nan"), "x"])
def test_bad_fans(bad):
    with pytest.raises(InitError, match="fan_in must be a positive number"):
        scheme_scales(bad, 10)
