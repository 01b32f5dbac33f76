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
from typing import Any

import torch

from initlab.core.formulas import _ndtr, truncated_std
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


# float32 numbers just inside (-1, 1) and above 0: keep the inverse CDFs finite when a bound is
# infinite (uniform_ can return its lower end exactly).
_F32_ONE_BELOW = 1.0 - 2.0**-24
_F32_TINY = 2.0**-126
_SQRT2 = math.sqrt(2.0)
# Windows holding at least this much normal mass are drawn as N(μ, σ²) with the few values that
# fall outside redrawn: at ±2σ (95.4 %) that is 4.6 % redrawn, 1.1–1.3× one normal_ (see below).
_REDRAW_MIN_MASS = 0.8
# Windows holding at least this much (and less than the above) are sampled through erfinv.
_ERFINV_MIN_MASS = 0.25
# Windows lying entirely this many σ or more on one side of the mean are drawn by Robert's
# exponential-proposal sampler: the inverse CDF runs out of float range near 13σ (float32) and
# 37σ (float64), where Φ(−α) underflows; Robert's acceptance rate here is α·Q(α)/φ(α) ≥ 0.947
# (Mills' ratio; ≥ α²/(α² + 1), see _tail_acceptance).
_TAIL_MIN_SIGMAS = 4.0


def truncated_normal_fill(
    tensor: torch.Tensor,
    mean: float,
    std: float,
    a: float,
    b: float,
    generator: torch.Generator | None,
) -> torch.Tensor:
    """N(mean, std²) truncated to [a, b] (absolute bounds), exact in distribution, four routes by
    where the window [α, β] = [(a − μ)/σ, (b − μ)/σ] lies (Φ: the standard normal CDF):

    * mass Φ(β) − Φ(α) ≥ 0.8 (±2σ holds 95.4 %): ``normal_(μ, σ)``, then the values outside
      [a, b] are redrawn from N(μ, σ²) until none is left (a rejection sampler: exact, and its
      cost is one ``normal_`` plus a scan and (1 − mass)/mass redraws: 1.24–1.27× ``normal_`` on
      one thread, 1.08–1.22× with two (the scan runs beside the draws) on 16M–64M floats,
      benchmarks/RESULTS.md). On CPU the scan runs in NumPy on the tensor's own memory
      (:class:`_Replacer`).
    * mass ≥ 1/4: x = μ + σ√2·erfinv(u), u ~ U(2Φ(α) − 1, 2Φ(β) − 1) (inverse CDF, one uniform
      per element; ~1.5× ``normal_``).
    * the whole window ≥ 4σ from the mean on one side (far tails, where Φ(−α) underflows:
      below ~13σ in float32, ~37σ in float64): Robert (1995, "Simulation of truncated normal
      variables", Stat. Comput. 5, §2.2)'s sampler: z = α + E with E exponential of rate α
      truncated to [0, β − α] (drawn by its inverse CDF), accepted with probability
      exp(−E²/2); acceptance α·Q(α)/φ(α) (Mills' ratio): 94.7 % at α = 4, → 1 further out.
    * otherwise (narrow windows): x = μ + σ·Φ⁻¹(u), u ~ U(Φ(α), Φ(β)), on the side of the mean
      where Φ has resolution (a window right of the mean is drawn as −X on [−β, −α]).

    A final clamp to [a, b] absorbs the last-ulp rounding of the scale and shift. Every route
    draws from ``generator`` only, so the values are a function of its state.
    """
    if std == 0:
        with torch.no_grad():
            return tensor.fill_(min(max(mean, a), b))
    alpha, beta = (a - mean) / std, (b - mean) / std
    lo, hi = _ndtr(alpha), _ndtr(beta)
    with torch.no_grad():
        # bf16/fp16 are sampled in float32; other dtypes (float64 views too) keep their own.
        half = tensor.dtype in (torch.float16, torch.bfloat16)
        work = tensor
        if half or not tensor.is_contiguous():
            work_dtype = torch.float32 if half else tensor.dtype
            work = torch.empty(tensor.shape, dtype=work_dtype, device=tensor.device)
        first, last = _inward(a, b, work.dtype)
        if first > last:
            raise InitError(
                f"truncated normal: no {str(work.dtype).removeprefix('torch.')} value lies in "
                f"[{a!r}, {b!r}] (the window is narrower than the spacing of floats there); "
                "widen the bounds or sample in float64"
            )
        if hi - lo >= _REDRAW_MIN_MASS:  # drawn at scale, every value already in [a, b]
            _redraw_fill(work.view(-1), mean, std, a, b, hi - lo, generator)
            if work is not tensor:
                tensor.copy_(work)
            return tensor
        if hi - lo >= _ERFINV_MIN_MASS:
            u_lo = max(2.0 * lo - 1.0, -_F32_ONE_BELOW)
            u_hi = min(2.0 * hi - 1.0, _F32_ONE_BELOW)
            work.uniform_(u_lo, u_hi, generator=generator)
            torch.erfinv(work, out=work)
            work.mul_(std * _SQRT2)
        elif alpha >= _TAIL_MIN_SIGMAS or beta <= -_TAIL_MIN_SIGMAS:
            flip = beta <= -_TAIL_MIN_SIGMAS  # left tail: −X on [−β, −α]
            near, far = (-beta, -alpha) if flip else (alpha, beta)
            _tail_fill(work.view(-1), near, far, generator)
            work.mul_(-std if flip else std)
        else:
            # Sample on the side of the mean where the CDF has more resolution (symmetric
            # trick): for a window right of the mean use -X truncated to [-beta, -alpha].
            flip = alpha > 0
            if flip:
                lo, hi = _ndtr(-beta), _ndtr(-alpha)
            work.uniform_(max(lo, _F32_TINY), max(hi, _F32_TINY), generator=generator)
            torch.special.ndtri(work, out=work)
            work.mul_(-std if flip else std)
        if mean != 0:
            work.add_(mean)
        work.clamp_(a, b)
        if work is not tensor:
            tensor.copy_(work)
        return tensor


# The redraw sampler draws and scans this many elements at a time, so the scan reads values
# still in cache (one scan over a 32 MiB tensor after its draw costs ~0.6× the draw; in 1 MiB
# chunks ~0.05×).
_REDRAW_CHUNK = 1 << 18
# Elsewhere (CUDA) each chunk costs host syncs (``nonzero``, the redraw count), not cache misses:
# chunks as large as memory comfortably allows (a bool mask and a 5 % index of 16 M elements).
_REDRAW_CHUNK_DEVICE = 1 << 24


def _inward(a: float, b: float, dtype: torch.dtype) -> tuple[float, float]:
    """[a, b] as the smallest and largest values of ``dtype`` inside it, so that comparing
    values of that dtype with them (which rounds the bound to the dtype) is exact."""
    import numpy as np

    np_dtype = np.float64 if dtype == torch.float64 else np.float32
    with np.errstate(over="ignore"):  # a bound past the dtype's range is ±inf there
        lo, hi = np_dtype(a), np_dtype(b)
    if np.isfinite(lo) and float(lo) < a:
        lo = np.nextafter(lo, np_dtype(np.inf))
    if np.isfinite(hi) and float(hi) > b:
        hi = np.nextafter(hi, np_dtype(-np.inf))
    return float(lo), float(hi)


def _replacement_pool(
    n: int,
    mass: float,
    mean: float,
    std: float,
    bounds: tuple[float, float],
    generator: torch.Generator | None,
    like: torch.Tensor,
) -> torch.Tensor:
    """Values of N(mean, std²) restricted to ``bounds``, drawn as N(mean, std²) with the values
    outside dropped: n + 6√(n + 1) of them on average. ``n`` is the expected number of values a
    fill must replace; the number it really needs is binomial with variance ≤ n, and so is the
    number this keeps (variance ≤ n(1 − mass)/mass), so the pool covers the need except with
    probability ~1e-9 (6 standard deviations of the difference); the rare shortfall is drawn
    afterwards."""
    size = int((n + 6.0 * math.sqrt(n + 1.0)) / mass) + 16
    cand = torch.empty(size, dtype=like.dtype, device=like.device)
    cand.normal_(mean, std, generator=generator)
    if cand.device.type == "cpu" and cand.dtype in (torch.float32, torch.float64):
        c = cand.numpy()  # NumPy's compress: ~6× torch's boolean indexing on CPU
        return torch.from_numpy(c[(c >= bounds[0]) & (c <= bounds[1])])
    return cand[(cand >= bounds[0]).logical_and_(cand <= bounds[1])]


def _flatnonzero_sparse(mask: Any, words: Any) -> Any:
    """Indices of the True entries of a 1-D bool array ``mask`` whose length is a multiple of 8.

    NumPy's ``flatnonzero`` takes a branch-free loop only above 10 % density; on a 4.6 %-dense
    mask (±2σ) it pays a branch misprediction per True entry (~0.7 ns per element scanned).
    Read as 8-byte words the mask is ~31 % dense, so both passes here (the words holding a True,
    then the bytes of those words) take the branch-free loop: ~0.4 ns per element. ``words`` is
    a bool scratch array of ``len(mask) // 8``.

    Examples:
        >>> import numpy as np
        >>> m = np.zeros(16, dtype=bool); m[[3, 9, 10]] = True
        >>> _flatnonzero_sparse(m, np.empty(2, dtype=bool)).tolist()
        [3, 9, 10]
    """
    import numpy as np

    w = mask.view(np.uint64)
    np.not_equal(w, 0, out=words)
    hit = np.flatnonzero(words)
    j = np.flatnonzero(w[hit].view(np.bool_))
    return (hit[j >> 3] << 3) | (j & 7)


class _Replacer:
    """Finds the values of each drawn chunk outside [lo, hi] and puts the next values of the pool
    in their places, chunk after chunk; indices it has no pool value for are kept in
    ``leftover`` for the caller to fill once every chunk is drawn (so that the generator is
    used in the same order whichever thread runs the scans).

    CPU float32/float64 chunks are scanned by NumPy on the tensor's own memory: a window
    centred on 0 as |x| > hi (two passes, not three), indices found word by word
    (:func:`_flatnonzero_sparse`); elsewhere by torch's ``nonzero``."""

    def __init__(self, flat: torch.Tensor, lo: float, hi: float, mean: float,
                 pool: torch.Tensor, step: int) -> None:  # fmt: skip
        self.flat, self.lo, self.hi, self.pool, self.used = flat, lo, hi, pool, 0
        self.leftover: list[Any] = []
        self.on_numpy = flat.device.type == "cpu" and flat.dtype in (torch.float32, torch.float64)
        if self.on_numpy:
            import numpy as np

            self.arr, self.pool_np = flat.detach().numpy(), pool.numpy()
            size = min(step, flat.numel())
            self.outside, self.above = np.empty(size, np.bool_), np.empty(size, np.bool_)
            self.absolute = np.empty(size, self.arr.dtype)
            self.words = np.empty(size // 8, np.bool_)
            self.centred = mean == 0 and lo == -hi

    def __call__(self, start: int, stop: int) -> None:
        if self.on_numpy:
            import numpy as np

            view, k = self.arr[start:stop], stop - start
            m = self.outside[:k]
            if self.centred:
                np.abs(view, out=self.absolute[:k])
                np.greater(self.absolute[:k], self.hi, out=m)
            else:
                np.less(view, self.lo, out=m)
                np.logical_or(m, np.greater(view, self.hi, out=self.above[:k]), out=m)
            bad = (_flatnonzero_sparse(m, self.words[: k // 8]) if k % 8 == 0
                   else np.flatnonzero(m))  # fmt: skip
            take = min(bad.size, self.pool_np.size - self.used)
            view[bad[:take]] = self.pool_np[self.used : self.used + take]
        else:
            chunk = self.flat[start:stop]
            bad = torch.nonzero((chunk < self.lo).logical_or_(chunk > self.hi)).view(-1)
            take = min(bad.numel(), self.pool.numel() - self.used)
            chunk[bad[:take]] = self.pool[self.used : self.used + take]
        self.used += take
        if take < len(bad):
            self.leftover.append(bad[take:] + start)


def _redraw_fill(
    flat: torch.Tensor,
    mean: float,
    std: float,
    a: float,
    b: float,
    mass: float,
    generator: torch.Generator | None,
) -> None:
    """N(mean, std²) on [a, b] by rejection, chunk by chunk: draw, find the values outside, put
    fresh in-window draws in their places. Exact: each value outside is replaced by an
    independent draw from the truncated law, whatever its position.

    The replacements come from one pool drawn first (the expected count + 6σ); in the rare case
    it runs dry (≤ 1e-9) the rest are drawn after the last chunk. torch's CPU ``normal_`` runs on
    one thread whatever ``torch.get_num_threads()`` says (its generator is sequential), so when
    torch may use more than one thread the scan of chunk i runs on a second thread while chunk
    i + 1 is drawn: the values are the same either way, since the generator is used in the same
    order (pool, chunks, top-ups)."""
    n = flat.numel()
    lo, hi = _inward(a, b, flat.dtype)
    step = _REDRAW_CHUNK if flat.device.type == "cpu" else _REDRAW_CHUNK_DEVICE
    pool = _replacement_pool(int(n * (1.0 - mass)), mass, mean, std, (lo, hi), generator, flat)
    replace = _Replacer(flat, lo, hi, mean, pool, step)
    spans = [(s, min(s + step, n)) for s in range(0, n, step)]
    if replace.on_numpy and len(spans) >= 8 and torch.get_num_threads() > 1:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=1) as scanner:
            pending = []
            for start, stop in spans:
                flat[start:stop].normal_(mean, std, generator=generator)
                pending.append(scanner.submit(replace, start, stop))
            for f in pending:
                f.result()  # re-raises what the scan raised
    else:
        for start, stop in spans:
            flat[start:stop].normal_(mean, std, generator=generator)
            replace(start, stop)
    for idx in replace.leftover:
        idx_t = torch.as_tensor(idx, device=flat.device)
        more = _replacement_pool(len(idx), mass, mean, std, (lo, hi), generator, flat)
        while more.numel() < len(idx):
            extra = _replacement_pool(len(idx), mass, mean, std, (lo, hi), generator, flat)
            more = torch.cat([more, extra])
        flat[idx_t] = more[: len(idx)]


def _tail_acceptance(alpha: float) -> float:
    """A lower bound on the acceptance rate of Robert's sampler with rate α on [α, ∞):
    the rate is E[exp(−E²/2)], E ~ Exp(α), = α·Q(α)/φ(α) (Mills' ratio), and Mills' ratio
    exceeds α/(α² + 1) (Gordon 1941), so the rate exceeds α²/(α² + 1) (0.941 at α = 4; the
    exact rate there is 0.947). A window closed at β accepts at least as often."""
    return alpha * alpha / (alpha * alpha + 1.0)


def _tail_fill(
    flat: torch.Tensor, alpha: float, beta: float, generator: torch.Generator | None
) -> None:
    """Standard normal truncated to [alpha, beta], 0 < alpha, by Robert's sampler (see
    :func:`truncated_normal_fill`), written into the 1-D ``flat`` in its dtype."""
    n = flat.numel()
    width = beta - alpha
    # E = −log1p(u·(e^(−αw) − 1))/α for u ~ U[0, 1) is Exp(α) truncated to [0, w) (w may be ∞).
    scale = math.expm1(-alpha * width) if math.isfinite(width) else -1.0
    rate = _tail_acceptance(alpha)
    filled = 0
    while filled < n:
        k = n - filled
        # k/rate proposals give k accepted on average; 4√k + 16 spare: one round almost always
        m = int(k / rate + 4.0 * math.sqrt(k)) + 16
        e = torch.empty(m, dtype=flat.dtype, device=flat.device).uniform_(generator=generator)
        e.mul_(scale).log1p_().div_(-alpha)
        v = torch.empty_like(e).uniform_(generator=generator)
        # accept when v < exp(−E²/2) ⇔ E² < −2·log v
        keep = e.square() < v.log_().mul_(-2.0)
        z = e[keep][:k].add_(alpha)
        flat[filled : filled + z.numel()] = z
        filled += z.numel()
    flat.clamp_(alpha, beta)


# Below this m·n² (n = the short side) Stewart's extra elementwise steps cost more than the QR
# flops they save (per-call overhead dominates up to about 64×64): such matrices take the QR route.
_STEWART_MIN_WORK = 64**3
ORTHOGONAL_METHODS = ("qr", "stewart")


def orthogonal_fill(
    target: torch.Tensor,
    gain: float,
    generator: torch.Generator | None,
    method: str = "qr",
) -> None:
    """Fill ``target`` (batch, rows, cols), any strides and float dtype, with ``gain`` times
    independent Haar-distributed matrices with orthonormal rows or columns, in place.

    ``method="qr"``: Q of the QR of a Gaussian matrix with the signs of R's diagonal folded into
    its columns (Mezzadri 2007), drawn exactly as ``torch.nn.init.orthogonal_`` draws it (a
    (rows, cols) Gaussian, QR of its transpose when wide): for a single float32/float64 matrix the
    values are torch's bit for bit. The sign fix and ``gain`` are one in-place multiply before
    the copy into ``target`` (torch makes two passes besides the copy).

    ``method="stewart"``: the same distribution without the QR (Stewart 1980, "The efficient
    generation of random orthogonal matrices with an application to condition estimators").
    Householder QR of an m×n Gaussian (m ≥ n) builds reflector k from a Gaussian vector of
    length m − k that is independent of the others (rotation invariance), so those vectors are
    drawn directly and only the product Q = H₁⋯Hₙ is formed (LAPACK ``orgqr`` via
    ``torch.linalg.householder_product``): about half the flops of QR + ``orgqr``, different
    draws. Small matrices (m·n² ≤ 64³) and complex dtypes use the QR route.

    Both compute in float32 for bf16/fp16 targets (LAPACK has no half-precision QR).
    """
    batch, rows, cols = target.shape
    m, n = max(rows, cols), min(rows, cols)
    work_dtype = torch.float32 if target.dtype in (torch.float16, torch.bfloat16) else target.dtype
    if method == "stewart" and not target.is_complex() and m * n * n > _STEWART_MIN_WORK:
        _orthogonal_fill_stewart(target, gain, generator, work_dtype)
        return
    g = torch.empty((batch, rows, cols), dtype=work_dtype, device=target.device)
    g.normal_(0.0, 1.0, generator=generator)
    # A wide matrix's transpose is column-major already: what LAPACK wants, with no copy.
    # geqrf + orgqr is what linalg.qr runs (same Q bit for bit) minus building R: R's diagonal
    # is read off geqrf's output (~8% faster at 1024²).
    a, tau = torch.geqrf(g if rows >= cols else g.mT)
    d = torch.diagonal(a, dim1=-2, dim2=-1)
    if d.is_complex():
        col = torch.sgn(d).mul_(gain)
    else:  # gain·sign(r_kk); copysign keeps ±1 where r_kk = ±0 (torch's sign() zeroes it)
        col = torch.full_like(d, gain).copysign_(d)
        if gain < 0:
            col.neg_()
    q = torch.linalg.householder_product(a, tau)
    _write_columns_scaled(q, col, target, rows >= cols)


def _write_columns_scaled(
    q: torch.Tensor, col: torch.Tensor, target: torch.Tensor, tall: bool
) -> None:
    """target = q·diag(col) (tall) or its transpose (wide). LAPACK returns q column-major: scale
    it in place in its own layout, then ``copy_`` matrix by matrix: only a 2-D ``copy_`` has the
    fast transposing kernel on CPU (a 3-D copy or one ``mul(out=)`` across the two layouts is
    ~5× slower than both steps together)."""
    q.mul_(col.unsqueeze(-2))
    src = q if tall else q.mT
    if target.shape[0] <= 8:
        for i in range(target.shape[0]):
            target[i].copy_(src[i])
    else:  # many small blocks: one call beats a Python loop
        target.copy_(src)


def _orthogonal_fill_stewart(
    target: torch.Tensor, gain: float, generator: torch.Generator | None, work_dtype: torch.dtype
) -> None:
    """Stewart's method (see :func:`orthogonal_fill`) for real matrices."""
    batch, rows, cols = target.shape
    m, n = max(rows, cols), min(rows, cols)
    # Row k of v holds reflector k's Gaussian in v[k, k:]; v.mT is the (m × n) column-major
    # matrix of Householder vectors that orgqr reads (it ignores entries above the diagonal).
    v = torch.empty((batch, n, m), dtype=work_dtype, device=target.device)
    v.normal_(0.0, 1.0, generator=generator)
    v.triu_()
    norm = torch.linalg.vector_norm(v, dim=-1)
    alpha = torch.diagonal(v, dim1=-2, dim2=-1)
    # LAPACK larfg: R's diagonal is beta = −sign(alpha)·‖x‖ =: −s; the reflector is
    # v = x/(alpha − beta) with v₀ = 1 implicit, tau = (beta − alpha)/beta = (alpha + s)/s.
    # |alpha + s| ≥ ‖x‖: no cancellation. An all-zero x (s = ±0) becomes the reflection
    # tau = 2, v = e₀ (0/0 → 2, 1/0 → 0), which keeps Q orthogonal.
    s = torch.copysign(norm, alpha)
    denom = alpha + s
    tau = torch.div(denom, s).nan_to_num_(nan=2.0)
    inv = denom.reciprocal_().nan_to_num_(posinf=0.0, neginf=0.0)
    # Mezzadri's fix, column k times sign(r_kk) = sign(beta) = −sign(s), with the gain fused:
    # col = −gain·sign(s) (copysign keeps ±1 for s = ±0).
    col = torch.full_like(s, gain).copysign_(s)
    if gain >= 0:
        col.neg_()
    v.mul_(inv.unsqueeze(-1))
    q = torch.linalg.householder_product(v.mT, tau)  # (batch, m, n)
    _write_columns_scaled(q, col, target, rows >= cols)


def orthogonal_matrix(
    rows: int,
    cols: int,
    *,
    dtype: torch.dtype,
    device: torch.device,
    generator: torch.Generator | None,
) -> torch.Tensor:
    """A (rows × cols) matrix with orthonormal rows or columns, Haar-distributed (the QR route
    of :func:`orthogonal_fill`), in float32 for half-precision dtypes (cast it yourself)."""
    work_dtype = torch.float32 if dtype in (torch.float16, torch.bfloat16) else dtype
    out = torch.empty((1, rows, cols), dtype=work_dtype, device=device)
    with torch.no_grad():
        orthogonal_fill(out, 1.0, generator)
    return out[0]


__all__ = [
    "ORTHOGONAL_METHODS",
    "check_float",
    "check_number",
    "normal_fill",
    "orthogonal_fill",
    "orthogonal_matrix",
    "skip",
    "truncated_normal_fill",
    "truncated_std",
    "uniform_fill",
]
