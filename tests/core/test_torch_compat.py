"""initlab as a drop-in superset of torch.nn.init: same names, signatures and defaults,
bit-identical values for the same generator where the issue promises it, and a port of torch's
own tests (pytorch/pytorch test/nn/test_init.py, TestNNInit) run against initlab.
"""

from __future__ import annotations

import inspect
import math
import random
import string
import warnings
from functools import reduce
from operator import mul

import pytest
import torch
import torch.nn.functional as F
from scipy import stats

import initlab
import initlab as init

from .helpers import gen

TORCH_PUBLIC = list(torch.nn.init.__all__)


# ------------------------------------------------------------------ names and signatures ----


@pytest.mark.parametrize("name", TORCH_PUBLIC)
def test_every_torch_function_exists_with_its_signature(name):
    """Every public function of torch.nn.init exists in initlab with the same positional /
    keyword parameters, in the same order, with the same defaults; initlab may add keyword-only
    parameters (fans=, gain=, blocks=...) after them."""
    ours, theirs = getattr(initlab, name), getattr(torch.nn.init, name)
    assert callable(ours)
    p_ours = list(inspect.signature(ours).parameters.values())
    p_theirs = list(inspect.signature(theirs).parameters.values())
    assert len(p_ours) >= len(p_theirs)
    for a, b in zip(p_ours, p_theirs, strict=False):
        assert (a.name, a.kind, a.default) == (b.name, b.kind, b.default), (name, a, b)
    for extra in p_ours[len(p_theirs):]:
        assert extra.kind is inspect.Parameter.KEYWORD_ONLY, (name, extra)


def test_import_initlab_as_init_keeps_private_helpers():
    """torch's tests and much user code call these two private helpers."""
    assert callable(init._calculate_fan_in_and_fan_out)
    assert callable(init._calculate_correct_fan)


# ------------------------------------------------------------------- bit-identical values ---

SHAPES = [(64, 32), (32, 64), (16, 8, 3, 3), (8, 16, 5), (4, 6, 2, 3, 2)]


def _pair(fn_ours, fn_theirs, shape, seed=0, dtype=torch.float32):
    a = fn_ours(torch.empty(shape, dtype=dtype), gen(seed))
    b = fn_theirs(torch.empty(shape, dtype=dtype), gen(seed))
    return a, b


BIT_IDENTICAL = {
    "normal_": (lambda t, g: init.normal_(t, 0.1, 2.0, generator=g),
                lambda t, g: torch.nn.init.normal_(t, 0.1, 2.0, generator=g)),
    "normal_default": (lambda t, g: init.normal_(t, generator=g),
                       lambda t, g: torch.nn.init.normal_(t, generator=g)),
    "uniform_": (lambda t, g: init.uniform_(t, -0.5, 0.25, generator=g),
                 lambda t, g: torch.nn.init.uniform_(t, -0.5, 0.25, generator=g)),
    "uniform_default": (lambda t, g: init.uniform_(t, generator=g),
                        lambda t, g: torch.nn.init.uniform_(t, generator=g)),
    "xavier_uniform_": (lambda t, g: init.xavier_uniform_(t, generator=g),
                        lambda t, g: torch.nn.init.xavier_uniform_(t, generator=g)),
    "xavier_uniform_gain": (lambda t, g: init.xavier_uniform_(t, 1.7, g),
                            lambda t, g: torch.nn.init.xavier_uniform_(t, 1.7, g)),
    "xavier_normal_": (lambda t, g: init.xavier_normal_(t, generator=g),
                       lambda t, g: torch.nn.init.xavier_normal_(t, generator=g)),
    "xavier_normal_gain": (lambda t, g: init.xavier_normal_(t, 0.3, g),
                           lambda t, g: torch.nn.init.xavier_normal_(t, 0.3, g)),
    "kaiming_uniform_": (lambda t, g: init.kaiming_uniform_(t, generator=g),
                         lambda t, g: torch.nn.init.kaiming_uniform_(t, generator=g)),
    "kaiming_uniform_sqrt5": (  # nn.Linear's default reset_parameters
        lambda t, g: init.kaiming_uniform_(t, a=math.sqrt(5), generator=g),
        lambda t, g: torch.nn.init.kaiming_uniform_(t, a=math.sqrt(5), generator=g)),
    "kaiming_uniform_relu_fan_out": (
        lambda t, g: init.kaiming_uniform_(t, 0, "fan_out", "relu", g),
        lambda t, g: torch.nn.init.kaiming_uniform_(t, 0, "fan_out", "relu", g)),
    "kaiming_normal_": (lambda t, g: init.kaiming_normal_(t, generator=g),
                        lambda t, g: torch.nn.init.kaiming_normal_(t, generator=g)),
    "kaiming_normal_tanh_fan_out": (
        lambda t, g: init.kaiming_normal_(t, mode="fan_out", nonlinearity="tanh", generator=g),
        lambda t, g: torch.nn.init.kaiming_normal_(t, mode="fan_out", nonlinearity="tanh",
                                                   generator=g)),
    "kaiming_normal_selu": (
        lambda t, g: init.kaiming_normal_(t, nonlinearity="selu", generator=g),
        lambda t, g: torch.nn.init.kaiming_normal_(t, nonlinearity="selu", generator=g)),
    "constant_": (lambda t, g: init.constant_(t, 0.37),
                  lambda t, g: torch.nn.init.constant_(t, 0.37)),
    "ones_": (lambda t, g: init.ones_(t), lambda t, g: torch.nn.init.ones_(t)),
    "zeros_": (lambda t, g: init.zeros_(t), lambda t, g: torch.nn.init.zeros_(t)),
}


@pytest.mark.parametrize("name", list(BIT_IDENTICAL))
@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_bit_identical_to_torch(name, shape, dtype):
    """Same generator state ⇒ exactly torch's values (torch.equal, not allclose)."""
    ours, theirs = BIT_IDENTICAL[name]
    a, b = _pair(ours, theirs, shape, dtype=dtype)
    assert torch.equal(a, b)


@pytest.mark.parametrize("shape", [(4, 6), (6, 4), (5, 5)])
def test_eye_bit_identical(shape):
    assert torch.equal(init.eye_(torch.empty(shape)), torch.nn.init.eye_(torch.empty(shape)))


@pytest.mark.parametrize(("shape", "groups"), [((6, 4, 3), 1), ((6, 4, 3, 3), 2),
                                               ((6, 2, 3, 3, 3), 3), ((4, 8, 5, 5), 1)])
def test_dirac_bit_identical(shape, groups):
    a = init.dirac_(torch.randn(shape), groups)
    b = torch.nn.init.dirac_(torch.randn(shape), groups)
    assert torch.equal(a, b)


@pytest.mark.parametrize("shape", [(64, 64), (128, 32), (7, 7), (24, 2, 3, 2), (32, 64),
                                   (20, 2, 3, 4), (3, 5), (256, 512)],
                         ids=["square", "tall", "small", "conv-tall", "wide", "conv-wide", "3x5",
                              "wide-large"])
@pytest.mark.parametrize("gain", [1, 0.5])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_orthogonal_bit_identical(shape, gain, dtype):
    """orthogonal_ draws what torch draws for the same generator: square and tall (the brief's
    requirement) and wide (what orthogonal_'s docstring promises for a single matrix)."""
    a = init.orthogonal_(torch.empty(shape, dtype=dtype), gain, gen(5))
    b = torch.nn.init.orthogonal_(torch.empty(shape, dtype=dtype), gain, gen(5))
    assert torch.equal(a, b)


def test_sparse_and_trunc_normal_differ_only_where_documented():
    """trunc_normal_ (inverse CDF, not rejection) and sparse_ (mask from generator=) differ from
    torch's draws by design, but torch's behaviour stays reachable through torch itself, and the
    difference is stated in their docstrings."""
    assert "torch" in initlab.trunc_normal_.__doc__ and "generator" in initlab.sparse_.__doc__
    assert "global RNG" in initlab.sparse_.__doc__


# ------------------------------------------------------- port of torch's test_init.py ------
# pytorch/pytorch test/nn/test_init.py, class TestNNInit, run against initlab (module `init`).
# Fixed seeds instead of torch's random.seed(123) + global torch RNG, so failures reproduce.


@pytest.fixture
def rng():
    r = random.Random(123)
    torch.manual_seed(123)
    return r


# torch's helpers pass .tolist(); a float64 NumPy array is the same sample, converted faster.
def _is_normal(tensor, mean, std):
    return stats.kstest(_np(tensor), "norm", args=(mean, std))[1] > 0.0001


def _is_trunc_normal(tensor, mean, std, a, b):
    z = (_np(tensor) - mean) / std
    return stats.kstest(z, "truncnorm", args=((a - mean) / std, (b - mean) / std))[1] > 0.0001


def _is_uniform(tensor, a, b):
    return stats.kstest(_np(tensor), "uniform", args=(a, (b - a)))[1] > 0.0001


def _np(tensor):
    return tensor.detach().reshape(-1).double().numpy()


def _rand_tensor(r, dims, size_min, size_max):
    return torch.zeros([r.randint(size_min, size_max) for _ in range(dims)])


def _rand_float(r, a, b):
    return (b - a) * r.random() + a


def test_port_calculate_gain_linear():
    for fn in ["linear", "conv1d", "conv2d", "conv3d", "conv_transpose2d", "conv_transpose3d"]:
        assert init.calculate_gain(fn) == 1


def test_port_calculate_gain_nonlinear():
    assert init.calculate_gain("sigmoid") == 1
    assert init.calculate_gain("tanh") == 1.6666666666666667
    assert init.calculate_gain("relu") == 1.4142135623730951
    assert init.calculate_gain("leaky_relu") == 1.4141428569978354
    assert init.calculate_gain("selu") == 0.75


def test_port_calculate_gain_leaky_relu():
    for param, expected in [(None, 1.4141428569978354), (0, 1.4142135623730951),
                            (0.01, 1.4141428569978354), (10, 0.14071950894605836)]:
        assert init.calculate_gain("leaky_relu", param) == expected


def test_port_calculate_gain_leaky_relu_only_accepts_numbers():
    for param in [True, [1], {"a": "b"}]:
        with pytest.raises(ValueError):
            init.calculate_gain("leaky_relu", param)


def test_port_calculate_gain_only_accepts_valid_nonlinearities(rng):
    for n in [2, 5, 25]:
        name = "".join(rng.choice(string.ascii_lowercase) for _ in range(n))
        with pytest.raises(ValueError):
            init.calculate_gain(name)


def test_port_uniform(rng):
    for dims in [1, 2, 4]:
        t = _rand_tensor(rng, dims, 30, 50)
        a = _rand_float(rng, -3, 3)
        b = a + _rand_float(rng, 1, 5)
        init.uniform_(t, a=a, b=b)
        assert _is_uniform(t, a, b)


def test_port_normal(rng):
    for dims in [1, 2, 4]:
        t = _rand_tensor(rng, dims, 30, 50)
        mean = _rand_float(rng, -3, 3)
        std = _rand_float(rng, 1, 5)
        init.normal_(t, mean=mean, std=std)
        assert _is_normal(t, mean, std)


def test_port_trunc_normal_generator():
    """A generator and the global RNG seeded alike give the same values."""
    g = torch.Generator().manual_seed(42)
    t = init.trunc_normal_(torch.empty(5), generator=g)
    torch.manual_seed(42)
    ref = init.trunc_normal_(torch.empty(5))
    assert torch.equal(t, ref)
    big = init.trunc_normal_(torch.empty(2000), a=0, b=1, generator=gen(42))
    assert _is_trunc_normal(big, 0, 1, 0, 1)


@pytest.mark.parametrize("dims", [1, 2, 4])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_port_trunc_normal_all_dtypes(rng, dims, dtype):
    t = torch.zeros([rng.randint(30, 50) for _ in range(dims)], dtype=dtype)
    mean = rng.uniform(-3, 3)
    std = rng.uniform(0.01, 1)
    a = rng.uniform(mean - 2 * std, mean)
    b = rng.uniform(mean, mean + 2 * std)
    init.trunc_normal_(t, mean=mean, std=std, a=a, b=b)
    assert t.min().item() >= torch.tensor(a, dtype=dtype).item()
    assert t.max().item() <= torch.tensor(b, dtype=dtype).item()
    assert _is_trunc_normal(t.float(), mean, std, a, b)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_port_trunc_normal_low_precision(dtype):
    t = init.trunc_normal_(torch.empty(10000, dtype=dtype), 0.0, 1.0, -2.0, 2.0)
    assert t.min().item() >= -2.0 and t.max().item() <= 2.0
    assert _is_trunc_normal(t.float(), 0.0, 1.0, -2.0, 2.0)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.float16])
def test_port_trunc_normal_narrow_interval(dtype):
    t = init.trunc_normal_(torch.empty(10000, dtype=dtype), 0.0, 1.0, 2.0, 3.0)
    assert t.min().item() >= 2.0 and t.max().item() <= 3.0
    assert _is_trunc_normal(t.float(), 0.0, 1.0, 2.0, 3.0)


@pytest.mark.parametrize(("dtype", "min_unique"), [(torch.float32, 5000), (torch.float64, 5000),
                                                   (torch.float16, 3000), (torch.bfloat16, 1000)])
def test_port_trunc_normal_unique_values(dtype, min_unique):
    t = init.trunc_normal_(torch.empty(10000, dtype=dtype), mean=0.0, std=1.0, a=-2.0, b=2.0)
    assert t.min().item() >= -2.0 and t.max().item() <= 2.0
    assert t.unique().numel() > min_unique
    assert torch.isfinite(t).all()


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.float16, torch.bfloat16])
def test_port_trunc_normal_no_boundary_values_small_std(dtype):
    t = init.trunc_normal_(torch.empty(10000, dtype=dtype), mean=0.0, std=0.1, a=-2.0, b=2.0)
    assert (t == -2.0).sum().item() == 0
    assert (t == 2.0).sum().item() == 0


def test_port_constant(rng):
    for dims in [1, 2, 4]:
        t = _rand_tensor(rng, dims, 1, 5)
        val = _rand_float(rng, 1, 10)
        init.constant_(t, val)
        assert torch.equal(t, t.clone().fill_(val))


def test_port_ones_and_zeros(rng):
    for fn, val in [(init.ones_, 1), (init.zeros_, 0)]:
        for dims in [1, 2, 4]:
            t = _rand_tensor(rng, dims, 1, 5)
            fn(t)
            assert torch.equal(t, t.clone().fill_(val))


def test_port_eye(rng):
    t = _rand_tensor(rng, 2, 1, 5)
    init.eye_(t)
    for i in range(t.size(0)):
        for j in range(t.size(1)):
            assert t[i][j] == (1 if i == j else 0)


def test_port_eye_only_works_on_2d_inputs(rng):
    for dims in [1, 3]:
        with pytest.raises(ValueError):
            init.eye_(_rand_tensor(rng, dims, 1, 3))


def test_port_dirac_properties(rng):
    for dims in [3, 4, 5]:
        for groups in [1, 2, 3]:
            a, c, d, e = (rng.randint(1, 5) for _ in range(4))
            b = rng.randint(1, 5 * groups)
            t = torch.randn((a * groups, b, c, d, e)[:dims])
            init.dirac_(t, groups)
            c_out, c_in = t.size(0) // groups, t.size(1)
            min_d = min(c_out, c_in)
            assert torch.nonzero(t).size(0) == min_d * groups
            assert t.sum().item() == min_d * groups


def test_port_dirac_identity():
    for groups in [1, 3]:
        batch, in_c, out_c, size, k = 8, 3, 9, 5, 3
        eff_out_c = out_c // groups
        for conv, nd in [(F.conv1d, 1), (F.conv2d, 2), (F.conv3d, 3)]:
            x = torch.randn(batch, in_c, *([size] * nd))
            w = torch.cat([torch.zeros(eff_out_c, in_c, *([k] * nd))] * groups)
            init.dirac_(w, groups)
            y = conv(x, w)
            inner = (slice(None), slice(None), *([slice(1, -1)] * nd))
            for g in range(groups):
                torch.testing.assert_close(
                    x[inner], y[:, eff_out_c * g: eff_out_c * g + in_c]
                )
                assert torch.nonzero(y[:, eff_out_c * g + in_c: eff_out_c * (g + 1)]).numel() == 0


def test_port_dirac_only_works_on_3_4_5d_inputs(rng):
    for dims in [1, 2, 6]:
        with pytest.raises(ValueError):
            init.dirac_(_rand_tensor(rng, dims, 1, 3))


@pytest.mark.parametrize("fn", [init.xavier_uniform_, init.xavier_normal_, init.kaiming_uniform_,
                                init.kaiming_normal_])
def test_port_errors_on_inputs_smaller_than_2d(rng, fn):
    for dims in [0, 1]:
        with pytest.raises(ValueError):
            fn(_rand_tensor(rng, dims, 1, 1))


def test_port_xavier_uniform(rng):
    for use_gain in [True, False]:
        for dims in [2, 4]:
            t = _rand_tensor(rng, dims, 20, 25)
            gain = _rand_float(rng, 0.1, 2) if use_gain else 1
            init.xavier_uniform_(t, gain=gain) if use_gain else init.xavier_uniform_(t)
            fan_in = t.size(1) * (t[0, 0].numel() if t.dim() > 2 else 1)
            fan_out = t.size(0) * (t[0, 0].numel() if t.dim() > 2 else 1)
            bound = gain * math.sqrt(2.0 / (fan_in + fan_out)) * math.sqrt(3)
            assert _is_uniform(t, -bound, bound)


def test_port_xavier_normal(rng):
    for use_gain in [True, False]:
        for dims in [2, 4]:
            t = _rand_tensor(rng, dims, 20, 25)
            gain = _rand_float(rng, 0.1, 2) if use_gain else 1
            init.xavier_normal_(t, gain=gain) if use_gain else init.xavier_normal_(t)
            fan_in = t.size(1) * (t[0, 0].numel() if t.dim() > 2 else 1)
            fan_out = t.size(0) * (t[0, 0].numel() if t.dim() > 2 else 1)
            assert _is_normal(t, 0, gain * math.sqrt(2.0 / (fan_in + fan_out)))


@pytest.mark.parametrize("fn", [init.kaiming_uniform_, init.kaiming_normal_])
def test_port_kaiming_warning_on_0element_tensor(fn):
    """torch warns "Initializing zero-element tensors is a no-op" (and returns the tensor)."""
    t = torch.empty(0, 1)
    with pytest.warns(UserWarning, match="Initializing zero-element tensors is a no-op"):
        assert fn(t) is t


@pytest.mark.parametrize("uniform", [True, False])
def test_port_kaiming(rng, uniform):
    fn = init.kaiming_uniform_ if uniform else init.kaiming_normal_
    for use_a in [True, False]:
        for dims in [2, 4]:
            for mode in ["fan_in", "fan_out"]:
                t = _rand_tensor(rng, dims, 20, 25)
                a = _rand_float(rng, 0.1, 2) if use_a else 0
                fn(t, a=a, mode=mode) if use_a else fn(t, mode=mode)
                rf = t[0, 0].numel() if t.dim() > 2 else 1
                n = (t.size(1) if mode == "fan_in" else t.size(0)) * rf
                std = math.sqrt(2.0 / ((1 + a**2) * n))
                if uniform:
                    assert _is_uniform(t, -std * math.sqrt(3), std * math.sqrt(3))
                else:
                    assert _is_normal(t, 0, std)


def test_port_sparse_only_works_on_2d_inputs(rng):
    for dims in [1, 3]:
        with pytest.raises(ValueError):
            init.sparse_(_rand_tensor(rng, dims, 1, 3), _rand_float(rng, 0.1, 0.9))


def test_port_sparse_default_std(rng):
    for use_random_std in [True, False]:
        t = _rand_tensor(rng, 2, 30, 35)
        rows = t.size(0)
        sparsity = _rand_float(rng, 0.1, 0.2)
        std = _rand_float(rng, 0.01, 0.2) if use_random_std else 0.01
        if use_random_std:
            init.sparse_(t, sparsity=sparsity, std=std)
        else:
            init.sparse_(t, sparsity=sparsity)
        for col in range(t.size(1)):
            column = t[:, col]
            assert column[column == 0].nelement() >= math.ceil(sparsity * rows)
        assert _is_normal(t[t != 0], 0, std)


def test_port_orthogonal(rng):
    for use_gain in [True, False]:
        for size in [[3, 4], [4, 3], [20, 2, 3, 4], [2, 3, 4, 5]]:
            t = torch.zeros(size)
            gain = _rand_float(rng, 0.1, 2) if use_gain else 1.0
            init.orthogonal_(t, gain=gain) if use_gain else init.orthogonal_(t)
            rows, cols = size[0], reduce(mul, size[1:])
            flat = t.view(rows, cols)
            if rows > cols:
                torch.testing.assert_close(flat.t() @ flat, torch.eye(cols) * gain**2,
                                           atol=1e-6, rtol=0)
            else:
                torch.testing.assert_close(flat @ flat.t(), torch.eye(rows) * gain**2,
                                           atol=1e-6, rtol=0)


@pytest.mark.parametrize("old", ["uniform", "normal", "constant", "eye", "dirac",
                                 "xavier_uniform", "xavier_normal", "kaiming_uniform",
                                 "kaiming_normal", "orthogonal", "sparse"])
def test_port_deprecation(old):
    """The non-underscore aliases warn (FutureWarning, "deprecated") and still work."""
    args = {"constant": (0.5,), "sparse": (0.1,)}.get(old, ())
    shape = (3, 3, 3) if old == "dirac" else (3, 3)
    with pytest.warns(FutureWarning, match="deprecated"):
        out = getattr(init, old)(torch.randn(shape), *args)
    assert out.shape == shape


def test_port_no_other_warnings_on_normal_use():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        init.kaiming_uniform_(torch.empty(4, 4))
        init.xavier_normal_(torch.empty(4, 4))
        init.trunc_normal_(torch.empty(4, 4))


def test_nn_modules_reset_with_initlab_match_torch():
    """nn.Linear/Conv2d default init is kaiming_uniform_(a=√5) + a uniform bias: initlab with the
    same global seed reproduces a module's parameters exactly."""
    torch.manual_seed(0)
    lin = torch.nn.Linear(20, 30)
    torch.manual_seed(0)
    w = init.kaiming_uniform_(torch.empty(30, 20), a=math.sqrt(5))
    fan_in, _ = init._calculate_fan_in_and_fan_out(w)
    b = init.uniform_(torch.empty(30), -1 / math.sqrt(fan_in), 1 / math.sqrt(fan_in))
    assert torch.equal(lin.weight.detach(), w)
    assert torch.equal(lin.bias.detach(), b)
