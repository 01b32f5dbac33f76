"""The truncated-normal sampler's four routes (core/samplers.truncated_normal_fill): the redraw
route (mass ≥ 0.8), erfinv (≥ 1/4), Robert's far-tail sampler (window ≥ 4σ from the mean) and
the one-sided inverse CDF (narrow windows), in float32 and float64.

Each case checks exact bounds and the shape by a Kolmogorov–Smirnov test against
``scipy.stats.truncnorm`` (fixed seed, reject at p < 1e-4 as torch's test_init.py does; n = 20 000
detects a CDF gap of ~1.95/√n ≈ 0.014 at that level). The far-tail cases are the ones torch's
``trunc_normal_`` handles and the old inverse-CDF sampler collapsed on: [30, 31] used to return
30.0 for every value (Φ(−30) underflows float32).
"""

from __future__ import annotations

import math

import pytest
import torch
from scipy import stats

import initlab

KS_P = 1e-4
N = 20_000

WINDOWS = [
    (-2.0, 2.0),  # redraw route
    (-1.0, math.inf),  # redraw route, one infinite bound
    (-1.5, 2.5),  # redraw route, window not centred on the mean (three-pass test)
    (-0.5, 1.0),  # erfinv route
    (0.5, 0.6),  # narrow, right of the mean: one-sided inverse CDF
    (-3.0, -2.5),  # narrow, left
    (4.0, 4.5),  # tail route at its threshold
    (13.0, math.inf),  # past float32's inverse-CDF range
    (30.0, 31.0),  # the reported collapse
    (-31.0, -30.0),
    (50.0, 50.001),  # far and narrow
]


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("window", WINDOWS, ids=[f"[{a},{b}]" for a, b in WINDOWS])
def test_trunc_normal_bounds_and_ks(window: tuple[float, float], dtype: torch.dtype):
    a, b = window
    g = torch.Generator().manual_seed(0)
    with pytest.warns(UserWarning) if (a > 2 or b < -2) else _nothing():
        w = initlab.trunc_normal_(torch.empty(N, dtype=dtype), 0.0, 1.0, a, b, generator=g)
    assert w.min().item() >= a and w.max().item() <= b
    # not collapsed to a few points: at least a quarter of the values the dtype has in [a, b]
    # (or half the draws, where the dtype has more values than that)
    ulp = torch.finfo(dtype).eps * max(abs(a), abs(b) if math.isfinite(b) else 1.0, 1.0)
    assert len(torch.unique(w)) > min(N // 2, (b - a) / ulp / 4)
    p = stats.kstest(w.double().numpy(), stats.truncnorm(a, b).cdf).pvalue
    assert p > KS_P


def test_far_tail_mean_matches_mills_ratio():
    """E[X | X > α] = φ(α)/Q(α) ≈ α + 1/α − 2/α³ (Mills' ratio, asymptotic series): at α = 30,
    30.03326. Its sample SE is σ_trunc/√n with σ_trunc ≈ 1/α: 5 SE = 5/(30·√20000) ≈ 1.2e-3."""
    g = torch.Generator().manual_seed(1)
    w = initlab.trunc_normal_(torch.empty(N, dtype=torch.float64), 0.0, 1.0, 30.0, 31.0,
                              generator=g)  # fmt: skip
    expected = 30 + 1 / 30 - 2 / 30**3
    assert w.mean().item() == pytest.approx(expected, abs=5 / (30 * math.sqrt(N)))


def test_scaled_and_shifted_tail():
    """mean/std scale the standardized window: N(5, 0.5²) on [20, 21] is 5 + 0.5·Z with Z
    on [30, 32]."""
    g = torch.Generator().manual_seed(2)
    with pytest.warns(UserWarning):
        w = initlab.trunc_normal_(torch.empty(N), 5.0, 0.5, 20.0, 21.0, generator=g)
    z = (w.double() - 5.0) / 0.5
    assert w.min().item() >= 20.0 and w.max().item() <= 21.0
    assert stats.kstest(z.numpy(), stats.truncnorm(30, 32).cdf).pvalue > KS_P


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_half_precision_redraw_route(dtype: torch.dtype):
    """Half types draw in float32 and keep the bounds (±2σ with bounds representable in both)."""
    g = torch.Generator().manual_seed(3)
    w = initlab.trunc_normal_(torch.empty(N, dtype=dtype), 0.0, 0.5, -1.0, 1.0, generator=g)
    assert w.dtype == dtype
    assert w.abs().max().item() <= 1.0
    assert stats.kstest(w.double().numpy(), stats.truncnorm(-2, 2, scale=0.5).cdf).pvalue > 1e-6


def test_same_generator_same_values_and_noncontiguous():
    """The values are a function of the generator state; a strided view is written through."""
    a = initlab.trunc_normal_(torch.empty(1000), generator=torch.Generator().manual_seed(4))
    b = initlab.trunc_normal_(torch.empty(1000), generator=torch.Generator().manual_seed(4))
    assert torch.equal(a, b)
    base = torch.zeros(40, 50)
    initlab.trunc_normal_(base.t(), generator=torch.Generator().manual_seed(5))
    assert (base != 0).all() and base.abs().max() <= 2.0


class _nothing:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


def test_tail_route_acceptance_and_one_round(monkeypatch):
    """Robert (1995) with rate α accepts E ~ Exp(α) with probability exp(−E²/2): on average
    α·Q(α)/φ(α) = α·√(π/2)·erfcx(α/√2) (Mills' ratio), 0.947 at α = 4, not the 0.97 the
    sampler once assumed. Its oversampling bound α²/(α² + 1) (Mills' ratio > α/(α² + 1)) must
    stay below that, so one round fills the tensor: 10⁵ values at α = 4 need 1.056× proposals,
    and with +4√k spare the chance of a second round is below 1e-4 (4 binomial SEs)."""
    from initlab.core import samplers

    for alpha in (4.0, 6.0, 13.0, 40.0):
        exact = alpha * math.sqrt(math.pi / 2) * torch.special.erfcx(
            torch.tensor(alpha / math.sqrt(2), dtype=torch.float64)).item()  # fmt: skip
        assert samplers._tail_acceptance(alpha) <= exact
    assert 0.94 < samplers._tail_acceptance(4.0) < 0.95
    rounds = []
    real = torch.empty_like
    monkeypatch.setattr(torch, "empty_like", lambda *a, **k: rounds.append(1) or real(*a, **k))
    g = torch.Generator().manual_seed(3)
    out = torch.empty(100_000, dtype=torch.float64)
    samplers._tail_fill(out, 4.0, math.inf, g)
    assert len(rounds) == 1
    assert out.min().item() >= 4.0


@pytest.mark.parametrize("n", [20_000, 20_003])
def test_redraw_route_across_chunks_and_pool_top_up(monkeypatch, n: int):
    """The redraw route over many chunks (1,024 elements each; 20,003 leaves a tail that is not
    a multiple of 8 and takes NumPy's own ``flatnonzero``), with the replacement pool forced to
    run dry at once so that every chunk takes the top-up branch: still exact (bounds, KS)."""
    from initlab.core import samplers

    monkeypatch.setattr(samplers, "_REDRAW_CHUNK", 1024)
    real_pool = samplers._replacement_pool
    calls = []

    def tiny_first_pool(k, *args, **kwargs):
        calls.append(k)
        pool = real_pool(k, *args, **kwargs)
        return pool[:0] if len(calls) == 1 else pool

    monkeypatch.setattr(samplers, "_replacement_pool", tiny_first_pool)
    g = torch.Generator().manual_seed(5)
    w = initlab.trunc_normal_(torch.empty(n), 0.0, 1.0, -2.0, 2.0, generator=g)
    assert len(calls) > 10  # the first pool was empty: chunks topped it up
    assert w.min().item() >= -2.0 and w.max().item() <= 2.0
    assert stats.kstest(w.double().numpy(), stats.truncnorm(-2, 2).cdf).pvalue > KS_P


def test_bounds_between_float32_values_are_kept_exactly():
    """A bound between two float32 values: comparing float32 values with it rounds it to the
    nearest float32, which may lie outside [a, b]; the sampler rounds bounds inward first."""
    from initlab.core.samplers import _inward

    # float32 has 2.0 and 2.00000024 around 2: ±2.00000015 round to ±2.00000024, outside
    a, b = -2.00000015, 2.00000015
    assert torch.tensor(b).item() > b  # the hazard this test is about
    lo, hi = _inward(a, b, torch.float32)
    assert a <= lo and hi <= b
    assert torch.tensor(lo).item() == lo and torch.tensor(hi).item() == hi  # float32 values
    below = torch.nextafter(torch.tensor(lo), torch.tensor(-math.inf)).item()
    above = torch.nextafter(torch.tensor(hi), torch.tensor(math.inf)).item()
    assert below < a and above > b  # the closest float32 values inside, not further in
    g = torch.Generator().manual_seed(6)
    w = initlab.trunc_normal_(torch.empty(200_000), 0.0, 1.0, a, b, generator=g).double()
    assert w.min().item() >= a and w.max().item() <= b


def test_flatnonzero_sparse_matches_numpy():
    """The word-by-word index scan against NumPy's own on masks of every density."""
    import numpy as np

    from initlab.core.samplers import _flatnonzero_sparse

    rng = np.random.default_rng(0)
    for density in (0.0, 0.001, 0.046, 0.3, 0.9, 1.0):
        for size in (8, 64, 4096):
            m = rng.random(size) < density
            got = _flatnonzero_sparse(m, np.empty(size // 8, dtype=bool))
            assert got.tolist() == np.flatnonzero(m).tolist()


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_redraw_route_same_values_with_one_or_two_threads(monkeypatch, dtype: torch.dtype):
    """With more than one torch thread the scans run beside the draws; the generator is used in
    the same order (pool, chunks, top-ups), so the values are bit-identical to one thread."""
    from initlab.core import samplers

    monkeypatch.setattr(samplers, "_REDRAW_CHUNK", 4096)
    before = torch.get_num_threads()
    out = []
    try:
        for threads in (1, 2):
            torch.set_num_threads(threads)
            g = torch.Generator().manual_seed(7)
            out.append(initlab.trunc_normal_(torch.empty(100_000, dtype=dtype), 0.0, 1.0,
                                             -2.0, 2.0, generator=g))  # fmt: skip
    finally:
        torch.set_num_threads(before)
    assert torch.equal(out[0], out[1])
    assert out[1].abs().max().item() <= 2.0


def test_window_without_a_representable_value_is_refused():
    """[1 + 1e-8, 1 + 5e-8] holds no float32 value (float32 steps by 1.2e-7 near 1): refused with
    the reason (it used to spin forever redrawing, every candidate rejected); float64 has values
    there and samples them. A bound past float32's range is ±inf there, without a warning."""
    from initlab.errors import InitError

    with pytest.raises(InitError, match="no float32 value lies in"):
        initlab.trunc_normal_(torch.empty(4), 1 + 3e-8, 1e-8, 1 + 1e-8, 1 + 5e-8)
    w = initlab.trunc_normal_(torch.empty(4, dtype=torch.float64), 1 + 3e-8, 1e-8, 1 + 1e-8,
                              1 + 5e-8)  # fmt: skip
    assert ((w >= 1 + 1e-8) & (w <= 1 + 5e-8)).all()
    import sys
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        w = initlab.trunc_normal_(torch.empty(1000), 0.0, 1.0, -sys.float_info.max, 2.0)
    assert w.max().item() <= 2.0
