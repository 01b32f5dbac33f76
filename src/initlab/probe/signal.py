"""Signal trace: per-layer activation and gradient statistics of one forward + backward pass.

The light-weight measuring part behind ``initlab demo``: for each parameterized layer of a model
(in execution order) it records the std of the layer's output after the activation that follows
it, and the std of the loss gradient with respect to the layer's pre-activation output. Statistics
stay on the device and are read back in one transfer at the end.

The backward pass starts from a unit-variance random "upstream gradient" g at the output
(loss = Σ y·g), so that gradient magnitudes through depth show the network's own gain, not a
loss function's scale.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from initlab.errors import InitError

_PARAM_LAYERS = (nn.Linear, nn.modules.conv._ConvNd)


@dataclass(frozen=True)
class SignalTrace:
    """Per-layer statistics of one forward + backward pass.

    Attributes:
        layers: layer names in execution order.
        act_std: std of each layer's output after its activation (the next layer's input).
        grad_std: std of dLoss/d(pre-activation output) of each layer.

    Examples:
        >>> import torch
        >>> from torch import nn
        >>> net = nn.Sequential(nn.Linear(8, 8), nn.Tanh(), nn.Linear(8, 8))
        >>> t = trace_signal(net, torch.randn(4, 8))
        >>> len(t.act_std), len(t.grad_std)
        (2, 2)
    """

    layers: tuple[str, ...]
    act_std: tuple[float, ...]
    grad_std: tuple[float, ...]

    def to_dict(self) -> dict[str, list]:
        return {
            "layers": list(self.layers),
            "act_std": list(self.act_std),
            "grad_std": list(self.grad_std),
        }


def trace_signal(
    model: nn.Module, x: torch.Tensor, *, generator: torch.Generator | None = None
) -> SignalTrace:
    """Run one forward + backward pass and record per-layer activation and gradient std.

    A layer's "activation" is the output of the module that runs right after it if that module
    has no parameters (an activation such as ``nn.Tanh``), else the layer's own output.

    Args:
        model: any module whose parameterized layers are Linear or Conv modules.
        x: an input batch.
        generator: seeds the random upstream gradient.

    Raises:
        InitError: the model has no Linear/Conv layer.

    Examples:
        >>> import torch
        >>> from torch import nn
        >>> net = nn.Sequential(nn.Linear(4, 4), nn.ReLU(), nn.Linear(4, 2))
        >>> trace_signal(net, torch.randn(3, 4)).layers
        ('0', '2')
    """
    names: list[str] = []
    post: dict[int, torch.Tensor] = {}
    grads: dict[int, torch.Tensor] = {}
    handles = []
    last_layer: list[int] = []

    def on_layer(idx: int):
        def hook(_m: nn.Module, _inp: tuple, out: torch.Tensor) -> None:
            last_layer.append(idx)
            post[idx] = out.detach()
            if out.requires_grad:
                out.register_hook(lambda g: grads.__setitem__(idx, g.detach().std()))

        return hook

    def on_other(_m: nn.Module, _inp: tuple, out: torch.Tensor) -> None:
        # a parameter-free module right after a layer: its output is that layer's activation
        if last_layer and isinstance(out, torch.Tensor):
            post[last_layer[-1]] = out.detach()
            last_layer.clear()

    for name, m in model.named_modules():
        if isinstance(m, _PARAM_LAYERS):
            handles.append(m.register_forward_hook(on_layer(len(names))))
            names.append(name)
        elif not list(m.children()) and not list(m.parameters(recurse=False)):
            handles.append(m.register_forward_hook(on_other))
    if not names:
        for h in handles:
            h.remove()
        raise InitError(
            "trace_signal: the model has no Linear or Conv layer to trace; use initlab.doctor "
            "for other layer types"
        )
    try:
        with torch.enable_grad():
            y = model(x)
            if not isinstance(y, torch.Tensor):
                raise InitError("trace_signal: the model must return a tensor")
            g = torch.randn(y.shape, dtype=y.dtype, device=y.device, generator=generator)
            (y * g).sum().backward()
    finally:
        for h in handles:
            h.remove()
    n = len(names)
    zero = torch.zeros((), dtype=x.dtype, device=x.device)
    acts = torch.stack([post[i].std() for i in range(n)])
    grad = torch.stack([grads.get(i, zero) for i in range(n)])
    both = torch.stack([acts, grad]).double().cpu()  # the one host transfer
    return SignalTrace(tuple(names), tuple(both[0].tolist()), tuple(both[1].tolist()))


__all__ = ["SignalTrace", "trace_signal"]
