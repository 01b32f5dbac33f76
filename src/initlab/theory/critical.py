"""The edge of chaos: the critical line χ₁ = 1 and critical initializations.

On the critical line the fixed point q* parametrizes everything (Xiao et al. 2018, sec. 2.2):

    σ_w²(q) = 1 / E[φ'(√q z)²],     σ_b²(q) = q − σ_w²(q) E[φ(√q z)²],

because q = σ_w² E[φ(√q z)²] + σ_b² is the fixed-point condition and χ₁ = σ_w² E[φ'²] = 1 the
criticality condition. :func:`critical_line` evaluates it for an array of q* or inverts it for an
array of σ_b² (vectorized false position on the exact quadrature).

Examples:
    >>> round(critical_sigma_w2("tanh", sigma_b2=0.05), 6)
    1.760955
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from scipy import optimize

from initlab.core.activations import Activation, get_activation
from initlab.core.gains import register_gain_kind
from initlab.errors import InitError
from initlab.theory import kernels
from initlab.theory.meanfield import (
    ActivationLike,
    MeanField,
    _activation,
    _attracts,
    check_variance,
    solve_q_star,
)

_Q_GRID = np.concatenate([[0.0], np.logspace(-10, 3, 400)])
# The default point for activations whose σ_b = 0 point repels: the smallest q* ≥ 1 on the
# critical line whose length-map slope is ≤ STABLE_SLOPE, i.e. ξ_q ≤ −1/ln 0.99 ≈ 100 layers.
# A bare "slope < 1" has no smallest q* (the slope crosses 1 continuously) and points just
# past the crossing attract over thousands of layers, i.e. not in practice.
STABLE_SLOPE = 0.99
_STABLE_Q_GRID = np.logspace(0.0, 3.0, 241)  # q* from 1 to 1000


def _line_b(act: Activation, q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(σ_w²(q), σ_b²(q)) on the critical line."""
    q = np.asarray(q, dtype=np.float64)
    d = np.asarray(act.derivative_second_moment(q), dtype=np.float64)
    m = np.asarray(act.second_moment(q), dtype=np.float64)
    if 0.0 not in act.kinks:  # at q = 0 the moments are φ'(0)², φ(0)² exactly
        at0 = np.zeros(1)
        d = np.where(q == 0, float(act.d1(at0)[0]) ** 2, d)
        m = np.where(q == 0, float(act.fn(at0)[0]) ** 2, m)
    with np.errstate(divide="ignore", invalid="ignore"):
        w2 = 1.0 / d
        b2 = q - w2 * m
    return w2, b2


@dataclass(frozen=True)
class CriticalLine:
    """Points (σ_b², σ_w²) with χ₁ = 1 and their fixed points q* (NaN where none exists).

    Examples:
        >>> line = critical_line("tanh", sigma_b2=[0.0, 0.05])
        >>> [round(float(v), 6) for v in line.sigma_w2]
        [1.0, 1.760955]
    """

    activation: str
    sigma_b2: np.ndarray
    sigma_w2: np.ndarray
    q_star: np.ndarray

    def to_dict(self) -> dict[str, Any]:
        def lst(a: np.ndarray) -> list[float | None]:
            return [float(v) if math.isfinite(v) else None for v in np.asarray(a).ravel()]

        return {
            "activation": self.activation,
            "sigma_b2": lst(self.sigma_b2),
            "sigma_w2": lst(self.sigma_w2),
            "q_star": lst(self.q_star),
        }

    def to_json(self, **kw: Any) -> str:
        return json.dumps(self.to_dict(), **kw)


def critical_line(
    activation: ActivationLike,
    sigma_b2: float | np.ndarray | list[float] | None = None,
    *,
    q_star: float | np.ndarray | list[float] | None = None,
) -> CriticalLine:
    """The critical line χ₁ = 1, by bias variance or by fixed point.

    Args:
        activation: name, callable or Activation.
        sigma_b2: bias variances; for each, the smallest q* ≥ 0 with σ_b²(q*) = σ_b² is found
            (bracketed on a log grid of q, refined by vectorized Illinois false position).
        q_star: alternatively, fixed points q* at which to evaluate the parametrization
            directly (Xiao et al. 2018). Exactly one of the two.

    Returns:
        :class:`CriticalLine` (NaN where no critical point exists, e.g. ReLU with σ_b² > 0).

    Examples:
        >>> line = critical_line("tanh", q_star=[1.0])  # unit pre-activation variance
        >>> round(float(line.sigma_w2[0]), 5), round(float(line.sigma_b2[0]), 5)
        (2.1533, 0.15096)
    """
    act = _activation(activation, "critical_line")
    if (sigma_b2 is None) == (q_star is None):
        raise InitError("critical_line: pass exactly one of sigma_b2= or q_star=")
    if q_star is not None:
        q = np.asarray(q_star, dtype=np.float64)
        if np.any(~np.isfinite(q)) or np.any(q < 0):
            raise InitError(f"critical_line: q_star must be finite and ≥ 0, got {q_star!r}")
        w2, b2 = _line_b(act, q)
        return CriticalLine(act.name, b2, w2, q)
    b = np.asarray(sigma_b2, dtype=np.float64)
    if np.any(~np.isfinite(b)) or np.any(b < 0):
        raise InitError(f"critical_line: sigma_b2 must be finite variances ≥ 0, got {sigma_b2!r}")
    shape = b.shape
    b = b.ravel()
    q_out = np.full(b.shape, np.nan)
    w2_grid, b2_grid = _line_b(act, _Q_GRID)
    # q → 0: σ_b²(q) → 0 for φ with φ(0) = 0; that limit is a critical point (σ_w² = 1/φ'(0)²).
    zero_ok = abs(b2_grid[1]) < 1e-6 and math.isfinite(w2_grid[0]) and w2_grid[0] > 0
    q_out[(b == 0) & zero_ok] = 0.0
    if kernels.leaky_slope(act) is not None:
        q_out[b == 0] = 0.0
        w2 = np.where(np.isfinite(q_out), w2_grid[0], np.nan)
        return CriticalLine(act.name, b.reshape(shape), w2.reshape(shape), q_out.reshape(shape))
    todo = np.isnan(q_out)
    diff = b2_grid[None, :] - b[todo, None]
    ok = np.isfinite(diff)
    cross = ok[:, :-1] & ok[:, 1:] & (np.sign(diff[:, :-1]) * np.sign(diff[:, 1:]) <= 0)
    cross &= ~((diff[:, :-1] == 0) & (diff[:, 1:] == 0))
    has = cross.any(axis=1)
    first = np.argmax(cross, axis=1)
    idx = np.flatnonzero(todo)[has]
    target = b[idx]
    q_out[idx] = _illinois(
        act,
        target,
        _Q_GRID[first[has]],
        _Q_GRID[first[has] + 1],
        b2_grid[first[has]] - target,
        b2_grid[first[has] + 1] - target,
    )
    w2 = np.full(b.shape, np.nan)
    good = np.isfinite(q_out)
    w2[good] = _line_b(act, q_out[good])[0]
    return CriticalLine(act.name, b.reshape(shape), w2.reshape(shape), q_out.reshape(shape))


def _illinois(
    act: Activation,
    target: np.ndarray,
    a: np.ndarray,
    b: np.ndarray,
    fa: np.ndarray,
    fb: np.ndarray,
) -> np.ndarray:
    """Roots of σ_b²(q) − target in brackets [a, b] (vectorized Illinois false position)."""
    x = 0.5 * (a + b)
    active = np.ones(a.shape, dtype=bool)
    side = np.zeros(a.shape, dtype=np.int8)
    for _ in range(60):
        i = np.flatnonzero(active)
        if i.size == 0:
            break
        with np.errstate(divide="ignore", invalid="ignore"):
            xi = b[i] - fb[i] * (b[i] - a[i]) / (fb[i] - fa[i])
        bad = ~np.isfinite(xi) | (xi <= np.minimum(a[i], b[i])) | (xi >= np.maximum(a[i], b[i]))
        xi = np.where(bad, 0.5 * (a[i] + b[i]), xi)
        fx = _line_b(act, xi)[1] - target[i]
        moved = np.abs(xi - x[i])
        x[i] = xi
        same = np.sign(fx) == np.sign(fb[i])
        # keep the bracket; halve the stale end's value when the same end moves twice (Illinois)
        a[i] = np.where(same, a[i], b[i])
        fa[i] = np.where(same, np.where(side[i] == 1, fa[i] / 2, fa[i]), fb[i])
        side[i] = np.where(same, 1, -1)
        b[i], fb[i] = xi, fx
        done = (fx == 0) | (np.abs(b[i] - a[i]) <= 1e-14 * np.abs(xi) + 1e-300)
        done |= moved <= 1e-13 * np.abs(xi)  # superlinear: the last step was ~1e-13
        active[i[done]] = False
    return x


def critical_point(
    activation: ActivationLike, sigma_b2: float = 0.0, **params: Any
) -> tuple[float, float]:
    """(σ_w², q*) on the critical line χ₁ = 1 for a given bias variance.

    The critical line is parametrized by q (Xiao et al. 2018, sec. 2): σ_w²(q) = 1/E[φ'(√q z)²],
    σ_b²(q) = q − σ_w²(q) E[φ(√q z)²]. We solve σ_b²(q) = ``sigma_b2`` for q ≥ 0; of several
    roots, the smallest whose fixed point attracts (length-map slope σ_w² M'(q) < 1,
    :func:`initlab.theory.kernels.second_moment_slope`), else the smallest (which repels: GELU
    at σ_b² = 0.01, SiLU at 0.3; :func:`critical_gain` raises for it).

    Examples:
        >>> w2, q = critical_point("tanh", 0.05)
        >>> round(w2, 5), round(q, 5)
        (1.76095, 0.57005)
    """
    act = get_activation(activation, **params)
    sigma_b2 = check_variance("sigma_b2", sigma_b2, "critical_point")
    if act.glu:
        raise InitError(
            f"critical_point: {act.name!r} is a gated unit; the mean-field critical line is "
            "defined for elementwise activations"
        )
    # the q → 0 limit (both sides of a kink at 0 count half, as they do for any q > 0)
    d0 = float(act.derivative_second_moment(1e-20))
    if act.homogeneous:
        return _homogeneous_point(act, sigma_b2, d0)
    if sigma_b2 == 0.0 and abs(float(_line_b(act, np.float64(1e-8))[1])) < 1e-6 and d0 > 0:
        return 1.0 / d0, 0.0
    roots = _line_roots(act, sigma_b2)
    if not roots:
        raise InitError(
            f"critical_point: {act.name!r} has no critical point with sigma_b2 = {sigma_b2} for "
            "q* in [1e-10, 1e3]; try a smaller sigma_b2 or kind='variance'"
        )
    points = [(1.0 / float(act.derivative_second_moment(r)), r) for r in roots]
    for w2, r in points:
        if w2 * float(kernels.second_moment_slope(act, r)) < 1.0:
            return w2, r
    return points[0]


def _homogeneous_point(act: Activation, sigma_b2: float, d0: float) -> tuple[float, float]:
    """φ(c x) = c φ(x): σ_b²(q) = q (1 − E[φ²]/E[φ'²]) is 0 for every q in the ReLU family, so
    the only critical bias variance is 0."""
    slope = 1.0 - float(act.second_moment(1.0)) / float(act.derivative_second_moment(1.0))
    if abs(slope) < 1e-12:
        if sigma_b2 > 0:
            raise InitError(
                f"critical_point: {act.name!r} (positively homogeneous) has a critical point "
                f"only at sigma_b2 = 0 (σ_w² = {1 / d0:.6g}); got sigma_b2 = {sigma_b2}"
            )
        return 1.0 / d0, 0.0
    q = sigma_b2 / slope
    if q < 0:
        raise InitError(f"critical_point: no critical point for {act.name!r} at this σ_b²")
    return 1.0 / d0, q


def _line_roots(act: Activation, sigma_b2: float) -> list[float]:
    """Every q in [1e-10, 1e3] with σ_b²(q) = sigma_b2: sign changes on a log grid, each refined
    by Brent's method."""

    def f(q: float) -> float:
        return float(_line_b(act, np.float64(q))[1]) - sigma_b2

    grid = np.concatenate([[1e-10], np.logspace(-6, 3, 200)])
    vals = _line_b(act, grid)[1] - sigma_b2
    finite = np.isfinite(vals)
    roots: list[float] = []
    for i in range(len(grid) - 1):
        if not (finite[i] and finite[i + 1]):
            continue
        if vals[i] == 0.0:
            roots.append(float(grid[i]))
        elif vals[i] * vals[i + 1] < 0:
            roots.append(
                optimize.brentq(f, grid[i], grid[i + 1], xtol=1e-14, rtol=1e-13, maxiter=200)
            )
    return roots


def critical_gain(activation: ActivationLike, sigma_b2: float = 0.0, **params: Any) -> float:
    """√σ_w² of the critical point at bias variance ``sigma_b2``, refused where that point's
    fixed point repels (the answer of ``initlab.gain(act, kind="critical")``).

    It returns a value exactly where :func:`critical_init` with the same ``sigma_b2`` reports
    ``q_stable`` (one stability test, :func:`initlab.theory.meanfield._attracts`).

    Raises:
        InitError: no critical point, or an unstable one (GELU/SiLU at σ_b² = 0: q* = 0 repels;
            GELU at 0.01); the message points to :func:`critical_init`, which picks a stable σ_b.

    Examples:
        >>> round(critical_gain("tanh", 0.05) ** 2, 6)
        1.760955
    """
    act = get_activation(activation, **params)
    w2, q = critical_point(act, sigma_b2)
    if not act.homogeneous:
        slope = w2 * float(kernels.second_moment_slope(act, q if q > 0 else 1e-200))
        if not _attracts(act, w2, sigma_b2, q, slope):
            why = (
                "the length map pushes q away from 0"
                if q == 0.0
                else f"the length map's slope there is {slope:.4g} > 1, so q runs away"
            )
            raise InitError(
                f"gain(kind='critical'): {act.name}'s critical point at sigma_b2={sigma_b2:g} is "
                f"q* = {q:.6g} with σ_w² = {w2:.6g}, an unstable fixed point ({why}; this gain is "
                "not at the edge of chaos); pass another sigma_b2= (e.g. sigma_b2=0.05, or a "
                f"larger one), or use initlab.theory.critical_init({act.name!r}), which picks a "
                "stable point, or kind='variance'"
            )
    return math.sqrt(w2)


register_gain_kind("critical", critical_gain)


def critical_sigma_w2(activation: ActivationLike, sigma_b2: float = 0.0) -> float:
    """σ_w² on the critical line χ₁ = 1 at bias variance ``sigma_b2`` (Schoenholz et al. 2017).

    Raises:
        InitError: no critical point at this σ_b² (e.g. ReLU with σ_b² > 0), negative variance.

    Examples:
        >>> round(critical_sigma_w2("relu"), 12)
        2.0
    """
    b = check_variance("sigma_b2", sigma_b2, "critical_sigma_w2")
    w2, _ = critical_point(_activation(activation, "critical_sigma_w2"), b)
    return float(w2)


@dataclass(frozen=True)
class CriticalInit:
    """A critical initialization: W ~ N(0, σ_w²/fan_in), b ~ N(0, σ_b²), with χ₁ = 1.

    Unpacks as ``(sigma_w, sigma_b)``. ``length_slope`` is the length map's slope at q*
    (σ_w² d/dq E[φ(√q z)²]) and ``q_stable`` whether q* attracts nearby input variances (see
    :class:`~initlab.theory.MeanField`); points asked for by ``q_star=``/``sigma_b2=`` are
    returned even when ``q_stable`` is False.

    Examples:
        >>> sw, sb = critical_init("relu")
        >>> round(sw, 6), sb
        (1.414214, 0.0)
    """

    activation: str
    sigma_w: float
    sigma_b: float
    sigma_w2: float
    sigma_b2: float
    q_star: float
    chi1: float
    policy: str
    length_slope: float = math.nan
    q_stable: bool = True

    def __iter__(self) -> Iterator[float]:
        return iter((self.sigma_w, self.sigma_b))

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}

    def to_json(self, **kw: Any) -> str:
        return json.dumps(self.to_dict(), **kw)


def critical_init(
    activation: ActivationLike,
    *,
    sigma_b2: float | None = None,
    q_star: float | None = None,
) -> CriticalInit:
    """(σ_w, σ_b) on the edge of chaos for ``activation``, by one of three policies.

    * ``sigma_b2=`` given: the critical σ_w² at that bias variance.
    * ``q_star=`` given: the point of the critical line whose fixed point is q* (Xiao et al.
      2018's parametrization; ``q_star=1`` keeps unit pre-activation variance).
    * neither (default): zero bias when the σ_b = 0 critical point is a stable fixed point of
      the length map reached from q⁰ = 1 (ReLU: σ_w² = 2; tanh: σ_w² = 1; policy
      ``"zero_bias"``); otherwise (GELU, SiLU, Mish, hardswish, whose σ_b = 0 point q* = 0
      repels) the point of the critical line with the smallest q* ≥ 1 whose fixed point
      attracts with length-map slope ≤ :data:`STABLE_SLOPE` = 0.99 (policy
      ``"stable_q_star"``). Why not q* = 1: for these φ the slope σ_w² dE[φ(√q z)²]/dq at
      q* = 1 is above 1 (GELU ≈ 1.07), so q* repels and inputs of variance ≠ q* drift away
      (from q⁰ = 1.1 the GELU map diverges). The slope falls below 1 only at larger q* (GELU
      ≈ 5.1, Mish ≈ 2.3, hardswish ≈ 5.4, SiLU ≈ 25), and the smallest such q* keeps the
      pre-activation variance closest to 1. No such point for q* ≤ 1000 (softplus): InitError.

    ``q_star=``/``sigma_b2=`` return the requested point even where it repels; check
    ``ci.q_stable`` and ``ci.length_slope``.

    Examples:
        >>> sw, sb = critical_init("tanh", sigma_b2=0.05)
        >>> round(sw**2, 6), round(sb**2, 6)
        (1.760955, 0.05)
        >>> ci = critical_init("gelu")
        >>> ci.policy, ci.q_stable, round(ci.length_slope, 6)
        ('stable_q_star', True, 0.99)
    """
    act = _activation(activation, "critical_init")
    if sigma_b2 is not None and q_star is not None:
        raise InitError("critical_init: pass sigma_b2= or q_star=, not both")
    if q_star is not None:
        q = check_variance("q_star", q_star, "critical_init")
        w2, b2 = (float(v) for v in _line_b(act, np.float64(q)))
        if not (math.isfinite(w2) and b2 >= -1e-12):
            raise InitError(
                f"critical_init: {act.name} has no critical point with q* = {q:g} "
                f"(it would need σ_b² = {b2:.4g} < 0); pick a larger q_star"
            )
        b2 = max(b2, 0.0)
        policy = "q_star"
    elif sigma_b2 is not None:
        b2 = check_variance("sigma_b2", sigma_b2, "critical_init")
        w2, q = critical_point(act, b2)
        policy = "sigma_b2"
    else:
        try:
            w2, q = critical_point(act, 0.0)
            mf = MeanField(act, w2, 0.0)
            stable = (
                mf.phase == "critical"
                and mf.q_stable
                and abs(mf.q_star - q) <= 1e-6 * max(1.0, q)
            )
            if kernels.leaky_slope(act) is not None:
                stable, q = True, mf.q_star
        except InitError:
            stable = False
        if stable:
            b2, policy = 0.0, "zero_bias"
        else:
            q_s = _stable_q_star(act)
            if q_s is None:
                raise InitError(
                    f"critical_init: {act.name} has no stable critical point: its σ_b = 0 point "
                    "is unstable or absent, and no point of the critical line with 1 ≤ q* ≤ "
                    f"1000 has σ_b² ≥ 0 and a length-map slope ≤ {STABLE_SLOPE:g}; pass "
                    "sigma_b2= or q_star= to pick a point yourself (check ci.q_stable)"
                )
            return replace(critical_init(act, q_star=q_s), policy="stable_q_star")
    qe = q if q > 0 else 1e-200
    chi1 = w2 * float(act.derivative_second_moment(qe))
    slope = w2 * float(kernels.second_moment_slope(act, qe))
    stable_q = _attracts(act, float(w2), float(b2), float(q), slope)
    return CriticalInit(
        act.name,
        math.sqrt(w2),
        math.sqrt(b2),
        float(w2),
        float(b2),
        float(q),
        chi1,
        policy,
        slope,
        stable_q,
    )


def _line_slope(act: Activation, q: np.ndarray) -> np.ndarray:
    """The length map's slope σ_w²(q) M'(q) at the fixed point q of the critical-line point q."""
    w2, _ = _line_b(act, q)
    return w2 * np.asarray(kernels.second_moment_slope(act, q), dtype=np.float64)


def _stable_q_star(act: Activation) -> float | None:
    """Smallest q* in [1, 1000] on the critical line with σ_b² ≥ 0, length-map slope ≤
    STABLE_SLOPE and q* the fixed point reached from both q*/1000 and 4 q*; None if none."""
    q = _STABLE_Q_GRID
    w2, b2 = _line_b(act, q)
    slope = _line_slope(act, q)
    ok = np.isfinite(w2) & np.isfinite(slope) & (b2 >= 0) & (slope <= STABLE_SLOPE)
    for i in np.flatnonzero(ok):
        qi = float(q[i])
        if i > 0 and not ok[i - 1] and b2[i - 1] >= 0 and np.isfinite(slope[i - 1]):
            # the slope crosses STABLE_SLOPE in (q[i-1], q[i]]: refine to the crossing
            def h(x: float) -> float:
                return float(_line_slope(act, np.float64(x))) - STABLE_SLOPE

            qi = float(optimize.brentq(h, float(q[i - 1]), qi, xtol=1e-14, rtol=1e-13))
            if float(_line_b(act, np.float64(qi))[1]) < 0:
                qi = float(q[i])
        wi, bi = (float(v) for v in _line_b(act, np.float64(qi)))
        try:
            reached = [solve_q_star(act, wi, max(bi, 0.0), q0) for q0 in (qi / 1000, 4 * qi)]
        except InitError:
            continue
        if all(abs(r - qi) <= 1e-8 * qi for r in reached):
            return qi
    return None


__all__ = [
    "STABLE_SLOPE",
    "CriticalInit",
    "CriticalLine",
    "critical_gain",
    "critical_init",
    "critical_line",
    "critical_point",
    "critical_sigma_w2",
]
