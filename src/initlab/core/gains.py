"""Gains: the factor g in std = g / √fan, for any activation.

Three kinds, because three different questions get called "the gain":

* ``"torch"``: exactly ``torch.nn.init.calculate_gain`` (tanh 5/3 and selu 3/4 are empirical
  choices, not derived), for code that must match torch bit for bit.
* ``"variance"``: g = 1/√E[φ(z)²], z ~ N(0, 1). With std = g/√fan_in and unit-variance inputs,
  the pre-activations keep variance 1 layer after layer (the second-moment argument of
  He et al. 2015, eq. 10, for any φ). ReLU gives √2 exactly, SELU 1.
* ``"critical"``: the edge-of-chaos gain g = 1/√E[φ'(√q* z)²] (Poole et al. 2016,
  Schoenholz et al. 2017): σ_w² on the critical line χ₁ = 1 at bias variance ``sigma_b2``
  (0 unless given), where q* is the fixed point of the length map. Answered by
  :func:`initlab.theory.critical.critical_gain` (the one implementation of the critical line;
  it registers itself here, so ``core`` does not import ``theory``).

Examples:
    >>> round(gain("relu"), 6), round(gain("tanh", kind="torch"), 6)
    (1.414214, 1.666667)
"""

from __future__ import annotations

import importlib
import math
from collections.abc import Callable
from typing import Any, Literal

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
    own = isinstance(kind, str) and kind in ("torch", "variance")
    higher = _higher_kind(kind) if isinstance(kind, str) and not own else None
    if not own and higher is None:
        raise InitError(f"gain: kind must be 'variance', 'critical' or 'torch', got {kind!r}")
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
    return float(higher(act, sigma_b2))  # type: ignore[misc]  # checked above


#: Gain kinds answered by a higher layer, registered by it at import: ``"critical"`` by
#: :mod:`initlab.theory.critical` (mean-field math lives in ``theory/`` only). ``import initlab``
#: is lazy, so the first ``gain(kind=...)`` of such a kind loads the module named in
#: :data:`_PROVIDERS` (by name, as :func:`initlab.views.render` loads ``report/``): core holds
#: no mean-field code and no import statement of theory.
_HIGHER_KINDS: dict[str, Callable[[Activation, float], float]] = {}
_PROVIDERS = {"critical": "initlab.theory.critical"}


def register_gain_kind(kind: str, fn: Callable[[Activation, float], float]) -> None:
    """Let ``gain(act, kind=kind, sigma_b2=b)`` answer with ``fn(activation, b)``.

    Used by :mod:`initlab.theory.critical` for ``kind="critical"``.

    Examples:
        >>> register_gain_kind("unit", lambda act, sigma_b2: 1.0)
        >>> gain("tanh", kind="unit")
        1.0
        >>> del _HIGHER_KINDS["unit"]
    """
    _HIGHER_KINDS[kind] = fn


def _higher_kind(kind: str) -> Callable[[Activation, float], float] | None:
    if kind not in _HIGHER_KINDS and kind in _PROVIDERS:
        importlib.import_module(_PROVIDERS[kind])  # registers the kind
    return _HIGHER_KINDS.get(kind)


__all__ = [
    "TORCH_NONLINEARITIES",
    "calculate_gain",
    "gain",
    "register_gain_kind",
]
