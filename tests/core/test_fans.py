"""Fans for every layout (initlab.core.fans), against the oracle table, a connection count on
real torch modules, a measured output variance, and torch's own (layout-blind) function.

Oracles: /work/shared/oracles.md, "Fans". torch issues cited: pytorch#7865 (transposed conv fans
swapped), pytorch#23854 (grouped conv fan_out inflated by groups), pytorch#166378 (packed
MultiheadAttention in_proj_weight).
"""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

import initlab
from initlab import Fans, fans, fans_of
from initlab.core import reference

from .helpers import gen

# ---------------------------------------------------------------- the oracle table ----------


def test_oracle_linear():
    """Linear(4, 8): weight (8, 4), fans (4, 8): y = W x sums 4 inputs, each input feeds 8."""
    m = nn.Linear(4, 8)
    assert fans_of(m) == Fans(4, 8)
    assert fans(m.weight) == Fans(4, 8)


def test_oracle_conv2d():
    """Conv2d(4, 8, 3): (36, 72) = (in·k², out·k²) (LeCun et al. 1998 fan_in of a conv unit)."""
    m = nn.Conv2d(4, 8, 3)
    assert fans_of(m) == Fans(36, 72)


def test_oracle_depthwise_conv2d():
    """Depthwise Conv2d(4, 4, 3, groups=4): (9, 9); torch says (9, 36) because it ignores groups
    (pytorch#23854)."""
    m = nn.Conv2d(4, 4, 3, groups=4)
    assert fans_of(m) == Fans(9, 9)
    assert torch.nn.init._calculate_fan_in_and_fan_out(m.weight) == (9, 36)


def test_oracle_conv_transpose2d():
    """ConvTranspose2d(8, 16, 3): weight (8, 16, 3, 3) is (in, out, k, k), fans (72, 144); torch
    swaps them to (144, 72) (pytorch#7865)."""
    m = nn.ConvTranspose2d(8, 16, 3)
    assert fans_of(m) == Fans(72, 144)
    assert fans(m.weight, layout="conv_transpose") == Fans(72, 144)
    assert torch.nn.init._calculate_fan_in_and_fan_out(m.weight) == (144, 72)


@pytest.mark.parametrize("embed_dim", [16, 64])
def test_oracle_mha_in_proj_per_block(embed_dim):
    """MultiheadAttention(E).in_proj_weight is (3E, E) = q, k, v stacked: per block (E, E);
    torch's (E, 3E) counts the three projections as one (pytorch#166378)."""
    m = nn.MultiheadAttention(embed_dim, 4)
    f = fans_of(m, "in_proj_weight")
    assert (f.fan_in, f.fan_out, f.blocks) == (embed_dim, embed_dim, 3)
    assert torch.nn.init._calculate_fan_in_and_fan_out(m.in_proj_weight) == (
        embed_dim,
        3 * embed_dim,
    )
    assert fans_of(m.out_proj) == Fans(embed_dim, embed_dim)


def test_oracle_lstm_per_gate():
    """LSTM(in, h).weight_ih_l0 is (4h, in): four gates, per gate (in, h); weight_hh (h, h)."""
    m = nn.LSTM(10, 20, num_layers=2)
    assert fans_of(m, "weight_ih_l0") == Fans(10, 20, blocks=4)
    assert fans_of(m, "weight_hh_l0") == Fans(20, 20, blocks=4)
    assert fans_of(m, "weight_ih_l1") == Fans(20, 20, blocks=4)
    assert torch.nn.init._calculate_fan_in_and_fan_out(m.weight_ih_l0) == (10, 80)


@pytest.mark.parametrize(
    ("module", "gates"),
    [
        (nn.GRU(10, 20), 3),
        (nn.RNN(10, 20), 1),
        (nn.LSTMCell(10, 20), 4),
        (nn.GRUCell(10, 20), 3),
        (nn.RNNCell(10, 20), 1),
    ],
)
def test_recurrent_gate_blocks(module, gates):
    """GRU packs 3 gates, RNN 1, LSTM 4 (torch.nn docs of weight_ih): fans are per gate."""
    ih = "weight_ih_l0" if hasattr(module, "weight_ih_l0") else "weight_ih"
    hh = "weight_hh_l0" if hasattr(module, "weight_hh_l0") else "weight_hh"
    assert fans_of(module, ih) == Fans(10, 20, blocks=gates)
    assert fans_of(module, hh) == Fans(20, 20, blocks=gates)


# ------------------------------------------------------------- other layouts ----------------


@pytest.mark.parametrize(
    ("module", "expected"),
    [
        (nn.Conv1d(4, 8, 5), (20, 40)),
        (nn.Conv3d(4, 8, (3, 2, 1)), (24, 48)),
        (nn.Conv2d(6, 9, 3, groups=3), (18, 27)),  # (in/g·k², out/g·k²)
        (nn.Conv1d(8, 8, 3, groups=8), (3, 3)),  # depthwise 1-D
        (nn.Conv3d(4, 8, 3, groups=2), (54, 108)),
        (nn.ConvTranspose1d(8, 4, 3), (24, 12)),
        (nn.ConvTranspose3d(2, 3, 2), (16, 24)),
        (nn.ConvTranspose2d(6, 4, 3, groups=2), (27, 18)),  # weight (6, 2, 3, 3)
        (nn.ConvTranspose1d(6, 4, 3, groups=2), (9, 6)),
        (nn.Embedding(100, 32), (1, 32)),  # a lookup reads one row of 32
        (nn.Bilinear(3, 5, 7), (15, 35)),  # (out, in1, in2) = (7, 3, 5)
    ],
    ids=lambda v: type(v).__name__ if isinstance(v, nn.Module) else str(v),
)
def test_fans_of_layouts(module, expected):
    """Every layer type's fans, from connection counting (in/g·Πk, out/g·Πk)."""
    f = fans_of(module)
    assert (f.fan_in, f.fan_out) == expected


@pytest.mark.parametrize(
    ("shape", "in_axes", "out_axes", "expected"),
    [
        ((3, 3, 4, 8), -2, -1, (36, 72)),  # JAX/Flax HWIO conv kernel
        ((4, 8), 0, 1, (4, 8)),  # x @ W with W (in, out)
        ((2, 3, 4, 5), (0, 1), 3, (24, 20)),  # two input axes, receptive axis 2
        ((16, 4, 8), 0, (1, 2), (16, 32)),  # Dense-General: (in, heads, head_dim)
    ],
)
def test_custom_axes(shape, in_axes, out_axes, expected):
    """Custom layouts by explicit axes (JAX ``variance_scaling(in_axis, out_axis)`` semantics):
    the axes not named are the receptive field."""
    f = fans(shape, in_axes=in_axes, out_axes=out_axes)
    assert (f.fan_in, f.fan_out) == expected
    assert fans(torch.empty(shape), in_axes=in_axes, out_axes=out_axes) == f


def test_custom_axes_with_blocks():
    """A packed (in, 3·E) qkv kernel in JAX layout: per block (in, E)."""
    f = fans((16, 48), in_axes=0, out_axes=1, blocks=3)
    assert (f.fan_in, f.fan_out, f.blocks) == (16, 16, 3)


def test_fans_accept_shapes_and_tensors_alike():
    assert fans((8, 4, 3, 3)) == fans(torch.empty(8, 4, 3, 3)) == Fans(36, 72)
    assert fans(torch.Size([8, 4])) == Fans(4, 8)


def test_fans_properties_and_modes():
    """fan_avg = (fan_in + fan_out)/2 (Glorot & Bengio 2010, eq. 12), fan_geo_avg = √(in·out)."""
    f = Fans(4, 16)
    assert f.fan_avg == 10.0
    assert f.fan_geo_avg == 8.0
    assert [f.of(m) for m in ("fan_in", "fan_out", "fan_avg", "fan_geo_avg")] == [4, 16, 10, 8]
    assert f.to_dict() == {"fan_in": 4, "fan_out": 16, "blocks": 1}


def test_fans_are_ints_when_integral():
    """Integral fans stay ints (so they print and compare like torch's)."""
    f = fans((8, 16, 4, 4), layout="conv_transpose", stride=2)
    assert f == Fans(32, 256)
    assert isinstance(f.fan_in, int)
    g = fans((8, 16, 3, 3), layout="conv_transpose", stride=2)
    assert g.fan_in == pytest.approx(8 * 2.25)


# ----------------------------------------------------- connection counting on real modules --


def _count_conv_fans(m: nn.Module) -> tuple[float, float]:
    """Count connections through the module itself: weights = 1, no bias.

    fan_in: feed all-ones; an output unit then holds the number of weights feeding it (averaged
    over one full stride period of interior positions, which is how a strided transposed conv's
    effective fan_in is defined). fan_out: feed a single 1 at an interior position of input
    channel 0; the output sum is the number of (weight, output) connections it feeds.
    """
    m = m.double()
    with torch.no_grad():
        m.weight.fill_(1.0)
    d = len(m.kernel_size)
    size = 12
    x = torch.ones((1, m.in_channels, *([size] * d)), dtype=torch.float64)
    y = m(x)
    transposed = isinstance(m, nn.modules.conv._ConvTransposeNd)
    if transposed:
        idx = []
        for k, s in zip(m.kernel_size, m.stride, strict=True):
            lo, hi = k - 1, (size - 1) * s + 1  # positions every tap can reach
            length = (hi - lo) // s * s  # whole stride periods only
            idx.append(slice(lo, lo + length))
        y_in = y[(slice(None), slice(None), *idx)]
    else:
        y_in = y
    fan_in = y_in.mean().item()
    delta = torch.zeros_like(x)
    delta[(0, 0, *([size // 2] * d))] = 1.0
    fan_out = m(delta).sum().item()
    return fan_in, fan_out


@pytest.mark.parametrize(
    "module",
    [
        nn.Conv1d(4, 8, 5, bias=False),
        nn.Conv2d(4, 8, 3, bias=False),
        nn.Conv3d(2, 4, 3, bias=False),
        nn.Conv2d(6, 9, 3, groups=3, bias=False),
        nn.Conv2d(4, 4, 3, groups=4, bias=False),
        nn.ConvTranspose1d(8, 4, 3, bias=False),
        nn.ConvTranspose2d(8, 16, 3, bias=False),
        nn.ConvTranspose3d(2, 3, 2, bias=False),
        nn.ConvTranspose2d(6, 4, 3, groups=2, bias=False),
        nn.ConvTranspose2d(4, 6, 4, stride=2, bias=False),
        nn.ConvTranspose2d(4, 6, 3, stride=2, bias=False),
        nn.ConvTranspose1d(4, 2, 5, stride=3, bias=False),
        nn.ConvTranspose2d(4, 6, (4, 3), stride=(2, 3), groups=2, bias=False),
    ],
    ids=lambda m: repr(m),
)
def test_fans_match_connection_count(module):
    """fans_of equals the number of connections counted by running the module, and the NumPy
    reference (reference.fans_reference) agrees."""
    counted = _count_conv_fans(module)
    f = fans_of(module)
    assert f.fan_in == pytest.approx(counted[0], rel=1e-12)
    assert f.fan_out == pytest.approx(counted[1], rel=1e-12)
    kind = "conv_transpose" if isinstance(module, nn.modules.conv._ConvTransposeNd) else "conv"
    stride = module.stride if kind == "conv_transpose" else None
    ref = reference.fans_reference(tuple(module.weight.shape), kind, module.groups, stride)
    assert (f.fan_in, f.fan_out) == pytest.approx(ref, rel=1e-12)


def test_linear_connection_count():
    m = nn.Linear(5, 7, bias=False).double()
    with torch.no_grad():
        m.weight.fill_(1.0)
    fan_in = m(torch.ones(1, 5, dtype=torch.float64)).mean().item()
    fan_out = m(torch.eye(5, dtype=torch.float64)[:1]).sum().item()
    assert fans_of(m) == Fans(fan_in, fan_out) == Fans(5, 7)


# ------------------------------------------------- strided transposed conv: measured ------


@pytest.mark.parametrize(("kernel", "stride"), [(4, 2), (3, 2), (6, 3)])
def test_strided_transposed_fan_in_by_measured_variance(kernel, stride):
    """A strided ConvTranspose2d's output unit receives on average in/g·Π(k_i/s_i) inputs
    (oracles.md, "Fans"), so with unit-variance inputs Var[y] = fan_in·E[w²]. Measured on a real
    module; the naive count in·k² (what torch uses, after fixing the swap) is rejected.

    Weights are rescaled to mean square exactly 1, so that E[y²|W] averaged over one stride
    period of interior positions is exactly in·Π(k/s) (each tap lands on exactly one phase).
    Tolerance: the per-sample estimates (mean of y² over the crop) are i.i.d. over the batch
    (independent inputs, fixed W), so their mean has SE = s/√B (CLT); we allow 5 SE.
    """
    in_c, out_c, size, batch = 16, 8, 24, 64
    m = nn.ConvTranspose2d(in_c, out_c, kernel, stride=stride, bias=False).double()
    g = gen(0)
    with torch.no_grad():
        m.weight.normal_(generator=g)
        m.weight.div_(m.weight.pow(2).mean().sqrt())
    x = torch.randn(batch, in_c, size, size, generator=g, dtype=torch.float64)
    with torch.no_grad():
        y = m(x)
    lo, hi = kernel - 1, (size - 1) * stride + 1
    length = (hi - lo) // stride * stride
    crop = y[:, :, lo : lo + length, lo : lo + length]
    per_sample = crop.pow(2).mean(dim=(1, 2, 3))
    measured = per_sample.mean().item()
    se = per_sample.std().item() / math.sqrt(batch)
    expected = fans_of(m).fan_in
    assert expected == pytest.approx(in_c * (kernel / stride) ** 2)
    assert abs(measured - expected) < 5 * se, (measured, expected, se)
    naive = in_c * kernel**2
    assert abs(measured - naive) > 20 * se


def test_variance_scaling_uses_strided_fan_in():
    """variance_scaling_ with layout/stride uses the effective fan_in: std = √(scale/fan_in)."""
    w = torch.empty(64, 32, 4, 4)
    initlab.variance_scaling_(
        w, 2.0, "fan_in", "uniform", layout="conv_transpose", stride=2, generator=gen(1)
    )
    bound = math.sqrt(3 * 2.0 / (64 * 4))  # fan_in = 64 · (4/2)²
    assert w.abs().max().item() <= bound
    assert w.abs().max().item() >= bound * (1 - 1e-3)  # 32k draws: gap ~ bound/32k


# ----------------------------------------------------------- torch compatibility ----------


@pytest.mark.parametrize(
    "shape", [(3, 5), (8, 4, 3, 3), (4, 1, 3, 3), (8, 16, 3, 3), (48, 16), (2, 3, 4, 5, 6)]
)
def test_torch_private_fan_helpers_match_torch(shape):
    """initlab keeps torch's layout-blind helpers, identical to torch (torch's tests call them)."""
    t = torch.empty(shape)
    expected = torch.nn.init._calculate_fan_in_and_fan_out(t)
    assert initlab._calculate_fan_in_and_fan_out(t) == expected
    for mode in ("fan_in", "fan_out", "FAN_IN"):
        assert initlab._calculate_correct_fan(t, mode) == torch.nn.init._calculate_correct_fan(
            t, mode
        )
