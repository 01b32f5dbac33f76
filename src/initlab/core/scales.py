"""The numbers behind each scheme for one layer: variance, std, uniform bound.

The seeds' exercise ("a layer maps 1024 → 512: what are the Xavier and He variances and uniform
bounds?") as a function, for every common scheme at once, with the gain of any activation.

Examples:
    >>> rows = {r.scheme: r for r in scheme_scales(1024, 512)}
    >>> round(rows["xavier"].variance, 7), round(rows["xavier"].uniform_bound, 4)
    (0.0013021, 0.0625)
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from initlab.core.activations import Activation, get_activation
from initlab.core.gains import gain
from initlab.core.samplers import truncated_std
from initlab.errors import InitError


@dataclass(frozen=True)
class SchemeScale:
    """One scheme's scale for a layer: Var[W], std, the U(−b, b) bound with that variance, and
    the σ of a ±2σ truncated normal with that std (JAX/Keras correction).

    Attributes:
        scheme: short name (``"xavier"``, ``"he"``...).
        formula: the variance formula in words.
        variance, std, uniform_bound, truncated_sigma: the numbers.
        source: the paper.
    """

    scheme: str
    formula: str
    variance: float
    std: float
    uniform_bound: float
    truncated_sigma: float
    source: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _row(scheme: str, formula: str, variance: float, source: str) -> SchemeScale:
    std = math.sqrt(variance)
    return SchemeScale(
        scheme, formula, variance, std, math.sqrt(3.0) * std, std / truncated_std(-2, 2), source
    )


def scheme_scales(
    fan_in: float,
    fan_out: float,
    activation: str | Activation | Callable[..., Any] = "relu",
    **params: Any,
) -> list[SchemeScale]:
    """Variance, std and uniform bound of every common scheme for a layer with these fans.

    Args:
        fan_in, fan_out: the layer's fans (see :func:`initlab.fans` / :func:`initlab.fans_of`).
        activation: the activation after the layer, for the He row's gain (1/√E[φ(z)²]).
        **params: the activation's parameters (``negative_slope=0.2``).

    Raises:
        InitError: a fan that is not a positive number.

    Examples:
        >>> he = [r for r in scheme_scales(1024, 512) if r.scheme == "he"][0]
        >>> round(he.variance, 7), round(he.uniform_bound, 4)
        (0.0019531, 0.0765)
    """
    for name, v in (("fan_in", fan_in), ("fan_out", fan_out)):
        if not isinstance(v, int | float) or not math.isfinite(v) or v <= 0:
            raise InitError(f"scheme_scales: {name} must be a positive number, got {v!r}")
    act = get_activation(activation, **params)
    g2 = gain(act) ** 2
    return [
        _row("small", "0.01²", 1e-4, "CS231n: W = 0.01·randn (breaks symmetry, not scale)"),
        _row("lecun", "1/fan_in", 1.0 / fan_in, "LeCun et al. 1998, Efficient BackProp §4.6"),
        _row(
            "xavier",
            "2/(fan_in+fan_out)",
            2.0 / (fan_in + fan_out),
            "Glorot & Bengio 2010, eq. 12 and 16",
        ),
        _row(
            "he",
            f"g²/fan_in, g²={g2:.4g} ({act.name})",
            g2 / fan_in,
            "He et al. 2015, eq. 10 (g² = 1/E[φ(z)²])",
        ),
        _row(
            "he_fan_out",
            f"g²/fan_out, g²={g2:.4g} ({act.name})",
            g2 / fan_out,
            "He et al. 2015, eq. 14 (backward)",
        ),
        _row(
            "torch_default",
            "1/(3·fan_in)",
            1.0 / (3.0 * fan_in),
            "torch nn.Linear/Conv reset_parameters: kaiming_uniform_(a=√5)",
        ),
    ]


__all__ = ["SchemeScale", "scheme_scales"]
