"""Gaussian kernels of an activation: the integrals every mean-field map is made of.

For u₁, u₂ ~ N(0, q) with correlation c (Poole et al. 2016, eqs. 3 and 5):

* M(q) = E[φ(√q z)²]           (length map),     M'(q) = E[φ'(√q z)² + φ(√q z) φ''(√q z)]
* D(q) = E[φ'(√q z)²]          (χ₁ = σ_w² D(q*)),
* K(q, c) = E[φ(u₁) φ(u₂)]     (correlation map), K̇(q, c) = E[φ'(u₁) φ'(u₂)] = ∂K/∂c / q.

M'(q) follows from Gaussian integration by parts, d/dq E[f(√q z)] = ½ E[f''(√q z)] with
f = φ². The leaky-ReLU family has closed forms (the arc-cosine kernel of Cho & Saul 2009);
everything else is integrated by :mod:`initlab.core.gaussian`.
"""

from __future__ import annotations

import math

import numpy as np

from initlab.core.activations import Activation
from initlab.core.gaussian import bivariate_gaussian_expectation, gaussian_expectation

ArrayLike = float | np.ndarray


def leaky_slope(act: Activation) -> float | None:
    """The negative slope a of a leaky-ReLU-family activation (ReLU 0, linear 1), else ``None``.

    Examples:
        >>> from initlab.core.activations import get_activation
        >>> leaky_slope(get_activation("relu")), leaky_slope(get_activation("tanh"))
        (0.0, None)
    """
    if not act.homogeneous or act.glu:
        return None
    if act.name == "relu":
        return 0.0
    if act.name == "linear":
        return 1.0
    if act.name == "leaky_relu":
        return float(act.params.get("negative_slope", 0.01))
    if act.name == "prelu":
        return float(act.params.get("init", 0.25))
    return None


def second_moment(act: Activation, q: ArrayLike) -> ArrayLike:
    """M(q) = E[φ(√q z)²]."""
    return act.second_moment(q)


def derivative_moment(act: Activation, q: ArrayLike) -> ArrayLike:
    """D(q) = E[φ'(√q z)²]."""
    return act.derivative_second_moment(q)


def second_moment_slope(act: Activation, q: ArrayLike) -> ArrayLike:
    """M'(q) = dM/dq = E[φ'(√q z)² + φ(√q z) φ''(√q z)] for smooth φ (integration by parts),
    computed as E[x φ(x) φ'(x)]/q, x = √q z, which also holds across kinks."""
    a = leaky_slope(act)
    if a is not None:
        return np.zeros_like(np.asarray(q, dtype=np.float64)) + (1.0 + a * a) / 2.0
    q_arr = np.asarray(q, dtype=np.float64)
    if not act.kinks and np.all(q_arr == 0):
        out = act.d1(np.zeros(1)) ** 2 + act.fn(np.zeros(1)) * act.d2(np.zeros(1))
        return float(out[0]) + 0.0 * q_arr if q_arr.ndim else float(out[0])
    # d/dq E[φ(√q z)²] = E[x φ(x) φ'(x)]/q, x = √q z: needs only φ' (valid across kinks, where
    # φ'' has delta masses that the integration-by-parts form E[φ'² + φφ''] would miss).
    safe = np.where(q_arr > 0, q_arr, 1.0)
    val = np.asarray(act.expect(lambda x: x * act.fn(x) * act.d1(x), q_arr)) / safe
    at0 = float(act.d1(np.zeros(1))[0] ** 2)
    out = np.where(q_arr > 0, val, at0)
    return float(out) if out.ndim == 0 else out


def derivative_power_moment(act: Activation, q: ArrayLike, k: int) -> ArrayLike:
    """μₖ(q) = E[φ'(√q z)^{2k}] (Pennington, Schoenholz & Ganguli 2017, eq. 12)."""
    return act.expect(lambda x: act.d1(x) ** (2 * k), q)


def _arccos_kernel(a: float, c: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """K/q and K̇ for φ(x) = max(x, 0) + a min(x, 0): with J(c) = √(1−c²) + (π − arccos c) c,
    K = q[(1−a)² J(c)/(2π) + a c], K̇ = (1−a)² (π − arccos c)/(2π) + a."""
    c = np.clip(c, -1.0, 1.0)
    theta = np.arccos(c)
    j = np.sqrt(np.maximum(1.0 - c * c, 0.0)) + (math.pi - theta) * c
    k = (1.0 - a) ** 2 * j / (2.0 * math.pi) + a * c
    kdot = (1.0 - a) ** 2 * (math.pi - theta) / (2.0 * math.pi) + a
    return k, kdot


def correlation_kernel(act: Activation, q: ArrayLike, c: ArrayLike) -> ArrayLike:
    """K(q, c) = E[φ(u₁)φ(u₂)], u₁, u₂ ~ N(0, q) with correlation c (vectorized over q, c)."""
    a = leaky_slope(act)
    if a is not None:
        k, _ = _arccos_kernel(a, np.asarray(c, dtype=np.float64))
        out = np.asarray(q, dtype=np.float64) * k
        return float(out) if np.ndim(out) == 0 else out
    return bivariate_gaussian_expectation(act.fn, None, q, None, c, kinks_f=act.kinks)


def derivative_kernel(act: Activation, q: ArrayLike, c: ArrayLike) -> ArrayLike:
    """K̇(q, c) = E[φ'(u₁)φ'(u₂)] (χ_c = σ_w² K̇(q*, c*), Schoenholz et al. 2017, eq. 6)."""
    a = leaky_slope(act)
    if a is not None:
        _, kd = _arccos_kernel(a, np.asarray(c, dtype=np.float64))
        out = kd + 0.0 * np.asarray(q, dtype=np.float64)
        return float(out) if np.ndim(out) == 0 else out
    return bivariate_gaussian_expectation(act.d1, None, q, None, c, kinks_f=act.kinks)


def mean(act: Activation, q: ArrayLike) -> ArrayLike:
    """E[φ(√q z)]."""
    return gaussian_expectation(act.fn, q, kinks=act.kinks)


__all__ = [
    "correlation_kernel",
    "derivative_kernel",
    "derivative_moment",
    "derivative_power_moment",
    "leaky_slope",
    "mean",
    "second_moment",
    "second_moment_slope",
]
