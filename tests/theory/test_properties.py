"""Property tests: whatever the variances, the reported fixed points are fixed points."""

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from initlab.theory import MeanField, phase_diagram

variances = st.tuples(st.floats(0.2, 4.0, allow_nan=False), st.floats(0.0, 0.5, allow_nan=False))


@settings(max_examples=15, deadline=None)
@given(variances, st.sampled_from(["tanh", "erf_like", "softsign"]))
def test_fixed_points_are_fixed(wb, name):
    w2, b2 = wb
    act = "tanh" if name == "tanh" else name
    if name == "erf_like":  # a custom callable: Φ-shaped, odd, smooth
        import torch

        act = torch.special.erf
    mf = MeanField(act, w2, b2)
    assert abs(mf.length_map(mf.q_star) - mf.q_star) <= 1e-10 * max(1.0, mf.q_star)
    assert 0.0 <= mf.c_star <= 1.0
    if mf.q_star > 0:
        assert abs(mf.correlation_map(mf.c_star) - mf.c_star) <= 1e-9
    assert (mf.phase == "chaotic") == (mf.chi1 > 1 + 1e-5)
    if mf.phase == "chaotic":
        assert mf.chi_c < 1 and mf.c_star < 1  # c* is stable, c = 1 is not
    assert mf.xi_c > 0 and (math.isinf(mf.xi_c) or mf.xi_c == -1 / math.log(abs(mf.chi_c)))


@settings(max_examples=5, deadline=None)
@given(
    st.lists(st.floats(0.1, 4.0), min_size=1, max_size=6),
    st.lists(st.floats(0.0, 0.5), min_size=1, max_size=4),
)
def test_phase_diagram_shapes_and_fixed_points(w, b):
    pd = phase_diagram("tanh", w, b)
    assert pd.q_star.shape == (len(b), len(w))
    w2 = np.asarray(w)[None, :]
    b2 = np.asarray(b)[:, None]
    mf = MeanField("tanh", 1.0)
    # q* = σ_w² E[tanh(√q* z)²] + σ_b², checked with the pointwise quadrature
    m = np.vectorize(lambda q: mf.act.second_moment(q))(pd.q_star)
    np.testing.assert_allclose(w2 * m + b2, pd.q_star, rtol=1e-8, atol=1e-12)
