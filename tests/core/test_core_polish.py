"""Core polish found by running torch's, JAX's and Keras's initializer semantics against initlab
(issue 10, item 6): even-kernel delta-orthogonal centre, complex tensors, Fans unpacking,
glorot_normal_'s distribution, torch's private ``_no_grad_*`` fills, gate_constant_."""

import inspect
import warnings

import pytest
import torch
import torch.nn.functional as F
from torch import nn

import initlab
from initlab.errors import InitError


def gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


@pytest.mark.parametrize("shape", [(6, 6, 4), (6, 6, 4, 4), (4, 4, 2, 3, 4)])
def test_delta_orthogonal_even_kernel_is_an_isometry_with_same_padding(shape):
    """padding='same' pads (k−1)//2 before: only a centre tap at (k−1)//2 (JAX's choice) gives
    an orthogonal pixel-by-pixel map, so the conv preserves every input's norm exactly. With the
    tap at k//2 the output would be shifted by one pixel and lose the border (norm smaller)."""
    w = initlab.delta_orthogonal_(torch.empty(shape, dtype=torch.float64), generator=gen(0))
    conv = {3: F.conv1d, 4: F.conv2d, 5: F.conv3d}[len(shape)]
    x = torch.randn(3, shape[1], *([7] * (len(shape) - 2)), dtype=torch.float64, generator=gen(1))
    with warnings.catch_warnings():  # torch: "same" with an even kernel may copy the input
        warnings.simplefilter("ignore", UserWarning)
        y = conv(x, w, padding="same")
    torch.testing.assert_close(y.flatten(1).norm(dim=1), x.flatten(1).norm(dim=1))


@pytest.mark.parametrize(
    "call",
    [
        lambda t: initlab.trunc_normal_(t),
        lambda t: initlab.truncated_normal_(t),
        lambda t: initlab.variance_scaling_(t),
        lambda t: initlab.he_normal_(t, distribution="truncated_normal"),
    ],
    ids=["trunc_normal_", "truncated_normal_", "variance_scaling_", "he_normal_"],
)
def test_complex_tensors_get_an_init_error_not_torch_internals(call):
    """torch has no complex erfinv: these reached its NotImplementedError. Now: InitError that
    names the dtype and the fix."""
    with pytest.raises(InitError, match=r"complex dtype torch.complex64.*view_as_real"):
        call(torch.empty(4, 4, dtype=torch.cfloat))


def test_complex_tensors_still_work_where_torch_supports_them():
    """normal/uniform/orthogonal fills of complex tensors keep working as in torch."""
    t = torch.empty(4, 4, dtype=torch.cfloat)
    assert initlab.xavier_normal_(t, generator=gen(0)).abs().sum() > 0
    assert initlab.orthogonal_(t, generator=gen(0)).abs().sum() > 0


def test_fans_unpack_like_torch_tuple_and_keep_blocks():
    lstm = nn.LSTM(8, 16)
    fan_in, fan_out = initlab.fans_of(lstm, "weight_ih_l0")
    assert (fan_in, fan_out) == (8, 16)
    assert initlab.fans_of(lstm, "weight_ih_l0").blocks == 4
    w = torch.empty(32, 16, 3, 3)
    assert tuple(initlab.fans(w)) == torch.nn.init._calculate_fan_in_and_fan_out(w)
    f = initlab.fans(w)
    assert len(f) == 2 and f[0] == f.fan_in and f[-1] == f.fan_out


def test_glorot_normal_takes_a_distribution():
    """Keras/JAX glorot_normal draws a ±2σ truncated normal with the same std; default stays
    xavier_normal_ (value for value)."""
    a = initlab.glorot_normal_(torch.empty(64, 64), generator=gen(0))
    b = initlab.xavier_normal_(torch.empty(64, 64), generator=gen(0))
    assert torch.equal(a, b)
    std = (2 / 1024) ** 0.5
    t = initlab.glorot_normal_(torch.empty(512, 512), distribution="truncated_normal",
                               generator=gen(0))
    assert t.abs().max().item() <= 2 * std / 0.8796256610342398 * (1 + 1e-6)
    # 262144 draws: the sample std's relative SE is ≈ 1/√(2n) ≈ 0.0014; 5 SE
    assert t.std().item() == pytest.approx(std, rel=0.007)
    with pytest.raises(InitError, match="distribution"):
        initlab.glorot_normal_(torch.empty(4, 4), distribution="cauchy")


@pytest.mark.parametrize("name", ["_no_grad_uniform_", "_no_grad_normal_",
                                  "_no_grad_trunc_normal_", "_no_grad_fill_", "_no_grad_zero_"])
def test_private_no_grad_fills_match_torch_signatures(name):
    """Libraries import these from torch.nn.init; ``import initlab as init`` keeps them."""
    ours, theirs = getattr(initlab, name), getattr(torch.nn.init, name)
    assert list(inspect.signature(ours).parameters) == list(inspect.signature(theirs).parameters)
    t = torch.zeros(3, requires_grad=True)
    args = {"_no_grad_uniform_": (0.0, 1.0), "_no_grad_normal_": (0.0, 1.0),
            "_no_grad_trunc_normal_": (0.0, 1.0, -2.0, 2.0), "_no_grad_fill_": (0.5,),
            "_no_grad_zero_": ()}[name]
    out = ours(t, *args)
    assert out is t and t.requires_grad and t.grad_fn is None


def test_gate_constant_blocks_and_bad_input():
    b = initlab.gate_constant_(torch.empty(12), [0.0, 1.0, 0.0, 0.0])
    assert b.tolist() == [0.0] * 3 + [1.0] * 3 + [0.0] * 6
    with pytest.raises(InitError, match="multiple of 4"):
        initlab.gate_constant_(torch.empty(10), [0, 1, 0, 0])
    with pytest.raises(InitError, match="finite"):
        initlab.gate_constant_(torch.empty(4), [float("nan")])


def test_orthogonal_out_dim_is_the_transposed_draw() -> None:
    """``out_dim=1`` draws what the (out, in) layout would and stores it transposed; blocks cut
    that axis; a bad ``out_dim`` is named."""
    g1, g2 = torch.Generator().manual_seed(3), torch.Generator().manual_seed(3)
    a = initlab.orthogonal_(torch.empty(8, 24), blocks=3, out_dim=1, generator=g1)
    b = initlab.orthogonal_(torch.empty(24, 8), blocks=3, generator=g2)
    assert torch.equal(a, b.T)
    with pytest.raises(InitError, match="out_dim=2 is not a dimension"):
        initlab.orthogonal_(torch.empty(8, 24), out_dim=2)
    with pytest.raises(InitError, match=r"dividing dimension 1 \(8\)"):
        initlab.orthogonal_(torch.empty(24, 8), blocks=3, out_dim=1)
