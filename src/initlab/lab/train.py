"""A small, deterministic training loop and its record.

:func:`train` runs mini-batch SGD with momentum (Polyak 1964) or Adam (Kingma & Ba 2015) on the
cross-entropy loss L = −(1/B) Σ log softmax(f(x))_y (regression splits: the mean squared error),
evaluating test accuracy (regression: R² = 1 − MSE/Var[y]) after every epoch.
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
import time
from collections.abc import Callable
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
    non-finite when ``diverged``); ``seconds``: wall time of the loop; ``extra``: what the
    caller measured around the run (the comparison's step-0 verdict and gradient variances).
    For a regression split ``test_accuracy`` holds R² = 1 − MSE/Var[y].
    Non-finite floats become ``null`` in :meth:`to_dict`.
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
    seconds: float = field(default=0.0, compare=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "config": dict(self.config),
            "seed": self.seed,
            "train_loss": [_finite_or_none(v) for v in self.train_loss],
            "test_accuracy": [_finite_or_none(v) for v in self.test_accuracy],
            "final_train_loss": _finite_or_none(self.final_train_loss),
            "final_test_accuracy": _finite_or_none(self.final_test_accuracy),
            "diverged": self.diverged,
            "diverged_epoch": self.diverged_epoch,
            "steps": self.steps,
            "step_loss": [_finite_or_none(v) for v in self.step_loss],
            "seconds": self.seconds,
            **({"extra": dict(self.extra)} if self.extra else {}),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> RunRecord:
        """The inverse of :meth:`to_dict` (``null`` losses come back as NaN).

        Examples:
            >>> r = RunRecord({"lr": 0.1}, 0, (1.0, float("nan")), (0.5, 0.1), float("nan"), 0.1)
            >>> RunRecord.from_dict(r.to_dict()).test_accuracy
            (0.5, 0.1)
        """
        def f(v: Any) -> float:
            return math.nan if v is None else float(v)

        return cls(
            config=dict(d["config"]),
            seed=int(d["seed"]),
            train_loss=tuple(f(v) for v in d["train_loss"]),
            test_accuracy=tuple(f(v) for v in d["test_accuracy"]),
            final_train_loss=f(d["final_train_loss"]),
            final_test_accuracy=f(d["final_test_accuracy"]),
            diverged=bool(d.get("diverged", False)),
            diverged_epoch=d.get("diverged_epoch"),
            steps=int(d.get("steps", 0)),
            step_loss=tuple(f(v) for v in d.get("step_loss", ())),
            extra=dict(d.get("extra", {})),
            seconds=float(d.get("seconds", 0.0)),
        )

    def steps_to(self, threshold: float, window: int = 20) -> int | None:
        """The first step at which the mean training loss of the last ``window`` steps is
        ≤ ``threshold`` (1-based), or None if it never gets there.

        Examples:
            >>> r = RunRecord({}, 0, (1.0,), (0.9,), 0.2, 0.9, step_loss=(3.0, 1.0, 0.4, 0.2))
            >>> r.steps_to(0.5, window=1), r.steps_to(0.5, window=2), r.steps_to(0.1)
            (3, 4, None)
        """
        return steps_to_threshold(self.step_loss, threshold, window)

    def to_json(self) -> str:
        return json.dumps(self.to_dict())


def steps_to_threshold(losses: Any, threshold: float, window: int = 20) -> int | None:
    """First (1-based) step whose trailing mean over ``window`` steps (fewer at the start) is
    ≤ ``threshold``; None if never (a non-finite loss ends the search).

    Examples:
        >>> steps_to_threshold([2.0, 1.0, 0.1], 0.5, window=1)
        3
    """
    if not isinstance(window, int) or window < 1:
        raise InitError(f"steps_to_threshold: window must be an int ≥ 1, got {window!r}")
    total = 0.0
    vals = list(losses)
    for i, v in enumerate(vals):
        if not math.isfinite(v):
            return None
        total += v
        if i >= window:
            total -= vals[i - window]
        if total / min(i + 1, window) <= threshold:
            return i + 1
    return None


def _lm_loss(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))


def _loss_fn(task: str) -> Any:
    """Cross-entropy (classification; per position for ``"language"``) or MSE (regression)."""
    return {"classification": F.cross_entropy, "language": _lm_loss}.get(task, F.mse_loss)


@torch.no_grad()
def evaluate(model: nn.Module, data: Split) -> float:
    """Test accuracy (classification; next-token accuracy for ``"language"``) or
    R² = 1 − MSE/Var[y] (regression) on the test split.

    Examples:
        >>> from initlab.lab.data import load_dataset
        >>> d = load_dataset("teacher", n_train=10, n_test=10)
        >>> evaluate(torch.nn.Linear(20, 1), d) < 1.0
        True
    """
    if data.task == "classification":
        return accuracy(model, data.x_test, data.y_test)
    if data.task == "language":  # next-character accuracy over every position
        logits = model(data.x_test)
        v = logits.shape[-1]
        return accuracy(lambda _: logits.reshape(-1, v), data.x_test, data.y_test.reshape(-1))
    pred = model(data.x_test)
    if not bool(torch.isfinite(pred).all()):
        return math.nan
    mse = float(F.mse_loss(pred, data.y_test))
    var = float(data.y_test.var(unbiased=False))
    return 1.0 - mse / var if var > 0 else -mse


@torch.no_grad()
def accuracy(model: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor,
             y: torch.Tensor) -> float:
    """Share of rows whose argmax logit is the label; rows with non-finite logits count wrong.

    Examples:
        >>> m = torch.nn.Linear(2, 2)
        >>> 0.0 <= accuracy(m, torch.zeros(3, 2), torch.tensor([0, 1, 1])) <= 1.0
        True
    """
    logits = model(x)
    ok = (logits.argmax(1) == y) & torch.isfinite(logits).all(1)
    return float(ok.float().mean())


def _check_args(data: Any, epochs: Any, lr: Any, batch_size: Any, seed: Any, optimizer: Any,
                momentum: Any) -> None:
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
    on_step: Callable[[int, float], None] | None = None,
    device: str | torch.device | None = None,
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
        on_step: called as ``on_step(step, loss)`` after every mini-batch (progress bars).
            A ``KeyboardInterrupt`` (Ctrl-C) propagates: the unfinished run is not recorded.
        device: where to train (``"cpu"``, ``"cuda"``, ``"cuda:1"``, ``"mps"``): the model is
            moved there (in place) and the data with it; None (default): where the model's
            parameters are. The batch order is drawn on the CPU, so it is the same everywhere.

    Raises:
        InitError: a bad argument (the message names it), a device this machine lacks.
    """
    _check_args(data, epochs, lr, batch_size, seed, optimizer, momentum)
    from initlab.devices import module_device, resolve_device

    if device is None:  # the model stays where it is (several devices: the first one's)
        dev = module_device(model)
    else:
        dev = resolve_device(device)
        model.to(dev)
    data = data.to(dev)
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

    loss_fn = _loss_fn(data.task)
    g = torch.Generator().manual_seed(seed)
    n = data.x_train.shape[0]
    x_train, y_train = data.x_train, data.y_train
    t0 = time.perf_counter()
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
            idx = perm[start : start + batch_size].to(dev)
            loss = loss_fn(model(x_train[idx]), y_train[idx])
            value = float(loss.detach())
            step_losses.append(value)
            if on_step is not None:
                on_step(len(step_losses), value)
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
        accs.append(evaluate(model, data))
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
        seconds=time.perf_counter() - t0,
    )


__all__ = ["OPTIMIZERS", "RunRecord", "accuracy", "evaluate", "steps_to_threshold", "train"]
