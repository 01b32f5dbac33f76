"""initlab.core: pure math on tensors: activations, gains, fans, samplers and schemes.

Functions here take a tensor (or a shape) and a ``torch.Generator``; they never walk a model.

Names load on first use (PEP 562), from the submodule listed in :data:`_EXPORTS`: the
activation registry, gains, fans, formulas and ``scheme_scales`` import without torch (they need
NumPy only), so ``initlab scale`` and ``initlab gain`` do not pay a second for it; the
initializers (``schemes``) and samplers import torch when first touched.

Examples:
    >>> import initlab.core as core
    >>> round(core.gain("relu"), 6), "xavier_normal_" in core.__all__
    (1.414214, True)
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# ``fans`` names both a submodule and its function: bind the function now (fans.py is small and
# torch-free), or the first ``import initlab.core.fans`` would leave the module under this name.
from initlab.core.fans import fans
from initlab.core.scheme_names import SCHEME_NAMES

# submodule → the public names it gives this package (``tests/core/test_lazy_core.py`` checks
# that they are each module's ``__all__``, or the part of it this package exported before)
_EXPORTS: dict[str, tuple[str, ...]] = {
    "activations": (
        "Activation",
        "activation_names",
        "describe_activations",
        "from_callable",
        "get_activation",
        "register_activation",
    ),
    "fans": ("Fans", "_calculate_correct_fan", "_calculate_fan_in_and_fan_out", "fans", "fans_of"),
    "gains": ("calculate_gain", "gain"),
    "scales": ("SchemeScale", "scheme_scales"),
    "schemes": SCHEME_NAMES,
}
# name → submodule it is read from
_LAZY: dict[str, str] = {name: mod for mod, names in _EXPORTS.items() for name in names}
_SUBMODULES = (
    "activations", "fans", "formulas", "gains", "gaussian", "lazy_torch", "reference",
    "samplers", "scales", "schemes",
)  # fmt: skip

__all__ = list(_LAZY)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    elif name in _SUBMODULES:
        value = importlib.import_module(f"{__name__}.{name}")
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value  # cache: later lookups are plain attribute reads
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__, *_SUBMODULES})


if TYPE_CHECKING:  # static analysers and IDEs see the eager imports
    from initlab.core.activations import (  # noqa: F401
        Activation,
        activation_names,
        describe_activations,
        from_callable,
        get_activation,
        register_activation,
    )
    from initlab.core.fans import (  # noqa: F401
        Fans,
        _calculate_correct_fan,
        _calculate_fan_in_and_fan_out,
        fans,
        fans_of,
    )
    from initlab.core.gains import calculate_gain, gain  # noqa: F401
    from initlab.core.scales import SchemeScale, scheme_scales  # noqa: F401
    from initlab.core.schemes import *  # noqa: F403
