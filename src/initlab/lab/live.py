"""A training comparison that reports as it goes: the explorer's live loss curves.

:func:`compare_live` trains one MLP per start on the same data with the same seed, one epoch of
each start in turn, and yields an event after every epoch, so a page can draw the curves while
they grow, stop the run between epochs (``should_stop``) and bound its time (``max_seconds``).
Each epoch is one call of :func:`initlab.lab.train.train` continuing from the current weights
(batch order seeded by ``seed + epoch``; the optimizer's momentum restarts each epoch, the one
difference from a single multi-epoch ``train`` call).

Examples:
    >>> evs = list(compare_live(["zeros", "he"], epochs=2, depth=2, width=16))
    >>> [e["type"] for e in evs][-1], sum(e["type"] == "epoch" for e in evs)
    ('end', 4)
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from initlab.errors import InitError


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
    should_stop: Callable[[], bool] | None = None,
) -> Iterator[dict[str, Any]]:
    """Yield ``{"type": "begin"}``, then one ``{"type": "epoch", "start", "epoch",
    "train_loss", "test_accuracy", "diverged", "elapsed"}`` per start and epoch (round robin),
    then ``{"type": "end", "reason": "finished" | "cancelled" | "time limit", "final": {...}}``.

    A start whose loss became non-finite stops (``diverged``) and the others go on.

    Raises:
        InitError: an unknown start, activation or dataset, a bad size (before any training).
    """
    from initlab.lab.data import load_dataset
    from initlab.lab.starts import get_start
    from initlab.lab.train import train
    from initlab.lab.zoo import deep_mlp

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
    yield {"type": "begin", "starts": [s.name for s in resolved],
           "labels": [s.label for s in resolved], "dataset": split.to_dict(), "epochs": epochs}
    alive = [True] * len(models)
    last: dict[str, dict[str, Any]] = {}
    reason = "finished"
    for epoch in range(epochs):
        for i, (st, m) in enumerate(zip(resolved, models, strict=True)):
            if should_stop is not None and should_stop():
                reason = "cancelled"
                break
            if time.perf_counter() - t0 > max_seconds:
                reason = "time limit"
                break
            if not alive[i]:
                continue
            rec = train(m, split, epochs=1, lr=lr, batch_size=batch_size, seed=seed + epoch,
                        optimizer=optimizer)
            alive[i] = not rec.diverged
            ev = {"type": "epoch", "start": st.name, "label": st.label, "epoch": epoch + 1,
                  "train_loss": _finite(rec.final_train_loss),
                  "test_accuracy": rec.final_test_accuracy, "diverged": rec.diverged,
                  "elapsed": round(time.perf_counter() - t0, 3)}
            last[st.name] = ev
            yield ev
        if reason != "finished":
            break
    yield {"type": "end", "reason": reason, "final": last,
           "elapsed": round(time.perf_counter() - t0, 3)}


__all__ = ["compare_live"]
