"""Every report figure on its hard cases (NaN model, 1e53 spread, diverged run, long layer names,
200 layers, ReLU/GELU phase planes), checked for structure: no two axes (with their tick labels
and titles) overlap, every limit is finite and sensible, every region drawn is in the legend, no
"nan" printed as if it were a number, integer layer ticks. The cases come from
:mod:`initlab.report.gallery`, which also draws docs/gallery/.
"""

from __future__ import annotations

import math
from itertools import combinations
from typing import Any

import numpy as np
import pytest

from initlab.report import gallery
from initlab.report.figures import pyplot


def _renderer(fig: Any) -> Any:
    fig.canvas.draw()
    return fig.canvas.get_renderer()


def _overlap(a: Any, b: Any) -> float:
    w = min(a.x1, b.x1) - max(a.x0, b.x0)
    h = min(a.y1, b.y1) - max(a.y0, b.y0)
    return max(w, 0) * max(h, 0)


def check_structure(fig: Any, *, max_decades: float = 60) -> None:
    """No overlapping axes (tight boxes: ticks, labels, titles), finite limits, no 'nan' text."""
    r = _renderer(fig)
    axes = [ax for ax in fig.axes if ax.get_visible()]
    boxes = [ax.get_tightbbox(r) for ax in axes]
    for (i, a), (j, b) in combinations(enumerate(boxes), 2):
        # 2 px² of slack: anti-aliased glyph edges may touch
        assert _overlap(a, b) <= 2, f"axes {i} ({axes[i].get_title()!r}) and {j} " \
                                    f"({axes[j].get_title()!r}) overlap"
    for ax in axes:
        for lim, scale in ((ax.get_xlim(), ax.get_xscale()), (ax.get_ylim(), ax.get_yscale())):
            assert all(math.isfinite(v) for v in lim), f"{ax.get_title()!r}: limits {lim}"
            assert lim[0] != lim[1]
            if scale == "log":
                assert min(lim) > 0
                assert math.log10(max(lim) / min(lim)) <= max_decades, \
                    f"{ax.get_title()!r}: log axis spans {lim}"
    from matplotlib.text import Text

    texts = [t.get_text() for t in fig.findobj(Text)]
    assert not [t for t in texts if "nan" in t.split()], "a 'nan' printed as a number"
    for leg in [fig.legends, *[[ax.get_legend()] for ax in axes]]:
        for lg in leg:
            if lg is None:
                continue
            lb = lg.get_window_extent(r)
            for ax in axes:
                if lg.axes is ax:
                    continue  # a legend inside its own axes: checked per figure where it matters
                assert _overlap(lb, ax.get_window_extent(r)) <= 2, "a legend covers another axes"


def _legend_texts(fig: Any) -> list[str]:
    legends = list(fig.legends) + [ax.get_legend() for ax in fig.axes if ax.get_legend()]
    return [t.get_text() for lg in legends for t in lg.get_texts()]


@pytest.fixture(autouse=True)
def _close() -> Any:
    yield
    pyplot().close("all")


# ---------------------------------------------------------------------------------- doctor --
@pytest.mark.parametrize("case", ["healthy", "nan", "long_names", "deep200"])
def test_doctor_figure_structure(case: str) -> None:
    from initlab.report.doctor_figures import diagnosis_figure

    dx = gallery.diagnosis(case)
    fig = diagnosis_figure(dx)
    check_structure(fig)
    r = _renderer(fig)
    depth_axes = fig.axes[:2]
    for ax in depth_axes:  # layer ticks are integers
        ticks = [t for t in ax.get_xticks() if ax.get_xlim()[0] <= t <= ax.get_xlim()[1]]
        assert ticks and all(float(t).is_integer() for t in ticks)
    # the shared legend sits above the data, not on it
    assert len(fig.legends) == 1
    leg = fig.legends[0].get_window_extent(r)
    for ax in fig.axes:
        assert _overlap(leg, ax.get_window_extent(r)) == 0
    titles = [ax.get_title() for ax in fig.axes[2:]]
    if case == "nan":
        assert sum("not finite" in t for t in titles) >= 2
        assert "not finite (drawn at the top)" in _legend_texts(fig)
    if case == "long_names":
        assert all(len(line) <= 26 for t in titles for line in t.splitlines())


# ------------------------------------------------------------------------------------ demo --
@pytest.fixture(scope="module")
def demo_result() -> Any:
    """N(0, 1) on a 60-layer ReLU net of width 64: activations spread over ~1e45 (×32 in
    variance per layer); zeros gives all-zero panels; He stays near 1."""
    from initlab.lab.demo import run_demo

    return run_demo(depth=60, width=64, batch=32, activations=("relu", "tanh"),
                    scheme_names=("zeros", "N(0,1)", "he"))


def test_demo_histograms_use_a_range_per_panel(demo_result: Any) -> None:
    from initlab.report.demo import demo_histograms_figure

    fig = demo_histograms_figure(demo_result, "relu")
    check_structure(fig)
    spans = [ax.get_xlim()[1] - ax.get_xlim()[0] for ax in fig.axes if ax.patches]
    assert max(spans) / min(spans) > 1e30  # the row of N(0, 1) spans 1e0 … 1e45 ...
    for ax in fig.axes:  # ... and every panel fills its own range (no single spike)
        if ax.patches:
            heights = np.array([p.get_height() for p in ax.patches])
            assert (heights > 0).sum() >= 3
    assert any("all exactly 0" in t.get_text() for ax in fig.axes for t in ax.texts)


def test_demo_depth_figure(demo_result: Any) -> None:
    from initlab.report.demo import demo_depth_figure

    check_structure(demo_depth_figure(demo_result), max_decades=120)


# --------------------------------------------------------------------------------- compare --
def test_compare_figure_diverged_run_does_not_stretch_the_loss_axis() -> None:
    from initlab.report.compare_figures import compare_figure, compare_table

    result = gallery.diverged_comparison()
    assert any(r.diverged for r in result.runs)
    fig = compare_figure(result)
    check_structure(fig)
    ax_loss, ax_acc = fig.axes[0], fig.axes[1]
    lo, hi = ax_loss.get_ylim()
    assert math.log10(hi / lo) <= 8  # the calm curves keep most of the axis
    words = [t.get_text() for t in ax_acc.texts]
    assert any("diverged" in w for w in words)  # no 0.0 % bar for a diverged start
    s = next(s for s in result.summaries if s.diverged == len(s.seeds))
    assert math.isnan(s.accuracy_mean)
    assert "diverged" in str(compare_table(result).columns[3]._cells)
    for ax in fig.axes[2:]:
        ticks = [t for t in ax.get_xticks() if ax.get_xlim()[0] <= t <= ax.get_xlim()[1]]
        assert all(float(t).is_integer() for t in ticks)
    # a finite run that leaves the clipped loss axis says so in the legend (He here explodes to
    # ~1e30 without a NaN), and the x label says the axis is clipped
    top = ax_loss.get_ylim()[1]
    legend = ax_loss.get_legend_handles_labels()[1]
    exploded = [s.label for s in result.summaries if not s.diverged and any(
        max(r.step_loss) > top for r in result.runs if r.config.get("start") == s.start)]
    assert exploded and all(any(lab.startswith(e) and "above the axis" in lab for lab in legend)
                            for e in exploded), legend  # fmt: skip
    assert "clipped" in ax_loss.get_xlabel()
    # after training, a start's missing layers are explained, not silently skipped by its line
    after = " ".join(t.get_text() for t in fig.axes[3].texts)
    for s in result.summaries:
        vals = s.grad_var_end
        if any(not math.isfinite(v) for v in vals):
            assert "not finite at" in after and s.label in after, after
        if any(v == 0 for v in vals):
            assert s.label in after, after


# ---------------------------------------------------------------------------------- theory --
@pytest.mark.parametrize("activation", ["tanh", "relu", "gelu"])
def test_phase_diagram_regions_are_in_the_legend(activation: str) -> None:
    from initlab.report.theory_figures import phase_diagram_plot

    pd = gallery.phase(activation)
    fig = phase_diagram_plot(pd)
    check_structure(fig)
    legend = " ".join(_legend_texts(fig))
    if (pd.phase == -1).any():
        assert "no fixed point" in legend
    assert "critical" in legend
    ax = fig.axes[0]
    # the critical line never runs through the no-fixed-point region
    no_fp = pd.phase == -1
    for line in ax.get_lines():
        for x, y in zip(*line.get_data(), strict=True):
            if not (np.isfinite(x) and np.isfinite(y)):
                continue
            i = int(np.argmin(abs(pd.sigma_b2 - y)))
            j = int(np.searchsorted(pd.sigma_w2, x)) - 1
            assert not no_fp[i, max(j, 0)], (activation, x, y)
    if activation == "relu":
        assert "chaotic" not in ax.get_title()  # ReLU has no chaotic phase, only no fixed point


def test_gallery_renders_a_case(tmp_path: Any) -> None:
    (path,) = gallery.render_gallery(tmp_path, ["doctor_nan"])
    assert path.read_bytes()[:4] == b"\x89PNG"
