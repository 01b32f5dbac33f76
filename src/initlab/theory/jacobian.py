"""Spectrum of the input–output Jacobian of a deep random network (Pennington, Schoenholz &
Ganguli 2017, "Resurrecting the sigmoid in deep learning through dynamical isometry").

J = ∂x^L/∂x^0 = Π_l D^l W^l with D^l = diag φ'(h^l). With every layer at the fixed point q*,
the eigenvalues λ of JJᵀ (squared singular values of J) have, for any depth L,

* mean        m₁ = χ₁^L,   χ₁ = σ_w² μ₁,
* variance    σ² = χ₁^{2L} · L (μ₂/μ₁² − 1 − s₁),   μₖ = E[φ'(√q* z)^{2k}],

where s₁ is the first coefficient of the S-transform of WWᵀ: −1 for Gaussian weights
(Marchenko–Pastur), 0 for orthogonal ones. At criticality (χ₁ = 1) this is the paper's
σ² = L(μ₂/μ₁² − 1 − s₁); away from it the normalized variance σ²/m₁² = L(μ₂/μ₁² − 1 − s₁) still
holds exactly because normalized variances add under free multiplication. Dynamical isometry
means σ² stays O(1) as L grows: orthogonal weights and μ₂/μ₁² → 1 (e.g. tanh with q* → 0).

Deep linear nets: orthogonal weights give every singular value σ_w^L exactly; Gaussian ones with
σ_w² = 1 give var(λ) = L and the Fuss–Catalan spectrum edge λ_max = (L+1)^{L+1}/L^L.

Examples:
    >>> jm = jacobian_moments("linear", 1.0, depth=16, weights="gaussian")
    >>> jm.variance, round(jm.s_max, 4)
    (16.0, 6.6966)
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from initlab.errors import InitError
from initlab.theory import kernels
from initlab.theory.critical import critical_line
from initlab.theory.meanfield import ActivationLike, MeanField, _activation, check_variance

Weights = Literal["gaussian", "orthogonal"]
_S1 = {"gaussian": -1.0, "orthogonal": 0.0}


@dataclass(frozen=True)
class JacobianMoments:
    """Moments of the spectrum of JJᵀ for a depth-L network at its fixed point.

    Attributes:
        mu1, mu2: E[φ'(√q* z)²], E[φ'(√q* z)⁴].
        s1: S-transform coefficient of WWᵀ (−1 Gaussian, 0 orthogonal).
        mean: χ₁^L, the mean eigenvalue of JJᵀ.
        variance: χ₁^{2L} L (μ₂/μ₁² − 1 − s₁).
        s_max: largest singular value of J where known in closed form (linear φ), else None.
    """

    activation: str
    sigma_w2: float
    sigma_b2: float
    depth: int
    weights: str
    q_star: float
    chi1: float
    mu1: float
    mu2: float
    s1: float
    mean: float
    variance: float
    s_max: float | None

    @property
    def normalized_variance(self) -> float:
        """σ²/m₁² = L (μ₂/μ₁² − 1 − s₁)."""
        return self.variance / self.mean**2 if self.mean > 0 else math.nan

    def to_dict(self) -> dict[str, Any]:
        d = {k: getattr(self, k) for k in self.__dataclass_fields__}
        d["normalized_variance"] = self.normalized_variance
        return d

    def to_json(self, **kw: Any) -> str:
        return json.dumps(self.to_dict(), **kw)


def _check_weights(weights: str, where: str) -> str:
    w = str(weights).lower()
    if w not in _S1:
        raise InitError(f"{where}: weights must be 'gaussian' or 'orthogonal', got {weights!r}")
    return w


def _check_depth(depth: int, where: str) -> int:
    if isinstance(depth, bool) or not isinstance(depth, int | np.integer) or depth < 1:
        raise InitError(f"{where}: depth must be an integer ≥ 1, got {depth!r}")
    return int(depth)


def jacobian_moments(
    activation: ActivationLike,
    sigma_w2: float,
    sigma_b2: float = 0.0,
    *,
    depth: int,
    weights: Weights = "gaussian",
    q_star: float | None = None,
) -> JacobianMoments:
    """Mean and variance of the JJᵀ spectrum (Pennington, Schoenholz & Ganguli 2017, eq. 17).

    Args:
        activation: name, callable or Activation.
        sigma_w2, sigma_b2: weight and bias variances.
        depth: number of layers L.
        weights: ``"gaussian"`` (s₁ = −1) or ``"orthogonal"`` (s₁ = 0).
        q_star: pre-activation variance to evaluate μₖ at (default: the length map's fixed
            point; for ReLU at σ_b = 0 every q is one and the moments do not depend on q).

    Examples:
        >>> jm = jacobian_moments("relu", 2.0, depth=10, weights="orthogonal")
        >>> round(jm.mean, 12), round(jm.variance, 12)  # μ₂/μ₁² = 2: var = L
        (1.0, 10.0)
    """
    where = "jacobian_moments"
    act = _activation(activation, where)
    w2 = check_variance("sigma_w2", sigma_w2, where)
    b2 = check_variance("sigma_b2", sigma_b2, where)
    L = _check_depth(depth, where)
    wk = _check_weights(weights, where)
    q = MeanField(act, w2, b2).q_star if q_star is None else check_variance("q_star", q_star, where)
    qe = q if q > 0 else 1e-200
    mu1 = float(kernels.derivative_power_moment(act, qe, 1))
    mu2 = float(kernels.derivative_power_moment(act, qe, 2))
    chi1 = w2 * mu1
    s1 = _S1[wk]
    mean = chi1**L
    nvar = L * (mu2 / mu1**2 - 1.0 - s1) if mu1 > 0 else math.nan
    var = mean**2 * nvar
    s_max = None
    if act.name == "linear":
        if wk == "orthogonal":
            s_max = math.sqrt(w2) ** L
        else:  # Fuss–Catalan edge of the product of L square Gaussian matrices
            s_max = math.sqrt(w2) ** L * math.sqrt((L + 1) ** (L + 1) / L**L)
    return JacobianMoments(act.name, w2, b2, L, wk, q, chi1, mu1, mu2, s1, mean, var, s_max)


@dataclass(frozen=True)
class DynamicalIsometryReport:
    """Jacobian spectrum variance along the critical line, Gaussian vs orthogonal weights.

    ``rows``: one per q* with σ_w², σ_b², μ₁, μ₂ and the variance for each weight kind;
    ``best``: the row with the smallest orthogonal variance; ``verdict``: one sentence.
    """

    activation: str
    depth: int
    rows: tuple[dict[str, float], ...]
    best: dict[str, float]
    isometric: bool
    verdict: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "activation": self.activation,
            "depth": self.depth,
            "rows": [dict(r) for r in self.rows],
            "best": dict(self.best),
            "isometric": self.isometric,
            "verdict": self.verdict,
        }

    def to_json(self, **kw: Any) -> str:
        return json.dumps(self.to_dict(), **kw)


def dynamical_isometry_report(
    activation: ActivationLike,
    depth: int = 100,
    q_star: np.ndarray | list[float] | None = None,
    *,
    tolerance: float = 1.0,
) -> DynamicalIsometryReport:
    """Can ``activation`` reach dynamical isometry at depth L, and where on the critical line?

    For each q* on the critical line (Xiao et al. 2018 parametrization) it gives the variance of
    the JJᵀ spectrum for Gaussian and orthogonal weights (Pennington et al. 2017). The network is
    called isometric when the best orthogonal variance is ≤ ``tolerance`` at this depth.

    Examples:
        >>> r = dynamical_isometry_report("relu", depth=10)
        >>> r.isometric, round(r.best["var_orthogonal"], 6)
        (False, 10.0)
    """
    where = "dynamical_isometry_report"
    act = _activation(activation, where)
    L = _check_depth(depth, where)
    qs = np.logspace(-4, 1, 11) if q_star is None else np.asarray(q_star, dtype=np.float64)
    if kernels.leaky_slope(act) is not None:
        qs = np.array([1.0])
    line = critical_line(act, q_star=qs)
    rows = []
    for q, w2, b2 in zip(line.q_star, line.sigma_w2, line.sigma_b2, strict=True):
        if not (math.isfinite(w2) and b2 >= -1e-12):
            continue
        b2 = max(float(b2), 0.0)
        g = jacobian_moments(act, float(w2), b2, depth=L, weights="gaussian", q_star=float(q))
        o = jacobian_moments(act, float(w2), b2, depth=L, weights="orthogonal", q_star=float(q))
        rows.append(
            {
                "q_star": float(q),
                "sigma_w2": float(w2),
                "sigma_b2": b2,
                "mu1": g.mu1,
                "mu2": g.mu2,
                "var_gaussian": g.variance,
                "var_orthogonal": o.variance,
            }
        )
    if not rows:
        raise InitError(
            f"{where}: {act.name} has no critical point at the q* given (σ_b² would be < 0)"
        )
    best = min(rows, key=lambda r: r["var_orthogonal"])
    iso = best["var_orthogonal"] <= tolerance
    if iso:
        verdict = (
            f"{act.name}: dynamical isometry at depth {L} with orthogonal weights near "
            f"q* = {best['q_star']:.3g} (σ_w² = {best['sigma_w2']:.4g}, σ_b² = "
            f"{best['sigma_b2']:.3g}): var(λ) = {best['var_orthogonal']:.3g}; Gaussian weights "
            f"give {best['var_gaussian']:.3g}"
        )
    else:
        verdict = (
            f"{act.name}: no dynamical isometry at depth {L}: the smallest spectrum variance on "
            f"the critical line is {best['var_orthogonal']:.3g} (orthogonal) and "
            f"{best['var_gaussian']:.3g} (Gaussian); it grows linearly with depth"
        )
    return DynamicalIsometryReport(act.name, L, tuple(rows), best, iso, verdict)


__all__ = [
    "DynamicalIsometryReport",
    "JacobianMoments",
    "dynamical_isometry_report",
    "jacobian_moments",
]
