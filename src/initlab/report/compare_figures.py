"""Figure and table of a training comparison (:func:`initlab.lab.compare.compare_inits`).

Left: training loss per mini-batch step, log y, one line per scheme (a diverged run's line ends
with an ✕ at its last finite step). Right: final test accuracy per scheme as bars, with the
10-class chance level (10 %) dashed. matplotlib's Agg backend: no display needed.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from rich.table import Table

from initlab.lab.compare import ComparisonResult
from initlab.report.figures import pyplot, save_png

_COLOURS = {"zeros": "#7f7f7f", "normal": "#d62728", "xavier": "#1f77b4", "he": "#2ca02c"}




def compare_figure(result: ComparisonResult) -> Any:
    """A matplotlib Figure: loss curves (log y) and the final-accuracy bar chart."""
    plt = pyplot()
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(11, 4.2))
    accs = []
    for name, run in zip(result.schemes, result.runs, strict=True):
        colour = _COLOURS.get(name)
        finite = [(i + 1, v) for i, v in enumerate(run.step_loss) if math.isfinite(v) and v > 0]
        if finite:
            xs, ys = zip(*finite, strict=True)
            label = f"{name} (diverged)" if run.diverged else name
            ax_loss.plot(xs, ys, label=label, color=colour, lw=1.2)
            if run.diverged:
                ax_loss.plot(xs[-1], ys[-1], "x", color=colour, ms=9, mew=2)
        accs.append(run.final_test_accuracy)
    ax_loss.set_yscale("log")
    ax_loss.set_xlabel("step (mini-batch)")
    ax_loss.set_ylabel("training cross-entropy")
    ax_loss.set_title(f"training loss ({result.activation}, depth {result.depth}, "
                      f"width {result.width})")
    ax_loss.legend(fontsize=8)
    ax_loss.grid(True, which="both", alpha=0.3)
    bars = ax_acc.bar(result.schemes, [100 * a for a in accs],
                      color=[_COLOURS.get(s, "#9467bd") for s in result.schemes])
    for bar, a in zip(bars, accs, strict=True):
        ax_acc.annotate(f"{100 * a:.1f}%", (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                        ha="center", va="bottom", fontsize=9)
    ax_acc.axhline(100 / 10, ls="--", color="k", lw=0.8, label="chance (10 classes)")
    ax_acc.set_ylim(0, 105)
    ax_acc.set_ylabel("final test accuracy (%)")
    ax_acc.set_title(f"after {result.epochs} epochs ({result.data.get('name', 'data')})")
    ax_acc.legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    return fig


def plot_comparison(result: ComparisonResult, path: str | Path) -> Path:
    """Save :func:`compare_figure` as a PNG at ``path`` (parent folders created); return it."""
    return save_png(compare_figure(result), path, dpi=100)


def compare_table(result: ComparisonResult) -> Table:
    """A rich table: scheme, final train loss, test accuracy, diverged."""
    t = Table(title=f"initialization vs training: {result.activation} MLP, depth "
                    f"{result.depth}, width {result.width}, {result.epochs} epochs, "
                    f"{result.data.get('name', 'data')}")
    t.add_column("scheme")
    t.add_column("final train loss", justify="right")
    t.add_column("test accuracy", justify="right")
    t.add_column("diverged")
    for name, run in zip(result.schemes, result.runs, strict=True):
        loss = run.final_train_loss
        loss_s = f"{loss:.4f}" if math.isfinite(loss) else str(loss)
        div = (f"[red]yes (epoch {run.diverged_epoch + 1})[/red]"
               if run.diverged and run.diverged_epoch is not None else "no")
        t.add_row(name, loss_s, f"{100 * run.final_test_accuracy:.1f}%", div)
    return t


__all__ = ["compare_figure", "compare_table", "plot_comparison"]
