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
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.interpolate import CubicSpline

from initlab.core.activations import Activation
from initlab.errors import InitError
from initlab.theory import kernels
from initlab.theory.meanfield import CRITICAL_TOL, ActivationLike, _activation, check_variance
from initlab.theory.mehler import _ORDER as _SERIES_ORDER
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
        self.act = act
        # False: not built yet; None: unusable (M ≤ 0 or not finite somewhere)
        self._far: tuple[CubicSpline, CubicSpline] | bool | None = False

    def far_M(self, q: float) -> float:
        """M(q) for q outside the table (1e-300 ≤ q ≤ 1e300): a spline of ln M in ln q on a
        second, coarser table (step 0.5, built on first use; ln M is smooth out there: M is
        a power of q up to a correction decaying like a power of q), else by quadrature."""
        if self._far is False:
            s_far = np.concatenate([np.arange(math.log(1e-300), self.s[0] + 1.0, 0.5),
                                    np.arange(self.s[-1] - 1.0, math.log(1e300), 0.5)])
            m = np.atleast_1d(self.act.second_moment(np.exp(s_far)))
            ok = bool(np.all(np.isfinite(m) & (m > 0)))
            lo = s_far <= self.s[0] + 1.0
            self._far = (CubicSpline(s_far[lo], np.log(m[lo])),
                         CubicSpline(s_far[~lo], np.log(m[~lo]))) if ok else None
        if self._far is None or not 1e-300 <= q <= 1e300:
            return float(self.act.second_moment(q))
        spl = self._far[0] if q < self.q[0] else self._far[1]
        return math.exp(float(spl(math.log(q))))

    def M_at(self, q: np.ndarray) -> np.ndarray:
        return self.m_spl(np.log(q))

    def D_at(self, q: np.ndarray) -> np.ndarray:
        return self.d_spl(np.log(np.maximum(q, self.q[0])))

    def Mp_at(self, q: np.ndarray) -> np.ndarray:
        return self.mp_spl(np.log(np.maximum(q, self.q[0])))


#: tables kept by :func:`_tables` (each ~40 kB; building one costs 5–110 ms of quadrature)
TABLE_CACHE_SIZE = 32
_TABLE_CACHE: OrderedDict[tuple[Any, ...], _Tables] = OrderedDict()
_TABLE_LOCK = threading.Lock()


def _table_key(act: Activation, q0: float) -> tuple[Any, ...] | None:
    """What identifies an activation's tables: its registry name, parameters and the code of its
    φ (None for ``custom:`` callables, which are never cached: two may share a name)."""
    if act.name.startswith("custom"):
        return None
    try:
        params = tuple(sorted((str(k), repr(v)) for k, v in dict(act.params).items()))
    except Exception:  # pragma: no cover - params are plain values in the registry
        return None
    code = getattr(act.fn, "__code__", None)
    return (act.name, params, act.kinks, id(code) if code is not None else id(act.fn), q0)


def _tables(act: Activation, q0: float) -> _Tables:
    """The activation's tables, built once per (activation, q0) and kept in an LRU of
    :data:`TABLE_CACHE_SIZE` (a phase diagram or a point on it then costs only the grid)."""
    key = _table_key(act, q0)
    if key is None:
        return _Tables(act, q0)
    with _TABLE_LOCK:
        tab = _TABLE_CACHE.get(key)
        if tab is not None:
            _TABLE_CACHE.move_to_end(key)
            return tab
    tab = _Tables(act, q0)  # outside the lock: two threads may build it, both get a table
    with _TABLE_LOCK:
        _TABLE_CACHE[key] = tab
        while len(_TABLE_CACHE) > TABLE_CACHE_SIZE:
            _TABLE_CACHE.popitem(last=False)
    return tab


def warm_tables(activation: ActivationLike, q0: float = 1.0) -> None:
    """Build and cache the activation's tables (both ranges) now, so that the next
    :func:`phase_diagram`, :func:`length_chain` or :func:`series_trajectory` on it skips them.

    Examples:
        >>> warm_tables("tanh")
    """
    tab = _tables(_activation(activation, "warm_tables"), float(q0))
    tab.far_M(1e5)


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
    correlation: bool = True,
) -> PhaseDiagram:
    """χ₁, q*, c*, χ_c, ξ_q, ξ_c and the phase at every (σ_b², σ_w²) of a grid.

    Args:
        activation: name, callable or Activation (elementwise).
        sigma_w2: weight variances (default 200 points in [0.5, 4], as in Schoenholz et al.).
        sigma_b2: bias variances (default 200 points in [0, 0.3]).
        q0: input variance the length map starts from.
        correlation: solve for c* at chaotic points (False: ``c_star``, ``chi_c`` and ``xi_c``
            are NaN there — a map of χ₁ and the phases only, 2–10× faster for some φ).

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
    tab = _tables(act, float(q0))
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
    if not correlation:
        c[chaotic] = np.nan
        chi_c[chaotic] = np.nan
    elif chaotic.size:
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


# ---------------------------------------------------------------- the depth profile, fast ---
#: a negative c uses the series without its tail where the tail's bound T₀|c|^(order+1) is below
#: this fraction of M(q); otherwise the 2-D quadrature (the tail is fitted for c ≥ 0 only)
_NEG_TAIL_RTOL = 1e-13


def _moments_at(act: Activation, tab: _Tables, q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """M(q), D(q) from the tables' splines inside their range, by quadrature outside."""
    m, d = np.empty_like(q), np.empty_like(q)
    inside = (q >= tab.q[0]) & (q <= tab.q[-1])
    m[inside] = tab.m_spl(np.log(q[inside]))
    d[inside] = tab.d_spl(np.log(q[inside]))
    out = np.flatnonzero(~inside)
    if out.size:
        m[out] = np.atleast_1d(act.second_moment(q[out]))
        d[out] = np.atleast_1d(act.derivative_second_moment(np.maximum(q[out], 1e-200)))
    return m, d


def length_chain(
    activation: ActivationLike, sigma_w2: float, sigma_b2: float, depth: int, *, q0: float = 1.0
) -> np.ndarray:
    """q^l = σ_w² M(q^{l−1}) + σ_b² for l = 0..depth (M from the cached tables; relative error
    ~1e-9), also where the length map has no fixed point (q^l then grows to ∞).

    Examples:
        >>> [round(float(q), 4) for q in length_chain("relu", 3.0, 0.0, 3)]
        [1.0, 1.5, 2.25, 3.375]
    """
    act = _activation(activation, "length_chain")
    w2 = check_variance("sigma_w2", sigma_w2, "length_chain")
    b2 = check_variance("sigma_b2", sigma_b2, "length_chain")
    q0 = check_variance("q0", q0, "length_chain")
    if isinstance(depth, bool) or not isinstance(depth, int | np.integer) or depth < 0:
        raise InitError(f"length_chain: depth must be an integer ≥ 0, got {depth!r}")
    tab = _tables(act, 1.0)
    a = kernels.leaky_slope(act)
    qs = np.empty(depth + 1)
    qs[0] = q0
    for layer in range(depth):
        q = qs[layer]
        if not math.isfinite(q):
            m = q
        elif a is not None:
            m = q * (1.0 + a * a) / 2.0  # the ReLU family: exact
        elif q == 0.0:
            m = tab.m0
        elif tab.q[0] <= q <= tab.q[-1]:
            m = float(tab.m_spl(math.log(q)))
        else:
            m = tab.far_M(q)
        qs[layer + 1] = w2 * m + b2 if math.isfinite(m) else math.inf
    return qs


def series_trajectory(
    activation: ActivationLike,
    sigma_w2: float,
    sigma_b2: float,
    depth: int,
    *,
    q0: float = 1.0,
    c0: float = 0.5,
) -> tuple[np.ndarray, np.ndarray]:
    """Theory q^l, c^l for l = 0..depth, as :meth:`MeanField.trajectory`, in milliseconds.

    The same recursions (q^l = σ_w² M(q^{l−1}) + σ_b², c^l = (σ_w² E[φ(u₁)φ(u₂)] + σ_b²)/q^l)
    with M from the activation's cached tables (cubic splines in ln q, relative error ~1e-10)
    and E[φ(u₁)φ(u₂)] from Mehler's series (:mod:`initlab.theory.mehler`), whose weights at
    every layer's q^{l−1} are one vectorized Hermite transform; the ReLU family uses its closed
    form. A negative c uses the series without its tail when the tail is provably negligible
    (|tail| ≤ T₀|c|¹²¹), else the 2-D quadrature. Agreement with
    :meth:`MeanField.trajectory` (measured on tanh, erf, GELU, ELU, SELU, SiLU, ReLU over the
    explorer's range, depths ≤ 200): ≤ 1e-8 in q^l/q and c^l.

    Raises:
        InitError: a variance out of range, depth < 0, c0 outside [−1, 1], a gated unit.

    Examples:
        >>> q, c = series_trajectory("tanh", 2.5, 0.05, depth=3)  # c^l → c* = 0.4468
        >>> [round(float(x), 6) for x in c]
        [0.5, 0.498014, 0.49499, 0.491669]
    """
    where = "series_trajectory"
    act = _activation(activation, where)
    w2 = check_variance("sigma_w2", sigma_w2, where)
    b2 = check_variance("sigma_b2", sigma_b2, where)
    q_in = check_variance("q0", q0, where)
    if isinstance(depth, bool) or not isinstance(depth, int | np.integer) or depth < 0:
        raise InitError(f"{where}: depth must be an integer ≥ 0, got {depth!r}")
    if not -1.0 <= c0 <= 1.0:
        raise InitError(f"{where}: c0 must be a correlation in [-1, 1], got {c0!r}")
    tab = _tables(act, 1.0)
    qs = length_chain(act, w2, b2, depth, q0=q_in)
    cs = np.full(depth + 1, np.nan)
    cs[0] = float(c0)
    if depth == 0:
        return qs, cs
    prev = qs[:-1]
    use = np.flatnonzero(np.isfinite(prev) & (prev > 0))
    a_slope = kernels.leaky_slope(act)
    wts = t0 = p = m = None
    row = np.full(depth, -1)
    if a_slope is None and use.size:
        m, d = _moments_at(act, tab, prev[use])
        wts, t0, p = series_weights(act, prev[use], m, d)
        keep = np.flatnonzero(wts.max(axis=0) > 1e-18 * max(float(m.max()), 1e-300))
        wts = wts[:, : (keep[-1] + 1 if keep.size else 1)]
        row[use] = np.arange(use.size)
    order = np.arange(wts.shape[1]) if wts is not None else None
    for layer in range(depth):
        q, qn, c = prev[layer], qs[layer + 1], cs[layer]
        if not math.isfinite(qn) or qn == 0.0:
            cs[layer + 1] = 1.0 if qn == 0.0 else math.nan
            continue
        if not math.isfinite(c):
            continue
        if a_slope is not None:
            k = q * float(kernels._arccos_kernel(a_slope, np.float64(c))[0])
        elif q == 0.0 or not math.isfinite(q):
            k = float(kernels.correlation_kernel(act, q, c)) if q == 0.0 else math.nan
        else:
            j = row[layer]
            tail_bound = t0[j] * abs(c) ** (_SERIES_ORDER + 1)  # type: ignore[index]
            if c >= 0.0:
                k = float(wts[j] @ c**order) + float(t0[j] * c ** p[j])  # type: ignore[index,operator]
            elif tail_bound <= _NEG_TAIL_RTOL * m[j]:  # type: ignore[index]
                k = float(wts[j] @ c**order)  # type: ignore[index,operator]
            else:
                k = float(kernels.correlation_kernel(act, q, c))
        cs[layer + 1] = min(1.0, max(-1.0, (w2 * k + b2) / qn))
    return qs, cs


__all__ = ["PHASE_CODES", "PhaseDiagram", "length_chain", "phase_diagram", "series_trajectory",
           "warm_tables"]
