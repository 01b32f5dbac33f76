"""Gaussian expectations E[f(√q z)], z ~ N(0, 1), by quadrature.

Two rules, chosen by what the integrand is:

* smooth integrands: Gauss–Hermite quadrature, adaptive in the number of nodes (the node count is
  doubled until two successive estimates agree to ``rtol``); numpy's ``hermgauss`` overflows past
  ~300 nodes, so the ladder stops there.
* integrands with kinks (ReLU at 0, hardtanh at ±1, ...): composite Gauss–Legendre on
  z ∈ [-Z, Z] with panel edges at every kink (kink/√q in z-space), so that every panel is smooth
  and the rule converges exponentially instead of algebraically.
* large q (√q > 16, either kind): φ bends within |z| ≲ 1/√q, between Gauss–Hermite's nodes, and
  two successive rules can agree while both miss the bend (tanh² at q = 1e4 came out 1.0, not
  0.99202). The composite rule then also splits at x = 0, ±0.5, ±2, ±8, ±32 (mapped to z).

All are vectorized over an array of ``q`` values: ``f`` is called once with an array of shape
``q.shape + (n_nodes,)``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import cache, lru_cache
from itertools import pairwise
from typing import Any

import numpy as np

from initlab.errors import InitError

# Gauss–Hermite node counts tried in turn (physicists' rule; numpy is stable up to ~300 nodes).
_GH_LADDER = (40, 80, 160, 300)
# Gaussian tail mass beyond |z| > 12 is 3.6e-33: negligible against any tolerance we use.
_Z_MAX = 12.0
_GL_NODES = 48


@cache
def _hermite(n: int) -> tuple[np.ndarray, np.ndarray]:
    with _one_blas_thread():
        x, w = np.polynomial.hermite.hermgauss(n)
    # E[f(z)] = (1/√π) Σ w_i f(√2 x_i)
    return np.sqrt(2.0) * x, w / np.sqrt(np.pi)


@cache
def _legendre(n: int) -> tuple[np.ndarray, np.ndarray]:
    with _one_blas_thread():
        return np.polynomial.legendre.leggauss(n)


def _one_blas_thread() -> Any:
    """The nodes are eigenvalues of an n × n matrix (n ≤ 300): on one BLAS thread that takes
    ~25 ms for the whole ladder, while OpenBLAS's threads, spinning against other processes on a
    busy machine, took 1.2–1.8 s (the first moment of ``initlab scale --activation tanh``;
    benchmarks/RESULTS.md, start-up). The nodes are the same, bit for bit."""
    from threadpoolctl import threadpool_limits

    return threadpool_limits(1, user_api="blas")


def _gh(f: Callable[[np.ndarray], np.ndarray], sq: np.ndarray, n: int) -> np.ndarray:
    z, w = _hermite(n)
    return np.sum(f(sq[..., None] * z) * w, axis=-1)


def _piecewise(
    f: Callable[[np.ndarray], np.ndarray], sq: np.ndarray, kinks: Sequence[float], panels: int
) -> np.ndarray:
    """Composite Gauss–Legendre with breakpoints at each kink (in z-space) and ``panels``
    equal sub-panels between consecutive breakpoints."""
    t, w = _legendre(_GL_NODES)
    with np.errstate(divide="ignore"):
        # at q = 0 (sq = 0) a kink at 0 gives 0/0: any finite edge will do (f is constant in z)
        inner = [np.clip(np.nan_to_num(k / sq, nan=0.0), -_Z_MAX, _Z_MAX) for k in sorted(kinks)]
    lo_edge = np.full_like(sq, -_Z_MAX)
    hi_edge = np.full_like(sq, _Z_MAX)
    edges = [lo_edge, *inner, hi_edge]
    # Sub-divide every gap between breakpoints into `panels` equal panels.
    total = np.zeros_like(sq)
    for a, b in pairwise(edges):
        width = (b - a) / panels
        for p in range(panels):
            lo = a + p * width
            half = width / 2.0
            mid = lo + half
            z = mid[..., None] + half[..., None] * t
            dens = np.exp(-0.5 * z * z) / np.sqrt(2.0 * np.pi)
            total = total + half * np.sum(w * dens * f(sq[..., None] * z), axis=-1)
    return total


# Above this √q the 1-D rule splits its panels at the x-points ``_X_BENDS`` (mapped to z = x/√q),
# where smooth activations bend and their tails settle: Gauss–Hermite's nodes near z = 0 are
# ~0.1 apart, too coarse for a bend of width 1/√q < 1/16.
_LARGE_SQ = 16.0
_X_BENDS = (-32.0, -8.0, -2.0, -0.5, 0.0, 0.5, 2.0, 8.0, 32.0)


def _panel_ladder(
    f: Callable[[np.ndarray], np.ndarray],
    sq: np.ndarray,
    kinks: Sequence[float],
    rtol: float,
    ladder: Sequence[int],
) -> np.ndarray:
    """:func:`_piecewise` with more panels per gap until two successive results agree."""
    prev = _piecewise(f, sq, kinks, ladder[0])
    for panels in ladder[1:]:
        cur = _piecewise(f, sq, kinks, panels)
        if np.all(np.abs(cur - prev) <= rtol * np.maximum(np.abs(cur), 1e-300) + 1e-300):
            return cur
        prev = cur
    return prev


def gaussian_expectation(
    f: Callable[[np.ndarray], np.ndarray],
    q: float | np.ndarray = 1.0,
    *,
    kinks: Sequence[float] = (),
    rtol: float = 1e-11,
) -> np.ndarray | float:
    """E[f(√q z)] for z ~ N(0, 1), vectorized over ``q``.

    Args:
        f: elementwise function of a float64 NumPy array.
        q: variance (scalar or array, ≥ 0).
        kinks: points in x-space where ``f`` or a derivative is not smooth (e.g. ``(0.0,)`` for
            ReLU). With kinks, composite Gauss–Legendre split at the kinks is used.
        rtol: relative agreement between successive refinements that counts as converged.

    Examples:
        >>> import numpy as np
        >>> round(float(gaussian_expectation(np.tanh, 1.0, rtol=1e-12) * 0), 3)
        0.0
        >>> relu_sq = lambda x: np.maximum(x, 0) ** 2
        >>> round(float(gaussian_expectation(relu_sq, 1.0, kinks=(0.0,))), 9)
        0.5
    """
    q_arr = np.asarray(q, dtype=np.float64)
    if np.any(q_arr < 0) or not np.all(np.isfinite(q_arr)):
        raise InitError(
            f"gaussian_expectation: q must be finite and ≥ 0 (a variance), got {q!r}; "
            "pass a non-negative variance"
        )
    sq = np.sqrt(q_arr)
    scalar = q_arr.ndim == 0
    sq = np.atleast_1d(sq)
    large = sq > _LARGE_SQ
    if large.any():
        # At large q, φ bends within |z| ≲ 1/√q, between Gauss–Hermite nodes: two rules can
        # agree while both miss the bend. Split the panels at fixed x-points instead.
        out = np.empty_like(sq)
        small = ~large
        if small.any():
            q_small = np.atleast_1d(q_arr)[small]
            out[small] = gaussian_expectation(f, q_small, kinks=kinks, rtol=rtol)
        bends = tuple(sorted({*kinks, *_X_BENDS}))
        with np.errstate(over="ignore", invalid="ignore"):
            out[large] = _panel_ladder(f, sq[large], bends, rtol, (2, 4, 8, 16))
        return float(out[0]) if scalar else out
    with np.errstate(over="ignore", invalid="ignore"):
        if kinks:
            prev = _piecewise(f, sq, kinks, 2)
            for panels in (4, 8):
                cur = _piecewise(f, sq, kinks, panels)
                if np.all(np.abs(cur - prev) <= rtol * np.maximum(np.abs(cur), 1e-300) + 1e-300):
                    prev = cur
                    break
                prev = cur
            out = prev
        else:
            prev = _gh(f, sq, _GH_LADDER[0])
            out = prev
            for n in _GH_LADDER[1:]:
                cur = _gh(f, sq, n)
                out = cur
                if np.all(np.abs(cur - prev) <= rtol * np.maximum(np.abs(cur), 1e-300) + 1e-300):
                    break
                prev = cur
            else:
                # Gauss–Hermite did not settle (a steep or nearly-kinked integrand at this q):
                # fall back on the panel rule, split at 0, which converges for such shapes.
                out = _piecewise(f, sq, (0.0,), 16)
    return float(out[0]) if scalar else out


# ------------------------------------------------------------ two correlated Gaussians ---
_GL2_NODES = 16
# Breakpoints every 2-D rule uses: z = ±4 (the bulk of the density) and x = −2, 0, 2 (where a
# smooth activation bends), so steep shapes at large q and tiny s are split into smooth panels.
_Z_EDGES = (-4.0, 4.0)
_X_EDGES = (-2.0, 0.0, 2.0)
_CHUNK = 4_000_000  # elements per block of the 2-D rule (bounds memory to ~100 MB)


def _panel_rule(edges: np.ndarray, panels: int) -> tuple[np.ndarray, np.ndarray]:
    """Composite Gauss–Legendre nodes and weights (times the N(0, 1) density) on z-intervals.

    ``edges`` has shape ``(..., E)`` (sorted along the last axis); each of the E − 1 gaps is cut
    into ``panels`` equal panels of ``_GL2_NODES`` nodes. Returns ``(z, w)`` of shape
    ``(..., (E − 1) · panels · _GL2_NODES)``.
    """
    t, wt = _legendre(_GL2_NODES)
    a = edges[..., :-1, None, None]
    width = (edges[..., 1:, None, None] - a) / panels
    p = np.arange(panels, dtype=np.float64)[:, None]
    half = width / 2.0
    z = a + width * p + half * (1.0 + t)
    w = half * wt * np.exp(-0.5 * z * z) / np.sqrt(2.0 * np.pi)
    shape = (*edges.shape[:-1], -1)
    w = np.broadcast_to(w, z.shape)
    return z.reshape(shape), w.reshape(shape)


def _edges(points: list[np.ndarray], like: np.ndarray) -> np.ndarray:
    fixed = [np.full_like(like, z) for z in (-_Z_MAX, *_Z_EDGES, _Z_MAX)]
    inner = [np.clip(np.nan_to_num(p, nan=_Z_MAX), -_Z_MAX, _Z_MAX) for p in points]
    return np.sort(np.stack([*fixed, *inner], axis=-1), axis=-1)


def _biv_panels(f, g, sq1, sq2, rho, s, kf, kg, panels):  # type: ignore[no-untyped-def]
    with np.errstate(divide="ignore", invalid="ignore"):
        outer = [k / sq1 for k in kf]
        # where u2 follows u1 closely (small s), g's kinks also show in z1
        outer += [k / (sq2 * rho) for k in kg]
        z1, w1 = _panel_rule(_edges(outer, sq1), panels)  # (P, N1)
        a = (sq2 * rho)[:, None] * z1
        b = (sq2 * s)[:, None] * np.ones_like(z1)
        inner = [np.where(b > 0, (k - a) / b, _Z_MAX) for k in kg]
        z2, w2 = _panel_rule(_edges(inner, z1), panels)  # (P, N1, N2)
    u1 = sq1[:, None] * z1
    u2 = a[..., None] + b[..., None] * z2
    prod = (f(u1) * w1)[..., None] * g(u2) * w2
    return prod.sum(axis=(1, 2)), np.abs(prod).sum(axis=(1, 2))


def bivariate_gaussian_expectation(
    f: Callable[[np.ndarray], np.ndarray],
    g: Callable[[np.ndarray], np.ndarray] | None = None,
    q1: float | np.ndarray = 1.0,
    q2: float | np.ndarray | None = None,
    rho: float | np.ndarray = 0.0,
    *,
    kinks_f: Sequence[float] = (),
    kinks_g: Sequence[float] | None = None,
    rtol: float = 1e-10,
) -> np.ndarray | float:
    """E[f(u₁) g(u₂)] for a centered Gaussian pair: Var u₁ = q1, Var u₂ = q2, corr(u₁, u₂) = rho.

    This is the correlation map's integral (Poole et al. 2016, eq. 5: E[φ(u₁)φ(u₂)] with
    u₁ = √q₁ z₁, u₂ = √q₂ (ρ z₁ + √(1−ρ²) z₂)). Vectorized over the broadcast of ``q1, q2, rho``.
    Nested composite Gauss–Legendre on z ∈ [−12, 12]: the outer panels are split at the kinks
    of ``f`` (and of ``g`` as seen through u₂ ≈ ρ u₁), the inner ones at every kink of ``g`` as
    seen from each outer node, so both levels integrate smooth pieces; the panel count is doubled
    (2 → 4 → 8 per gap) until two estimates agree.

    Args:
        f, g: elementwise functions of float64 arrays (``g`` defaults to ``f``).
        q1, q2: variances ≥ 0 (``q2`` defaults to ``q1``).
        rho: correlation in [−1, 1].
        kinks_f, kinks_g: points (x-space) where f, g are not smooth (``kinks_g`` defaults to
            ``kinks_f`` when ``g`` is ``f``).
        rtol: agreement between successive refinements, relative to E|f g|.

    Examples:
        >>> import numpy as np
        >>> relu = lambda x: np.maximum(x, 0.0)
        >>> v = bivariate_gaussian_expectation(relu, relu, 1.0, 1.0, 0.0, kinks_f=(0.0,))
        >>> round(float(v), 9) == round(1 / (2 * np.pi), 9)  # E[relu(z1)] E[relu(z2)]
        True
    """
    same = g is None
    g = f if g is None else g
    if kinks_g is None:
        kinks_g = kinks_f if same else ()
    q2 = q1 if q2 is None else q2
    q1a, q2a, ra = np.broadcast_arrays(
        np.asarray(q1, dtype=np.float64),
        np.asarray(q2, dtype=np.float64),
        np.asarray(rho, dtype=np.float64),
    )
    if np.any(q1a < 0) or np.any(q2a < 0) or not np.all(np.isfinite(q1a) & np.isfinite(q2a)):
        raise InitError(
            f"bivariate_gaussian_expectation: q1, q2 must be finite variances ≥ 0, got {q1!r}, "
            f"{q2!r}; pass non-negative variances"
        )
    if not np.all(np.abs(ra) <= 1.0):
        raise InitError(
            f"bivariate_gaussian_expectation: rho must be a correlation in [-1, 1], got {rho!r}"
        )
    shape = q1a.shape
    sq1 = np.sqrt(q1a).ravel()
    sq2 = np.sqrt(q2a).ravel()
    r = ra.ravel()
    s = np.sqrt(np.maximum(1.0 - r * r, 0.0))
    out = np.empty_like(sq1)
    kf = tuple(sorted({*map(float, kinks_f), *_X_EDGES}))
    kg = tuple(sorted({*map(float, kinks_g), *_X_EDGES}))
    n_max = (len(kf) + len(_Z_EDGES) + 1) * 4 * _GL2_NODES
    step = max(1, _CHUNK // (n_max * n_max))
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for i in range(0, sq1.size, step):
            sl = slice(i, i + step)
            args = (sq1[sl], sq2[sl], r[sl], s[sl], kf, kg)
            prev, _ = _biv_panels(f, g, *args, 2)
            cur, scale = _biv_panels(f, g, *args, 4)
            if not np.all(np.abs(cur - prev) <= rtol * np.maximum(scale, 1e-300) + 1e-300):
                cur, _ = _biv_panels(f, g, *args, 8)
            out[sl] = cur
    return float(out[0]) if len(shape) == 0 else out.reshape(shape)


def hermite_coefficients(
    f: Callable[[np.ndarray], np.ndarray], q: float | np.ndarray, order: int, n_nodes: int = 300
) -> np.ndarray:
    """Normalized Hermite coefficients αₖ(q) = E[f(√q z) Heₖ(z)]/√k!, k = 0..order.

    Mehler's formula turns these into the correlation map: for u₁, u₂ ~ N(0, q) with
    correlation c, E[f(u₁) f(u₂)] = Σₖ αₖ² cᵏ, and E[f(√q z)²] = Σₖ αₖ². Gauss–Hermite with
    ``n_nodes`` (> order; ≤ 300, where numpy's rule is stable) nodes; vectorized over ``q``
    (result shape ``q.shape + (order + 1,)``).

    Examples:
        >>> import numpy as np
        >>> a = hermite_coefficients(lambda x: x**2, 1.0, 3)  # z² = He₀ + He₂
        >>> np.round(a, 12).tolist() == [1.0, 0.0, round(2**0.5, 12), 0.0]
        True
    """
    if not 0 <= order < n_nodes <= 300:
        raise InitError(
            f"hermite_coefficients: need 0 ≤ order < n_nodes ≤ 300, got order={order}, "
            f"n_nodes={n_nodes}; lower the order"
        )
    q_arr = np.asarray(q, dtype=np.float64)
    if np.any(q_arr < 0) or not np.all(np.isfinite(q_arr)):
        raise InitError(f"hermite_coefficients: q must be finite and ≥ 0, got {q!r}")
    z, _ = _hermite(n_nodes)
    h = _hermite_functions(n_nodes, order)  # (n, order+1), weights folded in
    with np.errstate(over="ignore", invalid="ignore"):
        vals = f(np.sqrt(q_arr)[..., None] * z)
    return vals @ h


@lru_cache(maxsize=8)
def _hermite_functions(n_nodes: int, order: int) -> np.ndarray:
    """w_i · heₖ(z_i) with heₖ = Heₖ/√k! by the stable three-term recurrence."""
    z, w = _hermite(n_nodes)
    out = np.empty((n_nodes, order + 1))
    prev = np.zeros_like(z)
    cur = w.copy()
    out[:, 0] = cur
    for k in range(order):
        nxt = (z * cur - np.sqrt(k) * prev) / np.sqrt(k + 1.0)
        prev, cur = cur, nxt
        out[:, k + 1] = cur
    out.setflags(write=False)
    return out


__all__ = ["bivariate_gaussian_expectation", "gaussian_expectation", "hermite_coefficients"]
