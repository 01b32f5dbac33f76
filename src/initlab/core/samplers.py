"""Low-level samplers: fill a tensor in place, without autograd, with a given generator.

Shared rules, applied once here so every scheme obeys them:

* floating tensors only (an integer tensor gets :class:`InitError`, not torch's deep error);
* a 0-element tensor is returned as is; a meta tensor is returned as is after validation (it has
  no storage: "initializing" it is a no-op, as in ``torch.nn.init``);
* nothing is recorded by autograd (``torch.no_grad``), so leaves that require grad work;
* bf16/fp16 tensors are sampled in float32 where the math needs it (inverse CDF, QR), then cast;
* non-contiguous views are written through (``copy_``), never replaced.
"""

from __future__ import annotations

import math

import torch

from initlab.errors import InitError


def check_float(tensor: torch.Tensor, fn: str) -> None:
    """Raise a clear error unless ``tensor`` is a floating-point torch tensor."""
    if not isinstance(tensor, torch.Tensor):
        raise InitError(f"{fn}: expected a torch.Tensor, got {type(tensor).__name__}")
    if not (tensor.is_floating_point() or tensor.is_complex()):
        raise InitError(
            f"{fn}: tensor has integer dtype {tensor.dtype}; random initialization needs a "
            "floating-point tensor (create it with dtype=torch.float32, or call .float())"
        )


def check_number(value: float, name: str, fn: str, *, positive: bool = False) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError) as e:
        raise InitError(f"{fn}: {name} must be a number, got {value!r}") from e
    if not math.isfinite(v):
        raise InitError(f"{fn}: {name} must be finite, got {value!r}")
    if positive and v < 0:
        raise InitError(f"{fn}: {name} must be ≥ 0, got {value!r}; pass its absolute value")
    return v


def skip(tensor: torch.Tensor) -> bool:
    """True when there is nothing to write (meta tensor or no elements)."""
    return tensor.is_meta or tensor.numel() == 0


def normal_fill(
    tensor: torch.Tensor, mean: float, std: float, generator: torch.Generator | None
) -> torch.Tensor:
    with torch.no_grad():
        return tensor.normal_(mean, std, generator=generator)


def uniform_fill(
    tensor: torch.Tensor, a: float, b: float, generator: torch.Generator | None
) -> torch.Tensor:
    with torch.no_grad():
        return tensor.uniform_(a, b, generator=generator)


def _ndtr(x: float) -> float:
    return 0.5 * math.erfc(-x / math.sqrt(2.0))


def truncated_std(alpha: float, beta: float) -> float:
    """Standard deviation of N(0, 1) truncated to [alpha, beta] (closed form).

    Var = 1 + (α φ(α) − β φ(β))/Z − ((φ(α) − φ(β))/Z)², Z = Φ(β) − Φ(α). For ±2:
    0.8796256610342398 (the constant in JAX's ``variance_scaling``).
    """

    def pdf(x: float) -> float:
        return 0.0 if math.isinf(x) else math.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)

    z = _ndtr(beta) - _ndtr(alpha)
    a_term = 0.0 if math.isinf(alpha) else alpha * pdf(alpha)
    b_term = 0.0 if math.isinf(beta) else beta * pdf(beta)
    m = (pdf(alpha) - pdf(beta)) / z
    return math.sqrt(1.0 + (a_term - b_term) / z - m * m)


def truncated_normal_fill(
    tensor: torch.Tensor,
    mean: float,
    std: float,
    a: float,
    b: float,
    generator: torch.Generator | None,
) -> torch.Tensor:
    """N(mean, std²) truncated to [a, b] (absolute bounds) by the inverse CDF: one uniform draw
    per element and no rejection loop, so the cost is a fixed small multiple of ``normal_``."""
    if std == 0:
        with torch.no_grad():
            return tensor.fill_(min(max(mean, a), b))
    alpha, beta = (a - mean) / std, (b - mean) / std
    # Sample on the side of the mean where the CDF has more resolution (symmetric trick):
    # for a window far in the right tail use -X truncated to [-beta, -alpha].
    flip = alpha > 0
    if flip:
        alpha, beta = -beta, -alpha
    lo, hi = _ndtr(alpha), _ndtr(beta)
    with torch.no_grad():
        work = tensor
        if tensor.dtype in (torch.float16, torch.bfloat16) or not tensor.is_contiguous():
            work = torch.empty(tensor.shape, dtype=torch.float32, device=tensor.device)
        work.uniform_(lo, hi, generator=generator)
        torch.special.ndtri(work, out=work)
        work.clamp_(alpha, beta)
        if flip:
            work.neg_()
        work.mul_(std).add_(mean)
        if work is not tensor:
            tensor.copy_(work)
        return tensor


def orthogonal_matrix(
    rows: int,
    cols: int,
    *,
    dtype: torch.dtype,
    device: torch.device,
    generator: torch.Generator | None,
) -> torch.Tensor:
    """A (rows × cols) matrix with orthonormal rows or columns, Haar-distributed (QR of a Gaussian
    matrix with the sign of R's diagonal folded into Q: Mezzadri 2007). QR runs in float32 for
    half-precision dtypes (LAPACK has no bf16/fp16 QR)."""
    work_dtype = torch.float32 if dtype in (torch.float16, torch.bfloat16) else dtype
    tall = rows >= cols
    # Draw directly in the tall orientation so QR gets a contiguous matrix.
    g = torch.empty((rows, cols) if tall else (cols, rows), dtype=work_dtype, device=device)
    g.normal_(0.0, 1.0, generator=generator)
    q, r = torch.linalg.qr(g)
    d = torch.diagonal(r)
    q.mul_(torch.where(d < 0, -1.0, 1.0).to(q.dtype))
    return q if tall else q.mT


__all__ = [
    "check_float",
    "check_number",
    "normal_fill",
    "orthogonal_matrix",
    "skip",
    "truncated_normal_fill",
    "truncated_std",
    "uniform_fill",
]
