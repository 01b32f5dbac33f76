"""Input–output Jacobian spectra and the empirical NTK's conditioning at initialization.

* :func:`jacobian_spectrum`: singular values of J = ∂f(x)/∂x. Exact for small models (the whole
  Jacobian by ``torch.func.jacrev`` and an SVD); for large ones the top ``k`` by Lanczos on JᵀJ,
  whose products JᵀJ v are one ``jvp`` and one ``vjp`` (never forming J). Dynamical isometry
  (Pennington, Schoenholz & Ganguli 2017) asks for all singular values near 1: a deep linear net
  with orthogonal weights has exactly that; with Gaussian weights (σ_w² = 1) the eigenvalues
  λ = s² of JJᵀ have mean 1 and variance L (the depth).
* :func:`ntk_condition`: eigenvalues of the empirical neural tangent kernel Θ = J_θ J_θᵀ on a small
  batch (J_θ: Jacobian of all outputs w.r.t. all trainable parameters; Jacot et al. 2018) and its
  condition number λ_max/λ_min. Θ is formed column block by column block (vjp then jvp), so memory
  stays O(chunk × parameters).

Neither changes the model: parameters are read, buffers are cloned for the functional calls
(BatchNorm running statistics stay put) and the RNG state is restored. Call ``model.eval()``
first for models with dropout or BatchNorm: in training mode the Jacobian depends on dropout draws
and batch statistics.

Examples:
    >>> import torch
    >>> from torch import nn
    >>> net = nn.Linear(4, 4, bias=False)
    >>> with torch.no_grad():
    ...     _ = net.weight.copy_(torch.eye(4) * 2)
    >>> jacobian_spectrum(net, torch.randn(1, 4)).singular_values
    (2.0, 2.0, 2.0, 2.0)
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import torch
from torch import nn

from initlab.errors import InitError
from initlab.probe.hooks import first_float, unwrap

#: Above this many Jacobian entries (in × out), ``method="auto"`` switches to Lanczos.
EXACT_LIMIT = 4_000_000


@dataclass(frozen=True)
class JacobianSpectrum:
    """Singular values of the input–output Jacobian, largest first.

    ``exact`` is True when every singular value was computed (then ``mean_sq``/``var_sq`` are the
    mean and variance of the eigenvalues λ = s² of JJᵀ, Pennington et al. 2017's quantities).
    With Lanczos only the top ``k`` are known (``exact`` False).
    """

    singular_values: tuple[float, ...]
    method: str
    in_dim: int
    out_dim: int
    exact: bool

    @property
    def s_max(self) -> float:
        return self.singular_values[0]

    @property
    def s_min(self) -> float:
        """Smallest singular value (of those computed)."""
        return self.singular_values[-1]

    @property
    def condition(self) -> float:
        return self.s_max / self.s_min if self.s_min > 0 else math.inf

    @property
    def mean_sq(self) -> float:
        """Mean of λ = s² (all min(in, out) values when exact)."""
        sq = [s * s for s in self.singular_values]
        return sum(sq) / len(sq)

    @property
    def var_sq(self) -> float:
        """Population variance of λ = s²."""
        sq = [s * s for s in self.singular_values]
        m = sum(sq) / len(sq)
        return sum((v - m) ** 2 for v in sq) / len(sq)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d.update(
            s_max=self.s_max,
            s_min=self.s_min,
            condition=self.condition,
            mean_sq=self.mean_sq,
            var_sq=self.var_sq,
        )
        d["singular_values"] = list(self.singular_values)
        return d

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, default=str)


@dataclass(frozen=True)
class NTKSpectrum:
    """Eigenvalues of the empirical NTK on a batch (largest first) and its condition number."""

    eigenvalues: tuple[float, ...]
    condition: float
    samples: int
    outputs: int
    parameters: int

    @property
    def trace(self) -> float:
        return sum(self.eigenvalues)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["eigenvalues"] = list(self.eigenvalues)
        d["trace"] = self.trace
        return d

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, default=str)


def _functional(model: nn.Module) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
    params = {n: p.detach() for n, p in model.named_parameters()}
    buffers = {n: b.detach().clone() for n, b in model.named_buffers()}
    return params, buffers


def _out(model: nn.Module, state: dict[str, torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    y = first_float(torch.func.functional_call(model, state, (x,)))
    if y is None:
        raise InitError("the model returned no floating-point tensor")
    return y.reshape(-1)


def _lanczos_top(
    matvec: Callable[[torch.Tensor], torch.Tensor],
    n: int,
    k: int,
    iters: int,
    like: torch.Tensor,
    generator: torch.Generator,
) -> torch.Tensor:
    """Top-``k`` eigenvalues of a symmetric PSD operator: Lanczos, full reorthogonalization."""
    m = min(n, iters)
    q = torch.randn(n, generator=generator, dtype=torch.float64).to(like.device)
    q = q / q.norm()
    Q = [q]
    alphas, betas = [], []
    for j in range(m):
        w = matvec(Q[j].to(like.dtype)).to(torch.float64)
        a = torch.dot(w, Q[j])
        alphas.append(a)
        basis = torch.stack(Q)
        w = w - basis.t() @ (basis @ w)  # full reorthogonalization (twice is enough)
        w = w - basis.t() @ (basis @ w)
        b = w.norm()
        if j == m - 1 or float(b) < 1e-12 * max(1.0, float(a.abs())):
            break
        betas.append(b)
        Q.append(w / b)
    T = torch.diag(torch.stack(alphas))
    if betas:
        off = torch.stack(betas[: len(alphas) - 1])
        T = T + torch.diag(off, 1) + torch.diag(off, -1)
    ev = torch.linalg.eigvalsh(T.cpu())
    return ev.flip(0)[:k]


def jacobian_spectrum(
    model: nn.Module,
    x: torch.Tensor,
    k: int | None = None,
    *,
    method: str = "auto",
    iters: int | None = None,
    seed: int = 0,
) -> JacobianSpectrum:
    """Singular values of the Jacobian of ``model``'s output w.r.t. its input ``x``.

    J maps all of ``x`` (flattened) to all of the output (flattened): pass one example with a batch
    dimension of 1 for the per-example Jacobian of Pennington et al. (2017).

    Args:
        model: any module (wrappers are unwrapped); put it in eval mode for dropout/BatchNorm.
        x: the input point.
        k: how many (largest) singular values to return; all when exact and ``k`` is None.
        method: ``"exact"`` (jacrev + SVD), ``"lanczos"`` (jvp/vjp products, top k) or ``"auto"``
            (exact when in × out ≤ :data:`EXACT_LIMIT`).
        iters: Lanczos iterations (default max(3k + 20, 40)).
        seed: Lanczos start vector.

    Returns:
        a :class:`JacobianSpectrum`.

    Raises:
        InitError: a bad ``method`` or ``k``, or a non-floating input.

    Examples:
        >>> import torch
        >>> from torch import nn
        >>> net = nn.Sequential(nn.Linear(8, 8, bias=False), nn.Linear(8, 8, bias=False))
        >>> for m in net:
        ...     _ = nn.init.orthogonal_(m.weight)
        >>> s = jacobian_spectrum(net, torch.randn(1, 8))
        >>> round(s.s_max, 5), round(s.s_min, 5)
        (1.0, 1.0)
    """
    if method not in ("auto", "exact", "lanczos"):
        raise InitError(f"jacobian_spectrum: method must be auto, exact or lanczos, got {method!r}")
    if not isinstance(x, torch.Tensor) or not x.is_floating_point():
        raise InitError("jacobian_spectrum: x must be a floating-point tensor (one input example)")
    if k is not None and k < 1:
        raise InitError(f"jacobian_spectrum: k must be ≥ 1, got {k}")
    model, _ = unwrap(model)
    params, buffers = _functional(model)
    state = {**params, **buffers}
    x0 = x.detach()
    rng = torch.get_rng_state()
    try:

        def f(v: torch.Tensor) -> torch.Tensor:
            return _out(model, state, v.view_as(x0))

        with torch.no_grad():
            out_dim = f(x0.reshape(-1)).numel()
        in_dim = x0.numel()
        if method == "auto":
            method = "exact" if in_dim * out_dim <= EXACT_LIMIT else "lanczos"
        if method == "exact":
            J = torch.func.jacrev(f)(x0.reshape(-1))
            s = torch.linalg.svdvals(J.reshape(out_dim, in_dim).to(torch.float64))
            if k is not None:
                s = s[:k]
            vals = tuple(float(v) for v in s.cpu())
            return JacobianSpectrum(vals, "exact", in_dim, out_dim, k is None)
        kk = k or 10
        xf = x0.reshape(-1)

        def jtj(v: torch.Tensor) -> torch.Tensor:
            _, jv = torch.func.jvp(f, (xf,), (v,))
            _, vjp_fn = torch.func.vjp(f, xf)
            return vjp_fn(jv)[0]

        gen = torch.Generator().manual_seed(seed)
        ev = _lanczos_top(jtj, in_dim, kk, iters or max(3 * kk + 20, 40), xf, gen)
        vals = tuple(math.sqrt(max(float(v), 0.0)) for v in ev)
        return JacobianSpectrum(vals, "lanczos", in_dim, out_dim, False)
    finally:
        torch.set_rng_state(rng)


def ntk_condition(
    model: nn.Module, batch: torch.Tensor, *, max_outputs: int = 512, chunk: int = 32
) -> NTKSpectrum:
    """Empirical NTK Θ = J_θ J_θᵀ of ``model`` on ``batch``: eigenvalues and condition number.

    Θ has one row per output entry (samples × outputs per sample, at most ``max_outputs``); J_θ is
    the Jacobian of the flattened outputs w.r.t. every parameter with ``requires_grad``. A well
    conditioned Θ (condition number not far above the ratio set by the data) lets gradient descent
    fit every direction at similar speed; a degenerate one (saturated or collapsed networks) has a
    huge condition number.

    Raises:
        InitError: too many outputs (use a smaller batch), no trainable parameter, or a failure in
            the functional call (e.g. BatchNorm in training mode: call ``model.eval()``).

    Examples:
        >>> import torch
        >>> from torch import nn
        >>> net = nn.Linear(3, 1, bias=False)  # Θ = X Xᵀ for a linear model
        >>> X = torch.eye(3)[:2]
        >>> ntk_condition(net, X).eigenvalues
        (1.0, 1.0)
    """
    model, _ = unwrap(model)
    names = [n for n, p in model.named_parameters() if p.requires_grad]
    if not names:
        raise InitError("ntk_condition: the model has no parameter with requires_grad=True")
    params_all, buffers = _functional(model)
    params = {n: params_all[n] for n in names}
    frozen = {n: p for n, p in params_all.items() if n not in params}
    rng = torch.get_rng_state()
    try:

        def f(p: dict[str, torch.Tensor]) -> torch.Tensor:
            return _out(model, {**p, **frozen, **buffers}, batch)

        try:
            out, vjp_fn = torch.func.vjp(f, params)
        except Exception as e:
            raise InitError(
                f"ntk_condition: the functional call failed ({type(e).__name__}: {e}); for models "
                "with BatchNorm or dropout call model.eval() first"
            ) from e
        n_out = out.numel()
        if n_out > max_outputs:
            raise InitError(
                f"ntk_condition: {n_out} output entries make a {n_out}×{n_out} kernel; use a "
                f"smaller batch or raise max_outputs (now {max_outputs})"
            )
        theta = torch.zeros(n_out, n_out, dtype=torch.float64, device=out.device)
        eye = torch.eye(n_out, dtype=out.dtype, device=out.device)
        for a in range(0, n_out, chunk):
            basis = eye[a : a + chunk]
            tangents = torch.func.vmap(vjp_fn)(basis)[0]  # Jᵀ e_i, as parameter dicts

            def push(t: dict[str, torch.Tensor]) -> torch.Tensor:
                return torch.func.jvp(f, (params,), (t,))[1]

            cols = torch.func.vmap(push)(tangents)  # (chunk, n_out): (J Jᵀ e_i)ᵀ
            theta[:, a : a + chunk] = cols.t().to(torch.float64)
        theta = (theta + theta.t()) / 2
        ev = torch.linalg.eigvalsh(theta.cpu()).flip(0)
        ev_t = tuple(float(v) for v in ev)
        lo = ev_t[-1]
        cond = ev_t[0] / lo if lo > 0 else math.inf
        n_params = sum(p.numel() for p in params.values())
        samples = batch.shape[0] if batch.dim() > 0 else 1
        return NTKSpectrum(ev_t, cond, samples, n_out // max(samples, 1), n_params)
    finally:
        torch.set_rng_state(rng)


__all__ = ["EXACT_LIMIT", "JacobianSpectrum", "NTKSpectrum", "jacobian_spectrum", "ntk_condition"]
