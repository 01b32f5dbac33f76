"""The activation registry (initlab.core.activations): names, aliases, parameters, modules,
callables; NumPy φ vs torch φ; analytic derivatives vs autograd; Gaussian moments.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

import initlab
from initlab.core.activations import (
    activation_names,
    describe_activations,
    from_callable,
    get_activation,
    register_activation,
)

ISSUE_ACTIVATIONS = [
    "relu", "leaky_relu", "prelu", "elu", "selu", "celu", "gelu", "gelu_tanh", "silu", "swish",
    "mish", "softplus", "sigmoid", "tanh", "hardtanh", "softsign", "hardswish", "swiglu", "geglu",
    "linear", "identity",
]

ELEMENTWISE = [n for n in activation_names() if not get_activation(n).glu]


def test_every_activation_of_the_issue_is_registered():
    names = set(activation_names())
    assert set(ISSUE_ACTIVATIONS) <= names
    described = describe_activations()
    assert described["leaky_relu"] == "negative_slope=0.01"
    assert "alpha" in described["elu"] and "beta" in described["softplus"]


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_numpy_and_torch_functions_agree(name):
    """act.fn (NumPy, used by the quadrature) and act.torch_fn (used by models) are the same φ."""
    act = get_activation(name)
    x = torch.linspace(-6, 6, 1201, dtype=torch.float64)
    torch.testing.assert_close(torch.from_numpy(np.asarray(act.fn(x.numpy()))), act.torch_fn(x),
                               rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_analytic_derivatives_match_autograd(name):
    """d1, d2 (closed forms) vs torch autograd of torch_fn, away from the kinks. rtol 1e-7:
    torch's float64 hardsigmoid backward uses a float32 1/6 (relative error 3e-8)."""
    act = get_activation(name)
    x = torch.linspace(-5, 5, 997, dtype=torch.float64)
    for k in act.kinks:
        x = x[(x - k).abs() > 1e-3]
    x.requires_grad_()
    y = act.torch_fn(x)
    (g1,) = torch.autograd.grad(y.sum(), x, create_graph=True)
    np.testing.assert_allclose(act.d1(x.detach().numpy()), g1.detach().numpy(), rtol=1e-7,
                               atol=1e-10)
    try:
        (g2,) = torch.autograd.grad(g1.sum(), x) if g1.requires_grad else (None,)
    except RuntimeError:  # no double backward in torch (hardsigmoid): piecewise linear
        assert act.name == "hardsigmoid"
        g2 = None
    g2 = np.zeros(x.shape) if g2 is None else g2.numpy()  # None: piecewise linear, φ'' = 0
    np.testing.assert_allclose(act.d2(x.detach().numpy()), g2, rtol=1e-8, atol=1e-9)


@pytest.mark.parametrize(
    ("module", "name", "params"),
    [(nn.ReLU(), "relu", {}), (nn.LeakyReLU(0.2), "leaky_relu", {"negative_slope": 0.2}),
     (nn.ELU(0.5), "elu", {"alpha": 0.5}), (nn.GELU(approximate="tanh"), "gelu_tanh", {}),
     (nn.Softplus(beta=2.0), "softplus", {"beta": 2.0}),
     (nn.Hardtanh(-2.0, 2.0), "hardtanh", {"min_val": -2.0, "max_val": 2.0}),
     # PReLU stores its slope as a float32 parameter: compare with that value
     (nn.PReLU(init=0.1), "prelu", {"init": torch.tensor(0.1).item()}),
     (nn.Identity(), "linear", {}),
     (nn.SiLU(), "silu", {}), (nn.Mish(), "mish", {}), (nn.SELU(), "selu", {}),
     (nn.ReLU6(), "relu6", {})],
)
def test_modules_map_to_named_activations(module, name, params):
    """An nn.Module is read as its named activation with its parameters."""
    act = get_activation(module)
    assert act.name == name
    assert initlab.gain(module) == pytest.approx(initlab.gain(name, **params), rel=1e-12)


def test_unknown_module_is_wrapped_as_callable():
    act = get_activation(nn.Tanhshrink())
    x = torch.linspace(-3, 3, 7, dtype=torch.float64)
    torch.testing.assert_close(act.torch_fn(x), x - torch.tanh(x))
    assert act.second_moment(1.0) > 0


@pytest.mark.parametrize(
    ("alias", "target", "params"),
    [("identity", "linear", {}), ("none", "linear", {}), ("conv2d", "linear", {}),
     ("gelu_tanh", "gelu", {"approximate": "tanh"}), ("LeakyReLU", "leaky_relu", {}),
     ("hard-tanh", "hardtanh", {}), ("Hard_Swish", "hardswish", {})],
)
def test_aliases(alias, target, params):
    assert initlab.gain(alias) == pytest.approx(initlab.gain(target, **params), rel=1e-14)


def test_homogeneous_moments_scale_with_q():
    """ReLU family: E[φ(√q z)²] = q·E[φ(z)²] (positive homogeneity; He et al. 2015)."""
    act = get_activation("leaky_relu", negative_slope=0.3)
    for q in (0.01, 1.0, 9.0):
        assert act.second_moment(q) == pytest.approx(q * (1 + 0.09) / 2, rel=1e-12)
        assert act.derivative_second_moment(q) == pytest.approx((1 + 0.09) / 2, rel=1e-12)


def test_glu_moments():
    """GLU φ(a)·b with a, b ~ N(0, q) independent: E[(φ(a)b)²] = q·E[φ(a)²], mean 0; no single
    derivative (a clear error)."""
    glu, gate = get_activation("swiglu"), get_activation("silu")
    for q in (0.5, 2.0):
        assert glu.second_moment(q) == pytest.approx(q * gate.second_moment(q), rel=1e-12)
        assert glu.mean(q) == 0.0
    with pytest.raises(initlab.errors.InitError, match="gated unit"):
        glu.derivative_second_moment(1.0)


def test_from_callable_torch_uses_autograd():
    act = from_callable(lambda x: torch.tanh(x))
    x = np.linspace(-3, 3, 13)
    np.testing.assert_allclose(act.d1(x), 1 - np.tanh(x) ** 2, rtol=1e-12)
    np.testing.assert_allclose(act.d2(x), -2 * np.tanh(x) * (1 - np.tanh(x) ** 2), atol=1e-12)


@pytest.mark.parametrize("fn", [np.tanh, lambda x: np.tanh(x)], ids=["ufunc", "lambda"])
def test_from_callable_numpy_uses_finite_differences(fn):
    """NumPy callables (ufuncs included) take the NumPy path: central differences with h = 1e-6
    (error ~h²·φ''' + ε/h ≈ 1e-10) and h = 1e-4 for φ'' (≈ 1e-8 + ε/h² ≈ 1e-8)."""
    act = from_callable(fn)
    x = np.linspace(-3, 3, 13)
    np.testing.assert_allclose(act.d1(x), 1 - np.tanh(x) ** 2, atol=1e-8)
    np.testing.assert_allclose(act.d2(x), -2 * np.tanh(x) * (1 - np.tanh(x) ** 2), atol=1e-6)
    y = act.torch_fn(torch.linspace(-1, 1, 5))
    assert isinstance(y, torch.Tensor) and y.dtype == torch.float32


def test_register_activation_by_name():
    """A registered activation is accepted by name everywhere; built-in names are protected."""
    act = register_activation("test_core_sin", torch.sin, overwrite=True)
    assert act.second_moment(1.0) == pytest.approx((1 - math.exp(-2)) / 2, rel=1e-10)
    assert initlab.gain("test_core_sin") == pytest.approx(1 / math.sqrt((1 - math.exp(-2)) / 2),
                                                          rel=1e-10)
    assert "test_core_sin" in activation_names()
    with pytest.raises(initlab.errors.InitError, match="already registered"):
        register_activation("test_core_sin", torch.sin)
    with pytest.raises(initlab.errors.InitError, match="built-in"):
        register_activation("relu", torch.sin)


def test_parameters_change_the_activation():
    assert get_activation("leaky_relu", negative_slope=0.2).params == {"negative_slope": 0.2}
    assert get_activation("swish", beta=2.0).name == "swish"
    assert get_activation("gelu", approximate="tanh").name == "gelu_tanh"
    with pytest.raises(initlab.errors.InitError, match="approximate"):
        get_activation("gelu", approximate="fast")
    with pytest.raises(initlab.errors.InitError, match="beta"):
        get_activation("softplus", beta=0.0)
    with pytest.raises(initlab.errors.InitError, match="min_val"):
        get_activation("hardtanh", min_val=1.0, max_val=-1.0)
    with pytest.raises(initlab.errors.InitError, match="alpha"):
        get_activation("celu", alpha=0.0)


def test_erf_moments_match_williams_closed_forms():
    """φ = erf (named in issue 6 among the closed-form activations). Williams 1997, "Computing
    with infinite networks": E[erf(√q z)²] = (2/π) arcsin(2q/(1 + 2q)); and since
    erf'(x) = (2/√π) e^{−x²}, E[erf'(√q z)²] = (4/π)/√(1 + 4q). Quadrature to 1e-10 relative."""
    act = get_activation("erf")
    q = np.array([1e-6, 0.01, 0.5, 1.0, 3.0, 50.0, 1e3])
    np.testing.assert_allclose(act.second_moment(q), 2 / np.pi * np.arcsin(2 * q / (1 + 2 * q)),
                               rtol=1e-10)
    np.testing.assert_allclose(act.derivative_second_moment(q), 4 / np.pi / np.sqrt(1 + 4 * q),
                               rtol=1e-10)
    assert act.mean(1.0) == pytest.approx(0.0, abs=1e-15)
