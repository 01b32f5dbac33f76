"""initlab.model: whole-model initialization.

``initlab.plan(model, example_input)`` discovers the structure (one traced forward pass on the
meta device), decides a scheme per parameter under a policy and returns an :class:`InitPlan`;
``initlab.apply_plan`` writes it (values depend only on seed and parameter name);
``initlab.init`` does both; ``initlab.lsuv`` rescales layers to unit output variance
(Mishkin & Matas 2015) in O(L) layer evaluations.
"""

from initlab.model.apply import (
    BLOCK,
    apply_plan,
    init,
    is_pretrained,
    mark_pretrained,
    plan,
    stable_seed,
)
from initlab.model.lsuv import LSUVLayer, LSUVReport, lsuv
from initlab.model.plan import InitPlan, PlanRow
from initlab.model.policies import POLICIES, Policy
from initlab.model.specs import Scheme
from initlab.model.structure import LayerInfo, Structure, discover

__all__ = [
    "BLOCK",
    "POLICIES",
    "InitPlan",
    "LSUVLayer",
    "LSUVReport",
    "LayerInfo",
    "PlanRow",
    "Policy",
    "Scheme",
    "Structure",
    "apply_plan",
    "discover",
    "init",
    "is_pretrained",
    "lsuv",
    "mark_pretrained",
    "plan",
    "stable_seed",
]
