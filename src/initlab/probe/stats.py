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


#: Rows of attention scores read per call (strided) for the attention entropy.
ATTN_ROWS = 4096
#: Time steps of an nn.LSTM/nn.GRU re-evaluated for the gate saturation.
RNN_STEPS = 8


def attention_entropy(scores: torch.Tensor) -> torch.Tensor:
    """Attention-softmax saturation of pre-softmax ``scores`` (softmax over the last axis).

    Returns ``[mean H/ln(n), share of rows with max p > 0.9, rows]`` over the rows with n ≥ 2
    valid keys: H is the entropy of the row's softmax, n its number of keys not masked (a mask
    is -inf or a large negative number, below half the dtype's minimum: HF's ``finfo.min``), so
    a causal row i is judged against ln(i + 1). 1 is uniform attention, 0 one-hot. At most
    :data:`ATTN_ROWS` rows are read (strided). NaN when no row has two keys.

    Examples:
        >>> [round(v, 3) for v in attention_entropy(torch.zeros(2, 4, 4)).tolist()]
        [1.0, 0.0, 8.0]
        >>> attention_entropy(torch.tensor([[100.0, 0.0, 0.0]]))[0].item() < 1e-3
        True
    """
    s = _f32(scores.detach()).reshape(-1, scores.shape[-1])
    if s.shape[0] > ATTN_ROWS:
        s = s[:: -(-s.shape[0] // ATTN_ROWS)]
    valid = s > torch.finfo(scores.dtype).min / 2
    s = s.masked_fill(~valid, float("-inf"))
    n = valid.sum(-1)
    keep = n >= 2
    logp = torch.log_softmax(s, dim=-1)
    p = logp.exp()
    h = -(p * logp.masked_fill(~valid, 0.0)).sum(-1)
    ratio = h / torch.log(n.clamp(min=2).to(h.dtype))
    rows = keep.sum().to(torch.float64)
    mean = (ratio * keep).sum().to(torch.float64) / rows
    onehot = ((p.amax(-1) > 0.9) & keep).sum().to(torch.float64) / rows
    return torch.stack([mean, onehot, rows])


def sdpa_scores(
    q: torch.Tensor,
    k: torch.Tensor,
    attn_mask: torch.Tensor | None = None,
    is_causal: bool = False,
    scale: float | None = None,
) -> torch.Tensor:
    """The pre-softmax scores of ``F.scaled_dot_product_attention(q, k, v, ...)`` (masked = -inf).

    Only the first 64 queries of the first 4 items are computed (cheap); grouped-query keys are
    repeated to the queries' heads.

    Examples:
        >>> q = torch.ones(1, 2, 3, 4)
        >>> sdpa_scores(q, q, is_causal=True)[0, 0].tolist()
        [[2.0, -inf, -inf], [2.0, 2.0, -inf], [2.0, 2.0, 2.0]]
    """
    nq = min(q.shape[-2], 64)
    qs = q.detach()[..., :nq, :]
    kd = k.detach()
    if qs.dim() >= 4:
        qs, kd = qs[:4], kd[:4]
        if kd.shape[-3] != qs.shape[-3] and qs.shape[-3] % kd.shape[-3] == 0:
            kd = kd.repeat_interleave(qs.shape[-3] // kd.shape[-3], dim=-3)
    sc = scale if scale is not None else qs.shape[-1] ** -0.5
    s = _f32(qs) @ _f32(kd).transpose(-2, -1) * sc
    if is_causal:
        keep = torch.ones(q.shape[-2], k.shape[-2], dtype=torch.bool, device=s.device).tril()
        s = s.masked_fill(~keep[:nq], float("-inf"))
    if attn_mask is not None:
        m = attn_mask[..., :nq, :]
        m = m[:4] if m.dim() >= 4 else m
        if m.dtype == torch.bool:
            s = s.masked_fill(~m, float("-inf"))
        else:
            s = s + _f32(m)
    return s


def rnn_gate_saturation(
    module: torch.nn.Module,
    x: torch.Tensor,
    hx: object = None,
    sat_derivative: float = 0.05,
    steps: int = RNN_STEPS,
    _out: list[torch.Tensor] | None = None,
) -> torch.Tensor:
    """Gate saturation of an ``nn.LSTM``/``nn.GRU`` on the first ``steps`` time steps of ``x``.

    Re-evaluates the recurrence (forward direction of every layer; a bidirectional layer's next
    input uses the reverse direction on the same window) from the module's own weights and
    returns ``[share of sigmoid gates with σ' < sat_derivative, share of tanh values (candidate,
    LSTM cell output) with tanh' < sat_derivative, gate values]``. At the default 0.05 that is
    σ < 0.053 or > 0.947 and |tanh| > 0.975.

    Examples:
        >>> torch.manual_seed(0) and None
        >>> lstm = torch.nn.LSTM(8, 16)
        >>> rnn_gate_saturation(lstm, torch.randn(5, 3, 8))[0].item() < 0.05
        True
    """
    m = module
    lstm = isinstance(m, torch.nn.LSTM)
    xs = x.detach()
    if xs.dim() == 2:  # unbatched
        xs = xs.unsqueeze(1 if not m.batch_first else 0)
    if m.batch_first:
        xs = xs.transpose(0, 1)
    xs = _f32(xs[:steps])
    t_len, b = xs.shape[0], xs.shape[1]
    hsize = m.hidden_size
    psize = getattr(m, "proj_size", 0) or hsize
    sat_sig = torch.zeros((), dtype=torch.float64, device=xs.device)
    sat_tanh = torch.zeros_like(sat_sig)
    n_sig = n_tanh = 0
    # σ'(z) = σ(1-σ) < d  and  tanh'(z) = 1 - tanh² < d, in closed form
    d = sat_derivative
    lim_s = 0.5 - (max(0.0, 0.25 - d)) ** 0.5  # σ < lim_s or σ > 1 - lim_s
    lim_t = max(0.0, 1.0 - d) ** 0.5
    dirs = 2 if m.bidirectional else 1
    inp = xs
    for layer in range(m.num_layers):
        outs = []
        for direc in range(dirs):
            sfx = f"_l{layer}" + ("_reverse" if direc else "")
            w_ih = _f32(getattr(m, "weight_ih" + sfx).detach())
            w_hh = _f32(getattr(m, "weight_hh" + sfx).detach())
            b_ih = getattr(m, "bias_ih" + sfx, None)
            b_hh = getattr(m, "bias_hh" + sfx, None)
            w_hr = getattr(m, "weight_hr" + sfx, None)
            h = xs.new_zeros(b, psize)
            c = xs.new_zeros(b, hsize)
            seq = inp.flip(0) if direc else inp
            hs = []
            for t in range(t_len):
                gi = seq[t] @ w_ih.T + (_f32(b_ih.detach()) if b_ih is not None else 0.0)
                gh = h @ w_hh.T + (_f32(b_hh.detach()) if b_hh is not None else 0.0)
                if lstm:
                    g = gi + gh
                    i, f, gg, o = g.chunk(4, -1)
                    sig = torch.sigmoid(torch.cat([i, f, o], -1))
                    cand = torch.tanh(gg)
                    c = sig[:, hsize : 2 * hsize] * c + sig[:, :hsize] * cand
                    tc = torch.tanh(c)
                    h = sig[:, 2 * hsize :] * tc
                    if w_hr is not None:
                        h = h @ _f32(w_hr.detach()).T
                    tanhs = torch.cat([cand, tc], -1)
                else:
                    ri, zi, ni = gi.chunk(3, -1)
                    rh, zh, nh = gh.chunk(3, -1)
                    r, z = torch.sigmoid(ri + rh), torch.sigmoid(zi + zh)
                    n = torch.tanh(ni + r * nh)
                    h = (1 - z) * n + z * h
                    sig, tanhs = torch.cat([r, z], -1), n
                sat_sig = sat_sig + ((sig < lim_s) | (sig > 1 - lim_s)).sum()
                sat_tanh = sat_tanh + (tanhs.abs() > lim_t).sum()
                n_sig += sig.numel()
                n_tanh += tanhs.numel()
                hs.append(h)
            out = torch.stack(hs)
            outs.append(out.flip(0) if direc else out)
        inp = torch.cat(outs, -1)
    if _out is not None:
        _out.append(inp)
    return torch.stack(
        [
            sat_sig / max(1, n_sig),
            sat_tanh / max(1, n_tanh),
            torch.tensor(float(n_sig), dtype=torch.float64, device=xs.device),
        ]
    )


__all__ = [
    "ATTN_ROWS",
    "MOMENT_FIELDS",
    "RNN_STEPS",
    "SAMPLE_SIZE",
    "activation_derivative",
    "attention_entropy",
    "dead_fraction",
    "duplicate_fraction",
    "duplicate_units",
    "grad_moments",
    "moments",
    "relu_moments",
    "rms",
    "rnn_gate_saturation",
    "sample",
    "saturated_fraction",
    "sdpa_scores",
    "unit_dims",
    "units_view",
]
