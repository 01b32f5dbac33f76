"""initlab: initialize neural networks well, see how signal and gradient flow at step 0, and fix
what is wrong.

``import initlab as init`` is a drop-in superset of ``torch.nn.init``.

Attributes load on first use (PEP 562), so ``import initlab`` and ``initlab --help`` do not pay
for torch and SciPy until something needs them.

Examples:
    >>> import torch, initlab
    >>> w = initlab.kaiming_normal_(torch.empty(256, 128), nonlinearity="relu")
    >>> initlab.fans(w)
    Fans(fan_in=128, fan_out=256, blocks=1)
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from initlab import errors as errors

__version__ = "0.1.0"

# name → module it is imported from (module attributes load on first access)
_LAZY: dict[str, str] = {
    "InitPlan": "initlab.model",
    "LSUVReport": "initlab.model",
    "PlanRow": "initlab.model",
    "apply_plan": "initlab.model",
    "init": "initlab.model",
    "lsuv": "initlab.model",
    "mark_pretrained": "initlab.model",
    "plan": "initlab.model",
    "doctor": "initlab.probe",
    "critical_point": "initlab.theory.critical",
    "param_groups": "initlab.mup",
}
_SUBMODULES = (
    "policies", "schemes", "theory", "core", "model", "probe", "lab", "report", "mup",
)
_OWN = ["__version__", "errors", "policies", "schemes", "theory", *_LAZY]


def _core_all() -> list[str]:
    return list(importlib.import_module("initlab.core").__all__)


def __getattr__(name: str) -> Any:
    if name == "__all__":
        value: Any = [*_OWN, *_core_all()]
    elif name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
    elif name in _SUBMODULES:
        value = importlib.import_module(f"initlab.{name}")
    elif name.startswith("__"):  # probes (__test__, __wrapped__...): no reason to load torch
        raise AttributeError(f"module 'initlab' has no attribute {name!r}")
    else:
        core = importlib.import_module("initlab.core")
        if name not in core.__all__:
            raise AttributeError(f"module 'initlab' has no attribute {name!r}")
        value = getattr(core, name)
    globals()[name] = value  # cache: later lookups are plain attribute reads
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_OWN, *_core_all()})


if TYPE_CHECKING:  # static analysers and IDEs see the eager imports
    from initlab import policies, schemes, theory  # noqa: F401
    from initlab.core import *  # noqa: F403
    from initlab.model import (  # noqa: F401
        InitPlan,
        LSUVReport,
        PlanRow,
        apply_plan,
        init,
        lsuv,
        mark_pretrained,
        plan,
    )
    from initlab.mup import param_groups  # noqa: F401
    from initlab.probe import doctor  # noqa: F401
    from initlab.theory.critical import critical_point  # noqa: F401
