"""initlab: initialize neural networks well, see how signal and gradient flow at step 0, and fix
what is wrong.

``import initlab as init`` is a drop-in superset of ``torch.nn.init``.

Examples:
    >>> import torch, initlab
    >>> w = initlab.kaiming_normal_(torch.empty(256, 128), nonlinearity="relu")
    >>> initlab.fans(w)
    Fans(fan_in=128, fan_out=256, blocks=1)
"""

from initlab import (
    errors,
    policies,
    report,  # noqa: F401  (registers the renderers in initlab.views)
    schemes,
    theory,
)
from initlab.core import *  # noqa: F403
from initlab.core import __all__ as _core_all
from initlab.model import (
    InitPlan,
    LSUVReport,
    PlanRow,
    apply_plan,
    init,
    lsuv,
    mark_pretrained,
    plan,
)
from initlab.probe import doctor
from initlab.theory.critical import critical_point

__version__ = "0.1.0"

__all__ = [
    "InitPlan",
    "LSUVReport",
    "PlanRow",
    "__version__",
    "apply_plan",
    "critical_point",
    "doctor",
    "errors",
    "init",
    "lsuv",
    "mark_pretrained",
    "plan",
    "policies",
    "schemes",
    "theory",
    *_core_all,
]
