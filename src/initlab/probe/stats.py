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
* duplicate fraction of the rows of a matrix: rows equal to another row, found by sorting two
  random projections of the rows and comparing neighbours: one rows × cols × 2 GEMM, no Python
  loop, no sync.

Examples:
    >>> import torch
    >>> [round(v, 4) for v in moments(torch.tensor([3.0, -4.0])).tolist()[:4]]  # mean std rms max
    [-0.5, 3.5, 3.5355, 4.0]
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


def _sum_and_sq(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(mean, mean of squares) in two fast vectorized passes (``sum`` and the 2-norm).

    ``torch.var_mean`` (Welford) is 30-70× slower than these on CPU; the price is the usual
    E[x²] − E[x]² cancellation when |mean| ≫ std (std error ~ 3e-4·|mean| in float32), which the
    callers clip at 0 and zero out for constant tensors.
    """
    n = x.numel()
    mean = x.sum().to(torch.float64) / n
    norm = torch.linalg.vector_norm(x).to(torch.float64)  # squared in float64: no overflow
    return mean, norm * norm / n


def moments(x: torch.Tensor) -> torch.Tensor:
    """[mean, std, rms, max_abs, nonfinite] of all elements of ``x`` (population std).

    Examples:
        >>> moments(torch.zeros(3)).tolist()
        [0.0, 0.0, 0.0, 0.0, 0.0]
    """
    x = _f32(x)
    if x.numel() == 0:
        return torch.full((5,), float("nan"), dtype=torch.float64, device=x.device)
    mean, sq = _sum_and_sq(x)
    lo, hi = torch.aminmax(x.reshape(-1))
    max_abs = torch.maximum(-lo, hi).abs().to(torch.float64)  # abs: never -0.0
    var = torch.where(hi > lo, (sq - mean * mean).clamp_min(0.0), torch.zeros_like(sq))
    out = torch.stack([mean, var.sqrt(), sq.sqrt(), max_abs])
    bad = (~torch.isfinite(out).all()).to(torch.float64)
    return torch.cat([out, bad.reshape(1)])


def grad_moments(g: torch.Tensor) -> torch.Tensor:
    """[mean, std, rms, nan, nonfinite] of a gradient in two passes (sum, 2-norm): max|g| is not
    needed, and a NaN/Inf anywhere makes the sum or the norm non-finite."""
    g = _f32(g)
    if g.numel() == 0:
        return torch.full((5,), float("nan"), dtype=torch.float64, device=g.device)
    mean, sq = _sum_and_sq(g)
    out = torch.stack([mean, (sq - mean * mean).clamp_min(0.0).sqrt(), sq.sqrt()])
    bad = (~torch.isfinite(out).all()).to(torch.float64)
    nan = torch.full((1,), float("nan"), dtype=torch.float64, device=g.device)
    return torch.cat([out, nan, bad.reshape(1)])


def relu_moments(y: torch.Tensor, channel_axis: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(moments, dead fraction) of a ReLU-family output y ≥ 0: sum, 2-norm and a per-unit
    ``amax`` (max|y| is the largest unit maximum since y ≥ 0)."""
    y = _f32(y)
    if y.numel() == 0:
        return moments(y), torch.full((), float("nan"), dtype=torch.float64, device=y.device)
    if y.dim() == 0:
        return moments(y), dead_fraction(y, channel_axis)
    mean, sq = _sum_and_sq(y)
    unit_max = y.amax(dim=unit_dims(y, channel_axis))
    max_abs = unit_max.amax().abs().to(torch.float64)
    var = torch.where(max_abs > 0, (sq - mean * mean).clamp_min(0.0), torch.zeros_like(sq))
    out = torch.stack([mean, var.sqrt(), sq.sqrt(), max_abs])
    bad = (~torch.isfinite(out).all()).to(torch.float64)
    dead = (unit_max <= 0).to(torch.float64).mean()
    return torch.cat([out, bad.reshape(1)]), dead


def rms(x: torch.Tensor) -> torch.Tensor:
    """√(Σx²/n) as a 0-d float64 tensor (NaN for an empty tensor)."""
    x = _f32(x)
    if x.numel() == 0:
        return torch.full((), float("nan"), dtype=torch.float64, device=x.device)
    return (torch.linalg.vector_norm(x) / (x.numel() ** 0.5)).to(torch.float64)


def units_view(x: torch.Tensor, channel_axis: int) -> torch.Tensor:
    """``x`` as a (samples, units) matrix: units on ``channel_axis`` (1 or -1), all else samples.

    Copies for channel-first tensors; the hot paths use :func:`unit_dims` reductions instead.

    Examples:
        >>> units_view(torch.zeros(8, 3, 4, 4), 1).shape
        torch.Size([128, 3])
    """
    if x.dim() <= 1:
        return x.reshape(-1, 1)
    if channel_axis == 1 and x.dim() > 2:
        return x.movedim(1, -1).reshape(-1, x.shape[1])
    return x.reshape(-1, x.shape[-1])


def unit_dims(x: torch.Tensor, channel_axis: int) -> list[int]:
    """The dimensions to reduce over to get one value per unit (all but the unit axis)."""
    if x.dim() <= 1:
        return list(range(x.dim()))
    if channel_axis == 1 and x.dim() > 2:
        return [0, *range(2, x.dim())]
    return list(range(x.dim() - 1))


def dead_fraction(y: torch.Tensor, channel_axis: int) -> torch.Tensor:
    """Share of units of a ReLU-family output ``y`` that are never positive across the batch."""
    y = _f32(y)
    if y.dim() == 0:
        return (y <= 0).to(torch.float64)
    return (y.amax(dim=unit_dims(y, channel_axis)) <= 0).to(torch.float64).mean()


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


def _dup_pairs(p: torch.Tensor, live: torch.Tensor | None, rtol: float) -> torch.Tensor:
    """Neighbour pairs (after sorting by the first projection) equal in both projections."""
    order = torch.argsort(p[:, 0])
    ps = p[order]
    tol = rtol * ps.abs().amax(dim=0)
    same = ((ps[1:] - ps[:-1]).abs() <= tol).all(dim=1)
    if live is not None:
        ls = live[order]
        same = same & ls[1:] & ls[:-1]
    return same.to(torch.float64).sum()


def duplicate_fraction(
    m: torch.Tensor, generator: torch.Generator, rtol: float = 1e-5
) -> torch.Tensor:
    """Share of the rows of the 2-D ``m`` equal to another row (duplicate count / (rows − 1)).

    Each row is projected on two random directions (one GEMM, rows × cols × 2); rows are sorted by
    the first projection and neighbours whose two projections agree to ``rtol`` of the largest
    projection count as duplicates. Equal rows always match; distinct rows match both
    projections by chance with probability ~(rtol·rows)², negligible. All rows identical (all
    zero, or one constant) gives 1; a random matrix gives 0.

    Examples:
        >>> g = torch.Generator().manual_seed(0)
        >>> duplicate_fraction(torch.ones(4, 3), g).item()
        1.0
        >>> duplicate_fraction(torch.eye(4), g).item()
        0.0
    """
    m = _f32(m)
    rows = m.shape[0]
    if rows < 2 or m.numel() == 0:
        return torch.zeros((), dtype=torch.float64, device=m.device)
    r = torch.randn(m.shape[1], 2, generator=generator, device=generator.device, dtype=m.dtype)
    return _dup_pairs(m @ r.to(m.device), None, rtol) / (rows - 1)


def duplicate_units(
    y: torch.Tensor, channel_axis: int, generator: torch.Generator, rtol: float = 1e-5
) -> torch.Tensor:
    """Share of non-constant units of an activation that are identical to another unit.

    Constant units (e.g. a dead ReLU, always 0) are left out: they are "dead", not "symmetric".
    Identical non-constant columns are the all-equal-init failure seen from the activations.
    Same two-projection test as :func:`duplicate_fraction`, on the columns.
    """
    y = _f32(y)
    if channel_axis == 1 and y.dim() > 2:
        # one value per (sample, channel): the spatial mean (no copy of the whole tensor);
        # identical channels have identical means, distinct ones match by chance only
        u = y.mean(dim=list(range(2, y.dim())))
    else:
        u = units_view(y, channel_axis)
    # identical units are identical on any subset of samples; 1024 rows keep chance matches of
    # distinct units (both projections within rtol) negligible
    u = u[:1024]
    if u.shape[1] < 2:
        return torch.zeros((), dtype=torch.float64, device=u.device)
    spread = u.amax(dim=0) - u.amin(dim=0)
    # Masked, not removed: a boolean gather would need a sync for its size.
    live = spread > (1e-6 * u.abs().amax()).clamp_min(1e-30)
    r = torch.randn(u.shape[0], 2, generator=generator, device=generator.device, dtype=u.dtype)
    p = u.t() @ r.to(u.device)
    n_live = live.to(torch.float64).sum()
    return _dup_pairs(p, live, rtol) / torch.clamp(n_live - 1, min=1.0)


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
    "grad_moments",
    "moments",
    "relu_moments",
    "rms",
    "sample",
    "saturated_fraction",
    "unit_dims",
    "units_view",
]
