"""initlab.core: pure math on tensors: activations, gains, fans, samplers and schemes.

Functions here take a tensor (or a shape) and a ``torch.Generator``; they never walk a model.
"""

from initlab.core.activations import (
    Activation,
    activation_names,
    describe_activations,
    from_callable,
    get_activation,
    register_activation,
)
from initlab.core.fans import (
    Fans,
    _calculate_correct_fan,
    _calculate_fan_in_and_fan_out,
    fans,
    fans_of,
)
from initlab.core.gains import calculate_gain, gain
from initlab.core.scales import SchemeScale, scheme_scales
from initlab.core.schemes import *  # noqa: F403
from initlab.core.schemes import __all__ as _schemes_all

__all__ = [
    "Activation",
    "Fans",
    "SchemeScale",
    "_calculate_correct_fan",
    "_calculate_fan_in_and_fan_out",
    "activation_names",
    "calculate_gain",
    "describe_activations",
    "fans",
    "fans_of",
    "from_callable",
    "gain",
    "get_activation",
    "register_activation",
    "scheme_scales",
    *_schemes_all,
]
