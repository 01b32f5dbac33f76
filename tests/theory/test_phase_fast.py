"""The phase view's fast paths agree with the accurate, pointwise theory.

The explorer's view 4 answers a move in milliseconds with: the per-activation tables cached
across calls, ``phase_diagram(correlation=False)`` for the map, ``phase_point`` on a 1 × 1
diagram, ``series_trajectory`` (Mehler's series) for the depth profile and
``simulate(method="conditional")`` for the measured one. Each is checked here against what it
replaces: a freshly built table, the full diagram, ``MeanField`` (2-D quadrature) and the
matrix simulation.
"""

import numpy as np
import pytest

from initlab.errors import InitError
from initlab.lab.views import phase_map, phase_point
from initlab.theory import MeanField, phase_diagram, series_trajectory, simulate
from initlab.theory import phase as phase_mod
from initlab.theory.phase import length_chain

ACTS = ["tanh", "relu", "gelu", "erf"]


@pytest.mark.parametrize("name", ACTS)
def test_cached_tables_change_nothing(name):
    """A diagram from the cached tables equals one from freshly built tables, bit for bit, and
    the map without c* has the same q*, χ₁, phases and critical line as the full one."""
    w, b = np.linspace(0.5, 4.0, 9), np.linspace(0.0, 0.3, 5)
    phase_mod._TABLE_CACHE.clear()
    fresh = phase_diagram(name, w, b)
    assert len(phase_mod._TABLE_CACHE) == 1
    cached = phase_diagram(name, w, b)
    fast = phase_diagram(name, w, b, correlation=False)
    for k in ("q_star", "chi1", "c_star", "xi_c", "critical_sigma_w2"):
        np.testing.assert_array_equal(getattr(cached, k), getattr(fresh, k))
    for k in ("q_star", "chi1", "xi_q", "phase", "critical_sigma_w2"):
        np.testing.assert_array_equal(getattr(fast, k), getattr(fresh, k))
    chaotic = fresh.phase == 2
    assert np.all(np.isnan(fast.c_star[chaotic])) and np.all(fast.c_star[~chaotic & (
        fresh.phase >= 0)] == 1.0)


def test_custom_callables_are_not_cached():
    phase_mod._TABLE_CACHE.clear()
    phase_diagram(np.tanh, [1.5], [0.05])
    assert len(phase_mod._TABLE_CACHE) == 0


def test_the_page_critical_line_matches_the_oracles():
    """/work/shared/oracles.md (Poole et al. 2016; Schoenholz et al. 2017): tanh's critical
    σ_w² at σ_b² = 0, 0.01, 0.05, 0.1 is 1, 1.424205, 1.760955, 1.986073 (1e-5 relative)."""
    m = phase_map("tanh", 10, 31, correlation=False)  # σ_b² = 0, 0.01, …, 0.3
    crit = m["critical_sigma_w2"]
    for i, want in ((0, 1.0), (1, 1.424205), (5, 1.760955), (10, 1.986073)):
        assert crit[i] == pytest.approx(want, rel=1e-5)
    assert m["c_star"][0][-1] is None  # chaotic corner: c* left out of the page's map


# the explorer's points: ordered, chaotic, σ_b = 0 (q* = 0 or c* = 0), near the critical line
POINTS = [(1.5, 0.05), (2.5, 0.05), (1.2, 0.0), (3.0, 0.2), (1.76, 0.05)]


@pytest.mark.parametrize("name", ACTS)
def test_phase_point_matches_meanfield(name):
    """The view's fixed point (vectorized diagram, cached tables) vs MeanField's 2-D quadrature:
    phase.py measures ~1e-10 for these smooth φ (and the ReLU closed form); 1e-7 leaves margin
    for the spline tables (h⁴/384 ≈ 4e-10 per evaluation), while a wrong moment, slope or
    series would be off by ≥ 1e-4."""
    for w2, b2 in POINTS:
        p = phase_point(name, w2, b2, depth=3, width=16)
        try:
            mf = MeanField(name, w2, b2)
        except InitError:
            assert p.phase == "no fixed point" and p.q_star is None and p.note
            continue
        assert p.phase == mf.phase
        assert p.q_star == pytest.approx(mf.q_star, rel=1e-7, abs=1e-12)
        assert p.chi1 == pytest.approx(mf.chi1, rel=1e-7)
        assert p.c_star == pytest.approx(mf.c_star, abs=1e-7)
        if np.isfinite(mf.xi_c):
            assert p.xi_c == pytest.approx(mf.xi_c, rel=1e-6)
        else:
            assert p.xi_c is None


@pytest.mark.parametrize(
    ("name", "w2", "b2", "c0"),
    [("tanh", 2.5, 0.05, 0.5), ("tanh", 1.2, 0.0, -0.6), ("erf", 3.0, 0.2, 0.0),
     ("gelu", 1.5, 0.1, 0.9), ("gelu", 1.2, 0.0, 0.5), ("relu", 2.0, 0.0, 0.0),
     ("elu", 1.7, 0.05, 0.3)],
)
def test_series_trajectory_matches_meanfield(name, w2, b2, c0):
    """Theory depth profile: Mehler's series (+ cached M table) vs MeanField.trajectory
    (2-D quadrature per layer). Measured worst 6.5e-9 over the explorer's range and depths
    ≤ 200 (the M spline's ~1e-9 error compounding over the layers); 1e-7 leaves a 15× margin.
    Covers c0 < 0 (odd φ keeps c negative: the tail-free series), σ_b = 0 (q → 0) and a kink."""
    q_fast, c_fast = series_trajectory(name, w2, b2, 12, c0=c0)
    q_ref, c_ref = MeanField(name, w2, b2).trajectory(12, q0=1.0, c0=c0)
    np.testing.assert_allclose(q_fast, q_ref, rtol=1e-7, atol=1e-300)
    np.testing.assert_allclose(c_fast, c_ref, rtol=0, atol=1e-7)


def test_relu_oracle_and_no_fixed_point():
    """oracles.md: ReLU at (2, 0) from c₀ = 0: c₁ = 1/π, c₁₀ = 0.871536; without a fixed
    point q^l grows as (σ_w²/2)^l (exact for ReLU)."""
    _, c = series_trajectory("relu", 2.0, 0.0, 10, c0=0.0)
    assert c[1] == pytest.approx(1 / np.pi, rel=1e-12)
    assert c[10] == pytest.approx(0.871536, abs=1e-6)
    np.testing.assert_allclose(length_chain("relu", 3.0, 0.0, 40), 1.5 ** np.arange(41),
                               rtol=1e-12)
    q = length_chain("gelu", 3.0, 0.1, 120)  # far beyond the 1e4 table: the far table
    ref = [1.0]
    for _ in range(120):
        ref.append(3.0 * float(MeanField("gelu", 0.0).act.second_moment(ref[-1])) + 0.1)
    np.testing.assert_allclose(q, ref, rtol=1e-7)
    p = phase_point("gelu", 3.0, 0.1, depth=40, width=16)
    assert p.phase == "no fixed point" and "diverges" in p.note and p.q[-1] > 1e6


@pytest.mark.parametrize(("name", "w2", "b2", "c0"),
                         [("tanh", 2.5, 0.05, 0.5), ("relu", 2.0, 0.0, 0.0)])
def test_conditional_simulation_has_the_matrix_law(name, w2, b2, c0):
    """simulate(method="conditional") draws (q^l, c^l) from the law of the matrix networks.
    200 networks each (width 32, 4 layers): the means of q^4 and c^4 must agree within 5
    standard errors of their difference (a correct sampler fails with probability ~6e-7 per
    comparison; the seeds are fixed), and so must the sample variances (ratio within
    1 ± 5·√(2/199) ≈ 1 ± 0.5). Dropping the inputs' correlation from the Cholesky factor
    moves the mean of c^4 by 20 (tanh) and 37 (ReLU) standard errors (measured)."""
    n_s = 200
    a = simulate(name, w2, b2, 32, 4, seed=0, c0=c0, n_seeds=n_s)
    b = simulate(name, w2, b2, 32, 4, seed=1, c0=c0, n_seeds=n_s, method="conditional")
    assert b.q.shape == a.q.shape == (n_s, 5) and b.c[0, 0] == c0
    for x, y in ((a.q[:, -1], b.q[:, -1]), (a.c[:, -1], b.c[:, -1])):
        se = np.sqrt(x.var(ddof=1) / n_s + y.var(ddof=1) / n_s)
        assert abs(x.mean() - y.mean()) <= 5 * se
        assert abs(x.var(ddof=1) / y.var(ddof=1) - 1) <= 5 * np.sqrt(2 / (n_s - 1))


def test_bad_inputs():
    with pytest.raises(InitError, match="method must be"):
        simulate("tanh", 1.0, 0.0, 8, 2, method="fast")
    with pytest.raises(InitError, match="orthogonal weights or the Jacobian"):
        simulate("tanh", 1.0, 0.0, 8, 2, method="conditional", weights="orthogonal")
    with pytest.raises(InitError, match="depth must be"):
        series_trajectory("tanh", 1.0, 0.0, -1)
    with pytest.raises(InitError, match="c0 must be"):
        series_trajectory("tanh", 1.0, 0.0, 3, c0=1.5)
    with pytest.raises(InitError, match="sigma_w2"):
        length_chain("tanh", -1.0, 0.0, 3)
    with pytest.raises(InitError, match="depth must be"):
        length_chain("tanh", 1.0, 0.0, 2.5)
