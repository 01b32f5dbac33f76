"""Gains: the factor g in std = g / √fan, for any activation.

Three kinds, because three different questions get called "the gain":

* ``"torch"``: exactly ``torch.nn.init.calculate_gain`` (tanh 5/3 and selu 3/4 are empirical
  choices, not derived), for code that must match torch bit for bit.
* ``"variance"``: g = 1/√E[φ(z)²], z ~ N(0, 1). With std = g/√fan_in and unit-variance inputs,
  the pre-activations keep variance 1 layer after layer (the second-moment argument of
  He et al. 2015, eq. 10, for any φ). ReLU gives √2 exactly, SELU 1.
* ``"critical"``: the edge-of-chaos gain g = 1/√E[φ'(√q* z)²] (Poole et al. 2016,
  Schoenholz et al. 2017): σ_w² on the critical line χ₁ = 1 at bias variance ``sigma_b2``
  (0 unless given), where q* is the fixed point of the length map.

Examples:
    >>> round(gain("relu"), 6), round(gain("tanh", kind="torch"), 6)
    (1.414214, 1.666667)
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, Literal

import numpy as np
from scipy import optimize

from initlab.core.activations import Activation, get_activation
from initlab.errors import InitError

GainKind = Literal["variance", "critical", "torch"]

_TORCH_LINEAR = (
    "linear",
    "conv1d",
    "conv2d",
    "conv3d",
    "conv_transpose1d",
    "conv_transpose2d",
    "conv_transpose3d",
)
TORCH_NONLINEARITIES = (*_TORCH_LINEAR, "sigmoid", "tanh", "relu", "leaky_relu", "selu")


def calculate_gain(nonlinearity: str, param: int | float | None = None) -> float:
    """``torch.nn.init.calculate_gain``, same names, values and errors.

    linear/conv/sigmoid 1, tanh 5/3, relu √2, leaky_relu √(2/(1+a²)) (a = 0.01 by default),
    selu 3/4. For a derived gain for any activation use :func:`gain`.

    Examples:
        >>> calculate_gain("leaky_relu", 0.2) == (2 / (1 + 0.2**2)) ** 0.5
        True
    """
    if nonlinearity in _TORCH_LINEAR or nonlinearity == "sigmoid":
        return 1
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            negative_slope = 0.01
        elif (not isinstance(param, bool) and isinstance(param, int)) or isinstance(param, float):
            negative_slope = param
        else:
            raise InitError(f"negative_slope {param} not a valid number")
        return math.sqrt(2.0 / (1 + negative_slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise InitError(
        f"Unsupported nonlinearity {nonlinearity}: calculate_gain knows only torch's names "
        f"{', '.join(TORCH_NONLINEARITIES)}; use initlab.gain({nonlinearity!r}) for any activation"
    )


def gain(
    activation: str | Activation | Callable[..., Any] = "relu",
    kind: GainKind = "variance",
    *,
    sigma_b2: float = 0.0,
    **params: Any,
) -> float:
    """The initialization gain for ``activation``.

    Args:
        activation: a name (``"relu"``, ``"gelu"``, ``"swiglu"``...), a module or any callable.
        kind: ``"variance"`` (1/√E[φ(z)²]), ``"critical"`` (edge of chaos) or ``"torch"``
            (``calculate_gain``'s table).
        sigma_b2: bias variance for ``kind="critical"``.
        **params: the activation's parameters, e.g. ``negative_slope=0.2``.

    Returns:
        g such that std = g/√fan_in (for GLU units: the gain of the product φ(a)·b).

    Raises:
        InitError: unknown activation or kind, or (critical) no critical point at ``sigma_b2``,
            or (critical, ``sigma_b2=0``) a critical point q* = 0 that the length map leaves
            (GELU, SiLU, Mish, hardswish: φ(0) = 0 but E[φ(√q z)²] > φ'(0)² q, so σ_w² =
            1/φ'(0)² makes the signal grow, not stay critical), or (critical, any
            ``sigma_b2``) a critical point q* > 0 where the length map's slope exceeds 1 (GELU at
            σ_b² = 0.01, SiLU at 0.3). Pass another ``sigma_b2`` or use
            ``initlab.theory.critical_init``, which chooses a stable σ_b too.

    Examples:
        >>> round(gain("leaky_relu", negative_slope=0.2), 6)
        1.38675
        >>> round(gain("tanh", kind="critical"), 6)  # σ_b = 0: the critical point is σ_w² = 1
        1.0
    """
    if kind == "torch":
        if not isinstance(activation, str):
            raise InitError(
                "gain(kind='torch') takes one of torch's names "
                f"({', '.join(TORCH_NONLINEARITIES)}); use kind='variance' for other activations"
            )
        name = activation.strip().lower()
        if name == "identity":
            name = "linear"
        if name not in TORCH_NONLINEARITIES:
            raise InitError(
                f"gain(kind='torch'): torch has no gain for {activation!r} (it knows "
                f"{', '.join(TORCH_NONLINEARITIES)}); use kind='variance' or kind='critical'"
            )
        param = params.pop("negative_slope", params.pop("param", None))
        if params:
            raise InitError(f"gain(kind='torch'): unexpected parameters {sorted(params)}")
        return float(calculate_gain(name, param))
    act = get_activation(activation, **params)
    if kind == "variance":
        m2 = float(act.second_moment(1.0))
        if not (m2 > 0 and math.isfinite(m2)):
            raise InitError(
                f"gain: E[φ(z)²] = {m2} for activation {act.name!r}; no variance-preserving gain "
                "exists (is the function zero or non-finite on N(0, 1) inputs?)"
            )
        return 1.0 / math.sqrt(m2)
    if kind == "critical":
        sigma_w2, q = critical_point(act, sigma_b2)
        if q == 0.0 and not act.homogeneous:
            _check_zero_fixed_point_attracts(act, sigma_w2)
        elif q > 0.0 and not act.homogeneous:
            _check_fixed_point_attracts(act, sigma_w2, sigma_b2, q)
        return math.sqrt(sigma_w2)
    raise InitError(f"gain: kind must be 'variance', 'critical' or 'torch', got {kind!r}")


def _check_zero_fixed_point_attracts(act: Activation, sigma_w2: float) -> None:
    """Raise unless q* = 0 attracts the σ_b = 0 length map q ↦ σ_w² E[φ(√q z)²] near 0.

    With φ(0) = 0 the critical point at σ_b = 0 is q* = 0, σ_w² = 1/φ'(0)², and the map has
    slope 1 there; the next order decides. tanh-like φ (E[φ(√q z)²] < φ'(0)² q) pull q back to 0:
    the edge of chaos (Schoenholz et al. 2017). GELU/SiLU-like φ (E[φ(√q z)²] ≈ q/4 + 3q²/(2π)
    for GELU) push it away: q* = 0 is unstable, q^l runs off (GELU at σ_w² = 4 diverges).
    """
    qs = np.array([1e-4, 1e-3, 1e-2])
    grows = sigma_w2 * np.asarray(act.second_moment(qs), dtype=float) > qs * (1.0 + 1e-7)
    if grows.any():
        raise InitError(
            f"gain(kind='critical'): {act.name}'s critical point at sigma_b2=0 is q* = 0 with "
            f"σ_w² = {sigma_w2:.6g}, an unstable fixed point (the length map pushes q away from "
            "0, so this gain is not at the edge of chaos); pass sigma_b2= (e.g. "
            f"sigma_b2=0.05), or use initlab.theory.critical_init({act.name!r}), which also "
            "picks σ_b, or kind='variance'"
        )


def second_moment_slope(act: Activation, q: float) -> float:
    """M'(q) = d/dq E[φ(√q z)²] = E[φ'(x)² + φ(x) φ''(x)], x = √q z (Gaussian integration by
    parts, E[x g(x)] = q E[g'(x)]), computed as E[x φ(x) φ'(x)]/q, which needs only φ' and so
    also holds across kinks (where φ'' has delta masses). q = 0: the limit φ'(0)².

    σ_w² M'(q*) is the slope of the length map at its fixed point: < 1 attracts, > 1 repels
    (the ξ_q bracket of Schoenholz et al. 2017, eq. 5).

    Examples:
        >>> round(second_moment_slope(get_activation("relu"), 3.0), 12)  # E[φ²] = q/2
        0.5
    """
    if q <= 0.0:
        return float(act.d1(np.zeros(1))[0]) ** 2
    return float(act.expect(lambda x: x * act.fn(x) * act.d1(x), q)) / q


def _length_slope(act: Activation, sigma_w2: float, q: float) -> float:
    return sigma_w2 * second_moment_slope(act, q)


def _check_fixed_point_attracts(
    act: Activation, sigma_w2: float, sigma_b2: float, q: float
) -> None:
    """Raise if the length map's slope σ_w² M'(q*) at the critical point q* > 0 exceeds 1."""
    slope = _length_slope(act, sigma_w2, q)
    if slope > 1.0 + 1e-9:
        raise InitError(
            f"gain(kind='critical'): {act.name}'s critical point at sigma_b2={sigma_b2:g} is "
            f"q* = {q:.6g} with σ_w² = {sigma_w2:.6g}, an unstable fixed point (the length map's "
            f"slope there is {slope:.4g} > 1, so q runs away from q*); pass another sigma_b2= "
            f"(a larger one), or use initlab.theory.critical_init({act.name!r}), which picks a "
            "stable point, or kind='variance'"
        )


def _critical_sigma_b2(act: Activation, q: np.ndarray | float) -> np.ndarray | float:
    """σ_b² on the critical line parametrized by q* (Xiao et al. 2018): σ_w² = 1/E[φ'(√q z)²],
    σ_b² = q − σ_w² E[φ(√q z)²]."""
    return q - np.asarray(act.second_moment(q)) / np.asarray(act.derivative_second_moment(q))


def critical_point(
    activation: str | Activation | Callable[..., Any], sigma_b2: float = 0.0, **params: Any
) -> tuple[float, float]:
    """(σ_w², q*) on the critical line χ₁ = 1 for a given bias variance.

    The critical line is parametrized by q (Xiao et al. 2018, sec. 2): σ_w²(q) = 1/E[φ'(√q z)²],
    σ_b²(q) = q − σ_w²(q) E[φ(√q z)²]. We solve σ_b²(q) = ``sigma_b2`` for q ≥ 0; of several
    roots, the smallest whose fixed point attracts (length-map slope σ_w² d/dq E[φ(√q z)²] < 1,
    :func:`second_moment_slope`), else the smallest (which repels: GELU at σ_b² = 0.01, SiLU at
    0.3; ``gain(kind="critical")`` raises for it).

    Examples:
        >>> w2, q = critical_point("tanh", 0.05)
        >>> round(w2, 5), round(q, 5)
        (1.76095, 0.57005)
    """
    act = get_activation(activation, **params)
    if sigma_b2 < 0 or not math.isfinite(sigma_b2):
        raise InitError(f"critical_point: sigma_b2 must be a finite variance ≥ 0, got {sigma_b2}")
    if act.glu:
        raise InitError(
            f"critical_point: {act.name!r} is a gated unit; the mean-field critical line is "
            "defined for elementwise activations"
        )
    # the q → 0 limit (both sides of a kink at 0 count half, as they do for any q > 0)
    d0 = float(act.derivative_second_moment(1e-20))
    if act.homogeneous:
        # φ(c x) = c φ(x): σ_b²(q) = q (1 − E[φ²]/E[φ'²]) is 0 for every q when φ is in the
        # ReLU family, so the only critical bias variance is 0.
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
    if sigma_b2 == 0.0:
        f0 = float(_critical_sigma_b2(act, 1e-8))
        if abs(f0) < 1e-6 and d0 > 0:
            return 1.0 / d0, 0.0

    def f(q: float) -> float:
        return float(_critical_sigma_b2(act, q)) - sigma_b2

    # Scan upward on a log grid for every sign change, refine each with Brent's method, and
    # keep the first root whose fixed point attracts (length-map slope < 1); if none does, the
    # first root (gain(kind="critical") then refuses it).
    grid = np.concatenate([[1e-10], np.logspace(-6, 3, 200)])
    vals = np.asarray(_critical_sigma_b2(act, grid)) - sigma_b2
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
    if not roots:
        raise InitError(
            f"critical_point: {act.name!r} has no critical point with sigma_b2 = {sigma_b2} for "
            "q* in [1e-10, 1e3]; try a smaller sigma_b2 or kind='variance'"
        )
    points = [(1.0 / float(act.derivative_second_moment(r)), r) for r in roots]
    for w2, r in points:
        if _length_slope(act, w2, r) < 1.0:
            return w2, r
    return points[0]


__all__ = [
    "TORCH_NONLINEARITIES",
    "calculate_gain",
    "critical_point",
    "gain",
    "second_moment_slope",
]
