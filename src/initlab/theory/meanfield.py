"""Mean-field signal propagation through a deep random network (Poole et al. 2016; Schoenholz
et al. 2017).

Convention: h^l = W^l φ(h^{l−1}) + b^l, W_ij ~ N(0, σ_w²/N), b_i ~ N(0, σ_b²). At infinite width
the pre-activation variance q^l and the correlation c^l of two inputs obey

* the length map        q^l = σ_w² E[φ(√q^{l−1} z)²] + σ_b²,
* the correlation map   c^l = (σ_w² E[φ(u₁)φ(u₂)] + σ_b²) / q^l,
  with u₁, u₂ ~ N(0, q^{l−1}) of correlation c^{l−1}.

Their fixed points q*, c* and the slopes there set everything: χ₁ = σ_w² E[φ'(√q* z)²] (ordered
χ₁ < 1, chaotic χ₁ > 1, critical χ₁ = 1), χ_c = σ_w² E[φ'(u₁)φ'(u₂)] at c*, and the depth scales
ξ_q = −1/ln(σ_w² E[φ'² + φφ''] at q*) and ξ_c = −1/ln χ_c (Schoenholz et al. 2017, eqs. 4–9).

Examples:
    >>> mf = MeanField("tanh", sigma_w2=2.5, sigma_b2=0.05)
    >>> round(mf.q_star, 6), round(mf.chi1, 6), mf.phase
    (1.063958, 1.133516, 'chaotic')
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from scipy import optimize

from initlab.core.activations import Activation, get_activation
from initlab.errors import InitError
from initlab.theory import kernels, mehler

Phase = Literal["ordered", "chaotic", "critical"]
ActivationLike = str | Activation | Callable[..., Any]

# |χ₁ − 1| below this counts as critical (the Xiao et al. 2018 demo point has χ₁ − 1 = 2e-7).
CRITICAL_TOL = 1e-5
# q* beyond this is reported as "no fixed point" (the length map runs off to infinity).
Q_MAX = 1e8
_Q_MIN = 1e-14
_Q_LIMIT = 1e-200  # stands for q → 0+ in slopes at q* = 0


def check_variance(name: str, value: float, where: str) -> float:
    """``value`` as a float if it is a finite variance ≥ 0, else an :class:`InitError`."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise InitError(f"{where}: {name} must be a number, got {value!r}") from None
    if not math.isfinite(v) or v < 0:
        raise InitError(
            f"{where}: {name} must be a finite variance ≥ 0, got {value!r}; "
            f"pass e.g. {name}=1.0 (it is a variance, not a standard deviation)"
        )
    return v


def _activation(activation: ActivationLike, where: str) -> Activation:
    act = get_activation(activation)
    if act.glu:
        raise InitError(
            f"{where}: {act.name!r} is a gated unit of two inputs; mean-field maps are defined for "
            f"elementwise activations: pass its gate ({act.params.get('gate')!r}) instead"
        )
    return act


def no_fixed_point_message(act: Activation, sigma_w2: float, sigma_b2: float, where: str) -> str:
    """Why a smooth activation's length map has no fixed point (it grows past ``Q_MAX``)."""
    return (
        f"{where}: {act.name} at sigma_w2={sigma_w2:g}, sigma_b2={sigma_b2:g} has no "
        f"fixed point q* below {Q_MAX:g}: the length map diverges; lower sigma_w2"
    )


def solve_q_star(
    act: Activation, sigma_w2: float, sigma_b2: float, q0: float = 1.0, where: str = "MeanField"
) -> float:
    """The fixed point of the length map that iterating from q⁰ = ``q0`` reaches.

    The length map q ↦ σ_w² M(q) + σ_b² is increasing, so iterates move monotonically from q0
    to the nearest root of g(q) = σ_w² M(q) + σ_b² − q in the direction of g(q0)'s sign: we step
    geometrically in that direction to bracket it and refine with Brent's method. Works at
    σ_b = 0 (q* = 0 in the ordered phase) and for the ReLU family (closed form).

    Raises:
        InitError: the length map diverges (no fixed point below 1e8).
    """
    a = kernels.leaky_slope(act)
    if a is not None:
        slope = sigma_w2 * (1.0 + a * a) / 2.0
        if abs(slope - 1.0) < 1e-12:
            if sigma_b2 == 0.0:
                return float(q0)  # q' = q: every q is a fixed point; the input's stays
            slope = 1.0
        if slope < 1.0:
            return sigma_b2 / (1.0 - slope)
        raise InitError(
            f"{where}: {act.name} at sigma_w2={sigma_w2:g}, sigma_b2={sigma_b2:g} has no fixed "
            f"point: q grows by σ_w²(1+a²)/2 = {slope:g} per layer; use sigma_w2 < "
            f"{2.0 / (1.0 + a * a):g}"
        )

    def g(q: float) -> float:
        return sigma_w2 * float(act.second_moment(q)) + sigma_b2 - q

    q0 = float(q0)
    g0 = g(q0)
    scale = 1e-13 * max(q0, 1e-300)
    if abs(g0) <= scale:
        return q0
    ratio = 1.5
    if g0 > 0:
        lo = q0
        while True:
            hi = lo * ratio
            g_hi = g(hi) if hi <= Q_MAX else math.nan
            if not math.isfinite(g_hi):
                raise InitError(no_fixed_point_message(act, sigma_w2, sigma_b2, where))
            if g_hi <= 0:
                break
            lo = hi
    else:
        hi = q0
        while True:
            lo = hi / ratio
            if lo < _Q_MIN:
                if g(0.0) > 0:
                    lo = 0.0
                    break
                return 0.0  # signals die out: q* = 0 (σ_b = 0, ordered or critical)
            if g(lo) >= 0:
                break
            hi = lo
    return float(optimize.brentq(g, lo, hi, xtol=1e-16, rtol=1e-15, maxiter=500))


def _correlation_map(act: Activation, sw2: float, sb2: float, q: float, c: np.ndarray) -> Any:
    return (sw2 * np.asarray(kernels.correlation_kernel(act, q, c)) + sb2) / (
        sw2 * float(act.second_moment(q)) + sb2
    )


def solve_c_star(
    act: Activation, sigma_w2: float, sigma_b2: float, q_star: float, chi1: float
) -> float:
    """The stable fixed point of the correlation map at q*.

    Ordered and critical phases (χ₁ ≤ 1): c* = 1. Chaotic phase: c = 1 is unstable; the map
    sends [0, 1] into itself (map(0) ≥ 0) and is increasing there, so c* is its first root from
    0. It is located with Mehler's series (:mod:`initlab.theory.mehler`) and polished by Newton
    steps on the exact 2-D quadrature; c* = 0 exactly when map(0) = 0 (σ_b = 0 and E[φ] = 0,
    e.g. any odd φ). Falls back on a grid scan and Brent's method if the polish fails.
    """
    if q_star == 0.0 or chi1 <= 1.0 + CRITICAL_TOL:
        return 1.0
    if kernels.leaky_slope(act) is None and math.isfinite(q_star):
        c = _polished_root(act, sigma_w2, sigma_b2, q_star, chi1)
        if c is not None:
            return c
    return _scanned_root(act, sigma_w2, sigma_b2, q_star)


def _polished_root(act: Activation, sw2: float, sb2: float, q: float, chi1: float) -> float | None:
    qa = np.array([q])
    m = np.array([float(act.second_moment(q))])
    denom = sw2 * m[0] + sb2
    if sb2 == 0.0:  # map(0) = σ_w² E[φ]²/q*: zero when E[φ(√q* z)] = 0 (odd φ; SELU at q* = 1)
        mean0 = float(kernels.mean(act, q))
        if sw2 * mean0 * mean0 <= 1e-14 * denom:
            return 0.0
    d = np.array([chi1 / sw2])
    w, t0, p = mehler.series_weights(act, qa, m, d)
    c_arr, _ = mehler.solve_c_series(np.array([sw2]), np.array([sb2]), qa, w, t0, p)
    c = float(c_arr[0])
    if c == 0.0:
        return None
    for _ in range(8):
        g = (sw2 * float(kernels.correlation_kernel(act, q, c)) + sb2) / denom - c
        dg = sw2 * float(kernels.derivative_kernel(act, q, c)) * q / denom - 1.0
        if not (math.isfinite(g) and dg < 0):
            return None
        step = g / dg
        c_new = c - step
        if not 0.0 <= c_new < 1.0:
            return None
        c = c_new
        if abs(step) <= 1e-13:
            return c
    return None


def _scanned_root(act: Activation, sigma_w2: float, sigma_b2: float, q_star: float) -> float:
    # 0 … 0.9 in steps of 0.1 (an exact 0), then 1 − 1e-2 … 1 − 1e-10
    grid = np.concatenate([np.arange(0, 10) / 10.0, 1.0 - np.logspace(-2, -10, 9)])
    gval = np.asarray(_correlation_map(act, sigma_w2, sigma_b2, q_star, grid)) - grid
    if abs(gval[0]) <= 1e-14:
        return 0.0
    for i in range(1, len(grid)):
        if gval[i - 1] > 0 >= gval[i]:

            def h(c: float) -> float:
                return float(_correlation_map(act, sigma_w2, sigma_b2, q_star, np.float64(c))) - c

            return float(optimize.brentq(h, grid[i - 1], grid[i], xtol=1e-15, rtol=1e-15))
    return 1.0


@dataclass(frozen=True)
class MeanField:
    """Mean-field fixed points, slopes and depth scales of a deep random network.

    Build it with the activation and the weight/bias variances; everything else is computed.

    Attributes:
        activation: the activation (a name, a callable or an ``Activation``).
        sigma_w2: weight variance σ_w² (W_ij ~ N(0, σ_w²/N)).
        sigma_b2: bias variance σ_b².
        q0: input pre-activation variance that the length map starts from (only matters where the
            length map has several fixed points, e.g. ReLU at (2, 0) where every q is fixed).
        q_star, c_star: fixed points of the length and correlation maps (Poole et al. 2016).
        chi1: σ_w² E[φ'(√q* z)²], the mean squared singular value of a layer's Jacobian.
        chi_c: σ_w² E[φ'(u₁)φ'(u₂)] at c* (= χ₁ when c* = 1).
        xi_q, xi_c: depth scales −1/ln(slope) of q and c (Schoenholz et al. 2017, eqs. 5, 9);
            ``inf`` at criticality. ``xi_q`` is ``nan`` where q* repels (``q_stable`` False):
            deviations from q* then grow, there is no decay length (``None`` in JSON).
        length_slope: the length map's slope at q*, σ_w² d/dq E[φ(√q z)²] = χ₁ + σ_w² E[φφ'']
            (the ξ_q bracket; computed as σ_w² E[x φ(x) φ'(x)]/q*, also valid across kinks).
        q_stable: whether q* attracts nearby variances: slope < 1, or slope = 1 and the map does
            not push away (tanh at σ_b = 0, q* = 0; ReLU at σ_w² = 2 where every q is fixed).
            False e.g. for GELU on the critical line at q* = 1 (slope ≈ 1.07).
        phase: ``'ordered'`` (χ₁ < 1), ``'chaotic'`` (χ₁ > 1) or ``'critical'`` (|χ₁ − 1| ≤ 1e-5).

    Raises:
        InitError: a negative or non-finite variance, an unknown activation, a gated unit, or a
            length map without a fixed point (it diverges).

    Examples:
        >>> mf = MeanField("tanh", sigma_w2=2.0, sigma_b2=0.0)
        >>> round(mf.q_star, 6), mf.c_star
        (0.617965, 0.0)
        >>> MeanField("relu", 2.0, 0.0).phase
        'critical'
    """

    activation: ActivationLike
    sigma_w2: float
    sigma_b2: float = 0.0
    q0: float = 1.0
    act: Activation = field(init=False, repr=False, compare=False)
    q_star: float = field(init=False)
    c_star: float = field(init=False)
    chi1: float = field(init=False)
    chi_c: float = field(init=False)
    xi_q: float = field(init=False)
    xi_c: float = field(init=False)
    phase: Phase = field(init=False)
    length_slope: float = field(init=False)
    q_stable: bool = field(init=False)

    def __post_init__(self) -> None:
        sw2 = check_variance("sigma_w2", self.sigma_w2, "MeanField")
        sb2 = check_variance("sigma_b2", self.sigma_b2, "MeanField")
        q0 = check_variance("q0", self.q0, "MeanField")
        act = _activation(self.activation, "MeanField")
        q = solve_q_star(act, sw2, sb2, q0)
        qe = q if q > 0 else _Q_LIMIT  # at q* = 0 slopes are limits q → 0+ (φ' may jump at 0)
        chi1 = sw2 * float(act.derivative_second_moment(qe))
        c = float(solve_c_star(act, sw2, sb2, q, chi1))
        chi_c = chi1 if c == 1.0 else sw2 * float(kernels.derivative_kernel(act, q, c))
        slope_q = sw2 * float(kernels.second_moment_slope(act, qe))
        q_stable = _attracts(act, sw2, sb2, q, slope_q)
        if abs(chi1 - 1.0) <= CRITICAL_TOL:
            phase: Phase = "critical"
        else:
            phase = "ordered" if chi1 < 1.0 else "chaotic"
        for k, v in dict(
            sigma_w2=sw2,
            sigma_b2=sb2,
            q0=q0,
            act=act,
            q_star=q,
            c_star=c,
            chi1=chi1,
            chi_c=chi_c,
            xi_q=depth_scale(slope_q) if q_stable else math.nan,
            xi_c=depth_scale(chi_c),
            phase=phase,
            length_slope=slope_q,
            q_stable=q_stable,
        ).items():
            object.__setattr__(self, k, v)

    # ------------------------------------------------------------------------------- maps ---
    def length_map(self, q: float | np.ndarray) -> float | np.ndarray:
        """q ↦ σ_w² E[φ(√q z)²] + σ_b² (vectorized)."""
        out = self.sigma_w2 * np.asarray(self.act.second_moment(q)) + self.sigma_b2
        return float(out) if np.ndim(out) == 0 else out

    def correlation_map(self, c: float | np.ndarray, q: float | None = None) -> float | np.ndarray:
        """c ↦ (σ_w² E[φ(u₁)φ(u₂)] + σ_b²) / (σ_w² E[φ(u₁)²] + σ_b²), u ~ N(0, q), q = q* by
        default (vectorized over c)."""
        qq = self.q_star if q is None else check_variance("q", q, "correlation_map")
        c_arr = np.asarray(c, dtype=np.float64)
        if np.any(np.abs(c_arr) > 1):
            raise InitError(f"correlation_map: c must be in [-1, 1], got {c!r}")
        out = _correlation_map(self.act, self.sigma_w2, self.sigma_b2, qq, c_arr)
        return float(out) if np.ndim(out) == 0 else out

    def trajectory(
        self, depth: int, q0: float | None = None, c0: float = 0.5
    ) -> tuple[np.ndarray, np.ndarray]:
        """Theory q^l and c^l for l = 0..depth, for two inputs of variance ``q0`` and correlation
        ``c0``: q^l = length_map(q^{l−1}), q₁₂^l = σ_w² E[φ(u₁)φ(u₂)] + σ_b².

        Examples:
            >>> q, c = MeanField("relu", 2.0).trajectory(2, q0=1.0, c0=0.0)
            >>> round(float(c[1]), 6)  # 1/π
            0.31831
        """
        if depth < 0:
            raise InitError(f"trajectory: depth must be ≥ 0, got {depth}")
        q = check_variance("q0", self.q0 if q0 is None else q0, "trajectory")
        if not -1.0 <= c0 <= 1.0:
            raise InitError(f"trajectory: c0 must be a correlation in [-1, 1], got {c0}")
        qs, cs = [q], [float(c0)]
        for _ in range(depth):
            cur_q, cur_c = qs[-1], cs[-1]
            q_next = float(self.length_map(cur_q))
            if not math.isfinite(q_next) or q_next == 0.0:
                c_next = 1.0 if q_next == 0.0 else float("nan")
            else:
                k12 = float(kernels.correlation_kernel(self.act, cur_q, cur_c))
                c_next = float(np.clip((self.sigma_w2 * k12 + self.sigma_b2) / q_next, -1, 1))
            qs.append(q_next)
            cs.append(c_next)
        return np.array(qs), np.array(cs)

    # ------------------------------------------------------------------------ results ---
    @property
    def trainable_depth(self) -> float:
        """6 ξ_c: the depth beyond which Schoenholz et al. (2017, Fig. 5) find nets untrainable."""
        return 6.0 * self.xi_c

    def to_dict(self) -> dict[str, Any]:
        return {
            "activation": self.act.name,
            "params": dict(self.act.params),
            "sigma_w2": self.sigma_w2,
            "sigma_b2": self.sigma_b2,
            "q0": self.q0,
            "q_star": self.q_star,
            "c_star": self.c_star,
            "chi1": self.chi1,
            "chi_c": self.chi_c,
            "length_slope": self.length_slope,
            "q_stable": self.q_stable,
            "xi_q": _finite_or_none(self.xi_q),
            "xi_c": _finite_or_none(self.xi_c),
            "trainable_depth": _finite_or_none(self.trainable_depth),
            "phase": self.phase,
        }

    def to_json(self, **kw: Any) -> str:
        return json.dumps(self.to_dict(), **kw)


def _attracts(act: Activation, sw2: float, sb2: float, q: float, slope: float) -> bool:
    """Whether the length map's fixed point q* attracts: slope < 1, or slope = 1 (to rounding)
    and the next order does not push q away (checked at q* ± 1e-4…1e-2 relative, or at
    q = 1e-4…1e-2 when q* = 0)."""
    if not math.isfinite(slope) or slope > 1.0 + 1e-9:
        return False
    if slope < 1.0 - 1e-9:
        return True

    def f(x: np.ndarray) -> np.ndarray:
        return sw2 * np.asarray(act.second_moment(x), dtype=np.float64) + sb2

    d = np.array([1e-4, 1e-3, 1e-2])
    if q == 0.0:
        return bool(np.all(f(d) <= d * (1.0 + 1e-7)))
    up, down = q * (1.0 + d), q * (1.0 - d)
    return bool(np.all(f(up) <= up * (1.0 + 1e-10)) and np.all(f(down) >= down * (1.0 - 1e-10)))


def depth_scale(slope: float) -> float:
    """ξ = −1/ln|slope|: the number of layers over which a deviation shrinks by e (∞ at 1)."""
    s = abs(float(slope))
    if abs(s - 1.0) <= 1e-12 or not math.isfinite(s):  # 1 up to rounding: no decay
        return math.inf
    if s == 0.0:
        return 0.0
    return -1.0 / math.log(s) if s < 1.0 else math.inf


def _finite_or_none(x: float) -> float | None:
    return x if math.isfinite(x) else None


__all__ = ["CRITICAL_TOL", "MeanField", "Phase", "depth_scale", "solve_c_star", "solve_q_star"]
