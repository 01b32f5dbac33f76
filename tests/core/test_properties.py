"""Property tests (hypothesis) over shapes (2–4 dims, small sizes), dtypes and generator seeds,
for every random scheme and for fans. Kept small (max_examples ≤ 40) so the suite stays fast.
"""

from __future__ import annotations

import math
import warnings

import torch
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import initlab
from initlab import Fans

from .helpers import SCHEMES, Scheme, bound_in_dtype, gen

DTYPES = [torch.float32, torch.float64, torch.bfloat16, torch.float16]
FAST = settings(max_examples=40, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow])

shapes = st.lists(st.integers(1, 7), min_size=2, max_size=4).map(tuple)
seeds = st.integers(0, 2**32 - 1)
dtypes = st.sampled_from(DTYPES)
schemes = st.sampled_from(SCHEMES)


def _accepts(scheme: Scheme, shape: tuple[int, ...]) -> bool:
    if not scheme.min_dims <= len(shape) <= scheme.max_dims:
        return False
    return not (scheme.needs_out_ge_in and shape[1] > shape[0])


@FAST
@given(scheme=schemes, shape=shapes, dtype=dtypes, seed=seeds)
def test_scheme_output_contract(scheme, shape, dtype, seed):
    """For any accepted shape, dtype and seed: same tensor object returned, shape and dtype
    kept, every value finite, bounded schemes within their bound (at the dtype's rounding), and
    the same seed reproduces the values exactly."""
    assume(_accepts(scheme, shape))
    t = torch.empty(shape, dtype=dtype)
    out = scheme.fill(t, gen(seed))
    assert out is t and out.shape == shape and out.dtype == dtype
    assert torch.isfinite(out).all()
    if scheme.bound is not None:
        limit = bound_in_dtype(scheme.bound(shape), dtype)
        assert out.double().abs().max().item() <= limit * (1 + 1e-6)
    again = scheme.fill(torch.empty(shape, dtype=dtype), gen(seed))
    assert torch.equal(out, again)


@FAST
@given(shape=shapes, seed=seeds, gain=st.floats(0.1, 3.0),
       dtype=st.sampled_from([torch.float32, torch.float64]))
def test_orthogonal_property(shape, seed, gain, dtype):
    """Any shape: the flattened (rows × cols) matrix has orthonormal rows or columns × gain."""
    w = initlab.orthogonal_(torch.empty(shape, dtype=dtype), gain, generator=gen(seed))
    m = w.reshape(shape[0], -1).double()
    rows, cols = m.shape
    prod = m @ m.T if rows <= cols else m.T @ m
    atol = (1e-5 if dtype == torch.float32 else 1e-12) * gain**2
    torch.testing.assert_close(prod, torch.eye(min(rows, cols), dtype=torch.float64) * gain**2,
                               atol=atol, rtol=0)


@FAST
@given(shape=shapes, seed=seeds)
def test_uniform_presets_respect_their_bounds(shape, seed):
    """Xavier/He/LeCun uniform: |w| ≤ gain·√(3/n) with n from torch's layout."""
    rf = math.prod(shape[2:])
    fan_in, fan_out = shape[1] * rf, shape[0] * rf
    g = gen(seed)
    w = initlab.xavier_uniform_(torch.empty(shape), generator=g)
    assert w.abs().max().item() <= math.sqrt(6 / (fan_in + fan_out)) * (1 + 1e-6)
    w = initlab.kaiming_uniform_(torch.empty(shape), nonlinearity="relu", generator=g)
    assert w.abs().max().item() <= math.sqrt(6 / fan_in) * (1 + 1e-6)
    w = initlab.lecun_uniform_(torch.empty(shape), generator=g)
    assert w.abs().max().item() <= math.sqrt(3 / fan_in) * (1 + 1e-6)


@FAST
@given(shape=shapes, groups=st.integers(1, 4), blocks=st.integers(1, 3))
def test_fans_properties(shape, groups, blocks):
    """Fans are positive; conv fans are (in/g·Πk, out/g·Πk) per block; a transposed conv's are
    the conv's with the channel axes exchanged (so torch's values come out swapped); a custom
    (out=0, in=1) axes layout agrees with the conv layout."""
    out_c = shape[0] * groups * blocks
    full = (out_c, *shape[1:])
    rf = math.prod(shape[2:])
    f = initlab.fans(full, groups=groups, blocks=blocks)
    assert f.fan_in > 0 and f.fan_out > 0 and f.blocks == blocks
    assert (f.fan_in, f.fan_out) == (shape[1] * rf, shape[0] * rf)
    t = initlab.fans((shape[0] * groups, *shape[1:]), layout="conv_transpose", groups=groups)
    assert (t.fan_in, t.fan_out) == (shape[0] * rf, shape[1] * rf)
    c = initlab.fans(full, in_axes=1, out_axes=0, blocks=blocks * groups)
    assert (c.fan_in, c.fan_out) == (shape[1] * rf, shape[0] * rf)


@FAST
@given(in_c=st.integers(1, 8), out_c=st.integers(1, 8), k=st.lists(st.integers(1, 5),
       min_size=1, max_size=3), s=st.integers(1, 4))
def test_strided_transposed_fan_in_property(in_c, out_c, k, s):
    """Effective fan_in of a strided transposed conv = in·Π(k_i/s) (oracles, "Fans"); fan_out
    does not depend on the stride."""
    shape = (in_c, out_c, *k)
    f = initlab.fans(shape, layout="conv_transpose", stride=s)
    assert math.isclose(f.fan_in, in_c * math.prod(ki / s for ki in k), rel_tol=1e-12)
    assert f.fan_out == out_c * math.prod(k)


@FAST
@given(fan_in=st.integers(1, 10_000), fan_out=st.integers(1, 10_000),
       mode=st.sampled_from(["fan_in", "fan_out", "fan_avg", "fan_geo_avg"]))
def test_fan_modes_are_means(fan_in, fan_out, mode):
    """min ≤ geo_avg ≤ avg ≤ max (AM–GM), each mode picks its fan."""
    f = Fans(fan_in, fan_out)
    lo, hi = min(fan_in, fan_out), max(fan_in, fan_out)
    assert lo <= f.fan_geo_avg * (1 + 1e-12) and f.fan_geo_avg <= f.fan_avg * (1 + 1e-12)
    assert f.fan_avg <= hi
    assert f.of(mode) > 0


@FAST
@given(seed=seeds, rows=st.integers(1, 12), cols=st.integers(1, 6),
       sparsity=st.floats(0.0, 1.0))
def test_sparse_property(seed, rows, cols, sparsity):
    """At least ⌈sparsity·rows⌉ zeros per column (exactly, almost surely), global RNG untouched,
    the generator alone fixes the result."""
    state = torch.get_rng_state()
    w = initlab.sparse_(torch.empty(rows, cols), sparsity, generator=gen(seed))
    assert torch.equal(torch.get_rng_state(), state)
    assert ((w == 0).sum(dim=0) >= math.ceil(sparsity * rows)).all()
    assert torch.equal(w, initlab.sparse_(torch.empty(rows, cols), sparsity, generator=gen(seed)))


@FAST
@given(mean=st.floats(-3, 3), std=st.floats(0.01, 3), a_off=st.floats(-4, 2),
       width=st.floats(0.01, 6), seed=seeds, dtype=dtypes)
def test_trunc_normal_bounds_property(mean, std, a_off, width, seed, dtype):
    """trunc_normal_ keeps every value in [a, b] (at the dtype's rounding), for windows around
    the mean and far in either tail."""
    a = mean + a_off * std
    b = a + width * std
    with warnings.catch_warnings():  # windows far from the mean are the point here: torch's
        warnings.simplefilter("ignore")  # "more than 2 std from [a, b]" warning is expected
        w = initlab.trunc_normal_(torch.empty(300, dtype=dtype), mean, std, a, b,
                                  generator=gen(seed))
    assert torch.isfinite(w).all()
    assert w.double().min().item() >= bound_in_dtype(a, dtype)
    assert w.double().max().item() <= bound_in_dtype(b, dtype)
