"""What a REPL shows for the big return values: one line, with the full table on request."""

import torch

import initlab
from initlab.lab.zoo import deep_mlp, nano_gpt
from initlab.theory import phase_diagram


def test_plan_repr_is_one_line_and_str_fits_100_columns():
    p = initlab.init(nano_gpt(), torch.zeros(2, 16, dtype=torch.long))
    assert "\n" not in repr(p) and len(repr(p)) < 200
    assert f"{len(p.rows)} rows" in repr(p)
    lines = str(p).splitlines()
    assert max(len(line) for line in lines) <= 100
    assert len(lines) >= len(p.rows)  # the full table (a line or more per row), not a summary


def test_phase_diagram_and_lsuv_reprs_are_short():
    pd = phase_diagram("tanh")
    assert len(repr(pd)) < 200 and "200 σ_w² × 200 σ_b²" in repr(pd)
    r = initlab.lsuv(deep_mlp(), torch.randn(64, 32, generator=torch.Generator().manual_seed(0)))
    assert len(repr(r)) < 200 and f"{len(r.layers)} layers" in repr(r)
