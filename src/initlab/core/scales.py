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
from initlab.core.fans import Fans
from initlab.core.formulas import PRESETS, scheme_std, truncated_std, uniform_bound
from initlab.core.gains import gain
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


def _row(scheme: str, formula: str, std: float, source: str) -> SchemeScale:
    return SchemeScale(
        scheme, formula, std * std, std, uniform_bound(std), std / truncated_std(-2, 2), source
    )


def _preset(name: str, g: float, f: Fans, formula: str, mode: str | None = None) -> SchemeScale:
    """A row of a :data:`~initlab.core.formulas.PRESETS` entry: its std from
    :func:`~initlab.core.formulas.scheme_std`, the formula every initializer uses."""
    p = PRESETS[name]
    m = mode or p.mode
    source = p.source if m == p.mode else f"{p.source.split(',')[0]}, eq. 14 (backward)"
    return _row(name if m == p.mode else f"{name}_{m}", formula, scheme_std(g, m, f), source)


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
    g = gain(act)
    g2 = g * g
    f = Fans(fan_in, fan_out)
    return [
        _row("small", "0.01²", 0.01, "CS231n: W = 0.01·randn (breaks symmetry, not scale)"),
        _preset("lecun", 1.0, f, "1/fan_in"),
        _preset("xavier", 1.0, f, "2/(fan_in+fan_out)"),
        _preset("he", g, f, f"g²/fan_in, g²={g2:.4g} ({act.name})"),
        _preset("he", g, f, f"g²/fan_out, g²={g2:.4g} ({act.name})", mode="fan_out"),
        _row(
            "torch_default",
            "1/(3·fan_in)",
            math.sqrt(1.0 / (3.0 * fan_in)),
            "torch nn.Linear/Conv reset_parameters: kaiming_uniform_(a=√5)",
        ),
    ]


__all__ = ["SchemeScale", "scheme_scales"]
