"""Shared pieces of the core tests: a catalogue of every random scheme and statistical tolerances.

Each catalogue entry knows how to call one scheme with a generator and what the sample std of
the result should be, so that the dtype, view, determinism and property tests run over *every*
random scheme without repeating themselves.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch

import initlab
from initlab.core.samplers import truncated_std

TRUNC2 = truncated_std(-2.0, 2.0)  # std of N(0, 1) truncated to [-2, 2]


def fan_in_out(shape: tuple[int, ...]) -> tuple[int, int]:
    """torch layout (out, in, *kernel): the fans every preset uses by default."""
    rf = math.prod(shape[2:])
    return shape[1] * rf, shape[0] * rf


@dataclass(frozen=True)
class Scheme:
    """One random scheme: how to call it and what its output should look like.

    Attributes:
        name: test id.
        fill: ``fill(tensor, generator) -> tensor``.
        std: expected sample std as a function of the shape.
        bound: largest |value| allowed (None: unbounded), as a function of the shape.
        min_dims / max_dims: the shapes the scheme accepts.
        kurtosis: E[x⁴]/E[x²]² of the distribution (3 normal, 1.8 uniform), for the SE of the
            sample std: SE(s)/σ = √((κ − 1)/(4n)) (delta method on Var(s²) = σ⁴(κ − 1)/n).
        exact_std: the sum of squares is fixed (orthogonal): no sampling error in the std.
        square_ok_only: needs out ≥ in (delta-orthogonal).
    """

    name: str
    fill: Callable[[torch.Tensor, torch.Generator | None], torch.Tensor]
    std: Callable[[tuple[int, ...]], float]
    bound: Callable[[tuple[int, ...]], float] | None = None
    min_dims: int = 2
    max_dims: int = 5
    kurtosis: float = 3.0
    exact_std: bool = False
    needs_out_ge_in: bool = False


def _xavier_std(s: tuple[int, ...]) -> float:
    fi, fo = fan_in_out(s)
    return math.sqrt(2.0 / (fi + fo))


def _he_std(s: tuple[int, ...]) -> float:
    return math.sqrt(2.0 / fan_in_out(s)[0])


def _lecun_std(s: tuple[int, ...]) -> float:
    return math.sqrt(1.0 / fan_in_out(s)[0])


def _orth_std(s: tuple[int, ...]) -> float:
    rows = s[0]
    cols = math.prod(s[1:])
    return math.sqrt(1.0 / max(rows, cols))


def _delta_std(s: tuple[int, ...]) -> float:
    # one orthogonal (out × in) tap with orthonormal columns: Σ w² = in over all elements
    return math.sqrt(s[1] / math.prod(s))


KURT_UNIFORM = 1.8
# kurtosis of N(0,1) truncated to [-2, 2]: E[z⁴]/E[z²]² computed from the truncated moments
_m2 = TRUNC2**2
_phi2 = math.exp(-2.0) / math.sqrt(2 * math.pi)
_Z = math.erf(2 / math.sqrt(2))
# E[z⁴ | |z| ≤ 2] = 3 E[z²] − (2³ · 2φ(2))/Z  (integration by parts)
KURT_TRUNC2 = (3 * _m2 - 2 * 8 * _phi2 / _Z) / _m2**2

SCHEMES: tuple[Scheme, ...] = (
    Scheme("normal_", lambda t, g: initlab.normal_(t, 0.0, 0.5, generator=g), lambda s: 0.5,
           min_dims=1),
    Scheme("uniform_", lambda t, g: initlab.uniform_(t, -0.3, 0.3, generator=g),
           lambda s: 0.3 / math.sqrt(3), lambda s: 0.3, min_dims=1, kurtosis=KURT_UNIFORM),
    Scheme("small_random_", lambda t, g: initlab.small_random_(t, generator=g), lambda s: 0.01,
           min_dims=1),
    Scheme("trunc_normal_", lambda t, g: initlab.trunc_normal_(t, std=1.0, generator=g),
           lambda s: TRUNC2, lambda s: 2.0, min_dims=1, kurtosis=KURT_TRUNC2),
    Scheme("truncated_normal_", lambda t, g: initlab.truncated_normal_(t, 0.5, generator=g),
           lambda s: 0.5, lambda s: 2 * 0.5 / TRUNC2, min_dims=1, kurtosis=KURT_TRUNC2),
    Scheme("variance_scaling_normal",
           lambda t, g: initlab.variance_scaling_(t, 2.0, "fan_in", "normal", generator=g),
           _he_std),
    Scheme("variance_scaling_uniform",
           lambda t, g: initlab.variance_scaling_(t, 2.0, "fan_in", "uniform", generator=g),
           _he_std, lambda s: math.sqrt(3) * _he_std(s), kurtosis=KURT_UNIFORM),
    Scheme("variance_scaling_truncated",
           lambda t, g: initlab.variance_scaling_(t, 2.0, "fan_in", "truncated_normal",
                                                  generator=g),
           _he_std, lambda s: 2 * _he_std(s) / TRUNC2, kurtosis=KURT_TRUNC2),
    Scheme("xavier_uniform_", lambda t, g: initlab.xavier_uniform_(t, generator=g), _xavier_std,
           lambda s: math.sqrt(3) * _xavier_std(s), kurtosis=KURT_UNIFORM),
    Scheme("xavier_normal_", lambda t, g: initlab.xavier_normal_(t, generator=g), _xavier_std),
    Scheme("glorot_uniform_", lambda t, g: initlab.glorot_uniform_(t, generator=g), _xavier_std,
           lambda s: math.sqrt(3) * _xavier_std(s), kurtosis=KURT_UNIFORM),
    Scheme("glorot_normal_", lambda t, g: initlab.glorot_normal_(t, generator=g), _xavier_std),
    Scheme("kaiming_uniform_",
           lambda t, g: initlab.kaiming_uniform_(t, nonlinearity="relu", generator=g), _he_std,
           lambda s: math.sqrt(3) * _he_std(s), kurtosis=KURT_UNIFORM),
    Scheme("kaiming_normal_",
           lambda t, g: initlab.kaiming_normal_(t, nonlinearity="relu", generator=g), _he_std),
    Scheme("he_normal_", lambda t, g: initlab.he_normal_(t, generator=g), _he_std),
    Scheme("he_uniform_", lambda t, g: initlab.he_uniform_(t, generator=g), _he_std,
           lambda s: math.sqrt(3) * _he_std(s), kurtosis=KURT_UNIFORM),
    Scheme("lecun_normal_", lambda t, g: initlab.lecun_normal_(t, generator=g), _lecun_std),
    Scheme("lecun_uniform_", lambda t, g: initlab.lecun_uniform_(t, generator=g), _lecun_std,
           lambda s: math.sqrt(3) * _lecun_std(s), kurtosis=KURT_UNIFORM),
    Scheme("orthogonal_", lambda t, g: initlab.orthogonal_(t, generator=g), _orth_std,
           lambda s: 1.0, exact_std=True),
    Scheme("delta_orthogonal_", lambda t, g: initlab.delta_orthogonal_(t, generator=g),
           _delta_std, lambda s: 1.0, min_dims=3, exact_std=True, needs_out_ge_in=True),
    Scheme("sparse_", lambda t, g: initlab.sparse_(t, 0.25, generator=g),
           # a quarter of each column is 0: E[w²] = 0.75 · 0.01²; κ = 3 / 0.75
           lambda s: 0.01 * math.sqrt(1 - math.ceil(0.25 * s[0]) / s[0]),
           min_dims=2, max_dims=2, kurtosis=3 / 0.75),
    Scheme("gpt_normal_", lambda t, g: initlab.gpt_normal_(t, generator=g), lambda s: 0.02,
           min_dims=1),
    Scheme("gpt_normal_residual",
           lambda t, g: initlab.gpt_normal_(t, num_layers=12, residual=True, generator=g),
           lambda s: 0.02 / math.sqrt(24), min_dims=1),
)

SCHEME_IDS = [s.name for s in SCHEMES]


def example_shape(scheme: Scheme) -> tuple[int, ...]:
    """A shape every scheme accepts, big enough for a 5-SE std check to be meaningful."""
    if scheme.needs_out_ge_in:
        return (128, 64, 3, 3)
    if scheme.max_dims == 2:
        return (256, 256)
    return (256, 128)


def std_tolerance(n: int, kurtosis: float = 3.0, dtype: torch.dtype = torch.float32) -> float:
    """Relative tolerance for a sample std of n i.i.d. draws: 5 standard errors,
    SE(s)/σ = √((κ − 1)/(4n)) (delta method: Var(s²) ≈ σ⁴(κ − 1)/n), plus the rounding of the
    dtype (each value is rounded to a relative error ≤ eps/2, which moves the std by at most that
    much)."""
    return 5.0 * math.sqrt((kurtosis - 1.0) / (4.0 * n)) + torch.finfo(dtype).eps


def bound_in_dtype(bound: float, dtype: torch.dtype) -> float:
    """The bound as the dtype stores it (rounding is monotone: a value ≤ b rounds to ≤ round(b))."""
    return torch.tensor(bound, dtype=torch.float64).to(dtype).item()


def gen(seed: int = 0, device: str = "cpu") -> torch.Generator:
    return torch.Generator(device=device).manual_seed(seed)
