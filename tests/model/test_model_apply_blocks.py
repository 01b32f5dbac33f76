"""``apply_plan``'s block loop (model/apply.py ``_blocked``) writes exactly what the per-block
definition gives: block i of a parameter = the row's initializer on that block, drawn from a
fresh ``generator_for(seed, name, i)``. The loop re-seeds one generator and, when the
initializer's only effect is one ``normal_``/``uniform_`` fill, repeats that fill directly on the
other full blocks; these tests compare it bit for bit with the definition."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import initlab
from initlab.model import apply as apply_mod
from initlab.model.apply import generator_for, write
from initlab.model.specs import draw

B = 1000  # BLOCK, made small: 2 600 elements = 2 full blocks + 1 partial


def _reference(shape: tuple[int, ...], row: initlab.PlanRow, seed: int,
               dtype: torch.dtype) -> torch.Tensor:  # fmt: skip
    flat = torch.empty(torch.Size(shape).numel(), dtype=dtype)
    for i, start in enumerate(range(0, flat.numel(), B)):
        draw(row.call, flat[start : start + B], generator_for(seed, row.name, i, flat.device))
    return flat.view(shape)


SCHEMES = {
    "he_normal": initlab.schemes.he(),
    "xavier_uniform": initlab.schemes.xavier(distribution="uniform"),
    "normal": initlab.schemes.normal(0.02),
    "uniform": initlab.schemes.uniform(-0.1, 0.1),
    "truncated_normal": initlab.schemes.truncated_normal(0.02),
}


@pytest.mark.parametrize("scheme", list(SCHEMES))
@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
@pytest.mark.parametrize("transposed", [False, True])
def test_blocks_equal_the_per_block_definition(scheme, dtype, transposed, monkeypatch) -> None:
    monkeypatch.setattr(apply_mod, "BLOCK", B)
    m = nn.Linear(65, 40).to(dtype)
    if transposed:  # a non-contiguous parameter: drawn into a flat buffer, then copied
        m.weight = nn.Parameter(torch.empty(65, 40, dtype=dtype).t())
    p = initlab.plan(m, torch.zeros(1, 65, dtype=dtype), rules=[("weight", SCHEMES[scheme])])
    row = p["weight"]
    assert row.elementwise, row
    kernels = []
    recorded = apply_mod._recorded_fill
    monkeypatch.setattr(apply_mod, "_recorded_fill",
                        lambda *a: kernels.append(recorded(*a)) or kernels[-1])  # fmt: skip
    write(m.weight, row, seed=3)
    ref = _reference((40, 65), row, 3, dtype)
    assert torch.equal(m.weight.detach().contiguous().view(-1), ref.view(-1))
    # the direct fill is used exactly where the initializer is one normal_/uniform_ fill
    assert len(kernels) == 1
    assert (kernels[0] is None) == (scheme == "truncated_normal"), kernels


def test_a_row_of_one_full_block_calls_the_initializer(monkeypatch) -> None:
    monkeypatch.setattr(apply_mod, "BLOCK", B)
    calls = []
    monkeypatch.setattr(apply_mod, "_recorded_fill", lambda *a: calls.append(a))
    m = nn.Linear(30, 50)  # 1 500 values: one full block and a partial one
    p = initlab.plan(m, torch.zeros(1, 30))
    write(m.weight, p["weight"], seed=1)
    assert calls == []
    assert torch.equal(m.weight.detach(), _reference((50, 30), p["weight"], 1, torch.float32))
