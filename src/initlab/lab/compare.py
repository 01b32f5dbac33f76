"""The seeds' training comparison: the same deep MLP trained once per initialization scheme.

On scikit-learn's bundled digits (the offline stand-in for MNIST), a deep MLP
``64 → width (× depth, activation after each) → 10`` is initialized with

* ``zeros``: every weight 0. All hidden units of a layer compute the same function and get the
  same gradient — here exactly 0, since every downstream weight is 0 — so only the output bias
  learns: the net predicts the class prior, ≈ 10 % accuracy (no symmetry breaking);
* ``normal``: N(0, 1) weights, ignoring fan-in: the pre-activation variance grows by fan_in·E[φ²]
  per layer (×32 for ReLU at width 64), so the loss starts huge and often diverges;
* ``xavier``: Var = 2/(fan_in + fan_out) (Glorot & Bengio 2010);
* ``he``: Var = g²/fan_in with g = 1/√E[φ(z)²] (√2 for ReLU; He et al. 2015),

biases 0, then trained with :func:`initlab.lab.train.train` from the same seed.

Examples:
    >>> r = compare_inits(("zeros", "he"), depth=3, width=32, epochs=3)
    >>> r.run("he").final_test_accuracy > r.run("zeros").final_test_accuracy + 0.5
    True
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from initlab.core import schemes as S
from initlab.core.activations import get_activation
from initlab.errors import InitError
from initlab.lab.data import Split, load_digits_split
from initlab.lab.demo import _MODULES, _ActModule
from initlab.lab.train import OPTIMIZERS, RunRecord, train

Fill = Callable[[torch.Tensor, str, torch.Generator], torch.Tensor]

# name → (fill a weight in place, one-line description)
COMPARE_SCHEMES: dict[str, tuple[Fill, str]] = {
    "zeros": (lambda w, a, g: S.zeros_(w), "all weights 0: no symmetry breaking"),
    "normal": (lambda w, a, g: S.normal_(w, 0.0, 1.0, generator=g), "N(0, 1), ignoring fan_in"),
    "xavier": (lambda w, a, g: S.xavier_normal_(w, generator=g), "Var = 2/(fan_in+fan_out)"),
    "he": (lambda w, a, g: S.he_normal_(w, a, generator=g), "Var = g²/fan_in, g = 1/√E[φ(z)²]"),
}


@dataclass(frozen=True)
class ComparisonResult:
    """One :class:`RunRecord` per scheme, same architecture, data and seed."""

    runs: tuple[RunRecord, ...]
    schemes: tuple[str, ...]
    activation: str
    depth: int
    width: int
    epochs: int
    seed: int
    data: dict[str, Any]

    def run(self, scheme: str) -> RunRecord:
        """The run of ``scheme``."""
        for name, r in zip(self.schemes, self.runs, strict=True):
            if name == scheme:
                return r
        raise InitError(f"ComparisonResult.run: no run for scheme {scheme!r}; have {self.schemes}")

    def to_dict(self) -> dict[str, Any]:
        return {
            "activation": self.activation,
            "depth": self.depth,
            "width": self.width,
            "epochs": self.epochs,
            "seed": self.seed,
            "data": dict(self.data),
            "runs": [{"scheme": s, **r.to_dict()} for s, r in zip(self.schemes, self.runs,
                                                                  strict=True)],
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict())


def build_mlp(in_features: int, out_features: int, depth: int, width: int,
              activation: str) -> nn.Sequential:
    """``in → width`` then ``depth − 1`` more ``width → width`` hidden layers, each followed by
    ``activation``, and a ``width → out`` head.

    Examples:
        >>> len(build_mlp(64, 10, 3, 16, "relu"))
        7
    """
    act = get_activation(activation)
    module_type = _MODULES.get(act.name)
    layers: list[nn.Module] = []
    d = in_features
    for _ in range(depth):
        layers += [nn.Linear(d, width),
                   module_type() if module_type is not None else _ActModule(act.torch_fn, act.name)]
        d = width
    layers.append(nn.Linear(d, out_features))
    return nn.Sequential(*layers)


def _check_int(name: str, v: Any, lo: int) -> None:
    if isinstance(v, bool) or not isinstance(v, int) or v < lo:
        raise InitError(f"compare_inits: {name} must be an int ≥ {lo}, got {v!r}")


def compare_inits(
    schemes: Sequence[str] = ("zeros", "normal", "xavier", "he"),
    activation: str = "relu",
    depth: int = 6,
    width: int = 64,
    epochs: int = 15,
    seed: int = 0,
    *,
    lr: float = 0.01,
    batch_size: int = 64,
    optimizer: str = "sgd",
    data: Split | None = None,
) -> ComparisonResult:
    """Train the same deep MLP once per scheme; the same seed for data, weights and batches.

    Args:
        schemes: names from :data:`COMPARE_SCHEMES` (each at most once).
        activation: any registered activation name (``relu``, ``tanh``, ``gelu``...).
        depth, width: hidden layers and their width.
        epochs, lr, batch_size, optimizer: passed to :func:`initlab.lab.train.train`.
        seed: seeds the split, the weights (a fresh generator per scheme) and the batch order.
        data: a prepared split (default: ``load_digits_split(seed)``).

    Raises:
        InitError: an unknown scheme or activation, or a bad size.
    """
    if isinstance(schemes, str):
        schemes = tuple(s.strip() for s in schemes.split(","))
    names = tuple(schemes)
    if not names:
        raise InitError(f"compare_inits: schemes is empty; choose from {list(COMPARE_SCHEMES)}")
    unknown = [n for n in names if n not in COMPARE_SCHEMES]
    if unknown:
        raise InitError(
            f"compare_inits: unknown scheme(s) {unknown}; choose from {list(COMPARE_SCHEMES)}"
        )
    if len(set(names)) != len(names):
        raise InitError(f"compare_inits: schemes repeats a name: {list(names)}")
    _check_int("depth", depth, 1)
    _check_int("width", width, 1)
    _check_int("epochs", epochs, 1)
    _check_int("seed", seed, 0)
    if optimizer not in OPTIMIZERS:
        raise InitError(
            f"compare_inits: optimizer must be one of {', '.join(OPTIMIZERS)}, got {optimizer!r}"
        )
    act_name = get_activation(activation).name  # raises InitError for an unknown name
    split = data if data is not None else load_digits_split(seed=seed)
    runs = []
    for name in names:
        # every weight and bias is overwritten below, so nn.Linear's default draw is irrelevant
        model = build_mlp(split.num_features, split.num_classes, depth, width, act_name)
        fill = COMPARE_SCHEMES[name][0]
        g = torch.Generator().manual_seed(seed + 1)
        with torch.no_grad():
            for i, m in enumerate(model):
                if isinstance(m, nn.Linear):
                    # the head is linear: He/Xavier gain 1 there ("linear" activation)
                    last = i == len(model) - 1
                    fill(m.weight, "linear" if last else act_name, g)
                    S.zeros_(m.bias)
        cfg = {"scheme": name, "activation": act_name, "depth": depth, "width": width,
               "data": split.name}
        runs.append(train(model, split, epochs=epochs, lr=lr, batch_size=batch_size, seed=seed,
                          optimizer=optimizer, config=cfg))
    return ComparisonResult(tuple(runs), names, act_name, depth, width, epochs, seed,
                            split.to_dict())


__all__ = ["COMPARE_SCHEMES", "ComparisonResult", "build_mlp", "compare_inits"]
