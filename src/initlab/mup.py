"""μP (Yang et al. 2022, "Tensor Programs V") for any model: ``initlab.mup.policy`` for
:func:`initlab.init`, the learning-rate table, parameter groups and the forward changes.

See :mod:`initlab.model.mup` for the table of rules and docs/width.md for the guide.

Examples:
    >>> import torch, initlab
    >>> from torch import nn
    >>> make = lambda w: nn.Sequential(nn.Linear(8, w), nn.ReLU(), nn.Linear(w, 2))
    >>> model = make(512)
    >>> plan = initlab.init(model, torch.randn(4, 8), policy=initlab.mup.policy(factory=make,
    ...                     widths=(64, 128)))
    >>> opt = torch.optim.Adam(initlab.param_groups(model, plan, lr=1e-3))
    >>> sorted(round(g["lr"], 6) for g in opt.param_groups)
    [0.000125, 0.001]
"""

from initlab.model.mup import (
    CLASSES,
    OPTIMIZERS,
    BaseShapes,
    ForwardChange,
    MuPolicy,
    MuRow,
    MuTable,
    MuWrapped,
    attention_scale,
    base_shapes,
    param_groups,
    policy,
    table,
    wrap,
)

__all__ = [
    "CLASSES",
    "OPTIMIZERS",
    "BaseShapes",
    "ForwardChange",
    "MuPolicy",
    "MuRow",
    "MuTable",
    "MuWrapped",
    "attention_scale",
    "base_shapes",
    "param_groups",
    "policy",
    "table",
    "wrap",
]
