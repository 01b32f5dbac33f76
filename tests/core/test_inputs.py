"""Correctness on every input (issue 3, "Correctness on every input" and "Determinism"), for
every scheme of the catalogue (tests/core/helpers.py): float32/float64/bf16/fp16, 0-element
tensors, meta tensors, leaves that require grad, non-contiguous views, CUDA; the same generator
seed gives the same values and the global RNG is never touched when a generator is given.
"""

from __future__ import annotations

import math
import warnings

import pytest
import torch

import initlab

from .helpers import (
    SCHEME_IDS,
    SCHEMES,
    Scheme,
    bound_in_dtype,
    example_shape,
    gen,
    std_tolerance,
)

DTYPES = [torch.float32, torch.float64, torch.bfloat16, torch.float16]

# Deterministic fills (no generator): they must obey the same input rules.
DETERMINISTIC = {
    "zeros_": (initlab.zeros_, 2, 5),
    "ones_": (initlab.ones_, 1, 5),
    "constant_": (lambda t: initlab.constant_(t, 0.25), 1, 5),
    "eye_": (initlab.eye_, 2, 2),
    "dirac_": (initlab.dirac_, 3, 5),
    "identity_": (lambda t: initlab.identity_(t, 0.5), 2, 5),
}


def _check_stats(scheme: Scheme, w: torch.Tensor, shape: tuple[int, ...]) -> None:
    """Sample std within 5 SE of the formula (plus the dtype's rounding), bound respected at
    the dtype's precision, all values finite."""
    assert torch.isfinite(w).all()
    x = w.double()
    if scheme.exact_std:
        tol = 1e-3 + 2 * torch.finfo(w.dtype).eps
    else:
        tol = std_tolerance(w.numel(), scheme.kurtosis, w.dtype)
    assert x.std().item() == pytest.approx(scheme.std(shape), rel=tol)
    if scheme.bound is not None:
        assert x.abs().max().item() <= bound_in_dtype(scheme.bound(shape), w.dtype) * (1 + 1e-6)


# ----------------------------------------------------------------------------- dtypes -------


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("scheme", SCHEMES, ids=SCHEME_IDS)
def test_every_scheme_every_float_dtype(scheme: Scheme, dtype):
    """Values finite, dtype kept, std within a tolerance for the dtype (bf16/fp16 computed in
    float32 where needed, then cast)."""
    shape = example_shape(scheme)
    t = torch.empty(shape, dtype=dtype)
    out = scheme.fill(t, gen(0))
    assert out is t and out.dtype == dtype and out.shape == shape
    _check_stats(scheme, out, shape)


# ------------------------------------------------------------------------ 0-element ---------


def _empty_shapes(scheme_min: int, scheme_max: int) -> list[tuple[int, ...]]:
    shapes = [(0, 5), (5, 0), (0, 0), (0, 3, 3, 3), (4, 0, 3), (3, 3, 0)]
    if scheme_min == 1:
        shapes.append((0,))
    return [s for s in shapes if scheme_min <= len(s) <= scheme_max]


@pytest.mark.parametrize("scheme", SCHEMES, ids=SCHEME_IDS)
def test_zero_element_tensors(scheme: Scheme):
    """A 0-element tensor is returned as is (torch: "a no-op"); kaiming_* also warn, as torch."""
    for shape in _empty_shapes(scheme.min_dims, scheme.max_dims):
        if scheme.needs_out_ge_in and shape[1] > shape[0]:
            continue  # in > out channels is an error whatever the size (test_bad_inputs)
        t = torch.empty(shape)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = scheme.fill(t, gen(0))
        assert out is t and out.shape == shape


@pytest.mark.parametrize("name", list(DETERMINISTIC))
def test_zero_element_deterministic(name):
    fn, lo, hi = DETERMINISTIC[name]
    for shape in _empty_shapes(lo, hi):
        t = torch.empty(shape)
        assert fn(t) is t


# ----------------------------------------------------------------------------- meta ---------


@pytest.mark.parametrize("scheme", SCHEMES, ids=SCHEME_IDS)
def test_meta_tensors_are_returned_unchanged(scheme: Scheme):
    """Meta tensors have no storage: validated, then returned as is (torch.nn.init: a no-op)."""
    shape = example_shape(scheme)
    t = torch.empty(shape, device="meta")
    out = scheme.fill(t, None)
    assert out is t and out.is_meta and out.shape == shape


@pytest.mark.parametrize("name", list(DETERMINISTIC))
def test_meta_deterministic(name):
    fn, lo, _ = DETERMINISTIC[name]
    t = torch.empty((4, 4, 3)[:max(lo, 2)] if lo < 3 else (4, 4, 3), device="meta")
    assert fn(t) is t and t.is_meta


def test_meta_still_validates_arguments():
    with pytest.raises(initlab.errors.InitError):
        initlab.normal_(torch.empty(3, device="meta"), std=-1.0)
    with pytest.raises(initlab.errors.InitError):
        initlab.xavier_uniform_(torch.empty(3, device="meta"))


# -------------------------------------------------------------------- requires_grad ---------


@pytest.mark.parametrize("scheme", SCHEMES, ids=SCHEME_IDS)
def test_requires_grad_leaves(scheme: Scheme):
    """An nn.Parameter-like leaf: filled without autograd recording (no grad_fn), still a leaf
    that requires grad."""
    shape = example_shape(scheme)
    t = torch.empty(shape, requires_grad=True)
    out = scheme.fill(t, gen(0))
    assert out is t and t.is_leaf and t.requires_grad and t.grad_fn is None
    _check_stats(scheme, t.detach(), shape)


@pytest.mark.parametrize("name", list(DETERMINISTIC))
def test_requires_grad_deterministic(name):
    fn, lo, _ = DETERMINISTIC[name]
    t = torch.nn.Parameter(torch.empty((4, 4, 3)[: max(lo, 2)] if lo < 3 else (4, 4, 3)))
    out = fn(t)
    assert out is t and t.is_leaf and t.requires_grad and t.grad_fn is None


# ------------------------------------------------------------------ non-contiguous views ----


@pytest.mark.parametrize("scheme", SCHEMES, ids=SCHEME_IDS)
def test_transposed_view_is_written_through(scheme: Scheme):
    """A transposed (non-contiguous) view: values land in the base tensor, with the view's
    statistics (fans from the view's shape)."""
    shape = example_shape(scheme)
    base = torch.full((shape[1], shape[0], *shape[2:]), 7.0)
    view = base.transpose(0, 1)
    assert not view.is_contiguous() and tuple(view.shape) == shape
    out = scheme.fill(view, gen(0))
    assert out is view
    assert (base != 7.0).float().mean().item() > 0.5  # written into the base
    torch.testing.assert_close(base.transpose(0, 1), view, rtol=0, atol=0)
    _check_stats(scheme, view, shape)


@pytest.mark.parametrize("scheme", SCHEMES, ids=SCHEME_IDS)
def test_sliced_view_leaves_the_rest_untouched(scheme: Scheme):
    """A slice base[:, :k] (non-contiguous): the slice gets the right statistics, the rest of the
    base keeps its old values."""
    shape = example_shape(scheme)
    base = torch.full((shape[0], 2 * shape[1], *shape[2:]), 7.0)
    view = base[:, : shape[1]]
    assert not view.is_contiguous()
    scheme.fill(view, gen(0))
    assert (base[:, shape[1]:] == 7.0).all()
    _check_stats(scheme, view, shape)


@pytest.mark.parametrize("name", list(DETERMINISTIC))
def test_views_deterministic(name):
    fn, lo, _ = DETERMINISTIC[name]
    shape = (4, 6) if lo < 3 else (4, 6, 3)
    base = torch.full((shape[0], 2 * shape[1], *shape[2:]), 7.0)
    view = base[:, : shape[1]]
    expected = fn(torch.empty(shape))
    fn(view)
    torch.testing.assert_close(view, expected, rtol=0, atol=0)
    assert (base[:, shape[1]:] == 7.0).all()


# ---------------------------------------------------------------------- determinism --------


@pytest.mark.parametrize("scheme", SCHEMES, ids=SCHEME_IDS)
def test_same_seed_same_values_and_global_rng_untouched(scheme: Scheme):
    """Same generator seed ⇒ identical values; another seed ⇒ different values; and with a
    generator given, torch's global RNG state is unchanged (nothing is drawn from it)."""
    shape = example_shape(scheme)
    torch.manual_seed(1234)
    state = torch.get_rng_state()
    a = scheme.fill(torch.empty(shape), gen(11))
    b = scheme.fill(torch.empty(shape), gen(11))
    c = scheme.fill(torch.empty(shape), gen(12))
    assert torch.equal(torch.get_rng_state(), state)
    assert torch.equal(a, b)
    assert not torch.equal(a, c)


@pytest.mark.parametrize("scheme", SCHEMES, ids=SCHEME_IDS)
def test_generator_none_uses_global_rng(scheme: Scheme):
    """generator=None draws from torch's global RNG (torch semantics): manual_seed reproduces."""
    shape = example_shape(scheme)
    torch.manual_seed(5)
    a = scheme.fill(torch.empty(shape), None)
    torch.manual_seed(5)
    b = scheme.fill(torch.empty(shape), None)
    assert torch.equal(a, b)


def test_generator_state_advances():
    """Two draws from one generator differ (the state advances, no hidden reseeding)."""
    g = gen(0)
    a = initlab.xavier_normal_(torch.empty(8, 8), generator=g)
    b = initlab.xavier_normal_(torch.empty(8, 8), generator=g)
    assert not torch.equal(a, b)


# ----------------------------------------------------------------------------- CUDA ---------
# Skipped here: the development machine has no GPU (CPU-only torch wheel), so these run only on
# a CUDA machine. They check the same contract on device.

needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device here")


@needs_cuda
@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("scheme", SCHEMES, ids=SCHEME_IDS)
def test_cuda_every_scheme(scheme: Scheme, dtype):
    shape = example_shape(scheme)
    t = torch.empty(shape, dtype=dtype, device="cuda")
    out = scheme.fill(t, gen(0, "cuda"))
    assert out is t and out.device.type == "cuda" and out.dtype == dtype
    _check_stats(scheme, out.cpu(), shape)
    again = scheme.fill(torch.empty(shape, dtype=dtype, device="cuda"), gen(0, "cuda"))
    assert torch.equal(out, again)


@needs_cuda
@pytest.mark.parametrize("scheme", SCHEMES, ids=SCHEME_IDS)
def test_cuda_views_and_global_rng(scheme: Scheme):
    shape = example_shape(scheme)
    base = torch.full((shape[1], shape[0], *shape[2:]), 7.0, device="cuda")
    state = torch.cuda.get_rng_state()
    view = scheme.fill(base.transpose(0, 1), gen(0, "cuda"))
    assert torch.equal(torch.cuda.get_rng_state(), state)
    _check_stats(scheme, view.cpu(), shape)


# ------------------------------------------------------------------------ misc inputs -------


def test_fill_value_dtypes_for_plain_fills():
    """zeros_/ones_/constant_ work on any dtype (integers too), as torch's."""
    for dtype in (torch.int64, torch.int8, torch.bool, torch.float16):
        t = torch.empty(3, dtype=dtype)
        assert initlab.zeros_(t).sum().item() == 0
        assert initlab.ones_(t).sum().item() == 3
    assert initlab.constant_(torch.empty(2, dtype=torch.int32), 4).tolist() == [4, 4]


def test_gain_and_std_edge_values():
    """std = 0 fills the mean (a legal, degenerate normal); truncated with std 0 clamps."""
    assert initlab.normal_(torch.empty(4), 0.5, 0.0).tolist() == [0.5] * 4
    with pytest.warns(UserWarning, match="more than 2 std"):  # torch's warning, kept
        assert initlab.trunc_normal_(torch.empty(3), 5.0, 0.0, -1.0, 1.0).tolist() == [1.0] * 3
    w = initlab.orthogonal_(torch.empty(4, 4), gain=0.0)
    assert w.abs().sum().item() == 0.0
    assert math.isfinite(initlab.xavier_uniform_(torch.empty(1, 1)).item())
