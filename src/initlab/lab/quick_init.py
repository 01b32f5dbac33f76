"""The seeds' simple schemes applied to a whole model with core functions only.

``zeros``, ``small`` (N(0, 0.01²)), ``normal`` (N(0, 1)), ``xavier``, ``he``, ``lecun`` and
``orthogonal`` fill the ``weight`` of every Linear and Conv module and zero their biases; norm
layers, embeddings and everything else keep their values. It is what ``initlab doctor --init``
and ``initlab demo`` use to recreate the textbook starts; for real models use
``initlab.init(model, policy=...)``, which knows every module type.

Examples:
    >>> import torch
    >>> from torch import nn
    >>> net = apply_simple_init(nn.Sequential(nn.Linear(4, 4), nn.ReLU()), "zeros")
    >>> float(net[0].weight.abs().sum())
    0.0
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from initlab.core import schemes
from initlab.errors import InitError

_Fill = Callable[[torch.Tensor, torch.Generator], torch.Tensor]

SIMPLE_SCHEMES: dict[str, tuple[_Fill, str]] = {
    "zeros": (lambda w, g: schemes.zeros_(w), "all weights 0: no symmetry breaking"),
    "small": (lambda w, g: schemes.normal_(w, 0.0, 0.01, generator=g), "N(0, 0.01²)"),
    "normal": (lambda w, g: schemes.normal_(w, 0.0, 1.0, generator=g), "N(0, 1), ignoring fan_in"),
    "xavier": (
        lambda w, g: schemes.xavier_normal_(w, generator=g),
        "Glorot & Bengio 2010: Var = 2/(fan_in+fan_out)",
    ),
    "he": (
        lambda w, g: schemes.kaiming_normal_(w, nonlinearity="relu", generator=g),
        "He et al. 2015: Var = 2/fan_in",
    ),
    "lecun": (lambda w, g: schemes.lecun_normal_(w, generator=g), "LeCun 1998: Var = 1/fan_in"),
    "orthogonal": (lambda w, g: schemes.orthogonal_(w, generator=g), "Saxe et al. 2014"),
}

_TARGETS = (nn.Linear, nn.modules.conv._ConvNd)


def apply_simple_init(model: nn.Module, scheme: str, seed: int = 0) -> nn.Module:
    """Fill every Linear/Conv weight of ``model`` with ``scheme`` and zero the biases (in place).

    Raises:
        InitError: unknown scheme (the message lists them).
    """
    if scheme not in SIMPLE_SCHEMES:
        raise InitError(
            f"apply_simple_init: unknown scheme {scheme!r}; choose from {', '.join(SIMPLE_SCHEMES)}"
        )
    fill = SIMPLE_SCHEMES[scheme][0]
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, _TARGETS):
                w = m.weight
                if w.device.type == "cpu":
                    fill(w, g)
                else:  # draw on the CPU generator, copy to the device
                    w.copy_(fill(torch.empty_like(w, device="cpu"), g))
                if m.bias is not None:
                    schemes.zeros_(m.bias)
    return model


__all__ = ["SIMPLE_SCHEMES", "apply_simple_init"]
