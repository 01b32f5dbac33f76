"""``apply_plan``'s block loop (model/apply.py ``_blocked``) writes exactly what the per-block
definition gives: block i of a parameter = the row's initializer on that block, drawn from a
fresh ``generator_for(seed, name, i)``. The loop re-seeds one generator and, when the
initializer's only effect is one ``normal_``/``uniform_`` fill, repeats that fill directly on the
other full blocks; these tests compare it bit for bit with the definition."""

from __future__ import annotations

import dataclasses

import pytest
import torch
from torch import nn

import initlab
from initlab.errors import InitError
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
    # one dry run per block size (1 000 and 600) of a contiguous tensor; the direct fill is used
    # exactly where the initializer is one normal_/uniform_ fill
    assert len(kernels) == (0 if transposed else 2)
    assert all((k is None) == (scheme == "truncated_normal") for k in kernels), kernels


@pytest.mark.parametrize("shape", [(50, 20), (50, 30), (3,), (1, 1)])
def test_rows_of_one_block_or_less_equal_the_definition(shape, monkeypatch) -> None:
    monkeypatch.setattr(apply_mod, "BLOCK", B)
    t = torch.empty(shape)
    row = initlab.plan(nn.Linear(2, 2), torch.zeros(1, 2), rules=[("weight", "he")])["weight"]
    row = dataclasses.replace(row, shape=shape)
    write(t, row, seed=1)
    assert torch.equal(t, _reference(shape, row, 1, torch.float32))


def test_the_dry_run_draws_nothing_and_stops_at_other_calls() -> None:
    block, g = torch.full((8,), 7.0), torch.Generator().manual_seed(0)
    state = g.get_state()
    fill = apply_mod._recorded_fill(initlab.normal_, block, {"std": 0.5}, g)
    assert fill == (torch.Tensor.normal_, (0.0, 0.5))
    assert torch.equal(block, torch.full((8,), 7.0)) and torch.equal(g.get_state(), state)
    assert apply_mod._recorded_fill(initlab.truncated_normal_, block, {"std": 0.5}, g) is None
    assert torch.equal(block, torch.full((8,), 7.0)) and torch.equal(g.get_state(), state)


def test_an_integer_parameter_fails_before_anything_is_written() -> None:
    m = nn.Sequential(nn.Linear(4, 4), nn.Linear(4, 4))
    p = initlab.plan(m, torch.zeros(1, 4))
    m[1].weight = nn.Parameter(torch.zeros(4, 4, dtype=torch.long), requires_grad=False)
    before = m[0].weight.detach().clone()
    with pytest.raises(InitError, match="integer"):
        initlab.apply_plan(m, p, seed=0, overwrite=True)
    assert torch.equal(m[0].weight.detach(), before)
