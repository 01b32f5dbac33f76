"""Theory figures are written (the content is the library's; here: files exist, are PNGs)."""

import numpy as np

from initlab import theory
from initlab.report.theory_figures import (
    depth_scales_figure,
    phase_diagram_figure,
    propagation_figure,
)


def test_figures(tmp_path):
    pd = theory.phase_diagram("tanh", np.linspace(0.5, 4, 30), np.linspace(0, 0.3, 20))
    for fn, name in ((phase_diagram_figure, "phase.png"), (depth_scales_figure, "xi.png")):
        out = fn(pd, tmp_path / "sub" / name)
        assert out.exists() and out.read_bytes()[:4] == b"\x89PNG"
    sim = theory.simulate("tanh", 2.5, 0.05, width=64, depth=4, seed=0, n_seeds=2)
    out = propagation_figure(sim, tmp_path / "prop.png")
    assert out.read_bytes()[:4] == b"\x89PNG"
