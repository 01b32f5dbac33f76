"""Jacobian spectra and the empirical NTK against Pennington, Schoenholz & Ganguli (2017).

Oracles (../shared/oracles.md, "Jacobian spectra"): a deep linear net with orthogonal weights has
every singular value of J exactly 1; with Gaussian weights of variance σ_w²/N, σ_w² = 1, the
eigenvalues λ of JJᵀ have mean 1 and variance L, which Monte Carlo at width ≥ 500, L ≤ 16 matches
within ~20% (heavy tails).
"""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from initlab.errors import InitError
from initlab.probe import jacobian_spectrum, ntk_condition


def deep_linear(depth: int, width: int, kind: str, seed: int) -> nn.Sequential:
    g = torch.Generator().manual_seed(seed)
    layers = []
    for _ in range(depth):
        lin = nn.Linear(width, width, bias=False).double()
        with torch.no_grad():
            if kind == "orthogonal":
                q, r = torch.linalg.qr(torch.randn(width, width, generator=g, dtype=torch.float64))
                lin.weight.copy_(q * torch.sign(torch.diagonal(r)))
            else:
                lin.weight.normal_(0.0, 1.0 / math.sqrt(width), generator=g)
        layers.append(lin)
    return nn.Sequential(*layers)


def test_deep_linear_orthogonal_is_isometric():
    """Pennington et al. 2017: orthogonal deep linear nets have all singular values 1."""
    s = jacobian_spectrum(
        deep_linear(10, 64, "orthogonal", 0), torch.randn(1, 64, dtype=torch.float64)
    )
    assert s.exact and len(s.singular_values) == 64
    assert max(abs(v - 1) for v in s.singular_values) < 1e-10


@pytest.mark.parametrize("depth", [4, 8])
def test_deep_linear_gaussian_variance_is_depth(depth):
    """Pennington et al. 2017: Gaussian weights, σ_w² = 1: mean(λ) = 1, var(λ) = L.

    Monte Carlo with width 500 (one draw: 500 eigenvalues): within 20% per the oracle.
    """
    x = torch.randn(1, 500, dtype=torch.float64, generator=torch.Generator().manual_seed(9))
    s = jacobian_spectrum(deep_linear(depth, 500, "gaussian", 0), x)
    # mean(λ) = tr(JJᵀ)/N concentrates much faster than var(λ): its sd is ~√(2L)/N ≈ 0.01
    assert abs(s.mean_sq - 1) < 0.05
    assert abs(s.var_sq / depth - 1) < 0.2


def test_lanczos_matches_exact_top_k():
    net = deep_linear(3, 300, "gaussian", 3)
    x = torch.randn(1, 300, dtype=torch.float64)
    exact = jacobian_spectrum(net, x, k=5, method="exact")
    lanczos = jacobian_spectrum(net, x, k=5, method="lanczos")
    assert not lanczos.exact and lanczos.method == "lanczos"
    for a, b in zip(exact.singular_values, lanczos.singular_values, strict=True):
        assert b == pytest.approx(a, rel=1e-6)


def test_jacobian_nonlinear_and_model_unchanged():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(6, 16), nn.BatchNorm1d(16), nn.Tanh(), nn.Linear(16, 3)).eval()
    before = [t.clone() for t in net.state_dict().values()]
    x = torch.randn(1, 6)
    rng = torch.get_rng_state()
    s = jacobian_spectrum(net, x)
    assert torch.equal(rng, torch.get_rng_state())
    # cross-check the top singular value against torch.autograd.functional.jacobian
    J = torch.autograd.functional.jacobian(lambda v: net(v).reshape(-1), x).reshape(3, 6)
    assert s.s_max == pytest.approx(torch.linalg.svdvals(J)[0].item(), rel=1e-5)
    assert all(torch.equal(a, b) for a, b in zip(before, net.state_dict().values(), strict=True))


def test_ntk_of_a_linear_model_is_the_gram_matrix():
    """For f(x) = W x, Θ = (X Xᵀ) ⊗ I_out: eigenvalues of X Xᵀ, each out times."""
    torch.manual_seed(0)
    net = nn.Linear(5, 2, bias=False).double()
    X = torch.randn(4, 5, dtype=torch.float64)
    ntk = ntk_condition(net, X)
    gram = torch.linalg.eigvalsh(X @ X.t()).flip(0)
    expected = sorted([float(v) for v in gram] * 2, reverse=True)
    assert ntk.eigenvalues == pytest.approx(expected, rel=1e-9)
    assert ntk.condition == pytest.approx(expected[0] / expected[-1], rel=1e-9)
    assert (ntk.samples, ntk.outputs, ntk.parameters) == (4, 2, 10)


def test_ntk_saturated_tanh_is_worse_conditioned():
    torch.manual_seed(0)
    X = torch.randn(8, 16)

    def net(std: float) -> nn.Module:
        m = nn.Sequential(
            nn.Linear(16, 64), nn.Tanh(), nn.Linear(64, 64), nn.Tanh(), nn.Linear(64, 1)
        )
        for layer in m:
            if isinstance(layer, nn.Linear):
                nn.init.normal_(layer.weight, 0, std)
                nn.init.zeros_(layer.bias)
        return m

    good = ntk_condition(net(1 / 8), X)
    bad = ntk_condition(net(3.0), X)
    assert bad.condition > good.condition


def test_spectrum_errors():
    net = nn.Linear(3, 3)
    with pytest.raises(InitError, match="method must be"):
        jacobian_spectrum(net, torch.randn(1, 3), method="svd")
    with pytest.raises(InitError, match="floating-point"):
        jacobian_spectrum(net, torch.ones(1, 3, dtype=torch.long))
    with pytest.raises(InitError, match="smaller batch"):
        ntk_condition(nn.Linear(3, 100), torch.randn(10, 3), max_outputs=512)
    frozen = nn.Linear(3, 3).requires_grad_(False)
    with pytest.raises(InitError, match="requires_grad"):
        ntk_condition(frozen, torch.randn(2, 3))
