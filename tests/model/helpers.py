"""Shared pieces of the model tests: the statistical check of a written parameter."""

from __future__ import annotations

import math

import torch

from initlab.model.plan import InitPlan, PlanRow

# Tolerance for a sample std: SE(s)/σ = √((κ − 1)/(4n)) (delta method on Var(s²) = σ⁴(κ−1)/n),
# κ the kurtosis: 3 for a normal, 1.8 uniform, ≈2.36 normal truncated at ±2. We use κ = 3 (the
# largest) and allow 6 SE: a false failure has probability < 1e-8 per parameter.
KAPPA = 3.0
Z = 6.0


def check_row(t: torch.Tensor, row: PlanRow) -> None:
    """The values written into ``t`` match the plan row's std and mean."""
    x = t.detach().double().flatten()
    for r in row.zero_rows:
        x = torch.cat([t.detach().double()[:r].flatten(), t.detach().double()[r + 1 :].flatten()])
    n = x.numel()
    assert row.std is not None, row
    if row.call[0] == "gate_constant_":  # deterministic blocks (LSTM forget-gate bias)
        vals = torch.tensor(row.call[1]["values"], dtype=torch.float64)
        assert torch.equal(x, vals.repeat_interleave(n // len(vals))), row.name
        return
    if row.std == 0:
        assert torch.all(x == row.mean), (row.name, row.scheme)
        return
    if not row.elementwise:
        # orthogonal schemes: the sum of squares is fixed (gain² · min(rows, cols) per block)
        rms = float(x.pow(2).mean().sqrt())
        assert math.isclose(rms, row.std, rel_tol=1e-4), (row.name, rms, row.std)
        return
    if row.bound is not None:
        assert float(x.abs().max()) <= row.bound * (1 + 1e-6), row.name
    if n < 8:  # too few values for a std: the bound (or 6σ) is the check
        assert float((x - (row.mean or 0.0)).abs().max()) <= Z * row.std, row.name
        return
    s = float(x.std())
    se = row.std * math.sqrt((KAPPA - 1) / (4 * n))
    assert abs(s - row.std) <= Z * se, (row.name, row.scheme, s, row.std, n)
    assert abs(float(x.mean()) - (row.mean or 0.0)) <= Z * row.std / math.sqrt(n), row.name


def check_plan(model: torch.nn.Module, plan: InitPlan) -> int:
    """Check every written row of ``plan`` against ``model``; returns how many were checked."""
    tensors = dict(model.named_parameters(remove_duplicate=False))
    tensors.update(dict(model.named_buffers()))
    k = 0
    for row in plan.written:
        if row.call[0] == "reset_parameters":
            continue
        check_row(tensors[row.name], row)
        k += 1
    return k
