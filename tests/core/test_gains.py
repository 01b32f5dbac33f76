"""Gains (initlab.core.gains): torch's table, variance gains for every activation against an
independent scipy.integrate.quad (initlab.core.reference) on torch's own float64 functions, the
GLU product rule by Monte Carlo, the edge-of-chaos gain, and the SELU constants and (μ, ν) map.

Oracles: /work/shared/oracles.md, "Gains" and "Mean field".
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from scipy import integrate, stats

import initlab
from initlab.core import reference
from initlab.core.activations import SELU_ALPHA, SELU_SCALE, get_activation
from initlab.errors import InitError

from .helpers import gen

TORCH_NAMES = (
    "linear",
    "conv1d",
    "conv2d",
    "conv3d",
    "conv_transpose1d",
    "conv_transpose2d",
    "conv_transpose3d",
    "sigmoid",
    "tanh",
    "relu",
    "leaky_relu",
    "selu",
)

# ------------------------------------------------------------------ torch's table ------------


@pytest.mark.parametrize("name", TORCH_NAMES)
def test_calculate_gain_is_torchs(name):
    """calculate_gain and gain(kind="torch") reproduce torch.nn.init.calculate_gain exactly."""
    expected = torch.nn.init.calculate_gain(name)
    assert initlab.calculate_gain(name) == expected
    assert type(initlab.calculate_gain(name)) is type(expected)
    assert initlab.gain(name, kind="torch") == expected


@pytest.mark.parametrize("param", [None, 0, 0.01, 0.2, 10, 3])
def test_calculate_gain_leaky_relu_params(param):
    """leaky_relu: √(2/(1+a²)), a = 0.01 by default (He et al. 2015, eq. 15 with torch's a)."""
    expected = torch.nn.init.calculate_gain("leaky_relu", param)
    assert initlab.calculate_gain("leaky_relu", param) == expected
    kw = {} if param is None else {"negative_slope": param}
    assert initlab.gain("leaky_relu", kind="torch", **kw) == expected


def test_torch_table_values():
    """The table in the oracles: linear/conv/sigmoid 1, tanh 5/3, relu √2, selu 3/4 (the last two
    empirical choices, pytorch PR 50664)."""
    g = initlab.calculate_gain
    assert g("sigmoid") == 1 and g("conv2d") == 1
    assert g("tanh") == 5.0 / 3
    assert g("relu") == math.sqrt(2.0)
    assert g("selu") == 0.75
    assert g("leaky_relu", 0.2) == math.sqrt(2 / (1 + 0.2**2))
    assert initlab.gain("identity", kind="torch") == 1


# ------------------------------------------------ oracle table: second-moment gains ----------

ORACLE_GAINS = [
    # name, params, E[φ(z)], E[φ(z)²], g = 1/√E[φ²]
    ("relu", {}, 0.398942, 0.5, 1.414214),
    ("leaky_relu", {"negative_slope": 0.2}, 0.319154, 0.52, 1.386750),
    ("tanh", {}, 0.0, 0.39429449, 1.592537),
    ("sigmoid", {}, 0.5, 0.29337904, 1.846229),
    ("selu", {}, 0.0, 1.0, 1.0),
]


@pytest.mark.parametrize(("name", "params", "mean", "m2", "g"), ORACLE_GAINS)
def test_variance_gain_oracles(name, params, mean, m2, g):
    """g = 1/√E[φ(z)²], z ~ N(0, 1): the second-moment argument of He et al. 2015 (eq. 10)
    for any φ. Oracle values to 1e-6 (given to 6 decimals)."""
    act = get_activation(name, **params)
    assert act.mean(1.0) == pytest.approx(mean, abs=1e-6)
    assert act.second_moment(1.0) == pytest.approx(m2, abs=1e-6)
    assert initlab.gain(name, **params) == pytest.approx(g, abs=1e-6)


def test_relu_family_closed_forms():
    """ReLU: E[φ] = 1/√(2π), E[φ²] = 1/2; leaky(a): E[φ²] = (1 + a²)/2 (He et al. 2015)."""
    assert get_activation("relu").mean(1.0) == pytest.approx(1 / math.sqrt(2 * math.pi), abs=1e-12)
    assert initlab.gain("relu") == pytest.approx(math.sqrt(2), rel=1e-12)
    for a in (0.01, 0.2, 0.5):
        assert initlab.gain("leaky_relu", negative_slope=a) == pytest.approx(
            math.sqrt(2 / (1 + a * a)), rel=1e-12
        )
    assert initlab.gain("linear") == pytest.approx(1.0, rel=1e-12)


# --------------------------------- every activation against scipy quad on torch's functions --


def _t(f):
    """A scalar function of a Python float through torch's float64 implementation."""
    return lambda x: float(f(torch.tensor(x, dtype=torch.float64)))


# (name, params for initlab, torch float64 reference function)
ACTIVATIONS = [
    ("relu", {}, F.relu),
    ("leaky_relu", {}, F.leaky_relu),
    ("leaky_relu", {"negative_slope": 0.2}, lambda x: F.leaky_relu(x, 0.2)),
    ("prelu", {}, lambda x: F.prelu(x, torch.tensor([0.25], dtype=torch.float64))),
    ("prelu", {"init": 0.1}, lambda x: F.prelu(x, torch.tensor([0.1], dtype=torch.float64))),
    ("elu", {}, F.elu),
    ("elu", {"alpha": 0.5}, lambda x: F.elu(x, 0.5)),
    ("selu", {}, F.selu),
    ("celu", {}, F.celu),
    ("celu", {"alpha": 2.0}, lambda x: F.celu(x, 2.0)),
    ("gelu", {}, F.gelu),
    ("gelu", {"approximate": "tanh"}, lambda x: F.gelu(x, approximate="tanh")),
    ("gelu_tanh", {}, lambda x: F.gelu(x, approximate="tanh")),
    ("silu", {}, F.silu),
    ("swish", {}, F.silu),
    ("swish", {"beta": 1.5}, lambda x: x * torch.sigmoid(1.5 * x)),
    ("mish", {}, F.mish),
    ("softplus", {}, F.softplus),
    ("softplus", {"beta": 2.0}, lambda x: F.softplus(x, beta=2.0)),
    ("sigmoid", {}, torch.sigmoid),
    ("tanh", {}, torch.tanh),
    ("hardtanh", {}, F.hardtanh),
    ("hardtanh", {"min_val": -2.0, "max_val": 2.0}, lambda x: F.hardtanh(x, -2.0, 2.0)),
    ("softsign", {}, F.softsign),
    ("hardswish", {}, F.hardswish),
    ("linear", {}, lambda x: x),
    ("identity", {}, lambda x: x),
    ("relu6", {}, F.relu6),
    ("hardsigmoid", {}, F.hardsigmoid),
]


@pytest.mark.parametrize(
    ("name", "params", "torch_fn"),
    ACTIVATIONS,
    ids=[f"{n}{p or ''}" for n, p, _ in ACTIVATIONS],
)
def test_variance_gain_matches_quad(name, params, torch_fn):
    """gain(name) = 1/√E[φ(z)²] agrees with scipy.integrate.quad of torch's own float64 φ
    (reference.variance_gain) to 1e-8: two independent quadratures of two implementations."""
    expected = reference.variance_gain(_t(torch_fn))
    assert initlab.gain(name, **params) == pytest.approx(expected, rel=1e-8)


@pytest.mark.parametrize(
    ("glu", "gate", "gate_fn"),
    [("swiglu", "silu", F.silu), ("geglu", "gelu", F.gelu), ("reglu", "relu", F.relu),
     ("glu", "sigmoid", torch.sigmoid)],
)
def test_glu_gain_is_gain_of_the_product(glu, gate, gate_fn):
    """A GLU unit φ(a)·b (Shazeer 2020) with a, b ~ N(0, 1) independent: E[(φ(a) b)²] =
    E[φ(a)²]·E[b²] = E[φ(a)²], so its gain is the gate's (quad), and equals a Monte Carlo
    estimate of the product. MC tolerance: m̂ = mean of n i.i.d. (φ(a)b)², SE(m̂) = s/√n; the
    gain m̂^(-1/2) then has relative SE ½·SE(m̂)/m̂ (delta method); we allow 5 SE."""
    g = initlab.gain(glu)
    assert g == pytest.approx(reference.variance_gain(_t(gate_fn)), rel=1e-8)
    assert g == pytest.approx(initlab.gain(gate), rel=1e-12)
    n = 1_000_000
    gn = gen(3)
    a = torch.randn(n, generator=gn, dtype=torch.float64)
    b = torch.randn(n, generator=gn, dtype=torch.float64)
    prod2 = (gate_fn(a) * b) ** 2
    m_hat = prod2.mean().item()
    rel_se = 0.5 * (prod2.std().item() / math.sqrt(n)) / m_hat
    assert m_hat ** -0.5 == pytest.approx(g, rel=5 * rel_se)
    # the module-level function of the unit agrees: torch_fn splits the last dim in two halves
    x = torch.randn(4, 6, generator=gn, dtype=torch.float64)
    expected = gate_fn(x[:, :3]) * x[:, 3:]
    torch.testing.assert_close(get_activation(glu).torch_fn(x), expected)


def test_gain_of_torch_callable():
    """Any torch callable: Gauss–Hermite of the callable vs scipy quad, to 1e-8."""
    def f(x):
        return torch.sin(x) + 0.1 * x

    assert initlab.gain(f) == pytest.approx(reference.variance_gain(_t(f)), rel=1e-8)
    assert initlab.gain(torch.nn.GELU()) == pytest.approx(initlab.gain("gelu"), rel=1e-12)
    assert initlab.gain(torch.nn.LeakyReLU(0.3)) == pytest.approx(
        math.sqrt(2 / 1.09), rel=1e-12
    )


@pytest.mark.parametrize(
    "fn", [np.arctan, lambda x: np.arctan(x) + 0.1 * x], ids=["ufunc", "lambda"]
)
def test_gain_of_numpy_callable(fn):
    """Any NumPy callable (a ufunc too): gain vs scipy quad to 1e-8."""
    expected = reference.variance_gain(lambda x: float(fn(np.float64(x))))
    assert initlab.gain(fn) == pytest.approx(expected, rel=1e-8)


@pytest.mark.parametrize("fn", [np.tanh, lambda x: np.tanh(x)], ids=["ufunc", "lambda"])
def test_critical_gain_of_numpy_callable(fn):
    """kind="critical" needs φ': a NumPy tanh must give the same critical gain as the built-in
    (regression: a ufunc applied to a torch tensor returns a tensor, so it was taken for a torch
    function and autograd then failed inside numpy)."""
    expected = initlab.gain("tanh", kind="critical", sigma_b2=0.05)
    assert initlab.gain(fn, kind="critical", sigma_b2=0.05) == pytest.approx(expected, rel=1e-6)


# ------------------------------------------------------------------ critical gains ----------


@pytest.mark.parametrize(
    ("sigma_b2", "sigma_w2", "q_star"),
    [(0.0, 1.0, 0.0), (0.01, 1.424205, 0.273301), (0.05, 1.760955, 0.570048),
     (0.1, 1.986073, 0.805799)],
)
def test_tanh_critical_gain(sigma_b2, sigma_w2, q_star):
    """Edge of chaos for tanh (Poole et al. 2016; Schoenholz et al. 2017, critical line χ₁ = 1):
    gain(kind="critical") = √σ_w²(crit). Oracle tolerance 1e-5 relative."""
    g = initlab.gain("tanh", kind="critical", sigma_b2=sigma_b2)
    assert g**2 == pytest.approx(sigma_w2, rel=1e-5)
    w2, q = initlab.critical_point("tanh", sigma_b2)
    assert w2 == pytest.approx(sigma_w2, rel=1e-5)
    assert q == pytest.approx(q_star, rel=1e-5, abs=1e-12)


def test_relu_critical_gain():
    """ReLU: χ₁ = σ_w²/2, the only critical point is (2, 0) (oracles, "ReLU (exact)")."""
    assert initlab.gain("relu", kind="critical") == pytest.approx(math.sqrt(2), rel=1e-10)
    with pytest.raises(initlab.errors.InitError, match="sigma_b2"):
        initlab.gain("relu", kind="critical", sigma_b2=0.1)


# --------------------------------------------------------------------- SELU ---------------


def _normal_expectation(f, mean: float, var: float) -> float:
    """E[f(x)], x ~ N(mean, var), by scipy.integrate.quad (split at the kink x = 0)."""
    sd = math.sqrt(var)

    def integrand(x):
        return f(x) * stats.norm.pdf(x, mean, sd)

    left, _ = integrate.quad(integrand, -np.inf, 0.0, epsabs=1e-14, epsrel=1e-13, limit=200)
    right, _ = integrate.quad(integrand, 0.0, np.inf, epsabs=1e-14, epsrel=1e-13, limit=200)
    return left + right


def _selu(x: float) -> float:
    return float(get_activation("selu").fn(np.float64(x)))


def test_selu_constants_solve_the_fixed_point_equations():
    """Klambauer et al. 2017, eq. 14: α and λ solve E[selu(z)] = 0, E[selu(z)²] = 1 for
    z ~ N(0, 1) (the library's constants, its φ, its quadrature, and scipy quad)."""
    assert pytest.approx(1.6732632423543772, rel=1e-15) == SELU_ALPHA
    assert pytest.approx(1.0507009873554805, rel=1e-15) == SELU_SCALE
    act = get_activation("selu")
    assert act.mean(1.0) == pytest.approx(0.0, abs=1e-9)
    assert act.second_moment(1.0) == pytest.approx(1.0, abs=1e-9)
    assert _normal_expectation(_selu, 0.0, 1.0) == pytest.approx(0.0, abs=1e-9)
    assert _normal_expectation(lambda x: _selu(x) ** 2, 0.0, 1.0) == pytest.approx(1.0, abs=1e-9)
    # ... and they are torch's SELU
    x = torch.linspace(-4, 4, 101, dtype=torch.float64)
    torch.testing.assert_close(torch.from_numpy(act.fn(x.numpy())), F.selu(x))


def test_selu_mean_variance_map_jacobian_spectral_norm():
    """Klambauer et al. 2017, Theorem 1: the map g: (μ, ν) ↦ (μ̃, ν̃) with z ~ N(μω, ντ),
    μ̃ = E[selu(z)], ν̃ = E[selu(z)²] − μ̃² (eqs. 4–5), at the paper's weight assumptions ω = 0,
    τ = 1, has the fixed point (0, 1) and a Jacobian there of spectral norm 0.7877 (paper) =
    0.787673 (oracle) < 1: the fixed point is attracting. Jacobian by central differences
    (h = 1e-4: truncation error O(h²) ≈ 1e-8, quad error / h ≈ 1e-9)."""
    omega, tau, h = 0.0, 1.0, 1e-4

    def g(mu: float, nu: float) -> np.ndarray:
        m = _normal_expectation(_selu, mu * omega, nu * tau)
        s = _normal_expectation(lambda x: _selu(x) ** 2, mu * omega, nu * tau)
        return np.array([m, s - m * m])

    fixed = g(0.0, 1.0)
    assert fixed == pytest.approx([0.0, 1.0], abs=1e-9)
    jac = np.column_stack(
        [(g(h, 1.0) - g(-h, 1.0)) / (2 * h), (g(0.0, 1.0 + h) - g(0.0, 1.0 - h)) / (2 * h)]
    )
    # the paper's Jacobian at this point: ((0, 0.088834), (0, 0.782648))
    assert jac == pytest.approx(np.array([[0.0, 0.088834], [0.0, 0.782648]]), abs=2e-6)
    assert np.linalg.norm(jac, 2) == pytest.approx(0.787673, abs=2e-6)


# ------------------------------------------------------------------- gain overrides ---------


def test_gain_override_everywhere():
    """A ``gain=`` override wins over the activation wherever a scheme takes a gain."""
    n = 256 * 512
    cases = [
        lambda t, g: initlab.kaiming_normal_(t, nonlinearity="tanh", gain=0.5, generator=g),
        lambda t, g: initlab.he_normal_(t, "gelu", gain=0.5, generator=g),
        lambda t, g: initlab.he_uniform_(t, "gelu", gain=0.5, generator=g),
        lambda t, g: initlab.kaiming_uniform_(t, nonlinearity="relu", gain=0.5, generator=g),
    ]
    for fill in cases:
        w = fill(torch.empty(256, 512), gen(0))
        # std = 0.5/√512; SE of the sample std ≤ σ/√(2n) (normal), less for uniform: 5 SE
        assert w.std().item() == pytest.approx(0.5 / math.sqrt(512), rel=5 / math.sqrt(2 * n))


def test_kaiming_accepts_any_activation_by_variance_gain():
    """Beyond torch's names, kaiming_* take any activation and use its variance gain."""
    w = initlab.kaiming_uniform_(torch.empty(64, 1000), nonlinearity="gelu", generator=gen(0))
    bound = initlab.gain("gelu") * math.sqrt(3 / 1000)
    assert w.abs().max().item() <= bound
    assert w.abs().max().item() >= bound * (1 - 1e-3)  # 64k uniform draws: gap ≈ bound/64k


@pytest.mark.parametrize("name", ["gelu", "silu", "mish", "hardswish"])
def test_critical_gain_refuses_an_unstable_zero_bias_point(name):
    """φ(0) = 0 and φ'(0) ≠ 0: at σ_b = 0 the critical line's point is q* = 0, σ_w² = 1/φ'(0)²
    (GELU, SiLU: 4). But E[φ(√q z)²] > φ'(0)² q for small q > 0 (GELU: q/4 + 3q²/(2π)), so the
    length map pushes q away from 0 and the network is not at the edge of chaos: its q^l runs
    off to another fixed point (GELU at σ_w² = 4 has none: it diverges). Poole et al. 2016 require
    q* to be a *stable* fixed point. gain(kind="critical") must say so instead of returning 2."""
    with pytest.raises(InitError) as info:
        initlab.gain(name, kind="critical")
    message = str(info.value)
    for fragment in ("gain(kind='critical')", name, "unstable", "sigma_b2=", "critical_init"):
        assert fragment in message, f"{fragment!r} not in {message!r}"
    # with a large enough bias variance the critical point has q* > 0 and attracts (at
    # σ_b² = 0.05 it would repel too: GELU's length-map slope there is ≈ 1.09)
    assert initlab.gain(name, kind="critical", sigma_b2=1.0) > 0


@pytest.mark.parametrize("name", ["tanh", "elu", "selu", "softsign", "hardtanh", "linear"])
def test_critical_gain_keeps_stable_zero_bias_points(name):
    """tanh-like φ (E[φ(√q z)²] ≤ φ'(0)² q near 0): q* = 0 attracts, σ_w² = 1/φ'(0)² is the
    edge of chaos at σ_b = 0 (Schoenholz et al. 2017: tanh at (1, 0))."""
    g = initlab.gain(name, kind="critical")
    w2, q = initlab.critical_point(name, 0.0)
    assert q == 0.0
    assert g == pytest.approx(math.sqrt(w2), rel=1e-12)
