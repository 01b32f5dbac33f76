"""Gradient references per stack: an encoder reached only through a weak cross-connection gets a
small gradient by construction, not a vanishing one; a decay along the encoder's own depth still
is one."""

from __future__ import annotations

import torch
from torch import nn

import initlab


class _Stack(nn.Module):
    def __init__(self, depth: int, width: int) -> None:
        super().__init__()
        self.layers = nn.ModuleList(nn.Linear(width, width) for _ in range(depth))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for layer in self.layers:
            x = torch.tanh(layer(x))
        return x


class EncoderDecoder(nn.Module):
    """``encoder.layers.#`` and ``decoder.layers.#``; the decoder sees the encoder's output
    scaled by ``coupling`` (Whisper's encoder gets ~1e-4 of its decoder's gradient)."""

    def __init__(self, coupling: float, width: int = 32, depth: int = 6) -> None:
        super().__init__()
        self.encoder, self.decoder = _Stack(depth, width), _Stack(depth, width)
        self.head = nn.Linear(width, 10)
        self.coupling = coupling

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.decoder(x + self.coupling * self.encoder(x)))


def _doctor(m: nn.Module) -> initlab.Diagnosis:
    x = torch.randn(64, 32, generator=torch.Generator().manual_seed(0))
    return initlab.doctor(m, x, loss_fn=lambda out: out.logsumexp(-1).mean())


def _grad_flags(dx: initlab.Diagnosis, stack: str) -> set[str]:
    return {f for layer in dx.layers if layer.name.startswith(stack) for f in layer.flags
            if f.endswith("_grad")}  # fmt: skip


def test_weakly_coupled_encoder_is_not_vanishing() -> None:
    torch.manual_seed(0)
    m = EncoderDecoder(coupling=1e-5)
    initlab.init(m, torch.randn(4, 32), policy="xavier")
    dx = _doctor(m)
    enc = [layer.grad_rms for layer in dx.layers if layer.name.startswith("encoder.layers")]
    dec = [layer.grad_rms for layer in dx.layers if layer.name.startswith("decoder.layers")]
    assert max(enc) < 1e-3 * min(dec)  # the drop a single reference called vanishing
    assert not _grad_flags(dx, "encoder"), _grad_flags(dx, "encoder")


def test_decay_along_the_encoder_is_still_vanishing() -> None:
    torch.manual_seed(0)
    m = EncoderDecoder(coupling=1.0)
    initlab.init(m, torch.randn(4, 32), policy="xavier")
    with torch.no_grad():
        for layer in m.encoder.layers:
            layer.weight.mul_(0.15)  # each tanh layer now shrinks gradients ~0.15×
    dx = _doctor(m)
    assert "vanishing_grad" in _grad_flags(dx, "encoder")
