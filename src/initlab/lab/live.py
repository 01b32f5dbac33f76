"""A training comparison that reports as it goes: the explorer's live loss curves.

:func:`compare_live` trains one MLP per start on the same data with the same seed — each run is
one :func:`initlab.lab.train.train` call, exactly what ``initlab compare`` runs — and reports
every mini-batch's loss through ``on_event`` (train's ``on_step``), so a page can draw the
curves while they grow, stop the comparison (``should_stop``) and bound its time
(``max_seconds``): both are checked after every mini-batch.

Examples:
    >>> events = []
    >>> end = compare_live(["zeros", "he"], epochs=2, depth=2, width=16, on_event=events.append)
    >>> end["reason"], [e["type"] for e in events].count("run")
    ('finished', 2)
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from typing import Any

from initlab.errors import InitError

Event = dict[str, Any]


class _Stop(Exception):
    """Raised from train's ``on_step`` to end a run early (cancel, time limit)."""


def _finite(v: float) -> float | None:
    return v if math.isfinite(v) else None


def compare_live(
    starts: Sequence[str],
    *,
    dataset: str = "digits",
    activation: str = "relu",
    depth: int = 4,
    width: int = 64,
    epochs: int = 10,
    lr: float = 0.01,
    optimizer: str = "sgd",
    batch_size: int = 64,
    seed: int = 0,
    max_seconds: float = 60.0,
    on_event: Callable[[Event], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    device: Any = "cpu",
) -> Event:
    """Train one MLP per start (in turn), reporting as it goes; returns the ``end`` event.

    Events passed to ``on_event``: ``{"type": "begin", "starts", "labels", "dataset",
    "epochs", "steps_per_epoch"}``; one ``{"type": "step", "start", "label", "step", "epoch",
    "loss"}`` per mini-batch (``epoch`` fractional, ``loss`` None once non-finite); one
    ``{"type": "run", "start", "label", "train_loss", "test_accuracy", "final_train_loss",
    "final_test_accuracy", "diverged"}`` per finished run (per-epoch lists from its
    :class:`~initlab.lab.train.RunRecord`); finally ``{"type": "end", "reason": "finished" |
    "cancelled" | "time limit", "final": {start: run event}, "elapsed"}``.

    ``device``: where the MLPs train (``"cpu"``, ``"cuda"``…); each is built and initialized
    on the CPU, then moved.

    Raises:
        InitError: an unknown start, activation or dataset, a bad size, a device this machine
            lacks (before any training).
    """
    from initlab.devices import resolve_device
    from initlab.lab.data import load_dataset
    from initlab.lab.starts import get_start
    from initlab.lab.train import train
    from initlab.lab.zoo import deep_mlp

    dev = resolve_device(device)
    emit = on_event or (lambda e: None)
    if not starts:
        raise InitError("compare_live: starts is empty; give at least one start name")
    if not (isinstance(max_seconds, int | float) and 0 < max_seconds <= 3600):
        raise InitError(f"compare_live: max_seconds must be in (0, 3600], got {max_seconds!r}")
    t0 = time.perf_counter()
    split = load_dataset(dataset, seed=seed)
    if split.task != "classification":
        raise InitError(f"compare_live: {dataset!r} is a {split.task} set; pick a classifier set")
    resolved = [get_start(s) for s in starts]
    models = []
    for st in resolved:
        m = deep_mlp(depth, width, split.num_features, split.num_classes, activation)
        st.apply(m, split.x_train[:256], seed=seed)
        models.append(m)
    per_epoch = math.ceil(split.x_train.shape[0] / batch_size)
    emit({"type": "begin", "starts": [s.name for s in resolved],
          "labels": [s.label for s in resolved], "dataset": split.to_dict(), "epochs": epochs,
          "steps_per_epoch": per_epoch})
    final: dict[str, Event] = {}
    reason = "finished"
    for st, m in zip(resolved, models, strict=True):

        def on_step(step: int, loss: float, st: Any = st) -> None:
            emit({"type": "step", "start": st.name, "label": st.label, "step": step,
                  "epoch": round(step / per_epoch, 4), "loss": _finite(loss)})
            if should_stop is not None and should_stop():
                raise _Stop("cancelled")
            if time.perf_counter() - t0 > max_seconds:
                raise _Stop("time limit")

        try:
            rec = train(m, split, epochs=epochs, lr=lr, batch_size=batch_size, seed=seed,
                        optimizer=optimizer, on_step=on_step, device=dev)
        except _Stop as stop:
            reason = str(stop)
            break
        ev = {"type": "run", "start": st.name, "label": st.label,
              "train_loss": [_finite(v) for v in rec.train_loss],
              "test_accuracy": list(rec.test_accuracy),
              "final_train_loss": _finite(rec.final_train_loss),
              "final_test_accuracy": rec.final_test_accuracy, "diverged": rec.diverged,
              "elapsed": round(time.perf_counter() - t0, 3)}
        final[st.name] = ev
        emit(ev)
    end = {"type": "end", "reason": reason, "final": final,
           "elapsed": round(time.perf_counter() - t0, 3)}
    emit(end)
    return end


__all__ = ["compare_live"]
