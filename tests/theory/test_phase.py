"""Phase diagrams: the vectorized grid agrees with the pointwise MeanField."""

import json

import numpy as np
import pytest

from initlab.errors import InitError
from initlab.theory import MeanField, critical_line, phase_diagram


@pytest.mark.parametrize("name", ["tanh", "gelu", "elu", "relu", "softsign", "erf"])
def test_grid_matches_pointwise(name):
    w = np.array([0.7, 1.3, 1.9, 2.6, 3.4])
    b = np.array([0.0, 0.04, 0.2])
    pd = phase_diagram(name, w, b)
    assert pd.q_star.shape == (3, 5)
    for i, b2 in enumerate(b):
        for j, w2 in enumerate(w):
            try:
                mf = MeanField(name, w2, b2)
            except InitError:
                assert pd.phase[i, j] == -1 and np.isnan(pd.q_star[i, j])
                continue
            assert pd.q_star[i, j] == pytest.approx(mf.q_star, rel=1e-7, abs=1e-12)
            assert pd.chi1[i, j] == pytest.approx(mf.chi1, rel=1e-7)
            assert pd.phase_names[i, j] == mf.phase
            # smooth φ: series vs 2-D quadrature agree to ~1e-10; with kinks (elu, softsign)
            # the Hermite coefficients are tabulated and splined in ln q: ~1e-8 measured
            tol = 1e-8 if name in ("tanh", "gelu", "relu", "erf") else 1e-6
            assert pd.c_star[i, j] == pytest.approx(mf.c_star, abs=tol)
            if np.isfinite(mf.xi_c):
                assert pd.xi_c[i, j] == pytest.approx(mf.xi_c, rel=tol * 100)
            assert pd.xi_q[i, j] == pytest.approx(mf.xi_q, rel=1e-6)


def test_oracle_point_on_the_grid():
    """Schoenholz et al. 2017: tanh at (2.5, 0.05): ξ_c = 11.7956; (2, 0): c* = 0 exactly."""
    pd = phase_diagram("tanh", [2.0, 2.5], [0.0, 0.05])
    assert pd.xi_c[1, 1] == pytest.approx(11.7956, rel=1e-4)
    assert pd.c_star[0, 0] == 0.0
    assert pd.trainable_depth[1, 1] == pytest.approx(6 * 11.7956, rel=1e-4)


def test_default_grid_and_critical_line():
    pd = phase_diagram("tanh")
    assert pd.q_star.shape == (200, 200)
    assert set(np.unique(pd.phase)) <= {0, 1, 2}
    ref = critical_line("tanh", sigma_b2=pd.sigma_b2[::40]).sigma_w2
    np.testing.assert_allclose(pd.critical_sigma_w2[::40], ref, rtol=1e-7)
    # ordered to the left of the line, chaotic to the right, on every row
    for i in range(0, 200, 40):
        crit = pd.critical_sigma_w2[i]
        assert np.all(pd.phase[i][pd.sigma_w2 < crit - 0.02] == 0)
        assert np.all(pd.phase[i][pd.sigma_w2 > crit + 0.02] == 2)
    d = json.loads(pd.to_json())
    assert len(d["chi1"]) == 200 and d["phase_codes"]["2"] == "chaotic"


def test_diverging_region_is_marked():
    pd = phase_diagram("relu", [1.0, 3.0], [0.0, 0.1])
    assert pd.phase[0, 1] == -1 and np.isnan(pd.q_star[1, 1])
    assert pd.q_star[1, 0] == pytest.approx(0.2)  # σ_b²/(1 − σ_w²/2)


@pytest.mark.parametrize(
    "kwargs,match",
    [
        (dict(sigma_w2=[-1.0]), "sigma_w2 must be a non-empty 1-D array"),
        (dict(sigma_b2=[]), "sigma_b2 must be a non-empty 1-D array"),
        (dict(q0=0.0), "q0 must be a finite variance > 0"),
    ],
)
def test_bad_grids(kwargs, match):
    with pytest.raises(InitError, match=match):
        phase_diagram("tanh", **kwargs)
