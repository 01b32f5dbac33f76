"""Models for the doctor's tests: deliberately broken starts and healthy references.

Shared models live in :mod:`initlab.lab.zoo` (the benchmark and test_doctor_functional.py use
``zoo.resnet``, ``zoo.nano_gpt``, ``zoo.functional_net``...). The two here are not in the zoo on
purpose: ``SmallResNet`` reuses one ``nn.ReLU(inplace=True)`` module twice per block (hooks on a
module called twice, in place) and ``SmallTransformer`` calls ``nn.MultiheadAttention`` directly
(``need_weights=False``, a tuple output), where the zoo's ResNet applies ``F.relu`` and its
transformers use SDPA or ``nn.TransformerEncoder``.
"""

from __future__ import annotations

import torch
from torch import nn

import initlab


def mlp(
    act: type[nn.Module],
    depth: int,
    scheme: str | float = "he",
    *,
    width: int = 128,
    bias: float = 0.0,
    d_in: int = 64,
    seed: int = 0,
) -> nn.Sequential:
    """depth × (Linear(width) + act) + Linear(10); weights by ``scheme``, biases = ``bias``.

    scheme: "zeros", "xavier", "he" or a float std for N(0, std²).
    """
    g = torch.Generator().manual_seed(seed)
    layers: list[nn.Module] = []
    d = d_in
    for _ in range(depth):
        lin = nn.Linear(d, width)
        d = width
        if scheme == "zeros":
            initlab.zeros_(lin.weight)
        elif scheme == "xavier":
            initlab.xavier_normal_(lin.weight, generator=g)
        elif scheme == "he":
            initlab.kaiming_normal_(lin.weight, nonlinearity="relu", generator=g)
        else:
            initlab.normal_(lin.weight, 0.0, float(scheme), generator=g)
        initlab.constant_(lin.bias, bias)
        layers += [lin, act()]
    head = nn.Linear(d, 10)
    initlab.xavier_normal_(head.weight, generator=g)
    initlab.zeros_(head.bias)
    layers.append(head)
    return nn.Sequential(*layers)


class BasicBlock(nn.Module):
    def __init__(self, c: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(c, c, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(c)
        self.conv2 = nn.Conv2d(c, c, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(c)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + x)


class SmallResNet(nn.Module):
    """A torchvision-style ResNet (BN, in-place ReLU reused twice per block), default init."""

    def __init__(self, c: int = 16, blocks: int = 4, classes: int = 10) -> None:
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv2d(3, c, 3, padding=1, bias=False), nn.BatchNorm2d(c), nn.ReLU(inplace=True)
        )
        self.layers = nn.Sequential(*[BasicBlock(c) for _ in range(blocks)])
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(c, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.pool(self.layers(self.stem(x))).flatten(1))


class Block(nn.Module):
    def __init__(self, d: int, heads: int) -> None:
        super().__init__()
        self.ln1 = nn.LayerNorm(d)
        self.attn = nn.MultiheadAttention(d, heads, batch_first=True)
        self.ln2 = nn.LayerNorm(d)
        self.mlp = nn.Sequential(nn.Linear(d, 4 * d), nn.GELU(), nn.Linear(4 * d, d))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.ln1(x)
        x = x + self.attn(h, h, h, need_weights=False)[0]
        return x + self.mlp(self.ln2(x))


class SmallTransformer(nn.Module):
    """Pre-LN transformer encoder on token ids, default torch init."""

    def __init__(self, vocab: int = 100, d: int = 32, heads: int = 4, depth: int = 3) -> None:
        super().__init__()
        self.emb = nn.Embedding(vocab, d)
        self.blocks = nn.Sequential(*[Block(d, heads) for _ in range(depth)])
        self.ln = nn.LayerNorm(d)
        self.head = nn.Linear(d, vocab)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        return self.head(self.ln(self.blocks(self.emb(ids))))
