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
    "schemes": (
        "_no_grad_fill_",
        "_no_grad_normal_",
        "_no_grad_trunc_normal_",
        "_no_grad_uniform_",
        "_no_grad_zero_",
        "constant",
        "constant_",
        "delta_orthogonal_",
        "depth_scaled_std",
        "dirac",
        "dirac_",
        "eye",
        "eye_",
        "fixup_scale",
        "gate_constant_",
        "glorot_normal_",
        "glorot_uniform_",
        "gpt_normal_",
        "he_normal_",
        "he_uniform_",
        "identity_",
        "kaiming_normal",
        "kaiming_normal_",
        "kaiming_uniform",
        "kaiming_uniform_",
        "lecun_normal_",
        "lecun_uniform_",
        "normal",
        "normal_",
        "ones_",
        "orthogonal",
        "orthogonal_",
        "small_random_",
        "sparse",
        "sparse_",
        "t_fixup_scale",
        "trunc_normal_",
        "truncated_normal_",
        "uniform",
        "uniform_",
        "variance_scaling_",
        "xavier_normal",
        "xavier_normal_",
        "xavier_uniform",
        "xavier_uniform_",
        "zeros_",
    ),
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
