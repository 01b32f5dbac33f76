"""Declarative initialization schemes for plan rules (``initlab.schemes.normal(std=0.002)``).

Each function returns a :class:`~initlab.model.specs.Scheme`: a value naming a scheme and its
arguments. A plan resolves it against a parameter (its fans, the activation after it) and
``initlab.apply_plan`` writes it with the matching :mod:`initlab.core` initializer.

Examples:
    >>> import initlab
    >>> str(initlab.schemes.normal(std=0.002))
    'normal(std=0.002)'
"""

from initlab.model.specs import (
    Scheme,
    constant,
    critical,
    default,
    delta_orthogonal,
    gate_constant,
    he,
    identity,
    keep,
    lecun,
    normal,
    ones,
    orthogonal,
    parse,
    truncated_normal,
    uniform,
    variance_scaling,
    xavier,
    zeros,
)

__all__ = [
    "Scheme",
    "constant",
    "critical",
    "default",
    "delta_orthogonal",
    "gate_constant",
    "he",
    "identity",
    "keep",
    "lecun",
    "normal",
    "ones",
    "orthogonal",
    "parse",
    "truncated_normal",
    "uniform",
    "variance_scaling",
    "xavier",
    "zeros",
]
