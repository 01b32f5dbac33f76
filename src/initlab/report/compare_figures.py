"""Figure, table and HTML report of a training comparison
(:func:`initlab.lab.compare.compare_inits`).

The figure has four panels: the training loss per step (mean over seeds, the band from the
lowest to the highest seed; log y; a moving average over 10 steps; a diverged run's curve ends
where its loss stopped being finite), the final test accuracy per start (bars: mean; dots: seeds;
the chance level dashed), and the per-layer variance of the weight gradients Var[∂L/∂W] before
and after training (Glorot & Bengio 2010, Fig. 7). matplotlib's Agg backend: no display needed.
"""

from __future__ import annotations

import base64
import html
import math
from pathlib import Path
from typing import Any

from rich.table import Table

from initlab.files import write_text_atomic
from initlab.lab.compare import ComparisonResult
from initlab.report.figures import png_bytes, pyplot, save_png

_NAMED = {"zeros": "#7f7f7f", "normal": "#d62728", "xavier": "#1f77b4", "he": "#2ca02c",
          "small": "#ff7f0e", "orthogonal": "#9467bd", "lecun": "#8c564b", "lsuv": "#e377c2"}
_CYCLE = ("#17becf", "#bcbd22", "#e377c2", "#8c564b", "#9467bd", "#ff7f0e")
SMOOTH = 10


def colours(result: ComparisonResult) -> dict[str, str]:
    """A colour per start: fixed ones for the classic names, a cycle for the rest."""
    out, k = {}, 0
    for name in result.schemes:
        if name in _NAMED:
            out[name] = _NAMED[name]
        else:
            out[name] = _CYCLE[k % len(_CYCLE)]
            k += 1
    return out


def _smooth(values: list[float], w: int) -> list[float]:
    out, total = [], 0.0
    for i, v in enumerate(values):
        total += v
        if i >= w:
            total -= values[i - w]
        out.append(total / min(i + 1, w))
    return out


def _finite_prefix(values: tuple[float, ...]) -> list[float]:
    out = []
    for v in values:
        if not math.isfinite(v):
            break
        out.append(v)
    return out


def _loss_band(runs: Any) -> tuple[list[int], list[float], list[float], list[float]]:
    curves = [_smooth(_finite_prefix(r.step_loss), SMOOTH) for r in runs]
    n = max((len(c) for c in curves), default=0)
    xs, mean, lo, hi = [], [], [], []
    for i in range(n):
        vals = [c[i] for c in curves if len(c) > i]
        xs.append(i + 1)
        mean.append(math.exp(sum(math.log(max(v, 1e-12)) for v in vals) / len(vals)))
        lo.append(min(vals))
        hi.append(max(vals))
    return xs, mean, lo, hi


def _clip_loss_axis(ax: Any, result: ComparisonResult) -> float:
    """A diverging (or exploding) run would squash every other curve into a line: the axis
    stops at 100× the highest first-step loss (the x label says so). Returns the top."""
    first = [v[0] for v in (_finite_prefix(r.step_loss) for r in result.runs) if v]
    peak = max((v for r in result.runs for v in _finite_prefix(r.step_loss)), default=0.0)
    if not first or not (peak > 100 * max(first) or any(r.diverged for r in result.runs)):
        return math.inf
    top = 100 * max(first)
    ax.set_ylim(top=top)
    return top


def _loss_panel(ax_loss: Any, result: ComparisonResult, col: dict[str, str],
                classification: bool) -> None:
    crosses: list[tuple[int, float, str]] = []
    curves: list[tuple[Any, list[int], list[float], str]] = []  # (line, xs, mean, colour)
    for start in result.starts:
        runs = [r for r in result.runs if r.config.get("start") == start.name]
        if not runs:
            continue
        xs, mean, lo, hi = _loss_band(runs)
        n_div = sum(r.diverged for r in runs)
        label = start.label + (f" ({n_div}/{len(runs)} diverged)" if n_div else "")
        if xs:
            (line,) = ax_loss.plot(xs, mean, color=col[start.name], lw=1.4, label=label)
            if not n_div:  # a diverged run's curve ends in an ✕ instead
                curves.append((line, xs, mean, col[start.name]))
            if len(runs) > 1:
                ax_loss.fill_between(xs, lo, hi, color=col[start.name], alpha=0.2, lw=0)
            for r in runs:
                if r.diverged:
                    k = len(_finite_prefix(r.step_loss))
                    if k:
                        crosses.append((k, mean[k - 1], col[start.name]))
        else:
            ax_loss.plot([], [], color=col[start.name], label=label)
    ax_loss.set_yscale("log")
    top = _clip_loss_axis(ax_loss, result)
    for k, y, c in crosses:  # where a diverged run's loss stopped being finite
        ax_loss.plot(k, min(y, top / 1.5), "x", color=c, ms=9, mew=2)
    for line, xs, mean, c in curves:  # a finite curve that leaves the clipped axis: say where
        above = next((i for i, v in enumerate(mean) if v > top), None)
        if above is not None:
            ax_loss.plot(xs[above], top / 2, "^", color=c, ms=8)
            line.set_label(f"{line.get_label()} (above the axis from step {xs[above]}, "
                           f"max {max(mean):.2g})")
    ax_loss.set_xlabel("step (mini-batch)" + (f"; loss axis clipped at 100× the first loss "
                                              f"({top:.3g})" if math.isfinite(top) else ""))
    ax_loss.set_ylabel("training loss" + (" (cross-entropy)" if classification else " (MSE)"))
    seeds = len(result.seeds)
    ax_loss.set_title(f"training loss, {SMOOTH}-step average"
                      + (f"; band: min–max over {seeds} seeds" if seeds > 1 else ""))
    ax_loss.legend(fontsize=8)
    ax_loss.grid(True, which="both", alpha=0.3)


def _ranges(layers: list[int]) -> str:
    """[1, 2, 3, 5] → "1–3, 5"."""
    out, start = [], layers[0]
    for a, b in zip(layers, [*layers[1:], None], strict=True):
        if b != a + 1:
            out.append(f"{start}–{a}" if a != start else f"{a}")
            start = b
    return ", ".join(out)


def _grad_panel(ax: Any, result: ComparisonResult, col: dict[str, str], key: str,
                when: str) -> None:
    from matplotlib.ticker import MaxNLocator

    for s in result.summaries:
        vals = getattr(s, key)
        pts = [(i + 1, v) for i, v in enumerate(vals) if math.isfinite(v) and v > 0]
        if pts:
            ax.plot(*zip(*pts, strict=True), "o-", color=col[s.start], label=s.label, ms=4)
    ax.set_yscale("log")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("layer (input → output)")
    ax.set_ylabel("Var[∂L/∂W]")
    ax.set_title(f"weight-gradient variance per layer, {when}")
    ax.grid(True, which="both", alpha=0.3)
    zero = [s.label for s in result.summaries
            if getattr(s, key) and all(v == 0 for v in getattr(s, key))]
    notes = [f"all gradients exactly 0: {', '.join(zero)}"] if zero else []
    for s in result.summaries:  # a layer left out of a line says why (dead, or overflowed)
        vals = getattr(s, key)
        dead = [i + 1 for i, v in enumerate(vals) if v == 0]
        if dead and s.label not in zero:
            notes.append(f"exactly 0 at layer {_ranges(dead)}: {s.label}")
        bad = [i + 1 for i, v in enumerate(vals) if not math.isfinite(v)]
        if bad:
            where = "every layer" if len(bad) == len(vals) else "layer " + _ranges(bad)
            notes.append(f"not finite at {where}: {s.label}")
    if notes:
        ax.text(0.01, 0.01, "\n".join(notes), fontsize=8, transform=ax.transAxes,
                color="#555", va="bottom")
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=8)
    else:
        ax.text(0.5, 0.5, "no finite non-zero gradients", ha="center", transform=ax.transAxes)


def compare_figure(result: ComparisonResult) -> Any:
    """A matplotlib Figure with the four panels (see the module docstring)."""
    plt = pyplot()
    fig, axes = plt.subplots(2, 2, figsize=(12, 8.5))
    (ax_loss, ax_acc), (ax_g0, ax_g1) = axes
    col = colours(result)
    classification = result.data.get("task", "classification") == "classification"
    _loss_panel(ax_loss, result, col, classification)
    seeds = len(result.seeds)
    names = list(result.summaries)
    xs_b = range(len(names))
    def height(s: Any) -> float:  # a start whose every run diverged has no accuracy: no bar
        return 100 * max(s.accuracy_mean, 0) if math.isfinite(s.accuracy_mean) else 0.0

    ax_acc.bar(xs_b, [height(s) for s in names],
               yerr=[100 * s.accuracy_std for s in names] if seeds > 1 else None,
               color=[col[s.start] for s in names], alpha=0.85, capsize=4)
    for i, s in enumerate(names):
        pts = [100 * r.final_test_accuracy for r in result.runs_of(s.start)
               if not r.diverged and math.isfinite(r.final_test_accuracy)]
        ax_acc.plot([i] * len(pts), pts, "o", color="k", ms=3)
        word = (f"{100 * s.accuracy_mean:.1f}" if math.isfinite(s.accuracy_mean)
                else "diverged:\nno accuracy")
        ax_acc.annotate(word, (i, height(s)),
                        ha="center", va="bottom", fontsize=9, xytext=(0, 3),
                        textcoords="offset points")
    ax_acc.set_xticks(list(xs_b), [s.label for s in names], rotation=20, fontsize=9)
    k = int(result.data.get("num_classes", 10))
    if classification and k > 1:
        ax_acc.axhline(100 / k, ls="--", color="k", lw=0.8, label=f"chance ({k} classes)")
        ax_acc.legend(fontsize=8, loc="upper left")
    ax_acc.set_ylim(0, 105)
    ax_acc.set_ylabel("final test accuracy (%)" if classification else "final test R² (%)")
    ax_acc.set_title(f"after {result.epochs} epochs on {result.data.get('name', 'data')}")

    for ax, key, when in ((ax_g0, "grad_var0", "at step 0"),
                          (ax_g1, "grad_var_end", "after training")):
        _grad_panel(ax, result, col, key, when)
    fig.suptitle(f"{result.model} · {result.activation} · depth {result.depth} · width "
                 f"{result.width} · lr {result.config.get('lr')} ({result.config.get('optimizer')})"
                 + (" · INTERRUPTED" if result.interrupted else ""), fontsize=11)
    fig.tight_layout()
    return fig


def plot_comparison(result: ComparisonResult, path: str | Path) -> Path:
    """Save :func:`compare_figure` as a PNG at ``path`` (parent folders created); return it."""
    return save_png(compare_figure(result), path)


def _acc(s: Any, seeds: int) -> str:
    if not math.isfinite(s.accuracy_mean):
        return "— (diverged)" if s.diverged else "—"
    return f"{100 * s.accuracy_mean:.1f}%" + (f" ± {100 * s.accuracy_std:.1f}" if seeds > 1
                                              else "")


def _steps(s: Any) -> str:
    reached = [k for k in s.steps_to_threshold if k is not None]
    if not reached:
        return "never"
    med = sorted(reached)[len(reached) // 2]
    n = len(s.steps_to_threshold)
    return f"{med}" + (f" ({len(reached)}/{n})" if len(reached) < n else "")


def _ratio(s: Any) -> str:
    """Gradient variance, first layer / last hidden layer, at step 0."""
    v = [x for x in s.grad_var0[:-1] if math.isfinite(x)]
    if len(v) < 2 or v[-1] <= 0:
        return "—"
    return f"{v[0] / v[-1]:.3g}"


def rows(result: ComparisonResult) -> list[dict[str, str]]:
    """The table's rows as strings (shared by the terminal table and the HTML report)."""
    n = len(result.seeds)
    out = []
    for s in result.summaries:
        loss = s.final_loss_mean
        out.append({
            "start": s.start,
            "step-0 verdict": s.verdict0,
            "final loss": f"{loss:.4f}" if math.isfinite(loss) else "—",
            "accuracy" if result.data.get("task") != "regression" else "R²": _acc(s, n),
            f"steps→{result.threshold:g}": _steps(s),
            "∇var L1/Lₙ": _ratio(s),
            "diverged": f"{s.diverged}/{len(s.seeds)}" if s.diverged else "no",
        })
    return out


def compare_table(result: ComparisonResult) -> Table:
    """A rich table: per start the step-0 verdict, final loss, accuracy ± std over seeds, steps
    to the loss threshold (``steps→t``: median over the seeds that reached it), the step-0
    gradient-variance ratio first / last hidden layer (``∇var L1/Lₙ``: 1 = preserved through
    depth), divergence."""
    n = len(result.seeds)
    t = Table(title=f"initialization vs training: {result.model} ({result.activation}), depth "
                    f"{result.depth}, width {result.width}, {result.epochs} epochs, "
                    f"{result.data.get('name', 'data')}, {n} seed{'s' if n > 1 else ''}")
    data = rows(result)
    if not data:
        t.add_column("start")
        t.add_row("no finished runs")
        return t
    for key in data[0]:
        t.add_column(key, justify="left" if key in ("start", "step-0 verdict") else "right",
                     no_wrap=key in ("start", "step-0 verdict"))
    for r in data:
        vals = list(r.values())
        if r["diverged"] != "no":
            vals[-1] = f"[red]{vals[-1]}[/red]"
        t.add_row(*vals)
    return t


def figure_png(result: ComparisonResult) -> bytes:
    """:func:`compare_figure` as PNG bytes."""
    return png_bytes(compare_figure(result), dpi=100)


def compare_html(result: ComparisonResult, title: str | None = None,
                 png: bytes | None = None) -> str:
    """A self-contained HTML report: settings, the table, the figure (base64 PNG; ``png``:
    the figure already rendered)."""
    e = html.escape
    png_b64 = base64.b64encode(png if png is not None else figure_png(result)).decode("ascii")
    title = title or "initlab compare"
    data = rows(result)
    cfg = ", ".join(f"{k}={v}" for k, v in result.config.items())
    parts = [
        "<!DOCTYPE html><html><head><meta charset='utf-8'>",
        f"<title>{e(title)}</title><style>body{{font-family:system-ui,sans-serif;margin:2em;"
        "max-width:1200px;color:#222}table{border-collapse:collapse;font-size:13px}"
        "td,th{padding:3px 10px;border-bottom:1px solid #ddd;text-align:right}"
        "td:first-child,th:first-child{text-align:left}img{max-width:100%}"
        "code{background:#f0f0f0;padding:1px 4px}</style></head><body>",
        f"<h1>{e(title)}</h1>",
        f"<p>Data: <b>{e(str(result.data.get('name')))}</b> ({result.data.get('n_train')} "
        f"train / {result.data.get('n_test')} test) · seeds {e(str(list(result.seeds)))}</p>",
        f"<p><code>{e(cfg)}</code></p>",
    ]
    if result.interrupted:
        parts.append("<p><b>Interrupted</b>: only the finished runs are shown.</p>")
    if data:
        parts.append("<table><tr>" + "".join(f"<th>{e(k)}</th>" for k in data[0]) + "</tr>")
        for r in data:
            parts.append("<tr>" + "".join(f"<td>{e(v)}</td>" for v in r.values()) + "</tr>")
        parts.append("</table>")
    parts += [
        "<p>steps→t: the first step whose mean loss over the last 20 steps reached t "
        "(median over the seeds that did). ∇var L1/Lₙ: Var[∂L/∂W] of the first layer "
        "over the last hidden layer at step 0 (1 = gradient scale preserved through depth).</p>",
        f"<img alt='comparison figure' src='data:image/png;base64,{png_b64}'>",
        "<h2>Starts</h2><ul>",
        *[f"<li><b>{e(s.label)}</b> <code>{e(s.name)}</code>: {e(s.description)}</li>"
          for s in result.starts],
        "</ul></body></html>",
    ]
    return "\n".join(parts)


def write_compare_html(result: ComparisonResult, path: str | Path,
                       png: bytes | None = None) -> Path:
    """Write :func:`compare_html` to ``path`` (parent folders created); return it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(path, compare_html(result, png=png))
    return path


__all__ = ["colours", "compare_figure", "compare_html", "compare_table", "figure_png",
           "plot_comparison", "rows", "write_compare_html"]
