"""Declarative initialization schemes for plan rules (``initlab.schemes.normal(std=0.002)``).

Each function returns a :class:`~initlab.model.specs.Scheme`: a value naming a scheme and its
arguments. A plan resolves it against a parameter (its fans, the activation after it) and
``initlab.apply_plan`` writes it with the matching :mod:`initlab.core` initializer. A scheme
value also draws itself: ``initlab.schemes.he()(w, activation="gelu")``. A new scheme kind is one
:func:`register_scheme` function (docs/architecture.md, "Adding a scheme").

Examples:
    >>> import initlab
    >>> str(initlab.schemes.normal(std=0.002))
    'normal(std=0.002)'
"""

from initlab.model import specs as _specs
from initlab.model.specs import *  # noqa: F403

__all__ = list(_specs.__all__)
