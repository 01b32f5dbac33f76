"""Mehler's expansion of the correlation map (fast, vectorized over many points).

For u₁, u₂ ~ N(0, q) with correlation c, E[φ(u₁)φ(u₂)] = Σₖ αₖ(q)² cᵏ with αₖ the normalized
Hermite coefficients of φ(√q ·) (Mehler 1866; used for deep kernels by Daniely et al. 2016).
We keep orders 0..120 and add a tail T₀ c^p whose value and slope at c = 1 make the series
match M(q) = E[φ²] and q D(q) = q E[φ'²] exactly, so the map has exactly the fixed point c = 1
and the slope χ₁ there. Used by :func:`initlab.theory.phase_diagram` on whole grids and as the
first guess that :class:`~initlab.theory.MeanField` polishes with 2-D quadrature.
"""

from __future__ import annotations

import numpy as np
from scipy.interpolate import CubicSpline

from initlab.core.activations import Activation
from initlab.core.gaussian import _panel_rule, hermite_coefficients

_N_NODES, _ORDER = 200, 120  # Gauss–Hermite nodes and Hermite order of the series
_KINK_PANELS = 12  # panels per gap of the kink-aware rule (16 nodes each)


def series_weights(
    act: Activation, q: np.ndarray, M: np.ndarray, D: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Weights αₖ² of Mehler's series at each q, and the tail (T₀, p) matching M and q D."""
    if act.kinks:
        alpha = _alpha_kinked(act, q)
    else:
        alpha = hermite_coefficients(act.fn, q, _ORDER, _N_NODES)
    w = alpha * alpha
    k = np.arange(_ORDER + 1)
    t0 = np.maximum(M - w.sum(axis=1), 0.0)
    t1 = np.maximum(q * D - w @ k, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.where(t0 > 0, np.maximum(t1 / t0, _ORDER + 1.0), _ORDER + 1.0)
    return w, t0, p


def _alpha_table(act: Activation, q: np.ndarray) -> np.ndarray:
    """αₖ(q) by composite Gauss–Legendre split at the kinks (Gauss–Hermite converges only
    algebraically across a kink): rows of q, columns k = 0.._ORDER."""
    sq = np.sqrt(q)
    with np.errstate(divide="ignore", invalid="ignore"):
        kinks = [np.nan_to_num(k / sq, nan=0.0) for k in act.kinks]
    fixed = [np.full_like(sq, z) for z in (-12.0, -6.0, -3.0, 0.0, 3.0, 6.0, 12.0)]
    edges = np.sort(np.stack([*fixed, *[np.clip(k, -12, 12) for k in kinks]], axis=-1), axis=-1)
    z, w = _panel_rule(edges, _KINK_PANELS)  # (nq, N), weights include the density
    fw = act.fn(sq[:, None] * z) * w
    out = np.empty((q.size, _ORDER + 1))
    prev = np.zeros_like(z)
    cur = np.ones_like(z)
    out[:, 0] = fw.sum(axis=1)
    for k in range(_ORDER):  # normalized Hermite polynomials heₖ = Heₖ/√k!
        prev, cur = cur, (z * cur - np.sqrt(k) * prev) / np.sqrt(k + 1.0)
        out[:, k + 1] = (fw * cur).sum(axis=1)
    return out


def _alpha_kinked(act: Activation, q: np.ndarray) -> np.ndarray:
    """αₖ at many q: exact on a table over [min q, max q] (≤ 200 points, step ≤ 0.02 in ln q),
    cubic splines in ln q in between."""
    q = np.asarray(q, dtype=np.float64)
    lo, hi = float(np.log(q.min())), float(np.log(q.max()))
    n = int(min(200, max(2, np.ceil((hi - lo) / 0.02) + 1)))
    if q.size <= n or hi - lo < 1e-12:
        return _alpha_table(act, q)
    s_tab = np.linspace(lo, hi, n)
    table = _alpha_table(act, np.exp(s_tab))
    return CubicSpline(s_tab, table, axis=0)(np.log(q))


def series_eval(
    w: np.ndarray, t0: np.ndarray, p: np.ndarray, c: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """S(c) = Σ wₖ cᵏ + T₀ c^p and S'(c), by Horner (c ≥ 0; one c per row of w)."""
    s = np.zeros_like(c)
    ds = np.zeros_like(c)
    for k in range(w.shape[1] - 1, -1, -1):
        ds = ds * c + s
        s = s * c + w[:, k]
    cp = np.power(c, p - 1.0)
    return s + t0 * cp * c, ds + t0 * p * cp


def solve_c_series(
    w2: np.ndarray, b2: np.ndarray, q: np.ndarray, w: np.ndarray, t0: np.ndarray, p: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """First root of map(c) − c on [0, 1) (map(0) ≥ 0, increasing); also χ_c there."""
    # drop the orders whose weight is negligible everywhere (Horner cost is linear in them)
    keep = np.flatnonzero(w.max(axis=0) > 1e-18 * max(float(w.sum(axis=1).max()), 1e-300))
    w = w[:, : (keep[-1] + 1 if keep.size else 1)]
    k = np.arange(w.shape[1])
    grid = np.concatenate([np.arange(0, 10) / 10.0, 1.0 - np.logspace(-2, -10, 9)])
    # the map on the whole grid at once: a Vandermonde product (one BLAS call)
    s_grid = w @ (grid[:, None] ** k).T + t0[:, None] * grid[None, :] ** p[:, None]
    g_grid = (w2[:, None] * s_grid + b2[:, None]) / q[:, None] - grid[None, :]
    zero = g_grid[:, 0] <= 1e-15 * np.maximum(w.sum(axis=1) * w2 / q, 1.0)
    cross = g_grid[:, 1:] <= 0
    has = cross.any(axis=1) & ~zero
    j = np.argmax(cross, axis=1)
    a = np.where(has, grid[j], 0.0)
    b = np.where(has, grid[j + 1], 1.0)
    x = np.where(zero, 0.0, np.where(has, 0.5 * (a + b), 1.0))
    act = np.flatnonzero(has)
    for _ in range(50):
        if act.size == 0:
            break
        sv, ds = series_eval(w[act], t0[act], p[act], x[act])
        gx = (w2[act] * sv + b2[act]) / q[act] - x[act]
        dg = w2[act] * ds / q[act] - 1.0
        with np.errstate(divide="ignore", invalid="ignore"):
            xn = x[act] - gx / dg
        a[act] = np.where(gx > 0, x[act], a[act])
        b[act] = np.where(gx > 0, b[act], x[act])
        bad = ~np.isfinite(xn) | (xn < a[act]) | (xn > b[act])
        xn = np.where(gx == 0, x[act], np.where(bad, 0.5 * (a[act] + b[act]), xn))
        conv = np.abs(xn - x[act]) <= 1e-12  # the step just taken is then ~1e-24 accurate
        x[act] = xn
        act = act[~conv]
    _, ds = series_eval(w, t0, p, x)
    return x, w2 * ds / q


__all__ = ["series_eval", "series_weights", "solve_c_series"]
