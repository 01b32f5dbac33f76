"""The closed-form numbers every variance-scaling scheme shares, without torch.

std = g/√fan(mode) (:func:`scheme_std`), the U(−b, b) bound of a std (:func:`uniform_bound`), the
std of a truncated standard normal (:func:`truncated_std`) and the Xavier/He/LeCun presets
(:data:`PRESETS`). The initializers in :mod:`initlab.core.schemes` and the samplers draw with
them; :func:`initlab.core.scales.scheme_scales` (``initlab scale``) only needs these numbers, so
they live apart from the tensor code and load without torch (``schemes`` re-exports them).

Examples:
    >>> from initlab.core.fans import Fans
    >>> std = scheme_std(1.0, "fan_avg", Fans(1024, 512))  # Xavier: √(2/(1024 + 512))
    >>> round(uniform_bound(std), 4), round(truncated_std(-2.0, 2.0), 6)
    (0.0625, 0.879626)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from initlab.core.fans import Fans
from initlab.errors import InitError

Mode = Literal["fan_in", "fan_out", "fan_avg", "fan_geo_avg"]
_MODES = ("fan_in", "fan_out", "fan_avg", "fan_geo_avg")


def scheme_std(gain: float, mode: str, f: Fans, fn: str = "scheme_std") -> float:
    """std = gain / √n, n the fan ``mode`` names (fan_avg: gain·√(2/(fan_in + fan_out))).

    The one std formula of every variance-scaling scheme: the core initializers, the plan
    (:mod:`initlab.model.specs`) and :func:`initlab.core.scales.scheme_scales` all call it.
    Written exactly as ``torch.nn.init`` writes it, so the presets match torch bit for bit.

    Raises:
        InitError: unknown mode, or a fan of 0 (a dimension of size 0).

    Examples:
        >>> round(scheme_std(2 ** 0.5, "fan_in", Fans(1024, 512)) ** 2, 7)  # He: 2/1024
        0.0019531
    """
    if mode not in _MODES:
        raise InitError(f"{fn}: mode must be one of {', '.join(_MODES)}, got {mode!r}")
    n = f.of(mode)
    if n <= 0:
        raise InitError(f"{fn}: {mode} is {n} (a dimension of size 0?); the std is undefined")
    if mode == "fan_avg":
        return gain * math.sqrt(2.0 / float(f.fan_in + f.fan_out))
    return gain / math.sqrt(n)


def uniform_bound(std: float) -> float:
    """b = √3·std: U(−b, b) has variance b²/3 = std².

    Examples:
        >>> round(uniform_bound(0.0361), 4)
        0.0625
    """
    return math.sqrt(3.0) * std


@dataclass(frozen=True)
class Preset:
    """A named variance-scaling scheme: ``std = gain / √fan(mode)``, as data.

    Attributes:
        name: short name (``"xavier"``, ``"he"``, ``"lecun"``).
        mode: the fan that divides the variance.
        activation_gain: True when the gain is the variance gain 1/√E[φ(z)²] of the activation
            after the layer (He), False when it is 1 (Xavier, LeCun) unless given.
        source: the paper and equation.

    Examples:
        >>> PRESETS["he"].mode, PRESETS["xavier"].mode
        ('fan_in', 'fan_avg')
    """

    name: str
    mode: Mode
    activation_gain: bool
    source: str


#: The presets of :func:`~initlab.core.schemes.variance_scaling_` (JAX's ``glorot``/``he``/
#: ``lecun``), by name. The core functions (``xavier_*``, ``he_*``, ``lecun_*``), the plan's
#: schemes and :func:`initlab.core.scales.scheme_scales` read their mode from here.
PRESETS: dict[str, Preset] = {
    "xavier": Preset("xavier", "fan_avg", False, "Glorot & Bengio 2010, eq. 12 and 16"),
    "he": Preset("he", "fan_in", True, "He et al. 2015, eq. 10 (g² = 1/E[φ(z)²])"),
    "lecun": Preset("lecun", "fan_in", False, "LeCun et al. 1998, Efficient BackProp §4.6"),
}


def _ndtr(x: float) -> float:
    return 0.5 * math.erfc(-x / math.sqrt(2.0))


def truncated_std(alpha: float, beta: float) -> float:
    """Standard deviation of N(0, 1) truncated to [alpha, beta] (closed form).

    Var = 1 + (α φ(α) − β φ(β))/Z − ((φ(α) − φ(β))/Z)², Z = Φ(β) − Φ(α). For ±2:
    0.8796256610342398 (the constant in JAX's ``variance_scaling``).

    Examples:
        >>> truncated_std(-2.0, 2.0)
        0.8796256610342398
        >>> truncated_std(-math.inf, math.inf)
        1.0
    """

    def pdf(x: float) -> float:
        return 0.0 if math.isinf(x) else math.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)

    z = _ndtr(beta) - _ndtr(alpha)
    a_term = 0.0 if math.isinf(alpha) else alpha * pdf(alpha)
    b_term = 0.0 if math.isinf(beta) else beta * pdf(beta)
    m = (pdf(alpha) - pdf(beta)) / z
    return math.sqrt(1.0 + (a_term - b_term) / z - m * m)


__all__ = ["PRESETS", "Mode", "Preset", "scheme_std", "truncated_std", "uniform_bound"]
