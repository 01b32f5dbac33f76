"""Cross-checks of the torch implementation against the NumPy/SciPy reference
(initlab.core.reference), which re-derives each scheme from its paper independently.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy import stats

import initlab
from initlab.core import reference
from initlab.core.activations import get_activation
from initlab.core.samplers import truncated_std

from .helpers import KURT_UNIFORM, gen, std_tolerance

SHAPES = [(512, 256), (256, 512), (64, 32, 3, 3), (32, 64, 5)]


def _fans(shape):
    return initlab.fans(shape).fan_in, initlab.fans(shape).fan_out


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("gain", [1.0, 0.7])
def test_xavier_matches_reference(shape, gain):
    """Glorot & Bengio 2010, eq. 12 (normal std) and eq. 16 (uniform bound), reference vs the
    sample std / largest |w| of initlab's draws (5 SE; max within 30/n of the bound)."""
    fi, fo = _fans(shape)
    w = initlab.xavier_normal_(torch.empty(shape), gain, gen(0))
    assert w.std().item() == pytest.approx(reference.xavier_std(fi, fo, gain),
                                           rel=std_tolerance(w.numel()))
    w = initlab.xavier_uniform_(torch.empty(shape), gain, gen(1))
    b = reference.xavier_bound(fi, fo, gain)
    assert b * (1 - 30 / w.numel()) <= w.abs().max().item() <= b
    assert w.std().item() == pytest.approx(reference.xavier_std(fi, fo, gain),
                                           rel=std_tolerance(w.numel(), KURT_UNIFORM))


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("slope", [0.0, 0.01, 0.2])
def test_he_matches_reference(shape, slope):
    """He et al. 2015, eqs. 10 and 15: std = √(2/((1 + a²) n)), with torch's kaiming_ and with the
    derived-gain he_normal_ (both must agree with the paper for the leaky ReLU family)."""
    fi, _ = _fans(shape)
    expected = reference.he_std(fi, slope)
    w = initlab.kaiming_normal_(torch.empty(shape), a=slope, generator=gen(0))
    assert w.std().item() == pytest.approx(expected, rel=std_tolerance(w.numel()))
    w = initlab.he_normal_(torch.empty(shape), "leaky_relu", negative_slope=slope,
                           generator=gen(1))
    assert w.std().item() == pytest.approx(expected, rel=std_tolerance(w.numel()))


@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_lecun_matches_reference(shape):
    """LeCun et al. 1998, sec. 4.6: std = 1/√fan_in (normal and uniform)."""
    fi, _ = _fans(shape)
    w = initlab.lecun_normal_(torch.empty(shape), generator=gen(0))
    assert w.std().item() == pytest.approx(reference.lecun_std(fi), rel=std_tolerance(w.numel()))
    w = initlab.lecun_uniform_(torch.empty(shape), generator=gen(0))
    assert w.std().item() == pytest.approx(reference.lecun_std(fi),
                                           rel=std_tolerance(w.numel(), KURT_UNIFORM))


@pytest.mark.parametrize(
    ("shape", "kind", "groups", "stride"),
    [((8, 4, 3, 3), "conv", 1, None), ((4, 1, 3, 3), "conv", 4, None),
     ((6, 2, 3), "conv", 3, None), ((8, 16, 3, 3), "conv_transpose", 1, None),
     ((8, 4, 4, 4), "conv_transpose", 2, (2, 2)), ((6, 3, 5), "conv_transpose", 3, (3,)),
     ((2, 3, 2, 2, 2), "conv_transpose", 1, (2, 1, 2))],
)
def test_fans_match_reference(shape, kind, groups, stride):
    """Fans vs the connection-counting reference (per group, stride-aware for transposed convs)."""
    layout = "conv" if kind == "conv" else "conv_transpose"
    f = initlab.fans(shape, layout, groups=groups, stride=stride)
    ref = reference.fans_reference(shape, kind, groups, stride)
    assert (f.fan_in, f.fan_out) == pytest.approx(ref, rel=1e-12)


@pytest.mark.parametrize(("a", "b"), [(-2, 2), (-1, 1), (-3, 1), (0.5, 2.5), (-math.inf, 0.0)])
def test_truncated_std_vs_scipy_truncnorm(a, b):
    """The std of N(0, 1) truncated to [a, b]: closed form (samplers) = scipy.stats.truncnorm
    (reference), and initlab's draws have it (5 SE)."""
    assert truncated_std(a, b) == pytest.approx(reference.truncated_normal_std(a, b), rel=1e-10)
    n = 200_000
    w = initlab.trunc_normal_(torch.empty(n, dtype=torch.float64), 0.0, 1.0, a, b,
                              generator=gen(2))
    kurt = stats.truncnorm(a, b).stats(moments="k") + 3
    assert w.std().item() == pytest.approx(reference.truncated_normal_std(a, b),
                                           rel=std_tolerance(n, kurt, torch.float64))


ACTS = [("relu", {}), ("leaky_relu", {"negative_slope": 0.2}), ("tanh", {}), ("sigmoid", {}),
        ("selu", {}), ("gelu", {}), ("silu", {}), ("mish", {}), ("elu", {"alpha": 0.7}),
        ("softplus", {}), ("softsign", {}), ("hardswish", {}), ("hardtanh", {}),
        ("celu", {"alpha": 1.5}), ("gelu", {"approximate": "tanh"})]


@pytest.mark.parametrize(("name", "params"), ACTS, ids=[f"{n}{p or ''}" for n, p in ACTS])
def test_variance_gain_vs_quad_on_library_function(name, params):
    """The library's Gauss–Hermite / panel quadrature vs scipy quad (reference.second_moment),
    on the library's own φ: same integrand, two integrators, to 1e-9; and at q ≠ 1."""
    act = get_activation(name, **params)

    def phi(x):
        return float(act.fn(np.float64(x)))

    assert initlab.gain(name, **params) == pytest.approx(reference.variance_gain(phi), rel=1e-9)
    for q in (0.25, 3.0):
        assert act.second_moment(q) == pytest.approx(reference.second_moment(phi, q), rel=1e-9)


def test_orthogonal_same_law_as_reference():
    """initlab's orthogonal_ and the reference's (QR with sign(diag R): Saxe et al. 2014 /
    Mezzadri 2007) sample the same Haar law: the trace of a 3 × 3 draw has the same distribution
    (two-sample KS over 1500 draws each), and both are orthogonal."""
    # 1500 independent 3 × 3 draws in one call: blocks=1500 makes each row block its own matrix
    w = initlab.orthogonal_(torch.empty(1500 * 3, 3, dtype=torch.float64), blocks=1500,
                            generator=gen(0))
    ours = torch.diagonal(w.reshape(1500, 3, 3), dim1=1, dim2=2).sum(dim=1).numpy()
    rng = np.random.default_rng(0)
    refs = []
    for _ in range(1500):
        q = reference.orthogonal(3, 3, rng)
        np.testing.assert_allclose(q @ q.T, np.eye(3), atol=1e-12)
        refs.append(np.trace(q))
    assert stats.ks_2samp(ours, np.array(refs)).pvalue > 1e-4
    # a non-Haar sampler (QR without the sign fix) would be caught: its law differs
    biased = []
    for _ in range(1500):
        q, _r = np.linalg.qr(rng.standard_normal((3, 3)))
        biased.append(np.trace(q))
    assert stats.ks_2samp(ours, np.array(biased)).pvalue < 1e-4


def test_fixup_vs_reference():
    """Zhang et al. 2019: L^(−1/(2m−2)), several (L, m)."""
    for L, m in [(54, 2), (8, 2), (16, 3), (100, 4)]:
        assert initlab.fixup_scale(L, m) == pytest.approx(reference.fixup_scale(L, m), rel=1e-14)
