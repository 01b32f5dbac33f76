"""A small, deterministic training loop and its record.

:func:`train` runs mini-batch SGD with momentum (Polyak 1964) or Adam (Kingma & Ba 2015) on the
cross-entropy loss L = −(1/B) Σ log softmax(f(x))_y, evaluating test accuracy after every epoch.
Everything random (the batch order) comes from ``seed``, so the same model weights, data and
seed give the same :class:`RunRecord`. A non-finite loss stops the run and sets
``diverged=True`` instead of raising: divergence is a result (e.g. N(0, 1) weights, a big lr).

Examples:
    >>> from initlab.lab.data import load_digits_split
    >>> torch.manual_seed(0) and None
    >>> model = torch.nn.Linear(64, 10)
    >>> r = train(model, load_digits_split(), epochs=2, lr=0.05, seed=0)
    >>> len(r.train_loss), r.diverged, r.final_test_accuracy > 0.8
    (2, False, True)
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from initlab.errors import InitError
from initlab.lab.data import Split

OPTIMIZERS = ("sgd", "adam")


def _finite_or_none(v: float) -> float | None:
    return v if math.isfinite(v) else None


@dataclass(frozen=True)
class RunRecord:
    """One training run.

    ``config``: what was trained and how (scheme, activation, sizes, optimizer, lr...);
    ``train_loss[e]``: mean training loss of epoch e; ``test_accuracy[e]``: accuracy on the test
    split after epoch e; ``final_*``: the last epoch's values (``final_train_loss`` is the
    non-finite loss when ``diverged``); ``diverged_epoch``: the epoch (0-based) where the loss
    first became non-finite, or None; ``step_loss``: the loss of every mini-batch (the last one
non-finite when ``diverged``). Non-finite floats become ``null`` in :meth:`to_dict`.
    """

    config: dict[str, Any]
    seed: int
    train_loss: tuple[float, ...]
    test_accuracy: tuple[float, ...]
    final_train_loss: float
    final_test_accuracy: float
    diverged: bool = False
    diverged_epoch: int | None = None
    steps: int = 0
    step_loss: tuple[float, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "config": dict(self.config),
            "seed": self.seed,
            "train_loss": [_finite_or_none(v) for v in self.train_loss],
            "test_accuracy": list(self.test_accuracy),
            "final_train_loss": _finite_or_none(self.final_train_loss),
            "final_test_accuracy": self.final_test_accuracy,
            "diverged": self.diverged,
            "diverged_epoch": self.diverged_epoch,
            "steps": self.steps,
            "step_loss": [_finite_or_none(v) for v in self.step_loss],
            **({"extra": dict(self.extra)} if self.extra else {}),
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict())


@torch.no_grad()
def accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    """Share of rows whose argmax logit is the label; rows with non-finite logits count wrong.

    Examples:
        >>> m = torch.nn.Linear(2, 2)
        >>> 0.0 <= accuracy(m, torch.zeros(3, 2), torch.tensor([0, 1, 1])) <= 1.0
        True
    """
    logits = model(x)
    ok = (logits.argmax(1) == y) & torch.isfinite(logits).all(1)
    return float(ok.float().mean())


def train(
    model: nn.Module,
    data: Split,
    epochs: int = 10,
    lr: float = 0.01,
    batch_size: int = 64,
    seed: int = 0,
    *,
    optimizer: str = "sgd",
    momentum: float = 0.9,
    config: dict[str, Any] | None = None,
) -> RunRecord:
    """Train ``model`` on ``data`` (in place) with cross-entropy; record per-epoch metrics.

    Args:
        model: maps ``data.x_train`` rows to ``data.num_classes`` logits; trained in place.
        data: a :class:`~initlab.lab.data.Split`.
        epochs: passes over the training split (≥ 1).
        lr: learning rate (> 0).
        batch_size: mini-batch size (≥ 1).
        seed: seed of the batch order.
        optimizer: ``"sgd"`` (momentum ``momentum``) or ``"adam"``.
        config: extra keys recorded in ``RunRecord.config``.

    Raises:
        InitError: a bad argument (the message names it).
    """
    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
        raise InitError(f"train: epochs must be an int ≥ 1, got {epochs!r}")
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise InitError(f"train: batch_size must be an int ≥ 1, got {batch_size!r}")
    if not isinstance(lr, int | float) or not math.isfinite(lr) or lr <= 0:
        raise InitError(f"train: lr must be a finite number > 0 (e.g. 0.01), got {lr!r}")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise InitError(f"train: seed must be a non-negative int, got {seed!r}")
    if optimizer not in OPTIMIZERS:
        raise InitError(
            f"train: optimizer must be one of {', '.join(OPTIMIZERS)}, got {optimizer!r}"
        )
    if not 0.0 <= momentum < 1.0:
        raise InitError(f"train: momentum must be in [0, 1), got {momentum!r}")
    if not isinstance(data, Split):
        raise InitError(
            f"train: data must be a Split (initlab.lab.data.load_digits_split()), got "
            f"{type(data).__name__}"
        )
    params = [p for p in model.parameters() if p.requires_grad]
    if not params:
        raise InitError("train: the model has no trainable parameters")
    opt: torch.optim.Optimizer
    if optimizer == "sgd":
        opt = torch.optim.SGD(params, lr=lr, momentum=momentum)
    else:
        opt = torch.optim.Adam(params, lr=lr)
    cfg = {"optimizer": optimizer, "lr": float(lr), "batch_size": batch_size, "epochs": epochs}
    if optimizer == "sgd":
        cfg["momentum"] = float(momentum)
    cfg.update(config or {})

    g = torch.Generator().manual_seed(seed)
    n = data.x_train.shape[0]
    losses: list[float] = []
    accs: list[float] = []
    step_losses: list[float] = []
    diverged_epoch: int | None = None
    steps = 0
    model.train()
    for epoch in range(epochs):
        perm = torch.randperm(n, generator=g)
        total, count = 0.0, 0
        for start in range(0, n, batch_size):
            idx = perm[start : start + batch_size]
            loss = F.cross_entropy(model(data.x_train[idx]), data.y_train[idx])
            value = float(loss.detach())
            step_losses.append(value)
            if not math.isfinite(value):
                total, count = value, 1
                diverged_epoch = epoch
                break
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            steps += 1
            total += value * idx.numel()
            count += idx.numel()
        losses.append(total / count)
        model.eval()
        accs.append(accuracy(model, data.x_test, data.y_test))
        model.train()
        if diverged_epoch is not None:
            break
    return RunRecord(
        config=cfg,
        seed=seed,
        train_loss=tuple(losses),
        test_accuracy=tuple(accs),
        final_train_loss=losses[-1],
        final_test_accuracy=accs[-1],
        diverged=diverged_epoch is not None,
        diverged_epoch=diverged_epoch,
        steps=steps,
        step_loss=tuple(step_losses),
    )


__all__ = ["OPTIMIZERS", "RunRecord", "accuracy", "train"]
