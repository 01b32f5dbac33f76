"""Phase diagrams: χ₁, ξ_c and the trainable depth 6 ξ_c over a (σ_w², σ_b²) grid.

This reproduces the figure of Schoenholz et al. (2017, Fig. 1 and 5): ordered and chaotic
phases separated by the critical line χ₁ = 1, with contours of the correlation depth scale ξ_c.

Everything is vectorized over the whole grid in NumPy (a 200 × 200 grid takes a fraction of a
second):

1. the one-dimensional Gaussian moments M(q) = E[φ(√q z)²], D(q) = E[φ'(√q z)²] and
   M'(q) are tabulated once by quadrature on a log grid of q ∈ [1e-10, 1e4] and interpolated by
   cubic splines in ln q;
2. q* for every grid point: the length-map iterates move monotonically from q⁰ to the nearest
   root of σ_w² M(q) + σ_b² − q, so we scan the table outward from q⁰ for the first sign change
   and refine by bisection and Newton steps on the splines;
3. c* where χ₁ > 1: Mehler's expansion E[φ(u₁)φ(u₂)] = Σₖ αₖ(q*)² cᵏ (αₖ the normalized
   Hermite coefficients, computed at each point's q* by one matrix product), plus a tail
   T₀ c^p fitted so that the value (M) and slope (q D) at c = 1 are exact (for φ with kinks
   the αₖ come from a kink-split Gauss–Legendre rule on a table of q, splined in ln q). The map
   is increasing on [0, 1] and map(0) ≥ 0, so c* is its first root from 0, bracketed on a grid
   and refined by safeguarded Newton steps.

Agreement with the pointwise :class:`~initlab.theory.MeanField` (2-D quadrature), measured:
q*, χ₁ ~1e-10; c*, ξ_c ~1e-10 for smooth φ, ~1e-8 for φ with kinks (ELU, softsign, hardtanh).

Examples:
    >>> import numpy as np
    >>> pd = phase_diagram("tanh", sigma_w2=np.linspace(1, 4, 4), sigma_b2=np.array([0.05]))
    >>> [p for p in pd.phase_names[0]]
    ['ordered', 'chaotic', 'chaotic', 'chaotic']
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.interpolate import CubicSpline

from initlab.core.activations import Activation
from initlab.errors import InitError
from initlab.theory import kernels
from initlab.theory.meanfield import CRITICAL_TOL, ActivationLike, _activation
from initlab.theory.mehler import series_weights, solve_c_series

PHASE_CODES = {-1: "no_fixed_point", 0: "ordered", 1: "critical", 2: "chaotic"}
_LNQ_MIN, _LNQ_MAX = math.log(1e-10), math.log(1e4)
_H = 0.02  # table step in ln q (spline error ~ h⁴/384 ≈ 4e-10 relative)
_SCAN = 4  # scan every 4th table node (ratio e^0.08 ≈ 1.08 between scan points)


class _Tables:
    """M, D, M' on a log grid of q, with cubic splines in s = ln q."""

    def __init__(self, act: Activation, q0: float) -> None:
        s0 = math.log(q0)
        k_lo = math.floor((_LNQ_MIN - s0) / _H)
        k_hi = math.ceil((_LNQ_MAX - s0) / _H)
        self.k0 = -k_lo  # index of q0
        self.s = s0 + _H * np.arange(k_lo, k_hi + 1)
        self.q = np.exp(self.s)
        self.q[self.k0] = q0
        # in slices, so that the adaptive quadrature settles on a node count per slice
        parts = np.array_split(np.arange(self.q.size), 8)
        self.M = np.concatenate([np.atleast_1d(act.second_moment(self.q[i])) for i in parts])
        self.D = np.concatenate(
            [np.atleast_1d(act.derivative_second_moment(self.q[i])) for i in parts]
        )
        self.Mp = np.concatenate(
            [np.atleast_1d(kernels.second_moment_slope(act, self.q[i])) for i in parts]
        )
        self.m_spl = CubicSpline(self.s, self.M)
        self.d_spl = CubicSpline(self.s, self.D)
        self.mp_spl = CubicSpline(self.s, self.Mp)
        at0 = np.zeros(1)
        self.m0 = float(act.fn(at0)[0] ** 2)  # M(0) = φ(0)²

    def M_at(self, q: np.ndarray) -> np.ndarray:
        return self.m_spl(np.log(q))

    def D_at(self, q: np.ndarray) -> np.ndarray:
        return self.d_spl(np.log(np.maximum(q, self.q[0])))

    def Mp_at(self, q: np.ndarray) -> np.ndarray:
        return self.mp_spl(np.log(np.maximum(q, self.q[0])))


def _solve_q(tab: _Tables, w2: np.ndarray, b2: np.ndarray) -> np.ndarray:
    """q* for flat arrays of (σ_w², σ_b²), starting from the table's q0 (inf: diverges)."""
    n = w2.size
    out = np.full(n, np.nan)
    k0 = tab.k0
    g0 = w2 * tab.M[k0] + b2 - tab.q[k0]
    out[g0 == 0] = tab.q[k0]
    scan = np.arange(k0 % _SCAN, tab.q.size, _SCAN)
    j0 = int(np.flatnonzero(scan == k0)[0])
    lo = np.full(n, np.nan)
    hi = np.full(n, np.nan)
    for direction in (1, -1):
        active = np.flatnonzero((g0 > 0) if direction == 1 else (g0 < 0))
        order = scan[j0 + 1 :] if direction == 1 else scan[:j0][::-1]
        prev = np.full(active.size, k0)
        block = 64
        for start in range(0, order.size, block):
            if active.size == 0:
                break
            idx = order[start : start + block]
            g = w2[active, None] * tab.M[idx] + b2[active, None] - tab.q[idx]
            flip = (g <= 0) if direction == 1 else (g >= 0)
            found = flip.any(axis=1)
            first = np.argmax(flip, axis=1)
            hit = active[found]
            kk = idx[first[found]]
            before = np.where(first[found] > 0, idx[np.maximum(first[found] - 1, 0)], prev[found])
            a, b = (before, kk) if direction == 1 else (kk, before)
            lo[hit], hi[hit] = tab.q[a], tab.q[b]
            prev = np.full((~found).sum(), idx[-1])
            active = active[~found]
        if direction == 1:
            out[active] = np.inf  # never turned down below 1e4: the length map diverges
        else:
            # g < 0 down to 1e-10: the root is in [0, 1e-10]; with φ(0) = 0 and σ_b = 0 it is 0
            g_zero = w2[active] * tab.m0 + b2[active]
            lin = g_zero / np.maximum(1.0 - w2[active] * tab.Mp[0], 1e-300)
            out[active] = np.where(g_zero == 0, 0.0, np.minimum(lin, tab.q[0]))
    todo = np.flatnonzero(np.isfinite(lo) & np.isnan(out))
    a, b = lo[todo], hi[todo]
    ww, bb = w2[todo], b2[todo]
    for _ in range(8):  # bisection in ln q, then safeguarded Newton
        mid = np.sqrt(a * b)
        gm = ww * tab.M_at(mid) + bb - mid
        a, b = np.where(gm > 0, mid, a), np.where(gm > 0, b, mid)
    x = np.sqrt(a * b)
    for _ in range(6):
        gx = ww * tab.M_at(x) + bb - x
        dg = ww * tab.Mp_at(x) - 1.0
        with np.errstate(divide="ignore", invalid="ignore"):
            xn = x - gx / dg
        a, b = np.where(gx > 0, x, a), np.where(gx > 0, b, x)
        bad = ~np.isfinite(xn) | (xn < a) | (xn > b)
        x = np.where(gx == 0, x, np.where(bad, 0.5 * (a + b), xn))
    out[todo] = x
    return out


@dataclass(frozen=True)
class PhaseDiagram:
    """Mean-field quantities on a grid; arrays have shape ``(len(sigma_b2), len(sigma_w2))``.

    ``phase`` holds codes (−1 no fixed point, 0 ordered, 1 critical, 2 chaotic; see
    ``phase_names``); ``critical_sigma_w2`` the critical line at each σ_b² (NaN where none).
    """

    activation: str
    sigma_w2: np.ndarray
    sigma_b2: np.ndarray
    q_star: np.ndarray
    c_star: np.ndarray
    chi1: np.ndarray
    chi_c: np.ndarray
    xi_q: np.ndarray
    xi_c: np.ndarray
    phase: np.ndarray
    critical_sigma_w2: np.ndarray

    def __repr__(self) -> str:
        """One line (a REPL shows this): the grid and how many points each phase has; the
        arrays are attributes, ``to_dict()`` has them all."""
        counts = ", ".join(f"{PHASE_CODES[int(c)]} {int((self.phase == c).sum())}"
                           for c in np.unique(self.phase))
        return (f"PhaseDiagram({self.activation!r}, {len(self.sigma_w2)} σ_w² × "
                f"{len(self.sigma_b2)} σ_b² points: {counts})")

    @property
    def trainable_depth(self) -> np.ndarray:
        """6 ξ_c (Schoenholz et al. 2017, Fig. 5)."""
        return 6.0 * self.xi_c

    @property
    def phase_names(self) -> np.ndarray:
        return np.vectorize(PHASE_CODES.get, otypes=[object])(self.phase)

    def to_dict(self) -> dict[str, Any]:
        def lst(a: np.ndarray) -> Any:
            a = np.asarray(a, dtype=np.float64)
            return np.where(np.isfinite(a), a, np.nan).tolist() if a.size else []

        def clean(x: Any) -> Any:
            if isinstance(x, list):
                return [clean(v) for v in x]
            return None if isinstance(x, float) and not math.isfinite(x) else x

        return {
            "activation": self.activation,
            "sigma_w2": clean(lst(self.sigma_w2)),
            "sigma_b2": clean(lst(self.sigma_b2)),
            "q_star": clean(lst(self.q_star)),
            "c_star": clean(lst(self.c_star)),
            "chi1": clean(lst(self.chi1)),
            "chi_c": clean(lst(self.chi_c)),
            "xi_q": clean(lst(self.xi_q)),
            "xi_c": clean(lst(self.xi_c)),
            "trainable_depth": clean(lst(self.trainable_depth)),
            "phase": self.phase.tolist(),
            "phase_codes": {str(k): v for k, v in PHASE_CODES.items()},
            "critical_sigma_w2": clean(lst(self.critical_sigma_w2)),
        }

    def to_json(self, **kw: Any) -> str:
        return json.dumps(self.to_dict(), **kw)


def _grid(name: str, values: Any, default: np.ndarray) -> np.ndarray:
    a = default if values is None else np.atleast_1d(np.asarray(values, dtype=np.float64))
    if a.ndim != 1 or a.size == 0 or np.any(~np.isfinite(a)) or np.any(a < 0):
        raise InitError(
            f"phase_diagram: {name} must be a non-empty 1-D array of finite variances ≥ 0, "
            f"got {values!r}"
        )
    return a


def phase_diagram(
    activation: ActivationLike,
    sigma_w2: np.ndarray | list[float] | None = None,
    sigma_b2: np.ndarray | list[float] | None = None,
    *,
    q0: float = 1.0,
) -> PhaseDiagram:
    """χ₁, q*, c*, χ_c, ξ_q, ξ_c and the phase at every (σ_b², σ_w²) of a grid.

    Args:
        activation: name, callable or Activation (elementwise).
        sigma_w2: weight variances (default 200 points in [0.5, 4], as in Schoenholz et al.).
        sigma_b2: bias variances (default 200 points in [0, 0.3]).
        q0: input variance the length map starts from.

    Returns:
        :class:`PhaseDiagram`; q* > 1e4 counts as "no fixed point" (code −1, NaN entries).

    Examples:
        >>> pd = phase_diagram("tanh", sigma_w2=[2.5], sigma_b2=[0.05])
        >>> round(float(pd.xi_c[0, 0]), 3)
        11.796
    """
    act = _activation(activation, "phase_diagram")
    w = _grid("sigma_w2", sigma_w2, np.linspace(0.5, 4.0, 200))
    b = _grid("sigma_b2", sigma_b2, np.linspace(0.0, 0.3, 200))
    if not (q0 > 0 and math.isfinite(q0)):
        raise InitError(f"phase_diagram: q0 must be a finite variance > 0, got {q0!r}")
    tab = _Tables(act, float(q0))
    W2, B2 = np.meshgrid(w, b)
    w2f, b2f = W2.ravel(), B2.ravel()
    q = _solve_q(tab, w2f, b2f)
    finite = np.isfinite(q)
    qe = np.where(q > 0, q, tab.q[0])
    chi1 = np.full(q.shape, np.nan)
    chi1[finite] = w2f[finite] * tab.D_at(qe[finite])
    slope_q = np.full(q.shape, np.nan)
    slope_q[finite] = w2f[finite] * tab.Mp_at(qe[finite])
    at0 = q == 0  # slopes at q* = 0 are the limits q → 0+ (φ' may jump at 0)
    if at0.any():
        chi1[at0] = w2f[at0] * float(act.derivative_second_moment(1e-200))
        slope_q[at0] = w2f[at0] * float(kernels.second_moment_slope(act, 1e-200))
    code = np.full(q.shape, -1, dtype=np.int8)
    code[finite] = np.where(
        np.abs(chi1[finite] - 1) <= CRITICAL_TOL, 1, np.where(chi1[finite] < 1, 0, 2)
    )
    c = np.where(finite, 1.0, np.nan)
    chi_c = chi1.copy()
    chaotic = np.flatnonzero((code == 2) & (q > 0))
    if chaotic.size:
        qc = q[chaotic]
        a_slope = kernels.leaky_slope(act)
        if a_slope is not None:
            cs, chic = _solve_c_arccos(a_slope, w2f[chaotic], b2f[chaotic], qc)
        else:
            wts, t0, p = series_weights(act, qc, tab.M_at(qc), tab.D_at(qc))
            cs, chic = solve_c_series(w2f[chaotic], b2f[chaotic], qc, wts, t0, p)
        c[chaotic] = cs
        chi_c[chaotic] = chic
    with np.errstate(divide="ignore", invalid="ignore"):
        xi_q = np.where(np.abs(slope_q) == 1, np.inf, -1.0 / np.log(np.abs(slope_q)))
        xi_c = np.where(np.abs(chi_c) == 1, np.inf, -1.0 / np.log(np.abs(chi_c)))
    xi_q = np.where(xi_q < 0, np.inf, xi_q)
    xi_c = np.where(xi_c < 0, np.inf, xi_c)
    xi_c[code == 1] = np.inf
    shape = W2.shape
    return PhaseDiagram(
        act.name,
        w,
        b,
        np.where(finite, q, np.nan).reshape(shape),
        c.reshape(shape),
        chi1.reshape(shape),
        chi_c.reshape(shape),
        xi_q.reshape(shape),
        xi_c.reshape(shape),
        code.reshape(shape),
        _critical_from_tables(act, tab, b),
    )


def _solve_c_arccos(a: float, w2, b2, q):  # type: ignore[no-untyped-def]
    """c* and χ_c for the leaky-ReLU family (closed-form kernel), by bisection + Newton."""
    lo = np.zeros_like(q)
    hi = np.ones_like(q) - 1e-16

    def g(c):  # type: ignore[no-untyped-def]
        k, kd = kernels._arccos_kernel(a, c)
        return (w2 * q * k + b2) / q - c, w2 * kd

    x = 0.5 * (lo + hi)
    for _ in range(60):
        gx, _ = g(x)
        lo, hi = np.where(gx > 0, x, lo), np.where(gx > 0, hi, x)
        x = 0.5 * (lo + hi)
    return x, g(x)[1]


def _critical_from_tables(act: Activation, tab: _Tables, b: np.ndarray) -> np.ndarray:
    """σ_w² on the critical line at each σ_b², from the tabulated moments (vectorized)."""
    if kernels.leaky_slope(act) is not None:
        return np.where(b == 0, 1.0 / tab.D[0], np.nan)
    bq = tab.q - tab.M / tab.D
    out = np.full(b.shape, np.nan)
    if abs(bq[0]) < 1e-6:
        out[b == 0] = 1.0 / float(act.derivative_second_moment(1e-200))
    todo = np.flatnonzero(np.isnan(out))
    d = bq[None, :] - b[todo, None]
    cross = (np.sign(d[:, :-1]) * np.sign(d[:, 1:])) <= 0
    has = cross.any(axis=1)
    todo, j = todo[has], np.argmax(cross[has], axis=1)
    lo, hi = tab.s[j], tab.s[j + 1]
    s_lo = np.sign(d[has, j])
    for _ in range(50):
        mid = 0.5 * (lo + hi)
        fm = np.exp(mid) - tab.m_spl(mid) / tab.d_spl(mid) - b[todo]
        same = np.sign(fm) == s_lo
        lo, hi = np.where(same, mid, lo), np.where(same, hi, mid)
    out[todo] = 1.0 / tab.d_spl(0.5 * (lo + hi))
    return out


__all__ = ["PHASE_CODES", "PhaseDiagram", "phase_diagram"]
