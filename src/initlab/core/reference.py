"""A NumPy reference that re-derives the main schemes from their papers, independently of the
torch implementation, so that tests can cross-check the two.

Nothing here is used by the library at run time. Every function works from the shape alone with
plain NumPy/SciPy and states the paper's formula it implements.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from scipy import integrate, stats


def fans_reference(shape: tuple[int, ...], kind: str = "conv", groups: int = 1,
                   stride: tuple[int, ...] | None = None) -> tuple[float, float]:
    """Count connections directly: fan_in = number of weights feeding one output unit, fan_out =
    number of output units one input unit feeds (per group)."""
    kernel = shape[2:]
    k = int(np.prod(kernel)) if kernel else 1
    if kind == "conv":  # (out, in/g, *k): output unit sees in/g channels × k taps
        out_c, in_per_g = shape[0], shape[1]
        return float(in_per_g * k), float(out_c // groups * k)
    if kind == "conv_transpose":  # (in, out/g, *k): input unit scatters to out/g × k outputs
        in_c, out_per_g = shape[0], shape[1]
        fan_out = float(out_per_g * k)
        # each output receives (in/g) × (taps that land on it) ≈ (in/g) × Π k_i / s_i
        s = stride or (1,) * len(kernel)
        fan_in = in_c / groups * float(np.prod([ki / si for ki, si in zip(kernel, s, strict=True)]))
        return fan_in, fan_out
    raise ValueError(kind)


def xavier_std(fan_in: float, fan_out: float, gain: float = 1.0) -> float:
    """Glorot & Bengio 2010, eq. 12: Var[W] = 2 / (n_in + n_out)."""
    return gain * math.sqrt(2.0 / (fan_in + fan_out))


def xavier_bound(fan_in: float, fan_out: float, gain: float = 1.0) -> float:
    """Glorot & Bengio 2010, eq. 16: W ~ U[−√6/√(n_j + n_{j+1}), +√6/√(n_j + n_{j+1})]."""
    return gain * math.sqrt(6.0) / math.sqrt(fan_in + fan_out)


def he_std(fan_in: float, negative_slope: float = 0.0) -> float:
    """He et al. 2015, eq. 10 (and eq. 15 for PReLU/leaky): ½(1 + a²) n_l Var[w_l] = 1."""
    return math.sqrt(2.0 / ((1 + negative_slope**2) * fan_in))


def lecun_std(fan_in: float) -> float:
    """LeCun et al. 1998, sec. 4.6: σ = m^(−1/2) for m inputs."""
    return 1.0 / math.sqrt(fan_in)


def second_moment(phi: Callable[[float], float], q: float = 1.0) -> float:
    """E[φ(√q z)²] by adaptive scipy quadrature against the normal density."""
    f = lambda z: phi(math.sqrt(q) * z) ** 2 * stats.norm.pdf(z)  # noqa: E731
    left, _ = integrate.quad(f, -np.inf, 0.0, epsabs=1e-13, epsrel=1e-12, limit=200)
    right, _ = integrate.quad(f, 0.0, np.inf, epsabs=1e-13, epsrel=1e-12, limit=200)
    return left + right


def variance_gain(phi: Callable[[float], float]) -> float:
    """g = 1/√E[φ(z)²] (variance preservation through one layer, fan_in mode)."""
    return 1.0 / math.sqrt(second_moment(phi))


def truncated_normal_std(a: float, b: float) -> float:
    """Standard deviation of N(0, 1) truncated to [a, b], by SciPy's truncnorm."""
    return float(stats.truncnorm(a, b).std())


def orthogonal(rows: int, cols: int, rng: np.random.Generator) -> np.ndarray:
    """Saxe et al. 2014 / Mezzadri 2007: QR of a Gaussian matrix with sign(diag R) folded in."""
    a = rng.standard_normal((max(rows, cols), min(rows, cols)))
    q, r = np.linalg.qr(a)
    q = q * np.sign(np.diag(r))
    return q if rows >= cols else q.T


def fixup_scale(num_branches: int, m: int) -> float:
    """Zhang et al. 2019, sec. 3: scale by L^(−1/(2m−2))."""
    return num_branches ** (-1.0 / (2 * m - 2))
