"""Tables and heatmaps of a sweep store (:mod:`initlab.lab.sweep`).

:func:`sweep_table` lists one row per setting (mean ± std over seeds of the final test accuracy,
the mean final train loss, diverged runs); :func:`plot_heatmaps` draws the mean final accuracy
(or loss) over two keys, e.g. depth × σ_w², one panel per value of the other varying keys.

Examples:
    >>> from initlab.lab.sweep import StoredRun
    >>> rs = [StoredRun(str(i), {"depth": d, "lr": lr, "seed": 0},
    ...       {"final_test_accuracy": 0.1 * d, "final_train_loss": 1.0}, 0.0)
    ...       for i, (d, lr) in enumerate([(1, .1), (2, .1), (1, .01), (2, .01)])]
    >>> heatmap_axes(rs)
    ('depth', 'lr', [])
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rich.table import Table

from initlab.errors import InitError
from initlab.lab.sweep import StoredRun, summarize_runs, varying_keys
from initlab.report.figures import pyplot, save_png

METRICS = ("accuracy", "loss")


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)


def sweep_table(runs: Sequence[StoredRun], title: str = "sweep") -> Table:
    """One row per setting of the varying keys (seeds pooled)."""
    groups = summarize_runs(runs)
    keys = [k for k, _ in groups[0].setting] if groups else []
    t = Table(title=f"{title}: {len(runs)} finished runs, {len(groups)} settings")
    for k in keys:
        t.add_column(k)
    for col in ("runs", "accuracy", "final loss", "diverged"):
        t.add_column(col, justify="right")
    for g in groups:
        acc = (f"{100 * g.accuracy_mean:.1f}%" + (f" ± {100 * g.accuracy_std:.1f}"
                                                   if g.n > 1 else ""))
        loss = f"{g.loss_mean:.4f}" if math.isfinite(g.loss_mean) else "—"
        div = f"[red]{g.diverged}[/red]" if g.diverged else "0"
        t.add_row(*[_fmt(v) for _, v in g.setting], str(g.n), acc, loss, div)
    return t


def heatmap_axes(runs: Sequence[StoredRun], x: str | None = None,
                 y: str | None = None) -> tuple[str, str, list[str]]:
    """The keys on the x and y axes (default: the two varying keys, seed aside, with the most
    values; numeric keys first) and the other varying keys (one panel per combination).

    Raises:
        InitError: fewer than two varying keys, or a key that does not vary.
    """
    vary = [k for k in varying_keys(runs) if k != "seed"]
    for k in (x, y):
        if k is not None and k not in vary:
            raise InitError(f"sweep show: {k!r} does not vary in this store; varying keys: "
                            f"{', '.join(vary) or 'none'}")

    def n_values(k: str) -> int:
        return len({str(r.config.get(k)) for r in runs})

    def numeric(k: str) -> bool:
        return all(isinstance(r.config.get(k), int | float) for r in runs)

    rest = sorted((k for k in vary if k not in (x, y)),
                  key=lambda k: (not numeric(k), -n_values(k)))
    if x is None:
        x, rest = (rest[0], rest[1:]) if rest else (None, rest)
    if y is None:
        y, rest = (rest[0], rest[1:]) if rest else (None, rest)
    if x is None or y is None:
        raise InitError(f"sweep show: a heatmap needs two varying keys; this store varies "
                        f"{', '.join(vary) or 'nothing'} (see the table)")
    return x, y, [k for k in vary if k not in (x, y)]


def _sorted_values(runs: Sequence[StoredRun], key: str) -> list[Any]:
    vals = {_key(r.config.get(key)): r.config.get(key) for r in runs}
    return sorted(vals.values(),
                  key=lambda v: (0, v) if isinstance(v, int | float) else (1, str(v)))


def _key(v: Any) -> str:
    return repr(v)


def plot_heatmaps(runs: Sequence[StoredRun], path: str | Path, *, x: str | None = None,
                  y: str | None = None, metric: str = "accuracy", max_panels: int = 6) -> Path:
    """Mean final ``metric`` over (x, y) for each combination of the other varying keys.

    Raises:
        InitError: an unknown metric, too few varying keys, no runs.
    """
    if metric not in METRICS:
        raise InitError(f"sweep show: metric must be one of {', '.join(METRICS)}, got {metric!r}")
    if not runs:
        raise InitError("sweep show: the store has no finished runs yet")
    x, y, others = heatmap_axes(runs, x, y)
    groups = summarize_runs(runs, [*others, y, x])
    panels: dict[tuple[tuple[str, Any], ...], dict[tuple[str, str], Any]] = {}
    for g in groups:
        s = dict(g.setting)
        panel = tuple((k, s[k]) for k in others)
        panels.setdefault(panel, {})[(_key(s[y]), _key(s[x]))] = g
    xs, ys = _sorted_values(runs, x), _sorted_values(runs, y)
    plt = pyplot()
    items = list(panels.items())[:max_panels]
    cols = min(3, len(items))
    rows = math.ceil(len(items) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.6 * cols + 0.8, 3.8 * rows), squeeze=False)
    cmap = "viridis" if metric == "accuracy" else "magma_r"
    im = None
    for ax, (panel, cells) in zip(axes.flat, items, strict=False):
        grid = [[math.nan] * len(xs) for _ in ys]
        for i, yv in enumerate(ys):
            for j, xv in enumerate(xs):
                g = cells.get((_key(yv), _key(xv)))
                if g is not None:
                    grid[i][j] = 100 * g.accuracy_mean if metric == "accuracy" else g.loss_mean
        vmin, vmax = (0, 100) if metric == "accuracy" else (None, None)
        im = ax.imshow(grid, origin="lower", aspect="auto", cmap=cmap, vmin=vmin, vmax=vmax)
        for i in range(len(ys)):
            for j in range(len(xs)):
                v = grid[i][j]
                if math.isfinite(v):
                    ax.text(j, i, f"{v:.0f}" if metric == "accuracy" else f"{v:.2g}",
                            ha="center", va="center", fontsize=8,
                            color="white" if (metric == "accuracy" and v < 50) else "black")
        ax.set_xticks(range(len(xs)), [_fmt(v) for v in xs], fontsize=8,
                      rotation=30 if any(len(_fmt(v)) > 5 for v in xs) else 0)
        ax.set_yticks(range(len(ys)), [_fmt(v) for v in ys], fontsize=8)
        ax.set_xlabel(x)
        ax.set_ylabel(y)
        ax.set_title(", ".join(f"{k}={_fmt(v)}" for k, v in panel) or "all runs", fontsize=9)
    for ax in list(axes.flat)[len(items):]:
        ax.axis("off")
    if im is not None:
        fig.colorbar(im, ax=axes.ravel().tolist(), shrink=0.85,
                     label="final test accuracy (%)" if metric == "accuracy"
                     else "final train loss")
    n_seeds = len({r.config.get("seed") for r in runs})
    fig.suptitle(f"mean over {n_seeds} seed{'s' if n_seeds > 1 else ''}"
                 + (f" (first {max_panels} of {len(panels)} panels)"
                    if len(panels) > max_panels else ""), fontsize=10)
    return save_png(fig, path)


__all__ = ["METRICS", "heatmap_axes", "plot_heatmaps", "sweep_table"]
