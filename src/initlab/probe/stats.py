"""Per-layer statistics computed on the tensor's own device, with no host synchronisation.

Every function here returns a small 1-D float64 tensor on the input's device (or a fixed-size
sample of values). Nothing calls ``.item()``, ``.tolist()``, ``bool(tensor)`` or branches on a
tensor's value: the doctor stacks these vectors and reads them all back in one transfer at the
end (the fastai/Composer style of one ``.item()`` per layer and statistic stalls a GPU once per
call).

Definitions (x: every element of the tensor, n of them):

* mean = Σx/n, std = √(Σ(x − mean)²/n), rms = √(Σx²/n), max_abs = max|x|;
* nonfinite = 1 if any element is NaN or ±Inf (read off the reductions: a NaN or Inf anywhere
  makes the mean, the norm or the max non-finite);
* dead fraction (ReLU family): the share of units that are never positive across the batch;
  a unit is a feature (last axis) or a channel (axis 1 after a convolution);
* saturated fraction: the share of pre-activations x with φ'(x) < ``sat_derivative``;
* duplicate fraction of the rows of a matrix: rows equal to another row (to 1e-6 relative),
  found by sorting a random projection of the rows and comparing neighbours exactly: O(rows ×
  cols), no Python loop, no sync.

Examples:
    >>> import torch
    >>> moments(torch.tensor([3.0, -4.0])).tolist()[:4]  # mean, std, rms, max_abs
    [-0.5, 3.5, 3.5355339059327378, 4.0]
"""

from __future__ import annotations

from collections.abc import Callable

import torch

#: Number of values kept per layer for histograms (strided over the flattened tensor).
SAMPLE_SIZE = 2000

#: Layout of :func:`moments`' result.
MOMENT_FIELDS = ("mean", "std", "rms", "max_abs", "nonfinite")


def _f32(x: torch.Tensor) -> torch.Tensor:
    x = x.detach()
    if x.dtype in (torch.float32, torch.float64):
        return x
    return x.float()


def moments(x: torch.Tensor) -> torch.Tensor:
    """[mean, std, rms, max_abs, nonfinite] of all elements of ``x`` (population std).

    Examples:
        >>> moments(torch.zeros(3)).tolist()
        [0.0, 0.0, 0.0, 0.0, 0.0]
    """
    x = _f32(x)
    if x.numel() == 0:
        return torch.full((5,), float("nan"), dtype=torch.float64, device=x.device)
    var, mean = torch.var_mean(x, correction=0)
    lo, hi = torch.aminmax(x.reshape(-1))
    max_abs = torch.maximum(-lo, hi)
    rms = torch.sqrt(var + mean * mean)
    bad = ~(torch.isfinite(mean) & torch.isfinite(var) & torch.isfinite(max_abs))
    return torch.stack([mean, var.sqrt(), rms, max_abs, bad.to(x.dtype)]).to(torch.float64)


def rms(x: torch.Tensor) -> torch.Tensor:
    """√(Σx²/n) as a 0-d float64 tensor (NaN for an empty tensor)."""
    x = _f32(x)
    if x.numel() == 0:
        return torch.full((), float("nan"), dtype=torch.float64, device=x.device)
    return (torch.linalg.vector_norm(x) / (x.numel() ** 0.5)).to(torch.float64)


def units_view(x: torch.Tensor, channel_axis: int) -> torch.Tensor:
    """``x`` as a (samples, units) matrix: units on ``channel_axis`` (1 or -1), all else samples.

    Examples:
        >>> units_view(torch.zeros(8, 3, 4, 4), 1).shape
        torch.Size([128, 3])
    """
    if x.dim() <= 1:
        return x.reshape(-1, 1)
    if channel_axis == 1 and x.dim() > 2:
        return x.movedim(1, -1).reshape(-1, x.shape[1])
    return x.reshape(-1, x.shape[-1])


def dead_fraction(y: torch.Tensor, channel_axis: int) -> torch.Tensor:
    """Share of units of a ReLU-family output ``y`` that are never positive across the batch."""
    u = units_view(_f32(y), channel_axis)
    return (u.amax(dim=0) <= 0).to(torch.float64).mean()


def saturated_fraction(derivative: torch.Tensor, threshold: float) -> torch.Tensor:
    """Share of elements whose activation derivative |φ'(x)| is below ``threshold``."""
    return (_f32(derivative).abs() < threshold).to(torch.float64).mean()


def activation_derivative(
    name: str, x: torch.Tensor, torch_fn: Callable[[torch.Tensor], torch.Tensor], params: dict
) -> torch.Tensor:
    """φ'(x) elementwise: closed forms for tanh, sigmoid, hardtanh, softsign; autograd otherwise.

    Examples:
        >>> activation_derivative("tanh", torch.zeros(2), torch.tanh, {}).tolist()
        [1.0, 1.0]
    """
    x = _f32(x)
    if name == "tanh":
        t = torch.tanh(x)
        return 1 - t * t
    if name == "sigmoid":
        s = torch.sigmoid(x)
        return s * (1 - s)
    if name == "hardtanh":
        lo, hi = params.get("min_val", -1.0), params.get("max_val", 1.0)
        return ((x > lo) & (x < hi)).to(x.dtype)
    if name == "softsign":
        return 1.0 / (1.0 + x.abs()) ** 2
    with torch.enable_grad():
        xi = x.clone().requires_grad_(True)
        y = torch_fn(xi)
        (d,) = torch.autograd.grad(y.sum(), xi)
    return d


def duplicate_fraction(m: torch.Tensor, generator: torch.Generator, rtol: float = 1e-6) -> torch.Tensor:
    """Share of the rows of the 2-D ``m`` equal to another row (a duplicate-row count / (rows − 1)).

    Rows are sorted by a random projection ``m @ r``; equal rows get equal projections and so
    end up next to each other, and each neighbour pair is then compared exactly:
    ‖m_i − m_{i−1}‖ ≤ rtol·(‖m_i‖ + ‖m_{i−1}‖). All rows identical (all zero, or all the same
    constant) gives 1; a random matrix gives 0.

    Examples:
        >>> g = torch.Generator().manual_seed(0)
        >>> duplicate_fraction(torch.ones(4, 3), g).item(), duplicate_fraction(torch.eye(4), g).item()
        (1.0, 0.0)
    """
    m = _f32(m)
    rows = m.shape[0]
    if rows < 2 or m.numel() == 0:
        return torch.zeros((), dtype=torch.float64, device=m.device)
    r = torch.randn(m.shape[1], generator=generator, device=generator.device, dtype=m.dtype)
    p = m @ r.to(m.device)
    order = torch.argsort(p)
    s = m[order]
    diff = torch.linalg.vector_norm(s[1:] - s[:-1], dim=1)
    norms = torch.linalg.vector_norm(s, dim=1)
    tol = rtol * (norms[1:] + norms[:-1])
    dup = (diff <= tol).to(torch.float64).sum()
    return dup / (rows - 1)


def duplicate_units(y: torch.Tensor, channel_axis: int, generator: torch.Generator) -> torch.Tensor:
    """Share of non-constant units of an activation that are identical to another unit.

    Constant units (e.g. a dead ReLU, always 0) are left out: they are "dead", not "symmetric".
    Identical non-constant columns are the all-equal-init failure seen from the activations.
    """
    u = units_view(_f32(y), channel_axis)
    if u.shape[1] < 2:
        return torch.zeros((), dtype=torch.float64, device=u.device)
    cols = u.t()
    spread = cols.amax(dim=1) - cols.amin(dim=1)
    scale = cols.abs().amax()
    live = spread > 1e-6 * scale
    # Constant columns are masked, not removed: a boolean gather would need a sync for its size.
    n_live = live.to(torch.float64).sum()
    cols = torch.where(live[:, None], cols, torch.zeros_like(cols))
    r = torch.randn(cols.shape[1], generator=generator, device=generator.device, dtype=cols.dtype)
    p = cols @ r.to(cols.device)
    p = torch.where(live, p, torch.full_like(p, float("inf")))
    order = torch.argsort(p)
    s = cols[order]
    live_s = live[order]
    diff = torch.linalg.vector_norm(s[1:] - s[:-1], dim=1)
    norms = torch.linalg.vector_norm(s, dim=1)
    both = live_s[1:] & live_s[:-1]
    dup = ((diff <= 1e-6 * (norms[1:] + norms[:-1])) & both).to(torch.float64).sum()
    return dup / torch.clamp(n_live - 1, min=1.0)


def sample(x: torch.Tensor, k: int = SAMPLE_SIZE) -> torch.Tensor:
    """Up to ``k`` values of ``x`` taken at a regular stride over the flattened tensor."""
    flat = x.detach().reshape(-1)
    n = flat.numel()
    step = max(1, n // k)
    return flat[::step][:k].to(torch.float64)


__all__ = [
    "MOMENT_FIELDS",
    "SAMPLE_SIZE",
    "activation_derivative",
    "dead_fraction",
    "duplicate_fraction",
    "duplicate_units",
    "moments",
    "rms",
    "sample",
    "saturated_fraction",
    "units_view",
]
