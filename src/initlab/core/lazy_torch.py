"""Torch on demand: the type checks the core makes without importing torch.

``initlab scale`` and ``initlab gain`` need only NumPy (moments by quadrature, closed-form
stds), and importing torch costs about a second, so ``core/activations.py``, ``core/fans.py``,
``core/gains.py``, ``core/formulas.py`` and ``core/scales.py`` import it inside the functions that
use tensors. Their "is this a tensor / a module?" checks ask here: a tensor or an ``nn.Module``
can only exist once torch has been imported, so when ``torch`` is not in ``sys.modules`` the
answer is no, and nothing is imported to give it.

Examples:
    >>> import torch
    >>> is_tensor(torch.zeros(2)), is_tensor([0.0, 0.0]), is_module(torch.nn.ReLU())
    (True, False, True)
"""

from __future__ import annotations

import sys
from typing import Any


def is_tensor(x: Any) -> bool:
    """``isinstance(x, torch.Tensor)``, without importing torch."""
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(x, torch.Tensor)


def is_module(x: Any) -> bool:
    """``isinstance(x, torch.nn.Module)``, without importing torch."""
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(x, torch.nn.Module)


__all__ = ["is_module", "is_tensor"]
